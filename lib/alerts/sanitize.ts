/**
 * Before an alert or an audit detail leaves the process (dashboard WebSocket, audit file, store
 * file): alerts, already cut to the contract's fields, are shortened for the console; audit
 * details are stripped of anything that could be audio.
 * DESIGN §4.1: no message, file or WebSocket payload ever contains audio samples.
 */
import { ALERT_FIELDS, type Alert, type FieldShape, type ObjectShape } from '../contracts';
import { isObject } from '../util/validate';

/** Keys that name sample data; their values are never kept, whatever they hold. */
export const SAMPLE_KEYS = /^(samples?|pcm|audio(data)?|wave(form)?|wav|buffer|data|channels?data|raw)$/i;
/** Longer numeric arrays than this look like signal, not like fields. */
export const MAX_NUMBER_ARRAY = 16;
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

/** Texts shown to operators are cut to this many characters; a camera's reason, one line, to REASON_CHARS. */
const TEXT_CHARS = 500;
const REASON_CHARS = 300;
/** A location names at most this many sensors in the console. */
const SENSORS_SHOWN = 64;

/** Fields tidied otherwise than by shorten's rule, by path; a rule is applied even to an absent field. */
const RULES: Readonly<Record<string, (v: unknown) => unknown>> = {
  // One line in the console, kept even when empty.
  'camera.reason': (v) => (typeof v === 'string' ? v.slice(0, REASON_CHARS) : undefined),
  // Kept even when empty: a video with no live link but its MJPEG one plays the MJPEG picture
  // (the console takes an empty live link as none), and the contract requires the field.
  'video.live': (v) => (typeof v === 'string' ? v.slice(0, TEXT_CHARS) : undefined),
  // Always a list, which the console shows; its names as they came.
  'location.sensors': (v) => (Array.isArray(v) ? v.slice(0, SENSORS_SHOWN) : []),
};

/**
 * `v` with texts cut to TEXT_CHARS, and empty texts and numbers that are not finite left out.
 * Fields come in the contract's order, whatever order they arrived in: the store tells a
 * changed field from an unchanged one by its JSON.
 */
function shorten(v: unknown, shape: FieldShape, path: string): unknown {
  if (typeof v === 'string') return v.length > 0 ? v.slice(0, TEXT_CHARS) : undefined;
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (Array.isArray(v)) return Array.isArray(shape) ? v.map((x) => shorten(x, shape[0], path)).filter((x) => x !== undefined) : undefined;
  if (!isObject(v) || (typeof shape === 'string' && shape !== 'scores') || Array.isArray(shape)) return undefined;
  const out: Record<string, unknown> = {};
  if (shape === 'scores') {
    for (const [k, x] of Object.entries(v)) if (typeof x === 'number' && Number.isFinite(x)) out[k] = x;
    return out;
  }
  const fields = shape as ObjectShape;
  for (const k of Object.keys(fields)) {
    const p = `${path}${k}`;
    const rule = Object.hasOwn(RULES, p) ? RULES[p] : undefined;
    if (!rule && !Object.hasOwn(v, k)) continue;
    const s = rule ? rule(v[k]) : shorten(v[k], fields[k], `${p}.`);
    if (s !== undefined) out[k] = s;
  }
  return out;
}

/**
 * An alert as the console keeps and shows it. Its fields are the alert contract's already
 * (validateDetection: schemas/alert.schema.json decides which exist, voice scores and anything
 * else are gone); this only shortens and tidies: texts cut to 500 characters (a camera's reason
 * to 300), empty texts and numbers that are not finite left out, a location's sensors listed
 * (always, at most 64), its position kept only with both latitude and longitude.
 */
export function shortenAlert(a: Alert): Alert {
  const out = shorten(a, ALERT_FIELDS, '') as Alert;
  const position = out.location?.position;
  if (position && (position.lat === undefined || position.lon === undefined)) delete out.location!.position;
  return out;
}
