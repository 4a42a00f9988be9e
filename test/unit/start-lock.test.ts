/**
 * One vigie start per user directory: while one runs (a real Node-RED, started by start() as
 * `vigie start` does), a real second `vigie start` on the same directory is refused, exit 1,
 * naming the pid and the directory, and writes nothing there; start() twice in one process
 * too. The lock goes with stop(). A lock left by a process that no longer runs is taken over,
 * with a note; one from another pid namespace (another container on the volume, or this one
 * restarted) goes by the holder's refreshes. Needs the build (the user directory links dist/).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { start, Started, StartOptions } from '../../lib/cli/start';
import { acquireStartLock, LOCK_FILE, processStartTime } from '../../lib/cli/start-lock';
import { HEALTH_FILE } from '../../lib/util/launcher-channel';
import { waitFor } from '../support/wait';
import { stepWallClock } from '../support/wall-clock';
import { repoRoot } from '../support/nodered';

let dir = '';
let flowFile = '';
const running: Started[] = [];
const quietBefore = process.env.VIGIE_QUIET;

before(() => {
  assert.ok(fs.existsSync(path.join(repoRoot, 'dist', 'nodes', 'vigie-runtime.js')), 'run the build first (npm test does)');
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-start-lock-'));
  flowFile = path.join(dir, 'flow.json');
  fs.writeFileSync(flowFile, JSON.stringify([{ id: 'tab1', type: 'tab', label: 'x' }, { id: 'c1', type: 'comment', z: 'tab1', name: 'nothing to run', wires: [] }]));
  process.env.VIGIE_QUIET = '1';
});

after(async () => {
  for (const s of running) await s.stop();
  if (quietBefore === undefined) delete process.env.VIGIE_QUIET;
  else process.env.VIGIE_QUIET = quietBefore;
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const optsFor = (userDir: string): StartOptions => ({ flow: flowFile, userDir, host: '127.0.0.1', port: 0, resetFlow: false, brokerPort: 0, startTimeoutMs: 60_000 });

/** Name, size and modification time of every file of the directory (not below). */
function snapshot(userDir: string): string[] {
  return fs
    .readdirSync(userDir)
    .sort()
    .map((f) => {
      const st = fs.lstatSync(path.join(userDir, f));
      return `${f} ${st.size} ${st.mtimeMs}`;
    });
}

function vigieStart(userDir: string) {
  return spawnSync(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'bin', 'vigie.ts'), 'start', '--flow', flowFile, '--user-dir', userDir, '--port', '0'], {
    cwd: repoRoot,
    encoding: 'utf8',
    // Were it not refused, it would run until this ends it (SIGTERM, which stops its Node-RED).
    timeout: 60_000,
    env: { ...process.env, VIGIE_QUIET: '1' },
  });
}

test('a second vigie start on a user directory in use is refused (exit 1), naming the pid and the directory, and touches nothing', async () => {
  const userDir = path.join(dir, 'user');
  const first = await start(optsFor(userDir), () => {});
  running.push(first);
  const lockFile = path.join(userDir, LOCK_FILE);
  assert.equal(JSON.parse(fs.readFileSync(lockFile, 'utf8')).pid, process.pid);
  const before = snapshot(userDir);
  const health = fs.readFileSync(path.join(userDir, HEALTH_FILE), 'utf8');

  const second = vigieStart(userDir);
  assert.equal(second.status, 1, second.stderr);
  assert.match(second.stderr, new RegExp(`^vigie: the user directory ${userDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is in use by another vigie start \\(pid ${process.pid}, since \\d{4}-`));
  assert.match(second.stderr, /Stop it first, or give another --user-dir/);
  assert.deepEqual(snapshot(userDir), before, 'nothing in the user directory was written, moved or removed');
  assert.equal(fs.readFileSync(path.join(userDir, HEALTH_FILE), 'utf8'), health, "the first one's health file is its own");

  // start() twice in one process: refused the same way.
  const twice = start(optsFor(userDir), () => {}).then(async (s) => {
    await s.stop(); // started after all: stop it, and fail
    throw new Error('started twice');
  });
  await assert.rejects(twice, new RegExp(`is in use by another vigie start \\(pid ${process.pid},`));
  assert.deepEqual(snapshot(userDir), before);

  await first.stop();
  assert.equal(fs.existsSync(lockFile), false, 'the lock goes with stop()');
  // Now free: a start is accepted again.
  const again = await start(optsFor(userDir), () => {});
  running.push(again);
  await again.stop();
  assert.equal(fs.existsSync(lockFile), false);
});

