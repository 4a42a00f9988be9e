/**
 * Capture: the class behind mic-capture (no Node-RED in here).
 *
 * Owns the sensor's ring and a source. Writes the source's audio into the ring, emits an
 * audio block reference (DESIGN §2, never samples) every blockMs, tracks health (clipping,
 * dead / stuck channels, silence, restarts) and a running level. A block's time is the
 * source's own when it gives one, else fitted from when its audio arrives (BlockClock).
 *
 * Events:
 *  - 'block'  (AudioBlock)
 *  - 'health' (HealthEvent)   on every change of a health condition, and restarts
 *  - 'level'  (LevelEvent)    every levelEveryMs of audio (0 = never)
 *  - 'status' (CaptureStatus) source state changes
 *  - 'fault'  (Error)         something the user must be told once (missing binary, bad file)
 */
import { EventEmitter } from 'events';
import { AudioBlock, ClockSource } from '../contracts';
import { LevelMeter, powerToDb } from '../dsp/levels';
import { BlockClock } from './block-clock';
import { monotonicMs } from '../util/clock';
import { applyChannelMap } from './channels';
import { closeRing, openRing } from './registry';
import { AudioRing, DEFAULT_RING_SECONDS, MAX_RING_SECONDS } from './ring';
import { CaptureSource, SourceState } from './sources/source';

/**
 * The mic-capture node's numeric settings: accepted range and default (empty = the default;
 * calibrationDb has none: no calibration). Its editor form refuses what is outside these
 * ranges (test/unit/editor-validators.test.ts).
 */
export const CAPTURE_SETTINGS = {
  sampleRate: { min: 8000, max: 384000, integer: true, default: 48000 },
  channels: { min: 1, max: 64, integer: true, default: 1 },
  blockMs: { min: 10, max: 2000, integer: true, default: 100 },
  ringSeconds: { min: 0.5, max: MAX_RING_SECONDS, default: DEFAULT_RING_SECONDS },
  levelEveryMs: { min: 0, max: 600000, integer: true, default: 1000 },
  calibrationDb: { min: 0, max: 200, default: undefined },
} as const;

/**
 * The shortest period of a level report (DESIGN §4): each report is a mean over its period, and
 * a faster stream of them would draw the street's loudness envelope finely enough to show speech
 * (syllables come 4 to 5 times a second). Over 250 ms a mean averages a syllable's rise and
 * fall away, and reports 4 times a second cannot follow them; what is left is how loud the
 * street was, for a level display. A shorter setting is raised to this, with a warning.
 */
export const MIN_LEVEL_PERIOD_MS = 250;

export type HealthCondition = 'clipping' | 'dead-channel' | 'stuck-channel' | 'silence' | 'restart' | 'ended' | 'error';

/** Second output of mic-capture. Small, and never any samples. */
export interface HealthEvent {
  kind: 'health';
  sensor: string;
  /** Epoch seconds. */
  time: number;
  condition: HealthCondition;
  /** true when the condition starts, false when it clears (restart/ended/error: always true). */
  active: boolean;
  channel?: number;
  detail: string;
  /** Restarts of the capture since it started. */
  restarts: number;
}

/** Periodic level report on the health output (for level displays). Rounded to 0.1 dB. */
export interface LevelEvent {
  kind: 'level';
  sensor: string;
  time: number;
  /** Leq of the period, channel 0, dBFS RMS and dB(A) re full scale. */
  leqDbfs: number;
  leqDba: number;
  /** Fast (125 ms) level now, channel 0. */
  fastDbfs: number;
  peakDbfs: number;
  /** Leq of the period per channel, dBFS. */
  channelsDbfs: number[];
  periodS: number;
  /** dB SPL (A-weighted Leq) when a calibration is set. */
  leqDbaSpl?: number;
}

export interface CaptureStatus {
  state: SourceState;
  text: string;
}

export interface HealthThresholds {
  /** |x| at or above this counts as clipped. */
  clipLevel?: number;
  /** Clipped samples in a block to raise clipping. */
  clipSamples?: number;
  /** A channel this far (dB) below the loudest, or digitally silent, for deadAfterS is dead. */
  deadBelowDb?: number;
  deadAfterS?: number;
  /** A channel frozen on one non-zero value for stuckAfterS is stuck. */
  stuckAfterS?: number;
  /** Every channel below silenceDbfs for silenceAfterS is silence. */
  silenceDbfs?: number;
  silenceAfterS?: number;
  /** Conditions clear after this long without them. */
  clearAfterS?: number;
}

