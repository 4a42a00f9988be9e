/**
 * vigie-outbox node: passes messages through while its broker is connected, keeps them while it
 * is not and sends them in order when it is back; bounds with one warning per outage; statuses;
 * done() on every path; a broken Broker setting named in the error; close clears its timers.
 * First against a stand-in mqtt-broker whose `connected` the test sets; then with a stand-in
 * mqtt out whose completions (the PUBACKs) the test gives or holds back, on a monotonic clock
 * the test moves forward (messages sent again when never completed, late completions); then
 * with Node-RED's core mqtt out and mqtt-broker nodes and an aedes broker that goes away and
 * comes back.
 */
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import { Aedes } from 'aedes';
import mqtt from 'mqtt';
import { freePort, makeUserDir } from '../support/nodered';
import { waitFor } from '../support/wait';
import { logOf as loggedBy, warningsOf } from '../support/node-red-log';
import { readKeptFile } from '../../lib/util/outbox-file';
import { healthReport } from '../../lib/util/health';
import { createMosquitto } from '../support/mosquitto';
import { startTcpRelay } from '../support/tcp-relay';
import { Backoff } from '../../lib/util/backoff';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const helper = require('node-red-node-test-helper');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const outboxModule = require('../../nodes/vigie-outbox');
// The test helper's RED lacks Node-RED's hooks (the outbox learns from onComplete when an mqtt out is done with a message): the runtime's own.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const runtimeHooks = require('@node-red/util').hooks;
const outboxNode = (RED: Any) => outboxModule(Object.assign(RED, { hooks: RED.hooks ?? runtimeHooks }));
// eslint-disable-next-line @typescript-eslint/no-require-imports
const mqttNodes = require('@node-red/nodes/core/network/10-mqtt.js');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const catchNode = require('@node-red/nodes/core/common/25-catch.js');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const completeNode = require('@node-red/nodes/core/common/24-complete.js');

helper.init(require.resolve('node-red'));

