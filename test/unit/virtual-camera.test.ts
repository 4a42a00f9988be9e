/**
 * The virtual camera's own behaviour: slew model, presets, digest checks, and its picture:
 * ffprobe reads the live stream (H.264 video AND an audio track, so the relay's audio drop is
 * tested against it), the snapshot is a JPEG, the encoder runs only while someone watches.
 */
import { test, afterEach, mock } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import { EventEmitter } from 'node:events';
import * as net from 'node:net';
import { VirtualCamera, parseDurationMs } from '../../lib/sim/camera/virtual-camera';
import { PtzModel } from '../../lib/sim/camera/ptz-model';
import { parseXml, path } from '../../lib/sim/camera/xml';
import { SoapFault, faults } from '../../lib/sim/camera/soap';
import { waitFor } from '../support/wait';

const cams: VirtualCamera[] = [];
afterEach(async () => {
  while (cams.length) await cams.pop()!.stop();
});

async function start(opts: Partial<ConstructorParameters<typeof VirtualCamera>[0]> = {}) {
  const c = new VirtualCamera({ username: 'u', password: 'p', ...opts });
  await c.start();
  cams.push(c);
  return c;
}

function ffprobe(url: string): Promise<Array<{ codec_type: string; codec_name: string; width?: number; height?: number }>> {
  return new Promise((resolve, reject) => {
    execFile('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_type,codec_name,width,height', '-of', 'json', url], { timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`ffprobe failed: ${stderr || err.message}`));
      else resolve(JSON.parse(stdout).streams);
    });
  });
}

test('slew model: finite speed, short way round, velocity moves end at their timeout', () => {
  let now = 0;
  const m = new PtzModel({ panDeg: 170, tiltDeg: 0, zoom: 0 }, { tiltMinDeg: -90, tiltMaxDeg: 20 }, { panSpeedDegPerS: 10, tiltSpeedDegPerS: 5, zoomSpeedPerS: 0.1 }, () => now);
  m.moveTo({ panDeg: -170, tiltDeg: -10, zoom: 0.5 });
  now = 1000;
  let p = m.read();
  assert.equal(p.moving, true);
  assert.equal(p.panDeg, 180); // 170 → 180 on the way to −170, not back through 0
  assert.equal(p.tiltDeg, -5);
  now = 5000;
  p = m.read();
  assert.equal(p.panDeg, -170);
  assert.equal(p.tiltDeg, -10);
  assert.ok(Math.abs(p.zoom - 0.5) < 1e-9);
  assert.equal(p.moving, false);
  m.moveVelocity(-1, 0, 0, 7000);
  now = 10_000;
  p = m.read();
  assert.equal(p.panDeg, 170); // 2 s at −10°/s from −170 wraps to 170
  assert.equal(p.moving, false);
  m.moveVelocity(0, -1, 0, Infinity);
  now = 30_000;
  assert.equal(m.read().tiltDeg, -90, 'tilt clamps at its limit');
  assert.equal(m.read().moving, true, 'moves until stop');
  m.stop();
  assert.equal(m.read().moving, false);
});

test('xml reader and durations', () => {
  const x = parseXml('<?xml version="1.0"?><s:Envelope xmlns:s="x"><s:Body><A b:c="1 &amp; 2"><T>PT1.5S</T></A></s:Body></s:Envelope>');
  assert.equal(path(x, 'Body', 'A')!.attrs.c, '1 & 2');
  assert.equal(path(x, 'Body', 'A', 'T')!.text, 'PT1.5S');
  assert.throws(() => parseXml('<a><b></a>'), /unexpected/);
  assert.equal(parseDurationMs('PT1.5S'), 1500);
  assert.equal(parseDurationMs('PT1M'), 60_000);
  assert.equal(parseDurationMs('5 seconds'), undefined);
  const f: SoapFault = faults.invalidArg('InvalidPosition', 'x out of range');
  assert.match(f.toXml(), /<env:Value>ter:InvalidArgVal<\/env:Value><env:Subcode><env:Value>ter:InvalidPosition/);
  assert.match(faults.notAuthorized().toXml(), /ter:NotAuthorized/);
});

