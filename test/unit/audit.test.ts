import { mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AuditEntry, AuditLog, AuditWaitingError, EditedFile, editedFileWarning, GENESIS_HASH, headMismatchWarning, listAuditFiles, openSharedAuditLog, parseExpectedHash, vanishedFileWarning, verifyAuditFiles } from '../../lib/alerts/audit';
import { auditBus } from '../../lib/alerts/bus';
import { tempDir } from '../support/tmp';
import { waitFor } from '../support/wait';
import { auditLine, legacyBackstepLog, rewriteChain } from '../support/audit-logs';
import { twoClocks } from '../support/wall-clock';

const DAY = 86_400_000;

function tmpDir(): string {
  return tempDir('vigie-audit-');
}

/** A wall clock and a monotonic one, moving together unless a test steps the wall clock alone. */
const clock = twoClocks;

function writeSome(log: AuditLog, n: number, c?: { advance: (ms: number) => void }) {
  for (let i = 0; i < n; i++) {
    log.append({ type: i % 2 ? 'decision' : 'alert', actor: `op${i}`, alertId: `a${i}`, details: { i, label: 'glass_break' } });
    c?.advance(1000);
  }
}

function lines(file: string): string[] {
  return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);
}

test('append writes a header then hash-chained JSON lines that verify', () => {
  const dir = tmpDir();
  const c = clock(Date.parse('2026-03-01T10:00:00Z'));
  const log = new AuditLog({ dir, now: c.now });
  writeSome(log, 5, c);
  const files = listAuditFiles(dir);
  assert.deepEqual(files.map((f) => path.basename(f)), ['audit-2026-03-01-001.jsonl']);
  const entries = lines(files[0]).map((l) => JSON.parse(l));
  assert.equal(entries.length, 6);
  assert.equal(entries[0].type, 'system');
  assert.equal(entries[0].details.event, 'file-open');
  assert.equal(entries[0].prev, GENESIS_HASH);
  for (let i = 1; i < entries.length; i++) {
    assert.equal(entries[i].prev, entries[i - 1].hash);
    assert.equal(entries[i].seq, i + 1);
  }
  assert.equal(entries[3].actor, 'op2');
  assert.equal(entries[3].alertId, 'a2');
  const r = verifyAuditFiles(files);
  assert.equal(r.ok, true, JSON.stringify(r.break));
  assert.equal(r.entries, 6);
  assert.equal(r.anchored, false);
  assert.equal(r.lastHash, log.lastHash);
});

test('audit details never keep sample-like data', () => {
  const dir = tmpDir();
  const log = new AuditLog({ dir });
  log.append({
    type: 'alert',
    actor: 'x',
    details: { samples: [0.1, 0.2], pcm: 'AAAA', nested: { data: [1, 2, 3] }, wave: new Float32Array(8), many: Array.from({ length: 100 }, (_, i) => i / 100), label: 'crash' },
  });
  const text = fs.readFileSync(listAuditFiles(dir)[0], 'utf8');
  const e = JSON.parse(text.trim().split('\n')[1]);
  assert.deepEqual(e.details, { nested: {}, label: 'crash' });
  assert.doesNotMatch(text, /samples|pcm|AAAA/);
  // not in the whole line: a timestamp such as 18:58:40.990Z would match
  assert.doesNotMatch(JSON.stringify(e.details), /0\.99/);
});

test('rotation by day and by size keeps one chain across files, and a restart resumes it', () => {
  const dir = tmpDir();
  const c = clock(Date.parse('2026-03-01T23:59:50Z'));
  const log = new AuditLog({ dir, now: c.now, maxFileBytes: 4096 });
  writeSome(log, 3, c); // 2026-03-01
  c.advance(60_000);
  writeSome(log, 40, c); // 2026-03-02, overflows 4 KiB several times
  const files = listAuditFiles(dir).map((f) => path.basename(f));
  assert.equal(files[0], 'audit-2026-03-01-001.jsonl');
  assert.ok(files.length >= 3, `expected size rotation, got ${files.join(',')}`);
  assert.ok(files.slice(1).every((f) => f.startsWith('audit-2026-03-02-')));
  for (const f of listAuditFiles(dir)) assert.ok(fs.statSync(f).size <= 4096, `${f} is ${fs.statSync(f).size} bytes`);
  const second = JSON.parse(lines(listAuditFiles(dir)[1])[0]);
  assert.equal(second.details.previousFile, 'audit-2026-03-01-001.jsonl');

  // restart: a new writer continues the chain in the same file
  const again = new AuditLog({ dir, now: c.now, maxFileBytes: 4096 });
  again.append({ type: 'decision', actor: 'after-restart', details: {} });
  assert.equal(again.lastSeq, log.lastSeq + 1);
  const r = verifyAuditFiles(listAuditFiles(dir));
  assert.equal(r.ok, true, JSON.stringify(r.break));
  assert.equal(r.lastSeq, again.lastSeq);
});

test('retention removes whole old files at rotation and the chain stays verifiable, anchored', () => {
  const dir = tmpDir();
  const c = clock(Date.parse('2026-01-01T12:00:00Z'));
  const log = new AuditLog({ dir, now: c.now, monotonicNow: c.mono, retentionDays: 7 });
  for (let d = 0; d < 12; d++) {
    writeSome(log, 2, c);
    c.advance(DAY);
  }
  writeSome(log, 1, c);
  const names = listAuditFiles(dir).map((f) => path.basename(f));
  assert.ok(!names.includes('audit-2026-01-01-001.jsonl'), names.join(','));
  assert.ok(names.length <= 9 && names.length >= 7, names.join(','));
  const header = JSON.parse(lines(listAuditFiles(dir).at(-1)!)[0]);
  assert.ok(Array.isArray(header.details.removedByRetention));
  const r = verifyAuditFiles(listAuditFiles(dir));
  assert.equal(r.ok, true, JSON.stringify(r.break));
  assert.equal(r.anchored, true);
  assert.equal(r.unrecordedStart, undefined, 'a header records the removal of the files before the first');
  assert.equal(r.retentionDays, 7);
});

test('the files before the first missing with no header recording their removal: said (unrecordedStart), the chain intact; a later header recording it explains it, when given', () => {
  const dir = tmpDir();
  const c = clock(Date.parse('2026-05-01T12:00:00Z'));
  const log = new AuditLog({ dir, now: c.now, monotonicNow: c.mono, retentionDays: 90 });
  for (let d = 0; d < 3; d++) {
    writeSome(log, 2, c);
    c.advance(DAY);
  }
  const files = listAuditFiles(dir);
  assert.equal(files.length, 3);
  // The whole log: from the genesis.
  assert.equal(verifyAuditFiles(files).unrecordedStart, undefined);
  // The oldest file deleted (files 1 to 3 days old, 90 days of retention): no header says why.
  fs.rmSync(files[0]);
  const r = verifyAuditFiles(files.slice(1));
  assert.equal(r.ok, true, JSON.stringify(r.break));
  assert.equal(r.anchored, true);
  assert.deepEqual(r.unrecordedStart, { file: files[1], previousFile: path.basename(files[0]) });

  // Retention removing the first files, recorded in a later header: explained, whichever files are given from it.
  const dir2 = tmpDir();
  const c2 = clock(Date.parse('2026-01-01T12:00:00Z'));
  const log2 = new AuditLog({ dir: dir2, now: c2.now, monotonicNow: c2.mono, retentionDays: 2 });
  for (let d = 0; d < 5; d++) {
    writeSome(log2, 2, c2);
    c2.advance(DAY);
  }
  const kept = listAuditFiles(dir2);
  const recorded = verifyAuditFiles(kept);
  assert.equal(recorded.ok, true, JSON.stringify(recorded.break));
  assert.equal(recorded.anchored, true);
  assert.equal(recorded.unrecordedStart, undefined);
  // Given without the file whose header records the removal: not explained by the files given.
  assert.deepEqual(verifyAuditFiles(kept.slice(0, -1)).unrecordedStart?.file, kept[0]);
});

test('each header records the retention in force (days); a change shows where it happened; a log from before (no such field) verifies, without it', () => {
  const dir = tmpDir();
  const c = clock(Date.parse('2026-05-01T12:00:00Z'));
  writeSome(new AuditLog({ dir, now: c.now, monotonicNow: c.mono, retentionDays: 90 }), 2, c);
  c.advance(DAY);
  writeSome(new AuditLog({ dir, now: c.now, monotonicNow: c.mono, retentionDays: 30 }), 2, c);
  c.advance(DAY);
  writeSome(new AuditLog({ dir, now: c.now, monotonicNow: c.mono, retentionDays: 0 }), 2, c);
  const files = listAuditFiles(dir);
  assert.deepEqual(files.map((f) => JSON.parse(lines(f)[0]).details.retentionDays), [90, 30, 0]);
  const r = verifyAuditFiles(files);
  assert.equal(r.ok, true, JSON.stringify(r.break));
  assert.deepEqual(r.retentionChanges, [
    { file: files[1], fromDays: 90, toDays: 30 },
    { file: files[2], fromDays: 30, toDays: 0 },
  ]);
  assert.equal(r.retentionDays, 0);
  const legacy = verifyAuditFiles(listAuditFiles(legacyBackstepLog().dir));
  assert.equal(legacy.ok, true, JSON.stringify(legacy.break));
  assert.deepEqual([legacy.retentionDays, legacy.retentionChanges, legacy.unrecordedStart], [undefined, [], undefined]);
});


test('expected hashes: one kept earlier is found in the chain; after a whole rewrite (hashes recomputed) the chain still verifies but no longer holds it, and says what is there instead', () => {
  const dir = tmpDir();
  const c = clock(Date.parse('2026-03-01T10:00:00Z'));
  const log = new AuditLog({ dir, now: c.now, retentionDays: 0 });
  writeSome(log, 4, c);
  const kept = { seq: log.lastSeq, hash: log.lastHash };
  const before = verifyAuditFiles(listAuditFiles(dir), { expect: [kept, { hash: kept.hash }] });
  assert.equal(before.ok, true);
  assert.equal(before.lastTime, new Date(c.now() - 1000).toISOString());
  assert.deepEqual(before.expected.map((x) => x.found), [true, true]);
  writeSome(log, 2, c);
  rewriteChain(dir, (e) => {
    if (e.seq === 3) e.actor = 'mallory';
  });
  const after = verifyAuditFiles(listAuditFiles(dir), { expect: [kept, { hash: kept.hash }, { seq: 99, hash: kept.hash }] });
  assert.equal(after.ok, true, 'the rewritten chain is consistent');
  assert.deepEqual(
    after.expected.map((x) => [x.found, x.hashAtSeq]),
    [
      [false, JSON.parse(lines(listAuditFiles(dir)[0])[kept.seq - 1]).hash],
      [false, undefined],
      [false, undefined],
    ],
  );
});

test('parseExpectedHash takes HASH or SEQ:HASH (64 hexadecimal digits), and nothing else', () => {
  const h = 'AB'.repeat(32);
  assert.deepEqual(parseExpectedHash(h), { hash: h.toLowerCase() });
  assert.deepEqual(parseExpectedHash(`12:${h}`), { seq: 12, hash: h.toLowerCase() });
  for (const bad of ['', h.slice(1), `0:${h}`, `-1:${h}`, `x:${h}`, `${h}0`, `12:`]) assert.equal(parseExpectedHash(bad), undefined, bad);
});

test('onFileOpen is told each new file\'s header, once written', () => {
  const dir = tmpDir();
  const c = clock(Date.parse('2026-03-01T10:00:00Z'));
  const told: Array<{ seq: number; hash: string; file: unknown }> = [];
  const log = new AuditLog({ dir, now: c.now, retentionDays: 0, onFileOpen: (h) => told.push({ seq: h.seq, hash: h.hash, file: h.details.file }) });
  writeSome(log, 2, c);
  c.advance(DAY);
  writeSome(log, 1, c);
  const headers = listAuditFiles(dir).map((f) => JSON.parse(lines(f)[0]));
  assert.deepEqual(told, headers.map((h) => ({ seq: h.seq, hash: h.hash, file: h.details.file })));
  assert.equal(told.length, 2);
});

function chain(n = 6): { dir: string; file: string } {
  const dir = tmpDir();
  const c = clock(Date.parse('2026-03-01T10:00:00Z'));
  const log = new AuditLog({ dir, now: c.now });
  writeSome(log, n, c);
  return { dir, file: listAuditFiles(dir)[0] };
}

test('verify finds an edited line (content changed, hash left as is)', () => {
  const { file } = chain();
  const l = lines(file);
  l[3] = l[3].replace('"actor":"op2"', '"actor":"op9"');
  fs.writeFileSync(file, l.join('\n') + '\n');
  const r = verifyAuditFiles([file]);
  assert.equal(r.ok, false);
  assert.equal(r.break!.line, 4);
  assert.match(r.break!.reason, /edited/);
});

test('verify finds an edited line even when the editor recomputed its hash', async () => {
  const { createHash } = await import('node:crypto');
  const { file } = chain();
  const l = lines(file);
  const e = JSON.parse(l[2]);
  delete e.hash;
  e.actor = 'someone-else';
  const body = JSON.stringify(e);
  l[2] = `${body.slice(0, -1)},"hash":"${createHash('sha256').update(body).digest('hex')}"}`;
  fs.writeFileSync(file, l.join('\n') + '\n');
  const r = verifyAuditFiles([file]);
  assert.equal(r.ok, false);
  assert.equal(r.break!.line, 3);
  assert.match(r.break!.reason, /edited/);
});

test('verify finds a removed line', () => {
  const { file } = chain();
  const l = lines(file);
  l.splice(3, 1);
  fs.writeFileSync(file, l.join('\n') + '\n');
  const r = verifyAuditFiles([file]);
  assert.equal(r.ok, false);
  assert.equal(r.break!.line, 4);
  assert.match(r.break!.reason, /removed/);
});

test('verify finds reordered lines', () => {
  const { file } = chain();
  const l = lines(file);
  [l[2], l[3]] = [l[3], l[2]];
  fs.writeFileSync(file, l.join('\n') + '\n');
  const r = verifyAuditFiles([file]);
  assert.equal(r.ok, false);
  assert.equal(r.break!.line, 3);
  assert.match(r.break!.reason, /reordered/);
});

