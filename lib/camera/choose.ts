/**
 * Which camera looks at an alert: in range, not in a blind sector, not held by a more recent
 * or higher-priority alert (nor by one of equal priority during its look); nearest wins; ties
 * go to the smaller camera id (predictable).
 */
import { ALERT_LABELS } from '../contracts';
import { AdvertisedRange, Aim, LatLon, aimAtDistance, aimAtPosition, aimToCameraDegrees, beyondAdvertisedWords, degreesToSpace, destination, inSector, outOfRangeWords } from './geometry';
import { CameraConfig, ConnectionState } from './types';

/** What is known of where the sound came from. */
export type TargetSpec =
  | { kind: 'position'; position: LatLon }
  | {
      kind: 'bearing';
      /** Sensor that measured the bearing, and its position when known. */
      sensorId: string;
      sensorPosition?: LatLon;
      bearingDeg: number;
      /** Distance used when only a bearing is known. */
      assumedDistanceM: number;
    };

/**
 * A camera is not chosen for a target beyond its pan or tilt range by more than the move's
 * tolerance (ptz-steer's *Tolerance*; this by default): it would stop at its end of travel,
 * looking elsewhere. The move judges it with the same tolerance (moveToTarget), so a camera
 * chosen is never refused by its move for being out of range, nor one refused here taken there.
 */
export const RANGE_MARGIN_DEG = 1;

export interface Hold extends AlertRank {
  /** On the chooser's clock (as `nowMs`): the camera is free after it. */
  untilMs: number;
  /**
   * On the chooser's clock: until then no alert of equal priority takes the camera, however
   * recent (the minimum look at the alert it turns to). Absent or past: the more recent does.
   */
  lookUntilMs?: number;
}

export interface CameraCandidate {
  config: CameraConfig;
  state: ConnectionState;
  hold?: Hold;
  /** The limits the camera gives for its position space, when known (read when it connected). */
  advertised?: AdvertisedRange;
}

export interface AlertRank {
  alertId: string;
  /** The alert's label, for the words shown to operators. */
  label?: string;
  priority: number;
  /**
   * When ptz-steer first received the alert (its monotonic clock, ms): of two alerts of equal
   * priority, the later arrival is the more recent. Not the onset: that is read on the
   * gateway's clock, which may be hours off before NTP syncs it.
   */
  arrivedMs: number;
  /** When the alert happened (epoch ms, the gateway's clock): only orders two alerts that arrived in the same instant. */
  onsetMs: number;
}

export interface Choice {
  config: CameraConfig;
  aim: Aim;
}

export interface Rejection {
  cameraId: string;
  /** For the log and output 2. */
  reason: string;
  /** For operators, after "camera <name> cannot look there: ". */
  words: string;
}

/** Default priorities by label: life-threatening first. */
export const LABEL_PRIORITY: Record<string, number> = {
  gunshot: 5,
  explosion: 5,
  scream: 4,
  crash: 3,
  glass_break: 2,
  tire_skid: 1,
};

export function priorityOf(label: string | undefined, explicit?: unknown): number {
  if (typeof explicit === 'number' && Number.isFinite(explicit)) return explicit;
  if (label && (ALERT_LABELS as readonly string[]).includes(label)) return LABEL_PRIORITY[label] ?? 0;
  return LABEL_PRIORITY[label ?? ''] ?? 0;
}

/** Aim of one camera at the target, or why it cannot aim. */
export function aimFor(cfg: CameraConfig, target: TargetSpec, frameWidthM = 10): Aim | string {
  if (target.kind === 'position') return aimAtPosition(cfg, target.position, frameWidthM);
  if (cfg.sensorId && cfg.sensorId === target.sensorId) {
    return aimAtDistance(target.bearingDeg, target.assumedDistanceM, cfg.heightM, frameWidthM, true);
  }
  if (target.sensorPosition) {
    const p = destination(target.sensorPosition, target.bearingDeg, target.assumedDistanceM);
    const aim = aimAtPosition(cfg, p, frameWidthM);
    return { ...aim, distanceAssumed: true };
  }
  return 'only a bearing is known and the camera is not on that sensor\'s mast';
}

