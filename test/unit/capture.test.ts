import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Capture, HealthEvent, LevelEvent, MIN_LEVEL_PERIOD_MS } from '../../lib/audio/capture';
import { convertRateZeroing } from '../../lib/audio/sources/wavfile';
import { CaptureSource } from '../../lib/audio/sources/source';
import { InputSource, WavFileSource, createSource } from '../../lib/audio/sources';
import { findRing, readSpan } from '../../lib/audio/registry';
import { encodeWav } from '../../lib/audio/wav';
import { AudioBlock, validateAudioBlock } from '../../lib/contracts';
import { waitFor } from '../support/wait';
import { stepWallClock } from '../support/wall-clock';

/** A source driven by the test (unit tests of Capture only). */
class FakeSource extends CaptureSource {
  readonly kind = 'fake';
  started = false;
  stopped = false;
  constructor(rate: number, channels: number, realtime = false) {
    super();
    this.sampleRate = rate;
    this.channels = channels;
    this.realtime = realtime;
  }
  start(): void {
    this.started = true;
    this.setStatus('running', 'fake running');
  }
  async stop(): Promise<void> {
    this.stopped = true;
  }
  feed(channels: Float32Array[], timeSec?: number): void {
    this.emitData(channels, timeSec);
  }
  die(reason: string): void {
    this.emit('restart', reason);
  }
}

function sine(n: number, amp: number, f = 0.05, from = 0): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => amp * Math.sin(f * (from + i)));
}

function collect(cap: Capture) {
  const blocks: AudioBlock[] = [];
  const health: HealthEvent[] = [];
  const levels: LevelEvent[] = [];
  const faults: Error[] = [];
  cap.on('block', (b) => blocks.push(b));
  cap.on('health', (h) => health.push(h));
  cap.on('level', (l) => levels.push(l));
  cap.on('fault', (e) => faults.push(e));
  return { blocks, health, levels, faults };
}

test('blocks every blockMs: contiguous, valid contract, no samples, readable from the ring', async () => {
  const src = new FakeSource(8000, 2);
  const cap = new Capture({ sensor: 'cap-a', source: src, blockMs: 100, clock: 'ntp' });
  const out = collect(cap);
  cap.start();
  assert.ok(src.started);
  // 3.5 blocks in uneven chunks.
  const a = sine(2800, 0.5);
  const b = sine(2800, 0.25, 0.07);
  for (const [s, e] of [
    [0, 333],
    [333, 1000],
    [1000, 2800],
  ]) {
    src.feed([a.slice(s, e), b.slice(s, e)], 1000 + s / 8000);
  }
  assert.equal(out.blocks.length, 3);
  out.blocks.forEach((blk, i) => {
    assert.deepEqual(validateAudioBlock(blk), blk);
    assert.equal(blk.seq, i);
    assert.equal(blk.start, i * 800);
    assert.equal(blk.frames, 800);
    assert.equal(blk.channels, 2);
    assert.equal(blk.clock, 'ntp');
    assert.ok(Math.abs(blk.time - (1000 + blk.start / 8000)) < 1e-9);
    assert.ok(JSON.stringify(blk).length < 200);
  });
  const r = readSpan({ sensor: 'cap-a', start: 800, frames: 800 });
  assert.ok(r.ok);
  if (r.ok) {
    assert.deepEqual(Array.from(r.channels[0]), Array.from(a.subarray(800, 1600)));
    assert.deepEqual(Array.from(r.channels[1]), Array.from(b.subarray(800, 1600)));
  }
  await cap.stop();
  assert.ok(src.stopped);
  assert.equal(findRing('cap-a'), undefined, 'ring released on stop');
  assert.equal(src.listenerCount('data'), 0, 'listeners removed');
  assert.equal(out.faults.length, 0);
});

