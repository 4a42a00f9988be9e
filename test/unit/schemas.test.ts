import { test } from 'node:test';
import assert from 'node:assert/strict';
import Ajv2020 from 'ajv/dist/2020';
import { loadSchemas } from '../../lib/schemas';
import { ALERT_FIELDS, ALERT_LABELS, CONTRACT_BOUNDS, DroppedFieldWarnings, FieldShape, VOICE_LABELS, alertFieldsOf, contractFieldsOf, isVoiceLabel, screenAlert, validateAudioBlock, validateDecision, validateDetection } from '../../lib/contracts';
import * as contracts from '../../lib/contracts';
import { parseAlert } from '../../lib/camera/steer';
import { ContractError } from '../../lib/util/validate';

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
  level: { dbfs: -18.2, dba: -20.1, backgroundDba: -44.6 },
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

const location = { method: 'doa', bearing: 42.5, bearingStd: 3, sensors: ['north'] };

/** The field named first in a refusal ("payload.samples: expected …"). */
const refusedField = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (e) {
    return (e as Error).message.split(':')[0];
  }
  return undefined;
};

test('a detection that ends before it begins is refused, naming its offset; one that ends as it begins is not', () => {
  assert.equal(refusedField(() => validateDetection({ ...detection, offset: detection.onset - 0.5 })), 'payload.offset');
  assert.doesNotThrow(() => validateDetection({ ...detection, offset: detection.onset }));
});

test('privacy: a detection or alert carrying audio is refused by the schema and by the validators alike, naming the field', () => {
  // What the schema refuses at the top (its `not required` list), and anything in the closed span.
  const topLevel = ((schemas.detection.not as { anyOf: Array<{ required: string[] }> }).anyOf).map((r) => r.required[0]);
  assert.deepEqual(topLevel.sort(), ['audio', 'data', 'samples']);
  const cases: Array<[string, Record<string, unknown>]> = [
    ...topLevel.map((k): [string, Record<string, unknown>] => [`payload.${k}`, { ...detection, [k]: [0.1, 0.2] }]),
    ...['data', 'samples', 'pcm', 'anything'].map((k): [string, Record<string, unknown>] => [`payload.span.${k}`, { ...detection, span: { ...detection.span, [k]: 'AAAA' } }]),
  ];
  for (const [field, d] of cases) {
    assert.equal(check('detection', d).ok, false, `schema: ${field}`);
    assert.equal(check('alert', { ...d, location }).ok, false, `alert schema: ${field}`);
    assert.equal(refusedField(() => validateDetection(d)), field);
    assert.equal(refusedField(() => parseAlert({ ...d, location })), field, 'ptz-steer');
    assert.throws(() => validateDetection(d), /privacy guarantee 1: audio samples never travel in messages/);
  }
  // The reverse: where the schema leaves a detection open, the validator accepts too (and drops the field, see below).
  for (const d of [{ ...detection, pcm: [0.1] }, { ...detection, level: { ...detection.level, samples: [0.1] } }]) {
    assert.ok(check('detection', d).ok);
    assert.doesNotThrow(() => validateDetection(d));
  }
});

/** Voice classes as gateways name them: ours, capitalised (YAMNet's "Speech"), inside a longer name. */
const voiceNames = [...VOICE_LABELS, ...VOICE_LABELS.map((v) => v[0].toUpperCase() + v.slice(1)), 'Male speech, man speaking', 'WHISPERING'];

test('a label that is not one of the alert classes is refused by the schema and by the validators alike, naming the field and the classes', () => {
  for (const label of ['Glass Break', 'glass-break', 'siren', 'traffic', '']) {
    assert.equal(check('detection', { ...detection, label }).ok, false, label);
    assert.equal(refusedField(() => validateDetection({ ...detection, label })), 'payload.label', label);
    assert.equal(refusedField(() => parseAlert({ ...detection, label, location })), 'payload.label', label);
  }
  assert.throws(() => validateDetection({ ...detection, label: 'Glass Break' }), /^ContractError: payload\.label: expected one of the alert classes "gunshot", "glass_break", "crash", "scream", "explosion", "tire_skid", got "Glass Break"$/);
  for (const label of ALERT_LABELS) assert.doesNotThrow(() => validateDetection({ ...detection, label, scores: { [label]: 0.9 } }), label);
});

