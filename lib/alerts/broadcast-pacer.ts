/**
 * When the console state goes out to every dashboard client. Each copy of an alert (new, then
 * located, camera on its way, on target, video) changes the state, and the state is the whole
 * queue (up to 200 alerts, some 200 kB): sent for every copy, a burst of alerts sends hundreds
 * of megabytes a minute to each open console and stalls Node-RED's event loop. The pacer sends
 * the first change of a quiet period at once (a single alert is not delayed), then at most one
 * state per interval, at its end, built then so that it holds every change meanwhile.
 *
 * Knows nothing of Node-RED; the clock and timers can be given (tests).
 */

import { monotonicMs } from '../util/clock';

export interface PacerClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

// Durations on the monotonic clock: on the wall clock, a step back (NTP correcting a fast
// clock) would hold every state for the length of the step.
const realClock: PacerClock = {
  now: monotonicMs,
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** The default interval: a burst costs at most four states a second per client. */
export const BROADCAST_EVERY_MS = 250;

export class BroadcastPacer {
  private readonly send: () => void;
  private readonly intervalMs: number;
  private readonly clock: PacerClock;
  /** When the last state went out; -Infinity before any. */
  private lastSentMs = -Infinity;
  private timer: unknown;
  private closed = false;

  constructor(send: () => void, opts: { intervalMs?: number; clock?: PacerClock } = {}) {
    this.send = send;
    this.intervalMs = Math.max(0, opts.intervalMs ?? BROADCAST_EVERY_MS);
    this.clock = opts.clock ?? realClock;
  }

  /** True while a change waits for the end of the interval. */
  get pending(): boolean {
    return this.timer !== undefined;
  }

  /**
   * A change to tell: sent at once when nothing went out within the interval, else with the
   * other changes at the interval's end (one state for all of them).
   */
  soon(): void {
    if (this.closed || this.timer !== undefined) return;
    const waitMs = this.lastSentMs + this.intervalMs - this.clock.now();
    if (waitMs <= 0) return this.emit();
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      if (!this.closed) this.emit();
    }, waitMs);
  }

  /**
   * Sends now, whatever the interval: an operator's action, whose answer must find the state
   * that holds it. A change waiting is in this state too, so it is not sent again.
   */
  now(): void {
    if (this.closed) return;
    this.cancel();
    this.emit();
  }

  /** Nothing more is sent (the node closes). */
  close(): void {
    this.closed = true;
    this.cancel();
  }

  private cancel(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private emit(): void {
    this.lastSentMs = this.clock.now();
    this.send();
  }
}
