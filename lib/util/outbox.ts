/**
 * An outbox: messages kept in order while the way out (an MQTT connection) is closed, and sent
 * oldest first once it is open again. Node-RED 4.1's core `mqtt out` drops what it is given
 * while its broker is unreachable (docs/mqtt.md); the vigie-outbox node puts this in front of it.
 *
 * Bounded by count and by age: beyond either, the oldest are dropped and counted. In memory;
 * entries()/restore() let the caller keep them across restarts.
 *
 * Two rules the caller may give (outbox-rules.ts has Vigie's):
 * - a message may supersede an earlier one still waiting (`supersedeKeyOf` gives both the same
 *   key): the later copy replaces the earlier in its place, so the queue holds the latest copy
 *   once, where the first one stood (keptAtMs too). The place of the first, not the end: what was
 *   queued behind the first copy (an operator's decision on that alert) must not overtake it,
 *   and the order of the first copies is the order the broker would have seen.
 * - when full, messages `keepLongest` says are precious (operator decisions) are dropped only
 *   when nothing else is left to drop; the oldest of the others go first.
 * Knows nothing of Node-RED or MQTT: the caller says whether the way is open and how to send.
 *
 * Messages sent are "in flight" until the caller settles them: a message handed on may never
 * be published (the connection drops, or a link that carries nothing any more still looks
 * open), so the caller acknowledges each once the way out says it is through (acknowledge), or
 * puts it back at the front to be sent again (putBack, settle). That may send a message twice,
 * never lose it: QoS 1 is at-least-once anyway, and the fusion localizer absorbs a detection
 * that arrives twice. Messages in flight count toward maxMessages, are among entries() (kept
 * across restarts like those waiting), and at most maxInFlight are in flight at once: beyond,
 * messages wait.
 */

import { isPlausibleWallTime, monotonicMs } from './clock';

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
  /** How many of them were messages `keepLongest` protects (dropped because nothing else was left). */
  keptLongestCount: number;
  /** True when these are the first such messages dropped in the episode. */
  firstKeptLongestInEpisode: boolean;
}

export interface OutboxOptions<T = unknown> {
  /** Most messages kept; beyond it the oldest are dropped. */
  maxMessages?: number;
  /** Oldest a kept message may be, in ms; older ones are dropped. */
  maxAgeMs?: number;
  /** Most messages in flight (sent, not yet acknowledged) at once; beyond, messages wait. At most maxMessages. */
  maxInFlight?: number;
  /** The wall clock, in ms (Date.now by default): the time written with each message kept. */
  nowMs?: () => number;
  /**
   * The clock of ages, ms: a monotonic clock by default (`nowMs` when only that is given, for
   * tests). A gateway without a battery clock steps its wall clock from 1970 when NTP syncs:
   * on the wall clock, every message kept before the step would look 56 years old and go.
   */
  monotonicNow?: () => number;
  /** Told about every drop (the node warns once per episode). */
  onDrop?: (e: DropEvent) => void;
  /**
   * A key for a message that supersedes an earlier one with the same key still waiting (a newer
   * copy of the same alert), undefined for a message that supersedes nothing (an event).
   */
  supersedeKeyOf?: (item: T) => string | undefined;
  /** Messages dropped only when nothing else can go (operator decisions). */
  keepLongest?: (item: T) => boolean;
}

/** A kept message and when it was kept (epoch ms). */
export interface Kept<T> {
  item: T;
  keptAtMs: number;
  /** When it was kept on the clock of ages (monotonicNow); not written to files (see restore). */
  heldFromMs?: number;
  /**
   * Earlier copies this one replaced while it waited (absent: none). The Kept object stays the
   * same when a later copy replaces its item; this count tells a writer that the item changed.
   */
  replacedCopies?: number;
}

