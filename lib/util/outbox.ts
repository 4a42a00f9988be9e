/**
 * An outbox: messages kept in order while the way out (an MQTT connection) is closed, and sent
 * oldest first once it is open again. Node-RED 4.1's core `mqtt out` drops what it is given
 * while its broker is unreachable (docs/mqtt.md); the vigie-outbox node puts this in front of it.
 *
 * Bounded by count and by age: beyond either, the oldest are dropped and counted. In memory;
 * entries()/restore() let the caller keep them across restarts.
 * Knows nothing of Node-RED or MQTT: the caller says whether the way is open and how to send.
 *
 * Messages sent are "in flight" until the caller settles them: a message handed on in the same
 * moment the connection drops may never be published, so the caller settles once it can tell
 * whether the way was still open when the message got there, and unsettled messages go back to
 * the front. That may send a message twice, never lose it: QoS 1 is at-least-once anyway, and
 * the fusion localizer absorbs a detection that arrives twice.
 */

export const DEFAULT_MAX_MESSAGES = 10_000;
export const DEFAULT_MAX_AGE_S = 3600;
/** The vigie-outbox node's settings: integers in these ranges, and their defaults (its editor form checks the same). */
export const OUTBOX_SETTING_RANGES = {
  maxMessages: { min: 1, max: 1_000_000, integer: true, default: DEFAULT_MAX_MESSAGES },
  maxAgeS: { min: 1, max: 7 * 86400, integer: true, default: DEFAULT_MAX_AGE_S },
} as const;

export type DropReason = 'maxMessages' | 'maxAge';

export interface DropEvent {
  /** How many were dropped just now. */
  count: number;
  reason: DropReason;
  /** True for the first drop of an episode (from the first message kept to the outbox emptied into an open way). */
  firstInEpisode: boolean;
}

export interface OutboxOptions {
  /** Most messages kept; beyond it the oldest are dropped. */
  maxMessages?: number;
  /** Oldest a kept message may be, in ms; older ones are dropped. */
  maxAgeMs?: number;
  /** The clock, in ms (Date.now by default). */
  nowMs?: () => number;
  /** Told about every drop (the node warns once per episode). */
  onDrop?: (e: DropEvent) => void;
}

/** A kept message and when it was kept (epoch ms). */
export interface Kept<T> {
  item: T;
  keptAtMs: number;
}

export class Outbox<T> {
  readonly maxMessages: number;
  readonly maxAgeMs: number;
  private readonly nowMs: () => number;
  private readonly onDrop?: (e: DropEvent) => void;
  /** Waiting messages, oldest first, from index `head` on (shifting an array of 10 000 one by one is quadratic). */
  private waiting: Array<Kept<T>> = [];
  private head = 0;
  private inFlight: Array<Kept<T>> = [];
  private episode = false;
  private droppedThisEpisode = 0;
  /** Grows with every change of what is kept (a writer of the kept messages skips unchanged states). */
  changes = 0;

  constructor(opts: OutboxOptions = {}) {
    this.maxMessages = opts.maxMessages ?? DEFAULT_MAX_MESSAGES;
    this.maxAgeMs = opts.maxAgeMs ?? DEFAULT_MAX_AGE_S * 1000;
    if (!Number.isInteger(this.maxMessages) || this.maxMessages < 1) throw new RangeError(`maxMessages: expected an integer >= 1, got ${this.maxMessages}`);
    if (!(this.maxAgeMs > 0)) throw new RangeError(`maxAgeMs: expected a number > 0, got ${this.maxAgeMs}`);
    this.nowMs = opts.nowMs ?? Date.now;
    this.onDrop = opts.onDrop;
  }

  /** Messages waiting to be sent. */
  get size(): number {
    return this.waiting.length - this.head;
  }

  /** Messages sent and not yet settled. */
  get inFlightCount(): number {
    return this.inFlight.length;
  }

  /** Whether an episode is going on: something was kept and the outbox has not since emptied into an open way. */
  get inEpisode(): boolean {
    return this.episode;
  }

  /** Dropped since the current (or the last) episode began. */
  get droppedInEpisode(): number {
    return this.droppedThisEpisode;
  }

