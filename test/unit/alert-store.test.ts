import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AlertStore, StaleDecisionError, UnreadableStoreError } from '../../lib/alerts/store';
import { tempDir } from '../support/tmp';
import { twoClocks } from '../support/wall-clock';

function detection(id: string, onset: number, extra: Record<string, unknown> = {}) {
  return {
    kind: 'detection',
    id,
    sensor: 's1',
    label: 'glass_break',
    confidence: 0.91,
    onset,
    offset: onset + 0.4,
    level: { dbfs: -12.5, dba: 88 },
    scores: { glass_break: 0.91, speech: 0.4, traffic: 0.02 },
    span: { sensor: 's1', start: 16000, frames: 8000 },
    ...extra,
  };
}

/** A wall clock and a monotonic one, moving together unless a test steps the wall clock alone. */
const clock = (t = 1_700_000_000_000) => twoClocks(t);

test('upsert adds new alerts and merges enrichment from later stages by id', () => {
  const c = clock();
  const s = new AlertStore({ now: c.now });
  const r1 = s.upsert(detection('a1', 100));
  assert.equal(r1.isNew, true);
  assert.equal(r1.record.state, 'new');
  c.advance(500);
  const r2 = s.upsert(detection('a1', 100, { location: { method: 'doa', bearing: 45, bearingStd: 3, sensors: ['s1'] } }));
  assert.equal(r2.isNew, false);
  assert.deepEqual(r2.changed, ['location']);
  const r3 = s.upsert(detection('a1', 100, { camera: { id: 'c1', name: 'Cam 1', pan: 1, tilt: 2, zoom: 1, target: { bearing: 45, tilt: -5 }, state: 'moving' } }));
  assert.deepEqual(r3.changed, ['camera']);
  const a = s.get('a1')!.alert;
  assert.equal(a.location?.bearing, 45, 'an enriched copy without location keeps the earlier location');
  assert.equal(a.camera?.state, 'moving');
  assert.equal(s.size, 1);
  // ptz-steer's reason travels with a waiting camera, in words only, and shortened.
  const reason = 'camera c1 is busy with gunshot alert g1; waiting up to 5 min for it to be free';
  s.upsert(detection('a1', 100, { camera: { id: 'c1', name: 'Cam 1', pan: 1, tilt: 2, zoom: 1, target: { bearing: 45, tilt: -5 }, state: 'waiting', reason } }));
  assert.equal(s.get('a1')!.alert.camera?.reason, reason);
  s.upsert(detection('a1', 100, { camera: { id: 'c1', name: 'Cam 1', pan: 1, tilt: 2, zoom: 1, target: { bearing: 45, tilt: -5 }, state: 'failed', reason: 'x'.repeat(1500) } }));
  assert.equal(s.get('a1')!.alert.camera?.reason?.length, 300);
  // Beyond the contract's bound on text (CONTRACT_BOUNDS) it is not shortened but dropped.
  s.upsert(detection('a1', 100, { camera: { id: 'c1', name: 'Cam 1', pan: 1, tilt: 2, zoom: 1, target: { bearing: 45, tilt: -5 }, state: 'failed', reason: 'x'.repeat(5000) } }));
  assert.equal(s.get('a1')!.alert.camera?.reason, undefined);
  s.upsert(detection('a1', 100, { camera: { id: 'c1', name: 'Cam 1', pan: 1, tilt: 2, zoom: 1, target: { bearing: 45, tilt: -5 }, state: 'on-target' } }));
  assert.equal(s.get('a1')!.alert.camera?.reason, undefined, 'a camera on target carries no stale reason');
  assert.equal(s.get('a1')!.updatedMs - s.get('a1')!.receivedMs, 500);
});

test('stored alerts keep contract fields only: no voice scores, nothing sample-like; samples are refused', () => {
  const s = new AlertStore();
  s.upsert(detection('a1', 100, { pcm: [0.1, 0.2], extra: 'x', level: { dbfs: -12.5, dba: 88, backgroundDba: 62, samples: [1, 2] } }));
  const a = s.get('a1')!.alert as unknown as Record<string, unknown>;
  assert.equal('pcm' in a, false);
  assert.equal('extra' in a, false);
  assert.deepEqual(a.level, { dbfs: -12.5, dba: 88, backgroundDba: 62 }, 'the street\'s background goes on with the level: the console reads the event against it');
  assert.deepEqual(a.span, { sensor: 's1', start: 16000, frames: 8000 });
  assert.deepEqual(a.scores, { glass_break: 0.91, traffic: 0.02 });
  // A detection that carries samples is refused outright (privacy guarantee 1).
  assert.throws(() => s.upsert(detection('a2', 100, { samples: [0.1, 0.2] })), /payload\.samples: .*privacy guarantee 1/);
  assert.throws(() => s.upsert(detection('a3', 100, { span: { sensor: 's1', start: 1, frames: 2, data: [1, 2] } })), /payload\.span\.data: .*privacy guarantee 1/);
  assert.equal(s.size, 1);
});

