/**
 * The Alert type of lib/contracts.ts is written by hand; the schema (schemas/alert.schema.json
 * with the detection's fields) is the contract. Each record below names every field of one
 * object of the type, whether it is required and what it holds: tsc refuses a record that
 * misses a field, names one the type lacks, or says required for an optional one. The test then
 * compares the records with what the schema declares.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadSchemas } from '../../lib/schemas';
import type { Alert, CameraState, Location, VideoLinks } from '../../lib/contracts';

type KindOf<V> = V extends string ? 'string' : V extends number ? 'number' : V extends readonly unknown[] ? 'array' : 'object';
/** For each field of T: "required number", "optional object"… */
type Fields<T> = { [K in keyof T]-?: `${{} extends Pick<T, K> ? 'optional' : 'required'} ${KindOf<NonNullable<T[K]>>}` };

type Incident = NonNullable<Alert['incident']>;

const alert: Fields<Alert> = {
  kind: 'required string',
  id: 'required string',
  sensor: 'required string',
  label: 'required string',
  confidence: 'required number',
  onset: 'required number',
  offset: 'required number',
  level: 'required object',
  scores: 'required object',
  span: 'required object',
  sensorInfo: 'optional object',
  location: 'optional object',
  camera: 'optional object',
  video: 'optional object',
  incident: 'optional object',
  priority: 'optional number',
};
const level: Fields<Alert['level']> = { dbfs: 'required number', dba: 'optional number', backgroundDba: 'optional number' };
const span: Fields<Alert['span']> = { sensor: 'required string', start: 'required number', frames: 'required number' };
const sensorInfo: Fields<NonNullable<Alert['sensorInfo']>> = {
  lat: 'required number',
  lon: 'required number',
  alt: 'optional number',
  heading: 'optional number',
  clock: 'required string',
  clockErrorMs: 'optional number',
};
const location: Fields<Location> = {
  method: 'required string',
  bearing: 'optional number',
  elevation: 'optional number',
  bearingStd: 'optional number',
  position: 'optional object',
  sensors: 'required array',
  reason: 'optional string',
  confidence: 'optional number',
};
const position: Fields<NonNullable<Location['position']>> = { lat: 'required number', lon: 'required number', alt: 'optional number', errorM: 'required number' };
const camera: Fields<CameraState> = {
  id: 'required string',
  name: 'required string',
  pan: 'required number',
  tilt: 'required number',
  zoom: 'required number',
  target: 'required object',
  state: 'required string',
  errorDeg: 'optional number',
  moveMs: 'optional number',
  reason: 'optional string',
  heldFor: 'optional string',
};
const target: Fields<CameraState['target']> = { bearing: 'required number', tilt: 'required number', distanceM: 'optional number' };
const video: Fields<VideoLinks> = { live: 'required string', mjpeg: 'optional string', snapshot: 'optional string', until: 'required number' };
const incident: Fields<Incident> = { id: 'required string', reports: 'required array' };
const report: Fields<Incident['reports'][number]> = {
  sensor: 'required string',
  detection: 'required string',
  label: 'required string',
  onset: 'required number',
  bearing: 'optional number',
};

type Schema = { properties?: Record<string, Schema>; required?: string[]; type?: string; const?: unknown; enum?: unknown[]; items?: Schema };

/** What a schema says of each field of an object, in the records' words. */
function declared(s: Schema): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, sub] of Object.entries(s.properties ?? {})) {
    const values = 'const' in sub ? [sub.const] : sub.enum;
    const kind = values ? typeof values[0] : sub.type === 'integer' ? 'number' : String(sub.type);
    out[k] = `${s.required?.includes(k) ? 'required' : 'optional'} ${kind}`;
  }
  return out;
}

test('the Alert type and the alert schema name the same fields, required alike, holding the same kinds', () => {
  const schemas = loadSchemas() as unknown as Record<string, Schema>;
  const detection = schemas.detection;
  const own = schemas.alert;
  // The alert schema is the detection's (allOf) and its own properties.
  const whole: Schema = { properties: { ...detection.properties, ...own.properties }, required: [...(detection.required ?? []), ...(own.required ?? [])] };
  const p = whole.properties!;
  const pairs: Array<[string, Record<string, string>, Schema]> = [
    ['alert', alert, whole],
    ['level', level, p.level],
    ['span', span, p.span],
    ['sensorInfo', sensorInfo, p.sensorInfo],
    ['location', location, p.location],
    ['location.position', position, p.location.properties!.position],
    ['camera', camera, p.camera],
    ['camera.target', target, p.camera.properties!.target],
    ['video', video, p.video],
    ['incident', incident, p.incident],
    ['incident.reports[]', report, p.incident.properties!.reports.items!],
  ];
  for (const [name, typed, schema] of pairs) assert.deepEqual(sorted(typed), sorted(declared(schema)), name);
});

function sorted(o: Record<string, string>): Array<[string, string]> {
  return Object.entries(o).sort(([a], [b]) => a.localeCompare(b));
}

/** Every camera state of the type, once: tsc refuses a record that misses one or names one the type lacks. */
const cameraStates: Record<CameraState['state'], true> = {
  moving: true,
  'on-target': true,
  preset: true,
  failed: true,
  proposed: true,
  waiting: true,
  released: true,
  unavailable: true,
};

test('the camera states of the type are the schema\'s, and the console has words for each', async () => {
  const schemas = loadSchemas() as unknown as Record<string, Schema>;
  const inSchema = schemas.alert.properties!.camera.properties!.state.enum as string[];
  assert.deepEqual(Object.keys(cameraStates).sort(), [...inSchema].sort());
  // eslint-disable-next-line @typescript-eslint/ban-ts-comment
  // @ts-ignore -- plain JS module of the widget
  const { CAMERA_WORDS } = await import('../../ui/components/camera-words.js');
  assert.deepEqual(Object.keys(CAMERA_WORDS).sort(), [...inSchema].sort());
});
