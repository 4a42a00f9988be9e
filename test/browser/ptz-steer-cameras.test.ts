/**
 * ptz-steer's camera list in the real Node-RED editor (Debian's Chromium driven by playwright-core):
 * "Add a camera…" opens Node-RED's own vigie-camera dialog; its Add puts the new config node in the
 * workspace (so Deploy sends it) and in the list, ticked beside the ticked cameras, or unticked when
 * none is ticked (every camera, the new one included); its Cancel adds nothing; a camera added
 * stays when ptz-steer's form is then cancelled, as with Node-RED's own pickers; a camera's pencil
 * opens that camera's dialog, whose Update and Delete the list follows. What Deploy sent is read
 * back from the runtime (GET /flows). Screenshots in test-artifacts/.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { artifactsDir as artifacts, EditorSession, startEditorSession } from '../support/browser';

type Node = { id: string; type: string; name?: string; cameraId?: string; host?: string; cameras?: string[]; changed?: boolean };
type Red = {
  editor: { edit(n: unknown): void };
  nodes: { node(id: string): Node | null; eachConfig(cb: (n: Node) => void): void; dirty(): boolean };
};
type RedWindow = { RED: Red };

// Port 1 is closed on loopback: the deployed cameras fail to connect, which is all this test needs.
const camera = (id: string, name: string, cameraId: string) => ({ id, type: 'vigie-camera', name, cameraId, host: '127.0.0.1', port: 1, lat: '45.4397', lon: '4.3872', heightM: 6, mountHeadingDeg: 0 });
// Every setting given, so that a form closed with Done and nothing changed leaves nothing to deploy.
const steer = (id: string, y: number, cameras: string[]) => ({
  id, type: 'ptz-steer', z: 'tab', name: id, cameras, mode: 'automatic', toleranceDeg: 1, moveTimeoutS: 15, returnHomeS: 120, waitForCameraS: 300, assumedDistanceM: 40, frameWidthM: 10, emitOnStart: false, x: 200, y, wires: [[], []],
});

/** The form's camera list as the user sees it: each line's label, tick and edit button's name. */
function listed(page: Page): Promise<Array<{ label: string; ticked: boolean; edit: string | null }>> {
  return page.evaluate(() =>
    Array.from(document.querySelectorAll('#ptz-steer-cameras .ptz-steer-camera'), (row) => ({
      label: (row.querySelector('label')?.textContent ?? '').trim(),
      ticked: (row.querySelector('input[type=checkbox]') as HTMLInputElement).checked,
      edit: row.querySelector('button.ptz-steer-camera-edit')?.getAttribute('aria-label') ?? null,
    })),
  );
}

/** The vigie-camera config nodes in the editor's workspace. */
function workspaceCameras(page: Page): Promise<Node[]> {
  return page.evaluate(() => {
    const found: Node[] = [];
    (window as unknown as RedWindow).RED.nodes.eachConfig((n) => {
      if (n.type === 'vigie-camera') found.push({ id: n.id, type: n.type, name: n.name, cameraId: n.cameraId, host: n.host, changed: n.changed });
    });
    return found;
  });
}

function dirty(page: Page): Promise<boolean> {
  return page.evaluate(() => (window as unknown as RedWindow).RED.nodes.dirty());
}

async function editSteer(page: Page, id: string): Promise<void> {
  await page.evaluate((nodeId) => (window as unknown as RedWindow).RED.editor.edit((window as unknown as RedWindow).RED.nodes.node(nodeId)), id);
  await page.waitForSelector('#ptz-steer-add-camera', { state: 'visible', timeout: 30_000 });
}

/** Fills the new camera's required fields (host, lat, lon) and its name and id. */
async function fillCamera(page: Page, name: string, cameraId: string): Promise<void> {
  await page.waitForSelector('#node-config-input-host', { state: 'visible', timeout: 30_000 });
  await page.fill('#node-config-input-name', name);
  await page.fill('#node-config-input-cameraId', cameraId);
  await page.fill('#node-config-input-host', '127.0.0.1');
  await page.fill('#node-config-input-port', '1');
  await page.fill('#node-config-input-lat', '45.4401');
  await page.fill('#node-config-input-lon', '4.3880');
}

/** The camera dialog closed, and the form's list drawn with `label` in it. */
async function listShows(page: Page, label: string): Promise<void> {
  await page.waitForSelector('#node-config-dialog-ok', { state: 'detached', timeout: 10_000 });
  await page.getByLabel(label, { exact: true }).waitFor({ timeout: 10_000 });
}

