/**
 * vigie start: argument errors name the option; shipped flows carry no secrets; the user
 * directory is prepared; a flow missing a variable without a default is refused, naming each.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { brokersWithoutCertificateCheck, checkFlowEnv, credentialReferences, FLOW_ENV, flowToRun, parseStartArgs, prepareUserDir, start, unsetEnvReferences, withFlowEnvDefaults, writePlainCredentials } from '../../lib/cli/start';
import { repoRoot } from '../support/nodered';

test('arguments: defaults, and errors that name the option', () => {
  const o = parseStartArgs(['--user-dir', 'x']);
  assert.equal(o.flow, 'street-demo');
  assert.equal(o.host, '127.0.0.1');
  assert.equal(o.port, 1880);
  assert.throws(() => parseStartArgs([]), /--user-dir/);
  assert.throws(() => parseStartArgs(['--user-dir', 'x', '--port', 'http']), /--port: expected a TCP port/);
  assert.throws(() => parseStartArgs(['--user-dir', 'x', '--colour']), /unknown option --colour/);
});

test('every credential in the shipped flows is an environment reference, never a secret', () => {
  for (const f of fs.readdirSync(path.join(repoRoot, 'flows'))) {
    const flow = JSON.parse(fs.readFileSync(path.join(repoRoot, 'flows', f), 'utf8')) as Array<{ id: string; credentials?: Record<string, string> }>;
    for (const n of flow) for (const [k, v] of Object.entries(n.credentials ?? {})) assert.match(v, /^\$\([A-Z0-9_]+\)$/, `${f} ${n.id}.${k}`);
  }
});

test('the plain credentials file is written from references only, and refuses a literal secret', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-start-'));
  try {
    const flow = path.join(dir, 'flow.json');
    fs.writeFileSync(flow, JSON.stringify([{ id: 'cam', type: 'vigie-camera', credentials: { username: '$(CAM_USER)', password: '$(CAM_PASSWORD)' } }, { id: 'x', type: 'inject' }]));
    assert.equal(writePlainCredentials(dir, credentialReferences(flow)), 1);
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(dir, 'flows_cred.json'), 'utf8')), { cam: { username: '$(CAM_USER)', password: '$(CAM_PASSWORD)' } });
    fs.writeFileSync(flow, JSON.stringify([{ id: 'cam', type: 'vigie-camera', credentials: { password: 'hunter2' } }]));
    assert.throws(() => credentialReferences(flow), /node cam credential password is not an environment reference/);
    // A --flow file that is not JSON is named with where it breaks.
    fs.writeFileSync(flow, '[\n  { "id": "x", "type": "inject" },\n]\n');
    assert.throws(() => credentialReferences(flow), /^Error: --flow: .*flow\.json is not JSON: Unexpected token '\]' \(line 3, column 1\)$/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the user directory gets the package, the flow once, and settings that bind loopback by default', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-start-'));
  try {
    const flow = path.join(dir, 'my-flow.json');
    fs.writeFileSync(flow, '[]');
    const opts = { flow, userDir: path.join(dir, 'user'), host: '127.0.0.1', port: 0, resetFlow: false, brokerPort: 0 };
    const flowsJson = path.join(opts.userDir, 'flows.json');
    assert.deepEqual(flowToRun(opts, flow), { file: flow, fresh: true });
    prepareUserDir(opts, flow, true);
    assert.equal(fs.readFileSync(flowsJson, 'utf8'), '[]');
    assert.ok(fs.existsSync(path.join(opts.userDir, 'node_modules', 'node-red-dashboard-2-vigie', 'package.json')));
    fs.writeFileSync(flowsJson, '[{"id":"edited"}]');
    assert.deepEqual(flowToRun(opts, flow), { file: flowsJson, fresh: false }, 'an edited flow is kept');
    prepareUserDir(opts, flow, false);
    assert.match(fs.readFileSync(flowsJson, 'utf8'), /edited/);
    assert.deepEqual(flowToRun({ ...opts, resetFlow: true }, flow), { file: flow, fresh: true }, '--reset-flow installs it again');
    const settings = fs.readFileSync(path.join(opts.userDir, 'settings.js'), 'utf8');
    assert.match(settings, /uiHost: process\.env\.VIGIE_HOST \|\| '127\.0\.0\.1'/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('unset environment references of a flow (properties, credentials, JSONata $env) are named, once each; what the flow or Node-RED defines is not', () => {
  const flow = JSON.stringify([
    { id: 't', type: 'tab', env: [{ name: 'FLOW_LOCAL', value: 'x', type: 'str' }] },
    { id: 's', type: 'vigie-sensor', sensorId: '${VIGIE_SENSOR}', lat: '${VIGIE_SENSOR_LAT}', name: '${NR_NODE_NAME}', other: '${FLOW_LOCAL}' },
    { id: 'b', type: 'mqtt-broker', broker: '${MQTT_HOST}', port: '${MQTT_HOST}', credentials: { user: '$(MQTT_USER)' } },
    { id: 'c', type: 'change', rules: [{ t: 'set', p: 'topic', tot: 'jsonata', to: '"vigie/v1/" & $env("SITE") & "/alert"' }] },
  ]);
  assert.deepEqual(unsetEnvReferences(flow, { VIGIE_SENSOR_LAT: '45.4' }), ['MQTT_HOST', 'MQTT_USER', 'SITE', 'VIGIE_SENSOR']);
  assert.deepEqual(unsetEnvReferences(flow, { VIGIE_SENSOR: 'a', VIGIE_SENSOR_LAT: '1', MQTT_HOST: 'h', MQTT_USER: '', SITE: 's' }), [], 'an empty value is set');
  // The shipped gateway flow, started with no configuration, names what it needs.
  const gateway = fs.readFileSync(path.join(repoRoot, 'flows', 'gateway.json'), 'utf8');
  const missing = unsetEnvReferences(gateway, {});
  for (const n of ['VIGIE_SENSOR', 'VIGIE_MQTT_HOST']) assert.ok(missing.includes(n), `${n} in ${missing.join(', ')}`);
});

test('the shipped flows read well in the editor: no two groups of a tab overlap, every node of a group inside it', () => {
  type Node = { id: string; type: string; z?: string; g?: string; x?: number; y?: number; w?: number; h?: number; name?: string };
  for (const f of fs.readdirSync(path.join(repoRoot, 'flows'))) {
    const flow = JSON.parse(fs.readFileSync(path.join(repoRoot, 'flows', f), 'utf8')) as Node[];
    const groups = flow.filter((n) => n.type === 'group') as Array<Required<Pick<Node, 'x' | 'y' | 'w' | 'h'>> & Node>;
    for (let i = 0; i < groups.length; i++) {
      for (const b of groups.slice(i + 1)) {
        const a = groups[i];
        if (a.z !== b.z) continue;
        const overlapX = Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x);
        const overlapY = Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y);
        assert.ok(overlapX <= 0 || overlapY <= 0, `${f}: groups "${a.name}" and "${b.name}" overlap`);
      }
    }
    for (const n of flow.filter((m) => m.g && typeof m.x === 'number')) {
      const g = groups.find((x) => x.id === n.g);
      assert.ok(g && n.x! > g.x && n.x! < g.x + g.w && n.y! > g.y && n.y! < g.y + g.h, `${f}: ${n.id} lies outside its group`);
    }
  }
});

const shippedFlow = (name: string) => fs.readFileSync(path.join(repoRoot, 'flows', `${name}.json`), 'utf8');

test('flow variables with a sensible default get it; a value that is set, even empty, is kept', () => {
  const env = withFlowEnvDefaults({ VIGIE_SITE: 'saint-etienne', VIGIE_MQTT_USER: '' });
  assert.equal(env.VIGIE_MQTT_PORT, '1883');
  assert.equal(env.VIGIE_CAMERA_PORT, '80');
  assert.equal(env.VIGIE_ALSA_DEVICE, 'default');
  assert.equal(env.VIGIE_MQTT_PASSWORD, '');
  assert.equal(env.VIGIE_SITE, 'saint-etienne');
  assert.equal(env.VIGIE_MQTT_USER, '');
  assert.equal(env.VIGIE_SENSOR_LAT, undefined, 'a position has no default');
});

test('a shipped flow started without its required variables is refused, with one message naming each and what it is', () => {
  const required: Record<string, string[]> = {
    gateway: ['VIGIE_MQTT_HOST', 'VIGIE_SENSOR', 'VIGIE_SENSOR_HEADING', 'VIGIE_SENSOR_LAT', 'VIGIE_SENSOR_LON'],
    'control-room': ['VIGIE_CAMERA_HOST', 'VIGIE_CAMERA_LAT', 'VIGIE_CAMERA_LON', 'VIGIE_MQTT_HOST'],
  };
  for (const [flow, names] of Object.entries(required)) {
    const text = shippedFlow(flow);
    assert.deepEqual(unsetEnvReferences(text, withFlowEnvDefaults({})), names, `${flow}: every other variable has a default`);
    let message = '';
    assert.throws(() => checkFlowEnv(text, withFlowEnvDefaults({}), `${flow}.json`), (err: Error) => ((message = err.message), true));
    assert.match(message, new RegExp(`^the flow ${flow}\\.json needs environment variables that are not set:`));
    // Where to read more: something every install has (docs/ is neither in the npm package nor in the image).
    assert.match(message, /vigie start --help describes them all \(with the Docker image: docker run --rm IMAGE --help\)\.$/);
    assert.doesNotMatch(message, /docs\//);
    for (const n of names) assert.ok(message.includes(`  ${n}: ${FLOW_ENV[n].meaning}`), `${flow}: ${n} and its meaning in:\n${message}`);
    assert.doesNotMatch(message, /VIGIE_MQTT_PORT|VIGIE_CAMERA_PORT/, 'a variable with a default is not asked for');
    const complete = Object.fromEntries(names.map((n) => [n, '1']));
    assert.doesNotThrow(() => checkFlowEnv(text, withFlowEnvDefaults(complete), `${flow}.json`));
  }
});

test('every variable the shipped gateway and control-room flows use is described; another flow\'s variable is named with the nodes that use it', () => {
  for (const flow of ['gateway', 'control-room']) {
    for (const n of unsetEnvReferences(shippedFlow(flow), {})) assert.ok(FLOW_ENV[n], `${flow}.json uses ${n}, which FLOW_ENV does not describe`);
  }
  const custom = JSON.stringify([{ id: 'c1', type: 'vigie-camera', name: 'gate', host: '${GATE_CAMERA}' }]);
  assert.throws(() => checkFlowEnv(custom, {}, 'my-flow.json'), /^Error: the flow my-flow\.json needs[^]*\n {2}GATE_CAMERA: used by vigie-camera "gate"\n/);
});

test('a site that cannot be one MQTT topic level is refused, naming VIGIE_SITE', () => {
  const complete = { VIGIE_MQTT_HOST: 'h', VIGIE_SENSOR: 'corner-1', VIGIE_SENSOR_LAT: '1', VIGIE_SENSOR_LON: '1', VIGIE_SENSOR_HEADING: '0' };
  for (const site of ['lyon/7e', 'lyon+', '#', 'Saint Étienne', '']) {
    assert.throws(() => checkFlowEnv(shippedFlow('gateway'), withFlowEnvDefaults({ ...complete, VIGIE_SITE: site }), 'gateway.json'), (err: Error) => err.message === `VIGIE_SITE: expected 1-64 letters, digits, "_", "-" or ".", starting with a letter or a digit (it is a level of the MQTT topics), got ${JSON.stringify(site)}`, site);
  }
  for (const site of ['saint-etienne', 'Lyon_7e', 'district.4']) assert.doesNotThrow(() => checkFlowEnv(shippedFlow('gateway'), withFlowEnvDefaults({ ...complete, VIGIE_SITE: site }), 'gateway.json'));
  // A flow that does not use the site does not care.
  assert.doesNotThrow(() => checkFlowEnv(JSON.stringify([{ id: 'x', type: 'inject' }]), { VIGIE_SITE: 'a/b' }, 'other.json'));
});

test('vigie start refuses such a flow before touching the user directory, so the next start still installs it fresh', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-start-'));
  // Only the VIGIE_ variables are unset, and put back as they were: process.env stays the process's own.
  const unset = Object.entries(process.env).filter(([n]) => n.startsWith('VIGIE_'));
  try {
    for (const [n] of unset) delete process.env[n];
    const opts = { flow: 'gateway', userDir: path.join(dir, 'user'), host: '127.0.0.1', port: 0, resetFlow: false, brokerPort: 0 };
    await assert.rejects(start(opts, () => {}), /needs environment variables that are not set:[^]*VIGIE_SENSOR_LAT/);
    assert.equal(fs.existsSync(path.join(opts.userDir, 'flows.json')), false, 'no flow was installed');
    assert.equal(fs.existsSync(opts.userDir), false, 'nor the directory left behind (with its lock)');
  } finally {
    for (const [n, v] of unset) process.env[n] = v;
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('docs/install.md: its docker run examples start complete flows, and its table gives every flow variable, its flows and its default', () => {
  const doc = fs.readFileSync(path.join(repoRoot, 'docs', 'install.md'), 'utf8');
  const commands = doc.replace(/\\\n\s*/g, ' ').split('\n').filter((l) => /^\s+docker run /.test(l));
  const examples = commands.map((c) => Object.fromEntries([...c.matchAll(/-e (\w+)=(\S*)/g)].map((m) => [m[1], m[2]])));
  assert.deepEqual(examples.map((e) => e.VIGIE_FLOW).sort(), ['control-room', 'gateway']);
  for (const env of examples) assert.doesNotThrow(() => checkFlowEnv(shippedFlow(env.VIGIE_FLOW), withFlowEnvDefaults(env), env.VIGIE_FLOW));

  const rows = new Map([...doc.matchAll(/^\| `(VIGIE_\w+)` \| ([^|]+) \| [^|]+ \| ([^|]+) \|$/gm)].map((m) => [m[1], { flows: m[2].trim(), default: m[3].trim() }]));
  assert.deepEqual([...rows.keys()].sort(), Object.keys(FLOW_ENV).sort(), 'one table row per flow variable');
  for (const [name, v] of Object.entries(FLOW_ENV)) {
    const row = rows.get(name)!;
    const expected = v.default === undefined ? 'required' : v.default === '' ? 'empty' : `\`${v.default}\``;
    assert.ok(row.default.startsWith(expected), `${name}: default column "${row.default}", expected "${expected}"`);
    const users = ['gateway', 'control-room'].filter((f) => unsetEnvReferences(shippedFlow(f), {}).includes(name));
    assert.equal(row.flows, users.join(', '), `${name}: flows column`);
  }
});

