/**
 * The packed tarball, installed into a fresh Node-RED 4.1 user directory the way a palette
 * install does it, registers every node type of the package with no load error, and its
 * simulator finds the bundled scenes by name. The guides its flows and help texts send users to
 * (docs/install.md, docs/mqtt.md) are in it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { checkTarballFiles } from '../support/tarball';
import { makeUserDir, repoRoot, RunningNodeRed, startNodeRed } from '../support/nodered';

const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));
const nodes: Record<string, string> = pkg['node-red'].nodes;
let workDir = '';
let tarball = '';
let files = new Set<string>();
let extracted = '';
let red: RunningNodeRed | undefined;
let installedIn = '';

/** A fresh Node-RED user directory with the tarball installed, as a palette install does (once). */
function installTarball(): string {
  if (installedIn) return installedIn;
  const userDir = makeUserDir('vigie-pack-user-');
  fs.writeFileSync(path.join(userDir, 'package.json'), JSON.stringify({ name: 'node-red-project', private: true }));
  execFileSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--omit=dev', tarball], {
    cwd: userDir,
    stdio: 'pipe',
    env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' },
  });
  return (installedIn = userDir);
}

before(() => {
  assert.ok(fs.existsSync(path.join(repoRoot, 'dist')), 'run the build first (npm test does)');
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-pack-'));
  const out = execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', workDir], {
    cwd: repoRoot,
    encoding: 'utf8',
    env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' },
  });
  const info = JSON.parse(out.slice(out.indexOf('[')))[0];
  tarball = path.join(workDir, info.filename);
  extracted = path.join(workDir, 'x');
  fs.mkdirSync(extracted);
  execFileSync('tar', ['-xzf', tarball, '-C', extracted]);
  files = new Set(
    execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map((f) => f.replace(/^package\//, '')),
  );
});

after(async () => {
  await red?.stop();
  if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
  if (installedIn) fs.rmSync(installedIn, { recursive: true, force: true });
});

const read = (f: string) => fs.readFileSync(path.join(extracted, 'package', f), 'utf8');

test('the package registers node types, including its config nodes', () => {
  assert.ok(Object.keys(nodes).length > 0, 'package.json node-red.nodes is empty');
});

