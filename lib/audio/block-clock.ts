/**
 * BlockClock: the wall-clock time of each sample of a source that gives no time of its own
 * (arecord, ffmpeg), from when its chunks arrive.
 *
 * A sound card's crystal is typically 20-200 ppm off its nominal rate, so counting samples
 * from one anchor drifts by up to 0.7 s an hour. Arrivals are no better one by one: a chunk
 * reaches Node 0-30 ms after its last sample was captured, more when the event loop is busy,
 * but never before. So the clock fits a line to (sample index, arrival) pairs over a sliding
 * window, below every arrival and as close to them as it can (the earliest-arrival envelope:
 * the lower convex hull's edge over the window's middle). Late arrivals, even bursts of them,
 * do not move it; its slope is the source's true rate.
 *
 * The fit runs on the monotonic clock (performance.now()); times go out on the wall clock
 * through one wall-minus-monotonic offset, read at every arrival. A step of the wall clock
 * (NTP, an operator) changes that offset at once and leaves the fit alone.
 *
 * Discontinuities start a new fit (keeping the rate learned so far):
 *  - reset(): the source restarted;
 *  - an arrival more than jumpMs before the line (data cannot arrive early: samples were
 *    added, or the line was wrong);
 *  - arrivals all more than jumpMs after the line for confirmS of wall time (samples were lost:
 *    an overrun). A late burst that catches up (a busy event loop) is not a gap.
 *
 * Until the window spans minFitSpanS the slope is the nominal rate (or the rate learned before
 * a discontinuity); `settled` says when the fit has that history.
 */

export interface BlockClockOptions {
  /** Nominal frames per second. */
  sampleRate: number;
  /** History the fit uses, s (default 120). */
  windowS?: number;
  /** Arrivals are kept as the earliest per bucket of this many seconds of audio (default 0.5). */
  bucketS?: number;
  /** Fit the rate once the history spans this long, s (default 4); the nominal rate before. */
  minFitSpanS?: number;
  /** The fitted rate stays within this of the nominal rate, ppm (default 1000). */
  maxRatePpm?: number;
  /** An arrival this far before the line, or arrivals this far after it for confirmS, is a discontinuity, ms (default 25). */
  jumpMs?: number;
  /** How long arrivals must all stay late before samples count as lost, s (default 1). */
  confirmS?: number;
  /** A change of wall-minus-monotonic larger than this is a step of the wall clock, ms (default 5). */
  wallStepMs?: number;
}

/** What an arrival did to the clock. */
export type ClockEvent = 'anchor' | 'early' | 'gap' | 'wall-step';

interface Point {
  /** Sample index just after the chunk. */
  frame: number;
  /** Arrival, monotonic ms. */
  monoMs: number;
}

export class BlockClock {
  readonly sampleRate: number;
  private readonly windowFrames: number;
  private readonly bucketFrames: number;
  private readonly minFitFrames: number;
  private readonly maxRateRatio: number;
  private readonly jumpMs: number;
  private readonly confirmMs: number;
  private readonly wallStepMs: number;
  /** Nominal ms per frame. */
  private readonly nominalMsPerFrame: number;
  /** Slope used while the history is short: nominal, or the rate learned before a discontinuity. */
  private priorMsPerFrame: number;
  /** Earliest arrival per bucket of the current fit, in frame order. */
  private points: Point[] = [];
  private anchored = false;
  /** Line: monoMs = lineMonoMs + (frame - lineFrame) * msPerFrame. */
  private lineFrame = 0;
  private lineMonoMs = 0;
  private msPerFrame: number;
  private wallMinusMonoMs = 0;
  /** First of the arrivals, all late, that may mean lost samples. */
  private lateFrom: { monoMs: number } | undefined;
  /** Arrivals since lateFrom (all late), kept to start the new fit from if they prove a gap. */
  private lateLog: Point[] = [];
  private fitted = false;

  constructor(opts: BlockClockOptions) {
    const rate = opts.sampleRate;
    if (!Number.isFinite(rate) || rate <= 0) throw new Error(`sampleRate: expected a positive rate, got ${rate}`);
    this.sampleRate = rate;
    this.windowFrames = (opts.windowS ?? 120) * rate;
    this.bucketFrames = Math.max(1, Math.round((opts.bucketS ?? 0.5) * rate));
    this.minFitFrames = (opts.minFitSpanS ?? 4) * rate;
    this.maxRateRatio = (opts.maxRatePpm ?? 1000) * 1e-6;
    this.jumpMs = opts.jumpMs ?? 25;
    this.confirmMs = (opts.confirmS ?? 1) * 1000;
    this.wallStepMs = opts.wallStepMs ?? 5;
    this.nominalMsPerFrame = 1000 / rate;
    this.priorMsPerFrame = this.nominalMsPerFrame;
    this.msPerFrame = this.nominalMsPerFrame;
  }

  /** True once the rate comes from a fit (the history spans minFitSpanS since the last discontinuity). */
  get settled(): boolean {
    return this.fitted;
  }

  /** The source's rate as fitted (or assumed), relative to nominal, ppm: +100 = 100 ppm fast. */
  get ratePpm(): number {
    return (this.nominalMsPerFrame / this.msPerFrame - 1) * 1e6;
  }

  /** True once a chunk has arrived since construction or reset(). */
  get isAnchored(): boolean {
    return this.anchored;
  }