export interface CaptureOptions {
  sensor: string;
  /** Who captures, in words (`mic-capture "name" (node id)`): named to another capture of the same sensor. */
  owner?: string;
  clock?: ClockSource;
  /** Audio block length, ms (default 100). */
  blockMs?: number;
  /** Ring capacity, seconds (default 5, at most 30). */
  ringSeconds?: number;
  /** Output channel i takes source channel channelMap[i]. */
  channelMap?: number[];
  source: CaptureSource;
  /** Level report period, ms of audio (default 1000; 0 = off; a shorter one than MIN_LEVEL_PERIOD_MS is raised to it). */
  levelEveryMs?: number;
  /** dB SPL at 0 dBFS RMS, when the microphone is calibrated. */
  calibrationDb?: number;
  health?: HealthThresholds;
  /** Channels the sensor's array has: the mapped source must match (checked on first audio). */
  expectedChannels?: number;
  /** Wall clock, epoch ms, for the times blocks and events carry (tests); also the durations' clock below when that is not given. */
  now?: () => number;
  /**
  /**
   * Monotonic clock, ms (tests; default performance.now(), or `now` when only that is given),
   * for durations: how long since the last audio (the health report), the ring's age rule, and
   * the fit of block times of a source without its own times (BlockClock). A wall clock step
   * (NTP) is no silence and no drift.
   */
  monotonicNow?: () => number;
}

const DEFAULT_HEALTH: Required<HealthThresholds> = {
  clipLevel: 0.999,
  clipSamples: 3,
  deadBelowDb: 40,
  deadAfterS: 2,
  stuckAfterS: 1,
  silenceDbfs: -80,
  silenceAfterS: 10,
  clearAfterS: 2,
};

interface ChannelHealth {
  clippedUntilFrame: number;
  clipping: boolean;
  deadFrames: number;
  dead: boolean;
  stuckFrames: number;
  stuck: boolean;
  lastValue: number;
  leqSum: number;
}

const round1 = (v: number) => Math.round(v * 10) / 10;

/** The captures started and not yet stopped in this process (for the health report). */
const startedCaptures = new Set<Capture>();

export function runningCaptures(): Capture[] {
  return [...startedCaptures];
}

export class Capture extends EventEmitter {
  readonly sensor: string;
  private readonly owner: string | undefined;
  readonly clock: ClockSource;
  readonly blockMs: number;
  readonly ringSeconds: number;
  readonly source: CaptureSource;
  private readonly channelMap: number[] | undefined;
  private readonly levelEveryMs: number;
  /** Said at each start when the level period asked for was raised to MIN_LEVEL_PERIOD_MS. */
  private readonly levelPeriodWarning: string | undefined;
  private readonly calibrationDb: number | undefined;
  private readonly th: Required<HealthThresholds>;
  private readonly now: () => number;
  private readonly monotonicNow: () => number;
  /** The clock given to the ring (its own monotonic clock when none was given). */
  private readonly ringClock: (() => number) | undefined;
  private readonly expectedChannels: number | undefined;
  private ring: AudioRing | null = null;
  private seq = 0;
  private nextBlockStart = 0;
  private blockFrames = 0;
  /** Times given by the source (or a source not in real time): sample index and time of one sample. */
  private anchorFrame = 0;
  private anchorTime = 0;
  private anchored = false;
  /** Times of a real-time source that gives none: fitted from arrivals (null until the first audio). */
  private blockClock: BlockClock | null = null;
  private meter: LevelMeter | null = null;
  private chHealth: ChannelHealth[] = [];

  /**
   * The channel the sensor's level is read on: the first that is neither dead nor stuck
   * (channel 0 while it works). One failed microphone of an array would otherwise make the
   * whole sensor read as silence while the others hear the street.
   */
  private meteredChannel(): number {
    const i = this.chHealth.findIndex((h) => !h.dead && !h.stuck);
    return i < 0 ? 0 : i;
  }
  private silentFrames = 0;
  private silence = false;
  private levelFrames = 0;
  private restarts = 0;
  private running = false;
  private failed = false;
  private sourceListeners: [string, (...a: never[]) => void][] = [];
  private startedAt = 0;
  private lastAudio: number | undefined;
  /** The source said it has nothing more (a finite source): the health report leaves it out. */
  private sourceEnded = false;

