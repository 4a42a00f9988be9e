/**
 * The container's health check (docker/healthcheck.js) sends the token vigie start left it in
 * the user directory, and is unhealthy on "degraded" (naming the silent sensors and the nodes
 * that cannot work), on a refusal and on no answer. The check is run for real against a
 * stand-in for Node-RED's route, and against the gateway flow run by the real `vigie start`
 * with a sensor it cannot use (needs the build).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { ChildProcess, execFile, spawn } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';
import { HEALTH_FILE, HEALTH_TOKEN_HEADER } from '../../lib/util/launcher-channel';
import { repoRoot } from '../support/nodered';
import { waitFor } from '../support/wait';

const dirs: string[] = [];
const children: ChildProcess[] = [];
after(() => {
  // A vigie start left running by a failed test: its whole group (it and its Node-RED).
  for (const c of children) if (c.exitCode === null && c.signalCode === null && c.pid) process.kill(-c.pid, 'SIGKILL');
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/** A stand-in for Node-RED's health route: answers `body` with `status`, recording the token header of each request. */
async function standIn(status: number, body: unknown): Promise<{ url: string; tokens: Array<string | undefined>; close(): Promise<void> }> {
  const tokens: Array<string | undefined> = [];
  const server = http.createServer((req, res) => {
    tokens.push(req.headers[HEALTH_TOKEN_HEADER] as string | undefined);
    res.writeHead(status, { 'Content-Type': 'application/json' }).end(typeof body === 'string' ? body : JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}`, tokens, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

function healthCheck(env: Record<string, string>): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(repoRoot, 'docker', 'healthcheck.js')], { env: { PATH: process.env.PATH ?? '', ...env }, timeout: 15_000 }, (err, _out, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stderr }),
    );
  });
}

function userDirWith(target: { url: string; token: string } | undefined): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-healthcheck-'));
  dirs.push(dir);
  if (target) fs.writeFileSync(path.join(dir, HEALTH_FILE), JSON.stringify(target));
  return dir;
}

test("the health check sends the run's token to the URL vigie start left, and is healthy only on status ok", async () => {
  const ok = await standIn(200, { status: 'ok', sensors: ['corner-1'], noAudio: [] });
  try {
    const dir = userDirWith({ url: `${ok.url}/admin/vigie/admin-health`, token: 'a'.repeat(64) });
    const r = await healthCheck({ VIGIE_USER_DIR: dir });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(ok.tokens, ['a'.repeat(64)]);
  } finally {
    await ok.close();
  }

  const degraded = await standIn(200, { status: 'degraded', sensors: ['corner-1', 'corner-2'], noAudio: [{ sensor: 'corner-2', forS: 42 }] });
  try {
    const r = await healthCheck({ VIGIE_USER_DIR: userDirWith({ url: `${degraded.url}/vigie/admin-health`, token: 't' }) });
    assert.equal(r.code, 1);
    assert.equal(r.stderr.trim(), 'unhealthy: degraded: no audio from sensor corner-2 for 42 s');
  } finally {
    await degraded.close();
  }

  const refused = await standIn(401, 'Unauthorized');
  try {
    const withToken = await healthCheck({ VIGIE_USER_DIR: userDirWith({ url: `${refused.url}/vigie/admin-health`, token: 'stale' }) });
    assert.equal(withToken.code, 1);
    assert.equal(withToken.stderr.trim(), 'unhealthy: HTTP 401 from /vigie/admin-health');
    // No file from vigie start: the node-side route on VIGIE_PORT, which httpNodeAuth refuses.
    const without = await healthCheck({ VIGIE_USER_DIR: userDirWith(undefined), VIGIE_PORT: new URL(refused.url).port });
    assert.equal(without.code, 1);
    assert.match(without.stderr, /^unhealthy: HTTP 401 from \/vigie\/health: httpNodeAuth is set and Node-RED was not started by vigie start/);
    assert.equal(refused.tokens.at(-1), undefined, 'no token without the file');
  } finally {
    await refused.close();
  }

  const gone = await standIn(200, {});
  await gone.close();
  const r = await healthCheck({ VIGIE_USER_DIR: userDirWith({ url: `${gone.url}/vigie/admin-health`, token: 't' }) });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^unhealthy: .*ECONNREFUSED/);
});

test('the health check names each node that cannot work, with how long and why, after the silent sensors', async () => {
  const failed = { node: 'mic-capture', id: 'gw-capture', name: 'USB mic array', reason: 'sensor: lat: expected a number from -90 to 90, got "abc"', since: '2026-03-01T10:00:00.000Z', forS: 12 };
  const unnamed = { node: 'acoustic-classifier', id: 'cls-1', sensor: 'corner-2', reason: 'model: model file x.onnx is not a loadable ONNX model', since: '2026-03-01T10:00:00.000Z', forS: 30 };
  const s = await standIn(200, { status: 'degraded', sensors: [], noAudio: [{ sensor: 'corner-2', forS: 42 }], failed: [failed, unnamed] });
  try {
    const r = await healthCheck({ VIGIE_USER_DIR: userDirWith({ url: `${s.url}/vigie/admin-health`, token: 't' }) });
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr.trim(),
      'unhealthy: degraded: no audio from sensor corner-2 for 42 s; mic-capture "USB mic array" has failed for 12 s: sensor: lat: expected a number from -90 to 90, got "abc"; ' +
        'acoustic-classifier "cls-1" (sensor corner-2) has failed for 30 s: model: model file x.onnx is not a loadable ONNX model',
    );
  } finally {
    await s.close();
  }
});

/**
 * The real `vigie start` of the gateway flow (needs the build) in `userDir`, sensor corner-12 at
 * latitude `lat` (text, as the environment gives it), in its own process group so that whatever
 * it started goes with it if a test fails; `output()` is what it printed so far.
 */
function startGateway(userDir: string, lat: string): { child: ChildProcess; output(): string } {
  const cli = path.join(repoRoot, 'dist', 'bin', 'vigie.js');
  assert.ok(fs.existsSync(cli), 'run the build first (npm test does)');
  const env = { ...process.env, VIGIE_QUIET: '', VIGIE_SENSOR: 'corner-12', VIGIE_SENSOR_LAT: lat, VIGIE_SENSOR_LON: '4.38', VIGIE_SENSOR_HEADING: '90', VIGIE_MQTT_HOST: '127.0.0.1' };
  const child = spawn(process.execPath, [cli, 'start', '--flow', 'gateway', '--user-dir', userDir, '--host', '127.0.0.1', '--port', '0'], { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  return { child, output: () => out };
}

test('the gateway flow run by vigie start with a latitude that is not a number: no capture runs, the report is degraded and the real health check exits 1, naming the capture and why', async () => {
  const userDir = userDirWith(undefined);
  const { child, output } = startGateway(userDir, 'abc');
  try {
    // The capture's error is logged where the node starts and fails; the health check's address once Node-RED listens.
    await waitFor(
      () => {
        const out = output();
        if (child.exitCode !== null) throw new Error(`vigie start exited (${child.exitCode}):\n${out.slice(-3000)}`);
        return /\[mic-capture:USB mic array\] sensor: lat: expected a number from -90 to 90, got "abc"/.test(out) && /Vigie is running/.test(out) && fs.existsSync(path.join(userDir, HEALTH_FILE));
      },
      120_000,
      'the gateway started, its capture refused',
    );
    const r = await healthCheck({ VIGIE_USER_DIR: userDir });
    assert.equal(r.code, 1, `${r.stderr}\n${output().slice(-3000)}`);
    assert.match(r.stderr.trim(), /^unhealthy: degraded: mic-capture "USB mic array" \(sensor corner-12\) has failed for \d+ s: sensor: lat: expected a number from -90 to 90, got "abc"$/);
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      await exited;
    }
  }
});

test('a health file of another shape (no url) is as good as none: the check asks VIGIE_PORT and says why it is unhealthy, with no stack trace', async () => {
  const s = await standIn(200, { status: 'ok', noAudio: [] });
  try {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-healthcheck-'));
    dirs.push(dir);
    fs.writeFileSync(path.join(dir, HEALTH_FILE), JSON.stringify({ token: 'x' }));
    const port = new URL(s.url).port;
    assert.deepEqual(await healthCheck({ VIGIE_USER_DIR: dir, VIGIE_PORT: port }), { code: 0, stderr: '' });
    assert.deepEqual(s.tokens, [undefined], 'no token sent without its url');
  } finally {
    await s.close();
  }
});

test('a health file that cannot be written once Node-RED runs (a full disk) does not stop it: the log says why, and it is written once it can be', async () => {
  const userDir = userDirWith(undefined);
  // The health file's temporary file is a directory: its write fails, as on a full disk.
  const blocker = path.join(userDir, `${HEALTH_FILE}.tmp`);
  fs.mkdirSync(path.join(blocker, 'in-the-way'), { recursive: true });
  const { child, output } = startGateway(userDir, '50.85');
  try {
    await waitFor(
      () => {
        const out = output();
        if (child.exitCode !== null) throw new Error(`vigie start exited (${child.exitCode}):\n${out.slice(-3000)}`);
        return /the health file \S+ could not be written: .*; Node-RED runs on, and the health check says unhealthy until it is written \(tried again every 5 s\)/.test(out);
      },
      120_000,
      'the failed write said',
    );
    assert.equal(fs.existsSync(path.join(userDir, HEALTH_FILE)), false);
    assert.equal((await healthCheck({ VIGIE_USER_DIR: userDir, VIGIE_PORT: '1' })).code, 1, 'unhealthy meanwhile');
    // Room again: written at the next try, and Node-RED ran on.
    fs.rmSync(blocker, { recursive: true, force: true });
    // The log line follows the write, through a pipe: wait for it, not for the file alone.
    await waitFor(() => /the health file \S+ is written now/.test(output()), 30_000, 'the health file said written');
    assert.equal(fs.existsSync(path.join(userDir, HEALTH_FILE)), true, 'the health file written');
    assert.equal(child.exitCode, null, 'vigie start still runs');
    const record = JSON.parse(fs.readFileSync(path.join(userDir, HEALTH_FILE), 'utf8'));
    assert.match(record.url, /^http:\/\/127\.0\.0\.1:\d+\/.*vigie\/admin-health$/);
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      await exited;
    }
  }
});
