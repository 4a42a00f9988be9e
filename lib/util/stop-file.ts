/**
 * What a node had in progress when the flows stopped without a deploy (Node-RED stopping, a
 * restart of its container, "Stop flows" in the editor), kept in a small file in the Node-RED
 * user directory for the node of the same id that starts next. A redeploy hands work over in
 * memory (handover.ts); a stop has no next instance in the same process, so the work goes to
 * disk: `vigie-<kind>-<node id>.json`, written whole and atomically (atomic-file.ts), at most
 * STOP_FILE_MAX_BYTES. Knows nothing of Node-RED: the caller says what the items are, checks
 * each one read back, and says what happened.
 *
 *   {"vigieStopped":"ptz-steer","version":1,"nodeId":"…","stoppedAtMs":1795000000000,"items":[…]}
 */
import * as fs from 'fs';
import * as path from 'path';
import { nodeFileName, setFileAside, tempFileOf, writeFileAtomic } from './atomic-file';
import { makeDirectory } from './disk-fault';

export const STOP_FILE_VERSION = 1;
/**
 * A file holds at most this much: a few hundred alerts. Past it the last items (the caller puts
 * the most urgent first) are left out, and said so: a stop must stay one small write per node.
 */
export const STOP_FILE_MAX_BYTES = 256 * 1024;

export interface StopFileRecord<T> {
  nodeId: string;
  /** Wall clock when the flows stopped (epoch ms). */
  stoppedAtMs: number;
  items: T[];
}

export interface StopFileWrite {
  file: string;
  /** Items written. */
  written: number;
  /** Items left out to keep the file within maxBytes (the last ones given). */
  leftOut: number;
}

export interface StopFileTaken<T> extends StopFileRecord<T> {
  file: string;
  /** Items of the file that did not pass the caller's check, and the first reason. */
  refused: number;
  firstRefusal?: string;
}

/** A file that could not be used: set aside (`aside`) when it could be moved, so that nothing overwrites it. */
export class UnusableStopFileError extends Error {
  constructor(
    readonly file: string,
    readonly problem: string,
    readonly aside?: string,
    readonly asideError?: string,
  ) {
    super(`${path.basename(file)}: ${problem}; ${aside ? `set aside as ${path.basename(aside)}` : `could not be set aside (${asideError}): it is left where it is`}`);
  }
}

export class StopFiles<T> {
  private readonly prefix: string;
  private readonly maxBytes: number;

  /**
   * `kind`: the node type ("ptz-steer"), in the file names and the files themselves.
   * `check`: turns an item read back into one the caller can use, or throws why not.
   */
  constructor(
    readonly kind: string,
    private readonly check: (raw: unknown) => T,
    opts: { maxBytes?: number } = {},
  ) {
    this.prefix = `vigie-${kind}`;
    this.maxBytes = opts.maxBytes ?? STOP_FILE_MAX_BYTES;
  }

  /** The file of node `nodeId` in `dir`. */
  fileOf(dir: string, nodeId: string): string {
    return path.join(dir, nodeFileName(this.prefix, nodeId));
  }

  /**
   * Writes `items` (most urgent first) for node `nodeId`, and waits for the disk as the outbox
   * does when it closes: one write per node at a stop. Throws when it cannot be written.
   */
  write(dir: string, rec: StopFileRecord<T>): StopFileWrite {
    const file = this.fileOf(dir, rec.nodeId);
    const head = { vigieStopped: this.kind, version: STOP_FILE_VERSION, nodeId: rec.nodeId, stoppedAtMs: rec.stoppedAtMs };
    const lines: string[] = [];
    let bytes = Buffer.byteLength(JSON.stringify({ ...head, items: [] }));
    for (const item of rec.items) {
      const line = JSON.stringify(item);
      // An item JSON cannot hold (undefined) would come back as null: left out with the rest.
      if (line === undefined) break;
      const more = Buffer.byteLength(line) + 1;
      if (bytes + more > this.maxBytes) break;
      bytes += more;
      lines.push(line);
    }
    makeDirectory(dir);
    const text = JSON.stringify({ ...head, items: rec.items.slice(0, lines.length) });
    writeFileAtomic(file, text, { durable: true });
    return { file, written: lines.length, leftOut: rec.items.length - lines.length };
  }