  constructor(opts: CaptureOptions) {
    super();
    if (!opts.sensor) throw new Error('sensor: expected a sensor id');
    const blockMs = opts.blockMs ?? 100;
    if (!Number.isFinite(blockMs) || blockMs < 10 || blockMs > 2000) throw new Error(`blockMs: expected 10..2000 ms, got ${opts.blockMs}`);
    const ringSeconds = opts.ringSeconds ?? DEFAULT_RING_SECONDS;
    if (!Number.isFinite(ringSeconds) || ringSeconds <= 0 || ringSeconds > MAX_RING_SECONDS) {
      throw new Error(`ringSeconds: expected more than 0 and at most ${MAX_RING_SECONDS} s (privacy cap), got ${opts.ringSeconds}`);
    }
    if (ringSeconds * 1000 < 2 * blockMs) throw new Error(`ringSeconds: expected at least two blocks (${(2 * blockMs) / 1000} s), got ${ringSeconds}`);
    this.sensor = opts.sensor;
    this.owner = opts.owner;
    this.clock = opts.clock ?? 'local';
    this.blockMs = blockMs;
    this.ringSeconds = ringSeconds;
    this.source = opts.source;
    this.channelMap = opts.channelMap;
    const levelEveryMs = opts.levelEveryMs ?? 1000;
    this.levelEveryMs = levelEveryMs > 0 ? Math.max(levelEveryMs, MIN_LEVEL_PERIOD_MS) : 0;
    if (levelEveryMs > 0 && levelEveryMs < MIN_LEVEL_PERIOD_MS) {
      this.levelPeriodWarning = `setting levelEveryMs: expected 0 (off) or at least ${MIN_LEVEL_PERIOD_MS} ms, got ${levelEveryMs}; reporting levels every ${MIN_LEVEL_PERIOD_MS} ms (privacy: faster level reports would follow the rhythm of speech)`;
    }
    this.calibrationDb = opts.calibrationDb;
    this.th = { ...DEFAULT_HEALTH, ...opts.health };
    this.now = opts.now ?? Date.now;
    this.monotonicNow = opts.monotonicNow ?? opts.now ?? monotonicMs;
    this.ringClock = opts.monotonicNow ?? opts.now;
    this.expectedChannels = opts.expectedChannels;
  }

  /** The sensor's ring, once the first audio arrived. */
  get audioRing(): AudioRing | null {
    return this.ring;
  }

  /**
   * When audio last reached the ring (on the monotonic clock, `monotonicNow`: compare with
   * that clock only), or when the capture started if none has yet:
   * a capture whose source never delivers counts as silent from its start. Undefined when stopped.
   */
  get lastAudioAt(): number | undefined {
    // A finite source that played out (a WAV played once) is over, not a silent microphone.
    return this.running && !this.sourceEnded ? (this.lastAudio ?? this.startedAt) : undefined;
  }

  /** True while block times are fitted and the fit has its history (false during the first seconds after a start or a gap). */
  get clockSettled(): boolean {
    return this.blockClock ? this.blockClock.settled : true;
  }

