/**
 * A city on hills: sensors, a camera and a source on a 20 % slope in the simulated street, at
 * known places. With the ground altitudes of the vigie-sensor and vigie-camera nodes the fix is
 * right in metres and altitude, and the camera's tilt in degrees; without them (one level street
 * assumed) the same sound is placed off, its stated error too small, and the camera looks over it.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FusionLocalizer, SensorGeometry, checkFusionStopItem } from '../../lib/localize/localizer';
import { Observation, fuseObservations, groundAltAt, groundPlaneOf } from '../../lib/localize/fusion';
import { geodeticToEnu, enuToGeodetic } from '../../lib/localize/geo';
import { micPositionsEnu, parseScene, Scene, sourcePointEnu } from '../../lib/sim/scene';
import { imageSources, propagationPaths } from '../../lib/sim/propagate';
import { aimAtPosition, bearingDistance } from '../../lib/camera/geometry';
import { cameraConfigFromNode } from '../../lib/camera/config';
import { aimFor } from '../../lib/camera/choose';
import { parseAlert, targetOf } from '../../lib/camera/steer';
import { validateSensorInfo } from '../../lib/sensor';
import type { Alert, Detection } from '../../lib/contracts';

/** Lisbon: a street rising 20 m per 100 m to the north, 100 m above sea level at n = 0. */
const ORIGIN = { lat: 38.7139, lon: -9.1334, alt: 0 };
const groundAt = (n: number) => 100 + 0.2 * n;
/** Four poles 4 m high, 50 m across the slope and 100 m up it. */
const POLES: Array<[string, number, number]> = [
  ['low-w', 0, 0],
  ['low-e', 50, 0],
  ['high-e', 50, 100],
  ['high-w', 0, 100],
];
/** A pole camera 6 m up at the top of the street, looking down it. */
const CAMERA_ENU: [number, number] = [25, 110];
const CAMERA_HEIGHT_M = 6;

/** The simulated street: the poles and a source 1.5 m above the slope at (e, n), each at its ground altitude. */
function slopeScene(src: [number, number]): Scene {
  return parseScene({
    name: 'lisbon-slope',
    origin: ORIGIN,
    sampleRate: 48000,
    temperatureC: 15,
    ground: { reflection: 0.8 },
    sensors: POLES.map(([id, e, n]) => ({ id, position: [e, n], heightM: 4, groundAltM: groundAt(n), array: 'mono', clock: 'ptp', clockErrorMs: 0.1 })),
    sources: [{ id: 'bang', synth: { type: 'noise-burst' }, label: 'gunshot', position: [src[0], src[1], 1.5], groundAltM: groundAt(src[1]), onsetSec: 1 }],
  });
}

/** The onset each sensor reads: the emission plus the simulated street's direct path to its microphone. */
function onsetsOf(scene: Scene): number[] {
  const src = scene.sources[0];
  return scene.sensors.map((s) => {
    const direct = propagationPaths(sourcePointEnu(src), micPositionsEnu(s)[0], scene, false)[0];
    return 1_700_000_000 + src.onsetSec + direct.delaySamples / scene.sampleRate + s.clockOffsetMs / 1000;
  });
}

/** The scene's sensors as the localizer knows them: with their ground altitudes, or (as before) without. */
function geometries(scene: Scene, withAltitudes: boolean): SensorGeometry[] {
  return scene.sensors.map((s) => ({
    id: s.id,
    lat: s.lat,
    lon: s.lon,
    heightM: s.heightM,
    ...(withAltitudes ? { groundAltM: s.groundAltM } : {}),
    headingDeg: 0,
    mics: s.mics,
    clock: s.clock,
    clockErrorMs: s.clockErrorMs,
  }));
}

function locate(scene: Scene, withAltitudes: boolean): NonNullable<NonNullable<Alert['location']>['position']> {
  const sensors = geometries(scene, withAltitudes);
  const onsets = onsetsOf(scene);
  const f = new FusionLocalizer({ temperatureC: scene.temperatureC, minSensors: sensors.length });
  const ready = sensors.flatMap((s, i) => {
    const det: Detection = { kind: 'detection', id: `d-${s.id}`, sensor: s.id, label: 'gunshot', confidence: 0.9, onset: onsets[i], offset: onsets[i] + 0.5, level: { dbfs: -20 }, scores: { gunshot: 0.9 }, span: { sensor: s.id, start: 0, frames: 100 } };
    return f.add(det, s, i).ready;
  });
  assert.equal(ready.length, 1);
  const pos = ready[0].location!.position;
  assert.ok(pos, `${ready[0].location!.method}: ${ready[0].location!.reason}`);
  return pos;
}

