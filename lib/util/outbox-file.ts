/**
 * The file of the vigie-outbox node: what waits for the broker, kept across restarts in the
 * Node-RED user directory. Knows nothing of Node-RED: it reads and writes kept messages (the
 * fields the mqtt out publishes) and leaves warnings to the caller.
 *
 * The file is a journal in JSON Lines, so that a change costs what changed, not the whole queue
 * (bench/outbox.ts: 17 MB a change at 10 000 waiting alerts when it was rewritten whole):
 *
 *   {"vigieOutbox":"journal","version":2}                       the first line
 *   {"seq":0,"keptAtMs":1795000000000,"item":{"topic":…,"payload":…}}   a message kept
 *   {"done":5,"gone":[7,9]}                                      removals (sent or dropped)
 *   {"replace":3,"item":{"topic":…,"payload":…}}                 a later copy of message 3
 *
 * Lines are read in order: a message line adds a message, a removal line removes the messages
 * read so far whose seq is below `done` and those listed in `gone` (either may be missing), a
 * replacement gives message `replace` a later copy of itself, in its place and with its keptAtMs
 * (the outbox keeps only the latest copy of an alert: lib/util/outbox.ts). Version 1 (no
 * replacements) is still read.
 * Seqs grow down the file and the file's order is the queue's. New messages are appended at
 * the end; when the dead part (removed messages, removal lines) is more than half the file and
 * more than COMPACT_MIN_DEAD_BYTES, or when something must go in front of what is in the file,
 * the file is rewritten whole (compacted) with only what waits, through a temporary file
 * renamed over it (atomic-file.ts). The caller also compacts at start and at close.
 *
 * A power cut during an append may leave the last line cut short: reading ignores it and says
 * so (not the first line: the file is created whole, by a rename). The format of earlier versions (one JSON list of {item, keptAtMs}) is still read, so that
 * messages waiting across an upgrade are kept; the next compaction writes the journal.
 */
import * as fs from 'fs';
import { KEPT_FILE_MODE, writeFileAtomic } from './atomic-file';
import type { Kept } from './outbox';

/** A message as the mqtt out takes it (a Node-RED message, seen as a plain object). */
export type MqttMessage = Record<string, unknown>;

/** The journal's first line. */
export const JOURNAL_HEADER = { vigieOutbox: 'journal', version: 2 } as const;
/** Journal versions this one reads: 1 has no replacement lines. */
const READ_VERSIONS: readonly number[] = [1, 2];
const HEADER_LINE = `${JSON.stringify(JOURNAL_HEADER)}\n`;

/** The file is compacted only once its dead part is also more than this (small files are left be). */
export const COMPACT_MIN_DEAD_BYTES = 64 * 1024;

/** The parts of a message the mqtt out uses: what is written to the file and read back. */
export function storable(o: MqttMessage): Record<string, unknown> {
  const out: Record<string, unknown> = { payload: o.payload };
  for (const k of ['topic', 'qos', 'retain', 'contentType', 'responseTopic', 'correlationData', 'userProperties', 'messageExpiryInterval']) {
    if (o[k] !== undefined) out[k] = o[k];
  }
  return out;
}

/** A message read back from the file: Buffers (JSON's {type:'Buffer', data}) are Buffers again. */
export function revived(o: Record<string, unknown>): MqttMessage {
  const buf = (v: unknown) => (v && typeof v === 'object' && (v as { type?: unknown }).type === 'Buffer' && Array.isArray((v as { data?: unknown }).data) ? Buffer.from((v as { data: number[] }).data) : v);
  return { ...o, payload: buf(o.payload), ...(o.correlationData !== undefined ? { correlationData: buf(o.correlationData) } : {}) } as MqttMessage;
}

export interface KeptFile {
  /** The messages the file holds, oldest first, with when they were kept. */
  entries: Array<Kept<MqttMessage>>;
  /** 'list': the format of earlier versions (one JSON list), to be rewritten as a journal. */
  format: 'journal' | 'list';
  /** Set when the last line was cut short (a power cut while it was written) and ignored: says what was found. */
  torn?: string;
}

