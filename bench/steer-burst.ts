/**
 * ptz-steer under a burst of alerts of equal priority (a fireworks night: "explosion" after
 * "explosion"), two cameras that reach a target `--travel-ms` after the command. Counts what
 * ptz-steer sends on output 1 per alert (each copy goes on to video-forward, the console and
 * the outbox), the camera moves, the moves cut short by another, and how long a camera stays
 * on an alert before it leaves for the next one. Checks that every alert's last copy is a
 * final word (never "moving"). Prints medians, p90 and maxima.
 *
 *   npx tsx bench/steer-burst.ts [--alerts 60] [--gap-ms 500] [--look-s 10] [--travel-ms 600]
 *
 * --look-s 0 gives each camera no minimum look time (every newer alert of equal priority takes
 * it at once), as ptz-steer did before it had one.
 */
import { PtzSteer, SteerOutput } from '../lib/camera/steer';
import { CameraConnection } from '../lib/camera/connection';
import { DEFAULT_CALIBRATION, destination } from '../lib/camera/geometry';
import { CameraConfig } from '../lib/camera/types';
import { auditBus } from '../lib/alerts/bus';
import { FakeCamera } from '../test/support/fake-ptz-camera';
import { numberArg } from './args';

const arg = numberArg;

const ALERTS = arg('alerts', 60);
const GAP_MS = arg('gap-ms', 500);
const LOOK_S = arg('look-s', 10);
const TRAVEL_MS = arg('travel-ms', 600);
const ORIGIN = { lat: 45.4397, lon: 4.3872 };


function cameraAt(id: string, bearingDeg: number, distanceM: number): CameraConfig {
  const p = destination(ORIGIN, bearingDeg, distanceM);
  return { id, name: id, host: 'h', port: 80, ...p, heightM: 6, mountHeadingDeg: 0, tiltOffsetDeg: 0, calibration: DEFAULT_CALIBRATION, maxRangeM: 300, blindSectors: [] };
}

function stats(xs: number[]): string {
  if (!xs.length) return 'none';
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * (s.length - 1) + 0.5))];
  const f = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(2));
  return `median ${f(q(0.5))}, p90 ${f(q(0.9))}, max ${f(s[s.length - 1])} (n=${s.length})`;
}

async function main() {
  const cams = [new FakeCamera(cameraAt('cam-north', 0, 25), TRAVEL_MS), new FakeCamera(cameraAt('cam-south', 180, 25), TRAVEL_MS)];
  const steer = new PtzSteer(() => cams as unknown as CameraConnection[], { pollMs: 50, returnHomeAfterMs: 120_000, minLookMs: LOOK_S * 1000 });
  const copies = new Map<string, SteerOutput[]>();
  /** Per camera: when each move started, and when it reached its alert (seconds). */
  const moves = new Map<string, Array<{ startS: number; onTargetS?: number; superseded: boolean }>>();
  const t0 = performance.now();
  const nowS = () => (performance.now() - t0) / 1000;
  const unsubscribe = auditBus.subscribe((e) => {
    if (e.type !== 'camera-move') return;
    const d = e.details as { cameraId: string; state: string; moveMs?: number; error?: string };
    if (d.state === 'home') return;
    const list = moves.get(d.cameraId) ?? [];
    const endS = nowS();
    list.push({ startS: endS - (d.moveMs ?? 0) / 1000, onTargetS: d.state === 'failed' ? undefined : endS, superseded: /superseded/.test(d.error ?? '') });
    moves.set(d.cameraId, list);
  });
  const pending: Array<Promise<void>> = [];
  for (let i = 0; i < ALERTS; i++) {
    const p = destination(ORIGIN, (i * 137) % 360, 10 + (i % 30));
    const onset = Date.now() / 1000;
    const alert = {
      kind: 'detection', id: `fw-${i}`, sensor: 's1', label: 'explosion', confidence: 0.95, onset, offset: onset + 0.3,
      level: { dbfs: -10 }, scores: { explosion: 0.95 }, span: { sensor: 's1', start: 0, frames: 1 },
      location: { method: 'tdoa', sensors: ['s1', 's2', 's3'], position: { ...p, errorM: 3 } },
    };
    pending.push(
      steer.handle(alert, (out) => {
        if (out.port !== 1) return;
        const list = copies.get(out.payload.id) ?? [];
        list.push(out);
        copies.set(out.payload.id, list);
      }),
    );
    await new Promise((r) => setTimeout(r, GAP_MS));
  }
  await Promise.all(pending);
  // Let re-sends still due go out.
  await new Promise((r) => setTimeout(r, 6000));
  unsubscribe();
  steer.close();

  const perAlert = [...copies.values()].map((l) => l.length);
  const states: Record<string, number> = {};
  const finals: Record<string, number> = {};
  for (const list of copies.values()) {
    for (const o of list) states[o.payload.camera?.state ?? 'none'] = (states[o.payload.camera?.state ?? 'none'] ?? 0) + 1;
    const last = list[list.length - 1].payload.camera?.state ?? 'none';
    finals[last] = (finals[last] ?? 0) + 1;
  }
  const dwellS: number[] = [];
  const gapS: number[] = [];
  let superseded = 0;
  let total = 0;
  for (const list of moves.values()) {
    list.sort((a, b) => a.startS - b.startS);
    total += list.length;
    superseded += list.filter((m) => m.superseded).length;
    for (let i = 1; i < list.length; i++) {
      gapS.push(list[i].startS - list[i - 1].startS);
      const on = list[i - 1].onTargetS;
      if (on !== undefined) dwellS.push(Math.max(0, list[i].startS - on));
    }
  }
  console.log(`ptz-steer, ${ALERTS} explosion alerts ${GAP_MS} ms apart, 2 cameras (${TRAVEL_MS} ms to a target), look at least ${LOOK_S} s`);
  console.log(`  copies sent on output 1: ${perAlert.reduce((a, b) => a + b, 0)} for ${copies.size} alerts`);
  console.log(`  copies per alert: ${stats(perAlert)}`);
  console.log(`  copies by state: ${JSON.stringify(states)}`);
  console.log(`  last copy of each alert: ${JSON.stringify(finals)}${copies.size === ALERTS ? '' : ` (${ALERTS - copies.size} alerts sent nothing)`}`);
  console.log(`  camera moves: ${total}, cut short by another: ${superseded} (${total ? Math.round((100 * superseded) / total) : 0} %)`);
  console.log(`  between two moves of a camera (s): ${stats(gapS)}`);
  console.log(`  on an alert before leaving for the next (s): ${stats(dwellS)}`);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
