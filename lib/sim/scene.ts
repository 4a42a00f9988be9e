/**
 * Scene files of the simulated street (DESIGN §6): a geo origin, sensors with mic arrays and
 * clock offsets, sound sources (clips or synthetic), a background, ground and street-canyon
 * reflections. `parseScene` validates a scene and says which field is wrong and what it
 * expected. The format is documented in docs/scenes.md.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ARRAY_PRESETS, MicPosition, resolveGeometry, checkGeometry } from '../localize/arrays';
import { GeoPoint, enuToGeodetic, geodeticToEnu, speedOfSound } from '../localize/geo';
import { CLOCK_SOURCES, ClockSource } from '../contracts';

export const DEFAULT_SAMPLE_RATE_HZ = 48000;
/** dB SPL that corresponds to an RMS of 1.0 (0 dBFS) at a simulated microphone. */
export const DEFAULT_CALIBRATION_DB_SPL = 120;
/** What a scene's durationSec (and the --duration of vigie simulate and eval localize) may be, seconds. */
export const SCENE_DURATION_RANGE_S = { min: 0.01, max: 86400 } as const;
/** A scene's durationSec when it gives none, seconds. */
export const DEFAULT_SCENE_DURATION_S = 30;
/** A scene's seed when it gives none. */
export const DEFAULT_SCENE_SEED = 1;

export type SynthSpec =
  | { type: 'impulse'; durationMs?: number }
  | { type: 'noise-burst'; durationMs?: number; decayMs?: number; lowHz?: number; highHz?: number }
  | { type: 'tone'; freqHz: number; durationMs?: number; sweepToHz?: number; harmonics?: number };

/** Level of a source at 1 m (RMS over its loudest 100 ms), either in dB SPL or dBFS. */
export type LevelSpec = { dbSpl: number } | { dbfs: number };

export interface SceneSensor {
  id: string;
  name: string;
  /** East, north in metres from the origin. */
  positionEnu: [number, number];
  lat: number;
  lon: number;
  heightM: number;
  /** Altitude of the ground at its foot, m (a street on a slope); absent: the level street at 0. */
  groundAltM?: number;
  headingDeg: number;
  array: string;
  mics: MicPosition[];
  /** What this sensor's clock reads minus true time, ms. */
  clockOffsetMs: number;
  /** The clock quality the sensor claims (passed on with its detections). */
  clockErrorMs: number;
  clock: ClockSource;
}

export interface SceneSource {
  id: string;
  label: string;
  /** Resolved absolute clip path, when the source is a clip. */
  clipPath?: string;
  /** The clip as written in the scene (for messages). */
  clip?: string;
  synth?: SynthSpec;
  /** East, north in metres, and height above the ground at that place. */
  positionEnu: [number, number, number];
  /** Altitude of the ground under it, m (a street on a slope); absent: the level street at 0. */
  groundAltM?: number;
  onsetSec: number;
  level: LevelSpec;
  loop: boolean;
  /** Ground/facade reflections for this source (background sources may skip them to save CPU). */
  reflections: boolean;
  /** Background sources are not ground truth events. */
  background: boolean;
  /** Longest part of the clip that is played, s. */
  maxDurationSec: number;
}

export interface SceneSequenceEvent {
  label: string;
  clip?: string;
  clipPath?: string;
  synth?: SynthSpec;
  level?: LevelSpec;
}

export interface SceneSequence {
  events: SceneSequenceEvent[];
  intervalSec: [number, number];
  startSec: number;
  /** Random positions inside this circle (ENU centre, radius m), at `heightM`. */
  area: { centre: [number, number]; radiusM: number; heightM: number };
  level: LevelSpec;
  order: 'random' | 'cycle';
  /** Longest part of each event clip that is played, s. */
  maxDurationSec: number;
}

export interface SceneCanyon {
  /** Direction of the street (and facades), degrees from north. */
  streetBearingDeg: number;
  centre: [number, number];
  widthM: number;
  reflection: number;
  /** Reflection order between the facades (1 or 2). */
  order: number;
}

