/**
 * `vigie start --flow NAME|FILE --user-dir DIR`: runs Node-RED with one of the shipped flows
 * (street-demo, gateway, control-room) or a flow file. For the street demo it also runs
 * what a street would have: virtual ONVIF cameras and an MQTT broker (aedes), in this process.
 * Node-RED runs as a child process; Ctrl-C stops everything.
 */
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { packageRoot } from '../util/package-info';
import { parseArgs } from './args';
import { DemoServices, startDemoServices } from './demo-services';

export const PACKAGE_ROOT = packageRoot();
const PACKAGE_NAME = 'node-red-dashboard-2-vigie';

export interface StartOptions {
  flow: string;
  userDir: string;
  host: string;
  port: number;
  nodeRedHome?: string;
  resetFlow: boolean;
  /** Embedded broker port for the street demo (0 = any free port). */
  brokerPort: number;
}

const USAGE = 'vigie start --flow street-demo|gateway|control-room|FILE.json --user-dir DIR [--host 127.0.0.1] [--port 1880] [--node-red DIR] [--reset-flow] [--broker-port 1883]';

export function parseStartArgs(argv: string[]): StartOptions {
  const a = parseArgs(argv, {
    strings: ['flow', 'user-dir', 'host', 'port', 'node-red', 'broker-port'],
    booleans: ['reset-flow'],
    usage: USAGE,
  });
  const flow = a.strings.flow ?? 'street-demo';
  const port = Number(a.strings.port ?? '1880');
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port: expected a TCP port 0..65535, got "${a.strings.port}"`);
  const brokerPort = Number(a.strings['broker-port'] ?? '1883');
  if (!Number.isInteger(brokerPort) || brokerPort < 0 || brokerPort > 65535) {
    throw new Error(`--broker-port: expected a TCP port 0..65535, got "${a.strings['broker-port']}"`);
  }
  const userDir = a.strings['user-dir'];
  if (!userDir) throw new Error(`--user-dir: expected the Node-RED user directory\nusage: ${USAGE}`);
  return {
    flow,
    userDir: path.resolve(userDir),
    host: a.strings.host ?? '127.0.0.1',
    port,
    nodeRedHome: a.strings['node-red'],
    resetFlow: a.booleans['reset-flow'],
    brokerPort,
  };
}

/** The shipped flow file for a name, or the path itself. */
export function resolveFlowFile(flow: string): string {
  if (/^[a-z0-9-]+$/.test(flow)) {
    const shipped = path.join(PACKAGE_ROOT, 'examples', `${flow}.json`);
    if (fs.existsSync(shipped)) return shipped;
    const available = fs.existsSync(path.join(PACKAGE_ROOT, 'examples'))
      ? fs.readdirSync(path.join(PACKAGE_ROOT, 'examples')).filter((f) => f.endsWith('.json')).map((f) => f.replace(/\.json$/, ''))
      : [];
    throw new Error(`--flow: no shipped flow "${flow}" (available: ${available.join(', ') || 'none — run the build'})`);
  }
  const p = path.resolve(flow);
  if (!fs.existsSync(p)) throw new Error(`--flow: file not found: ${flow}`);
  return p;
}

function resolveNodeRed(opts: StartOptions): string {
  const paths = [opts.nodeRedHome, opts.userDir, PACKAGE_ROOT, process.cwd()].filter((p): p is string => !!p);
  try {
    return require.resolve('node-red/red.js', { paths });
  } catch {
    throw new Error(`Node-RED not found (looked in ${paths.length} places); install node-red 4.1 or pass --node-red DIR`);
  }
}

/** The flow Node-RED will run: the shipped one in a fresh (or reset) directory, else the one already there, maybe edited. */
export function flowToRun(opts: StartOptions, flowFile: string): { file: string; fresh: boolean } {
  const flowsOut = path.join(opts.userDir, 'flows.json');
  const fresh = opts.resetFlow || !fs.existsSync(flowsOut);
  return { file: fresh ? flowFile : flowsOut, fresh };
}

/**
 * Make the user directory a Node-RED project that has this package: when running from a
 * source checkout, link the package in as a palette install would have put it. `fresh` (what
 * flowToRun decided): install `flowFile` as the flow to run.
 */
export function prepareUserDir(opts: StartOptions, flowFile: string, fresh: boolean): void {
  fs.mkdirSync(opts.userDir, { recursive: true });
  const pkgFile = path.join(opts.userDir, 'package.json');
  const pkg = fs.existsSync(pkgFile) ? JSON.parse(fs.readFileSync(pkgFile, 'utf8')) : { name: 'node-red-project', private: true };
  const installed = path.join(opts.userDir, 'node_modules', PACKAGE_NAME);
  if (!fs.existsSync(installed)) {
    fs.mkdirSync(path.dirname(installed), { recursive: true });
    fs.symlinkSync(PACKAGE_ROOT, installed, 'dir');
  }
  pkg.dependencies = { ...(pkg.dependencies ?? {}), [PACKAGE_NAME]: pkg.dependencies?.[PACKAGE_NAME] ?? `file:${PACKAGE_ROOT}` };
  fs.writeFileSync(pkgFile, JSON.stringify(pkg, null, 2) + '\n');

  if (fresh) fs.copyFileSync(flowFile, path.join(opts.userDir, 'flows.json'));

  // Settings are ours to write in a fresh directory; an integrator's own settings.js wins.
  const settingsFile = path.join(opts.userDir, 'settings.js');
  if (!fs.existsSync(settingsFile) || fs.readFileSync(settingsFile, 'utf8').includes('written by vigie start')) {
    fs.writeFileSync(settingsFile, settingsJs());
  }
}

/**
 * The environment variables of the shipped flows: what each is, and the value `vigie start`
 * gives it when unset. Those without a default have no sensible one (a position, an address):
 * a flow that refers to one of them does not start until it is set.
 */
export const FLOW_ENV: Record<string, { meaning: string; default?: string }> = {
  VIGIE_SITE: { meaning: 'the site, in MQTT topics (vigie/v1/<site>/…)', default: 'default' },
  VIGIE_SENSOR: { meaning: "this gateway's sensor id, in MQTT topics and detections (unique per gateway; letters, digits, . _ -)" },
  VIGIE_SENSOR_LAT: { meaning: "the gateway's latitude, degrees (-90..90)" },
  VIGIE_SENSOR_LON: { meaning: "the gateway's longitude, degrees (-180..180)" },
  VIGIE_SENSOR_HEADING: { meaning: "the direction the gateway's microphone array faces, degrees from north" },
  VIGIE_ALSA_DEVICE: { meaning: "the gateway's ALSA capture device", default: 'default' },
  VIGIE_MQTT_HOST: { meaning: "the MQTT broker's host name or address" },
  VIGIE_MQTT_PORT: { meaning: "the MQTT broker's port", default: '1883' },
  VIGIE_MQTT_USER: { meaning: 'the MQTT account (empty: anonymous)', default: '' },
  VIGIE_MQTT_PASSWORD: { meaning: "the MQTT account's password", default: '' },
  VIGIE_MQTT_CLIENT_ID: { meaning: "the control room's MQTT client id, fixed so that the broker keeps its session (and the detections sent while it is away); one per control room on a broker", default: 'vigie-control-room' },
  VIGIE_CAMERA_HOST: { meaning: "the control room's first camera: ONVIF host name or address" },
  VIGIE_CAMERA_PORT: { meaning: "the control room's first camera: ONVIF port", default: '80' },
  VIGIE_CAMERA_USER: { meaning: "the control room's first camera: ONVIF account", default: '' },
  VIGIE_CAMERA_PASSWORD: { meaning: "the control room's first camera: ONVIF password", default: '' },
  VIGIE_CAMERA_LAT: { meaning: "the control room's first camera: latitude, degrees (-90..90)" },
  VIGIE_CAMERA_LON: { meaning: "the control room's first camera: longitude, degrees (-180..180)" },
};

/** `env` with the default of every unset flow variable that has one. */
export function withFlowEnvDefaults(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out = { ...env };
  for (const [name, v] of Object.entries(FLOW_ENV)) if (v.default !== undefined) out[name] ??= v.default;
  return out;
}

// `${NAME}` in properties, `$(NAME)` in credentials, `$env("NAME")` in JSONata expressions
// (whose quotes are escaped in the flow's JSON text).
const ENV_REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$\(([A-Za-z_][A-Za-z0-9_]*)\)|\$env\(\s*\\?["']([A-Za-z_][A-Za-z0-9_]*)\\?["']\s*\)/g;

/**
 * Environment variables a flow refers to that `env` leaves unset, sorted. Node-RED would hand
 * such a reference to the node as literal text, and the node's error ("got \"${VIGIE_SENSOR}\"")
 * would be the first sign of it. Names the flow defines itself (the env list of a tab, group or
 * subflow) and Node-RED's own `NR_*` are not reported.
 */
export function unsetEnvReferences(flowText: string, env: NodeJS.ProcessEnv): string[] {
  return unsetIn(flowText, flowNodes(flowText), env);
}

type FlowNode = { id?: string; type?: string; name?: string; env?: Array<{ name?: unknown }> };

/** The nodes of a flow's text; none when it is not a JSON array (its references still count). */
function flowNodes(flowText: string): FlowNode[] {
  try {
    const nodes: unknown = JSON.parse(flowText);
    return Array.isArray(nodes) ? nodes.filter((n): n is FlowNode => typeof n === 'object' && n !== null) : [];
  } catch {
    return [];
  }
}

function referencedNames(text: string): Set<string> {
  return new Set([...text.matchAll(ENV_REFERENCE)].map((m) => m[1] ?? m[2] ?? m[3]));
}

function unsetIn(flowText: string, nodes: FlowNode[], env: NodeJS.ProcessEnv): string[] {
  const defined = new Set<string>();
  for (const n of nodes) for (const e of Array.isArray(n.env) ? n.env : []) if (typeof e?.name === 'string') defined.add(e.name);
  return [...referencedNames(flowText)].filter((n) => env[n] === undefined && !defined.has(n) && !n.startsWith('NR_')).sort();
}

/** For each of `names`, the nodes that refer to it, as `type "name"` (for variables FLOW_ENV does not describe). */
function envUsers(nodes: FlowNode[], names: string[]): Map<string, string[]> {
  const users = new Map(names.map((n) => [n, [] as string[]]));
  if (names.length === 0) return users;
  for (const node of nodes) {
    for (const name of referencedNames(JSON.stringify(node))) users.get(name)?.push(`${node.type} "${node.name || node.id}"`);
  }
  return users;
}

/**
 * Refuses to run a flow that refers to unset environment variables: its nodes would start
 * with the literal reference as a setting. One error names every missing variable and what it is.
 */
export function checkFlowEnv(flowText: string, env: NodeJS.ProcessEnv, flowName: string): void {
  const nodes = flowNodes(flowText);
  const missing = unsetIn(flowText, nodes, env);
  if (missing.length === 0) return;
  const users = envUsers(nodes, missing.filter((n) => !FLOW_ENV[n]));
  const lines = missing.map((n) => `  ${n}: ${FLOW_ENV[n]?.meaning ?? `used by ${users.get(n)?.join(', ') || 'the flow'}`}`);
  throw new Error(
    `the flow ${flowName} needs environment variables that are not set:\n${lines.join('\n')}\n` +
      'Set each (docker run -e NAME=value) and start again; docs/install.md describes them.',
  );
}

/** The credential references of a shipped flow as Node-RED's unencrypted credentials file. */
export function writePlainCredentials(userDir: string, flowFile: string): number {
  const shipped = JSON.parse(fs.readFileSync(flowFile, 'utf8')) as Array<{ id: string; credentials?: Record<string, string> }>;
  const creds: Record<string, Record<string, string>> = {};
  for (const n of shipped) {
    if (!n.credentials || !Object.keys(n.credentials).length) continue;
    for (const [k, v] of Object.entries(n.credentials)) {
      if (!/^\$\([A-Z0-9_]+\)$/.test(v)) throw new Error(`flow ${path.basename(flowFile)}: node ${n.id} credential ${k} is not an environment reference $(NAME)`);
    }
    creds[n.id] = n.credentials;
  }
  fs.writeFileSync(path.join(userDir, 'flows_cred.json'), JSON.stringify(creds, null, 2));
  return Object.keys(creds).length;
}

/**
 * Shipped flows may name environment variables in credentials (e.g. "$(VIGIE_MQTT_PASSWORD)"),
 * never secrets. Node-RED reads credentials only from its encrypted store, so a freshly
 * installed flow's credential references are deployed once through the admin API.
 */
export async function deployFlowCredentials(url: string, flowFile: string): Promise<number> {
  const shipped = JSON.parse(fs.readFileSync(flowFile, 'utf8')) as Array<{ id: string; credentials?: Record<string, string> }>;
  const withCreds = shipped.filter((n) => n.credentials && Object.keys(n.credentials).length);
  if (withCreds.length === 0) return 0;
  const headers = { 'Content-Type': 'application/json', 'Node-RED-API-Version': 'v2' };
  const cur = (await (await fetch(`${url}/flows`, { headers })).json()) as { rev: string; flows: Array<{ id: string; credentials?: unknown }> };
  for (const n of cur.flows) {
    const c = withCreds.find((x) => x.id === n.id);
    if (c) n.credentials = c.credentials;
  }
  const r = await fetch(`${url}/flows`, {
    method: 'POST',
    headers: { ...headers, 'Node-RED-Deployment-Type': 'full' },
    body: JSON.stringify({ rev: cur.rev, flows: cur.flows }),
  });
  if (!r.ok) throw new Error(`deploying the flow's credential references failed: HTTP ${r.status} ${await r.text()}`);
  return withCreds.length;
}

