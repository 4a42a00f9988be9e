/**
 * Capture children, and the video relay's and snapshot grabs' ffmpeg, die with the process that
 * runs them, even one killed with SIGKILL (which runs no exit handler): started through
 * `setpriv --pdeathsig KILL`, the kernel kills them.
 * The hard cases are children that never write, so that no closed pipe would end them: an
 * arecord whose ALSA device delivers nothing (a "file" PCM reading a FIFO nobody writes) and
 * an ffmpeg connected to a stream that says nothing (tcp:, no I/O timeout).
 * Real processes: a small Node parent runs the capture sources and is killed with SIGKILL.
 * Where setpriv lacks --pdeathsig (busybox), captures start as they are.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ChildProcess, spawn, spawnSync } from 'child_process';
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parentDeathPrefix } from '../../lib/util/child-exit';
import { waitFor } from '../support/wait';
import { SilentServer, silentServer } from '../support/silent-server';

const repoRoot = path.join(__dirname, '..', '..');
const have = (bin: string): boolean => spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0;
const skip = process.platform !== 'linux' || !have('setpriv') || !have('arecord') || !have('ffmpeg') ? 'needs Linux, setpriv, arecord and ffmpeg' : false;

let dir = '';
let silent: SilentServer | undefined;
/** Processes to end whatever a test did. */
const leftovers = new Set<number>();
const parents: ChildProcess[] = [];

/** The process runs (a zombie waiting for its parent to reap it does not). */
function runs(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

function argv0(pid: number): string {
  return path.basename(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0]);
}

