/**
 * The acoustic-classifier form in the real Node-RED editor (Debian's Chromium driven by
 * playwright-core): an empty threshold field shows the threshold that applies, read from the
 * selected model's card through the editor's admin endpoint. Screenshot in test-artifacts/.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Page } from 'playwright-core';
import { artifactsDir as artifacts, EditorSession, EditorWindow, startEditorSession } from '../support/browser';
import { repoRoot } from '../support/nodered';

/** jQuery's `$(document).on(...)` in the editor page, as these tests use it. */
type JQueryOn = (target: unknown) => { on(event: string, handler: (e: unknown, xhr: unknown, settings: { url: string }) => void): void };

describe('acoustic-classifier form in Chromium', { timeout: 240_000 }, () => {
  let session: EditorSession;

  before(async () => {
    session = await startEditorSession({
      userDirPrefix: 'vigie-form-',
      builtFile: 'acoustic-classifier.html',
      prepare: (userDir) => {
        const card = JSON.parse(fs.readFileSync(path.join(repoRoot, 'models', 'vigie-street-v1.json'), 'utf8'));
        // a second model, in the user directory, whose card recommends other thresholds
        fs.copyFileSync(path.join(repoRoot, 'models', 'vigie-street-v1.onnx'), path.join(userDir, 'other.onnx'));
        fs.writeFileSync(path.join(userDir, 'other.json'), JSON.stringify({ ...card, name: 'other-model', version: '3.4.5', thresholds: { ...card.thresholds, gunshot: 0.6 } }));
        // a drop-in model that can report gunshot and glass breaking only
        const dropin = JSON.parse(fs.readFileSync(path.join(repoRoot, 'test', 'fixtures', 'models', 'yamnet-style.json'), 'utf8'));
        fs.copyFileSync(path.join(repoRoot, 'test', 'fixtures', 'models', 'yamnet-style.onnx'), path.join(userDir, 'dropin.onnx'));
        fs.writeFileSync(path.join(userDir, 'dropin.json'), JSON.stringify({ ...dropin, file: 'dropin.onnx', alertLabels: ['gunshot', 'glass_break'], thresholds: { gunshot: 0.6, glass_break: 0.6 } }));
      },
      flows: [
        { id: 'tab', type: 'tab', label: 'form' },
        { id: 'shipped', type: 'vigie-model', path: '' },
        { id: 'other', type: 'vigie-model', path: 'other.onnx' },
        { id: 'dropin', type: 'vigie-model', path: 'dropin.onnx' },
        { id: 'cls-dropin', type: 'acoustic-classifier', z: 'tab', model: 'dropin', labels: ['gunshot', 'scream'], thresholds: {}, threshold: '', hysteresis: 0.15, hopMs: 500, windowMs: '', minAboveBackgroundDb: 3, minLevelDba: '', minDurationMs: 0, coolDownMs: 2000, channel: 'mix', scores: false, outputs: 2, x: 200, y: 200, wires: [[], []] },
        { id: 'cls', type: 'acoustic-classifier', z: 'tab', model: 'shipped', labels: ['gunshot', 'glass_break'], thresholds: { scream: 0.7 }, threshold: '', hysteresis: 0.15, hopMs: 500, windowMs: '', minAboveBackgroundDb: 3, minLevelDba: '', minDurationMs: 0, coolDownMs: 2000, channel: 'mix', scores: false, outputs: 2, x: 200, y: 100, wires: [[], []] },
      ],
    });
  });

  after(async () => {
    await session?.close();
  });

  const placeholder = (page: Page, sel: string) => page.locator(sel).getAttribute('placeholder');
  const openEditor = (id: string) => session.open(id);

  it('shows the thresholds the selected model card recommends in the empty fields, and follows the default threshold', async () => {
    const { page, errors } = await openEditor('cls');
    try {
      await page.evaluate(() => {
        const RED = (window as unknown as EditorWindow).RED;
        RED.editor.edit(RED.nodes.node('cls'));
      });
      await page.waitForSelector('#vigie-class-gunshot-threshold', { timeout: 30_000 });
      // the shipped card: 0.9 for every alert class
      await page.waitForFunction(() => /vigie-street-v1/.test(document.querySelector('#vigie-classifier-card')?.textContent ?? ''), null, { timeout: 30_000 });
      assert.equal(await placeholder(page, '#vigie-class-gunshot-threshold'), '0.9');
      assert.equal(await placeholder(page, '#vigie-class-glass_break-threshold'), '0.9');
      assert.equal(await page.locator('#vigie-class-scream-threshold').inputValue(), '0.7', 'a class threshold set in the node is kept');
      assert.equal(await placeholder(page, '#node-input-threshold'), '0.9');
      assert.match((await page.locator('#vigie-classifier-card').textContent()) ?? '', /: a class whose threshold is empty uses the one shown in grey, the model card's recommendation\.$/);
      // a default threshold applies to every empty class field
      await page.fill('#node-input-threshold', '0.5');
      assert.equal(await placeholder(page, '#vigie-class-gunshot-threshold'), '0.5');
      assert.match((await page.locator('#vigie-classifier-card').textContent()) ?? '', /the Default threshold below \(0\.5\)\.$/);
      await page.fill('#node-input-threshold', '');
      assert.equal(await placeholder(page, '#vigie-class-gunshot-threshold'), '0.9');
      // another model: its own card's recommendations
      await page.selectOption('#node-input-model', 'other');
      await page.waitForFunction(() => /other-model/.test(document.querySelector('#vigie-classifier-card')?.textContent ?? ''), null, { timeout: 30_000 });
      assert.equal(await placeholder(page, '#vigie-class-gunshot-threshold'), '0.6');
      assert.equal(await placeholder(page, '#vigie-class-glass_break-threshold'), '0.9');
      assert.equal(await placeholder(page, '#node-input-threshold'), 'per class');
      await page.screenshot({ path: path.join(artifacts, 'acoustic-classifier-form.png') });
      // A slow answer for a model chosen before does not overwrite the one chosen last: the
      // answer for "other" is held until the form shows the card of the model chosen after it.
      await page.selectOption('#node-input-model', 'shipped');
      await page.waitForFunction(() => /vigie-street-v1/.test(document.querySelector('#vigie-classifier-card')?.textContent ?? ''), null, { timeout: 30_000 });
      let releaseSlowAnswer!: () => void;
      const slowAnswerReleased = new Promise<void>((r) => (releaseSlowAnswer = r));
      await page.route(/vigie\/model-card\?path=other\.onnx/, async (route) => {
        await slowAnswerReleased;
        await route.continue();
      });
      // Counted in the page once jQuery has run the answer's handlers (ajaxComplete comes after them).
      await page.evaluate(() => {
        const w = window as unknown as { $: JQueryOn; staleAnswersHandled: number };
        w.staleAnswersHandled = 0;
        w.$(document).on('ajaxComplete', (_e: unknown, _xhr: unknown, settings: { url: string }) => {
          if (/vigie\/model-card\?path=other\.onnx/.test(settings.url)) w.staleAnswersHandled++;
        });
      });
      await page.selectOption('#node-input-model', 'other');
      await page.selectOption('#node-input-model', 'shipped');
      // The card is emptied at each change: its text now is the answer for the model chosen last.
      await page.waitForFunction(() => /vigie-street-v1/.test(document.querySelector('#vigie-classifier-card')?.textContent ?? ''), null, { timeout: 30_000 });
      releaseSlowAnswer();
      await page.waitForFunction(() => (window as unknown as { staleAnswersHandled: number }).staleAnswersHandled === 1, null, { timeout: 30_000 });
      assert.match((await page.locator('#vigie-classifier-card').textContent()) ?? '', /^Model vigie-street-v1 /);
      assert.equal(await placeholder(page, '#vigie-class-gunshot-threshold'), '0.9');
      // The editor refuses a per-class threshold the runtime refuses (below 0.01).
      const accepts = (t: number) =>
        page.evaluate(
          (v) =>
            (window as unknown as { RED: { nodes: { getType(t: string): { defaults: { thresholds: { validate(this: unknown, x: unknown, opt: unknown): unknown } } } } } }).RED.nodes
              .getType('acoustic-classifier')
              .defaults.thresholds.validate.call({ labels: ['gunshot'] }, { gunshot: v }, {}),
          t,
        );
      assert.match(String(await accepts(0.005)), /^Threshold of Gunshot: expected a number from 0\.01 to 1/, 'threshold 0.005 is refused, saying why');
      assert.equal(await accepts(0.01), true, 'threshold 0.01 is accepted');
      assert.deepEqual(errors, []);
    } finally {
      await page.close();
    }
  });

  it('a model that lacks some alert classes: the form greys them and says so, a ticked one "never reported"; only classes it lacks ticked is refused', async () => {
    const { page, errors } = await openEditor('cls-dropin');
    try {
      await page.evaluate(() => {
        const RED = (window as unknown as EditorWindow).RED;
        RED.editor.edit(RED.nodes.node('cls-dropin'));
      });
      await page.waitForFunction(() => /yamnet-style/.test(document.querySelector('#vigie-classifier-card')?.textContent ?? ''), null, { timeout: 30_000 });
      const note = async (label: string) => ((await page.locator(`#vigie-class-${label}-missing`).isVisible()) ? await page.locator(`#vigie-class-${label}-missing`).textContent() : null);
      const notes = async () => Object.fromEntries(await Promise.all(['gunshot', 'glass_break', 'scream', 'crash', 'explosion', 'tire_skid'].map(async (l) => [l, await note(l)])));
      assert.deepEqual(await notes(), {
        gunshot: null, glass_break: null,
        scream: 'not in this model: never reported',
        crash: 'not in this model', explosion: 'not in this model', tire_skid: 'not in this model',
      });
      assert.match((await page.locator('#vigie-classifier-card').textContent()) ?? '', / It cannot report Scream: ticked, it is never reported\.$/);
      const listMarked = () => page.locator('#vigie-classifier-classes').evaluate((el) => el.classList.contains('input-error'));
      assert.equal(await listMarked(), false, 'gunshot is ticked: the node works');
      await page.screenshot({ path: path.join(artifacts, 'acoustic-classifier-form-dropin.png') });
      // only classes the model lacks: refused, as the runtime refuses it at its first block
      await page.uncheck('#vigie-class-gunshot');
      await page.check('#vigie-class-crash');
      assert.equal(await listMarked(), true);
      assert.equal(await note('crash'), 'not in this model: never reported');
      assert.match((await page.locator('#vigie-classifier-card').textContent()) ?? '', / It cannot report Scream, Crash: ticked, they are never reported\.$/);
      const valid = await page.evaluate(() => {
        const RED = (window as unknown as { RED: { nodes: { getType(t: string): { defaults: { labels: { validate(this: unknown, x: unknown, opt: unknown): unknown } } }; node(id: string): unknown } } }).RED;
        return RED.nodes.getType('acoustic-classifier').defaults.labels.validate.call(RED.nodes.node('cls-dropin'), ['scream', 'crash'], {});
      });
      assert.equal(valid, 'Alert on: expected at least one class model yamnet-style can report (Gunshot, Glass breaking)');
      await page.check('#vigie-class-glass_break');
      assert.equal(await listMarked(), false);
      // the shipped model has all six: no class is marked
      await page.selectOption('#node-input-model', 'shipped');
      await page.waitForFunction(() => /vigie-street-v1/.test(document.querySelector('#vigie-classifier-card')?.textContent ?? ''), null, { timeout: 30_000 });
      assert.deepEqual(Object.values(await notes()), [null, null, null, null, null, null]);
      assert.doesNotMatch((await page.locator('#vigie-classifier-card').textContent()) ?? '', /cannot report/);
      assert.deepEqual(errors, []);
    } finally {
      await page.close();
    }
  });

  it('the model form says what the chosen file is, from its card, and what is wrong with a bad path', async () => {
    const { page, errors } = await openEditor('other');
    try {
      await page.evaluate(() => (window as unknown as EditorWindow).RED.editor.editConfig('', 'vigie-model', 'other'));
      const card = page.locator('#vigie-model-card');
      await page.waitForFunction(() => /other-model/.test(document.querySelector('#vigie-model-card')?.textContent ?? ''), null, { timeout: 30_000 });
      const text = (await card.textContent()) ?? '';
      assert.match(text, /^other-model 3\.4\.5: may alert on gunshot, glass_break, crash, scream, explosion, tire_skid; recommended thresholds per class in its card\.$/);
      await page.fill('#node-config-input-path', '');
      await page.waitForFunction(() => /^vigie-street-v1 .*recommended threshold 0\.9\.$/.test(document.querySelector('#vigie-model-card')?.textContent ?? ''), null, { timeout: 30_000 });
      await page.fill('#node-config-input-path', 'missing.onnx');
      await page.waitForFunction(() => /Model card: model file missing\.onnx does not exist/.test(document.querySelector('#vigie-model-card')?.textContent ?? ''), null, { timeout: 30_000 });
      await page.screenshot({ path: path.join(artifacts, 'vigie-model-form.png') });
      // A path typed just before the dialog is closed asks for no card afterwards (the debounce timer dies with the dialog).
      await page.evaluate(() => {
        const w = window as unknown as { $: JQueryOn; cardsAsked: string[] };
        w.cardsAsked = [];
        w.$(document).on('ajaxSend', (_e: unknown, _xhr: unknown, settings: { url: string }) => {
          if (/vigie\/model-card/.test(settings.url)) w.cardsAsked.push(settings.url);
        });
      });
      await page.fill('#node-config-input-path', 'typed-then-closed.onnx');
      await page.click('#node-config-dialog-cancel');
      // A negative check, so a fixed wait, timed in the page: the debounce timer (0.4 s) was set
      // at the typing, before this one, so had it survived the dialog it would have fired and
      // asked (ajaxSend is synchronous) before this timer fires.
      const askedAfterClose = await page.evaluate(async () => {
        await new Promise((r) => setTimeout(r, 500));
        return (window as unknown as { cardsAsked: string[] }).cardsAsked;
      });
      assert.deepEqual(askedAfterClose, []);
      assert.deepEqual(errors, []);
    } finally {
      await page.close();
    }
  });
});
