import { afterEach, describe, it, test } from 'node:test';
import assert from 'node:assert/strict';
import { ARRAY_PRESETS } from '../../lib/localize/arrays';
import { validateSensorInfo } from '../../lib/sensor';
import { waitFor } from '../support/wait';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const helper = require('node-red-node-test-helper');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const sensorNode = require('../../nodes/vigie-sensor');

helper.init(require.resolve('node-red'));

type Any = any; // eslint-disable-line @typescript-eslint/no-explicit-any

const base = { id: 's1', type: 'vigie-sensor', name: 'North corner', sensorId: 'north-1', lat: '45.4397', lon: '4.3872', heightM: '5', headingDeg: '-10', array: 'respeaker-usb-4', clock: 'ntp', clockErrorMs: '' };

describe('vigie-sensor config node', () => {
  afterEach(async () => {
    await helper.unload();
    await helper.stopServer();
  });

  it('exposes the validated sensor: numbers parsed, heading normalised, preset geometry, default clock error', async () => {
    await helper.startServer();
    await helper.load(sensorNode, [base]);
    const n: Any = helper.getNode('s1');
    assert.equal(n.sensorError, undefined);
    assert.deepEqual(n.sensor, {
      id: 'north-1',
      name: 'North corner',
      lat: 45.4397,
      lon: 4.3872,
      heightM: 5,
      headingDeg: 350,
      array: 'respeaker-usb-4',
      mics: ARRAY_PRESETS['respeaker-usb-4'].mics,
      clock: 'ntp',
      clockErrorMs: 5,
    });
  });

  it('custom coordinates are parsed from JSON; a linear array gets a warning, not an error', async () => {
    await helper.startServer();
    await helper.load(sensorNode, [{ ...base, array: 'custom', mics: '[[-0.05,0,0],[0,0,0],[0.05,0,0]]' }]);
    const n: Any = helper.getNode('s1');
    assert.deepEqual(n.sensor.mics, [
      [-0.05, 0, 0],
      [0, 0, 0],
      [0.05, 0, 0],
    ]);
    await waitFor(() => n.warn.args.some((a: Any[]) => /collinear/.test(String(a[0]))), 10_000, 'the warning that the microphones are collinear');
  });

  it('serves the array presets to the editor (admin route)', async () => {
    await helper.startServer();
    await helper.load(sensorNode, [base]);
    const res = await helper.request().get('/vigie/array-presets').expect(200);
    assert.deepEqual(
      res.body.map((p: Any) => p.id),
      Object.keys(ARRAY_PRESETS),
    );
    assert.deepEqual(res.body.find((p: Any) => p.id === 'circular-7').mics, ARRAY_PRESETS['circular-7'].mics);
  });

  for (const [label, patch, field] of [
    ['latitude out of range', { lat: '95' }, /^lat: expected a number from -90 to 90/],
    ['longitude not a number', { lon: 'east' }, /^lon: expected a number from -180 to 180/],
    ['bad sensor id', { sensorId: 'north 1/a' }, /^sensorId: /],
    ['unknown preset', { array: 'hexagon-99' }, /^array: expected one of/],
    ['custom mics not JSON', { array: 'custom', mics: '[[0,0,0],' }, /^mics: expected JSON/],
    ['custom mics too close', { array: 'custom', mics: '[[0,0,0],[0.001,0,0]]' }, /^mics\[0\] and \[1\]: microphones closer than 5 mm/],
    ['custom mic not a triple', { array: 'custom', mics: '[[0,0,0],["a",1,0]]' }, /^mics\[1\]: expected \[x, y, z\]/],
    ['unknown clock', { clock: 'sundial' }, /^clock: expected one of local, ntp, ptp, gps/],
  ] as [string, Record<string, string>, RegExp][]) {
    it(`an invalid configuration (${label}) leaves no sensor and an error naming the field`, async () => {
      await helper.startServer();
      await helper.load(sensorNode, [{ ...base, ...patch }]);
      const n: Any = helper.getNode('s1');
      assert.equal(n.sensor, undefined);
      assert.match(n.sensorError, field);
      assert.ok(n.error.args.some((a: Any[]) => String(a[0]).includes(n.sensorError)));
    });
  }
});

test('validateSensorInfo keeps defaults (mono array, local clock 50 ms, height 4 m)', () => {
  const s = validateSensorInfo({ sensorId: 'x', lat: 1, lon: 2 });
  assert.equal(s.array, 'mono');
  assert.deepEqual(s.mics, [[0, 0, 0]]);
  assert.equal(s.clock, 'local');
  assert.equal(s.clockErrorMs, 50);
  assert.equal(s.heightM, 4);
  assert.equal(s.name, 'x');
});
