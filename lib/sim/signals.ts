/**
 * Source signals of the simulated street: a seeded random generator, synthetic events
 * (impulse, noise burst, tone), clips from WAV files (resampled, trimmed to the event) and
 * noise beds. Everything is deterministic for a seed. Samples stay in memory (DESIGN §4).
 */
import * as fs from 'fs';
import * as path from 'path';
import { readWavFile } from '../audio/wav';
import { resample } from '../audio/resample';
import { SynthSpec } from './scene';

/** mulberry32: small, fast, deterministic. */
export function makeRng(seed: number): () => number {
  let a = (Math.floor(seed) ^ 0x9e3779b9) >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Deterministic broadband noise with a brownish low end (white + leaky-integrated white): a
 * crude street bed for tests and benchmarks. `amp` scales it; the same seed gives the same samples.
 */
export function streetNoise(n: number, amp: number, seed: number): Float32Array {
  const x = new Float32Array(n);
  let s = seed >>> 0;
  let brown = 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const w = (s / 2 ** 32) * 2 - 1;
    brown = 0.98 * brown + 0.2 * w;
    x[i] = amp * (0.5 * w + brown);
  }
  return x;
}

/** Standard normal from a uniform generator (Box–Muller). */
export function gaussian(rng: () => number): number {
  const u = Math.max(rng(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}

/** A prepared event signal at the scene rate, scaled to RMS 1 over its loudest 100 ms. */
export interface EventSignal {
  samples: Float32Array;
  /** Offset of the sound's attack from the signal start, s (the true onset). */
  attackSec: number;
}

/** RMS over the loudest 100 ms window (hop 10 ms). */
export function loudestRms(x: Float32Array, sampleRate: number): number {
  const win = Math.max(1, Math.round(0.1 * sampleRate));
  const hop = Math.max(1, Math.round(0.01 * sampleRate));
  let best = 0;
  if (x.length <= win) {
    let s = 0;
    for (let i = 0; i < x.length; i++) s += x[i] * x[i];
    return Math.sqrt(s / Math.max(1, x.length));
  }
  for (let start = 0; start + win <= x.length; start += hop) {
    let s = 0;
    for (let i = start; i < start + win; i++) s += x[i] * x[i];
    if (s > best) best = s;
  }
  return Math.sqrt(best / win);
}

/** First frame where the 2 ms energy envelope rises to within 20 dB of its peak. */
export function findAttack(x: Float32Array, sampleRate: number): number {
  const win = Math.max(1, Math.round(0.002 * sampleRate));
  const env: number[] = [];
  let peak = 0;
  for (let s = 0; s + win <= x.length; s += win) {
    let e = 0;
    for (let i = s; i < s + win; i++) e += x[i] * x[i];
    env.push(e);
    if (e > peak) peak = e;
  }
  const thr = peak * 0.01;
  const k = env.findIndex((e) => e >= thr);
  if (k < 0) return 0;
  // Refine inside the window to the first sample above 10 % of the window's peak amplitude.
  let maxAbs = 0;
  for (let i = k * win; i < (k + 1) * win; i++) maxAbs = Math.max(maxAbs, Math.abs(x[i]));
  for (let i = k * win; i < (k + 1) * win; i++) if (Math.abs(x[i]) >= maxAbs * 0.1) return i;
  return k * win;
}

function normalise(x: Float32Array, sampleRate: number): Float32Array {
  const rms = loudestRms(x, sampleRate);
  if (rms > 0) for (let i = 0; i < x.length; i++) x[i] /= rms;
  return x;
}

/** One-pole band limiting (cheap, enough for synthetic events). */
function bandLimit(x: Float32Array, sampleRate: number, lowHz: number, highHz: number): void {
  const aHi = Math.exp((-2 * Math.PI * Math.min(highHz, sampleRate * 0.45)) / sampleRate);
  const aLo = Math.exp((-2 * Math.PI * Math.max(lowHz, 1)) / sampleRate);
  let lp = 0;
  let lowState = 0;
  for (let i = 0; i < x.length; i++) {
    lp = (1 - aHi) * x[i] + aHi * lp;
    lowState = (1 - aLo) * lp + aLo * lowState;
    x[i] = lp - lowState;
  }
}

/** Render a synthetic event. The attack is at 10 ms. */
export function synthesise(spec: SynthSpec, sampleRate: number, rng: () => number): EventSignal {
  const pre = Math.round(0.01 * sampleRate);
  const dur = Math.max(1, Math.round(((spec.durationMs ?? 300) / 1000) * sampleRate));
  const x = new Float32Array(pre + dur);
  if (spec.type === 'impulse') {
    // Gunshot-like: a sharp N-wave (~1 ms) followed by a decaying broadband tail.
    const nw = Math.max(2, Math.round(0.001 * sampleRate));
    for (let i = 0; i < nw; i++) x[pre + i] = 1 - (2 * i) / (nw - 1);
    const tau = 0.04 * sampleRate;
    for (let i = nw; i < dur; i++) x[pre + i] = 0.25 * gaussian(rng) * Math.exp(-(i - nw) / tau);
  } else if (spec.type === 'noise-burst') {
    const tau = ((spec.decayMs ?? 150) / 1000) * sampleRate;
    const rise = Math.max(1, Math.round(0.0005 * sampleRate));
    for (let i = 0; i < dur; i++) x[pre + i] = gaussian(rng) * Math.exp(-i / tau) * Math.min(1, (i + 1) / rise);
    bandLimit(x, sampleRate, spec.lowHz ?? 100, spec.highHz ?? 12000);
  } else {
    const f0 = spec.freqHz;
    const f1 = spec.sweepToHz ?? f0;
    const harmonics = spec.harmonics ?? 1;
    let phase = 0;
    const ramp = Math.round(0.005 * sampleRate);
    for (let i = 0; i < dur; i++) {
      const f = f0 + ((f1 - f0) * i) / dur;
      phase += (2 * Math.PI * f) / sampleRate;
      let v = 0;
      for (let h = 1; h <= harmonics; h++) if (f * h < sampleRate / 2) v += Math.sin(h * phase) / h;
      const env = Math.min(1, i / ramp, (dur - i) / ramp);
      x[pre + i] = v * env;
    }
  }
  return { samples: normalise(x, sampleRate), attackSec: pre / sampleRate };
}

/** Synthetic stand-in for an alert label when the data dir is missing. */
export function synthFor(label: string): SynthSpec {
  switch (label) {
    case 'gunshot':
      return { type: 'impulse', durationMs: 400 };
    case 'explosion':
      return { type: 'noise-burst', durationMs: 1500, decayMs: 400, lowHz: 30, highHz: 3000 };
    case 'glass_break':
      return { type: 'noise-burst', durationMs: 800, decayMs: 120, lowHz: 1500, highHz: 14000 };
    case 'crash':
      return { type: 'noise-burst', durationMs: 1500, decayMs: 350, lowHz: 60, highHz: 8000 };
    case 'scream':
      return { type: 'tone', freqHz: 900, sweepToHz: 1300, durationMs: 1200, harmonics: 6 };
    case 'tire_skid':
      return { type: 'tone', freqHz: 1800, sweepToHz: 1500, durationMs: 1500, harmonics: 4 };
    default:
      return { type: 'noise-burst', durationMs: 500, decayMs: 150 };
  }
}

const clipCache = new Map<string, EventSignal>();

/**
 * Load a clip (mono mix), resample it to the scene rate, keep `maxDurationSec` from 20 ms
 * before its attack, and normalise. Cached per path, rate and length.
 */
export function loadClip(clipPath: string, sampleRate: number, maxDurationSec: number, trim = true): EventSignal {
  const key = `${clipPath}|${sampleRate}|${maxDurationSec}|${trim}`;
  const hit = clipCache.get(key);
  if (hit) return hit;
  const wav = readWavFile(clipPath);
  const n = wav.channels[0]?.length ?? 0;
  if (n === 0) throw new Error(`clip ${clipPath}: no samples`);
  let mono: Float32Array = new Float32Array(n);
  for (const ch of wav.channels) for (let i = 0; i < n; i++) mono[i] += ch[i] / wav.channels.length;
  if (wav.sampleRate !== sampleRate) mono = resample(mono, wav.sampleRate, sampleRate);
  let start = 0;
  if (trim) start = Math.max(0, findAttack(mono, sampleRate) - Math.round(0.02 * sampleRate));
  const end = Math.min(mono.length, start + Math.round(maxDurationSec * sampleRate));
  const samples = normalise(mono.slice(start, end), sampleRate);
  const sig = { samples, attackSec: trim ? findAttack(samples, sampleRate) / sampleRate : 0 };
  if (clipCache.size > 64) clipCache.clear();
  clipCache.set(key, sig);
  return sig;
}

export interface ManifestRow {
  path: string;
  label: string;
  kind: string;
  durationSec: number;
}

/** Read urban-sounds/manifest.csv of the data dir (empty when missing). */
export function readManifest(dataDir: string): ManifestRow[] {
  const file = path.join(dataDir, 'urban-sounds', 'manifest.csv');
  if (!fs.existsSync(file)) return [];
  const lines = fs.readFileSync(file, 'utf8').split(/\r?\n/).filter(Boolean);
  const head = splitCsvLine(lines[0]);
  const col = (n: string) => head.indexOf(n);
  const [ip, il, ik, id] = [col('path'), col('label'), col('kind'), col('duration_s')];
  return lines.slice(1).map((l) => {
    const c = splitCsvLine(l);
    return { path: path.join('urban-sounds', c[ip]), label: c[il], kind: c[ik], durationSec: Number(c[id]) };
  });
}

/** One CSV line with RFC 4180 quoting. */
export function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

/**
 * Noise bed generator with a colour: white, pink (Paul Kellet's filter) or "traffic"
 * (pink tilted further towards low frequencies, like distant road noise). Stateful per mic.
 */
export class NoiseBed {
  private b = new Float64Array(7);
  private lp = 0;
  private readonly gain: number;
  constructor(
    private readonly color: 'white' | 'pink' | 'traffic',
    private readonly rng: () => number,
    rmsTarget: number,
    sampleRate: number,
  ) {
    this.lpA = Math.exp((-2 * Math.PI * 700) / sampleRate);
    if (Number.isNaN(rmsTarget)) {
      this.gain = 1;
      return;
    }
    // Calibrate the filter's RMS with a private generator so the output RMS is `rmsTarget`.
    const probe = new NoiseBed(color, makeRng(12345), NaN, sampleRate);
    const buf = new Float32Array(sampleRate);
    probe.fill(buf, 0, buf.length);
    let s = 0;
    for (let i = 0; i < buf.length; i++) s += buf[i] * buf[i];
    this.gain = rmsTarget / Math.sqrt(s / buf.length || 1);
  }
  private lpA = 0;

  /** Add noise into out[from, to). */
  fill(out: Float32Array, from: number, to: number): void {
    const g = this.gain;
    const b = this.b;
    const rng = this.rng;
    for (let i = from; i < to; i++) {
      // Uniform white noise of unit variance: the colouring filters make it Gaussian enough,
      // and it costs a fraction of Box–Muller (12 channels at 48 kHz in real time).
      const w = (rng() - 0.5) * 3.4641016;
      let v: number;
      if (this.color === 'white') v = w;
      else {
        b[0] = 0.99886 * b[0] + w * 0.0555179;
        b[1] = 0.99332 * b[1] + w * 0.0750759;
        b[2] = 0.969 * b[2] + w * 0.153852;
        b[3] = 0.8665 * b[3] + w * 0.3104856;
        b[4] = 0.55 * b[4] + w * 0.5329522;
        b[5] = -0.7616 * b[5] - w * 0.016898;
        v = b[0] + b[1] + b[2] + b[3] + b[4] + b[5] + b[6] + w * 0.5362;
        b[6] = w * 0.115926;
        if (this.color === 'traffic') {
          this.lp = (1 - this.lpA) * v + this.lpA * this.lp;
          v = this.lp + 0.15 * v;
        }
      }
      out[i] += g * v;
    }
  }
}
