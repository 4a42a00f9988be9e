import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AlertConsole, alertAuditDetails, alertUpdateDetails, droppedAlertsWarning, expiredAlertsWarning, moveRefusalOf, resolveOperator, userFromClient } from '../../lib/alerts/console';
import { AuditEvent, auditBus } from '../../lib/alerts/bus';
import { AlertStore, StaleDecisionError } from '../../lib/alerts/store';

function detection(id: string, onset: number, extra: Record<string, unknown> = {}) {
  return {
    kind: 'detection',
    id,
    sensor: 's1',
    label: 'explosion',
    confidence: 0.8,
    onset,
    offset: onset + 1,
    level: { dbfs: -3 },
    scores: { explosion: 0.8 },
    span: { sensor: 's1', start: 0, frames: 100 },
    ...extra,
  };
}

function recordAudit(): { events: AuditEvent[]; stop: () => void } {
  const events: AuditEvent[] = [];
  const stop = auditBus.subscribe((e) => events.push(e));
  return { events, stop };
}

test('the operator is the authenticated user when there is one, else the name entered', () => {
  assert.equal(resolveOperator('j.dupont', 'typed'), 'j.dupont');
  assert.equal(resolveOperator(undefined, '  Alice  '), 'Alice');
  assert.equal(resolveOperator('  ', 'Bob'), 'Bob');
  assert.throws(() => resolveOperator(undefined, ''), /operator: expected the operator's name/);
  assert.throws(() => resolveOperator(undefined, 42), /operator/);
  assert.equal(resolveOperator(undefined, 'x'.repeat(200)).length, 80);
});

test('userFromClient reads what Dashboard 2.0 authentication plugins put in _client.user', () => {
  assert.equal(userFromClient({ socketId: 'a', user: { username: 'alice', name: 'Alice A.' } }), 'alice');
  assert.equal(userFromClient({ user: { name: 'Bob B.' } }), 'Bob B.');
  assert.equal(userFromClient({ user: { email: 'c@example.org' } }), 'c@example.org');
  assert.equal(userFromClient({ socketId: 'a' }), undefined);
  assert.equal(userFromClient(undefined), undefined);
  assert.equal(userFromClient({ user: 'not-an-object' }), undefined);
});

test('a new alert is audited once as raised; its camera and video, and a copy sent again unchanged, are not re-audited', () => {
  const rec = recordAudit();
  try {
    const c = new AlertConsole({ store: new AlertStore(), actor: 'auto:n1' });
    const location = { method: 'doa', bearing: 10, sensors: ['s1'] };
    c.ingest(detection('e1', 10, { location }));
    c.ingest(detection('e1', 10, { location }));
    c.ingest(detection('e1', 10, { location, camera: { id: 'cam', name: 'Cam', pan: 0, tilt: 0, zoom: 0, target: { bearing: 10, tilt: 0 }, state: 'on-target' } }));
    c.ingest(detection('e1', 10, { video: { live: '/vigie/video/cam/live', until: 2_000_000_000_000 } }));
    const mine = rec.events.filter((e) => e.alertId === 'e1');
    assert.equal(mine.length, 1);
    assert.equal(mine[0].type, 'alert');
    assert.equal(mine[0].actor, 'auto:n1');
    assert.equal(mine[0].details.label, 'explosion');
  } finally {
    rec.stop();
  }
});

test('an alert sent again with a better place is audited as an update: the old and new position, their uncertainty and the sensors\' reports', () => {
  const rec = recordAudit();
  try {
    const c = new AlertConsole({ store: new AlertStore(), actor: 'auto:n1' });
    const report = (sensor: string, bearing: number) => ({ sensor, detection: `${sensor}-d`, label: 'explosion', onset: 10, bearing });
    const first = { method: 'bearings', bearing: 40, bearingStd: 3, position: { lat: 45.44, lon: 4.39, errorM: 35 }, sensors: ['s1', 's2'] };
    const better = { method: 'bearings', bearing: 41, bearingStd: 3, position: { lat: 45.4402, lon: 4.3901, errorM: 6 }, sensors: ['s1', 's2', 's3'] };
    c.ingest(detection('u1', 10, { location: first, incident: { id: 'i1', reports: [report('s1', 40), report('s2', 300)] } }));
    const camera = { id: 'cam', name: 'Cam', pan: 0, tilt: 0, zoom: 0, target: { bearing: 40, tilt: 0 }, state: 'on-target' };
    c.ingest(detection('u1', 10, { location: first, camera, incident: { id: 'i1', reports: [report('s1', 40), report('s2', 300)] } }));
    const late = { location: better, camera, incident: { id: 'i1', reports: [report('s1', 40), report('s2', 300), report('s3', 200)] } };
    c.ingest(detection('u1', 10, late));
    // The same copy again (ptz-steer passing it on with its camera): nothing new to keep.
    c.ingest(detection('u1', 10, late));
    const mine = rec.events.filter((e) => e.alertId === 'u1');
    assert.deepEqual(mine.map((e) => e.type), ['alert', 'alert-update']);
    const u = mine[1];
    assert.equal(u.actor, 'auto:n1');
    assert.equal(u.details.label, 'explosion');
    assert.deepEqual(u.details.changed, ['location', 'reports']);
    const before = u.details.before as Record<string, any>;
    const after = u.details.after as Record<string, any>;
    assert.deepEqual(before.location.position, first.position);
    assert.deepEqual(after.location.position, better.position);
    assert.equal(before.location.bearingStd, 3);
    assert.deepEqual(after.location.sensors, ['s1', 's2', 's3']);
    assert.deepEqual(before.reports.map((r: { sensor: string }) => r.sensor), ['s1', 's2']);
    assert.deepEqual(after.reports.map((r: { sensor: string }) => r.sensor), ['s1', 's2', 's3']);
    assert.equal(before.label, undefined, 'only what changed');
  } finally {
    rec.stop();
  }
});

test('a copy that changes the label, or gives a place where there was none, is an update naming each field', () => {
  const none = alertUpdateDetails(detection('l1', 10) as never, detection('l1', 10) as never);
  assert.equal(none, undefined);
  const placed = alertUpdateDetails(detection('l1', 10) as never, detection('l1', 10, { location: { method: 'doa', bearing: 10, bearingStd: 4, sensors: ['s1'] } }) as never)!;
  assert.deepEqual(placed.changed, ['location']);
  assert.deepEqual(placed.before, { location: null });
  const relabelled = alertUpdateDetails(detection('l1', 10) as never, detection('l1', 10, { label: 'gunshot', confidence: 0.9 }) as never)!;
  assert.deepEqual(relabelled.changed, ['label', 'confidence']);
  assert.deepEqual(relabelled.before, { label: 'explosion', confidence: 0.8 });
  assert.deepEqual(relabelled.after, { label: 'gunshot', confidence: 0.9 });
});

test('unhandled alerts dropped over the cap are audited as system entries naming each, and worded in a warning', () => {
  const rec = recordAudit();
  try {
    // Received a few seconds after their onsets, as a gateway with a good clock sends them.
    const c = new AlertConsole({ store: new AlertStore({ maxAlerts: 2, now: () => 1_700_000_005_000 }), actor: 'auto:n1' });
    c.ingest(detection('d1', 1_700_000_000));
    c.ingest(detection('d2', 1_700_000_001));
    const r = c.ingest(detection('d3', 1_700_000_002));
    assert.deepEqual(r.droppedUnhandled.map((d) => d.alert.id), ['d1']);
    const dropped = rec.events.filter((e) => e.type === 'system');
    assert.equal(dropped.length, 1);
    assert.equal(dropped[0].alertId, 'd1');
    assert.equal(dropped[0].actor, 'auto:n1');
    assert.deepEqual({ ...dropped[0].details, receivedAt: undefined }, { event: 'alert-dropped', reason: 'maxAlerts', maxAlerts: 2, state: 'new', label: 'explosion', sensor: 's1', onset: 1_700_000_000, receivedAt: undefined });
    assert.equal(
      droppedAlertsWarning(r.droppedUnhandled, 2),
      'at most 2 alerts (maxAlerts), all unhandled: dropped unhandled alert d1 (explosion at 2023-11-14T22:13:20.000Z, never opened) (the lowest priority first, then the oldest); decide on alerts or raise maxAlerts. Each dropped alert is in the audit log (system entry "alert-dropped")',
    );
    // Many at once (a cap lowered since the restart): five named, the rest counted.
    const many = Array.from({ length: 7 }, (_, i) => ({ ...r.droppedUnhandled[0], alert: { ...r.droppedUnhandled[0].alert, id: `m${i}` }, state: 'seen' as const }));
    assert.match(droppedAlertsWarning(many, 2), /dropped unhandled alerts m0 \(explosion at [^)]*, opened, not decided\), m1 .* m4 \([^)]*\) and 2 more \(the lowest priority first, then the oldest\); decide/);
  } finally {
    rec.stop();
  }
});

