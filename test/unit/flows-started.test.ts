import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { flowsStartedListenerCount, onceFlowsStarted, onFlowsStarted } from '../../lib/util/flows-started';

test('one runtime listener for any number of nodes: each called once per flows:started, in the order given', () => {
  const events = new EventEmitter();
  const calls: string[] = [];
  for (let i = 0; i < 40; i++) onFlowsStarted(events, (e) => calls.push(`${i}:${(e as { type: string }).type}`));
  assert.equal(events.listenerCount('flows:started'), 1);
  assert.equal(flowsStartedListenerCount(events), 40);
  events.emit('flows:started', { type: 'full' });
  assert.deepEqual(calls, Array.from({ length: 40 }, (_, i) => `${i}:full`));
});

test('a listener taken off (a node closed) is not called again, nor one taken off by another while the event is handed out', () => {
  const events = new EventEmitter();
  const calls: string[] = [];
  let offC: () => void = () => undefined;
  const offA = onFlowsStarted(events, () => calls.push('a'));
  onFlowsStarted(events, () => {
    calls.push('b');
    offC();
  });
  offC = onFlowsStarted(events, () => calls.push('c'));
  onFlowsStarted(events, () => calls.push('d'));
  offA();
  offA(); // twice: nothing more happens
  events.emit('flows:started', {});
  assert.deepEqual(calls, ['b', 'd']);
  assert.equal(flowsStartedListenerCount(events), 2);
  // A runtime of its own: another EventEmitter has its own listeners.
  assert.equal(flowsStartedListenerCount(new EventEmitter()), 0);
});

test('a listener given while the event is handed out waits for the next one; once: called at the next only', () => {
  const events = new EventEmitter();
  const calls: string[] = [];
  onFlowsStarted(events, () => {
    calls.push('first');
    if (calls.length === 1) onFlowsStarted(events, () => calls.push('added'));
  });
  onceFlowsStarted(events, () => calls.push('once'));
  const offNever = onceFlowsStarted(events, () => calls.push('never'));
  offNever();
  events.emit('flows:started', {});
  events.emit('flows:started', {});
  assert.deepEqual(calls, ['first', 'once', 'first', 'added']);
  assert.equal(flowsStartedListenerCount(events), 2);
});

test('a listener that throws: the others are still called, then its error is thrown', () => {
  const events = new EventEmitter();
  const calls: string[] = [];
  onFlowsStarted(events, () => {
    throw new Error('first broke');
  });
  onFlowsStarted(events, () => {
    throw new Error('second broke');
  });
  onFlowsStarted(events, () => calls.push('after'));
  assert.throws(() => events.emit('flows:started', {}), /^Error: first broke$/);
  assert.deepEqual(calls, ['after']);
});
