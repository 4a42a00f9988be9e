import { mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AuditLog, listAuditFiles, openSharedAuditLog } from '../../lib/alerts/audit';
import { AlertConsole } from '../../lib/alerts/console';
import { AlertStore } from '../../lib/alerts/store';
import { tempDir } from '../support/tmp';
import { legacyBackstepLog, rewriteChain } from '../support/audit-logs';
import { main } from '../../lib/cli/audit-verify';

const root = path.resolve(__dirname, '..', '..');

function vigie(args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'bin', 'vigie.ts'), ...args], { cwd: root, encoding: 'utf8', timeout: 60_000 });
}

function makeLog(): string {
  const dir = tempDir('vigie-audit-cli-');
  let t = Date.parse('2026-05-01T08:00:00Z');
  const log = new AuditLog({ dir, now: () => t, retentionDays: 0 });
  for (let i = 0; i < 6; i++) {
    log.append({ type: 'decision', actor: 'alice', alertId: `a${i}`, details: { action: 'dismiss' } });
    t += 12 * 3_600_000; // two entries per day: three files
  }
  return dir;
}

test('vigie audit verify exits 0 on an intact chain (files or a directory)', () => {
  const dir = makeLog();
  const files = listAuditFiles(dir);
  assert.ok(files.length >= 3);
  const r = vigie(['audit', 'verify', ...files.slice().reverse()]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`OK: \\d+ entries in ${files.length} files`));
  const d = vigie(['audit', 'verify', dir]);
  assert.equal(d.status, 0, d.stderr);
});

test('vigie audit verify exits non-zero and names the file and line where the chain breaks', () => {
  const dir = makeLog();
  const files = listAuditFiles(dir);
  const lines = fs.readFileSync(files[1], 'utf8').split('\n').filter(Boolean);
  lines[1] = lines[1].replace('"dismiss"', '"confirm"');
  fs.writeFileSync(files[1], lines.join('\n') + '\n');
  const r = vigie(['audit', 'verify', ...files]);
  assert.equal(r.status, 1);
  assert.ok(r.stderr.includes(`BROKEN at ${files[1]}:2: edited`), r.stderr);
});

/** Cuts the last line of `file` short, with no newline: a write torn by a crash. */
function cutLastLine(file: string): void {
  const lines = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);
  fs.writeFileSync(file, lines.slice(0, -1).map((l) => l + '\n').join('') + lines[lines.length - 1].slice(0, 40));
}

test('vigie audit verify after a crash cut the last line: intact once the log resumes in a new file (a note says where), broken before, and broken for a cut it does not resume from', () => {
  const dir = tempDir('vigie-audit-cli-');
  let t = Date.parse('2026-05-01T08:00:00Z');
  const log = new AuditLog({ dir, now: () => t, retentionDays: 0 });
  for (let i = 0; i < 3; i++) log.append({ type: 'decision', actor: 'alice', alertId: `a${i}`, details: { action: 'dismiss' } });
  const [first] = listAuditFiles(dir);
  cutLastLine(first);

  // Nothing written since the crash: the cut is all there is to see.
  const before = vigie(['audit', 'verify', dir]);
  assert.equal(before.status, 1, before.stdout);
  assert.ok(before.stderr.startsWith(`BROKEN at ${first}:4: not a JSON entry (edited, or cut by a crash), and no later file resumes the chain from the entry before it`), before.stderr);

  // Vigie restarts and writes two entries: the chain resumes in a new file.
  t += 60_000;
  const again = new AuditLog({ dir, now: () => t, retentionDays: 0 });
  again.append({ type: 'decision', actor: 'bob', alertId: 'b1', details: { action: 'confirm' } });
  again.append({ type: 'decision', actor: 'bob', alertId: 'b2', details: { action: 'dismiss' } });
  const files = listAuditFiles(dir);
  assert.deepEqual(files.map((f) => path.basename(f)), ['audit-2026-05-01-001.jsonl', 'audit-2026-05-01-002.jsonl']);
  const r = vigie(['audit', 'verify', dir]);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split('\n'), [
    `OK: 6 entries in 2 files, seq 1…6, last hash ${again.lastHash}`,
    `last entry: seq 6, 2026-05-01T08:01:00.000Z, hash ${again.lastHash}`,
    `  keep "6:${again.lastHash}" where the log's writers cannot change it (a ticket, an email); vigie audit verify --expect-hash 6:${again.lastHash} then proves every entry up to it unchanged`,
    `note: a line cut by a crash at ${first}:4 (the entry being written then is not in the log); the chain resumes in audit-2026-05-01-002.jsonl from the entry before it.`,
  ]);

  // The last whole entry of the new file cut afterwards: no file resumes from the one before it.
  cutLastLine(files[1]);
  const cutAgain = vigie(['audit', 'verify', dir]);
  assert.equal(cutAgain.status, 1);
  assert.ok(cutAgain.stderr.startsWith(`BROKEN at ${files[1]}:3: not a JSON entry (edited, or cut by a crash)`), cutAgain.stderr);
});

