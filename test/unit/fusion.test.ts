import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BearingObs, IncidentAssociator, incidentLabel, MAX_CONTINUED, Observation, TimeObs, fuseObservations, multilaterate, triangulate } from '../../lib/localize/fusion';
import { bearingDeg } from '../../lib/localize/geo';
import { gaussian, makeRng } from '../../lib/sim/signals';

const C = 343;
const SENSORS: [number, number][] = [
  [-20, -15],
  [25, -10],
  [5, 30],
  [-25, 20],
  [30, 25],
];

function bearingsTo(src: [number, number], stdDeg: number, seed: number): BearingObs[] {
  const rng = makeRng(seed);
  return SENSORS.map(([e, n]) => ({ e, n, bearingDeg: bearingDeg(e, n, src[0], src[1]) + stdDeg * gaussian(rng), bearingStdDeg: Math.max(0.5, stdDeg) }));
}

function onsetsFrom(src: [number, number], sigmaSec: number, seed: number, t0 = 1000): TimeObs[] {
  const rng = makeRng(seed);
  return SENSORS.map(([e, n]) => ({ e, n, z: 4, tSec: t0 + Math.hypot(src[0] - e, src[1] - n, 1.5 - 4) / C + sigmaSec * gaussian(rng), sigmaSec }));
}

describe('bearing triangulation', () => {
  it('intersects exact bearings at the source', () => {
    const fix = triangulate(bearingsTo([3, 4], 0, 1).slice(0, 3))!;
    assert.ok(Math.hypot(fix.e - 3, fix.n - 4) < 0.01, `got ${fix.e}, ${fix.n}`);
  });

  it('stays within a metre or two with 1° noise, and its error estimate is of that order', () => {
    for (let seed = 1; seed <= 5; seed++) {
      const fix = triangulate(bearingsTo([-4, 6], 1, seed))!;
      const err = Math.hypot(fix.e + 4, fix.n - 6);
      assert.ok(err < 1.5, `seed ${seed}: error ${err}`);
      assert.ok(fix.errorM > 0.05 && fix.errorM < 3, `estimate ${fix.errorM}`);
    }
  });

  it('rejects an outlier bearing', () => {
    const obs = bearingsTo([8, -2], 0.5, 7);
    obs[2].bearingDeg += 40;
    const fix = triangulate(obs)!;
    assert.deepEqual(fix.rejected, [2]);
    assert.ok(Math.hypot(fix.e - 8, fix.n + 2) < 1, `got ${fix.e}, ${fix.n}`);
  });

  it('returns null for parallel bearings and for an intersection behind the sensors', () => {
    assert.equal(triangulate([{ e: 0, n: 0, bearingDeg: 0, bearingStdDeg: 1 }, { e: 10, n: 0, bearingDeg: 0, bearingStdDeg: 1 }]), null);
    assert.equal(triangulate([{ e: 0, n: 0, bearingDeg: 180 + 45, bearingStdDeg: 1 }, { e: 10, n: 0, bearingDeg: 180 - 45, bearingStdDeg: 1 }]), null);
  });
});

