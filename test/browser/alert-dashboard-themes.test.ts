/**
 * The console on every theme an operator may pick, in a real browser (Debian's Chromium, real Node-RED with
 * Dashboard 2.0): the shipped flows' theme and each of Dashboard 2.0's own presets (Light, Dark, Dracula,
 * Nord, Sepia, read from the installed package as its ui-theme editor lists them). On each, every word reads
 * at 4.5:1 or more and the marks that carry meaning (a line's edge, the frame of the alert open, the focus
 * ring, the fields' edges, the camera's aim and the bearing heard, the plan's scale bar and north arrow) at
 * 3:1 or more, as painted: the palette's colours that read on white (#6a1b9a, #d32f2f) do not on
 * near-black, its amber does not on white, and the plan's words and lines sit on light map tiles whatever
 * the theme. Screenshots go to test-artifacts/.
 */
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Browser, BrowserContext, Page } from 'playwright-core';
import { consoleFlow, DashboardServer, ensureWidgetBuilt, startDashboardServer, namedSensorNode } from '../support/dashboard-server';
import { artifactsDir as artifacts, launchChromium } from '../support/browser';
import { repoRoot } from '../support/nodered';
import { consoleDetection, openConsoleAs, screenshotPagesIfFailed, openAlert } from '../support/console-page';
import { contrast, PAINTED_FIELDS, PAINTED_LOW_CONTRAST, PAINTED_MARKS, PAINTED_PLAN, PAINTED_WORDS_RATIO } from '../support/contrast';
// eslint-disable-next-line @typescript-eslint/ban-ts-comment
// @ts-ignore -- plain JS module of the widget
import { fromLocal } from '../../ui/components/plan.js';

type ThemeColours = { surface: string; primary: string; bgPage: string; groupBg: string; groupOutline: string };

/** Dashboard 2.0's theme presets, as its ui-theme editor offers them (THEME_PRESETS in its ui-base form). */
function dashboardThemePresets(): Record<string, ThemeColours> {
  const form = fs.readFileSync(path.join(repoRoot, 'node_modules', '@flowfuse', 'node-red-dashboard', 'nodes', 'config', 'ui_base.html'), 'utf8');
  const literal = /const THEME_PRESETS = (\{[\s\S]*?\n {4}\})\n/.exec(form);
  assert.ok(literal, 'Dashboard 2.0\'s ui-base form lists its theme presets');
  const presets = (new Function(`return ${literal[1]}`)() as { presets: Record<string, { colors: ThemeColours }> }).presets;
  return Object.fromEntries(Object.entries(presets).map(([name, p]) => [name, p.colors]));
}

const SHIPPED = consoleFlow().find((n) => n.type === 'ui-theme')!.colors as ThemeColours;
const PRESETS = dashboardThemePresets();
const THEMES: Array<[string, ThemeColours]> = [['the shipped flows\' theme', SHIPPED], ...Object.entries(PRESETS).map(([name, colours]): [string, ThemeColours] => [`Dashboard 2.0's "${name}" preset`, colours])];

const RUE_NORD = { lat: 45.4399, lon: 4.387 };
const PLACE_SUD = fromLocal(RUE_NORD, 60, -120) as { lat: number; lon: number };
const CAMERA_AT = fromLocal(RUE_NORD, -40, -50) as { lat: number; lon: number };
/** The source: 30 m north-east of the Rue Nord mast. */
const SOURCE = fromLocal(RUE_NORD, 21.21, 21.21) as { lat: number; lon: number };
const camera = (state: string) => ({ id: 'cam-place', name: 'Camera place', pan: 0.1, tilt: -0.2, zoom: 0.3, target: { bearing: 40, tilt: -4, distanceM: 95 }, state });
const ago = (s: number) => Date.now() / 1000 - s;
const rgb = (hex: string) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)).join(',');

type Measure = { what: string; ratio: number; min: number };
const below = (measures: Measure[]) => measures.filter((m) => m.ratio < m.min).map((m) => `${m.what} at ${m.ratio.toFixed(2)}:1 (needs ${m.min}:1)`);

