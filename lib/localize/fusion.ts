/**
 * Several sensors: association of the detections of one event, bearing triangulation
 * (weighted least squares with outlier rejection), TDOA multilateration of onsets from
 * time-synchronised sensors (Levenberg–Marquardt from a sane start, error from the geometry),
 * and the two combined in one solve when both exist. Positions are local ENU metres.
 */
import { priorityOf } from '../camera/choose';
import { diffDeg, normDeg } from './geo';

const RAD = Math.PI / 180;

export interface BearingObs {
  e: number;
  n: number;
  bearingDeg: number;
  bearingStdDeg: number;
}

export interface TimeObs {
  e: number;
  n: number;
  /** Microphone height above the street, m; with a ground plane (MultilaterationOptions.ground), its altitude. */
  z?: number;
  /** Onset as the sensor's clock says, s (any common epoch). */
  tSec: number;
  /** 1-sigma of the onset time (clock + onset picking), s. */
  sigmaSec: number;
}

export interface PositionFix {
  e: number;
  n: number;
  /** RMS radial error estimate (1 sigma), m. */
  errorM: number;
  /** Indices (into the input) used and rejected as outliers. */
  used: number[];
  rejected: number[];
  /** Emission time (TDOA only), s on the sensors' clock. */
  t0?: number;
  /**
   * TDOA only: another place that fits the onsets about as well, outside errorM of this one. The
   * data cannot tell which: sensors in a line (the source's mirror image across it), or exactly 3
   * onsets for 3 unknowns with the source outside the sensors' triangle (two exact solutions).
   */
  alternative?: { e: number; n: number; errorM: number };
  /** TDOA only: RMS distance of the sensors used from their common line, m (0: exactly in a line). */
  offLineM?: number;
}

/** Solve a symmetric 3×3 (or 2×2 when size 2) system; returns null when singular. */
function solve(A: number[][], b: number[]): number[] | null {
  const n = b.length;
  const M = A.map((row, i) => [...row.slice(0, n), b[i]]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r][c]) > Math.abs(M[p][c])) p = r;
    if (Math.abs(M[p][c]) < 1e-12) return null;
    [M[c], M[p]] = [M[p], M[c]];
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = M[r][c] / M[c][c];
      for (let k = c; k <= n; k++) M[r][k] -= f * M[c][k];
    }
  }
  return M.map((row, i) => row[n] / row[i]);
}

function invert(A: number[][]): number[][] | null {
  const n = A.length;
  const cols: number[][] = [];
  for (let i = 0; i < n; i++) {
    const e = Array.from({ length: n }, (_, k) => (k === i ? 1 : 0));
    const x = solve(A, e);
    if (!x) return null;
    cols.push(x);
  }
  return A.map((_, r) => cols.map((col) => col[r]));
}

/**
 * Do the bearings among these reports all pass within the same-place distance of a fix (in
 * front of their sensors)? False when none has a bearing.
 */
function bearingsPassBy(obs: Observation[], p: { e: number; n: number; errorM: number }): boolean {
  const withBearing = obs.filter((o) => o.bearingDeg !== undefined && Number.isFinite(o.bearingDeg));
  if (!withBearing.length) return false;
  return withBearing.every((o) => {
    const range = Math.hypot(p.e - o.e, p.n - o.n);
    const off = Math.abs(diffDeg(bearingTo(o, p.e, p.n), o.bearingDeg!));
    const tol = samePlaceToleranceM(p.errorM, range * Math.max(0.5, o.bearingStdDeg ?? 5) * RAD);
    return range <= tol || (off < 90 && range * Math.sin(off * RAD) <= tol);
  });
}

/** Predicted bearing (deg from north) from a sensor to a point. */
function bearingTo(o: { e: number; n: number }, e: number, n: number): number {
  return normDeg(Math.atan2(e - o.e, n - o.n) / RAD);
}

/**
 * Intersect bearing lines: minimise Σ (perpendicular miss distance / (σθ·range))².
 * Rejects, one at a time, a bearing more than 3σ (and 3°) off while ≥ 3 remain.
 * Returns null with fewer than 2 usable, non-parallel bearings.
 */
export function triangulate(obs: BearingObs[]): PositionFix | null {
  let used = obs.map((_, i) => i);
  const rejected: number[] = [];
  for (;;) {
    const fix = solveBearings(obs, used);
    if (!fix) return null;
    if (used.length < 3) return { ...fix, used, rejected };
    let worst = -1;
    let worstZ = 0;
    for (const i of used) {
      const res = Math.abs(diffDeg(bearingTo(obs[i], fix.e, fix.n), obs[i].bearingDeg));
      const z = res / Math.max(0.5, obs[i].bearingStdDeg);
      if (res > 3 && z > 3 && z > worstZ) {
        worst = i;
        worstZ = z;
      }
    }
    if (worst < 0) return { ...fix, used, rejected };
    used = used.filter((i) => i !== worst);
    rejected.push(worst);
  }
}

function solveBearings(obs: BearingObs[], idx: number[]): { e: number; n: number; errorM: number } | null {
  if (idx.length < 2) return null;
  let e = 0;
  let n = 0;
  let ranges = idx.map(() => 100);
  let cov: number[][] | null = null;
  for (let iter = 0; iter < 4; iter++) {
    let a11 = 0;
    let a12 = 0;
    let a22 = 0;
    let b1 = 0;
    let b2 = 0;
    idx.forEach((i, k) => {
      const o = obs[i];
      const th = o.bearingDeg * RAD;
      // Unit normal to the bearing line.
      const nx = Math.cos(th);
      const ny = -Math.sin(th);
      const sigmaM = Math.max(0.5, o.bearingStdDeg) * RAD * Math.max(1, ranges[k]);
      const w = 1 / (sigmaM * sigmaM);
      const c = nx * o.e + ny * o.n;
      a11 += w * nx * nx;
      a12 += w * nx * ny;
      a22 += w * ny * ny;
      b1 += w * nx * c;
      b2 += w * ny * c;
    });
    const A = [
      [a11, a12],
      [a12, a22],
    ];
    const det = a11 * a22 - a12 * a12;
    // Nearly parallel lines: no usable intersection.
    if (det <= 1e-9 * (a11 + a22) * (a11 + a22)) return null;
    const x = solve(A, [b1, b2]);
    if (!x) return null;
    [e, n] = x;
    cov = invert(A);
    ranges = idx.map((i) => Math.hypot(e - obs[i].e, n - obs[i].n));
  }
  // The intersection must lie in front of the sensors, not behind them.
  for (const i of idx) {
    const o = obs[i];
    const th = o.bearingDeg * RAD;
    if ((e - o.e) * Math.sin(th) + (n - o.n) * Math.cos(th) < 0) return null;
  }
  return { e, n, errorM: cov ? Math.sqrt(Math.max(0, cov[0][0] + cov[1][1])) : Infinity };
}

