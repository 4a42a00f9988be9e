/**
 * WAV (RIFF/WAVE) reading and writing.
 *
 * Reads PCM 8/16/24/32-bit integer and 32/64-bit float, any channel count and rate, plain
 * or WAVE_FORMAT_EXTENSIBLE. Anything else, and truncated files, give an error that says
 * what was found. Samples come back planar, scaled to [-1, 1).
 */
import * as fs from 'fs';

export type WavFormat = 'pcm8' | 'pcm16' | 'pcm24' | 'pcm32' | 'float32' | 'float64';
export const WAV_FORMATS: readonly WavFormat[] = ['pcm8', 'pcm16', 'pcm24', 'pcm32', 'float32', 'float64'];

export interface WavData {
  sampleRate: number;
  channels: Float32Array[];
  format: WavFormat;
  bitsPerSample: number;
}

const WAVE_FORMAT_PCM = 0x0001;
const WAVE_FORMAT_IEEE_FLOAT = 0x0003;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;
/** The GUID tail shared by KSDATAFORMAT_SUBTYPE_PCM / _IEEE_FLOAT (bytes 2..15). */
const KSDATAFORMAT_TAIL = Buffer.from([0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71]);
/** Size field used by streaming writers (ffmpeg to a pipe) that did not know the length. */
const UNKNOWN_SIZE = 0xffffffff;

export class WavError extends Error {
  constructor(message: string) {
    super(`WAV: ${message}`);
    this.name = 'WavError';
  }
}

export function bytesPerSample(format: WavFormat): number {
  switch (format) {
    case 'pcm8':
      return 1;
    case 'pcm16':
      return 2;
    case 'pcm24':
      return 3;
    case 'pcm32':
    case 'float32':
      return 4;
    case 'float64':
      return 8;
  }
}

function formatOf(tag: number, bits: number): WavFormat {
  if (tag === WAVE_FORMAT_PCM) {
    if (bits === 8) return 'pcm8';
    if (bits === 16) return 'pcm16';
    if (bits === 24) return 'pcm24';
    if (bits === 32) return 'pcm32';
    throw new WavError(`unsupported PCM bit depth ${bits} (expected 8, 16, 24 or 32)`);
  }
  if (tag === WAVE_FORMAT_IEEE_FLOAT) {
    if (bits === 32) return 'float32';
    if (bits === 64) return 'float64';
    throw new WavError(`unsupported float bit depth ${bits} (expected 32 or 64)`);
  }
  throw new WavError(`unsupported format tag 0x${tag.toString(16).padStart(4, '0')} (expected PCM, IEEE float or EXTENSIBLE of those)`);
}

