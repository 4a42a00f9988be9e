/**
 * Connections closed soon after opening, again and again (a client id used twice, a message
 * the broker refuses by closing): reported once per series, on an injected clock.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { QuickDrops } from '../../lib/util/quick-drops';

function watch() {
  let nowMs = 0;
  const drops = new QuickDrops({ now: () => nowMs, shortMs: 30_000, minDrops: 3, windowMs: 300_000 });
  /** A connection that stays up `upMs`, then a reconnect `gapMs` later; whether it was reported. */
  const cycle = (upMs: number, gapMs = 5000): boolean => {
    drops.opened();
    nowMs += upMs;
    const report = drops.closed();
    nowMs += gapMs;
    return report;
  };
  return { drops, cycle, skip: (ms: number) => (nowMs += ms) };
}

test('three connections each closed within seconds: reported at the third, once for the series', () => {
  const { cycle } = watch();
  assert.deepEqual([cycle(500), cycle(500), cycle(500), cycle(500), cycle(500)], [false, false, true, false, false]);
});

test('a connection that stays up ends the series: a later one is reported again', () => {
  const { cycle } = watch();
  assert.deepEqual([cycle(500), cycle(500), cycle(500)], [false, false, true]);
  assert.equal(cycle(60_000), false, 'up a minute: no quick drop');
  assert.deepEqual([cycle(500), cycle(500), cycle(500)], [false, false, true]);
});

test('long connections (a link that goes quiet, a broker restarting now and then) and failed connects are no quick drops', () => {
  const { drops, cycle, skip } = watch();
  assert.deepEqual([cycle(95_000), cycle(95_000), cycle(95_000), cycle(95_000)], [false, false, false, false]);
  // Closes without a connection (connect attempts refused) count for nothing.
  for (let i = 0; i < 5; i++) {
    skip(5000);
    assert.equal(drops.closed(), false);
  }
});

test('quick drops spread wider than the window are not a series', () => {
  const { cycle, skip } = watch();
  assert.equal(cycle(500), false);
  skip(200_000);
  assert.equal(cycle(500), false);
  skip(200_000);
  assert.equal(cycle(500), false, 'the first one is out of the window');
});
