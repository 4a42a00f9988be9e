/**
 * ptz-steer and vigie-camera in Node-RED (node-red-node-test-helper) with the real `onvif`
 * client against virtual cameras on 127.0.0.1.
 */
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualCamera } from '../../lib/sim/camera/virtual-camera';
import { AuditEvent, auditBus } from '../../lib/alerts/bus';
import { findCamera } from '../../lib/camera/registry';
import { destination } from '../../lib/camera/geometry';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PTZ_STEER_SETTINGS } from '../../lib/camera/steer';
import { waitFor } from '../support/wait';
import { flowsStartedListenerCount } from '../../lib/util/flows-started';
import { locatedAlert } from '../support/detections';
import { collect, helper } from '../support/node-red-helper';
import { startVirtualCamera, stopVirtualCameras } from '../support/virtual-cameras';
import { warningsOf } from '../support/node-red-log';
import { tempDir } from '../support/tmp';
import { Finding, scanJson } from '../support/privacy-scan';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const ptzSteer = require('../../nodes/ptz-steer');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const vigieCamera = require('../../nodes/vigie-camera');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const completeNode = require('@node-red/nodes/core/common/24-complete.js');

type Any = any; // eslint-disable-line @typescript-eslint/no-explicit-any

const ORIGIN = { lat: 45.4397, lon: 4.3872 };

function cameraNode(id: string, cam: VirtualCamera, extra: Record<string, unknown> = {}) {
  return {
    // The camera id must not equal a config node id (Node-RED would take it for a reference).
    id: `cfg-${id}`,
    type: 'vigie-camera',
    cameraId: id,
    name: `Camera ${id}`,
    host: '127.0.0.1',
    port: cam.port,
    lat: ORIGIN.lat,
    lon: ORIGIN.lon,
    heightM: 6,
    mountHeadingDeg: 0,
    maxRangeM: 300,
    ...extra,
  };
}

function creds(ids: string[]) {
  return Object.fromEntries(ids.map((id) => [`cfg-${id}`, { username: 'op', password: 'pw' }]));
}

interface OneCameraOptions {
  /** Defaults to the right ones. */
  credentials?: Record<string, unknown>;
  /** ptz-steer settings over the defaults (automatic, no return home). */
  steer?: Record<string, unknown>;
  /** A camera already started (a new one otherwise). */
  cam?: VirtualCamera;
  /** More nodes in the flow (on tab 'tab'). */
  extra?: Array<Record<string, unknown>>;
}

/** One virtual camera and a ptz-steer over it, with a catch node: what it sends on each output and what it refuses. */
async function oneCameraSteer(opts: OneCameraOptions = {}): Promise<{ caught: Any[]; out: Any[]; err: Any[]; steer: Any; cam: VirtualCamera }> {
  const cam = opts.cam ?? (await startVirtualCamera());
  const flow = [
    { id: 'tab', type: 'tab', label: 'cameras' },
    cameraNode('camA', cam),
    { id: 'steer', z: 'tab', type: 'ptz-steer', cameras: ['cfg-camA'], mode: 'automatic', returnHomeS: 0, ...opts.steer, wires: [['out'], ['err']] },
    { id: 'out', z: 'tab', type: 'helper' },
    { id: 'err', z: 'tab', type: 'helper' },
    { id: 'catcher', z: 'tab', type: 'catch', scope: null, wires: [['caught']] },
    { id: 'caught', z: 'tab', type: 'helper' },
    ...(opts.extra ?? []),
  ];
  await helper.load([vigieCamera, ptzSteer, require('@node-red/nodes/core/common/25-catch.js'), completeNode], flow, opts.credentials ?? creds(['camA']));
  return { caught: collect(helper.getNode('caught')), out: collect(helper.getNode('out')), err: collect(helper.getNode('err')), steer: helper.getNode('steer'), cam };
}

/**
 * One virtual camera ("solo") and an automatic ptz-steer that waits up to 5 min for it, loaded
 * with `extra` nodes (of `extraTypes`) on its tab; its outputs collected.
 */
async function soloCameraSteer(extra: object[] = [], extraTypes: unknown[] = []): Promise<{ cam: Awaited<ReturnType<typeof startVirtualCamera>>; out: Any[]; errs: Any[]; steer: Any }> {
  const cam = await startVirtualCamera();
  const flow = [
    { id: 'tab', type: 'tab', label: 'cameras' },
    cameraNode('solo', cam),
    { id: 'steer', z: 'tab', type: 'ptz-steer', mode: 'automatic', returnHomeS: 600, waitForCameraS: 300, wires: [['out'], ['err']] },
    { id: 'out', z: 'tab', type: 'helper' },
    { id: 'err', z: 'tab', type: 'helper' },
    ...extra,
  ];
  await helper.load([vigieCamera, ptzSteer, ...extraTypes], flow, creds(['solo']));
  return { cam, out: collect(helper.getNode('out')), errs: collect(helper.getNode('err')), steer: helper.getNode('steer') };
}

