/**
 * Node-RED plugin of the package: runtime routes shared by all Vigie nodes.
 * GET <httpNodeRoot>vigie/health — liveness for container health checks and monitoring.
 * It reports which sensors have an audio ring open, never anything of the audio itself.
 * GET <httpAdminRoot>vigie/sim/events — what the simulated street played (admin).
 */
import type { NodeAPI } from 'node-red';
import { listRings } from '../lib/audio/registry';
import { packageInfo } from '../lib/util/package-info';
import { liveSceneTruth } from '../lib/sim/live';

const pkg = packageInfo();
const startedAt = Date.now();

export = function (RED: NodeAPI) {
  (RED as unknown as { plugins: { registerPlugin(id: string, def: Record<string, unknown>): void } }).plugins.registerPlugin('vigie-runtime', {
    type: 'vigie-runtime',
  });
  RED.httpNode.get('/vigie/health', (_req, res) => {
    res.json({
      status: 'ok',
      package: pkg.name,
      version: pkg.version,
      nodeRed: RED.version(),
      uptimeS: Math.round((Date.now() - startedAt) / 1000),
      sensors: listRings(),
    });
  });
  // Ground truth of simulated streets running in this process (demo, end-to-end tests):
  // labels, times and places of the events played. Admin-only, like the editor.
  RED.httpAdmin.get('/vigie/sim/events', RED.auth.needsPermission('vigie.read'), (_req, res) => {
    res.json({ scenes: liveSceneTruth() });
  });
};