export interface MultilaterationOptions {
  speedOfSoundMs?: number;
  /** Assumed source height above the street, m (default 1.5). */
  sourceHeightM?: number;
  /**
   * The street's ground, when the sensors' altitudes are known (then TimeObs.z are altitudes):
   * the source is at sourceHeightM above it, wherever it is. Absent: one level street at 0.
   */
  ground?: GroundPlane;
  /** Start point; otherwise a grid over the sensors' surroundings. */
  start?: [number, number];
  /** Bearings to add to the same solve (combined fix). */
  bearings?: (BearingObs | null)[];
  /** A second solution farther than this from every sensor is no alternative (no sensor hears that far), m. */
  maxRangeM?: number;
  /** Onsets tried for removal when the fit is poor, those of largest residual first (default DROP_CANDIDATES). */
  dropCandidates?: number;
}

/**
 * A poor fit tries removing each onset in turn, a full solve each: with many sensors (a
 * district, 40 hearing one bang) that is quadratic, some 160 ms per fix at 40 onsets on a PC.
 * Past this many onsets only those with the largest residuals at the fit are tried: among so
 * many, one bad onset cannot drag the fit enough to hide its own residual.
 */
export const DROP_CANDIDATES = 8;

interface Residuals {
  r: number[];
  J: number[][];
}

/**
 * TDOA multilateration: unknowns east, north and emission time t0, residuals
 * (tᵢ − t0 − |x − pᵢ|/c)/σᵢ (plus bearing residuals when given), solved by
 * Levenberg–Marquardt. Needs ≥ 3 onsets. With redundancy (≥ 5 residuals, bearings included), a
 * fit worse than 3σ RMS drops the onset whose removal fits best (one at a time, ≥ 3 stay).
 */
export function multilaterate(obs: TimeObs[], opts: MultilaterationOptions = {}): PositionFix | null {
  if (obs.length < 3) return null;
  const c = opts.speedOfSoundMs ?? 343;
  const zs = sourceZOf(opts);
  let used = obs.map((_, i) => i);
  const rejected: number[] = [];
  const nBearings = (opts.bearings ?? []).filter((b) => !!b).length;
  for (;;) {
    const fix = solveTdoa(obs, used, c, zs, opts);
    if (!fix) return null;
    const dof = used.length + nBearings - 3;
    // With redundancy to spare (bearings count), a poor fit is explained by the one onset whose
    // removal fits best (leave-one-out: a single bad onset drags a least-squares fit, so its own
    // residual can look small). At least 3 onsets stay.
    const canDrop = used.length >= 4 && used.length + nBearings >= 5;
    if (!canDrop || fix.chi2 / dof <= 9) return asFix(fix, used, rejected, obs);
    let best: { i: number; chi2: number } | null = null;
    for (const i of dropCandidatesOf(obs, used, fix, c, zs, opts.dropCandidates ?? DROP_CANDIDATES)) {
      const sub = solveTdoa(obs, used.filter((k) => k !== i), c, zs, opts);
      if (sub && (!best || sub.chi2 < best.chi2)) best = { i, chi2: sub.chi2 };
    }
    if (!best || best.chi2 > fix.chi2 * 0.5) return asFix(fix, used, rejected, obs);
    used = used.filter((k) => k !== best!.i);
    rejected.push(best.i);
  }
}

/**
 * The onsets worth trying to remove from a poor fit: all of `used` up to `max`, else the `max`
 * of largest normalised residual at the fit (ties: the earlier index), in `used` order.
 */
function dropCandidatesOf(obs: TimeObs[], used: number[], fix: { e: number; n: number; t0: number }, c: number, zs: SourceZ, max: number): number[] {
  if (used.length <= max) return used;
  const residual = (i: number) => {
    const o = obs[i];
    return Math.abs((o.tSec - fix.t0 - Math.max(1e-6, Math.hypot(fix.e - o.e, fix.n - o.n, zs(fix.e, fix.n) - (o.z ?? 0))) / c) / o.sigmaSec);
  };
  const worst = new Set(
    used
      .map((i) => ({ i, r: residual(i) }))
      .sort((a, b) => b.r - a.r || a.i - b.i)
      .slice(0, max)
      .map((x) => x.i),
  );
  return used.filter((i) => worst.has(i));
}

/** One solution of the TDOA solve. */
interface TdoaSolution {
  e: number;
  n: number;
  t0: number;
  errorM: number;
  chi2: number;
  /** Another place that fits about as well and lies outside errorM of this one (see ambiguousWith). */
  alternative?: { e: number; n: number; errorM: number; chi2: number };
}

/**
 * A second solution fits "as well" when its χ² is within this of the best (scaled by the fit's
 * χ²/dof when > 1): the best is then less than 3σ more likely, and the data cannot tell them apart.
 */
const AMBIGUITY_DELTA_CHI2 = 9;

/**
 * The line through the sensors (principal axis of their positions): centre, unit direction, and
 * the RMS distance of the sensors from it (0 for sensors exactly in a line).
 */
function sensorLine(points: { e: number; n: number }[]): { e: number; n: number; ue: number; un: number; offLineM: number } {
  const k = points.length;
  const ce = points.reduce((s, p) => s + p.e, 0) / k;
  const cn = points.reduce((s, p) => s + p.n, 0) / k;
  let see = 0;
  let snn = 0;
  let sen = 0;
  for (const p of points) {
    see += (p.e - ce) ** 2;
    snn += (p.n - cn) ** 2;
    sen += (p.e - ce) * (p.n - cn);
  }
  const angle = 0.5 * Math.atan2(2 * sen, see - snn);
  const ue = Math.cos(angle);
  const un = Math.sin(angle);
  const offLineM = Math.sqrt(points.reduce((s, p) => s + ((p.e - ce) * un - (p.n - cn) * ue) ** 2, 0) / k);
  return { e: ce, n: cn, ue, un, offLineM };
}

/** Where the source is taken to be in height at (e, n), m. */
type SourceZ = (e: number, n: number) => number;

/** The source's height: sourceHeightM above one level street, or above the ground plane when given. */
function sourceZOf(opts: Pick<MultilaterationOptions, 'sourceHeightM' | 'ground'>): SourceZ {
  const zs = opts.sourceHeightM ?? 1.5;
  const g = opts.ground;
  return g ? (e, n) => groundAltAt(g, e, n) + zs : () => zs;
}

/**
 * The street's ground as a plane through the sensors' ground points: its altitude at (e0, n0)
 * and its slopes east and north (m per m).
 */
export interface GroundPlane {
  e0: number;
  n0: number;
  alt0: number;
  slopeE: number;
  slopeN: number;
}

export function groundAltAt(g: GroundPlane, e: number, n: number): number {
  return g.alt0 + g.slopeE * (e - g.e0) + g.slopeN * (n - g.n0);
}

/**
 * Sensors closer than this to their common line (RMS, m) give the ground no slope across it:
 * a plane through points nearly in a line would tilt across it on their altitudes' errors alone.
 */
export const GROUND_IN_LINE_M = 1;

/**
 * The least-squares plane through ground points (e, n, altitude), one per sensor. Points in a
 * line (within GROUND_IN_LINE_M) fix only the slope along it: the plane is level across it
 * (the least-squares plane of least slope). One point, or all at one place: level at their mean.
 */
