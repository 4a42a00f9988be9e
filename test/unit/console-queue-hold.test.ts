/** The queue's held order (ui/components/queue-hold.js), without a browser. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
// eslint-disable-next-line @typescript-eslint/ban-ts-comment
// @ts-ignore -- plain JS module of the widget
import { heldQueue, holdsLiveRows, waitingWords } from '../../ui/components/queue-hold.js';

type Row = { alert: { id: string }; state: string; removed?: boolean };
const row = (id: string, state = 'new'): Row => ({ alert: { id }, state });
const idsOf = (rows: Row[]) => rows.map((r) => r.alert.id);

test('not held: the live queue as it comes', () => {
  const live = [row('b'), row('a')];
  const q = heldQueue(null, live);
  assert.equal(q.rows, live);
  assert.deepEqual(q.waiting, []);
  assert.equal(q.reordered, false);
});

test('held: the order held, with each row\'s live record; new alerts wait, in the live order', () => {
  const live = [row('new2'), row('new1'), row('c'), row('b', 'seen'), row('a')];
  const q = heldQueue([row('c'), row('b'), row('a')], live);
  assert.deepEqual(idsOf(q.rows), ['c', 'b', 'a']);
  assert.equal(q.rows[1], live[3], 'the live record, with its new state');
  assert.deepEqual(idsOf(q.waiting), ['new2', 'new1']);
  assert.equal(q.reordered, false);
});

test('held: a decision that moves a row is kept for later (reordered)', () => {
  const q = heldQueue([row('c'), row('b'), row('a')], [row('b'), row('a'), row('c', 'dismissed')]);
  assert.deepEqual(idsOf(q.rows), ['c', 'b', 'a']);
  assert.equal(q.reordered, true);
  assert.equal(q.removed, 0);
});

test('held: an alert gone from the queue (retention) keeps its place, marked removed, as last shown; the rows below do not move up', () => {
  const shown = [row('c'), row('b', 'seen'), row('a')];
  const gone = heldQueue(shown, [row('c'), row('a')]);
  assert.deepEqual(idsOf(gone.rows), ['c', 'b', 'a'], 'a keeps the place it had');
  assert.deepEqual(gone.rows.map((r: Row) => !!r.removed), [false, true, false]);
  assert.equal(gone.rows[1].state, 'seen', 'the alert as it was last shown');
  assert.notEqual(gone.rows[1], shown[1], 'a copy: the record shown before is not changed');
  assert.equal(shown[1].removed, undefined);
  assert.equal(gone.removed, 1);
  assert.equal(gone.reordered, false, 'the rows still there are in the live order');
  assert.ok(holdsLiveRows(gone));
  // The next state keeps it (the component holds the rows as last shown), and a new alert waits.
  const next = heldQueue(gone.rows, [row('n'), row('c'), row('a', 'confirmed')]);
  assert.deepEqual(idsOf(next.rows), ['c', 'b', 'a']);
  assert.equal(next.rows[1], gone.rows[1]);
  assert.equal(next.rows[2].state, 'confirmed');
  assert.deepEqual(idsOf(next.waiting), ['n']);
  // Every held alert gone: nothing live left to keep still.
  assert.equal(holdsLiveRows(heldQueue(next.rows, [row('n')])), false);
  // Not held: the live queue only.
  assert.equal(heldQueue(null, [row('c')]).removed, 0);
});

test('the bar counts in words', () => {
  assert.equal(waitingWords(1), '1 new alert');
  assert.equal(waitingWords(3), '3 new alerts');
});
