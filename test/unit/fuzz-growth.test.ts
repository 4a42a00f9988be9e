/**
 * Nothing a node keeps grows without bound when messages come with ids that never come again
 * (another system's detections, a function node's typo in a loop): the classes behind the nodes
 * are fed thousands of usable messages, each under a new id or sensor, and what each keeps per
 * id stays within its cap. (The malformed messages themselves: test/nodes/fuzz-inputs.test.ts.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AlertStore } from '../../lib/alerts/store';
import { PtzSteer } from '../../lib/camera/steer';
import { DroppedFieldWarnings, validateDetection } from '../../lib/contracts';
import { MAX_INCIDENTS } from '../../lib/localize/fusion';
import { FusionLocalizer } from '../../lib/localize/localizer';
import { ClockAheadWarnings } from '../../lib/util/clock';
import { Outbox } from '../../lib/util/outbox';

type Any = any; // eslint-disable-line @typescript-eslint/no-explicit-any

const N = 3000;
const NOW_S = 1_750_000_000;

/** The size of a private map or set of `o`. */
const sizeOf = (o: unknown, field: string): number => ((o as Any)[field] as Map<unknown, unknown> | Set<unknown>).size;

function located(id: string, sensor = 's1') {
  return {
    kind: 'detection', id, sensor, label: 'glass_break', confidence: 0.9, onset: NOW_S, offset: NOW_S + 0.2,
    level: { dbfs: -12 }, scores: { glass_break: 0.9 }, span: { sensor, start: 0, frames: 100 },
    location: { method: 'tdoa', position: { lat: 45.44, lon: 4.39, errorM: 3 }, sensors: [sensor] },
  };
}

test('ptz-steer: alerts, dismissals and move requests under ids never seen again are kept within caps', async () => {
  let nowMs = 0;
  const steer = new PtzSteer(() => [], { now: () => nowMs, wallNow: () => NOW_S * 1000, maxAlertAgeMs: 1e12 });
  const outs: unknown[] = [];
  for (let i = 0; i < N; i++) {
    nowMs += 10;
    await steer.handle(located(`a-${i}`), (o) => outs.push(o));
    await steer.handle({ kind: 'decision', alertId: `d-${i}`, action: 'dismiss', operator: 'op', time: NOW_S }, () => undefined);
    await steer.handle({ kind: 'move-request', alertId: `m-${i}`, operator: 'op' }, () => undefined).catch(() => undefined);
  }
  assert.ok(outs.length >= N, 'each alert answered (no camera)');
  for (const [field, cap] of [['latestCopies', 1000], ['lastSent', 1000], ['dismissed', 500], ['proposals', 0], ['waiting', 0], ['inFlight', 0]] as const) {
    assert.ok(sizeOf(steer, field) <= cap, `${field}: ${sizeOf(steer, field)} kept, at most ${cap}`);
  }
  steer.close();
});

test('fusion localizer: detections of sensors and incidents never seen again are kept within caps', () => {
  let nowMs = 0;
  const fusion = new FusionLocalizer({ minSensors: 2, timeoutMs: 50 });
  for (let i = 0; i < N; i++) {
    nowMs += 10;
    const sensor = `gw-${i}`;
    const det = validateDetection({ ...located(`det-${i}`, sensor), location: undefined, onset: NOW_S + i * 60, offset: NOW_S + i * 60 + 0.2, sensorInfo: { lat: 45.44, lon: 4.39, clock: 'ntp' } });
    fusion.add(det, undefined, nowMs);
    fusion.poll(nowMs);
  }
  // Held incidents, and what was sent for them (kept for late reports), within the associator's cap.
  assert.ok(fusion.size <= MAX_INCIDENTS, `incidents: ${fusion.size}`);
  assert.ok(sizeOf(fusion, 'sent') <= MAX_INCIDENTS, `sent: ${sizeOf(fusion, 'sent')} kept, at most ${MAX_INCIDENTS}`);
  // And forgotten once keepMs (30 s) has passed (the last ones, sent at the first poll, at the next).
  for (let k = 0; k < 2; k++) fusion.poll((nowMs += 60_000));
  assert.equal(sizeOf(fusion, 'sent'), 0);
});

test('alert store: alerts under new ids beyond maxAlerts are dropped, and so is the memory of them', () => {
  const store = new AlertStore({ maxAlerts: 100 });
  for (let i = 0; i < N; i++) store.upsert({ ...located(`a-${i}`), location: undefined });
  assert.equal(store.size, 100);
  assert.ok(sizeOf(store, 'droppedIds') <= 100, `droppedIds: ${sizeOf(store, 'droppedIds')}`);
});

test('outbox: messages while the broker is down stay within maxMessages', () => {
  const box = new Outbox<{ payload: unknown }>({ maxMessages: 50 });
  for (let i = 0; i < N; i++) box.offer({ payload: located(`a-${i}`) }, false, () => undefined);
  assert.equal(box.size, 50);
  assert.ok(sizeOf(box, 'bySupersedeKey') <= 50, `bySupersedeKey: ${sizeOf(box, 'bySupersedeKey')}`);
});

test('warnings said once per sensor or field: a flood of new sensor ids and field names is kept within caps', () => {
  const ahead = new ClockAheadWarnings(() => undefined);
  for (let i = 0; i < N; i++) ahead.check(`gw-${i}`, NOW_S + 3600, NOW_S * 1000);
  assert.ok(sizeOf(ahead, 'lastWarnedMs') <= 1000, `lastWarnedMs: ${sizeOf(ahead, 'lastWarnedMs')}`);
  const dropped = new DroppedFieldWarnings(() => undefined);
  for (let i = 0; i < N; i++) validateDetection({ ...located(`a-${i}`), location: undefined, [`stray${i}`]: 1 }, dropped);
  assert.ok(sizeOf(dropped, 'named') <= 1000, `named: ${sizeOf(dropped, 'named')}`);
});
