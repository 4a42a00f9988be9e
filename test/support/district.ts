/**
 * A district of sensors and a bad night over it, for the tests and bench/district.ts: sensors
 * on a grid 80 m apart, bangs whose detections come as gateways send them over MQTT (sensorInfo,
 * the gateway's bearing), and what a FusionLocalizer makes of them in the order they arrive.
 */
import { Alert, Detection } from '../../lib/contracts';
import { bearingDeg, enuToGeodetic } from '../../lib/localize/geo';
import { FusionLocalizer } from '../../lib/localize/localizer';
import { gaussian, makeRng } from '../../lib/sim/signals';

export const DISTRICT_ORIGIN = { lat: 45.4397, lon: 4.3872, alt: 0 };
const C = 343;

/** `count` sensors on a grid 80 m apart (east, north, m), a little off its lines. */
export function districtSensors(count: number): [number, number][] {
  const cols = Math.ceil(Math.sqrt(count));
  return Array.from({ length: count }, (_, i): [number, number] => [(i % cols) * 80 + ((i * 13) % 7), Math.floor(i / cols) * 80 + ((i * 7) % 5)]);
}

/**
 * The detection sensor `i` at (e, n) sends for a bang at `src` emitted at `t0` (s): its onset
 * off by its clock's error and `lateSec` (an echo picked), its bearing off by 2° (1 sigma).
 */
export function districtDetection(id: string, i: number, [e, n]: [number, number], src: [number, number], t0: number, clock: 'ptp' | 'ntp', lateSec: number, rng: () => number): Detection {
  const g = enuToGeodetic([e, n, 0], DISTRICT_ORIGIN);
  const clockErrorMs = clock === 'ptp' ? 0.1 : 5;
  const onset = t0 + Math.hypot(src[0] - e, src[1] - n, 4 - 1.5) / C + (clockErrorMs / 1000) * gaussian(rng) + lateSec;
  return {
    kind: 'detection',
    id,
    sensor: `s${i}`,
    label: 'gunshot',
    confidence: 0.9,
    onset,
    offset: onset + 0.3,
    level: { dbfs: -12 },
    scores: { gunshot: 0.9 },
    span: { sensor: `s${i}`, start: 0, frames: 4800 },
    sensorInfo: { lat: g.lat, lon: g.lon, clock, clockErrorMs },
    location: { method: 'doa', bearing: bearingDeg(e, n, src[0], src[1]) + 2 * gaussian(rng), bearingStd: 2, sensors: [`s${i}`] },
  } as Detection;
}

/**
 * A bad night: `bangs` bangs `gapSec` apart at random places over the district, each reported
 * by every sensor within `heardWithinM` (PTP clocks; one report in 20 picks an echo 50 ms late),
 * in onset order.
 */
export function districtBurst(sensorCount: number, bangs: number, opts: { gapSec?: number; heardWithinM?: number; seed?: number } = {}): Detection[] {
  const sensors = districtSensors(sensorCount);
  const spanM = Math.max(...sensors.map(([e, n]) => Math.max(e, n)));
  const rng = makeRng(opts.seed ?? 3000 + sensorCount);
  const dets: Detection[] = [];
  for (let k = 0; k < bangs; k++) {
    const src: [number, number] = [spanM * rng(), spanM * rng()];
    sensors.forEach((p, i) => {
      if (Math.hypot(p[0] - src[0], p[1] - src[1]) <= (opts.heardWithinM ?? 250)) dets.push(districtDetection(`n${k}-${i}`, i, p, src, 1000 + (opts.gapSec ?? 0.6) * k, 'ptp', rng() < 0.05 ? 0.05 : 0, rng));
    });
  }
  return dets.sort((a, b) => a.onset - b.onset);
}

/**
 * Feeds detections to a localizer as they arrive (100 ms after their onset, on its clock), polling
 * before each as the node's timer does, and flushing at the end; returns what it sent, refined
 * alerts included, and the incidents it held at most.
 */
export function localizeBurst(localizer: FusionLocalizer, dets: Detection[]): { sent: Alert[]; heldMax: number } {
  const sent: Alert[] = [];
  let heldMax = 0;
  let lastMs = 0;
  for (const d of dets) {
    lastMs = (d.onset - 1000 + 0.1) * 1000;
    sent.push(...localizer.poll(lastMs).ready);
    const r = localizer.add(d, undefined, lastMs);
    sent.push(...r.ready, ...(r.refined ? [r.refined] : []));
    heldMax = Math.max(heldMax, localizer.size);
  }
  sent.push(...localizer.flush(lastMs + 60_000).ready);
  return { sent, heldMax };
}