describe('TDOA multilateration', () => {
  it('recovers the source from exact onsets of 3 sensors (no redundancy) and of 5', () => {
    const three = multilaterate(onsetsFrom([2, 3], 1e-6, 1).slice(0, 3), { speedOfSoundMs: C })!;
    assert.ok(Math.hypot(three.e - 2, three.n - 3) < 0.1, `3 sensors: ${three.e}, ${three.n}`);
    const five = multilaterate(onsetsFrom([2, 3], 1e-6, 1), { speedOfSoundMs: C })!;
    assert.ok(Math.hypot(five.e - 2, five.n - 3) < 0.05);
    assert.ok(Math.abs(five.t0! - 1000) < 1e-4, `t0 ${five.t0}`);
  });

  it('with 100 µs onset noise stays within a metre, and the error estimate is honest', () => {
    const errs: number[] = [];
    for (let seed = 1; seed <= 10; seed++) {
      const fix = multilaterate(onsetsFrom([-6, 8], 1e-4, seed), { speedOfSoundMs: C })!;
      errs.push(Math.hypot(fix.e + 6, fix.n - 8));
      assert.ok(fix.errorM > 0.01 && fix.errorM < 2, `estimate ${fix.errorM}`);
    }
    assert.ok(Math.max(...errs) < 1, `errors ${errs.map((e) => e.toFixed(2)).join(', ')}`);
  });

  it('rejects one onset that is 20 ms off', () => {
    const obs = onsetsFrom([10, 0], 1e-4, 3);
    obs[1].tSec += 0.02;
    const fix = multilaterate(obs, { speedOfSoundMs: C })!;
    assert.deepEqual(fix.rejected, [1]);
    assert.ok(Math.hypot(fix.e - 10, fix.n) < 1, `got ${fix.e}, ${fix.n}`);
  });

  it('needs at least 3 onsets', () => {
    assert.equal(multilaterate(onsetsFrom([0, 0], 1e-4, 1).slice(0, 2)), null);
  });
});

function obs(sensor: string, i: number, onsetSec: number, extra: Partial<Observation> = {}): Observation {
  const [e, n] = SENSORS[i];
  return { detectionId: `${sensor}-${onsetSec}`, sensor, label: 'gunshot', onsetSec, e, n, z: 4, lat: 0, lon: 0, clock: 'ptp', clockErrorMs: 0.1, confidence: 0.9, payload: null, ...extra };
}