test('vigie audit verify: cutting the last entry of a file that the next file links to is a break, not a crash', () => {
  const dir = makeLog();
  const files = listAuditFiles(dir);
  cutLastLine(files[0]);
  const r = vigie(['audit', 'verify', dir]);
  assert.equal(r.status, 1, r.stdout);
  assert.match(r.stderr, new RegExp(`^BROKEN at ${files[0]}:3: not a JSON entry \\(edited, or cut by a crash\\), and the next file, ${path.basename(files[1])}, does not resume the chain from the entry before it \\(seq 2\\)\n`));
});

test('vigie audit verify without files prints usage and exits 2', () => {
  const r = vigie(['audit', 'verify']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /usage: vigie audit verify/);
  assert.equal(vigie(['audit', 'verify', '/nonexistent/audit.jsonl']).status, 2);
});

test('vigie audit verify on a user directory says where its audit log is (vigie-audit/), and exits 2', () => {
  const userDir = tempDir('vigie-audit-cli-user-');
  fs.renameSync(makeLog(), path.join(userDir, 'vigie-audit'));
  const r = vigie(['audit', 'verify', userDir]);
  assert.equal(r.status, 2);
  assert.equal(
    r.stderr,
    `vigie audit verify: no audit files (audit-YYYY-MM-DD-NNN.jsonl) in ${userDir}; the audit log of a Node-RED user directory is in its vigie-audit/: vigie audit verify ${path.join(userDir, 'vigie-audit')}\n`,
  );
  assert.equal(vigie(['audit', 'verify', path.join(userDir, 'vigie-audit')]).status, 0, 'as the hint says');
  // A directory with neither: no hint.
  const empty = tempDir('vigie-audit-cli-empty-');
  assert.equal(vigie(['audit', 'verify', empty]).stderr, `vigie audit verify: no audit files (audit-YYYY-MM-DD-NNN.jsonl) in ${empty}\n`);
});

test('vigie audit verify takes files in the order of their chain: a log named out of order by a clock set back verifies, with a note', () => {
  const { dir } = legacyBackstepLog();
  const r = vigie(['audit', 'verify', dir]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^OK: 6 entries in 3 files, seq 1…6/);
  assert.match(r.stdout, /note: audit-2026-11-29-002\.jsonl follows audit-2026-11-30-001\.jsonl in the chain, though its name sorts before it \(the clock was set back when it was opened\)\./);
  fs.rmSync(path.join(dir, 'audit-2026-11-30-001.jsonl'));
  const missing = vigie(['audit', 'verify', dir]);
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /BROKEN at .*audit-2026-11-29-002\.jsonl:1: does not follow audit-2026-11-29-001\.jsonl: 2 entries are missing/);
});

