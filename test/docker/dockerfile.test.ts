/**
 * The Docker image cannot be built here (no container engine): the Dockerfile is linted
 * offline, its promises are checked, and the commands it runs (install, start with each
 * flow) are run for real outside a container.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ChildProcess, execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { validate } from 'dockerfile-utils';
import { freePort, repoRoot } from '../support/nodered';

const dockerfile = fs.readFileSync(path.join(repoRoot, 'Dockerfile'), 'utf8');

test('the Dockerfile passes an offline linter, which does catch a broken one', () => {
  const problems = validate(dockerfile);
  assert.deepEqual(problems.map((p) => `${p.range.start.line + 1}: ${p.message}`), []);
  const broken = validate('FROM node:20-bookworm-slim\nRUNN apt-get update\nEXPOSE notaport\n');
  assert.ok(broken.length >= 2, 'the linter reports an unknown instruction and a bad port');
});

test("the build context leaves out the host's node_modules and build output, which COPY . . would lay over the stage's own", () => {
  assert.match(dockerfile, /RUN npm ci[^\n]*\nCOPY \. \./, 'the stage installs, then copies the sources over');
  const ignored = fs.readFileSync(path.join(repoRoot, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  for (const p of ['node_modules', 'dist', '.git', 'training/.cache', '.demo']) assert.ok(ignored.includes(p), `.dockerignore leaves out ${p}`);
});

test('the image is Debian-based, non-root with ALSA access, health-checked, and skips the CUDA download', () => {
  const froms = [...dockerfile.matchAll(/^FROM\s+(\S+)/gm)].map((m) => m[1]);
  assert.ok(froms.length >= 1);
  for (const f of froms) {
    assert.doesNotMatch(f, /alpine/i, 'onnxruntime-node needs glibc');
    assert.match(f, /bookworm|bullseye|trixie|debian/);
  }
  assert.match(dockerfile, /apt-get install[^\n]*(\\\n[^\n]*)*ffmpeg/);
  assert.match(dockerfile, /alsa-utils/);
  assert.match(dockerfile, /--groups audio/);
  const users = [...dockerfile.matchAll(/^USER\s+(\S+)/gm)].map((m) => m[1]);
  assert.ok(users.length > 0 && users[users.length - 1] !== 'root', 'runs as a non-root user');
  assert.match(dockerfile, /^HEALTHCHECK /m);
  assert.match(dockerfile, /ONNXRUNTIME_NODE_INSTALL=skip/);
  assert.match(dockerfile, /VIGIE_FLOW=/);
});

let work = '';
let tarball = '';
const env = () => ({
  ...process.env,
  ONNXRUNTIME_NODE_INSTALL: 'skip',
  NODE_RED_HOME: path.join(work, 'node-red'),
  VIGIE_USER_DIR: path.join(work, 'data'),
  VIGIE_NPM_FLAGS: '--prefer-offline',
  VIGIE_QUIET: '1',
});

before(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-docker-'));
  const out = execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: repoRoot, encoding: 'utf8' });
  tarball = path.join(work, JSON.parse(out.slice(out.indexOf('[')))[0].filename);
});

const children: ChildProcess[] = [];
after(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

test('the image install script works outside a container (Node-RED + the packed package, palette-style)', () => {
  execFileSync(path.join(repoRoot, 'docker', 'install.sh'), [tarball], { env: env(), stdio: 'pipe' });
  const userDir = path.join(work, 'data');
  const pkg = JSON.parse(fs.readFileSync(path.join(userDir, 'package.json'), 'utf8'));
  assert.ok(pkg.dependencies['node-red-dashboard-2-vigie'], 'installed as a dependency of the user directory');
  assert.ok(fs.existsSync(path.join(userDir, 'node_modules', 'node-red-dashboard-2-vigie', 'dist', 'bin', 'vigie.js')));
  assert.ok(fs.existsSync(path.join(work, 'node-red', 'node_modules', 'node-red', 'red.js')));
});

// What an integrator passes with `docker run -e` for each flow (see docs/install.md).
const FLOW_CONFIG: Record<string, Record<string, string>> = {
  'street-demo': {},
  gateway: { VIGIE_SENSOR: 'corner-12', VIGIE_SENSOR_LAT: '45.4397', VIGIE_SENSOR_LON: '4.3872', VIGIE_SENSOR_HEADING: '90', VIGIE_MQTT_HOST: '127.0.0.1' },
  'control-room': { VIGIE_MQTT_HOST: '127.0.0.1', VIGIE_CAMERA_HOST: '127.0.0.1', VIGIE_CAMERA_LAT: '45.4399', VIGIE_CAMERA_LON: '4.3875' },
};

test('the image start script refuses the gateway flow without its configuration, naming what is missing', () => {
  fs.rmSync(path.join(work, 'data', 'flows.json'), { force: true });
  let stderr = '';
  assert.throws(
    () => execFileSync(path.join(repoRoot, 'docker', 'start.sh'), [], { env: { ...env(), VIGIE_FLOW: 'gateway', VIGIE_PORT: '0' }, stdio: 'pipe', timeout: 60_000 }),
    (err: { status?: number; stderr?: Buffer }) => ((stderr = String(err.stderr)), err.status === 1),
  );
  for (const n of Object.keys(FLOW_CONFIG.gateway)) assert.match(stderr, new RegExp(`\\b${n}: `), `${n} named in:\n${stderr}`);
  assert.equal(fs.existsSync(path.join(work, 'data', 'flows.json')), false, 'no flow installed by a refused start');
});

for (const flow of ['street-demo', 'gateway', 'control-room']) {
  test(`the image start script runs the ${flow} flow and the health check passes`, async () => {
    const port = await freePort();
    const e = { ...env(), ...FLOW_CONFIG[flow], VIGIE_FLOW: flow, VIGIE_HOST: '127.0.0.1', VIGIE_PORT: String(port) };
    fs.rmSync(path.join(work, 'data', 'flows.json'), { force: true });
    const child = spawn(path.join(repoRoot, 'docker', 'start.sh'), [], { env: e, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    const deadline = Date.now() + 120_000;
    let healthy = false;
    while (!healthy && Date.now() < deadline && child.exitCode === null) {
      await new Promise((r) => setTimeout(r, 1000));
      try {
        execFileSync(process.execPath, [path.join(repoRoot, 'docker', 'healthcheck.js')], { env: e, stdio: 'pipe' });
        healthy = true;
      } catch {
        /* not yet */
      }
    }
    assert.ok(healthy, `health check never passed for ${flow}:\n${out.slice(-3000)}`);
    const flows = JSON.parse(fs.readFileSync(path.join(work, 'data', 'flows.json'), 'utf8')) as Array<{ type: string }>;
    const shipped = JSON.parse(fs.readFileSync(path.join(repoRoot, 'flows', `${flow}.json`), 'utf8')) as Array<{ type: string }>;
    assert.equal(flows.length, shipped.length, 'the chosen flow was installed');
    const r = await fetch(`http://127.0.0.1:${port}/flows`, { headers: { Accept: 'application/json' } });
    assert.equal(r.status, 200);
    const running = (await r.json()) as Array<{ type: string }>;
    assert.ok(running.some((n) => n.type.startsWith('vigie-') || ['mic-capture', 'localizer', 'alert-dashboard'].includes(n.type)));
    assert.doesNotMatch(out, /Waiting for missing types/, 'every node type of the flow is installed');
    child.kill('SIGTERM');
    await new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', () => resolve())));
  });
}