test('without source time, block time follows the wall clock given by now()', async () => {
  let nowMs = 5_000_000;
  const src = new FakeSource(1000, 1, true);
  const cap = new Capture({ sensor: 'cap-t', source: src, blockMs: 100, now: () => nowMs });
  const out = collect(cap);
  cap.start();
  src.feed([sine(100, 0.1)]);
  nowMs += 100;
  src.feed([sine(100, 0.1)]);
  assert.equal(out.blocks.length, 2);
  assert.ok(Math.abs(out.blocks[0].time - (5_000_000 / 1000 - 0.1)) < 1e-9);
  assert.ok(Math.abs(out.blocks[1].time - out.blocks[0].time - 0.1) < 1e-9);
  // The device stalled and lost 1 s of samples: once every arrival has been that late for a
  // second (not a late burst that catches up), the times follow the wall clock again.
  nowMs += 1000;
  for (let i = 0; i < 12; i++) {
    nowMs += 100;
    src.feed([sine(100, 0.1)]);
  }
  assert.ok(Math.abs(out.blocks[2].time - (out.blocks[1].time + 0.1)) < 1e-9, 'not yet: one late arrival is no gap');
  assert.ok(Math.abs(out.blocks[13].time - (nowMs / 1000 - 0.1)) < 1e-9);
  await cap.stop();
});

test('a sound card 100 ppm fast, arrivals 0-30 ms late: block times within 2 ms of the wall clock, across a wall-clock step', async () => {
  // The old way (sample count from an anchor, re-anchored past 100 ms of drift) was off by up to 100 ms.
  const rate = 16000;
  const chunk = 320;
  let monoMs = 1000;
  let wallMinusMonoMs = Date.UTC(2026, 10, 30, 12) - monoMs;
  const src = new FakeSource(rate, 1, true);
  const cap = new Capture({ sensor: 'cap-drift', source: src, blockMs: 100, levelEveryMs: 0, now: () => monoMs + wallMinusMonoMs, monotonicNow: () => monoMs });
  const errorsMs: { atS: number; errorMs: number }[] = [];
  let stepped = false;
  cap.on('block', (b: AudioBlock) => {
    const trueWallMs = 1000 + (b.start / (rate * (1 + 100e-6))) * 1000 + wallMinusMonoMs;
    errorsMs.push({ atS: (monoMs - 1000) / 1000, errorMs: b.time * 1000 - trueWallMs });
  });
  cap.start();
  let x = 12345;
  const jitterMs = () => ((x = (x * 1103515245 + 12345) % 2147483648) / 2147483648) * 30;
  const silence = new Float32Array(chunk);
  for (let k = 1; k <= (600 * rate) / chunk; k++) {
    monoMs = Math.max(monoMs, 1000 + ((k * chunk) / (rate * (1 + 100e-6))) * 1000 + jitterMs());
    if (!stepped && monoMs > 1000 + 300_000) {
      wallMinusMonoMs += 2500; // NTP stepped the wall clock; the monotonic clock did not move
      stepped = true;
    }
    src.feed([silence]);
  }
  const steady = errorsMs.filter((e) => e.atS >= 30);
  assert.ok(steady.length > 5000);
  const worst = Math.max(...steady.map((e) => Math.abs(e.errorMs)));
  assert.ok(worst <= 2, `worst steady-state error ${worst.toFixed(2)} ms`);
  assert.ok(cap.clockSettled);
  await cap.stop();
});

test('channel map selects source channels into the ring; a bad map is a fault naming channelMap', async () => {
  const src = new FakeSource(8000, 4);
  const cap = new Capture({ sensor: 'cap-map', source: src, channelMap: [3, 1] });
  const out = collect(cap);
  cap.start();
  const chans = [0, 1, 2, 3].map((c) => new Float32Array(800).fill(c / 10));
  src.feed(chans);
  const r = readSpan(out.blocks[0]);
  assert.ok(r.ok);
  if (r.ok) assert.deepEqual([r.channels[0][5], r.channels[1][5]], [Math.fround(0.3), Math.fround(0.1)]);
  await cap.stop();

  const src2 = new FakeSource(8000, 2);
  const cap2 = new Capture({ sensor: 'cap-map2', source: src2, channelMap: [0, 2] });
  const out2 = collect(cap2);
  cap2.start();
  src2.feed([new Float32Array(10), new Float32Array(10)]);
  assert.match(out2.faults[0]?.message ?? '', /channelMap: .*input channel 2 does not exist/);
  assert.equal(findRing('cap-map2'), undefined);
  await cap2.stop();
});

