/**
 * The real `onvif` client (through CameraConnection) against the virtual camera on 127.0.0.1:
 * authentication, moves within 1° across pan wrap-around, every quirk's fallback, and a camera
 * that goes offline and comes back.
 */
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { CameraQuirk, VirtualCamera, VirtualCameraOptions } from '../../lib/sim/camera/virtual-camera';
import { CameraConnection, CameraError, classifyError } from '../../lib/camera/connection';
import { moveToTarget } from '../../lib/camera/mover';
import { DEFAULT_CALIBRATION, aimToCameraDegrees, degreesToSpace, wrap180 } from '../../lib/camera/geometry';
import { CameraConfig } from '../../lib/camera/types';
import { loopbackCamera } from '../support/camera-config';
import { waitFor } from '../support/wait';

const USER = 'operator';
const PASS = 'correct horse';
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

async function startCamera(opts: { quirks?: CameraQuirk[]; degreeSpace?: boolean; initialPanDeg?: number; more?: Partial<VirtualCameraOptions> } = {}) {
  const cam = new VirtualCamera({
    // Fast heads keep the tests short; `more` may slow one down.
    panSpeedDegPerS: 720,
    tiltSpeedDegPerS: 360,
    zoomSpeedPerS: 4,
    ...opts.more,
    username: USER,
    password: PASS,
    quirks: opts.quirks,
    degreeSpace: opts.degreeSpace,
    initialPose: opts.initialPanDeg === undefined ? undefined : { panDeg: opts.initialPanDeg },
  });
  const { onvifPort } = await cam.start();
  cleanups.push(() => cam.stop());
  return { cam, port: onvifPort };
}

function connect(cfg: CameraConfig, password = PASS) {
  const conn = new CameraConnection({ config: cfg, username: USER, password, timeoutMs: 3000, backoff: { initialMs: 100, maxMs: 400 } });
  cleanups.push(() => conn.close());
  return conn;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a wrong password fails with an authentication error naming the cause', async () => {
  const { cam, port } = await startCamera();
  const conn = connect(loopbackCamera(port), 'wrong');
  await assert.rejects(conn.ensureConnected(), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'auth');
    assert.match(err.message, /authentication failed/);
    assert.match(err.message, /not authorized/i);
    return true;
  });
  assert.equal(conn.state, 'failed');
  // The camera itself logged the refusal, and moved nowhere.
  assert.ok(cam.calls.some((c) => c.fault === 'Sender not authorized'));
  assert.equal(cam.pose.panDeg, 0);
});

test('login refusals in the words of real cameras are classified auth, other faults not', () => {
  for (const reason of [
    'Sender not Authorized',
    'Wsse authorized time check failed.',
    'An error was discovered processing the wsse:Security header',
    'Authority failure',
    'The action requested requires authorization and the sender is not authorized',
    '{"value":"env:Sender","subcode":{"value":"ter:NotAuthorized"}}',
    'Digest authentication failed',
  ]) {
    assert.equal(classifyError(new Error(`ONVIF SOAP Fault: ${reason}`)).code, 'auth', reason);
  }
  for (const reason of ['Optional Action Not Implemented', 'No profile with token "x"', 'Position.PanTilt.x out of range: 2']) {
    assert.notEqual(classifyError(new Error(`ONVIF SOAP Fault: ${reason}`)).code, 'auth', reason);
  }
});

test('a camera whose clock steps mid-session refuses every token: seen failed by the keep-alive, reconnected with its new time', async () => {
  const { cam } = await startCamera();
  const cfg = loopbackCamera(cam.port);
  const conn = new CameraConnection({ config: cfg, username: USER, password: PASS, timeoutMs: 1000, backoff: { initialMs: 100, maxMs: 400 }, keepAliveMs: 150 });
  cleanups.push(() => conn.close());
  const states: string[] = [];
  conn.on('state', (st: string) => states.push(st));
  await conn.ensureConnected();
  const timeReads = () => cam.calls.filter((c) => c.action === 'GetSystemDateAndTime').length;
  const readsBefore = timeReads();
  cam.stepClock(3_600_000);
  await waitFor(() => states.includes('failed'), 10_000, 'the keep-alive to see the login refused');
  assert.ok(cam.calls.some((c) => c.fault === 'Wsse authorized time check failed.'));
  await waitFor(() => conn.state === 'connected', 10_000, 'the connection back');
  assert.ok(timeReads() > readsBefore, "the camera's time read again");
  const r = await moveToTarget(conn, cfg.calibration, { panDeg: 60, tiltDeg: -10, hfovDeg: 30 }, { pollMs: 50 });
  assert.equal(r.state, 'on-target', r.notes.join('; '));
});

test('Profile empty on a multi-sensor camera: the first profile with PTZ is used (not the first video source\'s), and said', async () => {
  const { cam, port } = await startCamera({ more: { panoramaProfileFirst: true } });
  const cfg = loopbackCamera(port);
  const conn = connect(cfg);
  await conn.ensureConnected();
  assert.deepEqual(conn.profiles.map((p) => [p.token, p.ptz]), [['pano_1', false], ['profile_1', true]]);
  assert.equal(conn.profileToken, 'profile_1');
  assert.match(conn.profileChoice ?? '', /^profile "profile_1" \(main\): the first with a PTZ configuration$/);
  const r = await moveToTarget(conn, cfg.calibration, { panDeg: -40, tiltDeg: -10, hfovDeg: 30 }, { pollMs: 50 });
  assert.equal(r.state, 'on-target', r.notes.join('; '));
  assert.ok(Math.abs(cam.pose.panDeg - -40) <= 1);
});

test('a camera that refuses GetPresets is connected without presets, told once across reconnections', async () => {
  const { cam, port } = await startCamera({ more: { refusePresets: true } });
  const cfg = loopbackCamera(port);
  const conn = connect(cfg);
  const notices: string[] = [];
  conn.on('notice', (text: string) => notices.push(text));
  await conn.ensureConnected();
  assert.equal(conn.state, 'connected');
  assert.deepEqual(conn.presets, []);
  conn.idle();
  await conn.ensureConnected();
  assert.equal(cam.calls.filter((c) => c.action === 'GetPresets' && c.fault).length, 2);
  assert.equal(notices.length, 1, notices.join('\n'));
  assert.match(notices[0], /no presets read .*Optional Action Not Implemented/);
  const r = await moveToTarget(conn, cfg.calibration, { panDeg: 100, tiltDeg: -10, hfovDeg: 30 }, { pollMs: 50 });
  assert.equal(r.state, 'on-target', r.notes.join('; '));
});

