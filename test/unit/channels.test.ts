import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyChannelMap, decodeInterleaved, encodeInterleaved, InterleavedDecoder, parseChannelMap, PCM_FORMATS } from '../../lib/audio/channels';

test('parseChannelMap parses, validates and names the field', () => {
  assert.deepEqual(parseChannelMap('0,1,3'), [0, 1, 3]);
  assert.deepEqual(parseChannelMap(' 2 , 0 '), [2, 0]);
  assert.equal(parseChannelMap(''), undefined);
  assert.equal(parseChannelMap(undefined), undefined);
  assert.throws(() => parseChannelMap('0,a'), /channelMap: expected comma-separated channel indices/);
  assert.throws(() => parseChannelMap('0,-1'), /channelMap: expected/);
  assert.throws(() => parseChannelMap('0,4', 4), /channelMap: channel 4 does not exist \(the source has 4 channels, 0..3\)/);
  assert.throws(() => parseChannelMap('1', 1, 'mics'), /^Error: mics: channel 1/);
});

test('applyChannelMap selects, reorders and duplicates channels', () => {
  const chans = [0, 1, 2, 3].map((c) => Float32Array.from([c, c + 10]));
  const out = applyChannelMap(chans, [3, 0, 0]);
  assert.deepEqual(out.map((c) => Array.from(c)), [[3, 13], [0, 10], [0, 10]]);
  assert.equal(applyChannelMap(chans, undefined), chans);
  assert.throws(() => applyChannelMap(chans, [5]), /input channel 5 does not exist/);
});

function testSignal(channels: number, frames: number): Float32Array[] {
  return Array.from({ length: channels }, (_, c) => Float32Array.from({ length: frames }, (_, i) => Math.sin(i * 0.37 + c) * 0.8));
}

for (const format of PCM_FORMATS) {
  test(`decoder (${format}) gives the same frames however the pipe splits the bytes`, () => {
    const x = testSignal(3, 101);
    const bytes = encodeInterleaved(x, format);
    const whole = new InterleavedDecoder(format, 3).push(bytes);
    assert.equal(whole[0].length, 101);
    const tol = format === 'U8' ? 1 / 128 : format === 'S16_LE' ? 1 / 32768 : 1e-6;
    for (let c = 0; c < 3; c++) for (let i = 0; i < 101; i++) assert.ok(Math.abs(whole[c][i] - x[c][i]) <= tol, `${format} c${c} i${i}`);
    // Split at every awkward place: 1 byte, odd sizes, mid-sample.
    for (const sizes of [[1], [7], [5, 1, 13], [bytes.length - 1]]) {
      const d = new InterleavedDecoder(format, 3);
      const got: number[][] = [[], [], []];
      let p = 0;
      let k = 0;
      while (p < bytes.length) {
        const n = Math.min(sizes[k++ % sizes.length], bytes.length - p);
        const part = d.push(bytes.subarray(p, p + n));
        for (let c = 0; c < 3; c++) got[c].push(...part[c]);
        p += n;
      }
      assert.equal(d.pendingBytes, 0);
      assert.deepEqual(got, whole.map((c) => Array.from(c)), `split ${sizes}`);
    }
  });
}

test('decodeInterleaved returns the carry of a partial frame', () => {
  const bytes = encodeInterleaved(testSignal(2, 4), 'S16_LE'); // 16 bytes
  const a = decodeInterleaved(bytes.subarray(0, 11), 'S16_LE', 2);
  assert.equal(a.channels[0].length, 2);
  assert.equal(a.carry.length, 3);
  const b = decodeInterleaved(bytes.subarray(11), 'S16_LE', 2, a.carry);
  assert.equal(b.channels[0].length, 2);
  assert.equal(b.carry.length, 0);
  const whole = decodeInterleaved(bytes, 'S16_LE', 2).channels;
  assert.deepEqual(Array.from(b.channels[1]), Array.from(whole[1].subarray(2)));
});

test('float decoder works on unaligned buffers', () => {
  const x = testSignal(1, 8);
  const bytes = encodeInterleaved(x, 'FLOAT_LE');
  const shifted = Buffer.alloc(bytes.length + 1);
  bytes.copy(shifted, 1);
  const out = new InterleavedDecoder('FLOAT_LE', 1).push(shifted.subarray(1));
  assert.deepEqual(Array.from(out[0]), Array.from(x[0]));
  assert.throws(() => new InterleavedDecoder('S8' as never, 1), /format: expected one of/);
  assert.throws(() => new InterleavedDecoder('S16_LE', 0), /channels: expected an integer/);
});