test('a lock left by a process that no longer runs is taken over, with a note', async () => {
  const userDir = path.join(dir, 'stale');
  fs.mkdirSync(userDir);
  const gone = spawnSync(process.execPath, ['-e', '']);
  assert.equal(gone.status, 0);
  fs.writeFileSync(path.join(userDir, LOCK_FILE), JSON.stringify({ pid: gone.pid, startedAt: '2026-01-01T00:00:00.000Z' }));
  const log: string[] = [];
  const s = await start(optsFor(userDir), (l) => log.push(l));
  running.push(s);
  assert.ok(log.includes(`note: took over the lock ${path.join(userDir, LOCK_FILE)}: pid ${gone.pid} no longer runs`), log.join('\n'));
  assert.equal(JSON.parse(fs.readFileSync(path.join(userDir, LOCK_FILE), 'utf8')).pid, process.pid);
  await s.stop();
  assert.equal(fs.existsSync(path.join(userDir, LOCK_FILE)), false);
});

test('the lock: a running process holds it; a dead pid, this pid from an earlier run, a reused pid or a lock naming no process are stale', async () => {
  const userDir = fs.mkdtempSync(path.join(dir, 'unit-'));
  const lockFile = path.join(userDir, LOCK_FILE);
  // A real process that runs: its lock holds.
  const sleeper = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  try {
    const live = { pid: sleeper.pid, processStart: processStartTime(sleeper.pid!), startedAt: 'earlier' };
    fs.writeFileSync(lockFile, JSON.stringify(live));
    await assert.rejects(acquireStartLock(userDir, () => {}), new RegExp(`in use by another vigie start \\(pid ${sleeper.pid}, since earlier\\)`));
    assert.deepEqual(JSON.parse(fs.readFileSync(lockFile, 'utf8')), live, 'left as it was');

    // The same pid with another start time: another process got the number (Linux).
    if (live.processStart) {
      fs.writeFileSync(lockFile, JSON.stringify({ ...live, processStart: '1' }));
      const notes: string[] = [];
      const lock = await acquireStartLock(userDir, (l) => notes.push(l));
      assert.deepEqual(notes, [`note: took over the lock ${lockFile}: pid ${sleeper.pid} is another process now`]);
      lock.release();
    }
  } finally {
    sleeper.kill();
  }
  for (const [content, why] of [
    [JSON.stringify({ pid: process.pid }), `it was left by an earlier run with this process id (${process.pid})`],
    ['not json', 'it names no process'],
  ]) {
    fs.writeFileSync(lockFile, content);
    const notes: string[] = [];
    const lock = await acquireStartLock(userDir, (l) => notes.push(l));
    assert.deepEqual(notes, [`note: took over the lock ${lockFile}: ${why}`]);
    // Held now by this process: its own pid is no longer stale.
    await assert.rejects(acquireStartLock(userDir, () => {}), /in use by another vigie start/);
    lock.release();
    lock.release();
    assert.equal(fs.existsSync(lockFile), false);
  }
  // A lock that another start replaced is not removed by the one released after it.
  const lock = await acquireStartLock(userDir, () => {});
  fs.writeFileSync(lockFile, JSON.stringify({ pid: 1, startedAt: 'someone else' }));
  lock.release();
  assert.equal(fs.existsSync(lockFile), true);
});