test('stored alerts are the contract\'s fields, shortened for the console: every field the schema declares is kept, texts cut, lists and positions tidied', () => {
  const s = new AlertStore();
  const incident = { id: 'inc-1', reports: [{ sensor: 's1', detection: 'a1', label: 'glass_break', onset: 100, bearing: 42 }] };
  s.upsert(detection('a1', 100, { incident, priority: 7, location: { method: 'doa', bearing: 45, reason: 'r'.repeat(1500), sensors: Array.from({ length: 100 }, (_, i) => `s${i}`) } }));
  const a = s.get('a1')!.alert;
  // The localizer's incident and a flow's priority are contract fields: the store keeps them (an operator's move request carries them on to ptz-steer).
  assert.deepEqual(a.incident, incident);
  assert.equal(a.priority, 7);
  assert.equal(a.location?.reason?.length, 500, 'texts are cut to 500 characters');
  assert.deepEqual(a.location?.sensors, Array.from({ length: 64 }, (_, i) => `s${i}`), 'at most 64 sensors named');
  // A location always lists its sensors; a position needs its latitude and longitude; numbers are finite.
  s.upsert(detection('a2', 100, { location: { method: 'doa', bearing: Number.NaN, position: { lon: 4.39, errorM: 2 } } }));
  assert.deepEqual(s.get('a2')!.alert.location, { method: 'doa', sensors: [] });
  // Fields come in the contract's order whatever order they arrive in, so a copy sent again in another order changes nothing.
  const camera = { id: 'c1', name: 'Cam 1', pan: 1, tilt: 2, zoom: 1, target: { bearing: 45, tilt: -5 }, state: 'moving' };
  s.upsert(detection('a3', 100, { camera }));
  const reordered = Object.fromEntries(Object.entries(detection('a3', 100, { camera: Object.fromEntries(Object.entries(camera).reverse()) })).reverse());
  assert.deepEqual(s.upsert(reordered).changed, []);
  assert.deepEqual(Object.keys(s.get('a3')!.alert.camera!), ['id', 'name', 'pan', 'tilt', 'zoom', 'target', 'state']);
});

test('upsert rejects what is not a detection, naming the field', () => {
  const s = new AlertStore();
  assert.throws(() => s.upsert({ kind: 'audio' }), /payload\.kind: expected "detection"/);
  assert.throws(() => s.upsert({ ...detection('a', 1), confidence: 2 }), /payload\.confidence/);
  assert.equal(s.size, 0);
});

test('queue puts unhandled alerts first, newest first; decisions change the state', () => {
  const c = clock();
  const s = new AlertStore({ now: c.now });
  s.upsert(detection('old', 100));
  s.upsert(detection('mid', 200));
  s.upsert(detection('new', 300));
  assert.deepEqual(s.queue().map((r) => r.alert.id), ['new', 'mid', 'old']);
  const d = s.decide({ alertId: 'new', action: 'dismiss', operator: 'alice', note: '  false alarm  ' });
  assert.equal(d.kind, 'decision');
  assert.equal(d.note, 'false alarm');
  assert.equal(d.time, c.now() / 1000);
  assert.deepEqual(s.queue().map((r) => r.alert.id), ['mid', 'old', 'new']);
  s.markSeen('old', 'bob');
  assert.equal(s.get('old')!.state, 'seen');
  assert.deepEqual(s.get('old')!.seenBy, ['bob']);
  s.decide({ alertId: 'mid', action: 'escalate', operator: 'bob' });
  assert.equal(s.get('mid')!.state, 'escalated');
  assert.deepEqual(s.queue().map((r) => r.alert.id), ['old', 'new', 'mid'], 'handled ones follow, newest first');
  assert.deepEqual(s.counts(), { new: 0, seen: 1, confirmed: 0, dismissed: 1, escalated: 1 });
});

test('decide validates action, operator and the alert id', () => {
  const s = new AlertStore();
  s.upsert(detection('a1', 100));
  assert.throws(() => s.decide({ alertId: 'a1', action: 'delete', operator: 'x' }), /payload\.action: expected one of/);
  assert.throws(() => s.decide({ alertId: 'a1', action: 'confirm', operator: '' }), /payload\.operator/);
  assert.throws(() => s.decide({ alertId: 'zz', action: 'confirm', operator: 'x' }), /alertId: expected the id of an alert/);
  assert.equal(s.get('a1')!.state, 'new');
});

test('revision: a decision made on a stale view is refused, saying what happened meanwhile; one made on the current view is recorded', () => {
  const c = clock();
  const s = new AlertStore({ now: c.now });
  s.upsert(detection('g', 100));
  // Alice and Bob both see the alert undecided (revision 0). Alice escalates first.
  const alice = s.decide({ alertId: 'g', action: 'escalate', operator: 'Alice', revision: 0 });
  assert.equal(alice.revision, 0, 'the decision carries the revision it was made on');
  c.advance(400);
  // Bob's dismiss, made on the view before Alice's decision, is refused: the alert stays escalated.
  let refused: StaleDecisionError | undefined;
  try {
    s.decide({ alertId: 'g', action: 'dismiss', operator: 'Bob', note: 'nothing there', revision: 0 });
  } catch (err) {
    refused = err as StaleDecisionError;
  }
  assert.ok(refused instanceof StaleDecisionError, 'refused as stale');
  assert.equal(refused.alertId, 'g');
  assert.equal(refused.revision, 1, 'the revision to send to decide knowingly');
  assert.equal(refused.seen, 0);
  assert.equal(refused.state, 'escalated');
  assert.deepEqual(refused.latest, alice);
  assert.equal(refused.message, `alert g was decided meanwhile (Alice escalated it at ${new Date(alice.time * 1000).toISOString()}): the decision, made on the view before, is not recorded; look again and decide anew`);
  assert.equal(s.get('g')!.state, 'escalated');
  assert.equal(s.get('g')!.decisions.length, 1);
  // Asked, Bob dismisses knowingly: on the revision he was shown, it is recorded.
  const bob = s.decide({ alertId: 'g', action: 'dismiss', operator: 'Bob', revision: 1 });
  assert.equal(bob.revision, 1);
  assert.equal(s.get('g')!.state, 'dismissed');
  assert.deepEqual(s.get('g')!.decisions.map((d) => `${d.operator}:${d.action}:${d.revision}`), ['Alice:escalate:0', 'Bob:dismiss:1']);
  // A revision ahead of the alert's is no view of it either.
  assert.throws(() => s.decide({ alertId: 'g', action: 'confirm', operator: 'Carol', revision: 5 }), StaleDecisionError);
  assert.equal(s.get('g')!.decisions.length, 2);
});

