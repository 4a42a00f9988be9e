/**
 * Plain words for the faults of a gateway's disk: an SD card that filled up (journald, a log
 * left in debug, docker layers), a quota used up, or a card the kernel remounted read-only
 * after errors. Node says "ENOSPC: no space left on device, write", which names neither the
 * file nor, for an operator reading a status, the fix.
 */

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