describe('association of detections into incidents', () => {
  it('groups the reports of one event from several sensors and emits once enough reported', () => {
    const a = new IncidentAssociator({ speedOfSoundMs: C, minSensors: 3, timeoutMs: 1000 });
    const src: [number, number] = [0, 0];
    const t = (i: number) => 50 + Math.hypot(src[0] - SENSORS[i][0], src[1] - SENSORS[i][1]) / C;
    assert.equal(a.add(obs('s0', 0, t(0)), 0).kind, 'new');
    assert.equal(a.add(obs('s1', 1, t(1)), 10).kind, 'joined');
    assert.equal(a.takeReady(20).length, 0, 'two of three: wait');
    assert.equal(a.add(obs('s2', 2, t(2)), 30).kind, 'joined');
    const ready = a.takeReady(40);
    assert.equal(ready.length, 1);
    assert.deepEqual(ready[0].observations.map((o) => o.sensor), ['s0', 's1', 's2']);
    // A fourth, late report joins silently and the incident is not emitted again.
    assert.equal(a.add(obs('s3', 3, t(3)), 500).kind, 'late');
    assert.equal(a.takeReady(600).length, 0);
    // The same detection again (local and over MQTT) is a duplicate.
    assert.equal(a.add(obs('s1', 1, t(1)), 700).kind, 'duplicate');
  });

  it('keeps two events apart when their onsets are further apart than sound can travel', () => {
    const a = new IncidentAssociator({ speedOfSoundMs: C, minSensors: 2 });
    a.add(obs('s0', 0, 100), 0);
    // s0–s1 are 45 m apart: 131 ms of travel; 0.5 s later is another event, whatever its label.
    assert.equal(a.add(obs('s1', 1, 100.5), 2).kind, 'new', 'too late for the same event');
    assert.equal(a.add(obs('s2', 2, 101.2, { label: 'scream' }), 3).kind, 'new', 'too late, other label');
    assert.equal(a.add(obs('s1', 1, 100.1, { detectionId: 'x' }), 4).kind, 'joined');
    assert.equal(a.size, 3);
  });

  it('one sound called differently by two sensors is one incident, labelled by the most sensors, then confidence', () => {
    const a = new IncidentAssociator({ speedOfSoundMs: C, minSensors: 3 });
    a.add(obs('s0', 0, 100, { label: 'explosion', confidence: 0.95 }), 0);
    const r1 = a.add(obs('s1', 1, 100.05, { label: 'gunshot', confidence: 0.6 }), 1);
    assert.equal(r1.kind, 'joined', 'same onset within travel time: same sound');
    assert.equal(r1.incident.label, 'explosion', 'one sensor each: the more confident label');
    const r2 = a.add(obs('s2', 2, 100.08, { label: 'gunshot', confidence: 0.5 }), 2);
    assert.equal(r2.incident.label, 'gunshot', 'two sensors against one');
    assert.equal(a.size, 1);
    // the same sensor again at the same onset, under another label, is a duplicate
    assert.equal(a.add(obs('s0', 0, 100.005, { label: 'glass_break', detectionId: 'y' }), 3).kind, 'duplicate');
    assert.equal(incidentLabel([obs('s0', 0, 1, { label: 'crash', confidence: 0.3 })]), 'crash');
  });

  it('one sensor whose clock is not set: its later events are new incidents, not duplicates of the first', () => {
    const a = new IncidentAssociator({ speedOfSoundMs: C, minSensors: 2 });
    const unset = { clockErrorMs: 60_000 };
    assert.equal(a.add(obs('s0', 0, 100, { ...unset, label: 'glass_break', detectionId: 'glass' }), 0).kind, 'new');
    // 12 s later by its own clock: another event, whatever the sensor's error against true time.
    assert.equal(a.add(obs('s0', 0, 112, { ...unset, label: 'gunshot', detectionId: 'shot' }), 12_000).kind, 'new');
    // The same event reported again by that sensor (another detection, same onset) is still one.
    assert.equal(a.add(obs('s0', 0, 112.005, { ...unset, label: 'gunshot', detectionId: 'shot-again' }), 12_010).kind, 'duplicate');
    assert.equal(a.size, 2);
  });

  it('a wider clock error widens the window', () => {
    const strict = new IncidentAssociator({ speedOfSoundMs: C, onsetToleranceSec: 0 });
    const loose = new IncidentAssociator({ speedOfSoundMs: C, onsetToleranceSec: 0 });
    const dt = 0.131 + 0.05; // 50 ms beyond the travel time
    strict.add(obs('s0', 0, 100), 0);
    assert.equal(strict.add(obs('s1', 1, 100 + dt), 0).kind, 'new');
    loose.add(obs('s0', 0, 100, { clockErrorMs: 10 }), 0);
    assert.equal(loose.add(obs('s1', 1, 100 + dt, { clockErrorMs: 10 }), 0).kind, 'joined');
  });

  it('a lone report that continues a sound its sensor already reported is no second alert; a confirmed, distant-bearing or later one is', () => {
    const a = new IncidentAssociator({ speedOfSoundMs: C, minSensors: 3, timeoutMs: 1000 });
    const bearing = { bearingDeg: 40, bearingStdDeg: 3 };
    a.add(obs('s0', 0, 100, bearing), 0);
    a.add(obs('s1', 1, 100.05), 10);
    a.add(obs('s2', 2, 100.08), 20);
    assert.equal(a.takeReady(30).length, 1, 'the event itself');
    // s0 classifies the same scream again 1.5 s into it, same direction, nobody else: absorbed
    // (a sound that goes on: each lone report within 4 s of the sensor's last one extends it)
    assert.equal(a.add(obs('s0', 0, 101.5, { ...bearing, bearingDeg: 45, label: 'scream' }), 1500).kind, 'new');
    assert.equal(a.takeReady(2600).length, 0, 'no second alert');
    assert.equal(a.continuations, 1);
    // the same 2 s in but from another direction: another sound
    a.add(obs('s0', 0, 102, { ...bearing, bearingDeg: 130 }), 2000);
    assert.equal(a.takeReady(3100).length, 1, 'another direction is another alert');
    // more than continuationSec (4 s) after the sensor's last report of it (101.5): another event
    a.add(obs('s0', 0, 105.6, bearing), 5600);
    assert.equal(a.takeReady(6700).length, 1, 'later is another alert');
    // a second event that two sensors hear is an alert, whoever heard the first
    a.add(obs('s0', 0, 107, bearing), 7000);
    a.add(obs('s1', 1, 107.05), 7010);
    assert.equal(a.takeReady(8100).length, 1, 'confirmed by another sensor');
    // off: every lone report is an alert
    const off = new IncidentAssociator({ speedOfSoundMs: C, minSensors: 1, continuationSec: 0 });
    off.add(obs('s0', 0, 200), 0);
    assert.equal(off.takeReady(1).length, 1);
    off.add(obs('s0', 0, 201), 1000);
    assert.equal(off.takeReady(1001).length, 1);
  });

  it('a sound that never stops stays one alert, and its incident keeps only the latest reports', () => {
    const a = new IncidentAssociator({ speedOfSoundMs: C, minSensors: 3, timeoutMs: 1000 });
    const bearing = { bearingDeg: 40, bearingStdDeg: 3 };
    a.add(obs('s0', 0, 100, bearing), 0);
    a.add(obs('s1', 1, 100.05), 10);
    a.add(obs('s2', 2, 100.08), 20);
    const [first] = a.takeReady(30);
    assert.ok(first);
    // An alarm classified again every 3 s by its sensor, for 15 minutes.
    const reports = 300;
    let alerts = 0;
    for (let k = 1; k <= reports; k++) {
      const t = 100 + 3 * k;
      a.add(obs('s0', 0, t, { ...bearing, detectionId: `again-${k}` }), 3000 * k);
      alerts += a.takeReady(3000 * k + 1100).length;
    }
    assert.equal(alerts, 0, 'every report continues the first sound');
    assert.equal(a.continuations, reports);
    assert.equal(first.continued.length, MAX_CONTINUED, 'only the latest reports are kept');
    assert.equal(first.continued[first.continued.length - 1].onsetSec, 100 + 3 * reports, 'the newest is kept');
    // A duplicate of a recent report is still recognised.
    assert.equal(a.add(obs('s0', 0, 100 + 3 * reports, { ...bearing, detectionId: `again-${reports}` }), 3000 * reports + 1200).kind, 'duplicate');
  });

  it('times out: an incident with too few sensors is emitted after the timeout', () => {
    const a = new IncidentAssociator({ minSensors: 3, timeoutMs: 1000 });
    a.add(obs('s0', 0, 100), 0);
    assert.equal(a.nextDeadlineMs(200), 800);
    assert.equal(a.takeReady(999).length, 0);
    assert.equal(a.takeReady(1000).length, 1);
    assert.equal(a.nextDeadlineMs(1001), null);
  });

  it('over its cap of incidents, it forgets the oldest sent one; when all still wait, the oldest is sent at once, never dropped', () => {
    const a = new IncidentAssociator({ speedOfSoundMs: C, minSensors: 3, timeoutMs: 1000, maxIncidents: 3 });
    const onsets = (incs: { observations: Observation[] }[]) => incs.map((i) => i.observations[0].onsetSec);
    // Four sounds 10 s apart (each its own incident) arrive within one timeout: all wait.
    for (let k = 0; k < 4; k++) a.add(obs(`s${k}`, k, 100 + 10 * k), k);
    assert.equal(a.nextDeadlineMs(4), 0, 'the oldest is due now');
    assert.deepEqual(onsets(a.takeReady(4)), [100], 'the oldest, sent early with what it has');
    assert.deepEqual(onsets(a.takeReady(1003)), [110, 120, 130], 'the others at their timeout');
    // Everything is sent; new sounds make room by forgetting the oldest sent incidents first.
    a.add(obs('s4', 4, 200), 2000);
    a.add(obs('s0', 0, 210), 2001);
    assert.equal(a.size, 3);
    assert.equal(a.takeReady(2002).length, 0, 'the new ones wait: room was made without them');
    // A late report of a kept incident is late; of a forgotten one, a new incident.
    assert.equal(a.add(obs('s2', 2, 130.01), 2003).kind, 'late');
    assert.equal(a.add(obs('s1', 1, 100.01), 2004).kind, 'new');
    assert.deepEqual(onsets(a.takeReady(3004)).sort(), [100.01, 200, 210]);
    assert.equal(a.incidentsDueEarly, 1);
    assert.equal(a.sentForgottenEarly, 4, 'the sent incidents of 100 and 110 s forgotten for 200, of 120 s for 210, of 130 s for 100.01');
  });
});

