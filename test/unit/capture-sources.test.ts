import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Capture, HealthEvent } from '../../lib/audio/capture';
import { ProcessSource, SimulatedSource, SourceConfig, createSource, describeSource, ffmpegArgs, parseArecordL, arecordArgs } from '../../lib/audio/sources';
import { redactCredentials, SCRIPT_INPUT_ARGS } from '../../lib/util/url-credentials';
import { FFMPEG_INPUT_PROTOCOLS, ffmpegInputProblem, ffmpegScript, isFileInput, isPlainPath } from '../../lib/audio/sources/ffmpeg';
import { InterleavedDecoder, PCM_FORMATS } from '../../lib/audio/channels';
import { SourceStatus } from '../../lib/audio/sources/source';
import { liveSceneCount } from '../../lib/sim/live';
import { AudioBlock } from '../../lib/contracts';
import { waitFor } from '../support/wait';
import { NTP_FIRST_SYNC_STEP_MS, stepWallClock } from '../support/wall-clock';

function alive(pid: number): boolean {
  try {
    const state = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0];
    return state !== 'Z';
  } catch {
    return false;
  }
}

/** A stand-in capture program (a real child process): a shell script. */
function script(dir: string, name: string, body: string): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, `#!/bin/sh\n${body}\n`);
  fs.chmodSync(p, 0o755);
  return p;
}

function proc(binaryPath: string, extra: Partial<ConstructorParameters<typeof ProcessSource>[1]> = {}): ProcessSource {
  return new ProcessSource('test', {
    binary: 'vigie-test-capture',
    envVar: 'VIGIE_TEST_CAPTURE_UNSET',
    binaryPath,
    installHint: 'test hint',
    args: [],
    format: 'S16_LE',
    channels: 1,
    sampleRate: 8000,
    backoff: { initialMs: 100, maxMs: 400, jitter: 0 },
    ...extra,
  });
}

