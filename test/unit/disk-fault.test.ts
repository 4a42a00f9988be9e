/**
 * The plain words for a gateway's disk faults (a full card, a quota used up, a card the kernel
 * remounted read-only), which the statuses and warnings put before the system's message.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { diskFaultWords, fileFaultText, makeDirectory } from '../../lib/util/disk-fault';

const repoRoot = path.resolve(__dirname, '..', '..');

const fault = (code: string, message: string) => Object.assign(new Error(`${code}: ${message}`), { code });

test('a full disk, a quota used up, a read-only card: said in plain words before the system\'s message', () => {
  assert.equal(fileFaultText(fault('ENOSPC', 'no space left on device, write')), 'disk full (ENOSPC: no space left on device, write)');
  assert.equal(fileFaultText(fault('EDQUOT', 'disk quota exceeded, write')), 'disk quota used up (EDQUOT: disk quota exceeded, write)');
  assert.equal(fileFaultText(fault('EROFS', "read-only file system, open '/data/x.json.tmp'")), "disk read-only (EROFS: read-only file system, open '/data/x.json.tmp')");
  assert.deepEqual(['ENOSPC', 'EDQUOT', 'EROFS'].map((c) => diskFaultWords(fault(c, 'x'))), ['disk full', 'disk quota used up', 'disk read-only']);
});

test('any other fault is the system\'s message as it is', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-disk-fault-'));
  try {
    let err: unknown;
    try {
      fs.writeFileSync(dir, 'x');
    } catch (e) {
      err = e;
    }
    assert.equal(diskFaultWords(err), undefined);
    assert.equal(fileFaultText(err), (err as Error).message);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  assert.equal(fileFaultText('a string thrown'), 'a string thrown');
  assert.equal(diskFaultWords(undefined), undefined);
});

/**
 * Runs `code` (CommonJS, the project's TypeScript loaded through tsx) in a mount namespace of
 * its own where `dir` is bind-mounted read-only: a real EROFS, nothing remounted outside.
 */
function onReadOnlyMount(dir: string, code: string): string {
  const script = 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@"';
  const r = spawnSync('unshare', ['--map-root-user', '--mount', 'sh', '-c', script, 'sh', dir, process.execPath, '--import', 'tsx', '-e', code], { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

test('a directory to make on a card remounted read-only says "disk read-only", not the "no such file or directory" of a recursive mkdir', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-disk-ro-'));
  try {
    const out = onReadOnlyMount(dir, `
      const fs = require('fs');
      const { fileFaultText, makeDirectory } = require('./lib/util/disk-fault.ts');
      const { AuditLog } = require('./lib/alerts/audit.ts');
      const said = (fn) => { try { fn(); return 'made'; } catch (e) { return fileFaultText(e); } };
      console.log(JSON.stringify({
        plain: said(() => fs.mkdirSync(${JSON.stringify(path.join(dir, 'a', 'b'))}, { recursive: true })),
        made: said(() => makeDirectory(${JSON.stringify(path.join(dir, 'a', 'b'))})),
        audit: said(() => new AuditLog({ dir: ${JSON.stringify(path.join(dir, 'vigie-audit'))} }).append({ type: 'decision', actor: 'alice', details: {} })),
      }));`);
    const r = JSON.parse(out) as Record<string, string>;
    // What Node says by itself: the reason these words are needed.
    assert.match(r.plain, /^ENOENT/);
    assert.match(r.made, /^disk read-only \(EROFS: read-only file system, mkdir '.*\/a'\)$/);
    assert.match(r.audit, /^disk read-only \(EROFS/);
    assert.deepEqual(fs.readdirSync(dir), []);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('makeDirectory makes the whole path as a recursive mkdir does, and throws any other error as it is', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-disk-mk-'));
  try {
    makeDirectory(path.join(dir, 'x', 'y', 'z'));
    makeDirectory(path.join(dir, 'x', 'y', 'z'));
    assert.ok(fs.statSync(path.join(dir, 'x', 'y', 'z')).isDirectory());
    fs.writeFileSync(path.join(dir, 'file'), 'x');
    assert.throws(() => makeDirectory(path.join(dir, 'file', 'sub')), /ENOTDIR|EEXIST/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
