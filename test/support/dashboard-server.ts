/**
 * A real Node-RED for dashboard tests: embedded (`require('node-red')`) on 127.0.0.1:0 with
 * a temporary user directory in which this package is installed as
 * node_modules/node-red-dashboard-2-vigie (its node modules load from the TypeScript sources,
 * its widget from resources/), beside Dashboard 2.0. Also a small MJPEG and snapshot source
 * made with real ffmpeg, on the same HTTP server.
 */
import { ChildProcess, spawn, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { VideoLinks } from '../../lib/contracts';
import { offerSnapshots, VideoManager } from '../../lib/video/manager';
import { UI_BASE_SETTINGS } from '../../scripts/make-flows';

export const repoRoot = path.resolve(__dirname, '..', '..');
const UMD = path.join(repoRoot, 'resources', 'alert-dashboard.umd.js');

/** Builds the widget with Vite when resources/ is missing or older than ui/ (never the full build). */
export function ensureWidgetBuilt(): void {
  const newest = (dir: string): number =>
    fs.readdirSync(dir, { withFileTypes: true }).reduce((m, e) => {
      const p = path.join(dir, e.name);
      return Math.max(m, e.isDirectory() ? newest(p) : fs.statSync(p).mtimeMs);
    }, 0);
  const stale = !fs.existsSync(UMD) || fs.statSync(UMD).mtimeMs < newest(path.join(repoRoot, 'ui'));
  if (stale) {
    execFileSync(process.execPath, [path.join(repoRoot, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', path.join(repoRoot, 'ui', 'vite.config.mjs'), '--logLevel', 'warn'], {
      cwd: repoRoot,
      stdio: 'inherit',
      timeout: 180_000,
    });
  }
}

/**
 * Installs the package into userDir as Node-RED would find it, pointing the node entry at
 * the TypeScript source (the test runs under tsx) so that no `npm run build` is needed.
 */
function installPackage(userDir: string, nodeTypes: string[]): void {
  const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));
  const mod = path.join(userDir, 'node_modules', 'node-red-dashboard-2-vigie');
  fs.mkdirSync(mod, { recursive: true });
  for (const type of nodeTypes) {
    fs.writeFileSync(path.join(mod, `${type}.js`), `module.exports = require(${JSON.stringify(path.join(repoRoot, 'nodes', `${type}.ts`))});\n`);
    fs.copyFileSync(path.join(repoRoot, 'nodes', `${type}.html`), path.join(mod, `${type}.html`));
  }
  fs.symlinkSync(path.join(repoRoot, 'resources'), path.join(mod, 'resources'), 'dir');
  fs.symlinkSync(path.join(repoRoot, 'icons'), path.join(mod, 'icons'), 'dir');
  fs.writeFileSync(
    path.join(mod, 'package.json'),
    JSON.stringify({ name: pkg.name, version: pkg.version, keywords: pkg.keywords, 'node-red': { version: '>=4.0.0', nodes: Object.fromEntries(nodeTypes.map((t) => [t, `${t}.js`])) }, 'node-red-dashboard-2': pkg['node-red-dashboard-2'] }, null, 2),
  );
  fs.writeFileSync(path.join(userDir, 'package.json'), JSON.stringify({ name: 'node-red-project', private: true, dependencies: { 'node-red-dashboard-2-vigie': pkg.version, '@flowfuse/node-red-dashboard': '*' } }, null, 2));
}

export interface DashboardServer {
  port: number;
  baseUrl: string;
  userDir: string;
  /** Output messages of the flow's sink node. */
  outputs: Array<Record<string, unknown>>;
  /** z/x/y of the map tiles browsers asked for. */
  tileRequests: string[];
  /** payload.video for an alert, from the real relay (starts it, as video-forward does). */
  videoFor(alertId: string, cameraId: string): VideoLinks;
  /** Sends a message into the alert-dashboard node through Node-RED. */
  inject(nodeId: string, msg: Record<string, unknown>): void;
  stop(): Promise<void>;
}