test('unhandled alerts that retention drops are audited as system entries (reason retention) and worded in a warning; handled ones go quietly', () => {
  const rec = recordAudit();
  try {
    let nowMs = 1_800_000_000_000;
    // Time passes on both clocks: the monotonic one tells how long an alert was held.
    const store = new AlertStore({ retentionMs: 2 * 86_400_000, now: () => nowMs, monotonicNow: () => nowMs - 1_800_000_000_000 });
    const c = new AlertConsole({ store, actor: 'auto:n1' });
    c.ingest(detection('old', 1_799_999_999));
    c.ingest(detection('done', 1_799_999_999.5));
    c.act({ type: 'decide', alertId: 'done', operator: 'Ann', action: 'dismiss' });
    nowMs += 3 * 86_400_000;
    assert.deepEqual(c.expired(), [], 'nothing expired yet: none is told');
    assert.equal(c.prune(), true);
    const expired = c.expired();
    assert.deepEqual(expired.map((r) => r.alert.id), ['old'], 'the handled one is not told');
    assert.deepEqual(c.expired(), [], 'told once');
    const dropped = rec.events.filter((e) => e.type === 'system');
    assert.equal(dropped.length, 1);
    assert.equal(dropped[0].alertId, 'old');
    assert.deepEqual({ ...dropped[0].details, receivedAt: undefined }, { event: 'alert-dropped', reason: 'retention', retentionDays: 2, state: 'new', label: 'explosion', sensor: 's1', onset: 1_799_999_999, receivedAt: undefined });
    assert.equal(
      expiredAlertsWarning(expired, store.retentionMs),
      'unhandled alert old (explosion at 2027-01-15T07:59:59.000Z, never opened) dropped with no decision, 2 days after its last update (Keep for); each is in the audit log (system entry "alert-dropped")',
    );
    // An arrival prunes too: what it drops is told the same way.
    c.ingest(detection('later', 1_700_000_100));
    nowMs += 3 * 86_400_000;
    c.ingest(detection('new', 1_700_000_200));
    assert.deepEqual(c.expired().map((r) => r.alert.id), ['later']);
  } finally {
    rec.stop();
  }
});

