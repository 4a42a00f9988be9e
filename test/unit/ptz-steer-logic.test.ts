/**
 * PtzSteer alone, with stand-in camera connections (the real ONVIF path is covered by
 * onvif-camera.test.ts and the node tests): superseding by a more important alert hands the
 * older alert over to the next camera, contract errors name the field, no-camera reporting,
 * dismissals, expiry of proposals, and the audit trail.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PtzSteer, SteerOptions, SteerOutput, failureWords } from '../../lib/camera/steer';
import { CameraConnection } from '../../lib/camera/connection';
import { DEFAULT_CALIBRATION, degreesToSpace, destination } from '../../lib/camera/geometry';
import { PtzPosition } from '../../lib/camera/types';
import { moveToTarget, Ptz } from '../../lib/camera/mover';
import { AuditEvent, auditBus } from '../../lib/alerts/bus';
import { waitFor } from '../support/wait';
import { asConns, cameraAt, FakeCamera, ORIGIN, steerAlert } from '../support/fake-ptz-camera';
import { NTP_FIRST_SYNC_STEP_MS, stepWallClock } from '../support/wall-clock';

test('a more important alert takes a moving camera; the older alert goes on with the next camera', async () => {
  const a = new FakeCamera(cameraAt('a', 0, 5), 400);
  const b = new FakeCamera(cameraAt('b', 180, 80), 10);
  const steer = new PtzSteer(asConns([a, b]), { pollMs: 20, returnHomeAfterMs: 0 });
  const outs: SteerOutput[] = [];
  const audit: AuditEvent[] = [];
  const unsub = auditBus.subscribe((e) => audit.push(e));
  try {
    // Camera a is still on its way to the glass break when the gunshot comes, however slow the machine.
    a.held = true;
    const first = steer.handle(steerAlert('glass', 'glass_break', destination(ORIGIN, 10, 40)), (o) => outs.push(o));
    await waitFor(() => a.moves.length === 1, 5000, 'camera a moving to the glass break');
    const second = steer.handle(steerAlert('gun', 'gunshot', destination(ORIGIN, 20, 40)), (o) => outs.push(o));
    await waitFor(() => a.moves.length === 2, 5000, 'camera a sent to the gunshot');
    a.held = false;
    await Promise.all([first, second]);
  } finally {
    unsub();
    steer.close();
  }
  const final = (id: string) => outs.filter((o) => o.port === 1 && o.payload.id === id).pop()!;
  assert.equal(final('gun').payload.camera?.id, 'a');
  assert.equal(final('gun').payload.camera?.state, 'on-target');
  assert.equal(final('glass').payload.camera?.id, 'b');
  assert.equal(final('glass').payload.camera?.state, 'on-target');
  assert.equal(outs.filter((o) => o.port === 2).length, 0, 'superseding is not an error for the operator');
  const moves = audit.filter((e) => e.type === 'camera-move' && e.details.event === undefined);
  assert.deepEqual(
    moves.map((e) => `${e.alertId}:${(e.details as { cameraId: string }).cameraId}:${(e.details as { state: string }).state}`).sort(),
    ['glass:a:failed', 'glass:b:on-target', 'gun:a:on-target'],
  );
  // The glass break lost camera a on its way, to the gunshot, by the priority rule (no operator).
  const lost = audit.filter((e) => e.details.event === 'camera-taken');
  assert.deepEqual(lost.map((e) => ({ alertId: e.alertId, ...e.details })), [{ alertId: 'glass', event: 'camera-taken', cameraId: 'a', takenFor: 'gun', takenForLabel: 'gunshot', takenBy: null, reached: false }]);
});

test('no camera in range: the alert goes on, and output 2 says why', async () => {
  const a = new FakeCamera(cameraAt('a', 0, 0), 0);
  const steer = new PtzSteer(asConns([a]), { pollMs: 10, returnHomeAfterMs: 0 });
  const outs: SteerOutput[] = [];
  await steer.handle(steerAlert('far', 'crash', destination(ORIGIN, 0, 2000)), (o) => outs.push(o));
  assert.equal(outs[0].port, 1);
  assert.equal(outs[0].payload.camera, undefined);
  assert.equal(outs[1].port, 2);
  assert.equal(outs[1].error?.code, 'no-camera');
  assert.match(outs[1].error!.message, /a: out of range \(2000 m > 300 m\)/);
  assert.equal(a.moves.length, 0);
});

test('confirm mode: dismiss drops the proposal; a move-request for an unknown alert names the field', async () => {
  const a = new FakeCamera(cameraAt('a', 0, 0), 0);
  const steer = new PtzSteer(asConns([a]), { mode: 'confirm', pollMs: 10, returnHomeAfterMs: 0 });
  const outs: SteerOutput[] = [];
  await steer.handle(steerAlert('p1', 'scream', destination(ORIGIN, 90, 30)), (o) => outs.push(o));
  assert.equal(outs[0].payload.camera?.state, 'proposed');
  assert.deepEqual(steer.pendingProposals, ['p1']);
  await steer.handle({ kind: 'decision', alertId: 'p1', action: 'dismiss', operator: 'ana', time: 1 }, (o) => outs.push(o));
  assert.deepEqual(steer.pendingProposals, []);
  await steer.handle({ kind: 'decision', alertId: 'p1', action: 'confirm', operator: 'ana', time: 2 }, (o) => outs.push(o));
  assert.equal(a.moves.length, 0, 'a dismissed proposal never moves');
  await assert.rejects(steer.handle({ kind: 'move-request', alertId: 'p1' }, () => undefined), /payload\.alertId: expected the id of an alert with a proposed move/);
  await assert.rejects(steer.handle({ kind: 'decision', alertId: 'p1', action: 'maybe', operator: 'ana', time: 2 }, () => undefined), /payload\.action: expected one of/);
  steer.close();
});

test('confirm mode: proposals expire', async (t) => {
  // A proposal's age is read from the steer's clock: a mocked one, moved by hand.
  t.mock.timers.enable({ apis: ['Date'], now: Date.now() });
  const a = new FakeCamera(cameraAt('a', 0, 0), 0);
  const steer = new PtzSteer(asConns([a]), { mode: 'confirm', proposalTtlMs: 30, returnHomeAfterMs: 0, now: () => Date.now() });
  try {
    await steer.handle(steerAlert('p2', 'scream', destination(ORIGIN, 90, 30)), () => undefined);
    t.mock.timers.tick(29);
    assert.deepEqual(steer.pendingProposals, ['p2'], 'kept until its time is up');
    t.mock.timers.tick(1);
    assert.deepEqual(steer.pendingProposals, []);
  } finally {
    steer.close();
  }
});

test('bearing-only alerts and unusable payloads', async () => {
  const mast = new FakeCamera({ ...cameraAt('mast', 0, 0), sensorId: 's1' }, 0);
  const steer = new PtzSteer(asConns([mast]), { pollMs: 10, returnHomeAfterMs: 0, assumedDistanceM: 30 });
  const outs: SteerOutput[] = [];
  const bearingOnly = { ...steerAlert('b1', 'crash', ORIGIN), location: { method: 'doa', bearing: 135, bearingStd: 3, sensors: ['s1'] } };
  await steer.handle(bearingOnly, (o) => outs.push(o));
  const cam = outs[0].payload.camera!;
  assert.equal(cam.state, 'on-target');
  assert.equal(cam.target.bearing, 135);
  assert.equal(cam.target.distanceM, 30);
  await assert.rejects(steer.handle('text', () => undefined), /payload: expected an object, got "text"/);
  // An alert the localizer could not place: no camera turns, but it goes on to the operators.
  const unplaced: SteerOutput[] = [];
  const notPlaced = { ...steerAlert('x', 'crash', ORIGIN), location: { method: 'none', sensors: ['s1'], reason: 'one sensor only' } };
  await steer.handle(notPlaced, (o) => unplaced.push(o));
  assert.deepEqual(
    unplaced.map((o) => o.port),
    [1, 2],
  );
  assert.deepEqual(unplaced[0].payload, notPlaced, 'the alert as it came, without a camera');
  assert.equal(unplaced[1].error!.code, 'no-camera');
  assert.match(unplaced[1].error!.message, /no camera can look at alert x: it has no position nor bearing \(localizer said: one sensor only\)/);
  assert.equal(mast.moves.length, 1, 'no camera moved for it');
  // Its fields are checked all the same; without a location at all it is no alert ptz-steer takes.
  await assert.rejects(steer.handle({ ...notPlaced, confidence: 3 }, () => undefined), /payload\.confidence: expected a finite number >= 0 <= 1, got 3/);
  await assert.rejects(steer.handle({ ...notPlaced, location: undefined }, () => undefined), /payload\.location: expected an object with a position/);
  steer.close();
});

test('an alert placed at an altitude no street has is still aimed at and passed on, its altitude left aside with a warning', async () => {
  // Refused, such an alert (a remote sensor's Ground altitude typed wrong) would never reach the operators.
  const a = new FakeCamera(cameraAt('a', 0, 0), 0);
  const warnings: string[] = [];
  let nowMs = 0;
  const steer = new PtzSteer(asConns([a]), { pollMs: 10, returnHomeAfterMs: 0, now: () => nowMs }, { warn: (t) => warnings.push(t) });
  try {
    const high = (id: string, alt: unknown) => {
      const al = steerAlert(id, 'scream', destination(ORIGIN, 90, 30));
      return { ...al, location: { ...al.location, position: { ...al.location.position, alt } } };
    };
    const outs: SteerOutput[] = [];
    await steer.handle(high('h1', 52_000), (o) => outs.push(o));
    const sent = outs.filter((o) => o.port === 1).pop()!;
    assert.equal(sent.payload.camera?.state, 'on-target', 'the camera turned to it');
    assert.equal(a.moves.length, 1);
    assert.equal('alt' in sent.payload.location!.position!, false, 'passed on without the altitude');
    assert.equal(sent.payload.location!.position!.lat, high('h1', 0).location.position.lat);
    assert.deepEqual(warnings, [
      'alert h1: payload.location.position.alt is 52000 m, expected a number of metres from -1000 to 10000: left aside, the cameras aim as at their own ground (check the sensors\' Ground altitude); said at most once a minute',
    ]);
    // The same fault again within the minute: passed on, not said again; after it, said again.
    await steer.handle(high('h2', -5000), () => undefined);
    assert.equal(warnings.length, 1);
    nowMs += 60_000;
    await steer.handle(high('h3', 'high'), () => undefined);
    assert.equal(warnings.length, 2);
    assert.match(warnings[1], /^alert h3: payload\.location\.position\.alt is a string, expected a number of metres/);
    // An altitude in range is kept.
    const kept: SteerOutput[] = [];
    await steer.handle(high('h4', 120), (o) => kept.push(o));
    assert.equal(kept.filter((o) => o.port === 1).pop()!.payload.location!.position!.alt, 120);
  } finally {
    steer.close();
  }
});

test('the camera returns home after the quiet period, once', async () => {
  const a = new FakeCamera(cameraAt('a', 0, 0), 0);
  const steer = new PtzSteer(asConns([a]), { pollMs: 10, returnHomeAfterMs: 50 });
  await steer.handle(steerAlert('h', 'crash', destination(ORIGIN, 45, 30)), () => undefined);
  await steer.handle(steerAlert('h2', 'crash', destination(ORIGIN, 50, 30)), () => undefined);
  await waitFor(() => a.homes > 0, 5000, 'the camera sent home');
  // A negative check, so a fixed wait: no second return home follows. A second quiet-period
  // timer (50 ms) would have been set at h2, before this one, and fire first.
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(a.homes, 1);
  steer.close();
});

test('a camera that cannot go home is told once and retried with back-off until it does; a new alert cancels the retry', async () => {
  const a = new FakeCamera(cameraAt('a', 0, 0), 0);
  let refusals = 1;
  a.gotoHome = async () => {
    a.homes++;
    if (refusals-- > 0) throw Object.assign(new Error('connect ECONNREFUSED 10.0.0.5:80'), { code: 'ECONNREFUSED' });
  };
  const warned: string[] = [];
  const steer = new PtzSteer(asConns([a]), { pollMs: 10, returnHomeAfterMs: 50 }, { warn: (t) => warned.push(t) });
  try {
    await steer.handle(steerAlert('h', 'crash', destination(ORIGIN, 45, 30)), () => undefined);
    await waitFor(() => a.homes === 2, 10_000, 'a second attempt after the refusal');
    assert.deepEqual(warned, ['camera a could not return home: GotoHome: camera unreachable: connect ECONNREFUSED 10.0.0.5:80; retrying']);
    // Refused again, then a new alert takes the camera: the pending retry must not send it home.
    refusals = 1;
    await steer.handle(steerAlert('h2', 'crash', destination(ORIGIN, 50, 30)), () => undefined);
    await waitFor(() => a.homes === 3, 5000, 'the quiet period after h2');
    const movesBefore = a.moves.length;
    await steer.handle(steerAlert('h3', 'gunshot', destination(ORIGIN, 60, 30)), () => undefined);
    assert.equal(a.moves.length, movesBefore + 1);
    await waitFor(() => a.homes === 4, 5000, 'home after the quiet period of h3');
    // A negative check, so a fixed wait: the cancelled retry, timed before this timer for its
    // first delay (2 s, jitter 20 %: 2.4 s at most), would fire first; it must not.
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal(a.homes, 4);
    assert.equal(warned.length, 2);
  } finally {
    steer.close();
  }
});

test('a camera that refuses to go home (no home position) is warned about once and not retried', async () => {
  const a = new FakeCamera(cameraAt('a', 0, 0), 0);
  a.gotoHome = async () => {
    a.homes++;
    throw new Error('ONVIF SOAP Fault: GotoHomePosition is not supported');
  };
  const warned: string[] = [];
  const steer = new PtzSteer(asConns([a]), { pollMs: 10, returnHomeAfterMs: 50 }, { warn: (t) => warned.push(t) });
  try {
    await steer.handle(steerAlert('n', 'crash', destination(ORIGIN, 45, 30)), () => undefined);
    await waitFor(() => a.homes === 1, 5000, 'the attempt to go home');
    // A negative check, so a fixed wait: a retry would be timed at the refusal, before this
    // timer, for its first delay (2 s, jitter 20 %: 2.4 s at most), and fire first.
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal(a.homes, 1, 'not tried again');
    assert.equal(warned.length, 1);
    assert.match(warned[0], /camera a could not return home: .*not supported; not retried/);
  } finally {
    steer.close();
  }
});

/** One stand-in camera "a" at ORIGIN and a PtzSteer over it (polling every 5 ms); `send` hands it a payload, its outputs go to `outs`, its log lines to `logs`. */
async function withOneCamera(
  opts: Partial<SteerOptions>,
  travelMs: number,
  body: (t: { a: FakeCamera; steer: PtzSteer; outs: SteerOutput[]; logs: string[]; send: (payload: unknown) => Promise<void> }) => Promise<void>,
): Promise<void> {
  const a = new FakeCamera(cameraAt('a', 0, 0), travelMs);
  const logs: string[] = [];
  const steer = new PtzSteer(asConns([a]), { pollMs: 5, ...opts }, { log: (t) => logs.push(t) });
  const outs: SteerOutput[] = [];
  try {
    await body({ a, steer, outs, logs, send: (payload) => steer.handle(payload, (o) => outs.push(o)) });
  } finally {
    steer.close();
  }
}

const lastOf = (outs: SteerOutput[], id: string) => outs.filter((o) => o.port === 1 && o.payload.id === id).pop();

