/**
 * What a burst of alerts (a fireworks night) costs the alert-dashboard node: the node runs in
 * Node-RED (node-red-node-test-helper) with Dashboard 2.0, and fake browser connections
 * receive what Dashboard would send them (each frame serialised as socket.io would). Each
 * alert comes in several copies, as the chain enriches it: detected, located, camera on
 * target, video. Prints, per client: states received per alert, kB per alert and the total;
 * and Node-RED's event-loop delay during the burst (perf_hooks, p50 / p95 / max). Medians of
 * the runs.
 *
 *   npx tsx bench/console-burst.ts [--alerts 300] [--seconds 60] [--clients 2] [--runs 3]
 *
 * The default compresses the 300 alerts of five minutes into one, to keep the run short: the
 * cost per alert is the figure to compare; the event-loop delay is that of five times the rate.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { monitorEventLoopDelay } from 'perf_hooks';
import { numberArg } from './args';

const arg = numberArg;

const ALERTS = arg('alerts', 300);
const SECONDS = arg('seconds', 60);
const CLIENTS = arg('clients', 2);
const RUNS = arg('runs', 3);
/** When each copy of an alert arrives after the first (ms): located, camera on target, video. */
const COPY_DELAYS_MS = [0, 200, 1000, 1500];

// eslint-disable-next-line @typescript-eslint/no-require-imports
const helper = require('node-red-node-test-helper');
helper.init(require.resolve('node-red'));
const dash = (f: string) => require(`@flowfuse/node-red-dashboard/nodes/config/${f}`);
// eslint-disable-next-line @typescript-eslint/no-require-imports
const alertDashboard = require('../nodes/alert-dashboard');

type Any = any; // eslint-disable-line @typescript-eslint/no-explicit-any

function flow(): Array<Record<string, unknown>> {
  return [
    { id: 'tab-1', type: 'tab', label: 'console' },
    { id: 'ui-base-1', type: 'ui-base', name: 'Vigie', path: '/dashboard', includeClientData: true, acceptsClientConfig: ['ui-notification', 'ui-control'] },
    { id: 'ui-theme-1', type: 'ui-theme', name: 'theme', colors: { surface: '#ffffff', primary: '#0094CE', bgPage: '#eeeeee', groupBg: '#ffffff', groupOutline: '#cccccc' }, sizes: {} },
    { id: 'ui-page-1', type: 'ui-page', name: 'Alerts', ui: 'ui-base-1', path: '/alerts', layout: 'grid', theme: 'ui-theme-1', order: 1, visible: 'true', disabled: 'false' },
    { id: 'ui-group-1', type: 'ui-group', name: 'Console', page: 'ui-page-1', width: '12', height: '1', order: 1, visible: 'true', disabled: 'false' },
    { id: 'dash', type: 'alert-dashboard', z: 'tab-1', group: 'ui-group-1', name: 'console', chime: true, persist: true, auditDir: 'audit', siteLat: 45.4397, siteLon: 4.3872, wires: [[]] },
  ];
}

/** A located explosion with the model's scores, as the chain sends it; `stage` 0..3 adds location, camera, video. */
function copyOf(i: number, onset: number, stage: number): Record<string, unknown> {
  const id = `burst-${i}`;
  const a: Record<string, unknown> = {
    kind: 'detection',
    id,
    sensor: 'corner-s',
    label: 'explosion',
    confidence: 0.95,
    onset,
    offset: onset + 0.3,
    level: { dbfs: -10, dba: -12, backgroundDba: -60 },
    scores: { explosion: 0.95, gunshot: 0.03, glass_break: 0.01, crash: 0.005, scream: 0.002, tire_skid: 0.001 },
    span: { sensor: 'corner-s', start: 0, frames: 4800 },
    sensorInfo: { lat: 45.4397, lon: 4.3872, heading: 90, clock: 'ntp' },
  };
  if (stage >= 1) a.location = { method: 'bearings', bearing: 300, bearingStd: 1, position: { lat: 45.4398 + (i % 50) * 1e-5, lon: 4.387, errorM: 5 }, sensors: ['corner-s', 'corner-nw'] };
  if (stage >= 2) a.camera = { id: 'cam-north', name: 'North', pan: 0.1, tilt: -0.2, zoom: 0.3, target: { bearing: 300, tilt: -4, distanceM: 40 }, state: 'on-target' };
  if (stage >= 3) a.video = { live: `/vigie/video/cam-north/${id}/live.mp4`, mjpeg: `/vigie/video/cam-north/${id}/mjpeg`, snapshot: `/vigie/video/cam-north/${id}/snapshot.jpg` };
  return a;
}

