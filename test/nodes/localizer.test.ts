import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { closeRing, openRing } from '../../lib/audio/registry';
import { AudioRing } from '../../lib/audio/ring';
import { Detection } from '../../lib/contracts';
import { IncidentAssociator, MAX_INCIDENTS } from '../../lib/localize/fusion';
import { remoteGunshot } from '../support/detections';
import { warningsOf } from '../support/node-red-log';
import { FusionLocalizer } from '../../lib/localize/localizer';
import { bearingDeg, diffDeg, enuToGeodetic, geodeticToEnu } from '../../lib/localize/geo';
import { SceneRenderer } from '../../lib/sim/render';
import { parseScene } from '../../lib/sim/scene';
import { waitFor } from '../support/wait';
import { stepWallClock } from '../support/wall-clock';
import { helper } from '../support/node-red-helper';
import { tempDir } from '../support/tmp';
import { Finding, scanJson } from '../support/privacy-scan';
import * as fs from 'node:fs';
import * as path from 'node:path';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const localizerNode = require('../../nodes/localizer');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const sensorNode = require('../../nodes/vigie-sensor');


type Any = any; // eslint-disable-line @typescript-eslint/no-explicit-any

const ORIGIN = { lat: 45.4397, lon: 4.3872, alt: 0 };
const T0 = 1_750_000_000;
const sensorCfg = { id: 'cfg1', type: 'vigie-sensor', name: 'North', sensorId: 'north-1', lat: String(ORIGIN.lat), lon: String(ORIGIN.lon), heightM: '4', headingDeg: '30', array: 'square-4', clock: 'ptp', clockErrorMs: '0.1' };

const rings: AudioRing[] = [];

/** Render an impulse from `trueBearing` (20 m away) into the ring of north-1; returns a detection referencing it. */
function detectionFromSimulatedStreet(trueBearing: number): Detection {
  const b = (trueBearing * Math.PI) / 180;
  const scene = parseScene({
    origin: ORIGIN,
    sensors: [{ id: 'north-1', position: [0, 0], heightM: 4, headingDeg: 30, array: 'square-4' }],
    sources: [{ id: 'shot', label: 'gunshot', synth: { type: 'impulse' }, position: [20 * Math.sin(b), 20 * Math.cos(b), 1.5], onsetSec: 0.3, level: { dbSpl: 110 } }],
    background: { noise: { color: 'traffic', level: { dbSpl: 55 } } },
  });
  const ring = openRing({ sensor: 'north-1', sampleRate: 48000, channels: 4, seconds: 5 });
  rings.push(ring);
  ring.write(new SceneRenderer(scene).render(48000)[0]);
  const arrival = Math.round((0.31 + Math.hypot(20, 2.5) / scene.speedOfSoundMs) * 48000);
  return {
    kind: 'detection',
    id: 'det-1',
    sensor: 'north-1',
    label: 'gunshot',
    confidence: 0.93,
    onset: T0 + arrival / 48000,
    offset: T0 + arrival / 48000 + 0.3,
    level: { dbfs: -20 },
    scores: { gunshot: 0.93 },
    span: { sensor: 'north-1', start: arrival - 2400, frames: 19200 },
  };
}

function collect(node: Any): Any[] {
  const got: Any[] = [];
  node.on('input', (msg: Any) => got.push(msg));
  return got;
}

