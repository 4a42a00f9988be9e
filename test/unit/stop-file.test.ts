/**
 * What a node had in progress when the flows stopped without a deploy, without Node-RED: the
 * shelf that gives it to a keeper instead of dropping it, the file it goes to (bounded, set
 * aside when unusable), the wiring at each start of the flows (a node deleted, a node
 * disabled), and the fusion localizer's incidents waiting for sensors across such a file.
 */
import { mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { HandOverShelf } from '../../lib/util/handover';
import { STOP_FILE_MAX_BYTES, StopFiles, UnusableStopFileError } from '../../lib/util/stop-file';
import { keepStopFiles, stoppedForMs } from '../../lib/util/stop-file-node';
import { checkFusionStopItem, FusionLocalizer, FusionStopItem, fusionStopItemOlderBy, fusionStopItemsOf, STOP_RESUME_MAX_AGE_MS, STOPPED_WAITING_WORDS } from '../../lib/localize/localizer';
import { tempDir } from '../support/tmp';
import { Finding, scanJson } from '../support/privacy-scan';
import { gunshotHeardAt, SHOT_T0 } from '../support/detections';

interface Item {
  id: string;
  text: string;
}
const checkItem = (raw: unknown): Item => {
  const o = raw as Item;
  if (!o || typeof o.id !== 'string' || typeof o.text !== 'string') throw new Error('expected {id, text}');
  return { id: o.id, text: o.text };
};
const NOW = Date.parse('2026-11-30T12:00:00Z');

test('shelf: flows stopped without a deploy give each item to the keeper; one it cannot keep is dropped, saying why; a deploy\'s stop keeps them on the shelf', () => {
  const dropped: string[] = [];
  const shelf = new HandOverShelf<string>({ onDropped: (id, item, why) => dropped.push(`${id}=${item}: ${why}`) });
  const events = new EventEmitter();
  const kept: string[] = [];
  const keep = (id: string, item: string) => (item === 'bad' ? 'disk full' : void kept.push(`${id}=${item}`));
  shelf.keepOnStopWithoutDeploy(events, keep);
  shelf.keepOnStopWithoutDeploy(events, keep);
  assert.equal(events.listenerCount('runtime-event'), 1, 'one listener per runtime');
  shelf.put('n1', 'work');
  shelf.put('n2', 'bad');
  events.emit('runtime-event', { id: 'runtime-state', payload: { state: 'stop', deploy: true } });
  assert.deepEqual(kept, []);
  assert.equal(shelf.size, 2);
  events.emit('runtime-event', { id: 'runtime-state', payload: { state: 'stop', deploy: false } });
  assert.deepEqual(kept, ['n1=work']);
  assert.deepEqual(dropped, ['n2=bad: the flows stopped without a deploy, and disk full']);
  assert.equal(shelf.size, 0);
});

test('file: written and taken back once (then gone); named by node id; a subflow instance\'s id is kept, other characters replaced', () => {
  const dir = tempDir('vigie-stop-file-');
  const files = new StopFiles<Item>('ptz-steer', checkItem);
  const w = files.write(dir, { nodeId: 'a1b2', stoppedAtMs: NOW, items: [{ id: 'x', text: 'one' }] });
  assert.deepEqual(w, { file: path.join(dir, 'vigie-ptz-steer-a1b2.json'), written: 1, leftOut: 0 });
  assert.equal(fs.statSync(w.file).mode & 0o777, 0o640);
  assert.equal(path.basename(files.fileOf(dir, 'inst-node/x')), 'vigie-ptz-steer-inst-node_x.json');
  const taken = files.take(dir, 'a1b2', NOW);
  assert.deepEqual(taken, { file: w.file, nodeId: 'a1b2', stoppedAtMs: NOW, items: [{ id: 'x', text: 'one' }], refused: 0 });
  assert.equal(files.take(dir, 'a1b2', NOW), undefined, 'taken once');
});

test('file: bounded in size, the last items left out and counted', () => {
  const dir = tempDir('vigie-stop-file-');
  const files = new StopFiles<Item>('localizer', checkItem, { maxBytes: 1000 });
  const items = Array.from({ length: 20 }, (_, i) => ({ id: `i${i}`, text: 'x'.repeat(100) }));
  const w = files.write(dir, { nodeId: 'n', stoppedAtMs: NOW, items });
  assert.ok(w.written > 0 && w.written < 20, `${w.written} written`);
  assert.equal(w.written + w.leftOut, 20);
  assert.ok(fs.statSync(w.file).size <= 1000);
  assert.deepEqual(files.take(dir, 'n', NOW)!.items.map((i) => i.id), items.slice(0, w.written).map((i) => i.id), 'the first ones kept');
  assert.equal(STOP_FILE_MAX_BYTES, 256 * 1024);
});

test('file: corrupt, of another version, or of another kind: set aside with a clear error, never read as empty; items that fail the check are counted', () => {
  const dir = tempDir('vigie-stop-file-');
  const files = new StopFiles<Item>('ptz-steer', checkItem);
  const file = files.fileOf(dir, 'n');
  const cases: Array<[string, RegExp, RegExp]> = [
    ['{"vigieStopped":"ptz-steer","ver', /could not be read \(/, /\.corrupt-2026-11-30T12-00-00Z$/],
    [JSON.stringify({ vigieStopped: 'ptz-steer', version: 9, nodeId: 'n', stoppedAtMs: NOW, items: [] }), /version 9 of its format, this Vigie reads version 1/, /\.version-9-2026-11-30T12-00-00Z$/],
    [JSON.stringify({ vigieStopped: 'localizer', version: 1, nodeId: 'n', stoppedAtMs: NOW, items: [] }), /not a file of what a ptz-steer had in progress/, /\.corrupt-/],
  ];
  for (const [text, problem, asideName] of cases) {
    fs.writeFileSync(file, text);
    let err: unknown;
    try {
      files.take(dir, 'n', NOW);
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof UnusableStopFileError, String(err));
    assert.match(err.message, problem);
    assert.match(err.aside!, asideName);
    assert.equal(fs.readFileSync(err.aside!, 'utf8'), text, 'what it held is kept aside');
    assert.equal(fs.existsSync(file), false);
  }
  fs.writeFileSync(file, JSON.stringify({ vigieStopped: 'ptz-steer', version: 1, nodeId: 'n', stoppedAtMs: NOW, items: [{ id: 'ok', text: 't' }, { id: 3 }] }));
  const taken = files.take(dir, 'n', NOW)!;
  assert.deepEqual([taken.items.map((i) => i.id), taken.refused, taken.firstRefusal], [['ok'], 1, 'expected {id, text}']);
});

test('how long the flows were stopped: by the wall clock, unknown when a clock was not set or went back', () => {
  assert.equal(stoppedForMs(NOW, NOW + 5000), 5000);
  assert.equal(stoppedForMs(10_000, NOW), undefined, 'stopped before the clock was set');
  assert.equal(stoppedForMs(NOW, NOW - 1), undefined);
});

test('wiring: a stop without a deploy writes the file; at the next start a deleted node\'s file is removed and said, a disabled one\'s kept, a running one\'s left to it, a corrupt one set aside', () => {
  const dir = tempDir('vigie-stop-wiring-');
  const events = new EventEmitter();
  const logs: string[] = [];
  const running = new Set<string>();
  const RED = {
    events,
    log: { info: (t: string) => logs.push(`info ${t}`), warn: (t: string) => logs.push(`warn ${t}`) },
    nodes: { getNode: (id: string) => (running.has(id) ? {} : null), eachNode: () => undefined },
  };
  const shelf = new HandOverShelf<Item[]>();
  const files = new StopFiles<Item>('ptz-steer', checkItem);
  const words = { userDir: () => dir, itemsOf: (h: Item[]) => h, idOf: (i: Item) => i.id, words: (n: number) => `${n} alert${n === 1 ? '' : 's'}`, what: 'in progress', olderBy: (i: Item) => i };
  keepStopFiles(RED, shelf, files, words);
  keepStopFiles(RED, shelf, files, words);
  assert.equal(events.listenerCount('flows:started'), 1, 'one listener per runtime and kind');
  for (const id of ['deleted', 'disabled', 'running']) shelf.put(id, [{ id: `alert-of-${id}`, text: '' }]);
  shelf.put('idle', []);
  events.emit('runtime-event', { id: 'runtime-state', payload: { state: 'stop' } });
  assert.deepEqual(fs.readdirSync(dir).sort(), ['vigie-ptz-steer-deleted.json', 'vigie-ptz-steer-disabled.json', 'vigie-ptz-steer-running.json'], 'nothing written for a node with nothing in progress');
  assert.match(logs.join('\n'), /info ptz-steer deleted: 1 alert in progress when the flows stopped kept in vigie-ptz-steer-deleted\.json for its next start/);
  fs.writeFileSync(path.join(dir, 'vigie-ptz-steer-broken.json'), '{');
  running.add('running');
  logs.length = 0;
  events.emit('flows:started', { config: { flows: [{ id: 'disabled' }, { id: 'running' }] } });
  assert.deepEqual(fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort(), ['vigie-ptz-steer-disabled.json', 'vigie-ptz-steer-running.json']);
  const said = logs.join('\n');
  assert.match(said, /warn ptz-steer deleted: 1 alert in progress when the flows stopped dropped, the node is deleted \(vigie-ptz-steer-deleted\.json removed\): alert-of-deleted/);
  assert.match(said, /info ptz-steer disabled: 1 alert in progress when the flows stopped kept in vigie-ptz-steer-disabled\.json: the node is in the flows but did not start \(disabled, its tab disabled, or its start failed\); taken over once it starts/);
  assert.match(said, /warn ptz-steer: vigie-ptz-steer-broken\.json: could not be read .*; set aside as vigie-ptz-steer-broken\.json\.corrupt-/);
  assert.doesNotMatch(said, /running/);
});

test('stopped again before its flows started (stop, start, stop): the file of the first stop, not taken yet, is kept with the new items, aged by the time between, not overwritten', (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: NOW });
  const dir = tempDir('vigie-stop-again-');
  const events = new EventEmitter();
  const logs: string[] = [];
  const RED = { events, log: { info: (x: string) => logs.push(`info ${x}`), warn: (x: string) => logs.push(`warn ${x}`) }, nodes: { getNode: () => ({}), eachNode: () => undefined } };
  const shelf = new HandOverShelf<Item[]>();
  const files = new StopFiles<Item>('ptz-steer', checkItem);
  const gaps: Array<number | undefined> = [];
  const olderBy = (i: Item, gapMs: number | undefined) => {
    gaps.push(gapMs);
    return { ...i, text: `${i.text} +${gapMs}` };
  };
  keepStopFiles(RED, shelf, files, { userDir: () => dir, itemsOf: (h: Item[]) => h, idOf: (i: Item) => i.id, words: (n: number) => `${n} alert${n === 1 ? '' : 's'}`, what: 'in progress', olderBy });
  const stop = () => events.emit('runtime-event', { id: 'runtime-state', payload: { state: 'stop' } });
  shelf.put('n', [{ id: 'a1', text: 'first stop' }, { id: 'a2', text: 'first stop' }]);
  stop();
  // Started again, and stopped 4 s later before the node took its file: with nothing new, the file stays as it is.
  t.mock.timers.tick(4000);
  shelf.put('n', []);
  stop();
  assert.deepEqual(files.peek(dir, 'n', Date.now())?.items, [{ id: 'a1', text: 'first stop' }, { id: 'a2', text: 'first stop' }]);
  assert.equal(files.peek(dir, 'n', Date.now())?.stoppedAtMs, NOW);
  // Once more, with an alert of its own and a newer copy of a2: a1 is kept, 10 s older; a2 is the new one.
  t.mock.timers.tick(6000);
  logs.length = 0;
  shelf.put('n', [{ id: 'a3', text: 'second stop' }, { id: 'a2', text: 'second stop' }]);
  stop();
  const kept = files.take(dir, 'n', Date.now())!;
  assert.equal(kept.stoppedAtMs, NOW + 10_000);
  assert.deepEqual(kept.items, [{ id: 'a3', text: 'second stop' }, { id: 'a2', text: 'second stop' }, { id: 'a1', text: 'first stop +10000' }]);
  assert.deepEqual(gaps, [10_000]);
  assert.match(logs.join('\n'), /info ptz-steer n: 3 alerts in progress when the flows stopped kept in vigie-ptz-steer-n\.json for its next start, with 1 alert of an earlier stop not taken yet \(stopped again before its flows started\)/);
  // The time between the stops unknown (the clock set back): said so to olderBy.
  shelf.put('n', [{ id: 'b1', text: 'x' }]);
  stop();
  t.mock.timers.setTime(NOW - 60_000);
  shelf.put('n', [{ id: 'b2', text: 'y' }]);
  stop();
  assert.deepEqual(files.take(dir, 'n', Date.now())!.items, [{ id: 'b2', text: 'y' }, { id: 'b1', text: 'x +undefined' }]);
});

