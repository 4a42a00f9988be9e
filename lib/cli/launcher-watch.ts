/**
 * Preloaded (launcher-watch-preload.ts, node --require) into the Node-RED that `vigie start`
 * runs, so that Node-RED ends with its launcher. A vigie start killed with SIGKILL (kill -9, the
 * OOM killer, a supervisor that kills only the main process) runs no stop(): its Node-RED was
 * left running, holding the port, the microphones and the cameras, and the next start failed on
 * the port or ran a second one.
 *
 * vigie start gives Node-RED an IPC channel and keeps it open: the channel closes when vigie
 * start is gone, however it ended. Node-RED is then stopped as a SIGINT stops it (its flows
 * stop, so Vigie nodes write their stop files), and made to exit if that has not ended it within
 * NODE_RED_STOP_MS. Loaded before Node-RED, with nothing of it: plain Node only.
 */
import { NODE_RED_STOP_MS } from '../util/launcher-channel';

/** The part of `process` this watch uses. */
export interface WatchedProcess {
  pid: number;
  connected: boolean;
  send?: unknown;
  stdout: NodeJS.EventEmitter;
  stderr: NodeJS.EventEmitter;
  once(event: 'disconnect', listener: () => void): unknown;
  kill(pid: number, signal: NodeJS.Signals): unknown;
  exit(code: number): unknown;
}

/** Watches the launcher of `proc` (this process), when it was started with an IPC channel. */
export function watchLauncher(proc: WatchedProcess = process, stopMs = NODE_RED_STOP_MS): void {
  if (typeof proc.send !== 'function') return; // not started with an IPC channel: no launcher to watch
  // The output goes to vigie start: once it is gone, a write fails (EPIPE), which must not end
  // Node-RED before its flows have stopped.
  proc.stdout.on('error', () => undefined);
  proc.stderr.on('error', () => undefined);
  const launcherGone = () => {
    setTimeout(() => proc.exit(1), stopMs).unref();
    // Node-RED's own handler stops the flows, then exits (before it is installed: ends at once, nothing has started).
    proc.kill(proc.pid, 'SIGINT');
  };
  if (proc.connected) proc.once('disconnect', launcherGone);
  else launcherGone();
}