function quantile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * (s.length - 1) + 0.5))];
}

interface RunResult {
  statesPerAlert: number;
  /** Frames without a state (the node's answer to Dashboard for each copy: a few bytes). */
  otherFramesPerAlert: number;
  kBPerAlert: number;
  MBPerClient: number;
  lagP50Ms: number;
  lagP95Ms: number;
  lagMaxMs: number;
}

async function run(): Promise<RunResult> {
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-bench-console-'));
  helper.settings({ userDir });
  await helper.startServer();
  try {
    await helper.load([dash('ui_base'), dash('ui_page'), dash('ui_group'), dash('ui_theme'), alertDashboard], flow());
    const base = helper.getNode('ui-base-1');
    const node = helper.getNode('dash');
    // Keep the keepSnapshot fetches away: the video links are relative and nothing listens there.
    const clients = Array.from({ length: CLIENTS }, (_, k) => ({
      states: 0,
      frames: 0,
      bytes: 0,
      conn: {
        id: `bench-${k}`,
        emit(event: string, msg: unknown) {
          if (event !== 'msg-input:dash') return;
          // every frame's bytes; a state is one with the queue (not Dashboard's own frame per message)
          if (Array.isArray((msg as { payload?: { alerts?: unknown } })?.payload?.alerts)) this.owner.states++;
          else this.owner.frames++;
          this.owner.bytes += Buffer.byteLength(JSON.stringify(msg));
        },
        owner: undefined as unknown as { states: number; frames: number; bytes: number },
        on() {},
        off() {},
        listenerCount: () => 1,
      },
    }));
    for (const c of clients) {
      c.conn.owner = c;
      base.uiShared.connections[c.conn.id] = c.conn;
    }
    const lag = monitorEventLoopDelay({ resolution: 10 });
    lag.enable();
    const t0 = Date.now();
    const spacingMs = (SECONDS * 1000) / ALERTS;
    const timers: NodeJS.Timeout[] = [];
    await new Promise<void>((resolve) => {
      let left = ALERTS * COPY_DELAYS_MS.length;
      for (let i = 0; i < ALERTS; i++) {
        const onset = t0 / 1000 + (i * spacingMs) / 1000;
        COPY_DELAYS_MS.forEach((d, stage) => {
          timers.push(
            setTimeout(() => {
              node.receive({ payload: copyOf(i, onset, stage) });
              if (--left === 0) resolve();
            }, i * spacingMs + d),
          );
        });
      }
    });
    // the last trailing states
    await new Promise((r) => setTimeout(r, 1000));
    lag.disable();
    for (const c of clients) delete base.uiShared.connections[c.conn.id];
    const states = clients.map((c) => c.states);
    const frames = clients.map((c) => c.frames);
    const bytes = clients.map((c) => c.bytes);
    return {
      statesPerAlert: quantile(states, 0.5) / ALERTS,
      otherFramesPerAlert: quantile(frames, 0.5) / ALERTS,
      kBPerAlert: quantile(bytes, 0.5) / 1024 / ALERTS,
      MBPerClient: quantile(bytes, 0.5) / 1e6,
      lagP50Ms: lag.percentile(50) / 1e6,
      lagP95Ms: lag.percentile(95) / 1e6,
      lagMaxMs: lag.max / 1e6,
    };
  } finally {
    await helper.unload();
    await helper.stopServer();
    fs.rmSync(userDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const results: RunResult[] = [];
  for (let r = 0; r < RUNS; r++) results.push(await run());
  const med = (k: keyof RunResult) => quantile(results.map((x) => x[k]), 0.5);
  const f = (x: number, d = 1) => x.toFixed(d);
  console.log(`alert-dashboard under a burst: ${ALERTS} alerts in ${SECONDS} s, ${COPY_DELAYS_MS.length} copies each, ${CLIENTS} console clients; medians of ${RUNS} runs`);
  console.log(`  states sent to each client per alert: ${f(med('statesPerAlert'), 2)} (and ${f(med('otherFramesPerAlert'), 2)} frames without a state)`);
  console.log(`  bytes to each client per alert:       ${f(med('kBPerAlert'))} kB (${f(med('MBPerClient'))} MB in all)`);
  console.log(`  event-loop delay during the burst:    p50 ${f(med('lagP50Ms'))} ms, p95 ${f(med('lagP95Ms'))} ms, max ${f(med('lagMaxMs'))} ms`);
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
