/**
 * Stages of the detection path without the model, one 48 kHz sensor in 100 ms blocks: the
 * classifier's resampler (48k→16k), the A-weighting filter on the model-rate stream (16 kHz),
 * the onset detector on the sensor-rate stream, and the whole Detector with a model that
 * returns constant scores (everything but inference). Prints the median CPU time per second of
 * audio (= real-time factor) over several runs; compare runs on one machine, not absolutes.
 *
 *   npx tsx bench/detect-stages.ts [--runs 7] [--seconds 60]
 */
import { CLASSIFIER_KERNEL, Resampler } from '../lib/audio/resample';
import { Detector } from '../lib/detect/detector';
import { OnsetDetector } from '../lib/detect/onset';
import { ScoringModel } from '../lib/detect/model';
import { AWeightingFilter } from '../lib/dsp/aweighting';
import { streetNoise } from '../lib/sim/signals';
import { numberArg } from './args';

const arg = numberArg;

const RUNS = arg('runs', 7);
const SECONDS = arg('seconds', 60);
const SR_HZ = 48000;
const MODEL_SR_HZ = 16000;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)];
}

/** CPU seconds of fn per second of audio (user + system). */
function rtfOf(fn: () => void): number {
  const c0 = process.cpuUsage();
  fn();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1e6 / SECONDS;
}

async function rtfOfAsync(fn: () => Promise<void>): Promise<number> {
  const c0 = process.cpuUsage();
  await fn();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1e6 / SECONDS;
}

function blocks(x: Float32Array, rate: number): Float32Array[] {
  const n = Math.round(rate / 10);
  const out: Float32Array[] = [];
  for (let s = 0; s + n <= x.length; s += n) out.push(x.subarray(s, s + n));
  return out;
}

/** Constant scores: the Detector's own work without inference (a model's labels, window and rate). */
function constantModel(): ScoringModel {
  const labels = ['gunshot', 'glass_break', 'scream', 'background'];
  const scores = Float32Array.from([0.01, 0.01, 0.01, 0.97]);
  return {
    card: { name: 'constant' },
    labels,
    alertLabels: labels.slice(0, 3),
    sampleRateHz: MODEL_SR_HZ,
    windowSamples: MODEL_SR_HZ,
    infer: async (windows) => windows.map(() => scores),
    publicScores: (s) => Object.fromEntries(labels.map((l, i) => [l, s[i]])),
    isVoice: () => false,
  };
}

async function main(): Promise<void> {
  const x48 = streetNoise(SECONDS * SR_HZ, 0.004, 99);
  const b48 = blocks(x48, SR_HZ);
  const b16 = blocks(new Resampler(SR_HZ, MODEL_SR_HZ, CLASSIFIER_KERNEL).process(x48), MODEL_SR_HZ);
  const stages: Array<[string, () => number | Promise<number>]> = [
    ['resampler 48k→16k (classifier kernel)', () => rtfOf(() => { const r = new Resampler(SR_HZ, MODEL_SR_HZ, CLASSIFIER_KERNEL); for (const b of b48) r.process(b); })],
    ['A-weighting at 16 kHz', () => rtfOf(() => { const f = new AWeightingFilter(MODEL_SR_HZ); for (const b of b16) f.process(b); })],
    ['onset detector at 48 kHz', () => rtfOf(() => { const o = new OnsetDetector({ sampleRateHz: SR_HZ }); let s = 0; for (const b of b48) { o.process(b, s); s += b.length; } })],
    ['Detector, constant-score model', () => rtfOfAsync(async () => {
      const det = new Detector({ model: constantModel(), sensor: 'bench' });
      let s = 0;
      for (const b of b48) { await det.process({ start: s, time: s / SR_HZ, sampleRate: SR_HZ, channels: [b] }); s += b.length; }
    })],
  ];
  console.log(`detection path stages, ${SECONDS} s of 48 kHz street noise in 100 ms blocks, median of ${RUNS} runs after a warm-up`);
  console.log('stage                                    real-time factor');
  for (const [name, run] of stages) {
    await run(); // warm-up (JIT)
    const r: number[] = [];
    for (let k = 0; k < RUNS; k++) r.push(await run());
    console.log(`${name.padEnd(40)} ${median(r).toFixed(5)}`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