  /**
   * A chunk ending just before sample index `endFrame` arrived at `monoMs` (monotonic clock),
   * when the wall clock read `wallMs`. Returns what it changed besides the fit, if anything.
   */
  arrive(endFrame: number, monoMs: number, wallMs: number): ClockEvent | undefined {
    const offset = wallMs - monoMs;
    const stepped = this.anchored && Math.abs(offset - this.wallMinusMonoMs) > this.wallStepMs;
    this.wallMinusMonoMs = offset;
    const p: Point = { frame: endFrame, monoMs };
    if (!this.anchored) {
      this.restart([p]);
      return 'anchor';
    }
    const residualMs = monoMs - this.lineMono(endFrame);
    if (residualMs < -this.jumpMs) {
      this.restart([p]);
      return 'early';
    }
    this.add(p);
    if (residualMs > this.jumpMs) {
      if (!this.lateFrom) this.lateFrom = { monoMs };
      this.lateLog.push(p);
      if (monoMs - this.lateFrom.monoMs >= this.confirmMs && this.lateLog.length >= 3) {
        // Every arrival for confirmS came late: samples were lost. The late ones of the last
        // half of that start the new fit (the first ones may be a busy spell before the loss).
        this.restart(this.lateLog.filter((q) => q.monoMs >= monoMs - this.confirmMs / 2));
        return 'gap';
      }
    } else {
      this.lateFrom = undefined;
      this.lateLog = [];
    }
    this.fit();
    return stepped ? 'wall-step' : undefined;
  }

  /** Wall-clock time of sample index `frame`, epoch seconds. NaN before the first arrival. */
  timeSec(frame: number): number {
    if (!this.anchored) return NaN;
    return (this.lineMono(frame) + this.wallMinusMonoMs) / 1000;
  }

  /** The source restarted: the next arrival anchors a new fit (the rate learned so far is kept as its start). */
  reset(): void {
    if (this.fitted) this.priorMsPerFrame = this.msPerFrame;
    this.anchored = false;
    this.fitted = false;
    this.points = [];
    this.lateFrom = undefined;
    this.lateLog = [];
  }

  private lineMono(frame: number): number {
    return this.lineMonoMs + (frame - this.lineFrame) * this.msPerFrame;
  }

  private restart(points: Point[]): void {
    if (this.fitted) this.priorMsPerFrame = this.msPerFrame;
    this.anchored = true;
    this.fitted = false;
    this.points = [];
    this.lateFrom = undefined;
    this.lateLog = [];
    this.msPerFrame = this.priorMsPerFrame;
    for (const p of points) this.add(p);
    this.fit();
  }

  /** Keep the earliest arrival of each bucket (measured against the nominal rate), within the window. */
  private add(p: Point): void {
    const pts = this.points;
    const last = pts[pts.length - 1];
    if (last && Math.floor(last.frame / this.bucketFrames) === Math.floor(p.frame / this.bucketFrames)) {
      if (p.monoMs - p.frame * this.nominalMsPerFrame < last.monoMs - last.frame * this.nominalMsPerFrame) pts[pts.length - 1] = p;
    } else {
      pts.push(p);
    }
    let drop = 0;
    while (drop < pts.length - 1 && pts[drop].frame < p.frame - this.windowFrames) drop++;
    if (drop) pts.splice(0, drop);
  }

  /** The line below every kept arrival that is closest to them on the whole (the lower hull's edge over their mean frame). */
  private fit(): void {
    const pts = this.points;
    const first = pts[0];
    const last = pts[pts.length - 1];
    let slope = this.priorMsPerFrame;
    if (pts.length >= 2 && last.frame - first.frame >= this.minFitFrames) {
      const hull = lowerHull(pts);
      let mean = 0;
      for (const q of pts) mean += q.frame - first.frame;
      mean = mean / pts.length + first.frame;
      let i = 0;
      while (i < hull.length - 2 && hull[i + 1].frame <= mean) i++;
      const a = hull[i];
      const b = hull[i + 1];
      slope = (b.monoMs - a.monoMs) / (b.frame - a.frame);
      const lo = this.nominalMsPerFrame * (1 - this.maxRateRatio);
      const hi = this.nominalMsPerFrame * (1 + this.maxRateRatio);
      slope = Math.min(hi, Math.max(lo, slope));
      this.fitted = true;
    }
    // Through the lowest arrival for that slope: below all of them, touching one.
    let best = Infinity;
    let bestFrame = first.frame;
    for (const q of pts) {
      const v = q.monoMs - (q.frame - first.frame) * slope;
      if (v < best) {
        best = v;
        bestFrame = q.frame;
      }
    }
    this.msPerFrame = slope;
    this.lineFrame = bestFrame;
    this.lineMonoMs = best + (bestFrame - first.frame) * slope;
  }
}

/** Lower convex hull of points in increasing frame order (Andrew's monotone chain). */
function lowerHull(pts: Point[]): Point[] {
  const h: Point[] = [];
  for (const p of pts) {
    while (h.length >= 2) {
      const a = h[h.length - 2];
      const b = h[h.length - 1];
      // Drop b when it lies on or above the segment a→p.
      const cross = (b.frame - a.frame) * (p.monoMs - a.monoMs) - (b.monoMs - a.monoMs) * (p.frame - a.frame);
      if (cross <= 0) h.pop();
      else break;
    }
    h.push(p);
  }
  return h;
}