describe('ptz-steer node', () => {
  afterEach(async () => {
    await helper.unload();
    await helper.stopServer();
    await stopVirtualCameras();
  });

  it('steers the camera to a located alert, reports payload.camera and audits the move', async () => {
    const target = destination(ORIGIN, 60, 50);
    const { out, err: errs, cam } = await oneCameraSteer({ steer: { name: 'steering', toleranceDeg: 1 } });
    const audit: AuditEvent[] = [];
    const unsub = auditBus.subscribe((e) => audit.push(e));
    try {
      helper.getNode('steer').receive({ payload: locatedAlert('a1', target) });
      await waitFor(() => out.length >= 1, 15_000);
      const c = out[0].payload.camera;
      assert.equal(out[0].payload.id, 'a1');
      assert.equal(c.id, 'camA');
      assert.equal(c.state, 'on-target');
      assert.ok(c.errorDeg <= 1, `errorDeg ${c.errorDeg}`);
      assert.ok(c.moveMs >= 0);
      assert.ok(Math.abs(c.target.bearing - 60) < 0.5, `bearing ${c.target.bearing}`);
      assert.ok(Math.abs(c.target.distanceM - 50) < 1);
      // Camera 6 m up, target on the ground 50 m away: about 6.8° down.
      assert.ok(Math.abs(c.target.tilt - -6.84) < 0.2, `tilt ${c.target.tilt}`);
      assert.ok(Math.abs(cam.pose.panDeg - 60) <= 1);
      assert.ok(Math.abs(cam.pose.tiltDeg - -6.84) <= 1);
      // About 10 m wide at 50 m: 11.4° field of view → zoom well above 1×.
      assert.ok(cam.pose.zoomX > 4 && cam.pose.zoomX < 7, `zoom ${cam.pose.zoomX}`);
      assert.equal(errs.length, 0);
      const move = audit.find((e) => e.type === 'camera-move' && e.alertId === 'a1');
      assert.ok(move, 'camera move audited');
      assert.equal(move!.actor, 'auto:steer');
      assert.equal((move!.details as Any).cameraId, 'camA');
      assert.equal((move!.details as Any).state, 'on-target');
      // The relay finds the camera through the registry, with ONVIF's stream URI.
      const handle = findCamera('camA');
      assert.ok(handle);
      assert.equal(await handle!.getStreamUri(), `http://127.0.0.1:${cam.port}/live.ts`);
    } finally {
      unsub();
    }
  });

  it('an alert as JSON text (a string or a Buffer, as an mqtt in node not set to parse JSON gives it) steers as the object does; text that is not JSON is refused naming payload', async () => {
    const { out, caught } = await oneCameraSteer();
    const steer = helper.getNode('steer');
    steer.receive({ payload: JSON.stringify(locatedAlert('t1', destination(ORIGIN, 60, 50))) });
    await waitFor(() => out.some((m) => m.payload.id === 't1' && m.payload.camera?.state === 'on-target'), 15_000, 'the alert from a string on target');
    steer.receive({ payload: Buffer.from(JSON.stringify(locatedAlert('t2', destination(ORIGIN, 120, 50)))) });
    await waitFor(() => out.some((m) => m.payload.id === 't2' && m.payload.camera?.state === 'on-target'), 15_000, 'the alert from a Buffer on target');
    steer.receive({ payload: 'gunshot at the corner' });
    await waitFor(() => caught.length >= 1, 10_000, 'the text refused');
    assert.match(String(caught[0].error.message).replace(/^ContractError: /, ''), /^payload: expected an alert, decision or move request object or its JSON text, got "gunshot at the corner"$/);
  });

  /** Every request the camera received that is not a read-only Get*: a move, Stop, a preset. */
  const ptzActions = (cam: VirtualCamera) => cam.calls.filter((c) => !c.action.startsWith('Get')).map((c) => ({ action: c.action, timeMs: c.timeMs }));

  /**
   * A confirm-mode ptz-steer on one virtual camera, with a complete node that says when the
   * node is done with each message; `propose` sends an alert and checks that the camera was
   * asked nothing but Get* requests (DESIGN §4.7) and has not moved.
   */
  async function confirmMode(cam: VirtualCamera) {
    const { out } = await oneCameraSteer({
      cam,
      steer: { mode: 'confirm' },
      extra: [
        { id: 'handled', z: 'tab', type: 'complete', scope: ['steer'], uncaught: false, wires: [['done']] },
        { id: 'done', z: 'tab', type: 'helper' },
      ],
    });
    const done = collect(helper.getNode('done'));
    const steer = helper.getNode('steer');
    // Connected first, so that a move the node should not make could be made at once.
    await waitFor(() => findCamera('camA')?.state === 'connected', 15_000);
    const still = cam.pose;
    const propose = async (id: string, target: { lat: number; lon: number }) => {
      const [n, d] = [out.length, done.length];
      steer.receive({ payload: locatedAlert(id, target) });
      await waitFor(() => out.length > n && done.length > d, 15_000);
      const proposal = out[n].payload;
      assert.equal(proposal.id, id);
      assert.equal(proposal.camera.state, 'proposed');
      // A negative check, so a fixed wait: the node is done with the alert, and a request it sent
      // without awaiting would reach the camera (in this process, over loopback) within it.
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual(ptzActions(cam), [], 'the camera was asked to act before an operator confirmed');
      assert.deepEqual(cam.pose, still, 'the camera moved before an operator confirmed');
      assert.equal(out.length, n + 1, 'only the proposal went out');
      return proposal;
    };
    return { out, done, steer, propose };
  }

  it('an upside-down camera (pan turning the other way, tilt reversed) is steered right by its settings: counter-clockwise, tilt range 20 … −90', async () => {
    // Its head tilts −20…90 (its −1 looks 20° up, its +1 straight down once upside down).
    const cam = await startVirtualCamera(undefined, { upsideDown: true, tiltMinDeg: -20, tiltMaxDeg: 90 });
    const steerTo = async (settings: Record<string, unknown>, id: string) => {
      await helper.load([vigieCamera, ptzSteer], [
        { id: 'tab', type: 'tab', label: 'cameras' },
        cameraNode('camA', cam, settings),
        { id: 'steer', z: 'tab', type: 'ptz-steer', cameras: ['cfg-camA'], mode: 'automatic', returnHomeS: 0, wires: [['out'], ['err']] },
        { id: 'out', z: 'tab', type: 'helper' },
        { id: 'err', z: 'tab', type: 'helper' },
      ], creds(['camA']));
      const out = collect(helper.getNode('out'));
      helper.getNode('steer').receive({ payload: locatedAlert(id, destination(ORIGIN, 60, 50)) });
      await waitFor(() => out.length >= 1, 15_000);
      const view = cam.view;
      await helper.unload();
      return { camera: out[0].payload.camera, view };
    };
    const right = await steerTo({ panDirection: -1, tiltMinDeg: 20, tiltMaxDeg: -90 }, 'u1');
    assert.equal(right.camera.state, 'on-target');
    // The picture shows the alert: bearing 60°, 6.8° down (6 m up, 50 m away).
    assert.ok(Math.abs(right.view.bearingDeg - 60) <= 1, `bearing ${right.view.bearingDeg}`);
    assert.ok(Math.abs(right.view.tiltDeg - -6.84) <= 1, `tilt ${right.view.tiltDeg}`);
    // Left as an upright camera, it says on target while its picture shows another place.
    const wrong = await steerTo({}, 'u2');
    assert.equal(wrong.camera.state, 'on-target');
    assert.ok(Math.abs(wrong.view.bearingDeg - 300) <= 1, `bearing ${wrong.view.bearingDeg}`);
    assert.ok(Math.abs(wrong.view.tiltDeg - -6.84) > 30, `tilt ${wrong.view.tiltDeg}`);
  });

  it('operator-confirm mode proposes, and moves only after a confirm decision', async () => {
    const cam = await startVirtualCamera();
    const { out, steer, propose } = await confirmMode(cam);
    const audit: AuditEvent[] = [];
    const unsub = auditBus.subscribe((e) => audit.push(e));
    try {
      const proposal = await propose('a2', destination(ORIGIN, 250, 40));
      assert.ok(Math.abs(proposal.camera.target.bearing - 250) < 0.5);
      assert.deepEqual(audit.filter((e) => e.type === 'camera-move'), []);
      // A dismiss for another alert changes nothing; a confirm for this one moves.
      steer.receive({ payload: { kind: 'decision', alertId: 'other', action: 'dismiss', operator: 'ana', time: Date.now() / 1000 } });
      const confirmedAt = Date.now();
      steer.receive({ payload: { kind: 'decision', alertId: 'a2', action: 'confirm', operator: 'ana', time: Date.now() / 1000 } });
      await waitFor(() => out.length >= 2, 15_000);
      assert.equal(out[1].payload.camera.state, 'on-target');
      assert.equal(out[1].payload.id, 'a2');
      assert.ok(Math.abs(cam.pose.panDeg - -110) <= 1, `pan ${cam.pose.panDeg}`);
      const acts = ptzActions(cam);
      assert.ok(acts.some((a) => a.action === 'AbsoluteMove'), JSON.stringify(acts));
      assert.ok(acts.every((a) => a.timeMs >= confirmedAt), `a PTZ request came before the confirmation: ${JSON.stringify(acts)}`);
      const move = audit.find((e) => e.type === 'camera-move' && e.alertId === 'a2');
      assert.equal(move?.actor, 'ana');
    } finally {
      unsub();
    }
  });

  it('operator-confirm mode: an escalate decision is a confirmation too (the camera moves, audited with the operator); a dismiss never moves it', async () => {
    const cam = await startVirtualCamera();
    const { out, done, steer, propose } = await confirmMode(cam);
    const audit: AuditEvent[] = [];
    const unsub = auditBus.subscribe((e) => audit.push(e));
    try {
      await propose('a5', destination(ORIGIN, 300, 40));
      await propose('a6', destination(ORIGIN, 120, 40));
      steer.receive({ payload: { kind: 'decision', alertId: 'a6', action: 'dismiss', operator: 'ana', time: Date.now() / 1000 } });
      await waitFor(() => out.length >= 3, 15_000);
      // The dismissed proposal is no promise any more: its console hears so.
      assert.equal(out[2].payload.id, 'a6');
      assert.equal(out[2].payload.camera.state, 'unavailable');
      assert.equal(out[2].payload.camera.reason, 'no camera moved: dismissed by ana');
      const escalatedAt = Date.now();
      steer.receive({ payload: { kind: 'decision', alertId: 'a5', action: 'escalate', operator: 'cy', time: Date.now() / 1000 } });
      await waitFor(() => out.length >= 4, 15_000);
      assert.equal(out[3].payload.id, 'a5');
      assert.equal(out[3].payload.camera.state, 'on-target');
      assert.ok(Math.abs(cam.pose.panDeg - -60) <= 1, `pan ${cam.pose.panDeg}`);
      assert.ok(ptzActions(cam).every((a) => a.timeMs >= escalatedAt), JSON.stringify(ptzActions(cam)));
      const moves = audit.filter((e) => e.type === 'camera-move');
      assert.deepEqual(moves.map((e) => [e.alertId, e.actor]), [['a5', 'cy']], 'one move, for the escalated alert only');
      // The dismissed proposal stays without a move, even if confirmed afterwards.
      const d = done.length;
      steer.receive({ payload: { kind: 'decision', alertId: 'a6', action: 'confirm', operator: 'ana', time: Date.now() / 1000 } });
      await waitFor(() => done.length > d, 15_000, 'the node done with the late confirmation');
      // A negative check, as in propose: a request sent without awaiting would reach the camera within it.
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(out.length, 4);
      assert.ok(Math.abs(cam.pose.panDeg - -60) <= 1, `pan ${cam.pose.panDeg}`);
    } finally {
      unsub();
    }
  });

  it('a move-request carrying the alertId also executes a proposed move', async () => {
    const cam = await startVirtualCamera();
    const { out, steer, propose } = await confirmMode(cam);
    await propose('a3', destination(ORIGIN, 100, 30));
    const requestedAt = Date.now();
    steer.receive({ payload: { kind: 'move-request', alertId: 'a3', operator: 'bo' } });
    await waitFor(() => out.length >= 2, 15_000);
    assert.equal(out[1].payload.camera.state, 'on-target');
    assert.ok(Math.abs(cam.pose.panDeg - 100) <= 1);
    assert.ok(ptzActions(cam).every((a) => a.timeMs >= requestedAt), JSON.stringify(ptzActions(cam)));
  });

  it('picks the nearest of several cameras, and the next one when it is held by a higher-priority alert', async () => {
    const near = await startVirtualCamera();
    const far = await startVirtualCamera();
    const target = destination(ORIGIN, 0, 60);
    const farPos = destination(ORIGIN, 90, 120);
    const flow = [
      { id: 'tab', type: 'tab', label: 'cameras' },
      cameraNode('near', near),
      cameraNode('far', far, { lat: farPos.lat, lon: farPos.lon }),
      // No camera selected: every vigie-camera is a candidate.
      { id: 'steer', z: 'tab', type: 'ptz-steer', mode: 'automatic', returnHomeS: 30, wires: [['out'], ['err']] },
      { id: 'out', z: 'tab', type: 'helper' },
      { id: 'err', z: 'tab', type: 'helper' },
    ];
    await helper.load([vigieCamera, ptzSteer], flow, creds(['near', 'far']));
    const out = collect(helper.getNode('out'));
    const steer = helper.getNode('steer');
    steer.receive({ payload: locatedAlert('gun', target, { label: 'gunshot' }) });
    await waitFor(() => out.length >= 1, 15_000);
    assert.equal(out[0].payload.camera.id, 'near');
    // A lower-priority alert nearby cannot take the held camera: the far one goes.
    steer.receive({ payload: locatedAlert('glass', destination(ORIGIN, 10, 55), { label: 'glass_break' }) });
    await waitFor(() => out.length >= 2, 15_000);
    assert.equal(out[1].payload.camera.id, 'far');
    assert.equal(out[1].payload.camera.state, 'on-target');
    assert.ok(far.calls.some((c) => c.action === 'AbsoluteMove'));
  });

  it('a camera that closes the connection part-way through its AbsoluteMove reply: the alert moves on to the next camera, is sent, and the node is done with it', async () => {
    const near = await startVirtualCamera();
    const far = await startVirtualCamera();
    const farPos = destination(ORIGIN, 90, 120);
    const flow = [
      { id: 'tab', type: 'tab', label: 'cameras' },
      cameraNode('near', near),
      cameraNode('far', far, { lat: farPos.lat, lon: farPos.lon }),
      { id: 'steer', z: 'tab', type: 'ptz-steer', mode: 'automatic', returnHomeS: 0, wires: [['out'], ['err']] },
      { id: 'out', z: 'tab', type: 'helper' },
      { id: 'err', z: 'tab', type: 'helper' },
      { id: 'handled', z: 'tab', type: 'complete', scope: ['steer'], uncaught: false, wires: [['done']] },
      { id: 'done', z: 'tab', type: 'helper' },
    ];
    await helper.load([vigieCamera, ptzSteer, completeNode], flow, creds(['near', 'far']));
    const out = collect(helper.getNode('out'));
    const errs = collect(helper.getNode('err'));
    const done = collect(helper.getNode('done'));
    await waitFor(() => findCamera('near')?.state === 'connected' && findCamera('far')?.state === 'connected', 15_000, 'both cameras connected');
    // The nearest camera's web server fails mid-reply: the onvif client alone would wait for ever.
    near.halfReply(['AbsoluteMove']);
    helper.getNode('steer').receive({ payload: locatedAlert('cut', destination(ORIGIN, 0, 60)) });
    // Bound: the near camera's command deadline (5 s) and the far camera's move.
    await waitFor(() => done.length >= 1, 30_000, 'ptz-steer done with the alert');
    assert.ok(near.calls.some((c) => c.action === 'AbsoluteMove' && c.halfReplied), 'the near camera was tried first');
    assert.equal(out.length, 1, 'the alert was sent once');
    assert.equal(out[0].payload.id, 'cut');
    assert.equal(out[0].payload.camera.id, 'far');
    assert.equal(out[0].payload.camera.state, 'on-target');
    assert.equal(errs.length, 0);
    // The near camera is retried with back-off, and is connected again (connecting uses no AbsoluteMove).
    await waitFor(() => findCamera('near')?.state === 'connected', 15_000, 'the near camera connected again');
  });

  it('a Status node gets each status once: three alerts waiting for a busy camera are said once, not at every alert', async () => {
    const watch = [
      { id: 'watch', z: 'tab', type: 'status', scope: ['steer'], wires: [['statuses']] },
      { id: 'statuses', z: 'tab', type: 'helper' },
    ];
    const { out, steer } = await soloCameraSteer(watch, [require('@node-red/nodes/core/common/25-status.js')]);
    const statuses = collect(helper.getNode('statuses'));
    steer.receive({ payload: locatedAlert('gun', destination(ORIGIN, 0, 60), { label: 'gunshot' }) });
    await waitFor(() => out.length >= 1, 15_000);
    for (const [i, bearing] of [120, 150, 180].entries()) steer.receive({ payload: locatedAlert(`glass-${i}`, destination(ORIGIN, bearing, 50)) });
    await waitFor(() => out.length >= 4, 15_000, 'three alerts waiting');
    await waitFor(() => statuses.some((m: Any) => m.status.text === '3 alerts waiting for a busy camera') || undefined, 10_000, 'the status of three waiting');
    // A status sent after: the Status node's messages before it are all in.
    steer.receive({ payload: { kind: 'decision', alertId: 'gun', action: 'dismiss', operator: 'ana', time: Date.now() / 1000 } });
    await waitFor(() => statuses.some((m: Any) => m.status.text === '2 alerts waiting for a busy camera') || undefined, 15_000, 'one alert taking the camera');
    const texts = statuses.map((m: Any) => `${m.status.fill} ${m.status.shape} ${m.status.text}`);
    assert.equal(texts.filter((t: string) => t === 'yellow dot 3 alerts waiting for a busy camera').length, 1, texts.join(' | '));
    assert.deepEqual(
      texts.filter((t: string, i: number) => i > 0 && t === texts[i - 1]),
      [],
      `the same status twice in a row: ${texts.join(' | ')}`,
    );
  });

  it('an alert whose only camera is busy with a gunshot waits (yellow status), and gets the camera once the gunshot is dismissed', async () => {
    const { cam, out, errs, steer } = await soloCameraSteer();
    const statuses: Any[] = [];
    steer.on('call:status', (call: Any) => statuses.push(call.args[0]));
    steer.receive({ payload: locatedAlert('gun', destination(ORIGIN, 0, 60), { label: 'gunshot' }) });
    await waitFor(() => out.length >= 1, 15_000);
    assert.equal(out[0].payload.camera.state, 'on-target');
    steer.receive({ payload: locatedAlert('glass', destination(ORIGIN, 120, 50)) });
    await waitFor(() => out.length >= 2, 15_000);
    assert.equal(out[1].payload.id, 'glass');
    assert.equal(out[1].payload.camera.state, 'waiting');
    assert.equal(out[1].payload.camera.id, 'solo');
    assert.match(out[1].payload.camera.reason, /camera Camera solo is busy with a gunshot alert/);
    assert.equal(out[1].payload.camera.heldFor, 'gun');
    assert.deepEqual(statuses[statuses.length - 1], { fill: 'yellow', shape: 'dot', text: '1 alert waiting for a busy camera' });
    const movesBefore = cam.calls.filter((c) => c.action === 'AbsoluteMove').length;
    steer.receive({ payload: { kind: 'decision', alertId: 'gun', action: 'dismiss', operator: 'ana', time: Date.now() / 1000 } });
    await waitFor(() => out.length >= 4, 15_000);
    // The gunshot's record learns that the camera left it, then the glass break is on target.
    assert.equal(out[2].payload.id, 'gun');
    assert.equal(out[2].payload.camera.state, 'released');
    assert.equal(out[2].payload.camera.reason, 'camera Camera solo looked here, then turned to glass breaking alert glass');
    assert.equal(out[3].payload.id, 'glass');
    assert.equal(out[3].payload.camera.state, 'on-target');
    assert.ok(Math.abs(out[3].payload.camera.target.bearing - 120) < 0.5);
    assert.ok(cam.calls.filter((c) => c.action === 'AbsoluteMove').length > movesBefore, 'the real camera was moved');
    assert.equal(errs.length, 0);
    assert.equal(statuses[statuses.length - 1].fill, 'green');
  });

  it('a waiting alert dismissed is sent unavailable (who dismissed it); Take camera on it, carrying the alert, turns the real camera', async () => {
    const { cam, out, errs, steer } = await soloCameraSteer();
    const audit: AuditEvent[] = [];
    const unsub = auditBus.subscribe((e) => audit.push(e));
    try {
      steer.receive({ payload: locatedAlert('gun', destination(ORIGIN, 0, 60), { label: 'gunshot' }) });
      await waitFor(() => out.length >= 1, 15_000);
      steer.receive({ payload: locatedAlert('glass', destination(ORIGIN, 120, 50)) });
      await waitFor(() => out.length >= 2, 15_000);
      assert.equal(out[1].payload.camera.state, 'waiting');
      steer.receive({ payload: { kind: 'decision', alertId: 'glass', action: 'dismiss', operator: 'Alice', time: Date.now() / 1000 } });
      await waitFor(() => out.length >= 3, 15_000);
      assert.equal(out[2].payload.id, 'glass');
      assert.equal(out[2].payload.camera.state, 'unavailable');
      assert.equal(out[2].payload.camera.reason, 'wait ended: dismissed by Alice');
      assert.equal(errs.length, 0, 'a dismissal is no fault');
      const movesBefore = cam.calls.filter((c) => c.action === 'AbsoluteMove').length;
      // What the console sends for Take camera: the request with the alert as it shows it.
      steer.receive({ payload: { kind: 'move-request', alertId: 'glass', operator: 'Bob', time: Date.now() / 1000, alert: out[2].payload } });
      await waitFor(() => out.some((m: Any) => m.payload.id === 'glass' && m.payload.camera.state === 'on-target'), 15_000, 'the glass break on target');
      assert.ok(cam.calls.filter((c) => c.action === 'AbsoluteMove').length > movesBefore, 'the real camera was moved');
      const moved = audit.filter((e) => e.type === 'camera-move' && e.alertId === 'glass');
      assert.deepEqual(moved.map((e) => [e.actor, (e.details as { state?: string }).state]), [['Bob', 'on-target']]);
      assert.equal(errs.length, 0);
    } finally {
      unsub();
    }
  });

  it('warns, naming the setting, of a numeric setting it cannot use, and runs with the default', async () => {
    const cam = await startVirtualCamera();
    const flow = [
      { id: 'tab', type: 'tab', label: 'cameras' },
      cameraNode('solo', cam),
      { id: 'steer', z: 'tab', type: 'ptz-steer', mode: 'automatic', waitForCameraS: 'abc', toleranceDeg: -1, frameWidthM: '', assumedDistanceM: 6000, wires: [['out'], ['err']] },
      { id: 'out', z: 'tab', type: 'helper' },
      { id: 'err', z: 'tab', type: 'helper' },
    ];
    await helper.load([vigieCamera, ptzSteer], flow, creds(['solo']));
    const warned = warningsOf(helper, 'steer');
    assert.deepEqual(warned.sort(), [
      'setting assumedDistanceM: expected a number from 1 to 5000, got 6000; using 40',
      'setting toleranceDeg: expected a number from 0.05 to 20, got -1; using 1',
      'setting waitForCameraS: expected a number from 0 to 86400, got "abc"; using 300',
    ]);
    const out = collect(helper.getNode('out'));
    helper.getNode('steer').receive({ payload: locatedAlert('a1', destination(ORIGIN, 30, 50)) });
    await waitFor(() => out.length >= 1, 15_000);
    assert.equal(out[0].payload.camera.state, 'on-target');
  });

  it('Look at least: 10 s in a new node\'s form and at run time; a value it cannot use is named, and the 10 s apply', async () => {
    const form = fs.readFileSync(path.join(__dirname, '..', '..', 'nodes', 'ptz-steer.html'), 'utf8');
    assert.equal(Number(/lookAtLeastS: \{ value: ([\d.]+)/.exec(form)?.[1]), PTZ_STEER_SETTINGS.lookAtLeastS.default);
    assert.equal(PTZ_STEER_SETTINGS.lookAtLeastS.default, 10);
    const { out, steer, cam } = await oneCameraSteer({ steer: { lookAtLeastS: 'abc', returnHomeS: 600 } });
    assert.deepEqual(warningsOf(helper, 'steer'), ['setting lookAtLeastS: expected a number from 0 to 600, got "abc"; using 10']);
    steer.receive({ payload: locatedAlert('g1', destination(ORIGIN, 30, 50)) });
    await waitFor(() => out.some((m) => m.payload.id === 'g1' && m.payload.camera?.state === 'on-target'), 15_000, 'the first glass break on target');
    const moves = cam.calls.filter((c) => c.action === 'AbsoluteMove').length;
    steer.receive({ payload: locatedAlert('g2', destination(ORIGIN, 120, 50)) });
    await waitFor(() => out.some((m) => m.payload.id === 'g2'), 15_000, 'the second glass break');
    const g2 = out.find((m) => m.payload.id === 'g2').payload.camera;
    assert.equal(g2.state, 'waiting', 'the camera looks at the first one for 10 s first');
    assert.equal(g2.heldFor, 'g1');
    assert.equal(cam.calls.filter((c) => c.action === 'AbsoluteMove').length, moves, 'the camera did not move');
  });

  it('Look at least 0: a newer alert of equal priority takes the camera at once', async () => {
    const { out, steer, cam } = await oneCameraSteer({ steer: { lookAtLeastS: 0, returnHomeS: 600 } });
    assert.deepEqual(warningsOf(helper, 'steer'), []);
    steer.receive({ payload: locatedAlert('g1', destination(ORIGIN, 30, 50)) });
    await waitFor(() => out.some((m) => m.payload.id === 'g1' && m.payload.camera?.state === 'on-target'), 15_000, 'the first glass break on target');
    steer.receive({ payload: locatedAlert('g2', destination(ORIGIN, 120, 50)) });
    await waitFor(() => out.some((m) => m.payload.id === 'g2'), 15_000, 'the second glass break');
    assert.equal(out.find((m) => m.payload.id === 'g2').payload.camera.state, 'on-target');
    assert.ok(Math.abs(cam.pose.panDeg - 120) < 1.5, `the camera points at 120°, not ${cam.pose.panDeg}°`);
  });

  it('an alert that began an hour ago (replayed after an outage) is sent on, the camera named unavailable with why, and the real camera does not move; the status says so', async () => {
    const form = fs.readFileSync(path.join(__dirname, '..', '..', 'nodes', 'ptz-steer.html'), 'utf8');
    assert.equal(Number(/maxAlertAgeS: \{ value: ([\d.]+)/.exec(form)?.[1]), PTZ_STEER_SETTINGS.maxAlertAgeS.default);
    assert.equal(PTZ_STEER_SETTINGS.maxAlertAgeS.default, 600);
    // The default (600 s): the setting is not in the flow.
    const { out, err: errs, steer, cam } = await oneCameraSteer({ steer: { returnHomeS: 600, lookAtLeastS: 0 } });
    const statuses: Any[] = [];
    steer.on('call:status', (call: Any) => statuses.push(call.args[0]));
    const last = () => statuses[statuses.length - 1] ?? {};
    steer.receive({ payload: locatedAlert('now', destination(ORIGIN, 30, 50)) });
    await waitFor(() => out.some((m) => m.payload.id === 'now' && m.payload.camera?.state === 'on-target'), 15_000, 'a live alert on target');
    const moves = cam.calls.filter((c) => c.action === 'AbsoluteMove').length;
    const onsetS = Date.now() / 1000 - 3600;
    steer.receive({ payload: locatedAlert('replayed', destination(ORIGIN, 120, 50), { onset: onsetS, offset: onsetS + 0.2 }), topic: 'street/glass' });
    await waitFor(() => out.some((m) => m.payload.id === 'replayed'), 15_000, 'the old alert sent on');
    const sent = out.filter((m) => m.payload.id === 'replayed');
    assert.equal(sent.length, 1);
    assert.equal(sent[0].topic, 'street/glass');
    const camera = sent[0].payload.camera;
    assert.deepEqual([camera.id, camera.state], ['camA', 'unavailable']);
    assert.match(camera.reason, /^no camera turned: it began 60 min ago \(cameras turn for alerts at most 10 min old\)/);
    assert.deepEqual(errs, [], 'not a camera error');
    await waitFor(() => last().fill === 'yellow' && last().shape === 'dot', 5000, 'the status');
    assert.equal(last().text, 'alert replayed began 60 min ago: no camera turned');
    assert.equal(cam.calls.filter((c) => c.action === 'AbsoluteMove').length, moves, 'the camera did not move');
    assert.ok(Math.abs(cam.pose.panDeg - 30) < 1.5, `the camera still points at the live alert (30°), not ${cam.pose.panDeg}°`);
  });

  it('sends errors with the alert on output 2 when the camera is unreachable, and recovers when it is back', async () => {
    const { out, err: errs, steer, cam } = await oneCameraSteer({ steer: { moveTimeoutS: 5 } });
    const port = cam.port;
    await waitFor(() => findCamera('camA')?.state === 'connected', 15_000);
    await cam.stop();
    steer.receive({ payload: locatedAlert('a4', destination(ORIGIN, 45, 30)) });
    await waitFor(() => errs.length >= 1, 30_000);
    assert.equal(errs[0].payload.id, 'a4');
    assert.equal(errs[0].error.code, 'unreachable');
    assert.equal(errs[0].error.cameraId, 'camA');
    assert.equal(out[out.length - 1].payload.camera.state, 'failed');
    await cam.start();
    assert.equal(cam.port, port);
    steer.receive({ payload: locatedAlert('a5', destination(ORIGIN, 45, 30)) });
    await waitFor(() => out.some((m) => m.payload.id === 'a5'), 30_000);
    const ok = out.find((m) => m.payload.id === 'a5');
    assert.equal(ok.payload.camera.state, 'on-target');
  });

  it('an alert whose camera was offline is sent failed at once, and turns to it when the camera is back on the same port', async () => {
    const { out, err: errs, steer, cam } = await oneCameraSteer({ steer: { moveTimeoutS: 5 } });
    const port = cam.port;
    await waitFor(() => findCamera('camA')?.state === 'connected', 15_000);
    await cam.stop();
    const target = destination(ORIGIN, 120, 30);
    steer.receive({ payload: locatedAlert('r1', target) });
    await waitFor(() => errs.length >= 1, 30_000, 'output 2');
    assert.equal(errs[0].error.code, 'unreachable');
    assert.equal(out.length, 1);
    assert.equal(out[0].payload.camera.state, 'failed');
    assert.equal(out[0].payload.camera.reason, 'camera Camera camA is not responding (offline, or cut off from the network)');
    await cam.start();
    assert.equal(cam.port, port);
    // Nothing sent again: the alert turns the camera by itself once its connection is back.
    await waitFor(() => out.length >= 2, 60_000, 'the alert sent again');
    assert.equal(out[1].payload.id, 'r1');
    assert.equal(out[1].payload.camera.state, 'on-target');
    assert.equal(out[1].payload.camera.target.bearing, 120);
    assert.ok(Math.abs(cam.pose.panDeg - 120) <= 1, `the camera turned there (${cam.pose.panDeg}°)`);
    assert.equal(errs.length, 1, 'output 2 said it once');
  });

  it('reports an authentication failure on output 2', async () => {
    const { err: errs, steer } = await oneCameraSteer({ credentials: { 'cfg-camA': { username: 'op', password: 'nope' } } });
    steer.receive({ payload: locatedAlert('a6', destination(ORIGIN, 45, 30)) });
    await waitFor(() => errs.length >= 1, 30_000);
    assert.equal(errs[0].error.code, 'auth');
    assert.match(errs[0].error.message, /authentication failed/);
  });

  it('status: a camera whose settings are refused is named, with the field, not "no camera configured"', async () => {
    const cam = await startVirtualCamera();
    const flow = [
      { id: 'tab', type: 'tab', label: 'cameras' },
      cameraNode('camA', cam, { lat: '${VIGIE_TEST_UNSET_LAT}' }),
      { id: 'steer', z: 'tab', type: 'ptz-steer', cameras: ['cfg-camA'], mode: 'automatic', wires: [[], []] },
    ];
    await helper.load([vigieCamera, ptzSteer], flow, creds(['camA']));
    const steer = helper.getNode('steer');
    // The status spy is Node-RED's Node prototype's: this node's calls only.
    const last = () => steer.status.getCalls().filter((c: Any) => c.thisValue === steer).at(-1)?.args[0] ?? {};
    assert.deepEqual(last(), { fill: 'red', shape: 'ring', text: 'camera "Camera camA" unusable: camera.lat' });
    assert.ok(warningsOf(helper, 'steer').some((w) => /VIGIE_TEST_UNSET_LAT \(lat\)/.test(w)), 'the warning names the variable');
  });

  it('two vigie-camera nodes with one Camera id: the second is refused (named, with the field and the first), never stands in for the first; the status says so', async () => {
    const [first, second] = [await startVirtualCamera(), await startVirtualCamera()];
    const flow = [
      { id: 'tab', type: 'tab', label: 'cameras' },
      cameraNode('dome', first, { name: 'Dome north' }),
      // the same id typed in a second form (or the example imported twice, as a copy)
      { ...cameraNode('dome', second, { name: 'Dome south' }), id: 'cfg-dome-copy' },
      { id: 'steer', z: 'tab', type: 'ptz-steer', cameras: [], mode: 'automatic', returnHomeS: 0, wires: [['out'], ['err']] },
      { id: 'out', z: 'tab', type: 'helper' },
      { id: 'err', z: 'tab', type: 'helper' },
    ];
    await helper.load([vigieCamera, ptzSteer], flow, { 'cfg-dome': { username: 'op', password: 'pw' }, 'cfg-dome-copy': { username: 'op', password: 'pw' } });
    const copy = helper.getNode('cfg-dome-copy') as Any;
    assert.equal(
      copy.cameraError,
      'camera.cameraId: "dome" is already the Camera id of vigie-camera "Dome north" (node cfg-dome); expected an id of its own (the live video, the console and the audit log know a camera by its id): this camera is not used',
    );
    assert.equal(copy.connection, undefined, 'it never connects');
    assert.equal(findCamera('dome'), (helper.getNode('cfg-dome') as Any).connection, 'the video relay and the console find the first one');
    const steer = helper.getNode('steer');
    const last = () => steer.status.getCalls().filter((c: Any) => c.thisValue === steer).at(-1)?.args[0] ?? {};
    await waitFor(() => findCamera('dome')?.state === 'connected', 15_000);
    assert.deepEqual(last(), { fill: 'red', shape: 'ring', text: 'camera "Dome south" unusable: camera.cameraId' });
    const out = collect(helper.getNode('out'));
    steer.receive({ payload: locatedAlert('dup-1', destination(ORIGIN, 90, 30)) });
    await waitFor(() => out.some((m) => m.payload.camera?.state === 'on-target'), 20_000, 'on target');
    assert.ok(Math.abs(first.pose.panDeg - 90) <= 1, `the first camera turned (${first.pose.panDeg}°)`);
    assert.deepEqual(second.calls.map((c) => c.action), [], 'the second camera is never asked anything');
  });

  it('ticked cameras that no longer exist (deleted, or not imported with it): the status, the warning and the move error name them; a ticked one that exists still turns', async () => {
    const { err: errs, steer } = await oneCameraSteer({ steer: { cameras: ['cfg-gone'], waitForCameraS: 0 } });
    const last = () => steer.status.getCalls().filter((c: Any) => c.thisValue === steer).at(-1)?.args[0] ?? {};
    assert.deepEqual(last(), { fill: 'red', shape: 'ring', text: 'missing camera cfg-gone' });
    assert.deepEqual(warningsOf(helper, 'steer'), ['ticked camera cfg-gone missing: no vigie-camera with this id is deployed (deleted, or not imported with this node); untick it in the form']);
    steer.receive({ payload: locatedAlert('m1', destination(ORIGIN, 45, 30)) });
    await waitFor(() => errs.length >= 1, 10_000, 'the error on output 2');
    assert.equal(errs[0].error.code, 'no-camera');
    assert.equal(errs[0].error.message, 'no camera can look at alert m1: ticked camera missing: cfg-gone (deleted, or not imported with this node)');
    await helper.unload();

    // one of two ticked is gone: the other turns, the status stays red naming the missing one
    const { out, steer: steer2, cam } = await oneCameraSteer({ steer: { cameras: ['cfg-camA', 'cfg-gone', 'cfg-gone-too'] } });
    const last2 = () => steer2.status.getCalls().filter((c: Any) => c.thisValue === steer2).at(-1)?.args[0] ?? {};
    await waitFor(() => findCamera('camA')?.state === 'connected', 15_000);
    assert.deepEqual(last2(), { fill: 'red', shape: 'ring', text: 'missing cameras cfg-gone, cfg-gone-too' });
    steer2.receive({ payload: locatedAlert('m2', destination(ORIGIN, 45, 30)) });
    await waitFor(() => out.some((m) => m.payload.camera?.state === 'on-target'), 20_000, 'on target');
    assert.ok(Math.abs(cam.pose.panDeg - 45) <= 1);
  });

  it('an alert the localizer could not place goes on to the operators without a camera (output 2 says why); no camera moves, nothing is refused', async () => {
    const { caught, out, err: errs, steer, cam } = await oneCameraSteer();
    const before = { ...cam.pose };
    const unplaced = locatedAlert('u1', ORIGIN, { location: { method: 'none', sensors: ['s1'], reason: 'sensor "s1" has a single microphone: no direction' } });
    steer.receive({ payload: unplaced });
    await waitFor(() => out.length >= 1 && errs.length >= 1, 15_000, 'the alert on both outputs');
    assert.deepEqual(out[0].payload, unplaced);
    assert.equal(out[0].payload.camera, undefined);
    assert.equal(errs[0].error.code, 'no-camera');
    assert.match(errs[0].error.message, /alert u1: it has no position nor bearing \(localizer said: sensor "s1" has a single microphone: no direction\)/);
    // A located alert after it still turns the camera: nothing was refused on the way.
    steer.receive({ payload: locatedAlert('u2', destination(ORIGIN, 20, 30)) });
    await waitFor(() => out.length >= 2, 15_000);
    assert.equal(out[1].payload.camera.state, 'on-target');
    assert.notDeepEqual(cam.pose, before);
    assert.deepEqual(caught, []);
  });

  it('rejects unusable input with done(err) naming the field, and keeps running', async () => {
    const { caught, out, steer } = await oneCameraSteer();
    steer.receive({ payload: { kind: 'detection', id: 'x', sensor: 's1' } });
    steer.receive({ payload: locatedAlert('y', { lat: 123, lon: 4 }) });
    await waitFor(() => caught.length >= 2, 15_000);
    const texts = caught.map((m) => m.error.message).join('\n');
    assert.match(texts, /payload\.location: expected an object with a position/);
    assert.match(texts, /payload\.location\.position\.lat: expected a finite number >= -90 <= 90, got 123/);
    // The status names the field and what came, short enough to read whole under the node.
    const statuses = steer.status.getCalls().filter((c: Any) => c.thisValue === steer).map((c: Any) => c.args[0].text);
    assert.ok(statuses.includes('bad payload.location.position.lat: 123'), statuses.join(' | '));
    steer.receive({ payload: locatedAlert('z', destination(ORIGIN, 20, 30)) });
    await waitFor(() => out.length >= 1, 15_000);
    assert.equal(out[0].payload.camera.state, 'on-target');
  });

  it('privacy: refuses an alert carrying samples, naming the field; voice scores and unknown fields never go out, named in a warning', async () => {
    const { caught, out, steer } = await oneCameraSteer();
    const target = destination(ORIGIN, 20, 30);
    steer.receive({ payload: locatedAlert('s1', target, { samples: [0.1, 0.2] }) });
    steer.receive({ payload: locatedAlert('s2', target, { span: { sensor: 's1', start: 0, frames: 100, data: 'UklGRiQAAABXQVZF' } }) });
    await waitFor(() => caught.length >= 2, 15_000);
    const texts = caught.map((m) => m.error.message).join('\n');
    assert.match(texts, /payload\.samples: expected no such field \(privacy guarantee 1: audio samples never travel in messages\)/);
    assert.match(texts, /payload\.span\.data: expected only sensor, start, frames in a span/);
    assert.doesNotMatch(texts, /UklGR|0\.1/, 'an error names the field, never its value');
    assert.ok(steer.status.args.some((a: Any[]) => a[0].fill === 'red' && /payload\.samples/.test(a[0].text)), 'a red status names the field');
    // Still running; the alert's voice score and PCM under other names do not go on with it.
    steer.receive({ payload: locatedAlert('p1', target, { scores: { glass_break: 0.9, speech: 0.4 }, pcm: 'UklGRiQAAABXQVZF', level: { dbfs: -12, samples: [0.1, 0.2] } }) });
    await waitFor(() => out.length >= 1, 15_000);
    assert.equal(out[0].payload.camera.state, 'on-target');
    assert.deepEqual(out[0].payload.scores, { glass_break: 0.9 });
    assert.deepEqual(out[0].payload.level, { dbfs: -12 });
    assert.doesNotMatch(JSON.stringify(out[0]), /samples|pcm|UklGR|speech/i);
    const warnings = steer.warn.args.map((a: Any[]) => String(a[0]));
    assert.ok(
      warnings.some((w: string) => ['payload.scores.speech', 'payload.pcm', 'payload.level.samples'].every((f) => w.includes(f))),
      warnings.join(' | '),
    );
  });

  it('returns the camera home after the quiet period', async () => {
    const { out, steer, cam } = await oneCameraSteer({ steer: { returnHomeS: 0.3 } });
    steer.receive({ payload: locatedAlert('h1', destination(ORIGIN, 120, 30)) });
    await waitFor(() => out.length >= 1, 15_000);
    assert.ok(Math.abs(cam.pose.panDeg - 120) <= 1);
    await waitFor(() => cam.calls.some((c) => c.action === 'GotoHomePosition'), 15_000);
    await waitFor(() => Math.abs(cam.pose.panDeg) < 0.5 && !cam.pose.moving, 15_000);
    // The alert is sent again, released, so its live picture is not taken for the home view.
    assert.equal(out.length, 2);
    assert.equal(out[1].payload.id, 'h1');
    assert.equal(out[1].payload.camera.state, 'released');
    assert.match(out[1].payload.camera.reason, /^camera .+ looked here, then went home after the quiet period \(300 ms\)$/);
    // An operator looks again (the console's request carries the alert): the real camera turns back.
    helper.getNode('steer').receive({ payload: { kind: 'move-request', alertId: 'h1', operator: 'ana', time: Date.now() / 1000, alert: out[1].payload } });
    await waitFor(() => out.length >= 3, 15_000);
    assert.equal(out[2].payload.camera.state, 'on-target');
    assert.ok(Math.abs(cam.pose.panDeg - 120) <= 1, `panned back (${cam.pose.panDeg}°)`);
  });
  it('status: green dot when connected, red ring when the camera fails, green again once it is connected again', async () => {
    // Not waiting for the camera to answer: the failed alert would turn it once it is back. No
    // minimum look: each alert tries the camera at once.
    const { steer, out, err: errs, cam } = await oneCameraSteer({ steer: { waitForCameraS: 0, lookAtLeastS: 0 } });
    const statuses: Any[] = [];
    steer.on('call:status', (call: Any) => statuses.push(call.args[0]));
    const last = () => statuses[statuses.length - 1] ?? {};
    // The connection may already be up: ask for the status through a move.
    steer.receive({ payload: locatedAlert('s1', destination(ORIGIN, 30, 30)) });
    await waitFor(() => out.length >= 1, 15_000);
    await waitFor(() => last().fill === 'green' && last().shape === 'dot', 15_000);
    assert.match(last().text, /camA on-target/);
    await cam.stop();
    steer.receive({ payload: locatedAlert('s2', destination(ORIGIN, 60, 30)) });
    // The move has failed for good (its retries are over) and the status says so.
    await waitFor(() => errs.some((m) => m.payload.id === 's2'), 30_000);
    await waitFor(() => last().fill === 'red' && last().shape === 'ring', 30_000);
    assert.match(last().text, /camA failed|failed: camA/);
    await cam.start();
    // Connected again (retried with back-off): green before any new alert.
    await waitFor(() => last().fill === 'green', 60_000);
    assert.match(last().text, /1 camera connected/);
    steer.receive({ payload: locatedAlert('s3', destination(ORIGIN, 90, 30)) });
    await waitFor(() => out.some((m) => m.payload.id === 's3'), 30_000);
    await waitFor(() => last().fill === 'green', 15_000);
    assert.match(last().text, /camA on-target/);
  });

  for (const selection of ['two selected cameras', 'every camera'] as const) {
    it(`${selection}: after a "modified nodes" deploy of one camera, steers with the new camera node (ptz-steer is not restarted)`, async () => {
      const old = await startVirtualCamera();
      const other = await startVirtualCamera();
      const farPos = destination(ORIGIN, 90, 200);
      const flowWith = (camA: VirtualCamera, extraCams: Array<Record<string, unknown>> = []) => [
        { id: 'tab', type: 'tab', label: 'cameras' },
        cameraNode('camA', camA),
        cameraNode('camB', other, { lat: farPos.lat, lon: farPos.lon }),
        ...extraCams,
        // no minimum look: the second alert takes camera A at once
        { id: 'steer', z: 'tab', type: 'ptz-steer', ...(selection === 'every camera' ? {} : { cameras: ['cfg-camA', 'cfg-camB'] }), mode: 'automatic', returnHomeS: 0, lookAtLeastS: 0, wires: [['out'], ['err']] },
        { id: 'out', z: 'tab', type: 'helper' },
        { id: 'err', z: 'tab', type: 'helper' },
      ];
      const listenersBefore = helper._events.listenerCount('flows:started');
      const givenBefore = flowsStartedListenerCount(helper._events);
      await helper.load([vigieCamera, ptzSteer], flowWith(old), creds(['camA', 'camB']));
      const steer = helper.getNode('steer');
      const out = collect(helper.getNode('out'));
      const errs = collect(helper.getNode('err'));
      steer.receive({ payload: locatedAlert('before', destination(ORIGIN, 20, 40)) });
      await waitFor(() => out.length >= 1, 15_000, 'the first move');
      assert.equal(out[0].payload.camera.id, 'camA');
      assert.equal(out[0].payload.camera.state, 'on-target');

      // The site replaces camera A (another address) and deploys only what changed.
      const replacement = await startVirtualCamera();
      const added = await startVirtualCamera();
      const addedPos = destination(ORIGIN, 180, 200);
      await helper.setFlows(flowWith(replacement, [cameraNode('camC', added, { lat: addedPos.lat, lon: addedPos.lon })]), 'nodes', creds(['camA', 'camB', 'camC']));
      assert.equal(helper.getNode('steer'), steer, 'ptz-steer was restarted: the case under test did not happen');
      const movesOnOld = old.calls.filter((c) => c.action === 'AbsoluteMove').length;
      steer.receive({ payload: locatedAlert('after', destination(ORIGIN, 200, 40)) });
      // Outcomes only: the first alert, displaced from camera A, also reports that it waits.
      const outcome = (id: string) => out.find((m) => m.payload.id === id && m.payload.camera.state !== 'waiting') ?? errs.find((m) => m.payload.id === id);
      await waitFor(() => !!outcome('after'), 30_000, 'the second move');
      assert.deepEqual(errs.map((m) => m.error), []);
      assert.equal(outcome('after').payload.camera.id, 'camA');
      assert.equal(outcome('after').payload.camera.state, 'on-target');
      assert.ok(replacement.calls.some((c) => c.action === 'AbsoluteMove'), 'the new camera A moved');
      assert.equal(old.calls.filter((c) => c.action === 'AbsoluteMove').length, movesOnOld, 'the old camera A did not move');
      // A camera added by the deploy is a candidate only for "every camera".
      steer.receive({ payload: locatedAlert('south', destination(addedPos, 0, 10), { label: 'gunshot' }) });
      await waitFor(() => !!outcome('south'), 30_000, 'the third move');
      assert.equal(outcome('south').payload.camera.id, selection === 'every camera' ? 'camC' : 'camA');
      // Closing the flows leaves no listener behind.
      await helper.unload();
      assert.equal(helper._events.listenerCount('flows:started'), listenersBefore);
      assert.equal(flowsStartedListenerCount(helper._events), givenBefore);
    });
  }
  describe('redeployed or removed while its camera turns', () => {
    /** A camera slow enough (20°/s) to be turning when the deploy comes. */
    const slowCamera = (): Promise<VirtualCamera> => startVirtualCamera({ panSpeedDegPerS: 20, tiltSpeedDegPerS: 20, zoomSpeedPerS: 1 });
    const flowOf = (cam: VirtualCamera, steer: Record<string, unknown> = {}) => [
      { id: 'tab', type: 'tab', label: 'cameras' },
      cameraNode('camA', cam),
      { id: 'steer', z: 'tab', type: 'ptz-steer', cameras: ['cfg-camA'], mode: 'automatic', returnHomeS: 0, moveTimeoutS: 60, ...steer, wires: [['out'], ['err']] },
      { id: 'out', z: 'tab', type: 'helper' },
      { id: 'err', z: 'tab', type: 'helper' },
    ];
    async function turning() {
      const cam = await slowCamera();
      await helper.load([vigieCamera, ptzSteer], flowOf(cam), creds(['camA']));
      const out = collect(helper.getNode('out'));
      const errs = collect(helper.getNode('err'));
      const first = helper.getNode('steer');
      // msg.site, msg.zone: what a flow after ptz-steer may read; msg.at (a Date) is not plain JSON.
      first.receive({ payload: locatedAlert('a1', destination(ORIGIN, 150, 50)), topic: 'street/glass', site: 'north', zone: { id: 3, name: 'market' }, at: new Date() });
      await waitFor(() => cam.calls.some((c) => c.action === 'AbsoluteMove'), 15_000, 'the camera turning');
      return { cam, out, errs, first };
    }

    for (const type of ['nodes', 'full'] as const) {
      it(`a "${type === 'nodes' ? 'modified nodes' : 'full'}" deploy of ptz-steer: the new instance turns the camera to the alert and sends it on target`, async () => {
        const { cam, out, errs, first } = await turning();
        // A setting changed: the deploy restarts ptz-steer (and, for "full", everything).
        await helper.setFlows(flowOf(cam, { toleranceDeg: 0.9 }), type, creds(['camA']));
        const steer = helper.getNode('steer');
        assert.notEqual(steer, first, 'ptz-steer was not restarted: the case under test did not happen');
        const sentBy = type === 'nodes' ? out : collect(helper.getNode('out'));
        const errsBy = type === 'nodes' ? errs : collect(helper.getNode('err'));
        await waitFor(() => sentBy.some((m: Any) => m.payload.id === 'a1'), 30_000, 'the alert sent after the redeploy');
        const a1 = sentBy.filter((m: Any) => m.payload.id === 'a1');
        assert.deepEqual(a1.map((m: Any) => m.payload.camera.state), ['on-target']);
        assert.equal(a1[0].topic, 'street/glass', 'the message as it came in, answered by the new instance');
        assert.ok(Math.abs(cam.pose.panDeg - 150) <= 1, `pan ${cam.pose.panDeg}`);
        assert.deepEqual([...errs, ...errsBy].map((m: Any) => m.error), []);
      });
    }

    /** Node-RED's log since the last load (RED.log and node.log alike). */
    const logged = () => (helper.log().args as Any[][]).map((a) => String(a[0]?.msg)).join('\n');

    for (const how of ['Stop flows, then Start flows', 'Node-RED stopped, then started'] as const) {
      it(`${how} while its camera turns: the alert in progress is kept in a file, taken at the start, steered again and sent on target`, async () => {
        const userDir = tempDir('vigie-steer-stop-');
        helper.settings({ userDir });
        try {
          const { cam, out, errs, first } = await turning();
          const file = path.join(userDir, 'vigie-ptz-steer-steer.json');
          if (how === 'Stop flows, then Start flows') await helper._redNodes.stopFlows();
          else await helper.unload();
          assert.deepEqual(out, [], 'nothing sent as it stopped');
          assert.ok(fs.existsSync(file), 'the file written as the flows stopped');
          const kept = JSON.parse(fs.readFileSync(file, 'utf8'));
          assert.deepEqual(
            kept.items.map((i: Any) => [i.alert.id, i.state, i.topic, i.message, i.camera.id]),
            [['a1', 'moving', 'street/glass', { site: 'north', zone: { id: 3, name: 'market' } }, 'camA']],
          );
          const moves = cam.calls.filter((c) => c.action === 'AbsoluteMove').length;
          if (how === 'Stop flows, then Start flows') await helper._redNodes.startFlows();
          else await helper.load([vigieCamera, ptzSteer], flowOf(cam), creds(['camA']));
          const steer = helper.getNode('steer');
          assert.notEqual(steer, first, 'a new instance of ptz-steer');
          const sent = collect(helper.getNode('out'));
          const sentErrs = collect(helper.getNode('err'));
          await waitFor(() => sent.some((m: Any) => m.payload.id === 'a1'), 30_000, 'the alert sent after the start');
          assert.deepEqual(sent.map((m: Any) => [m.payload.id, m.payload.camera.state, m.topic, m.site, m.zone, m.at]), [['a1', 'on-target', 'street/glass', 'north', { id: 3, name: 'market' }, undefined]]);
          assert.ok(cam.calls.filter((c) => c.action === 'AbsoluteMove').length > moves, 'the camera was sent to the alert again');
          assert.ok(Math.abs(cam.pose.panDeg - 150) <= 1, `pan ${cam.pose.panDeg}`);
          assert.deepEqual([...errs, ...sentErrs].map((m: Any) => m.error), []);
          assert.equal(fs.existsSync(file), false, 'the file taken');
          await waitFor(() => /1 alert in progress when the flows stopped taken over: 1 resumed, 0 sent as ended/.test(logged()), 5000, 'says so');
        } finally {
          helper.settings({});
        }
      });
    }

    it('Stop flows, Start flows, Stop flows again before the flows started: the file of the first stop, not taken yet, is kept with what the node got since; the next start takes both', async () => {
      const userDir = tempDir('vigie-steer-stop-');
      helper.settings({ userDir });
      try {
        const { cam } = await turning();
        const file = path.join(userDir, 'vigie-ptz-steer-steer.json');
        await helper._redNodes.stopFlows();
        assert.deepEqual(JSON.parse(fs.readFileSync(file, 'utf8')).items.map((i: Any) => i.alert.id), ['a1']);
        // Started again, its flows:started not out yet: the node has not taken its file.
        const events = helper._events;
        const emit = events.emit;
        let startsHeld = 0;
        events.emit = function (this: unknown, name: string, ...args: unknown[]) {
          if (name === 'flows:started') return ++startsHeld > 0;
          return emit.call(this, name, ...args);
        };
        try {
          await helper._redNodes.startFlows();
          await waitFor(() => startsHeld === 1, 15_000, 'the start, its flows:started held');
          // An alert comes to the new instance meanwhile, and turns the camera.
          const moves = cam.calls.filter((c) => c.action === 'AbsoluteMove').length;
          helper.getNode('steer').receive({ payload: locatedAlert('a2', destination(ORIGIN, 60, 50), { label: 'gunshot' }), topic: 'street/gun', site: 'south' });
          await waitFor(() => cam.calls.filter((c) => c.action === 'AbsoluteMove').length > moves, 15_000, 'the camera turning to a2');
          assert.ok(fs.existsSync(file), 'the file of the first stop not taken');
          await helper._redNodes.stopFlows();
        } finally {
          events.emit = emit;
        }
        const kept = JSON.parse(fs.readFileSync(file, 'utf8'));
        assert.deepEqual(
          kept.items.map((i: Any) => [i.alert.id, i.state, i.topic, i.message?.site]),
          [
            ['a2', 'moving', 'street/gun', 'south'],
            ['a1', 'moving', 'street/glass', 'north'],
          ],
        );
        await helper._redNodes.startFlows();
        const sent = collect(helper.getNode('out'));
        await waitFor(() => ['a1', 'a2'].every((id) => sent.some((m: Any) => m.payload.id === id)), 30_000, 'both alerts sent after the start');
        // The gunshot, more important, gets the camera; the glass break waits for it.
        assert.deepEqual(sent.find((m: Any) => m.payload.id === 'a2')?.payload.camera.state, 'on-target');
        assert.equal(sent.find((m: Any) => m.payload.id === 'a1')?.site, 'north');
        assert.equal(fs.existsSync(file), false, 'the file taken');
        await waitFor(() => /2 alerts in progress when the flows stopped taken over: 2 resumed, 0 sent as ended/.test(logged()), 5000, 'says so');
        assert.match(logged(), /with 1 alert of an earlier stop not taken yet \(stopped again before its flows started\)/);
      } finally {
        helper.settings({});
      }
    });

    it('privacy: what the file of a stop holds is the alert as ptz-steer sends it; samples on the message or unknown payload fields never reach it', async () => {
      const userDir = tempDir('vigie-steer-stop-');
      helper.settings({ userDir });
      try {
        const cam = await slowCamera();
        await helper.load([vigieCamera, ptzSteer], flowOf(cam), creds(['camA']));
        const samples = Array.from({ length: 400 }, (_, i) => Math.sin(i / 5));
        helper.getNode('steer').receive({
          payload: { ...locatedAlert('a1', destination(ORIGIN, 150, 50)), waveform: samples },
          topic: 'street/glass',
          samples,
          audio: Buffer.from(new Float32Array(samples).buffer),
        });
        await waitFor(() => cam.calls.some((c) => c.action === 'AbsoluteMove'), 15_000, 'the camera turning');
        await helper._redNodes.stopFlows();
        const text = fs.readFileSync(path.join(userDir, 'vigie-ptz-steer-steer.json'), 'utf8');
        const found: Finding[] = [];
        scanJson(JSON.parse(text), 'stop file', found);
        assert.deepEqual(found, []);
        assert.doesNotMatch(text, /waveform|samples|audio/);
        assert.match(text, /"id":"a1"/);
      } finally {
        helper.settings({});
      }
    });

    for (const how of ['Stop flows, then Start flows', 'Node-RED stopped, then started'] as const) {
      it(`${how} while its camera looks at an alert: the camera is kept in the file (no audio in it) and goes home after its quiet period, the alert sent released`, async () => {
        const userDir = tempDir('vigie-steer-stop-');
        helper.settings({ userDir });
        try {
          // A fast camera: on target within a second; its quiet period (4 s) long enough to outlast the stop.
          const cam = await startVirtualCamera();
          const flow = flowOf(cam, { returnHomeS: 4 });
          await helper.load([vigieCamera, ptzSteer], flow, creds(['camA']));
          const out = collect(helper.getNode('out'));
          const samples = Array.from({ length: 400 }, (_, i) => Math.sin(i / 5));
          helper.getNode('steer').receive({ payload: { ...locatedAlert('a1', destination(ORIGIN, 150, 50)), waveform: samples }, topic: 'street/glass', samples });
          await waitFor(() => out.some((m: Any) => m.payload.camera?.state === 'on-target'), 15_000, 'the camera on target');
          if (how === 'Stop flows, then Start flows') await helper._redNodes.stopFlows();
          else await helper.unload();
          assert.equal(cam.calls.some((c) => c.action === 'GotoHomePosition'), false, 'not home before the stop');
          const text = fs.readFileSync(path.join(userDir, 'vigie-ptz-steer-steer.json'), 'utf8');
          const kept = JSON.parse(text);
          assert.deepEqual(
            kept.items.map((i: Any) => [i.state, i.cameraId, i.alert?.id, i.topic, i.hold?.alertId, i.home?.alertId]),
            [['looking', 'camA', 'a1', 'street/glass', 'a1', 'a1']],
          );
          const found: Finding[] = [];
          scanJson(kept, 'stop file', found);
          assert.deepEqual(found, [], 'no audio in the file (DESIGN §4)');
          assert.doesNotMatch(text, /waveform|samples|"op"|"pw"|password/);
          if (how === 'Stop flows, then Start flows') await helper._redNodes.startFlows();
          else await helper.load([vigieCamera, ptzSteer], flow, creds(['camA']));
          const sent = collect(helper.getNode('out'));
          await waitFor(() => cam.calls.some((c) => c.action === 'GotoHomePosition'), 15_000, 'the camera sent home after the start');
          await waitFor(() => Math.abs(cam.pose.panDeg) < 0.5 && !cam.pose.moving, 15_000, 'the camera home');
          await waitFor(() => sent.length >= 1, 5000, 'the alert sent released');
          assert.deepEqual(
            sent.map((m: Any) => [m.payload.id, m.payload.camera.state, m.payload.camera.reason, m.topic]),
            [['a1', 'released', 'camera Camera camA looked here, then went home after the quiet period (4 s)', 'street/glass']],
          );
          await waitFor(() => /1 camera's look in progress when the flows stopped taken over: 0 resumed, 0 sent as ended; 1 camera's look taken over/.test(logged()), 5000, 'says so');
        } finally {
          helper.settings({});
        }
      });
    }

    it('Node-RED stopped while its camera turns, ptz-steer deleted before the next start: the file is removed and the alert named in a warning; a corrupt file is set aside with a warning', async () => {
      const userDir = tempDir('vigie-steer-stop-');
      helper.settings({ userDir });
      try {
        const { cam } = await turning();
        await helper.unload();
        const file = path.join(userDir, 'vigie-ptz-steer-steer.json');
        assert.ok(fs.existsSync(file));
        fs.writeFileSync(path.join(userDir, 'vigie-ptz-steer-other.json'), '{"vigieStopped":');
        await helper.load([vigieCamera, ptzSteer], flowOf(cam).filter((n) => n.id !== 'steer'), creds(['camA']));
        await waitFor(() => !fs.existsSync(file), 5000, 'the file removed');
        const said = logged();
        assert.match(said, /ptz-steer steer: 1 alert in progress when the flows stopped dropped, the node is deleted \(vigie-ptz-steer-steer\.json removed\): a1/);
        assert.match(said, /ptz-steer: vigie-ptz-steer-other\.json: could not be read \(.*\); set aside as vigie-ptz-steer-other\.json\.corrupt-/);
        assert.ok(fs.readdirSync(userDir).some((f) => f.startsWith('vigie-ptz-steer-other.json.corrupt-')));
      } finally {
        helper.settings({});
      }
    });

    it('a "modified nodes" deploy that deletes ptz-steer: the alert it was steering is sent failed, "ptz-steer was removed"', async () => {
      const { cam, out, errs } = await turning();
      const without = flowOf(cam).filter((n) => n.id !== 'steer');
      await helper.setFlows(without, 'nodes', creds(['camA']));
      assert.equal(helper.getNode('steer'), null);
      await waitFor(() => out.length >= 1, 5000, 'the alert sent as the node closed');
      assert.deepEqual(out.map((m: Any) => [m.payload.id, m.payload.camera.state, m.payload.camera.reason]), [['a1', 'failed', 'ptz-steer was removed: the camera move was not followed to its end']]);
      assert.deepEqual(errs.map((m: Any) => [m.payload.id, m.error.code]), [['a1', 'closed']]);
    });

    it('a deploy that deletes ptz-steer before the previous deploy started the flows: the alert handed over is sent failed, "ptz-steer was removed"', async () => {
      const { cam, out, errs, first } = await turning();
      // A redeploy whose flows:started is not out yet: the new instance holds the hand-over it
      // took but has not applied (a second deploy can land in that window: setFlows does not
      // wait for the start).
      const events = helper._events;
      const emit = events.emit;
      let startsHeld = 0;
      events.emit = function (this: unknown, name: string, ...args: unknown[]) {
        if (name === 'flows:started' && startsHeld === 0) return ++startsHeld > 0;
        return emit.call(this, name, ...args);
      };
      try {
        await helper._redNodes.setFlows(flowOf(cam, { toleranceDeg: 0.9 }), creds(['camA']), 'nodes');
        await waitFor(() => startsHeld === 1, 15_000, 'the redeploy started, its flows:started held');
      } finally {
        events.emit = emit;
      }
      const second = helper.getNode('steer');
      assert.ok(second && second !== first, 'ptz-steer was not restarted: the case under test did not happen');
      assert.deepEqual(out, [], 'nothing sent yet');
      await helper.setFlows(flowOf(cam).filter((n) => n.id !== 'steer'), 'nodes', creds(['camA']));
      assert.equal(helper.getNode('steer'), null);
      await waitFor(() => out.length >= 1, 5000, 'the alert sent as the node closed');
      assert.deepEqual(out.map((m: Any) => [m.payload.id, m.payload.camera.state, m.payload.camera.reason, m.topic]), [
        ['a1', 'failed', 'ptz-steer was removed: the camera move was not followed to its end', 'street/glass'],
      ]);
      assert.deepEqual(errs.map((m: Any) => [m.payload.id, m.error.code]), [['a1', 'closed']]);
    });
  });
});