function keptOf(e: unknown, where: string): Kept<MqttMessage> {
  const k = e as { item?: unknown; keptAtMs?: unknown };
  if (!k || typeof k !== 'object' || !k.item || typeof k.item !== 'object' || typeof k.keptAtMs !== 'number') throw new Error(`${where}: expected {item, keptAtMs}`);
  return { item: revived(k.item as Record<string, unknown>), keptAtMs: k.keptAtMs };
}

/** Reads what an earlier run kept; throws ENOENT when there is no file, a readable error for a file it cannot use. */
export function readKeptFile(file: string): KeptFile {
  const text = fs.readFileSync(file, 'utf8');
  if (text.trimStart().startsWith('[')) {
    const data = JSON.parse(text) as unknown;
    if (!Array.isArray(data)) throw new Error('expected a list of kept messages');
    return { entries: data.map((e, i) => keptOf(e, `entry ${i}`)), format: 'list' };
  }
  if (text === '') throw new Error('the file is empty');
  const lines = text.split('\n');
  // What follows the last newline: nothing, or a line an append did not finish (kept if it is
  // whole all the same: only its newline was lost). Never the first line: the file is created
  // whole by a rename, so a first line that does not read is no journal.
  const last = lines.pop() as string;
  let torn: string | undefined;
  if (last !== '') {
    let whole = lines.length === 0;
    try {
      JSON.parse(last);
      whole = true;
    } catch {
      /* told below */
    }
    if (whole) lines.push(last);
    else torn = `its last line (line ${lines.length + 1}, ${Buffer.byteLength(last)} bytes) is cut short`;
  }
  const parse = (line: string, n: number): Record<string, unknown> => {
    let o: unknown;
    try {
      o = JSON.parse(line);
    } catch (err) {
      throw new Error(`line ${n}: not JSON (${(err as Error).message})`);
    }
    if (!o || typeof o !== 'object' || Array.isArray(o)) throw new Error(`line ${n}: expected an object`);
    return o as Record<string, unknown>;
  };
  const head = parse(lines[0], 1);
  if (head.vigieOutbox !== JOURNAL_HEADER.vigieOutbox) throw new Error(`line 1: expected the outbox journal's first line ${HEADER_LINE.trim()}`);
  if (!READ_VERSIONS.includes(head.version as number)) throw new Error(`line 1: journal version ${JSON.stringify(head.version)}, this version reads ${READ_VERSIONS.join(' and ')}`);
  // By seq, in the file's order (seqs grow down the file).
  const held = new Map<number, Kept<MqttMessage>>();
  let lastSeq = -Infinity;
  for (let i = 1; i < lines.length; i++) {
    const n = i + 1;
    const o = parse(lines[i], n);
    if ('seq' in o) {
      if (!Number.isInteger(o.seq) || (o.seq as number) <= lastSeq) throw new Error(`line ${n}: seq: expected an integer above ${lastSeq}, got ${JSON.stringify(o.seq)}`);
      lastSeq = o.seq as number;
      held.set(lastSeq, keptOf(o, `line ${n}`));
    } else if ('done' in o || 'gone' in o) {
      if (o.done !== undefined) {
        if (!Number.isInteger(o.done)) throw new Error(`line ${n}: done: expected an integer, got ${JSON.stringify(o.done)}`);
        for (const seq of held.keys()) {
          if (seq >= (o.done as number)) break;
          held.delete(seq);
        }
      }
      if (o.gone !== undefined) {
        if (!Array.isArray(o.gone) || !o.gone.every((s) => Number.isInteger(s))) throw new Error(`line ${n}: gone: expected a list of integers`);
        for (const seq of o.gone as number[]) held.delete(seq);
      }
    } else if ('replace' in o) {
      const was = Number.isInteger(o.replace) ? held.get(o.replace as number) : undefined;
      if (!was) throw new Error(`line ${n}: replace: expected the seq of a message still held, got ${JSON.stringify(o.replace)}`);
      if (!o.item || typeof o.item !== 'object') throw new Error(`line ${n}: expected {replace, item}`);
      held.set(o.replace as number, { item: revived(o.item as Record<string, unknown>), keptAtMs: was.keptAtMs });
    } else throw new Error(`line ${n}: expected a message {seq, keptAtMs, item}, a removal {done, gone} or a replacement {replace, item}`);
  }
  return { entries: [...held.values()], format: 'journal', torn };
}

interface InFile {
  seq: number;
  bytes: number;
  replacedCopies: number;
}

