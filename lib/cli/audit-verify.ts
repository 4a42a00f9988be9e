/**
 * `vigie audit verify FILE…` — checks the hash chain of audit files (taken in the order of
 * their chain: by the seq of their headers, which is their name order unless a clock set back
 * made an older Vigie name a file before the one it follows) and says where it breaks. Exit code 0 when the
 * chain is intact, 1 when it breaks, 2 on bad usage. A directory stands for its audit files.
 * The end of a file cut by a crash, after which the log resumes in the next file from the
 * entry before it, is intact (nothing was lost) and said in a note.
 */
import * as fs from 'fs';
import * as path from 'path';
import { listAuditFiles, verifyAuditFiles } from '../alerts/audit';
import { USAGE } from './usage';

/** Where the alert-dashboard node keeps the audit log in the Node-RED user directory, unless its settings say otherwise. */
const AUDIT_SUBDIR = 'vigie-audit';

/** For `vigie audit verify --help`, after the usage line. */
export function help(): string {
  return '  checks the hash chain of audit log files (audit-YYYY-MM-DD-NNN.jsonl)\n';
}

export async function main(args: string[], out: (s: string) => void = (s) => process.stdout.write(s), err: (s: string) => void = (s) => process.stderr.write(s)): Promise<number> {
  if (args.length === 0 || args.includes('--help') || args.includes('-h')) {
    err(`usage: ${USAGE['audit verify']}\n${help()}`);
    return args.length === 0 ? 2 : 0;
  }
  const files: string[] = [];
  /** Directories given that hold no audit file but a vigie-audit/ that does (a user directory given for its log). */
  const logsBelow: string[] = [];
  for (const a of args) {
    // An option mistaken for a file name (a file named so: ./-x).
    if (/^-./.test(a)) {
      err(`vigie audit verify: unknown option ${a}\nusage: ${USAGE['audit verify']}\n`);
      return 2;
    }
    let st: fs.Stats;
    try {
      st = fs.statSync(a);
    } catch {
      err(`vigie audit verify: ${a}: no such file or directory\n`);
      return 2;
    }
    if (st.isDirectory()) {
      const found = listAuditFiles(a);
      files.push(...found);
      if (found.length === 0 && listAuditFiles(path.join(a, AUDIT_SUBDIR)).length > 0) logsBelow.push(path.join(a, AUDIT_SUBDIR));
    } else files.push(a);
  }
  if (files.length === 0) {
    const hint = logsBelow.length ? `; the audit log of a Node-RED user directory is in its ${AUDIT_SUBDIR}/: vigie audit verify ${logsBelow.join(' ')}` : '';
    err(`vigie audit verify: no audit files (audit-YYYY-MM-DD-NNN.jsonl) in ${args.join(', ')}${hint}\n`);
    return 2;
  }
  let r = verifyAuditFiles(files);
  // Every file listed was removed by retention as the check ran (a quiet log rotating): the
  // directories given are listed again, once, for the files that replaced them.
  if (!r.ok && r.removedDuringCheck.length === files.length) {
    const again = args.flatMap((a) => (fs.statSync(a, { throwIfNoEntry: false })?.isDirectory() ? listAuditFiles(a) : [a]));
    if (again.some((f) => !files.includes(f))) r = verifyAuditFiles(again);
  }
  if (!r.ok) {
    err(`BROKEN at ${r.break!.file}:${r.break!.line}: ${r.break!.reason}\n`);
    err(`(${r.entries} entries verified before the break)\n`);
    return 1;
  }
  out(`OK: ${r.entries} entries in ${r.files} file${r.files === 1 ? '' : 's'}, seq ${r.firstSeq}…${r.lastSeq}, last hash ${r.lastHash}\n`);
  if (r.anchored) out(`note: the chain starts after earlier files (removed by retention or not given); the first entry links to an earlier hash.\n`);
  if (r.removedDuringCheck.length) {
    const n = r.removedDuringCheck.length;
    out(`note: ${n} file${n === 1 ? ' was' : 's were'} removed by retention while the check ran (the oldest: ${r.removedDuringCheck.map((f) => path.basename(f)).join(', ')}).\n`);
  }
  for (const c of r.cuts) {
    const where = c.line === 0 ? `${c.file} is empty (a crash before its header was written)` : `a line cut by a crash at ${c.file}:${c.line} (the entry being written then is not in the log)`;
    out(`note: ${where}; the chain resumes in ${path.basename(c.resumedIn)} from the entry before it.\n`);
  }
  for (const n of r.namedBefore) {
    out(`note: ${path.basename(n.file)} follows ${path.basename(n.follows)} in the chain, though its name sorts before it (the clock was set back when it was opened).\n`);
  }
  return 0;
}
