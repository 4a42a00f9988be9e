/**
 * Camera geometry: positions and bearings to pan/tilt/zoom, and the calibration between a
 * camera's ONVIF spaces and degrees. Bearings are degrees clockwise from true north; tilt is
 * degrees above the horizon (negative = looking down); distances in metres.
 */
import { CameraCalibration, CameraConfig, PtzPosition } from './types';

const EARTH_RADIUS_M = 6_371_008.8;
const RAD = Math.PI / 180;

export function wrap180(deg: number): number {
  let a = ((((deg + 180) % 360) + 360) % 360) - 180;
  if (a === -180) a = 180;
  return a;
}

export function wrap360(deg: number): number {
  return ((deg % 360) + 360) % 360;
}

export interface LatLon {
  lat: number;
  lon: number;
  /** A target's altitude, m, in the site's datum (the localizer's position.alt); absent: not known. */
  alt?: number;
}

/** Initial bearing and great-circle distance from `a` to `b`. */
export function bearingDistance(a: LatLon, b: LatLon): { bearingDeg: number; distanceM: number } {
  const φ1 = a.lat * RAD;
  const φ2 = b.lat * RAD;
  const Δφ = (b.lat - a.lat) * RAD;
  const Δλ = (b.lon - a.lon) * RAD;
  const h = Math.sin(Δφ / 2) ** 2 + Math.cos(φ1) * Math.cos(φ2) * Math.sin(Δλ / 2) ** 2;
  const distanceM = 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(h)));
  const y = Math.sin(Δλ) * Math.cos(φ2);
  const x = Math.cos(φ1) * Math.sin(φ2) - Math.sin(φ1) * Math.cos(φ2) * Math.cos(Δλ);
  return { bearingDeg: distanceM === 0 ? 0 : wrap360(Math.atan2(y, x) / RAD), distanceM };
}

/** The point `distanceM` away from `from` along `bearingDeg`. */
export function destination(from: LatLon, bearingDeg: number, distanceM: number): LatLon {
  const δ = distanceM / EARTH_RADIUS_M;
  const θ = bearingDeg * RAD;
  const φ1 = from.lat * RAD;
  const λ1 = from.lon * RAD;
  const φ2 = Math.asin(Math.sin(φ1) * Math.cos(δ) + Math.cos(φ1) * Math.sin(δ) * Math.cos(θ));
  const λ2 = λ1 + Math.atan2(Math.sin(θ) * Math.sin(δ) * Math.cos(φ1), Math.cos(δ) - Math.sin(φ1) * Math.sin(φ2));
  return { lat: φ2 / RAD, lon: ((λ2 / RAD + 540) % 360) - 180 };
}

/** Where the camera must look, in world terms. */
export interface Aim {
  bearingDeg: number;
  /** Above the horizon; a target on the ground below a mast camera is negative. */
  tiltDeg: number;
  distanceM: number;
  /** True when the distance is assumed (bearing-only target). */
  distanceAssumed: boolean;
  /** Horizontal field of view that frames the wanted scene width at that distance. */
  hfovDeg: number;
}

/** Horizontal field of view that frames `widthM` at `distanceM`. */
export function hfovForWidth(widthM: number, distanceM: number): number {
  return (2 * Math.atan(widthM / 2 / Math.max(0.1, distanceM))) / RAD;
}

/** Aim at a point on the ground seen from a camera `heightM` above it. */
export function aimAtDistance(bearingDeg: number, distanceM: number, heightM: number, frameWidthM = 10, distanceAssumed = false): Aim {
  const d = Math.max(0.1, distanceM);
  return {
    bearingDeg: wrap360(bearingDeg),
    tiltDeg: -Math.atan2(heightM, d) / RAD,
    distanceM: d,
    distanceAssumed,
    hfovDeg: hfovForWidth(frameWidthM, Math.hypot(d, heightM)),
  };
}

/**
 * Aim at a target position. With the camera's ground altitude and the target's altitude (same
 * datum), the camera looks from its ground altitude + height to the target's altitude: on a
 * slope, down or up to it. Without either, the target is on the ground at the camera's foot.
 */
export function aimAtPosition(cam: Pick<CameraConfig, 'lat' | 'lon' | 'heightM' | 'groundAltM'>, target: LatLon, frameWidthM = 10): Aim {
  const { bearingDeg, distanceM } = bearingDistance(cam, target);
  return aimAtDistance(bearingDeg, distanceM, cameraAboveTargetM(cam, target), frameWidthM);
}