test('a full disk at a stop: the new items are dropped saying "disk full" and naming the file; the file of an earlier stop stays whole, taken at the next start', (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: NOW });
  const dir = tempDir('vigie-stop-full-');
  const events = new EventEmitter();
  const dropped: string[] = [];
  const RED = { events, log: { info: () => undefined, warn: () => undefined }, nodes: { getNode: () => ({}), eachNode: () => undefined } };
  const shelf = new HandOverShelf<Item[]>({ onDropped: (id, items, why) => dropped.push(`${id}=${items.map((i) => i.id).join(',')}: ${why}`) });
  const files = new StopFiles<Item>('ptz-steer', checkItem);
  keepStopFiles(RED, shelf, files, { userDir: () => dir, itemsOf: (h: Item[]) => h, idOf: (i: Item) => i.id, words: (n: number) => `${n} alert${n === 1 ? '' : 's'}`, what: 'in progress', olderBy: (i: Item) => i });
  const stop = () => events.emit('runtime-event', { id: 'runtime-state', payload: { state: 'stop' } });
  shelf.put('n', [{ id: 'a1', text: 'first stop' }]);
  stop();
  const earlier = fs.readFileSync(files.fileOf(dir, 'n'), 'utf8');
  // Stopped again before its flows started, the card full now: no byte of the new file gets written.
  const write = mock.method(require('node:fs') as typeof fs, 'writeFileSync', () => {
    throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
  });
  try {
    shelf.put('n', [{ id: 'a2', text: 'second stop' }]);
    stop();
  } finally {
    write.mock.restore();
  }
  assert.deepEqual(dropped, ['n=a2: the flows stopped without a deploy, and vigie-ptz-steer-n.json could not be written (disk full (ENOSPC: no space left on device, write))']);
  assert.equal(fs.readFileSync(files.fileOf(dir, 'n'), 'utf8'), earlier, 'the earlier file is left whole');
  assert.deepEqual(fs.readdirSync(dir), ['vigie-ptz-steer-n.json'], 'no temporary file left');
  assert.deepEqual(files.take(dir, 'n', Date.now())?.items, [{ id: 'a1', text: 'first stop' }]);
});

