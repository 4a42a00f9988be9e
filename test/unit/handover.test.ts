/**
 * Hand-over across a redeploy without Node-RED: the shelf that keeps a node's work for its next
 * instance, and the fusion localizer's incidents waiting for sensors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { HandOverShelf } from '../../lib/util/handover';
import { FusionLocalizer } from '../../lib/localize/localizer';
import { gunshotHeardAt } from '../support/detections';

const det = gunshotHeardAt;

test('shelf: the next node of that id takes the item once; one nobody takes is dropped, and said so', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const dropped: string[] = [];
  const shelf = new HandOverShelf<string>({ keepMs: 1000, maxItems: 2, onDropped: (id, item, why) => dropped.push(`${id}=${item}: ${why}`) });
  shelf.put('n1', 'work');
  assert.equal(shelf.take('n1'), 'work');
  assert.equal(shelf.take('n1'), undefined);
  shelf.put('n2', 'old');
  t.mock.timers.tick(1000);
  assert.equal(shelf.take('n2'), undefined);
  shelf.put('a', '1');
  shelf.put('b', '2');
  shelf.put('c', '3');
  assert.equal(shelf.size, 2);
  assert.deepEqual(dropped, ['n2=old: no node took it within 1 s', 'a=1: more than 2 hand-overs waiting']);
});

test('shelf: flows stopped without a deploy drop what was kept; a deploy\'s stop keeps it', () => {
  const shelf = new HandOverShelf<string>();
  const events = new EventEmitter();
  shelf.dropOnStopWithoutDeploy(events);
  shelf.dropOnStopWithoutDeploy(events);
  assert.equal(events.listenerCount('runtime-event'), 1, 'one listener per runtime');
  shelf.put('n1', 'work');
  events.emit('runtime-event', { id: 'runtime-state', payload: { state: 'stop', deploy: true } });
  assert.equal(shelf.size, 1);
  events.emit('runtime-event', { id: 'runtime-state', payload: { state: 'stop' } });
  assert.equal(shelf.size, 0);
});

test('fusion: incidents waiting for sensors are handed over with their deadline; a third report completes one', () => {
  const old = new FusionLocalizer({ minSensors: 3, timeoutMs: 1000 });
  assert.deepEqual(old.add(det('a', -20, -15), undefined, 0).ready, []);
  assert.deepEqual(old.add(det('b', 25, -10), undefined, 10).ready, []);
  const h = old.handOver();
  assert.equal(old.size, 0, 'the old instance is left empty');
  const next = new FusionLocalizer({ minSensors: 3, timeoutMs: 1000 });
  next.adopt(h);
  assert.equal(next.nextDeadlineMs(500), 500, 'its deadline kept');
  const r = next.add(det('c', 5, 30), undefined, 600);
  assert.equal(r.ready.length, 1);
  assert.deepEqual([...r.ready[0].location!.sensors].sort(), ['a', 'b', 'c']);
});

test('fusion: flush sends every incident waiting, with the sensors it has', () => {
  const f = new FusionLocalizer({ minSensors: 3, timeoutMs: 60_000 });
  f.add(det('a', -20, -15), undefined, 0);
  f.add(det('b', 25, -10), undefined, 0);
  const { ready } = f.flush(1);
  assert.equal(ready.length, 1);
  assert.deepEqual([...ready[0].location!.sensors].sort(), ['a', 'b']);
  assert.deepEqual(f.flush(2).ready, [], 'sent once');
});
