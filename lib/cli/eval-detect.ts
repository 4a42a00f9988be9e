/**
 * `vigie eval detect --manifest FILE.csv [--model FILE.onnx]`: runs the node's own detection
 * path (lib/detect/detector.ts) over labelled files and prints one JSON object of scores.
 *
 * Manifest: CSV with a header and at least `path,label`; optional `onset,offset` (seconds).
 * `path` is relative to the manifest's folder; several rows may name the same file.
 *   - alert label with onset: event-based — a detection of that label whose onset is within
 *     0.5 s of the true onset is a true positive; every other detection is a false positive;
 *   - alert label without onset: clip-level — the label detected anywhere in the file;
 *   - label not an alert class (or "none"): every detection in the file is a false alarm.
 */
import * as fs from 'fs';
import * as path from 'path';
import { resample } from '../audio/resample';
import { readWavFile } from '../audio/wav';
import {
  DEFAULT_COOL_DOWN_MS,
  DEFAULT_HOP_MS,
  DEFAULT_HYSTERESIS,
  DEFAULT_MIN_ABOVE_BACKGROUND_DB,
  DEFAULT_MIN_DURATION_MS,
  DEFAULT_THRESHOLD,
  Detector,
  DetectorOptions,
  SETTING_RANGES,
} from '../detect/detector';
import { ClassifierModel } from '../detect/model';
import { DEFAULT_MODEL_FILE, defaultModelPath } from '../detect/model-source';
import { NumberRule, numberOption, parseArgs } from './args';
import { USAGE as USAGES, UsageError } from './usage';

export const ONSET_TOLERANCE_S = 0.5;
/** Seconds of each file's own end played backwards after it (--pad-s), and what the option accepts. */
export const DEFAULT_PAD_S = 0.5;
const PAD_RANGE_S = { min: 0, max: 60 };
/** --sensor-rate-hz: the rates of street microphones, Hz. */
const SENSOR_RATE_RANGE_HZ = { min: 8000, max: 192000 };

/**
 * Conversion of a file to `--sensor-rate-hz`: long and with its cutoff at the file's Nyquist
 * frequency, so that the file's band reaches the detector whole (the clips were already
 * band-limited once when they were made).
 */
const TRANSPARENT_KERNEL = { halfZeros: 64, cutoff: 1 };

const USAGE = USAGES['eval detect'];

export interface RefEvent {
  label: string;
  /** Seconds from the start of the file; undefined: clip-level. */
  onset?: number;
  offset?: number;
}

export interface SysEvent {
  label: string;
  onset: number;
}

export interface EvalFile {
  path: string;
  durationS: number;
  /** Reference rows of this file (alert and non-alert labels as in the manifest). */
  refs: RefEvent[];
  detections: SysEvent[];
}

export interface ClassScores {
  tp: number;
  fp: number;
  fn: number;
  precision: number;
  recall: number;
  f1: number;
}

export interface EvalScores {
  classes: Record<string, ClassScores>;
  overall: ClassScores & {
    microF1: number;
    /** (S + D + I) / N; null without reference events. */
    errorRate: number | null;
    substitutions: number;
    deletions: number;
    insertions: number;
    referenceEvents: number;
  };
  falseAlarms: {
    count: number;
    nonAlertSeconds: number;
    perHour: number | null;
    /**
     * Exact (Garwood) 95 % interval of the hourly rate, from the count as a Poisson variable:
     * a few alarms in minutes of audio say little, and ≤ 1 per hour is shown only by hours of
     * background without one (0 in 3 h still allows up to 1.2 per hour).
     */
    perHour95: [number, number] | null;
  };
  files: number;
}

/** P(X ≤ k) for X ~ Poisson(mean), summed in log space (no underflow at large means). */
export function poissonCdf(k: number, mean: number): number {
  if (k < 0) return 0;
  if (mean <= 0) return 1;
  // ln P(X = i), each from the one before: ln P(i) = ln P(i−1) + ln(mean) − ln(i).
  const logs = [-mean];
  for (let i = 1; i <= k; i++) logs.push(logs[i - 1] + Math.log(mean) - Math.log(i));
  const top = Math.max(...logs);
  return Math.min(1, Math.exp(top) * logs.reduce((acc, l) => acc + Math.exp(l - top), 0));
}