const T0 = SHOT_T0;
const det = gunshotHeardAt;

/** Two of three sensors reported an incident when the flows stopped: its items through a file and back. */
function stoppedWithTwoOfThree(): FusionStopItem[] {
  const old = new FusionLocalizer({ minSensors: 3, timeoutMs: 1500 });
  old.add(det('a', -20, -15), undefined, 100);
  old.add(det('b', 25, -10), undefined, 110);
  const dir = tempDir('vigie-stop-fusion-');
  const files = new StopFiles<FusionStopItem>('localizer', checkFusionStopItem);
  const items = fusionStopItemsOf(old.handOver(), 600);
  assert.deepEqual(items.map((i) => [i.id, i.firstBeforeStopMs, i.lastBeforeStopMs, i.observations.length]), [['inc-1', 500, 490, 2]]);
  const w = files.write(dir, { nodeId: 'loc', stoppedAtMs: NOW, items });
  // Privacy (DESIGN §4): the detections as they came in, no samples.
  const found: Finding[] = [];
  scanJson(JSON.parse(fs.readFileSync(w.file, 'utf8')), 'stop file', found);
  assert.deepEqual(found, []);
  return files.take(dir, 'loc', NOW)!.items;
}

test('fusion: an incident waiting for sensors when the flows stopped, taken over soon after: it waits out its deadline, and a third report completes it', () => {
  const items = stoppedWithTwoOfThree();
  const next = new FusionLocalizer({ minSensors: 3, timeoutMs: 1500 });
  // Started again 200 ms after the stop: 700 ms since its first report, 800 ms left.
  assert.deepEqual(next.adoptAfterStop(items, 200, 10_000), { recent: 1, old: 0 });
  assert.equal(next.nextDeadlineMs(10_000), 800);
  const r = next.add(det('c', 5, 30), undefined, 10_100);
  assert.equal(r.ready.length, 1);
  assert.deepEqual([...r.ready[0].location!.sensors].sort(), ['a', 'b', 'c']);
  assert.equal(r.ready[0].location!.reason ?? '', '', 'nothing to say of a stop');
  // A later incident: a new id, not one of the incident taken over.
  const later = { ...det('d', 40, 40), id: 'det-later', onset: T0 + 100, offset: T0 + 100.3 };
  const r2 = next.add(later, undefined, 10_200);
  assert.equal(r2.kind, 'new');
  assert.notEqual(r2.incidentId, r.ready[0].incident!.id);
});

