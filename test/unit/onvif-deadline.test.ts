/**
 * ONVIF command deadlines. A camera that closes the connection normally (FIN) part-way through
 * its reply leaves the `onvif` client's request with no answer, no error and no timeout; each
 * command and the connect have a deadline of their own in CameraConnection. Against a raw TCP
 * server that answers so, and the virtual camera's halfReply: the connect and a command end as
 * 'unreachable' at their deadline, the connection retries with back-off and its keep-alive goes
 * on, it recovers once the camera answers in full, close() waits for no hung command, and a
 * late answer is ignored.
 */
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { VirtualCamera } from '../../lib/sim/camera/virtual-camera';
import { CameraConnection, CameraError, ClientOptions, ConnectionOptions, OnvifClient } from '../../lib/camera/connection';
import { moveToTarget } from '../../lib/camera/mover';
import { DEFAULT_CALIBRATION } from '../../lib/camera/geometry';
import { CameraConfig } from '../../lib/camera/types';
import { loopbackCamera } from '../support/camera-config';
import { fakeOnvifClient } from '../support/fake-onvif';
import { waitFor } from '../support/wait';

const USER = 'operator';
const PASS = 'correct horse';
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

function config(port: number): CameraConfig {
  return loopbackCamera(port, { id: 'cam-h', name: 'Camera H' });
}

function connection(port: number, opts: Partial<ConnectionOptions> = {}): CameraConnection {
  const conn = new CameraConnection({ config: config(port), username: USER, password: PASS, keepAliveMs: 0, ...opts });
  cleanups.push(() => conn.close());
  return conn;
}

async function startCamera(): Promise<VirtualCamera> {
  const cam = new VirtualCamera({ username: USER, password: PASS, panSpeedDegPerS: 720, tiltSpeedDegPerS: 360, zoomSpeedPerS: 4 });
  await cam.start();
  cleanups.push(() => cam.stop());
  return cam;
}

/** `p`, or a rejection naming `what` if it is still pending after `boundMs` (a bound, not a timing). */
function settledWithin<T>(p: Promise<T>, boundMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still pending after ${boundMs} ms: ${what}`)), boundMs);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

function isCode(code: string, message?: RegExp) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof CameraError, `a CameraError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (message) assert.match(err.message, message);
    return true;
  };
}

/**
 * A "camera" on raw TCP: reads each HTTP request, answers the status line and headers (a body
 * of 400 bytes announced) and 200 bytes of it, then closes the connection normally (FIN).
 */
