/**
 * What a freshly spawned child lacks, for the one spawn failure Node does not throw.
 *
 * Out of file descriptors (EMFILE, ENFILE), `spawn` returns a child with no process and no
 * pipes; refused (EACCES, EAGAIN, ENOENT), one with no pid. Node tells why in an 'error' event
 * on the next tick, and an 'error' with nobody listening ends the whole runtime. Every place
 * that spawns a child therefore listens for 'error' first, then asks this function whether it
 * got a process it can use; a non-empty answer is a start that failed.
 */
import type { ChildProcess } from 'child_process';

/** Which of the pipes asked for (stdout and stderr always; stdin when `needStdin`) and the pid are missing. */
export function spawnShortfall(child: ChildProcess, needStdin: boolean): string[] {
  const missing: string[] = [];
  if (needStdin && !child.stdin) missing.push('stdin');
  if (!child.stdout) missing.push('stdout');
  if (!child.stderr) missing.push('stderr');
  if (child.pid === undefined) missing.push('pid');
  return missing;
}

/**
 * Lets go of a child that did not start: the pipes it did get are destroyed (nothing will ever
 * read or write them, and open pipes keep the event loop alive), and a process it may have
 * despite a missing pipe is killed.
 */
export function releaseUnstarted(child: ChildProcess): void {
  for (const pipe of [child.stdin, child.stdout, child.stderr]) pipe?.destroy();
  if (child.pid === undefined) return;
  try {
    child.kill('SIGKILL');
  } catch {
    /* already gone */
  }
}