export function groundPlaneOf(points: Array<{ e: number; n: number; alt: number }>): GroundPlane {
  const k = points.length;
  const e0 = points.reduce((s, p) => s + p.e, 0) / k;
  const n0 = points.reduce((s, p) => s + p.n, 0) / k;
  const alt0 = points.reduce((s, p) => s + p.alt, 0) / k;
  let see = 0;
  let snn = 0;
  let sen = 0;
  let sea = 0;
  let sna = 0;
  for (const p of points) {
    const [de, dn, da] = [p.e - e0, p.n - n0, p.alt - alt0];
    see += de * de;
    snn += dn * dn;
    sen += de * dn;
    sea += de * da;
    sna += dn * da;
  }
  const level = { e0, n0, alt0, slopeE: 0, slopeN: 0 };
  if (k < 2 || see + snn < SAME_POSITION_M ** 2) return level;
  const line = sensorLine(points);
  if (k >= 3 && line.offLineM >= GROUND_IN_LINE_M) {
    const slope = solve(
      [
        [see, sen],
        [sen, snn],
      ],
      [sea, sna],
    );
    if (slope) return { e0, n0, alt0, slopeE: slope[0], slopeN: slope[1] };
  }
  // Along their line only.
  let stt = 0;
  let sta = 0;
  for (const p of points) {
    const t = (p.e - e0) * line.ue + (p.n - n0) * line.un;
    stt += t * t;
    sta += t * (p.alt - alt0);
  }
  const along = stt > 0 ? sta / stt : 0;
  return { e0, n0, alt0, slopeE: along * line.ue, slopeN: along * line.un };
}

/** Start points closer than this to the sensors' line are moved off it, m: on the line of collinear sensors the solve has no gradient across it. */
const OFF_LINE_START_M = 2;

function asFix(s: TdoaSolution, used: number[], rejected: number[], obs: TimeObs[]): PositionFix {
  const alternative = s.alternative ? { e: s.alternative.e, n: s.alternative.n, errorM: s.alternative.errorM } : undefined;
  return { e: s.e, n: s.n, t0: s.t0, errorM: s.errorM, used, rejected, ...(alternative ? { alternative, offLineM: sensorLine(used.map((i) => obs[i])).offLineM } : {}) };
}

function solveTdoa(obs: TimeObs[], idx: number[], c: number, zs: SourceZ, opts: MultilaterationOptions): TdoaSolution | null {
  const bearings = (opts.bearings ?? []).filter((b): b is BearingObs => !!b);
  const ground = opts.ground;
  const residuals = (e: number, n: number, t0: number): Residuals => {
    const r: number[] = [];
    const J: number[][] = [];
    for (const i of idx) {
      const o = obs[i];
      const de = e - o.e;
      const dn = n - o.n;
      const dz = zs(e, n) - (o.z ?? 0);
      const d = Math.max(1e-6, Math.hypot(de, dn, dz));
      const s = o.sigmaSec;
      r.push((o.tSec - t0 - d / c) / s);
      // On a ground plane the source rises with it as it moves: its height enters the derivative.
      if (ground) J.push([-(de + dz * ground.slopeE) / d / c / s, -(dn + dz * ground.slopeN) / d / c / s, -1 / s]);
      else J.push([-de / d / c / s, -dn / d / c / s, -1 / s]);
    }
    for (const b of bearings) {
      const de = e - b.e;
      const dn = n - b.n;
      const rr = Math.max(1e-6, de * de + dn * dn);
      const sd = Math.max(0.5, b.bearingStdDeg) * RAD;
      r.push((diffDeg(b.bearingDeg, bearingTo(b, e, n)) * RAD) / sd);
      // d(bearing)/de = dn/r², d(bearing)/dn = −de/r²; residual = measured − predicted.
      J.push([-(dn / rr) / sd, de / rr / sd, 0]);
    }
    return { r, J };
  };
  // The sum of squared residuals, without the Jacobian (evaluated at hundreds of grid points).
  const cost = (e: number, n: number, t0: number) => {
    let sum = 0;
    for (const i of idx) {
      const o = obs[i];
      const r = (o.tSec - t0 - Math.max(1e-6, Math.hypot(e - o.e, n - o.n, zs(e, n) - (o.z ?? 0))) / c) / o.sigmaSec;
      sum += r * r;
    }
    for (const b of bearings) {
      const r = (diffDeg(b.bearingDeg, bearingTo(b, e, n)) * RAD) / (Math.max(0.5, b.bearingStdDeg) * RAD);
      sum += r * r;
    }
    return sum;
  };
  const bestT0 = (e: number, n: number) => {
    let num = 0;
    let den = 0;
    for (const i of idx) {
      const o = obs[i];
      const w = 1 / (o.sigmaSec * o.sigmaSec);
      num += w * (o.tSec - Math.hypot(e - o.e, n - o.n, zs(e, n) - (o.z ?? 0)) / c);
      den += w;
    }
    return num / den;
  };
  const costAt = (e: number, n: number) => cost(e, n, bestT0(e, n));
  const line = sensorLine(idx.map((i) => obs[i]));
  // Mirror image of a point across the sensors' line, and a point moved off that line (both ways when on it).
  const across = (e: number, n: number) => (e - line.e) * line.un - (n - line.n) * line.ue;
  const mirror = (e: number, n: number): [number, number] => {
    const v = across(e, n);
    return [e - 2 * v * line.un, n + 2 * v * line.ue];
  };
  const offLine = (e: number, n: number): [number, number][] => {
    const v = across(e, n);
    if (Math.abs(v) >= OFF_LINE_START_M) return [[e, n]];
    const push = (to: number): [number, number] => [e + (to - v) * line.un, n - (to - v) * line.ue];
    return [push(OFF_LINE_START_M), push(-OFF_LINE_START_M)];
  };
  const lm = (start: [number, number]): { e: number; n: number; t0: number; cost: number } => {
    let [e, n] = start;
    let t0 = bestT0(e, n);
    let cur = cost(e, n, t0);
    let lambda = 1e-3;
    for (let iter = 0; iter < 100; iter++) {
      const { r, J } = residuals(e, n, t0);
      const JtJ = [0, 1, 2].map((a) => [0, 1, 2].map((b) => J.reduce((s, row) => s + row[a] * row[b], 0)));
      const Jtr = [0, 1, 2].map((a) => J.reduce((s, row, k) => s + row[a] * r[k], 0));
      const A = JtJ.map((row, i) => row.map((v, j) => (i === j ? v * (1 + lambda) + 1e-12 : v)));
      const step = solve(A, Jtr.map((v) => -v));
      if (!step) break;
      const [ne, nn, nt] = [e + step[0], n + step[1], t0 + step[2]];
      const k = cost(ne, nn, nt);
      if (k < cur) {
        [e, n, t0] = [ne, nn, nt];
        const done = cur - k < 1e-10 * Math.max(1, cur) && Math.hypot(step[0], step[1]) < 1e-4;
        cur = k;
        lambda = Math.max(1e-9, lambda / 10);
        if (done) break;
      } else {
        lambda *= 10;
        if (lambda > 1e9) break;
      }
    }
    return { e, n, t0, cost: cur };
  };
  const dof = idx.length + bearings.length - 3;
  const finish = (s: { e: number; n: number; t0: number; cost: number }): TdoaSolution | null => {
    const { J } = residuals(s.e, s.n, s.t0);
    const JtJ = [0, 1, 2].map((a) => [0, 1, 2].map((b) => J.reduce((acc, row) => acc + row[a] * row[b], 0)));
    const cov = invert(JtJ);
    if (!cov || !Number.isFinite(s.e) || !Number.isFinite(s.n)) return null;
    // Inflate by the fit quality when there is redundancy (model or clock worse than stated).
    const inflate = dof > 0 ? Math.max(1, Math.sqrt(s.cost / dof)) : 1;
    const errorM = Math.max(0.1, Math.sqrt(Math.max(0, cov[0][0] + cov[1][1])) * inflate);
    return { e: s.e, n: s.n, t0: s.t0, errorM, chi2: s.cost };
  };
  // Starts: the given point, and the local minima of the cost on two grids around the sensors (the
  // sensors' surroundings, and 4 times wider: a second solution may lie far out). Each is solved,
  // and so is the mirror image of the best across the sensors' line: sensors in a line hear a
  // source and its mirror image alike, and only the data (a sensor off the line, a bearing) can
  // choose between them, never the start.
  const es = idx.map((i) => obs[i].e);
  const ns = idx.map((i) => obs[i].n);
  const [e0, e1, n0, n1] = [Math.min(...es), Math.max(...es), Math.min(...ns), Math.max(...ns)];
  const span = Math.max(20, e1 - e0, n1 - n0);
  const starts: [number, number][] = opts.start ? [opts.start] : [];
  for (const width of [span, 4 * span]) {
    const grid: { e: number; n: number; k: number }[][] = [];
    for (let a = -8; a <= 8; a++) {
      const row: { e: number; n: number; k: number }[] = [];
      for (let b = -8; b <= 8; b++) {
        const e = (e0 + e1) / 2 + (a / 8) * width;
        const n = (n0 + n1) / 2 + (b / 8) * width;
        row.push({ e, n, k: costAt(e, n) });
      }
      grid.push(row);
    }
    const minima: { e: number; n: number; k: number }[] = [];
    grid.forEach((row, a) =>
      row.forEach((p, b) => {
        for (let da = -1; da <= 1; da++) for (let db = -1; db <= 1; db++) if ((da || db) && (grid[a + da]?.[b + db]?.k ?? Infinity) < p.k) return;
        minima.push(p);
      }),
    );
    minima.sort((x, y) => x.k - y.k);
    for (const p of minima.slice(0, 3)) starts.push([p.e, p.n]);
  }
  const found: TdoaSolution[] = [];
  const tryFrom = (start: [number, number]) => {
    for (const s of offLine(...start)) {
      const sol = finish(lm(s));
      if (sol) found.push(sol);
    }
  };
  for (const s of starts) tryFrom(s);
  if (!found.length) return null;
  const byCost = () => [...found].sort((x, y) => x.chi2 - y.chi2)[0];
  tryFrom(mirror(byCost().e, byCost().n));
  const best = byCost();
  const scale = dof > 0 ? Math.max(1, best.chi2 / dof) : 1;
  const maxRange = opts.maxRangeM ?? Infinity;
  const others = found
    .filter((s) => Math.hypot(s.e - best.e, s.n - best.n) > Math.max(best.errorM, s.errorM, 0.5))
    .filter((s) => s.chi2 - best.chi2 <= AMBIGUITY_DELTA_CHI2 * scale)
    .filter((s) => idx.some((i) => Math.hypot(s.e - obs[i].e, s.n - obs[i].n) <= maxRange))
    .sort((x, y) => x.chi2 - y.chi2);
  return others.length ? { ...best, alternative: { e: others[0].e, n: others[0].n, errorM: others[0].errorM, chi2: others[0].chi2 } } : best;
}

