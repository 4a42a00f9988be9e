/**
 * Where onsets alone cannot tell two places apart: sensors in a line (a source and its mirror
 * image across the line fit alike), and exactly 3 sensors with the source outside their
 * triangle (two exact solutions). Sources are simulated at known places; the fix must either be
 * right within its stated error or say it is ambiguous.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AMBIGUITY_SPAN_MAX_M, FusedFix, Observation, fuseObservations, multilaterate } from '../../lib/localize/fusion';
import { FusionLocalizer, SensorGeometry } from '../../lib/localize/localizer';
import { bearingDeg, enuToGeodetic, geodeticToEnu, speedOfSound } from '../../lib/localize/geo';
import type { Detection } from '../../lib/contracts';
import { gaussian, makeRng } from '../../lib/sim/signals';

const C = speedOfSound(15);
/** Three mono sensors on 4 m poles along a north–south street. */
const RAD = Math.PI / 180;
const LINE: [number, number][] = [
  [0, -40],
  [0, 0],
  [0, 40],
];
/** Three along a diagonal street (35° east of north), unevenly spaced. */
const DIAGONAL: [number, number][] = [-30, 5, 60].map((t) => [7 + t * Math.sin(35 * RAD), -3 + t * Math.cos(35 * RAD)]);
const TRIANGLE: [number, number][] = [
  [0, 0],
  [40, 0],
  [20, 30],
];

function onsets(sensors: [number, number][], src: [number, number], noiseSec = 0, seed = 1, extra: (i: number) => Partial<Observation> = () => ({})): Observation[] {
  const rng = makeRng(seed);
  return sensors.map(([e, n], i) => ({
    detectionId: `d${i}`,
    sensor: `s${i}`,
    label: 'gunshot',
    onsetSec: 100 + Math.hypot(src[0] - e, src[1] - n, 1.5 - 4) / C + noiseSec * gaussian(rng),
    e,
    n,
    z: 4,
    lat: 0,
    lon: 0,
    clock: 'ptp',
    clockErrorMs: 0.1,
    confidence: 0.9,
    payload: null,
    ...extra(i),
  }));
}

const fuse = (obs: Observation[]): FusedFix => fuseObservations(obs, { speedOfSoundMs: C, sourceHeightM: 1.5 });
const missM = (f: FusedFix, src: [number, number]) => Math.hypot(f.e! - src[0], f.n! - src[1]);

