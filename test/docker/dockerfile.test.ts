/**
 * The Docker image cannot be built here (no container engine): the Dockerfile is linted
 * offline, its promises are checked, and the commands it runs (install, start with each
 * flow, a volume made by the first image, a palette install) are run for real outside a
 * container, with a temporary NODE_RED_HOME (the image's /opt/node-red) and user directory
 * (the /data volume).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ChildProcess, execFileSync, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { validate } from 'dockerfile-utils';
import { freePort, repoRoot } from '../support/nodered';
import { waitFor } from '../support/wait';

const dockerfile = fs.readFileSync(path.join(repoRoot, 'Dockerfile'), 'utf8');
const installMd = fs.readFileSync(path.join(repoRoot, 'docs', 'install.md'), 'utf8');
const PKG = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { name: string; version: string };
const DASHBOARD = '@flowfuse/node-red-dashboard';
/** Instructions with their continuation lines joined. */
const instructions = dockerfile.replace(/\\\n/g, ' ').split('\n').filter((l) => /^[A-Z]+\s/.test(l));
const stages = dockerfile.split(/^(?=FROM\s)/m).filter((s) => s.startsWith('FROM'));
const fromImage = (stage: string) => stage.match(/^FROM\s+(?:--\S+\s+)*(\S+)/)![1];

test('the Dockerfile passes an offline linter, which does catch a broken one', () => {
  const problems = validate(dockerfile);
  assert.deepEqual(problems.map((p) => `${p.range.start.line + 1}: ${p.message}`), []);
  const broken = validate('FROM node:20-bookworm-slim\nRUNN apt-get update\nEXPOSE notaport\n');
  assert.ok(broken.length >= 2, 'the linter reports an unknown instruction and a bad port');
});

/**
 * Whether .dockerignore's `patterns` leave `file` out of the build context, by Docker's rules: the
 * last pattern that matches the file or a folder above it decides, and "!" takes back in.
 */