test('vigie audit verify on a directory whose oldest files retention removes during the check (the log rotates): exit 0, with the notes', async () => {
  const dir = tempDir('vigie-audit-cli-');
  let t = Date.parse('2026-01-01T08:00:00Z');
  const log = new AuditLog({ dir, now: () => t, maxFileBytes: 4096 });
  while (listAuditFiles(dir).length < 3) log.append({ type: 'decision', actor: 'alice', alertId: 'a1', details: { action: 'dismiss', note: 'x'.repeat(300) } });
  t += 50 * 86_400_000;
  log.append({ type: 'decision', actor: 'alice', alertId: 'a2', details: { action: 'confirm' } });
  const listed = listAuditFiles(dir);
  // The running writer (restarted since) rotates 100 days after the first day: the files of 2026-01-01 go.
  const running = new AuditLog({ dir, now: () => Date.parse('2026-04-11T08:00:00Z'), maxFileBytes: 4096 });
  running.open();
  const nodeFs = require('node:fs') as typeof fs;
  const realReadFileSync = nodeFs.readFileSync;
  const read = mock.method(nodeFs, 'readFileSync', (...args: Parameters<typeof fs.readFileSync>) => {
    if (args[0] === listed[1] && fs.existsSync(listed[1])) running.append({ type: 'decision', actor: 'bob', alertId: 'a3', details: { action: 'confirm' } });
    return (realReadFileSync as (...a: unknown[]) => string | Buffer)(...args);
  });
  let out = '';
  let err = '';
  let rc: number;
  try {
    rc = await main([dir], (s) => (out += s), (s) => (err += s));
  } finally {
    read.mock.restore();
  }
  assert.equal(fs.existsSync(listed[2]), false, 'retention ran during the check');
  assert.equal(rc, 0, err);
  assert.match(out, /^OK: \d+ entries in 1 file,/);
  assert.match(out, /note: the chain starts after earlier files/);
  assert.match(out, new RegExp(`note: 3 files were removed by retention while the check ran \\(the oldest: ${path.basename(listed[0])}, `));
});

/** Runs `vigie audit verify` in this process: its exit code, standard output and error. */
async function verify(args: string[]): Promise<{ rc: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const rc = await main(args, (s) => (out += s), (s) => (err += s));
  return { rc, out, err };
}

test('vigie audit verify with the oldest file deleted (not by retention): a warning naming it, exit 0; a break with --complete; a start retention recorded passes --complete', async () => {
  // 90 days of retention, files 1 to 3 days old: retention removed nothing.
  const dir = tempDir('vigie-audit-cli-');
  let t = Date.parse('2026-05-01T08:00:00Z');
  const log = new AuditLog({ dir, now: () => t, retentionDays: 90 });
  for (let i = 0; i < 6; i++) {
    log.append({ type: 'decision', actor: 'alice', alertId: `a${i}`, details: { action: 'dismiss' } });
    t += 12 * 3_600_000;
  }
  const files = listAuditFiles(dir);
  assert.equal((await verify(['--complete', dir])).rc, 0, 'the whole log, from its first entry');
  fs.rmSync(files[0]);
  const warned = await verify([dir]);
  assert.equal(warned.rc, 0, warned.err);
  const warning = `WARNING: the files before ${path.basename(files[1])} (from ${path.basename(files[0])} back) are missing and no entry records their removal by retention`;
  assert.ok(warned.out.includes(`\n${warning}: deleted otherwise, or only a part of the log was given (--complete makes this a break)\n`), warned.out);
  assert.doesNotMatch(warned.out, /note: the chain starts after earlier files/);
  const strict = await verify(['--complete', dir]);
  assert.equal(strict.rc, 1);
  assert.equal(strict.out, '');
  assert.ok(strict.err.startsWith(`BROKEN at ${files[1]}:1: the files before ${path.basename(files[1])} (from ${path.basename(files[0])} back) are missing and no entry records their removal by retention`), strict.err);

  // Retention removed the oldest files and a header says so: no warning, and --complete passes.
  const kept = tempDir('vigie-audit-cli-');
  let k = Date.parse('2026-01-01T08:00:00Z');
  const short = new AuditLog({ dir: kept, now: () => k, monotonicNow: () => k, retentionDays: 2 });
  for (let d = 0; d < 5; d++) {
    short.append({ type: 'decision', actor: 'alice', alertId: `b${d}`, details: { action: 'dismiss' } });
    k += 86_400_000;
  }
  const ok = await verify(['--complete', kept]);
  assert.equal(ok.rc, 0, ok.err);
  assert.match(ok.out, /\nnote: the chain starts after earlier files, whose removal by retention a header records/);
  assert.doesNotMatch(ok.out, /WARNING/);
});