test('verify finds a removed header and a missing file between two', () => {
  const { file } = chain();
  const l = lines(file);
  fs.writeFileSync(file, l.slice(1).join('\n') + '\n');
  const r = verifyAuditFiles([file]);
  assert.equal(r.ok, false);
  assert.equal(r.break!.line, 1);
  assert.match(r.break!.reason, /header/);

  const dir = tmpDir();
  const c = clock(Date.parse('2026-03-01T10:00:00Z'));
  const log = new AuditLog({ dir, now: c.now, retentionDays: 0 });
  for (let d = 0; d < 3; d++) {
    writeSome(log, 2, c);
    c.advance(DAY);
  }
  const files = listAuditFiles(dir);
  assert.equal(verifyAuditFiles(files).ok, true);
  const r2 = verifyAuditFiles([files[0], files[2]]);
  assert.equal(r2.ok, false);
  assert.equal(r2.break!.file, files[2]);
  assert.equal(r2.break!.line, 1);
  assert.match(r2.break!.reason, /missing/);
});

test('the shared log is fed by the audit bus once per directory and stops when released', () => {
  const dir = tmpDir();
  const a = openSharedAuditLog({ dir });
  const b = openSharedAuditLog({ dir });
  auditBus.publish({ type: 'camera-move', actor: 'auto:ptz', alertId: 'x1', details: { camera: 'cam1', pan: 10 } });
  a.release();
  auditBus.publish({ type: 'live-view', actor: 'alice', alertId: 'x1', details: { camera: 'cam1' } });
  b.release();
  auditBus.publish({ type: 'decision', actor: 'bob', alertId: 'x1', details: {} });
  const entries = listAuditFiles(dir).flatMap(lines).map((l) => JSON.parse(l));
  assert.deepEqual(entries.map((e) => e.type), ['system', 'camera-move', 'live-view']);
  assert.equal(entries[1].details.camera, 'cam1');
  assert.equal(verifyAuditFiles(listAuditFiles(dir)).ok, true);
});

test('a write that fails keeps the events in order in memory, retries, and writes them once the disk takes them', async () => {
  const dir = tmpDir();
  const errors: string[] = [];
  let recovered = 0;
  const h = openSharedAuditLog({ dir }, (e) => errors.push(e.message), () => recovered++);
  try {
    auditBus.publish({ type: 'camera-move', actor: 'auto:ptz', alertId: 'b1', details: { camera: 'cam1' } });
    // The directory goes away (unmounted disk): the next writes fail.
    const away = `${dir}-away`;
    fs.renameSync(dir, away);
    auditBus.publish({ type: 'decision', actor: 'alice', alertId: 'b1', details: { state: 'confirmed' } });
    auditBus.publish({ type: 'live-view', actor: 'bob', alertId: 'b2', details: { camera: 'cam1' } });
    assert.ok(errors.length >= 1 && /ENOENT/.test(errors[0]), errors.join('\n'));
    assert.equal(h.backlog, 2);
    assert.equal(recovered, 0);
    // Back: the retry writes what waited, in order, on the same chain.
    fs.renameSync(away, dir);
    await waitFor(() => recovered > 0, 20_000, 'the log written again');
    assert.equal(recovered, 1);
    assert.equal(h.backlog, 0);
    auditBus.publish({ type: 'decision', actor: 'carol', alertId: 'b2', details: { state: 'dismissed' } });
    const entries = listAuditFiles(dir).flatMap(lines).map((l) => JSON.parse(l));
    assert.deepEqual(entries.filter((e) => e.type !== 'system').map((e) => `${e.type}:${e.actor}`), ['camera-move:auto:ptz', 'decision:alice', 'live-view:bob', 'decision:carol']);
    assert.equal(verifyAuditFiles(listAuditFiles(dir)).ok, true);
  } finally {
    h.release();
  }
});

test('a log directory that cannot be made at deploy is said, retried, and used once it can be', async () => {
  const parent = tmpDir();
  const dir = path.join(parent, 'audit');
  fs.writeFileSync(dir, 'a file where the directory should be');
  const errors: string[] = [];
  let recovered = 0;
  const h = openSharedAuditLog({ dir }, (e) => errors.push(e.message), () => recovered++);
  try {
    assert.equal(errors.length, 1, 'said at once');
    auditBus.publish({ type: 'decision', actor: 'alice', alertId: 'm1', details: { state: 'confirmed' } });
    assert.equal(h.backlog, 1);
    fs.rmSync(dir);
    await waitFor(() => recovered > 0, 20_000, 'the log written again');
    assert.equal(recovered, 1);
    const entries = listAuditFiles(dir).flatMap(lines).map((l) => JSON.parse(l));
    assert.deepEqual(entries.filter((e) => e.type !== 'system').map((e) => `${e.type}:${e.actor}`), ['decision:alice']);
  } finally {
    h.release();
  }
});

test('events still waiting when the last user lets go (a redeploy during a fault) are written by the next one to open the log', async () => {
  const dir = tmpDir();
  const first = openSharedAuditLog({ dir });
  try {
    auditBus.publish({ type: 'camera-move', actor: 'auto:ptz', alertId: 'r1', details: { camera: 'cam1' } });
    fs.renameSync(dir, `${dir}-away`);
    auditBus.publish({ type: 'decision', actor: 'alice', alertId: 'r1', details: { state: 'confirmed' } });
    assert.equal(first.backlog, 1);
  } finally {
    first.release(); // the old node closes; its last attempt fails too
  }
  fs.renameSync(`${dir}-away`, dir);
  const errors: string[] = [];
  const second = openSharedAuditLog({ dir }, (e) => errors.push(e.message));
  try {
    // Written as the log opens: no error is made up for them, no retry waited for.
    assert.equal(second.backlog, 0);
    assert.deepEqual(errors, []);
    const entries = listAuditFiles(dir).flatMap(lines).map((l) => JSON.parse(l));
    assert.deepEqual(entries.filter((e) => e.type !== 'system').map((e) => `${e.type}:${e.actor}`), ['camera-move:auto:ptz', 'decision:alice']);
    assert.equal(verifyAuditFiles(listAuditFiles(dir)).ok, true);
  } finally {
    second.release();
  }
});

test('a snapshot waits behind events the disk has not taken yet: refused (nothing written) while they wait, kept after them once written', async () => {
  const dir = tmpDir();
  let recovered = 0;
  const h = openSharedAuditLog({ dir }, () => undefined, () => recovered++);
  try {
    auditBus.publish({ type: 'camera-move', actor: 'auto:ptz', alertId: 's1', details: { camera: 'cam1' } });
    const realAppend = fs.appendFileSync;
    const append = mock.method(require('node:fs') as typeof fs, 'appendFileSync', () => {
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    });
    try {
      auditBus.publish({ type: 'decision', actor: 'alice', alertId: 's1', details: { state: 'confirmed' } });
      assert.equal(h.backlog, 1);
      assert.throws(
        () => h.saveSnapshot('s1', fakeJpeg(80), 'auto:dash'),
        (err: Error) => err instanceof AuditWaitingError && /^the audit log is waiting to write 1 earlier event \(disk full \(ENOSPC/.test(err.message),
      );
      assert.equal(fs.existsSync(path.join(dir, 'snapshots')), false, 'no picture written while it cannot be vouched for in order');
    } finally {
      append.mock.restore();
    }
    assert.equal(fs.appendFileSync, realAppend);
    await waitFor(() => recovered > 0, 20_000, 'the log written again');
    h.saveSnapshot('s1', fakeJpeg(80), 'auto:dash');
    const entries = listAuditFiles(dir).flatMap(lines).map((l) => JSON.parse(l)).filter((e) => e.type !== 'system');
    assert.deepEqual(entries.map((e) => e.type), ['camera-move', 'decision', 'snapshot'], 'the snapshot comes after what waited');
    assert.equal(verifyAuditFiles(listAuditFiles(dir)).ok, true);
  } finally {
    h.release();
  }
});

test('a snapshot whose entry cannot be written leaves no picture behind: the next try keeps it under its own name, not "-2.jpg"', () => {
  const dir = tmpDir();
  const c = clock(Date.parse('2026-06-01T10:00:00Z'));
  const log = new AuditLog({ dir, now: c.now });
  log.append({ type: 'decision', actor: 'alice', details: {} });
  const append = mock.method(require('node:fs') as typeof fs, 'appendFileSync', () => {
    throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
  });
  try {
    assert.throws(() => log.saveSnapshot('alert/9', fakeJpeg(60), 'auto:dash'), /ENOSPC/);
  } finally {
    append.mock.restore();
  }
  const day = fs.readdirSync(path.join(dir, 'snapshots'));
  assert.deepEqual(day.flatMap((d) => fs.readdirSync(path.join(dir, 'snapshots', d))), [], 'the picture without an entry is gone');
  const e = log.saveSnapshot('alert/9', fakeJpeg(60), 'auto:dash');
  assert.match(String(e.details.file), /\/alert_9\.jpg$/);
  assert.equal(verifyAuditFiles(listAuditFiles(dir)).ok, true);
});

function fakeJpeg(n: number): Buffer {
  // SOI + APP0 marker and some bytes: enough for the JPEG signature check
  return Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(n, 7), Buffer.from([0xff, 0xd9])]);
}

test('snapshots are kept beside the log with their hash, checked by verify, and follow retention', () => {
  const dir = tmpDir();
  const c = clock(Date.parse('2026-04-01T09:00:00Z'));
  const log = new AuditLog({ dir, now: c.now, monotonicNow: c.mono, retentionDays: 2 });
  const e = log.saveSnapshot('alert/1', fakeJpeg(100), 'auto:dash', { camera: 'cam-1' });
  assert.equal(e.type, 'snapshot');
  assert.equal(e.details.file, 'snapshots/2026-04-01/alert_1.jpg');
  const pic = path.join(dir, 'snapshots', '2026-04-01', 'alert_1.jpg');
  assert.ok(fs.existsSync(pic));
  assert.equal(verifyAuditFiles(listAuditFiles(dir)).ok, true);
  assert.throws(() => log.saveSnapshot('a2', Buffer.from('RIFF....WAVEfmt '), 'x'), /snapshot: expected a JPEG image/);

  const bytes = fs.readFileSync(pic);
  bytes[50] ^= 0xff;
  fs.writeFileSync(pic, bytes);
  const r = verifyAuditFiles(listAuditFiles(dir));
  assert.equal(r.ok, false);
  assert.match(r.break!.reason, /snapshot snapshots\/2026-04-01\/alert_1\.jpg was changed/);
  // Removed: evidence gone is a break too, not a pass.
  fs.rmSync(pic);
  const gone = verifyAuditFiles(listAuditFiles(dir));
  assert.equal(gone.ok, false);
  assert.match(gone.break!.reason, /^snapshot snapshots\/2026-04-01\/alert_1\.jpg is missing \(removed, or the log was copied without its snapshots folder\)$/);
  fs.writeFileSync(pic, bytes);

  c.advance(5 * DAY);
  log.append({ type: 'system', actor: 'x', details: {} });
  assert.equal(fs.existsSync(path.join(dir, 'snapshots', '2026-04-01')), false, 'old snapshot days are removed at rotation');
});

test('a kept snapshot is never replaced: a second picture of the alert, or of an alert whose id cleans to the same name, is kept beside it; a log opened again knows the alert has one', () => {
  const dir = tmpDir();
  const c = clock(Date.parse('2026-04-01T23:10:00Z'));
  const log = new AuditLog({ dir, now: c.now, monotonicNow: c.mono });
  assert.equal(log.hasSnapshot('alert/1'), false);
  const first = log.saveSnapshot('alert/1', fakeJpeg(100), 'auto:dash');
  const again = log.saveSnapshot('alert/1', fakeJpeg(120), 'auto:dash');
  const other = log.saveSnapshot('alert_1', fakeJpeg(140), 'auto:dash');
  assert.deepEqual([first, again, other].map((e) => e.details.file), ['snapshots/2026-04-01/alert_1.jpg', 'snapshots/2026-04-01/alert_1-2.jpg', 'snapshots/2026-04-01/alert_1-3.jpg']);
  assert.equal(fs.readFileSync(path.join(dir, 'snapshots', '2026-04-01', 'alert_1.jpg')).length, 106, 'the first picture is the one kept at the alert');
  assert.equal(verifyAuditFiles(listAuditFiles(dir)).ok, true);
  // Node-RED started again the next morning: the log there finds last night's picture.
  c.advance(10 * 3_600_000);
  const reopened = new AuditLog({ dir, now: c.now, monotonicNow: c.mono });
  assert.equal(reopened.hasSnapshot('alert/1'), true);
  assert.equal(reopened.hasSnapshot('alert-2'), false);
});

test('a snapshot kept as UTC midnight passes goes in the folder of the day of the file its entry is in (retention removes them together)', () => {
  const dir = tmpDir();
  // A clock that moves 20 ms at each reading: the picture's write straddles midnight.
  let t = Date.parse('2026-11-01T23:59:59.950Z');
  let mono = 0;
  const log = new AuditLog({ dir, now: () => (t += 20), monotonicNow: () => (mono += 20), retentionDays: 90 });
  log.append({ type: 'system', actor: 'x', details: {} });
  const e = log.saveSnapshot('alert-1', fakeJpeg(100), 'auto:dash');
  const fileOfEntry = listAuditFiles(dir).find((f) => fs.readFileSync(f, 'utf8').includes('"type":"snapshot"'))!;
  const entryDay = /audit-(\d{4}-\d\d-\d\d)-/.exec(path.basename(fileOfEntry))![1];
  assert.equal(e.details.file, `snapshots/${entryDay}/alert-1.jpg`);
  assert.equal(verifyAuditFiles(listAuditFiles(dir)).ok, true);
});

/** Cuts the last line of `file` to its first `keep` characters, with no newline: a write torn by a crash. */
function cutLastLine(file: string, keep = 40): void {
  const l = lines(file);
  fs.writeFileSync(file, l.slice(0, -1).map((x) => x + '\n').join('') + l[l.length - 1].slice(0, keep));
}

/** A log of one file (header and `n` entries) on 2026-06-01, its clock, and the file. */
function oneFile(n: number) {
  const dir = tmpDir();
  const c = clock(Date.parse('2026-06-01T10:00:00Z'));
  const log = new AuditLog({ dir, now: c.now });
  writeSome(log, n, c);
  return { dir, c, file: listAuditFiles(dir)[0] };
}

