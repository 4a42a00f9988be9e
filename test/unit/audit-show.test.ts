/**
 * `vigie audit show`: the audit log read by people (an inquiry, a data-protection officer):
 * filters, the three formats, text that an operator typed kept from forging lines or formulas,
 * and the chain check that comes with every listing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AuditLog, listAuditFiles, verifyAuditFiles } from '../../lib/alerts/audit';
import { auditEntryLine, csvCell, parseAuditTime } from '../../lib/alerts/audit-view';
import { main } from '../../lib/cli/audit-show';
import { main as verifyMain } from '../../lib/cli/audit-verify';
import { parseCsv } from '../../lib/cli/eval-detect';
import { tempDir } from '../support/tmp';

const root = path.resolve(__dirname, '..', '..');
/** Typed by an operator: a line break and a forged entry, a terminal escape that clears the screen, a bidi override. */
const HOSTILE_NOTE = 'bottle bank\n#999  2026-11-28 09:00:00Z  decision  Mallory\u001b[2J\u202e';
const FORMULA_ACTOR = '=HYPERLINK("http://x/","click")';

/** A day of a street's audit log: two alerts, their cameras, views, decisions; files rotate daily. */
function makeLog(): string {
  const dir = tempDir('vigie-audit-show-');
  let t = Date.parse('2026-11-27T22:00:00Z');
  const log = new AuditLog({ dir, now: () => t, retentionDays: 0 });
  const at = (iso: string) => (t = Date.parse(iso));
  at('2026-11-27T22:10:00Z');
  log.append({ type: 'alert', actor: 'auto:loc1', alertId: 'a1', details: { label: 'glass_break', sensor: 's1', confidence: 0.91, camera: 'cam-north', cameraState: 'moving' } });
  at('2026-11-27T22:10:02Z');
  log.append({ type: 'camera-move', actor: 'auto:steer1', alertId: 'a1', details: { cameraId: 'cam-north', pan: 12.5, tilt: -3, state: 'reached' } });
  at('2026-11-27T22:10:05Z');
  log.append({ type: 'live-view', actor: 'Alice', alertId: 'a1', details: { cameraId: 'cam-north', viewer: 'Alice', kind: 'live', address: '10.0.0.7' } });
  at('2026-11-27T22:11:00Z');
  log.append({ type: 'decision', actor: 'Alice', alertId: 'a1', details: { action: 'dismiss', note: HOSTILE_NOTE, label: 'glass_break', revision: 0 } });
  at('2026-11-28T01:30:00Z');
  log.append({ type: 'alert', actor: 'auto:loc1', alertId: 'a2', details: { label: 'scream', sensor: 's2', confidence: 0.8, camera: 'cam-south', cameraState: 'moving' } });
  at('2026-11-28T01:30:03Z');
  log.append({ type: 'camera-move', actor: 'Bob', alertId: 'a1', details: { event: 'camera-taken', cameraId: 'cam-north', takenFor: 'a2', takenBy: 'Bob', reached: true } });
  at('2026-11-28T01:31:00Z');
  log.append({ type: 'decision', actor: FORMULA_ACTOR, alertId: 'a2', details: { action: 'escalate', label: 'scream', revision: 0 } });
  at('2026-11-28T01:32:00Z');
  log.append({ type: 'live-view', actor: 'Bob', details: { event: 'viewed-in-console', camera: 'cam-south', mode: 'live', live: null } });
  return dir;
}

async function show(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(args, (s) => (out += s), (s) => (err += s));
  return { code, out, err };
}

