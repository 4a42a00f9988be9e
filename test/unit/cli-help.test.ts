/**
 * `vigie <command> --help` (and -h) prints the command's usage on standard output and exits 0,
 * for every command, and explains each option of its usage line; `vigie --help` lists every
 * command with all its options; an unknown command, or `vigie eval` without its subcommand,
 * exits 2. `vigie start --help` also describes the environment variables.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { FLOW_ENV, parseStartArgs } from '../../lib/cli/start';
import { USAGE } from '../../lib/cli/usage';
import { CAMERA_QUIRKS } from '../../lib/sim/camera/virtual-camera';
import { repoRoot } from '../support/nodered';

function vigie(...args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'bin', 'vigie.ts'), ...args], { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 });
}

for (const name of Object.keys(USAGE) as Array<keyof typeof USAGE>) {
  test(`vigie ${name} --help prints its usage and exits 0`, () => {
    const r = vigie(...name.split(' '), '--help');
    assert.equal(r.status, 0, r.stderr);
    assert.ok(r.stdout.startsWith(`usage: ${USAGE[name]}\n`), r.stdout);
  });
}

test('vigie <command> --help explains every option its usage line names, on a line of its own', () => {
  for (const name of Object.keys(USAGE) as Array<keyof typeof USAGE>) {
    const r = vigie(...name.split(' '), '--help');
    assert.equal(r.status, 0, r.stderr);
    const help = r.stdout.slice(`usage: ${USAGE[name]}\n`.length);
    assert.ok(help.trim().length > 0, `vigie ${name} --help says what the command does`);
    for (const option of new Set([...USAGE[name].matchAll(/--[a-z][a-z-]*/g)].map((m) => m[0]))) {
      // "  --option", then its value's name or two spaces, then what it means.
      assert.match(help, new RegExp(`\\n  ${option}(?: \\S+)? {2,}\\S`), `vigie ${name} --help explains ${option}:\n${help}`);
    }
  }
});

test('vigie virtual-camera --help: every quirk, with what it imitates', () => {
  const r = vigie('virtual-camera', '--help');
  for (const q of CAMERA_QUIRKS) assert.match(r.stdout, new RegExp(`\\n  ${q} +\\S`), q);
});

test('vigie eval and vigie audit alone: the command needs a subcommand, and its subcommands are listed (exit 2)', () => {
  for (const [word, subs] of [['eval', ['eval detect', 'eval localize']], ['audit', ['audit verify', 'audit show']]] as const) {
    const r = vigie(word);
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stderr, `vigie: ${word} needs a subcommand\nusage:\n${subs.map((n) => `  ${USAGE[n]}\n`).join('')}`);
  }
  const wrong = vigie('eval', 'detekt', '--manifest', 'm.csv');
  assert.equal(wrong.status, 2, wrong.stderr);
  assert.match(wrong.stderr, /^vigie: eval has no subcommand "detekt"\nusage:\n  vigie eval detect [^]*\n  vigie eval localize /);
  const help = vigie('eval', '--help');
  assert.equal(help.status, 0, help.stderr);
  assert.equal(help.stdout, `usage:\n  ${USAGE['eval detect']}\n  ${USAGE['eval localize']}\n`);
});

test('-h is --help, wherever it stands among the options', () => {
  const r = vigie('simulate', '--scene', 'x', '-h');
  assert.equal(r.status, 0, r.stderr);
  assert.ok(r.stdout.startsWith(`usage: ${USAGE.simulate}\n`));
});

