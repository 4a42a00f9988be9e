/**
 * Levels. Convention: dBFS RMS relative to a full-scale DC value of 1.0, so a full-scale
 * sine reads −3.01 dBFS and a sine of peak 0.1·√2 reads −20 dBFS. dB(A) values are the same
 * scale after A-weighting ("dB(A) re full scale"); a calibration offset (the SPL that
 * 0 dBFS RMS corresponds to, measured with a calibrator) turns them into dB SPL.
 */
import { AWeightingFilter } from './aweighting';

/** Floor for silence, so levels stay finite numbers in messages. */
export const MIN_DB = -120;
export const FAST_TAU_S = 0.125;
export const SLOW_TAU_S = 1;

export function meanSquare(x: ArrayLike<number>, from = 0, to = x.length): number {
  let s = 0;
  for (let i = from; i < to; i++) s += x[i] * x[i];
  return to > from ? s / (to - from) : 0;
}

export function rms(x: ArrayLike<number>): number {
  return Math.sqrt(meanSquare(x));
}

/** Mean square → dB, floored at MIN_DB. */
export function powerToDb(ms: number): number {
  return ms > 0 ? Math.max(MIN_DB, 10 * Math.log10(ms)) : MIN_DB;
}

/** RMS amplitude → dBFS. */
export function dbfs(rmsValue: number): number {
  return powerToDb(rmsValue * rmsValue);
}

export function rmsDbfs(x: ArrayLike<number>): number {
  return powerToDb(meanSquare(x));
}

export function peakDbfs(x: ArrayLike<number>): number {
  let p = 0;
  for (let i = 0; i < x.length; i++) p = Math.max(p, Math.abs(x[i]));
  return dbfs(p);
}

/**
 * Exponential time weighting of the squared signal (IEC 61672 "F" = 125 ms, "S" = 1 s).
 * Each sample: ms += (x² − ms) · (1 − e^(−1/(τ·fs))).
 */
export class TimeWeighting {
  readonly tauS: number;
  private readonly alpha: number;
  private ms = 0;

  constructor(sampleRateHz: number, tauS: number) {
    if (!(sampleRateHz > 0) || !(tauS > 0)) throw new Error(`TimeWeighting: "sampleRateHz" and "tauS" must be > 0, got ${sampleRateHz}, ${tauS}`);
    this.tauS = tauS;
    this.alpha = 1 - Math.exp(-1 / (tauS * sampleRateHz));
  }

  /** Feed samples; returns the level in dB after the last one. */
  process(x: ArrayLike<number>): number {
    let ms = this.ms;
    const a = this.alpha;
    for (let i = 0; i < x.length; i++) ms += (x[i] * x[i] - ms) * a;
    this.ms = ms;
    return powerToDb(ms);
  }

  get meanSquare(): number {
    return this.ms;
  }

  get db(): number {
    return powerToDb(this.ms);
  }

  reset(): void {
    this.ms = 0;
  }
}

/** Equivalent continuous level over a period: energy mean since the last reset. */
export class Leq {
  private sum = 0;
  private count = 0;

  process(x: ArrayLike<number>): void {
    for (let i = 0; i < x.length; i++) this.sum += x[i] * x[i];
    this.count += x.length;
  }

  /** Frames accumulated in the current period. */
  get frames(): number {
    return this.count;
  }

  get db(): number {
    return this.count ? powerToDb(this.sum / this.count) : MIN_DB;
  }

  /** Return the period's Leq and start a new period. */
  take(): number {
    const v = this.db;
    this.sum = 0;
    this.count = 0;
    return v;
  }
}

export interface LevelMeterOptions {
  sampleRateHz: number;
  /** dB SPL that 0 dBFS RMS corresponds to; when set, readings include `...Spl` values. */
  calibrationDb?: number;
}

export interface LevelReading {
  /** Unweighted, fast (125 ms) and slow (1 s), dBFS RMS. */
  fastDbfs: number;
  slowDbfs: number;
  /** A-weighted, fast and slow, dB(A) re full scale. */
  fastDba: number;
  slowDba: number;
  /** Leq of the current period (since the last takeLeq), unweighted and A-weighted. */
  leqDbfs: number;
  leqDba: number;
  peakDbfs: number;
  /** dB SPL (A-weighted fast, slow, Leq) when a calibration offset is set. */
  fastDbaSpl?: number;
  slowDbaSpl?: number;
  leqDbaSpl?: number;
}

/** One channel's running levels: Z (unweighted) and A-weighted, fast, slow, Leq, peak. */
export class LevelMeter {
  readonly sampleRateHz: number;
  readonly calibrationDb: number | undefined;
  private readonly aFilter: AWeightingFilter;
  private readonly fastZ: TimeWeighting;
  private readonly slowZ: TimeWeighting;
  private readonly fastA: TimeWeighting;
  private readonly slowA: TimeWeighting;
  private readonly leqZ = new Leq();
  private readonly leqA = new Leq();
  private peak = 0;

  constructor(opts: LevelMeterOptions) {
    if (opts.calibrationDb !== undefined && !Number.isFinite(opts.calibrationDb)) {
      throw new Error(`LevelMeter: "calibrationDb" must be a finite number of dB SPL, got ${opts.calibrationDb}`);
    }
    this.sampleRateHz = opts.sampleRateHz;
    this.calibrationDb = opts.calibrationDb;
    this.aFilter = new AWeightingFilter(opts.sampleRateHz);
    this.fastZ = new TimeWeighting(opts.sampleRateHz, FAST_TAU_S);
    this.slowZ = new TimeWeighting(opts.sampleRateHz, SLOW_TAU_S);
    this.fastA = new TimeWeighting(opts.sampleRateHz, FAST_TAU_S);
    this.slowA = new TimeWeighting(opts.sampleRateHz, SLOW_TAU_S);
  }

  process(x: ArrayLike<number>): void {
    this.fastZ.process(x);
    this.slowZ.process(x);
    this.leqZ.process(x);
    for (let i = 0; i < x.length; i++) this.peak = Math.max(this.peak, Math.abs(x[i]));
    const a = this.aFilter.process(x);
    this.fastA.process(a);
    this.slowA.process(a);
    this.leqA.process(a);
  }

  reading(): LevelReading {
    const r: LevelReading = {
      fastDbfs: this.fastZ.db,
      slowDbfs: this.slowZ.db,
      fastDba: this.fastA.db,
      slowDba: this.slowA.db,
      leqDbfs: this.leqZ.db,
      leqDba: this.leqA.db,
      peakDbfs: dbfs(this.peak),
    };
    if (this.calibrationDb !== undefined) {
      r.fastDbaSpl = toSpl(r.fastDba, this.calibrationDb);
      r.slowDbaSpl = toSpl(r.slowDba, this.calibrationDb);
      r.leqDbaSpl = toSpl(r.leqDba, this.calibrationDb);
    }
    return r;
  }

  /** End the current Leq period (and peak hold) and return its values. */
  takeLeq(): { leqDbfs: number; leqDba: number; peakDbfs: number } {
    const out = { leqDbfs: this.leqZ.take(), leqDba: this.leqA.take(), peakDbfs: dbfs(this.peak) };
    this.peak = 0;
    return out;
  }
}

/** dB re full scale → dB SPL with a calibration offset (SPL at 0 dBFS RMS). */
export function toSpl(dbReFullScale: number, calibrationDb: number): number {
  return dbReFullScale + calibrationDb;
}
