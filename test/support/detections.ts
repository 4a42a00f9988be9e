/**
 * Glass-break detections from sensor s1 as the node tests hand them on: one already steered
 * onto a camera (what video-forward takes), one located (what ptz-steer takes); and gunshots
 * heard by sensors around a shot at the origin (what the fusion localizer takes).
 */
import type { Detection as ContractDetection } from '../../lib/contracts';
import { enuToGeodetic } from '../../lib/localize/geo';

/** The street's origin and the shot's time (epoch s) of gunshotHeardAt. */
export const SHOT_ORIGIN = { lat: 45.4397, lon: 4.3872, alt: 0 };
export const SHOT_T0 = 1_750_000_000;

/** A gunshot fired at SHOT_ORIGIN at SHOT_T0, as sensor `sensor`, `e` m east and `n` m north, hears it (sound at 340 m/s). */
export function gunshotHeardAt(sensor: string, e: number, n: number): ContractDetection {
  const g = enuToGeodetic([e, n, 0], SHOT_ORIGIN);
  const onset = SHOT_T0 + Math.hypot(e, n) / 340;
  return {
    kind: 'detection', id: `det-${sensor}`, sensor, label: 'gunshot', confidence: 0.9, onset, offset: onset + 0.3,
    level: { dbfs: -25 }, scores: { gunshot: 0.9 }, span: { sensor, start: 0, frames: 10 },
    sensorInfo: { lat: g.lat, lon: g.lon, clock: 'ptp', clockErrorMs: 0.1 },
  } as ContractDetection;
}

/** A gunshot as gateway `sensor` at `at` reports it over MQTT (before any bearing), its onset `onsetS` (epoch s). */
export function remoteGunshot(sensor: string, at: { lat: number; lon: number }, onsetS: number): Record<string, unknown> {
  return {
    kind: 'detection', id: `det-${sensor}`, sensor, label: 'gunshot', confidence: 0.9, onset: onsetS, offset: onsetS + 0.3,
    level: { dbfs: -25 }, scores: { gunshot: 0.9 }, span: { sensor, start: 1000, frames: 4800 },
    sensorInfo: { lat: at.lat, lon: at.lon, alt: 4, heading: 0, clock: 'ptp', clockErrorMs: 0.1 },
  };
}

interface Detection {
  onsetS: number;
  offsetS: number;
  dbfs: number;
  frames: number;
}

function glassBreak(id: string, d: Detection): Record<string, unknown> {
  return {
    kind: 'detection',
    id,
    sensor: 's1',
    label: 'glass_break',
    confidence: 0.9,
    onset: d.onsetS,
    offset: d.offsetS,
    level: { dbfs: d.dbfs },
    scores: { glass_break: 0.9 },
    span: { sensor: 's1', start: 0, frames: d.frames },
  };
}

/** A detection whose camera `cameraId` is on target. */
export function onCameraAlert(id: string, cameraId: string): Record<string, unknown> {
  return {
    ...glassBreak(id, { onsetS: 1000, offsetS: 1000.3, dbfs: -10, frames: 4800 }),
    camera: { id: cameraId, name: cameraId, pan: 0, tilt: 0, zoom: 0, target: { bearing: 10, tilt: -5 }, state: 'on-target' },
  };
}

/** A detection of now located at `position` (TDOA between s1 and s2). */
export function locatedAlert(id: string, position: { lat: number; lon: number }, extra: Record<string, unknown> = {}) {
  const nowS = Date.now() / 1000;
  return {
    ...glassBreak(id, { onsetS: nowS, offsetS: nowS + 0.2, dbfs: -12, frames: 100 }),
    location: { method: 'tdoa', bearing: 0, bearingStd: 2, position: { ...position, errorM: 3 }, sensors: ['s1', 's2'] },
    ...extra,
  };
}