describe('fuseObservations', () => {
  const src: [number, number] = [4, 5];
  const make = (clock: string, clockErrorMs: number, withBearings: boolean): Observation[] =>
    SENSORS.slice(0, 4).map(([e, n], i) => ({
      ...obs(`s${i}`, i, 100 + Math.hypot(src[0] - e, src[1] - n, 1.5 - 4) / C),
      clock,
      clockErrorMs,
      ...(withBearings ? { bearingDeg: bearingDeg(e, n, src[0], src[1]), bearingStdDeg: 1 } : {}),
    }));

  it('uses TDOA (with bearings) when clocks are synchronised', () => {
    const f = fuseObservations(make('ptp', 0.1, true), { speedOfSoundMs: C });
    assert.equal(f.method, 'tdoa');
    assert.ok(Math.hypot(f.e! - src[0], f.n! - src[1]) < 0.3);
    assert.deepEqual(f.used, [0, 1, 2, 3]);
  });

  it('falls back to bearings when clocks are not synchronised', () => {
    const f = fuseObservations(make('local', 50, true), { speedOfSoundMs: C });
    assert.equal(f.method, 'bearings');
    assert.ok(Math.hypot(f.e! - src[0], f.n! - src[1]) < 0.3);
  });

  it('says why when nothing locates the event', () => {
    const f = fuseObservations(make('local', 50, false).slice(0, 2), { speedOfSoundMs: C });
    assert.equal(f.method, 'none');
    assert.match(f.reason!, /2 sensors without a bearing/);
    const one = fuseObservations([{ ...make('local', 50, true)[0] }], { speedOfSoundMs: C });
    assert.equal(one.method, 'doa');
  });
});

