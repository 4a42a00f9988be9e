import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Backoff } from '../../lib/util/backoff';

test('Backoff grows by its factor up to its maximum; jitter stays within its fraction', () => {
  const b = new Backoff({ initialMs: 100, maxMs: 1000, factor: 2, jitter: 0 });
  assert.deepEqual(Array.from({ length: 6 }, () => b.next()), [100, 200, 400, 800, 1000, 1000]);
  assert.equal(b.attempts, 6);
  b.reset();
  assert.equal(b.next(), 100);
  const low = new Backoff({ initialMs: 1000, jitter: 0.2, random: () => 0 });
  const high = new Backoff({ initialMs: 1000, jitter: 0.2, random: () => 0.999999 });
  assert.equal(low.next(), 800);
  assert.equal(high.next(), 1200);
});

test('Backoff: only a run that delivered for healthyAfterMs starts afresh when it ends', () => {
  const b = new Backoff({ initialMs: 100, factor: 2, jitter: 0, healthyAfterMs: 10_000 });
  b.next();
  b.next(); // two failures: the next delay is 400 ms
  // A run that delivered its first data and failed 2 s later: the back-off goes on growing.
  b.delivering(1_000);
  b.ended(3_000);
  assert.equal(b.next(), 400);
  // A run that never delivered, however long it lived: still growing.
  b.ended(60_000);
  assert.equal(b.next(), 800);
  // A run that delivered for 10 s (later data does not move its start): afresh.
  b.delivering(100_000);
  b.delivering(105_000);
  b.ended(110_000);
  assert.equal(b.next(), 100);
  // ended() forgets the run: the next one must deliver again.
  b.ended(500_000);
  assert.equal(b.next(), 200);
});
