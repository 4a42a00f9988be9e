/**
 * Microphone array geometry. Positions are metres in the array's own frame:
 * +y points along the sensor's heading, +x 90° clockwise from it (to the right), +z up.
 * A direction's azimuth is measured clockwise from +y, so bearing = heading + azimuth.
 */

export type MicPosition = [x: number, y: number, z: number];

export interface ArrayPreset {
  id: string;
  name: string;
  mics: MicPosition[];
}

function ring(n: number, radiusM: number, centre = false, startDeg = 0): MicPosition[] {
  const mics: MicPosition[] = [];
  for (let i = 0; i < n; i++) {
    const a = ((startDeg + (360 * i) / n) * Math.PI) / 180;
    mics.push([round(radiusM * Math.sin(a)), round(radiusM * Math.cos(a)), 0]);
  }
  if (centre) mics.push([0, 0, 0]);
  return mics;
}

function round(v: number): number {
  return Math.round(v * 1e6) / 1e6;
}

export const ARRAY_PRESETS: Record<string, ArrayPreset> = {
  mono: { id: 'mono', name: 'Single microphone (no direction finding)', mics: [[0, 0, 0]] },
  'square-4': { id: 'square-4', name: 'Square 4-mic, 13 cm diagonal', mics: ring(4, 0.065, false, 45) },
  'respeaker-usb-4': { id: 'respeaker-usb-4', name: 'ReSpeaker USB 4-mic array (6.4 cm)', mics: ring(4, 0.032, false, 45) },
  'circular-6': { id: 'circular-6', name: 'Circular 6-mic, 9.3 cm diameter', mics: ring(6, 0.0463) },
  'circular-7': { id: 'circular-7', name: 'Circular 6 + centre (7-mic), 9.3 cm diameter', mics: ring(6, 0.0463, true) },
};

export const MIN_MIC_SPACING_M = 0.005;
export const MAX_APERTURE_M = 3;

export interface GeometryCheck {
  /** Fatal problems: the geometry cannot be used. Each names the field. */
  errors: string[];
  /** Usable but limited (e.g. linear array: front/back ambiguity). */
  warnings: string[];
  apertureM: number;
}

/** Validate a geometry; `field` prefixes messages (e.g. "sensor.mics"). */
export function checkGeometry(mics: unknown, field = 'mics'): GeometryCheck {
  const errors: string[] = [];
  const warnings: string[] = [];
  if (!Array.isArray(mics) || mics.length === 0) {
    return { errors: [`${field}: expected a non-empty array of [x, y, z] metres`], warnings, apertureM: 0 };
  }
  if (mics.length > 64) errors.push(`${field}: at most 64 microphones, got ${mics.length}`);
  mics.forEach((m, i) => {
    if (!Array.isArray(m) || (m.length !== 2 && m.length !== 3) || !m.every((v) => typeof v === 'number' && Number.isFinite(v))) {
      errors.push(`${field}[${i}]: expected [x, y, z] in metres (finite numbers), got ${JSON.stringify(m)}`);
    }
  });
  if (errors.length) return { errors, warnings, apertureM: 0 };
  const pts = (mics as number[][]).map((m) => [m[0], m[1], m[2] ?? 0]);
  let aperture = 0;
  for (let i = 0; i < pts.length; i++) {
    for (let j = i + 1; j < pts.length; j++) {
      const d = Math.hypot(pts[i][0] - pts[j][0], pts[i][1] - pts[j][1], pts[i][2] - pts[j][2]);
      aperture = Math.max(aperture, d);
      if (d < MIN_MIC_SPACING_M) errors.push(`${field}[${i}] and [${j}]: microphones closer than ${MIN_MIC_SPACING_M * 1000} mm`);
    }
  }
  if (aperture > MAX_APERTURE_M) errors.push(`${field}: aperture ${aperture.toFixed(2)} m exceeds ${MAX_APERTURE_M} m (a single array, not several sensors)`);
  const lineGives = 'measure only the angle from their axis: a bearing and its mirror image (front or back), no elevation';
  if (pts.length >= 2 && pts.length < 3) warnings.push(`${field}: two microphones ${lineGives}`);
  if (pts.length >= 3 && collinear(pts)) warnings.push(`${field}: collinear microphones ${lineGives}`);
  return { errors, warnings, apertureM: aperture };
}

function collinear(pts: number[][]): boolean {
  const [a, b] = [pts[0], pts.find((p) => Math.hypot(p[0] - pts[0][0], p[1] - pts[0][1]) > MIN_MIC_SPACING_M) ?? pts[1]];
  const ux = b[0] - a[0];
  const uy = b[1] - a[1];
  const n = Math.hypot(ux, uy) || 1;
  return pts.every((p) => Math.abs((p[0] - a[0]) * uy - (p[1] - a[1]) * ux) / n < 1e-3);
}

/** Resolve a preset id or custom list into positions, throwing with the field named. */
export function resolveGeometry(preset: string, custom?: unknown, field = 'mics'): MicPosition[] {
  if (preset && preset !== 'custom') {
    const p = ARRAY_PRESETS[preset];
    if (!p) throw new Error(`${field}: unknown array preset "${preset}" (expected one of ${Object.keys(ARRAY_PRESETS).join(', ')}, or custom)`);
    return p.mics.map((m) => [...m] as MicPosition);
  }
  const check = checkGeometry(custom, field);
  if (check.errors.length) throw new Error(check.errors.join('; '));
  return (custom as number[][]).map((m) => [m[0], m[1], m[2] ?? 0] as MicPosition);
}
