/**
 * PtzSteer across a stop of the flows without a deploy: what it had in progress is written to
 * its file (stopItemsOf, stopLooksOf, StopFiles) and taken by its next start (resumeAfterStop):
 * recent alerts resumed, older ones sent as ending, "Node-RED stopped: …"; cameras turned to an
 * alert go home when their quiet period would have ended. With stand-in cameras.
 */
import { test, TestContext } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import { checkStopItem, isStopLook, PtzSteer, SteerHandOver, SteerOutput, SteerStopEntry, SteerStopItem, SteerStopLook, keptMessageOf, stopEntryOlderBy, STOP_MESSAGE_MAX_BYTES, STOP_RESUME_MAX_AGE_MS, stopItemsOf, stopLooksOf } from '../../lib/camera/steer';
import { destination } from '../../lib/camera/geometry';
import { monotonicMs } from '../../lib/util/clock';
import { StopFiles } from '../../lib/util/stop-file';
import { waitFor } from '../support/wait';
import { tempDir } from '../support/tmp';
import { asConns, cameraAt, FakeCamera, ORIGIN, steerAlert } from '../support/fake-ptz-camera';

const OPTS = { pollMs: 10, returnHomeAfterMs: 0, minLookMs: 0 };
const HOLDING = { ...OPTS, returnHomeAfterMs: 600_000 };
const files = new StopFiles<SteerStopEntry>('ptz-steer', checkStopItem);

/** The emit of the message that brought an alert, and its topic (what the node keeps of the message). */
function input(topic: string) {
  const outs: SteerOutput[] = [];
  const emit = (o: SteerOutput) => outs.push(o);
  return { outs, emit, topic };
}

/**
 * The stop and the next start: the hand-over written to the file and read back, as the node
 * does; what the next instance takes (`entries`: the alerts, `items`, and the cameras' looks,
 * `looks`), and the outputs it sends them on (by topic).
 */
