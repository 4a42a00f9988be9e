import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import FFT from 'fft.js';
import { closeRing, openRing } from '../../lib/audio/registry';
import { AudioRing } from '../../lib/audio/ring';
import { Alert, Detection } from '../../lib/contracts';
import { evaluateScene, percentile } from '../../lib/cli/eval-localize';
import { bearingDeg, diffDeg, enuToGeodetic, geodeticToEnu } from '../../lib/localize/geo';
import { FusionLocalizer, locateSingle } from '../../lib/localize/localizer';
import { SceneRenderer } from '../../lib/sim/render';
import { parseScene } from '../../lib/sim/scene';

const ORIGIN = { lat: 45.4397, lon: 4.3872, alt: 0 };
const SENSORS = [
  { id: 'a', position: [-15, -12], headingDeg: 10 },
  { id: 'b', position: [16, -9], headingDeg: 200 },
  { id: 'c', position: [2, 18], headingDeg: 95 },
];

/** Three 4-mic gateways around a junction, synthetic events (no data dir needed), street noise. */
function junction(extra: object = {}) {
  return parseScene({
    name: 'junction-test',
    origin: ORIGIN,
    durationSec: 4,
    sensors: SENSORS.map((s) => ({ ...s, heightM: 4, array: 'square-4', clock: 'ptp', clockErrorMs: 0.05 })),
    sources: [
      { id: 'shot', label: 'gunshot', synth: { type: 'impulse' }, position: [3, 2], onsetSec: 0.3, level: { dbSpl: 105 } },
      { id: 'glass', label: 'glass_break', synth: { type: 'noise-burst', durationMs: 400, decayMs: 100, lowHz: 1500 }, position: [-4, 4], onsetSec: 1.6, level: { dbSpl: 100 } },
      { id: 'crash', label: 'crash', synth: { type: 'noise-burst', durationMs: 600, decayMs: 200, lowHz: 80, highHz: 6000 }, position: [5, -4], onsetSec: 2.9, level: { dbSpl: 105 } },
    ],
    background: { noise: { color: 'traffic', level: { dbSpl: 60 } } },
    ground: { reflection: 0.8 },
    ...extra,
  });
}

describe('vigie eval localize (the evaluation loop on a synthetic junction)', () => {
  it('reports per source and sensor the true and estimated bearings, and fused positions within a metre', () => {
    const report = evaluateScene(junction());
    assert.equal(report.events.length, 3);
    for (const ev of report.events) {
      assert.equal(ev.sensors.length, 3);
      assert.equal(ev.insideHull, true, `${ev.sourceId} inside the sensors' hull`);
      for (const s of ev.sensors) {
        assert.ok(s.errorDeg !== null && Math.abs(s.errorDeg) < 3, `${ev.sourceId}@${s.sensor}: ${s.errorDeg}`);
        const c = SENSORS.find((x) => x.id === s.sensor)!.position;
        assert.ok(Math.abs(diffDeg(s.trueBearingDeg, bearingDeg(c[0], c[1], ev.positionEnu[0], ev.positionEnu[1]))) < 0.5, 'true bearing from the array centre');
      }
      assert.equal(ev.fused.method, 'tdoa');
      assert.ok(ev.fused.errorM! < 1, `${ev.sourceId}: ${ev.fused.errorM} m`);
    }
    assert.ok(report.summary.bearingErrorMedianDeg! < 1.5);
    assert.equal(report.summary.insideHull.within3mFraction, 1);
  });

  it('TDOA alone degrades with clock errors; with bearings in the same solve the fix holds', () => {
    const sync = evaluateScene(junction(), { clockErrorMs: 0.05, useBearings: false });
    const bad = evaluateScene(junction(), { clockErrorMs: 5, seed: 3, useBearings: false });
    assert.equal(bad.clockErrorMs, 5);
    assert.equal(bad.bearingsFused, false);
    assert.ok(bad.summary.positionErrorMedianM! > 3 * sync.summary.positionErrorMedianM! && bad.summary.positionErrorMedianM! > 0.3, `${bad.summary.positionErrorMedianM} vs ${sync.summary.positionErrorMedianM}`);
    const held = evaluateScene(junction(), { clockErrorMs: 5, seed: 3 });
    assert.ok(held.summary.positionErrorMedianM! < 1, `with bearings: ${held.summary.positionErrorMedianM}`);
  });

  it('the command line says which option is wrong', async () => {
    const { main } = await import('../../lib/cli/eval-localize');
    await assert.rejects(() => main(['--scene', 'street-demo', '--seed', 'abc']), /--seed: expected a whole number from 0 to 4294967295, got "abc"/);
    // A report of nothing (a duration of 0 or less), or every sensor claiming a negative clock error, is a wrong command line.
    for (const [option, value, expected] of [
      ['--duration', '-5', 'a number of seconds from 0.01 to 86400'],
      ['--duration', '0', 'a number of seconds from 0.01 to 86400'],
      ['--clock-error-ms', '-3', 'a number of ms from 0 to 60000'],
      ['--clock-error-ms', '', 'a number of ms from 0 to 60000'],
      ['--seed', '1.5', 'a whole number from 0 to 4294967295'],
    ]) {
      await assert.rejects(
        () => main(['--scene', 'street-demo', option, value]),
        (err: Error) => err.name === 'UsageError' && err.message.startsWith(`${option}: expected ${expected}, got "${value}"\nusage: vigie eval localize `),
        `${option} ${value}`,
      );
    }
    await assert.rejects(() => main(['--scene', 'no-such-scene']), /scene file: expected an existing scene JSON file or a bundled scene name/);
    // A usage error, which vigie turns into exit status 2.
    const { UsageError } = await import('../../lib/cli/usage');
    await assert.rejects(() => main([]), (err: Error) => err instanceof UsageError && /^--scene is required\nusage: vigie eval localize /.test(err.message));
  });

  it('percentile interpolates', () => {
    assert.equal(percentile([1, 2, 3, 4], 0.5), 2.5);
    assert.equal(percentile([], 0.5), null);
  });
});

