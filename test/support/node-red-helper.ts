/**
 * node-red-node-test-helper, set up once against the project's Node-RED, and what the node
 * tests built on it share: RED.httpNode mounted on the helper's server, the next message a
 * helper node receives.
 */
import type { Express } from 'express';
import { tempDir } from './tmp';

type Any = any; // eslint-disable-line @typescript-eslint/no-explicit-any

// eslint-disable-next-line @typescript-eslint/no-require-imports
export const helper = require('node-red-node-test-helper');

helper.init(require.resolve('node-red'));

/**
 * A user directory of its own for each load, unless a test sets one (helper.settings({userDir})):
 * nodes keep files there (alerts, messages, what ptz-steer had in progress when the flows
 * stopped), and a test that unloads its flows mid-work must neither write them into the
 * checkout nor leave them for the next test's node of the same id.
 */
let userDirSet = false;
const settingsOf = helper.settings.bind(helper);
helper.settings = (userSettings: Record<string, unknown> = {}) => {
  userDirSet = userSettings.userDir !== undefined;
  return settingsOf(userSettings);
};
const loadOf = helper.load.bind(helper);
helper.load = (...args: unknown[]) => {
  if (!userDirSet) helper._settings.userDir = tempDir('vigie-node-test-');
  return loadOf(...args);
};

/** Where the nodes' HTTP routes are served (Node-RED's httpNodeRoot) in these tests. */
export const HTTP_NODE_ROOT = '/red/';

/** The RED API handed to node modules: load `captureRed` with the nodes to mount RED.httpNode. */
let red: Any;
export function captureRed(RED: Any): void {
  red = RED;
}

/**
 * Starts the helper's server with httpNodeRoot set (and any other settings) and serves
 * RED.httpNode under it, as Node-RED does and the helper does not. Load `captureRed` with the
 * nodes under test.
 */
export async function startServerWithHttpNode(settings: Record<string, unknown> = {}): Promise<void> {
  helper.settings({ httpNodeRoot: HTTP_NODE_ROOT, ...settings });
  await helper.startServer();
  (helper as { _app: Express })._app.use(HTTP_NODE_ROOT.replace(/\/$/, ''), (req, res, next) => red.httpNode(req, res, next));
}

/** The next message the node `nodeId` (a helper node) receives. */
export function nextMessage(nodeId: string, timeoutMs = 60_000): Promise<Any> {
  const n = helper.getNode(nodeId);
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no message on ${nodeId}`)), timeoutMs);
    n.once('input', (msg: Any) => {
      clearTimeout(t);
      resolve(msg);
    });
  });
}

/** Every message the node `node` (a helper node) receives from now on, oldest first. */
export function collect(node: Any): Any[] {
  const got: Any[] = [];
  node.on('input', (m: Any) => got.push(m));
  return got;
}