export interface SceneNoiseBed {
  color: 'white' | 'pink' | 'traffic';
  level: LevelSpec;
}

export interface Scene {
  name: string;
  /** Directory relative clip paths are resolved against. */
  baseDir: string;
  dataDir: string;
  origin: Required<GeoPoint>;
  sampleRate: number;
  temperatureC: number;
  speedOfSoundMs: number;
  seed: number;
  /** Length rendered by `vigie simulate`/`eval`; with `loop` the fixed sources repeat with this period. */
  durationSec: number;
  loop: boolean;
  calibrationDbSpl: number;
  ground: { reflection: number } | null;
  canyon: SceneCanyon | null;
  sensors: SceneSensor[];
  sources: SceneSource[];
  noise: SceneNoiseBed[];
  sequence: SceneSequence | null;
  /** Taps of the fractional-delay filter (windowed sinc). */
  interpTaps: number;
}

export class SceneError extends Error {
  constructor(field: string, expected: string, got?: unknown) {
    super(`scene ${field}: expected ${expected}${got === undefined ? '' : `, got ${JSON.stringify(got)?.slice(0, 60)}`}`);
    this.name = 'SceneError';
  }
}

/** Where the shared data lives: VIGIE_DATA_DIR or <repo root>/../shared/data. */
export function defaultDataDir(): string {
  if (process.env.VIGIE_DATA_DIR) return process.env.VIGIE_DATA_DIR;
  // lib/sim → repo root (also from dist/lib/sim, one more level).
  let root = path.resolve(__dirname, '..', '..');
  if (path.basename(root) === 'dist') root = path.dirname(root);
  return path.resolve(root, '..', 'shared', 'data');
}

/**
 * Bundled scenes live beside this file: lib/sim/scenes in the source tree, and
 * dist/lib/sim/scenes in the build and the package (the build copies them there).
 */
const BUNDLED_SCENES_DIR = path.join(__dirname, 'scenes');

export function bundledScenePath(name: string): string | undefined {
  const p = path.join(BUNDLED_SCENES_DIR, `${name}.json`);
  return fs.existsSync(p) ? p : undefined;
}

export function listBundledScenes(): string[] {
  return fs.existsSync(BUNDLED_SCENES_DIR) ? fs.readdirSync(BUNDLED_SCENES_DIR).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)) : [];
}

/** Load a scene from a file path or the name of a bundled scene ("street-demo"). */
export function loadScene(fileOrName: string, opts: { dataDir?: string } = {}): Scene {
  let file = fileOrName;
  if (!fs.existsSync(file)) {
    const bundled = /^[\w-]+$/.test(fileOrName) ? bundledScenePath(fileOrName) : undefined;
    if (!bundled) {
      const names = listBundledScenes();
      throw new SceneError('file', `an existing scene JSON file or a bundled scene name (${names.join(', ') || 'none'})`, fileOrName);
    }
    file = bundled;
  }
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`scene ${file}: not valid JSON (${(err as Error).message})`);
  }
  return parseScene(json, { baseDir: path.dirname(path.resolve(file)), dataDir: opts.dataDir });
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function num(o: Obj, key: string, field: string, def: number | undefined, min = -Infinity, max = Infinity): number {
  const v = o[key];
  if (v === undefined && def !== undefined) return def;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
    const range = [min > -Infinity ? `>= ${min}` : '', max < Infinity ? `<= ${max}` : ''].filter(Boolean).join(' and ');
    throw new SceneError(`${field}.${key}`, `a number${range ? ' ' + range : ''}`, v);
  }
  return v;
}

function str(o: Obj, key: string, field: string, def?: string): string {
  const v = o[key];
  if (v === undefined && def !== undefined) return def;
  if (typeof v !== 'string' || !v) throw new SceneError(`${field}.${key}`, 'a non-empty string', v);
  return v;
}

function vec(v: unknown, field: string, minLen: number, maxLen: number): number[] {
  if (!Array.isArray(v) || v.length < minLen || v.length > maxLen || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) {
    throw new SceneError(field, `an array of ${minLen === maxLen ? minLen : `${minLen} to ${maxLen}`} numbers (metres east, north${maxLen > 2 ? ', up' : ''})`, v);
  }
  return v as number[];
}