test('WS-Security digest: a correct digest passes, a replayed nonce and a stale Created do not', async () => {
  const cam = await start();
  const send = (created: string, nonce: Buffer, password: string) => {
    const digest = crypto.createHash('sha1').update(Buffer.concat([nonce, Buffer.from(created), Buffer.from(password)])).digest('base64');
    const body =
      '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Header><Security xmlns="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"><UsernameToken>' +
      `<Username>u</Username><Password Type="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest">${digest}</Password>` +
      `<Nonce>${nonce.toString('base64')}</Nonce><Created>${created}</Created></UsernameToken></Security></s:Header>` +
      '<s:Body><GetDeviceInformation xmlns="http://www.onvif.org/ver10/device/wsdl"/></s:Body></s:Envelope>';
    return fetch(`http://127.0.0.1:${cam.port}/onvif/device_service`, { method: 'POST', body }).then(async (r) => ({ status: r.status, text: await r.text() }));
  };
  const nonce = crypto.randomBytes(16);
  const now = new Date().toISOString();
  const ok = await send(now, nonce, 'p');
  assert.equal(ok.status, 200);
  assert.match(ok.text, /<tds:Model>Virtual PTZ<\/tds:Model>/);
  assert.equal((await send(now, nonce, 'p')).status, 400, 'replayed nonce');
  assert.equal((await send(new Date(Date.now() - 3_600_000).toISOString(), crypto.randomBytes(16), 'p')).status, 400, 'stale Created');
  const wrong = await send(new Date().toISOString(), crypto.randomBytes(16), 'not-p');
  assert.equal(wrong.status, 400);
  assert.match(wrong.text, /ter:NotAuthorized/);
  assert.ok(!wrong.text.includes('not-p'));
});

test('unknown quirks and missing credentials are refused at construction', () => {
  assert.throws(() => new VirtualCamera({ username: 'u', password: 'p', quirks: ['bogus' as never] }), /unknown quirk "bogus"/);
  assert.throws(() => new VirtualCamera({ username: '', password: 'p' }), /username and password/);
});

test('ffprobe reads the live stream: H.264 video and an audio track; the encoder stops when nobody watches', async () => {
  const cam = await start({ initialPose: { panDeg: 45 } });
  assert.equal(cam.encoderRunning, false, 'encoder started before any client');
  const streams = await ffprobe(`http://127.0.0.1:${cam.port}/live.ts`);
  const video = streams.find((s) => s.codec_type === 'video');
  const audio = streams.find((s) => s.codec_type === 'audio');
  assert.equal(video?.codec_name, 'h264');
  assert.equal(video?.width, 640);
  assert.equal(video?.height, 360);
  assert.ok(audio, 'the virtual camera stream must carry an audio track');
  await waitFor(() => cam.liveClients === 0 && !cam.encoderRunning, 15_000);
});

test('two clients share one encoder', async () => {
  const cam = await start();
  const a = new AbortController();
  const b = new AbortController();
  const r1 = await fetch(`http://127.0.0.1:${cam.port}/live.ts`, { signal: a.signal });
  const r2 = await fetch(`http://127.0.0.1:${cam.port}/live.ts`, { signal: b.signal });
  const read1 = r1.body!.getReader();
  const read2 = r2.body!.getReader();
  const c1 = await read1.read();
  const c2 = await read2.read();
  assert.ok(c1.value && c1.value[0] === 0x47, 'MPEG-TS sync byte');
  assert.ok(c2.value && c2.value.length > 0);
  assert.equal(cam.liveClients, 2);
  assert.equal(cam.encoderRunning, true);
  a.abort();
  await read1.cancel().catch(() => undefined);
  await waitFor(() => cam.liveClients === 1, 15_000);
  assert.equal(cam.encoderRunning, true);
  b.abort();
  await read2.cancel().catch(() => undefined);
  await waitFor(() => cam.liveClients === 0 && !cam.encoderRunning, 15_000);
});