test('after a crash cut the last line, the log resumes in a new file from the last whole entry, and verifies with the cut noted', () => {
  // Four entries (header and three), the last one torn; then a restart and two entries.
  const { dir, c, file: first } = oneFile(3);
  const whole = lines(first);
  assert.equal(whole.length, 4);
  const lastWhole = JSON.parse(whole[2]);
  cutLastLine(first);
  const again = new AuditLog({ dir, now: c.now });
  again.append({ type: 'decision', actor: 'after-crash', details: {} });
  again.append({ type: 'decision', actor: 'after-crash-2', details: {} });
  const files = listAuditFiles(dir);
  assert.deepEqual(files.map((f) => path.basename(f)), ['audit-2026-06-01-001.jsonl', 'audit-2026-06-01-002.jsonl'], 'a new file rather than appending after a torn line');
  const header = JSON.parse(lines(files[1])[0]);
  assert.deepEqual([header.prev, header.seq, header.details.previousFile], [lastWhole.hash, lastWhole.seq + 1, 'audit-2026-06-01-001.jsonl']);

  const r = verifyAuditFiles(files);
  assert.equal(r.ok, true, JSON.stringify(r.break));
  assert.deepEqual(r.cuts, [{ file: first, line: 4, resumedIn: files[1] }]);
  // Every whole entry is checked, the ones after the cut included.
  assert.deepEqual([r.entries, r.firstSeq, r.lastSeq, r.lastHash], [3 + 3, 1, again.lastSeq, again.lastHash]);
  // An edit after the cut is still found.
  const later = lines(files[1]);
  later[2] = later[2].replace('after-crash-2', 'someone-else');
  fs.writeFileSync(files[1], later.join('\n') + '\n');
  const edited = verifyAuditFiles(files);
  assert.deepEqual([edited.ok, edited.break?.file, edited.break?.line], [false, files[1], 3]);
});

test('after a crash cut the last line, opening the log resumes the chain at once, saying so: it verifies before any new event', () => {
  const { dir, c, file: first } = oneFile(3);
  const lastWhole = JSON.parse(lines(first)[2]);
  cutLastLine(first);
  assert.equal(verifyAuditFiles(listAuditFiles(dir)).ok, false, 'a cut end nothing resumes from is a break');
  // As the nodes open it (Node-RED restarting after the crash).
  const h = openSharedAuditLog({ dir, now: c.now });
  try {
    const files = listAuditFiles(dir);
    assert.equal(files.length, 2);
    const [header, resumed] = lines(files[1]).map((l) => JSON.parse(l));
    assert.deepEqual([header.details.event, header.details.previousFile, header.prev], ['file-open', path.basename(first), lastWhole.hash]);
    assert.deepEqual([resumed.type, resumed.actor, resumed.details], ['system', 'vigie', { event: 'resumed-after-cut', cutFile: path.basename(first) }]);
    const r = verifyAuditFiles(files);
    assert.equal(r.ok, true, JSON.stringify(r.break));
    assert.deepEqual(r.cuts, [{ file: first, line: 4, resumedIn: files[1] }]);
  } finally {
    h.release();
  }
  // Opened again: nothing more to resume.
  const again = new AuditLog({ dir, now: c.now });
  assert.equal(again.resumeAfterCut(), false);
  assert.equal(listAuditFiles(dir).length, 2);
  // A new, empty log has nothing to resume either.
  const fresh = new AuditLog({ dir: tmpDir() });
  assert.equal(fresh.resumeAfterCut(), false);
  assert.deepEqual(listAuditFiles(fresh.dir), []);
});

test('a cut line is accepted only at the end of a file that the next file resumes from: anywhere else it breaks the chain', () => {
  // A cut line in the middle of a file (lines after it).
  {
    const { file } = oneFile(4);
    const l = lines(file);
    l[2] = l[2].slice(0, 50);
    fs.writeFileSync(file, l.join('\n') + '\n');
    const r = verifyAuditFiles([file]);
    assert.deepEqual([r.ok, r.break?.line, r.break?.reason], [false, 3, 'not a JSON entry (edited or cut)']);
  }
  // The newest file ends with a cut line, and nothing resumed yet (no entry written since).
  {
    const { file } = oneFile(3);
    cutLastLine(file);
    const r = verifyAuditFiles([file]);
    assert.equal(r.ok, false);
    assert.equal(r.break!.line, 4);
    assert.match(r.break!.reason, /^not a JSON entry \(edited, or cut by a crash\), and no later file resumes the chain from the entry before it/);
    assert.deepEqual(r.cuts, []);
  }
  // A whole last entry cut afterwards (an attacker removing it): the next file links to that entry, not to the one before.
  const rotated = () => {
    const dir = tmpDir();
    const c = clock(Date.parse('2026-06-01T10:00:00Z'));
    const log = new AuditLog({ dir, now: c.now });
    writeSome(log, 3, c);
    c.advance(DAY);
    writeSome(log, 2, c);
    return listAuditFiles(dir);
  };
  {
    const files = rotated();
    assert.equal(verifyAuditFiles(files).ok, true);
    cutLastLine(files[0]);
    const r = verifyAuditFiles(files);
    assert.deepEqual([r.ok, r.break?.file, r.break?.line], [false, files[0], 4]);
    assert.match(r.break!.reason, /and the next file, audit-2026-06-02-001\.jsonl, does not resume the chain from the entry before it \(seq 3\)$/);
  }
  // The same, with the entry removed and the one before it cut: the next file still links to the removed one.
  {
    const files = rotated();
    const l = lines(files[0]);
    fs.writeFileSync(files[0], l.slice(0, -2).map((x) => x + '\n').join('') + l[l.length - 2].slice(0, 30));
    const r = verifyAuditFiles(files);
    assert.deepEqual([r.ok, r.break?.line], [false, 3]);
  }
  // Only the cut file given: nothing shows that the chain resumed.
  {
    const { dir, c, file } = oneFile(3);
    cutLastLine(file);
    new AuditLog({ dir, now: c.now }).append({ type: 'decision', actor: 'after-crash', details: {} });
    const files = listAuditFiles(dir);
    assert.equal(verifyAuditFiles(files).ok, true);
    assert.equal(verifyAuditFiles([file]).ok, false);
    // The next file's header naming another previous file.
    const l = lines(files[1]);
    const h = JSON.parse(l[0]);
    h.details.previousFile = 'audit-2026-05-31-001.jsonl';
    delete h.hash;
    const json = JSON.stringify(h);
    l[0] = `${json.slice(0, -1)},"hash":"${createHash('sha256').update(json).digest('hex')}"}`;
    fs.writeFileSync(files[1], l.join('\n') + '\n');
    const r = verifyAuditFiles(files);
    assert.deepEqual([r.ok, r.break?.file, r.break?.line], [false, file, 4]);
    assert.match(r.break!.reason, /does not start with a header naming audit-2026-06-01-001\.jsonl as its previous file$/);
  }
});

test('a crash that cut the header of a new file: the writer resumes from the last whole entry of the file before, and the log verifies', () => {
  // Day one, then the rotation to day two torn while writing the new file's header.
  const dir = tmpDir();
  const c = clock(Date.parse('2026-06-01T10:00:00Z'));
  const log = new AuditLog({ dir, now: c.now });
  writeSome(log, 3, c);
  // The head record as the crash leaves it: at the last whole entry (the header was not written whole).
  const headBefore = fs.readFileSync(`${dir}.head.json`);
  c.advance(DAY);
  log.append({ type: 'decision', actor: 'torn', details: {} });
  const [day1, day2] = listAuditFiles(dir);
  fs.writeFileSync(day2, lines(day2)[0].slice(0, 60));
  fs.writeFileSync(`${dir}.head.json`, headBefore);
  const again = new AuditLog({ dir, now: c.now });
  again.append({ type: 'decision', actor: 'after-crash', details: {} });
  assert.equal(again.lastSeq, 4 + 2, 'the chain goes on from the whole entries of day one');
  const files = listAuditFiles(dir);
  assert.equal(files.length, 3);
  const r = verifyAuditFiles(files);
  assert.equal(r.ok, true, JSON.stringify(r.break));
  assert.deepEqual(r.cuts, [{ file: day2, line: 1, resumedIn: files[2] }]);
  assert.equal(r.entries, 4 + 2);

  // Cut to nothing (created, then the crash): an empty file, resumed after in the same way.
  fs.writeFileSync(day2, '');
  const empty = verifyAuditFiles(files);
  assert.equal(empty.ok, true, JSON.stringify(empty.break));
  assert.deepEqual(empty.cuts, [{ file: day2, line: 0, resumedIn: files[2] }]);
  // An empty newest file, or one the next file does not resume from, stays a break.
  assert.match(verifyAuditFiles([day1, day2]).break?.reason ?? '', /^empty file .*no later file resumes/);
  fs.rmSync(files[2]);
  const thenEntry = new AuditLog({ dir, now: c.now });
  thenEntry.append({ type: 'decision', actor: 'x', details: {} });
  assert.equal(verifyAuditFiles(listAuditFiles(dir)).ok, true, 'the writer resumes after an empty newest file too');
});

test('a crash right after a whole line, before its newline: the writer starts a new file rather than joining the next entry to it', () => {
  const { dir, c, file } = oneFile(3);
  fs.truncateSync(file, fs.statSync(file).size - 1);
  const again = new AuditLog({ dir, now: c.now });
  again.append({ type: 'decision', actor: 'after-crash', details: {} });
  const files = listAuditFiles(dir);
  assert.equal(files.length, 2);
  const r = verifyAuditFiles(files);
  assert.equal(r.ok, true, JSON.stringify(r.break));
  assert.deepEqual([r.entries, r.cuts], [4 + 2, []], 'nothing was cut: the last entry of the first file counts');
});

test('the header of a new file that could not be written is written again before any entry (the directory away at a rotation)', async () => {
  const dir = tmpDir();
  const c = clock(Date.parse('2026-06-01T23:59:00Z'));
  const log = new AuditLog({ dir, now: c.now });
  writeSome(log, 2, c);
  c.advance(DAY);
  const away = `${dir}-away`;
  fs.renameSync(dir, away);
  assert.throws(() => log.append({ type: 'decision', actor: 'alice', details: {} }), /ENOENT/);
  fs.renameSync(away, dir);
  log.append({ type: 'decision', actor: 'alice', details: {} });
  const files = listAuditFiles(dir);
  assert.equal(files.length, 2);
  assert.equal(JSON.parse(lines(files[1])[0]).details.event, 'file-open');
  const r = verifyAuditFiles(files);
  assert.equal(r.ok, true, JSON.stringify(r.break));
});

/**
 * Runs `script` in a child whose file size limit is `limitKiB` (RLIMIT_FSIZE, `ulimit -f`): a
 * write past it is cut short by the kernel and fails with EFBIG, as on a disk that fills up.
 */