test('a restart records a ring gap, drops the partial block and reports health', async () => {
  const src = new FakeSource(1000, 1);
  const cap = new Capture({ sensor: 'cap-r', source: src, blockMs: 100 });
  const out = collect(cap);
  cap.start();
  src.feed([sine(250, 0.2)], 10);
  assert.equal(out.blocks.length, 2);
  src.die('arecord killed by SIGKILL');
  assert.equal(out.health.at(-1)?.condition, 'restart');
  assert.match(out.health.at(-1)!.detail, /SIGKILL/);
  assert.equal(cap.restartCount, 1);
  src.feed([sine(200, 0.2)], 20);
  assert.equal(out.blocks.length, 4);
  assert.equal(out.blocks[2].start, 250, 'first block after the gap starts at the gap');
  assert.ok(Math.abs(out.blocks[2].time - 20) < 1e-9);
  const ring = findRing('cap-r')!;
  assert.deepEqual(ring.listGaps().map((g) => g.at), [250]);
  const across = readSpan({ sensor: 'cap-r', start: 200, frames: 100 });
  assert.equal(across.ok, false);
  if (!across.ok) assert.equal(across.reason, 'gap');
  await cap.stop();
});

test('a capture that stays down (restarting with back-off): the audio before the gap is read for the rest of the ring length, then refused and zeroed', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_750_000_000_000 });
  const src = new FakeSource(1000, 1, true);
  const cap = new Capture({ sensor: 'cap-down', source: src, blockMs: 100, ringSeconds: 2, now: () => Date.now() });
  const out = collect(cap);
  cap.start();
  for (let i = 0; i < 10; i++) {
    src.feed([sine(100, 0.3, 0.05, i * 100)]);
    t.mock.timers.tick(100);
  }
  const buffers = (cap.audioRing as unknown as { data: Float32Array[] }).data.slice();
  src.die('USB microphone unplugged'); // the source restarts with back-off, and nothing comes
  const last = out.blocks.at(-1)!;
  t.mock.timers.tick(1000);
  // A detection in flight reads the block just before the gap (written 1.1 s ago, ring 2 s).
  const inFlight = readSpan(last);
  assert.ok(inFlight.ok);
  if (inFlight.ok) assert.deepEqual(Array.from(inFlight.channels[0]), Array.from(sine(100, 0.3, 0.05, 900)));
  assert.ok(buffers[0].some((v) => v !== 0));
  t.mock.timers.tick(900); // 2 s after the last block was written, with no read meanwhile
  assert.ok(buffers[0].every((v) => v === 0), 'the ring zeroed while the capture is still down');
  const late = readSpan(last);
  assert.equal(late.ok, false);
  if (!late.ok) assert.equal(late.reason, 'expired');
  assert.equal(findRing('cap-down'), cap.audioRing, 'the ring is still open: the capture runs on');
  // The microphone is back: its audio is held and read as before.
  src.feed([sine(100, 0.3)]);
  assert.ok(readSpan(out.blocks.at(-1)!).ok);
  await cap.stop();
});

test('health: clipping raised and cleared, dead channel, stuck channel, silence', async () => {
  const rate = 1000;
  const src = new FakeSource(rate, 3);
  const cap = new Capture({
    sensor: 'cap-h',
    source: src,
    blockMs: 100,
    levelEveryMs: 0,
    health: { deadAfterS: 1, stuckAfterS: 0.5, silenceAfterS: 1, clearAfterS: 0.5 },
  });
  const out = collect(cap);
  cap.start();
  let t = 0;
  const feed = (mk: (c: number) => Float32Array, blocks: number) => {
    for (let i = 0; i < blocks; i++) {
      src.feed([0, 1, 2].map((c) => mk(c)));
      t += 100;
    }
  };
  // Channel 0 clips, channel 1 is digital zero, channel 2 is stuck at 0.3.
  feed((c) => (c === 0 ? sine(100, 1.5, 0.3, t) : c === 1 ? new Float32Array(100) : new Float32Array(100).fill(0.3)), 12);
  const on = (cond: string) => out.health.filter((h) => h.condition === cond && h.active);
  const off = (cond: string) => out.health.filter((h) => h.condition === cond && !h.active);
  assert.equal(on('clipping').length, 1);
  assert.equal(on('clipping')[0].channel, 0);
  assert.equal(on('dead-channel').length, 1);
  assert.equal(on('dead-channel')[0].channel, 1);
  assert.equal(on('stuck-channel').length, 1);
  assert.equal(on('stuck-channel')[0].channel, 2);
  assert.equal(on('silence').length, 0);
  // Everything back to normal: conditions clear.
  feed((c) => sine(100, 0.3, 0.2 + c * 0.1, t), 8);
  assert.equal(off('clipping').length, 1);
  assert.equal(off('dead-channel').length, 1);
  assert.equal(off('stuck-channel').length, 1);
  // Near-silence everywhere (not digital zero): silence, and no dead channel.
  const deadBefore = on('dead-channel').length;
  feed(() => sine(100, 1e-5, 0.2, t), 12);
  assert.equal(on('silence').length, 1);
  assert.equal(on('dead-channel').length, deadBefore);
  for (const h of out.health) assert.ok(JSON.stringify(h).length < 400);
  await cap.stop();
});

