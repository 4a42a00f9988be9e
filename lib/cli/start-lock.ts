/**
 * One `vigie start` per user directory. Two would interleave the tamper-evident audit log,
 * overwrite each other's health file and write the same alerts and outbox files: the second is
 * refused. The lock is a file created with O_EXCL that holds the owner's pid (and, on Linux, its
 * start time, so that a pid reused by another process is told apart); a lock whose process no
 * longer runs (vigie killed with SIGKILL, a power cut) is taken over.
 *
 * A pid means nothing in another pid namespace: another container on the same volume, or the
 * same container restarted (whose vigie may even get the same pid). The holder therefore touches
 * the lock every LOCK_REFRESH_MS; a lock from another namespace is taken over once this start has
 * watched it go untouched for LOCK_STALE_MS, and refused as soon as it is seen touched. The
 * waiting counts from this start's own first look, on the monotonic clock: the lock's mtime is
 * another process's wall clock, and a gateway's wall clock steps (by decades at the first NTP
 * sync after a boot without a real-time clock), which would make a fresh lock look stale.
 *
 * The directory is used by Node-RED, which vigie start runs as a child, more than by vigie start
 * itself: a vigie start killed with SIGKILL leaves a Node-RED that stops its flows, writing in
 * the directory, for up to NODE_RED_STOP_MS (lib/cli/launcher-watch.ts). The lock therefore also
 * names that Node-RED (setNodeRed); a start that finds the lock's vigie start gone but its
 * Node-RED running waits for it to end, rather than running a second one beside it.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { writeFileAtomic } from '../util/atomic-file';
import { monotonicMs } from '../util/clock';
import { NODE_RED_STOP_MS } from '../util/launcher-channel';
import { makeDirectory } from '../util/disk-fault';

/** How often the holder touches its lock, and how long untouched a lock from another pid namespace must be to be stale. */
export const LOCK_REFRESH_MS = 10_000;
export const LOCK_STALE_MS = 30_000;
/** How long a start waits for the Node-RED of a vigie start that no longer runs to end (it stops within NODE_RED_STOP_MS). */
export const LOCK_NODE_RED_STOP_WAIT_MS = NODE_RED_STOP_MS + 10_000;

export const LOCK_FILE = '.vigie-start.lock';

interface LockRecord {
  pid: number;
  /** /proc/<pid>/stat's start time (clock ticks after boot), when the system has /proc. */
  processStart?: string;
  startedAt?: string;
  /** The host and pid namespace the pid belongs to (Linux), e.g. "gw-12 pid:[4026531836]". */
  pidNamespace?: string;
  /** The machine's boot (Linux boot_id): a lock written on this host before its last boot is stale. */
  bootId?: string;
  /** The Node-RED that this vigie start runs (its pid and start time), once spawned. */
  nodeRed?: { pid: number; processStart?: string };
}

export interface LockTimes {
  refreshMs?: number;
  staleMs?: number;
  /** How often a lock from another namespace, or a Node-RED left stopping, is looked at while deciding. */
  pollMs?: number;
  /** How long to wait for the Node-RED of a vigie start that no longer runs to end (LOCK_NODE_RED_STOP_WAIT_MS). */
  nodeRedStopWaitMs?: number;
}

export interface StartLock {
  file: string;
  /** The user directory did not exist before the lock was taken (a refused first start may remove it). */
  createdDir: boolean;
  /** Names in the lock the Node-RED this start runs (its child process), which may outlive it. */
  setNodeRed(pid: number): void;
  /** Removes the lock, if it is still this one; safe to call more than once. */
  release(): void;
}

/** A second start on a user directory that a running vigie start holds. */
export class UserDirInUseError extends Error {
  override name = 'UserDirInUseError';
}

/** Lock files this process holds: its own pid in a lock file is not a stale lock then. */
const held = new Set<string>();

/**
 * Takes the lock of `userDir` (created if needed), or throws UserDirInUseError naming the pid
 * that holds it. A refused start writes nothing. `log` receives the note of a stale lock taken over.
 */