test('a lock from another pid namespace (another container on the volume): refused while its holder refreshes it, taken over once it does not', async () => {
  const userDir = fs.mkdtempSync(path.join(dir, 'ns-'));
  const lockFile = path.join(userDir, LOCK_FILE);
  const elsewhere = JSON.stringify({ pid: 1, startedAt: 'earlier', pidNamespace: 'other-container pid:[4026532999]' });

  // The holder's sign of life: it touches its lock.
  const own = await acquireStartLock(userDir, () => {}, undefined, { refreshMs: 20 });
  const written = fs.statSync(lockFile).mtimeMs;
  await waitFor(() => fs.statSync(lockFile).mtimeMs > written, 10_000, 'the holder to touch its lock');
  own.release();

  // Refreshed by a real process (as the other container's vigie start does): refused, naming where it runs.
  fs.writeFileSync(lockFile, elsewhere);
  const toucher = spawn(process.execPath, ['-e', `const fs = require('fs'); setInterval(() => { const t = new Date(); fs.utimesSync(${JSON.stringify(lockFile)}, t, t); }, 20);`], { stdio: 'ignore' });
  try {
    await assert.rejects(
      acquireStartLock(userDir, () => {}, undefined, { staleMs: 60_000, pollMs: 20 }),
      /in use by another vigie start \(pid 1 in other-container pid:\[4026532999\], since earlier\)/,
    );
  } finally {
    toucher.kill();
  }
  assert.equal(fs.readFileSync(lockFile, 'utf8'), elsewhere, 'left as it was');

  // Last touched long ago by its mtime (its container was killed): the mtime is another
  // clock's time, so this start still watches it for the stale time, then takes it over.
  const longAgo = new Date(Date.now() - 120_000);
  fs.utimesSync(lockFile, longAgo, longAgo);
  const notes: string[] = [];
  const taken = await acquireStartLock(userDir, (l) => notes.push(l), undefined, { staleMs: 300, pollMs: 20 });
  assert.equal(notes.length, 2, notes.join('\n'));
  assert.match(notes[1], new RegExp(`^note: took over the lock ${lockFile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: written in another container or host, and not refreshed in the 0 s this start watched it$`));
  taken.release();

  // Just written, and then never refreshed (a container restarted right after a crash): waited for, then taken over.
  fs.writeFileSync(lockFile, elsewhere);
  const waited: string[] = [];
  const later = await acquireStartLock(userDir, (l) => waited.push(l), undefined, { staleMs: 300, pollMs: 20 });
  assert.match(waited[0], /was written in another container or host: waiting up to 1 s for a sign that its vigie start still runs$/);
  assert.match(waited[1], /: written in another container or host, and not refreshed in the 0 s this start watched it$/);
  assert.equal(JSON.parse(fs.readFileSync(lockFile, 'utf8')).pid, process.pid);
  later.release();
});

