/**
 * The whole detection path for one sensor, shared by the acoustic-classifier node and
 * `vigie eval detect`: blocks of samples in, detections (DESIGN §2) and per-window scores out.
 *
 *   samples ─┬─ mono (mix or one channel) ─ onset detector (sensor rate, ~1 ms)
 *            ├─ A-weighted 125 ms levels ─ L90 background ─ level gate
 *            └─ resampler ─ model-rate buffer ─ windows every hop, and one right after an
 *               onset (so short events are caught fast) ─ model ─ event logic ─ detections
 *
 * Nothing here keeps samples beyond the window being classified (DESIGN §4): the model-rate
 * buffer holds one window and the onset detector ~100 ms of squared, high-passed samples.
 */
import { randomUUID } from 'crypto';
import { AudioSpan } from '../audio/ring';
import { CLASSIFIER_KERNEL, Resampler } from '../audio/resample';
import { Detection } from '../contracts';
import { AWeightingFilter } from '../dsp/aweighting';
import { MIN_DB, powerToDb } from '../dsp/levels';
import { ContractError } from '../util/validate';
import { BackgroundLevel } from './background';
import { ClassRule, EventTracker, FiredEvent, LevelGate, gatePasses } from './events';
import { ScoringModel } from './model';
import { Onset, OnsetDetector, OnsetOptions } from './onset';

export interface DetectorOptions {
  model: ScoringModel;
  sensor: string;
  /** Alert labels to report (others are scored but never reported). Default: all of the model's alert labels. */
  labels?: string[];
  /** Per-label on-threshold; else `threshold`; else the card's recommended threshold; else 0.5. */
  thresholds?: Record<string, number>;
  /** On-threshold of every label without its own (unset: the card's recommendation, else 0.5). */
  threshold?: number;
  /** Off-threshold = on-threshold − this (hysteresis). */
  hysteresis?: number;
  minDurationMs?: number;
  coolDownMs?: number;
  /** Level gate in dB(A) re full scale: above background (default 3 dB; 0 = off) and/or absolute. */
  minAboveBackgroundDb?: number;
  minLevelDba?: number;
  /** Window length (only for models whose input length is free; default the card's window). */
  windowMs?: number;
  hopMs?: number;
  /** After an onset, classify as soon as this much audio after it is available. */
  onsetLookaheadMs?: number;
  /** And once more this much later (more of the event in view; 0 = no second window). */
  onsetFollowUpMs?: number;
  /** "mix" (mean of channels) or a 0-based channel index. */
  channel?: 'mix' | number;
  onset?: Partial<OnsetOptions>;
  /** Background span (L90 over this many seconds). */
  backgroundWindowS?: number;
  /** Report one class per event: detections whose onsets are within 1 s of the last one are dropped (default true). */
  oneLabelPerEvent?: boolean;
}

export interface AudioInput {
  /** Frame index of the first sample (sensor ring numbering). */
  start: number;
  /** Wall-clock seconds of frame `start`. */
  time: number;
  sampleRate: number;
  channels: Float32Array[];
}

/** Per-window scores for monitoring (output 2 of the node). Voice labels are left out. */
export interface WindowScores {
  kind: 'scores';
  sensor: string;
  /** Wall-clock seconds of the window's first and last sample. */
  start: number;
  end: number;
  trigger: 'hop' | 'onset';
  scores: Record<string, number>;
  /** Loudest 125 ms level in the window. */
  level: { dbfs: number; dba: number };
  /** L90 background, dB(A) re full scale (absent while it is being learned). */
  background?: number;
}

export interface DetectorOutput {
  detections: Detection[];
  windows: WindowScores[];
  onsets: Array<Onset & { time: number }>;
}

interface LevelChunk {
  /** Sensor frames [start, end). */
  start: number;
  end: number;
  dbfs: number;
  dba: number;
}

interface PendingWindow {
  /** Model-rate sample index one past the window's last sample. */
  end: number;
  trigger: 'hop' | 'onset';
}

