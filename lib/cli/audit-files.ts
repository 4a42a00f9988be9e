/**
 * The audit files named on a `vigie audit` command line: files as given, a directory for its
 * audit files. Shared by `audit verify` and `audit show`, which say the same when none is found.
 */
import * as fs from 'fs';
import * as path from 'path';
import { AuditHead, defaultHeadFile, listAuditFiles, readHeadRecord } from '../alerts/audit';

/** Where the alert-dashboard node keeps the audit log in a Node-RED user directory, unless its settings say otherwise. */
export const AUDIT_SUBDIR = 'vigie-audit';

/** What a path given is: its stats, or why it could not be looked at. */
export type PathStats = fs.Stats | NodeJS.ErrnoException;

/** Each path looked at once: its stats, or the error that says why it cannot be (missing, or not reachable). */
export function statsOf(paths: string[]): PathStats[] {
  return paths.map((p) => {
    try {
      return fs.statSync(p);
    } catch (err) {
      return err as NodeJS.ErrnoException;
    }
  });
}

function isDirectoryStats(st: PathStats): boolean {
  return st instanceof fs.Stats && st.isDirectory();
}

/**
 * Why a path cannot be read, in words that lead to the fix: a path that is not there, or one this
 * user may not read (the log belongs to the user Node-RED runs as; root or that user can read it).
 */
export function pathFaultWords(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'ENOENT':
    case 'ENOTDIR':
      return 'no such file or directory';
    case 'EACCES':
    case 'EPERM': {
      const uid = process.geteuid?.(); // the effective uid is the one the kernel checks
      return `permission denied${uid === undefined ? '' : ` to uid ${uid}`} (run it as the user Node-RED runs as, or as root)`;
    }
    default:
      return `cannot be read (${err.message})`;
  }
}

/**
 * The audit files of `paths` (each with its stats, or why it cannot be looked at), or what to say
 * when there are none: a path that does not exist or cannot be read, or no audit file, naming the vigie-audit/ of
 * a Node-RED user directory given for its log.
 */
export function auditFilesOf(command: string, paths: string[], stats: PathStats[]): { files: string[] } | { error: string } {
  const files: string[] = [];
  /** Directories given that hold no audit file but a vigie-audit/ that does (a user directory given for its log). */
  const logsBelow: string[] = [];
  for (const [i, a] of paths.entries()) {
    const st = stats[i];
    if (!(st instanceof fs.Stats)) return { error: `vigie ${command}: ${a}: ${pathFaultWords(st)}` };
    // Said before anything is listed: a directory or file that cannot be read is not "no audit files".
    const fault = unreadable(a, st);
    if (fault) return { error: `vigie ${command}: ${a}: ${pathFaultWords(fault)}` };
    if (st.isDirectory()) {
      const found = listAuditFiles(a);
      for (const f of found) {
        const fileFault = unreadable(f);
        if (fileFault) return { error: `vigie ${command}: ${f}: ${pathFaultWords(fileFault)}` };
      }
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

/** The error reading `p` would meet (a directory listed, a file opened), or undefined. */
function unreadable(p: string, st?: fs.Stats): NodeJS.ErrnoException | undefined {
  try {
    if (st?.isDirectory()) fs.readdirSync(p);
    // Opened, not access(2)ed: access checks the real uid, open the effective one that reading uses.
    else fs.closeSync(fs.openSync(p, 'r'));
    return undefined;
  } catch (err) {
    return err as NodeJS.ErrnoException;
  }
}

/**
 * The head record beside the one directory given (the last entry the console wrote), read before
 * its files: an entry written meanwhile comes after it, so the files given always reach it. With
 * the hash to expect of the chain when it could be read.
 */
export function headRecordOf(paths: string[], stats: PathStats[]): { headFile?: string; head?: AuditHead | 'empty' | 'unreadable'; headExpect: Array<{ seq: number; hash: string }> } {
  const dirs = paths.filter((_, i) => isDirectoryStats(stats[i]));
  if (dirs.length !== 1) return { headExpect: [] };
  const headFile = defaultHeadFile(dirs[0]);
  const head = readHeadRecord(headFile);
  return { headFile, head, headExpect: head && head !== 'unreadable' && head !== 'empty' ? [{ seq: head.seq, hash: head.hash }] : [] };
}

/**
 * What the head record beside the directory says against the files given, or undefined when
 * they agree (or it cannot be judged: its seq before the first entry given, within a loss a
 * header records, or no head record).
 */
export function headProblem(
  head: AuditHead | 'empty' | 'unreadable' | undefined,
  found: { found: boolean; hashAtSeq?: string } | undefined,
  r: { lastSeq?: number; vanished: { firstSeq?: number; lastSeq?: number; missing: boolean }[] },
  name: string,
): string | undefined {
  if (head === undefined) return undefined;
  if (head === 'unreadable') return `the head record ${name} beside the directory cannot be read: entries removed at the end cannot be told`;
  if (head === 'empty') {
    return `the head record ${name} beside the directory is empty, as a power cut just after its rewrite can leave it (or it was emptied by hand): entries removed at the end cannot be told`;
  }
  if (found?.found) return undefined;
  if (r.vanished.some((v) => v.missing && v.firstSeq !== undefined && v.lastSeq !== undefined && head.seq >= v.firstSeq && head.seq <= v.lastSeq)) return undefined;
  if (r.lastSeq !== undefined && head.seq > r.lastSeq) {
    return `the head record ${name} says entry seq ${head.seq} was written (${head.time}, in ${head.file}), but the files end at seq ${r.lastSeq}: entries ${r.lastSeq + 1}…${head.seq} are missing (removed at the end, or deleted while Vigie was stopped; its next start records them)`;
  }
  if (found?.hashAtSeq) return `the head record ${name} says entry seq ${head.seq} has hash ${head.hash}, the files hold ${found.hashAtSeq}: the files were replaced or rewritten since`;
  return undefined;
}