describe('a sound going on at one place is one alert', () => {
  // The street demo's gateways (lib/sim/scenes/street-demo.json), 4 m poles, PTP clocks.
  const DEMO: Record<string, [number, number]> = { nw: [-14, 12], ne: [15, 11], s: [1, -16] };
  const c = 340.4;
  const report = (sensor: string, label: string, onsetSec: number, bearingDeg?: number, bearingStdDeg = 0.5): Observation => {
    const [e, n] = DEMO[sensor];
    return { detectionId: `${sensor}-${onsetSec}`, sensor, label, onsetSec, e, n, z: 4, lat: 0, lon: 0, clock: 'ptp', clockErrorMs: 0.05, confidence: 0.3, payload: null, ...(bearingDeg !== undefined ? { bearingDeg, bearingStdDeg } : {}) };
  };
  /** Reports as they reached the localizer: [time received, s; report]; polled every 100 ms as the node's timer would. */
  function replay(reports: Array<[number, Observation]>, opts: { continuationSec?: number } = {}) {
    const a = new IncidentAssociator({ speedOfSoundMs: c, minSensors: 3, timeoutMs: 1500, onsetToleranceSec: 0.02, ...opts });
    const alerts: Array<{ label: string; sensors: string[] }> = [];
    const t0 = reports[0][0];
    let i = 0;
    for (let t = t0; t <= reports[reports.length - 1][0] + 3; t += 0.1) {
      while (i < reports.length && reports[i][0] <= t + 1e-9) a.add(reports[i++][1], Math.round(t * 1000));
      for (const inc of a.takeReady(Math.round(t * 1000))) alerts.push({ label: inc.label, sensors: inc.observations.map((o) => o.sensor) });
    }
    return { alerts, continuations: a.continuations };
  }
  /** A sound at (e, n) emitted at t, as heard by these sensors: exact onsets and bearings. */
  const heard = (e: number, n: number, t: number, sensors: string[], label = 'gunshot', received = t + 0.5): Array<[number, Observation]> =>
    sensors.map((s) => [received, report(s, label, t + Math.hypot(e - DEMO[s][0], n - DEMO[s][1], 1.5 - 4) / c, bearingDeg(DEMO[s][0], DEMO[s][1], e, n))]);

  // The four double alerts of 11 minutes of the street demo (the shared clips, the shipped
  // flow's settings), as the classifiers reported them: onsets, bearings and arrival times.
  it('a gunshot clip whose recorded noise floor starts 1.15 s after the shot, first called a glass break: the gunshot at the same place is its own alert (it ranks above)', () => {
    const r = replay([
      [8.5, report('s', 'glass_break', 8.045, 331, 0.53)],
      [8.8, report('nw', 'explosion', 8.049, 152.85, 0.53)],
      [10.8, report('ne', 'gunshot', 9.254, 237.85, 0.5)],
      [11.1, report('nw', 'gunshot', 9.228, 152.85, 0.51)],
    ]);
    // Absorbed, the gunshot would reach the operators as a glass break, ranked below it.
    assert.deepEqual(r.alerts.map((a) => a.label), ['glass_break', 'gunshot'], JSON.stringify(r.alerts));
    assert.equal(r.continuations, 0);
  });

  it('the same sound heard again under a label that does not rank above the first is absorbed', () => {
    const r = replay([
      [8.5, report('s', 'gunshot', 8.045, 331, 0.53)],
      [8.8, report('nw', 'gunshot', 8.049, 152.85, 0.53)],
      [10.8, report('ne', 'glass_break', 9.254, 237.85, 0.5)],
      [11.1, report('nw', 'glass_break', 9.228, 152.85, 0.51)],
    ]);
    assert.equal(r.alerts.length, 1, JSON.stringify(r.alerts));
    assert.deepEqual(r.alerts[0].sensors, ['s', 'nw']);
    assert.equal(r.continuations, 1);
  });

  it('glass still falling 1.2 s after the break, heard by two sensors', () => {
    const r = replay([
      [425.1, report('nw', 'gunshot', 424.849, 129.1, 0.47)],
      [425.6, report('s', 'explosion', 424.815, 15.7, 0.53)],
      [427.3, report('nw', 'gunshot', 425.994, 129.4, 0.45)],
      [427.3, report('ne', 'gunshot', 425.986, 215.95, 0.46)],
    ]);
    assert.equal(r.alerts.length, 1, JSON.stringify(r.alerts));
  });

  it('a shot reported by one sensor only, then its tail by the two others: the tail is placed where the one bearing points', () => {
    const r = replay([
      [495.1, report('s', 'gunshot', 494.778, 1.65, 0.42)],
      [496.3, report('nw', 'explosion', 496.138, 120.55, 0.52)],
      [496.3, report('ne', 'explosion', 496.132, 238.75, 0.51)],
    ]);
    assert.equal(r.alerts.length, 1, JSON.stringify(r.alerts));
    assert.deepEqual(r.alerts[0].sensors, ['s']);
  });

  it('a scream taken up again 2.2 s later, heard by two of its three sensors', () => {
    const reports: Array<[number, Observation]> = [
      [565.9, report('ne', 'scream', 565.687, 255.8, 0.53)],
      [566.1, report('nw', 'scream', 565.694, 105.4, 0.53)],
      [566.1, report('s', 'scream', 565.716, 1.6, 0.55)],
      [568.8, report('ne', 'scream', 567.974, 258.2, 0.56)],
      [568.8, report('s', 'scream', 567.944, 359.4, 1.22)],
    ];
    const r = replay(reports);
    assert.equal(r.alerts.length, 1, JSON.stringify(r.alerts));
    // Off (continuationSec 0): every incident is an alert.
    assert.equal(replay(reports, { continuationSec: 0 }).alerts.length, 2);
  });

  it('the sound again at the same place, ready with three sensors before the first report times out: one alert, the first', () => {
    const r = replay([...heard(-6, -2, 100, ['s', 'nw'], 'explosion', 100.4), ...heard(-6, -2, 101.2, ['s', 'nw', 'ne'], 'gunshot', 101.5)].sort((x, y) => x[0] - y[0]));
    assert.equal(r.alerts.length, 1, JSON.stringify(r.alerts));
    assert.equal(r.alerts[0].label, 'explosion');
    assert.deepEqual(r.alerts[0].sensors, ['s', 'nw']);
  });

  it('two sounds 2 s apart at places 8 m or more apart are two alerts, whatever the sensors and labels', () => {
    // Well placed (three sensors each): 8 m apart.
    assert.equal(replay([...heard(-6, -2, 100, ['s', 'nw', 'ne']), ...heard(2, -2, 102, ['s', 'nw', 'ne'])]).alerts.length, 2);
    // Two sensors each (bearings only), 20 m apart, the same sensors and label.
    assert.equal(replay([...heard(-6, -2, 100, ['s', 'nw']), ...heard(8, 12, 102, ['s', 'nw'])]).alerts.length, 2);
    // One sensor first (a bearing), then two others placing the second sound 10 m off that bearing.
    assert.equal(replay([...heard(0, 0, 100, ['s']), ...heard(10, 0, 101.5, ['nw', 'ne'])]).alerts.length, 2);
    // ... and on it: the same sound.
    assert.equal(replay([...heard(0, 0, 100, ['s']), ...heard(0, 3, 101.5, ['nw', 'ne'])]).alerts.length, 1);
    // Later than continuationSec (4 s) after the last report of the first, at the same place: a new alert.
    assert.equal(replay([...heard(-6, -2, 100, ['s', 'nw', 'ne']), ...heard(-6, -2, 104.5, ['s', 'nw', 'ne'])]).alerts.length, 2);
  });
});