export class Outbox<T> {
  readonly maxMessages: number;
  readonly maxAgeMs: number;
  readonly maxInFlight: number;
  private readonly nowMs: () => number;
  private readonly monotonicNow: () => number;
  private readonly onDrop?: (e: DropEvent) => void;
  private readonly supersedeKeyOf?: (item: T) => string | undefined;
  private readonly keepLongest?: (item: T) => boolean;
  /** The waiting message of each supersede key (messages in flight are not in it: they may be published already). */
  private bySupersedeKey = new Map<string, Kept<T>>();
  /** Waiting messages, oldest first, from index `head` on (shifting an array of 10 000 one by one is quadratic). */
  private waiting: Array<Kept<T>> = [];
  private head = 0;
  private inFlight: Array<Kept<T>> = [];
  private episode = false;
  private droppedThisEpisode = 0;
  private keptLongestDroppedThisEpisode = 0;
  private replacedThisEpisode = 0;
  /** Grows with every change of what is kept (a writer of the kept messages skips unchanged states). */
  changes = 0;

  constructor(opts: OutboxOptions<T> = {}) {
    this.maxMessages = opts.maxMessages ?? DEFAULT_MAX_MESSAGES;
    this.maxAgeMs = opts.maxAgeMs ?? DEFAULT_MAX_AGE_S * 1000;
    if (!Number.isInteger(this.maxMessages) || this.maxMessages < 1) throw new RangeError(`maxMessages: expected an integer >= 1, got ${this.maxMessages}`);
    if (!(this.maxAgeMs > 0)) throw new RangeError(`maxAgeMs: expected a number > 0, got ${this.maxAgeMs}`);
    this.maxInFlight = Math.min(opts.maxInFlight ?? this.maxMessages, this.maxMessages);
    if (!Number.isInteger(this.maxInFlight) || this.maxInFlight < 1) throw new RangeError(`maxInFlight: expected an integer >= 1, got ${opts.maxInFlight}`);
    this.nowMs = opts.nowMs ?? Date.now;
    this.monotonicNow = opts.monotonicNow ?? opts.nowMs ?? monotonicMs;
    this.onDrop = opts.onDrop;
    this.supersedeKeyOf = opts.supersedeKeyOf;
    this.keepLongest = opts.keepLongest;
  }

  /** Messages waiting to be sent. */
  get size(): number {
    return this.waiting.length - this.head;
  }

  /** Messages sent and not yet settled. */
  get inFlightCount(): number {
    return this.inFlight.length;
  }

  /** Whether another message may be sent now without waiting for one in flight to be settled. */
  get roomInFlight(): boolean {
    return this.inFlight.length < this.maxInFlight;
  }

  /** Whether an episode is going on: something was kept and the outbox has not since emptied into an open way. */
  get inEpisode(): boolean {
    return this.episode;
  }

  /** Dropped since the current (or the last) episode began. */
  get droppedInEpisode(): number {
    return this.droppedThisEpisode;
  }

  /** Of those, messages `keepLongest` protects. */
  get keptLongestDroppedInEpisode(): number {
    return this.keptLongestDroppedThisEpisode;
  }

  /** Earlier copies replaced by a later one (see supersedeKeyOf) since the current (or the last) episode began. */
  get replacedInEpisode(): number {
    return this.replacedThisEpisode;
  }

  /**
   * Sends `item` at once when the way is open, nothing waits and there is room in flight;
   * otherwise keeps it behind the others. Returns whether it was sent. `send` gets the kept
   * message too: the handle to acknowledge or put back.
   */
  offer(item: T, open: boolean, send: (item: T, kept: Kept<T>) => void): boolean {
    if (open && this.size === 0 && this.roomInFlight) {
      this.episode = false;
      const kept: Kept<T> = { item, keptAtMs: this.nowMs(), heldFromMs: this.monotonicNow() };
      this.inFlight.push(kept);
      this.changes++;
      send(item, kept);
      return true;
    }
    this.push(item);
    return false;
  }

