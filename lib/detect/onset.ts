/**
 * Onset detection refined to ~1 ms from the signal energy (DESIGN §2: localization depends
 * on it). Streaming, on the sensor's own sample rate (no resampler delay):
 *   1. high-pass (traffic rumble carries most of the street's energy, impulses are broadband),
 *   2. energy of short frames compared with an adaptive background (in dB),
 *   3. on a crossing, walk back through a 1 ms running energy to where the event starts.
 */

export interface OnsetOptions {
  sampleRateHz: number;
  /** High-pass corner before the energy envelope. */
  highPassHz?: number;
  /** Energy frame for triggering. */
  frameMs?: number;
  /** A frame this many dB above the background triggers an onset. */
  thresholdDb?: number;
  /** The refined onset is where the 1 ms energy first rises this many dB above the background. */
  refineDb?: number;
  /** Running-energy window of the refinement. */
  refineWindowMs?: number;
  /** No second onset within this time. */
  holdOffMs?: number;
  /** Background time constants: slow to rise (events must not lift it), faster to fall. */
  riseTauS?: number;
  fallTauS?: number;
  /** Frames at the start used only to learn the background. */
  warmUpMs?: number;
  /** A level that stays up this long is the new background (a louder street, a mic unmuted). */
  relearnAfterS?: number;
  /** How much frame-energy history `rise()` can look at (energies only, no samples). */
  historyS?: number;
}

/** Where the energy rises most (see OnsetDetector.rise). */
export interface EnergyRise {
  /** First frame (sample index) of the 2 ms energy frame where the rise starts. */
  frame: number;
  /** Energy of the following 20 ms over the preceding 200 ms, dB. */
  riseDb: number;
}

export interface Onset {
  /** Frame index (same numbering as the input's startFrame) where the event starts. */
  frame: number;
  /** Peak short-time energy above the background, dB. */
  strengthDb: number;
}

/** Second-order high-pass (RBJ cookbook, Butterworth Q). */
export class HighPass {
  private b0: number;
  private b1: number;
  private b2: number;
  private a1: number;
  private a2: number;
  private x1 = 0;
  private x2 = 0;
  private y1 = 0;
  private y2 = 0;

  constructor(sampleRateHz: number, cornerHz: number) {
    const w0 = (2 * Math.PI * Math.min(cornerHz, sampleRateHz * 0.45)) / sampleRateHz;
    const alpha = Math.sin(w0) / (2 * Math.SQRT1_2);
    const cos = Math.cos(w0);
    const a0 = 1 + alpha;
    this.b0 = (1 + cos) / 2 / a0;
    this.b1 = -(1 + cos) / a0;
    this.b2 = (1 + cos) / 2 / a0;
    this.a1 = (-2 * cos) / a0;
    this.a2 = (1 - alpha) / a0;
  }

  step(x: number): number {
    const y = this.b0 * x + this.b1 * this.x1 + this.b2 * this.x2 - this.a1 * this.y1 - this.a2 * this.y2;
    this.x2 = this.x1;
    this.x1 = x;
    this.y2 = this.y1;
    this.y1 = y;
    return y;
  }

  /** Filter a block into out[0 .. x.length) (same sums as step(), with the state in locals). */
  processInto(x: ArrayLike<number>, out: Float64Array): void {
    const b0 = this.b0, b1 = this.b1, b2 = this.b2, a1 = this.a1, a2 = this.a2;
    let x1 = this.x1, x2 = this.x2, y1 = this.y1, y2 = this.y2;
    for (let i = 0; i < x.length; i++) {
      const v = x[i];
      const y = b0 * v + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2;
      x2 = x1;
      x1 = v;
      y2 = y1;
      y1 = y;
      out[i] = y;
    }
    this.x1 = x1;
    this.x2 = x2;
    this.y1 = y1;
    this.y2 = y2;
  }

  reset(): void {
    this.x1 = this.x2 = this.y1 = this.y2 = 0;
  }
}

const TINY = 1e-20;

export class OnsetDetector {
  readonly sampleRateHz: number;
  private readonly hp: HighPass;
  private readonly frameN: number;
  private readonly thresholdDb: number;
  private readonly refineDb: number;
  private readonly refineN: number;
  private readonly holdOffN: number;
  private readonly riseAlpha: number;
  private readonly fallAlpha: number;
  private readonly warmUpFrames: number;
  /** Squared high-passed samples of the last ~100 ms, indexed by absolute frame. */
  private readonly hist: Float64Array;
  /** Energy of each finished frame (ring, by frame number since the stream started). */
  private readonly frameEnergy: Float64Array;
  private framesInStream = 0;
  private next = -1;
  private streamStart = 0;
  private frameSum = 0;
  private frameCount = 0;
  private framesSeen = 0;
  private bgDb: number | undefined;
  private lastOnset = -Infinity;
  private inEvent = false;
  /** Consecutive frames above the background by half the threshold. */
  private aboveFrames = 0;
  private readonly relearnFrames: number;
  /** High-passed samples of the block being processed (grows with the block). */
  private filtered = new Float64Array(0);