function parseLevel(v: unknown, field: string): LevelSpec {
  if (!isObj(v)) throw new SceneError(field, 'an object {"dbSpl": N} or {"dbfs": N} (level at 1 m)', v);
  if (v.dbSpl !== undefined) return { dbSpl: num(v, 'dbSpl', field, undefined, 0, 200) };
  if (v.dbfs !== undefined) return { dbfs: num(v, 'dbfs', field, undefined, -200, 60) };
  throw new SceneError(field, 'an object {"dbSpl": N} or {"dbfs": N} (level at 1 m)', v);
}

function parseSynth(v: unknown, field: string): SynthSpec {
  if (!isObj(v)) throw new SceneError(field, 'an object {"type": "impulse" | "noise-burst" | "tone", ...}', v);
  const type = v.type;
  if (type === 'impulse') return { type, durationMs: num(v, 'durationMs', field, 300, 1, 10000) };
  if (type === 'noise-burst') {
    return {
      type,
      durationMs: num(v, 'durationMs', field, 500, 1, 30000),
      decayMs: num(v, 'decayMs', field, 150, 1, 30000),
      lowHz: num(v, 'lowHz', field, 100, 0, 96000),
      highHz: num(v, 'highHz', field, 12000, 1, 96000),
    };
  }
  if (type === 'tone') {
    return {
      type,
      freqHz: num(v, 'freqHz', field, undefined, 1, 96000),
      durationMs: num(v, 'durationMs', field, 500, 1, 30000),
      sweepToHz: v.sweepToHz === undefined ? undefined : num(v, 'sweepToHz', field, undefined, 1, 96000),
      harmonics: num(v, 'harmonics', field, 1, 1, 20),
    };
  }
  throw new SceneError(`${field}.type`, '"impulse", "noise-burst" or "tone"', type);
}

function resolveClip(clip: string, baseDir: string, dataDir: string): string {
  if (clip.startsWith('data:')) return path.resolve(dataDir, clip.slice(5));
  return path.resolve(baseDir, clip);
}

function parseSensor(v: unknown, i: number, origin: Required<GeoPoint>, ids: Set<string>): SceneSensor {
  const f = `sensors[${i}]`;
  if (!isObj(v)) throw new SceneError(f, 'an object', v);
  const id = str(v, 'id', f);
  if (ids.has(id)) throw new SceneError(`${f}.id`, 'a unique sensor id', id);
  ids.add(id);
  let e: number;
  let n: number;
  if (v.position !== undefined) {
    [e, n] = vec(v.position, `${f}.position`, 2, 2);
  } else if (v.lat !== undefined || v.lon !== undefined) {
    const lat = num(v, 'lat', f, undefined, -90, 90);
    const lon = num(v, 'lon', f, undefined, -180, 180);
    [e, n] = geodeticToEnu({ lat, lon, alt: origin.alt }, origin);
  } else {
    throw new SceneError(f, 'a "position": [east, north] in metres or "lat"/"lon"');
  }
  const heightM = num(v, 'heightM', f, 4, 0, 200);
  const array = str(v, 'array', f, v.mics !== undefined ? 'custom' : 'square-4');
  if (array !== 'custom' && !ARRAY_PRESETS[array]) {
    throw new SceneError(`${f}.array`, `one of ${Object.keys(ARRAY_PRESETS).join(', ')}, or "custom" with "mics"`, array);
  }
  if (array === 'custom') {
    const check = checkGeometry(v.mics, `scene ${f}.mics`);
    if (check.errors.length) throw new Error(check.errors.join('; '));
  }
  const mics = resolveGeometry(array, v.mics, `scene ${f}.mics`);
  const clock = (v.clock ?? 'ptp') as ClockSource;
  if (!CLOCK_SOURCES.includes(clock)) throw new SceneError(`${f}.clock`, `one of ${CLOCK_SOURCES.join(', ')}`, v.clock);
  const geo = enuToLatLon(e, n, origin);
  return {
    id,
    name: str(v, 'name', f, id),
    positionEnu: [e, n],
    lat: geo.lat,
    lon: geo.lon,
    heightM,
    ...groundAltOf(v, f),
    headingDeg: num(v, 'headingDeg', f, 0, -360, 360),
    array,
    mics,
    clockOffsetMs: num(v, 'clockOffsetMs', f, 0, -60000, 60000),
    clockErrorMs: num(v, 'clockErrorMs', f, 0.1, 0, 60000),
    clock,
  };
}

