/**
 * Band-limited resampling: Kaiser-windowed sinc, evaluated as a polyphase filter bank.
 *
 * For integer rates whose reduced ratio has at most MAX_EXACT_PHASES output phases
 * (48k→16k, 44.1k→16k, 16k→48k, ...) every phase is exact. Other ratios (non-integer
 * rates, clock-drift correction) interpolate linearly between 512 precomputed phases.
 *
 * The cutoff sits at 95 % of the lower Nyquist frequency, with a transition band of about
 * 6 % of the lower rate and > 80 dB stopband, so 48k→16k keeps 7 kHz flat and removes
 * everything from ~8.1 kHz up (nothing aliases back into the passband).
 */

const MAX_EXACT_PHASES = 4096;
const INTERP_PHASES = 512;
/** Half length of the kernel in zero crossings of the lower rate. */
const HALF_ZEROS = 48;
/**
 * Kernel of the path that feeds a classifier: the response of ffmpeg's default resampler
 * (libswresample: 16 zero crossings a side, cutoff 0.97, Kaiser β 9), which converted every
 * training clip to 16 kHz, so that a 48 kHz sensor gives the model the band it was trained
 * on: flat to 6.5 kHz, −3 dB at 7.5 kHz, −15 dB at 8.2 kHz. A third of the default's taps.
 * Shorter kernels were measured 1–2 dB lower at 7 kHz than the training clips, and the
 * default cutoff (0.95) 0.5–3 dB lower from 7 to 7.8 kHz.
 */
export const CLASSIFIER_KERNEL: Readonly<ResamplerOptions> = Object.freeze({ halfZeros: 16, cutoff: 0.97 });

export interface ResamplerOptions {
  /** Half length of the kernel in zero crossings of the lower rate (default 48: the high-quality filter). */
  halfZeros?: number;
  /** Cutoff (the kernel's −6 dB point) as a fraction of the lower Nyquist frequency (default 0.95). */
  cutoff?: number;
}
const CUTOFF = 0.95;
const KAISER_BETA = 9.0;

function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const q = (x * x) / 4;
  for (let k = 1; k < 60; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return sum;
}

interface Design {
  /** Taps per phase (input samples). */
  taps: number;
  /** Offset: tap j of an output at base index b reads input b - half + 1 + j. */
  half: number;
  /** phases × taps coefficients; an extra phase (= phase 0 shifted) ends the interpolated table. */
  table: Float64Array;
  phases: number;
}

function design(fromHz: number, toHz: number, phases: number, halfZeros: number, cutoff: number): Design {
  const lowHz = Math.min(fromHz, toHz);
  // Kernel in units of input samples.
  const fc = (cutoff * lowHz) / 2 / fromHz; // cycles per input sample
  const halfWidth = (halfZeros * fromHz) / lowHz; // input samples
  const half = Math.ceil(halfWidth);
  const taps = 2 * half;
  const i0b = besselI0(KAISER_BETA);
  const rows = phases + 1;
  const table = new Float64Array(rows * taps);
  for (let p = 0; p < rows; p++) {
    const frac = p / phases;
    let sum = 0;
    const row = new Float64Array(taps);
    for (let j = 0; j < taps; j++) {
      const d = frac + half - 1 - j; // distance (input samples) from the output instant to tap j
      const r = d / halfWidth;
      if (Math.abs(r) >= 1) continue;
      const w = besselI0(KAISER_BETA * Math.sqrt(1 - r * r)) / i0b;
      const x = 2 * fc * d;
      const sinc = x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
      row[j] = 2 * fc * sinc * w;
      sum += row[j];
    }
    // Unity gain at DC for every phase (removes the small per-phase ripple of the window).
    for (let j = 0; j < taps; j++) table[p * taps + j] = sum !== 0 ? row[j] / sum : 0;
  }
  return { taps, half, table, phases };
}

/** Σ a[ai + j]·b[bi + j] for j < n; four partial sums (taps are even, usually a multiple of 4). */
function dot(a: Float64Array, ai: number, b: Float64Array, bi: number, n: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let j = 0;
  for (; j + 3 < n; j += 4) {
    s0 += a[ai + j] * b[bi + j];
    s1 += a[ai + j + 1] * b[bi + j + 1];
    s2 += a[ai + j + 2] * b[bi + j + 2];
    s3 += a[ai + j + 3] * b[bi + j + 3];
  }
  for (; j < n; j++) s0 += a[ai + j] * b[bi + j];
  return s0 + s1 + (s2 + s3);
}

/**
 * The kernel row of an integer decimation, folded about its centre (tap half − 1): fold[k] is
 * the coefficient of the inputs k samples before and after the output instant. Undefined
 * when the row is not exactly symmetric with a zero last tap (then the plain dot product runs).
 */
