/**
 * The ffmpeg children of captures and relays do not outlive the process that runs them, when
 * that process does not stop them: a Node-RED that exits without closing its nodes (its
 * handler of an uncaught exception, the launcher watch after 20 s) kills them on its way out;
 * one killed with SIGKILL cannot: where setpriv is missing, its capture ffmpeg on a silent
 * camera ends on its I/O timeout (with setpriv, the kernel kills it: capture-parent-death.test.ts).
 * Real ffmpeg processes reading a real server that accepts and never answers (a camera that
 * stopped sending: ffmpeg writes nothing, so a closed pipe does not end it), in a child Node
 * process; each ffmpeg is found by a unique token in its URL.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'child_process';
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { waitFor } from '../support/wait';
import { SilentServer, silentServer } from '../support/silent-server';

const LIB = path.join(__dirname, '..', '..', 'lib');
const TOKEN = `vigie-orphan-${randomBytes(6).toString('hex')}`;

let server: SilentServer | undefined;
let port = 0;
const parents: ChildProcess[] = [];

before(async () => {
  server = await silentServer();
  port = server.port;
});

after(async () => {
  for (const p of parents) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  // What a failing test left behind: only this file's own processes, by pid.
  for (const pid of runningWith(TOKEN)) process.kill(pid, 'SIGKILL');
  await server?.close();
});

/** Pids of the running ffmpeg processes (not zombies) whose command line holds `text` (Linux /proc). */
function runningWith(text: string): number[] {
  const out: number[] = [];
  for (const p of fs.readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      const argv = fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
      // The parent's own command line holds the token too (its script).
      if (path.basename(argv[0]) !== 'ffmpeg' || !argv.some((a) => a.includes(text))) continue;
      const stat = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z') out.push(Number(p));
    } catch {
      /* gone meanwhile */
    }
  }
  return out;
}

/**
 * A Node process that runs `body` (with `url(name)`: a silent stream whose URL holds the token and
 * `name`), says "ready" once its ffmpegs run, and on a line on its stdin does `onLine`.
 */
function parent(body: string, onLine: string): { proc: ChildProcess; ready: Promise<void>; exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> } {
  const script = `
    const url = (name) => 'http://127.0.0.1:${port}/${TOKEN}-' + name;
    const ready = [];
    ${body}
    Promise.all(ready).then(() => console.log('ready'));
    process.stdin.once('data', () => { ${onLine} });
  `;
  const proc = spawn(process.execPath, ['--import', 'tsx', '-e', script], { cwd: path.join(__dirname, '..', '..'), stdio: ['pipe', 'pipe', 'pipe'] });
  parents.push(proc);
  let out = '';
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const ready = new Promise<void>((resolve, reject) => {
    proc.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
    proc.once('exit', (code) => reject(new Error(`the parent exited (${code}) before it was ready: ${out}`)));
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
  return { proc, ready, exited };
}

/** A capture's ffmpeg (ProcessSource) and a relay's (FfmpegProcess), both on a silent stream with no I/O timeout, never stalled out. */
const twoSilentFfmpegs = (tag: string) => `
  const { ProcessSource } = require(${JSON.stringify(path.join(LIB, 'audio', 'sources', 'process.ts'))});
  const { FfmpegProcess } = require(${JSON.stringify(path.join(LIB, 'video', 'ffmpeg.ts'))});
  const capture = new ProcessSource('ffmpeg', { binary: 'ffmpeg', envVar: 'VIGIE_FFMPEG', installHint: '', format: 'FLOAT_LE', channels: 1, sampleRate: 16000, stallMs: 3600000,
    args: ['-hide_banner', '-nostdin', '-loglevel', 'error', '-i', url('${tag}-capture'), '-f', 'f32le', 'pipe:1'] });
  capture.on('error', () => undefined);
  capture.start();
  const relay = new FfmpegProcess('ffmpeg', ['-hide_banner', '-nostdin', '-loglevel', 'error', '-i', url('${tag}-relay'), '-f', 'mp4', 'pipe:1']);
  ready.push(new Promise((resolve) => { const t = setInterval(() => { if (capture.pid && relay.pid) { clearInterval(t); resolve(); } }, 20); }));
`;

for (const [tag, how, onLine] of [
  ['exit', 'process.exit (as Node-RED after 20 s without its launcher)', 'process.exit(1);'],
  ['throw', 'an uncaught exception', "throw new Error('boom');"],
] as const) {
  test(`a process that ends by ${how} without stopping its ffmpeg children kills them on its way out`, async () => {
    const p = parent(twoSilentFfmpegs(tag), onLine);
    await p.ready;
    // Waiting on a stream that says nothing, they write nothing: a closed pipe would not end them.
    const pids = await waitFor(() => {
      const found = runningWith(`${TOKEN}-${tag}-`);
      return found.length === 2 && found;
    }, 30_000, 'the two ffmpegs to run');
    p.proc.stdin!.write('go\n');
    const { code } = await p.exited;
    assert.equal(code, 1);
    // Without the kill on exit, they would wait on the silent stream for ever.
    await waitFor(() => pids.every((pid) => !runningWith(`${TOKEN}-${tag}-`).includes(pid)), 10_000, `ffmpeg ${pids.join(', ')} to be gone with their parent`);
  });
}

test('without setpriv (busybox, macOS), a capture ffmpeg whose parent is killed with SIGKILL, on a stream that says nothing, ends on its own I/O timeout', async () => {
  const p = parent(
    `
    // No parent-death wrapper (test/unit/capture-parent-death.test.ts has it): the I/O timeout is what is left.
    process.env.VIGIE_SETPRIV = '/nonexistent/setpriv';
    const { createFfmpegSource } = require(${JSON.stringify(path.join(LIB, 'audio', 'sources', 'ffmpeg.ts'))});
    const capture = createFfmpegSource({ url: url('sigkill'), sampleRate: 16000, channels: 1, stallMs: 3600000 });
    capture.on('error', () => undefined);
    capture.start();
    ready.push(new Promise((resolve) => { const t = setInterval(() => { if (capture.pid) { clearInterval(t); resolve(); } }, 20); }));
    `,
    '',
  );
  await p.ready;
  const pids = await waitFor(() => {
    const found = runningWith(`${TOKEN}-sigkill`);
    return found.length === 1 && found;
  }, 30_000, 'the capture ffmpeg to run');
  p.proc.kill('SIGKILL');
  await p.exited;
  // Nothing could kill it; without its I/O timeout it would keep the connection open for ever.
  await waitFor(() => !runningWith(`${TOKEN}-sigkill`).includes(pids[0]), 40_000, `ffmpeg ${pids[0]} to end on its own`);
});
