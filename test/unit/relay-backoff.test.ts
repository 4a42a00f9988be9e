// A source that drops right after its first picture: the relay's restarts must back off,
// not start afresh at each picture (which restarted ffmpeg every half second for ever).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MjpegRelay } from '../../lib/video/relay';
import { tempDir } from '../support/tmp';

/** A stand-in for ffmpeg that prints one real JPEG and exits with an error, whatever it is asked. */
function droppingFfmpeg(dir: string): string {
  const jpeg = path.join(dir, 'one.jpg');
  const r = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc=size=160x120', '-frames:v', '1', '-y', jpeg]);
  assert.equal(r.status, 0, r.stderr.toString());
  const script = path.join(dir, 'ffmpeg');
  fs.writeFileSync(script, `#!/bin/sh\ncat '${jpeg}'\nexit 1\n`, { mode: 0o755 });
  return script;
}

async function retryGapsMs(healthyAfterMs: number | undefined, runMs: number): Promise<{ gaps: number[]; frames: number }> {
  const dir = tempDir('vigie-relay-backoff-');
  const relay = new MjpegRelay({
    cameraId: 'drops',
    ffmpegPath: droppingFfmpeg(dir),
    getUrl: async () => 'rtsp://127.0.0.1:1/none',
    fps: 5,
    width: 160,
    backoff: { initialMs: 100, maxMs: 3200, jitter: 0 },
    ...(healthyAfterMs !== undefined ? { healthyAfterMs } : {}),
  });
  const errorsAt: number[] = [];
  relay.on('source-error', () => errorsAt.push(Date.now()));
  relay.start();
  await new Promise((r) => setTimeout(r, runMs));
  await relay.stop();
  fs.rmSync(dir, { recursive: true, force: true });
  return { gaps: errorsAt.slice(1).map((t, i) => t - errorsAt[i]), frames: relay.frames };
}

test('a source that drops after each first picture is restarted with growing delays', async () => {
  const { gaps, frames } = await retryGapsMs(undefined, 2500);
  assert.ok(frames >= 3, `each start gives a picture (${frames})`);
  assert.ok(gaps.length >= 3, `several restarts (${gaps.join(', ')} ms)`);
  // 100, 200, 400 ms … between failures (plus the start time): the third gap is at least 400 ms.
  assert.ok(gaps[2] >= 400, `the delays grow: ${gaps.join(', ')} ms`);
});

test('a source that flowed long enough before dropping starts its back-off afresh', async () => {
  // Healthy after 0 ms: every failure comes after "long enough", so the delay stays the first one.
  const { gaps } = await retryGapsMs(0, 1500);
  assert.ok(gaps.length >= 4, `restarts at the first delay (${gaps.join(', ')} ms)`);
  // A growing back-off would wait 800 ms before the fourth restart.
  assert.ok(gaps[3] < 800, `no growth: ${gaps.join(', ')} ms`);
});