  constructor(opts: OnsetOptions) {
    const sr = opts.sampleRateHz;
    if (!Number.isFinite(sr) || sr < 1000) throw new Error(`OnsetDetector: sampleRateHz must be >= 1000, got ${sr}`);
    this.sampleRateHz = sr;
    this.hp = new HighPass(sr, opts.highPassHz ?? 400);
    this.frameN = Math.max(8, Math.round(((opts.frameMs ?? 2) * sr) / 1000));
    this.thresholdDb = opts.thresholdDb ?? 12;
    this.refineDb = opts.refineDb ?? 6;
    this.refineN = Math.max(4, Math.round(((opts.refineWindowMs ?? 1) * sr) / 1000));
    this.holdOffN = Math.round(((opts.holdOffMs ?? 300) * sr) / 1000);
    const frameS = this.frameN / sr;
    this.riseAlpha = Math.min(1, frameS / (opts.riseTauS ?? 1));
    this.fallAlpha = Math.min(1, frameS / (opts.fallTauS ?? 0.3));
    this.warmUpFrames = Math.ceil(((opts.warmUpMs ?? 200) / 1000) / frameS);
    this.relearnFrames = Math.ceil((opts.relearnAfterS ?? 1.5) / frameS);
    this.hist = new Float64Array(1 << Math.ceil(Math.log2(Math.max(this.frameN * 4, Math.round(sr * 0.1)))));
    this.frameEnergy = new Float64Array(Math.max(256, Math.ceil((opts.historyS ?? 5) / frameS)));
  }

  /** Background energy of the high-passed signal, dB (undefined until learned). */
  get backgroundDb(): number | undefined {
    return this.bgDb;
  }

  /** Forget the stream (after a gap); the background level is kept. */
  reset(): void {
    this.hp.reset();
    this.next = -1;
    this.frameSum = 0;
    this.frameCount = 0;
    this.hist.fill(0);
    this.filtered.fill(0);
    this.frameEnergy.fill(0);
    this.framesInStream = 0;
    this.inEvent = false;
    this.aboveFrames = 0;
  }

  /** Feed consecutive mono samples whose first one is frame `startFrame`; returns onsets found. */
  process(x: ArrayLike<number>, startFrame: number): Onset[] {
    if (this.next !== -1 && startFrame !== this.next) this.reset();
    if (this.next === -1) this.streamStart = startFrame;
    const out: Onset[] = [];
    const mask = this.hist.length - 1;
    if (this.filtered.length < x.length) this.filtered = new Float64Array(Math.max(x.length, 2 * this.filtered.length));
    const filtered = this.filtered;
    this.hp.processInto(x, filtered);
    // Frame sums in locals (this runs on every sensor sample); endFrame reads this.frameSum.
    const hist = this.hist;
    const frameN = this.frameN;
    let frameSum = this.frameSum;
    let frameCount = this.frameCount;
    for (let i = 0; i < x.length; i++) {
      const idx = startFrame + i;
      const y = filtered[i];
      const e = y * y;
      hist[idx & mask] = e;
      frameSum += e;
      frameCount++;
      if (frameCount === frameN) {
        this.frameSum = frameSum;
        const onset = this.endFrame(idx);
        if (onset) out.push(onset);
        frameSum = 0;
        frameCount = 0;
      }
    }
    this.frameSum = frameSum;
    this.frameCount = frameCount;
    this.next = startFrame + x.length;
    return out;
  }

