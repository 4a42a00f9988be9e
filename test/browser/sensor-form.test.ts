/**
 * The vigie-sensor form in the real Node-RED editor (Debian's Chromium driven by playwright-core):
 * custom microphones on one line get a front/back ambiguity warning while the field stays valid,
 * and the warning goes when the layout is fixed. Screenshot in test-artifacts/.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Browser, chromium } from 'playwright-core';
import { makeUserDir, repoRoot, RunningNodeRed, startNodeRed } from '../support/nodered';

const CHROMIUM = '/usr/bin/chromium';
const artifacts = path.join(repoRoot, 'test-artifacts');

type EditorWindow = { RED: { editor: { editConfig(name: string, type: string, id: string): void }; nodes: { node(id: string): unknown } } };

describe('vigie-sensor form in Chromium', { timeout: 240_000 }, () => {
  let red: RunningNodeRed;
  let browser: Browser;
  let userDir: string;

  before(async () => {
    assert.ok(fs.existsSync(CHROMIUM), 'Debian chromium is installed at /usr/bin/chromium');
    assert.ok(fs.existsSync(path.join(repoRoot, 'dist', 'nodes', 'vigie-sensor.html')), 'npm run build has run');
    userDir = makeUserDir('vigie-sensor-form-');
    red = await startNodeRed({
      userDir,
      settings: { nodesDir: path.join(repoRoot, 'dist', 'nodes'), telemetry: { enabled: false } },
      flows: [
        { id: 'tab', type: 'tab', label: 'form' },
        // a linear 3-mic array along x, saved before the form warned of it
        { id: 'linear', type: 'vigie-sensor', name: 'linear', sensorId: 'linear-1', lat: '45.4397', lon: '4.3872', heightM: 4, headingDeg: 0, array: 'custom', mics: '[[-0.05,0,0],[0,0,0],[0.05,0,0]]', clock: 'ntp', clockErrorMs: '' },
      ],
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update'] });
    fs.mkdirSync(artifacts, { recursive: true });
  });

  after(async () => {
    await browser?.close();
    await red?.stop();
    if (userDir) fs.rmSync(userDir, { recursive: true, force: true });
  });

  it('warns of front/back ambiguity for collinear custom microphones, without refusing them, and stops once they are not', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    try {
      await page.goto(`${red.url}/`);
      await page.waitForFunction(() => !!(window as unknown as Partial<EditorWindow>).RED?.nodes?.node('linear'), null, { timeout: 90_000 });
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