describe('localizer node: single array', () => {
  afterEach(async () => {
    await helper.unload();
    await helper.stopServer();
    while (rings.length) closeRing(rings.pop()!);
  });

  const flow = (extra: object = {}) => [
    { id: 'tab', type: 'tab' },
    sensorCfg,
    { id: 'loc', type: 'localizer', z: 'tab', name: 'single', mode: 'single', sensor: 'cfg1', wires: [['out']], ...extra },
    { id: 'out', type: 'helper', z: 'tab' },
  ];

  it('adds a DOA bearing from the detection span, with the sensor info of the chosen vigie-sensor', async () => {
    const det = detectionFromSimulatedStreet(250);
    await helper.startServer();
    await helper.load([sensorNode, localizerNode], flow());
    const got = collect(helper.getNode('out'));
    helper.getNode('loc').receive({ payload: det, topic: 'north-1/gunshot' });
    await waitFor(() => got.length === 1, 10_000, 'a located detection');
    const p = got[0].payload;
    assert.equal(got[0].topic, 'north-1/gunshot', 'message properties are kept');
    assert.equal(p.id, 'det-1');
    assert.equal(p.location.method, 'doa');
    assert.ok(Math.abs(diffDeg(p.location.bearing, 250)) < 2, `bearing ${p.location.bearing}`);
    assert.ok(p.location.bearingStd > 0 && p.location.bearingStd < 5);
    assert.ok(p.location.elevation < 0);
    assert.deepEqual(p.location.sensors, ['north-1']);
    assert.equal(p.sensorInfo.heading, 30);
    assert.equal(p.sensorInfo.clock, 'ptp');
    await waitFor(() => helper.getNode('loc').status.called, 10_000, 'a status');
    const st = helper.getNode('loc').status.lastCall.args[0];
    assert.equal(st.fill, 'green');
  });

  it('a chosen vigie-sensor whose configuration is invalid: a red status and an error naming why; its detections go on unlocated', async () => {
    const det = detectionFromSimulatedStreet(250);
    await helper.startServer();
    const f = flow();
    f[1] = { ...sensorCfg, lat: 'abc' };
    await helper.load([sensorNode, localizerNode], f);
    const loc = helper.getNode('loc');
    assert.deepEqual(loc.status.lastCall.args[0], { fill: 'red', shape: 'ring', text: 'bad sensor: lat' });
    // (The spy is shared by every node: the vigie-sensor's own error is among them.)
    const errors = loc.error.args.map((a: Any[]) => String(a[0])).filter((e: string) => e.startsWith('sensor:'));
    assert.deepEqual(errors, ['sensor: lat: expected a number from -90 to 90, got "abc"; its detections cannot be located']);
    const got = collect(helper.getNode('out'));
    loc.receive({ payload: det, topic: 'north-1/gunshot' });
    await waitFor(() => got.length === 1, 10_000, 'the detection, unlocated');
    assert.equal(got[0].payload.location.method, 'none');
  });

  it('passes an unlocalisable event on with method "none" and a reason (no geometry; audio not in the ring)', async () => {
    const det = detectionFromSimulatedStreet(10);
    await helper.startServer();
    await helper.load([sensorNode, localizerNode], flow());
    const got = collect(helper.getNode('out'));
    const loc = helper.getNode('loc');
    loc.receive({ payload: { ...det, id: 'det-2', sensor: 'elsewhere', span: { ...det.span, sensor: 'elsewhere' } } });
    loc.receive({ payload: { ...det, id: 'det-3', span: { ...det.span, start: 10_000_000 } } });
    await waitFor(() => got.length === 2, 10_000, 'both events passed on');
    const byId = Object.fromEntries(got.map((m) => [m.payload.id, m.payload.location]));
    assert.equal(byId['det-2'].method, 'none');
    assert.match(byId['det-2'].reason, /no array geometry for sensor "elsewhere"/);
    assert.equal(byId['det-3'].method, 'none');
    assert.match(byId['det-3'].reason, /audio future/);
  });

  it('reports a payload that is not a detection with an error naming the field, and keeps running', async () => {
    const det = detectionFromSimulatedStreet(100);
    await helper.startServer();
    await helper.load([sensorNode, localizerNode], flow());
    const got = collect(helper.getNode('out'));
    const loc = helper.getNode('loc');
    loc.receive({ payload: { ...det, confidence: 'high' } });
    loc.receive({ payload: { kind: 'audio' } });
    await waitFor(() => loc.error.callCount >= 2, 10_000, 'two errors');
    const messages = loc.error.args.map((a: Any[]) => String(a[0]?.message ?? a[0]));
    assert.ok(messages.some((m: string) => /payload\.confidence: expected a finite number/.test(m)), messages.join(' | '));
    assert.ok(messages.some((m: string) => /payload\.kind: expected "detection"/.test(m)), messages.join(' | '));
    assert.equal(loc.status.lastCall.args[0].fill, 'red');
    loc.receive({ payload: det });
    await waitFor(() => got.length === 1, 10_000, 'the next good detection');
    assert.equal(got[0].payload.location.method, 'doa');
  });

  it('a detection that breaks its schema further in is refused naming the field, and nothing carries it on: scores out of range, an id too long to keep, a later stage\'s NaN', async () => {
    const det = detectionFromSimulatedStreet(100);
    await helper.startServer();
    await helper.load([sensorNode, localizerNode], flow());
    const got = collect(helper.getNode('out'));
    const loc = helper.getNode('loc');
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ ...det, scores: { gunshot: 0.93, fireworks: -1 } }, /^payload\.scores\.fireworks: expected a finite number >= 0 <= 1, got -1$/],
      // Longer than the contract's text: dropped from the alert's fields, it went out with no id at all.
      [{ ...det, id: 'd'.repeat(5000) }, /^payload\.id: expected a non-empty string of at most 2000 characters, got "d{40}…"$/],
      [{ ...det, camera: { id: 'c1', name: 'C', pan: Number.NaN, tilt: 0, zoom: 0, target: { bearing: 1, tilt: 0 }, state: 'on-target' } }, /^payload\.camera\.pan: expected a finite number, got NaN$/],
    ];
    for (const [payload, words] of cases) {
      const before = loc.error.callCount;
      loc.receive({ payload });
      await waitFor(() => loc.error.callCount > before, 10_000, `an error for ${words}`);
      assert.match(String(loc.error.lastCall.args[0]?.message ?? loc.error.lastCall.args[0]), words);
      assert.equal(loc.status.lastCall.args[0].fill, 'red');
    }
    loc.receive({ payload: det });
    await waitFor(() => got.length === 1, 10_000, 'the next good detection');
    assert.equal(got[0].payload.id, 'det-1', 'only the good detection went out');
  });

  it('rejects a bad setting at deploy with the setting named', async () => {
    await helper.startServer();
    await helper.load([sensorNode, localizerNode], flow({ windowMs: 'long' }));
    const loc = helper.getNode('loc');
    await waitFor(() => loc.error.called, 10_000, 'a config error');
    assert.match(String(loc.error.args[0][0]), /setting windowMs: expected a number from 5 to 200, got "long"/);
    // the status: the setting and its value, short enough to be read under the node
    assert.deepEqual(loc.status.lastCall.args[0], { fill: 'red', shape: 'ring', text: 'bad setting windowMs: "long"' });
  });
});

