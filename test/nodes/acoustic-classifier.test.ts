import { afterEach, describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { closeRing, openRing, readSpan } from '../../lib/audio/registry';
import { AudioRing } from '../../lib/audio/ring';
import { resample } from '../../lib/audio/resample';
import { readWavFile } from '../../lib/audio/wav';
import { validateDetection } from '../../lib/contracts';
import { parseCsv } from '../../lib/cli/eval-detect';
import { Detector } from '../../lib/detect/detector';
import { ClassifierModel } from '../../lib/detect/model';
import { RELEASE_AFTER_MS } from '../../lib/detect/sensor-detectors';
import { findAttack, streetNoise } from '../../lib/sim/signals';
import { DATA_DIR, requireSharedData, skipWithoutSharedData } from '../support/shared-data';
import { waitFor } from '../support/wait';
import { stepWallClock } from '../support/wall-clock';
import { logOf, warningsOf } from '../support/node-red-log';
import { healthReport } from '../../lib/util/health';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const helper = require('node-red-node-test-helper');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const classifierNode = require('../../nodes/acoustic-classifier');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const modelNode = require('../../nodes/vigie-model');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const sensorNode = require('../../nodes/vigie-sensor');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const catchNode = require('@node-red/nodes/core/common/25-catch.js');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const completeNode = require('@node-red/nodes/core/common/24-complete.js');

helper.init(require.resolve('node-red'));

type Any = any; // eslint-disable-line @typescript-eslint/no-explicit-any

const REPO = path.resolve(__dirname, '..', '..');
const TINY = path.join(REPO, 'test', 'fixtures', 'models', 'tiny-ok.onnx');
const T0 = 1_750_000_000;

const rings: AudioRing[] = [];
function ring(sensor: string, sampleRate: number, channels: number, seconds = 5): AudioRing {
  const r = openRing({ sensor, sampleRate, channels, seconds });
  rings.push(r);
  return r;
}

afterEach(async () => {
  await helper.unload();
  await helper.stopServer();
  while (rings.length) closeRing(rings.pop()!);
});

function flow(model: Record<string, unknown>, cls: Record<string, unknown> = {}) {
  return [
    { id: 'tab', type: 'tab' },
    { id: 'model-1', type: 'vigie-model', ...model },
    { id: 'cls', type: 'acoustic-classifier', z: 'tab', model: 'model-1', labels: ['gunshot', 'glass_break', 'scream', 'crash', 'explosion', 'tire_skid'], scores: true, wires: [['dets'], ['scores']], ...cls },
    { id: 'dets', type: 'helper', z: 'tab' },
    { id: 'scores', type: 'helper', z: 'tab' },
    { id: 'catch-1', type: 'catch', z: 'tab', scope: ['cls'], wires: [['caught']] },
    { id: 'caught', type: 'helper', z: 'tab' },
    { id: 'complete-1', type: 'complete', z: 'tab', scope: ['cls'], wires: [['completed']] },
    { id: 'completed', type: 'helper', z: 'tab' },
  ];
}

const NODES = [modelNode, classifierNode, sensorNode, catchNode, completeNode];

function block(sensor: string, start: number, frames: number, sampleRate: number, channels = 1, seq = 0) {
  return { kind: 'audio', sensor, seq, sampleRate, channels, start, frames, time: T0 + start / sampleRate, clock: 'ntp' };
}

/**
 * The test flow with the tiny model, loaded and ready; what it emits, every status it sets, and
 * its once-a-second idle check (the no-audio status), caught as the node sets it up, for a test
 * to run a tick at will: what the next ticks do is then known without waiting for them.
 */
async function loadTinyClassifier(): Promise<{ got: ReturnType<typeof collect>; cls: Any; statuses: Any[]; idleTick: () => void }> {
  const idleTicks: Array<() => void> = [];
  const realSetInterval = globalThis.setInterval;
  const spy = mock.method(globalThis, 'setInterval', (fn: () => void, ms: number, ...rest: unknown[]) => {
    // The classifier's own interval, not the model file's watch it starts through vigie-model.
    const stack = new Error().stack ?? '';
    if (/nodes[\\/]acoustic-classifier\.[jt]s/.test(stack) && !/lib[\\/]detect[\\/]model-source\.[jt]s/.test(stack)) idleTicks.push(fn);
    return realSetInterval(fn, ms, ...rest);
  });
  try {
    await helper.load(NODES, flow({ path: TINY }));
  } finally {
    spy.mock.restore();
  }
  assert.equal(idleTicks.length, 1, "the classifier's idle check");
  const got = collect();
  const cls = helper.getNode('cls');
  const statuses = recordStatuses(cls);
  await waitFor(() => helper.getNode('model-1').source.state.state === 'ready', 60_000, 'model ready');
  return { got, cls, statuses, idleTick: idleTicks[0] };
}

/** Every status the node sets, in order (the node still sets them). */
function recordStatuses(node: Any): Any[] {
  const statuses: Any[] = [];
  const setStatus = node.status.bind(node);
  node.status = (st: Any) => {
    statuses.push(st);
    setStatus(st);
  };
  return statuses;
}

/** Collect what the helper nodes receive. */
function collect() {
  const got = { dets: [] as Any[], scores: [] as Any[], errors: [] as string[], completed: 0 };
  helper.getNode('dets').on('input', (m: Any) => got.dets.push(m));
  helper.getNode('scores').on('input', (m: Any) => got.scores.push(m));
  helper.getNode('caught').on('input', (m: Any) => got.errors.push(String(m.error?.message)));
  helper.getNode('completed').on('input', () => got.completed++);
  return got;
}

describe('acoustic-classifier: bad input is an error naming the field; the flow keeps running', () => {
  it('rejects wrong payloads, unknown sensors, expired spans, wrong channel counts and NaN samples', async () => {
    const { got, cls, statuses } = await loadTinyClassifier();
    const sr = 16000;
    const r = ring('bad-1', sr, 1, 2);
    r.write([streetNoise(sr, 0.01, 1)]);
    const cases: Array<[unknown, RegExp]> = [
      [{ kind: 'video' }, /payload\.kind: expected "audio"/],
      [{ ...block('bad-1', 0, 1600, sr), samples: [1, 2] }, /reference without samples/],
      [block('nobody', 0, 1600, sr), /payload\.sensor: expected a sensor whose audio ring is open/],
      [block('bad-1', 0, 1600, sr, 2), /payload\.channels: expected 1/],
      [block('bad-1', 0, 1600, 48000), /payload\.sampleRate: expected 16000/],
      [block('bad-1', 10_000_000, 1600, sr), /payload\.start: expected a span already written to the ring \(span ends at frame 10001600, only 16000 written\), got 10000000/],
      [block('bad-1', 0, 100_000, sr), /payload\.frames: expected a span the ring can hold \(span of 100000 frames exceeds ring capacity 32000\), got 100000/],
    ];
    for (const [payload, re] of cases) {
      const before = got.errors.length;
      cls.receive({ payload });
      await waitFor(() => got.errors.length > before, 60_000, `error for ${re}`);
      assert.match(got.errors[got.errors.length - 1], re);
      const last = statuses[statuses.length - 1];
      assert.equal(last.fill, 'red');
      assert.equal(last.shape, 'ring');
    }
    // expired: write 3 s more into a 2 s ring, then ask for the first 100 ms
    r.write([streetNoise(3 * sr, 0.01, 2)]);
    cls.receive({ payload: block('bad-1', 0, 1600, sr) });
    await waitFor(() => got.errors.length > cases.length, 60_000, 'expired error');
    assert.match(got.errors[got.errors.length - 1], /payload\.start: .*overwritten/);
    // NaN samples
    const bad = streetNoise(1600, 0.01, 3);
    bad[100] = NaN;
    const at = r.write([bad]);
    cls.receive({ payload: block('bad-1', at, 1600, sr) });
    await waitFor(() => got.errors.length > cases.length + 1, 60_000, 'NaN error');
    assert.match(got.errors[got.errors.length - 1], /samples \(channel 1, frame \d+\): expected finite numbers, got NaN/);
    // the node still works: good blocks give scores
    const start = r.write([streetNoise(2 * sr - 1600, 0.01, 4)]);
    const doneBefore = got.completed;
    for (let s = start; s + 1600 <= r.end; s += 1600) cls.receive({ payload: block('bad-1', s, 1600, sr) });
    await waitFor(() => got.scores.length > 0 && got.completed > doneBefore, 60_000, 'scores after the errors');
    // blocks finish asynchronously: wait for the status of the last one
    await waitFor(() => /-?\d+ dB\(A\)/.test(statuses[statuses.length - 1]?.text ?? ''), 60_000, 'a level in the status');
    const ok = statuses[statuses.length - 1];
    // quiet street noise: a negative level, with a real minus sign as mic-capture shows it
    assert.match(ok.text, /^\u2212\d+ dB\(A\)/);
    assert.equal(ok.fill, 'green');
    assert.equal(ok.shape, 'dot');
    for (const m of got.scores) {
      assert.equal(m.payload.kind, 'scores');
      // The tiny model is softmax: its alert label only (street beside it would give speech as the rest).
      assert.deepEqual(Object.keys(m.payload.scores), ['gunshot'], 'voice labels never in scores, nor what would give them');
    }
  });

  it('when blocks stop coming, the status says since when instead of a stale level', async () => {
    const { got, cls, statuses, idleTick } = await loadTinyClassifier();
    const sr = 16000;
    const r = ring('idle-1', sr, 1, 2);
    const start = r.write([streetNoise(sr, 0.01, 5)]);
    for (let s = start; s + 1600 <= r.end; s += 1600) cls.receive({ payload: block('idle-1', s, 1600, sr) });
    await waitFor(() => /dB\(A\)/.test(statuses[statuses.length - 1]?.text ?? ''), 60_000, 'a level in the status');
    const heardAt = Date.now();
    await waitFor(() => /^no audio since \d\d:\d\d:\d\d/.test(statuses[statuses.length - 1]?.text ?? ''), 10000, 'the no-audio status');
    const idle = statuses[statuses.length - 1];
    assert.ok(Date.now() - heardAt >= 4500, 'not before about 5 s without a block');
    assert.equal(idle.fill, 'yellow');
    assert.equal(idle.shape, 'ring');
    // said once, not every second: the next ticks, still without a block, say nothing more
    for (let i = 0; i < 3; i++) idleTick();
    assert.equal(statuses.filter((st) => /^no audio/.test(st.text)).length, 1);
    // a block brings the level back
    const more = r.write([streetNoise(1600, 0.01, 6)]);
    cls.receive({ payload: block('idle-1', more, 1600, sr) });
    await waitFor(() => /dB\(A\)/.test(statuses[statuses.length - 1]?.text ?? ''), 60_000, 'the level again');
    assert.equal(statuses[statuses.length - 1].fill, 'green');
    assert.deepEqual(got.errors, []);
  });

  it('no block at all since the start (a capture that never delivers): "ready" gives way to "no audio since the start" after the same delay', async () => {
    const loadedAt = Date.now();
    const { got, cls, statuses, idleTick } = await loadTinyClassifier();
    await waitFor(() => /^no audio since the start \(\d\d:\d\d:\d\d\)$/.test(statuses[statuses.length - 1]?.text ?? ''), 15000, 'the no-audio status');
    assert.ok(Date.now() - loadedAt >= 4500, 'not before about 5 s without a block');
    const idle = statuses[statuses.length - 1];
    assert.equal(idle.fill, 'yellow');
    assert.equal(idle.shape, 'ring');
    assert.ok(statuses.some((st) => /^ready \(/.test(st.text) && st.fill === 'green'), 'ready first');
    // Said once: the next ticks, still without a block, say nothing more.
    for (let i = 0; i < 3; i++) idleTick();
    assert.equal(statuses.filter((st) => /^no audio/.test(st.text)).length, 1, 'said once');
    // The first block brings the level.
    const sr = 16000;
    const r = ring('late-1', sr, 1, 2);
    const start = r.write([streetNoise(sr, 0.01, 7)]);
    for (let s = start; s + 1600 <= r.end; s += 1600) cls.receive({ payload: block('late-1', s, 1600, sr) });
    await waitFor(() => /dB\(A\)/.test(statuses[statuses.length - 1]?.text ?? ''), 60_000, 'a level in the status');
    assert.equal(statuses[statuses.length - 1].fill, 'green');
    assert.deepEqual(got.errors, []);
  });

  it('a sensor silent for minutes has its detector released; when it comes back, a fresh one classifies', async () => {
    const { got, cls } = await loadTinyClassifier();
    const sr = 16000;
    const gone = ring('gone-1', sr, 1, 5);
    const still = ring('still-1', sr, 1, 5);
    let sent = 0;
    const sendAll = (r: AudioRing, sensor: string, from: number): void => {
      for (let s = from; s + 1600 <= r.end; s += 1600, sent++) cls.receive({ payload: block(sensor, s, 1600, sr) });
    };
    const processed = (what: string) => waitFor(() => got.completed + got.errors.length >= sent, 60_000, what);
    sendAll(gone, 'gone-1', gone.write([streetNoise(2 * sr, 0.01, 11)]));
    sendAll(still, 'still-1', still.write([streetNoise(sr, 0.01, 13)]));
    await processed('the first blocks processed');
    const scoredBefore = got.scores.length;
    assert.ok(scoredBefore > 0);
    const released = () => logOf(helper, 'cls', 'INFO').filter((m) => / no audio for 5 min; its detection state is released/.test(m));
    // A wall clock step (NTP) past the release time is no silence: nothing released. A negative
    // check, so a fixed wait: the node looks about once a second.
    const wall = stepWallClock();
    try {
      wall.step(RELEASE_AFTER_MS + 60_000);
      await new Promise((res) => setTimeout(res, 1500));
      assert.deepEqual(released(), [], 'nothing released by a wall clock step');
    } finally {
      wall.restore();
    }
    // Time passes (the monotonic clock the silence is timed on): it jumps to a minute short of
    // the release time, still-1 sends a block, then it passes gone-1's release time.
    const realMonotonic = performance.now.bind(performance);
    try {
      performance.now = () => realMonotonic() + RELEASE_AFTER_MS - 60_000;
      sendAll(still, 'still-1', still.write([streetNoise(1600, 0.01, 14)]));
      await processed('the block of still-1 processed');
      performance.now = () => realMonotonic() + RELEASE_AFTER_MS + 1000;
      await waitFor(() => released().length > 0, 10_000, 'the release');
    } finally {
      performance.now = realMonotonic;
    }
    assert.deepEqual(released(), ['sensor "gone-1": no audio for 5 min; its detection state is released (its next block starts afresh)'], 'still-1 was heard a minute ago');
    const back = gone.write([streetNoise(2 * sr, 0.01, 12)]);
    sendAll(gone, 'gone-1', back);
    await processed('the blocks after the return processed');
    assert.deepEqual(got.errors, []);
    const after = got.scores.slice(scoredBefore).map((m: Any) => m.payload).filter((w: Any) => w.sensor === 'gone-1');
    assert.ok(after.length > 0, 'classified again');
    // Fresh: its windows hold only audio from after the return (the old detector's window would
    // have gone on from the audio before).
    for (const w of after) assert.ok(w.start >= T0 + back / sr - 1e-6, `window from ${w.start - T0} s, the return at ${back / sr} s`);
  });

  it('a missing model is told once, with the file named, then the status carries it', async () => {
    await helper.load(NODES, flow({ path: path.join(REPO, 'test', 'fixtures', 'models', 'no-such-model.onnx') }));
    const got = collect();
    const cls = helper.getNode('cls');
    const r = ring('m-1', 16000, 1);
    r.write([streetNoise(16000, 0.01, 5)]);
    for (let i = 0; i < 5; i++) cls.receive({ payload: block('m-1', i * 1600, 1600, 16000) });
    await waitFor(() => got.completed + got.errors.length >= 5, 60_000, 'all five blocks handled');
    assert.equal(got.errors.length, 1, got.errors.join('\n'));
    assert.match(got.errors[0], /model: .*no-such-model\.onnx cannot be read/);
  });

  it('a model that cannot be loaded puts the classifier in the health report as failed; a good file copied in place loads and the report is ok again', async () => {
    const info = { package: 'p', version: '0', nodeRed: '4', startedAtMonotonicMs: performance.now() };
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-cls-health-'));
    try {
      const file = path.join(dir, 'street.onnx');
      fs.writeFileSync(file, Buffer.from('this is not an ONNX graph'));
      fs.copyFileSync(TINY.replace(/\.onnx$/, '.json'), path.join(dir, 'street.json'));
      const f: Any[] = flow({ path: file }, { name: 'street classifier', sensor: 'sensor-1' });
      f.push({ id: 'sensor-1', type: 'vigie-sensor', sensorId: 'north-1', lat: 45.4397, lon: 4.3872, heightM: 4, headingDeg: 30, array: 'mono', clock: 'ntp' });
      await helper.load(NODES, f);
      const source = helper.getNode('model-1').source;
      await waitFor(() => source.state.state === 'failed', 60_000, 'the load to fail');
      let r = healthReport(info);
      assert.equal(r.status, 'degraded');
      assert.deepEqual(
        r.failed.map((x) => [x.node, x.id, x.name, x.sensor]),
        [['acoustic-classifier', 'cls', 'street classifier', 'north-1']],
      );
      assert.match(r.failed[0].reason, /^model: model street\.onnx does not fit Vigie's model contract: card\.fileBytes: the card expects \d+ bytes, the file has 25 /);
      // Another classifier deployed later on the same model, which has already failed: failed at once.
      await helper.setFlows([...f, { id: 'cls2', type: 'acoustic-classifier', z: 'tab', model: 'model-1', labels: ['gunshot'], wires: [[], []] }], 'nodes');
      assert.equal(source.state.state, 'failed', 'the model node was not restarted');
      assert.deepEqual(healthReport(info).failed.map((x) => x.id), ['cls2', 'cls']);

      // What the integrator does: copy a good model in place, no redeploy (the file is watched).
      fs.copyFileSync(TINY, file);
      await waitFor(() => source.state.state === 'ready', 60_000, 'the replaced model to load');
      r = healthReport(info);
      assert.deepEqual([r.status, r.failed], ['ok', []]);

      // Broken again while a model serves: the previous model keeps classifying, nothing failed.
      fs.writeFileSync(file, Buffer.from('broken again, and longer than before'));
      await waitFor(() => warningsOf(helper, 'model-1').some((l) => /cannot be loaded, keeping the previous one/.test(l)), 60_000, 'the failed reload');
      assert.deepEqual(healthReport(info).failed, []);
    } finally {
      await helper.unload();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a classifier that cannot work (settings, no model, a missing model file) is in the health report as failed until it closes', async () => {
    const info = { package: 'p', version: '0', nodeRed: '4', startedAtMonotonicMs: performance.now() };
    await helper.load(NODES, flow({ path: path.join(REPO, 'test', 'fixtures', 'models', 'no-such-model.onnx') }));
    await waitFor(() => helper.getNode('model-1').source.state.state === 'failed', 60_000, 'the load to fail');
    assert.deepEqual(healthReport(info).failed.map((x) => [x.node, x.id]), [['acoustic-classifier', 'cls']]);
    assert.match(healthReport(info).failed[0].reason, /^model: model file .*no-such-model\.onnx cannot be read/);
    await helper.unload();
    assert.deepEqual(healthReport(info).failed, [], 'closed: no longer reported');
    await helper.load(NODES, flow({ path: TINY }, { hopMs: 'fast' }));
    assert.deepEqual(
      healthReport(info).failed.map((x) => [x.node, x.id, x.reason]),
      [['acoustic-classifier', 'cls', 'settings: setting hopMs: expected a number from 10 to 10000, got "fast"']],
    );
    await helper.unload();
    assert.deepEqual(healthReport(info).failed, [], 'closed: no longer reported');
    await helper.load(NODES, flow({ path: TINY }, { model: '' }));
    assert.deepEqual(
      healthReport(info).failed.map((x) => [x.node, x.id, x.reason]),
      [['acoustic-classifier', 'cls', 'model: no vigie-model config node selected']],
    );
    await helper.unload();
    assert.deepEqual(healthReport(info).failed, [], 'closed: no longer reported');
  });

  it('the model file changing while it first loads: the blocks waiting for it are classified with the newer model', async () => {
    // Loads that finish when the test says (the real loader, held back).
    const realLoad = ClassifierModel.load;
    const held: Array<() => void> = [];
    ClassifierModel.load = async (...args: Parameters<typeof realLoad>) => {
      await new Promise<void>((resolve) => held.push(resolve));
      return realLoad.apply(ClassifierModel, args);
    };
    try {
      await helper.load(NODES, flow({ path: TINY }));
      const got = collect();
      const cls = helper.getNode('cls');
      const source = helper.getNode('model-1').source;
      await waitFor(() => held.length === 1, 10_000, 'the first load started');
      const sr = 16000;
      const r = ring('reload-1', sr, 1, 2);
      r.write([streetNoise(sr, 0.01, 31)]);
      for (let i = 0; i < 10; i++) cls.receive({ payload: block('reload-1', i * 1600, 1600, sr, 1, i) });
      // What the file watch does when the file changes on disk during that load.
      void source.reload().catch(() => undefined);
      await waitFor(() => held.length === 2, 10_000, 'the second load started');
      // Whichever ends first, the first load is superseded: its waiters go on to the second.
      held[0]();
      held[1]();
      await waitFor(() => got.completed + got.errors.length >= 10, 60_000, 'all ten blocks handled');
      assert.deepEqual(got.errors, []);
      assert.equal(got.completed, 10);
      assert.ok(got.scores.length > 0, 'the blocks were classified');
      assert.equal(source.state.state, 'ready');
    } finally {
      ClassifierModel.load = realLoad;
    }
  });

  it('a model without any ticked class is told once, then the status carries it', async () => {
    await helper.load(NODES, flow({ path: TINY }, { labels: ['scream'] }));
    const got = collect();
    const cls = helper.getNode('cls');
    const statuses = recordStatuses(cls);
    const r = ring('lbl-1', 16000, 1);
    r.write([streetNoise(16000, 0.01, 5)]);
    for (let i = 0; i < 5; i++) cls.receive({ payload: block('lbl-1', i * 1600, 1600, 16000) });
    await waitFor(() => got.completed + got.errors.length >= 5, 60_000, 'all five blocks handled');
    assert.equal(got.errors.length, 1, got.errors.join('\n'));
    assert.match(got.errors[0], /setting labels: expected at least one of the model's alert classes \(gunshot\)/);
    assert.equal(statuses[statuses.length - 1].fill, 'red');
  });

  it('ticked classes the model cannot report are named once in a warning, with those it reports; the rest are classified', async () => {
    await helper.load(NODES, flow({ path: TINY }, { labels: ['gunshot', 'scream', 'tire_skid'] }));
    const got = collect();
    const cls = helper.getNode('cls');
    const r = ring('part-1', 16000, 1);
    r.write([streetNoise(16000, 0.01, 6)]);
    for (let i = 0; i < 5; i++) cls.receive({ payload: block('part-1', i * 1600, 1600, 16000) });
    await waitFor(() => got.completed + got.errors.length >= 5, 60_000, 'all five blocks handled');
    assert.deepEqual(got.errors, []);
    assert.deepEqual(warningsOf(helper, 'cls').filter((m) => /cannot report/.test(m)), [
      'model tiny-ok cannot report scream, tire_skid, ticked on this node (its alert classes are gunshot); reporting only gunshot',
    ]);
  });

  it('a channel the sensor does not have: told once, naming the setting, red until blocks fit again', async () => {
    await helper.load(NODES, flow({ path: TINY }, { channel: '3' }));
    const got = collect();
    const cls = helper.getNode('cls');
    const statuses = recordStatuses(cls);
    await waitFor(() => helper.getNode('model-1').source.state.state === 'ready', 60_000, 'model ready');
    const sr = 16000;
    const stereo = ring('chan-1', sr, 2, 2);
    const x = streetNoise(sr, 0.01, 21);
    stereo.write([x, x]);
    for (let i = 0; i < 10; i++) cls.receive({ payload: block('chan-1', i * 1600, 1600, sr, 2, i) });
    await waitFor(() => got.completed + got.errors.length >= 10, 60_000, 'all ten blocks handled');
    assert.equal(got.errors.length, 1, got.errors.join('\n'));
    assert.equal(got.completed, 9, 'the other blocks are done without an error: the flow keeps running');
    assert.match(got.errors[0], /(^|: )setting channel: expected a channel from 1 to 2 \(the channel count of sensor "chan-1"\), got 3$/);
    assert.deepEqual(statuses[statuses.length - 1], { fill: 'red', shape: 'ring', text: 'bad setting channel: 3' });
    assert.equal(got.scores.length, 0);
    // Another sensor, with four channels, is classified meanwhile; the fault stays shown.
    const four = ring('chan-4', sr, 4, 2);
    four.write([x, x, x, x]);
    for (let i = 0; i < 10; i++) cls.receive({ payload: block('chan-4', i * 1600, 1600, sr, 4, i) });
    await waitFor(() => got.completed + got.errors.length >= 20, 60_000, 'the blocks of the other sensor handled');
    assert.equal(got.errors.length, 1, got.errors.join('\n'));
    assert.ok(got.scores.length > 0 && got.scores.every((m: Any) => m.payload.sensor === 'chan-4'), 'the other sensor classified');
    assert.deepEqual(statuses[statuses.length - 1], { fill: 'red', shape: 'ring', text: 'bad setting channel: 3' });
    const scoredBefore = got.scores.length;
    // The sensor's capture restarts with three channels: its blocks fit, the status is green again.
    closeRing(rings.splice(rings.indexOf(stereo), 1)[0]);
    const three = ring('chan-1', sr, 3, 2);
    const start = three.write([x, x, x]);
    for (let i = 0; i < 10; i++) cls.receive({ payload: block('chan-1', start + i * 1600, 1600, sr, 3, 10 + i) });
    await waitFor(() => got.completed + got.errors.length >= 30, 60_000, 'the blocks that fit handled');
    assert.equal(got.errors.length, 1, got.errors.join('\n'));
    assert.ok(got.scores.slice(scoredBefore).some((m: Any) => m.payload.sensor === 'chan-1'), 'classified');
    await waitFor(() => statuses[statuses.length - 1]?.fill === 'green', 60_000, 'a green status');
    // Back to two channels: a new episode, told once again.
    closeRing(rings.splice(rings.indexOf(three), 1)[0]);
    const again = ring('chan-1', sr, 2, 2);
    again.write([x, x]);
    for (let i = 0; i < 5; i++) cls.receive({ payload: block('chan-1', i * 1600, 1600, sr, 2, 20 + i) });
    await waitFor(() => got.completed + got.errors.length >= 35, 60_000, 'the blocks that do not fit handled');
    assert.equal(got.errors.length, 2, got.errors.join('\n'));
    assert.match(got.errors[1], /(^|: )setting channel: expected a channel from 1 to 2 /);
    assert.equal(statuses[statuses.length - 1].fill, 'red');
  });

  it('falling behind by more than the ring: one error, the rest of the episode counted, then caught up', async () => {
    const { got, cls, statuses } = await loadTinyClassifier();
    const sr = 16000;
    const r = ring('busy-1', sr, 1, 2);
    const start = r.write([streetNoise(sr, 0.01, 7)]);
    // Ten blocks arrive; before their turn comes, 3 s more audio overwrite them in the 2 s ring.
    for (let i = 0; i < 10; i++) cls.receive({ payload: block('busy-1', start + i * 1600, 1600, sr) });
    r.write([streetNoise(3 * sr, 0.01, 8)]);
    await waitFor(() => got.completed + got.errors.length >= 10, 60_000, 'all ten blocks handled');
    assert.equal(got.errors.length, 1, got.errors.join('\n'));
    assert.match(got.errors[0], /payload\.start: the block's samples were already overwritten .*falling behind or the block is stale; skipping such blocks of sensor "busy-1"/);
    assert.ok(statuses.some((st) => st.fill === 'yellow' && /falling behind: audio of busy-1 overwritten/.test(st.text)));
    // A block still in the ring is classified again, and the skipped audio is told.
    helper.log().resetHistory();
    cls.receive({ payload: block('busy-1', r.end - 1600, 1600, sr) });
    await waitFor(() => got.completed >= 10, 60_000, 'the next block handled');
    const warned = warningsOf(helper, 'cls');
    assert.ok(warned.some((m) => /sensor "busy-1": caught up after 10 block\(s\) whose samples were overwritten \(1\.0 s of audio not classified\)/.test(m)), warned.join('\n'));
    assert.equal(statuses[statuses.length - 1].fill, 'green');
  });

  it('refuses bad settings with the setting named, in the error and in a short status', async () => {
    for (const [settings, re, status] of [
      [{ hopMs: 'fast' }, /setting hopMs: expected a number from 10 to 10000, got "fast"/, 'bad setting hopMs: "fast"'],
      [{ thresholds: { gunshot: 0.005 } }, /setting thresholds\.gunshot: expected a number from 0\.01 to 1, got 0\.005/, 'bad setting thresholds.gunshot: 0.005'],
      [{ thresholds: 'high' }, /setting thresholds: expected an object of per-class thresholds, got "high"/, 'bad setting thresholds: "high"'],
    ] as Array<[Record<string, unknown>, RegExp, string]>) {
      await helper.load(NODES, flow({ path: TINY }, settings));
      const got = collect();
      const cls = helper.getNode('cls');
      cls.receive({ payload: block('x', 0, 1, 16000) });
      await waitFor(() => got.errors.length > 0, 60_000, 'settings error');
      assert.match(got.errors[0], re);
      assert.deepEqual(cls.status.lastCall.args[0], { fill: 'red', shape: 'ring', text: status });
      await helper.unload();
    }
  });

  it('a vigie-sensor whose configuration is invalid: red status rather than "ready", an error naming why; blocks are still classified', async () => {
    const f: Any[] = flow({ path: TINY }, { sensor: 'sensor-1' });
    f.push({ id: 'sensor-1', type: 'vigie-sensor', sensorId: 'north-1', lat: 'abc', lon: 4.3872, heightM: 4, headingDeg: 30, array: 'mono', clock: 'ntp' });
    await helper.load(NODES, f);
    const got = collect();
    const cls = helper.getNode('cls');
    await waitFor(() => helper.getNode('model-1').source.state.state === 'ready', 60_000, 'model ready');
    await waitFor(() => cls.status.lastCall?.args[0]?.fill === 'red' || undefined, 10_000, 'a red status once the model is ready');
    assert.deepEqual(cls.status.lastCall.args[0], { fill: 'red', shape: 'ring', text: 'bad sensor: lat' });
    const errors = cls.error.args.map((a: Any[]) => String(a[0])).filter((e: string) => e.startsWith('sensor:'));
    assert.deepEqual(errors, ['sensor: lat: expected a number from -90 to 90, got "abc"; detections go out without the sensor\'s position (sensorInfo)']);
    const r = ring('north-1', 16000, 1, 2);
    r.write([streetNoise(16000, 0.01, 1)]);
    cls.receive({ payload: block('north-1', 0, 1600, 16000) });
    await waitFor(() => got.completed > 0 || got.errors.length > 0 || undefined, 60_000, 'the block handled');
    assert.deepEqual(got.errors, []);
  });

  it('a hop longer than the model window: the whole reason in the error, "bad setting hopMs: 1500" in the status', async () => {
    await helper.load(NODES, flow({ path: TINY }, { hopMs: 1500 }));
    const got = collect();
    const cls = helper.getNode('cls');
    await waitFor(() => helper.getNode('model-1').source.state.state === 'ready', 60_000, 'model ready');
    const r = ring('hop-1', 16000, 1, 2);
    r.write([streetNoise(16000, 0.01, 1)]);
    cls.receive({ payload: block('hop-1', 0, 1600, 16000) });
    await waitFor(() => got.errors.length > 0, 60_000, 'the hop refused');
    // the tiny model's window is 16000 samples at 16 kHz
    assert.match(got.errors[0], /setting hopMs: expected 1 ms up to the window length \(1000 ms\), got 1500$/);
    assert.deepEqual(cls.status.lastCall.args[0], { fill: 'red', shape: 'ring', text: 'bad setting hopMs: 1500' });
    // It classifies nothing: the health report names it (it is known at the first block, once the model's window is).
    const failed = healthReport({ package: 'p', version: '0', nodeRed: '4', startedAtMonotonicMs: performance.now() }).failed;
    assert.deepEqual(
      failed.map((x) => [x.node, x.id, x.reason]),
      [['acoustic-classifier', 'cls', 'setting hopMs: expected 1 ms up to the window length (1000 ms), got 1500']],
    );
    await helper.unload();
    assert.deepEqual(healthReport({ package: 'p', version: '0', nodeRed: '4', startedAtMonotonicMs: performance.now() }).failed, [], 'cleared when it closes');
  });

  it('a hop that does not fit stays failed in the health report when the model file is replaced by another that does not fit either', async () => {
    const info = { package: 'p', version: '0', nodeRed: '4', startedAtMonotonicMs: performance.now() };
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-cls-hop-'));
    try {
      const file = path.join(dir, 'street.onnx');
      fs.copyFileSync(TINY, file);
      fs.copyFileSync(TINY.replace(/\.onnx$/, '.json'), path.join(dir, 'street.json'));
      await helper.load(NODES, flow({ path: file }, { hopMs: 1500 }));
      const got = collect();
      const cls = helper.getNode('cls');
      const source = helper.getNode('model-1').source;
      await waitFor(() => source.state.state === 'ready', 60_000, 'model ready');
      const r = ring('hop-2', 16000, 1, 2);
      r.write([streetNoise(2 * 16000, 0.01, 1)]);
      cls.receive({ payload: block('hop-2', 0, 1600, 16000) });
      await waitFor(() => got.errors.length > 0 || undefined, 60_000, 'the hop refused');
      assert.deepEqual(healthReport(info).failed.map((x) => x.id), ['cls']);
      // The model file replaced (the same window): loaded afresh, the node is looked at again.
      const first = source.state.model;
      fs.copyFileSync(TINY, path.join(dir, 'next.onnx'));
      fs.renameSync(path.join(dir, 'next.onnx'), file);
      await waitFor(() => (source.state.state === 'ready' && source.state.model !== first) || undefined, 60_000, 'the replaced model loaded');
      // (Fresh audio: what was written before the reload may have outlived the ring's 2 s.)
      const at = r.write([streetNoise(1600, 0.01, 2)]);
      cls.receive({ payload: block('hop-2', at, 1600, 16000) });
      await waitFor(() => got.errors.length > 1 || undefined, 60_000, 'the hop refused again, with the new model');
      assert.match(got.errors[1], /setting hopMs: expected 1 ms up to the window length \(1000 ms\), got 1500$/);
      assert.deepEqual(healthReport(info).failed.map((x) => x.id), ['cls'], 'still failed');
      assert.deepEqual(cls.status.lastCall.args[0], { fill: 'red', shape: 'ring', text: 'bad setting hopMs: 1500' });
    } finally {
      await helper.unload();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('two classifiers share one model session, released when they close', async () => {
    const f = flow({ path: TINY });
    f.push({ id: 'cls2', type: 'acoustic-classifier', z: 'tab', model: 'model-1', labels: ['gunshot'], wires: [[], []] } as Any);
    await helper.load(NODES, f);
    const src = helper.getNode('model-1').source;
    assert.equal(src.userCount, 2);
    await waitFor(() => src.state.state === 'ready', 60_000, 'model ready');
    const m = src.state.model;
    await helper.unload();
    assert.equal(m.isReleased, true);
  });
});

describe('acoustic-classifier: samples are zeroed where the classifier holds them (DESIGN §4.2)', () => {
  /** Send the blocks of `seconds` of street noise written into a new ring; resolves when all are classified. */
  async function classifyNoise(got: ReturnType<typeof collect>, cls: Any, r: AudioRing, seconds: number): Promise<void> {
    const sr = r.sampleRate;
    const frames = sr / 10;
    const start = r.write(Array.from({ length: r.channelCount }, (_, c) => streetNoise(seconds * sr, 0.05, 30 + c)));
    const before = got.completed;
    let sent = 0;
    for (let s = start; s + frames <= r.end; s += frames, sent++) cls.receive({ payload: block(r.sensor, s, frames, sr, r.channelCount, sent) });
    await waitFor(() => got.completed + got.errors.length >= before + sent, 60_000, 'every block classified');
    assert.deepEqual(got.errors, []);
  }

  it("the copies of a block's samples read from the ring are zeroed once the block is classified", async () => {
    const { got, cls } = await loadTinyClassifier();
    const r = ring('copies-1', 48000, 2, 5);
    // Every copy the ring hands out, and whether it held sound when handed out.
    const copies: { channel: Float32Array; heldSound: boolean }[] = [];
    const read = r.read.bind(r);
    r.read = (span, opts) => {
      const res = read(span, opts);
      if (res.ok) for (const channel of res.channels) copies.push({ channel, heldSound: channel.some((v) => v !== 0) });
      return res;
    };
    await classifyNoise(got, cls, r, 2);
    assert.ok(got.scores.length > 0, 'the blocks were classified');
    assert.equal(copies.length, 2 * 20, 'two channels of twenty blocks read');
    assert.ok(copies.every((c) => c.heldSound), 'each copy held street audio when read');
    for (const [i, c] of copies.entries()) assert.equal(c.channel.findIndex((v) => v !== 0), -1, `copy ${i} still holds samples after its block was classified`);
  });

  it('privacy: output 2 speaks of a sensor at most 4 times a second, whatever the hop: a 50 ms hop publishes one window in five', async () => {
    await helper.load(NODES, flow({ path: TINY }, { hopMs: 50 }));
    const got = collect();
    const cls = helper.getNode('cls');
    await waitFor(() => helper.getNode('model-1').source.state.state === 'ready', 60_000, 'model ready');
    await classifyNoise(got, cls, ring('paced-1', 16000, 1, 5), 4);
    const ends = got.scores.map((m: Any) => m.payload.end as number);
    // 4 s of audio, the first window full after 1 s: 3 s of windows, one every 250 ms.
    assert.ok(ends.length >= 12 && ends.length <= 13, `${ends.length} windows published`);
    for (let i = 1; i < ends.length; i++) assert.ok(ends[i] - ends[i - 1] >= 0.25 - 1e-6, `windows ${i - 1} and ${i} end ${((ends[i] - ends[i - 1]) * 1000).toFixed(0)} ms apart`);
  });

  it("closing the node zeroes the audio its sensors' detectors hold (their windows, filter lines and resampler)", async () => {
    const detectors = new Set<Detector>();
    const process = Detector.prototype.process;
    Detector.prototype.process = function (this: Detector, input) {
      detectors.add(this);
      return process.call(this, input);
    };
    try {
      const { got, cls } = await loadTinyClassifier();
      // 48 kHz into a 16 kHz model: the resampler holds input too.
      await classifyNoise(got, cls, ring('held-1', 48000, 1, 5), 2);
      await classifyNoise(got, cls, ring('held-2', 48000, 1, 5), 2);
      assert.equal(detectors.size, 2, 'one detector per sensor');
      // Every array of a detector that holds samples of its stream (as in test/unit/detect.test.ts).
      type Inside = { buf: Float32Array; aFilter: { work: Float64Array }; onsetDet: { filtered: Float64Array; hist: Float64Array }; resampler: { hist: Float64Array } };
      const held: [string, Float32Array | Float64Array][] = [];
      for (const det of detectors) {
        const d = det as unknown as Inside;
        held.push([`${det.sensor} window`, d.buf], [`${det.sensor} A-weighting line`, d.aFilter.work], [`${det.sensor} onset filter line`, d.onsetDet.filtered], [`${det.sensor} onset energies`, d.onsetDet.hist], [`${det.sensor} resampler input`, d.resampler.hist]);
      }
      for (const [name, a] of held) assert.ok(a.some((v) => v !== 0), `${name} holds samples while the node runs`);
      await helper.unload();
      for (const [name, a] of held) assert.equal(a.findIndex((v) => v !== 0), -1, `${name} still holds samples after the node closed`);
    } finally {
      Detector.prototype.process = process;
    }
  });
});

/**
 * The tiny model on a sensor "north-1" (heading 30°, clock ntp, 2 ms): one loud burst 3.2371 s
 * into 6 s of street noise, in blocks of 100 ms at 48 kHz; `blockTimeS` stamps block i (the
 * capture's wall clock; T0 on by default). Every block is handled before it returns.
 */
async function classifyOneBurst(channels: number, blockTimeS?: (i: number) => number, sensorExtra: Record<string, unknown> = {}) {
  const f: Any[] = flow({ path: TINY }, { sensor: 'sensor-1', labels: ['gunshot'], minAboveBackgroundDb: 10 });
  f.push({ id: 'sensor-1', type: 'vigie-sensor', sensorId: 'north-1', lat: 45.4397, lon: 4.3872, heightM: 4, headingDeg: 30, array: 'mono', clock: 'ntp', clockErrorMs: 2, ...sensorExtra });
  await helper.load(NODES, f);
  const got = collect();
  const cls = helper.getNode('cls');
  await waitFor(() => helper.getNode('model-1').source.state.state === 'ready', 60_000, 'model ready');
  const sr = 48000;
  const r = ring('north-1', sr, channels, 10);
  const x = streetNoise(6 * sr, 0.005, 7);
  const burstAt = Math.round(3.2371 * sr);
  const b = streetNoise(sr, 0.4, 8);
  for (let i = 0; i < b.length; i++) x[burstAt + i] += b[i] * Math.exp(-i / (0.02 * sr));
  r.write(Array.from({ length: channels }, (_, c) => (c === 0 ? x : x.map((v) => 0.8 * v))));
  const n = x.length / 4800;
  for (let i = 0; i < n; i++) {
    const blk = block('north-1', i * 4800, 4800, sr, channels, i);
    cls.receive({ payload: blockTimeS ? { ...blk, time: blockTimeS(i) } : blk });
  }
  await waitFor(() => got.completed + got.errors.length >= n, 60_000, 'every block processed');
  return { got, cls, sr, burstAt };
}

describe('acoustic-classifier: detections as DESIGN §2, with the sensor attached for fusion', () => {
  // tiny-ok scores "gunshot" ~1.0 on every window, so the level gate alone decides here:
  // a loud burst passes it, steady street noise does not.
  it('reports a burst with a refined onset, a readable span and sensorInfo; refuses blocks of another sensor', async () => {
    const { got, cls, sr, burstAt } = await classifyOneBurst(2);
    assert.deepEqual(got.errors, []);
    assert.equal(got.dets.length, 1, JSON.stringify(got.dets.map((m: Any) => m.payload)));
    const d = got.dets[0].payload;
    validateDetection(d);
    assert.equal(got.dets[0].topic, 'north-1/gunshot');
    assert.equal(d.sensor, 'north-1');
    assert.ok(Math.abs(d.onset - (T0 + burstAt / sr)) <= 0.002, `onset error ${((d.onset - (T0 + burstAt / sr)) * 1000).toFixed(2)} ms`);
    assert.deepEqual(d.sensorInfo, { lat: 45.4397, lon: 4.3872, heading: 30, clock: 'ntp', clockErrorMs: 2 });
    assert.deepEqual(Object.keys(d.scores), ['gunshot'], 'the alert label only: the model is softmax');
    const span = readSpan(d.span);
    assert.ok(span.ok, 'the localizer can read the span');
    assert.ok(d.span.start <= burstAt && d.span.start + d.span.frames > burstAt);
    // a block of another sensor is refused, naming the configured one
    ring('south-2', sr, 1).write([streetNoise(4800, 0.01, 9)]);
    cls.receive({ payload: block('south-2', 0, 4800, sr) });
    await waitFor(() => got.errors.length > 0, 60_000, 'sensor mismatch error');
    assert.match(got.errors[0], /payload\.sensor: expected "north-1"/);
  });

  it("with the sensor's Ground altitude, sensorInfo.alt is its array's altitude (ground + height), for a remote localizer", async () => {
    const { got } = await classifyOneBurst(1, undefined, { groundAltM: 87.5 });
    assert.deepEqual(got.errors, []);
    assert.equal(got.dets.length, 1);
    validateDetection(got.dets[0].payload);
    assert.deepEqual(got.dets[0].payload.sensorInfo, { lat: 45.4397, lon: 4.3872, alt: 91.5, heading: 30, clock: 'ntp', clockErrorMs: 2 });
  });

  it('a detection whose onset is before any set clock (1970, before NTP answers) says its clock is local, not the form\'s ntp', async () => {
    // Blocks stamped by a wall clock that starts at boot in 1970.
    const { got } = await classifyOneBurst(1, (i) => 40 + (i * 4800) / 48000);
    assert.deepEqual(got.errors, []);
    assert.equal(got.dets.length, 1);
    const d = got.dets[0].payload;
    validateDetection(d);
    assert.ok(d.onset < 100, `onset ${d.onset}`);
    assert.deepEqual(d.sensorInfo, { lat: 45.4397, lon: 4.3872, heading: 30, clock: 'local', clockErrorMs: 60000 });
  });
});

// ---- The shipped model on real recordings -------------------------------------------------

interface Clip {
  path: string;
  label: string;
  durationS: number;
}

/** Real recordings of a label, 0.5–3 s long, spread over the sorted list (deterministic). */
function pickClips(label: string, n: number): Clip[] {
  const rows = parseCsv(fs.readFileSync(path.join(DATA_DIR, 'urban-sounds', 'manifest.csv'), 'utf8'));
  const h = rows[0];
  const all = rows
    .slice(1)
    .map((r) => ({ path: r[h.indexOf('path')], label: r[h.indexOf('label')], kind: r[h.indexOf('kind')], durationS: Number(r[h.indexOf('duration_s')]) }))
    .filter((c) => c.label === label && c.kind === 'real' && c.durationS >= 0.5 && c.durationS <= 3)
    .sort((a, b) => (a.path < b.path ? -1 : 1));
  const step = Math.max(1, Math.floor(all.length / n));
  return all.filter((_, i) => i % step === 0).slice(0, n);
}

/** Clip samples at 48 kHz, and the time of its attack (lib/sim/signals findAttack). */
function clipAt48k(c: Clip): { x: Float32Array; onsetS: number } {
  const w = readWavFile(path.join(DATA_DIR, 'urban-sounds', c.path));
  const x = resample(w.channels[0], w.sampleRate, 48000);
  return { x, onsetS: findAttack(x, 48000) / 48000 };
}

/**
 * Quiet street background (−45 dBFS-ish) with the clips inserted every 6 s at their own level,
 * written into a 30 s ring at 48 kHz; then the whole ring is sent as 100 ms audio blocks.
 */
async function runScene(sensor: string, clips: Clip[]): Promise<{ got: ReturnType<typeof collect>; truth: Array<{ label: string; onset: number }> }> {
  const got = collect();
  const cls = helper.getNode('cls');
  const sr = 48000;
  const seconds = 4 + 6 * clips.length;
  assert.ok(seconds <= 30);
  const r = ring(sensor, sr, 1, 30);
  const x = streetNoise(seconds * sr, 0.004, 99);
  const truth: Array<{ label: string; onset: number }> = [];
  clips.forEach((c, k) => {
    const at = Math.round((3 + 6 * k) * sr);
    const { x: ev, onsetS } = clipAt48k(c);
    for (let i = 0; i < ev.length && at + i < x.length; i++) x[at + i] += ev[i];
    truth.push({ label: c.label, onset: T0 + at / sr + onsetS });
  });
  r.write([x]);
  const frames = 4800;
  const n = Math.floor(x.length / frames);
  for (let i = 0; i < n; i++) cls.receive({ payload: block(sensor, i * frames, frames, sr, 1, i) });
  await waitFor(() => got.completed + got.errors.length >= n, 120000, 'every block processed');
  assert.deepEqual(got.errors, []);
  return { got, truth };
}

describe('acoustic-classifier with the shipped model on real clips (../shared/data)', () => {
  const shipped = { path: '' }; // empty: the model shipped in the package
  // Skipped without the data, except in CI (CI=true), where its absence fails these tests.
  const skip = skipWithoutSharedData();
  // Classes the shipped model must detect: four real clips each, spread over the pool (training
  // and validation recordings alike), at their own level in a quiet street, with the card's
  // recommended thresholds.
  const classes: Array<[string, string | undefined]> = [
    ['glass_break', undefined],
    ['scream', undefined],
    ['gunshot', undefined],
  ];

  for (const [label, todo] of classes) {
    it(`detects ${label} clips mixed into quiet street background`, { skip, todo }, async () => {
      requireSharedData();
      await helper.load(NODES, flow(shipped));
      const clips = pickClips(label, 4);
      assert.equal(clips.length, 4);
      const { got, truth } = await runScene(`real-${label}`, clips);
      const dets = got.dets.map((m: Any) => m.payload);
      for (const d of dets) {
        validateDetection(d);
        assert.equal('speech' in d.scores || 'crowd' in d.scores, false);
      }
      const hits = truth.filter((t) => dets.some((d: Any) => d.label === t.label && Math.abs(d.onset - t.onset) <= 0.5));
      const wrong = dets.filter((d: Any) => !truth.some((t) => t.label === d.label && Math.abs(d.onset - t.onset) <= 0.5));
      const summary = JSON.stringify({ truth: truth.map((t) => t.onset - T0), dets: dets.map((d: Any) => [d.label, +(d.onset - T0).toFixed(3), d.confidence]) });
      assert.ok(hits.length >= 3, `${label}: ${hits.length}/4 detected within 0.5 s ${summary}`);
      assert.ok(wrong.length <= 1, `${label}: ${wrong.length} detections that match no event ${summary}`);
      for (const m of got.scores) assert.equal('speech' in m.payload.scores, false);
    });
  }

  it('stays silent on traffic, siren and speech clips; scores never contain voice classes', { skip }, async () => {
    requireSharedData();
    await helper.load(NODES, flow(shipped));
    const clips = [...pickClips('traffic', 1), ...pickClips('siren', 2), ...pickClips('speech', 1)];
    const { got } = await runScene('real-background', clips);
    const dets = got.dets.map((m: Any) => [m.payload.label, +(m.payload.onset - T0).toFixed(2)]);
    assert.deepEqual(dets, [], `false alarms: ${JSON.stringify(dets)}`);
    assert.ok(got.scores.length >= 40, `${got.scores.length} score windows for 28 s of audio at a 500 ms hop`);
    for (const m of got.scores) {
      assert.equal('speech' in m.payload.scores, false);
      assert.equal('crowd' in m.payload.scores, false);
    }
  });
});

describe('acoustic-classifier with a YAMNet-shaped drop-in model (test/fixtures/models/yamnet-style)', () => {
  // 0.975 s windows at 16 kHz, 521 AudioSet-named sigmoid outputs mapped onto Vigie's labels
  // (several onto one), names with commas in the file's metadata; its "Gunshot, gunfire"
  // follows a loud sudden onset.
  it('loads, classifies a 48 kHz sensor at a 500 ms hop, reports the mapped alert class, and publishes every mapped label but the voice ones', async () => {
    const YAMNET = path.join(REPO, 'test', 'fixtures', 'models', 'yamnet-style.onnx');
    await helper.load(NODES, flow({ path: YAMNET }, { labels: ['gunshot'], minAboveBackgroundDb: 10 }));
    const got = collect();
    const cls = helper.getNode('cls');
    const source = helper.getNode('model-1').source;
    await waitFor(() => source.state.state === 'ready' || source.state.state === 'failed', 60_000, 'model loaded or refused');
    assert.equal(source.state.state, 'ready', source.state.error?.message);
    const sr = 48000;
    const r = ring('north-1', sr, 1, 10);
    const x = streetNoise(6 * sr, 0.005, 7);
    const burstAt = Math.round(3.2371 * sr);
    const b = streetNoise(sr, 0.4, 8);
    for (let i = 0; i < b.length; i++) x[burstAt + i] += b[i] * Math.exp(-i / (0.02 * sr));
    r.write([x]);
    const n = x.length / 4800;
    for (let i = 0; i < n; i++) cls.receive({ payload: block('north-1', i * 4800, 4800, sr, 1, i) });
    await waitFor(() => got.completed + got.errors.length >= n, 60_000, 'every block processed');
    assert.deepEqual(got.errors, []);
    assert.equal(got.dets.length, 1, JSON.stringify(got.dets.map((m: Any) => [m.payload.label, m.payload.onset - T0])));
    const d = got.dets[0].payload;
    validateDetection(d);
    assert.equal(got.dets[0].topic, 'north-1/gunshot');
    assert.ok(Math.abs(d.onset - (T0 + burstAt / sr)) <= 0.002);
    assert.ok(d.confidence >= 0.6, 'over the card\'s threshold');
    const published = ['car_alarm', 'car_horn', 'crash', 'dog_bark', 'explosion', 'fireworks', 'glass_break', 'gunshot', 'music', 'other', 'scream', 'siren', 'tire_skid', 'traffic'];
    assert.deepEqual(Object.keys(d.scores).sort(), published, 'multi-label: every mapped label but speech and crowd');
    assert.ok(got.scores.length >= 8);
    for (const m of got.scores) {
      assert.deepEqual(Object.keys(m.payload.scores).sort(), published);
      assert.ok(Math.abs(m.payload.end - m.payload.start - (15600 - 1) / 16000) < 1e-3, 'a 0.975 s window');
    }
  });
});
