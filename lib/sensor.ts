/**
 * A sensor: where a microphone array stands, how it is oriented, its geometry and how good
 * its clock is. Built from a vigie-sensor config node (or a scene) and validated here so
 * every error names the field.
 */
import { CLOCK_SOURCES, ClockSource, SENSOR_ID_PATTERN } from './contracts';
import { ARRAY_PRESETS, checkGeometry, MicPosition, resolveGeometry } from './localize/arrays';
import { settingInRange, settingsReader } from './util/validate';

export interface SensorInfo {
  id: string;
  name: string;
  lat: number;
  lon: number;
  /** Height of the array above ground, metres. */
  heightM: number;
  /**
   * Altitude of the ground at the sensor's foot, metres (above sea level or any datum common to
   * every sensor and camera of the site); undefined: not given, the street is taken as level.
   */
  groundAltM?: number;
  /** Direction of the array's +y axis, degrees clockwise from true north. */
  headingDeg: number;
  /** Preset id from lib/localize/arrays.ts, or "custom". */
  array: string;
  /** Microphone positions, metres, in the array frame (+y along the heading, +x right, +z up). */
  mics: MicPosition[];
  clock: ClockSource;
  /** Estimated absolute clock error, ms (1 ms ≈ 34 cm of range difference between sensors). */
  clockErrorMs: number;
}

/** Raw fields as a config node or a JSON file gives them (numbers may be strings). */
export interface SensorConfigInput {
  id?: unknown;
  sensorId?: unknown;
  name?: unknown;
  lat?: unknown;
  lon?: unknown;
  heightM?: unknown;
  groundAltM?: unknown;
  headingDeg?: unknown;
  array?: unknown;
  /** Custom positions: an array of [x, y, z] or its JSON text. */
  mics?: unknown;
  clock?: unknown;
  clockErrorMs?: unknown;
}

export { SENSOR_ID_PATTERN };

/**
 * The vigie-sensor node's numeric settings: accepted range and default (undefined: required;
 * clockErrorMs defaults by clock, DEFAULT_CLOCK_ERROR_MS). Its editor form refuses what is
 * outside these ranges (test/unit/editor-validators.test.ts).
 */
export const SENSOR_SETTINGS = {
  lat: { min: -90, max: 90, default: undefined },
  lon: { min: -180, max: 180, default: undefined },
  heightM: { min: -100, max: 1000, default: 4 },
  /** Empty: no altitude (a level street). From the Dead Sea shore to the highest cities. */
  groundAltM: { min: -500, max: 9000, default: undefined },
  headingDeg: { min: -360, max: 360, default: 0 },
  clockErrorMs: { min: 0, max: 60000, default: undefined },
} as const;

/** Default clock error by source when the user gives none, ms. */
export const DEFAULT_CLOCK_ERROR_MS: Record<ClockSource, number> = { local: 50, ntp: 5, ptp: 0.01, gps: 0.001 };

/** A sensor as deploy accepts it, and what deploy says about it. */
export interface SensorCheck {
  sensor: SensorInfo;
  /** Non-fatal remarks about its microphones (e.g. a linear array's front/back ambiguity), each naming its field. */
  warnings: string[];
}

/** Validate and normalise; throws an Error whose message starts with the field name. */
export function validateSensorInfo(raw: SensorConfigInput): SensorCheck {
  if (typeof raw !== 'object' || raw === null) throw new Error('sensor: expected an object');
  const id = raw.sensorId ?? raw.id;
  if (typeof id !== 'string' || !SENSOR_ID_PATTERN.test(id)) {
    throw new Error(`sensorId: expected 1-64 letters, digits, "_", "-" or "." (used in MQTT topics), got ${JSON.stringify(id) ?? 'undefined'}`);
  }
  const name = typeof raw.name === 'string' && raw.name.trim() ? raw.name.trim() : id;
  // in range, or the default when empty; the position has none and must be given
  const setting = settingsReader(raw, SENSOR_SETTINGS, { prefix: '', withoutDefault: 'required' });
  const lat = setting('lat');
  const lon = setting('lon');
  const heightM = setting('heightM');
  const groundAltM = settingInRange(raw.groundAltM, 'groundAltM', SENSOR_SETTINGS.groundAltM, undefined);
  const headingRaw = setting('headingDeg');
  const headingDeg = ((headingRaw % 360) + 360) % 360;
  const { mics, errors, warnings } = checkSensorMics(raw.array, raw.mics);
  if (!mics) throw new Error(errors.join('; '));
  // positions mean the array was a preset id or "custom"
  const array = raw.array === undefined || raw.array === '' ? 'mono' : (raw.array as string);
  const clock = raw.clock === undefined || raw.clock === '' ? 'local' : raw.clock;
  if (typeof clock !== 'string' || !(CLOCK_SOURCES as readonly string[]).includes(clock)) {
    throw new Error(`clock: expected one of ${CLOCK_SOURCES.join(', ')}, got ${JSON.stringify(clock)}`);
  }
  const clockErrorMs = settingInRange(raw.clockErrorMs, 'clockErrorMs', SENSOR_SETTINGS.clockErrorMs, DEFAULT_CLOCK_ERROR_MS[clock as ClockSource]);
  return { sensor: { id, name, lat, lon, heightM, ...(groundAltM !== undefined ? { groundAltM } : {}), headingDeg, array, mics, clock: clock as ClockSource, clockErrorMs }, warnings };
}

/**
 * A detection's sensorInfo.alt: the array's altitude (ground altitude + height), only when the
 * ground altitude is known (a height above the street alone is no altitude).
 */
export function sensorAltOf(s: { groundAltM?: number; heightM: number }): { alt?: number } {
  return s.groundAltM !== undefined && Number.isFinite(s.groundAltM) ? { alt: s.groundAltM + s.heightM } : {};
}

/** What deploy makes of a sensor's microphone fields: positions, or errors refusing the sensor, and its warnings. */
export interface MicsCheck {
  /** The positions, undefined when `errors` refuse them. */
  mics: MicPosition[] | undefined;
  /** Each names its field ("array: …", "mics[0] and [1]: …"). */
  errors: string[];
  /** What deploy logs about usable positions, empty when refused. */
  warnings: string[];
}

/**
 * Check the array preset and custom positions (a list of [x, y, z] or its JSON text) as
 * validateSensorInfo does. The editor asks the same question as the user types (admin route
 * POST /vigie/sensor/geometry), so the form and deploy cannot disagree.
 */
export function checkSensorMics(arrayRaw: unknown, micsRaw: unknown): MicsCheck {
  const array = arrayRaw === undefined || arrayRaw === '' ? 'mono' : arrayRaw;
  if (typeof array !== 'string' || (array !== 'custom' && !ARRAY_PRESETS[array])) {
    return { mics: undefined, errors: [`array: expected one of ${Object.keys(ARRAY_PRESETS).join(', ')} or custom, got ${JSON.stringify(array)}`], warnings: [] };
  }
  let custom: unknown = micsRaw;
  if (array === 'custom' && typeof custom === 'string') {
    try {
      custom = JSON.parse(custom);
    } catch {
      return { mics: undefined, errors: [`mics: expected JSON such as [[0,0.05,0],[0.05,0,0]] (metres), got ${JSON.stringify(String(micsRaw).slice(0, 40))}`], warnings: [] };
    }
  }
  const check = checkGeometry(array === 'custom' ? custom : ARRAY_PRESETS[array].mics, 'mics');
  if (check.errors.length) return { mics: undefined, errors: check.errors, warnings: [] };
  const mics = resolveGeometry(array, custom, 'mics');
  return { mics, errors: [], warnings: check.warnings };
}
