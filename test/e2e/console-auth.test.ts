/**
 * The operators' console behind Node-RED's httpNodeAuth, run as `vigie start` runs it with an
 * integrator's own settings.js: real Node-RED and Dashboard 2.0, the virtual ONVIF camera, real
 * ffmpeg, Debian's Chromium. Dashboard's socket does not pass through httpNodeAuth: a script
 * speaking socket.io without the credentials (or with wrong ones) is refused before it reads
 * anything or acts; with them it is served, and Chromium given them shows the console and
 * decides. The alert's snapshot is kept with the audit log although the HTTP routes answer 401
 * without credentials (the console takes it in-process). Needs the build.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Browser } from 'playwright-core';
import { start, Started } from '../../lib/cli/start';
import { VirtualCamera } from '../../lib/sim/camera/virtual-camera';
import { UI_BASE_SETTINGS } from '../../scripts/make-flows';
import { launchChromium } from '../support/browser';
import { consoleDetection, openConsoleAs } from '../support/console-page';
import { repoRoot } from '../support/nodered';
import { basicAuth, eventsOf, openPolling } from '../support/sio-polling';
import { waitFor } from '../support/wait';

const USER = 'operator';
const PASSWORD = 'watch-the-street';
// bcrypt of PASSWORD (cost 8), as `node-red admin hash-pw` writes it into settings.js
const PASSWORD_HASH = '$2b$08$LWHfn5dFAxcbCTZ3P0KR.O.gQBoROkXKXFu.WM.eUnfUXMYMiIw06';
const OWN_SETTINGS = `// The integrator's own settings: the dashboard needs a login.
module.exports = {
  uiHost: '127.0.0.1',
  uiPort: Number(process.env.VIGIE_PORT),
  flowFile: 'flows.json',
  httpNodeAuth: { user: '${USER}', pass: '${PASSWORD_HASH}' },
  logging: { console: { level: 'info' } },
};
`;
const SOCKET = '/dashboard/socket.io';

interface AuditEntry {
  type: string;
  alertId?: string;
  actor: string;
  details: Record<string, unknown>;
}

describe('the console behind httpNodeAuth (vigie start, real Node-RED and Dashboard 2.0)', { timeout: 300_000 }, () => {
  let dir = '';
  let userDir = '';
  let cam: VirtualCamera | undefined;
  let started: Started | undefined;
  let browser: Browser | undefined;
  const log: string[] = [];
  const envBefore: Record<string, string | undefined> = {};

  const audit = (): AuditEntry[] => {
    const auditDir = path.join(userDir, 'vigie-audit');
    if (!fs.existsSync(auditDir)) return [];
    return fs
      .readdirSync(auditDir)
      .filter((f) => f.endsWith('.jsonl'))
      .flatMap((f) => fs.readFileSync(path.join(auditDir, f), 'utf8').split('\n').filter(Boolean))
      .map((l) => JSON.parse(l) as AuditEntry);
  };

  before(async () => {
    assert.ok(fs.existsSync(path.join(repoRoot, 'dist', 'nodes', 'alert-dashboard.js')), 'run the build first (npm test does)');
    cam = new VirtualCamera({ username: 'cam-user', password: 'cam-pass', fps: 5 });
    const { onvifPort } = await cam.start();
    for (const [k, v] of Object.entries({ VIGIE_QUIET: '1', T_CAM_USER: 'cam-user', T_CAM_PASS: 'cam-pass' })) {
      envBefore[k] = process.env[k];
      process.env[k] = v;
    }
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-console-auth-'));
    const alert = consoleDetection('AL-1', 'glass_break', Date.now() / 1000, {
      camera: { id: 'cam-a', name: 'cam-a', pan: 0, tilt: 0, zoom: 0, target: { bearing: 10, tilt: -5 }, state: 'on-target' },
    });
    const flowFile = path.join(dir, 'flow.json');
    fs.writeFileSync(
      flowFile,
      JSON.stringify([
        { id: 'tab', type: 'tab', label: 'Control room' },
        { id: 'ui-base-1', type: 'ui-base', ...UI_BASE_SETTINGS },
        { id: 'ui-theme-1', type: 'ui-theme', name: 'Vigie', colors: { surface: '#263238', primary: '#1565c0', bgPage: '#eceff1', groupBg: '#ffffff', groupOutline: '#cfd8dc' }, sizes: { density: 'default', pagePadding: '12px', groupGap: '12px', groupBorderRadius: '4px', widgetGap: '12px' } },
        { id: 'ui-page-1', type: 'ui-page', name: 'Alerts', ui: 'ui-base-1', path: '/alerts', icon: 'bell', layout: 'grid', theme: 'ui-theme-1', breakpoints: [{ name: 'Default', px: '0', cols: '12' }], order: 1, className: '', visible: 'true', disabled: 'false' },
        { id: 'ui-group-1', type: 'ui-group', name: 'Acoustic alerts', page: 'ui-page-1', width: '12', height: '1', order: 1, showTitle: false, className: '', visible: 'true', disabled: 'false', groupType: 'default' },
        { id: 'cam', type: 'vigie-camera', cameraId: 'cam-a', host: '127.0.0.1', port: String(onvifPort), lat: 45.4397, lon: 4.3872, credentials: { username: '$(T_CAM_USER)', password: '$(T_CAM_PASS)' } },
        { id: 'raise', type: 'inject', z: 'tab', name: 'alert', props: [{ p: 'payload' }], payload: JSON.stringify(alert), payloadType: 'json', repeat: '', once: false, topic: '', x: 100, y: 100, wires: [['vf']] },
        { id: 'vf', type: 'video-forward', z: 'tab', name: 'video', idleStopS: 5, keepForS: 60, maxRelays: 2, mjpegFps: 2, mjpegWidth: 320, x: 300, y: 100, wires: [['dash']] },
        { id: 'dash', type: 'alert-dashboard', z: 'tab', group: 'ui-group-1', name: 'Acoustic alerts', order: 1, width: '12', height: '10', chime: false, persist: true, auditDir: '', keepSnapshots: true, x: 500, y: 100, wires: [[]] },
      ]),
    );
    userDir = path.join(dir, 'user');
    fs.mkdirSync(userDir);
    fs.writeFileSync(path.join(userDir, 'settings.js'), OWN_SETTINGS);
    started = await start({ flow: flowFile, userDir, host: '127.0.0.1', port: 0, resetFlow: false, brokerPort: 0, startTimeoutMs: 90_000 }, (l) => log.push(l));
    // The alert goes through video-forward (which takes the camera's snapshot) to the console.
    await waitFor(async () => (await fetch(`${started!.url}/inject/raise`, { method: 'POST' })).status === 200, 60_000, 'the inject node to be deployed');
  });

  after(async () => {
    await browser?.close();
    await started?.stop();
    await cam?.stop();
    for (const [k, v] of Object.entries(envBefore)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("keeps the alert's snapshot with the audit log although Node-RED's HTTP routes ask for the login", async () => {
    await waitFor(() => audit().some((e) => e.type === 'snapshot' && e.alertId === 'AL-1'), 90_000, 'the snapshot entry in the audit log');
    const entry = audit().find((e) => e.type === 'snapshot' && e.alertId === 'AL-1')!;
    const file = path.join(userDir, 'vigie-audit', String(entry.details.file));
    const jpeg = fs.readFileSync(file);
    assert.deepEqual([...jpeg.subarray(0, 3)], [0xff, 0xd8, 0xff], 'a JPEG');
    // the route the link names is still behind httpNodeAuth
    const link = `/vigie/video/cam-a/snapshot.jpg?alert=AL-1`;
    assert.equal((await fetch(started!.url + link)).status, 401);
    assert.equal((await fetch(started!.url + link, { headers: basicAuth(USER, PASSWORD) })).status, 200);
  });

  it('refuses a socket.io client without the credentials, or with wrong ones: no alert read, no decision taken', async () => {
    assert.equal((await fetch(`${started!.url}/dashboard/alerts`)).status, 401, 'the page asks for the login');
    for (const headers of [{}, basicAuth(USER, 'wrong'), basicAuth('intruder', PASSWORD)]) {
      const c = await openPolling(started!.url, SOCKET, headers);
      assert.match(await c.connect(), /^44\{"message":"unauthorized/);
      await c.emit('widget-load', 'dash');
      await c.emit('vigie-action:dash', { type: 'decide', alertId: 'AL-1', action: 'dismiss', operator: 'Chief Operator Dupont', note: 'false alarm', revision: 0 }, 1);
      const packets = await c.read(2000);
      assert.deepEqual(eventsOf(packets), [], 'no state, no event');
      assert.deepEqual(packets.filter((p) => p.startsWith('43')), [], 'no answer to the action');
    }
    // Dashboard 2.0's own rule stays: even with the credentials, a cross-domain handshake is refused.
    const foreign = await openPolling(started!.url, SOCKET, { ...basicAuth(USER, PASSWORD), Origin: 'http://elsewhere.example' });
    assert.doesNotMatch(await foreign.connect(), /^40/);
  });

  it('serves a socket.io client with the credentials', async () => {
    const c = await openPolling(started!.url, SOCKET, basicAuth(USER, PASSWORD));
    assert.match(await c.connect(), /^40\{"sid":/);
    await c.emit('widget-load', 'dash');
    let state: { alerts: Array<{ alert: { id: string }; decisions?: unknown[] }> } | undefined;
    await waitFor(
      async () => {
        const load = eventsOf(await c.read()).find((e) => e.event === 'widget-load:dash');
        state = (load?.data as { payload?: typeof state } | undefined)?.payload;
        return !!state;
      },
      30_000,
      'the console state',
    );
    assert.deepEqual(
      state!.alerts.map((r) => [r.alert.id, r.decisions?.length ?? 0]),
      [['AL-1', 0]],
      'the alert is there, undecided: the refused clients took no decision',
    );
    assert.equal(audit().filter((e) => e.type === 'decision').length, 0);
  });

  it('Chromium given the credentials shows the console and decides through its socket', async () => {
    browser = await launchChromium();
    const context = await browser.newContext({ httpCredentials: { username: USER, password: PASSWORD }, viewport: { width: 1400, height: 1000 } });
    const page = await context.newPage();
    const sockets: string[] = [];
    page.on('websocket', (ws) => sockets.push(ws.url()));
    await openConsoleAs(page, started!.url, 'Alice');
    await page.locator('[data-alert-id=AL-1]').click();
    // the detail shown is the alert's, settled (a click before would decide on what was shown before)
    await page.waitForSelector('[data-test=detail][data-shown-alert="AL-1"][data-settled=yes]', { state: 'attached', timeout: 30_000 });
    await page.locator('[data-test=dismiss]').click();
    await waitFor(() => audit().some((e) => e.type === 'decision' && e.alertId === 'AL-1'), 60_000, 'the decision in the audit log');
    const decision = audit().find((e) => e.type === 'decision' && e.alertId === 'AL-1')!;
    assert.equal(decision.actor, 'Alice');
    assert.equal(decision.details.action, 'dismiss');
    // the page went on from long-polling to the WebSocket, which the same login opened
    assert.ok(sockets.some((u) => u.includes(`${SOCKET}/?EIO=4&transport=websocket`)), `the console's socket upgraded: ${sockets.join(', ')}`);
    await context.close();
  });
});
