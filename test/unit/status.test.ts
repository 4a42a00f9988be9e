/**
 * Status texts of errors (lib/util/status.ts): short, naming the field and the value refused,
 * whatever the length of the whole message (which goes to the log).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { errorStatus, setStatus, shortText, StatusShown, STATUS_MAX_CHARS } from '../../lib/util/status';
import { ContractError, settingInRange } from '../../lib/util/validate';

test('a ContractError gives "bad <field>: <value>", the value shown as describe() shows it', () => {
  assert.equal(errorStatus(new ContractError('setting hopMs', '1 ms up to the window length (1000 ms)', 1500)), 'bad setting hopMs: 1500');
  assert.equal(errorStatus(new ContractError('payload.sensor', 'a sensor whose ring is open', 'corner-12')), 'bad payload.sensor: "corner-12"');
  assert.equal(errorStatus(new ContractError('payload', 'an object', [1, 2])), 'bad payload: an array of 2');
  assert.equal(errorStatus(new ContractError('camera.cameraId', 'a non-empty id')), 'bad camera.cameraId', 'no value given: the field alone');
  let thrown: unknown;
  try {
    settingInRange('fast', 'setting blockMs', { min: 10, max: 2000, integer: true }, 100);
  } catch (e) {
    thrown = e;
  }
  assert.equal(errorStatus(thrown), 'bad setting blockMs: "fast"');
});

test('a long value is cut, never the field', () => {
  const long = 'rtsp://camera.example.org:554/Streaming/Channels/101?transportmode=unicast';
  const text = errorStatus(new ContractError('setting url', 'an URL without a password', long));
  assert.ok(text.length <= STATUS_MAX_CHARS, text);
  assert.match(text, /^bad setting url: "rtsp:\/\/camera\.example\.org/);
  assert.match(text, /…/, "the value is cut");
  const field = 'payload.location.position.somewhere.very.deep.inside.the.message.x';
  const only = errorStatus(new ContractError(field, 'a number', 3));
  assert.ok(only.length <= STATUS_MAX_CHARS, only);
  assert.match(only, /^bad payload\.location/);
});

test('an Error worded "<field>: expected …" gives "bad <field>"; others their message, cut at a word', () => {
  assert.equal(errorStatus(new Error('sensor: sensorId: expected 1-64 letters, digits, "_", "-" or "." (used in MQTT topics), got "a b"')), 'bad sensor: sensorId');
  assert.equal(errorStatus(new Error('url: expected an ffmpeg input URL (rtsp://…, http://…, or a file path)')), 'bad url');
  assert.equal(errorStatus(new Error('setting maxRelays: expected an integer from 1 to 64, got 0')), 'bad setting maxRelays');
  assert.equal(errorStatus(new Error('ffmpeg not found')), 'ffmpeg not found');
  const sentence = 'the camera does not answer: expected a reply within 15 s from 10.0.0.5 port 80, got nothing at all';
  const cut = errorStatus(new Error(sentence));
  assert.ok(cut.length <= STATUS_MAX_CHARS, cut);
  assert.ok(!/^bad /.test(cut), 'a sentence is not taken for a field');
  assert.match(cut, /^the camera does not answer: expected a reply within 15 s…$/);
  assert.equal(errorStatus('plain text'), 'plain text');
});

test('shortText keeps short text, cuts long text at a word with "…"', () => {
  assert.equal(shortText('short'), 'short');
  const s = 'x'.repeat(STATUS_MAX_CHARS);
  assert.equal(shortText(s), s);
  assert.equal(shortText('alpha beta gamma delta', 12), 'alpha beta…');
  assert.equal(shortText('abcdefghijklmnopqrstuvwxyz', 10), 'abcdefghi…', 'no word boundary: cut inside the word');
});

test('setStatus: the same status again is not sent; a changed one is at once; a cleared one set again is a change', () => {
  const sent: StatusShown[] = [];
  const node = { status: (s: StatusShown) => sent.push(s) };
  const waiting: StatusShown = { fill: 'yellow', shape: 'dot', text: '3 alerts waiting for a busy camera' };
  setStatus(node, waiting);
  setStatus(node, { ...waiting });
  setStatus(node, { text: waiting.text, shape: 'dot', fill: 'yellow' });
  assert.deepEqual(sent, [waiting], 'three times the same status: sent once');
  setStatus(node, { ...waiting, text: '2 alerts waiting for a busy camera' });
  setStatus(node, { ...waiting, fill: 'red' });
  setStatus(node, { ...waiting, fill: 'red', shape: 'ring' });
  assert.equal(sent.length, 4, 'text, fill and shape each make a change');
  setStatus(node, {});
  setStatus(node, {});
  setStatus(node, { ...waiting, fill: 'red', shape: 'ring' });
  assert.deepEqual(sent.slice(4), [{}, { ...waiting, fill: 'red', shape: 'ring' }], 'cleared once, then set again');
  // Each node has what it shows: another node's first status is sent.
  const other: StatusShown[] = [];
  setStatus({ status: (s: StatusShown) => other.push(s) }, { ...waiting, fill: 'red', shape: 'ring' });
  assert.equal(other.length, 1);
});