test('privacy: a voice label is refused by the schema and by the validators alike', () => {
  for (const label of voiceNames) {
    assert.equal(check('detection', { ...detection, label }).ok, false, label);
    assert.equal(refusedField(() => validateDetection({ ...detection, label })), 'payload.label', label);
    assert.equal(refusedField(() => parseAlert({ ...detection, label, location })), 'payload.label', label);
  }
  assert.throws(() => validateDetection({ ...detection, label: 'speech' }), /privacy guarantee 3: voice classes are never alert labels\), got "speech"/);
});

test('privacy: voice scores the schema refuses, the validator drops with a warning naming them; what it returns passes the schema', () => {
  for (const k of voiceNames) {
    const d = { ...detection, scores: { gunshot: 0.93, [k]: 0.4 } };
    assert.equal(check('detection', d).ok, false, `schema: ${k}`);
    const warnings: string[] = [];
    const out = validateDetection(d, (w) => warnings.push(w));
    assert.deepEqual(out.scores, { gunshot: 0.93 }, k);
    assert.ok(check('detection', out).ok, check('detection', out).errors);
    assert.equal(warnings.length, 1);
    assert.ok(warnings[0].includes(`payload.scores.${k} (a voice class: privacy guarantee 3)`), warnings[0]);
  }
  // Other classes are kept by both.
  assert.deepEqual(validateDetection(detection).scores, detection.scores);
});

test('privacy: human-voice classes of AudioSet-style models are voice; the sounds of the street, animals and alerts are not', () => {
  for (const l of ['Babbling', 'Narration, monologue', 'Chatter', 'Belly laugh', 'Baby laughter', 'Giggle', 'Crying, sobbing', 'Baby cry, infant cry', 'Choir', 'Chant', 'Rapping', 'Humming', 'Yodeling', 'Child speech, kid speaking', 'Whispering', 'Yell', 'Bellow', 'Whoop', 'Battle cry', 'Children shouting', 'Wail, moan', 'Sigh', 'Groan', 'Grunt', 'Whimper', 'Vocal music', 'A capella', 'Beatboxing', 'Cheering', 'Children playing']) {
    assert.ok(isVoiceLabel(l), l);
  }
  // Street data sets' own names: DCASE/TUT, SONYC-UST, UrbanSound8K.
  for (const l of ['people talking', 'person-or-small-group-talking', 'children', 'children_playing', 'human-voice', 'amplified-speech']) assert.ok(isVoiceLabel(l), l);
  const street = ['gunshot', 'glass_break', 'crash', 'scream', 'explosion', 'tire_skid', 'car_horn', 'construction', 'dog_bark', 'fireworks', 'footsteps', 'music', 'other', 'siren', 'traffic', 'weather', 'street'];
  for (const l of [...street, 'Screaming', 'Gunshot, gunfire', 'Hum', 'Mains hum', 'Car alarm', 'Skidding', 'Shatter', 'Chirp, tweet', 'Rain on surface']) {
    assert.equal(isVoiceLabel(l), false, l);
  }
});

/** An alert with every field the alert schema declares (the detection's included). */
const fullAlert = {
  ...detection,
  sensorInfo: { lat: 45.4397, lon: 4.3872, alt: 520, heading: 30, clock: 'ptp', clockErrorMs: 0.1 },
  location: { method: 'tdoa', bearing: 42.5, elevation: 2, bearingStd: 1.2, position: { lat: 45.43, lon: 4.39, alt: 510, errorM: 2.1 }, sensors: ['north', 'east'], reason: 'outliers left out: west', confidence: 0.8 },
  camera: { id: 'cam-1', name: 'Crossroads', pan: 0.23, tilt: -0.1, zoom: 0.4, target: { bearing: 42.5, tilt: -4, distanceM: 38 }, state: 'on-target', errorDeg: 0.4, moveMs: 1800, reason: 'turned back', heldFor: 'g1' },
  video: { live: '/vigie/video/cam-1/live', mjpeg: '/vigie/video/cam-1/mjpeg', snapshot: '/vigie/video/cam-1/snapshot.jpg?alert=d-1', until: 1795000600000 },
  incident: { id: 'inc-1', reports: [{ sensor: 'north', detection: 'd-1', label: 'gunshot', onset: 1795000000.123, bearing: 42 }] },
  priority: 5,
};