// ---------------------------------------------------------------------------------------
// Association of detections into incidents.

export interface Observation {
  detectionId: string;
  sensor: string;
  label: string;
  /** Onset, seconds on the sensor's clock (epoch). */
  onsetSec: number;
  /** Sensor position (ENU in the associator's frame is computed by the caller). */
  e: number;
  n: number;
  /** Array height above the ground at its foot, m. */
  z: number;
  /**
   * Altitude of that ground, m (the site's common datum), when the sensor's is known: the
   * incident's ground plane goes through it (see groundPlaneOf).
   */
  groundAltM?: number;
  lat: number;
  lon: number;
  clock: string;
  /** Claimed clock error, ms (1 sigma). */
  clockErrorMs: number;
  bearingDeg?: number;
  bearingStdDeg?: number;
  elevationDeg?: number;
  confidence: number;
  /** 1-sigma of the onset picking, ms (default: FuseOptions.onsetStdMs). */
  onsetStdMs?: number;
  /** The detection payload as received (passed on in the output). */
  payload: unknown;
}

/**
 * The label of an incident whose sensors disagree: the one most sensors heard, then the one
 * with the highest confidence, then the first reported.
 */
export function incidentLabel(observations: Observation[]): string {
  const votes = new Map<string, { sensors: number; confidence: number }>();
  for (const o of observations) {
    const v = votes.get(o.label) ?? { sensors: 0, confidence: 0 };
    v.sensors++;
    v.confidence = Math.max(v.confidence, o.confidence);
    votes.set(o.label, v);
  }
  let best = observations[0].label;
  for (const [label, v] of votes) {
    const b = votes.get(best)!;
    if (v.sensors > b.sensors || (v.sensors === b.sensors && v.confidence > b.confidence)) best = label;
  }
  return best;
}

export interface Incident {
  id: string;
  /** The label most of its sensors heard (incidentLabel). */
  label: string;
  observations: Observation[];
  /**
   * When its first and latest reports arrived, on the caller's `nowMs` clock: it times only
   * waits (the timeout, keepMs), so callers pass a monotonic clock (lib/util/clock), never the
   * wall clock, which steps. Onsets stay sensor times (Observation.onsetSec).
   */
  firstSeenMs: number;
  lastSeenMs: number;
  emitted: boolean;
  /** Sent before its sensors or timeout: the cap of incidents was reached while all of them waited. */
  dueEarly?: boolean;
  /** Reports of the same sound after it was sent (see continuationOf): absorbed, never used to place it; the latest MAX_CONTINUED. */
  continued: Observation[];
}

/** Different sensors that reported an incident. */
export function sensorCount(inc: Incident): number {
  return new Set(inc.observations.map((o) => o.sensor)).size;
}

export interface AssociatorOptions {
  speedOfSoundMs?: number;
  /** Tolerance on onsets on top of geometry and clocks, s (onset picking, default 0.02). */
  onsetToleranceSec?: number;
  /** Emit once this many distinct sensors reported (default 3). */
  minSensors?: number;
  /** Emit what there is after this long since the first report, ms (default 1500). */
  timeoutMs?: number;
  /** Keep an emitted incident this long after its last report to absorb late duplicates, ms (default 30000). */
  keepMs?: number;
  /**
   * Cap of incidents kept (default MAX_INCIDENTS). Past it the oldest sent incidents are forgotten first
   * (they only absorb late reports); when every incident still waits, the oldest are sent at
   * once with the reports they have. An incident is never dropped before it is sent.
   */
  maxIncidents?: number;
  /**
   * A sound going on is no new alert, s (default 4; 0 = off): an incident that begins at most
   * this long after a report of an earlier one continues it when it is placed at the same
   * place, or when it is a lone report from a sensor that reported it (in the same direction,
   * when both have a bearing). See continuationOf.
   */
  continuationSec?: number;
  /** How incidents are placed for that comparison (the localizer's own settings). */
  fuse?: FuseOptions;
}