async function halfReplyServer(): Promise<{ port: number; requests: () => number; close: () => Promise<void> }> {
  let requests = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => undefined);
    let got = Buffer.alloc(0);
    sock.on('data', (d: Buffer) => {
      got = Buffer.concat([got, d]);
      const head = got.indexOf('\r\n\r\n');
      if (head < 0) return;
      const length = Number(/content-length:\s*(\d+)/i.exec(got.subarray(0, head).toString())?.[1] ?? 0);
      if (got.length < head + 4 + length) return;
      got = Buffer.alloc(0);
      requests++;
      const body = `<?xml version="1.0" encoding="UTF-8"?><env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"><env:Body>`.padEnd(400, ' ');
      sock.write(`HTTP/1.1 200 OK\r\nContent-Type: application/soap+xml; charset=utf-8\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 200)}`);
      sock.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    requests: () => requests,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

test('connect to a server that closes part-way through its reply: unreachable at the deadline, retried with back-off', async () => {
  const server = await halfReplyServer();
  cleanups.push(() => server.close());
  const conn = connection(server.port, { timeoutMs: 200, connectTimeoutMs: 400, backoff: { initialMs: 300, maxMs: 2000, jitter: 0 } });
  const states: Array<{ state: string; atMs: number; err?: CameraError }> = [];
  conn.on('state', (state: string, err?: CameraError) => states.push({ state, atMs: Date.now(), err }));
  conn.start();
  const failures = () => states.filter((s) => s.state === 'failed');
  await waitFor(() => failures().length >= 3, 15_000, 'three failed connection attempts');
  for (const f of failures()) {
    assert.equal(f.err?.code, 'unreachable');
    assert.match(f.err!.message, /^connect: camera unreachable: no complete answer within 400 ms/);
  }
  assert.deepEqual(
    states.slice(0, 6).map((s) => s.state),
    ['connecting', 'failed', 'connecting', 'failed', 'connecting', 'failed'],
  );
  // Each retry waited its back-off (no jitter here: 300 ms, then 600 ms), with nothing asking.
  const gap = (i: number) => states[i + 1].atMs - states[i].atMs;
  assert.ok(gap(1) >= 290, `first retry after ${gap(1)} ms`);
  assert.ok(gap(3) >= 590, `second retry after ${gap(3)} ms`);
  assert.ok(server.requests() >= 3, 'each attempt reached the server');
  // A command meanwhile tries at once, and fails the same way instead of waiting for ever.
  await assert.rejects(settledWithin(conn.getStatus(), 10_000, 'GetStatus'), isCode('unreachable', /^connect: camera unreachable/));
});

test('the virtual camera cutting its replies short: the connect ends at its deadline, and recovers once it answers in full', async () => {
  const cam = await startCamera();
  // Each step of a connection in turn: connect() itself, then the two commands read after it.
  for (const [action, message] of [
    ['GetProfiles', /^connect: camera unreachable: no complete answer within 600 ms/],
    ['GetPresets', /^connect: GetPresets: camera unreachable: no complete answer within 300 ms/],
    ['GetConfigurationOptions', /^connect: GetConfigurationOptions: camera unreachable: no complete answer within 300 ms/],
  ] as const) {
    cam.halfReply([action]);
    const conn = connection(cam.port, { timeoutMs: 300, connectTimeoutMs: 600, backoff: { initialMs: 100, maxMs: 400 } });
    const states: string[] = [];
    conn.on('state', (s: string) => states.push(s));
    await assert.rejects(settledWithin(conn.ensureConnected(), 10_000, `connect with ${action} cut short`), isCode('unreachable', message));
    assert.ok(cam.calls.some((c) => c.action === action && c.halfReplied), `${action} was answered by half`);
    assert.ok(states.includes('failed'), action);
    // Retried with back-off, by itself; connected once the camera answers in full.
    await waitFor(() => states.filter((s) => s === 'connecting').length >= 2, 10_000, `a retry after ${action} failed`);
    cam.halfReply([]);
    await waitFor(() => conn.state === 'connected', 10_000, `connected again after ${action}`);
    assert.equal(conn.lastError, undefined);
    await conn.close();
  }
});

test('a command whose reply is cut short ends at its deadline; the connection reconnects, keeps its keep-alive, and moves again', async () => {
  const cam = await startCamera();
  const conn = connection(cam.port, { timeoutMs: 400, keepAliveMs: 150, backoff: { initialMs: 100, maxMs: 400 } });
  const states: string[] = [];
  conn.on('state', (s: string) => states.push(s));
  conn.start();
  await waitFor(() => conn.state === 'connected', 10_000, 'connected');
  const failures = () => states.filter((s) => s === 'failed').length;

  // AbsoluteMove cut short: the move gives up with 'unreachable' instead of waiting for ever.
  cam.halfReply(['AbsoluteMove']);
  const target = { panDeg: 60, tiltDeg: -10, hfovDeg: 40 };
  const r = await settledWithin(moveToTarget(conn, DEFAULT_CALIBRATION, target, { moveTimeoutMs: 3000 }), 15_000, 'moveToTarget');
  assert.equal(r.state, 'failed');
  assert.equal(r.error?.code, 'unreachable');
  assert.match(r.error!.message, /^AbsoluteMove: camera unreachable: no complete answer within 400 ms/);
  assert.ok(cam.calls.some((c) => c.action === 'AbsoluteMove' && c.halfReplied));
  assert.ok(failures() >= 1, 'the camera was marked failed');
  // Its client dropped, the connection reconnects by itself (connecting uses no AbsoluteMove).
  await waitFor(() => conn.state === 'connected', 10_000, 'reconnected after the AbsoluteMove');

  // GetStatus cut short: the keep-alive sees it, the connection fails and reconnects, and the
  // keep-alive is armed again each time.
  cam.halfReply(['GetStatus']);
  const before = failures();
  await waitFor(() => failures() >= before + 2, 15_000, 'the keep-alive failing twice');
  assert.match(conn.lastError?.message ?? '', /^GetStatus: camera unreachable: no complete answer within 400 ms/);

  // Answering in full again: connected, polled by the keep-alive, and moving.
  cam.halfReply([]);
  await waitFor(() => conn.state === 'connected', 10_000, 'connected once the camera answers in full');
  const polled = cam.calls.filter((c) => c.action === 'GetStatus').length;
  await waitFor(() => cam.calls.filter((c) => c.action === 'GetStatus').length >= polled + 2, 10_000, 'the keep-alive polling again');
  const ok = await moveToTarget(conn, DEFAULT_CALIBRATION, target, { moveTimeoutMs: 5000 });
  assert.equal(ok.state, 'on-target', ok.notes.join('; '));
});

test('close() ends a command and a connect that hang at once, with "closed", long before their deadlines', async () => {
  const cam = await startCamera();
  const conn = connection(cam.port, { timeoutMs: 600_000, connectTimeoutMs: 600_000 });
  await conn.ensureConnected();
  cam.halfReply(['AbsoluteMove']);
  const move = conn.absoluteMove({ pan: 0.5, tilt: 0, zoom: 0 });
  await waitFor(() => cam.calls.some((c) => c.action === 'AbsoluteMove' && c.halfReplied), 10_000, 'AbsoluteMove answered by half');
  await conn.close();
  await assert.rejects(settledWithin(move, 5000, 'the hung AbsoluteMove after close()'), isCode('closed'));
  assert.equal(conn.state, 'closed');

  cam.halfReply(['GetSystemDateAndTime']);
  const other = connection(cam.port, { timeoutMs: 600_000, connectTimeoutMs: 600_000 });
  const connecting = other.ensureConnected();
  await waitFor(() => cam.calls.some((c) => c.action === 'GetSystemDateAndTime' && c.halfReplied), 10_000, 'connect answered by half');
  await other.close();
  await assert.rejects(settledWithin(connecting, 5000, 'the hung connect after close()'), isCode('closed'));
  assert.equal(other.state, 'closed');
});

test('answers that come after the deadline are ignored: no second outcome, no unhandled rejection, not connected by a late connect', async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown) => unhandled.push(e);
  process.on('unhandledRejection', onUnhandled);
  cleanups.push(async () => void process.off('unhandledRejection', onUnhandled));
  // A client whose answers the test gives by hand, after the deadlines.
  const late: Array<{ resolve: (v: unknown) => void; reject: (e: unknown) => void }> = [];
  const deferred = <T>() =>
    new Promise<T>((resolve, reject) => {
      late.push({ resolve: resolve as (v: unknown) => void, reject });
    });
  let hang = true;
  const clients: ClientOptions[] = [];
  const make = (o: ClientOptions): OnvifClient => {
    clients.push(o);
    const answer = <T>(v: T): Promise<T> => (hang ? deferred<T>() : Promise.resolve(v));
    return fakeOnvifClient(answer);
  };
  const conn = connection(1, { timeoutMs: 50, connectTimeoutMs: 80, createClient: make, backoff: { initialMs: 60_000 } });
  const states: string[] = [];
  conn.on('state', (s: string) => states.push(s));
  conn.start();
  await waitFor(() => conn.state === 'failed', 5000, 'the hung connect failed');
  // The late connect succeeds: the connection stays failed, with no event (it waits for its retry).
  late.shift()!.resolve(undefined);
  await new Promise((r) => setImmediate(r));
  assert.equal(conn.state, 'failed');
  assert.deepEqual(states, ['connecting', 'failed']);

  // Connected (answers at once), then a command that hangs and fails late.
  hang = false;
  await conn.ensureConnected();
  hang = true;
  const outcomes: string[] = [];
  const move = conn.absoluteMove({ pan: 0.1, tilt: 0, zoom: 0 }).then(
    () => outcomes.push('resolved'),
    (e: CameraError) => outcomes.push(`rejected ${e.code}`),
  );
  await move;
  assert.deepEqual(outcomes, ['rejected unreachable']);
  late.shift()!.reject(new Error('socket hang up'));
  late.shift()?.reject(new Error('socket hang up'));
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  assert.deepEqual(outcomes, ['rejected unreachable'], 'one outcome only');
  assert.deepEqual(unhandled, [], 'no unhandled rejection');
  assert.equal(clients[0].timeout, 50, 'the client’s own socket timeout is the command deadline');
});
