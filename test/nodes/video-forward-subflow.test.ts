/**
 * video-forward and vigie-camera inside a Node-RED subflow with two instances (real runtime,
 * node-red-node-test-helper): each instance's camera takes its id from the instance's env
 * ("${CAM_ID}") and gets a live id "<instance>-<node>". The stream and the snapshot are opened
 * with the login of the deployed camera (a real RTSP server and a real HTTP server asking for
 * Digest), and an alert's snapshot is served by the video-forward that took it, whichever
 * instance that is, after its relay has stopped.
 */
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { findCamera } from '../../lib/camera/registry';
import { isJpeg } from '../../lib/video/jpeg';
import { childFfmpegPids, closeWs, collectWs, RtspServer, startRtspServer } from '../support/video-sources';
import { DigestCamera, startDigestCamera } from '../support/digest-camera';
import { waitFor } from '../support/wait';
import { onCameraAlert } from '../support/detections';
import { captureRed, helper, nextMessage, startServerWithHttpNode } from '../support/node-red-helper';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const videoForward = require('../../nodes/video-forward');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const vigieCamera = require('../../nodes/vigie-camera');

type Any = any; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Two instances of one subflow holding a camera ("${CAM_ID}") and a video-forward. */
function subflowFlow(rtspUrl: string, snapshotUrl: string): Any[] {
  return [
    { id: 'tab', type: 'tab', label: 't' },
    {
      id: 'sf',
      type: 'subflow',
      name: 'camera site',
      in: [{ x: 50, y: 30, wires: [{ id: 'vf' }] }],
      out: [{ x: 300, y: 30, wires: [{ id: 'vf', port: 0 }] }],
      env: [{ name: 'CAM_ID', type: 'str', value: 'cam-unset' }],
    },
    { id: 'scam', type: 'vigie-camera', z: 'sf', cameraId: '${CAM_ID}', name: 'site camera', host: '127.0.0.1', port: 1, lat: 45.44, lon: 4.39, streamUrl: rtspUrl, snapshotUrl },
    { id: 'vf', type: 'video-forward', z: 'sf', name: 'video', idleStopS: 1, keepForS: 5, maxRelays: 2, mjpegFps: 2, mjpegWidth: 320, x: 150, y: 30, wires: [] },
    // Nodes of a flow have a position (x, y): without one Node-RED takes them for config nodes.
    { id: 'i1', type: 'subflow:sf', z: 'tab', x: 100, y: 100, env: [{ name: 'CAM_ID', type: 'str', value: 'cam-1' }], wires: [['out1']] },
    { id: 'i2', type: 'subflow:sf', z: 'tab', x: 100, y: 200, env: [{ name: 'CAM_ID', type: 'str', value: 'cam-2' }], wires: [['out2']] },
    { id: 'out1', type: 'helper', z: 'tab', x: 300, y: 100 },
    { id: 'out2', type: 'helper', z: 'tab', x: 300, y: 200 },
  ];
}

describe('video-forward and vigie-camera in a subflow', { timeout: 240_000 }, () => {
  let rtsp: RtspServer;
  let snapshots: DigestCamera;

  before(async () => {
    rtsp = await startRtspServer({ user: 'op', password: 's3cret', noAudio: true });
    snapshots = await startDigestCamera('op', 's3cret');
    await startServerWithHttpNode();
  });

  afterEach(async () => {
    await helper.unload();
  });

  after(async () => {
    await helper.stopServer();
    await snapshots.close();
    await rtsp.stop();
    await waitFor(() => childFfmpegPids().length === 0, 20_000, 'no ffmpeg left');
  });

  it('each instance\'s camera opens its stream and snapshot with the camera\'s login; each snapshot is served after its relay stopped', async () => {
    await helper.load([captureRed, vigieCamera, videoForward], subflowFlow(rtsp.url, snapshots.url), { scam: { username: 'op', password: 's3cret' } });
    // The live cameras carry the instances' ids; the flow's definition has neither.
    assert.ok(findCamera('cam-1') && findCamera('cam-2'), 'both instances\' cameras are registered under their env ids');
    assert.equal(findCamera('${CAM_ID}'), undefined);

    const links: Record<string, Any> = {};
    for (const [instance, out, alertId, cameraId] of [['i1', 'out1', 'AL-1', 'cam-1'], ['i2', 'out2', 'AL-2', 'cam-2']]) {
      const got = nextMessage(out, 30_000);
      helper.getNode(instance).receive({ payload: onCameraAlert(alertId, cameraId) });
      const msg = await got;
      assert.equal(msg.payload.video.live, `/red/vigie/video/${cameraId}/live`);
      links[cameraId] = msg.payload.video;
    }

    // The stream asks for the login: the live view plays.
    const c = await collectWs(helper.url().replace('http:', 'ws:') + links['cam-2'].live, (x) => x.binaries.length >= 2, 60_000);
    assert.equal(JSON.parse(c.texts[0]).type, 'init', c.texts.join('\n'));
    await closeWs(c.ws);

    // The relays are held keepForS (5 s) after their alert, then stop; the snapshots are kept an hour.
    await waitFor(() => childFfmpegPids().length === 0, 60_000, 'both relays stopped');
    for (const cameraId of ['cam-1', 'cam-2']) {
      const r = await fetch(helper.url() + links[cameraId].snapshot);
      assert.equal(r.status, 200, `${cameraId}: ${r.status} ${r.status === 200 ? '' : await r.text()}`);
      assert.ok(isJpeg(Buffer.from(await r.arrayBuffer())));
    }
    assert.equal(snapshots.served(), 2, 'the camera gave one snapshot per alert, to its login');
    assert.ok(snapshots.requests.every((a) => a === '' || /^Digest username="op"/.test(a)), snapshots.requests.join('\n'));
  });
});
