/**
 * Whole-file writes that a crash cannot leave half done: the data goes to a temporary file
 * beside the target and is renamed over it, so a reader finds either the old file or the new
 * one. Used for what the nodes keep across restarts (alerts, snapshots, messages waiting for a
 * broker).
 */
import * as fs from 'fs';
import * as path from 'path';

/** Owner read/write, group read: these files hold alerts and pictures, not for every user. */
export const KEPT_FILE_MODE = 0o640;

export interface AtomicWriteOptions {
  /**
   * Flush the file and its directory to the disk before returning, so the new content also
   * survives a power cut. It blocks the event loop until the disk has it (tens to hundreds of
   * ms on an SD card): for rare writes (a node closing), not for one at every message.
   */
  durable?: boolean;
  /** The new file's mode; KEPT_FILE_MODE by default. */
  mode?: number;
}

/**
 * The name of a file a node keeps in the user directory: `<prefix>-<node id>.json`, the id's
 * characters that a file name cannot hold (a subflow instance's node has "-" in its id, kept)
 * replaced by "_".
 */
export function nodeFileName(prefix: string, nodeId: string): string {
  return `${prefix}-${nodeId.replace(/[^\w.-]/g, '_')}.json`;
}

/** The temporary file of `file`: one per target, overwritten by the next write if a crash left it. */
export function tempFileOf(file: string): string {
  return `${file}.tmp`;
}

export function writeFileAtomic(file: string, data: string | Uint8Array, opts: AtomicWriteOptions = {}): void {
  const tmp = tempFileOf(file);
  let fd: number | undefined;
  try {
    // A temp file left by a crash may have another mode: start afresh.
    fs.rmSync(tmp, { force: true });
    fd = fs.openSync(tmp, 'w', opts.mode ?? KEPT_FILE_MODE);
    fs.writeFileSync(fd, data);
    if (opts.durable) fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(tmp, file);
    if (opts.durable) syncDirectory(path.dirname(file));
  } catch (err) {
    if (fd !== undefined) {
      try {
        fs.closeSync(fd);
      } catch {
        /* the write's own error is the one to report */
      }
    }
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}

/** Makes a rename in `dir` durable (the directory entry itself is flushed). */
function syncDirectory(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Moves (or copies) a kept file that cannot be used as it is out of the way, so that the next
 * write does not destroy what it holds: `<file>.<why>-<UTC time>` beside it (e.g.
 * `vigie-alerts-dash.json.version-2-2026-11-28T14-03-12Z`), never over another file. Returns
 * the new path; throws when the file cannot be moved or copied.
 */
export function setFileAside(file: string, why: string, nowMs: number, how: 'move' | 'copy' = 'move'): string {
  // No colons: the name must also be valid on a Windows share.
  const stamp = new Date(nowMs).toISOString().replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');
  const base = `${file}.${why}-${stamp}`;
  let aside = base;
  for (let n = 2; fs.existsSync(aside); n++) aside = `${base}-${n}`;
  if (how === 'move') fs.renameSync(file, aside);
  else fs.copyFileSync(file, aside, fs.constants.COPYFILE_EXCL);
  return aside;
}
