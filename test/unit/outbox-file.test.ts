/**
 * The outbox's file (lib/util/outbox-file.ts): a journal appended to as messages come and go,
 * compacted now and then, read back after a restart (a last line cut short by a power cut
 * ignored, the format of earlier versions still read). Driven by a real Outbox with the test's
 * clock; "a restart" is reading the file back.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { Outbox } from '../../lib/util/outbox';
import { alertCopyKeyOf, isDecision } from '../../lib/util/outbox-rules';
import { JOURNAL_HEADER, MqttMessage, OutboxJournal, readKeptFile } from '../../lib/util/outbox-file';
import { tempDir } from '../support/tmp';

const HEADER_BYTES = JSON.stringify(JOURNAL_HEADER).length + 1;

function setup(opts: { maxMessages?: number; minDead?: number } = {}) {
  const dir = tempDir('vigie-outbox-file-');
  const file = path.join(dir, 'vigie-outbox-box.json');
  let now = 1_795_000_000_000;
  const box = new Outbox<MqttMessage>({ maxMessages: opts.maxMessages ?? 10_000, maxAgeMs: 86400_000, nowMs: () => now });
  const journal = new OutboxJournal(file, opts.minDead);
  let n = 0;
  return {
    dir,
    file,
    box,
    journal,
    advanceMs: (ms: number) => (now += ms),
    /** A new message, kept (the broker is down), `pad` characters of payload. */
    push: (pad = 0) => box.push({ topic: `t/${n}`, payload: { n: n++, pad: 'x'.repeat(pad) }, qos: 1 }),
    /** Sends the `k` oldest and the broker confirms they went. */
    send: (k: number) => {
      box.flush(() => true, () => undefined, k);
      box.settle(true);
    },
  };
}

/** What a restart would put back: topic and age of each message the file holds. */
function onDisk(file: string): Array<[unknown, number]> {
  return fs.existsSync(file) ? readKeptFile(file).entries.map((e) => [e.item.topic, e.keptAtMs]) : [];
}

function waiting(box: Outbox<MqttMessage>): Array<[unknown, number]> {
  return box.entries().map((e) => [e.item.topic, e.keptAtMs]);
}

test('each message is appended as one line when kept, a removal as one short line; the file is never rewritten meanwhile, mode 0640', () => {
  const { file, box, journal, push, send, advanceMs } = setup();
  for (let i = 0; i < 3; i++) {
    push(200);
    advanceMs(1000);
  }
  journal.sync(box.entries()); // the first write creates the file whole
  const { ino } = fs.statSync(file);
  assert.equal(fs.statSync(file).mode & 0o777, 0o640);
  assert.deepEqual(JSON.parse(fs.readFileSync(file, 'utf8').split('\n')[0]), JOURNAL_HEADER);

  const before = fs.statSync(file).size;
  push(200);
  journal.sync(box.entries());
  const line = fs.readFileSync(file, 'utf8').slice(before);
  assert.match(line, /^\{"seq":3,"keptAtMs":1795000003000,"item":\{"payload":\{"n":3,"pad":"x{200}"\},"topic":"t\/3","qos":1\}\}\n$/);
  assert.deepEqual(onDisk(file), waiting(box));

  const grown = fs.statSync(file).size;
  send(2);
  journal.sync(box.entries());
  assert.equal(fs.readFileSync(file, 'utf8').slice(grown), '{"done":2}\n', 'the two sent: one short line');
  assert.deepEqual(onDisk(file).map((e) => e[0]), ['t/2', 't/3']);
  assert.deepEqual(onDisk(file), waiting(box), 'with their ages');
  assert.equal(fs.statSync(file).ino, ino, 'appended to, not replaced');
  assert.equal(journal.compactions, 1, 'only the first write was whole');
  assert.equal(fs.statSync(file).mode & 0o777, 0o640);

  // Nothing changed: nothing written.
  const size = fs.statSync(file).size;
  journal.sync(box.entries());
  assert.equal(fs.statSync(file).size, size);
});