test('level reports: Leq per period in dBFS/dB(A), rounded, with calibration', async () => {
  const rate = 16000;
  const src = new FakeSource(rate, 2);
  const cap = new Capture({ sensor: 'cap-l', source: src, levelEveryMs: 500, calibrationDb: 110 });
  const out = collect(cap);
  cap.start();
  const amp = Math.SQRT2 * 0.1; // −20 dBFS RMS
  for (let i = 0; i < 30; i++) {
    const x = Float32Array.from({ length: 1600 }, (_, k) => amp * Math.sin((2 * Math.PI * 1000 * (i * 1600 + k)) / rate));
    src.feed([x, x.map((v) => v / 10)]);
  }
  assert.equal(out.levels.length, 6);
  const last = out.levels.at(-1)!;
  assert.equal(last.leqDbfs, -20);
  assert.ok(Math.abs(last.leqDba - -20) <= 0.1);
  assert.deepEqual(last.channelsDbfs, [-20, -40]);
  assert.equal(last.leqDbaSpl, Math.round((last.leqDba + 110) * 10) / 10);
  assert.equal(last.periodS, 0.5);
  assert.ok(Math.abs((cap.levelDbfs ?? 0) - -20) < 0.3);
  await cap.stop();
});

test('privacy: level reports never come faster than 4 a second, whatever the setting and the block: a shorter period is raised to 250 ms, with a warning', async () => {
  const rate = 16000;
  for (const levelEveryMs of [1, 10, 100, 249]) {
    const src = new FakeSource(rate, 2);
    const cap = new Capture({ sensor: `cap-fast-${levelEveryMs}`, source: src, blockMs: 10, levelEveryMs });
    const out = collect(cap);
    const warnings: string[] = [];
    cap.on('warning', (w: string) => warnings.push(w));
    cap.start();
    // 3 s of speech-like bursts: 4 syllables a second, in 10 ms pieces.
    for (let i = 0; i < 300; i++) {
      const on = Math.floor(i / 12.5) % 2 === 0;
      const x = Float32Array.from({ length: 160 }, (_, k) => (on ? 0.3 : 0.003) * Math.sin((2 * Math.PI * 200 * (i * 160 + k)) / rate));
      src.feed([x, x]);
    }
    assert.equal(out.faults.length, 0);
    assert.equal(out.levels.length, 12, `levelEveryMs ${levelEveryMs}: ${out.levels.length} reports in 3 s`);
    for (const l of out.levels) assert.ok(l.periodS >= 0.25, `levelEveryMs ${levelEveryMs}: each report a mean over 250 ms, got ${l.periodS} s`);
    assert.deepEqual(warnings, [`setting levelEveryMs: expected 0 (off) or at least ${MIN_LEVEL_PERIOD_MS} ms, got ${levelEveryMs}; reporting levels every ${MIN_LEVEL_PERIOD_MS} ms (privacy: faster level reports would follow the rhythm of speech)`]);
    await cap.stop();
  }
  // 0 is off, and the bound itself is kept as asked, without a word.
  for (const [levelEveryMs, reports] of [[0, 0], [MIN_LEVEL_PERIOD_MS, 12], [1000, 3]]) {
    const src = new FakeSource(rate, 1);
    const cap = new Capture({ sensor: `cap-ok-${levelEveryMs}`, source: src, blockMs: 10, levelEveryMs });
    const out = collect(cap);
    const warnings: string[] = [];
    cap.on('warning', (w: string) => warnings.push(w));
    cap.start();
    for (let i = 0; i < 300; i++) src.feed([new Float32Array(160).fill(0.1)]);
    assert.equal(out.levels.length, reports, `levelEveryMs ${levelEveryMs}`);
    assert.deepEqual(warnings, []);
    await cap.stop();
  }
});

