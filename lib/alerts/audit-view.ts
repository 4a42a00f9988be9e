/**
 * Reading the audit log as people do: which entries concern a time span, an alert, a camera or
 * an operator, one line each, or as CSV for a spreadsheet, or as the JSON lines themselves for
 * another tool. What `vigie audit show` prints. Whether those entries are as written is
 * verifyAuditFiles' business (audit.ts); this only reads.
 */
import { isPlausibleWallTime } from '../util/clock';
import { AuditEntry, readLines } from './audit';

/** An entry as read, with where it was read (line from 1), and its line as stored. */
export interface ReadAuditEntry {
  entry: AuditEntry;
  file: string;
  line: number;
  text: string;
}

/** A line that is no audit entry (cut by a crash, edited, appended by something else). */
export interface UnreadableAuditLine {
  file: string;
  line: number;
  why: string;
}

/**
 * The entries of one audit file, and its lines that are none. One file at a time (at most the
 * rotation size, 10 MB by default): a reader of a whole log never holds more. Throws when the
 * file cannot be read.
 */
export function readAuditFile(file: string): { entries: ReadAuditEntry[]; unreadable: UnreadableAuditLine[] } {
  const entries: ReadAuditEntry[] = [];
  const unreadable: UnreadableAuditLine[] = [];
  readLines(file).forEach((text, i) => {
    const line = i + 1;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      unreadable.push({ file, line, why: 'not JSON (a line cut by a crash, or edited)' });
      return;
    }
    const why = notAnEntry(parsed);
    if (why) unreadable.push({ file, line, why });
    else entries.push({ entry: parsed as AuditEntry, file, line, text });
  });
  return { entries, unreadable };
}

function notAnEntry(x: unknown): string | undefined {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return 'not an audit entry (a JSON object was expected)';
  const e = x as Record<string, unknown>;
  if (typeof e.seq !== 'number') return 'not an audit entry (no seq)';
  if (typeof e.time !== 'string' || Number.isNaN(Date.parse(e.time))) return 'not an audit entry (no time)';
  if (typeof e.type !== 'string') return 'not an audit entry (no type)';
  if (typeof e.actor !== 'string') return 'not an audit entry (no actor)';
  if (typeof e.details !== 'object' || e.details === null || Array.isArray(e.details)) return 'not an audit entry (no details)';
  return undefined;
}

/** Which entries to show; every field given must match (an entry is shown when all do). */
export interface AuditFilter {
  /** Entries at or after this time (epoch ms). */
  sinceMs?: number;
  /** Entries before this time (epoch ms). */
  untilMs?: number;
  /** Entries of this alert: its own, and those naming it (a camera taken for it, a dropped alert acknowledged). */
  alertId?: string;
  /** Entries naming this camera (a move, a view, an alert it turned to). */
  cameraId?: string;
  /** Entries written under this actor, in any case: an operator's name, or auto:<node id>, or vigie. */
  actor?: string;
  types?: readonly string[];
}

/** The camera an entry names, whichever field its writer uses (`cameraId` for moves and relayed views, `camera` for alerts and console views). */
export function cameraOf(e: AuditEntry): string | undefined {
  const d = e.details;
  const id = typeof d.cameraId === 'string' ? d.cameraId : typeof d.camera === 'string' ? d.camera : undefined;
  return id || undefined;
}

/** What happened, in one word, when the details say (`event`, a decision's `action`, a move's `state`). */
export function eventOf(e: AuditEntry): string | undefined {
  const d = e.details;
  for (const k of ['event', 'action', 'state']) if (typeof d[k] === 'string' && d[k]) return d[k] as string;
  return undefined;
}

function namesAlert(e: AuditEntry, alertId: string): boolean {
  if (e.alertId === alertId) return true;
  const d = e.details;
  return d.takenFor === alertId || (Array.isArray(d.named) && d.named.includes(alertId));
}

/**
 * An actor as searched for: operators type their own names, so "alice", "Alice" and "Alice "
 * (or an accent typed as two characters) are one person to an inquiry.
 */
function actorKey(actor: string): string {
  return actor.normalize('NFC').trim().toLowerCase();
}

export function auditEntryMatches(e: AuditEntry, f: AuditFilter): boolean {
  const t = Date.parse(e.time);
  if (f.sinceMs !== undefined && !(t >= f.sinceMs)) return false;
  if (f.untilMs !== undefined && !(t < f.untilMs)) return false;
  if (f.alertId !== undefined && !namesAlert(e, f.alertId)) return false;
  if (f.cameraId !== undefined && cameraOf(e) !== f.cameraId) return false;
  if (f.actor !== undefined && actorKey(e.actor) !== actorKey(f.actor)) return false;
  if (f.types !== undefined && !f.types.includes(e.type)) return false;
  return true;
}

/**
 * The entries a filter takes in, given in the chain's order, when some were written before the
 * clock was set (a time before 2023: a gateway without a battery clock, before NTP answered).
 * Such an entry's time says nothing, but the chain places it: it was written after the real time
 * of the entry before it and no later than that of the entry after it. It is taken in when that
 * interval reaches into --since/--until (it may have been written then), and held back only
 * until the next real time says whether it does. Entries come out in the order they went in.
 */
export class AuditSpanFilter<T extends { entry: AuditEntry }> {
  private held: T[] = [];
  private lastRealMs: number | undefined;
  /** Entries taken in whose time was written before the clock was set. */
  unsetClockShown = 0;
  /** The filter without its time span, for entries whose time says nothing. */
  private readonly rest: AuditFilter;

  constructor(private readonly filter: AuditFilter) {
    this.rest = { ...filter, sinceMs: undefined, untilMs: undefined };
  }