const LEVEL_CHUNK_S = 0.125;
/** Detections whose onsets are closer than this are one event (oneLabelPerEvent). */
const ONE_EVENT_S = 1.0;
const RISE_LOOKBACK_S = 1;
/**
 * Longest piece of a block processed at once. The model-rate ring holds a window and 2 s more,
 * and levels, onsets and onset energies are kept a few seconds: a longer block goes through a
 * second at a time, as if it had come so, and every window is still the stream's samples.
 */
const MAX_PIECE_S = 1;

/**
 * Default level gate: the window's loudest 125 ms at least this far above the L90 background.
 * Low on purpose: events at −6 dB event-to-background ratio barely lift the level, and a
 * window's loudest 125 ms of plain street sits a few dB above its L90 anyway; 0 disables it.
 */
export const DEFAULT_MIN_ABOVE_BACKGROUND_DB = 3;

/** Default hop between windows. */
export const DEFAULT_HOP_MS = 500;

/** Defaults of the class rules: how far below the threshold a detection ends, its least duration, the quiet after one, ms. */
export const DEFAULT_HYSTERESIS = 0.15;
export const DEFAULT_MIN_DURATION_MS = 0;
export const DEFAULT_COOL_DOWN_MS = 2000;
/** The threshold of a class when neither the user nor the model card gives one. */
export const DEFAULT_THRESHOLD = 0.5;

/** Accepted range of each numeric setting, shared by the acoustic-classifier node and `vigie eval detect`. */
export const SETTING_RANGES = {
  threshold: { min: 0.01, max: 1 },
  hysteresis: { min: 0, max: 0.9 },
  hopMs: { min: 10, max: 10000 },
  windowMs: { min: 100, max: 10000 },
  minAboveBackgroundDb: { min: 0, max: 80 },
  minLevelDba: { min: -120, max: 0 },
  minDurationMs: { min: 0, max: 10000 },
  coolDownMs: { min: 0, max: 600000 },
} as const;

export class Detector {
  readonly sensor: string;
  readonly model: ScoringModel;
  readonly labels: string[];
  readonly windowSamples: number;
  readonly hopSamples: number;
  private readonly opts: DetectorOptions;
  private readonly tracker: EventTracker;
  private readonly gate: LevelGate;
  private readonly background: BackgroundLevel;
  private readonly lookaheadSamples: number;
  private readonly followUpSamples: number;
  private readonly channel: 'mix' | number;
  // Stream state (reset on a discontinuity or a sample-rate change).
  private sensorRate = 0;
  private onsetDet: OnsetDetector | undefined;
  private aFilter: AWeightingFilter | undefined;
  private resampler: Resampler | undefined;
  private streamStart = 0;
  private nextFrame = -1;
  /** Model-rate samples produced since streamStart; the buffer holds the last `buf.length`. */
  private produced = 0;
  private buf: Float32Array;
  private nextHopEnd = 0;
  private pending: PendingWindow[] = [];
  private chunkZ = 0;
  private chunkA = 0;
  private chunkN = 0;
  /** Model-rate sample where the chunk being measured (chunkZ, chunkA, chunkN) began. */
  private chunkStartM = 0;
  private chunks: LevelChunk[] = [];
  private recentOnsets: Onset[] = [];
  /** Wall-clock anchor: frame `anchorFrame` was at `anchorTime`. */
  private anchorFrame = 0;
  private anchorTime = 0;
  private queue: Promise<unknown> = Promise.resolve();
  /** Inference statistics (benchmarks, status). */
  inferenceCount = 0;
  inferenceMs = 0;
  lastLevel: { dbfs: number; dba: number } | undefined;
  /** Onset (wall-clock s) of the last detection reported. */
  private lastOnsetSec = -Infinity;

