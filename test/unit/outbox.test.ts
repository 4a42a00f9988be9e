/**
 * The outbox behind vigie-outbox: order, the two bounds, drops told once per episode, and a
 * flush cut short by a disconnect keeps the rest. The clock is the test's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DropEvent, Kept, Outbox } from '../../lib/util/outbox';
import { alertCopyKeyOf, isDecision } from '../../lib/util/outbox-rules';

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
  box.settle(true); // acknowledged
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
  let now = Date.UTC(2026, 10, 30, 12);
  const drops: DropEvent[] = [];
  const first = new Outbox<string>({ nowMs: () => now, maxMessages: 4, maxAgeMs: 60_000 });
  const sent: string[] = [];
  first.offer('a', true, (m) => sent.push(m)); // in flight, not yet known to be sent
  for (const m of ['b', 'c']) first.offer(m, false, (x) => sent.push(x));
  // As the file keeps them: the item and its wall time.
  const saved = first.entries().map((e) => ({ item: e.item, keptAtMs: e.keptAtMs }));
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

test('ages are real time held: a wall clock stepped by NTP (from 1970, or back) neither drops nor keeps a message longer; restored messages are judged by a plausible written time only', () => {
  const DAY = 86_400_000;
  let wall = 12_000; // a gateway without a battery clock, just booted
  let mono = 0;
  const drops: DropEvent[] = [];
  const box = new Outbox<string>({ maxAgeMs: 3_600_000, nowMs: () => wall, monotonicNow: () => mono, onDrop: (e) => drops.push(e) });
  box.offer('before-sync', false, () => undefined);
  mono += 1000;
  wall = Date.UTC(2026, 10, 30, 12); // NTP answers: 56 years in a second
  assert.equal(box.age(), 0, 'kept one second, not 56 years');
  mono += 3_600_001;
  assert.equal(box.age(), 1, 'and dropped once really held beyond maxAgeMs');
  assert.deepEqual(drops.map((d) => [d.count, d.reason]), [[1, 'maxAge']]);

  // After a restart: the written times say how old, when they and the clock can be right.
  const next = new Outbox<string>({ maxAgeMs: 3_600_000, nowMs: () => wall, monotonicNow: () => mono });
  next.restore([
    { item: 'written-1970', keptAtMs: 40_000 },
    { item: 'written-50-min-ago', keptAtMs: wall - 50 * 60_000 },
    { item: 'written-in-the-future', keptAtMs: wall + DAY },
  ]);
  mono += 11 * 60_000;
  assert.equal(next.age(), 0, 'the head (1970, not judged) is not old: nothing behind it goes before it');
  const later = new Outbox<string>({ maxAgeMs: 3_600_000, nowMs: () => wall, monotonicNow: () => mono });
  later.restore([
    { item: 'written-50-min-ago', keptAtMs: wall - 50 * 60_000 },
    { item: 'written-in-the-future', keptAtMs: wall + DAY },
  ]);
  mono += 11 * 60_000;
  assert.equal(later.age(), 1, 'fifty minutes then eleven: over the hour');
  assert.deepEqual(later.entries().map((e) => e.item), ['written-in-the-future'], 'a time in the future ages from the restart');
  mono += 50 * 60_000;
  assert.equal(later.age(), 1, 'and goes once held maxAgeMs since the restart, not a day later');
});

// --- Later copies of an alert, and decisions (the rules of lib/util/outbox-rules.ts) ---

type Msg = { topic: string; payload: Record<string, unknown> };
const ALERTS = 'vigie/v1/site/alert';
/** Copy `copy` of alert `id` (each copy is the whole alert, enriched a little more). */
const alert = (id: string, copy: number): Msg => ({ topic: ALERTS, payload: { kind: 'detection', id, location: { method: 'tdoa', sensors: ['s1'] }, camera: { state: `copy-${copy}` } } });
const decision = (alertId: string): Msg => ({ topic: 'vigie/v1/site/decision', payload: { kind: 'decision', alertId, action: 'dismiss', operator: 'op', time: 1 } });
/** A short name for what a message is: "A3" for copy 3 of alert A, "D(A)" for a decision on A. */
const nameOf = (m: Msg) => (m.payload.kind === 'decision' ? `D(${m.payload.alertId})` : `${m.payload.id}${String((m.payload.camera as { state: string }).state).slice(5)}`);