test('a correct password connects once and reads presets and spaces once', async () => {
  const { cam, port } = await startCamera();
  const conn = connect(loopbackCamera(port));
  await conn.ensureConnected();
  assert.equal(conn.state, 'connected');
  assert.deepEqual(conn.presets.map((p) => p.name), ['Home', 'East', 'South', 'West']);
  assert.equal(conn.capabilities.absolute, true);
  const before = cam.calls.length;
  await conn.getStatus();
  await conn.getStatus();
  const after = cam.calls.slice(before).map((c) => c.action);
  assert.deepEqual(after, ['GetStatus', 'GetStatus'], 'no capability re-read per command');
});

for (const [fromDeg, bearingDeg] of [
  [0, 45],
  [0, 200],
  [30, 310],
  [170, 190], // across the wrap-around: pan 170° → −170°
  [-175, 160],
] as const) {
  test(`AbsoluteMove from pan ${fromDeg}° to bearing ${bearingDeg}° ends within 1°`, async () => {
    const { cam, port } = await startCamera({ initialPanDeg: fromDeg });
    const cfg = loopbackCamera(port);
    const conn = connect(cfg);
    const target = aimToCameraDegrees(cfg, { bearingDeg, tiltDeg: -12, hfovDeg: 10 });
    const r = await moveToTarget(conn, cfg.calibration, target, { toleranceDeg: 1, moveTimeoutMs: 8000, pollMs: 50 });
    assert.equal(r.state, 'on-target', r.notes.join('; '));
    assert.equal(r.method, 'absolute');
    const pose = cam.pose;
    assert.ok(Math.abs(wrap180(pose.panDeg - wrap180(bearingDeg))) <= 1, `pan ${pose.panDeg} vs ${bearingDeg}`);
    assert.ok(Math.abs(pose.tiltDeg - -12) <= 1, `tilt ${pose.tiltDeg}`);
    assert.ok(r.errorDeg! <= 1);
    assert.equal(cam.calls.filter((c) => c.action === 'AbsoluteMove').length, 1, 'one AbsoluteMove, no fallback needed');
  });
}

/** Move commands the mover tried other than AbsoluteMove (fallbacks). */
const fallbackCalls = (cam: VirtualCamera) => cam.calls.filter((c) => ['RelativeMove', 'ContinuousMove', 'GotoPreset'].includes(c.action)).map((c) => c.action);

test('a camera whose GetStatus has no zoom is on target by AbsoluteMove, its zoom not read as 0', async () => {
  const { cam, port } = await startCamera({ more: { statusWithoutZoom: true } });
  const cfg = loopbackCamera(port);
  const conn = connect(cfg);
  const target = { panDeg: 40, tiltDeg: -10, hfovDeg: 20 };
  const goal = degreesToSpace(cfg.calibration, target);
  assert.ok(goal.zoom > 0.02, `the goal needs some zoom (${goal.zoom})`);
  const r = await moveToTarget(conn, cfg.calibration, target, { pollMs: 50, moveTimeoutMs: 5000 });
  assert.equal(r.state, 'on-target', r.notes.join('; '));
  assert.equal(r.method, 'absolute');
  assert.deepEqual(fallbackCalls(cam), []);
  assert.equal((await conn.getStatus()).zoomKnown, false);
  assert.ok(Math.abs(cam.pose.panDeg - 40) <= 1, `pan ${cam.pose.panDeg}`);
});

test('a camera whose zoom lands off the goal is on target by AbsoluteMove (zoom is best effort)', async () => {
  const { cam, port } = await startCamera({ more: { zoomStep: 0.25 } });
  const cfg = loopbackCamera(port);
  const conn = connect(cfg);
  const target = { panDeg: -70, tiltDeg: -20, hfovDeg: 20 };
  const goal = degreesToSpace(cfg.calibration, target);
  const r = await moveToTarget(conn, cfg.calibration, target, { pollMs: 50, moveTimeoutMs: 5000 });
  assert.ok(Math.abs(cam.pose.zoom - goal.zoom) > 0.02, `the zoom landed off the goal (${cam.pose.zoom} vs ${goal.zoom})`);
  assert.equal(r.state, 'on-target', r.notes.join('; '));
  assert.equal(r.method, 'absolute');
  assert.deepEqual(fallbackCalls(cam), []);
  assert.equal((await conn.getStatus()).zoomKnown, true);
});

test('a camera that starts turning 1 s after AbsoluteMove (saying IDLE until then) is waited for, not abandoned', async () => {
  const { cam, port } = await startCamera({ more: { moveStartDelayMs: 1000 } });
  const cfg = loopbackCamera(port);
  const conn = connect(cfg);
  const r = await moveToTarget(conn, cfg.calibration, { panDeg: 120, tiltDeg: -10, hfovDeg: 30 }, { pollMs: 50, moveTimeoutMs: 8000 });
  assert.equal(r.state, 'on-target', r.notes.join('; '));
  assert.equal(r.method, 'absolute');
  assert.deepEqual(fallbackCalls(cam), []);
  assert.ok(Math.abs(cam.pose.panDeg - 120) <= 1, `pan ${cam.pose.panDeg}`);
});

test('a degree-space camera is steered with the degrees calibration', async () => {
  const { cam, port } = await startCamera({ degreeSpace: true });
  const cfg = loopbackCamera(port, { calibration: { ...DEFAULT_CALIBRATION, space: 'degrees' }, mountHeadingDeg: 90, tiltOffsetDeg: 2 });
  const conn = connect(cfg);
  await conn.ensureConnected();
  assert.match(conn.capabilities.degreesSpaceUri ?? '', /Degrees/);
  const target = aimToCameraDegrees(cfg, { bearingDeg: 30, tiltDeg: -20, hfovDeg: 20 });
  const r = await moveToTarget(conn, cfg.calibration, target, { pollMs: 50 });
  assert.equal(r.state, 'on-target', r.notes.join('; '));
  assert.ok(Math.abs(cam.pose.panDeg - -60) <= 1, `pan ${cam.pose.panDeg}`);
  assert.ok(Math.abs(cam.pose.tiltDeg - -18) <= 1, `tilt ${cam.pose.tiltDeg}`);
});