test('revision: a sender without it (an older console) decides as before; an unusable one is refused, naming the field', () => {
  const s = new AlertStore();
  s.upsert(detection('g', 100));
  s.decide({ alertId: 'g', action: 'escalate', operator: 'Alice' });
  const d = s.decide({ alertId: 'g', action: 'dismiss', operator: 'Bob' });
  assert.equal(d.revision, 1, 'recorded on the revision it met');
  assert.equal(s.get('g')!.state, 'dismissed');
  for (const bad of [-1, 1.5, '1', null, Number.NaN]) {
    assert.throws(() => s.decide({ alertId: 'g', action: 'confirm', operator: 'Carol', revision: bad }), /^ContractError: revision: expected a whole number >= 0/, String(bad));
  }
  assert.equal(s.get('g')!.decisions.length, 2);
});

test('revision: decisions saved before it existed load, and keep none', () => {
  const dir = tempDir('vigie-store-');
  const file = path.join(dir, 'alerts.json');
  const s = new AlertStore({ file });
  s.upsert(detection('a1', 100));
  s.decide({ alertId: 'a1', action: 'confirm', operator: 'alice' });
  const saved = JSON.parse(fs.readFileSync((s.save(), file), 'utf8'));
  delete saved.alerts[0].decisions[0].revision;
  fs.writeFileSync(file, JSON.stringify(saved));
  const s2 = new AlertStore({ file });
  assert.equal(s2.load().restored, 1);
  assert.equal(s2.get('a1')!.decisions.length, 1);
  assert.equal(s2.get('a1')!.decisions[0].revision, undefined);
  // ... and the next decision is checked against the count as it is.
  assert.throws(() => s2.decide({ alertId: 'a1', action: 'escalate', operator: 'bob', revision: 0 }), StaleDecisionError);
  assert.equal(s2.decide({ alertId: 'a1', action: 'escalate', operator: 'bob', revision: 1 }).revision, 1);
});

test('retention drops old alerts and the cap drops the oldest handled ones first', () => {
  const c = clock();
  const s = new AlertStore({ now: c.now, monotonicNow: c.mono, retentionMs: 60_000, maxAlerts: 3 });
  s.upsert(detection('a', 1));
  c.advance(30_000);
  s.upsert(detection('b', 2));
  c.advance(40_000);
  assert.deepEqual(s.prune(), ['a']);
  s.decide({ alertId: 'b', action: 'confirm', operator: 'x' });
  s.upsert(detection('c', 3));
  s.upsert(detection('d', 4));
  const r = s.upsert(detection('e', 5));
  assert.deepEqual(s.queue().map((r) => r.alert.id).sort(), ['c', 'd', 'e']);
  assert.deepEqual(r.droppedUnhandled, [], 'a handled alert made room: nothing unhandled lost');
});

test('over the cap with only unhandled alerts: the oldest arrival goes, however recently enriched, and each is returned to be told', () => {
  const c = clock();
  const s = new AlertStore({ now: c.now, maxAlerts: 3 });
  s.upsert(detection('old', 1));
  c.advance(1000);
  s.upsert(detection('seen', 2));
  s.markSeen('seen', 'alice');
  c.advance(1000);
  s.upsert(detection('handled', 3));
  s.decide({ alertId: 'handled', action: 'dismiss', operator: 'alice' });
  c.advance(1000);
  // A handled alert is there: it makes room, nothing unhandled is lost.
  assert.deepEqual(s.upsert(detection('n4', 4)).droppedUnhandled, []);
  assert.equal(s.get('handled'), undefined);
  c.advance(1000);
  // Only unhandled alerts left: the oldest arrival goes, though enriched after the others came.
  s.upsert(detection('old', 1, { location: { method: 'doa', bearing: 5, sensors: ['s1'] } }));
  let r = s.upsert(detection('n5', 5));
  assert.deepEqual(r.droppedUnhandled.map((d) => [d.alert.id, d.state, d.alert.label]), [['old', 'new', 'glass_break']]);
  c.advance(1000);
  r = s.upsert(detection('n6', 6));
  assert.deepEqual(r.droppedUnhandled.map((d) => [d.alert.id, d.state]), [['seen', 'seen']], 'one an operator opened is no safer');
  assert.deepEqual(s.queue().map((q) => q.alert.id), ['n6', 'n5', 'n4'], 'the newest alert is kept');

  // A cap lowered since the file was written drops at load, and says which.
  const dir = tempDir('vigie-store-cap-');
  const file = path.join(dir, 'alerts.json');
  const big = new AlertStore({ now: c.now, file, maxAlerts: 10 });
  for (let i = 1; i <= 5; i++) {
    big.upsert(detection(`k${i}`, i));
    c.advance(1000);
  }
  big.save();
  const small = new AlertStore({ now: c.now, file, maxAlerts: 3 });
  const loaded = small.load();
  assert.equal(loaded.restored, 3);
  assert.deepEqual(loaded.droppedUnhandled.map((d) => d.alert.id), ['k1', 'k2']);
});