test('act: says who each action is recorded under: the logged-in user over the name entered, trimmed', () => {
  const c = new AlertConsole({ store: new AlertStore(), actor: 'auto:n1' });
  c.ingest(detection('o1', 10));
  assert.equal(c.act({ type: 'seen', alertId: 'o1', operator: '  Ann ' }).operator, 'Ann');
  assert.equal(c.act({ type: 'view', alertId: 'o1', operator: 'Ann', mode: 'live' }, 'j.dupont').operator, 'j.dupont');
  const d = c.act({ type: 'decide', alertId: 'o1', action: 'dismiss', operator: 'Ann' }, 'j.dupont');
  assert.equal(d.operator, 'j.dupont');
  assert.equal(d.decision?.operator, d.operator, 'as the decision names it');
});

test('act: decide, seen, move and view, with the audit events they cause', () => {
  const rec = recordAudit();
  try {
    const c = new AlertConsole({ store: new AlertStore(), actor: 'auto:n1' });
    c.ingest(detection('e2', 10, { camera: { id: 'cam', name: 'Cam', pan: 0, tilt: 0, zoom: 0, target: { bearing: 1, tilt: 0 }, state: 'proposed' } }));
    const v0 = c.state().version;
    assert.equal(c.act({ type: 'seen', alertId: 'e2', operator: 'Ann' }).changed, true);
    assert.equal(c.act({ type: 'seen', alertId: 'e2', operator: 'Ann' }).changed, false, 'seeing it twice changes nothing');
    const m = c.act({ type: 'move', alertId: 'e2', operator: 'Ann' });
    assert.equal(m.moveRequest?.kind, 'move-request');
    assert.equal(m.moveRequest?.operator, 'Ann');
    assert.equal(c.act({ type: 'view', alertId: 'e2', operator: 'Ann', mode: 'live' }).changed, false);
    const d = c.act({ type: 'decide', alertId: 'e2', action: 'escalate', operator: 'Ann', note: 'police called' });
    assert.deepEqual({ ...d.decision, time: 0 }, { kind: 'decision', alertId: 'e2', action: 'escalate', operator: 'Ann', time: 0, note: 'police called', revision: 0 });
    assert.ok(c.state().version > v0);
    const types = rec.events.filter((e) => e.alertId === 'e2').map((e) => `${e.type}:${e.actor}`);
    assert.deepEqual(types, ['alert:auto:n1', 'camera-move:Ann', 'live-view:Ann', 'decision:Ann']);
    // The request, not a move: ptz-steer audits the move, or its refusal.
    assert.deepEqual(rec.events.find((e) => e.type === 'camera-move')!.details, { event: 'requested-by-operator', camera: 'cam', cameraState: 'proposed' });
    assert.equal(c.state().alerts[0].state, 'escalated');
  } finally {
    rec.stop();
  }
});

