/**
 * vigie start with the integrator's own settings.js protecting everything (httpNodeAuth and
 * adminAuth from the first start): it still sees Node-RED start, the flow's credential
 * references reach its nodes (here an MQTT broker that checks them), the container's health
 * check passes while the node-side health route stays behind httpNodeAuth, a password typed in
 * later is stored encrypted, and the files holding credentials and their key are not readable
 * by other users. Real Node-RED, run by
 * start() as `vigie start` does. Needs the build (the user directory links the package's dist/).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { Aedes } from 'aedes';
import { start, Started } from '../../lib/cli/start';
import { HEALTH_FILE } from '../../lib/util/launcher-channel';
import { repoRoot } from '../support/nodered';
import { waitFor } from '../support/wait';

// bcrypt of "secret-pw", for the dashboard user and the editor's admin.
const HASH = '$2b$08$Xi7naFMG5AvMjtoMnw096.oRC2lKx3sX0TpUQ6OrWxTxw6u9.9eVe';
const OWN_SETTINGS = `// The integrator's own settings: the dashboard and the editor need a login.
module.exports = {
  uiHost: '127.0.0.1',
  uiPort: Number(process.env.VIGIE_PORT),
  flowFile: 'flows.json',
  httpNodeAuth: { user: 'operator', pass: '${HASH}' },
  adminAuth: { type: 'credentials', users: [{ username: 'admin', password: '${HASH}', permissions: '*' }] },
  logging: { console: { level: 'warn' } },
};
`;

let dir = '';
let broker: Aedes | undefined;
let server: net.Server | undefined;
let started: Started | undefined;
const connects: Array<{ username?: string; password?: string }> = [];
const envBefore: Record<string, string | undefined> = {};

function setEnv(values: Record<string, string>): void {
  for (const [k, v] of Object.entries(values)) {
    envBefore[k] = process.env[k];
    process.env[k] = v;
  }
}

function runHealthCheck(env: Record<string, string>): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(repoRoot, 'docker', 'healthcheck.js')], { env: { ...process.env, ...env }, timeout: 10_000 }, (err, _stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stderr });
    });
  });
}

/** Pids of the processes whose command line names `text` (Linux /proc). */
function processesWith(text: string): number[] {
  const pids: number[] = [];
  for (const p of fs.readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      if (fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(text)) pids.push(Number(p));
    } catch {
      /* gone meanwhile */
    }
  }
  return pids;
}

before(async () => {
  assert.ok(fs.existsSync(path.join(repoRoot, 'dist', 'nodes', 'vigie-runtime.js')), 'run the build first (npm test does)');
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-start-auth-'));
  broker = await Aedes.createBroker();
  broker.authenticate = (_client, username, password, done) => {
    connects.push({ username, password: password?.toString() });
    done(null, username === 'gw-user' && password?.toString() === 'gw-secret');
  };
  server = net.createServer(broker.handle);
  const port = await new Promise<number>((resolve) => server!.listen(0, '127.0.0.1', () => resolve((server!.address() as net.AddressInfo).port)));
  setEnv({ VIGIE_QUIET: '1', T_BROKER_PORT: String(port), T_MQTT_USER: 'gw-user', T_MQTT_PASSWORD: 'gw-secret' });
});