function makeVigie(opts: { maxMessages?: number } = {}) {
  const drops: DropEvent[] = [];
  const box = new Outbox<Msg>({ ...opts, onDrop: (e) => drops.push(e), supersedeKeyOf: alertCopyKeyOf, keepLongest: isDecision });
  const sent: string[] = [];
  return { box, drops, sent, send: (m: Msg) => sent.push(nameOf(m)) };
}

test('a later copy of an alert replaces the waiting one in its place (decisions queued behind it stay behind); decisions are never merged', () => {
  const { box, sent, send } = makeVigie();
  for (const m of [alert('A', 1), alert('B', 1), decision('A'), alert('A', 2), alert('C', 1), decision('A'), alert('B', 2), decision('B'), alert('A', 3)]) box.offer(m, false, send);
  assert.equal(box.size, 6, 'three alerts, three decisions');
  assert.equal(box.replacedInEpisode, 3);
  assert.deepEqual(box.entries().map((e) => e.replacedCopies ?? 0), [2, 1, 0, 0, 0, 0]);
  box.flush(() => true, send);
  assert.deepEqual(sent, ['A3', 'B2', 'D(A)', 'C1', 'D(A)', 'D(B)'], 'the latest copy of each alert where its first stood');
});

test('only alerts (kind "detection" with an id and a location, on the same topic) supersede; other messages are events', () => {
  const { box } = makeVigie();
  const located = alert('X', 1);
  const items: Msg[] = [
    located,
    { topic: 'vigie/v1/other-site/alert', payload: located.payload }, // another topic
    { topic: ALERTS, payload: { ...located.payload, id: 'Y' } }, // another id
    { topic: ALERTS, payload: { kind: 'detection', id: 'X' } }, // no location
    { topic: ALERTS, payload: { kind: 'detection', id: 'X' } },
    decision('X'),
    decision('X'), // the same decision twice is two events
    { topic: ALERTS, payload: 'X' as unknown as Record<string, unknown> },
  ];
  for (const m of items) box.push(m);
  assert.equal(box.size, items.length);
  assert.equal(box.replacedInEpisode, 0);
  assert.equal(alertCopyKeyOf({ topic: ALERTS, payload: { kind: 'detection', id: '', location: {} } }), undefined, 'an empty id');
  assert.equal(alertCopyKeyOf({ payload: located.payload }), undefined, 'no topic');
});

test('a copy that came while the earlier one was in flight replaces it when the in-flight one comes back', () => {
  const { box, sent, send } = makeVigie();
  box.offer(alert('A', 1), true, send); // handed on...
  box.offer(alert('B', 1), false, send); // ...and the way closed
  box.offer(alert('A', 2), false, send); // not merged with the one in flight: it may be published already
  assert.equal(box.size, 2);
  assert.equal(box.settle(false), 1, 'A1 was not published after all');
  assert.equal(box.size, 2, 'A back at the front, its later copy merged into it');
  assert.equal(box.replacedInEpisode, 1);
  box.flush(() => true, send);
  assert.deepEqual(sent, ['A1', 'A2', 'B1']);
});

test('full: alerts go before decisions; decisions go only when nothing else is left, and the event says so', () => {
  const { box, sent, send, drops } = makeVigie({ maxMessages: 4 });
  for (const m of [decision('A'), alert('A', 1), decision('B'), alert('B', 1), alert('C', 1), alert('B', 2), alert('D', 1)]) box.offer(m, false, send);
  // B2 holds B's place (older than C's): the oldest alerts, A then B, go; both decisions stay.
  assert.deepEqual(box.entries().map((e) => nameOf(e.item)), ['D(A)', 'D(B)', 'C1', 'D1'], 'A then B dropped, both decisions kept');
  assert.deepEqual(drops.map((d) => [d.count, d.keptLongestCount]), [[1, 0], [1, 0]]);
  for (const m of [decision('C'), decision('D'), decision('E')]) box.offer(m, false, send);
  assert.deepEqual(box.entries().map((e) => nameOf(e.item)), ['D(B)', 'D(C)', 'D(D)', 'D(E)'], 'the alerts first, then the oldest decision');
  assert.deepEqual(
    drops.slice(2).map((d) => [d.count, d.keptLongestCount, d.firstKeptLongestInEpisode]),
    [
      [1, 0, false],
      [1, 0, false],
      [1, 1, true],
    ],
  );
  assert.equal(box.droppedInEpisode, 5);
  assert.equal(box.keptLongestDroppedInEpisode, 1);
  box.flush(() => true, send);
  assert.deepEqual(sent, ['D(B)', 'D(C)', 'D(D)', 'D(E)']);
});

