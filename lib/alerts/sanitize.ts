/**
 * Keep only contract fields of alerts, and strip anything that could be audio, before an
 * alert or an audit detail leaves the process (dashboard WebSocket, audit file, store file).
 * DESIGN §4.1: no message, file or WebSocket payload ever contains audio samples.
 */
import type { Alert, CameraState, Location, VideoLinks } from '../contracts';
import { isVoiceLabel } from '../contracts';
import { isObject } from '../util/validate';

/** Keys that name sample data; their values are never kept, whatever they hold. */
const SAMPLE_KEYS = /^(samples?|pcm|audio(data)?|wave(form)?|wav|buffer|data|channels?data|raw)$/i;
/** Longer numeric arrays than this look like signal, not like fields. */
const MAX_NUMBER_ARRAY = 16;
const MAX_STRING = 2000;
const MAX_DEPTH = 5;

/** A copy of `value` with typed arrays, buffers, long number arrays and sample-named keys removed. */
export function stripSampleLike(value: unknown, depth = 0): unknown {
  if (value === null || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'string') return value.length > MAX_STRING ? value.slice(0, MAX_STRING) + '…' : value;
  if (typeof value !== 'object') return undefined; // functions, symbols, bigint
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return undefined;
  if (depth >= MAX_DEPTH) return undefined;
  if (Array.isArray(value)) {
    const numbers = value.filter((v) => typeof v === 'number').length;
    if (numbers > MAX_NUMBER_ARRAY) return undefined;
    return value.slice(0, 64).map((v) => stripSampleLike(v, depth + 1)).filter((v) => v !== undefined);
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (SAMPLE_KEYS.test(k)) continue;
    const s = stripSampleLike(v, depth + 1);
    if (s !== undefined) out[k] = s;
  }
  return out;
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}
function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v.slice(0, 500) : undefined;
}
function pick<T>(o: Record<string, T | undefined>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out;
}

function cleanLocation(v: unknown): Location | undefined {
  if (!isObject(v)) return undefined;
  const position = isObject(v.position)
    ? pick({ lat: num(v.position.lat), lon: num(v.position.lon), alt: num(v.position.alt), errorM: num(v.position.errorM) })
    : undefined;
  const sensors = Array.isArray(v.sensors) ? v.sensors.filter((s): s is string => typeof s === 'string').slice(0, 64) : [];
  return pick({
    method: str(v.method),
    bearing: num(v.bearing),
    elevation: num(v.elevation),
    bearingStd: num(v.bearingStd),
    position: position && position.lat !== undefined && position.lon !== undefined ? position : undefined,
    sensors,
    reason: str(v.reason),
    confidence: num(v.confidence),
  } as Record<string, unknown>) as unknown as Location;
}

function cleanCamera(v: unknown): CameraState | undefined {
  if (!isObject(v)) return undefined;
  const target = isObject(v.target) ? pick({ bearing: num(v.target.bearing), tilt: num(v.target.tilt), distanceM: num(v.target.distanceM) }) : undefined;
  return pick({
    id: str(v.id),
    name: str(v.name),
    pan: num(v.pan),
    tilt: num(v.tilt),
    zoom: num(v.zoom),
    target,
    state: str(v.state),
    errorDeg: num(v.errorDeg),
    moveMs: num(v.moveMs),
    reason: typeof v.reason === 'string' ? v.reason.slice(0, 300) : undefined,
  } as Record<string, unknown>) as unknown as CameraState;
}

function cleanVideo(v: unknown): VideoLinks | undefined {
  if (!isObject(v)) return undefined;
  return pick({ live: str(v.live), mjpeg: str(v.mjpeg), snapshot: str(v.snapshot), until: num(v.until) } as Record<string, unknown>) as unknown as VideoLinks;
}

/**
 * The contract fields of an alert (a detection grown by location, camera and video), and
 * nothing else: scores without voice labels, the span reference (never samples).
 */
export function sanitizeAlert(a: Alert): Alert {
  const o = a as unknown as Record<string, unknown>;
  const scores: Record<string, number> = {};
  if (isObject(o.scores)) {
    for (const [k, v] of Object.entries(o.scores)) {
      if (!isVoiceLabel(k) && typeof v === 'number' && Number.isFinite(v)) scores[k] = v;
    }
  }
  const level = isObject(o.level) ? pick({ dbfs: num(o.level.dbfs), dba: num(o.level.dba) }) : { dbfs: -99 };
  const span = isObject(o.span) ? pick({ sensor: str(o.span.sensor), start: num(o.span.start), frames: num(o.span.frames) }) : undefined;
  const si = isObject(o.sensorInfo) ? o.sensorInfo : undefined;
  const sensorInfo = si
    ? pick({ lat: num(si.lat), lon: num(si.lon), alt: num(si.alt), heading: num(si.heading), clock: str(si.clock), clockErrorMs: num(si.clockErrorMs) } as Record<string, unknown>)
    : undefined;
  const out = pick({
    kind: 'detection',
    id: str(o.id),
    sensor: str(o.sensor),
    label: str(o.label),
    confidence: num(o.confidence),
    onset: num(o.onset),
    offset: num(o.offset),
    level,
    scores,
    span,
    sensorInfo,
    location: cleanLocation(o.location),
    camera: cleanCamera(o.camera),
    video: cleanVideo(o.video),
  } as Record<string, unknown>);
  return out as unknown as Alert;
}
