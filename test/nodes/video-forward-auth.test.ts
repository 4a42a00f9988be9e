/**
 * The live video socket behind Node-RED's own HTTP authentication, in a real Node-RED 4.1
 * (child process, settings.js with httpNodeAuth) with the virtual ONVIF camera and real
 * ffmpeg. A WebSocket handshake does not pass through httpNodeAuth, so the socket asks for a
 * single-use ticket from an HTTP route, which does.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { VirtualCamera } from '../../lib/sim/camera/virtual-camera';
import { makeUserDir, repoRoot, RunningNodeRed, startNodeRed } from '../support/nodered';
import { closeWs, collectWs } from '../support/video-sources';

const USER = 'operator';
const PASSWORD = 'watch-the-street';
// bcrypt of PASSWORD (cost 8), as `node-red admin hash-pw` writes it into settings.js
const PASSWORD_HASH = '$2b$08$LWHfn5dFAxcbCTZ3P0KR.O.gQBoROkXKXFu.WM.eUnfUXMYMiIw06';
const basic = (user: string, pass: string) => ({ Authorization: 'Basic ' + Buffer.from(`${user}:${pass}`).toString('base64') });

describe('live video behind httpNodeAuth (real Node-RED)', { timeout: 240_000 }, () => {
  let red: RunningNodeRed;
  let cam: VirtualCamera;
  let userDir: string;

  before(async () => {
    assert.ok(fs.existsSync(path.join(repoRoot, 'dist', 'nodes', 'video-forward.js')), 'npm run build has run');
    cam = new VirtualCamera({ username: 'cam-user', password: 'cam-pass', fps: 5 });
    const { onvifPort } = await cam.start();
    userDir = makeUserDir('vigie-auth-');
    red = await startNodeRed({
      userDir,
      settings: { nodesDir: path.join(repoRoot, 'dist', 'nodes'), telemetry: { enabled: false }, httpNodeAuth: { user: USER, pass: PASSWORD_HASH } },
    });
    // deployed through the admin API, so the camera's credentials go where Node-RED keeps them
    const flows = [
      { id: 'tab', type: 'tab', label: 'video' },
      { id: 'cam', type: 'vigie-camera', cameraId: 'cam-a', host: '127.0.0.1', port: onvifPort, lat: 48.85, lon: 2.35, credentials: { username: 'cam-user', password: 'cam-pass' } },
      { id: 'vf', type: 'video-forward', z: 'tab', name: 'video', idleStopS: 5, keepForS: 30, maxRelays: 2, mjpegFps: 2, mjpegWidth: 320, x: 200, y: 100, wires: [[]] },
    ];
    const r = await fetch(`${red.url}/flows`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'Node-RED-Deployment-Type': 'full' }, body: JSON.stringify(flows) });
    assert.equal(r.status, 204, await r.text());
    // The deploy may answer before the node is up: wait until a ticket is issued, which means
    // its relay (and with it the WebSocket upgrade listener) is there.
    const deadline = Date.now() + 30_000;
    while ((await fetch(`${red.url}/vigie/video/cam-a/ticket`, { headers: basic(USER, PASSWORD) })).status !== 200) {
      if (Date.now() > deadline) assert.fail('video-forward did not come up within 30 s of the deploy');
      await new Promise((res) => setTimeout(res, 100));
    }
  });

  after(async () => {
    await red?.stop();
    await cam?.stop();
    if (userDir) fs.rmSync(userDir, { recursive: true, force: true });
  });

  it('the ticket route asks for the operator\'s password; the socket opens only with a ticket from it', async () => {
    const ticketUrl = `${red.url}/vigie/video/cam-a/ticket`;
    const liveUrl = `${red.url.replace('http:', 'ws:')}/vigie/video/cam-a/live`;
    // Node-RED's httpNodeAuth guards the ticket route (and the MJPEG one) ...
    assert.equal((await fetch(ticketUrl)).status, 401);
    assert.equal((await fetch(ticketUrl, { headers: basic(USER, 'wrong') })).status, 401);
    assert.equal((await fetch(`${red.url}/vigie/video/cam-a/mjpeg`)).status, 401);
    // ... but not the WebSocket handshake: without a ticket the relay refuses it itself
    await assert.rejects(collectWs(liveUrl, () => true, 15_000, { ticket: false }), /Unexpected server response: 401/);
    await assert.rejects(collectWs(`${liveUrl}?ticket=${'A'.repeat(32)}`, () => true, 15_000, { ticket: false }), /Unexpected server response: 401/);

    const r = await fetch(ticketUrl, { headers: basic(USER, PASSWORD) });
    assert.equal(r.status, 200);
    const { ticket } = (await r.json()) as { ticket: string };
    const c = await collectWs(`${liveUrl}?ticket=${ticket}`, (x) => x.binaries.length >= 2, 90_000, { ticket: false });
    await closeWs(c.ws);
    assert.equal(JSON.parse(c.texts[0]).type, 'init');
    // single use
    await assert.rejects(collectWs(`${liveUrl}?ticket=${ticket}`, () => true, 15_000, { ticket: false }), /Unexpected server response: 401/);
    assert.doesNotMatch(red.log(), /cam-pass/, 'the camera password is not logged');
  });
});
