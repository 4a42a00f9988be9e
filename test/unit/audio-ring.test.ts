import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AudioRing, MAX_RING_SECONDS } from '../../lib/audio/ring';
import { openRing, closeRing, readSpan, findRing } from '../../lib/audio/registry';

function ramp(n: number, from: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = ((from + i) % 1000) / 1000;
  return a;
}

test('write then read returns the exact samples of a span', () => {
  const ring = new AudioRing({ sensor: 's1', sampleRate: 1000, channels: 2, seconds: 1 });
  ring.write([ramp(300, 0), ramp(300, 500)]);
  const r = ring.read({ start: 100, frames: 50 });
  assert.ok(r.ok);
  if (!r.ok) return;
  assert.equal(r.channels.length, 2);
  assert.deepEqual(Array.from(r.channels[0]), Array.from(ramp(50, 100)));
  assert.deepEqual(Array.from(r.channels[1]), Array.from(ramp(50, 600)));
});

test('overwritten spans read as expired, spans across the wrap read correctly', () => {
  const ring = new AudioRing({ sensor: 's1', sampleRate: 1000, channels: 1, seconds: 1 });
  for (let i = 0; i < 5; i++) ring.write([ramp(300, i * 300)]);
  assert.equal(ring.end, 1500);
  assert.equal(ring.oldest, 500);
  const old = ring.read({ start: 400, frames: 200 });
  assert.equal(old.ok, false);
  if (!old.ok) assert.equal(old.reason, 'expired');
  const wrap = ring.read({ start: 900, frames: 200 }); // crosses physical index 1000 → 0
  assert.ok(wrap.ok);
  if (wrap.ok) assert.deepEqual(Array.from(wrap.channels[0]), Array.from(ramp(200, 900)));
  const future = ring.read({ start: 1400, frames: 200 });
  assert.equal(future.ok, false);
  if (!future.ok) assert.equal(future.reason, 'future');
});

test('an oversized write keeps only the newest capacity', () => {
  const ring = new AudioRing({ sensor: 's1', sampleRate: 1000, channels: 1, seconds: 1 });
  ring.write([ramp(2500, 0)]);
  const r = ring.read({ start: 1500, frames: 1000 });
  assert.ok(r.ok);
  if (r.ok) assert.deepEqual(Array.from(r.channels[0]), Array.from(ramp(1000, 1500)));
});

test('a read across a recorded gap says so', () => {
  const ring = new AudioRing({ sensor: 's1', sampleRate: 1000, channels: 1, seconds: 2 });
  ring.write([ramp(500, 0)]);
  ring.markGap('capture restarted');
  ring.write([ramp(500, 0)]);
  const r = ring.read({ start: 400, frames: 200 });
  assert.equal(r.ok, false);
  if (!r.ok) {
    assert.equal(r.reason, 'gap');
    assert.match(r.message, /capture restarted/);
  }
  assert.ok(ring.read({ start: 500, frames: 200 }).ok, 'after the gap reads fine');
  assert.ok(ring.read({ start: 400, frames: 200 }, { allowGaps: true }).ok);
});

test('capacity is bounded: default 5 s, hard cap 30 s', () => {
  assert.equal(new AudioRing({ sensor: 'a', sampleRate: 48000, channels: 1 }).capacityFrames, 5 * 48000);
  assert.throws(() => new AudioRing({ sensor: 'a', sampleRate: 48000, channels: 1, seconds: MAX_RING_SECONDS + 1 }), /at most 30/);
  assert.throws(() => new AudioRing({ sensor: 'a', sampleRate: 48000, channels: 0 }), /channels/);
});

test('close zeroes every sample and refuses reads', () => {
  const ring = new AudioRing({ sensor: 's1', sampleRate: 1000, channels: 2, seconds: 1 });
  ring.write([ramp(1000, 1), ramp(1000, 7)]);
  // Keep handles on the buffers to prove they were zeroed, not just dropped.
  const buffers = (ring as unknown as { data: Float32Array[] }).data.slice();
  assert.ok(buffers.some((b) => b.some((v) => v !== 0)));
  ring.close();
  assert.ok(buffers.every((b) => b.every((v) => v === 0)));
  const r = ring.read({ start: 0, frames: 10 });
  assert.equal(r.ok, false);
  assert.throws(() => ring.write([ramp(1, 0), ramp(1, 0)]), /after close/);
});

/** The ring's sample buffers, kept to check they are zeroed, not just hidden. */
function buffersOf(ring: AudioRing): Float32Array[] {
  return (ring as unknown as { data: Float32Array[] }).data.slice();
}

const allZero = (buffers: Float32Array[], from = 0, to = Infinity) => buffers.every((b) => b.subarray(from, to).every((v) => v === 0));