/**
 * Reports kept of a sound that goes on (Incident.continued), newest: enough to recognise a
 * duplicate and the next continuation (which compares with the latest reports only), while a
 * sound that never stops (an alarm classified every few seconds for hours) keeps its incident
 * alive without growing it.
 */
export const MAX_CONTINUED = 64;

/** Incidents an associator keeps at most by default (AssociatorOptions.maxIncidents); a bad night over a district holds some 60. */
export const MAX_INCIDENTS = 500;

/** Two fixes closer than this are one place, m: a camera framing about 10 m shows both. */
export const SAME_PLACE_M = 5;
/** ... and farther apart than this never, however uncertain they are, m. */
export const SAME_PLACE_MAX_M = 15;

/** Distance under which two places with these 1-sigma errors (m) are the same place. */
function samePlaceToleranceM(errA: number, errB: number): number {
  const t = 3 * Math.hypot(errA, errB);
  return Number.isFinite(t) ? Math.min(SAME_PLACE_MAX_M, Math.max(SAME_PLACE_M, t)) : SAME_PLACE_MAX_M;
}

export type AddResult = { kind: 'new' | 'joined'; incident: Incident } | { kind: 'duplicate' | 'late'; incident: Incident };

export class IncidentAssociator {
  private incidents: Incident[] = [];
  private seq = 0;
  private readonly c: number;
  private readonly tol: number;
  readonly minSensors: number;
  readonly timeoutMs: number;
  private readonly keepMs: number;
  private readonly maxIncidents: number;
  private readonly continuationSec: number;
  private readonly fuse: FuseOptions;
  /**
   * Where an incident's reports place it (positionOf), while no report joins it: on a bad night
   * every incident that becomes ready is compared with each of the last seconds', and placing
   * one again each time cost most of a district's CPU. An incident's reports only grow (a
   * handed-over incident, whose places may move to another frame, goes to a new associator).
   */
  private readonly placed = new WeakMap<Observation[], { reports: number; at: { e: number; n: number; errorM: number } | null }>();
  /** Incidents absorbed as the continuation of an earlier one (diagnostics). */
  continuations = 0;
  /** Incidents made due before their sensors or timeout because the cap was reached (diagnostics). */
  incidentsDueEarly = 0;
  /** Sent incidents forgotten before keepMs because the cap was reached: a late report of one is a new incident (diagnostics). */
  sentForgottenEarly = 0;

  constructor(opts: AssociatorOptions = {}) {
    this.c = opts.speedOfSoundMs ?? 343;
    this.tol = opts.onsetToleranceSec ?? 0.02;
    this.minSensors = opts.minSensors ?? 3;
    this.timeoutMs = opts.timeoutMs ?? 1500;
    this.keepMs = opts.keepMs ?? 30000;
    this.maxIncidents = opts.maxIncidents ?? MAX_INCIDENTS;
    this.continuationSec = opts.continuationSec ?? 4;
    this.fuse = { ...opts.fuse, speedOfSoundMs: this.c };
  }

  /**
   * Could a and b be the same event? Two sensors whose onsets are no further apart than sound
   * can travel plus clock errors. The labels may differ: one bang is often called a gunshot by
   * one sensor and an explosion by another, and one sound must make one alert.
   */
  compatible(a: Observation, b: Observation): boolean {
    if (a.sensor === b.sensor) return false;
    const dz = a.groundAltM !== undefined && b.groundAltM !== undefined ? a.groundAltM + a.z - (b.groundAltM + b.z) : a.z - b.z;
    const maxDt = Math.hypot(a.e - b.e, a.n - b.n, dz) / this.c + (3 * (a.clockErrorMs + b.clockErrorMs)) / 1000 + this.tol;
    return Math.abs(a.onsetSec - b.onsetSec) <= maxDt;
  }

  add(o: Observation, nowMs: number): AddResult {
    this.expire(nowMs);
    // The same detection again (e.g. local and over MQTT), or the same sensor hearing the same event twice.
    for (const inc of this.incidents) {
      if (inc.observations.some((x) => x.detectionId === o.detectionId) || inc.continued.some((x) => x.detectionId === o.detectionId)) return { kind: 'duplicate', incident: inc };
    }
    let best: Incident | null = null;
    let bestDt = Infinity;
    for (const inc of this.incidents) {
      const same = inc.observations.find((x) => x.sensor === o.sensor);
      if (same) {
        // Both onsets come from the one clock of that sensor: its error against true time (up
        // to a minute on a gateway whose clock is not set yet) does not part them, so it must
        // not join them either; a gunshot 12 s after a glass break is another event.
        if (Math.abs(same.onsetSec - o.onsetSec) <= this.tol) return { kind: 'duplicate', incident: inc };
        continue;
      }
      if (!inc.observations.every((x) => this.compatible(x, o))) continue;
      // Closest in time wins; at equal time, an incident of the same label.
      const dt = Math.min(...inc.observations.map((x) => Math.abs(x.onsetSec - o.onsetSec))) + (inc.label === o.label ? 0 : 1e-6);
      if (dt < bestDt) {
        best = inc;
        bestDt = dt;
      }
    }
    if (best) {
      best.observations.push(o);
      best.label = incidentLabel(best.observations);
      best.lastSeenMs = nowMs;
      return { kind: best.emitted ? 'late' : 'joined', incident: best };
    }
    const inc: Incident = { id: `inc-${++this.seq}`, label: o.label, observations: [o], firstSeenMs: nowMs, lastSeenMs: nowMs, emitted: false, continued: [] };
    this.incidents.push(inc);
    if (this.incidents.length > this.maxIncidents) this.makeRoom();
    return { kind: 'new', incident: inc };
  }

  /**
   * Over the cap: forget the oldest sent incidents (a late report of one becomes a new
   * incident); if all still wait (more sounds within a timeout than the cap), the oldest are
   * due now and go out at the next takeReady with what they have. A raised alert is never
   * lost: the list holds at most the cap, plus incidents due and not taken yet.
   */
  private makeRoom(): void {
    let over = this.incidents.length - this.maxIncidents;
    const before = this.incidents.length;
    this.incidents = this.incidents.filter((i) => !(i.emitted && over-- > 0));
    this.sentForgottenEarly += before - this.incidents.length;
    for (const i of this.incidents) {
      if (over <= 0) break;
      if (i.emitted) continue;
      if (!i.dueEarly) {
        i.dueEarly = true;
        this.incidentsDueEarly++;
      }
      over--;
    }
  }

  /** Is this incident ready to emit (enough sensors or timed out)? */
  ready(inc: Incident, nowMs: number): boolean {
    if (inc.emitted) return false;
    return inc.dueEarly === true || sensorCount(inc) >= this.minSensors || nowMs - inc.firstSeenMs >= this.timeoutMs;
  }

