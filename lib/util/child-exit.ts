/**
 * Child processes (arecord, ffmpeg) that must not outlive the process that runs them.
 *
 * A node's close handler stops its children, but a Node-RED that exits without closing its
 * nodes (process.exit: its handler of an uncaught exception, or the launcher watch when the
 * flows have not stopped within 20 s) ends with its children still running. One that keeps
 * writing then dies on its closed pipe; one that writes nothing (a stalled capture, ffmpeg
 * waiting on a silent camera) was orphaned: it kept the ALSA device busy ("device or resource
 * busy" at the next start) or the camera's connection open. Linux ends children with their
 * parent only when asked from inside the child (PR_SET_PDEATHSIG), which Node cannot do; so
 * they are killed here, synchronously, on the parent's way out ('exit' runs for process.exit,
 * an uncaught exception and a normal end alike). A parent killed with SIGKILL runs nothing:
 * its children end on their closed pipe or their own I/O timeout.
 */
import type { ChildProcess } from 'child_process';

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