describe('localizer node: fusion', () => {
  afterEach(async () => {
    await helper.unload();
    await helper.stopServer();
  });

  const C = 331.3 + 0.606 * 15;
  const SENSORS: Record<string, [number, number]> = { a: [-20, -15], b: [25, -10], c: [5, 30], d: [-25, 22] };
  const SRC: [number, number] = [3, 4];

  /** A remote detection as JSON text (as it arrives from MQTT), with its gateway's bearing. */
  function remote(sensor: string, extra: Any = {}): string {
    const [e, n] = SENSORS[sensor];
    const g = enuToGeodetic([e, n, 0], ORIGIN);
    const t = T0 + 0.2 + Math.hypot(SRC[0] - e, SRC[1] - n, 1.5 - 4) / C;
    const det = {
      ...remoteGunshot(sensor, g, t),
      location: { method: 'doa', bearing: bearingDeg(e, n, SRC[0], SRC[1]), bearingStd: 1, sensors: [sensor] },
      ...extra,
    };
    return JSON.stringify(det);
  }

  const flow = (extra: object = {}) => [
    { id: 'tab', type: 'tab' },
    { id: 'loc', type: 'localizer', z: 'tab', name: 'fusion', mode: 'fusion', minSensors: 3, timeoutMs: 300, wires: [['out']], ...extra },
    { id: 'out', type: 'helper', z: 'tab' },
  ];

  it("with its vigie-sensors' Ground altitudes (a 20 % street), places the sound on the slope and gives its altitude", async () => {
    const groundAt = (n: number) => 100 + 0.2 * n;
    const ids = Object.keys(SENSORS);
    const sensors = ids.map((id) => {
      const [e, n] = SENSORS[id];
      const g = enuToGeodetic([e, n, 0], ORIGIN);
      return { id: `cfg-${id}`, type: 'vigie-sensor', sensorId: id, lat: String(g.lat), lon: String(g.lon), heightM: '4', groundAltM: String(groundAt(n)), array: 'mono', clock: 'ptp', clockErrorMs: '0.1' };
    });
    await helper.startServer();
    await helper.load([localizerNode, sensorNode], [...flow({ minSensors: 4, timeoutMs: 2000 }), ...sensors]);
    const got = collect(helper.getNode('out'));
    const loc = helper.getNode('loc');
    for (const id of ids) {
      const [e, n] = SENSORS[id];
      const t = T0 + 0.2 + Math.hypot(SRC[0] - e, SRC[1] - n, groundAt(SRC[1]) + 1.5 - (groundAt(n) + 4)) / C;
      const { sensorInfo: _local, ...det } = remoteGunshot(id, { lat: 0, lon: 0 }, t);
      loc.receive({ payload: det });
    }
    await waitFor(() => got.length === 1, 10_000, 'the located incident');
    const pos = got[0].payload.location.position;
    const [e, n] = geodeticToEnu({ lat: pos.lat, lon: pos.lon }, ORIGIN);
    assert.ok(Math.hypot(e - SRC[0], n - SRC[1]) < 0.05, `position error ${Math.hypot(e - SRC[0], n - SRC[1])} m`);
    assert.ok(Math.abs(pos.alt - (groundAt(SRC[1]) + 1.5)) < 0.05, `altitude ${pos.alt}`);
    assert.equal(got[0].payload.sensorInfo.alt, groundAt(SENSORS[got[0].payload.sensor][1]) + 4, "the lead sensor's array altitude");
  });

  it('emits one located event per incident once 3 sensors reported; late and duplicate reports do not re-alert', async () => {
    await helper.startServer();
    await helper.load([localizerNode], flow({ timeoutMs: 2000 }));
    const got = collect(helper.getNode('out'));
    const loc = helper.getNode('loc');
    loc.receive({ payload: remote('a') });
    loc.receive({ payload: Buffer.from(remote('b')) });
    await waitFor(() => loc.status.lastCall?.args[0].text === 'gunshot: 2/3 sensors, waiting', 10_000, 'two of three sensors counted');
    assert.deepEqual(loc.status.lastCall.args[0], { fill: 'green', shape: 'ring', text: 'gunshot: 2/3 sensors, waiting' });
    assert.equal(loc.send.callCount, 0, 'two of three: waiting');
    loc.receive({ payload: remote('c') });
    await waitFor(() => got.length === 1, 10_000, 'the located incident');
    const p = got[0].payload;
    assert.equal(p.location.method, 'tdoa');
    const [e, n] = geodeticToEnu({ lat: p.location.position.lat, lon: p.location.position.lon }, ORIGIN);
    assert.ok(Math.hypot(e - SRC[0], n - SRC[1]) < 1, `position error ${Math.hypot(e - SRC[0], n - SRC[1])} m`);
    assert.ok(p.location.position.errorM > 0 && p.location.position.errorM < 3);
    assert.deepEqual([...p.location.sensors].sort(), ['a', 'b', 'c']);
    assert.equal(p.incident.reports.length, 3);
    assert.ok(Number.isFinite(p.location.bearing));
    // Late fourth sensor and a duplicate of the first: absorbed.
    loc.receive({ payload: remote('d') });
    loc.receive({ payload: remote('a') });
    await waitFor(() => /^duplicate report from a \(.*\) absorbed$/.test(loc.status.lastCall.args[0].text), 10_000, 'the duplicate absorbed');
    // A negative check, so a fixed wait: past the incident's window, which could send it again,
    // there is still the one alert. The window's timer ends 2 s (and 5 ms) after the first report,
    // which came before this timer, so it fires first.
    await new Promise((r) => setTimeout(r, 2100));
    assert.equal(got.length, 1, 'no second alert for the same incident');
  });

  it('redeployed ("modified nodes") while an incident waits for sensors: the new instance has it, and the third sensor completes it', async () => {
    await helper.startServer();
    await helper.load([localizerNode], flow({ timeoutMs: 60_000 }));
    const got = collect(helper.getNode('out'));
    const first = helper.getNode('loc');
    first.receive({ payload: remote('a') });
    first.receive({ payload: remote('b') });
    await waitFor(() => first.status.lastCall?.args[0].text === 'gunshot: 2/3 sensors, waiting', 10_000, 'two of three sensors counted');
    // A setting changed: the deploy restarts the localizer only.
    await helper.setFlows(flow({ timeoutMs: 60_000, temperatureC: 16 }), 'nodes');
    const loc = helper.getNode('loc');
    assert.notEqual(loc, first, 'the localizer was not restarted: the case under test did not happen');
    loc.receive({ payload: remote('c') });
    await waitFor(() => got.length === 1, 10_000, 'the located incident');
    assert.deepEqual([...got[0].payload.location.sensors].sort(), ['a', 'b', 'c']);
    assert.equal(got[0].payload.location.method, 'tdoa');
  });

  it('redeployed ("full") while an incident waits for sensors: it goes out at its deadline with what it has', async () => {
    await helper.startServer();
    await helper.load([localizerNode], flow({ timeoutMs: 1500 }));
    const first = helper.getNode('loc');
    first.receive({ payload: remote('a') });
    first.receive({ payload: remote('b') });
    await waitFor(() => first.status.lastCall?.args[0].text === 'gunshot: 2/3 sensors, waiting', 10_000, 'two of three sensors counted');
    await helper.setFlows(flow({ timeoutMs: 1500, temperatureC: 16 }), 'full');
    const got = collect(helper.getNode('out'));
    await waitFor(() => got.length === 1, 10_000, 'the incident sent at its timeout');
    assert.deepEqual([...got[0].payload.location.sensors].sort(), ['a', 'b']);
  });

  it('Stop flows while an incident waits for sensors, Start flows: it is kept in a file, taken at the start, and the third sensor completes it', async () => {
    const userDir = tempDir('vigie-loc-stop-');
    helper.settings({ userDir });
    try {
      await helper.startServer();
      await helper.load([localizerNode], flow({ timeoutMs: 60_000 }));
      const first = helper.getNode('loc');
      first.receive({ payload: remote('a') });
      first.receive({ payload: remote('b') });
      await waitFor(() => first.status.lastCall?.args[0].text === 'gunshot: 2/3 sensors, waiting', 10_000, 'two of three sensors counted');
      await helper._redNodes.stopFlows();
      const file = path.join(userDir, 'vigie-localizer-loc.json');
      const text = fs.readFileSync(file, 'utf8');
      // Privacy (DESIGN §4): the detections as they came in, no samples.
      const found: Finding[] = [];
      scanJson(JSON.parse(text), 'stop file', found);
      assert.deepEqual(found, []);
      assert.deepEqual(JSON.parse(text).items.map((i: Any) => i.observations.map((o: Any) => o.sensor)), [['a', 'b']]);
      await helper._redNodes.startFlows();
      const loc = helper.getNode('loc');
      assert.notEqual(loc, first);
      const got = collect(helper.getNode('out'));
      assert.equal(fs.existsSync(file), false, 'the file taken');
      loc.receive({ payload: remote('c') });
      await waitFor(() => got.length === 1, 10_000, 'the located incident');
      assert.deepEqual([...got[0].payload.location.sensors].sort(), ['a', 'b', 'c']);
      assert.equal(got[0].payload.location.method, 'tdoa');
    } finally {
      helper.settings({});
    }
  });

  it('Node-RED stopped while an incident waits for sensors, its deadline passed when it starts again: it is sent at once with the sensors it has', async () => {
    const userDir = tempDir('vigie-loc-stop-');
    helper.settings({ userDir });
    try {
      await helper.startServer();
      await helper.load([localizerNode], flow({ timeoutMs: 300 }));
      const first = helper.getNode('loc');
      first.receive({ payload: remote('a') });
      first.receive({ payload: remote('b') });
      await waitFor(() => first.status.lastCall?.args[0].text === 'gunshot: 2/3 sensors, waiting', 10_000, 'two of three sensors counted');
      await helper.unload();
      assert.ok(fs.existsSync(path.join(userDir, 'vigie-localizer-loc.json')));
      await new Promise((r) => setTimeout(r, 400)); // past its deadline while stopped
      await helper.load([localizerNode], flow({ timeoutMs: 300 }));
      const got = collect(helper.getNode('out'));
      await waitFor(() => got.length === 1, 5000, 'the incident sent after the start');
      assert.deepEqual([...got[0].payload.location.sensors].sort(), ['a', 'b']);
      assert.doesNotMatch(got[0].payload.location.reason ?? '', /Node-RED stopped/, 'recent: no word of the stop');
    } finally {
      helper.settings({});
    }
  });

  it('deleted by a "modified nodes" deploy while an incident waits for sensors: it is sent at once with what it has', async () => {
    await helper.startServer();
    await helper.load([localizerNode], flow({ timeoutMs: 60_000 }));
    const got = collect(helper.getNode('out'));
    const loc = helper.getNode('loc');
    loc.receive({ payload: remote('a') });
    loc.receive({ payload: remote('b') });
    await waitFor(() => loc.status.lastCall?.args[0].text === 'gunshot: 2/3 sensors, waiting', 10_000, 'two of three sensors counted');
    await helper.setFlows(flow().filter((n) => n.id !== 'loc'), 'nodes');
    await waitFor(() => got.length === 1, 5000, 'the incident sent as the node closed');
    assert.deepEqual([...got[0].payload.location.sensors].sort(), ['a', 'b']);
  });

  it('sends the alert again, same id, when a late sensor places a timed-out incident much better', async () => {
    await helper.startServer();
    await helper.load([localizerNode], flow({ timeoutMs: 150 }));
    const got = collect(helper.getNode('out'));
    const loc = helper.getNode('loc');
    // Coarse bearings (8°) from two gateways: sent on timeout, crossed.
    const coarse = (sensor: string) => {
      const d = JSON.parse(remote(sensor));
      d.location.bearingStd = 8;
      return d;
    };
    loc.receive({ payload: coarse('a') });
    loc.receive({ payload: coarse('b') });
    await waitFor(() => got.length === 1, 10_000, 'the timed-out incident');
    assert.equal(got[0].payload.location.method, 'bearings');
    assert.ok(got[0].payload.location.position.errorM >= 2, `coarse fix ${got[0].payload.location.position.errorM} m`);
    loc.receive({ payload: remote('c') });
    await waitFor(() => got.length === 2, 10_000, 'the refined alert');
    assert.equal(got[1].payload.id, got[0].payload.id);
    assert.equal(got[1].payload.location.method, 'tdoa');
    assert.ok(got[1].payload.location.position.errorM < got[0].payload.location.position.errorM * 0.7);
    assert.match(loc.status.lastCall.args[0].text, /^gunshot: .*refined by c$/);
  });

  it('emits what it has after the timeout: one bearing → method "doa"; no bearing and no sync → "none" with a reason', async () => {
    await helper.startServer();
    await helper.load([localizerNode], flow({ timeoutMs: 150 }));
    const got = collect(helper.getNode('out'));
    const loc = helper.getNode('loc');
    loc.receive({ payload: remote('a') });
    await waitFor(() => got.length === 1, 10_000, 'the timed-out incident');
    assert.equal(got[0].payload.location.method, 'doa');
    assert.equal(got[0].payload.sensor, 'a');
    const noBearing = JSON.parse(remote('b', { label: 'scream', location: undefined }));
    noBearing.sensorInfo.clock = 'local';
    // 5 s later: another sound (at the same instant it would be the same incident, whatever its label)
    noBearing.onset += 5;
    noBearing.offset += 5;
    loc.receive({ payload: noBearing });
    await waitFor(() => got.length === 2, 10_000, 'the second timed-out incident');
    assert.equal(got[1].payload.location.method, 'none');
    assert.match(got[1].payload.location.reason, /without a bearing/);
  });

  it('a wall clock step back (NTP) while an incident waits for sensors does not hold its alert: the timeout is monotonic', async () => {
    await helper.startServer();
    await helper.load([localizerNode], flow({ timeoutMs: 300 }));
    const got = collect(helper.getNode('out'));
    const loc = helper.getNode('loc');
    const wall = stepWallClock();
    try {
      loc.receive({ payload: remote('a') });
      await waitFor(() => loc.status.lastCall?.args[0].text === 'gunshot: 1/3 sensors, waiting', 10_000, 'one of three sensors counted');
      wall.step(-2 * 60_000);
      // On the wall clock it would go out two minutes later.
      await waitFor(() => got.length === 1, 10_000, 'the timed-out incident');
      assert.equal(got[0].payload.sensor, 'a');
      assert.equal(got[0].payload.onset, JSON.parse(remote('a')).onset, 'the onset is the sensor time, untouched');
    } finally {
      wall.restore();
    }
  });

  it('a fault in the timed fusion: a red status naming it, logged once; the incident still goes out and the status clears', async () => {
    await helper.startServer();
    await helper.load([localizerNode], flow({ timeoutMs: 150 }));
    const got = collect(helper.getNode('out'));
    const loc = helper.getNode('loc');
    // The association breaks twice when the timer takes the incident that timed out.
    const realTakeReady = IncidentAssociator.prototype.takeReady;
    let faults = 0;
    IncidentAssociator.prototype.takeReady = function (this: IncidentAssociator, nowMs: number) {
      if (this.nextDeadlineMs(nowMs) === 0 && faults < 2) {
        faults++;
        throw new Error('association broke');
      }
      return realTakeReady.call(this, nowMs);
    };
    try {
      loc.receive({ payload: remote('a') });
      await waitFor(() => got.length === 1, 10_000, 'the incident after the faults');
    } finally {
      IncidentAssociator.prototype.takeReady = realTakeReady;
    }
    assert.equal(faults, 2);
    const statuses = loc.status.args.map((a: Any[]) => a[0]);
    const red = statuses.filter((st: Any) => st.fill === 'red');
    assert.deepEqual(red, [{ fill: 'red', shape: 'ring', text: 'fusion: association broke' }], JSON.stringify(statuses));
    const errors = loc.error.args.map((a: Any[]) => String(a[0]?.message ?? a[0]));
    assert.deepEqual(errors, ['fusion: association broke'], 'logged once, not at every retry');
    assert.equal(got[0].payload.location.method, 'doa');
    assert.deepEqual(loc.status.lastCall.args[0], { fill: 'green', shape: 'dot', text: `gunshot: bearing ${Math.round(got[0].payload.location.bearing)}° ±1°` });
    // Another sound; the timer fails once, then its run succeeds with nothing to send (here the
    // incident is taken and dropped): the fault clears, the status from before it is shown again.
    const later = JSON.parse(remote('b'));
    later.onset += 5;
    later.offset += 5;
    let runs = 0;
    IncidentAssociator.prototype.takeReady = function (this: IncidentAssociator, nowMs: number) {
      if (this.nextDeadlineMs(nowMs) !== 0) return realTakeReady.call(this, nowMs);
      if (++runs === 1) throw new Error('association broke again');
      realTakeReady.call(this, nowMs);
      return [];
    };
    try {
      loc.receive({ payload: later });
      await waitFor(() => runs >= 2 && loc.status.lastCall.args[0].fill !== 'red', 10_000, 'the fault cleared');
    } finally {
      IncidentAssociator.prototype.takeReady = realTakeReady;
    }
    const after = loc.status.args.slice(statuses.length).map((a: Any[]) => a[0]);
    assert.deepEqual(after, [
      { fill: 'green', shape: 'ring', text: 'gunshot: 1/3 sensors, waiting' },
      { fill: 'red', shape: 'ring', text: 'fusion: association broke again' },
      { fill: 'green', shape: 'ring', text: 'gunshot: 1/3 sensors, waiting' },
    ]);
    assert.equal(got.length, 1);
  });

  /** Runs `fn` while every fusion's locating throws "solver broke". */
  async function whileLocatingThrows(fn: () => Promise<void>): Promise<void> {
    const proto = FusionLocalizer.prototype as unknown as { locate: (...args: unknown[]) => unknown };
    const realLocate = proto.locate;
    proto.locate = () => {
      throw new Error('solver broke');
    };
    try {
      await fn();
    } finally {
      proto.locate = realLocate;
    }
  }

  it('an incident whose locating throws goes out unlocated; the error is logged and the status red until the next alert', async () => {
    await helper.startServer();
    await helper.load([localizerNode], flow({ timeoutMs: 150 }));
    const got = collect(helper.getNode('out'));
    const loc = helper.getNode('loc');
    await whileLocatingThrows(async () => {
      loc.receive({ payload: remote('a') });
      loc.receive({ payload: remote('b') });
      await waitFor(() => got.length === 1, 10_000, 'the incident, on timeout');
    });
    const p = got[0].payload;
    assert.equal(p.label, 'gunshot');
    assert.equal(p.location.method, 'none');
    assert.equal(p.location.reason, 'locating failed: solver broke');
    assert.deepEqual([...p.location.sensors].sort(), ['a', 'b']);
    const errors = loc.error.args.map((a: Any[]) => String(a[0]?.message ?? a[0]));
    assert.deepEqual(errors, [`fusion: incident ${p.incident.id} (gunshot) could not be located: solver broke`]);
    assert.deepEqual(loc.status.lastCall.args[0], { fill: 'red', shape: 'ring', text: 'gunshot: locating failed: solver broke' });
    // The next sound is located: its alert replaces the fault in the status.
    const next = JSON.parse(remote('c'));
    next.onset += 5;
    next.offset += 5;
    loc.receive({ payload: next });
    await waitFor(() => got.length === 2, 10_000, 'the next incident');
    assert.equal(got[1].payload.location.method, 'doa');
    assert.equal(loc.status.lastCall.args[0].fill, 'green');
  });

  it('a detection whose incident cannot be located: the alert goes out unlocated, and the detection reaches Catch with the error, not Complete', async () => {
    await helper.startServer();
    const f = [
      ...flow({ timeoutMs: 60_000 }),
      { id: 'catch-1', type: 'catch', z: 'tab', scope: ['loc'], wires: [['caught']] },
      { id: 'caught', type: 'helper', z: 'tab' },
      { id: 'complete-1', type: 'complete', z: 'tab', scope: ['loc'], wires: [['completed']] },
      { id: 'completed', type: 'helper', z: 'tab' },
    ];
    await helper.load([localizerNode, require('@node-red/nodes/core/common/25-catch.js'), require('@node-red/nodes/core/common/24-complete.js')], f);
    const got = collect(helper.getNode('out'));
    const caught = collect(helper.getNode('caught'));
    const completed = collect(helper.getNode('completed'));
    const loc = helper.getNode('loc');
    await whileLocatingThrows(async () => {
      loc.receive({ payload: remote('a'), topic: 'from-a' });
      loc.receive({ payload: remote('b'), topic: 'from-b' });
      // The third sensor completes the incident in the input handler: locating it throws there.
      loc.receive({ payload: remote('c'), topic: 'from-c' });
      await waitFor(() => caught.length >= 1 || undefined, 10_000, 'the error caught');
    });
    assert.equal(got.length, 1, 'the alert went out');
    assert.equal(got[0].payload.location.method, 'none');
    assert.equal(got[0].payload.location.reason, 'locating failed: solver broke');
    assert.equal(caught.length, 1);
    assert.equal(caught[0].topic, 'from-c', 'the detection that completed the incident');
    assert.equal(JSON.parse(caught[0].payload).sensor, 'c');
    // As the node's other input errors reach Catch (done(err)): "Error: " and the text logged.
    assert.equal(caught[0].error.message, `Error: fusion: incident ${got[0].payload.incident.id} (gunshot) could not be located: solver broke`);
    assert.equal(caught[0].error.source.id, 'loc');
    assert.deepEqual(loc.status.lastCall.args[0], { fill: 'red', shape: 'ring', text: 'gunshot: locating failed: solver broke' });
    // A late report, absorbed: done. Completions come in order, so the third detection's would be before it.
    loc.receive({ payload: remote('d'), topic: 'from-d' });
    await waitFor(() => completed.some((m: Any) => m.topic === 'from-d') || undefined, 10_000, 'the late report done');
    assert.deepEqual(
      completed.map((m: Any) => m.topic),
      ['from-a', 'from-b', 'from-d'],
      'the detection whose incident failed is not reported complete',
    );
  });

  it('privacy: refuses a detection carrying samples or a voice label, naming the field; voice scores and unknown fields never go out, named in a warning', async () => {
    await helper.startServer();
    await helper.load([localizerNode], flow({ timeoutMs: 2000 }));
    const got = collect(helper.getNode('out'));
    const loc = helper.getNode('loc');
    // JSON as a third-party gateway might publish it over MQTT.
    loc.receive({ payload: remote('a', { samples: [0.1, 0.2] }) });
    loc.receive({ payload: remote('a', { span: { sensor: 'a', start: 1000, frames: 4800, data: 'UklGRiQAAABXQVZF' } }) });
    loc.receive({ payload: remote('a', { label: 'speech' }) });
    await waitFor(() => loc.error.callCount >= 3, 10_000, 'three refusals');
    const messages = loc.error.args.map((a: Any[]) => String(a[0]?.message ?? a[0]));
    assert.ok(messages.some((m: string) => /^payload\.samples: expected no such field \(privacy guarantee 1: audio samples never travel in messages\)$/.test(m)), messages.join(' | '));
    assert.ok(messages.some((m: string) => /^payload\.span\.data: expected only sensor, start, frames in a span/.test(m)), messages.join(' | '));
    assert.ok(messages.some((m: string) => /^payload\.label: expected a sound class, not a voice class \(privacy guarantee 3/.test(m)), messages.join(' | '));
    assert.doesNotMatch(messages.join(' '), /UklGR|0\.1/, 'an error names the field, never its value');
    assert.equal(loc.status.lastCall.args[0].fill, 'red');
    // Still running. The gateway also scores speech and slips its PCM in under other names.
    const extra = { scores: { gunshot: 0.9, speech: 0.4, Speech: 0.3 }, pcm: 'UklGRiQAAABXQVZF', level: { dbfs: -25, samples: [0.1, 0.2] } };
    for (const s of ['a', 'b', 'c']) loc.receive({ payload: remote(s, extra) });
    await waitFor(() => got.length === 1, 10_000, 'the located incident');
    assert.equal(got[0].payload.location.method, 'tdoa');
    assert.deepEqual(got[0].payload.scores, { gunshot: 0.9 });
    assert.deepEqual(got[0].payload.level, { dbfs: -25 });
    assert.doesNotMatch(JSON.stringify(got[0]), /samples|pcm|UklGR|speech/i);
    const warnings = loc.warn.args.map((a: Any[]) => String(a[0]));
    assert.ok(
      warnings.some((w: string) => ['payload.scores.speech', 'payload.scores.Speech', 'payload.pcm', 'payload.level.samples'].every((f) => w.includes(f))),
      warnings.join(' | '),
    );
  });

  it('rejects a detection without a sensor position or JSON that does not parse, naming the field', async () => {
    await helper.startServer();
    await helper.load([localizerNode], flow());
    const loc = helper.getNode('loc');
    loc.receive({ payload: remote('a', { sensorInfo: undefined }) });
    loc.receive({ payload: '{"kind": "detection",' });
    await waitFor(() => loc.error.callCount >= 2, 10_000, 'two errors');
    const messages = loc.error.args.map((a: Any[]) => String(a[0]?.message ?? a[0]));
    assert.ok(messages.some((m: string) => /payload\.sensorInfo: expected \{lat, lon, clock\} of sensor "a"/.test(m)), messages.join(' | '));
    assert.ok(messages.some((m: string) => /payload: expected a detection object or its JSON text/.test(m)), messages.join(' | '));
  });

  it('a remote detection whose onset is seconds after its arrival: a warning that its gateway\'s clock is ahead, once; the detection is still used', async () => {
    await helper.startServer();
    await helper.load([localizerNode], flow());
    const loc = helper.getNode('loc');
    const got = collect(helper.getNode('out'));
    const ahead = (id: string, laterS: number) => {
      const d = JSON.parse(remote('a'));
      const shift = Date.now() / 1000 + 30 + laterS - d.onset;
      return JSON.stringify({ ...d, id, onset: d.onset + shift, offset: d.offset + shift });
    };
    loc.receive({ payload: ahead('det-a1', 0) });
    await waitFor(() => got.length === 1 || undefined, 10_000, 'its alert');
    loc.receive({ payload: ahead('det-a2', 10) });
    await waitFor(() => got.length === 2 || undefined, 10_000, 'the next one');
    const clockWarnings = warningsOf(helper, 'loc').filter((w) => /clock is ahead/.test(w));
    assert.equal(clockWarnings.length, 1, clockWarnings.join(' | '));
    assert.match(clockWarnings[0], /^sensor "a": a detection's onset is (29\.\d|30(\.\d)?) s after it arrived here, so that gateway's clock is ahead by at least that much/);
  });

  it('two sensors reported from the same place (a position typed twice): a warning naming both, once; their incident goes out with the reason', async () => {
    await helper.startServer();
    await helper.load([localizerNode], flow());
    const loc = helper.getNode('loc');
    const got = collect(helper.getNode('out'));
    // c said at b's place, no bearings: the onsets give 2 places
    const at = (sensor: string, as: string) => JSON.stringify({ ...JSON.parse(remote(sensor)), location: undefined, sensorInfo: { ...JSON.parse(remote(as)).sensorInfo } });
    for (const [sensor, as] of [['a', 'a'], ['b', 'b'], ['c', 'b']]) loc.receive({ payload: at(sensor, as) });
    await waitFor(() => got.length === 1 || undefined, 10_000, 'the alert');
    assert.equal(got[0].payload.location.method, 'none');
    assert.match(got[0].payload.location.reason, /sensors at the same position: "b" and "c" \(0\.0 m apart\)/);
    // c again, a minute later: not said again
    const again = JSON.parse(at('c', 'b'));
    loc.receive({ payload: { ...again, id: 'det-c-again', onset: again.onset + 60, offset: again.offset + 60 } });
    await waitFor(() => got.length === 2 || undefined, 10_000, 'the next alert');
    const said = warningsOf(helper, 'loc').filter((w) => /same position/.test(w));
    assert.deepEqual(said, ['fusion: sensors at the same position: "b" and "c" (0.0 m apart); check their latitude and longitude. Onsets from one place measure one range: TDOA needs sensors at 3 places']);
  });

  it('a gateway posing as other sensors on its own topic is refused: the sensor must be the topic\'s, and a sensor id', async () => {
    await helper.startServer();
    await helper.load([localizerNode], flow());
    const loc = helper.getNode('loc');
    const got = collect(helper.getNode('out'));
    // Gateway "a" may publish on its own topic only (broker ACLs); it claims b, c and d there.
    for (const s of ['b', 'c', 'd']) loc.receive({ topic: 'vigie/v1/saint-etienne/a/detection', payload: remote(s) });
    // Ids that could never be a sensor's (a topic level, markup, a megabyte).
    for (const bad of ['a/+/#', '<img src=x onerror=alert(1)>', 'x'.repeat(1_000_000)]) {
      loc.receive({ payload: JSON.parse(remote('a', { id: `det-${bad.length}` }).replace(/"sensor":"a"/g, JSON.stringify({ sensor: bad }).slice(1, -1))) });
    }
    await waitFor(() => loc.error.callCount >= 6 || undefined, 10_000, 'six errors');
    const messages = loc.error.args.map((a: Any[]) => String(a[0]?.message ?? a[0]));
    assert.deepEqual(messages.slice(0, 3), ['b', 'c', 'd'].map((s) => `payload.sensor: expected "a", the sensor of its MQTT topic, got "${s}"`));
    for (const m of messages.slice(3)) assert.match(m, /^payload\.sensor: expected a sensor id \(1-64 letters, digits, "_", "-" or "\.", starting with a letter or a digit\), got ".{1,41}"$/);
    assert.equal(got.length, 0, 'no alert from forged reports');
    // Its own sensor on its own topic, and the three from their own topics: one incident, located.
    for (const s of ['a', 'b', 'c']) loc.receive({ topic: `vigie/v1/saint-etienne/${s}/detection`, payload: remote(s) });
    await waitFor(() => got.length === 1 || undefined, 10_000, 'the alert');
    assert.deepEqual(got[0].payload.location.sensors.sort(), ['a', 'b', 'c']);
  });

  it('more sounds waiting at once than its cap of incidents: the oldest goes out at once, none is lost, and a warning names the cap', async () => {
    await helper.startServer();
    await helper.load([localizerNode], flow({ timeoutMs: 60_000 }));
    const got = collect(helper.getNode('out'));
    const loc = helper.getNode('loc');
    // Sounds 10 s apart, each heard by sensor a alone: each its own incident, waiting for 3 sensors.
    for (let k = 0; k <= MAX_INCIDENTS; k++) loc.receive({ payload: remote('a', { id: `det-${k}`, onset: T0 + 10 * k, offset: T0 + 10 * k + 0.3 }) });
    await waitFor(() => got.length === 1 || undefined, 10_000, 'the oldest sound sent at once');
    assert.equal(got[0].payload.id, 'det-0');
    const warnings = await waitFor(() => {
      const w = warningsOf(helper, 'loc').filter((x) => /cap/.test(x));
      return w.length ? w : undefined;
    }, 10_000, 'the warning');
    assert.deepEqual(warnings, [
      "fusion: more than 500 incidents held at once (the localizer's cap; a bad night over a district holds some 60): 1 incident sent before its sensors or timeout, with the reports it had. No alert was lost; to place every sound with all its sensors, split the sensors between localizers (docs/scaling.md)",
    ]);
    assert.equal(got[0].payload.location.method, 'doa', 'sent with the one report it had');
  });
});
