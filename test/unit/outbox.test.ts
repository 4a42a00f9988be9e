/**
 * The outbox behind vigie-outbox: order, the two bounds, drops told once per episode, and a
 * flush cut short by a disconnect keeps the rest. The clock is the test's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DropEvent, Outbox } from '../../lib/util/outbox';

function make(opts: { maxMessages?: number; maxAgeMs?: number } = {}) {
  let now = 1_000_000;
  const drops: DropEvent[] = [];
  const box = new Outbox<string>({ ...opts, nowMs: () => now, onDrop: (e) => drops.push(e) });
  const sent: string[] = [];
  return {
    box,
    sent,
    drops,
    send: (m: string) => sent.push(m),
    advanceMs: (ms: number) => (now += ms),
  };
}

test('open and nothing waiting: a message passes at once; closed: it is kept', () => {
  const { box, sent, send } = make();
  assert.equal(box.offer('a', true, send), true);
  assert.deepEqual(sent, ['a']);
  assert.equal(box.offer('b', false, send), false);
  assert.deepEqual(sent, ['a']);
  assert.equal(box.size, 1);
  assert.equal(box.inEpisode, true);
});

test('kept messages go out oldest first; what arrives meanwhile queues behind them, even with the way open', () => {
  const { box, sent, send } = make();
  for (const m of ['1', '2', '3']) box.offer(m, false, send);
  // The way is open again but the flush has not run yet: a new message must not overtake.
  assert.equal(box.offer('4', true, send), false);
  assert.equal(box.flush(() => true, send, 2), 2);
  box.offer('5', true, send); // during the flush
  box.flush(() => true, send);
  assert.deepEqual(sent, ['1', '2', '3', '4', '5']);
  assert.equal(box.size, 0);
  assert.equal(box.inEpisode, false, 'emptied into an open way: the episode is over');
  assert.equal(box.offer('6', true, send), true, 'then messages pass at once again');
});

test('a flush cut short by a disconnect keeps the rest, in order, for the next one', () => {
  const { box, sent, send } = make();
  for (let i = 1; i <= 5; i++) box.push(String(i));
  let open = true;
  const sendThenDrop = (m: string) => {
    send(m);
    if (m === '2') open = false; // the connection drops after the second
  };
  assert.equal(box.flush(() => open, sendThenDrop), 2, 'the way is asked before each message');
  assert.deepEqual(sent, ['1', '2']);
  assert.equal(box.size, 3);
  assert.equal(box.flush(() => false, send), 0, 'nothing goes out while closed');
  box.flush(() => true, send);
  assert.deepEqual(sent, ['1', '2', '3', '4', '5']);
});

test('messages in flight when the way closed go back to the front, in order; settled while open they are done with', () => {
  const { box, sent, send } = make();
  box.offer('a', true, send);
  box.offer('b', true, send);
  assert.equal(box.inFlightCount, 2);
  assert.equal(box.settle(true), 0);
  assert.equal(box.inFlightCount, 0);

  box.offer('c', true, send);
  box.offer('d', true, send);
  box.offer('e', false, send); // the way closed after c and d were handed on
  assert.equal(box.settle(false), 2);
  assert.equal(box.size, 3);
  box.flush(() => true, send);
  box.settle(true);
  assert.deepEqual(sent, ['a', 'b', 'c', 'd', 'c', 'd', 'e'], 'c and d again (they may have been lost), then e');
});

test('beyond maxMessages the oldest are dropped and counted; told once per episode', () => {
  const { box, sent, send, drops } = make({ maxMessages: 3 });
  for (let i = 1; i <= 6; i++) box.offer(String(i), false, send);
  assert.equal(box.size, 3);
  assert.equal(box.droppedInEpisode, 3);
  assert.deepEqual(
    drops.map((d) => [d.count, d.reason, d.firstInEpisode]),
    [
      [1, 'maxMessages', true],
      [1, 'maxMessages', false],
      [1, 'maxMessages', false],
    ],
  );
  box.flush(() => true, send);
  assert.deepEqual(sent, ['4', '5', '6'], 'the newest three, in order');
  assert.equal(box.droppedInEpisode, 3, 'the last episode keeps its count for the status');

  // A new outage: a new episode, whose first drop is told again.
  for (let i = 7; i <= 10; i++) box.offer(String(i), false, send);
  assert.equal(box.droppedInEpisode, 1);
  assert.equal(drops.reduce((n, d) => n + d.count, 0), 4, 'four dropped in all');
  assert.deepEqual(
    drops.filter((d) => d.firstInEpisode).map((d) => d.count),
    [1, 1],
  );
});

test('beyond maxAgeMs the oldest are dropped, at age() and before a flush; a long outage stays one episode', () => {
  const { box, sent, send, drops, advanceMs } = make({ maxAgeMs: 60_000 });
  box.offer('old', false, send);
  advanceMs(30_000);
  box.offer('mid', false, send);
  advanceMs(30_000);
  assert.equal(box.age(), 0, 'exactly maxAgeMs old is still kept');
  assert.deepEqual(box.entries().map((e) => e.keptAtMs), [1_000_000, 1_030_000], 'kept 60 s and 30 s ago');
  advanceMs(1);
  assert.equal(box.age(), 1);
  assert.equal(box.size, 1);
  advanceMs(30_000);
  box.offer('new', false, send);
  assert.equal(box.flush(() => true, send), 1, 'mid, now too old, is dropped before the flush');
  assert.deepEqual(sent, ['new']);
  assert.deepEqual(
    drops.map((d) => [d.count, d.reason, d.firstInEpisode]),
    [
      [1, 'maxAge', true],
      [1, 'maxAge', false],
    ],
  );

  // Broker down for hours, a message now and then, each one aging out: still one episode (one warning).
  const hours = make({ maxAgeMs: 60_000 });
  for (let i = 0; i < 5; i++) {
    hours.box.offer(String(i), false, hours.send);
    hours.advanceMs(120_000);
    hours.box.age();
    hours.box.flush(() => false, hours.send);
  }
  assert.equal(hours.drops.length, 5);
  assert.equal(hours.drops.filter((d) => d.firstInEpisode).length, 1);
});

test('many messages: bounded, in order, and cleared on close', () => {
  const { box, sent, send } = make({ maxMessages: 10_000 });
  for (let i = 0; i < 25_000; i++) box.offer(String(i), false, send);
  assert.equal(box.size, 10_000);
  let n = 0;
  while (box.size) n += box.flush(() => true, send, 700);
  assert.equal(n, 10_000);
  assert.equal(sent[0], '15000');
  assert.equal(sent[9999], '24999');
  assert.ok(sent.every((m, i) => Number(m) === 15_000 + i), 'in order');
  box.settle(true);
  for (let i = 0; i < 4; i++) box.push(String(i));
  box.flush(() => true, send, 1);
  assert.equal(box.clear(), 4, 'three waiting and one in flight');
  assert.equal(box.size, 0);
  assert.deepEqual(box.entries(), []);
});

test('bounds must be positive', () => {
  assert.throws(() => new Outbox({ maxMessages: 0 }), /maxMessages/);
  assert.throws(() => new Outbox({ maxMessages: 1.5 }), /maxMessages/);
  assert.throws(() => new Outbox({ maxAgeMs: 0 }), /maxAgeMs/);
});

test('what a run kept (in flight and waiting) is restored in front of what came since, within the bounds', () => {
  let now = 1_000_000;
  const drops: DropEvent[] = [];
  const first = new Outbox<string>({ nowMs: () => now, maxMessages: 4, maxAgeMs: 60_000 });
  const sent: string[] = [];
  first.offer('a', true, (m) => sent.push(m)); // in flight, not yet known to be sent
  for (const m of ['b', 'c']) first.offer(m, false, (x) => sent.push(x));
  const saved = JSON.parse(JSON.stringify(first.entries()));
  assert.deepEqual(saved.map((e: { item: string }) => e.item), ['a', 'b', 'c']);

  now += 30_000;
  const next = new Outbox<string>({ nowMs: () => now, maxMessages: 4, maxAgeMs: 60_000, onDrop: (e) => drops.push(e) });
  next.offer('d', false, () => undefined);
  next.offer('e', false, () => undefined);
  next.restore(saved);
  // Five for four places: the oldest goes, told once.
  assert.deepEqual(next.entries().map((e) => e.item), ['b', 'c', 'd', 'e']);
  assert.deepEqual(drops.map((d) => [d.count, d.reason]), [[1, 'maxMessages']]);
  // Their age counts from when the first run kept them.
  now += 40_000;
  assert.equal(next.age(), 2);
  const out: string[] = [];
  next.flush(() => true, (m) => out.push(m));
  assert.deepEqual(out, ['d', 'e']);
});