test('quirk noAbsoluteMove: falls back to RelativeMove and reaches the target', async () => {
  const { cam, port } = await startCamera({ quirks: ['noAbsoluteMove'] });
  const cfg = loopbackCamera(port);
  const conn = connect(cfg);
  const r = await moveToTarget(conn, cfg.calibration, { panDeg: 120, tiltDeg: -20, hfovDeg: 15 }, { pollMs: 50 });
  assert.equal(r.state, 'on-target', r.notes.join('; '));
  assert.equal(r.method, 'relative');
  assert.match(r.notes[0], /AbsoluteMove failed.*not supported/);
  assert.ok(Math.abs(cam.pose.panDeg - 120) <= 1);
  // Remembered for the next move: no second AbsoluteMove attempt.
  await moveToTarget(conn, cfg.calibration, { panDeg: 100, tiltDeg: -20, hfovDeg: 15 }, { pollMs: 50 });
  assert.equal(cam.calls.filter((c) => c.action === 'AbsoluteMove').length, 1);
});

test('quirks noAbsoluteMove+noRelativeMove with continuousIgnoresTimeout: continuous steps, always stopped', async () => {
  const { cam, port } = await startCamera({ quirks: ['noAbsoluteMove', 'noRelativeMove', 'continuousIgnoresTimeout'] });
  const cfg = loopbackCamera(port);
  const conn = connect(cfg);
  const r = await moveToTarget(conn, cfg.calibration, { panDeg: -60, tiltDeg: -25, hfovDeg: 60 }, { pollMs: 50, moveTimeoutMs: 10_000 });
  assert.equal(r.state, 'on-target', r.notes.join('; '));
  assert.equal(r.method, 'continuous');
  assert.ok(cam.calls.some((c) => c.action === 'Stop'));
  await sleep(300);
  const p1 = cam.pose;
  assert.equal(p1.moving, false, 'the camera was left moving');
  assert.ok(Math.abs(p1.panDeg - -60) <= 1, `pan ${p1.panDeg}`);
});

test('quirk continuousNeedsBothAxes: a single-axis ContinuousMove is detected and dithered', async () => {
  const { cam, port } = await startCamera({ quirks: ['noAbsoluteMove', 'noRelativeMove', 'continuousNeedsBothAxes'] });
  const cfg = loopbackCamera(port);
  const conn = connect(cfg);
  // Only pan needs to change: tilt stays at the camera's −15°.
  const r = await moveToTarget(conn, cfg.calibration, { panDeg: 70, tiltDeg: -15, hfovDeg: 60 }, { pollMs: 50, moveTimeoutMs: 10_000 });
  assert.equal(r.state, 'on-target', r.notes.join('; '));
  assert.equal(r.method, 'continuous');
  assert.ok(Math.abs(cam.pose.panDeg - 70) <= 1, `pan ${cam.pose.panDeg}`);
  assert.ok(Math.abs(cam.pose.tiltDeg - -15) <= 1, `tilt ${cam.pose.tiltDeg}`);
});

test('quirk rejectStop: a zero-velocity ContinuousMove stops the camera', async () => {
  const { cam, port } = await startCamera({ quirks: ['noAbsoluteMove', 'noRelativeMove', 'continuousIgnoresTimeout', 'rejectStop'] });
  const cfg = loopbackCamera(port);
  const conn = connect(cfg);
  const r = await moveToTarget(conn, cfg.calibration, { panDeg: 50, tiltDeg: -15, hfovDeg: 60 }, { pollMs: 50, moveTimeoutMs: 10_000 });
  assert.equal(r.state, 'on-target', r.notes.join('; '));
  assert.ok(cam.calls.some((c) => c.action === 'Stop' && c.fault));
  await sleep(300);
  assert.equal(cam.pose.moving, false);
  assert.ok(Math.abs(cam.pose.panDeg - 50) <= 1);
});

test('quirk moveStatusNeverUpdated: on-target is judged by position', async () => {
  const { cam, port } = await startCamera({ quirks: ['moveStatusNeverUpdated'] });
  const cfg = loopbackCamera(port);
  const conn = connect(cfg);
  const r = await moveToTarget(conn, cfg.calibration, { panDeg: 150, tiltDeg: -5, hfovDeg: 30 }, { pollMs: 50 });
  assert.equal(r.state, 'on-target', r.notes.join('; '));
  assert.equal(r.method, 'absolute');
  assert.ok(Math.abs(cam.pose.panDeg - 150) <= 1);
});

test('no absolute, relative or continuous move: goes to the nearest preset and verifies it', async () => {
  const { cam, port } = await startCamera({ quirks: ['noAbsoluteMove', 'noRelativeMove', 'noContinuousMove'] });
  const cfg = loopbackCamera(port);
  const conn = connect(cfg);
  const r = await moveToTarget(conn, cfg.calibration, { panDeg: 80, tiltDeg: -12, hfovDeg: 30 }, { pollMs: 50 });
  assert.equal(r.state, 'preset', r.notes.join('; '));
  assert.equal(r.presetToken, '2'); // East, pan 90°
  assert.ok(Math.abs(cam.pose.panDeg - 90) <= 1);
  assert.ok(r.errorDeg! > 5 && r.errorDeg! < 15, `errorDeg ${r.errorDeg}`);
});

test('quirk presetsDoNothing: the preset is verified and the move reported failed', async () => {
  const { port } = await startCamera({ quirks: ['noAbsoluteMove', 'noRelativeMove', 'noContinuousMove', 'presetsDoNothing'] });
  const cfg = loopbackCamera(port);
  const conn = connect(cfg);
  const r = await moveToTarget(conn, cfg.calibration, { panDeg: 175, tiltDeg: -12, hfovDeg: 30 }, { pollMs: 30, moveTimeoutMs: 2000 });
  assert.equal(r.state, 'failed');
  assert.match(r.error!.message, /preset "South" did not move the camera/);
});

test('camera offline then back on the same port: the connection recovers without a new object', async () => {
  const { cam, port } = await startCamera();
  const cfg = loopbackCamera(port);
  const conn = connect(cfg);
  await conn.ensureConnected();
  await cam.stop();
  const r = await moveToTarget(conn, cfg.calibration, { panDeg: 30, tiltDeg: -10, hfovDeg: 30 }, { pollMs: 50 });
  assert.equal(r.state, 'failed');
  assert.equal(r.error!.code, 'unreachable');
  assert.equal(conn.state, 'failed');
  await cam.start();
  assert.equal(cam.port, port);
  // Back-off retries reconnect on their own.
  await waitFor(() => conn.state === 'connected', 10_000, 'the connection back');
  const r2 = await moveToTarget(conn, cfg.calibration, { panDeg: 30, tiltDeg: -10, hfovDeg: 30 }, { pollMs: 50 });
  assert.equal(r2.state, 'on-target', r2.notes.join('; '));
  assert.ok(Math.abs(cam.pose.panDeg - 30) <= 1);
});

