/**
 * Run as a child process by test/unit/capture-sources.test.ts, under `prlimit --nofile=…`: a
 * ProcessSource whose capture program dies, and whose restart finds every file descriptor of
 * this process taken (EMFILE), as on a gateway that ran out of them. Prints what happened as
 * one JSON line and exits. An uncaught exception is recorded, as Node-RED would die of it.
 *
 * Usage: node --import tsx test/support/emfile-restart.ts <capture program>
 */
import * as fs from 'fs';
import { ProcessSource } from '../../lib/audio/sources';
import type { SourceStatus } from '../../lib/audio/sources/source';

const uncaught: string[] = [];
const errors: string[] = [];
const statuses: SourceStatus[] = [];
const held: number[] = [];
let filled = 0;

function fill(): void {
  try {
    for (;;) held.push(fs.openSync('/dev/null', 'r'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EMFILE') throw err;
  }
  filled = held.length;
}

function release(): void {
  while (held.length) fs.closeSync(held.pop()!);
}

const src = new ProcessSource('test', {
  binary: 'vigie-test-capture',
  envVar: 'VIGIE_TEST_CAPTURE_UNSET',
  binaryPath: process.argv[2],
  installHint: 'test hint',
  args: [],
  format: 'S16_LE',
  channels: 1,
  sampleRate: 8000,
  backoff: { initialMs: 100, maxMs: 400, jitter: 0 },
});

let reported = false;

function report(): void {
  if (reported) return;
  reported = true;
  release();
  process.stdout.write(`${JSON.stringify({ uncaught, errors, statuses, pids: src.pids.length, filled })}\n`, () => process.exit(0));
}

/** Done once a start failed, was told, and the next start spawned a child. */
function doneYet(): void {
  if (errors.length && src.pids.length >= 2) report();
}

process.on('uncaughtException', (err) => {
  uncaught.push(String(err));
  report();
});
src.on('error', (err: Error) => {
  errors.push(err.message);
  setImmediate(doneYet);
});
// The first child died: every descriptor is taken before its restart (timed after this event).
src.on('restart', () => {
  if (!filled) fill();
});
src.on('status', (st: SourceStatus) => {
  statuses.push(st);
  if (st.state === 'failed') release();
  setImmediate(doneYet);
});
src.start();
