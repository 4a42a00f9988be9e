/**
 * What the console's browser tests share: their Node-RED and Chromium, a detection to raise as
 * an alert, opening the console on a page as a named operator, screenshots of a failed test.
 */
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { artifactsDir, launchChromium } from './browser';
import { consoleFlow, DashboardServer, ensureWidgetBuilt, startDashboardServer } from './dashboard-server';

/** A detection from the Rue Nord mast (the console tests' sensor), with `extra` fields over it. */
export function consoleDetection(id: string, label: string, onset: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    kind: 'detection',
    id,
    sensor: 'rue-nord',
    label,
    confidence: 0.87,
    onset,
    offset: onset + 0.6,
    level: { dbfs: -14.2, dba: 91 },
    scores: { [label]: 0.87 },
    span: { sensor: 'rue-nord', start: 160000, frames: 9600 },
    sensorInfo: { lat: 45.4399, lon: 4.387, heading: 90, clock: 'ntp' },
    ...extra,
  };
}

/**
 * Opens the console at `baseUrl` on `page` (page errors logged under `name`; `prepare` runs
 * before it loads), waits until Node-RED's queue has arrived, and enters the operator's name.
 */
export async function openConsoleAs(page: Page, baseUrl: string, name: string, prepare?: (page: Page) => Promise<void>): Promise<Page> {
  page.on('pageerror', (e) => console.error(`[${name}] page error: ${e.message}`));
  await prepare?.(page);
  await page.goto(`${baseUrl}/dashboard/alerts`);
  // the queue from Node-RED has arrived (late-joiner state), so later alerts count as new
  // (a locator, not waitForSelector: the element handle that returns would keep this widget alive after Dashboard 2.0 replaced it)
  await page.locator('.vigie-console[data-loaded=yes]').waitFor({ state: 'attached', timeout: 60_000 });
  await page.fill('[data-test=operator]', name);
  await page.locator('[data-test=operator]').blur();
  return page;
}

/** A Node-RED serving the console flow (the widget built first) and a Chromium to open it in. */
export async function startConsoleServerAndBrowser(): Promise<{ server: DashboardServer; browser: Browser }> {
  ensureWidgetBuilt();
  const server = await startDashboardServer(consoleFlow());
  return { server, browser: await launchChromium() };
}

/** When the test `t` failed, a screenshot of each page in the artifacts folder, "<name>-failed-<page>.png". */
export async function screenshotPagesIfFailed(t: unknown, name: string, pages: Map<string, Page>): Promise<void> {
  if ((t as { passed?: boolean }).passed) return;
  for (const [pageName, page] of pages) await page.screenshot({ path: path.join(artifactsDir, `${name}-failed-${pageName}.png`) }).catch(() => undefined);
}

/** Opens an alert of the queue by a click, the pointer moved away before and after (no hover state measured), and waits until it is shown and settled. */
export async function openAlert(page: Page, alertId: string): Promise<void> {
  await page.mouse.move(1, 1);
  await page.locator(`[data-alert-id="${alertId}"]`).click();
  await page.mouse.move(1, 1);
  await page.locator(`[data-test=detail][data-shown-alert="${alertId}"][data-settled=yes]`).waitFor({ timeout: 30_000 });
}
