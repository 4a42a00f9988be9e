/**
 * What a camera's stream URI may make ffmpeg read: only rtsp:, rtsps:, http: and https:
 * sources, and every ffmpeg reading a camera runs with a protocol whitelist, so a camera (or
 * whoever answers in its name) cannot have Vigie relay a file of the gateway. Checked with real
 * ffmpeg against a local file, a real RTSP server (over TCP and UDP) and the virtual camera.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CAMERA_PROTOCOL_WHITELIST, checkCameraUrl, FfmpegProcess, frameGrabArgs, liveArgs, mjpegArgs, SourceError, withCredentials } from '../../lib/video/ffmpeg';
import { fetchSnapshot, grabFrame } from '../../lib/video/snapshot';
import { VideoManager } from '../../lib/video/manager';
import { concatScript } from '../../lib/util/url-credentials';
import { isJpeg } from '../../lib/video/jpeg';
import { VirtualCamera } from '../../lib/sim/camera/virtual-camera';
import { RtspServer, startRtspServer } from '../support/video-sources';
import { waitFor } from '../support/wait';

let dir: string;
let localJpeg: string;
let rtsp: RtspServer;

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-guard-'));
  localJpeg = path.join(dir, 'local-secret.jpg');
  execFileSync('ffmpeg', ['-y', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc=size=64x48', '-frames:v', '1', localJpeg]);
  rtsp = await startRtspServer({ noAudio: true, width: 320, height: 240 });
});

after(async () => {
  await rtsp?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('checkCameraUrl accepts rtsp, rtsps, http and https, and refuses any other scheme naming where the URL came from', () => {
  for (const ok of ['rtsp://cam/s', 'RTSPS://cam:322/s', 'http://cam/live.ts', 'https://u:p@cam/x?y=1']) checkCameraUrl(ok, 'stream URI');
  for (const bad of ['file:/etc/passwd', '/etc/passwd', 'pipe:0', 'concat:rtsp://a|file:/x', 'subfile:,start,0,end,0,:/x', 'data:image/jpeg;base64,AA', 'udp://0.0.0.0:1', 'tcp://cam:1', 'rtp://cam:1', '']) {
    assert.throws(
      () => checkCameraUrl(bad, 'camera "c1": stream URI (GetStreamUri)'),
      (e: unknown) => e instanceof SourceError && e.code === 'bad-url' && e.message.startsWith('camera "c1": stream URI (GetStreamUri)') && /only rtsp:, rtsps:, http:, https:/.test(e.message),
      bad,
    );
  }
  // A line break would let the URL add a line of its own to ffmpeg's input script.
  assert.throws(() => checkCameraUrl("rtsp://u:p@cam/x\nfile 'file:/etc/passwd'", 'stream URI'), /space or a control character/);
  assert.throws(() => checkCameraUrl('rtsp://cam/x y', 'stream URI'), /space or a control character/);
  // the password is not in the message
  assert.throws(() => checkCameraUrl('file://u:hunter2@x/y', 'stream URI'), (e: unknown) => !(e as Error).message.includes('hunter2'));
});

test('every ffmpeg command reading a camera carries the protocol whitelist, with or without credentials', () => {
  const plain = 'rtsp://cam/s';
  const withCreds = withCredentials(plain, 'u', 'p');
  for (const url of [plain, withCreds, 'http://cam/live.ts']) {
    for (const args of [liveArgs(url), mjpegArgs(url, { fps: 5, width: 640 }), frameGrabArgs(url)]) {
      const i = args.indexOf('-protocol_whitelist');
      assert.ok(i >= 0 && i < args.indexOf('-i'), `whitelist before the input: ${args.join(' ')}`);
      const list = args[i + 1].split(',');
      assert.deepEqual(list.filter((p) => p !== 'pipe'), CAMERA_PROTOCOL_WHITELIST.split(','));
      assert.ok(!list.includes('file'), 'never file');
    }
  }
});

test('the input script refuses a URL or option with a line break', () => {
  assert.throws(() => concatScript("rtsp://u:p@cam/x\nfile 'file:/etc/passwd'"), /line break/);
  assert.throws(() => concatScript('rtsp://u:p@cam/x', [['timeout', '1\rfile x']]), /line break/);
  assert.match(concatScript('rtsp://u:p@cam/x'), /^ffconcat version 1\.0\nfile 'rtsp:\/\/u:p@cam\/x'\n$/);
});

test('real ffmpeg refuses a file: source even when the scheme check is bypassed, on the command line and in the input script', async () => {
  // (a file: URL cannot carry credentials: withCredentials leaves it on the command line)
  for (const url of [`file:${localJpeg}`, withCredentials(`file://localhost${localJpeg}`, 'u', 'p')]) {
    await assert.rejects(grabFrame('ffmpeg', url, { timeoutMs: 10_000 }), (e: unknown) => e instanceof SourceError && e.code === 'bad-url' && /needs the "file" protocol, which is not read from a camera/.test(e.message), url);
  }
  // The input script (a URL with credentials) is read with the same list: a script naming a file is refused.
  const proc = new FfmpegProcess('ffmpeg', frameGrabArgs(withCredentials(rtsp.url, 'u', 'p')), concatScript(`file:${localJpeg}`));
  const chunks: Buffer[] = [];
  proc.stdout?.on('data', (c: Buffer) => chunks.push(c));
  const { code } = await proc.exited;
  assert.notEqual(code, 0);
  assert.equal(chunks.length, 0, 'no picture of the file');
  assert.match(proc.stderr, /Protocol 'file' not on whitelist/);
  // the snapshot fetch reads http(s) only
  await assert.rejects(fetchSnapshot(`file:${localJpeg}`), (e: unknown) => e instanceof SourceError && e.code === 'bad-url');
});

test('with the whitelist, real ffmpeg still reads a real RTSP server over TCP and over UDP', async () => {
  for (const transport of ['tcp', 'udp'] as const) {
    const jpeg = await grabFrame('ffmpeg', rtsp.url, { transport, timeoutMs: 30_000 });
    assert.ok(isJpeg(jpeg), transport);
  }
  // and through the input script (credentials in the URL: the server ignores them)
  assert.ok(isJpeg(await grabFrame('ffmpeg', withCredentials(rtsp.url, 'u', 'p'), { timeoutMs: 30_000 })));
});

test('the virtual camera: its HTTP stream and its RTSP stream (GetStreamUri) are read with the whitelist', async () => {
  const cam = new VirtualCamera({ username: 'u', password: 'p', rtsp: true });
  await cam.start();
  try {
    const base = cam.url.replace('/onvif/device_service', '');
    assert.ok(isJpeg(await grabFrame('ffmpeg', `${base}/live.ts`, { timeoutMs: 30_000 })), 'http');
    assert.ok(cam.rtspUrl, 'the camera serves RTSP');
    assert.ok(isJpeg(await grabFrame('ffmpeg', cam.rtspUrl!, { timeoutMs: 30_000 })), 'rtsp');
  } finally {
    await cam.stop();
  }
});

test('a camera whose stream URI is a file: the relay refuses it naming the field, and its alert snapshot is not grabbed from it', async () => {
  const errors: Error[] = [];
  const mgr = new VideoManager({
    resolveSource: async () => ({ streamUrl: `file:${localJpeg}` }),
    knowsCamera: () => true,
    backoff: { initialMs: 50, maxMs: 200 },
  });
  mgr.on('source-error', (e: { error: Error }) => errors.push(e.error));
  try {
    const r = mgr.alert('a1', 'cam-f');
    assert.equal(await r.snapshot, undefined, 'no picture from a file');
    await waitFor(() => errors.length > 0, 20_000, 'the relay says why it cannot start');
    assert.equal((errors[0] as SourceError).code, 'bad-url');
    assert.match(errors[0].message, /camera "cam-f": stream URI \(its vigie-camera's Stream URL, else ONVIF GetStreamUri\) "file:.*" is refused/);
    assert.deepEqual(mgr.pids(), [], 'no ffmpeg ran');
  } finally {
    await mgr.close();
  }
});