test('save writes atomically and load restores state and decisions within retention', () => {
  const dir = tempDir('vigie-store-');
  const file = path.join(dir, 'alerts.json');
  const c = clock();
  const s = new AlertStore({ now: c.now, file, retentionMs: 3_600_000 });
  s.upsert(detection('a1', 100));
  s.upsert(detection('a2', 200));
  s.decide({ alertId: 'a1', action: 'confirm', operator: 'alice', note: 'window broken' });
  s.save();
  assert.deepEqual(fs.readdirSync(dir), ['alerts.json'], 'no temp file left behind');
  c.advance(1000);
  const s2 = new AlertStore({ now: c.now, file, retentionMs: 3_600_000 });
  assert.equal(s2.load().restored, 2);
  assert.equal(s2.get('a1')!.state, 'confirmed');
  assert.equal(s2.get('a1')!.decisions[0].note, 'window broken');
  assert.deepEqual(s2.queue().map((r) => r.alert.id), ['a2', 'a1']);

  // A camera move that only the running ptz-steer would have carried out is not restored as pending.
  const cam = (state: string) => ({ camera: { id: 'c1', name: 'Cam 1', pan: 1, tilt: 2, zoom: 1, target: { bearing: 45, tilt: -5 }, state } });
  s2.upsert(detection('w', 300, { camera: { ...cam('waiting').camera, reason: 'camera Cam 1 is busy with gunshot alert a1', heldFor: 'a1' } }));
  s2.upsert(detection('p', 301, cam('proposed')));
  s2.recordMoveRequest('p', 'alice');
  s2.upsert(detection('o', 302, cam('on-target')));
  s2.upsert(detection('r', 303, { camera: { ...cam('released').camera, reason: 'camera Cam 1 looked here, then turned to gunshot alert a1', heldFor: 'a1' } }));
  s2.recordMoveRequest('r', 'bob');
  s2.upsert(detection('u', 304, { camera: { ...cam('unavailable').camera, reason: 'no camera was free within 5 min (camera Cam 1 is busy with gunshot alert a1)', heldFor: 'a1' } }));
  s2.save();
  const s4 = new AlertStore({ now: c.now, file, retentionMs: 3_600_000 });
  assert.equal(s4.load().restored, 7);
  // A wait that ended is no fault of a camera: no camera available, not failed.
  // (the holder ptz-steer named went with its memory: no heldFor)
  assert.deepEqual(s4.get('w')!.alert.camera, { ...cam('waiting').camera, state: 'unavailable', reason: 'Node-RED restarted: its wait for a busy camera ended' });
  assert.equal(s4.get('p')!.alert.camera!.state, 'failed');
  assert.equal(s4.get('p')!.alert.camera!.reason, 'Node-RED restarted: the proposed camera move was lost');
  assert.equal(s4.get('p')!.moveRequest, undefined);
  assert.deepEqual(s4.get('o')!.alert.camera, { ...cam('on-target').camera, state: 'released', reason: 'Node-RED restarted: camera Cam 1 looked here, and may have turned since' });
  assert.equal(s4.get('r')!.alert.camera!.state, 'released', 'a release is an end, not a promise');
  assert.equal(s4.get('r')!.moveRequest, undefined, 'its Look again may be asked anew: the request died with the restart');
  // states that stay as they were keep their reason (what was), not heldFor (what is, which ptz-steer forgot)
  for (const x of ['r', 'u']) {
    const restored = s4.get(x)!.alert.camera!;
    assert.match(restored.reason!, /alert a1/, `${x}: its reason kept`);
    assert.equal('heldFor' in restored, false, `${x}: no heldFor after a restart`);
  }

  // Restarted by a deploy, Node-RED still running: ptz-steer kept (or handed over) its waits,
  // proposals and holds, so what was saved is still true and is restored as it was.
  const s5 = new AlertStore({ now: c.now, file, retentionMs: 3_600_000 });
  assert.equal(s5.load({ sameRun: true }).restored, 7);
  for (const x of ['w', 'p', 'o', 'r', 'u']) assert.deepEqual(s5.get(x)!.alert.camera, s2.get(x)!.alert.camera, `${x}: as saved`);
  assert.equal(s5.get('w')!.alert.camera!.heldFor, 'a1');
  // A move request in flight at the deploy may have lost its answer: the button comes back.
  assert.equal(s5.get('p')!.moveRequest, undefined);

  c.advance(2 * 3_600_000);
  const s3 = new AlertStore({ now: c.now, file, retentionMs: 3_600_000 });
  assert.equal(s3.load().restored, 0, 'alerts past retention are not restored');
});

