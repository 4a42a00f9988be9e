/**
 * Tamper-evident audit log (DESIGN §4.5): append-only JSON lines in files
 * `audit-YYYY-MM-DD-NNN.jsonl`, one entry per alert raised, camera move, live view and
 * operator decision. Each entry carries the SHA-256 of the previous entry, and its own
 * hash over its serialised body, so editing, removing or reordering a line breaks the chain.
 *
 * Files rotate by UTC day (never named with a day before the newest file's, whatever the
 * clock does) and by size. Retention removes the oldest whole files at rotation (never edits
 * one), judging their age so that a clock that jumps (NTP setting a box that read 1970) does
 * not make them look old; each file starts with a `file-open` header entry that names the file, the
 * previous file, the retention in force and any files removed by retention, and links to the
 * last hash of the previous file, so the chain survives rotation and retention, and a start of
 * the log that no header explains (files deleted otherwise) can be told from retention.
 *
 * The chain is unkeyed: whoever can write the directory can rewrite it whole and recompute every
 * hash. What it proves is that nothing changed up to an entry whose hash was kept elsewhere
 * (verifyAuditFiles' `expect`); the writer hands each header to `onFileOpen` for that.
 *
 * A crash (or a write that fails halfway, the disk full) can leave the last line of a file
 * cut. The writer never appends after it: it resumes the chain in a new file whose header
 * links to the last whole entry, and the verifier accepts such a cut end, and only that.
 *
 * The file being written deleted by hand (or replaced, or written to by something else) while
 * the log runs is noticed at the next entry: the chain goes on in a new file whose header records
 * what the lost file held (`vanished`), which the verifier accepts as exactly that hole, and says.
 *
 * The newest files deleted while Vigie is stopped would leave no trace in what is left: a head
 * record of the last entry written (seq, hash, file, time), kept outside the audit directory
 * (`headFile`), tells at the next start that the files end before it. The log then goes on after
 * the lost entries, in a new file whose header records them the same way (`vanished`, cause
 * `deleted-while-stopped`), never reusing their sequence numbers. A head record that matches
 * nothing in the files (the log replaced wholesale) is recorded too (`headMismatch`).
 *
 * Entries hold only contract fields and short details; anything that looks like samples is
 * stripped (no audio, ever).
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import type { AuditEvent, AuditEventType } from './bus';
import { auditBus } from './bus';
import { stripSampleLike } from './sanitize';
import { Backoff } from '../util/backoff';
import { KEPT_FILE_MODE, writeFileAtomic } from '../util/atomic-file';
import { fileFaultText, makeDirectory } from '../util/disk-fault';
import { isPlausibleWallTime, monotonicMs } from '../util/clock';

export const AUDIT_FORMAT_VERSION = 1;
/** `prev` of the very first entry of a log. */
export const GENESIS_HASH = '0'.repeat(64);
const FILE_RE = /^audit-(\d{4}-\d{2}-\d{2})-(\d{3})\.jsonl$/;
export const SNAPSHOT_DIR = 'snapshots';
export const MAX_SNAPSHOT_BYTES = 8 * 1024 * 1024;

function isJpeg(b: Buffer): boolean {
  return b.length > 4 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff;
}

function safeName(id: string): string {
  return id.replace(/[^\w.-]/g, '_').slice(0, 120) || 'alert';
}
const DAY_MS = 86_400_000;

export interface AuditEntry {
  v: number;
  seq: number;
  /** ISO 8601 UTC. */
  time: string;
  type: AuditEventType;
  actor: string;
  alertId?: string;
  details: Record<string, unknown>;
  prev: string;
  hash: string;
}

export interface AuditLogOptions {
  dir: string;
  /** Files whose newest entry is older than this are removed at rotation (see prune for how age is judged). Default 90 days; 0 keeps everything. */
  retentionDays?: number;
  /** Rotate when the current file would grow beyond this. Default 10 MiB. */
  maxFileBytes?: number;
  /** Wall clock (epoch ms), for tests. */
  now?: () => number;
  /** Monotonic clock (ms), for tests: how long ago this process wrote a file. performance.now() by default. */
  monotonicNow?: () => number;
  /** Called with each new file's header once written: its seq and hash are a value to keep elsewhere (see verifyAuditFiles' `expect`). */
  onFileOpen?: (header: AuditEntry) => void;
  /**
   * The head record (AuditHead): the last entry written, rewritten after each entry, outside
   * the audit directory so that deleting audit files does not take it with them. Default
   * beside the directory: `<dir>.head.json` (`vigie-audit.head.json` in Node-RED's user directory).
   */
  headFile?: string;
  /**
   * Told when the head record cannot be written (with the error), once, and again when it is
   * written again (undefined): without a current record, files deleted while stopped go unseen.
   */
  onHeadFault?: (err: Error | undefined) => void;
}

/** Where the head record of the audit log of `dir` is kept unless told otherwise: beside the directory, not in it. */
export function defaultHeadFile(dir: string): string {
  return `${path.resolve(dir)}.head.json`;
}

/**
 * The last entry written (its seq, hash, file and time), with the first seq of its file and
 * the hash that file's header links to: what open() checks the files against at the next start.
 */
export interface AuditHead {
  v: number;
  seq: number;
  hash: string;
  file: string;
  time: string;
  fileFirstSeq: number | null;
  fileLinksTo: string | null;
  /** The file its file's header names as the one before it (absent in records written before it was kept). */
  filePrevious?: string | null;
}

/**
 * A head record the files do not hold (the log replaced wholesale, or the head record itself
 * changed): what it said (null when it could not be read) and the hash the files hold at its seq
 * (null: no entry of theirs has that seq).
 */
export interface HeadMismatch {
  file: string | null;
  seq: number | null;
  hash: string | null;
  found: string | null;
  /**
   * The head record was empty (nothing, or only zero bytes): what a power cut just after its
   * rewrite leaves on a filesystem that renames before it writes the data. Absent otherwise.
   */
  empty?: true;
}

export type AuditInput = Omit<AuditEvent, 'time'> & { time?: number };

/**
 * The file being written that vanished under the writer: deleted by hand, replaced by another
 * file under its name, or changed (its size not what was written: something else wrote to it).
 * Recorded in the next file's header (`vanished`), with the entries it held (`firstSeq`…
 * `lastSeq`) and the hash its own header linked to (`linkedTo`).
 */
export interface VanishedFile {
  file: string;
  /**
   * deleted, replaced, changed: while the log was written; deleted-while-stopped: the files end
   * before the head record's entry and its file is gone; shortened-while-stopped: its file is
   * there but ends before that entry (lines removed, or a power cut lost them before the disk had
   * them); changed-while-stopped: text that is no part of an entry follows its last entry, found
   * at a start (always with `appended`).
   */
  cause: 'deleted' | 'replaced' | 'changed' | 'deleted-while-stopped' | 'shortened-while-stopped' | 'changed-while-stopped';
  firstSeq: number | undefined;
  lastSeq: number;
  linkedTo: string | undefined;
  /** The file the vanished one's header named as the one before it (null: none, the log's first), when known. */
  previousFile?: string | null;
  /** Changed by text appended after its last entry, which is still there whole (cause `changed` or `changed-while-stopped`): nothing of the chain was touched. */
  appended?: true;
}

/** How text something else appended after a file's last entry is said (Node-RED's log, vigie audit verify). */
export const APPENDED_WORDS = 'had text that Vigie did not write appended after its last entry';

/** How a vanished file's cause is said (Node-RED's log, vigie audit verify). */
export const VANISHED_WORDS: Record<VanishedFile['cause'], string> = {
  deleted: 'was deleted',
  replaced: 'was replaced by another file',
  changed: 'was changed by something else (its size is not what Vigie wrote)',
  'deleted-while-stopped': 'was deleted while Vigie was stopped',
  'shortened-while-stopped': 'lost its last entries while Vigie was stopped (removed by hand, or a power cut lost them before they reached the disk)',
  'changed-while-stopped': `${APPENDED_WORDS} while Vigie was stopped`,
};

/**
 * How a vanished file's loss is said: its cause, and when it happened (`whileWriting`, words for
 * the running log, unless the cause says it happened while Vigie was stopped).
 */
export function vanishedHow(cause: string, whileWriting: string): string {
  const words = VANISHED_WORDS[cause as VanishedFile['cause']];
  if (!words) return `vanished ${whileWriting}`;
  return cause.endsWith('-while-stopped') ? words : `${words} ${whileWriting}`;
}

/**
 * The warning for a header that records its previous file vanished while the log was written
 * (for Node-RED's log); undefined for any other header.
 */
export function vanishedFileWarning(header: AuditEntry): string | undefined {
  const v = header.details.vanished as { cause?: string; firstSeq?: number | null; lastSeq?: number; appended?: unknown } | undefined;
  if (!v || typeof v !== 'object') return undefined;
  return vanishedWords(String(header.details.previousFile), v, `the log goes on in ${String(header.details.file)}, whose header records it (vigie audit verify names it in a warning)`);
}

function vanishedWords(file: string, v: { cause?: string; firstSeq?: number | null; lastSeq?: number; appended?: unknown }, recorded: string): string {
  const held = typeof v.firstSeq === 'number' && typeof v.lastSeq === 'number' ? ` (entries seq ${v.firstSeq}…${v.lastSeq})` : '';
  const how = v.cause === 'changed' && v.appended === true ? `${APPENDED_WORDS} while the log was being written` : vanishedHow(String(v.cause), 'while the log was being written');
  return `audit log: ${file} ${how}${held}; ${recorded}. Never delete or edit audit files by hand: retention removes old ones`;
}

/** What a loss found at a start and not recorded yet (the audit directory cannot be written) is told with, instead of the file whose header records it. */
const NOT_RECORDED_YET = 'the next audit file records it in its header as soon as the audit directory can be written';

/**
 * An entry of the file the log would go on in, found at a start no longer as written: its
 * content does not match its hash, it does not link to the entry before it, or a line there is
 * no entry. Recorded by the next file's header (`edited`) and a `file-edited` entry; the writer
 * goes on in that new file, never after the edited entries.
 */
export interface EditedFile {
  file: string;
  /** Line of the file (from 1) of the first entry found so. */
  line: number;
  /** Its seq, when the line is an entry still. */
  seq: number | null;
  reason: string;
}

function editedWords(e: Partial<EditedFile>, recorded: string): string {
  const seq = typeof e.seq === 'number' ? ` (entry seq ${e.seq})` : '';
  return (
    `audit log: ${String(e.file)} was found edited at this start, at line ${String(e.line)}${seq}: ${String(e.reason)}; ${recorded}. ` +
    'vigie audit verify shows the break. Never delete or edit audit files by hand'
  );
}

/** The warning for a header that records an audit file found edited at a start (for Node-RED's log); undefined for any other header. */
export function editedFileWarning(header: AuditEntry): string | undefined {
  const e = header.details.edited as Partial<EditedFile> | undefined;
  if (!e || typeof e !== 'object') return undefined;
  return editedWords(e, `the log goes on in ${String(header.details.file)}, whose header records it`);
}