/** Every property path a schema declares ("payload.location.position.lat", "payload.incident.reports[0].sensor"). */
function declaredPaths(s: Record<string, unknown>, prefix: string): string[] {
  const props: Record<string, Record<string, unknown>> = { ...((s.properties as Record<string, Record<string, unknown>>) ?? {}) };
  for (const part of (s.allOf as Array<{ $ref?: string }>) ?? []) {
    if (part.$ref) Object.assign(props, schemas[part.$ref.replace('.schema.json', '') as 'detection'].properties);
  }
  return Object.entries(props).flatMap(([k, sub]) => {
    const p = `${prefix}.${k}`;
    const items = sub.items as Record<string, unknown> | undefined;
    return [p, ...declaredPaths(sub, p), ...(items ? declaredPaths(items, `${p}[0]`) : [])];
  });
}

function valueAt(o: unknown, path: string): unknown {
  return path
    .replace(/\[0\]/g, '.0')
    .split('.')
    .slice(1)
    .reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], o);
}

test('privacy: an alert goes on with every field the alert schema declares, and nothing else', () => {
  const paths = declaredPaths(schemas.alert, 'payload');
  assert.ok(paths.includes('payload.span.frames') && paths.includes('payload.incident.reports[0].bearing'), paths.join(' '));
  for (const p of paths) assert.notEqual(valueAt(fullAlert, p), undefined, `the test alert lacks ${p}`);
  assert.ok(check('alert', fullAlert).ok, check('alert', fullAlert).errors);
  assert.deepEqual(contractFieldsOf(fullAlert), fullAlert);
  // The schema leaves these objects open, so they could carry audio under any name: dropped, each named.
  const planted = structuredClone(fullAlert) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  planted.pcm = 'UklGRiQAAABXQVZF';
  planted.level.samples = [0.1, 0.2];
  planted.location.position.wav = [0.1];
  planted.camera.target.raw = [0.1];
  planted.incident.reports[0].clip = [0.1];
  assert.ok(check('alert', planted).ok, 'the schema lets the open objects carry them');
  // And what the schema refuses there: a list of the wrong kind, a voice score.
  planted.location.sensors = Array.from({ length: 4800 }, (_, i) => i / 4800);
  planted.scores.speech = 0.3;
  const warnings: string[] = [];
  const { sensors: _sensors, ...locationWithoutSensors } = fullAlert.location;
  assert.deepEqual(contractFieldsOf(planted, 'payload', (w) => warnings.push(w)), { ...fullAlert, location: locationWithoutSensors });
  assert.equal(warnings.length, 1);
  for (const f of ['payload.level.samples', 'payload.scores.speech', 'payload.location.position.wav', 'payload.location.sensors (expected a list of strings)', 'payload.camera.target.raw', 'payload.incident.reports[0].clip', 'payload.pcm']) {
    assert.ok(warnings[0].includes(f), `${f} in: ${warnings[0]}`);
  }
  assert.doesNotMatch(warnings[0], /UklGR|0\.1/, 'fields are named, never their values');
});

/** Every path a contract shape keeps, written as declaredPaths writes them. */
function shapePaths(shape: FieldShape, prefix: string): string[] {
  if (typeof shape === 'string') return [];
  if (Array.isArray(shape)) return shapePaths(shape[0], `${prefix}[0]`);
  return Object.entries(shape).flatMap(([k, sub]) => [`${prefix}.${k}`, ...shapePaths(sub, `${prefix}.${k}`)]);
}

test('the alert contract is read from the alert schema: it keeps the paths the schema declares, no more, no fewer', () => {
  assert.deepEqual(shapePaths(ALERT_FIELDS, 'payload').sort(), declaredPaths(schemas.alert, 'payload').sort());
  assert.ok(Object.isFrozen(ALERT_FIELDS) && Object.isFrozen(ALERT_FIELDS.location) && Object.isFrozen(ALERT_FIELDS.incident), 'no importer can widen it');
  // A field added to a schema is a field of the contract, of the schema's type.
  const edited = structuredClone(schemas) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  edited.alert.properties.weather = { type: 'object', properties: { windMs: { type: 'number' }, gusts: { type: 'array', items: { type: 'integer' } } } };
  edited.detection.properties.level.properties.peak = { enum: ['clipped', 'clean'] };
  const fields = alertFieldsOf(edited as typeof schemas);
  assert.deepEqual(fields.weather, { windMs: 'number', gusts: ['number'] });
  assert.deepEqual(fields.level, { dbfs: 'number', dba: 'number', backgroundDba: 'number', peak: 'string' });
  assert.equal(alertFieldsOf(schemas).weather, undefined);
  // A schema the picking cannot honour fails when the module loads, naming where.
  const unsupported = structuredClone(schemas) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  unsupported.alert.properties.camera.properties.zoom = { oneOf: [{ type: 'number' }, { type: 'string' }] };
  assert.throws(() => alertFieldsOf(unsupported as typeof schemas), /^Error: alert\.schema\.json\.camera\.zoom: no field shape/);
});

