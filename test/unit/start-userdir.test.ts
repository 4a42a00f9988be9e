/**
 * vigie start and the user directory it leaves to the integrator: settings.js is rewritten
 * only while it is exactly as vigie start wrote it; the installed flow is recorded, and another
 * --flow is refused until --reset-flow, which keeps the previous flow as timestamped backups;
 * files holding credentials or their key lose any permission for other users; a flows.json
 * that is not valid JSON is refused, naming where it breaks and --reset-flow.
 */
import { mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { backUpFlow, checkFlowEnv, checkFlowFileIsJson, checkInstalledFlow, FLOW_RECORD, flowToRun, installedFlow, prepareUserDir, resolveFlowFile, settingsJs, settingsOwner, start, StartOptions, tightenSecrets, withoutCredentials, writePlainCredentials, plainCredentialsText } from '../../lib/cli/start';
import { repoRoot } from '../support/nodered';

function withDir(fn: (dir: string) => void | Promise<void>): () => Promise<void> {
  return async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-userdir-'));
    try {
      await fn(dir);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  };
}

const optsFor = (userDir: string, flow: string, resetFlow = false): StartOptions => ({ flow, userDir, host: '127.0.0.1', port: 0, resetFlow, brokerPort: 0 });

/** Installs `flow` as vigie start would before spawning Node-RED; returns its log lines. */
function install(opts: StartOptions): string[] {
  const log: string[] = [];
  const flowFile = resolveFlowFile(opts.flow);
  checkInstalledFlow(opts, flowFile);
  prepareUserDir(opts, flowFile, flowToRun(opts, flowFile).fresh, (l) => log.push(l));
  return log;
}

test('settings.js: written when absent, rewritten while untouched, left alone (with one log line) once edited or replaced', withDir((dir) => {
  const settings = path.join(dir, 'settings.js');
  assert.deepEqual(install(optsFor(dir, 'gateway')).filter((l) => l.startsWith('settings.js')), []);
  const written = fs.readFileSync(settings, 'utf8');
  assert.equal(written, settingsJs());
  assert.equal(settingsOwner(written), 'ours');
  assert.match(written.split('\n')[0], /^\/\/ Node-RED settings written by vigie start \(sha256 [0-9a-f]{64} of the lines below\)/);

  // A later version's generated settings replace an untouched file: here, one whose body differs.
  const otherBody = written.slice(written.indexOf('\n') + 1).replace("level: process.env.VIGIE_LOG_LEVEL || 'info'", "level: 'debug'");
  const otherVersion = `// Node-RED settings written by vigie start (sha256 ${createHash('sha256').update(otherBody).digest('hex')} of the lines below).\n${otherBody}`;
  fs.writeFileSync(settings, otherVersion);
  assert.equal(settingsOwner(otherVersion), 'ours');
  install(optsFor(dir, 'gateway'));
  assert.equal(fs.readFileSync(settings, 'utf8'), settingsJs(), 'an untouched generated file is brought up to date');

  // Edited in place, marker line and all: the integrator's now.
  const edited = settingsJs().replace('module.exports = {', "module.exports = {\n  httpNodeAuth: { user: 'operator', pass: '$2b$08$x' },");
  fs.writeFileSync(settings, edited);
  const log = install(optsFor(dir, 'gateway'));
  assert.equal(fs.readFileSync(settings, 'utf8'), edited, 'the edit is kept');
  assert.deepEqual(log.filter((l) => l.startsWith('settings.js')), ['settings.js: edited since vigie start wrote it, so left as it is']);

  // Replaced by the integrator's own file.
  const own = "module.exports = { uiPort: 1880, adminAuth: { type: 'credentials', users: [] } };\n";
  fs.writeFileSync(settings, own);
  assert.deepEqual(install(optsFor(dir, 'gateway')).filter((l) => l.startsWith('settings.js')), ['settings.js: your own, left as it is']);
  assert.equal(fs.readFileSync(settings, 'utf8'), own);
}));

test('settings.js written by the first version (no hash line) is replaced while untouched, kept once edited', withDir((dir) => {
  const first = fs.readFileSync(path.join(repoRoot, 'test', 'fixtures', 'start', 'settings-written-by-0.1.0.js'), 'utf8');
  assert.equal(settingsOwner(first), 'ours');
  const settings = path.join(dir, 'settings.js');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(settings, first);
  install(optsFor(dir, 'gateway'));
  assert.equal(fs.readFileSync(settings, 'utf8'), settingsJs());

  const edited = first.replace("tours: false", "tours: false, page: { title: 'Vigie' }");
  assert.equal(settingsOwner(edited), 'user');
  fs.writeFileSync(settings, edited);
  install(optsFor(dir, 'gateway'));
  assert.equal(fs.readFileSync(settings, 'utf8'), edited);
}));

test('the installed flow is recorded; another --flow is refused with the way to switch; --reset-flow keeps timestamped backups and switches', withDir(async (dir) => {
  install(optsFor(dir, 'gateway'));
  assert.deepEqual(installedFlow(dir)?.flow, 'gateway');
  const gatewayFlows = fs.readFileSync(path.join(dir, 'flows.json'), 'utf8');
  const gatewayCreds = fs.readFileSync(path.join(dir, 'flows_cred.json'), 'utf8');

  assert.doesNotThrow(() => install(optsFor(dir, 'gateway')), 'the same flow starts again');
  let message = '';
  assert.throws(() => install(optsFor(dir, 'control-room')), (err: Error) => ((message = err.message), true));
  assert.match(message, /^--flow: the user directory .* holds the flow gateway \(installed \d{4}-\d\d-\d\dT[^)]*\), not control-room; vigie start will not replace it on its own\./);
  assert.match(message, /start once with --reset-flow/);
  assert.match(message, /flows\.json\.<time>\.bak/);
  assert.equal(fs.readFileSync(path.join(dir, 'flows.json'), 'utf8'), gatewayFlows, 'nothing changed');

  // start() refuses it before anything runs or is written (no variable of either flow is set here).
  await assert.rejects(start({ ...optsFor(dir, 'control-room'), nodeRedHome: repoRoot }, () => {}), /holds the flow gateway/);
  assert.equal(fs.readFileSync(path.join(dir, 'flows.json'), 'utf8'), gatewayFlows);

  const log = install(optsFor(dir, 'control-room', true));
  assert.equal(installedFlow(dir)?.flow, 'control-room');
  assert.equal(fs.readFileSync(path.join(dir, 'flows.json'), 'utf8'), withoutCredentials(fs.readFileSync(resolveFlowFile('control-room'), 'utf8')));
  const backups = fs.readdirSync(dir).filter((f) => f.endsWith('.bak')).sort();
  assert.equal(backups.length, 2, backups.join(', '));
  assert.match(backups[0], /^flows\.json\.\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ\.bak$/);
  assert.match(backups[1], /^flows_cred\.json\.\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ\.bak$/);
  assert.equal(fs.readFileSync(path.join(dir, backups[0]), 'utf8'), gatewayFlows);
  assert.equal(fs.readFileSync(path.join(dir, backups[1]), 'utf8'), gatewayCreds);
  assert.ok(log.some((l) => l.includes(backups[0]) && l.includes(backups[1])), log.join('\n'));
  assert.doesNotThrow(() => install(optsFor(dir, 'control-room')));
}));

