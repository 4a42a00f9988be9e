/**
 * What the console's browser tests share: a detection to raise as an alert, and opening the
 * console on a page as a named operator.
 */
import type { Page } from 'playwright-core';

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
  await page.waitForSelector('.vigie-console[data-loaded=yes]', { state: 'attached', timeout: 60_000 });
  await page.fill('[data-test=operator]', name);
  await page.locator('[data-test=operator]').blur();
  return page;
}