test('move: an operator may take a busy camera for a waiting alert; the request is answered by the camera\'s next state', () => {
  const c = new AlertConsole({ store: new AlertStore(), actor: 'auto:n1' });
  const cam = (state: string) => ({ camera: { id: 'cam', name: 'Cam', pan: 0, tilt: 0, zoom: 0, target: { bearing: 1, tilt: 0 }, state, reason: 'camera Cam is busy with gunshot alert g' } });
  c.ingest(detection('w1', 10, cam('waiting')));
  assert.equal(c.act({ type: 'move', alertId: 'w1', operator: 'Ann' }).moveRequest?.alertId, 'w1');
  assert.equal(c.state().alerts[0].moveRequest?.operator, 'Ann');
  c.ingest(detection('w1', 10, cam('on-target')));
  assert.equal(c.state().alerts[0].moveRequest, undefined, 'answered');
  // Taken over again later: the operator may ask again.
  c.ingest(detection('w1', 10, cam('waiting')));
  assert.equal(c.act({ type: 'move', alertId: 'w1', operator: 'Bob' }).moveRequest?.operator, 'Bob');
});

test('move: to look again at an alert whose camera left, the request carries the alert (without its video)', () => {
  const c = new AlertConsole({ store: new AlertStore(), actor: 'auto:n1' });
  const camera = { id: 'cam', name: 'Cam', pan: 0, tilt: 0, zoom: 0, target: { bearing: 1, tilt: 0 }, state: 'released', reason: 'camera Cam looked here, then went home after the quiet period (2 min)' };
  const video = { live: '/vigie/video/cam/live', until: 1 };
  c.ingest(detection('r1', 10, { camera, video, location: { method: 'tdoa', sensors: ['s1'], position: { lat: 45.44, lon: 4.39, errorM: 2 } } }));
  const req = c.act({ type: 'move', alertId: 'r1', operator: 'Ann' }).moveRequest!;
  assert.equal(req.alert?.id, 'r1');
  assert.deepEqual(req.alert?.location?.position, { lat: 45.44, lon: 4.39, errorM: 2 });
  assert.equal(req.alert?.camera?.id, 'cam', 'so ptz-steer prefers the camera that looked');
  assert.equal((req.alert as unknown as Record<string, unknown>).video, undefined);
  // No camera was free in time: ptz-steer gave up on it, so the request carries it too.
  c.ingest(detection('u1', 10, { camera: { ...camera, state: 'unavailable', reason: 'no camera was free within 5 min' }, location: { method: 'tdoa', sensors: ['s1'], position: { lat: 45.44, lon: 4.39, errorM: 2 } } }));
  assert.equal(c.act({ type: 'move', alertId: 'u1', operator: 'Ann' }).moveRequest!.alert?.id, 'u1');
  // A proposal or a wait ptz-steer may have forgotten (dismissed, over, redeployed) while this
  // console still shows it: the request carries the alert too, so ptz-steer can serve it.
  for (const state of ['waiting', 'proposed']) {
    c.ingest(detection(`p-${state}`, 10, { camera: { ...camera, state }, video, location: { method: 'tdoa', sensors: ['s1'], position: { lat: 45.44, lon: 4.39, errorM: 2 } } }));
    const r = c.act({ type: 'move', alertId: `p-${state}`, operator: 'Ann' }).moveRequest!;
    assert.equal(r.alert?.id, `p-${state}`, state);
    assert.equal((r.alert as unknown as Record<string, unknown>).video, undefined, state);
  }
});

