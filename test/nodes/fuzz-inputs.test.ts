/**
 * Every runtime node that takes input, fed a few hundred malformed messages (seeded, see
 * test/support/fuzz.ts) in a real Node-RED (node-red-node-test-helper) with the flow around it
 * that it runs in. For each message: no uncaught exception or unhandled rejection; `done` once,
 * with an error that names the field and what was expected (and a red status), or without
 * error; what goes out validates against the contract's schema and carries no NaN; every
 * twentieth message, and at the end, a valid one gives the right output.
 */
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import { closeRing, openRing } from '../../lib/audio/registry';
import { AudioRing } from '../../lib/audio/ring';
import { loadSchemas } from '../../lib/schemas';
import { streetNoise } from '../../lib/sim/signals';
import { Fuzz, nonFiniteNumbers } from '../support/fuzz';
import { helper } from '../support/node-red-helper';
import { makeUserDir, makeWidgetUserDir } from '../support/nodered';
import { startVirtualCamera, stopVirtualCameras } from '../support/virtual-cameras';
import { waitFor } from '../support/wait';

type Any = any; // eslint-disable-line @typescript-eslint/no-explicit-any

/* eslint-disable @typescript-eslint/no-require-imports */
const micNode = require('../../nodes/mic-capture');
const sensorNode = require('../../nodes/vigie-sensor');
const modelNode = require('../../nodes/vigie-model');
const classifierNode = require('../../nodes/acoustic-classifier');
const localizerNode = require('../../nodes/localizer');
const cameraNode = require('../../nodes/vigie-camera');
const steerNode = require('../../nodes/ptz-steer');
const videoNode = require('../../nodes/video-forward');
const dashboardNode = require('../../nodes/alert-dashboard');
const outboxNode = require('../../nodes/vigie-outbox');
const catchNode = require('@node-red/nodes/core/common/25-catch.js');
const dash = (f: string) => require(`@flowfuse/node-red-dashboard/nodes/config/${f}`);
/* eslint-enable @typescript-eslint/no-require-imports */

/** Messages per node: a few hundred, quick. */
const MESSAGES = 200;
/** A valid message after this many malformed ones: the node still works. */
const VALID_EVERY = 20;
/** The same messages each run; VIGIE_FUZZ_SEED tries others (a failure names its seed and message number). */
const SEED = Number(process.env.VIGIE_FUZZ_SEED ?? 0x5eed);

const schemas = loadSchemas();
const ajv = new Ajv2020({ allErrors: true, strict: false });
for (const s of Object.values(schemas)) ajv.addSchema(s);
/**
 * What breaks schema `name` in `v`. `partial`: the top level's required fields aside (ptz-steer
 * and video-forward take, and pass on, alerts of other systems without the detection's fields).
 */
function schemaErrors(name: string, v: unknown, partial = false): string | undefined {
  const fn = ajv.getSchema(`https://vigie.invalid/schemas/v1/${name}.schema.json`)!;
  if (fn(v)) return undefined;
  const errors = (fn.errors ?? []).filter((e) => !(partial && e.keyword === 'required' && e.instancePath === ''));
  return errors.length ? JSON.stringify(errors).slice(0, 400) : undefined;
}

const REPO = path.resolve(__dirname, '..', '..');
const TINY_MODEL = path.join(REPO, 'test', 'fixtures', 'models', 'tiny-ok.onnx');
const KINDS = ['audio', 'detection', 'decision', 'move-request', 'alert', 'video', ''] as const;
const SITE = { lat: 45.4397, lon: 4.3872 };

/** What a message did: how many times `done` was called, with which error. */
interface Completion {
  calls: number;
  error?: unknown;
}

