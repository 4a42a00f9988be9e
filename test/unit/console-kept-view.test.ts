/** What the console keeps of the operator's view across a rebuild of its widget (ui/components/kept-view.js), without a browser. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
// eslint-disable-next-line @typescript-eslint/ban-ts-comment
// @ts-ignore -- plain JS module of the widget
import { decisionOutcome, emptyView, isDecisionSent, keepView, KEPT_VIEW_KEY_PREFIX, notesStillListed, readKeptView, snapshotsGoneListed, waitingOperator } from '../../ui/components/kept-view.js';

/** sessionStorage's interface over a Map; `refuse` makes it throw as a browser in private mode may. */
function storage(refuse = false) {
  const items = new Map<string, string>();
  return {
    items,
    getItem: (k: string) => {
      if (refuse) throw new Error('SecurityError');
      return items.has(k) ? items.get(k)! : null;
    },
    setItem: (k: string, v: string) => {
      if (refuse) throw new Error('QuotaExceededError');
      items.set(k, v);
    },
  };
}

type Decision = { action: string; operator: string; note?: string };
const record = (id: string, decisions: Decision[] = []) => ({ alert: { id }, decisions });

test('a view kept is read back for the same widget, and only for it', () => {
  const s = storage();
  const view = {
    selectedId: 'a2',
    openedByOperator: true,
    notes: { a2: 'man in a red jacket', a5: 'bins' },
    decisionWaiting: { id: 'w1', alertId: 'a2', action: 'dismiss', revision: 1, note: 'man in a red jacket', operator: 'Alice', asked: false },
    operatorAs: { entered: 'Alice', recorded: 'alice@city' },
    listedIds: ['a5', 'a2', 'a1'],
  };
  keepView(s, 'dash-1', view);
  assert.deepEqual([...s.items.keys()], [`${KEPT_VIEW_KEY_PREFIX}dash-1`]);
  assert.deepEqual(readKeptView(s, 'dash-1'), view);
  assert.deepEqual(readKeptView(s, 'dash-2'), emptyView(), 'another console on the page keeps its own');
});

test('nothing usable kept: an empty view, never an exception', () => {
  assert.deepEqual(readKeptView(null, 'd'), emptyView());
  assert.deepEqual(readKeptView(storage(true), 'd'), emptyView(), 'a storage that refuses');
  keepView(storage(true), 'd', emptyView());
  const s = storage();
  s.items.set(`${KEPT_VIEW_KEY_PREFIX}d`, '{not json');
  assert.deepEqual(readKeptView(s, 'd'), emptyView());
  s.items.set(`${KEPT_VIEW_KEY_PREFIX}d`, JSON.stringify({ selectedId: 7, notes: { a: 3, b: '' , c: 'kept' }, decisionWaiting: { id: 'w', alertId: 'a', action: 'confirm', revision: -1 }, operatorAs: 'Alice' }));
  const v = readKeptView(s, 'd');
  assert.equal(v.selectedId, null);
  assert.deepEqual(v.notes, { c: 'kept' }, 'only notes that are text');
  assert.equal(v.decisionWaiting, null, 'a decision without a usable revision is dropped');
  assert.equal(v.operatorAs, null);
  s.items.set(`${KEPT_VIEW_KEY_PREFIX}d`, JSON.stringify({ notes: { a: 'x'.repeat(5000) } }));
  assert.equal(readKeptView(s, 'd').notes.a.length, 1000, 'a note no longer than the field allows');
});

test('notes of alerts no longer listed go; the same object when none goes', () => {
  const notes = { a1: 'one', a2: 'two' };
  assert.equal(notesStillListed(notes, [record('a1'), record('a2'), record('a3')]), notes);
  assert.deepEqual(notesStillListed(notes, [record('a2')]), { a2: 'two' });
  assert.deepEqual(notesStillListed(notes, []), {});
});

test('snapshots that failed to load are remembered for the alerts still listed only; the same object when none goes', () => {
  const withSnapshot = (id: string) => ({ ...record(id), alert: { ...record(id).alert, video: { snapshot: `/vigie/video/cam-1/${id}/snapshot.jpg` } } });
  const gone = { '/vigie/video/cam-1/a1/snapshot.jpg': true, '/vigie/video/cam-1/a2/snapshot.jpg': true };
  assert.equal(snapshotsGoneListed(gone, [withSnapshot('a1'), withSnapshot('a2'), record('a3')]), gone);
  assert.deepEqual(snapshotsGoneListed(gone, [withSnapshot('a2'), record('a1')]), { '/vigie/video/cam-1/a2/snapshot.jpg': true }, 'an alert listed without that snapshot keeps no memory of it');
  assert.deepEqual(snapshotsGoneListed(gone, []), {});
});

