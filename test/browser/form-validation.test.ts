/**
 * Why a field is refused, in the real Node-RED editor (Debian's Chromium driven by playwright-core):
 * a bad value outlines the field in red AND the pointer over it shows the reason the form's
 * validator returns (Node-RED >= 3.1 puts a validator's string in a tooltip on the field, and in
 * the node's list of invalid properties once the dialog is closed). Forms: mic-capture, vigie-camera,
 * acoustic-classifier (whose hop is checked against the selected model's window, and whose class
 * thresholds are fields of its own), and ptz-steer, whose ranges are checked by the forms' shared
 * script (resources/vigie-editor.js), served by Node-RED and loaded by the editor before the forms.
 * Screenshots in test-artifacts/.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { artifactsDir as artifacts, EditorSession, EditorWindow, startEditorSession } from '../support/browser';

type Red = EditorWindow['RED'] & {
  nodes: { getType(t: string): { defaults: Record<string, { validate(this: unknown, v: unknown, opt: unknown): unknown }> } };
};

/** Types `value` into a field as a user does (the editor validates on keyup and change). */
async function typeInto(page: Page, selector: string, value: string): Promise<void> {
  await page.fill(selector, value);
  await page.press(selector, 'End');
}

async function outlined(page: Page, selector: string): Promise<boolean> {
  return page.locator(selector).evaluate((el) => el.classList.contains('input-error'));
}

/** The tooltip shown with the pointer over a field (the editor shows it after 0.75 s), then the pointer moves away. */
async function reasonOver(page: Page, selector: string, shot?: string): Promise<string> {
  await page.mouse.move(1, 1);
  await page.hover(selector);
  const tip = page.locator('.red-ui-popover:visible .red-ui-popover-content').first();
  await tip.waitFor({ state: 'visible', timeout: 10_000 });
  const text = ((await tip.textContent()) ?? '').trim();
  if (shot) await page.screenshot({ path: path.join(artifacts, shot) });
  await page.mouse.move(1, 1);
  await tip.waitFor({ state: 'hidden', timeout: 10_000 });
  return text;
}

/** What the form's validator of `type`.`key` returns for `value`, for the node being edited. */
function validatorSays(page: Page, type: string, key: string, nodeId: string, value: unknown): Promise<unknown> {
  return page.evaluate(
    ([t, k, id, v]) => {
      const RED = (window as unknown as { RED: Red }).RED;
      return RED.nodes.getType(t as string).defaults[k as string].validate.call(RED.nodes.node(id as string), v, {});
    },
    [type, key, nodeId, value],
  );
}

