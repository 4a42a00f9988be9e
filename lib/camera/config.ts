/**
 * Turns the vigie-camera node's form values (strings and numbers as the editor stores them)
 * into a checked CameraConfig. Errors name the field and what was expected.
 */
import { ContractError } from '../util/validate';
import { DEFAULT_CALIBRATION } from './geometry';
import { BlindSector, CameraConfig } from './types';

function num(raw: Record<string, unknown>, key: string, dflt: number | undefined, rule: { min?: number; max?: number } = {}): number {
  const v = raw[key];
  const field = `camera.${key}`;
  const what = ['a number', rule.min !== undefined ? `>= ${rule.min}` : '', rule.max !== undefined ? `<= ${rule.max}` : ''].filter(Boolean).join(' ');
  if (v === undefined || v === null || v === '') {
    if (dflt === undefined) throw new ContractError(field, what, v);
    return dflt;
  }
  const n = typeof v === 'number' ? v : Number(String(v).trim());
  if (!Number.isFinite(n)) throw new ContractError(field, what, v);
  if ((rule.min !== undefined && n < rule.min) || (rule.max !== undefined && n > rule.max)) throw new ContractError(field, what, n);
  return n;
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

export function cameraConfigFromNode(raw: Record<string, unknown>): CameraConfig {
  const id = str(raw, 'cameraId') || str(raw, 'id');
  if (!id) throw new ContractError('camera.cameraId', 'a non-empty id');
  const host = str(raw, 'host');
  if (!host) throw new ContractError('camera.host', 'the camera\'s host name or IP address');
  const space = str(raw, 'space') || DEFAULT_CALIBRATION.space;
  if (space !== 'generic' && space !== 'degrees') throw new ContractError('camera.space', '"generic" or "degrees"', space);
  const panDirection = num(raw, 'panDirection', 1);
  if (panDirection !== 1 && panDirection !== -1) throw new ContractError('camera.panDirection', '1 (clockwise) or -1 (counter-clockwise)', panDirection);
  const panMinDeg = num(raw, 'panMinDeg', DEFAULT_CALIBRATION.panMinDeg, { min: -720, max: 720 });
  const panMaxDeg = num(raw, 'panMaxDeg', DEFAULT_CALIBRATION.panMaxDeg, { min: -720, max: 720 });
  if (panMaxDeg <= panMinDeg) throw new ContractError('camera.panMaxDeg', `> panMinDeg (${panMinDeg})`, panMaxDeg);
  const tiltMinDeg = num(raw, 'tiltMinDeg', DEFAULT_CALIBRATION.tiltMinDeg, { min: -180, max: 180 });
  const tiltMaxDeg = num(raw, 'tiltMaxDeg', DEFAULT_CALIBRATION.tiltMaxDeg, { min: -180, max: 180 });
  if (tiltMaxDeg <= tiltMinDeg) throw new ContractError('camera.tiltMaxDeg', `> tiltMinDeg (${tiltMinDeg})`, tiltMaxDeg);
  const hfovWideDeg = num(raw, 'hfovWideDeg', DEFAULT_CALIBRATION.hfovWideDeg, { min: 0.1, max: 179 });
  const hfovTeleDeg = num(raw, 'hfovTeleDeg', DEFAULT_CALIBRATION.hfovTeleDeg, { min: 0.1, max: 179 });
  if (hfovTeleDeg > hfovWideDeg) throw new ContractError('camera.hfovTeleDeg', `<= hfovWideDeg (${hfovWideDeg})`, hfovTeleDeg);
  return {
    id,
    name: str(raw, 'name') || id,
    host,
    port: num(raw, 'port', 80, { min: 1, max: 65535 }),
    profileToken: str(raw, 'profileToken') || undefined,
    lat: num(raw, 'lat', undefined, { min: -90, max: 90 }),
    lon: num(raw, 'lon', undefined, { min: -180, max: 180 }),
    heightM: num(raw, 'heightM', 6, { min: 0, max: 500 }),
    mountHeadingDeg: num(raw, 'mountHeadingDeg', 0, { min: -360, max: 360 }),
    tiltOffsetDeg: num(raw, 'tiltOffsetDeg', 0, { min: -45, max: 45 }),
    calibration: { space, panDirection, panMinDeg, panMaxDeg, tiltMinDeg, tiltMaxDeg, hfovWideDeg, hfovTeleDeg },
    maxRangeM: num(raw, 'maxRangeM', 250, { min: 1 }),
    blindSectors: parseBlindSectors(raw.blindSectors),
    homePreset: str(raw, 'homePreset') || undefined,
    sensorId: str(raw, 'sensorId') || undefined,
    streamUrl: str(raw, 'streamUrl') || undefined,
    snapshotUrl: str(raw, 'snapshotUrl') || undefined,
  };
}
