/**
 * `vigie <command> --help` (and -h) prints the command's usage on standard output and exits 0,
 * for every command; `vigie --help` lists every command with all its options; an unknown
 * command exits 2. `vigie start --help` also describes the environment variables.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'path';
import { FLOW_ENV, parseStartArgs } from '../../lib/cli/start';
import { USAGE } from '../../lib/cli/usage';
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
  for (const name of ['VIGIE_CREDENTIAL_SECRET', 'VIGIE_LOG_LEVEL', 'VIGIE_QUIET']) assert.match(r.stdout, new RegExp(`\\n  ${name} `));
});

test('vigie --help lists every command with its whole usage; no arguments too; an unknown command exits 2', () => {
  for (const args of [['--help'], []]) {
    const r = vigie(...args);
    assert.equal(r.status, 0, r.stderr);
    for (const u of Object.values(USAGE)) assert.ok(r.stdout.includes(`  ${u}\n`), `${u} in:\n${r.stdout}`);
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