test('every camera busy with a more important alert: the alert waits, says for which camera and why, and gets it when the hold ends', () =>
  withOneCamera({ moveTimeoutMs: 100, returnHomeAfterMs: 300 }, 0, async ({ a, steer, outs, send }) => {
    await send(steerAlert('gun', 'gunshot', destination(ORIGIN, 10, 40)));
    const heldAt = Date.now();
    await send(steerAlert('glass', 'glass_break', destination(ORIGIN, 200, 40)));
    const waiting = lastOf(outs, 'glass')!.payload.camera!;
    assert.equal(waiting.state, 'waiting');
    assert.equal(waiting.id, 'a', 'names the camera it waits for');
    assert.equal(waiting.target.bearing, 200, 'with the aim it will take');
    assert.match(waiting.reason!, /^camera a is busy with a gunshot alert; waiting up to 5 min for it to be free$/);
    assert.equal(waiting.heldFor, 'gun', 'the holder\'s id is in heldFor');
    assert.equal(outs.filter((o) => o.port === 2).length, 0, 'waiting is not an error');
    assert.deepEqual(steer.waitingAlerts, ['glass']);
    assert.equal(a.moves.length, 1, 'the camera stays on the gunshot');
    await waitFor(() => lastOf(outs, 'glass')!.payload.camera!.state === 'on-target', 3000, 'the glass alert on target');
    assert.ok(Date.now() - heldAt >= 250, `served when the hold ended, not before (${Date.now() - heldAt} ms)`);
    assert.equal(a.moves.length, 2);
    assert.equal(a.homes, 0, 'turned to the waiting alert instead of going home');
    assert.deepEqual(steer.waitingAlerts, []);
    // The gunshot is told the camera left it (its live picture would now be of the glass break).
    const gun = lastOf(outs, 'gun')!.payload.camera!;
    assert.equal(gun.state, 'released');
    assert.equal(gun.reason, 'camera a looked here, then turned to glass breaking alert glass');
    assert.equal(gun.target.bearing, 10, 'with the aim it had');
    await waitFor(() => a.homes === 1, 3000, 'home after the second quiet period');
    const glass = lastOf(outs, 'glass')!.payload.camera!;
    assert.equal(glass.state, 'released', 'and so is the glass break when the camera goes home');
    assert.equal(glass.reason, 'camera a looked here, then went home after the quiet period (300 ms)');
    assert.equal(outs.filter((o) => o.port === 2).length, 0, 'a camera leaving is no error');
  }));

test('a wall clock step forward (NTP sync after boot) does not end a camera hold: a less important alert is still held out', () =>
  withOneCamera({ returnHomeAfterMs: 60_000, waitForCameraMs: 0 }, 0, async ({ a, outs, send }) => {
    const wall = stepWallClock();
    try {
      await send(steerAlert('gun', 'gunshot', destination(ORIGIN, 10, 40)));
      assert.equal(lastOf(outs, 'gun')!.payload.camera!.state, 'on-target');
      wall.step(NTP_FIRST_SYNC_STEP_MS);
      await send(steerAlert('glass', 'glass_break', destination(ORIGIN, 80, 40)));
      assert.equal(a.moves.length, 1, 'the camera stays on the gunshot');
      assert.match(outs.find((o) => o.port === 2)!.error!.message, /a: held by alert gun/);
    } finally {
      wall.restore();
    }
  }));

test('a wall clock step back does not lengthen a camera hold: the alert waiting gets the camera when the hold ends', () =>
  // Held for the move timeout (0.3 s), with no minimum look, and never sent home: only the hold's end frees it.
  withOneCamera({ moveTimeoutMs: 300, returnHomeAfterMs: 0, minLookMs: 0 }, 0, async ({ a, outs, send }) => {
    const wall = stepWallClock();
    try {
      await send(steerAlert('gun', 'gunshot', destination(ORIGIN, 10, 40)));
      await send(steerAlert('glass', 'glass_break', destination(ORIGIN, 200, 40)));
      assert.equal(lastOf(outs, 'glass')!.payload.camera!.state, 'waiting');
      wall.step(-10 * 60_000);
      // On the wall clock the 0.3 s hold would end ten minutes later.
      await waitFor(() => lastOf(outs, 'glass')!.payload.camera!.state === 'on-target', 60_000, 'the glass alert on target');
      assert.equal(a.moves.length, 2);
    } finally {
      wall.restore();
    }
  }));

test('a hold that ended before its wake-up ran (a busy event loop): a wait check made then still serves the alert waiting', async () => {
  // The steer's clock is the test's: the gunshot's 0.3 s hold ends on it while no timer has run.
  let nowMs = 1_000_000;
  const a = new FakeCamera(cameraAt('a', 0, 0), 0);
  const steer = new PtzSteer(asConns([a]), { pollMs: 5, moveTimeoutMs: 300, returnHomeAfterMs: 0, minLookMs: 0, now: () => nowMs });
  const outs: SteerOutput[] = [];
  const send = (payload: unknown) => steer.handle(payload, (o) => outs.push(o));
  try {
    await send(steerAlert('gun', 'gunshot', destination(ORIGIN, 10, 40)));
    await send(steerAlert('glass', 'glass_break', destination(ORIGIN, 200, 40)));
    await send(steerAlert('glass2', 'glass_break', destination(ORIGIN, 220, 40)));
    assert.deepEqual(steer.waitingAlerts.sort(), ['glass', 'glass2']);
    nowMs += 1000;
    // Another wait check before the hold's own wake-up: here, a waiting alert dismissed.
    await send({ kind: 'decision', alertId: 'glass2', action: 'dismiss', operator: 'ana', time: 1 });
    await waitFor(() => lastOf(outs, 'glass')?.payload.camera?.state === 'on-target', 3000, 'the glass alert on target');
    assert.equal(a.moves.length, 2);
  } finally {
    steer.close();
  }
});

test('dismissing the alert that holds a camera frees it at once for the alert waiting', () =>
  withOneCamera({ returnHomeAfterMs: 60_000 }, 0, async ({ a, steer, outs, send }) => {
    await send(steerAlert('gun', 'gunshot', destination(ORIGIN, 10, 40)));
    await send(steerAlert('scream', 'scream', destination(ORIGIN, 100, 40)));
    assert.equal(lastOf(outs, 'scream')!.payload.camera!.state, 'waiting');
    // A decision about another alert frees nothing.
    await send({ kind: 'decision', alertId: 'scream', action: 'confirm', operator: 'ana', time: 1 });
    assert.deepEqual(steer.waitingAlerts, ['scream']);
    await send({ kind: 'decision', alertId: 'gun', action: 'dismiss', operator: 'ana', time: 2 });
    await waitFor(() => lastOf(outs, 'scream')!.payload.camera!.state === 'on-target', 2000, 'the scream on target');
    assert.equal(a.moves.length, 2);
    // The dismissed gunshot does not wait for the camera, but its record learns the camera left.
    assert.equal(lastOf(outs, 'gun')!.payload.camera!.state, 'released');
    assert.deepEqual(steer.waitingAlerts, []);
  }));

test('waiting alerts are served most important first; a dismissed waiting alert leaves the queue', () =>
  withOneCamera({ returnHomeAfterMs: 60_000 }, 0, async ({ a, steer, outs, send }) => {
    await send(steerAlert('gun', 'gunshot', destination(ORIGIN, 10, 40)));
    await send(steerAlert('skid', 'tire_skid', destination(ORIGIN, 40, 40)));
    await send(steerAlert('glass', 'glass_break', destination(ORIGIN, 80, 40)));
    await send(steerAlert('scream', 'scream', destination(ORIGIN, 120, 40)));
    assert.deepEqual(steer.waitingAlerts, ['scream', 'glass', 'skid']);
    await send({ kind: 'decision', alertId: 'skid', action: 'dismiss', operator: 'ana', time: 1 });
    assert.deepEqual(steer.waitingAlerts, ['scream', 'glass']);
    await send({ kind: 'decision', alertId: 'gun', action: 'dismiss', operator: 'ana', time: 2 });
    await waitFor(() => lastOf(outs, 'scream')!.payload.camera!.state === 'on-target', 2000, 'the scream on target');
    // The scream now holds the camera against the less important glass break.
    assert.deepEqual(steer.waitingAlerts, ['glass']);
    assert.equal(lastOf(outs, 'glass')!.payload.camera!.state, 'waiting');
    assert.equal(a.moves.length, 2, 'the dismissed tyre skid never moved the camera');
  }));

test('a wait that finds no free camera in time ends as unavailable (no fault), with the reason, and output 2 says no-camera', () =>
  withOneCamera({ returnHomeAfterMs: 60_000, waitForCameraMs: 1000 }, 0, async ({ a, steer, outs, send }) => {
    await send(steerAlert('gun', 'gunshot', destination(ORIGIN, 10, 40)));
    await send(steerAlert('glass', 'glass_break', destination(ORIGIN, 80, 40)));
    assert.match(lastOf(outs, 'glass')!.payload.camera!.reason!, /waiting up to 1 s/);
    await waitFor(() => outs.some((o) => o.port === 2), 3000, 'output 2');
    const cam = lastOf(outs, 'glass')!.payload.camera!;
    assert.equal(cam.state, 'unavailable', 'no camera failed: all were busy');
    assert.match(cam.reason!, /^no camera was free within 1 s \(camera a is busy with gunshot alert gun\)$/);
    const err = outs.find((o) => o.port === 2)!;
    assert.equal(err.error?.code, 'no-camera');
    assert.equal(err.payload.id, 'glass');
    assert.deepEqual(steer.waitingAlerts, []);
    assert.equal(a.moves.length, 1);
  }));

/** An alert as steerAlert() makes it, that happened `ageS` seconds ago (of two of equal priority, the older is the less urgent). */
const alertAged = (id: string, label: string, pos: { lat: number; lon: number }, ageS: number) => ({ ...steerAlert(id, label, pos), onset: Date.now() / 1000 - ageS, offset: Date.now() / 1000 - ageS });

test('at most 100 alerts wait for a busy camera: past that, the least urgent ends unavailable at once, says why, output 2 says no-camera, one log line', () =>
  withOneCamera({ returnHomeAfterMs: 60_000 }, 0, async ({ a, steer, outs, logs, send }) => {
    await send(steerAlert('gun', 'gunshot', destination(ORIGIN, 10, 40)));
    await send(alertAged('skid', 'tire_skid', destination(ORIGIN, 200, 40), 200));
    assert.equal(lastOf(outs, 'skid')!.payload.camera!.state, 'waiting');
    for (let i = 0; i < 100; i++) await send(alertAged(`glass-${i}`, 'glass_break', destination(ORIGIN, 120, 40), 100 - i));
    assert.equal(steer.waitingAlerts.length, 100);
    assert.ok(!steer.waitingAlerts.includes('skid'), 'the tyre skid, least important, no longer waits');
    const skid = lastOf(outs, 'skid')!.payload.camera!;
    assert.equal(skid.state, 'unavailable', 'it ends as a wait without a camera ends, not silently');
    assert.equal(skid.reason, 'no camera for it: 100 more urgent alerts wait for a busy camera (camera a is busy with gunshot alert gun)');
    const errors = outs.filter((o) => o.port === 2);
    assert.deepEqual(errors.map((o) => [o.payload.id, o.error?.code]), [['skid', 'no-camera']]);
    assert.equal(logs.filter((l) => l.startsWith('alert skid: no camera for it')).length, 1, 'said once in the log');
    // A tyre skid coming now is less urgent than all of them: it is never sent "waiting".
    await send(alertAged('skid-2', 'tire_skid', destination(ORIGIN, 220, 40), 0));
    assert.deepEqual(outs.filter((o) => o.payload.id === 'skid-2').map((o) => [o.port, o.payload.camera?.state]), [[1, 'unavailable'], [2, 'unavailable']]);
    // A more urgent one takes its place in the queue from the oldest glass break.
    await send(steerAlert('scream', 'scream', destination(ORIGIN, 300, 40)));
    assert.equal(steer.waitingAlerts.length, 100);
    assert.equal(steer.waitingAlerts[0], 'scream');
    assert.ok(!steer.waitingAlerts.includes('glass-0'));
    assert.equal(lastOf(outs, 'glass-0')!.payload.camera!.state, 'unavailable');
    assert.equal(lastOf(outs, 'glass-1')!.payload.camera!.state, 'waiting');
    assert.equal(a.moves.length, 1, 'the camera stays on the gunshot');
  }));

test('an alert that had its look, crowded out of the queue for a busy camera, ends released (no fault), saying why', () =>
  withOneCamera({ returnHomeAfterMs: 60_000 }, 0, async ({ steer, outs, logs, send }) => {
    await glassTakenByGunshot(send, outs);
    for (let i = 0; i < 100; i++) await send(steerAlert(`scream-${i}`, 'scream', destination(ORIGIN, 200, 40)));
    assert.equal(steer.waitingAlerts.length, 100);
    assert.ok(!steer.waitingAlerts.includes('glass'));
    const glass = lastOf(outs, 'glass')!.payload.camera!;
    assert.equal(glass.state, 'released');
    assert.equal(glass.reason, 'camera a looked here, then turned to gunshot alert gun; not waiting for a camera again: 100 more urgent alerts wait for a busy camera');
    assert.equal(outs.filter((o) => o.port === 2).length, 0, 'a release is not an error');
    assert.equal(logs.filter((l) => l.startsWith('alert glass: camera a looked here, then turned to gunshot alert gun; not waiting')).length, 1, 'said once in the log');
  }));

test('waiting switched off (0): every camera held means output 2 at once', () =>
  // no minimum look: a more recent gunshot takes the camera at once
  withOneCamera({ returnHomeAfterMs: 60_000, waitForCameraMs: 0, minLookMs: 0 }, 0, async ({ a, steer, outs, send }) => {
    await send(steerAlert('gun', 'gunshot', destination(ORIGIN, 10, 40)));
    await send(steerAlert('glass', 'glass_break', destination(ORIGIN, 80, 40)));
    assert.equal(lastOf(outs, 'glass')!.payload.camera, undefined);
    const err = outs.find((o) => o.port === 2)!;
    assert.equal(err.error?.code, 'no-camera');
    assert.match(err.error!.message, /a: held by alert gun/);
    assert.deepEqual(steer.waitingAlerts, []);
    // A more recent alert of its priority takes the camera: the gunshot it leaves does not wait, and is told so at once.
    await send(steerAlert('gun2', 'gunshot', destination(ORIGIN, 300, 40)));
    assert.equal(lastOf(outs, 'gun2')!.payload.camera!.state, 'on-target');
    const gun = lastOf(outs, 'gun')!.payload.camera!;
    assert.equal(gun.state, 'released');
    assert.equal(gun.reason, 'camera a looked here, then turned to gunshot alert gun2');
  }));

test('an alert taken off its only camera by a more important one waits for it', () =>
  withOneCamera({ moveTimeoutMs: 1000, returnHomeAfterMs: 200 }, 300, async ({ a, outs, send }) => {
    // The gunshot comes while the camera is still turning to the glass break.
    a.held = true;
    const first = send(steerAlert('glass', 'glass_break', destination(ORIGIN, 80, 40)));
    await waitFor(() => a.moves.length === 1, 5000, 'the camera moving to the glass break');
    const second = send(steerAlert('gun', 'gunshot', destination(ORIGIN, 10, 40)));
    await waitFor(() => a.moves.length === 2, 5000, 'the camera sent to the gunshot');
    a.held = false;
    await Promise.all([first, second]);
    assert.equal(lastOf(outs, 'gun')!.payload.camera!.state, 'on-target');
    assert.equal(lastOf(outs, 'glass')!.payload.camera!.state, 'waiting');
    assert.equal(outs.filter((o) => o.port === 2).length, 0);
    await waitFor(() => lastOf(outs, 'glass')!.payload.camera!.state === 'on-target', 5000, 'the glass alert on target');
  }));

