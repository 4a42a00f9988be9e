/**
 * Real places and awkward layouts: sources simulated at known places in cities far from the demo
 * street (southern and western hemispheres, the Arctic, the equator, across 180° and 0°), and
 * sensor layouts that cannot place a sound (two sensors at one place, one with a digit wrong in
 * its position). The fix must be right within its stated error or say why there is none.
 */
import { describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import { FusedFix, Observation, SAME_POSITION_M, fuseObservations } from '../../lib/localize/fusion';
import { FusionLocalizer, SensorGeometry } from '../../lib/localize/localizer';
import { enuToGeodetic, geodeticToEnu, speedOfSound } from '../../lib/localize/geo';
import type { Detection } from '../../lib/contracts';

const C = speedOfSound(15);
const SQUARE: [number, number][] = [
  [0, 0],
  [40, 0],
  [40, 40],
  [0, 40],
];

/** Onsets at sensors that are at `truth`, reported as at `said` (a typo in the configuration). */
function onsets(truth: [number, number][], src: [number, number], said: [number, number][] = truth): Observation[] {
  return truth.map(([e, n], i) => ({
    detectionId: `d${i}`,
    sensor: `s${i}`,
    label: 'gunshot',
    onsetSec: 100 + Math.hypot(src[0] - e, src[1] - n, 1.5 - 4) / C,
    e: said[i][0],
    n: said[i][1],
    z: 4,
    lat: 0,
    lon: 0,
    clock: 'ptp',
    clockErrorMs: 0.1,
    confidence: 0.9,
    payload: null,
  }));
}

const fuse = (obs: Observation[]): FusedFix => fuseObservations(obs, { speedOfSoundMs: C, sourceHeightM: 1.5 });
const missM = (f: FusedFix, src: [number, number]) => Math.hypot(f.e! - src[0], f.n! - src[1]);

describe('cities anywhere: the alert is placed where the sound was', () => {
  const cities: Array<[string, number, number]> = [
    ['Montevideo', -34.9011, -56.1645],
    ['Reykjavik', 64.1466, -21.9426],
    ['Tromsø', 69.6492, 18.9553],
    ['Quito, on the equator', -0.00015, -78.4678],
    ['Fiji, across 180°', -16.5, 179.99975],
    ['Chukotka, across 180°', 64.73, -179.99985],
    ['Greenwich, across 0°', 51.4779, -0.0002],
  ];
  for (const [city, lat, lon] of cities) {
    it(`${city}: four sensors 40 m apart, the source 25 m east and 15 m north of the first, within 5 cm`, () => {
      const origin = { lat, lon, alt: 0 };
      const sensors: SensorGeometry[] = SQUARE.map(([e, n], i) => {
        const g = enuToGeodetic([e, n, 0], origin);
        return { id: `p${i}`, lat: g.lat, lon: g.lon, heightM: 4, headingDeg: 0, mics: [[0, 0, 0]], clock: 'ptp', clockErrorMs: 0.1 };
      });
      const src = enuToGeodetic([25, 15, 0], origin);
      const det = (i: number): Detection => {
        const [e, n] = geodeticToEnu({ lat: src.lat, lon: src.lon, alt: 0 }, { lat: sensors[i].lat, lon: sensors[i].lon, alt: 0 });
        const onset = 1700000000 + Math.hypot(e, n, 1.5 - 4) / C;
        const id = sensors[i].id;
        return { kind: 'detection', id: `d-${id}`, sensor: id, label: 'gunshot', confidence: 0.9, onset, offset: onset + 0.5, level: { dbfs: -20 }, scores: { gunshot: 0.9 }, span: { sensor: id, start: 0, frames: 100 } };
      };
      const f = new FusionLocalizer({ temperatureC: 15, minSensors: 4 });
      const ready = [0, 1, 2, 3].flatMap((i) => f.add(det(i), sensors[i], i).ready);
      assert.equal(ready.length, 1);
      const pos = ready[0].location!.position!;
      assert.ok(pos, `${ready[0].location!.method}: ${ready[0].location!.reason}`);
      assert.ok(pos.lon >= -180 && pos.lon <= 180, `longitude ${pos.lon}`);
      const [e, n] = geodeticToEnu({ lat: pos.lat, lon: pos.lon, alt: 0 }, { lat: src.lat, lon: src.lon, alt: 0 });
      assert.ok(Math.hypot(e, n) < 0.05, `placed ${Math.hypot(e, n).toFixed(3)} m off`);
    });
  }
});

describe('layouts that cannot place a sound say so, naming the sensors', () => {
  it('three sensors, two of them at one place: no position (it was 55–145 m off, claiming thousands of km), the two named', () => {
    for (const said of [
      // a position typed twice: s2 is really at (40, 40)
      [
        [0, 0],
        [40, 0],
        [40, 0],
      ],
      // two arrays really on one pole
      [
        [0, 0],
        [40, 0],
        [40, 0.2],
      ],
    ] as [number, number][][]) {
      for (const src of [
        [25, 15],
        [10, 30],
        [-20, 50],
      ] as [number, number][]) {
        const truth: [number, number][] = said[2][1] === 0 ? [...said.slice(0, 2), [40, 40]] : said;
        const f = fuse(onsets(truth, src, said));
        assert.equal(f.method, 'none', `(${src}): placed ${f.e !== undefined ? missM(f, src).toFixed(1) : '?'} m off, claiming ±${f.errorM}`);
        assert.match(f.reason!, /sensors at the same position: "s1" and "s2" \(0\.[02] m apart\); check their latitude and longitude \(their onsets give 2 places; TDOA needs 3\)/);
      }
    }
    assert.ok(SAME_POSITION_M > 0.2);
  });

  it('four sensors, one position typed twice: still placed, within 3 times its stated error', () => {
    const src: [number, number] = [25, 15];
    const f = fuse(onsets(SQUARE, src, [SQUARE[0], SQUARE[1], SQUARE[1], SQUARE[3]]));
    assert.equal(f.method, 'tdoa');
    assert.ok(missM(f, src) <= 3 * f.errorM!, `${missM(f, src).toFixed(1)} m off, claiming ±${f.errorM!.toFixed(1)} m`);
  });

  it('a sensor whose position has a digit wrong (4 km away): left out and named, the others place the source', () => {
    const src: [number, number] = [25, 15];
    const wrong: [number, number][] = [SQUARE[0], SQUARE[1], SQUARE[2], [0, 4000]];
    const f = fuse(onsets(SQUARE, src, wrong));
    assert.equal(f.method, 'tdoa', f.reason);
    assert.ok(missM(f, src) < 0.1, `${missM(f, src).toFixed(2)} m off`);
    assert.deepEqual(f.rejected, [3]);
    assert.match(f.reason!, /sensor "s3" is 4\.0 km from the nearest other that heard it \(check its position\)/);
    // with only two others left, nothing is placed, and the reason still names it
    const three = fuse(onsets(SQUARE.slice(0, 3), src, [SQUARE[0], SQUARE[1], [4000, 40]]));
    assert.equal(three.method, 'none');
    assert.match(three.reason!, /sensor "s2" is 4\.0 km from the nearest other/);
  });

  it('a fix whose error is beyond any sensor\'s hearing is no position (three sensors in a line, two 0.6 m apart)', () => {
    const sensors: [number, number][] = [
      [0, 0],
      [40, 0],
      [40.6, 0],
    ];
    const f = fuse(onsets(sensors, [-200, 30]));
    assert.equal(f.method, 'none', `placed claiming ±${f.errorM?.toFixed(0)} m`);
    assert.match(f.reason!, /the sensors' layout cannot place it \(multilateration error ±\d+ m\)/);
  });

  it('a report left out both as an onset and as a bearing is named once', () => {
    // s3 said 900 m north of where it is: its onset and its bearing (from the wrong place) are both left out
    const src: [number, number] = [25, 15];
    const said: [number, number][] = [SQUARE[0], SQUARE[1], SQUARE[2], [0, 940]];
    const obs = onsets(SQUARE, src, said).map((o, i) => ({ ...o, bearingDeg: (Math.atan2(src[0] - SQUARE[i][0], src[1] - SQUARE[i][1]) * 180) / Math.PI, bearingStdDeg: 1 }));
    const f = fuse(obs);
    assert.equal(f.method, 'tdoa', f.reason);
    assert.ok(missM(f, src) < 0.1, `${missM(f, src).toFixed(2)} m off`);
    assert.deepEqual(f.rejected, [3]);
  });

  it('the localizer warns once of two sensors reported from the same place, naming both', () => {
    const origin = { lat: -34.9011, lon: -56.1645, alt: 0 };
    const at = (e: number, n: number) => enuToGeodetic([e, n, 0], origin);
    const sensor = (id: string, e: number, n: number): SensorGeometry => ({ id, ...at(e, n), heightM: 4, headingDeg: 0, mics: [[0, 0, 0]], clock: 'ptp', clockErrorMs: 0.1 });
    const sensors = [sensor('corner-a', 0, 0), sensor('corner-b', 40, 0), sensor('corner-c', 40, 0.1)];
    const det = (id: string, k: number): Detection => ({ kind: 'detection', id: `d-${id}-${k}`, sensor: id, label: 'gunshot', confidence: 0.9, onset: 1700000000 + 10 * k, offset: 1700000000.5 + 10 * k, level: { dbfs: -20 }, scores: { gunshot: 0.9 }, span: { sensor: id, start: 0, frames: 100 } });
    const said: string[] = [];
    const f = new FusionLocalizer({ temperatureC: 15, minSensors: 3, warnLayout: (t) => said.push(t) });
    for (const k of [0, 1]) for (const s of sensors) f.add(det(s.id, k), s, 1000 * k);
    assert.deepEqual(said, ['fusion: sensors at the same position: "corner-b" and "corner-c" (0.1 m apart); check their latitude and longitude. Onsets from one place measure one range: TDOA needs sensors at 3 places']);
  });

  it('same-place warnings with a district of sensors: a sensor reported from where it was is not compared again, one that moves next to another is, across a square\'s edge too', () => {
    const origin = { lat: 48.8566, lon: 2.3522, alt: 0 };
    const at = (e: number, n: number) => enuToGeodetic([e, n, 0], origin);
    const sensor = (id: string, e: number, n: number): SensorGeometry => ({ id, ...at(e, n), heightM: 4, headingDeg: 0, mics: [[0, 0, 0]], clock: 'ptp', clockErrorMs: 0.1 });
    // 400 sensors 50 m apart, each reporting one sound of its own (10 s apart: no incident shared).
    const grid = Array.from({ length: 400 }, (_, i) => sensor(`s${i}`, 50 * (i % 20), 50 * Math.floor(i / 20)));
    const det = (id: string, k: number): Detection => ({ kind: 'detection', id: `d-${id}-${k}`, sensor: id, label: 'gunshot', confidence: 0.9, onset: 1700000000 + 10 * k, offset: 1700000000.5 + 10 * k, level: { dbfs: -20 }, scores: { gunshot: 0.9 }, span: { sensor: id, start: 0, frames: 100 } });
    const said: string[] = [];
    const f = new FusionLocalizer({ temperatureC: 15, minSensors: 3, warnLayout: (t) => said.push(t) });
    let k = 0;
    for (const s of grid) f.add(det(s.id, k++), s, 10_000 * k);
    // Each comparison of two places measures their distance (Math.hypot): counted, not timed.
    const distances = mock.method(Math, 'hypot');
    try {
      for (const s of grid) f.add(det(s.id, k++), s, 10_000 * k);
      // Not one comparison with each of the 399 others a detection (160 000 in all).
      assert.ok(distances.mock.callCount() <= 20 * grid.length, `${distances.mock.callCount()} distances for ${grid.length} detections`);
    } finally {
      distances.mock.restore();
    }
    assert.deepEqual(said, []);
    // s1 moved (its position retyped) 0.3 m from s0, across the edge of s0's square (0…1 m).
    f.add(det('s1', k++), sensor('s1', -0.3, 0), 10_000 * k);
    f.add(det('s22', k++), sensor('s22', 50.2, 50.2), 10_000 * k);
    assert.deepEqual(said, [
      'fusion: sensors at the same position: "s0" and "s1" (0.3 m apart); check their latitude and longitude. Onsets from one place measure one range: TDOA needs sensors at 3 places',
      'fusion: sensors at the same position: "s21" and "s22" (0.3 m apart); check their latitude and longitude. Onsets from one place measure one range: TDOA needs sensors at 3 places',
    ]);
  });

  it('the localizer warns once of sensors in a line whose onsets fit a sound and its mirror image, naming them', () => {
    // three poles along a street in Tromsø, the sounds 12 m off it
    const origin = { lat: 69.6492, lon: 18.9553, alt: 0 };
    const poles: Array<[string, number, number]> = [
      ['street-1', 0, -40],
      ['street-2', 0, 0],
      ['street-3', 0, 40],
    ];
    const sensors: SensorGeometry[] = poles.map(([id, e, n]) => ({ id, ...enuToGeodetic([e, n, 0], origin), heightM: 4, headingDeg: 0, mics: [[0, 0, 0]], clock: 'ptp', clockErrorMs: 0.1 }));
    const det = (i: number, src: [number, number], k: number): Detection => {
      const onset = 1700000000 + 60 * k + Math.hypot(src[0] - poles[i][1], src[1] - poles[i][2], 1.5 - 4) / C;
      const id = sensors[i].id;
      return { kind: 'detection', id: `d-${id}-${k}`, sensor: id, label: 'gunshot', confidence: 0.9, onset, offset: onset + 0.5, level: { dbfs: -20 }, scores: { gunshot: 0.9 }, span: { sensor: id, start: 0, frames: 100 } };
    };
    const said: string[] = [];
    const f = new FusionLocalizer({ temperatureC: 15, minSensors: 3, warnLayout: (t) => said.push(t) });
    const ready = [0, 1].flatMap((k) => [0, 1, 2].flatMap((i) => f.add(det(i, k ? [-15, 20] : [12, 10], k), sensors[i], 1000 * k + i).ready));
    assert.equal(ready.length, 2);
    for (const a of ready) assert.match(a.location!.reason!, /mirror ambiguity/);
    assert.deepEqual(said, [
      'fusion: sensors "street-1", "street-2", "street-3" are in a line: from their onsets alone a sound and its mirror image across that line fit alike, and a sound only they hear gets no position (or one between the two, when they are close). A sensor off that line, or arrays whose bearings are trusted, would place it',
    ]);
  });
});