  /**
   * Keeps `item` behind the others, or in the place of the earlier copy it supersedes; beyond
   * maxMessages drops the oldest (those keepLongest protects last).
   */
  push(item: T): void {
    this.beginEpisode();
    this.changes++;
    const key = this.supersedeKeyOf?.(item);
    const earlier = key === undefined ? undefined : this.bySupersedeKey.get(key);
    if (earlier) {
      this.replaceItem(earlier, item, 1);
      return;
    }
    const kept: Kept<T> = { item, keptAtMs: this.nowMs(), heldFromMs: this.monotonicNow() };
    this.waiting.push(kept);
    if (key !== undefined) this.bySupersedeKey.set(key, kept);
    this.keepWithinCap();
  }

  /** Drops the waiting messages older than maxAgeMs. Returns how many. */
  age(): number {
    const limit = this.monotonicNow() - this.maxAgeMs;
    let n = 0;
    while (this.head + n < this.waiting.length && (this.waiting[this.head + n].heldFromMs ?? Infinity) < limit) n++;
    if (n) this.dropOldest(n, 'maxAge');
    return n;
  }

  /**
   * Sends waiting messages, oldest first, while `isOpen()` says the way is open (asked before
   * each one) and there is room in flight, at most `limit` of them. Drops the too old first.
   * Returns how many were sent.
   */
  flush(isOpen: () => boolean, send: (item: T, kept: Kept<T>) => void, limit = Infinity): number {
    this.age();
    let sent = 0;
    while (this.size > 0 && sent < limit && this.roomInFlight && isOpen()) {
      const k = this.waiting[this.head];
      this.waiting[this.head] = undefined as unknown as Kept<T>; // let it be collected
      this.head++;
      this.forgetKey(k);
      this.compact();
      this.inFlight.push(k);
      this.changes++;
      sent++;
      send(k.item, k);
    }
    if (this.size === 0 && isOpen()) this.episode = false;
    return sent;
  }

  /**
   * Settles all the messages in flight: when the way is still open they are done with;
   * otherwise they go back to the front, in their order, to be sent again. Returns how many went back.
   */
  settle(open: boolean): number {
    const back = this.inFlight;
    this.inFlight = [];
    if (back.length) this.changes++;
    if (open || back.length === 0) return 0;
    this.beginEpisode();
    this.setWaiting([...back, ...this.waiting.slice(this.head)]);
    this.keepWithinCap();
    return back.length;
  }

  /** The message in flight `kept` is through: done with. Returns false when it was not in flight (put back, dropped, or settled already). */
  acknowledge(kept: Kept<T>): boolean {
    const i = this.inFlight.indexOf(kept);
    if (i < 0) return false;
    this.inFlight.splice(i, 1);
    this.changes++;
    return true;
  }

  /**
   * The message in flight `kept` did not get through: it goes back to the front, to be sent
   * again before what waits. Returns false when it was not in flight.
   */
  putBack(kept: Kept<T>): boolean {
    const i = this.inFlight.indexOf(kept);
    if (i < 0) return false;
    this.inFlight.splice(i, 1);
    this.changes++;
    this.beginEpisode();
    this.setWaiting([kept, ...this.waiting.slice(this.head)]);
    this.keepWithinCap();
    return true;
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
    // An earlier run's messages are as old as their written time says, when both that time and
    // the clock now can be right (a clock not yet set, or set back since, says nothing: age 0).
    const nowMs = this.nowMs();
    const mono = this.monotonicNow();
    for (const k of entries) {
      if (k.heldFromMs !== undefined) continue;
      const judged = isPlausibleWallTime(nowMs) && isPlausibleWallTime(k.keptAtMs) && k.keptAtMs <= nowMs;
      k.heldFromMs = mono - (judged ? nowMs - k.keptAtMs : 0);
    }
    this.setWaiting([...entries, ...this.waiting.slice(this.head)]);
    this.keepWithinCap();
    this.age();
  }

  /** Empties the outbox (the node is closing). Returns how many it held: waiting and in flight (see entries). */
  clear(): number {
    const n = this.size + this.inFlight.length;
    this.waiting = [];
    this.head = 0;
    this.inFlight = [];
    this.bySupersedeKey.clear();
    return n;
  }