  /**
   * Takes the file of node `nodeId`: reads it, removes it, returns what it holds (undefined
   * when there is none). A file that cannot be used is set aside and UnusableStopFileError
   * thrown; items that fail the check are left out (counted).
   */
  take(dir: string, nodeId: string, nowMs: number): StopFileTaken<T> | undefined {
    const file = this.fileOf(dir, nodeId);
    const read = this.read(file, nowMs);
    if (!read) return undefined;
    fs.rmSync(file, { force: true });
    return read;
  }

  /**
   * What the file of node `nodeId` holds, left where it is (undefined when there is none): a
   * node stopped again before it took its file writes it anew with these kept. A file that
   * cannot be used is set aside and UnusableStopFileError thrown.
   */
  peek(dir: string, nodeId: string, nowMs: number): StopFileTaken<T> | undefined {
    return this.read(this.fileOf(dir, nodeId), nowMs);
  }

  /**
   * The files in `dir` that no running node took: for each, its node id and what it holds (or
   * why it cannot be used: then it is set aside). `running(id)`: whether a node of that id
   * runs now (it takes its file itself).
   */
  leftBehind(dir: string, running: (nodeId: string) => boolean, nowMs: number): Array<{ file: string; kept?: StopFileTaken<T>; error?: UnusableStopFileError }> {
    let names: string[];
    try {
      names = fs.readdirSync(dir);
    } catch {
      return [];
    }
    const out: Array<{ file: string; kept?: StopFileTaken<T>; error?: UnusableStopFileError }> = [];
    for (const name of names) {
      if (!name.startsWith(`${this.prefix}-`) || !name.endsWith('.json')) continue;
      const file = path.join(dir, name);
      try {
        const kept = this.read(file, nowMs, running);
        if (kept) out.push({ file, kept });
      } catch (err) {
        if (err instanceof UnusableStopFileError) out.push({ file, error: err });
      }
    }
    return out;
  }

  /** Removes the file of node `nodeId` (its node is deleted) and its temporary file. */
  remove(dir: string, nodeId: string): void {
    const file = this.fileOf(dir, nodeId);
    for (const f of [file, tempFileOf(file)]) fs.rmSync(f, { force: true });
  }

  /** `skip`: a node id whose file is left alone (undefined returned). */
  private read(file: string, nowMs: number, skip?: (nodeId: string) => boolean): StopFileTaken<T> | undefined {
    let data: { vigieStopped?: unknown; version?: unknown; nodeId?: unknown; stoppedAtMs?: unknown; items?: unknown };
    try {
      data = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw this.setAside(file, err instanceof SyntaxError || !(err as NodeJS.ErrnoException).code ? 'corrupt' : 'unreadable', `could not be read (${(err as Error).message})`, nowMs);
    }
    if (!data || typeof data !== 'object' || data.vigieStopped !== this.kind) throw this.setAside(file, 'corrupt', `not a file of what a ${this.kind} had in progress`, nowMs);
    if (data.version !== STOP_FILE_VERSION) {
      const v = typeof data.version === 'number' && Number.isInteger(data.version) ? data.version : undefined;
      throw this.setAside(file, v !== undefined ? `version-${v}` : 'corrupt', `written in version ${String(data.version)} of its format, this Vigie reads version ${STOP_FILE_VERSION}`, nowMs);
    }
    if (typeof data.nodeId !== 'string' || !data.nodeId || typeof data.stoppedAtMs !== 'number' || !Array.isArray(data.items)) {
      throw this.setAside(file, 'corrupt', 'no nodeId, stoppedAtMs or list of items', nowMs);
    }
    if (skip?.(data.nodeId)) return undefined;
    const items: T[] = [];
    let refused = 0;
    let firstRefusal: string | undefined;
    for (const raw of data.items) {
      try {
        items.push(this.check(raw));
      } catch (err) {
        refused++;
        firstRefusal ??= (err as Error).message;
      }
    }
    return { file, nodeId: data.nodeId, stoppedAtMs: data.stoppedAtMs, items, refused, ...(firstRefusal !== undefined ? { firstRefusal } : {}) };
  }

  private setAside(file: string, why: string, problem: string, nowMs: number): UnusableStopFileError {
    try {
      return new UnusableStopFileError(file, problem, setFileAside(file, why, nowMs));
    } catch (err) {
      return new UnusableStopFileError(file, problem, undefined, (err as Error).message);
    }
  }
}
