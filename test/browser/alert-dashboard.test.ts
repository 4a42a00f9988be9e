/**
 * The operators' console in a real browser: Debian's Chromium driven by playwright-core,
 * against a real embedded Node-RED with Dashboard 2.0 and this package installed in its user
 * directory. Screenshots go to test-artifacts/ (git-ignored) for a human to look at.
 */
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium, BrowserContext, Page } from 'playwright-core';
import { listAuditFiles, verifyAuditFiles } from '../../lib/alerts/audit';
import { consoleFlow, DashboardServer, ensureWidgetBuilt, startDashboardServer } from '../support/dashboard-server';
import { artifactsDir as artifacts, CHROMIUM, CHROMIUM_ARGS, launchChromium } from '../support/browser';
import { consoleDetection } from '../support/console-page';
import { HeldSocket, holdableSocket } from '../support/held-socket';
import { waitFor } from '../support/wait';

const now = () => Date.now() / 1000;

/** An alert's detection, `ageS` seconds old. */
const alert = (id: string, label: string, ageS: number, extra: Record<string, unknown> = {}) => consoleDetection(id, label, now() - ageS, extra);

const located = (bearing: number) => ({
  method: 'bearings',
  bearing,
  bearingStd: 4,
  position: { lat: 45.4402, lon: 4.3884, errorM: 12 },
  sensors: ['rue-nord', 'place-sud'],
});

const camera = (state: string) => ({ id: 'cam-place', name: 'Camera place', pan: 0.1, tilt: -0.2, zoom: 0.3, target: { bearing: 60, tilt: -4, distanceM: 95 }, state });

