/** Choosing a camera among several: range, blind sectors, holds, nearest, ties. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CameraCandidate, chooseCamera, isHeldAgainst, priorityOf, recency } from '../../lib/camera/choose';
import { DEFAULT_CALIBRATION, destination } from '../../lib/camera/geometry';
import { CameraConfig } from '../../lib/camera/types';

const O = { lat: 45.4397, lon: 4.3872 };

function cam(id: string, bearingFromOrigin: number, distM: number, extra: Partial<CameraConfig> = {}): CameraCandidate {
  const p = distM === 0 ? O : destination(O, bearingFromOrigin, distM);
  return {
    config: { id, name: id, host: 'h', port: 80, lat: p.lat, lon: p.lon, heightM: 6, mountHeadingDeg: 0, tiltOffsetDeg: 0, calibration: DEFAULT_CALIBRATION, maxRangeM: 200, blindSectors: [], ...extra },
    state: 'connected',
  };
}

const alert = { alertId: 'a', priority: 2, arrivedMs: 1000, onsetMs: 1000 };
const at = (brg: number, d: number) => ({ kind: 'position' as const, position: destination(O, brg, d) });

test('the nearest camera in range wins', () => {
  const r = chooseCamera([cam('far', 90, 150), cam('near', 270, 20), cam('mid', 0, 60)], at(0, 10), alert, 0);
  assert.equal(r.choice?.config.id, 'near');
  assert.deepEqual(r.ranked.map((c) => c.config.id), ['near', 'mid', 'far']);
});

test('out of range and blind sectors are rejected with reasons', () => {
  const r = chooseCamera(
    [cam('short', 0, 0, { maxRangeM: 50 }), cam('blind', 0, 0, { id: 'blind', blindSectors: [{ fromDeg: 350, toDeg: 30 }] }), cam('ok', 180, 30)],
    at(10, 100),
    alert,
    0,
  );
  assert.equal(r.choice?.config.id, 'ok');
  const why = Object.fromEntries(r.rejected.map((x) => [x.cameraId, x.reason]));
  assert.match(why.short, /out of range \(100 m > 50 m\)/);
  assert.match(why.blind, /blind sector 350°–30°/);
});

test('no camera: nothing chosen, every camera explained', () => {
  const r = chooseCamera([cam('a', 0, 0, { maxRangeM: 10 })], at(0, 100), alert, 0);
  assert.equal(r.choice, undefined);
  assert.equal(r.rejected.length, 1);
});

test('ties go to the smaller id, whatever the input order', () => {
  const a = cam('cam-b', 0, 0);
  const b = cam('cam-a', 0, 0);
  assert.equal(chooseCamera([a, b], at(45, 50), alert, 0).choice?.config.id, 'cam-a');
  assert.equal(chooseCamera([b, a], at(45, 50), alert, 0).choice?.config.id, 'cam-a');
});

test('holds: a higher-priority or more recent alert keeps its camera until the hold ends', () => {
  const held = { ...cam('near', 0, 0), hold: { alertId: 'gun', priority: 5, arrivedMs: 500, onsetMs: 500, untilMs: 10_000 } };
  const other = cam('other', 0, 100);
  assert.equal(chooseCamera([held, other], at(0, 30), alert, 1000).choice?.config.id, 'other');
  // After the hold expires, the near camera is free again.
  assert.equal(chooseCamera([held, other], at(0, 30), alert, 20_000).choice?.config.id, 'near');
  // Same alert keeps its own camera.
  assert.equal(isHeldAgainst(held.hold, { ...alert, alertId: 'gun' }, 1000), false);
  // Equal priority: the newer alert takes over an older one, not the reverse.
  const h = { alertId: 'x', priority: 2, arrivedMs: 1000, onsetMs: 1000, untilMs: 10_000 };
  assert.equal(isHeldAgainst(h, { alertId: 'y', priority: 2, arrivedMs: 2000, onsetMs: 2000 }, 0), false);
  assert.equal(isHeldAgainst(h, { alertId: 'y', priority: 2, arrivedMs: 500, onsetMs: 500 }, 0), true);
  assert.equal(isHeldAgainst(h, { alertId: 'y', priority: 3, arrivedMs: 500, onsetMs: 500 }, 0), false);
});

test('recency is the arrival here: an onset from a gateway whose clock runs an hour ahead does not keep the camera', () => {
  const hourMs = 3_600_000;
  // The held alert came first (arrived at 1000 on the steer's clock) but its gateway dates it an hour ahead.
  const skewed = { alertId: 'ahead', priority: 5, arrivedMs: 1000, onsetMs: 1_800_000_000_000 + hourMs, untilMs: 200_000 };
  const newer = { alertId: 'real', priority: 5, arrivedMs: 21_000, onsetMs: 1_800_000_000_000 + 20_000 };
  assert.equal(isHeldAgainst(skewed, newer, 30_000), false, 'the alert that came later is the more recent');
  // and the reverse: a newer alert whose gateway is an hour behind is still the more recent
  const late = { alertId: 'behind', priority: 5, arrivedMs: 21_000, onsetMs: 1_800_000_000_000 - hourMs };
  assert.equal(isHeldAgainst({ ...newer, arrivedMs: 1000, untilMs: 200_000 }, late, 30_000), false);
  assert.equal(isHeldAgainst({ ...late, untilMs: 200_000 }, { ...newer, arrivedMs: 1000 }, 30_000), true, 'an older arrival does not take it back');
  // Arrived in the same instant: the onset orders them.
  const same = { alertId: 'h', priority: 5, arrivedMs: 1000, onsetMs: 2000, untilMs: 200_000 };
  assert.equal(isHeldAgainst(same, { alertId: 'y', priority: 5, arrivedMs: 1000, onsetMs: 3000 }, 30_000), false);
  assert.equal(isHeldAgainst(same, { alertId: 'y', priority: 5, arrivedMs: 1000, onsetMs: 1000 }, 30_000), true);
  assert.ok(recency({ ...newer }, skewed) > 0);
});

test('a camera in its look is held against a newer alert of equal priority, not against a more important one', () => {
  const h = { alertId: 'boom-1', priority: 5, arrivedMs: 1000, onsetMs: 1000, untilMs: 120_000, lookUntilMs: 11_000 };
  const newer = { alertId: 'boom-2', priority: 5, arrivedMs: 2000, onsetMs: 2000 };
  assert.equal(isHeldAgainst(h, newer, 5000), true, 'during the look the newer one waits');
  assert.equal(isHeldAgainst(h, newer, 11_000), false, 'after it, the newer one takes the camera');
  assert.equal(isHeldAgainst({ ...h, priority: 4 }, newer, 5000), false, 'a more important alert takes it during the look');
  assert.equal(isHeldAgainst({ ...h, lookUntilMs: undefined }, newer, 5000), false, 'no look: the newer one takes it at once');
  assert.equal(isHeldAgainst({ ...h, untilMs: 4000 }, newer, 5000), false, 'the hold over, its look is over too');
  const near = cam('near', 0, 0);
  const far = cam('far', 0, 100);
  assert.equal(chooseCamera([{ ...near, hold: h }, far], at(0, 30), newer, 5000).choice?.config.id, 'far');
  assert.equal(chooseCamera([{ ...near, hold: h }, far], at(0, 30), newer, 12_000).choice?.config.id, 'near');
});

test('failed cameras are tried after reachable ones', () => {
  const down = { ...cam('down', 0, 0), state: 'failed' as const };
  const r = chooseCamera([down, cam('up', 0, 80)], at(0, 20), alert, 0);
  assert.deepEqual(r.ranked.map((c) => c.config.id), ['up', 'down']);
});

test('bearing-only targets: mast camera uses the bearing, others need the sensor position', () => {
  const mast = cam('mast', 0, 0, { sensorId: 's1' });
  const other = cam('other', 90, 30);
  const t = { kind: 'bearing' as const, sensorId: 's1', bearingDeg: 135, assumedDistanceM: 40 };
  const r = chooseCamera([other, mast], t, alert, 0);
  assert.equal(r.choice?.config.id, 'mast');
  assert.equal(r.choice?.aim.bearingDeg, 135);
  assert.equal(r.choice?.aim.distanceAssumed, true);
  assert.match(r.rejected[0].reason, /only a bearing/);
  const r2 = chooseCamera([other], { ...t, sensorPosition: O }, alert, 0);
  assert.equal(r2.choice?.config.id, 'other');
  assert.equal(r2.choice?.aim.distanceAssumed, true);
});

test('priorities by label, overridable', () => {
  assert.ok(priorityOf('gunshot') > priorityOf('glass_break'));
  assert.equal(priorityOf('glass_break', 9), 9);
  assert.equal(priorityOf('unknown'), 0);
});

test('a camera whose pan or tilt range does not reach the target is not chosen, with the reason; the next one is', () => {
  // A wall mount facing east whose pan covers −90…90° (north through east to south), nearest to the target.
  const wall = cam('wall', 0, 0, { calibration: { ...DEFAULT_CALIBRATION, panMinDeg: -90, panMaxDeg: 90 }, mountHeadingDeg: 90 });
  // A ceiling mount that looks no lower than 30° down: a target 5 m away is 50° down from 6 m up.
  const ceiling = cam('ceiling', 0, 1, { calibration: { ...DEFAULT_CALIBRATION, tiltMinDeg: -30, tiltMaxDeg: 0 } });
  const dome = cam('dome', 90, 80);
  const r = chooseCamera([wall, ceiling, dome], at(270, 5), alert, 0);
  assert.equal(r.choice?.config.id, 'dome');
  const why = Object.fromEntries(r.rejected.map((x) => [x.cameraId, x.reason]));
  assert.match(why.wall, /bearing 270\.0°.*pan 180\.0° is outside its pan range \(-90…90°\)/);
  assert.match(why.ceiling, /tilt -\d+\.\d° is outside its tilt range \(-30…0°\)/);
  // In its range, the wall mount is chosen.
  assert.equal(chooseCamera([wall, dome], at(60, 5), alert, 0).choice?.config.id, 'wall');
});

test('the range margin is the one given (ptz-steer passes its Tolerance): a camera 3° short of the target is chosen with 5°, not with 1°', () => {
  // A wall mount facing north whose pan covers −90…90°: a target at bearing 93° is 3° past its end.
  const wall = cam('wall', 0, 0, { calibration: { ...DEFAULT_CALIBRATION, panMinDeg: -90, panMaxDeg: 90 } });
  assert.equal(chooseCamera([wall], at(93, 20), alert, 0, 10, 1).choice, undefined);
  assert.match(chooseCamera([wall], at(93, 20), alert, 0, 10, 1).rejected[0].reason, /pan 93\.0° is outside its pan range \(-90…90°\)/);
  assert.equal(chooseCamera([wall], at(93, 20), alert, 0, 10, 5).choice?.config.id, 'wall');
  // And the limits the camera itself gives (its generic pan −0.5…0.5 on an endless calibration) the same way.
  const own = { ...cam('own', 0, 0), advertised: { x: { min: -0.5, max: 0.5 } } };
  assert.match(chooseCamera([own], at(93, 20), alert, 0, 10, 1).rejected[0].reason, /pan 93\.0° is beyond what the camera takes \(its position space's pan is -0\.5…0\.5: -90\.0…90\.0° with this calibration\)/);
  assert.equal(chooseCamera([own], at(93, 20), alert, 0, 10, 5).choice?.config.id, 'own');
  assert.equal(chooseCamera([own], at(-80, 20), alert, 0, 10, 1).choice?.config.id, 'own', 'within its limits');
});
