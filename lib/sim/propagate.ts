/**
 * Sound propagation from a static source to a microphone: the direct path plus image
 * sources for the ground and, in a street canyon, the two facades. Each path is a delay
 * (integer + windowed-sinc fractional part), 1/r spreading, a reflection coefficient and a
 * short linear-phase low-pass standing in for air absorption (it must not shift the delay).
 */
import { Scene, canyonOffset } from './scene';

export interface PropagationPath {
  /** src index = outFrame - emitFrame - delayInt - k for kernel tap k. */
  delayInt: number;
  /** gain × fractional delay × air absorption, ready to convolve. */
  kernel: Float32Array;
  /** Exact delay in samples and distance (for inspection and tests). */
  delaySamples: number;
  distanceM: number;
  kind: 'direct' | 'ground' | 'facade' | 'facade+ground';
}

/**
 * Windowed-sinc (Blackman) fractional delay: y[n] = x(n − delay). Returns the kernel and the
 * integer offset such that y[n] = Σ_k kernel[k] · x[n − offset − k].
 */
export function fractionalDelayKernel(delaySamples: number, taps: number, cutoff = 0.95): { offset: number; kernel: Float32Array } {
  const half = Math.max(2, Math.floor(taps / 2));
  const n = 2 * half;
  const I = Math.floor(delaySamples);
  const mu = delaySamples - I;
  const kernel = new Float32Array(n);
  let sum = 0;
  for (let k = 0; k < n; k++) {
    const m = k - half + 1;
    const t = m - mu;
    const sinc = t === 0 ? 1 : Math.sin(Math.PI * cutoff * t) / (Math.PI * cutoff * t);
    const w = Math.abs(t) >= half ? 0 : 0.42 + 0.5 * Math.cos((Math.PI * t) / half) + 0.08 * Math.cos((2 * Math.PI * t) / half);
    kernel[k] = sinc * w;
    sum += kernel[k];
  }
  for (let k = 0; k < n; k++) kernel[k] /= sum;
  return { offset: I - half + 1, kernel };
}

/** Approximate air absorption at 8 kHz, dB per metre (ISO 9613-1, ~20 °C, 50–70 % RH). */
export const AIR_ABSORPTION_DB_PER_M_8K = 0.1;

/** Coefficient `a` of the zero-phase low-pass [a, 1−2a, a] giving `attDb` at 8 kHz. */
export function airAbsorptionTap(distanceM: number, sampleRate: number): number {
  const attDb = AIR_ABSORPTION_DB_PER_M_8K * distanceM;
  const g = Math.pow(10, -attDb / 20);
  const w = (2 * Math.PI * Math.min(8000, sampleRate / 2)) / sampleRate;
  return Math.min(0.25, (1 - g) / (2 * (1 - Math.cos(w))));
}

export interface ImageSource {
  pos: [number, number, number];
  coef: number;
  kind: PropagationPath['kind'];
}

/**
 * The source and its mirror images (ground, facades, facades+ground) for a scene's geometry. The
 * ground is level at `groundZ` under the source (its ground altitude on a slope).
 */
export function imageSources(src: readonly number[], scene: Pick<Scene, 'ground' | 'canyon'>, reflections = true, groundZ = 0): ImageSource[] {
  const out: ImageSource[] = [{ pos: [src[0], src[1], src[2]], coef: 1, kind: 'direct' }];
  if (!reflections) return out;
  const walls: ImageSource[] = [];
  const c = scene.canyon;
  if (c) {
    const b = (c.streetBearingDeg * Math.PI) / 180;
    const nx = Math.cos(b);
    const ny = -Math.sin(b);
    const mirror = (p: [number, number, number], side: number): [number, number, number] => {
      const d = canyonOffset(c, p[0], p[1]) - (side * c.widthM) / 2;
      return [p[0] - 2 * d * nx, p[1] - 2 * d * ny, p[2]];
    };
    const first = [mirror(out[0].pos, 1), mirror(out[0].pos, -1)];
    walls.push({ pos: first[0], coef: c.reflection, kind: 'facade' }, { pos: first[1], coef: c.reflection, kind: 'facade' });
    if (c.order >= 2) {
      walls.push({ pos: mirror(first[0], -1), coef: c.reflection ** 2, kind: 'facade' }, { pos: mirror(first[1], 1), coef: c.reflection ** 2, kind: 'facade' });
    }
  }
  out.push(...walls);
  if (scene.ground) {
    const g = scene.ground.reflection;
    for (const s of [...out]) {
      out.push({ pos: [s.pos[0], s.pos[1], groundZ ? 2 * groundZ - s.pos[2] : -s.pos[2]], coef: s.coef * g, kind: s.kind === 'direct' ? 'ground' : 'facade+ground' });
    }
  }
  return out;
}

/** Paths from a source to one microphone (gain relative to the source's level at 1 m). */
export function propagationPaths(
  src: readonly number[],
  mic: readonly number[],
  scene: Pick<Scene, 'ground' | 'canyon' | 'sampleRate' | 'speedOfSoundMs' | 'interpTaps'>,
  reflections = true,
  groundZ = 0,
): PropagationPath[] {
  const paths: PropagationPath[] = [];
  for (const img of imageSources(src, scene, reflections, groundZ)) {
    const r = Math.max(0.1, Math.hypot(img.pos[0] - mic[0], img.pos[1] - mic[1], img.pos[2] - mic[2]));
    const delaySamples = (r / scene.speedOfSoundMs) * scene.sampleRate;
    const { offset, kernel } = fractionalDelayKernel(delaySamples, scene.interpTaps);
    const a = airAbsorptionTap(r, scene.sampleRate);
    const gain = img.coef / r;
    // Convolve with [a, 1−2a, a]; the centred 3-tap filter adds one sample, so shift back by one.
    const k2 = new Float32Array(kernel.length + 2);
    for (let k = 0; k < kernel.length; k++) {
      k2[k] += a * kernel[k] * gain;
      k2[k + 1] += (1 - 2 * a) * kernel[k] * gain;
      k2[k + 2] += a * kernel[k] * gain;
    }
    paths.push({ delayInt: offset - 1, kernel: k2, delaySamples, distanceM: r, kind: img.kind });
  }
  return paths;
}