describe('localizer library', () => {
  const rings: AudioRing[] = [];
  afterEach(() => {
    while (rings.length) closeRing(rings.pop()!);
  });

  it('locates a detection from a ring, and says "expired" once the ring has overwritten its span', () => {
    const scene = junction();
    const ring = openRing({ sensor: 'a', sampleRate: 48000, channels: 4, seconds: 1 });
    rings.push(ring);
    const r = new SceneRenderer(scene);
    ring.write(r.render(24000)[0]); // 0.5 s: the gunshot at 0.31 s + ~26 m of travel
    const arrival = Math.round((0.31 + Math.hypot(18, 14, 2.5) / scene.speedOfSoundMs) * 48000);
    const det: Detection = { kind: 'detection', id: 'd', sensor: 'a', label: 'gunshot', confidence: 0.9, onset: 100, offset: 100.3, level: { dbfs: -30 }, scores: {}, span: { sensor: 'a', start: arrival - 2400, frames: 9600 } };
    const geometry = { id: 'a', lat: 0, lon: 0, heightM: 4, headingDeg: 10, mics: scene.sensors[0].mics, clock: 'ptp' as const, clockErrorMs: 0.05 };
    const before = locateSingle(det, { ...geometry }, { temperatureC: 20 });
    // Span may still be in the future (only 0.5 s rendered): render more if needed.
    if (before.location.method === 'none') ring.write(r.render(24000)[0]);
    const ok = locateSingle(det, geometry, { temperatureC: 20 });
    assert.equal(ok.location.method, 'doa', ok.location.reason);
    assert.ok(Math.abs(diffDeg(ok.location.bearing!, bearingDeg(-15, -12, 3, 2))) < 2, `bearing ${ok.location.bearing}`);
    for (let i = 0; i < 3; i++) ring.write(r.render(24000)[0]);
    const gone = locateSingle(det, geometry);
    assert.equal(gone.location.method, 'none');
    assert.match(gone.location.reason!, /audio expired/);
    const mono = locateSingle(det, { ...geometry, mics: [[0, 0, 0]] });
    assert.match(mono.location.reason!, /single microphone/);
  });

  it('zeroes the samples it read once the direction is computed (DESIGN §4.2)', () => {
    const scene = junction();
    const chans = new SceneRenderer(scene).render(48000)[0].map((c) => c.slice(14000, 33200));
    const det: Detection = { kind: 'detection', id: 'z', sensor: 'a', label: 'gunshot', confidence: 0.9, onset: 1, offset: 2, level: { dbfs: -30 }, scores: {}, span: { sensor: 'a', start: 0, frames: chans[0].length } };
    const geometry = { id: 'a', lat: 0, lon: 0, headingDeg: 10, mics: scene.sensors[0].mics, clock: 'ptp' as const, clockErrorMs: 0.05 };
    const r = locateSingle(det, geometry, { read: () => ({ ok: true, sampleRate: 48000, channels: chans, start: 0, frames: chans[0].length }) });
    assert.equal(r.location.method, 'doa');
    assert.ok(chans.every((c) => c.every((v) => v === 0)), 'copies zeroed');
  });

  it('zeroes the tapered copies and the spectra the direction finding makes of those samples, once used (DESIGN §4.2)', (t) => {
    const scene = junction();
    const chans = new SceneRenderer(scene).render(48000)[0].map((c) => c.slice(14000, 33200));
    // Every array the FFT reads samples from or writes a spectrum into, and every copy of a spectrum.
    const made: Array<{ what: string; a: ArrayLike<number>; heldSound: boolean }> = [];
    const transform = FFT.prototype.realTransform;
    t.mock.method(FFT.prototype, 'realTransform', function (this: FFT, out: number[], input: number[]) {
      transform.call(this, out, input);
      made.push({ what: 'tapered samples', a: input, heldSound: input.some((v) => v !== 0) }, { what: 'spectrum', a: out, heldSound: out.some((v) => v !== 0) });
    });
    const from = Float64Array.from.bind(Float64Array) as (x: ArrayLike<number>) => Float64Array;
    t.mock.method(Float64Array, 'from', (x: ArrayLike<number>) => {
      const y = from(x);
      // A copy of a plain array (the FFT's output); the sorted frame energies are copied from a Float64Array.
      if (Array.isArray(x)) made.push({ what: 'copy of a spectrum', a: y, heldSound: y.some((v) => v !== 0) });
      return y;
    });
    const det: Detection = { kind: 'detection', id: 'z2', sensor: 'a', label: 'gunshot', confidence: 0.9, onset: 1, offset: 2, level: { dbfs: -30 }, scores: {}, span: { sensor: 'a', start: 0, frames: chans[0].length } };
    const geometry = { id: 'a', lat: 0, lon: 0, headingDeg: 10, mics: scene.sensors[0].mics, clock: 'ptp' as const, clockErrorMs: 0.05 };
    const r = locateSingle(det, geometry, { read: () => ({ ok: true, sampleRate: 48000, channels: chans, start: 0, frames: chans[0].length }) });
    t.mock.restoreAll();
    assert.equal(r.location.method, 'doa', r.location.reason);
    for (const what of ['tapered samples', 'spectrum', 'copy of a spectrum']) {
      const of = made.filter((m) => m.what === what);
      assert.ok(of.length >= 4 && of.some((m) => m.heldSound), `${what}: made (${of.length}), holding sound`);
      for (const [i, m] of of.entries()) assert.equal(Array.prototype.findIndex.call(m.a, (v: number) => v !== 0), -1, `${what} ${i} of ${of.length} still holds sound`);
    }
  });

  it('zeroes the spectra when correlating them fails half-way (DESIGN §4.2)', (t) => {
    const scene = junction();
    const chans = new SceneRenderer(scene).render(48000)[0].map((c) => c.slice(14000, 33200));
    const copies: Float64Array[] = [];
    const from = Float64Array.from.bind(Float64Array) as (x: ArrayLike<number>) => Float64Array;
    t.mock.method(Float64Array, 'from', (x: ArrayLike<number>) => {
      const y = from(x);
      if (Array.isArray(x)) copies.push(y);
      return y;
    });
    // The third pair's correlation fails: the spectra of every channel are already made.
    let inverse = 0;
    const inverseTransform = FFT.prototype.inverseTransform;
    t.mock.method(FFT.prototype, 'inverseTransform', function (this: FFT, out: number[], input: number[]) {
      if (++inverse === 3) throw new Error('correlation failed');
      inverseTransform.call(this, out, input);
    });
    const det: Detection = { kind: 'detection', id: 'z3', sensor: 'a', label: 'gunshot', confidence: 0.9, onset: 1, offset: 2, level: { dbfs: -30 }, scores: {}, span: { sensor: 'a', start: 0, frames: chans[0].length } };
    const geometry = { id: 'a', lat: 0, lon: 0, headingDeg: 10, mics: scene.sensors[0].mics, clock: 'ptp' as const, clockErrorMs: 0.05 };
    const r = locateSingle(det, geometry, { read: () => ({ ok: true, sampleRate: 48000, channels: chans, start: 0, frames: chans[0].length }) });
    t.mock.restoreAll();
    assert.equal(inverse, 3, 'the failure came on the third correlation');
    assert.equal(r.location.method, 'none', 'no bearing from a failed correlation');
    assert.ok(copies.length >= scene.sensors[0].mics.length, `spectra made: ${copies.length}`);
    for (const [i, c] of copies.entries()) assert.equal(c.findIndex((v) => v !== 0), -1, `spectrum ${i} of ${copies.length} still holds sound`);
  });

  it('fusion: detections of one sound from three gateways give one position and one alert, even when a gateway heard another class', () => {
    const f = new FusionLocalizer({ minSensors: 3, timeoutMs: 1000, temperatureC: 20 });
    const src = [4, -3];
    const c = 331.3 + 0.606 * 20;
    const det = (s: (typeof SENSORS)[number], label = 'gunshot', at = 1000, confidence = 0.9): Detection => {
      const g = enuToGeodetic([s.position[0], s.position[1], 0], ORIGIN);
      const t = at + Math.hypot(src[0] - s.position[0], src[1] - s.position[1], 2.5) / c;
      return {
        kind: 'detection', id: `${s.id}-${label}-${at}`, sensor: s.id, label, confidence, onset: t, offset: t + 0.2, level: { dbfs: -30 }, scores: {},
        span: { sensor: s.id, start: 0, frames: 10 },
        sensorInfo: { lat: g.lat, lon: g.lon, alt: 4, clock: 'gps', clockErrorMs: 0.01 },
      };
    };
    assert.equal(f.add(det(SENSORS[0], 'gunshot', 1000, 0.7), undefined, 0).kind, 'new');
    assert.equal(f.add(det(SENSORS[1], 'explosion', 1000, 0.95), undefined, 1).kind, 'joined', 'same sound, other class');
    assert.equal(f.add(det(SENSORS[1], 'gunshot'), undefined, 2).kind, 'duplicate', 'the same gateway again for the same sound');
    const r = f.add(det(SENSORS[2], 'gunshot', 1000, 0.8), undefined, 3);
    assert.equal(r.ready.length, 1);
    const alert = r.ready[0];
    assert.equal(alert.label, 'gunshot', 'two sensors against one');
    assert.equal(alert.confidence, 0.8, 'the best confidence of that label');
    // Built from that report: the sensor that heard the explosion (the nearest, so the first) is
    // not said to have heard a gunshot.
    assert.equal(alert.sensor, SENSORS[2].id);
    assert.equal(alert.id, `${SENSORS[2].id}-gunshot-1000`);
    assert.deepEqual(
      (alert as unknown as { incident: { reports: Array<{ sensor: string; label: string }> } }).incident.reports.map((x) => `${x.sensor}:${x.label}`).sort(),
      [`${SENSORS[0].id}:gunshot`, `${SENSORS[1].id}:explosion`, `${SENSORS[2].id}:gunshot`],
    );
    const loc = alert.location!;
    assert.equal(loc.method, 'tdoa');
    const [e, n] = geodeticToEnu({ lat: loc.position!.lat, lon: loc.position!.lon }, ORIGIN);
    assert.ok(Math.hypot(e - src[0], n - src[1]) < 0.5, `error ${Math.hypot(e - src[0], n - src[1])}`);
    // A scream 5 s later, heard by one sensor only, is another incident: it goes out on
    // timeout with no location and a reason.
    assert.equal(f.add(det(SENSORS[1], 'scream', 1005), undefined, 4).kind, 'new');
    assert.equal(f.poll(500).ready.length, 0);
    const late = f.poll(1005).ready;
    assert.equal(late.length, 1);
    assert.equal(late[0].label, 'scream');
    assert.equal(late[0].location!.method, 'none');
  });
  it('fusion: a late third sensor that places an incident sent on timeout sends the alert again, same id and label; one that adds little does not', () => {
    const f = new FusionLocalizer({ minSensors: 3, timeoutMs: 1000, temperatureC: 20 });
    const src = [6, 2];
    const c = 331.3 + 0.606 * 20;
    const det = (id: string, position: number[], label = 'gunshot', bearing?: { deg: number; std: number }, confidence = 0.9): Detection => {
      const g = enuToGeodetic([position[0], position[1], 0], ORIGIN);
      const t = 2000 + Math.hypot(src[0] - position[0], src[1] - position[1], 2.5) / c;
      return {
        kind: 'detection', id: `${id}-${label}`, sensor: id, label, confidence, onset: t, offset: t + 0.2, level: { dbfs: -30 }, scores: {},
        span: { sensor: id, start: 0, frames: 10 },
        sensorInfo: { lat: g.lat, lon: g.lon, alt: 4, clock: 'gps', clockErrorMs: 0.01 },
        ...(bearing ? { location: { method: 'doa', bearing: bearing.deg, bearingStd: bearing.std, sensors: [id] } } : {}),
      } as Detection;
    };
    const toSrc = (p: number[]) => bearingDeg(p[0], p[1], src[0], src[1]);
    // Two sensors with coarse bearings (8°): sent on timeout, placed by crossing them.
    const [a, b, cc] = SENSORS;
    f.add(det('a', a.position, 'gunshot', { deg: toSrc(a.position) + 6, std: 8 }), undefined, 0);
    f.add(det('b', b.position, 'gunshot', { deg: toSrc(b.position) - 6, std: 8 }), undefined, 10);
    const [sent] = f.poll(1000).ready;
    assert.equal(sent.location!.method, 'bearings');
    const errorSent = sent.location!.position!.errorM;
    assert.ok(errorSent >= 2, `a poor fix to refine (${errorSent} m)`);
    // The third sensor's classifier was slower: its report (another class) arrives after the alert went out.
    const r = f.add(det('c', cc.position, 'explosion'), undefined, 1600);
    assert.equal(r.kind, 'late');
    assert.equal(r.ready.length, 0, 'no second alert');
    assert.ok(r.refined, 'the alert is sent again');
    assert.equal(r.refined!.id, sent.id);
    assert.equal(r.refined!.label, 'gunshot', 'the label sent stays');
    assert.equal(r.refined!.location!.method, 'tdoa');
    assert.ok(r.refined!.location!.position!.errorM < errorSent * 0.7, `${r.refined!.location!.position!.errorM} m against ${errorSent} m`);
    const [e, n] = geodeticToEnu({ lat: r.refined!.location!.position!.lat, lon: r.refined!.location!.position!.lon }, ORIGIN);
    const [e0, n0] = geodeticToEnu({ lat: sent.location!.position!.lat, lon: sent.location!.position!.lon }, ORIGIN);
    assert.ok(Math.hypot(e - src[0], n - src[1]) < 0.5, `refined error ${Math.hypot(e - src[0], n - src[1])} m`);
    assert.ok(Math.hypot(e0 - src[0], n0 - src[1]) > 1, 'the first fix was the poorer one');
    assert.deepEqual((r.refined as unknown as { incident: { reports: Array<{ sensor: string }> } }).incident.reports.map((x) => x.sensor).sort(), ['a', 'b', 'c']);
    // The same report again is a duplicate; a fourth sensor that barely changes the fix sends nothing.
    assert.equal(f.add(det('c', cc.position, 'explosion'), undefined, 1700).refined, undefined);
    const r4 = f.add(det('d', [30, 25]), undefined, 1800);
    assert.equal(r4.kind, 'late');
    assert.equal(r4.refined, undefined);
    // A late report of the label, more confident and with its own bearing: the alert sent again
    // keeps its sensor, and the bearing it gives is that sensor's.
    const f2 = new FusionLocalizer({ minSensors: 3, timeoutMs: 1000, temperatureC: 20 });
    f2.add(det('a', a.position, 'gunshot', { deg: toSrc(a.position) + 6, std: 8 }), undefined, 0);
    f2.add(det('b', b.position, 'gunshot', { deg: toSrc(b.position) - 6, std: 8 }), undefined, 10);
    const [first] = f2.poll(1000).ready;
    const late = f2.add(det('c', cc.position, 'gunshot', { deg: toSrc(cc.position), std: 1 }, 0.99), undefined, 1600).refined!;
    assert.equal(late.sensor, first.sensor);
    assert.equal(late.location!.bearing, first.location!.bearing, `the bearing of sensor ${first.sensor}`);
  });

  it('fusion: an incident whose locating throws still goes out, as an event that cannot be located, and the error is returned', () => {
    const f = new FusionLocalizer({ minSensors: 3, timeoutMs: 1000, temperatureC: 20 });
    const src = [1, 2];
    const c = 331.3 + 0.606 * 20;
    const det = (s: (typeof SENSORS)[number], label = 'gunshot', confidence = 0.9): Detection => {
      const g = enuToGeodetic([s.position[0], s.position[1], 0], ORIGIN);
      const t = 4000 + Math.hypot(src[0] - s.position[0], src[1] - s.position[1], 2.5) / c;
      return {
        kind: 'detection', id: `${s.id}-${label}`, sensor: s.id, label, confidence, onset: t, offset: t + 0.2, level: { dbfs: -30 }, scores: {},
        span: { sensor: s.id, start: 0, frames: 10 }, sensorInfo: { lat: g.lat, lon: g.lon, alt: 4, clock: 'gps', clockErrorMs: 0.01 },
      };
    };
    // Locating breaks (a fault in the solver): the incident must still reach the operators.
    const broken = f as unknown as { locate: () => never };
    broken.locate = () => {
      throw new Error('solver broke');
    };
    f.add(det(SENSORS[0], 'glass_break', 0.6), undefined, 0);
    f.add(det(SENSORS[1], 'gunshot', 0.8), undefined, 5);
    const r = f.add(det(SENSORS[2], 'gunshot', 0.7), undefined, 10);
    assert.equal(r.ready.length, 1, 'sent all the same');
    const alert = r.ready[0] as Alert & { incident: { id: string; reports: Array<{ sensor: string; label: string }> } };
    assert.equal(alert.label, 'gunshot');
    assert.equal(alert.confidence, 0.8);
    assert.deepEqual({ ...alert.location, sensors: [...alert.location!.sensors].sort() }, { method: 'none', sensors: ['a', 'b', 'c'], reason: 'locating failed: solver broke' });
    assert.deepEqual(alert.incident.reports.map((x) => `${x.sensor}:${x.label}`).sort(), ['a:glass_break', 'b:gunshot', 'c:gunshot']);
    assert.deepEqual(
      r.failures.map((x) => [x.incidentId, x.label, x.error.message]),
      [[alert.incident.id, 'gunshot', 'solver broke']],
    );
    assert.equal(f.poll(5000).ready.length, 0, 'sent once');
    // A late report while locating still fails: the alert as sent stands, the error is returned.
    const late = f.add({ ...det(SENSORS[2]), id: 'c-again', sensor: 'd' }, undefined, 2000);
    assert.equal(late.kind, 'late');
    assert.equal(late.refined, undefined);
    assert.deepEqual(late.failures.map((x) => x.error.message), ['solver broke']);
    // Once locating works again, a later report places the incident: the alert is sent again.
    delete (broken as { locate?: unknown }).locate;
    const placed = f.add({ ...det(SENSORS[0]), id: 'a-again', sensor: 'e', onset: det(SENSORS[0]).onset + 0.001 }, undefined, 3000);
    assert.equal(placed.refined?.id, alert.id);
    assert.equal(placed.refined?.location?.method, 'tdoa');
    assert.deepEqual(placed.failures, []);
  });

  it('fusion: a late report gives a position to an incident sent without one', () => {
    const f = new FusionLocalizer({ minSensors: 3, timeoutMs: 1000, temperatureC: 20 });
    const src = [-3, 5];
    const c = 331.3 + 0.606 * 20;
    const det = (s: (typeof SENSORS)[number]): Detection => {
      const g = enuToGeodetic([s.position[0], s.position[1], 0], ORIGIN);
      const t = 3000 + Math.hypot(src[0] - s.position[0], src[1] - s.position[1], 2.5) / c;
      return {
        kind: 'detection', id: `${s.id}-scream`, sensor: s.id, label: 'scream', confidence: 0.9, onset: t, offset: t + 0.2, level: { dbfs: -30 }, scores: {},
        span: { sensor: s.id, start: 0, frames: 10 }, sensorInfo: { lat: g.lat, lon: g.lon, alt: 4, clock: 'gps', clockErrorMs: 0.01 },
      };
    };
    f.add(det(SENSORS[0]), undefined, 0);
    f.add(det(SENSORS[1]), undefined, 5);
    const [sent] = f.poll(1000).ready;
    assert.equal(sent.location!.method, 'none', 'two sensors without a bearing');
    const r = f.add(det(SENSORS[2]), undefined, 2000);
    assert.equal(r.refined?.id, sent.id);
    assert.equal(r.refined?.location?.method, 'tdoa');
    // The incident is kept for refinement until 30 s after its last report, then forgotten.
    assert.equal(f.refinableIncidents, 1);
    f.poll(31_000);
    assert.equal(f.refinableIncidents, 1);
    f.poll(32_001);
    assert.equal(f.refinableIncidents, 0);
    assert.equal(f.add({ ...det(SENSORS[2]), id: 'again' }, undefined, 40_001).refined, undefined);
  });
});