/** A flow: ui-base/theme/page/group, the alert-dashboard node `dash`, and a function node feeding `outputs`. */
export function consoleFlow(extra: Record<string, unknown> = {}): Array<Record<string, unknown>> {
  return [
    { id: 'tab-console', type: 'tab', label: 'Control room' },
    // the shipped flows' own settings, so that the console is tested as it is shipped
    { id: 'ui-base-1', type: 'ui-base', ...UI_BASE_SETTINGS },
    { id: 'ui-theme-1', type: 'ui-theme', name: 'Vigie', colors: { surface: '#263238', primary: '#1565c0', bgPage: '#eceff1', groupBg: '#ffffff', groupOutline: '#cfd8dc' }, sizes: { density: 'default', pagePadding: '12px', groupGap: '12px', groupBorderRadius: '4px', widgetGap: '12px' } },
    { id: 'ui-page-1', type: 'ui-page', name: 'Alerts', ui: 'ui-base-1', path: '/alerts', icon: 'bell', layout: 'grid', theme: 'ui-theme-1', breakpoints: [{ name: 'Default', px: '0', cols: '12' }], order: 1, className: '', visible: 'true', disabled: 'false' },
    { id: 'ui-group-1', type: 'ui-group', name: 'Acoustic alerts', page: 'ui-page-1', width: '12', height: '1', order: 1, showTitle: false, className: '', visible: 'true', disabled: 'false', groupType: 'default' },
    { id: 'dash', type: 'alert-dashboard', z: 'tab-console', group: 'ui-group-1', name: 'Acoustic alerts', order: 1, width: '12', height: '10', chime: true, siteLat: '45.4397', siteLon: '4.3872', tileUrl: '/test-tiles/{z}/{x}/{y}.png', alertRetentionDays: 7, maxAlerts: 500, persist: true, auditDir: '', auditRetentionDays: 90, auditRotateMB: 10, keepSnapshots: true, x: 300, y: 100, wires: [['sink']], ...extra },
    { id: 'sink', type: 'function', z: 'tab-console', name: 'to test', func: 'global.get("vigieSink")(msg);\nreturn null;', outputs: 0, x: 500, y: 100, wires: [] },
  ];
}

const children = new Set<ChildProcess>();

function ffmpeg(args: string[]): ChildProcess {
  const p = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', ...args], { stdio: ['ignore', 'pipe', 'ignore'] });
  children.add(p);
  p.on('exit', () => children.delete(p));
  return p;
}

export interface DashboardServerOptions {
  /** This package's node types installed (default: alert-dashboard only). */
  nodeTypes?: string[];
  /** Node credentials by node id (flows_cred.json, unencrypted). */
  credentials?: Record<string, Record<string, string>>;
  /**
   * The test's own video relay on /vigie/video/ (default true). Off when the flow has a
   * video-forward node, which serves those paths itself.
   */
  testVideo?: boolean;
}

