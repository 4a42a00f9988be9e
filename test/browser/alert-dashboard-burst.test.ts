/**
 * The console during a burst of alerts, in a real browser (Debian's Chromium, real Node-RED with
 * Dashboard 2.0 and a queue capped at 10): unhandled alerts the cap removed are shown in a
 * banner until an operator acknowledges it (audited), on every console; a burst chimes once and
 * is summed up for screen readers, timed on the page's fake clock, not the wall clock.
 */
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Browser, chromium, Page } from 'playwright-core';
import { listAuditFiles } from '../../lib/alerts/audit';
import { consoleFlow, DashboardServer, ensureWidgetBuilt, startDashboardServer } from '../support/dashboard-server';
import { artifactsDir as artifacts, CHROMIUM, CHROMIUM_ARGS } from '../support/browser';
import { consoleDetection, openConsoleAs } from '../support/console-page';
import { waitFor } from '../support/wait';

const agoS = (s: number) => Date.now() / 1000 - s;
/** ui/components/burst-words.js */
const CHIME_GAP_MS = 5000;
const SUMMARY_GAP_MS = 5000;

describe('alert-dashboard in Chromium during a burst: removed alerts told until acknowledged, one chime per burst', { timeout: 300_000 }, () => {
  let server: DashboardServer;
  let browser: Browser;
  const pages = new Map<string, Page>();
  let ids = 0;
  const id = (name: string) => `${name}-${++ids}`;

  before(async () => {
    assert.ok(fs.existsSync(CHROMIUM), 'Debian chromium is installed at /usr/bin/chromium');
    ensureWidgetBuilt();
    fs.mkdirSync(artifacts, { recursive: true });
    server = await startDashboardServer(consoleFlow({ maxAlerts: 10 }));
    // the chime may sound without a click first (as after an operator's first click)
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...CHROMIUM_ARGS, '--autoplay-policy=no-user-gesture-required'] });
  });

  afterEach(async (t) => {
    if (!(t as unknown as { passed?: boolean }).passed) {
      for (const [name, page] of pages) await page.screenshot({ path: path.join(artifacts, `alert-dashboard-burst-failed-${name}.png`) }).catch(() => undefined);
    }
    for (const page of pages.values()) await page.close().catch(() => undefined);
    pages.clear();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  async function openConsole(name: string, prepare?: (page: Page) => Promise<void>): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
    pages.set(name, page);
    await openConsoleAs(page, server.baseUrl, name, prepare);
    return page;
  }

  it('unhandled alerts the cap removed stay in a banner on every console until an operator acknowledges them; the acknowledgement is audited', async () => {
    const alice = await openConsole('Alice');
    const bob = await openConsole('Bob');
    const mine = Array.from({ length: 12 }, (_, i) => id(`full-${i}`));
    mine.forEach((x, i) => server.inject('dash', { payload: consoleDetection(x, i < 2 ? 'scream' : 'explosion', agoS(600 - i)) }));
    // the two screams (lower priority than explosions) went, though not the oldest alerts of all
    for (const page of [alice, bob]) {
      await page.locator('[data-test=dropped-banner][data-count="2"]').waitFor({ timeout: 30_000 });
    }
    const text = await alice.locator('[data-test=dropped-text]').innerText();
    assert.match(text, /^2 unhandled alerts were removed to keep the queue at 10: Scream \d{2}:\d{2}:\d{2}, Scream \d{2}:\d{2}:\d{2}\. Each is in the audit log\.$/);
    await alice.screenshot({ path: path.join(artifacts, 'alert-dashboard-dropped-banner.png') });
    // it stays: another alert, a reload do not take it away
    server.inject('dash', { payload: consoleDetection(id('full-more'), 'explosion', agoS(1)) });
    await alice.locator('[data-test=dropped-banner][data-count="3"]').waitFor({ timeout: 30_000 });
    await bob.reload();
    await bob.locator('[data-test=dropped-banner][data-count="3"]').waitFor({ timeout: 30_000 });

    await alice.locator('[data-test=ack-dropped]').click();
    for (const page of [alice, bob]) await page.locator('[data-test=dropped-banner]').waitFor({ state: 'detached', timeout: 30_000 });
    const auditDir = path.join(server.userDir, 'vigie-audit');
    const ack = await waitFor(
      () =>
        listAuditFiles(auditDir)
          .flatMap((f) => fs.readFileSync(f, 'utf8').trim().split('\n'))
          .map((l) => JSON.parse(l))
          .find((e) => e.details?.event === 'alert-dropped-acknowledged'),
      10_000,
      'the acknowledgement in the audit log',
    );
    assert.deepEqual([ack.type, ack.actor, ack.details.count], ['system', 'Alice', 3]);
  });

  it('a burst chimes once and is said once, summed up: "N new alerts"; a chime again only after CHIME_GAP_MS (the page\'s clock faked)', async () => {
    const page = await openConsole('Carol', async (p) => {
      await p.clock.install();
      // count the chime's oscillators (two per chime) and every change of the live regions
      await p.addInitScript(() => {
        const w = window as unknown as { __oscillators: number; __liveChanges: number; AudioContext: typeof AudioContext };
        w.__oscillators = 0;
        w.__liveChanges = 0;
        const create = w.AudioContext.prototype.createOscillator;
        w.AudioContext.prototype.createOscillator = function (this: AudioContext) {
          w.__oscillators++;
          return create.call(this);
        };
        new MutationObserver((ms) => {
          for (const m of ms) {
            const el = m.target.nodeType === 1 ? (m.target as Element) : m.target.parentElement;
            if (el?.closest('[aria-live], [role=status], [role=alert]')) w.__liveChanges++;
          }
        }).observe(document, { subtree: true, childList: true, characterData: true });
      });
    });
    // loaded: the page's time stops; it moves only by runFor
    await page.clock.pauseAt((await page.evaluate(() => Date.now())) + 1000);
    const counters = () => page.evaluate(() => ({ oscillators: (window as unknown as { __oscillators: number }).__oscillators, live: (window as unknown as { __liveChanges: number }).__liveChanges }));
    const announced = async () => Number(await page.locator('.vigie-console').getAttribute('data-announced'));
    const start = await counters();
    const announcedBefore = await announced();
    // three waves of three alerts, each reaching the page in its own state
    for (let wave = 1; wave <= 3; wave++) {
      for (let k = 0; k < 3; k++) server.inject('dash', { payload: consoleDetection(id('burst'), 'explosion', agoS(30 - wave * 3 - k)) });
      await page.waitForFunction((n) => Number(document.querySelector('.vigie-console')?.getAttribute('data-announced')) >= n, announcedBefore + wave * 3, { timeout: 30_000 });
    }
    const during = await counters();
    assert.equal(during.oscillators - start.oscillators, 2, 'one two-tone chime for the burst');
    await page.locator('[data-test=banner][data-count="9"]').waitFor({ timeout: 10_000 });
    assert.match(await page.locator('[data-test=banner]').innerText(), /^9 new alerts — latest: Explosion — /);
    assert.match(await page.locator('[data-test=live-summary]').innerText(), /^New alert: Explosion — /, 'the first said at once');
    // the end of the summary's gap: the rest said together
    await page.clock.runFor(SUMMARY_GAP_MS);
    await page.waitForFunction(() => /^8 new alerts — latest: Explosion — /.test(document.querySelector('[data-test=live-summary]')?.textContent ?? ''), null, { timeout: 10_000 });
    const summed = await counters();
    assert.ok(summed.live - start.live <= 4, `the live regions changed ${summed.live - start.live} times for 9 alerts`);
    // a while later, another alert: it chimes again
    await page.clock.runFor(CHIME_GAP_MS);
    server.inject('dash', { payload: consoleDetection(id('later'), 'gunshot', agoS(1)) });
    await page.waitForFunction((n) => Number(document.querySelector('.vigie-console')?.getAttribute('data-announced')) >= n, announcedBefore + 10, { timeout: 30_000 });
    assert.equal((await counters()).oscillators - start.oscillators, 4, 'a chime for the alert after the quiet moment');
    // said at once, alone (the console may have opened it, its view being empty: then no banner)
    await page.waitForFunction(() => /^New alert: Gunshot — /.test(document.querySelector('[data-test=live-summary]')?.textContent ?? ''), null, { timeout: 10_000 });
  });
});