test('vigie audit verify --expect-hash: a hash printed on an earlier OK is found; after the whole log is rewritten (hashes recomputed) the chain verifies but the hash is not found: exit 1, saying what is there instead', async () => {
  const dir = makeLog();
  const first = await verify([dir]);
  assert.equal(first.rc, 0, first.err);
  const kept = /^last entry: seq (\d+), \S+, hash ([0-9a-f]{64})$/m.exec(first.out);
  assert.ok(kept, first.out);
  const anchor = `${kept[1]}:${kept[2]}`;
  const found = await verify(['--expect-hash', anchor, `--expect-hash=${kept[2]}`, dir]);
  assert.equal(found.rc, 0, found.err);
  assert.match(found.out, new RegExp(`\\nexpected hash found: seq ${kept[1]}, ${kept[2]}: `));
  rewriteChain(dir, (e) => {
    if (e.alertId === 'a1') e.details = { action: 'confirm' };
  });
  assert.equal((await verify([dir])).rc, 0, 'rewritten whole, the chain is consistent');
  const caught = await verify(['--expect-hash', anchor, dir]);
  assert.equal(caught.rc, 1);
  assert.equal(caught.out, '');
  assert.match(caught.err, new RegExp(`^NOT FOUND: expected hash ${anchor}: seq ${kept[1]} has hash [0-9a-f]{64}: the log was rewritten up to there since the hash was noted\\n$`));
  const later = await verify(['--expect-hash', `99:${kept[2]}`, dir]);
  assert.equal(later.rc, 1);
  assert.match(later.err, /seq 99 is after the last entry given \(seq \d+\): entries were removed at the end/);
});

test('vigie audit verify --expect-hash with something else than [SEQ:]HASH, or without files: a wrong command line (exit 2)', async () => {
  const dir = makeLog();
  for (const args of [['--expect-hash', 'abc', dir], ['--expect-hash', `0:${'a'.repeat(64)}`, dir], [dir, '--expect-hash'], ['--complete']]) {
    const r = await verify(args);
    assert.equal(r.rc, 2, `${args.join(' ')}: ${r.err}`);
    assert.match(r.err, /\nusage: vigie audit verify /);
  }
});

test('vigie audit verify accepts the console\'s alert-update entries (an alert sent again with a better place)', async () => {
  const dir = tempDir('vigie-audit-cli-');
  const audit = openSharedAuditLog({ dir, retentionDays: 0 });
  try {
    const c = new AlertConsole({ store: new AlertStore(), actor: 'auto:n1' });
    const alert = (errorM: number, sensors: string[]) => ({
      kind: 'detection', id: 'up1', sensor: 's1', label: 'explosion', confidence: 0.8, onset: 1_780_000_000, offset: 1_780_000_001,
      level: { dbfs: -3 }, scores: { explosion: 0.8 }, span: { sensor: 's1', start: 0, frames: 100 },
      location: { method: 'tdoa', bearing: 40, position: { lat: 45.44, lon: 4.39, errorM }, sensors },
    });
    c.ingest(alert(30, ['s1', 's2']));
    c.ingest(alert(5, ['s1', 's2', 's3']));
  } finally {
    audit.release();
  }
  const entries = listAuditFiles(dir).flatMap((f) => fs.readFileSync(f, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)));
  const update = entries.find((e) => e.type === 'alert-update');
  assert.ok(update, JSON.stringify(entries));
  assert.equal(update.details.before.location.position.errorM, 30);
  assert.equal(update.details.after.location.position.errorM, 5);
  const r = await verify(['--complete', dir]);
  assert.equal(r.rc, 0, r.err);
  assert.match(r.out, /^OK: 3 entries in 1 file/);
});

