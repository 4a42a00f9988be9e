import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { encodeWav, readWav, readWavFile, WAV_FORMATS, WavFormat } from '../../lib/audio/wav';

/** Deterministic test signal: a different sine per channel, peak 0.9, plus both extremes. */
function signal(channels: number, frames: number): Float32Array[] {
  return Array.from({ length: channels }, (_, c) => {
    const a = new Float32Array(frames);
    for (let i = 0; i < frames; i++) a[i] = 0.9 * Math.sin((2 * Math.PI * (c + 1) * 3 * i) / frames);
    a[0] = -1;
    a[1] = 0.999;
    return a;
  });
}

const tolerance: Record<WavFormat, number> = {
  pcm8: 1 / 128,
  pcm16: 1 / 32768,
  pcm24: 1 / 8388608,
  pcm32: 1e-7, // float32 output resolution
  float32: 0,
  float64: 0,
};

for (const format of WAV_FORMATS) {
  for (const channels of [1, 2, 5]) {
    test(`round trip ${format}, ${channels} channel(s)`, () => {
      const x = signal(channels, 257);
      const wav = encodeWav(x, 22050, format);
      const r = readWav(wav);
      assert.equal(r.sampleRate, 22050);
      assert.equal(r.format, format);
      assert.equal(r.bitsPerSample, { pcm8: 8, pcm16: 16, pcm24: 24, pcm32: 32, float32: 32, float64: 64 }[format]);
      assert.equal(r.channels.length, channels);
      for (let c = 0; c < channels; c++) {
        assert.equal(r.channels[c].length, 257);
        let maxErr = 0;
        for (let i = 0; i < 257; i++) maxErr = Math.max(maxErr, Math.abs(r.channels[c][i] - x[c][i]));
        assert.ok(maxErr <= tolerance[format] + 1e-9, `${format} ch${c}: max error ${maxErr}`);
      }
    });
  }
}

test('known integer encodings decode to exact values', () => {
  // 16-bit: -32768 → -1, 16384 → 0.5; 8-bit unsigned: 0 → -1, 128 → 0, 192 → 0.5
  const w16 = encodeWav([new Float32Array([0])], 8000, 'pcm16');
  w16.writeInt16LE(-32768, w16.length - 2);
  assert.equal(readWav(w16).channels[0][0], -1);
  w16.writeInt16LE(16384, w16.length - 2);
  assert.equal(readWav(w16).channels[0][0], 0.5);
  const w8 = encodeWav([new Float32Array([0, 0, 0])], 8000, 'pcm8');
  const d = w8.length - 4; // 3 bytes + pad byte
  w8[d] = 0;
  w8[d + 1] = 128;
  w8[d + 2] = 192;
  assert.deepEqual(Array.from(readWav(w8).channels[0]), [-1, 0, 0.5]);
  const w24 = encodeWav([new Float32Array([0])], 8000, 'pcm24');
  w24.writeIntLE(-4194304, w24.length - 4, 3);
  assert.equal(readWav(w24).channels[0][0], -0.5);
});

/** A hand-built WAVE_FORMAT_EXTENSIBLE header, byte by byte, independent of encodeWav. */
function handBuiltExtensible(subformat: number, bits: number, validBits: number, samples: Buffer, channels: number): Buffer {
  const fmt = Buffer.alloc(40);
  fmt.writeUInt16LE(0xfffe, 0);
  fmt.writeUInt16LE(channels, 2);
  fmt.writeUInt32LE(48000, 4);
  fmt.writeUInt32LE((48000 * channels * bits) / 8, 8);
  fmt.writeUInt16LE((channels * bits) / 8, 12);
  fmt.writeUInt16LE(bits, 14);
  fmt.writeUInt16LE(22, 16);
  fmt.writeUInt16LE(validBits, 18);
  fmt.writeUInt32LE(0x3, 20); // front left | front right
  // GUID 0000000X-0000-0010-8000-00AA00389B71 in its little-endian byte layout
  Buffer.from([subformat, 0, 0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xaa, 0, 0x38, 0x9b, 0x71]).copy(fmt, 24);
  const list = Buffer.concat([Buffer.from('LIST'), Buffer.from([4, 0, 0, 0]), Buffer.from('INFO')]);
  const chunks = Buffer.concat([
    Buffer.from('fmt '),
    u32(40),
    fmt,
    list, // an unrelated chunk before data must be skipped
    Buffer.from('data'),
    u32(samples.length),
    samples,
  ]);
  return Buffer.concat([Buffer.from('RIFF'), u32(chunks.length + 4), Buffer.from('WAVE'), chunks]);
}

function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v, 0);
  return b;
}

test('WAVE_FORMAT_EXTENSIBLE PCM 24-in-24 (20 valid bits), stereo, hand-built header', () => {
  const s = Buffer.alloc(12);
  s.writeIntLE(4194304, 0, 3); // L0 = 0.5
  s.writeIntLE(-8388608, 3, 3); // R0 = -1
  s.writeIntLE(-2097152, 6, 3); // L1 = -0.25
  s.writeIntLE(0, 9, 3); // R1 = 0
  const r = readWav(handBuiltExtensible(1, 24, 20, s, 2));
  assert.equal(r.format, 'pcm24');
  assert.equal(r.sampleRate, 48000);
  assert.deepEqual(Array.from(r.channels[0]), [0.5, -0.25]);
  assert.deepEqual(Array.from(r.channels[1]), [-1, 0]);
});