test('what became of a decision sent without an answer, read at its revision in the alert', () => {
  const waiting = { id: 'w', alertId: 'g1', action: 'dismiss', revision: 1, note: ' backfire ', operator: 'Bob', asked: false };
  const alice = { action: 'escalate', operator: 'Alice' };
  assert.equal(decisionOutcome(waiting, null), 'gone');
  assert.equal(decisionOutcome(waiting, record('g1', [alice])), 'none', 'nothing at its place yet');
  // Node-RED trims the note
  assert.equal(decisionOutcome(waiting, record('g1', [alice, { action: 'dismiss', operator: 'Bob', note: 'backfire' }])), 'recorded');
  assert.equal(decisionOutcome(waiting, record('g1', [alice, { action: 'dismiss', operator: 'Bob', note: 'backfire' }, alice])), 'recorded', 'later decisions change nothing');
  assert.equal(decisionOutcome(waiting, record('g1', [alice, { action: 'dismiss', operator: 'Carol', note: 'backfire' }])), 'other', 'another operator\'s, the same');
  assert.equal(decisionOutcome(waiting, record('g1', [alice, { action: 'confirm', operator: 'Bob', note: 'backfire' }])), 'other');
  assert.equal(decisionOutcome(waiting, record('g1', [alice, { action: 'dismiss', operator: 'Bob' }])), 'other', 'without its note');
  assert.equal(decisionOutcome({ ...waiting, revision: 0 }, record('g1', [alice, { action: 'dismiss', operator: 'Bob', note: 'backfire' }])), 'other', 'at another place: refused there');
  assert.equal(decisionOutcome({ ...waiting, operator: '' }, record('g1', [alice, { action: 'dismiss', operator: 'bob@city', note: 'backfire' }])), 'recorded', 'who it was recorded under not known');
});

test('a decision is the one the console sent when its action, note (as Node-RED trims it) and, once known, operator are the same', () => {
  // the conflict question words a decision Node-RED sent with its refusal, not one read from the alert's decisions
  const waiting = { id: 'w', alertId: 'g1', action: 'escalate', revision: 0, note: ' fire brigade called ', operator: 'Hal', asked: false };
  assert.equal(isDecisionSent(waiting, { action: 'escalate', operator: 'Hal', note: 'fire brigade called' }), true);
  assert.equal(isDecisionSent(waiting, { action: 'escalate', operator: 'Hal' }), false, 'without its note: the same name at another desk');
  assert.equal(isDecisionSent(waiting, { action: 'dismiss', operator: 'Hal', note: 'fire brigade called' }), false);
  assert.equal(isDecisionSent(waiting, { action: 'escalate', operator: 'hal@city', note: 'fire brigade called' }), false);
  assert.equal(isDecisionSent({ ...waiting, operator: '', note: '' }, { action: 'escalate', operator: 'hal@city' }), true, 'who it was recorded under not known yet');
});

test('the alerts listed are kept as ids only, bounded; anything else is dropped', () => {
  const s = storage();
  s.items.set(`${KEPT_VIEW_KEY_PREFIX}d`, JSON.stringify({ listedIds: ['a', 3, null, 'b', { id: 'c' }] }));
  assert.deepEqual(readKeptView(s, 'd').listedIds, ['a', 'b']);
  s.items.set(`${KEPT_VIEW_KEY_PREFIX}d`, JSON.stringify({ listedIds: Array.from({ length: 5000 }, (_, i) => `id-${i}`) }));
  assert.equal(readKeptView(s, 'd').listedIds.length, 1000);
  s.items.set(`${KEPT_VIEW_KEY_PREFIX}d`, JSON.stringify({ listedIds: 'a,b' }));
  assert.equal(readKeptView(s, 'd').listedIds, null, 'not a list: nothing kept (a first load)');
});

test('a waiting decision is compared with the name Node-RED recorded this console under, once known; before, with any operator', () => {
  assert.equal(waitingOperator({ entered: 'Alice', recorded: 'alice@city' }, 'Alice'), 'alice@city');
  assert.equal(waitingOperator({ entered: 'Alice', recorded: 'Alice' }, 'Alice'), 'Alice');
  // No answer yet in this tab: with a dashboard login Node-RED records the logged-in user, not the name entered.
  assert.equal(waitingOperator(null, 'Alice'), '');
  assert.equal(waitingOperator({ entered: 'Bob', recorded: 'bob@city' }, 'Alice'), '', 'the name entered since');
  // What that means for the outcome: the console's own decision, recorded under the login, is its own.
  const waiting = { id: 'w', alertId: 'a', action: 'dismiss', revision: 0, note: '', operator: waitingOperator(null, 'Alice'), asked: false };
  assert.equal(decisionOutcome(waiting, record('a', [{ action: 'dismiss', operator: 'alice@city' }])), 'recorded');
  assert.equal(decisionOutcome({ ...waiting, operator: 'Alice' }, record('a', [{ action: 'dismiss', operator: 'alice@city' }])), 'other', 'what the typed name alone would say');
});