/** How far above the target the camera is, m: by altitudes when both are known, else its height above its own ground. */
export function cameraAboveTargetM(cam: Pick<CameraConfig, 'heightM' | 'groundAltM'>, target: Pick<LatLon, 'alt'>): number {
  const known = (v: number | undefined): v is number => typeof v === 'number' && Number.isFinite(v);
  return known(cam.groundAltM) && known(target.alt) ? cam.groundAltM + cam.heightM - target.alt : cam.heightM;
}

/** Pan/tilt in the camera's own degrees (pan relative to its pan zero, in its pan direction). */
export interface CameraDegrees {
  panDeg: number;
  tiltDeg: number;
  hfovDeg: number;
}

export function aimToCameraDegrees(cfg: Pick<CameraConfig, 'mountHeadingDeg' | 'tiltOffsetDeg' | 'calibration'>, aim: Pick<Aim, 'bearingDeg' | 'tiltDeg' | 'hfovDeg'>): CameraDegrees {
  return {
    panDeg: cfg.calibration.panDirection * wrap180(aim.bearingDeg - cfg.mountHeadingDeg),
    tiltDeg: aim.tiltDeg + cfg.tiltOffsetDeg,
    hfovDeg: aim.hfovDeg,
  };
}

export function cameraDegreesToWorld(cfg: Pick<CameraConfig, 'mountHeadingDeg' | 'tiltOffsetDeg' | 'calibration'>, d: CameraDegrees): { bearingDeg: number; tiltDeg: number } {
  return { bearingDeg: wrap360(cfg.mountHeadingDeg + cfg.calibration.panDirection * d.panDeg), tiltDeg: d.tiltDeg - cfg.tiltOffsetDeg };
}

/** Degrees → the representation within [min, max] modulo 360, or the nearer end when none is. */
function panIntoRange(panDeg: number, minDeg: number, maxDeg: number): number {
  for (const k of [0, -1, 1, -2, 2]) {
    const p = panDeg + 360 * k;
    if (p >= minDeg - 1e-9 && p <= maxDeg + 1e-9) return p;
  }
  const toMin = Math.abs(wrap180(panDeg - minDeg));
  const toMax = Math.abs(wrap180(panDeg - maxDeg));
  return toMin <= toMax ? minDeg : maxDeg;
}

/** Zoom space value 0…1 for a horizontal field of view (linear in focal length). */
export function zoomForHfov(cal: Pick<CameraCalibration, 'hfovWideDeg' | 'hfovTeleDeg'>, hfovDeg: number): number {
  const inv = (h: number) => 1 / Math.tan((h * RAD) / 2);
  const wide = inv(cal.hfovWideDeg);
  const tele = inv(cal.hfovTeleDeg);
  if (tele === wide) return 0;
  return clamp((inv(clamp(hfovDeg, 0.01, 179)) - wide) / (tele - wide), 0, 1);
}

export function hfovForZoom(cal: Pick<CameraCalibration, 'hfovWideDeg' | 'hfovTeleDeg'>, zoom: number): number {
  const inv = (h: number) => 1 / Math.tan((h * RAD) / 2);
  const f = inv(cal.hfovWideDeg) + clamp(zoom, 0, 1) * (inv(cal.hfovTeleDeg) - inv(cal.hfovWideDeg));
  return (2 * Math.atan(1 / f)) / RAD;
}

/** Camera degrees → ONVIF position in the calibrated space (clamped to the camera's ranges). */
export function degreesToSpace(cal: CameraCalibration, d: CameraDegrees): PtzPosition {
  const pan = panIntoRange(d.panDeg, cal.panMinDeg, cal.panMaxDeg);
  const tilt = clamp(d.tiltDeg, Math.min(cal.tiltMinDeg, cal.tiltMaxDeg), Math.max(cal.tiltMinDeg, cal.tiltMaxDeg));
  const zoom = zoomForHfov(cal, d.hfovDeg);
  if (cal.space === 'degrees') return { pan, tilt, zoom };
  return {
    pan: clamp(-1 + (2 * (pan - cal.panMinDeg)) / (cal.panMaxDeg - cal.panMinDeg), -1, 1),
    tilt: clamp(-1 + (2 * (tilt - cal.tiltMinDeg)) / (cal.tiltMaxDeg - cal.tiltMinDeg), -1, 1),
    zoom,
  };
}

