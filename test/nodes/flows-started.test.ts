/**
 * A control room's flows hold many Vigie nodes (several districts: a ptz-steer, a video-forward
 * and localizers each): deployed and redeployed again and again, they must not make Node-RED
 * say "Possible EventEmitter memory leak detected ... flows:started listeners" (real runtime,
 * node-red-node-test-helper), and a node deleted by a deploy is no longer called at a start.
 */
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { flowsStartedListenerCount } from '../../lib/util/flows-started';
import { captureRed, helper, startServerWithHttpNode } from '../support/node-red-helper';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const ptzSteer = require('../../nodes/ptz-steer');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const videoForward = require('../../nodes/video-forward');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const localizer = require('../../nodes/localizer');

type Any = any; // eslint-disable-line @typescript-eslint/no-explicit-any

/** 12 ptz-steer, 6 video-forward, 12 localizer (half of them fusion); `tolerance` changes the ptz-steers' settings. */
function districts(tolerance = 2, count = { steer: 12, video: 6, localizer: 12 }): Any[] {
  const nodes: Any[] = [{ id: 'tab', type: 'tab', label: 'districts' }];
  for (let i = 0; i < count.steer; i++) nodes.push({ id: `steer-${i}`, z: 'tab', type: 'ptz-steer', mode: 'automatic', toleranceDeg: tolerance, wires: [[], []] });
  for (let i = 0; i < count.video; i++) nodes.push({ id: `video-${i}`, z: 'tab', type: 'video-forward', name: `video ${i}`, idleStopS: 5, keepForS: 30, maxRelays: 2, mjpegFps: 2, mjpegWidth: 320, wires: [[]] });
  for (let i = 0; i < count.localizer; i++) nodes.push({ id: `loc-${i}`, z: 'tab', type: 'localizer', mode: i % 2 ? 'fusion' : 'single', minSensors: 3, timeoutMs: 2000, wires: [[]] });
  return nodes;
}

describe('many Vigie nodes through deploys', { timeout: 120_000 }, () => {
  afterEach(async () => {
    await helper.unload();
    await helper.stopServer();
  });

  it('no "MaxListenersExceededWarning" for flows:started; one runtime listener; the nodes a deploy deletes are no longer listening', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      await startServerWithHttpNode();
      const events = helper._events;
      await helper.load([captureRed, ptzSteer, videoForward, localizer], districts());
      const given = flowsStartedListenerCount(events);
      const runtimeListeners: string[] = [];
      const deploys = ['full', 'nodes', 'flows', 'full', 'nodes'] as const;
      for (const [i, type] of deploys.entries()) {
        // Settings changed each time: a "nodes" deploy restarts every ptz-steer (old and new instances side by side).
        await helper.setFlows(districts(2 + i / 10), type);
        runtimeListeners.push(`${type}: ${events.listenerCount('flows:started')}`);
      }
      // Everything deleted by a deploy.
      await helper.setFlows(districts(2, { steer: 0, video: 0, localizer: 0 }), 'full');
      const leaks = warnings.filter((w) => w.name === 'MaxListenersExceededWarning');
      assert.deepEqual(leaks.map((w) => w.message), []);
      // Ours and at most the helper's own (it waits for the start), after each deploy.
      assert.deepEqual(runtimeListeners.filter((r) => Number(r.split(': ')[1]) > 2), [], runtimeListeners.join(', '));
      assert.ok(given >= 18, `the nodes listen through the shared listener (${given} given)`);
      // Only the stop files' listeners are left (ptz-steer's and localizer's, one each).
      assert.equal(flowsStartedListenerCount(events), 2, 'listeners of deleted nodes left');
    } finally {
      process.off('warning', onWarning);
    }
  });
});