test('a camera unplugged while idle is seen failed by the keep-alive, without any command, and recovers', async () => {
  const { cam } = await startCamera();
  const cfg = loopbackCamera(cam.port);
  const conn = new CameraConnection({ config: cfg, username: USER, password: PASS, timeoutMs: 1000, backoff: { initialMs: 100, maxMs: 400 }, keepAliveMs: 200 });
  cleanups.push(() => conn.close());
  await conn.ensureConnected();
  const statusCalls = () => cam.calls.filter((c) => c.action === 'GetStatus').length;
  await waitFor(() => statusCalls() >= 2, 10_000, 'GetStatus again and again while idle and connected');
  await cam.stop();
  await waitFor(() => conn.state === 'failed', 10_000, 'the keep-alive to see the camera gone');
  assert.equal(conn.lastError?.code, 'unreachable');
  await cam.start();
  await waitFor(() => conn.state === 'connected', 10_000, 'the connection back');
  // Closed: no keep-alive outlives the connection (its timer is gone, not only idle).
  assert.ok(keepAliveTimerOf(conn), 'a keep-alive is armed while connected');
  await conn.close();
  assert.equal(keepAliveTimerOf(conn), undefined);
});

/** The connection's keep-alive timer (private: no public signal tells whether one is armed). */
const keepAliveTimerOf = (conn: CameraConnection): unknown => (conn as unknown as { keepAliveTimer?: unknown }).keepAliveTimer;

test('the keep-alive goes on after an answer that is not a network failure (a fault, a camera without GetStatus)', async () => {
  const { cam } = await startCamera();
  const conn = new CameraConnection({ config: loopbackCamera(cam.port), username: USER, password: PASS, timeoutMs: 1000, backoff: { initialMs: 100, maxMs: 400 }, keepAliveMs: 100 });
  cleanups.push(() => conn.close());
  await conn.ensureConnected();
  let asked = 0;
  const real = conn.getStatus.bind(conn);
  (conn as unknown as { getStatus: () => Promise<unknown> }).getStatus = async () => {
    asked++;
    if (asked === 1) throw new CameraError('not-supported', 'GetStatus is not supported', 'cam');
    return real();
  };
  await waitFor(() => asked >= 3, 10_000, 'the keep-alive asking again after the fault');
  assert.equal(conn.state, 'connected');
});

test('left idle while it was connecting, the connection stays closed and polls nothing', async () => {
  const { cam } = await startCamera();
  const conn = new CameraConnection({ config: loopbackCamera(cam.port), username: USER, password: PASS, timeoutMs: 1000, backoff: { initialMs: 100, maxMs: 400 }, keepAliveMs: 100 });
  cleanups.push(() => conn.close());
  const states: string[] = [];
  conn.on('state', (st: string) => states.push(st));
  conn.start();
  // The attempt under way (no public signal tells when it ends: the private promise does).
  const attempt = (conn as unknown as { attempt?: Promise<void> }).attempt;
  assert.ok(attempt, 'an attempt is under way');
  conn.idle(); // the last user left while the first attempt runs
  await attempt;
  assert.ok(cam.calls.some((c) => c.action === 'GetPresets'), 'the attempt went through with the camera');
  assert.deepEqual(states, ['connecting', 'closed'], 'not connected at the end of the attempt');
  // Nothing left to do: a keep-alive (every 100 ms) or a retry would show within three periods.
  await sleep(300);
  assert.deepEqual(states, ['connecting', 'closed']);
  assert.equal(cam.calls.filter((c) => c.action === 'GetStatus').length, 0, 'no keep-alive for an idle connection');
  // A command still connects on demand, for itself: no keep-alive, no retries for nobody.
  await conn.getStatus();
  const stateNow = (): string => conn.state;
  assert.equal(stateNow(), 'connected');
  assert.equal(keepAliveTimerOf(conn), undefined, 'no keep-alive for a command while idle');
  // A node using the camera again: the keep-alive is back, without a new connection.
  const presetsBefore = cam.calls.filter((c) => c.action === 'GetPresets').length;
  conn.start();
  assert.ok(keepAliveTimerOf(conn), 'kept alive again once used');
  assert.equal(cam.calls.filter((c) => c.action === 'GetPresets').length, presetsBefore, 'no reconnection');
  // Idle again: the timer goes.
  conn.idle();
  assert.equal(keepAliveTimerOf(conn), undefined);
});

test('invalid arguments get a ter:InvalidArgVal fault', async () => {
  const { cam, port } = await startCamera();
  const conn = connect(loopbackCamera(port));
  await conn.ensureConnected();
  await assert.rejects(conn.absoluteMove({ pan: 2, tilt: 0, zoom: 0 }), /out of range: 2/);
  const xml = await (
    await fetch(`http://127.0.0.1:${port}/onvif/ptz_service`, {
      method: 'POST',
      body: '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><GetSystemDateAndTime xmlns="http://www.onvif.org/ver10/device/wsdl"/></s:Body></s:Envelope>',
    })
  ).text();
  assert.match(xml, /UTCDateTime/);
  const bad = await fetch(`http://127.0.0.1:${port}/onvif/ptz_service`, {
    method: 'POST',
    body: '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><GetStatus xmlns="http://www.onvif.org/ver20/ptz/wsdl"><ProfileToken>profile_1</ProfileToken></GetStatus></s:Body></s:Envelope>',
  });
  assert.equal(bad.status, 400);
  assert.match(await bad.text(), /ter:NotAuthorized/);
  assert.ok(cam.calls.some((c) => c.action === 'AbsoluteMove' && /out of range/.test(c.fault ?? '')));
});

