/**
 * Glass-break detections from sensor s1 as the node tests hand them on: one already steered
 * onto a camera (what video-forward takes), one located (what ptz-steer takes).
 */

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