  /**
   * Sends `item` at once when the way is open and nothing waits; otherwise keeps it behind the
   * others. Returns whether it was sent.
   */
  offer(item: T, open: boolean, send: (item: T) => void): boolean {
    if (open && this.size === 0) {
      this.episode = false;
      this.inFlight.push({ item, keptAtMs: this.nowMs() });
      send(item);
      return true;
    }
    this.push(item);
    return false;
  }

  /** Keeps `item` behind the others; drops the oldest beyond maxMessages. */
  push(item: T): void {
    this.beginEpisode();
    this.changes++;
    this.waiting.push({ item, keptAtMs: this.nowMs() });
    const over = this.size - this.maxMessages;
    if (over > 0) this.dropOldest(over, 'maxMessages');
  }

  /** Drops the waiting messages older than maxAgeMs. Returns how many. */
  age(): number {
    const limit = this.nowMs() - this.maxAgeMs;
    let n = 0;
    while (this.head + n < this.waiting.length && this.waiting[this.head + n].keptAtMs < limit) n++;
    if (n) this.dropOldest(n, 'maxAge');
    return n;
  }

  /**
   * Sends waiting messages, oldest first, while `isOpen()` says the way is open (asked before
   * each one), at most `limit` of them. Drops the too old first. Returns how many were sent.
   */
  flush(isOpen: () => boolean, send: (item: T) => void, limit = Infinity): number {
    this.age();
    let sent = 0;
    while (this.size > 0 && sent < limit && isOpen()) {
      const k = this.waiting[this.head];
      this.waiting[this.head] = undefined as unknown as Kept<T>; // let it be collected
      this.head++;
      this.compact();
      this.inFlight.push(k);
      this.changes++;
      sent++;
      send(k.item);
    }
    if (this.size === 0 && isOpen()) this.episode = false;
    return sent;
  }

  /**
   * Settles the messages in flight: when the way is still open they are done with; otherwise
   * they go back to the front, in their order, to be sent again. Returns how many went back.
   */
  settle(open: boolean): number {
    const back = this.inFlight;
    this.inFlight = [];
    if (back.length) this.changes++;
    if (open || back.length === 0) return 0;
    this.beginEpisode();
    this.waiting = [...back, ...this.waiting.slice(this.head)];
    this.head = 0;
    const over = this.size - this.maxMessages;
    if (over > 0) this.dropOldest(over, 'maxMessages');
    return back.length;
  }

  /**
   * What would be lost if the process stopped now, oldest first: the messages in flight (not
   * yet known to be sent) and those waiting.
   */
  entries(): Array<Kept<T>> {
    return [...this.inFlight, ...this.waiting.slice(this.head)];
  }

  /**
   * Puts back what an earlier run kept (see entries), in front of anything kept since, then
   * applies the bounds (the too old and the oldest beyond maxMessages are dropped and told).
   */
  restore(entries: ReadonlyArray<Kept<T>>): void {
    if (!entries.length) return;
    this.beginEpisode();
    this.changes++;
    this.waiting = [...entries, ...this.waiting.slice(this.head)];
    this.head = 0;
    const over = this.size - this.maxMessages;
    if (over > 0) this.dropOldest(over, 'maxMessages');
    this.age();
  }

  /** Empties the outbox (the node is closing). Returns how many it held: waiting and in flight (see entries). */
  clear(): number {
    const n = this.size + this.inFlight.length;
    this.waiting = [];
    this.head = 0;
    this.inFlight = [];
    return n;
  }

  private beginEpisode(): void {
    if (this.episode) return;
    this.episode = true;
    this.droppedThisEpisode = 0;
  }

  private dropOldest(count: number, reason: DropReason): void {
    for (let i = 0; i < count; i++) this.waiting[this.head + i] = undefined as unknown as Kept<T>;
    this.head += count;
    this.changes++;
    this.compact();
    const firstInEpisode = this.droppedThisEpisode === 0;
    this.droppedThisEpisode += count;
    this.onDrop?.({ count, reason, firstInEpisode });
  }

  /** Drops the consumed front of the array once it is most of it. */
  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.waiting.length) {
      this.waiting = this.waiting.slice(this.head);
      this.head = 0;
    }
  }
}