type Any = any; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A stand-in for the core mqtt-broker config node: only its `connected` flag, which the test sets. */
function standInBroker(RED: Any): void {
  RED.nodes.registerType('mqtt-broker', function (this: Any, config: Any) {
    RED.nodes.createNode(this, config);
    this.connected = config.startConnected === true;
    // The core node's flag for its first connect in progress (cleared once connected, for good).
    this.connecting = config.startConnecting === true;
  });
  RED.nodes.registerType('other-config', function (this: Any, config: Any) {
    RED.nodes.createNode(this, config);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every status the node sets, in order. */
function statusesOf(node: Any): Any[] {
  const got: Any[] = [];
  node.on('call:status', (c: Any) => got.push(c.args[0]));
  return got;
}


// Each test its own user directory: what an outbox keeps across restarts is written there.
let userDir = '';
beforeEach(() => {
  userDir = makeUserDir('vigie-outbox-');
  helper.settings({ userDir });
});

afterEach(async () => {
  await helper.unload();
  await helper.stopServer();
  fs.rmSync(userDir, { recursive: true, force: true });
});

describe('vigie-outbox with a stand-in broker', () => {
  const flow = (outbox: Record<string, unknown> = {}, broker: Record<string, unknown> = {}) => [
    { id: 'tab', type: 'tab' },
    { id: 'broker', type: 'mqtt-broker', name: 'city broker', ...broker },
    { id: 'other', type: 'other-config' },
    { id: 'box', type: 'vigie-outbox', z: 'tab', broker: 'broker', wires: [['out']], ...outbox },
    { id: 'out', type: 'helper', z: 'tab' },
    { id: 'catch-1', type: 'catch', z: 'tab', scope: ['box'], wires: [['caught']] },
    { id: 'caught', type: 'helper', z: 'tab' },
    { id: 'complete-1', type: 'complete', z: 'tab', scope: ['box'], wires: [['completed']] },
    { id: 'completed', type: 'helper', z: 'tab' },
  ];
  const NODES = [standInBroker, outboxNode, catchNode, completeNode];

  async function load(outbox: Record<string, unknown> = {}, broker: Record<string, unknown> = {}) {
    await helper.load(NODES, flow(outbox, broker));
    const box = helper.getNode('box');
    const got = { out: [] as Any[], errors: [] as string[], completed: 0 };
    helper.getNode('out').on('input', (m: Any) => got.out.push(m));
    helper.getNode('caught').on('input', (m: Any) => got.errors.push(String(m.error?.message)));
    helper.getNode('completed').on('input', () => got.completed++);
    return { box, broker: helper.getNode('broker'), got, statuses: statusesOf(box) };
  }

  it('connected: a message passes at once, unchanged, and is done', async () => {
    const { box, got } = await load({}, { startConnected: true });
    box.receive({ topic: 'vigie/v1/x/alert', payload: { kind: 'detection', id: 'd1' }, qos: 1 });
    await waitFor(() => got.out.length === 1 && got.completed === 1, 10_000, 'the message out and done');
    assert.equal(got.out[0].topic, 'vigie/v1/x/alert');
    assert.deepEqual(got.out[0].payload, { kind: 'detection', id: 'd1' });
    assert.equal(got.out[0].qos, 1);
    await waitFor(() => box.status.args.some((a: Any[]) => a[0].fill === 'green' && a[0].shape === 'dot' && a[0].text === 'connected'), 10_000, 'a green "connected"');
  });

  it('broker down: messages are kept and done; once it is back they go out oldest first, and new ones queue behind', async () => {
    const { box, broker, got, statuses } = await load({}, { startConnected: true });
    broker.connected = false; // an outage: it was connected
    for (let i = 1; i <= 3; i++) box.receive({ payload: i });
    await waitFor(() => got.completed === 3, 10_000, 'done for each kept message');
    await sleep(1200); // a check of the broker went by: still nothing out
    assert.equal(got.out.length, 0);
    assert.deepEqual(statuses[statuses.length - 1], { fill: 'red', shape: 'ring', text: 'broker down: 3 waiting' });

    broker.connected = true;
    box.receive({ payload: 4 }); // connected, but three wait: behind them
    await waitFor(() => got.out.length === 4, 10_000, 'the kept messages sent');
    box.receive({ payload: 5 });
    await waitFor(() => got.out.length === 5, 10_000, 'the next one');
    assert.deepEqual(
      got.out.map((m) => m.payload),
      [1, 2, 3, 4, 5],
    );
    assert.equal(got.completed, 5);
    assert.deepEqual(statuses[statuses.length - 1], { fill: 'green', shape: 'dot', text: 'connected' });
    assert.deepEqual(warningsOf(helper, 'box'), []);
  });

  it('a first connect in progress is a yellow ring; the broker going away once connected is a red ring', async () => {
    const { box, broker, got, statuses } = await load({}, { startConnecting: true });
    box.receive({ payload: 1 });
    await waitFor(() => got.completed === 1, 10_000, 'done for the kept message');
    await waitFor(() => statuses.some((st) => st.text === 'connecting: 1 waiting'), 10_000, 'the first connect');
    assert.deepEqual(statuses[statuses.length - 1], { fill: 'yellow', shape: 'ring', text: 'connecting: 1 waiting' });
    // Connected (the core node clears its flag for good), then gone: an outage, a fault.
    broker.connecting = false;
    broker.connected = true;
    await waitFor(() => got.out.length === 1, 10_000, 'the kept message sent');
    await waitFor(() => statuses[statuses.length - 1]?.fill === 'green', 10_000, 'green');
    broker.connected = false;
    box.receive({ payload: 2 });
    await waitFor(() => statuses.some((st) => st.text === 'broker down: 1 waiting'), 10_000, 'broker down');
    assert.deepEqual(statuses[statuses.length - 1], { fill: 'red', shape: 'ring', text: 'broker down: 1 waiting' });
    assert.equal(statuses.filter((st) => st.fill === 'yellow' && st.shape === 'ring').every((st) => /^connecting: /.test(st.text)), true, JSON.stringify(statuses));
  });

  it('a broker unreachable for 5 minutes, or any message dropped, puts the node in the health report as failed, until it is connected again', async () => {
    const info = { package: 'p', version: '0', nodeRed: '4', startedAtMonotonicMs: 0 };
    const failedOutboxes = () => healthReport(info).failed.filter((f) => f.node === 'vigie-outbox');
    const { box, broker, got } = await load({ name: 'to the city' }, { startConnected: true });
    broker.connected = false;
    box.receive({ payload: 1 });
    await waitFor(() => got.completed === 1, 10_000, 'kept');
    await sleep(1500);
    assert.deepEqual(failedOutboxes(), [], 'a short outage is no failure');
    // Five minutes later, on the clock durations are measured with (a wall clock step would change nothing).
    const realNow = performance.now.bind(performance);
    const later = mock.method(performance, 'now', () => realNow() + 5 * 60_000 + 1000);
    try {
      await waitFor(() => failedOutboxes().length === 1 || undefined, 10_000, 'the outbox in the health report');
    } finally {
      later.mock.restore();
    }
    const f = failedOutboxes()[0];
    assert.deepEqual([f.id, f.name], [box.id, 'to the city']);
    assert.match(f.reason, /^broker .* unreachable for 5 min: 1 message\(s\) waiting$/);
    assert.equal(healthReport(info).status, 'degraded');
    broker.connected = true;
    await waitFor(() => got.out.length === 1, 10_000, 'sent once the broker is back');
    await waitFor(() => failedOutboxes().length === 0 || undefined, 10_000, 'cleared');
  });

  it('messages dropped while the broker is down: in the health report at once; gone from it when the node closes', async () => {
    const info = { package: 'p', version: '0', nodeRed: '4', startedAtMonotonicMs: 0 };
    const { box, broker, got } = await load({ maxMessages: 2 }, { startConnected: true });
    broker.connected = false;
    for (let i = 0; i < 3; i++) box.receive({ payload: i });
    await waitFor(() => got.completed === 3, 10_000, 'all done');
    await waitFor(() => healthReport(info).failed.some((x) => x.node === 'vigie-outbox') || undefined, 10_000, 'reported');
    assert.match(healthReport(info).failed.find((x) => x.node === 'vigie-outbox')!.reason, /: 2 message\(s\) waiting, 1 dropped$/);
    await helper.unload();
    assert.deepEqual(healthReport(info).failed, []);
  });

  it("broker down: an mqtt out command (msg.action) is passed on at once, not kept", async () => {
    const { box, got } = await load();
    box.receive({ payload: 'kept' });
    box.receive({ action: 'connect', broker: { broker: '127.0.0.1' } });
    await waitFor(() => got.out.length === 1 && got.completed === 2, 10_000, 'the command passed on, both done');
    assert.equal(got.out[0].action, 'connect');
  });

  it('a message handed on as the broker drops is sent again once it is back', async () => {
    const { box, broker, got } = await load({}, { startConnected: true });
    box.receive({ payload: 'first' });
    broker.connected = false; // before Node-RED delivered it to the mqtt out: that one would have dropped it
    await waitFor(() => got.out.length === 1, 10_000, 'the first delivery');
    box.receive({ payload: 'second' });
    await sleep(1200);
    assert.equal(got.out.length, 1, 'nothing more while down');
    broker.connected = true;
    await waitFor(() => got.out.length === 3, 10_000, 'sent again, then the next');
    assert.deepEqual(
      got.out.map((m) => m.payload),
      ['first', 'first', 'second'],
    );
  });

  it('beyond maxMessages the oldest are dropped: one warning, a red count, and the count stays after the outage', async () => {
    const { box, broker, got, statuses } = await load({ maxMessages: 3 }, { startConnected: true });
    broker.connected = false; // an outage: it was connected
    helper.log().resetHistory();
    for (let i = 1; i <= 7; i++) box.receive({ payload: i });
    await waitFor(() => got.completed === 7, 10_000, 'done for each');
    const warned = warningsOf(helper, 'box');
    assert.equal(warned.length, 1, `one warning for the outage: ${warned.join(' | ')}`);
    assert.match(warned[0], /city broker unreachable: dropping the oldest .*more than 3 waiting \(maxMessages\)/);
    assert.deepEqual(statuses[statuses.length - 1], { fill: 'red', shape: 'ring', text: 'broker down: 3 waiting, 4 dropped' });
    broker.connected = true;
    await waitFor(() => got.out.length === 3, 10_000, 'the three kept');
    assert.deepEqual(
      got.out.map((m) => m.payload),
      [5, 6, 7],
    );
    await waitFor(() => statuses[statuses.length - 1].fill === 'green', 10_000, 'green again');
    assert.deepEqual(statuses[statuses.length - 1], { fill: 'green', shape: 'dot', text: 'connected (4 dropped in the last outage)' });
  });

  it('full with alert copies and decisions: copies merged, alerts dropped before decisions, decisions last with a warning of their own; counts in the status', async () => {
    const { box, broker, got, statuses } = await load({ maxMessages: 3 }, { startConnected: true });
    broker.connected = false;
    helper.log().resetHistory();
    const alertCopy = (id: string, copy: number) => ({ topic: 'vigie/v1/x/alert', payload: { kind: 'detection', id, location: { method: 'doa', sensors: ['s1'] }, copy } });
    const decision = (alertId: string) => ({ topic: 'vigie/v1/x/decision', payload: { kind: 'decision', alertId, action: 'confirm', operator: 'op', time: 1 } });
    const name = (m: Any) => (m.payload.kind === 'decision' ? `D(${m.payload.alertId})` : `${m.payload.id}#${m.payload.copy}`);
    // A1 D(A) A2 B1 B2 A3 D(B): copies of A and B merged in their places, then full: A (the oldest place) goes, not D(A).
    for (const m of [alertCopy('A', 1), decision('A'), alertCopy('A', 2), alertCopy('B', 1), alertCopy('B', 2), alertCopy('A', 3), decision('B')]) box.receive(m);
    await waitFor(() => got.completed === 7, 10_000, 'done for each');
    assert.deepEqual(statuses[statuses.length - 1], { fill: 'red', shape: 'ring', text: 'broker down: 3 waiting, 3 copies replaced, 1 dropped' });
    let warned = warningsOf(helper, 'box');
    assert.equal(warned.length, 1, warned.join(' | '));
    assert.match(warned[0], /city broker unreachable: dropping the oldest waiting messages, alerts and other messages first: operator decisions only when nothing else is left, more than 3 waiting \(maxMessages\); 3 earlier copies of alerts replaced by later ones so far/);
    // B goes for D(C); for D(D) only decisions are left: the oldest goes, and that is said.
    for (const m of [decision('C'), decision('D')]) box.receive(m);
    await waitFor(() => got.completed === 9, 10_000, 'done for each');
    warned = warningsOf(helper, 'box');
    assert.equal(warned.length, 2, warned.join(' | '));
    assert.match(warned[1], /city broker unreachable: dropping operator decisions, nothing but decisions left among the 3 waiting \(maxMessages\)/);
    assert.deepEqual(statuses[statuses.length - 1], { fill: 'red', shape: 'ring', text: 'broker down: 3 waiting, 3 copies replaced, 3 dropped (1 decision)' });
    broker.connected = true;
    await waitFor(() => got.out.length === 3, 10_000, 'the three kept');
    assert.deepEqual(got.out.map(name), ['D(B)', 'D(C)', 'D(D)']);
  });

  it('beyond maxAgeS the oldest are dropped, with one warning naming the setting', async () => {
    const { box, broker, got, statuses } = await load({ maxAgeS: 1 }, { startConnected: true });
    broker.connected = false; // an outage: it was connected
    helper.log().resetHistory();
    box.receive({ payload: 'old-1' });
    box.receive({ payload: 'old-2' });
    await waitFor(() => statuses.some((s) => s.text === 'broker down: 0 waiting, 2 dropped'), 5000, 'both aged out');
    // The broker is back before the new one arrives: kept for a moment, it could itself pass
    // the 1 s limit on a loaded machine before the next check sends it.
    broker.connected = true;
    box.receive({ payload: 'new' });
    await waitFor(() => got.out.length === 1, 10_000, 'the new one sent');
    assert.equal(got.out[0].payload, 'new');
    const warned = warningsOf(helper, 'box');
    assert.equal(warned.length, 1, warned.join(' | '));
    assert.match(warned[0], /older than 1 s \(maxAgeS\)/);
  });

  it('close without "Restarts": says how many waiting messages it drops and leaves no timer behind', async () => {
    // The intervals the node starts are counted each time they fire.
    let ticks = 0;
    const realSetInterval = global.setInterval;
    global.setInterval = ((fn: (...a: unknown[]) => void, ms?: number, ...rest: unknown[]) =>
      realSetInterval((...a: unknown[]) => {
        ticks++;
        fn(...a);
      }, ms, ...rest)) as typeof setInterval;
    let loaded: Awaited<ReturnType<typeof load>>;
    try {
      loaded = await load({ persist: false });
    } finally {
      global.setInterval = realSetInterval;
    }
    const { box, statuses } = loaded;
    await waitFor(() => ticks > 0, 10_000, 'the broker check ran');
    box.receive({ payload: 1 });
    box.receive({ payload: 2 });
    await waitFor(() => statuses.some((s) => s.text === 'connecting: 2 waiting'), 10_000, 'two waiting');
    // The helper stops recording the log when it unloads: catch the warning at the node.
    const warned: string[] = [];
    box.warn = (m: unknown) => warned.push(String(m));
    await helper.unload();
    assert.equal(warned.length, 1, warned.join(' | '));
    assert.match(warned[0], /closing with 2 messages waiting for the broker: dropped \(kept in memory only\)/);
    const ticksAtClose = ticks;
    await sleep(1300); // past the 1 s broker check
    assert.equal(ticks, ticksAtClose, 'no check ran after close');
    assert.deepEqual(fs.readdirSync(userDir).filter((f) => f.startsWith('vigie-outbox-')), [], 'no file without "Restarts"');
  });

  it('restarts: what waits is written to the user directory (mode 0640), put back at the next start, in order, with its ages (one past the maximum age is dropped), and sent when the broker is back', async () => {
    const file = path.join(userDir, 'vigie-outbox-box.json');
    const first = await load();
    first.box.receive({ topic: 't/1', payload: { n: 1 }, qos: 1 });
    first.box.receive({ topic: 't/2', payload: Buffer.from('two'), qos: 1, retain: false });
    await waitFor(() => fs.existsSync(file), 10_000, 'the file written a moment after the messages arrived');
    first.box.receive({ topic: 't/3', payload: 3 });
    await helper.unload(); // a redeploy or a restart, not a removal
    const kept = readKeptFile(file);
    assert.equal(kept.format, 'journal');
    assert.deepEqual(kept.entries.map((e) => e.item.topic), ['t/1', 't/2', 't/3'], 'all three in the file at close');
    assert.ok(kept.entries.every((e) => Date.now() - e.keptAtMs < 60_000));
    assert.equal(fs.statSync(file).mode & 0o777, 0o640, 'readable by its owner and group only');
    assert.deepEqual(fs.readdirSync(userDir).filter((f) => f.endsWith('.tmp')), [], 'no temporary file left');
    // Ages come back with the messages: the first one, kept two hours ago as far as the file
    // says, is past the default hour and dropped at the start; the others are put back.
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    const firstLine = JSON.parse(lines[1]);
    assert.equal(firstLine.item.topic, 't/1', 'line 2 holds the oldest message (line 1 says what the file is)');
    lines[1] = JSON.stringify({ ...firstLine, keptAtMs: Date.now() - 2 * 3600_000 });
    fs.writeFileSync(file, lines.join('\n'));

    const second = await load();
    assert.equal(second.got.out.length, 0);
    await waitFor(() => second.statuses.some((st) => /^connecting: 2 waiting, 1 dropped/.test(st.text ?? '')), 10_000, 'the two recent ones put back, the old one dropped');
    second.box.receive({ topic: 't/4', payload: 4 });
    second.broker.connected = true;
    await waitFor(() => second.got.out.length === 3, 10_000, 'all three sent');
    assert.deepEqual(second.got.out.map((m) => m.topic), ['t/2', 't/3', 't/4']);
    assert.ok(Buffer.isBuffer(second.got.out[0].payload) && second.got.out[0].payload.toString() === 'two', 'a Buffer payload comes back as one');
    assert.equal(second.got.out[0].qos, 1);
    await waitFor(() => !fs.existsSync(file), 10_000, 'the file removed once nothing waits');
  });

  it('restarts: a message JSON cannot hold (a BigInt) waits in memory only, named once; the others are still written', async () => {
    const file = path.join(userDir, 'vigie-outbox-box.json');
    const { box, broker, got } = await load();
    box.receive({ topic: 't/ok', payload: 1 });
    box.receive({ topic: 't/big', payload: { n: 10n } });
    box.receive({ topic: 't/ok2', payload: 2 });
    await waitFor(() => fs.existsSync(file), 10_000, 'the file written');
    assert.deepEqual(readKeptFile(file).entries.map((e) => e.item.topic), ['t/ok', 't/ok2']);
    const warned = warningsOf(helper, 'box');
    assert.equal(warned.length, 1, warned.join(' | '));
    assert.match(warned[0], /^msg\.payload \(or another field the mqtt out publishes\): expected something JSON can hold \(.*BigInt.*\); this message waits in memory only, not in vigie-outbox-box\.json$/);
    // A later write does not say it again, and the message is still sent once the broker is back.
    box.receive({ topic: 't/ok3', payload: 3 });
    await waitFor(() => readKeptFile(file).entries.length === 3, 10_000, 'the third one written');
    assert.equal(warningsOf(helper, 'box').length, 1);
    broker.connected = true;
    await waitFor(() => got.out.length === 4, 10_000, 'all four sent');
    assert.deepEqual(got.out.map((m) => m.topic), ['t/ok', 't/big', 't/ok2', 't/ok3']);
  });

  it('restarts: a full disk: one warning naming the file and "disk full", the status says what waits is not on disk, the file is tried again less and less often, the messages still go out; once there is room the file is written again and that is said', async () => {
    const file = path.join(userDir, 'vigie-outbox-box.json');
    const { box, broker, got, statuses } = await load();
    box.receive({ topic: 't/1', payload: 1 });
    await waitFor(() => fs.existsSync(file), 10_000, 'the file written');
    // The card fills up: every write of the outbox's files (appends and whole rewrites, both to
    // an open file) stops short, as the kernel's ENOSPC leaves them.
    const realWrite = fs.writeFileSync;
    let full = true;
    let refused = 0;
    const write = mock.method(require('node:fs') as typeof fs, 'writeFileSync', (f: fs.PathOrFileDescriptor, data: string | NodeJS.ArrayBufferView, opts?: fs.WriteFileOptions) => {
      if (!full || typeof f !== 'number') return realWrite(f, data, opts);
      refused++;
      fs.writeSync(f, String(data).slice(0, 10));
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });
    });
    // The delays before each attempt again (the outbox's back-off is the only one in this flow).
    const realNext = Backoff.prototype.next;
    const retryDelaysMs: number[] = [];
    const next = mock.method(Backoff.prototype, 'next', function (this: Backoff) {
      const ms = realNext.call(this);
      retryDelaysMs.push(ms);
      return ms;
    });
    try {
      box.receive({ topic: 't/2', payload: 2 });
      await waitFor(() => statuses.some((st) => st.text === 'connecting: 2 waiting, not on disk: disk full'), 10_000, 'the status says what waits is not on disk');
      box.receive({ topic: 't/3', payload: 3 });
      await waitFor(() => refused >= 2 && retryDelaysMs.length >= 2, 20_000, 'tried again');
      assert.ok(retryDelaysMs[1] > retryDelaysMs[0], `each attempt waits longer: ${retryDelaysMs.join(', ')} ms`);
      const warned = warningsOf(helper, 'box');
      assert.deepEqual(warned, [
        'vigie-outbox-box.json: could not write the waiting messages (disk full (ENOSPC: no space left on device, write)); they are kept in memory only, and written once the file can be written again',
      ]);
      // Room again (a log rotated away): the next attempt writes the file whole, and says so.
      full = false;
      await waitFor(() => loggedBy(helper, 'box', 'INFO').includes('vigie-outbox-box.json: the waiting messages are written again'), 30_000, 'written again');
    } finally {
      write.mock.restore();
      next.mock.restore();
    }
    assert.deepEqual(readKeptFile(file).entries.map((e) => e.item.topic), ['t/1', 't/2', 't/3']);
    await waitFor(() => /^connecting: 3 waiting$/.test(statuses[statuses.length - 1]?.text ?? ''), 10_000, 'the status no longer says "not on disk"');
    assert.deepEqual(fs.readdirSync(userDir).filter((f) => f.endsWith('.tmp')), [], 'no temporary file left');
    broker.connected = true;
    await waitFor(() => got.out.length === 3, 10_000, 'all three sent');
    assert.deepEqual(got.out.map((m) => m.topic), ['t/1', 't/2', 't/3']);
  });

  it('restarts: an outage with nothing new does not rewrite the file', async () => {
    const file = path.join(userDir, 'vigie-outbox-box.json');
    const { box } = await load();
    box.receive({ payload: 1 });
    await waitFor(() => fs.existsSync(file), 10_000, 'the file written');
    const written = fs.statSync(file).mtimeMs;
    await sleep(4500); // two write delays and four checks of the broker go by
    assert.equal(fs.statSync(file).mtimeMs, written, 'not written again');
    box.receive({ payload: 2 });
    await waitFor(() => fs.statSync(file).mtimeMs !== written, 10_000, 'written again once something changed');
  });

  it('restarts: a file it cannot read is set aside, named in a warning, never overwritten', async () => {
    fs.writeFileSync(path.join(userDir, 'vigie-outbox-box.json'), '{"not": "a list"');
    helper.log().resetHistory();
    const { box, statuses } = await load();
    assert.match(warningsOf(helper, 'box').join(' | '), /could not read the messages kept before the restart .*set aside as vigie-outbox-box\.json\.unreadable-\d+/);
    const aside = () => fs.readdirSync(userDir).filter((f) => f.startsWith('vigie-outbox-box.json.unreadable-'));
    assert.equal(aside().length, 1);
    box.receive({ payload: 1 });
    await waitFor(() => statuses.some((st) => st.text === 'connecting: 1 waiting'), 10_000, 'one waiting');
    await waitFor(() => fs.existsSync(path.join(userDir, 'vigie-outbox-box.json')), 10_000, 'the new file written');
    assert.equal(fs.readFileSync(path.join(userDir, aside()[0]), 'utf8'), '{"not": "a list"', 'the unreadable file is kept as it was');
  });

  it('restarts: a file written by an earlier version (one JSON list) is read, its messages sent in order once the broker is back, and rewritten as a journal at once', async () => {
    const file = path.join(userDir, 'vigie-outbox-box.json');
    const now = Date.now();
    const old = [
      { item: { topic: 't/1', payload: { n: 1 }, qos: 1 }, keptAtMs: now - 60_000 },
      { item: { topic: 't/2', payload: { type: 'Buffer', data: [116, 119, 111] }, qos: 1 }, keptAtMs: now - 30_000 },
    ];
    fs.writeFileSync(file, JSON.stringify(old));
    const { box, broker, got, statuses } = await load();
    await waitFor(() => statuses.some((st) => st.text === 'connecting: 2 waiting'), 10_000, 'both put back');
    assert.deepEqual(warningsOf(helper, 'box'), []);
    const kept = readKeptFile(file);
    assert.equal(kept.format, 'journal', 'rewritten as a journal at the start');
    assert.deepEqual(
      kept.entries.map((e) => [e.item.topic, e.keptAtMs]),
      old.map((e) => [e.item.topic, e.keptAtMs]),
      'with their ages',
    );
    assert.equal(fs.statSync(file).mode & 0o777, 0o640);
    box.receive({ topic: 't/3', payload: 3 });
    broker.connected = true;
    await waitFor(() => got.out.length === 3, 10_000, 'all three sent');
    assert.deepEqual(got.out.map((m) => m.topic), ['t/1', 't/2', 't/3']);
    assert.equal(got.out[1].payload.toString(), 'two');
    await waitFor(() => !fs.existsSync(file), 10_000, 'the file removed once nothing waits');
  });

  it('restarts: a last line cut short (a power cut during a write) is ignored with a warning; the messages before it are put back', async () => {
    const file = path.join(userDir, 'vigie-outbox-box.json');
    const first = await load();
    for (let i = 1; i <= 3; i++) first.box.receive({ topic: `t/${i}`, payload: i });
    await helper.unload();
    const whole = fs.readFileSync(file, 'utf8');
    const lines = whole.split('\n');
    assert.equal(lines.length, 5, 'the first line, three messages, and nothing after the last newline');
    // The third message's line, cut in the middle.
    fs.writeFileSync(file, `${lines.slice(0, 3).join('\n')}\n${lines[3].slice(0, 20)}`);

    helper.log().resetHistory();
    const second = await load();
    await waitFor(() => second.statuses.some((st) => st.text === 'connecting: 2 waiting'), 10_000, 'the two whole ones put back');
    assert.deepEqual(warningsOf(helper, 'box'), ['vigie-outbox-box.json: its last line (line 4, 20 bytes) is cut short, as a power cut or a crash while it was written leaves it: that line is ignored, the messages before it are put back']);
    const now = readKeptFile(file);
    assert.equal(now.torn, undefined, 'the file rewritten without the cut line at the start');
    assert.deepEqual(now.entries.map((e) => e.item.topic), ['t/1', 't/2']);
    second.broker.connected = true;
    await waitFor(() => second.got.out.length === 2, 10_000, 'both sent');
    assert.deepEqual(second.got.out.map((m) => m.topic), ['t/1', 't/2']);
  });

  /** The log of a node, caught at the node (the helper stops recording it when the node closes). */
  function logOf(node: Any): { info: string[]; warned: string[] } {
    const said = { info: [] as string[], warned: [] as string[] };
    node.log = (m: unknown) => said.info.push(String(m));
    node.warn = (m: unknown) => said.warned.push(String(m));
    return said;
  }

  // Node-RED closes with removed=true a node deleted, but also a node disabled and every node
  // of a tab disabled: only the first loses its file.
  for (const [label, disable] of [
    ['its tab disabled', (f: Any[]) => f.map((n) => (n.id === 'tab' ? { ...n, disabled: true } : n))],
    ['the node disabled', (f: Any[]) => f.map((n) => (n.id === 'box' ? { ...n, d: true } : n))],
  ] as Array<[string, (f: Any[]) => Any[]]>) {
    it(`restarts: ${label}, the waiting messages stay in the file and are back once it is enabled again`, async () => {
      const file = path.join(userDir, 'vigie-outbox-box.json');
      const { box, statuses } = await load();
      box.receive({ topic: 't/1', payload: 1 });
      box.receive({ topic: 't/2', payload: 2 });
      await waitFor(() => statuses.some((st) => st.text === 'connecting: 2 waiting'), 10_000, 'two waiting');
      const said = logOf(box);
      await helper.setFlows(disable(flow()), 'nodes');
      await waitFor(() => said.info.some((m) => /kept in vigie-outbox-box\.json, the node is disabled/.test(m)), 10_000, 'says why it keeps them');
      assert.match(said.info.join(' | '), /closed with 2 messages waiting for the broker: kept in vigie-outbox-box\.json, the node is disabled \(or its tab is\)/);
      assert.deepEqual(said.warned, []);
      assert.deepEqual(readKeptFile(file).entries.map((e) => e.item.topic), ['t/1', 't/2']);

      await helper.setFlows(flow(), 'nodes');
      const again = helper.getNode('box');
      assert.notEqual(again, box, 'a new node');
      const out: Any[] = [];
      helper.getNode('out').on('input', (m: Any) => out.push(m));
      helper.getNode('broker').connected = true;
      await waitFor(() => out.length === 2, 10_000, 'both sent once the broker is there');
      assert.deepEqual(out.map((m) => m.topic), ['t/1', 't/2']);
    });
  }

  it('restarts: a node deleted from the flows leaves no file, and says what it drops', async () => {
    const file = path.join(userDir, 'vigie-outbox-box.json');
    const { box, statuses } = await load();
    box.receive({ payload: 1 });
    await waitFor(() => fs.existsSync(file), 10_000, 'the file written');
    await waitFor(() => statuses.some((st) => st.text === 'connecting: 1 waiting'), 10_000, 'one waiting');
    const said = logOf(box);
    await helper.setFlows(flow().filter((n) => n.id !== 'box'), 'nodes');
    await waitFor(() => said.warned.length > 0, 10_000, 'a warning');
    assert.match(said.warned.join(' | '), /closed with 1 message waiting for the broker: dropped, the node is deleted \(vigie-outbox-box\.json removed\)/);
    assert.equal(fs.existsSync(file), false);
    assert.deepEqual(fs.readdirSync(userDir).filter((f) => f.startsWith('vigie-outbox-')), [], 'no file left');
  });

  it('restarts: an outbox in a subflow instance deleted leaves no file; a redeploy of the instance keeps it', async () => {
    const subflowFlow = (withInstance: boolean, instanceName = 'a') => [
      { id: 'tab', type: 'tab' },
      { id: 'broker', type: 'mqtt-broker', name: 'city broker' },
      { id: 'sf', type: 'subflow', name: 'guarded', in: [{ wires: [{ id: 'sfbox' }] }], out: [{ wires: [{ id: 'sfbox', port: 0 }] }] },
      { id: 'sfbox', type: 'vigie-outbox', z: 'sf', x: 100, y: 100, broker: 'broker', wires: [] },
      ...(withInstance ? [{ id: 'inst', type: 'subflow:sf', z: 'tab', x: 100, y: 100, name: instanceName, wires: [[]] }] : []),
    ];
    const file = path.join(userDir, 'vigie-outbox-inst-sfbox.json');
    await helper.load(NODES, subflowFlow(true));
    const box = helper.getNode('inst-sfbox');
    assert.ok(box, 'the outbox of the instance runs as <instance>-<node>');
    box.receive({ payload: 1 });
    await waitFor(() => fs.existsSync(file), 10_000, 'the file written');
    // The instance changed: it and its nodes restart, the file stays for the new one.
    // Whether the file goes is decided at the deploy's 'flows:started': looked at once that has passed.
    const deployed = new Promise<void>((resolve) => helper._events.once('flows:started', () => setImmediate(resolve)));
    await helper.setFlows(subflowFlow(true, 'b'), 'nodes');
    await deployed;
    assert.ok(helper.getNode('inst-sfbox') && helper.getNode('inst-sfbox') !== box, 'restarted');
    assert.equal(fs.existsSync(file), true, 'kept for the restarted instance');
    const said = logOf(helper.getNode('inst-sfbox'));
    await helper.setFlows(subflowFlow(false), 'nodes');
    await waitFor(() => !fs.existsSync(file), 10_000, 'the file removed with the instance');
    assert.match(said.warned.join(' | '), /dropped, the node is deleted/);
  });

  for (const [label, outbox, re] of [
    ['no broker chosen', { broker: '' }, /setting broker: choose the mqtt-broker config node .*none chosen/],
    ['a broker that does not exist', { broker: 'gone' }, /setting broker: the mqtt-broker config node gone does not exist/],
    ['a config node that is no mqtt-broker', { broker: 'other' }, /setting broker: other is a other-config, expected Node-RED's core mqtt-broker/],
  ] as Array<[string, Record<string, unknown>, RegExp]>) {
    it(`${label}: a red ring and an error naming the setting; messages pass on unguarded, each with an error`, async () => {
      const { box, got } = await load(outbox);
      assert.ok(
        box.status.args.some((a: Any[]) => a[0].fill === 'red' && a[0].shape === 'ring' && /setting broker/.test(a[0].text)),
        'a red ring',
      );
      assert.ok(box.error.args.some((a: Any[]) => re.test(String(a[0]))), `error: ${box.error.args.map((a: Any[]) => a[0]).join(' | ')}`);
      box.receive({ payload: 'x' });
      await waitFor(() => got.out.length === 1 && got.errors.length === 1, 10_000, 'passed on, with an error');
      assert.match(got.errors[0], /outbox not configured, message passed on unguarded: setting broker/);
    });
  }

  it('refuses bounds out of range, naming the setting', async () => {
    const { box } = await load({ maxMessages: '0' });
    assert.ok(box.error.args.some((a: Any[]) => /setting maxMessages: expected an integer from 1 to 1000000/.test(String(a[0]))));
    assert.deepEqual(box.status.lastCall.args[0], { fill: 'red', shape: 'ring', text: 'bad setting maxMessages: "0"' });
    await helper.unload();
    const again = await load({ maxAgeS: 'soon' });
    assert.ok(again.box.error.args.some((a: Any[]) => /setting maxAgeS: expected an integer from 1 to 604800/.test(String(a[0]))));
    assert.deepEqual(again.box.status.lastCall.args[0], { fill: 'red', shape: 'ring', text: 'bad setting maxAgeS: "soon"' });
  });
});

describe('vigie-outbox with a stand-in mqtt out that completes messages when the test says', () => {
  /**
   * A stand-in for the core mqtt out: the outbox feeds it as one (its type, broker and topic),
   * and Node-RED's onComplete hook fires when the test calls the done() of a message it took,
   * as the core node does on the broker's PUBACK for QoS 1.
   */
  function standInMqttOut(RED: Any): void {
    RED.nodes.registerType('mqtt out', function (this: Any, config: Any) {
      RED.nodes.createNode(this, config);
      this.broker = config.broker;
      this.topic = config.topic;
      this.on('input', (msg: Any, _send: Any, done: () => void) => this.emit('taken', { msg, done }));
    });
  }
  const NODES = [standInBroker, standInMqttOut, outboxNode];
  const flow = [
    { id: 'tab', type: 'tab' },
    { id: 'broker', type: 'mqtt-broker', name: 'city broker', startConnected: true },
    { id: 'box', type: 'vigie-outbox', z: 'tab', broker: 'broker', wires: [['pub']] },
    { id: 'pub', type: 'mqtt out', z: 'tab', topic: 'vigie/test/detection', broker: 'broker' },
  ];
  interface Taken {
    msg: Any;
    done: () => void;
  }

  /** The monotonic clock the outbox measures with (performance.now), `aheadMs` ahead of the real one. */
  let clockAheadMs = 0;
  let clockMock: { mock: { restore(): void } } | undefined;
  beforeEach(() => {
    clockAheadMs = 0;
    const realNow = performance.now.bind(performance);
    clockMock = mock.method(performance, 'now', () => realNow() + clockAheadMs);
  });
  afterEach(() => clockMock?.mock.restore());

  /** Loads the flow, counting the runs of the outbox's 1 s check (the only 1 s interval of the flow). */
  async function load() {
    const checks = { count: 0 };
    const realSetInterval = global.setInterval;
    global.setInterval = ((fn: (...a: unknown[]) => void, ms?: number, ...rest: unknown[]) =>
      realSetInterval(
        (...a: unknown[]) => {
          fn(...a);
          if (ms === 1000) checks.count++;
        },
        ms,
        ...rest,
      )) as typeof setInterval;
    try {
      await helper.load(NODES, flow);
    } finally {
      global.setInterval = realSetInterval;
    }
    const box = helper.getNode('box');
    const taken: Taken[] = [];
    helper.getNode('pub').on('taken', (t: Taken) => taken.push(t));
    const boxStatuses = () => box.status.getCalls().filter((c: Any) => c.thisValue === box).map((c: Any) => c.args[0]);
    /** Resolves once two more checks have run to their end (one whole check after this call). */
    const checksGoBy = async () => {
      const from = checks.count;
      await waitFor(() => checks.count >= from + 2, 10_000, 'two checks of the outbox');
    };
    return { box, broker: helper.getNode('broker'), taken, boxStatuses, checksGoBy };
  }
  const payloads = (taken: Taken[]) => taken.map((t) => t.msg.payload);

  it('a message passed on and never completed, the broker connected, is sent again after twice the keepalive (30 s at least), in order, ahead of what waits; a log line says so', async () => {
    const { box, broker, taken, boxStatuses, checksGoBy } = await load();
    broker.keepalive = 60; // the core node's number of seconds: the bound is 2 x 60 s, not 30 s
    helper.log().resetHistory();
    const sent = Array.from({ length: 103 }, (_, i) => `m${i + 1}`);
    for (const p of sent) box.receive({ payload: p });
    // 100 in flight at most: m101..m103 wait behind. m1 completed frees a place for m101.
    await waitFor(() => taken.length === 100, 10_000, 'the first 100 passed on');
    assert.deepEqual(payloads(taken), sent.slice(0, 100));
    taken[0].done();
    await waitFor(() => taken.length === 101, 10_000, 'm101 passed on in the place freed');
    assert.equal(taken[100].msg.payload, 'm101');
    clockAheadMs = 6_000; // past the 5 s an acknowledgement may take before it is late
    await waitFor(() => boxStatuses().pop()?.text === "sending: 2 waiting, 100 waiting for the broker's acknowledgement", 10_000, 'the acknowledgements late').catch((err) => {
      throw new Error(`${err.message}: ${JSON.stringify(boxStatuses().slice(-3))}`);
    });

    // Past 30 s but within two keepalives: nothing is sent again.
    clockAheadMs = 100_000;
    await checksGoBy();
    assert.equal(taken.length, 101, 'nothing sent again before twice the keepalive');

    clockAheadMs = 121_000;
    await waitFor(() => taken.length === 201, 10_000, 'the 100 uncompleted sent again').catch((err) => {
      throw new Error(`${err.message}: ${taken.length} passed on, ${JSON.stringify(boxStatuses().slice(-3))}`);
    });
    // Sent again in their order, before m102 and m103 which still wait (no room in flight).
    assert.deepEqual(payloads(taken.slice(101)), sent.slice(1, 101));
    const firstIds = new Set(taken.slice(0, 101).map((t) => t.msg._msgid));
    assert.equal(taken.slice(101).filter((t) => firstIds.has(t.msg._msgid)).length, 0, 'each sent again with a new _msgid');
    assert.deepEqual(loggedBy(helper, 'box', 'INFO').filter((m) => /sending again/.test(m)), ['sending again 100 message(s): 100 not completed by the mqtt out within 120 s']);

    // The broker acknowledges what is sent again: then the two that waited go, and all is done.
    for (const t of taken.slice(101)) t.done();
    await waitFor(() => taken.length === 203, 10_000, 'm102 and m103 passed on');
    assert.deepEqual(payloads(taken.slice(201)), ['m102', 'm103']);
    for (const t of taken.slice(201)) t.done();
    await waitFor(() => boxStatuses().pop()?.text === 'connected', 10_000, 'green once all is acknowledged');
    assert.deepEqual(warningsOf(helper, 'box'), []);
  });

  it('a late completion of an earlier sending is ignored: the message sent again stays in flight, is sent again once more if that one is not completed either, and is done with once it is', async () => {
    const { box, taken, boxStatuses, checksGoBy } = await load();
    box.receive({ payload: 'only', _msgid: 'given-id' });
    await waitFor(() => taken.length === 1, 10_000, 'passed on');
    assert.equal(taken[0].msg._msgid, 'given-id', 'a first sending keeps the _msgid it came with');

    clockAheadMs = 31_000; // no keepalive: the bound is 30 s
    await waitFor(() => taken.length === 2, 10_000, 'sent again after 30 s');
    assert.notEqual(taken[1].msg._msgid, taken[0].msg._msgid, 'sent again with a new _msgid');
    assert.equal(taken[1].msg.payload, 'only');

    // The first sending completes now (its PUBACK arrives late): that says nothing of the second.
    taken[0].done();
    await checksGoBy();
    assert.deepEqual(boxStatuses().pop(), { fill: 'yellow', shape: 'dot', text: "sending: 1 waiting for the broker's acknowledgement" }, 'still awaited');

    // Still in flight, not lost: not completed within 30 s either, it is sent a third time.
    clockAheadMs = 62_000;
    await waitFor(() => taken.length === 3, 10_000, 'sent a third time').catch((err) => {
      throw new Error(`${err.message}: ${taken.length} passed on, ${JSON.stringify(boxStatuses().slice(-3))}`);
    });
    assert.equal(new Set(taken.map((t) => t.msg._msgid)).size, 3);

    // The third sending completed: done with, once, and nothing more is sent (nor by the second's late completion).
    taken[2].done();
    await waitFor(() => boxStatuses().pop()?.text === 'connected', 10_000, 'green once acknowledged');
    taken[1].done();
    clockAheadMs = 200_000;
    await checksGoBy();
    assert.equal(taken.length, 3, 'nothing sent again once acknowledged');
    assert.deepEqual(boxStatuses().pop(), { fill: 'green', shape: 'dot', text: 'connected' });
    assert.deepEqual(warningsOf(helper, 'box'), []);
  });

  it('the broker acknowledging other messages after the oldest awaited one went: "acknowledging nothing" is counted from its last acknowledgement, not from that message', async () => {
    const info = { package: 'p', version: '0', nodeRed: '4', startedAtMonotonicMs: 0 };
    const failedOutboxes = () => healthReport(info).failed.filter((f) => f.node === 'vigie-outbox');
    const { box, taken, checksGoBy } = await load();
    box.receive({ payload: 'never-acknowledged' });
    await waitFor(() => taken.length === 1, 10_000, 'passed on');

    // Four minutes later (it has been sent again meanwhile), another message is acknowledged.
    clockAheadMs = 4 * 60_000;
    box.receive({ payload: 'acknowledged' });
    const acked = await waitFor(() => taken.find((t) => t.msg.payload === 'acknowledged'), 10_000, 'the second one passed on');
    acked.done();
    await checksGoBy();
    assert.deepEqual(failedOutboxes(), []);

    // Nine minutes after the first went, five after the last acknowledgement: failed, for 5 min.
    clockAheadMs = 9 * 60_000 + 10_000;
    const failed = await waitFor(() => failedOutboxes()[0], 10_000, 'the outbox in the health report');
    assert.equal(failed.reason, 'broker city broker connected but acknowledging nothing for 5 min: 1 message(s) waiting for its acknowledgement, 0 message(s) waiting');
  });
});

describe("vigie-outbox with Node-RED's mqtt out and an MQTT broker that goes away", () => {
  /**
   * An aedes broker on a fixed port that can be stopped and started again there. `admit` decides
   * which client ids may connect: the test keeps Node-RED out until its subscriber is back, so
   * that what Node-RED publishes has someone to go to (aedes keeps no session across restarts).
   */
  function restartableBroker(port: number) {
    let server: net.Server | undefined;
    let broker: Aedes | undefined;
    const sockets = new Set<net.Socket>();
    const self = {
      admit: (_clientId: string) => true,
      async start() {
        broker = await Aedes.createBroker({ authenticate: (client, _u, _p, done) => done(null, self.admit(client.id)) });
        server = net.createServer(broker.handle);
        server.on('connection', (s) => {
          sockets.add(s);
          s.on('close', () => sockets.delete(s));
        });
        await new Promise<void>((resolve, reject) => {
          server!.once('error', reject);
          server!.listen(port, '127.0.0.1', () => resolve());
        });
      },
      async stop() {
        if (!server) return;
        await new Promise<void>((r) => broker!.close(() => r()));
        for (const s of sockets) s.destroy();
        await new Promise<void>((r) => server!.close(() => r()));
        server = undefined;
      },
    };
    return self;
  }

  it('what is sent while the broker is gone is published, in order, when it is back', { timeout: 30_000 }, async () => {
    const port = await freePort();
    const mq = restartableBroker(port);
    await mq.start();
    const url = `mqtt://127.0.0.1:${port}`;
    const seen: string[] = [];
    const sub = await mqtt.connectAsync(url, { clientId: 'outbox-test-subscriber', reconnectPeriod: 100 });
    sub.on('message', (_t, p) => seen.push(p.toString()));
    await sub.subscribeAsync('vigie/test/#', { qos: 1 });
    helper.settings({ userDir, mqttReconnectTime: 300 });
    try {
      await helper.load(
        [mqttNodes, outboxNode],
        [
          { id: 'tab', type: 'tab' },
          { id: 'broker', type: 'mqtt-broker', name: 'test broker', broker: '127.0.0.1', port: String(port), clientid: 'outbox-test-publisher', autoConnect: true, usetls: false, protocolVersion: '4', keepalive: '60', cleansession: true },
          { id: 'box', type: 'vigie-outbox', z: 'tab', broker: 'broker', wires: [['pub']] },
          { id: 'pub', type: 'mqtt out', z: 'tab', topic: 'vigie/test/detection', qos: '1', retain: 'false', broker: 'broker', wires: [] },
        ],
      );
      const box = helper.getNode('box');
      const broker = helper.getNode('broker');
      await waitFor(() => broker.connected === true, 10_000, 'Node-RED connected to the broker');
      box.receive({ payload: 'before' });
      await waitFor(() => seen.length === 1, 10_000, 'published while connected');
      // The deploy's first connect is no fault: yellow, never red (the mqtt out registers with the broker after this node starts).
      // (the status spy is shared by every node: this one's calls are those made on it)
      const boxStatuses = () => box.status.getCalls().filter((c: Any) => c.thisValue === box).map((c: Any) => c.args[0]);
      const beforeOutage = boxStatuses();
      assert.deepEqual(beforeOutage[0], { fill: 'yellow', shape: 'ring', text: 'connecting: 0 waiting' });
      assert.equal(beforeOutage.some((st: Any) => st.fill === 'red'), false, JSON.stringify(beforeOutage));

      await mq.stop();
      await waitFor(() => broker.connected === false, 10_000, 'Node-RED sees the broker gone');
      for (let i = 1; i <= 5; i++) box.receive({ payload: `during-${i}` });
      await waitFor(() => box.status.lastCall?.args[0].text === 'broker down: 5 waiting', 10_000, 'the five kept');
      assert.deepEqual(boxStatuses().pop(), { fill: 'red', shape: 'ring', text: 'broker down: 5 waiting' }, 'an outage is a fault');
      let refused = 0;
      mq.admit = (id) => (id === 'outbox-test-publisher' ? (refused++, false) : true);
      await mq.start();
      await sub.subscribeAsync('vigie/test/#', { qos: 1 }); // aedes forgot the subscription
      await waitFor(() => refused >= 2, 10_000, 'Node-RED trying again, kept out of the broker back');
      assert.deepEqual(seen, ['before'], 'nothing while Node-RED is kept out');
      mq.admit = () => true;
      await waitFor(() => seen.length === 6, 15_000, 'the five kept messages published');
      box.receive({ payload: 'after' });
      await waitFor(() => seen.length === 7, 10_000, 'the next one');
      assert.deepEqual(seen, ['before', 'during-1', 'during-2', 'during-3', 'during-4', 'during-5', 'after']);
      assert.deepEqual(warningsOf(helper, 'box'), []);
    } finally {
      helper.settings({ userDir });
      await sub.endAsync(true);
      await helper.unload();
      await mq.stop();
    }
  });

  it('a burst of alert copies and decisions while the broker is gone, and a crash: once it is back every decision and the latest copy of every alert are published, each alert where its first copy stood', { timeout: 40_000 }, async () => {
    const port = await freePort();
    const mq = restartableBroker(port);
    await mq.start();
    const url = `mqtt://127.0.0.1:${port}`;
    const seen: string[] = [];
    const sub = await mqtt.connectAsync(url, { clientId: 'outbox-burst-subscriber', reconnectPeriod: 100 });
    const nameOf = (p: Any) => (p.kind === 'decision' ? `D(${p.alertId})` : `${p.id}#${p.camera.copy}`);
    sub.on('message', (_t, p) => seen.push(nameOf(JSON.parse(p.toString()))));
    await sub.subscribeAsync('vigie/v1/test/#', { qos: 1 });
    helper.settings({ userDir, mqttReconnectTime: 300 });
    // As in the control-room flow: alerts and decisions through one outbox and one mqtt out (topic from msg.topic).
    const flow = [
      { id: 'tab', type: 'tab' },
      { id: 'broker', type: 'mqtt-broker', name: 'test broker', broker: '127.0.0.1', port: String(port), clientid: 'outbox-burst-publisher', autoConnect: true, usetls: false, protocolVersion: '4', keepalive: '60', cleansession: true },
      // 8 alerts x 6 copies and 4 decisions would be 52 messages: without merging, 20 places would drop decisions.
      { id: 'box', type: 'vigie-outbox', z: 'tab', broker: 'broker', maxMessages: 20, wires: [['pub']] },
      { id: 'pub', type: 'mqtt out', z: 'tab', topic: '', qos: '1', retain: 'false', broker: 'broker', wires: [] },
    ];
    const alertCopy = (id: string, copy: number) => ({
      topic: 'vigie/v1/test/alert',
      payload: { kind: 'detection', id, label: 'explosion', location: { method: 'tdoa', sensors: ['s1', 's2', 's3'] }, camera: { state: copy < 6 ? 'waiting' : 'on-target', copy } },
    });
    const decision = (alertId: string) => ({ topic: 'vigie/v1/test/decision', payload: { kind: 'decision', alertId, action: 'dismiss', operator: 'op', time: 1 } });
    try {
      await helper.load([mqttNodes, outboxNode], flow);
      let box = helper.getNode('box');
      let broker = helper.getNode('broker');
      const boxStatuses = () => box.status.getCalls().filter((c: Any) => c.thisValue === box).map((c: Any) => c.args[0]);
      await waitFor(() => boxStatuses().pop()?.fill === 'green', 10_000, 'the outbox seeing the broker connected');
      await mq.stop();
      await waitFor(() => broker.connected === false, 10_000, 'Node-RED sees the broker gone');
      // Each alert re-published as it is enriched, the next ones raised meanwhile; operators decide on some.
      const expected: string[] = [];
      const file = path.join(userDir, 'vigie-outbox-box.json');
      const names = () => (fs.existsSync(file) ? readKeptFile(file).entries.map((e) => nameOf(e.item.payload)) : []);
      for (let copy = 1; copy <= 6; copy++) {
        // The first copies written before the next come: those are then written as replacements.
        if (copy === 2) await waitFor(() => names().length === 9, 10_000, 'the first copies written');
        for (let i = 0; i < 8; i++) {
          box.receive(alertCopy(`a${i}`, copy));
          if (copy === 1) expected.push(`a${i}#6`);
          if (copy <= 4 && i === 2 * copy - 1) {
            box.receive(decision(`a${i}`));
            expected.push(`D(a${i})`);
          }
        }
      }
      // The decision on a1 came in the first round, those on a3, a5 and a7 after their 2nd, 3rd and 4th copies.
      assert.deepEqual(expected, ['a0#6', 'a1#6', 'D(a1)', 'a2#6', 'a3#6', 'a4#6', 'a5#6', 'a6#6', 'a7#6', 'D(a3)', 'D(a5)', 'D(a7)']);
      await waitFor(() => boxStatuses().pop()?.text === 'broker down: 12 waiting, 40 copies replaced', 10_000, 'twelve waiting, forty copies replaced').catch((err) => {
        throw new Error(`${err.message}: ${JSON.stringify(boxStatuses().slice(-3))}`);
      });
      assert.equal(boxStatuses().pop().fill, 'red');
      // An outage's refused connection is for the log (the status says "broker down"), at most once: no warning.
      assert.deepEqual(warningsOf(helper, 'box'), [], 'nothing dropped');
      const unreachable = loggedBy(helper, 'box', 'INFO').filter((l) => l.includes('cannot connect'));
      assert.ok(unreachable.length <= 1 && unreachable.every((l) => /^broker test broker: cannot connect: nothing accepts connections .*\(ECONNREFUSED\)$/.test(l)), JSON.stringify(unreachable));

      // A crash: the journal as it is once written, then the process gone (no close to rewrite it).
      await waitFor(() => names().length === 12 && names().every((n, i) => n === expected[i]), 10_000, 'the journal written');
      const journal = fs.readFileSync(file);
      assert.match(journal.toString(), /"replace":/, 'copies written as replacements');
      await helper.unload();
      fs.writeFileSync(file, journal);

      let refused = 0;
      mq.admit = (id) => (id === 'outbox-burst-publisher' ? (refused++, false) : true);
      await mq.start();
      await sub.subscribeAsync('vigie/v1/test/#', { qos: 1 }); // aedes forgot the subscription
      await helper.load([mqttNodes, outboxNode], flow);
      box = helper.getNode('box');
      broker = helper.getNode('broker');
      await waitFor(() => refused >= 1, 10_000, 'Node-RED kept out of the broker');
      box.receive(alertCopy('a0', 7)); // one more copy, after the restart: still a0's place
      expected[0] = 'a0#7';
      mq.admit = () => true;
      await waitFor(() => seen.length >= 12, 15_000, 'what waited published');
      await sleep(500); // nothing more behind
      assert.deepEqual(seen, expected);
      assert.deepEqual(warningsOf(helper, 'box'), []);
    } finally {
      helper.settings({ userDir });
      await sub.endAsync(true);
      await helper.unload();
      await mq.stop();
    }
  });

  /** Node-RED with an outbox and its mqtt out publishing to an aedes broker, a subscriber counting what arrives. */
  async function publishingFlow(clientPrefix: string, opts: { withMqttIn?: boolean } = {}) {
    const port = await freePort();
    const mq = restartableBroker(port);
    await mq.start();
    const seen: string[] = [];
    const sub = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: `${clientPrefix}-subscriber` });
    sub.on('message', (_t, p) => seen.push(p.toString()));
    await sub.subscribeAsync('vigie/test/#', { qos: 1 });
    const flow = (pub: Record<string, unknown> = {}) => [
      { id: 'tab', type: 'tab' },
      { id: 'broker', type: 'mqtt-broker', name: 'test broker', broker: '127.0.0.1', port: String(port), clientid: `${clientPrefix}-publisher`, autoConnect: true, usetls: false, protocolVersion: '4', keepalive: '60', cleansession: true },
      { id: 'box', type: 'vigie-outbox', z: 'tab', broker: 'broker', wires: [['pub']] },
      { id: 'pub', type: 'mqtt out', z: 'tab', name: 'detections', topic: 'vigie/test/detection', qos: '1', retain: 'false', broker: 'broker', wires: [], ...pub },
      // As in the control room: an mqtt in on the same broker keeps it connected whatever the mqtt out does.
      ...(opts.withMqttIn ? [{ id: 'sub', type: 'mqtt in', z: 'tab', topic: 'vigie/other/#', qos: '1', datatype: 'auto-detect', broker: 'broker', nl: false, rap: true, rh: 0, inputs: 0, wires: [] }] : []),
    ];
    await helper.load([mqttNodes, outboxNode], flow());
    const box = helper.getNode('box');
    const broker = helper.getNode('broker');
    const boxStatuses = () => box.status.getCalls().filter((c: Any) => c.thisValue === box).map((c: Any) => c.args[0]);
    await waitFor(() => boxStatuses().pop()?.text === 'connected', 10_000, 'the outbox seeing the broker connected');
    const close = async () => {
      await sub.endAsync(true);
      await helper.unload();
      await mq.stop();
    };
    return { flow, box, broker, seen, boxStatuses, close };
  }

  it('the mqtt out redeployed (modified nodes) while a message is sent to it: the broker connected all along, that message is sent again and published, and the outbox goes on', { timeout: 30_000 }, async () => {
    const { flow, box, broker, seen, boxStatuses, close } = await publishingFlow('outbox-redeploy');
    try {
      box.receive({ payload: 'before' });
      await waitFor(() => seen.length === 1, 10_000, 'published');
      // Sent while the mqtt out is stopped for the deploy: Node-RED drops it without a word.
      helper._events.once('flows:stopped', () => box.receive({ payload: 'during-deploy' }));
      const oldPub = helper.getNode('pub');
      await helper.setFlows(flow({ name: 'detections renamed' }), 'nodes');
      await waitFor(() => helper.getNode('pub') && helper.getNode('pub') !== oldPub, 10_000, 'the mqtt out restarted');
      assert.equal(helper.getNode('box'), box, 'the outbox itself not restarted');
      assert.equal(broker.connected, true, 'the broker stayed connected');
      box.receive({ payload: 'after' });
      await waitFor(() => seen.includes('during-deploy') && seen.includes('after'), 15_000, 'both published').catch((err) => {
        throw new Error(`${err.message}: ${JSON.stringify(seen)} ${JSON.stringify(boxStatuses().slice(-3))}`);
      });
      await waitFor(() => boxStatuses().pop()?.text === 'connected', 10_000, 'green again');
      assert.deepEqual(boxStatuses().pop(), { fill: 'green', shape: 'dot', text: 'connected' });
      assert.deepEqual(warningsOf(helper, 'box'), []);
    } finally {
      await close();
    }
  });

  it('the mqtt out disabled, the broker connected: what is sent meanwhile waits ("mqtt out stopped"), and once it is enabled again all is published, in order', { timeout: 40_000 }, async () => {
    const { flow, box, broker, seen, boxStatuses, close } = await publishingFlow('outbox-disabled', { withMqttIn: true });
    try {
      box.receive({ payload: 'before' });
      await waitFor(() => seen.length === 1, 10_000, 'published');
      await helper.setFlows(flow({ d: true }), 'nodes');
      await waitFor(() => !helper.getNode('pub'), 10_000, 'the mqtt out disabled');
      const sent: string[] = [];
      for (let i = 1; i <= 120; i++) {
        sent.push(`m${i}`);
        box.receive({ payload: `m${i}` });
      }
      await waitFor(() => boxStatuses().pop()?.text === 'mqtt out stopped: 120 waiting', 10_000, 'kept while the mqtt out is stopped').catch((err) => {
        throw new Error(`${err.message}: ${JSON.stringify(boxStatuses().slice(-3))}`);
      });
      assert.equal(boxStatuses().pop().fill, 'yellow');
      assert.equal(broker.connected, true, 'the broker stayed connected (the mqtt in uses it)');
      await helper.setFlows(flow(), 'nodes');
      await waitFor(() => seen.length === 121, 20_000, 'all published once it is enabled again').catch((err) => {
        throw new Error(`${err.message}: ${seen.length} seen, ${JSON.stringify(boxStatuses().slice(-3))}`);
      });
      assert.deepEqual(seen, ['before', ...sent]);
      box.receive({ payload: 'after' });
      await waitFor(() => seen.length === 122, 10_000, 'the next one');
      await waitFor(() => boxStatuses().pop()?.text === 'connected', 10_000, 'green again');
      assert.deepEqual(warningsOf(helper, 'box'), []);
    } finally {
      await close();
    }
  });

  it('warns when the mqtt out it feeds publishes through another broker', async () => {
    await helper.load(
      [mqttNodes, outboxNode],
      [
        { id: 'tab', type: 'tab' },
        { id: 'b1', type: 'mqtt-broker', broker: '127.0.0.1', port: '1', autoConnect: false },
        { id: 'b2', type: 'mqtt-broker', broker: '127.0.0.1', port: '2', autoConnect: false },
        { id: 'box', type: 'vigie-outbox', z: 'tab', broker: 'b1', wires: [['pub']] },
        { id: 'pub', type: 'mqtt out', z: 'tab', name: 'detections', topic: 'x', broker: 'b2', wires: [] },
      ],
    );
    await waitFor(() => warningsOf(helper, 'box').length > 0, 3000, 'a warning');
    assert.match(warningsOf(helper, 'box')[0], /setting broker: this node watches b1 but the mqtt out "detections" it feeds publishes through b2/);
  });
});