test("vigie start --help: every option the command accepts, and every variable of the image and the flows", () => {
  const r = vigie('start', '--help');
  assert.equal(r.status, 0, r.stderr);
  for (const option of ['--flow', '--user-dir', '--host', '--port', '--node-red', '--reset-flow', '--broker-port']) {
    assert.ok(USAGE.start.includes(option), `usage names ${option}`);
    assert.match(r.stdout, new RegExp(`\\n  ${option}\\b`), `${option} described`);
  }
  for (const [name, v] of Object.entries(FLOW_ENV)) assert.ok(r.stdout.includes(`  ${name} `) && r.stdout.includes(v.meaning), `${name} and its meaning`);
  // Every variable of docs/install.md's container table that works for vigie start (all but its first two rows).
  const doc = fs.readFileSync(path.join(repoRoot, 'docs', 'install.md'), 'utf8');
  const table = doc.slice(doc.indexOf('The container ('), doc.indexOf('The flows ('));
  const rows = [...table.matchAll(/^\| (`VIGIE_\w+`(?:, `VIGIE_\w+`)*) \|/gm)].map((m) => [...m[1].matchAll(/VIGIE_\w+/g)].map((n) => n[0]));
  assert.deepEqual(rows.slice(0, 2), [['VIGIE_FLOW'], ['VIGIE_HOST', 'VIGIE_PORT']], 'the image-only rows come first');
  const forStart = rows.slice(2).flat();
  for (const name of ['VIGIE_CREDENTIAL_SECRET', 'VIGIE_LOG_LEVEL', 'VIGIE_QUIET', 'VIGIE_FFMPEG', 'VIGIE_ARECORD', 'VIGIE_DATA_DIR']) assert.ok(forStart.includes(name), name);
  for (const name of forStart) assert.match(r.stdout, new RegExp(`\\n  ${name} `), `${name} in vigie start --help`);
});

test('vigie --help lists every command with its whole usage; no arguments too; an unknown command exits 2', () => {
  for (const args of [['--help'], []]) {
    const r = vigie(...args);
    assert.equal(r.status, 0, r.stderr);
    for (const u of Object.values(USAGE)) assert.ok(r.stdout.includes(`  ${u}\n`), `${u} in:\n${r.stdout}`);
    assert.match(r.stdout, /\nexit status: 0 done, 1 failed, 2 wrong command line/);
  }
  const r = vigie('frobnicate');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^vigie: unknown command "frobnicate"\nusage:\n/);
});

test('the options a command accepts are the ones its usage names (start)', () => {
  // parseStartArgs refuses what USAGE.start does not name, and takes every option it names.
  const o = parseStartArgs(['--user-dir', 'x', '--flow', 'gateway', '--host', '0.0.0.0', '--port', '1', '--node-red', 'nr', '--reset-flow', '--broker-port', '2']);
  assert.deepEqual([o.flow, o.host, o.port, o.nodeRedHome, o.resetFlow, o.brokerPort], ['gateway', '0.0.0.0', 1, 'nr', true, 2]);
  const named = [...USAGE.start.matchAll(/--[a-z-]+/g)].map((m) => m[0]).sort();
  assert.deepEqual(named, ['--broker-port', '--flow', '--host', '--node-red', '--port', '--reset-flow', '--user-dir']);
});

test('a wrong command line exits 2 with the usage line, for every command', () => {
  const wrong: Array<[keyof typeof USAGE, string[]]> = [
    ['start', ['--user-dir', 'x', '--colour']],
    ['start', ['--flow', 'gateway']],
    ['start', ['--user-dir', 'x', '--port', 'http']],
    ['audit verify', ['--json', 'x']],
    ['audit verify', []],
    ['audit show', []],
    ['audit show', ['--json', 'x']],
    ['audit show', ['--since', 'yesterday', 'x']],
    ['audit show', ['--type', 'decison', 'x']],
    ['audit show', ['--format', 'xlsx', 'x']],
    ['audit show', ['--since', '2026-11-28', '--until', '2026-11-27', 'x']],
    ['eval detect', ['--model', 'x.onnx']],
    ['eval detect', ['--manifest', 'm.csv', 'extra']],
    ['eval localize', ['--scene', 'x', '--colour']],
    ['eval localize', []],
    ['virtual-camera', ['--port', 'eighty']],
    ['virtual-camera', ['-port', '80']],
    ['virtual-camera', ['--port', '80.5']],
    ['virtual-camera', ['--pan-speed', '0']],
    ['eval localize', ['--scene', 'street-demo', '--duration', '-5']],
    ['eval localize', ['--scene', 'street-demo', '--duration', '0']],
    ['eval localize', ['--scene', 'street-demo', '--duration', '1', '--clock-error-ms', '-3']],
    ['eval detect', ['--manifest', 'm.csv', '--pad-s', '-1']],
    ['simulate', ['--scene', 'x']],
    ['simulate', ['street', '--out', 'x']],
  ];
  for (const [name, args] of wrong) {
    const r = vigie(...name.split(' '), ...args);
    assert.equal(r.status, 2, `vigie ${name} ${args.join(' ')}: ${r.stderr}`);
    assert.ok(r.stderr.includes(`usage: ${USAGE[name]}`), `vigie ${name} ${args.join(' ')}: usage line in:\n${r.stderr}`);
  }
  // A seed that is not a whole number: refused before anything is written.
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-cli-')), 'out');
  try {
    const seed = vigie('simulate', '--scene', 'street-demo', '--out', out, '--duration', '0.1', '--seed', '1.5');
    assert.equal(seed.status, 2, seed.stderr);
    assert.ok(seed.stderr.startsWith(`vigie: --seed: expected a whole number from 0 to 4294967295, got "1.5"\nusage: ${USAGE.simulate}`), seed.stderr);
    assert.equal(fs.existsSync(out), false);
  } finally {
    fs.rmSync(path.dirname(out), { recursive: true, force: true });
  }
  // A quirk the virtual camera does not have: the ones it has, before any port is opened.
  const quirk = vigie('virtual-camera', '--port', '0', '--quirk', 'rejectStop,nope');
  assert.equal(quirk.status, 2, quirk.stderr);
  assert.ok(quirk.stderr.startsWith(`vigie: --quirk: unknown quirk "nope"; the quirks are ${CAMERA_QUIRKS.join(', ')}\nusage: ${USAGE['virtual-camera']}`), quirk.stderr);
  // A flow name that is not shipped: the names that are, rather than the usage line.
  const r = vigie('start', '--user-dir', 'x', '--flow', 'no-such-flow');
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /^vigie: --flow: no shipped flow "no-such-flow" \(available: control-room, gateway, street-demo\)/);
});