test('an operator takes a busy camera for a waiting alert, and holds it as firmly as the alert it displaced', () =>
  // no minimum look: a more recent gunshot takes the camera at once
  withOneCamera({ returnHomeAfterMs: 60_000, minLookMs: 0 }, 0, async ({ steer, outs, send }) => {
    const audit: AuditEvent[] = [];
    const unsub = auditBus.subscribe((e) => audit.push(e));
    try {
      await send(steerAlert('gun', 'gunshot', destination(ORIGIN, 10, 40)));
      await send(steerAlert('glass', 'glass_break', destination(ORIGIN, 80, 40)));
      assert.equal(lastOf(outs, 'glass')!.payload.camera!.state, 'waiting');
      await assert.rejects(steer.handle({ kind: 'move-request', alertId: 'glass', operator: 'bo', cameraId: 'zz' }, () => undefined), /payload\.cameraId: expected one of this ptz-steer's cameras: "a", got "zz"/);
      await assert.rejects(steer.handle({ kind: 'move-request', alertId: 'glass', operator: 'bo', cameraId: 7 }, () => undefined), /payload\.cameraId: expected a camera id \(text\), or nothing for the proposed camera, got 7/);
      assert.deepEqual(steer.waitingAlerts, ['glass'], 'a refused request leaves the alert waiting');
      await send({ kind: 'move-request', alertId: 'glass', operator: 'bo' });
      assert.equal(lastOf(outs, 'glass')!.payload.camera!.state, 'on-target');
      const move = audit.filter((e) => e.type === 'camera-move' && e.alertId === 'glass').pop()!;
      assert.equal(move.actor, 'bo');
      // The gunshot it displaced waits for the camera in its turn, and says who took it, for which alert.
      assert.deepEqual(steer.waitingAlerts, ['gun']);
      assert.match(lastOf(outs, 'gun')!.payload.camera!.reason!, /^camera a looked here, then was taken by bo for glass breaking alert glass; waiting up to 5 min for a camera to be free$/);
      // The audit log says it under the gunshot too: which camera it lost, for which alert, by whose choice.
      const lost = audit.filter((e) => e.alertId === 'gun' && e.details.event === 'camera-taken');
      assert.deepEqual(lost.map((e) => ({ actor: e.actor, ...e.details })), [{ actor: 'bo', event: 'camera-taken', cameraId: 'a', takenFor: 'glass', takenForLabel: 'glass_break', takenBy: 'bo', reached: true }]);
      // Before the move's own entry, which names the camera's state for the glass break.
      assert.ok(audit.indexOf(lost[0]) < audit.indexOf(move));
      // A scream (priority 4) cannot take back what the operator took from a gunshot (5).
      await send(steerAlert('scream', 'scream', destination(ORIGIN, 200, 40)));
      assert.equal(lastOf(outs, 'scream')!.payload.camera!.state, 'waiting');
      assert.match(lastOf(outs, 'scream')!.payload.camera!.reason!, /busy with a glass breaking alert/);
      assert.equal(lastOf(outs, 'scream')!.payload.camera!.heldFor, 'glass');
      // A new gunshot can; the glass break it displaces waits too.
      await send(steerAlert('gun2', 'gunshot', destination(ORIGIN, 300, 40)));
      assert.equal(lastOf(outs, 'gun2')!.payload.camera!.state, 'on-target');
      assert.deepEqual(steer.waitingAlerts, ['gun', 'scream', 'glass']);
      // No operator took it this time: the camera turned by itself.
      assert.match(lastOf(outs, 'glass')!.payload.camera!.reason!, /^camera a looked here, then turned to gunshot alert gun2; waiting/);
      const glassLost = audit.filter((e) => e.alertId === 'glass' && e.details.event === 'camera-taken');
      assert.deepEqual(glassLost.map((e) => [e.details.takenFor, e.details.takenBy]), [['gun2', null]]);
    } finally {
      unsub();
    }
  }));

test('a dismissed alert sent again (the localizer placed it better) moves no camera', () =>
  withOneCamera({ returnHomeAfterMs: 60_000 }, 0, async ({ a, outs, send }) => {
    await send(steerAlert('g', 'gunshot', destination(ORIGIN, 10, 40)));
    assert.equal(a.moves.length, 1);
    await send({ kind: 'decision', alertId: 'g', action: 'dismiss', operator: 'ana', time: 1 });
    await send(steerAlert('g', 'gunshot', destination(ORIGIN, 12, 41)));
    assert.equal(a.moves.length, 1, 'no move for a dismissed alert');
    const last = outs[outs.length - 1];
    assert.equal(last.port, 1, 'it still goes on to the operators');
    assert.equal(last.payload.camera, undefined);
    // Not dismissed: a better-placed copy re-aims the camera it holds.
    await send(steerAlert('h', 'glass_break', destination(ORIGIN, 90, 40)));
    await send(steerAlert('h', 'glass_break', destination(ORIGIN, 95, 40)));
    assert.equal(a.moves.length, 3);
    assert.equal(lastOf(outs, 'h')!.payload.camera!.target.bearing, 95);
  }));

test('a waiting alert that an operator dismisses is told its wait ended (unavailable, who dismissed it), not left waiting; Take camera on it still turns a camera', () =>
  withOneCamera({ returnHomeAfterMs: 60_000 }, 0, async ({ a, steer, outs, send }) => {
    const audit: AuditEvent[] = [];
    const unsub = auditBus.subscribe((e) => audit.push(e));
    try {
      await send(steerAlert('gun', 'gunshot', destination(ORIGIN, 10, 40)));
      await send(steerAlert('glass', 'glass_break', destination(ORIGIN, 80, 40)));
      const waiting = lastOf(outs, 'glass')!.payload.camera!;
      assert.equal(waiting.state, 'waiting');
      await send({ kind: 'decision', alertId: 'glass', action: 'dismiss', operator: 'Alice', time: 1 });
      assert.deepEqual(steer.waitingAlerts, []);
      const ended = lastOf(outs, 'glass')!.payload.camera!;
      assert.equal(ended.state, 'unavailable', 'no promise left on the console');
      assert.equal(ended.reason, 'wait ended: dismissed by Alice');
      assert.equal(ended.id, 'a', 'the camera it waited for');
      assert.deepEqual(ended.target, waiting.target, 'with the aim it would have taken');
      assert.equal(ended.heldFor, undefined, 'its holder of then is no news');
      assert.equal(outs.filter((o) => o.port === 2).length, 0, 'a dismissal is no fault');
      assert.equal(a.moves.length, 1, 'the camera stays on the gunshot');
      // The operator takes a camera for it all the same: the console sends the alert with the request.
      const { camera: _c, ...shown } = lastOf(outs, 'glass')!.payload;
      await send({ kind: 'move-request', alertId: 'glass', operator: 'Bob', alert: { ...shown, camera: ended } });
      assert.equal(lastOf(outs, 'glass')!.payload.camera!.state, 'on-target');
      assert.equal(a.moves.length, 2);
      const move = audit.filter((e) => e.type === 'camera-move' && e.alertId === 'glass').pop()!;
      assert.equal(move.actor, 'Bob');
      assert.equal((move.details as { state: string }).state, 'on-target');
      assert.match(lastOf(outs, 'gun')!.payload.camera!.reason!, /was taken by Bob for /);
    } finally {
      unsub();
    }
  }));

test('a waiting alert that had its look, dismissed, ends released, saying what happened and who dismissed it', () =>
  withOneCamera({ returnHomeAfterMs: 60_000, waitingUpdateMinMs: 0 }, 0, async ({ steer, outs, send }) => {
    await glassTakenByGunshot(send, outs);
    await send({ kind: 'decision', alertId: 'glass', action: 'dismiss', operator: 'Alice', time: 1 });
    assert.deepEqual(steer.waitingAlerts, []);
    const cam = lastOf(outs, 'glass')!.payload.camera!;
    assert.equal(cam.state, 'released');
    assert.match(cam.reason!, /^camera a looked here, then turned to .* alert gun; wait ended: dismissed by Alice$/);
  }));

test('confirm mode: a proposed move that an operator dismisses ends unavailable, saying who; a move request for it then carries the alert and is served', () =>
  withOneCamera({ mode: 'confirm', returnHomeAfterMs: 60_000 }, 0, async ({ a, steer, outs, send }) => {
    await send(steerAlert('p', 'scream', destination(ORIGIN, 90, 30)));
    const proposed = lastOf(outs, 'p')!.payload.camera!;
    assert.equal(proposed.state, 'proposed');
    await send({ kind: 'decision', alertId: 'p', action: 'dismiss', operator: 'Alice', time: 1 });
    assert.deepEqual(steer.pendingProposals, []);
    const ended = lastOf(outs, 'p')!.payload.camera!;
    assert.equal(ended.state, 'unavailable');
    assert.equal(ended.reason, 'no camera moved: dismissed by Alice');
    assert.deepEqual(ended.target, proposed.target);
    assert.equal(outs.filter((o) => o.port === 2).length, 0);
    // A console that had not caught up sends the proposal's Move camera: served with the alert it carries.
    const { camera: _c, ...shown } = lastOf(outs, 'p')!.payload;
    await send({ kind: 'move-request', alertId: 'p', operator: 'Bob', alert: { ...shown, camera: proposed } });
    assert.equal(lastOf(outs, 'p')!.payload.camera!.state, 'on-target');
    assert.equal(a.moves.length, 1);
  }));

test('a move request that moves no camera is audited as refused, with why, and answered on the camera', () =>
  withOneCamera({ returnHomeAfterMs: 60_000 }, 0, async ({ a, steer, outs, send }) => {
    const audit: AuditEvent[] = [];
    const unsub = auditBus.subscribe((e) => audit.push(e));
    try {
      // None can see it now: answered "unavailable" (the console's request is settled), audited as refused.
      const far = steerAlert('far', 'gunshot', destination(ORIGIN, 90, 5000));
      await send({ kind: 'move-request', alertId: 'far', operator: 'Bob', alert: far });
      assert.equal(lastOf(outs, 'far')!.payload.id, 'far');
      const refusal = audit.filter((e) => e.type === 'camera-move' && e.alertId === 'far');
      assert.deepEqual(refusal.map((e) => [e.actor, e.details]), [['Bob', { event: 'request-refused', reason: 'no camera can see this place (a: the place is 5000 m away, beyond its 300 m reach)' }]]);
      // A request ptz-steer cannot use (no alert it knows, none carried): refused in the log too.
      await assert.rejects(steer.handle({ kind: 'move-request', alertId: 'ghost', operator: 'Bob' }, () => undefined), /payload\.alertId: expected the id of an alert/);
      const ghost = audit.filter((e) => e.type === 'camera-move' && e.alertId === 'ghost');
      assert.equal(ghost.length, 1);
      assert.equal(ghost[0].actor, 'Bob');
      assert.equal((ghost[0].details as { event: string }).event, 'request-refused');
      assert.match((ghost[0].details as { reason: string }).reason, /none for "ghost"/);
      assert.equal(a.moves.length, 0);
    } finally {
      unsub();
    }
  }));

/** A glass break on target, then a gunshot that takes its camera: the glass break waits. */
async function glassTakenByGunshot(send: (payload: unknown) => Promise<void>, outs: SteerOutput[]): Promise<void> {
  await send(steerAlert('glass', 'glass_break', destination(ORIGIN, 80, 40)));
  assert.equal(lastOf(outs, 'glass')!.payload.camera!.state, 'on-target');
  await send(steerAlert('gun', 'gunshot', destination(ORIGIN, 10, 40)));
  assert.equal(lastOf(outs, 'gun')!.payload.camera!.state, 'on-target');
  assert.equal(lastOf(outs, 'glass')!.payload.camera!.state, 'waiting');
}

test('an alert on target whose camera a more important alert takes waits for it, and gets it back when that hold ends', () =>
  withOneCamera({ moveTimeoutMs: 100, returnHomeAfterMs: 300 }, 0, async ({ a, steer, outs, send }) => {
    await glassTakenByGunshot(send, outs);
    const glass = lastOf(outs, 'glass')!.payload.camera!;
    assert.equal(glass.state, 'waiting', 'the console no longer says the camera looks at the glass break');
    assert.match(glass.reason!, /^camera a looked here, then turned to gunshot alert gun; waiting up to 5 min/);
    await waitFor(() => lastOf(outs, 'glass')!.payload.camera!.state === 'on-target', 3000, 'the glass break on target again');
    assert.equal(lastOf(outs, 'glass')!.payload.camera!.target.bearing, 80);
    assert.equal(a.moves.length, 3);
    // Once its quiet period is over the camera goes home, and no alert comes back.
    await waitFor(() => a.homes === 1, 3000, 'home');
    assert.deepEqual(steer.waitingAlerts, []);
    const moves = a.moves.length;
    // A negative check, so a fixed wait: longer than one more quiet period (0.3 s).
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(a.moves.length, moves);
  }));

test('the alert a camera is held for is in camera.heldFor as the state is sent; a waiting alert is sent again when its words change, not for a mere new holder', () =>
  // no wait ends during the test (the waits that end are the next test's); no minimum look, updates sent at once
  withOneCamera({ returnHomeAfterMs: 600_000, waitForCameraMs: 600_000, minLookMs: 0, waitingUpdateMinMs: 0 }, 0, async ({ outs, send }) => {
    await glassTakenByGunshot(send, outs);
    const cam = (id: string) => lastOf(outs, id)!.payload.camera!;
    assert.equal(cam('gun').heldFor, undefined, 'a camera on its own alert is held for no other');
    assert.equal(cam('glass').heldFor, 'gun', `waiting after its look (${cam('glass').reason})`);
    await send(steerAlert('scream', 'scream', destination(ORIGIN, 150, 40)));
    assert.equal(cam('scream').state, 'waiting');
    assert.equal(cam('scream').heldFor, 'gun', `waiting for the busy camera (${cam('scream').reason})`);
    // A more recent alert of the gunshot's priority takes the camera.
    const glassSent = outs.filter((o) => o.payload.id === 'glass').length;
    await send(steerAlert('boom', 'explosion', destination(ORIGIN, 300, 40)));
    assert.equal(cam('boom').state, 'on-target');
    assert.equal(cam('boom').heldFor, undefined);
    assert.equal(cam('gun').state, 'waiting');
    assert.match(cam('gun').reason!, /turned to explosion alert boom/);
    assert.equal(cam('gun').heldFor, 'boom');
    // The scream's words change (another kind of alert holds the camera): sent again.
    assert.match(cam('scream').reason!, /busy with an explosion alert/);
    assert.equal(cam('scream').heldFor, 'boom');
    // The glass break's words still say what took the camera from it then: not sent again, its
    // heldFor is the holder of when it was sent.
    assert.match(cam('glass').reason!, /^camera a looked here, then turned to gunshot alert gun; /);
    assert.equal(cam('glass').heldFor, 'gun');
    assert.equal(outs.filter((o) => o.payload.id === 'glass').length, glassSent, 'not sent for a mere new holder');
    // A look again that no camera can take: its old holder is not passed on.
    const far = { ...steerAlert('far', 'gunshot', destination(ORIGIN, 90, 5000)), camera: { ...cam('scream') } };
    await send({ kind: 'move-request', alertId: 'far', operator: 'ana', alert: far });
    assert.equal(cam('far').state, 'unavailable');
    assert.equal(cam('far').heldFor, undefined);
  }));

test('waits that end name the alert the camera is held for: released after a look, unavailable without one', () =>
  // the gunshot holds the camera throughout (its hold far longer than the test): whenever the waits end, they name it
  withOneCamera({ returnHomeAfterMs: 600_000, waitForCameraMs: 200 }, 0, async ({ outs, send }) => {
    await glassTakenByGunshot(send, outs);
    await send(steerAlert('scream', 'scream', destination(ORIGIN, 150, 40)));
    const cam = (id: string) => lastOf(outs, id)!.payload.camera!;
    await waitFor(() => cam('glass').state === 'released' && cam('scream').state === 'unavailable', 15_000, 'the waits over');
    assert.equal(cam('glass').heldFor, 'gun');
    assert.equal(cam('scream').heldFor, 'gun');
  }));

test('an alert that had its look and finds no camera free again in time ends as released, which is no fault', () =>
  withOneCamera({ returnHomeAfterMs: 60_000, waitForCameraMs: 300 }, 0, async ({ a, steer, outs, send }) => {
    await glassTakenByGunshot(send, outs);
    await waitFor(() => lastOf(outs, 'glass')!.payload.camera!.state !== 'waiting', 3000, 'the end of the wait');
    const cam = lastOf(outs, 'glass')!.payload.camera!;
    assert.equal(cam.state, 'released');
    assert.equal(cam.id, 'a');
    assert.equal(cam.target.bearing, 80, 'the aim it had');
    assert.match(cam.reason!, /^camera a looked here, then turned to gunshot alert gun; no camera was free again within 300 ms$/);
    assert.equal(outs.filter((o) => o.port === 2).length, 0, 'a release is not an error');
    assert.deepEqual(steer.waitingAlerts, []);
    assert.equal(a.moves.length, 2, 'the camera stays on the gunshot');
    // An alert that never had a camera ends without one available, and output 2 says so.
    await send(steerAlert('scream', 'scream', destination(ORIGIN, 200, 40)));
    await waitFor(() => outs.some((o) => o.port === 2), 3000, 'output 2');
    assert.equal(lastOf(outs, 'scream')!.payload.camera!.state, 'unavailable');
    assert.equal(outs.find((o) => o.port === 2)!.error?.code, 'no-camera');
  }));

test('confirm mode, camera busy: the proposal says from which alert it would take it; a confirmation waits for it, a move request takes it', () =>
  withOneCamera({ mode: 'confirm', returnHomeAfterMs: 60_000 }, 0, async ({ a, steer, outs, send }) => {
    await send(steerAlert('gun', 'gunshot', destination(ORIGIN, 10, 40)));
    await send({ kind: 'move-request', alertId: 'gun', operator: 'ana' });
    assert.equal(lastOf(outs, 'gun')!.payload.camera!.state, 'on-target');
    // Two lesser alerts while the camera is on the gunshot.
    await send(steerAlert('glass', 'glass_break', destination(ORIGIN, 80, 40)));
    await send(steerAlert('scream', 'scream', destination(ORIGIN, 150, 40)));
    for (const id of ['glass', 'scream']) {
      const cam = lastOf(outs, id)!.payload.camera!;
      assert.equal(cam.state, 'proposed');
      assert.equal(cam.reason, 'camera a is busy with gunshot alert gun; moving it takes it from that alert');
      assert.equal(cam.heldFor, 'gun', 'the alert that loses its picture, named in a field too');
    }
    assert.equal(outs.filter((o) => o.port === 2).length, 0);
    // Confirming the glass break does not take the camera from the gunshot: it waits.
    await send({ kind: 'decision', alertId: 'glass', action: 'confirm', operator: 'ana', time: 1 });
    assert.equal(lastOf(outs, 'glass')!.payload.camera!.state, 'waiting');
    assert.equal(a.moves.length, 1);
    // "Move camera" on the scream takes it; the gunshot waits in its turn, before the glass break.
    await send({ kind: 'move-request', alertId: 'scream', operator: 'bo' });
    assert.equal(lastOf(outs, 'scream')!.payload.camera!.state, 'on-target');
    assert.equal(a.moves.length, 2);
    assert.deepEqual(steer.waitingAlerts, ['gun', 'glass']);
  }));

test('confirm mode asks once per alert: a copy sent again, better placed, re-aims the camera the operator turned to it', () =>
  withOneCamera({ mode: 'confirm', returnHomeAfterMs: 60_000 }, 0, async ({ a, steer, outs, send }) => {
    await send(steerAlert('g', 'gunshot', destination(ORIGIN, 10, 40)));
    assert.equal(lastOf(outs, 'g')!.payload.camera!.state, 'proposed');
    // Sent again before anyone moved it: still only a proposal, now with the new aim.
    assert.equal(lastOf(outs, 'g')!.payload.camera!.reason, undefined);
    await send(steerAlert('g', 'gunshot', destination(ORIGIN, 14, 40)));
    assert.equal(lastOf(outs, 'g')!.payload.camera!.state, 'proposed');
    assert.equal(lastOf(outs, 'g')!.payload.camera!.target.bearing, 14);
    // ... and says so, so the operator knows what "Move camera" now does.
    assert.equal(lastOf(outs, 'g')!.payload.camera!.reason, 'proposal changed: the alert was placed again, bearing 10.0° → 14.0°');
    await send(steerAlert('g', 'gunshot', destination(ORIGIN, 14, 40)));
    assert.equal(lastOf(outs, 'g')!.payload.camera!.reason, undefined, 'the same aim again is no change');
    assert.equal(a.moves.length, 0);
    await send({ kind: 'move-request', alertId: 'g', operator: 'ana' });
    assert.equal(lastOf(outs, 'g')!.payload.camera!.state, 'on-target');
    await send(steerAlert('g', 'gunshot', destination(ORIGIN, 20, 40)));
    assert.equal(lastOf(outs, 'g')!.payload.camera!.state, 'on-target');
    assert.equal(lastOf(outs, 'g')!.payload.camera!.target.bearing, 20);
    assert.equal(a.moves.length, 2);
    assert.deepEqual(steer.pendingProposals, []);
  }));

test('confirm mode: a copy placed again near another camera proposes that camera, and says which it replaces', async () => {
  const a = new FakeCamera(cameraAt('a', 0, 5), 0);
  const b = new FakeCamera(cameraAt('b', 180, 300), 0);
  const steer = new PtzSteer(asConns([a, b]), { mode: 'confirm', pollMs: 5, returnHomeAfterMs: 0 });
  const outs: SteerOutput[] = [];
  try {
    await steer.handle(steerAlert('g', 'gunshot', destination(ORIGIN, 10, 20)), (o) => outs.push(o));
    assert.equal(lastOf(outs, 'g')!.payload.camera!.id, 'a');
    await steer.handle(steerAlert('g', 'gunshot', destination(ORIGIN, 180, 290)), (o) => outs.push(o));
    const cam = lastOf(outs, 'g')!.payload.camera!;
    assert.equal(cam.id, 'b');
    assert.equal(cam.reason, 'proposal changed: the alert was placed again, camera b now instead of a');
    assert.equal(a.moves.length + b.moves.length, 0, 'still only a proposal');
  } finally {
    steer.close();
  }
});

test('look again: a move request carrying an alert whose camera left turns the camera that looked there back to it', () =>
  withOneCamera({ returnHomeAfterMs: 200 }, 0, async ({ a, steer, outs, send }) => {
    const audit: AuditEvent[] = [];
    const unsub = auditBus.subscribe((e) => audit.push(e));
    try {
      await send(steerAlert('g', 'gunshot', destination(ORIGIN, 30, 40)));
      await waitFor(() => lastOf(outs, 'g')!.payload.camera!.state === 'released', 3000, 'released after the quiet period');
      assert.equal(a.homes, 1);
      const released = lastOf(outs, 'g')!.payload;
      // ptz-steer kept nothing of it: without the alert the request is refused, naming the field.
      await assert.rejects(steer.handle({ kind: 'move-request', alertId: 'g', operator: 'ana' }, () => undefined), /payload\.alertId: expected the id of an alert with a proposed move or waiting for a camera, or payload\.alert to aim at again/);
      await assert.rejects(steer.handle({ kind: 'move-request', alertId: 'other', operator: 'ana', alert: released }, () => undefined), /payload\.alert\.id: expected the id of payload\.alertId \("other"\), got "g"/);
      await assert.rejects(steer.handle({ kind: 'move-request', alertId: 'g', operator: 'ana', alert: { id: 'g' } }, () => undefined), /payload\.alert\.location: expected an object/);
      await assert.rejects(steer.handle({ kind: 'move-request', alertId: 'g', operator: 'ana', alert: { ...released, samples: [0.1] } }, () => undefined), /payload\.alert\.samples: expected no such field \(privacy guarantee 1/);
      await send({ kind: 'move-request', alertId: 'g', operator: 'ana', alert: { ...released, video: { live: '/x', until: 1 } } });
      const cam = lastOf(outs, 'g')!.payload;
      assert.equal(cam.camera!.state, 'on-target');
      assert.equal(cam.camera!.target.bearing, 30);
      assert.equal(cam.camera!.reason, undefined, 'the reason of the release is gone');
      assert.equal((cam as unknown as Record<string, unknown>).video, undefined, 'video-forward adds fresh links');
      assert.equal(a.moves.length, 2);
      assert.equal(audit.filter((e) => e.type === 'camera-move' && e.alertId === 'g').pop()!.actor, 'ana');
      assert.equal(outs.filter((o) => o.port === 2).length, 0);
      // ... and the camera is held for it: a less important alert waits.
      await send(steerAlert('s', 'glass_break', destination(ORIGIN, 200, 40)));
      assert.equal(lastOf(outs, 's')!.payload.camera!.state, 'waiting');
    } finally {
      unsub();
    }
  }));

test('look again prefers the camera that looked there first; with no camera able to see it, output 2 says so', async () => {
  const a = new FakeCamera(cameraAt('a', 0, 5), 0);
  const b = new FakeCamera(cameraAt('b', 180, 30), 0);
  const steer = new PtzSteer(asConns([a, b]), { pollMs: 5, returnHomeAfterMs: 0 });
  const outs: SteerOutput[] = [];
  try {
    const g = steerAlert('g', 'gunshot', destination(ORIGIN, 90, 10));
    const seenByB = { ...g, camera: { id: 'b', name: 'b', pan: 0, tilt: 0, zoom: 0, target: { bearing: 0, tilt: 0 }, state: 'released' } };
    await steer.handle({ kind: 'move-request', alertId: 'g', operator: 'ana', alert: seenByB }, (o) => outs.push(o));
    assert.equal(lastOf(outs, 'g')!.payload.camera!.id, 'b', 'not the nearest (a), the one that looked');
    assert.equal(a.moves.length, 0);
    const far = { ...steerAlert('f', 'gunshot', destination(ORIGIN, 90, 5000)), camera: { ...seenByB.camera } };
    await steer.handle({ kind: 'move-request', alertId: 'f', operator: 'ana', alert: far }, (o) => outs.push(o));
    const err = outs.find((o) => o.port === 2)!;
    assert.equal(err.error?.code, 'no-camera');
    assert.equal(lastOf(outs, 'f')!.payload.camera!.state, 'unavailable', 'the console learns the request was answered (no camera at fault)');
    // Which camera (the one it showed), why, and that no other can.
    assert.equal(lastOf(outs, 'f')!.payload.camera!.reason, 'camera b cannot look there: the place is 5000 m away, beyond its 300 m reach; no other camera can see this place (a: the place is 5000 m away, beyond its 300 m reach)');
    // Naming a camera changes nothing when none can see it: the same answer, not a refusal.
    const before = outs.length;
    await steer.handle({ kind: 'move-request', alertId: 'f', operator: 'ana', cameraId: 'b', alert: far }, (o) => outs.push(o));
    assert.deepEqual(outs.slice(before).map((o) => [o.port, o.error?.code]), [[1, undefined], [2, 'no-camera']]);
    // A camera id that is not text is refused, naming the field, whether or not a camera can see it.
    await assert.rejects(steer.handle({ kind: 'move-request', alertId: 'f', operator: 'ana', cameraId: 5, alert: far }, (o) => outs.push(o)), /^ContractError: payload\.cameraId: expected a camera id \(text\)/);
  } finally {
    steer.close();
  }
});

test('a released alert is named by the camera that looked at it, not by the nearest one', async () => {
  const a = new FakeCamera(cameraAt('a', 0, 60), 0);
  const b = new FakeCamera(cameraAt('b', 180, 60), 0);
  const steer = new PtzSteer(asConns([a, b]), { pollMs: 5, returnHomeAfterMs: 60_000, waitForCameraMs: 300 });
  const outs: SteerOutput[] = [];
  const send = (p: unknown) => steer.handle(p, (o) => outs.push(o));
  try {
    await send(steerAlert('boom', 'explosion', destination(ORIGIN, 180, 50)));
    assert.equal(lastOf(outs, 'boom')!.payload.camera!.id, 'b');
    // Nearer to b, but b is held by the explosion: the glass break gets a.
    await send(steerAlert('glass', 'glass_break', destination(ORIGIN, 180, 20)));
    assert.equal(lastOf(outs, 'glass')!.payload.camera!.id, 'a');
    await send(steerAlert('gun', 'gunshot', destination(ORIGIN, 0, 50)));
    assert.equal(lastOf(outs, 'gun')!.payload.camera!.id, 'a');
    await waitFor(() => lastOf(outs, 'glass')!.payload.camera!.state === 'released', 3000, 'released');
    const cam = lastOf(outs, 'glass')!.payload.camera!;
    assert.equal(cam.id, 'a');
    assert.match(cam.reason!, /^camera a looked here, then turned to gunshot alert gun; no camera was free again within 300 ms$/);
  } finally {
    steer.close();
  }
});

test('a camera that does not answer: "failed" says so in words, and output 2 keeps the technical error', () =>
  withOneCamera({ returnHomeAfterMs: 60_000, retries: 0 }, 0, async ({ a, outs, send }) => {
    a.down = true;
    await send(steerAlert('gun', 'gunshot', destination(ORIGIN, 10, 40)));
    const cam = lastOf(outs, 'gun')!.payload.camera!;
    assert.equal(cam.state, 'failed');
    assert.equal(cam.reason, 'camera a is not responding (offline, or cut off from the network)');
    const err = outs.find((o) => o.port === 2)!;
    assert.equal(err.error?.code, 'unreachable');
    assert.match(err.error!.message, /Network timeout/);
  }));

test('every camera silent: the reason names them all, nearest first', async () => {
  const a = new FakeCamera(cameraAt('a', 0, 30), 0);
  const b = new FakeCamera(cameraAt('b', 180, 60), 0);
  a.down = true;
  b.down = true;
  const steer = new PtzSteer(asConns([a, b]), { pollMs: 5, returnHomeAfterMs: 60_000, retries: 0 });
  const outs: SteerOutput[] = [];
  try {
    await steer.handle(steerAlert('gun', 'gunshot', destination(ORIGIN, 0, 10)), (o) => outs.push(o));
    const cam = lastOf(outs, 'gun')!.payload.camera!;
    assert.equal(cam.state, 'failed');
    assert.equal(cam.reason, 'both cameras, a and b, are not responding: no camera could turn here');
  } finally {
    steer.close();
  }
});

test('every reason a move fails for has words for operators, never the command that failed', () => {
  for (const code of ['unreachable', 'auth', 'closed', 'not-supported', 'soap-fault', 'no-profile', 'error', undefined]) {
    const words = failureWords('Camera place', code);
    assert.match(words, /^camera Camera place /, `${code}: names the camera`);
    assert.doesNotMatch(words, /\w+Move\b|SOAP|ONVIF|GetStatus|GotoPreset|https?:/, `${code}: no protocol words (${words})`);
  }
  assert.equal(failureWords('Camera place', 'auth'), 'camera Camera place refused Vigie\'s login (its user or password has changed)');
});

test('a camera that does not answer has not turned: the alert it looked at is not told it turned, and keeps its hold', () =>
  withOneCamera({ returnHomeAfterMs: 60_000, retries: 0 }, 0, async ({ a, steer, outs, send }) => {
    await send(steerAlert('glass', 'glass_break', destination(ORIGIN, 80, 40)));
    assert.equal(lastOf(outs, 'glass')!.payload.camera!.state, 'on-target');
    a.down = true;
    await send(steerAlert('gun', 'gunshot', destination(ORIGIN, 10, 40)));
    assert.equal(lastOf(outs, 'gun')!.payload.camera!.state, 'failed');
    assert.equal(lastOf(outs, 'glass')!.payload.camera!.state, 'on-target', 'nothing said the camera turned to the gunshot');
    assert.ok(!outs.some((o) => /turned to/.test(o.payload.camera?.reason ?? '')), 'no "turned to" anywhere');
    assert.deepEqual(steer.waitingAlerts, []);
    // Back again: the camera is still the glass break's, so a less important alert waits for it, naming the glass break.
    a.down = false;
    await send(steerAlert('skid', 'tire_skid', destination(ORIGIN, 200, 40)));
    const skid = lastOf(outs, 'skid')!.payload.camera!;
    assert.equal(skid.state, 'waiting');
    assert.equal(skid.reason, 'camera a is busy with a glass breaking alert; waiting up to 5 min for it to be free');
    assert.equal(skid.heldFor, 'glass');
  }));

test('alerts waiting for a camera hear when another kind of alert takes it: their reason never names a kind that lost it', () =>
  // no minimum look (the gunshot takes the camera from the explosion at once), updates sent at once
  withOneCamera({ returnHomeAfterMs: 60_000, minLookMs: 0, waitingUpdateMinMs: 0 }, 0, async ({ outs, send }) => {
    await send(steerAlert('boom', 'explosion', destination(ORIGIN, 10, 40)));
    await send(steerAlert('scream', 'scream', destination(ORIGIN, 100, 40)));
    assert.equal(lastOf(outs, 'scream')!.payload.camera!.reason, 'camera a is busy with an explosion alert; waiting up to 5 min for it to be free');
    const before = outs.filter((o) => o.payload.id === 'scream').length;
    await send(steerAlert('gun', 'gunshot', destination(ORIGIN, 200, 40)));
    assert.equal(lastOf(outs, 'gun')!.payload.camera!.state, 'on-target');
    assert.match(lastOf(outs, 'boom')!.payload.camera!.reason!, /^camera a looked here, then turned to gunshot alert gun/);
    const scream = lastOf(outs, 'scream')!.payload.camera!;
    assert.equal(scream.state, 'waiting');
    assert.equal(scream.reason, 'camera a is busy with a gunshot alert; waiting up to 5 min for it to be free');
    assert.equal(scream.heldFor, 'gun');
    assert.equal(outs.filter((o) => o.payload.id === 'scream').length, before + 1, 'sent again once, with the new reason');
    // Another gunshot takes it: nothing the scream says changes (heldFor aside), it is not sent again.
    await send(steerAlert('gun2', 'gunshot', destination(ORIGIN, 250, 40)));
    assert.equal(lastOf(outs, 'gun2')!.payload.camera!.state, 'on-target');
    assert.equal(outs.filter((o) => o.payload.id === 'scream').length, before + 1, 'not sent for a mere new holder');
  }));

test('a move that fails on the way frees the camera: the alert waiting for it is not left naming the failed one', () =>
  withOneCamera({ returnHomeAfterMs: 60_000, retries: 0, moveTimeoutMs: 2000 }, 300, async ({ a, steer, outs, send }) => {
    a.held = true;
    const first = send(steerAlert('boom', 'explosion', destination(ORIGIN, 10, 40)));
    await waitFor(() => a.moves.length === 1, 5000, 'the camera turning to the explosion');
    await send(steerAlert('scream', 'scream', destination(ORIGIN, 100, 40)));
    assert.match(lastOf(outs, 'scream')!.payload.camera!.reason!, /busy with an explosion alert/);
    a.down = true;
    await first;
    assert.equal(lastOf(outs, 'boom')!.payload.camera!.state, 'failed');
    await waitFor(() => lastOf(outs, 'scream')!.payload.camera!.state !== 'waiting', 5000, 'the scream tries the camera');
    const scream = lastOf(outs, 'scream')!.payload.camera!;
    assert.equal(scream.state, 'failed');
    assert.equal(scream.reason, 'camera a is not responding (offline, or cut off from the network)');
    assert.deepEqual(steer.waitingAlerts, []);
  }));

test('two cameras busy: the reason says "both cameras", three or more "all N cameras"', async () => {
  const cams = [new FakeCamera(cameraAt('a', 0, 30), 0), new FakeCamera(cameraAt('b', 120, 60), 0), new FakeCamera(cameraAt('c', 240, 90), 0)];
  const steer = new PtzSteer(asConns(cams.slice(0, 2)), { pollMs: 5, returnHomeAfterMs: 60_000 });
  const steer3 = new PtzSteer(asConns(cams.slice(0, 3)), { pollMs: 5, returnHomeAfterMs: 60_000 });
  const outs: SteerOutput[] = [];
  try {
    for (const st of [steer, steer3]) {
      for (const [i, c] of cams.entries()) if (st === steer3 || i < 2) await st.handle(steerAlert(`g-${c.id}`, 'gunshot', destination(c.config, 0, 5)), (o) => outs.push(o));
    }
    await steer.handle(steerAlert('glass2', 'glass_break', destination(ORIGIN, 0, 1)), (o) => outs.push(o));
    assert.match(lastOf(outs, 'glass2')!.payload.camera!.reason!, /^both cameras that can see it are busy \(nearest, a, with a gunshot alert\); waiting/);
    await steer3.handle(steerAlert('glass3', 'glass_break', destination(ORIGIN, 0, 1)), (o) => outs.push(o));
    assert.match(lastOf(outs, 'glass3')!.payload.camera!.reason!, /^all 3 cameras that can see it are busy \(nearest, a, with a gunshot alert\); waiting/);
  } finally {
    steer.close();
    steer3.close();
  }
});

test('a camera that never took the move goes back to the alert it looked at, unless an operator dismissed that alert meanwhile', () =>
  withOneCamera({ returnHomeAfterMs: 60_000, retries: 0 }, 0, async ({ a, outs, send }) => {
    await send(steerAlert('glass', 'glass_break', destination(ORIGIN, 80, 40)));
    assert.equal(lastOf(outs, 'glass')!.payload.camera!.state, 'on-target');
    // The move to the gunshot hangs (a camera that stopped answering) while the glass break is dismissed.
    let fail: ((e: Error) => void) | undefined;
    const answering = a.absoluteMove.bind(a);
    a.absoluteMove = () => new Promise<void>((_resolve, reject) => (fail = reject));
    const gun = send(steerAlert('gun', 'gunshot', destination(ORIGIN, 10, 40)));
    await waitFor(() => !!fail, 5000, 'the move to the gunshot sent');
    await send({ kind: 'decision', alertId: 'glass', action: 'dismiss', operator: 'ana', time: 1 });
    fail!(Object.assign(new Error('Network timeout'), { code: 'ETIMEDOUT' }));
    await gun;
    assert.equal(lastOf(outs, 'gun')!.payload.camera!.state, 'failed');
    // Answering again: the camera is nobody's, so a less important alert gets it at once.
    a.absoluteMove = answering;
    await send(steerAlert('skid', 'tire_skid', destination(ORIGIN, 200, 40)));
    assert.equal(lastOf(outs, 'skid')!.payload.camera!.state, 'on-target', JSON.stringify(lastOf(outs, 'skid')!.payload.camera));
  }));

/** One stand-in camera "a", unplugged, and a PtzSteer over it (no quick retries: the alert fails at once); `logs` is its log. */
async function withUnpluggedCamera(
  opts: Partial<SteerOptions>,
  body: (t: { a: FakeCamera; steer: PtzSteer; outs: SteerOutput[]; logs: string[]; send: (payload: unknown) => Promise<void> }) => Promise<void>,
): Promise<void> {
  const a = new FakeCamera(cameraAt('a', 0, 0), 0);
  a.unplug();
  const logs: string[] = [];
  const steer = new PtzSteer(asConns([a]), { pollMs: 5, returnHomeAfterMs: 60_000, retries: 0, ...opts }, { log: (t) => logs.push(t) });
  const outs: SteerOutput[] = [];
  try {
    await body({ a, steer, outs, logs, send: (payload) => steer.handle(payload, (o) => outs.push(o)) });
  } finally {
    steer.close();
  }
}

/** The alert's camera state as sent last on output 1. */
const stateOf = (outs: SteerOutput[], id: string) => lastOf(outs, id)?.payload.camera?.state;

test('a camera offline when the alert comes: "failed" at once, and the alert gets the camera when its connection says it is back', () =>
  withUnpluggedCamera({}, async ({ a, steer, outs, logs, send }) => {
    await send(steerAlert('gun', 'gunshot', destination(ORIGIN, 30, 40)));
    assert.equal(stateOf(outs, 'gun'), 'failed', 'the operator learns at once that the camera is offline');
    assert.equal(lastOf(outs, 'gun')!.payload.camera!.reason, 'camera a is not responding (offline, or cut off from the network)');
    assert.deepEqual(outs.map((o) => [o.port, o.error?.code]), [[1, undefined], [2, 'unreachable']]);
    assert.deepEqual(steer.alertsAwaitingAnswer, ['gun']);
    assert.deepEqual(steer.waitingAlerts, [], 'not waiting for a busy camera');
    assert.deepEqual(logs, ['alert gun: camera a does not answer; trying again when one does, for up to 5 min']);
    // Its connection says it is back, but the camera still does not answer: tried again, silently.
    const audit: AuditEvent[] = [];
    const unsub = auditBus.subscribe((e) => audit.push(e));
    try {
      a.state = 'connected';
      a.emit('state', 'connected');
      await waitFor(() => audit.some((e) => e.type === 'camera-move' && e.alertId === 'gun'), 5000, 'a second try of the camera');
    } finally {
      unsub();
    }
    await waitFor(() => steer.alertsAwaitingAnswer.length === 1, 5000, 'the gunshot waiting again');
    assert.equal(outs.length, 2, 'a try that fails the same way is not sent again');
    assert.equal(logs.length, 1, 'nor logged');
    a.plugIn({ reconnected: true });
    await waitFor(() => stateOf(outs, 'gun') === 'on-target', 5000, 'the gunshot on target once the camera is back');
    const cam = lastOf(outs, 'gun')!.payload.camera!;
    assert.equal(cam.target.bearing, 30);
    assert.equal(cam.reason, undefined);
    assert.equal(a.moves.length, 1);
    assert.equal(outs.filter((o) => o.port === 2).length, 1, 'output 2 said it once');
    assert.deepEqual(steer.alertsAwaitingAnswer, []);
    assert.equal(a.connectAttempts, 0, 'woken by the connection\'s event, not by a probe');
    // It now holds the camera as any alert on target does.
    await send(steerAlert('glass', 'glass_break', destination(ORIGIN, 200, 40)));
    assert.equal(stateOf(outs, 'glass'), 'waiting');
  }));

test('a camera back without its connection saying so is found by the back-off probe; the retries are silent', () =>
  withUnpluggedCamera({}, async ({ a, steer, outs, logs, send }) => {
    a.quiet = true;
    await send(steerAlert('gun', 'gunshot', destination(ORIGIN, 30, 40)));
    assert.equal(stateOf(outs, 'gun'), 'failed');
    const sent = outs.length;
    await waitFor(() => a.connectAttempts >= 1, 10_000, 'a first probe of the camera');
    assert.equal(outs.length, sent, 'a probe that finds the camera still offline sends nothing');
    assert.equal(logs.length, 1, 'and logs nothing more');
    assert.deepEqual(steer.alertsAwaitingAnswer, ['gun']);
    a.plugIn({ reconnected: false });
    await waitFor(() => stateOf(outs, 'gun') === 'on-target', 15_000, 'the gunshot on target once a probe finds the camera');
    assert.equal(outs.filter((o) => o.port === 2).length, 1);
  }));

test('an alert dismissed while its camera is offline moves nothing when the camera is back', () =>
  withUnpluggedCamera({}, async ({ a, steer, outs, send }) => {
    await send(steerAlert('gun', 'gunshot', destination(ORIGIN, 30, 40)));
    assert.deepEqual(steer.alertsAwaitingAnswer, ['gun']);
    await send({ kind: 'decision', alertId: 'gun', action: 'dismiss', operator: 'ana', time: 1 });
    assert.deepEqual(steer.alertsAwaitingAnswer, []);
    const gunSent = outs.filter((o) => o.payload.id === 'gun').length;
    a.plugIn({ reconnected: true });
    // Nothing waits for the camera: a new alert, even the least important, gets it at once.
    await send(steerAlert('skid', 'tire_skid', destination(ORIGIN, 200, 40)));
    assert.equal(stateOf(outs, 'skid'), 'on-target');
    // A negative check, so a fixed wait: a camera back wakes the steer through a 1 ms timer set
    // before this one; its move would follow in microtasks (the fake camera answers at once).
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(a.moves.length, 1, 'only the tyre skid moved the camera');
    assert.equal(outs.filter((o) => o.payload.id === 'gun').length, gunSent, 'the dismissed alert is not sent again');
  }));

test('a camera that does not answer within the wait: the alert stays failed, and the camera back later moves nothing', () =>
  withUnpluggedCamera({ waitForCameraMs: 300 }, async ({ a, steer, outs, logs, send }) => {
    await send(steerAlert('gun', 'gunshot', destination(ORIGIN, 30, 40)));
    assert.deepEqual(steer.alertsAwaitingAnswer, ['gun']);
    await waitFor(() => steer.alertsAwaitingAnswer.length === 0, 3000, 'the end of the wait');
    assert.equal(logs[logs.length - 1], 'alert gun: no camera answered within 300 ms; not tried any more');
    const sent = outs.length;
    a.plugIn({ reconnected: true });
    await new Promise((r) => setTimeout(r, 50)); // the same negative check
    assert.equal(a.moves.length, 0);
    assert.equal(outs.length, sent, 'nothing more is sent: the alert stays failed');
    assert.equal(stateOf(outs, 'gun'), 'failed');
  }));

test('waiting switched off (0): a camera offline is a final failure', () =>
  withUnpluggedCamera({ waitForCameraMs: 0 }, async ({ a, steer, outs, send }) => {
    await send(steerAlert('gun', 'gunshot', destination(ORIGIN, 30, 40)));
    assert.equal(stateOf(outs, 'gun'), 'failed');
    assert.deepEqual(steer.alertsAwaitingAnswer, []);
    a.plugIn({ reconnected: true });
    await new Promise((r) => setTimeout(r, 50)); // the same negative check
    assert.equal(a.moves.length, 0);
  }));

test('several alerts wait for an offline camera: the most important gets it, the others then wait for it as busy', () =>
  withUnpluggedCamera({}, async ({ a, steer, outs, send }) => {
    await send(steerAlert('gun', 'gunshot', destination(ORIGIN, 30, 40)));
    await send(steerAlert('glass', 'glass_break', destination(ORIGIN, 120, 40)));
    await send(steerAlert('skid', 'tire_skid', destination(ORIGIN, 200, 40)));
    assert.deepEqual(steer.alertsAwaitingAnswer, ['gun', 'glass', 'skid']);
    a.plugIn({ reconnected: true });
    await waitFor(() => stateOf(outs, 'gun') === 'on-target', 5000, 'the gunshot on target');
    await waitFor(() => stateOf(outs, 'glass') === 'waiting' && stateOf(outs, 'skid') === 'waiting', 5000, 'the others waiting for the busy camera');
    assert.equal(a.moves.length, 1, 'the lesser alerts did not take the camera');
    assert.equal(lastOf(outs, 'glass')!.payload.camera!.reason, 'camera a is busy with a gunshot alert; waiting up to 5 min for it to be free');
    assert.deepEqual(steer.waitingAlerts, ['glass', 'skid']);
    assert.deepEqual(steer.alertsAwaitingAnswer, []);
    // The gunshot dismissed: the glass break, next in importance, gets the camera.
    await send({ kind: 'decision', alertId: 'gun', action: 'dismiss', operator: 'ana', time: 1 });
    await waitFor(() => stateOf(outs, 'glass') === 'on-target', 5000, 'the glass break on target');
    assert.equal(stateOf(outs, 'skid'), 'waiting');
  }));

test('an alert waiting for an offline camera does not take it from a more important alert that got it meanwhile', () =>
  withUnpluggedCamera({}, async ({ a, outs, send }) => {
    await send(steerAlert('glass', 'glass_break', destination(ORIGIN, 120, 40)));
    assert.equal(stateOf(outs, 'glass'), 'failed');
    // Back, before its connection found it: a gunshot's move connects it, and holds it.
    a.plugIn({ reconnected: false });
    await send(steerAlert('gun', 'gunshot', destination(ORIGIN, 30, 40)));
    assert.equal(stateOf(outs, 'gun'), 'on-target');
    await waitFor(() => stateOf(outs, 'glass') === 'waiting', 5000, 'the glass break waiting for the busy camera');
    assert.equal(a.moves.length, 1);
    assert.match(lastOf(outs, 'glass')!.payload.camera!.reason!, /^camera a is busy with a gunshot alert/);
  }));

test('a copy sent again (better placed) while the alert waits for its camera replaces it: the camera is not turned back to the older place', () =>
  withUnpluggedCamera({}, async ({ a, steer, outs, send }) => {
    await send(steerAlert('gun', 'gunshot', destination(ORIGIN, 30, 40)));
    assert.deepEqual(steer.alertsAwaitingAnswer, ['gun']);
    // Back, before its connection found it: the copy's move connects it (and says so).
    a.plugIn({ reconnected: false });
    await send(steerAlert('gun', 'gunshot', destination(ORIGIN, 34, 40)));
    assert.equal(stateOf(outs, 'gun'), 'on-target');
    assert.deepEqual(steer.alertsAwaitingAnswer, []);
    await new Promise((r) => setTimeout(r, 50)); // the same negative check
    assert.equal(a.moves.length, 1, 'turned once, not to the older place afterwards');
    assert.equal(lastOf(outs, 'gun')!.payload.camera!.target.bearing, 34);
  }));

test('at most 100 alerts wait for cameras to answer: past that, the least important stays failed', () =>
  withUnpluggedCamera({}, async ({ steer, send }) => {
    await send(steerAlert('skid', 'tire_skid', destination(ORIGIN, 200, 40)));
    for (let i = 0; i < 100; i++) await send(steerAlert(`glass-${i}`, 'glass_break', destination(ORIGIN, 120, 40)));
    const waiting = steer.alertsAwaitingAnswer;
    assert.equal(waiting.length, 100);
    assert.ok(!waiting.includes('skid'), 'the tyre skid, least important, is no longer tried');
  }));

test('close() while an alert waits for an offline camera leaves no timer and no listener, and nothing moves after', () =>
  withUnpluggedCamera({}, async ({ a, steer, outs, send }) => {
    await send(steerAlert('gun', 'gunshot', destination(ORIGIN, 30, 40)));
    assert.equal(a.listenerCount('state'), 1, 'the steer listens to the camera while an alert waits for it');
    steer.close();
    assert.equal(a.listenerCount('state'), 0);
    assert.equal((steer as unknown as { waitTimer?: unknown }).waitTimer, undefined, 'no wait timer');
    const sent = outs.length;
    a.plugIn({ reconnected: true });
    await new Promise((r) => setTimeout(r, 50)); // the same negative check
    assert.equal(a.moves.length, 0);
    assert.equal(outs.length, sent);
  }));

test('many alerts waiting for one offline camera: one state listener on it, none once their wait ends, none after close()', () =>
  withUnpluggedCamera({}, async ({ a, steer, send }) => {
    for (let i = 0; i < 20; i++) await send(steerAlert(`glass-${i}`, 'glass_break', destination(ORIGIN, 120, 40)));
    assert.equal(steer.alertsAwaitingAnswer.length, 20);
    assert.equal(a.listenerCount('state'), 1, 'one listener for the camera, however many alerts wait for it');
    // Back: the alerts are tried; none waits for the camera to answer any more (they have it, or wait for it busy).
    a.plugIn({ reconnected: true });
    await waitFor(() => steer.alertsAwaitingAnswer.length === 0, 5000, 'the alerts tried on the camera back');
    assert.equal(a.listenerCount('state'), 0, 'the wait over, the listener is gone');
    // Offline again, more important alerts (they may take it) wait again: one listener again, and none after close().
    a.unplug();
    for (let i = 0; i < 20; i++) await send(steerAlert(`gun-${i}`, 'gunshot', destination(ORIGIN, 30, 40)));
    assert.equal(steer.alertsAwaitingAnswer.length, 20);
    assert.equal(a.listenerCount('state'), 1);
    steer.close();
    assert.equal(a.listenerCount('state'), 0);
  }));

test('twelve ptz-steer on one offline camera connection, alerts waiting on each: one listener each, no MaxListenersExceededWarning, none after close()', async () => {
  // A real CameraConnection whose camera does not answer (connection refused).
  const refused = () => Promise.reject(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }));
  const conn = new CameraConnection({ config: cameraAt('a', 0, 0), username: 'u', password: 'p', createClient: () => ({ connect: refused }) as never });
  const warnings: Error[] = [];
  const onWarning = (w: Error) => warnings.push(w);
  process.on('warning', onWarning);
  const steers = Array.from({ length: 12 }, () => new PtzSteer(() => [conn], { pollMs: 5, retries: 0 }));
  try {
    for (const [k, steer] of steers.entries()) {
      for (let i = 0; i < 3; i++) await steer.handle(steerAlert(`gun-${k}-${i}`, 'gunshot', destination(ORIGIN, 30, 40)), () => undefined);
      assert.equal(steer.alertsAwaitingAnswer.length, 3, `steer ${k}: its alerts wait for the camera to answer`);
    }
    assert.equal(conn.listenerCount('state'), steers.length, 'one listener per ptz-steer');
    // a bound, not none: a listener leaked per alert would still be reported
    assert.ok(conn.getMaxListeners() > steers.length && Number.isFinite(conn.getMaxListeners()), `bound ${conn.getMaxListeners()}`);
    // Node says it on the process's 'warning' event, on a later tick.
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(warnings.map((w) => w.name), []);
    for (const steer of steers) steer.close();
    assert.equal(conn.listenerCount('state'), 0, 'none left after close()');
  } finally {
    process.off('warning', onWarning);
    for (const steer of steers) steer.close();
    await conn.close();
  }
});

