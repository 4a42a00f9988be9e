/**
 * launcher-watch: a process started with an IPC channel stops when its launcher is gone, killed
 * with SIGKILL. Real processes: a launcher that spawns a stand-in for Node-RED (its SIGINT
 * handler stops, as red.js does), and is then killed. Linux (/proc).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { processState } from '../../lib/cli/start-lock';
import { repoRoot } from '../support/nodered';
import { tempDir } from '../support/tmp';
import { waitFor } from '../support/wait';

const dir = tempDir('vigie-launcher-watch-');
const standIns: number[] = [];

after(() => {
  for (const pid of standIns) if (runs(pid)) process.kill(pid, 'SIGKILL');
});

/** The process is there and has not ended (an ended, unreaped one holds nothing). */
function runs(pid: number): boolean {
  const state = processState(pid);
  return state !== undefined && state !== 'Z';
}

/**
 * Starts `script` (a stand-in for Node-RED) as `vigie start` starts Node-RED (output piped to its
 * launcher, an IPC channel), from a launcher process; returns the launcher and the stand-in's pid
 * once the stand-in is watching.
 */
async function launch(script: string): Promise<{ launcher: ChildProcess; standIn: number }> {
  const file = path.join(dir, `stand-in-${standIns.length}.ts`);
  fs.writeFileSync(file, script);
  const launcher = spawn(
    process.execPath,
    ['-e', `const c = require('child_process').spawn(process.execPath, ['--import', 'tsx', ${JSON.stringify(file)}], { cwd: ${JSON.stringify(repoRoot)}, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
c.on('message', (m) => console.log('watching ' + c.pid));
c.stdout.resume(); c.stderr.resume();`],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  launcher.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const standIn = Number((await waitFor(() => /watching (\d+)/.exec(out), 60_000, 'the stand-in to watch its launcher'))[1]);
  standIns.push(standIn);
  return { launcher, standIn };
}

const WATCH = JSON.stringify(path.join(repoRoot, 'lib', 'cli', 'launcher-watch.ts'));

test('the launcher killed with SIGKILL: the process is stopped as a SIGINT stops it, even when its stop writes to the output nobody reads', async () => {
  const marker = path.join(dir, 'stopped-cleanly');
  const { launcher, standIn } = await launch(`
import * as fs from 'fs';
import { watchLauncher } from ${WATCH};
// As red.js: an uncaught error ends the process at once; SIGINT stops, then exits.
process.on('uncaughtException', (err) => { fs.writeFileSync(${JSON.stringify(marker)}, 'uncaught ' + String((err as NodeJS.ErrnoException).code)); process.exit(1); });
process.on('SIGINT', () => {
  process.stdout.write('stopping the flows\\n'); // no longer read by anyone
  setTimeout(() => { fs.writeFileSync(${JSON.stringify(marker)}, 'stopped'); process.exit(0); }, 100);
});
watchLauncher(process, 60_000);
setInterval(() => {}, 1000);
process.send!('ready');
`);
  launcher.kill('SIGKILL');
  await waitFor(() => !runs(standIn), 60_000, 'the stand-in to end after its launcher was killed');
  assert.equal(fs.readFileSync(marker, 'utf8'), 'stopped');
});

test('the launcher killed with SIGKILL, and the stop never ends: the process exits after the stop time', async () => {
  const marker = path.join(dir, 'stuck');
  const { launcher, standIn } = await launch(`
import * as fs from 'fs';
import { watchLauncher } from ${WATCH};
process.on('SIGINT', () => fs.writeFileSync(${JSON.stringify(marker)}, 'stopping')); // and never done
process.on('exit', (code) => fs.appendFileSync(${JSON.stringify(marker)}, ', exit ' + code));
watchLauncher(process, 300);
setInterval(() => {}, 1000);
process.send!('ready');
`);
  launcher.kill('SIGKILL');
  await waitFor(() => !runs(standIn), 60_000, 'the stand-in to exit after the stop time');
  assert.equal(fs.readFileSync(marker, 'utf8'), 'stopping, exit 1');
});
