/**
 * vigie start on a user directory made by an earlier version: its link to Vigie is pointed at
 * the running copy (a link to an older checkout, or a dangling one, is replaced and said so; a
 * Vigie installed there by the palette manager or npm wins, with a warning), and the fixes of the
 * shipped flows that an upgrade in place does not bring are each named at start, the flow left as it is.
 *
 * Fixtures: test/fixtures/start/first-shipped-*.json are flows/gateway.json and
 * flows/control-room.json as first shipped (commit 7efe734).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { oldFlowShapes, OldFlowShape } from '../../lib/cli/old-flow-shapes';
import { linkThisPackage, PACKAGE_ROOT, prepareUserDir, resolveFlowFile, start, StartOptions } from '../../lib/cli/start';
import { repoRoot } from '../support/nodered';

const NAME = 'node-red-dashboard-2-vigie';
const fixture = (name: string) => fs.readFileSync(path.join(repoRoot, 'test', 'fixtures', 'start', name), 'utf8');
const shipped = (flow: string) => fs.readFileSync(path.join(repoRoot, 'flows', `${flow}.json`), 'utf8');
const shapes = (text: string): OldFlowShape[] => oldFlowShapes(text).map((s) => s.shape);
type N = Record<string, unknown> & { id: string; type: string; wires?: string[][] };
const nodesOf = (text: string) => JSON.parse(text) as N[];

function withDir(fn: (dir: string) => void | Promise<void>): () => Promise<void> {
  return async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-upgrade-'));
    try {
      await fn(dir);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  };
}

/** A user directory as an older checkout's vigie start left it: a link to that checkout, and its path in package.json. */
function madeByOlderCheckout(dir: string): { userDir: string; oldRoot: string; link: string } {
  const oldRoot = path.join(dir, 'old-checkout');
  fs.mkdirSync(oldRoot);
  fs.writeFileSync(path.join(oldRoot, 'package.json'), JSON.stringify({ name: NAME, version: '0.0.9' }));
  const userDir = path.join(dir, 'user');
  const link = path.join(userDir, 'node_modules', NAME);
  fs.mkdirSync(path.dirname(link), { recursive: true });
  fs.symlinkSync(oldRoot, link, 'dir');
  fs.writeFileSync(path.join(userDir, 'package.json'), JSON.stringify({ name: 'node-red-project', private: true, dependencies: { [NAME]: `file:${oldRoot}` } }));
  return { userDir, oldRoot, link };
}

