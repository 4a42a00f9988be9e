import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bearingDeg, diffDeg, ecefToGeodetic, enuToGeodetic, geodeticToEcef, geodeticToEnu, normDeg, speedOfSound } from '../../lib/localize/geo';

describe('geo: WGS84 ↔ ECEF ↔ ENU', () => {
  it('puts the equator/greenwich point on the x axis at the semi-major axis', () => {
    const [x, y, z] = geodeticToEcef({ lat: 0, lon: 0, alt: 0 });
    assert.ok(Math.abs(x - 6378137) < 1e-6);
    assert.ok(Math.abs(y) < 1e-6 && Math.abs(z) < 1e-6);
    const [, , zp] = geodeticToEcef({ lat: 90, lon: 0, alt: 0 });
    assert.ok(Math.abs(zp - 6356752.3142) < 1e-3, `polar radius ${zp}`);
  });

  it('round-trips geodetic → ECEF → geodetic to micro-degrees and millimetres', () => {
    for (const p of [
      { lat: 45.4397, lon: 4.3872, alt: 520 },
      { lat: -33.8688, lon: 151.2093, alt: 30 },
      { lat: 64.1466, lon: -21.9426, alt: -10 },
      { lat: 0.0001, lon: 179.9999, alt: 2000 },
    ]) {
      const [x, y, z] = geodeticToEcef(p);
      const g = ecefToGeodetic(x, y, z);
      assert.ok(Math.abs(g.lat - p.lat) < 1e-9, `lat ${g.lat} vs ${p.lat}`);
      assert.ok(Math.abs(g.lon - p.lon) < 1e-9, `lon ${g.lon} vs ${p.lon}`);
      assert.ok(Math.abs(g.alt - p.alt) < 1e-3, `alt ${g.alt} vs ${p.alt}`);
    }
  });

  it('round-trips ENU offsets around an origin (city scale) to a millimetre', () => {
    const origin = { lat: 45.4397, lon: 4.3872, alt: 520 };
    for (const enu of [
      [0, 0, 0],
      [12.5, -30.25, 4],
      [-2500, 1800, -20],
      [8000, 8000, 100],
    ]) {
      const g = enuToGeodetic(enu, origin);
      const back = geodeticToEnu(g, origin);
      for (let k = 0; k < 3; k++) assert.ok(Math.abs(back[k] - enu[k]) < 1e-3, `axis ${k}: ${back[k]} vs ${enu[k]}`);
    }
  });

  it('matches known distances: 0.001° of latitude at 45° is about 111.1 m north', () => {
    const origin = { lat: 45, lon: 4 };
    const [e, n, u] = geodeticToEnu({ lat: 45.001, lon: 4 }, origin);
    assert.ok(Math.abs(e) < 1e-6);
    assert.ok(Math.abs(n - 111.13) < 0.05, `north ${n}`);
    assert.ok(Math.abs(u) < 0.01);
    const [e2] = geodeticToEnu({ lat: 45, lon: 4.001 }, origin);
    assert.ok(Math.abs(e2 - 78.85) < 0.05, `east ${e2}`);
  });

  it('gives bearings clockwise from north and signed angle differences', () => {
    assert.equal(bearingDeg(0, 0, 0, 10), 0);
    assert.equal(bearingDeg(0, 0, 10, 0), 90);
    assert.equal(bearingDeg(0, 0, 0, -10), 180);
    assert.equal(bearingDeg(0, 0, -10, 0), 270);
    assert.equal(normDeg(-30), 330);
    assert.equal(diffDeg(359, 1), -2);
    assert.equal(diffDeg(1, 359), 2);
    assert.equal(diffDeg(180, 0), 180);
    assert.ok(Math.abs(speedOfSound(20) - 343.42) < 0.01);
  });
});
