/**
 * Connections to the broker closed again soon after they opened, over and over. A link that
 * goes quiet ends a connection only after 1.5 keepalives (90 s by default), and a broker that
 * restarts closes it once; a connection closed within seconds of opening, again and again
 * while every reconnect succeeds, is the broker putting the client off: most often another
 * client with the same client id taking the session over (the two push each other off in
 * turn, under MQTT 3.1.1 without a word), or a message the broker refuses by closing the
 * connection (over its packet size limit) sent again at each reconnect.
 */
import { ClockMs, monotonicMs } from './clock';

export interface QuickDropsOptions {
  /** A connection closed within this long of opening is a quick drop (ms). */
  shortMs?: number;
  /** This many quick drops… */
  minDrops?: number;
  /** …within this long (ms) are reported. */
  windowMs?: number;
  now?: ClockMs;
}

export class QuickDrops {
  private readonly shortMs: number;
  private readonly minDrops: number;
  private readonly windowMs: number;
  private readonly now: ClockMs;
  private openedAtMs: number | undefined;
  /** When each recent quick drop happened (monotonic ms). */
  private drops: number[] = [];
  /** The current series has been reported (until a connection stays up shortMs). */
  private reported = false;

  constructor(opts: QuickDropsOptions = {}) {
    this.shortMs = opts.shortMs ?? 30_000;
    this.minDrops = opts.minDrops ?? 3;
    this.windowMs = opts.windowMs ?? 5 * 60_000;
    this.now = opts.now ?? monotonicMs;
  }

  /** The connection opened (MQTT CONNACK accepted). */
  opened(): void {
    this.openedAtMs = this.now();
  }

  /**
   * The connection closed. True once per series, when it makes `minDrops` quick drops within
   * `windowMs`: the moment to warn. A connection that stays up `shortMs` ends the series.
   */
  closed(): boolean {
    const at = this.now();
    const openedAt = this.openedAtMs;
    this.openedAtMs = undefined;
    if (openedAt === undefined) return false;
    if (at - openedAt >= this.shortMs) {
      this.drops = [];
      this.reported = false;
      return false;
    }
    this.drops = [...this.drops.filter((t) => at - t < this.windowMs), at];
    if (this.reported || this.drops.length < this.minDrops) return false;
    this.reported = true;
    return true;
  }

  /** Quick drops counted within the window. */
  get count(): number {
    return this.drops.length;
  }
}