/** A sensor's or source's optional "groundAltM" (metres, the scene's altitudes: only differences count). */
function groundAltOf(v: Obj, f: string): { groundAltM?: number } {
  return v.groundAltM === undefined ? {} : { groundAltM: num(v, 'groundAltM', f, undefined, -500, 9000) };
}

function enuToLatLon(e: number, n: number, origin: Required<GeoPoint>): { lat: number; lon: number } {
  const g = enuToGeodetic([e, n, 0], origin);
  return { lat: g.lat, lon: g.lon };
}

function parseSourceCommon(v: Obj, f: string, baseDir: string, dataDir: string): { clip?: string; clipPath?: string; synth?: SynthSpec } {
  if (v.clip !== undefined && v.synth !== undefined) throw new SceneError(f, 'either "clip" or "synth", not both');
  if (v.clip !== undefined) {
    const clip = str(v, 'clip', f);
    return { clip, clipPath: resolveClip(clip, baseDir, dataDir) };
  }
  if (v.synth !== undefined) return { synth: parseSynth(v.synth, `${f}.synth`) };
  return {};
}

function parseSource(v: unknown, f: string, ids: Set<string>, baseDir: string, dataDir: string, background: boolean): SceneSource {
  if (!isObj(v)) throw new SceneError(f, 'an object', v);
  const id = str(v, 'id', f, f);
  if (ids.has(id)) throw new SceneError(`${f}.id`, 'a unique source id', id);
  ids.add(id);
  const common = parseSourceCommon(v, f, baseDir, dataDir);
  if (!common.clip && !common.synth) throw new SceneError(f, 'a "clip" (path, or "data:..." in the data dir) or a "synth" generator');
  const p = vec(v.position, `${f}.position`, 2, 3);
  return {
    id,
    label: str(v, 'label', f, background ? 'background' : 'event'),
    ...common,
    positionEnu: [p[0], p[1], p[2] ?? 1.5],
    ...groundAltOf(v, f),
    onsetSec: num(v, 'onsetSec', f, 0, 0),
    level: v.level === undefined ? { dbSpl: background ? 75 : 110 } : parseLevel(v.level, `${f}.level`),
    loop: v.loop === undefined ? background : v.loop === true,
    reflections: v.reflections === undefined ? !background : v.reflections === true,
    background,
    maxDurationSec: num(v, 'maxDurationSec', f, background ? 600 : 4, 0.01, 3600),
  };
}