test('vigie audit verify on a log whose running file was deleted by hand: a warning naming the file, its entries and the cause, exit 0; a break with --complete; a log that was that one file alone too', async () => {
  for (const alone of [false, true]) {
    const dir = tempDir('vigie-audit-cli-');
    let t = Date.parse('2026-05-01T08:00:00Z');
    const log = new AuditLog({ dir, now: () => t, retentionDays: 0 });
    for (let i = 0; i < (alone ? 2 : 4); i++) {
      log.append({ type: 'decision', actor: 'alice', alertId: `a${i}`, details: { action: 'dismiss' } });
      if (!alone) t += 12 * 3_600_000;
    }
    const running = listAuditFiles(dir).pop()!;
    const header = JSON.parse(fs.readFileSync(running, 'utf8').split('\n')[0]);
    const lastSeq = log.lastSeq;
    fs.rmSync(running);
    log.append({ type: 'decision', actor: 'bob', alertId: 'b1', details: { action: 'confirm' } });
    const next = path.basename(listAuditFiles(dir).pop()!);
    const r = await verify([dir]);
    assert.equal(r.rc, 0, r.err);
    assert.ok(
      r.out.includes(`\nWARNING: ${path.basename(running)} was deleted while Vigie was writing it, as the header of ${next} records: entries seq ${header.seq}…${lastSeq} are not in the log; the chain goes on from the entry before them (--complete makes this a break).\n`),
      r.out,
    );
    assert.doesNotMatch(r.out, /the files before/);
    // The entries are recorded as lost, not explained: the log is not whole.
    const strict = await verify(['--complete', dir]);
    assert.equal(strict.rc, 1, strict.out);
    assert.ok(strict.err.includes(`${path.basename(running)} was deleted while Vigie was writing it: entries seq ${header.seq}…${lastSeq} are not in the log (--complete: the log is not whole)`), strict.err);
  }
});

test('vigie audit verify on a log whose newest file was deleted while Vigie was stopped: a warning naming it and the entries lost, exit 0; a break with --complete; every file deleted, the same', async () => {
  for (const all of [false, true]) {
    const dir = tempDir('vigie-audit-cli-');
    let t = Date.parse('2026-05-01T08:00:00Z');
    const before = new AuditLog({ dir, now: () => t, retentionDays: 0 });
    for (let i = 0; i < 4; i++) {
      before.append({ type: 'decision', actor: 'alice', alertId: `a${i}`, details: { action: 'dismiss' } });
      t += 12 * 3_600_000;
    }
    const files = listAuditFiles(dir);
    const newest = files[files.length - 1];
    const firstLost = all ? JSON.parse(fs.readFileSync(newest, 'utf8').split('\n')[0]).seq : JSON.parse(fs.readFileSync(files[files.length - 2], 'utf8').trim().split('\n').pop()!).seq + 1;
    for (const f of all ? files : [newest]) fs.rmSync(f);
    new AuditLog({ dir, now: () => t, retentionDays: 0 }).append({ type: 'decision', actor: 'bob', alertId: 'b1', details: { action: 'confirm' } });
    const next = path.basename(listAuditFiles(dir).pop()!);
    const r = await verify([dir]);
    assert.equal(r.rc, 0, r.err);
    assert.ok(
      r.out.includes(`\nWARNING: ${path.basename(newest)} was deleted while Vigie was stopped, as the header of ${next} records: entries seq ${firstLost}…${before.lastSeq} are not in the log; the chain goes on from the entry before them (--complete makes this a break).\n`),
      r.out,
    );
    const strict = await verify(['--complete', dir]);
    assert.equal(strict.rc, 1);
    // Every file deleted: the files before the head's one are missing too, which breaks first.
    const broken = all ? 'are missing and no entry records their removal by retention' : `${path.basename(newest)} was deleted while Vigie was stopped: entries seq ${firstLost}…${before.lastSeq} are not in the log (--complete: the log is not whole)`;
    assert.ok(strict.err.includes(broken), strict.err);
  }
});

