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