  constructor(opts: DetectorOptions) {
    this.opts = opts;
    this.model = opts.model;
    this.sensor = opts.sensor;
    const alert = this.model.alertLabels;
    const labels = opts.labels ?? alert;
    for (const l of labels) {
      if (!alert.includes(l)) throw new Error(`label "${l}" is not an alert label of model ${this.model.card.name} (alert labels: ${alert.join(', ')})`);
    }
    this.labels = labels.slice();
    const rules: Record<string, ClassRule> = {};
    const hysteresis = opts.hysteresis ?? DEFAULT_HYSTERESIS;
    for (const l of labels) {
      // What the user set (per class, then for all classes), then the model card's recommendation.
      const on = opts.thresholds?.[l] ?? opts.threshold ?? this.model.recommendedThresholds?.[l] ?? DEFAULT_THRESHOLD;
      rules[l] = { onThreshold: on, offThreshold: Math.max(0.01, Math.min(on, on - hysteresis)), minDurationMs: opts.minDurationMs ?? DEFAULT_MIN_DURATION_MS, coolDownMs: opts.coolDownMs ?? DEFAULT_COOL_DOWN_MS };
    }
    const gate: LevelGate = { minAboveBackgroundDb: opts.minAboveBackgroundDb ?? DEFAULT_MIN_ABOVE_BACKGROUND_DB };
    if (opts.minLevelDba !== undefined) gate.minLevelDb = opts.minLevelDba;
    this.gate = gate;
    this.tracker = new EventTracker(rules, gate);
    this.background = new BackgroundLevel({ windowS: opts.backgroundWindowS ?? 60, periodS: LEVEL_CHUNK_S });
    const rate = this.model.sampleRateHz;
    this.windowSamples = this.model.windowSamples;
    if (opts.windowMs !== undefined && Math.round((opts.windowMs * rate) / 1000) !== this.windowSamples) {
      throw new ContractError('windowMs', `the window of model ${this.model.card.name}, ${((this.windowSamples / rate) * 1000).toFixed(0)} ms (or none)`, opts.windowMs);
    }
    // 500 ms: every instant is in two 1 s windows, short events also get their onset window;
    // on the evaluation sets it scored as well as 250 ms with fewer false alarms, at half the cost.
    this.hopSamples = Math.round(((opts.hopMs ?? DEFAULT_HOP_MS) * rate) / 1000);
    if (!(this.hopSamples >= 1 && this.hopSamples <= this.windowSamples)) {
      throw new ContractError('hopMs', `1 ms up to the window length (${((this.windowSamples / rate) * 1000).toFixed(0)} ms)`, opts.hopMs ?? DEFAULT_HOP_MS);
    }
    this.lookaheadSamples = Math.round(((opts.onsetLookaheadMs ?? 200) * rate) / 1000);
    this.followUpSamples = Math.round(((opts.onsetFollowUpMs ?? 250) * rate) / 1000);
    this.channel = opts.channel ?? 'mix';
    this.buf = new Float32Array(this.windowSamples + 2 * rate);
  }

  /** Wall-clock seconds of a sensor frame. */
  timeOf(frame: number): number {
    return this.anchorTime + (frame - this.anchorFrame) / this.sensorRate;
  }

  /** Feed one block of samples. Calls are serialised; blocks must come in order. */
  process(block: AudioInput): Promise<DetectorOutput> {
    const job = this.queue.then(() => this.processNow(block));
    this.queue = job.catch(() => undefined);
    return job;
  }

  /** End of input (evaluation): pad the tail with silence so its last window is classified. */
  flush(): Promise<DetectorOutput> {
    const job = this.queue.then(async () => {
      const out: DetectorOutput = { detections: [], windows: [], onsets: [] };
      if (this.nextFrame < 0) return out;
      if (this.resampler) {
        const tail = this.resampler.flush();
        this.measureLevels(tail);
        this.appendModel(tail);
        tail.fill(0);
      }
      let target = Math.max(this.windowSamples, ...this.pending.map((p) => p.end));
      // The next hop window covers the tail, padded with silence.
      if (this.nextHopEnd - this.hopSamples < this.produced) target = Math.max(target, this.nextHopEnd);
      if (target > this.produced) this.appendModel(new Float32Array(target - this.produced));
      await this.runDue(out);
      return out;
    });
    this.queue = job.catch(() => undefined);
    return job;
  }

  /**
   * Zero the samples this detector holds (DESIGN §4.2): the model-rate ring (a window and 2 s),
   * the onset detector's energies and its high-passed last block, the A-weighting's line (its
   * last block), and the resampler's input.
   */
  dispose(): void {
    this.buf.fill(0);
    this.onsetDet?.reset();
    this.aFilter?.reset();
    this.resampler?.clear();
    this.resampler = undefined;
    this.nextFrame = -1;
    this.pending = [];
  }

