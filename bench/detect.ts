/**
 * Detection benchmark for one sensor on one core (the model session uses one thread):
 *   1. real-time factor of the whole detection path (mono mix, A-weighted levels, background,
 *      onsets, resampling to the model's rate, windows, model, event logic) on 48 kHz audio
 *      (or --rate, e.g. 44100);
 *   2. per-inference latency of one window;
 *   3. onset-to-result latency in real-time replay: blocks of 100 ms are delivered at the pace
 *      of capture, and for every event we measure the wall time from the event's first sample
 *      being captured to (a) the onset-triggered window being classified and (b) the detection.
 * Events are real clips from ../shared/data when present (gunshot, glass_break, scream),
 * otherwise synthetic bursts (then only (a) is meaningful). Prints medians and p95.
 *
 *   npx tsx bench/detect.ts [--seconds 120] [--runs 5] [--rate 48000] [--replay-seconds 40] [--model FILE.onnx] [--lookahead-ms 200] [--per-event]
 *
 * --per-event lists each replay event's detection latency (to compare two models event by event).
 */
import * as fs from 'fs';
import * as path from 'path';
import { resample } from '../lib/audio/resample';
import { readWavFile } from '../lib/audio/wav';
import { parseCsv } from '../lib/cli/eval-detect';
import { Detector } from '../lib/detect/detector';
import { ClassifierModel } from '../lib/detect/model';
import { defaultModelPath } from '../lib/detect/model-source';
import { findAttack, streetNoise } from '../lib/sim/signals';
import { textArg } from './args';

const arg = textArg;

const SECONDS = Number(arg('seconds', '120'));
const REPLAY_SECONDS = Number(arg('replay-seconds', '40'));
const MODEL = arg('model', defaultModelPath());
const LOOKAHEAD_MS = Number(arg('lookahead-ms', '200'));
const RUNS = Number(arg('runs', '5'));
const PER_EVENT = process.argv.includes('--per-event');
const SR = Number(arg('rate', '48000'));
const BLOCK = Math.round(SR / 10);
const DATA = process.env.VIGIE_DATA_DIR ?? path.resolve(__dirname, '..', '..', 'shared', 'data');

function stats(xs: number[]): { median: number; p95: number; n: number } {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * (s.length - 1) + 0.5))];
  return { median: q(0.5), p95: q(0.95), n: s.length };
}

interface EventClip {
  label: string;
  x: Float32Array;
  /** Seconds from the clip start to its energy onset. */
  onsetS: number;
}

function eventClips(): { clips: EventClip[]; source: string } {
  const manifest = path.join(DATA, 'urban-sounds', 'manifest.csv');
  if (fs.existsSync(manifest)) {
    const rows = parseCsv(fs.readFileSync(manifest, 'utf8'));
    const h = rows[0];
    const clips: EventClip[] = [];
    for (const label of ['gunshot', 'glass_break', 'scream']) {
      const list = rows
        .slice(1)
        .filter((r) => r[h.indexOf('label')] === label && r[h.indexOf('kind')] === 'real' && Number(r[h.indexOf('duration_s')]) <= 3)
        .map((r) => r[h.indexOf('path')])
        .sort();
      for (let k = 0; k < 4 && list.length; k++) {
        const w = readWavFile(path.join(DATA, 'urban-sounds', list[Math.floor((k * list.length) / 4)]));
        const x = resample(w.channels[0], w.sampleRate, SR);
        clips.push({ label, x, onsetS: findAttack(x, SR) / SR });
      }
    }
    return { clips, source: 'real clips (gunshot, glass_break, scream)' };
  }
  const clips: EventClip[] = [];
  for (let k = 0; k < 6; k++) {
    const x = streetNoise(SR / 2, 0, 1);
    const r = streetNoise(SR / 2, 0.6, 10 + k);
    for (let i = 0; i < x.length; i++) x[i] = r[i] * Math.exp(-i / (0.03 * SR));
    clips.push({ label: 'burst', x, onsetS: 0 });
  }
  return { clips, source: 'synthetic bursts (no data folder)' };
}

/** Street background with events every `everyS` seconds; returns the signal and true onsets (s). */
function scene(seconds: number, clips: EventClip[], everyS: number): { x: Float32Array; events: Array<{ label: string; onsetS: number }> } {
  const x = streetNoise(Math.round(seconds * SR), 0.004, 99);
  const events: Array<{ label: string; onsetS: number }> = [];
  let k = 0;
  for (let t = 3; t + 3 < seconds; t += everyS, k++) {
    const c = clips[k % clips.length];
    const at = Math.round(t * SR);
    for (let i = 0; i < c.x.length && at + i < x.length; i++) x[at + i] += c.x[i];
    events.push({ label: c.label, onsetS: t + c.onsetS });
  }
  return { x, events };
}

