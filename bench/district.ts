/**
 * A district rather than a street: what grows with the number of sensors, cameras and alerts.
 * Drives the real classes (no Node-RED) and prints CPU per event, medians, and the ratio to
 * the smallest size, so that growth faster than the district shows:
 *
 * 1. localizer, one bang heard by every one of N sensors (grid 80 m apart), reports arriving
 *    in onset order: all N reports of a bang (the first 3 place it, the rest are late), and the
 *    worst single report. PTP clocks with one bad onset (an echo picked 50 ms late, which the
 *    fit must find and leave out), and NTP clocks (5 ms).
 * 2. localizer, one fix from all N reports at once (Sensors set to N, or the timeout).
 * 3. a bad night: 100 bangs in a minute across the district, each reported by the sensors
 *    within 250 m (500 to 1900 reports: far more than the 30 to 100 detections a minute of a
 *    riot or fireworks); CPU per report and per bang, and the incidents held at most.
 * 4. ptz-steer's camera choice per alert among C cameras.
 * 5. the console: ingest a copy of an alert and build the state browsers get (whole queue,
 *    JSON) with A alerts held.
 *
 *   npx tsx bench/district.ts [--repeats 9]
 */
import { FusionLocalizer } from '../lib/localize/localizer';
import { Observation, fuseObservations } from '../lib/localize/fusion';
import { bearingDeg } from '../lib/localize/geo';
import { chooseCamera, CameraCandidate } from '../lib/camera/choose';
import { DEFAULT_CALIBRATION, destination } from '../lib/camera/geometry';
import { AlertStore } from '../lib/alerts/store';
import { AlertConsole } from '../lib/alerts/console';
import { Alert } from '../lib/contracts';
import { gaussian, makeRng } from '../lib/sim/signals';
import { DISTRICT_ORIGIN as ORIGIN, districtBurst, districtDetection as detection, districtSensors as district, localizeBurst } from '../test/support/district';
import { numberArg } from './args';

const REPEATS = numberArg('repeats', 9);
const C = 343;
const SENSOR_COUNTS = [5, 10, 20, 40];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)];
}
const fmt = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));

const base: Record<string, number> = {};
function line(key: string, what: string, value: number, unit: string, extra = ''): void {
  base[key] ??= value;
  console.log(`  ${what}: ${fmt(value)} ${unit} (×${(value / base[key]).toFixed(1)})${extra}`);
}

// Warm-up (the first runs pay for compiling): a short burst, unmeasured.
localizeBurst(new FusionLocalizer({}), districtBurst(10, 10));

// 1. One bang heard by every sensor, report after report.
console.log(`1. localizer, one bang heard by all N sensors, reports one by one (CPU, median of ${REPEATS} bangs; × the ${SENSOR_COUNTS[0]}-sensor figure)`);
for (const clock of ['ptp', 'ntp'] as const) {
  for (const count of SENSOR_COUNTS) {
    const sensors = district(count);
    const localizer = new FusionLocalizer({});
    const perBang: number[] = [];
    const worst: number[] = [];
    let nowMs = 0;
    for (let k = 0; k < REPEATS; k++) {
      const rng = makeRng(1000 * count + k);
      const src: [number, number] = [20 + 200 * rng(), 20 + 200 * rng()];
      const bad = clock === 'ptp' ? Math.floor(rng() * count) : -1;
      const dets = sensors.map((p, i) => detection(`b${k}-${i}`, i, p, src, 1000 + 60 * k, clock, i === bad ? 0.05 : 0, rng)).sort((a, b) => a.onset - b.onset);
      let total = 0;
      let most = 0;
      for (const d of dets) {
        const t0 = performance.now();
        localizer.add(d, undefined, nowMs);
        const ms = performance.now() - t0;
        total += ms;
        most = Math.max(most, ms);
        nowMs += 2;
      }
      perBang.push(total);
      worst.push(most);
      nowMs += 60_000;
      localizer.poll(nowMs);
    }
    line(`1-${clock}`, `${clock.toUpperCase()}${clock === 'ptp' ? ', one bad onset' : ''}, ${String(count).padStart(2)} sensors`, median(perBang), 'ms per bang', `, worst report ${fmt(median(worst))} ms`);
  }
}

// 2. One fix from all N reports.
console.log(`2. localizer, one fix from all N reports at once (PTP; CPU, median of ${REPEATS})`);
for (const withBad of [false, true]) {
  for (const count of SENSOR_COUNTS) {
    const sensors = district(count);
    const ms: number[] = [];
    for (let k = 0; k < REPEATS; k++) {
      const rng = makeRng(2000 * count + k);
      const src: [number, number] = [20 + 200 * rng(), 20 + 200 * rng()];
      const bad = withBad ? Math.floor(rng() * count) : -1;
      const obs: Observation[] = sensors.map(([e, n], i) => ({
        detectionId: `${k}-${i}`, sensor: `s${i}`, label: 'gunshot',
        onsetSec: 1000 + Math.hypot(src[0] - e, src[1] - n, 2.5) / C + 1e-4 * gaussian(rng) + (i === bad ? 0.05 : 0),
        e, n, z: 4, lat: 0, lon: 0, clock: 'ptp', clockErrorMs: 0.1,
        bearingDeg: bearingDeg(e, n, src[0], src[1]) + 2 * gaussian(rng), bearingStdDeg: 2, confidence: 0.9, payload: null,
      }));
      const t0 = performance.now();
      fuseObservations(obs, { speedOfSoundMs: C });
      ms.push(performance.now() - t0);
    }
    line(`2-${withBad}`, `${withBad ? 'one bad onset' : 'all good'}, ${String(count).padStart(2)} sensors`, median(ms), 'ms per fix');
  }
}

