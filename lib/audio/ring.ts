/**
 * AudioRing: the only place where a sensor's samples exist (DESIGN §4.2).
 *
 * One ring per sensor, multichannel float32, bounded capacity, continuously overwritten.
 * Nothing outside this process can reach it: messages carry an `AudioSpan` reference
 * (sensor, start, frames) and readers call `readSpan`, which says explicitly when any part
 * of the span has been overwritten or falls across a recorded gap.
 *
 * Samples are also bounded in time: a sample is readable for at most the ring's length
 * (`seconds`) after it was written, then zeroed. While a live source delivers, overwriting
 * does that anyway; when it stops (a file that ended, an unplugged microphone, a camera that
 * went down) nothing overwrites the ring, and the age rule zeroes it instead of leaving the
 * last seconds of street audio in memory until the ring closes.
 */

import { monotonicMs } from '../util/clock';

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
  /** Capacity in seconds, default 5 s, capped at 30 s; also how long a sample stays readable. */
  seconds?: number;
  /** Clock for the age of samples, ms (tests); a monotonic clock by default. */
  now?: () => number;
}

/** When a sample was written: frames before `end` were written at `atMs` or later. */
interface WriteRecord {
  end: number;
  atMs: number;
}

/**
 * Writes closer than this fraction of the ring's length share one record (the earliest
 * time): the records and the expiry timer's wake-ups stay few, and merged samples expire at
 * most this fraction early, never late.
 */
const WRITE_RECORD_FRACTION = 1 / 50;

export class AudioRing {
  readonly sensor: string;
  readonly sampleRate: number;
  readonly channelCount: number;
  readonly capacityFrames: number;
  /** How long a sample stays readable after it was written (the ring's length), ms. */
  readonly lifeMs: number;
  private data: Float32Array[];
  /** Total frames written since the ring was created (index of the next frame). */
  private writtenFrames = 0;
  private gaps: AudioGap[] = [];
  private closed = false;
  private readonly now: () => number;
  private readonly mergeWritesMs: number;
  /** Write times of the frames still held, oldest first. */
  private writes: WriteRecord[] = [];
  /** Frames before this index outlived `lifeMs`: zeroed, and read as expired. */
  private agedOutBefore = 0;
  private expiryTimer: ReturnType<typeof setTimeout> | undefined;

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
    this.lifeMs = seconds * 1000;
    this.mergeWritesMs = this.lifeMs * WRITE_RECORD_FRACTION;
    this.now = opts.now ?? monotonicMs;
    this.data = Array.from({ length: opts.channels }, () => new Float32Array(this.capacityFrames));
  }

  /** Index of the next frame to be written (= total frames written so far). */
  get end(): number {
    return this.writtenFrames;
  }

  /** Oldest frame index still held: neither overwritten nor older than the ring's length. */
  get oldest(): number {
    this.expire();
    return this.heldFrom();
  }

  /** `oldest` without the age check (for callers that have just made it). */
  private heldFrom(): number {
    return Math.max(0, this.writtenFrames - this.capacityFrames, this.agedOutBefore);
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
    this.expire();
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
    if (n > 0) this.recordWrite();
    // Forget gaps that have scrolled out of the ring (ages were checked above, just before this write).
    const oldest = this.heldFrom();
    if (this.gaps.length && this.gaps[0].at <= oldest) this.gaps = this.gaps.filter((g) => g.at > oldest);
    return first;
  }

  private recordWrite(): void {
    const atMs = this.now();
    const last = this.writes[this.writes.length - 1];
    if (last && atMs - last.atMs < this.mergeWritesMs) {
      last.end = this.writtenFrames;
      // The earliest time: a clock that stepped back cannot extend a sample's life.
      last.atMs = Math.min(last.atMs, atMs);
    } else this.writes.push({ end: this.writtenFrames, atMs });
    this.armExpiry();
  }

  /**
   * Zero the frames written more than `lifeMs` ago that are not overwritten yet, and drop the
   * records of frames no longer held. Called on every write and read, and by a timer while
   * the ring holds samples (so a ring nobody writes or reads is zeroed too).
   */
  private expire(): void {
    if (this.closed) return;
    const nowMs = this.now();
    let agedOutBefore = this.agedOutBefore;
    while (this.writes.length && nowMs - this.writes[0].atMs >= this.lifeMs) {
      agedOutBefore = Math.max(agedOutBefore, this.writes[0].end);
      this.writes.shift();
    }
    const overwrittenBefore = this.writtenFrames - this.capacityFrames;
    while (this.writes.length && this.writes[0].end <= overwrittenBefore) this.writes.shift();
    if (agedOutBefore > this.agedOutBefore) {
      this.zeroFrames(Math.max(this.agedOutBefore, overwrittenBefore, 0), agedOutBefore);
      this.agedOutBefore = agedOutBefore;
    }
  }

  /** Zero frames [from, to), all still in the ring (not overwritten). */
  private zeroFrames(from: number, to: number): void {
    if (to <= from) return;
    const p0 = from % this.capacityFrames;
    const n = to - from;
    const firstPart = Math.min(n, this.capacityFrames - p0);
    for (const ch of this.data) {
      ch.fill(0, p0, p0 + firstPart);
      if (firstPart < n) ch.fill(0, 0, n - firstPart);
    }
  }

  /** One timer at a time, for when the oldest record outlives `lifeMs`; unref'd, cleared on close. */
  private armExpiry(): void {
    if (this.closed || this.expiryTimer || !this.writes.length) return;
    // At most lifeMs: an injected clock that stepped back cannot push the wake-up out (nor overflow the timer).
    const delayMs = Math.min(this.lifeMs, Math.max(0, this.writes[0].atMs + this.lifeMs - this.now()));
    this.expiryTimer = setTimeout(() => {
      this.expiryTimer = undefined;
      this.expire();
      this.armExpiry();
    }, delayMs);
    this.expiryTimer.unref?.();
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
    const oldest = this.oldest;
    if (start < oldest) {
      const overwritten = start < this.writtenFrames - this.capacityFrames;
      return {
        ok: false,
        reason: 'expired',
        message: overwritten
          ? `span starting at frame ${start} was overwritten (oldest held: ${oldest})`
          : `span starting at frame ${start} was written more than the ring's ${this.lifeMs / 1000} s ago; its samples were zeroed (oldest held: ${oldest})`,
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

  /** Zero every sample and release the buffers and the expiry timer. */
  close(): void {
    if (this.closed) return;
    clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
    for (const ch of this.data) ch.fill(0);
    this.data = [];
    this.gaps = [];
    this.writes = [];
    this.closed = true;
  }
}