  private endFrame(lastIdx: number): Onset | undefined {
    this.frameEnergy[this.framesInStream % this.frameEnergy.length] = this.frameSum / this.frameN + TINY;
    this.framesInStream++;
    const eDb = 10 * Math.log10(this.frameSum / this.frameN + TINY);
    this.framesSeen++;
    if (this.bgDb === undefined) {
      this.bgDb = eDb;
      return undefined;
    }
    const above = eDb - this.bgDb;
    if (this.framesSeen <= this.warmUpFrames) {
      // Learn fast at the start: the first frames decide the background.
      this.bgDb += (eDb - this.bgDb) * 0.2;
      return undefined;
    }
    this.aboveFrames = above >= this.thresholdDb / 2 ? this.aboveFrames + 1 : 0;
    if (this.aboveFrames > this.relearnFrames) {
      // Too long for an event: the street got louder (or the input came back from silence).
      this.bgDb += (eDb - this.bgDb) * this.fallAlpha;
    }
    if (this.inEvent) {
      if (above < this.thresholdDb / 2) this.inEvent = false;
      else return undefined;
    }
    if (above >= this.thresholdDb && lastIdx - this.lastOnset > this.holdOffN) {
      this.inEvent = true;
      const onset = this.refine(lastIdx);
      this.lastOnset = onset.frame;
      return onset;
    }
    if (above < this.thresholdDb) this.bgDb += (eDb - this.bgDb) * (eDb > this.bgDb ? this.riseAlpha : this.fallAlpha);
    return undefined;
  }

  /**
   * The strongest energy rise whose frame starts in [fromFrame, toFrame): the following 20 ms
   * over the preceding 200 ms of high-passed energy. Finds where an event starts even when
   * it never crossed the onset threshold (quiet events in a loud street); frame precision.
   */
  rise(fromFrame: number, toFrame: number, opts: { afterMs?: number; beforeMs?: number } = {}): EnergyRise | undefined {
    const frameS = this.frameN / this.sampleRateHz;
    const after = Math.max(1, Math.round((opts.afterMs ?? 20) / 1000 / frameS));
    const before = Math.max(1, Math.round((opts.beforeMs ?? 200) / 1000 / frameS));
    const cap = this.frameEnergy.length;
    const oldest = Math.max(0, this.framesInStream - cap);
    const j0 = Math.max(oldest + before, Math.ceil((fromFrame - this.streamStart) / this.frameN));
    const j1 = Math.min(this.framesInStream - after, Math.ceil((toFrame - this.streamStart) / this.frameN));
    if (j1 <= j0) return undefined;
    const e = (j: number) => this.frameEnergy[j % cap];
    let a = 0;
    let b = 0;
    for (let k = 0; k < after; k++) a += e(j0 + k);
    for (let k = 1; k <= before; k++) b += e(j0 - k);
    let best: EnergyRise | undefined;
    for (let j = j0; j < j1; j++) {
      if (j > j0) {
        a += e(j + after - 1) - e(j - 1);
        b += e(j - 1) - e(j - 1 - before);
      }
      const r = 10 * Math.log10((a / after) / (Math.max(b, TINY) / before));
      if (!best || r > best.riseDb) best = { frame: this.streamStart + j * this.frameN, riseDb: r };
    }
    return best;
  }

  /** Walk back from the loudest point of the triggering frame to where the 1 ms energy rose. */
  private refine(lastIdx: number): Onset {
    const mask = this.hist.length - 1;
    const w = this.refineN;
    const oldest = Math.max(this.streamStart, lastIdx - this.hist.length + w + 1);
    const bgLin = 10 ** (this.bgDb! / 10);
    const thr = bgLin * 10 ** (this.refineDb / 10);
    // Running mean over [t-w+1, t] for t from lastIdx back; computed incrementally.
    const ms = (t: number): number => {
      let s = 0;
      for (let k = 0; k < w; k++) s += this.hist[(t - k) & mask];
      return s / w;
    };
    const frameStart = lastIdx - this.frameN + 1;
    let peakT = lastIdx;
    let peak = -1;
    for (let t = frameStart; t <= lastIdx; t++) {
      const v = ms(t);
      if (v > peak) {
        peak = v;
        peakT = t;
      }
    }
    // Step back while the running energy stays above the refinement threshold; a short dip
    // (less than one window) inside the event does not stop the walk.
    let t = peakT;
    let firstAbove = peakT;
    let below = 0;
    let cur = ms(t);
    while (t - 1 - w >= oldest && below <= w) {
      cur += (this.hist[(t - w) & mask] - this.hist[t & mask]) / w;
      t--;
      if (cur > thr) {
        firstAbove = t;
        below = 0;
      } else below++;
    }
    // The window ending at firstAbove is the first to hold enough event energy; the event's
    // first samples are inside it: take the first sample of the window above the threshold.
    let start = firstAbove;
    for (let k = firstAbove - w + 1; k <= firstAbove; k++) {
      if (this.hist[k & mask] > thr) {
        start = k;
        break;
      }
    }
    return { frame: start, strengthDb: 10 * Math.log10(peak + TINY) - this.bgDb! };
  }
}