test('the tarball ships every node with its .html and icons, and nothing that is not needed', () => {
  const { problems, types } = checkTarballFiles(pkg.name, nodes, files, read);
  assert.deepEqual(problems, []);
  assert.ok(types.length >= Object.keys(nodes).length, `registered types: ${types.join(', ')}`);
  for (const f of files) {
    assert.ok(!/^(test|training|bench|ui|scripts|nodes|lib)\//.test(f), `source or test file shipped: ${f}`);
    assert.ok(!/\.(wav|flac|ogg|mp3|raw|pcm)$/i.test(f), `audio file shipped: ${f}`);
    assert.ok(!f.endsWith('.map'), `source map shipped: ${f}`);
  }
  if (pkg['node-red-dashboard-2']) {
    for (const [name, w] of Object.entries<{ output: string }>(pkg['node-red-dashboard-2'].widgets)) {
      // Dashboard 2.0 serves a widget's UMD file from the package's resources/ folder.
      const umd = path.posix.join('resources', w.output);
      assert.ok(files.has(umd), `widget ${name}: ${umd} missing from the tarball`);
    }
  }
});

test('the tarball check fails when an .html, an icon or a script a form loads is missing', () => {
  const [first] = Object.entries(nodes);
  const html = path.posix.normalize(first[1]).replace(/\.js$/, '.html');
  const withoutHtml = new Set([...files].filter((f) => f !== html));
  const a = checkTarballFiles(pkg.name, nodes, withoutHtml, read);
  assert.ok(a.problems.some((p) => p.file === html), 'a missing .html must be reported');
  const { icons } = checkTarballFiles(pkg.name, nodes, files, read);
  assert.ok(icons.length > 0, 'the nodes use icons of the package');
  const withoutIcon = new Set([...files].filter((f) => f !== icons[0]));
  const b = checkTarballFiles(pkg.name, nodes, withoutIcon, read);
  assert.ok(b.problems.some((p) => p.file === icons[0]), `a missing icon (${icons[0]}) must be reported`);
  const { scripts } = checkTarballFiles(pkg.name, nodes, files, read);
  assert.deepEqual(scripts, ['resources/vigie-editor.js'], "the forms load the package's shared field checks");
  const withoutScript = new Set([...files].filter((f) => f !== scripts[0]));
  const c = checkTarballFiles(pkg.name, nodes, withoutScript, read);
  assert.ok(c.problems.some((p) => p.file === scripts[0]), `a missing script (${scripts[0]}) must be reported`);
  // an absolute or foreign URL is reported too (the editor would ask another server or path)
  const absolute = checkTarballFiles(pkg.name, nodes, files, (f) => read(f).replace(`"resources/${pkg.name}/`, `"/resources/${pkg.name}/`));
  assert.ok(absolute.problems.some((p) => /not a relative URL/.test(p.problem)), 'an absolute script URL must be reported');
});

test('installed into a fresh Node-RED 4.1 user directory, every node type loads without error', async () => {
  red = await startNodeRed({ userDir: installTarball(), flows: [] });
  const r = await fetch(`${red.url}/nodes`, { headers: { Accept: 'application/json' } });
  assert.equal(r.status, 200);
  const sets = (await r.json()) as Array<{ id: string; module: string; types: string[]; enabled: boolean; err?: string }>;
  const ours = sets.filter((s) => s.module === pkg.name);
  assert.equal(ours.length, Object.keys(nodes).length, `node sets of ${pkg.name}: ${ours.map((s) => s.id).join(', ')}`);
  for (const s of ours) {
    assert.equal(s.err, undefined, `${s.id}: ${s.err}`);
    assert.ok(s.enabled, `${s.id} not enabled`);
  }
  const { types } = checkTarballFiles(pkg.name, nodes, files, read);
  const registered = new Set(ours.flatMap((s) => s.types));
  for (const t of types) assert.ok(registered.has(t), `type ${t} is in an editor file but not registered at runtime`);
  // The editor gets every form: the node configs endpoint serves each set's HTML.
  const html = await (await fetch(`${red.url}/nodes`, { headers: { Accept: 'text/html' } })).text();
  for (const t of types) assert.match(html, new RegExp(`registerType\\(\\s*['"]${t}['"]`), `editor HTML for ${t}`);
  // ... and each script a form loads, at the relative URL the form gives (the editor waits for it)
  const srcs = new Set([...html.matchAll(/<script\b[^>]*\bsrc="(resources\/[^"]+)"/g)].map((m) => m[1]).filter((src) => src.startsWith(`resources/${pkg.name}/`)));
  assert.deepEqual([...srcs], [`resources/${pkg.name}/vigie-editor.js`]);
  for (const src of srcs) {
    const res: Response = await fetch(`${red.url}/${src}`);
    assert.equal(res.status, 200, `GET ${src}`);
    assert.match(await res.text(), /\bvar VigieEditor\b/, `${src} is the forms' shared script`);
  }
  // The palette lists a module's nodes in the order its editor HTML registers them, the order of
  // package.json's node-red.nodes: the order of the chain (DESIGN §1), then the outbox.
  const palette = [...html.matchAll(/registerType\(\s*['"]([\w-]+)['"]\s*,\s*\{\s*category:\s*['"]Vigie['"]/g)].map((m) => m[1]);
  assert.deepEqual(palette, ['mic-capture', 'acoustic-classifier', 'localizer', 'ptz-steer', 'video-forward', 'alert-dashboard', 'vigie-outbox']);
});

test('the tarball ships every bundled simulator scene beside the compiled scene loader', () => {
  const scenes = fs.readdirSync(path.join(repoRoot, 'lib', 'sim', 'scenes')).filter((f) => f.endsWith('.json'));
  assert.ok(scenes.includes('street-demo.json'), `bundled scenes: ${scenes.join(', ')}`);
  assert.ok(files.has('dist/lib/sim/scene.js'), 'the scene loader is shipped');
  for (const f of scenes) assert.ok(files.has(`dist/lib/sim/scenes/${f}`), `scene ${f} missing from the tarball (expected dist/lib/sim/scenes/${f})`);
});

test('installed from the tarball, the simulator loads the street-demo scene by name', () => {
  const loader = path.join(installTarball(), 'node_modules', pkg.name, 'dist', 'lib', 'sim', 'scene.js');
  // Run from an empty directory so that no "street-demo" file of the checkout can answer instead.
  const cwd = fs.mkdtempSync(path.join(workDir, 'cwd-'));
  const out = execFileSync(process.execPath, ['-e', 'const s = require(process.argv[1]).loadScene("street-demo"); console.log(JSON.stringify({ name: s.name, sensors: s.sensors.length }))', loader], {
    cwd,
    encoding: 'utf8',
  });
  const scene = JSON.parse(out) as { name: string; sensors: number };
  assert.equal(scene.sensors, 3, `street-demo scene: ${out}`);
});

test('every docs/*.md that the shipped flows, the node help, the vigie help and the README name is in the tarball', () => {
  const naming = [...files].filter((f) => /^(examples\/.*\.json|dist\/nodes\/.*\.html|dist\/(lib\/cli|bin)\/.*\.js|README\.md)$/.test(f));
  const named = new Map<string, string>();
  for (const f of naming) for (const m of read(f).matchAll(/\bdocs\/[\w-]+\.md\b/g)) named.set(m[0], f);
  // The references this is about: the gateway flow's info and the outbox help send users to them.
  for (const doc of ['docs/install.md', 'docs/mqtt.md']) assert.ok(named.has(doc), `${doc} is named by a shipped file`);
  for (const [doc, by] of named) assert.ok(files.has(doc), `${doc}, named in ${by}, is missing from the tarball`);
});