/** ONVIF position in the calibrated space → camera degrees. */
export function spaceToDegrees(cal: CameraCalibration, p: PtzPosition): CameraDegrees {
  const hfovDeg = hfovForZoom(cal, p.zoom);
  if (cal.space === 'degrees') return { panDeg: wrap180(p.pan), tiltDeg: p.tilt, hfovDeg };
  return {
    panDeg: wrap180(cal.panMinDeg + ((p.pan + 1) / 2) * (cal.panMaxDeg - cal.panMinDeg)),
    tiltDeg: cal.tiltMinDeg + ((p.tilt + 1) / 2) * (cal.tiltMaxDeg - cal.tiltMinDeg),
    hfovDeg,
  };
}

/**
 * Why the camera cannot point at `d` (its pan or tilt beyond the calibrated range by more than
 * `marginDeg`: a wall or ceiling mount, a pan with end stops), in words; undefined when it can.
 * Sent anyway, the move would end at the range's end, looking elsewhere.
 */
export function outOfRangeWords(cal: CameraCalibration, d: Pick<CameraDegrees, 'panDeg' | 'tiltDeg'>, marginDeg: number): string | undefined {
  const reach = spaceToDegrees(cal, degreesToSpace(cal, { ...d, hfovDeg: cal.hfovWideDeg }));
  const range = (a: number, b: number) => `${Math.min(a, b)}…${Math.max(a, b)}°`;
  if (Math.abs(wrap180(reach.panDeg - d.panDeg)) > marginDeg) return `pan ${d.panDeg.toFixed(1)}° is outside its pan range (${range(cal.panMinDeg, cal.panMaxDeg)})`;
  if (Math.abs(reach.tiltDeg - d.tiltDeg) > marginDeg) return `tilt ${d.tiltDeg.toFixed(1)}° is outside its tilt range (${range(cal.tiltMinDeg, cal.tiltMaxDeg)})`;
  return undefined;
}

/** The pan (x) and tilt (y) limits a camera gives for its AbsoluteMove position space, in that space. */
export interface AdvertisedRange {
  x?: { min: number; max: number };
  y?: { min: number; max: number };
}

/** A pan value of the calibrated space → degrees on the calibration's own (unwrapped) scale. */
function spacePanDeg(cal: CameraCalibration, x: number): number {
  return cal.space === 'degrees' ? x : cal.panMinDeg + ((x + 1) / 2) * (cal.panMaxDeg - cal.panMinDeg);
}

function spaceTiltDeg(cal: CameraCalibration, y: number): number {
  return cal.space === 'degrees' ? y : cal.tiltMinDeg + ((y + 1) / 2) * (cal.tiltMaxDeg - cal.tiltMinDeg);
}

/**
 * The pan of `goal` (a position of the calibrated space) as the camera's advertised pan range
 * takes it: the same direction written within the range (a camera giving its degree space as
 * 0…360 is sent 270 for −90: both name one turn), or one within `marginDeg` of an end brought
 * to that end. Undefined when no writing of it is within the margin.
 */
function fitPan(cal: CameraCalibration, x: { min: number; max: number }, goalPan: number, marginDeg: number): number | undefined {
  const ends = [spacePanDeg(cal, x.min), spacePanDeg(cal, x.max)].sort((a, b) => a - b);
  const panDeg = spacePanDeg(cal, goalPan);
  let best: { deg: number; off: number } | undefined;
  for (const k of [0, -1, 1, -2, 2]) {
    const deg = panDeg + 360 * k;
    const off = deg < ends[0] ? ends[0] - deg : deg > ends[1] ? deg - ends[1] : 0;
    if (off <= marginDeg + 1e-9 && (!best || off < best.off - 1e-9)) best = { deg: Math.min(ends[1], Math.max(ends[0], deg)), off };
  }
  if (!best) return undefined;
  if (cal.space === 'degrees') return best.deg;
  return clamp(-1 + (2 * (best.deg - cal.panMinDeg)) / (cal.panMaxDeg - cal.panMinDeg), Math.min(x.min, x.max), Math.max(x.min, x.max));
}

