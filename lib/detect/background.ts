/**
 * Adaptive background level: the level exceeded N % of the time (L90 by default) over the
 * last minute of fast levels. Short loud events barely move it; a street that gets busier
 * lifts it within the window, so "dB above background" keeps its meaning day and night.
 */

export interface BackgroundOptions {
  /** Span of levels considered. */
  windowS?: number;
  /** Period of the levels fed in (fast level: 125 ms). */
  periodS?: number;
  /** Percent of the time the background is exceeded (90 → L90, the 10th percentile). */
  exceededPercent?: number;
  /** Levels needed before the estimate is given (default: 1 s worth). */
  minCount?: number;
}

export class BackgroundLevel {
  readonly windowS: number;
  readonly periodS: number;
  readonly exceededPercent: number;
  private readonly capacity: number;
  private readonly minCount: number;
  private readonly values: Float64Array;
  private count = 0;
  private pos = 0;
  private cached: number | undefined;
  private dirty = false;

  constructor(opts: BackgroundOptions = {}) {
    this.windowS = opts.windowS ?? 60;
    this.periodS = opts.periodS ?? 0.125;
    this.exceededPercent = opts.exceededPercent ?? 90;
    if (!(this.windowS > 0) || !(this.periodS > 0)) throw new Error('BackgroundLevel: windowS and periodS must be > 0');
    if (!(this.exceededPercent > 0 && this.exceededPercent < 100)) throw new Error('BackgroundLevel: exceededPercent must be in (0, 100)');
    this.capacity = Math.max(1, Math.round(this.windowS / this.periodS));
    this.minCount = Math.min(this.capacity, opts.minCount ?? Math.max(1, Math.round(1 / this.periodS)));
    this.values = new Float64Array(this.capacity);
  }

  /** Add one level (dB). Non-finite levels (digital silence: -Infinity) are clamped to -200 dB. */
  push(levelDb: number): void {
    const v = Number.isFinite(levelDb) ? levelDb : levelDb > 0 ? 200 : -200;
    this.values[this.pos] = v;
    this.pos = (this.pos + 1) % this.capacity;
    if (this.count < this.capacity) this.count++;
    this.dirty = true;
  }

  /** The background level in dB, or undefined until enough levels were seen. */
  get levelDb(): number | undefined {
    if (this.count < this.minCount) return undefined;
    if (this.dirty) {
      const sorted = Float64Array.from(this.values.subarray(0, this.count)).sort();
      // Level exceeded p % of the time = the (100 - p)th percentile (nearest rank).
      const rank = Math.max(0, Math.ceil(((100 - this.exceededPercent) / 100) * this.count) - 1);
      this.cached = sorted[rank];
      this.dirty = false;
    }
    return this.cached;
  }

  get size(): number {
    return this.count;
  }

  reset(): void {
    this.count = 0;
    this.pos = 0;
    this.cached = undefined;
    this.dirty = false;
  }
}
