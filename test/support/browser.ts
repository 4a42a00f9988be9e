/**
 * Debian's Chromium for browser tests (driven by playwright-core; a browser is never
 * downloaded), and a real Node-RED editor session on the package's built nodes.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Browser, chromium, Page } from 'playwright-core';
import { makeUserDir, repoRoot, startNodeRed } from './nodered';

export const CHROMIUM = '/usr/bin/chromium';
/** Headless in a container without GPU or network: no sandbox, no first-run or update work. */
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update'];
/** Where browser tests leave their screenshots (git-ignored). */
export const artifactsDir = path.join(repoRoot, 'test-artifacts');

export async function launchChromium(): Promise<Browser> {
  assert.ok(fs.existsSync(CHROMIUM), `Debian chromium is installed at ${CHROMIUM}`);
  fs.mkdirSync(artifactsDir, { recursive: true });
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

/** The editor's globals the form tests use. */
export type EditorWindow = {
  RED: { editor: { edit(n: unknown): void; editConfig(name: string, type: string, id: string): void }; nodes: { node(id: string): unknown } };
};

export interface EditorSession {
  /**
   * A new editor page, once the flow's node `id` is loaded; `errors` collects the page's uncaught
   * errors. `beforeLoad` may prepare the page (routes, listeners) before the editor loads.
   */
  open(id: string, beforeLoad?: (page: Page) => Promise<void>): Promise<{ page: Page; errors: string[] }>;
  /** Node-RED's address (its editor and admin API, e.g. GET /flows for what was deployed). */
  url: string;
  close(): Promise<void>;
}

/**
 * Node-RED with the package (its built nodes, dist/nodes, and its resources/) and `flows`, and
 * Chromium to open its editor. `prepare` may put files in the user directory before Node-RED starts.
 * The package is loaded as a module, as an install loads it: Node-RED serves a module's resources/
 * (the forms' shared script) only then, and the editor waits for every script a form loads.
 */
export async function startEditorSession(opts: { userDirPrefix: string; flows: unknown[]; builtFile: string; prepare?: (userDir: string) => void }): Promise<EditorSession> {
  assert.ok(fs.existsSync(path.join(repoRoot, 'dist', 'nodes', opts.builtFile)), 'npm run build has run');
  const userDir = makeUserDir(opts.userDirPrefix);
  opts.prepare?.(userDir);
  const red = await startNodeRed({ userDir, settings: { nodesDir: repoRoot, telemetry: { enabled: false } }, flows: opts.flows });
  let browser: Browser;
  try {
    browser = await launchChromium();
  } catch (err) {
    await red.stop();
    throw err;
  }
  return {
    url: red.url,
    async open(id, beforeLoad) {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await beforeLoad?.(page);
      await page.goto(`${red.url}/`);
      await page.waitForFunction((nodeId) => !!(window as unknown as Partial<EditorWindow>).RED?.nodes?.node(nodeId), id, { timeout: 90_000 });
      return { page, errors };
    },
    async close() {
      await browser.close();
      await red.stop();
      fs.rmSync(userDir, { recursive: true, force: true });
    },
  };
}