/** A screenshot once the top dialog has slid fully in (Node-RED slides it with a CSS transition of its `right`). */
async function shoot(page: Page, file: string): Promise<void> {
  await page.waitForFunction(() => {
    const trays = document.querySelectorAll('#red-ui-editor-stack .red-ui-tray');
    const top = trays[trays.length - 1];
    return !!top && getComputedStyle(top).right === '0px';
  }, undefined, { timeout: 10_000 });
  await page.screenshot({ path: path.join(artifacts, file) });
}

/** Deploy from the header button; done when the editor is no longer dirty. */
async function deploy(page: Page): Promise<void> {
  assert.equal(await dirty(page), true, 'there is something to deploy');
  await page.click('#red-ui-header-button-deploy');
  await page.waitForFunction(() => !(window as unknown as RedWindow).RED.nodes.dirty(), undefined, { timeout: 30_000 });
}

/** What the runtime runs now. */
async function deployed(session: EditorSession): Promise<Node[]> {
  const r = await fetch(`${session.url}/flows`, { headers: { Accept: 'application/json', 'Node-RED-API-Version': 'v1' } });
  assert.equal(r.status, 200);
  return (await r.json()) as Node[];
}

describe("ptz-steer's camera list in Chromium: add and edit a vigie-camera from the form", { timeout: 300_000 }, () => {
  let session: EditorSession;

  before(async () => {
    session = await startEditorSession({
      userDirPrefix: 'vigie-steer-cameras-',
      builtFile: 'ptz-steer.html',
      flows: [
        { id: 'tab', type: 'tab', label: 'cameras' },
        camera('north', 'North camera', 'cam-north'),
        camera('south', 'South camera', 'cam-south'),
        steer('picked', 100, ['north']),
        // none ticked: every camera (the shipped control room's choice)
        steer('every', 200, []),
      ],
    });
  });

  after(async () => {
    await session?.close();
  });

  it('Add a camera…: the dialog\'s Add puts the camera in the list, ticked beside North; Done and Deploy send the camera and its id in cameras', async () => {
    const { page, errors } = await session.open('picked');
    try {
      await editSteer(page, 'picked');
      assert.deepEqual(await listed(page), [
        { label: 'North camera (cam-north)', ticked: true, edit: 'Edit camera North camera (cam-north)' },
        { label: 'South camera (cam-south)', ticked: false, edit: 'Edit camera South camera (cam-south)' },
      ]);
      // a real button: reached and pressed from the keyboard
      await page.focus('#ptz-steer-add-camera');
      await page.keyboard.press('Enter');
      await fillCamera(page, 'East camera', 'cam-east');
      assert.equal(await page.textContent('#node-config-dialog-ok'), 'Add');
      await page.click('#node-config-dialog-ok');
      await listShows(page, 'East camera (cam-east)');
      assert.deepEqual(await listed(page), [
        { label: 'North camera (cam-north)', ticked: true, edit: 'Edit camera North camera (cam-north)' },
        { label: 'South camera (cam-south)', ticked: false, edit: 'Edit camera South camera (cam-south)' },
        { label: 'East camera (cam-east)', ticked: true, edit: 'Edit camera East camera (cam-east)' },
      ]);
      await shoot(page, 'ptz-steer-cameras-added.png');
      // in the workspace, as Node-RED's own pickers leave a new config node: changed, and the flows dirty
      const east = (await workspaceCameras(page)).find((c) => c.cameraId === 'cam-east');
      assert.ok(east, 'the new camera is a config node of the workspace');
      assert.equal(east.changed, true);
      assert.equal(await dirty(page), true);

      await page.click('#node-dialog-ok');
      const cameras = await page.evaluate(() => (window as unknown as RedWindow).RED.nodes.node('picked')?.cameras);
      assert.deepEqual(cameras, ['north', east.id]);
      await deploy(page);
      const flows = await deployed(session);
      const sent = flows.find((n) => n.id === east.id);
      assert.ok(sent, 'Deploy sent the new camera');
      assert.deepEqual([sent.type, sent.name, sent.cameraId, sent.host], ['vigie-camera', 'East camera', 'cam-east', '127.0.0.1']);
      assert.deepEqual(flows.find((n) => n.id === 'picked')?.cameras, ['north', east.id]);
      assert.deepEqual(errors, []);
    } finally {
      await page.close();
    }
  });

  it('with none ticked (every camera), the new camera joins unticked: cameras stays [] and every camera, the new one included, is used', async () => {
    const { page, errors } = await session.open('every');
    try {
      await editSteer(page, 'every');
      const before = await listed(page);
      assert.ok(before.length >= 2 && before.every((row) => !row.ticked), JSON.stringify(before));
      await page.click('#ptz-steer-add-camera');
      await fillCamera(page, 'West camera', 'cam-west');
      await page.click('#node-config-dialog-ok');
      await listShows(page, 'West camera (cam-west)');
      const after = await listed(page);
      assert.deepEqual(after.slice(0, before.length), before, 'the cameras listed before are unchanged');
      assert.deepEqual(after.slice(before.length), [{ label: 'West camera (cam-west)', ticked: false, edit: 'Edit camera West camera (cam-west)' }]);
      await page.click('#node-dialog-ok');
      assert.deepEqual(await page.evaluate(() => (window as unknown as RedWindow).RED.nodes.node('every')?.cameras), []);
      await deploy(page);
      const flows = await deployed(session);
      assert.ok(flows.some((n) => n.type === 'vigie-camera' && n.cameraId === 'cam-west'), 'Deploy sent the new camera');
      assert.deepEqual(flows.find((n) => n.id === 'every')?.cameras, []);
      assert.deepEqual(errors, []);
    } finally {
      await page.close();
    }
  });

  it("Cancel in the camera dialog adds nothing: no config node, no line, nothing to deploy, the node's cameras unchanged", async () => {
    const { page, errors } = await session.open('picked');
    try {
      await editSteer(page, 'picked');
      const camerasBefore = await workspaceCameras(page);
      const listBefore = await listed(page);
      assert.equal(await dirty(page), false);
      await page.click('#ptz-steer-add-camera');
      await fillCamera(page, 'Cancelled camera', 'cam-cancelled');
      await page.click('#node-config-dialog-cancel');
      await page.waitForSelector('#node-config-dialog-cancel', { state: 'detached', timeout: 10_000 });
      assert.deepEqual(await workspaceCameras(page), camerasBefore);
      assert.deepEqual(await listed(page), listBefore);
      assert.equal(await dirty(page), false);
      // the form still works: Done keeps the ticks as they were
      const cameras = await page.evaluate(() => (window as unknown as RedWindow).RED.nodes.node('picked')?.cameras);
      await page.click('#node-dialog-ok');
      assert.deepEqual(await page.evaluate(() => (window as unknown as RedWindow).RED.nodes.node('picked')?.cameras), cameras);
      assert.equal(await dirty(page), false, 'nothing to deploy');
      assert.deepEqual(errors, []);
    } finally {
      await page.close();
    }
  });

  it("a camera added, then ptz-steer's form cancelled: the camera stays in the workspace (as with Node-RED's own pickers) and Deploy sends it; the node's cameras unchanged", async () => {
    const { page, errors } = await session.open('picked');
    try {
      await editSteer(page, 'picked');
      const cameras = await page.evaluate(() => (window as unknown as RedWindow).RED.nodes.node('picked')?.cameras);
      await page.click('#ptz-steer-add-camera');
      await fillCamera(page, 'Kept camera', 'cam-kept');
      await page.click('#node-config-dialog-ok');
      await listShows(page, 'Kept camera (cam-kept)');
      await page.click('#node-dialog-cancel');
      await page.waitForSelector('#node-dialog-cancel', { state: 'detached', timeout: 10_000 });
      assert.ok((await workspaceCameras(page)).some((c) => c.cameraId === 'cam-kept'), 'the camera stays');
      assert.deepEqual(await page.evaluate(() => (window as unknown as RedWindow).RED.nodes.node('picked')?.cameras), cameras);
      await deploy(page);
      const flows = await deployed(session);
      assert.ok(flows.some((n) => n.type === 'vigie-camera' && n.cameraId === 'cam-kept'), 'Deploy sent the camera');
      assert.deepEqual(flows.find((n) => n.id === 'picked')?.cameras, cameras);
      assert.deepEqual(errors, []);
    } finally {
      await page.close();
    }
  });

  it("a camera's pencil opens that camera's dialog; Update renames it in the list, its tick kept, and Deploy sends the new name", async () => {
    const { page, errors } = await session.open('picked');
    try {
      await editSteer(page, 'picked');
      const pencil = page.getByRole('button', { name: 'Edit camera North camera (cam-north)', exact: true });
      await pencil.focus();
      await page.keyboard.press('Enter');
      await page.waitForSelector('#node-config-input-host', { state: 'visible', timeout: 30_000 });
      assert.equal(await page.inputValue('#node-config-input-name'), 'North camera');
      assert.equal(await page.inputValue('#node-config-input-cameraId'), 'cam-north');
      assert.equal(await page.textContent('#node-config-dialog-ok'), 'Update', "the existing camera's dialog, not a new one");
      await shoot(page, 'ptz-steer-cameras-edit.png');
      const count = (await workspaceCameras(page)).length;
      await page.fill('#node-config-input-name', 'North dome');
      await page.click('#node-config-dialog-ok');
      await listShows(page, 'North dome (cam-north)');
      const rows = await listed(page);
      assert.deepEqual(rows[0], { label: 'North dome (cam-north)', ticked: true, edit: 'Edit camera North dome (cam-north)' });
      assert.equal(rows.length, count, 'no camera added');
      assert.equal((await workspaceCameras(page)).length, count);
      await page.click('#node-dialog-ok');
      await deploy(page);
      const flows = await deployed(session);
      assert.equal(flows.find((n) => n.id === 'north')?.name, 'North dome');
      assert.equal(flows.find((n) => n.id === 'picked')?.cameras?.[0], 'north');
      assert.deepEqual(errors, []);
    } finally {
      await page.close();
    }
  });

  it("Delete in a camera's dialog (from its pencil) takes it off the list, ticked or not, and out of the workspace; Deploy sends neither the camera nor its id", async () => {
    const { page, errors } = await session.open('picked');
    try {
      await editSteer(page, 'picked');
      await page.getByLabel('South camera (cam-south)', { exact: true }).check();
      await page.getByRole('button', { name: 'Edit camera South camera (cam-south)', exact: true }).click();
      await page.waitForSelector('#node-config-input-host', { state: 'visible', timeout: 30_000 });
      await page.getByRole('button', { name: 'Delete', exact: true }).last().click();
      await page.waitForSelector('#node-config-dialog-ok', { state: 'detached', timeout: 10_000 });
      await page.waitForFunction(() => !document.querySelector('#ptz-steer-cameras input[value="south"]'), undefined, { timeout: 10_000 });
      assert.ok(!(await listed(page)).some((row) => row.label.startsWith('South camera')));
      assert.ok(!(await workspaceCameras(page)).some((c) => c.id === 'south'), 'gone from the workspace');
      await page.click('#node-dialog-ok');
      const cameras = await page.evaluate(() => (window as unknown as RedWindow).RED.nodes.node('picked')?.cameras);
      assert.ok(Array.isArray(cameras) && cameras.length > 0 && !cameras.includes('south'), JSON.stringify(cameras));
      await deploy(page);
      const flows = await deployed(session);
      assert.ok(!flows.some((n) => n.id === 'south'), 'the camera is no longer deployed');
      assert.deepEqual(flows.find((n) => n.id === 'picked')?.cameras, cameras);
      assert.deepEqual(errors, []);
    } finally {
      await page.close();
    }
  });
});

