/**
 * Far-field sources on a microphone array, for direction-of-arrival tests (as pyroomacoustics'
 * DOA tests do): a plane wave from a known azimuth and elevation reaches microphone m delayed by
 * −(p_m·u)/c. The delay is applied in the frequency domain, exact for any fraction of a sample
 * (a time-domain shift rounded to whole samples would hide the angle under a 3–9° step).
 * Signals are `PLANE_WAVE_FRAMES` long; the delays wrap around, so keep a silent margin at the ends
 * of transient sources (continuous noise wraps seamlessly).
 */
import FFT from 'fft.js';
import type { MicPosition } from '../../lib/localize/arrays';
import { gaussian, makeRng } from '../../lib/sim/signals';

/** 2^15 frames: 0.68 s at 48 kHz, 2 s at 16 kHz. */
export const PLANE_WAVE_FRAMES = 32768;
const N = PLANE_WAVE_FRAMES;
const fft = new FFT(N);

function spectrumOf(x: ArrayLike<number>): number[] {
  const input = Array.from({ length: N }, (_, i) => x[i] ?? 0);
  const out = fft.createComplexArray() as number[];
  fft.realTransform(out, input);
  fft.completeSpectrum(out);
  return out;
}

function realPart(spec: number[]): Float64Array {
  const out = fft.createComplexArray() as number[];
  fft.inverseTransform(out, spec);
  return Float64Array.from({ length: N }, (_, i) => out[2 * i]);
}

/** Gaussian noise shaped by `envelope(tSec)`, then band-limited to loHz..hiHz. */
export function bandNoise(seed: number, sampleRate: number, loHz: number, hiHz: number, envelope: (tSec: number) => number = () => 1): Float64Array {
  const rng = makeRng(seed);
  const spec = spectrumOf(Float64Array.from({ length: N }, (_, i) => gaussian(rng) * envelope(i / sampleRate)));
  for (let k = 0; k < N; k++) {
    const hz = (Math.min(k, N - k) * sampleRate) / N;
    if (hz < loHz || hz > hiHz) spec[2 * k] = spec[2 * k + 1] = 0;
  }
  return realPart(spec);
}

/** Unit vector toward azimuth (clockwise from +y, the array's heading) and elevation. */
function towards(azDeg: number, elDeg: number): [number, number, number] {
  const az = (azDeg * Math.PI) / 180;
  const el = (elDeg * Math.PI) / 180;
  return [Math.cos(el) * Math.sin(az), Math.cos(el) * Math.cos(az), Math.sin(el)];
}

/** Delay of each microphone for a plane wave from (azDeg, elDeg), s: the nearer to the source, the earlier. */
export function planeWaveDelaysSec(mics: MicPosition[], azDeg: number, elDeg: number, speedOfSoundMs: number): number[] {
  const u = towards(azDeg, elDeg);
  return mics.map((p) => -(p[0] * u[0] + p[1] * u[1] + p[2] * u[2]) / speedOfSoundMs);
}

/** `source` as each microphone hears it from (azDeg, elDeg), scaled by `gain`. */
export function planeWave(
  source: Float64Array,
  mics: MicPosition[],
  opts: { azDeg: number; elDeg?: number; gain?: number; sampleRate: number; speedOfSoundMs: number },
): Float64Array[] {
  const spec = spectrumOf(source);
  const gain = opts.gain ?? 1;
  return planeWaveDelaysSec(mics, opts.azDeg, opts.elDeg ?? 0, opts.speedOfSoundMs).map((delaySec) => {
    const shifted = new Array<number>(2 * N);
    for (let k = 0; k < N; k++) {
      const signedK = k <= N / 2 ? k : k - N;
      const phase = (-2 * Math.PI * signedK * delaySec * opts.sampleRate) / N;
      const c = Math.cos(phase);
      const s = Math.sin(phase);
      shifted[2 * k] = gain * (spec[2 * k] * c - spec[2 * k + 1] * s);
      shifted[2 * k + 1] = gain * (spec[2 * k] * s + spec[2 * k + 1] * c);
    }
    shifted[N + 1] = 0; // the Nyquist bin of a real signal stays real
    return realPart(shifted);
  });
}

/** Independent white noise on each microphone (self-noise, wind): no direction. */
export function sensorNoise(channels: number, seed: number, rms: number): Float64Array[] {
  const rng = makeRng(seed);
  return Array.from({ length: channels }, () => Float64Array.from({ length: N }, () => rms * gaussian(rng)));
}

/** Sum of several renderings (each one array per microphone), as the estimator takes them. */
export function mixChannels(...parts: Float64Array[][]): Float32Array[] {
  return parts[0].map((_, m) => Float32Array.from({ length: N }, (_, i) => parts.reduce((sum, p) => sum + p[m][i], 0)));
}
