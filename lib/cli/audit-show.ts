/**
 * `vigie audit show FILE|DIR…` — the audit log for people: the entries of a time span, an
 * alert, a camera, an operator or a kind, one line each (text), or as CSV for a spreadsheet, or
 * as the stored JSON lines (jsonl, hashes and all) for another tool. The chain of the files
 * given is checked as they are read, so a listing of a log that was tampered with says so.
 * Exit 0 when the chain is intact, 1 when it is not (the entries are still shown, as read), 2 on
 * a wrong command line or no audit file.
 */
import * as path from 'path';
import { orderAuditFiles, verifyAuditFiles } from '../alerts/audit';
import { AUDIT_EVENT_TYPES } from '../alerts/bus';
import { AUDIT_CSV_COLUMNS, AuditFilter, AuditSpanFilter, auditCsvRow, auditEntryLine, parseAuditTime, ReadAuditEntry, readAuditFile, UnreadableAuditLine } from '../alerts/audit-view';
import { auditFilesOf, headProblem, headRecordOf, statsOf } from './audit-files';
import { USAGE } from './usage';

const FORMATS = ['text', 'csv', 'jsonl'] as const;
type Format = (typeof FORMATS)[number];

/** For `vigie audit show --help`, after the usage line. */
export function help(): string {
  return [
    '  lists audit log entries (audit-YYYY-MM-DD-NNN.jsonl; a directory stands for its files), oldest first',
    '',
    '  --since TIME      entries at or after TIME',
    '  --until TIME      entries before TIME; a date alone takes in that whole day',
    '                    TIME: 2026-11-28, 2026-11-28T14:03 or "2026-11-28 14:03:12", in UTC (as the',
    '                    log is) unless it ends with Z or an offset such as +01:00; an entry written',
    '                    before the clock was set (before 2023) is placed by the real times around it',
    '  --alert ID        entries of that alert (and those naming it: a camera taken for it)',
    '  --camera ID       entries naming that camera (its moves, its views, alerts it turned to)',
    '  --actor NAME      entries written under that name, in any case (an operator; auto:<node id>; vigie)',
    `  --type T[,T…]     only these kinds: ${AUDIT_EVENT_TYPES.join(', ')}`,
    '  --format F        text (one line per entry, the default), csv (a header row, then one row per',
    '                    entry, details as JSON; for a spreadsheet) or jsonl (the stored lines, hashes',
    '                    included, for another tool)',
    '',
    '  Options given together narrow the list: every one must match. The entries go to standard',
    '  output; what the chain check found, and how many entries were shown, to standard error.',
    '  The chain of every file given is checked, not only of the entries shown: a listing of a log',
    '  that was edited says BROKEN and where (vigie audit verify says more). Given a directory, its',
    '  head record (<directory>.head.json) is read too: entries removed at the end are a WARNING.',
    '',
    '  exit status: 0 listed, the chain intact; 1 listed, the chain broken; 2 wrong command line, or',
    '  no audit file found.',
    '',
  ].join('\n');
}

