/**
 * Plain words for the faults of a gateway's disk: an SD card that filled up (journald, a log
 * left in debug, docker layers), a quota used up, or a card the kernel remounted read-only
 * after errors. Node says "ENOSPC: no space left on device, write", which names neither the
 * file nor, for an operator reading a status, the fix.
 */
import * as fs from 'fs';
import * as path from 'path';

const DISK_FAULT_WORDS: Record<string, string> = {
  ENOSPC: 'disk full',
  EDQUOT: 'disk quota used up',
  EROFS: 'disk read-only',
};

/** "disk full", "disk quota used up", "disk read-only"; undefined for any other fault. */
export function diskFaultWords(err: unknown): string | undefined {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? DISK_FAULT_WORDS[code] : undefined;
}

/** The fault's message, led by the plain words of a disk fault: "disk full (ENOSPC: no space left on device, write)". */
export function fileFaultText(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const words = diskFaultWords(err);
  return words ? `${words} (${message})` : message;
}

/**
 * `fs.mkdirSync(dir, { recursive: true })`, but a failure says its real cause. Node 20's
 * recursive mkdir reports any failure to make a missing directory as ENOENT ("no such file or
 * directory"), so a card remounted read-only read as a path that does not exist. On ENOENT the
 * first missing directory is made alone, which fails with the real code (EROFS, ENOSPC…), and
 * that error is thrown instead.
 */
export function makeDirectory(dir: string): void {
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    let missing = path.resolve(dir);
    while (path.dirname(missing) !== missing && !fs.existsSync(path.dirname(missing))) missing = path.dirname(missing);
    try {
      fs.mkdirSync(missing);
    } catch (real) {
      if ((real as NodeJS.ErrnoException).code !== 'ENOENT') throw real;
      throw err;
    }
    // It could be made after all (the fault passed): the rest of the path as asked.
    fs.mkdirSync(dir, { recursive: true });
  }
}
