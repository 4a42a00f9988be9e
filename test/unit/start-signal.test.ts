/**
 * SIGTERM or SIGINT while `vigie start` is still starting: it stops what it started (Node-RED,
 * the street demo's broker and cameras) and exits 0, leaving no child process and no lock.
 * Killed with SIGKILL, it stops nothing: its Node-RED stops on its own, writing its stop files.
 * Its capture children (arecord, ffmpeg) are left neither by a Node-RED that crashes nor by a
 * Ctrl-C, which signals them too (and is no capture that died).
 * Real `vigie start` processes and real signals; the Node-RED of the first test waits for a node
 * type that is not installed, so it never finishes starting (the signal cannot come too late).
 * Needs the build (the user directory links the package's dist/).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'child_process';
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { encodeWav } from '../../lib/audio/wav';
import { LOCK_FILE, processState } from '../../lib/cli/start-lock';
import { HEALTH_FILE } from '../../lib/util/launcher-channel';
import { repoRoot } from '../support/nodered';
import { remoteGunshot } from '../support/detections';
import { exitedAndDrained, waitFor } from '../support/wait';
import { silentServer } from '../support/silent-server';

let dir = '';
const spawned: ChildProcess[] = [];

before(() => {
  assert.ok(fs.existsSync(path.join(repoRoot, 'dist', 'nodes', 'vigie-runtime.js')), 'run the build first (npm test does)');
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-start-signal-'));
});

/** Processes a failing test would leave behind (an orphaned Node-RED): ended at the end. */
const leftovers = new Set<number>();

after(() => {
  for (const p of spawned) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  for (const pid of leftovers) if (runs(pid)) process.kill(pid, 'SIGKILL');
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** Pids of the running processes whose parent is `pid` (Linux /proc); zombies do not count. */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const p of fs.readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      const stat = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(ppid) === pid && state !== 'Z') out.push(Number(p));
    } catch {
      /* gone meanwhile */
    }
  }
  return out;
}

/** Pids of the running processes whose working directory is `cwd` (Node-RED runs in its user directory). */
function processesIn(cwd: string): number[] {
  const out: number[] = [];
  for (const p of fs.readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      if (fs.readlinkSync(`/proc/${p}/cwd`) === cwd && runs(Number(p))) out.push(Number(p));
    } catch {
      /* gone meanwhile, or not ours to read */
    }
  }
  return out;
}

/** The process is there and has not ended (an ended, unreaped one holds nothing). */
function runs(pid: number): boolean {
  const state = processState(pid);
  return state !== undefined && state !== 'Z';
}

function listens(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

/** `detached`: in a process group of its own, as a command started in a terminal (which Ctrl-C signals as a whole). */
function vigieStart(
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; detached?: boolean } = {},
): { proc: ChildProcess; output: () => string; exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> } {
  const proc = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'bin', 'vigie.ts'), 'start', ...args], {
    cwd: repoRoot,
    env: { ...process.env, VIGIE_QUIET: '0', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: opts.detached,
  });
  spawned.push(proc);
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = exitedAndDrained(proc);
  return { proc, output: () => out, exited };
}

test('SIGTERM while Node-RED is still starting: vigie stops it and exits 0; no Node-RED left holding the port', async () => {
  const flowFile = path.join(dir, 'missing-type.json');
  fs.writeFileSync(flowFile, JSON.stringify([{ id: 'tab1', type: 'tab', label: 'x' }, { id: 'n1', type: 'no-such-node-type', z: 'tab1', wires: [] }]));
  const userDir = path.join(dir, 'user-missing');
  const port = 1950;
  assert.equal(await listens(port), false, `port ${port} is free before the test`);
  const v = vigieStart(['--flow', flowFile, '--user-dir', userDir, '--port', String(port)]);
  await waitFor(() => /Waiting for missing types to be registered/.test(v.output()), 60_000, 'Node-RED to wait for the missing node type');
  // Node-RED: the child that runs in the user directory.
  const nodeRed = childrenOf(v.proc.pid!).filter((pid) => processesIn(userDir).includes(pid));
  nodeRed.forEach((pid) => leftovers.add(pid));
  assert.equal(nodeRed.length, 1, `Node-RED among the children of vigie: ${nodeRed.join(', ')}`);
  await waitFor(() => listens(port), 30_000, 'Node-RED to listen');

  v.proc.kill('SIGTERM');
  const { code, signal } = await v.exited;
  assert.deepEqual({ code, signal }, { code: 0, signal: null }, v.output());
  assert.match(v.output(), /\nstopping…\n/);
  assert.doesNotMatch(v.output(), /Vigie is running/);
  for (const pid of nodeRed) assert.equal(runs(pid), false, `Node-RED (pid ${pid}) was stopped`);
  processesIn(userDir).forEach((pid) => leftovers.add(pid));
  assert.deepEqual(processesIn(userDir), [], 'no process left in the user directory');
  assert.equal(await listens(port), false, 'nothing listens on the port any more');
  assert.equal(fs.existsSync(path.join(userDir, LOCK_FILE)), false, 'the lock is released');
});

