/** The privacy scanner used by the end-to-end tests must find audio where there is some. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'child_process';
import * as http from 'http';
import * as net from 'net';
import { inspect } from 'util';
import * as zlib from 'zlib';
import { WebSocket, WebSocketServer } from 'ws';
import {
  canaryPatterns,
  Finding,
  scanBody,
  scanCanary,
  scanHttpResponse,
  scanJson,
  scanLog,
  scanRecording,
  scanSocketIoText,
  scanWsMessage,
} from '../support/privacy-scan';
import { startRecordingProxy } from '../support/recording-proxy';
import { encodeWav } from '../../lib/audio/wav';

function ffmpeg(args: string[]): Buffer {
  return execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', ...args, 'pipe:1'], { maxBuffer: 64 << 20 });
}

test('finds a WAV file, an audio MIME type and an MP4 audio track; a video-only fMP4 and a JPEG are clean', () => {
  const tone = new Float32Array(1600).map((_, i) => 0.5 * Math.sin(i / 3));
  const found: Finding[] = [];
  scanBody(encodeWav([tone], 16000, 'pcm16'), 'application/octet-stream', 'wav', found);
  assert.ok(found.some((f) => /WAVE/.test(f.what)), JSON.stringify(found));

  const f2: Finding[] = [];
  scanBody(Buffer.from('x'), 'audio/ogg', 'mime', f2);
  assert.equal(f2.length, 1);

  const frag = ['-movflags', 'frag_keyframe+empty_moov+default_base_moof', '-f', 'mp4'];
  const withAudio = ffmpeg(['-f', 'lavfi', '-i', 'testsrc=size=64x48:rate=5', '-f', 'lavfi', '-i', 'sine', '-t', '1', '-c:v', 'libx264', '-c:a', 'aac', ...frag]);
  const f3: Finding[] = [];
  scanBody(withAudio, 'video/mp4', 'mp4+aac', f3);
  assert.ok(f3.some((f) => /audio/.test(f.what)), JSON.stringify(f3));

  const videoOnly = ffmpeg(['-f', 'lavfi', '-i', 'testsrc=size=64x48:rate=5', '-t', '1', '-c:v', 'libx264', ...frag]);
  const jpeg = ffmpeg(['-f', 'lavfi', '-i', 'testsrc=size=64x48', '-frames:v', '1', '-f', 'mjpeg']);
  const f4: Finding[] = [];
  scanBody(videoOnly, 'video/mp4', 'mp4', f4);
  scanBody(jpeg, 'image/jpeg', 'jpeg', f4);
  assert.deepEqual(f4, []);
});

test('finds sample arrays, sample-like fields and long non-image base64 in JSON, also inside Socket.IO frames', () => {
  const f: Finding[] = [];
  scanJson({ payload: { kind: 'audio', sensor: 'n', start: 0, frames: 4800 } }, 'block', f);
  assert.equal(f.length, 0, 'an audio block reference is clean');
  scanJson({ payload: Array.from({ length: 300 }, (_, i) => Math.sin(i)) }, 'arr', f);
  scanJson({ samples: [0.1, 0.2] }, 'key', f);
  scanJson({ blob: Buffer.alloc(6000, 7).toString('base64') }, 'b64', f);
  scanSocketIoText(`42["msg-input:abc",{"payload":{"pcm":"${'A'.repeat(100)}"}}]`, 'sio', f);
  assert.deepEqual(f.map((x) => x.where), ['arr', 'key', 'b64', 'sio']);
});

test('the canary is found in int16, float32 and decimal encodings', () => {
  const canary = new Float32Array([0.1234, -0.5, 0.25, 0.75, -0.125, 0.0625, 0.3, -0.3, 0.9, -0.9, 0.01, 0.02, 0.03, 0.04, 0.05, 0.06]);
  const p = canaryPatterns(canary);
  for (const [i, enc] of p.entries()) {
    const f: Finding[] = [];
    scanCanary(Buffer.concat([Buffer.from('prefix'), enc, Buffer.from('suffix')]), p, `enc${i}`, f);
    assert.equal(f.length, 1, `encoding ${i}`);
  }
  const clean: Finding[] = [];
  scanCanary(Buffer.from(JSON.stringify({ level: -20.5 })), p, 'clean', clean);
  assert.deepEqual(clean, []);
});

/** 100 ms of a 440 Hz tone at 16 kHz as raw int16 LE: PCM has no header, no signature. */
function rawPcm(): Buffer {
  const b = Buffer.alloc(3200);
  for (let i = 0; i < 1600; i++) b.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 16000)), i * 2);
  return b;
}
const sampleList = (n: number, int = false) => Array.from({ length: n }, (_, i) => (int ? Math.round(3000 * Math.sin(i / 5)) : Math.sin(i / 5)));
const whereOf = (f: Finding[]) => f.map((x) => x.where);

