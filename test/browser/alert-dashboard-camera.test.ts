/**
 * A camera that stops answering, seen from the operators' console: real Node-RED with
 * vigie-camera, ptz-steer, video-forward and alert-dashboard, the virtual ONVIF camera (frozen,
 * thawed, its encoder killed), and Debian's Chromium. The console must say "camera offline",
 * stop calling a frozen picture LIVE, give every failure a reason in words, and never show an
 * internal address (not even masked). Screenshots go to test-artifacts/ for a human to look at.
 */
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium, BrowserContext, Page } from 'playwright-core';
import { destination } from '../../lib/camera/geometry';
import { VirtualCamera } from '../../lib/sim/camera/virtual-camera';
import { consoleFlow, DashboardServer, ensureWidgetBuilt, startDashboardServer } from '../support/dashboard-server';
import { artifactsDir as artifacts, CHROMIUM, CHROMIUM_ARGS } from '../support/browser';

const SITE = { lat: 45.4397, lon: 4.3872 };
const CAMERA_AT = destination(SITE, 200, 30);
const USER = 'cam-operator';
const PASSWORD = 'cam-s3cret-pw';
/** What an internal address looks like in text: a URL, an IP, a masked user, the stream's path. */
const INTERNAL = /[a-z]+:\/\/|127\.0\.0\.1|\*\*\*@|live\.ts|onvif\/device_service|cam-s3cret|cam-operator/i;

function alert(id: string, label: string, bearingFromSite: number) {
  const onset = Date.now() / 1000;
  return {
    kind: 'detection',
    id,
    sensor: 'rue-nord',
    label,
    confidence: 0.9,
    onset,
    offset: onset + 0.4,
    level: { dbfs: -12, dba: 92 },
    scores: { [label]: 0.9 },
    span: { sensor: 'rue-nord', start: 0, frames: 4800 },
    sensorInfo: { lat: SITE.lat, lon: SITE.lon, clock: 'ntp' },
    location: { method: 'tdoa', sensors: ['rue-nord', 'place-sud'], position: { ...destination(SITE, bearingFromSite, 25), errorM: 4 } },
  };
}

