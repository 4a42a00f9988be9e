/**
 * WGS84 ↔ local east-north-up (ENU) metres around a geo origin, through ECEF.
 * Exact (no flat-earth shortcut), so round trips hold to millimetres over a city.
 */

const A = 6378137.0; // WGS84 semi-major axis, m
const F = 1 / 298.257223563;
const E2 = F * (2 - F); // first eccentricity squared
const B = A * (1 - F);
const EP2 = (A * A - B * B) / (B * B); // second eccentricity squared

export interface GeoPoint {
  lat: number;
  lon: number;
  /** Height above the ellipsoid, m (0 when unknown). */
  alt?: number;
}

/** East, north, up in metres. */
export type Enu = [e: number, n: number, u: number];

const RAD = Math.PI / 180;

export function geodeticToEcef(p: GeoPoint): [number, number, number] {
  const lat = p.lat * RAD;
  const lon = p.lon * RAD;
  const h = p.alt ?? 0;
  const s = Math.sin(lat);
  const N = A / Math.sqrt(1 - E2 * s * s);
  return [(N + h) * Math.cos(lat) * Math.cos(lon), (N + h) * Math.cos(lat) * Math.sin(lon), (N * (1 - E2) + h) * s];
}

/** ECEF → geodetic with Bowring's formula plus two Newton refinements (sub-mm at ground level). */
export function ecefToGeodetic(x: number, y: number, z: number): Required<GeoPoint> {
  const lon = Math.atan2(y, x);
  const p = Math.hypot(x, y);
  const theta = Math.atan2(z * A, p * B);
  let lat = Math.atan2(z + EP2 * B * Math.sin(theta) ** 3, p - E2 * A * Math.cos(theta) ** 3);
  let h = 0;
  for (let i = 0; i < 2; i++) {
    const s = Math.sin(lat);
    const N = A / Math.sqrt(1 - E2 * s * s);
    h = Math.abs(Math.cos(lat)) > 1e-9 ? p / Math.cos(lat) - N : Math.abs(z) - B;
    lat = Math.atan2(z, p * (1 - (E2 * N) / (N + h)));
  }
  return { lat: lat / RAD, lon: lon / RAD, alt: h };
}

export function geodeticToEnu(p: GeoPoint, origin: GeoPoint): Enu {
  const [x, y, z] = geodeticToEcef(p);
  const [x0, y0, z0] = geodeticToEcef(origin);
  const dx = x - x0;
  const dy = y - y0;
  const dz = z - z0;
  const lat = origin.lat * RAD;
  const lon = origin.lon * RAD;
  const sl = Math.sin(lat);
  const cl = Math.cos(lat);
  const so = Math.sin(lon);
  const co = Math.cos(lon);
  return [-so * dx + co * dy, -sl * co * dx - sl * so * dy + cl * dz, cl * co * dx + cl * so * dy + sl * dz];
}

export function enuToGeodetic(enu: readonly number[], origin: GeoPoint): Required<GeoPoint> {
  const [e, n, u] = [enu[0], enu[1], enu[2] ?? 0];
  const lat = origin.lat * RAD;
  const lon = origin.lon * RAD;
  const sl = Math.sin(lat);
  const cl = Math.cos(lat);
  const so = Math.sin(lon);
  const co = Math.cos(lon);
  const [x0, y0, z0] = geodeticToEcef(origin);
  const dx = -so * e - sl * co * n + cl * co * u;
  const dy = co * e - sl * so * n + cl * so * u;
  const dz = cl * n + sl * u;
  return ecefToGeodetic(x0 + dx, y0 + dy, z0 + dz);
}

/** Bearing in degrees clockwise from true north, in [0, 360). */
export function bearingDeg(fromE: number, fromN: number, toE: number, toN: number): number {
  return normDeg((Math.atan2(toE - fromE, toN - fromN) * 180) / Math.PI);
}

export function normDeg(d: number): number {
  const r = d % 360;
  return r < 0 ? r + 360 : r;
}

/** Signed smallest difference a − b in degrees, in (−180, 180]. */
export function diffDeg(a: number, b: number): number {
  let d = (a - b) % 360;
  if (d > 180) d -= 360;
  if (d <= -180) d += 360;
  return d;
}

/** Speed of sound in air, m/s, from the temperature in °C. */
export function speedOfSound(temperatureC = 20): number {
  return 331.3 + 0.606 * temperatureC;
}