const missM = (pos: { lat: number; lon: number }, truth: [number, number]) => {
  const [e, n] = geodeticToEnu({ lat: pos.lat, lon: pos.lon, alt: 0 }, ORIGIN);
  return Math.hypot(e - truth[0], n - truth[1]);
};

/** The camera as its vigie-camera node gives it, with or without its ground altitude. */
function camera(withAltitude: boolean) {
  const at = enuToGeodetic([CAMERA_ENU[0], CAMERA_ENU[1], 0], ORIGIN);
  return cameraConfigFromNode({ id: 'cam-top', host: '10.0.0.5', lat: at.lat, lon: at.lon, heightM: CAMERA_HEIGHT_M, groundAltM: withAltitude ? String(groundAt(CAMERA_ENU[1])) : '' });
}

/** The tilt that looks at the source itself, degrees (negative: down). */
function trueTiltDeg(src: [number, number]): number {
  const at = enuToGeodetic([src[0], src[1], 0], ORIGIN);
  const { distanceM } = bearingDistance(camera(true), at);
  return (Math.atan2(groundAt(src[1]) + 1.5 - (groundAt(CAMERA_ENU[1]) + CAMERA_HEIGHT_M), distanceM) * 180) / Math.PI;
}

/** Sources near a low corner (where the level street is worst), in the middle, and near the top. */
const SOURCES: Array<[number, number]> = [
  [8, 10],
  [30, 45],
  [20, 85],
];

describe('a street on a 20 % slope (Lisbon): ground altitudes given', () => {
  for (const src of SOURCES) {
    it(`source at (${src.join(', ')}) m: placed within 5 cm, its altitude within 5 cm, the camera's tilt within 0.2°`, () => {
      const scene = slopeScene(src);
      const pos = locate(scene, true);
      assert.ok(missM(pos, src) < 0.05, `placed ${missM(pos, src).toFixed(3)} m off`);
      assert.equal(typeof pos.alt, 'number', 'the position has an altitude');
      assert.ok(Math.abs(pos.alt! - (groundAt(src[1]) + 1.5)) < 0.05, `altitude ${pos.alt} for ${groundAt(src[1]) + 1.5}`);
      // As ptz-steer turns it: the alert's position (its altitude too) through targetOf and aimFor.
      const alert = parseAlert({ id: 'a1', label: 'gunshot', sensor: 'low-w', location: { method: 'tdoa', bearing: 0, bearingStd: 1, position: pos, sensors: [] } });
      const aim = aimFor(camera(true), targetOf(alert, 30));
      assert.ok(typeof aim !== 'string');
      assert.ok(Math.abs(aim.tiltDeg - trueTiltDeg(src)) < 0.2, `tilt ${aim.tiltDeg.toFixed(2)}° for ${trueTiltDeg(src).toFixed(2)}°`);
    });
  }
});

describe('the same street without ground altitudes (one level street assumed, as before)', () => {
  it('near the low corner the fix is over 0.4 m off, outside the error it states, and has no altitude', () => {
    const src = SOURCES[0];
    const pos = locate(slopeScene(src), false);
    assert.equal('alt' in pos, false, 'no altitude without the sensors\' ground altitudes');
    const miss = missM(pos, src);
    assert.ok(miss > 0.4, `placed ${miss.toFixed(2)} m off`);
    assert.ok(miss > pos.errorM, `placed ${miss.toFixed(2)} m off while stating ±${pos.errorM} m`);
  });

  it('the camera at the top looks over a source down the street by more than 8° of tilt', () => {
    for (const src of SOURCES.slice(0, 2)) {
      const pos = locate(slopeScene(src), false);
      const aim = aimAtPosition(camera(false), pos);
      assert.ok(aim.tiltDeg - trueTiltDeg(src) > 8, `(${src.join(', ')}): tilt ${aim.tiltDeg.toFixed(1)}° for ${trueTiltDeg(src).toFixed(1)}°`);
    }
  });

  it('a camera with a ground altitude aims at a position without one as before: at the ground at its foot', () => {
    const { lat, lon } = enuToGeodetic([25, 60, 0], ORIGIN);
    const at = { lat, lon };
    assert.deepEqual(aimAtPosition(camera(true), at), aimAtPosition(camera(false), at));
    assert.deepEqual(aimAtPosition(camera(false), { ...at, alt: 50 }), aimAtPosition(camera(false), at));
  });
});