describe('fusion: outlier thresholds and clocks', () => {
  it('a bearing rejected as an outlier must also be more than 3° off: a sharp bearing (std 0.5°) 2.5° from the fix stays in', () => {
    const obs = bearingsTo([8, -2], 0, 1).slice(0, 4).map((o) => ({ ...o, bearingStdDeg: 0.5 }));
    obs[3].bearingDeg += 3; // 2.5° from where the four cross: 5σ, but under 3°
    const fix = triangulate(obs)!;
    assert.deepEqual(fix.rejected, []);
    assert.deepEqual(fix.used, [0, 1, 2, 3]);
  });

  it('rejects one onset 1 ms off with 0.1 ms onsets (34 cm of range), not only a gross one', () => {
    const obs = onsetsFrom([10, 0], 1e-4, 3);
    obs[2].tSec += 0.001;
    const fix = multilaterate(obs, { speedOfSoundMs: C })!;
    assert.deepEqual(fix.rejected, [2]);
    assert.ok(Math.hypot(fix.e - 10, fix.n) < 1, `got ${fix.e}, ${fix.n}`);
  });

  it('a sensor on its local clock is never used for TDOA, even when it claims a small clock error', () => {
    const src: [number, number] = [4, 5];
    const local = SENSORS.slice(0, 4).map(([e, n], i) => obs(`s${i}`, i, 100 + Math.hypot(src[0] - e, src[1] - n, 1.5 - 4) / C, { clock: 'local', clockErrorMs: 1 }));
    const f = fuseObservations(local, { speedOfSoundMs: C });
    assert.equal(f.method, 'none');
    assert.match(f.reason!, /only 0 of 4 sensors have a synchronised clock/);
  });
});
