/**
 * The plain words for a failed connection to the broker, from the errors Node's own TLS client
 * gives against a real TLS server: a certificate from an authority this machine does not trust,
 * an expired one, one made out for another host name; and the network's and the broker's faults.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { isNetworkFault, mqttConnectFaultWords } from '../../lib/util/mqtt-fault';
import { tempDir } from '../support/tmp';

let dir: string;
const f = (name: string) => path.join(dir, name);
const ossl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe', cwd: dir });
const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** A server certificate for 127.0.0.1 signed by the authority, valid from `start` to `end` (YYYYMMDDHHMMSSZ). */
function serverCert(name: string, start: string, end: string): void {
  ossl('req', ...ec, '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`), '-subj', '/CN=127.0.0.1');
  fs.writeFileSync(f(`${name}.ext`), 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n');
  ossl('ca', '-batch', '-config', f('ca.cnf'), '-cert', f('ca.pem'), '-keyfile', f('ca.key'), '-in', f(`${name}.csr`), '-out', f(`${name}.pem`), '-startdate', start, '-enddate', end, '-extfile', f(`${name}.ext`), '-notext');
}

const servers: tls.Server[] = [];

/** A TLS server with that certificate; its port. */
async function tlsServer(name: string): Promise<number> {
  const server = tls.createServer({ key: fs.readFileSync(f(`${name}.key`)), cert: fs.readFileSync(f(`${name}.pem`)) }, (s) => s.end());
  server.on('tlsClientError', () => undefined);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as net.AddressInfo).port;
}

/** The error Node's TLS client gives connecting to `port`, trusting `ca`, as `servername`. */
function connectError(port: number, ca: Buffer, servername?: string): Promise<Error> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, ca, servername, rejectUnauthorized: true });
    s.on('secureConnect', () => {
      s.destroy();
      reject(new Error('connected'));
    });
    s.on('error', resolve);
  });
}

let validPort: number;
let expiredPort: number;
let ca: Buffer;
let otherCa: Buffer;

before(async () => {
  dir = tempDir('vigie-mqtt-fault-');
  fs.writeFileSync(f('ca.cnf'), '[ca]\ndefault_ca = d\n[d]\ndatabase = index.txt\nnew_certs_dir = .\nserial = serial\ndefault_md = sha256\npolicy = p\nunique_subject = no\ncopy_extensions = copy\n[p]\ncommonName = supplied\n');
  fs.writeFileSync(f('index.txt'), '');
  fs.writeFileSync(f('serial'), '01\n');
  ossl('req', '-x509', ...ec, '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '2', '-subj', '/CN=Vigie test authority');
  ossl('req', '-x509', ...ec, '-keyout', f('other.key'), '-out', f('other.pem'), '-days', '2', '-subj', '/CN=Another authority');
  const now = Date.now();
  const stamp = (ms: number) => new Date(ms).toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z';
  serverCert('valid', stamp(now - 3600_000), stamp(now + 86_400_000));
  serverCert('expired', '20200101000000Z', '20200201000000Z');
  ca = fs.readFileSync(f('ca.pem'));
  otherCa = fs.readFileSync(f('other.pem'));
  validPort = await tlsServer('valid');
  expiredPort = await tlsServer('expired');
});

after(() => {
  for (const s of servers) s.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

test("a broker whose certificate this machine's authorities did not sign: said so, with NODE_EXTRA_CA_CERTS", async () => {
  const words = mqttConnectFaultWords(await connectError(validPort, otherCa));
  assert.match(words!, /^the broker's TLS certificate is not signed by an authority this machine trusts: .*NODE_EXTRA_CA_CERTS.*\(UNABLE_TO_VERIFY_LEAF_SIGNATURE\)$/);
});

test("a broker whose certificate has expired: said so, with the broker to renew it and this machine's clock", async () => {
  const words = mqttConnectFaultWords(await connectError(expiredPort, ca));
  assert.match(words!, /^the broker's TLS certificate has expired: have it renewed on the broker.*clock \(CERT_HAS_EXPIRED\)$/);
});

test('a broker reached by a name its certificate does not name: says the name used and the names it gives', async () => {
  const words = mqttConnectFaultWords(await connectError(validPort, ca, 'broker.example'));
  assert.match(words!, /^the broker's TLS certificate is not made out for the host name "broker\.example" .*\(it names IP Address:127\.0\.0\.1\): give VIGIE_MQTT_HOST a name .*\(ERR_TLS_CERT_ALTNAME_INVALID\)$/);
});

test('TLS to a port that speaks plain MQTT: says to check mqtts:// against mqtt://', async () => {
  const plain = net.createServer((s) => s.end('not tls\r\n\r\n'));
  await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
  try {
    const words = mqttConnectFaultWords(await connectError((plain.address() as net.AddressInfo).port, ca));
    assert.match(words!, /^the TLS handshake with the broker failed: check that this port expects TLS \(mqtts:\/\//);
  } finally {
    plain.close();
  }
});

test("the network's faults and the broker's refusals of the login: in words, with what to check", () => {
  const code = (c: string | number, message: string) => Object.assign(new Error(message), { code: c });
  assert.match(mqttConnectFaultWords(code('ECONNREFUSED', 'connect ECONNREFUSED 10.0.0.5:8883'))!, /^nothing accepts connections .*\(ECONNREFUSED\)$/);
  assert.match(mqttConnectFaultWords(code('ENOTFOUND', 'getaddrinfo ENOTFOUND broker.city'))!, /host name is not known .*\(ENOTFOUND\)$/);
  assert.equal(mqttConnectFaultWords(code(5, 'Connection refused: Not authorized')), "the broker refused the login (Connection refused: Not authorized): check the account and the broker's ACL");
  assert.equal(mqttConnectFaultWords(code(4, 'Connection refused: Bad username or password')), 'the broker refused the login (Connection refused: Bad username or password): check VIGIE_MQTT_USER and VIGIE_MQTT_PASSWORD');
  assert.match(mqttConnectFaultWords(code('ECONNRESET', 'read ECONNRESET'))!, /^the connection was closed at once \(the broker stopping or starting, .*\(ECONNRESET\)$/);
  // Network faults are what an outage gives too: for the log; a certificate, a login refused, a reset after the login: warnings.
  assert.equal(isNetworkFault(code('ECONNREFUSED', 'x')), true);
  assert.equal(isNetworkFault(code('ECONNRESET', 'x')), true);
  assert.equal(isNetworkFault(code('ECONNRESET', 'x'), { afterLogin: true }), false);
  assert.equal(isNetworkFault(code('CERT_HAS_EXPIRED', 'x')), false);
  assert.equal(isNetworkFault(code(5, 'Connection refused: Not authorized')), false);
  assert.match(mqttConnectFaultWords(code('ECONNRESET', 'read ECONNRESET'), { afterLogin: true })!, /^the broker closed the connection after accepting the login: another client .*packet size limit.*\(ECONNRESET\)$/);
  assert.equal(mqttConnectFaultWords(new Error('connack timeout')), 'connack timeout');
  assert.equal(mqttConnectFaultWords(undefined), undefined);
});
