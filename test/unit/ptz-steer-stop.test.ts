/**
 * PtzSteer across a stop of the flows without a deploy: what it had in progress is written to
 * its file (stopItemsOf, StopFiles) and taken by its next start (resumeAfterStop): recent alerts
 * resumed, older ones sent as ending, "Node-RED stopped: …". With stand-in cameras.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import { checkStopItem, PtzSteer, SteerHandOver, SteerOutput, SteerStopItem, STOP_RESUME_MAX_AGE_MS, stopItemsOf } from '../../lib/camera/steer';
import { destination } from '../../lib/camera/geometry';
import { monotonicMs } from '../../lib/util/clock';
import { StopFiles } from '../../lib/util/stop-file';
import { waitFor } from '../support/wait';
import { tempDir } from '../support/tmp';
import { asConns, cameraAt, FakeCamera, ORIGIN, steerAlert } from '../support/fake-ptz-camera';

const OPTS = { pollMs: 10, returnHomeAfterMs: 0, minLookMs: 0 };
const HOLDING = { ...OPTS, returnHomeAfterMs: 600_000 };
const files = new StopFiles<SteerStopItem>('ptz-steer', checkStopItem);

/** The emit of the message that brought an alert, and its topic (what the node keeps of the message). */
function input(topic: string) {
  const outs: SteerOutput[] = [];
  const emit = (o: SteerOutput) => outs.push(o);
  return { outs, emit, topic };
}

/**
 * The stop and the next start: the hand-over written to the file and read back, as the node
 * does; the items the next instance takes, and the outputs it sends them on (by topic).
 */
