/**
 * GCC-PHAT time delay estimation between microphone pairs, with sub-sample resolution:
 * the whitened cross-spectrum is zero-padded before the inverse FFT (band-limited
 * interpolation of the correlation) and the peak is refined by a parabola.
 *
 * When a noise reference (the same channels just before the onset) is given, each
 * frequency bin is also weighted by its estimated SNR (its power over NOISE_MARGIN times the
 * reference's), so bins where the event has no energy (e.g. above 8 kHz for a 16 kHz clip) do
 * not add noise to the whitened correlation.
 */
import FFT from 'fft.js';

const ffts = new Map<number, FFT>();
function fftOf(n: number): FFT {
  let f = ffts.get(n);
  if (!f) {
    f = new FFT(n);
    ffts.set(n, f);
  }
  return f;
}

/** Work buffers per inverse-FFT size, reused between calls (allocation and GC dominated otherwise). */
const work = new Map<number, { spec: number[]; out: number[] }>();
function workOf(m: number): { spec: number[]; out: number[] } {
  let w = work.get(m);
  if (!w) {
    const f = fftOf(m);
    w = { spec: f.createComplexArray() as number[], out: f.createComplexArray() as number[] };
    work.set(m, w);
  }
  return w;
}

export function nextPow2(n: number): number {
  let p = 1;
  while (p < n) p <<= 1;
  return p;
}

/** Real FFT of x zero-padded to n: interleaved complex, bins 0..n/2 valid. */
export function spectrum(x: ArrayLike<number>, n: number): Float64Array {
  const f = fftOf(n);
  const input = new Array<number>(n).fill(0);
  const len = Math.min(n, x.length);
  // Hann taper on the segment edges (5 %) avoids onset-edge spectral splatter.
  const edge = Math.max(1, Math.floor(len * 0.05));
  for (let i = 0; i < len; i++) {
    const w = i < edge ? 0.5 - 0.5 * Math.cos((Math.PI * i) / edge) : i >= len - edge ? 0.5 - 0.5 * Math.cos((Math.PI * (len - 1 - i)) / edge) : 1;
    input[i] = x[i] * w;
  }
  const out = f.createComplexArray() as number[];
  f.realTransform(out, input);
  const spec = Float64Array.from(out);
  // The tapered samples, and a spectrum that gives them back, are not left in freed memory (DESIGN §4.2).
  input.fill(0);
  out.fill(0);
  return spec;
}

/**
 * Noise reference for the SNR weighting: the mean power per bin (0..n/2) of x's whole segments
 * of `segmentLen` samples, each tapered and zero-padded to n as spectrum() does the event's
 * window of that length, so that steady noise has the same power per bin in both (segments of n
 * samples would have n/segmentLen times as much). The segments are the last ones of x (the sound
 * nearest the onset), at most `maxSegments`. Throws when x holds less than one segment.
 */
export function powerSpectrum(x: ArrayLike<number>, n: number, segmentLen: number, maxSegments = Infinity): Float64Array {
  if (!(segmentLen >= 1 && segmentLen <= n)) throw new Error(`segmentLen: expected 1..${n} samples (the FFT size), got ${segmentLen}`);
  const segs = Math.min(maxSegments, Math.floor(x.length / segmentLen));
  if (!(segs >= 1)) throw new Error(`x: a noise reference needs at least one segment of ${segmentLen} samples, got ${x.length}`);
  const p = new Float64Array(n / 2 + 1);
  for (let s = 1; s <= segs; s++) {
    const from = x.length - s * segmentLen;
    const seg = Array.prototype.slice.call(x, from, from + segmentLen) as number[];
    const X = spectrum(seg, n);
    for (let k = 0; k <= n / 2; k++) p[k] += (X[2 * k] ** 2 + X[2 * k + 1] ** 2) / segs;
    seg.fill(0);
    X.fill(0);
  }
  return p;
}

/**
 * Power over the noise reference below which a bin counts as background, ratio (3: 4.8 dB). A
 * bin of the event's window holding only steady noise has an exponentially distributed power
 * around the reference's: it exceeds 3× the reference in 5 % of bins (2× in 13.5 %, 1× in 37 %),
 * so the bins of a steady hiss from elsewhere add little; bins where the event is less than
 * about 5 dB over the background are given up for it. 3 rather than 4 (6 dB): on the street
 * canyon evaluation (docs/localization.md) 4 gave up enough of the event's weak bins to raise
 * the bearings' p95 from 3.9° to 5.1° (trusted, 3 seeds pooled); 2 and less let a hiss from
 * elsewhere pull a bearing with a short lead-in (test/unit/doa-plane-wave.test.ts).
 */
export const NOISE_MARGIN = 3;

export interface GccOptions {
  /** Largest |lag| of interest, samples (aperture / c × fs, plus a margin). */
  maxLagSamples: number;
  /** Upsampling of the correlation (default 8). */
  interp?: number;
  /** Noise power spectra of a and b (from powerSpectrum with the same n, in segments of the event window's length), for SNR weighting. */
  noiseA?: Float64Array;
  noiseB?: Float64Array;
  /** Band used, Hz (default 100 Hz .. 0.95 Nyquist). */
  minHz?: number;
  maxHz?: number;
  sampleRate?: number;
}

