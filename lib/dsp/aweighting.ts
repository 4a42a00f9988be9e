/**
 * IEC 61672-1 A-weighting.
 *
 * `aWeightingDb(f)` is the standard's analytic weighting. `AWeightingFilter` applies it to a
 * stream at a given sample rate: the four high-pass poles (20.6 Hz ×2, 107.7 Hz, 737.9 Hz)
 * are a bilinear-transformed IIR cascade (accurate there, since they are far below Nyquist),
 * and the double low-pass pole at 12.2 kHz, which the bilinear transform would warp by
 * ~0.6 dB at 10 kHz for 48 kHz audio, is a short linear-phase FIR fitted to the analytic
 * magnitude. The result is within 0.1 dB of the standard up to ~0.42 × the sample rate.
 */

export const A_POLE_1_HZ = 20.598997;
export const A_POLE_2_HZ = 107.65265;
export const A_POLE_3_HZ = 737.86223;
export const A_POLE_4_HZ = 12194.217;
/** Normalisation so that the weighting is 0 dB at 1 kHz (the standard's A1000). */
export const A_1000_DB = 1.9997;

/** Analytic A-weighting gain in dB at a frequency (−Infinity at 0 Hz). */
export function aWeightingDb(fHz: number): number {
  const f2 = fHz * fHz;
  const ra =
    (A_POLE_4_HZ * A_POLE_4_HZ * f2 * f2) /
    ((f2 + A_POLE_1_HZ * A_POLE_1_HZ) * Math.sqrt((f2 + A_POLE_2_HZ * A_POLE_2_HZ) * (f2 + A_POLE_3_HZ * A_POLE_3_HZ)) * (f2 + A_POLE_4_HZ * A_POLE_4_HZ));
  return 20 * Math.log10(ra) + A_1000_DB;
}

/** Direct-form-II-transposed biquad coefficients (a0 = 1). */
interface Biquad {
  b0: number;
  b1: number;
  b2: number;
  a1: number;
  a2: number;
}

/** Bilinear transform of the analog high-pass s / (s + w) with no prewarp. */
function firstOrderHighpass(poleHz: number, fs: number): { b0: number; b1: number; a1: number } {
  const k = 2 * fs;
  const w = 2 * Math.PI * poleHz;
  return { b0: k / (k + w), b1: -k / (k + w), a1: (w - k) / (k + w) };
}

/** Product of two first-order sections as one biquad. */
function combine(p: { b0: number; b1: number; a1: number }, q: { b0: number; b1: number; a1: number }): Biquad {
  return { b0: p.b0 * q.b0, b1: p.b0 * q.b1 + p.b1 * q.b0, b2: p.b1 * q.b1, a1: p.a1 + q.a1, a2: p.a1 * q.a1 };
}

/** Longest FIR half length; rates whose pole is far above Nyquist need far fewer (see firFor). */
export const A_FIR_HALF_TAPS = 24;
/** Largest deviation, in dB, the FIR may add to the low-pass pole below A_FIR_CHECKED_FRACTION × fs. */
export const A_FIR_MAX_ERROR_DB = 0.03;
const A_FIR_CHECKED_FRACTION = 0.42;
const A_FIR_HALF_CANDIDATES = [4, 6, 8, 12, 16];

/** Linear-phase FIR whose magnitude is the double low-pass pole 1 / (1 + (f/f4)²). */
function lowpassFir(fs: number, half: number): Float64Array {
  const grid = 4096;
  const taps = new Float64Array(2 * half + 1);
  const desired = (w: number) => {
    const f = (w * fs) / (2 * Math.PI);
    return 1 / (1 + (f / A_POLE_4_HZ) ** 2);
  };
  // Cosine-series coefficients by the midpoint rule, tapered by a Hann window against Gibbs ripple.
  for (let k = 0; k <= half; k++) {
    let s = 0;
    for (let i = 0; i < grid; i++) {
      const w = ((i + 0.5) * Math.PI) / grid;
      s += desired(w) * Math.cos(k * w);
    }
    const taper = 0.5 + 0.5 * Math.cos((Math.PI * k) / (half + 1));
    const h = (s / grid) * taper;
    taps[half + k] = h;
    taps[half - k] = h;
  }
  return taps;
}

