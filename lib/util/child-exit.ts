/**
 * Child processes (arecord, ffmpeg) that must not outlive the process that runs them.
 *
 * A node's close handler stops its children, but a Node-RED that exits without closing its
 * nodes (process.exit: its handler of an uncaught exception, or the launcher watch when the
 * flows have not stopped within 20 s) ends with its children still running. One that keeps
 * writing then dies on its closed pipe; one that writes nothing (a stalled capture, ffmpeg
 * waiting on a silent camera) was orphaned: it kept the ALSA device busy ("device or resource
 * busy" at the next start) or the camera's connection open. So they are killed here,
 * synchronously, on the parent's way out ('exit' runs for process.exit, an uncaught exception
 * and a normal end alike).
 *
 * A parent killed with SIGKILL (the kernel's out-of-memory killer, `docker kill`, a watchdog)
 * runs nothing. Linux can end a child with its parent when the child asks for it before it
 * runs its program (PR_SET_PDEATHSIG), which Node's spawn cannot do: util-linux's `setpriv
 * --pdeathsig KILL` does it and then runs the program in its place (same pid, same pipes), so
 * capture children are started through it where it exists (spawnEndingWithThisProcess). Where
 * it does not (Alpine/busybox, macOS, util-linux before 2.33) they are started as they are,
 * and end on their closed pipe or their own I/O timeout; an arecord whose device delivers
 * nothing then stays until killed.
 *
 * The signal is tied to the thread that forked the child, not to the process: Node's spawn
 * forks from the thread that calls it, the main thread here, which lives as long as the
 * process. A child spawned from a worker thread would be killed when that worker ends.
 */
import { ChildProcess, spawn, spawnSync, SpawnOptions } from 'child_process';
import { findBinary } from './binaries';

const running = new Set<ChildProcess>();
let installed = false;

function killRunning(): void {
  for (const child of running) {
    try {
      // No time left to wait for a gentler end; the kernel releases the device and sockets.
      child.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }
  running.clear();
}

/** Kills `child` (a process that started: it has a pid) when this process exits, should it still run then. */
export function endWithThisProcess(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  if (!installed) {
    installed = true;
    process.on('exit', killRunning);
  }
  running.add(child);
  child.once('exit', () => running.delete(child));
}

/** Overrides where `setpriv` is found; a path that is not an executable turns the wrapper off. */
export const SETPRIV_ENV = 'VIGIE_SETPRIV';

/** Probes already made, by setpriv path: its prefix arguments, or undefined where it cannot. */
const probed = new Map<string, string[] | undefined>();

/**
 * The command prefix that makes a child die with this process (`setpriv --pdeathsig KILL --`),
 * or undefined where there is none: not Linux, no setpriv, or one without --pdeathsig
 * (busybox's, util-linux before 2.33). Found once per setpriv path by running it: the probe
 * asks setpriv to set the signal and show it, so a setpriv that accepts the option but cannot
 * set it (a sandbox refusing prctl) counts as none.
 */
export function parentDeathPrefix(): string[] | undefined {
  if (process.platform !== 'linux') return undefined;
  const setpriv = findBinary('setpriv', { envVar: SETPRIV_ENV });
  if (!setpriv) return undefined;
  if (probed.has(setpriv)) return probed.get(setpriv);
  const prefix = [setpriv, '--pdeathsig', 'KILL', '--'];
  let works = false;
  try {
    const r = spawnSync(setpriv, ['--pdeathsig', 'KILL', '--', setpriv, '--dump'], { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'pipe'] });
    works = r.status === 0 && /^Parent death signal: KILL$/m.test(r.stdout ?? '');
  } catch {
    /* cannot run it: no wrapper */
  }
  probed.set(setpriv, works ? prefix : undefined);
  return probed.get(setpriv);
}

/**
 * spawn(binary, args, options), through `setpriv --pdeathsig KILL` where it works
 * (parentDeathPrefix): the child is the program itself (setpriv runs it in its own place), and
 * the kernel kills it when this process dies, even by SIGKILL. Call it from the main thread.
 */
export function spawnEndingWithThisProcess(binary: string, args: readonly string[], options: SpawnOptions): ChildProcess {
  const prefix = parentDeathPrefix();
  if (!prefix) return spawn(binary, [...args], options);
  // A spawn that fails (EMFILE, EAGAIN) is told as the program's, not setpriv's: the user
  // knows the program, and setpriv never ran.
  const asTheProgram = (err: Error): Error => {
    err.message = err.message.replace(`spawn ${prefix[0]}`, `spawn ${binary}`);
    return err;
  };
  let child: ChildProcess;
  try {
    child = spawn(prefix[0], [...prefix.slice(1), binary, ...args], options);
  } catch (err) {
    throw asTheProgram(err as Error);
  }
  child.prependListener('error', asTheProgram);
  return child;
}