/**
 * Exact two-sided interval of a Poisson mean from one observed count (Garwood): the means for
 * which the count is not in either 2.5 % tail. For 0: [0, 3.69]; for 7: [2.81, 14.42].
 */
export function poissonInterval(count: number, level = 0.95): [number, number] {
  if (!Number.isInteger(count) || count < 0) throw new RangeError(`count: expected a non-negative integer, got ${count}`);
  if (!(level > 0 && level < 1)) throw new RangeError(`level: expected a probability between 0 and 1, got ${level}`);
  const tail = (1 - level) / 2;
  // poissonCdf(k, mean) falls as the mean grows: bisection on [0, hi].
  const solve = (k: number, target: number): number => {
    let lo = 0;
    let hi = count + 10 + 10 * Math.sqrt(count + 1);
    for (let i = 0; i < 200; i++) {
      const mid = (lo + hi) / 2;
      if (poissonCdf(k, mid) > target) lo = mid;
      else hi = mid;
    }
    return (lo + hi) / 2;
  };
  return [count === 0 ? 0 : solve(count - 1, 1 - tail), solve(count, tail)];
}

function prf(tp: number, fp: number, fn: number): ClassScores {
  const precision = tp + fp > 0 ? tp / (tp + fp) : 0;
  const recall = tp + fn > 0 ? tp / (tp + fn) : 0;
  const f1 = 2 * tp + fp + fn > 0 ? (2 * tp) / (2 * tp + fp + fn) : 0;
  return { tp, fp, fn, precision: r4(precision), recall: r4(recall), f1: r4(f1) };
}

function r4(v: number): number {
  return Math.round(v * 1e4) / 1e4;
}

/** Score detections against references (pure: the tests call it on hand-made cases). */
export function scoreEvaluation(files: EvalFile[], alertLabels: readonly string[], toleranceS = ONSET_TOLERANCE_S): EvalScores {
  const isAlert = (l: string) => alertLabels.includes(l);
  const count: Record<string, { tp: number; fp: number; fn: number }> = {};
  for (const l of alertLabels) count[l] = { tp: 0, fp: 0, fn: 0 };
  let subs = 0;
  let refTotal = 0;
  let faCount = 0;
  let nonAlertSeconds = 0;

  for (const f of files) {
    const alertRefs = f.refs.filter((r) => isAlert(r.label));
    const dets = f.detections.filter((d) => isAlert(d.label)).sort((a, b) => a.onset - b.onset);
    if (alertRefs.length === 0) {
      // Background-only file: every detection is a false alarm.
      nonAlertSeconds += f.durationS;
      faCount += dets.length;
      for (const d of dets) count[d.label].fp++;
      continue;
    }
    refTotal += alertRefs.length;
    const detUsed = new Array<boolean>(dets.length).fill(false);
    const refHit = new Array<boolean>(alertRefs.length).fill(false);
    // Event-based references: greedy by onset distance, same label, within the tolerance.
    const pairs: Array<{ r: number; d: number; dist: number }> = [];
    alertRefs.forEach((ref, r) => {
      if (ref.onset === undefined) return;
      dets.forEach((d, k) => {
        const dist = Math.abs(d.onset - ref.onset!);
        if (d.label === ref.label && dist <= toleranceS + 1e-9) pairs.push({ r, d: k, dist });
      });
    });
    pairs.sort((a, b) => a.dist - b.dist);
    for (const p of pairs) {
      if (refHit[p.r] || detUsed[p.d]) continue;
      refHit[p.r] = true;
      detUsed[p.d] = true;
    }
    // Clip-level references: the label detected anywhere (detections of it are all "used").
    alertRefs.forEach((ref, r) => {
      if (ref.onset !== undefined) return;
      let hit = false;
      dets.forEach((d, k) => {
        if (d.label !== ref.label) return;
        if (!detUsed[k]) {
          detUsed[k] = true;
          hit = true;
        }
      });
      // A second clip-level row of the same label in the same file needs its own detection.
      refHit[r] = hit;
    });
    alertRefs.forEach((ref, r) => {
      if (refHit[r]) count[ref.label].tp++;
      else count[ref.label].fn++;
    });
    dets.forEach((d, k) => {
      if (!detUsed[k]) count[d.label].fp++;
    });
    // Substitutions (DCASE): a missed reference and a wrong-label detection at the same place.
    const freeDets = dets.map((d, k) => ({ d, k })).filter((x) => !detUsed[x.k]);
    const taken = new Set<number>();
    alertRefs.forEach((ref, r) => {
      if (refHit[r]) return;
      const m = freeDets.find((x) => !taken.has(x.k) && x.d.label !== ref.label && (ref.onset === undefined || Math.abs(x.d.onset - ref.onset) <= toleranceS + 1e-9));
      if (m) {
        taken.add(m.k);
        subs++;
      }
    });
  }

  const classes: Record<string, ClassScores> = {};
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (const l of alertLabels) {
    const c = count[l];
    classes[l] = prf(c.tp, c.fp, c.fn);
    tp += c.tp;
    fp += c.fp;
    fn += c.fn;
  }
  const overall = prf(tp, fp, fn);
  const deletions = fn - subs;
  const insertions = fp - subs;
  return {
    classes,
    overall: {
      ...overall,
      microF1: overall.f1,
      errorRate: refTotal > 0 ? r4((subs + deletions + insertions) / refTotal) : null,
      substitutions: subs,
      deletions,
      insertions,
      referenceEvents: refTotal,
    },
    falseAlarms: {
      count: faCount,
      nonAlertSeconds: r4(nonAlertSeconds),
      perHour: nonAlertSeconds > 0 ? r4(faCount / (nonAlertSeconds / 3600)) : null,
      perHour95: nonAlertSeconds > 0 ? (poissonInterval(faCount).map((m) => r4(m / (nonAlertSeconds / 3600))) as [number, number]) : null,
    },
    files: files.length,
  };
}