test('vigie audit verify on a log that was one file, deleted while Vigie was stopped: the warning says so, and nothing calls it retention', async () => {
  const dir = tempDir('vigie-audit-cli-');
  const t = Date.parse('2026-05-01T08:00:00Z');
  const before = new AuditLog({ dir, now: () => t, retentionDays: 0 });
  for (let i = 0; i < 3; i++) before.append({ type: 'decision', actor: 'alice', alertId: `a${i}`, details: { action: 'dismiss' } });
  const [only] = listAuditFiles(dir);
  fs.rmSync(only);
  new AuditLog({ dir, now: () => t, retentionDays: 0 }).append({ type: 'decision', actor: 'bob', alertId: 'b1', details: { action: 'confirm' } });
  const r = await verify([dir]);
  assert.equal(r.rc, 0, r.err);
  assert.match(r.out, new RegExp(`\\nWARNING: ${path.basename(only).replace(/\./g, '\\.')} was deleted while Vigie was stopped, as the header of \\S+ records: entries seq 1…${before.lastSeq} are not in the log`));
  assert.doesNotMatch(r.out, /retention/, r.out);
});

test('vigie audit verify reads the head record beside the directory: entries removed at the end, or deleted while Vigie is stopped and not yet started again, are a warning (a break with --complete); a rewritten log is named; a matching head says nothing', async () => {
  const dir = tempDir('vigie-audit-cli-');
  let t = Date.parse('2026-05-01T08:00:00Z');
  const log = new AuditLog({ dir, now: () => t, retentionDays: 0 });
  for (let i = 0; i < 4; i++) {
    log.append({ type: 'decision', actor: 'alice', alertId: `a${i}`, details: { action: 'dismiss' } });
    t += 12 * 3_600_000;
  }
  const ok = await verify([dir]);
  assert.equal(ok.rc, 0, ok.err);
  assert.doesNotMatch(ok.out, /head record/, 'a head record that matches says nothing');
  // Stopped, the newest file deleted, not started again: only the head record can tell.
  const files = listAuditFiles(dir);
  const newest = files[files.length - 1];
  const lastFound = JSON.parse(fs.readFileSync(files[files.length - 2], 'utf8').trim().split('\n').pop()!).seq;
  fs.rmSync(newest);
  const r = await verify([dir]);
  assert.equal(r.rc, 0, r.err);
  assert.match(r.out, new RegExp(`\\nWARNING: the head record \\S+\\.head\\.json says entry seq ${log.lastSeq} was written \\(.*, in ${path.basename(newest).replace(/\./g, '\\.')}\\), but the files end at seq ${lastFound}: entries ${lastFound + 1}…${log.lastSeq} are missing`));
  const strict = await verify(['--complete', dir]);
  assert.equal(strict.rc, 1, strict.out);
  assert.match(strict.err, /^BROKEN: the head record .* are missing .*\(--complete: the log is not whole\)/);
  // The files replaced by another log of as many entries: the head's entry has another hash.
  fs.rmSync(dir, { recursive: true });
  const other = new AuditLog({ dir, now: () => t, retentionDays: 0, headFile: path.join(tempDir('vigie-audit-cli-'), 'elsewhere.json') });
  for (let i = 0; i < 6; i++) other.append({ type: 'decision', actor: 'mallory', alertId: `m${i}`, details: { action: 'confirm' } });
  assert.ok(other.lastSeq >= log.lastSeq);
  const replaced = await verify([dir]);
  assert.equal(replaced.rc, 0, replaced.err);
  assert.match(replaced.out, new RegExp(`\\nWARNING: the head record \\S+ says entry seq ${log.lastSeq} has hash ${log.lastHash}, the files hold [0-9a-f]{64}: the files were replaced or rewritten since`));
  // Emptied as a power cut leaves it (zero bytes where the record was): said as empty, not as replaced.
  fs.writeFileSync(`${dir}.head.json`, Buffer.alloc(180));
  const empty = await verify([dir]);
  assert.equal(empty.rc, 0, empty.err);
  assert.match(empty.out, /\nWARNING: the head record \S+\.head\.json beside the directory is empty, as a power cut just after its rewrite can leave it/);
  assert.equal((await verify(['--complete', dir])).rc, 1, 'it cannot vouch for the end of the log');
  fs.writeFileSync(`${dir}.head.json`, '{"seq":');
  assert.match((await verify([dir])).out, /\nWARNING: the head record \S+ beside the directory cannot be read/);
});