function throughFile(h: SteerHandOver, topics: Map<unknown, string>): { items: SteerStopItem[]; outs: Array<SteerOutput & { topic?: string }>; emitOf: (item: SteerStopItem) => (o: SteerOutput) => void } {
  const dir = tempDir('vigie-steer-stop-');
  try {
    files.write(dir, { nodeId: 'steer', stoppedAtMs: Date.now(), items: stopItemsOf(h, monotonicMs(), (e) => topics.get(e)) });
    const taken = files.take(dir, 'steer', Date.now());
    assert.ok(taken);
    assert.equal(fs.existsSync(files.fileOf(dir, 'steer')), false, 'the file is taken');
    const outs: Array<SteerOutput & { topic?: string }> = [];
    return { items: taken.items, outs, emitOf: (item) => (o) => outs.push({ ...o, topic: item.topic }) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** A camera turning to a glass break (topic street/glass) when the flows stop. */
async function stoppedWhileTurning(): Promise<{ a: FakeCamera; h: SteerHandOver; topics: Map<unknown, string>; moving: Promise<void> }> {
  const a = new FakeCamera(cameraAt('a', 0, 5), 0);
  const old = new PtzSteer(asConns([a]), OPTS);
  const { emit, topic } = input('street/glass');
  a.held = true;
  const moving = old.handle(steerAlert('glass', 'glass_break', destination(ORIGIN, 60, 40)), emit);
  await waitFor(() => a.moves.length === 1, 5000, 'camera a turning');
  const h = old.handOver();
  a.held = false;
  return { a, h, topics: new Map([[emit, topic]]), moving };
}

test('stopped while its camera turns, started again 20 s later: the alert is steered again and sent on target, on the message it came with', async () => {
  const { a, h, topics, moving } = await stoppedWhileTurning();
  await moving;
  const { items, outs, emitOf } = throughFile(h, topics);
  assert.deepEqual(
    items.map((i) => [i.alert.id, i.state, i.camera?.id, i.topic]),
    [['glass', 'moving', 'a', 'street/glass']],
  );
  const next = new PtzSteer(asConns([a]), OPTS);
  try {
    const r = await next.resumeAfterStop(items, 20_000, emitOf);
    assert.deepEqual(r, { resumed: 1, ended: 0 });
    assert.deepEqual(
      outs.map((o) => [o.port, o.payload.id, o.payload.camera?.state, o.topic]),
      [[1, 'glass', 'on-target', 'street/glass']],
    );
    assert.equal(a.moves.length, 2, 'the camera was sent to the alert again');
  } finally {
    next.close();
  }
});

test('stopped while its camera turns, started again after more than 5 min: sent failed, "Node-RED stopped: …", with "closed" on output 2; no camera moves', async () => {
  const { a, h, topics, moving } = await stoppedWhileTurning();
  await moving;
  const { items, outs, emitOf } = throughFile(h, topics);
  const next = new PtzSteer(asConns([a]), OPTS);
  try {
    const r = await next.resumeAfterStop(items, STOP_RESUME_MAX_AGE_MS + 1000, emitOf);
    assert.deepEqual(r, { resumed: 0, ended: 1 });
    assert.deepEqual(
      outs.map((o) => [o.port, o.payload.id, o.payload.camera?.id, o.payload.camera?.state, o.payload.camera?.reason, o.error?.code, o.topic]),
      [
        [1, 'glass', 'a', 'failed', 'Node-RED stopped: the camera move was not followed to its end', undefined, 'street/glass'],
        [2, 'glass', 'a', 'failed', 'Node-RED stopped: the camera move was not followed to its end', 'closed', 'street/glass'],
      ],
    );
    assert.equal(a.moves.length, 1, 'no move after the restart');
  } finally {
    next.close();
  }
});

test('the time stopped unknown (a wall clock not set): the alert is sent as ending, not steered', async () => {
  const { a, h, topics, moving } = await stoppedWhileTurning();
  await moving;
  const { items, outs, emitOf } = throughFile(h, topics);
  const next = new PtzSteer(asConns([a]), OPTS);
  try {
    assert.deepEqual(await next.resumeAfterStop(items, undefined, emitOf), { resumed: 0, ended: 1 });
    assert.equal(outs[0].payload.camera?.state, 'failed');
    assert.equal(a.moves.length, 1);
  } finally {
    next.close();
  }
});

test('stopped with an alert waiting for a busy camera: started again, the camera is free (no hold survives a restart) and turns to it; too old, it is sent unavailable', async () => {
  for (const stoppedForMs of [10_000, STOP_RESUME_MAX_AGE_MS + 1]) {
    const a = new FakeCamera(cameraAt('a', 0, 5), 0);
    const old = new PtzSteer(asConns([a]), HOLDING);
    const gun = input('street/gun');
    const glass = input('street/glass');
    await old.handle(steerAlert('gun', 'gunshot', destination(ORIGIN, 0, 40)), gun.emit);
    await old.handle(steerAlert('glass', 'glass_break', destination(ORIGIN, 90, 40)), glass.emit);
    assert.equal(glass.outs[glass.outs.length - 1].payload.camera?.state, 'waiting');
    const { items, outs, emitOf } = throughFile(
      old.handOver(),
      new Map<unknown, string>([
        [gun.emit, gun.topic],
        [glass.emit, glass.topic],
      ]),
    );
    // The gunshot was on target: done, nothing in progress to keep.
    assert.deepEqual(items.map((i) => [i.alert.id, i.state, i.camera?.state]), [['glass', 'waiting', 'waiting']]);
    const next = new PtzSteer(asConns([a]), HOLDING);
    try {
      await next.resumeAfterStop(items, stoppedForMs, emitOf);
      const sent = outs.map((o) => [o.port, o.payload.id, o.payload.camera?.state, o.payload.camera?.reason]);
      if (stoppedForMs < STOP_RESUME_MAX_AGE_MS) assert.deepEqual(sent, [[1, 'glass', 'on-target', undefined]]);
      else assert.deepEqual(sent, [[1, 'glass', 'unavailable', 'Node-RED stopped: its wait for a busy camera ended']]);
    } finally {
      next.close();
    }
  }
});

test('stopped in confirm mode: started again, the proposal is sent proposed again and a Confirm moves the camera; past its time it is sent failed, "the proposed camera move was lost"', async () => {
  const confirm = { ...OPTS, mode: 'confirm' as const, proposalTtlMs: 60_000 };
  for (const stoppedForMs of [10_000, 61_000]) {
    const a = new FakeCamera(cameraAt('a', 0, 5), 0);
    const old = new PtzSteer(asConns([a]), confirm);
    const p = input('street/scream');
    await old.handle(steerAlert('p1', 'scream', destination(ORIGIN, 90, 30)), p.emit);
    const { items, outs, emitOf } = throughFile(old.handOver(), new Map([[p.emit, p.topic]]));
    assert.deepEqual(items.map((i) => [i.alert.id, i.state, i.camera?.id]), [['p1', 'proposed', 'a']]);
    const next = new PtzSteer(asConns([a]), confirm);
    try {
      await next.resumeAfterStop(items, stoppedForMs, emitOf);
      if (stoppedForMs < 60_000) {
        assert.deepEqual(outs.map((o) => [o.payload.id, o.payload.camera?.id, o.payload.camera?.state, o.topic]), [['p1', 'a', 'proposed', 'street/scream']]);
        assert.deepEqual(next.pendingProposals, ['p1']);
        const confirmed: SteerOutput[] = [];
        await next.handle({ kind: 'decision', alertId: 'p1', action: 'confirm', operator: 'ana', time: 1 }, (o) => confirmed.push(o));
        assert.equal(a.moves.length, 1, 'the camera moved on the confirm');
        assert.equal(confirmed[0].payload.camera?.state, 'on-target');
      } else {
        assert.deepEqual(outs.map((o) => [o.payload.id, o.payload.camera?.id, o.payload.camera?.state, o.payload.camera?.reason]), [['p1', 'a', 'failed', 'Node-RED stopped: the proposed camera move was lost']]);
        assert.deepEqual(next.pendingProposals, []);
        assert.equal(a.moves.length, 0);
      }
    } finally {
      next.close();
    }
  }
});

test('stopped in confirm mode, the proposed camera gone at the restart: the proposal moves to the camera left, and says so', async () => {
  const confirm = { ...OPTS, mode: 'confirm' as const };
  const a = new FakeCamera(cameraAt('a', 0, 5), 0);
  const b = new FakeCamera(cameraAt('b', 0, 60), 0);
  const old = new PtzSteer(asConns([a, b]), confirm);
  const p = input('street/scream');
  await old.handle(steerAlert('p1', 'scream', destination(ORIGIN, 90, 30)), p.emit);
  const { items, outs, emitOf } = throughFile(old.handOver(), new Map([[p.emit, p.topic]]));
  const next = new PtzSteer(asConns([b]), confirm);
  try {
    await next.resumeAfterStop(items, 5000, emitOf);
    assert.deepEqual(outs.map((o) => [o.payload.camera?.id, o.payload.camera?.state, o.payload.camera?.reason]), [['b', 'proposed', 'Node-RED restarted: camera b now instead of a']]);
  } finally {
    next.close();
  }
});

test('an alert that came to the new instance before it took the file is not taken from the file again', async () => {
  const { a, h, topics, moving } = await stoppedWhileTurning();
  await moving;
  const { items, outs, emitOf } = throughFile(h, topics);
  const next = new PtzSteer(asConns([a]), OPTS);
  try {
    const fresh: SteerOutput[] = [];
    await next.handle(steerAlert('glass', 'glass_break', destination(ORIGIN, 60, 40)), (o) => fresh.push(o));
    assert.deepEqual(await next.resumeAfterStop(items, 1000, emitOf), { resumed: 0, ended: 0 });
    assert.deepEqual(outs, []);
    assert.equal(fresh.length, 1);
  } finally {
    next.close();
  }
});

test('privacy: an item whose alert carries samples is refused when read back, naming the field; only contract fields are written', async () => {
  const { h, topics, moving } = await stoppedWhileTurning();
  await moving;
  const items = stopItemsOf(h, monotonicMs(), (e) => topics.get(e));
  assert.throws(() => checkStopItem({ ...items[0], alert: { ...items[0].alert, samples: [0.1, 0.2] } }), /item\.alert\.samples: expected no such field/);
  assert.throws(() => checkStopItem({ ...items[0], alert: { ...items[0].alert, span: { ...items[0].alert.span, data: [1, 2] } } }), /item\.alert\.span\.data/);
  assert.throws(() => checkStopItem({ ...items[0], state: 'lost' }), /item\.state/);
});
