// A source that drops right after its first picture: the relay's restarts must back off,
// not start afresh at each picture (which restarted ffmpeg every half second for ever).
// The relay's clock (setTimeout, Date) is mocked: each retry delay is read off the clock the
// test moves by hand, so a loaded machine neither stretches nor shrinks what is measured.
import { test, TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MjpegRelay } from '../../lib/video/relay';
import { tempDir } from '../support/tmp';

/** The real timer, kept before the clock is mocked: the deadline of waits on the stand-in process. */
const realSetTimeout = globalThis.setTimeout;
const realClearTimeout = globalThis.clearTimeout;

/** A stand-in for ffmpeg that prints one real JPEG and exits with an error, whatever it is asked. */
function droppingFfmpeg(dir: string): string {
  const jpeg = path.join(dir, 'one.jpg');
  const r = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc=size=160x120', '-frames:v', '1', '-y', jpeg]);
  assert.equal(r.status, 0, r.stderr.toString());
  const script = path.join(dir, 'ffmpeg');
  fs.writeFileSync(script, `#!/bin/sh\ncat '${jpeg}'\nexit 1\n`, { mode: 0o755 });
  return script;
}

/** Resolves when the relay is in state `s` (at once if it is), or fails after `timeoutMs` of real time. */
function reachState(relay: MjpegRelay, s: string, timeoutMs: number, what: string): Promise<void> {
  if (relay.state === s) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = realSetTimeout(() => {
      relay.off('state', onState);
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what} (relay ${relay.state})`));
    }, timeoutMs);
    const onState = (now: string) => {
      if (now !== s) return;
      realClearTimeout(timer);
      relay.off('state', onState);
      resolve();
    };
    relay.on('state', onState);
  });
}

/** The delays of the relay's first `restarts` retries, on the mocked clock, and the pictures it got. */
async function retryDelaysMs(t: TestContext, healthyAfterMs: number | undefined, restarts: number): Promise<{ delays: number[]; frames: number }> {
  const dir = tempDir('vigie-relay-backoff-');
  const ffmpegPath = droppingFfmpeg(dir);
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: Date.now() });
  const relay = new MjpegRelay({
    cameraId: 'drops',
    ffmpegPath,
    getUrl: async () => 'rtsp://127.0.0.1:1/none',
    fps: 5,
    width: 160,
    backoff: { initialMs: 100, maxMs: 3200, jitter: 0, ...(healthyAfterMs !== undefined ? { healthyAfterMs } : {}) },
  });
  const delays: number[] = [];
  try {
    relay.start();
    for (let i = 1; i <= restarts; i++) {
      // The stand-in gave its picture and exited: the relay has scheduled its retry.
      await reachState(relay, 'retrying', 30_000, `failure ${i}`);
      const failedAt = Date.now();
      // The clock moves on 10 ms at a time until the relay starts the source again.
      while (relay.state === 'retrying') {
        assert.ok(Date.now() - failedAt < 60_000, `retry ${i} never came`);
        t.mock.timers.tick(10);
      }
      delays.push(Date.now() - failedAt);
    }
    await reachState(relay, 'retrying', 30_000, `failure ${restarts + 1}`);
  } finally {
    await relay.stop();
    t.mock.timers.reset();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return { delays, frames: relay.frames };
}

test('a source that drops after each first picture is restarted with growing delays', async (t) => {
  const { delays, frames } = await retryDelaysMs(t, undefined, 4);
  assert.equal(frames, 5, 'each start gives a picture');
  assert.deepEqual(delays, [100, 200, 400, 800], 'the delays double from the first one');
});

test('a source that flowed long enough before dropping starts its back-off afresh', async (t) => {
  // Healthy after 0 ms: every failure comes after "long enough", so the delay stays the first one.
  const { delays, frames } = await retryDelaysMs(t, 0, 4);
  assert.equal(frames, 5, 'each start gives a picture');
  assert.deepEqual(delays, [100, 100, 100, 100], 'no growth');
});