test('SIGINT while the street demo starts its cameras and broker: everything it started stops and vigie exits 0', async () => {
  const userDir = path.join(dir, 'user-demo');
  const v = vigieStart(['--flow', 'street-demo', '--user-dir', userDir, '--port', '1951', '--broker-port', '0']);
  await waitFor(() => /virtual camera \S+ \(ONVIF\) on 127\.0\.0\.1:\d+/.test(v.output()), 60_000, 'the first virtual camera');
  const cameraPort = Number(/virtual camera \S+ \(ONVIF\) on 127\.0\.0\.1:(\d+)/.exec(v.output())![1]);
  v.proc.kill('SIGINT');
  // Whatever it had spawned by the time the signal was handled (Node-RED, perhaps).
  const children = childrenOf(v.proc.pid!);
  children.forEach((pid) => leftovers.add(pid));
  const { code, signal } = await v.exited;
  assert.deepEqual({ code, signal }, { code: 0, signal: null }, v.output());
  assert.doesNotMatch(v.output(), /Vigie is running/);
  for (const pid of children) assert.equal(runs(pid), false, `child ${pid} was stopped`);
  processesIn(userDir).forEach((pid) => leftovers.add(pid));
  assert.deepEqual(processesIn(userDir), [], 'no Node-RED left in the user directory');
  assert.equal(await listens(cameraPort), false, 'the camera no longer answers');
  assert.equal(await listens(1951), false);
  assert.equal(fs.existsSync(path.join(userDir, LOCK_FILE)), false, 'the lock is released');
});

test('the street demo with VIGIE_CREDENTIAL_SECRET set: Node-RED takes that key for its credentials (no "unencrypted credentials" warning, no key of its own); without it the demo keeps them unencrypted', async () => {
  const userDir = path.join(dir, 'user-demo-secret');
  const v = vigieStart(['--flow', 'street-demo', '--user-dir', userDir, '--port', '1952', '--broker-port', '0'], { env: { VIGIE_CREDENTIAL_SECRET: 'a-key-kept-apart' } });
  await waitFor(() => /Vigie is running/.test(v.output()), 120_000, 'the demo running');
  v.proc.kill('SIGINT');
  const { code } = await v.exited;
  assert.equal(code, 0, v.output());
  assert.doesNotMatch(v.output(), /Using unencrypted credentials/);
  // The key given is used, not one Node-RED would generate and keep beside the flows.
  const runtime = path.join(userDir, '.config.runtime.json');
  const kept = fs.existsSync(runtime) ? (JSON.parse(fs.readFileSync(runtime, 'utf8')) as Record<string, unknown>) : {};
  assert.equal('_credentialSecret' in kept, false, 'Node-RED generated no key of its own');

  // Without it: no key (the demo's credentials are references to its own cameras), as Node-RED says.
  const plain = vigieStart(['--flow', 'street-demo', '--user-dir', path.join(dir, 'user-demo-plain'), '--port', '1952', '--broker-port', '0'], { env: { VIGIE_CREDENTIAL_SECRET: '' } });
  await waitFor(() => /Vigie is running/.test(plain.output()), 120_000, 'the demo running');
  plain.proc.kill('SIGINT');
  assert.equal((await plain.exited).code, 0, plain.output());
  assert.match(plain.output(), /Using unencrypted credentials/);
});