  /**
   * Incidents that became ready; marks them emitted. One that continues an earlier incident
   * (see continuationOf) is absorbed by it instead: no second alert.
   */
  takeReady(nowMs: number): Incident[] {
    const out: Incident[] = [];
    for (const inc of this.incidents.filter((i) => this.ready(i, nowMs))) {
      const earlier = this.continuationOf(inc);
      if (earlier) {
        earlier.continued.push(...inc.observations, ...inc.continued);
        if (earlier.continued.length > MAX_CONTINUED) {
          earlier.continued.sort((x, y) => x.onsetSec - y.onsetSec);
          earlier.continued.splice(0, earlier.continued.length - MAX_CONTINUED);
        }
        earlier.lastSeenMs = nowMs;
        this.incidents = this.incidents.filter((i) => i !== inc);
        this.continuations++;
        continue;
      }
      inc.emitted = true;
      out.push(inc);
    }
    return out;
  }

  /**
   * The incident that `inc` continues, if any: `inc` begins 0 to continuationSec after a report
   * of that incident (its own or an earlier continuation), which was emitted or is still
   * waiting for sensors (a continuation heard by more sensors may be ready first), and
   * - it is placed at the same place (samePlace), whatever its sensors and labels: a sound that
   *   goes on or starts again where the first was (a second bang, glass still falling, a scream
   *   drawing breath) is classified again, often under another label, by sensors the cool-down
   *   no longer holds back;
   * - or it is a lone report from a sensor that reported that incident, in a compatible
   *   direction when both reports have a bearing (a long sound classified again by its sensor).
   * Elsewhere, or heard by other sensors without a place to compare, it is a new event. So is
   * one whose label ranks above that incident's (a gunshot after glass breaking at the same
   * place): absorbed, its alert would be lost, or rank below what it is.
   */
  private continuationOf(inc: Incident): Incident | undefined {
    if (this.continuationSec <= 0) return undefined;
    const first = Math.min(...inc.observations.map((o) => o.onsetSec));
    const lone = inc.observations.length === 1 ? inc.observations[0] : undefined;
    let best: Incident | undefined;
    let bestDt = Infinity;
    const rank = priorityOf(inc.label);
    for (const other of this.incidents) {
      if (other === inc || rank > priorityOf(other.label)) continue;
      const heard = [...other.observations, ...other.continued];
      if (lone) {
        for (const x of heard) {
          if (x.sensor !== lone.sensor) continue;
          const dt = lone.onsetSec - x.onsetSec;
          if (!(dt > 0 && dt <= this.continuationSec) || dt >= bestDt) continue;
          if (x.bearingDeg !== undefined && lone.bearingDeg !== undefined) {
            const diff = Math.abs(diffDeg(lone.bearingDeg, x.bearingDeg));
            const allowed = Math.max(10, 3 * Math.hypot(x.bearingStdDeg ?? 5, lone.bearingStdDeg ?? 5));
            if (diff > allowed) continue;
          }
          best = other;
          bestDt = dt;
        }
      }
      const before = heard.filter((x) => x.onsetSec < first);
      if (!before.length) continue;
      const dt = first - Math.max(...before.map((x) => x.onsetSec));
      if (dt > this.continuationSec || dt >= bestDt) continue;
      if (!this.samePlace(inc.observations, other.observations)) continue;
      best = other;
      bestDt = dt;
    }
    return best;
  }

  /**
   * Did two sets of reports come from one place? Both placed: their fixes lie within
   * SAME_PLACE_M of each other (3 sigma of their errors when that is more, never beyond
   * SAME_PLACE_MAX_M). One placed: every bearing of the other passes that close to its fix.
   * Neither placed: unknown, so no.
   */
  private samePlace(a: Observation[], b: Observation[]): boolean {
    const pa = this.positionOf(a);
    const pb = this.positionOf(b);
    if (pa && pb) return Math.hypot(pa.e - pb.e, pa.n - pb.n) <= samePlaceToleranceM(pa.errorM, pb.errorM);
    if (pa) return bearingsPassBy(b, pa);
    if (pb) return bearingsPassBy(a, pb);
    return false;
  }

  private positionOf(obs: Observation[]): { e: number; n: number; errorM: number } | null {
    if (obs.length < 2) return null;
    const known = this.placed.get(obs);
    if (known && known.reports === obs.length) return known.at;
    const fix = fuseObservations(obs, this.fuse);
    const at = fix.e !== undefined && fix.n !== undefined ? { e: fix.e, n: fix.n, errorM: fix.errorM ?? Infinity } : null;
    this.placed.set(obs, { reports: obs.length, at });
    return at;
  }

  /** Milliseconds until the next pending incident times out (for a timer), or null. */
  nextDeadlineMs(nowMs: number): number | null {
    const pending = this.incidents.filter((i) => !i.emitted);
    if (!pending.length) return null;
    return Math.max(0, Math.min(...pending.map((i) => (i.dueEarly ? 0 : i.firstSeenMs + this.timeoutMs - nowMs))));
  }

  private expire(nowMs: number): void {
    this.incidents = this.incidents.filter((i) => !i.emitted || nowMs - i.lastSeenMs < this.keepMs);
  }

  get size(): number {
    return this.incidents.length;
  }

  clear(): void {
    this.incidents = [];
  }

  /**
   * Its incidents, waiting or sent, for the associator of the node a deploy starts (see adopt);
   * this one is left empty. Their times are on the caller's monotonic clock, which a redeploy
   * in the same process keeps: their deadlines stay.
   */
  handOver(): AssociatorHandOver {
    const h = { incidents: this.incidents, seq: this.seq };
    this.incidents = [];
    return h;
  }

  /** Takes the incidents of an associator handed over (see handOver), each with its deadline. */
  adopt(h: AssociatorHandOver): void {
    this.incidents.push(...h.incidents);
    this.seq = Math.max(this.seq, h.seq);
    if (this.incidents.length > this.maxIncidents) this.makeRoom();
  }

  /** Every incident still waiting for sensors is due now, with the reports it has (its node is removed). */
  dueNow(): void {
    for (const i of this.incidents) if (!i.emitted) i.dueEarly = true;
  }
}

/** What an IncidentAssociator held (see IncidentAssociator.handOver). */
export interface AssociatorHandOver {
  incidents: Incident[];
  seq: number;
}

export interface FusedFix {
  method: 'tdoa' | 'bearings' | 'doa' | 'none';
  e?: number;
  n?: number;
  /**
   * With sensors' ground altitudes only: the source's altitude at (e, n), m, in their datum (the
   * ground plane there plus the source height).
   */
  alt?: number;
  errorM?: number;
  /** Observations used (indices). */
  used: number[];
  rejected: number[];
  reason?: string;
  /** The sensors whose onsets were solved, when they lie in a line and a source's mirror image across it fits alike (the reason says so). */
  inLine?: string[];
  /** Ground altitudes left aside, the plane through them being steeper than MAX_GROUND_SLOPE: the sensors that gave one, and why in words. */
  steepGround?: { sensors: string[]; words: string };
}

export interface FuseOptions {
  speedOfSoundMs?: number;
  /** A fix farther than this from every sensor is not believed (no sensor hears that far), m (default 1000). */
  maxRangeM?: number;
  sourceHeightM?: number;
  /** Onset picking uncertainty added to the clocks, ms (default 1). */
  onsetStdMs?: number;
  /** Sensors with a worse clock are not used for TDOA, ms (default 10). */
  maxClockErrorMs?: number;
  /** See MultilaterationOptions.dropCandidates. */
  dropCandidates?: number;
}

