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