/** Parse a whole WAV file held in memory. */
export function readWav(buf: Buffer): WavData {
  if (!Buffer.isBuffer(buf)) throw new WavError('expected a Buffer');
  if (buf.length < 12) throw new WavError(`file too short (${buf.length} bytes) for a RIFF header`);
  const riff = buf.toString('latin1', 0, 4);
  if (riff === 'RIFX' || riff === 'RF64') throw new WavError(`unsupported container "${riff}" (expected little-endian "RIFF")`);
  if (riff !== 'RIFF') throw new WavError('not a RIFF file (missing "RIFF" magic)');
  if (buf.toString('latin1', 8, 12) !== 'WAVE') throw new WavError('RIFF file is not WAVE');

  let fmt: { tag: number; channels: number; sampleRate: number; blockAlign: number; bits: number } | undefined;
  let data: { offset: number; size: number } | undefined;
  let pos = 12;
  while (pos + 8 <= buf.length) {
    const id = buf.toString('latin1', pos, pos + 4);
    const size = buf.readUInt32LE(pos + 4);
    const body = pos + 8;
    if (id === 'fmt ') {
      if (size < 16) throw new WavError(`"fmt " chunk too small (${size} bytes, expected at least 16)`);
      if (body + size > buf.length) throw new WavError('truncated file: "fmt " chunk runs past the end');
      let tag = buf.readUInt16LE(body);
      const channels = buf.readUInt16LE(body + 2);
      const sampleRate = buf.readUInt32LE(body + 4);
      const blockAlign = buf.readUInt16LE(body + 12);
      const bits = buf.readUInt16LE(body + 14);
      if (tag === WAVE_FORMAT_EXTENSIBLE) {
        if (size < 40) throw new WavError(`EXTENSIBLE "fmt " chunk too small (${size} bytes, expected 40)`);
        const cbSize = buf.readUInt16LE(body + 16);
        if (cbSize < 22) throw new WavError(`EXTENSIBLE extension too small (cbSize ${cbSize}, expected 22)`);
        const validBits = buf.readUInt16LE(body + 18);
        const sub = buf.subarray(body + 24, body + 40);
        if (!sub.subarray(2).equals(KSDATAFORMAT_TAIL)) throw new WavError('EXTENSIBLE sub-format is not a known KSDATAFORMAT GUID (expected PCM or IEEE float)');
        tag = sub.readUInt16LE(0);
        // Containers wider than the valid bits (e.g. 20 bits in 24) are read by container size.
        if (validBits > bits) throw new WavError(`EXTENSIBLE valid bits ${validBits} exceed container ${bits}`);
      }
      fmt = { tag, channels, sampleRate, blockAlign, bits };
    } else if (id === 'data') {
      const remaining = buf.length - body;
      if (size === UNKNOWN_SIZE) {
        data = { offset: body, size: remaining };
      } else {
        if (size > remaining) throw new WavError(`truncated file: "data" chunk declares ${size} bytes, only ${remaining} present`);
        data = { offset: body, size };
      }
      if (fmt) break;
    }
    if (size === UNKNOWN_SIZE) break;
    pos = body + size + (size & 1); // chunks are word-aligned
  }
  if (!fmt) throw new WavError('no "fmt " chunk');
  if (!data) throw new WavError('truncated file: no "data" chunk');
  const format = formatOf(fmt.tag, fmt.bits);
  if (fmt.channels < 1) throw new WavError('channel count is 0');
  if (fmt.sampleRate < 1) throw new WavError('sample rate is 0');
  const bps = bytesPerSample(format);
  if (fmt.blockAlign !== bps * fmt.channels) {
    throw new WavError(`block align ${fmt.blockAlign} does not match ${fmt.channels} channels of ${fmt.bits} bits (expected ${bps * fmt.channels})`);
  }
  if (data.size % fmt.blockAlign !== 0) {
    throw new WavError(`truncated file: "data" holds ${data.size} bytes, not a whole number of ${fmt.blockAlign}-byte frames`);
  }
  const frames = data.size / fmt.blockAlign;
  const channels = decodeFrames(buf, data.offset, frames, fmt.channels, format);
  return { sampleRate: fmt.sampleRate, channels, format, bitsPerSample: fmt.bits };
}

export function readWavFile(path: string): WavData {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(path);
  } catch (err) {
    throw new WavError(`cannot read "${path}": ${(err as Error).message}`);
  }
  try {
    return readWav(buf);
  } catch (err) {
    if (err instanceof WavError) throw new WavError(`${path}: ${err.message.replace(/^WAV: /, '')}`);
    throw err;
  }
}

/** Decode interleaved little-endian frames into planar float32. */
export function decodeFrames(buf: Buffer, offset: number, frames: number, channelCount: number, format: WavFormat): Float32Array[] {
  const out = Array.from({ length: channelCount }, () => new Float32Array(frames));
  const bps = bytesPerSample(format);
  let p = offset;
  for (let i = 0; i < frames; i++) {
    for (let c = 0; c < channelCount; c++) {
      out[c][i] = readSample(buf, p, format);
      p += bps;
    }
  }
  return out;
}

export function readSample(buf: Buffer, p: number, format: WavFormat): number {
  switch (format) {
    case 'pcm8':
      return (buf[p] - 128) / 128; // 8-bit WAV is unsigned
    case 'pcm16':
      return buf.readInt16LE(p) / 32768;
    case 'pcm24':
      return buf.readIntLE(p, 3) / 8388608;
    case 'pcm32':
      return buf.readInt32LE(p) / 2147483648;
    case 'float32':
      return buf.readFloatLE(p);
    case 'float64':
      return buf.readDoubleLE(p);
  }
}

