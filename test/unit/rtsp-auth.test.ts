/**
 * What authentication a camera's plain rtsp:// stream asks for, from one DESCRIBE sent without
 * credentials: against the real GStreamer RTSP server of the tests (Basic, or none), and a
 * socket answering as a camera offering Digest and Basic does.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { basicOnly, rtspAuthSchemes } from '../../lib/video/rtsp-auth';
import { RtspServer, startRtspServer } from '../support/video-sources';
import { waitFor } from '../support/wait';
import { silentServer } from '../support/silent-server';

let basicServer: RtspServer;
let openServer: RtspServer;

before(async () => {
  basicServer = await startRtspServer({ user: 'op', password: 's3cret' });
  openServer = await startRtspServer();
});

after(async () => {
  await basicServer?.stop();
  await openServer?.stop();
});

test('a stream asking for Basic only: "basic", and the probe sends no credentials even when the URL has them', async () => {
  const url = new URL(basicServer.url);
  url.username = 'op';
  url.password = 's3cret';
  const schemes = await rtspAuthSchemes(url.href);
  assert.deepEqual(schemes, ['basic']);
  assert.equal(basicOnly(schemes), true);
});

test('a stream asking for no authentication: none', async () => {
  assert.deepEqual(await rtspAuthSchemes(openServer.url), []);
});

test('a camera offering Digest and Basic (ffmpeg answers Digest): not Basic only; what was sent carries no password', async () => {
  let request = '';
  const camera = net.createServer((s) => {
    s.setEncoding('latin1');
    s.on('data', (d: string) => {
      request += d;
      if (request.includes('\r\n\r\n'))
        s.end('RTSP/1.0 401 Unauthorized\r\nCSeq: 1\r\nWWW-Authenticate: Digest realm="cam", nonce="abc"\r\nWWW-Authenticate: Basic realm="cam"\r\n\r\n');
    });
  });
  await new Promise<void>((resolve) => camera.listen(0, '127.0.0.1', resolve));
  try {
    const port = (camera.address() as net.AddressInfo).port;
    const schemes = await rtspAuthSchemes(`rtsp://admin:pw@127.0.0.1:${port}/stream1`);
    assert.deepEqual(schemes, ['digest', 'basic']);
    assert.equal(basicOnly(schemes), false);
    assert.match(request, /^DESCRIBE rtsp:\/\/127\.0\.0\.1:\d+\/stream1 RTSP\/1\.0\r\n/);
    assert.ok(!request.includes('pw') && !/authorization/i.test(request), request);
  } finally {
    camera.close();
  }
});

test('nothing listening: rejects (the relay says so itself)', async () => {
  const spare = net.createServer();
  await new Promise<void>((resolve) => spare.listen(0, '127.0.0.1', resolve));
  const port = (spare.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => spare.close(() => resolve()));
  await assert.rejects(rtspAuthSchemes(`rtsp://127.0.0.1:${port}/x`, 2000));
});

/** A camera that takes every connection and answers nothing; `probes` are those that sent the probe's DESCRIBE. */
async function silentCamera(): Promise<{ port: number; probes: net.Socket[]; close(): Promise<void> }> {
  const probes: net.Socket[] = [];
  const server = await silentServer((s, first) => {
    if (/User-Agent: vigie\r\n/.test(first.toString('latin1'))) probes.push(s);
  });
  return { port: server.port, probes, close: server.close };
}

const closedSoon = (s: net.Socket, withinMs: number) => waitFor(() => s.destroyed, withinMs, "the probe's socket closed");

test('a camera that never answers: aborting the probe closes its socket at once, not at its timeout', async () => {
  const cam = await silentCamera();
  try {
    const ac = new AbortController();
    const asked = rtspAuthSchemes(`rtsp://127.0.0.1:${cam.port}/x`, 60_000, ac.signal);
    const settled = asked.then(() => 'resolved', (e: Error) => e.message);
    await waitFor(() => cam.probes.length, 20_000, 'the probe sent');
    ac.abort();
    assert.match(await settled, /^stopped before 127\.0\.0\.1:\d+ answered$/);
    await closedSoon(cam.probes[0], 5000);
    // Already aborted: nothing is sent.
    await assert.rejects(rtspAuthSchemes(`rtsp://127.0.0.1:${cam.port}/y`, 60_000, ac.signal), /stopped/);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(cam.probes.length, 1);
  } finally {
    await cam.close();
  }
});

test("the video manager's close() ends its stream authentication probe to a camera that never answers (its I/O timeout is 60 s)", async () => {
  const { VideoManager } = await import('../../lib/video/manager');
  const cam = await silentCamera();
  const mgr = new VideoManager({
    resolveSource: async () => ({ streamUrl: `rtsp://127.0.0.1:${cam.port}/live`, username: 'op', password: 's3cret', ownHosts: ['127.0.0.1'] }),
    knowsCamera: () => true,
    backoff: { initialMs: 100, maxMs: 400 },
    ioTimeoutMs: 60_000,
  });
  try {
    mgr.ensure('c1', 'mse');
    await waitFor(() => cam.probes.length, 20_000, 'the manager asking the camera which authentication its stream takes');
    assert.equal(cam.probes.length, 1);
    await mgr.close();
    await closedSoon(cam.probes[0], 5000);
  } finally {
    await mgr.close();
    await cam.close();
  }
});

test('the video manager says a stream asks for Basic only once per camera and address, and again once the camera is set otherwise', async () => {
  const { VideoManager } = await import('../../lib/video/manager');
  let version = 1;
  const mgr = new VideoManager({
    resolveSource: async () => ({ streamUrl: basicServer.url, username: 'op', password: version === 1 ? 's3cret' : 'new-one', ownHosts: ['127.0.0.1'] }),
    knowsCamera: () => true,
    sourceIdentity: () => version,
    backoff: { initialMs: 100, maxMs: 400 },
    ioTimeoutMs: 10_000,
  });
  const said: string[] = [];
  mgr.on('basic-over-rtsp', (e: { cameraId: string }) => said.push(e.cameraId));
  const saidTimes = async (n: number) => {
    await waitFor(() => said.length >= n, 15_000, `warning ${n}`);
    await new Promise((r) => setTimeout(r, 500)); // none more
    assert.deepEqual(said, Array(n).fill('c1'));
  };
  try {
    mgr.ensure('c1', 'mse');
    await saidTimes(1);
    mgr.ensure('c1', 'mjpeg');
    await saidTimes(1);
    // Redeployed with another password: its relays restart and the stream is asked again.
    version = 2;
    mgr.cameraChanged('c1');
    await saidTimes(2);
  } finally {
    await mgr.close();
  }
});