test('level reports: a dead microphone of the array does not make the sensor read as silence: the level is read on the first working channel', async () => {
  const rate = 16000;
  const src = new FakeSource(rate, 4);
  const cap = new Capture({ sensor: 'cap-dead0', source: src, levelEveryMs: 500, health: { deadAfterS: 0.5 } });
  const out = collect(cap);
  cap.start();
  const amp = Math.SQRT2 * 0.1; // -20 dBFS RMS
  for (let i = 0; i < 30; i++) {
    const x = Float32Array.from({ length: 1600 }, (_, k) => amp * Math.sin((2 * Math.PI * 1000 * (i * 1600 + k)) / rate));
    src.feed([new Float32Array(1600), x, x, x]); // channel 0 unplugged: digital silence
  }
  assert.equal(out.health.filter((h) => h.condition === 'dead-channel' && h.active)[0]?.channel, 0);
  const last = out.levels.at(-1)!;
  assert.deepEqual(last.channelsDbfs, [-120, -20, -20, -20]);
  assert.equal(last.leqDbfs, -20, 'the sensor hears the street on its other microphones');
  assert.ok(Math.abs((cap.levelDbfs ?? 0) - -20) < 0.3);
  await cap.stop();
});

test('settings are checked and name the field', () => {
  const src = new FakeSource(8000, 1);
  assert.throws(() => new Capture({ sensor: 's', source: src, ringSeconds: 31 }), /ringSeconds: .*at most 30/);
  assert.throws(() => new Capture({ sensor: 's', source: src, blockMs: 5 }), /blockMs/);
  assert.throws(() => new Capture({ sensor: '', source: src }), /sensor/);
  assert.throws(() => createSource({ type: 'tape' } as never), /source: expected one of/);
  assert.throws(() => createSource({ type: 'alsa', device: 'default', sampleRate: 100, channels: 1 }), /sampleRate/);
  assert.throws(() => createSource({ type: 'ffmpeg', url: '', sampleRate: 16000, channels: 1 }), /url/);
});

test('a second capture on the same sensor fails clearly instead of sharing the ring', async () => {
  const a = new Capture({ sensor: 'cap-dup', source: new FakeSource(8000, 1), owner: 'mic-capture "Mast 1" (node n1)' });
  const srcB = new FakeSource(8000, 1);
  const b = new Capture({ sensor: 'cap-dup', source: srcB, owner: 'mic-capture "Mast 1" (node n2)' });
  const outB = collect(b);
  a.start();
  b.start();
  (a.source as FakeSource).feed([new Float32Array(10)]);
  srcB.feed([new Float32Array(10)]);
  // Two copies of one node (a copied tab): the second is told which holds the sensor.
  assert.equal(outB.faults[0]?.message, 'sensor "cap-dup" already has an open audio ring, opened by mic-capture "Mast 1" (node n1) (one capture per sensor)');
  assert.equal(b.status.state, 'failed');
  await b.stop();
  assert.ok(findRing('cap-dup'), 'the first owner keeps its ring');
  await a.stop();
});

function tmpWav(name: string, channels: Float32Array[], rate: number): { dir: string; file: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-cap-'));
  const file = path.join(dir, name);
  fs.writeFileSync(file, encodeWav(channels, rate, 'pcm16'));
  return { dir, file };
}