  get restartCount(): number {
    return this.restarts;
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** Fast (125 ms) level of channel 0, dBFS, or undefined before any audio. */
  get levelDbfs(): number | undefined {
    return this.meter ? this.meter.reading().fastDbfs : undefined;
  }

  get status(): CaptureStatus {
    return this.failed ? { state: 'failed', text: 'failed' } : this.source.status;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.startedAt = this.monotonicNow();
    this.lastAudio = undefined;
    this.sourceEnded = false;
    startedCaptures.add(this);
    this.on_(this.source, 'data', (channels: Float32Array[], timeSec?: number) => this.onData(channels, timeSec));
    this.on_(this.source, 'restart', (reason: string) => this.onRestart(reason));
    this.on_(this.source, 'status', (s: CaptureStatus) => this.emit('status', s));
    this.on_(this.source, 'error', (err: Error) => this.emit('fault', err));
    this.on_(this.source, 'warning', (message: string) => this.emit('warning', message));
    if (this.levelPeriodWarning) this.emit('warning', this.levelPeriodWarning);
    this.on_(this.source, 'end', () => {
      this.sourceEnded = true;
      this.health('ended', true, 'source ended');
    });
    this.source.start();
  }

  private on_(em: EventEmitter, ev: string, fn: (...a: never[]) => void): void {
    em.on(ev, fn as (...a: unknown[]) => void);
    this.sourceListeners.push([ev, fn]);
  }

  /** Stop the source, then zero and release the ring. Safe to call twice. */
  async stop(): Promise<void> {
    this.running = false;
    startedCaptures.delete(this);
    try {
      await this.source.stop();
    } finally {
      for (const [ev, fn] of this.sourceListeners) this.source.removeListener(ev, fn as (...a: unknown[]) => void);
      this.sourceListeners = [];
      if (this.ring) closeRing(this.ring);
      this.ring = null;
      this.meter = null;
    }
  }

  private openRingFor(channels: number): boolean {
    const rate = this.source.sampleRate;
    try {
      if (this.expectedChannels !== undefined && channels !== this.expectedChannels) {
        throw new Error(
          `channels: the source gives ${channels} channel(s)${this.channelMap ? ' after the channel map' : ''}, but sensor "${this.sensor}" has ${this.expectedChannels} microphone(s); set the channel map or the sensor's array`,
        );
      }
      this.ring = openRing({ sensor: this.sensor, sampleRate: rate, channels, seconds: this.ringSeconds, now: this.ringClock }, this.owner);
    } catch (err) {
      this.failed = true;
      this.emit('status', { state: 'failed', text: (err as Error).message.slice(0, 120) });
      this.emit('fault', err as Error);
      return false;
    }
    this.blockFrames = Math.max(1, Math.round((rate * this.blockMs) / 1000));
    this.meter = new LevelMeter({ sampleRateHz: rate, calibrationDb: this.calibrationDb });
    this.chHealth = Array.from({ length: channels }, () => ({ clippedUntilFrame: -1, clipping: false, deadFrames: 0, dead: false, stuckFrames: 0, stuck: false, lastValue: NaN, leqSum: 0 }));
    return true;
  }

  private onData(raw: Float32Array[], timeSec?: number): void {
    if (!this.running || this.failed) return;
    let channels: Float32Array[];
    try {
      channels = applyChannelMap(raw, this.channelMap);
    } catch (err) {
      this.failed = true;
      const e = new Error(`channelMap: ${(err as Error).message} — the source has ${raw.length} channel(s)`);
      this.emit('status', { state: 'failed', text: e.message.slice(0, 120) });
      this.emit('fault', e);
      return;
    }
    if (!this.ring && !this.openRingFor(channels.length)) return;
    const ring = this.ring!;
    if (channels.length !== ring.channelCount) {
      this.emit('fault', new Error(`channels: the source changed from ${ring.channelCount} to ${channels.length} channels; restart the node`));
      return;
    }
    const frames = channels[0].length;
    const first = ring.end;
    const rate = ring.sampleRate;
    if (timeSec !== undefined && Number.isFinite(timeSec)) {
      this.anchorFrame = first;
      this.anchorTime = timeSec;
      this.anchored = true;
      this.blockClock = null;
    } else if (this.source.realtime) {
      // The chunk's last sample was captured at the latest when it arrived (DESIGN §2: wall time).
      if (!this.blockClock) this.blockClock = new BlockClock({ sampleRate: rate });
      this.blockClock.arrive(first + frames, this.monotonicNow(), this.now());
    } else if (!this.anchored) {
      // Faster than real time: the source's own pace from its first audio on.
      this.anchorFrame = first;
      this.anchorTime = this.now() / 1000 - frames / rate;
      this.anchored = true;
    }
    ring.write(channels);
    this.lastAudio = this.monotonicNow();
    this.meter!.process(channels[this.meteredChannel()]);
    this.checkHealth(channels, first);
    while (ring.end - this.nextBlockStart >= this.blockFrames) {
      const start = this.nextBlockStart;
      const block: AudioBlock = {
        kind: 'audio',
        sensor: this.sensor,
        seq: this.seq++,
        sampleRate: rate,
        channels: ring.channelCount,
        start,
        frames: this.blockFrames,
        time: this.timeOf(start),
        clock: this.clock,
      };
      this.nextBlockStart += this.blockFrames;
      this.emit('block', block);
    }
  }

  private onRestart(reason: string): void {
    this.restarts++;
    if (this.ring) {
      // The audio before the gap stays readable for the rest of its ring length (a detection
      // in flight may still read it), then the ring's age rule zeroes it: a source that stays
      // down does not leave it in memory until stop().
      this.ring.markGap(reason);
      // Blocks never straddle a gap: drop the partial block.
      this.nextBlockStart = this.ring.end;
    }
    this.anchored = false;
    this.blockClock?.reset();
    this.health('restart', true, reason);
  }

  /** Wall-clock time of a sample index, epoch seconds. */
  private timeOf(frame: number): number {
    if (this.blockClock?.isAnchored) return this.blockClock.timeSec(frame);
    return this.anchorTime + (frame - this.anchorFrame) / this.ring!.sampleRate;
  }

  private health(condition: HealthCondition, active: boolean, detail: string, channel?: number): void {
    const ev: HealthEvent = { kind: 'health', sensor: this.sensor, time: this.now() / 1000, condition, active, detail: detail.slice(0, 200), restarts: this.restarts };
    if (channel !== undefined) ev.channel = channel;
    this.emit('health', ev);
  }

  private checkHealth(channels: Float32Array[], firstFrame: number): void {
    const rate = this.ring!.sampleRate;
    const frames = channels[0].length;
    const endFrame = firstFrame + frames;
    const th = this.th;
    const ms: number[] = [];
    for (let c = 0; c < channels.length; c++) {
      const x = channels[c];
      const h = this.chHealth[c];
      let sum = 0;
      let clipped = 0;
      let min = Infinity;
      let max = -Infinity;
      for (let i = 0; i < frames; i++) {
        const v = x[i];
        sum += v * v;
        if (v >= th.clipLevel || v <= -th.clipLevel) clipped++;
        if (v < min) min = v;
        if (v > max) max = v;
      }
      ms.push(sum / frames);
      h.leqSum += sum;
      // Clipping: raised at once, cleared after clearAfterS of clean audio.
      if (clipped >= th.clipSamples) {
        h.clippedUntilFrame = endFrame + th.clearAfterS * rate;
        if (!h.clipping) {
          h.clipping = true;
          this.health('clipping', true, `channel ${c}: ${clipped} clipped samples`, c);
        }
      } else if (h.clipping && endFrame >= h.clippedUntilFrame) {
        h.clipping = false;
        this.health('clipping', false, `channel ${c}: no clipping for ${th.clearAfterS} s`, c);
      }
      // Stuck: the same non-zero value throughout (frozen converter, DC rail).
      const frozen = max - min <= 1e-6 && Math.abs(max) > 1e-6 && (Number.isNaN(h.lastValue) || Math.abs(h.lastValue - max) <= 1e-6);
      h.lastValue = frames ? x[frames - 1] : h.lastValue;
      h.stuckFrames = frozen ? h.stuckFrames + frames : 0;
      if (!h.stuck && h.stuckFrames >= th.stuckAfterS * rate) {
        h.stuck = true;
        this.health('stuck-channel', true, `channel ${c}: stuck at ${max.toFixed(4)} for ${th.stuckAfterS} s`, c);
      } else if (h.stuck && !frozen) {
        h.stuck = false;
        this.health('stuck-channel', false, `channel ${c}: moving again`, c);
      }
    }
    const loudest = Math.max(...ms);
    let allSilent = true;
    for (let c = 0; c < channels.length; c++) {
      const h = this.chHealth[c];
      const db = powerToDb(ms[c]);
      if (db >= th.silenceDbfs) allSilent = false;
      // Dead: digital silence, or far below the others while they hear something.
      const digitalZero = ms[c] === 0;
      const farBelow = channels.length > 1 && powerToDb(loudest) > th.silenceDbfs && powerToDb(loudest) - db >= th.deadBelowDb;
      const deadNow = digitalZero || farBelow;
      h.deadFrames = deadNow ? h.deadFrames + frames : 0;
      if (!h.dead && h.deadFrames >= th.deadAfterS * rate) {
        h.dead = true;
        this.health('dead-channel', true, `channel ${c}: ${digitalZero ? 'digital silence' : `${th.deadBelowDb} dB below the loudest channel`} for ${th.deadAfterS} s`, c);
      } else if (h.dead && !deadNow) {
        h.dead = false;
        this.health('dead-channel', false, `channel ${c}: signal again`, c);
      }
    }
    this.silentFrames = allSilent ? this.silentFrames + frames : 0;
    if (!this.silence && this.silentFrames >= th.silenceAfterS * rate) {
      this.silence = true;
      this.health('silence', true, `every channel below ${th.silenceDbfs} dBFS for ${th.silenceAfterS} s`);
    } else if (this.silence && !allSilent) {
      this.silence = false;
      this.health('silence', false, 'sound again');
    }
    // Periodic level report.
    if (this.levelEveryMs > 0) {
      this.levelFrames += frames;
      if (this.levelFrames >= (this.levelEveryMs * rate) / 1000) {
        const r = this.meter!.reading();
        const leq = this.meter!.takeLeq();
        const ev: LevelEvent = {
          kind: 'level',
          sensor: this.sensor,
          time: this.timeOf(endFrame),
          leqDbfs: round1(leq.leqDbfs),
          leqDba: round1(leq.leqDba),
          fastDbfs: round1(r.fastDbfs),
          peakDbfs: round1(leq.peakDbfs),
          channelsDbfs: this.chHealth.map((h) => round1(powerToDb(h.leqSum / this.levelFrames))),
          periodS: round1(this.levelFrames / rate),
        };
        if (this.calibrationDb !== undefined) ev.leqDbaSpl = round1(leq.leqDba + this.calibrationDb);
        for (const h of this.chHealth) h.leqSum = 0;
        this.levelFrames = 0;
        this.emit('level', ev);
      }
    }
  }
}
