/**
 * Turns the vigie-camera node's form values (strings and numbers as the editor stores them)
 * into a checked CameraConfig. Errors name the field and what was expected.
 */
import { SENSOR_ID_PATTERN } from '../contracts';
import { ContractError, settingInRange, settingsReader } from '../util/validate';
import { DEFAULT_CALIBRATION } from './geometry';
import { BlindSector, CameraConfig } from './types';

/**
 * The vigie-camera node's numeric settings: accepted range and default (undefined: required).
 * Its editor form refuses what is outside these ranges, and the pairs refused below
 * (test/unit/editor-validators.test.ts).
 */
export const CAMERA_SETTINGS = {
  /** 80 when empty; with HTTPS, HTTPS_PORT. */
  port: { min: 1, max: 65535, integer: true, default: 80 },
  lat: { min: -90, max: 90, default: undefined },
  lon: { min: -180, max: 180, default: undefined },
  heightM: { min: 0, max: 500, default: 6 },
  /** Empty: no altitude (targets on the camera's own ground). As the vigie-sensor's (lib/sensor.ts). */
  groundAltM: { min: -500, max: 9000, default: undefined },
  mountHeadingDeg: { min: -360, max: 360, default: 0 },
  tiltOffsetDeg: { min: -45, max: 45, default: 0 },
  panMinDeg: { min: -720, max: 720, default: DEFAULT_CALIBRATION.panMinDeg },
  panMaxDeg: { min: -720, max: 720, default: DEFAULT_CALIBRATION.panMaxDeg },
  tiltMinDeg: { min: -180, max: 180, default: DEFAULT_CALIBRATION.tiltMinDeg },
  tiltMaxDeg: { min: -180, max: 180, default: DEFAULT_CALIBRATION.tiltMaxDeg },
  hfovWideDeg: { min: 0.1, max: 179, default: DEFAULT_CALIBRATION.hfovWideDeg },
  hfovTeleDeg: { min: 0.1, max: 179, default: DEFAULT_CALIBRATION.hfovTeleDeg },
  maxRangeM: { min: 1, max: 100_000, default: 250 },
} as const;

/** The port of an empty Port field with HTTPS ticked. */
export const HTTPS_PORT = 443;

/** A checkbox as the editor stores it (a boolean; "true"/"false" from a flow written by hand); empty = `dflt`. */
function flag(raw: Record<string, unknown>, key: string, dflt: boolean): boolean {
  const v = raw[key];
  if (v === undefined || v === null || v === '') return dflt;
  if (v === true || v === 'true') return true;
  if (v === false || v === 'false') return false;
  throw new ContractError(`camera.${key}`, 'true or false', v);
}

function str(raw: Record<string, unknown>, key: string): string {
  const v = raw[key];
  return typeof v === 'string' ? v.trim() : v === undefined || v === null ? '' : String(v);
}

/** "300-20, 90-120" → sectors (bearings clockwise from north, from → to). */
export function parseBlindSectors(text: unknown): BlindSector[] {
  if (Array.isArray(text)) return text.map((s, i) => sectorOf(s, `camera.blindSectors[${i}]`));
  if (text === undefined || text === null || String(text).trim() === '') return [];
  return String(text)
    .split(/[,;]/)
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s, i) => {
      const m = /^(-?\d+(?:\.\d+)?)\s*(?:-|–|\.\.|to)\s*(-?\d+(?:\.\d+)?)$/.exec(s);
      if (!m) throw new ContractError(`camera.blindSectors[${i}]`, 'a sector "from-to" in degrees, e.g. "300-20"', s);
      return { fromDeg: Number(m[1]), toDeg: Number(m[2]) };
    });
}

function sectorOf(s: unknown, field: string): BlindSector {
  const o = s as { fromDeg?: unknown; toDeg?: unknown };
  if (typeof o?.fromDeg !== 'number' || typeof o?.toDeg !== 'number') throw new ContractError(field, '{fromDeg, toDeg} numbers', s);
  return { fromDeg: o.fromDeg, toDeg: o.toDeg };
}

/**
 * What the Host field must hold: a host name or IP address alone. A URL or "user:password@host"
 * would put the password in the flows and in every error naming the host (getaddrinfo ENOTFOUND
 * admin:pw@10.0.0.5); a "host:port" would never connect. Never repeated in the error, which goes
 * to the log: it may hold a password.
 */
export const HOST_EXPECTED =
  "the camera's host name or IP address alone, e.g. 192.168.1.64 (no scheme, user, password, port or path: the user and password go in the Username and Password fields, the port in Port)";