test('move: a request ptz-steer refuses with the state already shown ("unavailable" again) is answered: the button comes back', () => {
  const c = new AlertConsole({ store: new AlertStore(), actor: 'auto:n1' });
  const camera = { id: 'cam', name: 'Cam', pan: 0, tilt: 0, zoom: 0, target: { bearing: 1, tilt: 0 }, state: 'unavailable', reason: 'no camera can look at it now' };
  c.ingest(detection('u2', 10, { camera }));
  c.act({ type: 'move', alertId: 'u2', operator: 'Ann' });
  assert.equal(c.state().alerts[0].moveRequest?.operator, 'Ann');
  c.ingest(detection('u2', 10, { camera }));
  assert.equal(c.state().alerts[0].moveRequest, undefined, 'answered, though the camera says the same');
  // A waiting alert's copy that says the same is no answer: it is still waited on.
  c.ingest(detection('w3', 10, { camera: { ...camera, state: 'waiting', reason: 'camera Cam is busy' } }));
  c.act({ type: 'move', alertId: 'w3', operator: 'Ann' });
  c.ingest(detection('w3', 10, { camera: { ...camera, state: 'waiting', reason: 'camera Cam is busy' } }));
  assert.equal(c.store.get('w3')!.moveRequest?.operator, 'Ann');
});

test('move: a request that nothing answers in time ends "no-answer" (audited), the button comes back; a late camera state or a new request clears it', () => {
  let monoMs = 0;
  const c = new AlertConsole({ store: new AlertStore({ monotonicNow: () => monoMs }), actor: 'auto:n1' });
  const camera = { id: 'cam', name: 'Cam', pan: 0, tilt: 0, zoom: 0, target: { bearing: 1, tilt: 0 }, state: 'waiting', reason: 'camera Cam is busy with a gunshot alert' };
  c.ingest(detection('n1', 10, { camera }));
  c.act({ type: 'move', alertId: 'n1', operator: 'Ann' });
  const asked = c.store.get('n1')!.moveRequest!;
  monoMs = 59_999;
  assert.equal(c.expireMoveRequests(60_000), false, 'not due yet');
  assert.equal(c.store.get('n1')!.moveRequest?.operator, 'Ann');
  const rec = recordAudit();
  try {
    monoMs = 60_000;
    const version = c.version;
    assert.equal(c.expireMoveRequests(60_000), true);
    assert.ok(c.version > version, 'every console is told');
    const shown = c.state().alerts[0];
    assert.equal(shown.moveRequest, undefined, 'the button is back');
    assert.deepEqual(shown.moveNotMade, { operator: 'Ann', time: asked.time, why: 'no-answer' });
    assert.deepEqual(rec.events.map((e) => [e.type, e.alertId, e.details]), [['camera-move', 'n1', { event: 'request-unanswered', requestedBy: 'Ann', waitedS: 60 }]]);
    assert.equal(c.expireMoveRequests(60_000), false, 'ended once');
  } finally {
    rec.stop();
  }
  // a late answer: the camera says what it does now
  c.ingest(detection('n1', 10, { camera: { ...camera, state: 'on-target', reason: undefined } }));
  assert.equal(c.store.get('n1')!.moveNotMade, undefined);
  // a new request clears the last one's end
  c.ingest(detection('n2', 10, { camera }));
  c.act({ type: 'move', alertId: 'n2', operator: 'Ann' });
  monoMs += 60_000;
  c.expireMoveRequests(60_000);
  assert.equal(c.store.get('n2')!.moveNotMade?.why, 'no-answer');
  c.act({ type: 'move', alertId: 'n2', operator: 'Bob' });
  assert.equal(c.store.get('n2')!.moveNotMade, undefined);
  assert.equal(c.store.get('n2')!.moveRequest?.operator, 'Bob');
});

