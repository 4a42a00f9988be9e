/**
 * `vigie audit verify FILE…` — checks the hash chain of audit files (taken in the order of
 * their chain: by the seq of their headers, which is their name order unless a clock set back
 * made an older Vigie name a file before the one it follows) and says where it breaks. Exit code 0 when the
 * chain is intact, 1 when it breaks (or an expected hash is not in it, or, with --complete, its
 * start is unexplained), 2 on bad usage. A directory stands for its audit files.
 * The end of a file cut by a crash, after which the log resumes in the next file from the
 * entry before it, is intact (nothing was lost) and said in a note.
 *
 * The chain is unkeyed: intact means consistent, not unaltered since written (a whole rewrite
 * recomputes every hash). On OK it prints the last entry's seq and hash, to keep elsewhere;
 * --expect-hash checks later that such a kept hash is still in the chain.
 */
import * as fs from 'fs';
import * as path from 'path';
import { APPENDED_WORDS, ExpectedHash, listAuditFiles, parseExpectedHash, vanishedHow, verifyAuditFiles } from '../alerts/audit';
import { auditFilesOf, headProblem, headRecordOf, statsOf } from './audit-files';
import { USAGE } from './usage';

/** For `vigie audit verify --help`, after the usage line. */
export function help(): string {
  return [
    '  checks the hash chain of audit log files (audit-YYYY-MM-DD-NNN.jsonl; a directory stands for its files)',
    '',
    '  --expect-hash [SEQ:]HASH  a hash noted earlier (the "last entry" line of an earlier check, or one',
    '                            the node logged at a rotation): it must still be in the chain, at seq',
    '                            SEQ when given. May be given several times.',
    '  --complete                the files given are the whole log as kept: its start must be the first',
    '                            entry ever, or files whose removal a header records (retention).',
    '                            Without it, files missing before the first one are a warning (a part',
    '                            of the log may be given, e.g. files copied for an inquiry).',
    '',
    '  OK means every entry links to the one before it and matches its hash, every snapshot its',
    '  SHA-256, and nothing is missing between the first and the last entry given. It does not mean',
    '  the log was not rewritten: the chain is not keyed, so whoever can write the directory can',
    '  rewrite it whole and recompute the hashes, and entries removed at the very end do not show.',
    '  Keep the last entry\'s seq:hash printed on OK somewhere the log\'s writers cannot change (a',
    '  ticket, an email) and check it later with --expect-hash: every entry up to it is then proven',
    '  unchanged.',
    '',
    '  A file that vanished while Vigie wrote it (deleted by hand), or the newest files deleted while',
    '  Vigie was stopped (told at its next start from a record of the last entry it wrote, kept beside',
    '  the audit directory), is a WARNING naming the entries lost, when the header of the file after',
    '  them records it and the chain goes on exactly from there; with --complete it is a break.',
    '  Given a directory, its head record (<directory>.head.json) is checked too, before Vigie starts',
    '  again: entries the files no longer reach, or another hash at its seq, are a WARNING (a break',
    '  with --complete).',
    '',
    '  A break that a Vigie start found (an entry edited while it was stopped) and recorded in the',
    '  header of the file it went on in is still a break; a note names that file and checks the',
    '  chain from it on.',
    '',
    '  exit status: 0 intact (and every expected hash found); 1 broken, an expected hash not in the',
    '  chain, or with --complete files missing at the start that no header says retention removed,',
    '  or entries lost with files deleted by hand;',
    '  2 wrong command line, or no audit file found.',
    '',
  ].join('\n');
}