test('a last line cut short is ignored and said; a last line that lost only its newline is kept; a file whose first line does not read is no journal', () => {
  const { file, box, journal, push } = setup();
  push();
  journal.sync(box.entries());
  push();
  push();
  journal.sync(box.entries());
  const text = fs.readFileSync(file, 'utf8');
  const lines = text.split('\n');
  assert.equal(lines.length, 5);

  fs.writeFileSync(file, `${lines.slice(0, 3).join('\n')}\n${lines[3].slice(0, 25)}`);
  const cut = readKeptFile(file);
  assert.deepEqual(cut.entries.map((e) => e.item.topic), ['t/0', 't/1']);
  assert.equal(cut.torn, 'its last line (line 4, 25 bytes) is cut short');

  fs.writeFileSync(file, text.slice(0, -1));
  const noNewline = readKeptFile(file);
  assert.deepEqual(noNewline.entries.map((e) => e.item.topic), ['t/0', 't/1', 't/2']);
  assert.equal(noNewline.torn, undefined);

  // A removal line cut short: the messages it would have removed are put back (sent twice, never lost).
  fs.writeFileSync(file, `${text}{"done":`);
  assert.deepEqual(readKeptFile(file).entries.map((e) => e.item.topic), ['t/0', 't/1', 't/2']);

  for (const [content, error] of [
    ['', /the file is empty/],
    ['{"not": "a list"', /^Error: line 1: not JSON/],
    ['{"not": "a journal"}\n', /^Error: line 1: expected the outbox journal's first line \{"vigieOutbox":"journal","version":2\}/],
    ['{"vigieOutbox":"journal","version":3}\n', /^Error: line 1: journal version 3, this version reads 1 and 2/],
    [`${lines[0]}\n${lines[1]}\nnot json\n${lines[3]}\n`, /^Error: line 3: not JSON/],
    [`${lines[0]}\n${lines[2]}\n${lines[1]}\n`, /^Error: line 3: seq: expected an integer above 1, got 0/],
    [`${lines[0]}\n{"item":{"payload":1},"keptAtMs":5}\n`, /^Error: line 2: expected a message \{seq, keptAtMs, item\}, a removal \{done, gone\} or a replacement \{replace, item\}/],
    [`${lines[0]}\n{"replace":7,"item":{"payload":1}}\n`, /^Error: line 2: replace: expected the seq of a message still held, got 7/],
    [`${lines[0]}\n{"seq":0,"item":{"payload":1}}\n`, /^Error: line 2: expected \{item, keptAtMs\}/],
    [`${lines[0]}\n{"gone":"all"}\n`, /^Error: line 2: gone: expected a list of integers/],
  ] as Array<[string, RegExp]>) {
    fs.writeFileSync(file, content);
    assert.throws(() => readKeptFile(file), error, JSON.stringify(content));
  }
});

test('compaction: the file is rewritten with only what waits once its dead part is more than half of it and more than the minimum; order and ages kept', () => {
  for (const minDead of [0, 20_000]) {
    const { file, box, journal, push, send, advanceMs } = setup({ minDead });
    for (let i = 0; i < 64; i++) {
      push(100);
      advanceMs(1000);
    }
    journal.sync(box.entries());
    const scratch = new OutboxJournal(path.join(path.dirname(file), 'scratch.json'));
    let appended = 0;
    while (box.size > 1) {
      const { ino, size } = fs.statSync(file);
      const compactions = journal.compactions;
      send(1);
      journal.sync(box.entries());
      assert.deepEqual(onDisk(file), waiting(box), `${box.size} waiting, minimum ${minDead}`);
      // What waits alone would take (a compaction now).
      scratch.compact(box.entries());
      const whole = fs.statSync(scratch.file).size;
      const now = fs.statSync(file);
      const dead = now.size - (whole - HEADER_BYTES);
      assert.ok(dead <= Math.max(minDead, now.size / 2), `${box.size} waiting: ${dead} dead bytes in ${now.size} (minimum ${minDead})`);
      if (journal.compactions === compactions) {
        appended++;
        assert.equal(now.ino, ino, 'not compacted: appended to');
        assert.ok(now.size > size && now.size - size < 20, `one short line: ${now.size - size} bytes`);
      } else assert.equal(now.size, whole, 'compacted: only what waits');
    }
    const compactions = journal.compactions - 1;
    if (minDead === 0) {
      assert.ok(compactions >= 3 && compactions <= 7, `now and then while 63 go one by one: ${compactions}`);
      assert.equal(appended, 63 - compactions);
    } else {
      // About 11 kB in all: never 20 kB dead.
      assert.equal(compactions, 0, 'a small file is left be');
    }
    send(1);
    journal.sync(box.entries());
    assert.equal(fs.existsSync(file), false, 'nothing waits: no file');
    push();
    journal.sync(box.entries());
    assert.deepEqual(onDisk(file).map((e) => e[0]), ['t/64'], 'a fresh file for what comes next');
    assert.equal(fs.readFileSync(file, 'utf8').split('\n').length, 3, 'its first line and the message');
  }
});

test('at the bound, each new message dropping the oldest: the file stays within twice what waits', () => {
  const { file, box, journal, push } = setup({ maxMessages: 50, minDead: 0 });
  for (let i = 0; i < 50; i++) push(100);
  journal.sync(box.entries());
  const full = fs.statSync(file).size;
  for (let i = 0; i < 500; i++) {
    push(100);
    journal.sync(box.entries());
    assert.ok(fs.statSync(file).size <= 2 * full + 200, `after ${i + 1}: ${fs.statSync(file).size} bytes`);
  }
  assert.deepEqual(onDisk(file), waiting(box));
  assert.ok(journal.compactions > 1 && journal.compactions < 30, `${journal.compactions} compactions for 500 changes`);
});

test('a file of an earlier version (one JSON list) is read and compacted into a journal with the same messages and ages', () => {
  const { file, box, journal } = setup();
  const old = [
    { item: { topic: 't/a', payload: { n: 1 }, qos: 1, retain: false }, keptAtMs: 1_795_000_000_000 },
    { item: { topic: 't/b', payload: { type: 'Buffer', data: [98] } }, keptAtMs: 1_795_000_030_000 },
  ];
  fs.writeFileSync(file, JSON.stringify(old));
  const read = journal.read();
  assert.equal(read.format, 'list');
  box.restore(read.entries);
  journal.compact(box.entries());
  const now = readKeptFile(file);
  assert.equal(now.format, 'journal');
  assert.deepEqual(
    now.entries.map((e) => [e.item.topic, e.keptAtMs]),
    old.map((e) => [e.item.topic, e.keptAtMs]),
  );
  assert.equal(now.entries[0].item.retain, false);
  assert.ok(Buffer.isBuffer(now.entries[1].item.payload), 'a Buffer comes back as one');
  assert.equal(fs.statSync(file).mode & 0o777, 0o640);

  fs.writeFileSync(file, JSON.stringify([{ item: { payload: 1 } }]));
  assert.throws(() => readKeptFile(file), /^Error: entry 0: expected \{item, keptAtMs\}/);
  fs.writeFileSync(file, '[{"item":');
  assert.throws(() => readKeptFile(file), SyntaxError, 'a list cut short is unreadable, as before');
});

test('a restart after many sends, drops and returns puts back exactly the messages not sent, in order, with their ages', () => {
  const { file, box, journal, push, advanceMs } = setup({ maxMessages: 25 });
  // A fixed sequence (mulberry32): the same run every time.
  let seed = 7;
  const rand = (k: number) => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) % k;
  };
  const sent: unknown[] = [];
  let open = false;
  let sawGone = false;
  for (let step = 0; step < 3000; step++) {
    advanceMs(100);
    const r = rand(10);
    if (r < 5) push(rand(300));
    else if (r === 5) box.flush(() => true, (m) => sent.push(m.topic), rand(6));
    else if (r < 8) box.settle(true);
    else if (r === 8) box.settle(false); // the broker dropped: what was in flight goes back to the front
    else box.offer({ topic: `direct/${step}`, payload: step }, (open = !open), (m) => sent.push(m.topic));
    if (rand(3) > 0) {
      journal.sync(box.entries());
      sawGone ||= fs.existsSync(file) && fs.readFileSync(file, 'utf8').includes('"gone":[');
    }
    if (step % 500 === 499) {
      journal.sync(box.entries());
      assert.deepEqual(onDisk(file), waiting(box), `step ${step}`);
    }
  }
  journal.sync(box.entries());
  assert.ok(sent.length > 500, `${sent.length} sent`);
  assert.ok(box.size > 0);
  assert.deepEqual(onDisk(file), waiting(box));
  assert.ok(sawGone, 'a removal behind one still in flight happened');
  assert.ok(journal.compactions < 100, `mostly appended: ${journal.compactions} compactions`);
});

