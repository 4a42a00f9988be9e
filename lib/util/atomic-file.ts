/**
 * Whole-file writes that a crash or a power cut cannot leave half done: the data goes to a
 * temporary file beside the target, is flushed to the disk, and is renamed over the target,
 * so a reader finds either the old file or the new one. Used for what the nodes keep across
 * restarts (alerts, snapshots, messages waiting for a broker).
 */
import * as fs from 'fs';

/** Owner read/write, group read: these files hold alerts and pictures, not for every user. */
export const KEPT_FILE_MODE = 0o640;

export function writeFileAtomic(file: string, data: string | Uint8Array, mode = KEPT_FILE_MODE): void {
  const tmp = `${file}.${process.pid}.tmp`;
  let fd: number | undefined;
  try {
    fd = fs.openSync(tmp, 'w', mode);
    fs.writeFileSync(fd, data);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(tmp, file);
  } catch (err) {
    if (fd !== undefined) fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}
