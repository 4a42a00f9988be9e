import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClockAheadWarnings, judgeSensorTime, SENSOR_CLOCK_AHEAD_MS, SENSOR_CLOCK_BEHIND_MS } from '../../lib/util/clock';
import { AlertStore } from '../../lib/alerts/store';
import { AlertConsole } from '../../lib/alerts/console';

const ARRIVAL_MS = Date.UTC(2026, 10, 30, 22, 0, 0);

test('a sensor time that can be right is kept: a few seconds before its arrival, or days before (replayed by an outbox)', () => {
  assert.deepEqual(judgeSensorTime(ARRIVAL_MS - 1500, ARRIVAL_MS), { timeMs: ARRIVAL_MS - 1500 });
  assert.deepEqual(judgeSensorTime(ARRIVAL_MS - 3 * 86_400_000, ARRIVAL_MS), { timeMs: ARRIVAL_MS - 3 * 86_400_000 });
  // Clocks a little apart: up to a minute ahead is tolerated.
  assert.deepEqual(judgeSensorTime(ARRIVAL_MS + SENSOR_CLOCK_AHEAD_MS, ARRIVAL_MS), { timeMs: ARRIVAL_MS + SENSOR_CLOCK_AHEAD_MS });
});

test('a sensor time that cannot be right gives way to the arrival, saying which way the clock is off', () => {
  // A gateway an hour ahead (set by hand, or in local time).
  assert.deepEqual(judgeSensorTime(ARRIVAL_MS + 3_600_000, ARRIVAL_MS), { timeMs: ARRIVAL_MS, sensorClock: 'ahead' });
  // A gateway that booted without a battery clock: 1970 until NTP syncs.
  assert.deepEqual(judgeSensorTime(12_500, ARRIVAL_MS), { timeMs: ARRIVAL_MS, sensorClock: 'behind' });
  // Further back than an outbox keeps anything.
  assert.deepEqual(judgeSensorTime(ARRIVAL_MS - SENSOR_CLOCK_BEHIND_MS - 1, ARRIVAL_MS), { timeMs: ARRIVAL_MS, sensorClock: 'behind' });
  assert.deepEqual(judgeSensorTime(NaN, ARRIVAL_MS), { timeMs: ARRIVAL_MS, sensorClock: 'behind' });
});

test('when this machine\'s own clock is not set, nothing is judged: the sensor\'s time is kept', () => {
  assert.deepEqual(judgeSensorTime(ARRIVAL_MS, 40_000), { timeMs: ARRIVAL_MS });
  assert.deepEqual(judgeSensorTime(12_500, 40_000), { timeMs: 12_500 });
});

function detection(id: string, onsetSec: number, label = 'gunshot') {
  return { kind: 'detection', id, sensor: 's1', label, confidence: 0.9, onset: onsetSec, offset: onsetSec + 0.3, level: { dbfs: -10 }, scores: { [label]: 0.9 }, span: { sensor: 's1', start: 0, frames: 4800 } };
}

test('the queue orders alerts by when their sound was, not by a wrong sensor clock; the console says which times are arrivals', () => {
  let nowMs = ARRIVAL_MS;
  const store = new AlertStore({ now: () => nowMs });
  const c = new AlertConsole({ store, actor: 'auto:test' });
  // A forged or far-ahead onset (year 3237) first, then a good one, then one from a gateway still in 1970.
  c.ingest(detection('ahead', 4e10));
  nowMs += 20_000;
  c.ingest(detection('good', (nowMs - 1200) / 1000));
  nowMs += 20_000;
  c.ingest(detection('unset', 12.5));
  assert.deepEqual(store.queue().map((r) => r.alert.id), ['unset', 'good', 'ahead'], 'newest sound first, by arrival where the sensor clock is off');
  const shown = c.state().alerts.map((r) => [r.alert.id, r.timeSec, r.sensorClock]);
  assert.deepEqual(shown, [
    ['unset', (ARRIVAL_MS + 40_000) / 1000, 'behind'],
    ['good', (ARRIVAL_MS + 20_000 - 1200) / 1000, undefined],
    ['ahead', ARRIVAL_MS / 1000, 'ahead'],
  ]);
  // The record itself keeps what the sensor sent.
  assert.equal(store.get('ahead')!.alert.onset, 4e10);
});

test('a gateway whose clock is proven ahead is told once per sensor per period; a clock behind is not judged (a delay looks the same)', () => {
  const warned: string[] = [];
  let mono = 0;
  const w = new ClockAheadWarnings((t) => warned.push(t), { repeatMs: 600_000, monotonicNow: () => mono });
  assert.equal(w.check('s1', (ARRIVAL_MS - 1200) / 1000, ARRIVAL_MS), undefined, 'an onset before its arrival');
  assert.equal(w.check('s1', (ARRIVAL_MS + 1500) / 1000, ARRIVAL_MS), undefined, 'within what clocks set by NTP allow');
  assert.equal(w.check('s1', (ARRIVAL_MS - 5 * 3_600_000) / 1000, ARRIVAL_MS), undefined, 'hours behind: a replay or a clock behind, not judged');
  assert.equal(warned.length, 0);
  assert.equal(w.check('s3', (ARRIVAL_MS + 6200) / 1000, ARRIVAL_MS), 6200);
  assert.deepEqual(warned, [
    'sensor "s3": a detection\'s onset is 6.2 s after it arrived here, so that gateway\'s clock is ahead by at least that much: ' +
      'its onsets cannot be compared with other sensors\' (the same sound may make separate alerts, placed without it); set its clock (NTP)',
  ]);
  mono += 60_000;
  w.check('s3', (ARRIVAL_MS + 3_600_000) / 1000, ARRIVAL_MS);
  assert.equal(warned.length, 1, 'not again within the period');
  w.check('s4', (ARRIVAL_MS + 3_600_000) / 1000, ARRIVAL_MS);
  assert.match(warned[1], /^sensor "s4": a detection's onset is 60 min after it arrived here/);
  mono += 600_000;
  w.check('s3', (ARRIVAL_MS + 3 * 3_600_000) / 1000, ARRIVAL_MS);
  assert.match(warned[2], /^sensor "s3": a detection's onset is 3 h after/);
  // This machine's own clock not set yet: nothing can be judged.
  assert.equal(new ClockAheadWarnings(() => assert.fail('no warning')).check('s5', ARRIVAL_MS / 1000, 40_000), undefined);
});

test('an onset typed in milliseconds is said to look like milliseconds, not only blamed on the clock', () => {
  const warned: string[] = [];
  const w = new ClockAheadWarnings((t) => warned.push(t));
  w.check('typed', ARRIVAL_MS, ARRIVAL_MS);
  assert.equal(warned.length, 1);
  assert.match(warned[0], new RegExp(`\\(its onset, ${ARRIVAL_MS}, looks like milliseconds since 1970: onsets are in seconds\\)`));
  // A clock truly ahead, in seconds, gets no such words.
  w.check('ahead', (ARRIVAL_MS + 3 * 3_600_000) / 1000, ARRIVAL_MS);
  assert.doesNotMatch(warned[1], /milliseconds/);
});