test('a ring nobody writes to any more: each write is zeroed by a timer once the ring length has passed since it, and reads as expired', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
  const ring = new AudioRing({ sensor: 's1', sampleRate: 1000, channels: 2, seconds: 1, now: () => Date.now() });
  const buffers = buffersOf(ring);
  ring.write([ramp(300, 1), ramp(300, 501)]); // frames 0..299 at t = 0
  t.mock.timers.tick(400);
  ring.write([ramp(300, 301), ramp(300, 801)]); // frames 300..599 at t = 400 ms; then the source stops
  t.mock.timers.tick(599);
  assert.ok(ring.read({ start: 0, frames: 600 }).ok, 'readable for the ring length');
  t.mock.timers.tick(1);
  // t = 1000 ms: the first write is zeroed by the timer alone (no read, no write).
  assert.ok(allZero(buffers, 0, 300), 'the first 0.3 s zeroed');
  assert.ok(!allZero(buffers, 300, 600), 'the second write still held');
  const old = ring.read({ start: 200, frames: 200 });
  assert.equal(old.ok, false);
  if (!old.ok) {
    assert.equal(old.reason, 'expired');
    assert.match(old.message, /written more than the ring's 1 s ago; its samples were zeroed \(oldest held: 300\)/);
  }
  assert.equal(ring.oldest, 300);
  const recent = ring.read({ start: 300, frames: 300 });
  assert.ok(recent.ok);
  if (recent.ok) assert.deepEqual(Array.from(recent.channels[1]), Array.from(ramp(300, 801)));
  t.mock.timers.tick(400);
  // t = 1400 ms: nothing of the ring is left.
  assert.ok(allZero(buffers), 'every sample zeroed');
  const gone = ring.read({ start: 300, frames: 300 });
  assert.equal(gone.ok, false);
  if (!gone.ok) assert.equal(gone.reason, 'expired');
  assert.equal(ring.oldest, ring.end);
  // Audio that comes again is held as before.
  const at = ring.write([ramp(100, 7), ramp(100, 9)]);
  assert.equal(at, 600);
  assert.ok(ring.read({ start: 600, frames: 100 }).ok);
  ring.close();
});

test('a read checks the age itself: a span past the ring length is refused and zeroed even before the timer runs', () => {
  let nowMs = 50_000;
  const ring = new AudioRing({ sensor: 's1', sampleRate: 1000, channels: 1, seconds: 2, now: () => nowMs });
  const buffers = buffersOf(ring);
  ring.write([ramp(500, 1)]);
  nowMs += 1999;
  assert.ok(ring.read({ start: 0, frames: 500 }).ok);
  nowMs += 1; // the timer (real time) has not run: the read decides and zeroes
  const r = ring.read({ start: 0, frames: 500 });
  assert.equal(r.ok, false);
  if (!r.ok) assert.equal(r.reason, 'expired');
  assert.ok(allZero(buffers));
  ring.close();
});

test('a gap shorter than the ring: the audio before it stays readable for the rest of its length, then only what came after', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
  const ring = new AudioRing({ sensor: 's1', sampleRate: 1000, channels: 1, seconds: 1, now: () => Date.now() });
  const buffers = buffersOf(ring);
  for (let i = 0; i < 5; i++) {
    ring.write([ramp(100, i * 100)]);
    t.mock.timers.tick(100);
  }
  ring.markGap('capture restarted');
  t.mock.timers.tick(300); // t = 800 ms: the capture is back
  ring.write([ramp(200, 0)]); // frames 500..699
  // A detection in flight still reads the end of the audio before the gap.
  const before = ring.read({ start: 300, frames: 200 });
  assert.ok(before.ok);
  if (before.ok) assert.deepEqual(Array.from(before.channels[0]), Array.from(ramp(200, 300)));
  const across = ring.read({ start: 400, frames: 200 });
  assert.equal(across.ok, false);
  if (!across.ok) assert.equal(across.reason, 'gap');
  t.mock.timers.tick(700); // t = 1500 ms: the write at 400 ms has aged out, the one at 800 ms not
  assert.ok(allZero(buffers, 0, 500), 'the audio before the gap zeroed');
  assert.ok(!allZero(buffers, 500, 700), 'the audio after it held');
  assert.equal(ring.oldest, 500);
  const after = ring.read({ start: 500, frames: 200 });
  assert.ok(after.ok);
  if (after.ok) assert.deepEqual(Array.from(after.channels[0]), Array.from(ramp(200, 0)));
  ring.close();
});

test('a live source writing at its own pace: the whole ring stays readable, as before the age rule', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
  const ring = new AudioRing({ sensor: 's1', sampleRate: 1000, channels: 1, seconds: 1, now: () => Date.now() });
  for (let i = 0; i < 40; i++) {
    ring.write([ramp(100, i * 100)]);
    if (ring.end >= 1000) {
      const r = ring.read({ start: ring.end - 1000, frames: 1000 });
      assert.ok(r.ok, `after write ${i}: ${r.ok ? '' : r.message}`);
      if (r.ok) assert.deepEqual(Array.from(r.channels[0]), Array.from(ramp(1000, ring.end - 1000)));
    }
    t.mock.timers.tick(100);
  }
  ring.close();
});

test('close releases the expiry timer', () => {
  const ring = new AudioRing({ sensor: 's1', sampleRate: 1000, channels: 1, seconds: 30 });
  ring.write([ramp(10, 0)]);
  const timerOf = () => (ring as unknown as { expiryTimer: unknown }).expiryTimer;
  assert.ok(timerOf(), 'a timer while samples are held');
  ring.close();
  assert.equal(timerOf(), undefined);
});

test('registry: one open ring per sensor, found by id, released on close', () => {
  const ring = openRing({ sensor: 'reg-1', sampleRate: 1000, channels: 1, seconds: 1 });
  assert.throws(() => openRing({ sensor: 'reg-1', sampleRate: 1000, channels: 1 }), /already has an open audio ring/);
  ring.write([ramp(100, 0)]);
  assert.ok(readSpan({ sensor: 'reg-1', start: 0, frames: 100 }).ok);
  const unknown = readSpan({ sensor: 'nope', start: 0, frames: 1 });
  assert.equal(unknown.ok, false);
  if (!unknown.ok) assert.equal(unknown.reason, 'unknown-sensor');
  closeRing(ring);
  assert.equal(findRing('reg-1'), undefined);
  const again = openRing({ sensor: 'reg-1', sampleRate: 1000, channels: 1, seconds: 1 });
  closeRing(ring); // a stale close must not remove the newer ring
  assert.equal(findRing('reg-1'), again);
  closeRing(again);
});