test('Socket.IO: a binary event ("451-[…]") has its JSON scanned; control packets are clean; an unparseable frame is a finding', () => {
  const f: Finding[] = [];
  scanSocketIoText(`451-["msg-input:abc",{"payload":{"samples":[0.1,0.2]},"image":{"_placeholder":true,"num":0}}]`, 'binary-event', f);
  scanSocketIoText(`42/dashboard,17["msg-input:abc",{"payload":${JSON.stringify(sampleList(300))}}]`, 'namespace+ack', f);
  scanSocketIoText('4{"not":"a socket.io packet"', 'garbled', f);
  for (const clean of ['2', '3', '3probe', '5', '40', '40{"sid":"x"}', '0{"sid":"x","upgrades":[],"pingInterval":25000}', '42["msg-input:abc",{"payload":{"label":"gunshot"}}]']) {
    scanSocketIoText(clean, `clean ${clean}`, f);
  }
  assert.deepEqual(whereOf(f), ['binary-event', 'namespace+ack', 'garbled'], JSON.stringify(f));
});

test('Socket.IO long polling: every packet of a body is scanned and a binary attachment ("b…") is a finding', () => {
  const url = '/dashboard/socket.io/?EIO=4&transport=polling&t=abc';
  const body = (s: string) => ({ url, contentType: 'text/plain; charset=UTF-8', body: Buffer.from(s) });
  const f: Finding[] = [];
  scanHttpResponse(body(`40{"sid":"x"}\x1e42["msg-input:abc",{"payload":${JSON.stringify(sampleList(300))}}]`), f);
  assert.equal(f.length, 1, JSON.stringify(f));
  const g: Finding[] = [];
  scanHttpResponse(body(`451-["msg-input:abc",{"payload":{"_placeholder":true,"num":0}}]\x1eb${rawPcm().toString('base64')}`), g);
  assert.ok(g.some((x) => /binary Socket\.IO attachment of 3200 bytes/.test(x.what)), JSON.stringify(g));
  const clean: Finding[] = [];
  scanHttpResponse(body('0{"sid":"x","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000}'), clean);
  scanHttpResponse(body('2\x1e42["ui-config",{"theme":{"primary":"#1565c0"}}]'), clean);
  scanHttpResponse({ method: 'POST', url, contentType: 'text/html', body: Buffer.from('ok') }, clean); // the answer to the client's packets
  assert.deepEqual(clean, []);
});

test('HTTP bodies are decoded before the scan: gzip, deflate and br; an unknown encoding is a finding', () => {
  const json = Buffer.from(JSON.stringify({ payload: sampleList(300) }));
  const cleanJson = Buffer.from(JSON.stringify({ alerts: [{ label: 'gunshot' }] }));
  const encoders: Record<string, (b: Buffer) => Buffer> = { gzip: zlib.gzipSync, deflate: zlib.deflateSync, br: zlib.brotliCompressSync };
  for (const [enc, compress] of Object.entries(encoders)) {
    const f: Finding[] = [];
    scanHttpResponse({ url: '/api/alerts', contentType: 'application/json', contentEncoding: enc, body: compress(json) }, f);
    assert.ok(f.some((x) => /run of 256\+ numbers/.test(x.what)), `${enc}: ${JSON.stringify(f)}`);
    const clean: Finding[] = [];
    scanHttpResponse({ url: '/api/alerts', contentType: 'application/json', contentEncoding: enc, body: compress(cleanJson) }, clean);
    assert.deepEqual(clean, [], enc);
  }
  const f: Finding[] = [];
  scanHttpResponse({ url: '/x', contentType: 'application/json', contentEncoding: 'zstd', body: Buffer.from('(\xb5/\xfd') }, f);
  assert.equal(f.length, 1);
});

test('typed arrays serialised by JSON.stringify ({"0":…,"1":…}) are sample arrays', () => {
  const f: Finding[] = [];
  scanJson(JSON.parse(JSON.stringify({ payload: { block: Float32Array.from(sampleList(1600)) } })), 'f32', f);
  scanJson(JSON.parse(JSON.stringify({ payload: Int16Array.from(sampleList(300, true)) })), 'i16', f);
  scanJson({ scores: { '0': 0.5, '1': 0.25 }, level: { '0': -20 } }, 'small', f);
  assert.deepEqual(whereOf(f), ['f32', 'i16'], JSON.stringify(f));
});