function throughFile(
  h: SteerHandOver,
  topics: Map<unknown, string>,
): { entries: SteerStopEntry[]; items: SteerStopItem[]; looks: SteerStopLook[]; outs: Array<SteerOutput & { topic?: string }>; emitOf: (item: SteerStopEntry) => (o: SteerOutput) => void } {
  const dir = tempDir('vigie-steer-stop-');
  try {
    const nowMs = monotonicMs();
    const messageOf = (e: unknown) => (topics.has(e) ? { topic: topics.get(e) } : undefined);
    files.write(dir, { nodeId: 'steer', stoppedAtMs: Date.now(), items: [...stopLooksOf(h, nowMs, messageOf), ...stopItemsOf(h, nowMs, messageOf)] });
    const taken = files.take(dir, 'steer', Date.now());
    assert.ok(taken);
    assert.equal(taken.refused, 0, taken.firstRefusal);
    assert.equal(fs.existsSync(files.fileOf(dir, 'steer')), false, 'the file is taken');
    const outs: Array<SteerOutput & { topic?: string }> = [];
    const entries = taken.items;
    return {
      entries,
      items: entries.filter((e): e is SteerStopItem => !isStopLook(e)),
      looks: entries.filter(isStopLook),
      outs,
      emitOf: (item) => (o) => outs.push({ ...o, topic: item.topic }),
    };
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
  const { entries, items, outs, emitOf } = throughFile(h, topics);
  assert.deepEqual(
    items.map((i) => [i.alert.id, i.state, i.camera?.id, i.topic]),
    [['glass', 'moving', 'a', 'street/glass']],
  );
  const next = new PtzSteer(asConns([a]), OPTS);
  try {
    const r = await next.resumeAfterStop(entries, 20_000, emitOf);
    assert.deepEqual(r, { resumed: 1, ended: 0, looks: 0, camerasGone: [] });
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
  const { entries, items, outs, emitOf } = throughFile(h, topics);
  const next = new PtzSteer(asConns([a]), OPTS);
  try {
    const r = await next.resumeAfterStop(entries, STOP_RESUME_MAX_AGE_MS + 1000, emitOf);
    assert.deepEqual(r, { resumed: 0, ended: 1, looks: 0, camerasGone: [] });
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
  const { entries, items, outs, emitOf } = throughFile(h, topics);
  const next = new PtzSteer(asConns([a]), OPTS);
  try {
    assert.deepEqual(await next.resumeAfterStop(entries, undefined, emitOf), { resumed: 0, ended: 1, looks: 0, camerasGone: [] });
    assert.equal(outs[0].payload.camera?.state, 'failed');
    assert.equal(a.moves.length, 1);
  } finally {
    next.close();
  }
});

test('stopped with an alert waiting for a busy camera: started again 10 s later, the hold on the camera goes on and the alert waits again; too old, it is sent unavailable', async () => {
  for (const stoppedForMs of [10_000, STOP_RESUME_MAX_AGE_MS + 1]) {
    const a = new FakeCamera(cameraAt('a', 0, 5), 0);
    const old = new PtzSteer(asConns([a]), HOLDING);
    const gun = input('street/gun');
    const glass = input('street/glass');
    await old.handle(steerAlert('gun', 'gunshot', destination(ORIGIN, 0, 40)), gun.emit);
    await old.handle(steerAlert('glass', 'glass_break', destination(ORIGIN, 90, 40)), glass.emit);
    assert.equal(glass.outs[glass.outs.length - 1].payload.camera?.state, 'waiting');
    const { entries, items, looks, outs, emitOf } = throughFile(
      old.handOver(),
      new Map<unknown, string>([
        [gun.emit, gun.topic],
        [glass.emit, glass.topic],
      ]),
    );
    // The gunshot was on target: no alert in progress, but camera a looks at it, held for it.
    assert.deepEqual(items.map((i) => [i.alert.id, i.state, i.camera?.state]), [['glass', 'waiting', 'waiting']]);
    assert.deepEqual(looks.map((l) => [l.cameraId, l.alert?.id, l.topic, l.hold?.alertId, l.home?.alertId]), [['a', 'gun', 'street/gun', 'gun', 'gun']]);
    const next = new PtzSteer(asConns([a]), HOLDING);
    try {
      const r = await next.resumeAfterStop(entries, stoppedForMs, emitOf);
      assert.equal(r.looks, 1);
      const sent = outs.map((o) => [o.port, o.payload.id, o.payload.camera?.state, o.payload.camera?.reason]);
      if (stoppedForMs < STOP_RESUME_MAX_AGE_MS) assert.deepEqual(sent, [[1, 'glass', 'waiting', 'camera a is busy with a gunshot alert; waiting up to 5 min for it to be free']]);
      else assert.deepEqual(sent, [[1, 'glass', 'unavailable', 'Node-RED stopped: its wait for a busy camera ended']]);
      assert.equal(a.moves.length, 1, 'camera a stays on the gunshot');
      assert.equal(a.homes, 0, 'its quiet period (10 min) is not over');
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
    const { entries, items, outs, emitOf } = throughFile(old.handOver(), new Map([[p.emit, p.topic]]));
    assert.deepEqual(items.map((i) => [i.alert.id, i.state, i.camera?.id]), [['p1', 'proposed', 'a']]);
    const next = new PtzSteer(asConns([a]), confirm);
    try {
      await next.resumeAfterStop(entries, stoppedForMs, emitOf);
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
  const { entries, items, outs, emitOf } = throughFile(old.handOver(), new Map([[p.emit, p.topic]]));
  const next = new PtzSteer(asConns([b]), confirm);
  try {
    await next.resumeAfterStop(entries, 5000, emitOf);
    assert.deepEqual(outs.map((o) => [o.payload.camera?.id, o.payload.camera?.state, o.payload.camera?.reason]), [['b', 'proposed', 'Node-RED restarted: camera b now instead of a']]);
  } finally {
    next.close();
  }
});

test('an alert that came to the new instance before it took the file is not taken from the file again', async () => {
  const { a, h, topics, moving } = await stoppedWhileTurning();
  await moving;
  const { entries, items, outs, emitOf } = throughFile(h, topics);
  const next = new PtzSteer(asConns([a]), OPTS);
  try {
    const fresh: SteerOutput[] = [];
    await next.handle(steerAlert('glass', 'glass_break', destination(ORIGIN, 60, 40)), (o) => fresh.push(o));
    assert.deepEqual(await next.resumeAfterStop(entries, 1000, emitOf), { resumed: 0, ended: 0, looks: 0, camerasGone: [] });
    assert.deepEqual(outs, []);
    assert.equal(fresh.length, 1);
  } finally {
    next.close();
  }
});

test('privacy: an item whose alert carries samples is refused when read back, naming the field; only contract fields are written', async () => {
  const { h, topics, moving } = await stoppedWhileTurning();
  await moving;
  const items = stopItemsOf(h, monotonicMs(), (e) => ({ topic: topics.get(e) }));
  assert.throws(() => checkStopItem({ ...items[0], alert: { ...items[0].alert, samples: [0.1, 0.2] } }), /item\.alert\.samples: expected no such field/);
  assert.throws(() => checkStopItem({ ...items[0], alert: { ...items[0].alert, span: { ...items[0].alert.span, data: [1, 2] } } }), /item\.alert\.span\.data/);
  assert.throws(() => checkStopItem({ ...items[0], state: 'lost' }), /item\.state/);
});

test('the message an alert came with: its plain JSON properties are kept in the file and read back; the rest is left out, named in keptMessageOf', () => {
  class Socket {
    remote = '10.0.0.1';
  }
  const msg = {
    _msgid: 'abc',
    _session: { id: 'browser-1' },
    payload: { id: 'glass' },
    topic: 'street/glass',
    site: 'north',
    zone: { id: 3, names: ['market', 'gate'], open: true, note: null },
    req: new Socket(),
    at: new Date(0),
    raw: Buffer.from([1, 2, 3]),
    samples: [0.1, 0.2],
    meta: { waveform: [0.1] },
    nan: Number.NaN,
    gone: undefined,
    long: 'x'.repeat(2001),
    many: Array.from({ length: 257 }, () => 1),
    deep: { a: { b: { c: { d: { e: { f: { g: { h: { i: 1 } } } } } } } } },
    big: 'y'.repeat(2000),
    bigger: 'z'.repeat(2000),
    small: 1,
  };
  const kept = keptMessageOf(msg);
  assert.equal(kept.topic, 'street/glass');
  // "bigger" does not fit in the 4 kB after "big"; "small" still does.
  assert.deepEqual(Object.keys(kept.message ?? {}), ['site', 'zone', 'big', 'small']);
  assert.deepEqual(kept.message?.zone, msg.zone);
  assert.ok(Buffer.byteLength(JSON.stringify(kept.message)) <= STOP_MESSAGE_MAX_BYTES);
  // Written and read back: an entry of a file carries them; one edited by hand is checked again.
  const item = { state: 'waiting', alert: steerAlert('glass', 'glass_break', destination(ORIGIN, 60, 40)), arrivedBeforeStopMs: 10, actor: '', ...kept };
  const back = checkStopItem(JSON.parse(JSON.stringify(item))) as SteerStopItem;
  assert.deepEqual([back.topic, back.message], [kept.topic, kept.message]);
  const edited = checkStopItem({ ...JSON.parse(JSON.stringify(item)), message: { site: 'north', audio: 'AAAA', _msgid: 'x', payload: 1 } }) as SteerStopItem;
  assert.deepEqual(edited.message, { site: 'north' });
  assert.deepEqual(keptMessageOf({ payload: 1, _msgid: 'm' }), {});
  // Privacy (DESIGN §4): nothing that could be samples or a voice score, at any depth.
  const leaky = keptMessageOf({
    payload: {},
    original: { label: 'gunshot', scores: { gunshot: 0.9, speech: 0.91 } },
    tagged: { 'Male speech, man speaking': 0.8 },
    clip: Array.from({ length: 200 }, (_, i) => Math.sin(i)),
    frames: { ch0: Array.from({ length: 50 }, () => 0.1) },
    channelsData: 'x',
    wave: [0.1],
    voice: 'a voice',
    corners: [1, 2, 3, 4],
  });
  assert.deepEqual(leaky.message, { corners: [1, 2, 3, 4] });
});

test('a file not taken yet, kept at a second stop: its entries age by the time between the stops; an alert then too old ends at the next start instead of turning a camera', async () => {
  const { a, h, topics, moving } = await stoppedWhileTurning();
  await moving;
  const { items } = throughFile(h, topics);
  const [item] = items;
  const look: SteerStopLook = { state: 'looking', cameraId: 'a', alert: item.alert, arrivedBeforeStopMs: 1000, hold: { alertId: 'glass', priority: 2, onsetMs: 0, arrivedBeforeStopMs: 1000, leftMs: 50_000, lookLeftMs: 5000 }, home: { inMs: 60_000, alertId: 'glass' } };
  assert.deepEqual(stopEntryOlderBy(look, 20_000), { ...look, arrivedBeforeStopMs: 21_000, hold: { ...look.hold!, arrivedBeforeStopMs: 21_000, leftMs: 30_000, lookLeftMs: -15_000 }, home: { inMs: 40_000, alertId: 'glass' } });
  assert.deepEqual(stopEntryOlderBy({ ...item, state: 'proposed', proposalLeftMs: 60_000 }, 20_000), { ...item, state: 'proposed', arrivedBeforeStopMs: item.arrivedBeforeStopMs + 20_000, proposalLeftMs: 40_000 });
  // The time between the stops unknown: as old as an unknown stop makes it, and still a valid entry.
  const unknown = stopEntryOlderBy(look, undefined) as SteerStopLook;
  assert.equal(unknown.home?.inMs, 0);
  assert.ok(unknown.hold!.leftMs < 0 && unknown.arrivedBeforeStopMs! > STOP_RESUME_MAX_AGE_MS);
  assert.deepEqual(checkStopItem(JSON.parse(JSON.stringify(unknown))), unknown);
  // 5 min between the stops, then a start 1 s after the second: it came more than 5 min ago, and ends.
  const next = new PtzSteer(asConns([a]), OPTS);
  const outs: SteerOutput[] = [];
  try {
    const r = await next.resumeAfterStop([stopEntryOlderBy(item, STOP_RESUME_MAX_AGE_MS)], 1000, () => (o) => outs.push(o));
    assert.deepEqual([r.resumed, r.ended], [0, 1]);
    assert.deepEqual(outs.map((o) => [o.port, o.payload.camera?.state, o.payload.camera?.reason]), [
      [1, 'failed', 'Node-RED stopped: the camera move was not followed to its end'],
      [2, 'failed', 'Node-RED stopped: the camera move was not followed to its end'],
    ]);
  } finally {
    next.close();
  }
});

/** The quiet period of the cameras' looks tests: Home after 1 min. */
const QUIET_MS = 60_000;
const LOOKING = { ...OPTS, returnHomeAfterMs: QUIET_MS };

/** Camera a turned to a gunshot (topic street/gun) and on target when the flows stop: its look as read back from the file. */
async function stoppedWhileLooking(opts: Partial<typeof LOOKING> = {}): Promise<{ a: FakeCamera; b: FakeCamera; through: ReturnType<typeof throughFile> }> {
  const a = new FakeCamera(cameraAt('a', 0, 5), 0);
  const b = new FakeCamera(cameraAt('b', 180, 60), 0);
  const old = new PtzSteer(asConns([a, b]), { ...LOOKING, ...opts });
  const gun = input('street/gun');
  await old.handle(steerAlert('gun', 'gunshot', destination(ORIGIN, 0, 40)), gun.emit);
  assert.deepEqual(gun.outs.map((o) => [o.payload.camera?.id, o.payload.camera?.state]), [['a', 'on-target']]);
  const through = throughFile(old.handOver(), new Map([[gun.emit, gun.topic]]));
  assert.deepEqual(through.items, [], 'no alert in progress: the gunshot had its camera');
  return { a, b, through };
}

/**
 * The next instance, on a clock the test moves (mock timers: setTimeout and Date, which the
 * steer's injected clock reads): its camera a, its log, and a tick that lets the camera's
 * answers (promises) settle.
 */
function nextOnClock(t: TestContext, cams: FakeCamera[], opts: Partial<typeof LOOKING> = {}) {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: Date.now() });
  const logged: string[] = [];
  const next = new PtzSteer(asConns(cams), { ...LOOKING, ...opts, now: () => Date.now() }, { log: (text) => logged.push(text) });
  const tick = async (ms: number) => {
    t.mock.timers.tick(ms);
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
  };
  return { next, logged, tick };
}

test('a camera turned to an alert, the flows stopped 10 s: the next start sends it home when the rest of its quiet period is over, not before, and the alert is sent released', async (t) => {
  const { a, b, through } = await stoppedWhileLooking();
  const { entries, looks, outs, emitOf } = through;
  assert.deepEqual(looks.map((l) => [l.cameraId, l.alert?.id, l.topic, l.hold?.alertId, l.home?.alertId]), [['a', 'gun', 'street/gun', 'gun', 'gun']]);
  // Its quiet period had (nearly all of) its minute left at the stop.
  assert.ok(looks[0].home!.inMs > QUIET_MS - 1000 && looks[0].home!.inMs <= QUIET_MS, `home in ${looks[0].home!.inMs} ms`);
  const { next, logged, tick } = nextOnClock(t, [a, b]);
  try {
    assert.deepEqual(await next.resumeAfterStop(entries, 10_000, emitOf), { resumed: 0, ended: 0, looks: 1, camerasGone: [] });
    await tick(QUIET_MS - 10_000 - 1000);
    assert.equal(a.homes, 0, 'not home before its quiet period is over');
    assert.equal(outs.length, 0);
    await tick(2000);
    assert.equal(a.homes, 1, 'home once its quiet period is over');
    assert.equal(b.homes, 0);
    assert.deepEqual(
      outs.map((o) => [o.port, o.payload.id, o.payload.camera?.id, o.payload.camera?.state, o.payload.camera?.reason, o.topic]),
      [[1, 'gun', 'a', 'released', 'camera a looked here, then went home after the quiet period (1 min)', 'street/gun']],
    );
    assert.ok(logged.includes('camera a returned home'), logged.join('\n'));
  } finally {
    next.close();
  }
});

test('a camera turned to an alert, the flows stopped longer than its quiet period, or for a time unknown (a wall clock not set): it goes home at once', async (t) => {
  for (const stoppedForMs of [QUIET_MS + 1000, undefined]) {
    const { a, through } = await stoppedWhileLooking();
    const { next, tick } = nextOnClock(t, [a]);
    try {
      assert.equal((await next.resumeAfterStop(through.entries, stoppedForMs, through.emitOf)).looks, 1);
      await tick(0);
      assert.equal(a.homes, 1, `home at once (stopped for ${stoppedForMs} ms)`);
      assert.deepEqual(through.outs.map((o) => [o.payload.id, o.payload.camera?.state]), [['gun', 'released']]);
    } finally {
      next.close();
      t.mock.timers.reset();
    }
  }
});

test('a camera turned to an alert with Home after 0 (never): after the restart it stays where it is', async (t) => {
  const { a, through } = await stoppedWhileLooking({ returnHomeAfterMs: 0 });
  assert.deepEqual(through.looks.map((l) => [l.cameraId, l.alert?.id, l.home]), [['a', 'gun', undefined]]);
  const { next, tick } = nextOnClock(t, [a], { returnHomeAfterMs: 0 });
  try {
    await next.resumeAfterStop(through.entries, undefined, through.emitOf);
    await tick(24 * 3_600_000);
    assert.equal(a.homes, 0);
    assert.deepEqual(through.outs, []);
  } finally {
    next.close();
  }
});

test('a camera turned to an alert and deleted from the settings before the restart: not moved, not sent home, and the log says so', async (t) => {
  const { a, b, through } = await stoppedWhileLooking();
  const { next, logged, tick } = nextOnClock(t, [b]);
  try {
    assert.deepEqual(await next.resumeAfterStop(through.entries, 10_000, through.emitOf), { resumed: 0, ended: 0, looks: 0, camerasGone: ['a'] });
    await tick(10 * QUIET_MS);
    assert.deepEqual([a.homes, a.moves.length, b.homes, b.moves.length], [0, 1, 0, 0]);
    assert.deepEqual(through.outs, []);
    assert.ok(logged.some((l) => /^camera a: Node-RED restarted, and it is no longer one of this node's cameras/.test(l)), logged.join('\n'));
  } finally {
    next.close();
  }
});

test("a camera's look read back: a bad entry is refused naming its field (and the file's other entries are taken); an alert with samples is refused", async () => {
  const { through } = await stoppedWhileLooking();
  const look = through.looks[0];
  assert.throws(() => checkStopItem({ ...look, cameraId: '' }), /^ContractError: item\.cameraId: expected a non-empty string/);
  assert.throws(() => checkStopItem({ ...look, hold: { ...look.hold, leftMs: 'soon' } }), /item\.hold\.leftMs: expected a finite number/);
  assert.throws(() => checkStopItem({ ...look, home: { ...look.home, inMs: -5 } }), /item\.home\.inMs: expected a finite number >= 0/);
  assert.throws(() => checkStopItem({ state: 'looking', cameraId: 'a' }), /item: expected a camera's alert, hold or return home/);
  assert.throws(() => checkStopItem({ ...look, alert: { ...look.alert, samples: [0.1, 0.2] } }), /item\.alert\.samples: expected no such field/);
  // Through the file: the bad one left out, counted with its reason; the good one taken.
  const dir = tempDir('vigie-steer-stop-');
  try {
    files.write(dir, { nodeId: 'steer', stoppedAtMs: Date.now(), items: [{ ...look, cameraId: 'b', hold: { ...look.hold!, leftMs: 'soon' } } as unknown as SteerStopEntry, look] });
    const taken = files.take(dir, 'steer', Date.now());
    assert.equal(taken?.refused, 1);
    assert.match(taken?.firstRefusal ?? '', /item\.hold\.leftMs/);
    assert.deepEqual(taken?.items.map((e) => (isStopLook(e) ? e.cameraId : '')), ['a']);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a camera that did not answer when sent home, the flows stopped: after the restart it is sent home again', async (t) => {
  const a = new FakeCamera(cameraAt('a', 0, 5), 0);
  let refusals = 0;
  a.gotoHome = async () => {
    refusals++;
    throw Object.assign(new Error('Network timeout'), { code: 'ETIMEDOUT' });
  };
  const old = new PtzSteer(asConns([a]), { ...OPTS, returnHomeAfterMs: 20 });
  await old.handle(steerAlert('gun', 'gunshot', destination(ORIGIN, 0, 40)), () => undefined);
  await waitFor(() => refusals === 1, 5000, 'the camera refusing to go home');
  const through = throughFile(old.handOver(), new Map());
  assert.deepEqual(through.looks.map((l) => [l.cameraId, l.alert, l.hold, l.home?.alertId]), [['a', undefined, undefined, 'gun']]);
  // Its next try was due within 2 s of the stop (the first back-off step).
  const { next, tick } = nextOnClock(t, [a]);
  try {
    assert.equal((await next.resumeAfterStop(through.entries, 10_000, through.emitOf)).looks, 1);
    delete (a as Partial<FakeCamera>).gotoHome; // it answers again (the class's own gotoHome)
    await tick(0);
    assert.equal(a.homes, 1, 'sent home again at once');
  } finally {
    next.close();
  }
});
