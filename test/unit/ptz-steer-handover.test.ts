/**
 * PtzSteer across a redeploy (handOver, resume) and a removal (closeRemoved), with stand-in
 * camera connections: nothing it had in progress is lost.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PtzSteer, SteerOutput } from '../../lib/camera/steer';
import { destination } from '../../lib/camera/geometry';
import { waitFor } from '../support/wait';
import { asConns, cameraAt, FakeCamera, ORIGIN, steerAlert } from '../support/fake-ptz-camera';

/** What each instance sent, and the rebinding a node does: the old input's emit → the new instance's output. */
function outputs() {
  const before: SteerOutput[] = [];
  const after: SteerOutput[] = [];
  const emitBefore = (o: SteerOutput) => before.push(o);
  const rebind = (e: (o: SteerOutput) => void) => {
    assert.equal(e, emitBefore, 'the emit handed over is the one given to handle()');
    return (o: SteerOutput) => after.push(o);
  };
  return { before, after, emitBefore, rebind };
}

const OPTS = { pollMs: 10, returnHomeAfterMs: 0, minLookMs: 0 };

/** A camera kept on its alert (10 min) until the alert is dismissed: a later alert waits for it. */
const HOLDING = { ...OPTS, returnHomeAfterMs: 600_000 };

/** Camera a on a gunshot (held), a glass break waiting for it. */
async function gunshotHoldsGlassBreakWaits(steer: PtzSteer, emit: (o: SteerOutput) => void): Promise<void> {
  await steer.handle(steerAlert('gun', 'gunshot', destination(ORIGIN, 0, 40)), emit);
  await steer.handle(steerAlert('glass', 'glass_break', destination(ORIGIN, 90, 40)), emit);
}

/** An operator takes camera a for a crash; resolves once a is turning, with the handling of the request. */
async function operatorTurnsCameraToCrash(steer: PtzSteer, a: FakeCamera, emit: (o: SteerOutput) => void): Promise<{ taking: Promise<void> }> {
  a.held = true;
  const taking = steer.handle({ kind: 'move-request', alertId: 'crash', operator: 'bob', alert: steerAlert('crash', 'crash', destination(ORIGIN, 200, 40)) }, emit);
  await waitFor(() => a.moves.length === 2, 5000, 'camera a turning to the crash');
  return { taking };
}

/** [id, state, reason] of each alert of gunshotHoldsGlassBreakWaits then operatorTurnsCameraToCrash, ended by a removal. */
const ENDED_BY_REMOVAL = [
  ['crash', 'failed', 'ptz-steer was removed: the camera move was not followed to its end'],
  ['glass', 'unavailable', 'ptz-steer was removed: its wait for a busy camera ended'],
  // Taken from the gunshot while its hold ran: the gunshot waits for the camera again.
  ['gun', 'unavailable', 'ptz-steer was removed: its wait for a busy camera ended'],
];

test('redeployed while its camera turns: the new instance steers the alert again and sends it on target', async () => {
  const a = new FakeCamera(cameraAt('a', 0, 5), 0);
  const old = new PtzSteer(asConns([a]), OPTS);
  const { before, after, emitBefore, rebind } = outputs();
  a.held = true;
  const moving = old.handle(steerAlert('glass', 'glass_break', destination(ORIGIN, 60, 40)), emitBefore);
  await waitFor(() => a.moves.length === 1, 5000, 'camera a turning');
  const h = old.handOver();
  await moving;
  assert.deepEqual(before, [], 'the old instance sends nothing once closed');
  assert.deepEqual(h.moving.map((m) => m.alert.id), ['glass']);
  a.held = false;
  const next = new PtzSteer(asConns([a]), OPTS);
  try {
    await next.resume(h, rebind);
    const sent = after.filter((o) => o.port === 1);
    assert.equal(sent.length, 1);
    assert.equal(sent[0].payload.id, 'glass');
    assert.equal(sent[0].payload.camera?.state, 'on-target');
    assert.equal(a.moves.length, 2, 'the camera was sent to the alert again');
  } finally {
    next.close();
  }
});