/**
 * Two places that fit the onsets alike are reported as one, between them, when at most this far
 * apart, m: a camera framing about 10 m shows both. Farther apart, no position is claimed.
 */
export const AMBIGUITY_SPAN_MAX_M = 2 * SAME_PLACE_M;

/** Sensors are in a line for two places that fit alike when they lie within this share of the places' distance of one line. */
const IN_LINE_SHARE = 0.1;

/** Words for two places that fit alike: why, and (when no position is given) what would tell them apart. */
function ambiguityReason(apartM: number, fix: PositionFix, onsets: number, between: boolean): string {
  const apart = `${Math.round(apartM)} m apart`;
  // Sensors in a line (to within a tenth of the distance between the two places): the mirror image.
  if ((fix.offLineM ?? Infinity) <= IN_LINE_SHARE * apartM) {
    return between
      ? `mirror ambiguity: the sensors are in a line; placed between the source and its mirror image across it (${apart}), which fit alike`
      : `mirror ambiguity: the sensors are in a line; the source and its mirror image across it (${apart}) fit alike (a sensor off that line or a trusted bearing would tell)`;
  }
  const count = onsets === 3 ? '3 onsets for 3 unknowns, source outside the sensors\' triangle' : `${onsets} onsets`;
  return between ? `placed between 2 places ${apart} that fit the onsets alike (${count})` : `2 places ${apart} fit the onsets alike (${count}; one sensor more or a trusted bearing would tell)`;
}

/**
 * Onset picking uncertainty from the attack time and how clearly the event stands out of the
 * background: sharp, clear attacks pin the onset; slow or barely audible ones do not.
 */
export function onsetStdFromRise(riseMs: number, contrastDb = 40): number {
  const base = Math.max(0.2, riseMs / 3);
  const murk = contrastDb < 15 ? Math.pow(10, (15 - contrastDb) / 10) : 1;
  return Math.min(200, base * murk);
}

/**
 * Sensors closer than this are at one place, m: their onsets measure one range, and TDOA needs
 * three places (two sensors at one place are most often one position typed twice).
 */
export const SAME_POSITION_M = 0.5;

/** The sensors among `points` at the same place as an earlier one (closer than SAME_POSITION_M), each with that one. */
export function samePositionPairs<T extends { sensor: string; e: number; n: number }>(points: T[]): Array<{ a: T; b: T; apartM: number }> {
  const pairs: Array<{ a: T; b: T; apartM: number }> = [];
  points.forEach((b, j) => {
    const a = points.slice(0, j).find((x) => x.sensor !== b.sensor && Math.hypot(x.e - b.e, x.n - b.n) < SAME_POSITION_M);
    if (a) pairs.push({ a, b, apartM: Math.hypot(a.e - b.e, a.n - b.n) });
  });
  return pairs;
}

/** Words for sensors at the same place (samePositionPairs). */
export function samePositionWords(pairs: Array<{ a: { sensor: string }; b: { sensor: string }; apartM: number }>): string {
  const each = pairs.map(({ a, b, apartM }) => `"${a.sensor}" and "${b.sensor}" (${apartM.toFixed(1)} m apart)`).join(', ');
  return `sensors at the same position: ${each}; check their latitude and longitude`;
}

/**
 * Locate an incident from its observations: TDOA (+ bearings) when ≥ 3 synchronised onsets, else
 * bearings. A sensor farther than twice the hearing range (maxRangeM) from every other that
 * reported the sound cannot have heard it with them from where it is said to be (a digit wrong
 * in its position): it is left out when at least 2 others remain, and named.
 */
export function fuseObservations(obs: Observation[], opts: FuseOptions = {}): FusedFix {
  const maxRange = opts.maxRangeM ?? 1000;
  const nearestOtherM = (o: Observation) => Math.min(...obs.filter((x) => x.sensor !== o.sensor).map((x) => Math.hypot(x.e - o.e, x.n - o.n)));
  const far = obs.map((o, i) => ({ i, o, nearestM: nearestOtherM(o) })).filter((x) => x.nearestM > 2 * maxRange && Number.isFinite(x.nearestM));
  if (!far.length) return fuseLayout(obs, opts);
  const farWords = far.map((x) => `sensor "${x.o.sensor}" is ${(x.nearestM / 1000).toFixed(1)} km from the nearest other that heard it (check its position)`).join('; ');
  const keep = obs.map((_, i) => i).filter((i) => !far.some((x) => x.i === i));
  if (new Set(keep.map((i) => obs[i].sensor)).size < 2) {
    const fix = fuseLayout(obs, opts);
    return fix.method === 'none' ? { ...fix, reason: `${farWords}; ${fix.reason}` } : fix;
  }
  const fix = fuseLayout(keep.map((i) => obs[i]), opts);
  return {
    ...fix,
    used: fix.used.map((k) => keep[k]),
    rejected: [...fix.rejected.map((k) => keep[k]), ...far.map((x) => x.i)],
    reason: fix.reason ? `${fix.reason}; ${farWords}` : farWords,
  };
}

/**
 * The steepest ground the sensors' altitudes may give, rise per run (0.5: 50 %): the steepest
 * streets climb about 35 %. A steeper plane comes from an altitude typed wrong.
 */
export const MAX_GROUND_SLOPE = 0.5;

/**
 * With ground altitudes (of some sensors at least), the street's ground is the plane through
 * their ground points; sensors without one stand on it. The arrays' z become altitudes, the
 * source is at the source height above the plane, and the fix gets its altitude. Without any,
 * one level street, as always.
 */
function fuseLayout(obs: Observation[], opts: FuseOptions): FusedFix {
  // One ground point per sensor (a sensor may report twice).
  const withGround = obs.filter((o) => o.groundAltM !== undefined && Number.isFinite(o.groundAltM));
  const known = withGround.filter((o, i) => withGround.findIndex((x) => x.sensor === o.sensor) === i);
  if (!known.length) return fuseLevel(obs, opts);
  const ground = groundPlaneOf(known.map((o) => ({ e: o.e, n: o.n, alt: o.groundAltM! })));
  const slope = Math.hypot(ground.slopeE, ground.slopeN);
  if (!(slope <= MAX_GROUND_SLOPE)) {
    // Steeper than any street: an altitude typed wrong (1000 for 100). Believed, it would move
    // the source by tens of metres and give it an altitude hundreds of metres up, where the
    // cameras would look; the sounds are placed as on one level street instead, and said so.
    const sensors = known.map((o) => o.sensor).sort();
    const listed = known.slice(0, 8).map((o) => `"${o.sensor}" ${o.groundAltM} m`);
    if (known.length > 8) listed.push(`${known.length - 8} more`);
    const words = `the sensors' ground altitudes (${listed.join(', ')}) give the street a slope of ${Math.round(slope * 100)} %, steeper than any street (check their Ground altitude): placed as on a level street, without an altitude`;
    const fix = fuseLevel(obs, opts);
    return { ...fix, reason: fix.reason ? `${fix.reason}; ${words}` : words, steepGround: { sensors, words } };
  }
  const withAlt = obs.map((o) => ({ ...o, z: (o.groundAltM !== undefined && Number.isFinite(o.groundAltM) ? o.groundAltM : groundAltAt(ground, o.e, o.n)) + o.z }));
  const fix = fuseLevel(withAlt, opts, ground);
  return fix.e !== undefined && fix.n !== undefined ? { ...fix, alt: sourceZOf({ sourceHeightM: opts.sourceHeightM, ground })(fix.e, fix.n) } : fix;
}

