/**
 * Node-RED plugin of the package: runtime routes shared by all Vigie nodes.
 * GET <httpNodeRoot>vigie/health — health for monitoring; behind httpNodeAuth when it is set.
 * GET <httpAdminRoot>vigie/admin-health — the same report for the container's health check
 *   (another path: both roots are "/" by default, and the admin route would shadow the other). It
 *   needs the permission vigie.read when adminAuth is set, or the token of this run that
 *   `vigie start` hands the health check (lib/util/launcher-channel.ts).
 * The report (lib/util/health.ts) names sensors and how long one has been silent, never
 * anything of the audio itself.
 * GET <httpAdminRoot>vigie/sim/events — what the simulated street played (admin).
 * Started by `vigie start`, the plugin also tells it over IPC when the flows have started.
 */
import { randomBytes, timingSafeEqual } from 'crypto';
import type { NodeAPI } from 'node-red';
import type { Request, Response, NextFunction } from 'express';
import { packageInfo } from '../lib/util/package-info';
import { monotonicMs } from '../lib/util/clock';
import { EventLoopWatch } from '../lib/util/event-loop-watch';
import { healthReport, setEventLoopSource } from '../lib/util/health';
import { HEALTH_TOKEN_HEADER, LAUNCHER_ENV, StartedMessage } from '../lib/util/launcher-channel';
import { liveSceneTruth } from '../lib/sim/live';

const pkg = packageInfo();
// Uptime is a duration: on the monotonic clock (the wall clock of a gateway without a real-time clock steps by decades).
const startedAtMonotonicMs = monotonicMs();
let loopWatch: EventLoopWatch | undefined;

export = function (RED: NodeAPI) {
  (RED as unknown as { plugins: { registerPlugin(id: string, def: Record<string, unknown>): void } }).plugins.registerPlugin('vigie-runtime', {
    type: 'vigie-runtime',
  });
  // One watch per process: every node of the instance shares its event loop.
  loopWatch?.stop();
  loopWatch = new EventLoopWatch({
    onChange: (overloaded, s) => {
      if (overloaded) {
        RED.log.warn(
          `vigie: Node-RED is overloaded: its event loop was held up to ${s.maxMs} ms (p99 ${s.p99Ms} ms over 10 s); captures may miss audio ` +
            '(acoustic-classifier: "samples already overwritten") and consoles may disconnect. See the scaling guide (docs/scaling.md)',
        );
      } else RED.log.info(`vigie: Node-RED is no longer overloaded (event loop p99 ${s.p99Ms} ms over 10 s)`);
    },
  }).start();
  const watch = loopWatch;
  setEventLoopSource(() => watch.report());

  const launched = process.env[LAUNCHER_ENV] === '1' && typeof process.send === 'function';
  delete process.env[LAUNCHER_ENV];
  const healthToken = launched ? randomBytes(32).toString('hex') : undefined;

  // (The node API's version() returns the string itself, whatever its type declaration says.)
  const health = (_req: Request, res: Response) => {
    res.json(healthReport({ package: pkg.name, version: pkg.version, nodeRed: RED.version() as unknown as string, startedAtMonotonicMs }));
  };
  RED.httpNode.get('/vigie/health', health);
  const canRead = RED.auth.needsPermission('vigie.read');
  RED.httpAdmin.get(
    '/vigie/admin-health',
    (req: Request, res: Response, next: NextFunction) => (healthToken && tokenMatches(req.get(HEALTH_TOKEN_HEADER), healthToken) ? next() : canRead(req, res, next)),
    health,
  );
  // Ground truth of simulated streets running in this process (demo, end-to-end tests):
  // labels, times and places of the events played. Admin-only, like the editor.
  RED.httpAdmin.get('/vigie/sim/events', RED.auth.needsPermission('vigie.read'), (_req, res) => {
    res.json({ scenes: liveSceneTruth() });
  });

  if (launched && healthToken) {
    const settings = RED.settings as unknown as { httpAdminRoot?: string | false; httpNodeRoot?: string | false; httpStatic?: unknown; https?: unknown };
    const adminRoot = settings.httpAdminRoot ?? '/';
    const nodeRoot = settings.httpNodeRoot ?? '/';
    const listens = adminRoot !== false || nodeRoot !== false || !!settings.httpStatic;
    const announce = () => {
      const bound = RED.server.address();
      const address = listens && bound && typeof bound === 'object' ? bound : null;
      const message: StartedMessage = {
        type: 'vigie:started',
        port: address ? address.port : null,
        address: address ? address.address : null,
        https: !!settings.https,
        adminRoot,
        nodeRoot,
        healthToken,
      };
      const couldNot = (err: unknown) => RED.log.warn(`vigie-runtime: could not tell vigie start that the flows have started: ${err instanceof Error ? err.message : String(err)}`);
      // vigie start gone meanwhile (killed): the channel is closed. Without a callback, a send that
      // fails is an 'error' event on the process, which nothing handles: Node-RED would crash.
      if (!process.connected) return couldNot(new Error('its channel is closed (vigie start ended)'));
      try {
        process.send?.(message, undefined, {}, (err: Error | null) => {
          if (err) couldNot(err);
        });
      } catch (err) {
        couldNot(err);
      }
    };
    RED.events.once('flows:started', () => {
      if (!listens || RED.server.listening) announce();
      else RED.server.once('listening', announce);
    });
  }
};

function tokenMatches(given: string | undefined, token: string): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  // Compared as bytes: a header of as many characters but more bytes (not ASCII) is no match, not an error.
  return a.length === b.length && timingSafeEqual(a, b);
}