test('every ONVIF action of the issue answers the real onvif client', async () => {
  const { cam, port } = await startCamera();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Cam } = require('onvif/promises');
  const c = new Cam({ hostname: '127.0.0.1', port, username: USER, password: PASS, timeout: 5000 });
  await c.connect();
  assert.ok((await c.getSystemDateAndTime()) instanceof Date);
  const caps = await c.getCapabilities();
  assert.match(caps.PTZ.XAddr, /\/onvif\/ptz_service$/);
  const services = await c.getServices();
  assert.equal(services.length, 3);
  assert.equal((await c.getDeviceInformation()).manufacturer, 'Vigie');
  assert.equal((await c.getProfiles())[0].$.token, 'profile_1');
  assert.equal((await c.getVideoSources())[0].$.token, 'video_source_1');
  assert.match((await c.getSnapshotUri()).uri, /snapshot\.jpg$/);
  assert.equal((await c.getStreamUri({ protocol: 'RTSP' })).uri, `http://127.0.0.1:${port}/live.ts`);
  const nodes = await c.getNodes();
  assert.equal(nodes.ptz_node_1.homeSupported, true);
  const configs = await c.getConfigurations();
  assert.equal(configs.ptz_config_1.nodeToken, 'ptz_node_1');
  const opts = await c.getConfigurationOptions('ptz_config_1');
  assert.equal(opts.spaces.absolute.x.max, 1);
  await c.relativeMove({ x: 0.25, y: 0, zoom: 0 });
  await waitFor(() => !cam.pose.moving, 10_000);
  assert.ok(Math.abs(cam.pose.panDeg - 45) < 1e-6);
  const token = await c.setPreset({ presetName: 'Corner' });
  assert.ok(token);
  const presets = await c.getPresets();
  assert.ok(presets.Corner, 'SetPreset stored the current pose');
  await c.gotoPreset({ preset: '2' });
  await waitFor(() => !cam.pose.moving, 10_000);
  assert.equal(cam.pose.panDeg, 90);
  await c.gotoPreset({ preset: presets.Corner.$.token });
  await waitFor(() => !cam.pose.moving, 10_000);
  assert.ok(Math.abs(cam.pose.panDeg - 45) < 1e-6);
  await c.continuousMove({ x: -0.5, y: 0, zoom: 0, timeout: 60_000 });
  await waitFor(() => cam.pose.panDeg < 40, 10_000);
  await c.stop({ panTilt: true, zoom: true });
  const stoppedAt = cam.pose.panDeg;
  assert.equal(cam.pose.moving, false);
  await sleep(100);
  assert.equal(cam.pose.panDeg, stoppedAt);
  await c.gotoHomePosition({});
  await waitFor(() => !cam.pose.moving, 10_000);
  assert.equal(cam.pose.panDeg, 0);
  await assert.rejects(c.gotoPreset({ preset: '99' }), /No preset with token "99"/);
  const actions = new Set(cam.calls.filter((x) => !x.fault).map((x) => x.action));
  for (const a of ['GetSystemDateAndTime', 'GetCapabilities', 'GetServices', 'GetDeviceInformation', 'GetProfiles', 'GetStreamUri', 'GetSnapshotUri', 'GetVideoSources',
    'GetNodes', 'GetConfigurations', 'GetConfigurationOptions', 'RelativeMove', 'ContinuousMove', 'Stop', 'GetPresets', 'GotoPreset', 'SetPreset', 'GotoHomePosition']) {
    assert.ok(actions.has(a), `${a} answered`);
  }
});


test('a camera whose GetStatus has no Position is on target once it says it stopped, not steered from a made-up 0, 0', async () => {
  // A head slow enough (2.5 s for this move) that a poll sees it MOVING on a busy machine too.
  const { cam, port } = await startCamera({ more: { statusWithoutPosition: true, panSpeedDegPerS: 40, tiltSpeedDegPerS: 40 } });
  const cfg = loopbackCamera(port);
  const conn = connect(cfg);
  const r = await moveToTarget(conn, cfg.calibration, { panDeg: 100, tiltDeg: -10, hfovDeg: 30 }, { pollMs: 50, moveTimeoutMs: 10_000 });
  assert.equal(r.state, 'on-target', r.notes.join('; '));
  assert.equal(r.method, 'absolute');
  assert.equal(r.verified, false);
  assert.equal(r.errorDeg, undefined, 'no error figure: nothing was measured');
  assert.match(r.notes.join('; '), /does not report its position.*MOVING, then IDLE.*not measured/);
  assert.deepEqual(fallbackCalls(cam), [], 'no RelativeMove from a made-up position, no preset');
  assert.equal((await conn.getStatus()).positionKnown, false);
  assert.ok(Math.abs(cam.pose.panDeg - 100) <= 1, `pan ${cam.pose.panDeg}`);
});

test('a camera without Position whose MoveStatus is always IDLE is taken as there after the start grace; a refused AbsoluteMove falls back on a preset only', async () => {
  const { cam, port } = await startCamera({ quirks: ['moveStatusNeverUpdated'], more: { statusWithoutPosition: true } });
  const cfg = loopbackCamera(port);
  const conn = connect(cfg);
  const r = await moveToTarget(conn, cfg.calibration, { panDeg: -60, tiltDeg: -20, hfovDeg: 30 }, { pollMs: 50, moveTimeoutMs: 5000 });
  assert.equal(r.state, 'on-target', r.notes.join('; '));
  assert.equal(r.verified, false);
  assert.match(r.notes.join('; '), /2 s had passed without it saying it moved/);
  assert.deepEqual(fallbackCalls(cam), []);
  assert.ok(Math.abs(cam.pose.panDeg - -60) <= 1, `pan ${cam.pose.panDeg}`);

  const { cam: cam2, port: port2 } = await startCamera({ quirks: ['noAbsoluteMove'], more: { statusWithoutPosition: true } });
  const cfg2 = loopbackCamera(port2);
  const r2 = await moveToTarget(connect(cfg2), cfg2.calibration, { panDeg: 85, tiltDeg: -10, hfovDeg: 30 }, { pollMs: 50, moveTimeoutMs: 5000 });
  assert.equal(r2.state, 'preset', r2.notes.join('; '));
  assert.equal(r2.verified, false);
  assert.equal(r2.presetToken, [...cam2.presets.values()].find((p) => p.name === 'East')!.token);
  assert.match(r2.notes.join('; '), /RelativeMove and ContinuousMove not tried: the camera does not report its position/);
  assert.deepEqual(fallbackCalls(cam2), ['GotoPreset']);
});

test('a target beyond the calibrated pan range is refused before any move, not claimed on target at the end of travel', async () => {
  const { cam, port } = await startCamera();
  const cfg = loopbackCamera(port, { calibration: { ...DEFAULT_CALIBRATION, panMinDeg: -90, panMaxDeg: 90 } });
  const conn = connect(cfg);
  const r = await moveToTarget(conn, cfg.calibration, { panDeg: 150, tiltDeg: -10, hfovDeg: 30 }, { pollMs: 50, moveTimeoutMs: 5000 });
  assert.equal(r.state, 'failed');
  assert.equal(r.error?.code, 'out-of-range');
  assert.match(r.error!.message, /pan 150\.0° is outside its pan range \(-90…90°\)/);
  assert.deepEqual(cam.calls.filter((c) => /Move|Preset/.test(c.action) && c.action !== 'GetPresets').map((c) => c.action), []);
  // At the edge of the range (within the tolerance) it still moves.
  const edge = await moveToTarget(conn, cfg.calibration, { panDeg: 90.5, tiltDeg: -10, hfovDeg: 30 }, { pollMs: 50, moveTimeoutMs: 5000 });
  assert.equal(edge.state, 'on-target', edge.notes.join('; '));
});