test('WAV file source, fast pace, once: every frame reaches the ring and the end is reported', async () => {
  const x = sine(16000 * 2 + 123, 0.4);
  const { dir, file } = tmpWav('two-seconds.wav', [x], 16000);
  try {
    const cap = new Capture({ sensor: 'cap-wav', source: new WavFileSource({ file: path.basename(file), baseDir: dir, pace: 'fast' }), ringSeconds: 5 });
    const out = collect(cap);
    cap.start();
    await waitFor(() => out.health.some((h) => h.condition === 'ended'), 10_000);
    assert.equal(out.blocks.length, Math.floor(x.length / 1600));
    const ring = cap.audioRing!;
    assert.equal(ring.end, x.length);
    const r = ring.read({ start: 16000, frames: 100 });
    assert.ok(r.ok);
    if (r.ok) for (let i = 0; i < 100; i++) assert.ok(Math.abs(r.channels[0][i] - x[16000 + i]) <= 1 / 32768);
    // Times are contiguous on the file's own clock (fast pace does not follow the wall clock).
    assert.ok(Math.abs(out.blocks[10].time - out.blocks[0].time - 1) < 1e-6);
    await cap.stop();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('WAV file source that ends: once the ring length has passed, its last audio is zeroed and refused (not kept until stop)', async () => {
  const x = sine(16000 + 800, 0.4);
  const { dir, file } = tmpWav('ends.wav', [x], 16000);
  try {
    const cap = new Capture({ sensor: 'cap-ends', source: new WavFileSource({ file, pace: 'fast' }), ringSeconds: 2 });
    const out = collect(cap);
    cap.start();
    await waitFor(() => out.health.some((h) => h.condition === 'ended'), 10_000, 'the end of the file');
    const ring = cap.audioRing!;
    // The ring's own buffers (private), kept to check that the samples are zeroed, not just hidden.
    const buffers = (ring as unknown as { data: Float32Array[] }).data.slice();
    assert.ok(buffers[0].some((v) => v !== 0), 'the ring holds the file\'s last audio');
    const last = out.blocks.at(-1)!;
    assert.ok(readSpan(last).ok, 'readable right after the end');
    await waitFor(() => buffers[0].every((v) => v === 0), 10_000, 'the ring zeroed');
    const r = readSpan(last);
    assert.equal(r.ok, false);
    if (!r.ok) {
      assert.equal(r.reason, 'expired');
      assert.match(r.message, /more than the ring's 2 s ago; its samples were zeroed/);
    }
    assert.equal(findRing('cap-ends'), ring, 'the capture has not stopped');
    await cap.stop();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('WAV file source: loop wraps around; resampling to a requested rate; unreadable file is a fault', async () => {
  const { dir, file } = tmpWav('short.wav', [sine(4800, 0.3)], 48000);
  try {
    const src = new WavFileSource({ file, loop: true, pace: 'fast', sampleRate: 16000 });
    const cap = new Capture({ sensor: 'cap-loop', source: src });
    const out = collect(cap);
    cap.start();
    await waitFor(() => src.loops >= 3, 10_000);
    await cap.stop();
    assert.equal(out.blocks[0].sampleRate, 16000);
    assert.ok(out.blocks.length >= 3);
    assert.ok(!out.health.some((h) => h.condition === 'ended'));

    const bad = new Capture({ sensor: 'cap-bad', source: new WavFileSource({ file: path.join(dir, 'nope.wav') }) });
    const outBad = collect(bad);
    bad.start();
    assert.match(outBad.faults[0]?.message ?? '', /cannot read .*nope\.wav/);
    assert.equal(bad.status.state, 'failed');
    await bad.stop();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('WAV file source: stop() zero-fills its in-memory copy of the file and lets it go (DESIGN §4.2)', async () => {
  const { dir, file } = tmpWav('kept.wav', [sine(16000, 0.4), sine(16000, 0.2, 0.07)], 16000);
  try {
    const src = new WavFileSource({ file, loop: true, pace: 'fast' });
    src.load();
    // The decoded copy the source plays from (private: read here to check it is wiped).
    const copy = src['audio'];
    assert.equal(copy.length, 2);
    for (const c of copy) assert.ok(c.some((v) => v !== 0), 'the copy holds the file\'s samples while it plays');
    let frames = 0;
    src.on('data', (ch: Float32Array[]) => (frames += ch[0].length));
    src.start();
    await waitFor(() => src.loops >= 1, 10_000);
    assert.ok(frames > 16000);
    await src.stop();
    for (const [i, c] of copy.entries()) assert.equal(c.findIndex((v) => v !== 0), -1, `channel ${i} still holds samples after stop()`);
    assert.deepEqual(src['audio'], [], 'no reference to the copy is kept');
    // Stopped before it ever started (loaded only): wiped all the same.
    const idle = new WavFileSource({ file });
    idle.load();
    const idleCopy = idle['audio'];
    await idle.stop();
    assert.ok(idleCopy.every((c) => c.every((v) => v === 0)));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('WAV file source at another rate: the decoding it resampled from is zeroed once converted (DESIGN §4.2)', async () => {
  const decoded = [Float32Array.from({ length: 8000 }, (_, i) => Math.sin(i / 5) * 0.5), Float32Array.from({ length: 8000 }, (_, i) => Math.cos(i / 7) * 0.3)];
  const read: string[] = [];
  const src = new WavFileSource({
    file: 'street.wav',
    baseDir: path.sep + 'nowhere',
    pace: 'fast',
    sampleRate: 16000,
    readWav: (p) => {
      read.push(p);
      return { sampleRate: 8000, channels: decoded, format: 'pcm16', bitsPerSample: 16 };
    },
  });
  src.load();
  assert.deepEqual(read, [path.resolve(path.sep + 'nowhere', 'street.wav')], 'the reader is given the resolved path, once');
  for (const [i, c] of decoded.entries()) assert.equal(c.findIndex((v) => v !== 0), -1, `decoded channel ${i} is wiped once resampled`);
  // What it plays is the converted sound, at the requested rate.
  assert.equal(src.sampleRate, 16000);
  assert.equal(src.channels, 2);
  let frames = 0;
  let loud = 0;
  src.on('data', (ch: Float32Array[]) => {
    frames += ch[0].length;
    loud += ch.reduce((n, c) => n + c.filter((v) => Math.abs(v) > 0.1).length, 0);
  });
  src.start();
  await waitFor(() => src.status.state === 'ended', 10_000, 'the end of the file');
  await src.stop();
  assert.equal(frames, 16000);
  assert.ok(loud > 16000, `the played copy holds the sound (${loud} loud samples)`);
});

test('convertRateZeroing: the converted copy holds the sound, the original is wiped', () => {
  const decoded = [Float32Array.from({ length: 8000 }, (_, i) => Math.sin(i / 5) * 0.5)];
  const converted = convertRateZeroing(decoded, 8000, 16000);
  assert.equal(converted[0].length, 16000);
  assert.ok(converted[0].some((v) => v !== 0), 'the converted copy holds the sound');
  assert.equal(decoded[0].findIndex((v) => v !== 0), -1, 'the decoded copy is wiped');
});

test('WAV file source in real time delivers about real-time amounts (generous bounds)', async () => {
  const { dir, file } = tmpWav('rt.wav', [sine(8000 * 10, 0.3)], 8000);
  try {
    const cap = new Capture({ sensor: 'cap-rt', source: new WavFileSource({ file }) });
    const out = collect(cap);
    const t0 = Date.now();
    cap.start();
    await waitFor(() => out.blocks.length >= 5, 10_000);
    const elapsedS = (Date.now() - t0) / 1000;
    await cap.stop();
    // 5 blocks = 0.5 s of audio cannot arrive much faster than 0.5 s of wall time.
    assert.ok(elapsedS >= 0.4, `elapsed ${elapsedS}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('input source: blocks of an upstream sensor are copied, channel-mapped, into this sensor ring', async () => {
  const upSrc = new FakeSource(8000, 4);
  const up = new Capture({ sensor: 'up-array', source: upSrc });
  const upOut = collect(up);
  up.start();
  const input = new InputSource();
  const sub = new Capture({ sensor: 'sub-array', source: input, channelMap: [2, 3] });
  const subOut = collect(sub);
  sub.start();
  const chans = [0, 1, 2, 3].map((c) => sine(1600, 0.1 * (c + 1), 0.01 * (c + 1)));
  upSrc.feed(chans, 50);
  for (const b of upOut.blocks) input.push(b, 'sub-array');
  assert.equal(subOut.blocks.length, 2);
  assert.equal(subOut.blocks[0].sensor, 'sub-array');
  assert.equal(subOut.blocks[0].channels, 2);
  assert.ok(Math.abs(subOut.blocks[1].time - upOut.blocks[1].time) < 1e-9);
  const r = readSpan(subOut.blocks[1]);
  assert.ok(r.ok);
  if (r.ok) {
    assert.deepEqual(Array.from(r.channels[0]), Array.from(chans[2].subarray(800, 1600)));
    assert.deepEqual(Array.from(r.channels[1]), Array.from(chans[3].subarray(800, 1600)));
  }
  // Unusable inputs name the field.
  assert.throws(() => input.push({ kind: 'detection' }), /payload.kind: expected "audio"/);
  assert.throws(() => input.push({ ...upOut.blocks[0], samples: [1, 2] }), /without samples/);
  assert.throws(() => input.push(subOut.blocks[0], 'sub-array'), /payload.sensor/);
  assert.throws(() => input.push({ ...upOut.blocks[0], start: 10_000_000 }), /^ContractError: payload\.start: expected a span already written to the ring \(span ends at frame \d+, only \d+ written\), got 10000000$/);
  assert.throws(() => input.push({ ...upOut.blocks[0], frames: 10_000_000 }), /^ContractError: payload\.frames: expected a span the ring can hold \(span of 10000000 frames exceeds ring capacity \d+\), got 10000000$/);
  await sub.stop();
  await up.stop();
  assert.throws(() => input.push(upOut.blocks[0]), /not running/);
});

test('privacy: the copies a WAV file source and an input source hand to the capture are zeroed once written to the ring, also when the input block is refused', async () => {
  const { dir, file } = tmpWav('copies.wav', [sine(16000, 0.4)], 16000);
  try {
    const src = new WavFileSource({ file, pace: 'fast' });
    const cap = new Capture({ sensor: 'cap-wav-copies', source: src, ringSeconds: 2 });
    const handed: Array<{ channel: Float32Array; heldSound: boolean }> = [];
    src.on('data', (ch: Float32Array[]) => {
      for (const channel of ch) handed.push({ channel, heldSound: channel.some((v) => v !== 0) });
    });
    cap.start();
    await waitFor(() => src.status.state === 'ended', 10_000, 'the end of the file');
    await cap.stop();
    assert.ok(handed.length > 0 && handed.every((h) => h.heldSound), 'each copy held the sound when handed over');
    for (const [i, h] of handed.entries()) assert.equal(h.channel.findIndex((v) => v !== 0), -1, `WAV copy ${i} still holds samples`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }

  const upSrc = new FakeSource(8000, 2);
  const up = new Capture({ sensor: 'up-copies', source: upSrc });
  const upOut = collect(up);
  up.start();
  upSrc.feed([sine(1600, 0.3), sine(1600, 0.2, 0.07)], 50);
  const input = new InputSource();
  const sub = new Capture({ sensor: 'sub-copies', source: input });
  sub.start();
  const handed: Float32Array[] = [];
  input.on('data', (ch: Float32Array[]) => handed.push(...ch));
  input.push(upOut.blocks[0], 'sub-copies');
  // Refused after its span was read (another channel count than before): its copy is zeroed too.
  const read = findRing('up-copies')!.read.bind(findRing('up-copies')!);
  const refusedCopies: Float32Array[] = [];
  findRing('up-copies')!.read = (span, opts) => {
    const r = read(span, opts);
    if (r.ok) {
      // One channel fewer than before: the test drops (and wipes) the other copy itself.
      r.channels.pop()!.fill(0);
      refusedCopies.push(...r.channels);
    }
    return r;
  };
  assert.throws(() => input.push(upOut.blocks[1], 'sub-copies'), /payload\.channels: expected 2 as before, got 1/);
  assert.equal(handed.length, 2);
  for (const c of [...handed, ...refusedCopies]) assert.equal(c.findIndex((v) => v !== 0), -1, 'an input copy still holds samples');
  assert.equal(refusedCopies.length, 1);
  await sub.stop();
  await up.stop();
});

test('WAV file source, real-time pace: a wall clock step back (NTP) does not pause the file: it plays on to its end', async () => {
  const x = sine(16000 * 2, 0.4);
  const { dir, file } = tmpWav('two-seconds-live.wav', [x], 16000);
  const src = new WavFileSource({ file, pace: 'realtime' });
  const wall = stepWallClock();
  try {
    let frames = 0;
    let ended = false;
    src.on('data', (ch: Float32Array[]) => (frames += ch[0].length));
    src.on('end', () => (ended = true));
    src.start();
    await waitFor(() => frames > 0, 10_000, 'first audio');
    wall.step(-10 * 60_000);
    // On the wall clock, the pacing would wait ten minutes before the next chunk.
    await waitFor(() => ended, 15_000, 'the end of the file');
    assert.equal(frames, x.length);
  } finally {
    wall.restore();
    await src.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