test('raw PCM is a finding as a binary WebSocket frame, on the live-video route unless it is MP4 boxes, and as an octet-stream or untyped body', () => {
  const pcm = rawPcm();
  const f: Finding[] = [];
  scanWsMessage({ url: '/dashboard/socket.io/?EIO=4&transport=websocket', opcode: 2, data: pcm }, f);
  scanWsMessage({ url: '/vigie/video/cam-1/live?ticket=t', opcode: 2, data: pcm }, f);
  scanHttpResponse({ url: '/stream', contentType: 'application/octet-stream', body: pcm }, f);
  scanHttpResponse({ url: '/untyped', body: pcm }, f);
  scanHttpResponse({ url: '/fake.png', contentType: 'image/png', body: pcm }, f);
  assert.deepEqual(whereOf(f), ['ws /dashboard/socket.io/?EIO=4&transport=websocket', 'ws /vigie/video/cam-1/live?ticket=t', 'http GET /stream', 'http GET /untyped', 'http GET /fake.png'], JSON.stringify(f));

  // What the relay sends on the live route: the init segment, then media segments, each whole boxes.
  const mp4 = ffmpeg(['-f', 'lavfi', '-i', 'testsrc=size=64x48:rate=5', '-t', '2', '-g', '5', '-c:v', 'libx264', '-movflags', 'frag_keyframe+empty_moov+default_base_moof', '-f', 'mp4']);
  const frames: Buffer[] = [];
  for (let off = 0; off < mp4.length; ) {
    const size = mp4.readUInt32BE(off);
    const type = mp4.subarray(off + 4, off + 8).toString('latin1');
    if (type === 'ftyp' || type === 'moof') frames.push(mp4.subarray(off, off + size));
    else frames[frames.length - 1] = Buffer.concat([frames[frames.length - 1], mp4.subarray(off, off + size)]);
    off += size;
  }
  assert.ok(frames.length >= 3, `init and media segments (${frames.length})`);
  const clean: Finding[] = [];
  for (const data of frames) scanWsMessage({ url: '/vigie/video/cam-1/live?ticket=t', opcode: 2, data }, clean);
  scanWsMessage({ url: '/vigie/video/cam-1/live?ticket=t', opcode: 1, data: Buffer.from('{"type":"init","mime":"video/mp4; codecs=\\"avc1.64000a\\""}') }, clean);
  assert.deepEqual(clean, []);
});

test('the recording proxy marks what it did not record, and the scan reports it', async () => {
  const upstream = http.createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ filler: 'x'.repeat(10_000) }));
  });
  const wss = new WebSocketServer({ server: upstream });
  wss.on('connection', (ws) => {
    for (let i = 0; i < 3; i++) ws.send(JSON.stringify({ i, filler: 'y'.repeat(1000) }));
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
  const proxy = await startRecordingProxy(`http://127.0.0.1:${(upstream.address() as net.AddressInfo).port}`, { maxBodyBytes: 1024, maxWsBytesPerConnection: 2048 });
  try {
    const r = await fetch(`${proxy.url}/big`);
    assert.equal((await r.text()).length, 10_000 + 13, 'the client still gets the whole body');
    const ws = new WebSocket(`${proxy.url.replace('http', 'ws')}/socket`);
    let got = 0;
    await new Promise<void>((resolve, reject) => {
      ws.on('message', () => ++got === 3 && resolve());
      ws.on('error', reject);
    });
    ws.close();
    const f: Finding[] = [];
    scanRecording(proxy, f);
    assert.deepEqual(
      f.map((x) => `${x.where}: ${/the rest was not scanned/.test(x.what)}`),
      ['http GET /big: true', 'ws /socket: true'],
      JSON.stringify(f),
    );
    assert.equal(proxy.ws.length, 2, 'two messages fit the bound');
  } finally {
    await proxy.close();
    wss.close();
    upstream.closeAllConnections();
    await new Promise((r) => upstream.close(r));
  }
});

test('logs: printed sample lists (integers too), typed arrays and Buffers are findings; ordinary log lines are clean', () => {
  const f: Finding[] = [];
  scanLog(`29 Nov 13:06:09 - [info] [debug:capture] [${sampleList(100, true).join(', ')}]`, 'ints', f);
  scanLog(`29 Nov 13:06:09 - [info] ${inspect(Int16Array.from(sampleList(200, true)))}`, 'inspected', f);
  scanLog(`29 Nov 13:06:09 - [info] ${inspect(rawPcm())}`, 'buffer', f);
  scanLog(
    [
      '29 Nov 13:06:09 - [info] Node-RED version: v4.1.15',
      '29 Nov 13:06:09 - [info] [mqtt-broker:city broker] Connected to broker: mqtt://127.0.0.1:41137',
      '29 Nov 13:06:10 - [info] [localizer:fusion] gunshot: 3 sensors, 45.43971, 4.38722 ± 1.2 m',
    ].join('\n'),
    'clean',
    f,
  );
  assert.deepEqual(whereOf(f), ['ints', 'inspected', 'buffer'], JSON.stringify(f));
});