test('a degree-space camera that refuses AbsoluteMove is moved by RelativeMove in its degree translation space', async () => {
  const { cam, port } = await startCamera({ degreeSpace: true, quirks: ['noAbsoluteMove'] });
  const cfg = loopbackCamera(port, { calibration: { ...DEFAULT_CALIBRATION, space: 'degrees' } });
  const conn = connect(cfg);
  const r = await moveToTarget(conn, cfg.calibration, { panDeg: 100, tiltDeg: -10, hfovDeg: 30 }, { pollMs: 50, moveTimeoutMs: 5000 });
  assert.equal(r.state, 'on-target', r.notes.join('; '));
  assert.equal(r.method, 'relative', r.notes.join('; '));
  assert.match(conn.capabilities.degreesTranslationSpaceUri ?? '', /SphericalTranslationSpaceDegrees/);
  const relative = cam.calls.filter((c) => c.action === 'RelativeMove');
  assert.ok(relative.length >= 1 && relative.every((c) => !c.fault), JSON.stringify(relative));
  assert.ok(Math.abs(cam.pose.panDeg - 100) <= 1, `pan ${cam.pose.panDeg}`);
});

for (const faultBeyondStop of [false, true]) {
  test(`a camera whose tilt stops short of its space (${faultBeyondStop ? 'AbsoluteMove there faulted' : 'clamped without a word'}) fails as out-of-range once moves on, step by step too, do nothing; not on target, no preset`, async () => {
    const { cam, port } = await startCamera({ more: { tiltStopDeg: -45, faultBeyondStop } });
    const cfg = loopbackCamera(port);
    const conn = connect(cfg);
    const r = await moveToTarget(conn, cfg.calibration, { panDeg: 30, tiltDeg: -70, hfovDeg: 30 }, { pollMs: 50, moveTimeoutMs: 5000 });
    assert.equal(r.state, 'failed', r.notes.join('; '));
    assert.equal(r.error?.code, 'out-of-range', r.error?.message);
    assert.match(r.error!.message, /stops at pan 30\.0°, tilt -45\.0°, 25\.0° from the target, and goes no further, step by step either: the target is beyond its travel/);
    // A few ContinuousMove steps tell its end of travel from an aim that lands off; no preset.
    const steps = fallbackCalls(cam).filter((a) => a === 'ContinuousMove').length;
    assert.ok(steps >= 3 && steps <= 6, `${steps} ContinuousMove steps`);
    assert.deepEqual(fallbackCalls(cam).filter((a) => a === 'GotoPreset'), [], 'no preset');
    assert.ok(Math.abs(cam.pose.tiltDeg - -45) <= 0.5, `tilt ${cam.pose.tiltDeg}`);
  });
}

test('a preset whose picture does not hold the target is not used as the fallback (no "preset" claimed for a camera looking elsewhere)', async () => {
  const { cam, port } = await startCamera({ quirks: ['noAbsoluteMove', 'noRelativeMove', 'noContinuousMove'] });
  const cfg = loopbackCamera(port);
  const conn = connect(cfg);
  const r = await moveToTarget(conn, cfg.calibration, { panDeg: 45, tiltDeg: -60, hfovDeg: 30 }, { pollMs: 50, moveTimeoutMs: 3000 });
  assert.equal(r.state, 'failed', r.notes.join('; '));
  assert.equal(r.error?.code, 'not-supported');
  assert.match(r.error!.message, /the nearest preset, "Home", looks 45\.0° from the target, outside its 60\.0° × 36\.0° picture: not used/);
  // 25° below it: within half its width (30°), not half its height (18°), so not in its picture either.
  const below = await moveToTarget(conn, cfg.calibration, { panDeg: 5, tiltDeg: -40, hfovDeg: 30 }, { pollMs: 50, moveTimeoutMs: 3000 });
  assert.equal(below.state, 'failed', below.notes.join('; '));
  assert.match(below.error!.message, /looks 25\.0° from the target, outside its 60\.0° × 36\.0° picture: not used/);
  assert.deepEqual(cam.calls.filter((c) => c.action === 'GotoPreset'), [], 'no GotoPreset');
});

test('ptz-steer: the nearest camera stopping short of the alert (beyond its travel) hands it to the next camera, which turns to it', async () => {
  const { PtzSteer } = await import('../../lib/camera/steer');
  const { destination } = await import('../../lib/camera/geometry');
  const { steerAlert } = await import('../support/fake-ptz-camera');
  const near = await startCamera({ more: { tiltStopDeg: -20 } });
  const far = await startCamera();
  const base = { lat: 45.0, lon: 4.0 };
  const nearCfg = loopbackCamera(near.port, { id: 'near', name: 'Near', ...base });
  const farCfg = loopbackCamera(far.port, { id: 'far', name: 'Far', ...destination(base, 90, 30) });
  const conns = [connect(nearCfg), connect(farCfg)];
  const steer = new PtzSteer(() => conns, { pollMs: 50, moveTimeoutMs: 5000, returnHomeAfterMs: 0, minLookMs: 0 });
  cleanups.push(async () => steer.close());
  const out: Array<{ port: number; payload: { camera?: { id: string; state: string; reason?: string } }; error?: { code: string } }> = [];
  // 10 m north of the near camera, 8 m up: 39° down, below where its head goes.
  await steer.handle(steerAlert('glass-1', 'glass_break', destination(base, 0, 10)), (o) => out.push(o as never));
  const sent = out.filter((o) => o.port === 1).map((o) => o.payload.camera);
  assert.equal(sent.at(-1)?.id, 'far', JSON.stringify(sent));
  assert.equal(sent.at(-1)?.state, 'on-target', JSON.stringify(sent));
  assert.ok(near.cam.calls.some((c) => c.action === 'AbsoluteMove'), 'the near camera was tried first');
  assert.deepEqual(near.cam.calls.filter((c) => c.action === 'GotoPreset'), [], 'no preset');
  assert.ok(near.cam.calls.filter((c) => c.action === 'ContinuousMove').length <= 6, 'a few ContinuousMove steps at most');
  assert.deepEqual(out.filter((o) => o.port === 2), [], 'no failure: another camera looked');
});

