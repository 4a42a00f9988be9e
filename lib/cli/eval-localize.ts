/**
 * `vigie eval localize --scene FILE.json [--seed N] [--clock-error-ms X] [--duration S] [--no-bearings] [--summary]`
 *
 * Renders the scene, and for each event and sensor runs the same detection-free
 * localization as the localizer node on a span around the true arrival (onset found from
 * the signal): per source and sensor the true and estimated bearing and the error; the fused
 * position and its error in metres; medians and 95th percentiles. Prints JSON on stdout.
 */
import { AudioRing } from '../audio/ring';
import { bearingDeg as bearingOf, diffDeg } from '../localize/geo';
import { estimateDoa } from '../localize/srp';
import { DEFAULT_MIN_CONFIDENCE } from '../localize/localizer';
import { numberOption, parseArgs, SEED_RULE } from './args';
import { USAGE as USAGES, UsageError } from './usage';
import { Observation, fuseObservations, onsetStdFromRise } from '../localize/fusion';
import { DEFAULT_SCENE_DURATION_S, DEFAULT_SCENE_SEED, listBundledScenes, loadScene, Scene, micPositionsEnu, SCENE_DURATION_RANGE_S, sourcePointEnu } from '../sim/scene';
import { SceneEvent, SceneRenderer } from '../sim/render';
import { gaussian, makeRng } from '../sim/signals';
import { SENSOR_SETTINGS } from '../sensor';

const USAGE = USAGES['eval localize'];

export interface EvalOptions {
  seed?: number;
  /** Overrides every sensor's clock: offsets drawn N(0, σ) and claimed error σ, ms. */
  clockErrorMs?: number;
  durationSec?: number;
  /** Span read around each arrival: before / after, ms. */
  preMs?: number;
  postMs?: number;
  /** false: fuse onsets only (TDOA alone), to see what the clocks do without bearings. */
  useBearings?: boolean;
  /** Bearings below this confidence are not used (the localizer node's default). */
  minConfidence?: number;
  onWarning?: (m: string) => void;
}

export interface SensorEstimate {
  sensor: string;
  distanceM: number;
  trueBearingDeg: number;
  bearingDeg: number | null;
  errorDeg: number | null;
  trueElevationDeg: number;
  elevationDeg: number | null;
  bearingStdDeg: number | null;
  confidence: number | null;
  snrDb: number;
  onsetErrorMs: number | null;
  error?: string;
}

export interface EventResult {
  sourceId: string;
  label: string;
  signal: string;
  positionEnu: [number, number, number];
  insideHull: boolean;
  sensors: SensorEstimate[];
  fused: { method: string; positionEnu?: [number, number]; errorM?: number; estimatedErrorM?: number; reason?: string };
}

export interface EvalReport {
  scene: string;
  seed: number;
  sampleRate: number;
  clockErrorMs: number | null;
  bearingsFused: boolean;
  events: EventResult[];
  summary: {
    bearings: number;
    bearingErrorMedianDeg: number | null;
    bearingErrorP95Deg: number | null;
    /** Bearings at or above the confidence threshold (the ones the localizer passes on). */
    trusted: { bearings: number; medianDeg: number | null; p95Deg: number | null };
    positions: number;
    positionErrorMedianM: number | null;
    positionErrorP95M: number | null;
    insideHull: { positions: number; within3mFraction: number | null; medianM: number | null; p95M: number | null };
    snrMedianDb: number | null;
    methods: Record<string, number>;
  };
}

