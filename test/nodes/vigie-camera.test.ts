/**
 * vigie-camera config node: credentials stay in credentials, the connection is registered for
 * other nodes, and the editor's "Test connection" admin route lists profiles and presets
 * (using the stored password when the form's field is unchanged).
 */
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualCamera } from '../../lib/sim/camera/virtual-camera';
import { findCamera, listCameras } from '../../lib/camera/registry';
import { waitFor } from '../support/wait';
import { startRtspServer } from '../support/video-sources';
import { warningsOf } from '../support/node-red-log';
import { startTlsFront } from '../support/tls-front';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const helper = require('node-red-node-test-helper');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const vigieCamera = require('../../nodes/vigie-camera');

helper.init(require.resolve('node-red'));

type Any = any; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('vigie-camera node', () => {
  let cam: VirtualCamera;
  beforeEach(async () => {
    cam = new VirtualCamera({ username: 'op', password: 's3cret' });
    await cam.start();
    await helper.startServer();
  });
  afterEach(async () => {
    await helper.unload();
    await helper.stopServer();
    await cam.stop();
  });

  const flow = () => [
    { id: 'cfg1', type: 'vigie-camera', cameraId: 'dome-1', name: 'Dome 1', host: '127.0.0.1', port: cam.port, lat: 45, lon: 4, heightM: 7, blindSectors: '300-20' },
  ];

  it('registers its connection by camera id and keeps secrets out of the flow', async () => {
    await helper.load(vigieCamera, flow(), { cfg1: { username: 'op', password: 's3cret' } });
    const n = helper.getNode('cfg1') as Any;
    assert.equal(n.camera.id, 'dome-1');
    assert.deepEqual(n.camera.blindSectors, [{ fromDeg: 300, toDeg: 20 }]);
    assert.ok(!('password' in n.camera));
    const h = findCamera('dome-1');
    assert.ok(h);
    assert.equal(h!.name, 'Dome 1');
    assert.equal(await h!.getSnapshotUri(), `http://127.0.0.1:${cam.port}/snapshot.jpg`);
    assert.equal(h!.state, 'connected');
    await helper.unload();
    assert.equal(findCamera('dome-1'), undefined, 'deregistered on close');
    assert.equal(listCameras().length, 0);
  });

  it('configured URLs override ONVIF; a password written in one is warned about, naming the field', async () => {
    helper.log().resetHistory();
    await helper.load(vigieCamera, [{ ...flow()[0], streamUrl: 'rtsp://op:hunter2@10.1.1.1/main', snapshotUrl: 'http://10.1.1.1/snap.jpg' }], { cfg1: { username: 'op', password: 's3cret' } });
    const warned = warningsOf(helper, 'cfg1');
    assert.equal(warned.length, 1, warned.join('\n'));
    assert.match(warned[0], /^streamUrl: the password in this URL is saved in plain text/);
    assert.ok(!warned[0].includes('hunter2'), 'the warning never repeats the password');
    await helper.unload();
    await helper.load(vigieCamera, [{ ...flow()[0], streamUrl: 'rtsp://10.1.1.1/main', snapshotUrl: 'http://10.1.1.1/snap.jpg' }], { cfg1: { username: 'op', password: 's3cret' } });
    assert.equal(await findCamera('dome-1')!.getStreamUri(), 'rtsp://10.1.1.1/main');
    assert.equal(await findCamera('dome-1')!.getSnapshotUri(), 'http://10.1.1.1/snap.jpg');
    assert.ok(!cam.calls.some((c) => c.action === 'GetStreamUri'));
  });

  it('an unreachable camera is warned about once, not at every retry; the last user leaving stops the retries', async () => {
    await cam.stop();
    await helper.load(vigieCamera, flow(), { cfg1: { username: 'op', password: 's3cret' } });
    const n = helper.getNode('cfg1') as Any;
    const warnings: string[] = [];
    n.on('call:warn', (c: Any) => warnings.push(String(c.args[0])));
    const states: string[] = [];
    n.connection.on('state', (st: string) => states.push(st));
    n.registerUser({ id: 'user-1' });
    // Back-off from 0.5 s: three failed attempts within about 4 s.
    await waitFor(() => states.filter((st) => st === 'failed').length >= 3, 20_000, 'three failed attempts');
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.match(warnings[0], /camera "dome-1": .*retrying with back-off/);
    n.deregisterUser({ id: 'user-1' });
    assert.equal(n.connection.state, 'closed');
    // Used again, failing again at once: its next retry would come 0.5 s later (back-off afresh).
    const before = states.filter((st) => st === 'failed').length;
    n.registerUser({ id: 'user-2' });
    await waitFor(() => states.filter((st) => st === 'failed').length > before, 20_000, 'a new failed attempt');
    n.deregisterUser({ id: 'user-2' });
    const seen = states.length;
    // A negative check, so a fixed wait: no attempt may follow. The retry was timed at that
    // failure, before this timer, for 0.6 s at most (0.5 s ± 20 %), so it would fire first and
    // say 'connecting' at once.
    await new Promise((r) => setTimeout(r, 800));
    assert.deepEqual(states.slice(seen), [], 'no attempt after the last user left');
    // A new user connects again, to the camera now back.
    await cam.start();
    n.registerUser({ id: 'user-3' });
    await waitFor(() => n.connection.state === 'connected', 20_000, 'connected to the camera back');
  });

  it('a wrong password is warned about with the slow retry and why, and not tried again at once', async () => {
    await helper.load(vigieCamera, flow(), { cfg1: { username: 'op', password: 'wrong' } });
    const n = helper.getNode('cfg1') as Any;
    const warnings: string[] = [];
    n.on('call:warn', (c: Any) => warnings.push(String(c.args[0])));
    n.registerUser({ id: 'user-1' });
    await waitFor(() => n.connection.state === 'failed', 20_000, 'the login refused');
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.match(warnings[0], /camera "dome-1": connect: authentication failed .*; retrying every 5 min only, as the camera may lock out repeated wrong logins$/);
    const refused = cam.calls.filter((c) => c.fault).length;
    await assert.rejects(n.connection.ensureConnected(), (e: Any) => e.code === 'auth');
    assert.equal(cam.calls.filter((c) => c.fault).length, refused, 'no login tried for the command');
    n.deregisterUser({ id: 'user-1' });
  });

  it('an unusable configuration is reported with the field, and the runtime keeps going', async () => {
    await helper.load(vigieCamera, [{ ...flow()[0], lat: 'north' }], { cfg1: { username: 'op', password: 's3cret' } });
    const n = helper.getNode('cfg1') as Any;
    assert.match(n.cameraError, /camera\.lat: expected a number/);
    assert.equal(n.connection, undefined);
  });

  it('a setting naming an environment variable that is not set says so', async () => {
    await helper.load(vigieCamera, [{ ...flow()[0], lat: '${VIGIE_TEST_UNSET_LAT}' }], { cfg1: { username: 'op', password: 's3cret' } });
    const n = helper.getNode('cfg1') as Any;
    assert.match(n.cameraError, /^camera\.lat: expected a number.*; environment variable not set where Node-RED runs: VIGIE_TEST_UNSET_LAT \(lat\)$/);
  });

  it('"Test connection" lists profiles and presets, with the stored password when the field is unchanged', async () => {
    await helper.load(vigieCamera, flow(), { cfg1: { username: 'op', password: 's3cret' } });
    const form = { id: 'cfg1', host: '127.0.0.1', port: String(cam.port), username: 'op' };
    const r1 = await helper.request().post('/vigie/camera/test').send({ ...form, password: '__PWRD__' }).expect(200);
    assert.equal(r1.body.ok, true, JSON.stringify(r1.body));
    assert.deepEqual(r1.body.profiles.map((p: Any) => p.token), ['profile_1']);
    assert.equal(r1.body.profiles[0].ptz, true);
    assert.deepEqual(r1.body.presets.map((p: Any) => p.name), ['Home', 'East', 'South', 'West']);
    assert.equal(r1.body.capabilities.absolute, true);
    const r2 = await helper.request().post('/vigie/camera/test').send({ ...form, password: 'wrong' }).expect(200);
    assert.equal(r2.body.ok, false);
    assert.equal(r2.body.code, 'auth');
    assert.match(r2.body.error, /authentication failed/);
    assert.ok(!JSON.stringify(r2.body).includes('s3cret'));
    const r3 = await helper.request().post('/vigie/camera/test').send({ ...form, password: '__PWRD__', profileToken: 'nope' }).expect(200);
    assert.equal(r3.body.ok, false);
    assert.match(r3.body.error, /profile "nope" not found; the camera has: profile_1/);
    // Failed, yet the profiles it read are offered, to choose the right one.
    assert.deepEqual(r3.body.profiles.map((p: Any) => [p.token, p.ptz]), [['profile_1', true]]);
    // An emptied password field is what deploy would save: tried as it is, not replaced by the stored one.
    const r5 = await helper.request().post('/vigie/camera/test').send({ ...form, password: '' }).expect(200);
    assert.equal(r5.body.ok, false, 'the camera refuses an empty password');
    assert.equal(r5.body.code, 'auth');
    // An emptied user with the password unchanged: the stored user (the form may not hold it); with a typed password, not.
    const r6 = await helper.request().post('/vigie/camera/test').send({ ...form, username: '', password: '__PWRD__' }).expect(200);
    assert.equal(r6.body.ok, true, JSON.stringify(r6.body));
    const r7 = await helper.request().post('/vigie/camera/test').send({ ...form, username: '', password: 's3cret' }).expect(200);
    assert.equal(r7.body.ok, false);
    assert.equal(r7.body.code, 'auth');
    const r4 = await helper.request().post('/vigie/camera/test').send({ host: '127.0.0.1', port: '1', username: 'op', password: 'x' }).expect(200);
    assert.equal(r4.body.ok, false);
    assert.equal(r4.body.code, 'unreachable');
  });

  it('"Test connection" resolves ${NAME} as Node-RED does for the node: global-config env for a new camera, its subflow instance\'s env when deployed there; an unset one is named, not replaced by a default', async () => {
    const globalConfig = require('@node-red/nodes/core/common/91-global-config.js');
    const f = [
      { id: 'tab', type: 'tab', label: 't' },
      { id: 'gc', type: 'global-config', env: [{ name: 'VIGIE_TEST_CAM_PORT', type: 'str', value: String(cam.port) }] },
      { id: 'sf', type: 'subflow', name: 'site', in: [], out: [], env: [{ name: 'SITE_CAM_PORT', type: 'str', value: '1' }] },
      { id: 'scam', type: 'vigie-camera', z: 'sf', cameraId: 'site-cam', host: '127.0.0.1', port: '${SITE_CAM_PORT}', lat: 45, lon: 4 },
      // A node of a flow has a position: without one Node-RED takes it for a config node.
      { id: 'site-a', type: 'subflow:sf', z: 'tab', x: 100, y: 100, env: [{ name: 'SITE_CAM_PORT', type: 'str', value: String(cam.port) }], wires: [] },
    ];
    await helper.load([vigieCamera, globalConfig], f, { scam: { username: 'op', password: 's3cret' } });
    // A camera not deployed yet (no id Node-RED knows): the global-config env.
    const fresh = await helper.request().post('/vigie/camera/test').send({ host: '127.0.0.1', port: '${VIGIE_TEST_CAM_PORT}', username: 'op', password: 's3cret' }).expect(200);
    assert.equal(fresh.body.ok, true, JSON.stringify(fresh.body));
    // The camera inside the subflow, with its stored login: the instance's env, not the subflow's default.
    const inSubflow = await helper.request().post('/vigie/camera/test').send({ id: 'scam', host: '127.0.0.1', port: '${SITE_CAM_PORT}', username: 'op', password: '__PWRD__' }).expect(200);
    assert.equal(inSubflow.body.ok, true, JSON.stringify(inSubflow.body));
    // Set nowhere: said so, not tried on port 80.
    const unset = await helper.request().post('/vigie/camera/test').send({ host: '127.0.0.1', port: '${VIGIE_TEST_UNSET_PORT}', username: 'op', password: 's3cret' }).expect(200);
    assert.equal(unset.body.ok, false);
    assert.equal(unset.body.error, 'environment variable VIGIE_TEST_UNSET_PORT is not set where Node-RED runs');
  });

  it('"Test connection" with a Stream URL on plain rtsp:// that asks for Basic only: a notice says the password would cross readable', async () => {
    const basicRtsp = await startRtspServer({ user: 'op', password: 's3cret' });
    try {
      await helper.load(vigieCamera, flow(), { cfg1: { username: 'op', password: 's3cret' } });
      const form = { id: 'cfg1', host: '127.0.0.1', port: String(cam.port), username: 'op', password: '__PWRD__' };
      const basic = await helper.request().post('/vigie/camera/test').send({ ...form, streamUrl: basicRtsp.url }).timeout(30_000).expect(200);
      assert.equal(basic.body.ok, true, JSON.stringify(basic.body));
      assert.equal(basic.body.notices.length, 1, JSON.stringify(basic.body.notices));
      assert.match(basic.body.notices[0], new RegExp(`^the stream rtsp://127\\.0\\.0\\.1:${basicRtsp.port} asks for Basic authentication only: .*Digest .*rtsps://$`));
      // The camera's own stream over ONVIF (http:, the virtual camera's): nothing to say.
      const own = await helper.request().post('/vigie/camera/test').send(form).timeout(30_000).expect(200);
      assert.deepEqual(own.body.notices, []);
    } finally {
      await basicRtsp.stop();
    }
  });

  it('"Test connection" of a multi-sensor camera without presets: the PTZ profile is chosen and said, no presets is a notice, not a failure', async () => {
    const other = new VirtualCamera({ username: 'op', password: 's3cret', panoramaProfileFirst: true, refusePresets: true });
    await other.start();
    try {
      await helper.load(vigieCamera, flow(), { cfg1: { username: 'op', password: 's3cret' } });
      const form = { id: 'cfg1', host: '127.0.0.1', port: String(other.port), username: 'op', password: '__PWRD__' };
      const r = await helper.request().post('/vigie/camera/test').send(form).timeout(30_000).expect(200);
      assert.equal(r.body.ok, true, JSON.stringify(r.body));
      assert.equal(r.body.profileToken, 'profile_1');
      assert.match(r.body.profileChoice, /the first with a PTZ configuration/);
      assert.deepEqual(r.body.profiles.map((p: Any) => p.token), ['pano_1', 'profile_1']);
      assert.deepEqual(r.body.presets, []);
      assert.equal(r.body.notices.length, 1);
      assert.match(r.body.notices[0], /no presets read/);
    } finally {
      await other.stop();
    }
  });

  it('"Test connection" of a camera that closes the connection part-way through its reply answers "unreachable" instead of hanging', async () => {
    await helper.load(vigieCamera, flow(), { cfg1: { username: 'op', password: 's3cret' } });
    cam.halfReply(['GetPresets']);
    const form = { id: 'cfg1', host: '127.0.0.1', port: String(cam.port), username: 'op', password: '__PWRD__' };
    // Bound: the command's deadline (5 s) and some; a hung request fails the test with a timeout.
    const r = await helper.request().post('/vigie/camera/test').send(form).timeout(30_000).expect(200);
    assert.equal(r.body.ok, false, JSON.stringify(r.body));
    assert.equal(r.body.code, 'unreachable');
    assert.match(r.body.error, /^connect: GetPresets: camera unreachable: no complete answer within 5000 ms/);
    assert.ok(cam.calls.some((c) => c.action === 'GetPresets' && c.halfReplied));
  });
  it('"Test connection" with HTTPS: the form\'s HTTPS and certificate settings reach the camera over TLS; a self-signed certificate checked is refused with the advice', async () => {
    const front = await startTlsFront(cam.port);
    try {
      await helper.load(vigieCamera, flow(), { cfg1: { username: 'op', password: 's3cret' } });
      // the form sends its checkboxes as booleans
      const form = { id: 'cfg1', host: '127.0.0.1', port: String(front.port), username: 'op', password: '__PWRD__' };
      const ok = await helper.request().post('/vigie/camera/test').send({ ...form, https: true, httpsVerify: false }).timeout(30_000).expect(200);
      assert.equal(ok.body.ok, true, JSON.stringify(ok.body));
      assert.deepEqual(ok.body.profiles.map((p: Any) => p.token), ['profile_1']);
      assert.ok(front.handshakes >= 1, 'over TLS');
      const checked = await helper.request().post('/vigie/camera/test').send({ ...form, https: true, httpsVerify: true }).timeout(30_000).expect(200);
      assert.equal(checked.body.ok, false);
      assert.equal(checked.body.code, 'unreachable');
      assert.match(checked.body.error, /the camera's certificate is not trusted \(self-signed\?\): untick "Check its certificate"/);
      const plain = await helper.request().post('/vigie/camera/test').send({ ...form, https: false }).timeout(30_000).expect(200);
      assert.equal(plain.body.ok, false);
      assert.match(plain.body.error, /tick HTTPS in the camera's settings/);
    } finally {
      await front.close();
    }
  });
});