/** The Host field checked (see HOST_EXPECTED); an IPv6 address in brackets, [fe80::1], is given bare, as the ONVIF client takes it. */
function hostOf(text: string): string {
  if (!text) throw new ContractError('camera.host', HOST_EXPECTED);
  const bracketed = /^\[([^\][]*:[^\][]*)\]$/.exec(text);
  const host = bracketed ? bracketed[1] : text;
  // One colon: a port (an IPv6 address has two or more).
  if (/[\s/@[\]]/.test(host) || host.split(':').length === 2) throw new ContractError('camera.host', HOST_EXPECTED);
  return host;
}

/** The optional Ground altitude: absent from the config when empty. */
function groundAltOf(v: unknown): { groundAltM?: number } {
  const groundAltM = settingInRange(v, 'camera.groundAltM', CAMERA_SETTINGS.groundAltM, undefined);
  return groundAltM === undefined ? {} : { groundAltM };
}

/** The optional Snapshot URL: fetched over HTTP only (a picture of an rtsp: address is grabbed from the stream). */
function snapshotUrlOf(url: string): string | undefined {
  if (!url) return undefined;
  if (!/^https?:\/\/\S+$/i.test(url)) throw new ContractError('camera.snapshotUrl', 'an http:// or https:// URL (empty: the one ONVIF gives)', url);
  return url;
}

export function cameraConfigFromNode(raw: Record<string, unknown>): CameraConfig {
  const typed = str(raw, 'cameraId');
  const id = typed || str(raw, 'id');
  if (!id) throw new ContractError('camera.cameraId', 'a non-empty id');
  // The form's rule, a sensor id's: an id names the camera in alerts, the audit log and video
  // addresses. Not asked of the node's own id (empty field): a copy in nested subflows has a
  // longer one (each instance's id prefixed).
  if (typed && !SENSOR_ID_PATTERN.test(typed)) throw new ContractError('camera.cameraId', 'a camera id: 1-64 letters, digits, "_", "." or "-", starting with a letter or digit', typed);
  const host = hostOf(str(raw, 'host'));
  const space = str(raw, 'space') || DEFAULT_CALIBRATION.space;
  if (space !== 'generic' && space !== 'degrees') throw new ContractError('camera.space', '"generic" or "degrees"', space);
  const pd = raw.panDirection;
  const panDirection = pd === undefined || pd === null || pd === '' ? 1 : Number(pd);
  if (panDirection !== 1 && panDirection !== -1) throw new ContractError('camera.panDirection', '1 (clockwise) or -1 (counter-clockwise)', pd);
  // in range, or the default when empty; the position has none and must be given
  const https = flag(raw, 'https', false);
  const setting = settingsReader(raw, CAMERA_SETTINGS, { prefix: 'camera.', withoutDefault: 'required' });
  const port = settingInRange(raw.port, 'camera.port', CAMERA_SETTINGS.port, https ? HTTPS_PORT : CAMERA_SETTINGS.port.default);
  const panMinDeg = setting('panMinDeg');
  const panMaxDeg = setting('panMaxDeg');
  if (panMaxDeg <= panMinDeg) throw new ContractError('camera.panMaxDeg', `more than panMinDeg (${panMinDeg})`, panMaxDeg);
  const tiltMinDeg = setting('tiltMinDeg');
  const tiltMaxDeg = setting('tiltMaxDeg');
  // Either way round: a camera whose tilt −1 is up (some domes, ceiling mounts) has its range reversed.
  if (tiltMaxDeg === tiltMinDeg) throw new ContractError('camera.tiltMaxDeg', `another tilt than tiltMinDeg (${tiltMinDeg}): the two ends of the tilt range`, tiltMaxDeg);
  const hfovWideDeg = setting('hfovWideDeg');
  const hfovTeleDeg = setting('hfovTeleDeg');
  if (hfovTeleDeg > hfovWideDeg) throw new ContractError('camera.hfovTeleDeg', `at most hfovWideDeg (${hfovWideDeg})`, hfovTeleDeg);
  return {
    id,
    name: str(raw, 'name') || id,
    host,
    port,
    https,
    httpsVerify: flag(raw, 'httpsVerify', true),
    profileToken: str(raw, 'profileToken') || undefined,
    lat: setting('lat'),
    lon: setting('lon'),
    heightM: setting('heightM'),
    ...groundAltOf(raw.groundAltM),
    mountHeadingDeg: setting('mountHeadingDeg'),
    tiltOffsetDeg: setting('tiltOffsetDeg'),
    calibration: { space, panDirection, panMinDeg, panMaxDeg, tiltMinDeg, tiltMaxDeg, hfovWideDeg, hfovTeleDeg },
    maxRangeM: setting('maxRangeM'),
    blindSectors: parseBlindSectors(raw.blindSectors),
    homePreset: str(raw, 'homePreset') || undefined,
    sensorId: str(raw, 'sensorId') || undefined,
    streamUrl: str(raw, 'streamUrl') || undefined,
    snapshotUrl: snapshotUrlOf(str(raw, 'snapshotUrl')),
    basicOverHttp: flag(raw, 'basicOverHttp', false),
  };
}