function dockerIgnores(patterns: string[], file: string): boolean {
  const toRegExp = (p: string) =>
    new RegExp(`^${p.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*\*\//g, '\0').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]').replace(/\0/g, '(.*/)?')}$`);
  const parts = file.split('/');
  const selfAndFolders = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
  let ignored = false;
  for (const pattern of patterns) {
    const back = pattern.startsWith('!');
    const re = toRegExp(path.posix.normalize(back ? pattern.slice(1) : pattern).replace(/^\//, ''));
    if (selfAndFolders.some((f) => re.test(f))) ignored = !back;
  }
  return ignored;
}

test("the build context leaves out the host's node_modules and build output, which COPY . . would lay over the stage's own", () => {
  assert.match(dockerfile, /RUN npm ci[^\n]*\nCOPY \. \./, 'the stage installs, then copies the sources over');
  const ignored = fs.readFileSync(path.join(repoRoot, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  for (const p of ['node_modules', 'dist', '.git', 'training/.cache', '.demo']) assert.ok(ignored.includes(p), `.dockerignore leaves out ${p}`);
  // resources/: the widget is built in the stage, but the scripts the forms load are sources
  for (const f of ['node_modules/x/index.js', 'dist/nodes/localizer.js', 'resources/alert-dashboard.umd.js', 'training/.cache/x', 'training/x/__pycache__/y.pyc']) {
    assert.ok(dockerIgnores(ignored, f), `.dockerignore leaves out ${f}`);
  }
  const loaded = new Set<string>();
  for (const f of fs.readdirSync(path.join(repoRoot, 'nodes')).filter((n) => n.endsWith('.html'))) {
    for (const m of fs.readFileSync(path.join(repoRoot, 'nodes', f), 'utf8').matchAll(/<script\b[^>]*\bsrc="resources\/[^/"]+\/([^"]+)"/g)) loaded.add(`resources/${m[1]}`);
  }
  assert.ok(loaded.has('resources/vigie-editor.js'), `scripts the forms load: ${[...loaded].join(', ')}`);
  for (const f of loaded) assert.equal(dockerIgnores(ignored, f), false, `.dockerignore keeps ${f}, which the forms load, in the build context`);
});

test('the image is Debian-based, non-root with ALSA access, health-checked, and skips the CUDA download', () => {
  assert.equal(stages.length, 2);
  for (const s of stages) {
    assert.doesNotMatch(fromImage(s), /alpine/i, 'onnxruntime-node needs glibc');
    assert.match(fromImage(s), /bookworm|bullseye|trixie|debian/);
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

test('the build stage runs on the build machine (its output is JavaScript), the runtime stage on the target', () => {
  const [build, runtime] = stages;
  assert.match(build, /^FROM\s+--platform=\$BUILDPLATFORM\s/, 'the build stage is not run under QEMU for arm64');
  assert.doesNotMatch(runtime, /^FROM\s+--platform/, 'the runtime stage is built for each target platform');
  assert.match(build, /npm pack/);
  assert.match(runtime, /COPY --from=build \S*vigie\.tgz/);
});

test('the packages go into image layers under /opt, /data is an empty volume owned by the fixed UID/GID that docs/install.md gives', () => {
  const env = Object.fromEntries([...dockerfile.matchAll(/^\s+(?:ENV\s+)?(NODE_RED_HOME|VIGIE_USER_DIR)=(\S+)/gm)].map((m) => [m[1], m[2]]));
  assert.match(env.NODE_RED_HOME, /^\/opt\//);
  assert.equal(env.VIGIE_USER_DIR, '/data');
  assert.match(dockerfile, /^VOLUME \["\/data"\]/m);
  const install = instructions.find((l) => /^RUN .*install\.sh/.test(l));
  assert.ok(install, 'a RUN runs install.sh');
  assert.doesNotMatch(install, /\/data.*install\.sh|install\.sh.*VIGIE_USER_DIR/, 'nothing is installed into the volume');
  // The npm cache is sent to a directory that the same RUN removes, so no layer keeps it.
  const cache = install.match(/npm_config_cache=(\S+)/);
  assert.ok(cache, 'install.sh runs with its own npm cache');
  assert.match(install, new RegExp(`rm -rf [^&]*${cache[1].replace(/[/.]/g, '\\$&')}(\\s|$)`), 'the same RUN removes the cache');
  assert.match(install, /rm -rf [^&]*\/root\/\.npm/);

  const ids = dockerfile.match(/groupadd [^\n]*--gid (\d+) vigie[^\n]*\n[^\n]*useradd [^\n]*--uid (\d+)/);
  assert.ok(ids, 'the vigie user has a fixed UID and GID');
  const [, gid, uid] = ids;
  assert.match(install, /VIGIE_RUN_AS=vigie:vigie /, 'the user Node-RED runs as may re-link the package (palette installs)');
  assert.match(install, /chown vigie:vigie \/data/);
  assert.ok(installMd.includes(`chown -R ${uid}:${gid} `), `docs/install.md tells to chown a bind mount to ${uid}:${gid}`);
  assert.ok(installMd.includes(`UID ${uid}`) && installMd.includes(`GID ${gid}`), 'docs/install.md gives the UID and GID');
  for (const f of ['install.sh', 'start.sh', 'old-packages.js', 'healthcheck.js']) assert.match(dockerfile, new RegExp(`COPY [^\\n]*docker/${f}[^\\n]* /opt/vigie/`), `${f} is in the image`);
});

let work = '';
let tarball = '';
const nodeRedHome = () => path.join(work, 'node-red');
const dataDir = () => path.join(work, 'data');
const installed = (name: string) => path.join(nodeRedHome(), 'node_modules', name);
/** Running as root here, the palette install and the unwritable volume are tried as this user. */
const NOBODY = 65534;
const asRoot = process.getuid?.() === 0;
const env = (over: Record<string, string> = {}) => ({
  ...process.env,
  ONNXRUNTIME_NODE_INSTALL: 'skip',
  NODE_RED_HOME: nodeRedHome(),
  VIGIE_USER_DIR: dataDir(),
  VIGIE_NPM_FLAGS: '--prefer-offline',
  VIGIE_QUIET: '1',
  ...over,
});

before(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-docker-'));
  if (asRoot) fs.chmodSync(work, 0o755);
  const out = execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: repoRoot, encoding: 'utf8' });
  tarball = path.join(work, JSON.parse(out.slice(out.indexOf('[')))[0].filename);
});

const children: ChildProcess[] = [];
after(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

test('install.sh puts Node-RED, Vigie and Dashboard 2.0 in one node_modules under NODE_RED_HOME and nothing in the user directory', () => {
  execFileSync(path.join(repoRoot, 'docker', 'install.sh'), [tarball], {
    env: env(asRoot ? { VIGIE_RUN_AS: `${NOBODY}:${NOBODY}` } : {}),
    stdio: 'pipe',
  });
  const pkg = JSON.parse(fs.readFileSync(path.join(nodeRedHome(), 'package.json'), 'utf8'));
  for (const d of ['node-red', PKG.name, DASHBOARD]) assert.ok(pkg.dependencies[d], `${d} is a dependency of NODE_RED_HOME`);
  assert.ok(fs.existsSync(path.join(installed('node-red'), 'red.js')));
  assert.ok(fs.existsSync(path.join(installed(PKG.name), 'dist', 'bin', 'vigie.js')));
  assert.ok(fs.existsSync(path.join(installed(PKG.name), 'resources', 'vigie-editor.js')), "the editor forms' shared script is installed");
  assert.ok(fs.existsSync(path.join(installed(DASHBOARD), 'package.json')));
  assert.equal(fs.existsSync(dataDir()), false, 'install.sh does not touch the user directory');
});

test("install.sh keeps only this machine's onnxruntime-node build, and the shipped model loads and runs with it", () => {
  const bin = path.join(installed('onnxruntime-node'), 'bin');
  const napis = fs.readdirSync(bin);
  assert.ok(napis.length > 0 && napis.every((n) => /^napi-v\d+$/.test(n)), `bin/: ${napis.join(', ')}`);
  for (const napi of napis) {
    const builds = fs.readdirSync(path.join(bin, napi)).flatMap((os) => fs.readdirSync(path.join(bin, napi, os)).map((arch) => `${os}/${arch}`));
    assert.deepEqual(builds, [`${process.platform}/${process.arch}`], `${napi} keeps one build`);
  }
  // From an empty directory, resolving onnxruntime-node the way the package does.
  const script = `
    const path = require('path');
    const root = process.argv[1];
    const ort = require(require.resolve('onnxruntime-node', { paths: [root] }));
    const model = require(path.join(root, 'models', 'vigie-street-v1.json'));
    (async () => {
      const s = await ort.InferenceSession.create(path.join(root, 'models', model.file));
      const out = await s.run({ [model.input.name]: new ort.Tensor('float32', new Float32Array(model.input.windowSamples), [1, model.input.windowSamples]) });
      const p = Array.from(out[s.outputNames[0]].data);
      console.log(JSON.stringify({ classes: p.length, sum: p.reduce((a, b) => a + b, 0) }));
    })().catch((e) => { console.error(e); process.exit(1); });`;
  const cwd = fs.mkdtempSync(path.join(work, 'cwd-'));
  const r = JSON.parse(execFileSync(process.execPath, ['-e', script, installed(PKG.name)], { cwd, encoding: 'utf8' })) as { classes: number; sum: number };
  assert.ok(r.classes >= 2, `classes: ${r.classes}`);
  assert.ok(Math.abs(r.sum - 1) < 1e-3, `probabilities sum to ${r.sum}`);
});

// What an integrator passes with `docker run -e` for each flow (see docs/install.md).
const FLOW_CONFIG: Record<string, Record<string, string>> = {
  'street-demo': {},
  gateway: { VIGIE_SENSOR: 'corner-12', VIGIE_SENSOR_LAT: '45.4397', VIGIE_SENSOR_LON: '4.3872', VIGIE_SENSOR_HEADING: '90', VIGIE_MQTT_HOST: '127.0.0.1' },
  'control-room': { VIGIE_MQTT_HOST: '127.0.0.1', VIGIE_CAMERA_HOST: '127.0.0.1', VIGIE_CAMERA_LAT: '45.4399', VIGIE_CAMERA_LON: '4.3875' },
};

test('the image start script refuses the gateway flow without its configuration, naming what is missing', () => {
  fs.rmSync(path.join(dataDir(), 'flows.json'), { force: true });
  let stderr = '';
  assert.throws(
    () => execFileSync(path.join(repoRoot, 'docker', 'start.sh'), [], { env: env({ VIGIE_FLOW: 'gateway', VIGIE_PORT: '0' }), stdio: 'pipe', timeout: 60_000 }),
    (err: { status?: number; stderr?: Buffer }) => ((stderr = String(err.stderr)), err.status === 1),
  );
  for (const n of Object.keys(FLOW_CONFIG.gateway)) assert.match(stderr, new RegExp(`\\b${n}: `), `${n} named in:\n${stderr}`);
  assert.equal(fs.existsSync(path.join(dataDir(), 'flows.json')), false, 'no flow installed by a refused start');
});

interface Started {
  port: number;
  output(): string;
  stop(): Promise<void>;
}

/** start.sh, as the image's entry point runs it; resolves once Node-RED reports healthy. */
async function startImage(flow: string, over: Record<string, string> = {}): Promise<Started> {
  const port = await freePort();
  const e = env({ ...FLOW_CONFIG[flow], VIGIE_FLOW: flow, VIGIE_HOST: '127.0.0.1', VIGIE_PORT: String(port), ...over });
  const child = spawn(path.join(repoRoot, 'docker', 'start.sh'), [], { env: e, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    await exited;
  };
  await waitFor(
    async () => {
      if (child.exitCode !== null) throw new Error(`start.sh exited (${child.exitCode}) for ${flow}:\n${out.slice(-3000)}`);
      return fetch(`http://127.0.0.1:${port}/vigie/health`).then((r) => r.ok, () => false);
    },
    120_000,
    `Vigie's health endpoint for ${flow}`,
  ).catch(async (err) => {
    await stop();
    throw new Error(`${err.message}\n${out.slice(-3000)}`);
  });
  if (flow === 'gateway') {
    // No sound device here: the gateway's capture never delivers audio, and the report says so
    // within seconds (as a gateway with an unplugged microphone would); the image's HEALTHCHECK
    // command is then unhealthy, naming the sensor.
    await waitFor(
      () => fetch(`http://127.0.0.1:${port}/vigie/health`).then((r) => r.json() as Promise<{ status?: string }>).then((b) => b.status === 'degraded', () => false),
      60_000,
      'the gateway health report to say degraded',
    );
    assert.throws(
      () => execFileSync(process.execPath, [path.join(repoRoot, 'docker', 'healthcheck.js')], { env: e, stdio: 'pipe' }),
      (err: { status?: number; stderr?: Buffer }) => err.status === 1 && /unhealthy: degraded: no audio from sensor corner-12 for \d+ s/.test(String(err.stderr)),
    );
  } else {
    // The image's HEALTHCHECK command agrees.
    execFileSync(process.execPath, [path.join(repoRoot, 'docker', 'healthcheck.js')], { env: e, stdio: 'pipe' });
  }
  return { port, output: () => out, stop };
}

type NodeSet = { module: string; version: string; err?: string; types: string[] };
async function nodeSets(port: number): Promise<NodeSet[]> {
  const r = await fetch(`http://127.0.0.1:${port}/nodes`, { headers: { Accept: 'application/json' } });
  assert.equal(r.status, 200);
  return (await r.json()) as NodeSet[];
}

for (const flow of ['street-demo', 'gateway', 'control-room']) {
  test(`the image start script runs the ${flow} flow with Vigie and Dashboard 2.0 from NODE_RED_HOME, and the health check passes (the gateway's: unhealthy, with no microphone here)`, async () => {
    fs.rmSync(path.join(dataDir(), 'flows.json'), { force: true });
    const s = await startImage(flow);
    try {
      const flows = JSON.parse(fs.readFileSync(path.join(dataDir(), 'flows.json'), 'utf8')) as Array<{ type: string }>;
      const shipped = JSON.parse(fs.readFileSync(path.join(repoRoot, 'flows', `${flow}.json`), 'utf8')) as Array<{ type: string }>;
      assert.equal(flows.length, shipped.length, 'the chosen flow was installed');
      const r = await fetch(`http://127.0.0.1:${s.port}/flows`, { headers: { Accept: 'application/json' } });
      assert.equal(r.status, 200);
      const running = (await r.json()) as Array<{ type: string }>;
      assert.ok(running.some((n) => n.type.startsWith('vigie-') || ['mic-capture', 'localizer', 'alert-dashboard'].includes(n.type)));
      assert.doesNotMatch(s.output(), /Waiting for missing types/, 'every node type of the flow is installed');
      // the editor gets the script the forms load (without it, the editor never finishes loading)
      const editorScript = await fetch(`http://127.0.0.1:${s.port}/resources/${PKG.name}/vigie-editor.js`);
      assert.equal(editorScript.status, 200, "the editor forms' shared script is served");
      const sets = await nodeSets(s.port);
      for (const [m, v] of [[PKG.name, PKG.version], [DASHBOARD, '1.31.0']]) {
        const ours = sets.filter((x) => x.module === m);
        assert.ok(ours.length > 0, `${m} loaded`);
        for (const x of ours) assert.deepEqual([x.version, x.err], [v, undefined], `${m}: version and load error`);
      }
    } finally {
      await s.stop();
    }
  });
}

/** Every file and directory under `dir`, symbolic links not followed, with their sizes. */
function walk(dir: string): Array<{ rel: string; link: boolean; size: number }> {
  const out: Array<{ rel: string; link: boolean; size: number }> = [];
  const go = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      const st = fs.lstatSync(p);
      out.push({ rel: path.relative(dir, p), link: st.isSymbolicLink(), size: st.size });
      if (st.isDirectory()) go(p);
    }
  };
  go(dir);
  return out;
}

test('after running each flow, the user directory holds state only: no package, at most a link to the installed Vigie', () => {
  const entries = walk(dataDir());
  const modules = entries.filter((e) => e.rel.split(path.sep)[0] === 'node_modules');
  for (const m of modules) {
    if (m.rel === 'node_modules' || m.rel === path.join('node_modules', '.package-lock.json')) continue;
    assert.equal(m.rel, path.join('node_modules', PKG.name), `only Vigie is linked into the user directory: ${m.rel}`);
    assert.ok(m.link, `${m.rel} is a link, not a copy`);
    assert.equal(fs.realpathSync(path.join(dataDir(), m.rel)), fs.realpathSync(installed(PKG.name)), `${m.rel} leads to NODE_RED_HOME`);
  }
  const bytes = entries.reduce((a, e) => a + e.size, 0);
  assert.ok(bytes < 2_000_000, `the user directory holds ${bytes} bytes: ${entries.map((e) => e.rel).join(', ')}`);
  assert.ok(entries.some((e) => e.rel === 'flows.json'));
});

test("Dashboard 2.0 finds Vigie's widget through the user directory, as its ui-base node looks for third-party widgets", () => {
  const { getThirdPartyWidgets } = require(path.join(installed(DASHBOARD), 'nodes', 'utils')) as {
    getThirdPartyWidgets(dir: string): Record<string, { package: string; src: string }>;
  };
  const w = getThirdPartyWidgets(dataDir())['alert-dashboard'];
  assert.ok(w, 'the alert-dashboard widget is found');
  assert.equal(w.package, PKG.name);
  assert.ok(fs.existsSync(path.join(installed(PKG.name), 'resources', w.src)), `its UMD file ${w.src} is shipped`);
});

/** A Node-RED module that the palette manager could install: packed, with one node, no dependency. */
function paletteModule(): string {
  const dir = path.join(work, 'palette-module');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'node-red-contrib-vigie-palette-probe', version: '1.0.0', 'node-red': { nodes: { probe: 'probe.js' } } }));
  fs.writeFileSync(path.join(dir, 'probe.js'), 'module.exports = (RED) => RED.nodes.registerType("vigie-palette-probe", function (c) { RED.nodes.createNode(this, c); });\n');
  fs.writeFileSync(path.join(dir, 'probe.html'), '<script type="text/javascript">RED.nodes.registerType("vigie-palette-probe", { category: "function", defaults: {}, inputs: 1 });</script>\n');
  const out = execFileSync('npm', ['pack', '--json', '--pack-destination', work], { cwd: dir, encoding: 'utf8' });
  return path.join(work, JSON.parse(out.slice(out.indexOf('[')))[0].filename);
}

test("a palette install into the user directory works as the image's unprivileged user and leaves NODE_RED_HOME alone", () => {
  const probe = paletteModule();
  const lock = path.join(nodeRedHome(), 'package-lock.json');
  const before = fs.readFileSync(lock, 'utf8');
  const home = path.join(work, 'home');
  fs.mkdirSync(home, { recursive: true });
  const user = asRoot ? { uid: NOBODY, gid: NOBODY } : {};
  if (asRoot) for (const p of [dataDir(), home, probe]) execFileSync('chown', ['-R', `${NOBODY}:${NOBODY}`, p]);
  // The arguments Node-RED's palette manager gives npm (@node-red/registry installer).
  const args = ['install', '--no-audit', '--no-update-notifier', '--no-fund', '--save', '--save-prefix=~', '--omit=dev', '--engine-strict', '--prefer-offline', '--', probe];
  try {
    execFileSync('npm', args, { cwd: dataDir(), env: { ...env(), HOME: home, npm_config_cache: path.join(home, '.npm') }, stdio: 'pipe', ...user });
  } catch (err) {
    assert.fail(`npm install in the user directory failed:\n${String((err as { stderr?: Buffer }).stderr).slice(-2000)}`);
  }
  assert.ok(fs.existsSync(path.join(dataDir(), 'node_modules', 'node-red-contrib-vigie-palette-probe', 'probe.js')));
  assert.equal(fs.realpathSync(path.join(dataDir(), 'node_modules', PKG.name)), fs.realpathSync(installed(PKG.name)), 'Vigie is still the installed one');
  assert.equal(fs.readFileSync(lock, 'utf8'), before);
  if (asRoot) execFileSync('chown', ['-R', '0:0', dataDir()]);
});

test('start.sh refuses a data directory it cannot write, saying which UID and GID it needs', () => {
  const ro = path.join(work, 'read-only-data');
  fs.mkdirSync(ro);
  if (!asRoot) fs.chmodSync(ro, 0o555);
  let stderr = '';
  assert.throws(
    () => execFileSync(path.join(repoRoot, 'docker', 'start.sh'), [], { env: env({ VIGIE_USER_DIR: ro }), stdio: 'pipe', timeout: 30_000, ...(asRoot ? { uid: NOBODY, gid: NOBODY } : {}) }),
    (err: { status?: number; stderr?: Buffer }) => ((stderr = String(err.stderr)), err.status === 1),
  );
  const [uid, gid] = asRoot ? [NOBODY, NOBODY] : [process.getuid!(), process.getgid!()];
  assert.match(stderr, new RegExp(`${ro.replace(/[/.]/g, '\\$&')} is not writable by uid ${uid}, gid ${gid}`));
  assert.match(stderr, new RegExp(`chown -R ${uid}:${gid} `));
  assert.deepEqual(fs.readdirSync(ro), []);
});

test('start.sh says when the data directory is on a filesystem mounted read-only (a card remounted after errors), and does not ask for a chown', () => {
  const ro = path.join(work, 'remounted-data');
  fs.mkdirSync(ro);
  // A read-only bind mount in a mount namespace of its own: the real EROFS, nothing remounted outside.
  const script = 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@"';
  let stderr = '';
  assert.throws(
    () => execFileSync('unshare', ['--map-root-user', '--mount', 'sh', '-c', script, 'sh', ro, path.join(repoRoot, 'docker', 'start.sh')], { env: env({ VIGIE_USER_DIR: ro }), stdio: 'pipe', timeout: 30_000 }),
    (err: { status?: number; stderr?: Buffer }) => ((stderr = String(err.stderr)), err.status === 1),
  );
  assert.match(stderr, new RegExp(`the data directory ${ro.replace(/[/.]/g, '\\$&')} is on a filesystem mounted read-only`));
  assert.doesNotMatch(stderr, /chown -R/);
  assert.deepEqual(fs.readdirSync(ro), []);
});

/** A user directory as the first image left it: Vigie and Dashboard 2.0 npm-installed into it. */
function oldImageVolume(dir: string, extraDeps: Record<string, string> = {}): void {
  fs.mkdirSync(path.join(dir, 'node_modules', '@flowfuse'), { recursive: true });
  const deps = { [DASHBOARD]: '^1.31.0', [PKG.name]: 'file:../opt/vigie/vigie.tgz', ...extraDeps };
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'node-red-project', description: 'Vigie', private: true, dependencies: deps }));
  fs.writeFileSync(path.join(dir, 'package-lock.json'), JSON.stringify({ name: 'node-red-project', lockfileVersion: 3, packages: {} }));
  for (const name of [PKG.name, DASHBOARD]) {
    const to = path.join(dir, 'node_modules', name);
    fs.cpSync(installed(name), to, { recursive: true, dereference: false });
    const p = JSON.parse(fs.readFileSync(path.join(to, 'package.json'), 'utf8'));
    fs.writeFileSync(path.join(to, 'package.json'), JSON.stringify({ ...p, version: '0.0.1-old' }));
  }
  // State that must survive the move.
  fs.mkdirSync(path.join(dir, 'vigie-audit'));
  fs.writeFileSync(path.join(dir, 'vigie-audit', 'audit-2025-01-01-000.jsonl'), '{}\n');
}