function withFileSizeLimit(limitKiB: number, script: string): string[] {
  const audit = path.resolve(__dirname, '..', '..', 'lib', 'alerts', 'audit.ts');
  const code = `process.on('SIGXFSZ', () => {}); const { AuditLog } = require(${JSON.stringify(audit)}); ${script}`;
  const r = spawnSync('bash', ['-c', `ulimit -f ${limitKiB} && exec "$0" --import tsx -e "$1"`, process.execPath, code], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as string[];
}

test('a write the disk cuts short (a real short write, at the file size limit) is retried in a new file from the last whole entry, and the log verifies', () => {
  const dir = tmpDir();
  // Each entry about 400 bytes: a 4 KiB file ends in the middle of one. A failed append is
  // retried once, as the shared log's backlog does.
  const outcomes = withFileSizeLimit(
    4,
    `const log = new AuditLog({ dir: ${JSON.stringify(dir)}, now: () => ${Date.parse('2026-06-01T10:00:00Z')} });
     const out = [];
     for (let i = 0; i < 20; i++) {
       const ev = { type: 'decision', actor: 'alice', alertId: 'a' + i, details: { note: 'n'.repeat(250) } };
       try { log.append(ev); out.push('ok'); } catch (e) { out.push(e.code); log.append(ev); }
     }
     console.log(JSON.stringify(out));`,
  );
  const failures = outcomes.filter((o) => o !== 'ok');
  assert.ok(failures.length >= 1 && failures.every((o) => o === 'EFBIG'), outcomes.join(','));
  const files = listAuditFiles(dir);
  const cutFiles = files.filter((f) => !fs.readFileSync(f, 'utf8').endsWith('\n'));
  assert.equal(cutFiles.length, failures.length, 'each short write left a cut line at the end of its file');
  const r = verifyAuditFiles(files);
  assert.equal(r.ok, true, JSON.stringify(r.break));
  assert.deepEqual(r.cuts.map((x) => x.file), cutFiles);
  const entries = files.flatMap((f) => lines(f).flatMap((l) => {
    try {
      return [JSON.parse(l)];
    } catch {
      return []; // the cut lines
    }
  }));
  assert.deepEqual(entries.filter((e) => e.type === 'decision').map((e) => e.alertId), Array.from({ length: 20 }, (_, i) => `a${i}`), 'every event written once, in order');
});

test('a new file the disk refuses outright is removed, not left empty at every retry', () => {
  const { dir, file } = oneFile(2);
  // No byte may be written: the new day's file is created, its header refused.
  const outcomes = withFileSizeLimit(
    0,
    `const log = new AuditLog({ dir: ${JSON.stringify(dir)}, now: () => ${Date.parse('2026-06-02T10:00:00Z')} });
     const out = [];
     for (let i = 0; i < 3; i++) { try { log.append({ type: 'decision', actor: 'alice', details: {} }); out.push('ok'); } catch (e) { out.push(e.code); } }
     console.log(JSON.stringify(out));`,
  );
  assert.deepEqual(outcomes, ['EFBIG', 'EFBIG', 'EFBIG']);
  assert.deepEqual(listAuditFiles(dir), [file]);
  assert.equal(verifyAuditFiles([file]).ok, true);
});

test('a write that fails after its whole line reached the file (an error closing it) counts: the chain goes on from that entry', () => {
  const { dir, c, file } = oneFile(2);
  const log = new AuditLog({ dir, now: c.now });
  const realAppend = fs.appendFileSync;
  // The line is written, then the file cannot be closed (as NFS may say at close).
  const append = mock.method(require('node:fs') as typeof fs, 'appendFileSync', (f: fs.PathOrFileDescriptor, data: string | Uint8Array, opts?: fs.WriteFileOptions) => {
    realAppend(f, data, opts);
    throw Object.assign(new Error('EIO: i/o error, close'), { code: 'EIO' });
  });
  let entry;
  try {
    entry = log.append({ type: 'decision', actor: 'alice', details: {} });
  } finally {
    append.mock.restore();
  }
  assert.equal(entry.seq, 4);
  log.append({ type: 'decision', actor: 'bob', details: {} });
  assert.deepEqual(listAuditFiles(dir), [file], 'the same file goes on');
  const r = verifyAuditFiles([file]);
  assert.equal(r.ok, true, JSON.stringify(r.break));
  assert.deepEqual([r.entries, r.cuts], [5, []]);
});

test('a write the disk cuts just before its newline: the entry counts, the next starts a new file linked to it, and the log verifies', () => {
  const { dir, c, file } = oneFile(2);
  const log = new AuditLog({ dir, now: c.now });
  const realAppend = fs.appendFileSync;
  const append = mock.method(require('node:fs') as typeof fs, 'appendFileSync', (f: fs.PathOrFileDescriptor, data: string | Uint8Array, opts?: fs.WriteFileOptions) => {
    realAppend(f, String(data).slice(0, -1), opts);
    throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
  });
  let entry;
  try {
    entry = log.append({ type: 'decision', actor: 'alice', details: {} });
  } finally {
    append.mock.restore();
  }
  assert.equal(entry.seq, 4, 'the entry counts');
  log.append({ type: 'decision', actor: 'bob', details: {} });
  const files = listAuditFiles(dir);
  assert.equal(files.length, 2, 'the next entry went to a new file, not after the line without its newline');
  assert.equal(fs.readFileSync(file, 'utf8').endsWith('}'), true);
  const header = JSON.parse(lines(files[1])[0]);
  assert.deepEqual([header.prev, header.seq], [entry.hash, 5]);
  const r = verifyAuditFiles(files);
  assert.equal(r.ok, true, JSON.stringify(r.break));
  assert.deepEqual([r.entries, r.lastSeq], [3 + 1 + 2, 6]);
});

test('two writes cut in a row (the entry, then the new file\'s header): the log verifies, both cuts noted; a whole entry cut as well breaks it', () => {
  const run = () => {
    const { dir, c } = oneFile(2);
    const log = new AuditLog({ dir, now: c.now });
    const realAppend = fs.appendFileSync;
    let cutsLeft = 2;
    const append = mock.method(require('node:fs') as typeof fs, 'appendFileSync', (f: fs.PathOrFileDescriptor, data: string | Uint8Array, opts?: fs.WriteFileOptions) => {
      if (cutsLeft-- > 0) {
        realAppend(f, String(data).slice(0, 30), opts);
        throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      }
      return realAppend(f, data, opts);
    });
    try {
      for (let i = 0; i < 3; i++) {
        try {
          log.append({ type: 'decision', actor: 'bob', details: {} });
          break;
        } catch {
          /* retried, as the shared log's backlog does */
        }
      }
    } finally {
      append.mock.restore();
    }
    return listAuditFiles(dir);
  };
  const files = run();
  assert.equal(files.length, 3, 'the cut entry, a file with its header cut, the file that resumes');
  assert.equal(lines(files[1]).length, 1);
  const r = verifyAuditFiles(files);
  assert.equal(r.ok, true, JSON.stringify(r.break));
  assert.deepEqual(r.cuts.map((x) => [path.basename(x.file), x.line, path.basename(x.resumedIn)]), [
    [path.basename(files[0]), 4, path.basename(files[1])],
    [path.basename(files[1]), 1, path.basename(files[2])],
  ]);
  // The last whole entry before the cut made unreadable: the resuming file links to it, not to the one before.
  const tampered = run();
  const l = lines(tampered[0]);
  fs.writeFileSync(tampered[0], l.slice(0, -2).map((x) => x + '\n').join('') + l[l.length - 2].slice(0, 25));
  assert.equal(verifyAuditFiles(tampered).ok, false);
});

// Clocks of boxes without a real-time clock: the wall clock reads 1970 (or the last shutdown)
// until NTP steps it, possibly hours later; NTP may also step a fast clock back.

const SYNCED_MS = Date.parse('2026-11-30T07:05:00Z');
const names = (dir: string) => listAuditFiles(dir).map((f) => path.basename(f));
const entriesOf = (dir: string) => listAuditFiles(dir).flatMap((f) => lines(f).map((l) => JSON.parse(l)));

test('a clock set back across midnight: entries go on in the newest day\'s file, never in a file named before it, and the log verifies', () => {
  const dir = tmpDir();
  const c = clock(Date.parse('2026-11-29T23:50:00Z'));
  const log = new AuditLog({ dir, now: c.now, monotonicNow: c.mono });
  log.append({ type: 'decision', actor: 'alice', alertId: 'a1', details: { action: 'dismiss' } });
  c.step(Date.parse('2026-11-30T00:01:00Z')); // a fast clock crosses midnight
  log.append({ type: 'camera-move', actor: 'ptz-steer', alertId: 'a2', details: {} });
  c.step(Date.parse('2026-11-29T23:58:00Z')); // NTP sets it back 3 minutes
  log.append({ type: 'decision', actor: 'alice', alertId: 'a2', details: { action: 'confirm' } });
  const snap = log.saveSnapshot('a2', fakeJpeg(50), 'auto:dash');
  assert.equal(snap.details.file, 'snapshots/2026-11-30/a2.jpg', 'a snapshot goes with the file its entry is in');
  assert.deepEqual(names(dir), ['audit-2026-11-29-001.jsonl', 'audit-2026-11-30-001.jsonl']);
  assert.equal(entriesOf(dir).at(-2).time, '2026-11-29T23:58:00.000Z', 'each entry keeps the time the clock read');
  // A restart the same (stepped-back) day resumes in the same file.
  c.advance(60_000);
  new AuditLog({ dir, now: c.now, monotonicNow: c.mono }).append({ type: 'live-view', actor: 'bob', alertId: 'a2', details: {} });
  assert.deepEqual(names(dir), ['audit-2026-11-29-001.jsonl', 'audit-2026-11-30-001.jsonl']);
  const r = verifyAuditFiles(listAuditFiles(dir));
  assert.equal(r.ok, true, JSON.stringify(r.break));
  assert.equal(r.entries, 7);
  assert.deepEqual(r.namedBefore, []);
});

test('verify takes files in the order of their chain (header seq), not of their names: a log an older Vigie named out of order verifies, with a note', () => {
  const { dir, lastHash } = legacyBackstepLog();
  const r = verifyAuditFiles(listAuditFiles(dir));
  assert.equal(r.ok, true, JSON.stringify(r.break));
  assert.equal(r.entries, 6);
  assert.equal(r.lastHash, lastHash);
  assert.deepEqual(
    r.namedBefore.map((n) => [path.basename(n.file), path.basename(n.follows)]),
    [['audit-2026-11-29-002.jsonl', 'audit-2026-11-30-001.jsonl']],
  );
  assert.deepEqual(verifyAuditFiles(listAuditFiles(dir).reverse()).ok, true, 'in whatever order they are given');

  // What verify found before still breaks: a file missing from the middle of the chain…
  fs.rmSync(path.join(dir, 'audit-2026-11-30-001.jsonl'));
  const missing = verifyAuditFiles(listAuditFiles(dir));
  assert.equal(missing.ok, false);
  assert.equal(path.basename(missing.break!.file), 'audit-2026-11-29-002.jsonl');
  assert.match(missing.break!.reason, /2 entries are missing/);
});

test('verify still finds a file renamed to move it in the chain, and a header edited to reorder it', () => {
  const { dir } = legacyBackstepLog();
  const moved = path.join(dir, 'audit-2026-11-30-002.jsonl');
  fs.renameSync(path.join(dir, 'audit-2026-11-29-002.jsonl'), moved);
  const renamed = verifyAuditFiles(listAuditFiles(dir));
  assert.equal(renamed.ok, false);
  assert.match(renamed.break!.reason, /renamed or replaced/);
  fs.renameSync(moved, path.join(dir, 'audit-2026-11-29-002.jsonl'));

  // A header whose seq is changed (to sort the file elsewhere) no longer matches its hash: the
  // file keeps its place by name, and the chain breaks there.
  const file = path.join(dir, 'audit-2026-11-30-001.jsonl');
  const l = lines(file);
  l[0] = l[0].replace('"seq":3', '"seq":9');
  fs.writeFileSync(file, l.join('\n') + '\n');
  const edited = verifyAuditFiles(listAuditFiles(dir));
  assert.equal(edited.ok, false);
  assert.equal(path.basename(edited.break!.file), 'audit-2026-11-29-002.jsonl');
  assert.match(edited.break!.reason, /does not follow audit-2026-11-29-001\.jsonl: 2 entries are missing/);
  // Its hash recomputed too, the next line no longer links to it.
  const forged = auditLine(Object.fromEntries(Object.entries(JSON.parse(l[0])).filter(([k]) => k !== 'hash')));
  l[0] = forged.line;
  fs.writeFileSync(file, l.join('\n') + '\n');
  const reHashed = verifyAuditFiles(listAuditFiles(dir));
  assert.equal(reHashed.ok, false);
  assert.equal(path.basename(reHashed.break!.file), 'audit-2026-11-29-002.jsonl', 'the file that follows it no longer finds it before');
});

test('a restart on a log named out of order resumes from the entry with the highest seq, not from the file named last: no fork', () => {
  const { dir, lastHash } = legacyBackstepLog();
  const c = clock(Date.parse('2026-11-30T00:05:00Z'));
  const log = new AuditLog({ dir, now: c.now, monotonicNow: c.mono });
  log.open();
  assert.equal(log.lastSeq, 6);
  assert.equal(log.lastHash, lastHash);
  log.append({ type: 'live-view', actor: 'bob', alertId: 'a3', details: {} });
  const newest = JSON.parse(lines(listAuditFiles(dir).at(-1)!)[0]);
  assert.equal(newest.details.previousFile, 'audit-2026-11-29-002.jsonl');
  assert.equal(newest.seq, 7);
  const r = verifyAuditFiles(listAuditFiles(dir));
  assert.equal(r.ok, true, JSON.stringify(r.break));
  assert.equal(r.entries, 8);
});

/** A log written while the clock read 1970, then stepped by NTP to today, in one process: its clocks, its directory. */
function presyncLog() {
  const dir = tmpDir();
  const c = clock(Date.parse('1970-01-01T00:00:42Z'));
  const log = new AuditLog({ dir, now: c.now, monotonicNow: c.mono }); // retention 90 days
  log.append({ type: 'camera-move', actor: 'ptz-steer', alertId: 'a1', details: { camera: 'cam-1' } });
  log.saveSnapshot('a1', fakeJpeg(40), 'auto:dash');
  c.advance(60_000);
  log.append({ type: 'decision', actor: 'alice', alertId: 'a1', details: { action: 'confirm' } });
  c.step(SYNCED_MS);
  log.append({ type: 'live-view', actor: 'alice', alertId: 'a1', details: {} });
  return { dir, c, log };
}

test('an NTP step from 1970 to today: retention keeps the files this process wrote before the step, and their snapshots', () => {
  const { dir, c, log } = presyncLog();
  assert.deepEqual(names(dir), ['audit-1970-01-01-001.jsonl', 'audit-2026-11-30-001.jsonl']);
  assert.equal(entriesOf(dir).some((e) => e.details.removedByRetention), false);
  assert.equal(fs.existsSync(path.join(dir, 'snapshots', '1970-01-01', 'a1.jpg')), true);
  const r = verifyAuditFiles(listAuditFiles(dir));
  assert.equal(r.ok, true, JSON.stringify(r.break));
  assert.equal(r.anchored, false, 'the whole log, from its first entry');
  assert.equal(r.entries, 6);

  // Held for real past the retention period, in the same process: they go.
  c.advance(91 * DAY);
  log.append({ type: 'live-view', actor: 'alice', alertId: 'a2', details: {} });
  const header = JSON.parse(lines(listAuditFiles(dir).at(-1)!)[0]);
  assert.deepEqual(header.details.removedByRetention, ['audit-1970-01-01-001.jsonl', 'audit-2026-11-30-001.jsonl', 'snapshots/1970-01-01/']);
  assert.equal(verifyAuditFiles(listAuditFiles(dir)).anchored, true);
});

test('after a restart, a file written while the clock read 1970 is as old as the first real time written after it: kept until that is past retention', () => {
  const { dir } = presyncLog();
  const after = (ms: number) => {
    const c = clock(ms);
    new AuditLog({ dir, now: c.now, monotonicNow: c.mono }).append({ type: 'live-view', actor: 'bob', alertId: 'a3', details: {} });
  };
  after(SYNCED_MS + DAY); // a new day: a rotation, and retention
  assert.deepEqual(names(dir), ['audit-1970-01-01-001.jsonl', 'audit-2026-11-30-001.jsonl', 'audit-2026-12-01-001.jsonl']);
  assert.equal(fs.existsSync(path.join(dir, 'snapshots', '1970-01-01')), true, 'its snapshots stay with it');
  after(SYNCED_MS + 89 * DAY);
  assert.ok(names(dir).includes('audit-1970-01-01-001.jsonl'), '89 days after the step: kept');
  after(SYNCED_MS + 90 * DAY + 3_600_000);
  assert.deepEqual(names(dir), ['audit-2026-12-01-001.jsonl', 'audit-2027-02-27-001.jsonl', 'audit-2027-02-28-001.jsonl']);
  assert.equal(fs.existsSync(path.join(dir, 'snapshots', '1970-01-01')), false, 'gone with the last file of its day');
  const r = verifyAuditFiles(listAuditFiles(dir));
  assert.equal(r.ok, true, JSON.stringify(r.break));
});

test('files of a clock never set (all before 2023), and nothing real written after them: kept, since nothing tells their age', () => {
  const dir = tmpDir();
  const c = clock(Date.parse('1970-01-01T00:00:42Z'));
  new AuditLog({ dir, now: c.now, monotonicNow: c.mono }).append({ type: 'decision', actor: 'alice', alertId: 'a1', details: { action: 'confirm' } });
  const later = clock(SYNCED_MS);
  new AuditLog({ dir, now: later.now, monotonicNow: later.mono }).append({ type: 'live-view', actor: 'bob', alertId: 'a1', details: {} });
  assert.deepEqual(names(dir), ['audit-1970-01-01-001.jsonl', 'audit-2026-11-30-001.jsonl']);
  assert.equal(verifyAuditFiles(listAuditFiles(dir)).anchored, false);
});

test('retention removes only the oldest files of the chain: a file that is not old enough keeps those after it, so the chain has no hole', () => {
  const dir = tmpDir();
  const c = clock(Date.parse('2026-11-30T10:00:00Z'));
  const log = new AuditLog({ dir, now: c.now, monotonicNow: c.mono, maxFileBytes: 4096 });
  while (listAuditFiles(dir).length < 2) writeSome(log, 1);
  c.step(Date.parse('2026-08-01T10:00:00Z')); // set back by months
  while (listAuditFiles(dir).length < 3) writeSome(log, 1);
  // The file in the middle ends with entries of 2026-08-01: 96 days old, by their time, on 2026-11-05.
  const again = clock(Date.parse('2026-11-05T10:00:00Z'));
  const restarted = new AuditLog({ dir, now: again.now, monotonicNow: again.mono, maxFileBytes: 4096 });
  while (listAuditFiles(dir).length < 4) writeSome(restarted, 1);
  assert.equal(listAuditFiles(dir).length, 4, 'none removed: the first file is not old');
  const r = verifyAuditFiles(listAuditFiles(dir));
  assert.equal(r.ok, true, JSON.stringify(r.break));
});

test('an NTP step from the last shutdown (fake-hwclock, 100 days ago) to today: retention keeps the file this process wrote before the step', () => {
  const dir = tmpDir();
  const c = clock(SYNCED_MS - 100 * DAY);
  const log = new AuditLog({ dir, now: c.now, monotonicNow: c.mono });
  log.append({ type: 'decision', actor: 'alice', alertId: 'a1', details: { action: 'confirm' } });
  c.advance(60_000);
  c.step(SYNCED_MS);
  log.append({ type: 'live-view', actor: 'alice', alertId: 'a1', details: {} });
  assert.equal(listAuditFiles(dir).length, 2);
  assert.equal(entriesOf(dir).some((e) => e.details.removedByRetention), false, 'written a minute ago, whatever its entries\' time says');
  assert.equal(verifyAuditFiles(listAuditFiles(dir)).anchored, false);
});

/** Bytes read from files by `fn` (fs.readFileSync and fs.readSync, as the audit code reads). */
function bytesReadBy(fn: () => void): number {
  const nodeFs = require('node:fs') as typeof fs;
  let bytes = 0;
  const realReadSync = nodeFs.readSync;
  const realReadFileSync = nodeFs.readFileSync;
  const readSync = mock.method(nodeFs, 'readSync', (...args: Parameters<typeof fs.readSync>) => {
    const n = (realReadSync as (...a: unknown[]) => number)(...args);
    bytes += n;
    return n;
  });
  const readFileSync = mock.method(nodeFs, 'readFileSync', (...args: Parameters<typeof fs.readFileSync>) => {
    const data = (realReadFileSync as (...a: unknown[]) => string | Buffer)(...args);
    bytes += typeof data === 'string' ? Buffer.byteLength(data) : data.length;
    return data;
  });
  try {
    fn();
  } finally {
    readSync.mock.restore();
    readFileSync.mock.restore();
  }
  return bytes;
}

test('retention at a rotation reads only the ends of the files it judges, never whole files, and removes what it did before', () => {
  const dir = tmpDir();
  const fileBytes = 256 * 1024;
  const padding = 'p'.repeat(1000);
  const fill = (log: AuditLog, files: number) => {
    const target = listAuditFiles(dir).length + files;
    while (listAuditFiles(dir).length < target) log.append({ type: 'alert', actor: 'sensor', details: { padding } });
  };
  const first = clock(Date.parse('2026-01-01T10:00:00Z'));
  const writer = new AuditLog({ dir, now: first.now, monotonicNow: first.mono, maxFileBytes: fileBytes });
  fill(writer, 3); // 2026-01-01: two full files and the start of a third
  first.step(Date.parse('2026-03-01T10:00:00Z'));
  fill(writer, 3); // 2026-03-01: the same
  const before = listAuditFiles(dir).map((f) => path.basename(f));
  const logBytes = listAuditFiles(dir).reduce((n, f) => n + fs.statSync(f).size, 0);
  assert.ok(logBytes > 3 * fileBytes, `${logBytes} bytes of log`);

  // Another process (its age judged by the entries' times), 104 days after the first day:
  // the three files of 2026-01-01 are past 90 days, those of 2026-03-01 are not.
  const later = clock(Date.parse('2026-04-15T10:00:00Z'));
  const restarted = new AuditLog({ dir, now: later.now, monotonicNow: later.mono, maxFileBytes: fileBytes });
  restarted.open();
  const read = bytesReadBy(() => restarted.append({ type: 'decision', actor: 'alice', alertId: 'a1', details: { action: 'confirm' } }));
  const after = listAuditFiles(dir).map((f) => path.basename(f));
  assert.deepEqual(after, [...before.filter((n) => !n.startsWith('audit-2026-01-01')), 'audit-2026-04-15-001.jsonl']);
  // A header and a tail of a few KB for each file judged, nothing like one whole file.
  assert.ok(read < fileBytes / 2, `the rotation read ${read} bytes of a ${logBytes}-byte log`);
  const r = verifyAuditFiles(listAuditFiles(dir));
  assert.equal(r.ok, true, JSON.stringify(r.break));
  assert.equal(r.anchored, true);
});

/**
 * A log of three files of 2026-01-01 (with a snapshot in the first), then two of 2026-02-20,
 * and the same log's writer restarted on 2026-04-11 (ages judged by entries' times, retention
 * 90 days): its next append rotates, and retention removes the three files of 2026-01-01 and
 * their snapshots, as the running Node-RED does at midnight.
 */
function logAboutToPrune(): { dir: string; listed: string[]; rotate: () => void } {
  const dir = tmpDir();
  const c = clock(Date.parse('2026-01-01T10:00:00Z'));
  const log = new AuditLog({ dir, now: c.now, monotonicNow: c.mono, maxFileBytes: 4096 });
  log.saveSnapshot('alert-1', fakeJpeg(100), 'auto:dash');
  while (listAuditFiles(dir).length < 3) writeSome(log, 1);
  c.advance(50 * DAY);
  while (listAuditFiles(dir).length < 5) writeSome(log, 1);
  const listed = listAuditFiles(dir);
  assert.deepEqual(listed.map((f) => path.basename(f).slice(6, 16)), ['2026-01-01', '2026-01-01', '2026-01-01', '2026-02-20', '2026-02-20']);
  const later = clock(Date.parse('2026-04-11T10:00:00Z'));
  const running = new AuditLog({ dir, now: later.now, monotonicNow: later.mono, maxFileBytes: 4096 });
  running.open();
  const rotate = () => {
    running.append({ type: 'decision', actor: 'alice', alertId: 'a9', details: { action: 'confirm' } });
    assert.equal(fs.existsSync(listed[2]), false, 'retention removed the files of 2026-01-01');
    assert.equal(fs.existsSync(path.join(dir, 'snapshots', '2026-01-01')), false, 'and their snapshots');
  };
  return { dir, listed, rotate };
}

/** Runs `fn` with `before(file)` called just before fs.readFileSync reads an audit file. */
function onAuditRead(before: (file: string) => void, fn: () => void): void {
  const nodeFs = require('node:fs') as typeof fs;
  const realReadFileSync = nodeFs.readFileSync;
  const read = mock.method(nodeFs, 'readFileSync', (...args: Parameters<typeof fs.readFileSync>) => {
    if (typeof args[0] === 'string' && /audit-.*\.jsonl$/.test(args[0])) before(args[0]);
    return (realReadFileSync as (...a: unknown[]) => string | Buffer)(...args);
  });
  try {
    fn();
  } finally {
    read.mock.restore();
  }
}

test('verify while retention removes the oldest files (the log rotates during the check): intact, anchored, the removed files said; as verifying again after it', () => {
  const { dir, listed, rotate } = logAboutToPrune();
  let r: ReturnType<typeof verifyAuditFiles> | undefined;
  // The first file is read whole, then removed with the next two as the check reaches the second.
  onAuditRead((file) => file === listed[1] && fs.existsSync(file) && rotate(), () => (r = verifyAuditFiles(listed)));
  assert.equal(r!.ok, true, JSON.stringify(r!.break));
  assert.equal(r!.anchored, true);
  assert.deepEqual(r!.removedDuringCheck, listed.slice(0, 3));
  assert.equal(r!.unrecordedStart, undefined, 'seen removed by retention during the check, though the header recording it is not among the files given');
  assert.equal(r!.files, 2);
  const afterwards = verifyAuditFiles(listAuditFiles(dir));
  assert.equal(afterwards.ok, true);
  assert.equal(afterwards.unrecordedStart, undefined, 'the new file\'s header records the removal');
  assert.equal(afterwards.firstSeq, r!.firstSeq);
});

test('verify of files removed by retention before the check reads any (listed, then gone): intact from the first file that reads, anchored', () => {
  const { listed, rotate } = logAboutToPrune();
  rotate();
  const r = verifyAuditFiles(listed);
  assert.equal(r.ok, true, JSON.stringify(r.break));
  assert.equal(r.anchored, true);
  assert.deepEqual(r.removedDuringCheck, listed.slice(0, 3));
  assert.equal(r.unrecordedStart, undefined);
});

test('verify while retention removes the file whose snapshot it checks (the snapshot day goes with it): intact, anchored', () => {
  const { listed, rotate } = logAboutToPrune();
  let r: ReturnType<typeof verifyAuditFiles> | undefined;
  // The first file (its snapshot entry) is read, then retention removes it and the snapshot before the check looks at the picture.
  const nodeFs = require('node:fs') as typeof fs;
  const realReadFileSync = nodeFs.readFileSync;
  const read = mock.method(nodeFs, 'readFileSync', (...args: Parameters<typeof fs.readFileSync>) => {
    const data = (realReadFileSync as (...a: unknown[]) => string | Buffer)(...args);
    if (args[0] === listed[0] && fs.existsSync(listed[0])) rotate();
    return data;
  });
  try {
    r = verifyAuditFiles(listed);
  } finally {
    read.mock.restore();
  }
  assert.equal(r.ok, true, JSON.stringify(r.break));
  assert.equal(r.anchored, true);
  assert.deepEqual(r.removedDuringCheck, listed.slice(0, 3));
});

test('verify: a file missing after one still there is a break, and a snapshot missing beside the file that records it too, whatever retention did to older files', () => {
  const { listed } = logAboutToPrune();
  // The second file removed (not by retention: the first is still there), between listing and reading.
  let r: ReturnType<typeof verifyAuditFiles> | undefined;
  onAuditRead((file) => file === listed[1] && fs.rmSync(file, { force: true }), () => (r = verifyAuditFiles(listed)));
  assert.equal(r!.ok, false);
  assert.equal(r!.break!.file, listed[1]);
  assert.match(r!.break!.reason, /^cannot read: ENOENT/);
  assert.deepEqual(r!.removedDuringCheck, []);

  // A snapshot deleted while the file of its entry is kept.
  const { dir, listed: other } = logAboutToPrune();
  fs.rmSync(path.join(dir, 'snapshots', '2026-01-01', 'alert-1.jpg'));
  const missing = verifyAuditFiles(other);
  assert.equal(missing.ok, false);
  assert.equal(missing.break!.file, other[0]);
  assert.match(missing.break!.reason, /^snapshot snapshots\/2026-01-01\/alert-1\.jpg is missing/);

  // Retention removes the oldest files as the check runs, and a later one is missing: still a break.
  const third = logAboutToPrune();
  fs.rmSync(third.listed[4]);
  let t: ReturnType<typeof verifyAuditFiles> | undefined;
  onAuditRead((file) => file === third.listed[1] && fs.existsSync(file) && third.rotate(), () => (t = verifyAuditFiles(third.listed)));
  assert.equal(t!.ok, false);
  assert.equal(t!.break!.file, third.listed[4]);
  assert.match(t!.break!.reason, /^cannot read: ENOENT/);
  assert.deepEqual(t!.removedDuringCheck, third.listed.slice(0, 3));
});

test('the running file deleted by hand: the next entry opens a new file whose header records it (its entries, the hash before them), and verify says so without a break', () => {
  const dir = tmpDir();
  const c = clock(Date.parse('2026-06-01T08:00:00Z'));
  const opened: AuditEntry[] = [];
  const log = new AuditLog({ dir, now: c.now, onFileOpen: (h) => opened.push(h) });
  writeSome(log, 2, c);
  c.advance(DAY);
  writeSome(log, 3, c); // a second file: header (seq 4) and seq 5…7
  const [first, running] = listAuditFiles(dir);
  const linkedTo = JSON.parse(lines(running)[0]).prev;
  fs.rmSync(running);
  writeSome(log, 1, c);
  const files = listAuditFiles(dir);
  assert.equal(files.length, 2, files.join());
  assert.notEqual(files[1], running, 'never under the name of the file that vanished');
  const [header, said, entry] = lines(files[1]).map((l) => JSON.parse(l));
  assert.equal(header.details.event, 'file-open');
  assert.equal(header.details.previousFile, path.basename(running));
  assert.deepEqual(header.details.vanished, { cause: 'deleted', firstSeq: 4, lastSeq: 7, linkedTo, previousFile: path.basename(first) });
  assert.equal(header.seq, 8, 'the chain goes on from the last entry written');
  assert.deepEqual([said.details.event, said.details.file, said.details.cause], ['file-vanished', path.basename(running), 'deleted']);
  assert.equal(entry.type, 'alert');
  assert.equal(opened[opened.length - 1].hash, header.hash, 'the header is told (Node-RED\'s log warns of it)');
  assert.match(vanishedFileWarning(header)!, new RegExp(`^audit log: ${path.basename(running)} was deleted while the log was being written \\(entries seq 4…7\\); the log goes on in ${path.basename(files[1])}`));
  assert.equal(vanishedFileWarning(opened[0]), undefined);

  const r = verifyAuditFiles(files);
  assert.equal(r.ok, true, JSON.stringify(r.break));
  assert.deepEqual(r.vanished, [{ file: path.basename(running), cause: 'deleted', firstSeq: 4, lastSeq: 7, recordedIn: files[1], missing: true }]);
  assert.equal(r.unrecordedStart, undefined);
  // The record explains exactly what went: with a line of the file before it removed too, it breaks.
  const kept = lines(first);
  fs.writeFileSync(first, kept.slice(0, -1).map((l) => l + '\n').join(''));
  assert.equal(verifyAuditFiles(listAuditFiles(dir)).ok, false);
});

test('the running file replaced (another file under its name) or written to by something else: a new file records it; a directory gone as a whole is retried as before', () => {
  for (const cause of ['replaced', 'changed'] as const) {
    const dir = tmpDir();
    const c = clock(Date.parse('2026-06-01T08:00:00Z'));
    const log = new AuditLog({ dir, now: c.now });
    writeSome(log, 2, c);
    const [running] = listAuditFiles(dir);
    const text = fs.readFileSync(running, 'utf8');
    if (cause === 'replaced') {
      // An editor that saves a copy in its place: the same content, another file.
      fs.writeFileSync(`${running}.tmp`, text);
      fs.renameSync(`${running}.tmp`, running);
    } else fs.appendFileSync(running, 'a line of something else\n');
    writeSome(log, 1, c);
    const files = listAuditFiles(dir);
    assert.equal(files.length, 2, `${cause}: ${files.join()}`);
    const header = JSON.parse(lines(files[1])[0]);
    assert.equal(header.details.vanished.cause, cause);
    assert.equal(lines(files[1]).length, 3, 'header, file-vanished, the entry');
    if (cause === 'replaced') {
      // The copy is intact: the chain runs through it, and the record is a note.
      const r = verifyAuditFiles(files);
      assert.equal(r.ok, true, JSON.stringify(r.break));
      assert.deepEqual(r.vanished.map((v) => v.missing), [false]);
    }
  }
  // The directory away as a whole (a disk unmounted) and back: no vanished file, the same file goes on.
  const dir = tmpDir();
  const log = new AuditLog({ dir });
  writeSome(log, 2);
  const away = `${dir}-away`;
  fs.renameSync(dir, away);
  assert.throws(() => writeSome(log, 1), /ENOENT/);
  fs.renameSync(away, dir);
  writeSome(log, 1);
  assert.equal(listAuditFiles(dir).length, 1);
  assert.equal(verifyAuditFiles(listAuditFiles(dir)).vanished.length, 0);
});

/** A log of two files (header and seq 2…3 on 2026-06-01, header seq 4 and seq 5…7 on the 2nd), written by an instance since gone (Vigie stopped). */
function stoppedLog() {
  const dir = tmpDir();
  const c = clock(Date.parse('2026-06-01T08:00:00Z'));
  const before = new AuditLog({ dir, now: c.now });
  writeSome(before, 2, c);
  c.advance(DAY);
  writeSome(before, 3, c);
  const [first, newest] = listAuditFiles(dir);
  return { dir, c, first, newest, lastSeq: before.lastSeq, lastHash: before.lastHash, hashAt: (seq: number) => entriesOf(dir).find((e) => e.seq === seq).hash as string };
}

test('the head record of the last entry written is kept beside the audit directory, not in it, rewritten at each entry; headFile places it', () => {
  const { dir, lastSeq, lastHash, newest } = stoppedLog();
  const head = JSON.parse(fs.readFileSync(`${dir}.head.json`, 'utf8'));
  assert.deepEqual([head.seq, head.hash, head.file, head.fileFirstSeq], [lastSeq, lastHash, path.basename(newest), 4]);
  assert.deepEqual(fs.readdirSync(dir).filter((n) => !n.startsWith('audit-')), [], 'nothing else in the directory');
  const elsewhere = path.join(tmpDir(), 'head.json');
  const log = new AuditLog({ dir: tmpDir(), headFile: elsewhere });
  writeSome(log, 2);
  assert.deepEqual([JSON.parse(fs.readFileSync(elsewhere, 'utf8')).seq, fs.existsSync(`${log.dir}.head.json`)], [3, false]);
});

test('the newest file deleted while Vigie was stopped: the next start records the entries lost in a new file, goes on after them, and verify warns of exactly them', () => {
  const { dir, c, first, newest, lastSeq, lastHash, hashAt } = stoppedLog();
  fs.rmSync(newest);
  const opened: AuditEntry[] = [];
  const log = new AuditLog({ dir, now: c.now, onFileOpen: (h) => opened.push(h) });
  assert.equal(log.resumeAfterCut(), true, 'recorded at the start, not at the next event');
  const files = listAuditFiles(dir);
  assert.equal(files.length, 2, files.join());
  assert.equal(files[0], first);
  assert.notEqual(files[1], newest, 'never under the name of the file lost');
  const [header, said] = lines(files[1]).map((l) => JSON.parse(l));
  assert.equal(header.details.previousFile, path.basename(newest));
  assert.deepEqual(header.details.vanished, { cause: 'deleted-while-stopped', firstSeq: 4, lastSeq: 7, linkedTo: hashAt(3), previousFile: path.basename(first) });
  assert.deepEqual([header.seq, header.prev], [lastSeq + 1, lastHash], 'the lost seqs are not reused');
  assert.deepEqual([said.details.event, said.details.cause, said.details.firstSeq, said.details.lastSeq], ['file-vanished', 'deleted-while-stopped', 4, 7]);
  assert.equal(opened[0].hash, header.hash);
  assert.match(vanishedFileWarning(header)!, new RegExp(`^audit log: ${path.basename(newest)} was deleted while Vigie was stopped \\(entries seq 4…7\\); the log goes on in ${path.basename(files[1])}`));

  const r = verifyAuditFiles(files);
  assert.equal(r.ok, true, JSON.stringify(r.break));
  assert.deepEqual(r.vanished, [{ file: path.basename(newest), cause: 'deleted-while-stopped', firstSeq: 4, lastSeq: 7, recordedIn: files[1], missing: true }]);
  assert.equal(r.unrecordedStart, undefined);
  // Started again: the head record matches, nothing more is recorded.
  writeSome(log, 1, c);
  const again = new AuditLog({ dir, now: c.now });
  assert.equal(again.resumeAfterCut(), false);
  writeSome(again, 1, c);
  assert.equal(listAuditFiles(dir).length, 2);
  // A hole the record does not explain (a line removed before it too) stays a break.
  const kept = lines(first);
  fs.writeFileSync(first, kept.slice(0, -1).map((l) => l + '\n').join(''));
  assert.equal(verifyAuditFiles(listAuditFiles(dir)).ok, false);
});

test('the last entries of the newest file removed while Vigie was stopped, or the file before a crash cut left deleted: recorded the same way', () => {
  {
    const { dir, c, newest, lastSeq, hashAt } = stoppedLog();
    const l = lines(newest);
    fs.writeFileSync(newest, l.slice(0, -2).map((x) => x + '\n').join(''));
    const log = new AuditLog({ dir, now: c.now });
    writeSome(log, 1, c);
    const files = listAuditFiles(dir);
    assert.equal(files.length, 3);
    const header = JSON.parse(lines(files[2])[0]);
    assert.deepEqual(header.details.vanished, { cause: 'shortened-while-stopped', firstSeq: 6, lastSeq, linkedTo: hashAt(5) });
    assert.equal(header.seq, lastSeq + 1);
    const r = verifyAuditFiles(files);
    assert.equal(r.ok, true, JSON.stringify(r.break));
    assert.deepEqual(r.vanished.map((v) => [v.cause, v.firstSeq, v.lastSeq, v.missing]), [['shortened-while-stopped', 6, 7, true]]);
  }
  {
    // A crash cut the first file's end, the log resumed in the second, which was deleted.
    const { dir, c, first, newest } = stoppedLog();
    cutLastLine(first);
    fs.rmSync(newest);
    const log = new AuditLog({ dir, now: c.now });
    writeSome(log, 1, c);
    const r = verifyAuditFiles(listAuditFiles(dir));
    assert.equal(r.ok, true, JSON.stringify(r.break));
    assert.deepEqual(r.vanished.map((v) => [v.cause, v.firstSeq, v.lastSeq]), [['deleted-while-stopped', 3, 7]]);
    assert.equal(r.cuts.length, 1);
  }
});

test('a head record left at the last entry of a recorded loss (its later rewrites lost to a crash) is no mismatch: nothing more is recorded', () => {
  const { dir, c, newest, lastSeq } = stoppedLog();
  const headFile = `${dir}.head.json`;
  const before = fs.readFileSync(headFile, 'utf8');
  assert.equal(JSON.parse(before).seq, lastSeq);
  fs.rmSync(newest);
  const log = new AuditLog({ dir, now: c.now });
  assert.equal(log.resumeAfterCut(), true);
  writeSome(log, 2, c);
  // A crash lost the head record's rewrites since the loss was recorded: it says seq 7 again.
  fs.writeFileSync(headFile, before);
  const filesBefore = listAuditFiles(dir);
  const warned: AuditEntry[] = [];
  const again = new AuditLog({ dir, now: c.now, onFileOpen: (h) => warned.push(h) });
  assert.equal(again.resumeAfterCut(), false, 'no head mismatch recorded');
  writeSome(again, 1, c);
  assert.deepEqual(listAuditFiles(dir), filesBefore, 'no new file for a mismatch');
  assert.equal(warned.length, 0);
  assert.equal(verifyAuditFiles(listAuditFiles(dir)).ok, true);
});

test('retention after a recorded loss: the log starting at the file that records it is explained by the loss and, before it, by retention (no warning of files missing unrecorded)', () => {
  for (const whileStopped of [false, true]) {
    const dir = tmpDir();
    const c = clock(Date.parse('2026-11-01T10:00:00Z'));
    const log = new AuditLog({ dir, now: c.now, retentionDays: 2 });
    writeSome(log, 3, c); // day 1: A
    c.advance(DAY);
    writeSome(log, 3, c); // day 2: B, the one lost
    const [a, b] = listAuditFiles(dir);
    fs.rmSync(b);
    // Noticed at the next entry (deleted while written), or at the next start (while stopped).
    writeSome(whileStopped ? new AuditLog({ dir, now: c.now, retentionDays: 2 }) : log, 1, c);
    // Days later, started again: retention removes A, and the header of that day's file says so.
    c.advance(1.5 * DAY);
    writeSome(new AuditLog({ dir, now: c.now, retentionDays: 2 }), 1, c);
    const files = listAuditFiles(dir);
    assert.equal(files.includes(a), false, 'A removed by retention');
    const lossHeader = JSON.parse(lines(files[0])[0]);
    assert.equal(lossHeader.details.vanished.previousFile, path.basename(a), 'the loss names the file before the lost one');
    const r = verifyAuditFiles(files);
    assert.equal(r.ok, true, JSON.stringify(r.break));
    assert.equal(r.unrecordedStart, undefined, `${whileStopped ? 'while stopped' : 'while written'}: the start is explained`);
    assert.deepEqual(r.vanished.map((v) => [v.file, v.missing]), [[path.basename(b), true]]);
  }
});

test('every audit file deleted while Vigie was stopped: the log starts again after the last entry written, recording the loss', () => {
  for (const files of [1, 2]) {
    const { dir, c, lastSeq, lastHash } = files === 2 ? stoppedLog() : (() => {
      const d = tmpDir();
      const k = clock(Date.parse('2026-06-01T08:00:00Z'));
      const l = new AuditLog({ dir: d, now: k.now });
      writeSome(l, 3, k);
      return { dir: d, c: k, lastSeq: l.lastSeq, lastHash: l.lastHash };
    })();
    const lost = listAuditFiles(dir);
    for (const f of lost) fs.rmSync(f);
    const log = new AuditLog({ dir, now: c.now });
    writeSome(log, 1, c);
    const [only] = listAuditFiles(dir);
    const header = JSON.parse(lines(only)[0]);
    assert.deepEqual([header.seq, header.prev, header.details.previousFile], [lastSeq + 1, lastHash, path.basename(lost[lost.length - 1])]);
    // As far as known: the entries of the head's file (for a log of one file, all of them).
    const firstSeq = files === 2 ? 4 : 1;
    assert.deepEqual([header.details.vanished.cause, header.details.vanished.firstSeq, header.details.vanished.lastSeq], ['deleted-while-stopped', firstSeq, lastSeq]);
    const r = verifyAuditFiles([only]);
    assert.equal(r.ok, true, JSON.stringify(r.break));
    assert.deepEqual(r.vanished.map((v) => [v.firstSeq, v.lastSeq, v.missing]), [[firstSeq, lastSeq, true]]);
    // The files before the head's file are missing too, and nothing says why.
    assert.equal(r.unrecordedStart !== undefined, files === 2);
  }
});

test('a head record the audit files do not hold (replaced wholesale), or one that cannot be read, is recorded and warned of; the log goes on from the files', () => {
  const { dir, c, lastHash } = stoppedLog();
  // Another log of more entries put in its place.
  const other = tmpDir();
  writeSome(new AuditLog({ dir: other, now: c.now }), 9, c);
  for (const f of listAuditFiles(dir)) fs.rmSync(f);
  for (const f of listAuditFiles(other)) fs.copyFileSync(f, path.join(dir, path.basename(f)));
  const otherLast = entriesOf(other).pop();
  const opened: AuditEntry[] = [];
  const log = new AuditLog({ dir, now: c.now, onFileOpen: (h) => opened.push(h) });
  assert.equal(log.resumeAfterCut(), true);
  const files = listAuditFiles(dir);
  assert.equal(files.length, 2);
  const [header, said] = lines(files[1]).map((l) => JSON.parse(l));
  const otherAt7 = entriesOf(other).find((e) => e.seq === 7).hash;
  assert.deepEqual(header.details.headMismatch, { file: 'audit-2026-06-02-001.jsonl', seq: 7, hash: lastHash, found: otherAt7 });
  assert.deepEqual([header.seq, header.prev], [otherLast.seq + 1, otherLast.hash], 'the log goes on from the files');
  assert.deepEqual([said.details.event, said.details.seq, said.details.found], ['head-mismatch', 7, otherAt7]);
  assert.match(headMismatchWarning(opened[0])!, new RegExp(`^audit log: the head record of the last entry written says seq 7 \\(hash ${lastHash}, in audit-2026-06-02-001\\.jsonl\\), but the files hold another entry at that seq`));
  assert.equal(headMismatchWarning(JSON.parse(lines(files[0])[0])), undefined);
  assert.equal(verifyAuditFiles(files).ok, true);

  // A head record that cannot be read: said the same way.
  fs.writeFileSync(`${dir}.head.json`, '{"seq":');
  const next = new AuditLog({ dir, now: c.now });
  writeSome(next, 1, c);
  const last = JSON.parse(lines(listAuditFiles(dir).pop()!)[0]);
  assert.deepEqual(last.details.headMismatch, { file: null, seq: null, hash: null, found: null });
  assert.match(headMismatchWarning(last)!, /says nothing readable, .*: the audit files were replaced/);

  // One a power cut left empty (renamed before its data reached the disk): recorded as empty,
  // and not said to be a replacement.
  fs.writeFileSync(`${dir}.head.json`, Buffer.alloc(200));
  const afterCut = new AuditLog({ dir, now: c.now });
  writeSome(afterCut, 1, c);
  const cutHeader = JSON.parse(lines(listAuditFiles(dir).pop()!)[0]);
  assert.deepEqual(cutHeader.details.headMismatch, { file: null, seq: null, hash: null, found: null, empty: true });
  const warning = headMismatchWarning(cutHeader)!;
  assert.match(warning, /^audit log: the head record of the last entry written was empty, as a power cut just after its rewrite can leave it/);
  assert.doesNotMatch(warning, /replaced/);
});

test('no head record (a fresh install, or the first start after an upgrade) changes nothing: the log goes on in its file; deleted files then go unnoticed', () => {
  const { dir, c, newest, lastSeq, lastHash } = stoppedLog();
  fs.rmSync(`${dir}.head.json`);
  const log = new AuditLog({ dir, now: c.now });
  assert.equal(log.resumeAfterCut(), false);
  writeSome(log, 1, c);
  assert.deepEqual([listAuditFiles(dir).length, log.currentFile, log.lastSeq], [2, newest, lastSeq + 1]);
  // The head record is written again from here.
  assert.equal(JSON.parse(fs.readFileSync(`${dir}.head.json`, 'utf8')).seq, lastSeq + 1);
  // The newest file and the head record both deleted: only a hash kept elsewhere shows it.
  fs.rmSync(newest);
  fs.rmSync(`${dir}.head.json`);
  const after = new AuditLog({ dir, now: c.now });
  writeSome(after, 1, c);
  assert.equal(JSON.parse(lines(after.currentFile!)[0]).seq, 4, 'the lost seqs are reused');
  const r = verifyAuditFiles(listAuditFiles(dir), { expect: [{ seq: lastSeq, hash: lastHash }] });
  assert.deepEqual([r.ok, r.vanished.length, r.expected[0].found], [true, 0, false]);
});

test('the shared log records entries lost while stopped as it opens, and tells its first user the header (Node-RED\'s log warns of it)', () => {
  const { dir, c, newest } = stoppedLog();
  fs.rmSync(newest);
  const told: AuditEntry[] = [];
  const h = openSharedAuditLog({ dir, now: c.now }, undefined, undefined, (header) => told.push(header));
  try {
    assert.equal(told.length, 1);
    assert.equal(told[0].details.previousFile, path.basename(newest));
    assert.match(vanishedFileWarning(told[0])!, /was deleted while Vigie was stopped \(entries seq 4…7\)/);
  } finally {
    h.release();
  }
});

test('a head record that cannot be written (the audit directory\'s parent a real read-only mount, the directory writable) is told once, and once again when it is written again; the entries are written all along, and the log itself says from which entry to which the record was not written', () => {
  const parent = tmpDir();
  const dir = path.join(parent, 'vigie-audit');
  fs.mkdirSync(dir);
  const audit = path.resolve(__dirname, '..', '..', 'lib', 'alerts', 'audit.ts');
  // In a mount namespace of its own: the parent bind-mounted read-only, the audit directory
  // mounted on its own above it (a mount point only the audit directory is on), writable.
  const code = `
    const { execFileSync } = require('child_process');
    const { AuditLog } = require(${JSON.stringify(audit)});
    const told = [];
    const log = new AuditLog({ dir: ${JSON.stringify(dir)}, onHeadFault: (e) => told.push(e ? e.code : 'written again') });
    const write = (n) => { for (let i = 0; i < n; i++) log.append({ type: 'decision', actor: 'alice', details: { i } }); };
    write(3);
    const faultAfterThree = log.headRecordFault && log.headRecordFault.code;
    execFileSync('mount', ['-o', 'remount,bind,rw', ${JSON.stringify(parent)}]);
    write(2);
    console.log(JSON.stringify({ told, faultAfterThree, fault: log.headRecordFault ?? null, seq: log.lastSeq }));`;
  const script = 'mount --bind "$1" "$1" && mount --bind "$1/vigie-audit" "$1/vigie-audit" && mount -o remount,bind,ro "$1" && shift && exec "$@"';
  const r = spawnSync('unshare', ['--map-root-user', '--mount', 'sh', '-c', script, 'sh', parent, process.execPath, '--import', 'tsx', '-e', code], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { told: string[]; faultAfterThree: string; fault: unknown; seq: number };
  // The header and three entries failed to record; told once. Written again: told once.
  assert.deepEqual(out.told, ['EROFS', 'written again']);
  assert.deepEqual([out.faultAfterThree, out.fault, out.seq], ['EROFS', null, 8]);
  assert.equal(JSON.parse(fs.readFileSync(`${dir}.head.json`, 'utf8')).seq, 8);
  // The log says it too, after the first entry whose record failed and after the first written again.
  const entries = listAuditFiles(dir).flatMap(lines).map((l) => JSON.parse(l) as AuditEntry);
  assert.deepEqual(
    entries.map((e) => (e.type === 'system' ? String(e.details.event) : e.type)),
    ['file-open', 'decision', 'head-record-fault', 'decision', 'decision', 'decision', 'head-record-written-again', 'decision'],
  );
  const [fault, again] = [entries[2].details, entries[6].details];
  assert.deepEqual([fault.headFile, fault.sinceSeq], [`${dir}.head.json`, 1]);
  assert.match(String(fault.error), /^disk read-only \(EROFS: read-only file system/);
  assert.deepEqual(again, { event: 'head-record-written-again', headFile: `${dir}.head.json`, fromSeq: 1, toSeq: 5 });
  const verified = verifyAuditFiles(listAuditFiles(dir));
  assert.equal(verified.ok, true);
  assert.deepEqual(verified.headGaps.map((g) => [g.fromSeq, g.toSeq]), [[1, 5]]);
  assert.match(verified.headGaps[0].error, /^disk read-only/);
});

test('openSharedAuditLog tells its users when the head record cannot be written and when it is again; a user joining meanwhile hears it at once', () => {
  const dir = tmpDir();
  const headFile = path.join(tmpDir(), 'head.json');
  const first: (string | undefined)[] = [];
  const second: (string | undefined)[] = [];
  const a = openSharedAuditLog({ dir, headFile }, undefined, undefined, undefined, (e) => first.push((e as NodeJS.ErrnoException | undefined)?.code));
  try {
    // Once the log is open: a directory where the record goes, the rename over it fails (a real EISDIR).
    fs.mkdirSync(path.join(headFile, 'blocking'), { recursive: true });
    a.append({ type: 'decision', actor: 'alice', details: {} });
    a.append({ type: 'decision', actor: 'alice', details: {} });
    const b = openSharedAuditLog({ dir, headFile }, undefined, undefined, undefined, (e) => second.push((e as NodeJS.ErrnoException | undefined)?.code));
    assert.deepEqual([first, second], [['EISDIR'], ['EISDIR']]);
    fs.rmSync(headFile, { recursive: true });
    a.append({ type: 'decision', actor: 'alice', details: {} });
    assert.deepEqual([first, second], [['EISDIR', undefined], ['EISDIR', undefined]]);
    b.release();
  } finally {
    a.release();
  }
  // Two decisions whose record failed (seq 2, 3), the fault's entry (4), one written again (5) and the log saying so (6).
  assert.equal(JSON.parse(fs.readFileSync(headFile, 'utf8')).seq, 6);
  const events = listAuditFiles(dir).flatMap(lines).map((l) => JSON.parse(l) as AuditEntry).map((e) => e.details.event ?? e.type);
  assert.deepEqual(events, ['file-open', 'decision', 'head-record-fault', 'decision', 'decision', 'head-record-written-again']);
});

test('a loss found at a start on a real full disk (tmpfs): said at once by unrecordedLossWarnings, and recorded as soon as the disk has room, with no event waiting', () => {
  const mountPoint = tmpDir();
  const audit = path.resolve(__dirname, '..', '..', 'lib', 'alerts', 'audit.ts');
  const code = `
    const fs = require('fs');
    const path = require('path');
    const { AuditLog, openSharedAuditLog, listAuditFiles, vanishedFileWarning, verifyAuditFiles } = require(${JSON.stringify(audit)});
    const root = ${JSON.stringify(mountPoint)};
    const dir = path.join(root, 'vigie-audit');
    let t = ${Date.parse('2026-06-01T10:00:00Z')};
    const log = new AuditLog({ dir, retentionDays: 0, now: () => t });
    for (let i = 0; i < 3; i++) log.append({ type: 'decision', actor: 'alice', details: { i } });
    t += ${DAY};
    for (let i = 0; i < 3; i++) log.append({ type: 'decision', actor: 'alice', details: { i } });
    // Stopped: the newest file deleted, then the disk filled up to its last byte.
    const files = listAuditFiles(dir);
    fs.rmSync(files[files.length - 1]);
    const fd = fs.openSync(path.join(root, 'filler'), 'w');
    for (const size of [4096, 1]) try { for (;;) fs.writeSync(fd, Buffer.alloc(size)); } catch (e) { if (e.code !== 'ENOSPC') throw e; }
    fs.closeSync(fd);
    const told = [];
    const shared = openSharedAuditLog({ dir, retentionDays: 0 }, (e) => told.push('error ' + e.code), () => told.push('recovered'), (h) => told.push(vanishedFileWarning(h) ? 'header recording the loss' : 'header'));
    const atStart = { told: [...told], warnings: shared.log.unrecordedLossWarnings() };
    fs.rmSync(path.join(root, 'filler'));
    const wait = () => told.includes('recovered') ? done() : setTimeout(wait, 50);
    const done = () => {
      const r = verifyAuditFiles(listAuditFiles(dir));
      console.log(JSON.stringify({ atStart, told, after: shared.log.unrecordedLossWarnings(), ok: r.ok, vanished: r.vanished.map((v) => [v.firstSeq, v.lastSeq]) }));
      shared.release();
    };
    wait();`;
  const script = 'mount -t tmpfs -o size=64k tmpfs "$1" && shift && exec "$@"';
  const r = spawnSync('unshare', ['--map-root-user', '--mount', 'sh', '-c', script, 'sh', mountPoint, process.execPath, '--import', 'tsx', '-e', code], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.deepEqual(out.atStart.told, ['error ENOSPC']);
  assert.equal(out.atStart.warnings.length, 1);
  assert.match(out.atStart.warnings[0], /^audit log: audit-2026-06-02-001\.jsonl was deleted while Vigie was stopped \(entries seq 5…8\); the next audit file records it in its header as soon as the audit directory can be written\. Never delete/);
  // Room again: the loss recorded at the retry, though no event waited.
  assert.deepEqual(out.told, ['error ENOSPC', 'header recording the loss', 'recovered']);
  assert.deepEqual([out.after, out.ok, out.vanished], [[], true, [[5, 8]]]);
});

test('a line cut by a crash, found at a start on a real full disk (tmpfs): the resumed-after-cut entry is written at the first retry with room, before the event that waited', () => {
  const mountPoint = tmpDir();
  const audit = path.resolve(__dirname, '..', '..', 'lib', 'alerts', 'audit.ts');
  const code = `
    const fs = require('fs');
    const path = require('path');
    const { AuditLog, openSharedAuditLog, listAuditFiles, verifyAuditFiles } = require(${JSON.stringify(audit)});
    const root = ${JSON.stringify(mountPoint)};
    const dir = path.join(root, 'vigie-audit');
    const log = new AuditLog({ dir, retentionDays: 0 });
    for (let i = 0; i < 3; i++) log.append({ type: 'decision', actor: 'alice', details: { i } });
    const [file] = listAuditFiles(dir);
    fs.truncateSync(file, fs.statSync(file).size - 10);
    const fd = fs.openSync(path.join(root, 'filler'), 'w');
    for (const size of [4096, 1]) try { for (;;) fs.writeSync(fd, Buffer.alloc(size)); } catch (e) { if (e.code !== 'ENOSPC') throw e; }
    fs.closeSync(fd);
    let recovered = false;
    const shared = openSharedAuditLog({ dir, retentionDays: 0 }, () => undefined, () => { recovered = true; });
    shared.append({ type: 'decision', actor: 'bob', details: {} });
    fs.rmSync(path.join(root, 'filler'));
    const wait = () => recovered ? done() : setTimeout(wait, 50);
    const done = () => {
      const said = listAuditFiles(dir).flatMap((f) => fs.readFileSync(f, 'utf8').trim().split('\\n').map((l) => { try { const e = JSON.parse(l); return e.details.event || e.actor; } catch { return 'cut'; } }));
      console.log(JSON.stringify({ said, ok: verifyAuditFiles(listAuditFiles(dir)).ok }));
      shared.release();
    };
    wait();`;
  const script = 'mount -t tmpfs -o size=64k tmpfs "$1" && shift && exec "$@"';
  const r = spawnSync('unshare', ['--map-root-user', '--mount', 'sh', '-c', script, 'sh', mountPoint, process.execPath, '--import', 'tsx', '-e', code], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { said: ['file-open', 'alice', 'alice', 'cut', 'file-open', 'resumed-after-cut', 'bob'], ok: true });
});

test('text something else appended after the running file\'s last entry: the writer records it as appended (changed), and verify says the same, not a crash\'s cut line; an edit that changes the size stays a break', () => {
  const dir = tmpDir();
  const c = clock(Date.parse('2026-06-01T08:00:00Z'));
  const log = new AuditLog({ dir, now: c.now, retentionDays: 0 });
  writeSome(log, 3, c);
  const [running] = listAuditFiles(dir);
  fs.appendFileSync(running, 'a line of something else\nand another, cut');
  writeSome(log, 1, c);
  const files = listAuditFiles(dir);
  const header = JSON.parse(lines(files[1])[0]);
  assert.deepEqual(header.details.vanished, { cause: 'changed', firstSeq: 1, lastSeq: 4, linkedTo: GENESIS_HASH, previousFile: null, appended: true });
  assert.equal(JSON.parse(lines(files[1])[1]).details.appended, true, 'the file-vanished entry says it too');
  assert.match(vanishedFileWarning(header)!, /^audit log: audit-2026-06-01-001\.jsonl had text that Vigie did not write appended after its last entry while the log was being written \(entries seq 1…4\); the log goes on in audit-2026-06-01-002\.jsonl/);
  const r = verifyAuditFiles(files);
  assert.equal(r.ok, true, JSON.stringify(r.break));
  assert.deepEqual(r.cuts, []);
  assert.deepEqual(r.appended, [{ file: running, line: 5, lines: 2, afterSeq: 4, recordedIn: files[1] }]);
  assert.deepEqual(r.vanished.map((v) => [v.cause, v.missing, v.appended]), [['changed', false, true]]);

  // The same text with an entry of the chain edited before it (the size changed too): no "appended", and a break.
  const dir2 = tmpDir();
  const log2 = new AuditLog({ dir: dir2, now: c.now, retentionDays: 0 });
  writeSome(log2, 3, c);
  const [running2] = listAuditFiles(dir2);
  fs.writeFileSync(running2, fs.readFileSync(running2, 'utf8').replace('"op1"', '"op1 "') + 'a line of something else\n');
  writeSome(log2, 1, c);
  const files2 = listAuditFiles(dir2);
  assert.equal(JSON.parse(lines(files2[1])[0]).details.vanished.appended, undefined);
  const r2 = verifyAuditFiles(files2);
  assert.equal(r2.ok, false);
  assert.deepEqual(r2.appended, []);
});

test('text appended while Vigie was stopped: the next start records it as appended while stopped (not a crash\'s cut), at once; verify says the same; what a crash or a power cut leaves is still a cut', () => {
  const c = clock(Date.parse('2026-06-01T08:00:00Z'));
  /** A log of 3 events, stopped; `tail` added to its file; then started again: what the start records, and what verify says. */
  const startAfter = (tail: string) => {
    const dir = tmpDir();
    writeSome(new AuditLog({ dir, now: c.now, retentionDays: 0 }), 3, c);
    const [stopped] = listAuditFiles(dir);
    fs.appendFileSync(stopped, tail);
    const warnings: string[] = [];
    const again = new AuditLog({ dir, now: c.now, retentionDays: 0 });
    again.open();
    warnings.push(...again.unrecordedLossWarnings());
    again.resumeAfterCut();
    const files = listAuditFiles(dir);
    const entries = lines(files[1]).map((l) => JSON.parse(l) as AuditEntry);
    return { stopped, files, entries, warnings, verified: verifyAuditFiles(files) };
  };

  // An administrator's echo (two lines, the last without its newline): appended, not a crash's.
  const echo = startAfter('checked by IT, 2026-06-01\nsee ticket 4411');
  const header = echo.entries[0];
  assert.deepEqual(header.details.vanished, { cause: 'changed-while-stopped', firstSeq: 1, lastSeq: 4, linkedTo: GENESIS_HASH, previousFile: null, appended: true });
  assert.equal(header.seq, 5, 'no seq is used again, none skipped');
  assert.deepEqual(
    echo.entries.slice(1).map((e) => [e.details.event, e.details.cause]),
    [['file-vanished', 'changed-while-stopped']],
    'recorded at the start, with no resumed-after-cut entry',
  );
  assert.match(echo.warnings[0], /^audit log: audit-2026-06-01-001\.jsonl had text that Vigie did not write appended after its last entry while Vigie was stopped \(entries seq 1…4\); the next audit file records it/);
  assert.match(vanishedFileWarning(header)!, /^audit log: audit-2026-06-01-001\.jsonl had text that Vigie did not write appended after its last entry while Vigie was stopped \(entries seq 1…4\); the log goes on in audit-2026-06-01-002\.jsonl/);
  assert.equal(echo.verified.ok, true, JSON.stringify(echo.verified.break));
  assert.deepEqual(echo.verified.cuts, []);
  assert.deepEqual(echo.verified.appended, [{ file: echo.stopped, line: 5, lines: 2, afterSeq: 4, recordedIn: echo.files[1], whileStopped: true }]);
  assert.deepEqual(echo.verified.vanished.map((v) => [v.cause, v.missing]), [['changed-while-stopped', false]]);

  // One line with its newline, and an empty line: appended too.
  for (const tail of ['{"note":"not an entry"}\n', '\n']) {
    const r = startAfter(tail);
    assert.equal((r.entries[0].details.vanished as { cause?: string } | undefined)?.cause, 'changed-while-stopped', JSON.stringify(tail));
    assert.equal(r.verified.ok, true, `${JSON.stringify(tail)}: ${JSON.stringify(r.verified.break)}`);
  }

  // What a crash leaves (a start of the next entry, cut), or a power cut (zero bytes): a cut, as before.
  for (const tail of ['{"v":1,"seq":5,"time":"2026-06-01T08:00', '{"v":1,"se', '{', '\0\0\0\0']) {
    const r = startAfter(tail);
    assert.equal(r.entries[0].details.vanished, undefined, JSON.stringify(tail));
    assert.deepEqual(r.entries.slice(1).map((e) => e.details.event), ['resumed-after-cut'], JSON.stringify(tail));
    assert.equal(r.verified.ok, true, `${JSON.stringify(tail)}: ${JSON.stringify(r.verified.break)}`);
    assert.equal(r.verified.cuts.length, 1, JSON.stringify(tail));
    assert.deepEqual(r.verified.appended, []);
  }

  // Appended text with an entry-like line among it stays a break: an entry cannot be appended by
  // hand. A copy of an older entry (alone, after a note, or the last entry twice) is not taken as
  // the tail, with or without the head record: no seq is used again, and nothing is called lost.
  for (const [how, copiedAt, withNote] of [['a copy of seq 3 after a note', 2, true], ['a copy of seq 3', 2, false], ['the last entry twice', 3, false]] as const) {
    for (const headKept of [true, false]) {
      const dir = tmpDir();
      const log = new AuditLog({ dir, now: c.now, retentionDays: 0 });
      writeSome(log, 3, c);
      const [file] = listAuditFiles(dir);
      const copied = lines(file)[copiedAt];
      fs.appendFileSync(file, `${withNote ? 'a note\n' : ''}${copied}\n`);
      if (!headKept) fs.rmSync(log.headRecordFile);
      const again = new AuditLog({ dir, now: c.now, retentionDays: 0 });
      again.resumeAfterCut();
      const files = listAuditFiles(dir);
      const what = `${how}, head record ${headKept ? 'kept' : 'deleted'}`;
      assert.equal(files.length, 2, `${what}: the file with the copy is not written in again`);
      const header = JSON.parse(lines(files[1])[0]) as AuditEntry;
      assert.equal(header.seq, 5, `${what}: seq 5 follows the writer's last entry (4)`);
      assert.equal(header.prev, JSON.parse(lines(file)[3]).hash, what);
      assert.deepEqual(header.details.vanished, { cause: 'changed-while-stopped', firstSeq: 1, lastSeq: 4, linkedTo: GENESIS_HASH, previousFile: null, appended: true }, what);
      assert.equal(verifyAuditFiles(files).ok, false, what);
    }
  }
});

test('an entry of the newest file edited (content, hash recomputed, a line removed): the next start says so at once, records it in a new file and goes on there; verify still breaks at it; an unedited log is left as it is', () => {
  const c = clock(Date.parse('2026-06-01T08:00:00Z'));
  /** A log of 5 events (seq 1…6), stopped; its file edited by `edit`; started again. */
  const startAfter = (edit: (lines: string[]) => string[]) => {
    const dir = tmpDir();
    writeSome(new AuditLog({ dir, now: c.now, retentionDays: 0 }), 5, c);
    const [file] = listAuditFiles(dir);
    fs.writeFileSync(file, edit(lines(file)).map((l) => l + '\n').join(''));
    const again = new AuditLog({ dir, now: c.now, retentionDays: 0 });
    again.open();
    const warnings = again.unrecordedLossWarnings();
    again.resumeAfterCut();
    again.append({ type: 'decision', actor: 'op', alertId: 'after', details: { decision: 'confirmed' } });
    const files = listAuditFiles(dir);
    return { file, files, warnings, entries: files.length > 1 ? lines(files[1]).map((l) => JSON.parse(l) as AuditEntry) : [], verified: verifyAuditFiles(files) };
  };
  const recompute = (l: string, change: (e: AuditEntry) => void): string => {
    const e = JSON.parse(l) as AuditEntry;
    change(e);
    const { hash: _h, ...body } = e;
    return auditLine(body).line;
  };

  const cases = [
    { how: 'a word changed, the hash left', edit: (ls: string[]) => ls.map((l, i) => (i === 2 ? l.replace('"actor":"op1"', '"actor":"op9"') : l)), line: 3, seq: 3, reason: /content does not match its hash/ },
    // verify's words: the re-hashed line is the one blamed, not the next one whose link shows it.
    { how: 'a word changed, the hash recomputed', edit: (ls: string[]) => ls.map((l, i) => (i === 2 ? recompute(l, (e) => (e.actor = 'op9')) : l)), line: 3, seq: 3, reason: /edited: line 3 was changed and re-hashed \(line 4 recorded another hash for it\)/ },
    { how: 'a line removed', edit: (ls: string[]) => ls.filter((_, i) => i !== 3), line: 4, seq: 5, reason: /removed: 1 entry is missing before this line \(seq 4\)/ },
    { how: 'two lines swapped', edit: (ls: string[]) => ls.map((l, i) => (i === 3 ? ls[4] : i === 4 ? ls[3] : l)), line: 4, seq: 5, reason: /reordered: entry seq 5 found where seq 4 was expected/ },
  ];
  for (const k of cases) {
    const r = startAfter(k.edit);
    assert.equal(r.warnings.length, 1, k.how);
    assert.match(r.warnings[0], new RegExp(`^audit log: ${path.basename(r.file)} was found edited at this start, at line ${k.line} \\(entry seq ${k.seq}\\): `), k.how);
    assert.match(r.warnings[0], k.reason, k.how);
    assert.equal(r.files.length, 2, `${k.how}: the log goes on in a new file, not after the edited entries`);
    const header = r.entries[0];
    assert.equal(header.seq, 7, `${k.how}: after the last entry (seq 6), none used again`);
    assert.deepEqual({ ...(header.details.edited as object), reason: undefined }, { file: path.basename(r.file), line: k.line, seq: k.seq, reason: undefined }, k.how);
    assert.match(editedFileWarning(header)!, new RegExp(`the log goes on in ${path.basename(r.files[1])}, whose header records it`), k.how);
    assert.deepEqual(r.entries.slice(1).map((e) => e.details.event ?? e.type), ['file-edited', 'decision'], k.how);
    assert.equal(r.verified.ok, false, k.how);
    assert.equal(r.verified.break!.file, r.file, k.how);
    // The start and verify say the same of it; verify names the file that records it, and the
    // chain from there (its header, file-edited, the decision) verifies.
    assert.deepEqual([r.verified.break!.line, r.verified.break!.reason], [k.line, (header.details.edited as EditedFile).reason], k.how);
    assert.equal(r.verified.break!.recordedIn, path.basename(r.files[1]), k.how);
    assert.deepEqual(r.verified.break!.after, { ok: true, entries: 3, lastSeq: 9 }, k.how);
  }

  // A break the start recorded, and another one after it: both said.
  const twice = startAfter((ls) => ls.map((l, i) => (i === 2 ? l.replace('"actor":"op1"', '"actor":"op9"') : l)));
  const later = fs.readFileSync(twice.files[1], 'utf8').replace('"actor":"op"', '"actor":"op7"');
  fs.writeFileSync(twice.files[1], later);
  const again = verifyAuditFiles(twice.files);
  assert.equal(again.break!.recordedIn, path.basename(twice.files[1]));
  assert.deepEqual({ ...again.break!.after, break: { ...again.break!.after!.break, reason: undefined } }, { ok: false, entries: 2, break: { file: twice.files[1], line: 3, reason: undefined } });
  // A break no start recorded (the header's record names another line) says nothing more.
  const other = startAfter((ls) => ls.map((l, i) => (i === 2 ? l.replace('"actor":"op1"', '"actor":"op9"') : l)));
  const edited = fs.readFileSync(other.file, 'utf8').split('\n');
  edited[1] = edited[1].replace('"actor":"op0"', '"actor":"op8"');
  fs.writeFileSync(other.file, edited.join('\n'));
  const unrecorded = verifyAuditFiles(other.files);
  assert.equal(unrecorded.break!.line, 2);
  assert.equal(unrecorded.break!.recordedIn, undefined);
  assert.equal(unrecorded.break!.after, undefined);

  // Not edited: no warning, the same file goes on; a header records nothing.
  const same = startAfter((ls) => ls);
  assert.deepEqual(same.warnings, []);
  assert.equal(same.files.length, 1);
  assert.equal(same.verified.ok, true, JSON.stringify(same.verified.break));
});

test('the newest lines removed while stopped with a cut line left: the next start records the entries lost after the last whole one (not a crash), their seqs are not reused, and verify warns of exactly them', () => {
  const dir = tmpDir();
  const log = new AuditLog({ dir, retentionDays: 0 });
  writeSome(log, 8);
  const [file] = listAuditFiles(dir);
  const all = lines(file);
  // Seq 1 (header) … 9: the last three removed, and only the start of seq 6 left.
  fs.writeFileSync(file, all.slice(0, 5).map((l) => l + '\n').join('') + all[5].slice(0, 40));
  const again = new AuditLog({ dir, retentionDays: 0 });
  assert.equal(again.resumeAfterCut(), true);
  const files = listAuditFiles(dir);
  const header = JSON.parse(lines(files[1])[0]);
  assert.deepEqual([header.seq, header.details.vanished.cause, header.details.vanished.firstSeq, header.details.vanished.lastSeq], [10, 'shortened-while-stopped', 6, 9]);
  assert.equal(lines(files[1]).some((l) => JSON.parse(l).details.event === 'resumed-after-cut'), false, 'not said as a crash');
  const r = verifyAuditFiles(files);
  assert.equal(r.ok, true, JSON.stringify(r.break));
  assert.deepEqual(r.vanished.map((v) => [v.cause, v.firstSeq, v.lastSeq, v.missing]), [['shortened-while-stopped', 6, 9, true]]);

  // A cut in the last entry written (the head record's own): a crash, as before.
  const dir2 = tmpDir();
  const log2 = new AuditLog({ dir: dir2, retentionDays: 0 });
  writeSome(log2, 8);
  const [file2] = listAuditFiles(dir2);
  fs.truncateSync(file2, fs.statSync(file2).size - 10);
  new AuditLog({ dir: dir2, retentionDays: 0 }).resumeAfterCut();
  const files2 = listAuditFiles(dir2);
  assert.deepEqual(lines(files2[1]).map((l) => JSON.parse(l).details.event), ['file-open', 'resumed-after-cut']);
  assert.equal(JSON.parse(lines(files2[1])[0]).details.vanished, undefined);
});
