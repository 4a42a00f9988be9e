/**
 * spawnShortfall and releaseUnstarted against real spawns: a process that starts, a binary
 * that is not there (pipes, no pid), and real descriptor exhaustion (no pipes, no pid) in a
 * child Node process whose open-file limit is low. The places that use them (mic-capture's
 * process source, FfmpegProcess, the virtual camera) have their own failure tests.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { releaseUnstarted, spawnShortfall } from '../../lib/util/spawn-shortfall';

const SPAWN_SHORTFALL = path.join(__dirname, '..', '..', 'lib', 'util', 'spawn-shortfall.ts');

describe('spawnShortfall', () => {
  it('a process that started lacks nothing; stdin counts only when asked for', async () => {
    const child = spawn('/bin/cat', [], { stdio: ['ignore', 'pipe', 'pipe'] });
    assert.deepEqual(spawnShortfall(child, false), []);
    assert.deepEqual(spawnShortfall(child, true), ['stdin']);
    await new Promise((resolve) => child.on('close', resolve));
  });

  it('a binary that is not there has pipes but no pid; released, its pipes are destroyed and its error still comes', async () => {
    const child = spawn('/nonexistent/vigie-no-such-binary', [], { stdio: ['pipe', 'pipe', 'pipe'] });
    const error = new Promise<NodeJS.ErrnoException>((resolve) => child.on('error', resolve));
    assert.deepEqual(spawnShortfall(child, true), ['pid']);
    releaseUnstarted(child);
    assert.equal(child.stdin!.destroyed, true);
    assert.equal(child.stdout!.destroyed, true);
    assert.equal(child.stderr!.destroyed, true);
    assert.equal((await error).code, 'ENOENT');
  });

  it('out of file descriptors, spawn gives no pipes and no pid, and EMFILE on the next tick', () => {
    // In a child process: exhausting descriptors here would break the test runner.
    const script = `
      const fs = require('node:fs');
      const { spawn } = require('node:child_process');
      const { spawnShortfall, releaseUnstarted } = require(${JSON.stringify(SPAWN_SHORTFALL)});
      const held = [];
      try { for (;;) held.push(fs.openSync('/dev/null', 'r')); } catch (err) { if (err.code !== 'EMFILE') throw err; }
      const child = spawn('/bin/cat', [], { stdio: ['pipe', 'pipe', 'pipe'] });
      child.on('error', (err) => {
        for (const fd of held) fs.closeSync(fd);
        console.log(JSON.stringify({ held: held.length, missing, error: err.code }));
      });
      const missing = spawnShortfall(child, true);
      releaseUnstarted(child);
    `;
    const r = spawnSync('/bin/bash', ['-c', 'ulimit -n 128 && exec "$0" "$@"', process.execPath, '--import', 'tsx', '-e', script], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, `exit ${r.status} ${r.signal ?? ''}\n${r.stdout}\n${r.stderr}`);
    const seen = JSON.parse(r.stdout.trim().split('\n').pop()!);
    assert.ok(seen.held > 0, 'the descriptors were taken');
    assert.deepEqual(seen.missing, ['stdin', 'stdout', 'stderr', 'pid']);
    assert.equal(seen.error, 'EMFILE');
  });
});
