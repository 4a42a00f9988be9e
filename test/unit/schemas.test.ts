import { test } from 'node:test';
import assert from 'node:assert/strict';
import Ajv2020 from 'ajv/dist/2020';
import { loadSchemas } from '../../lib/schemas';
import { validateAudioBlock, validateDecision, validateDetection } from '../../lib/contracts';

const schemas = loadSchemas();
const ajv = new Ajv2020({ allErrors: true, strict: false });
for (const s of Object.values(schemas)) ajv.addSchema(s);
const check = (name: string, v: unknown) => {
  const fn = ajv.getSchema(`https://vigie.invalid/schemas/v1/${name}.schema.json`)!;
  const ok = fn(v) as boolean;
  return { ok, errors: JSON.stringify(fn.errors) };
};

const detection = {
  kind: 'detection',
  id: 'd-1',
  sensor: 'north',
  label: 'gunshot',
  confidence: 0.93,
  onset: 1795000000.123,
  offset: 1795000000.6,
  level: { dbfs: -18.2, dba: -20.1 },
  scores: { gunshot: 0.93, fireworks: 0.04 },
  span: { sensor: 'north', start: 48000, frames: 24000 },
};

test('a detection valid for the library validator is valid for the schema, and the reverse', () => {
  assert.doesNotThrow(() => validateDetection(detection));
  const r = check('detection', detection);
  assert.ok(r.ok, r.errors);
});

test('schemas reject samples and voice classes in a detection', () => {
  assert.equal(check('detection', { ...detection, samples: [0.1, 0.2] }).ok, false);
  assert.equal(check('detection', { ...detection, scores: { gunshot: 0.9, speech: 0.05 } }).ok, false);
  assert.equal(check('detection', { ...detection, label: 'speech' }).ok, false);
  assert.equal(check('detection', { ...detection, span: { ...detection.span, data: 'AAAA' } }).ok, false);
});

test('an alert carries location, camera and video; wrong enums are rejected', () => {
  const alert = {
    ...detection,
    location: { method: 'tdoa', bearing: 42.5, bearingStd: 1.2, position: { lat: 45.43, lon: 4.39, errorM: 2.1 }, sensors: ['north', 'east', 'west'] },
    camera: { id: 'cam-1', name: 'Crossroads', pan: 0.23, tilt: -0.1, zoom: 0.4, target: { bearing: 42.5, tilt: -4, distanceM: 38 }, state: 'on-target', errorDeg: 0.4, moveMs: 1800 },
    video: { live: '/vigie/video/cam-1/live', mjpeg: '/vigie/video/cam-1/mjpeg', snapshot: '/vigie/video/cam-1/snapshot.jpg?alert=d-1', until: 1795000600000 },
  };
  assert.ok(check('alert', alert).ok, check('alert', alert).errors);
  assert.equal(check('alert', { ...alert, camera: { ...alert.camera, state: 'lost' } }).ok, false);
  const waiting = { ...alert, camera: { ...alert.camera, state: 'waiting', reason: 'camera cam-1 is busy with gunshot alert g1' } };
  assert.ok(check('alert', waiting).ok, check('alert', waiting).errors);
  const released = { ...alert, camera: { ...alert.camera, state: 'released', reason: 'camera cam-1 looked here, then turned to gunshot alert g1' } };
  assert.ok(check('alert', released).ok, check('alert', released).errors);
  assert.equal(check('alert', { ...alert, camera: { ...alert.camera, reason: 7 } }).ok, false);
  assert.equal(check('alert', { ...alert, location: { ...alert.location, method: 'guess' } }).ok, false);
});

test('audio blocks and decisions agree between schema and validator', () => {
  const block = { kind: 'audio', sensor: 'north', seq: 3, sampleRate: 48000, channels: 4, start: 14400, frames: 4800, time: 1795000000.3, clock: 'ntp' };
  assert.doesNotThrow(() => validateAudioBlock(block));
  assert.ok(check('audio-block', block).ok);
  assert.equal(check('audio-block', { ...block, samples: [1, 2] }).ok, false);
  assert.throws(() => validateAudioBlock({ ...block, samples: [1, 2] }), /without samples/);
  const decision = { kind: 'decision', alertId: 'd-1', action: 'dismiss', operator: 'Camille', time: 1795000100 };
  assert.doesNotThrow(() => validateDecision(decision));
  assert.ok(check('decision', decision).ok);
  assert.equal(check('decision', { ...decision, action: 'ignore' }).ok, false);
  assert.throws(() => validateDecision({ ...decision, action: 'ignore' }), /payload\.action/);
});
