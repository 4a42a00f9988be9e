/**
 * A WAV file played into the ring, once or looped, paced in real time or as fast as the
 * event loop allows (tests, batch evaluation). The file is read once into memory; nothing
 * is written anywhere.
 */
import * as path from 'path';
import { monotonicMs } from '../../util/clock';
import { resample } from '../resample';
import { readWavFile, WavData } from '../wav';
import { CaptureSource } from './source';

export interface WavFileOptions {
  /** Absolute, or relative to `baseDir` (the Node-RED user directory). */
  file: string;
  baseDir?: string;
  loop?: boolean;
  /** 'realtime' (default) or 'fast'. */
  pace?: 'realtime' | 'fast';
  /** Chunk length, ms (default 20 ms in real time, 100 ms fast). */
  chunkMs?: number;
  /** Resample to this rate if the file differs (default: the file's rate). */
  sampleRate?: number;
  /**
   * Reads and decodes the file at the resolved path (default `readWavFile`): another store or
   * container can be plugged in here. The source owns what it returns: it plays from those
   * arrays, or zeroes them once resampled, and zeroes what it plays from when it stops.
   */
  readWav?: (path: string) => WavData;
}

export function resolveWavPath(file: string, baseDir?: string): string {
  return path.isAbsolute(file) ? file : path.resolve(baseDir ?? process.cwd(), file);
}

/** `channels` at `toHz`; the originals are zeroed once converted, like every copy of samples (DESIGN §4.2). */
export function convertRateZeroing(channels: Float32Array[], fromHz: number, toHz: number): Float32Array[] {
  return channels.map((c) => {
    const converted = resample(c, fromHz, toHz);
    c.fill(0);
    return converted;
  });
}

export class WavFileSource extends CaptureSource {
  readonly kind = 'wav';
  readonly path: string;
  private readonly opts: WavFileOptions;
  private audio: Float32Array[] = [];
  private pos = 0;
  private sentFrames = 0;
  /** When playing started, on the monotonic clock (a wall clock step must not skip or pause the file). */
  private startMs = 0;
  private timer: NodeJS.Timeout | null = null;
  private immediate: NodeJS.Immediate | null = null;
  private running = false;
  /** Times the file has wrapped around (loop mode). */
  loops = 0;

  constructor(opts: WavFileOptions) {
    super();
    if (!opts.file || typeof opts.file !== 'string') throw new Error('file: expected the path of a WAV file');
    this.opts = opts;
    this.path = resolveWavPath(opts.file, opts.baseDir);
    this.realtime = (opts.pace ?? 'realtime') === 'realtime';
  }

  /** Reads the file (throws a clear error naming it if unreadable). */
  load(): void {
    const wav = (this.opts.readWav ?? readWavFile)(this.path);
    let channels = wav.channels;
    let rate = wav.sampleRate;
    const target = this.opts.sampleRate;
    if (target && target !== rate) {
      channels = convertRateZeroing(channels, rate, target);
      rate = target;
    }
    if (channels[0].length === 0) throw new Error(`file: "${this.path}" holds no audio frames`);
    this.audio = channels;
    this.sampleRate = rate;
    this.channels = channels.length;
  }

  start(): void {
    if (this.running) return;
    try {
      if (!this.audio.length) this.load();
    } catch (err) {
      this.setStatus('failed', (err as Error).message.slice(0, 120));
      this.fault(err as Error);
      return;
    }
    this.running = true;
    this.startMs = monotonicMs();
    this.sentFrames = 0;
    this.setStatus('running', `playing ${path.basename(this.path)}`);
    if (this.realtime) {
      const chunkMs = this.opts.chunkMs ?? 20;
      this.timer = setInterval(() => this.tickRealtime(), chunkMs);
    } else {
      this.scheduleFast();
    }
  }

  private chunkFrames(): number {
    return Math.max(1, Math.round((this.sampleRate * (this.opts.chunkMs ?? (this.realtime ? 20 : 100))) / 1000));
  }

  private tickRealtime(): void {
    const due = Math.floor(((monotonicMs() - this.startMs) * this.sampleRate) / 1000) - this.sentFrames;
    // After a long event-loop stall, do not burst more than 1 s.
    let n = Math.min(due, this.sampleRate);
    if (due > this.sampleRate) this.sentFrames += due - this.sampleRate;
    while (n > 0 && this.running) n -= this.emitFrames(n);
  }

  private scheduleFast(): void {
    this.immediate = setImmediate(() => {
      this.immediate = null;
      if (!this.running) return;
      this.emitFrames(this.chunkFrames());
      if (this.running) this.scheduleFast();
    });
  }

  /** Emit up to n frames from the current position; returns how many were consumed (≥ 1). */
  private emitFrames(n: number): number {
    const len = this.audio[0].length;
    const take = Math.min(n, len - this.pos);
    const block = this.audio.map((c) => c.slice(this.pos, this.pos + take));
    this.pos += take;
    this.sentFrames += take;
    try {
      this.emitData(block);
    } finally {
      // The slice is a copy of the file's audio: zeroed once the capture has written it (DESIGN §4.2).
      for (const c of block) c.fill(0);
    }
    if (this.pos >= len) {
      if (this.opts.loop) {
        this.pos = 0;
        this.loops++;
      } else {
        this.finish();
      }
    }
    return Math.max(1, take);
  }

  private finish(): void {
    this.clearTimers();
    this.running = false;
    this.setStatus('ended', `end of ${path.basename(this.path)}`);
    this.emit('end');
  }

  private clearTimers(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = null;
    this.immediate = null;
  }

  async stop(): Promise<void> {
    this.running = false;
    this.clearTimers();
    // Drop our copy of the samples (privacy: nothing lingers after close).
    for (const c of this.audio) c.fill(0);
    this.audio = [];
    this.pos = 0;
    this.setStatus('stopped', 'stopped');
  }
}
