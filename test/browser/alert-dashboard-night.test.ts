/**
 * The operators' console left open for a whole shift (or for weeks on a wall screen), never
 * reloaded, in a real browser (Debian's Chromium, real Node-RED with Dashboard 2.0): a night in
 * rounds of alerts raised, enriched, opened with their picture, dismissed, removed by the cap,
 * and the connection dropped and back (the widget built again). After each round, garbage
 * collected, what the page holds must not grow: DOM nodes, event listeners, object URLs,
 * intervals, WebSockets, streaming fetches, audio contexts; and nothing it keeps per alert may
 * outlive the alert's place in the list.
 */
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { openConsoleAs, screenshotPagesIfFailed } from '../support/console-page';
import { consoleFlow, DashboardServer, ensureWidgetBuilt, startDashboardServer } from '../support/dashboard-server';
import { launchChromium } from '../support/browser';
import { NIGHT_PROBE_SCRIPT, NightCounts, nightAlertId, nightCounts, nightSession, playNightRound, propertiesNamedAfter } from '../support/night-probe';

const ALERTS = 12;

describe('alert-dashboard left open all night in Chromium', { timeout: 600_000 }, () => {
  let server: DashboardServer;
  let browser: Browser;
  const pages = new Map<string, Page>();

  before(async () => {
    ensureWidgetBuilt();
    // the cap at one round's alerts: each round pushes the one before out of the list
    server = await startDashboardServer(consoleFlow({ maxAlerts: ALERTS, keepSnapshots: false }));
    browser = await launchChromium();
  });

  afterEach(async (t) => {
    await screenshotPagesIfFailed(t, 'alert-dashboard-night', pages);
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('round after round (alerts, pictures, decisions, reconnections) the page holds no more than after the first, and nothing of the alerts gone from the list', async () => {
    const page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
    pages.set('Nadia', page);
    await page.addInitScript({ content: NIGHT_PROBE_SCRIPT });
    await openConsoleAs(page, server.baseUrl, 'Nadia');
    const cdp = await nightSession(page);
    const rounds: NightCounts[] = [];
    let goneNamed: string[] | undefined;
    for (let round = 1; round <= 5; round++) {
      // three pictures a round, all three dismissed: handled alerts are the first the cap removes.
      // The widget built again in rounds 1, 2 and 5; the one of round 2 sees rounds 3 and 4 through.
      await playNightRound(page, server, round, { alerts: ALERTS, pictures: 3, dismissed: 3, reconnect: round <= 2 || round === 5 });
      rounds.push(await nightCounts(page, cdp));
      console.log(`round ${round}: ${JSON.stringify(rounds[round - 1])}`);
      if (round === 4) goneNamed = await namedAfterGone(page, 3);
    }
    // Round 3's alerts the cap removed in round 4: the console keeps nothing named after them
    // (which alerts it has announced, which snapshots failed to load).
    assert.deepEqual(goneNamed, []);
    const [, second, ...later] = rounds;
    for (const [i, r] of later.entries()) {
      const at = `round ${i + 3} (against round 2)`;
      // a widget built again must not leave the one before alive, nor anything it started
      assert.ok(r.domNodes <= second.domNodes * 1.05, `${at}: DOM nodes ${r.domNodes} against ${second.domNodes}`);
      assert.ok(r.listeners <= second.listeners + 2, `${at}: event listeners ${r.listeners} against ${second.listeners}`);
      assert.ok(r.documents <= second.documents, `${at}: documents ${r.documents} against ${second.documents}`);
      // the picture shown and the one before it (still decoding), no more
      assert.ok(r.objectUrls <= 2, `${at}: object URLs not revoked ${r.objectUrls}`);
      assert.ok(r.intervals <= second.intervals, `${at}: intervals ${r.intervals} against ${second.intervals}`);
      assert.ok(r.webSockets <= second.webSockets, `${at}: WebSockets open ${r.webSockets} against ${second.webSockets}`);
      assert.ok(r.streamingFetches <= 1, `${at}: picture streams still open ${r.streamingFetches}`);
      assert.ok(r.audioContexts <= 1, `${at}: audio contexts not closed ${r.audioContexts}`);
    }

    /** The properties the page holds named after the alerts of `round` no longer listed (most of them must be gone). */
    async function namedAfterGone(p: Page, round: number): Promise<string[]> {
      const listed = (await p.evaluate("Array.from(document.querySelectorAll('[data-test=queue-item]'), (b) => b.getAttribute('data-alert-id'))")) as string[];
      const gone = Array.from({ length: ALERTS }, (_, i) => nightAlertId(round, i)).filter((id) => !listed.includes(id));
      assert.ok(gone.length >= ALERTS / 2, `most of round ${round}'s alerts left the list (${gone.length} of ${ALERTS})`);
      return propertiesNamedAfter(cdp, gone);
    }
  });
});
