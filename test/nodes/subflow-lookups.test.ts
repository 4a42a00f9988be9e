/**
 * Cameras and sensors inside a Node-RED subflow with two instances (real runtime,
 * node-red-node-test-helper; virtual ONVIF cameras on 127.0.0.1). Each instance's nodes run
 * under the ids "<instance>-<node>", and Node-RED does not rewrite a list of ids such as
 * ptz-steer's ticked cameras: the nodes find their cameras and sensors among the deployed ones.
 */
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualCamera } from '../../lib/sim/camera/virtual-camera';
import { destination } from '../../lib/camera/geometry';
import { waitFor } from '../support/wait';
import { capturedSensorNodes } from '../../lib/util/deployed-nodes';
import { warningsOf } from '../support/node-red-log';
import { locatedAlert } from '../support/detections';
import { collect, helper } from '../support/node-red-helper';
import { startVirtualCamera, stopVirtualCameras } from '../support/virtual-cameras';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const ptzSteer = require('../../nodes/ptz-steer');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const vigieCamera = require('../../nodes/vigie-camera');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const vigieSensor = require('../../nodes/vigie-sensor');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const localizer = require('../../nodes/localizer');

type Any = any; // eslint-disable-line @typescript-eslint/no-explicit-any

const ORIGIN = { lat: 45.4397, lon: 4.3872 };

const env = (values: Record<string, string>) => Object.entries(values).map(([name, value]) => ({ name, type: 'str', value }));

/** Every request a camera received that is not a read-only Get*: a move, Stop, a preset. */
const actions = (cam: VirtualCamera) => cam.calls.filter((c) => !c.action.startsWith('Get')).map((c) => c.action);

/** The texts of the statuses a node showed, oldest first (the helper's spy records every node's). */
function statusTexts(id: string): string[] {
  const n = helper.getNode(id);
  return (n?.status?.getCalls() ?? []).filter((c: Any) => c.thisValue === n).map((c: Any) => String(c.args[0]?.text ?? ''));
}

const statusText = (id: string): string => statusTexts(id).at(-1) ?? '';

