/** Camera geometry and calibration: bearings/positions → pan/tilt/zoom and back. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_CALIBRATION,
  aimAtDistance,
  aimAtPosition,
  aimToCameraDegrees,
  bearingDistance,
  cameraDegreesToWorld,
  degreesToSpace,
  destination,
  hfovForWidth,
  hfovForZoom,
  inSector,
  pointingErrorDeg,
  spaceToDegrees,
  wrap180,
  zoomForHfov,
  outOfRangeWords,
} from '../../lib/camera/geometry';
import { spaceDelta } from '../../lib/camera/mover';
import { CameraCalibration } from '../../lib/camera/types';
import { cameraConfigFromNode, parseBlindSectors } from '../../lib/camera/config';

const near = (a: number, b: number, tol: number, what = '') => assert.ok(Math.abs(a - b) <= tol, `${what} ${a} vs ${b} (±${tol})`);

test('wrap180 folds angles into (−180, 180]', () => {
  assert.equal(wrap180(190), -170);
  assert.equal(wrap180(-190), 170);
  assert.equal(wrap180(180), 180);
  assert.equal(wrap180(-180), 180);
  assert.equal(wrap180(720 + 45), 45);
});

test('bearing and distance between points, and destination back', () => {
  const a = { lat: 45.4397, lon: 4.3872 };
  // 1° of latitude ≈ 111.2 km due north.
  const n = bearingDistance(a, { lat: 46.4397, lon: 4.3872 });
  near(n.bearingDeg, 0, 1e-9, 'north bearing');
  near(n.distanceM, 111_195, 50, 'north distance');
  for (const brg of [0, 45, 90, 135, 180, 225, 270, 315, 359]) {
    const p = destination(a, brg, 120);
    const back = bearingDistance(a, p);
    near(back.distanceM, 120, 0.01, `distance at ${brg}`);
    near(wrap180(back.bearingDeg - brg), 0, 0.01, `bearing at ${brg}`);
  }
});

test('aim at a ground target from a mast: tilt from height and distance, zoom framing 10 m', () => {
  const aim = aimAtDistance(30, 50, 6);
  near(aim.tiltDeg, -Math.atan2(6, 50) * (180 / Math.PI), 1e-9, 'tilt');
  near(aim.tiltDeg, -6.84, 0.01, 'tilt value');
  // 10 m across at the slant range of 50.36 m.
  near(aim.hfovDeg, 2 * Math.atan(5 / Math.hypot(50, 6)) * (180 / Math.PI), 1e-9, 'hfov');
  near(hfovForWidth(10, 10), 53.13, 0.01, 'hfov at 10 m');
  const cam = { lat: 45, lon: 4, heightM: 10 };
  const t = destination(cam, 200, 80);
  const a2 = aimAtPosition(cam, t);
  near(a2.bearingDeg, 200, 0.01, 'bearing');
  near(a2.distanceM, 80, 0.01, 'distance');
  near(a2.tiltDeg, -7.125, 0.01, 'tilt');
  assert.equal(a2.distanceAssumed, false);
});

test('mount heading, pan direction and tilt offset', () => {
  const cal = { ...DEFAULT_CALIBRATION };
  const cfg = { mountHeadingDeg: 90, tiltOffsetDeg: 1.5, calibration: cal };
  const d = aimToCameraDegrees(cfg, { bearingDeg: 120, tiltDeg: -10, hfovDeg: 20 });
  assert.deepEqual(d, { panDeg: 30, tiltDeg: -8.5, hfovDeg: 20 });
  // Counter-clockwise pan: the same bearing is −30°.
  const ccw = aimToCameraDegrees({ ...cfg, calibration: { ...cal, panDirection: -1 } }, { bearingDeg: 120, tiltDeg: -10, hfovDeg: 20 });
  assert.equal(ccw.panDeg, -30);
  // Behind the mount heading wraps: bearing 260° from heading 90° is pan 170°, 280° is −170°.
  assert.equal(aimToCameraDegrees(cfg, { bearingDeg: 260, tiltDeg: 0, hfovDeg: 1 }).panDeg, 170);
  assert.equal(aimToCameraDegrees(cfg, { bearingDeg: 280, tiltDeg: 0, hfovDeg: 1 }).panDeg, -170);
  const world = cameraDegreesToWorld({ ...cfg, calibration: { ...cal, panDirection: -1 } }, ccw);
  near(world.bearingDeg, 120, 1e-9, 'round trip bearing');
  near(world.tiltDeg, -10, 1e-9, 'round trip tilt');
});

test('generic space: pan −1…1 = −180…180°, tilt −1…1 = −90…20°, and back', () => {
  const cal = DEFAULT_CALIBRATION;
  const p = degreesToSpace(cal, { panDeg: 90, tiltDeg: -35, hfovDeg: 60 });
  near(p.pan, 0.5, 1e-12, 'pan');
  near(p.tilt, 0, 1e-12, 'tilt');
  near(p.zoom, 0, 1e-12, 'zoom at widest');
  near(degreesToSpace(cal, { panDeg: -170, tiltDeg: 20, hfovDeg: 3.3 }).pan, -170 / 180, 1e-12, 'pan −170');
  near(degreesToSpace(cal, { panDeg: -170, tiltDeg: 20, hfovDeg: 3.3 }).tilt, 1, 1e-12, 'tilt max');
  near(degreesToSpace(cal, { panDeg: 0, tiltDeg: 0, hfovDeg: 3.3 }).zoom, 1, 1e-12, 'zoom at tele');
  for (const [pan, tilt, hfov] of [[0, -90, 60], [179, -5, 20], [-45, 10, 8]]) {
    const back = spaceToDegrees(cal, degreesToSpace(cal, { panDeg: pan, tiltDeg: tilt, hfovDeg: hfov }));
    near(back.panDeg, pan, 1e-9, 'pan round trip');
    near(back.tiltDeg, tilt, 1e-9, 'tilt round trip');
    near(back.hfovDeg, hfov, 1e-9, 'hfov round trip');
  }
  // Out of range is clamped (the camera cannot look up 60°).
  near(degreesToSpace(cal, { panDeg: 0, tiltDeg: 60, hfovDeg: 60 }).tilt, 1, 1e-12, 'clamped tilt');
});

test('a reversed tilt range (−1 = up, 20…−90°): looking down gives a tilt towards +1, and back; out of range is clamped', () => {
  const cal = { ...DEFAULT_CALIBRATION, tiltMinDeg: 20, tiltMaxDeg: -90 };
  near(degreesToSpace(cal, { panDeg: 0, tiltDeg: -90, hfovDeg: 60 }).tilt, 1, 1e-12, 'straight down at +1');
  near(degreesToSpace(cal, { panDeg: 0, tiltDeg: 20, hfovDeg: 60 }).tilt, -1, 1e-12, '20° up at −1');
  near(degreesToSpace(cal, { panDeg: 0, tiltDeg: -35, hfovDeg: 60 }).tilt, 0, 1e-12, 'the middle');
  for (const tilt of [-80, -30, 0, 15]) near(spaceToDegrees(cal, degreesToSpace(cal, { panDeg: 10, tiltDeg: tilt, hfovDeg: 30 })).tiltDeg, tilt, 1e-9, `round trip ${tilt}`);
  near(degreesToSpace(cal, { panDeg: 0, tiltDeg: 60, hfovDeg: 60 }).tilt, -1, 1e-12, 'clamped up');
  near(degreesToSpace(cal, { panDeg: 0, tiltDeg: -120, hfovDeg: 60 }).tilt, 1, 1e-12, 'clamped down');
});

test('a 0…360° pan range maps bearings behind pan zero into range', () => {
  const cal: CameraCalibration = { ...DEFAULT_CALIBRATION, panMinDeg: 0, panMaxDeg: 360 };
  near(degreesToSpace(cal, { panDeg: -90, tiltDeg: 0, hfovDeg: 60 }).pan, 0.5, 1e-12, '−90° = 270°');
  near(degreesToSpace(cal, { panDeg: 90, tiltDeg: 0, hfovDeg: 60 }).pan, -0.5, 1e-12, '90°');
  // A limited 0…300° camera: out-of-range bearings go to the nearer end (−20° → 0°, −50° = 310° → 300°).
  const lim: CameraCalibration = { ...DEFAULT_CALIBRATION, panMinDeg: 0, panMaxDeg: 300 };
  near(degreesToSpace(lim, { panDeg: -20, tiltDeg: 0, hfovDeg: 60 }).pan, -1, 1e-12, 'nearer end min');
  near(degreesToSpace(lim, { panDeg: -50, tiltDeg: 0, hfovDeg: 60 }).pan, 1, 1e-12, 'nearer end max');
});

test('degree space passes degrees through', () => {
  const cal: CameraCalibration = { ...DEFAULT_CALIBRATION, space: 'degrees' };
  const p = degreesToSpace(cal, { panDeg: -120.5, tiltDeg: -12.25, hfovDeg: 30 });
  assert.equal(p.pan, -120.5);
  assert.equal(p.tilt, -12.25);
  assert.deepEqual(spaceToDegrees(cal, p).panDeg, -120.5);
});

test('zoom is linear in focal length between the wide and tele fields of view', () => {
  const cal = { hfovWideDeg: 60, hfovTeleDeg: 2 * Math.atan(Math.tan(Math.PI / 6) / 20) * (180 / Math.PI) };
  // Zoom factor 1 + 19 z (as the virtual camera): 10.5× is z = 0.5.
  const hfov10x = 2 * Math.atan(Math.tan(Math.PI / 6) / 10.5) * (180 / Math.PI);
  near(zoomForHfov(cal, hfov10x), 0.5, 1e-9, 'z for 10.5×');
  near(hfovForZoom(cal, 0.5), hfov10x, 1e-9, 'hfov at 0.5');
  assert.equal(zoomForHfov(cal, 120), 0, 'wider than wide → 0');
  assert.equal(zoomForHfov(cal, 0.5), 1, 'narrower than tele → 1');
});

test('relative translation takes the short way round when pan is endless', () => {
  const d = spaceDelta(DEFAULT_CALIBRATION, { pan: 170 / 180, tilt: 0, zoom: 0 }, { pan: -170 / 180, tilt: 0.2, zoom: 0.5 });
  near(d.pan, 20 / 180, 1e-12, 'pan across ±180');
  near(d.tilt, 0.2, 1e-12, 'tilt');
  const limited: CameraCalibration = { ...DEFAULT_CALIBRATION, panMinDeg: -170, panMaxDeg: 170 };
  near(spaceDelta(limited, { pan: 0.9, tilt: 0, zoom: 0 }, { pan: -0.9, tilt: 0, zoom: 0 }).pan, -1.8, 1e-12, 'no wrap on a limited camera');
  const deg: CameraCalibration = { ...DEFAULT_CALIBRATION, space: 'degrees' };
  near(spaceDelta(deg, { pan: 175, tilt: 0, zoom: 0 }, { pan: -175, tilt: 0, zoom: 0 }).pan, 10, 1e-12, 'degrees across ±180');
});

test('pointing error and sectors', () => {
  assert.equal(pointingErrorDeg({ panDeg: 179.5, tiltDeg: -10 }, { panDeg: -179.5, tiltDeg: -10.2 }), 1);
  assert.ok(inSector(10, 300, 20));
  assert.ok(inSector(300, 300, 20));
  assert.ok(!inSector(25, 300, 20));
  assert.ok(inSector(100, 90, 120));
  assert.ok(!inSector(80, 90, 120));
});

test('camera config from the editor form: defaults, checks naming the field', () => {
  const c = cameraConfigFromNode({ id: 'n1', host: '10.0.0.5', lat: '45.1', lon: '4.2', blindSectors: '300-20, 90 - 120', panDirection: '-1' });
  assert.equal(c.id, 'n1');
  assert.equal(c.port, 80);
  assert.equal(c.calibration.panDirection, -1);
  assert.deepEqual(c.blindSectors, [{ fromDeg: 300, toDeg: 20 }, { fromDeg: 90, toDeg: 120 }]);
  assert.equal(cameraConfigFromNode({ id: 'n1', cameraId: 'dome-3', host: 'h', lat: 0, lon: 0 }).id, 'dome-3');
  assert.throws(() => cameraConfigFromNode({ id: 'n1', lat: 0, lon: 0 }), /camera\.host: expected/);
  assert.throws(() => cameraConfigFromNode({ id: 'n1', host: 'h', lat: 'x', lon: 0 }), /camera\.lat: expected a number from -90 to 90, got "x"/);
  // read as every node's numeric settings are (settingsReader), the position required
  assert.throws(() => cameraConfigFromNode({ id: 'n1', host: 'h', lon: 0 }), /^ContractError: camera\.lat: expected a number from -90 to 90$/);
  assert.throws(() => cameraConfigFromNode({ id: 'n1', host: 'h', lat: 0, lon: ' ' }), /^ContractError: camera\.lon: expected a number from -180 to 180, got " "$/);
  assert.throws(() => cameraConfigFromNode({ id: 'n1', host: 'h', lat: '91', lon: 0 }), /camera\.lat: expected a number from -90 to 90, got "91"/);
  assert.throws(() => cameraConfigFromNode({ id: 'n1', host: 'h', lat: 0, lon: 0, port: '80.5' }), /camera\.port: expected an integer from 1 to 65535, got "80\.5"/);
  assert.throws(() => cameraConfigFromNode({ id: 'n1', host: 'h', lat: 0, lon: 0, maxRangeM: 200_000 }), /camera\.maxRangeM: expected a number from 1 to 100000, got 200000/);
  assert.throws(() => cameraConfigFromNode({ id: 'n1', host: 'h', lat: 0, lon: 0, tiltMinDeg: 20, tiltMaxDeg: 20 }), /camera\.tiltMaxDeg: expected another tilt than tiltMinDeg \(20\): the two ends of the tilt range, got 20/);
  // A tilt axis that runs the other way (−1 up): the range reversed.
  const reversed = cameraConfigFromNode({ id: 'n1', host: 'h', lat: 0, lon: 0, tiltMinDeg: 20, tiltMaxDeg: -90 }).calibration;
  assert.deepEqual([reversed.tiltMinDeg, reversed.tiltMaxDeg], [20, -90]);
  assert.throws(() => cameraConfigFromNode({ id: 'n1', host: 'h', lat: 0, lon: 0, hfovWideDeg: 30, hfovTeleDeg: 40 }), /camera\.hfovTeleDeg: expected at most hfovWideDeg \(30\), got 40/);
  assert.throws(() => cameraConfigFromNode({ id: 'n1', host: 'h', lat: 0, lon: 0, panDirection: 'left' }), /camera\.panDirection: expected 1 \(clockwise\) or -1 \(counter-clockwise\), got "left"/);
  assert.equal(cameraConfigFromNode({ id: 'n1', host: 'h', lat: 0, lon: 0, panDirection: '-1' }).calibration.panDirection, -1);
  assert.throws(() => cameraConfigFromNode({ id: 'n1', host: 'h', lat: 0, lon: 0, panMinDeg: 10, panMaxDeg: 0 }), /camera\.panMaxDeg: expected more than panMinDeg \(10\), got 0/);
  assert.throws(() => cameraConfigFromNode({ id: 'n1', host: 'h', lat: 0, lon: 0, space: 'radians' }), /camera\.space/);
  assert.throws(() => parseBlindSectors('north'), /camera\.blindSectors\[0\]: expected a sector/);
});

test('outOfRangeWords: pan end stops and tilt ranges either way round; an endless pan never refuses', () => {
  const wall = { ...DEFAULT_CALIBRATION, panMinDeg: -90, panMaxDeg: 90 };
  assert.equal(outOfRangeWords(wall, { panDeg: 90.5, tiltDeg: -10 }, 1), undefined);
  assert.match(outOfRangeWords(wall, { panDeg: -120, tiltDeg: -10 }, 1) ?? '', /pan -120\.0° is outside its pan range \(-90…90°\)/);
  // Tilt −1 up (reversed range): the same ends, either way round.
  const reversed = { ...DEFAULT_CALIBRATION, tiltMinDeg: 0, tiltMaxDeg: -45 };
  assert.equal(outOfRangeWords(reversed, { panDeg: 10, tiltDeg: -40 }, 1), undefined);
  assert.match(outOfRangeWords(reversed, { panDeg: 10, tiltDeg: -60 }, 1) ?? '', /tilt -60\.0° is outside its tilt range \(-45…0°\)/);
  assert.equal(outOfRangeWords(DEFAULT_CALIBRATION, { panDeg: 179.9, tiltDeg: -89 }, 1), undefined);
  assert.equal(outOfRangeWords({ ...DEFAULT_CALIBRATION, panMinDeg: 0, panMaxDeg: 360 }, { panDeg: -170, tiltDeg: -10 }, 1), undefined);
});