// A burst of alerts of equal priority (fireworks: one explosion after another) on few cameras.

test('a minimum look: a newer alert of equal priority waits while the camera looks at its alert, then gets the camera', () =>
  withOneCamera({ returnHomeAfterMs: 60_000, minLookMs: 2000 }, 0, async ({ a, steer, outs, send }) => {
    await send(steerAlert('boom-1', 'explosion', destination(ORIGIN, 10, 40)));
    assert.equal(stateOf(outs, 'boom-1'), 'on-target');
    const onTargetAt = performance.now();
    await send(steerAlert('boom-2', 'explosion', destination(ORIGIN, 100, 40)));
    const waiting = lastOf(outs, 'boom-2')!.payload.camera!;
    assert.equal(waiting.state, 'waiting', 'the camera stays on the first explosion for its look');
    assert.equal(waiting.reason, 'camera a is busy with an explosion alert; waiting up to 5 min for it to be free');
    assert.equal(waiting.heldFor, 'boom-1');
    assert.equal(a.moves.length, 1);
    await waitFor(() => stateOf(outs, 'boom-2') === 'on-target', 60_000, 'the second explosion on target after the look');
    assert.ok(performance.now() - onTargetAt >= 2000, 'not before the look was over');
    assert.equal(a.moves.length, 2);
    assert.equal(stateOf(outs, 'boom-1'), 'waiting', 'the first explosion, its look over, waits for a camera again');
    assert.deepEqual(steer.waitingAlerts, ['boom-1']);
  }));