describe('sensors in a line, onsets only: the mirror ambiguity', () => {
  it('a source well off the line gets no position, and the reason names the mirror ambiguity (either side alike)', () => {
    for (const src of [
      [12, 10],
      [-12, 10],
      [6, 23],
      [-20, -30],
    ] as [number, number][]) {
      const f = fuse(onsets(LINE, src));
      assert.equal(f.method, 'none', `(${src}): placed at (${f.e?.toFixed(1)}, ${f.n?.toFixed(1)}) ±${f.errorM?.toFixed(1)} m`);
      assert.match(f.reason!, /mirror ambiguity: the sensors are in a line/);
      assert.match(f.reason!, new RegExp(`\\(${Math.round(2 * Math.abs(src[0]))} m apart\\)`));
    }
    // Along a diagonal street, unevenly spaced: the grid of start points is not symmetric about the line.
    const f = fuse(onsets(DIAGONAL, [13.5, -5.5]));
    assert.equal(f.method, 'none', `diagonal: placed at (${f.e?.toFixed(1)}, ${f.n?.toFixed(1)}) ±${f.errorM?.toFixed(1)} m`);
    assert.match(f.reason!, /mirror ambiguity/);
  });

  it('multilaterate finds both: the fix and its mirror image, each fitting the exact onsets', () => {
    const obs = onsets(LINE, [12, 10]).map((o) => ({ e: o.e, n: o.n, z: o.z, tSec: o.onsetSec, sigmaSec: 1e-4 }));
    const fix = multilaterate(obs, { speedOfSoundMs: C, sourceHeightM: 1.5 })!;
    assert.ok(fix.alternative, 'a second place is reported');
    const places = [
      [fix.e, fix.n],
      [fix.alternative.e, fix.alternative.n],
    ].sort((a, b) => a[0] - b[0]);
    assert.ok(Math.hypot(places[0][0] + 12, places[0][1] - 10) < 0.1 && Math.hypot(places[1][0] - 12, places[1][1] - 10) < 0.1, JSON.stringify(places));
    assert.ok(fix.offLineM! < 1e-9, `offLineM ${fix.offLineM}`);
  });

  it('a source close to the line is placed between it and its mirror image, with an error that covers both', () => {
    for (const src of [
      [2, 7],
      [-2, 7],
      [4, -23],
    ] as [number, number][]) {
      const f = fuse(onsets(LINE, src));
      // Noise-free onsets, and the start on the sensors' line once left the solve stuck there: no fix at all.
      assert.equal(f.method, 'tdoa', `(${src}): ${f.reason}`);
      assert.ok(Math.abs(f.e!) < 0.1, `between the two: e = ${f.e}`);
      assert.ok(f.errorM! >= Math.abs(src[0]), `errorM ${f.errorM} covers both candidates, ${Math.abs(src[0])} m each side`);
      assert.ok(2 * Math.abs(src[0]) <= AMBIGUITY_SPAN_MAX_M);
      assert.match(f.reason!, /mirror ambiguity: .*placed between the source and its mirror image/);
    }
  });

  it('over 120 random sources with 0.1 ms onset noise, no fix is farther off than three times its stated error (+1 m); also along a diagonal street, unevenly spaced', () => {
    for (const [layout, sensors, axisDeg, centre] of [
      ['north–south', LINE, 0, [0, 0]],
      ['diagonal', DIAGONAL, 35, [7, -3]],
    ] as const) {
      const rng = makeRng(42);
      let placed = 0;
      for (let k = 0; k < 120; k++) {
        const along = -50 + 110 * rng();
        const off = (rng() < 0.5 ? -1 : 1) * (1 + 30 * rng());
        const a = axisDeg * RAD;
        const src: [number, number] = [centre[0] + along * Math.sin(a) + off * Math.cos(a), centre[1] + along * Math.cos(a) - off * Math.sin(a)];
        const f = fuse(onsets(sensors as [number, number][], src, 1e-4, k + 1));
        if (f.method === 'none') {
          // or, near the line's ends, a fix whose error is beyond any sensor's hearing
          assert.match(f.reason!, /mirror ambiguity|the sensors' layout cannot place it/);
          continue;
        }
        placed++;
        assert.ok(missM(f, src) <= 3 * f.errorM! + 1, `${layout}: (${src.map((v) => v.toFixed(1))}) placed ${missM(f, src).toFixed(1)} m off, claiming ±${f.errorM!.toFixed(1)} m`);
      }
      assert.ok(placed > 0, `${layout}: sources near the line are still placed`);
    }
  });

  it('a fourth sensor off the line, or one trusted bearing, tells the side: the source is placed where it is', () => {
    const src: [number, number] = [12, 10];
    const four = fuse(onsets([...LINE, [15, -5]], src));
    assert.equal(four.method, 'tdoa');
    assert.ok(missM(four, src) < 0.5, `4 sensors: ${missM(four, src)} m off`);
    assert.equal(four.reason, undefined);
    const withBearing = fuse(onsets(LINE, src, 0, 1, (i) => (i === 1 ? { bearingDeg: bearingDeg(0, 0, src[0], src[1]), bearingStdDeg: 5 } : {})));
    assert.equal(withBearing.method, 'tdoa');
    assert.ok(missM(withBearing, src) < 0.5, `with a bearing: ${missM(withBearing, src)} m off`);
  });
});

describe('three sensors, source outside their triangle: two exact solutions', () => {
  it('never claims a position that the other solution contradicts; inside the triangle, places within half a metre', () => {
    const rng = makeRng(7);
    let ambiguous = 0;
    for (let k = 0; k < 150; k++) {
      const src: [number, number] = [-80 + 200 * rng(), -80 + 200 * rng()];
      const f = fuse(onsets(TRIANGLE, src, 1e-4, k + 1));
      if (f.method === 'none') {
        assert.match(f.reason!, /2 places \d+ m apart fit the onsets alike \(3 onsets for 3 unknowns, source outside the sensors' triangle|the sensors' layout cannot place it/);
        ambiguous++;
        continue;
      }
      assert.ok(missM(f, src) <= 3 * f.errorM! + 1, `(${src.map((v) => v.toFixed(1))}) placed ${missM(f, src).toFixed(1)} m off, claiming ±${f.errorM!.toFixed(1)} m`);
    }
    assert.ok(ambiguous > 0, 'some sources outside the triangle are ambiguous');
    for (const src of [
      [20, 10],
      [10, 5],
      [30, 8],
    ] as [number, number][]) {
      const f = fuse(onsets(TRIANGLE, src, 1e-4));
      assert.equal(f.method, 'tdoa', f.reason);
      assert.ok(missM(f, src) < 0.5, `inside: ${missM(f, src)} m off`);
      assert.equal(f.reason, undefined);
    }
  });
});

describe('localizer (fusion): three mono sensors along a street', () => {
  it('sends the alert without a position and with the mirror ambiguity as its reason; a sensor off the line places it', () => {
    const origin = { lat: 45.4397, lon: 4.3872, alt: 0 };
    const poles: [string, number, number][] = [
      ['p1', 0, -40],
      ['p2', 0, 0],
      ['p3', 0, 40],
      ['p4', 15, -5],
    ];
    const sensors: SensorGeometry[] = poles.map(([id, e, n]) => {
      const g = enuToGeodetic([e, n, 0], origin);
      return { id, lat: g.lat, lon: g.lon, heightM: 4, headingDeg: 0, mics: [[0, 0, 0]], clock: 'ptp', clockErrorMs: 0.1 };
    });
    const src = [12, 10];
    const det = (i: number): Detection => {
      const onset = 1700000000 + Math.hypot(src[0] - poles[i][1], src[1] - poles[i][2], 1.5 - 4) / C;
      const id = sensors[i].id;
      return { kind: 'detection', id: `d-${id}`, sensor: id, label: 'gunshot', confidence: 0.9, onset, offset: onset + 0.5, level: { dbfs: -20 }, scores: { gunshot: 0.9 }, span: { sensor: id, start: 0, frames: 100 } };
    };
    const f = new FusionLocalizer({ temperatureC: 15, minSensors: 3 });
    const ready = [0, 1, 2].flatMap((i) => f.add(det(i), sensors[i], i).ready);
    assert.equal(ready.length, 1);
    const loc = ready[0].location!;
    assert.equal(loc.method, 'none');
    assert.equal(loc.position, undefined);
    assert.match(loc.reason!, /mirror ambiguity/);
    // The fourth sensor, late and off the line, places it: the alert is sent again with the position.
    const late = f.add(det(3), sensors[3], 10);
    const placed = late.refined?.location;
    assert.equal(placed?.method, 'tdoa');
    const [e, n] = geodeticToEnu({ lat: placed!.position!.lat, lon: placed!.position!.lon, alt: 0 }, origin);
    assert.ok(Math.hypot(e - src[0], n - src[1]) < 0.5, `placed at (${e.toFixed(1)}, ${n.toFixed(1)})`);
  });
});