it('the themes tested are the shipped one and every preset Dashboard 2.0 offers', () => {
  assert.deepEqual(Object.keys(PRESETS).sort(), ['dark', 'dracula', 'light', 'nord', 'sepia'], 'a preset Dashboard 2.0 added is tested here too: look at the console on it');
});

for (const [themeName, colours] of THEMES) {
  const file = `alert-dashboard-theme-${themeName.replace(/^.*"(\w+)".*$/, '$1').replace(/^the shipped.*/, 'shipped')}`;
  describe(`alert-dashboard on ${themeName} in Chromium`, { timeout: 300_000 }, () => {
    let server: DashboardServer;
    let browser: Browser;
    const pages = new Map<string, Page>();
    const contexts: BrowserContext[] = [];

    before(async () => {
      ensureWidgetBuilt();
      const sensor = namedSensorNode;
      const flow = consoleFlow().map((n) => (n.type === 'ui-theme' ? { ...n, name: themeName, colors: colours } : n));
      // two named sensors and a camera on the plan, over the flow's map tiles (the camera is never connected: no flow uses it)
      const cam = { id: 'cfg-cam', type: 'vigie-camera', cameraId: 'cam-place', name: 'Camera place', host: '127.0.0.1', port: 9, lat: CAMERA_AT.lat, lon: CAMERA_AT.lon, heightM: 6, mountHeadingDeg: 0, maxRangeM: 300 };
      server = await startDashboardServer([...flow, sensor('cfg-nord', 'rue-nord', 'Rue Nord mast', RUE_NORD), sensor('cfg-sud', 'place-sud', 'Place Sud mast', PLACE_SUD), cam], {
        nodeTypes: ['alert-dashboard', 'vigie-sensor', 'vigie-camera'],
      });
      browser = await launchChromium();
    });

    afterEach(async (t) => {
      await screenshotPagesIfFailed(t, file, pages);
      for (const c of contexts.splice(0)) await c.close().catch(() => undefined);
      pages.clear();
    });

    after(async () => {
      await browser?.close();
      await server?.stop();
    });

    async function openConsole(name: string, prepare?: (page: Page) => Promise<void>): Promise<Page> {
      const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
      contexts.push(context);
      const page = await context.newPage();
      pages.set(name, page);
      return openConsoleAs(page, server.baseUrl, name, prepare);
    }
    const open = openAlert;
    /** Once no new line flashes (its background changes meanwhile). */
    const still = (page: Page) => page.waitForFunction(() => !document.querySelector('.vg-flash'), null, { timeout: 30_000 });

    it('every word, badge and mark of the queue, the alert open and its plan reads (4.5:1 words, 3:1 marks)', async () => {
      const id = 'theme-q';
      const states: Array<[string, string, string | null]> = [
        ['new', 'on-target', null],
        ['seen', 'moving', null],
        ['confirmed', 'waiting', 'confirm'],
        ['escalated', 'failed', 'escalate'],
        ['dismissed', 'released', 'dismiss'],
      ];
      // the unhandled newest opens when the console loads: the one to stay new is the oldest
      states.forEach(([state, cam], i) => server.inject('dash', { payload: consoleDetection(`${id}-${state}`, 'glass_break', ago(i ? 20 - i : 40), { camera: camera(cam) }) }));
      const una = await openConsole('Una');
      // the theme as Dashboard 2.0 paints it: the group's background
      const surface = await una.evaluate(() => getComputedStyle(document.querySelector('.vigie-console')!).getPropertyValue('--v-theme-surface'));
      assert.equal(surface, rgb(colours.groupBg));
      for (const [state, , action] of states) {
        await una.waitForSelector(`[data-alert-id="${id}-${state}"]`, { timeout: 30_000 });
        if (state === 'new') continue;
        await open(una, `${id}-${state}`);
        if (action) {
          await una.locator(`[data-test=${action}]`).click();
          await una.waitForSelector(`[data-alert-id="${id}-${state}"].vg-state-${state}`, { timeout: 30_000 });
        }
      }
      // open: a located alert, its plan with both masts, the camera and the source over the map tiles, a camera to move
      const located = (alertId: string, cam: string, bearing = {}) =>
        server.inject('dash', {
          payload: consoleDetection(alertId, 'gunshot', ago(30), { sensorInfo: { ...RUE_NORD, heading: 90, clock: 'ntp' }, location: { method: 'tdoa', position: { ...SOURCE, errorM: 4 }, sensors: ['rue-nord', 'place-sud'], ...bearing }, camera: camera(cam) }),
        });
      located(`${id}-located`, 'proposed');
      await una.waitForSelector(`[data-alert-id="${id}-located"]`, { timeout: 30_000 });
      await open(una, `${id}-located`);
      await una.waitForSelector('[data-test=plan] image', { timeout: 30_000 });
      await una.waitForSelector('[data-test=move]', { timeout: 30_000 });
      await una.waitForSelector(`[data-alert-id="${id}-seen"].vg-state-seen`, { timeout: 30_000 });
      await still(una);
      await una.screenshot({ path: path.join(artifacts, `${file}-queue-plan.png`) });

      // everything measured first, then what reads too faintly, all at once
      const words = await una.evaluate<string[]>(`(${PAINTED_LOW_CONTRAST})('.vigie-console')`);
      const marks = await una.evaluate<Measure[]>(`(${PAINTED_MARKS})(null)`);
      assert.deepEqual(marks.map((m) => m.what.replace(/ \(open\)/, '')).filter((w) => w.endsWith('edge')).sort(), [
        'vg-state-confirmed: its edge', 'vg-state-dismissed: its edge', 'vg-state-escalated: its edge', 'vg-state-new: its edge', 'vg-state-seen: its edge', 'vg-state-seen: its edge',
      ], 'every state\'s edge, and the line open, measured');

      // the camera turned to it, and the bearing the mast heard: both lines drawn over the tiles
      located(`${id}-aimed`, 'on-target', { method: 'bearings', bearing: 45, bearingStd: 6 });
      await una.waitForSelector(`[data-alert-id="${id}-aimed"]`, { timeout: 30_000 });
      await open(una, `${id}-aimed`);
      await una.waitForSelector('[data-test=plan-aim]', { timeout: 30_000 });
      await una.waitForSelector('[data-test=plan] image', { timeout: 30_000 });
      await una.locator('[data-test=plan]').screenshot({ path: path.join(artifacts, `${file}-plan-aim.png`) });
      const plan = await una.evaluate<Measure[]>(`(${PAINTED_PLAN})()`);
      assert.deepEqual(plan.map((m) => m.what).sort(), [
        'plan: "20 m"', 'plan: "Camera place"', 'plan: "Gunshot"', 'plan: "N"', 'plan: "Place Sud mast"', 'plan: "Rue Nord mast"', 'plan: the bearing heard', 'plan: the camera\'s aim', 'plan: the north arrow', 'plan: the scale bar',
      ]);

      // an offline camera's words, in the alert's facts and on the plan, as the console writes them (their class, in
      // their place): a camera goes offline only with a PTZ connection, which this flow does not have
      const offline = await una.evaluate<{ words: string[]; plan: Measure[] }>(`(async () => {
        const note = document.createElement('small');
        note.className = 'vg-offline-note';
        note.textContent = 'no answer since 21:40';
        document.querySelector('[data-test=camera]').append(note);
        const label = document.createElementNS('http://www.w3.org/2000/svg', 'text');
        label.setAttribute('class', 'vg-plan-offline');
        label.setAttribute('font-weight', 'bold');
        label.setAttribute('x', '40');
        label.setAttribute('y', '60');
        label.textContent = 'Camera place — offline';
        document.querySelector('[data-test=plan]').append(label);
        const out = { words: (${PAINTED_LOW_CONTRAST})('[data-test=camera]'), plan: (await (${PAINTED_PLAN})()).filter((m) => m.what.includes('offline')) };
        note.remove();
        label.remove();
        return out;
      })()`);
      assert.equal(offline.plan.length, 1);
      assert.deepEqual([...words, ...offline.words, ...below(marks), ...below(plan), ...below(offline.plan)], [],
        'words under 4.5:1 (the queue, the alert open, "offline" in the camera fact), marks under 3:1 (the lines\' edges, the open line\'s frame), the plan\'s words and marks over its tiles');
    });

    it('the fields to type in (the name, the note) show their edges at 3:1 and their placeholders at 4.5:1', async () => {
      const id = 'theme-fields';
      // older than the other tests' alerts: the console opens the newest unhandled one by itself
      server.inject('dash', { payload: consoleDetection(id, 'scream', ago(3600)) });
      const ida = await openConsole('Ida');
      await ida.waitForSelector(`[data-alert-id="${id}"]`, { timeout: 30_000 });
      await open(ida, id);
      const measures = await ida.evaluate<Measure[]>(`(${PAINTED_FIELDS})('[data-test=operator], [data-test=note]')`);
      assert.deepEqual(measures.map((m) => m.what), ['operator: its edge', 'operator: its placeholder', 'note: its edge', 'note: its placeholder']);
      assert.deepEqual(below(measures), []);
    });

    it('the focus ring on a queue line, a decision and the red banner stands out (3:1 or more)', async () => {
      const id = 'theme-f';
      server.inject('dash', { payload: consoleDetection(`${id}-open`, 'gunshot', ago(10), { camera: camera('proposed') }) });
      const vic = await openConsole('Vic');
      await vic.waitForSelector(`[data-test=detail][data-shown-alert="${id}-open"]`, { timeout: 30_000 });
      // a new alert while one is open: the red banner
      server.inject('dash', { payload: consoleDetection(`${id}-new`, 'explosion', ago(1)) });
      await vic.locator('[data-test=banner]').waitFor({ timeout: 30_000 });
      await still(vic);
      await vic.mouse.move(1, 1);
      await vic.locator('[data-test=operator]').focus();
      await vic.keyboard.press('Tab');
      const banner = await vic.evaluate(() => {
        const el = document.activeElement as HTMLElement;
        const s = getComputedStyle(el);
        const page = getComputedStyle(el.closest('.v-card, .v-application') as HTMLElement).backgroundColor;
        return { test: el.dataset.test, visible: el.matches(':focus-visible'), shadow: s.boxShadow, bg: s.backgroundColor, page };
      });
      assert.equal(banner.test, 'banner');
      const ring = /^((?:rgb|color)\([^)]*\)) 0px 0px 0px 3px$/.exec(banner.shadow);
      assert.ok(banner.visible && ring, `the banner's outer ring: ${JSON.stringify(banner)}`);
      assert.ok(contrast(ring![1], banner.page) >= 3, `the banner's ring on the group around it: ${ring![1]} on ${banner.page} is ${contrast(ring![1], banner.page).toFixed(2)}:1`);
      await vic.keyboard.press('Tab');
      assert.equal(await vic.evaluate(() => (document.activeElement as HTMLElement).dataset.test), 'queue-item');
      await vic.screenshot({ path: path.join(artifacts, `${file}-focus.png`) });
      const onLine = await vic.evaluate<Measure[]>(`(${PAINTED_MARKS})('.vigie-item:focus-visible')`);
      await vic.locator('[data-test=note]').focus();
      await vic.keyboard.press('Tab');
      assert.equal(await vic.evaluate(() => (document.activeElement as HTMLElement).dataset.test), 'confirm');
      const onButton = await vic.evaluate<Measure[]>(`(${PAINTED_MARKS})('[data-test=confirm]:focus-visible')`);
      const rings = [...onLine, ...onButton].filter((m) => m.what.endsWith('focus ring'));
      assert.equal(rings.length, 2);
      assert.deepEqual(below(rings), [], 'the focus rings');
    });

    // Such a browser drops every rule and value that uses the function: the widget's stylesheet as it reads it
    // (an @supports test of the function, false there, is true once it is renamed).
    for (const [fn, versions] of [
      ['light-dark', 'older than Chrome 123, Firefox 120, Safari 17.5'],
      ['color-mix', 'older than Chrome 111, Firefox 113, Safari 16.2'],
    ] as const) {
      it(`reads the same in a browser without CSS ${fn}() (${versions}): the lines' edges, the focus ring, the words and the fields`, async () => {
        const lea = await openConsole('Lea', async (page) => {
          await page.addInitScript((name: string) => {
            new MutationObserver(() => {
              const css = document.getElementById('vigie-alert-dashboard-css');
              if (css && !css.dataset.asOlderBrowsers) {
                css.dataset.asOlderBrowsers = 'yes';
                css.textContent = css.textContent!.replaceAll(`${name}(`, 'unknown-function(');
              }
            }).observe(document, { childList: true, subtree: true });
          }, fn);
        });
        assert.equal(await lea.evaluate(() => document.getElementById('vigie-alert-dashboard-css')!.dataset.asOlderBrowsers), 'yes');
        // the first test's alerts, in every state
        await lea.waitForSelector('[data-alert-id="theme-q-seen"].vg-state-seen', { timeout: 30_000 });
        await lea.waitForSelector('[data-alert-id="theme-q-escalated"].vg-state-escalated', { timeout: 30_000 });
        await lea.waitForSelector('[data-test=detail][data-settled=yes]', { timeout: 30_000 });
        await still(lea);
        await lea.mouse.move(1, 1);
        await lea.locator('[data-test=operator]').focus();
        for (let i = 0; i < 6 && (await lea.evaluate(() => (document.activeElement as HTMLElement).dataset.test)) !== 'queue-item'; i++) await lea.keyboard.press('Tab');
        const marks = await lea.evaluate<Measure[]>(`(${PAINTED_MARKS})('.vigie-item:focus-visible')`);
        assert.ok(marks.some((m) => m.what.endsWith('focus ring')), 'a queue line has the keyboard\'s focus');
        assert.ok(marks.filter((m) => m.what.endsWith('edge')).length >= 5, 'every state\'s edge measured');
        const words = await lea.evaluate<string[]>(`(${PAINTED_LOW_CONTRAST})('.vigie-console')`);
        const fields = await lea.evaluate<Measure[]>(`(${PAINTED_FIELDS})('[data-test=operator], [data-test=note]')`);
        assert.ok(fields.filter((m) => m.what.endsWith('edge') || m.what.endsWith('(not drawn)')).length >= 2, 'the fields\' edges measured');
        assert.deepEqual([...words, ...below(marks), ...below(fields)], []);
        // The states keep their colours: a line's edge whose colour the browser cannot compute is drawn in
        // the words' colour, which reads but says nothing.
        const edges = await lea.evaluate(() =>
          ['new', 'seen', 'confirmed', 'escalated'].map((state) => {
            const line = document.querySelector(`.vigie-item.vg-state-${state}`);
            const s = line ? getComputedStyle(line) : undefined;
            return { state, edge: s?.borderLeftColor, words: s?.color };
          }),
        );
        for (const e of edges) assert.ok(e.edge && e.edge !== e.words, `a ${e.state} line's edge has a colour of its own: ${JSON.stringify(e)}`);
        assert.equal(new Set(edges.map((e) => e.edge)).size, edges.length, `four states, four colours: ${JSON.stringify(edges)}`);
        // A line dealt with is drawn fainter than one waiting, a dismissed one fainter still, and a line's
        // details fainter than its label: what the operator has to read first stands out.
        const sel = (state: string, part: string) => `[data-alert-id="theme-q-${state}"] ${part}`;
        const faint = await lea.evaluate<Record<string, number>>(
          `(${PAINTED_WORDS_RATIO})(${JSON.stringify(['new', 'seen', 'confirmed', 'escalated', 'dismissed'].flatMap((st) => [sel(st, '.vg-label'), sel(st, '.vg-meta')]))})`,
        );
        const said = JSON.stringify(faint, (_k, v) => (typeof v === 'number' ? Number(v.toFixed(2)) : v));
        assert.equal(Object.keys(faint).length, 10, `every state's line measured: ${said}`);
        for (const waiting of ['new', 'seen']) {
          for (const done of ['confirmed', 'escalated', 'dismissed']) {
            assert.ok(faint[sel(done, '.vg-label')] < faint[sel(waiting, '.vg-label')] * 0.95, `a ${done} line fainter than a ${waiting} one: ${said}`);
          }
        }
        for (const done of ['confirmed', 'escalated']) assert.ok(faint[sel('dismissed', '.vg-label')] < faint[sel(done, '.vg-label')] * 0.95, `a dismissed line fainter than a ${done} one: ${said}`);
        for (const st of ['new', 'confirmed']) assert.ok(faint[sel(st, '.vg-meta')] < faint[sel(st, '.vg-label')] * 0.95, `a ${st} line's details fainter than its label: ${said}`);
      });
    }
  });
}
