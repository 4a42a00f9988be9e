/**
 * ffmpeg that cannot be started. Node's spawn either throws (ENOMEM, E2BIG, a bad argument) or,
 * out of file descriptors (EMFILE, ENFILE), returns a child with no pipes and no pid whose
 * 'error' comes on the next tick; with no such binary (ENOENT) the child has pipes but no pid.
 * None of these may end the process (an unhandled rejection or an 'error' with no listener
 * ends Node-RED) nor leave a relay "starting" for ever: the relay reports the failure and
 * retries with its back-off, the frame grab rejects. child_process.spawn is replaced by a
 * stand-in for the failing starts; the start that works is the real one, of real ffmpeg.
 * The same with real descriptors exhausted: test/unit/relay-emfile.test.ts.
 */
import { after, before, beforeEach, describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import type * as ChildProcessModule from 'node:child_process';
import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import * as path from 'node:path';
import { FfmpegProcess } from '../../lib/video/ffmpeg';
import { MjpegRelay } from '../../lib/video/relay';
import { grabFrame } from '../../lib/video/snapshot';
import { isJpeg } from '../../lib/video/jpeg';
import { findBinary } from '../../lib/util/binaries';
import { serveFile, ServedFile } from '../support/serve-file';
import { tempDir } from '../support/tmp';
import { waitFor } from '../support/wait';

// The module object itself (an import gives a copy of its exports): lib/video/ffmpeg.ts calls spawn through it.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const childProcess = require('node:child_process') as typeof ChildProcessModule;

const FFMPEG = findBinary('ffmpeg')!;

/** A short real video file: a source real ffmpeg can read once the start works. */
function videoFile(): string {
  // MPEG-TS, as cameras' HTTP streams are (an MP4 file is not read with the relay's -fflags +nobuffer).
  const file = path.join(tempDir('vigie-ffmpeg-start-'), 'clip.ts');
  const r = childProcess.spawnSync(FFMPEG, ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=10', '-t', '3', '-c:v', 'mpeg2video', '-f', 'mpegts', '-y', file]);
  assert.equal(r.status, 0, r.stderr.toString());
  return file;
}

type FakeChild = EventEmitter & { pid?: number; stdin?: PassThrough; stdout?: PassThrough; stderr?: PassThrough; kill: () => boolean };

/** What spawn returns out of file descriptors: no pipes, no pid, 'error' on the next tick. */
function outOfDescriptors(binary: string): FakeChild {
  const child = Object.assign(new EventEmitter(), { kill: () => false }) as FakeChild;
  process.nextTick(() => child.emit('error', Object.assign(new Error(`spawn ${binary} EMFILE`), { code: 'EMFILE', errno: -24, syscall: `spawn ${binary}` })));
  return child;
}

/** What spawn returns for a binary that is not there: pipes, no pid, 'error' on the next tick. */
function noSuchBinary(binary: string): FakeChild {
  const child = Object.assign(new EventEmitter(), { kill: () => false, stdin: new PassThrough(), stdout: new PassThrough(), stderr: new PassThrough() }) as FakeChild;
  process.nextTick(() => child.emit('error', Object.assign(new Error(`spawn ${binary} ENOENT`), { code: 'ENOENT' })));
  return child;
}

function outOfMemory(): never {
  throw Object.assign(new Error('spawn ENOMEM'), { code: 'ENOMEM', errno: -12, syscall: 'spawn' });
}

describe('ffmpeg that cannot be started', () => {
  const realSpawn = childProcess.spawn;
  const faults: string[] = [];
  const onUnhandled = (e: unknown): void => {
    faults.push(`unhandledRejection: ${String(e)}`);
  };
  const onUncaught = (e: unknown): void => {
    faults.push(`uncaughtException: ${String(e)}`);
  };
  /** The clip served over HTTP, as a camera's stream (a local file is never read from a camera). */
  let clip = '';
  let served: ServedFile | undefined;

  before(async () => {
    served = await serveFile(videoFile());
    clip = served.url;
    process.on('unhandledRejection', onUnhandled);
    process.on('uncaughtException', onUncaught);
  });

  after(async () => {
    await served?.close();
    process.off('unhandledRejection', onUnhandled);
    process.off('uncaughtException', onUncaught);
  });

  beforeEach(() => {
    faults.length = 0;
  });

  /** Replaces spawn: each call takes the next stand-in; `'real'` starts the real process. */
  function spawnSequence(t: { mock: typeof mock }, ...starts: Array<'emfile' | 'enomem' | 'enoent' | 'real'>): { calls: () => number } {
    let n = 0;
    const m = t.mock.method(childProcess, 'spawn', ((command: string, args: readonly string[], options: ChildProcessModule.SpawnOptions) => {
      const what = starts[Math.min(n++, starts.length - 1)];
      if (what === 'emfile') return outOfDescriptors(command);
      if (what === 'enoent') return noSuchBinary(command);
      if (what === 'enomem') return outOfMemory();
      return realSpawn(command, args, options);
    }) as typeof childProcess.spawn);
    return { calls: () => m.mock.callCount() };
  }

  it('FfmpegProcess: no pipes (EMFILE), a throwing spawn (ENOMEM), no pid (ENOENT) each end in a start error, never a throw', async (t) => {
    spawnSequence(t, 'emfile', 'enomem', 'enoent');
    for (const cause of [/^ffmpeg could not be started: spawn \S+ EMFILE$/, /^ffmpeg could not be started: spawn ENOMEM$/, /^ffmpeg could not be started: spawn \S+ ENOENT$/]) {
      const proc = new FfmpegProcess(FFMPEG, ['-version'], 'stdin text');
      assert.equal(proc.stdout, undefined);
      assert.equal(proc.pid, undefined);
      assert.deepEqual(await proc.exited, { code: null, signal: null });
      assert.equal(proc.running, false);
      assert.match(String(proc.startError?.message), cause);
      await proc.kill(); // nothing to end
    }
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(faults, []);
  });

  it('a relay whose ffmpeg cannot be started reports it and retries with its back-off, then runs once ffmpeg starts', async (t) => {
    const spawns = spawnSequence(t, 'emfile', 'enomem', 'real');
    const relay = new MjpegRelay({
      cameraId: 'cam1',
      ffmpegPath: FFMPEG,
      getUrl: async () => clip,
      fps: 5,
      width: 160,
      backoff: { initialMs: 20, maxMs: 40, jitter: 0 },
    });
    const errors: string[] = [];
    const states: string[] = [];
    relay.on('source-error', (e: Error) => errors.push(e.message));
    relay.on('state', (s: string) => states.push(s));
    try {
      relay.start();
      await waitFor(() => relay.frames > 0, 60_000, 'pictures from the real ffmpeg after two failed starts');
    } finally {
      await relay.stop();
    }
    assert.deepEqual(faults, [], 'no unhandled rejection, no uncaught exception');
    // The clip is short and read as fast as ffmpeg can: it may have ended, and been started again, already.
    assert.ok(spawns.calls() >= 3 && relay.starts === spawns.calls(), `${spawns.calls()} spawns, ${relay.starts} starts`);
    assert.match(errors[0], /^ffmpeg could not be started: spawn \S+ EMFILE$/);
    assert.match(errors[1], /^ffmpeg could not be started: spawn ENOMEM$/);
    assert.ok(errors.slice(2).every((e) => /ended the stream/.test(e)), errors.join(' | '));
    assert.deepEqual(states.slice(0, 5), ['starting', 'retrying', 'starting', 'retrying', 'starting']);
    assert.ok(states.includes('running'), states.join(' '));
  });

  it('the frame grab (a snapshot without a snapshot URI) rejects when ffmpeg cannot be started', async (t) => {
    spawnSequence(t, 'emfile', 'enomem', 'real');
    await assert.rejects(grabFrame(FFMPEG, clip, { timeoutMs: 30_000 }), /^Error: ffmpeg could not be started: spawn \S+ EMFILE$/);
    await assert.rejects(grabFrame(FFMPEG, clip, { timeoutMs: 30_000 }), /^Error: ffmpeg could not be started: spawn ENOMEM$/);
    const jpeg = await grabFrame(FFMPEG, clip, { timeoutMs: 30_000 });
    assert.ok(isJpeg(jpeg), 'the real start gives a JPEG');
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(faults, []);
  });
});
