/**
 * What a console tab left open for a whole shift costs the browser: real Node-RED with
 * Dashboard 2.0 and the alert-dashboard widget, Debian's Chromium (headless), and a night
 * compressed into rounds (test/support/night-probe.ts): alerts raised, enriched, opened with
 * their picture, dismissed, removed by the cap, the connection dropped and back. After each
 * round, garbage collected, it prints the page's JS heap, DOM nodes, event listeners, object
 * URLs, intervals, timeouts, WebSockets and streaming fetches still open, then the median
 * growth per round after the first, and the map tiles asked for per round.
 *
 *   npx tsx bench/console-night.ts [--rounds 8] [--alerts 30] [--pictures 4] [--dismissed 2] [--max-alerts 40]
 */
import type { Browser } from 'playwright-core';
import { numberArg } from './args';
import { launchChromium } from '../test/support/browser';
import { openConsoleAs } from '../test/support/console-page';
import { consoleFlow, DashboardServer, ensureWidgetBuilt, startDashboardServer } from '../test/support/dashboard-server';
import { NightCounts, nightCounts, NIGHT_PROBE_SCRIPT, nightSession, playNightRound } from '../test/support/night-probe';

const ROUNDS = numberArg('rounds', 8);
const ALERTS = numberArg('alerts', 30);
const PICTURES = numberArg('pictures', 4);
const DISMISSED = numberArg('dismissed', 2);
const MAX_ALERTS = numberArg('max-alerts', 40);
const RECONNECT = numberArg('reconnect', 1) !== 0;

const COLUMNS: Array<keyof NightCounts> = ['heapUsedKB', 'domNodes', 'listeners', 'documents', 'images', 'objectUrls', 'intervals', 'timeouts', 'webSockets', 'streamingFetches', 'audioContexts'];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function main(): Promise<void> {
  ensureWidgetBuilt();
  let server: DashboardServer | undefined;
  let browser: Browser | undefined;
  try {
    server = await startDashboardServer(consoleFlow({ maxAlerts: MAX_ALERTS, keepSnapshots: false }));
    browser = await launchChromium();
    const page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
    await page.addInitScript({ content: NIGHT_PROBE_SCRIPT });
    await openConsoleAs(page, server.baseUrl, 'Nadia');
    const cdp = await nightSession(page);
    const rows: NightCounts[] = [await nightCounts(page, cdp)];
    // map tiles the page asked the tile server for, per round (the plan is drawn again for every alert opened)
    const tiles: number[] = [server.tileRequests.length];
    console.log(`console left open: ${ROUNDS} rounds of ${ALERTS} alerts (${PICTURES} pictures watched, ${DISMISSED} dismissed, one reconnection each), at most ${MAX_ALERTS} listed`);
    console.log(['round', ...COLUMNS, 'tileRequests'].join('\t'));
    console.log(['start', ...COLUMNS.map((c) => rows[0][c]), 0].join('\t'));
    for (let round = 1; round <= ROUNDS; round++) {
      await playNightRound(page, server, round, { alerts: ALERTS, pictures: PICTURES, dismissed: DISMISSED, reconnect: RECONNECT }).catch(async (e) => {
        await page.screenshot({ path: 'test-artifacts/console-night-failed.png', fullPage: true });
        throw e;
      });
      rows.push(await nightCounts(page, cdp));
      tiles.push(server.tileRequests.length);
      console.log([round, ...COLUMNS.map((c) => rows[round][c]), tiles[round] - tiles[round - 1]].join('\t'));
    }
    // the first round fills the list up to its cap: growth is measured from the second on
    const growth = (c: keyof NightCounts) => median(rows.slice(2).map((r, i) => r[c] - rows[i + 1][c]));
    console.log(['median growth per round (after the first)', ...COLUMNS.map(growth)].join('\t'));
    console.log(['median over rounds', ...COLUMNS.map((c) => median(rows.slice(1).map((r) => r[c]))), median(tiles.slice(1).map((t, i) => t - tiles[i]))].join('\t'));
  } finally {
    await browser?.close();
    await server?.stop();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
