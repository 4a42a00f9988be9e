/**
 * ONVIF over HTTPS: the real `onvif` client (through CameraConnection) against the virtual
 * camera behind a real TLS front with a self-signed certificate, as an HTTPS-only camera. With
 * HTTPS and the certificate check off it connects and moves; with the check on it fails with
 * the certificate advice; without HTTPS (or with HTTPS towards a plain HTTP port) it fails
 * with advice on the HTTPS setting. The settings as the config node reads them.
 */
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualCamera } from '../../lib/sim/camera/virtual-camera';
import { CameraConnection } from '../../lib/camera/connection';
import { cameraConfigFromNode } from '../../lib/camera/config';
import { moveToTarget } from '../../lib/camera/mover';
import { CameraConfig } from '../../lib/camera/types';
import { loopbackCamera } from '../support/camera-config';
import { startTlsFront } from '../support/tls-front';

const USER = 'operator';
const PASS = 'correct horse';
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

/** The virtual camera, reachable over HTTPS only through the front (and over HTTP on its own port). */
async function startHttpsCamera() {
  const cam = new VirtualCamera({ username: USER, password: PASS, panSpeedDegPerS: 720, tiltSpeedDegPerS: 360, zoomSpeedPerS: 4 });
  const { onvifPort } = await cam.start();
  cleanups.push(() => cam.stop());
  const front = await startTlsFront(onvifPort);
  cleanups.push(() => front.close());
  return { cam, httpPort: onvifPort, front };
}

function connect(cfg: CameraConfig) {
  const conn = new CameraConnection({ config: cfg, username: USER, password: PASS, timeoutMs: 3000, backoff: { initialMs: 100, maxMs: 400 } });
  cleanups.push(() => conn.close());
  return conn;
}

test('HTTPS with the certificate check off: connects to a self-signed camera over TLS and moves it on target', async () => {
  const { cam, front } = await startHttpsCamera();
  const cfg = loopbackCamera(front.port, { https: true, httpsVerify: false });
  const conn = connect(cfg);
  await conn.ensureConnected();
  assert.equal(conn.state, 'connected');
  assert.ok(front.handshakes >= 1, 'the requests went through TLS');
  const r = await moveToTarget(conn, cfg.calibration, { panDeg: 75, tiltDeg: -15, hfovDeg: 30 }, { pollMs: 50 });
  assert.equal(r.state, 'on-target', r.notes.join('; '));
  assert.ok(Math.abs(cam.pose.panDeg - 75) <= 1, `pan ${cam.pose.panDeg}`);
});

test('HTTPS with the certificate check on: a self-signed certificate is refused, with advice naming the setting', async () => {
  const { cam, front } = await startHttpsCamera();
  const conn = connect(loopbackCamera(front.port, { https: true, httpsVerify: true }));
  await assert.rejects(conn.ensureConnected(), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'unreachable');
    assert.match(err.message, /^connect: the camera's certificate is not trusted \(self-signed\?\): untick "Check its certificate"/);
    assert.match(err.message, /self[- ]signed certificate/, 'Node\'s own words kept');
    return true;
  });
  assert.equal(front.handshakes, 0);
  assert.equal(cam.calls.length, 0, 'nothing reached the camera');
});

test('an HTTPS-only camera reached without HTTPS: the hang-up says to tick HTTPS', async () => {
  const { cam, front } = await startHttpsCamera();
  const conn = connect(loopbackCamera(front.port));
  await assert.rejects(conn.ensureConnected(), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'unreachable');
    assert.match(err.message, /^connect: camera unreachable: .*socket hang up/i);
    assert.match(err.message, /takes only HTTPS .*tick HTTPS in the camera's settings/);
    return true;
  });
  assert.equal(cam.calls.length, 0);
});

test('a plain HTTP camera reached with HTTPS: says it does not speak HTTPS on this port', async () => {
  const { cam, httpPort } = await startHttpsCamera();
  const conn = connect(loopbackCamera(httpPort, { https: true, httpsVerify: false }));
  await assert.rejects(conn.ensureConnected(), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'unreachable');
    assert.match(err.message, /^connect: camera unreachable over HTTPS: it does not speak HTTPS on this port \(untick HTTPS in the camera's settings, or give its HTTPS port\): .*(EPROTO|wrong version number)/);
    return true;
  });
  assert.equal(cam.calls.length, 0);
});

test('the config node\'s settings: HTTPS off and the certificate checked by default; an empty port is 443 with HTTPS, 80 without', () => {
  const base = { id: 'n1', host: '10.0.0.5', lat: 45, lon: 4 };
  const plain = cameraConfigFromNode(base);
  assert.deepEqual([plain.https, plain.httpsVerify, plain.port], [false, true, 80]);
  const secure = cameraConfigFromNode({ ...base, https: true, port: '' });
  assert.deepEqual([secure.https, secure.httpsVerify, secure.port], [true, true, 443]);
  assert.equal(cameraConfigFromNode({ ...base, https: true, port: 8443 }).port, 8443);
  assert.equal(cameraConfigFromNode({ ...base, https: false, port: '' }).port, 80);
  assert.equal(cameraConfigFromNode({ ...base, https: 'true', httpsVerify: 'false' }).httpsVerify, false);
  assert.throws(() => cameraConfigFromNode({ ...base, https: 'yes' }), /camera\.https: expected true or false/);
});

test('OpenSSL\'s words for a server that does not speak TLS are read as such only in a TLS error', async () => {
  const { classifyError } = await import('../../lib/camera/connection');
  assert.match(classifyError(new Error('write EPROTO 0C0C7A1F:error:0A00010B:SSL routines:ssl3_get_record:wrong version number')).message, /does not speak HTTPS on this port/);
  assert.match(classifyError(Object.assign(new Error('write EPROTO'), { code: 'EPROTO' })).message, /does not speak HTTPS on this port/);
  assert.doesNotMatch(classifyError(new Error('HTTP request failed with status 500')).message, /HTTPS/);
});
