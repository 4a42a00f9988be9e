/**
 * The vigie-sensor form in the real Node-RED editor (Debian's Chromium driven by playwright-core):
 * custom microphones on one line get a front/back ambiguity warning while the field stays valid,
 * and the warning goes when the layout is fixed. Screenshot in test-artifacts/.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { artifactsDir as artifacts, EditorSession, EditorWindow, startEditorSession } from '../support/browser';

describe('vigie-sensor form in Chromium', { timeout: 240_000 }, () => {
  let session: EditorSession;

  before(async () => {
    session = await startEditorSession({
      userDirPrefix: 'vigie-sensor-form-',
      builtFile: 'vigie-sensor.html',
      flows: [
        { id: 'tab', type: 'tab', label: 'form' },
        // a linear 3-mic array along x, saved before the form warned of it
        { id: 'linear', type: 'vigie-sensor', name: 'linear', sensorId: 'linear-1', lat: '45.4397', lon: '4.3872', heightM: 4, headingDeg: 0, array: 'custom', mics: '[[-0.05,0,0],[0,0,0],[0.05,0,0]]', clock: 'ntp', clockErrorMs: '' },
      ],
    });
  });

  after(async () => {
    await session?.close();
  });

  it('warns of front/back ambiguity for collinear custom microphones, without refusing them, and stops once they are not', async () => {
    const { page, errors } = await session.open('linear');
    try {
      await page.evaluate(() => (window as unknown as EditorWindow).RED.editor.editConfig('', 'vigie-sensor', 'linear'));
      const warning = page.locator('#vigie-sensor-mics-warning');
      // shown on opening, once the preset menu has loaded and says "custom"
      await page.waitForFunction(() => /^ Collinear microphones give a bearing with front\/back ambiguity/.test(document.querySelector('#vigie-sensor-mics-warning')?.textContent ?? ''), null, { timeout: 30_000 });
      assert.equal(await warning.locator('.form-tips').isVisible(), true);
      const mics = page.locator('#node-config-input-mics');
      assert.equal(await mics.evaluate((el) => el.classList.contains('input-error')), false, 'the field is not marked invalid');
      await page.screenshot({ path: path.join(artifacts, 'vigie-sensor-form.png') });
      // a triangle: no ambiguity, no warning
      await mics.fill('[[-0.05,0,0],[0,0.05,0],[0.05,0,0]]');
      await page.waitForFunction(() => document.querySelector('#vigie-sensor-mics-warning')?.textContent === '', null, { timeout: 10_000 });
      assert.equal(await warning.locator('.form-tips').count(), 0);
      // typed back onto a line: the warning returns
      await mics.fill('[[-0.05,-0.05,0],[0,0,0],[0.05,0.05,0]]');
      await warning.locator('.form-tips').waitFor({ state: 'visible', timeout: 10_000 });
      assert.deepEqual(errors, []);
    } finally {
      await page.close();
    }
  });
});