/** Starts Node-RED with `flow`; MJPEG at /test-video/<id>/mjpeg, JPEG at /test-video/<id>/snapshot.jpg. */
export async function startDashboardServer(flow: Array<Record<string, unknown>>, opts: DashboardServerOptions = {}): Promise<DashboardServer> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const RED = require('node-red');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const express = require('express');
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-dash-browser-'));
  installPackage(userDir, opts.nodeTypes ?? ['alert-dashboard']);
  fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(flow));
  if (opts.credentials) fs.writeFileSync(path.join(userDir, 'flows_cred.json'), JSON.stringify(opts.credentials));
  const outputs: Array<Record<string, unknown>> = [];

  const app = express();
  app.get('/test-video/:cam/mjpeg', (req: http.IncomingMessage, res: http.ServerResponse) => {
    const p = ffmpeg(['-re', '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=5', '-t', '120', '-f', 'mpjpeg', '-q:v', '7', 'pipe:1']);
    res.writeHead(200, { 'Content-Type': 'multipart/x-mixed-replace;boundary=ffmpeg', 'Cache-Control': 'no-store' });
    p.stdout!.pipe(res);
    req.on('close', () => p.kill('SIGKILL'));
  });
  app.get('/test-video/:cam/snapshot.jpg', (_req: http.IncomingMessage, res: http.ServerResponse) => {
    const p = ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=1', '-frames:v', '1', '-f', 'image2pipe', '-c:v', 'mjpeg', 'pipe:1']);
    res.writeHead(200, { 'Content-Type': 'image/jpeg', 'Cache-Control': 'no-store' });
    p.stdout!.pipe(res);
  });
  app.get('/test-video/h264.ts', (req: http.IncomingMessage, res: http.ServerResponse) => {
    const p = ffmpeg(['-re', '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=10', '-t', '180', '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-profile:v', 'baseline', '-pix_fmt', 'yuv420p', '-g', '10', '-f', 'mpegts', 'pipe:1']);
    res.writeHead(200, { 'Content-Type': 'video/mp2t', 'Cache-Control': 'no-store' });
    p.stdout!.pipe(res);
    req.on('close', () => p.kill('SIGKILL'));
  });
  // map tiles for the tile-URL option: one plain tile made once with ffmpeg, counted per request
  let tile: Buffer | undefined;
  const tileRequests: string[] = [];
  app.get('/test-tiles/:z/:x/:y.png', (req: http.IncomingMessage & { params: Record<string, string> }, res: http.ServerResponse) => {
    tileRequests.push(`${req.params.z}/${req.params.x}/${req.params.y}`);
    tile ??= execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'color=c=0xdfe6e9:s=256x256,drawgrid=w=64:h=64:t=1:c=0xb2bec3', '-frames:v', '1', '-f', 'image2pipe', '-c:v', 'png', 'pipe:1'], { timeout: 30_000 });
    res.writeHead(200, { 'Content-Type': 'image/png' });
    res.end(tile);
  });
  let port = 0;
  const video = new VideoManager({
    resolveSource: async () => ({ streamUrl: `http://127.0.0.1:${port}/test-video/h264.ts` }),
    knowsCamera: (id) => id === 'cam-place',
    idleStopMs: 5000,
    keepForMs: 120_000,
    actor: 'auto:test-video',
  });
  const testVideo = opts.testVideo !== false;
  // As video-forward does: the console keeps an alert's snapshot from here, in-process.
  const withdrawSnapshots = testVideo ? offerSnapshots(video) : () => undefined;
  app.use((req: http.IncomingMessage, res: http.ServerResponse, next: () => void) => {
    if (!testVideo || !video.handleRequest(req, res)) next();
  });
  const server = http.createServer(app);
  if (testVideo) {
    server.on('upgrade', (req, socket, head) => {
      video.handleUpgrade(req, socket, head);
    });
  }
  const settings = {
    userDir,
    flowFile: 'flows.json',
    httpAdminRoot: '/admin',
    httpNodeRoot: '/',
    uiHost: '127.0.0.1',
    credentialSecret: false,
    functionGlobalContext: { vigieSink: (msg: Record<string, unknown>) => outputs.push(msg) },
    logging: { console: { level: 'warn', metrics: false, audit: false } },
    editorTheme: { tours: false },
    externalModules: { autoInstall: false, palette: { allowInstall: false } },
    telemetry: { enabled: false },
    diagnostics: { enabled: false },
  };
  RED.init(server, settings);
  app.use(settings.httpAdminRoot, RED.httpAdmin);
  app.use(settings.httpNodeRoot, RED.httpNode);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  await RED.start();
  port = (server.address() as AddressInfo).port;
  // wait until the flow runs (the dashboard exists only once ui-base is started)
  const t0 = Date.now();
  while (!RED.nodes.getNode('dash')) {
    if (Date.now() - t0 > 60_000) throw new Error('the flow did not start');
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    baseUrl: `http://127.0.0.1:${port}`,
    userDir,
    outputs,
    tileRequests,
    videoFor(alertId, cameraId) {
      return video.alert(alertId, cameraId).video;
    },
    inject(nodeId, msg) {
      const n = RED.nodes.getNode(nodeId);
      if (!n) throw new Error(`no node ${nodeId}`);
      n.receive(msg);
    },
    async stop() {
      withdrawSnapshots();
      await video.close();
      for (const c of children) c.kill('SIGKILL');
      await RED.stop();
      await new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      });
      fs.rmSync(userDir, { recursive: true, force: true });
    },
  };
}

/** A vigie-sensor config node with a name, at `at`: a landmark the console names places by. */
export function namedSensorNode(id: string, sensorId: string, name: string, at: { lat: number; lon: number }): Record<string, unknown> {
  return { id, type: 'vigie-sensor', name, sensorId, lat: at.lat, lon: at.lon, heightM: 4, headingDeg: 0, array: 'square-4', mics: '', clock: 'ntp', clockErrorMs: 1 };
}