test('vigie start with the flow as a word: refused (exit 2) with the option to use, and the user directory is not created', () => {
  const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-cli-')), 'user');
  try {
    // Any free port: were the word ignored, the default flow would start on it.
    const r = vigie('start', 'gateway', '--user-dir', dir, '--port', '0', '--broker-port', '0');
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /^vigie: unexpected argument "gateway"; did you mean --flow gateway\?\nusage: vigie start /);
    assert.equal(fs.existsSync(dir), false);
  } finally {
    fs.rmSync(path.dirname(dir), { recursive: true, force: true });
  }
});

test('vigie eval detect --hop-ms longer than the model\'s window: a wrong command line (exit 2) naming the option and the window', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-cli-'));
  try {
    // The window (1000 ms for this model) is known only once the model is loaded.
    const manifest = path.join(dir, 'm.csv');
    fs.writeFileSync(manifest, 'path,label\nnot-read.wav,none\n');
    const model = path.join(repoRoot, 'test', 'fixtures', 'models', 'tiny-ok.onnx');
    const r = vigie('eval', 'detect', '--manifest', manifest, '--model', model, '--hop-ms', '1500');
    assert.equal(r.status, 2, r.stderr);
    assert.ok(r.stderr.startsWith(`vigie: --hop-ms: expected at most the window of model tiny-ok, 1000 ms, got "1500"\nusage: ${USAGE['eval detect']}`), r.stderr);
    // The window itself is a hop it takes: the evaluation runs (and fails on the missing clip).
    const atWindow = vigie('eval', 'detect', '--manifest', manifest, '--model', model, '--hop-ms', '1000');
    assert.equal(atWindow.status, 1, atWindow.stderr);
    assert.match(atWindow.stderr, /not-read\.wav/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('vigie virtual-camera: --user without --password, or the reverse, is a wrong command line (exit 2) naming both', () => {
  for (const [given, missing] of [['user', 'password'], ['password', 'user']]) {
    // Any free port, and a short timeout: were it accepted, the camera would start and run on.
    const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'bin', 'vigie.ts'), 'virtual-camera', '--port', '0', `--${given}`, 'x'], { cwd: repoRoot, encoding: 'utf8', timeout: 20_000 });
    assert.equal(r.status, 2, `--${given} alone: ${r.stderr}${r.stdout}`);
    assert.ok(r.stderr.startsWith(`vigie: --user and --password go together: --${given} was given without --${missing}\nusage: ${USAGE['virtual-camera']}`), r.stderr);
    assert.equal(r.stdout, '', 'no camera started');
  }
});