/** Validate a parsed scene JSON object. */
export function parseScene(json: unknown, opts: { baseDir?: string; dataDir?: string } = {}): Scene {
  if (!isObj(json)) throw new SceneError('root', 'a JSON object', json);
  const baseDir = opts.baseDir ?? process.cwd();
  const dataDir = opts.dataDir ?? defaultDataDir();
  if (!isObj(json.origin)) throw new SceneError('origin', 'an object {"lat", "lon", "alt"?}', json.origin);
  const origin = {
    lat: num(json.origin, 'lat', 'origin', undefined, -90, 90),
    lon: num(json.origin, 'lon', 'origin', undefined, -180, 180),
    alt: num(json.origin, 'alt', 'origin', 0, -500, 9000),
  };
  const temperatureC = num(json, 'temperatureC', 'root', 20, -40, 60);
  if (!Array.isArray(json.sensors) || json.sensors.length === 0) throw new SceneError('sensors', 'a non-empty array of sensors', json.sensors);
  const sensorIds = new Set<string>();
  const sensors = json.sensors.map((s, i) => parseSensor(s, i, origin, sensorIds));
  const sourceIds = new Set<string>();
  const sources: SceneSource[] = [];
  if (json.sources !== undefined) {
    if (!Array.isArray(json.sources)) throw new SceneError('sources', 'an array of sources', json.sources);
    json.sources.forEach((s, i) => sources.push(parseSource(s, `sources[${i}]`, sourceIds, baseDir, dataDir, false)));
  }
  const noise: SceneNoiseBed[] = [];
  if (json.background !== undefined) {
    const bg = json.background;
    if (!isObj(bg)) throw new SceneError('background', 'an object {"noise"?: [...], "clips"?: [...]}', bg);
    const beds = bg.noise === undefined ? [] : Array.isArray(bg.noise) ? bg.noise : [bg.noise];
    beds.forEach((b, i) => {
      const f = `background.noise[${i}]`;
      if (!isObj(b)) throw new SceneError(f, 'an object {"color", "level"}', b);
      const color = b.color ?? 'traffic';
      if (color !== 'white' && color !== 'pink' && color !== 'traffic') throw new SceneError(`${f}.color`, '"white", "pink" or "traffic"', color);
      noise.push({ color, level: parseLevel(b.level, `${f}.level`) });
    });
    if (bg.clips !== undefined) {
      if (!Array.isArray(bg.clips)) throw new SceneError('background.clips', 'an array of positioned clips', bg.clips);
      bg.clips.forEach((s, i) => sources.push(parseSource(s, `background.clips[${i}]`, sourceIds, baseDir, dataDir, true)));
    }
  }
  let sequence: SceneSequence | null = null;
  if (json.sequence !== undefined) {
    const q = json.sequence;
    const f = 'sequence';
    if (!isObj(q)) throw new SceneError(f, 'an object {"events", "intervalSec", "area"}', q);
    if (!Array.isArray(q.events) || q.events.length === 0) throw new SceneError(`${f}.events`, 'a non-empty array of {"label", "clip"?, "synth"?}', q.events);
    const events = q.events.map((e, i) => {
      const ef = `${f}.events[${i}]`;
      if (!isObj(e)) throw new SceneError(ef, 'an object', e);
      return { label: str(e, 'label', ef), ...parseSourceCommon(e, ef, baseDir, dataDir), level: e.level === undefined ? undefined : parseLevel(e.level, `${ef}.level`) };
    });
    const iv = vec(q.intervalSec ?? [20, 40], `${f}.intervalSec`, 2, 2);
    if (iv[0] <= 0 || iv[1] < iv[0]) throw new SceneError(`${f}.intervalSec`, '[min, max] seconds with 0 < min <= max', iv);
    if (!isObj(q.area)) throw new SceneError(`${f}.area`, 'an object {"centre": [e, n], "radiusM", "heightM"?}', q.area);
    const c = vec(q.area.centre ?? [0, 0], `${f}.area.centre`, 2, 2);
    const order = q.order ?? 'random';
    if (order !== 'random' && order !== 'cycle') throw new SceneError(`${f}.order`, '"random" or "cycle"', order);
    sequence = {
      events,
      intervalSec: [iv[0], iv[1]],
      startSec: num(q, 'startSec', f, 5, 0),
      area: { centre: [c[0], c[1]], radiusM: num(q.area, 'radiusM', `${f}.area`, undefined, 0, 10000), heightM: num(q.area, 'heightM', `${f}.area`, 1.5, 0, 200) },
      level: q.level === undefined ? { dbSpl: 110 } : parseLevel(q.level, `${f}.level`),
      order,
      maxDurationSec: num(q, 'maxDurationSec', f, 4, 0.05, 60),
    };
  }
  if (sources.filter((s) => !s.background).length === 0 && !sequence && noise.length === 0 && sources.length === 0) {
    throw new SceneError('sources', 'at least one source, background or sequence (the scene would be silent)');
  }
  let ground: Scene['ground'] = { reflection: 0.8 };
  if (json.ground === false || json.ground === null) ground = null;
  else if (json.ground !== undefined) {
    if (!isObj(json.ground)) throw new SceneError('ground', 'false or an object {"reflection": 0..1}', json.ground);
    ground = { reflection: num(json.ground, 'reflection', 'ground', 0.8, 0, 1) };
  }
  let canyon: SceneCanyon | null = null;
  if (json.canyon !== undefined && json.canyon !== null && json.canyon !== false) {
    const q = json.canyon;
    if (!isObj(q)) throw new SceneError('canyon', 'an object {"streetBearingDeg", "centre", "widthM", "reflection"}', q);
    const c = vec(q.centre ?? [0, 0], 'canyon.centre', 2, 2);
    canyon = {
      streetBearingDeg: num(q, 'streetBearingDeg', 'canyon', 0, -360, 360),
      centre: [c[0], c[1]],
      widthM: num(q, 'widthM', 'canyon', undefined, 2, 1000),
      reflection: num(q, 'reflection', 'canyon', 0.7, 0, 1),
      order: num(q, 'order', 'canyon', 1, 1, 2),
    };
    const check = (p: number[], field: string) => {
      const d = canyonOffset(canyon!, p[0], p[1]);
      if (Math.abs(d) >= canyon!.widthM / 2) throw new SceneError(field, `a point between the facades (within ${canyon!.widthM / 2} m of the street axis)`, p);
    };
    sensors.forEach((s, i) => check(s.positionEnu, `sensors[${i}].position`));
    sources.forEach((s) => check(s.positionEnu, `source "${s.id}".position`));
  }
  const sampleRate = num(json, 'sampleRate', 'root', DEFAULT_SAMPLE_RATE_HZ, 8000, 192000);
  return {
    name: str(json, 'name', 'root', 'scene'),
    baseDir,
    dataDir,
    origin,
    sampleRate,
    temperatureC,
    speedOfSoundMs: speedOfSound(temperatureC),
    seed: num(json, 'seed', 'root', DEFAULT_SCENE_SEED),
    durationSec: num(json, 'durationSec', 'root', DEFAULT_SCENE_DURATION_S, SCENE_DURATION_RANGE_S.min, SCENE_DURATION_RANGE_S.max),
    loop: json.loop === true,
    calibrationDbSpl: num(json, 'calibrationDbSpl', 'root', DEFAULT_CALIBRATION_DB_SPL, 60, 200),
    ground,
    canyon,
    sensors,
    sources,
    noise,
    sequence,
    interpTaps: num(json, 'interpTaps', 'root', 24, 4, 128),
  };
}

