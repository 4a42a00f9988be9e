/**
 * The street demo as an installed package runs it: without the shared clips, the simulated
 * street plays synthetic stand-ins for its events (DESIGN §6). The Docker image's default flow
 * is that demo, so its classifiers, with the settings of the shipped flow and the shipped
 * model, must still hear every event at two sensors or more (what the localizer needs), and
 * the street bed alone must raise nothing. Labels are not asserted: the stand-ins are
 * plain bursts and tones, not the sounds the model was trained on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { main as evalDetect } from '../../lib/cli/eval-detect';
import { simulateToDir } from '../../lib/cli/simulate';
import { tempDir } from '../support/tmp';

const ROOT = path.join(__dirname, '..', '..');
// Four events (gunshot, glass break, scream, crash), the first 130 s of the scene: 12 channels
// at 48 kHz are held in memory while rendered, so no longer than needed.
const DURATION_S = 130;

interface Truth {
  speedOfSoundMs: number;
  sensors: Array<{ id: string; file: string; positionEnu: [number, number]; heightM: number }>;
  events: Array<{ label: string; emitSec: number; positionEnu: number[]; signal: string }>;
}

/** The shipped street demo's classifier settings, as `vigie eval detect` options. */
function shippedClassifierOptions(): string[] {
  const flow = JSON.parse(fs.readFileSync(path.join(ROOT, 'flows', 'street-demo.json'), 'utf8')) as Array<Record<string, unknown>>;
  const classifiers = flow.filter((n) => n.type === 'acoustic-classifier');
  assert.ok(classifiers.length >= 2, 'the street demo has classifiers');
  const c = classifiers[0];
  for (const other of classifiers) {
    for (const k of ['threshold', 'hysteresis', 'hopMs', 'minAboveBackgroundDb', 'coolDownMs', 'minDurationMs']) assert.equal(other[k], c[k], `classifier ${String(other.id)}: ${k} differs from ${String(c.id)}`);
    assert.deepEqual(other.thresholds, {}, `classifier ${String(other.id)}: per-class thresholds are not read by this test`);
  }
  return [
    '--threshold', String(c.threshold),
    '--hysteresis', String(c.hysteresis),
    '--hop-ms', String(c.hopMs),
    '--min-above-background-db', String(c.minAboveBackgroundDb),
    '--cool-down-ms', String(c.coolDownMs),
    '--min-duration-ms', String(c.minDurationMs),
  ];
}

test('street demo without the shared clips: the synthetic events are heard at two sensors or more, the street bed alone raises nothing', { timeout: 180_000 }, async () => {
  const out = tempDir('vigie-demo-synth-');
  const noData = tempDir('vigie-no-data-');
  const warnings: string[] = [];
  const saved = process.env.VIGIE_DATA_DIR;
  process.env.VIGIE_DATA_DIR = noData;
  try {
    simulateToDir('street-demo', out, { durationSec: DURATION_S, format: 'pcm16', onWarning: (m) => warnings.push(m) });
  } finally {
    if (saved === undefined) delete process.env.VIGIE_DATA_DIR;
    else process.env.VIGIE_DATA_DIR = saved;
  }
  const truth = JSON.parse(fs.readFileSync(path.join(out, 'truth.json'), 'utf8')) as Truth;
  // It did play stand-ins, of several kinds.
  assert.ok(truth.events.every((e) => e.signal.startsWith('synth:')), `signals: ${truth.events.map((e) => e.signal).join(', ')}`);
  assert.ok(new Set(truth.events.map((e) => e.label)).size >= 4, `labels played: ${truth.events.map((e) => e.label).join(', ')}`);
  assert.ok(warnings.some((w) => /synthetic events/.test(w)), `warnings: ${warnings.join(' | ')}`);

  const manifest = path.join(out, 'manifest.csv');
  fs.writeFileSync(manifest, `path,label\n${truth.sensors.map((s) => `${s.file},none`).join('\n')}\n`);
  const chunks: string[] = [];
  assert.equal(await evalDetect(['--manifest', manifest, '--details', ...shippedClassifierOptions()], (t) => chunks.push(t)), 0);
  const details = (JSON.parse(chunks.join('')) as { details: Array<{ path: string; detections: Array<{ label: string; onset: number }> }> }).details;

  const arrivalS = (e: Truth['events'][number], s: Truth['sensors'][number]): number => {
    const [x, y, z] = e.positionEnu;
    return e.emitSec + Math.hypot(x - s.positionEnu[0], y - s.positionEnu[1], z - s.heightM) / truth.speedOfSoundMs;
  };
  const report: string[] = [];
  let fewerThanTwo = 0;
  for (const e of truth.events) {
    const heardBy = truth.sensors.filter((s) => {
      const at = arrivalS(e, s);
      return details.find((d) => d.path === s.file)!.detections.some((d) => d.onset >= at - 0.1 && d.onset <= at + 1);
    });
    if (heardBy.length < 2) fewerThanTwo++;
    report.push(`${e.label}@${e.emitSec.toFixed(1)}s heard by ${heardBy.map((s) => s.id).join(', ') || 'none'}`);
  }
  assert.equal(fewerThanTwo, 0, `events heard by fewer than two sensors:\n${report.join('\n')}`);

  // Everything a classifier raised belongs to an event: its onset, or the event's own tail
  // (a long stand-in may be heard again once the cool-down is over).
  for (const d of details) {
    const s = truth.sensors.find((x) => x.file === d.path)!;
    const strays = d.detections.filter((det) => !truth.events.some((e) => det.onset >= arrivalS(e, s) - 0.1 && det.onset <= arrivalS(e, s) + 3));
    assert.deepEqual(strays, [], `${d.path}: detections far from any event`);
  }
});