describe("vigie-outbox with Node-RED's mqtt out and a real Mosquitto behind a link that goes quiet", () => {
  it("what the broker never acknowledged stays in the outbox and its file: Node-RED stopped while the link carries nothing, started again with the link back, it is published", { timeout: 60_000 }, async () => {
    const mosq = await createMosquitto();
    const relay = await startTcpRelay(mosq.port);
    const seen: string[] = [];
    const sub = await mqtt.connectAsync(mosq.url, { clientId: 'outbox-quiet-subscriber', username: mosq.user, password: mosq.password });
    sub.on('message', (_t, p) => seen.push(p.toString()));
    await sub.subscribeAsync('vigie/test/#', { qos: 1 });
    const flow = [
      { id: 'tab', type: 'tab' },
      { id: 'broker', type: 'mqtt-broker', name: 'test broker', broker: '127.0.0.1', port: String(relay.port), clientid: 'outbox-quiet-publisher', autoConnect: true, usetls: false, protocolVersion: '4', keepalive: '60', cleansession: true },
      { id: 'box', type: 'vigie-outbox', z: 'tab', broker: 'broker', wires: [['pub']] },
      { id: 'pub', type: 'mqtt out', z: 'tab', topic: 'vigie/test/detection', qos: '1', retain: 'false', broker: 'broker', wires: [] },
    ];
    const credentials = { broker: { user: mosq.user, password: mosq.password } };
    const file = path.join(userDir, 'vigie-outbox-box.json');
    helper.settings({ userDir, mqttReconnectTime: 300 });
    try {
      await helper.load([mqttNodes, outboxNode], flow, credentials);
      let box = helper.getNode('box');
      let broker = helper.getNode('broker');
      const boxStatuses = () => box.status.getCalls().filter((c: Any) => c.thisValue === box).map((c: Any) => c.args[0]);
      await waitFor(() => broker.connected === true, 10_000, 'Node-RED connected through the link');
      box.receive({ payload: 'before' });
      await waitFor(() => seen.length === 1, 10_000, 'published while the link carries');
      await waitFor(() => boxStatuses().pop()?.text === 'connected', 10_000, 'green once acknowledged');
      assert.equal(fs.existsSync(file), false, 'nothing in flight, nothing waiting: no file');

      relay.silence();
      box.receive({ payload: 'during-1' });
      box.receive({ payload: 'during-2' });
      await waitFor(() => boxStatuses().pop()?.text === "sending: 2 waiting for the broker's acknowledgement", 15_000, 'the acknowledgements late').catch((err) => {
        throw new Error(`${err.message}: ${JSON.stringify(boxStatuses().slice(-3))}`);
      });
      assert.deepEqual(boxStatuses().pop(), { fill: 'yellow', shape: 'dot', text: "sending: 2 waiting for the broker's acknowledgement" });
      assert.equal(broker.connected, true, 'the MQTT client still says connected');
      assert.deepEqual(seen, ['before'], 'nothing crossed the quiet link');

      // Node-RED stopped (docker stop, a redeploy) before the link comes back.
      await helper.unload();
      assert.deepEqual(
        readKeptFile(file).entries.map((e) => e.item.payload),
        ['during-1', 'during-2'],
        'the unacknowledged messages kept in the file',
      );
      relay.restore();
      await helper.load([mqttNodes, outboxNode], flow, credentials);
      box = helper.getNode('box');
      broker = helper.getNode('broker');
      await waitFor(() => seen.length === 3, 15_000, 'the kept messages published after the restart');
      assert.deepEqual(seen, ['before', 'during-1', 'during-2']);
      await waitFor(() => !fs.existsSync(file), 10_000, 'the file gone once the broker acknowledged them');
      assert.deepEqual(warningsOf(helper, 'box'), []);
    } finally {
      helper.settings({ userDir });
      await sub.endAsync(true);
      await helper.unload();
      await relay.close();
      await mosq.stop();
    }
  });
});