test('a camera whose GetStatus answers no PTZStatus at all is taken as there after the start grace, not failed on the client\'s parse error', async () => {
  const { cam, port } = await startCamera({ more: { statusEmpty: true } });
  const cfg = loopbackCamera(port);
  const conn = connect(cfg);
  const s = await conn.getStatus();
  assert.equal(s.positionKnown, false);
  assert.equal(s.moving, undefined);
  const r = await moveToTarget(conn, cfg.calibration, { panDeg: 100, tiltDeg: -10, hfovDeg: 30 }, { pollMs: 50, moveTimeoutMs: 5000 });
  assert.equal(r.state, 'on-target', r.notes.join('; '));
  assert.equal(r.verified, false);
  assert.match(r.notes.join('; '), /2 s had passed without it saying it moved/);
  assert.deepEqual(fallbackCalls(cam), []);
  assert.ok(Math.abs(cam.pose.panDeg - 100) <= 1, `pan ${cam.pose.panDeg}`);
});

test('a camera that takes HTTP Digest only (no WS-Security) is connected and moved; a wrong password is an auth failure', async () => {
  const { cam, port } = await startCamera({ more: { httpDigestOnly: true } });
  const cfg = loopbackCamera(port);
  const conn = connect(cfg);
  const r = await moveToTarget(conn, cfg.calibration, { panDeg: -45, tiltDeg: -10, hfovDeg: 30 }, { pollMs: 50, moveTimeoutMs: 5000 });
  assert.equal(r.state, 'on-target', r.notes.join('; '));
  assert.equal(r.method, 'absolute');
  assert.ok(cam.calls.some((c) => c.action === 'AbsoluteMove' && c.user === USER), 'the move authenticated by Digest');
  const wrong = connect(loopbackCamera(port), 'wrong');
  await assert.rejects(wrong.ensureConnected(), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'auth', err.message);
    assert.match(err.message, /Digest authentication failed/);
    return true;
  });
});

test('set to the degrees space, a camera that lists no degree space has no advertised range: its generic −1…1 is not read as ±1°', async () => {
  const { port } = await startCamera();
  const cfg = loopbackCamera(port, { calibration: { ...DEFAULT_CALIBRATION, space: 'degrees' } });
  const conn = connect(cfg);
  await conn.ensureConnected();
  assert.equal(conn.capabilities.spacesListed, true);
  assert.equal(conn.capabilities.absoluteRange, undefined);
  const r = await moveToTarget(conn, cfg.calibration, { panDeg: 30, tiltDeg: -10, hfovDeg: 30 }, { pollMs: 50, moveTimeoutMs: 2000 });
  assert.doesNotMatch(r.error?.message ?? '', /beyond what the camera takes/, 'not refused by a range of the other space');
});