test('vigie audit verify: text something else appended after the last entry of the file being written is said once as that, not as a crash\'s cut line, exit 0', async () => {
  const dir = tempDir('vigie-audit-cli-');
  const log = new AuditLog({ dir, now: () => Date.parse('2026-05-01T08:00:00Z'), retentionDays: 0 });
  log.append({ type: 'decision', actor: 'alice', alertId: 'a1', details: { action: 'dismiss' } });
  const running = log.currentFile!;
  fs.appendFileSync(running, 'a line of something else\n');
  log.append({ type: 'decision', actor: 'alice', alertId: 'a2', details: { action: 'dismiss' } });
  const { rc, out } = await verify([dir]);
  assert.equal(rc, 0);
  const notes = out.split('\n').filter((l) => l.startsWith('note:') || l.startsWith('WARNING:'));
  assert.deepEqual(notes, [
    `note: text that Vigie did not write at ${running}:3, appended after the file's last entry (seq 2) while Vigie was writing it, as the header of audit-2026-05-01-002.jsonl records; no entry is missing: the chain goes on in audit-2026-05-01-002.jsonl from that entry.`,
  ]);
});

test('vigie audit verify: text appended while Vigie was stopped, after the next start: said once as appended while stopped, not as a crash\'s cut line, exit 0', async () => {
  const dir = tempDir('vigie-audit-cli-');
  const now = () => Date.parse('2026-05-01T08:00:00Z');
  const log = new AuditLog({ dir, now, retentionDays: 0 });
  log.append({ type: 'decision', actor: 'alice', alertId: 'a1', details: { action: 'dismiss' } });
  const stopped = log.currentFile!;
  fs.appendFileSync(stopped, 'checked by IT\n');
  new AuditLog({ dir, now, retentionDays: 0 }).resumeAfterCut();
  const { rc, out } = await verify(['--complete', dir]);
  assert.equal(rc, 0, out);
  const notes = out.split('\n').filter((l) => l.startsWith('note:') || l.startsWith('WARNING:'));
  assert.deepEqual(notes, [
    `note: text that Vigie did not write at ${stopped}:3, appended after the file's last entry (seq 2) while Vigie was stopped, as the header of audit-2026-05-01-002.jsonl records; no entry is missing: the chain goes on in audit-2026-05-01-002.jsonl from that entry.`,
  ]);
});

test('vigie audit verify: entries whose head record could not be written are named in a note, as the log records them; one not written again by the end says so', async () => {
  const dir = tempDir('vigie-audit-cli-');
  const headFile = path.join(tempDir('vigie-audit-head-'), 'head.json');
  const log = new AuditLog({ dir, headFile, now: () => Date.parse('2026-05-01T08:00:00Z'), retentionDays: 0 });
  const decide = () => log.append({ type: 'decision', actor: 'alice', alertId: 'a1', details: { action: 'dismiss' } });
  decide();
  // A directory where the record goes: its rename over it fails (a real EISDIR).
  fs.rmSync(headFile);
  fs.mkdirSync(path.join(headFile, 'blocking'), { recursive: true });
  decide();
  decide();
  const gap = /^note: the head record beside the audit directory could not be written (.*) \((EISDIR|EEXIST|ENOTEMPTY)[^)]*\): audit files deleted while Vigie was stopped after those entries could not be seen at its next start\.$/m;
  const during = await verify([dir]);
  assert.equal(during.rc, 0, during.out);
  assert.equal(gap.exec(during.out)?.[1], 'from seq 3 on (not written again by the last entry given)');
  fs.rmSync(headFile, { recursive: true });
  decide();
  const after = await verify(['--complete', dir]);
  assert.equal(after.rc, 0, after.out);
  assert.equal(gap.exec(after.out)?.[1], 'for entries seq 3…5');
});