test('a lock written on this host before its last boot (a power cut) is taken over at once, even from another pid namespace; from another host it is waited for', async () => {
  const userDir = fs.mkdtempSync(path.join(dir, 'boot-'));
  const lockFile = path.join(userDir, LOCK_FILE);
  const host = os.hostname();
  const thisBoot = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  const otherBoot = thisBoot.replace(/^./, (c) => (c === 'a' ? 'b' : 'a'));
  // Just written (no time to go stale), in another pid namespace of this host, in an earlier boot.
  fs.writeFileSync(lockFile, JSON.stringify({ pid: 1, startedAt: 'earlier', pidNamespace: `${host} pid:[4026532999]`, bootId: otherBoot }));
  const notes: string[] = [];
  const taken = await acquireStartLock(userDir, (l) => notes.push(l), undefined, { staleMs: 60_000, pollMs: 20 });
  assert.deepEqual(notes.map((n) => n.replace(lockFile, 'LOCK')), ['note: took over the lock LOCK: written before this machine last started']);
  taken.release();
  // The same from another host (a shared volume): another boot id says nothing; its holder may run.
  fs.writeFileSync(lockFile, JSON.stringify({ pid: 1, startedAt: 'earlier', pidNamespace: 'other-host pid:[4026532999]', bootId: otherBoot }));
  const toucher = spawn(process.execPath, ['-e', `const fs = require('fs'); setInterval(() => { const t = new Date(); fs.utimesSync(${JSON.stringify(lockFile)}, t, t); }, 20);`], { stdio: 'ignore' });
  try {
    await assert.rejects(acquireStartLock(userDir, () => {}, undefined, { staleMs: 60_000, pollMs: 20 }), /in use by another vigie start \(pid 1 in other-host/);
  } finally {
    toucher.kill();
  }
});

// The lock's mtime is written by the holder's wall clock; this host's wall clock may step (NTP
// sync after a boot without a real-time clock). Idle time counts from this start's own look.
test('a lock from another container: a wall clock step forward does not make it stale while its holder refreshes it', async () => {
  const userDir = fs.mkdtempSync(path.join(dir, 'step-'));
  const lockFile = path.join(userDir, LOCK_FILE);
  const elsewhere = JSON.stringify({ pid: 1, startedAt: 'earlier', pidNamespace: 'other-container pid:[4026532999]' });
  fs.writeFileSync(lockFile, elsewhere);
  const touched = new Date(Date.now() - 2000); // its holder touched it 2 s ago
  fs.utimesSync(lockFile, touched, touched);
  const wall = stepWallClock();
  wall.step(3600e3);
  // The holder's next refresh comes (here at once, then often).
  const toucher = spawn(process.execPath, ['-e', `const fs = require('fs'); const f = ${JSON.stringify(lockFile)}; setTimeout(() => setInterval(() => { const t = new Date(); fs.utimesSync(f, t, t); }, 20), 200);`], { stdio: 'ignore' });
  try {
    await assert.rejects(acquireStartLock(userDir, () => {}, undefined, { staleMs: 60_000, pollMs: 20 }), /in use by another vigie start \(pid 1 in other-container/);
  } finally {
    wall.restore();
    toucher.kill();
  }
  assert.equal(fs.readFileSync(lockFile, 'utf8'), elsewhere, 'left as it was');
});

test('a lock from another container that nobody refreshes: a wall clock step back does not lengthen the wait', async () => {
  const userDir = fs.mkdtempSync(path.join(dir, 'stepback-'));
  const lockFile = path.join(userDir, LOCK_FILE);
  fs.writeFileSync(lockFile, JSON.stringify({ pid: 1, startedAt: 'earlier', pidNamespace: 'other-container pid:[4026532999]' }));
  const wall = stepWallClock();
  wall.step(-10 * 60_000);
  // On the wall clock the lock would look written ten minutes in the future: never stale for ten minutes.
  const giveUp = new AbortController();
  const timer = setTimeout(() => giveUp.abort(), 15_000);
  try {
    const notes: string[] = [];
    const taken = await acquireStartLock(userDir, (l) => notes.push(l), giveUp.signal, { staleMs: 300, pollMs: 20 });
    assert.match(notes.at(-1)!, /: written in another container or host, and not refreshed in the 0 s this start watched it$/);
    taken.release();
  } finally {
    clearTimeout(timer);
    wall.restore();
  }
});

test('a lock whose vigie start no longer runs but whose Node-RED does (still stopping): waited for until it ends, then taken over; refused if it does not end; given up at a signal; a Node-RED ended but not reaped is not waited for', async () => {
  const userDir = fs.mkdtempSync(path.join(dir, 'node-red-'));
  const lockFile = path.join(userDir, LOCK_FILE);
  const gone = spawnSync(process.execPath, ['-e', '']);
  // A real process stands for the Node-RED that the killed vigie start left.
  const nodeRed = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  const nodeRedExited = new Promise((resolve) => nodeRed.once('exit', resolve));
  try {
    const left = JSON.stringify({ pid: gone.pid, startedAt: 'earlier', nodeRed: { pid: nodeRed.pid, processStart: processStartTime(nodeRed.pid!) } });
    fs.writeFileSync(lockFile, left);
    const notes: string[] = [];
    await assert.rejects(
      acquireStartLock(userDir, (l) => notes.push(l), undefined, { nodeRedStopWaitMs: 300, pollMs: 20 }),
      new RegExp(`is still in use by the Node-RED \\(pid ${nodeRed.pid}\\) of a vigie start that no longer runs \\(pid ${gone.pid}\\), which did not stop within 0 s: .* End it \\(kill ${nodeRed.pid}\\)`),
    );
    assert.equal(notes.length, 1);
    assert.match(notes[0], new RegExp(`left by a vigie start that no longer runs \\(pid ${gone.pid}\\), but its Node-RED \\(pid ${nodeRed.pid}\\) still runs: waiting up to 1 s`));
    assert.equal(fs.readFileSync(lockFile, 'utf8'), left, 'left as it was');

    // A signal while waiting (SIGTERM during start-up): the start gives up at once.
    const stop = new AbortController();
    const aborted: string[] = [];
    const giving = acquireStartLock(userDir, (l) => aborted.push(l), stop.signal, { nodeRedStopWaitMs: 60_000, pollMs: 20 });
    await waitFor(() => aborted.length === 1, 10_000, 'the start to wait for the Node-RED');
    stop.abort();
    await assert.rejects(giving, /stopped while waiting for the lock/);
    assert.equal(fs.readFileSync(lockFile, 'utf8'), left, 'left as it was');

    // It ends while the next start waits: that start takes the lock.
    const waited: string[] = [];
    const taking = acquireStartLock(userDir, (l) => waited.push(l), undefined, { nodeRedStopWaitMs: 60_000, pollMs: 20 });
    await waitFor(() => waited.length === 1, 10_000, 'the start to wait for the Node-RED');
    nodeRed.kill();
    await nodeRedExited;
    const lock = await taking;
    assert.deepEqual(waited.slice(1), [`note: took over the lock ${lockFile}: pid ${gone.pid} no longer runs`]);
    // The holder names its own Node-RED in the lock; released, the lock goes.
    lock.setNodeRed(nodeRed.pid!);
    assert.equal(JSON.parse(fs.readFileSync(lockFile, 'utf8')).nodeRed.pid, nodeRed.pid);
    assert.equal(JSON.parse(fs.readFileSync(lockFile, 'utf8')).pid, process.pid);
    lock.release();
    assert.equal(fs.existsSync(lockFile), false);
  } finally {
    nodeRed.kill();
  }

  // A Node-RED that has ended but is not reaped yet (a zombie: its parent, here a sleep, never waits) holds nothing.
  const parent = spawn('sh', ['-c', `${JSON.stringify(process.execPath)} -e "setInterval(() => {}, 1000)" & echo $!; exec sleep 60`], { stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    let out = '';
    parent.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const zombie = Number(await waitFor(() => /^\d+\n/.exec(out)?.[0], 10_000, 'the pid of the process to end'));
    const startTime = processStartTime(zombie);
    process.kill(zombie, 'SIGKILL');
    await waitFor(() => fs.readFileSync(`/proc/${zombie}/stat`, 'utf8').split(') ')[1][0] === 'Z', 10_000, 'the process to be a zombie');
    fs.writeFileSync(lockFile, JSON.stringify({ pid: gone.pid, startedAt: 'earlier', nodeRed: { pid: zombie, processStart: startTime } }));
    const notes: string[] = [];
    const lock = await acquireStartLock(userDir, (l) => notes.push(l), undefined, { nodeRedStopWaitMs: 60_000, pollMs: 20 });
    assert.deepEqual(notes, [`note: took over the lock ${lockFile}: pid ${gone.pid} no longer runs`], 'taken at once, without waiting');
    lock.release();
  } finally {
    parent.kill('SIGKILL');
  }
});
