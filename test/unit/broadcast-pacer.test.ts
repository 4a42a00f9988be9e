import { mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { BroadcastPacer, PacerClock } from '../../lib/alerts/broadcast-pacer';

/** A clock that moves only when told, with the timers due run as it passes them. */
function fakeClock(): PacerClock & { advance(ms: number): void; timers(): number } {
  let t = 1_000_000;
  let next = 1;
  const due = new Map<number, { at: number; fn: () => void }>();
  return {
    now: () => t,
    setTimeout: (fn, ms) => {
      const id = next++;
      due.set(id, { at: t + ms, fn });
      return id;
    },
    clearTimeout: (h) => void due.delete(h as number),
    advance(ms) {
      const end = t + ms;
      for (;;) {
        const [id, first] = [...due.entries()].sort((a, b) => a[1].at - b[1].at)[0] ?? [];
        if (!first || first.at > end) break;
        due.delete(id!);
        t = first.at;
        first.fn();
      }
      t = end;
    },
    timers: () => due.size,
  };
}

test('the first change of a quiet period goes out at once; a burst goes out once per interval, at its end', () => {
  const clock = fakeClock();
  const sentAt: number[] = [];
  const p = new BroadcastPacer(() => sentAt.push(clock.now()), { intervalMs: 250, clock });
  const t0 = clock.now();
  p.soon();
  assert.deepEqual(sentAt, [t0], 'a single alert is not delayed');
  // 39 more copies of alerts, every 25 ms (the last at 975 ms)
  for (let i = 0; i < 39; i++) {
    clock.advance(25);
    p.soon();
  }
  clock.advance(250);
  assert.deepEqual(
    sentAt.map((x) => x - t0),
    [0, 250, 500, 750, 1000],
    'one state per interval while changes keep coming, the last one after the last change',
  );
  assert.equal(p.pending, false);
  // quiet again for longer than the interval: the next change is at once
  clock.advance(1000);
  p.soon();
  assert.equal(sentAt.length, 6);
  assert.equal(sentAt[5], clock.now());
});

test('a change within the interval after a state is sent at the interval\'s end, not lost', () => {
  const clock = fakeClock();
  let sent = 0;
  const p = new BroadcastPacer(() => sent++, { intervalMs: 250, clock });
  p.soon();
  clock.advance(100);
  p.soon();
  assert.equal(sent, 1, 'waits');
  assert.equal(p.pending, true);
  clock.advance(149);
  assert.equal(sent, 1);
  clock.advance(1);
  assert.equal(sent, 2, 'sent at 250 ms after the first');
});

test('now() sends at once (an operator\'s action) and takes the waiting change with it', () => {
  const clock = fakeClock();
  let sent = 0;
  const p = new BroadcastPacer(() => sent++, { intervalMs: 250, clock });
  p.soon();
  clock.advance(10);
  p.soon();
  assert.equal(sent, 1);
  p.now();
  assert.equal(sent, 2, 'the action\'s state is not held back by the interval');
  assert.equal(p.pending, false, 'the change that waited went with it');
  assert.equal(clock.timers(), 0);
  clock.advance(1000);
  assert.equal(sent, 2, 'not sent twice');
  // a change right after the action waits for the interval that began with it
  p.soon();
  clock.advance(1);
  p.soon();
  assert.equal(sent, 3);
  clock.advance(249);
  assert.equal(sent, 4);
});

test('close() drops what waits and sends nothing more', () => {
  const clock = fakeClock();
  let sent = 0;
  const p = new BroadcastPacer(() => sent++, { intervalMs: 250, clock });
  p.soon();
  p.soon();
  p.close();
  assert.equal(clock.timers(), 0, 'no timer left');
  clock.advance(1000);
  p.soon();
  p.now();
  assert.equal(sent, 1);
});

test('the real clock: a wall clock stepped back an hour (NTP correcting a fast clock) does not hold the next states for that hour', async () => {
  let sent = 0;
  const pacer = new BroadcastPacer(() => sent++);
  pacer.soon();
  assert.equal(sent, 1, 'the first change goes out at once');
  const realNow = Date.now;
  const stepped = mock.method(Date, 'now', () => realNow() - 3_600_000);
  try {
    pacer.soon();
    pacer.soon();
    const t0 = performance.now();
    while (sent < 2 && performance.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 20));
    assert.equal(sent, 2, 'the changes meanwhile went out at the end of the interval');
  } finally {
    stepped.mock.restore();
    pacer.close();
  }
});
