/**
 * The operators' queue in a real browser (Debian's Chromium, real Node-RED with Dashboard 2.0):
 * its order holds still while an operator is about to click in it, alerts that come meanwhile
 * wait in a bar above it, an alert that leaves the list meanwhile keeps its line (greyed); on a
 * touch screen a tap holds it for a moment (timed on the page's fake clock, not the wall clock);
 * its times are the local 24-hour clock. Also: the dashboard as
 * shipped shows no "App is offline ready" toast. Screenshots go to test-artifacts/.
 */
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { Browser, BrowserContextOptions, Page } from 'playwright-core';
import { consoleFlow, DashboardServer, ensureWidgetBuilt, startDashboardServer } from '../support/dashboard-server';
import { artifactsDir as artifacts, launchChromium } from '../support/browser';
import { consoleDetection, openConsoleAs, screenshotPagesIfFailed, startConsoleServerAndBrowser } from '../support/console-page';

const PARIS = 'Europe/Paris';

const alert = consoleDetection;
const agoS = (s: number) => Date.now() / 1000 - s;
const camera = (state: string) => ({ id: 'cam-place', name: 'Camera place', pan: 0.1, tilt: -0.2, zoom: 0.3, target: { bearing: 60, tilt: -4, distanceM: 95 }, state });

/** An independent clock for a French control room: Intl in Node, in Paris time. */
function parisParts(sec: number): Record<string, string> {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone: PARIS, year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23', timeZoneName: 'longOffset' }).formatToParts(new Date(sec * 1000));
  return Object.fromEntries(parts.map((p) => [p.type, p.value]));
}
/** What the console should print for `sec`, seen `nowSec`: the clock time, with the date when another day. */
function parisClock(sec: number, nowSec: number): string {
  const p = parisParts(sec);
  const n = parisParts(nowSec);
  const time = `${p.hour}:${p.minute}:${p.second}`;
  if (p.year === n.year && p.month === n.month && p.day === n.day) return time;
  return `${p.day} ${p.month}${p.year === n.year ? '' : ' ' + p.year} ${time}`;
}