test('a directory installed before the record existed: the shipped flow it holds is recognised by its node ids; an unknown flow is not refused', withDir((dir) => {
  const gw = path.join(dir, 'gw');
  install(optsFor(gw, 'gateway'));
  fs.rmSync(path.join(gw, FLOW_RECORD));
  // Edited a little in the editor: one node more.
  const flows = JSON.parse(fs.readFileSync(path.join(gw, 'flows.json'), 'utf8')) as unknown[];
  fs.writeFileSync(path.join(gw, 'flows.json'), JSON.stringify([...flows, { id: 'added', type: 'debug' }]));
  assert.equal(installedFlow(gw)?.flow, 'gateway');
  assert.throws(() => install(optsFor(gw, 'control-room')), /holds the flow gateway, not control-room/);
  install(optsFor(gw, 'gateway'));
  assert.equal(JSON.parse(fs.readFileSync(path.join(gw, FLOW_RECORD), 'utf8')).flow, 'gateway', 'recorded from now on');

  const own = path.join(dir, 'own');
  fs.mkdirSync(own);
  fs.writeFileSync(path.join(own, 'flows.json'), JSON.stringify([{ id: 'mine', type: 'tab' }]));
  assert.equal(installedFlow(own), undefined);
  assert.doesNotThrow(() => checkInstalledFlow(optsFor(own, 'control-room'), resolveFlowFile('control-room')));
}));

test('--reset-flow on a directory with no flow yet keeps no backup', withDir((dir) => {
  fs.mkdirSync(dir, { recursive: true });
  assert.deepEqual(backUpFlow(dir), []);
}));