describe('alert-dashboard in Chromium', { timeout: 420_000 }, () => {
  let server: DashboardServer;
  let context: BrowserContext;
  let profileDir: string;
  const wsFrames: string[] = [];
  const pages = new Map<string, Page>();

  before(async () => {
    assert.ok(fs.existsSync(CHROMIUM), 'Debian chromium is installed at /usr/bin/chromium');
    ensureWidgetBuilt();
    fs.mkdirSync(artifacts, { recursive: true });
    server = await startDashboardServer(consoleFlow());
    profileDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-chromium-'));
    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: [...CHROMIUM_ARGS, '--headless', '--disable-quic', '--disable-sync', '--autoplay-policy=no-user-gesture-required'],
      viewport: { width: 1920, height: 1080 },
    });
    // count the chime's oscillators (a synthetic beep is the only sound the console may make)
    await context.addInitScript(() => {
      const w = window as unknown as { __vigieOscillators: number; AudioContext: typeof AudioContext };
      w.__vigieOscillators = 0;
      const create = w.AudioContext.prototype.createOscillator;
      w.AudioContext.prototype.createOscillator = function (this: AudioContext) {
        w.__vigieOscillators++;
        return create.call(this);
      };
    });
  });

  afterEach(async (t) => {
    // a failed test leaves what each operator saw, to see why
    if (!(t as unknown as { passed?: boolean }).passed) {
      for (const [name, page] of pages) {
        await page.screenshot({ path: path.join(artifacts, `alert-dashboard-failed-${name}.png`) }).catch(() => undefined);
      }
    }
  });

  after(async () => {
    await context?.close();
    await server?.stop();
    if (profileDir) fs.rmSync(profileDir, { recursive: true, force: true });
  });

  /** A console page with the operator's name entered; `key` names the page in failure screenshots (default: the name). */
  async function openConsole(name: string, opts: { viewport?: { width: number; height: number }; key?: string; prepare?: (page: Page) => Promise<void> } = {}): Promise<Page> {
    const page = await context.newPage();
    pages.set(opts.key ?? name, page);
    if (opts.viewport) await page.setViewportSize(opts.viewport);
    await opts.prepare?.(page);
    page.on('websocket', (ws) => ws.on('framereceived', (f) => wsFrames.push(typeof f.payload === 'string' ? f.payload : f.payload.toString('latin1'))));
    page.on('pageerror', (e) => console.error(`[${name}] page error: ${e.message}`));
    await page.goto(`${server.baseUrl}/dashboard/alerts`);
    try {
      await page.waitForSelector('[data-test=queue]', { timeout: 60_000 });
      // the queue from Node-RED has arrived (late-joiner state), so later alerts count as new
      await page.waitForSelector('.vigie-console[data-loaded=yes]', { state: 'attached', timeout: 60_000 });
    } catch (err) {
      await page.screenshot({ path: path.join(artifacts, `alert-dashboard-failed-${name}.png`) });
      throw err;
    }
    await page.fill('[data-test=operator]', name);
    await page.locator('[data-test=operator]').blur();
    return page;
  }

  /** The console holds back decision and camera clicks for 1 s after the alert shown changes: wait until it is settled on this one. */
  const settledOn = (page: Page, alertId: string) => page.waitForSelector(`[data-test=detail][data-shown-alert="${alertId}"][data-settled=yes]`, { timeout: 30_000 });
  const outputsOf = (kind: string, alertId: string) =>
    server.outputs.map((m) => m.payload as Record<string, unknown>).filter((p) => p?.kind === kind && p.alertId === alertId);
  /** A clock time as the console writes it: 24-hour, with the date when not today (just after midnight). */
  const clock = /(\d{1,2} [A-Z][a-z]{2} )?\d{2}:\d{2}:\d{2}/.source;

  const queueIds = (page: Page) => page.$$eval('[data-test=queue-item]', (els) => els.map((e) => e.getAttribute('data-alert-id')));
  /**
   * For a screenshot: waits until the live picture shown has a frame on screen. The video (MSE)
   * hands a frame to the compositor (requestVideoFrameCallback), or the MJPEG image's current
   * frame is decoded; then two animation frames, so that a paint followed.
   */
  const picturePainted = (page: Page) =>
    page.evaluate(async () => {
      const img = document.querySelector('[data-test=mjpeg]') as HTMLImageElement | null;
      const video = document.querySelector('[data-test=live-video]') as HTMLVideoElement | null;
      const frame = img
        ? img.decode()
        : video
          ? new Promise((resolve) => video.requestVideoFrameCallback(resolve))
          : Promise.reject(new Error('no live picture on the page'));
      const noFrame = new Promise((_, reject) => setTimeout(() => reject(new Error('no frame of the live picture painted in 10 s')), 10_000));
      await Promise.race([frame, noFrame]);
      await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
    });
  /**
   * Opens an alert from the queue, the pointer coming from elsewhere on the page: while the
   * pointer is on the queue its order holds and new alerts wait above it (alert-dashboard-queue.test.ts).
   */
  async function openAlert(page: Page, alertId: string) {
    await page.mouse.move(5, 5);
    await page.locator(`[data-alert-id=${alertId}]`).click();
  }

  it('the widget file is served by Node-RED', async () => {
    const r = await fetch(`${server.baseUrl}/admin/resources/node-red-dashboard-2-vigie/alert-dashboard.umd.js`);
    assert.equal(r.status, 200);
    const js = await r.text();
    assert.match(js, /alert-dashboard/);
    assert.match(js, /AlertDashboard/);
    // and the editor gets the node's form and help from the installed package
    const nodesHtml = await (await fetch(`${server.baseUrl}/admin/nodes`, { headers: { Accept: 'text/html' } })).text();
    assert.match(nodesHtml, /data-template-name="alert-dashboard"/);
    assert.match(nodesHtml, /data-help-name="alert-dashboard"/);
    const icon = await fetch(`${server.baseUrl}/admin/icons/node-red-dashboard-2-vigie/vigie-dashboard.svg`);
    assert.equal(icon.status, 200);
    assert.match(await icon.text(), /<svg/);
  });

  it('shows injected alerts newest first, plays the camera picture, and sends a dismiss decision; a second operator sees it live', async () => {
    const alice = await openConsole('Alice');

    server.inject('dash', { payload: alert('a-old', 'crash', 300) });
    server.inject('dash', { payload: alert('a-mid', 'glass_break', 120, { location: located(73) }) });
    server.inject('dash', {
      payload: alert('a-new', 'gunshot', 20, {
        location: located(73),
        camera: camera('on-target'),
        video: server.videoFor('a-new', 'cam-place'),
      }),
    });
    await alice.waitForFunction(() => document.querySelectorAll('[data-test=queue-item]').length === 3, null, { timeout: 30_000 });
    assert.deepEqual(await queueIds(alice), ['a-new', 'a-mid', 'a-old']);
    await alice.waitForSelector('[data-test=banner]', { timeout: 30_000 });
    assert.ok((await alice.evaluate(() => (window as unknown as { __vigieOscillators: number }).__vigieOscillators)) >= 2, 'the chime sounded');
    assert.ok(Number(await alice.locator('.vigie-console').getAttribute('data-announced')) >= 3, 'each new alert was announced (banner, flash, chime)');

    // the newest alert is selected: the live picture comes from the real relay, over MSE when
    // this Chromium plays H.264, else through the MJPEG fallback
    await alice.locator('[data-alert-id=a-new]').click();
    const mse = await alice.evaluate(() => !!window.MediaSource && MediaSource.isTypeSupported('video/mp4; codecs="avc1.42C01E"'));
    if (mse) {
      await alice.waitForFunction(() => {
        const v = document.querySelector('[data-test=live-video]') as HTMLVideoElement | null;
        return !!v && v.readyState >= 2 && v.videoWidth === 640 && v.getVideoPlaybackQuality().totalVideoFrames > 3;
      }, null, { timeout: 60_000 });
      // a new camera state with the same picture (here: at a preset) keeps the stream playing
      const streamOf = () => alice.evaluate(() => (document.querySelector('[data-test=live-video]') as HTMLVideoElement).src);
      const stream = await streamOf();
      server.inject('dash', { payload: alert('a-new', 'gunshot', 20, { location: located(73), camera: camera('preset'), video: server.videoFor('a-new', 'cam-place') }) });
      await alice.waitForFunction(() => document.querySelector('[data-test=camera]')?.textContent?.includes('camera at preset'), null, { timeout: 30_000 });
      // A negative check, so a fixed wait, timed in the page: a restart would come from the same
      // update that wrote the camera's words (the picture's watcher runs before that render) and
      // drop the stream's src at once; 100 ms also covers one put off to a later tick or frame.
      await alice.evaluate(() => new Promise((resolve) => setTimeout(resolve, 100)));
      assert.equal(await streamOf(), stream, 'the live stream was not restarted');
    } else {
      console.log('this Chromium cannot play H.264 through MSE: checking the MJPEG fallback');
      await alice.waitForFunction(() => {
        const img = document.querySelector('[data-test=mjpeg]') as HTMLImageElement | null;
        return !!img && img.complete && img.naturalWidth === 640;
      }, null, { timeout: 60_000 });
    }
    await alice.waitForFunction(() => {
      const img = document.querySelector('[data-test=snapshot]') as HTMLImageElement | null;
      return !!img && img.naturalWidth > 0;
    }, null, { timeout: 30_000 });
    assert.equal(await alice.locator('[data-test=source]').count(), 1, 'the estimated source is on the plan');
    assert.equal(await alice.locator('[data-test=uncertainty]').count(), 1, 'with its uncertainty circle');
    await alice.waitForFunction(() => document.querySelectorAll('[data-test=plan] image').length > 0, null, { timeout: 30_000 });
    const t3 = Date.now();
    while (server.tileRequests.length === 0 && Date.now() - t3 < 30_000) await new Promise((r) => setTimeout(r, 50));
    assert.ok(server.tileRequests.every((t) => /^\d+\/\d+\/\d+$/.test(t)) && server.tileRequests.length > 0, 'the configured tile server is used for the map');
    assert.equal(await alice.locator('audio').count(), 0, 'no audio player anywhere');
    await picturePainted(alice);
    await alice.screenshot({ path: path.join(artifacts, 'alert-dashboard-1920x1080.png') });

    // a second operator on a tablet joins late and sees the same queue
    const bob = await openConsole('Bob', { viewport: { width: 1024, height: 768 } });
    await bob.waitForFunction(() => document.querySelectorAll('[data-test=queue-item]').length === 3, null, { timeout: 30_000 });
    assert.deepEqual(await queueIds(bob), ['a-new', 'a-mid', 'a-old']);

    // Alice dismisses the middle alert with a note
    await alice.locator('[data-alert-id=a-mid]').click();
    await alice.fill('[data-test=note]', 'bottle bank being emptied');
    await settledOn(alice, 'a-mid');
    await alice.locator('[data-test=dismiss]').click();
    const t0 = Date.now();
    while (!server.outputs.some((m) => (m.payload as Record<string, unknown>)?.kind === 'decision')) {
      if (Date.now() - t0 > 60_000) assert.fail('no decision message on the node output');
      await new Promise((r) => setTimeout(r, 50));
    }
    const decision = server.outputs.find((m) => (m.payload as Record<string, unknown>)?.kind === 'decision')!.payload as Record<string, unknown>;
    assert.deepEqual({ ...decision, time: 0 }, { kind: 'decision', alertId: 'a-mid', action: 'dismiss', operator: 'Alice', time: 0, note: 'bottle bank being emptied', revision: 0 });
    assert.ok(Math.abs((decision.time as number) - now()) < 120);

    // Bob sees it live: the dismissed alert moves behind the unhandled ones
    await bob.waitForFunction(() => document.querySelector('[data-alert-id=a-mid]')?.className.includes('vg-state-dismissed'), null, { timeout: 60_000 });
    const bobOrder = await queueIds(bob);
    assert.equal(bobOrder[bobOrder.length - 1], 'a-mid');
    await bob.locator('[data-alert-id=a-new]').click();
    await bob.waitForFunction(() => {
      const v = document.querySelector('[data-test=live-video]') as HTMLVideoElement | null;
      const img = document.querySelector('[data-test=mjpeg]') as HTMLImageElement | null;
      return (!!v && v.readyState >= 2 && v.videoWidth === 640) || (!!img && img.naturalWidth === 640);
    }, null, { timeout: 60_000 });
    await picturePainted(bob);
    await bob.screenshot({ path: path.join(artifacts, 'alert-dashboard-tablet-1024x768.png'), fullPage: true });

    // when the live (MSE) relay is not reachable, the MJPEG fallback shows the picture
    server.inject('dash', {
      payload: alert('a-fallback', 'tire_skid', 8, {
        location: located(73),
        camera: camera('on-target'),
        // the real relay's MJPEG, with a live URL nobody answers
        video: { ...server.videoFor('a-fallback', 'cam-place'), live: '/no-relay-here/live' },
      }),
    });
    await alice.locator('[data-alert-id=a-fallback]').click();
    await alice.waitForFunction(() => {
      const img = document.querySelector('[data-test=mjpeg]') as HTMLImageElement | null;
      return !!img && img.complete && img.naturalWidth === 640;
    }, null, { timeout: 60_000 });

    // a camera waiting for the operator (ptz-steer "operator confirms first") offers "move camera"
    server.inject('dash', { payload: alert('a-prop', 'scream', 5, { location: located(73), camera: camera('proposed') }) });
    await openAlert(alice, 'a-prop');
    await settledOn(alice, 'a-prop');
    await alice.locator('[data-test=move]').click();
    const t1 = Date.now();
    while (!server.outputs.some((m) => (m.payload as Record<string, unknown>)?.kind === 'move-request')) {
      if (Date.now() - t1 > 60_000) assert.fail('no move-request message on the node output');
      await new Promise((r) => setTimeout(r, 50));
    }
    const move = server.outputs.find((m) => (m.payload as Record<string, unknown>)?.kind === 'move-request')!.payload as Record<string, unknown>;
    assert.equal(move.alertId, 'a-prop');
    assert.equal(move.operator, 'Alice');

    // a camera busy with a more important alert: the console says which camera and why, and offers no move
    const reason = 'camera Camera place is busy with gunshot alert a-new; waiting up to 5 min for it to be free';
    // (it had the camera before a more important alert took it: its video links still point at that camera)
    server.inject('dash', { payload: alert('a-wait', 'glass_break', 6, { location: located(40), camera: { ...camera('waiting'), reason }, video: server.videoFor('a-wait', 'cam-place') }) });
    await alice.locator('[data-alert-id=a-wait]').click();
    await alice.locator('[data-test=camera-reason]').waitFor({ timeout: 30_000 });
    assert.equal(await alice.locator('[data-test=camera]').evaluate((e) => e.firstChild?.textContent?.trim()), 'Camera place — waiting for a busy camera');
    // the other alert is named by its time, as in the queue (its id stays in the tooltip)
    assert.match(await alice.locator('[data-test=camera-reason]').textContent() ?? '', new RegExp(`^camera Camera place is busy with gunshot alert of ${clock}; waiting up to 5 min for it to be free$`));
    assert.equal(await alice.locator('[data-test=camera-reason]').getAttribute('title'), reason);
    assert.equal(await alice.locator('[data-alert-id=a-wait] .vg-cam-waiting').textContent(), 'waiting for a busy camera');
    assert.match(await alice.locator('[data-test=video]').textContent() ?? '', /The camera is on another alert: its picture comes when it turns here/);
    assert.equal(await alice.locator('[data-test=live-video]').isVisible(), false, 'no live picture of another place');
    assert.equal(await alice.locator('[data-test=mjpeg]').count(), 0);
    await alice.screenshot({ path: path.join(artifacts, 'alert-dashboard-waiting.png') });
    // ... and lets the operator take the busy camera
    assert.equal((await alice.locator('[data-test=move]').textContent())?.trim(), 'Take camera');
    // the camera is on a-new, which nobody decided: it is taken without a question
    await settledOn(alice, 'a-wait');
    await alice.locator('[data-test=move]').click();
    const tWait = Date.now();
    while (!server.outputs.some((m) => (m.payload as Record<string, unknown>)?.kind === 'move-request' && (m.payload as Record<string, unknown>).alertId === 'a-wait')) {
      if (Date.now() - tWait > 60_000) assert.fail('no move-request message for the waiting alert');
      await new Promise((r) => setTimeout(r, 50));
    }

    // a camera that looked, then turned to another alert and was not free again: a calm badge, the reason, no live picture, nothing to take
    const released = 'camera Camera place looked here, then turned to gunshot alert a-new; no camera was free again within 5 min';
    server.inject('dash', { payload: alert('a-rel', 'scream', 7, { location: located(50), camera: { ...camera('released'), reason: released }, video: server.videoFor('a-rel', 'cam-place') }) });
    await alice.locator('[data-alert-id=a-rel]').click();
    await alice.locator('[data-test=camera-reason]').filter({ hasText: 'looked here' }).waitFor({ timeout: 30_000 });
    assert.equal(await alice.locator('[data-test=camera]').evaluate((e) => e.firstChild?.textContent?.trim()), 'Camera place — camera moved on');
    assert.equal(await alice.locator('[data-alert-id=a-rel] .vg-cam-released').textContent(), 'camera moved on');
    assert.match(await alice.locator('[data-test=video]').textContent() ?? '', /The camera looked here and has left since: see the snapshot/);
    assert.equal(await alice.locator('[data-test=live-video]').isVisible(), false, 'no live picture of another place');
    await alice.screenshot({ path: path.join(artifacts, 'alert-dashboard-released.png') });
    // ... and lets the operator look again: the request carries the alert, which ptz-steer no longer keeps
    assert.equal((await alice.locator('[data-test=move]').textContent())?.trim(), 'Look again');
    await settledOn(alice, 'a-rel');
    await alice.locator('[data-test=move]').click();
    const tRel = Date.now();
    const lookAgain = () => server.outputs.find((m) => (m.payload as Record<string, unknown>)?.kind === 'move-request' && (m.payload as Record<string, unknown>).alertId === 'a-rel');
    while (!lookAgain()) {
      if (Date.now() - tRel > 60_000) assert.fail('no move-request message for the released alert');
      await new Promise((r) => setTimeout(r, 50));
    }
    const again = lookAgain()!.payload as { alert?: { id: string; location?: unknown; camera?: { id: string }; video?: unknown } };
    assert.equal(again.alert?.id, 'a-rel');
    assert.ok(again.alert?.location, 'with its place');
    assert.equal(again.alert?.camera?.id, 'cam-place');
    assert.equal(again.alert?.video, undefined);
    await alice.locator('[data-test=move]', { hasText: 'Move requested' }).waitFor({ timeout: 30_000 });

    // a snapshot no longer kept (past its time, or Node-RED restarted): words, not a broken image
    const links = server.videoFor('a-rel', 'cam-place');
    const gone = { ...links, snapshot: links.snapshot!.replace(/alert=[^&]*/, 'alert=never-taken') };
    server.inject('dash', { payload: alert('a-gone', 'crash', 8, { location: located(55), camera: { ...camera('released'), reason: 'Node-RED restarted: camera Camera place looked here, and may have turned since' }, video: gone }) });
    await alice.locator('[data-alert-id=a-gone]').click();
    await alice.locator('[data-test=snapshot-gone]').waitFor({ timeout: 30_000 });
    assert.match(await alice.locator('[data-test=snapshot-gone]').textContent() ?? '', /no longer kept for viewing/);
    assert.equal(await alice.locator('[data-test=snapshot]').count(), 0);
    // the kept one of another alert still shows
    await alice.locator('[data-alert-id=a-rel]').click();
    await alice.locator('[data-test=snapshot]').waitFor({ timeout: 30_000 });
    await alice.waitForFunction(() => ((document.querySelector('[data-test=snapshot]') as HTMLImageElement | null)?.naturalWidth ?? 0) > 0, undefined, { timeout: 30_000 });
    assert.equal(await alice.locator('[data-test=snapshot-gone]').count(), 0);

    // the audit log holds the alerts, the views, the decision and the alert's snapshot, and its chain is intact
    const auditDir = path.join(server.userDir, 'vigie-audit');
    const readAudit = () => listAuditFiles(auditDir).flatMap((f) => fs.readFileSync(f, 'utf8').trim().split('\n')).map((l) => JSON.parse(l));
    const t2 = Date.now();
    while (!readAudit().some((e) => e.type === 'snapshot' && e.alertId === 'a-new')) {
      if (Date.now() - t2 > 60_000) assert.fail('the snapshot of a-new was not kept with the audit log');
      await new Promise((r) => setTimeout(r, 100));
    }
    const files = listAuditFiles(auditDir);
    const entries = readAudit();
    const snap = entries.find((e) => e.type === 'snapshot' && e.alertId === 'a-new');
    const jpeg = fs.readFileSync(path.join(auditDir, snap.details.file));
    assert.deepEqual([...jpeg.subarray(0, 3)], [0xff, 0xd8, 0xff]);
    assert.ok(entries.some((e) => e.type === 'decision' && e.alertId === 'a-mid' && e.actor === 'Alice'));
    assert.ok(entries.some((e) => e.type === 'live-view' && e.alertId === 'a-new'));
    // Each view of the console's picture names the alert and the operator who watched it.
    const relayViews = entries.filter((e) => e.type === 'live-view' && e.details.event !== 'viewed-in-console');
    assert.ok(relayViews.length > 0, 'video-forward audited the views');
    assert.deepEqual(relayViews.filter((e) => !e.alertId || !/^(Alice|Bob) \(said, /.test(String(e.details.viewer))).map((e) => JSON.stringify(e)), []);
    assert.equal(entries.filter((e) => e.type === 'alert').length, 8);
    assert.equal(verifyAuditFiles(files).ok, true);

    // nothing that reached the browsers over WebSocket looks like audio
    assert.ok(wsFrames.length > 0);
    assert.ok(!wsFrames.some((f) => /"samples"|"pcm"|audio\/|"speech"/.test(f)), 'no audio in dashboard traffic');
  });

  it('a new alert never takes the view from the alert an operator has open: the note stays with its alert, and the decision goes to the alert shown', async () => {
    const alice = await openConsole('Alice', { key: 'Alice-selection' });
    server.inject('dash', { payload: alert('n-boom', 'explosion', 900, { location: located(73), camera: camera('on-target'), video: server.videoFor('n-boom', 'cam-place') }) });
    server.inject('dash', { payload: alert('n-glass', 'glass_break', 400, { location: located(60) }) });
    await alice.locator('[data-alert-id=n-boom]').waitFor({ timeout: 30_000 });
    await alice.locator('[data-alert-id=n-glass]').waitFor({ timeout: 30_000 });
    // Alice opens the oldest alert, watches its picture and types her note
    await alice.locator('[data-alert-id=n-boom]').click();
    const picture = () =>
      alice.evaluate(() => {
        const v = document.querySelector('[data-test=live-video]') as HTMLVideoElement | null;
        const img = document.querySelector('[data-test=mjpeg]') as HTMLImageElement | null;
        return (v && v.readyState >= 2 && v.src) || (img && img.naturalWidth > 0 && img.src) || '';
      });
    await alice.waitForFunction(() => {
      const v = document.querySelector('[data-test=live-video]') as HTMLVideoElement | null;
      const img = document.querySelector('[data-test=mjpeg]') as HTMLImageElement | null;
      return (!!v && v.readyState >= 2) || (!!img && img.naturalWidth > 0);
    }, null, { timeout: 60_000 });
    const watched = await picture();
    // she clicks into the note field to type (her pointer leaves the queue, which then takes new alerts in)
    await alice.locator('[data-test=note]').click();
    await alice.fill('[data-test=note]', 'Bottle bank, false alarm');
    await settledOn(alice, 'n-boom');

    // a new alert arrives: banner, flash and queue, but the view stays on what Alice has open
    const announced = Number(await alice.locator('.vigie-console').getAttribute('data-announced'));
    server.inject('dash', { payload: alert('n-gun', 'gunshot', 1, { location: located(80) }) });
    await alice.locator('[data-alert-id=n-gun]').waitFor({ timeout: 30_000 });
    await alice.waitForFunction((n) => Number(document.querySelector('.vigie-console')?.getAttribute('data-announced')) > n, announced, { timeout: 30_000 });
    // (counted with the alerts of the moment before it, a burst: "3 new alerts — latest: Gunshot …")
    assert.match(await alice.locator('[data-test=banner]').textContent() ?? '', /(New alert|\d+ new alerts — latest): Gunshot/);
    assert.equal(await alice.locator('[data-test=detail]').getAttribute('data-shown-alert'), 'n-boom', 'the selection is unchanged');
    assert.equal(await alice.inputValue('[data-test=note]'), 'Bottle bank, false alarm', 'the note is still there, on its alert');
    assert.equal(await picture(), watched, 'the picture watched is still playing');
    assert.equal(await alice.locator('[data-test=detail]').getAttribute('data-settled'), 'yes', 'a new alert elsewhere does not hold back a click');
    await alice.screenshot({ path: path.join(artifacts, 'alert-dashboard-new-alert-keeps-view-1920x1080.png') });

    // her click dismisses the alert she was looking at, with her note; the new one is untouched
    await alice.locator('[data-test=dismiss]').click();
    await waitFor(() => outputsOf('decision', 'n-boom').length > 0, 30_000, 'the decision on n-boom');
    assert.deepEqual({ ...outputsOf('decision', 'n-boom')[0], time: 0 }, { kind: 'decision', alertId: 'n-boom', action: 'dismiss', operator: 'Alice', time: 0, note: 'Bottle bank, false alarm', revision: 0 });
    await alice.waitForFunction(() => document.querySelector('[data-test=detail-state]')?.textContent === 'dismissed', null, { timeout: 30_000 });
    assert.equal(outputsOf('decision', 'n-gun').length, 0);
    assert.match(await alice.locator('[data-alert-id=n-gun]').getAttribute('class') ?? '', /vg-state-new/);
    assert.equal(await alice.locator('[data-test=detail]').getAttribute('data-shown-alert'), 'n-boom', 'still the alert she decided');
    assert.equal(await alice.inputValue('[data-test=note]'), '', 'the note went with its decision');

    // each alert keeps the note typed for it
    await alice.locator('[data-alert-id=n-glass]').click();
    assert.equal(await alice.inputValue('[data-test=note]'), '');
    await alice.fill('[data-test=note]', 'shop window, owner called');
    await alice.locator('[data-alert-id=n-gun]').click();
    assert.equal(await alice.inputValue('[data-test=note]'), '', 'not the glass break\'s note');
    await alice.locator('[data-alert-id=n-glass]').click();
    assert.equal(await alice.inputValue('[data-test=note]'), 'shop window, owner called');

    // a click right after the alert shown changed is held back, and says why: in the same instant
    // as the change, before the page has redrawn ...
    await settledOn(alice, 'n-glass');
    await alice.evaluate(() => {
      (document.querySelector('[data-test=queue-item][data-alert-id=n-gun]') as HTMLElement).click();
      (document.querySelector('[data-test=dismiss]') as HTMLElement).click();
    });
    await alice.locator('[data-test=error]', { hasText: 'The alert shown has just changed' }).waitFor({ timeout: 10_000 });
    // ... and a moment later, the new alert drawn
    await settledOn(alice, 'n-gun');
    const settledAtClick = await alice.evaluate(async () => {
      (document.querySelector('[data-test=queue-item][data-alert-id=n-glass]') as HTMLElement).click();
      await new Promise((r) => setTimeout(r, 50)); // a click 50 ms after the change is the case under test
      const shown = document.querySelector('[data-test=detail]')!;
      const at = `${shown.getAttribute('data-shown-alert')} ${shown.getAttribute('data-settled')}`;
      (document.querySelector('[data-test=dismiss]') as HTMLElement).click();
      return at;
    });
    assert.equal(settledAtClick, 'n-glass no');
    await alice.locator('[data-test=error]', { hasText: 'The alert shown has just changed' }).waitFor({ timeout: 10_000 });
    await alice.locator('[data-test=queue-item][data-alert-id=n-gun]').click();
    await settledOn(alice, 'n-gun');
    await alice.locator('[data-test=confirm]').click();
    await waitFor(() => outputsOf('decision', 'n-gun').length > 0, 30_000, 'the decision on n-gun');
    // actions reach Node-RED in order: had a held-back dismiss been sent, it would be there first
    assert.deepEqual(outputsOf('decision', 'n-gun').map((d) => d.action), ['confirm']);
    assert.equal(outputsOf('decision', 'n-glass').length, 0);
    pages.delete('Alice-selection');
    await alice.close();
  });

  it('two operators decide on one alert: the later decision, made on a stale view, is refused and asked; confirmed, it goes out', async () => {
    const alice = await openConsole('Alice', { key: 'Alice-conflict', viewport: { width: 1366, height: 768 } });
    // Bob's network is slow: what Node-RED sends his page can be held back, in order
    let gate!: HeldSocket;
    const bob = await openConsole('Bob', {
      key: 'Bob-conflict',
      viewport: { width: 1366, height: 768 },
      prepare: async (page) => {
        gate = await holdableSocket(page);
      },
    });
    server.inject('dash', { payload: alert('c-gun', 'gunshot', 3, { location: located(73), camera: camera('on-target'), video: server.videoFor('c-gun', 'cam-place') }) });
    for (const page of [alice, bob]) {
      await page.locator('[data-alert-id=c-gun]').click();
      await settledOn(page, 'c-gun');
    }
    // each sees the other on it
    await alice.locator('[data-test=seen-by]', { hasText: 'Alice, Bob' }).waitFor({ timeout: 30_000 });
    await bob.locator('[data-test=seen-by]', { hasText: 'Alice, Bob' }).waitFor({ timeout: 30_000 });
    gate.holding = true;
    await alice.locator('[data-test=escalate]').click();
    await waitFor(() => outputsOf('decision', 'c-gun').length === 1, 30_000, 'Alice\'s escalation');
    await waitFor(() => gate.frames.some((f) => String(f).includes('"escalate"')), 30_000, 'the escalation on its way to Bob, held');
    assert.notEqual(await bob.locator('[data-test=detail-state]').textContent(), 'escalated', 'Bob\'s view is stale');
    await bob.locator('[data-test=dismiss]').click();
    await waitFor(() => gate.frames.some((f) => String(f).includes('"conflict"')), 30_000, 'Node-RED\'s answer to Bob, held');
    gate.release();

    // Bob is asked, in words; nothing went out, the escalation stands
    await bob.locator('[data-test=ask]').waitFor({ timeout: 30_000 });
    assert.match(await bob.locator('[data-test=ask-text]').textContent() ?? '', new RegExp(`^Alice escalated at ${clock} — dismiss anyway\\?$`));
    assert.equal((await bob.locator('[data-test=ask-yes]').textContent())?.trim(), 'Dismiss anyway');
    assert.deepEqual(outputsOf('decision', 'c-gun').map((d) => `${d.operator}:${d.action}:${d.revision}`), ['Alice:escalate:0'], 'no dismiss went out, so ptz-steer keeps the camera on it');
    await bob.waitForFunction(() => document.querySelector('[data-test=detail-state]')?.textContent === 'escalated', null, { timeout: 30_000 });
    await bob.screenshot({ path: path.join(artifacts, 'alert-dashboard-conflict-1366x768.png') });
    await bob.setViewportSize({ width: 1920, height: 1080 });
    await bob.screenshot({ path: path.join(artifacts, 'alert-dashboard-conflict-1920x1080.png') });

    // The question has the focus on its button that changes nothing: a key pressed twice never overrides Alice.
    const focusedTest = () => bob.evaluate(() => document.activeElement?.getAttribute('data-test') ?? null);
    assert.equal(await focusedTest(), 'ask-no');
    // his explicit second choice sends it, on the revision he was shown (by keyboard: Shift+Tab, Enter)
    await bob.keyboard.press('Shift+Tab');
    assert.equal(await focusedTest(), 'ask-yes');
    await bob.keyboard.press('Enter');
    await waitFor(() => outputsOf('decision', 'c-gun').length === 2, 30_000, 'Bob\'s dismiss');
    assert.equal(await focusedTest(), 'dismiss', 'the focus goes back to the button the question was about');
    assert.deepEqual(outputsOf('decision', 'c-gun').map((d) => `${d.operator}:${d.action}:${d.revision}`), ['Alice:escalate:0', 'Bob:dismiss:1']);
    for (const page of [alice, bob]) await page.waitForFunction(() => document.querySelector('[data-test=detail-state]')?.textContent === 'dismissed', null, { timeout: 30_000 });
    assert.equal(await bob.locator('[data-test=ask]').count(), 0);
    for (const [key, page] of [['Alice-conflict', alice], ['Bob-conflict', bob]] as const) {
      pages.delete(key);
      await page.close();
    }
  });

  it('taking a camera from an alert another operator escalated asks first; the alert that lost it says who took it, for which alert', async () => {
    const alice = await openConsole('Alice', { key: 'Alice-take', viewport: { width: 1366, height: 768 } });
    const bob = await openConsole('Bob', { key: 'Bob-take', viewport: { width: 1366, height: 768 } });
    server.inject('dash', { payload: alert('t-gun', 'gunshot', 30, { location: located(73), camera: camera('on-target'), video: server.videoFor('t-gun', 'cam-place') }) });
    await alice.locator('[data-alert-id=t-gun]').click();
    await settledOn(alice, 't-gun');
    // On a laptop's screen the three decisions sit on one row, in view without scrolling.
    const decisions = await Promise.all(['confirm', 'dismiss', 'escalate'].map((t) => alice.locator(`[data-test=${t}]`).boundingBox()));
    assert.ok(decisions.every((b) => b && Math.abs(b.y - decisions[0]!.y) < 2 && b.y + b.height <= 768), `decision buttons at 1366x768: ${JSON.stringify(decisions)}`);
    await alice.locator('[data-test=escalate]').click();
    await waitFor(() => outputsOf('decision', 't-gun').length === 1, 30_000, 'the escalation');
    const busy = 'camera Camera place is busy with gunshot alert t-gun; waiting up to 5 min for it to be free';
    server.inject('dash', { payload: alert('t-glass', 'glass_break', 10, { location: located(40), camera: { ...camera('waiting'), reason: busy } }) });
    await bob.locator('[data-alert-id=t-glass]').click();
    await settledOn(bob, 't-glass');
    await bob.waitForFunction(() => document.querySelector('[data-alert-id=t-gun]')?.className.includes('vg-state-escalated'), null, { timeout: 30_000 });
    await bob.locator('[data-test=move]', { hasText: 'Take camera' }).click();
    await bob.locator('[data-test=ask]').waitFor({ timeout: 10_000 });
    assert.match(await bob.locator('[data-test=ask-text]').textContent() ?? '', new RegExp(`^Camera place is on the gunshot of ${clock}, escalated by Alice at ${clock}\\. Take it anyway\\? That alert loses its picture\\.$`));
    await bob.screenshot({ path: path.join(artifacts, 'alert-dashboard-take-camera-1366x768.png') });
    // "Leave it there": nothing is asked of ptz-steer
    await bob.locator('[data-test=ask-no]').click();
    await bob.locator('[data-test=ask]').waitFor({ state: 'detached', timeout: 10_000 });
    // taken knowingly
    await bob.locator('[data-test=move]').click();
    await bob.locator('[data-test=ask-yes]', { hasText: 'Take it anyway' }).click();
    await waitFor(() => outputsOf('move-request', 't-glass').length > 0, 30_000, 'the move request');
    assert.equal(outputsOf('move-request', 't-glass').length, 1, 'one request: leaving it there sent none');
    assert.equal(outputsOf('move-request', 't-glass')[0].operator, 'Bob');

    // ptz-steer's answer (its words, as test/unit/ptz-steer-logic.test.ts pins them): Alice's alert says who took its camera, for which alert
    const taken = 'camera Camera place looked here, then was taken by Bob for glass breaking alert t-glass; waiting up to 5 min for a camera to be free';
    server.inject('dash', { payload: alert('t-gun', 'gunshot', 30, { location: located(73), camera: { ...camera('waiting'), reason: taken } }) });
    server.inject('dash', { payload: alert('t-glass', 'glass_break', 10, { location: located(40), camera: camera('on-target') }) });
    await alice.locator('[data-test=camera-reason]', { hasText: 'taken by Bob' }).waitFor({ timeout: 30_000 });
    assert.match(await alice.locator('[data-test=camera-reason]').textContent() ?? '', new RegExp(`^camera Camera place looked here, then was taken by Bob for glass breaking alert of ${clock}; waiting up to 5 min for a camera to be free$`));
    assert.equal(await alice.locator('[data-test=detail]').getAttribute('data-shown-alert'), 't-gun');
    await alice.screenshot({ path: path.join(artifacts, 'alert-dashboard-camera-taken-1366x768.png') });
    for (const [key, page] of [['Alice-take', alice], ['Bob-take', bob]] as const) {
      pages.delete(key);
      await page.close();
    }
  });

  it('the alert a camera is held for is read from camera.heldFor, even when the reason names no alert', async () => {
    const alice = await openConsole('Alice', { key: 'Alice-held', viewport: { width: 1366, height: 768 } });
    const bob = await openConsole('Bob', { key: 'Bob-held', viewport: { width: 1366, height: 768 } });
    server.inject('dash', { payload: alert('h-gun', 'gunshot', 20, { location: located(73), camera: camera('on-target') }) });
    await openAlert(alice, 'h-gun');
    await settledOn(alice, 'h-gun');
    await alice.locator('[data-test=escalate]').click();
    await waitFor(() => outputsOf('decision', 'h-gun').length === 1, 30_000, 'the escalation');
    // A later alert on the same camera: without heldFor the console would take it for the holder (the latest one).
    server.inject('dash', { payload: alert('h-crash', 'crash', 15, { location: located(50), camera: camera('on-target') }) });
    // a sender's reason that names no alert: only the field says which one holds the camera
    server.inject('dash', { payload: alert('h-skid', 'tire_skid', 10, { location: located(40), camera: { ...camera('waiting'), reason: 'camera Camera place is busy; waiting up to 5 min for it to be free', heldFor: 'h-gun' } }) });
    await bob.locator('[data-alert-id=h-crash]').waitFor({ timeout: 30_000 });
    await openAlert(bob, 'h-skid');
    await settledOn(bob, 'h-skid');
    await bob.waitForFunction(() => document.querySelector('[data-alert-id=h-gun]')?.className.includes('vg-state-escalated'), null, { timeout: 30_000 });
    await bob.locator('[data-test=move]', { hasText: 'Take camera' }).click();
    await bob.locator('[data-test=ask]').waitFor({ timeout: 10_000 });
    assert.match(await bob.locator('[data-test=ask-text]').textContent() ?? '', new RegExp(`^Camera place is on the gunshot of ${clock}, escalated by Alice at ${clock}\\. Take it anyway\\?`));
    await bob.locator('[data-test=ask-no]').click();
    await bob.locator('[data-test=ask]').waitFor({ state: 'detached', timeout: 10_000 });
    assert.equal(outputsOf('move-request', 'h-skid').length, 0, 'nothing was asked of ptz-steer');
    for (const [key, page] of [['Alice-held', alice], ['Bob-held', bob]] as const) {
      pages.delete(key);
      await page.close();
    }
  });

  it('an alert with no snapshot link (video-forward\'s Snapshot unticked): the live picture plays, no snapshot box, no picture asked for; a camera that left points at no snapshot', async () => {
    const alice = await openConsole('Alice', { key: 'Alice-nosnap', viewport: { width: 1366, height: 768 } });
    const snapshotRequests: string[] = [];
    alice.on('request', (r) => {
      if (/snapshot\.jpg/.test(r.url())) snapshotRequests.push(r.url());
    });
    // what video-forward sends with Snapshot unticked: the live and MJPEG links, no snapshot
    const withoutSnapshot = (alertId: string) => {
      const { snapshot: _snapshot, ...links } = server.videoFor(alertId, 'cam-place');
      return links;
    };
    server.inject('dash', { payload: alert('n-on', 'gunshot', 12, { location: located(73), camera: camera('on-target'), video: withoutSnapshot('n-on') }) });
    await openAlert(alice, 'n-on');
    await alice.waitForFunction(() => {
      const v = document.querySelector('[data-test=live-video]') as HTMLVideoElement | null;
      const img = document.querySelector('[data-test=mjpeg]') as HTMLImageElement | null;
      return (!!v && v.readyState >= 2 && v.videoWidth === 640) || (!!img && img.naturalWidth === 640);
    }, null, { timeout: 60_000 });
    assert.equal(await alice.locator('.vigie-snapshot-box').count(), 0, 'no "Snapshot at the alert" box');
    assert.equal(await alice.locator('[data-test=snapshot]').count(), 0, 'no image');
    assert.equal(await alice.locator('[data-test=snapshot-gone]').count(), 0, 'no "no longer kept" note');
    await picturePainted(alice);
    await alice.screenshot({ path: path.join(artifacts, 'alert-dashboard-no-snapshot.png') });

    // the camera looked, then left: the words do not send the operator to a snapshot there is not
    const reason = 'camera Camera place looked here, then turned to gunshot alert n-on; no camera was free again within 5 min';
    server.inject('dash', { payload: alert('n-rel', 'scream', 10, { location: located(50), camera: { ...camera('released'), reason }, video: withoutSnapshot('n-rel') }) });
    await openAlert(alice, 'n-rel');
    await alice.locator('[data-test=camera-reason]').filter({ hasText: 'looked here' }).waitFor({ timeout: 30_000 });
    await alice.locator('[data-test=video-message]').filter({ hasText: 'The camera looked here' }).waitFor({ timeout: 30_000 });
    assert.equal((await alice.locator('[data-test=video-message]').textContent())?.trim(), 'The camera looked here and has left since');
    assert.equal(await alice.locator('.vigie-snapshot-box').count(), 0);
    await alice.screenshot({ path: path.join(artifacts, 'alert-dashboard-released-no-snapshot.png') });
    assert.deepEqual(snapshotRequests, [], 'the page asked for no snapshot');
    pages.delete('Alice-nosnap');
    await alice.close();
  });

  it('asks for the operator\'s name when the console first loads, without hiding the alerts; what was opened before is recorded under it', async () => {
    // a browser that has never been used at this console
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
      pages.set('nameless', page);
      await page.goto(`${server.baseUrl}/dashboard/alerts`);
      await page.waitForSelector('.vigie-console[data-loaded=yes]', { state: 'attached', timeout: 60_000 });
      server.inject('dash', { payload: alert('m-new', 'scream', 2, { location: located(30) }) });
      await page.locator('[data-alert-id=m-new]').waitFor({ timeout: 30_000 });
      const field = page.locator('[data-test=operator-field]');
      assert.match(await field.getAttribute('class') ?? '', /vg-missing/, 'highlighted while empty');
      assert.match(await page.locator('[data-test=name-hint]').textContent() ?? '', /Enter your name/);
      const fieldBox = (await field.boundingBox())!;
      const queueBox = (await page.locator('[data-test=queue]').boundingBox())!;
      assert.ok(fieldBox.y + fieldBox.height <= queueBox.y, 'the field is above the queue');
      assert.ok(await page.locator('[data-alert-id=m-new]').isVisible(), 'the alerts stay in view');
      await page.locator('[data-alert-id=m-new]').click();
      await page.screenshot({ path: path.join(artifacts, 'alert-dashboard-name-1366x768.png') });
      await page.setViewportSize({ width: 1920, height: 1080 });
      await page.screenshot({ path: path.join(artifacts, 'alert-dashboard-name-1920x1080.png') });
      assert.equal(await page.locator('[data-alert-id=m-new] .vg-badge.vg-new').count(), 1, 'without a name, opening it marks nothing yet');
      await page.fill('[data-test=operator]', 'Dana');
      await page.locator('[data-test=operator]').blur();
      await page.waitForFunction(() => !document.querySelector('[data-test=operator-field]')?.classList.contains('vg-missing'), null, { timeout: 10_000 });
      // the alert she opened is now seen, by her
      await page.locator('[data-test=detail]', { hasText: 'Dana' }).waitFor({ timeout: 30_000 });
      assert.match(await page.locator('[data-alert-id=m-new]').getAttribute('class') ?? '', /vg-state-seen/);
      // remembered by this browser
      await page.reload();
      await page.waitForSelector('.vigie-console[data-loaded=yes]', { state: 'attached', timeout: 60_000 });
      assert.equal(await page.inputValue('[data-test=operator]'), 'Dana');
      assert.doesNotMatch(await page.locator('[data-test=operator-field]').getAttribute('class') ?? '', /vg-missing/);
      pages.delete('nameless');
    } finally {
      await browser.close();
    }
  });

  it('under the browser\'s usual autoplay rule, says from the start that the chime is silent until the operator clicks, then sounds it', async () => {
    // A browser without the test's autoplay override: sound needs a click or key press first.
    // Playwright's evaluate, waitFor* and exposed-function replies count as a user gesture, so
    // until the click the page is only watched from inside: a MutationObserver that reports on
    // the console, which the test only listens to.
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      pages.set('quiet', page);
      const seen = new Set<string>();
      page.on('console', (m) => {
        if (m.text().startsWith('vigie-seen: ')) seen.add(m.text().slice('vigie-seen: '.length));
      });
      await page.addInitScript(() => {
        const w = window as unknown as { __vigieOscillators: number; __vigieSeen: (what: string) => void; AudioContext: typeof AudioContext };
        const reported = new Set<string>();
        w.__vigieSeen = (what: string) => {
          if (!reported.has(what)) console.log(`vigie-seen: ${what}`);
          reported.add(what);
        };
        w.__vigieOscillators = 0;
        const create = w.AudioContext.prototype.createOscillator;
        w.AudioContext.prototype.createOscillator = function (this: AudioContext) {
          w.__vigieOscillators++;
          return create.call(this);
        };
        new MutationObserver(() => {
          if (document.querySelector('.vigie-console[data-loaded=yes]')) w.__vigieSeen('loaded');
          if (document.querySelector('[data-test=enable-sound]')) w.__vigieSeen('enable-sound');
          const announced = Number(document.querySelector('.vigie-console')?.getAttribute('data-announced') ?? 0);
          if (announced) w.__vigieSeen(`announced ${announced}`);
        }).observe(document, { subtree: true, childList: true, attributes: true });
      });
      const until = async (what: string) => {
        for (const end = Date.now() + 60_000; !seen.has(what); await new Promise((r) => setTimeout(r, 100))) {
          if (Date.now() > end) throw new Error(`never saw "${what}"; saw ${[...seen].join(', ')}`);
        }
      };
      await page.goto(`${server.baseUrl}/dashboard/alerts`);
      await until('loaded');
      // said before any alert comes: the first alert's chime is not the one lost to find out
      await until('enable-sound');
      assert.ok(![...seen].some((s) => s.startsWith('announced')), `no alert announced yet: ${[...seen].join(', ')}`);
      server.inject('dash', { payload: alert('a-quiet-1', 'scream', 5) });
      await until('announced 1');
      server.inject('dash', { payload: alert('a-quiet-2', 'scream', 2) });
      await until('announced 2');
      const oscillators = () => page.evaluate(() => (window as unknown as { __vigieOscillators: number }).__vigieOscillators);
      assert.equal(await oscillators(), 0, 'no beep is queued while the browser keeps sound off');
      await page.click('[data-test=enable-sound]');
      await page.waitForSelector('[data-test=enable-sound]', { state: 'detached', timeout: 10_000 });
      assert.ok((await oscillators()) >= 2, 'the click sounds the chime once, to confirm');
      server.inject('dash', { payload: alert('a-quiet-3', 'scream', 1) });
      await page.waitForFunction(() => (window as unknown as { __vigieOscillators: number }).__vigieOscillators >= 4, null, { timeout: 30_000 });
      pages.delete('quiet');
    } finally {
      await browser.close();
    }
  });

  it('the Node-RED editor shows the node in the palette and opens its form without errors', async () => {
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${server.baseUrl}/admin/`);
    await page.waitForSelector('.red-ui-palette-node[data-palette-type="alert-dashboard"]', { state: 'attached', timeout: 90_000 });
    await page.waitForFunction(() => {
      const RED = (window as unknown as { RED?: { nodes?: { node(id: string): unknown } } }).RED;
      return !!RED?.nodes?.node('dash');
    }, null, { timeout: 60_000 });
    const valid = await page.evaluate(() => (window as unknown as { RED: { nodes: { node(id: string): { valid: boolean } } } }).RED.nodes.node('dash').valid);
    assert.equal(valid, true, 'the deployed configuration validates in the editor');
    await page.evaluate(() => {
      const RED = (window as unknown as { RED: { editor: { edit(n: unknown): void }; nodes: { node(id: string): unknown } } }).RED;
      RED.editor.edit(RED.nodes.node('dash'));
    });
    await page.waitForSelector('#node-input-auditRetentionDays', { timeout: 30_000 });
    for (const f of ['group', 'chime', 'siteLat', 'siteLon', 'tileUrl', 'alertRetentionDays', 'persist', 'auditDir', 'auditRotateMB', 'keepSnapshots', 'moveAnswerSeconds']) {
      assert.equal(await page.locator(`#node-input-${f}`).count(), 1, `form field ${f}`);
    }
    await page.fill('#node-input-siteLon', '');
    await page.locator('#node-input-siteLat').focus();
    const pairInvalid = await page.evaluate(() => {
      const RED = (window as unknown as { RED: { nodes: { getType(t: string): { defaults: Record<string, { validate(v: string, opt: unknown): unknown }> } } } }).RED;
      const d = RED.nodes.getType('alert-dashboard').defaults;
      // the empty longitude is outlined, saying why
      return d.siteLon.validate.call({}, '', {});
    });
    assert.equal(pairInvalid, 'Site origin longitude: expected a number with the latitude, or both empty', 'a latitude without a longitude is refused');
    await page.screenshot({ path: path.join(artifacts, 'alert-dashboard-editor-form.png') });
    assert.deepEqual(errors, []);
    await page.close();
  });

  it('privacy: an alert carrying samples never reaches a browser; one it shows loses its PCM and voice scores on the way', async () => {
    const carol = await openConsole('Carol');
    const from = wsFrames.length;
    // Canary values: no frame holds them unless audio got through.
    const samples = [0.1234567, 0.7654321];
    const pcm = 'UklGRiQAAABXQVZFZm10IBAAAAAB';
    const scores = { gunshot: 0.87, speech: 0.4242 };
    server.inject('dash', { payload: alert('a-audio', 'gunshot', 3, { samples, pcm, span: { sensor: 'rue-nord', start: 160000, frames: 9600, data: [0.3456789] }, scores }) });
    // Without samples and span.data the alert is shown; its PCM under other names and its speech score are not passed on.
    server.inject('dash', { payload: alert('a-voice', 'gunshot', 2, { pcm, level: { dbfs: -14.2, dba: 91, samples }, scores }) });
    await carol.locator('[data-alert-id=a-voice]').waitFor({ timeout: 30_000 });
    assert.equal(await carol.locator('[data-alert-id=a-audio]').count(), 0, 'the alert carrying samples was refused');
    const frames = wsFrames.slice(from);
    assert.ok(frames.some((f) => f.includes('a-voice')), 'this page\'s frames were captured');
    assert.ok(!frames.some((f) => f.includes('a-audio')));
    const leaks = wsFrames.filter((f) => /"samples"|"pcm"|"speech"|0\.1234567|0\.7654321|0\.3456789|0\.4242|UklGR/.test(f));
    assert.deepEqual(leaks, [], 'no audio in dashboard traffic');
  });
});