test('a minimum look: a more important alert, or an operator\'s explicit move, takes the camera during it', () =>
  withOneCamera({ returnHomeAfterMs: 60_000, minLookMs: 60_000 }, 0, async ({ a, outs, send }) => {
    await send(steerAlert('glass-1', 'glass_break', destination(ORIGIN, 10, 40)));
    await send(steerAlert('glass-2', 'glass_break', destination(ORIGIN, 60, 40)));
    assert.equal(stateOf(outs, 'glass-2'), 'waiting');
    await send(steerAlert('scream', 'scream', destination(ORIGIN, 100, 40)));
    assert.equal(stateOf(outs, 'scream'), 'on-target', 'a more important alert takes the camera at once');
    assert.equal(a.moves.length, 2);
    // The scream's own look keeps a newer scream out, but not an operator taking the camera.
    await send(steerAlert('scream-2', 'scream', destination(ORIGIN, 150, 40)));
    assert.equal(stateOf(outs, 'scream-2'), 'waiting');
    await send({ kind: 'move-request', alertId: 'scream-2', operator: 'ana' });
    assert.equal(stateOf(outs, 'scream-2'), 'on-target', 'the operator\'s move takes the camera during the look');
    assert.equal(a.moves.length, 3);
    assert.match(lastOf(outs, 'scream')!.payload.camera!.reason!, /^camera a looked here, then was taken by ana for scream alert scream-2; waiting/);
  }));