/** Pids of this process's ffmpeg children (the encoder; a snapshot's ffmpeg is not started here). */
function ffmpegChildren(): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(process.pid), '-x', 'ffmpeg']).toString().trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return []; // pgrep exits 1 when there is none
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('stop() waits for an encoder still exiting after its last client left, so no ffmpeg outlives the camera', async () => {
  const cam = await start();
  const a = new AbortController();
  const r = await fetch(`http://127.0.0.1:${cam.port}/live.ts`, { signal: a.signal });
  const reader = r.body!.getReader();
  assert.ok((await reader.read()).value?.length, 'the stream runs');
  const [encoder] = ffmpegChildren();
  assert.ok(encoder, 'the encoder is a child ffmpeg');
  // A slow exit made certain: a stopped process takes SIGTERM only once continued, so this
  // encoder exits only by the stop's SIGKILL (2 s), long after an unawaited stop returned.
  process.kill(encoder, 'SIGSTOP');
  try {
    a.abort();
    await reader.cancel().catch(() => undefined);
    // The last client left: the encoder is told to stop, and nobody waits for it.
    await waitFor(() => cam.liveClients === 0 && !cam.encoderRunning, 15_000);
    assert.equal(alive(encoder), true, 'still exiting');
    await cam.stop();
    cams.splice(cams.indexOf(cam), 1);
    assert.equal(alive(encoder), false, `encoder ${encoder} has exited once stop() resolved`);
  } finally {
    if (alive(encoder)) process.kill(encoder, 'SIGKILL');
  }
});

test('frozen, the camera answers nothing and its stream stops, connections open; thawed, both resume; its encoder can die', async () => {
  const cam = await start({ fps: 10 });
  const res = await fetch(`http://127.0.0.1:${cam.port}/live.ts`);
  const reader = res.body!.getReader();
  let bytes = 0;
  let lastBytesAtMs = Date.now();
  let ended = false;
  const reading = (async () => {
    for (;;) {
      const r = await reader.read().catch(() => ({ done: true, value: undefined }));
      if (r.done) break;
      bytes += r.value!.length;
      lastBytesAtMs = Date.now();
    }
    ended = true;
  })();
  await waitFor(() => bytes > 10_000, 15_000, 'video flowing');
  cam.freeze();
  assert.equal(cam.frozen, true);
  const soap = '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><GetSystemDateAndTime xmlns="http://www.onvif.org/ver10/device/wsdl"/></s:Body></s:Envelope>';
  let answered = false;
  const asked = fetch(`http://127.0.0.1:${cam.port}/onvif/device_service`, { method: 'POST', body: soap, headers: { 'Content-Type': 'application/soap+xml' } }).then((r) => {
    answered = true;
    return r.status;
  });
  // What the encoder had in hand drains first, however long a loaded machine takes: the
  // stream counts as stopped once nothing came for 0.5 s (five frames at 10 fps).
  await waitFor(() => Date.now() - lastBytesAtMs >= 500, 15_000, 'the stream to stop after the freeze');
  const atFreeze = bytes;
  // A negative check, so a fixed wait: then nothing comes, and nothing is answered (ten frames' time).
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal(bytes, atFreeze, 'no video while frozen');
  assert.equal(ended, false, 'the stream stays open');
  assert.equal(answered, false, 'no ONVIF answer while frozen');
  cam.thaw();
  assert.equal(await asked, 200, 'the held request is answered at thaw');
  await waitFor(() => bytes > atFreeze + 10_000, 15_000, 'video flowing again');
  await cam.interruptStream();
  await waitFor(() => ended, 15_000, 'the stream ended with its encoder');
  await reading;
});