/** Minimal RFC 4180 CSV: quoted fields, doubled quotes, CRLF. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      field = '';
      if (row.some((x) => x !== '')) rows.push(row);
      row = [];
    } else field += c;
  }
  row.push(field);
  if (row.some((x) => x !== '')) rows.push(row);
  return rows;
}

export interface ManifestRow {
  path: string;
  label: string;
  onset?: number;
  offset?: number;
}

export function readManifest(file: string): ManifestRow[] {
  const rows = parseCsv(fs.readFileSync(file, 'utf8'));
  if (!rows.length) throw new Error(`manifest ${file}: empty`);
  const header = rows[0].map((h) => h.trim());
  const col = (name: string) => header.indexOf(name);
  if (col('path') < 0 || col('label') < 0) throw new Error(`manifest ${file}: the header must have "path" and "label" columns, got ${header.join(',')}`);
  const num = (v: string | undefined, line: number, name: string): number | undefined => {
    if (v === undefined || v.trim() === '') return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new Error(`manifest ${file} line ${line}: ${name} must be seconds >= 0, got "${v}"`);
    return n;
  };
  return rows.slice(1).map((r, i) => {
    const line = i + 2;
    const p = (r[col('path')] ?? '').trim();
    const label = (r[col('label')] ?? '').trim();
    if (!p || !label) throw new Error(`manifest ${file} line ${line}: path and label are required`);
    return { path: p, label, onset: col('onset') >= 0 ? num(r[col('onset')], line, 'onset') : undefined, offset: col('offset') >= 0 ? num(r[col('offset')], line, 'offset') : undefined };
  });
}

/**
 * `n` samples that carry on after `x`: its end played backwards (reflected again when `x` is
 * shorter). The street goes on at its own level and spectrum, with no step at the join: a
 * quieter pad would pull the background level (L90) down and open the level gate on the
 * file's own background near its end.
 */
export function mirroredTail(x: Float32Array, n: number): Float32Array {
  const out = new Float32Array(n);
  const len = x.length;
  if (len < 2) return out.fill(x[0] ?? 0);
  // Reflected about the last sample, then back and forth over the file, never repeating an end.
  const period = 2 * (len - 1);
  for (let i = 0; i < n; i++) {
    const k = (i + 1) % period;
    out[i] = x[k < len ? len - 1 - k : k - (len - 1)];
  }
  return out;
}

/**
 * Run the detector over one file; detections' onsets are seconds from the file's start.
 * The file is a stream that starts with its first sample; `padS` of its own end played
 * backwards follows it so that its last sounds get their windows (detections that start in that
 * pad are not the file's and are dropped). Nothing is put before it: a quiet lead-in would end
 * in a step up to the file's level, which the detector would rightly hear as an onset that no
 * street makes.
 */