/** Why the first entry of `file` is not its header, or undefined (verifyChain and a start's check alike). */
function headerProblem(e: AuditEntry, file: string): string | undefined {
  if (e.type !== 'system' || e.details?.event !== 'file-open') return 'the first line is not the file header: lines were removed at the start of this file';
  if (e.details.file !== path.basename(file)) return `the header names file "${String(e.details.file)}": file renamed or replaced`;
  return undefined;
}

/**
 * Why entry `e`, on the line `i` (from 0) of one file, does not follow `before`, the entry on the
 * line above it (verifyChain and a start's check alike): the line to blame (from 1) and the
 * reason, or undefined when it follows. An entry changed and re-hashed leaves the next one with
 * the right seq and a link to another hash: the line above is blamed. An entry whose seq a
 * later line has (`laterHas`), or an earlier one, was moved; otherwise entries were removed.
 */
function linkProblem(e: AuditEntry, i: number, before: AuditEntry, laterHas: (seq: number) => boolean): { line: number; reason: string } | undefined {
  const expected = before.seq + 1;
  if (e.prev === before.hash && e.seq === expected) return undefined;
  if (e.seq === expected) return { line: i, reason: `edited: line ${i} was changed and re-hashed (line ${i + 1} recorded another hash for it)` };
  if (e.seq <= before.seq || laterHas(expected)) return { line: i + 1, reason: `reordered: entry seq ${e.seq} found where seq ${expected} was expected` };
  const missing = e.seq - expected;
  return { line: i + 1, reason: `removed: ${missing} entr${missing === 1 ? 'y is' : 'ies are'} missing before this line (seq ${expected}${missing > 1 ? `…${e.seq - 1}` : ''})` };
}

/**
 * The first entry of a file's `lines` (up to the line `upTo`, from 0) that is not as written:
 * the header first (naming `file`), then each entry matching its hash and following the one
 * before it, in verifyChain's words. verifyChain checks the same over the whole log; this is
 * the start's check of the one file the writer may go on in (about 0.1 s for a full 10 MB
 * file). Each line is parsed as it is checked, and none kept: holding a full file's entries
 * made the start slower than parsing them twice.
 */
function firstEdited(lines: string[], upTo: number, file: string): EditedFile | undefined {
  const name = path.basename(file);
  const last = Math.min(upTo, lines.length - 1);
  const seqAt = (line: number): number | null => parseLine(lines[line - 1] ?? '').seq ?? null;
  let before: AuditEntry | undefined;
  for (let i = 0; i <= last; i++) {
    const p = parseLine(lines[i]);
    if (!p.entry) return { file: name, line: i + 1, seq: p.seq ?? null, reason: p.error! };
    const e = p.entry;
    if (before && e.prev === before.hash && e.seq === before.seq + 1) {
      before = e;
      continue;
    }
    const notHeader = before ? undefined : headerProblem(e, file);
    const laterHas = (seq: number) => lines.slice(i + 1, last + 1).some((l) => parseLine(l).entry?.seq === seq);
    const problem = before ? linkProblem(e, i, before, laterHas) : notHeader && { line: 1, reason: notHeader };
    if (problem) return { file: name, line: problem.line, seq: seqAt(problem.line), reason: problem.reason };
    before = e;
  }
  return undefined;
}

/**
 * The warning for a header that records a head record the files do not hold (for Node-RED's
 * log); undefined for any other header.
 */
export function headMismatchWarning(header: AuditEntry): string | undefined {
  const m = header.details.headMismatch as Partial<HeadMismatch> | undefined;
  if (!m || typeof m !== 'object') return undefined;
  return headMismatchWords(m, `the log goes on in ${String(header.details.file)}, whose header records it`);
}

function headMismatchWords(m: Partial<HeadMismatch>, recorded: string): string {
  if (m.empty === true) {
    // Not "replaced": a power cut leaves the record so. It still cannot vouch for the files.
    return (
      `audit log: the head record of the last entry written was empty, as a power cut just after its rewrite can leave it ` +
      `(or it was emptied by hand): entries removed at the end of the log before this start cannot be told; ${recorded}`
    );
  }
  const said = typeof m.seq === 'number' ? `seq ${m.seq} (hash ${String(m.hash)}, in ${String(m.file)})` : 'nothing readable';
  const found = typeof m.found === 'string' ? `the files hold another entry at that seq (hash ${m.found})` : 'the files hold no entry at that seq';
  return (
    `audit log: the head record of the last entry written says ${said}, but ${found}: the audit files were replaced ` +
    `(or the head record was); ${recorded}. Never delete or edit audit files by hand`
  );
}

function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

function dayOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

function maxDay(a: string, b: string): string {
  return a > b ? a : b;
}

/**
 * Whether what follows `tail`'s whole line (and its newline) at the end of `text` is text that
 * something else appended while Vigie was stopped, rather than what a crash leaves. A crash
 * (or a write that failed halfway) leaves a part of the next entry's line: a start of
 * `{"v":…,"seq":<tail's + 1>,`, with no newline, since one line is appended at a time. A power
 * cut may leave zero bytes where the disk had not written yet. Anything else, such as a line
 * of an administrator's `echo`, is not the writer's.
 */
function textAppendedAfter(text: string, tail: AuditEntry): boolean {
  const end = `"hash":"${tail.hash}"}\n`;
  const at = text.indexOf(end);
  if (at < 0) return false;
  const rest = text.slice(at + end.length);
  if (rest === '' || rest.includes('\0')) return false;
  const nextStart = `{"v":${AUDIT_FORMAT_VERSION},"seq":${tail.seq + 1},`;
  return !(nextStart.startsWith(rest) || (rest.startsWith(nextStart) && !rest.includes('\n')));
}

/** Serialise an entry: the hash covers the body, and is appended as the last key. */
function serialise(body: Omit<AuditEntry, 'hash'>): { line: string; hash: string } {
  const json = JSON.stringify(body);
  const hash = sha256(json);
  return { line: `${json.slice(0, -1)},"hash":"${hash}"}`, hash };
}

/** Audit files of a directory, by name (by day, then number: the order they were opened in, unless the clock was set back; see orderAuditFiles). */
export function listAuditFiles(dir: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  return names.filter((n) => FILE_RE.test(n)).sort().map((n) => path.join(dir, n));
}