function foldedRow(d: Design): Float64Array | undefined {
  const { table, taps, half } = d;
  const centre = half - 1;
  if (table[taps - 1] !== 0) return undefined;
  const fold = new Float64Array(half);
  for (let k = 0; k < half; k++) {
    if (table[centre - k] !== table[centre + k]) return undefined;
    fold[k] = table[centre + k];
  }
  return fold;
}

/** One decimated output centred on hist[m]: fold[0]·x[m] + Σ fold[k]·(x[m − k] + x[m + k]), in the order of the four-output loop. */
function foldedDot(fold: Float64Array, hist: Float64Array, m: number): number {
  let acc = fold[0] * hist[m];
  for (let k = 1; k < fold.length; k++) acc += fold[k] * (hist[m - k] + hist[m + k]);
  return acc;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

function checkRate(v: number, name: string): void {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new Error(`resample: "${name}" must be a positive number of Hz, got ${v}`);
}

/** Streaming resampler for one channel; feed blocks of any length, then flush() at the end. */
export class Resampler {
  readonly fromHz: number;
  readonly toHz: number;
  private readonly d: Design;
  /**
   * Integer decimation (up = 1): the one kernel row is symmetric about its tap half − 1 (the
   * output instant) and its last tap is zero, so each output folds the two inputs at equal
   * distance before multiplying: fold[k] weighs inputs base ± k. Undefined otherwise.
   */
  private readonly fold: Float64Array | undefined;
  private readonly exact: boolean;
  /** Exact mode: output step as the reduced ratio up/down. */
  private readonly up: number;
  private readonly down: number;
  /** Absolute input index of the next output's base sample, and its phase (exact: 0..up-1). */
  private base = 0;
  private phase = 0;
  /** Interpolated mode: fractional position in [0, 1). */
  private frac = 0;
  private readonly step: number;
  /** Buffered input: hist[0] is absolute input index histStart (may be negative: zero history). Float64: V8 multiplies doubles without converting each load. */
  private hist: Float64Array;
  private histLen = 0;
  private histStart: number;
  private inputFrames = 0;
  private outputFrames = 0;

  constructor(fromHz: number, toHz: number, opts: ResamplerOptions = {}) {
    checkRate(fromHz, 'fromHz');
    checkRate(toHz, 'toHz');
    const halfZeros = opts.halfZeros ?? HALF_ZEROS;
    if (!(Number.isInteger(halfZeros) && halfZeros >= 4 && halfZeros <= 256)) throw new Error(`resample: "halfZeros" must be an integer from 4 to 256, got ${halfZeros}`);
    const cutoff = opts.cutoff ?? CUTOFF;
    if (!(typeof cutoff === 'number' && cutoff >= 0.5 && cutoff <= 1)) throw new Error(`resample: "cutoff" must be a fraction of the lower Nyquist frequency from 0.5 to 1, got ${cutoff}`);
    this.fromHz = fromHz;
    this.toHz = toHz;
    let exact = false;
    let up = 1;
    let down = 1;
    if (Number.isInteger(fromHz) && Number.isInteger(toHz)) {
      const g = gcd(fromHz, toHz);
      up = toHz / g;
      down = fromHz / g;
      exact = up <= MAX_EXACT_PHASES;
    }
    this.exact = exact;
    this.up = up;
    this.down = down;
    this.step = fromHz / toHz;
    this.d = design(fromHz, toHz, exact ? up : INTERP_PHASES, halfZeros, cutoff);
    this.fold = exact && up === 1 ? foldedRow(this.d) : undefined;
    // Samples before the start are silence.
    this.histStart = -(this.d.half - 1);
    this.hist = new Float64Array(Math.max(1024, 4 * this.d.taps));
    this.histLen = this.d.half - 1;
  }

  /**
   * A copy of the coefficients of exact phase `phase` (0 ≤ phase < up; interpolated mode: row
   * `phase` of the table): output instant base + phase/up weighs input base − half + 1 + j by
   * row[j], half = lookaheadFrames. For tests that check the fast paths against a plain sum.
   */
  kernelRow(phase: number): Float64Array {
    const { taps, table, phases } = this.d;
    if (!(Number.isInteger(phase) && phase >= 0 && phase < phases)) throw new Error(`resample: "phase" must be an integer from 0 to ${phases - 1}, got ${phase}`);
    return table.slice(phase * taps, (phase + 1) * taps);
  }

  /**
   * True when this resampler takes the folded integer-decimation path (48 kHz → 16 kHz, any
   * whole ratio down with a symmetric kernel): each output sums pairs of inputs at equal
   * distance before multiplying. Read-only, for tests and benchmarks that must know which path
   * they measure; the output is the same plain sum of the kernel either way.
   */
  get foldsKernel(): boolean {
    return this.fold !== undefined;
  }

  /** Algorithmic delay in input samples (the filter looks this far ahead). */
  get lookaheadFrames(): number {
    return this.d.half;
  }

  process(block: ArrayLike<number>): Float32Array {
    this.append(block);
    this.inputFrames += block.length;
    return this.produce(Infinity);
  }

  /** Zero the input it keeps (the kernel's reach of the stream, and its buffer's slack): the resampler is not used again. */
  clear(): void {
    this.hist.fill(0);
    this.histLen = 0;
  }

  /** Pad with silence and emit the remaining outputs so total output = ceil(input × toHz / fromHz). */
  flush(): Float32Array {
    const target = this.exact ? Math.ceil((this.inputFrames * this.up) / this.down) : Math.ceil((this.inputFrames * this.toHz) / this.fromHz - 1e-9);
    const missing = target - this.outputFrames;
    if (missing <= 0) return new Float32Array(0);
    this.append(new Float32Array(this.d.taps + Math.ceil(missing * this.step) + 2));
    return this.produce(missing);
  }

  private append(block: ArrayLike<number>): void {
    const need = this.histLen + block.length;
    if (need > this.hist.length) {
      const bigger = new Float64Array(Math.max(need, this.hist.length * 2));
      bigger.set(this.hist.subarray(0, this.histLen));
      this.hist = bigger;
    }
    if (block instanceof Float32Array) this.hist.set(block, this.histLen);
    else for (let i = 0; i < block.length; i++) this.hist[this.histLen + i] = block[i];
    this.histLen += block.length;
  }

  private produce(limit: number): Float32Array {
    const { taps, half, table, phases } = this.d;
    const available = this.histStart + this.histLen; // absolute index one past the last input
    // Outputs whose last tap (base + half) is available: at most this many.
    const bound = Math.max(0, Math.min(limit, Math.ceil((available - half - this.base) / this.step) + 1));
    const out = new Float32Array(bound);
    const hist = this.hist;
    let n = 0;
    const fold = this.fold;
    if (fold) {
      // Integer decimation (48k→16k): four outputs share each (folded) coefficient load, with
      // four independent sums; folding halves the multiplies. Output n is centred on input
      // base + n·down, which is hist[m + n·down].
      const s1 = this.down;
      const s2 = 2 * s1;
      const s3 = 3 * s1;
      const reach = fold.length;
      while (n + 3 < bound && this.base + s3 + half < available) {
        const m = this.base - this.histStart;
        const t0 = fold[0];
        let a = t0 * hist[m];
        let b = t0 * hist[m + s1];
        let c = t0 * hist[m + s2];
        let d = t0 * hist[m + s3];
        for (let k = 1; k < reach; k++) {
          const t = fold[k];
          const lo = m - k;
          const hi = m + k;
          a += t * (hist[lo] + hist[hi]);
          b += t * (hist[lo + s1] + hist[hi + s1]);
          c += t * (hist[lo + s2] + hist[hi + s2]);
          d += t * (hist[lo + s3] + hist[hi + s3]);
        }
        out[n] = a;
        out[n + 1] = b;
        out[n + 2] = c;
        out[n + 3] = d;
        n += 4;
        this.base += s3 + s1;
      }
      // The last outputs of the block, one at a time with the same sums (so an output does not
      // depend on where a block ends).
      while (n < bound && this.base + half < available) {
        out[n++] = foldedDot(fold, hist, this.base - this.histStart);
        this.base += s1;
      }
    }
    while (n < bound && this.base + half < available) {
      const first = this.base - half + 1 - this.histStart;
      let acc = 0;
      if (this.exact) {
        acc = dot(table, this.phase * taps, hist, first, taps);
        this.phase += this.down;
        this.base += Math.floor(this.phase / this.up);
        this.phase %= this.up;
      } else {
        const pf = this.frac * phases;
        const p = Math.min(phases - 1, Math.floor(pf));
        const t = pf - p;
        const r0 = p * taps;
        const r1 = r0 + taps;
        // (1 − t)·row0 + t·row1, as two dot products
        acc = (1 - t) * dot(table, r0, hist, first, taps) + t * dot(table, r1, hist, first, taps);
        this.frac += this.step;
        const whole = Math.floor(this.frac);
        this.base += whole;
        this.frac -= whole;
      }
      out[n++] = acc;
    }
    this.outputFrames += n;
    // Drop input no future output needs.
    const keepFrom = this.base - half + 1 - this.histStart;
    if (keepFrom > 0) {
      this.hist.copyWithin(0, keepFrom, this.histLen);
      this.histLen -= keepFrom;
      this.histStart += keepFrom;
    }
    return n === bound ? out : out.slice(0, n);
  }
}

/** Resample a whole signal; output length is ceil(x.length × toHz / fromHz), time-aligned with the input. */
export function resample(x: Float32Array, fromHz: number, toHz: number, opts: ResamplerOptions = {}): Float32Array {
  checkRate(fromHz, 'fromHz');
  checkRate(toHz, 'toHz');
  if (fromHz === toHz) return Float32Array.from(x);
  const r = new Resampler(fromHz, toHz, opts);
  const a = r.process(x);
  const b = r.flush();
  const out = new Float32Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
