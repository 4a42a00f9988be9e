/**
 * MQTT over TLS with the shipped flows' broker node, through a real Mosquitto with a TLS
 * listener and a certificate from a private certificate authority (made with openssl for the
 * test): what docs/mqtt.md tells integrators to do.
 *
 * - `VIGIE_MQTT_HOST=mqtts://…` and the authority trusted through Node's `NODE_EXTRA_CA_CERTS`:
 *   the gateway's detections reach the broker, and the account's password never crosses the
 *   network in clear (the test relays the connection and reads every byte of it).
 * - The same, trusting another authority instead: Node-RED must refuse the broker's certificate and
 *   never log in. Node-RED's broker node would accept any certificate for a URL given this way
 *   unless the node verifies server certificates, which the shipped flows set.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import mqtt from 'mqtt';
import { createMosquitto, Mosquitto } from '../support/mosquitto';
import { makeUserDir, repoRoot, RunningNodeRed, startNodeRed } from '../support/nodered';
import { startTcpRelay, TcpRelay } from '../support/tcp-relay';
import { tempDir } from '../support/tmp';
import { waitFor } from '../support/wait';

type FlowNode = { id: string; type: string; z?: string; wires?: string[][]; [k: string]: unknown };

const TOPIC = 'vigie/v1/tls-test/corner-a/detection';

/** A private certificate authority and a server certificate it signed for 127.0.0.1 (PEM files). */
function makeCertificates(dir: string): { caFile: string; certFile: string; keyFile: string } {
  const f = (name: string) => path.join(dir, name);
  const ossl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  ossl('req', '-x509', ...ec, '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '2', '-subj', '/CN=Vigie test authority');
  ossl('req', ...ec, '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=127.0.0.1');
  fs.writeFileSync(f('server.ext'), 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n');
  ossl('x509', '-req', '-in', f('server.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('server.pem'), '-days', '2', '-extfile', f('server.ext'));
  return { caFile: f('ca.pem'), certFile: f('server.pem'), keyFile: f('server.key') };
}

/** The gateway's broker node, outbox and `mqtt out`, as shipped, fed by an HTTP endpoint; with the broker's credential references. */
function gatewayPublisher(): { flow: FlowNode[]; credentials: Record<string, unknown> } {
  const shipped: FlowNode[] = JSON.parse(fs.readFileSync(path.join(repoRoot, 'flows', 'gateway.json'), 'utf8'));
  const out = shipped.find((n) => n.type === 'mqtt out');
  assert.ok(out, "the gateway flow has an mqtt out");
  const outbox = shipped.find((n) => n.type === 'vigie-outbox' && n.wires?.[0]?.includes(out.id));
  assert.ok(outbox, "the gateway's mqtt out is fed by an outbox");
  const broker = shipped.find((n) => n.id === out.broker);
  assert.ok(broker && broker.type === 'mqtt-broker', "the gateway's mqtt out has its broker");
  assert.equal(broker.broker, '${VIGIE_MQTT_HOST}', 'the broker comes from VIGIE_MQTT_HOST');
  const credentials = { [broker.id]: broker.credentials };
  delete broker.credentials;
  const flow: FlowNode[] = [
    { id: 'tab-tls', type: 'tab', label: 'MQTT over TLS' },
    { id: 'tls-post', type: 'http in', z: 'tab-tls', url: '/test/publish', method: 'post', upload: false, wires: [['tls-topic', 'tls-ok']] },
    { id: 'tls-topic', type: 'change', z: 'tab-tls', rules: [{ t: 'set', p: 'topic', pt: 'msg', to: TOPIC, tot: 'str' }], wires: [[outbox.id]] },
    { ...outbox, z: 'tab-tls', g: undefined, persist: false },
    { id: 'tls-ok', type: 'http response', z: 'tab-tls', statusCode: '204', wires: [] },
    { ...out, z: 'tab-tls', g: undefined, wires: [] },
    broker,
  ];
  return { flow, credentials };
}

let certs: { caFile: string; certFile: string; keyFile: string };
/** An authority that did not sign the broker's certificate. */
let otherAuthority: string;
let broker: Mosquitto | undefined;
let observer: mqtt.MqttClient | undefined;
const received: string[] = [];
const reds: RunningNodeRed[] = [];
/** The relays between Node-RED and the broker, which keep every byte Node-RED sent. */
const taps: TcpRelay[] = [];

/** Node-RED with the gateway's publisher, its broker reached through `tap` as mqtts://; `env` added. */
async function startGateway(tapPort: number, env: Record<string, string>): Promise<RunningNodeRed> {
  const { flow, credentials } = gatewayPublisher();
  const userDir = makeUserDir('vigie-mqtt-tls-');
  fs.writeFileSync(path.join(userDir, 'flows_cred.json'), JSON.stringify(credentials));
  const red = await startNodeRed({
    userDir,
    flows: flow,
    settings: { nodesDir: path.join(repoRoot, 'dist', 'nodes'), credentialSecret: false, telemetry: { enabled: false } },
    env: {
      VIGIE_MQTT_HOST: `mqtts://127.0.0.1:${tapPort}`,
      VIGIE_MQTT_PORT: '1883',
      VIGIE_MQTT_USER: broker!.user,
      VIGIE_MQTT_PASSWORD: broker!.password,
      ...env,
    },
  });
  reds.push(red);
  return red;
}

const loggedIn = (from: number) => /New client connected from \S+ as nodered\S* \([^)]*u'vigie'\)/.test(broker!.log().slice(from));

before(async () => {
  certs = makeCertificates(tempDir('vigie-tls-'));
  otherAuthority = makeCertificates(tempDir('vigie-tls-other-')).caFile;
  broker = await createMosquitto({ tls: { certFile: certs.certFile, keyFile: certs.keyFile } });
  observer = await mqtt.connectAsync(broker.url, { clientId: 'vigie-tls-observer', username: broker.user, password: broker.password, ca: fs.readFileSync(certs.caFile), reconnectPeriod: 100 });
  observer.on('message', (_topic, payload) => received.push(payload.toString()));
  await observer.subscribeAsync('vigie/#', { qos: 1 });
});

after(async () => {
  await observer?.endAsync(true).catch(() => undefined);
  for (const red of reds) {
    await red.stop().catch(() => undefined);
    fs.rmSync(red.userDir, { recursive: true, force: true });
  }
  for (const t of taps) await t.close().catch(() => undefined);
  await broker?.stop().catch(() => undefined);
});

test('mqtts:// with the authority trusted: detections reach the broker and the password never crosses in clear', { timeout: 60_000 }, async () => {
  const tap = await startTcpRelay(broker!.port);
  taps.push(tap);
  const logAt = broker!.log().length;
  const red = await startGateway(tap.port, { NODE_EXTRA_CA_CERTS: certs.caFile });
  // Node-RED's own word that it is connected (after the broker's answer): its mqtt out drops
  // what it gets before that, so the broker seeing the login is not enough.
  const connected = () => /Connected to broker: [^\n]*mqtts:\/\/127\.0\.0\.1/.test(red.log());
  await waitFor(() => loggedIn(logAt) && connected(), 30_000, 'the gateway to log in over TLS').catch((e) => assert.fail(`${e.message}\n${red.log().slice(-2000)}\n${broker!.log().slice(-2000)}`));
  const body = JSON.stringify({ kind: 'detection', id: 'det-tls-1' });
  const r = await fetch(`${red.url}/test/publish`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
  assert.equal(r.status, 204);
  await waitFor(() => received.some((p) => p.includes('det-tls-1')), 15_000, 'the detection at the observer').catch((e) =>
    assert.fail(`${e.message}\n${red.log().slice(-2000)}\n${broker!.log().slice(-2000)}`),
  );

  const sent = tap.sent();
  assert.ok(sent.length > 0, 'the relay carried the connection');
  assert.equal(sent[0], 0x16, 'the connection opens with a TLS handshake record');
  assert.equal(sent.indexOf(broker!.password), -1, 'the password is not in the bytes Node-RED sent');
  assert.equal(sent.indexOf('det-tls-1'), -1, 'nor is the payload');
});

test('mqtts:// with a certificate Node-RED cannot verify: it refuses the broker, never logs in, and the log says why',  { timeout: 60_000 }, async () => {
  const tap = await startTcpRelay(broker!.port);
  taps.push(tap);
  const logAt = broker!.log().length;
  // Trusting another private authority (and the system's), not the one that signed the broker's.
  const red = await startGateway(tap.port, { NODE_EXTRA_CA_CERTS: otherAuthority });
  // Two failed attempts: it keeps trying (the broker node reconnects), and keeps failing.
  const failures = () => (red.log().match(/Connection failed to broker: [^\n]*mqtts:\/\/127\.0\.0\.1/g) ?? []).length;
  await waitFor(() => failures() >= 2 || loggedIn(logAt), 30_000, 'two failed connections').catch((e) => assert.fail(`${e.message}\n${red.log().slice(-2000)}`));
  assert.ok(!loggedIn(logAt), `the broker must never see its login:\n${broker!.log().slice(logAt)}`);
  assert.ok(tap.sent().length > 0, 'it did try to connect');
  assert.equal(tap.sent().indexOf(broker!.password), -1, 'the password was never sent');
  // The core broker node says only "Connection failed"; the outbox says why, once.
  const why = red.log().match(/\[vigie-outbox:[^\]]*\] broker [^\n]*: cannot connect: the broker's TLS certificate is not signed by an authority this machine trusts: [^\n]*NODE_EXTRA_CA_CERTS[^\n]*/g) ?? [];
  assert.equal(why.length, 1, `one warning naming the untrusted certificate:\n${red.log().slice(-3000)}`);
});