  /** Forget the stream (a gap in the capture). Background and event state are kept. */
  resetStream(): void {
    this.nextFrame = -1;
  }

  private startStream(block: AudioInput): void {
    const sr = block.sampleRate;
    if (sr !== this.sensorRate || !this.onsetDet) {
      this.sensorRate = sr;
      // Energy history long enough to look back over an event's first window when it is reported.
      const historyS = this.windowSamples / this.model.sampleRateHz + 4 + (this.opts.minDurationMs ?? 0) / 1000;
      this.onsetDet = new OnsetDetector({ historyS, ...this.opts.onset, sampleRateHz: sr });
    } else this.onsetDet.reset();
    this.aFilter ??= new AWeightingFilter(this.model.sampleRateHz);
    this.aFilter.reset();
    // The model hears the band its training clips had (ffmpeg's resampler), at a third of the default kernel's cost.
    this.resampler = sr === this.model.sampleRateHz ? undefined : new Resampler(sr, this.model.sampleRateHz, CLASSIFIER_KERNEL);
    this.streamStart = block.start;
    this.produced = 0;
    this.nextHopEnd = this.windowSamples;
    this.pending = [];
    this.chunkZ = this.chunkA = this.chunkN = this.chunkStartM = 0;
    this.chunks = [];
    this.recentOnsets = [];
  }

  private mono(block: AudioInput): Float32Array {
    const chs = block.channels;
    if (!chs.length) throw new ContractError('samples', 'at least one channel', 0);
    const n = chs[0].length;
    for (let c = 0; c < chs.length; c++) {
      const ch = chs[c];
      if (ch.length !== n) throw new ContractError('samples', `channels of equal length (${n})`, ch.length);
      const bad = firstNonFinite(ch);
      if (bad >= 0) throw new ContractError(`samples (channel ${c + 1}, frame ${block.start + bad})`, 'finite numbers', ch[bad]);
    }
    if (this.channel !== 'mix') {
      if (this.channel < 0 || this.channel >= chs.length) throw new ContractError('channel', `a channel from 1 to ${chs.length}`, this.channel + 1);
      return chs[this.channel];
    }
    if (chs.length === 1) return chs[0];
    const m = new Float32Array(n);
    for (const ch of chs) for (let i = 0; i < n; i++) m[i] += ch[i];
    for (let i = 0; i < n; i++) m[i] /= chs.length;
    return m;
  }

  private async processNow(block: AudioInput): Promise<DetectorOutput> {
    const x = this.mono(block);
    try {
      if (this.nextFrame < 0 || block.start !== this.nextFrame || block.sampleRate !== this.sensorRate) this.startStream(block);
      const out: DetectorOutput = { detections: [], windows: [], onsets: [] };
      const piece = Math.max(1, Math.round(MAX_PIECE_S * this.sensorRate));
      let i = 0;
      do {
        await this.processPiece(x.subarray(i, i + piece), block.start + i, block.time + i / this.sensorRate, out);
        i += piece;
      } while (i < x.length);
      return out;
    } finally {
      // The mix of the channels is a copy of the street's audio: zeroed once used (DESIGN §4.2;
      // the block's own channels are the caller's to zero).
      if (!block.channels.includes(x)) x.fill(0);
    }
  }

  /** One piece of a block (at most MAX_PIECE_S), its first sample at sensor frame `start`, wall-clock `time`. */
  private async processPiece(x: Float32Array, start: number, time: number, out: DetectorOutput): Promise<void> {
    this.anchorFrame = start;
    this.anchorTime = time;
    this.nextFrame = start + x.length;

    const keepFrom = this.nextFrame - Math.round((this.windowSamples / this.model.sampleRateHz + 3) * this.sensorRate);
    while (this.chunks.length && this.chunks[0].end < keepFrom) this.chunks.shift();

    // Onsets: schedule a window that ends shortly after each one.
    for (const o of this.onsetDet!.process(x, start)) {
      this.recentOnsets.push(o);
      out.onsets.push({ ...o, time: this.timeOf(o.frame) });
      const m = Math.round(((o.frame - this.streamStart) * this.model.sampleRateHz) / this.sensorRate);
      this.pending.push({ end: Math.max(this.windowSamples, m + this.lookaheadSamples), trigger: 'onset' });
      if (this.followUpSamples > 0) this.pending.push({ end: Math.max(this.windowSamples, m + this.lookaheadSamples + this.followUpSamples), trigger: 'onset' });
    }
    while (this.recentOnsets.length && this.recentOnsets[0].frame < keepFrom) this.recentOnsets.shift();

    // Model-rate stream; levels are measured on it (the A-weighting costs a third at 16 kHz
    // than at 48 kHz, and above 8 kHz it weighs little).
    const y = this.resampler ? this.resampler.process(x) : x;
    this.measureLevels(y);
    this.appendModel(y);
    // The resampled copy is in the model-rate ring now: zeroed (DESIGN §4.2).
    if (y !== x) y.fill(0);
    await this.runDue(out);
  }