test('a removal behind a message still in flight is written as such, and a later one at the front as "done"', () => {
  const { file, box, journal, push } = setup({ maxMessages: 3 });
  push(); // t/0
  push(); // t/1
  journal.sync(box.entries());
  box.flush(() => true, () => undefined, 1); // t/0 in flight
  push(); // t/2
  push(); // t/3: one in flight and three waiting for three places (those in flight count), t/1 dropped
  journal.sync(box.entries());
  assert.deepEqual(onDisk(file).map((e) => e[0]), ['t/0', 't/2', 't/3']);
  assert.match(fs.readFileSync(file, 'utf8'), /\n\{"gone":\[1\]\}\n/);
  box.settle(true);
  journal.sync(box.entries());
  assert.deepEqual(onDisk(file).map((e) => e[0]), ['t/2', 't/3']);
  assert.match(fs.readFileSync(file, 'utf8'), /\n\{"done":2\}\n$/);
});

test('a message to go in front of what the file holds (put back by restore) has the file compacted, in order', () => {
  const { file, box, journal, push } = setup();
  push();
  push();
  journal.sync(box.entries());
  box.restore([{ item: { topic: 'earlier', payload: 0 }, keptAtMs: 1_794_999_000_000 }]);
  journal.sync(box.entries());
  assert.deepEqual(onDisk(file).map((e) => e[0]), ['earlier', 't/0', 't/1']);
  assert.equal(journal.compactions, 2);
});