/** Positive when `a` is more recent than `b`: it arrived later (or, arrived in the same instant, happened later). */
export function recency(a: AlertRank, b: AlertRank): number {
  return a.arrivedMs - b.arrivedMs || a.onsetMs - b.onsetMs;
}

/**
 * Whether `hold` keeps the camera from `alert`: a higher priority does; of equal priority, the
 * hold during its look, and then the more recent of the two.
 */
export function isHeldAgainst(hold: Hold | undefined, alert: AlertRank, nowMs: number): boolean {
  if (!hold || hold.untilMs <= nowMs || hold.alertId === alert.alertId) return false;
  if (hold.priority !== alert.priority) return hold.priority > alert.priority;
  if (hold.lookUntilMs !== undefined && hold.lookUntilMs > nowMs) return true;
  return recency(hold, alert) > 0;
}

export function chooseCamera(
  candidates: CameraCandidate[],
  target: TargetSpec,
  alert: AlertRank,
  nowMs: number,
  frameWidthM = 10,
  marginDeg = RANGE_MARGIN_DEG,
): { choice?: Choice; ranked: Choice[]; rejected: Rejection[] } {
  const ok: Array<Choice & { failed: boolean }> = [];
  const rejected: Rejection[] = [];
  for (const c of candidates) {
    const aim = aimFor(c.config, target, frameWidthM);
    if (typeof aim === 'string') {
      rejected.push({ cameraId: c.config.id, reason: aim, words: 'only the direction of the sound is known, heard from a mast it is not on' });
      continue;
    }
    if (aim.distanceM > c.config.maxRangeM) {
      rejected.push({ cameraId: c.config.id, reason: `out of range (${Math.round(aim.distanceM)} m > ${c.config.maxRangeM} m)`, words: `the place is ${Math.round(aim.distanceM)} m away, beyond its ${c.config.maxRangeM} m reach` });
      continue;
    }
    const blind = c.config.blindSectors.find((s) => inSector(aim.bearingDeg, s.fromDeg, s.toDeg));
    if (blind) {
      rejected.push({ cameraId: c.config.id, reason: `bearing ${aim.bearingDeg.toFixed(1)}° is in blind sector ${blind.fromDeg}°–${blind.toDeg}°`, words: `the place is hidden from it (blind sector ${blind.fromDeg}°–${blind.toDeg}°)` });
      continue;
    }
    const degrees = aimToCameraDegrees(c.config, aim);
    const outOfRange =
      outOfRangeWords(c.config.calibration, degrees, marginDeg) ?? beyondAdvertisedWords(c.config.calibration, c.advertised, degreesToSpace(c.config.calibration, degrees), marginDeg);
    if (outOfRange) {
      rejected.push({ cameraId: c.config.id, reason: `bearing ${aim.bearingDeg.toFixed(1)}°, tilt ${aim.tiltDeg.toFixed(1)}°: ${outOfRange}`, words: outOfRange });
      continue;
    }
    if (isHeldAgainst(c.hold, alert, nowMs)) {
      rejected.push({ cameraId: c.config.id, reason: `held by alert ${c.hold!.alertId}`, words: `it is held for alert ${c.hold!.alertId}` });
      continue;
    }
    ok.push({ config: c.config, aim, failed: c.state === 'failed' || c.state === 'closed' });
  }
  // Cameras known to be down go last, so a reachable one is tried first.
  ok.sort((a, b) => Number(a.failed) - Number(b.failed) || a.aim.distanceM - b.aim.distanceM || (a.config.id < b.config.id ? -1 : a.config.id > b.config.id ? 1 : 0));
  const ranked = ok.map(({ config, aim }) => ({ config, aim }));
  return { choice: ranked[0], ranked, rejected };
}
