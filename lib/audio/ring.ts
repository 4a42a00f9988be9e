/**
 * AudioRing: the only place where a sensor's samples exist (DESIGN §4.2).
 *
 * One ring per sensor, multichannel float32, bounded capacity, continuously overwritten.
 * Nothing outside this process can reach it: messages carry an `AudioSpan` reference
 * (sensor, start, frames) and readers call `readSpan`, which says explicitly when any part
 * of the span has been overwritten or falls across a recorded gap.
 */

export const DEFAULT_RING_SECONDS = 5;
export const MAX_RING_SECONDS = 30;

/** A reference to samples of one sensor: frame indices since capture began. */
export interface AudioSpan {
  sensor: string;
  start: number;
  frames: number;
}

export type RingReadResult =
  | { ok: true; sampleRate: number; channels: Float32Array[]; start: number; frames: number }
  | { ok: false; reason: 'expired' | 'future' | 'gap' | 'closed' | 'unknown-sensor' | 'invalid'; message: string };

export interface AudioGap {
  /** First frame index after the gap (frames before it are older capture). */
  at: number;
  reason: string;
}

export interface AudioRingOptions {
  sensor: string;
  sampleRate: number;
  channels: number;
  /** Capacity in seconds, default 5 s, capped at 30 s. */
  seconds?: number;
}

export class AudioRing {
  readonly sensor: string;
  readonly sampleRate: number;
  readonly channelCount: number;
  readonly capacityFrames: number;
  private data: Float32Array[];
  /** Total frames written since the ring was created (index of the next frame). */
  private writtenFrames = 0;
  private gaps: AudioGap[] = [];
  private closed = false;

  constructor(opts: AudioRingOptions) {
    if (!opts.sensor || typeof opts.sensor !== 'string') throw new Error('AudioRing: "sensor" must be a non-empty string');
    if (!Number.isFinite(opts.sampleRate) || opts.sampleRate < 1000 || opts.sampleRate > 384000) {
      throw new Error(`AudioRing: "sampleRate" must be between 1000 and 384000 Hz, got ${opts.sampleRate}`);
    }
    if (!Number.isInteger(opts.channels) || opts.channels < 1 || opts.channels > 64) {
      throw new Error(`AudioRing: "channels" must be an integer 1..64, got ${opts.channels}`);
    }
    const seconds = opts.seconds ?? DEFAULT_RING_SECONDS;
    if (!Number.isFinite(seconds) || seconds <= 0) throw new Error(`AudioRing: "seconds" must be > 0, got ${seconds}`);
    if (seconds > MAX_RING_SECONDS) {
      throw new Error(`AudioRing: "seconds" must be at most ${MAX_RING_SECONDS} (privacy hard cap), got ${seconds}`);
    }
    this.sensor = opts.sensor;
    this.sampleRate = opts.sampleRate;
    this.channelCount = opts.channels;
    this.capacityFrames = Math.max(1, Math.round(seconds * opts.sampleRate));
    this.data = Array.from({ length: opts.channels }, () => new Float32Array(this.capacityFrames));
  }

  /** Index of the next frame to be written (= total frames written so far). */
  get end(): number {
    return this.writtenFrames;
  }

  /** Oldest frame index still held. */
  get oldest(): number {
    return Math.max(0, this.writtenFrames - this.capacityFrames);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Append planar samples (one Float32Array per channel, equal lengths).
   * Returns the frame index of the first written frame.
   */
  write(channels: ArrayLike<number>[]): number {
    if (this.closed) throw new Error(`AudioRing ${this.sensor}: write after close`);
    if (channels.length !== this.channelCount) {
      throw new Error(`AudioRing ${this.sensor}: expected ${this.channelCount} channels, got ${channels.length}`);
    }
    const n = channels[0].length;
    for (const ch of channels) {
      if (ch.length !== n) throw new Error(`AudioRing ${this.sensor}: channels differ in length`);
    }
    const first = this.writtenFrames;
    // Only the last `capacity` frames of an oversized write can survive.
    const skip = Math.max(0, n - this.capacityFrames);
    for (let c = 0; c < this.channelCount; c++) {
      const src = channels[c];
      const dst = this.data[c];
      let pos = (first + skip) % this.capacityFrames;
      for (let i = skip; i < n; i++) {
        dst[pos] = src[i];
        pos++;
        if (pos === this.capacityFrames) pos = 0;
      }
    }
    this.writtenFrames += n;
    // Forget gaps that have scrolled out of the ring.
    const oldest = this.oldest;
    if (this.gaps.length && this.gaps[0].at <= oldest) this.gaps = this.gaps.filter((g) => g.at > oldest);
    return first;
  }

  /** Record a discontinuity (capture restart, dropped buffer) before the next write. */
  markGap(reason: string): void {
    if (this.closed) return;
    if (this.writtenFrames === 0) return;
    this.gaps.push({ at: this.writtenFrames, reason });
  }

  /** Gaps still inside the ring (for health reporting). */
  listGaps(): readonly AudioGap[] {
    return this.gaps.slice();
  }

  /** Read a span; any overwritten, unwritten, or gap-crossing part is reported, never silently padded. */
  read(span: { start: number; frames: number }, opts: { allowGaps?: boolean } = {}): RingReadResult {
    if (this.closed) return { ok: false, reason: 'closed', message: `ring of sensor "${this.sensor}" is closed` };
    const { start, frames } = span;
    if (!Number.isInteger(start) || start < 0 || !Number.isInteger(frames) || frames < 0) {
      return { ok: false, reason: 'invalid', message: `span start/frames must be non-negative integers, got ${start}/${frames}` };
    }
    if (frames > this.capacityFrames) {
      return { ok: false, reason: 'invalid', message: `span of ${frames} frames exceeds ring capacity ${this.capacityFrames}` };
    }
    if (start + frames > this.writtenFrames) {
      return { ok: false, reason: 'future', message: `span ends at frame ${start + frames}, only ${this.writtenFrames} written` };
    }
    if (start < this.oldest) {
      return {
        ok: false,
        reason: 'expired',
        message: `span starting at frame ${start} was overwritten (oldest held: ${this.oldest})`,
      };
    }
    if (!opts.allowGaps) {
      const g = this.gaps.find((g) => g.at > start && g.at < start + frames);
      if (g) return { ok: false, reason: 'gap', message: `span crosses a gap at frame ${g.at} (${g.reason})` };
    }
    const out: Float32Array[] = [];
    for (let c = 0; c < this.channelCount; c++) {
      const dst = new Float32Array(frames);
      const src = this.data[c];
      const p0 = start % this.capacityFrames;
      const firstPart = Math.min(frames, this.capacityFrames - p0);
      dst.set(src.subarray(p0, p0 + firstPart), 0);
      if (firstPart < frames) dst.set(src.subarray(0, frames - firstPart), firstPart);
      out.push(dst);
    }
    return { ok: true, sampleRate: this.sampleRate, channels: out, start, frames };
  }

  /** Zero every sample and release the buffers. */
  close(): void {
    if (this.closed) return;
    for (const ch of this.data) ch.fill(0);
    this.data = [];
    this.gaps = [];
    this.closed = true;
  }
}
