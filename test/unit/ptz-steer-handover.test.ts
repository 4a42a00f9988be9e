/**
 * PtzSteer across a redeploy (handOver, resume) and a removal (closeRemoved), with stand-in
 * camera connections: nothing it had in progress is lost.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PtzSteer, SteerOutput } from '../../lib/camera/steer';
import { CameraConnection } from '../../lib/camera/connection';
import { DEFAULT_CALIBRATION, destination } from '../../lib/camera/geometry';
import { CameraConfig } from '../../lib/camera/types';
import { waitFor } from '../support/wait';
import { FakeCamera } from '../support/fake-ptz-camera';

const O = { lat: 45.4397, lon: 4.3872 };

function config(id: string, brg: number, dist: number): CameraConfig {
  const p = destination(O, brg, dist);
  return { id, name: id, host: 'h', port: 80, ...p, heightM: 6, mountHeadingDeg: 0, tiltOffsetDeg: 0, calibration: DEFAULT_CALIBRATION, maxRangeM: 300, blindSectors: [] };
}

function alert(id: string, label: string, pos: { lat: number; lon: number }) {
  return {
    kind: 'detection', id, sensor: 's1', label, confidence: 0.9, onset: Date.now() / 1000, offset: Date.now() / 1000,
    level: { dbfs: -10 }, scores: {}, span: { sensor: 's1', start: 0, frames: 1 },
    location: { method: 'tdoa', sensors: ['s1'], position: { ...pos, errorM: 2 } },
  };
}

const asConns = (cams: FakeCamera[]) => () => cams as unknown as CameraConnection[];

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

test('redeployed while its camera turns: the new instance steers the alert again and sends it on target', async () => {
  const a = new FakeCamera(config('a', 0, 5), 0);
  const old = new PtzSteer(asConns([a]), OPTS);
  const { before, after, emitBefore, rebind } = outputs();
  a.held = true;
  const moving = old.handle(alert('glass', 'glass_break', destination(O, 60, 40)), emitBefore);
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
  const a = new FakeCamera(config('a', 0, 5), 0);
  const old = new PtzSteer(asConns([a]), OPTS);
  const { after, emitBefore, rebind } = outputs();
  a.held = true;
  const moving = old.handle(alert('glass', 'glass_break', destination(O, 60, 40)), emitBefore);
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
  const a = new FakeCamera(config('a', 0, 5), 0);
  const old = new PtzSteer(asConns([a]), { ...OPTS, returnHomeAfterMs: 600_000 });
  const { before, after, emitBefore, rebind } = outputs();
  await old.handle(alert('gun', 'gunshot', destination(O, 0, 40)), emitBefore);
  await old.handle(alert('glass', 'glass_break', destination(O, 90, 40)), emitBefore);
  assert.equal(before[before.length - 1].payload.camera?.state, 'waiting');
  const h = old.handOver();
  const next = new PtzSteer(asConns([a]), { ...OPTS, returnHomeAfterMs: 600_000 });
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
  const a = new FakeCamera(config('a', 0, 5), 0);
  const old = new PtzSteer(asConns([a]), { ...OPTS, mode: 'confirm' });
  const { before, after, emitBefore, rebind } = outputs();
  await old.handle(alert('p1', 'scream', destination(O, 90, 30)), emitBefore);
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
  const a = new FakeCamera(config('a', 0, 5), 0);
  const b = new FakeCamera(config('b', 0, 60), 0);
  const old = new PtzSteer(asConns([a, b]), { ...OPTS, mode: 'confirm' });
  const { before, after, emitBefore, rebind } = outputs();
  await old.handle(alert('p1', 'scream', destination(O, 90, 30)), emitBefore);
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
  const a = new FakeCamera(config('a', 0, 5), 0);
  const steer = new PtzSteer(asConns([a]), { ...OPTS, returnHomeAfterMs: 600_000 });
  const outs: SteerOutput[] = [];
  const emit = (o: SteerOutput) => outs.push(o);
  await steer.handle(alert('gun', 'gunshot', destination(O, 0, 40)), emit);
  await steer.handle(alert('glass', 'glass_break', destination(O, 90, 40)), emit);
  a.held = true;
  // An operator takes the camera for a third alert: it is turning when the node is removed.
  const taking = steer.handle({ kind: 'move-request', alertId: 'crash', operator: 'bob', alert: alert('crash', 'crash', destination(O, 200, 40)) }, emit);
  await waitFor(() => a.moves.length === 2, 5000, 'camera a turning to the crash');
  outs.length = 0;
  steer.closeRemoved();
  await taking;
  const ended = outs.filter((o) => o.port === 1).map((o) => [o.payload.id, o.payload.camera?.state, o.payload.camera?.reason]);
  assert.deepEqual(ended.sort(), [
    ['crash', 'failed', 'ptz-steer was removed: the camera move was not followed to its end'],
    ['glass', 'unavailable', 'ptz-steer was removed: its wait for a busy camera ended'],
    // Taken from the gunshot while its hold ran: the gunshot waits for the camera again.
    ['gun', 'unavailable', 'ptz-steer was removed: its wait for a busy camera ended'],
  ]);
  assert.deepEqual(outs.filter((o) => o.port === 2).map((o) => [o.payload.id, o.error?.code]), [['crash', 'closed']]);
});

test('removed in confirm mode: the proposal is sent failed, "ptz-steer was removed: the proposed camera move was lost"', async () => {
  const a = new FakeCamera(config('a', 0, 5), 0);
  const steer = new PtzSteer(asConns([a]), { ...OPTS, mode: 'confirm' });
  const outs: SteerOutput[] = [];
  await steer.handle(alert('p1', 'scream', destination(O, 90, 30)), (o) => outs.push(o));
  outs.length = 0;
  steer.closeRemoved();
  assert.deepEqual(outs.map((o) => [o.port, o.payload.camera?.id, o.payload.camera?.state, o.payload.camera?.reason]), [
    [1, 'a', 'failed', 'ptz-steer was removed: the proposed camera move was lost'],
  ]);
});

test('removed before it resumed the hand-over it took (a second deploy before the flows started): what it was handed ends too, "ptz-steer was removed"', async () => {
  const a = new FakeCamera(config('a', 0, 5), 0);
  const old = new PtzSteer(asConns([a]), { ...OPTS, returnHomeAfterMs: 600_000 });
  const { before, after, emitBefore, rebind } = outputs();
  await old.handle(alert('gun', 'gunshot', destination(O, 0, 40)), emitBefore);
  await old.handle(alert('glass', 'glass_break', destination(O, 90, 40)), emitBefore);
  a.held = true;
  const taking = old.handle({ kind: 'move-request', alertId: 'crash', operator: 'bob', alert: alert('crash', 'crash', destination(O, 200, 40)) }, emitBefore);
  await waitFor(() => a.moves.length === 2, 5000, 'camera a turning to the crash');
  const h = old.handOver();
  await taking;
  before.length = 0;
  const next = new PtzSteer(asConns([a]), { ...OPTS, returnHomeAfterMs: 600_000 });
  next.closeRemoved(h, rebind);
  assert.deepEqual(before, [], 'sent by the instance that is removed, not the one that handed over');
  assert.deepEqual(after.filter((o) => o.port === 1).map((o) => [o.payload.id, o.payload.camera?.state, o.payload.camera?.reason]).sort(), [
    ['crash', 'failed', 'ptz-steer was removed: the camera move was not followed to its end'],
    ['glass', 'unavailable', 'ptz-steer was removed: its wait for a busy camera ended'],
    ['gun', 'unavailable', 'ptz-steer was removed: its wait for a busy camera ended'],
  ]);
  assert.deepEqual(after.filter((o) => o.port === 2).map((o) => [o.payload.id, o.error?.code]), [['crash', 'closed']]);
});

test('removed before it resumed the hand-over, an alert of it come again meanwhile: ended as this instance has it, not twice', async () => {
  const a = new FakeCamera(config('a', 0, 5), 0);
  const old = new PtzSteer(asConns([a]), { ...OPTS, returnHomeAfterMs: 600_000 });
  const { before, after, emitBefore, rebind } = outputs();
  await old.handle(alert('gun', 'gunshot', destination(O, 0, 40)), emitBefore);
  await old.handle(alert('glass', 'glass_break', destination(O, 90, 40)), emitBefore);
  assert.equal(before[before.length - 1].payload.camera?.state, 'waiting');
  const h = old.handOver();
  const next = new PtzSteer(asConns([a]), { ...OPTS, returnHomeAfterMs: 600_000 });
  // A newer copy of the glass break, placed better: camera a is free in this instance.
  const here: SteerOutput[] = [];
  await next.handle(alert('glass', 'glass_break', destination(O, 95, 40)), (o) => here.push(o));
  assert.equal(here[here.length - 1].payload.camera?.state, 'on-target');
  next.closeRemoved(h, rebind);
  assert.deepEqual(after, [], 'the older copy, waiting in the hand-over, is not ended after the newer one reached its camera');
});
