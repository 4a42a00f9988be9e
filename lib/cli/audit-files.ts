/**
 * The audit files named on a `vigie audit` command line: files as given, a directory for its
 * audit files. Shared by `audit verify` and `audit show`, which say the same when none is found.
 */
import * as fs from 'fs';
import * as path from 'path';
import { listAuditFiles } from '../alerts/audit';

/** Where the alert-dashboard node keeps the audit log in a Node-RED user directory, unless its settings say otherwise. */
export const AUDIT_SUBDIR = 'vigie-audit';

/** Each path looked at once: its stats, or undefined when it cannot be (missing, or not readable). */
export function statsOf(paths: string[]): Array<fs.Stats | undefined> {
  return paths.map((p) => {
    try {
      return fs.statSync(p);
    } catch {
      return undefined;
    }
  });
}

/**
 * The audit files of `paths` (each with its stats, undefined when it cannot be), or what to say
 * when there are none: a path that does not exist, or no audit file, naming the vigie-audit/ of
 * a Node-RED user directory given for its log.
 */
export function auditFilesOf(command: string, paths: string[], stats: Array<fs.Stats | undefined>): { files: string[] } | { error: string } {
  const files: string[] = [];
  /** Directories given that hold no audit file but a vigie-audit/ that does (a user directory given for its log). */
  const logsBelow: string[] = [];
  for (const [i, a] of paths.entries()) {
    const st = stats[i];
    if (!st) return { error: `vigie ${command}: ${a}: no such file or directory` };
    if (st.isDirectory()) {
      const found = listAuditFiles(a);
      files.push(...found);
      if (found.length === 0 && listAuditFiles(path.join(a, AUDIT_SUBDIR)).length > 0) logsBelow.push(path.join(a, AUDIT_SUBDIR));
    } else files.push(a);
  }
  if (files.length === 0) {
    const hint = logsBelow.length ? `; the audit log of a Node-RED user directory is in its ${AUDIT_SUBDIR}/: vigie ${command} ${logsBelow.join(' ')}` : '';
    return { error: `vigie ${command}: no audit files (audit-YYYY-MM-DD-NNN.jsonl) in ${paths.join(', ')}${hint}` };
  }
  return { files };
}
