/**
 * A camera's error codes in operators' words: one table (lib/camera/error-words.ts) read by
 * ptz-steer's move failures and by the console's offline cameras, so the two never say
 * different things of one code.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CAMERA_ERROR_WORDS, cameraErrorWords } from '../../lib/camera/error-words';
import { failureWords } from '../../lib/camera/steer';
import { problemWords } from '../../lib/alerts/camera-links';

test('ptz-steer\'s move failures and the console\'s offline cameras read the one table, for every code', () => {
  for (const [code, words] of Object.entries(CAMERA_ERROR_WORDS)) {
    assert.equal(failureWords('Camera place', code), `camera Camera place ${words.moveFailed}`, code);
    assert.equal(problemWords(code), words.offline, code);
  }
  for (const code of [undefined, 'ENOTFOUND', 'constructor', 'toString']) {
    assert.deepEqual(cameraErrorWords(code), CAMERA_ERROR_WORDS.error, `${code}: an unknown code reads as any other fault`);
    assert.equal(failureWords('Camera place', code), `camera Camera place ${CAMERA_ERROR_WORDS.error.moveFailed}`);
  }
});

test('the words are those operators were shown before the table (unchanged)', () => {
  const fault = 'did not turn there (it reported a fault: ask your administrator to check it)';
  const notUsable = 'not usable (see the Node-RED log)';
  const expected: Record<string, [string, string]> = {
    unreachable: ['not responding', 'is not responding (offline, or cut off from the network)'],
    auth: ["refuses Vigie's login (user or password)", "refused Vigie's login (its user or password has changed)"],
    closed: [notUsable, 'was taken out of service (its settings were changed or removed)'],
    'not-supported': [notUsable, 'cannot be turned there (it refuses every way of moving)'],
    'soap-fault': [notUsable, 'refused to turn there'],
    'out-of-range': [notUsable, 'cannot turn that far (the alert is beyond its pan or tilt range)'],
    'no-profile': [notUsable, fault],
    'no-camera': [notUsable, fault],
    superseded: [notUsable, fault],
    error: [notUsable, fault],
  };
  assert.deepEqual(Object.keys(CAMERA_ERROR_WORDS).sort(), Object.keys(expected).sort());
  for (const [code, [offline, moveFailed]] of Object.entries(expected)) {
    assert.equal(problemWords(code), offline, code);
    assert.equal(failureWords('Camera place', code), `camera Camera place ${moveFailed}`, code);
  }
});

test('the table and its entries are frozen, the shared words of other faults too: no caller can change what is said of every camera', () => {
  assert.ok(Object.isFrozen(CAMERA_ERROR_WORDS), 'the table');
  for (const [code, words] of Object.entries(CAMERA_ERROR_WORDS)) assert.ok(Object.isFrozen(words), code);
  assert.ok(Object.isFrozen(cameraErrorWords('ENOTFOUND')), 'the words of an unknown code');
});
