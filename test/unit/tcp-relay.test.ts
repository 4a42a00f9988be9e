/**
 * The TCP relay the MQTT end-to-end tests put between Node-RED and the broker
 * (test/support/tcp-relay.ts), against a local echo server as the far end: it relays both
 * ways, keeps what clients sent, holds, cuts, and close() releases every socket.
 */
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'net';
import { startTcpRelay } from '../support/tcp-relay';
import { waitFor } from '../support/wait';

/** The far end: answers "echo:<what it got>", and keeps its sockets to count them. */
let far: net.Server;
const farSockets = new Set<net.Socket>();
let farReceived = '';

before(async () => {
  far = net.createServer((s) => {
    farSockets.add(s);
    s.on('close', () => farSockets.delete(s));
    s.on('error', () => undefined);
    s.on('data', (d) => {
      farReceived += d.toString();
      s.write(`echo:${d}`);
    });
  });
  await new Promise<void>((r) => far.listen(0, '127.0.0.1', r));
});

after(async () => {
  for (const s of farSockets) s.destroy();
  await new Promise<void>((r) => far.close(() => r()));
});

// Each test starts with the far end's sockets of the one before gone.
beforeEach(() => waitFor(() => farSockets.size === 0, 5000, 'the far end to close the sockets of the test before'));

const farPort = () => (far.address() as net.AddressInfo).port;

interface Client {
  socket: net.Socket;
  /** Everything it received. */
  got: () => string;
  /** Resolves when the socket has closed. */
  closed: Promise<void>;
}

/** A client of the relay; resolves once its TCP connection is open (the relay may still close it). */
function connect(port: number): Promise<Client> {
  return new Promise((resolve, reject) => {
    let got = '';
    const socket = net.connect(port, '127.0.0.1');
    const closed = new Promise<void>((r) => socket.on('close', () => r()));
    socket.on('data', (d) => (got += d.toString()));
    socket.once('connect', () => resolve({ socket, got: () => got, closed }));
    socket.once('error', reject);
  });
}

/** Sends `text` and waits for the far end's echo of it. */
async function roundTrip(c: Client, text: string): Promise<void> {
  c.socket.write(text);
  await waitFor(() => c.got().includes(`echo:${text}`), 5000, `the echo of "${text}"`);
}

test('relays both ways and keeps every byte the clients sent, connection after connection', { timeout: 10_000 }, async () => {
  const relay = await startTcpRelay(farPort());
  try {
    const from = farReceived.length;
    const a = await connect(relay.port);
    await roundTrip(a, 'hello ');
    a.socket.end();
    await a.closed;
    const b = await connect(relay.port);
    await roundTrip(b, 'world');
    assert.equal(relay.sent().toString(), 'hello world');
    assert.equal(farReceived.slice(from), 'hello world', 'the far end got the same bytes');
    // the relay's side of the ended connection closes on its own event, maybe after b's came
    await waitFor(() => relay.connections === 1, 5000, 'the ended connection no longer carried');
  } finally {
    await relay.close();
  }
});

test('held: a new connection is closed before it reaches the far end, the one carried goes on; released: relayed again', { timeout: 10_000 }, async () => {
  const relay = await startTcpRelay(farPort());
  try {
    const carried = await connect(relay.port);
    await roundTrip(carried, 'before');
    relay.hold();
    const refused = await connect(relay.port).catch(() => undefined);
    if (refused) await refused.closed; // accepted by the kernel, then closed by the relay
    assert.equal(farSockets.size, 1, 'the far end never saw it');
    await roundTrip(carried, 'during');
    relay.release();
    const later = await connect(relay.port);
    await roundTrip(later, 'after');
    assert.equal(relay.connections, 2);
  } finally {
    await relay.close();
  }
});

test('cut: the connections carried end on both sides; later ones are relayed', { timeout: 10_000 }, async () => {
  const relay = await startTcpRelay(farPort());
  try {
    const a = await connect(relay.port);
    const b = await connect(relay.port);
    await roundTrip(a, 'a');
    await roundTrip(b, 'b');
    assert.equal(farSockets.size, 2);
    relay.cut();
    await Promise.all([a.closed, b.closed]);
    await waitFor(() => farSockets.size === 0, 5000, 'the far end to see its sockets closed');
    assert.equal(relay.connections, 0);
    const c = await connect(relay.port);
    await roundTrip(c, 'c');
  } finally {
    await relay.close();
  }
});

test('silenced: nothing crosses either way and nothing closes; restored: the quiet connections end, new ones are relayed', { timeout: 10_000 }, async () => {
  const relay = await startTcpRelay(farPort());
  try {
    const a = await connect(relay.port);
    await roundTrip(a, 'before');
    const farBefore = farReceived.length;
    relay.silence();
    a.socket.write('lost');
    await waitFor(() => relay.dropped === 4, 5000, 'the relay to read and throw away "lost"');
    assert.equal(relay.connections, 1, 'the quiet connection still carried');
    assert.equal(a.socket.destroyed, false, 'the client still connected');
    relay.restore();
    await a.closed;
    const b = await connect(relay.port);
    await roundTrip(b, 'after');
    assert.equal(farReceived.slice(farBefore), 'after', 'what was sent while silent never arrived');
    assert.equal(a.got().includes('lost'), false);
    assert.doesNotMatch(relay.sent().toString(), /lost/, 'nor is it counted as sent');
  } finally {
    await relay.close();
  }
});

test('close: every socket released on both sides, and the port no longer listens', { timeout: 10_000 }, async () => {
  const relay = await startTcpRelay(farPort());
  const a = await connect(relay.port);
  await roundTrip(a, 'open');
  relay.hold();
  await relay.close();
  await a.closed;
  await waitFor(() => farSockets.size === 0, 5000, 'the far end to see its socket closed');
  assert.equal(relay.connections, 0);
  await assert.rejects(connect(relay.port), { code: 'ECONNREFUSED' });
});

test('far end down: a client is closed at once, not left hanging', { timeout: 10_000 }, async () => {
  const gone = net.createServer();
  await new Promise<void>((r) => gone.listen(0, '127.0.0.1', r));
  const port = (gone.address() as net.AddressInfo).port;
  await new Promise<void>((r) => gone.close(() => r()));
  const relay = await startTcpRelay(port);
  try {
    const c = await connect(relay.port);
    await c.closed;
    assert.equal(relay.connections, 0);
  } finally {
    await relay.close();
  }
});