function fitTilt(cal: CameraCalibration, y: { min: number; max: number }, goalTilt: number, marginDeg: number): number | undefined {
  const lo = Math.min(y.min, y.max);
  const hi = Math.max(y.min, y.max);
  if (goalTilt >= lo && goalTilt <= hi) return goalTilt;
  const end = goalTilt < lo ? lo : hi;
  return Math.abs(spaceTiltDeg(cal, end) - spaceTiltDeg(cal, goalTilt)) <= marginDeg + 1e-9 ? end : undefined;
}

/**
 * Why the camera does not take `goal` (a position of the calibrated space): its pan or tilt
 * beyond the limits the camera gives for that space (a wall mount's degree pan −90…90, a
 * generic −0.5…0.5, a ceiling mount's generic tilt 0…1) by more than `marginDeg`, in words;
 * undefined when it takes it, or gives no limits. Pan limits are judged as a turn: 0…360 and
 * −180…180 both take every direction.
 */
export function beyondAdvertisedWords(cal: CameraCalibration, range: AdvertisedRange | undefined, goal: PtzPosition, marginDeg: number): string | undefined {
  const limits = (axis: 'pan' | 'tilt', r: { min: number; max: number }, deg: (v: number) => number): string => {
    if (cal.space === 'degrees') return `its position space's ${axis} is ${r.min}…${r.max}°`;
    const ends = [deg(r.min), deg(r.max)].sort((a, b) => a - b);
    return `its position space's ${axis} is ${r.min}…${r.max}: ${ends[0].toFixed(1)}…${ends[1].toFixed(1)}° with this calibration`;
  };
  if (range?.x && fitPan(cal, range.x, goal.pan, marginDeg) === undefined) {
    return `pan ${wrap180(spacePanDeg(cal, goal.pan)).toFixed(1)}° is beyond what the camera takes (${limits('pan', range.x, (v) => spacePanDeg(cal, v))})`;
  }
  if (range?.y && fitTilt(cal, range.y, goal.tilt, marginDeg) === undefined) {
    return `tilt ${spaceTiltDeg(cal, goal.tilt).toFixed(1)}° is beyond what the camera takes (${limits('tilt', range.y, (v) => spaceTiltDeg(cal, v))})`;
  }
  return undefined;
}

/**
 * `goal` as the camera takes it (see beyondAdvertisedWords): its pan written within the camera's
 * pan range, an axis within the margin of an end brought to that end. Unchanged where the camera
 * gives no limits or `goal` is beyond them.
 */
export function fitToAdvertised(cal: CameraCalibration, range: AdvertisedRange | undefined, goal: PtzPosition, marginDeg: number): PtzPosition {
  const pan = range?.x ? fitPan(cal, range.x, goal.pan, marginDeg) : undefined;
  const tilt = range?.y ? fitTilt(cal, range.y, goal.tilt, marginDeg) : undefined;
  return { pan: pan ?? goal.pan, tilt: tilt ?? goal.tilt, zoom: goal.zoom };
}

/** True when the camera's pan covers a full turn, so moves may wrap around. */
export function panIsEndless(cal: CameraCalibration): boolean {
  return cal.panMaxDeg - cal.panMinDeg >= 359.999;
}

/** Pointing error: the larger of the pan error (wrapped) and the tilt error, degrees. */
export function pointingErrorDeg(a: Pick<CameraDegrees, 'panDeg' | 'tiltDeg'>, b: Pick<CameraDegrees, 'panDeg' | 'tiltDeg'>): number {
  return Math.max(Math.abs(wrap180(a.panDeg - b.panDeg)), Math.abs(a.tiltDeg - b.tiltDeg));
}

/** Is a bearing inside a sector going clockwise from `fromDeg` to `toDeg`? */
export function inSector(bearingDeg: number, fromDeg: number, toDeg: number): boolean {
  const span = wrap360(toDeg - fromDeg);
  return wrap360(bearingDeg - fromDeg) <= span;
}

/** The calibration of the virtual camera and of most PTZ domes in generic spaces. */
export const DEFAULT_CALIBRATION: CameraCalibration = {
  space: 'generic',
  panDirection: 1,
  panMinDeg: -180,
  panMaxDeg: 180,
  tiltMinDeg: -90,
  tiltMaxDeg: 20,
  hfovWideDeg: 60,
  hfovTeleDeg: 3.3,
};

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}