test('a camera whose generic tilt space is 0…1 (it says so in its options) is not sent below it: out-of-range at once, naming its space', async () => {
  const { cam, port } = await startCamera({ more: { genericTiltMin: 0 } });
  const cfg = loopbackCamera(port);
  const conn = connect(cfg);
  await conn.ensureConnected();
  assert.deepEqual(conn.capabilities.absoluteRange?.y, { min: 0, max: 1 });
  // y 0 is −35° with the default calibration (−1…1 = −90…20°).
  const r = await moveToTarget(conn, cfg.calibration, { panDeg: 30, tiltDeg: -60, hfovDeg: 30 }, { pollMs: 50, moveTimeoutMs: 5000 });
  assert.equal(r.state, 'failed');
  assert.equal(r.error?.code, 'out-of-range');
  assert.match(r.error!.message, /tilt -60\.0° is beyond what the camera takes \(its position space's tilt is 0…1: -35\.0…20\.0° with this calibration\)/);
  assert.deepEqual(cam.calls.filter((c) => /Move|GotoPreset/.test(c.action)), [], 'nothing sent');
  const ok = await moveToTarget(conn, cfg.calibration, { panDeg: 30, tiltDeg: -20, hfovDeg: 30 }, { pollMs: 50, moveTimeoutMs: 5000 });
  assert.equal(ok.state, 'on-target', ok.notes.join('; '));
});

for (const degreeSpace of [false, true]) {
  test(`a wall mount whose ${degreeSpace ? 'degree' : 'generic'} pan space stops at ±90° (it says so in its options) is not sent beyond it: out-of-range at once, naming its limits`, async () => {
    const { cam, port } = await startCamera({ degreeSpace, more: { panRangeDeg: [-90, 90] } });
    // Its calibration left at an endless pan: only the camera's own options know its end stops.
    const cfg = loopbackCamera(port, { calibration: { ...DEFAULT_CALIBRATION, space: degreeSpace ? 'degrees' : 'generic' } });
    const conn = connect(cfg);
    await conn.ensureConnected();
    assert.deepEqual(conn.capabilities.absoluteRange?.x, degreeSpace ? { min: -90, max: 90 } : { min: -0.5, max: 0.5 });
    const r = await moveToTarget(conn, cfg.calibration, { panDeg: 150, tiltDeg: -10, hfovDeg: 30 }, { pollMs: 50, moveTimeoutMs: 5000 });
    assert.equal(r.state, 'failed');
    assert.equal(r.error?.code, 'out-of-range');
    const limits = degreeSpace ? "its position space's pan is -90…90°" : "its position space's pan is -0.5…0.5: -90.0…90.0° with this calibration";
    assert.equal(r.error!.message, `cannot point there: pan 150.0° is beyond what the camera takes (${limits})`);
    assert.deepEqual(cam.calls.filter((c) => /Move|GotoPreset/.test(c.action)), [], 'nothing sent');
    // Just past its end (within the tolerance) it is sent to the end, and is on target.
    const edge = await moveToTarget(conn, cfg.calibration, { panDeg: 90.6, tiltDeg: -10, hfovDeg: 30 }, { pollMs: 50, moveTimeoutMs: 5000 });
    assert.equal(edge.state, 'on-target', edge.notes.join('; '));
    assert.equal(edge.method, 'absolute');
    assert.deepEqual(cam.calls.filter((c) => c.fault), [], 'no fault: nothing beyond its space was sent');
    assert.ok(Math.abs(cam.pose.panDeg - 90) < 0.01, `pan ${cam.pose.panDeg}`);
  });
}

test('a degree space written 0…360 takes every direction: a target at pan −90° is sent as 270, not refused nor faulted', async () => {
  const { cam, port } = await startCamera({ degreeSpace: true, more: { degreePanFrom0: true } });
  const cfg = loopbackCamera(port, { calibration: { ...DEFAULT_CALIBRATION, space: 'degrees' } });
  const conn = connect(cfg);
  await conn.ensureConnected();
  assert.deepEqual(conn.capabilities.absoluteRange?.x, { min: 0, max: 360 });
  for (const panDeg of [-90, 179.5, -179.5, 10]) {
    const r = await moveToTarget(conn, cfg.calibration, { panDeg, tiltDeg: -10, hfovDeg: 30 }, { pollMs: 50, moveTimeoutMs: 5000 });
    assert.equal(r.state, 'on-target', r.notes.join('; '));
    assert.equal(r.method, 'absolute', r.notes.join('; '));
    assert.ok(Math.abs(wrap180(cam.pose.panDeg - panDeg)) <= 1, `pan ${cam.pose.panDeg} for ${panDeg}`);
  }
  const sent = cam.calls.filter((c) => c.action === 'AbsoluteMove').map((c) => Number((c.args!.Position as { PanTilt: { x: string } }).PanTilt.x));
  assert.deepEqual(sent, [270, 179.5, 180.5, 10]);
  assert.deepEqual(cam.calls.filter((c) => c.fault), []);
  // A wall mount written so (0…180): a target at −10° (350) is beyond it, at 180.5° is at its end.
  const wall = await startCamera({ degreeSpace: true, more: { degreePanFrom0: true, panRangeDeg: [0, 180] } });
  const wallCfg = loopbackCamera(wall.port, { calibration: { ...DEFAULT_CALIBRATION, space: 'degrees' } });
  const wallConn = connect(wallCfg);
  const beyond = await moveToTarget(wallConn, wallCfg.calibration, { panDeg: -10, tiltDeg: -10, hfovDeg: 30 }, { pollMs: 50, moveTimeoutMs: 5000 });
  assert.equal(beyond.error?.code, 'out-of-range', beyond.notes.join('; '));
  assert.match(beyond.error!.message, /pan -10\.0° is beyond what the camera takes \(its position space's pan is 0…180°\)/);
  const end = await moveToTarget(wallConn, wallCfg.calibration, { panDeg: -179.5, tiltDeg: -10, hfovDeg: 30 }, { pollMs: 50, moveTimeoutMs: 5000 });
  assert.equal(end.state, 'on-target', end.notes.join('; '));
  assert.deepEqual(wall.cam.calls.filter((c) => c.fault), []);
});

test('ptz-steer: a camera whose own pan limits leave the alert out is not chosen; the next camera turns to it, the first gets no move', async () => {
  const { PtzSteer } = await import('../../lib/camera/steer');
  const { destination } = await import('../../lib/camera/geometry');
  const { steerAlert } = await import('../support/fake-ptz-camera');
  const near = await startCamera({ more: { panRangeDeg: [-90, 90] } });
  const far = await startCamera();
  const base = { lat: 45.0, lon: 4.0 };
  const nearCfg = loopbackCamera(near.port, { id: 'near', name: 'Near', ...base });
  const farCfg = loopbackCamera(far.port, { id: 'far', name: 'Far', ...destination(base, 180, 60) });
  const conns = [connect(nearCfg), connect(farCfg)];
  await Promise.all(conns.map((c) => c.ensureConnected()));
  const steer = new PtzSteer(() => conns, { pollMs: 50, moveTimeoutMs: 5000, returnHomeAfterMs: 0, minLookMs: 0 });
  cleanups.push(async () => steer.close());
  const out: Array<{ port: number; payload: { camera?: { id: string; state: string } }; error?: { code: string; message: string } }> = [];
  // 30 m south of the near camera: pan 180°, behind its wall.
  await steer.handle(steerAlert('glass-1', 'glass_break', destination(base, 180, 30)), (o) => out.push(o as never));
  const sent = out.filter((o) => o.port === 1).map((o) => o.payload.camera);
  assert.deepEqual(sent.map((c) => [c?.id, c?.state]), [['far', 'on-target']]);
  assert.deepEqual(near.cam.calls.filter((c) => /Move|GotoPreset/.test(c.action)), [], 'the near camera was not sent a move');
  // With the far camera gone, none can: output 2 names why the near one cannot.
  const alone = new PtzSteer(() => [conns[0]], { pollMs: 50, moveTimeoutMs: 5000, returnHomeAfterMs: 0, minLookMs: 0 });
  cleanups.push(async () => alone.close());
  const out2: typeof out = [];
  await alone.handle(steerAlert('glass-2', 'glass_break', destination(base, 180, 30)), (o) => out2.push(o as never));
  const err = out2.find((o) => o.port === 2)?.error;
  assert.equal(err?.code, 'no-camera');
  assert.match(err!.message, /near: bearing 180\.0°, tilt -\d+\.\d°: pan 180\.0° is beyond what the camera takes \(its position space's pan is -0\.5…0\.5: -90\.0…90\.0° with this calibration\)/);
});

test('a camera whose AbsoluteMove lands 3° off and which ignores RelativeMove is not out-of-range: ContinuousMove steps take it on target, and the notes say its aim is off', async () => {
  const { cam, port } = await startCamera({ quirks: ['relativeMoveIgnored'], more: { absolutePanErrorDeg: 3 } });
  const cfg = loopbackCamera(port);
  const conn = connect(cfg);
  // Well within its ranges (−180…180°, −90…20°).
  const r = await moveToTarget(conn, cfg.calibration, { panDeg: 40, tiltDeg: -20, hfovDeg: 30 }, { pollMs: 50, moveTimeoutMs: 5000 });
  assert.equal(r.state, 'on-target', `${r.error?.code}: ${r.notes.join('; ')}`);
  assert.equal(r.method, 'continuous');
  assert.match(r.notes.join('; '), /RelativeMove did not move it on: the camera stops at pan 43\.0°, tilt -20\.0°, 3\.0° from the target/);
  assert.match(r.notes.join('; '), /it lands off its aim \(an inaccurate AbsoluteMove\), not at an end of its travel/);
  assert.ok(Math.abs(cam.pose.panDeg - 40) <= 1, `pan ${cam.pose.panDeg}`);
  // Without ContinuousMove nothing tells the two apart: both are said, and another camera is tried (out-of-range).
  const { port: port2 } = await startCamera({ quirks: ['relativeMoveIgnored', 'noContinuousMove'], more: { absolutePanErrorDeg: 3 } });
  const cfg2 = loopbackCamera(port2);
  const r2 = await moveToTarget(connect(cfg2), cfg2.calibration, { panDeg: 40, tiltDeg: -20, hfovDeg: 30 }, { pollMs: 50, moveTimeoutMs: 5000 });
  assert.equal(r2.error?.code, 'out-of-range', r2.notes.join('; '));
  assert.match(r2.error!.message, /stops at pan 43\.0°, tilt -20\.0°, 3\.0° from the target, and a RelativeMove does not move it on: the target may be beyond its travel, or the camera lands off its aim and ignores RelativeMove/);
});