test('a broker reached over TLS without a certificate check (a flow of an earlier version) is named; the shipped flows pass', () => {
  const tlsEnv = { VIGIE_MQTT_HOST: 'mqtts://broker.example:8883' };
  for (const f of ['gateway', 'control-room']) assert.deepEqual(brokersWithoutCertificateCheck(shippedFlow(f), tlsEnv), [], f);
  // The gateway flow as an earlier version installed it: no verifyservercert.
  const old = (JSON.parse(shippedFlow('gateway')) as Array<Record<string, unknown>>).map((n) => {
    if (n.type !== 'mqtt-broker') return n;
    const { verifyservercert: _dropped, ...rest } = n;
    return rest;
  });
  const oldText = JSON.stringify(old);
  assert.deepEqual(brokersWithoutCertificateCheck(oldText, tlsEnv), ['mqtt-broker "city broker"']);
  // Plain MQTT, or a TLS configuration node of its own: nothing to say.
  assert.deepEqual(brokersWithoutCertificateCheck(oldText, { VIGIE_MQTT_HOST: 'broker.example' }), []);
  const withTlsNode = old.map((n) => (n.type === 'mqtt-broker' ? { ...n, usetls: true, tls: 'tls-1' } : n));
  assert.deepEqual(brokersWithoutCertificateCheck(JSON.stringify(withTlsNode), tlsEnv), []);
});