async function main(): Promise<void> {
  const model = await ClassifierModel.load(MODEL);
  const { clips, source } = eventClips();
  console.log(`model ${model.card.name} (${path.basename(MODEL)}), ${model.windowSamples} samples at ${model.sampleRateHz} Hz; events: ${source}`);

  // 1. Real-time factor, as fast as possible: one warm-up pass (JIT, first inferences), then
  // RUNS measured passes over the same scene; a running node is in that steady state.
  {
    const { x, events } = scene(SECONDS, clips, 5);
    const pass = async (n: number) => {
      const det = new Detector({ model, sensor: 'bench' });
      const cpu0 = process.cpuUsage();
      let detections = 0;
      let windows = 0;
      for (let s = 0; s + BLOCK <= n; s += BLOCK) {
        const out = await det.process({ start: s, time: s / SR, sampleRate: SR, channels: [x.subarray(s, s + BLOCK)] });
        detections += out.detections.length;
        windows += out.windows.length;
      }
      const cpu = process.cpuUsage(cpu0);
      const audioS = n / SR;
      return { rtf: (cpu.user + cpu.system) / 1e6 / audioS, model: det.inferenceMs / 1000 / audioS, inferences: det.inferenceCount, windows, detections };
    };
    const first = await pass(Math.min(x.length, 20 * SR));
    const runs = [];
    for (let r = 0; r < RUNS; r++) runs.push(await pass(x.length));
    const rtf = stats(runs.map((r) => r.rtf));
    const inModel = stats(runs.map((r) => r.model));
    const last = runs[runs.length - 1];
    console.log(`\n1. whole detection path, ${SECONDS} s of ${SR / 1000} kHz mono with ${events.length} events, ${RUNS} passes after a warm-up`);
    console.log(`   real-time factor (CPU s / audio s): median ${rtf.median.toFixed(4)}, range ${Math.min(...runs.map((r) => r.rtf)).toFixed(4)}–${Math.max(...runs.map((r) => r.rtf)).toFixed(4)}; in the model: median ${inModel.median.toFixed(4)}`);
    console.log(`   first 20 s from a cold start: ${first.rtf.toFixed(4)} (JIT and first inferences)`);
    console.log(`   per pass: ${last.windows} windows classified (${last.inferences} inferences), ${last.detections} detections`);
  }

  // 2. Per-inference latency.
  {
    const w = streetNoise(model.windowSamples, 0.05, 3);
    for (let i = 0; i < 10; i++) await model.infer([w]);
    const ms: number[] = [];
    for (let i = 0; i < 200; i++) {
      const t = performance.now();
      await model.infer([w]);
      ms.push(performance.now() - t);
    }
    const s = stats(ms);
    console.log(`\n2. one window (${model.windowSamples} samples): median ${s.median.toFixed(2)} ms, p95 ${s.p95.toFixed(2)} ms (n=${s.n})`);
  }

  // 3. Real-time replay: blocks delivered at capture pace.
  {
    const { x, events } = scene(REPLAY_SECONDS, clips, 4);
    const det = new Detector({ model, sensor: 'replay', onsetLookaheadMs: LOOKAHEAD_MS });
    const onsetWindowMs: number[] = [];
    const seenOnsetWindow = new Set<number>();
    // Per event (index): its first detection's latency and label.
    const detected = new Map<number, { ms: number; label: string }>();
    const start = performance.now();
    const nearest = (t: number) => events.findIndex((e) => Math.abs(e.onsetS - t) <= 0.5);
    for (let s = 0; s + BLOCK <= x.length; s += BLOCK) {
      const due = start + ((s + BLOCK) / SR) * 1000; // the block is complete at capture time
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const out = await det.process({ start: s, time: s / SR, sampleRate: SR, channels: [x.subarray(s, s + BLOCK)] });
      const now = performance.now();
      for (const w of out.windows) {
        if (w.trigger !== 'onset') continue;
        // the onset window ends shortly after the event: attribute it to the event it contains
        const k = events.findIndex((e) => e.onsetS >= w.start && e.onsetS <= w.end && w.end - e.onsetS <= 0.5);
        if (k >= 0 && !seenOnsetWindow.has(k)) {
          seenOnsetWindow.add(k);
          onsetWindowMs.push(now - (start + events[k].onsetS * 1000));
        }
      }
      for (const d of out.detections) {
        const k = nearest(d.onset);
        if (k >= 0 && !detected.has(k)) detected.set(k, { ms: now - (start + events[k].onsetS * 1000), label: d.label });
      }
    }
    const a = stats(onsetWindowMs);
    const detectionMs = [...detected.values()].map((d) => d.ms);
    console.log(`\n3. real-time replay, ${REPLAY_SECONDS} s, ${events.length} events, 100 ms blocks, onset window ${LOOKAHEAD_MS} ms after the onset`);
    console.log(`   event onset → onset window classified: median ${a.median?.toFixed(0)} ms, p95 ${a.p95?.toFixed(0)} ms (${a.n}/${events.length} events had an onset window)`);
    if (detectionMs.length) {
      const b = stats(detectionMs);
      console.log(`   event onset → detection emitted:       median ${b.median.toFixed(0)} ms, p95 ${b.p95.toFixed(0)} ms (${b.n}/${events.length} events detected)`);
    } else console.log(`   no event detected by this model in the replay (detection latency not measurable)`);
    if (PER_EVENT) {
      events.forEach((e, k) => {
        const d = detected.get(k);
        console.log(`   event ${k} ${e.label} at ${e.onsetS.toFixed(2)} s: ${d ? `${d.ms.toFixed(0)} ms (${d.label})` : 'not detected'}`);
      });
    }
  }
  await model.release();
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