describe('alert-dashboard in Chromium: a camera that goes offline', { timeout: 420_000 }, () => {
  let cam: VirtualCamera;
  let server: DashboardServer;
  let context: BrowserContext;
  let profileDir: string;
  let page: Page;
  /** Text frames the page received over WebSocket (dashboard state, the live relay's messages). */
  const textFrames: string[] = [];

  before(async () => {
    assert.ok(fs.existsSync(CHROMIUM), 'Debian chromium is installed at /usr/bin/chromium');
    ensureWidgetBuilt();
    fs.mkdirSync(artifacts, { recursive: true });
    cam = new VirtualCamera({ username: USER, password: PASSWORD, name: 'Camera place', mountHeadingDeg: 0, panSpeedDegPerS: 180, tiltSpeedDegPerS: 90, fps: 10 });
    await cam.start();
    const flow = [
      ...consoleFlow({ wires: [[]] }).filter((n) => n.id !== 'sink'),
      { id: 'cfg-cam', type: 'vigie-camera', cameraId: 'cam-place', name: 'Camera place', host: '127.0.0.1', port: cam.port, lat: CAMERA_AT.lat, lon: CAMERA_AT.lon, heightM: 6, mountHeadingDeg: 0, maxRangeM: 300 },
      { id: 'steer', type: 'ptz-steer', z: 'tab-console', name: 'steer', cameras: ['cfg-cam'], mode: 'automatic', returnHomeS: 600, waitForCameraS: 300, x: 100, y: 200, wires: [['vf'], []] },
      { id: 'vf', type: 'video-forward', z: 'tab-console', name: 'video', x: 300, y: 200, wires: [['dash']] },
    ];
    server = await startDashboardServer(flow, {
      nodeTypes: ['alert-dashboard', 'vigie-camera', 'ptz-steer', 'video-forward'],
      credentials: { 'cfg-cam': { username: USER, password: PASSWORD } },
      testVideo: false,
    });
    profileDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-chromium-'));
    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: [...CHROMIUM_ARGS, '--headless', '--disable-quic', '--disable-sync', '--autoplay-policy=no-user-gesture-required'],
      viewport: { width: 1600, height: 1000 },
    });
    // Every text the video area ever showed over the picture (an interruption may last a second).
    await context.addInitScript(() => {
      const w = window as unknown as { __vigieTrouble: string[] };
      w.__vigieTrouble = [];
      new MutationObserver(() => {
        const t = document.querySelector('[data-test=video-trouble]')?.textContent?.trim();
        if (t && !w.__vigieTrouble.includes(t)) w.__vigieTrouble.push(t);
      }).observe(document, { subtree: true, childList: true, characterData: true });
    });
  });

  afterEach(async (t) => {
    if (!(t as unknown as { passed?: boolean }).passed && page) await page.screenshot({ path: path.join(artifacts, 'alert-dashboard-camera-failed.png') }).catch(() => undefined);
  });

  after(async () => {
    await context?.close();
    await server?.stop();
    await cam?.stop();
    if (profileDir) fs.rmSync(profileDir, { recursive: true, force: true });
  });

  const text = (sel: string) => page.locator(sel).first().textContent().then((t) => (t ?? '').trim());

  it('says "camera offline" on the plan and on the alerts using it, calls a frozen picture frozen, gives failures a reason, and never shows an internal address', async () => {
    page = await context.newPage();
    page.on('websocket', (ws) => ws.on('framereceived', (f) => (typeof f.payload === 'string' ? textFrames.push(f.payload) : undefined)));
    page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
    await page.goto(`${server.baseUrl}/dashboard/alerts`);
    await page.waitForSelector('.vigie-console[data-loaded=yes]', { state: 'attached', timeout: 60_000 });
    await page.fill('[data-test=operator]', 'Dora');
    await page.locator('[data-test=operator]').blur();

    // 1. A gunshot: the camera turns to it and its live picture plays, marked LIVE.
    server.inject('steer', { payload: alert('g-1', 'gunshot', 150) });
    await page.locator('[data-alert-id=g-1] [data-test=queue-camera]', { hasText: 'camera on target' }).waitFor({ timeout: 60_000 });
    await page.locator('[data-alert-id=g-1]').click();
    await page.waitForFunction(() => {
      const v = document.querySelector('[data-test=live-video]') as HTMLVideoElement | null;
      const img = document.querySelector('[data-test=mjpeg]') as HTMLImageElement | null;
      return (!!v && v.readyState >= 2 && v.videoWidth === 640) || (!!img && img.naturalWidth === 640);
    }, null, { timeout: 60_000 });
    await page.locator('[data-test=live-badge].vg-live').waitFor({ timeout: 30_000 });
    assert.match(await text('[data-test=live-badge]'), /^LIVE/);
    assert.equal(await page.locator('[data-test=plan-camera-cam-place]').getAttribute('data-link'), 'online');
    assert.equal(await page.locator('[data-test=plan-aim]').count(), 1, 'the aim of a camera on target is drawn');

    // A second operator whose browser has no Media Source Extensions: the MJPEG fallback, read frame by frame.
    const mjpegPage = await context.newPage();
    await mjpegPage.addInitScript(() => {
      delete (window as unknown as { MediaSource?: unknown }).MediaSource;
    });
    mjpegPage.on('websocket', (ws) => ws.on('framereceived', (f) => (typeof f.payload === 'string' ? textFrames.push(f.payload) : undefined)));
    await mjpegPage.goto(`${server.baseUrl}/dashboard/alerts`);
    await mjpegPage.waitForSelector('.vigie-console[data-loaded=yes]', { state: 'attached', timeout: 60_000 });
    await mjpegPage.locator('[data-alert-id=g-1]').click();
    await mjpegPage.waitForFunction(() => ((document.querySelector('[data-test=mjpeg]') as HTMLImageElement | null)?.naturalWidth ?? 0) === 640, null, { timeout: 60_000 });
    await mjpegPage.locator('[data-test=live-badge].vg-live', { hasText: 'LIVE (MJPEG)' }).waitFor({ timeout: 30_000 });

    // 2. The camera freezes: after a few seconds without frames, no more LIVE badge, and the console says why.
    cam.freeze();
    await page.locator('[data-test=video-trouble]', { hasText: 'Picture frozen — camera not responding' }).waitFor({ timeout: 30_000 });
    assert.equal(await page.locator('[data-test=live-badge]').count(), 0, 'no LIVE badge over a frozen picture');
    await page.screenshot({ path: path.join(artifacts, 'alert-dashboard-camera-frozen.png') });
    await mjpegPage.locator('[data-test=video-trouble]', { hasText: 'Picture frozen — camera not responding' }).waitFor({ timeout: 30_000 });
    assert.equal(await mjpegPage.locator('[data-test=live-badge]').count(), 0, 'nor over a frozen MJPEG picture');
    for (const t of [await mjpegPage.locator('body').innerText()]) assert.doesNotMatch(t, INTERNAL, t);
    await mjpegPage.close();

    // 3. An explosion comes meanwhile: the camera does not answer, so it fails, saying so in words;
    //    the gunshot is not told the camera turned away, which it never did. (Dora watches the
    //    picture: her pointer is off the queue, which would otherwise hold the explosion back.)
    await page.locator('[data-test=video]').hover();
    server.inject('steer', { payload: alert('e-1', 'explosion', 100) });
    await page.locator('[data-alert-id=e-1] [data-test=queue-camera]').waitFor({ timeout: 90_000 });
    // The connection has failed by now: every alert using the camera, and the plan, say offline.
    await page.locator('[data-alert-id=g-1] [data-test=queue-camera]', { hasText: 'camera offline' }).waitFor({ timeout: 60_000 });
    assert.equal(await text('[data-alert-id=e-1] [data-test=queue-camera]'), 'camera offline');
    await page.locator('[data-alert-id=e-1]').click();
    await page.locator('[data-test=camera-reason]').waitFor({ timeout: 10_000 });
    assert.equal(await text('[data-test=camera-reason]'), 'camera Camera place is not responding (offline, or cut off from the network)');
    assert.equal(await page.locator('[data-test=plan-aim]').count(), 0, 'no aim drawn for a camera that never turned here');
    assert.equal(await text('[data-test=video-message]'), 'No live picture: the camera did not turn here');
    await page.screenshot({ path: path.join(artifacts, 'alert-dashboard-camera-failed-reason.png') });
    // The gunshot: offline since when, in words; the camera red on the plan, its aim grey; never "turned to".
    await page.locator('[data-alert-id=g-1]').click();
    await page.locator('[data-test=camera-offline]').waitFor({ timeout: 10_000 });
    assert.match(await text('[data-test=camera]'), /^Camera place — camera offline/);
    assert.match(await text('[data-test=camera-offline]'), /^Not responding since (\d{1,2} [A-Z][a-z]{2} )?\d{2}:\d{2}:\d{2}: no live picture or camera move until it answers again$/);
    assert.equal(await page.locator('[data-test=plan-camera-cam-place]').getAttribute('data-link'), 'offline');
    assert.equal(await text('[data-test=plan-label-c-cam-place]'), 'Camera place — offline');
    assert.equal(await page.locator('[data-test=plan-aim]').getAttribute('stroke'), '#90a4ae', 'the aim of an offline camera is greyed');
    assert.equal(await page.locator('[data-test=camera-reason]').count(), 0, 'no reason: the camera never "turned to" the explosion');
    await page.locator('[data-test=video-trouble]').waitFor({ timeout: 30_000 });
    assert.equal(await page.locator('[data-test=live-badge]').count(), 0);
    await page.screenshot({ path: path.join(artifacts, 'alert-dashboard-camera-offline.png') });

    // 4. The camera answers again: online everywhere. The explosion, which failed for want of it,
    //    now gets it by itself (more recent, of the gunshot's priority), the same alert on target
    //    with its picture LIVE; the gunshot waits for the camera in its turn.
    cam.thaw();
    await page.locator('[data-alert-id=e-1] [data-test=queue-camera]', { hasText: 'camera on target' }).waitFor({ timeout: 90_000 });
    assert.equal(await page.locator('[data-test=plan-camera-cam-place]').getAttribute('data-link'), 'online');
    await page.locator('[data-alert-id=g-1] [data-test=queue-camera]', { hasText: 'waiting for a busy camera' }).waitFor({ timeout: 30_000 });
    await page.locator('[data-alert-id=e-1]').click();
    await page.locator('[data-test=live-badge].vg-live').waitFor({ timeout: 90_000 });
    assert.equal(await page.locator('[data-test=video-trouble]').count(), 0);

    // 5. The camera's encoder dies: operators' words while the relay reconnects, then LIVE again.
    await cam.interruptStream();
    await page.waitForFunction(() => (window as unknown as { __vigieTrouble: string[] }).__vigieTrouble.includes('Picture interrupted — reconnecting…'), null, { timeout: 60_000 });
    await page.locator('[data-test=live-badge].vg-live').waitFor({ timeout: 90_000 });
    await page.screenshot({ path: path.join(artifacts, 'alert-dashboard-camera-back.png') });

    // What the page showed, and every text frame it received, holds no internal address.
    const seen = await page.evaluate(() => (window as unknown as { __vigieTrouble: string[] }).__vigieTrouble);
    for (const t of [...seen, await page.locator('body').innerText()]) assert.doesNotMatch(t, INTERNAL, t);
    assert.ok(textFrames.some((f) => f.includes('"type":"status"')), 'the relay\'s status messages were captured');
    assert.ok(textFrames.some((f) => f.includes('cam-place') && f.includes('"connection"')), 'the dashboard\'s state was captured');
    const leaks = textFrames.filter((f) => INTERNAL.test(f));
    assert.deepEqual(leaks, [], 'no internal address in what reached the browser');
  });
});
