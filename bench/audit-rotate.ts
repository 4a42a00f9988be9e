/**
 * What an audit rotation costs the append that triggers it (at each UTC midnight and each full
 * file): the append runs retention, inside auditBus.publish (a camera move, an operator's
 * decision), so its time is time the flow waits. A log of `--files` files of `--file-mb` MB
 * each (the defaults are what 90 days of retention with 10 MB files allow), none old enough to
 * go: retention judges the oldest and stops there, as on most rotations. Each run restarts the
 * writer (so every file's age is judged by its entries' times, not by the clock of the process
 * that wrote it) and appends one entry a day later, which rotates. Prints the median and the
 * maximum of the rotating append's time, and that of a plain append for scale. The page cache
 * is warm (the files were just written): on an SD card, cold, reading costs far more.
 *
 *   npx tsx bench/audit-rotate.ts [--files 90] [--file-mb 10] [--runs 7]
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { AuditLog, GENESIS_HASH } from '../lib/alerts/audit';
import { numberArg } from './args';

const FILES = numberArg('files', 90);
const FILE_MB = numberArg('file-mb', 10);
const RUNS = numberArg('runs', 7);
const DAY_MS = 86_400_000;
const START_MS = Date.parse('2026-01-01T10:00:00Z');

/** A line as the writer serialises it: the hash over the body, appended as its last key. */
function line(body: Record<string, unknown>): { text: string; hash: string } {
  const json = JSON.stringify(body);
  const hash = createHash('sha256').update(json).digest('hex');
  return { text: `${json.slice(0, -1)},"hash":"${hash}"}\n`, hash };
}

/**
 * Files of FILE_MB MB each, one a day, with real headers (retention orders files by them) and
 * entries of about 1 KB. Only the headers and the last entry of each file are chained: the
 * rotation never verifies the chain, it reads times.
 */
function writeLog(dir: string): void {
  const filler = Buffer.from(line({ v: 1, seq: 0, time: '', type: 'alert', actor: 'sensor', details: { padding: 'p'.repeat(900) }, prev: GENESIS_HASH }).text);
  const perFile = Math.floor((FILE_MB * 1024 * 1024) / filler.length);
  let prev = GENESIS_HASH;
  let seq = 0;
  let previousFile: string | null = null;
  for (let f = 0; f < FILES; f++) {
    const time = new Date(START_MS + f * DAY_MS).toISOString();
    const name = `audit-${time.slice(0, 10)}-001.jsonl`;
    const header = line({ v: 1, seq: ++seq, time, type: 'system', actor: 'vigie', details: { event: 'file-open', file: name, previousFile }, prev });
    seq += perFile;
    const last = line({ v: 1, seq: ++seq, time, type: 'decision', actor: 'alice', alertId: 'a1', details: { action: 'confirm' }, prev: header.hash });
    const body = Buffer.alloc(filler.length * perFile);
    for (let i = 0; i < perFile; i++) filler.copy(body, i * filler.length);
    fs.writeFileSync(path.join(dir, name), Buffer.concat([Buffer.from(header.text), body, Buffer.from(last.text)]));
    prev = last.hash;
    previousFile = name;
  }
}

function stats(xs: number[]): { median: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[Math.floor((s.length - 1) / 2)], max: s[s.length - 1] };
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-bench-audit-'));
try {
  writeLog(dir);
  const rotating: number[] = [];
  const plain: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    // A day after the newest file: a rotation. Retention outlasts the log: the oldest file stays, and so the log.
    const nowMs = START_MS + (FILES + run) * DAY_MS;
    const log = new AuditLog({ dir, now: () => nowMs, retentionDays: FILES + RUNS + 1 });
    log.open();
    let t0 = performance.now();
    log.append({ type: 'decision', actor: 'alice', alertId: `a${run}`, details: { action: 'confirm' } });
    rotating.push(performance.now() - t0);
    t0 = performance.now();
    log.append({ type: 'decision', actor: 'alice', alertId: `a${run}`, details: { action: 'dismiss' } });
    plain.push(performance.now() - t0);
  }
  const r = stats(rotating);
  const p = stats(plain);
  console.log(`${FILES} files of ${FILE_MB} MB, ${RUNS} runs, warm page cache`);
  console.log(`rotating append: median ${r.median.toFixed(2)} ms, max ${r.max.toFixed(2)} ms`);
  console.log(`plain append:    median ${p.median.toFixed(3)} ms, max ${p.max.toFixed(3)} ms`);
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
