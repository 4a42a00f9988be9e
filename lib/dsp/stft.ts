/**
 * Short-time Fourier transform over fft.js (radix-4, real input).
 * Frames are windowed (Hann by default); spectra hold bins 0..fftSize/2.
 */
import FFT = require('fft.js');

export type WindowType = 'hann' | 'hamming' | 'rect';

/** Periodic window (the right one for overlap-add and spectral analysis). */
export function makeWindow(type: WindowType, size: number): Float32Array {
  const w = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    const c = Math.cos((2 * Math.PI * i) / size);
    w[i] = type === 'hann' ? 0.5 - 0.5 * c : type === 'hamming' ? 0.54 - 0.46 * c : 1;
  }
  return w;
}

export function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n >= 4 && (n & (n - 1)) === 0;
}

export interface StftOptions {
  fftSize: number;
  /** Samples between frame starts; default fftSize / 2. */
  hop?: number;
  window?: WindowType;
}

export interface ComplexFrame {
  re: Float32Array;
  im: Float32Array;
}

export class Stft {
  readonly fftSize: number;
  readonly hop: number;
  readonly bins: number;
  readonly window: Float32Array;
  /** Sum of window² : divides a power spectrum to get power per bin independent of the window. */
  readonly windowPower: number;
  private readonly fft: FFT;
  private readonly input: Float64Array;
  private readonly out: number[];

  constructor(opts: StftOptions) {
    if (!isPowerOfTwo(opts.fftSize)) throw new Error(`stft: "fftSize" must be a power of two >= 4, got ${opts.fftSize}`);
    const hop = opts.hop ?? opts.fftSize / 2;
    if (!Number.isInteger(hop) || hop < 1) throw new Error(`stft: "hop" must be a positive integer, got ${hop}`);
    this.fftSize = opts.fftSize;
    this.hop = hop;
    this.bins = opts.fftSize / 2 + 1;
    this.window = makeWindow(opts.window ?? 'hann', opts.fftSize);
    this.windowPower = this.window.reduce((s, v) => s + v * v, 0);
    this.fft = new FFT(opts.fftSize);
    this.input = new Float64Array(opts.fftSize);
    this.out = this.fft.createComplexArray() as number[];
  }

  /** Number of full frames in a signal of `length` samples. */
  frameCount(length: number): number {
    return length < this.fftSize ? 0 : 1 + Math.floor((length - this.fftSize) / this.hop);
  }

  /** Windowed complex spectrum of x[offset .. offset+fftSize) (zero beyond the end). */
  complexFrame(x: ArrayLike<number>, offset = 0): ComplexFrame {
    for (let i = 0; i < this.fftSize; i++) {
      const k = offset + i;
      this.input[i] = k < x.length ? x[k] * this.window[i] : 0;
    }
    this.fft.realTransform(this.out, this.input);
    const re = new Float32Array(this.bins);
    const im = new Float32Array(this.bins);
    for (let b = 0; b < this.bins; b++) {
      re[b] = this.out[2 * b];
      im[b] = this.out[2 * b + 1];
    }
    return { re, im };
  }

  /** |X|² of one frame. */
  powerFrame(x: ArrayLike<number>, offset = 0): Float32Array {
    const { re, im } = this.complexFrame(x, offset);
    const p = new Float32Array(this.bins);
    for (let b = 0; b < this.bins; b++) p[b] = re[b] * re[b] + im[b] * im[b];
    return p;
  }

  /** Power spectrogram: one Float32Array of `bins` per full frame. */
  power(x: ArrayLike<number>): Float32Array[] {
    const n = this.frameCount(x.length);
    const frames: Float32Array[] = [];
    for (let f = 0; f < n; f++) frames.push(this.powerFrame(x, f * this.hop));
    return frames;
  }

  /** Centre frequency of a bin. */
  binHz(bin: number, sampleRateHz: number): number {
    return (bin * sampleRateHz) / this.fftSize;
  }
}