test('a minimum look counts from the start of the move: a newer alert of equal priority does not cut a move short', () =>
  withOneCamera({ returnHomeAfterMs: 60_000, minLookMs: 60_000, moveTimeoutMs: 10_000 }, 0, async ({ a, outs, send }) => {
    // The camera is still on its way to the first explosion when the second comes, however slow the machine.
    a.held = true;
    const first = send(steerAlert('boom-1', 'explosion', destination(ORIGIN, 10, 40)));
    await waitFor(() => a.moves.length === 1, 5000, 'the camera turning to the first explosion');
    await send(steerAlert('boom-2', 'explosion', destination(ORIGIN, 100, 40)));
    assert.equal(stateOf(outs, 'boom-2'), 'waiting');
    assert.equal(a.moves.length, 1, 'the move under way goes on');
    a.held = false;
    await first;
    assert.equal(stateOf(outs, 'boom-1'), 'on-target');
  }));

test('look 0: a newer alert of equal priority takes the camera at once, even while it moves', () =>
  withOneCamera({ returnHomeAfterMs: 60_000, minLookMs: 0 }, 0, async ({ a, outs, send }) => {
    a.held = true;
    const first = send(steerAlert('boom-1', 'explosion', destination(ORIGIN, 10, 40)));
    await waitFor(() => a.moves.length === 1, 5000, 'the camera turning to the first explosion');
    const second = send(steerAlert('boom-2', 'explosion', destination(ORIGIN, 100, 40)));
    await waitFor(() => a.moves.length === 2, 5000, 'the camera sent to the second explosion');
    a.held = false;
    await Promise.all([first, second]);
    assert.equal(stateOf(outs, 'boom-2'), 'on-target');
  }));

test('recency is the arrival at ptz-steer, not the onset: a gateway whose clock runs an hour ahead does not keep the camera', () =>
  // No age limit: an onset an hour back would otherwise be an alert too old to turn a camera for.
  withOneCamera({ returnHomeAfterMs: 60_000, minLookMs: 0, maxAlertAgeMs: 0 }, 0, async ({ a, steer, outs, send }) => {
    const hourS = 3600;
    // Heard first, from a gateway an hour ahead (not yet synced): its onset says it is the most recent.
    await send({ ...steerAlert('ahead', 'gunshot', destination(ORIGIN, 10, 40)), onset: Date.now() / 1000 + hourS, offset: Date.now() / 1000 + hourS });
    assert.equal(stateOf(outs, 'ahead'), 'on-target');
    // A real gunshot a moment later, from a gateway on time: it takes the camera.
    await send(steerAlert('now', 'gunshot', destination(ORIGIN, 100, 40)));
    assert.equal(stateOf(outs, 'now'), 'on-target', 'the later arrival is the more recent');
    assert.equal(a.moves.length, 2);
    // A copy of the first one (placed better) keeps its first arrival: it does not take the camera back.
    await send({ ...steerAlert('ahead', 'gunshot', destination(ORIGIN, 12, 40)), onset: Date.now() / 1000 + hourS, offset: Date.now() / 1000 + hourS });
    assert.equal(stateOf(outs, 'ahead'), 'waiting');
    assert.equal(a.moves.length, 2);
    // Waiting alerts are served by arrival too: one heard later but dated an hour back comes first.
    await send({ ...steerAlert('behind', 'gunshot', destination(ORIGIN, 200, 40)), onset: Date.now() / 1000 - hourS, offset: Date.now() / 1000 - hourS });
    assert.equal(stateOf(outs, 'behind'), 'on-target', 'the latest arrival takes the camera, whatever its onset');
    assert.deepEqual(steer.waitingAlerts, ['now', 'ahead'], 'most recent arrival first');
  }));

/** An alert as steerAlert() makes it, whose onset is `onsetMs` on the wall clock. */
const alertAt = (id: string, label: string, pos: { lat: number; lon: number }, onsetMs: number) => ({ ...steerAlert(id, label, pos), onset: onsetMs / 1000, offset: onsetMs / 1000 + 0.3 });

test('an alert that began longer ago than maxAlertAgeMs turns no camera: sent on, its camera unavailable with why; younger, or with no limit, it turns', async () => {
  const wallMs = Date.UTC(2026, 5, 1, 12);
  const tooOld: Array<[string, number]> = [];
  const a = new FakeCamera(cameraAt('a', 0, 0), 0);
  const logs: string[] = [];
  const steer = new PtzSteer(asConns([a]), { pollMs: 5, returnHomeAfterMs: 60_000, minLookMs: 0, maxAlertAgeMs: 600_000, wallNow: () => wallMs }, { log: (t) => logs.push(t), onTooOld: (id, ageMs) => tooOld.push([id, ageMs]) });
  const outs: SteerOutput[] = [];
  const send = (p: unknown) => steer.handle(p, (o) => outs.push(o));
  try {
    // Replayed an hour after it began (an outbox after a long MQTT outage).
    await send(alertAt('replayed', 'gunshot', destination(ORIGIN, 90, 40), wallMs - 3_720_000));
    const sent = outs.filter((o) => o.payload.id === 'replayed');
    assert.deepEqual(sent.map((o) => o.port), [1], 'passed on once, on output 1 only: not a camera error');
    const cam = sent[0].payload.camera!;
    assert.deepEqual([cam.id, cam.state, cam.target.bearing], ['a', 'unavailable', 90]);
    assert.equal(cam.reason, "no camera turned: it began 62 min ago (cameras turn for alerts at most 10 min old); a message delayed or replayed, or its sensor's clock behind");
    assert.equal(a.moves.length, 0, 'the camera did not move');
    assert.deepEqual(tooOld, [['replayed', 3_720_000]]);
    assert.ok(logs.some((l) => l.startsWith('alert replayed: no camera turned')));
    // It took no hold: a glass break now turns the camera.
    await send(alertAt('fresh', 'glass_break', destination(ORIGIN, 200, 40), wallMs - 2000));
    assert.equal(stateOf(outs, 'fresh'), 'on-target');
    // Just within the limit, it turns.
    await send(alertAt('nine-min', 'gunshot', destination(ORIGIN, 100, 40), wallMs - 540_000));
    assert.equal(stateOf(outs, 'nine-min'), 'on-target');
    assert.equal(a.moves.length, 2);
  } finally {
    steer.close();
  }
  // 0 = no limit: the hour-old alert turns the camera.
  await withOneCamera({ maxAlertAgeMs: 0, wallNow: () => wallMs }, 0, async ({ a: b, outs: o, send: s }) => {
    await s(alertAt('replayed', 'gunshot', destination(ORIGIN, 90, 40), wallMs - 3_720_000));
    assert.equal(stateOf(o, 'replayed'), 'on-target');
    assert.equal(b.moves.length, 1);
  });
});