export function percentile(xs: number[], p: number): number | null {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  const pos = (s.length - 1) * p;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

function insideHull(points: [number, number][], p: [number, number]): boolean {
  // Convex hull (monotone chain), then point-in-convex-polygon.
  const pts = [...points].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  if (pts.length < 3) return false;
  const cross = (o: number[], a: number[], b: number[]) => (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
  const lower: [number, number][] = [];
  for (const q of pts) {
    while (lower.length >= 2 && cross(lower[lower.length - 2], lower[lower.length - 1], q) <= 0) lower.pop();
    lower.push(q);
  }
  const upper: [number, number][] = [];
  for (const q of [...pts].reverse()) {
    while (upper.length >= 2 && cross(upper[upper.length - 2], upper[upper.length - 1], q) <= 0) upper.pop();
    upper.push(q);
  }
  const hull = [...lower.slice(0, -1), ...upper.slice(0, -1)];
  for (let i = 0; i < hull.length; i++) if (cross(hull[i], hull[(i + 1) % hull.length], p) < 0) return false;
  return true;
}

function rmsDb(x: Float32Array, from: number, to: number): number {
  let s = 0;
  const a = Math.max(0, from);
  const b = Math.min(x.length, to);
  for (let i = a; i < b; i++) s += x[i] * x[i];
  return 10 * Math.log10(s / Math.max(1, b - a) + 1e-20);
}

/** Run the evaluation on a loaded scene. */
export function evaluateScene(sceneIn: Scene, opts: EvalOptions = {}): EvalReport {
  const seed = opts.seed ?? sceneIn.seed;
  const scene: Scene = { ...sceneIn, sensors: sceneIn.sensors.map((s) => ({ ...s })), seed };
  if (opts.clockErrorMs !== undefined) {
    const rng = makeRng(seed * 31 + 17);
    for (const s of scene.sensors) {
      s.clockOffsetMs = gaussian(rng) * opts.clockErrorMs;
      s.clockErrorMs = opts.clockErrorMs;
      s.clock = 'ntp';
    }
  }
  const fs = scene.sampleRate;
  const c = scene.speedOfSoundMs;
  const renderer = new SceneRenderer(scene, { seed, onWarning: opts.onWarning });
  const rings = scene.sensors.map((s) => new AudioRing({ sensor: `eval-${s.id}`, sampleRate: fs, channels: s.mics.length, seconds: 10 }));
  const centres = scene.sensors.map((s) => {
    const mics = micPositionsEnu(s);
    return [0, 1, 2].map((k) => mics.reduce((a, m) => a + m[k], 0) / mics.length) as [number, number, number];
  });
  const preF = Math.round(((opts.preMs ?? 150) / 1000) * fs);
  const postF = Math.round(((opts.postMs ?? 250) / 1000) * fs);
  const pending: { ev: SceneEvent; readyFrame: number }[] = [];
  renderer.onEvent((ev) => {
    const at = sourcePointEnu(ev);
    const far = Math.max(...centres.map((cn) => Math.hypot(cn[0] - at[0], cn[1] - at[1], cn[2] - at[2])));
    pending.push({ ev, readyFrame: Math.ceil((ev.emitSec + far / c) * fs) + postF + 1 });
  });
  const results: EventResult[] = [];
  const duration = opts.durationSec ?? scene.durationSec;
  const block = Math.round(0.5 * fs);
  const total = Math.round(duration * fs);
  const hullPts = scene.sensors.map((s) => s.positionEnu);
  while (renderer.frame < total || pending.length) {
    const out = renderer.render(block);
    out.forEach((chs, i) => rings[i].write(chs));
    for (let k = 0; k < pending.length; ) {
      if (pending[k].readyFrame > renderer.frame) {
        k++;
        continue;
      }
      const { ev } = pending.splice(k, 1)[0];
      results.push(evaluateEvent(scene, ev, rings, centres, preF, postF, hullPts, opts.useBearings === false ? Infinity : (opts.minConfidence ?? DEFAULT_MIN_CONFIDENCE)));
    }
    if (renderer.frame > total + 30 * fs) break;
  }
  for (const r of rings) r.close();
  const bearingErrs = results.flatMap((r) => r.sensors.filter((s) => s.errorDeg !== null).map((s) => Math.abs(s.errorDeg!)));
  const trustedErrs = results.flatMap((r) => r.sensors.filter((s) => s.errorDeg !== null && !s.error).map((s) => Math.abs(s.errorDeg!)));
  const posErrs = results.filter((r) => r.fused.errorM !== undefined).map((r) => r.fused.errorM!);
  const hullErrs = results.filter((r) => r.insideHull && r.fused.errorM !== undefined).map((r) => r.fused.errorM!);
  const hullCount = results.filter((r) => r.insideHull).length;
  const methods: Record<string, number> = {};
  for (const r of results) methods[r.fused.method] = (methods[r.fused.method] ?? 0) + 1;
  return {
    scene: scene.name,
    seed,
    sampleRate: fs,
    clockErrorMs: opts.clockErrorMs ?? null,
    bearingsFused: opts.useBearings !== false,
    events: results,
    summary: {
      bearings: bearingErrs.length,
      bearingErrorMedianDeg: round(percentile(bearingErrs, 0.5)),
      bearingErrorP95Deg: round(percentile(bearingErrs, 0.95)),
      trusted: { bearings: trustedErrs.length, medianDeg: round(percentile(trustedErrs, 0.5)), p95Deg: round(percentile(trustedErrs, 0.95)) },
      positions: posErrs.length,
      positionErrorMedianM: round(percentile(posErrs, 0.5)),
      positionErrorP95M: round(percentile(posErrs, 0.95)),
      insideHull: {
        positions: hullCount,
        // Events inside the hull that got no position count as misses.
        within3mFraction: hullCount ? round(hullErrs.filter((e) => e <= 3).length / hullCount) : null,
        medianM: round(percentile(hullErrs, 0.5)),
        p95M: round(percentile(hullErrs, 0.95)),
      },
      snrMedianDb: round(percentile(results.flatMap((r) => r.sensors.map((s) => s.snrDb)), 0.5)),
      methods,
    },
  };
}

function round(v: number | null, digits = 3): number | null {
  return v === null ? null : Math.round(v * 10 ** digits) / 10 ** digits;
}

function evaluateEvent(scene: Scene, ev: SceneEvent, rings: AudioRing[], centres: [number, number, number][], preF: number, postF: number, hullPts: [number, number][], minConfidence: number): EventResult {
  const fs = scene.sampleRate;
  const c = scene.speedOfSoundMs;
  const sensors: SensorEstimate[] = [];
  const observations: Observation[] = [];
  scene.sensors.forEach((s, i) => {
    const cn = centres[i];
    const p = ev.positionEnu;
    const dist = Math.hypot(p[0] - cn[0], p[1] - cn[1], p[2] - cn[2]);
    const arrival = Math.round((ev.emitSec + dist / c) * fs);
    const trueBearing = bearingOf(cn[0], cn[1], p[0], p[1]);
    const trueEl = (Math.atan2(p[2] - cn[2], Math.hypot(p[0] - cn[0], p[1] - cn[1])) * 180) / Math.PI;
    const span = { start: Math.max(0, arrival - preF), frames: preF + postF };
    const read = rings[i].read(span);
    const est: SensorEstimate = {
      sensor: s.id,
      distanceM: round(dist, 2)!,
      trueBearingDeg: round(trueBearing, 2)!,
      bearingDeg: null,
      errorDeg: null,
      trueElevationDeg: round(trueEl, 2)!,
      elevationDeg: null,
      bearingStdDeg: null,
      confidence: null,
      snrDb: NaN,
      onsetErrorMs: null,
    };
    if (!read.ok) {
      est.error = read.message;
      sensors.push(est);
      return;
    }
    const at = arrival - span.start;
    const snrs = read.channels.map((ch) => rmsDb(ch, at, at + Math.round(0.1 * fs)) - rmsDb(ch, 0, at - Math.round(0.01 * fs)));
    est.snrDb = round(snrs.reduce((a, b) => a + b, 0) / snrs.length, 1)!;
    try {
      const doa = estimateDoa(read.channels, s.mics, { sampleRate: fs, headingDeg: s.headingDeg, speedOfSoundMs: c });
      est.bearingDeg = round(doa.bearingDeg, 2);
      est.errorDeg = round(diffDeg(doa.bearingDeg, trueBearing), 2);
      est.elevationDeg = round(doa.elevationDeg, 1);
      est.bearingStdDeg = round(doa.bearingStdDeg, 2);
      est.confidence = round(doa.confidence, 2);
      const onsetFrame = span.start + doa.onsetFrame;
      est.onsetErrorMs = round(((onsetFrame - arrival) / fs) * 1000, 3);
      // As the localizer node does: a bearing below the confidence threshold is not used (the onset still is).
      const trusted = doa.confidence >= minConfidence;
      if (!trusted && minConfidence !== Infinity) est.error = `low confidence ${round(doa.confidence, 2)} < ${minConfidence}: bearing not used`;
      observations.push({
        detectionId: `${ev.sourceId}-${s.id}`,
        sensor: s.id,
        label: ev.label,
        onsetSec: onsetFrame / fs + s.clockOffsetMs / 1000,
        e: s.positionEnu[0],
        n: s.positionEnu[1],
        z: s.heightM,
        // a scene on a slope: the localizer's plane through the sensors' ground, as with vigie-sensor's Ground altitude
        ...(s.groundAltM !== undefined ? { groundAltM: s.groundAltM } : {}),
        lat: s.lat,
        lon: s.lon,
        clock: s.clock,
        clockErrorMs: s.clockErrorMs,
        ...(trusted ? { bearingDeg: doa.bearingDeg, bearingStdDeg: doa.bearingStdDeg } : {}),
        confidence: doa.confidence,
        onsetStdMs: onsetStdFromRise(doa.onsetRiseMs, doa.onsetContrastDb),
        payload: null,
      });
    } catch (err) {
      est.error = (err as Error).message;
    }
    sensors.push(est);
  });
  const fix = fuseObservations(observations, { speedOfSoundMs: c, sourceHeightM: ev.positionEnu[2] });
  const fused: EventResult['fused'] = { method: fix.method, reason: fix.reason };
  if (fix.e !== undefined && fix.n !== undefined) {
    fused.positionEnu = [round(fix.e, 2)!, round(fix.n, 2)!];
    fused.errorM = round(Math.hypot(fix.e - ev.positionEnu[0], fix.n - ev.positionEnu[1]), 2)!;
    fused.estimatedErrorM = round(fix.errorM ?? null, 2) ?? undefined;
  }
  return {
    sourceId: ev.sourceId,
    label: ev.label,
    signal: ev.signal,
    positionEnu: ev.positionEnu.map((v) => round(v, 2)!) as [number, number, number],
    insideHull: insideHull(hullPts, [ev.positionEnu[0], ev.positionEnu[1]]),
    sensors,
    fused,
  };
}

/** For `vigie eval localize --help`, after the usage line. */
export function help(): string {
  return (
    '\nRenders a scene of the simulated street (docs/scenes.md) and runs the localizer node\'s own code on\n' +
    'each event: per sensor the direction of arrival on a span around the true arrival, then the\n' +
    'fused position. Prints one JSON report on standard output: per event and sensor the true and\n' +
    'estimated bearing and its error, the onset error, the SNR; the fused position and its error;\n' +
    'medians and 95th percentiles (docs/localization.md).\n\n' +
    'options:\n' +
    `  --scene FILE|NAME   a scene JSON file, or a bundled scene: ${listBundledScenes().join(', ') || 'none'}\n` +
    `  --seed N            the random seed, a whole number >= 0 (default: the scene's seed, else ${DEFAULT_SCENE_SEED})\n` +
    `  --clock-error-ms X  every sensor's clock offset drawn from N(0, X ms) and claimed as X ms (${SENSOR_SETTINGS.clockErrorMs.min} to ${SENSOR_SETTINGS.clockErrorMs.max}; default: each sensor's clock as the scene gives it)\n` +
    `  --duration S        seconds to render from the start (default: the scene's durationSec, else ${DEFAULT_SCENE_DURATION_S}; ${SCENE_DURATION_RANGE_S.min} to ${SCENE_DURATION_RANGE_S.max})\n` +
    '  --no-bearings       fuse the onsets only (time differences alone), to see what the clocks do\n' +
    '  --summary           print the summary only, without the events\n'
  );
}

export async function main(args: string[]): Promise<number> {
  const a = parseArgs(args, { strings: ['scene', 'seed', 'clock-error-ms', 'duration'], booleans: ['no-bearings', 'summary'], usage: USAGE });
  const sceneFile = a.strings.scene;
  if (!sceneFile) throw new UsageError(`--scene is required\nusage: ${USAGE}`);
  const seed = numberOption(a, 'seed', SEED_RULE, USAGE);
  const clockErrorMs = numberOption(a, 'clock-error-ms', { min: SENSOR_SETTINGS.clockErrorMs.min, max: SENSOR_SETTINGS.clockErrorMs.max, unit: 'ms' }, USAGE);
  const durationSec = numberOption(a, 'duration', { ...SCENE_DURATION_RANGE_S, unit: 'seconds' }, USAGE);
  const scene = loadScene(sceneFile);
  const report = evaluateScene(scene, {
    seed,
    clockErrorMs,
    durationSec,
    useBearings: !a.booleans['no-bearings'],
    onWarning: (m) => process.stderr.write(`${m}\n`),
  });
  const out = a.booleans.summary ? { scene: report.scene, seed: report.seed, clockErrorMs: report.clockErrorMs, bearingsFused: report.bearingsFused, summary: report.summary } : report;
  process.stdout.write(JSON.stringify(out, null, 2) + '\n');
  return 0;
}
