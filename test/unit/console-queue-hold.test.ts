/** The queue's held order (ui/components/queue-hold.js), without a browser. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
// eslint-disable-next-line @typescript-eslint/ban-ts-comment
// @ts-ignore -- plain JS module of the widget
import { heldQueue, waitingWords } from '../../ui/components/queue-hold.js';

type Row = { alert: { id: string }; state: string };
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
  const q = heldQueue(['c', 'b', 'a'], live);
  assert.deepEqual(idsOf(q.rows), ['c', 'b', 'a']);
  assert.equal(q.rows[1], live[3], 'the live record, with its new state');
  assert.deepEqual(idsOf(q.waiting), ['new2', 'new1']);
  assert.equal(q.reordered, false);
});

test('held: a decision that moves a row is kept for later (reordered), and an alert gone from the queue is gone from the rows', () => {
  const q = heldQueue(['c', 'b', 'a'], [row('b'), row('a'), row('c', 'dismissed')]);
  assert.deepEqual(idsOf(q.rows), ['c', 'b', 'a']);
  assert.equal(q.reordered, true);
  const gone = heldQueue(['c', 'b', 'a'], [row('c'), row('a')]);
  assert.deepEqual(idsOf(gone.rows), ['c', 'a']);
  assert.equal(gone.reordered, false);
});

test('the bar counts in words', () => {
  assert.equal(waitingWords(1), '1 new alert');
  assert.equal(waitingWords(3), '3 new alerts');
});