describe('ptz-steer and vigie-camera in a subflow with two instances', { timeout: 120_000 }, () => {
  afterEach(async () => {
    await helper.unload();
    await helper.stopServer();
    await stopVirtualCameras();
  });

  /**
   * A subflow "camera site" holding cameras A and B (ids and ports from the instance's env) and a
   * ptz-steer with both ticked; instances i1 and i2; at the top level a ptz-steer on every camera
   * and one with camera A of the subflow ticked.
   */
  async function twoSites() {
    const [c1a, c1b, c2a, c2b] = [await startVirtualCamera(), await startVirtualCamera(), await startVirtualCamera(), await startVirtualCamera()];
    const camera = (id: string, letter: string) => ({ id, type: 'vigie-camera', z: 'sf', cameraId: `\${CAM_${letter}}`, name: `camera ${letter}`, host: '127.0.0.1', port: `\${PORT_${letter}}`, lat: ORIGIN.lat, lon: ORIGIN.lon, heightM: 6, mountHeadingDeg: 0, maxRangeM: 300 });
    const flow = [
      { id: 'tab', type: 'tab', label: 'site' },
      { id: 'sf', type: 'subflow', name: 'camera site', in: [{ x: 50, y: 30, wires: [{ id: 'steer' }] }], out: [{ x: 300, y: 30, wires: [{ id: 'steer', port: 0 }] }, { x: 300, y: 80, wires: [{ id: 'steer', port: 1 }] }] },
      camera('sa', 'A'),
      camera('sb', 'B'),
      // Two ticked: Node-RED rewrites a property holding one id of the subflow, not a list of two.
      { id: 'steer', type: 'ptz-steer', z: 'sf', x: 150, y: 30, cameras: ['sa', 'sb'], mode: 'automatic', returnHomeS: 0, wires: [[], []] },
      // Nodes of a flow have a position (x, y): without one Node-RED takes them for config nodes.
      { id: 'i1', type: 'subflow:sf', z: 'tab', x: 100, y: 100, env: env({ CAM_A: 'cam-1a', PORT_A: String(c1a.port), CAM_B: 'cam-1b', PORT_B: String(c1b.port) }), wires: [['out1'], ['err1']] },
      { id: 'i2', type: 'subflow:sf', z: 'tab', x: 100, y: 200, env: env({ CAM_A: 'cam-2a', PORT_A: String(c2a.port), CAM_B: 'cam-2b', PORT_B: String(c2b.port) }), wires: [['out2'], ['err2']] },
      { id: 'every', type: 'ptz-steer', z: 'tab', x: 100, y: 300, cameras: [], mode: 'automatic', returnHomeS: 0, wires: [['outTop'], ['errTop']] },
      { id: 'ticked', type: 'ptz-steer', z: 'tab', x: 100, y: 400, cameras: ['sa'], mode: 'confirm', returnHomeS: 0, wires: [[], []] },
      ...['out1', 'err1', 'out2', 'err2', 'outTop', 'errTop'].map((id, i) => ({ id, type: 'helper', z: 'tab', x: 400, y: 100 + 50 * i })),
    ];
    await helper.startServer();
    await helper.load([vigieCamera, ptzSteer], flow, { sa: { username: 'op', password: 'pw' }, sb: { username: 'op', password: 'pw' } });
    const got = Object.fromEntries(['out1', 'err1', 'out2', 'err2', 'outTop', 'errTop'].map((id) => [id, collect(helper.getNode(id))]));
    return { got, site1: [c1a, c1b], site2: [c2a, c2b] };
  }

  it('each instance\'s ptz-steer turns a camera of its own instance, ticked by definition', async () => {
    const { got, site1, site2 } = await twoSites();
    const target = destination(ORIGIN, 60, 50);

    helper.getNode('i1').receive({ payload: locatedAlert('a1', target) });
    await waitFor(() => got.out1.length + got.err1.length >= 1, 20_000, 'the alert out of instance 1');
    assert.deepEqual(got.err1.map((m) => m.error), [], 'instance 1 found no camera');
    const c1 = got.out1[0].payload.camera;
    assert.ok(['cam-1a', 'cam-1b'].includes(c1.id), `instance 1 turned ${c1.id}`);
    assert.equal(c1.state, 'on-target');
    assert.ok(site1.some((c) => Math.abs(c.pose.panDeg - 60) <= 1), 'a camera of site 1 looks at the alert');
    assert.deepEqual(site2.flatMap(actions), [], 'no camera of site 2 was asked to move');

    helper.getNode('i2').receive({ payload: locatedAlert('a2', target) });
    await waitFor(() => got.out2.length + got.err2.length >= 1, 20_000, 'the alert out of instance 2');
    assert.deepEqual(got.err2.map((m) => m.error), [], 'instance 2 found no camera');
    const c2 = got.out2[0].payload.camera;
    assert.ok(['cam-2a', 'cam-2b'].includes(c2.id), `instance 2 turned ${c2.id}`);
    assert.ok(site2.some((c) => Math.abs(c.pose.panDeg - 60) <= 1), 'a camera of site 2 looks at the alert');
    // Each inner ptz-steer uses its own instance's two cameras, never the other instance's.
    assert.ok(statusTexts('i1-steer').includes('2 cameras connected'), statusTexts('i1-steer').join(' | '));
    assert.deepEqual(statusTexts('i1-steer').filter((t) => t.includes('cam-2')), []);
    assert.deepEqual(statusTexts('i2-steer').filter((t) => t.includes('cam-1')), []);
  });

  it('a top-level ptz-steer on every camera uses the cameras inside the subflow instances; one ticking a subflow camera, each instance\'s copy', async () => {
    const { got } = await twoSites();
    await waitFor(() => statusText('every') === '4 cameras connected', 20_000, `every: 4 cameras connected (status "${statusText('every')}")`);
    await waitFor(() => statusText('ticked') === '2 cameras connected, confirm mode', 20_000, `ticked: 2 cameras (status "${statusText('ticked')}")`);
    helper.getNode('every').receive({ payload: locatedAlert('top', destination(ORIGIN, 120, 40)) });
    await waitFor(() => got.outTop.length + got.errTop.length >= 1, 20_000, 'the alert out of the top-level ptz-steer');
    assert.deepEqual(got.errTop.map((m) => m.error), []);
    assert.ok(['cam-1a', 'cam-1b', 'cam-2a', 'cam-2b'].includes(got.outTop[0].payload.camera.id), got.outTop[0].payload.camera.id);
    assert.equal(got.outTop[0].payload.camera.state, 'on-target');
  });
});