/** Largest |error| in dB of a symmetric FIR against the double low-pass pole, from 20 Hz to 0.42 × fs. */
function firErrorDb(fir: Float64Array, fs: number): number {
  const half = fir.length >> 1;
  let worst = 0;
  for (let f = 20; f <= A_FIR_CHECKED_FRACTION * fs; f += 10) {
    const w = (2 * Math.PI * f) / fs;
    let r = fir[half];
    for (let k = 1; k <= half; k++) r += 2 * fir[half + k] * Math.cos(k * w);
    const want = -20 * Math.log10(1 + (f / A_POLE_4_HZ) ** 2);
    worst = Math.max(worst, Math.abs(20 * Math.log10(Math.abs(r)) - want));
  }
  return worst;
}

/**
 * The shortest FIR that stays within A_FIR_MAX_ERROR_DB of the pole. At 16 kHz the pole
 * (12.2 kHz) lies above Nyquist and its curve is gentle: 17 taps do (a third of the work);
 * 44.1 and 48 kHz need the full 49.
 */
function firFor(fs: number): Float64Array {
  const known = FIR_BY_RATE.get(fs);
  if (known) return known;
  let fir: Float64Array | undefined;
  for (const half of A_FIR_HALF_CANDIDATES) {
    const f = lowpassFir(fs, half);
    if (firErrorDb(f, fs) <= A_FIR_MAX_ERROR_DB) {
      fir = f;
      break;
    }
  }
  fir ??= lowpassFir(fs, A_FIR_HALF_TAPS);
  FIR_BY_RATE.set(fs, fir);
  return fir;
}

/**
 * A symmetric FIR of odd length n (fir[k] = fir[n − 1 − k]) over a line of samples:
 * out[i] = Σ fir[j]·line[i + j] (line[i] oldest) for i < out.length, line holding
 * out.length + n − 1 samples. Taps pair up (half the multiplies), and two outputs share each
 * coefficient load; every output sums in the same order, so a sample does not depend on
 * where its block ends.
 */
export function symmetricFir(fir: Float64Array, line: Float64Array, out: Float32Array): void {
  const n = fir.length;
  const half = n >> 1;
  const lag = n - 1;
  const len = out.length;
  const centre = fir[half];
  let i = 0;
  for (; i + 1 < len; i += 2) {
    let acc0 = centre * line[i + half];
    let acc1 = centre * line[i + 1 + half];
    for (let k = 0; k < half; k++) {
      const c = fir[k];
      acc0 += c * (line[i + k] + line[i + lag - k]);
      acc1 += c * (line[i + 1 + k] + line[i + n - k]);
    }
    out[i] = acc0;
    out[i + 1] = acc1;
  }
  for (; i < len; i++) {
    let acc = centre * line[i + half];
    for (let k = 0; k < half; k++) acc += fir[k] * (line[i + k] + line[i + lag - k]);
    out[i] = acc;
  }
}

/** Designed once per sample rate (a few ms), shared by every filter: the taps are only read. */
const FIR_BY_RATE = new Map<number, Float64Array>();

/** Complex response of the cascade at fHz, in dB (used to normalise at 1 kHz). */
function responseDb(biquads: Biquad[], fir: Float64Array, fHz: number, fs: number): number {
  const w = (2 * Math.PI * fHz) / fs;
  let mag = 1;
  for (const q of biquads) {
    // H(z) at z = e^{jw}
    const c1 = Math.cos(w), s1 = -Math.sin(w), c2 = Math.cos(2 * w), s2 = -Math.sin(2 * w);
    const nr = q.b0 + q.b1 * c1 + q.b2 * c2, ni = q.b1 * s1 + q.b2 * s2;
    const dr = 1 + q.a1 * c1 + q.a2 * c2, di = q.a1 * s1 + q.a2 * s2;
    mag *= Math.hypot(nr, ni) / Math.hypot(dr, di);
  }
  let fr = 0, fi = 0;
  for (let n = 0; n < fir.length; n++) {
    fr += fir[n] * Math.cos(w * n);
    fi -= fir[n] * Math.sin(w * n);
  }
  mag *= Math.hypot(fr, fi);
  return 20 * Math.log10(mag);
}