test('halfReply: the chosen action is carried out, then answered with half its body and a normal close (FIN); an empty list answers in full again', async () => {
  const cam = await start();
  const soap = '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><GetSystemDateAndTime xmlns="http://www.onvif.org/ver10/device/wsdl"/></s:Body></s:Envelope>';
  /** One request on a raw socket: every byte received, and how the connection ended. */
  const ask = () =>
    new Promise<{ bytes: Buffer; ended: 'fin' | string }>((resolve) => {
      const chunks: Buffer[] = [];
      const sock = net.connect(cam.port, '127.0.0.1', () => {
        sock.write(`POST /onvif/device_service HTTP/1.1\r\nHost: camera\r\nContent-Type: application/soap+xml\r\nContent-Length: ${Buffer.byteLength(soap)}\r\n\r\n${soap}`);
      });
      sock.on('data', (d: Buffer) => chunks.push(d));
      sock.on('end', () => resolve({ bytes: Buffer.concat(chunks), ended: 'fin' }));
      sock.on('error', (e: NodeJS.ErrnoException) => resolve({ bytes: Buffer.concat(chunks), ended: e.code ?? e.message }));
    });
  cam.halfReply(['GetSystemDateAndTime']);
  const cut = await ask();
  assert.equal(cut.ended, 'fin', 'closed normally, not reset');
  const text = cut.bytes.toString('utf8');
  const head = text.indexOf('\r\n\r\n');
  assert.match(text.slice(0, head), /^HTTP\/1\.1 200 OK/);
  const announced = Number(/content-length: (\d+)/i.exec(text.slice(0, head))?.[1]);
  const body = cut.bytes.subarray(Buffer.byteLength(text.slice(0, head + 4)));
  assert.ok(announced > 100, `a whole envelope announced (${announced} bytes)`);
  assert.equal(body.length, announced >> 1, 'half of it sent');
  assert.match(body.toString('utf8'), /^<\?xml/);
  assert.deepEqual(cam.calls.map((c) => [c.action, c.halfReplied]), [['GetSystemDateAndTime', true]]);
  cam.halfReply([]);
  const r = await fetch(`http://127.0.0.1:${cam.port}/onvif/device_service`, { method: 'POST', body: soap, headers: { 'Content-Type': 'application/soap+xml' } });
  assert.equal(r.status, 200);
  assert.match(await r.text(), /GetSystemDateAndTimeResponse[\s\S]*<\/[^>]*Envelope>$/);
});

test('an ffmpeg that cannot be started (out of file descriptors) gives 503 on the stream and the snapshot, never an uncaught error', async () => {
  const cam = await start();
  // What spawn returns out of file descriptors: no pipes, no pid, 'error' on the next tick.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const childProcess = require('node:child_process') as typeof import('node:child_process');
  const spawned: EventEmitter[] = [];
  const spawn = mock.method(childProcess, 'spawn', () => {
    const child = Object.assign(new EventEmitter(), { kill: () => false });
    process.nextTick(() => child.emit('error', Object.assign(new Error('spawn ffmpeg EMFILE'), { code: 'EMFILE' })));
    spawned.push(child);
    return child;
  });
  const uncaught: unknown[] = [];
  const onUncaught = (err: unknown) => uncaught.push(err);
  process.on('uncaughtException', onUncaught);
  try {
    const live = await fetch(`http://127.0.0.1:${cam.port}/live.ts`);
    assert.equal(live.status, 503);
    assert.match(await live.text(), /could not be started/);
    assert.equal(cam.encoderRunning, false);
    const snap = await fetch(`http://127.0.0.1:${cam.port}/snapshot.jpg`);
    assert.equal(snap.status, 503);
    assert.match(await snap.text(), /EMFILE/);
    assert.equal(spawned.length, 2, 'both tried to start ffmpeg');
    await new Promise((r) => setImmediate(r));
  } finally {
    spawn.mock.restore();
    process.off('uncaughtException', onUncaught);
  }
  assert.deepEqual(uncaught, []);
  // Descriptors back: the stream starts.
  const r = await fetch(`http://127.0.0.1:${cam.port}/live.ts`);
  const reader = r.body!.getReader();
  assert.ok((await reader.read()).value?.length);
  await reader.cancel().catch(() => undefined);
});

