/**
 * ptz-steer benchmark against the virtual ONVIF camera on loopback, with the real `onvif`
 * client: time from a located alert arriving (PtzSteer.handle) to the AbsoluteMove request
 * sent, to the camera having received it, and to on-target (GetStatus within 1°).
 * Prints medians and p95. On-target includes the camera's slew (default 180°/s, like a fast
 * dome), so it is reported for moves of 0–180°.
 *
 *   npx tsx bench/ptz.ts [--alerts 30] [--pan-speed 180] [--poll-ms 100]
 */
import { VirtualCamera } from '../lib/sim/camera/virtual-camera';
import { CameraConnection } from '../lib/camera/connection';
import { PtzSteer } from '../lib/camera/steer';
import { DEFAULT_CALIBRATION, destination } from '../lib/camera/geometry';
import { CameraConfig } from '../lib/camera/types';
import { numberArg } from './args';

const arg = numberArg;

const ALERTS = arg('alerts', 30);
const PAN_SPEED = arg('pan-speed', 180);
const POLL_MS = arg('poll-ms', 100);

function stats(xs: number[]): { median: number; p95: number; n: number } {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * (s.length - 1) + 0.5))];
  return { median: q(0.5), p95: q(0.95), n: s.length };
}

async function main() {
  const cam = new VirtualCamera({ username: 'bench', password: 'bench', panSpeedDegPerS: PAN_SPEED, tiltSpeedDegPerS: PAN_SPEED / 2, zoomSpeedPerS: 2 });
  const { onvifPort } = await cam.start();
  const origin = { lat: 45.4397, lon: 4.3872 };
  const cfg: CameraConfig = {
    id: 'bench-cam', name: 'bench', host: '127.0.0.1', port: onvifPort, ...origin, heightM: 6, mountHeadingDeg: 0, tiltOffsetDeg: 0,
    calibration: DEFAULT_CALIBRATION, maxRangeM: 500, blindSectors: [],
  };
  const conn = new CameraConnection({ config: cfg, username: 'bench', password: 'bench' });
  const tConnect = Date.now();
  await conn.ensureConnected();
  const connectMs = Date.now() - tConnect;
  let sentAt = 0;
  const steer = new PtzSteer(() => [conn], { pollMs: POLL_MS, returnHomeAfterMs: 0, minLookMs: 0, toleranceDeg: 1 }, { onCommandSent: () => (sentAt = performance.now()) });
  const toSent: number[] = [];
  const toReceived: number[] = [];
  const toOnTarget: number[] = [];
  const perDegree: number[] = [];
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  let prevBearing = 0;
  for (let i = 0; i < ALERTS; i++) {
    const bearing = rnd() * 360;
    const target = destination(origin, bearing, 20 + rnd() * 100);
    const alert = {
      kind: 'detection', id: `b${i}`, sensor: 's1', label: 'glass_break', confidence: 0.9, onset: Date.now() / 1000, offset: Date.now() / 1000,
      level: { dbfs: -10 }, scores: {}, span: { sensor: 's1', start: 0, frames: 1 },
      location: { method: 'tdoa', sensors: ['s1'], position: { ...target, errorM: 2 } },
    };
    const callsBefore = cam.calls.length;
    const t0 = performance.now();
    const wall0 = Date.now();
    let onTargetAt = 0;
    let state = '';
    await steer.handle(alert, (out) => {
      if (out.port === 1 && out.payload.camera) {
        onTargetAt = performance.now();
        state = out.payload.camera.state;
      }
    });
    const received = cam.calls.slice(callsBefore).find((c) => c.action === 'AbsoluteMove');
    if (state !== 'on-target') throw new Error(`alert ${i}: state ${state}`);
    toSent.push(sentAt - t0);
    if (received) toReceived.push(received.timeMs - wall0);
    toOnTarget.push(onTargetAt - t0);
    const moved = Math.abs(((bearing - prevBearing + 540) % 360) - 180);
    if (moved > 20) perDegree.push((onTargetAt - t0) / moved);
    prevBearing = bearing;
  }
  steer.close();
  await conn.close();
  await cam.stop();
  const f = (s: { median: number; p95: number; n: number }) => `median ${s.median.toFixed(1)} ms, p95 ${s.p95.toFixed(1)} ms (n=${s.n})`;
  console.log(`ptz-steer → virtual camera (loopback, real onvif client), pan speed ${PAN_SPEED}°/s, GetStatus every ${POLL_MS} ms`);
  console.log(`  connect (GetSystemDateAndTime … GetConfigurationOptions): ${connectMs} ms, once per camera`);
  console.log(`  alert → AbsoluteMove sent:      ${f(stats(toSent))}`);
  console.log(`  alert → AbsoluteMove received:  ${f(stats(toReceived))} (wall clock, ms resolution)`);
  console.log(`  alert → on-target (≤ 1°):       ${f(stats(toOnTarget))}`);
  console.log(`  on-target time per degree moved: ${f(stats(perDegree)).replace(/ ms/g, ' ms/°')}`);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
