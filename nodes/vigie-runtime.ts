/**
 * Node-RED plugin of the package: runtime routes shared by all Vigie nodes.
 * GET <httpNodeRoot>vigie/health — liveness for container health checks and monitoring.
 * It reports which sensors have an audio ring open, never anything of the audio itself.
 */
import type { NodeAPI } from 'node-red';
import { listRings } from '../lib/audio/registry';
import { packageInfo } from '../lib/util/package-info';

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
};