/** Alerts that break a privacy guarantee on their face, and the field each refusal names. */
const breaches = (): Array<[string, Record<string, unknown>]> => [
  ['samples', { ...structuredClone(fullAlert), samples: [0.1, 0.2] }],
  ['data', { ...structuredClone(fullAlert), data: 'UklGRiQAAABXQVZF' }],
  ['audio', { ...structuredClone(fullAlert), audio: [0.1] }],
  ['span.data', { ...structuredClone(fullAlert), span: { ...fullAlert.span, data: 'UklGRiQAAABXQVZF' } }],
  ['label', { ...structuredClone(fullAlert), label: 'Speech' }],
];

test('privacy: an alert\'s contract fields cannot be had without the refusal: contractFieldsOf and screenAlert refuse what breaks a guarantee', () => {
  for (const [field, a] of breaches()) {
    assert.equal(refusedField(() => contractFieldsOf(a)), `payload.${field}`, field);
    assert.equal(refusedField(() => contractFieldsOf(a, 'payload.alert', () => undefined)), `payload.alert.${field}`, field);
    assert.equal(refusedField(() => screenAlert(a, 'payload.alert')), `payload.alert.${field}`, `screening refuses before any field can be taken: ${field}`);
  }
  // Nothing lib/contracts exports hands out the fields of such an alert (no picking that skips the refusal).
  for (const [name, fn] of Object.entries(contracts)) {
    if (typeof fn !== 'function') continue;
    for (const [field, a] of breaches()) {
      let out: unknown;
      try {
        out = (fn as (...args: unknown[]) => unknown)(a, 'payload');
      } catch {
        continue;
      }
      assert.ok(!(out && typeof out === 'object' && (out as { id?: unknown }).id === fullAlert.id), `${name} gave the fields of an alert carrying ${field}`);
    }
  }
});

test('privacy: a breach is the first error each checker reports, before its own checks', () => {
  const broken = { ...structuredClone(detection), confidence: 2, span: { sensor: 'north', start: -1, frames: 1 } };
  assert.equal(refusedField(() => validateDetection(broken)), 'payload.confidence');
  assert.equal(refusedField(() => validateDetection({ ...broken, samples: [0.1] })), 'payload.samples');
  assert.equal(refusedField(() => validateDetection({ ...broken, label: 'speech' })), 'payload.label');
  // ptz-steer: an alert without a location is refused for its samples first.
  assert.equal(refusedField(() => parseAlert({ ...structuredClone(detection) })), 'payload.location');
  assert.equal(refusedField(() => parseAlert({ ...structuredClone(detection), samples: [0.1] }, 'payload.alert')), 'payload.alert.samples');
  // The kind of payload is told first, as before: an audio block is not a detection.
  assert.equal(refusedField(() => validateDetection({ kind: 'audio', samples: [0.1] })), 'payload.kind');
});

test('a sparse list (a hole where an item should be) is refused, naming the list and the kind of its items: its hole would go on as no item at all', () => {
  const located = (sensors: unknown[]) => ({ ...structuredClone(detection), location: { method: 'tdoa', bearing: 10, bearingStd: 2, position: { lat: 45, lon: 4, errorM: 3 }, sensors } });
  // eslint-disable-next-line no-sparse-arrays
  const holed = [, 's2'];
  assert.throws(() => parseAlert(located(holed)), /^ContractError: payload\.location\.sensors: expected a list of strings, got an array of 2$/);
  assert.equal(refusedField(() => parseAlert(located(new Array(1e9)))), 'payload.location.sensors');
  assert.equal(parseAlert(located(['s1', 's2'])).location?.sensors.length, 2, 'a whole list goes on');
});