export async function detectFile(
  model: ClassifierModel,
  file: string,
  opts: Omit<DetectorOptions, 'model' | 'sensor'>,
  padS: number,
  sensorRateHz?: number,
): Promise<{ detections: SysEvent[]; onsetsS: number[]; durationS: number; cpuS: number }> {
  const wav = readWavFile(file);
  // A sensor at another rate than the file's: the file as that microphone would deliver it
  // (high-quality resampler), so the detector's own rate conversion is part of what is measured.
  const sr = sensorRateHz ?? wav.sampleRate;
  const source = sr === wav.sampleRate ? wav.channels : wav.channels.map((c) => resample(c, wav.sampleRate, sr, TRANSPARENT_KERNEL));
  const pad = Math.round(padS * sr);
  const n = source[0].length;
  const chs = source.map((c) => {
    const x = new Float32Array(n + pad);
    x.set(c, 0);
    x.set(mirroredTail(c, pad), n);
    return x;
  });
  const cpu0 = process.cpuUsage();
  const det = new Detector({ ...opts, model, sensor: 'eval' });
  const block = Math.max(1, Math.round(sr * 0.1));
  const found: SysEvent[] = [];
  const onsetsS: number[] = [];
  const total = chs[0].length;
  for (let s = 0; s < total; s += block) {
    const e = Math.min(total, s + block);
    const out = await det.process({ start: s, time: s / sr, sampleRate: sr, channels: chs.map((c) => c.subarray(s, e)) });
    for (const d of out.detections) found.push({ label: d.label, onset: d.onset });
    for (const o of out.onsets) onsetsS.push(o.time);
  }
  for (const d of (await det.flush()).detections) found.push({ label: d.label, onset: d.onset });
  const cpu = process.cpuUsage(cpu0);
  const durationS = n / sr;
  return { detections: found.filter((d) => d.onset < durationS), onsetsS: onsetsS.filter((t) => t < durationS), durationS, cpuS: (cpu.user + cpu.system) / 1e6 };
}

/** For `vigie eval detect --help`, after the usage line. */
export function help(): string {
  const range = (r: { min: number; max: number }) => `${r.min} to ${r.max}`;
  return (
    '\nRuns the acoustic-classifier node\'s own detection path over the clips of a manifest and prints one\n' +
    'JSON object on standard output: per class and overall true and false positives, misses, precision,\n' +
    'recall and F1, the error rate, false alarms on non-alert audio, the audio and CPU seconds and the\n' +
    'real-time factor (docs/classifier.md).\n' +
    'The manifest is CSV with a header and at least path,label, optional onset,offset (seconds);\n' +
    `path is relative to the manifest. A detection within ${ONSET_TOLERANCE_S} s of a labelled onset is a true positive.\n` +
    'The detector options are the node\'s settings, with its ranges and defaults.\n\n' +
    'options:\n' +
    '  --manifest FILE.csv            the labelled clips\n' +
    `  --model FILE.onnx              the classifier model (default: the bundled ${DEFAULT_MODEL_FILE})\n` +
    `  --threshold P                  detection threshold for every class, ${range(SETTING_RANGES.threshold)} (default: the model card's per class, else ${DEFAULT_THRESHOLD})\n` +
    `  --hop-ms MS                    hop between analysis windows, ms, ${range(SETTING_RANGES.hopMs)} and at most the model's window (default ${DEFAULT_HOP_MS})\n` +
    `  --min-above-background-db DB   level gate: the window's loudest 125 ms this far above the background (L90), dB, ${range(SETTING_RANGES.minAboveBackgroundDb)} (default ${DEFAULT_MIN_ABOVE_BACKGROUND_DB}; 0: off)\n` +
    `  --cool-down-ms MS              quiet time after a detection of a class before the next, ms, ${range(SETTING_RANGES.coolDownMs)} (default ${DEFAULT_COOL_DOWN_MS})\n` +
    `  --min-duration-ms MS           least time above the threshold for a detection, ms, ${range(SETTING_RANGES.minDurationMs)} (default ${DEFAULT_MIN_DURATION_MS})\n` +
    `  --hysteresis H                 a detection ends this far below its threshold, ${range(SETTING_RANGES.hysteresis)} (default ${DEFAULT_HYSTERESIS})\n` +
    `  --pad-s S                      seconds of each file's own end played backwards after it, so that its last sounds get their windows, ${range(PAD_RANGE_S)} (default ${DEFAULT_PAD_S})\n` +
    `  --sensor-rate-hz HZ            feed the files at this rate, as a microphone at that rate would, whole Hz, ${range(SENSOR_RATE_RANGE_HZ)} (default: each file's own rate)\n` +
    '  --details                      add each file\'s labels and detections to the output\n'
  );
}

