/**
 * Real descriptor exhaustion: in a Node process whose open-file limit is low (bash's ulimit)
 * and whose every free descriptor is taken, real spawn of real ffmpeg returns a child with no
 * pipes that emits EMFILE on the next tick. The relay must report it and retry, the frame grab
 * reject, and nothing may reach the process as an unhandled rejection or uncaught exception;
 * once descriptors are free again, the retry brings pictures. The stand-in cases (a throwing
 * spawn, no pid): test/unit/ffmpeg-start-failure.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { findBinary } from '../../lib/util/binaries';
import { tempDir } from '../support/tmp';

test('out of file descriptors, ffmpeg cannot start: the relay says so and retries, the frame grab rejects, nothing crashes', () => {
  const ffmpeg = findBinary('ffmpeg')!;
  const clip = path.join(tempDir('vigie-relay-emfile-'), 'clip.ts');
  const made = spawnSync(ffmpeg, ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=10', '-t', '3', '-c:v', 'mpeg2video', '-f', 'mpegts', '-y', clip]);
  assert.equal(made.status, 0, made.stderr.toString());
  const child = path.join(__dirname, '..', 'support', 'relay-emfile-child.ts');
  const r = spawnSync('/bin/bash', ['-c', 'ulimit -n 256 && exec "$0" "$@"', process.execPath, '--import', 'tsx', child, ffmpeg, clip], {
    encoding: 'utf8',
    timeout: 180_000,
  });
  assert.equal(r.status, 0, `exit ${r.status} ${r.signal ?? ''}\n${r.stdout}\n${r.stderr}`);
  const seen = JSON.parse(r.stdout.trim().split('\n').pop()!);
  assert.ok(seen.held > 0, 'the descriptors were taken');
  assert.deepEqual(seen.faults, [], 'no unhandled rejection, no uncaught exception');
  assert.equal(seen.failedWhileFull, true, 'the relay reported the failed start');
  assert.match(seen.errors[0], /^ffmpeg could not be started: spawn \S+ EMFILE$/);
  assert.equal(seen.stateWhileFull, 'retrying');
  assert.match(seen.grabWhileFull, /^ffmpeg could not be started: spawn \S+ EMFILE$/);
  assert.equal(seen.ranAfter, true, 'pictures once descriptors were free');
  assert.ok(seen.starts >= 2);
});
