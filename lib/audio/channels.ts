/**
 * Channel selection and interleaved PCM decoding for capture pipes.
 *
 * A channel map lists, for each output channel, the index of the input channel it takes:
 * "0,1,3" keeps channels 0, 1 and 3 of a 4-channel device (e.g. drop a reference channel);
 * "1,0" swaps a pair. The same input channel may appear twice.
 */
import { bytesPerSample, readSample, WavFormat, writeSample } from './wav';

/** Sample formats of raw capture pipes (arecord / ffmpeg), little-endian. */
export type PcmFormat = 'S16_LE' | 'S24_3LE' | 'S32_LE' | 'FLOAT_LE' | 'U8';
export const PCM_FORMATS: readonly PcmFormat[] = ['S16_LE', 'S24_3LE', 'S32_LE', 'FLOAT_LE', 'U8'];

const PCM_TO_WAV: Record<PcmFormat, WavFormat> = {
  U8: 'pcm8',
  S16_LE: 'pcm16',
  S24_3LE: 'pcm24',
  S32_LE: 'pcm32',
  FLOAT_LE: 'float32',
};

export function pcmBytesPerSample(format: PcmFormat): number {
  return bytesPerSample(PCM_TO_WAV[format]);
}

/**
 * Parse "0,1,3" (spaces allowed). Empty / undefined means "all channels in order" (returns
 * undefined). With `inputChannels`, each index is checked against it. Errors name `field`.
 */
export function parseChannelMap(text: string | undefined | null, inputChannels?: number, field = 'channelMap'): number[] | undefined {
  if (text === undefined || text === null || String(text).trim() === '') return undefined;
  const parts = String(text).split(',').map((s) => s.trim());
  const map: number[] = [];
  for (const p of parts) {
    if (!/^\d+$/.test(p)) throw new Error(`${field}: expected comma-separated channel indices from 0 (e.g. "0,1,3"), got "${text}"`);
    const i = Number(p);
    if (inputChannels !== undefined && i >= inputChannels) {
      throw new Error(`${field}: channel ${i} does not exist (the source has ${inputChannels} channel${inputChannels === 1 ? '' : 's'}, 0..${inputChannels - 1})`);
    }
    map.push(i);
  }
  if (map.length > 64) throw new Error(`${field}: at most 64 output channels, got ${map.length}`);
  return map;
}

/** Apply a map to planar channels (no copy of the sample data: the arrays are shared). */
export function applyChannelMap(channels: Float32Array[], map: readonly number[] | undefined): Float32Array[] {
  if (!map) return channels;
  return map.map((i) => {
    const ch = channels[i];
    if (!ch) throw new Error(`channel map: input channel ${i} does not exist (got ${channels.length} channels)`);
    return ch;
  });
}

/**
 * Decodes a raw interleaved PCM byte stream into planar float32 blocks. Pipes split
 * anywhere, even inside a sample: the bytes of an incomplete frame are kept for the next
 * chunk.
 */
export class InterleavedDecoder {
  readonly format: PcmFormat;
  readonly channels: number;
  readonly frameBytes: number;
  private carry: Buffer = Buffer.alloc(0);

  constructor(format: PcmFormat, channels: number) {
    if (!PCM_FORMATS.includes(format)) throw new Error(`format: expected one of ${PCM_FORMATS.join(', ')}, got "${format}"`);
    if (!Number.isInteger(channels) || channels < 1 || channels > 64) throw new Error(`channels: expected an integer 1..64, got ${channels}`);
    this.format = format;
    this.channels = channels;
    this.frameBytes = pcmBytesPerSample(format) * channels;
  }

  /**
   * Decode a chunk; returns planar channels (possibly 0 frames). The copies it makes of the
   * bytes (the remainder joined to the next chunk) are zeroed once decoded: they are audio
   * (DESIGN §4.2). The chunk itself is the caller's to zero.
   */
  push(chunk: Buffer): Float32Array[] {
    const prev = this.carry;
    let buf = chunk;
    if (prev.length) buf = Buffer.concat([prev, chunk]);
    const frames = Math.floor(buf.length / this.frameBytes);
    const used = frames * this.frameBytes;
    // Copy the remainder: the chunk's memory may be reused by the stream.
    this.carry = used < buf.length ? Buffer.from(buf.subarray(used)) : Buffer.alloc(0);
    const out = decodeInterleavedFrames(buf, frames, this.format, this.channels);
    prev.fill(0);
    if (buf !== chunk) buf.fill(0);
    return out;
  }

  /** Bytes of an incomplete frame waiting for the next chunk. */
  get pendingBytes(): number {
    return this.carry.length;
  }

  /** A copy of those bytes. */
  get pending(): Buffer {
    return Buffer.from(this.carry);
  }

  reset(): void {
    this.carry.fill(0);
    this.carry = Buffer.alloc(0);
  }
}

function decodeInterleavedFrames(buf: Buffer, frames: number, format: PcmFormat, channels: number): Float32Array[] {
  const out = Array.from({ length: channels }, () => new Float32Array(frames));
  if (format === 'FLOAT_LE' && buf.byteOffset % 4 === 0) {
    // Fast path: view the bytes as floats when aligned (the usual case for ffmpeg pipes).
    const f = new Float32Array(buf.buffer, buf.byteOffset, frames * channels);
    for (let i = 0, k = 0; i < frames; i++) for (let c = 0; c < channels; c++) out[c][i] = f[k++];
    return out;
  }
  const wf = PCM_TO_WAV[format];
  const bps = pcmBytesPerSample(format);
  let p = 0;
  for (let i = 0; i < frames; i++) {
    for (let c = 0; c < channels; c++) {
      out[c][i] = readSample(buf, p, wf);
      p += bps;
    }
  }
  return out;
}

/**
 * Stateless form: decode `buf` (prefixed by `carry` left from the previous chunk) and
 * return the planar frames and the new carry.
 */
export function decodeInterleaved(buf: Buffer, format: PcmFormat, channels: number, carry: Buffer = Buffer.alloc(0)): { channels: Float32Array[]; carry: Buffer } {
  const d = new InterleavedDecoder(format, channels);
  if (carry.length) d.push(carry);
  const out = d.push(buf);
  return { channels: out, carry: d.pending };
}

/** Interleave planar channels into a PCM buffer (for tests and test fixtures of pipes). */
export function encodeInterleaved(channels: ArrayLike<number>[], format: PcmFormat): Buffer {
  const frames = channels[0]?.length ?? 0;
  const bps = pcmBytesPerSample(format);
  const buf = Buffer.alloc(frames * channels.length * bps);
  const wf = PCM_TO_WAV[format];
  let p = 0;
  for (let i = 0; i < frames; i++) {
    for (let c = 0; c < channels.length; c++) {
      writeSample(buf, p, wf, channels[c][i]);
      p += bps;
    }
  }
  return buf;
}