test('fusion: its deadline passed while stopped: sent at once with the sensors it has; older than the bound, its reason says Node-RED stopped while it waited', () => {
  for (const [stoppedFor, late] of [
    [30_000, false],
    [STOP_RESUME_MAX_AGE_MS, true],
    [undefined, true],
  ] as const) {
    const next = new FusionLocalizer({ minSensors: 3, timeoutMs: 1500 });
    assert.deepEqual(next.adoptAfterStop(stoppedWithTwoOfThree(), stoppedFor, 50_000), late ? { recent: 0, old: 1 } : { recent: 1, old: 0 });
    assert.equal(next.nextDeadlineMs(50_000), 0);
    const { ready } = next.poll(50_000);
    assert.equal(ready.length, 1);
    assert.deepEqual([...ready[0].location!.sensors].sort(), ['a', 'b']);
    assert.equal((ready[0].location!.reason ?? '').includes(STOPPED_WAITING_WORDS), late, ready[0].location!.reason);
  }
});

test('fusion: an incident of a file not taken yet, kept at a second stop, ages by the time between the stops; unknown, it is sent at the next start as waiting when Node-RED stopped', () => {
  const [item] = stoppedWithTwoOfThree();
  assert.deepEqual([fusionStopItemOlderBy(item, 60_000).firstBeforeStopMs, fusionStopItemOlderBy(item, 60_000).lastBeforeStopMs], [60_500, 60_490]);
  const next = new FusionLocalizer({ minSensors: 3, timeoutMs: 1500 });
  assert.deepEqual(next.adoptAfterStop([fusionStopItemOlderBy(item, undefined)], 1000, 50_000), { recent: 0, old: 1 });
  assert.deepEqual(next.adoptAfterStop([fusionStopItemOlderBy(item, 1000)], 1000, 50_000), { recent: 1, old: 0 });
});

test('fusion privacy: a kept report whose detection carries samples or a voice label is refused when read back, naming the field', () => {
  const [item] = stoppedWithTwoOfThree();
  const withPayload = (payload: unknown) => ({ ...item, observations: [{ ...item.observations[0], payload }] });
  assert.throws(() => checkFusionStopItem(withPayload({ ...(item.observations[0].payload as object), samples: [1, 2, 3] })), /payload\.samples: expected no such field/);
  assert.throws(() => checkFusionStopItem(withPayload({ ...(item.observations[0].payload as object), label: 'speech' })), /privacy guarantee 3/);
});
