/**
 * One event of the street demo, one alert. The demo's chain without Node-RED and without a
 * browser: the simulated street (synthetic stand-ins for the shared clips, as an installed
 * package plays it) in 100 ms blocks → each gateway's ring and detector with the shipped
 * flow's classifier settings and the shipped model → the fusion localizer with the shipped
 * flow's settings, fed as the node feeds it (each detection when its block is classified,
 * the timer's polls between). A sound whose end or second half is classified again must not
 * make a second alert (nor turn a camera the wrong way).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { closeRing, openRing } from '../../lib/audio/registry';
import { AudioRing } from '../../lib/audio/ring';
import { Alert } from '../../lib/contracts';
import { Detector } from '../../lib/detect/detector';
import { ClassifierModel } from '../../lib/detect/model';
import { defaultModelPath } from '../../lib/detect/model-source';
import { geodeticToEnu } from '../../lib/localize/geo';
import { FusionLocalizer, LocateFailure, SensorGeometry } from '../../lib/localize/localizer';
import { SceneEvent, SceneRenderer } from '../../lib/sim/render';
import { loadScene } from '../../lib/sim/scene';
import { tempDir } from '../support/tmp';

const ROOT = path.join(__dirname, '..', '..');
// The first 14 events; the 8th (a 1.5 s tone) and the 14th (a 1.5 s noise burst) were heard
// again ~2 s in, on the street after them, and made three and two alerts.
const DURATION_S = 430;
const T0 = 1_700_000_000;

type FlowNode = Record<string, unknown>;

test('street demo without the shared clips: every event makes one alert, at its place', { timeout: 180_000 }, async () => {
  const flow = JSON.parse(fs.readFileSync(path.join(ROOT, 'flows', 'street-demo.json'), 'utf8')) as FlowNode[];
  const classifiers = flow.filter((n) => n.type === 'acoustic-classifier');
  const fuse = flow.find((n) => n.type === 'localizer' && n.mode === 'fusion');
  assert.ok(classifiers.length === 3 && fuse, 'the street demo has three classifiers and a fusion localizer');
  const cls = classifiers[0];
  for (const other of classifiers) {
    for (const k of ['threshold', 'hysteresis', 'hopMs', 'minAboveBackgroundDb', 'minLevelDba', 'coolDownMs', 'minDurationMs', 'labels', 'channel']) {
      assert.deepEqual(other[k], cls[k], `classifier ${String(other.id)}: ${k} differs from ${String(cls.id)}`);
    }
    assert.deepEqual(other.thresholds, {}, `classifier ${String(other.id)}: per-class thresholds are not read by this test`);
  }
  assert.equal(cls.channel, 'mix');
  assert.equal(cls.minLevelDba, '');

  const scene = loadScene('street-demo', { dataDir: tempDir('vigie-no-data-') });
  const warnings: string[] = [];
  const renderer = new SceneRenderer(scene, { onWarning: (m) => warnings.push(m) });
  const events: SceneEvent[] = [];
  renderer.onEvent((e) => events.push(e));
  const model = await ClassifierModel.load(defaultModelPath());
  const rings: AudioRing[] = [];
  try {
    const sr = scene.sampleRate;
    const gateways = scene.sensors.map((s) => {
      rings.push(openRing({ sensor: s.id, sampleRate: sr, channels: s.mics.length, seconds: 5 }));
      const detector = new Detector({
        model,
        sensor: s.id,
        labels: cls.labels as string[],
        threshold: Number(cls.threshold),
        hysteresis: Number(cls.hysteresis),
        hopMs: Number(cls.hopMs),
        minAboveBackgroundDb: Number(cls.minAboveBackgroundDb),
        minDurationMs: Number(cls.minDurationMs),
        coolDownMs: Number(cls.coolDownMs),
      });
      const geometry: SensorGeometry = { id: s.id, lat: s.lat, lon: s.lon, heightM: s.heightM, headingDeg: s.headingDeg, mics: s.mics, clock: s.clock, clockErrorMs: s.clockErrorMs };
      return { s, ring: rings[rings.length - 1], detector, geometry };
    });
    const fusion = new FusionLocalizer({
      temperatureC: Number(fuse.temperatureC),
      windowMs: Number(fuse.windowMs),
      minConfidence: Number(fuse.minConfidence),
      minSensors: Number(fuse.minSensors),
      timeoutMs: Number(fuse.timeoutMs),
      onsetToleranceMs: Number(fuse.onsetToleranceMs),
      maxClockErrorMs: Number(fuse.maxClockErrorMs),
      sourceHeightM: Number(fuse.sourceHeightM),
      continuationSec: Number(fuse.continuationS),
    });
    const alerts: Alert[] = [];
    // Locating never fails on the demo (a failure would send its incident unlocated).
    const failures: LocateFailure[] = [];
    const block = Math.round(0.1 * sr);
    while (renderer.frame < DURATION_S * sr) {
      const start = renderer.frame;
      const channels = renderer.render(block);
      const nowMs = (T0 + (start + block) / sr) * 1000;
      for (let i = 0; i < gateways.length; i++) {
        const g = gateways[i];
        g.ring.write(channels[i]);
        const out = await g.detector.process({ start, time: T0 + start / sr + g.s.clockOffsetMs / 1000, sampleRate: sr, channels: channels[i] });
        for (const d of out.detections) {
          const r = fusion.add(d, g.geometry, nowMs);
          alerts.push(...r.ready);
          failures.push(...r.failures);
        }
      }
      const polled = fusion.poll(nowMs);
      alerts.push(...polled.ready);
      failures.push(...polled.failures);
    }
    const last = fusion.poll(Infinity);
    alerts.push(...last.ready);
    failures.push(...last.failures);
    assert.deepEqual(failures, []);

    assert.ok(warnings.some((w) => /synthetic events/.test(w)), `warnings: ${warnings.join(' | ')}`);
    assert.ok(events.length >= 12 && events.every((e) => e.signal.startsWith('synth:')), `events: ${events.map((e) => `${e.label} ${e.signal}`).join(', ')}`);
    // Each alert to the event whose emission precedes its first report most closely.
    const firstReport = (a: Alert) => Math.min(...((a as Alert & { incident: { reports: Array<{ onset: number }> } }).incident.reports.map((r) => r.onset))) - T0;
    const byEvent = events.map(() => [] as Alert[]);
    const strays: Alert[] = [];
    for (const a of alerts) {
      const t = firstReport(a);
      let k = -1;
      events.forEach((e, i) => {
        if (e.emitSec <= t + 0.05 && (k < 0 || e.emitSec > events[k].emitSec)) k = i;
      });
      if (k >= 0 && t - events[k].emitSec < 10) byEvent[k].push(a);
      else strays.push(a);
    }
    const report = events.map((e, i) => {
      const placed = byEvent[i].map((a) => {
        const p = a.location?.position;
        if (!p) return `${a.label} (${a.location?.method})`;
        const [pe, pn] = geodeticToEnu({ lat: p.lat, lon: p.lon, alt: scene.origin.alt }, scene.origin);
        return `${a.label} ${Math.hypot(pe - e.positionEnu[0], pn - e.positionEnu[1]).toFixed(1)} m off, first report +${(firstReport(a) - e.emitSec).toFixed(2)} s`;
      });
      return `${e.label}@${e.emitSec.toFixed(1)}s: ${placed.join('; ') || 'no alert'}`;
    });
    const why = `\n${report.join('\n')}\nstrays: ${strays.length}`;
    assert.equal(strays.length, 0, why);
    assert.deepEqual(byEvent.map((a) => a.length), events.map(() => 1), why);
    // Where it happened (the camera turns there).
    for (const [i, e] of events.entries()) {
      const p = byEvent[i][0].location?.position;
      assert.ok(p, `${e.label}@${e.emitSec.toFixed(1)}s placed${why}`);
      const [pe, pn] = geodeticToEnu({ lat: p.lat, lon: p.lon, alt: scene.origin.alt }, scene.origin);
      assert.ok(Math.hypot(pe - e.positionEnu[0], pn - e.positionEnu[1]) < 3, `${e.label}@${e.emitSec.toFixed(1)}s placed within 3 m${why}`);
    }
  } finally {
    for (const r of rings) closeRing(r);
    await model.release();
  }
});