export async function acquireStartLock(userDir: string, log: (line: string) => void, abort?: AbortSignal, times: LockTimes = {}): Promise<StartLock> {
  const createdDir = !fs.existsSync(userDir);
  makeDirectory(userDir);
  const file = path.join(userDir, LOCK_FILE);
  const record: LockRecord = { pid: process.pid, processStart: processStartTime(process.pid), startedAt: new Date().toISOString(), pidNamespace: pidNamespace(), bootId: bootId() };
  const text = JSON.stringify(record) + '\n';
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const fd = fs.openSync(file, 'wx', 0o644);
      try {
        fs.writeSync(fd, text);
      } finally {
        fs.closeSync(fd);
      }
      return holdLock(file, record, text, createdDir, times.refreshMs ?? LOCK_REFRESH_MS);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const found = await readLock(file);
    if (found === undefined) continue; // released meanwhile
    const r = found.record;
    const elsewhere = r?.pidNamespace !== undefined && record.pidNamespace !== undefined && r.pidNamespace !== record.pidNamespace;
    // Written by this host (or this container: same host name) before the machine last started,
    // as after a power cut: nothing of that boot runs, so no need to wait for a sign of life.
    const beforeBoot = r?.bootId !== undefined && record.bootId !== undefined && r.bootId !== record.bootId && hostOf(r.pidNamespace) === hostOf(record.pidNamespace);
    const stale = beforeBoot ? 'written before this machine last started' : elsewhere ? await untouched(file, found.text, log, abort, times) : staleReason(file, r);
    const stopping = stale && !beforeBoot && !elsewhere ? runningNodeRed(r) : undefined;
    if (stopping !== undefined) {
      // Its vigie start is gone (killed), its Node-RED is still stopping its flows: they must end first.
      if (await nodeRedEnded(file, found.text, r!.pid, stopping, log, abort, times)) continue;
      throw new UserDirInUseError(
        `the user directory ${userDir} is still in use by the Node-RED (pid ${stopping}) of a vigie start that no longer runs (pid ${r!.pid}), ` +
          `which did not stop within ${Math.round((times.nodeRedStopWaitMs ?? LOCK_NODE_RED_STOP_WAIT_MS) / 1000)} s: ` +
          `two would write the same audit log, alerts and outboxes. End it (kill ${stopping}) and start again. (Its lock is ${file}.)`,
      );
    }
    if (!stale) {
      throw new UserDirInUseError(
        `the user directory ${userDir} is in use by another vigie start (pid ${r!.pid}${elsewhere ? ` in ${r!.pidNamespace}` : ''}${r!.startedAt ? `, since ${r!.startedAt}` : ''}): ` +
          'two would write the same audit log, alerts and outboxes. Stop it first, or give another --user-dir. ' +
          `(Its lock is ${file}; it goes when that process ends.)`,
      );
    }
    if (takeOver(file, found.text)) log(`note: took over the lock ${file}: ${stale}`);
  }
  throw new Error(`could not take the lock ${file}: other starts keep taking it`);
}

function holdLock(file: string, record: LockRecord, text: string, createdDir: boolean, refreshMs: number): StartLock {
  held.add(file);
  // The sign of life that a start in another pid namespace (container) goes by.
  const refresh = setInterval(() => {
    const now = new Date();
    try {
      fs.utimesSync(file, now, now);
    } catch {
      /* removed by hand: nothing to refresh */
    }
  }, refreshMs);
  refresh.unref();
  // Exits that skip stop() (an uncaught error, process.exit): the lock goes with the process.
  const onExit = () => removeIfOurs(file, text);
  process.on('exit', onExit);
  let released = false;
  return {
    file,
    createdDir,
    setNodeRed(pid) {
      if (released) return;
      const named = JSON.stringify({ ...record, nodeRed: { pid, processStart: processStartTime(pid) } }) + '\n';
      try {
        if (fs.readFileSync(file, 'utf8') !== text) return; // not ours any more
        writeFileAtomic(file, named);
        text = named;
      } catch {
        /* removed by hand: nothing to name it in */
      }
    },
    release() {
      if (released) return;
      released = true;
      clearInterval(refresh);
      process.off('exit', onExit);
      held.delete(file);
      removeIfOurs(file, text);
    },
  };
}

function removeIfOurs(file: string, text: string): void {
  try {
    if (fs.readFileSync(file, 'utf8') === text) fs.unlinkSync(file);
  } catch {
    /* already gone */
  }
}

/** The lock's text and record (undefined when it holds none); undefined when the file is gone. */
async function readLock(file: string): Promise<{ text: string; record?: LockRecord } | undefined> {
  // A start that has just created the file may not have written it yet: look again a few times.
  for (let look = 0; ; look++) {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    const record = parseRecord(text);
    if (record || look >= 10) return { text, record };
    await new Promise((r) => setTimeout(r, 50));
  }
}

function parseRecord(text: string): LockRecord | undefined {
  try {
    const r = JSON.parse(text) as Partial<LockRecord>;
    return Number.isInteger(r.pid) && r.pid! > 0 ? (r as LockRecord) : undefined;
  } catch {
    return undefined;
  }
}

/** The pid of the lock's Node-RED while it runs (the same process that was recorded), else undefined. */
function runningNodeRed(record: LockRecord | undefined): number | undefined {
  const n = record?.nodeRed;
  if (!n || !Number.isInteger(n.pid) || n.pid <= 0 || n.pid === process.pid) return undefined;
  try {
    process.kill(n.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return undefined;
  }
  if (processState(n.pid) === 'Z') return undefined; // ended, not yet reaped: it holds nothing
  const now = processStartTime(n.pid);
  return n.processStart && now && now !== n.processStart ? undefined : n.pid;
}

/** A process's state letter from /proc/<pid>/stat (field 3: R, S, T, Z…), or undefined where there is no /proc. */
export function processState(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0];
  } catch {
    return undefined;
  }
}