test('redeployed while its camera turns, that camera removed by the deploy: sent failed, "ptz-steer was redeployed"', async () => {
  const a = new FakeCamera(cameraAt('a', 0, 5), 0);
  const old = new PtzSteer(asConns([a]), OPTS);
  const { after, emitBefore, rebind } = outputs();
  a.held = true;
  const moving = old.handle(steerAlert('glass', 'glass_break', destination(ORIGIN, 60, 40)), emitBefore);
  await waitFor(() => a.moves.length === 1, 5000, 'camera a turning');
  const h = old.handOver();
  await moving;
  const next = new PtzSteer(asConns([]), OPTS);
  await next.resume(h, rebind);
  assert.deepEqual(after.map((o) => [o.port, o.payload.id, o.payload.camera?.id, o.payload.camera?.state, o.payload.camera?.reason, o.error?.code]), [
    [1, 'glass', 'a', 'failed', 'ptz-steer was redeployed: no camera can look at it now', undefined],
    [2, 'glass', 'a', 'failed', 'ptz-steer was redeployed: no camera can look at it now', 'no-camera'],
  ]);
  next.close();
});

test('redeployed with an alert waiting for a busy camera: it still waits, and gets the camera when the holder is dismissed', async () => {
  const a = new FakeCamera(cameraAt('a', 0, 5), 0);
  const old = new PtzSteer(asConns([a]), HOLDING);
  const { before, after, emitBefore, rebind } = outputs();
  await gunshotHoldsGlassBreakWaits(old, emitBefore);
  assert.equal(before[before.length - 1].payload.camera?.state, 'waiting');
  const h = old.handOver();
  const next = new PtzSteer(asConns([a]), HOLDING);
  try {
    await next.resume(h, rebind);
    assert.deepEqual(next.waitingAlerts, ['glass'], 'still waiting after the redeploy');
    assert.equal(after.length, 0, 'nothing changed: nothing sent again');
    await next.handle({ kind: 'decision', alertId: 'gun', action: 'dismiss', operator: 'ana', time: 1 }, () => undefined);
    await waitFor(() => after.some((o) => o.payload.id === 'glass' && o.payload.camera?.state === 'on-target'), 5000, 'the glass break on target');
    // The gunshot's console, held over the redeploy, hears that its camera left it.
    assert.ok(after.some((o) => o.payload.id === 'gun' && o.payload.camera?.state === 'released'));
  } finally {
    next.close();
  }
});

test('redeployed in confirm mode: a Confirm after the redeploy moves the proposed camera', async () => {
  const a = new FakeCamera(cameraAt('a', 0, 5), 0);
  const old = new PtzSteer(asConns([a]), { ...OPTS, mode: 'confirm' });
  const { before, after, emitBefore, rebind } = outputs();
  await old.handle(steerAlert('p1', 'scream', destination(ORIGIN, 90, 30)), emitBefore);
  assert.equal(before[0].payload.camera?.state, 'proposed');
  const h = old.handOver();
  const next = new PtzSteer(asConns([a]), { ...OPTS, mode: 'confirm' });
  try {
    await next.resume(h, rebind);
    assert.deepEqual(next.pendingProposals, ['p1']);
    const confirmed: SteerOutput[] = [];
    await next.handle({ kind: 'decision', alertId: 'p1', action: 'confirm', operator: 'ana', time: 1 }, (o) => confirmed.push(o));
    assert.equal(a.moves.length, 1, 'the camera moved');
    assert.equal(confirmed[0].payload.camera?.state, 'on-target');
    assert.equal(after.length, 0);
  } finally {
    next.close();
  }
});

test('redeployed in confirm mode, the proposed camera removed: the proposal moves to the camera left, and says so', async () => {
  const a = new FakeCamera(cameraAt('a', 0, 5), 0);
  const b = new FakeCamera(cameraAt('b', 0, 60), 0);
  const old = new PtzSteer(asConns([a, b]), { ...OPTS, mode: 'confirm' });
  const { before, after, emitBefore, rebind } = outputs();
  await old.handle(steerAlert('p1', 'scream', destination(ORIGIN, 90, 30)), emitBefore);
  assert.equal(before[0].payload.camera?.id, 'a');
  const h = old.handOver();
  const next = new PtzSteer(asConns([b]), { ...OPTS, mode: 'confirm' });
  try {
    await next.resume(h, rebind);
    assert.equal(after.length, 1);
    assert.equal(after[0].payload.camera?.id, 'b');
    assert.equal(after[0].payload.camera?.state, 'proposed');
    assert.equal(after[0].payload.camera?.reason, 'ptz-steer was redeployed: camera b now instead of a');
    await next.handle({ kind: 'decision', alertId: 'p1', action: 'confirm', operator: 'ana', time: 1 }, () => undefined);
    assert.equal(b.moves.length, 1);
    assert.equal(a.moves.length, 0);
  } finally {
    next.close();
  }
});

