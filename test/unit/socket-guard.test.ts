/**
 * The console socket's credential check (lib/alerts/socket-guard.ts): Basic credentials checked
 * as Node-RED checks httpNodeAuth (bcrypt hash, legacy MD5 one), and the check added to a real
 * socket.io server, spoken to by hand over Engine.IO long-polling as any script can.
 */
import { after, before, describe, it, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { basicCredentials, guardSocketServer, NodeAuthCheck, nodeAuthSetting, SOCKET_REFUSAL } from '../../lib/alerts/socket-guard';
import { basicAuth, eventsOf, openPolling } from '../support/sio-polling';

const USER = 'operator';
const PASSWORD = 'watch-the-street';
// bcrypt of PASSWORD (cost 8), as `node-red admin hash-pw` writes it into settings.js
const PASSWORD_HASH = '$2b$08$LWHfn5dFAxcbCTZ3P0KR.O.gQBoROkXKXFu.WM.eUnfUXMYMiIw06';
const header = (user: string, pass: string): string => basicAuth(user, pass).Authorization;

test('httpNodeAuth as settings.js holds it: Basic credentials, a middleware of the site, or none', () => {
  assert.deepEqual(nodeAuthSetting({}), { kind: 'none' });
  assert.deepEqual(nodeAuthSetting({ httpNodeAuth: { user: USER, pass: PASSWORD_HASH } }), { kind: 'basic', user: USER, pass: PASSWORD_HASH });
  assert.deepEqual(nodeAuthSetting({ httpAuth: { user: USER, pass: PASSWORD_HASH } }), { kind: 'basic', user: USER, pass: PASSWORD_HASH }, 'the older name, as Node-RED reads it');
  assert.deepEqual(nodeAuthSetting({ httpNodeAuth: () => undefined }), { kind: 'middleware' });
  assert.deepEqual(nodeAuthSetting({ httpNodeAuth: [() => undefined] }), { kind: 'middleware' });
  assert.deepEqual(nodeAuthSetting({ httpNodeRoot: false, httpNodeAuth: { user: USER, pass: PASSWORD_HASH } }), { kind: 'none' });
});

test('Basic credentials are read as the basic-auth package reads them; anything else is none', () => {
  assert.deepEqual(basicCredentials(header('a', 'b:c')), { user: 'a', password: 'b:c' }, 'the password may hold a colon');
  assert.deepEqual(basicCredentials('  basic ' + Buffer.from('a:').toString('base64')), { user: 'a', password: '' });
  assert.equal(basicCredentials(undefined), undefined);
  assert.equal(basicCredentials('Bearer abc'), undefined);
  assert.equal(basicCredentials('Basic ' + Buffer.from('no-colon').toString('base64')), undefined);
  assert.equal(basicCredentials(['Basic x']), undefined);
});

test("the check lets in httpNodeAuth's user with its password only (bcrypt and legacy MD5 hashes)", () => {
  const check = new NodeAuthCheck(USER, PASSWORD_HASH);
  assert.equal(check.allows(header(USER, PASSWORD)), true);
  assert.equal(check.allows(header(USER, PASSWORD)), true, 'again (remembered)');
  assert.equal(check.allows(header(USER, 'wrong')), false);
  assert.equal(check.allows(header('intruder', PASSWORD)), false, 'the right password for another user');
  assert.equal(check.allows(undefined), false);
  assert.equal(check.allows('Basic !!!'), false);
  const md5 = new NodeAuthCheck(USER, createHash('md5').update(PASSWORD).digest('hex'));
  assert.equal(md5.allows(header(USER, PASSWORD)), true);
  assert.equal(md5.allows(header(USER, 'wrong')), false);
  // A setting Node-RED would let no one in with: no one gets in here either.
  assert.equal(new NodeAuthCheck(USER, 'not-a-hash').allows(header(USER, 'not-a-hash')), false);
  assert.equal(new NodeAuthCheck('', PASSWORD_HASH).allows(header('', PASSWORD)), false);
  // 32 characters, not all ASCII (a plain password put there by mistake): refused, not thrown.
  const plain = 'mot-de-passe-très-secret-é-ü-ø-1';
  assert.equal(plain.length, 32);
  assert.equal(new NodeAuthCheck(USER, plain).allows(header(USER, plain)), false);
});

describe('the check on a real socket.io server', () => {
  let server: http.Server;
  let io: Server;
  let base = '';
  const connected: string[] = [];

  before(async () => {
    server = http.createServer();
    io = new Server(server, { path: '/dashboard/socket.io' });
    io.on('connection', (socket) => {
      connected.push(socket.id);
      // what a dashboard does for a client: answers its requests with the state
      socket.on('widget-load', (id: string) => socket.emit(`widget-load:${id}`, { alerts: ['secret'] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    await new Promise<void>((resolve) => io.close(() => resolve()));
  });

  it('a client already connected without credentials is disconnected when the check is added', async () => {
    const early = await openPolling(base, '/dashboard/socket.io');
    assert.match(await early.connect(), /^40/, 'no check yet: connected');
    assert.equal(io.of('/').sockets.size, 1);
    assert.equal(guardSocketServer(io, new NodeAuthCheck(USER, PASSWORD_HASH)), true);
    assert.equal(io.of('/').sockets.size, 0, 'disconnected');
    assert.equal(guardSocketServer(io, new NodeAuthCheck(USER, PASSWORD_HASH)), false, 'added once per server');
  });

  it('refuses a client without credentials or with wrong ones before it is connected: no state for it', async () => {
    for (const headers of [{}, basicAuth(USER, 'wrong'), basicAuth('intruder', PASSWORD)]) {
      const before = connected.length;
      const c = await openPolling(base, '/dashboard/socket.io', headers);
      assert.equal(await c.connect(), `44${JSON.stringify({ message: SOCKET_REFUSAL })}`);
      await c.emit('widget-load', 'console');
      assert.deepEqual(eventsOf(await c.read(1500)), [], 'nothing answered');
      assert.equal(connected.length, before, 'never connected');
    }
  });

  it('serves a client with the right credentials', async () => {
    const c = await openPolling(base, '/dashboard/socket.io', basicAuth(USER, PASSWORD));
    assert.match(await c.connect(), /^40\{"sid":/);
    await c.emit('widget-load', 'console');
    assert.deepEqual(eventsOf(await c.read()), [{ event: 'widget-load:console', data: { alerts: ['secret'] } }]);
  });
});
