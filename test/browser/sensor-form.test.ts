/**
 * The vigie-sensor form in the real Node-RED editor (Debian's Chromium driven by playwright-core):
 * as the user types custom microphone positions, the form shows what the runtime's admin route
 * (POST /vigie/sensor/geometry) says deploy will make of them — the front/back ambiguity warning for
 * microphones on one line while the field stays valid, gone once they are not, back when they are
 * again; refused positions; never an answer for other text than the field's (a late answer to an
 * older request, a failed request). Screenshots in test-artifacts/.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { artifactsDir as artifacts, EditorSession, EditorWindow, startEditorSession } from '../support/browser';
import { waitFor } from '../support/wait';

const ROUTE = '**/vigie/sensor/geometry';
const COLLINEAR_WARNING = 'mics: collinear microphones measure only the angle from their axis: a bearing and its mirror image (front or back), no elevation. Accepted: deploy uses these positions and logs this warning.';

/** The answer box, once it holds the answer to the request for the text now in the field (or its failure). */
async function settled(page: Page, state: 'checked' | 'failed'): Promise<{ warnings: string[]; errors: string[]; unchecked: string[] }> {
  await page.waitForFunction((s) => document.querySelector('#vigie-sensor-mics-warning')?.getAttribute('data-state') === s, state, { timeout: 10_000 });
  // (no function is named inside: the test's compiler would wrap it in a helper the page lacks)
  const [warnings, errors, unchecked] = await page.evaluate(() =>
    ['warning', 'error', 'unchecked'].map((kind) => Array.from(document.querySelectorAll(`#vigie-sensor-mics-warning [data-kind="${kind}"]`), (e) => (e.textContent ?? '').trim())),
  );
  return { warnings, errors, unchecked };
}

