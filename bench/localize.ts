/**
 * Localization benchmark: compute time per located event (single-array SRP-PHAT on a
 * detection span, and multi-sensor fusion) and the simulated street's real-time factor
 * (rendering every sensor's channels, block by block, as the live feed does).
 * Prints medians and p95.
 *
 *   npx tsx bench/localize.ts [--events 30] [--seconds 60] [--scene street-demo]
 */
import { diffDeg, bearingDeg } from '../lib/localize/geo';
import { estimateDoa } from '../lib/localize/srp';
import { Observation, fuseObservations } from '../lib/localize/fusion';
import { SceneRenderer } from '../lib/sim/render';
import { loadScene, parseScene } from '../lib/sim/scene';
import { textArg } from './args';

const arg = textArg;

const EVENTS = Number(arg('events', '30'));
const SECONDS = Number(arg('seconds', '60'));
const SCENE = arg('scene', 'street-demo');

function stats(xs: number[]): { median: number; p95: number; n: number } {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * (s.length - 1) + 0.5))];
  return { median: q(0.5), p95: q(0.95), n: s.length };
}

const fmt = (v: number, d = 2) => v.toFixed(d);

// 1. Single-array DOA per event: 400 ms spans of a 4-mic and a 7-mic array at 48 kHz.
for (const preset of ['square-4', 'circular-7']) {
  const doaMs: number[] = [];
  const errs: number[] = [];
  for (let k = 0; k < EVENTS; k++) {
    const b = (k * 137.5) % 360;
    const scene = parseScene({
      origin: { lat: 45, lon: 4 },
      seed: k + 1,
      sensors: [{ id: 's', position: [0, 0], heightM: 4, array: preset }],
      sources: [{ id: 'x', synth: { type: 'noise-burst', durationMs: 300 }, position: [25 * Math.sin((b * Math.PI) / 180), 25 * Math.cos((b * Math.PI) / 180), 1.5], onsetSec: 0.1 }],
      background: { noise: { color: 'traffic', level: { dbSpl: 66 } } },
    });
    const span = new SceneRenderer(scene).render(Math.round(0.4 * 48000))[0];
    const t0 = performance.now();
    const r = estimateDoa(span, scene.sensors[0].mics, { sampleRate: 48000, speedOfSoundMs: scene.speedOfSoundMs });
    doaMs.push(performance.now() - t0);
    errs.push(Math.abs(diffDeg(r.bearingDeg, b)));
  }
  const s = stats(doaMs);
  const e = stats(errs);
  console.log(`doa ${preset}: ${s.n} events, compute per event median ${fmt(s.median)} ms, p95 ${fmt(s.p95)} ms (bearing error median ${fmt(e.median)}°, p95 ${fmt(e.p95)}°)`);
}

// 2. Fusion per incident: 4 sensors with bearings and synchronised onsets.
{
  const fuseMs: number[] = [];
  const sensors: [number, number][] = [
    [-20, -15],
    [25, -10],
    [5, 30],
    [-25, 22],
  ];
  for (let k = 0; k < EVENTS * 10; k++) {
    const src: [number, number] = [((k * 7) % 30) - 15, ((k * 11) % 30) - 15];
    const obs: Observation[] = sensors.map(([e, n], i) => ({
      detectionId: `${k}-${i}`,
      sensor: `s${i}`,
      label: 'gunshot',
      onsetSec: 100 + Math.hypot(src[0] - e, src[1] - n, 2.5) / 343 + (i % 2 ? 1e-4 : -1e-4),
      e,
      n,
      z: 4,
      lat: 0,
      lon: 0,
      clock: 'ptp',
      clockErrorMs: 0.1,
      bearingDeg: bearingDeg(e, n, src[0], src[1]) + (i - 1.5) * 0.5,
      bearingStdDeg: 1,
      confidence: 0.9,
      payload: null,
    }));
    const t0 = performance.now();
    fuseObservations(obs, { speedOfSoundMs: 343 });
    fuseMs.push(performance.now() - t0);
  }
  const s = stats(fuseMs);
  console.log(`fusion (4 sensors, TDOA + bearings): ${s.n} incidents, compute median ${fmt(s.median)} ms, p95 ${fmt(s.p95)} ms`);
}

// 3. Simulator real-time factor: render the scene as the live feed does (100 ms blocks).
{
  const scene = loadScene(SCENE);
  const warnings: string[] = [];
  const r = new SceneRenderer(scene, { onWarning: (m) => warnings.push(m) });
  const block = Math.round(0.1 * scene.sampleRate);
  const blockMs: number[] = [];
  const blocks = Math.round(SECONDS / 0.1);
  const t0 = performance.now();
  for (let i = 0; i < blocks; i++) {
    const b0 = performance.now();
    r.render(block);
    blockMs.push(performance.now() - b0);
  }
  const total = (performance.now() - t0) / 1000;
  const mics = scene.sensors.reduce((a, s) => a + s.mics.length, 0);
  const s = stats(blockMs);
  console.log(
    `simulator "${scene.name}" (${scene.sensors.length} sensors, ${mics} channels, ${scene.sampleRate} Hz): ${SECONDS} s rendered in ${fmt(total)} s → real-time factor ${fmt(total / SECONDS, 3)} ` +
      `(100 ms block: median ${fmt(s.median)} ms, p95 ${fmt(s.p95)} ms, max ${fmt(Math.max(...blockMs))} ms; ${r.events.length} events)`,
  );
  for (const w of warnings) console.log(`  note: ${w}`);
}