// 3. A bad night: 100 bangs in a minute across the district.
console.log('3. localizer, 100 bangs in a minute across the district, each reported by every sensor within 250 m (PTP, one report in 20 an echo 50 ms late)');
for (const count of SENSOR_COUNTS) {
  const dets = districtBurst(count, 100);
  const t0 = performance.now();
  const { sent, heldMax } = localizeBurst(new FusionLocalizer({}), dets);
  const totalMs = performance.now() - t0;
  const alerts = new Set(sent.map((x) => x.id)).size;
  line('3', `${String(count).padStart(2)} sensors, ${String(dets.length).padStart(4)} reports`, totalMs / dets.length, 'ms per report', `, ${fmt(totalMs / 100)} ms per bang, ${Math.round(totalMs / 600)} % of a core for that minute; ${alerts} alerts (and ${sent.length - alerts} sent again placed better), at most ${heldMax} incidents held`);
}

// 4. Camera choice.
console.log(`4. ptz-steer, choosing a camera for an alert among C cameras (CPU, median of ${REPEATS} × 200 alerts)`);
for (const cameras of [4, 8, 12, 40]) {
  const candidates: CameraCandidate[] = Array.from({ length: cameras }, (_, i) => {
    const p = destination(ORIGIN, (i * 360) / cameras, 150);
    return { config: { id: `cam-${i}`, name: `cam ${i}`, host: 'h', port: 80, ...p, heightM: 6, mountHeadingDeg: 0, tiltOffsetDeg: 0, calibration: DEFAULT_CALIBRATION, maxRangeM: 300, blindSectors: [{ fromDeg: 10, toDeg: 40 }] }, state: 'connected' };
  });
  const ms: number[] = [];
  for (let r = 0; r < REPEATS; r++) {
    const t0 = performance.now();
    for (let k = 0; k < 200; k++) {
      const position = destination(ORIGIN, (k * 137) % 360, (k * 7) % 200);
      chooseCamera(candidates, { kind: 'position', position }, { alertId: `a${k}`, priority: 5, arrivedMs: k, onsetMs: k }, k);
    }
    ms.push((performance.now() - t0) / 200);
  }
  line('4', `${String(cameras).padStart(2)} cameras`, median(ms) * 1000, 'µs per alert');
}

// 5. The console's state.
console.log(`5. console: a copy of an alert in, the state out as browsers get it (whole queue, at most 200 shown; CPU, median of ${REPEATS})`);
for (const held of [50, 100, 200, 500]) {
  const store = new AlertStore({ maxAlerts: 500 });
  const consoleCore = new AlertConsole({ store, actor: 'auto:bench' });
  const alertOf = (k: number): Alert => {
    const p = destination(ORIGIN, (k * 137) % 360, 10 + (k % 200));
    const onset = 1_790_000_000 + k;
    return {
      kind: 'detection', id: `a${k}`, sensor: 's1', label: 'explosion', confidence: 0.95, onset, offset: onset + 0.3,
      level: { dbfs: -10, dba: -12, backgroundDba: -60 }, scores: { explosion: 0.95, gunshot: 0.03 }, span: { sensor: 's1', start: 0, frames: 4800 },
      sensorInfo: { lat: ORIGIN.lat, lon: ORIGIN.lon, heading: 0, clock: 'ntp' },
      location: { method: 'tdoa', bearing: 10, bearingStd: 1, position: { ...p, errorM: 3 }, sensors: ['s1', 's2', 's3'] },
      camera: { id: 'cam-0', name: 'cam 0', pan: 0.1, tilt: -0.2, zoom: 0.3, target: { bearing: 10, tilt: -4, distanceM: 40 }, state: 'on-target' },
    } as Alert;
  };
  for (let k = 0; k < held; k++) consoleCore.ingest(alertOf(k));
  const ms: number[] = [];
  let bytes = 0;
  for (let r = 0; r < REPEATS; r++) {
    const t0 = performance.now();
    consoleCore.ingest({ ...alertOf(held - 1 - r), video: { snapshot: `/v/${r}.jpg` } });
    bytes = JSON.stringify(consoleCore.state()).length;
    ms.push(performance.now() - t0);
  }
  line('5', `${String(held).padStart(3)} alerts held`, median(ms), 'ms per state', `, ${Math.round(bytes / 1024)} kB`);
}
