import { after, afterEach, before, describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { closeRing, findRing, openRing, readSpan } from '../../lib/audio/registry';
import { liveSceneCount } from '../../lib/sim/live';
import { bundledScenePath } from '../../lib/sim/scene';
import { encodeWav } from '../../lib/audio/wav';
import { rmsDbfs } from '../../lib/dsp/levels';
import { validateAudioBlock } from '../../lib/contracts';
import { canaryPatterns, Finding, scanCanary, scanJson } from '../support/privacy-scan';
import { startRtspServer } from '../support/video-sources';
import { waitFor } from '../support/wait';
import { logOf, warningsOf } from '../support/node-red-log';
import { healthReport } from '../../lib/util/health';
import { capturedSensorNodes } from '../../lib/util/deployed-nodes';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const helper = require('node-red-node-test-helper');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const sensorNode = require('../../nodes/vigie-sensor');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const micNode = require('../../nodes/mic-capture');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const catchNode = require('@node-red/nodes/core/common/25-catch.js');

helper.init(require.resolve('node-red'));

type Any = any; // eslint-disable-line @typescript-eslint/no-explicit-any

let userDir: string;

/** Children of this process (from /proc), by command name. */
function childProcesses(comm?: string): { pid: number; comm: string }[] {
  const out: { pid: number; comm: string }[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const m = /^\d+ \((.*)\) \S+ (\d+)/.exec(stat);
      if (m && Number(m[2]) === process.pid && (!comm || m[1] === comm)) out.push({ pid: Number(d), comm: m[1] });
    } catch {
      /* process gone */
    }
  }
  return out;
}

interface OpenFd {
  fd: number;
  target: string;
  regular: boolean;
  writable: boolean;
}

/** The open files of a process, from /proc/<pid>/fd and fdinfo (flags & O_ACCMODE: 0 read-only). */
function openFds(pid: number): OpenFd[] {
  const out: OpenFd[] = [];
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      const target = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
      const flags = parseInt(/^flags:\s+([0-7]+)$/m.exec(fs.readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'))![1], 8);
      out.push({ fd: Number(fd), target, regular: fs.statSync(`/proc/${pid}/fd/${fd}`).isFile(), writable: (flags & 3) !== 0 });
    } catch {
      /* closed meanwhile */
    }
  }
  return out;
}

/**
 * DESIGN §4.2, checked on the running capture child (sampled `times`, 100 ms apart): its audio
 * goes to the stdout pipe; it has no regular file open for writing, and reads no regular file
 * but `inputs`.
 */
async function assertPipesOnly(pid: number, inputs: string[], times = 5): Promise<void> {
  for (let k = 0; k < times; k++) {
    const fds = openFds(pid);
    assert.ok(fds.length >= 3, `no open files read for pid ${pid}: has it exited?`);
    // Node gives a child's stdio pipes as UNIX socket pairs.
    assert.match(fds.find((f) => f.fd === 1)?.target ?? '', /^(pipe|socket):\[\d+\]$/, `stdout is not a pipe: ${JSON.stringify(fds)}`);
    assert.deepEqual(fds.filter((f) => f.regular && f.writable), [], `regular files open for writing: ${JSON.stringify(fds)}`);
    assert.deepEqual(fds.filter((f) => f.regular && !inputs.includes(f.target)), [], `regular files other than the input: ${JSON.stringify(fds)}`);
    // Samples spread over the child's run (a file opened later would show): the timing is the case.
    if (k + 1 < times) await new Promise((r) => setTimeout(r, 100));
  }
}

function sensor(id: string, extra: Record<string, unknown> = {}) {
  return { id: `sens-${id}`, type: 'vigie-sensor', sensorId: id, name: id, lat: '45.44', lon: '4.39', heightM: '4', headingDeg: '0', array: 'mono', clock: 'ntp', ...extra };
}

const twoMics = { array: 'custom', mics: '[[-0.05,0,0],[0.05,0,0]]' };

function flow(mic: Record<string, unknown>, sens: Record<string, unknown>) {
  return [
    { id: 'tab', type: 'tab', label: 'capture' },
    sens,
    { id: 'mic', type: 'mic-capture', z: 'tab', sensor: sens.id, blockMs: 100, ringSeconds: 5, levelEveryMs: 1000, wires: [['blocks'], ['health']], ...mic },
    { id: 'blocks', type: 'helper', z: 'tab' },
    { id: 'health', type: 'helper', z: 'tab' },
    { id: 'catcher', type: 'catch', z: 'tab', scope: null, wires: [['caught']] },
    { id: 'caught', type: 'helper', z: 'tab' },
  ];
}

function record(id: string): Any[] {
  const got: Any[] = [];
  helper.getNode(id).on('input', (m: Any) => got.push(m));
  return got;
}

function statuses(id: string): Any[] {
  const got: Any[] = [];
  helper.getNode(id).on('call:status', (call: Any) => got.push(call.args[0]));
  return got;
}

function tone(fHz: number, rate: number, seconds: number, amp: number, phase = 0): Float32Array {
  return Float32Array.from({ length: Math.round(rate * seconds) }, (_, i) => amp * Math.sin((2 * Math.PI * fHz * i) / rate + phase));
}