test('a message JSON cannot hold is left out of the file, told once and not tried again; the others are written', () => {
  const { file, box, journal, push } = setup();
  push();
  box.push({ topic: 'big', payload: { n: 10n } });
  push();
  const left = journal.sync(box.entries());
  assert.equal(left.length, 1);
  assert.equal(left[0].entry.item.topic, 'big');
  assert.match(left[0].reason, /BigInt/);
  assert.deepEqual(onDisk(file).map((e) => e[0]), ['t/0', 't/1']);
  push();
  assert.deepEqual(journal.sync(box.entries()), []);
  assert.deepEqual(journal.compact(box.entries()), []);
  assert.deepEqual(onDisk(file).map((e) => e[0]), ['t/0', 't/1', 't/2']);
  assert.deepEqual(box.entries().map((e) => e.item.topic), ['t/0', 'big', 't/1', 't/2'], 'still waiting, in memory');
});

test('a write that fails is thrown, and the next one rewrites the file whole', () => {
  const { file, box, journal, push } = setup();
  push();
  push();
  journal.sync(box.entries());
  fs.rmSync(file); // someone removed it: an append would make a file without its first line
  push();
  assert.throws(() => journal.sync(box.entries()), /ENOENT/);
  assert.equal(fs.existsSync(file), false);
  journal.sync(box.entries());
  assert.deepEqual(onDisk(file).map((e) => e[0]), ['t/0', 't/1', 't/2']);
  assert.equal(readKeptFile(file).format, 'journal');
});

// --- Later copies of an alert replace the waiting one (lib/util/outbox-rules.ts) ---

const ALERTS = 'vigie/v1/site/alert';
const alertCopy = (id: string, copy: number): MqttMessage => ({ topic: ALERTS, qos: 1, payload: { kind: 'detection', id, location: { method: 'tdoa', sensors: ['s1'] }, camera: { state: 'waiting', copy } } });
const decisionOn = (alertId: string): MqttMessage => ({ topic: 'vigie/v1/site/decision', qos: 1, payload: { kind: 'decision', alertId, action: 'dismiss', operator: 'op', time: 1 } });
/** "A3" for copy 3 of alert A, "D(A)" for a decision on A. */
const nameOfMsg = (m: MqttMessage) => {
  const p = m.payload as { kind: string; id?: string; alertId?: string; camera?: { copy: number } };
  return p.kind === 'decision' ? `D(${p.alertId})` : `${p.id}${p.camera!.copy}`;
};

function setupAlerts(minDead?: number) {
  const dir = tempDir('vigie-outbox-file-');
  const file = path.join(dir, 'vigie-outbox-box.json');
  let now = 1_795_000_000_000;
  const opts = { maxMessages: 10_000, maxAgeMs: 86400_000, nowMs: () => now, supersedeKeyOf: alertCopyKeyOf, keepLongest: isDecision };
  const box = new Outbox<MqttMessage>(opts);
  return { file, box, journal: new OutboxJournal(file, minDead), opts, advanceMs: (ms: number) => (now += ms) };
}