test('a burst: 215 alerts published 49 times each as they are enriched and 21 decisions, broker down, 10000 places: all kept, latest copies, in order', () => {
  const { box, sent, send, drops } = makeVigie({ maxMessages: 10_000 });
  const expected: string[] = [];
  // Each alert is re-published while the next ones come in (cameras busy: "waiting" over and over).
  for (let round = 1; round <= 49; round++) {
    for (let i = 0; i < 215; i++) {
      if (round === 1) expected.push(`a${i}`);
      box.offer(alert(`a${i}`, round), false, send);
      if (round === 1 && i % 10 === 9) {
        box.offer(decision(`a${i - 5}`), false, send);
        expected.push(`D(a${i - 5})`);
      }
    }
  }
  assert.equal(box.size, 215 + 21);
  assert.deepEqual(drops, []);
  assert.equal(box.replacedInEpisode, 215 * 48);
  box.flush(() => true, send);
  assert.deepEqual(sent, expected.map((n) => (n.startsWith('D(') ? n : `${n}49`)));
});

test('messages in flight until acknowledged one by one; one that failed goes back to the front, before what waits, and is sent again', () => {
  const kept: Array<Kept<string>> = [];
  const sent: string[] = [];
  const send = (m: string, k: Kept<string>) => {
    sent.push(m);
    kept.push(k);
  };
  const box = new Outbox<string>({ nowMs: () => 1_000_000 });
  box.offer('a', true, send);
  box.offer('b', true, send);
  box.offer('c', true, send);
  assert.equal(box.inFlightCount, 3);
  assert.deepEqual(box.entries().map((e) => e.item), ['a', 'b', 'c'], 'in flight: kept across a restart');
  assert.equal(box.acknowledge(kept[1]), true);
  assert.equal(box.acknowledge(kept[1]), false, 'acknowledged once');
  assert.deepEqual(box.entries().map((e) => e.item), ['a', 'c']);
  box.offer('d', false, send); // the way closed: d waits
  assert.equal(box.putBack(kept[0]), true);
  assert.equal(box.putBack(kept[0]), false, 'no longer in flight');
  assert.deepEqual(box.entries().map((e) => e.item), ['c', 'a', 'd'], 'c in flight, then a back in front of d');
  box.flush(() => true, send);
  assert.deepEqual(sent, ['a', 'b', 'c', 'a', 'd']);
  assert.equal(box.inFlightCount, 3);
});

test('at most maxInFlight in flight: beyond, messages wait, and go once one in flight is acknowledged', () => {
  const kept: Array<Kept<string>> = [];
  const sent: string[] = [];
  const send = (m: string, k: Kept<string>) => {
    sent.push(m);
    kept.push(k);
  };
  const box = new Outbox<string>({ maxMessages: 10, maxInFlight: 2 });
  assert.equal(box.offer('a', true, send), true);
  assert.equal(box.offer('b', true, send), true);
  assert.equal(box.roomInFlight, false);
  assert.equal(box.offer('c', true, send), false, 'no room in flight: waits although the way is open');
  assert.equal(box.flush(() => true, send), 0);
  assert.deepEqual(sent, ['a', 'b']);
  box.acknowledge(kept[0]);
  assert.equal(box.flush(() => true, send), 1);
  assert.deepEqual(sent, ['a', 'b', 'c']);
  assert.equal(new Outbox<string>({ maxMessages: 3, maxInFlight: 50 }).maxInFlight, 3, 'never more than maxMessages');
  assert.throws(() => new Outbox<string>({ maxInFlight: 0 }), /maxInFlight/);
});

test('messages in flight count toward maxMessages: the oldest waiting are dropped for them, never those in flight', () => {
  const drops: DropEvent[] = [];
  const box = new Outbox<string>({ maxMessages: 3, maxInFlight: 2, onDrop: (e) => drops.push(e) });
  const send = () => undefined;
  box.offer('a', true, send);
  box.offer('b', true, send);
  box.offer('c', false, send);
  box.offer('d', false, send); // 2 in flight + 2 waiting > 3: c goes
  assert.deepEqual(box.entries().map((e) => e.item), ['a', 'b', 'd']);
  assert.equal(box.droppedInEpisode, 1);
  assert.equal(box.settle(false), 2, 'the broker gone: both back');
  assert.deepEqual(box.entries().map((e) => e.item), ['a', 'b', 'd']);
  assert.deepEqual(drops.map((d) => d.count), [1]);
});