test('a file that cannot be used (another version, not JSON, unreadable) is set aside, named for why and when, and the next save does not overwrite it', () => {
  const dir = tempDir('vigie-store-aside-');
  const file = path.join(dir, 'alerts.json');
  const c = clock(Date.UTC(2026, 10, 28, 14, 3, 12, 512));
  const cases: [string, string | null, RegExp][] = [
    ['{"version":2,"alerts":[{"alert":{"id":"from-a-newer-vigie"}}]}', 'alerts.json.version-2-2026-11-28T14-03-12Z', /written in version 2 of the alert store format, this Vigie reads version 1/],
    ['{"version":1,"alerts":[{"alert":', 'alerts.json.corrupt-2026-11-28T14-03-12Z', /could not read the alerts saved before \(.*JSON/],
    ['{"version":1,"alerts":{}}', 'alerts.json.corrupt-2026-11-28T14-03-12Z-2', /no list of alerts/],
    ['null', 'alerts.json.corrupt-2026-11-28T14-03-12Z-3', /not an alert store file/],
    // A directory where the file should be cannot be read: it is moved aside all the same.
    ['<dir>', 'alerts.json.unreadable-2026-11-28T14-03-12Z', /could not read the alerts saved before \(EISDIR/],
  ];
  for (const [content, asideName, problem] of cases) {
    if (content === '<dir>') fs.mkdirSync(file);
    else fs.writeFileSync(file, content);
    const s = new AlertStore({ now: c.now, file });
    const err = (() => {
      try {
        s.load();
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    assert.ok(err instanceof UnreadableStoreError, `${content}: ${String(err)}`);
    assert.match(err.message, problem);
    assert.equal(err.setAsideAs, path.join(dir, asideName!));
    assert.match(err.message, new RegExp(`^alerts\\.json: .*; set aside as ${asideName!.replace(/\./g, '\\.')}, as it was$`));
    assert.equal(fs.existsSync(file), false, 'moved, not copied');
    if (content !== '<dir>') assert.equal(fs.readFileSync(err.setAsideAs!, 'utf8'), content, 'kept as it was');
    // The store starts empty and saves afresh; what was set aside stays as it was.
    s.upsert(detection('after', 100));
    s.save();
    assert.equal(new AlertStore({ now: c.now, file }).load().restored, 1);
    fs.rmSync(file);
  }
  assert.equal(fs.readdirSync(dir).length, cases.length, 'one file set aside per case, none overwritten');
});

test('a file that can be neither read nor set aside is never saved over: saves are refused until it is moved away', () => {
  const dir = tempDir('vigie-store-stuck-');
  // A name so long that no longer name fits beside it (NAME_MAX): the rename aside fails.
  const file = path.join(dir, `${'a'.repeat(240)}.json`);
  const old = '{"version":7,"alerts":[]}';
  fs.writeFileSync(file, old);
  const s = new AlertStore({ file });
  assert.throws(
    () => s.load(),
    (e: unknown) => e instanceof UnreadableStoreError && e.setAsideAs === undefined && /could not be set aside either \(ENAMETOOLONG.*alerts are not saved over it until it is moved away$/.test(e.message),
  );
  s.upsert(detection('a1', 100));
  assert.throws(() => s.save(), /^Error: a+\.json could not be read nor set aside \(written in version 7 .*\): not saved over it; move it away and alerts are saved again$/);
  assert.equal(fs.readFileSync(file, 'utf8'), old, 'untouched');
  // Moved away by hand: saving goes on.
  fs.renameSync(file, path.join(dir, 'kept.json'));
  s.save();
  assert.equal(new AlertStore({ file }).load().restored, 1);
});

test('alerts or decisions of the file that do not validate are left out, counted, and the file as it was is copied aside', () => {
  const dir = tempDir('vigie-store-partly-');
  const file = path.join(dir, 'alerts.json');
  const c = clock(Date.UTC(2026, 10, 28, 14, 3, 12));
  const s = new AlertStore({ now: c.now, file });
  s.upsert(detection('good', 100));
  s.upsert(detection('bad', 200));
  s.decide({ alertId: 'good', action: 'confirm', operator: 'alice' });
  const saved = s.toJSON() as unknown as { alerts: { alert: Record<string, unknown>; decisions: Record<string, unknown>[] }[] };
  saved.alerts.find((r) => r.alert.id === 'bad')!.alert.confidence = 7;
  saved.alerts.find((r) => r.alert.id === 'good')!.decisions[0].action = 'shrug';
  const text = JSON.stringify(saved);
  fs.writeFileSync(file, text);
  const r = new AlertStore({ now: c.now, file }).load();
  assert.equal(r.restored, 1);
  assert.deepEqual({ ...r.leftOut, firstReason: undefined }, { alerts: 1, decisions: 1, firstReason: undefined, copy: path.join(dir, 'alerts.json.partly-restored-2026-11-28T14-03-12Z') });
  assert.match(r.leftOut!.firstReason, /^a decision of alert good: .*action/);
  assert.equal(fs.readFileSync(r.leftOut!.copy!, 'utf8'), text, 'copied as it was');
  assert.equal(fs.readFileSync(file, 'utf8'), text, 'the file itself stays until the next save');
});

test('a save that fails throws its cause, leaves no temporary file, and the next save after the cause is gone writes everything', () => {
  const dir = tempDir('vigie-store-savefail-');
  const file = path.join(dir, 'alerts.json');
  const s = new AlertStore({ file });
  s.upsert(detection('a1', 100));
  s.save();
  // Where the file goes stands a directory now (as a mistaken copy or a bind mount leaves it).
  fs.rmSync(file);
  fs.mkdirSync(file);
  s.upsert(detection('a2', 200));
  assert.throws(() => s.save(), (e: NodeJS.ErrnoException) => e.code === 'EISDIR');
  assert.deepEqual(fs.readdirSync(dir), ['alerts.json'], 'no temporary file left');
  fs.rmdirSync(file);
  s.save();
  assert.equal(new AlertStore({ file }).load().restored, 2);
});

// Clocks of boxes without a real-time clock: the wall clock reads 1970 (or the last shutdown)
// until NTP steps it, possibly hours later; NTP may also step it back.

const DAY_MS = 86_400_000;
const SYNCED_MS = Date.UTC(2026, 10, 30, 7, 2, 0);

test('an alert received while the clock read 1970 is not expired by the NTP step: it is as old as it was really held', () => {
  const c = clock(Date.UTC(1970, 0, 1, 0, 3, 0));
  const s = new AlertStore({ now: c.now, monotonicNow: c.mono, retentionMs: 7 * DAY_MS });
  s.upsert(detection('before-sync', SYNCED_MS / 1000 - 60));
  c.advance(30_000);
  c.step(SYNCED_MS);
  assert.deepEqual(s.prune(), [], 'held 30 s: not 56 years old');
  assert.deepEqual(s.takeExpiredUnhandled(), []);
  assert.deepEqual(s.queue().map((r) => [r.alert.id, r.state]), [['before-sync', 'new']]);
  // A forward step of days (a box off for a while, clock at its last shutdown) does not age it either.
  c.step(SYNCED_MS + 30 * DAY_MS);
  assert.deepEqual(s.prune(), []);
  // Held past the retention period for real: it goes, and is told.
  c.advance(7 * DAY_MS);
  assert.deepEqual(s.prune(), ['before-sync']);
  assert.deepEqual(s.takeExpiredUnhandled().map((r) => r.alert.id), ['before-sync']);
});

test('an alert received while the clock read the last shutdown time (fake-hwclock, weeks ago) is not expired by the NTP step', () => {
  const c = clock(SYNCED_MS - 30 * DAY_MS);
  const s = new AlertStore({ now: c.now, monotonicNow: c.mono, retentionMs: 7 * DAY_MS });
  s.upsert(detection('stale-clock', SYNCED_MS / 1000 - 60));
  c.advance(60_000);
  c.step(SYNCED_MS);
  assert.deepEqual(s.prune(), [], 'held a minute: not 30 days old');
  s.upsert(detection('after-sync', SYNCED_MS / 1000));
  assert.deepEqual(s.takeExpiredUnhandled(), [], 'an arrival prunes too: nothing expired');
  assert.equal(s.size, 2);
});

test('an alert received before an NTP step is saved with its real age: after a restart it is kept, and expires on time', () => {
  const dir = tempDir('vigie-store-step-');
  const file = path.join(dir, 'alerts.json');
  const c = clock(Date.UTC(1970, 0, 1, 0, 3, 0));
  const s = new AlertStore({ now: c.now, monotonicNow: c.mono, file, retentionMs: 7 * DAY_MS });
  s.upsert(detection('before-sync', SYNCED_MS / 1000 - 60));
  c.advance(60_000);
  c.step(SYNCED_MS);
  s.save();
  const saved = JSON.parse(fs.readFileSync(file, 'utf8'));
  assert.equal(saved.version, 1, 'the same file format');
  assert.equal(saved.alerts[0].updatedMs, SYNCED_MS - 60_000, 'its last update, as the clock reads now');
  assert.equal(saved.alerts[0].receivedMs, Date.UTC(1970, 0, 1, 0, 3, 0), 'the arrival as stamped then');

  const restarted = clock(SYNCED_MS + DAY_MS);
  const s2 = new AlertStore({ now: restarted.now, monotonicNow: restarted.mono, file, retentionMs: 7 * DAY_MS });
  assert.equal(s2.load().restored, 1);
  assert.deepEqual(s2.takeExpiredUnhandled(), []);
  restarted.advance(6 * DAY_MS - 120_000);
  assert.deepEqual(s2.prune(), [], 'not yet 7 days since its last update');
  restarted.advance(120_000);
  assert.deepEqual(s2.prune(), ['before-sync'], '7 days after its last update, by the clock');
});

test('an alert saved while the clock still read 1970 is kept after a restart with the clock set, and ages from the load', () => {
  const dir = tempDir('vigie-store-unset-');
  const file = path.join(dir, 'alerts.json');
  const c = clock(Date.UTC(1970, 0, 1, 0, 3, 0));
  const s = new AlertStore({ now: c.now, monotonicNow: c.mono, file, retentionMs: 7 * DAY_MS });
  s.upsert(detection('unset-clock', SYNCED_MS / 1000));
  s.save();
  assert.equal(JSON.parse(fs.readFileSync(file, 'utf8')).alerts[0].updatedMs, Date.UTC(1970, 0, 1, 0, 3, 0), 'written as stamped: no clock to say better');

  const restarted = clock(SYNCED_MS);
  const s2 = new AlertStore({ now: restarted.now, monotonicNow: restarted.mono, file, retentionMs: 7 * DAY_MS });
  assert.equal(s2.load().restored, 1, 'a time before any real one tells no age: not expired');
  restarted.advance(7 * DAY_MS + 1);
  assert.deepEqual(s2.prune(), ['unset-clock'], 'held 7 days since the load: gone');
});

test('an alert loaded from the file keeps the wall-clock rule: loaded while the clock read 1970, it is judged by its saved time once NTP sets the clock', () => {
  const dir = tempDir('vigie-store-loadunset-');
  const file = path.join(dir, 'alerts.json');
  const c = clock(SYNCED_MS);
  const s = new AlertStore({ now: c.now, monotonicNow: c.mono, file, retentionMs: 7 * DAY_MS });
  s.upsert(detection('six-days-old', SYNCED_MS / 1000));
  s.save();

  const booted = clock(Date.UTC(1970, 0, 1, 0, 0, 30));
  const s2 = new AlertStore({ now: booted.now, monotonicNow: booted.mono, file, retentionMs: 7 * DAY_MS });
  assert.equal(s2.load().restored, 1, 'the clock tells nothing yet: kept');
  booted.advance(60_000);
  booted.step(SYNCED_MS + 6 * DAY_MS);
  assert.deepEqual(s2.prune(), [], 'six days old by its saved time');
  booted.step(SYNCED_MS + 7 * DAY_MS + 1000);
  assert.deepEqual(s2.prune(), ['six-days-old'], 'past 7 days by its saved time, though held two minutes here');
});

test('an alert stamped in the future (the clock stepped back) does not live forever: it ages from its load, and is saved with that age', () => {
  const dir = tempDir('vigie-store-future-');
  const file = path.join(dir, 'alerts.json');
  // Stamped by a clock a year fast, then NTP set it right.
  const fast = clock(SYNCED_MS + 365 * DAY_MS);
  const s = new AlertStore({ now: fast.now, monotonicNow: fast.mono, file, retentionMs: 7 * DAY_MS });
  s.upsert(detection('from-the-future', SYNCED_MS / 1000));
  s.save();

  const c = clock(SYNCED_MS);
  const s2 = new AlertStore({ now: c.now, monotonicNow: c.mono, file, retentionMs: 7 * DAY_MS });
  assert.equal(s2.load().restored, 1);
  c.advance(3 * DAY_MS);
  assert.deepEqual(s2.prune(), []);
  s2.save();
  assert.equal(JSON.parse(fs.readFileSync(file, 'utf8')).alerts[0].updatedMs, SYNCED_MS, 'saved as held 3 days, not a year ahead');
  // A restart does not start its age again.
  const later = clock(SYNCED_MS + 3 * DAY_MS);
  const s3 = new AlertStore({ now: later.now, monotonicNow: later.mono, file, retentionMs: 7 * DAY_MS });
  assert.equal(s3.load().restored, 1);
  later.advance(4 * DAY_MS + 1);
  assert.deepEqual(s3.prune(), ['from-the-future'], '7 days held in all');

  // In this process too: received by the fast clock, kept only as long as really held.
  const here = clock(SYNCED_MS + 365 * DAY_MS);
  const s4 = new AlertStore({ now: here.now, monotonicNow: here.mono, retentionMs: 7 * DAY_MS });
  s4.upsert(detection('fast-clock', SYNCED_MS / 1000));
  here.step(SYNCED_MS);
  here.advance(7 * DAY_MS + 1);
  assert.deepEqual(s4.prune(), ['fast-clock']);
});

test('over the cap, the handled alert held longest goes first, whatever the clock said at its decision', () => {
  // A clock a day fast at the first decision, stepped back before the second: by their stamps
  // the first decision looks the later one.
  const c = clock(SYNCED_MS + DAY_MS);
  const s = new AlertStore({ now: c.now, monotonicNow: c.mono, maxAlerts: 2 });
  s.upsert(detection('decided-first', 1));
  s.decide({ alertId: 'decided-first', action: 'dismiss', operator: 'alice' });
  c.advance(60_000);
  c.step(SYNCED_MS);
  s.upsert(detection('decided-later', 2));
  s.decide({ alertId: 'decided-later', action: 'dismiss', operator: 'alice' });
  c.advance(1000);
  s.upsert(detection('new-one', 3));
  assert.deepEqual(s.queue().map((r) => r.alert.id), ['new-one', 'decided-later']);
});

test('over the cap with only unhandled alerts: the lowest priority goes first (ptz-steer\'s order), then the oldest, the arriving alert last among its equals; later copies of a dropped alert do not come back', () => {
  const c = clock();
  const s = new AlertStore({ now: c.now, maxAlerts: 4 });
  const add = (id: string, label: string, extra: Record<string, unknown> = {}) => {
    c.advance(1000);
    return s.upsert(detection(id, c.now() / 1000, { label, scores: { [label]: 0.9 }, ...extra }));
  };
  // an old, unseen scream and gunshot, then fireworks (explosions) and a tire skid
  add('scream-old', 'scream');
  add('gun-old', 'gunshot');
  add('fw-1', 'explosion');
  add('skid', 'tire_skid');
  // full: the tire skid (priority 1) goes before the older scream (4)
  assert.deepEqual(add('fw-2', 'explosion').droppedUnhandled.map((d) => d.alert.id), ['skid']);
  // then the scream (4) before the explosions and the gunshot (5), though they are newer
  assert.deepEqual(add('fw-3', 'explosion').droppedUnhandled.map((d) => d.alert.id), ['scream-old']);
  // equal priority: the oldest arrival (the gunshot came before the fireworks)
  assert.deepEqual(add('fw-4', 'explosion').droppedUnhandled.map((d) => d.alert.id), ['gun-old']);
  // a flow's own priority (alert.priority, as ptz-steer reads it) counts too
  assert.deepEqual(add('vip', 'glass_break', { priority: 9 }).droppedUnhandled.map((d) => d.alert.id), ['fw-1']);
  // the alert arriving is the newest of its priority, not more: below every alert kept, it is the one dropped
  // (a tyre skid arriving never pushes out an unhandled scream); it was raised, and is told as dropped
  const low = add('low', 'tire_skid');
  assert.equal(low.isNew, true);
  assert.deepEqual(low.droppedUnhandled.map((d) => d.alert.id), ['low']);
  assert.equal(s.get('low'), undefined);
  // among equals it stays: an explosion arriving drops the oldest explosion
  assert.deepEqual(add('fw-5', 'explosion').droppedUnhandled.map((d) => d.alert.id), ['fw-2']);
  assert.ok(s.get('fw-5'));
  // the tire skid's camera comes a second later: not a new alert again
  const copy = s.upsert(detection('low', 1, { label: 'tire_skid', camera: { id: 'c', name: 'c', pan: 0, tilt: 0, zoom: 0, target: { bearing: 1, tilt: 0 }, state: 'on-target' } }));
  assert.equal(copy.alreadyDropped, true);
  assert.equal(copy.isNew, false);
  assert.equal(s.get('low'), undefined);
  assert.deepEqual(s.queue().map((r) => r.alert.id).sort(), ['fw-3', 'fw-4', 'fw-5', 'vip']);
});

test('the unhandled alerts the cap dropped are counted, the last few named, until acknowledged as read; saved with the queue', () => {
  const c = clock();
  const dir = tempDir('vigie-store-dropped-');
  const file = path.join(dir, 'alerts.json');
  const s = new AlertStore({ now: c.now, maxAlerts: 2, file });
  assert.equal(s.droppedNotice(), undefined);
  for (let i = 1; i <= 9; i++) {
    c.advance(1000);
    s.upsert(detection(`d${i}`, 1000 + i));
  }
  const n = s.droppedNotice()!;
  assert.equal(n.count, 7);
  assert.equal(n.upTo, 7);
  assert.equal(n.maxAlerts, 2);
  assert.deepEqual(n.recent.map((d) => d.id), ['d7', 'd6', 'd5', 'd4', 'd3'], 'the last five, newest first');
  assert.deepEqual(n.recent[0], { id: 'd7', label: 'glass_break', onset: 1007, state: 'new', droppedMs: c.now() });
  // one more is dropped after the operator read the notice: acknowledging what was read leaves it
  c.advance(1000);
  s.upsert(detection('d10', 1010));
  assert.equal(s.acknowledgeDropped(n.upTo), 7);
  assert.deepEqual({ count: s.droppedNotice()!.count, ids: s.droppedNotice()!.recent.map((d) => d.id) }, { count: 1, ids: ['d8'] });
  assert.equal(s.acknowledgeDropped(n.upTo), 0, 'a repeated acknowledgement changes nothing');
  // a restart keeps what is not acknowledged
  s.save();
  const s2 = new AlertStore({ now: c.now, maxAlerts: 2, file });
  s2.load();
  assert.deepEqual(s2.droppedNotice(), s.droppedNotice());
  assert.equal(s2.acknowledgeDropped(1000), 1, 'never past what was dropped');
  assert.equal(s2.droppedNotice(), undefined);
});

test('an operator opening an alert already decided leaves its decision: only a new alert becomes seen', () => {
  const s = new AlertStore({ now: clock().now });
  s.upsert(detection('confirmed', 1));
  s.decide({ alertId: 'confirmed', action: 'confirm', operator: 'alice' });
  s.upsert(detection('unseen', 2));
  s.markSeen('confirmed', 'bob');
  s.markSeen('unseen', 'bob');
  assert.equal(s.get('confirmed')!.state, 'confirmed', 'opened by another operator, still confirmed (not back among the unhandled)');
  assert.deepEqual(s.get('confirmed')!.seenBy, ['bob']);
  assert.equal(s.get('unseen')!.state, 'seen');
  assert.deepEqual(s.queue().map((r) => r.alert.id), ['unseen', 'confirmed']);
});

test('over the cap with a wall clock stepped back before an alert arrives: the arriving alert stays, the oldest arrival goes', () => {
  const c = clock(SYNCED_MS);
  const s = new AlertStore({ now: c.now, monotonicNow: c.mono, maxAlerts: 2 });
  s.upsert(detection('first', 1));
  c.advance(1000);
  s.upsert(detection('second', 2));
  c.advance(1000);
  // NTP steps the clock back an hour: the alert arriving now has the smallest arrival stamp.
  c.step(SYNCED_MS - 3_600_000);
  const r = s.upsert(detection('arriving', 3));
  assert.deepEqual(r.droppedUnhandled.map((d) => d.alert.id), ['first']);
  assert.ok(s.get('arriving'), 'the alert arriving is kept');
});

test('an alert whose later stage\'s part the console cannot show, once tidied, is kept without that part, which a warning names (a camera without its pan, a video without its link)', () => {
  const warnings: string[] = [];
  const s = new AlertStore({ warnDropped: (w) => warnings.push(w) });
  const camera = { id: 'c1', name: 'Cam 1', pan: 1, tilt: 2, zoom: 1, target: { bearing: 45, tilt: -5 }, state: 'moving' };
  const video = { live: '/vigie/video/c1/live', until: 5 };
  s.upsert(detection('a1', 100, { camera: { ...camera, pan: Number.NaN }, video }));
  s.upsert(detection('a2', 100, { camera: { ...camera, state: 'dancing' } }));
  s.upsert(detection('a3', 100, { camera, video: { live: Number.NaN, until: 5 } }));
  assert.equal(s.size, 3, 'operators get every alert');
  assert.equal(s.get('a1')!.alert.camera, undefined);
  assert.deepEqual(s.get('a1')!.alert.video, video);
  assert.equal(s.get('a2')!.alert.camera, undefined);
  assert.deepEqual(s.get('a3')!.alert.camera, camera);
  assert.equal(s.get('a3')!.alert.video, undefined);
  for (const f of ['payload.camera.pan (expected a finite number; the whole camera left out)', 'payload.camera.state (expected one of "moving"', 'payload.video.live (expected a string; the whole video left out)']) {
    assert.ok(warnings.some((w) => w.includes(f)), `${f} in ${warnings.join(' | ')}`);
  }
  // An empty live link is no link: the console plays the MJPEG one, so the video is kept.
  const mjpegOnly = { live: '', mjpeg: '/vigie/video/c1/mjpeg', until: 5 };
  s.upsert(detection('a5', 100, { camera, video: mjpegOnly }));
  assert.deepEqual(s.get('a5')!.alert.video, mjpegOnly);
  // What can be tidied still is (see above): a NaN bearing left out, the sensors listed.
  s.upsert(detection('a4', 100, { camera, location: { method: 'doa', bearing: Number.NaN } }));
  assert.deepEqual(s.get('a4')!.alert.location, { method: 'doa', sensors: [] });
});