export interface GccResult {
  /** Delay of b relative to a, samples (positive: the sound reaches b later). */
  lagSamples: number;
  /** Peak value of the normalised correlation (≤ 1). */
  peak: number;
  /** Correlation at lags −maxLag..+maxLag in steps of 1/interp sample. */
  cc: Float64Array;
  interp: number;
  maxLag: number;
  /**
   * With a noise reference: the mean SNR weight of the band's bins, 0..1. Steady noise alone
   * gives about 0.01 (the bins that pass NOISE_MARGIN by chance); an event that fills a tenth of
   * the band well above the background, about 0.1. The correlation is normalised by the weights,
   * so its peak alone cannot tell a window of chance bins from one of the event.
   */
  meanWeight?: number;
}

/** GCC-PHAT between two precomputed spectra (same n). */
export function gccPhatSpectra(A: Float64Array, B: Float64Array, n: number, opts: GccOptions): GccResult {
  const interp = opts.interp ?? 8;
  const m = n * interp;
  const f = fftOf(m);
  const { spec, out } = workOf(m);
  spec.fill(0);
  const sr = opts.sampleRate ?? 48000;
  const kMin = Math.max(1, Math.floor(((opts.minHz ?? 100) / sr) * n));
  const kMax = Math.min(n / 2 - 1, Math.ceil(((opts.maxHz ?? 0.95 * (sr / 2)) / sr) * n));
  let wSum = 0;
  for (let k = kMin; k <= kMax; k++) {
    const ar = A[2 * k];
    const ai = A[2 * k + 1];
    const br = B[2 * k];
    const bi = B[2 * k + 1];
    // B · conj(A): peak at the lag where b[n] = a[n − lag].
    const re = br * ar + bi * ai;
    const im = bi * ar - br * ai;
    const mag = Math.hypot(re, im);
    if (mag < 1e-20) continue;
    let w = 1;
    if (opts.noiseA && opts.noiseB) {
      const pa = ar * ar + ai * ai;
      const pb = br * br + bi * bi;
      const snr = Math.max(0, Math.min(pa / (opts.noiseA[k] + 1e-20), pb / (opts.noiseB[k] + 1e-20)) / NOISE_MARGIN - 1);
      w = snr / (1 + snr);
    }
    wSum += w;
    spec[2 * k] = (w * re) / mag;
    spec[2 * k + 1] = (w * im) / mag;
    spec[2 * (m - k)] = (w * re) / mag;
    spec[2 * (m - k) + 1] = (-w * im) / mag;
  }
  f.inverseTransform(out, spec);
  // inverseTransform divides by m; rescale so a perfect match peaks at 1.
  const scale = wSum > 0 ? m / (2 * wSum) : 0;
  const maxLag = Math.max(1, Math.ceil(opts.maxLagSamples));
  const L = maxLag * interp;
  const cc = new Float64Array(2 * L + 1);
  for (let i = -L; i <= L; i++) {
    const idx = i >= 0 ? i : m + i;
    cc[i + L] = out[2 * idx] * scale;
  }
  let best = 0;
  for (let i = 1; i < cc.length; i++) if (cc[i] > cc[best]) best = i;
  let frac = 0;
  if (best > 0 && best < cc.length - 1) {
    const y0 = cc[best - 1];
    const y1 = cc[best];
    const y2 = cc[best + 1];
    const d = y0 - 2 * y1 + y2;
    if (d < 0) frac = (0.5 * (y0 - y2)) / d;
  }
  const weighted = opts.noiseA && opts.noiseB ? { meanWeight: kMax >= kMin ? wSum / (kMax - kMin + 1) : 0 } : {};
  return { lagSamples: (best - L + frac) / interp, peak: cc[best], cc, interp, maxLag, ...weighted };
}

/** GCC-PHAT between two signals: delay of b relative to a. */
export function gccPhat(a: ArrayLike<number>, b: ArrayLike<number>, opts: GccOptions): GccResult {
  const n = nextPow2(2 * Math.max(a.length, b.length));
  const A = spectrum(a, n);
  const B = spectrum(b, n);
  try {
    return gccPhatSpectra(A, B, n, opts);
  } finally {
    A.fill(0);
    B.fill(0);
  }
}

/** Correlation value at a fractional lag (samples), linear between the interpolated points. */
export function ccAt(r: GccResult, lagSamples: number): number {
  const L = r.maxLag * r.interp;
  const x = lagSamples * r.interp + L;
  if (x <= 0) return r.cc[0];
  if (x >= r.cc.length - 1) return r.cc[r.cc.length - 1];
  const i = Math.floor(x);
  const t = x - i;
  return r.cc[i] * (1 - t) + r.cc[i + 1] * t;
}