test('vigie audit verify: the newest lines removed while stopped with a cut line left, after the next start: a warning of the entries lost, and the cut line said as the end of what is left, not as a crash', async () => {
  const dir = tempDir('vigie-audit-cli-');
  const log = new AuditLog({ dir, now: () => Date.parse('2026-05-01T08:00:00Z'), retentionDays: 0 });
  for (let i = 0; i < 5; i++) log.append({ type: 'decision', actor: 'alice', alertId: `a${i}`, details: { action: 'dismiss' } });
  const file = log.currentFile!;
  const all = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);
  fs.writeFileSync(file, all.slice(0, 3).map((l) => l + '\n').join('') + all[3].slice(0, 30));
  new AuditLog({ dir, now: () => Date.parse('2026-05-01T09:00:00Z'), retentionDays: 0 }).resumeAfterCut();
  const { rc, out } = await verify([dir]);
  assert.equal(rc, 0);
  const notes = out.split('\n').filter((l) => l.startsWith('note:') || l.startsWith('WARNING:'));
  assert.deepEqual(notes, [
    'WARNING: audit-2026-05-01-001.jsonl lost its last entries while Vigie was stopped (removed by hand, or a power cut lost them before they reached the disk), as the header of audit-2026-05-01-002.jsonl records: entries seq 4…6 are not in the log; the chain goes on from the entry before them (--complete makes this a break).',
    `note: ${file}:4 is a cut line, the end of what is left before the entries the header of audit-2026-05-01-002.jsonl records as lost.`,
  ]);
});

test('vigie audit verify: a path given that is not there is said, exit 2, beside a directory that is', async () => {
  const dir = makeLog();
  const missing = path.join(dir, 'not-there');
  const r = await verify([dir, missing]);
  assert.deepEqual([r.rc, r.out, r.err], [2, '', `vigie audit verify: ${missing}: no such file or directory\n`]);
  assert.equal((await verify([dir])).rc, 0);
});

test('vigie audit verify: an entry edited while Vigie was stopped, found at the next start: still BROKEN at that line, with a note naming the file that records it and the check from there', async () => {
  const dir = tempDir('vigie-audit-cli-');
  const now = () => Date.parse('2026-05-01T08:00:00Z');
  const log = new AuditLog({ dir, now, retentionDays: 0 });
  for (let i = 0; i < 3; i++) log.append({ type: 'decision', actor: 'alice', alertId: `a${i}`, details: { action: 'dismiss' } });
  const stopped = log.currentFile!;
  const lines = fs.readFileSync(stopped, 'utf8').split('\n');
  lines[2] = lines[2].replace('"dismiss"', '"confirm"');
  fs.writeFileSync(stopped, lines.join('\n'));
  const next = new AuditLog({ dir, now, retentionDays: 0 });
  next.append({ type: 'decision', actor: 'bob', alertId: 'a3', details: { action: 'dismiss' } });
  const { rc, err } = await verify([dir]);
  assert.equal(rc, 1, err);
  assert.deepEqual(err.trim().split('\n'), [
    `BROKEN at ${stopped}:3: edited: the content does not match its hash`,
    '(2 entries verified before the break)',
    `note: a Vigie start found this break and went on in ${path.basename(next.currentFile!)}, whose header records it; the chain from there verifies: 3 entries, to seq 7.`,
  ]);
});