/**
 * Streaming A-weighting filter for one channel. Delay: `firHalfTaps` samples (the FIR);
 * irrelevant for levels. Keeps state between blocks.
 */
export class AWeightingFilter {
  readonly sampleRateHz: number;
  private readonly biquads: Biquad[];
  private readonly state: Float64Array;
  private readonly fir: Float64Array;
  /**
   * The high-passed stream in one line: the last fir.length − 1 samples of the previous block,
   * then this block's. Kept between blocks (the front is the FIR's history); grows with the block.
   */
  private work: Float64Array;
  private readonly gain: number;

  constructor(sampleRateHz: number) {
    if (!Number.isFinite(sampleRateHz) || sampleRateHz < 1000) throw new Error(`A-weighting: "sampleRateHz" must be >= 1000, got ${sampleRateHz}`);
    this.sampleRateHz = sampleRateHz;
    const fs = sampleRateHz;
    const p1 = firstOrderHighpass(A_POLE_1_HZ, fs);
    this.biquads = [combine(p1, p1), combine(firstOrderHighpass(A_POLE_2_HZ, fs), firstOrderHighpass(A_POLE_3_HZ, fs))];
    this.state = new Float64Array(2 * this.biquads.length);
    this.fir = firFor(fs);
    this.work = new Float64Array(this.fir.length - 1 + 4096);
    // Exact at 1 kHz (0 dB), or at fs/4 for very low rates where 1 kHz does not exist.
    const refHz = Math.min(1000, fs / 4);
    this.gain = Math.pow(10, (aWeightingDb(refHz) - responseDb(this.biquads, this.fir, refHz, fs)) / 20);
  }

  /** Half length of the low-pass FIR, which is also the filter's delay in samples. */
  get firHalfTaps(): number {
    return this.fir.length >> 1;
  }

  /** Designed magnitude response in dB at fHz (what the filter does, for tests and docs). */
  responseDb(fHz: number): number {
    return responseDb(this.biquads, this.fir, fHz, this.sampleRateHz) + 20 * Math.log10(this.gain);
  }

  /** Filter a block; returns a new array of the same length. */
  process(x: ArrayLike<number>): Float32Array {
    const len = x.length;
    const y = new Float32Array(len);
    const fir = this.fir;
    const n = fir.length;
    const lag = n - 1;
    if (this.work.length < lag + len) {
      const bigger = new Float64Array(lag + len);
      bigger.set(this.work.subarray(0, lag));
      this.work = bigger;
    }
    const w = this.work;
    // 1. The two high-pass biquads, unrolled with coefficients and state in locals (this runs
    // on every sample), into the work line after the history.
    const [q0, q1] = this.biquads;
    const b00 = q0.b0, b01 = q0.b1, b02 = q0.b2, a01 = q0.a1, a02 = q0.a2;
    const b10 = q1.b0, b11 = q1.b1, b12 = q1.b2, a11 = q1.a1, a12 = q1.a2;
    const st = this.state;
    let s00 = st[0], s01 = st[1], s10 = st[2], s11 = st[3];
    const gain = this.gain;
    for (let i = 0; i < len; i++) {
      const v0 = x[i] * gain;
      const o0 = b00 * v0 + s00;
      s00 = b01 * v0 - a01 * o0 + s01;
      s01 = b02 * v0 - a02 * o0;
      const o1 = b10 * o0 + s10;
      s10 = b11 * o0 - a11 * o1 + s11;
      s11 = b12 * o0 - a12 * o1;
      w[lag + i] = o1;
    }
    st[0] = s00;
    st[1] = s01;
    st[2] = s10;
    st[3] = s11;
    // 2. The low-pass FIR.
    symmetricFir(fir, w, y);
    // The last n − 1 samples become the next block's history.
    w.copyWithin(0, len, len + lag);
    return y;
  }

  reset(): void {
    this.state.fill(0);
    this.work.fill(0);
  }
}