export async function main(args: string[], out: (s: string) => void = (s) => process.stdout.write(s), err: (s: string) => void = (s) => process.stderr.write(s)): Promise<number> {
  if (args.length === 0 || args.includes('--help') || args.includes('-h')) {
    err(`usage: ${USAGE['audit verify']}\n${help()}`);
    return args.length === 0 ? 2 : 0;
  }
  const usageError = (text: string): number => {
    err(`vigie audit verify: ${text}\nusage: ${USAGE['audit verify']}\n`);
    return 2;
  };
  const paths: string[] = [];
  const expect: ExpectedHash[] = [];
  let complete = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--complete') {
      complete = true;
      continue;
    }
    if (a === '--expect-hash' || a.startsWith('--expect-hash=')) {
      const v = a === '--expect-hash' ? args[++i] : a.slice('--expect-hash='.length);
      if (v === undefined) return usageError('--expect-hash: expected a value, [SEQ:]HASH');
      const x = parseExpectedHash(v);
      if (!x) return usageError(`--expect-hash: expected [SEQ:]HASH (a seq from 1, a colon, and 64 hexadecimal digits), got "${v}"`);
      expect.push(x);
      continue;
    }
    // An option mistaken for a file name (a file named so: ./-x).
    if (/^-./.test(a)) return usageError(`unknown option ${a}`);
    paths.push(a);
  }
  if (paths.length === 0) return usageError('expected audit files or a directory');
  const stats = statsOf(paths);
  const { headFile, head, headExpect } = headRecordOf(paths, stats);
  const found = auditFilesOf('audit verify', paths, stats);
  if ('error' in found) {
    err(`${found.error}\n`);
    return 2;
  }
  const files = found.files;
  let r = verifyAuditFiles(files, { expect: [...expect, ...headExpect] });
  // Every file listed was removed by retention as the check ran (a quiet log rotating): the
  // directories given are listed again, once, for the files that replaced them.
  if (!r.ok && r.removedDuringCheck.length === files.length) {
    const again = paths.flatMap((a) => (fs.statSync(a, { throwIfNoEntry: false })?.isDirectory() ? listAuditFiles(a) : [a]));
    if (again.some((f) => !files.includes(f))) r = verifyAuditFiles(again, { expect: [...expect, ...headExpect] });
  }
  if (!r.ok) {
    const b = r.break!;
    err(`BROKEN at ${b.file}:${b.line}: ${b.reason}\n`);
    err(`(${r.entries} entries verified before the break)\n`);
    if (b.recordedIn && b.after) {
      // What an inquiry needs next: whether Vigie saw it, and whether what came after is whole.
      const after = b.after.ok
        ? `the chain from there verifies: ${b.after.entries} entries${b.after.lastSeq !== undefined ? `, to seq ${b.after.lastSeq}` : ''}`
        : `the chain from there breaks too, at ${b.after.break!.file}:${b.after.break!.line}: ${b.after.break!.reason} (${b.after.entries} entries verified before it)`;
      err(`note: a Vigie start found this break and went on in ${b.recordedIn}, whose header records it; ${after}.\n`);
    }
    return 1;
  }
  const start = r.unrecordedStart;
  const startWords = start
    ? `the files before ${path.basename(start.file)}${start.previousFile ? ` (from ${start.previousFile} back)` : ''} are missing and no entry records their removal by retention`
    : undefined;
  if (start && complete) {
    err(`BROKEN at ${start.file}:1: ${startWords} (deleted otherwise, or not all files were given)\n`);
    err(`(${r.entries} entries verified from there on)\n`);
    return 1;
  }
  // Entries lost with a file deleted by hand are recorded, not explained: the log is not whole.
  const lost = r.vanished.filter((v) => v.missing);
  if (lost.length && complete) {
    for (const v of lost) {
      const held = v.firstSeq !== undefined && v.lastSeq !== undefined ? `entries seq ${v.firstSeq}…${v.lastSeq}` : 'its entries';
      err(`BROKEN at ${v.recordedIn}:1: ${v.file} ${vanishedHow(v.cause, 'while Vigie was writing it')}: ${held} are not in the log (--complete: the log is not whole)\n`);
    }
    err(`(${r.entries} entries verified)\n`);
    return 1;
  }
  // The head record's check is apart from the hashes given (the last of r.expected when read).
  const headResult = headExpect.length ? r.expected[r.expected.length - 1] : undefined;
  if (headResult) r.expected = r.expected.slice(0, -1);
  const headWords = headFile ? headProblem(head, headResult, r, path.basename(headFile)) : undefined;
  if (headWords && complete) {
    err(`BROKEN: ${headWords} (--complete: the log is not whole)\n`);
    return 1;
  }
  const missing = r.expected.filter((x) => !x.found);
  for (const x of missing) {
    err(`NOT FOUND: expected hash ${x.seq !== undefined ? `${x.seq}:` : ''}${x.hash}: ${whyNotFound(x, r.firstSeq, r.lastSeq)}\n`);
  }
  if (missing.length) return 1;

  out(`OK: ${r.entries} entries in ${r.files} file${r.files === 1 ? '' : 's'}, seq ${r.firstSeq}…${r.lastSeq}, last hash ${r.lastHash}\n`);
  out(`last entry: seq ${r.lastSeq}, ${r.lastTime}, hash ${r.lastHash}\n`);
  out(`  keep "${r.lastSeq}:${r.lastHash}" where the log's writers cannot change it (a ticket, an email); vigie audit verify --expect-hash ${r.lastSeq}:${r.lastHash} then proves every entry up to it unchanged\n`);
  for (const x of r.expected) out(`expected hash found: seq ${x.seq ?? '?'}, ${x.hash}: the entries up to it are unchanged since it was noted\n`);
  if (start) out(`WARNING: ${startWords}: deleted otherwise, or only a part of the log was given (--complete makes this a break)\n`);
  // A start explained by files lost while written or while stopped is said by its WARNING below, not as retention.
  else if (r.anchored && !r.vanished.some((v) => v.missing && v.lastSeq !== undefined && v.lastSeq + 1 === r.firstSeq)) {
    out(`note: the chain starts after earlier files, whose removal by retention a header records; the first entry links to an earlier hash.\n`);
  }
  for (const v of r.vanished) {
    // Text appended after the file's last entry: said once, below, as what it is.
    if (!v.missing && r.appended.some((a) => path.basename(a.file) === v.file && path.basename(a.recordedIn) === path.basename(v.recordedIn))) continue;
    const cause = v.appended && v.cause === 'changed' ? `${APPENDED_WORDS} while Vigie was writing it` : vanishedHow(v.cause, 'while Vigie was writing it');
    const held = v.firstSeq !== undefined && v.lastSeq !== undefined ? `entries seq ${v.firstSeq}…${v.lastSeq}` : 'its entries';
    if (v.missing) {
      out(`WARNING: ${v.file} ${cause}, as the header of ${path.basename(v.recordedIn)} records: ${held} are not in the log; the chain goes on from the entry before them (--complete makes this a break).
`);
    } else {
      out(`note: the header of ${path.basename(v.recordedIn)} records that ${v.file} ${cause}; the file given under that name holds ${held} and the chain runs through it.
`);
    }
  }
  if (headWords) out(`WARNING: ${headWords} (--complete makes this a break)\n`);
  for (const c of r.retentionChanges) {
    out(`note: retention changed from ${days(c.fromDays)} to ${days(c.toDays)} at ${path.basename(c.file)}.\n`);
  }
  if (r.removedDuringCheck.length) {
    const n = r.removedDuringCheck.length;
    out(`note: ${n} file${n === 1 ? ' was' : 's were'} removed by retention while the check ran (the oldest: ${r.removedDuringCheck.map((f) => path.basename(f)).join(', ')}).\n`);
  }
  for (const c of r.cuts) {
    // The cut line ends what is left before entries the next header records as lost: said as part of that loss (above).
    if (c.line > 0 && r.vanished.some((v) => v.missing && path.basename(v.recordedIn) === path.basename(c.resumedIn))) {
      out(`note: ${c.file}:${c.line} is a cut line, the end of what is left before the entries the header of ${path.basename(c.resumedIn)} records as lost.\n`);
      continue;
    }
    const where = c.line === 0 ? `${c.file} is empty (a crash before its header was written)` : `a line cut by a crash at ${c.file}:${c.line} (the entry being written then is not in the log)`;
    out(`note: ${where}; the chain resumes in ${path.basename(c.resumedIn)} from the entry before it.\n`);
  }
  for (const a of r.appended) {
    const where = a.lines === 1 ? `${a.file}:${a.line}` : `${a.file}:${a.line}…${a.line + a.lines - 1}`;
    out(
      `note: text that Vigie did not write at ${where}, appended after the file's last entry${a.afterSeq === undefined ? '' : ` (seq ${a.afterSeq})`} ${a.whileStopped ? 'while Vigie was stopped' : 'while Vigie was writing it'}, ` +
        `as the header of ${path.basename(a.recordedIn)} records; no entry is missing: the chain goes on in ${path.basename(a.recordedIn)} from that entry.\n`,
    );
  }
  for (const g of r.headGaps) {
    const range = g.toSeq === undefined ? `from seq ${g.fromSeq} on (not written again by the last entry given)` : `for entries seq ${g.fromSeq}…${g.toSeq}`;
    out(`note: the head record beside the audit directory could not be written ${range} (${g.error}): audit files deleted while Vigie was stopped after those entries could not be seen at its next start.\n`);
  }
  for (const n of r.namedBefore) {
    out(`note: ${path.basename(n.file)} follows ${path.basename(n.follows)} in the chain, though its name sorts before it (the clock was set back when it was opened).\n`);
  }
  return 0;
}

function days(d: number): string {
  return d === 0 ? 'none (everything kept)' : `${d} day${d === 1 ? '' : 's'}`;
}

function whyNotFound(x: { seq?: number; hashAtSeq?: string }, firstSeq: number | undefined, lastSeq: number | undefined): string {
  if (x.hashAtSeq) return `seq ${x.seq} has hash ${x.hashAtSeq}: the log was rewritten up to there since the hash was noted`;
  if (x.seq !== undefined && firstSeq !== undefined && x.seq < firstSeq) {
    return `seq ${x.seq} is before the first entry given (seq ${firstSeq}): its file was removed by retention or not given, so it cannot be checked`;
  }
  if (x.seq !== undefined && lastSeq !== undefined && x.seq > lastSeq) {
    return `seq ${x.seq} is after the last entry given (seq ${lastSeq}): entries were removed at the end, or the files given end earlier`;
  }
  return 'no entry of the files given has it: the log was rewritten since it was noted, or its file was removed by retention or not given';
}