test('a flow with a literal secret in its credentials is refused before the directory is touched, naming the node and what to do', withDir((dir) => {
  const flowFile = path.join(dir, 'flow.json');
  fs.writeFileSync(flowFile, JSON.stringify([{ id: 'cam1', type: 'vigie-camera', credentials: { user: '$(CAM_USER)', password: 'hunter2' } }]));
  const userDir = path.join(dir, 'user');
  assert.throws(() => install(optsFor(userDir, flowFile)), /node cam1 credential password is not an environment reference \$\(NAME\)\. .*environment variable/);
  assert.equal(fs.existsSync(path.join(userDir, 'flows.json')), false);
  assert.equal(fs.existsSync(path.join(userDir, 'flows_cred.json')), false);

  // Nor does --reset-flow move the installed flow aside for it.
  const installed = path.join(dir, 'installed');
  install(optsFor(installed, 'gateway'));
  const before = fs.readdirSync(installed).sort();
  assert.throws(() => install(optsFor(installed, flowFile, true)), /node cam1 credential password/);
  assert.deepEqual(fs.readdirSync(installed).sort(), before);
  assert.equal(fs.readFileSync(path.join(installed, 'flows.json'), 'utf8'), withoutCredentials(fs.readFileSync(resolveFlowFile('gateway'), 'utf8')));
}));

test('credentials and their key: the credentials file vigie start writes is 0640, and earlier files readable by others are tightened', withDir((dir) => {
  install(optsFor(dir, 'gateway'));
  assert.equal(fs.statSync(path.join(dir, 'flows_cred.json')).mode & 0o777, 0o640);
  const key = path.join(dir, '.config.runtime.json');
  fs.writeFileSync(key, '{"_credentialSecret":"x"}', { mode: 0o666 });
  fs.chmodSync(key, 0o666);
  fs.chmodSync(path.join(dir, 'flows_cred.json'), 0o644);
  tightenSecrets(dir);
  assert.equal(fs.statSync(key).mode & 0o777, 0o640);
  assert.equal(fs.statSync(path.join(dir, 'flows_cred.json')).mode & 0o777, 0o640);
  fs.chmodSync(key, 0o600);
  tightenSecrets(dir);
  assert.equal(fs.statSync(key).mode & 0o777, 0o600, 'a stricter mode is kept');
}));

test('a hand-edited flows.json that is not valid JSON is refused before anything starts, naming the file, where it breaks and --reset-flow', withDir(async (dir) => {
  install(optsFor(dir, 'gateway'));
  const flowsJson = path.join(dir, 'flows.json');
  // A trailing comma, as a hand edit leaves one, on line 3.
  const broken = '[\n  { "id": "tab1", "type": "tab" },\n  { "id": "n1", "type": "inject", },\n]\n';
  fs.writeFileSync(flowsJson, broken);
  const before = fs.readdirSync(dir).sort();
  let message = '';
  // start() refuses it (no variable of the gateway flow is set here: this check comes first).
  await assert.rejects(
    start({ ...optsFor(dir, 'gateway'), nodeRedHome: repoRoot, startTimeoutMs: 30_000 }, () => {}).then(async (s) => {
      await s.stop(); // started after all: stop it, and fail
      throw new Error('started');
    }),
    (err: Error) => ((message = err.message), true),
  );
  assert.ok(message.startsWith(`the flow file ${flowsJson} is not valid JSON: `), message);
  assert.match(message, /\(line 3, column \d+\)|line 3 column \d+/, 'where it breaks');
  assert.match(message, /Node-RED would start it as an empty flow/);
  assert.match(message, /start once with --reset-flow [^]*flows\.json\.<time>\.bak and installs gateway again/);
  assert.equal(fs.readFileSync(flowsJson, 'utf8'), broken, 'left as it is');
  assert.deepEqual(fs.readdirSync(dir).sort(), before, 'nothing written');

  // --reset-flow keeps it aside and installs the flow again.
  install(optsFor(dir, 'gateway', true));
  const kept = fs.readdirSync(dir).find((f) => /^flows\.json\..*\.bak$/.test(f))!;
  assert.equal(fs.readFileSync(path.join(dir, kept), 'utf8'), broken);
  assert.doesNotThrow(() => checkFlowFileIsJson(flowsJson, 'gateway'));

  // Valid JSON with a byte order mark, and an empty file (Node-RED restores its backup), pass.
  fs.writeFileSync(flowsJson, '\ufeff[]');
  assert.doesNotThrow(() => checkFlowFileIsJson(flowsJson, 'gateway'));
  fs.writeFileSync(flowsJson, '');
  assert.doesNotThrow(() => checkFlowFileIsJson(flowsJson, 'gateway'));
  fs.writeFileSync(flowsJson, '  \n');
  assert.throws(() => checkFlowFileIsJson(flowsJson, 'gateway'), /is not valid JSON: Unexpected end of JSON input/);
  // A trailing comma before "]" or a stray word, for which JSON.parse names no position: found by reading the text.
  fs.writeFileSync(flowsJson, '[\n  { "id": "tab1", "type": "tab" },\n  { "id": "n1", "type": "inject" },\n]\n');
  assert.throws(() => checkFlowFileIsJson(flowsJson, 'gateway'), /is not valid JSON: Unexpected token '\]' \(line 4, column 1\)\. Node-RED would/);
  fs.writeFileSync(flowsJson, '[\n  { "id": "tab1", "type": "tab" },\n  x\n]\n');
  assert.throws(() => checkFlowFileIsJson(flowsJson, 'gateway'), /\(line 3, column 3\)\. Node-RED would/);
}));