describe('a ground altitude typed wrong (1200 for 120)', () => {
  it('gives a plane steeper than any street: left aside, the sound placed as on a level street without an altitude; the reason and one warning name the sensors', () => {
    const src = SOURCES[1];
    const scene = slopeScene(src);
    const sensors = geometries(scene, true).map((g) => (g.id === 'high-w' ? { ...g, groundAltM: 1200 } : g));
    const onsets = onsetsOf(scene);
    const warnings: string[] = [];
    const f = new FusionLocalizer({ temperatureC: scene.temperatureC, minSensors: sensors.length, warnLayout: (t) => warnings.push(t) });
    const sound = (k: number) =>
      sensors.flatMap((g, i) => {
        const det: Detection = { kind: 'detection', id: `d${k}-${g.id}`, sensor: g.id, label: 'gunshot', confidence: 0.9, onset: onsets[i] + k * 60, offset: onsets[i] + k * 60 + 0.5, level: { dbfs: -20 }, scores: { gunshot: 0.9 }, span: { sensor: g.id, start: 0, frames: 100 } };
        return f.add(det, g, k * 60_000 + i).ready;
      });
    const [alert] = sound(0);
    const loc = alert.location!;
    assert.ok(loc.position, `${loc.method}: ${loc.reason}`);
    assert.equal('alt' in loc.position, false, 'no altitude from a plane no street has');
    // The level street's error on a 20 % slope (about a metre), not the tens of metres the plane gave.
    assert.ok(missM(loc.position, src) < 3, `placed ${missM(loc.position, src).toFixed(2)} m off`);
    assert.match(loc.reason ?? '', /"high-w" 1200 m\) give the street a slope of \d+ %, steeper than any street \(check their Ground altitude\): placed as on a level street, without an altitude/);
    sound(1);
    assert.equal(warnings.filter((w) => /steeper than any street/.test(w)).length, 1, warnings.join(' | '));
  });
});

describe('the simulated street on a slope', () => {
  it('places microphones at ground altitude + height, and reflects a source on the ground under it', () => {
    const scene = slopeScene([30, 45]);
    assert.deepEqual(micPositionsEnu(scene.sensors[2])[0], [50, 100, groundAt(100) + 4]);
    const src = sourcePointEnu(scene.sources[0]);
    assert.deepEqual(src, [30, 45, groundAt(45) + 1.5]);
    const ground = imageSources(src, scene, true, groundAt(45)).find((i) => i.kind === 'ground')!;
    assert.deepEqual(ground.pos, [30, 45, groundAt(45) - 1.5]);
  });
});

describe('the ground plane through the sensors', () => {
  const plane = (pts: Array<[number, number, number]>) => groundPlaneOf(pts.map(([e, n, alt]) => ({ e, n, alt })));
  it('through 3 points not in a line: exact, slopes east and north', () => {
    const g = plane([
      [0, 0, 10],
      [100, 0, 5],
      [0, 50, 20],
    ]);
    assert.ok(Math.abs(g.slopeE + 0.05) < 1e-9 && Math.abs(g.slopeN - 0.2) < 1e-9, JSON.stringify(g));
    assert.ok(Math.abs(groundAltAt(g, 100, 50) - 15) < 1e-9);
  });
  it('sensors in a line along the street: its slope along them, level across', () => {
    const g = plane([
      [0, -40, 92],
      [0, 0, 100],
      [0.3, 40, 108],
    ]);
    assert.ok(Math.abs(groundAltAt(g, 0, 80) - 116) < 0.1, `${groundAltAt(g, 0, 80)}`);
    assert.ok(Math.abs(groundAltAt(g, 30, 0) - groundAltAt(g, 0, 0)) < 0.1, 'level across the line');
  });
  it('one sensor, or all at one place: level at their altitude', () => {
    assert.equal(groundAltAt(plane([[5, 5, 42]]), 100, -30), 42);
  });
  it('a sensor without a ground altitude among sensors with one stands on their plane', () => {
    const scene = slopeScene([30, 45]);
    const onsets = onsetsOf(scene);
    const obs: Observation[] = scene.sensors.map((s, i) => ({
      detectionId: `d${i}`,
      sensor: s.id,
      label: 'gunshot',
      onsetSec: onsets[i],
      e: s.positionEnu[0],
      n: s.positionEnu[1],
      z: s.heightM,
      // the last one's altitude left empty: it is where the plane of the 3 others says
      ...(i < 3 ? { groundAltM: s.groundAltM } : {}),
      lat: s.lat,
      lon: s.lon,
      clock: 'ptp',
      clockErrorMs: 0.1,
      confidence: 0.9,
      payload: null,
    }));
    const fix = fuseObservations(obs, { speedOfSoundMs: scene.speedOfSoundMs, sourceHeightM: 1.5 });
    assert.ok(Math.hypot(fix.e! - 30, fix.n! - 45) < 0.05, `${fix.method} ${fix.e}, ${fix.n}`);
    assert.ok(Math.abs(fix.alt! - (groundAt(45) + 1.5)) < 0.05, `alt ${fix.alt}`);
  });
});

