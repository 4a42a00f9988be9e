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

  it('a Ground altitude is carried into the sensor (absent when empty); out of range, the error names it', async () => {
    await helper.startServer();
    await helper.load(sensorNode, [
      { ...base, groundAltM: '87.5' },
      { ...base, id: 's2', sensorId: 'north-2', groundAltM: '' },
      { ...base, id: 's3', sensorId: 'north-3', groundAltM: '9100' },
    ]);
    assert.equal(helper.getNode('s1').sensor.groundAltM, 87.5);
    assert.equal('groundAltM' in helper.getNode('s2').sensor, false);
    assert.equal(helper.getNode('s3').sensor, undefined);
    assert.match(helper.getNode('s3').sensorError, /^groundAltM: expected a number from -500 to 9000/);
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

  describe('POST /vigie/sensor/geometry (the form asks it as the user types)', () => {
    const ask = (body: unknown) => helper.request().post('/vigie/sensor/geometry').send(body);
    const square = '[[0,0.05,0],[0.05,0,0],[0,-0.05,0],[-0.05,0,0]]';
    const collinear = '[[-0.05,-0.05,0],[0,0,0],[0.05,0.05,0]]';
    const twoMics = '[[0,0],[0.1,0]]';
    const tooClose = '[[0,0,0],[0.004,0,0],[0,0.05,0]]';

    it('answers with what deploy makes of the same fields: no remark for a square, a warning for collinear or two microphones, errors for refused ones', async () => {
      await helper.startServer();
      await helper.load(sensorNode, [base]);
      assert.deepEqual((await ask({ array: 'custom', mics: square }).expect(200)).body, { errors: [], warnings: [] });
      assert.deepEqual((await ask({ array: 'custom', mics: collinear }).expect(200)).body, { errors: [], warnings: ['mics: collinear microphones measure only the angle from their axis: a bearing and its mirror image (front or back), no elevation'] });
      assert.deepEqual((await ask({ array: 'custom', mics: twoMics }).expect(200)).body, { errors: [], warnings: ['mics: two microphones measure only the angle from their axis: a bearing and its mirror image (front or back), no elevation'] });
      assert.deepEqual((await ask({ array: 'custom', mics: tooClose }).expect(200)).body, { errors: ['mics[0] and [1]: microphones closer than 5 mm'], warnings: [] });
      assert.match((await ask({ array: 'custom', mics: '[[0,0,0],' }).expect(200)).body.errors[0], /^mics: expected JSON/);
      // a preset ignores the positions field, whatever it holds
      assert.deepEqual((await ask({ array: 'square-4', mics: collinear }).expect(200)).body, { errors: [], warnings: [] });
      assert.match((await ask({ array: 'hexagon-99' }).expect(200)).body.errors[0], /^array: expected one of/);
    });

    it('says what deploy logs, word for word', async () => {
      await helper.startServer();
      const flow = [collinear, twoMics, tooClose].map((mics, i) => ({ ...base, id: `s${i}`, sensorId: `n${i}`, array: 'custom', mics }));
      await helper.load(sensorNode, flow);
      for (const [i, def] of flow.entries()) {
        const answer = (await ask({ array: def.array, mics: def.mics }).expect(200)).body;
        const n: Any = helper.getNode(def.id);
        // the helper's warn spy is shared by every node: this sensor's lines carry its id
        const prefix = `sensor "n${i}": `;
        const warned = n.warn.args.map((a: Any[]) => String(a[0])).filter((w: string) => w.startsWith(prefix)).map((w: string) => w.slice(prefix.length));
        assert.deepEqual(answer.warnings, warned, `${def.mics}: the warnings`);
        assert.equal(answer.errors.join('; ') || undefined, n.sensorError, `${def.mics}: the error`);
      }
    });

    for (const [label, body, error] of [
      ['no array', { mics: square }, /^array: expected a preset id or "custom" \(a string\), got undefined$/],
      ['array not a string', { array: 4, mics: square }, /^array: expected .*, got 4$/],
      ['custom without positions', { array: 'custom' }, /^mics: expected the Mic positions text \(a string, JSON such as .*\), got undefined$/],
      ['positions as a list, not the field text', { array: 'custom', mics: [[0, 0, 0], [0.1, 0, 0]] }, /^mics: expected .*, got an array of 2$/],
      ['a list for a body', [{ array: 'custom', mics: square }], /^body: expected a JSON object \{array, mics\}, got an array of 1$/],
    ] as [string, unknown, RegExp][]) {
      it(`refuses a malformed body (${label}) with 400, naming the field and what was expected`, async () => {
        await helper.startServer();
        await helper.load(sensorNode, [base]);
        const res = await ask(body).expect(400);
        assert.match(res.body.error, error);
      });
    }
  });

  for (const [label, patch, field] of [
    ['latitude out of range', { lat: '95' }, /^lat: expected a number from -90 to 90/],
    ['longitude not a number', { lon: 'east' }, /^lon: expected a number from -180 to 180, got "east"$/],
    ['latitude left empty', { lat: '' }, /^lat: expected a number from -90 to 90, got ""$/],
    ['clock error out of range', { clockErrorMs: '-1' }, /^clockErrorMs: expected a number from 0 to 60000, got "-1"$/],
    ['bad sensor id', { sensorId: 'north 1/a' }, /^sensorId: /],
    ['unknown preset', { array: 'hexagon-99' }, /^array: expected one of/],
    ['custom mics not JSON', { array: 'custom', mics: '[[0,0,0],' }, /^mics: expected JSON/],
    ['custom mics too close', { array: 'custom', mics: '[[0,0,0],[0.001,0,0]]' }, /^mics\[0\] and \[1\]: microphones closer than 5 mm/],
    ['custom mic not a triple', { array: 'custom', mics: '[[0,0,0],["a",1,0]]' }, /^mics\[1\]: expected \[x, y, z\]/],
    ['unknown clock', { clock: 'sundial' }, /^clock: expected one of local, ntp, ptp, gps/],
    // As the shipped gateway flow imported where its variables are not set: Node-RED leaves the references.
    ['variables not set', { sensorId: '${VIGIE_TEST_UNSET_ID}', lat: '${VIGIE_TEST_UNSET_LAT}' }, /^sensorId: .*; environment variables not set where Node-RED runs: VIGIE_TEST_UNSET_ID \(sensorId\), VIGIE_TEST_UNSET_LAT \(lat\)$/],
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

test('validateSensorInfo keeps defaults (mono array, local clock 50 ms, height 4 m), and gives the warnings with the sensor', () => {
  const { sensor: s, warnings } = validateSensorInfo({ sensorId: 'x', lat: 1, lon: 2 });
  assert.equal(s.array, 'mono');
  assert.deepEqual(s.mics, [[0, 0, 0]]);
  assert.equal(s.clock, 'local');
  assert.equal(s.clockErrorMs, 50);
  assert.equal(s.heightM, 4);
  assert.equal(s.name, 'x');
  assert.deepEqual(warnings, [], 'one microphone: nothing to say');
  // the warnings deploy logs come with the sensor (the node logs them as they are)
  const linear = validateSensorInfo({ sensorId: 'x', lat: 1, lon: 2, array: 'custom', mics: '[[-0.05,0,0],[0,0,0],[0.05,0,0]]' });
  assert.deepEqual(linear.warnings, ['mics: collinear microphones measure only the angle from their axis: a bearing and its mirror image (front or back), no elevation']);
  assert.equal(validateSensorInfo({ sensorId: 'x', lat: 1, lon: 2, clock: 'gps' }).sensor.clockErrorMs, 0.001, 'the clock error by clock');
  assert.throws(() => validateSensorInfo({ sensorId: 'x', lon: 2 }), /^ContractError: lat: expected a number from -90 to 90$/, 'the position is required');
});
