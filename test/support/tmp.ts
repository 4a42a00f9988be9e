/**
 * Temporary directories for tests, removed when the test process exits, with the head record an
 * audit log kept in one leaves beside it (`<dir>.head.json`).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const made: string[] = [];
process.on('exit', () => {
  for (const d of made) {
    fs.rmSync(d, { recursive: true, force: true });
    for (const beside of [`${d}.head.json`, `${d}.head.json.tmp`]) fs.rmSync(beside, { force: true });
  }
});

export function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(dir);
  return dir;
}
