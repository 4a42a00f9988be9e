/**
 * Run by test/unit/relay-emfile.test.ts in a process with a low open-file limit: takes every
 * free file descriptor, starts a relay (and a frame grab) of real ffmpeg, which therefore
 * cannot be started (EMFILE), gives the descriptors back and waits for the relay's retry to
 * bring pictures. Prints one JSON line of what it saw.
 * Arguments: ffmpeg path, a video file ffmpeg can read (served over HTTP, as a camera's stream).
 */
import * as fs from 'node:fs';
import { MjpegRelay } from '../../lib/video/relay';
import { grabFrame } from '../../lib/video/snapshot';
import { serveFile } from './serve-file';

const [ffmpegPath, clipFile] = process.argv.slice(2);
const faults: string[] = [];
process.on('unhandledRejection', (e) => faults.push(`unhandledRejection: ${String(e)}`));
process.on('uncaughtException', (e) => faults.push(`uncaughtException: ${String(e)}`));

/** Resolves once `cond` holds (checked on each relay event and every 20 ms), or after `limitMs` with false. */
function until(cond: () => boolean, limitMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const startedMs = Date.now();
    const check = (): void => {
      if (cond()) resolve(true);
      else if (Date.now() - startedMs > limitMs) resolve(false);
      else setTimeout(check, 20);
    };
    check();
  });
}

async function main(): Promise<void> {
  // Listening before the descriptors are taken; connections come only once they are back.
  const served = await serveFile(clipFile);
  const clip = served.url;
  const relay = new MjpegRelay({ cameraId: 'cam1', ffmpegPath, getUrl: async () => clip, fps: 5, width: 160, backoff: { initialMs: 50, maxMs: 100, jitter: 0 } });
  const errors: string[] = [];
  relay.on('source-error', (e: Error) => errors.push(e.message));
  const held: number[] = [];
  try {
    for (;;) held.push(fs.openSync('/dev/null', 'r'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EMFILE') throw err;
  }
  relay.start();
  const grab = grabFrame(ffmpegPath, clip, { timeoutMs: 30_000 }).then(
    () => 'a picture',
    (e: Error) => e.message,
  );
  const failedWhileFull = await until(() => errors.length > 0, 10_000);
  const grabWhileFull = await grab;
  const stateWhileFull = relay.state;
  for (const fd of held) fs.closeSync(fd);
  const ranAfter = await until(() => relay.frames > 0, 60_000);
  await relay.stop();
  await served.close();
  process.stdout.write(JSON.stringify({ held: held.length, failedWhileFull, stateWhileFull, grabWhileFull, errors: errors.slice(0, 1), ranAfter, starts: relay.starts, faults }) + '\n');
}

main().catch((e: Error) => {
  process.stdout.write(JSON.stringify({ crashed: String(e.stack ?? e) }) + '\n');
  process.exitCode = 1;
});
