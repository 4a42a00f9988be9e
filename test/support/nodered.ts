/**
 * Start a real Node-RED 4.1 (the project's dev dependency) as a child process on loopback,
 * with its own user directory, and stop it. Used by the packaging, browser and end-to-end tests.
 */
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { exitedAndDrained } from './wait';

export const repoRoot = path.resolve(__dirname, '..', '..');

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

export function makeUserDir(prefix = 'vigie-nr-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/**
 * A user directory as after `npm install node-red-dashboard-2-vigie`: Dashboard 2.0 finds
 * third-party widgets through the dependencies its package.json lists (this checkout linked in).
 */
export function makeWidgetUserDir(prefix: string): string {
  const userDir = makeUserDir(prefix);
  fs.writeFileSync(path.join(userDir, 'package.json'), JSON.stringify({ name: 'node-red-project', dependencies: { 'node-red-dashboard-2-vigie': '*' } }));
  fs.mkdirSync(path.join(userDir, 'node_modules'));
  fs.symlinkSync(path.resolve(__dirname, '..', '..'), path.join(userDir, 'node_modules', 'node-red-dashboard-2-vigie'), 'dir');
  return userDir;
}

export interface RunningNodeRed {
  url: string;
  port: number;
  userDir: string;
  proc: ChildProcess;
  log: () => string;
  stop: () => Promise<void>;
}

export interface StartOptions {
  userDir: string;
  flows?: unknown[];
  /** Extra settings merged into settings.js (JSON-serialisable only). */
  settings?: Record<string, unknown>;
  env?: Record<string, string>;
  timeoutMs?: number;
  /** The port to listen on (default: a free one); the same again restarts a Node-RED where browsers look for it. */
  port?: number;
}

export async function startNodeRed(opts: StartOptions): Promise<RunningNodeRed> {
  const port = opts.port ?? (await freePort());
  const { userDir } = opts;
  const settings = {
    uiHost: '127.0.0.1',
    uiPort: port,
    flowFile: 'flows.json',
    credentialSecret: 'vigie-test-secret',
    logging: { console: { level: 'info', metrics: false, audit: false } },
    editorTheme: { tours: false },
    ...opts.settings,
  };
  fs.writeFileSync(path.join(userDir, 'settings.js'), `module.exports = ${JSON.stringify(settings, null, 2)};\n`);
  if (opts.flows) fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(opts.flows, null, 2));
  const red = require.resolve('node-red/red.js', { paths: [repoRoot] });
  const proc = spawn(process.execPath, [red, '-u', userDir, '-s', path.join(userDir, 'settings.js')], {
    cwd: userDir,
    env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d.toString()));
  proc.stderr!.on('data', (d) => (out += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  // Resolved once its output is all read too: what it logged as it stopped is in log().
  const ended = exitedAndDrained(proc);
  const stop = async () => {
    const running = proc.exitCode === null && proc.signalCode === null;
    const t = running ? setTimeout(() => proc.kill('SIGKILL'), 15_000) : undefined;
    if (running) proc.kill('SIGINT');
    await ended;
    clearTimeout(t);
  };
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`Node-RED exited early (${proc.exitCode}):\n${out}`);
    if (/Started flows|Server now running/.test(out)) {
      try {
        const r = await fetch(`${url}/settings`, { headers: { Accept: 'application/json' } });
        if (r.ok) break;
      } catch {
        /* not listening yet */
      }
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`Node-RED did not start in time:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return { url, port, userDir, proc, log: () => out, stop };
}