function settingsJs(): string {
  return `// Node-RED settings written by vigie start; replace this file to customise (it is then kept).
module.exports = {
  uiHost: process.env.VIGIE_HOST || '127.0.0.1',
  uiPort: Number(process.env.VIGIE_PORT || 1880),
  flowFile: 'flows.json',
  flowFilePretty: true,
  // Encrypts camera passwords in flows_cred.json. Set VIGIE_CREDENTIAL_SECRET in production;
  // without it Node-RED generates a key and keeps it in .config.runtime.json.
  // "false" (the street demo only): a plain credentials file, which there holds nothing but
  // references to environment variables.
  credentialSecret: process.env.VIGIE_CREDENTIAL_SECRET === 'false' ? false : process.env.VIGIE_CREDENTIAL_SECRET || undefined,
  functionExternalModules: false,
  diagnostics: { enabled: false },
  // No update check or telemetry prompt: gateways are offline and the control room is managed.
  telemetry: { enabled: false },
  editorTheme: { tours: false },
  logging: { console: { level: process.env.VIGIE_LOG_LEVEL || 'info', metrics: false, audit: false } },
};
`;
}

export interface Started {
  url: string;
  dashboardUrl: string;
  services?: DemoServices;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Start everything; resolves once Node-RED answers HTTP and has started its flows. */
export async function start(opts: StartOptions, log: (line: string) => void = (l) => process.stdout.write(l + '\n')): Promise<Started> {
  const flowFile = resolveFlowFile(opts.flow);
  const isDemo = path.basename(flowFile) === 'street-demo.json';
  const red = resolveNodeRed(opts);

  let services: DemoServices | undefined;
  const env: NodeJS.ProcessEnv = withFlowEnvDefaults({
    ...process.env,
    ONNXRUNTIME_NODE_INSTALL: 'skip',
    VIGIE_HOST: opts.host,
    VIGIE_PORT: String(opts.port),
  });
  if (isDemo) {
    services = await startDemoServices({ brokerPort: opts.brokerPort, log });
    Object.assign(env, services.env);
    // The demo's user directory is rebuilt on each run and its flow's credentials are only
    // "$(VAR)" references: plain credentials let the cameras connect at the first start.
    env.VIGIE_CREDENTIAL_SECRET = 'false';
  }

  // Checked before the user directory is touched, so that a refused first start leaves it
  // fresh and the next one still installs the flow and deploys its credential references.
  const { file, fresh } = flowToRun(opts, flowFile);
  try {
    checkFlowEnv(fs.readFileSync(file, 'utf8'), env, fresh ? path.basename(flowFile) : file);
  } catch (err) {
    await services?.stop();
    throw err;
  }
  prepareUserDir(opts, flowFile, fresh);
  if (isDemo && fresh) writePlainCredentials(opts.userDir, flowFile);

  const child = spawn(process.execPath, [red, '-u', opts.userDir, '-s', path.join(opts.userDir, 'settings.js')], {
    cwd: opts.userDir,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const onOutput = (d: Buffer) => {
    const s = d.toString();
    out = (out + s).slice(-20000);
    if (process.env.VIGIE_QUIET !== '1') process.stdout.write(s);
  };
  child.stdout!.on('data', onOutput);
  child.stderr!.on('data', onOutput);

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(() => child.kill('SIGKILL'), 20_000);
          child.once('exit', () => {
            clearTimeout(t);
            resolve();
          });
          child.kill('SIGINT');
        });
      }
      await services?.stop();
    })());

  const host = opts.host === '0.0.0.0' || opts.host === '::' ? '127.0.0.1' : opts.host;
  const url = `http://${host}:${opts.port}`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) {
      await services?.stop();
      throw new Error(`Node-RED exited (code ${child.exitCode}) before starting:\n${out.slice(-4000)}`);
    }
    if (/Started flows/.test(out)) {
      try {
        const r = await fetch(`${url}/vigie/health`);
        if (r.ok) break;
      } catch {
        /* not yet */
      }
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`Node-RED did not start within 120 s:\n${out.slice(-4000)}`);
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  if (fresh && !isDemo) {
    const n = await deployFlowCredentials(url, flowFile);
    if (n) log(`deployed credential references of ${n} node(s) from the shipped flow`);
  }
  return { url, dashboardUrl: `${url}/dashboard`, services, child, stop };
}

export async function main(argv: string[]): Promise<number> {
  const opts = parseStartArgs(argv);
  const s = await start(opts);
  process.stdout.write(
    `\nVigie is running.\n  Node-RED editor:     ${s.url}/\n  Operators' console:  ${s.dashboardUrl}\n` +
      (s.services ? `  MQTT broker:         ${s.services.mqttUrl}\n` : '') +
      'Press Ctrl-C to stop.\n\n',
  );
  await new Promise<void>((resolve) => {
    let done = false;
    const finish = async () => {
      if (done) return;
      done = true;
      process.stdout.write('\nstopping…\n');
      await s.stop();
      resolve();
    };
    process.once('SIGINT', finish);
    process.once('SIGTERM', finish);
    s.child.once('exit', finish);
  });
  return 0;
}