test('a volume made by the first image: start.sh moves its Vigie and Dashboard 2.0 aside, says so, and the installed ones run', async () => {
  const dir = path.join(work, 'old-volume');
  oldImageVolume(dir);
  const s = await startImage('street-demo', { VIGIE_USER_DIR: dir });
  try {
    const sets = await nodeSets(s.port);
    for (const [m, v] of [[PKG.name, PKG.version], [DASHBOARD, '1.31.0']]) {
      const ours = sets.filter((x) => x.module === m);
      assert.ok(ours.length > 0, `${m} loaded`);
      for (const x of ours) assert.deepEqual([x.version, x.err], [v, undefined], `${m}: the installed version is loaded`);
    }
    const aside = path.join(dir, 'old-image-packages');
    for (const m of [PKG.name, DASHBOARD]) {
      assert.equal(JSON.parse(fs.readFileSync(path.join(aside, 'node_modules', m, 'package.json'), 'utf8')).version, '0.0.1-old', `the old ${m} is kept aside`);
    }
    assert.ok(fs.existsSync(path.join(aside, 'package.json')) && fs.existsSync(path.join(aside, 'package-lock.json')));
    assert.match(s.output(), new RegExp(`made by an earlier image, which installed Vigie 0\\.0\\.1-old and Dashboard 2\\.0 into it; .*Moved to ${aside.replace(/[/.]/g, '\\$&')}`));
    assert.ok(fs.existsSync(path.join(dir, 'vigie-audit', 'audit-2025-01-01-000.jsonl')), 'the audit log stays');
  } finally {
    await s.stop();
  }
  // The next start has nothing to move.
  const again = execFileSync(process.execPath, [path.join(repoRoot, 'docker', 'old-packages.js'), dir, nodeRedHome()], { encoding: 'utf8', stdio: 'pipe' });
  assert.equal(again, '');
});