/** A flow file whose fusion localizer holds an incident heard by two of three sensors; its statuses go to Node-RED's log. */
function fusionWaitingFlow(name: string): string {
  const onsetS = Date.now() / 1000;
  const inject = (id: string, det: object) => ({ id, type: 'inject', z: 'tab1', props: [{ p: 'payload' }], payload: JSON.stringify(det), payloadType: 'json', repeat: '', once: true, onceDelay: 0.1, topic: '', wires: [['loc']] });
  const flowFile = path.join(dir, name);
  fs.writeFileSync(
    flowFile,
    JSON.stringify([
      { id: 'tab1', type: 'tab', label: 'fusion' },
      inject('in-a', remoteGunshot('a', { lat: 45.4395, lon: 4.387 }, onsetS)),
      inject('in-b', remoteGunshot('b', { lat: 45.4396, lon: 4.3876 }, onsetS + 0.01)),
      { id: 'loc', type: 'localizer', z: 'tab1', name: 'fusion', mode: 'fusion', minSensors: 3, timeoutMs: 60000, wires: [[]] },
      { id: 'st', type: 'status', z: 'tab1', scope: ['loc'], wires: [['dbg']] },
      { id: 'dbg', type: 'debug', z: 'tab1', active: true, tosidebar: false, console: true, tostatus: false, complete: 'status.text', targetType: 'msg', wires: [] },
    ]),
  );
  return flowFile;
}

