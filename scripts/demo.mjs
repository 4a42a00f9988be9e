#!/usr/bin/env node
// `npm run demo`: the whole chain on the simulated street. On a fresh machine it first
// installs what it needs (system packages, npm dependencies), builds when the sources are
// newer than the build, then runs `vigie start --flow street-demo` on 127.0.0.1.
import { spawnSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const env = { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' };

function step(args) {
  const r = spawnSync(process.execPath, args, { stdio: 'inherit', cwd: root, env });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

function newest(dir, exts) {
  let t = 0;
  if (!fs.existsSync(dir)) return t;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) t = Math.max(t, newest(p, exts));
    else if (exts.some((x) => e.name.endsWith(x))) t = Math.max(t, fs.statSync(p).mtimeMs);
  }
  return t;
}

step([path.join(root, 'scripts', 'setup.mjs'), '--demo']);
const built = path.join(root, 'dist', 'bin', 'vigie.js');
const sources = Math.max(...['nodes', 'lib', 'bin', 'flows', 'icons', 'ui'].map((d) => newest(path.join(root, d), ['.ts', '.html', '.json', '.svg', '.vue', '.mjs'])));
if (!fs.existsSync(built) || fs.statSync(built).mtimeMs < sources) step([path.join(root, 'scripts', 'build.mjs')]);

const args = [built, 'start', '--flow', 'street-demo', '--user-dir', path.join(root, '.demo'), '--reset-flow', ...process.argv.slice(2)];
const child = spawn(process.execPath, args, { stdio: 'inherit', cwd: root, env });
// Ctrl-C reaches the whole process group; the launcher stops Node-RED, cameras and broker.
process.on('SIGINT', () => {});
process.on('SIGTERM', () => child.kill('SIGTERM'));
child.on('exit', (code) => process.exit(code ?? 0));