const dependency = (userDir: string) => JSON.parse(fs.readFileSync(path.join(userDir, 'package.json'), 'utf8')).dependencies[NAME];
const thisVersion = JSON.parse(fs.readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')).version as string;

test('a link to an older checkout is pointed at this one, package.json too, in one line naming both', withDir((dir) => {
  const { userDir, oldRoot, link } = madeByOlderCheckout(dir);
  const log: string[] = [];
  assert.equal(linkThisPackage(userDir, (l) => log.push(l)), 'linked');
  assert.equal(fs.realpathSync(link), fs.realpathSync(PACKAGE_ROOT));
  assert.equal(log.length, 1, log.join('\n'));
  assert.ok(log[0].includes(`Vigie 0.0.9 at ${oldRoot}`), log[0]);
  assert.ok(log[0].includes(`this Vigie ${thisVersion} at ${PACKAGE_ROOT}`), log[0]);

  // Through prepareUserDir, as vigie start does: the dependency follows.
  fs.rmSync(link);
  fs.symlinkSync(oldRoot, link, 'dir');
  const opts: StartOptions = { flow: 'gateway', userDir, host: '127.0.0.1', port: 0, resetFlow: false, brokerPort: 0 };
  const lines: string[] = [];
  prepareUserDir(opts, resolveFlowFile('gateway'), true, (l) => lines.push(l));
  assert.equal(fs.realpathSync(link), fs.realpathSync(PACKAGE_ROOT));
  assert.equal(dependency(userDir), `file:${PACKAGE_ROOT}`);
  assert.equal(lines.filter((l) => l.includes('now links this Vigie')).length, 1);

  // Once right, nothing more is said, and nothing changes.
  const again: string[] = [];
  prepareUserDir(opts, resolveFlowFile('gateway'), false, (l) => again.push(l));
  assert.deepEqual(again.filter((l) => /links|Vigie/.test(l)), []);
  assert.equal(fs.readlinkSync(link), PACKAGE_ROOT);
}));

test('a dangling link (its checkout deleted, an npx cache moved) is replaced, not an EEXIST', withDir((dir) => {
  const { userDir, oldRoot, link } = madeByOlderCheckout(dir);
  fs.rmSync(oldRoot, { recursive: true });
  const log: string[] = [];
  const opts: StartOptions = { flow: 'gateway', userDir, host: '127.0.0.1', port: 0, resetFlow: false, brokerPort: 0 };
  prepareUserDir(opts, resolveFlowFile('gateway'), true, (l) => log.push(l));
  assert.equal(fs.realpathSync(link), fs.realpathSync(PACKAGE_ROOT));
  assert.equal(dependency(userDir), `file:${PACKAGE_ROOT}`);
  const said = log.filter((l) => l.includes('now links this Vigie'));
  assert.equal(said.length, 1, log.join('\n'));
  assert.ok(said[0].includes(`${oldRoot}, which no longer exists`), said[0]);
  assert.deepEqual(fs.readdirSync(path.dirname(link)), [NAME], 'no temporary link left beside it');
}));

test('a Vigie installed into the user directory by the palette manager or npm is left in place, with a warning naming both', withDir((dir) => {
  const userDir = path.join(dir, 'user');
  const installed = path.join(userDir, 'node_modules', NAME);
  fs.mkdirSync(installed, { recursive: true });
  fs.writeFileSync(path.join(installed, 'package.json'), JSON.stringify({ name: NAME, version: '0.0.8' }));
  fs.writeFileSync(path.join(userDir, 'package.json'), JSON.stringify({ name: 'node-red-project', dependencies: { [NAME]: '~0.0.8' } }));
  const log: string[] = [];
  const opts: StartOptions = { flow: 'gateway', userDir, host: '127.0.0.1', port: 0, resetFlow: false, brokerPort: 0 };
  prepareUserDir(opts, resolveFlowFile('gateway'), true, (l) => log.push(l));
  assert.ok(fs.lstatSync(installed).isDirectory() && !fs.lstatSync(installed).isSymbolicLink(), 'left in place');
  assert.equal(dependency(userDir), '~0.0.8', 'package.json keeps what the palette manager wrote');
  const warned = log.filter((l) => l.startsWith('WARNING:'));
  assert.equal(warned.length, 1, log.join('\n'));
  assert.ok(warned[0].includes(`${installed} (Vigie 0.0.8)`), warned[0]);
  assert.ok(warned[0].includes(`Node-RED loads it, not this Vigie ${thisVersion} at ${PACKAGE_ROOT}`), warned[0]);
  assert.match(warned[0], /palette manager: Remove, or npm uninstall node-red-dashboard-2-vigie/);
}));

test('the fixes of the shipped flows: the first shipped gateway and control room show each of their old shapes; today\'s flows none', () => {
  assert.deepEqual(shapes(fixture('first-shipped-gateway.json')), ['health-log', 'no-outbox']);
  assert.deepEqual(shapes(fixture('first-shipped-control-room.json')), ['every-site', 'move-requests-published', 'clean-session', 'no-outbox']);
  for (const flow of ['gateway', 'control-room', 'street-demo']) assert.deepEqual(shapes(shipped(flow)), [], flow);
  // Each message names the nodes, the fix and both remedies.
  for (const s of oldFlowShapes(fixture('first-shipped-control-room.json'))) {
    assert.match(s.message, /^WARNING: /);
    assert.match(s.message, /import the shipped flow again \(Import → Examples\)[^]*--reset-flow, which keeps your flows\.json as flows\.json\.<time>\.bak/);
  }
  const [session] = oldFlowShapes(fixture('first-shipped-control-room.json')).filter((s) => s.shape === 'clean-session');
  assert.match(session.message, /^WARNING: mqtt-broker "city broker", which brings the gateways' detections, starts a clean session/);
});

/** Today's shipped flow with one fix undone: `undo` edits the nodes in place. */
function undone(flow: string, undo: (nodes: N[], byId: (id: string) => N) => void): string {
  const nodes = nodesOf(shipped(flow));
  undo(nodes, (id) => nodes.find((n) => n.id === id)!);
  return JSON.stringify(nodes);
}

test('each old shape alone, built from today\'s flow with its one fix undone, gives its one warning', () => {
  // e722ccd: the capture's health output straight to the console debug.
  assert.deepEqual(shapes(undone('gateway', (_, n) => (n('gw-capture').wires = [['gw-classify'], ['gw-health']]))), ['health-log']);
  // …which says nothing when that debug does not write to the log.
  assert.deepEqual(shapes(undone('gateway', (_, n) => {
    n('gw-capture').wires = [['gw-classify'], ['gw-health']];
    n('gw-health').console = false;
  })), []);
  // bbb9f95: detections straight to the fusion.
  assert.deepEqual(shapes(undone('control-room', (_, n) => (n('cr-in').wires = [['cr-fuse']]))), ['every-site']);
  // …which a subscription naming its site does not need.
  assert.deepEqual(shapes(undone('control-room', (_, n) => {
    n('cr-in').wires = [['cr-fuse']];
    n('cr-in').topic = 'vigie/v1/north/+/detection';
  })), []);
  // 85214c7: the console's output straight to the decision topic (through the outbox).
  assert.deepEqual(shapes(undone('control-room', (_, n) => (n('cr-console').wires = [['cr-steer', 'cr-decision-topic']]))), ['move-requests-published']);
  // 32892db: a clean session; or no fixed client id.
  assert.deepEqual(shapes(undone('control-room', (_, n) => (n('cr-broker').cleansession = true))), ['clean-session']);
  assert.deepEqual(shapes(undone('control-room', (_, n) => (n('cr-broker').clientid = ''))), ['clean-session']);
  // 29664de: the topic nodes straight to the mqtt out.
  assert.deepEqual(shapes(undone('gateway', (_, n) => (n('gw-topic').wires = [['gw-mqtt']]))), ['no-outbox']);
  assert.deepEqual(shapes(undone('control-room', (_, n) => (n('cr-alert-topic').wires = [['cr-out']]))), ['no-outbox']);
  // Not JSON, or not a flow: nothing to say (checkFlowFileIsJson speaks for those).
  assert.deepEqual(shapes('{"a":1}'), []);
  assert.deepEqual(shapes('not json'), []);
});

test('vigie start on a directory of an older checkout: the dangling link is replaced, each old shape of its flow is named, the flow runs unchanged', withDir(async (dir) => {
  const { userDir, oldRoot } = madeByOlderCheckout(dir);
  fs.rmSync(oldRoot, { recursive: true });
  const flowText = fixture('first-shipped-gateway.json');
  fs.writeFileSync(path.join(userDir, 'flows.json'), flowText);
  fs.writeFileSync(path.join(userDir, '.vigie-flow.json'), JSON.stringify({ flow: 'gateway' }));
  const vars: Record<string, string> = {
    VIGIE_SENSOR: 'gw-test', VIGIE_SENSOR_LAT: '48.85', VIGIE_SENSOR_LON: '2.35', VIGIE_SENSOR_HEADING: '0',
    VIGIE_MQTT_HOST: '127.0.0.1', VIGIE_MQTT_PORT: '1', VIGIE_ARECORD: '/bin/false', VIGIE_QUIET: '1',
  };
  const saved = Object.keys(vars).map((n) => [n, process.env[n]] as const);
  Object.assign(process.env, vars);
  const log: string[] = [];
  try {
    const s = await start({ flow: 'gateway', userDir, host: '127.0.0.1', port: 0, resetFlow: false, brokerPort: 0, nodeRedHome: repoRoot, startTimeoutMs: 60_000 }, (l) => log.push(l));
    await s.stop();
  } finally {
    for (const [n, v] of saved) if (v === undefined) delete process.env[n];
    else process.env[n] = v;
  }
  assert.equal(log.filter((l) => l.includes(`${oldRoot}, which no longer exists; it now links this Vigie`)).length, 1, log.join('\n'));
  const warned = log.filter((l) => l.startsWith('WARNING:'));
  assert.equal(warned.length, 2, warned.join('\n'));
  assert.match(warned[0], /^WARNING: debug "capture health" \(from mic-capture "USB mic array"\) writes to the log every message/);
  assert.match(warned[1], /^WARNING: mqtt out "detections" is fed without a vigie-outbox/);
  assert.equal(fs.readFileSync(path.join(userDir, 'flows.json'), 'utf8'), flowText, 'the flow is left as it is');
}));
