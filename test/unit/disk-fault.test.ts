/**
 * The plain words for a gateway's disk faults (a full card, a quota used up, a card the kernel
 * remounted read-only), which the statuses and warnings put before the system's message.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { diskFaultWords, fileFaultText } from '../../lib/util/disk-fault';

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