/** The seq of each line of a text listing. */
function seqs(text: string): number[] {
  return text.split('\n').filter(Boolean).map((l) => Number(/^#(\d+) /.exec(l)?.[1] ?? NaN));
}

/** The entries the log holds that are not Vigie's own (file headers, starts): seq of each, by what it is. */
function seqOf(dir: string): Record<string, number> {
  const bySeq: Record<string, number> = {};
  for (const f of listAuditFiles(dir)) {
    for (const line of fs.readFileSync(f, 'utf8').split('\n').filter(Boolean)) {
      const e = JSON.parse(line);
      if (e.actor === 'vigie') continue;
      bySeq[`${e.type}:${e.alertId ?? ''}:${e.details.event ?? e.details.action ?? e.details.state ?? ''}`] = e.seq;
    }
  }
  return bySeq;
}

test('audit show: every entry, oldest first, one line each, with all it says but its hashes; the chain check on standard error', async () => {
  const dir = makeLog();
  const r = await show([dir]);
  assert.equal(r.code, 0, r.err);
  const lines = r.out.split('\n').filter(Boolean);
  const all = listAuditFiles(dir).flatMap((f) => fs.readFileSync(f, 'utf8').split('\n').filter(Boolean)).map((l) => JSON.parse(l));
  assert.ok(listAuditFiles(dir).length >= 2, 'the log spans two days: two files');
  assert.deepEqual(seqs(r.out), all.map((e) => e.seq));
  assert.equal(lines.length, all.length, 'a note with a line break stays on its line');
  const move = lines.find((l) => l.includes('camera-move') && l.includes('pan='))!;
  assert.match(move, /^#\d+  2026-11-27 22:10:02Z  camera-move   auto:steer1  alert=a1  cameraId=cam-north  pan=12\.5  tilt=-3  state=reached$/);
  assert.match(r.err, new RegExp(`^${all.length} of ${all.length} entries shown, from ${listAuditFiles(dir).length} files\nchain intact: seq 1…${all.length}, last hash [0-9a-f]{64} `));
});

test('audit show: what an operator typed cannot forge a line, clear the terminal or reverse the text', async () => {
  const dir = makeLog();
  const r = await show(['--type', 'decision', dir]);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out.split('\n').filter(Boolean).length, 2);
  assert.doesNotMatch(r.out, /[\u0000-\u0008\u000b-\u001f\u007f\u202e]/, 'no control character but the line ends');
  assert.ok(r.out.includes('note="bottle bank\\n#999  2026-11-28 09:00:00Z  decision  Mallory\\u001b[2J\\u202e"'), r.out);
  // An entry edited by hand (its type, a detail's name) is shown as safely; an invisible tag character (outside the BMP) too.
  const forged = auditEntryLine({ v: 1, seq: 7, time: '2026-11-28T09:00:00Z', type: 'decision\u001b[31m' as never, actor: 'x', details: { 'a\nb': '\u{e0041}' }, prev: '', hash: '' });
  assert.equal(forged, '#7  2026-11-28 09:00:00Z  "decision\\u001b[31m"  x  "a\\nb"="\\u{e0041}"');
  // A name with spaces or quotes is quoted, so that it is not read as two fields.
  assert.ok(r.out.includes(`  ${JSON.stringify(FORMULA_ACTOR)}  alert=a2  action=escalate`), r.out);
});

test('audit show filters: an alert (with the entries naming it), a camera (either field), an actor, kinds, a time span; together they narrow', async () => {
  const dir = makeLog();
  const s = seqOf(dir);
  const cases: Array<[string[], number[]]> = [
    [['--alert', 'a2'], [s['alert:a2:'], s['camera-move:a1:camera-taken'], s['decision:a2:escalate']]],
    [['--camera', 'cam-north'], [s['alert:a1:'], s['camera-move:a1:reached'], s['live-view:a1:'], s['camera-move:a1:camera-taken']]],
    [['--camera', 'cam-south'], [s['alert:a2:'], s['live-view::viewed-in-console']]],
    [['--actor', 'Alice'], [s['live-view:a1:'], s['decision:a1:dismiss']]],
    // in any case, spaces around it and the accent's form aside, as people type names
    [['--actor', ' alice '], [s['live-view:a1:'], s['decision:a1:dismiss']]],
    [['--actor', 'Ali'], []],
    [['--type', 'decision,live-view'], [s['live-view:a1:'], s['decision:a1:dismiss'], s['decision:a2:escalate'], s['live-view::viewed-in-console']]],
    // a date alone: its whole day, in UTC
    [['--until', '2026-11-27', '--type', 'alert'], [s['alert:a1:']]],
    [['--since', '2026-11-28', '--type', 'alert'], [s['alert:a2:']]],
    // at or after --since, before --until
    [['--since', '2026-11-27T22:10:02Z', '--until', '2026-11-27 22:11'], [s['camera-move:a1:reached'], s['live-view:a1:']]],
    // 23:10 at +01:00 is 22:10 UTC
    [['--since=2026-11-27T23:10:05+01:00', '--until=2026-11-27T23:11:00+0100'], [s['live-view:a1:']]],
    [['--alert', 'a1', '--actor', 'Bob'], [s['camera-move:a1:camera-taken']]],
  ];
  for (const [args, expected] of cases) {
    assert.ok(expected.every((n) => Number.isInteger(n)), `${args.join(' ')}: the test names entries the log has`);
    const r = await show([...args, dir]);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(seqs(r.out), expected, args.join(' '));
    assert.match(r.err, new RegExp(`^${expected.length} of \\d+ entr`), args.join(' '));
  }
  // A name with an accent, searched for with the accent typed as a letter and a combining mark.
  const accented = tempDir('vigie-audit-show-');
  new AuditLog({ dir: accented, retentionDays: 0 }).append({ type: 'decision', actor: 'Zoé', alertId: 'a3', details: { action: 'confirm' } });
  const zoe = await show(['--actor', 'ZOE\u0301', '--format', 'jsonl', accented]);
  assert.equal(zoe.code, 0, zoe.err);
  assert.deepEqual(zoe.out.split('\n').filter(Boolean).map((l) => JSON.parse(l).actor), ['Zoé']);
});

test('audit show --format csv: a header, one row per entry that a spreadsheet reads back whole; a typed formula stays text', async () => {
  const dir = makeLog();
  const r = await show(['--format', 'csv', '--type', 'decision,camera-move', dir]);
  assert.equal(r.code, 0, r.err);
  // RFC 4180: rows end with CRLF; a line break inside a quoted cell is the cell's
  assert.ok(r.out.endsWith('\r\n'));
  assert.doesNotMatch(r.out.replace(/"(?:[^"]|"")*"/g, '').replace(/\r\n/g, ''), /[\r\n]/, 'no bare line break between rows');
  const rows = parseCsv(r.out);
  assert.deepEqual(rows[0], ['seq', 'time', 'type', 'actor', 'alertId', 'camera', 'event', 'details', 'file', 'line']);
  assert.equal(rows.length, 1 + 4);
  for (const row of rows.slice(1)) assert.equal(row.length, 10, row.join('|'));
  const dismiss = rows.find((x) => x[6] === 'dismiss')!;
  assert.equal(JSON.parse(dismiss[7]).note, HOSTILE_NOTE, 'the note, line break and all, comes back as written');
  const escalate = rows.find((x) => x[6] === 'escalate')!;
  assert.equal(escalate[3], `'${FORMULA_ACTOR}`, 'an actor a spreadsheet would run is kept as text');
  const taken = rows.find((x) => x[6] === 'camera-taken')!;
  assert.deepEqual([taken[2], taken[3], taken[4], taken[5]], ['camera-move', 'Bob', 'a1', 'cam-north']);
  // where the entry is, for an inquiry to go back to it
  const stored = fs.readFileSync(taken[8], 'utf8').split('\n')[Number(taken[9]) - 1];
  assert.equal(JSON.parse(stored).seq, Number(taken[0]));
  assert.equal(csvCell('-1'), "'-1");
  assert.equal(csvCell(-1), '-1');
  assert.equal(csvCell('a,"b"'), '"a,""b"""');
});

test('audit show --format jsonl: the stored lines, byte for byte: unfiltered, they verify as a log', async () => {
  const dir = makeLog();
  const r = await show(['--format', 'jsonl', dir]);
  assert.equal(r.code, 0, r.err);
  const stored = listAuditFiles(dir).map((f) => fs.readFileSync(f, 'utf8')).join('');
  assert.equal(r.out, stored);
  const copy = tempDir('vigie-audit-show-copy-');
  fs.writeFileSync(path.join(copy, 'audit-2026-11-27-001.jsonl'), r.out);
  assert.equal(verifyAuditFiles(listAuditFiles(copy)).ok, true);
});

test('audit show on an edited log: the entries as read, and exit 1 with where the chain breaks; a line that is no entry is named, not shown', async () => {
  const dir = makeLog();
  const files = listAuditFiles(dir);
  const text = fs.readFileSync(files[0], 'utf8');
  assert.ok(text.includes('"dismiss"'));
  fs.writeFileSync(files[0], text.replace('"dismiss"', '"escalate"'));
  const edited = text.split('\n').findIndex((l) => l.includes('"dismiss"')) + 1;
  const r = await show(['--actor', 'Alice', dir]);
  assert.equal(r.code, 1);
  assert.match(r.out, /action=escalate/, 'shown as read');
  assert.ok(r.err.includes(`chain BROKEN at ${files[0]}:${edited}: edited`), r.err);
  assert.doesNotMatch(r.err, /chain intact/);

  const other = makeLog();
  const last = listAuditFiles(other).at(-1)!;
  fs.appendFileSync(last, 'not an entry\n');
  const n = fs.readFileSync(last, 'utf8').split('\n').filter(Boolean).length;
  const u = await show([other]);
  assert.ok(u.err.includes(`unreadable: ${last}:${n}: not JSON`), u.err);
  assert.equal(u.out.split('\n').filter(Boolean).length, n - 1 + fs.readFileSync(listAuditFiles(other)[0], 'utf8').split('\n').filter(Boolean).length);
});

test('audit show on a directory whose newest entries were removed (the newest file deleted while Vigie was stopped): the chain left is intact, and the head record beside it says what is missing', async () => {
  const dir = makeLog();
  const whole = await show([dir]);
  assert.equal(whole.code, 0, whole.err);
  assert.doesNotMatch(whole.err, /WARNING/, 'a head record that matches says nothing');
  const files = listAuditFiles(dir);
  const lastSeq = Math.max(...seqs(whole.out));
  fs.rmSync(files[files.length - 1]);
  const r = await show([dir]);
  assert.equal(r.code, 0, r.err);
  assert.ok(Math.max(...seqs(r.out)) < lastSeq, 'the listing ends where the files end');
  assert.match(r.err, new RegExp(`\\nWARNING: the head record \\S+\\.head\\.json says entry seq \\d+ was written .*, but the files end at seq \\d+: entries \\d+…\\d+ are missing .*; the listing ends where the files end \\(vigie audit verify says more\\)\\n$`));
  // Files given one by one are a part of the log: no head record is read for them.
  assert.doesNotMatch((await show(listAuditFiles(dir))).err, /WARNING/);
});

test('audit show: a Node-RED user directory given for its log names the vigie-audit/ in it; no file at all is exit 2', async () => {
  const userDir = tempDir('vigie-audit-show-ud-');
  const log = makeLog();
  fs.cpSync(log, path.join(userDir, 'vigie-audit'), { recursive: true });
  const r = await show([userDir]);
  assert.equal(r.code, 2);
  assert.ok(r.err.includes(`vigie audit show ${path.join(userDir, 'vigie-audit')}`), r.err);
  const none = await show([path.join(userDir, 'nowhere')]);
  assert.equal(none.code, 2);
  assert.match(none.err, /nowhere: no such file or directory/);
});

/**
 * Runs `fn` as a user that may not read what root made 0o000: as root (tests here run as root),
 * with the effective uid of nobody for the call; otherwise as this user, whom mode 0o000 denies too.
 */
async function asNobody<T>(fn: () => Promise<T>): Promise<T> {
  const asRoot = process.getuid?.() === 0;
  if (asRoot) process.seteuid!(65534);
  try {
    return await fn();
  } finally {
    if (asRoot) process.seteuid!(0);
  }
}

test('audit show and verify on a log this user may not read: "permission denied" naming the path and the uid, exit 2, nothing listed (not "no such file", nor "no audit files")', async () => {
  const uid = process.getuid?.() === 0 ? 65534 : process.getuid!();
  const denied = new RegExp(`permission denied to uid ${uid} \\(run it as the user Node-RED runs as, or as root\\)`);
  // A directory that cannot be listed; a file under one that cannot be entered.
  const closed = makeLog();
  const inside = listAuditFiles(closed)[0];
  // A directory that can be listed, with one file that cannot be read (the log's files are 0600).
  const open = makeLog();
  const guarded = listAuditFiles(open)[1];
  fs.chmodSync(closed, 0o000);
  fs.chmodSync(open, 0o755); // made 0700 by mkdtemp
  fs.chmodSync(guarded, 0o000);
  try {
    for (const [command, run] of [
      ['audit show', (args: string[]) => show(args)],
      ['audit verify', async (args: string[]) => {
        let out = '';
        let err = '';
        const code = await verifyMain(args, (x) => (out += x), (x) => (err += x));
        return { code, out, err };
      }],
    ] as const) {
      for (const [given, named] of [[closed, closed], [inside, inside], [open, guarded]]) {
        const r = await asNobody(() => run([given]));
        assert.equal(r.code, 2, `${command} ${given}: ${r.err}`);
        assert.equal(r.out, '', 'nothing listed');
        assert.ok(r.err.startsWith(`vigie ${command}: ${named}: permission denied`), r.err);
        assert.match(r.err, denied);
      }
    }
  } finally {
    fs.chmodSync(closed, 0o700);
    fs.chmodSync(guarded, 0o600);
  }
  // Readable again: the same paths list.
  assert.equal((await show([closed])).code, 0);
  assert.equal((await show([open])).code, 0);
});

test('audit show with --since/--until on a log written partly before the clock was set (1970 after a power cut): those entries are placed by the real times around them, in chain order, with a note', async () => {
  const dir = tempDir('vigie-audit-show-clock-');
  let t = Date.parse('2026-11-27T22:00:00Z');
  const before = new AuditLog({ dir, now: () => t, retentionDays: 0 });
  before.append({ type: 'decision', actor: 'Alice', alertId: 'a1', details: { action: 'dismiss' } });
  // The gateway restarts without a battery clock: 1970 until NTP answers.
  t = 5_000;
  const after = new AuditLog({ dir, now: () => t, retentionDays: 0 });
  after.append({ type: 'alert', actor: 'auto:loc1', alertId: 'a2', details: { label: 'gunshot' } });
  t += 1000;
  after.append({ type: 'decision', actor: 'Bob', alertId: 'a2', details: { action: 'escalate' } });
  t = Date.parse('2026-11-28T06:00:00Z');
  after.append({ type: 'decision', actor: 'Bob', alertId: 'a3', details: { action: 'confirm' } });
  const alerts = (r: { out: string }) => r.out.split('\n').filter(Boolean).map((l) => JSON.parse(l)).filter((e) => e.actor !== 'vigie').map((e) => `${e.alertId}:${e.time.slice(0, 4)}`);
  const cases: Array<[string[], string[], boolean]> = [
    // between 22:00 on the 27th and 06:00 on the 28th: perhaps in any span that reaches into it
    [['--since', '2026-11-28T00:00Z'], ['a2:1970', 'a2:1970', 'a3:2026'], true],
    [['--since', '2026-11-28T06:00Z'], ['a2:1970', 'a2:1970', 'a3:2026'], true],
    [['--since', '2026-11-28T06:00:01Z'], [], false],
    [['--until', '2026-11-27T23:00Z'], ['a1:2026', 'a2:1970', 'a2:1970'], true],
    [['--until', '2026-11-27T22:00Z'], [], false],
    [['--since', '2026-11-27T23:00Z', '--until', '2026-11-28T01:00Z'], ['a2:1970', 'a2:1970'], true],
    // the other filters still apply to them
    [['--since', '2026-11-28T00:00Z', '--actor', 'bob'], ['a2:1970', 'a3:2026'], true],
    [['--since', '2026-11-28T00:00Z', '--type', 'alert'], ['a2:1970'], true],
  ];
  for (const [args, expected, noted] of cases) {
    const r = await show([...args, '--format', 'jsonl', dir]);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(alerts(r), expected, args.join(' '));
    assert.equal(/note: \d+ of the entries shown (was|were) written before the clock was set/.test(r.err), noted, `${args.join(' ')}: ${r.err}`);
  }
  // Still at the end of the log (no real time after them yet): they may be as late as any time.
  const unsetNow = tempDir('vigie-audit-show-clock-');
  let u = Date.parse('2026-11-27T22:00:00Z');
  const log = new AuditLog({ dir: unsetNow, now: () => u, retentionDays: 0 });
  log.append({ type: 'decision', actor: 'Alice', alertId: 'a1', details: { action: 'dismiss' } });
  u = 5_000;
  log.append({ type: 'alert', actor: 'auto:loc1', alertId: 'a2', details: { label: 'gunshot' } });
  assert.deepEqual(alerts(await show(['--since', '2030-01-01', '--format', 'jsonl', unsetNow])), ['a2:1970']);
  assert.deepEqual(alerts(await show(['--until', '2026-11-27T21:00Z', '--format', 'jsonl', unsetNow])), []);
});

test('audit show times: a date, a date and time in UTC or with an offset; a day or hour that does not exist is refused', () => {
  assert.equal(parseAuditTime('2026-11-28'), Date.parse('2026-11-28T00:00:00Z'));
  assert.equal(parseAuditTime('2026-11-28', true), Date.parse('2026-11-29T00:00:00Z'));
  assert.equal(parseAuditTime('2026-11-28T14:03'), Date.parse('2026-11-28T14:03:00Z'));
  assert.equal(parseAuditTime('2026-11-28 14:03:12.5'), Date.parse('2026-11-28T14:03:12.500Z'));
  assert.equal(parseAuditTime('2026-11-28T14:03:12+01:00'), Date.parse('2026-11-28T13:03:12Z'));
  assert.equal(parseAuditTime('2026-11-28T14:03-0130'), Date.parse('2026-11-28T15:33:00Z'));
  assert.equal(parseAuditTime('2026-11-28T14:03', true), Date.parse('2026-11-28T14:03:00Z'), 'a time is the time, for --until too');
  for (const bad of ['2026-02-30', '2026-11-28T25:00', '2026-11-28T12:60', '2026-11-28T12:00:60', 'yesterday', '28/11/2026', '2026-11-28T14', '']) {
    assert.equal(parseAuditTime(bad), undefined, bad);
  }
  // an entry with a time that is not one (a clock never set) still shows, as written
  assert.match(auditEntryLine({ v: 1, seq: 3, time: '1970-01-01T00:00:05.000Z', type: 'system', actor: 'vigie', details: {}, prev: '', hash: '' }), /^#3  1970-01-01 00:00:05Z  system {8}vigie$/);
});

test('vigie audit show runs from the command line, listed with the audit commands', () => {
  const dir = makeLog();
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'bin', 'vigie.ts'), 'audit', 'show', '--camera', 'cam-south', '--format', 'text', dir], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.split('\n').filter(Boolean).length, 2);
  assert.match(r.stderr, /chain intact/);
});

test('vigie audit show into a reader that stops early (| head): ends quietly, exit 0, no stack trace of the write that failed', async () => {
  const dir = tempDir('vigie-audit-show-long-');
  let t = Date.parse('2026-11-01T00:00:00Z');
  const log = new AuditLog({ dir, now: () => t, retentionDays: 0 });
  // some 1.5 MB over 13 daily files: far more than a pipe holds
  for (let i = 0; i < 3000; i++, t += 6 * 60_000) log.append({ type: 'decision', actor: 'alice', alertId: `a${i}`, details: { action: 'dismiss', note: 'n'.repeat(500) } });
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'bin', 'vigie.ts'), 'audit', 'show', dir], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const first = await new Promise<string>((resolve) => child.stdout.once('data', (d) => resolve(String(d))));
  child.stdout.destroy();
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  assert.match(first, /^#1  2026-11-01 00:00:00Z  system /);
  assert.equal(code, 0, stderr);
  assert.doesNotMatch(stderr, /EPIPE|Error|at /, stderr);
});