test('flows.json gets the flow without its inline credentials, which go to flows_cred.json; the variables they name are still checked at a later start', withDir((dir) => {
  const flow = [
    { id: 't', type: 'tab', label: 'x' },
    { id: 'b', type: 'mqtt-broker', broker: 'h', credentials: { user: '$(MY_MQTT_USER)' } },
    { id: 'c', type: 'comment', z: 't', name: 'kept' },
  ];
  const text = JSON.stringify(flow);
  assert.deepEqual(JSON.parse(withoutCredentials(text)), [flow[0], { id: 'b', type: 'mqtt-broker', broker: 'h' }, flow[2]]);
  assert.equal(withoutCredentials('[{"id":"c","type":"comment"}]'), '[{"id":"c","type":"comment"}]', 'a flow without credentials is written as it is');
  assert.equal(withoutCredentials('not json'), 'not json', 'Node-RED says why it cannot read it');
  // A later start reads flows.json, whose references are gone: it asks flows_cred.json as written.
  writePlainCredentials(dir, { b: { user: '$(MY_MQTT_USER)' } });
  const creds = plainCredentialsText(dir);
  assert.throws(() => checkFlowEnv(withoutCredentials(text), {}, 'flows.json', creds), /needs environment variables that are not set:\n {2}MY_MQTT_USER: used by mqtt-broker "b"\n/);
  assert.doesNotThrow(() => checkFlowEnv(withoutCredentials(text), { MY_MQTT_USER: 'u' }, 'flows.json', creds));
  // Once Node-RED has encrypted the file there is nothing to read there.
  fs.writeFileSync(path.join(dir, 'flows_cred.json'), JSON.stringify({ $: 'abc123' }));
  assert.equal(plainCredentialsText(dir), '');
}));

/**
 * A gateway's card nearly full during `run`: a write of more than `freeBytes` stops short there
 * and throws ENOSPC, as the kernel leaves a file written when the disk fills up; smaller ones pass.
 */
function onFullDisk<T>(freeBytes: number, run: () => T): T {
  const realWrite = fs.writeFileSync;
  const write = mock.method(require('node:fs') as typeof fs, 'writeFileSync', (f: fs.PathOrFileDescriptor, data: string | NodeJS.ArrayBufferView, opts?: fs.WriteFileOptions) => {
    const text = String(data);
    if (Buffer.byteLength(text) <= freeBytes) return realWrite(f, data, opts);
    const part = text.slice(0, freeBytes);
    if (typeof f === 'number') fs.writeSync(f, part);
    else realWrite(f, part, opts);
    throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
  });
  try {
    return run();
  } finally {
    write.mock.restore();
  }
}

test('a full disk during a start never leaves package.json or flows.json cut: a start with nothing to change writes nothing, a first install that fails installs again once there is room', withDir((dir) => {
  const installed = path.join(dir, 'installed');
  install(optsFor(installed, 'gateway'));
  const files = ['package.json', 'flows.json', FLOW_RECORD, 'settings.js'];
  const before = files.map((f) => fs.readFileSync(path.join(installed, f), 'utf8'));
  // Restarted (the container's restart policy) while the card is full: nothing to write, so it starts.
  onFullDisk(0, () => install(optsFor(installed, 'gateway')));
  assert.deepEqual(files.map((f) => fs.readFileSync(path.join(installed, f), 'utf8')), before);

  // A first start with room for the small files, not for the flow: it fails, and no flows.json is
  // left cut (the next start would refuse it), none at all.
  const fresh = path.join(dir, 'fresh');
  assert.ok(before[1].length > 1000 && before[0].length < 1000);
  assert.throws(() => onFullDisk(1000, () => install(optsFor(fresh, 'gateway'))), /ENOSPC/);
  assert.equal(fs.existsSync(path.join(fresh, 'flows.json')), false, 'flows.json not left cut');
  assert.deepEqual(fs.readdirSync(fresh).filter((f) => f.endsWith('.tmp')), [], 'no temporary file left');
  // Nothing fits: package.json of a new directory is not left cut either.
  const other = path.join(dir, 'other');
  assert.throws(() => onFullDisk(0, () => install(optsFor(other, 'gateway'))), /ENOSPC/);
  assert.equal(fs.existsSync(path.join(other, 'package.json')), false, 'package.json not left cut');
  // Room again: the next start installs the flow whole.
  for (const d of [fresh, other]) {
    install(optsFor(d, 'gateway'));
    assert.deepEqual(files.map((f) => fs.readFileSync(path.join(d, f), 'utf8').length), before.map((t) => t.length), d);
  }
}));