describe('mic-capture node', () => {
  before(() => {
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-mic-node-'));
    helper.settings({ userDir });
  });

  after(() => {
    fs.rmSync(userDir, { recursive: true, force: true });
  });

  afterEach(async () => {
    await helper.unload();
    await helper.stopServer();
  });

  it('input source: a refused block stays said in a red status until a block is taken; the level shown every second does not hide it', async () => {
    const up = openRing({ sensor: 'up-st', sampleRate: 16000, channels: 1, seconds: 5 });
    try {
      // The node's once-a-second level display, caught as it is set up, to run a tick at will.
      const ticks: Array<() => void> = [];
      const realSetInterval = globalThis.setInterval;
      const spy = mock.method(globalThis, 'setInterval', (fn: () => void, ms: number, ...rest: unknown[]) => {
        if (/nodes[\\/]mic-capture\.[jt]s/.test(new Error().stack ?? '')) ticks.push(fn);
        return realSetInterval(fn, ms, ...rest);
      });
      await helper.startServer();
      try {
        await helper.load([sensorNode, micNode, catchNode], flow({ source: 'input' }, sensor('st-1')));
      } finally {
        spy.mock.restore();
      }
      assert.equal(ticks.length, 1, 'the level display');
      const mic = helper.getNode('mic');
      const block = () => {
        const start = up.write([tone(440, 16000, 0.1, 0.2)]);
        return { kind: 'audio', sensor: 'up-st', seq: 0, sampleRate: 16000, channels: 1, start, frames: 1600, time: 1_750_000_000, clock: 'ntp' };
      };
      mic.receive({ payload: block() });
      await waitFor(() => mic.status.lastCall?.args[0].fill === 'green', 10_000, 'the level');
      mic.receive({ payload: { ...block(), start: 10_000_000 } });
      await waitFor(() => mic.status.lastCall?.args[0].fill === 'red', 10_000, 'the refusal');
      assert.deepEqual(mic.status.lastCall.args[0], { fill: 'red', shape: 'ring', text: 'bad payload.start: 10000000' });
      ticks[0]();
      assert.equal(mic.status.lastCall.args[0].fill, 'red', 'still said after the level display ran');
      mic.receive({ payload: block() });
      await waitFor(() => mic.status.lastCall?.args[0].fill === 'green', 10_000, 'the level again, once a block is taken');
    } finally {
      closeRing(up);
    }
  });

  it('plays a WAV file relative to the user directory (fast, once): blocks, level, end, ring content', async () => {
    const x = tone(500, 16000, 2.05, 0.3);
    fs.writeFileSync(path.join(userDir, 'clip.wav'), encodeWav([x], 16000, 'float32'));
    await helper.startServer();
    await helper.load([sensorNode, micNode, catchNode], flow({ source: 'wav', file: 'clip.wav', pace: 'fast', loop: false, levelEveryMs: 500 }, sensor('wav-1')));
    const blocks = record('blocks');
    const health = record('health');
    await waitFor(() => health.some((m) => m.payload.condition === 'ended'), 15_000, 'the end of the file');
    assert.equal(blocks.length, Math.floor(x.length / 1600));
    blocks.forEach((m, i) => {
      assert.equal(m.topic, 'wav-1');
      validateAudioBlock(m.payload);
      assert.equal(m.payload.seq, i);
      assert.equal(m.payload.start, i * 1600);
      assert.equal(m.payload.clock, 'ntp');
    });
    const last = blocks.at(-1).payload;
    const r = readSpan(last);
    assert.ok(r.ok, 'the last block is still in the ring');
    if (r.ok) assert.deepEqual(Array.from(r.channels[0]), Array.from(x.subarray(last.start, last.start + last.frames)));
    const levels = health.filter((m) => m.topic === 'level');
    assert.ok(levels.length >= 3);
    assert.ok(Math.abs(levels[1].payload.leqDbfs - 20 * Math.log10(0.3 / Math.SQRT2)) <= 0.1);
  });

  it('tells which vigie-sensor it captures for, by sensor id, while it runs (the localizer takes that one for the id), and forgets it on close', async () => {
    fs.writeFileSync(path.join(userDir, 'held.wav'), encodeWav([tone(500, 16000, 1, 0.3)], 16000, 'float32'));
    await helper.startServer();
    await helper.load([sensorNode, micNode, catchNode], flow({ source: 'wav', file: 'held.wav', loop: true }, sensor('wav-held')));
    await waitFor(() => findRing('wav-held') !== undefined, 15_000, 'capturing');
    assert.equal(capturedSensorNodes.get('wav-held'), helper.getNode('sens-wav-held'));
    await helper.unload();
    assert.equal(capturedSensorNodes.has('wav-held'), false);
  });

  it('a WAV at an absolute path in real time shows the running level in a green dot', async () => {
    const file = path.join(userDir, 'loud.wav');
    fs.writeFileSync(file, encodeWav([tone(1000, 16000, 1, Math.SQRT2 * 0.1)], 16000, 'pcm16'));
    await helper.startServer();
    await helper.load([sensorNode, micNode, catchNode], flow({ source: 'wav', file, loop: true }, sensor('wav-2')));
    const st = statuses('mic');
    const green = await waitFor(() => st.find((s) => s.fill === 'green' && /dBFS/.test(s.text)), 15_000, 'a level status');
    assert.equal(green.shape, 'dot');
    assert.match(green.text, /^wav-2: \u221220 dBFS$/);
  });

  it('captures through the real arecord from an ALSA "file" PCM; restarts after SIGKILL with a ring gap; close leaves no child', async () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-alsa-home-'));
    const oldHome = process.env.HOME;
    try {
      const rate = 16000;
      const seconds = 30; // long enough that the checks read real infile samples
      const frames = rate * seconds;
      const infile = Buffer.alloc(frames * 4);
      const expected = [new Float32Array(frames), new Float32Array(frames)];
      for (let i = 0; i < frames; i++) {
        const a = Math.round(12000 * Math.sin((2 * Math.PI * 440 * i) / rate));
        const b = ((i * 7) % 20000) - 10000;
        infile.writeInt16LE(a, i * 4);
        infile.writeInt16LE(b, i * 4 + 2);
        expected[0][i] = a / 32768;
        expected[1][i] = b / 32768;
      }
      const raw = path.join(home, 'street.raw');
      fs.writeFileSync(raw, infile);
      fs.writeFileSync(path.join(home, '.asoundrc'), `pcm.vigietest {\n  type file\n  slave.pcm null\n  file "/dev/null"\n  infile "${raw}"\n  format "raw"\n}\n`);
      process.env.HOME = home;

      await helper.startServer();
      await helper.load(
        [sensorNode, micNode, catchNode],
        flow({ source: 'alsa', device: 'vigietest', sampleRate: rate, channels: 2, format: 'S16_LE', ringSeconds: 30 }, sensor('alsa-1', twoMics)),
      );
      const blocks = record('blocks');
      const health = record('health');
      const st = statuses('mic');
      // Compare what reached the ring with the infile, block by block, while it is there.
      let verified = 0;
      const mismatches: string[] = [];
      helper.getNode('blocks').on('input', (m: Any) => {
        const b = m.payload;
        if (b.start + b.frames > frames || verified >= 20) return;
        const r = readSpan(b);
        if (!r.ok) return;
        for (let c = 0; c < 2; c++) {
          const want = expected[c].subarray(b.start, b.start + b.frames);
          const i = r.channels[c].findIndex((v, k) => v !== want[k]);
          if (i >= 0) mismatches.push(`block ${b.seq} (start ${b.start}) channel ${c} frame ${i}: ${r.channels[c][i]} vs ${want[i]}`);
        }
        verified++;
      });
      await waitFor(() => verified >= 3 || mismatches.length > 0, 15_000, 'blocks read back from the ring');
      assert.deepEqual(mismatches, []);
      assert.equal(blocks[0].payload.sampleRate, rate);
      assert.equal(blocks[0].payload.channels, 2);

      const [child] = childProcesses('arecord');
      assert.ok(child, 'arecord runs as a child of this process');
      // It reads the ALSA infile and writes the capture to its stdout pipe (and the plugin's copy to /dev/null): no file.
      await assertPipesOnly(child.pid, [raw]);
      const before = blocks.length;
      process.kill(child.pid, 'SIGKILL');
      const restart = await waitFor(() => health.find((m) => m.payload.condition === 'restart'), 15_000, 'a restart health message');
      assert.match(restart.payload.detail, /arecord killed by SIGKILL/);
      const killedAt = st.length;
      // A capture that died is a fault (red) until it runs again; yellow is for the first start only.
      await waitFor(() => st.find((s) => s.fill === 'red' && s.shape === 'ring' && /SIGKILL.*restarting in/.test(s.text)), 15_000, 'a restarting status');
      const ring = findRing('alsa-1')!;
      const gapAt = await waitFor(() => ring.listGaps().find((g) => /SIGKILL/.test(g.reason))?.at, 15_000, 'a ring gap');
      await waitFor(() => blocks.length > before + 5 && blocks.some((m) => m.payload.start >= gapAt), 15_000, 'blocks after the restart');
      const firstAfter = blocks.find((m) => m.payload.start >= gapAt).payload;
      assert.equal(firstAfter.start, gapAt, 'blocks resume exactly at the gap');
      const newChild = await waitFor(() => childProcesses('arecord')[0], 15_000, 'the new arecord');
      assert.notEqual(newChild.pid, child.pid);
      await waitFor(() => st.slice(killedAt).some((s) => s.fill === 'green'), 15_000, 'green again');
      const untilGreen = st.slice(killedAt, killedAt + st.slice(killedAt).findIndex((s) => s.fill === 'green'));
      assert.deepEqual(untilGreen.filter((s) => s.fill !== 'red'), [], `no yellow while restarting: ${JSON.stringify(untilGreen)}`);
      assert.ok(untilGreen.some((s) => s.text === 'restarting arecord'), JSON.stringify(untilGreen));
      assert.equal(st[0].fill, 'yellow', 'the first start is yellow');

      await helper.unload();
      await waitFor(() => childProcesses('arecord').length === 0, 5000, 'no arecord child after close');
      assert.equal(fs.existsSync(`/proc/${newChild.pid}`) && !/\bZ\b/.test(fs.readFileSync(`/proc/${newChild.pid}/stat`, 'utf8').split(') ')[1] ?? ''), false);
      assert.equal(findRing('alsa-1'), undefined, 'the ring is released on close');
    } finally {
      process.env.HOME = oldHome;
      fs.rmSync(home, { recursive: true, force: true });
    }
  });

  it('captures through the real ffmpeg from a file URL (48 kHz stereo → 16 kHz mono), and close kills it', async () => {
    const file = path.join(userDir, 'camera-mic.wav');
    const amp = Math.SQRT2 * 0.1; // −20 dBFS RMS on each channel
    fs.writeFileSync(file, encodeWav([tone(1000, 48000, 3, amp), tone(1000, 48000, 3, amp)], 48000, 'pcm16'));
    await helper.startServer();
    // In real time (-re), so that ffmpeg still runs while its open files are read.
    await helper.load([sensorNode, micNode, catchNode], flow({ source: 'ffmpeg', url: `file:${file}`, realtime: true, sampleRate: 16000, channels: 1 }, sensor('cam-1')));
    const blocks = record('blocks');
    const levels: number[] = [];
    helper.getNode('blocks').on('input', (m: Any) => {
      const b = m.payload;
      if (b.start < 3200 || b.start + b.frames > 16000 * 2.5 || levels.length >= 5) return;
      const r = readSpan(b);
      if (r.ok) levels.push(rmsDbfs(r.channels[0]));
    });
    await waitFor(() => levels.length >= 3, 15_000, 'blocks with the file tone');
    const ff = childProcesses('ffmpeg');
    assert.equal(ff.length, 1);
    // It reads the WAV file and writes PCM to its stdout pipe: no other file, none written.
    await assertPipesOnly(ff[0].pid, [file]);
    // ffmpeg's stereo → mono downmix is (L + R)/√2: two identical −20 dBFS channels give −17 dBFS.
    for (const db of levels) assert.ok(Math.abs(db - (-20 + 20 * Math.log10(Math.SQRT2))) < 0.3, `${db} dBFS`);
    assert.equal(blocks[0].payload.sampleRate, 16000);
    assert.equal(blocks[0].payload.channels, 1);
    assert.equal(blocks[0].payload.frames, 1600);
    await helper.unload();
    await waitFor(() => childProcesses('ffmpeg').length === 0, 5000, 'no ffmpeg child after close');
  });

  it('a camera microphone behind RTSP authentication: the node\'s credentials reach the server, never the process list (real ffmpeg, GStreamer RTSP)', async () => {
    const rtsp = await startRtspServer({ user: 'micuser', password: "mic'pass word" });
    try {
      await helper.startServer();
      await helper.load([sensorNode, micNode, catchNode], flow({ source: 'ffmpeg', url: rtsp.url, sampleRate: 16000, channels: 1 }, sensor('cam-auth')), {
        mic: { username: 'micuser', password: "mic'pass word" },
      });
      const blocks = record('blocks');
      await waitFor(() => blocks.length >= 3, 30_000, 'audio blocks from the RTSP microphone');
      assert.equal(blocks[0].payload.sampleRate, 16000);
      const ff = childProcesses('ffmpeg');
      assert.equal(ff.length, 1);
      const cmdline = fs.readFileSync(`/proc/${ff[0].pid}/cmdline`, 'utf8').split('\0').join(' ');
      assert.ok(!cmdline.includes('micuser') && !cmdline.includes('pass'), `credentials on the command line: ${cmdline}`);
      // A network input: no regular file open at all, the audio goes to the stdout pipe.
      await assertPipesOnly(ff[0].pid, []);
      await helper.unload();
      await waitFor(() => childProcesses('ffmpeg').length === 0, 5000, 'no ffmpeg child after close');
      // a password typed into the URL still works, with a warning that it is stored in plain text
      await helper.load([sensorNode, micNode, catchNode], flow({ source: 'ffmpeg', url: rtsp.url.replace('rtsp://', 'rtsp://micuser:mic%27pass%20word@'), sampleRate: 16000, channels: 1 }, sensor('cam-auth2')));
      const warned = warningsOf(helper, 'mic');
      assert.ok(warned.some((m) => /saved in plain text in the flows/.test(m)), `warnings: ${JSON.stringify(warned)}`);
      const blocks2 = record('blocks');
      await waitFor(() => blocks2.length >= 1, 30_000, 'audio blocks with the password in the URL');
      await helper.unload();
      await waitFor(() => childProcesses('ffmpeg').length === 0, 5000, 'no ffmpeg child after close');
      // credentials the node cannot use are each a warning naming the field
      const warningsFor = async (url: string, credentials: Record<string, string>, id: string): Promise<string[]> => {
        helper.log().resetHistory();
        await helper.load([sensorNode, micNode, catchNode], flow({ source: 'ffmpeg', url, sampleRate: 16000, channels: 1 }, sensor(id)), { mic: credentials });
        const w = warningsOf(helper, 'mic');
        await helper.unload();
        return w;
      };
      assert.ok((await warningsFor(rtsp.url, { password: 'alone' }, 'cam-auth3')).some((m) => /^Stream password: it is ignored without a Stream user/.test(m)));
      assert.ok((await warningsFor(rtsp.url.replace('rtsp://', 'rtsp://micuser@'), { username: 'other', password: 'x' }, 'cam-auth4')).some((m) => /^Stream user: ignored, because the URL already carries a user/.test(m)));
      await waitFor(() => childProcesses('ffmpeg').length === 0, 5000, 'no ffmpeg child after close');
    } finally {
      await rtsp.stop();
    }
  });

  for (const [how, name, url] of [
    ['a file: URL', 'short.wav', (file: string) => `file:${file}`],
    ['a path relative to the user directory', 'short.wav', () => 'clips/short.wav'],
    ['a relative path whose first part ends in a colon, as a protocol would (clips/a:b.wav)', 'a:b.wav', () => 'clips/a:b.wav'],
  ] as const) {
    it(`an ffmpeg file input (${how}) ends once: every block delivered, an "ended" status and health message, no restart`, async () => {
      const file = path.join(userDir, 'clips', name);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, encodeWav([tone(440, 16000, 1, 0.1)], 16000, 'pcm16'));
      await helper.startServer();
      await helper.load([sensorNode, micNode, catchNode], flow({ source: 'ffmpeg', url: url(file), sampleRate: 16000, channels: 1 }, sensor('cam-3')));
      const blocks = record('blocks');
      const health = record('health');
      const st = statuses('mic');
      await waitFor(() => health.some((m) => m.payload.condition === 'ended'), 15_000, 'an ended health message');
      await waitFor(() => st.some((s) => s.fill === 'grey' && s.shape === 'dot' && /end of input/.test(s.text)), 15_000, 'an ended status');
      // A negative check, so a fixed wait: nothing may follow the end. A restart would be timed
      // at the exit with the first back-off, at most 0.6 s (0.5 s ± 20 %), so its timer fires
      // before this one and its ffmpeg would be seen below (or its health message).
      await new Promise((r) => setTimeout(r, 1000));
      assert.equal(health.filter((m) => m.payload.condition === 'restart').length, 0, 'no restart');
      assert.equal(health.filter((m) => m.payload.condition === 'ended').length, 1);
      assert.equal(childProcesses('ffmpeg').length, 0, 'ffmpeg has exited and was not started again');
      const frames = blocks.reduce((n, m) => n + m.payload.frames, 0);
      assert.ok(frames >= 16000 - 1600 && frames <= 16000, `${frames} frames of the 16000 in the file`);
      await helper.unload();
    });
  }

  it('a missing ffmpeg is reported once with a red status, retried quietly, and picked up once installed; missing again later, it is reported again', async () => {
    const fake = path.join(userDir, 'bin-later', 'ffmpeg');
    const ffmpegBefore = process.env.VIGIE_FFMPEG;
    process.env.VIGIE_FFMPEG = fake;
    // Each try looks for the binary at VIGIE_FFMPEG (lib/util/binaries.ts): counted here.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const statSync = mock.method(require('node:fs') as typeof fs, 'statSync');
    const lookups = () => statSync.mock.calls.filter((c) => c.arguments[0] === fake).length;
    const file = path.join(userDir, 'later.wav');
    fs.writeFileSync(file, encodeWav([tone(440, 16000, 1, 0.2)], 16000, 'pcm16'));
    try {
      await helper.startServer();
      await helper.load([sensorNode, micNode, catchNode], flow({ source: 'ffmpeg', url: file, sampleRate: 16000, channels: 1, realtime: true }, sensor('cam-2')));
      const mic = helper.getNode('mic');
      const blocks = record('blocks');
      await waitFor(() => mic.status.args.some((a: Any[]) => a[0].fill === 'red' && a[0].shape === 'ring' && /ffmpeg not found/.test(a[0].text)), 15_000, 'a red status');
      // Two retries (0.5 s, then 1 s of back-off) look for the binary again and fail again,
      // unreported; then the binary is installed.
      await waitFor(() => lookups() >= 3, 15_000, 'two more looks for the missing ffmpeg');
      const errors = mic.error.args.filter((a: Any[]) => /ffmpeg not found/.test(String(a[0])));
      assert.equal(errors.length, 1, 'reported once');
      assert.match(String(errors[0][0]), /VIGIE_FFMPEG=.*install ffmpeg/);
      assert.equal(blocks.length, 0);
      fs.mkdirSync(path.dirname(fake));
      const real = execFileSync('sh', ['-c', 'command -v ffmpeg']).toString().trim();
      fs.symlinkSync(real, fake);
      await waitFor(() => blocks.length >= 3, 20_000, 'blocks once ffmpeg exists');
      // Running, then ffmpeg goes away and the process dies: the fault is new, and said again.
      fs.unlinkSync(fake);
      for (const c of childProcesses('ffmpeg')) process.kill(c.pid, 'SIGKILL');
      await waitFor(() => mic.error.args.filter((a: Any[]) => /ffmpeg not found/.test(String(a[0]))).length === 2, 20_000, 'the fault said again');
    } finally {
      statSync.mock.restore();
      if (ffmpegBefore === undefined) delete process.env.VIGIE_FFMPEG;
      else process.env.VIGIE_FFMPEG = ffmpegBefore;
    }
  });

  // the status: short, naming the field (and the value when the error carries it); the log has the whole message
  for (const [label, mic, sens, field, status] of [
    ['no sensor', { source: 'wav', file: 'x.wav', sensor: '' }, sensor('c1'), /^sensor: expected a vigie-sensor/, 'bad sensor'],
    ['invalid sensor', { source: 'wav', file: 'x.wav' }, sensor('c2', { lat: '123' }), /^sensor: lat: expected a number from -90 to 90/, 'bad sensor: lat'],
    ['invalid sensor id', { source: 'wav', file: 'x.wav' }, sensor('c 2'), /^sensor: sensorId: expected 1-64 letters, digits, "_", "-" or "\." \(used in MQTT topics\), got "c 2"$/, 'bad sensor: sensorId'],
    ['channel map beyond the device', { source: 'alsa', device: 'default', channels: 2, channelMap: '0,5' }, sensor('c3', twoMics), /^setting channelMap: channel 5 does not exist/, /^setting channelMap: channel 5 does not exist/],
    ['ring above the privacy cap', { source: 'wav', file: 'x.wav', ringSeconds: 60 }, sensor('c4'), /^setting ringSeconds: expected a number from 0.5 to 30, got 60$/, 'bad setting ringSeconds: 60'],
    ['block as text', { source: 'wav', file: 'x.wav', blockMs: 'fast' }, sensor('c8'), /^setting blockMs: expected an integer from 10 to 2000, got "fast"$/, 'bad setting blockMs: "fast"'],
    ['rate out of range', { source: 'alsa', sampleRate: '1000' }, sensor('c9'), /^setting sampleRate: expected an integer from 8000 to 384000, got "1000"$/, 'bad setting sampleRate: "1000"'],
    ['no URL', { source: 'ffmpeg', url: ' ' }, sensor('c5'), /^setting url: expected an ffmpeg input URL/, 'bad setting url'],
    ['ffmpeg\'s standard input', { source: 'ffmpeg', url: '-' }, sensor('c13'), /^setting url: expected a stream URL \(rtsp:\/\/…, http:\/\/…\) or a file path, not ffmpeg's standard input "-"/, 'bad setting url'],
    ['a mistyped protocol', { source: 'ffmpeg', url: 'rstp://cam/1' }, sensor('c14'), /^setting url: expected rtsp:\/\/, .* or a file path; ffmpeg has no protocol "rstp" \(in "rstp:\/\/cam\/1"\)$/, 'bad setting url'],
    ['no file', { source: 'wav', file: '' }, sensor('c10'), /^setting file: expected the path of a WAV file/, 'bad setting file'],
    ['bad format', { source: 'alsa', format: 'MP3' }, sensor('c6'), /^setting format: expected one of/, 'bad setting format'],
    ['unknown source', { source: 'radio' }, sensor('c11'), /^setting source: expected one of/, 'bad setting source'],
    ['device from an unset variable', { source: 'alsa', device: '${VIGIE_TEST_UNSET_DEVICE}' }, sensor('c12'), /^setting device: expected a value, got "\$\{VIGIE_TEST_UNSET_DEVICE\}"; environment variable not set where Node-RED runs: VIGIE_TEST_UNSET_DEVICE \(device\)$/, 'bad setting device'],
  ] as [string, Record<string, unknown>, Record<string, unknown>, RegExp, string | RegExp][]) {
    it(`refuses a bad configuration (${label}) with an error naming the field and a short red status`, async () => {
      await helper.startServer();
      const f = flow(mic, sens);
      await helper.load([sensorNode, micNode, catchNode], f);
      const n = helper.getNode('mic');
      assert.ok(n.error.args.some((a: Any[]) => field.test(String(a[0]))), `errors: ${JSON.stringify(n.error.args)}`);
      const red = n.status.args.map((a: Any[]) => a[0]).filter((st: Any) => st.fill === 'red' && st.shape === 'ring');
      assert.equal(red.length, 1, JSON.stringify(n.status.args));
      if (typeof status === 'string') assert.equal(red[0].text, status);
      else assert.match(red[0].text, status);
      assert.ok(red[0].text.length <= 60, red[0].text);
    });
  }

  it('a capture that cannot start is in the health report as failed (degraded: no capture runs that noAudio could see), with why, until it closes', async () => {
    const info = { package: 'p', version: '0', nodeRed: '4', startedAtMonotonicMs: performance.now() };
    await helper.startServer();
    // The gateway's sensor with a latitude that is not a number: no sensor, so no capture at all;
    // the report still names the sensor by the ID typed in its form.
    await helper.load([sensorNode, micNode, catchNode], flow({ source: 'alsa', name: 'USB mic array' }, sensor('gw-1', { lat: 'abc' })));
    let r = healthReport(info);
    assert.equal(r.status, 'degraded');
    assert.deepEqual(r.noAudio, []);
    assert.deepEqual(
      r.failed.map((f) => [f.node, f.id, f.name, f.sensor, f.reason]),
      [['mic-capture', 'mic', 'USB mic array', 'gw-1', 'sensor: lat: expected a number from -90 to 90, got "abc"']],
    );
    assert.ok(Date.now() - Date.parse(r.failed[0].since) < 60_000, r.failed[0].since);
    await helper.unload();
    r = healthReport(info);
    assert.deepEqual([r.status, r.failed], ['ok', []], 'closed: no longer reported');

    // A setting it cannot use, on a valid sensor: the sensor is named.
    await helper.load([sensorNode, micNode, catchNode], flow({ source: 'wav', file: 'x.wav', ringSeconds: 60 }, sensor('gw-2')));
    r = healthReport(info);
    assert.deepEqual(
      r.failed.map((f) => [f.node, f.id, f.name, f.sensor, f.reason]),
      [['mic-capture', 'mic', undefined, 'gw-2', 'setting ringSeconds: expected a number from 0.5 to 30, got 60']],
    );
  });

  it('channel count after the map must match the sensor array (error names channels)', async () => {
    fs.writeFileSync(path.join(userDir, 'stereo.wav'), encodeWav([tone(300, 8000, 1, 0.2), tone(300, 8000, 1, 0.2)], 8000));
    await helper.startServer();
    await helper.load([sensorNode, micNode, catchNode], flow({ source: 'wav', file: 'stereo.wav', pace: 'fast' }, sensor('c7')));
    const n = helper.getNode('mic');
    await waitFor(() => n.error.args.some((a: Any[]) => /^channels: the source gives 2 channel\(s\), but sensor "c7" has 1 microphone/.test(String(a[0]))), 15_000, 'a channels error');
    assert.equal(findRing('c7'), undefined);
  });

  it('input source: copies another sensor’s blocks, channel-mapped, into its own ring; bad input → done(err) naming the field', async () => {
    const quad = [0, 1, 2, 3].map((c) => tone(200 * (c + 1), 16000, 2, 0.1 * (c + 1)));
    fs.writeFileSync(path.join(userDir, 'quad.wav'), encodeWav(quad, 16000, 'float32'));
    await helper.startServer();
    const quadSensor = sensor('quad', { array: 'square-4' });
    const subSensor = sensor('sub', twoMics);
    await helper.load(
      [sensorNode, micNode, catchNode],
      [
        { id: 'tab', type: 'tab', label: 'split' },
        quadSensor,
        subSensor,
        { id: 'up', type: 'mic-capture', z: 'tab', sensor: quadSensor.id, source: 'wav', file: 'quad.wav', loop: true, wires: [['down', 'upBlocks'], []] },
        { id: 'down', type: 'mic-capture', z: 'tab', sensor: subSensor.id, source: 'input', channelMap: '2,3', wires: [['blocks'], ['health']] },
        { id: 'upBlocks', type: 'helper', z: 'tab' },
        { id: 'blocks', type: 'helper', z: 'tab' },
        { id: 'health', type: 'helper', z: 'tab' },
        { id: 'catcher', type: 'catch', z: 'tab', scope: null, wires: [['caught']] },
        { id: 'caught', type: 'helper', z: 'tab' },
      ],
    );
    const upBlocks = record('upBlocks');
    const blocks = record('blocks');
    const caught = record('caught');
    await waitFor(() => blocks.length >= 3, 15_000, 'blocks of the sub-array');
    const sub = blocks[2].payload;
    assert.equal(sub.sensor, 'sub');
    assert.equal(sub.channels, 2);
    const up = upBlocks.find((m) => Math.abs(m.payload.time - sub.time) < 1e-6)?.payload;
    assert.ok(up, 'the upstream block with the same time');
    const a = readSpan(up);
    const b = readSpan(sub);
    assert.ok(a.ok && b.ok);
    if (a.ok && b.ok) {
      assert.deepEqual(Array.from(b.channels[0]), Array.from(a.channels[2]));
      assert.deepEqual(Array.from(b.channels[1]), Array.from(a.channels[3]));
    }
    helper.getNode('down').receive({ payload: { kind: 'detection', sensor: 'quad' } });
    const err = await waitFor(() => caught.find((m) => /payload.kind: expected "audio"/.test(m.error?.message)), 15_000, 'a caught error');
    assert.equal(err.error.source.id, 'down');
    // The flow keeps running.
    const n = blocks.length;
    await waitFor(() => blocks.length > n + 2, 15_000, 'more blocks after the bad input');
  });

  it('simulated street: a scene sensor feeds this sensor (4 channels, 48 kHz) and close releases the scene', async () => {
    await helper.startServer();
    await helper.load(
      [sensorNode, micNode, catchNode],
      flow({ source: 'simulated', scene: 'street-demo', simSensor: 'corner-nw', pace: 'fast' }, sensor('nw', { array: 'square-4' })),
    );
    const blocks = record('blocks');
    await waitFor(() => blocks.length >= 5, 15_000, 'simulated blocks');
    assert.deepEqual([blocks[0].payload.sensor, blocks[0].payload.channels, blocks[0].payload.sampleRate], ['nw', 4, 48000]);
    assert.ok(readSpan(blocks.at(-1).payload).ok);
    const logged = logOf(helper, 'mic', 'INFO');
    assert.ok(logged.includes('sensor "nw": capturing from simulated scene street-demo (sensor corner-nw)'), logged.join('\n'));
    await helper.unload();
    assert.equal(liveSceneCount(), 0);
  });

  it('simulated street from a scene JSON given relative to the user directory', async () => {
    fs.mkdirSync(path.join(userDir, 'scenes'), { recursive: true });
    fs.copyFileSync(bundledScenePath('street-demo')!, path.join(userDir, 'scenes', 'my-street.json'));
    await helper.startServer();
    await helper.load([sensorNode, micNode, catchNode], flow({ source: 'simulated', scene: 'scenes/my-street.json', simSensor: 'corner-nw', pace: 'fast' }, sensor('nw', { array: 'square-4' })));
    const blocks = record('blocks');
    await waitFor(() => blocks.length >= 3, 15_000, 'simulated blocks');
    const logged = logOf(helper, 'mic', 'INFO');
    assert.ok(logged.some((l) => l.includes(`capturing from simulated scene ${path.join(userDir, 'scenes', 'my-street.json')}`)), logged.join('\n'));
    await helper.unload();
    assert.equal(liveSceneCount(), 0);
  });

  it('simulated street without its clips: the node warns that it plays synthetic stand-ins', async () => {
    const saved = process.env.VIGIE_DATA_DIR;
    process.env.VIGIE_DATA_DIR = path.join(os.tmpdir(), `vigie-no-data-${process.pid}`);
    try {
      await helper.startServer();
      await helper.load([sensorNode, micNode, catchNode], flow({ source: 'simulated', scene: 'street-demo', simSensor: 'corner-nw', pace: 'fast' }, sensor('nw', { array: 'square-4' })));
      await waitFor(() => warningsOf(helper, 'mic').some((w) => /using synthetic events instead/.test(w)), 15_000, 'the synthetic stand-ins warning');
      await helper.unload();
    } finally {
      if (saved === undefined) delete process.env.VIGIE_DATA_DIR;
      else process.env.VIGIE_DATA_DIR = saved;
    }
  });

  it('lists ALSA capture devices for the editor (admin route, from arecord -L)', async () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-alsa-home-'));
    const oldHome = process.env.HOME;
    try {
      fs.writeFileSync(path.join(home, '.asoundrc'), 'pcm.vigielisted {\n  type null\n  hint.description "Vigie test device"\n}\n');
      process.env.HOME = home;
      await helper.startServer();
      await helper.load([sensorNode, micNode], [sensor('dev')]);
      const res = await helper.request().get('/vigie/alsa-devices').expect(200);
      const names = res.body.devices.map((d: Any) => d.name);
      assert.ok(names.includes('vigielisted'), JSON.stringify(res.body));
      assert.equal(res.body.devices.find((d: Any) => d.name === 'vigielisted').description, 'Vigie test device');
    } finally {
      process.env.HOME = oldHome;
      fs.rmSync(home, { recursive: true, force: true });
    }
  });

  it('privacy: nothing that leaves the node carries samples, and every message stays small', async () => {
    // Loud enough to clip now and then, so health messages are exercised too.
    const left = tone(700, 16000, 1, 1.2);
    const right = tone(1300, 16000, 1, 0.4, 1);
    fs.writeFileSync(path.join(userDir, 'canary.wav'), encodeWav([left, right], 16000, 'float32'));
    const canaries = [...canaryPatterns(left.subarray(100, 200).map((v) => Math.max(-1, Math.min(1, v)))), ...canaryPatterns(right.subarray(4000, 4100))];
    await helper.startServer();
    await helper.load([sensorNode, micNode, catchNode], flow({ source: 'wav', file: 'canary.wav', loop: true, levelEveryMs: 100 }, sensor('priv', twoMics)));
    const all: Any[] = [];
    for (const id of ['blocks', 'health', 'caught']) helper.getNode(id).on('input', (m: Any) => all.push(m));
    const mic = helper.getNode('mic');
    await waitFor(() => all.filter((m) => m.topic === 'priv').length >= 25 && all.some((m) => m.payload?.condition === 'clipping'), 20_000, 'messages for a while');
    const findings: Finding[] = [];
    for (const m of all) {
      const { _msgid, ...rest } = m;
      void _msgid;
      const text = JSON.stringify(rest);
      assert.ok(text.length < 1024, `message of ${text.length} bytes: ${text.slice(0, 200)}`);
      scanJson(JSON.parse(text), 'message', findings);
      scanCanary(Buffer.from(text), canaries, 'message', findings);
      const hasSampleKey = (o: Any): boolean => o && typeof o === 'object' && Object.entries(o).some(([k, v]) => /^(samples?|data|pcm|audio)$/i.test(k) || hasSampleKey(v));
      assert.equal(hasSampleKey(rest), false, text);
    }
    for (const method of ['log', 'warn', 'error', 'status']) {
      for (const args of mic[method].args) {
        const text = JSON.stringify(args);
        assert.ok(text.length < 1024);
        scanCanary(Buffer.from(text), canaries, `node.${method}`, findings);
      }
    }
    assert.deepEqual(findings, []);
    // Level reports asked for every 100 ms come every 250 ms, each a mean over 250 ms (lib/audio/capture.ts MIN_LEVEL_PERIOD_MS).
    const levels = all.filter((m) => m.topic === 'level');
    assert.ok(levels.length > 0);
    for (const l of levels) assert.ok(l.payload.periodS >= 0.25, `a level report over ${l.payload.periodS} s`);
    assert.ok(mic.warn.args.some((a: unknown[]) => /^setting levelEveryMs: expected 0 \(off\) or at least 250 ms, got 100/.test(String(a[0]))), JSON.stringify(mic.warn.args));
    const ring = findRing('priv')!;
    assert.ok(ring.end > 0);
    await helper.unload();
    assert.equal(findRing('priv'), undefined);
    assert.equal(ring.isClosed, true);
    assert.equal(ring.read({ start: 0, frames: 1 }).ok, false, 'a closed ring gives nothing back');
  });
});