describe('ptz-steer with no vigie-camera yet, in Chromium: the list says how to add one, and the first camera added is used', { timeout: 240_000 }, () => {
  let session: EditorSession;

  before(async () => {
    session = await startEditorSession({
      userDirPrefix: 'vigie-steer-no-camera-',
      builtFile: 'ptz-steer.html',
      flows: [{ id: 'tab', type: 'tab', label: 'cameras' }, steer('alone', 100, [])],
    });
  });

  after(async () => {
    await session?.close();
  });

  it('the empty list names the button, the fields and Add; the first camera joins unticked (none ticked = every camera)', async () => {
    const { page, errors } = await session.open('alone');
    try {
      await editSteer(page, 'alone');
      assert.equal(
        ((await page.textContent('#ptz-steer-cameras')) ?? '').trim(),
        'No vigie-camera configured yet: press "Add a camera…" below, fill in its form (at least Host and Lat, lon), then press Add.',
      );
      assert.equal(((await page.textContent('#ptz-steer-add-camera')) ?? '').trim(), 'Add a camera…', 'the button the text names');
      await shoot(page, 'ptz-steer-cameras-empty.png');
      await page.click('#ptz-steer-add-camera');
      await fillCamera(page, 'First camera', 'cam-first');
      await page.click('#node-config-dialog-ok');
      await listShows(page, 'First camera (cam-first)');
      assert.deepEqual(await listed(page), [{ label: 'First camera (cam-first)', ticked: false, edit: 'Edit camera First camera (cam-first)' }]);
      await page.click('#node-dialog-ok');
      await deploy(page);
      const flows = await deployed(session);
      assert.ok(flows.some((n) => n.type === 'vigie-camera' && n.cameraId === 'cam-first'), 'Deploy sent the camera');
      assert.deepEqual(flows.find((n) => n.id === 'alone')?.cameras, []);
      assert.deepEqual(errors, []);
    } finally {
      await page.close();
    }
  });
});
