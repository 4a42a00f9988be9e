/**
 * The console for operators who use a screen reader, the keyboard, zoom, or reduced motion, in a
 * real browser (Debian's Chromium, real Node-RED with Dashboard 2.0): decisions on the alert open
 * are said, the keyboard's place looks unlike the alert open, the decision bar is on screen at
 * every size, nothing pulses under "reduce motion", and the words and colours read well.
 * Screenshots go to test-artifacts/.
 */
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { Browser, BrowserContext, Page } from 'playwright-core';
import { DashboardServer } from '../support/dashboard-server';
import { artifactsDir as artifacts } from '../support/browser';
import { consoleDetection, openConsoleAs, screenshotPagesIfFailed, startConsoleServerAndBrowser, openAlert } from '../support/console-page';
import { HeldSocket, holdableSocket } from '../support/held-socket';
import { waitFor } from '../support/wait';
import { contrast, PAINTED_FIELDS, PAINTED_LOW_CONTRAST } from '../support/contrast';
// eslint-disable-next-line @typescript-eslint/ban-ts-comment
// @ts-ignore -- plain JS module of the widget
import { SUMMARY_GAP_MS } from '../../ui/components/burst-words.js';

const alert = (id: string, label: string, ageS: number, extra: Record<string, unknown> = {}) => consoleDetection(id, label, Date.now() / 1000 - ageS, extra);
const camera = (state: string) => ({ id: 'cam-place', name: 'Camera place', pan: 0.1, tilt: -0.2, zoom: 0.3, target: { bearing: 60, tilt: -4, distanceM: 95 }, state });
/** A clock time as the console writes it today: 24-hour, with seconds. */
const CLOCK = '\\d{2}:\\d{2}:\\d{2}';