test('WAVE_FORMAT_EXTENSIBLE IEEE float 32, hand-built header', () => {
  const s = Buffer.alloc(8);
  s.writeFloatLE(0.125, 0);
  s.writeFloatLE(-0.75, 4);
  const r = readWav(handBuiltExtensible(3, 32, 32, s, 1));
  assert.equal(r.format, 'float32');
  assert.deepEqual(Array.from(r.channels[0]), [0.125, -0.75]);
});

test('encodeWav extensible option round-trips and is read as EXTENSIBLE', () => {
  const x = signal(2, 64);
  const wav = encodeWav(x, 16000, 'pcm16', { extensible: true });
  assert.equal(wav.readUInt16LE(20), 0xfffe);
  assert.equal(readWav(wav).channels[1][5], Math.round(x[1][5] * 32768) / 32768);
});

test('unsupported formats are refused with a clear message', () => {
  const alaw = encodeWav([new Float32Array(4)], 8000, 'pcm16');
  alaw.writeUInt16LE(6, 20); // A-law
  assert.throws(() => readWav(alaw), /unsupported format tag 0x0006/);
  const pcm12 = encodeWav([new Float32Array(4)], 8000, 'pcm16');
  pcm12.writeUInt16LE(12, 34);
  assert.throws(() => readWav(pcm12), /unsupported PCM bit depth 12/);
  const f16 = encodeWav([new Float32Array(4)], 8000, 'float32');
  f16.writeUInt16LE(16, 34);
  assert.throws(() => readWav(f16), /unsupported float bit depth 16/);
  const ext = handBuiltExtensible(2, 16, 16, Buffer.alloc(4), 1); // ADPCM sub-format
  assert.throws(() => readWav(ext), /unsupported format tag 0x0002/);
  const badGuid = handBuiltExtensible(1, 16, 16, Buffer.alloc(4), 1);
  badGuid[12 + 8 + 24 + 15] = 0x00; // corrupt the GUID tail
  assert.throws(() => readWav(badGuid), /sub-format is not a known KSDATAFORMAT GUID/);
  const rifx = encodeWav([new Float32Array(4)], 8000, 'pcm16');
  rifx.write('RIFX', 0, 'latin1');
  assert.throws(() => readWav(rifx), /unsupported container "RIFX"/);
  assert.throws(() => readWav(Buffer.from('ID3\x03 this is an mp3 file....')), /not a RIFF file/);
  const avi = encodeWav([new Float32Array(4)], 8000, 'pcm16');
  avi.write('AVI ', 8, 'latin1');
  assert.throws(() => readWav(avi), /not WAVE/);
});

test('broken and truncated files give a clear error', () => {
  const wav = encodeWav(signal(2, 100), 16000, 'pcm16');
  assert.throws(() => readWav(wav.subarray(0, 8)), /too short/);
  assert.throws(() => readWav(wav.subarray(0, 30)), /truncated file: "fmt " chunk/);
  assert.throws(() => readWav(wav.subarray(0, 36)), /truncated file: no "data" chunk/);
  assert.throws(() => readWav(wav.subarray(0, wav.length - 10)), /truncated file: "data" chunk declares 400 bytes, only 390 present/);
  const noFmt = Buffer.concat([Buffer.from('RIFF'), u32(12), Buffer.from('WAVE'), Buffer.from('data'), u32(0)]);
  assert.throws(() => readWav(noFmt), /no "fmt " chunk/);
  const badAlign = Buffer.from(wav);
  badAlign.writeUInt16LE(3, 32);
  assert.throws(() => readWav(badAlign), /block align 3 does not match 2 channels of 16 bits/);
  const partialFrame = Buffer.from(wav);
  partialFrame.writeUInt32LE(398, 40);
  assert.throws(() => readWav(partialFrame), /not a whole number of 4-byte frames/);
  const zeroCh = Buffer.from(wav);
  zeroCh.writeUInt16LE(0, 22);
  assert.throws(() => readWav(zeroCh), /channel count is 0|block align/);
});

test('a streamed WAV (data size 0xFFFFFFFF, as ffmpeg writes to a pipe) reads to the end', () => {
  const wav = encodeWav(signal(1, 50), 8000, 'pcm16');
  wav.writeUInt32LE(0xffffffff, 40);
  assert.equal(readWav(wav).channels[0].length, 50);
});

test('readWavFile reads from disk and names the file in errors', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-wav-'));
  try {
    const p = path.join(dir, 'ok.wav');
    fs.writeFileSync(p, encodeWav(signal(3, 40), 44100, 'float32'));
    const r = readWavFile(p);
    assert.equal(r.channels.length, 3);
    assert.equal(r.sampleRate, 44100);
    const bad = path.join(dir, 'bad.wav');
    fs.writeFileSync(bad, Buffer.from('nothing useful here'));
    assert.throws(() => readWavFile(bad), (e: Error) => e.message.includes('bad.wav') && /not a RIFF/.test(e.message));
    assert.throws(() => readWavFile(path.join(dir, 'missing.wav')), /cannot read .*missing\.wav/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('encoder clips out-of-range values and refuses bad arguments', () => {
  const r = readWav(encodeWav([new Float32Array([2, -2, NaN])], 8000, 'pcm16'));
  assert.deepEqual(Array.from(r.channels[0]), [32767 / 32768, -1, 0]);
  assert.throws(() => encodeWav([new Float32Array(2), new Float32Array(3)], 8000), /differ in length/);
  assert.throws(() => encodeWav([new Float32Array(2)], 0), /sample rate/);
  assert.throws(() => encodeWav([new Float32Array(2)], 8000, 'mp3' as WavFormat), /unknown format "mp3"/);
});