function clampInt(v: number, scale: number): number {
  const s = Math.round(v * scale);
  return s > scale - 1 ? scale - 1 : s < -scale ? -scale : s;
}

export function writeSample(buf: Buffer, p: number, format: WavFormat, v: number): void {
  const x = Number.isFinite(v) ? v : 0;
  switch (format) {
    case 'pcm8':
      buf[p] = clampInt(x, 128) + 128;
      return;
    case 'pcm16':
      buf.writeInt16LE(clampInt(x, 32768), p);
      return;
    case 'pcm24':
      buf.writeIntLE(clampInt(x, 8388608), p, 3);
      return;
    case 'pcm32':
      buf.writeInt32LE(clampInt(x, 2147483648), p);
      return;
    case 'float32':
      buf.writeFloatLE(x, p);
      return;
    case 'float64':
      buf.writeDoubleLE(x, p);
      return;
  }
}

export interface EncodeWavOptions {
  /** Write a WAVE_FORMAT_EXTENSIBLE header (automatic for more than 2 channels). */
  extensible?: boolean;
}

/** Encode planar channels (equal lengths, values in [-1, 1]) as a WAV file. */
export function encodeWav(channels: ArrayLike<number>[], sampleRate: number, format: WavFormat = 'pcm16', opts: EncodeWavOptions = {}): Buffer {
  if (!Array.isArray(channels) || channels.length < 1 || channels.length > 65535) throw new WavError('encode: expected 1..65535 channels');
  if (!WAV_FORMATS.includes(format)) throw new WavError(`encode: unknown format "${String(format)}" (expected one of ${WAV_FORMATS.join(', ')})`);
  if (!Number.isInteger(sampleRate) || sampleRate < 1) throw new WavError(`encode: sample rate must be a positive integer, got ${sampleRate}`);
  const frames = channels[0].length;
  if (channels.some((c) => c.length !== frames)) throw new WavError('encode: channels differ in length');
  const bps = bytesPerSample(format);
  const bits = bps * 8;
  const blockAlign = bps * channels.length;
  const dataSize = frames * blockAlign;
  const extensible = opts.extensible ?? channels.length > 2;
  const fmtSize = extensible ? 40 : 16;
  const buf = Buffer.alloc(12 + 8 + fmtSize + 8 + dataSize + (dataSize & 1));
  buf.write('RIFF', 0, 'latin1');
  buf.writeUInt32LE(buf.length - 8, 4);
  buf.write('WAVE', 8, 'latin1');
  buf.write('fmt ', 12, 'latin1');
  buf.writeUInt32LE(fmtSize, 16);
  const tag = format.startsWith('float') ? WAVE_FORMAT_IEEE_FLOAT : WAVE_FORMAT_PCM;
  buf.writeUInt16LE(extensible ? WAVE_FORMAT_EXTENSIBLE : tag, 20);
  buf.writeUInt16LE(channels.length, 22);
  buf.writeUInt32LE(sampleRate, 24);
  buf.writeUInt32LE(sampleRate * blockAlign, 28);
  buf.writeUInt16LE(blockAlign, 32);
  buf.writeUInt16LE(bits, 34);
  let p = 36;
  if (extensible) {
    buf.writeUInt16LE(22, 36); // cbSize
    buf.writeUInt16LE(bits, 38); // valid bits
    buf.writeUInt32LE(0, 40); // channel mask: unspecified (mic arrays have no speaker layout)
    buf.writeUInt16LE(tag, 44);
    KSDATAFORMAT_TAIL.copy(buf, 46);
    p = 60;
  }
  buf.write('data', p, 'latin1');
  buf.writeUInt32LE(dataSize, p + 4);
  p += 8;
  for (let i = 0; i < frames; i++) {
    for (let c = 0; c < channels.length; c++) {
      writeSample(buf, p, format, channels[c][i]);
      p += bps;
    }
  }
  return buf;
}