  /** 125 ms Leq, unweighted and A-weighted, of model-rate samples about to be appended; each chunk feeds the background. */
  private measureLevels(y: Float32Array): void {
    const ya = this.aFilter!.process(y);
    const chunkN = Math.round(LEVEL_CHUNK_S * this.model.sampleRateHz);
    // Sums in locals: this loop runs on every model-rate sample; up to each chunk's end at a time.
    let z = this.chunkZ;
    let a = this.chunkA;
    let n = this.chunkN;
    let i = 0;
    while (i < y.length) {
      const stop = Math.min(y.length, i + chunkN - n);
      n += stop - i;
      for (; i < stop; i++) {
        const v = y[i];
        const va = ya[i];
        z += v * v;
        a += va * va;
      }
      if (n >= chunkN) {
        const m0 = this.produced + i - n;
        const c: LevelChunk = { start: this.frameOfModel(m0), end: this.frameOfModel(m0 + n), dbfs: powerToDb(z / n), dba: powerToDb(a / n) };
        this.chunks.push(c);
        this.background.push(c.dba);
        this.lastLevel = { dbfs: round1(c.dbfs), dba: round1(c.dba) };
        z = a = n = 0;
      }
    }
    // The A-weighted copy is audio too, and only its levels are kept.
    ya.fill(0);
    this.chunkZ = z;
    this.chunkA = a;
    this.chunkN = n;
    this.chunkStartM = this.produced + y.length - n;
  }

  private appendModel(y: Float32Array): void {
    const cap = this.buf.length;
    // Into the ring in at most two copies (of a block longer than the ring, only its end).
    let from = Math.max(0, y.length - cap);
    while (from < y.length) {
      const at = (this.produced + from) % cap;
      const n = Math.min(y.length - from, cap - at);
      this.buf.set(y.subarray(from, from + n), at);
      from += n;
    }
    this.produced += y.length;
    while (this.nextHopEnd <= this.produced) {
      this.pending.push({ end: this.nextHopEnd, trigger: 'hop' });
      this.nextHopEnd += this.hopSamples;
    }
  }

  private windowAt(end: number): Float32Array {
    const w = new Float32Array(this.windowSamples);
    const cap = this.buf.length;
    const first = end - this.windowSamples;
    // Before the stream started (or already dropped): silence (w stays 0 there).
    let m = Math.max(first, 0, this.produced - cap);
    const stop = Math.min(end, this.produced);
    while (m < stop) {
      const at = m % cap;
      const n = Math.min(stop - m, cap - at);
      w.set(this.buf.subarray(at, at + n), m - first);
      m += n;
    }
    return w;
  }

  /** Sensor frame of a model-rate sample index. */
  private frameOfModel(m: number): number {
    return this.streamStart + Math.round((m * this.sensorRate) / this.model.sampleRateHz);
  }