describe('vigie-outbox and a second client with the same client id on a real Mosquitto', () => {
  it('the broker putting one off for the other again and again (MQTT 3.1.1, no reason given): one warning names the client id and VIGIE_MQTT_CLIENT_ID', { timeout: 60_000 }, async () => {
    const mosq = await createMosquitto();
    const clientId = 'vigie-control-room-clash';
    const flow = [
      { id: 'tab', type: 'tab' },
      { id: 'broker', type: 'mqtt-broker', name: 'test broker', broker: '127.0.0.1', port: String(mosq.port), clientid: clientId, autoConnect: true, usetls: false, protocolVersion: '4', keepalive: '60', cleansession: false },
      { id: 'box', type: 'vigie-outbox', z: 'tab', broker: 'broker', persist: false, wires: [['pub']] },
      { id: 'pub', type: 'mqtt out', z: 'tab', topic: 'vigie/test/decision', qos: '1', retain: 'false', broker: 'broker', wires: [] },
    ];
    helper.settings({ userDir, mqttReconnectTime: 300 });
    let rival: mqtt.MqttClient | undefined;
    try {
      await helper.load([mqttNodes, outboxNode], flow, { broker: { user: mosq.user, password: mosq.password } });
      const broker = helper.getNode('broker');
      await waitFor(() => broker.connected === true, 10_000, 'Node-RED connected');
      assert.deepEqual(warningsOf(helper, 'box'), [], 'nothing said while alone on its client id');
      // A second control room started with the same id: each connect takes the other's session over.
      rival = mqtt.connect(mosq.url, { clientId, clean: false, username: mosq.user, password: mosq.password, reconnectPeriod: 300 });
      const clash = () => warningsOf(helper, 'box').filter((w) => w.includes('the connection was closed'));
      await waitFor(() => clash().length > 0, 30_000, 'the warning of a client id in use twice');
      assert.match(clash()[0], /^broker test broker: the connection was closed 3 times within minutes, each within 30 s of connecting, .*: most likely another client uses the same client id "vigie-control-room-clash" .*Give each control room its own VIGIE_MQTT_CLIENT_ID/);
      // The ping-pong goes on: said once.
      const drops = () => (mosq.log().match(/already connected, closing old connection/g) ?? []).length;
      const dropsThen = drops();
      await waitFor(() => drops() >= dropsThen + 4, 30_000, 'more takeovers');
      assert.equal(clash().length, 1, 'said once');
    } finally {
      helper.settings({ userDir });
      await rival?.endAsync(true);
      await helper.unload();
      await mosq.stop();
    }
  });
});