/** A message left out of the file: JSON cannot hold it (a BigInt, a circular object). */
export interface LeftOut {
  entry: Kept<MqttMessage>;
  reason: string;
}

/**
 * Keeps the journal in step with an Outbox's entries(). Knows what it wrote by the Kept objects
 * themselves (an Outbox hands out the same objects while they wait), so the caller only passes
 * what waits now. Every write is synchronous; none waits for the disk but a durable compaction.
 */
export class OutboxJournal {
  /**
   * Messages in the file, in its order, with their seq, the bytes of their last line, and their
   * replacedCopies when it was written (a change means a later copy to write).
   */
  private inFile = new Map<Kept<MqttMessage>, InFile>();
  private nextSeq = 0;
  /** Size of the file, and the part of it that holds messages still waiting. */
  private fileBytes = 0;
  private liveBytes = 0;
  /**
   * Whether the file is known to be what this object wrote (or known to be absent when nothing
   * is in it). Not at first, nor after a failed write: the next write then compacts.
   */
  private known = false;
  /** Entries JSON cannot hold, already told: never tried again. */
  private readonly unstorable = new WeakSet<Kept<MqttMessage>>();
  /** Bytes handed to the file system so far (appends and compactions). */
  bytesWritten = 0;
  compactions = 0;

  constructor(
    readonly file: string,
    private readonly compactMinDeadBytes = COMPACT_MIN_DEAD_BYTES,
  ) {}

  /** Whether the file may hold messages (then an empty outbox has a file to remove). */
  get onDisk(): boolean {
    return !this.known || this.inFile.size > 0;
  }

  /** Reads the file (see readKeptFile). When there is none, the journal knows it starts empty. */
  read(): KeptFile {
    try {
      return readKeptFile(this.file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        this.inFile.clear();
        this.fileBytes = this.liveBytes = 0;
        this.known = true;
      }
      throw err;
    }
  }

  /**
   * Brings the file in step with `entries` (oldest first): appends the messages not yet in it
   * and one line for those gone, or compacts when that is due. Returns the messages newly found
   * that JSON cannot hold (left out of the file, each told once). Throws when the file system
   * fails (the next call then compacts).
   */
  sync(entries: ReadonlyArray<Kept<MqttMessage>>): LeftOut[] {
    if (!this.known) return this.compact(entries);
    const live = new Set(entries);
    const removed: number[] = [];
    let removedBytes = 0;
    let firstRemaining: number | undefined;
    for (const [k, r] of this.inFile) {
      if (!live.has(k)) {
        removed.push(r.seq);
        removedBytes += r.bytes;
      } else firstRemaining ??= r.seq;
    }
    // Nothing of the file waits any more: a fresh file (or none) costs only what waits now.
    if (firstRemaining === undefined) return this.compact(entries);
    const added: Array<{ entry: Kept<MqttMessage>; line: string }> = [];
    /** Messages of the file that took a later copy: one replacement line each. */
    const replaced: Array<{ r: InFile; line: string; replacedCopies: number }> = [];
    const left: LeftOut[] = [];
    for (const e of entries) {
      const r = this.inFile.get(e);
      if (r) {
        // Something not in the file goes in front of something that is: the file's order would be wrong.
        if (added.length) return [...left, ...this.compact(entries)];
        if ((e.replacedCopies ?? 0) !== r.replacedCopies) {
          const line = this.replacementLineOf(e, r.seq);
          // JSON cannot hold the later copy: the file is rewritten without it (told once, like any).
          if (line === undefined) return [...left, ...this.compact(entries)];
          replaced.push({ r, line, replacedCopies: e.replacedCopies ?? 0 });
        }
        continue;
      }
      if (this.unstorable.has(e)) continue;
      const line = this.lineOf(e, this.nextSeq + added.length, left);
      if (line !== undefined) added.push({ entry: e, line });
    }
    if (!removed.length && !added.length && !replaced.length) return left;
    let text = '';
    if (removed.length) {
      const below = removed.filter((s) => s < firstRemaining!);
      const gone = removed.filter((s) => s > firstRemaining!);
      text += `${JSON.stringify({ ...(below.length ? { done: firstRemaining } : {}), ...(gone.length ? { gone } : {}) })}\n`;
    }
    // A replacement's line is what holds the message now; its earlier line is dead.
    let replacedBytes = 0;
    let replacingBytes = 0;
    for (const x of replaced) {
      text += x.line;
      replacedBytes += x.r.bytes;
      replacingBytes += Buffer.byteLength(x.line);
    }
    const beforeAdded = Buffer.byteLength(text);
    for (const a of added) text += a.line;
    const textBytes = Buffer.byteLength(text);
    const addedBytes = textBytes - beforeAdded;
    const fileBytes = this.fileBytes + textBytes;
    const liveBytes = this.liveBytes - removedBytes - replacedBytes + replacingBytes + addedBytes;
    const dead = fileBytes - liveBytes;
    if (dead > this.compactMinDeadBytes && dead * 2 > fileBytes) return [...left, ...this.compact(entries)];
    this.append(text);
    for (const k of this.inFile.keys()) {
      if (!live.has(k)) this.inFile.delete(k);
    }
    for (const x of replaced) {
      x.r.bytes = Buffer.byteLength(x.line);
      x.r.replacedCopies = x.replacedCopies;
    }
    for (const a of added) this.inFile.set(a.entry, { seq: this.nextSeq++, bytes: Buffer.byteLength(a.line), replacedCopies: a.entry.replacedCopies ?? 0 });
    this.fileBytes = fileBytes;
    this.liveBytes = liveBytes;
    return left;
  }

