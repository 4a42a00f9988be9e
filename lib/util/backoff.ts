import { monotonicMs } from './clock';

/** Exponential back-off with jitter for restarting capture processes, relays and connections. */
export interface BackoffOptions {
  initialMs?: number;
  maxMs?: number;
  factor?: number;
  /** 0..1: fraction of the delay randomised (avoids many gateways retrying in lockstep). */
  jitter?: number;
  random?: () => number;
  /** A run that delivered for this long (ms) starts the back-off afresh when it ends; default 10000. */
  healthyAfterMs?: number;
  /** Clock for how long a run delivered, ms (tests); a monotonic clock by default. */
  now?: () => number;
}

export class Backoff {
  private attempt = 0;
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly factor: number;
  private readonly jitter: number;
  private readonly random: () => number;
  private readonly healthyAfterMs: number;
  private deliveringSinceMs: number | undefined;
  private readonly now: () => number;

  constructor(opts: BackoffOptions = {}) {
    this.initialMs = opts.initialMs ?? 500;
    this.maxMs = opts.maxMs ?? 30_000;
    this.factor = opts.factor ?? 2;
    this.jitter = opts.jitter ?? 0.2;
    this.random = opts.random ?? Math.random;
    this.healthyAfterMs = opts.healthyAfterMs ?? 10_000;
    this.now = opts.now ?? monotonicMs;
  }

  /** Delay before the next attempt; each call grows the next delay. */
  next(): number {
    const base = Math.min(this.maxMs, this.initialMs * Math.pow(this.factor, this.attempt));
    this.attempt++;
    const j = base * this.jitter * (this.random() * 2 - 1);
    return Math.max(0, Math.round(base + j));
  }

  /** Call after a success (e.g. the process ran long enough) so the next failure starts small. */
  reset(): void {
    this.attempt = 0;
  }

  /** The current run (a process, a connection) delivers: its first data arrived. */
  delivering(nowMs = this.now()): void {
    if (this.deliveringSinceMs === undefined) this.deliveringSinceMs = nowMs;
  }

  /**
   * The current run ended. Only one that delivered for healthyAfterMs starts the back-off
   * afresh: a source that fails right after its first data would otherwise be restarted at
   * the first delay for ever.
   */
  ended(nowMs = this.now()): void {
    if (this.deliveringSinceMs !== undefined && nowMs - this.deliveringSinceMs >= this.healthyAfterMs) this.reset();
    this.deliveringSinceMs = undefined;
  }

  get attempts(): number {
    return this.attempt;
  }
}