describe('alert-dashboard queue in Chromium: held order, times, no offline toast', { timeout: 300_000 }, () => {
  let server: DashboardServer;
  let browser: Browser;
  const pages = new Map<string, Page>();
  let ids = 0;
  /** Alert ids unique to one test: every test shares the server's queue. */
  const id = (name: string) => `${name}-${++ids}`;

  before(async () => {
    ({ server, browser } = await startConsoleServerAndBrowser());
  });

  afterEach(async (t) => {
    await screenshotPagesIfFailed(t, 'alert-dashboard-queue', pages);
    for (const page of pages.values()) await page.close().catch(() => undefined);
    pages.clear();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  /** A console page (a fresh browser profile, 1366x768 unless `options` say) with the operator's name entered. */
  async function openConsole(name: string, options: BrowserContextOptions = {}, prepare?: (page: Page) => Promise<void>): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1366, height: 768 }, ...options });
    pages.set(name, page);
    await openConsoleAs(page, server.baseUrl, name, prepare);
    await page.waitForFunction(() => !document.querySelector('[data-test=operator-field]')?.classList.contains('vg-missing'), null, { timeout: 10_000 });
    return page;
  }

  const queueIds = (page: Page) => page.$$eval('[data-test=queue-item]', (els) => els.map((e) => e.getAttribute('data-alert-id')));
  /** The queue's rows among `mine`, in the order shown (other tests' alerts left out). */
  const rowsOf = async (page: Page, mine: string[]) => (await queueIds(page)).filter((x) => mine.includes(x!));
  const held = (page: Page, yes: boolean) => page.waitForSelector(`[data-test=queue-box][data-held=${yes ? 'yes' : 'no'}]`, { state: 'attached', timeout: 10_000 });
  /** The alert of the queue row under the pointer at (x, y). */
  const rowAt = (page: Page, x: number, y: number) =>
    page.evaluate(([px, py]) => document.elementFromPoint(px, py)?.closest('[data-test=queue-item]')?.getAttribute('data-alert-id') ?? null, [x, y]);
  async function centreOf(page: Page, selector: string): Promise<{ x: number; y: number }> {
    const b = (await page.locator(selector).boundingBox())!;
    return { x: b.x + b.width / 2, y: b.y + b.height / 2 };
  }
  /** Moves the pointer onto the alert's picture area, away from the queue. */
  async function pointAway(page: Page) {
    const c = await centreOf(page, '[data-test=video]');
    await page.mouse.move(c.x, c.y);
  }
  async function injectThree(prefix: string): Promise<string[]> {
    const [a, b, c] = [id(`${prefix}-crash`), id(`${prefix}-glass`), id(`${prefix}-scream`)];
    server.inject('dash', { payload: alert(a, 'crash', agoS(300)) });
    server.inject('dash', { payload: alert(b, 'glass_break', agoS(200)) });
    server.inject('dash', { payload: alert(c, 'scream', agoS(100)) });
    return [c, b, a];
  }
  // (the console gets the three in one or two states: the first at once, the rest together a moment later)

  it('pointer over the queue: a new, more urgent alert waits in a bar, the row under the pointer stays; the pointer leaves and it is at the top', async () => {
    const alice = await openConsole('Alice');
    const mine = await injectThree('hover');
    await alice.locator(`[data-alert-id="${mine[0]}"]`).waitFor({ timeout: 30_000 });
    assert.deepEqual(await rowsOf(alice, mine), mine);

    // the operator points at the middle row, about to click it
    const target = mine[1];
    const at = await centreOf(alice, `[data-alert-id="${target}"]`);
    await alice.mouse.move(at.x, at.y);
    await held(alice, true);
    const before = await queueIds(alice);
    const rowBox = () => alice.locator(`[data-alert-id="${target}"]`).boundingBox();
    const boxBefore = await rowBox();

    const gun = id('hover-gunshot');
    server.inject('dash', { payload: alert(gun, 'gunshot', agoS(2)) });
    await alice.locator('[data-test=queue-news]', { hasText: '1 new alert — show' }).waitFor({ timeout: 30_000 });
    assert.deepEqual(await queueIds(alice), before, 'no row moved');
    assert.equal(await alice.locator(`[data-alert-id="${gun}"]`).count(), 0, 'the new alert is not slipped in under the pointer');
    assert.equal(await rowAt(alice, at.x, at.y), target, 'the pointer is still on the alert it was aimed at');
    assert.deepEqual(await rowBox(), boxBefore, 'the bar took no room from the rows: the row did not move');
    // (counting the burst it came in: the three alerts a moment before)
    assert.match(await alice.locator('[data-test=banner]').textContent() ?? '', /(New alert|\d+ new alerts — latest): Gunshot/, 'the banner still tells of it');
    await alice.screenshot({ path: path.join(artifacts, 'alert-dashboard-queue-held-1366x768.png') });

    // the click lands on the alert aimed at
    await alice.mouse.down();
    await alice.mouse.up();
    await alice.waitForSelector(`[data-test=detail][data-shown-alert="${target}"]`, { timeout: 10_000 });

    // another one comes: the bar counts both
    const skid = id('hover-skid');
    server.inject('dash', { payload: alert(skid, 'tire_skid', agoS(1)) });
    await alice.locator('[data-test=queue-news]', { hasText: '2 new alerts — show' }).waitFor({ timeout: 30_000 });
    assert.deepEqual(await queueIds(alice), before);

    // the pointer leaves the queue: the newest is at the top at once, and the bar is gone
    await pointAway(alice);
    await held(alice, false);
    assert.deepEqual(await rowsOf(alice, [skid, gun, ...mine]), [skid, gun, ...mine]);
    assert.equal((await queueIds(alice))[0], skid);
    assert.equal(await alice.locator('[data-test=queue-news]').count(), 0);
  });

  it('another operator\'s decision does not move the rows under the pointer; rows and the alert open show it live, and it moves when the pointer leaves', async () => {
    const alice = await openConsole('Alice');
    const bob = await openConsole('Bob');
    const mine = await injectThree('decided');
    await alice.locator(`[data-alert-id="${mine[0]}"]`).waitFor({ timeout: 30_000 });
    // Alice opens the oldest, and her pointer stays on it
    await alice.locator(`[data-alert-id="${mine[2]}"]`).click();
    await held(alice, true);
    const before = await queueIds(alice);

    // Bob dismisses the newest: it belongs behind the unhandled ones
    await bob.locator(`[data-alert-id="${mine[0]}"]`).click();
    await bob.waitForSelector(`[data-test=detail][data-shown-alert="${mine[0]}"][data-settled=yes]`, { timeout: 30_000 });
    await bob.locator('[data-test=dismiss]').click();
    await alice.waitForFunction((x) => document.querySelector(`[data-alert-id="${x}"]`)?.className.includes('vg-state-dismissed'), mine[0], { timeout: 30_000 });
    assert.deepEqual(await queueIds(alice), before, 'the dismissed alert keeps its place while Alice points at the queue');
    await alice.locator('[data-test=queue-reordered]').waitFor({ timeout: 10_000 });

    // the alert Alice has open follows its camera live, the order still held
    server.inject('dash', { payload: alert(mine[2], 'crash', agoS(300), { camera: camera('moving') }) });
    await alice.locator('[data-test=camera]', { hasText: 'camera moving' }).waitFor({ timeout: 30_000 });
    assert.equal(await alice.locator(`[data-alert-id="${mine[2]}"] [data-test=queue-camera]`).textContent(), 'camera moving', 'its row too');
    assert.deepEqual(await queueIds(alice), before);

    await pointAway(alice);
    await held(alice, false);
    const after = await queueIds(alice);
    assert.ok(after.indexOf(mine[0]) > after.indexOf(mine[2]), `the dismissed alert went behind the unhandled ones: ${after.join(', ')}`);
    assert.equal(await alice.locator('[data-test=queue-reordered]').count(), 0);
  });

  it('keyboard: focus in the queue holds its order; focus leaving shows the new alert. A row focused by a click does not hold it once the pointer left', async () => {
    const alice = await openConsole('Alice');
    const mine = await injectThree('keys');
    await alice.locator(`[data-alert-id="${mine[0]}"]`).waitFor({ timeout: 30_000 });
    await pointAway(alice);

    // Tab from the operator's name into the queue
    await alice.locator('[data-test=operator]').focus();
    const inQueue = () => alice.evaluate(() => !!document.activeElement?.closest('[data-test=queue-box]'));
    for (let i = 0; i < 10 && !(await inQueue()); i++) await alice.keyboard.press('Tab');
    assert.ok(await inQueue(), 'the queue is reachable by Tab');
    await held(alice, true);
    const before = await queueIds(alice);
    const gun = id('keys-gunshot');
    server.inject('dash', { payload: alert(gun, 'gunshot', agoS(2)) });
    await alice.locator('[data-test=queue-news]', { hasText: '1 new alert — show' }).waitFor({ timeout: 30_000 });
    assert.deepEqual(await queueIds(alice), before);

    // Shift+Tab out of the queue: it is in order at once
    for (let i = 0; i < 10 && (await inQueue()); i++) await alice.keyboard.press('Shift+Tab');
    assert.equal(await inQueue(), false);
    await held(alice, false);
    assert.equal((await queueIds(alice))[0], gun);

    // a click focuses its row too, but the queue is held only while the pointer is there
    await alice.locator(`[data-alert-id="${mine[1]}"]`).click();
    assert.equal(await alice.evaluate(() => document.activeElement?.getAttribute('data-alert-id')), mine[1], 'the clicked row has the focus');
    await pointAway(alice);
    await held(alice, false);
    const skid = id('keys-skid');
    server.inject('dash', { payload: alert(skid, 'tire_skid', agoS(1)) });
    await alice.locator(`[data-alert-id="${skid}"]`).waitFor({ timeout: 30_000 });
    assert.equal((await queueIds(alice))[0], skid);
  });

  it('keyboard only: the queue is one stop of Tab, the arrow keys move in it, Enter opens; a few Tabs then reach the decisions, whatever the number of alerts; Enter on Confirm keeps the focus there', async () => {
    const mine = Array.from({ length: 40 }, (_, i) => id(`kbq-${i}`));
    mine.forEach((x, i) => server.inject('dash', { payload: alert(x, 'glass_break', agoS(500 - i * 10)) }));
    const alice = await openConsole('Alice');
    await alice.locator(`[data-alert-id="${mine[39]}"]`).waitFor({ timeout: 30_000 });
    await pointAway(alice);
    const focused = () => alice.evaluate(() => document.activeElement?.getAttribute('data-alert-id') ?? document.activeElement?.getAttribute('data-test') ?? document.activeElement?.tagName ?? null);
    const inQueue = () => alice.evaluate(() => !!document.activeElement?.closest('[data-test=queue-box]'));

    // Tab from the operator's name into the queue: the row of the alert open (the newest, opened at load)
    await alice.locator('[data-test=operator]').focus();
    for (let i = 0; i < 10 && !(await inQueue()); i++) await alice.keyboard.press('Tab');
    assert.ok(await inQueue(), 'the queue is reachable by Tab');
    const open = await alice.getAttribute('[data-test=detail]', 'data-shown-alert');
    assert.equal(await focused(), open, 'Tab stops at the row of the alert open');
    await held(alice, true);
    // one stop: the next Tab leaves the queue, Shift+Tab comes back to the same row
    await alice.keyboard.press('Tab');
    assert.equal(await inQueue(), false, 'one Tab leaves the queue, not one per alert');
    await alice.keyboard.press('Shift+Tab');
    assert.equal(await focused(), open);

    // the arrow keys move through the rows, in the order shown (held meanwhile)
    const order = await queueIds(alice);
    const at = order.indexOf(open);
    await alice.keyboard.press('ArrowDown');
    await alice.keyboard.press('ArrowDown');
    assert.equal(await focused(), order[at + 2]);
    await alice.keyboard.press('ArrowUp');
    assert.equal(await focused(), order[at + 1]);
    await alice.keyboard.press('End');
    assert.equal(await focused(), order[order.length - 1]);
    await alice.keyboard.press('Home');
    assert.equal(await focused(), order[0]);
    const target = mine[20];
    for (let i = 0; i < order.length && (await focused()) !== target; i++) await alice.keyboard.press('ArrowDown');
    assert.equal(await focused(), target);
    await alice.keyboard.press('Enter');
    await alice.waitForSelector(`[data-test=detail][data-shown-alert="${target}"][data-settled=yes]`, { state: 'attached', timeout: 30_000 });
    assert.equal(await focused(), target, 'Enter opens it; the focus stays on its row');
    assert.ok((await queueIds(alice)).length >= 40);

    // from the row opened to Confirm: past the note, a few Tabs
    let tabs = 0;
    while ((await focused()) !== 'confirm' && tabs < 40) {
      await alice.keyboard.press('Tab');
      tabs++;
    }
    assert.equal(await focused(), 'confirm');
    assert.ok(tabs <= 4, `Confirm reached in ${tabs} Tabs from the row`);
    await alice.keyboard.press('Enter');
    await alice.waitForFunction((x) => document.querySelector(`[data-alert-id="${x}"]`)?.className.includes('vg-state-confirmed'), target, { timeout: 30_000 });
    assert.equal(await focused(), 'confirm', 'the focus stays on Confirm while, and after, its answer comes (not on the page)');
  });

  it('touch: a tap holds the order for QUEUE_HOLD_AFTER_PRESS_MS (the page\'s clock faked), a new alert meanwhile waits; then the queue is in order', async () => {
    // A touch screen has no hover: only the tap holds the order (a tap's pointer leaves on lifting).
    // The page runs on Playwright's fake clock, installed before it loads so that every timer and
    // Date.now are fake alike; it flows with real time while the page loads.
    const alice = await openConsole('Alice', { hasTouch: true }, (page) => page.clock.install());
    const mine = await injectThree('tap');
    await alice.locator(`[data-alert-id="${mine[0]}"]`).waitFor({ timeout: 30_000 });
    // Loaded: stop the page's time (a second ahead: pauseAt cannot go back); from here on it moves
    // only by runFor. Socket.io still delivers alerts (a WebSocket message is no timer); its ping
    // timeout is a fake timer too, so the clock is never moved near 45 s (it would reconnect).
    await alice.clock.pauseAt((await alice.evaluate(() => Date.now())) + 1000);
    await held(alice, false);

    // the operator taps the middle row: it opens, and the finger is lifted off the screen
    const target = mine[1];
    const row = alice.locator(`[data-alert-id="${target}"]`);
    await row.tap();
    await alice.waitForSelector(`[data-test=detail][data-shown-alert="${target}"]`, { timeout: 10_000 });
    await held(alice, true);
    const before = await queueIds(alice);
    const boxBefore = await row.boundingBox();

    // (a) a more urgent alert comes within the hold: it waits in the bar, the tapped row stays
    const gun = id('tap-gunshot');
    server.inject('dash', { payload: alert(gun, 'gunshot', agoS(2)) });
    await alice.locator('[data-test=queue-news]', { hasText: '1 new alert — show' }).waitFor({ timeout: 30_000 });
    assert.deepEqual(await queueIds(alice), before, 'no row moved');
    assert.equal(await alice.locator(`[data-alert-id="${gun}"]`).count(), 0, 'the new alert is not slipped in under the finger');
    assert.deepEqual(await row.boundingBox(), boxBefore, 'the tapped row did not move');

    // (c) 1400 ms after the tap: still held
    await alice.clock.runFor(1400);
    assert.equal(await alice.getAttribute('[data-test=queue-box]', 'data-held'), 'yes', 'held until QUEUE_HOLD_AFTER_PRESS_MS has passed');
    assert.deepEqual(await queueIds(alice), before);
    assert.equal(await alice.locator('[data-test=queue-news]').count(), 1);

    // (b) past 1500 ms (and the timer's 50 ms slack), nothing over the queue: it is in order
    await alice.clock.runFor(200);
    await held(alice, false);
    assert.equal((await queueIds(alice))[0], gun, 'the new alert is at the top');
    assert.deepEqual(await rowsOf(alice, [gun, ...mine]), [gun, ...mine]);
    assert.equal(await alice.locator('[data-test=queue-news]').count(), 0, 'the bar is gone');
  });

  it('"show" in the bar puts the waiting alerts in the queue at once, and the queue stays held on that order', async () => {
    const alice = await openConsole('Alice');
    const mine = await injectThree('show');
    await alice.locator(`[data-alert-id="${mine[0]}"]`).waitFor({ timeout: 30_000 });
    await alice.locator(`[data-alert-id="${mine[1]}"]`).hover();
    await held(alice, true);
    const gun = id('show-gunshot');
    server.inject('dash', { payload: alert(gun, 'gunshot', agoS(2)) });
    await alice.locator('[data-test=queue-news]').click();
    await alice.locator(`[data-alert-id="${gun}"]`).waitFor({ timeout: 10_000 });
    assert.equal((await queueIds(alice))[0], gun);
    assert.equal(await alice.locator('[data-test=queue-news]').count(), 0);
    // the pointer is still on the queue: held again, on the new order
    await held(alice, true);
    const boom = id('show-explosion');
    server.inject('dash', { payload: alert(boom, 'explosion', agoS(1)) });
    await alice.locator('[data-test=queue-news]', { hasText: '1 new alert' }).waitFor({ timeout: 30_000 });
    assert.equal((await queueIds(alice))[0], gun);
  });

  it('times are the local clock, 24-hour with seconds, whatever the browser\'s language; an alert of another day shows its date', async () => {
    // an American-English browser (the test's Chromium) in a French control room
    const alice = await openConsole('Alice', {}, async (page) => {
      const cdp = await page.context().newCDPSession(page);
      await cdp.send('Emulation.setTimezoneOverride', { timezoneId: PARIS });
      await cdp.send('Emulation.setLocaleOverride', { locale: 'en-US' });
    });
    assert.equal(await alice.evaluate(() => Intl.DateTimeFormat().resolvedOptions().timeZone), PARIS);
    // 14:04:05 UTC (15:04 or 16:04 in Paris: an afternoon, "PM" on a 12-hour clock) of the day
    // that makes it between 48 and 72 hours ago: "2 d ago" up to 60 hours, "3 d ago" beyond
    // (days are rounded), depending on the hour the test runs at
    const d = new Date();
    const todayAt = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), 14, 4, 5);
    const old = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() - (d.getTime() >= todayAt ? 2 : 3), 14, 4, 5) / 1000;
    const recent = agoS(5);
    const [oldId, recentId] = [id('times-old'), id('times-recent')];
    server.inject('dash', { payload: alert(oldId, 'crash', old) });
    server.inject('dash', { payload: alert(recentId, 'glass_break', recent) });
    await alice.locator(`[data-alert-id="${oldId}"]`).waitFor({ timeout: 30_000 });
    await alice.locator(`[data-alert-id="${recentId}"]`).waitFor({ timeout: 30_000 });
    const nowSec = Date.now() / 1000;
    const whenOf = async (x: string) => (await alice.locator(`[data-alert-id="${x}"] .vg-when`).innerText()).split('\n').map((l) => l.trim());

    const [oldAgo, oldClock] = await whenOf(oldId);
    assert.equal(oldClock, parisClock(old, nowSec));
    assert.match(oldClock, /^\d{1,2} [A-Z][a-z]{2} (1[5-6]):04:05$/, 'with its date, 24-hour');
    const ageH = (nowSec - old) / 3600;
    assert.ok(ageH >= 48 && ageH < 72, `${ageH} h ago`);
    assert.equal(oldAgo, ageH < 60 ? '2 d ago' : '3 d ago');
    const [, recentClock] = await whenOf(recentId);
    assert.equal(recentClock, parisClock(recent, nowSec));
    assert.match(recentClock, /^(\d{1,2} [A-Z][a-z]{2} )?\d{2}:\d{2}:\d{2}$/);

    // the alert open: its full date and time, the UTC offset in its tooltip
    await alice.locator(`[data-alert-id="${oldId}"]`).click();
    const p = parisParts(old);
    const detailTime = alice.locator('[data-test=detail-time]');
    assert.equal(await detailTime.textContent(), `${p.day} ${p.month} ${p.year} ${p.hour}:04:05 (${oldAgo})`);
    assert.equal(await detailTime.getAttribute('title'), `${p.day} ${p.month} ${p.year} ${p.hour}:04:05 ${p.timeZoneName.replace('GMT', 'UTC')}`);
    await alice.screenshot({ path: path.join(artifacts, 'alert-dashboard-queue-times-1366x768.png') });
  });

  it('the dashboard as shipped is not offered as an app to install, so it never says "App is offline ready"', async () => {
    // a browser that has never opened the dashboard: Dashboard 2.0 would install its service worker and say so
    const alice = await openConsole('Alice');
    const x = id('pwa');
    server.inject('dash', { payload: alert(x, 'scream', agoS(3)) });
    await alice.locator(`[data-alert-id="${x}"]`).waitFor({ timeout: 30_000 });
    assert.equal(await alice.locator('link[rel=manifest]').count(), 0, 'no web app manifest');
    assert.equal(await alice.evaluate(async () => (await navigator.serviceWorker.getRegistrations()).length), 0, 'no service worker');
    assert.equal(await alice.locator('.pwa-toast').count(), 0, 'no "App is offline ready" toast');
  });
});