function linesOf(text: string): string[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** The lines of a file (the newline ending the last one is no line of its own). Throws when it cannot be read. */
export function readLines(file: string): string[] {
  return linesOf(fs.readFileSync(file, 'utf8'));
}

/**
 * Calls `visit` with the lines of a file from its start, reading it a few KB at a time, until
 * `visit` returns true (found what it looked for): only as much of the file is read as that
 * takes. Throws when the file cannot be read.
 */
function visitLinesFromStart(file: string, visit: (line: string) => boolean): void {
  const fd = fs.openSync(file, 'r');
  try {
    const chunk = Buffer.alloc(LINE_CHUNK_BYTES);
    let carry = Buffer.alloc(0);
    for (;;) {
      const n = fs.readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) {
        // The last line, without its newline (linesOf keeps it too).
        if (carry.length) visit(carry.toString('utf8'));
        return;
      }
      const data = carry.length ? Buffer.concat([carry, chunk.subarray(0, n)]) : chunk.subarray(0, n);
      let from = 0;
      for (let nl = data.indexOf(0x0a, from); nl >= 0; nl = data.indexOf(0x0a, from)) {
        if (visit(data.toString('utf8', from, nl))) return;
        from = nl + 1;
      }
      carry = Buffer.from(data.subarray(from));
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** Read at a time from a file's start (a header line is well under it) or end (an entry is short). */
const LINE_CHUNK_BYTES = 4096;

/** The first line of a file, without reading all of it; '' when empty or unreadable. */
function firstLineOf(file: string): string {
  let first = '';
  try {
    visitLinesFromStart(file, (line) => {
      first = line;
      return true;
    });
  } catch {
    return '';
  }
  return first;
}

/**
 * Audit files in the order of their chain, oldest first: by the seq of their first entry (the
 * header), which its hash protects. That is their name order, unless the clock was set back
 * (an older Vigie named a file by the day the clock read, which could sort before the file it
 * follows). A file without a whole first entry (left empty or cut by a crash, or edited) keeps
 * its place after the file its name follows, where verification looks at it.
 */
export function orderAuditFiles(files: string[]): string[] {
  const byName = [...files].sort((x, y) => path.basename(x).localeCompare(path.basename(y)));
  let key = 0;
  const keyed = byName.map((file, index) => {
    const first = parseLine(firstLineOf(file)).entry;
    key = first ? first.seq : key + 1e-6;
    return { file, index, key };
  });
  return keyed.sort((a, b) => a.key - b.key || a.index - b.index).map((k) => k.file);
}

export class AuditLog {
  readonly dir: string;
  private readonly retentionMs: number;
  /** As configured (0: everything kept), recorded in each header. */
  private readonly retentionDays: number;
  private readonly maxFileBytes: number;
  private readonly onFileOpen: ((header: AuditEntry) => void) | undefined;
  private readonly now: () => number;
  private readonly monotonicNow: () => number;
  private file: string | undefined;
  private fileDay = '';
  /** The latest day any audit file of the directory is named with: no new file is named with an earlier one. */
  private newestDay = '';
  /** Files this process wrote to (base names), with the monotonic time of its last write to each. */
  private readonly writtenHere = new Map<string, number>();
  private fileBytes = 0;
  private seq = 0;
  private prev = GENESIS_HASH;
  private opened = false;
  /** The newest file when open() found it ending cut (a crash), until the chain resumes. */
  private cutEnd: string | undefined;
  /** The file being written: its identity (a file put in its place is another), first seq and the hash its header links to. */
  private fileId: { dev: number; ino: number } | undefined;
  private fileFirstSeq: number | undefined;
  private fileLinksTo: string | undefined;
  /** The file the header of the file being written names as the one before it (null: none). */
  private filePrevious: string | null | undefined;
  /** The file being written vanished (or changed) under the writer, or files were lost while stopped, until the next file's header records it. */
  private vanished: VanishedFile | undefined;
  /** open() found the file it would go on in edited, until the next file's header records it. */
  private edited: EditedFile | undefined;
  /** Where the head record is kept (outside the directory). */
  private readonly headFile: string;
  /** open() found a head record the files do not hold, until the next file's header records it. */
  private headMismatch: HeadMismatch | undefined;
  private readonly onHeadFault: ((err: Error | undefined) => void) | undefined;
  /** Why the last write of the head record failed, until one succeeds. */
  private headFault: Error | undefined;
  /** The first entry whose head record could not be written, while it cannot. */
  private headFaultSinceSeq: number | undefined;
  /** What the log must say next of its own head record (it failed, or is written again): an entry after the event's. */
  private headNews: Record<string, unknown>[] = [];

  constructor(opts: AuditLogOptions) {
    this.dir = opts.dir;
    const days = opts.retentionDays ?? 90;
    this.retentionMs = days > 0 ? days * DAY_MS : 0;
    this.retentionDays = days > 0 ? days : 0;
    this.onFileOpen = opts.onFileOpen;
    this.maxFileBytes = Math.max(4096, opts.maxFileBytes ?? 10 * 1024 * 1024);
    this.now = opts.now ?? Date.now;
    this.monotonicNow = opts.monotonicNow ?? monotonicMs;
    this.headFile = opts.headFile ?? defaultHeadFile(opts.dir);
    this.onHeadFault = opts.onHeadFault;
  }

  /** Where the head record of the last entry written is kept. */
  get headRecordFile(): string {
    return this.headFile;
  }

  /** Why the head record could not be written at the last entry; undefined once it is written again. */
  get headRecordFault(): Error | undefined {
    return this.headFault;
  }

  /**
   * Finds where the chain stands (the last whole entry, in the newest file of the chain: the one
   * whose header has the highest seq, whatever its name). Safe to call again.
   * A newest file that does not end with a whole entry and its newline (a crash cut its last
   * line, or its header: it may even be empty) is left as it is: the chain resumes from the
   * last whole entry in a new file, which verifyAuditFiles accepts after such a cut end.
   */
  open(): void {
    if (this.opened) return;
    makeDirectory(this.dir);
    const files = orderAuditFiles(listAuditFiles(this.dir));
    for (const f of files) this.newestDay = maxDay(this.newestDay, FILE_RE.exec(path.basename(f))![1]);
    const last = files[files.length - 1];
    let lastText = '';
    let tail: AuditEntry | undefined;
    let tailFile: string | undefined;
    let tailLine = -1;
    let tailLines: string[] = [];
    // The newest file holds no whole entry when a crash cut its header: the tail is in the one before.
    // The tail is the entry with the highest seq (the first of equals): a copy of an entry
    // appended by hand after the writer's last one is text that is not the writer's, and taking
    // it as the tail would use the seqs after it again.
    for (let f = files.length - 1; f >= 0 && !tail; f--) {
      const text = fs.readFileSync(files[f], 'utf8');
      if (files[f] === last) lastText = text;
      const lines = linesOf(text);
      for (let i = 0; i < lines.length; i++) {
        try {
          const e = JSON.parse(lines[i]) as AuditEntry;
          if (typeof e.hash === 'string' && typeof e.seq === 'number' && (!tail || e.seq > tail.seq)) {
            tail = e;
            tailFile = files[f];
            tailLine = i;
            tailLines = lines;
          }
        } catch {
          /* a line cut by a crash: the chain resumes from the last whole entry, in a new file */
        }
      }
    }
    if (tail) {
      this.seq = tail.seq;
      this.prev = tail.hash;
    }
    // Whole: the tail is its last line, newline included (appending after a line without one would join them).
    if (tail && tailFile === last && tailLine === tailLines.length - 1 && lastText.endsWith(`"hash":"${tail.hash}"}\n`)) {
      this.file = last;
      this.fileDay = FILE_RE.exec(path.basename(last!))![1];
      const st = fs.statSync(last);
      this.fileBytes = st.size;
      this.fileId = { dev: st.dev, ino: st.ino };
      const header = parseLine(linesOf(lastText)[0] ?? '').entry;
      this.fileFirstSeq = header?.seq;
      this.fileLinksTo = header?.prev;
      this.filePrevious = header ? previousFileOf(header) : undefined;
    } else if (tail && tailFile === last && textAppendedAfter(lastText, tail)) {
      // Whole, and then text of something else's (see textAppendedAfter): no crash, nothing of
      // the chain lost. The next file's header records it, as when it is found while running.
      const header = parseLine(linesOf(lastText)[0] ?? '').entry;
      this.vanished = {
        file: path.basename(last),
        cause: 'changed-while-stopped',
        firstSeq: header?.seq,
        lastSeq: tail.seq,
        linkedTo: header?.prev,
        ...(header ? { previousFile: previousFileOf(header) } : {}),
        appended: true,
      };
    } else if (last) this.cutEnd = path.basename(last);
    // The entries the log goes on after, as written? One edited since (while stopped, or while
    // running without changing the file's size) is said now, not only when someone checks.
    if (tail && tailFile) {
      this.edited = firstEdited(tailLines, tailLine, tailFile);
      if (this.edited) {
        this.file = undefined;
        this.fileId = undefined;
      }
    }
    this.checkHead(files, tail, tailFile === undefined ? undefined : path.basename(tailFile));
    this.opened = true;
  }

  /**
   * Checks the files found against the head record of the last entry written. No record (a
   * fresh install, or the first start of a Vigie that kept none) changes nothing, nor does one
   * the files hold (or are ahead of: a crash between an entry and its record). When the files
   * end before it (the newest deleted while Vigie was stopped, or all of them), the log goes on
   * after it, in a new file whose header records the entries lost (VanishedFile): their seqs are
   * not reused, so a check can tell exactly which went. A record the files hold another entry
   * for (or none), or one that cannot be read, is recorded in a new file's header (headMismatch).
   * A newest file that ends cut and is the head's, cut in the head's own entry, is a crash as
   * before (the cut line shows). With whole entries gone after the cut one (the newest lines
   * removed and a cut line left, or a power cut that lost more than the last entry), the
   * entries after the last whole one are recorded as lost (shortened-while-stopped).
   */
  private checkHead(files: string[], tail: AuditEntry | undefined, tailFileName: string | undefined): void {
    let text: string;
    try {
      text = fs.readFileSync(this.headFile, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      text = '';
    }
    const head = parseHead(text);
    if (head && tail && head.seq <= tail.seq) {
      const found = head.seq === tail.seq ? tail.hash : hashAtSeq(files, head.seq);
      if (found === head.hash) return;
      // A head record left behind (its last rewrites lost to a crash) at the last entry of a loss
      // a later header records: the chain goes on from that very hash, nothing was replaced.
      if (found === undefined && lossEndsAt(files, head.seq, head.hash)) return;
      this.headMismatch = { file: head.file, seq: head.seq, hash: head.hash, found: found ?? null };
    } else if (head) {
      // A crash (or a power cut) that cut the end of the head's file, in its last entry: what it
      // did not write whole is the crash's, resumed from the last whole entry as ever (verify
      // notes the cut). Whole entries gone after the cut one are not a cut's: recorded below.
      if (this.cutEnd !== undefined && this.cutEnd === head.file && head.seq === (tail?.seq ?? 0) + 1) return;
      const kept = files.some((f) => path.basename(f) === head.file);
      this.vanished = {
        file: head.file,
        cause: kept ? 'shortened-while-stopped' : 'deleted-while-stopped',
        // From the entry after the last one found; with none found, as far as known: the head's file.
        firstSeq: tail ? tail.seq + 1 : (head.fileFirstSeq ?? undefined),
        lastSeq: head.seq,
        linkedTo: tail ? tail.hash : (head.fileLinksTo ?? undefined),
        // The file before the head's own; only it went when the files end in that one's predecessor.
        ...(head.filePrevious !== undefined && (!tail || (tailFileName !== undefined && tailFileName === head.filePrevious)) ? { previousFile: head.filePrevious } : {}),
      };
      this.seq = head.seq;
      this.prev = head.hash;
      // The new file's header records the loss; a cut end before it is part of what went.
      this.cutEnd = undefined;
    } else this.headMismatch = { file: null, seq: null, hash: null, found: null, ...(isEmptyRecord(text) ? { empty: true as const } : {}) };
    this.file = undefined;
    this.fileId = undefined;
  }

  /**
   * Rewrites the head record after an entry is written: small (about 250 bytes), replaced whole
   * (write, then rename), never flushed to the disk at once. Audit entries are rare (alerts,
   * moves, decisions: a few a minute at most), and each already costs a synchronous append, so a
   * second small write is affordable and keeps the record exact. A record that cannot be
   * written is left as it was: behind the files, which open() takes as no loss. The entry still
   * counts, but files deleted while stopped would go unseen at the next start: onHeadFault is
   * told once per fault, and once when the record is written again.
   */
  private writeHead(entry: AuditEntry, file: string, fileFirstSeq: number | undefined, fileLinksTo: string | undefined, filePrevious: string | null | undefined): void {
    const head: AuditHead = {
      v: AUDIT_FORMAT_VERSION,
      seq: entry.seq,
      hash: entry.hash,
      file: path.basename(file),
      time: entry.time,
      fileFirstSeq: fileFirstSeq ?? null,
      fileLinksTo: fileLinksTo ?? null,
      ...(filePrevious !== undefined ? { filePrevious } : {}),
    };
    try {
      writeFileAtomic(this.headFile, JSON.stringify(head) + '\n');
    } catch (err) {
      // Kept behind (see above); said once, not at every entry.
      const first = !this.headFault;
      this.headFault = err as Error;
      if (first) {
        this.headFaultSinceSeq = entry.seq;
        // In the log itself too: an inquiry reading it sees from which entry on a loss while
        // stopped could go unseen (the entries go on; the next one says so).
        this.headNews.push({ event: 'head-record-fault', headFile: this.headFile, sinceSeq: entry.seq, error: fileFaultText(err) });
        this.tellHeadFault(this.headFault);
      }
      return;
    }
    if (this.headFault) {
      this.headNews.push({ event: 'head-record-written-again', headFile: this.headFile, fromSeq: this.headFaultSinceSeq ?? null, toSeq: entry.seq - 1 });
      this.headFault = undefined;
      this.headFaultSinceSeq = undefined;
      this.tellHeadFault(undefined);
    }
  }

  /**
   * Writes what the log must say of its head record (headNews), after the entry whose record
   * failed or was written again. Best effort: the event's entry is written already; what cannot
   * be written now waits for the next entry.
   */
  private writeHeadNews(timeMs: number): void {
    // A few at most: a fault, and its end with the news' own entry.
    for (let i = 0; i < 3 && this.headNews.length; i++) {
      const news = this.headNews.shift()!;
      try {
        this.writeSystem(timeMs, news);
      } catch {
        this.headNews.unshift(news);
        return;
      }
    }
  }

  private tellHeadFault(err: Error | undefined): void {
    try {
      this.onHeadFault?.(err);
    } catch {
      /* telling it is a help, never a reason to fail the entry */
    }
  }

  /**
   * When the newest file ends cut (a crash), resumes the chain in a new file at once, with an
   * entry saying so, rather than at the next event: until then `vigie audit verify` reports the
   * cut end as a break, and a quiet control room may have no event for days. So too when open()
   * found entries lost while stopped, or a head record the files do not hold. Returns whether
   * it did.
   */
  resumeAfterCut(): boolean {
    this.open();
    const cutFile = this.cutEnd;
    if (this.file) return false;
    if (!cutFile) {
      // Entries lost while stopped, or a head record the files do not hold: recorded at once too.
      if (!this.vanished && !this.headMismatch && !this.edited) return false;
      this.rotateIfNeeded(this.now(), 0);
      return true;
    }
    this.append({ type: 'system', actor: 'vigie', details: { event: 'resumed-after-cut', cutFile } });
    this.cutEnd = undefined;
    return true;
  }

  /**
   * Warnings (for Node-RED's log) for what open() found and no header records yet: files lost
   * while stopped, a head record the files do not hold. Empty once recorded (the header's own
   * warnings say it then); not empty after a start on a full disk, until the disk takes it.
   */
  unrecordedLossWarnings(): string[] {
    const out: string[] = [];
    if (this.vanished) out.push(vanishedWords(this.vanished.file, this.vanished, NOT_RECORDED_YET));
    if (this.headMismatch) out.push(headMismatchWords(this.headMismatch, NOT_RECORDED_YET));
    if (this.edited) out.push(editedWords(this.edited, NOT_RECORDED_YET));
    return out;
  }

  get currentFile(): string | undefined {
    return this.file;
  }

  get lastHash(): string {
    return this.prev;
  }

  get lastSeq(): number {
    return this.seq;
  }

  /** Appends one entry (synchronously: entries are rare and their order is the point). */
  append(ev: AuditInput, atMs?: number): AuditEntry {
    this.open();
    // `atMs`: the time its caller already read (a snapshot's folder day and its entry's file must agree).
    const timeMs = atMs ?? this.now();
    const details = (stripSampleLike(ev.details ?? {}) as Record<string, unknown>) ?? {};
    const body: Omit<AuditEntry, 'hash'> = {
      v: AUDIT_FORMAT_VERSION,
      seq: this.seq + 1,
      time: new Date(timeMs).toISOString(),
      type: ev.type,
      actor: String(ev.actor ?? 'unknown').slice(0, 200),
      ...(ev.alertId ? { alertId: String(ev.alertId).slice(0, 200) } : {}),
      details: { ...(ev.time !== undefined && Math.abs(ev.time - timeMs) > 1000 ? { eventTime: new Date(ev.time).toISOString() } : {}), ...details },
      prev: this.prev,
    };
    const line = serialise(body).line;
    this.noticeFileVanished();
    this.rotateIfNeeded(timeMs, Buffer.byteLength(line) + 1);
    const entry = this.write({ ...body, seq: this.seq + 1, prev: this.prev });
    this.writeHeadNews(timeMs);
    return entry;
  }

  private write(body: Omit<AuditEntry, 'hash'>): AuditEntry {
    const { line, hash } = serialise(body);
    const file = this.file!;
    const bytes = Buffer.byteLength(line) + 1;
    // A header starts its file: the head record names the file's first seq and link from it.
    const header = this.fileBytes === 0;
    const fileFirstSeq = header ? body.seq : this.fileFirstSeq;
    const fileLinksTo = header ? body.prev : this.fileLinksTo;
    const filePrevious = header ? previousFileOf(body) : this.filePrevious;
    // Written by this process (even a part of a line): its retention counts from now, monotonic.
    this.writtenHere.set(path.basename(file), this.monotonicNow());
    try {
      fs.appendFileSync(file, line + '\n', { mode: KEPT_FILE_MODE });
    } catch (err) {
      if (!this.whollyWritten(file, bytes)) throw err;
      // The line is all there (the error came after it, e.g. closing the file): it counts.
    }
    this.fileBytes += bytes;
    this.seq = body.seq;
    this.prev = hash;
    this.writeHead({ ...body, hash }, file, fileFirstSeq, fileLinksTo, filePrevious);
    return { ...body, hash };
  }

  /**
   * After a write of `bytes` to `file` failed (disk full, I/O error): whether the whole line is
   * there all the same. When only part of it is (the disk filled up during the write), the file
   * now ends with a cut line, as after a crash: the chain resumes from the last whole entry in a
   * new file, rather than appending after the cut line (which would join the two into one
   * unreadable line in the middle of a file). A new file still without its header starts again.
   */
  private whollyWritten(file: string, bytes: number): boolean {
    let size: number | undefined;
    try {
      size = fs.statSync(file).size;
    } catch {
      // not there (its directory went away): nothing of the line was written
    }
    if (size === this.fileBytes + bytes) return true;
    if (size === this.fileBytes + bytes - 1) {
      // The whole entry, all but its newline: it counts (as open() takes it after a restart),
      // and the next one starts a new file rather than joining this line.
      this.file = undefined;
      return true;
    }
    if (size === undefined || size === this.fileBytes) {
      if (this.fileBytes === 0) {
        // The header of a new file failed: the next write starts a file again, with a header.
        // Left empty (created, then nothing written), it is removed rather than left behind at
        // every retry; if it cannot be, the next file names it and the check accepts it.
        if (size === 0) {
          try {
            fs.rmSync(file, { force: true });
          } catch {
            /* left: the next file names it as its previous one */
          }
        }
        this.file = undefined;
      }
      return false;
    }
    this.file = undefined;
    return false;
  }

  /**
   * The day a file opened at `timeMs` is named with: that day, or the latest day a file of the
   * log is named with when the clock reads earlier (it was set back, as NTP does to a fast
   * clock): a file named with an earlier day would sort before the file it follows.
   */
  private fileDayFor(timeMs: number): string {
    return maxDay(dayOf(timeMs), this.newestDay);
  }

  private rotateIfNeeded(timeMs: number, bytes: number): void {
    const day = this.fileDayFor(timeMs);
    if (this.file && this.fileDay === day && this.fileBytes + bytes <= this.maxFileBytes) return;
    const vanished = this.vanished;
    const headMismatch = this.headMismatch;
    const edited = this.edited;
    const previousFile = this.file ? path.basename(this.file) : (vanished?.file ?? orderAuditFiles(listAuditFiles(this.dir)).pop() ?? null);
    // Never the name of the file that vanished: the new one is another file, and says so.
    const next = this.nextFileName(day, vanished?.file);
    this.file = next;
    this.fileDay = day;
    this.newestDay = day;
    this.fileBytes = 0;
    const removed = this.prune(timeMs, next);
    const header = this.write({
      v: AUDIT_FORMAT_VERSION,
      seq: this.seq + 1,
      time: new Date(timeMs).toISOString(),
      type: 'system',
      actor: 'vigie',
      details: {
        event: 'file-open',
        file: path.basename(next),
        previousFile: previousFile ? path.basename(previousFile) : null,
        // The retention in force (days, 0: everything kept): one cut short shows in the log.
        retentionDays: this.retentionDays,
        ...(removed.length ? { removedByRetention: removed } : {}),
        // The previous file vanished under the writer: which entries it held, and the hash its
        // header linked to, so that verification can tell exactly what went (see verifyChain).
        // With the file before it, when known: a start of the log there is explained by the loss
        // and, before it, by retention (verifyChain).
        ...(vanished
          ? { vanished: { cause: vanished.cause, firstSeq: vanished.firstSeq ?? null, lastSeq: vanished.lastSeq, linkedTo: vanished.linkedTo ?? null, ...(vanished.previousFile !== undefined ? { previousFile: vanished.previousFile } : {}), ...(vanished.appended ? { appended: true } : {}) } }
          : {}),
        // The head record of the last entry written matched nothing in the files (see checkHead).
        ...(headMismatch ? { headMismatch } : {}),
        // An entry of the file the log went on after was not as written (see firstEdited).
        ...(edited ? { edited } : {}),
      },
      prev: this.prev,
    });
    this.fileFirstSeq = header.seq;
    this.fileLinksTo = header.prev;
    this.filePrevious = previousFileOf(header);
    try {
      const st = fs.statSync(next);
      this.fileId = { dev: st.dev, ino: st.ino };
    } catch {
      this.fileId = undefined;
    }
    if (vanished) {
      this.vanished = undefined;
      // Said in the log too, as resumed-after-cut is: an inquiry reading entries sees it.
      this.writeSystem(timeMs, { event: 'file-vanished', file: vanished.file, cause: vanished.cause, firstSeq: vanished.firstSeq ?? null, lastSeq: vanished.lastSeq, ...(vanished.appended ? { appended: true } : {}) });
    }
    if (headMismatch) {
      this.headMismatch = undefined;
      this.writeSystem(timeMs, { event: 'head-mismatch', ...headMismatch });
    }
    if (edited) {
      this.edited = undefined;
      this.writeSystem(timeMs, { event: 'file-edited', ...edited });
    }
    try {
      this.onFileOpen?.(header);
    } catch {
      /* telling it elsewhere is a help, never a reason to fail the entry */
    }
  }

  /**
   * The file being written was deleted by hand (its directory still there), replaced by another
   * file, or written to by something else (its size is not what was written) while the log ran:
   * appending to its path would start a file without a header, or join lines to foreign ones.
   * The chain goes on in a new file whose header records it (VanishedFile). A directory that is
   * gone as a whole (a disk unmounted) is no such case: the write fails and is retried.
   */
  private noticeFileVanished(): void {
    if (!this.file) return;
    let cause: VanishedFile['cause'] | undefined;
    let appended = false;
    try {
      const st = fs.statSync(this.file);
      if (this.fileId && (st.ino !== this.fileId.ino || st.dev !== this.fileId.dev)) cause = 'replaced';
      else if (st.size !== this.fileBytes) {
        cause = 'changed';
        appended = st.size > this.fileBytes && this.endsWithLastEntry(this.file);
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && fs.existsSync(this.dir)) cause = 'deleted';
    }
    if (!cause) return;
    this.vanished = { file: path.basename(this.file), cause, firstSeq: this.fileFirstSeq, lastSeq: this.seq, linkedTo: this.fileLinksTo, previousFile: this.filePrevious, ...(appended ? { appended: true as const } : {}) };
    this.file = undefined;
    this.fileId = undefined;
  }

  /**
   * Whether the bytes Vigie wrote to `file` still end, where it stopped writing, with its last
   * entry's hash and newline: then what makes the file longer was appended after it (the cheap
   * look of one read; vigie audit verify checks every line).
   */
  private endsWithLastEntry(file: string): boolean {
    const tail = Buffer.from(`"hash":"${this.prev}"}\n`);
    if (this.fileBytes < tail.length) return false;
    let fd: number | undefined;
    try {
      fd = fs.openSync(file, 'r');
      const got = Buffer.alloc(tail.length);
      const n = fs.readSync(fd, got, 0, tail.length, this.fileBytes - tail.length);
      return n === tail.length && got.equals(tail);
    } catch {
      return false;
    } finally {
      if (fd !== undefined) fs.closeSync(fd);
    }
  }

  /** A system entry of Vigie's own, next in the chain, written at once (not through the backlog). */
  private writeSystem(timeMs: number, details: Record<string, unknown>): void {
    this.write({ v: AUDIT_FORMAT_VERSION, seq: this.seq + 1, time: new Date(timeMs).toISOString(), type: 'system', actor: 'vigie', details, prev: this.prev });
  }

  private nextFileName(day: string, after?: string): string {
    let n = 1;
    for (const f of [...listAuditFiles(this.dir), ...(after ? [after] : [])]) {
      const m = FILE_RE.exec(path.basename(f));
      if (m && m[1] === day) n = Math.max(n, Number(m[2]) + 1);
    }
    return path.join(this.dir, `audit-${day}-${String(n).padStart(3, '0')}.jsonl`);
  }

  /**
   * Whether a snapshot of this alert is kept already, on any day still kept (written by this
   * process or an earlier one): a console started again does not take a second picture of an
   * alert it had kept one for.
   */
  hasSnapshot(alertId: string): boolean {
    const root = path.join(this.dir, SNAPSHOT_DIR);
    let days: string[];
    try {
      days = fs.readdirSync(root);
    } catch {
      return false;
    }
    const name = `${safeName(alertId)}.jpg`;
    return days.some((d) => fs.existsSync(path.join(root, d, name)));
  }

  /**
   * Keeps an alert's camera snapshot (a JPEG, nothing else) in `snapshots/YYYY-MM-DD/` beside
   * the log and appends a `snapshot` entry with its SHA-256, so an edited picture is detected
   * like an edited line. Snapshots follow the same retention as the log.
   */
  saveSnapshot(alertId: string, jpeg: Buffer, actor: string, details: Record<string, unknown> = {}): AuditEntry {
    if (!isJpeg(jpeg)) throw new Error('snapshot: expected a JPEG image');
    if (jpeg.length > MAX_SNAPSHOT_BYTES) throw new Error(`snapshot: expected at most ${MAX_SNAPSHOT_BYTES} bytes, got ${jpeg.length}`);
    this.open();
    // The day of the file its entry goes to, so the picture goes with that file at retention: one
    // reading of the clock for both (UTC midnight may pass while the picture is written).
    const timeMs = this.now();
    const day = this.fileDayFor(timeMs);
    const dir = path.join(this.dir, SNAPSHOT_DIR, day);
    makeDirectory(dir);
    // A kept picture is evidence: never replaced (another alert whose id cleans to the same name,
    // or a second picture of one alert), the next one is written beside it.
    let name = `${safeName(alertId)}.jpg`;
    for (let n = 2; fs.existsSync(path.join(dir, name)); n++) name = `${safeName(alertId)}-${n}.jpg`;
    const file = path.join(dir, name);
    writeFileAtomic(file, jpeg);
    try {
      return this.append({
        type: 'snapshot',
        actor,
        alertId,
        details: { ...details, file: `${SNAPSHOT_DIR}/${day}/${name}`, bytes: jpeg.length, sha256: createHash('sha256').update(jpeg).digest('hex') },
      }, timeMs);
    } catch (err) {
      // A picture no entry vouches for is not evidence, and would push the next try to "-2.jpg".
      fs.rmSync(file, { force: true });
      throw err;
    }
  }

  /**
   * Removes the oldest whole files (and snapshot days) past the retention period, in chain
   * order, and stops at the first file that is not: the chain left starts where a file was
   * removed, never with a hole in it. A file's age is judged honestly, whatever the clock did:
   *
   * - a file this process wrote is as old as the time since it last wrote to it, on the
   *   monotonic clock: the first entry after an NTP step that moved the clock from 1970 (or
   *   from the last shutdown) to today does not make the files before it decades old;
   * - another file is as old as its last entry's time says (the wall clock), when that time is
   *   plausible; when it is not (before 2023: written before the clock was set), as old as the
   *   first plausible time written after it in the chain (its entries came before that), and
   *   when there is none, it is kept.
   *
   * A snapshot day goes with the audit files of its day (its entries are in them): when none
   * of them is left, and the day is past the retention period or was the day of a file removed
   * now.
   */
  private prune(nowMs: number, keep: string): string[] {
    if (!this.retentionMs) return [];
    const removed: string[] = [];
    const files = orderAuditFiles(listAuditFiles(this.dir)).filter((f) => f !== keep);
    // Read lazily, and only the ends of a file that the rule looks at: this runs inside an
    // append (a camera move, a decision), and the loop stops at the first file not old enough.
    const lastTimes = new Map<number, number | undefined>();
    const lastTime = (i: number): number | undefined => {
      if (!lastTimes.has(i)) lastTimes.set(i, lastEntryTimeOf(files[i]));
      return lastTimes.get(i);
    };
    const firstPlausibleTimes = new Map<number, number | undefined>();
    // The first plausible time written after file i (in the files after it).
    const laterPlausible = (i: number): number | undefined => {
      for (let j = i + 1; j < files.length; j++) {
        if (!firstPlausibleTimes.has(j)) firstPlausibleTimes.set(j, firstPlausibleTimeOf(files[j]));
        const t = firstPlausibleTimes.get(j);
        if (t !== undefined) return t;
      }
      return undefined;
    };
    const oldByWallClock = (i: number): boolean => {
      const lastMs = lastTime(i);
      if (lastMs === undefined) return false;
      const bound = isPlausibleWallTime(lastMs) ? lastMs : laterPlausible(i);
      return bound !== undefined && nowMs - bound > this.retentionMs;
    };
    const removedDays = new Set<string>();
    for (let i = 0; i < files.length; i++) {
      const name = path.basename(files[i]);
      const lastWriteMono = this.writtenHere.get(name);
      const old = lastWriteMono !== undefined ? this.monotonicNow() - lastWriteMono > this.retentionMs : oldByWallClock(i);
      if (!old) break;
      try {
        fs.rmSync(files[i], { force: true });
      } catch {
        break;
      }
      this.writtenHere.delete(name);
      removed.push(name);
      removedDays.add(FILE_RE.exec(name)![1]);
    }
    const keptDays = new Set([keep, ...files.filter((f) => !removed.includes(path.basename(f)))].map((f) => FILE_RE.exec(path.basename(f))![1]));
    const oldestDay = dayOf(nowMs - this.retentionMs);
    try {
      for (const d of fs.readdirSync(path.join(this.dir, SNAPSHOT_DIR))) {
        if (!/^\d{4}-\d{2}-\d{2}$/.test(d) || keptDays.has(d)) continue;
        if (removedDays.has(d) || d < oldestDay) {
          fs.rmSync(path.join(this.dir, SNAPSHOT_DIR, d), { recursive: true, force: true });
          removed.push(`${SNAPSHOT_DIR}/${d}/`);
        }
      }
    } catch {
      /* no snapshots yet */
    }
    return removed;
  }
}

/**
 * The head record in `file` (see AuditLog's headFile), for `vigie audit verify`: undefined when
 * there is none, 'empty' when it holds nothing (see HeadMismatch's `empty`), 'unreadable' when
 * it cannot be parsed.
 */
export function readHeadRecord(file: string): AuditHead | 'empty' | 'unreadable' | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? undefined : 'unreadable';
  }
  return parseHead(text) ?? (isEmptyRecord(text) ? 'empty' : 'unreadable');
}

/** Nothing but zero bytes and white space: a record whose data a power cut lost, not one rewritten. */
function isEmptyRecord(text: string): boolean {
  return /^[\0\s]*$/.test(text);
}

/** A head record as written by AuditLog; undefined when the text is not one. */
function parseHead(text: string): AuditHead | undefined {
  let h: Partial<AuditHead>;
  try {
    h = JSON.parse(text) as Partial<AuditHead>;
  } catch {
    return undefined;
  }
  if (!h || typeof h !== 'object' || !Number.isSafeInteger(h.seq) || h.seq! < 1 || typeof h.hash !== 'string' || !/^[0-9a-f]{64}$/.test(h.hash)) return undefined;
  if (typeof h.file !== 'string' || !FILE_RE.test(h.file)) return undefined;
  return {
    v: Number(h.v),
    seq: h.seq!,
    hash: h.hash,
    file: h.file,
    time: String(h.time),
    fileFirstSeq: typeof h.fileFirstSeq === 'number' ? h.fileFirstSeq : null,
    fileLinksTo: typeof h.fileLinksTo === 'string' ? h.fileLinksTo : null,
    ...(typeof h.filePrevious === 'string' || h.filePrevious === null ? { filePrevious: h.filePrevious } : {}),
  };
}

/** Whether a header among `files` records a loss (vanished) whose last entry is `seq`, the chain going on from `hash`. */
function lossEndsAt(files: string[], seq: number, hash: string): boolean {
  return files.some((f) => {
    const header = parseLine(firstLineOf(f)).entry;
    const loss = header && vanishedRecordOf(header);
    return !!loss && loss.lastSeq === seq && header.prev === hash;
  });
}

/** The hash of the entry `seq` among `files` (in chain order), read from the one file whose header starts at or before it. */
function hashAtSeq(files: string[], seq: number): string | undefined {
  for (let f = files.length - 1; f >= 0; f--) {
    const header = parseLine(firstLineOf(files[f])).entry;
    if (!header || header.seq > seq) continue;
    let found: string | undefined;
    try {
      visitLinesFromStart(files[f], (line) => {
        const e = parseLine(line).entry;
        if (e?.seq === seq) found = e.hash;
        return found !== undefined || (e !== undefined && e.seq > seq);
      });
    } catch {
      return undefined;
    }
    return found;
  }
  return undefined;
}

function entryTimeOf(line: string): number {
  try {
    return Date.parse((JSON.parse(line) as AuditEntry).time) || NaN;
  } catch {
    return NaN;
  }
}

/**
 * The time retention judges a file by: its last whole entry's (the file's modification time
 * when none is whole). Read from the end, a few KB at a time, only as far back as that entry.
 * Undefined when the file cannot be read.
 */
function lastEntryTimeOf(file: string): number | undefined {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return undefined;
  }
  try {
    const size = fs.fstatSync(fd).size;
    for (let span = LINE_CHUNK_BYTES; ; span *= 4) {
      const start = Math.max(0, size - span);
      const buf = Buffer.alloc(size - start);
      for (let got = 0; got < buf.length; ) {
        const n = fs.readSync(fd, buf, got, buf.length - got, start + got);
        if (n === 0) break;
        got += n;
      }
      const lines = linesOf(buf.toString('utf8'));
      // Bytes before the first newline of a window that does not start the file may be part of a line.
      const firstWhole = start > 0 ? 1 : 0;
      for (let i = lines.length - 1; i >= firstWhole; i--) {
        const t = entryTimeOf(lines[i]);
        if (!Number.isNaN(t)) return t;
      }
      if (start === 0) break;
    }
    return fs.fstatSync(fd).mtimeMs;
  } catch {
    return undefined;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * The first plausible time among a file's entries (its header's, usually), read from its start
 * only as far as that entry; undefined when there is none, or the file cannot be read.
 */
function firstPlausibleTimeOf(file: string): number | undefined {
  let found: number | undefined;
  try {
    visitLinesFromStart(file, (line) => {
      const t = entryTimeOf(line);
      if (isPlausibleWallTime(t)) found = t;
      return found !== undefined;
    });
  } catch {
    return undefined;
  }
  return found;
}

// ---------------------------------------------------------------------------------------
// Verification

export interface AuditBreak {
  file: string;
  /** 1-based line number in `file`. */
  line: number;
  reason: string;
  /**
   * A Vigie start found this break (an entry edited while it was stopped) and went on in a new
   * file, whose header records it: that file (a base name), and the check of the chain from it
   * on (its header links to the last entry written before the edit, which the edit leaves
   * unproven, so that part is checked on its own, as a log whose older files are not given).
   */
  recordedIn?: string;
  after?: { ok: boolean; entries: number; lastSeq?: number; break?: AuditBreak };
}

/**
 * The end of a file cut by a crash (or by a write that failed halfway): its last line is not
 * whole, or the file is empty (cut before its header), and the writer resumed the chain in the
 * next file from the last whole entry before it. Nothing of the chain is lost: the cut line was
 * never a whole entry, since the next file does not link to it.
 */
export interface AuditCut {
  file: string;
  /** 1-based line number of the cut line; 0 when the file is empty. */
  line: number;
  /** The file whose header resumes the chain from the last whole entry before the cut. */
  resumedIn: string;
}

export interface AuditVerifyResult {
  ok: boolean;
  files: number;
  entries: number;
  firstSeq?: number;
  lastSeq?: number;
  lastHash?: string;
  /** The time of the last entry (ISO 8601, as written). */
  lastTime?: string;
  /** True when the first file links to an earlier file (removed by retention, or not given) rather than to the genesis. */
  anchored: boolean;
  /**
   * When anchored and no header of the chain given records the removal by retention of the file
   * before the first one (nor did retention remove it during the check): the files before
   * `file` are missing and the log does not say why (deleted otherwise, or not given).
   * `previousFile` is the file its header names as the one before it.
   */
  unrecordedStart?: { file: string; previousFile: string | null };
  /** Where the retention recorded in the headers changed (days; 0 keeps everything): from `fromDays` to `toDays` at `file`'s header. */
  retentionChanges: { file: string; fromDays: number; toDays: number }[];
  /**
   * Where the writer could not keep its head record (head-record-fault entries, and the
   * written-again entries that end them): from `fromSeq`, to `toSeq` (undefined: not written
   * again by the last entry given), and why. A loss while stopped after those entries could not
   * have been seen at a start.
   */
  headGaps: { fromSeq: number; toSeq?: number; error: string }[];
  /** The retention recorded in the last header that records one (days); undefined for a log from before headers recorded it. */
  retentionDays?: number;
  /** Each hash expected (`expect`), and whether the chain holds it. */
  expected: ExpectedHashResult[];
  /** Ends of files cut by a crash after which the log resumes, in file order (verified, not a break). */
  cuts: AuditCut[];
  /** Text appended after the last entry of a file by something else, as the next header records (verified, not a break). */
  appended: AuditAppended[];
  /** Files whose name sorts before that of the file they follow in the chain (the clock was set back when they were opened). */
  namedBefore: { file: string; follows: string }[];
  /**
   * Files given that retention removed while the check ran (the oldest of the chain, each gone
   * with every file before it): the check goes on from the first file after them, anchored.
   */
  removedDuringCheck: string[];
  /**
   * Files that vanished while the log was written (deleted by hand, replaced, or changed), as
   * the header of the file after each records them: the entries `firstSeq`…`lastSeq` they held
   * are not in the chain given when `missing` (the chain goes on from the hash before them, as
   * recorded), or are when the file is there after all (`missing` false).
   */
  vanished: AuditVanished[];
  break?: AuditBreak;
}

export interface AuditVanished {
  /** The file that vanished (base name). */
  file: string;
  cause: string;
  firstSeq?: number;
  lastSeq?: number;
  /** The file whose header records it. */
  recordedIn: string;
  /** Its entries are not in the chain given. */
  missing: boolean;
  /** The writer found text appended after its last entry (cause `changed`). */
  appended?: true;
}

/**
 * Lines at the end of a file that are no entries, after its last entry, in a file the next
 * header records as changed while Vigie wrote it (text appended by something else), and whose
 * chain that header goes on from: said as what it is, not as a crash's cut line.
 */
export interface AuditAppended {
  file: string;
  /** 1-based number of the first line that is not an entry, and how many lines follow from it. */
  line: number;
  lines: number;
  /** The seq of the last entry before them. */
  afterSeq: number | undefined;
  /** The file whose header records the change and goes on from that entry. */
  recordedIn: string;
  /** Found at a start (cause `changed-while-stopped`): appended while Vigie was stopped, not while it wrote the file. */
  whileStopped?: true;
}

/** An entry's hash kept elsewhere earlier (a ticket, an email), with its seq when known. */
export interface ExpectedHash {
  seq?: number;
  hash: string;
}

export interface ExpectedHashResult extends ExpectedHash {
  found: boolean;
  /** When not found and `seq` was given: the hash the chain holds at that seq (another: rewritten), if it is among the files given. */
  hashAtSeq?: string;
}

export interface AuditVerifyOptions {
  /** Hashes of entries kept elsewhere: each must be in the chain (at its seq, when given). */
  expect?: ExpectedHash[];
}

/**
 * `[SEQ:]HASH` as given to `vigie audit verify --expect-hash`; undefined when it is not one (a
 * hash is 64 hexadecimal digits, a seq a whole number from 1).
 */
export function parseExpectedHash(text: string): ExpectedHash | undefined {
  const m = /^(?:(\d+):)?([0-9a-fA-F]{64})$/.exec(text.trim());
  if (!m) return undefined;
  const seq = m[1] === undefined ? undefined : Number(m[1]);
  if (seq !== undefined && (!Number.isSafeInteger(seq) || seq < 1)) return undefined;
  return { ...(seq !== undefined ? { seq } : {}), hash: m[2].toLowerCase() };
}

interface ParsedLine {
  /** A whole entry, as written (its hash matches). */
  entry?: AuditEntry;
  error?: string;
  /** The seq the line names, whole entry or not (an edited entry still names its seq). */
  seq?: number;
  /** Not JSON at all: what a line cut short looks like (an edit can look the same). */
  cut?: boolean;
}

function parseLine(line: string): ParsedLine {
  let entry: AuditEntry;
  try {
    entry = JSON.parse(line) as AuditEntry;
  } catch {
    return { error: 'not a JSON entry (edited or cut)', cut: true };
  }
  if (typeof entry !== 'object' || entry === null) return { error: 'not an audit entry (missing seq, prev or hash)' };
  const seq = typeof entry.seq === 'number' ? { seq: entry.seq } : {};
  if (typeof entry.hash !== 'string' || typeof entry.seq !== 'number' || typeof entry.prev !== 'string') {
    return { error: 'not an audit entry (missing seq, prev or hash)', ...seq };
  }
  const suffix = `,"hash":"${entry.hash}"}`;
  if (!line.endsWith(suffix)) return { error: 'edited: the hash is not the last field as written', ...seq };
  const body = line.slice(0, -suffix.length) + '}';
  if (sha256(body) !== entry.hash) return { error: 'edited: the content does not match its hash', ...seq };
  return { entry, ...seq };
}

/** Adds what a head-record-fault or head-record-written-again entry says to `gaps`. */
function noteHeadGap(gaps: AuditVerifyResult['headGaps'], e: AuditEntry): void {
  const d = e.details;
  const open = gaps[gaps.length - 1];
  if (d.event === 'head-record-fault' && typeof d.sinceSeq === 'number' && !(open && open.toSeq === undefined)) {
    gaps.push({ fromSeq: d.sinceSeq, error: typeof d.error === 'string' ? d.error : 'unknown' });
  } else if (d.event === 'head-record-written-again' && typeof d.toSeq === 'number') {
    if (open && open.toSeq === undefined) open.toSeq = d.toSeq;
    else if (typeof d.fromSeq === 'number') gaps.push({ fromSeq: d.fromSeq, toSeq: d.toSeq, error: 'unknown' });
  }
}

/** The record of a vanished previous file in a header (see AuditLog's VanishedFile), if any. */
function vanishedRecordOf(header: AuditEntry): { file: string; cause: string; firstSeq?: number; lastSeq: number; linkedTo?: string; previousFile?: string | null; appended?: true } | undefined {
  const v = header.details.vanished;
  const file = header.details.previousFile;
  if (!v || typeof v !== 'object' || typeof file !== 'string') return undefined;
  const r = v as Record<string, unknown>;
  if (typeof r.lastSeq !== 'number') return undefined;
  return {
    file,
    cause: typeof r.cause === 'string' ? r.cause : 'vanished',
    lastSeq: r.lastSeq,
    ...(typeof r.firstSeq === 'number' ? { firstSeq: r.firstSeq } : {}),
    ...(typeof r.linkedTo === 'string' ? { linkedTo: r.linkedTo } : {}),
    ...(typeof r.previousFile === 'string' || r.previousFile === null ? { previousFile: r.previousFile } : {}),
    ...(r.appended === true ? { appended: true as const } : {}),
  };
}

/**
 * The file after `file` when its header records `file` as changed (text appended by something
 * else, while Vigie wrote it or while it was stopped: `whileStopped`) and goes on from its last
 * entry (`prevHash`, `prevSeq`): what is after that entry is not the chain's. Undefined otherwise.
 */
function changeRecordedIn(file: string, next: string | undefined, prevHash: string | undefined, prevSeq: number | undefined): { recordedIn: string; whileStopped: boolean } | undefined {
  if (next === undefined || prevHash === undefined || prevSeq === undefined) return undefined;
  let first: string | undefined;
  try {
    first = readLines(next)[0];
  } catch {
    return undefined;
  }
  const h = first === undefined ? undefined : parseLine(first).entry;
  if (!h || h.type !== 'system' || h.details?.event !== 'file-open' || h.details.previousFile !== path.basename(file)) return undefined;
  const v = vanishedRecordOf(h);
  if (!v || (v.cause !== 'changed' && v.cause !== 'changed-while-stopped') || v.lastSeq !== prevSeq || h.prev !== prevHash || h.seq !== prevSeq + 1) return undefined;
  return { recordedIn: next, whileStopped: v.cause === 'changed-while-stopped' };
}

/** The file a header names as the one before its own (null: none); undefined for a line that is no header. */
function previousFileOf(header: { type?: string; details?: Record<string, unknown> }): string | null | undefined {
  if (header.type !== 'system' || header.details?.event !== 'file-open') return undefined;
  return typeof header.details.previousFile === 'string' ? header.details.previousFile : null;
}

/**
 * Whether `next` resumes the chain after the cut end of `cutFile`, as the writer does after a
 * crash (AuditLog.open) or a failed write: its first line is a whole header naming `cutFile` as
 * the previous file and linking to the last whole entry before the cut (`prevHash`, `prevSeq`;
 * the genesis when there is none). Undefined when it does, else why not.
 */
function whyNotResumed(cutFile: string, next: string | undefined, prevHash: string | undefined, prevSeq: number | undefined): string | undefined {
  if (next === undefined) return 'no later file resumes the chain from the entry before it (Vigie starts one at its next audit entry)';
  const nextName = path.basename(next);
  let nextLines: string[];
  try {
    nextLines = readLines(next);
  } catch (err) {
    return `the next file, ${nextName}, cannot be read: ${(err as Error).message}`;
  }
  // The next file holds nothing whole either (its header cut too, or not written: a second
  // failed write, or a crash as the writer resumed): it is checked in its turn, against the
  // file after it, which must resume from the same last whole entry.
  if (nextLines.length === 0 || (nextLines.length === 1 && parseLine(nextLines[0]).cut)) return undefined;
  const first = nextLines[0];
  const h = first === undefined ? undefined : parseLine(first).entry;
  // The files after the cut one deleted while Vigie was stopped: the next header records the
  // entries lost from the one after the last whole entry on (verifyChain checks the rest).
  const lost = h && h.type === 'system' && h.details?.event === 'file-open' ? vanishedRecordOf(h) : undefined;
  if (lost && lost.firstSeq === (prevSeq ?? 0) + 1 && lost.linkedTo === (prevHash ?? GENESIS_HASH)) return undefined;
  if (!h || h.type !== 'system' || h.details?.event !== 'file-open' || h.details.previousFile !== path.basename(cutFile)) {
    return `the next file, ${nextName}, does not start with a header naming ${path.basename(cutFile)} as its previous file`;
  }
  if (h.prev !== (prevHash ?? GENESIS_HASH) || h.seq !== (prevSeq ?? 0) + 1) {
    return `the next file, ${nextName}, does not resume the chain from the entry before it (${prevSeq === undefined ? 'the genesis' : `seq ${prevSeq}`})`;
  }
  return undefined;
}

/**
 * Checks the chain across `files`, taken in the order of their chain (orderAuditFiles: by
 * their headers' seq, which their hashes protect, not by their names), and says exactly where
 * it breaks: an edited line, a removed line, lines out of order, a missing file between two,
 * or a file whose header is gone. A file that follows, in the chain, one whose name sorts after
 * its own (opened by an older Vigie after the clock was set back) is no break, and is told in
 * `namedBefore`.
 *
 * One exception, what a crash (or a write that failed halfway) leaves: the last line of a file
 * cut short, or a file left empty, when the next file resumes the chain from the last whole
 * entry before it and names the cut file as its previous one. That is reported in `cuts` and
 * the check goes on. Anything else stays a break: a cut line followed by other lines, a cut end
 * the next file does not resume from (an entry was there), and a cut end of the last file given
 * (nothing shows yet that no whole entry was lost there).
 *
 * A chain that starts after earlier files (`anchored`) is no break: retention removes the oldest
 * files, and one may give only a part of the log. But when no header of the chain given records
 * the removal of the file before the first one, `unrecordedStart` says so: the caller decides
 * whether that is a break (the whole log was given) or not (a part of it).
 *
 * `opts.expect`: hashes kept elsewhere earlier; `expected` says whether each is still in the
 * chain. An intact chain whose whole was rewritten (hashes recomputed) verifies, but no longer
 * holds the hashes kept before the rewrite.
 */
export function verifyAuditFiles(given: string[], opts: AuditVerifyOptions = {}): AuditVerifyResult {
  const files = orderAuditFiles(given);
  const gone = (f: string): boolean => !fs.existsSync(f);
  // Retention may remove the oldest files while the check runs (a rotation of the running
  // log): a break found in a file that is gone now, with every file before it in the chain, is
  // in files retention removed. The check then starts again after them, as it would if it were
  // run now; a file missing after one that is still there stays a break.
  for (let start = 0; ; ) {
    const removedDuringCheck = files.slice(0, start);
    const res = verifyChain(files.slice(start), opts, new Set(removedDuringCheck.map((f) => path.basename(f))));
    if (res.ok) return { ...res, removedDuringCheck };
    const at = files.indexOf(res.break!.file, start);
    if (at < 0 || !files.slice(0, at + 1).every(gone)) return { ...res, break: withStartRecord(res.break!, files.slice(at + 1), opts), removedDuringCheck };
    start = at + 1;
    if (start === files.length) {
      const reason = `removed during the check, as was every file before it (retention, as the log rotated): no file given is left to verify`;
      return { ...res, break: { file: res.break!.file, line: 0, reason }, removedDuringCheck: files };
    }
  }
}

/**
 * `brk` with the file of `later` whose header records it as found at a start (an `edited`
 * record naming its file and line), and the check of the chain from that file on; `brk` as it
 * is when no file records it.
 */
function withStartRecord(brk: AuditBreak, later: string[], opts: AuditVerifyOptions): AuditBreak {
  const at = later.findIndex((f) => {
    const edited = parseLine(firstLineOf(f)).entry?.details.edited as Partial<EditedFile> | undefined;
    return edited?.file === path.basename(brk.file) && edited.line === brk.line;
  });
  if (at < 0) return brk;
  const after = verifyChain(later.slice(at), opts, new Set());
  return {
    ...brk,
    recordedIn: path.basename(later[at]),
    after: { ok: after.ok, entries: after.entries, ...(after.lastSeq !== undefined ? { lastSeq: after.lastSeq } : {}), ...(after.break ? { break: after.break } : {}) },
  };
}

/**
 * verifyAuditFiles over files already in the order of their chain; `removedBefore`: base names
 * of files retention removed while the check ran (their removal is recorded by a file not given).
 */
function verifyChain(files: string[], opts: AuditVerifyOptions, removedBefore: Set<string>): AuditVerifyResult {
  const expected: ExpectedHashResult[] = (opts.expect ?? []).map((x) => ({ ...x, hash: x.hash.toLowerCase(), found: false }));
  const res: AuditVerifyResult = { ok: true, files: files.length, entries: 0, anchored: false, cuts: [], appended: [], namedBefore: [], removedDuringCheck: [], retentionChanges: [], headGaps: [], vanished: [], expected };
  /** Files the headers record as removed by retention (base names). */
  const recordedRemoved = new Set(removedBefore);
  let firstHeader: { file: string; previousFile: string | null } | undefined;
  /** A loss recorded by the first file given, which the chain starts after: the file lost, and the one before it. */
  let lossAtStart: { file: string; previousFile?: string | null } | undefined;
  let lastTime: string | undefined;
  for (let i = 1; i < files.length; i++) {
    if (path.basename(files[i]) < path.basename(files[i - 1])) res.namedBefore.push({ file: files[i], follows: files[i - 1] });
  }
  let prevHash: string | undefined;
  let prevSeq: number | undefined;
  let prevFileName: string | undefined;
  const fail = (file: string, line: number, reason: string): AuditVerifyResult => ({ ...res, ok: false, break: { file, line, reason } });

  for (let fileIndex = 0; fileIndex < files.length; fileIndex++) {
    const file = files[fileIndex];
    let lines: string[];
    try {
      lines = readLines(file);
    } catch (err) {
      return fail(file, 0, `cannot read: ${(err as Error).message}`);
    }
    if (lines.length === 0) {
      // Created, then a crash before its header was written.
      const why = whyNotResumed(file, files[fileIndex + 1], prevHash, prevSeq);
      if (why) return fail(file, 0, `empty file (an audit file always starts with its header), and ${why}`);
      res.cuts.push({ file, line: 0, resumedIn: files[fileIndex + 1] });
      prevFileName = path.basename(file);
      continue;
    }
    const parsed = lines.map(parseLine);
    for (let i = 0; i < lines.length; i++) {
      const p = parsed[i];
      if (!p.entry) {
        // Text appended by something else after the last entry, which the next header records
        // and goes on from: no entry of the chain is in it (any entry-like line is a break).
        const changed = parsed.slice(i).every((q) => !q.entry) ? changeRecordedIn(file, files[fileIndex + 1], prevHash, prevSeq) : undefined;
        if (changed) {
          res.appended.push({ file, line: i + 1, lines: lines.length - i, afterSeq: prevSeq, recordedIn: changed.recordedIn, ...(changed.whileStopped ? { whileStopped: true as const } : {}) });
          break;
        }
        if (p.cut && i === lines.length - 1) {
          const why = whyNotResumed(file, files[fileIndex + 1], prevHash, prevSeq);
          if (why) return fail(file, i + 1, `not a JSON entry (edited, or cut by a crash), and ${why}`);
          res.cuts.push({ file, line: i + 1, resumedIn: files[fileIndex + 1] });
          break;
        }
        return fail(file, i + 1, p.error!);
      }
      const e = p.entry;
      if (i === 0) {
        const notHeader = headerProblem(e, file);
        if (notHeader) return fail(file, 1, notHeader);
        const vanished = vanishedRecordOf(e);
        if (vanished) {
          // Missing exactly as recorded: the chain before it ends with the hash the vanished
          // file's header linked to (or nothing is given before it), and this header follows
          // its last entry. Anything else is a break as any other.
          const fromStart = prevHash === undefined;
          const explained =
            vanished.firstSeq !== undefined &&
            vanished.linkedTo !== undefined &&
            e.seq === vanished.lastSeq + 1 &&
            (fromStart ? true : prevHash === vanished.linkedTo && prevSeq === vanished.firstSeq - 1);
          const intact = !fromStart && e.prev === prevHash;
          if (intact || explained) {
            res.vanished.push({ file: vanished.file, cause: vanished.cause, firstSeq: vanished.firstSeq, lastSeq: vanished.lastSeq, recordedIn: file, missing: !intact, ...(vanished.appended ? { appended: true as const } : {}) });
            if (!intact && !fromStart) prevHash = e.prev;
            if (fromStart && vanished.linkedTo === GENESIS_HASH && vanished.firstSeq === 1) recordedRemoved.add(vanished.file);
            if (fromStart && !intact) lossAtStart = { file: vanished.file, previousFile: vanished.previousFile };
          }
        }
        if (prevHash === undefined) {
          if (e.prev === GENESIS_HASH) {
            if (e.seq !== 1) return fail(file, 1, `the log starts at the genesis but with seq ${e.seq} instead of 1`);
          } else {
            res.anchored = true; // earlier files were removed by retention, or not given
          }
          res.firstSeq = e.seq;
          const previous = e.details.previousFile;
          firstHeader = { file, previousFile: typeof previous === 'string' ? previous : null };
        } else if (e.prev !== prevHash) {
          return fail(
            file,
            1,
            `does not follow ${prevFileName}: ` +
              (e.seq > prevSeq! + 1
                ? `${e.seq - prevSeq! - 1} entr${e.seq - prevSeq! - 1 === 1 ? 'y is' : 'ies are'} missing between them (lines removed at the end of ${prevFileName}, or a file missing)`
                : 'its header links to another chain'),
          );
        }
        const removedHere = e.details.removedByRetention;
        if (Array.isArray(removedHere)) for (const r of removedHere) if (typeof r === 'string') recordedRemoved.add(r);
        const days = e.details.retentionDays;
        if (typeof days === 'number') {
          if (res.retentionDays !== undefined && days !== res.retentionDays) res.retentionChanges.push({ file, fromDays: res.retentionDays, toDays: days });
          res.retentionDays = days;
        }
      } else {
        // The line above was an entry of the chain (prevHash, prevSeq are its).
        const problem = linkProblem(e, i, parsed[i - 1].entry!, (seq) => parsed.slice(i + 1).some((q) => q.entry?.seq === seq));
        if (problem) return fail(file, problem.line, problem.reason);
      }
      if (e.type === 'snapshot' && typeof e.details?.file === 'string' && typeof e.details.sha256 === 'string') {
        const pic = path.join(path.dirname(file), e.details.file);
        // The picture is written before its entry, and goes only with the last audit file of its
        // day (retention): one missing beside a file that records it was removed.
        if (!fs.existsSync(pic)) {
          return fail(file, i + 1, `snapshot ${e.details.file} is missing (removed, or the log was copied without its snapshots folder)`);
        }
        if (createHash('sha256').update(fs.readFileSync(pic)).digest('hex') !== e.details.sha256) {
          return fail(file, i + 1, `snapshot ${e.details.file} was changed (its SHA-256 differs from the one recorded)`);
        }
      }
      for (const x of expected) {
        if (x.found) continue;
        if (x.seq === undefined ? x.hash === e.hash : x.seq === e.seq) {
          if (x.hash === e.hash) x.found = true;
          else x.hashAtSeq = e.hash;
        }
      }
      if (e.type === 'system') noteHeadGap(res.headGaps, e);
      prevHash = e.hash;
      prevSeq = e.seq;
      lastTime = e.time;
      res.entries++;
    }
    prevFileName = path.basename(file);
  }
  res.lastSeq = prevSeq;
  res.lastHash = prevHash;
  res.lastTime = lastTime;
  // The file before the first one given is missing: told apart when no header records its removal.
  // A start after a recorded loss is explained when the file before the lost one is none, or
  // was removed by retention (a header records it, maybe a later one): the loss is said apart.
  const lossExplains = (name: string): boolean =>
    lossAtStart !== undefined && lossAtStart.file === name && lossAtStart.previousFile !== undefined && (lossAtStart.previousFile === null || recordedRemoved.has(lossAtStart.previousFile));
  if (res.anchored && firstHeader && !(firstHeader.previousFile && (recordedRemoved.has(firstHeader.previousFile) || lossExplains(firstHeader.previousFile)))) res.unrecordedStart = firstHeader;
  return res;
}

// ---------------------------------------------------------------------------------------
// One writer per directory, shared by every node that uses it, fed by the audit bus.

interface Shared {
  log: AuditLog;
  users: number;
  unsubscribe: () => void;
  errors: Set<(err: Error) => void>;
  recovered: Set<() => void>;
  /** Told each new file's header (a value to keep elsewhere). */
  fileOpened: Set<(header: AuditEntry) => void>;
  /** Told when the head record cannot be written (the error), and when it is again (undefined). */
  headFaulted: Set<(err: Error | undefined) => void>;
  /** Events not written yet (a write failed), oldest first; written in order once the disk takes them. */
  backlog: AuditInput[];
  /** Events dropped because the backlog was full, told in the log once it writes again. */
  dropped: number;
  retry: NodeJS.Timeout | undefined;
  backoff: Backoff;
  /** The failure the retry is for. */
  lastError?: Error;
}
const shared = new Map<string, Shared>();
/**
 * Events still waiting when the last user of a directory let go (a redeploy during a disk
 * fault closes the old nodes before the new ones open it): handed to the next opener.
 */
const leftBehind = new Map<string, { backlog: AuditInput[]; dropped: number }>();

/**
 * Events kept in memory while the audit log cannot be written (disk full, directory gone):
 * an audited move or decision must not vanish for a passing fault, but memory stays bounded.
 */
export const AUDIT_BACKLOG_MAX = 10_000;

/** A snapshot refused because earlier events still wait to be written: try again once they are. */
export class AuditWaitingError extends Error {
  readonly waiting: number;
  /** Why the log cannot write now (its last write error). */
  readonly fault: Error | undefined;
  constructor(waiting: number, fault: Error | undefined) {
    super(`the audit log is waiting to write ${waiting} earlier event${waiting === 1 ? '' : 's'}${fault ? ` (${fileFaultText(fault)})` : ''}`);
    this.name = 'AuditWaitingError';
    this.waiting = waiting;
    this.fault = fault;
  }
}

export interface AuditLogHandle {
  log: AuditLog;
  /** Appends directly (the bus also feeds the log); undefined when the event waits in the backlog. */
  append(ev: AuditInput): AuditEntry | undefined;
  /**
   * Keeps an alert's snapshot (AuditLog.saveSnapshot) in the log's order: while earlier events
   * wait to be written it throws AuditWaitingError and writes nothing, so its entry never lands
   * before them. A picture is too big to wait in the backlog: the caller keeps it and tries again.
   */
  saveSnapshot(alertId: string, jpeg: Buffer, actor: string, details?: Record<string, unknown>): AuditEntry;
  /** Events waiting to be written after a write failure. */
  readonly backlog: number;
  release(): void;
}

/** Writes `ev`, or queues it behind events that wait (a write failed), so the log keeps their order. */
function writeInOrder(s: Shared, ev: AuditInput): AuditEntry | undefined {
  // Stamped now: written later, the entry still says when it happened.
  const stamped = (): AuditInput => ({ ...ev, time: ev.time ?? Date.now() });
  if (!s.backlog.length && !s.retry) {
    try {
      return s.log.append(ev);
    } catch (err) {
      s.backlog.push(stamped());
      failed(s, err as Error);
      return undefined;
    }
  }
  s.backlog.push(stamped());
  if (s.backlog.length > AUDIT_BACKLOG_MAX) {
    s.backlog.shift();
    s.dropped++;
  }
  return undefined;
}

function flush(s: Shared): void {
  try {
    // A directory that could not be made at deploy is tried again here. One that went later is
    // not made again: on an unmounted disk that would write the log where the disk is mounted.
    s.log.open();
    // What the start found and could not record (a loss, a cut: the disk full then) is recorded
    // now, before the events that waited, not left for the next event.
    s.log.resumeAfterCut();
    if (s.dropped) {
      s.log.append({ type: 'system', actor: 'vigie', details: { event: 'audit-backlog-overflow', dropped: s.dropped } });
      s.dropped = 0;
    }
    while (s.backlog.length) {
      s.log.append(s.backlog[0]);
      s.backlog.shift();
    }
  } catch (err) {
    failed(s, err as Error);
    return;
  }
  if (s.retry) {
    clearTimeout(s.retry);
    s.retry = undefined;
    s.backoff.reset();
    for (const fn of s.recovered) fn();
  }
}

function failed(s: Shared, err: Error): void {
  s.lastError = err;
  for (const fn of s.errors) fn(err);
  if (s.retry) clearTimeout(s.retry);
  s.retry = setTimeout(() => flush(s), s.backoff.next());
  s.retry.unref?.();
}

/**
 * Opens (or joins) the audit log of `dir` and subscribes it to `auditBus` once, whatever the
 * number of nodes using it. Write failures are reported to `onError` and never thrown into
 * the publisher; the events wait in a bounded backlog, retried with back-off, and
 * `onRecovered` is called once they are written. `onFileOpen` is told each new file's header.
 * `onHeadFault` is told when the head record cannot be written (AuditLogOptions.onHeadFault),
 * and when it is written again; a user joining while it fails hears of it at once.
 */
export function openSharedAuditLog(
  opts: AuditLogOptions,
  onError: (err: Error) => void = () => undefined,
  onRecovered: () => void = () => undefined,
  onFileOpen: (header: AuditEntry) => void = () => undefined,
  onHeadFault: (err: Error | undefined) => void = () => undefined,
): AuditLogHandle {
  const key = path.resolve(opts.dir);
  let s = shared.get(key);
  let openError: Error | undefined;
  const created = !s;
  if (!s) {
    const fileOpened = new Set<(header: AuditEntry) => void>();
    const headFaulted = new Set<(err: Error | undefined) => void>();
    const log = new AuditLog({ ...opts, dir: key, onFileOpen: (h) => fileOpened.forEach((fn) => fn(h)), onHeadFault: (err) => headFaulted.forEach((fn) => fn(err)) });
    try {
      log.open();
    } catch (err) {
      openError = err as Error;
    }
    const waiting = leftBehind.get(key);
    leftBehind.delete(key);
    const entry: Shared = { log, users: 0, unsubscribe: () => undefined, errors: new Set(), recovered: new Set(), fileOpened, headFaulted, backlog: waiting?.backlog ?? [], dropped: waiting?.dropped ?? 0, retry: undefined, backoff: new Backoff({ initialMs: 250, maxMs: 30_000 }) };
    entry.unsubscribe = auditBus.subscribe((ev) => writeInOrder(entry, ev));
    s = entry;
    shared.set(key, s);
  }
  const entry = s;
  entry.users++;
  entry.errors.add(onError);
  entry.recovered.add(onRecovered);
  entry.fileOpened.add(onFileOpen);
  entry.headFaulted.add(onHeadFault);
  if (!created && entry.log.headRecordFault) onHeadFault(entry.log.headRecordFault);
  if (created && !openError) {
    // Once the first user listens: the header of a log resumed now (after a cut, or entries
    // lost while stopped) is told to it (Node-RED's log warns of a loss).
    try {
      entry.log.resumeAfterCut();
    } catch (err) {
      openError = err as Error;
    }
    // What an earlier user left waiting is written first (a failure is retried as any other, and told).
    if (!openError && entry.backlog.length) flush(entry);
  }
  // Not openable now (a directory not mounted yet): said, and retried like a failed write; a
  // node joining a failing log hears of it at once.
  if (openError) failed(entry, openError);
  else if (!created && entry.retry && entry.lastError) onError(entry.lastError);
  let released = false;
  return {
    log: entry.log,
    append(ev) {
      return writeInOrder(entry, ev);
    },
    saveSnapshot(alertId, jpeg, actor, details) {
      if (entry.backlog.length || entry.retry) throw new AuditWaitingError(entry.backlog.length, entry.lastError);
      return entry.log.saveSnapshot(alertId, jpeg, actor, details);
    },
    get backlog() {
      return entry.backlog.length;
    },
    release() {
      if (released) return;
      released = true;
      entry.errors.delete(onError);
      entry.recovered.delete(onRecovered);
      entry.fileOpened.delete(onFileOpen);
      entry.headFaulted.delete(onHeadFault);
      entry.users--;
      if (entry.users <= 0) {
        entry.unsubscribe();
        // A last attempt for what waits; the retry timer must not outlive the last user.
        if (entry.retry) clearTimeout(entry.retry);
        entry.retry = undefined;
        if (entry.backlog.length) flush(entry);
        if (entry.retry) clearTimeout(entry.retry);
        // Still not written: kept for whoever opens this directory next, never dropped here.
        if (entry.backlog.length || entry.dropped) leftBehind.set(key, { backlog: entry.backlog, dropped: entry.dropped });
        shared.delete(key);
      }
    },
  };
}