test('a volume made by the first image, with nodes installed from the palette: only the image packages are moved aside', () => {
  const dir = path.join(work, 'old-volume-with-palette');
  oldImageVolume(dir, { 'node-red-contrib-other': '~2.0.0' });
  fs.mkdirSync(path.join(dir, 'node_modules', 'node-red-contrib-other'));
  fs.writeFileSync(path.join(dir, 'node_modules', 'node-red-contrib-other', 'package.json'), '{"name":"node-red-contrib-other","version":"2.0.0"}');
  const out = execFileSync(process.execPath, [path.join(repoRoot, 'docker', 'old-packages.js'), dir, nodeRedHome()], { encoding: 'utf8' });
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).dependencies, { 'node-red-contrib-other': '~2.0.0' });
  assert.deepEqual(fs.readdirSync(path.join(dir, 'node_modules')).sort(), ['@flowfuse', 'node-red-contrib-other']);
  assert.deepEqual(fs.readdirSync(path.join(dir, 'node_modules', '@flowfuse')), []);
  const aside = path.join(dir, 'old-image-packages');
  assert.deepEqual(Object.keys(JSON.parse(fs.readFileSync(path.join(aside, 'package.json'), 'utf8')).dependencies).sort(), [DASHBOARD, 'node-red-contrib-other', PKG.name]);
  for (const m of [PKG.name, DASHBOARD]) assert.ok(fs.existsSync(path.join(aside, 'node_modules', m, 'package.json')), `${m} moved aside`);
  assert.match(out, /npm prune --omit=dev/);
});

test('a Vigie installed into the volume from the palette is left where it is, with a warning that it is the one Node-RED loads', () => {
  const dir = path.join(work, 'palette-vigie');
  oldImageVolume(dir);
  const pkgFile = path.join(dir, 'package.json');
  const pkg = JSON.parse(fs.readFileSync(pkgFile, 'utf8'));
  pkg.dependencies[PKG.name] = '~0.0.1';
  fs.writeFileSync(pkgFile, JSON.stringify(pkg));
  const r = spawnSync(process.execPath, [path.join(repoRoot, 'docker', 'old-packages.js'), dir, nodeRedHome()], { encoding: 'utf8' });
  assert.equal(r.status, 0);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, new RegExp(`Vigie 0\\.0\\.1-old\\) was installed into the data directory .*loads it, not the image's Vigie ${PKG.version.replace(/\./g, '\\.')}`));
  assert.ok(fs.existsSync(path.join(dir, 'node_modules', PKG.name, 'package.json')), 'left in place');
  assert.equal(fs.existsSync(path.join(dir, 'old-image-packages')), false);
});