test('move: ptz-steer\'s refusal (its "request-refused" audit entry) ends the pending request with its reason', () => {
  const c = new AlertConsole({ store: new AlertStore(), actor: 'auto:n1' });
  const camera = { id: 'cam', name: 'Cam', pan: 0, tilt: 0, zoom: 0, target: { bearing: 1, tilt: 0 }, state: 'released', reason: 'camera Cam looked here, then went home' };
  c.ingest(detection('f1', 10, { camera }));
  assert.equal(c.moveRefused('f1', 'no camera can look at it now'), false, 'no request pending: nothing to end');
  c.act({ type: 'move', alertId: 'f1', operator: 'Ann' });
  const refusal = moveRefusalOf({ type: 'camera-move', time: 1, actor: 'Ann', alertId: 'f1', details: { event: 'request-refused', reason: 'payload.alertId: expected the id of an alert with a proposed move or waiting for a camera' } });
  assert.deepEqual(refusal, { alertId: 'f1', reason: 'payload.alertId: expected the id of an alert with a proposed move or waiting for a camera' });
  assert.equal(c.moveRefused(refusal!.alertId, refusal!.reason), true);
  const shown = c.state().alerts[0];
  assert.equal(shown.moveRequest, undefined);
  assert.equal(shown.moveNotMade?.why, 'refused');
  assert.equal(shown.moveNotMade?.reason, refusal!.reason);
  // other audit events are no refusal
  assert.equal(moveRefusalOf({ type: 'camera-move', time: 1, actor: 'Ann', alertId: 'f1', details: { event: 'requested-by-operator' } }), undefined);
  assert.equal(moveRefusalOf({ type: 'decision', time: 1, actor: 'Ann', alertId: 'f1', details: { event: 'request-refused' } }), undefined);
});