  /** The entries to show now, in order: held ones that this entry's real time settles, then this one if it matches. */
  push(r: T): T[] {
    const t = Date.parse(r.entry.time);
    if (isPlausibleWallTime(t)) {
      // Written no later than t: the held entries reach into the span if t is not before --since.
      const { sinceMs } = this.filter;
      const out = sinceMs === undefined || t >= sinceMs ? this.takeHeld() : [];
      this.held = [];
      this.lastRealMs = t;
      if (auditEntryMatches(r.entry, this.filter)) out.push(r);
      return out;
    }
    if (!auditEntryMatches(r.entry, this.rest)) return [];
    // Written after the last real time: too late for a span that ended by then.
    const { sinceMs, untilMs } = this.filter;
    if (untilMs !== undefined && this.lastRealMs !== undefined && this.lastRealMs >= untilMs) return [];
    if (sinceMs === undefined) {
      this.unsetClockShown++;
      return [r];
    }
    this.held.push(r);
    return [];
  }

  /** At the end of the log: entries held with no real time after them (they may be as late as any). */
  end(): T[] {
    return this.takeHeld();
  }

  private takeHeld(): T[] {
    const out = this.held;
    this.held = [];
    this.unsetClockShown += out.length;
    return out;
  }
}

const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME_RE = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?)(Z|[+-]\d{2}:?\d{2})?$/i;

/** The start of day YYYY-MM-DD (UTC, epoch ms), or undefined when there is no such day (2026-02-30). */
function dayStartMs(day: string): number | undefined {
  const ms = Date.parse(`${day}T00:00:00Z`);
  return Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== day ? undefined : ms;
}

/**
 * A time given on the command line, as epoch ms: an ISO 8601 date (`2026-11-28`) or date and
 * time (`2026-11-28T14:03`, `2026-11-28 14:03:12`), in UTC unless it ends with Z or an offset
 * (`+01:00`), as the log's times are UTC. A date alone is its day's start, or with `endOfDay`
 * the next day's start (so `--until 2026-11-28` takes in all of that day). Undefined when it is
 * none of those, or no such day.
 */
export function parseAuditTime(text: string, endOfDay = false): number | undefined {
  const s = text.trim();
  if (DATE_RE.test(s)) {
    const ms = dayStartMs(s);
    return ms === undefined || !endOfDay ? ms : ms + 86_400_000;
  }
  const m = DATE_TIME_RE.exec(s);
  if (!m || dayStartMs(m[1]) === undefined) return undefined;
  // 25:00 or 12:61 would be read as another time, or not at all: a time written must be the one read.
  const [hh, mm, ss = 0] = m[2].split(':').map(Number);
  if (hh > 23 || mm > 59 || ss >= 60) return undefined;
  const offset = !m[3] || m[3].toUpperCase() === 'Z' ? 'Z' : m[3].replace(/^([+-]\d{2}):?(\d{2})$/, '$1:$2');
  const ms = Date.parse(`${m[1]}T${m[2]}${offset}`);
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * A value as a reader can tell it apart: a plain word as it is; a string with spaces, quotes,
 * an equals sign or any control character (a newline or a terminal escape typed into a note
 * must not make a line of its own, nor repaint the screen) in JSON quotes; anything else as
 * compact JSON.
 */
function shown(v: unknown): string {
  if (typeof v === 'string') return /^[^\s"'=\\\p{Cc}\p{Cf}\p{Zl}\p{Zp}]+$/u.test(v) ? v : escapeAll(JSON.stringify(v));
  if (v === undefined) return 'undefined';
  return escapeAll(JSON.stringify(v));
}

/** JSON leaves U+2028, U+2029 and format characters (bidi overrides) as they are; a line shown escapes them too. */
function escapeAll(json: string): string {
  return json.replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu, (c) => {
    const code = c.codePointAt(0)!;
    return code > 0xffff ? `\\u{${code.toString(16)}}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** The time of an entry as people read it: `2026-11-28 14:03:12Z` (UTC, whole seconds), or as written when it is no time. */
function timeShown(iso: string): string {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? shown(iso) : `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')}Z`;
}

/**
 * One entry on one line: seq, time (UTC), type, actor, alert, then every detail as key=value
 * (nested values as JSON). Nothing is left out: the line is all the entry says but its hashes.
 */
export function auditEntryLine(e: AuditEntry): string {
  // The type too: an entry edited by hand may hold anything.
  const parts = [`#${e.seq}`, timeShown(e.time), shown(e.type).padEnd(12), shown(e.actor)];
  if (e.alertId !== undefined) parts.push(`alert=${shown(e.alertId)}`);
  for (const [k, v] of Object.entries(e.details)) parts.push(`${shown(k)}=${shown(v)}`);
  return parts.join('  ');
}

export const AUDIT_CSV_COLUMNS = ['seq', 'time', 'type', 'actor', 'alertId', 'camera', 'event', 'details', 'file', 'line'] as const;

/**
 * A CSV cell (RFC 4180): quoted when it holds a comma, quote or line break. A text a
 * spreadsheet would run as a formula (=, +, -, @, a tab or carriage return first: an operator's
 * name or note is typed by a person) is kept as text by a leading apostrophe.
 */
export function csvCell(v: unknown): string {
  let s = v === undefined || v === null ? '' : typeof v === 'string' ? v : typeof v === 'number' ? String(v) : JSON.stringify(v);
  if (typeof v === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** An entry as a CSV row of AUDIT_CSV_COLUMNS (details as JSON), without the line break. */
export function auditCsvRow(r: ReadAuditEntry): string {
  const e = r.entry;
  return [e.seq, e.time, e.type, e.actor, e.alertId, cameraOf(e), eventOf(e), JSON.stringify(e.details), r.file, r.line].map(csvCell).join(',');
}