describe('vigie-sensor form in Chromium', { timeout: 240_000 }, () => {
  let session: EditorSession;

  before(async () => {
    session = await startEditorSession({
      userDirPrefix: 'vigie-sensor-form-',
      builtFile: 'vigie-sensor.html',
      flows: [
        { id: 'tab', type: 'tab', label: 'form' },
        // a linear 3-mic array along x
        { id: 'linear', type: 'vigie-sensor', name: 'linear', sensorId: 'linear-1', lat: '45.4397', lon: '4.3872', heightM: 4, headingDeg: 0, array: 'custom', mics: '[[-0.05,0,0],[0,0,0],[0.05,0,0]]', clock: 'ntp', clockErrorMs: '' },
        // two sensors across the 180° meridian, 0.2 m apart (Fiji)
        { id: 'fiji-w', type: 'vigie-sensor', name: 'Suva west', sensorId: 'fiji-w', lat: '-16.5', lon: '179.999999', heightM: 4, headingDeg: 0, array: 'mono', clock: 'ptp', clockErrorMs: '' },
        { id: 'fiji-e', type: 'vigie-sensor', name: 'Suva east', sensorId: 'fiji-e', lat: '-16.5', lon: '-179.999999', heightM: 4, headingDeg: 0, array: 'mono', clock: 'ptp', clockErrorMs: '' },
      ],
    });
  });

  after(async () => {
    await session?.close();
  });

  it("shows the runtime's answer as the user types: the front/back warning for collinear microphones, without refusing them, gone once they are not, back when they are", async () => {
    const { page, errors } = await session.open('linear');
    try {
      await page.evaluate(() => (window as unknown as EditorWindow).RED.editor.editConfig('', 'vigie-sensor', 'linear'));
      const mics = page.locator('#node-config-input-mics');
      const outlined = () => mics.evaluate((el) => el.classList.contains('input-error'));
      // on opening, once the preset menu has loaded and says "custom"
      assert.deepEqual(await settled(page, 'checked'), { warnings: [COLLINEAR_WARNING], errors: [], unchecked: [] });
      assert.equal(await page.locator('#vigie-sensor-mics-warning [data-kind="warning"]').isVisible(), true);
      assert.equal(await outlined(), false, 'the field is not marked invalid');
      await page.screenshot({ path: path.join(artifacts, 'vigie-sensor-form.png') });
      // a triangle: no ambiguity, nothing to say
      await mics.fill('[[-0.05,0,0],[0,0.05,0],[0.05,0,0]]');
      assert.deepEqual(await settled(page, 'checked'), { warnings: [], errors: [], unchecked: [] });
      // typed back onto a line (a diagonal): the warning returns
      await mics.fill('[[-0.05,-0.05,0],[0,0,0],[0.05,0.05,0]]');
      assert.deepEqual(await settled(page, 'checked'), { warnings: [COLLINEAR_WARNING], errors: [], unchecked: [] });
      // two microphones: the runtime's other warning, word for word
      await mics.fill('[[0,0],[0.1,0]]');
      assert.deepEqual((await settled(page, 'checked')).warnings, ['mics: two microphones measure only the angle from their axis: a bearing and its mirror image (front or back), no elevation. Accepted: deploy uses these positions and logs this warning.']);
      // refused by the runtime: said under the field, which stays a well-formed list of numbers
      await mics.fill('[[0,0,0],[0.004,0,0],[0,0.05,0]]');
      assert.deepEqual(await settled(page, 'checked'), { warnings: [], errors: ['mics[0] and [1]: microphones closer than 5 mm. Refused: deploy will not use this sensor.'], unchecked: [] });
      await page.screenshot({ path: path.join(artifacts, 'vigie-sensor-form-refused.png') });
      await mics.press('End'); // the editor validates a field on keyup
      assert.equal(await outlined(), false, 'spacing is the runtime\'s to judge, not the outline\'s');
      // not JSON: outlined, and the runtime says what it expected
      await mics.fill('[[0,0,0],[0.1,0,0],');
      await mics.press('End');
      assert.match((await settled(page, 'checked')).errors.join('\n'), /^mics: expected JSON such as \[\[0,0\.05,0\],\[0\.05,0,0\]\] \(metres\)/);
      assert.equal(await outlined(), true, 'a field that is not JSON is outlined');
      assert.deepEqual(errors, []);
    } finally {
      await page.close();
    }
  });

  it('warns, naming it, of another sensor at the same position (across the 180° meridian too), without refusing the fields; gone once the position differs', async () => {
    const { page, errors } = await session.open('fiji-e');
    try {
      await page.evaluate(() => (window as unknown as EditorWindow).RED.editor.editConfig('', 'vigie-sensor', 'fiji-e'));
      const said = () => page.evaluate(() => Array.from(document.querySelectorAll('#vigie-sensor-position-warning [data-kind="warning"]'), (e) => (e.textContent ?? '').trim()));
      await page.waitForFunction(() => document.querySelectorAll('#vigie-sensor-position-warning [data-kind="warning"]').length === 1, undefined, { timeout: 10_000 });
      assert.deepEqual(await said(), [
        'At the same position as vigie-sensor "Suva west" (node fiji-w), 0.2 m away: two sensors at one place measure one range, and the localizer needs sensors at 3 places to place a sound from their onsets. Check the latitude and longitude.',
      ]);
      const lon = page.locator('#node-config-input-lon');
      await lon.press('End');
      assert.equal(await lon.evaluate((el) => el.classList.contains('input-error')), false, 'the longitude is not marked invalid');
      await page.screenshot({ path: path.join(artifacts, 'vigie-sensor-form-same-position.png') });
      // 11 m east: nothing to say
      await lon.fill('-179.9999');
      assert.deepEqual(await said(), []);
      assert.deepEqual(errors, []);
    } finally {
      await page.close();
    }
  });

  it('never shows an answer for other text than the field holds: a failed request leaves no warning, a late answer to an older request is dropped', async () => {
    const { page, errors } = await session.open('linear');
    try {
      await page.evaluate(() => (window as unknown as EditorWindow).RED.editor.editConfig('', 'vigie-sensor', 'linear'));
      const mics = page.locator('#node-config-input-mics');
      assert.deepEqual((await settled(page, 'checked')).warnings, [COLLINEAR_WARNING]);

      // The runtime cannot be reached: the warning shown for the text before does not stay.
      await page.route(ROUTE, (route) => route.abort());
      await mics.fill('[[0,0,0],[0.1,0,0],[0.2,0,0]]');
      const failed = await settled(page, 'failed');
      assert.deepEqual(failed.warnings, [], 'no warning left from the text before');
      assert.deepEqual(failed.errors, []);
      assert.match(failed.unchecked.join('\n'), /^Positions not checked \(no answer\): deploy will say whether it accepts them\.$/);
      await page.unroute(ROUTE);

      // Which answers have reached the form's handlers (jQuery fires ajaxComplete after them).
      await page.evaluate(() => {
        const w = window as unknown as { answered: string[]; $: (d: Document) => { on(e: string, f: (e: unknown, x: unknown, s: { url: string; data: string }) => void): void } };
        w.answered = [];
        w.$(document).on('ajaxComplete', (_e, _x, s) => {
          if (/vigie\/sensor\/geometry/.test(s.url)) w.answered.push(JSON.parse(s.data).mics);
        });
      });
      // The answer for a line is held back until the one for the triangle typed after it has been shown.
      const line = '[[0,0,0],[0,0.1,0],[0,0.2,0]]';
      const triangle = '[[0,0,0],[0.1,0,0],[0.05,0.08,0]]';
      let lineAsked = false;
      let releaseLine!: () => void;
      const lineHeld = new Promise<void>((resolve) => (releaseLine = resolve));
      await page.route(ROUTE, async (route) => {
        if (route.request().postDataJSON()?.mics === line) {
          lineAsked = true;
          await lineHeld;
        }
        await route.continue();
      });
      await mics.fill(line);
      await waitFor(() => lineAsked, 10_000, 'the request for the collinear layout');
      await mics.fill(triangle);
      assert.deepEqual(await settled(page, 'checked'), { warnings: [], errors: [], unchecked: [] });
      releaseLine();
      await page.waitForFunction((l) => (window as unknown as { answered: string[] }).answered.includes(l), line, { timeout: 10_000 });
      assert.equal(await mics.inputValue(), triangle);
      assert.deepEqual(await settled(page, 'checked'), { warnings: [], errors: [], unchecked: [] }, 'the late answer for the line is not shown');
      await page.unroute(ROUTE);
      assert.deepEqual(errors, []);
    } finally {
      await page.close();
    }
  });
});
