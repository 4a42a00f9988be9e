/**
 * A refused login is retried slowly (AUTH_RETRY_MS), not with the back-off: cameras lock an
 * account after a few wrong logins in a row. A fake clock and a fake onvif client.
 */
import { test, mock, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { AUTH_RETRY_MS, CameraConnection, CameraError, OnvifClient } from '../../lib/camera/connection';
import { loopbackCamera } from '../support/camera-config';
import { fakeOnvifClient } from '../support/fake-onvif';
import { NTP_FIRST_SYNC_STEP_MS, stepWallClock } from '../support/wall-clock';

afterEach(() => mock.timers.reset());

/** Lets the fake client's promises and the connection's handlers run (setImmediate is not faked). */
const flush = async () => {
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
};

function fakeCamera() {
  const seen = { attempts: 0, loginAccepted: false };
  const make = (): OnvifClient => {
    return fakeOnvifClient((v) => Promise.resolve(v), {
      connect: () => {
        seen.attempts++;
        return seen.loginAccepted ? Promise.resolve(undefined) : Promise.reject(new Error('ONVIF SOAP Fault: Sender not authorized'));
      },
      profiles: [{ $: { token: 'p1' }, name: 'main', PTZConfiguration: { $: { token: 'c1' } } }],
    } as Partial<OnvifClient>);
  };
  return { seen, make };
}

test('a wrong password is tried again only after AUTH_RETRY_MS, commands meanwhile fail at once, and the warning says why', async () => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  const { seen, make } = fakeCamera();
  const conn = new CameraConnection({ config: loopbackCamera(1), username: 'op', password: 'wrong', createClient: make, backoff: { initialMs: 500, maxMs: 30_000 }, keepAliveMs: 0 });
  conn.start();
  await flush();
  assert.equal(conn.state, 'failed');
  assert.equal(conn.lastError?.code, 'auth');
  assert.equal(seen.attempts, 1);
  assert.match(conn.retryWords, /^retrying every 5 min only, as the camera may lock out repeated wrong logins$/);

  // A command (an alert) does not try the login again.
  await assert.rejects(conn.ensureConnected(), (e: CameraError) => e.code === 'auth');
  assert.equal(seen.attempts, 1);

  // Back-off steps (0.5 s … 30 s) pass many times over: still one attempt.
  let elapsedMs = 0;
  while (elapsedMs < AUTH_RETRY_MS - 1000) {
    const stepMs = Math.min(10_000, AUTH_RETRY_MS - 1000 - elapsedMs);
    mock.timers.tick(stepMs);
    elapsedMs += stepMs;
    await flush();
  }
  assert.equal(seen.attempts, 1);

  // The password fixed on the camera's side: the slow retry connects.
  seen.loginAccepted = true;
  mock.timers.tick(1000);
  await flush();
  assert.equal(seen.attempts, 2);
  assert.equal(conn.state, 'connected');
  assert.equal(conn.retryWords, 'retrying with back-off');
  await conn.close();
});

test('a camera that cannot be reached is still retried with the back-off', async () => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  let attempts = 0;
  const { make } = fakeCamera();
  const unreachable = (): OnvifClient => ({
    ...make(),
    connect: () => {
      attempts++;
      return Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
    },
  });
  const conn = new CameraConnection({ config: loopbackCamera(1), username: 'op', password: 'x', createClient: unreachable, backoff: { initialMs: 500, maxMs: 30_000 }, keepAliveMs: 0 });
  conn.start();
  await flush();
  for (let i = 0; i < 6; i++) {
    mock.timers.tick(30_000);
    await flush();
  }
  assert.ok(attempts >= 5, `attempts ${attempts}`);
  assert.equal(conn.retryWords, 'retrying with back-off');
  await conn.close();
});

test('a wall clock step forward (NTP sync after boot) does not end the wait after a refused login: commands still fail at once', async () => {
  const wall = stepWallClock();
  const { seen, make } = fakeCamera();
  const conn = new CameraConnection({ config: loopbackCamera(1), username: 'op', password: 'wrong', createClient: make, keepAliveMs: 0 });
  try {
    conn.start();
    await flush();
    assert.equal(conn.lastError?.code, 'auth');
    assert.equal(seen.attempts, 1);
    wall.step(NTP_FIRST_SYNC_STEP_MS);
    await assert.rejects(conn.ensureConnected(), (e: CameraError) => e.code === 'auth');
    assert.equal(seen.attempts, 1, 'the login is not tried again before AUTH_RETRY_MS');
  } finally {
    wall.restore();
    await conn.close();
  }
});