function fuseLevel(obs: Observation[], opts: FuseOptions, ground?: GroundPlane): FusedFix {
  const onsetStd = (opts.onsetStdMs ?? 1) / 1000;
  const maxClock = opts.maxClockErrorMs ?? 10;
  const synced = obs.map((o, i) => ({ o, i })).filter(({ o }) => o.clock !== 'local' && o.clockErrorMs <= maxClock);
  const withBearing = obs.map((o, i) => ({ o, i })).filter(({ o }) => o.bearingDeg !== undefined && Number.isFinite(o.bearingDeg));
  const bearingObs = (xs: { o: Observation }[]): BearingObs[] => xs.map(({ o }) => ({ e: o.e, n: o.n, bearingDeg: o.bearingDeg!, bearingStdDeg: o.bearingStdDeg ?? 5 }));
  const maxRange = opts.maxRangeM ?? 1000;
  const plausible = (f: { e: number; n: number } | null) => !!f && obs.some((o) => Math.hypot(f.e - o.e, f.n - o.n) <= maxRange);
  const triRaw = withBearing.length >= 2 ? triangulate(bearingObs(withBearing)) : null;
  const tri = plausible(triRaw) ? triRaw : null;
  /** Why TDOA gave no position although it fitted: two places fit alike, or the sensors' layout. */
  let ambiguity: string | undefined;
  /** ... and when those are a source and its mirror image across a line of sensors: those sensors. */
  let inLine: string[] | undefined;
  // Onsets from one place measure one range: fewer than 3 places leave a curve of solutions,
  // and the solve stopped anywhere on it (55–145 m off, claiming thousands of km).
  const twins = synced.length >= 3 ? samePositionPairs(synced.map(({ o }) => o)) : [];
  if (twins.length && synced.length - twins.length < 3 && !withBearing.length) {
    ambiguity = `${samePositionWords(twins)} (their onsets give ${synced.length - twins.length} places; TDOA needs 3)`;
  } else if (synced.length >= 3) {
    // Bearing outliers found by triangulation stay out of the combined solve.
    const triRejected = new Set((tri?.rejected ?? []).map((k) => withBearing[k].i));
    const bearings = withBearing.filter(({ i }) => !triRejected.has(i));
    const fix = multilaterate(
      synced.map(({ o }) => ({ e: o.e, n: o.n, z: o.z, tSec: o.onsetSec, sigmaSec: Math.hypot(o.clockErrorMs / 1000, o.onsetStdMs !== undefined ? o.onsetStdMs / 1000 : onsetStd) })),
      { speedOfSoundMs: opts.speedOfSoundMs, sourceHeightM: opts.sourceHeightM, ...(ground ? { ground } : {}), start: tri ? [tri.e, tri.n] : undefined, bearings: bearingObs(bearings), maxRangeM: maxRange, dropCandidates: opts.dropCandidates },
    );
    // Onsets picked badly (a slow attack barely above the background) drag the combined fix away
    // from where ≥ 3 good bearings cross: then the bearings are believed.
    const disagrees = (f: PositionFix): boolean => {
      if (!tri || tri.used.length < 3) return false;
      const z = tri.used
        .map((k) => {
          const b = bearingObs(withBearing)[k];
          return Math.abs(diffDeg(bearingTo(b, f.e, f.n), b.bearingDeg)) / Math.max(0.5, b.bearingStdDeg);
        })
        .sort((a, b) => a - b);
      return z[Math.floor(z.length / 2)] > 3;
    };
    // An error beyond any sensor's hearing is no position: a layout that cannot place the source.
    if (fix && plausible(fix) && !disagrees(fix) && !fix.alternative && !(fix.errorM <= maxRange)) {
      ambiguity = `the sensors' layout cannot place it (multilateration error ±${Math.round(fix.errorM)} m)`;
    } else if (fix && plausible(fix) && !disagrees(fix)) {
      const used = new Set([...fix.used.map((k) => synced[k].i), ...bearings.map(({ i }) => i)]);
      // A report left out both as an onset and as a bearing is named once.
      const rejected = [...new Set([...fix.rejected.map((k) => synced[k].i), ...triRejected])];
      const usedList = [...used].filter((i) => !rejected.includes(i)).sort((a, b) => a - b);
      if (!fix.alternative) return { method: 'tdoa', e: fix.e, n: fix.n, errorM: fix.errorM, used: usedList, rejected };
      // Two places fit: close together, the place between them with an error that covers both;
      // farther apart, no position (a camera aimed between them would show neither).
      const alt = fix.alternative;
      const apartM = Math.hypot(fix.e - alt.e, fix.n - alt.n);
      const onsets = synced.length - fix.rejected.length;
      inLine = (fix.offLineM ?? Infinity) <= IN_LINE_SHARE * apartM ? fix.used.map((k) => synced[k].o.sensor) : undefined;
      if (apartM <= AMBIGUITY_SPAN_MAX_M) {
        const errorM = Math.hypot(apartM / 2, Math.sqrt((fix.errorM ** 2 + alt.errorM ** 2) / 2));
        return { method: 'tdoa', e: (fix.e + alt.e) / 2, n: (fix.n + alt.n) / 2, errorM, used: usedList, rejected, reason: ambiguityReason(apartM, fix, onsets, true), ...(inLine ? { inLine } : {}) };
      }
      ambiguity = ambiguityReason(apartM, fix, onsets, false);
    }
  }
  if (tri) {
    return { method: 'bearings', e: tri.e, n: tri.n, errorM: tri.errorM, used: tri.used.map((k) => withBearing[k].i), rejected: tri.rejected.map((k) => withBearing[k].i) };
  }
  if (withBearing.length >= 1) {
    return {
      ...(ambiguity && inLine ? { inLine } : {}),
      method: 'doa',
      used: [withBearing[0].i],
      rejected: [],
      reason: ambiguity
        ? `${ambiguity}; ${withBearing.length >= 2 ? 'bearings do not intersect in front of the sensors' : 'one bearing only'}`
        : withBearing.length >= 2
          ? 'bearings do not intersect in front of the sensors'
          : synced.length < 3 && obs.length >= 3
            ? 'clocks not synchronised for TDOA; one bearing only'
            : 'one sensor with a bearing',
    };
  }
  if (ambiguity && inLine) return { method: 'none', used: [], rejected: [], reason: ambiguity, inLine };
  const reason = ambiguity
    ? ambiguity
    : obs.length < 3
      ? `${obs.length} sensor${obs.length === 1 ? '' : 's'} without a bearing (need a mic array, or ≥ 3 synchronised sensors)`
      : synced.length < 3
        ? `only ${synced.length} of ${obs.length} sensors have a synchronised clock (≤ ${maxClock} ms) for TDOA`
        : 'multilateration did not converge';
  return { method: 'none', used: [], rejected: [], reason };
}