test('removed while it had a move under way, an alert waiting and a proposal: each is sent as it ends, "ptz-steer was removed"', async () => {
  const a = new FakeCamera(cameraAt('a', 0, 5), 0);
  const steer = new PtzSteer(asConns([a]), HOLDING);
  const outs: SteerOutput[] = [];
  const emit = (o: SteerOutput) => outs.push(o);
  await gunshotHoldsGlassBreakWaits(steer, emit);
  // An operator takes the camera for a third alert: it is turning when the node is removed.
  const { taking } = await operatorTurnsCameraToCrash(steer, a, emit);
  outs.length = 0;
  steer.closeRemoved();
  await taking;
  const ended = outs.filter((o) => o.port === 1).map((o) => [o.payload.id, o.payload.camera?.state, o.payload.camera?.reason]);
  assert.deepEqual(ended.sort(), ENDED_BY_REMOVAL);
  assert.deepEqual(outs.filter((o) => o.port === 2).map((o) => [o.payload.id, o.error?.code]), [['crash', 'closed']]);
});

test('removed in confirm mode: the proposal is sent failed, "ptz-steer was removed: the proposed camera move was lost"', async () => {
  const a = new FakeCamera(cameraAt('a', 0, 5), 0);
  const steer = new PtzSteer(asConns([a]), { ...OPTS, mode: 'confirm' });
  const outs: SteerOutput[] = [];
  await steer.handle(steerAlert('p1', 'scream', destination(ORIGIN, 90, 30)), (o) => outs.push(o));
  outs.length = 0;
  steer.closeRemoved();
  assert.deepEqual(outs.map((o) => [o.port, o.payload.camera?.id, o.payload.camera?.state, o.payload.camera?.reason]), [
    [1, 'a', 'failed', 'ptz-steer was removed: the proposed camera move was lost'],
  ]);
});

test('removed before it resumed the hand-over it took (a second deploy before the flows started): what it was handed ends too, "ptz-steer was removed"', async () => {
  const a = new FakeCamera(cameraAt('a', 0, 5), 0);
  const old = new PtzSteer(asConns([a]), HOLDING);
  const { before, after, emitBefore, rebind } = outputs();
  await gunshotHoldsGlassBreakWaits(old, emitBefore);
  const { taking } = await operatorTurnsCameraToCrash(old, a, emitBefore);
  const h = old.handOver();
  await taking;
  before.length = 0;
  const next = new PtzSteer(asConns([a]), HOLDING);
  next.closeRemoved(h, rebind);
  assert.deepEqual(before, [], 'sent by the instance that is removed, not the one that handed over');
  assert.deepEqual(after.filter((o) => o.port === 1).map((o) => [o.payload.id, o.payload.camera?.state, o.payload.camera?.reason]).sort(), ENDED_BY_REMOVAL);
  assert.deepEqual(after.filter((o) => o.port === 2).map((o) => [o.payload.id, o.error?.code]), [['crash', 'closed']]);
});

test('removed before it resumed the hand-over, an alert of it come again meanwhile: ended as this instance has it, not twice', async () => {
  const a = new FakeCamera(cameraAt('a', 0, 5), 0);
  const old = new PtzSteer(asConns([a]), HOLDING);
  const { before, after, emitBefore, rebind } = outputs();
  await gunshotHoldsGlassBreakWaits(old, emitBefore);
  assert.equal(before[before.length - 1].payload.camera?.state, 'waiting');
  const h = old.handOver();
  const next = new PtzSteer(asConns([a]), HOLDING);
  // A newer copy of the glass break, placed better: camera a is free in this instance.
  const here: SteerOutput[] = [];
  await next.handle(steerAlert('glass', 'glass_break', destination(ORIGIN, 95, 40)), (o) => here.push(o));
  assert.equal(here[here.length - 1].payload.camera?.state, 'on-target');
  next.closeRemoved(h, rebind);
  assert.deepEqual(after, [], 'the older copy, waiting in the hand-over, is not ended after the newer one reached its camera');
});