/** Signed distance of a point from the canyon's street axis (along the facade normal). */
export function canyonOffset(c: SceneCanyon, e: number, n: number): number {
  const b = (c.streetBearingDeg * Math.PI) / 180;
  // Normal to the street direction (sin b, cos b).
  return (e - c.centre[0]) * Math.cos(b) - (n - c.centre[1]) * Math.sin(b);
}

/** Amplitude (RMS, full scale = 1) at 1 m for a level. */
export function levelToAmplitude(level: LevelSpec, calibrationDbSpl: number): number {
  const db = 'dbSpl' in level ? level.dbSpl - calibrationDbSpl : level.dbfs;
  return Math.pow(10, db / 20);
}

/** Where a source sounds from: east, north, and its ground altitude (0 without one) plus its height. */
export function sourcePointEnu(s: Pick<SceneSource, 'positionEnu' | 'groundAltM'>): [number, number, number] {
  return [s.positionEnu[0], s.positionEnu[1], (s.groundAltM ?? 0) + s.positionEnu[2]];
}

/** World (ENU) positions of a sensor's microphones: array frame rotated by the heading, raised by its ground altitude and height. */
export function micPositionsEnu(s: SceneSensor): [number, number, number][] {
  const h = (s.headingDeg * Math.PI) / 180;
  const fwd = [Math.sin(h), Math.cos(h)];
  const right = [Math.cos(h), -Math.sin(h)];
  return s.mics.map(([x, y, z]) => [s.positionEnu[0] + x * right[0] + y * fwd[0], s.positionEnu[1] + x * right[1] + y * fwd[1], (s.groundAltM ?? 0) + s.heightM + z]);
}