test('a later copy of a waiting alert is one short replacement line; a restart puts back the latest copy of each alert, in the place and with the age of the first, and every decision', () => {
  const { file, box, journal, opts, advanceMs } = setupAlerts();
  const offer = (m: MqttMessage) => {
    box.push(m);
    advanceMs(1000);
  };
  for (const m of [alertCopy('A', 1), alertCopy('B', 1), decisionOn('A')]) offer(m);
  journal.sync(box.entries());
  const { ino, size } = fs.statSync(file);
  offer(alertCopy('A', 2));
  journal.sync(box.entries());
  const appended = fs.readFileSync(file, 'utf8').slice(size);
  assert.match(appended, /^\{"replace":0,"item":\{"payload":\{"kind":"detection","id":"A",.*"copy":2\}\},"topic":"vigie\/v1\/site\/alert","qos":1\}\}\n$/);
  assert.equal(fs.statSync(file).ino, ino, 'appended to, not rewritten');
  // More copies, more alerts and decisions, some sent, several syncs between them.
  for (const m of [alertCopy('C', 1), alertCopy('A', 3), decisionOn('A'), alertCopy('B', 2)]) offer(m);
  journal.sync(box.entries());
  box.flush(() => true, () => undefined, 1); // A3 sent...
  box.settle(true); // ...and published
  offer(alertCopy('A', 4)); // a later copy of A after it went: a message of its own, behind
  for (const m of [alertCopy('C', 2), decisionOn('C'), alertCopy('C', 3)]) offer(m);
  journal.sync(box.entries());
  assert.equal(journal.compactions, 1, 'only the first write was whole');

  const expected = ['B2', 'D(A)', 'C3', 'D(A)', 'A4', 'D(C)'];
  assert.deepEqual(box.entries().map((e) => nameOfMsg(e.item)), expected);
  // A crash: nothing more written. The next start reads the file.
  const kept = readKeptFile(file);
  assert.deepEqual(kept.entries.map((e) => nameOfMsg(e.item)), expected, 'what waited, exactly');
  assert.deepEqual(kept.entries.map((e) => e.keptAtMs), box.entries().map((e) => e.keptAtMs), 'with the ages of the first copies');
  assert.equal(kept.torn, undefined);
  const next = new Outbox<MqttMessage>(opts);
  next.restore(kept.entries);
  next.push(alertCopy('C', 4)); // a copy that comes after the restart still finds its alert
  const sent: string[] = [];
  next.flush(() => true, (m) => sent.push(nameOfMsg(m)));
  assert.deepEqual(sent, ['B2', 'D(A)', 'C4', 'D(A)', 'A4', 'D(C)']);
});

test('a replacement line cut short by a power cut is ignored as before: the copy before it is put back', () => {
  const { file, box, journal } = setupAlerts();
  box.push(alertCopy('A', 1));
  box.push(decisionOn('A'));
  journal.sync(box.entries());
  box.push(alertCopy('A', 2));
  journal.sync(box.entries());
  const text = fs.readFileSync(file, 'utf8');
  const lines = text.split('\n');
  assert.match(lines[3], /^\{"replace":0,/);
  fs.writeFileSync(file, `${lines.slice(0, 3).join('\n')}\n${lines[3].slice(0, 40)}`);
  const cut = readKeptFile(file);
  assert.equal(cut.torn, 'its last line (line 4, 40 bytes) is cut short');
  assert.deepEqual(cut.entries.map((e) => nameOfMsg(e.item)), ['A1', 'D(A)']);
  fs.writeFileSync(file, text);
  assert.deepEqual(readKeptFile(file).entries.map((e) => nameOfMsg(e.item)), ['A2', 'D(A)'], 'whole: the later copy');
});

test('copies of one alert, thousands of them: the file is compacted now and then and stays within twice what waits', () => {
  const { file, box, journal } = setupAlerts(0);
  for (let i = 0; i < 20; i++) box.push(alertCopy(`a${i}`, 0));
  box.push(decisionOn('a3'));
  journal.sync(box.entries());
  const full = fs.statSync(file).size;
  for (let copy = 1; copy <= 2000; copy++) {
    box.push(alertCopy(`a${copy % 20}`, copy));
    journal.sync(box.entries());
    assert.ok(fs.statSync(file).size <= 2 * full + 200, `after ${copy}: ${fs.statSync(file).size} bytes`);
  }
  assert.deepEqual(readKeptFile(file).entries.map((e) => nameOfMsg(e.item)), box.entries().map((e) => nameOfMsg(e.item)));
  assert.ok(journal.compactions > 10 && journal.compactions < 400, `${journal.compactions} compactions for 2000 copies`);
});

test('a file of version 1 (no replacements) is still read', () => {
  const { file } = setupAlerts();
  fs.writeFileSync(file, '{"vigieOutbox":"journal","version":1}\n{"seq":0,"keptAtMs":5,"item":{"payload":1,"topic":"t"}}\n{"seq":1,"keptAtMs":6,"item":{"payload":2,"topic":"t"}}\n{"done":1}\n');
  assert.deepEqual(readKeptFile(file).entries.map((e) => [e.item.payload, e.keptAtMs]), [[2, 6]]);
});