test('a request target that is no URL gets 400, and the camera goes on answering', async () => {
  const cam = await start();
  for (const target of ['//', '//[', '//host:99999/']) {
    const reply = await new Promise<string>((resolve, reject) => {
      const sock = net.connect(cam.port, '127.0.0.1', () => sock.end(`GET ${target} HTTP/1.1\r\nHost: camera\r\nConnection: close\r\n\r\n`));
      let text = '';
      sock.on('data', (c) => (text += c.toString()));
      sock.on('end', () => resolve(text));
      sock.on('error', reject);
    });
    assert.match(reply, /^HTTP\/1\.1 400 /, target);
  }
  const r = await fetch(`http://127.0.0.1:${cam.port}/snapshot.jpg`);
  assert.equal(r.status, 200);
});

test('the snapshot is a JPEG of the current picture, and changes when the camera turns', async () => {
  const cam = await start({ panSpeedDegPerS: 1000 });
  const get = async () => {
    const r = await fetch(`http://127.0.0.1:${cam.port}/snapshot.jpg`);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'image/jpeg');
    return Buffer.from(await r.arrayBuffer());
  };
  const j1 = await get();
  assert.deepEqual([...j1.subarray(0, 3)], [0xff, 0xd8, 0xff]);
  assert.deepEqual([...j1.subarray(j1.length - 2)], [0xff, 0xd9]);
  const j2 = await get();
  assert.ok(j1.equals(j2), 'same pose, same picture');
  (cam as unknown as { ptz: PtzModel }).ptz.moveTo({ panDeg: 120, tiltDeg: -5, zoom: 0.3 });
  await waitFor(() => !cam.pose.moving, 15_000);
  const j3 = await get();
  assert.ok(!j1.equals(j3), 'the picture shows where the camera points');
});

test('`vigie virtual-camera` starts a camera the onvif client can use, and stops on SIGTERM', async () => {
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, ['--import', 'tsx', 'bin/vigie.ts', 'virtual-camera', '--port', '0', '--user', 'cli', '--password', 'cli-pw', '--quirk', 'rejectStop'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', () => undefined);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    await waitFor(() => /ONVIF:\s+http:\/\/127\.0\.0\.1:\d+\/onvif\/device_service/.test(out), 30_000);
    assert.match(out, /quirks:\s+rejectStop/);
    const port = Number(/ONVIF:\s+http:\/\/127\.0\.0\.1:(\d+)/.exec(out)![1]);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { Cam } = require('onvif/promises');
    const client = new Cam({ hostname: '127.0.0.1', port, username: 'cli', password: 'cli-pw', timeout: 5000 });
    await client.connect();
    const info = await client.getDeviceInformation();
    assert.equal(info.model, 'Virtual PTZ');
  } finally {
    child.kill('SIGTERM');
  }
  assert.equal(await exited, 0);
});

test('with rtsp: GetStreamUri answers an RTSP URL (GStreamer\'s RTSP server) that ffprobe reads with video and audio', async () => {
  const cam = await start({ rtsp: true });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Cam } = require('onvif/promises');
  const client = new Cam({ hostname: '127.0.0.1', port: cam.port, username: 'u', password: 'p', timeout: 5000 });
  await client.connect();
  const rtsp = await client.getStreamUri({ protocol: 'RTSP' });
  assert.match(rtsp.uri, /^rtsp:\/\/127\.0\.0\.1:\d+\/live$/);
  const http = await client.getStreamUri({ protocol: 'HTTP' });
  assert.equal(http.uri, `http://127.0.0.1:${cam.port}/live.ts`);
  const streams = await ffprobe(`${rtsp.uri}`);
  assert.deepEqual(streams.map((s) => s.codec_type).sort(), ['audio', 'video']);
  await waitFor(() => cam.liveClients === 0 && !cam.encoderRunning, 20_000);
});