/** Node-RED calls node._complete(msg, err) for each `done`: recorded per message object. */
function watchCompletions(node: Any): Map<object, Completion> {
  const seen = new Map<object, Completion>();
  const complete = node._complete.bind(node);
  node._complete = (msg: object, err?: unknown) => {
    const c = seen.get(msg) ?? { calls: 0 };
    c.calls++;
    c.error = err;
    seen.set(msg, c);
    return complete(msg, err);
  };
  return seen;
}

/** Every status a node sets from now on. */
function watchStatuses(node: Any): Any[] {
  const statuses: Any[] = [];
  node.on('call:status', (c: Any) => statuses.push(c.args[0]));
  return statuses;
}

/** A short description of a message for a failure report (never the 100 000 characters). */
function describeMsg(m: unknown): string {
  try {
    const text = JSON.stringify(m, (_k, v) => (typeof v === 'bigint' ? `${v}n` : typeof v === 'string' && v.length > 60 ? `${v.slice(0, 60)}…(${v.length})` : v));
    return (text ?? String(m)).slice(0, 300);
  } catch {
    return String(m).slice(0, 300);
  }
}

/** An error that names a field (payload.x, msg.x, a setting) and says what was expected. */
const NAMES_FIELD = /(^|[\s(:"])(msg\.)?(payload|topic|setting|sensor|camera)[\w.[\]/-]*:? .*expected|expected .*(payload|msg)\./;

interface Target {
  /** The node under test. */
  nodeId: string;
  /** Helper nodes on its outputs, with the schema each output's payload must validate against. */
  outputs: Array<{ id: string; schema?: string; partial?: boolean; passThrough?: boolean }>;
  /** A valid payload (a new one each call: new ids, times). */
  valid(i: number): unknown;
  /** Checks what a valid message gave; `before` is the count of outputs before it was sent. */
  checkValid(outs: Any[][], before: number[], completion: Completion): Promise<void> | void;
  /** Malformed payloads are made from these (the node's other inputs too). */
  templates?(i: number): unknown[];
  /** Errors that are not about a field of the message, by design (each explained where given). */
  allowedError?: RegExp;
  /** Before each message (the broker of an outbox going down and up). */
  beforeMessage?(i: number): void;
}

const rings: AudioRing[] = [];
let uncaught: unknown[] = [];
const onUncaught = (e: unknown) => uncaught.push(e);

before(() => {
  process.on('uncaughtException', onUncaught);
  process.on('unhandledRejection', onUncaught);
});
after(() => {
  process.off('uncaughtException', onUncaught);
  process.off('unhandledRejection', onUncaught);
});

afterEach(async () => {
  await helper.unload();
  await helper.stopServer();
  while (rings.length) closeRing(rings.pop()!);
  await stopVirtualCameras();
});

/** Feeds the target MESSAGES malformed messages and valid ones among them; returns what failed, one line each. */
async function fuzz(target: Target, seed: number): Promise<string[]> {
  const f = new Fuzz(seed);
  const node = helper.getNode(target.nodeId);
  assert.ok(node, `node ${target.nodeId} deployed`);
  const completions = watchCompletions(node);
  const statuses = watchStatuses(node);
  const outs = target.outputs.map((o) => {
    const got: Any[] = [];
    helper.getNode(o.id).on('input', (m: Any) => got.push(m));
    return got;
  });
  const checked = target.outputs.map(() => 0);
  const failures: string[] = [];
  const checkOutputs = (where: string) => {
    target.outputs.forEach((o, k) => {
      for (; checked[k] < outs[k].length; checked[k]++) {
        const m = outs[k][checked[k]];
        // An outbox is a queue, not a judge: it passes on what it was given.
        if (o.passThrough) continue;
        const bad = nonFiniteNumbers(m.payload);
        if (bad.length) failures.push(`${where}: output ${o.id} carries ${bad.join(', ')}`);
        if (o.schema) {
          const err = schemaErrors(o.schema, m.payload, o.partial);
          if (err) failures.push(`${where}: output ${o.id} is no valid ${o.schema}: ${err} in ${describeMsg(m.payload)}`);
        }
      }
    });
  };
  const send = async (msg: Any, where: string): Promise<Completion | undefined> => {
    node.receive(msg);
    try {
      await waitFor(() => completions.has(msg), 20_000, 'done');
    } catch {
      failures.push(`${where}: done never called for ${describeMsg(msg)}`);
      return undefined;
    }
    // A second call would come soon after the first.
    await new Promise((r) => setImmediate(r));
    const c = completions.get(msg)!;
    if (c.calls !== 1) failures.push(`${where}: done called ${c.calls} times for ${describeMsg(msg)}`);
    if (c.error !== undefined) {
      const text = c.error instanceof Error ? c.error.message : String(c.error);
      const named = NAMES_FIELD.test(text) || target.allowedError?.test(text);
      if (!(c.error instanceof Error) || !named || /^(TypeError|RangeError)$/.test(c.error.name)) {
        failures.push(`${where}: an error that names no field and what was expected: ${(c.error as Error)?.name}: ${text.slice(0, 300)} for ${describeMsg(msg)}`);
      }
      // A status that says so (the same one as for the previous error is not set again: see setStatus).
      const shown = statuses[statuses.length - 1];
      if (!shown || !(shown.fill === 'red' || shown.fill === 'yellow')) failures.push(`${where}: no red or yellow status for the error ${text.slice(0, 100)}, shows ${JSON.stringify(shown)}`);
    }
    checkOutputs(where);
    return c;
  };
  const sendValid = async (i: number) => {
    const before = outs.map((o) => o.length);
    const msg = { payload: target.valid(i) };
    const c = await send(msg, `valid #${i}`);
    if (!c) return;
    try {
      await target.checkValid(outs, before, c);
    } catch (err) {
      failures.push(`valid #${i} after malformed ones: ${(err as Error).message}`);
    }
  };
  await sendValid(0);
  for (let i = 1; i <= MESSAGES; i++) {
    target.beforeMessage?.(i);
    const templates = [target.valid(i), ...(target.templates?.(i) ?? [])];
    const msg = f.message(f.mutate(f.pick(templates), KINDS));
    await send(msg, `seed ${seed} #${i}`);
    if (i % VALID_EVERY === 0) await sendValid(i);
    if (uncaught.length) failures.push(`#${i}: uncaught ${(uncaught as Error[]).map((e) => e?.stack ?? String(e)).join('; ').slice(0, 500)}`), (uncaught = []);
  }
  await sendValid(MESSAGES + 1);
  // Prototype keys came as own properties: none may have reached Object.prototype.
  if ('polluted' in Object.prototype) failures.push(`Object.prototype polluted: ${JSON.stringify((Object.prototype as Any).polluted)}`);
  return failures;
}

function assertNoFailures(failures: string[]): void {
  assert.equal(failures.length, 0, `${failures.length} failure(s):\n${[...new Set(failures)].slice(0, 25).join('\n')}`);
}

const T0 = () => Date.now() / 1000 - 5;

describe('every node fed malformed input: errors name the field, done once, outputs valid, still works', () => {
  it('mic-capture (input source)', async () => {
    const up = openRing({ sensor: 'up-1', sampleRate: 16000, channels: 4, seconds: 5 });
    rings.push(up);
    await helper.startServer();
    await helper.load(
      [sensorNode, micNode, catchNode],
      [
        { id: 'tab', type: 'tab' },
        { id: 'sens', type: 'vigie-sensor', sensorId: 'gw-1', lat: String(SITE.lat), lon: String(SITE.lon), heightM: '4', headingDeg: '0', array: 'square-4', clock: 'ntp', clockErrorMs: '1' },
        { id: 'mic', type: 'mic-capture', z: 'tab', sensor: 'sens', source: 'input', wires: [['blocks'], ['health']] },
        { id: 'blocks', type: 'helper', z: 'tab' },
        { id: 'health', type: 'helper', z: 'tab' },
        { id: 'catcher', type: 'catch', z: 'tab', scope: null, wires: [['caught']] },
        { id: 'caught', type: 'helper', z: 'tab' },
      ],
    );
    // Each valid block refers to 100 ms written just now, as a capture upstream emits them (the
    // ring forgets audio older than its 5 s, however slowly this machine runs the test).
    let seq = 0;
    const block = () => {
      up.write([0, 1, 2, 3].map((k) => streetNoise(1600, 0.1, seq * 4 + k + 1)));
      const start = up.end - 1600;
      return { kind: 'audio', sensor: 'up-1', seq: seq++, sampleRate: 16000, channels: 4, start, frames: 1600, time: 1_750_000_000 + start / 16000, clock: 'ntp' };
    };
    const failures = await fuzz(
      {
        nodeId: 'mic',
        outputs: [{ id: 'blocks', schema: 'audio-block' }, { id: 'health' }],
        valid: block,
        checkValid: async (outs, before, c) => {
          assert.equal(c.error, undefined, `done without error, got ${(c.error as Error)?.message}`);
          await waitFor(() => outs[0].length > before[0], 15_000, 'a block of gw-1');
          assert.equal(outs[0][outs[0].length - 1].payload.sensor, 'gw-1');
        },
      },
      SEED,
    );
    assertNoFailures(failures);
  });

  it('acoustic-classifier', async () => {
    const r = openRing({ sensor: 'cls-1', sampleRate: 16000, channels: 1, seconds: 5 });
    rings.push(r);
    await helper.startServer();
    await helper.load(
      [modelNode, classifierNode, catchNode],
      [
        { id: 'tab', type: 'tab' },
        { id: 'model-1', type: 'vigie-model', path: TINY_MODEL },
        { id: 'cls', type: 'acoustic-classifier', z: 'tab', model: 'model-1', labels: ['gunshot', 'glass_break', 'scream', 'crash', 'explosion', 'tire_skid'], scores: true, wires: [['dets'], ['scores']] },
        { id: 'dets', type: 'helper', z: 'tab' },
        { id: 'scores', type: 'helper', z: 'tab' },
        { id: 'catcher', type: 'catch', z: 'tab', scope: null, wires: [['caught']] },
        { id: 'caught', type: 'helper', z: 'tab' },
      ],
    );
    await waitFor(() => helper.getNode('model-1').source.state.state === 'ready', 60_000, 'model ready');
    let seq = 0;
    const failures = await fuzz(
      {
        nodeId: 'cls',
        outputs: [{ id: 'dets', schema: 'detection' }, { id: 'scores' }],
        // 100 ms written just now (see mic-capture above).
        valid: () => {
          r.write([streetNoise(1600, 0.05, seq + 7)]);
          const start = r.end - 1600;
          return { kind: 'audio', sensor: 'cls-1', seq: seq++, sampleRate: 16000, channels: 1, start, frames: 1600, time: 1_750_000_000 + start / 16000, clock: 'ntp' };
        },
        checkValid: (_outs, _before, c) => assert.equal(c.error, undefined, `done without error, got ${(c.error as Error)?.message}`),
        // The first block of a sensor whose audio was overwritten before its turn: the field is
        // named, with why ("payload.start: the block's samples were already overwritten").
        allowedError: /^payload\.start: the block's samples were already overwritten/,
      },
      SEED + 1,
    );
    assertNoFailures(failures);
  });

  const detection = (i: number, sensor = 'north-1') => {
    const onset = T0();
    return {
      kind: 'detection', id: `det-${i}`, sensor, label: 'gunshot', confidence: 0.9, onset, offset: onset + 0.3,
      level: { dbfs: -20, dba: -22 }, scores: { gunshot: 0.9, fireworks: 0.05 }, span: { sensor, start: 1000, frames: 4800 },
    };
  };

  it('localizer (single array)', async () => {
    const r = openRing({ sensor: 'north-1', sampleRate: 48000, channels: 4, seconds: 2 });
    rings.push(r);
    r.write([0, 1, 2, 3].map((k) => streetNoise(48000, 0.05, k + 1)));
    await helper.startServer();
    await helper.load(
      [sensorNode, localizerNode, catchNode],
      [
        { id: 'tab', type: 'tab' },
        { id: 'sens', type: 'vigie-sensor', sensorId: 'north-1', lat: String(SITE.lat), lon: String(SITE.lon), heightM: '4', headingDeg: '30', array: 'square-4', clock: 'ptp', clockErrorMs: '0.1' },
        { id: 'loc', type: 'localizer', z: 'tab', mode: 'single', sensor: 'sens', wires: [['out']] },
        { id: 'out', type: 'helper', z: 'tab' },
        { id: 'catcher', type: 'catch', z: 'tab', scope: null, wires: [['caught']] },
        { id: 'caught', type: 'helper', z: 'tab' },
      ],
    );
    const failures = await fuzz(
      {
        nodeId: 'loc',
        outputs: [{ id: 'out', schema: 'alert' }],
        valid: (i) => detection(i),
        checkValid: (outs, before, c) => {
          assert.equal(c.error, undefined, `done without error, got ${(c.error as Error)?.message}`);
          assert.equal(outs[0].length, before[0] + 1, 'one located detection');
          const p = outs[0][outs[0].length - 1].payload;
          assert.ok(p.location && typeof p.location.method === 'string', 'a location');
        },
      },
      SEED + 2,
    );
    assertNoFailures(failures);
  });

  it('localizer (fusion, detections of other gateways over MQTT)', async () => {
    await helper.startServer();
    await helper.load(
      [localizerNode, catchNode],
      [
        { id: 'tab', type: 'tab' },
        { id: 'loc', type: 'localizer', z: 'tab', mode: 'fusion', minSensors: 2, timeoutMs: 50, wires: [['out']] },
        { id: 'out', type: 'helper', z: 'tab' },
        { id: 'catcher', type: 'catch', z: 'tab', scope: null, wires: [['caught']] },
        { id: 'caught', type: 'helper', z: 'tab' },
      ],
    );
    // Each its own incident: onsets a minute apart, so that no malformed copy before it makes it a late report.
    let made = 0;
    const remote = (i: number) => {
      const sensor = `gw-${i % 3}`;
      const onset = 1_750_000_000 + 60 * made++;
      return { ...detection(i, sensor), id: `det-${made}`, onset, offset: onset + 0.3, sensorInfo: { lat: SITE.lat + (i % 3) * 0.0003, lon: SITE.lon + ((i + 1) % 3) * 0.0003, alt: 4, heading: 0, clock: 'ptp', clockErrorMs: 0.1 } };
    };
    const failures = await fuzz(
      {
        nodeId: 'loc',
        outputs: [{ id: 'out', schema: 'alert' }],
        valid: (i) => remote(i),
        checkValid: async (outs, before, c) => {
          assert.equal(c.error, undefined, `done without error, got ${(c.error as Error)?.message}`);
          await waitFor(() => outs[0].length > before[0], 15_000, 'an alert once the timeout passed');
        },
      },
      SEED + 3,
    );
    assertNoFailures(failures);
  });

  it('ptz-steer (alerts, decisions and move requests)', async () => {
    const cam = await startVirtualCamera();
    await helper.startServer();
    await helper.load(
      [cameraNode, steerNode, catchNode],
      [
        { id: 'tab', type: 'tab' },
        { id: 'cfg-camA', type: 'vigie-camera', cameraId: 'camA', name: 'Camera A', host: '127.0.0.1', port: cam.port, lat: SITE.lat, lon: SITE.lon, heightM: 6, mountHeadingDeg: 0, maxRangeM: 300 },
        { id: 'steer', type: 'ptz-steer', z: 'tab', cameras: ['cfg-camA'], mode: 'automatic', returnHomeS: 0, wires: [['out'], ['err']] },
        { id: 'out', type: 'helper', z: 'tab' },
        { id: 'err', type: 'helper', z: 'tab' },
        { id: 'catcher', type: 'catch', z: 'tab', scope: null, wires: [['caught']] },
        { id: 'caught', type: 'helper', z: 'tab' },
      ],
      { 'cfg-camA': { username: 'op', password: 'pw' } },
    );
    await waitFor(() => helper.getNode('cfg-camA').connection?.state === 'connected', 20_000, 'camera connected');
    const located = (i: number) => ({
      ...detection(i),
      label: 'glass_break',
      scores: { glass_break: 0.9 },
      location: { method: 'tdoa', bearing: 0, bearingStd: 2, position: { lat: SITE.lat + 0.0002, lon: SITE.lon + 0.0001, errorM: 3 }, sensors: ['north-1', 's2'] },
    });
    const failures = await fuzz(
      {
        nodeId: 'steer',
        outputs: [{ id: 'out', schema: 'alert', partial: true }, { id: 'err', schema: 'alert', partial: true }],
        valid: located,
        templates: (i) => [
          { kind: 'decision', alertId: `det-${i - 1}`, action: 'confirm', operator: 'op', time: Date.now() / 1000 },
          { kind: 'move-request', alertId: `det-${i - 1}`, cameraId: 'camA', operator: 'op' },
        ],
        checkValid: (outs, before, c) => {
          assert.equal(c.error, undefined, `done without error, got ${(c.error as Error)?.message}`);
          const cams = outs[0].slice(before[0]).map((m) => m.payload.camera?.state);
          // Or waits for it: an earlier (malformed but usable) alert may hold it for its look.
          assert.ok(cams.some((s) => s === 'on-target' || s === 'moving' || s === 'preset' || s === 'waiting'), `the camera turned to it (states ${cams.join(', ')})`);
        },
      },
      SEED + 4,
    );
    assertNoFailures(failures);
  });

  it('video-forward', async () => {
    await helper.startServer();
    await helper.load(
      [videoNode, catchNode],
      [
        { id: 'tab', type: 'tab' },
        { id: 'vf', type: 'video-forward', z: 'tab', name: 'video', wires: [['out']] },
        { id: 'out', type: 'helper', z: 'tab' },
        { id: 'catcher', type: 'catch', z: 'tab', scope: null, wires: [['caught']] },
        { id: 'caught', type: 'helper', z: 'tab' },
      ],
    );
    const failures = await fuzz(
      {
        nodeId: 'vf',
        outputs: [{ id: 'out', schema: 'alert', partial: true }],
        valid: (i) => ({ ...detection(i), camera: { id: 'camA', name: 'Camera A', pan: 10, tilt: -5, zoom: 0.2, target: { bearing: 10, tilt: -5 }, state: 'failed', reason: 'no answer' } }),
        checkValid: (outs, before, c) => {
          assert.equal(c.error, undefined, `done without error, got ${(c.error as Error)?.message}`);
          assert.equal(outs[0].length, before[0] + 1, 'the alert passed on');
        },
      },
      SEED + 5,
    );
    assertNoFailures(failures);
  });

  it('alert-dashboard', async () => {
    const userDir = makeWidgetUserDir('vigie-fuzz-dash-');
    helper.settings({ userDir });
    try {
      await helper.startServer();
      await helper.load(
        [dash('ui_base'), dash('ui_page'), dash('ui_group'), dash('ui_theme'), dashboardNode, catchNode],
        [
          { id: 'tab', type: 'tab' },
          { id: 'ui-base-1', type: 'ui-base', name: 'Vigie', path: '/dashboard' },
          { id: 'ui-theme-1', type: 'ui-theme', name: 'theme', colors: {}, sizes: {} },
          { id: 'ui-page-1', type: 'ui-page', name: 'Alerts', ui: 'ui-base-1', path: '/alerts', layout: 'grid', theme: 'ui-theme-1', order: 1 },
          { id: 'ui-group-1', type: 'ui-group', name: 'Console', page: 'ui-page-1', width: '12', height: '1', order: 1 },
          { id: 'dash', type: 'alert-dashboard', z: 'tab', group: 'ui-group-1', name: 'console', auditDir: 'audit-fuzz', persist: true, wires: [['out']] },
          { id: 'out', type: 'helper', z: 'tab' },
          { id: 'catcher', type: 'catch', z: 'tab', scope: null, wires: [['caught']] },
          { id: 'caught', type: 'helper', z: 'tab' },
        ],
      );
      const failures = await fuzz(
        {
          nodeId: 'dash',
          outputs: [{ id: 'out', schema: 'decision' }],
          valid: (i) => ({ ...detection(i), label: 'glass_break', scores: { glass_break: 0.9 } }),
          checkValid: async (_outs, _before, c) => {
            assert.equal(c.error, undefined, `done without error, got ${(c.error as Error)?.message}`);
          },
        },
        SEED + 6,
      );
      // What the console keeps and shows its operators: alerts valid for the schema.
      const base = helper.getNode('ui-base-1');
      const state = await waitFor(() => base.stores.data.get('dash')?.payload?.alerts?.length ? base.stores.data.get('dash').payload : undefined, 15_000, 'the console state');
      for (const r of state.alerts) {
        const err = schemaErrors('alert', r.alert);
        if (err) failures.push(`console keeps ${r.alert.id}, no valid alert: ${err}`);
        const bad = nonFiniteNumbers(r.alert);
        if (bad.length) failures.push(`console keeps ${r.alert.id} with ${bad.join(', ')}`);
      }
      assertNoFailures(failures);
    } finally {
      await helper.unload();
      fs.rmSync(userDir, { recursive: true, force: true });
    }
  });

  it('vigie-outbox (broker going down and up)', async () => {
    const userDir = makeUserDir('vigie-fuzz-outbox-');
    helper.settings({ userDir });
    const standInBroker = (RED: Any) => {
      RED.nodes.registerType('mqtt-broker', function (this: Any, config: Any) {
        RED.nodes.createNode(this, config);
        this.connected = true;
      });
    };
    try {
      await helper.startServer();
      await helper.load(
        [standInBroker, outboxNode, catchNode],
        [
          { id: 'tab', type: 'tab' },
          { id: 'broker', type: 'mqtt-broker', name: 'city broker' },
          { id: 'box', type: 'vigie-outbox', z: 'tab', broker: 'broker', maxMessages: 50, wires: [['out']] },
          { id: 'out', type: 'helper', z: 'tab' },
          { id: 'catcher', type: 'catch', z: 'tab', scope: null, wires: [['caught']] },
          { id: 'caught', type: 'helper', z: 'tab' },
        ],
      );
      const broker = helper.getNode('broker');
      const failures = await fuzz(
        {
          nodeId: 'box',
          outputs: [{ id: 'out', passThrough: true }],
          valid: (i) => ({ ...detection(i), label: 'glass_break', scores: { glass_break: 0.9 } }),
          // Down for the first half of every forty messages: what comes then is kept (and written to its file).
          beforeMessage: (i) => {
            broker.connected = i % 40 >= 20;
          },
          checkValid: async (outs, before, c) => {
            assert.equal(c.error, undefined, `done without error, got ${(c.error as Error)?.message}`);
            if (broker.connected) await waitFor(() => outs[0].length > before[0], 15_000, 'the message passed on');
          },
        },
        SEED + 7,
      );
      assertNoFailures(failures);
    } finally {
      await helper.unload();
      fs.rmSync(userDir, { recursive: true, force: true });
    }
  });
});