test('supervisor: a child that dies is restarted with back-off; the reason quotes its last stderr line', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-proc-'));
  try {
    // Writes 0.1 s of 16-bit zeros plus half a frame, complains, exits 3.
    const bin = script(dir, 'dies', 'head -c 1601 /dev/zero; echo "device unplugged" >&2; exit 3');
    const src = proc(bin);
    const restarts: string[] = [];
    const statuses: SourceStatus[] = [];
    let frames = 0;
    src.on('restart', (r: string) => restarts.push(r));
    src.on('status', (s: SourceStatus) => statuses.push(s));
    src.on('data', (ch: Float32Array[]) => (frames += ch[0].length));
    src.start();
    await waitFor(() => restarts.length >= 3, 15_000, 'three restarts');
    await src.stop();
    assert.match(restarts[0], /^vigie-test-capture exited with code 3: device unplugged$/);
    assert.ok(statuses.some((s) => s.state === 'restarting' && /restarting in 0\.1 s/.test(s.text)));
    assert.ok(statuses.some((s) => s.state === 'restarting' && /restarting in 0\.2 s/.test(s.text)), 'the delay grows');
    // Only the first start is "starting": each start after a fault is still restarting (a fault) until audio comes.
    assert.deepEqual(statuses.filter((s) => s.state === 'starting'), [{ state: 'starting', text: 'starting vigie-test-capture' }]);
    assert.ok(statuses.some((s) => s.state === 'restarting' && s.text === 'restarting vigie-test-capture'));
    assert.ok(frames >= 3 * 800, `frames ${frames}`);
    assert.equal(frames % 800, 0, 'the half frame of each run is dropped, not glued to the next run');
    for (const pid of src.pids) assert.equal(alive(pid), false);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('supervisor: the stdin text (an input script) reaches every start of the child, and is then closed', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-proc-'));
  try {
    // Reads its stdin to the end (so it must be closed), writes a little audio, says what it read, exits 2.
    const bin = script(dir, 'reads-stdin', 'in=$(cat); head -c 1600 /dev/zero; echo "got: $in" >&2; exit 2');
    const src = proc(bin, { stdin: "file 'rtsp://u:p@cam/1'\n" });
    const restarts: string[] = [];
    src.on('restart', (r: string) => restarts.push(r));
    src.start();
    await waitFor(() => restarts.length >= 2, 15_000, 'two restarts');
    await src.stop();
    // the child read the script each time; its echo of the credentials is redacted in the reason
    for (const r of restarts.slice(0, 2)) assert.match(r, /exited with code 2: got: file 'rtsp:\/\/\*\*\*@cam\/1'$/);
    for (const pid of src.pids) assert.equal(alive(pid), false);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('supervisor: a finite input that exits cleanly has ended (once, no restart); a stream that exits cleanly is restarted', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-proc-'));
  try {
    // 0.2 s of 16-bit zeros, then a clean exit (code 0): the end of a file, or a stream that stopped
    const bin = script(dir, 'finishes', 'head -c 3200 /dev/zero; exit 0');
    const file = proc(bin, { finite: true });
    const stream = proc(bin);
    const seen = { fileEnds: 0, fileRestarts: 0, streamRestarts: 0, fileFrames: 0 };
    const states: string[] = [];
    file.on('end', () => seen.fileEnds++);
    file.on('restart', () => seen.fileRestarts++);
    file.on('status', (st: SourceStatus) => states.push(st.state));
    file.on('data', (ch: Float32Array[]) => (seen.fileFrames += ch[0].length));
    stream.on('restart', () => seen.streamRestarts++);
    file.start();
    stream.start();
    await waitFor(() => seen.streamRestarts >= 2 && seen.fileEnds === 1, 15_000, 'the stream restarted twice and the file ended');
    // A negative check, so a fixed wait: a restart of the file would be timed at its exit,
    // before this timer, with the first back-off (0.1 s, no jitter here), and spawn first.
    await new Promise((r) => setTimeout(r, 200));
    await Promise.all([file.stop(), stream.stop()]);
    assert.equal(seen.fileEnds, 1);
    assert.equal(seen.fileRestarts, 0, 'a file that ended is not read again');
    assert.equal(seen.fileFrames, 1600, 'every frame of the file');
    assert.equal(file.pids.length, 1);
    assert.ok(states.includes('ended'));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('privacy: a capture child\'s pipe bytes and their decoding are zeroed once handed to the capture; so is the remainder of a frame split between chunks', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-proc-'));
  try {
    // 1 s of 16-bit noise at 8 kHz (never a silent chunk), then the end of the input.
    const bin = script(dir, 'noise', 'head -c 16000 /dev/urandom; exit 0');
    const src = proc(bin, { finite: true });
    const decoder = (src as unknown as { decoder: InterleavedDecoder }).decoder;
    const push = decoder.push.bind(decoder);
    const chunks: Buffer[] = [];
    decoder.push = (chunk: Buffer) => {
      chunks.push(chunk);
      return push(chunk);
    };
    const handed: Array<{ channel: Float32Array; heldSound: boolean }> = [];
    src.on('data', (ch: Float32Array[]) => {
      for (const channel of ch) handed.push({ channel, heldSound: channel.some((v) => v !== 0) });
    });
    let ended = false;
    src.on('end', () => (ended = true));
    src.start();
    await waitFor(() => ended, 10_000, 'the end of the input');
    await src.stop();
    assert.ok(handed.length > 0 && handed.every((h) => h.heldSound), 'each decoding held the sound when handed over');
    assert.equal(chunks.reduce((n, c) => n + c.length, 0), 16000);
    for (const [i, c] of chunks.entries()) assert.equal(c.findIndex((v) => v !== 0), -1, `pipe chunk ${i} still holds audio bytes`);
    for (const [i, h] of handed.entries()) assert.equal(h.channel.findIndex((v) => v !== 0), -1, `decoding ${i} still holds samples`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  // A frame split between two chunks: the bytes kept for the next one, and the two joined, are wiped once decoded.
  const d = new InterleavedDecoder('S16_LE', 2);
  const first = Buffer.from([1, 2, 3, 4, 5, 6, 7]);
  assert.equal(d.push(first)[0].length, 1);
  const kept = (d as unknown as { carry: Buffer }).carry;
  assert.deepEqual([...kept], [5, 6, 7]);
  const concat = Buffer.concat;
  const joined: Buffer[] = [];
  Buffer.concat = ((list: readonly Uint8Array[], n?: number) => {
    const b = concat(list, n);
    joined.push(b);
    return b;
  }) as typeof Buffer.concat;
  try {
    assert.equal(d.push(Buffer.from([8, 9, 10, 11, 12]))[0].length, 2);
  } finally {
    Buffer.concat = concat;
  }
  assert.equal(joined.length, 1);
  assert.deepEqual([...kept, ...joined[0]], new Array(3 + 8).fill(0));
  d.push(Buffer.from([13]));
  const left = (d as unknown as { carry: Buffer }).carry;
  d.reset();
  assert.deepEqual([...left], [0], 'what a reset drops is wiped');
});

test('supervisor: a child that stalls (no audio) is killed and restarted; stop() kills a running child', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-proc-'));
  try {
    const bin = script(dir, 'stalls', 'exec sleep 60');
    const src = proc(bin, { stallMs: 400 });
    const restarts: string[] = [];
    src.on('restart', (r: string) => restarts.push(r));
    src.start();
    await waitFor(() => restarts.length >= 1, 15_000, 'a stall restart');
    assert.match(restarts[0], /sent no audio for 0\.4 s/);
    const pid = await waitFor(() => (src.pids.length >= 2 && alive(src.pids[1]) ? src.pids[1] : undefined), 15_000, 'the restarted child');
    await src.stop();
    assert.equal(alive(pid), false, 'stop() killed the child');
    assert.equal(alive(src.pids[0]), false);
    const n = src.pids.length;
    // A negative check, so a fixed wait: a restart would be timed at the child's exit, which
    // stop() awaited, with at most the longest back-off here (0.4 s, no jitter), and spawn first.
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(src.pids.length, n, 'nothing restarts after stop()');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('supervisor: a restart that finds no file descriptor left (EMFILE) is a start failure: told, retried with back-off, and no uncaught exception', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-proc-'));
  try {
    const bin = script(dir, 'dies', 'head -c 1600 /dev/zero; exit 3');
    // A real limit of open files (as ulimit -n sets it), low enough that the child fills it at once.
    const child = spawn('prlimit', ['--nofile=256', process.execPath, '--import', 'tsx', 'test/support/emfile-restart.ts', bin], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let code: number | null | undefined;
    child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    child.on('close', (c) => (code = c));
    try {
      await waitFor(() => code !== undefined, 60_000, 'the child to report');
    } finally {
      if (code === undefined) child.kill('SIGKILL');
    }
    assert.equal(code, 0, `${out}\n${err}`);
    const r = JSON.parse(out) as { uncaught: string[]; errors: string[]; statuses: SourceStatus[]; pids: number; filled: number };
    assert.deepEqual(r.uncaught, [], 'no uncaught exception (Node-RED would exit)');
    assert.ok(r.filled > 0, 'the descriptors were filled');
    assert.equal(r.errors.length, 1, r.errors.join(' | '));
    assert.match(r.errors[0], /^vigie-test-capture: cannot start: spawn .*dies EMFILE$/);
    const failedAt = r.statuses.findIndex((st) => st.state === 'failed');
    assert.deepEqual(r.statuses[failedAt], { state: 'failed', text: 'cannot start vigie-test-capture' });
    assert.ok(r.statuses.slice(failedAt + 1).some((st) => st.state === 'restarting' && st.text === 'restarting vigie-test-capture'), 'tried again after the back-off');
    assert.equal(r.pids, 2, 'the first child and the one started after the failure: the failed spawn has no process');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('supervisor: a missing binary is one error naming it, then quiet retries until it is there', async (t) => {
  // Nothing runs while the binary is missing: the retries go by on a mocked clock.
  t.mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'], now: Date.now() });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-proc-'));
  const bin = path.join(dir, 'vigie-capture');
  const src = proc(bin);
  const errors: Error[] = [];
  const statuses: SourceStatus[] = [];
  src.on('error', (e: Error) => errors.push(e));
  src.on('status', (s: SourceStatus) => statuses.push(s));
  try {
    src.start();
    assert.equal(errors.length, 1);
    assert.equal(errors[0].message, `vigie-test-capture not found (looked in "${bin}"); test hint`);
    assert.ok(statuses.some((s) => s.state === 'failed'));
    for (const delayMs of [100, 200, 400]) t.mock.timers.tick(delayMs); // three retries (back-off 0.1, 0.2, 0.4 s)
    assert.equal(errors.length, 1, 'the retries are quiet');
    assert.deepEqual(src.pids, [], 'nothing to start yet');
    // Installed: the next retry, 0.4 s later, starts it.
    script(dir, 'vigie-capture', 'exec sleep 60');
    t.mock.timers.tick(399);
    assert.deepEqual(src.pids, []);
    t.mock.timers.tick(1);
    assert.equal(src.pids.length, 1, 'started by the next retry');
    assert.equal(errors.length, 1);
  } finally {
    await src.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/** ffmpeg's output options (after the input): audio stream 0 only, float32 PCM, one output, stdout. */
const FFMPEG_PIPE_OUTPUT = ['-vn', '-sn', '-dn', '-map', '0:a:0', '-ac', '1', '-ar', '16000', '-c:a', 'pcm_f32le', '-f', 'f32le', 'pipe:1'];

/**
 * DESIGN §4.2: a capture child writes to its stdout pipe only. No argument names a file or URL
 * other than the declared input, and the only pipe written is stdout.
 */
function assertPipeOnly(args: string[], input: string | null): void {
  const pathLike = /^(\/|\.|~|file:|[a-z][a-z0-9+.-]*:\/\/)|\.(wav|raw|pcm|f32|s16|mp3|ogg|flac|m4a|aac|mka|mkv|mp4|ts)$/i;
  assert.deepEqual(args.filter((a) => a !== input && pathLike.test(a)), [], `a file or URL other than the input "${input}" in: ${args.join(' ')}`);
  assert.deepEqual(args.filter((a) => /^pipe:/.test(a) && a !== input), input === null ? [] : ['pipe:1'], `outputs: ${args.join(' ')}`);
}

test('command lines: arecord raw to stdout; ffmpeg audio only, RTSP over TCP, a stream with an I/O timeout, f32le pipe; URLs redacted', () => {
  // arecord writes to stdout when it is given no file name: the whole list, so that none can slip in.
  const arecord = arecordArgs({ device: 'hw:1,0', sampleRate: 48000, channels: 4, format: 'S32_LE' });
  assert.deepEqual(arecord, ['-q', '-D', 'hw:1,0', '-t', 'raw', '-f', 'S32_LE', '-r', '48000', '-c', '4']);
  assert.deepEqual(arecordArgs({ device: 'default', sampleRate: 16000, channels: 1 }), ['-q', '-D', 'default', '-t', 'raw', '-f', 'S16_LE', '-r', '16000', '-c', '1']);
  // ffmpeg accepts several outputs: the complete lists, so that no second output (a file) can be added.
  const rtsp = ffmpegArgs({ url: 'rtsp://cam/1', sampleRate: 16000, channels: 1 });
  assert.deepEqual(rtsp, ['-hide_banner', '-nostdin', '-loglevel', 'error', '-rtsp_transport', 'tcp', '-timeout', '10000000', '-i', 'rtsp://cam/1', ...FFMPEG_PIPE_OUTPUT]);
  const file = ffmpegArgs({ url: '/x.wav', sampleRate: 16000, channels: 1, realtime: true });
  assert.deepEqual(file, ['-hide_banner', '-nostdin', '-loglevel', 'error', '-re', '-i', '/x.wav', ...FFMPEG_PIPE_OUTPUT]);
  const http = ffmpegArgs({ url: 'http://cam/audio.mp3', sampleRate: 48000, channels: 2 });
  assert.deepEqual(http, ['-hide_banner', '-nostdin', '-loglevel', 'error', '-rw_timeout', '10000000', '-i', 'http://cam/audio.mp3', ...FFMPEG_PIPE_OUTPUT.slice(0, 6), '2', '-ar', '48000', ...FFMPEG_PIPE_OUTPUT.slice(9)]);
  // With credentials the input is the script on stdin (pipe:0); the output is still stdout only.
  const withCreds = ffmpegArgs({ url: 'rtsp://cam/1', username: 'u', password: 'p', sampleRate: 16000, channels: 1 });
  assert.deepEqual(withCreds, ['-hide_banner', '-nostdin', '-loglevel', 'error', ...SCRIPT_INPUT_ARGS, ...FFMPEG_PIPE_OUTPUT]);
  assert.equal(redactCredentials('rtsp://admin:secret@10.0.0.2:554/s'), 'rtsp://***@10.0.0.2:554/s');
});

test('ffmpeg: a file is a file: URL or any path, relative ones too; a stream names its protocol', () => {
  for (const file of ['file:/srv/x.wav', 'FILE:/srv/x.wav', '/srv/x.wav', './x.wav', '../clips/x.wav', 'clips/x.wav', 'x.wav', 'clips/2026-11-28 10:00.wav']) assert.equal(isFileInput(file), true, file);
  for (const stream of ['rtsp://cam/1', 'rtsps://cam/1', 'http://cam/a.mp3', 'https://cam/a.mp3', 'srt://cam:9000', 'udp://239.0.0.1:5000', 'tcp://cam:4000']) assert.equal(isFileInput(stream), false, stream);
  // A colon does not make a stream: a path like a:b.wav, and ffmpeg's local protocols, end.
  for (const local of ['a:b.wav', 'clips/a:b.wav', 'concat:a.wav|b.wav', 'data:audio/wav;base64,UklGRg==', 'subfile,,start,0,end,0,,:x.wav']) assert.equal(isFileInput(local), true, local);
});

test('ffmpeg: a path whose first colon looks like a protocol is given to ffmpeg as a file: URL, not read as the protocol "a"', () => {
  assert.equal(isPlainPath('a:b.wav'), true);
  assert.equal(isPlainPath('clips/x.wav'), true);
  for (const notPlain of ['file:/x.wav', 'concat:a.wav|b.wav', 'rtsp://cam/1', 'pipe:0']) assert.equal(isPlainPath(notPlain), false, notPlain);
  const args = ffmpegArgs({ url: 'a:b.wav', sampleRate: 16000, channels: 1 });
  assert.equal(args[args.indexOf('-i') + 1], 'file:a:b.wav');
  for (const asIs of ['/srv/a:b.wav', 'clips/x.wav', 'file:/x.wav', 'rtsp://cam/1']) {
    const a = ffmpegArgs({ url: asIs, sampleRate: 16000, channels: 1 });
    assert.equal(a[a.indexOf('-i') + 1], asIs, asIs);
  }
});

test('ffmpeg: every input protocol the installed ffmpeg reads is one mic-capture knows (a stream, a local input, or its standard input)', () => {
  const r = spawnSync('ffmpeg', ['-hide_banner', '-protocols'], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, `ffmpeg -protocols: ${r.stderr || r.error}`);
  const input = /Input:\n([\s\S]*?)\nOutput:/.exec(r.stdout)?.[1].split('\n').map((l) => l.trim()).filter(Boolean) ?? [];
  assert.ok(input.includes('http') && input.includes('file'), `ffmpeg's input protocols as listed: ${input.join(' ')}`);
  const known = new Set([...FFMPEG_INPUT_PROTOCOLS.network, ...FFMPEG_INPUT_PROTOCOLS.local, ...FFMPEG_INPUT_PROTOCOLS.process]);
  // one that is not would be refused when written as a URL (xxx://), and taken for a path otherwise
  assert.deepEqual(input.filter((p) => !known.has(p)), []);
});

test('ffmpeg: standard input and a mistyped protocol are refused, naming url and what was expected; anything ffmpeg reads is taken', () => {
  for (const stdin of ['-', 'pipe:', 'pipe:0', 'fd:3', 'PIPE:0']) {
    assert.match(ffmpegInputProblem(stdin) ?? '', /^url: expected a stream URL \(rtsp:\/\/…, http:\/\/…\) or a file path, not ffmpeg's standard input ".*", which mic-capture does not feed$/, stdin);
    assert.throws(() => createSource({ type: 'ffmpeg', url: stdin, sampleRate: 16000, channels: 1 } as SourceConfig), /^Error: url: .* standard input/, stdin);
  }
  assert.equal(ffmpegInputProblem('rstp://cam/1'), 'url: expected rtsp://, rtsps://, http://, https://, srt://, udp://, tcp://… or a file path; ffmpeg has no protocol "rstp" (in "rstp://cam/1")');
  // The password of a mistyped URL is not repeated in the error.
  assert.match(ffmpegInputProblem('htps://admin:secret@cam/a.mp3') ?? '', /"htps:\/\/\*\*\*@cam\/a\.mp3"/);
  assert.doesNotMatch(ffmpegInputProblem('htps://admin:secret@cam/a.mp3') ?? '', /secret/);
  for (const ok of ['rtsp://cam/1', 'RTSP://cam/1', 'https://cam/a.mp3', 'srt://cam:9000', 'file:/x.wav', '/x.wav', 'x.wav', 'a:b.wav', 'clips/10:00.wav', 'concat:a.wav|b.wav', 'C:/clips/x.wav']) {
    assert.equal(ffmpegInputProblem(ok), undefined, ok);
  }
});

test('command lines for other settings than those above: stdout only, no file or URL but the input', () => {
  for (const device of ['default', 'hw:1,0', 'plughw:CARD=Array,DEV=0', 'dsnoop:CARD=Device'])
    for (const format of PCM_FORMATS) for (const channels of [1, 6]) assertPipeOnly(arecordArgs({ device, sampleRate: 44100, channels, format }), null);
  let cases = 0;
  for (const url of ['rtsp://cam/1', 'rtsps://cam:322/s?x=1', 'http://cam/audio.mp3', 'https://radio/live.aac', '/srv/x.wav', './rel.flac', 'file:/srv/x.ogg'])
    for (const realtime of [false, true])
      for (const creds of [{}, { username: 'u', password: 'p' }]) {
        const o = { url, ...creds, realtime, sampleRate: 48000, channels: 2 };
        const args = ffmpegArgs(o);
        // The input ffmpeg is told to read: the stream itself, or the script on stdin.
        const inputs = args.flatMap((a, i) => (a === '-i' ? [args[i + 1]] : []));
        assert.equal(inputs.length, 1, `one input: ${args.join(' ')}`);
        assert.equal(inputs[0] === 'pipe:0', ffmpegScript(o) !== undefined, `stdin is the input exactly when there is a script: ${args.join(' ')}`);
        assertPipeOnly(args, inputs[0]);
        cases++;
      }
  assert.equal(cases, 28);
});

test('the capture children are started with exactly those arguments (read back from /proc/<pid>/cmdline)', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-proc-'));
  // Stays alive without output (sh keeps its own command line, unlike exec).
  const bin = script(dir, 'idle', 'while :; do sleep 0.05; done');
  const cases: Array<[SourceConfig, string[]]> = [
    [{ type: 'alsa', device: 'hw:1,0', sampleRate: 48000, channels: 4, format: 'S32_LE', binaryPath: bin }, ['-q', '-D', 'hw:1,0', '-t', 'raw', '-f', 'S32_LE', '-r', '48000', '-c', '4']],
    [{ type: 'ffmpeg', url: 'rtsp://cam/1', sampleRate: 16000, channels: 1, binaryPath: bin }, ['-hide_banner', '-nostdin', '-loglevel', 'error', '-rtsp_transport', 'tcp', '-timeout', '10000000', '-i', 'rtsp://cam/1', ...FFMPEG_PIPE_OUTPUT]],
    [{ type: 'ffmpeg', url: 'file:/srv/x.wav', sampleRate: 16000, channels: 1, binaryPath: bin }, ['-hide_banner', '-nostdin', '-loglevel', 'error', '-i', 'file:/srv/x.wav', ...FFMPEG_PIPE_OUTPUT]],
    [{ type: 'ffmpeg', url: 'rtsp://cam/1', username: 'u', password: 'p', sampleRate: 16000, channels: 1, binaryPath: bin }, ['-hide_banner', '-nostdin', '-loglevel', 'error', ...SCRIPT_INPUT_ARGS, ...FFMPEG_PIPE_OUTPUT]],
  ];
  try {
    for (const [cfg, want] of cases) {
      const src = createSource(cfg) as ProcessSource;
      src.on('error', () => undefined);
      src.start();
      try {
        const pid = await waitFor(() => src.pid, 15_000, `the ${cfg.type} child`);
        const cmdline = await waitFor(() => {
          const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(0, -1);
          return argv[1] === bin ? argv : undefined;
        }, 15_000, 'the script running');
        assert.deepEqual(cmdline.slice(2), want, `${cfg.type}: ${cmdline.join(' ')}`);
      } finally {
        await src.stop();
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('ffmpeg source with credentials: none on the command line; the URL and its options are in the script on stdin', () => {
  for (const o of [
    { url: 'rtsp://cam/1', username: 'micuser', password: "pa'ss" },
    { url: 'rtsp://micuser:pa%27ss@cam/1' },
  ]) {
    const args = ffmpegArgs({ ...o, sampleRate: 16000, channels: 1 });
    assert.ok(!args.some((x) => x.includes('micuser') || x.includes('pa') || x.includes('cam/1')), args.join(' '));
    assert.deepEqual(args.slice(args.indexOf('-f'), args.indexOf('-i') + 2).filter((x) => !x.includes(',')), ['-f', 'concat', '-safe', '0', '-protocol_whitelist', '-i', 'pipe:0']);
    const script = ffmpegScript({ ...o, sampleRate: 16000, channels: 1 })!;
    assert.match(script, /^ffconcat version 1\.0\nfile 'rtsp:\/\/micuser:pa(%27|'\\'')ss@cam\/1'\noption rtsp_transport 'tcp'\noption timeout '10000000'\n$/);
  }
  assert.equal(ffmpegScript({ url: 'rtsp://cam/1', sampleRate: 16000, channels: 1 }), undefined);
});

test('arecord -L output is parsed into names and descriptions', () => {
  const text = 'null\n    Discard all samples (playback) or generate zero samples (capture)\ndefault\n    Default ALSA device\nhw:CARD=Array,DEV=0\n    ReSpeaker 4 Mic Array, USB Audio\n    Direct hardware device without any conversions\n';
  assert.deepEqual(parseArecordL(text), [
    { name: 'null', description: 'Discard all samples (playback) or generate zero samples (capture)' },
    { name: 'default', description: 'Default ALSA device' },
    { name: 'hw:CARD=Array,DEV=0', description: 'ReSpeaker 4 Mic Array, USB Audio — Direct hardware device without any conversions' },
  ]);
});

test('simulated street source: a scene sensor feeds the ring with the scene clock; release stops the scene', async () => {
  const src = new SimulatedSource({ scene: 'street-demo', sensorId: 'corner-ne', realtime: false, blockMs: 100 });
  const cap = new Capture({ sensor: 'sim-ne', source: src, clock: 'ntp' });
  const blocks: AudioBlock[] = [];
  const health: HealthEvent[] = [];
  cap.on('block', (b: AudioBlock) => blocks.push(b));
  cap.on('health', (h: HealthEvent) => health.push(h));
  const faults: Error[] = [];
  cap.on('fault', (e: Error) => faults.push(e));
  cap.start();
  await waitFor(() => blocks.length >= 10 || faults.length > 0, 15_000, 'simulated blocks');
  assert.deepEqual(faults, []);
  assert.equal(blocks[0].sampleRate, 48000);
  assert.equal(blocks[0].channels, 4);
  assert.equal(blocks[0].frames, 4800);
  // Scene time: contiguous, 0.1 s apart, near now.
  assert.ok(Math.abs(blocks[5].time - blocks[4].time - 0.1) < 1e-6);
  assert.ok(Math.abs(blocks[0].time - Date.now() / 1000) < 60);
  const r = cap.audioRing!.read({ start: blocks[3].start, frames: blocks[3].frames });
  assert.ok(r.ok);
  await cap.stop();
  assert.equal(liveSceneCount(), 0, 'the live scene was released');

  const bad = new Capture({ sensor: 'sim-x', source: new SimulatedSource({ scene: 'street-demo', sensorId: 'no-such-corner', realtime: false }) });
  const badFaults: Error[] = [];
  bad.on('fault', (e: Error) => badFaults.push(e));
  bad.start();
  assert.match(badFaults[0]?.message ?? '', /no-such-corner/);
  await bad.stop();
  assert.equal(liveSceneCount(), 0);
});

test('simulated street without its clips: the scene says it plays synthetic stand-ins, once for all the sensors that hear it', async () => {
  const saved = process.env.VIGIE_DATA_DIR;
  process.env.VIGIE_DATA_DIR = path.join(os.tmpdir(), `vigie-no-data-${process.pid}`);
  const caps: Capture[] = [];
  try {
    const warnings: Array<{ sensor: string; message: string }> = [];
    let blocks = 0;
    for (const sensorId of ['corner-nw', 'corner-ne', 'corner-s']) {
      const cap = new Capture({ sensor: `sim-${sensorId}`, source: new SimulatedSource({ scene: 'street-demo', sensorId, realtime: false, blockMs: 100 }), clock: 'ntp' });
      cap.on('warning', (message: string) => warnings.push({ sensor: sensorId, message }));
      cap.on('block', () => blocks++);
      cap.start();
      caps.push(cap);
    }
    await waitFor(() => warnings.some((w) => /synthetic/.test(w.message)), 15_000, 'the synthetic stand-ins warning');
    // Long enough for every event of the scene to be rendered (with its warning, if any).
    const after = blocks;
    await waitFor(() => blocks >= after + 3 * 300, 30_000, '30 s more of the scene');
    const messages = warnings.map((w) => w.message);
    assert.deepEqual(messages, [...new Set(messages)], 'each warning once, not once per sensor');
  } finally {
    for (const cap of caps) await cap.stop();
    if (saved === undefined) delete process.env.VIGIE_DATA_DIR;
    else process.env.VIGIE_DATA_DIR = saved;
  }
  assert.equal(liveSceneCount(), 0);
});

test('describeSource names what a capture reads, with no URL credentials', () => {
  assert.equal(describeSource({ type: 'ffmpeg', url: 'rtsp://admin:secret@10.0.0.2/audio', sampleRate: 48000, channels: 1 }), 'ffmpeg rtsp://***@10.0.0.2/audio');
  assert.equal(describeSource({ type: 'alsa', device: 'hw:1,0', sampleRate: 48000, channels: 4 }), 'ALSA device hw:1,0');
  assert.equal(describeSource({ type: 'wav', file: 'street.wav' }), 'WAV file street.wav');
  assert.equal(describeSource({ type: 'input' }), 'audio blocks on the node input');
  assert.equal(describeSource({ type: 'simulated', scene: 'street-demo', sensorId: 'corner-nw' }), 'simulated scene street-demo (sensor corner-nw)');
});

// The wall clock steps as NTP does on a gateway without a real-time clock; the stall check
// measures silence on the monotonic clock, so a step neither kills a healthy capture nor
// delays the restart of a hung one.
const STEADY_CHILD = 'const b=Buffer.alloc(320);setInterval(()=>process.stdout.write(b),20)';

test('supervisor: a wall clock step forward (NTP sync after boot) does not kill a capture that delivers', async (t) => {
  // The stall check's interval is driven by hand, so that it runs right after the step.
  t.mock.timers.enable({ apis: ['setInterval'] });
  const wall = stepWallClock();
  const src = proc(process.execPath, { args: ['-e', STEADY_CHILD], stallMs: 1000 });
  try {
    const restarts: string[] = [];
    let frames = 0;
    src.on('restart', (r: string) => restarts.push(r));
    src.on('data', (ch: Float32Array[]) => (frames += ch[0].length));
    src.start();
    await waitFor(() => frames > 0, 15_000, 'first audio');
    wall.step(NTP_FIRST_SYNC_STEP_MS);
    t.mock.timers.tick(250); // one stall check
    const after = frames;
    await waitFor(() => frames - after >= 1600 || restarts.length > 0, 15_000, 'more audio or a restart');
    assert.deepEqual(restarts, [], 'no restart');
    assert.equal(src.pids.length, 1, 'the first child still runs');
  } finally {
    wall.restore();
    await src.stop();
  }
});

test('supervisor: a wall clock step back does not delay the restart of a capture that hangs', async () => {
  const wall = stepWallClock();
  // Sends 0.1 s of audio at once, then hangs with its pipe open.
  const hangs = 'process.stdout.write(Buffer.alloc(1600));setInterval(()=>{},1e6)';
  const src = proc(process.execPath, { args: ['-e', hangs], stallMs: 500 });
  try {
    const restarts: string[] = [];
    let frames = 0;
    src.on('restart', (r: string) => restarts.push(r));
    src.on('data', (ch: Float32Array[]) => (frames += ch[0].length));
    src.start();
    await waitFor(() => frames >= 800, 15_000, 'its audio');
    wall.step(-10 * 60_000);
    // On the wall clock the silence would count only ten minutes later.
    await waitFor(() => restarts.length >= 1, 15_000, 'a stall restart');
    assert.match(restarts[0], /sent no audio for 0\.5 s/);
  } finally {
    wall.restore();
    await src.stop();
  }
});
