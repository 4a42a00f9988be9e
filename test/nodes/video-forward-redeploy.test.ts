/**
 * video-forward through the deploys City IT makes (real runtime, node-red-node-test-helper):
 * an alert's snapshot outlives a redeploy of the node (full, or of its own settings) and goes
 * with the node when it is deleted; a relay whose vigie-camera is re-pointed by a
 * Modified-Nodes deploy leaves the old source at once and plays the new one to the viewers
 * still connected, and stops when the camera is deleted. Real RTSP servers (each behind a TCP
 * relay counting the connections the relay's ffmpeg opens) and a real Digest snapshot server.
 */
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isJpeg } from '../../lib/video/jpeg';
import { childFfmpegPids, closeWs, collectWs, RtspServer, startRtspServer } from '../support/video-sources';
import { DigestCamera, startDigestCamera } from '../support/digest-camera';
import { startTcpRelay, TcpRelay } from '../support/tcp-relay';
import { waitFor } from '../support/wait';
import { onCameraAlert } from '../support/detections';
import { captureRed, helper, nextMessage, startServerWithHttpNode } from '../support/node-red-helper';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const videoForward = require('../../nodes/video-forward');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const vigieCamera = require('../../nodes/vigie-camera');

type Any = any; // eslint-disable-line @typescript-eslint/no-explicit-any

interface FlowOptions {
  /** The camera's stream URL; no camera node when absent. */
  streamUrl?: string;
  snapshotUrl?: string;
  /** No video-forward node when false. */
  withVideoForward?: boolean;
  videoForward?: Record<string, unknown>;
}

function flow(o: FlowOptions): Any[] {
  const nodes: Any[] = [
    { id: 'tab', type: 'tab', label: 't' },
    { id: 'out', type: 'helper', z: 'tab', x: 300, y: 100 },
  ];
  if (o.withVideoForward !== false) {
    nodes.push({ id: 'vf', type: 'video-forward', z: 'tab', name: 'video', idleStopS: 1, keepForS: 5, maxRelays: 2, mjpegFps: 2, mjpegWidth: 320, x: 100, y: 100, wires: [['out']], ...o.videoForward });
  }
  if (o.streamUrl) {
    nodes.push({ id: 'cam', type: 'vigie-camera', cameraId: 'cam-street', name: 'street', host: '127.0.0.1', port: 1, lat: 45.44, lon: 4.39, streamUrl: o.streamUrl, ...(o.snapshotUrl ? { snapshotUrl: o.snapshotUrl } : {}) });
  }
  return nodes;
}

async function sendAlert(alertId: string): Promise<Any> {
  const got = nextMessage('out', 30_000);
  helper.getNode('vf').receive({ payload: onCameraAlert(alertId, 'cam-street') });
  return (await got).payload.video;
}