describe('vigie-outbox and a message over the broker\'s packet size limit on a real Mosquitto', () => {
  it('MQTT 3.1.1: the broker closes the connection at each sending without a word; the outbox warns of the connection closed again and again, naming the packet size limit', { timeout: 60_000 }, async () => {
    const mosq = await createMosquitto({ extraConfig: ['max_packet_size 2000'] });
    const seen: string[] = [];
    const sub = await mqtt.connectAsync(mosq.url, { clientId: 'outbox-size-subscriber', username: mosq.user, password: mosq.password });
    sub.on('message', (_t, p) => seen.push(p.toString().slice(0, 20)));
    await sub.subscribeAsync('vigie/test/#', { qos: 1 });
    const flow = [
      { id: 'tab', type: 'tab' },
      { id: 'broker', type: 'mqtt-broker', name: 'test broker', broker: '127.0.0.1', port: String(mosq.port), clientid: '', autoConnect: true, usetls: false, protocolVersion: '4', keepalive: '60', cleansession: true },
      { id: 'box', type: 'vigie-outbox', z: 'tab', broker: 'broker', persist: false, wires: [['pub']] },
      { id: 'pub', type: 'mqtt out', z: 'tab', topic: 'vigie/test/detection', qos: '1', retain: 'false', broker: 'broker', wires: [] },
    ];
    helper.settings({ userDir, mqttReconnectTime: 300 });
    try {
      await helper.load([mqttNodes, outboxNode], flow, { broker: { user: mosq.user, password: mosq.password } });
      const box = helper.getNode('box');
      const broker = helper.getNode('broker');
      await waitFor(() => broker.connected === true, 10_000, 'Node-RED connected');
      box.receive({ payload: 'x'.repeat(5000) });
      box.receive({ payload: 'small-after' });
      const closedAgain = () => warningsOf(helper, 'box').filter((w) => w.includes('the connection was closed'));
      await waitFor(() => closedAgain().length > 0, 30_000, 'the warning of the connection closed again and again').catch((err) => {
        throw new Error(`${err.message}: ${JSON.stringify(warningsOf(helper, 'box'))} ${JSON.stringify(box.status.getCalls().map((c: Any) => c.args[0].text).slice(-5))}\n${mosq.log().slice(-2500)}`);
      });
      assert.match(closedAgain()[0], /^broker test broker: the connection was closed 3 times .*: the broker puts this client off, perhaps for a message larger than its packet size limit/);
      assert.match(mosq.log(), /disconnected due to oversize packet/);
      // The reset after the broker's CONNACK is not worded as an address or TLS fault.
      assert.deepEqual(warningsOf(helper, 'box').filter((w) => w.includes('cannot connect')), []);
      assert.ok(warningsOf(helper, 'box').some((w) => /^broker test broker: connection failed: the broker closed the connection after accepting the login: /.test(w)), JSON.stringify(warningsOf(helper, 'box')));
    } finally {
      helper.settings({ userDir });
      await sub.endAsync(true);
      await helper.unload();
      await mosq.stop();
    }
  });
});