function parentOf(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

before(async () => {
  if (skip) return;
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-pdeath-'));
  silent = await silentServer();
});

after(async () => {
  for (const p of parents) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  for (const pid of leftovers) if (runs(pid)) process.kill(pid, 'SIGKILL');
  await silent?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** Runs `script` in a Node process of its own (through tsx) and waits for the first JSON line it prints. */
async function startParent<T>(script: string, env: NodeJS.ProcessEnv, what: string): Promise<{ parent: ChildProcess; told: T }> {
  const parent = spawn(process.execPath, ['--import', 'tsx', script], { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  parents.push(parent);
  let out = '';
  let err = '';
  parent.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  parent.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const told = await waitFor(() => {
    const line = out.split('\n').find((l) => l.startsWith('{'));
    return line ? (JSON.parse(line) as T) : undefined;
  }, 30_000, what).catch((e: Error) => {
    throw new Error(`${e.message} (its stderr: ${err})`);
  });
  return { parent, told };
}

/**
 * A Node process running an arecord source on a device that delivers nothing and an ffmpeg
 * source on a silent stream, started while a worker thread runs, which then ends (the signal
 * follows the thread that forked the child: the main thread's children must outlive a worker).
 * Resolves once it has told the children's pids, after that worker ended.
 */
async function captureParent(env: NodeJS.ProcessEnv): Promise<{ parent: ChildProcess; arecord: number; ffmpeg: number; video: number }> {
  const token = `vigiepdeath${randomBytes(6).toString('hex')}`;
  const home = path.join(dir, token);
  fs.mkdirSync(home);
  const fifo = path.join(home, 'nothing.fifo');
  assert.equal(spawnSync('mkfifo', [fifo]).status, 0, 'mkfifo');
  fs.writeFileSync(path.join(home, '.asoundrc'), `pcm.${token} {\n  type file\n  slave.pcm null\n  file "/dev/null"\n  infile "${fifo}"\n  format "raw"\n}\n`);
  const script = path.join(home, 'parent.ts');
  fs.writeFileSync(
    script,
    `import { Worker } from 'worker_threads';
import { createArecordSource } from ${JSON.stringify(path.join(repoRoot, 'lib', 'audio', 'sources', 'arecord'))};
import { createFfmpegSource } from ${JSON.stringify(path.join(repoRoot, 'lib', 'audio', 'sources', 'ffmpeg'))};
import { FfmpegProcess, resolveFfmpeg } from ${JSON.stringify(path.join(repoRoot, 'lib', 'video', 'ffmpeg'))};
const worker = new Worker('setTimeout(() => undefined, 300)', { eval: true });
const arecord = createArecordSource({ device: ${JSON.stringify(token)}, sampleRate: 16000, channels: 1, stallMs: 600000 });
const ffmpeg = createFfmpegSource({ url: 'tcp://127.0.0.1:${silent!.port}/${token}', sampleRate: 16000, channels: 1, stallMs: 600000 });
for (const s of [arecord, ffmpeg]) s.on('error', (e: Error) => console.error(e.message));
arecord.start();
ffmpeg.start();
// The ffmpeg of the video relay and snapshot grabs, on a stream that says nothing.
const video = new FfmpegProcess(resolveFfmpeg(), ['-nostdin', '-i', 'tcp://127.0.0.1:${silent!.port}/${token}v', '-f', 'null', '-']);
worker.on('exit', () => setImmediate(() => console.log(JSON.stringify({ arecord: arecord.pid, ffmpeg: ffmpeg.pid, video: video.pid }))));
setInterval(() => undefined, 60000);
`,
  );
  const { parent, told: pids } = await startParent<{ arecord: number; ffmpeg: number; video: number }>(script, { ...env, HOME: home }, "the parent to tell its children's pids");
  leftovers.add(pids.arecord);
  leftovers.add(pids.ffmpeg);
  leftovers.add(pids.video);
  return { parent, ...pids };
}

test('where setpriv has --pdeathsig, it is used: the probe finds it, and the prefix sets SIGKILL', { skip }, () => {
  const prefix = parentDeathPrefix();
  assert.ok(prefix, 'setpriv with --pdeathsig on this machine');
  assert.deepEqual(prefix.slice(1), ['--pdeathsig', 'KILL', '--']);
});

test('a capture parent killed with SIGKILL takes its arecord (a device that delivers nothing), its ffmpeg and a video ffmpeg (silent streams) with it', { skip }, async () => {
  const { parent, arecord, ffmpeg, video } = await captureParent({});
  // The children are the programs themselves (setpriv ran them in its place), the parent's
  // own, and they outlived the worker thread that ended meanwhile.
  for (const [pid, name, title] of [[arecord, 'arecord', 'arecord'], [ffmpeg, 'ffmpeg', 'ffmpeg'], [video, 'ffmpeg', 'video ffmpeg']] as const) {
    assert.equal(runs(pid), true, `${title} runs`);
    assert.equal(argv0(pid), name);
    assert.equal(parentOf(pid), parent.pid, `${title}'s parent`);
  }
  parent.kill('SIGKILL');
  await waitFor(() => !runs(arecord) && !runs(ffmpeg) && !runs(video), 10_000, 'arecord and both ffmpeg to end with their parent').catch((e: Error) => {
    throw new Error(`${e.message}: arecord ${runs(arecord) ? 'still runs' : 'gone'}, ffmpeg ${runs(ffmpeg) ? 'still runs' : 'gone'}, video ffmpeg ${runs(video) ? 'still runs' : 'gone'}`);
  });
});

test('a setpriv without --pdeathsig (busybox\'s) is not used: captures start as they are, and then outlive a parent killed with SIGKILL', { skip }, async () => {
  const fake = path.join(dir, 'busybox-setpriv');
  fs.writeFileSync(fake, '#!/bin/sh\necho "setpriv: unrecognized option \'--pdeathsig\'" >&2\nexit 1\n', { mode: 0o755 });
  const { parent, arecord, ffmpeg, video } = await captureParent({ VIGIE_SETPRIV: fake });
  for (const [pid, name] of [[arecord, 'arecord'], [ffmpeg, 'ffmpeg'], [video, 'ffmpeg']] as const) {
    assert.equal(runs(pid), true, `${name} runs`);
    assert.equal(argv0(pid), name);
  }
  parent.kill('SIGKILL');
  await new Promise<void>((resolve) => parent.once('exit', () => resolve()));
  // Nothing ends them (they never write): what the wrapper is for.
  assert.equal(runs(arecord), true, 'arecord left running without the wrapper');
  process.kill(arecord, 'SIGKILL');
  process.kill(ffmpeg, 'SIGKILL');
  process.kill(video, 'SIGKILL');
});

test("the virtual camera's RTSP server (a development tool) dies with a parent killed with SIGKILL", { skip }, async (t) => {
  const { findSystemPython } = await import('../../lib/sim/camera/rtsp');
  const python = findSystemPython();
  if (!python || spawnSync(python, ['-c', "import gi; gi.require_version('GstRtspServer', '1.0'); from gi.repository import GstRtspServer"]).status !== 0) {
    t.skip('needs python3-gi and gir1.2-gst-rtsp-server-1.0');
    return;
  }
  const script = path.join(dir, 'rtsp-parent.ts');
  // It serves a source nobody reaches: the media is built only when a client comes, and it never writes again.
  fs.writeFileSync(
    script,
    `import { RtspFace } from ${JSON.stringify(path.join(repoRoot, 'lib', 'sim', 'camera', 'rtsp'))};
const face = new RtspFace('http://127.0.0.1:9/live.ts');
face.start().then(() => console.log(JSON.stringify({ server: (face as unknown as { child: { pid: number } }).child.pid })), (e: Error) => console.error(e.message));
setInterval(() => undefined, 60000);
`,
  );
  const { parent, told: { server } } = await startParent<{ server: number }>(script, {}, 'the RTSP server to be ready');
  leftovers.add(server);
  assert.equal(runs(server), true, 'the RTSP server runs');
  assert.equal(parentOf(server), parent.pid, "the RTSP server is the parent's own child");
  parent.kill('SIGKILL');
  await waitFor(() => !runs(server), 10_000, 'the RTSP server to end with its parent');
});
