/**
 * The console in words an operator reads, in a real browser (Debian's Chromium, real Node-RED
 * with Dashboard 2.0): confidence as "strong / fair / weak match", loudness as how far the sound
 * stood above the street, the place from the nearest named sensor with a believable error and
 * the coordinates only to copy; and the decision bar in view on a short screen, covering
 * nothing when the picture can make room. Screenshots go to test-artifacts/.
 */
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { Browser, BrowserContext, Page } from 'playwright-core';
import { consoleFlow, DashboardServer, ensureWidgetBuilt, startDashboardServer, namedSensorNode } from '../support/dashboard-server';
import { artifactsDir as artifacts, launchChromium } from '../support/browser';
import { openConsoleAs } from '../support/console-page';
import { auditBus } from '../../lib/alerts/bus';
// eslint-disable-next-line @typescript-eslint/ban-ts-comment
// @ts-ignore -- plain JS module of the widget
import { fromLocal } from '../../ui/components/plan.js';

const RUE_NORD = { lat: 45.4399, lon: 4.387 };
const PLACE_SUD = fromLocal(RUE_NORD, 60, -120) as { lat: number; lon: number };
/** The source: 30 m north-east of the Rue Nord mast. */
const SOURCE = fromLocal(RUE_NORD, 21.21, 21.21) as { lat: number; lon: number };

function alert(id: string, label: string, extra: Record<string, unknown> = {}) {
  const onset = Date.now() / 1000 - 20;
  return {
    kind: 'detection',
    id,
    sensor: 'rue-nord',
    label,
    confidence: 0.72,
    onset,
    offset: onset + 0.6,
    level: { dbfs: -14.2, dba: -23, backgroundDba: -47 },
    scores: { [label]: 0.72 },
    span: { sensor: 'rue-nord', start: 160000, frames: 9600 },
    sensorInfo: { ...RUE_NORD, heading: 90, clock: 'ntp' },
    location: { method: 'tdoa', position: { ...SOURCE, errorM: 0.3 }, sensors: ['rue-nord', 'place-sud'] },
    ...extra,
  };
}
const camera = (state: string, reason?: string) => ({ id: 'cam-place', name: 'Camera place', pan: 0.1, tilt: -0.2, zoom: 0.3, target: { bearing: 60, tilt: -4, distanceM: 95 }, state, ...(reason ? { reason } : {}) });
/** What the console writes, its no-break spaces (a number and its unit) read as spaces. */
const plain = (t: string | null) => (t ?? '').replace(/\u00a0/g, ' ').replace(/\s+/g, ' ').trim();
/** Coordinates as a position would print them: degrees with 4 or more decimals. */
const COORDS = /\d+\.\d{4,}/;