describe('ground altitudes in the configuration', () => {
  it("vigie-sensor: optional, from -500 to 9000 m, the error naming the field; kept in a waiting incident's file", () => {
    const base = { sensorId: 's1', lat: 38.7, lon: -9.1, array: 'mono' };
    assert.equal('groundAltM' in validateSensorInfo({ ...base, groundAltM: '' }).sensor, false);
    assert.equal(validateSensorInfo({ ...base, groundAltM: '87.5' }).sensor.groundAltM, 87.5);
    assert.throws(() => validateSensorInfo({ ...base, groundAltM: '9001' }), /^ContractError: groundAltM|groundAltM: expected a number from -500 to 9000/);
    const kept = checkFusionStopItem({
      id: 'inc-1',
      label: 'gunshot',
      firstBeforeStopMs: 10,
      lastBeforeStopMs: 5,
      observations: [{ detectionId: 'd1', sensor: 's1', label: 'gunshot', onsetSec: 1, z: 4, groundAltM: 87.5, lat: 38.7, lon: -9.1, clock: 'ptp', clockErrorMs: 0.1, confidence: 0.9, payload: { kind: 'detection', id: 'd1', sensor: 's1', label: 'gunshot', confidence: 0.9, onset: 1, offset: 1.5, level: { dbfs: -20 }, scores: { gunshot: 0.9 }, span: { sensor: 's1', start: 0, frames: 100 } } }],
    });
    assert.equal(kept.observations[0].groundAltM, 87.5);
  });
  it('vigie-camera: optional, absent when empty; ptz-steer refuses an altitude that is not a number, naming it', () => {
    assert.equal('groundAltM' in camera(false), false);
    assert.equal(camera(true).groundAltM, groundAt(CAMERA_ENU[1]));
    assert.throws(() => cameraConfigFromNode({ id: 'c', host: 'h', lat: 1, lon: 1, groundAltM: 'high' }), /camera\.groundAltM/);
    assert.throws(() => parseAlert({ id: 'a1', label: 'gunshot', location: { method: 'tdoa', position: { lat: 38.7, lon: -9.1, alt: 1e6, errorM: 1 }, sensors: [] } }), /payload\.location\.position\.alt/);
  });
  it('a remote sensor gives its array altitude in sensorInfo.alt: the localizer takes its ground as that minus a 4 m pole', () => {
    const scene = slopeScene([30, 45]);
    const onsets = onsetsOf(scene);
    const f = new FusionLocalizer({ temperatureC: 15, minSensors: 4 });
    const ready = scene.sensors.flatMap((s, i) => {
      const det: Detection = { kind: 'detection', id: `d-${s.id}`, sensor: s.id, label: 'gunshot', confidence: 0.9, onset: onsets[i], offset: onsets[i] + 0.5, level: { dbfs: -20 }, scores: { gunshot: 0.9 }, span: { sensor: s.id, start: 0, frames: 100 }, sensorInfo: { lat: s.lat, lon: s.lon, alt: s.groundAltM! + s.heightM, clock: 'ptp', clockErrorMs: 0.1 } };
      return f.add(det, undefined, i).ready;
    });
    const pos = ready[0].location!.position!;
    assert.ok(missM(pos, [30, 45]) < 0.05, `placed ${missM(pos, [30, 45]).toFixed(3)} m off`);
    assert.ok(Math.abs(pos.alt! - (groundAt(45) + 1.5)) < 0.05, `alt ${pos.alt}`);
  });
});