  /**
   * Rewrites the file whole with `entries` (atomically), or removes it when none can be kept.
   * `durable` (at close) also waits for the disk. Returns what was newly left out (see sync).
   */
  compact(entries: ReadonlyArray<Kept<MqttMessage>>, opts: { durable?: boolean } = {}): LeftOut[] {
    const left: LeftOut[] = [];
    const lines: string[] = [];
    const inFile = new Map<Kept<MqttMessage>, InFile>();
    let liveBytes = 0;
    for (const e of entries) {
      if (this.unstorable.has(e)) continue;
      const line = this.lineOf(e, inFile.size, left);
      if (line === undefined) continue;
      const bytes = Buffer.byteLength(line);
      inFile.set(e, { seq: inFile.size, bytes, replacedCopies: e.replacedCopies ?? 0 });
      liveBytes += bytes;
      lines.push(line);
    }
    this.known = false;
    if (!lines.length) {
      fs.rmSync(this.file, { force: true });
      this.fileBytes = 0;
    } else {
      const text = HEADER_LINE + lines.join('');
      writeFileAtomic(this.file, text, opts);
      this.fileBytes = Buffer.byteLength(text);
      this.bytesWritten += this.fileBytes;
      this.compactions++;
    }
    this.known = true;
    this.inFile = inFile;
    this.nextSeq = inFile.size;
    this.liveBytes = liveBytes;
    return left;
  }

  /** One message's line, or undefined when JSON cannot hold it (then told in `left`, once). */
  private lineOf(e: Kept<MqttMessage>, seq: number, left: LeftOut[]): string | undefined {
    try {
      return `${JSON.stringify({ seq, keptAtMs: e.keptAtMs, item: storable(e.item) })}\n`;
    } catch (err) {
      this.unstorable.add(e);
      left.push({ entry: e, reason: (err as Error).message });
      return undefined;
    }
  }

  /** The line giving message `seq` the later copy `e` now holds, or undefined when JSON cannot hold it (then told in `left` by the compaction that follows). */
  private replacementLineOf(e: Kept<MqttMessage>, seq: number): string | undefined {
    try {
      return `${JSON.stringify({ replace: seq, item: storable(e.item) })}\n`;
    } catch {
      return undefined;
    }
  }

  /** Appends to the file, which must be there (a file deleted meanwhile is not recreated without its first line). */
  private append(text: string): void {
    let fd: number | undefined;
    try {
      fd = fs.openSync(this.file, fs.constants.O_WRONLY | fs.constants.O_APPEND, KEPT_FILE_MODE);
      fs.writeFileSync(fd, text);
      this.bytesWritten += Buffer.byteLength(text);
    } catch (err) {
      // What reached the file is unknown (a line cut short, maybe): the next write compacts.
      this.known = false;
      throw err;
    } finally {
      if (fd !== undefined) fs.closeSync(fd);
    }
  }
}