test('act refuses what it cannot use, naming the field', () => {
  const c = new AlertConsole({ store: new AlertStore(), actor: 'auto:n1' });
  c.ingest(detection('e3', 10, { camera: { id: 'cam', name: 'Cam', pan: 0, tilt: 0, zoom: 0, target: { bearing: 1, tilt: 0 }, state: 'on-target' } }));
  assert.throws(() => c.act('confirm'), /action: expected an object/);
  assert.throws(() => c.act({ type: 'decide', action: 'confirm', operator: 'A' }), /action\.alertId: expected a non-empty string/);
  assert.throws(() => c.act({ type: 'decide', alertId: 'nope', action: 'confirm', operator: 'A' }), /action\.alertId: expected the id of an alert in the queue/);
  assert.throws(() => c.act({ type: 'shred', alertId: 'e3', operator: 'A' }), /action\.type: expected one of/);
  assert.throws(() => c.act({ type: 'move', alertId: 'e3', operator: 'A' }), /"move" only for an alert whose camera\.state is one of "proposed", "waiting", "released", "failed", "unavailable", got "on-target"/);
  assert.throws(() => c.act({ type: 'decide', alertId: 'e3', action: 'confirm' }), /operator/);
  assert.throws(() => c.act({ type: 'decide', alertId: 'e3', action: 'confirm', operator: 'A', revision: '0' }), /^ContractError: action\.revision: expected a whole number >= 0: how many decisions the alert had on the operator's screen, got "0"/);
  assert.equal(c.state().alerts[0].state, 'new');
});

test('decide: two operators on one alert — the one who decided on a stale view is refused and nothing is published; deciding knowingly is audited as replacing the first', () => {
  const rec = recordAudit();
  try {
    const c = new AlertConsole({ store: new AlertStore(), actor: 'auto:n1' });
    c.ingest(detection('g', 10));
    c.act({ type: 'decide', alertId: 'g', action: 'escalate', operator: 'Alice', revision: 0 });
    const v = c.state().version;
    const before = rec.events.length;
    assert.throws(() => c.act({ type: 'decide', alertId: 'g', action: 'dismiss', operator: 'Bob', revision: 0 }), (err: unknown) => err instanceof StaleDecisionError && err.latest?.operator === 'Alice' && err.revision === 1);
    assert.equal(rec.events.length, before, 'a refused decision is not audited as taken');
    assert.equal(c.state().version, v, 'nor does it change what browsers show');
    assert.equal(c.state().alerts[0].state, 'escalated');
    const d = c.act({ type: 'decide', alertId: 'g', action: 'dismiss', operator: 'Bob', revision: 1 });
    assert.equal(d.decision?.revision, 1);
    const audited = rec.events.filter((e) => e.type === 'decision' && e.alertId === 'g');
    assert.deepEqual(audited.map((e) => e.details.revision), [0, 1]);
    assert.equal(audited[0].details.replaces, undefined);
    assert.deepEqual(audited[1].details.replaces, { action: 'escalate', operator: 'Alice', time: c.store.get('g')!.decisions[0].time });
  } finally {
    rec.stop();
  }
});

test('the state sent to browsers is capped, keeping unhandled alerts first', () => {
  const c = new AlertConsole({ store: new AlertStore(), actor: 'auto:n1', maxShown: 3 });
  for (let i = 0; i < 6; i++) c.ingest(detection(`k${i}`, 100 + i));
  c.act({ type: 'decide', alertId: 'k5', action: 'dismiss', operator: 'A' });
  const st = c.state();
  assert.deepEqual(st.alerts.map((r) => r.alert.id), ['k4', 'k3', 'k2']);
  assert.equal(st.counts.new, 5);
});

test('the state carries the unhandled alerts the cap dropped until an operator acknowledges them, audited under the operator', () => {
  const rec = recordAudit();
  try {
    const c = new AlertConsole({ store: new AlertStore({ maxAlerts: 2 }), actor: 'auto:n1' });
    c.ingest(detection('x1', 1_700_000_001));
    c.ingest(detection('x2', 1_700_000_002));
    assert.equal(c.state().dropped, undefined, 'nothing dropped: nothing to say');
    c.ingest(detection('x3', 1_700_000_003));
    const v = c.state().version;
    c.ingest(detection('x4', 1_700_000_004));
    assert.ok(c.state().version > v, 'a drop is a change every console shows');
    const notice = c.state().dropped!;
    assert.deepEqual(
      { count: notice.count, maxAlerts: notice.maxAlerts, upTo: notice.upTo, ids: notice.recent.map((d) => [d.id, d.label, d.onset, d.state]) },
      { count: 2, maxAlerts: 2, upTo: 2, ids: [['x2', 'explosion', 1_700_000_002, 'new'], ['x1', 'explosion', 1_700_000_001, 'new']] },
    );
    assert.throws(() => c.act({ type: 'ack-dropped', operator: 'Ann' }), /action\.upTo/);
    assert.throws(() => c.act({ type: 'ack-dropped', upTo: 2 }), /operator/);
    const before = c.state().version;
    const r = c.act({ type: 'ack-dropped', operator: 'Ann', upTo: notice.upTo });
    assert.deepEqual(r, { changed: true, operator: 'Ann' });
    assert.equal(c.state().dropped, undefined);
    assert.ok(c.state().version > before);
    const acks = rec.events.filter((e) => e.details.event === 'alert-dropped-acknowledged');
    assert.equal(acks.length, 1);
    assert.equal(acks[0].type, 'system');
    assert.equal(acks[0].actor, 'Ann');
    assert.deepEqual(acks[0].details, { event: 'alert-dropped-acknowledged', count: 2, maxAlerts: 2, named: ['x2', 'x1'] });
    // a second operator acknowledging the same notice: nothing more to record
    assert.deepEqual(c.act({ type: 'ack-dropped', operator: 'Bob', upTo: notice.upTo }), { changed: false, operator: 'Bob' });
    assert.equal(rec.events.filter((e) => e.details.event === 'alert-dropped-acknowledged').length, 1);
  } finally {
    rec.stop();
  }
});

test("the audit entry of a fused alert says which sensor heard what, and when (its reports); an alert of one sensor has none", () => {
  const base = { kind: 'detection', id: 'd1', sensor: 'corner-s', label: 'explosion', confidence: 0.39, onset: 1796056077.8, offset: 1796056078.1, level: { dbfs: -12 }, scores: { explosion: 0.39 }, span: { sensor: 'corner-s', start: 0, frames: 10 } } as const;
  const reports = [
    { sensor: 'corner-nw', detection: 'd0', label: 'explosion', onset: 1796056077.81, bearing: 141.2 },
    { sensor: 'corner-s', detection: 'd1', label: 'glass_break', onset: 1796056077.86 },
  ];
  const details = alertAuditDetails({ ...base, incident: { id: 'inc-7', reports } } as never);
  assert.deepEqual(details.reports, [
    { sensor: 'corner-nw', label: 'explosion', onset: 1796056077.81, bearing: 141.2 },
    { sensor: 'corner-s', label: 'glass_break', onset: 1796056077.86 },
  ]);
  assert.equal('reports' in alertAuditDetails(base as never), false);
});