export async function main(args: string[], out: (s: string) => void = (s) => process.stdout.write(s), err: (s: string) => void = (s) => process.stderr.write(s)): Promise<number> {
  if (args.length === 0) {
    err(`usage: ${USAGE['audit show']}\n${help()}`);
    return 2;
  }
  const usageError = (text: string): number => {
    err(`vigie audit show: ${text}\nusage: ${USAGE['audit show']}\n`);
    return 2;
  };
  const filter: AuditFilter = {};
  let format: Format = 'text';
  const paths: string[] = [];
  const given = new Set<string>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const m = /^--(since|until|alert|camera|actor|type|format)(?:=(.*))?$/s.exec(a);
    if (!m) {
      // An option mistaken for a file name (a file named so: ./-x).
      if (/^-./.test(a)) return usageError(`unknown option ${a}`);
      paths.push(a);
      continue;
    }
    const name = m[1];
    const v = m[2] ?? args[++i];
    if (v === undefined || (m[2] === undefined && v.startsWith('--'))) return usageError(`--${name}: expected a value`);
    if (given.has(name)) return usageError(`--${name} given twice: give it once`);
    given.add(name);
    switch (name) {
      case 'since':
      case 'until': {
        const ms = parseAuditTime(v, name === 'until');
        if (ms === undefined) return usageError(`--${name}: expected a date (2026-11-28) or a date and time (2026-11-28T14:03, UTC unless an offset is given), got "${v}"`);
        if (name === 'since') filter.sinceMs = ms;
        else filter.untilMs = ms;
        break;
      }
      case 'alert':
      case 'camera':
      case 'actor':
        if (!v) return usageError(`--${name}: expected a value`);
        filter[name === 'alert' ? 'alertId' : name === 'camera' ? 'cameraId' : 'actor'] = v;
        break;
      case 'type': {
        const types = v.split(',').map((t) => t.trim());
        const unknown = types.filter((t) => !(AUDIT_EVENT_TYPES as readonly string[]).includes(t));
        if (unknown.length || !types.length) return usageError(`--type: expected one or more of ${AUDIT_EVENT_TYPES.join(', ')} (comma-separated), got "${unknown[0] ?? v}"`);
        filter.types = types;
        break;
      }
      case 'format':
        if (!(FORMATS as readonly string[]).includes(v)) return usageError(`--format: expected one of ${FORMATS.join(', ')}, got "${v}"`);
        format = v as Format;
        break;
    }
  }
  if (filter.sinceMs !== undefined && filter.untilMs !== undefined && filter.untilMs <= filter.sinceMs) {
    return usageError('--until: expected a time after --since (no entry can be at or after one and before the other)');
  }
  if (paths.length === 0) return usageError('expected audit files or a directory');

  const stats = statsOf(paths);
  const { headFile, head, headExpect } = headRecordOf(paths, stats);
  const found = auditFilesOf('audit show', paths, stats);
  if ('error' in found) {
    err(`${found.error}\n`);
    return 2;
  }
  const files = found.files;
  const ordered = orderAuditFiles([...new Set(files)]);
  // File by file, each entry written out as it is read: a long log is never held whole.
  if (format === 'csv') out(`${AUDIT_CSV_COLUMNS.join(',')}\r\n`);
  const unreadable: UnreadableAuditLine[] = [];
  let total = 0;
  let shown = 0;
  const span = new AuditSpanFilter<ReadAuditEntry>(filter);
  const write = (rs: ReadAuditEntry[]): void => {
    for (const r of rs) {
      shown++;
      if (format === 'text') out(`${auditEntryLine(r.entry)}\n`);
      else if (format === 'csv') out(`${auditCsvRow(r)}\r\n`);
      else out(`${r.text}\n`);
    }
  };
  for (const file of ordered) {
    let read: ReturnType<typeof readAuditFile>;
    try {
      read = readAuditFile(file);
    } catch (e) {
      // A file gone between listing and reading (retention rotating a running log): said, run again.
      err(`vigie audit show: ${e instanceof Error ? e.message : String(e)}\n`);
      return 1;
    }
    total += read.entries.length;
    unreadable.push(...read.unreadable);
    for (const r of read.entries) write(span.push(r));
    // Between files, a reader that has stopped (a closed pipe) is heard, and the listing ends there.
    await new Promise((resolve) => setImmediate(resolve));
  }
  write(span.end());
  for (const u of unreadable) err(`unreadable: ${u.file}:${u.line}: ${u.why}; not shown\n`);
  if (span.unsetClockShown > 0 && (filter.sinceMs !== undefined || filter.untilMs !== undefined)) {
    const n = span.unsetClockShown;
    err(`note: ${n} of the entries shown ${n === 1 ? 'was' : 'were'} written before the clock was set (a time before 2023); ${n === 1 ? 'it is' : 'each is'} shown as the real times around ${n === 1 ? 'it' : 'them'} in the log place ${n === 1 ? 'it' : 'them'}: perhaps within --since/--until\n`);
  }
  err(`${shown} of ${total} entr${total === 1 ? 'y' : 'ies'} shown, from ${ordered.length} file${ordered.length === 1 ? '' : 's'}\n`);
  // The chain of every file given, read again by the check (file by file too).
  const verdict = verifyAuditFiles(ordered, { expect: headExpect });
  if (!verdict.ok) {
    const b = verdict.break!;
    err(`chain BROKEN at ${b.file}:${b.line}: ${b.reason}: the entries are shown as read, not as proven written so (vigie audit verify says more)\n`);
    return 1;
  }
  err(`chain intact: seq ${verdict.firstSeq}…${verdict.lastSeq}, last hash ${verdict.lastHash} (vigie audit verify checks it against a hash kept elsewhere)\n`);
  // Entries removed at the end leave an intact chain: the head record beside the directory tells.
  const headWords = headFile ? headProblem(head, verdict.expected[0], verdict, path.basename(headFile)) : undefined;
  if (headWords) err(`WARNING: ${headWords}; the listing ends where the files end (vigie audit verify says more)\n`);
  return 0;
}
