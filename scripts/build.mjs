#!/usr/bin/env node
// Build: compile TypeScript into dist/, put each node's .html, locales and icons beside the
// compiled node (Node-RED looks for them there), the simulator's bundled scenes beside the
// compiled scene loader, copy shipped flows into examples/ (Import → Examples), and build the
// dashboard widget with Vite when its sources are present.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const rel = (...p) => path.join(root, ...p);

function copyDir(src, dst, filter = () => true) {
  if (!fs.existsSync(src)) return 0;
  fs.mkdirSync(dst, { recursive: true });
  let n = 0;
  for (const e of fs.readdirSync(src, { withFileTypes: true })) {
    const s = path.join(src, e.name);
    const d = path.join(dst, e.name);
    if (e.isDirectory()) n += copyDir(s, d, filter);
    else if (filter(e.name)) {
      fs.copyFileSync(s, d);
      n++;
    }
  }
  return n;
}

fs.rmSync(rel('dist'), { recursive: true, force: true });
fs.rmSync(rel('examples'), { recursive: true, force: true });
execFileSync(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', rel('tsconfig.json')], { stdio: 'inherit', cwd: root });

const html = copyDir(rel('nodes'), rel('dist', 'nodes'), (n) => n.endsWith('.html'));
copyDir(rel('nodes', 'locales'), rel('dist', 'nodes', 'locales'));
copyDir(rel('icons'), rel('dist', 'nodes', 'icons'));
// lib/sim/scene.ts looks for bundled scenes beside itself, in the source tree and in dist/ alike.
const scenes = copyDir(rel('lib', 'sim', 'scenes'), rel('dist', 'lib', 'sim', 'scenes'), (n) => n.endsWith('.json'));
const flows = copyDir(rel('flows'), rel('examples'), (n) => n.endsWith('.json'));
for (const f of ['vigie.js']) {
  const p = rel('dist', 'bin', f);
  if (fs.existsSync(p)) fs.chmodSync(p, 0o755);
}

if (fs.existsSync(rel('ui', 'vite.config.mjs')) && !process.argv.includes('--no-ui')) {
  execFileSync(process.execPath, [rel('node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', rel('ui', 'vite.config.mjs'), '--logLevel', 'warn'], {
    stdio: 'inherit',
    cwd: root,
  });
}
console.log(`build: ${html} node forms, ${scenes} simulator scenes, ${flows} example flows`);