describe('editor forms in Chromium: a refused field says why', { timeout: 300_000 }, () => {
  let session: EditorSession;

  before(async () => {
    session = await startEditorSession({
      userDirPrefix: 'vigie-validation-',
      builtFile: 'mic-capture.html',
      flows: [
        { id: 'tab', type: 'tab', label: 'forms' },
        { id: 's1', type: 'vigie-sensor', sensorId: 'corner-1', lat: '45.4397', lon: '4.3872', heightM: 4, headingDeg: 0, array: 'mono', clock: 'ntp', clockErrorMs: '' },
        { id: 'm1', type: 'vigie-model', path: '' },
        { id: 'mic', type: 'mic-capture', z: 'tab', sensor: 's1', source: 'alsa', device: 'default', blockMs: 100, ringSeconds: 5, levelEveryMs: 1000, x: 150, y: 80, wires: [[], []] },
        { id: 'cls', type: 'acoustic-classifier', z: 'tab', model: 'm1', labels: ['gunshot', 'scream'], thresholds: {}, threshold: '', hysteresis: 0.15, hopMs: 500, windowMs: '', minAboveBackgroundDb: 3, minLevelDba: '', minDurationMs: 0, coolDownMs: 2000, channel: 'mix', scores: false, outputs: 2, x: 150, y: 160, wires: [[], []] },
        { id: 'fresh', type: 'acoustic-classifier', z: 'tab', model: '', x: 150, y: 240, wires: [[], []] },
        { id: 'steer', type: 'ptz-steer', z: 'tab', cameras: [], mode: 'automatic', toleranceDeg: 1, moveTimeoutS: 15, returnHomeS: 120, waitForCameraS: 300, assumedDistanceM: 40, frameWidthM: 10, emitOnStart: false, x: 150, y: 320, wires: [[]] },
        { id: 'cam', type: 'vigie-camera', name: 'dome', cameraId: 'dome-1', host: '10.0.0.5', port: 80, lat: '45.44', lon: '4.39', heightM: 6, tiltMinDeg: -90, tiltMaxDeg: 20 },
        { id: 'mast', type: 'vigie-camera', name: 'mast', cameraId: 'mast-1', host: '10.0.0.6', port: 80, lat: '45.44', lon: '4.39', heightM: 6, tiltMinDeg: -90, tiltMaxDeg: 20 },
        // ticked cameras of which one is gone (a selection exported without it)
        { id: 'stale', type: 'ptz-steer', z: 'tab', cameras: ['cam', 'gone-cam'], mode: 'automatic', x: 150, y: 400, wires: [[], []] },
      ],
    });
  });

  after(async () => {
    await session?.close();
  });

  it('mic-capture: Block 5 ms and a password in the URL are outlined, the pointer shows why, and the node lists both', async () => {
    const { page, errors } = await session.open('mic');
    try {
      await page.evaluate(() => (window as unknown as EditorWindow).RED.editor.edit((window as unknown as EditorWindow).RED.nodes.node('mic')));
      await page.waitForSelector('#node-input-blockMs', { timeout: 30_000 });
      assert.equal(await outlined(page, '#node-input-blockMs'), false, 'valid on opening');
      await typeInto(page, '#node-input-blockMs', '5');
      assert.equal(await outlined(page, '#node-input-blockMs'), true, 'Block 5 is outlined');
      const block = await reasonOver(page, '#node-input-blockMs', 'validation-mic-capture-block.png');
      assert.equal(block, 'Block: expected a whole number from 10 to 2000 ms (empty: 100)');
      assert.equal(block, await validatorSays(page, 'mic-capture', 'blockMs', 'mic', '5'), 'the reason is what the validator returns');
      // an ffmpeg URL carrying a password (saved in plain text in the flows): refused as the camera's form refuses it
      await page.selectOption('#node-input-source', 'ffmpeg');
      await typeInto(page, '#node-input-url', 'rtsp://op:s3cret@10.0.0.5/stream1');
      assert.equal(await outlined(page, '#node-input-url'), true, 'a password in the URL is outlined');
      const url = await reasonOver(page, '#node-input-url', 'validation-mic-capture-url.png');
      assert.equal(url, 'URL: expected no password in the URL (it would be saved in plain text in the flows); put the user and password in the user and password fields of this form');
      // fixed: no longer outlined, and the reason is gone with it
      await typeInto(page, '#node-input-url', 'rtsp://10.0.0.5/stream1');
      assert.equal(await outlined(page, '#node-input-url'), false);
      await typeInto(page, '#node-input-url', 'rtsp://op:s3cret@10.0.0.5/stream1');
      await page.click('#node-dialog-ok');
      // closed: the node is invalid (the red triangle), its reasons listed for the node's tooltip
      const node = await page.evaluate(() => {
        const n = (window as unknown as EditorWindow).RED.nodes.node('mic') as { valid: boolean; validationErrors: string[] };
        return { valid: n.valid, validationErrors: n.validationErrors };
      });
      assert.equal(node.valid, false);
      assert.deepEqual(node.validationErrors, [url, block]);
      assert.deepEqual(errors, []);
    } finally {
      await page.close();
    }
  });

  it("the forms' shared script: Node-RED serves it, the editor loads it before the forms, and its range check outlines ptz-steer's Tolerance 50°", async () => {
    const SCRIPT = '/resources/node-red-dashboard-2-vigie/vigie-editor.js';
    const TOLERANCE = 'Tolerance: expected a number from 0.05 to 20° (empty: 1)';
    const openSteer = async (page: Page) => {
      await page.evaluate(() => (window as unknown as EditorWindow).RED.editor.edit((window as unknown as EditorWindow).RED.nodes.node('steer')));
      await page.waitForSelector('#node-input-toleranceDeg', { timeout: 30_000 });
      assert.equal(await outlined(page, '#node-input-toleranceDeg'), false, 'valid on opening');
      await typeInto(page, '#node-input-toleranceDeg', '50');
      assert.equal(await outlined(page, '#node-input-toleranceDeg'), true, 'Tolerance 50° is outlined');
    };
    // As served: the editor asked for the script at the form's relative URL (once per form that
    // loads it: the first answer 200, the next ones 304 Not Modified), and runs it.
    const served: number[] = [];
    const plain = await session.open('steer', async (page) => {
      page.on('response', (r) => void (new URL(r.url()).pathname === SCRIPT && served.push(r.status())));
    });
    try {
      assert.ok(served.includes(200) && served.every((status) => status === 200 || status === 304), `GET ${SCRIPT}: ${served.join(', ')}`);
      const loaded = await plain.page.evaluate((src) => ({
        elements: Array.from(document.scripts).filter((el) => new URL(el.src || 'about:blank', location.href).pathname === src).length,
        api: typeof (window as unknown as { VigieEditor?: { range?: unknown } }).VigieEditor?.range,
      }), SCRIPT);
      assert.ok(loaded.elements > 0, 'the editor put the script in the page');
      assert.equal(loaded.api, 'function', 'VigieEditor.range is defined');
      await openSteer(plain.page);
      const reason = await reasonOver(plain.page, '#node-input-toleranceDeg', 'validation-ptz-steer-tolerance.png');
      assert.equal(reason, TOLERANCE);
      assert.equal(reason, await validatorSays(plain.page, 'ptz-steer', 'toleranceDeg', 'steer', '50'));
      assert.deepEqual(plain.errors, []);
    } finally {
      await plain.page.close();
    }
    // The check is the served script's own: a copy whose range reasons end with a mark makes the
    // form say the mark (a check of the form's own would not).
    const marked = await session.open('steer', async (page) => {
      await page.route(`**${SCRIPT}`, async (route) => {
        const original = await route.fetch();
        const body = (await original.text()) +
          '\nVigieEditor = (function (shared) { return Object.freeze(Object.assign({}, shared, { range: function () {' +
          ' var check = shared.range.apply(null, arguments);' +
          " return function (v, opt) { var r = check.call(this, v, opt); return r === true ? r : r + ' [served]'; }; } })); })(VigieEditor);\n";
        await route.fulfill({ response: original, body });
      });
    });
    try {
      await openSteer(marked.page);
      assert.equal(await reasonOver(marked.page, '#node-input-toleranceDeg'), `${TOLERANCE} [served]`);
      assert.deepEqual(marked.errors, []);
    } finally {
      await marked.page.close();
    }
  });

  it('vigie-camera: a tilt range of 30 … 20 outlines its max, saying why', async () => {
    const { page, errors } = await session.open('cam');
    try {
      await page.evaluate(() => (window as unknown as EditorWindow).RED.editor.editConfig('', 'vigie-camera', 'cam'));
      await page.waitForSelector('#node-config-input-tiltMinDeg', { timeout: 30_000 });
      assert.equal(await outlined(page, '#node-config-input-tiltMaxDeg'), false, 'valid on opening');
      // the min changed: the max, valid alone, is outlined with the pair's reason
      await typeInto(page, '#node-config-input-tiltMinDeg', '20');
      assert.equal(await outlined(page, '#node-config-input-tiltMaxDeg'), true);
      assert.equal(await outlined(page, '#node-config-input-tiltMinDeg'), false);
      const tilt = await reasonOver(page, '#node-config-input-tiltMaxDeg', 'validation-vigie-camera-tilt.png');
      assert.equal(tilt, 'Tilt range: expected two different ends (left 20°), got 20°');
      assert.equal(tilt, await validatorSays(page, 'vigie-camera', 'tiltMaxDeg', 'cam', '20'));
      await typeInto(page, '#node-config-input-tiltMinDeg', '-90');
      assert.equal(await outlined(page, '#node-config-input-tiltMaxDeg'), false, 'valid again');
      // a latitude out of range, said with the range
      await typeInto(page, '#node-config-input-lat', '145');
      assert.equal(await reasonOver(page, '#node-config-input-lat'), 'Latitude: expected a number from -90 to 90°');
      assert.deepEqual(errors, []);
    } finally {
      await page.close();
    }
  });

  it("vigie-camera: ticking HTTPS turns a port of 80 into the empty field meaning 443, shows Check its certificate (ticked for a camera saved before it existed), and Test connection sends both", async () => {
    const { page, errors } = await session.open('cam');
    try {
      // Test connection's request, answered here: the form's values are what matters
      let sent: Record<string, unknown> | undefined;
      await page.route('**/vigie/camera/test', async (route) => {
        sent = route.request().postDataJSON();
        await route.fulfill({ json: { ok: false, code: 'unreachable', error: 'connect: camera unreachable' } });
      });
      await page.evaluate(() => (window as unknown as EditorWindow).RED.editor.editConfig('', 'vigie-camera', 'cam'));
      await page.waitForSelector('#node-config-input-https', { timeout: 30_000 });
      assert.equal(await page.isChecked('#node-config-input-https'), false);
      assert.equal(await page.isVisible('#node-config-input-httpsVerify'), false, 'hidden without HTTPS');
      assert.equal(await page.inputValue('#node-config-input-port'), '80');
      await page.check('#node-config-input-https');
      assert.equal(await page.inputValue('#node-config-input-port'), '', 'port 80 emptied: 443');
      assert.equal(await page.getAttribute('#node-config-input-port', 'placeholder'), '443');
      assert.equal(await page.isVisible('#node-config-input-httpsVerify'), true);
      assert.equal(await page.isChecked('#node-config-input-httpsVerify'), true, 'the certificate checked unless unticked');
      assert.equal(await outlined(page, '#node-config-input-port'), false);
      await page.click('#vigie-camera-test');
      await page.waitForFunction(() => /unreachable/.test(document.querySelector('#vigie-camera-test-result')?.textContent ?? ''), undefined, { timeout: 10_000 });
      assert.equal(sent?.https, true, JSON.stringify(sent));
      assert.equal(sent?.httpsVerify, true, JSON.stringify(sent));
      assert.equal(sent?.port, '');
      await page.uncheck('#node-config-input-httpsVerify');
      await page.click('#vigie-camera-test');
      await page.waitForFunction(() => !/Connecting/.test(document.querySelector('#vigie-camera-test-result')?.textContent ?? ''), undefined, { timeout: 10_000 });
      assert.equal(sent?.httpsVerify, false, JSON.stringify(sent));
      // back to HTTP: the placeholder says 80 again, a port typed by hand stays
      await typeInto(page, '#node-config-input-port', '8443');
      await page.uncheck('#node-config-input-https');
      assert.equal(await page.getAttribute('#node-config-input-port', 'placeholder'), '80');
      assert.equal(await page.inputValue('#node-config-input-port'), '8443');
      await page.screenshot({ path: path.join(artifacts, 'vigie-camera-https.png') });
      assert.deepEqual(errors, []);
    } finally {
      await page.close();
    }
  });

  it('vigie-camera: a Camera id another camera has is outlined, naming it; so is a Host holding a user and password, without repeating them', async () => {
    const { page, errors } = await session.open('cam');
    try {
      await page.evaluate(() => (window as unknown as EditorWindow).RED.editor.editConfig('', 'vigie-camera', 'cam'));
      await page.waitForSelector('#node-config-input-cameraId', { timeout: 30_000 });
      assert.equal(await outlined(page, '#node-config-input-cameraId'), false, 'its own id: valid on opening');
      await typeInto(page, '#node-config-input-cameraId', 'mast-1');
      assert.equal(await outlined(page, '#node-config-input-cameraId'), true);
      const id = await reasonOver(page, '#node-config-input-cameraId', 'validation-vigie-camera-duplicate-id.png');
      assert.equal(id, 'Camera id: "mast-1" is already the Camera id of vigie-camera "mast" (node mast); expected an id of its own');
      assert.equal(id, await validatorSays(page, 'vigie-camera', 'cameraId', 'cam', 'mast-1'));
      await typeInto(page, '#node-config-input-cameraId', 'dome-1');
      assert.equal(await outlined(page, '#node-config-input-cameraId'), false);
      await typeInto(page, '#node-config-input-host', 'admin:s3cret@10.0.0.5');
      assert.equal(await outlined(page, '#node-config-input-host'), true);
      const host = await reasonOver(page, '#node-config-input-host');
      assert.ok(!host.includes('s3cret'), host);
      assert.match(host, /^Host: expected the camera's host name or IP address alone, .* the user and password go in the Username and Password fields, the port in Port\)$/);
      await typeInto(page, '#node-config-input-host', '[fe80::5]');
      assert.equal(await outlined(page, '#node-config-input-host'), false, 'an IPv6 address in brackets');
      assert.deepEqual(errors, []);
    } finally {
      await page.close();
    }
  });

  it('ptz-steer: a ticked camera that no longer exists is listed as missing, and the node is invalid until it is unticked', async () => {
    const { page, errors } = await session.open('stale');
    try {
      const state = () =>
        page.evaluate(() => {
          const n = (window as unknown as EditorWindow).RED.nodes.node('stale') as { valid: boolean; validationErrors: string[]; cameras: string[] };
          return { valid: n.valid, validationErrors: n.validationErrors, cameras: n.cameras };
        });
      assert.deepEqual(await state(), { valid: false, validationErrors: ['Cameras: missing camera gone-cam (deleted, or not imported with this node): untick it, or add the camera again'], cameras: ['cam', 'gone-cam'] });
      await page.evaluate(() => (window as unknown as EditorWindow).RED.editor.edit((window as unknown as EditorWindow).RED.nodes.node('stale')));
      await page.waitForSelector('#ptz-steer-cameras .ptz-steer-camera-missing', { timeout: 30_000 });
      const missing = page.locator('#ptz-steer-cameras .ptz-steer-camera-missing');
      assert.equal(((await missing.textContent()) ?? '').trim(), 'missing camera gone-cam (deleted, or not imported): untick it');
      assert.equal(await missing.locator('input').isChecked(), true);
      assert.equal(await page.locator('#ptz-steer-cameras input[value="cam"]').isChecked(), true, 'the camera that exists stays ticked');
      await page.screenshot({ path: path.join(artifacts, 'validation-ptz-steer-missing-camera.png') });
      await missing.locator('input').uncheck();
      await page.click('#node-dialog-ok');
      assert.deepEqual(await state(), { valid: true, validationErrors: [], cameras: ['cam'] });
      assert.deepEqual(errors, []);
    } finally {
      await page.close();
    }
  });

  it('acoustic-classifier: every Alert on box unticked outlines the list, saying why, as the runtime refuses it', async () => {
    const { page, errors } = await session.open('cls');
    try {
      await page.evaluate(() => (window as unknown as EditorWindow).RED.editor.edit((window as unknown as EditorWindow).RED.nodes.node('cls')));
      await page.waitForSelector('#vigie-class-gunshot', { timeout: 30_000 });
      assert.equal(await outlined(page, '#vigie-classifier-classes'), false, 'two ticked on opening');
      await page.uncheck('#vigie-class-gunshot');
      assert.equal(await outlined(page, '#vigie-classifier-classes'), false, 'one still ticked');
      await page.uncheck('#vigie-class-scream');
      assert.equal(await outlined(page, '#vigie-classifier-classes'), true, 'none ticked');
      const why = await reasonOver(page, '#vigie-classifier-classes', 'validation-acoustic-classifier-no-class.png');
      assert.equal(why, 'Alert on: expected at least one class ticked');
      assert.equal(why, await validatorSays(page, 'acoustic-classifier', 'labels', 'cls', []));
      await page.check('#vigie-class-crash');
      assert.equal(await outlined(page, '#vigie-classifier-classes'), false);
      await page.click('#node-dialog-cancel');
      assert.deepEqual(errors, []);
    } finally {
      await page.close();
    }
  });

  it('acoustic-classifier: a hop longer than the model window and a class threshold of 5 are outlined, saying why; a classifier without a model shows no empty tip', async () => {
    const { page, errors } = await session.open('cls');
    try {
      await page.evaluate(() => (window as unknown as EditorWindow).RED.editor.edit((window as unknown as EditorWindow).RED.nodes.node('cls')));
      await page.waitForFunction(() => /vigie-street-v1/.test(document.querySelector('#vigie-classifier-card')?.textContent ?? ''), null, { timeout: 30_000 });
      assert.equal(await page.locator('#node-input-windowMs').getAttribute('placeholder'), '1000', "the model's window in the empty Window field");
      await typeInto(page, '#node-input-hopMs', '1500');
      assert.equal(await outlined(page, '#node-input-hopMs'), true, 'hop 1500 ms with a 1000 ms window is outlined');
      const hop = await reasonOver(page, '#node-input-hopMs', 'validation-acoustic-classifier-hop.png');
      assert.equal(hop, 'Hop: expected at most the window of model vigie-street-v1, 1000 ms');
      assert.equal(hop, await validatorSays(page, 'acoustic-classifier', 'hopMs', 'cls', '1500'));
      await typeInto(page, '#node-input-hopMs', '1000');
      assert.equal(await outlined(page, '#node-input-hopMs'), false, 'hop 1000 ms fits');
      // a class threshold: its own field, outlined as the editor outlines its fields
      await typeInto(page, '#vigie-class-gunshot-threshold', '5');
      assert.equal(await outlined(page, '#vigie-class-gunshot-threshold'), true, 'threshold 5 is outlined');
      const threshold = await reasonOver(page, '#vigie-class-gunshot-threshold', 'validation-acoustic-classifier-threshold.png');
      assert.equal(threshold, 'Threshold of Gunshot: expected a number from 0.01 to 1 (empty: the threshold shown in grey)');
      assert.equal(threshold, await validatorSays(page, 'acoustic-classifier', 'thresholds', 'cls', { gunshot: 5 }));
      // an unticked class is not read by the runtime: not outlined
      await page.uncheck('#vigie-class-gunshot');
      assert.equal(await outlined(page, '#vigie-class-gunshot-threshold'), false);
      await page.check('#vigie-class-gunshot');
      assert.equal(await outlined(page, '#vigie-class-gunshot-threshold'), true);
      await page.click('#node-dialog-ok');
      const node = await page.evaluate(() => {
        const n = (window as unknown as EditorWindow).RED.nodes.node('cls') as { valid: boolean; validationErrors: string[]; thresholds: unknown };
        return { valid: n.valid, validationErrors: n.validationErrors, thresholds: n.thresholds };
      });
      assert.deepEqual(node.thresholds, { gunshot: 5 });
      assert.equal(node.valid, false);
      assert.deepEqual(node.validationErrors, [threshold]);
      // the dialog gone (its fields share ids with the next one's)
      await page.locator('#vigie-classifier-card').waitFor({ state: 'detached', timeout: 10_000 });
      // a new classifier without a model: the model field says what it needs, no empty yellow strip
      await page.evaluate(() => (window as unknown as EditorWindow).RED.editor.edit((window as unknown as EditorWindow).RED.nodes.node('fresh')));
      await page.waitForSelector('#vigie-class-gunshot-threshold', { timeout: 30_000 });
      assert.equal(await page.locator('#vigie-classifier-card').isVisible(), false, 'no tip when there is nothing to say');
      assert.equal(await reasonOver(page, '#node-input-model'), 'Model: expected a vigie-model (choose one, or add one with +)');
      await page.screenshot({ path: path.join(artifacts, 'validation-acoustic-classifier-fresh.png') });
      assert.deepEqual(errors, []);
    } finally {
      await page.close();
    }
  });
});
