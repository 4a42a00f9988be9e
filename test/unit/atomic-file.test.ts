import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { KEPT_FILE_MODE, tempFileOf, writeFileAtomic } from '../../lib/util/atomic-file';
import { tempDir } from '../support/tmp';

const tmpFiles = (dir: string) => fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'));

test('writeFileAtomic writes a new file with mode 0640 and replaces an old one whole, leaving no temporary file', () => {
  const dir = tempDir('vigie-atomic-');
  const file = path.join(dir, 'kept.json');
  writeFileAtomic(file, '{"n":1}');
  assert.equal(fs.readFileSync(file, 'utf8'), '{"n":1}');
  assert.equal(fs.statSync(file).mode & 0o777, KEPT_FILE_MODE);
  assert.equal(KEPT_FILE_MODE, 0o640);

  // An older file readable by all is replaced by one that is not (the mode is the new file's).
  fs.chmodSync(file, 0o644);
  writeFileAtomic(file, Buffer.from([1, 2, 3]), { durable: true });
  assert.deepEqual([...fs.readFileSync(file)], [1, 2, 3]);
  assert.equal(fs.statSync(file).mode & 0o777, 0o640);
  assert.deepEqual(tmpFiles(dir), []);
});

test('writeFileAtomic: a temporary file left by a crash is replaced, its mode with it', () => {
  const dir = tempDir('vigie-atomic-');
  const file = path.join(dir, 'kept.json');
  fs.writeFileSync(tempFileOf(file), 'half written', { mode: 0o666 });
  fs.chmodSync(tempFileOf(file), 0o666);
  writeFileAtomic(file, 'whole');
  assert.equal(fs.readFileSync(file, 'utf8'), 'whole');
  assert.equal(fs.statSync(file).mode & 0o777, 0o640);
  assert.deepEqual(tmpFiles(dir), []);
});

test('writeFileAtomic: a write that fails throws, keeps what was there and leaves no temporary file', () => {
  const dir = tempDir('vigie-atomic-');
  // The target is a directory: the rename fails after the data was written.
  const target = path.join(dir, 'taken');
  fs.mkdirSync(target);
  fs.writeFileSync(path.join(target, 'inside'), 'x');
  assert.throws(() => writeFileAtomic(target, 'new', { durable: true }), /EISDIR|ENOTEMPTY|EEXIST/);
  assert.equal(fs.readFileSync(path.join(target, 'inside'), 'utf8'), 'x');
  assert.deepEqual(tmpFiles(dir), []);
  // A directory that does not exist: nothing written anywhere.
  assert.throws(() => writeFileAtomic(path.join(dir, 'missing', 'f.json'), 'x'), /ENOENT/);
  assert.deepEqual(fs.readdirSync(dir).sort(), ['taken']);
});