/**
 * Waits for the Node-RED `nodeRedPid` of the stale lock `text` (left by vigie start `holderPid`)
 * to end (true), at most the wait time (false); also true when the lock changed or went
 * meanwhile (the next attempt looks at it again).
 */
async function nodeRedEnded(file: string, text: string, holderPid: number, nodeRedPid: number, log: (line: string) => void, abort: AbortSignal | undefined, times: LockTimes): Promise<boolean> {
  const waitMs = times.nodeRedStopWaitMs ?? LOCK_NODE_RED_STOP_WAIT_MS;
  const since = monotonicMs();
  log(`the lock ${file} was left by a vigie start that no longer runs (pid ${holderPid}), but its Node-RED (pid ${nodeRedPid}) still runs: waiting up to ${Math.ceil(waitMs / 1000)} s for it to stop its flows and end`);
  for (;;) {
    if (abort?.aborted) throw new Error('stopped while waiting for the lock');
    if (runningNodeRed(parseRecord(text)) === undefined) return true;
    try {
      if (fs.readFileSync(file, 'utf8') !== text) return true;
    } catch {
      return true; // released meanwhile
    }
    if (monotonicMs() - since >= waitMs) return false;
    await new Promise((r) => setTimeout(r, times.pollMs ?? 200));
  }
}

/** Why the lock is stale, or undefined while its process runs. */
function staleReason(file: string, record: LockRecord | undefined): string | undefined {
  if (!record) return 'it names no process';
  if (record.pid === process.pid) {
    // This very process holds it (start() called twice), or an earlier run had the same pid
    // (a restarted container numbers its processes alike).
    return held.has(file) ? undefined : `it was left by an earlier run with this process id (${record.pid})`;
  }
  try {
    process.kill(record.pid, 0);
  } catch (err) {
    // EPERM: it runs, as another user.
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return `pid ${record.pid} no longer runs`;
    return undefined;
  }
  const now = processStartTime(record.pid);
  if (record.processStart && now && now !== record.processStart) return `pid ${record.pid} is another process now`;
  return undefined;
}

/**
 * For a lock from another pid namespace: waits until it has gone LOCK_STALE_MS untouched (stale:
 * returns why) or is seen touched or replaced (its holder runs: returns undefined). Untouched
 * means the same content and mtime since this start first looked; how long is measured from
 * that look on the monotonic clock, never from the mtime (a wall clock time that steps).
 */
async function untouched(file: string, text: string, log: (line: string) => void, abort: AbortSignal | undefined, times: LockTimes): Promise<string | undefined> {
  const staleMs = times.staleMs ?? LOCK_STALE_MS;
  const first = fs.statSync(file, { throwIfNoEntry: false })?.mtimeMs;
  if (first === undefined) return 'it was released meanwhile';
  const firstLookMs = monotonicMs();
  let said = false;
  for (;;) {
    if (abort?.aborted) throw new Error('stopped while waiting for the lock');
    let current: string;
    try {
      current = fs.readFileSync(file, 'utf8');
    } catch {
      return 'it was released meanwhile'; // the caller's next attempt finds it free
    }
    // Touched, or replaced by another start: held.
    if (current !== text || fs.statSync(file, { throwIfNoEntry: false })?.mtimeMs !== first) return undefined;
    const idleMs = monotonicMs() - firstLookMs;
    if (idleMs >= staleMs) return `written in another container or host, and not refreshed in the ${Math.round(idleMs / 1000)} s this start watched it`;
    if (!said) {
      said = true;
      log(`the lock ${file} was written in another container or host: waiting up to ${Math.ceil((staleMs - idleMs) / 1000)} s for a sign that its vigie start still runs`);
    }
    await new Promise((r) => setTimeout(r, times.pollMs ?? 1000));
  }
}

/** The host name part of a recorded pid namespace ("host pid:[…]"). */
function hostOf(ns: string | undefined): string | undefined {
  return ns === undefined ? undefined : ns.slice(0, ns.lastIndexOf(' '));
}

/** The current boot's id, where Linux tells it. */
function bootId(): string | undefined {
  try {
    return fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/** This process's host and pid namespace, where /proc tells it. */
function pidNamespace(): string | undefined {
  try {
    return `${os.hostname()} ${fs.readlinkSync('/proc/self/ns/pid')}`;
  } catch {
    return undefined;
  }
}

/** A process's start time from /proc/<pid>/stat (field 22), or undefined where there is no /proc. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/**
 * Removes a stale lock unless another start took it over first: the lock is moved aside, and
 * put back if it is no longer the stale one that was judged.
 */
function takeOver(file: string, staleText: string): boolean {
  const aside = `${file}.${process.pid}.stale`;
  try {
    fs.renameSync(file, aside);
  } catch {
    return false; // gone meanwhile: try again
  }
  try {
    if (fs.readFileSync(aside, 'utf8') === staleText) return true;
    try {
      fs.linkSync(aside, file);
    } catch {
      /* a third start holds it now */
    }
    return false;
  } finally {
    fs.rmSync(aside, { force: true });
  }
}