test('vigie start killed with SIGKILL: its Node-RED stops as at a SIGTERM (the localizer keeps its waiting incident in its stop file) and frees the port', async () => {
  const flowFile = fusionWaitingFlow('fusion-waiting.json');
  const userDir = path.join(dir, 'user-killed');
  const v = vigieStart(['--flow', flowFile, '--user-dir', userDir, '--port', '0']);
  await waitFor(() => /gunshot: 2\/3 sensors, waiting/.test(v.output()), 90_000, 'the localizer to hold the incident of two sensors');
  const port = Number((await waitFor(() => /Node-RED editor: +http:\/\/127\.0\.0\.1:(\d+)\//.exec(v.output()), 30_000, 'the banner'))[1]);
  assert.equal(await listens(port), true);
  const nodeRed = childrenOf(v.proc.pid!).filter((pid) => processesIn(userDir).includes(pid));
  nodeRed.forEach((pid) => leftovers.add(pid));
  assert.equal(nodeRed.length, 1, `Node-RED among the children of vigie: ${nodeRed.join(', ')}`);

  v.proc.kill('SIGKILL');
  assert.deepEqual(await v.exited, { code: null, signal: 'SIGKILL' });
  // Nothing of vigie start runs any more: Node-RED must see that on its own.
  await waitFor(() => !runs(nodeRed[0]), 60_000, `Node-RED (pid ${nodeRed[0]}) to end after its launcher was killed`);
  assert.deepEqual(processesIn(userDir), [], 'no process left in the user directory');
  await waitFor(async () => !(await listens(port)), 30_000, `the port ${port} to be free`);
  // Stopped, not killed: the localizer wrote what it held for its next start.
  const stopFile = path.join(userDir, 'vigie-localizer-loc.json');
  assert.ok(fs.existsSync(stopFile), `the localizer's stop file ${stopFile} was written`);
  assert.deepEqual(JSON.parse(fs.readFileSync(stopFile, 'utf8')).items.map((i: { observations: Array<{ sensor: string }> }) => i.observations.map((o) => o.sensor)), [['a', 'b']]);
});

test('a vigie start right after one was killed with SIGKILL waits for that Node-RED to end before it starts its own, which takes over its stop file', async () => {
  const flowFile = fusionWaitingFlow('fusion-waiting-again.json');
  const userDir = path.join(dir, 'user-killed-restarted');
  const args = ['--flow', flowFile, '--user-dir', userDir, '--port', '0'];
  const first = vigieStart(args);
  await waitFor(() => /gunshot: 2\/3 sensors, waiting/.test(first.output()), 90_000, 'the localizer to hold the incident of two sensors');
  const nodeRed = childrenOf(first.proc.pid!).filter((pid) => processesIn(userDir).includes(pid));
  nodeRed.forEach((pid) => leftovers.add(pid));
  assert.equal(nodeRed.length, 1, `Node-RED among the children of vigie: ${nodeRed.join(', ')}`);
  // Held (SIGSTOP) so that it is still there, stopping, when the next start looks at the lock.
  process.kill(nodeRed[0], 'SIGSTOP');
  first.proc.kill('SIGKILL');
  await first.exited;

  const second = vigieStart(args);
  await waitFor(() => new RegExp(`but its Node-RED \\(pid ${nodeRed[0]}\\) still runs: waiting up to 30 s`).test(second.output()), 60_000, 'the second start to wait for the first Node-RED');
  assert.ok(runs(nodeRed[0]));
  assert.doesNotMatch(second.output(), /took over the lock/);
  process.kill(nodeRed[0], 'SIGCONT');
  await waitFor(() => !runs(nodeRed[0]), 60_000, `the first Node-RED (pid ${nodeRed[0]}) to end`);
  await waitFor(() => /Vigie is running/.test(second.output()), 90_000, 'the second start to run');
  assert.match(second.output(), new RegExp(`took over the lock \\S+: pid ${first.proc.pid} no longer runs`));
  // Its localizer started after the first had written what it held.
  await waitFor(() => /vigie-localizer-loc\.json: 1 incident waiting for sensors when the flows stopped taken over/.test(second.output()), 30_000, 'the second localizer to take over the stop file');
  second.proc.kill('SIGTERM');
  assert.deepEqual(await second.exited, { code: 0, signal: null }, second.output());
});

test('SIGHUP (the terminal closed, kill -HUP) while Node-RED runs, its output no longer read: vigie stops it as at SIGTERM, releases the lock and its health file, and exits 0', async () => {
  const flowFile = path.join(dir, 'comment.json');
  fs.writeFileSync(flowFile, JSON.stringify([{ id: 'tab1', type: 'tab', label: 'x' }, { id: 'c1', type: 'comment', z: 'tab1', wires: [] }]));
  const userDir = path.join(dir, 'user-hangup');
  const v = vigieStart(['--flow', flowFile, '--user-dir', userDir, '--port', '0']);
  await waitFor(() => /Vigie is running/.test(v.output()), 90_000, 'vigie start to run');
  const nodeRed = childrenOf(v.proc.pid!).filter((pid) => processesIn(userDir).includes(pid));
  nodeRed.forEach((pid) => leftovers.add(pid));
  assert.equal(nodeRed.length, 1, `Node-RED among the children of vigie: ${nodeRed.join(', ')}`);
  assert.equal(fs.existsSync(path.join(userDir, HEALTH_FILE)), true);

  // As when the terminal is closed: what vigie writes from now on has no reader.
  v.proc.stdout!.destroy();
  v.proc.kill('SIGHUP');
  assert.deepEqual(await v.exited, { code: 0, signal: null }, v.output());
  assert.equal(runs(nodeRed[0]), false, `Node-RED (pid ${nodeRed[0]}) was stopped`);
  assert.equal(fs.existsSync(path.join(userDir, LOCK_FILE)), false, 'the lock is released');
  assert.equal(fs.existsSync(path.join(userDir, HEALTH_FILE)), false, 'the health file is removed');
});

/** Pids of the running capture processes (arecord, ffmpeg; not zombies) whose command line holds `token`. */
function capturesWith(token: string): number[] {
  const out: number[] = [];
  for (const p of fs.readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      const argv = fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
      if (['arecord', 'ffmpeg'].includes(path.basename(argv[0])) && argv.some((a) => a.includes(token)) && runs(Number(p))) out.push(Number(p));
    } catch {
      /* gone meanwhile */
    }
  }
  return out;
}

/** A sensor and its mic-capture (health reports and levels to nobody: their warnings go to the log). */
function captureNodes(id: string, mic: Record<string, unknown>): object[] {
  return [
    { id: `sens-${id}`, type: 'vigie-sensor', sensorId: id, name: id, lat: '45.44', lon: '4.39', heightM: '4', headingDeg: '0', array: 'mono', clock: 'ntp' },
    { id: `mic-${id}`, type: 'mic-capture', z: 'tab1', name: id, sensor: `sens-${id}`, blockMs: 100, ringSeconds: 5, levelEveryMs: 0, wires: [[], []], ...mic },
  ];
}

test('Node-RED that exits on an uncaught exception kills its capture ffmpeg, also one waiting on a stream that says nothing', async () => {
  // A stream that accepts and never sends: ffmpeg (tcp:, no I/O timeout) writes nothing, so no closed pipe would end it.
  const silent = await silentServer();
  const token = `vigie-crash-${randomBytes(6).toString('hex')}`;
  try {
    const flowFile = path.join(dir, 'crash.json');
    fs.writeFileSync(
      flowFile,
      JSON.stringify([
        { id: 'tab1', type: 'tab', label: 'x' },
        ...captureNodes('silent', { source: 'ffmpeg', url: `tcp://127.0.0.1:${silent.port}/${token}`, sampleRate: 16000, channels: 1 }),
        { id: 'in', type: 'http in', z: 'tab1', url: '/crash', method: 'get', wires: [['crash-fn']] },
        // A rejection nobody handles: Node-RED's handler of an uncaught exception logs it and calls process.exit(1).
        { id: 'crash-fn', type: 'function', z: 'tab1', name: 'crash', func: "Promise.reject(new Error('crash on purpose'));\nreturn null;", outputs: 0, wires: [] },
      ]),
    );
    const userDir = path.join(dir, 'user-crash');
    const v = vigieStart(['--flow', flowFile, '--user-dir', userDir, '--port', '0']);
    const port = Number((await waitFor(() => /Node-RED editor: +http:\/\/127\.0\.0\.1:(\d+)\//.exec(v.output()), 90_000, 'the banner'))[1]);
    const pids = await waitFor(() => {
      const found = capturesWith(token);
      return found.length === 1 && found;
    }, 30_000, 'the capture ffmpeg');
    pids.forEach((pid) => leftovers.add(pid));
    await fetch(`http://127.0.0.1:${port}/crash`, { signal: AbortSignal.timeout(30_000) }).catch(() => undefined); // no answer: Node-RED is gone
    assert.deepEqual(await v.exited, { code: 1, signal: null }, v.output());
    assert.match(v.output(), /crash on purpose/);
    assert.match(v.output(), /Node-RED exited \(code 1\)/);
    await waitFor(() => capturesWith(token).length === 0, 10_000, `ffmpeg ${pids[0]} to be gone with Node-RED`);
  } finally {
    await silent.close();
  }
});

test('Ctrl-C (SIGINT to the whole process group) reaches arecord and ffmpeg too: the stop is not reported as a capture that died, and none is left', async () => {
  const token = `vigiectrlc${randomBytes(6).toString('hex')}`;
  const home = path.join(dir, 'home-ctrlc');
  fs.mkdirSync(home);
  // arecord reads an ALSA "file" device (its infile, through a pipe to the node); ffmpeg a WAV file at its own pace.
  const raw = path.join(home, 'street.raw');
  fs.writeFileSync(raw, Buffer.alloc(16000 * 2 * 10));
  fs.writeFileSync(path.join(home, '.asoundrc'), `pcm.${token} {\n  type file\n  slave.pcm null\n  file "/dev/null"\n  infile "${raw}"\n  format "raw"\n}\n`);
  const wav = path.join(home, `${token}.wav`);
  fs.writeFileSync(wav, encodeWav([new Float32Array(16000 * 600)], 16000));
  const flowFile = path.join(dir, 'ctrl-c.json');
  fs.writeFileSync(
    flowFile,
    JSON.stringify([
      { id: 'tab1', type: 'tab', label: 'x' },
      ...captureNodes('alsa', { source: 'alsa', device: token, sampleRate: 16000, channels: 1, format: 'S16_LE' }),
      ...captureNodes('file', { source: 'ffmpeg', url: wav, realtime: true, sampleRate: 16000, channels: 1 }),
    ]),
  );
  const userDir = path.join(dir, 'user-ctrlc');
  const v = vigieStart(['--flow', flowFile, '--user-dir', userDir, '--port', '0'], { env: { HOME: home }, detached: true });
  await waitFor(() => /Vigie is running/.test(v.output()), 90_000, 'vigie start to run');
  const pids = await waitFor(() => {
    const found = capturesWith(token);
    return found.length === 2 && found;
  }, 30_000, 'arecord and ffmpeg');
  pids.forEach((pid) => leftovers.add(pid));
  childrenOf(v.proc.pid!).forEach((pid) => leftovers.add(pid));

  process.kill(-v.proc.pid!, 'SIGINT');
  assert.deepEqual(await v.exited, { code: 0, signal: null }, v.output());
  assert.match(v.output(), /Stopped flows/);
  // Ended by the signal while Node-RED stops its flows: not a fault, nothing restarted.
  assert.doesNotMatch(v.output(), /capture restarted|restarting|(arecord|ffmpeg) (exited|killed)/, v.output());
  await waitFor(() => capturesWith(token).length === 0, 10_000, `arecord and ffmpeg (${pids.join(', ')}) to be gone`);
});