test('a node names each dropped field once: a flow adding a field to every message warns once, not at every message', () => {
  const warnings: string[] = [];
  const named = new DroppedFieldWarnings((w) => warnings.push(w));
  const withSite = (i: number) => ({ ...structuredClone(fullAlert), id: `a-${i}`, site: 'north', incident: { ...structuredClone(fullAlert.incident), reports: [{ ...fullAlert.incident!.reports[0], note: 'x' }, { ...fullAlert.incident!.reports[0], note: 'y' }] } });
  for (let i = 0; i < 50; i++) assert.equal(contractFieldsOf(withSite(i), 'payload', named).id, `a-${i}`);
  assert.equal(warnings.length, 1, warnings.join(' | '));
  assert.match(warnings[0], /^alert a-0: dropped .*payload\.site \(not in the alert contract\)/);
  assert.match(warnings[0], /payload\.incident\.reports\[0\]\.note/);
  assert.doesNotMatch(warnings[0], /reports\[1\]/, 'list positions are folded: the second report drops the same field');
  assert.match(warnings[0], /each field is named once/);
  // A field not named before is named, alone.
  contractFieldsOf({ ...withSite(51), pcm: 'AAAA' }, 'payload', named);
  assert.equal(warnings.length, 2);
  assert.match(warnings[1], /^alert a-51: dropped payload\.pcm \(not in the alert contract\);/);
  assert.doesNotMatch(warnings[1], /payload\.site/);
  // A plain function still hears of every message (what one-off checks use).
  const each: string[] = [];
  for (let i = 0; i < 3; i++) contractFieldsOf(withSite(i), 'payload', (w) => each.push(w));
  assert.equal(each.length, 3);
  assert.doesNotMatch(each[0], /named once/);
});

test('DroppedFieldWarnings: past its bound of named fields it says so once and then stays quiet', () => {
  const warnings: string[] = [];
  const named = new DroppedFieldWarnings((w) => warnings.push(w));
  const max = DroppedFieldWarnings.MAX_NAMED;
  for (let i = 0; i < max + 20; i++) named.report(`a-${i}`, [`payload.f${i} (not in the alert contract)`]);
  assert.equal(warnings.length, max);
  assert.match(warnings[max - 1], /payload\.f999 .*1000 fields named, further ones are dropped without a word/);
  assert.doesNotMatch(warnings[max - 2], /further ones/);
  // One message with more new fields than the bound leaves room: it names up to the bound, no more.
  const once: string[] = [];
  const many = new DroppedFieldWarnings((w) => once.push(w));
  many.report('big', Array.from({ length: 5000 }, (_, i) => `payload.g${i} (not in the alert contract)`));
  many.report('next', ['payload.other (not in the alert contract)']);
  assert.equal(once.length, 1);
  assert.match(once[0], /^alert big: dropped payload\.g0 .* and 992 more; .*1000 fields named, further ones are dropped without a word/);
});

test('a long unknown field name is said by its length, never repeated (it could carry audio into the log)', () => {
  const warnings: string[] = [];
  const longName = 'UklGR'.repeat(4000);
  const short = 'x'.repeat(64);
  contractFieldsOf({ ...structuredClone(fullAlert), [longName]: 1, [short]: 2 }, 'payload', (w) => warnings.push(w));
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /payload\.<a field name of 20000 characters> \(not in the alert contract\)/);
  assert.ok(warnings[0].includes(`payload.${short} (not in the alert contract)`), 'a name of 64 characters is said whole');
  assert.ok(warnings[0].length < 1000, `${warnings[0].length} characters`);
  assert.doesNotMatch(warnings[0], /UklGRUklGR/);
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
  // the holder named in a field too; an older sender's alert without it is still an alert
  const held = { ...waiting, camera: { ...waiting.camera, heldFor: 'g1' } };
  assert.ok(check('alert', held).ok, check('alert', held).errors);
  assert.equal(parseAlert({ ...held, location: { ...alert.location } }).camera!.heldFor, 'g1', 'passed on by a receiver (contract fields)');
  assert.equal(check('alert', { ...waiting, camera: { ...waiting.camera, heldFor: 7 } }).ok, false);
  const released = { ...alert, camera: { ...alert.camera, state: 'released', reason: 'camera cam-1 looked here, then turned to gunshot alert g1' } };
  assert.ok(check('alert', released).ok, check('alert', released).errors);
  const unavailable = { ...alert, camera: { ...alert.camera, state: 'unavailable', reason: 'no camera was free within 5 min' } };
  assert.ok(check('alert', unavailable).ok, check('alert', unavailable).errors);
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
  // revision is optional: a decision without it (above) is as good as one with it
  const revised = { ...decision, revision: 2 };
  assert.deepEqual(validateDecision(revised), revised);
  assert.ok(check('decision', revised).ok);
  for (const bad of [-1, 1.5, '2']) {
    assert.equal(check('decision', { ...decision, revision: bad }).ok, false, `schema: revision ${bad}`);
    assert.throws(() => validateDecision({ ...decision, revision: bad }), /payload\.revision: expected an integer >= 0/, String(bad));
  }
});

