/**
 * Config nodes in the real Node-RED editor (Debian's Chromium driven by playwright-core): a
 * vigie-camera is used by id (ptz-steer's list or "every camera", video-forward and the console
 * by camera id), references the editor cannot count. It must not be shown as unused ("0" users
 * in the Configuration nodes sidebar, "unused configuration nodes" at deploy): someone tidying
 * the editor would delete every camera. A vigie-sensor is referenced by a property the editor
 * counts, and an unused one is still shown as such.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EditorSession, startEditorSession } from '../support/browser';

type SidebarWindow = { RED: { sidebar: { show(id: string): void } }; $: (sel: string) => { toArray(): Element[] } };

describe('config nodes in the Node-RED editor', { timeout: 240_000 }, () => {
  let session: EditorSession;

  before(async () => {
    session = await startEditorSession({
      userDirPrefix: 'vigie-config-nodes-',
      builtFile: 'vigie-camera.html',
      flows: [
        { id: 'tab', type: 'tab', label: 'cameras' },
        { id: 'cam', type: 'vigie-camera', name: 'North camera', cameraId: 'cam-north', host: '127.0.0.1', port: 8080, lat: '45.4397', lon: '4.3872', heightM: 6, mountHeadingDeg: 0 },
        { id: 'lonely', type: 'vigie-sensor', name: 'Unused sensor', sensorId: 'unused-1', lat: '45.4397', lon: '4.3872', heightM: 4, headingDeg: 0, array: 'mono', clock: 'ntp' },
        // No camera ticked: every vigie-camera is a candidate.
        { id: 'steer', z: 'tab', type: 'ptz-steer', x: 200, y: 100, mode: 'automatic', wires: [[], []] },
      ],
    });
  });

  after(async () => {
    await session?.close();
  });

  it('a vigie-camera used by id is not shown as unused; an unused vigie-sensor is', async () => {
    const { page, errors } = await session.open('cam');
    try {
      await page.evaluate(() => (window as unknown as SidebarWindow).RED.sidebar.show('config'));
      await page.waitForSelector('#red-ui-sidebar-node-config .red-ui-palette-node-config', { state: 'attached', timeout: 10_000 });
      // The users badge ("0" when unused) of each config node in the sidebar, by node id.
      const badges = await page.evaluate(() => {
        const w = window as unknown as { $: (e: Element) => { data(k: string): unknown } };
        const out: Record<string, string | null> = {};
        for (const li of Array.from(document.querySelectorAll('#red-ui-sidebar-node-config li'))) {
          const id = w.$(li).data('data-node-id');
          if (typeof id === 'string') out[id] = li.querySelector('.red-ui-palette-icon-container-right')?.textContent ?? null;
        }
        return out;
      });
      assert.equal(badges.lonely, '0', `the sidebar shows an unused sensor as unused (${JSON.stringify(badges)})`);
      assert.ok('cam' in badges, `the camera is listed (${JSON.stringify(badges)})`);
      assert.equal(badges.cam, null, 'no users count on a camera: its users refer to it by id');
      assert.deepEqual(errors, []);
    } finally {
      await page.close();
    }
  });
});