describe('alert-dashboard words and decision bar in Chromium', { timeout: 300_000 }, () => {
  let server: DashboardServer;
  let browser: Browser;
  const pages = new Map<string, Page>();
  const contexts: BrowserContext[] = [];

  before(async () => {
    ensureWidgetBuilt();
    // two named sensors: the console's landmarks
    const sensor = namedSensorNode;
    // a camera request unanswered for 5 s ends (Camera answer): no ptz-steer in this flow
    server = await startDashboardServer([...consoleFlow({ moveAnswerSeconds: 5 }), sensor('cfg-nord', 'rue-nord', 'Rue Nord mast', RUE_NORD), sensor('cfg-sud', 'place-sud', 'Place Sud mast', PLACE_SUD)], {
      nodeTypes: ['alert-dashboard', 'vigie-sensor'],
    });
    browser = await launchChromium();
  });

  afterEach(async (t) => {
    if (!(t as unknown as { passed?: boolean }).passed) {
      for (const [name, page] of pages) await page.screenshot({ path: path.join(artifacts, `alert-dashboard-words-failed-${name}.png`) }).catch(() => undefined);
    }
    for (const c of contexts.splice(0)) await c.close().catch(() => undefined);
    pages.clear();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  /** A console page (a fresh browser profile that may use the clipboard) with the operator's name entered. */
  async function openConsole(name: string, viewport: { width: number; height: number }, prepare?: (page: Page) => Promise<void>): Promise<Page> {
    const context = await browser.newContext({ viewport });
    contexts.push(context);
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.baseUrl });
    const page = await context.newPage();
    pages.set(name, page);
    return openConsoleAs(page, server.baseUrl, name, prepare);
  }
  async function open(page: Page, alertId: string) {
    await page.mouse.move(5, 5);
    await page.locator(`[data-alert-id="${alertId}"]`).click();
    await page.mouse.move(5, 5);
    await page.waitForSelector(`[data-test=detail][data-shown-alert="${alertId}"][data-settled=yes]`, { timeout: 30_000 });
  }
  const text = async (page: Page, selector: string) => plain(await page.locator(selector).first().textContent());
  const title = (page: Page, selector: string) => page.locator(selector).first().getAttribute('title');
  const box = async (page: Page, selector: string) => (await page.locator(selector).first().boundingBox())!;
  /** True when the element's centre is on screen and nothing covers it there. */
  const reachable = (page: Page, selector: string) =>
    page.evaluate((sel) => {
      const el = document.querySelector(sel)!;
      const b = el.getBoundingClientRect();
      const x = b.left + b.width / 2;
      const y = b.top + b.height / 2;
      if (y < 0 || y > window.innerHeight || x < 0 || x > window.innerWidth) return false;
      const hit = document.elementFromPoint(x, y);
      return !!hit && (hit === el || el.contains(hit));
    }, selector);

  it('says confidence, loudness and place in words, the figures in tooltips, and copies the coordinates', async () => {
    const alice = await openConsole('Alice', { width: 1366, height: 768 });
    server.inject('dash', { payload: alert('w-gun', 'gunshot', { camera: camera('on-target') }) });
    await open(alice, 'w-gun');

    assert.equal(await text(alice, '[data-test=confidence]'), 'fair match (72 %)');
    assert.match(plain(await title(alice, '[data-test=confidence]')), /^The classifier's own score for gunshot: 72 %\. .*not the chance that it happened/);
    assert.equal(await text(alice, '[data-test=loudness]'), 'loud — 24 dB above the street');
    assert.match(await title(alice, '[data-test=loudness]') ?? '', /^Loudest moment −23\.0 dB\(A\) re full scale at the microphone; the street's usual level there −47\.0 dB\(A\)/);
    // the place from the nearest named sensor, its error never better than 5 m, no coordinates in sight
    assert.equal(await text(alice, '[data-test=place-words]'), '30 m north-east of Rue Nord mast (±5 m)');
    const coords = `${SOURCE.lat.toFixed(5)}, ${SOURCE.lon.toFixed(5)}`;
    assert.equal(await title(alice, '[data-test=place-words]'), `${coords} (latitude, longitude), ±5 m`);
    const facts = plain(await alice.locator('.vigie-facts').innerText());
    assert.doesNotMatch(facts, COORDS, `no coordinates shown: ${facts}`);
    assert.doesNotMatch(facts, /±0/, 'no sub-metre error');
    // the queue line says the same, in short
    const row = plain(await alice.locator('[data-alert-id="w-gun"] .vg-meta').innerText());
    assert.match(row, /^fair match \(72 %\) · loud · Rue Nord mast, Place Sud mast · 30 m north-east of Rue Nord mast \(±5 m\)/);
    assert.doesNotMatch(row, COORDS);
    // the plan's circle is as believable as the words: 5 m, not 0.3 m
    const circleM = await alice.evaluate(() => {
      const r = Number(document.querySelector('[data-test=uncertainty]')!.getAttribute('r'));
      const bar = document.querySelector('[data-test=plan-scale-bar]')!;
      const barM = Number(bar.parentElement!.querySelector('text')!.textContent!.replace(/ m$/, ''));
      return r / (Number(bar.getAttribute('x2')) / barM);
    });
    assert.ok(Math.abs(circleM - 5) < 0.01, `uncertainty circle ${circleM} m`);

    // copy coordinates: on the clipboard, and the button says so
    await alice.locator('[data-test=copy-coords]').click();
    await alice.locator('[data-test=copy-coords]', { hasText: 'coordinates copied' }).waitFor({ timeout: 10_000 });
    assert.equal(await alice.evaluate(() => navigator.clipboard.readText()), coords);
    await alice.screenshot({ path: path.join(artifacts, 'alert-dashboard-words-1366x768.png') });

    // an alert without the street's level says so, and makes none up
    server.inject('dash', { payload: alert('w-old', 'glass_break', { confidence: 0.95, level: { dbfs: -20, dba: -38 } }) });
    await open(alice, 'w-old');
    assert.equal(await text(alice, '[data-test=loudness]'), 'not known: this alert gives no street level to compare with');
    assert.match(await title(alice, '[data-test=loudness]') ?? '', /^Loudest moment −38\.0 dB\(A\) re full scale/);
    assert.equal(await text(alice, '[data-test=confidence]'), 'strong match (95 %)');
    assert.match(plain(await alice.locator('[data-alert-id="w-old"] .vg-meta').innerText()), /^strong match \(95 %\) · loudness not known · /);
  });

  it('an alert from a sensor whose clock is off shows when it arrived, with a badge and a note saying so; a good clock shows its onset', async () => {
    const alice = await openConsole('Alice', { width: 1366, height: 768 });
    // A gateway that booted without a battery clock: it stamps 1970 until NTP syncs.
    server.inject('dash', { payload: alert('w-1970', 'scream', { onset: 12.5, offset: 13 }) });
    server.inject('dash', { payload: alert('w-good', 'gunshot') });
    await alice.waitForSelector('[data-alert-id="w-good"]', { timeout: 30_000 });
    await open(alice, 'w-1970');
    const rowTime = plain(await alice.locator('[data-alert-id="w-1970"] .vg-when').innerText());
    assert.match(rowTime, /^just now \d\d:\d\d:\d\d$/, `the arrival, today: ${rowTime}`);
    assert.equal(await text(alice, '[data-alert-id="w-1970"] [data-test=queue-sensor-clock]'), 'sensor clock off: time of arrival');
    assert.equal(
      await text(alice, '[data-test=sensor-clock-note]'),
      "Time of arrival: the sensor's clock is behind (it said " + (await alice.evaluate(() => { const d = new Date(12500); return `${d.getDate()} Jan ${d.getFullYear()} ${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}:${String(d.getSeconds()).padStart(2, '0')}`; })) + '). Ask City IT to check its time setting.',
    );
    assert.doesNotMatch(await text(alice, '[data-test=detail-time]'), /1970/);
    // Newest first: the 1970 alert is placed by its arrival, after the good alert's sound 20 s before.
    const order = await alice.locator('[data-test=queue-item]').evaluateAll((els) => els.map((e) => e.getAttribute('data-alert-id')));
    assert.deepEqual(order.slice(0, 2), ['w-1970', 'w-good']);
    await open(alice, 'w-good');
    assert.equal(await alice.locator('[data-test=sensor-clock-note]').count(), 0);
    assert.equal(await alice.locator('[data-alert-id="w-good"] [data-test=queue-sensor-clock]').count(), 0);
  });

  it('on a plain-HTTP page, where the clipboard API is withheld, "copy coordinates" still copies them', async () => {
    // a control room's LAN over HTTP is no secure context: the console uses the older copy command there
    const bob = await openConsole('Bob', { width: 1366, height: 768 }, async (page) => {
      await page.addInitScript(() => Object.defineProperty(window, 'isSecureContext', { value: false }));
    });
    server.inject('dash', { payload: alert('w-http', 'scream') });
    await open(bob, 'w-http');
    await bob.locator('[data-test=copy-coords]').click();
    await bob.locator('[data-test=copy-coords]', { hasText: 'coordinates copied' }).waitFor({ timeout: 10_000 });
    assert.equal(await bob.evaluate(() => navigator.clipboard.readText()), `${SOURCE.lat.toFixed(5)}, ${SOURCE.lon.toFixed(5)}`);
  });

  it('on a short screen with a long camera reason, the decision bar stays in view; it covers the picture only when the picture cannot make room', async () => {
    // ptz-steer's words for two cameras that failed (lib/camera/steer.ts failureWords)
    const reason = 'camera Camera place is not responding (offline, or cut off from the network); camera Camera rue Nord refused Vigie\'s login (its user or password has changed)';
    const carol = await openConsole('Carol', { width: 1280, height: 720 });
    server.inject('dash', { payload: alert('w-long', 'explosion', { camera: camera('failed', reason) }) });
    await open(carol, 'w-long');
    await carol.locator('[data-test=camera-reason]').waitFor();
    // the reason pushes the picture down, yet every decision is on screen, on one row, and nothing covers it
    for (const b of ['confirm', 'dismiss', 'escalate', 'note']) assert.ok(await reachable(carol, `[data-test=${b}]`), `${b} in view and not covered at 1280x720`);
    const rows = await Promise.all(['confirm', 'dismiss', 'escalate'].map((b) => box(carol, `[data-test=${b}]`)));
    assert.ok(rows.every((b) => Math.abs(b.y - rows[0].y) < 2), `one row: ${JSON.stringify(rows)}`);
    // the picture made room: the bar covers none of it (nor the facts above it)
    await carol.waitForFunction(() => {
      const v = document.querySelector('[data-test=video]')!.getBoundingClientRect();
      const a = document.querySelector('[data-test=actions]')!.getBoundingClientRect();
      return v.bottom <= a.top + 0.5;
    }, null, { timeout: 10_000 });
    assert.equal(await carol.locator('[data-test=actions]').getAttribute('data-stuck'), 'no', 'the bar sits below the picture, covering nothing');
    const reasonBox = await box(carol, '[data-test=camera-reason]');
    assert.ok(reasonBox.y + reasonBox.height <= (await box(carol, '[data-test=video]')).y, 'the camera reason is above the picture, in full');
    await carol.screenshot({ path: path.join(artifacts, 'alert-dashboard-words-long-reason-1280x720.png') });

    // a decision: its history line is under the bar, and scrolling shows it uncovered
    await carol.fill('[data-test=note]', 'fire brigade called');
    await carol.locator('[data-test=escalate]').click();
    await carol.locator('[data-test=history]').waitFor({ timeout: 30_000 });
    await carol.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
    await carol.waitForFunction(() => window.scrollY > 0 && window.scrollY + window.innerHeight >= document.documentElement.scrollHeight - 1, null, { timeout: 10_000 });
    assert.ok(await reachable(carol, '[data-test=history] li'), 'scrolled down, the history is not under the bar');

    // shorter still: the picture cannot shrink that far, so the bar stays at the window's edge over its lower part
    await carol.setViewportSize({ width: 1280, height: 560 });
    await carol.evaluate(() => window.scrollTo(0, 0));
    await carol.waitForSelector('[data-test=actions][data-stuck=yes]', { timeout: 10_000 });
    for (const b of ['confirm', 'dismiss', 'escalate']) assert.ok(await reachable(carol, `[data-test=${b}]`), `${b} in view at 1280x560`);
    const bar = await box(carol, '[data-test=actions]');
    assert.ok(bar.y + bar.height <= 561 && bar.y >= 560 - bar.height - 1, `the bar at the window's bottom edge: ${JSON.stringify(bar)}`);
    await carol.screenshot({ path: path.join(artifacts, 'alert-dashboard-words-short-1280x560.png') });
    // back to 1280x720: room again, the bar covers nothing
    await carol.setViewportSize({ width: 1280, height: 720 });
    await carol.waitForSelector('[data-test=actions][data-stuck=no]', { timeout: 10_000 });
  });
  it('a waiting alert names the alert its camera is busy with by its time, when the queue lists it; a holder it does not list stays named by kind', async () => {
    const dan = await openConsole('Dan', { width: 1366, height: 768 });
    const at = (ageS: number) => ({ onset: Date.now() / 1000 - ageS, offset: Date.now() / 1000 - ageS + 0.6 });
    server.inject('dash', { payload: alert('b-scream', 'scream', { ...at(95), camera: camera('on-target') }) });
    const busy = (kind: string) => `camera Camera place is busy with ${kind}; waiting up to 5 min for it to be free`;
    // ptz-steer names the holder by kind, and its id in heldFor
    server.inject('dash', { payload: alert('b-wait', 'gunshot', { ...at(30), camera: { ...camera('waiting', busy('a scream alert')), heldFor: 'b-scream' } }) });
    // an older ptz-steer's copy, without heldFor: the camera's latest holder in the queue
    server.inject('dash', { payload: alert('b-old', 'crash', { ...at(25), camera: camera('waiting', busy('a scream alert')) }) });
    // a holder not in this console's queue (another kind than any listed on the camera)
    server.inject('dash', { payload: alert('b-far', 'glass_break', { ...at(20), camera: { ...camera('waiting', busy('an explosion alert')), heldFor: 'not-listed' } }) });
    await dan.locator('[data-alert-id="b-far"]').waitFor({ timeout: 30_000 });
    const screamTime = /(\d{2}:\d{2}:\d{2})$/.exec(await text(dan, '[data-alert-id="b-scream"] .vg-when'))![1];
    await open(dan, 'b-wait');
    assert.equal(await text(dan, '[data-test=camera-reason]'), busy(`the scream alert of ${screamTime}`));
    assert.equal(await title(dan, '[data-test=camera-reason]'), busy('a scream alert'), 'the tooltip keeps ptz-steer\'s words');
    await open(dan, 'b-old');
    assert.equal(await text(dan, '[data-test=camera-reason]'), busy(`the scream alert of ${screamTime}`));
    await open(dan, 'b-far');
    assert.equal(await text(dan, '[data-test=camera-reason]'), busy('an explosion alert'));
    await dan.screenshot({ path: path.join(artifacts, 'alert-dashboard-words-busy-holder.png') });
  });

  it('a camera request that nothing answers stops reading "Move requested" and says so; so does one ptz-steer refuses, with its reason', async () => {
    const eve = await openConsole('Eve', { width: 1366, height: 768 });
    const waiting = camera('waiting', 'camera Camera place is busy with a gunshot alert; waiting up to 5 min for it to be free');
    server.inject('dash', { payload: alert('r-wait', 'crash', { camera: waiting }) });
    await eve.locator('[data-alert-id="r-wait"]').waitFor({ timeout: 30_000 });
    await open(eve, 'r-wait');
    await eve.locator('[data-test=move]', { hasText: 'Take camera' }).click();
    await eve.locator('[data-test=move]', { hasText: 'Move requested' }).waitFor({ timeout: 30_000 });
    // no ptz-steer answers (Camera answer: 5 s here): the button comes back, and the console says why
    await eve.locator('[data-test=move]', { hasText: 'Take camera' }).waitFor({ timeout: 30_000 });
    assert.match(await text(eve, '[data-test=move-not-made]'), /^No answer from ptz-steer to Eve's camera request of \d{2}:\d{2}:\d{2}: nothing shows that a camera turned\. Try again/);
    assert.equal(await eve.locator('[data-test=move-not-made]').getAttribute('role'), 'status');
    await eve.screenshot({ path: path.join(artifacts, 'alert-dashboard-words-move-no-answer.png') });
    // asked again, and refused by a ptz-steer of this Node-RED (its audit entry): at once, with its words
    await eve.waitForSelector('[data-test=detail][data-settled=yes]', { timeout: 30_000 });
    await eve.locator('[data-test=move]', { hasText: 'Take camera' }).click();
    await eve.locator('[data-test=move]', { hasText: 'Move requested' }).waitFor({ timeout: 30_000 });
    assert.equal(await eve.locator('[data-test=move-not-made]').count(), 0, 'a new request clears the last one\'s end');
    auditBus.publish({ type: 'camera-move', actor: 'Eve', alertId: 'r-wait', details: { event: 'request-refused', reason: 'no camera can look at it now' } });
    await eve.locator('[data-test=move-not-made]').filter({ hasText: 'refused' }).waitFor({ timeout: 30_000 });
    assert.match(await text(eve, '[data-test=move-not-made]'), /^ptz-steer refused Eve's camera request of \d{2}:\d{2}:\d{2}: no camera can look at it now\.$/);
    assert.equal((await eve.locator('[data-test=move]').textContent())?.trim(), 'Take camera');
    // the camera's next state is the news: the words go
    server.inject('dash', { payload: alert('r-wait', 'crash', { camera: camera('on-target') }) });
    await eve.locator('[data-test=move-not-made]').waitFor({ state: 'detached', timeout: 30_000 });
  });
});
