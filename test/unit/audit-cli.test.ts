import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AuditLog, listAuditFiles } from '../../lib/alerts/audit';
import { tempDir } from '../support/tmp';

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

test('vigie audit verify without files prints usage and exits 2', () => {
  const r = vigie(['audit', 'verify']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /usage: vigie audit verify/);
  assert.equal(vigie(['audit', 'verify', '/nonexistent/audit.jsonl']).status, 2);
});