test('a copy of an alert sent after the age limit, better placed, goes on steering the camera that looks at it; a new alert just past the limit says its age in seconds', async () => {
  let wallMs = Date.UTC(2026, 5, 1, 12);
  await withOneCamera({ returnHomeAfterMs: 60_000, minLookMs: 0, maxAlertAgeMs: 600_000, wallNow: () => wallMs }, 0, async ({ a, outs, send }) => {
    // Came 595 s after its onset: the camera turns to it.
    const onsetMs = wallMs - 595_000;
    await send(alertAt('gun', 'gunshot', destination(ORIGIN, 60, 40), onsetMs));
    assert.equal(stateOf(outs, 'gun'), 'on-target');
    // Ten seconds later a fused copy, better placed: 605 s old, but its camera looks at it.
    wallMs += 10_000;
    await send(alertAt('gun', 'gunshot', destination(ORIGIN, 64, 40), onsetMs));
    assert.equal(stateOf(outs, 'gun'), 'on-target', 'still steered, not "no camera turned"');
    assert.equal(a.moves.length, 2, 'the camera follows the better place');
    assert.doesNotMatch(lastOf(outs, 'gun')!.payload.camera!.reason ?? '', /no camera turned/);
  });
  await withOneCamera({ maxAlertAgeMs: 600_000, wallNow: () => wallMs }, 0, async ({ a, outs, send }) => {
    await send(alertAt('late', 'gunshot', destination(ORIGIN, 60, 40), wallMs - 605_000));
    assert.equal(stateOf(outs, 'late'), 'unavailable');
    assert.match(lastOf(outs, 'late')!.payload.camera!.reason!, /^no camera turned: it began 605 s ago \(cameras turn for alerts at most 10 min old\)/);
    assert.equal(a.moves.length, 0);
  });
});

test('an alert that grows too old while it waits for a busy camera turns no camera when the camera is free: sent on unavailable, saying how old', async () => {
  let wallMs = Date.UTC(2026, 5, 1, 12);
  await withOneCamera({ returnHomeAfterMs: 60_000, minLookMs: 0, maxAlertAgeMs: 600_000, wallNow: () => wallMs }, 0, async ({ a, steer, outs, send }) => {
    await send(alertAt('boom', 'explosion', destination(ORIGIN, 10, 40), wallMs - 1000));
    // Nine minutes old when it comes: young enough, but the camera is busy with an explosion.
    await send(alertAt('glass', 'glass_break', destination(ORIGIN, 200, 40), wallMs - 540_000));
    assert.equal(stateOf(outs, 'glass'), 'waiting');
    assert.deepEqual(steer.waitingAlerts, ['glass']);
    // Two minutes later the explosion is dismissed: the glass break is 11 minutes old.
    wallMs += 120_000;
    await send({ kind: 'decision', alertId: 'boom', action: 'dismiss', operator: 'Alice', time: wallMs / 1000 });
    await waitFor(() => stateOf(outs, 'glass') !== 'waiting', 5000, 'the glass break no longer waiting');
    assert.equal(stateOf(outs, 'glass'), 'unavailable');
    assert.match(lastOf(outs, 'glass')!.payload.camera!.reason!, /^no camera turned: it began 11 min ago \(cameras turn for alerts at most 10 min old\)/);
    assert.deepEqual(steer.waitingAlerts, []);
    assert.equal(a.moves.length, 1, 'the camera turned for the explosion only');
  });
});

test('old alerts and clocks: an onset ahead of this clock (a little, or a sensor clock far ahead), one of 1970, or this machine\'s clock not set, is not old', async () => {
  const wallMs = Date.UTC(2026, 5, 1, 12);
  for (const [what, onsetMs, nowMs] of [
    ['30 s ahead (within the tolerance the console uses)', wallMs + 30_000, wallMs],
    ['an hour ahead (a sensor clock ahead: the console shows its arrival)', wallMs + 3_600_000, wallMs],
    ['1970 (a sensor clock not set)', 5_000_000, wallMs],
    ['this machine\'s clock not set (nor the sensor\'s)', 1_000_000, 5_000_000],
  ] as const) {
    await withOneCamera({ maxAlertAgeMs: 600_000, wallNow: () => nowMs }, 0, async ({ a, outs, send }) => {
      await send(alertAt('x', 'gunshot', destination(ORIGIN, 90, 40), onsetMs));
      assert.equal(stateOf(outs, 'x'), 'on-target', what);
      assert.equal(a.moves.length, 1, what);
    });
  }
});

test('confirm mode: an alert too old is not proposed; sent on unavailable, and a confirm for it moves nothing', () =>
  withOneCamera({ mode: 'confirm', maxAlertAgeMs: 600_000 }, 0, async ({ a, steer, outs, send }) => {
    await send(alertAt('old', 'gunshot', destination(ORIGIN, 90, 40), Date.now() - 900_000));
    assert.equal(stateOf(outs, 'old'), 'unavailable');
    assert.match(lastOf(outs, 'old')!.payload.camera!.reason!, /^no camera turned: it began 15 min ago/);
    assert.deepEqual(steer.pendingProposals, []);
    await send({ kind: 'decision', alertId: 'old', action: 'confirm', operator: 'Alice', time: Date.now() / 1000 });
    assert.equal(a.moves.length, 0);
    // The console's Take camera on it (a move request carrying the alert): the operator's choice turns the camera.
    await send({ kind: 'move-request', alertId: 'old', operator: 'Alice', alert: lastOf(outs, 'old')!.payload });
    assert.equal(stateOf(outs, 'old'), 'on-target');
    assert.equal(a.moves.length, 1);
  }));

test('a waiting alert\'s updates are held back and sent together: at most one per waitingUpdateMinMs, the latest words, never lost', () =>
  withOneCamera({ returnHomeAfterMs: 60_000, minLookMs: 0, waitingUpdateMinMs: 3000 }, 0, async ({ outs, send }) => {
    await send(steerAlert('boom', 'explosion', destination(ORIGIN, 10, 40)));
    await send(steerAlert('glass', 'glass_break', destination(ORIGIN, 100, 40)));
    const sentAt = performance.now();
    const sent = () => outs.filter((o) => o.payload.id === 'glass');
    assert.equal(sent().length, 1);
    assert.match(sent()[0].payload.camera!.reason!, /busy with an explosion alert/);
    // A gunshot takes the camera: the glass break's words change, but it was sent a moment ago.
    await send(steerAlert('gun', 'gunshot', destination(ORIGIN, 200, 40)));
    assert.equal(sent().length, 1, 'held back');
    // An explosion takes it back: the words are those sent already; then another gunshot.
    await send(steerAlert('boom-2', 'explosion', destination(ORIGIN, 250, 40)));
    await send(steerAlert('gun-2', 'gunshot', destination(ORIGIN, 300, 40)));
    assert.equal(sent().length, 1, 'still held back');
    await waitFor(() => sent().length === 2, 15_000, 'the update held back');
    assert.ok(performance.now() - sentAt >= 3000, 'not before 3 s after the last copy');
    const cam = sent()[1].payload.camera!;
    assert.equal(cam.state, 'waiting');
    assert.match(cam.reason!, /busy with a gunshot alert/, 'the latest words');
    assert.equal(cam.heldFor, 'gun-2', 'and the holder of then');
    // Nothing more to say: nothing more is sent.
    await send(steerAlert('gun-3', 'gunshot', destination(ORIGIN, 320, 40)));
    await new Promise((r) => setTimeout(r, 100)); // a negative check: an update would be sent at once (3 s have passed)
    assert.equal(sent().length, 2);
  }));

test('a burst of alerts of equal priority on two cameras: a few copies per alert, and each alert\'s last copy is its final state', async () => {
  const cams = [new FakeCamera(cameraAt('north', 0, 25), 20), new FakeCamera(cameraAt('south', 180, 25), 20)];
  // No minimum look (each alert takes a camera from the one before: the most copies), short
  // waits so that the burst plays out, updates as often as they may be.
  const steer = new PtzSteer(asConns(cams), { pollMs: 5, returnHomeAfterMs: 60_000, minLookMs: 0, waitForCameraMs: 1500, waitingUpdateMinMs: 200 });
  const outs: SteerOutput[] = [];
  const ids = Array.from({ length: 40 }, (_, i) => `fw-${i}`);
  try {
    // They come while the cameras turn; another kind now and then, so that the words of the waiting ones change too.
    const handled: Array<Promise<void>> = [];
    for (const [i, id] of ids.entries()) {
      handled.push(steer.handle(steerAlert(id, i % 7 === 3 ? 'gunshot' : 'explosion', destination(ORIGIN, (i * 137) % 360, 10 + (i % 30))), (o) => outs.push(o)));
      await new Promise((r) => setTimeout(r, 10));
    }
    await Promise.all(handled);
    await waitFor(() => steer.waitingAlerts.length === 0, 10_000, 'every wait over');
    // updates held back, if any, go out
    await new Promise((r) => setTimeout(r, 400));
    const copies = ids.map((id) => outs.filter((o) => o.port === 1 && o.payload.id === id).length);
    assert.ok(Math.max(...copies) <= 6, `copies per alert: ${copies.join(' ')}`);
    for (const id of ids) {
      const last = lastOf(outs, id)!.payload.camera!;
      assert.ok(['on-target', 'released', 'unavailable'].includes(last.state), `${id} ends ${last.state} (${last.reason})`);
    }
    // the cameras' last alerts are on target, every other one has been told it has no camera
    assert.equal(ids.filter((id) => lastOf(outs, id)!.payload.camera!.state === 'on-target').length, 2);
  } finally {
    steer.close();
  }
});

// The localizer sends an alert again, under the same id, when a later report places it better.
// The newer copy supersedes the older one's move: the older copy ends quietly (it does not wait
// for the camera its own alert holds, is not tried again, and is not sent).

/** Every camera state output 1 sent for `id`, in order. */
const statesOf = (outs: SteerOutput[], id: string) => outs.filter((o) => o.port === 1 && o.payload.id === id).map((o) => o.payload.camera?.state);

test('a copy sent again while the first copy\'s camera is still turning re-aims it once: no back and forth, never "waiting" for itself', () =>
  withOneCamera({ returnHomeAfterMs: 60_000 }, 300, async ({ a, steer, outs, send }) => {
    // The camera is still on its way to the first place when the copy comes, however slow the machine.
    a.held = true;
    const first = send(steerAlert('gun', 'gunshot', destination(ORIGIN, 30, 40)));
    await waitFor(() => a.moves.length === 1, 5000, 'the camera turning to the first place');
    const second = send(steerAlert('gun', 'gunshot', destination(ORIGIN, 34, 40)));
    await waitFor(() => a.moves.length >= 2, 5000, 'the camera sent to the better place');
    a.held = false;
    await Promise.all([first, second]);
    // Stops at the first sign of a camera swinging back and forth, rather than at a timeout.
    await waitFor(() => stateOf(outs, 'gun') === 'on-target' || a.moves.length > 10, 5000, 'the gunshot on target');
    assert.ok(a.moves.length <= 3, `the camera turned ${a.moves.length} times`);
    const cam = lastOf(outs, 'gun')!.payload.camera!;
    assert.equal(cam.state, 'on-target');
    assert.equal(cam.target.bearing, 34, 'at the better place');
    assert.ok(Math.abs(cam.pan - 34) < 1, `the camera points at 34°, not ${cam.pan}°`);
    assert.deepEqual(statesOf(outs, 'gun'), ['on-target'], 'the superseded first copy sends nothing');
    assert.equal(outs.filter((o) => o.port === 2).length, 0);
    assert.deepEqual(steer.waitingAlerts, []);
    // Nothing turns it back to the first place afterwards. A negative check, so a fixed wait:
    // longer than a move takes (0.3 s).
    const moves = a.moves.length;
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(a.moves.length, moves);
  }));

test('a copy sent again while the camera back from offline turns to the first copy: it re-aims it once, never "waiting" for itself', async () => {
  const a = new FakeCamera(cameraAt('a', 0, 0), 300);
  a.unplug();
  const steer = new PtzSteer(asConns([a]), { pollMs: 5, returnHomeAfterMs: 60_000, retries: 0 });
  const outs: SteerOutput[] = [];
  const send = (payload: unknown) => steer.handle(payload, (o) => outs.push(o));
  try {
    await send(steerAlert('gun', 'gunshot', destination(ORIGIN, 30, 40)));
    assert.deepEqual(steer.alertsAwaitingAnswer, ['gun']);
    // Back: the alert is tried again, and the copy comes while the camera turns to its first place.
    a.held = true;
    a.plugIn({ reconnected: true });
    await waitFor(() => a.moves.length === 1, 5000, 'the camera turning to the first place');
    const second = send(steerAlert('gun', 'gunshot', destination(ORIGIN, 34, 40)));
    await waitFor(() => a.moves.length >= 2, 5000, 'the camera sent to the better place');
    a.held = false;
    await second;
    await waitFor(() => stateOf(outs, 'gun') === 'on-target' || a.moves.length > 10, 5000, 'the gunshot on target');
    assert.ok(a.moves.length <= 3, `the camera turned ${a.moves.length} times`);
    assert.equal(lastOf(outs, 'gun')!.payload.camera!.target.bearing, 34);
    assert.deepEqual(statesOf(outs, 'gun'), ['failed', 'on-target'], 'the first copy, tried again and superseded, sends nothing more');
    assert.deepEqual(steer.alertsAwaitingAnswer, []);
    assert.deepEqual(steer.waitingAlerts, []);
    const moves = a.moves.length;
    await new Promise((r) => setTimeout(r, 400)); // the same negative check
    assert.equal(a.moves.length, moves);
  } finally {
    steer.close();
  }
});

test('a copy sent again while the first copy waits to retry a silent camera: only the copy fails, waits, and gets the camera', async () => {
  const a = new FakeCamera(cameraAt('a', 0, 0), 0);
  a.unplug();
  let tries = 0;
  const absoluteMove = a.absoluteMove.bind(a);
  a.absoluteMove = (p: PtzPosition) => {
    tries++;
    return absoluteMove(p);
  };
  const steer = new PtzSteer(asConns([a]), { pollMs: 5, returnHomeAfterMs: 60_000, retries: 2 });
  const outs: SteerOutput[] = [];
  const send = (payload: unknown) => steer.handle(payload, (o) => outs.push(o));
  try {
    const first = send(steerAlert('gun', 'gunshot', destination(ORIGIN, 30, 40)));
    await waitFor(() => tries === 1, 5000, 'the first copy\'s first try');
    // Its quick retries are 0.5 s and 1 s later: the copy comes before them.
    await Promise.all([first, send(steerAlert('gun', 'gunshot', destination(ORIGIN, 34, 40)))]);
    assert.deepEqual(statesOf(outs, 'gun'), ['failed'], 'one "failed", the copy\'s; the first copy is not sent');
    assert.equal(lastOf(outs, 'gun')!.payload.camera!.target.bearing, 34);
    assert.equal(outs.filter((o) => o.port === 2).length, 1, 'output 2 says it once');
    assert.equal(tries, 4, 'the first copy stopped retrying: one try of its own, three of the copy');
    assert.deepEqual(steer.alertsAwaitingAnswer, ['gun']);
    a.plugIn({ reconnected: true });
    await waitFor(() => stateOf(outs, 'gun') === 'on-target', 5000, 'the gunshot on target');
    assert.equal(lastOf(outs, 'gun')!.payload.camera!.target.bearing, 34);
    assert.equal(a.moves.length, 1);
  } finally {
    steer.close();
  }
});

test('a more important alert that takes the camera from a copy sent again still makes it wait, at its new place', () =>
  withOneCamera({ returnHomeAfterMs: 60_000 }, 300, async ({ a, steer, outs, send }) => {
    a.held = true;
    const first = send(steerAlert('glass', 'glass_break', destination(ORIGIN, 80, 40)));
    await waitFor(() => a.moves.length === 1, 5000, 'the camera turning to the glass break');
    const second = send(steerAlert('glass', 'glass_break', destination(ORIGIN, 84, 40)));
    await waitFor(() => a.moves.length === 2, 5000, 'the camera sent to its better place');
    // A gunshot takes the camera while it still turns to the glass break's better place.
    const gun = send(steerAlert('gun', 'gunshot', destination(ORIGIN, 10, 40)));
    await waitFor(() => a.moves.length === 3, 5000, 'the camera sent to the gunshot');
    a.held = false;
    await Promise.all([first, second, gun]);
    assert.equal(stateOf(outs, 'gun'), 'on-target');
    const waiting = lastOf(outs, 'glass')!.payload.camera!;
    assert.equal(waiting.state, 'waiting', 'taken by another alert, it waits for the camera as before');
    assert.equal(waiting.target.bearing, 84);
    assert.equal(waiting.reason, 'camera a is busy with a gunshot alert; waiting up to 5 min for it to be free');
    assert.deepEqual(steer.waitingAlerts, ['glass']);
    await send({ kind: 'decision', alertId: 'gun', action: 'dismiss', operator: 'ana', time: 1 });
    await waitFor(() => stateOf(outs, 'glass') === 'on-target', 5000, 'the glass break on target once the gunshot is dismissed');
    assert.equal(lastOf(outs, 'glass')!.payload.camera!.target.bearing, 84, 'at its better place');
    assert.deepEqual(statesOf(outs, 'glass'), ['waiting', 'on-target']);
    assert.equal(a.moves.length, 4);
  }));