describe('video-forward through redeploys', { timeout: 300_000 }, () => {
  let rtspOld: RtspServer;
  let rtspNew: RtspServer;
  let linkOld: TcpRelay;
  let linkNew: TcpRelay;
  let snapshots: DigestCamera;
  const oldUrl = (): string => `rtsp://127.0.0.1:${linkOld.port}/test`;
  const newUrl = (): string => `rtsp://127.0.0.1:${linkNew.port}/test`;

  before(async () => {
    // The same camera before and after City IT re-points it: another address, another password.
    rtspOld = await startRtspServer({ user: 'op', password: 'old-pw', noAudio: true });
    rtspNew = await startRtspServer({ user: 'op', password: 'new-pw', noAudio: true });
    linkOld = await startTcpRelay(rtspOld.port);
    linkNew = await startTcpRelay(rtspNew.port);
    snapshots = await startDigestCamera('op', 'old-pw');
    await startServerWithHttpNode();
  });

  afterEach(async () => {
    await helper.unload();
  });

  after(async () => {
    await helper.stopServer();
    await snapshots.close();
    await linkOld.close();
    await linkNew.close();
    await rtspOld.stop();
    await rtspNew.stop();
    await waitFor(() => childFfmpegPids().length === 0, 20_000, 'no ffmpeg left');
  });

  it('an alert\'s snapshot is still served after a full deploy and a deploy of the node\'s settings; deleting the node drops it', async () => {
    const creds = { cam: { username: 'op', password: 'old-pw' } };
    const loaded = flow({ streamUrl: oldUrl(), snapshotUrl: snapshots.url });
    await helper.load([captureRed, vigieCamera, videoForward], loaded, creds);
    const video = await sendAlert('AL-REDEPLOY');
    const snapshotOf = async (): Promise<{ status: number; body: Buffer }> => {
      const r = await fetch(helper.url() + video.snapshot);
      return { status: r.status, body: Buffer.from(await r.arrayBuffer()) };
    };
    const first = await snapshotOf();
    assert.equal(first.status, 200, first.body.toString());
    assert.ok(isJpeg(first.body));
    const before = helper.getNode('vf');

    // A full deploy closes every node (removed: false) and starts new ones with the same ids.
    await helper.setFlows(loaded, 'full', creds);
    assert.notEqual(helper.getNode('vf'), before, 'the node was started again');
    const afterFull = await snapshotOf();
    assert.equal(afterFull.status, 200, afterFull.body.toString());
    assert.ok(afterFull.body.equals(first.body), 'the same picture, kept');

    // A Modified-Nodes deploy of the node's own settings restarts that node only.
    const changed = flow({ streamUrl: oldUrl(), snapshotUrl: snapshots.url, videoForward: { mjpegFps: 3 } });
    await helper.setFlows(changed, 'nodes', creds);
    const afterNodes = await snapshotOf();
    assert.equal(afterNodes.status, 200, afterNodes.body.toString());
    assert.equal(snapshots.served(), 1, 'the camera was asked once: the picture was kept, not taken again');

    // Deleted: the node's snapshots go with it; deployed again, it does not find them.
    await helper.setFlows(flow({ streamUrl: oldUrl(), snapshotUrl: snapshots.url, withVideoForward: false }), 'full', creds);
    assert.equal((await snapshotOf()).status, 503, 'no video-forward node is deployed');
    await helper.setFlows(changed, 'full', creds);
    const afterDelete = await snapshotOf();
    assert.equal(afterDelete.status, 404, 'the deleted node\'s snapshot is no longer served');
  });

  it('a camera re-pointed by a Modified-Nodes deploy: the relay leaves the old source at once and the viewer still connected gets the new one', async () => {
    const oldCreds = { cam: { username: 'op', password: 'old-pw' } };
    await helper.load([captureRed, vigieCamera, videoForward], flow({ streamUrl: oldUrl(), videoForward: { snapshot: false } }), oldCreds);
    const video = await sendAlert('AL-REPOINT');
    const vf = helper.getNode('vf');

    // A viewer watches the old source.
    const viewer = await collectWs(helper.url().replace('http:', 'ws:') + video.live, (x) => x.binaries.length >= 2, 60_000);
    assert.equal(JSON.parse(viewer.texts[0]).type, 'init');
    const seen: { closed?: { code: number; reason: string } } = {};
    viewer.ws.on('close', (code, reason) => (seen.closed = { code, reason: reason.toString() }));
    assert.equal(linkOld.connections, 1, 'the relay reads the old source');
    assert.equal(linkNew.connections, 0);
    const textsBefore = viewer.texts.length;
    const binariesBefore = viewer.binaries.length;

    // City IT changes the camera's address and password; only the camera is redeployed.
    await helper.setFlows(flow({ streamUrl: newUrl(), videoForward: { snapshot: false } }), 'nodes', { cam: { username: 'op', password: 'new-pw' } });
    assert.equal(helper.getNode('vf'), vf, 'video-forward itself was not redeployed');
    await waitFor(() => linkOld.connections === 0, 30_000, 'the old source left');
    await waitFor(() => linkNew.connections === 1, 60_000, 'the new source read');
    // The same socket: a new init, then the new source's picture.
    await waitFor(() => viewer.texts.slice(textsBefore).some((t) => JSON.parse(t).type === 'init') && viewer.binaries.length > binariesBefore + 2, 60_000, 'the viewer gets the new source');
    assert.equal(seen.closed, undefined, 'the viewer stayed connected');
    assert.equal(linkOld.connections, 0, 'never back to the old source');
    assert.equal(childFfmpegPids().length, 1, 'one ffmpeg for the relay');

    // The camera deleted: once the deploy is over, the relay stops and the viewer is closed.
    await helper.setFlows(flow({ videoForward: { snapshot: false } }), 'nodes', {});
    // Stopped when the deploy ended (not after the 30 s the relay would wait otherwise).
    assert.equal(vf.status.lastCall?.args[0]?.text, 'idle', JSON.stringify(vf.status.lastCall?.args[0]));
    await waitFor(() => seen.closed !== undefined, 20_000, 'the viewer closed');
    assert.equal((seen.closed as { code: number } | undefined)?.code, 1001, 'as after a relay stop: a viewer that retries is told the camera is unknown');
    await waitFor(() => childFfmpegPids().length === 0, 20_000, 'no ffmpeg left');
    assert.equal(linkNew.connections, 0);
    await closeWs(viewer.ws);
  });
});
