/** The privacy scanner used by the end-to-end tests must find audio where there is some. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'child_process';
import { canaryPatterns, Finding, scanBody, scanCanary, scanJson, scanSocketIoText } from '../support/privacy-scan';
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
