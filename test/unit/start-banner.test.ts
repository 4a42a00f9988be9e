/**
 * What `vigie start` prints once running: the operators' console only for a flow that has a
 * Dashboard 2.0 (a ui-base node), at that node's path, where it answers; the gateway flow has
 * none (its /dashboard answers 404). Real `vigie start` processes, stopped with SIGTERM (exit 0).
 * The installed flow keeps its credentials in flows_cred.json only. Needs the build (the user
 * directory links the package's dist/).
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

test('the installed flow holds no credentials: the editor gets none back to send as changes, and a Modified nodes deploy keeps them', async () => {
  const flow = [
    { id: 'tab1', type: 'tab', label: 'x' },
    { id: 'broker1', type: 'mqtt-broker', name: 'uplink', broker: '127.0.0.1', port: '1', autoConnect: false, credentials: { user: '$(VIGIE_MQTT_USER)', password: '$(VIGIE_MQTT_PASSWORD)' } },
    { id: 'c1', type: 'comment', z: 'tab1', name: 'before', wires: [] },
  ];
  await runVigie(flow, 1954, async () => {
    const base = 'http://127.0.0.1:1954';
    const userDir = path.join(dir, 'user-1954');
    // The references are where Node-RED reads credentials from, not in flows.json.
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(userDir, 'flows_cred.json'), 'utf8')), { broker1: flow[1].credentials });
    assert.equal(fs.readFileSync(path.join(userDir, 'flows.json'), 'utf8').includes('credentials'), false);
    const got = (await (await fetch(`${base}/flows`, { headers: { 'Node-RED-API-Version': 'v2' } })).json()) as { rev: string; flows: Array<Record<string, unknown>> };
    assert.deepEqual(got.flows.filter((n) => 'credentials' in n).map((n) => n.id), [], 'nodes the editor would send back as changed');
    // The editor sends the flow back with one comment edited: only that comment is a change.
    const edited = got.flows.map((n) => (n.id === 'c1' ? { ...n, name: 'after' } : n));
    const deployed = await fetch(`${base}/flows`, { method: 'POST', headers: { 'content-type': 'application/json', 'Node-RED-API-Version': 'v2', 'Node-RED-Deployment-Type': 'nodes' }, body: JSON.stringify({ rev: got.rev, flows: edited }) });
    assert.equal(deployed.status, 200, await deployed.text());
    const after = (await (await fetch(`${base}/flows`, { headers: { 'Node-RED-API-Version': 'v2' } })).json()) as { flows: Array<Record<string, unknown>> };
    assert.equal(after.flows.find((n) => n.id === 'c1')?.name, 'after');
    // The broker keeps its references (the editor's view: the user, and that a password is set).
    const creds = (await (await fetch(`${base}/credentials/mqtt-broker/broker1`)).json()) as Record<string, unknown>;
    assert.equal(creds.user, '$(VIGIE_MQTT_USER)');
    assert.equal(creds.has_password, true);
  });
});