test('privacy: an audio block carrying audio is refused, naming the field; a decision goes on with its own fields only', () => {
  const block = { kind: 'audio', sensor: 's1', seq: 0, sampleRate: 48000, channels: 1, start: 0, frames: 4800, time: 1_750_000_000, clock: 'ntp' };
  assert.doesNotThrow(() => validateAudioBlock(block));
  for (const k of ['samples', 'data', 'audio']) {
    assert.equal(check('audio-block', { ...block, [k]: [0.1] }).ok, false, `schema: ${k}`);
    assert.equal(refusedField(() => validateAudioBlock({ ...block, [k]: [0.1] })), `payload.${k}`, k);
  }
  const decision = { kind: 'decision', alertId: 'a1', action: 'confirm', operator: 'alice', time: 1_750_000_100, note: 'seen' };
  const extra = { ...decision, pcm: [0.1, 0.2], alert: { id: 'a1' } };
  assert.equal(check('decision', extra).ok, false);
  assert.deepEqual(validateDecision(extra), decision);
  assert.ok(check('decision', validateDecision(extra)).ok);
});

test('privacy: no field of the contract can carry audio under its own name: long texts, long lists, thousands of score classes are dropped and named', () => {
  const pcmText = Buffer.alloc(8000, 7).toString('base64');
  const manyScores: Record<string, number> = { gunshot: 0.9 };
  for (let i = 0; i < 3000; i++) manyScores[`c${i}`] = 0.001;
  const warnings: string[] = [];
  const out = contractFieldsOf(
    {
      ...fullAlert,
      camera: { ...fullAlert.camera, reason: pcmText },
      location: { ...fullAlert.location, sensors: Array.from({ length: 1000 }, (_, i) => `s${i}`) },
      scores: { ['x'.repeat(500)]: 0.2, ...manyScores },
    },
    'payload',
    (w) => warnings.push(w),
  ) as unknown as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  assert.equal(out.camera.reason, undefined);
  assert.equal(out.location.sensors, undefined);
  assert.equal(Object.keys(out.scores).length, CONTRACT_BOUNDS.scoreClasses);
  assert.equal(out.scores.gunshot, 0.9);
  assert.ok(!JSON.stringify(out).includes(pcmText.slice(0, 100)));
  assert.equal(warnings.length, 1);
  for (const f of ['payload.camera.reason (longer than 2000 characters)', 'payload.location.sensors (more than 256 items)', 'payload.scores (classes beyond the first 1024)', 'payload.scores (a class name longer than 100 characters)']) {
    assert.ok(warnings[0].includes(f), `${f} in: ${warnings[0].slice(0, 300)}`);
  }
  assert.ok(!warnings[0].includes('xxxxxxxxxx'), 'a warning never quotes a name that could be data');
  // Within the bounds, everything the schema declares goes on (see the test above).
  assert.deepEqual(contractFieldsOf(fullAlert), fullAlert);
});

test('privacy: an error quotes a refused value as a number, at most 40 characters of text, or only the kind and length of an array: never samples', () => {
  const samples = Float32Array.from([0.123456, -0.654321]);
  assert.equal(new ContractError('payload.samples', 'no such field', samples).message, 'payload.samples: expected no such field, got a Float32Array');
  assert.equal(new ContractError('payload.pcm', 'no such field', [0.123456, -0.654321]).message, 'payload.pcm: expected no such field, got an array of 2');
  assert.equal(new ContractError('payload.data', 'no such field', Buffer.from([1, 2, 3])).message, 'payload.data: expected no such field, got a Buffer');
  assert.equal(new ContractError('payload.note', 'a short text', 'x'.repeat(60)).message, `payload.note: expected a short text, got "${'x'.repeat(40)}…"`);
});

