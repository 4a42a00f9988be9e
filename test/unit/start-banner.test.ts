/**
 * What `vigie start` prints once running: the operators' console only for a flow that has a
 * Dashboard 2.0 (a ui-base node), at that node's path, where it answers; the gateway flow has
 * none (its /dashboard answers 404). Real `vigie start` processes, stopped with SIGTERM (exit 0).
 * Needs the build (the user directory links the package's dist/).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { dashboardPath } from '../../lib/cli/start';
import { repoRoot } from '../support/nodered';
import { waitFor } from '../support/wait';

let dir = '';
const spawned: ChildProcess[] = [];

before(() => {
  assert.ok(fs.existsSync(path.join(repoRoot, 'dist', 'nodes', 'vigie-runtime.js')), 'run the build first (npm test does)');
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-start-banner-'));
});

after(() => {
  for (const p of spawned) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const shipped = (name: string) => fs.readFileSync(path.join(repoRoot, 'flows', `${name}.json`), 'utf8');

test('the console of the shipped flows: the control room and the street demo have one, at /dashboard; the gateway none', () => {
  assert.equal(dashboardPath(shipped('control-room')), 'dashboard');
  assert.equal(dashboardPath(shipped('street-demo')), 'dashboard');
  assert.equal(dashboardPath(shipped('gateway')), undefined);
  assert.equal(dashboardPath(JSON.stringify([{ id: 'b', type: 'ui-base', path: '/ops/console' }])), 'ops/console');
  assert.equal(dashboardPath(JSON.stringify([{ id: 'b', type: 'ui-base' }])), 'dashboard', "Dashboard 2.0's default");
});

/**
 * Runs `vigie start` with `flow` until it says it is running, calls `whileRunning` with what it
 * printed, then stops it with SIGTERM and checks that it exits 0.
 */
async function runVigie(flow: unknown[], port: number, whileRunning: (printed: string) => Promise<void>): Promise<void> {
  const flowFile = path.join(dir, `flow-${port}.json`);
  fs.writeFileSync(flowFile, JSON.stringify(flow));
  const proc = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'bin', 'vigie.ts'), 'start', '--flow', flowFile, '--user-dir', path.join(dir, `user-${port}`), '--port', String(port)], {
    cwd: repoRoot,
    env: { ...process.env, VIGIE_QUIET: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  spawned.push(proc);
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  await waitFor(() => out.includes('Press Ctrl-C to stop.') || proc.exitCode !== null, 90_000, 'vigie start to say it is running');
  try {
    await whileRunning(out);
  } finally {
    proc.kill('SIGTERM');
  }
  assert.equal(await exited, 0, out);
}

test('a flow without a dashboard: no console line; with one: its URL, at its path, which answers', async () => {
  await runVigie([{ id: 'tab1', type: 'tab', label: 'x' }, { id: 'c1', type: 'comment', z: 'tab1', wires: [] }], 1952, async (printed) => {
    assert.match(printed, /\n {2}Node-RED editor: {5}http:\/\/127\.0\.0\.1:1952\/\n/);
    assert.doesNotMatch(printed, /Operators' console/);
  });

  const withDashboard = [{ id: 'base1', type: 'ui-base', name: 'ops', path: '/console', includeClientData: true, acceptsClientConfig: ['ui-control', 'ui-notification'], showPathInSidebar: false, navigationStyle: 'default' }];
  await runVigie(withDashboard, 1953, async (printed) => {
    const url = /\n {2}Operators' console: {2}(\S+)\n/.exec(printed)?.[1];
    assert.equal(url, 'http://127.0.0.1:1953/console', printed);
    assert.equal((await fetch(url!)).status, 200);
  });
});