describe('localizer and vigie-sensor in a subflow with two instances', { timeout: 60_000 }, () => {
  afterEach(async () => {
    await helper.unload();
    await helper.stopServer();
  });

  const detection = (sensor: string) => ({
    kind: 'detection',
    id: `det-${sensor}`,
    sensor,
    label: 'gunshot',
    confidence: 0.9,
    onset: Date.now() / 1000,
    offset: Date.now() / 1000 + 0.3,
    level: { dbfs: -20 },
    scores: { gunshot: 0.9 },
    span: { sensor, start: 0, frames: 100 },
  });

  /**
   * A subflow "mast" holding a vigie-sensor (id, heading and latitude from the instance's env) and
   * a localizer with no sensor chosen; instances i1 and i2; a top-level localizer with none either.
   */
  function masts(sensorIds: [string, string]) {
    return [
      { id: 'tab', type: 'tab', label: 'masts' },
      { id: 'sf', type: 'subflow', name: 'mast', in: [{ x: 50, y: 30, wires: [{ id: 'loc' }] }], out: [{ x: 300, y: 30, wires: [{ id: 'loc', port: 0 }] }], env: env({ SENSOR_ID: 'unset', HEADING: '0', LAT: '0' }) },
      { id: 'sen', type: 'vigie-sensor', z: 'sf', name: 'mast array', sensorId: '${SENSOR_ID}', lat: '${LAT}', lon: String(ORIGIN.lon), heightM: '4', headingDeg: '${HEADING}', array: 'square-4', clock: 'ntp', clockErrorMs: '' },
      { id: 'loc', type: 'localizer', z: 'sf', x: 150, y: 30, mode: 'single', sensor: '', wires: [[]] },
      { id: 'i1', type: 'subflow:sf', z: 'tab', x: 100, y: 100, env: env({ SENSOR_ID: sensorIds[0], HEADING: '30', LAT: String(ORIGIN.lat) }), wires: [['out1']] },
      { id: 'i2', type: 'subflow:sf', z: 'tab', x: 100, y: 200, env: env({ SENSOR_ID: sensorIds[1], HEADING: '200', LAT: String(ORIGIN.lat + 0.001) }), wires: [['out2']] },
      { id: 'top', type: 'localizer', z: 'tab', x: 100, y: 300, mode: 'single', sensor: '', wires: [['outTop']] },
      ...['out1', 'out2', 'outTop'].map((id, i) => ({ id, type: 'helper', z: 'tab', x: 400, y: 100 + 100 * i })),
    ];
  }

  async function locate(node: string, out: string, sensor: string): Promise<Any> {
    const got = collect(helper.getNode(out));
    helper.getNode(node).receive({ payload: detection(sensor) });
    await waitFor(() => got.length === 1, 10_000, `a detection out of ${node}`);
    return got[0].payload;
  }

  it('a top-level localizer finds the sensor of each instance by its id from the instance\'s env', async () => {
    await helper.startServer();
    await helper.load([vigieSensor, localizer], masts(['mast-1', 'mast-2']));
    assert.deepEqual(await locate('top', 'outTop', 'mast-2').then((p) => [p.sensorInfo?.heading, p.sensorInfo?.lat]), [200, ORIGIN.lat + 0.001]);
    assert.deepEqual(await locate('top', 'outTop', 'mast-1').then((p) => [p.sensorInfo?.heading, p.sensorInfo?.lat]), [30, ORIGIN.lat]);
  });

  it('a localizer inside an instance takes its own instance\'s sensor when both instances use the same sensor id', async () => {
    await helper.startServer();
    await helper.load([vigieSensor, localizer], masts(['mast', 'mast']));
    assert.equal((await locate('i1', 'out1', 'mast')).sensorInfo?.heading, 30);
    assert.equal((await locate('i2', 'out2', 'mast')).sensorInfo?.heading, 200);
  });

  it('a top-level localizer and two instances\' sensors with one id: no guess; the ambiguity is named (once in the log), unless a mic-capture of this process captures for one of them', async () => {
    await helper.startServer();
    await helper.load([vigieSensor, localizer], masts(['mast', 'mast']));
    helper.log().resetHistory();
    for (let i = 0; i < 2; i++) {
      const p = await locate('top', 'outTop', 'mast');
      assert.equal(p.sensorInfo, undefined, 'no sensor\'s position taken');
      assert.equal(p.location.method, 'none');
      assert.equal(p.location.reason, 'sensor "mast": 2 vigie-sensor nodes have this Sensor id ("mast array" (node sen, in subflow instance i1), "mast array" (node sen, in subflow instance i2)) and no mic-capture of this process captures for it: choose one in the localizer\'s Sensor field, or give each its own id');
    }
    assert.equal(warningsOf(helper, 'top').filter((w) => w.includes('2 vigie-sensor nodes')).length, 1, 'warned once');
    // the one whose microphones heard it (the mic-capture of that sensor id: one per process)
    capturedSensorNodes.set('mast', helper.getNode('i2-sen'));
    try {
      assert.equal((await locate('top', 'outTop', 'mast')).sensorInfo?.heading, 200);
    } finally {
      capturedSensorNodes.delete('mast');
    }
  });

  it('two sensors with one id in the same place (top level, or one instance) : the second is refused, naming the field and the first', async () => {
    await helper.startServer();
    const flow: Any[] = masts(['mast-1', 'mast-2']);
    // a stale copy in the subflow's template, and a second top-level pair
    flow.push(
      { id: 'sen2', type: 'vigie-sensor', z: 'sf', name: 'stale copy', sensorId: '${SENSOR_ID}', lat: String(ORIGIN.lat), lon: String(ORIGIN.lon), heightM: '4', headingDeg: '180', array: 'square-4', clock: 'ntp', clockErrorMs: '' },
      { id: 'topA', type: 'vigie-sensor', name: 'corner', sensorId: 'corner', lat: String(ORIGIN.lat), lon: String(ORIGIN.lon), heightM: '4', headingDeg: '10', array: 'square-4', clock: 'ntp', clockErrorMs: '' },
      { id: 'topB', type: 'vigie-sensor', name: 'corner again', sensorId: 'corner', lat: String(ORIGIN.lat), lon: String(ORIGIN.lon), heightM: '4', headingDeg: '190', array: 'square-4', clock: 'ntp', clockErrorMs: '' },
    );
    await helper.load([vigieSensor, localizer], flow);
    assert.equal((helper.getNode('topA') as Any).sensorError, undefined);
    assert.equal(
      (helper.getNode('topB') as Any).sensorError,
      'sensorId: "corner" is already the Sensor id of vigie-sensor "corner" (node topA); expected an id of its own (the localizer finds a sensor\'s position and heading by it): this sensor is not used',
    );
    assert.equal((await locate('top', 'outTop', 'corner')).sensorInfo?.heading, 10);
    for (const instance of ['i1', 'i2']) {
      assert.match(String((helper.getNode(`${instance}-sen2`) as Any).sensorError), new RegExp(`^sensorId: "mast-\\d" is already the Sensor id of vigie-sensor "mast array" \\(node sen, in subflow instance ${instance}\\)`));
    }
    assert.equal((await locate('i1', 'out1', 'mast-1')).sensorInfo?.heading, 30);
  });
});