test('a detection is checked as its schema states it: scores within 0-1, a finite level, sensorInfo in range, an id kept whole', () => {
  const refusals: Array<[Record<string, unknown>, string, RegExp]> = [
    [{ ...detection, scores: { gunshot: 0.9, fireworks: -1 } }, 'payload.scores.fireworks', /expected a finite number >= 0 <= 1, got -1/],
    [{ ...detection, scores: { gunshot: 7 } }, 'payload.scores.gunshot', /<= 1, got 7/],
    [{ ...detection, level: { dbfs: -20, dba: Number.NaN } }, 'payload.level.dba', /expected a finite number, got NaN/],
    [{ ...fullAlert, sensorInfo: { ...fullAlert.sensorInfo, lat: 120 } }, 'payload.sensorInfo.lat', /expected a finite number >= -90 <= 90, got 120/],
    [{ ...fullAlert, sensorInfo: { ...fullAlert.sensorInfo, clock: 'sundial' } }, 'payload.sensorInfo.clock', /expected one of "local", "ntp", "ptp", "gps", got "sundial"/],
    // An id past the contract's bound of text is dropped from the fields: an alert without its id never goes on.
    [{ ...detection, id: 'i'.repeat(CONTRACT_BOUNDS.textChars + 1) }, 'payload.id', /expected a non-empty string of at most 2000 characters/],
  ];
  for (const [d, field, words] of refusals) {
    assert.throws(() => validateDetection(d), (e: Error) => e instanceof ContractError && e.field === field && words.test(e.message), field);
  }
  assert.deepEqual(validateDetection(fullAlert), fullAlert);
});

test('validateDetection with alertFields: an alert\'s later fields are checked too (the localizer passes them on); without, the console tidies them', () => {
  const refusals: Array<[Record<string, unknown>, string]> = [
    [{ ...fullAlert, location: { ...fullAlert.location, bearing: Number.NaN } }, 'payload.location.bearing'],
    [{ ...fullAlert, location: { ...fullAlert.location, position: { lat: 45.43, lon: 4.39 } } }, 'payload.location.position.errorM'],
    [{ ...fullAlert, camera: { ...fullAlert.camera, pan: Number.POSITIVE_INFINITY } }, 'payload.camera.pan'],
    [{ ...fullAlert, camera: { ...fullAlert.camera, state: 'dancing' } }, 'payload.camera.state'],
    [{ ...fullAlert, video: { live: 42, until: 1 } }, 'payload.video.live'],
    [{ ...fullAlert, incident: { id: 'inc-1', reports: [{ sensor: 'north', detection: 'd-1', label: 'gunshot', onset: Number.NaN }] } }, 'payload.incident.reports[0].onset'],
    [{ ...fullAlert, priority: Number.NaN }, 'payload.priority'],
  ];
  for (const [a, field] of refusals) {
    assert.equal(refusedField(() => validateDetection(a, undefined, { alertFields: true })), field, field);
    assert.doesNotThrow(() => validateDetection(a), `${field}: kept for the console to tidy`);
  }
  assert.deepEqual(validateDetection(fullAlert, undefined, { alertFields: true }), fullAlert);
});

test('ptz-steer takes an alert of another system without the detection\'s fields, but every field it has as the schema states it', () => {
  const bare = { id: 'x-1', location: { method: 'tdoa', position: { lat: 45.43, lon: 4.39, errorM: 3 }, sensors: [] } };
  assert.deepEqual(parseAlert(bare), bare);
  const refusals: Array<[Record<string, unknown>, string]> = [
    [{ ...bare, kind: 'video' }, 'payload.kind'],
    [{ ...bare, location: { ...bare.location, bearingStd: Number.NaN } }, 'payload.location.bearingStd'],
    [{ ...bare, location: { method: 'tdoa', position: { lat: 45.43, lon: 4.39 }, sensors: [] } }, 'payload.location.position.errorM'],
    [{ ...bare, span: { start: 0 } }, 'payload.span.sensor'],
    [{ ...bare, confidence: 3 }, 'payload.confidence'],
    [{ ...bare, onset: -1 }, 'payload.onset'],
  ];
  for (const [a, field] of refusals) assert.equal(refusedField(() => parseAlert(a)), field, field);
});