/** `write` receives the JSON text (default: standard output). */
export async function main(argv: string[], write: (text: string) => void = (t) => void process.stdout.write(t)): Promise<number> {
  const a = parseArgs(argv, { strings: ['manifest', 'model', 'threshold', 'hop-ms', 'min-above-background-db', 'cool-down-ms', 'min-duration-ms', 'hysteresis', 'pad-s', 'sensor-rate-hz'], booleans: ['details'], usage: USAGE });
  const manifest = a.strings.manifest;
  if (!manifest) throw new UsageError(`--manifest is required\nusage: ${USAGE}`);
  // The same ranges as the acoustic-classifier node's settings.
  const num = (name: string, rule: NumberRule) => numberOption(a, name, rule, USAGE);
  const opts: Omit<DetectorOptions, 'model' | 'sensor'> = {
    threshold: num('threshold', SETTING_RANGES.threshold),
    hopMs: num('hop-ms', { ...SETTING_RANGES.hopMs, unit: 'ms' }),
    minAboveBackgroundDb: num('min-above-background-db', { ...SETTING_RANGES.minAboveBackgroundDb, unit: 'dB' }),
    coolDownMs: num('cool-down-ms', { ...SETTING_RANGES.coolDownMs, unit: 'ms' }),
    minDurationMs: num('min-duration-ms', { ...SETTING_RANGES.minDurationMs, unit: 'ms' }),
    hysteresis: num('hysteresis', SETTING_RANGES.hysteresis),
  };
  const padS = num('pad-s', { ...PAD_RANGE_S, unit: 'seconds' }) ?? DEFAULT_PAD_S;
  const sensorRateHz = num('sensor-rate-hz', { ...SENSOR_RATE_RANGE_HZ, integer: true, unit: 'Hz' });
  const rows = readManifest(manifest);
  const base = path.dirname(path.resolve(manifest));
  const modelPath = a.strings.model ?? defaultModelPath();
  const model = await ClassifierModel.load(modelPath);
  try {
    // The hop's upper bound is the model's window, known only now: past it, it is still a wrong
    // command line (exit 2), not a failed evaluation.
    if (opts.hopMs !== undefined && Math.round((opts.hopMs * model.sampleRateHz) / 1000) > model.windowSamples) {
      const windowMs = Math.round((model.windowSamples / model.sampleRateHz) * 1e6) / 1e3;
      throw new UsageError(`--hop-ms: expected at most the window of model ${model.card.name}, ${windowMs} ms, got ${JSON.stringify(a.strings['hop-ms'])}\nusage: ${USAGE}`);
    }
    const byFile = new Map<string, ManifestRow[]>();
    for (const r of rows) {
      const list = byFile.get(r.path) ?? [];
      list.push(r);
      byFile.set(r.path, list);
    }
    const files: EvalFile[] = [];
    let audioS = 0;
    let cpuS = 0;
    for (const [p, refs] of byFile) {
      const full = path.resolve(base, p);
      const res = await detectFile(model, full, opts, padS, sensorRateHz);
      audioS += res.durationS;
      cpuS += res.cpuS;
      files.push({ path: p, durationS: res.durationS, refs: refs.map((r) => ({ label: r.label, onset: r.onset, offset: r.offset })), detections: res.detections });
    }
    const scores = scoreEvaluation(files, model.alertLabels);
    const result: Record<string, unknown> = {
      model: model.card.name,
      modelFile: path.basename(model.file),
      manifest: path.basename(manifest),
      ...(sensorRateHz !== undefined ? { sensorRateHz } : {}),
      onsetToleranceS: ONSET_TOLERANCE_S,
      ...scores,
      audioSeconds: r4(audioS),
      cpuSeconds: r4(cpuS),
      realTimeFactor: audioS > 0 ? Math.round((cpuS / audioS) * 1e6) / 1e6 : null,
    };
    if (a.booleans.details) result.details = files.map((f) => ({ path: f.path, refs: f.refs, detections: f.detections.map((d) => ({ label: d.label, onset: r4(d.onset) })) }));
    write(JSON.stringify(result, null, 2) + '\n');
    return 0;
  } finally {
    await model.release();
  }
}
