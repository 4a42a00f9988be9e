import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventLoopWatch, LoopDelaySample } from '../../lib/util/event-loop-watch';
import { healthReport, setEventLoopSource } from '../../lib/util/health';

function scripted(samples: LoopDelaySample[]) {
  return () => samples.shift() ?? { p50Ms: 10, p99Ms: 20, maxMs: 25 };
}

test('an overload is told once when a window\'s p99 reaches the threshold, and its end once when it falls under half', () => {
  const changes: Array<[boolean, number]> = [];
  const w = new EventLoopWatch({
    overloadMs: 500,
    onChange: (o, s) => changes.push([o, s.p99Ms]),
    sampler: scripted([
      { p50Ms: 10, p99Ms: 40, maxMs: 60 },
      { p50Ms: 30, p99Ms: 800, maxMs: 1500 },
      { p50Ms: 25, p99Ms: 300, maxMs: 700 }, // still over half: the same overload
      { p50Ms: 40, p99Ms: 900, maxMs: 3100 },
      { p50Ms: 10, p99Ms: 120, maxMs: 200 },
      { p50Ms: 10, p99Ms: 30, maxMs: 50 },
    ]),
  });
  assert.equal(w.report(), undefined, 'nothing before the first window');
  for (let i = 0; i < 6; i++) w.tick();
  assert.deepEqual(changes, [
    [true, 800],
    [false, 120],
  ]);
  assert.deepEqual(w.report(), { p50Ms: 25, p99Ms: 900, maxMs: 3100, overloaded: false });
  w.tick(); // a seventh window: the first leaves the minute
  assert.deepEqual(w.report(), { p50Ms: 25, p99Ms: 900, maxMs: 3100, overloaded: false });
  for (let i = 0; i < 3; i++) w.tick();
  assert.deepEqual(w.report(), { p50Ms: 10, p99Ms: 120, maxMs: 200, overloaded: false }, 'the overload has left the minute');
});

test('the real event loop held up 700 ms is measured as such, and shows in the health report without degrading it', async () => {
  const w = new EventLoopWatch();
  try {
    await new Promise((r) => setTimeout(r, 100));
    const until = Date.now() + 700;
    while (Date.now() < until) {
      /* a busy loop: what a burst does to Node-RED */
    }
    await new Promise((r) => setTimeout(r, 50));
    const s = w.tick();
    assert.ok(s.maxMs >= 650, `max ${s.maxMs} ms`);
    setEventLoopSource(() => w.report());
    const r = healthReport({ package: 'p', version: '0', nodeRed: '4', startedAtMonotonicMs: 0 });
    assert.ok(r.eventLoop && r.eventLoop.maxMs >= 650, JSON.stringify(r.eventLoop));
    assert.equal(r.status, 'ok');
  } finally {
    setEventLoopSource(undefined);
    w.stop();
  }
  assert.equal(healthReport({ package: 'p', version: '0', nodeRed: '4', startedAtMonotonicMs: 0 }).eventLoop, undefined);
});