  private async runDue(out: DetectorOutput): Promise<void> {
    const due = this.pending.filter((p) => p.end <= this.produced).sort((a, b) => a.end - b.end);
    if (!due.length) return;
    this.pending = this.pending.filter((p) => p.end > this.produced);
    // An onset window that nearly coincides with a hop window adds nothing.
    const windows: PendingWindow[] = [];
    for (const d of due) {
      const prev = windows[windows.length - 1];
      if (prev && Math.abs(prev.end - d.end) < this.hopSamples / 4) {
        if (d.trigger === 'onset') prev.trigger = 'onset';
        continue;
      }
      windows.push({ ...d });
    }
    const t0 = performance.now();
    const inputs = windows.map((w) => this.windowAt(w.end));
    let scores: Float32Array[];
    try {
      scores = await this.model.infer(inputs);
    } finally {
      // Each window handed to the model is a copy of a second of the street: zeroed once scored (DESIGN §4.2).
      for (const x of inputs) x.fill(0);
    }
    this.inferenceMs += performance.now() - t0;
    this.inferenceCount += windows.length;
    const bg = this.background.levelDb;
    windows.forEach((w, k) => {
      const startFrame = this.frameOfModel(w.end - this.windowSamples);
      const endFrame = this.frameOfModel(w.end);
      const level = this.levelIn(startFrame, endFrame);
      const publicScores = this.model.publicScores(scores[k]);
      const rec: WindowScores = {
        kind: 'scores',
        sensor: this.sensor,
        start: this.timeOf(startFrame),
        end: this.timeOf(endFrame),
        trigger: w.trigger,
        scores: publicScores,
        level: { dbfs: round1(level.dbfs), dba: round1(level.dba) },
      };
      if (bg !== undefined) rec.background = round1(bg);
      out.windows.push(rec);
      const tracked: Record<string, number> = {};
      for (const l of this.labels) tracked[l] = scores[k][this.model.labels.indexOf(l)];
      const fired = this.tracker.update({ startS: startFrame / this.sensorRate, endS: endFrame / this.sensorRate, scores: tracked, levelDb: level.dba, backgroundDb: bg });
      // One sound, one alert: when several classes fire for the same event, the most
      // confident one is reported and the others are dropped (they would each raise an alert
      // and, from one sensor alone, could steer a camera the wrong way).
      const dets: Detection[] = [];
      for (const f of fired) {
        const d = this.detection(f, publicScores, bg);
        // Refused (no new sound from its onset on): no cool-down either, or it would hide a
        // real event of the class in the seconds after.
        if (d) dets.push(d);
        else this.tracker.withdraw(f.label);
      }
      dets.sort((a, b) => b.confidence - a.confidence);
      for (const d of dets) {
        if (this.opts.oneLabelPerEvent !== false && Math.abs(d.onset - this.lastOnsetSec) < ONE_EVENT_S) continue;
        this.lastOnsetSec = d.onset;
        out.detections.push(d);
      }
    });
  }

  private levelIn(startFrame: number, endFrame: number): { dbfs: number; dba: number } {
    let dbfs = -Infinity;
    let dba = -Infinity;
    for (const c of this.chunks) {
      if (c.end <= startFrame || c.start >= endFrame) continue;
      if (c.dba > dba) dba = c.dba;
      if (c.dbfs > dbfs) dbfs = c.dbfs;
    }
    if (dba === -Infinity) return { dbfs: powerToDb(0), dba: powerToDb(0) };
    return { dbfs, dba };
  }