describe('alert-dashboard accessibility in Chromium', { timeout: 400_000 }, () => {
  let server: DashboardServer;
  let browser: Browser;
  const pages = new Map<string, Page>();
  const contexts: BrowserContext[] = [];
  let serial = 0;

  before(async () => {
    ({ server, browser } = await startConsoleServerAndBrowser());
  });

  afterEach(async (t) => {
    await screenshotPagesIfFailed(t, 'alert-dashboard-a11y', pages);
    for (const c of contexts.splice(0)) await c.close().catch(() => undefined);
    pages.clear();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  /** A console in its own browser profile, with the operator's name entered. */
  async function openConsole(name: string, opts: { viewport?: { width: number; height: number }; deviceScaleFactor?: number; reducedMotion?: 'reduce' | 'no-preference'; prepare?: (page: Page) => Promise<void> } = {}): Promise<Page> {
    const context = await browser.newContext({ viewport: opts.viewport ?? { width: 1366, height: 768 }, deviceScaleFactor: opts.deviceScaleFactor, reducedMotion: opts.reducedMotion });
    contexts.push(context);
    const page = await context.newPage();
    pages.set(name, page);
    return openConsoleAs(page, server.baseUrl, name, opts.prepare);
  }
  const open = openAlert;
  /** Each text live-decision takes from now on (a node added for each), in the page. */
  const listenToDecisions = (page: Page) =>
    page.evaluate(() => {
      const w = window as unknown as { __said: string[] };
      w.__said = [];
      const region = document.querySelector('[data-test=live-decision]')!;
      new MutationObserver(() => {
        const t = region.textContent?.trim();
        if (t) w.__said.push(t);
      }).observe(region, { childList: true, subtree: true, characterData: true });
    });
  const said = (page: Page) => page.evaluate(() => (window as unknown as { __said: string[] }).__said.slice());
  const saidSoFar = (page: Page, n: number) => page.waitForFunction((count) => (window as unknown as { __said: string[] }).__said.length >= count, n, { timeout: 30_000 });
  /** Until a frame Node-RED sent `gate`'s page, held back, holds `text`. */
  const waitForHeld = (gate: HeldSocket, text: string) => waitFor(() => gate.frames.some((f) => String(f).includes(text)), 30_000, `a frame with ${text} held`);
  /** True when the element's centre is inside the window and nothing covers it there. */
  const reachable = (page: Page, selector: string) =>
    page.evaluate((sel) => {
      const el = document.querySelector(sel);
      if (!el) return false;
      const b = el.getBoundingClientRect();
      const x = b.left + b.width / 2;
      const y = b.top + b.height / 2;
      if (b.top < 0 || b.bottom > window.innerHeight || b.left < 0 || b.right > window.innerWidth) return false;
      const hit = document.elementFromPoint(x, y);
      return !!hit && (hit === el || el.contains(hit));
    }, selector);

  it('says another operator\'s decision on the alert open once, and the operator\'s own; a flurry of decisions is summed up; the region and the history name things in words', async () => {
    const id = `dec-${++serial}`;
    server.inject('dash', { payload: alert(id, 'gunshot', 30) });
    // Gil's page clock is faked for the flurry below (it runs as usual until then)
    const gil = await openConsole('Gil', { prepare: (p) => p.clock.install() });
    const hal = await openConsole('Hal');
    await open(gil, id);
    await open(hal, id);
    await listenToDecisions(gil);
    await listenToDecisions(hal);
    // the region is named by class and time, not by the alert's id
    assert.match(await gil.locator('[data-test=detail]').getAttribute('aria-label') ?? '', new RegExp(`^Gunshot at ${CLOCK}$`));

    await hal.locator('[data-test=escalate]').click();
    await saidSoFar(hal, 1);
    assert.deepEqual(await said(hal), ['Your escalation was recorded.']);
    await saidSoFar(gil, 1);
    const [heard] = await said(gil);
    assert.match(heard, new RegExp(`^Hal escalated this alert at ${CLOCK}\\.$`));
    const histLine = (await gil.locator('[data-test=history] li').first().textContent()) ?? '';
    assert.equal(heard.slice(-9, -1), histLine.slice(0, 8), 'the time said is the decision\'s, as the history shows it');
    assert.match(histLine, /— Hal: escalated$/, 'the history uses the past participle');

    // state copies that carry nothing new for this alert (new alerts: a burst) say nothing more of it
    for (let i = 0; i < 5; i++) server.inject('dash', { payload: alert(`${id}-other-${i}`, 'crash', 5) });
    await gil.waitForFunction((n) => document.querySelectorAll('[data-test=queue-item]').length >= n, 6, { timeout: 30_000 });

    // Gil's own decision: said to Gil as his, to Hal as Gil's
    await gil.waitForSelector(`[data-test=detail][data-shown-alert="${id}"][data-settled=yes]`);
    await gil.locator('[data-test=confirm]').click();
    await saidSoFar(gil, 2);
    await saidSoFar(hal, 2);
    assert.deepEqual((await said(gil)).slice(1), ['Your confirmation was recorded.']);
    assert.match((await said(hal))[1], new RegExp(`^Gil confirmed this alert at ${CLOCK}\\.$`));
    assert.match((await gil.locator('[data-test=history] li').nth(1).textContent()) ?? '', /— Gil: confirmed$/);

    // Hal decides three times while Gil's time stands still, a quiet moment after the last said:
    // Gil hears the first at once, the other two summed up when SUMMARY_GAP_MS has passed
    await gil.clock.pauseAt((await gil.evaluate(() => Date.now())) + SUMMARY_GAP_MS + 1000);
    for (const action of ['dismiss', 'escalate', 'confirm']) {
      await hal.waitForSelector(`[data-test=detail][data-shown-alert="${id}"][data-settled=yes]`);
      await hal.locator(`[data-test=${action}]`).click();
      await hal.waitForFunction(([n]) => document.querySelectorAll('[data-test=history] li').length >= n, [3 + ['dismiss', 'escalate', 'confirm'].indexOf(action)], { timeout: 30_000 });
    }
    await gil.waitForFunction(() => document.querySelectorAll('[data-test=history] li').length >= 5, null, { timeout: 30_000 });
    let gilSaid = await said(gil);
    assert.equal(gilSaid.length, 3, `the first of the flurry only: ${JSON.stringify(gilSaid)}`);
    assert.match(gilSaid[2], new RegExp(`^Hal dismissed this alert at ${CLOCK}\\.$`));
    await gil.clock.runFor(SUMMARY_GAP_MS);
    await saidSoFar(gil, 4);
    gilSaid = await said(gil);
    assert.match(gilSaid[3], new RegExp(`^2 decisions on this alert — latest: Hal confirmed this alert at ${CLOCK}\\.$`));
    // one more gap: nothing else comes (each state copy said nothing again)
    await gil.clock.runFor(SUMMARY_GAP_MS * 2);
    assert.equal((await said(gil)).length, 4, `said: ${JSON.stringify(await said(gil))}`);
    await gil.clock.resume();
    // and opening another alert says nothing of its past decisions
    await open(gil, `${id}-other-0`);
    assert.equal((await said(gil)).length, 4);
  });

  it('a decision under the operator\'s own name from another console is said as that console\'s, not as the operator\'s nor as a stranger\'s', async () => {
    const id = `same-${++serial}`;
    server.inject('dash', { payload: alert(id, 'scream', 20) });
    const deskA = await openConsole('Hal');
    // the same name typed at a second desk (its own browser profile)
    const deskB = await openConsole('Hal ');
    await open(deskA, id);
    await open(deskB, id);
    await listenToDecisions(deskA);
    await listenToDecisions(deskB);
    await deskB.locator('[data-test=escalate]').click();
    await saidSoFar(deskB, 1);
    await saidSoFar(deskA, 1);
    assert.deepEqual(await said(deskB), ['Your escalation was recorded.']);
    assert.match((await said(deskA))[0], new RegExp(`^Hal \\(another console\\) escalated this alert at ${CLOCK}\\.$`));
  });

  it('the history and the conflict question name a decision of the same name from another console as that console\'s, and the console\'s own by the name alone', async () => {
    const id = `same-h-${++serial}`;
    server.inject('dash', { payload: alert(id, 'gunshot', 20) });
    // desk A's network can hold back what Node-RED sends it, in order
    let gate!: HeldSocket;
    const deskA = await openConsole('Hal', { prepare: async (page) => { gate = await holdableSocket(page); } });
    const deskB = await openConsole('Hal ');
    await open(deskA, id);
    await open(deskB, id);
    const history = (page: Page) => page.locator('[data-test=history] li').allTextContents();
    const settled = (page: Page) => page.waitForSelector(`[data-test=detail][data-shown-alert="${id}"][data-settled=yes]`, { timeout: 30_000 });

    // B escalates while A's view is stale: A's dismissal is refused, and A is asked
    gate.holding = true;
    await deskB.locator('[data-test=escalate]').click();
    await deskB.locator('[data-test=history] li').waitFor({ timeout: 30_000 });
    await deskA.locator('[data-test=dismiss]').click();
    await waitForHeld(gate, '"conflict"');
    gate.release();
    await deskA.locator('[data-test=ask]').waitFor({ timeout: 30_000 });
    assert.match(await deskA.locator('[data-test=ask-text]').textContent() ?? '', new RegExp(`^Hal \\(another console\\) escalated at ${CLOCK} — dismiss anyway\\?$`));
    assert.equal((await deskA.locator('[data-test=ask-no]').textContent())?.trim(), 'Keep the decision of Hal (another console)');
    // the longer words stay inside the question's box
    const inAsk = await deskA.evaluate(() => {
      const ask = document.querySelector('[data-test=ask]')!.getBoundingClientRect();
      return Array.from(document.querySelectorAll('[data-test=ask] button')).every((b) => { const r = b.getBoundingClientRect(); return r.left >= ask.left && r.right <= ask.right + 0.5; });
    });
    assert.ok(inAsk, 'the question\'s buttons within its box');
    await deskA.locator('[data-test=history] li').waitFor({ timeout: 30_000 });
    assert.match((await history(deskA))[0].trim(), new RegExp(`^${CLOCK} — Hal \\(another console\\): escalated$`), 'on A, B\'s decision is another console\'s');
    assert.match((await history(deskB))[0].trim(), new RegExp(`^${CLOCK} — Hal: escalated$`), 'B\'s own decision, by the name alone');
    await deskA.screenshot({ path: path.join(artifacts, 'alert-dashboard-a11y-same-name-conflict.png') });
    await deskA.locator('[data-test=ask-no]').click();
    await settled(deskA);

    // A's own confirmation gets no answer in time (held); a dismissal then, on the same view, is refused for it:
    // the question names A's own decision by the name alone
    gate.holding = true;
    await deskA.locator('[data-test=confirm]').click();
    await deskA.locator('[data-test=error]', { hasText: 'No answer from Node-RED yet' }).waitFor({ timeout: 30_000 });
    await deskA.locator('[data-test=dismiss]').click();
    await waitForHeld(gate, '"conflict"');
    gate.release();
    await deskA.locator('[data-test=ask]').waitFor({ timeout: 30_000 });
    assert.match(await deskA.locator('[data-test=ask-text]').textContent() ?? '', new RegExp(`^Hal confirmed at ${CLOCK} — dismiss anyway\\?$`));
    assert.equal((await deskA.locator('[data-test=ask-no]').textContent())?.trim(), 'Keep Hal\'s decision');
    await deskA.waitForFunction(() => document.querySelectorAll('[data-test=history] li').length === 2, null, { timeout: 30_000 });
    assert.match((await history(deskA))[1].trim(), new RegExp(`^${CLOCK} — Hal: confirmed$`), 'A\'s own decision, by the name alone');
    await deskB.waitForFunction(() => document.querySelectorAll('[data-test=history] li').length === 2, null, { timeout: 30_000 });
    assert.match((await history(deskB))[1].trim(), new RegExp(`^${CLOCK} — Hal \\(another console\\): confirmed$`), 'on B, A\'s decision is another console\'s');
    // a console opened now cannot tell who sent the decisions already there (they may be its operator's, from before): names alone
    const deskC = await openConsole('Hal');
    await open(deskC, id);
    assert.deepEqual((await history(deskC)).map((t) => t.trim().replace(/^\S+ — /, '')), ['Hal: escalated', 'Hal: confirmed']);
  });

  it('keyboard focus in the queue looks unlike the alert open; the red banner gets a clear focus ring', async () => {
    const id = `kb-${++serial}`;
    const ivy = await openConsole('Ivy', { viewport: { width: 1366, height: 768 } });
    server.inject('dash', { payload: alert(`${id}-a`, 'scream', 1) });
    await ivy.waitForSelector(`[data-alert-id="${id}-a"]`, { timeout: 30_000 });
    await open(ivy, `${id}-a`);
    server.inject('dash', { payload: alert(`${id}-b`, 'glass_break', 0) });
    await ivy.waitForSelector('[data-test=banner]', { timeout: 30_000 });
    // in the queue, not waiting above it (the click that opened a holds the order a moment, as for a tap)
    await ivy.waitForSelector(`[data-alert-id="${id}-b"]`, { timeout: 30_000 });
    await ivy.waitForSelector('[data-test=queue-news]', { state: 'detached', timeout: 30_000 });

    // the banner by keyboard, from the name field
    await ivy.locator('[data-test=operator]').focus();
    await ivy.keyboard.press('Tab');
    const banner = await ivy.evaluate(() => {
      const el = document.activeElement as HTMLElement;
      const s = getComputedStyle(el);
      return { test: el.dataset.test, visible: el.matches(':focus-visible'), outlineWidth: parseFloat(s.outlineWidth), outlineStyle: s.outlineStyle, outlineColor: s.outlineColor, shadow: s.boxShadow, bg: s.backgroundColor };
    });
    assert.equal(banner.test, 'banner');
    assert.ok(banner.visible);
    assert.ok(banner.outlineStyle === 'solid' && banner.outlineWidth >= 3, `a ring of 3 px or more: ${JSON.stringify(banner)}`);
    assert.ok(contrast(banner.outlineColor, banner.bg) >= 3, `the ring stands out on the red: ${JSON.stringify(banner)}`);
    assert.notEqual(banner.shadow, 'none', 'and a ring outside it, on the page');

    // into the queue (the open alert's line), then down to the other line
    await ivy.keyboard.press('Tab');
    const row = (alertId: string) =>
      ivy.evaluate((sel) => {
        const el = document.querySelector(sel) as HTMLElement;
        const s = getComputedStyle(el);
        return { focused: document.activeElement === el, outline: s.outlineStyle === 'none' ? 'none' : `${s.outlineStyle} ${parseFloat(s.outlineWidth)} ${s.outlineColor} ${s.outlineOffset}`, bg: s.backgroundColor, shadow: s.boxShadow, border: s.borderTopColor, current: el.getAttribute('aria-current') };
      }, `[data-alert-id="${alertId}"]`);
    // the newest (b) is on top; a is open
    const openRow = await row(`${id}-a`);
    assert.equal(openRow.focused, true, 'Tab stops on the open alert\'s line');
    const openFocused = openRow.outline;
    await ivy.keyboard.press('ArrowUp');
    const focused = await row(`${id}-b`);
    const opened = await row(`${id}-a`);
    assert.equal(focused.focused, true);
    assert.equal(opened.current, 'true', 'the open line is marked for screen readers');
    assert.equal(focused.current, null);
    assert.equal(opened.outline, 'none', 'the open line has no outline: it is not the focus');
    assert.equal(openFocused, focused.outline, 'focused, the open line has the same focus ring as any');
    const m = /^solid (\d+) (rgb\([^)]*\)) (\d+)px$/.exec(focused.outline);
    assert.ok(m && Number(m[1]) >= 4 && Number(m[3]) >= 2, `a thick ring set off the line: ${focused.outline}`);
    assert.ok(contrast(m![2], 'rgb(21, 101, 192)') >= 1.5 && m![2] !== opened.border, 'not the blue of the open line');
    assert.notEqual(opened.bg, focused.bg, 'the open line is tinted');
    assert.notEqual(opened.shadow, 'none', 'with a stripe inside its edge');
    // the ring is not cut by the queue's scrolling box
    const clipped = await ivy.evaluate((sel) => {
      const el = document.querySelector(sel)!.getBoundingClientRect();
      const q = document.querySelector('[data-test=queue]')!.getBoundingClientRect();
      return el.top - 7 < q.top || el.left - 7 < q.left || el.right + 7 > q.right;
    }, `[data-alert-id="${id}-b"]`);
    assert.equal(clipped, false, 'the queue leaves room for the ring');
    await ivy.screenshot({ path: path.join(artifacts, 'alert-dashboard-a11y-focus-1366x768.png') });
  });

  it('with "reduce motion", the banner does not pulse and a new line does not flash (it is tinted instead)', async () => {
    const id = `rm-${++serial}`;
    const still = await openConsole('Jo', { reducedMotion: 'reduce' });
    const moving = await openConsole('Kim', { reducedMotion: 'no-preference' });
    server.inject('dash', { payload: alert(id, 'explosion', 3) });
    const motion = (page: Page) =>
      page.evaluate((alertId) => {
        const row = document.querySelector(`[data-alert-id="${alertId}"]`)!;
        return {
          banner: document.querySelector('[data-test=banner]')!.getAnimations().length,
          flash: row.classList.contains('vg-flash'),
          row: row.getAnimations().length,
          bg: getComputedStyle(row).backgroundColor,
        };
      }, id);
    for (const p of [still, moving]) await p.waitForSelector(`[data-test=banner] >> text=${'Explosion'}`, { timeout: 30_000 });
    const [a, b] = [await motion(still), await motion(moving)];
    assert.ok(b.banner > 0 && b.flash && b.row > 0, `without the setting both move: ${JSON.stringify(b)}`);
    assert.equal(a.flash, true);
    assert.equal(a.banner, 0, 'no pulse');
    assert.equal(a.row, 0, 'no flash');
    assert.match(a.bg, /^rgba\(211, 47, 47, 0\.2/, 'the new line is tinted red while it would have flashed');
  });

  const SIZES: Array<{ width: number; height: number; deviceScaleFactor?: number; name: string }> = [
    { width: 1024, height: 768, name: '1024x768' },
    { width: 768, height: 1024, name: '768x1024' },
    // 1366×768 at 200 % zoom
    { width: 683, height: 384, deviceScaleFactor: 2, name: '683x384-zoom200' },
    { width: 1920, height: 1080, name: '1920x1080' },
  ];
  it('the decision bar is on screen when the console loads with an alert open, at every size; the page\'s end scrolls out from under it', async () => {
    const id = `lay-${++serial}`;
    // a full queue, and the newest alert (opened at load) offering "Take camera"
    for (let i = 0; i < 8; i++) server.inject('dash', { payload: alert(`${id}-${i}`, 'crash', 200 - i) });
    // the newest unhandled alert of the list: the console opens it at load
    server.inject('dash', { payload: alert(`${id}-top`, 'gunshot', -1, { camera: camera('unavailable') }) });
    // The consoles below load the state kept for late joiners: once a console has the alert in
    // its queue, the state that brought it is the one kept (it is kept before it is sent).
    const probe = await openConsole('Lou-probe');
    await probe.waitForSelector(`[data-alert-id="${id}-top"]`, { timeout: 30_000 });
    for (const size of SIZES) {
      const page = await openConsole(`Lou-${size.name}`, { viewport: { width: size.width, height: size.height }, deviceScaleFactor: size.deviceScaleFactor });
      await page.waitForSelector(`[data-test=detail][data-shown-alert="${id}-top"]`, { timeout: 30_000 });
      await page.mouse.move(1, 1);
      await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
      assert.equal(await page.evaluate(() => window.scrollY), 0);
      for (const b of ['note', 'confirm', 'dismiss', 'escalate', 'move']) {
        assert.ok(await reachable(page, `[data-test=${b}]`), `${b} on screen and uncovered at ${size.name}`);
      }
      assert.equal(await page.locator('[data-test=move]').textContent().then((t) => t?.trim()), 'Take camera');
      await page.screenshot({ path: path.join(artifacts, `alert-dashboard-a11y-bar-${size.name}.png`) });
      // scrolled to the end, the last of the alert (its plan) is not under the bar
      await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
      await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
      const under = await page.evaluate(() => {
        const bar = document.querySelector('[data-test=actions]')!.getBoundingClientRect();
        const plan = document.querySelector('[data-test=plan]')!.getBoundingClientRect();
        return { planBottom: plan.bottom, barTop: bar.top, barBottom: bar.bottom, h: window.innerHeight };
      });
      assert.ok(under.planBottom <= under.barTop + 0.5 || under.planBottom <= 0, `the plan clears the bar at the end of the page at ${size.name}: ${JSON.stringify(under)}`);
      assert.ok(under.barBottom <= under.h + 1, `the bar is still on screen: ${JSON.stringify(under)}`);
      for (const b of ['confirm', 'move']) assert.ok(await reachable(page, `[data-test=${b}]`), `${b} on screen scrolled down at ${size.name}`);
      await page.screenshot({ path: path.join(artifacts, `alert-dashboard-a11y-bar-${size.name}-end.png`) });
    }
  });

  it('on a short window (683x384, 1366x768 at 200 %) the decision bar is one slim row, each of its buttons in view, named as before, clickable and reached by Tab; at 1366x768 it is as before', async () => {
    const id = `slim-${++serial}`;
    server.inject('dash', { payload: alert(`${id}-top`, 'gunshot', -3, { camera: camera('unavailable') }) });
    const BAR = ['note', 'confirm', 'dismiss', 'escalate', 'move'];
    const NAMES: Record<string, string> = { confirm: 'Confirm', dismiss: 'Dismiss', escalate: 'Escalate', move: 'Take camera' };
    const bar = (page: Page) =>
      page.evaluate((tests) => {
        const r = document.querySelector('[data-test=actions]')!.getBoundingClientRect();
        const parts = tests.map((t) => {
          const el = document.querySelector(`[data-test=${t}]`) as HTMLElement;
          const b = el.getBoundingClientRect();
          return { t, top: b.top, height: b.height, width: b.width, minHeight: parseFloat(getComputedStyle(el).minHeight) };
        });
        return { height: r.height, top: r.top, bottom: r.bottom, windowHeight: window.innerHeight, parts };
      }, BAR);

    const slim = await openConsole(`Nia-${id}`, { viewport: { width: 683, height: 384 }, deviceScaleFactor: 2 });
    await open(slim, `${id}-top`);
    const s = await bar(slim);
    // measured at 100 px (26 %) with the note on a row of its own above the buttons
    assert.ok(s.height <= 0.2 * s.windowHeight, `the bar takes at most a fifth of the window's height: ${JSON.stringify(s)}`);
    assert.ok(s.bottom <= s.windowHeight + 1, `the bar is on screen: ${JSON.stringify(s)}`);
    assert.ok(s.parts.every((p) => Math.abs(p.top - s.parts[1].top) < 2), `the note and the buttons on one row: ${JSON.stringify(s.parts)}`);
    assert.ok(s.parts.every((p) => p.height >= 24 && p.width >= 24), `touch targets of 24 px or more: ${JSON.stringify(s.parts)}`);
    for (const b of BAR) assert.ok(await reachable(slim, `[data-test=${b}]`), `${b} in view and uncovered at 683x384`);
    // the same names for screen readers, and each button takes a pointer's click where it shows (trial: nothing is sent)
    for (const [b, name] of Object.entries(NAMES)) {
      assert.equal(await slim.getByRole('button', { name, exact: true }).getAttribute('data-test'), b);
      await slim.locator(`[data-test=${b}]`).click({ trial: true, timeout: 5_000 });
    }
    // by keyboard, from the note: each button in turn
    await slim.locator('[data-test=note]').focus();
    const reached: Array<string | null> = [];
    for (let i = 0; i < 4; i++) {
      await slim.keyboard.press('Tab');
      reached.push(await slim.evaluate(() => document.activeElement?.getAttribute('data-test') ?? null));
    }
    assert.deepEqual(reached, ['confirm', 'dismiss', 'escalate', 'move']);
    await slim.screenshot({ path: path.join(artifacts, 'alert-dashboard-a11y-slim-bar-683x384.png') });
    // a real click decides
    await slim.locator('[data-test=escalate]').click();
    await slim.waitForFunction(() => document.querySelector('[data-test=detail-state]')?.textContent === 'escalated', null, { timeout: 30_000 });
    for (const b of ['confirm', 'dismiss', 'escalate', 'move']) assert.ok(await reachable(slim, `[data-test=${b}]`), `${b} in view and uncovered once decided`);

    // at 1366x768 nothing of that: the buttons at their full size, the camera button on the row below (as before)
    const wide = await openConsole(`Nia-wide-${id}`, { viewport: { width: 1366, height: 768 } });
    await open(wide, `${id}-top`);
    const w = await bar(wide);
    for (const p of w.parts) assert.equal(p.minHeight, 44, `${p.t} keeps its 44 px at 1366x768: ${JSON.stringify(w.parts)}`);
    assert.ok(w.parts.filter((p) => p.t !== 'note').every((p) => p.width >= 110), `the buttons keep their width at 1366x768: ${JSON.stringify(w.parts)}`);
    await wide.screenshot({ path: path.join(artifacts, 'alert-dashboard-a11y-slim-bar-1366x768.png') });
  });

  it('every queue line reached by keyboard comes to rest above the decision bar, with its focus ring, at every size', async () => {
    const id = `kbd-${++serial}`;
    for (let i = 0; i < 8; i++) server.inject('dash', { payload: alert(`${id}-${i}`, 'crash', 300 - i) });
    server.inject('dash', { payload: alert(`${id}-top`, 'gunshot', -2, { camera: camera('unavailable') }) });
    const probe = await openConsole('Kim-probe');
    await probe.waitForSelector(`[data-alert-id="${id}-top"]`, { timeout: 30_000 });
    for (const size of SIZES.filter((s) => s.name !== '768x1024')) {
      const page = await openConsole(`Kim-${size.name}`, { viewport: { width: size.width, height: size.height }, deviceScaleFactor: size.deviceScaleFactor });
      await page.waitForSelector(`[data-test=detail][data-shown-alert="${id}-top"]`, { timeout: 30_000 });
      await page.mouse.move(1, 1);
      // Tab from the operator's name to the queue's stop (the alert open)
      await page.locator('[data-test=operator]').focus();
      for (let i = 0; i < 6 && !(await page.evaluate(() => document.activeElement?.getAttribute('data-test') === 'queue-item')); i++) await page.keyboard.press('Tab');
      const rows = await page.locator('[data-test=queue-item]').count();
      assert.ok(rows >= 9);
      for (let i = 0; i < rows; i++) {
        if (i > 0) await page.keyboard.press('ArrowDown');
        await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
        const at = await page.evaluate(() => {
          const row = document.activeElement as HTMLElement;
          const r = row.getBoundingClientRect();
          const bar = document.querySelector('[data-test=actions]')!.getBoundingClientRect();
          // the ring (outline 4 px, offset 3 px) is part of what must show
          const ring = parseFloat(getComputedStyle(row).outlineWidth) + parseFloat(getComputedStyle(row).outlineOffset);
          const fixed = getComputedStyle(document.querySelector('[data-test=actions]')!).position === 'fixed';
          const hit = document.elementFromPoint(r.left + r.width / 2, r.bottom - 2);
          return { id: row.dataset.alertId, top: r.top, bottom: r.bottom, ringBottom: r.bottom + ring, barTop: bar.top, fixed, h: window.innerHeight, uncovered: !!hit && row.contains(hit) };
        });
        assert.ok(at.top >= 0 && at.bottom <= at.h + 0.5, `line ${i} in the window at ${size.name}: ${JSON.stringify(at)}`);
        if (at.fixed) assert.ok(at.ringBottom <= at.barTop + 0.5, `line ${i} and its ring above the bar at ${size.name}: ${JSON.stringify(at)}`);
        assert.ok(at.uncovered, `nothing covers line ${i}'s lower edge at ${size.name}: ${JSON.stringify(at)}`);
        if (i === rows - 1) await page.screenshot({ path: path.join(artifacts, `alert-dashboard-a11y-queue-keyboard-${size.name}.png`) });
      }
    }
  });

  it('every decision button\'s words are readable: white on its colour at 4.5:1 or more (WCAG AA)', async () => {
    const id = `col-${++serial}`;
    const max = await openConsole('Max');
    server.inject('dash', { payload: alert(id, 'gunshot', 5, { camera: camera('proposed') }) });
    await max.waitForSelector(`[data-alert-id="${id}"]`, { timeout: 30_000 });
    await open(max, id);
    await max.waitForSelector('[data-test=move]', { timeout: 30_000 });
    const colours = await max.$$eval('[data-test=actions] .vigie-btn', (els) => els.map((e) => ({ test: (e as HTMLElement).dataset.test, fg: getComputedStyle(e).color, bg: getComputedStyle(e).backgroundColor })));
    assert.deepEqual(colours.map((c) => c.test), ['confirm', 'dismiss', 'escalate', 'move']);
    for (const c of colours) assert.ok(contrast(c.fg, c.bg) >= 4.5, `${c.test}: ${c.fg} on ${c.bg} is ${contrast(c.fg, c.bg).toFixed(2)}:1`);
  });

  it('every word of a queue line, its badges included, reads at 4.5:1 or more in every state: handled lines fade their words, not their badges', async () => {
    const id = `fade-${++serial}`;
    const states: Array<[string, string, string | null]> = [
      ['new', 'on-target', null],
      ['seen', 'moving', null],
      ['confirmed', 'waiting', 'confirm'],
      ['escalated', 'failed', 'escalate'],
      ['dismissed', 'released', 'dismiss'],
    ];
    // the unhandled newest opens when the console loads: the one to stay new is the oldest
    states.forEach(([state, cam], i) => server.inject('dash', { payload: alert(`${id}-${state}`, 'glass_break', i ? 20 - i : 40, { camera: camera(cam) }) }));
    const ned = await openConsole('Ned');
    for (const [state, , action] of states) {
      await ned.waitForSelector(`[data-alert-id="${id}-${state}"]`, { timeout: 30_000 });
      if (state === 'new') continue;
      await open(ned, `${id}-${state}`);
      if (action) {
        await ned.locator(`[data-test=${action}]`).click();
        await ned.waitForSelector(`[data-alert-id="${id}-${state}"].vg-state-${state}`, { timeout: 30_000 });
      }
    }
    // the line open is tinted: open one not measured
    server.inject('dash', { payload: alert(`${id}-other`, 'crash', 25) });
    await ned.waitForSelector(`[data-alert-id="${id}-other"]`, { timeout: 30_000 });
    await open(ned, `${id}-other`);
    await ned.waitForSelector(`[data-alert-id="${id}-seen"].vg-state-seen`, { timeout: 30_000 });
    // each text's colour and the colour under it as painted: backgrounds and opacities of every box it sits in
    const low = await ned.evaluate<string[]>(`(${PAINTED_LOW_CONTRAST})(${JSON.stringify(`[data-alert-id^="${id}-"]:not([data-alert-id$="-other"])`)})`);
    await ned.screenshot({ path: path.join(artifacts, 'alert-dashboard-a11y-queue-states.png') });
    assert.deepEqual(low, [], 'words under 4.5:1');
  });

  it('the fields to type in (the name, the note) show their edges at 3:1 and their placeholders at 4.5:1, also while the name is asked for', async () => {
    const id = `fields-${++serial}`;
    server.inject('dash', { payload: alert(id, 'scream', 3) });
    const measure = (page: Page) => page.evaluate<Array<{ what: string; ratio: number; min: number }>>(`(${PAINTED_FIELDS})('[data-test=operator], [data-test=note]')`);
    const low = (ms: Array<{ what: string; ratio: number; min: number }>) => ms.filter((m) => m.ratio < m.min).map((m) => `${m.what} at ${m.ratio.toFixed(2)}:1 (needs ${m.min}:1)`);
    const uma = await openConsole('Uma');
    await uma.waitForSelector(`[data-alert-id="${id}"]`, { timeout: 30_000 });
    await open(uma, id);
    const named = await measure(uma);
    assert.deepEqual(named.map((m) => m.what), ['operator: its edge', 'operator: its placeholder', 'note: its edge', 'note: its placeholder']);
    assert.deepEqual(low(named), []);
    // no name yet: the field asks for it, on its amber band
    await uma.locator('[data-test=operator]').fill('');
    await uma.locator('[data-test=operator]').dispatchEvent('change');
    await uma.waitForSelector('.vigie-operator.vg-missing', { timeout: 30_000 });
    assert.deepEqual(low((await measure(uma)).filter((m) => m.what.startsWith('operator'))), []);
  });

  it('the name, the note and "copy coordinates" show the same thick orange ring as the decisions when reached by Tab', async () => {
    const id = `ring-${++serial}`;
    // located: its place has coordinates to copy
    server.inject('dash', { payload: alert(id, 'gunshot', 4, { location: { method: 'tdoa', position: { lat: 45.4401, lon: 4.3875, errorM: 3 }, sensors: ['rue-nord'] } }) });
    const oli = await openConsole('Oli');
    await oli.waitForSelector(`[data-alert-id="${id}"]`, { timeout: 30_000 });
    await open(oli, id);
    const ringOf = (test: string) =>
      oli.evaluate((t) => {
        const el = document.activeElement as HTMLElement;
        const s = getComputedStyle(el);
        return { test: el.dataset.test, t, visible: el.matches(':focus-visible'), ring: `${s.outlineStyle} ${parseFloat(s.outlineWidth)} ${s.outlineColor}` };
      }, test);
    const rings: Record<string, string> = {};
    await oli.locator('[data-test=operator]').focus();
    await oli.keyboard.press('Shift+Tab');
    for (let i = 0; i < 12 && !rings.confirm; i++) {
      await oli.keyboard.press('Tab');
      const r = await ringOf('');
      if (r.test && r.visible && ['operator', 'copy-coords', 'note', 'confirm'].includes(r.test)) rings[r.test] = r.ring;
    }
    assert.deepEqual(Object.keys(rings).sort(), ['confirm', 'copy-coords', 'note', 'operator']);
    // the picture is named for screen readers, as its MJPEG stand-in is
    assert.equal(await oli.locator('[data-test=live-video]').getAttribute('aria-label'), 'live camera picture');
    const m = /^solid (\d+) (rgb\([^)]*\))$/.exec(rings.confirm);
    assert.ok(m, `the decisions' ring: ${rings.confirm}`);
    for (const [test, ring] of Object.entries(rings)) {
      const r = /^solid (\d+) (rgb\([^)]*\))$/.exec(ring);
      assert.ok(r && Number(r[1]) >= 3 && r[2] === m![2], `${test}: a solid ring of 3 px or more in the decisions' colour, not ${ring}`);
    }
  });

  it('a question takes the focus on its button that changes nothing; Escape answers with it, and the focus is back on the button asked about', async () => {
    const id = `esc-${++serial}`;
    const rae = await openConsole('Rae');
    // the camera is on an escalated alert: taking it asks first
    server.inject('dash', { payload: alert(`${id}-held`, 'gunshot', 30, { camera: camera('on-target') }) });
    await rae.waitForSelector(`[data-alert-id="${id}-held"]`, { timeout: 30_000 });
    await open(rae, `${id}-held`);
    await rae.locator('[data-test=escalate]').click();
    await rae.waitForSelector(`[data-alert-id="${id}-held"].vg-state-escalated`, { timeout: 30_000 });
    server.inject('dash', { payload: alert(`${id}-wait`, 'scream', 10, { camera: { ...camera('waiting'), heldFor: `${id}-held` } }) });
    await rae.waitForSelector(`[data-alert-id="${id}-wait"]`, { timeout: 30_000 });
    await open(rae, `${id}-wait`);
    await rae.locator('[data-test=move]').focus();
    await rae.keyboard.press('Enter');
    await rae.locator('[data-test=ask]').waitFor({ timeout: 30_000 });
    const focused = () => rae.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset.test ?? document.activeElement?.tagName);
    assert.equal(await focused(), 'ask-no');
    assert.equal(await rae.locator('[data-test=ask]').getAttribute('role'), 'alertdialog');
    assert.match(await rae.locator('[data-test=ask]').getAttribute('aria-label') ?? '', /Take it anyway\?/);
    // from either of its buttons
    await rae.keyboard.press('Shift+Tab');
    assert.equal(await focused(), 'ask-yes');
    await rae.keyboard.press('Escape');
    await rae.locator('[data-test=ask]').waitFor({ state: 'detached', timeout: 10_000 });
    assert.equal(await focused(), 'move');
    assert.equal((await rae.locator('[data-test=move]').textContent())?.trim(), 'Take camera', 'nothing was asked of ptz-steer');
  });

  it('Enter on "Take camera": when the camera comes and the button goes, the keyboard is still in the decision bar, on Escalate, and the camera\'s coming is said', async () => {
    const id = `take-${++serial}`;
    // a camera of its own: one held for a decided alert would ask first
    const ownCamera = (state: string) => ({ ...camera(state), id: 'cam-take', name: 'Camera take' });
    server.inject('dash', { payload: alert(id, 'scream', 6, { camera: ownCamera('waiting') }) });
    const pia = await openConsole('Pia');
    await pia.waitForSelector(`[data-alert-id="${id}"]`, { timeout: 30_000 });
    await open(pia, id);
    await pia.locator('[data-test=escalate]').focus();
    await pia.keyboard.press('Tab');
    assert.equal(await pia.evaluate(() => (document.activeElement as HTMLElement).dataset.test), 'move');
    await pia.keyboard.press('Enter');
    await pia.locator('[data-test=move]', { hasText: 'Move requested' }).waitFor({ timeout: 30_000 });
    // ptz-steer turns the camera: the button goes
    server.inject('dash', { payload: alert(id, 'scream', 6, { camera: ownCamera('moving') }) });
    await pia.waitForSelector('[data-test=move]', { state: 'detached', timeout: 30_000 });
    const at = await pia.evaluate(() => ({ test: (document.activeElement as HTMLElement | null)?.dataset.test ?? document.activeElement?.tagName, visible: !!document.activeElement?.matches(':focus-visible') }));
    assert.deepEqual(at, { test: 'escalate', visible: true });
    // the camera's coming is said, since the focus moving to Escalate says nothing of it
    assert.equal((await pia.locator('[data-test=live-decision]').textContent())?.trim(), 'Camera take: camera moving');
    // one Shift+Tab back to the decision before it, as from any decision
    await pia.keyboard.press('Shift+Tab');
    assert.equal(await pia.evaluate(() => (document.activeElement as HTMLElement).dataset.test), 'dismiss');
  });
});