  private beginEpisode(): void {
    if (this.episode) return;
    this.episode = true;
    this.droppedThisEpisode = 0;
    this.keptLongestDroppedThisEpisode = 0;
    this.replacedThisEpisode = 0;
  }

  /** `kept` takes `item`, a later copy, in its place; `copies` earlier copies are gone with that. */
  private replaceItem(kept: Kept<T>, item: T, copies: number): void {
    kept.item = item;
    kept.replacedCopies = (kept.replacedCopies ?? 0) + copies;
    this.replacedThisEpisode += copies;
  }

  private forgetKey(kept: Kept<T>): void {
    if (!this.supersedeKeyOf || this.bySupersedeKey.size === 0) return;
    const key = this.supersedeKeyOf(kept.item);
    if (key !== undefined && this.bySupersedeKey.get(key) === kept) this.bySupersedeKey.delete(key);
  }

  /**
   * Makes `list` what waits, with one message per supersede key: a later copy (one that came
   * while the earlier was in flight, or after a restart) gives its item to the first and goes.
   */
  private setWaiting(list: Array<Kept<T>>): void {
    this.bySupersedeKey.clear();
    this.head = 0;
    if (!this.supersedeKeyOf) {
      this.waiting = list;
      return;
    }
    const out: Array<Kept<T>> = [];
    for (const k of list) {
      const key = this.supersedeKeyOf(k.item);
      const first = key === undefined ? undefined : this.bySupersedeKey.get(key);
      if (first) {
        this.replaceItem(first, k.item, 1 + (k.replacedCopies ?? 0));
        continue;
      }
      if (key !== undefined) this.bySupersedeKey.set(key, k);
      out.push(k);
    }
    this.waiting = out;
  }

  /**
   * Drops waiting messages while those waiting and those in flight are more than maxMessages
   * (those in flight are never dropped: there are at most maxInFlight of them, not more than maxMessages).
   */
  private keepWithinCap(): void {
    const over = Math.min(this.size, this.size + this.inFlight.length - this.maxMessages);
    if (over > 0) this.dropForRoom(over);
  }

  /** Drops `count` waiting messages for room: the oldest of those keepLongest does not protect, then the oldest. */
  private dropForRoom(count: number): void {
    let keptLongest = 0;
    for (let n = 0; n < count; n++) {
      let i = this.head;
      if (this.keepLongest) {
        while (i < this.waiting.length && this.keepLongest(this.waiting[i].item)) i++;
        if (i === this.waiting.length) {
          i = this.head; // nothing else left: the oldest protected one goes
          keptLongest++;
        }
      }
      this.forgetKey(this.waiting[i]);
      if (i === this.head) {
        this.waiting[this.head] = undefined as unknown as Kept<T>;
        this.head++;
      } else this.waiting.splice(i, 1);
    }
    this.compact();
    this.told(count, 'maxMessages', keptLongest);
  }

  /** Drops the `count` oldest (too old: whatever they are). */
  private dropOldest(count: number, reason: DropReason): void {
    let keptLongest = 0;
    for (let i = 0; i < count; i++) {
      const k = this.waiting[this.head + i];
      this.forgetKey(k);
      if (this.keepLongest?.(k.item)) keptLongest++;
      this.waiting[this.head + i] = undefined as unknown as Kept<T>;
    }
    this.head += count;
    this.compact();
    this.told(count, reason, keptLongest);
  }

  private told(count: number, reason: DropReason, keptLongestCount: number): void {
    this.changes++;
    const firstInEpisode = this.droppedThisEpisode === 0;
    const firstKeptLongestInEpisode = keptLongestCount > 0 && this.keptLongestDroppedThisEpisode === 0;
    this.droppedThisEpisode += count;
    this.keptLongestDroppedThisEpisode += keptLongestCount;
    this.onDrop?.({ count, reason, firstInEpisode, keptLongestCount, firstKeptLongestInEpisode });
  }

  /** Drops the consumed front of the array once it is most of it. */
  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.waiting.length) {
      this.waiting = this.waiting.slice(this.head);
      this.head = 0;
    }
  }
}
