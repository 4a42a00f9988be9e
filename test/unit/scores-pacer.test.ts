import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MIN_LEVEL_PERIOD_MS } from '../../lib/audio/capture';
import { MIN_SCORES_PERIOD_MS, ScoresPacer } from '../../lib/detect/scores-pacer';

const T0 = 1_750_000_000;

test('privacy: published windows of one sensor end at least 250 ms apart, the level reports\' bound; sensors are paced apart', () => {
  assert.equal(MIN_SCORES_PERIOD_MS, MIN_LEVEL_PERIOD_MS);
  const pacer = new ScoresPacer();
  // A 10 ms hop over 2 s, two sensors interleaved.
  const admitted: Record<string, number[]> = { a: [], b: [] };
  for (let i = 0; i < 200; i++) {
    for (const sensor of ['a', 'b']) {
      const end = T0 + 1 + i * 0.01;
      if (pacer.admit({ sensor, end })) admitted[sensor].push(end);
    }
  }
  for (const ends of Object.values(admitted)) {
    assert.equal(ends.length, 8);
    for (let i = 1; i < ends.length; i++) assert.ok(ends[i] - ends[i - 1] >= 0.25 - 1e-6);
  }
  // A hop equal to the period loses nothing.
  const even = new ScoresPacer();
  for (let i = 0; i < 40; i++) assert.equal(even.admit({ sensor: 'c', end: T0 + i * 0.25 }), true, `window ${i}`);
});

test('a wall clock set back (or a capture restarted) starts afresh rather than silencing the output; a released sensor too', () => {
  const pacer = new ScoresPacer();
  assert.equal(pacer.admit({ sensor: 'a', end: T0 + 10 }), true);
  assert.equal(pacer.admit({ sensor: 'a', end: T0 + 10.1 }), false);
  // NTP stepped the clock back an hour: the next window is published, and pacing goes on from it.
  assert.equal(pacer.admit({ sensor: 'a', end: T0 - 3600 }), true);
  assert.equal(pacer.admit({ sensor: 'a', end: T0 - 3600 + 0.1 }), false);
  assert.equal(pacer.admit({ sensor: 'a', end: T0 - 3600 + 0.25 }), true);
  pacer.forget('a');
  assert.equal(pacer.admit({ sensor: 'a', end: T0 - 3600 + 0.3 }), true);
});
