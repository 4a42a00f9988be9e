#!/usr/bin/env node
// One-time set-up of a Debian machine for the demo and the tests: system packages (with
// apt-get, as root or through sudo) and the npm dependencies (npm ci). Safe to run again:
// it only installs what is missing. `node scripts/setup.mjs --demo` installs the runtime
// packages only.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// What the nodes need at run time on a gateway or in the control room.
const RUNTIME = ['ffmpeg', 'alsa-utils'];
// What the tests add: real parts they start (broker, RTSP server, browser) and tools.
const TEST = [
  'sox', 'mosquitto', 'openssl', 'chromium', 'fonts-dejavu-core',
  'gstreamer1.0-tools', 'gstreamer1.0-rtsp', 'gir1.2-gst-rtsp-server-1.0', 'python3-gi',
  'gstreamer1.0-plugins-base', 'gstreamer1.0-plugins-good', 'gstreamer1.0-plugins-ugly',
  'gstreamer1.0-plugins-bad', 'gstreamer1.0-libav',
  // the training pipeline's tests (training/test_training.py) and espeak-ng speech synthesis
  'python3-torch', 'python3-onnx', 'python3-numpy', 'espeak-ng',
];

const demoOnly = process.argv.includes('--demo');
const wanted = demoOnly ? RUNTIME : [...RUNTIME, ...TEST];

function installed(pkg) {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.includes('install ok installed');
}

function run(cmd, args, opts = {}) {
  console.log(`setup: ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', ...opts });
  if (r.status !== 0) {
    console.error(`setup: "${cmd} ${args.join(' ')}" failed (exit ${r.status})`);
    process.exit(r.status ?? 1);
  }
}

const hasDpkg = spawnSync('dpkg-query', ['--version']).status === 0;
if (!hasDpkg) {
  console.warn(`setup: not a Debian system; install these yourself: ${wanted.join(' ')}`);
} else {
  const missing = wanted.filter((p) => !installed(p));
  if (missing.length) {
    const asRoot = process.getuid?.() === 0;
    const sudo = asRoot ? [] : ['sudo'];
    if (!asRoot && spawnSync('sudo', ['-n', 'true']).status !== 0) {
      console.error(`setup: missing Debian packages: ${missing.join(' ')}\n  run: sudo apt-get install ${missing.join(' ')}`);
      process.exit(1);
    }
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    run(sudo[0] ?? 'apt-get', [...sudo.slice(1), ...(asRoot ? [] : ['apt-get']), 'update', '-qq'], { env });
    run(sudo[0] ?? 'apt-get', [...(asRoot ? [] : ['apt-get']), 'install', '-y', '-qq', '--no-install-recommends', ...missing], { env });
  }
}

// npm dependencies: onnxruntime-node's CUDA download is skipped (offline gateways need only
// the bundled CPU build).
// Installed already when npm's record of node_modules (its hidden lockfile) has every package
// of package-lock.json at the same version and integrity, and nothing else. Compared by
// content, not by date: a fresh checkout or a `git pull` that leaves the lock unchanged does
// not reinstall. Optional packages for other platforms are not installed, and need not be.
function installedMatchesLock() {
  const stamp = path.join(root, 'node_modules', '.package-lock.json');
  if (!fs.existsSync(stamp)) return false;
  try {
    const want = JSON.parse(fs.readFileSync(path.join(root, 'package-lock.json'), 'utf8')).packages ?? {};
    const have = JSON.parse(fs.readFileSync(stamp, 'utf8')).packages ?? {};
    for (const [name, p] of Object.entries(want)) {
      if (name === '') continue;
      const got = have[name];
      if (!got) {
        if (p.optional || p.devOptional) continue;
        return false;
      }
      if (got.version !== p.version || got.integrity !== p.integrity) return false;
    }
    return Object.keys(have).every((name) => name in want);
  } catch {
    return false;
  }
}
if (!installedMatchesLock()) {
  run('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' } });
}
console.log('setup: ready');