  /**
   * The detection of a fired event, or undefined when what starts at its onset does not pass the
   * level gate: the window passed it on its loudest 125 ms, but those lay before the onset, in
   * the tail of an earlier sound (a tone that stops, a burst dying away), and the class fired on
   * the street after it. That is no new sound; reported, it would be a second alert for the
   * earlier one, its direction read on the street bed.
   */
  private detection(f: FiredEvent, scores: Record<string, number>, bg: number | undefined): Detection | undefined {
    const sr = this.sensorRate;
    const firstStart = Math.round(f.startS * sr);
    const firstEnd = Math.round(f.firstEndS * sr);
    const lastEnd = Math.round(f.endS * sr);
    // Where the event starts: the strongest energy rise inside its first window (found even
    // when the event never crossed the onset threshold), snapped to a refined (~1 ms) onset
    // within 30 ms of it; else the strongest onset; else the loudest 125 ms of the window.
    let onsetFrame: number | undefined;
    // The event may have begun before its first window that scores high enough: look 1 s earlier too.
    const rise = this.onsetDet!.rise(firstStart - Math.round(RISE_LOOKBACK_S * sr), firstEnd);
    if (rise) {
      let dist = Math.round(0.03 * sr) + 1;
      onsetFrame = rise.frame;
      for (const o of this.recentOnsets) {
        const d = Math.abs(o.frame - rise.frame);
        if (d < dist) {
          dist = d;
          onsetFrame = o.frame;
        }
      }
    } else {
      let best = -Infinity;
      for (const o of this.recentOnsets) {
        if (o.frame >= firstStart && o.frame < firstEnd && o.strengthDb > best) {
          best = o.strengthDb;
          onsetFrame = o.frame;
        }
      }
    }
    if (onsetFrame === undefined) {
      let loud = -Infinity;
      for (const c of this.chunks) {
        if (c.end <= firstStart || c.start >= firstEnd) continue;
        if (c.dba > loud) {
          loud = c.dba;
          onsetFrame = c.start;
        }
      }
      onsetFrame ??= firstStart;
    }
    // Offset: end of the last 125 ms chunk after the onset still 3 dB above the background.
    const floor = (bg ?? -Infinity) + 3;
    let offsetFrame = Math.min(lastEnd, onsetFrame + Math.round(LEVEL_CHUNK_S * sr));
    let dbfs = -Infinity;
    let dba = -Infinity;
    for (const c of this.chunks) {
      if (c.end <= onsetFrame || c.start >= lastEnd) continue;
      if (c.dba >= floor) offsetFrame = Math.max(offsetFrame, Math.min(c.end, lastEnd));
      if (c.dba > dba) dba = c.dba;
      if (c.dbfs > dbfs) dbfs = c.dbfs;
    }
    // A window classified soon after the event began (its onset reported early): the 125 ms
    // chunk holding the start is still being measured. Its level so far is the event's.
    if (dba === -Infinity && this.chunkN > 0) {
      const start = this.frameOfModel(this.chunkStartM);
      const end = this.frameOfModel(this.chunkStartM + this.chunkN);
      if (end > onsetFrame && start < lastEnd) {
        dba = powerToDb(this.chunkA / this.chunkN);
        dbfs = powerToDb(this.chunkZ / this.chunkN);
        if (dba >= floor) offsetFrame = Math.max(offsetFrame, Math.min(end, lastEnd));
      }
    }
    if (dba === -Infinity) ({ dbfs, dba } = this.levelIn(firstStart, firstEnd));
    if (!gatePasses(this.gate, dba, bg)) return undefined;
    offsetFrame = Math.max(offsetFrame, onsetFrame);
    // The span covers the event with 50 ms before the onset (localization reads the direct sound).
    const pre = Math.round(0.05 * sr);
    const spanStart = Math.max(this.streamStart, onsetFrame - pre);
    const span: AudioSpan = { sensor: this.sensor, start: spanStart, frames: Math.min(Math.round(4 * sr), offsetFrame - spanStart) };
    return {
      kind: 'detection',
      id: randomUUID(),
      sensor: this.sensor,
      label: f.label,
      confidence: Math.round(f.confidence * 1e4) / 1e4,
      onset: round6(this.timeOf(onsetFrame)),
      offset: round6(this.timeOf(offsetFrame)),
      // The street's usual level beside the event's: operators read how far it stood above it.
      // Digital silence (a muted channel, a file's silence) is no street level: left out.
      level: { dbfs: round1(Math.min(0, dbfs)), dba: round1(dba), ...(bg !== undefined && bg > MIN_DB ? { backgroundDba: round1(bg) } : {}) },
      scores,
      span,
    };
  }
}

/**
 * Index of the first NaN or ±Infinity, or −1. Fast when all are finite (every block): v·0 is 0
 * for a finite v and NaN otherwise, so two running sums of it stay 0 unless one is not.
 */
function firstNonFinite(x: Float32Array): number {
  let s0 = 0;
  let s1 = 0;
  const n = x.length;
  let i = 0;
  for (; i + 1 < n; i += 2) {
    s0 += x[i] * 0;
    s1 += x[i + 1] * 0;
  }
  if (i < n) s0 += x[i] * 0;
  if (s0 + s1 === 0) return -1;
  for (let k = 0; k < n; k++) if (!Number.isFinite(x[k])) return k;
  return -1;
}

function round1(v: number): number {
  return Math.round(v * 10) / 10;
}

function round6(v: number): number {
  return Math.round(v * 1e6) / 1e6;
}