test('confirm mode: a copy sent again while the camera the operator moved still turns re-aims it once', () =>
  withOneCamera({ mode: 'confirm', returnHomeAfterMs: 60_000 }, 300, async ({ a, steer, outs, send }) => {
    await send(steerAlert('gun', 'gunshot', destination(ORIGIN, 30, 40)));
    assert.equal(stateOf(outs, 'gun'), 'proposed');
    a.held = true;
    const moved = send({ kind: 'move-request', alertId: 'gun', operator: 'ana' });
    await waitFor(() => a.moves.length === 1, 5000, 'the camera turning to the alert');
    const second = send(steerAlert('gun', 'gunshot', destination(ORIGIN, 34, 40)));
    await waitFor(() => a.moves.length >= 2, 5000, 'the camera sent to the better place');
    a.held = false;
    await Promise.all([moved, second]);
    await waitFor(() => stateOf(outs, 'gun') === 'on-target' || a.moves.length > 10, 5000, 'the gunshot on target');
    assert.ok(a.moves.length <= 3, `the camera turned ${a.moves.length} times`);
    assert.equal(lastOf(outs, 'gun')!.payload.camera!.target.bearing, 34);
    assert.deepEqual(statesOf(outs, 'gun'), ['proposed', 'on-target']);
    assert.deepEqual(steer.waitingAlerts, []);
    assert.deepEqual(steer.pendingProposals, []);
  }));

test('confirm mode: a copy sent again while the confirmed alert waits for a busy camera waits in its place, and is not proposed again', () =>
  withOneCamera({ mode: 'confirm', returnHomeAfterMs: 60_000 }, 0, async ({ a, steer, outs, send }) => {
    await send(steerAlert('gun', 'gunshot', destination(ORIGIN, 10, 40)));
    await send({ kind: 'move-request', alertId: 'gun', operator: 'ana' });
    await send(steerAlert('glass', 'glass_break', destination(ORIGIN, 80, 40)));
    await send({ kind: 'decision', alertId: 'glass', action: 'confirm', operator: 'ana', time: 1 });
    assert.equal(stateOf(outs, 'glass'), 'waiting');
    await send(steerAlert('glass', 'glass_break', destination(ORIGIN, 84, 40)));
    const cam = lastOf(outs, 'glass')!.payload.camera!;
    assert.equal(cam.state, 'waiting', 'the operator confirmed it already');
    assert.equal(cam.target.bearing, 84);
    assert.deepEqual(steer.pendingProposals, []);
    assert.deepEqual(steer.waitingAlerts, ['glass']);
    await send({ kind: 'decision', alertId: 'gun', action: 'dismiss', operator: 'ana', time: 2 });
    await waitFor(() => stateOf(outs, 'glass') === 'on-target', 3000, 'the glass break on target');
    assert.equal(lastOf(outs, 'glass')!.payload.camera!.target.bearing, 84);
    assert.equal(a.moves.length, 2, 'turned once to the glass break, at its better place');
  }));

test('a copy placed again near another camera: the first camera, arriving late at the older place, is not sent as the alert\'s nor held for it', async () => {
  const a = new FakeCamera(cameraAt('a', 0, 5), 300);
  const b = new FakeCamera(cameraAt('b', 180, 300), 0);
  const steer = new PtzSteer(asConns([a, b]), { pollMs: 5, returnHomeAfterMs: 60_000 });
  const outs: SteerOutput[] = [];
  const send = (payload: unknown) => steer.handle(payload, (o) => outs.push(o));
  try {
    a.held = true;
    const first = send(steerAlert('gun', 'gunshot', destination(ORIGIN, 10, 20)));
    await waitFor(() => a.moves.length === 1, 5000, 'camera a turning to the first place');
    await send(steerAlert('gun', 'gunshot', destination(ORIGIN, 180, 290)));
    assert.equal(lastOf(outs, 'gun')!.payload.camera!.id, 'b');
    assert.equal(lastOf(outs, 'gun')!.payload.camera!.state, 'on-target');
    // Camera a reaches the first place only now.
    a.held = false;
    await first;
    assert.deepEqual(statesOf(outs, 'gun'), ['on-target'], 'only the copy\'s camera is sent');
    assert.equal(lastOf(outs, 'gun')!.payload.camera!.id, 'b');
    // Camera a is free: a lesser alert near it gets it at once, and the gunshot hears nothing of it.
    await send(steerAlert('glass', 'glass_break', destination(ORIGIN, 20, 20)));
    assert.equal(stateOf(outs, 'glass'), 'on-target');
    assert.equal(lastOf(outs, 'glass')!.payload.camera!.id, 'a');
    assert.deepEqual(statesOf(outs, 'gun'), ['on-target']);
    assert.deepEqual(steer.waitingAlerts, []);
  } finally {
    steer.close();
  }
});

/** A camera with AbsoluteMove only; turns for `pollsToArrive` status reads (or for ever), then is there. */
function slowCamera(pollsToArrive: number): Ptz {
  let goal: PtzPosition | undefined;
  let reads = 0;
  return {
    id: 'slow',
    capabilities: { absolute: true, relative: false, continuous: false },
    unsupported: new Set<string>(),
    presets: [],
    async absoluteMove(p: PtzPosition) {
      goal = p;
    },
    async getStatus() {
      reads++;
      const there = goal && reads >= pollsToArrive;
      return { position: there ? { ...goal! } : { pan: 0, tilt: 0, zoom: 0 }, moving: !there };
    },
  } as unknown as Ptz;
}

const MOVE_TARGET = { panDeg: 60, tiltDeg: -10, hfovDeg: 30 };

/**
 * A camera with AbsoluteMove only whose status reads give `path` in turn (degrees, and what it
 * says of its motion), then its last entry for ever.
 */
function scriptedCamera(path: Array<{ panDeg: number; tiltDeg: number; moving?: boolean }>): Ptz & { reads: number } {
  const cam = {
    id: 'scripted',
    reads: 0,
    capabilities: { absolute: true, relative: false, continuous: false },
    unsupported: new Set<string>(),
    presets: [],
    async absoluteMove() {},
    async getStatus() {
      const at = path[Math.min(cam.reads++, path.length - 1)];
      return { position: degreesToSpace(DEFAULT_CALIBRATION, { ...at, hfovDeg: 30 }), moving: at.moving };
    },
  };
  return cam as unknown as Ptz & { reads: number };
}

test('the mover: a camera turning past the target (its AbsoluteMove lands 3° beyond) is not on target because one reading fell within the tolerance', async () => {
  // 90°/s read every 100 ms: 50.5, 60.0 (the target, passing), 63 where it stops. With MoveStatus, then without.
  const past = [{ panDeg: 50.5, tiltDeg: -10 }, { panDeg: 60, tiltDeg: -10 }, { panDeg: 63, tiltDeg: -10 }];
  for (const says of [true, false]) {
    const path = past.map((p, i) => ({ ...p, moving: says ? i < past.length - 1 : undefined }));
    const r = await moveToTarget(scriptedCamera(path), DEFAULT_CALIBRATION, MOVE_TARGET, { moveTimeoutMs: 60_000, pollMs: 1 });
    const label = says ? 'it says MOVING, then IDLE' : 'it says nothing of its motion';
    assert.equal(r.state, 'failed', label);
    assert.match(r.notes.join('; '), /AbsoluteMove did not reach the target \(error 3\.0°\)/, label);
  }
});

test('the mover: on target once the camera says it stopped after moving, or once two readings agree', async () => {
  const there = { panDeg: 60.3, tiltDeg: -10 };
  // MOVING, then IDLE within the tolerance: the first IDLE reading is the arrival.
  const says = scriptedCamera([{ panDeg: 30, tiltDeg: -10, moving: true }, { ...there, moving: false }, { panDeg: 99, tiltDeg: 0, moving: false }]);
  const r1 = await moveToTarget(says, DEFAULT_CALIBRATION, MOVE_TARGET, { pollMs: 1 });
  assert.equal(r1.state, 'on-target', r1.notes.join('; '));
  assert.equal(r1.errorDeg, 0.3);
  // Never seen moving (there at the first reading), or MOVING for ever at rest: the second agreeing reading.
  for (const moving of [false, true, undefined]) {
    const cam = scriptedCamera([{ ...there, moving }]);
    const r = await moveToTarget(cam, DEFAULT_CALIBRATION, MOVE_TARGET, { pollMs: 1 });
    assert.equal(r.state, 'on-target', `moving ${moving}: ${r.notes.join('; ')}`);
    assert.equal(cam.reads, 2, `moving ${moving}`);
  }
});

test('the mover: a wall clock step forward (NTP sync) during a move does not end its deadline', async () => {
  const target = MOVE_TARGET;
  const wall = stepWallClock();
  try {
    // Forward: the step comes with the first poll; the camera arrives at the fifth, well within the timeout.
    let stepped = false;
    const sleepThenStep = async (ms: number) => {
      await new Promise((r) => setTimeout(r, ms));
      if (!stepped) wall.step(NTP_FIRST_SYNC_STEP_MS);
      stepped = true;
    };
    const r = await moveToTarget(slowCamera(5), DEFAULT_CALIBRATION, target, { moveTimeoutMs: 60_000, pollMs: 5, sleep: sleepThenStep });
    assert.equal(r.state, 'on-target', r.notes.join('; '));
    assert.ok(r.moveMs >= 0 && r.moveMs < 60_000, `moveMs ${r.moveMs}`);
  } finally {
    wall.restore();
  }
});

test('the mover: a wall clock step back during a move does not lengthen its deadline', async () => {
  const target = MOVE_TARGET;
  const wall = stepWallClock();
  try {
    // Back: a camera that never arrives is given up at its timeout, not ten minutes later.
    let steppedBack = false;
    const sleepThenStepBack = async (ms: number) => {
      await new Promise((r) => setTimeout(r, ms));
      if (!steppedBack) wall.step(-10 * 60_000);
      steppedBack = true;
    };
    const giveUpAfterMs = 10_000;
    const startedAt = performance.now();
    const late = await moveToTarget(slowCamera(Infinity), DEFAULT_CALIBRATION, target, {
      moveTimeoutMs: 200,
      pollMs: 5,
      sleep: sleepThenStepBack,
      cancelled: () => (performance.now() - startedAt > giveUpAfterMs ? 'still moving long after its timeout' : undefined),
    });
    assert.equal(late.state, 'failed');
    assert.doesNotMatch(late.notes.join('; '), /still moving long after its timeout/);
    assert.match(late.notes.join('; '), /AbsoluteMove did not reach the target/);
  } finally {
    wall.restore();
  }
});

test('the camera chooser and the move judge a target past a camera range by one rule, the Tolerance: chosen is moved, refused is not sent', async () => {
  // A wall mount whose pan covers −90…90° (facing north): a target at bearing 93° is 3° past its end, one at 90.8° 0.8°.
  const wallAt = () => ({ ...cameraAt('a', 0, 0), calibration: { ...DEFAULT_CALIBRATION, panMinDeg: -90, panMaxDeg: 90 } });
  for (const [toleranceDeg, bearingDeg, state] of [[5, 93, 'on-target'], [0.5, 90.8, undefined]] as const) {
    const a = new FakeCamera(wallAt(), 0);
    const steer = new PtzSteer(asConns([a]), { pollMs: 5, toleranceDeg, returnHomeAfterMs: 0 });
    const outs: SteerOutput[] = [];
    try {
      await steer.handle(steerAlert('w', 'glass_break', destination(ORIGIN, bearingDeg, 20)), (o) => outs.push(o));
      const label = `tolerance ${toleranceDeg}°, bearing ${bearingDeg}°`;
      assert.equal(lastOf(outs, 'w')!.payload.camera?.state, state, label);
      if (state) assert.equal(a.moves.length, 1, label);
      else {
        assert.equal(a.moves.length, 0, `${label}: nothing sent`);
        const err = outs.find((o) => o.port === 2)!.error!;
        assert.equal(err.code, 'no-camera', label);
        assert.match(err.message, /a: bearing 90\.8°, tilt -\d+\.\d°: pan 90\.8° is outside its pan range \(-90…90°\)/, label);
      }
    } finally {
      steer.close();
    }
  }
});

test('Take camera on an alert its camera cannot turn to (past its pan range): plain words saying which camera, why, and which other camera can look', async () => {
  // A wall mount facing north whose pan covers −90…90°, and a dome 250 m east.
  const wall = new FakeCamera({ ...cameraAt('wall', 0, 0), name: 'Wall north', calibration: { ...DEFAULT_CALIBRATION, panMinDeg: -90, panMaxDeg: 90 } }, 0);
  const dome = new FakeCamera({ ...cameraAt('dome', 90, 250), name: 'Dome east' }, 0);
  const steer = new PtzSteer(asConns([wall, dome]), { pollMs: 5, returnHomeAfterMs: 0 });
  const outs: SteerOutput[] = [];
  const audit: AuditEvent[] = [];
  const unsub = auditBus.subscribe((e) => audit.push(e));
  const refusals = (id: string) => audit.filter((e) => e.alertId === id && (e.details as { event?: string }).event === 'request-refused').map((e) => (e.details as { reason: string }).reason);
  try {
    // 20 m south of the wall camera: behind it; the dome, 250 m away, can look.
    const south = steerAlert('s', 'glass_break', destination(ORIGIN, 180, 20));
    const shown = { ...south, camera: { id: 'wall', name: 'Wall north', pan: 0, tilt: 0, zoom: 0, target: { bearing: 180, tilt: -16 }, state: 'released' } };
    // Asked of the wall camera by name: refused in words (not a field check), nothing moves.
    await steer.handle({ kind: 'move-request', alertId: 's', operator: 'Ann', cameraId: 'wall', alert: shown }, (o) => outs.push(o));
    assert.deepEqual(refusals('s'), ['camera Wall north cannot look there: pan 180.0° is outside its pan range (-90…90°); camera Dome east can (ask for the camera again without naming one)']);
    assert.equal(wall.moves.length + dome.moves.length, 0);
    // Asked without naming one: the dome turns to it.
    await steer.handle({ kind: 'move-request', alertId: 's', operator: 'Ann', alert: shown }, (o) => outs.push(o));
    assert.deepEqual([lastOf(outs, 's')!.payload.camera!.id, lastOf(outs, 's')!.payload.camera!.state], ['dome', 'on-target']);
    // Where the dome cannot look either (beyond its 300 m): answered on the camera the alert showed.
    const farSouth = { ...steerAlert('f', 'glass_break', destination(ORIGIN, 200, 120)), camera: { ...shown.camera } };
    await steer.handle({ kind: 'move-request', alertId: 'f', operator: 'Ann', alert: farSouth }, (o) => outs.push(o));
    const cam = lastOf(outs, 'f')!.payload.camera!;
    assert.equal(cam.state, 'unavailable');
    assert.match(cam.reason!, /^camera Wall north cannot look there: pan -160\.0° is outside its pan range \(-90…90°\); no other camera can see this place \(Dome east: the place is 3\d\d m away, beyond its 300 m reach\)$/);
    assert.deepEqual(refusals('f'), [cam.reason]);
    assert.equal(outs.filter((o) => o.port === 2).pop()?.error?.code, 'no-camera');
  } finally {
    unsub();
    steer.close();
  }
});