after(async () => {
  await started?.stop();
  for (const [k, v] of Object.entries(envBefore)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await new Promise<void>((resolve) => (broker ? broker.close(() => resolve()) : resolve()));
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test('with httpNodeAuth and adminAuth set before the first start: started, credentials in place, health checked, secrets not world-readable', async () => {
  const flowFile = path.join(dir, 'flow.json');
  fs.writeFileSync(
    flowFile,
    JSON.stringify([
      { id: 'tab1', type: 'tab', label: 'gateway' },
      { id: 'broker1', type: 'mqtt-broker', name: 'broker', broker: '127.0.0.1', port: '${T_BROKER_PORT}', clientid: 'vigie-test', protocolVersion: '4', keepalive: '60', cleansession: true, credentials: { user: '$(T_MQTT_USER)', password: '$(T_MQTT_PASSWORD)' } },
      { id: 'in1', type: 'mqtt in', z: 'tab1', name: '', topic: 'vigie/test', qos: '0', datatype: 'auto-detect', broker: 'broker1', nl: false, rap: true, inputs: 0, x: 100, y: 100, wires: [] },
    ]),
  );
  const userDir = path.join(dir, 'user');
  fs.mkdirSync(userDir);
  fs.writeFileSync(path.join(userDir, 'settings.js'), OWN_SETTINGS);
  const log: string[] = [];
  started = await start({ flow: flowFile, userDir, host: '127.0.0.1', port: 0, resetFlow: false, brokerPort: 0, startTimeoutMs: 60_000 }, (l) => log.push(l));

  assert.equal(fs.readFileSync(path.join(userDir, 'settings.js'), 'utf8'), OWN_SETTINGS, 'the own settings.js is left as it is');
  // The credential references were installed without the admin API, which adminAuth closes.
  await waitFor(() => connects.some((c) => c.username === 'gw-user' && c.password === 'gw-secret'), 30_000, 'the MQTT node to connect with the credentials the flow refers to');

  const health = await runHealthCheck({ VIGIE_USER_DIR: userDir, VIGIE_PORT: new URL(started.url).port });
  assert.equal(health.code, 0, `the container's health check passes: ${health.stderr}`);

  // The node-side route stays behind httpNodeAuth; the admin-side one behind adminAuth or the token.
  assert.equal((await fetch(`${started.url}/vigie/health`)).status, 401);
  const basic = { Authorization: `Basic ${Buffer.from('operator:secret-pw').toString('base64')}` };
  const withLogin = await fetch(`${started.url}/vigie/health`, { headers: basic });
  assert.equal(withLogin.status, 200);
  assert.equal(((await withLogin.json()) as { status: string }).status, 'ok');
  assert.equal((await fetch(`${started.url}/vigie/admin-health`)).status, 401);
  assert.equal((await fetch(`${started.url}/vigie/admin-health`, { headers: { 'x-vigie-health-token': 'f'.repeat(64) } })).status, 401, 'a wrong token is refused');
  // As many characters as the token but more bytes (not ASCII): refused, not a server error.
  assert.equal((await fetch(`${started.url}/vigie/admin-health`, { headers: { 'x-vigie-health-token': '\u00e9'.repeat(64) } })).status, 401, 'a token of other bytes is refused');

  const modes = Object.fromEntries(
    ['flows_cred.json', '.config.runtime.json', HEALTH_FILE].map((f) => [f, fs.statSync(path.join(userDir, f)).mode & 0o777]),
  );
  assert.equal(modes['flows_cred.json'] & 0o027, 0, `flows_cred.json mode ${modes['flows_cred.json'].toString(8)}`);
  assert.equal(modes['.config.runtime.json'] & 0o027, 0, `.config.runtime.json (the generated key) mode ${modes['.config.runtime.json'].toString(8)}`);
  assert.equal(modes[HEALTH_FILE], 0o600);
  assert.ok(JSON.parse(fs.readFileSync(path.join(userDir, '.config.runtime.json'), 'utf8'))._credentialSecret, 'Node-RED generated its key');

  // A password typed in later (here through the admin API, as the editor does) is stored
  // encrypted, by Node-RED, in a file it writes again under the launcher's umask.
  const login = await fetch(`${started.url}/auth/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: 'client_id=node-red-admin&grant_type=password&scope=*&username=admin&password=secret-pw',
  });
  const admin = { Authorization: `Bearer ${((await login.json()) as { access_token: string }).access_token}`, 'Node-RED-API-Version': 'v2' };
  const current = (await (await fetch(`${started.url}/flows`, { headers: admin })).json()) as { rev: string; flows: Array<{ id: string; credentials?: unknown }> };
  current.flows.find((n) => n.id === 'broker1')!.credentials = { user: 'gw-user', password: 'typed-in-the-editor' };
  const deployed = await fetch(`${started.url}/flows`, {
    method: 'POST',
    headers: { ...admin, 'Content-Type': 'application/json', 'Node-RED-Deployment-Type': 'full' },
    body: JSON.stringify(current),
  });
  assert.equal(deployed.status, 200, await deployed.text());
  const credFile = path.join(userDir, 'flows_cred.json');
  const stored = await waitFor(() => {
    const c = JSON.parse(fs.readFileSync(credFile, 'utf8')) as Record<string, unknown>;
    return Object.keys(c).join() === '$' && c;
  }, 10_000, 'flows_cred.json to be encrypted');
  assert.doesNotMatch(JSON.stringify(stored), /typed-in-the-editor|gw-user/);
  assert.equal(fs.statSync(credFile).mode & 0o027, 0, `flows_cred.json as Node-RED rewrote it: mode ${(fs.statSync(credFile).mode & 0o777).toString(8)}`);

  await started.stop();
  assert.notEqual(started.child.exitCode ?? started.child.signalCode, null, 'Node-RED stopped');
  assert.equal(fs.existsSync(path.join(userDir, HEALTH_FILE)), false, "the run's token is removed with it");
  const after = await runHealthCheck({ VIGIE_USER_DIR: userDir, VIGIE_PORT: new URL(started.url).port });
  assert.equal(after.code, 1, 'unhealthy once stopped');
});

test('the editor off (httpAdminRoot false): the health check asks the node-side route at its prefix, and says why when httpNodeAuth closes it', async () => {
  const flowFile = path.join(dir, 'editor-off.json');
  fs.writeFileSync(flowFile, JSON.stringify([{ id: 'tab1', type: 'tab', label: 'x' }]));
  for (const [name, nodeAuth] of [['open', ''], ['closed', `httpNodeAuth: { user: 'operator', pass: '${HASH}' },`]]) {
    const userDir = path.join(dir, `user-editor-off-${name}`);
    fs.mkdirSync(userDir);
    fs.writeFileSync(
      path.join(userDir, 'settings.js'),
      `module.exports = { uiHost: '127.0.0.1', uiPort: Number(process.env.VIGIE_PORT), flowFile: 'flows.json', httpAdminRoot: false, httpNodeRoot: '/nr', ${nodeAuth} logging: { console: { level: 'warn' } } };\n`,
    );
    const run = await start({ flow: flowFile, userDir, host: '127.0.0.1', port: 0, resetFlow: false, brokerPort: 0, startTimeoutMs: 60_000 }, () => {});
    try {
      // Without the file, the check would ask /vigie/health, outside the /nr prefix.
      const health = await runHealthCheck({ VIGIE_USER_DIR: userDir, VIGIE_PORT: new URL(run.url).port });
      if (name === 'open') assert.equal(health.code, 0, `healthy: ${health.stderr}`);
      else {
        assert.equal(health.code, 1);
        assert.match(health.stderr, /^unhealthy: HTTP 401 from \/nr\/vigie\/health: httpNodeAuth is set and the editor is off \(httpAdminRoot false\)/);
      }
    } finally {
      await run.stop();
    }
  }
});

test('a flow whose nodes are not installed never starts: the error says so and Node-RED is stopped', async () => {
  const flowFile = path.join(dir, 'missing-type.json');
  fs.writeFileSync(flowFile, JSON.stringify([{ id: 'tab1', type: 'tab', label: 'x' }, { id: 'n1', type: 'no-such-node-type', z: 'tab1', wires: [] }]));
  const userDir = path.join(dir, 'user-missing');
  await assert.rejects(
    start({ flow: flowFile, userDir, host: '127.0.0.1', port: 0, resetFlow: false, brokerPort: 0, startTimeoutMs: 10_000 }, () => {}),
    (err: Error) => {
      assert.match(err.message, /^Node-RED did not start its flows within 10 s \(its flow uses node types that are not installed: *no-such-node-type/);
      assert.match(err.message, /stopped it/);
      return true;
    },
  );
  assert.deepEqual(processesWith(userDir), [], 'no Node-RED left running on that user directory');
  assert.equal(fs.existsSync(path.join(userDir, HEALTH_FILE)), false);
});