describe('alert-dashboard queue in Chromium: an alert that leaves the list while the order is held', { timeout: 300_000 }, () => {
  let server: DashboardServer;
  let browser: Browser;
  /** The current test's page: screenshotted if the test fails, closed by the next one. */
  let openPage: Page | undefined;

  before(async () => {
    ensureWidgetBuilt();
    // the smallest list the node accepts: the eleventh alert pushes the oldest out
    server = await startDashboardServer(consoleFlow({ maxAlerts: 10 }));
    browser = await launchChromium();
  });

  afterEach(async (t) => {
    if (!(t as unknown as { passed?: boolean }).passed && openPage) await openPage.screenshot({ path: path.join(artifacts, 'alert-dashboard-queue-failed-removed.png') }).catch(() => undefined);
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  /**
   * Fills the list with ten alerts of one test: first `${prefix}-leaving` (a crash, `leavingAgoS`
   * seconds old), which the next alert pushes out, then one glass break `${prefix}-${age}` for
   * each age in `keptAgesS`. Opens a console as Alice (closing the previous test's) once the
   * oldest is there. Returns the page, the kept alerts' ids in the order injected, and `ids()`:
   * the queue's lines in the order shown, a removed line by the id of the alert it was.
   */
  async function fillCappedList(prefix: string, leavingAgoS: number, keptAgesS: number[]) {
    await openPage?.close();
    // All of one priority (a flow's, above any class's): the cap takes the oldest arrival among
    // them, and the previous test's alerts (lower) before any of them.
    server.inject('dash', { payload: alert(`${prefix}-leaving`, 'crash', agoS(leavingAgoS), { priority: 10 }) });
    const kept = keptAgesS.map((s) => {
      const x = `${prefix}-${s}`;
      server.inject('dash', { payload: alert(x, 'glass_break', agoS(s), { priority: 10 }) });
      return x;
    });
    const page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
    openPage = page;
    await openConsoleAs(page, server.baseUrl, 'Alice');
    // the last injected: the states that bring the others came before it
    await page.locator(`[data-alert-id="${kept[kept.length - 1]}"]`).waitFor({ state: 'attached', timeout: 30_000 });
    const ids = () => page.$$eval('[data-test=queue-item], [data-test=queue-removed]', (els) => els.map((e) => e.getAttribute('data-alert-id') ?? e.getAttribute('data-removed-id')));
    return { page, kept, ids };
  }

  it('its line keeps its place, greyed and disabled, so the row under the pointer stays; the pointer leaves and it is gone', async () => {
    // The alert received first is the one the cap removes: its line is in the middle of the queue
    // (newest first by time of the event), above the row the operator points at.
    const { page, kept, ids } = await fillCappedList('ptr', 25, [300, 250, 200, 180, 120, 90, 60, 30, 20]);
    assert.deepEqual(await ids(), ['ptr-20', 'ptr-leaving', 'ptr-30', 'ptr-60', 'ptr-90', 'ptr-120', 'ptr-180', 'ptr-200', 'ptr-250', 'ptr-300']);

    // the operator points at the row below it, about to click
    const target = page.locator('[data-alert-id="ptr-30"]');
    const boxBefore = (await target.boundingBox())!;
    const at = { x: boxBefore.x + boxBefore.width / 2, y: boxBefore.y + boxBefore.height / 2 };
    await page.mouse.move(at.x, at.y);
    await page.waitForSelector('[data-test=queue-box][data-held=yes]', { state: 'attached', timeout: 10_000 });

    const gun = 'new-gunshot';
    server.inject('dash', { payload: alert(gun, 'gunshot', agoS(2), { priority: 10 }) });
    const removed = page.locator('[data-test=queue-removed][data-removed-id="ptr-leaving"]');
    await removed.waitFor({ timeout: 30_000 });
    await page.locator('[data-test=queue-news]', { hasText: '1 new alert — show' }).waitFor({ timeout: 10_000 });
    assert.equal(await page.locator('[data-alert-id="ptr-leaving"]').count(), 0, 'no longer an alert one can open');
    assert.ok(await removed.isDisabled(), 'its line cannot be clicked');
    assert.match(await removed.textContent() ?? '', /Crash\s*removed from the list/);
    assert.deepEqual(await target.boundingBox(), boxBefore, 'the row under the pointer did not move up');
    assert.equal(await page.evaluate(([x, y]) => document.elementFromPoint(x, y)?.closest('[data-test=queue-item]')?.getAttribute('data-alert-id') ?? null, [at.x, at.y]), 'ptr-30');
    await page.screenshot({ path: path.join(artifacts, 'alert-dashboard-queue-removed-1366x768.png') });

    // the click lands on the alert aimed at
    await page.mouse.down();
    await page.mouse.up();
    await page.waitForSelector('[data-test=detail][data-shown-alert="ptr-30"]', { timeout: 10_000 });

    // the pointer leaves the queue: the removed line is gone, the new alert at the top
    const video = (await page.locator('[data-test=video]').boundingBox())!;
    await page.mouse.move(video.x + video.width / 2, video.y + video.height / 2);
    await page.waitForSelector('[data-test=queue-box][data-held=no]', { state: 'attached', timeout: 10_000 });
    assert.equal(await page.locator('[data-test=queue-removed]').count(), 0);
    assert.deepEqual(await ids(), [gun, ...kept.slice().reverse()]);
  });

  it('by keyboard: the focused row whose alert leaves keeps the focus, so the order stays held; Enter on it opens nothing', async () => {
    // ten alerts of this test fill the list (pushing out the previous test's); the one received
    // first, in the middle of the queue, is the one the next alert pushes out
    const { page, ids } = await fillCappedList('kb', 40, [400, 350, 300, 100, 80, 70, 50, 35, 10]);
    const before = ['kb-10', 'kb-35', 'kb-leaving', 'kb-50', 'kb-70', 'kb-80', 'kb-100', 'kb-300', 'kb-350', 'kb-400'];
    assert.deepEqual(await ids(), before);
    // at start the newest opens: it must still be open after Enter on the removed row
    await page.waitForSelector('[data-test=detail][data-shown-alert="kb-10"]', { timeout: 10_000 });

    // the pointer away from the queue; Tab from the operator's name into the queue, the arrow keys to the row of the alert that will leave
    const video = (await page.locator('[data-test=video]').boundingBox())!;
    await page.mouse.move(video.x + video.width / 2, video.y + video.height / 2);
    await page.locator('[data-test=operator]').focus();
    const focused = () => page.evaluate(() => document.activeElement?.getAttribute('data-alert-id') ?? document.activeElement?.getAttribute('data-removed-id') ?? null);
    for (let i = 0; i < 20 && (await focused()) !== 'kb-10'; i++) await page.keyboard.press('Tab');
    for (let i = 0; i < 20 && (await focused()) !== 'kb-leaving'; i++) await page.keyboard.press('ArrowDown');
    assert.equal(await focused(), 'kb-leaving', 'its row is reached by keyboard');
    await page.waitForSelector('[data-test=queue-box][data-held=yes]', { state: 'attached', timeout: 10_000 });
    const rowBefore = await page.evaluateHandle(() => document.activeElement);

    // a new alert pushes it out of the list: its row stays, greyed, and keeps the focus
    server.inject('dash', { payload: alert('kb-new', 'gunshot', agoS(2), { priority: 10 }) });
    await page.waitForSelector('[data-alert-id="kb-leaving"]', { state: 'detached', timeout: 30_000 });
    assert.equal(await page.evaluate((row) => document.activeElement === row, rowBefore), true, 'the same element has the focus (not <body>)');
    assert.equal(await page.getAttribute('[data-test=queue-box]', 'data-held'), 'yes', 'the order is still held');
    const removed = page.locator('[data-test=queue-removed][data-removed-id="kb-leaving"]');
    assert.equal(await removed.count(), 1, 'its line is still there, greyed');
    assert.equal(await removed.getAttribute('aria-disabled'), 'true');
    assert.equal(await focused(), 'kb-leaving');
    await page.locator('[data-test=queue-news]', { hasText: '1 new alert — show' }).waitFor({ timeout: 10_000 });
    assert.deepEqual(await ids(), before, 'no row moved');

    // Enter on it opens nothing: the alert open stays open, the focus and the hold stay
    await page.keyboard.press('Enter');
    await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
    assert.equal(await page.locator('[data-test=detail][data-shown-alert="kb-10"]').count(), 1, 'the alert open is still open');
    assert.equal(await focused(), 'kb-leaving');
    assert.equal(await page.getAttribute('[data-test=queue-box]', 'data-held'), 'yes');
    assert.deepEqual(await ids(), before);
  });
});
