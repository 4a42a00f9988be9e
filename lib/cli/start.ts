/**
 * `vigie start --flow NAME|FILE --user-dir DIR`: runs Node-RED with one of the shipped flows
 * (street-demo, gateway, control-room) or a flow file. For the street demo it also runs
 * what a street would have: virtual ONVIF cameras and an MQTT broker (aedes), in this process.
 * Node-RED runs as a child process; Ctrl-C (or SIGTERM, SIGHUP) stops everything, during start-up
 * too, and Node-RED stops on its own if this process is killed (launcher-watch.ts).
 */
import { ChildProcess, spawn } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { SENSOR_ID_PATTERN } from '../contracts';
import { writeFileAtomic } from '../util/atomic-file';
import { fileFaultText, makeDirectory } from '../util/disk-fault';
import { HEALTH_FILE, isStartedMessage, LAUNCHER_ENV, NODE_RED_STOP_MS, StartedMessage } from '../util/launcher-channel';
import { packageRoot } from '../util/package-info';
import { isObject } from '../util/validate';
import { numberOption, parseArgs, PORT_RULE } from './args';
import { DemoServices, startDemoServices } from './demo-services';
import { flowNodes } from './flow-nodes';
import { jsonFaultAt, lineColumnAt } from '../util/json-fault';
import { oldFlowShapes } from './old-flow-shapes';
import { acquireStartLock, StartLock } from './start-lock';
import { USAGE as USAGES, UsageError } from './usage';

export const PACKAGE_ROOT = packageRoot();
const PACKAGE_NAME = 'node-red-dashboard-2-vigie';
/**
 * Preloaded into Node-RED so that it stops when this process is gone, even killed with SIGKILL:
 * it watches the IPC channel close, which therefore stays open while Node-RED runs
 * (launcher-watch.ts). From dist/, where Node-RED loads the package's nodes from too.
 */
const LAUNCHER_WATCH = path.join(PACKAGE_ROOT, 'dist', 'lib', 'cli', 'launcher-watch-preload.js');

export interface StartOptions {
  flow: string;
  userDir: string;
  host: string;
  port: number;
  nodeRedHome?: string;
  resetFlow: boolean;
  /** Embedded broker port for the street demo (0 = any free port). */
  brokerPort: number;
  /** How long Node-RED may take to start its flows (default START_TIMEOUT_MS). */
  startTimeoutMs?: number;
}

const USAGE = USAGES.start;

export function parseStartArgs(argv: string[]): StartOptions {
  const a = parseArgs(argv, {
    strings: ['flow', 'user-dir', 'host', 'port', 'node-red', 'broker-port'],
    booleans: ['reset-flow'],
    usage: USAGE,
    // `vigie start gateway`: the flow given as a word, which would otherwise start the default.
    hint: (word) => (shippedFlows().includes(word) || word.endsWith('.json') ? `--flow ${word}` : undefined),
  });
  const flow = a.strings.flow ?? 'street-demo';
  const port = numberOption(a, 'port', PORT_RULE, USAGE) ?? 1880;
  const brokerPort = numberOption(a, 'broker-port', PORT_RULE, USAGE) ?? 1883;
  const userDir = a.strings['user-dir'];
  if (!userDir) throw new UsageError(`--user-dir: expected the Node-RED user directory\nusage: ${USAGE}`);
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

/** The names of the shipped flows (examples/*.json). */
export function shippedFlows(): string[] {
  const examples = path.join(PACKAGE_ROOT, 'examples');
  return fs.existsSync(examples) ? fs.readdirSync(examples).filter((f) => f.endsWith('.json')).map((f) => f.replace(/\.json$/, '')) : [];
}

/** The shipped flow file for a name, or the path itself. */
export function resolveFlowFile(flow: string): string {
  if (/^[a-z0-9-]+$/.test(flow)) {
    const shipped = path.join(PACKAGE_ROOT, 'examples', `${flow}.json`);
    if (fs.existsSync(shipped)) return shipped;
    throw new UsageError(`--flow: no shipped flow "${flow}" (available: ${shippedFlows().join(', ') || 'none — run the build'})`);
  }
  const p = path.resolve(flow);
  if (!fs.existsSync(p)) throw new UsageError(`--flow: file not found: ${flow}`);
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
 * Refuses a flow file in the user directory that is not valid JSON (hand-edited, cut short):
 * Node-RED would log a warning and run an empty flow, which reports healthy. An empty file is
 * left to Node-RED, which then restores its own backup (.flows.json.backup). `wanted`: the flow
 * that --reset-flow would install instead.
 */
export function checkFlowFileIsJson(file: string, wanted: string): void {
  let text = fs.readFileSync(file, 'utf8');
  if (text.length === 0) return;
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // Node-RED strips a byte order mark too
  try {
    JSON.parse(text);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new Error(
      `the flow file ${file} is not valid JSON: ${jsonErrorWords(why, text)}. Node-RED would start it as an empty flow.\n` +
        `Correct the file, or start once with --reset-flow (in the Docker image: add --reset-flow after the image name), ` +
        `which keeps it beside as ${path.basename(file)}.<time>.bak and installs ${wanted} again.`,
    );
  }
}

/**
 * " (line L, column C)" where the text breaks JSON's grammar (jsonFaultAt), unless JSON.parse's
 * message names the line itself.
 */
function jsonErrorPlace(message: string, text: string): string {
  if (/\bline\b/.test(message)) return '';
  const offset = jsonFaultAt(text, message);
  if (offset === undefined) return '';
  const { line, column } = lineColumnAt(text, offset);
  return ` (line ${line}, column ${column})`;
}

/**
 * JSON.parse's message and where the fault is, without the file's text it quotes for some faults
 * ("Unexpected token ']', "…" is not valid JSON"): its lines would break the log's, and the
 * line and column say where to look.
 */
function jsonErrorWords(message: string, text: string): string {
  return message.replace(/, (?:\.\.\.)?"[\s\S]*"(?:\.\.\.)? is not valid JSON$/, '') + jsonErrorPlace(message, text);
}

/** The file in the user directory that says which flow `vigie start` installed there. */
export const FLOW_RECORD = '.vigie-flow.json';

/** What names a flow in FLOW_RECORD: a shipped flow's name, or the absolute path of a flow file. */
export function flowIdentity(flowFile: string): string {
  const examples = path.join(PACKAGE_ROOT, 'examples');
  return path.dirname(flowFile) === examples ? path.basename(flowFile, '.json') : flowFile;
}

/**
 * The flow installed in the user directory, as FLOW_RECORD has it. A directory installed before
 * the record existed: the shipped flow whose node ids make most of its flows.json (at least
 * half of that shipped flow's ids), or undefined when none does.
 */
export function installedFlow(userDir: string): { flow: string; installedAt?: string } | undefined {
  try {
    const rec = JSON.parse(fs.readFileSync(path.join(userDir, FLOW_RECORD), 'utf8')) as { flow?: unknown; installedAt?: unknown };
    if (typeof rec.flow === 'string') return { flow: rec.flow, installedAt: typeof rec.installedAt === 'string' ? rec.installedAt : undefined };
  } catch {
    /* no record: look at flows.json */
  }
  let ids: Set<string>;
  try {
    ids = new Set(flowNodes<FlowNode>(fs.readFileSync(path.join(userDir, 'flows.json'), 'utf8')).map((n) => String(n.id)));
  } catch {
    return undefined;
  }
  const examples = path.join(PACKAGE_ROOT, 'examples');
  let best: { flow: string; share: number } | undefined;
  for (const f of fs.existsSync(examples) ? fs.readdirSync(examples).filter((x) => x.endsWith('.json')) : []) {
    const shipped = flowNodes<FlowNode>(fs.readFileSync(path.join(examples, f), 'utf8'));
    if (!shipped.length) continue;
    const share = shipped.filter((n) => ids.has(String(n.id))).length / shipped.length;
    if (share >= 0.5 && (!best || share > best.share)) best = { flow: f.replace(/\.json$/, ''), share };
  }
  return best && { flow: best.flow };
}

/**
 * Refuses to start another flow than the one installed in the user directory (which would
 * otherwise run, silently, asking for its own variables) unless --reset-flow says to replace it.
 */
export function checkInstalledFlow(opts: StartOptions, flowFile: string): void {
  if (opts.resetFlow || !fs.existsSync(path.join(opts.userDir, 'flows.json'))) return;
  const installed = installedFlow(opts.userDir);
  const wanted = flowIdentity(flowFile);
  if (!installed || installed.flow === wanted) return;
  throw new Error(
    `--flow: the user directory ${opts.userDir} holds the flow ${installed.flow}` +
      `${installed.installedAt ? ` (installed ${installed.installedAt})` : ''}, not ${wanted}; vigie start will not replace it on its own.\n` +
      `To switch, start once with --reset-flow (in the Docker image: add --reset-flow after the image name): ` +
      `flows.json and flows_cred.json are kept beside it as flows.json.<time>.bak and flows_cred.json.<time>.bak, ` +
      `then ${wanted} is installed. Or keep VIGIE_FLOW=${installed.flow}, or use another user directory.`,
  );
}

/** Moves flows.json and flows_cred.json aside as <name>.<time>.bak; returns the names of the backups. */
export function backUpFlow(userDir: string, now = new Date()): string[] {
  const stamp = now.toISOString().replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');
  const kept: string[] = [];
  for (const name of ['flows.json', 'flows_cred.json']) {
    const file = path.join(userDir, name);
    if (!fs.existsSync(file)) continue;
    const backup = `${file}.${stamp}.bak`;
    fs.renameSync(file, backup);
    kept.push(path.basename(backup));
  }
  return kept;
}

function versionAt(dir: string): string | undefined {
  try {
    const v: unknown = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).version;
    return typeof v === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}

function sameDir(a: string, b: string): boolean {
  try {
    return fs.realpathSync(a) === fs.realpathSync(b);
  } catch {
    return false; // dangling
  }
}

/**
 * Points <user dir>/node_modules/node-red-dashboard-2-vigie at this package, which is what
 * Node-RED loads. A link to another copy (a user directory made by an older checkout, an npx
 * cache since moved or deleted) is replaced, saying which Vigie by which. A real directory there
 * (the palette manager or npm installed it) wins, as Node-RED loads it: left in place, with a
 * warning. Returns 'linked' when the link is this package's, 'installed' for such a directory.
 */
export function linkThisPackage(userDir: string, log: (line: string) => void): 'linked' | 'installed' {
  const link = path.join(userDir, 'node_modules', PACKAGE_NAME);
  const here = `Vigie ${versionAt(PACKAGE_ROOT) ?? 'of unknown version'} at ${PACKAGE_ROOT}`;
  let stat: fs.Stats | undefined;
  try {
    stat = fs.lstatSync(link);
  } catch {
    stat = undefined;
  }
  if (stat && !stat.isSymbolicLink()) {
    log(
      `WARNING: ${link} (Vigie ${versionAt(link) ?? 'of unknown version'}) was installed into the user directory by the palette manager or npm; ` +
        `Node-RED loads it, not this ${here}. To run this one, remove it (palette manager: Remove, or npm uninstall ${PACKAGE_NAME} in ${userDir}) and start again.`,
    );
    return 'installed';
  }
  if (stat && sameDir(link, PACKAGE_ROOT)) return 'linked';
  makeDirectory(path.dirname(link));
  if (!stat) {
    fs.symlinkSync(PACKAGE_ROOT, link, 'dir');
    return 'linked';
  }
  const target = path.resolve(path.dirname(link), fs.readlinkSync(link));
  const was = fs.existsSync(target) ? `Vigie ${versionAt(target) ?? 'of unknown version'} at ${target}` : `${target}, which no longer exists`;
  // A new link renamed over the old one: the user directory never lacks one, even if stopped here.
  const fresh = `${link}.${process.pid}.new`;
  fs.rmSync(fresh, { force: true });
  fs.symlinkSync(PACKAGE_ROOT, fresh, 'dir');
  fs.renameSync(fresh, link);
  log(`the user directory linked ${was}; it now links this ${here} (node_modules/${PACKAGE_NAME} and package.json updated)`);
  return 'linked';
}

/**
 * The mode of the files vigie start writes in the user directory that hold no secret
 * (package.json, flows.json, the flow record): as Node-RED's own writes leave them. Each is
 * written whole through a temporary file renamed over it (atomic-file.ts): a gateway's card
 * that fills up during a start leaves the file as it was, never cut short.
 */
const USER_DIR_FILE_MODE = 0o644;

/**
 * Make the user directory a Node-RED project that has this package: link this copy in as a
 * palette install would have put it (linkThisPackage). `fresh` (what
 * flowToRun decided): install `flowFile` as the flow to run, with its credential references;
 * flows.json comes last, so that a start interrupted before it installs again.
 */
export function prepareUserDir(opts: StartOptions, flowFile: string, fresh: boolean, log: (line: string) => void = () => {}, creds?: FlowCredentials): void {
  makeDirectory(opts.userDir);
  const pkgFile = path.join(opts.userDir, 'package.json');
  const pkgText = fs.existsSync(pkgFile) ? fs.readFileSync(pkgFile, 'utf8') : undefined;
  const pkg = pkgText !== undefined ? JSON.parse(pkgText) : { name: 'node-red-project', private: true };
  if (linkThisPackage(opts.userDir, log) === 'linked') {
    pkg.dependencies = { ...(pkg.dependencies ?? {}), [PACKAGE_NAME]: `file:${PACKAGE_ROOT}` };
  }
  // Written only when it changes, and whole or not at all: a start on a full disk must not leave
  // it cut, which every later start would refuse (see USER_DIR_FILE_MODE).
  const wantedPkg = JSON.stringify(pkg, null, 2) + '\n';
  if (wantedPkg !== pkgText) writeFileAtomic(pkgFile, wantedPkg, { mode: USER_DIR_FILE_MODE });

  if (fresh) {
    const references = creds ?? credentialReferences(flowFile); // refuses a literal secret before anything is moved
    const kept = backUpFlow(opts.userDir);
    if (kept.length) log(`--reset-flow: kept the previous flow as ${kept.join(' and ')}`);
    const n = writePlainCredentials(opts.userDir, references);
    if (n) log(`installed the credential references of ${n} node(s) from the flow`);
    writeFileAtomic(path.join(opts.userDir, FLOW_RECORD), JSON.stringify({ flow: flowIdentity(flowFile), installedAt: new Date().toISOString() }, null, 2) + '\n', { mode: USER_DIR_FILE_MODE });
    // Whole or not at all: a flows.json cut by a full disk would be refused at every later start
    // (checkFlowFileIsJson); none at all installs the flow again at the next one.
    writeFileAtomic(path.join(opts.userDir, 'flows.json'), withoutCredentials(fs.readFileSync(flowFile, 'utf8')), { mode: USER_DIR_FILE_MODE });
  } else if (!fs.existsSync(path.join(opts.userDir, FLOW_RECORD))) {
    // A directory installed before the record existed: record what it holds, when that is known.
    const held = installedFlow(opts.userDir);
    if (held) writeFileAtomic(path.join(opts.userDir, FLOW_RECORD), JSON.stringify({ flow: held.flow }, null, 2) + '\n', { mode: USER_DIR_FILE_MODE });
  }

  writeSettings(opts.userDir, log);
  tightenSecrets(opts.userDir);
}

/**
 * The flow as flows.json holds it: without the nodes' inline `credentials`, which are in
 * flows_cred.json already (writePlainCredentials). Left in, Node-RED would hand them to the
 * editor, which sends them back at the first deploy, and every node that has some (the cameras,
 * the MQTT broker) would count as changed: a *Modified nodes* deploy of one unrelated node would
 * restart them all. A text that is not a flow array is written as it is (Node-RED says why).
 */
export function withoutCredentials(flowText: string): string {
  let nodes: unknown;
  try {
    nodes = JSON.parse(flowText);
  } catch {
    return flowText;
  }
  if (!Array.isArray(nodes) || !nodes.some((n) => isObject(n) && 'credentials' in n)) return flowText;
  return JSON.stringify(nodes.map((n) => (isObject(n) && 'credentials' in n ? Object.fromEntries(Object.entries(n).filter(([k]) => k !== 'credentials')) : n)), null, 4) + '\n';
}

/**
 * The environment variables of the shipped flows: what each is, and the value `vigie start`
 * gives it when unset. Those without a default have no sensible one (a position, an address):
 * a flow that refers to one of them does not start until it is set.
 */
export const FLOW_ENV: Record<string, { meaning: string; default?: string }> = {
  VIGIE_SITE: { meaning: "the site, in MQTT topics (vigie/v1/<site>/…; letters, digits, . _ -); a control room takes only its own site's detections", default: 'default' },
  VIGIE_SENSOR: { meaning: "this gateway's sensor id, in MQTT topics and detections (unique per gateway; letters, digits, . _ -)" },
  VIGIE_SENSOR_LAT: { meaning: "the gateway's latitude, degrees (-90..90)" },
  VIGIE_SENSOR_LON: { meaning: "the gateway's longitude, degrees (-180..180)" },
  VIGIE_SENSOR_HEADING: { meaning: "the direction the gateway's microphone array faces, degrees from north" },
  VIGIE_ALSA_DEVICE: { meaning: "the gateway's ALSA capture device", default: 'default' },
  VIGIE_MQTT_HOST: { meaning: "the MQTT broker's host name or address, or its URL (mqtts://host:8883 for MQTT over TLS)" },
  VIGIE_MQTT_PORT: { meaning: "the MQTT broker's port (not used when VIGIE_MQTT_HOST is a URL)", default: '1883' },
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
  return unsetIn(flowText, flowNodes<FlowNode>(flowText), env);
}

type FlowNode = { id?: string; type?: string; name?: string; env?: Array<{ name?: unknown }> };

function referencedNames(text: string): Set<string> {
  return new Set([...text.matchAll(ENV_REFERENCE)].map((m) => m[1] ?? m[2] ?? m[3]));
}

function unsetIn(flowText: string, nodes: FlowNode[], env: NodeJS.ProcessEnv): string[] {
  const defined = new Set<string>();
  for (const n of nodes) for (const e of Array.isArray(n.env) ? n.env : []) if (typeof e?.name === 'string') defined.add(e.name);
  return [...referencedNames(flowText)].filter((n) => env[n] === undefined && !defined.has(n) && !n.startsWith('NR_')).sort();
}

/**
 * For each of `names`, the nodes that refer to it, as `type "name"` (for variables FLOW_ENV does
 * not describe), in their properties or in their credentials (`credentials`: by node id).
 */
function envUsers(nodes: FlowNode[], names: string[], credentials: Record<string, unknown> = {}): Map<string, string[]> {
  const users = new Map(names.map((n) => [n, [] as string[]]));
  if (names.length === 0) return users;
  for (const node of nodes) {
    const own = node.id !== undefined ? credentials[String(node.id)] : undefined;
    for (const name of referencedNames(JSON.stringify(node) + (own ? JSON.stringify(own) : ''))) users.get(name)?.push(`${node.type} "${node.name || node.id}"`);
  }
  return users;
}

/**
 * MQTT broker nodes of the flow that would reach their broker over TLS (an mqtts:// or wss://
 * URL, given or from the environment) without checking its certificate: Node-RED's broker node
 * then accepts any certificate unless it has `verifyservercert` or a TLS configuration node. The
 * shipped flows set it; a flow installed by an earlier version does not. As `type "name"` lines.
 */
export function brokersWithoutCertificateCheck(flowText: string, env: NodeJS.ProcessEnv): string[] {
  const out: string[] = [];
  for (const n of flowNodes<FlowNode>(flowText) as Array<FlowNode & { broker?: unknown; verifyservercert?: unknown; usetls?: unknown; tls?: unknown }>) {
    if (n.type !== 'mqtt-broker' || typeof n.broker !== 'string') continue;
    const url = n.broker.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => env[name] ?? '').trim();
    if (!/^(mqtts|wss):\/\//i.test(url)) continue;
    if (n.verifyservercert === true || n.verifyservercert === 'true' || (n.usetls && n.tls)) continue;
    out.push(`mqtt-broker "${n.name || n.id}"`);
  }
  return out;
}

/** The path of the flow's Dashboard 2.0 (its ui-base node's, without the leading /), or undefined when it has none. */
export function dashboardPath(flowText: string): string | undefined {
  const base = flowNodes<FlowNode>(flowText).find((n) => n.type === 'ui-base') as (FlowNode & { path?: unknown }) | undefined;
  if (!base) return undefined;
  const p = typeof base.path === 'string' ? base.path.trim().replace(/^\/+/, '') : '';
  return p || 'dashboard';
}

/**
 * Refuses to run a flow that refers to unset environment variables: its nodes would start
 * with the literal reference as a setting. One error names every missing variable and what it is.
 * `credentialsText`: the installed flow's credentials file, where its references are (plainCredentialsText).
 */
export function checkFlowEnv(flowText: string, env: NodeJS.ProcessEnv, flowName: string, credentialsText = ''): void {
  const nodes = flowNodes<FlowNode>(flowText);
  const missing = unsetIn(`${flowText}\n${credentialsText}`, nodes, env);
  if (missing.length === 0) {
    checkSite(flowText, env);
    return;
  }
  let credentials: unknown;
  try {
    credentials = credentialsText ? JSON.parse(credentialsText) : {};
  } catch {
    credentials = {};
  }
  const users = envUsers(nodes, missing.filter((n) => !FLOW_ENV[n]), isObject(credentials) ? credentials : {});
  const lines = missing.map((n) => `  ${n}: ${FLOW_ENV[n]?.meaning ?? `used by ${users.get(n)?.join(', ') || 'the flow'}`}`);
  throw new Error(
    `the flow ${flowName} needs environment variables that are not set:\n${lines.join('\n')}\n` +
      'Set each (docker run -e NAME=value) and start again; vigie start --help describes them all ' +
      '(with the Docker image: docker run --rm IMAGE --help).',
  );
}

/**
 * VIGIE_SITE is a level of every MQTT topic: a "/" would make the gateways publish where the
 * control room's vigie/v1/+/+/detection never looks, "+" or "#" a topic no broker accepts, and
 * neither side would say why. The rule is the sensor id's.
 */
function checkSite(flowText: string, env: NodeJS.ProcessEnv): void {
  if (!/\bVIGIE_SITE\b/.test(flowText)) return;
  const site = env.VIGIE_SITE ?? '';
  if (!SENSOR_ID_PATTERN.test(site)) {
    throw new Error(`VIGIE_SITE: expected 1-64 letters, digits, "_", "-" or ".", starting with a letter or a digit (it is a level of the MQTT topics), got ${JSON.stringify(site)}`);
  }
}

/** A flow's credentials by node id: field → $(NAME) reference. */
export type FlowCredentials = Record<string, Record<string, string>>;

/**
 * The credentials of a flow file, keyed by node id, each checked to be a reference to an
 * environment variable $(NAME), never a secret: they are written to disk unencrypted.
 */
export function credentialReferences(flowFile: string): FlowCredentials {
  let nodes: unknown;
  let text = '';
  try {
    text = fs.readFileSync(flowFile, 'utf8');
    nodes = JSON.parse(text);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new Error(`--flow: ${flowFile} is not JSON: ${jsonErrorWords(why, text)}`);
  }
  if (!Array.isArray(nodes)) throw new Error(`--flow: ${flowFile} is not a Node-RED flow: expected a JSON array of nodes`);
  const creds: FlowCredentials = {};
  for (const n of nodes as Array<{ id?: unknown; credentials?: Record<string, unknown> }>) {
    if (!n || typeof n !== 'object' || !n.credentials || typeof n.credentials !== 'object' || !Object.keys(n.credentials).length) continue;
    for (const [k, v] of Object.entries(n.credentials)) {
      if (typeof v !== 'string' || !/^\$\([A-Za-z_][A-Za-z0-9_]*\)$/.test(v)) {
        throw new Error(
          `flow ${path.basename(flowFile)}: node ${String(n.id)} credential ${k} is not an environment reference $(NAME). ` +
            'vigie start writes a new flow\'s credentials to disk unencrypted: put the secret in an environment variable and write $(NAME) in the flow.',
        );
      }
    }
    creds[String(n.id)] = n.credentials as Record<string, string>;
  }
  return creds;
}

/**
 * A newly installed flow's credential references as Node-RED's credentials file, unencrypted
 * (mode 0640). Node-RED takes an unencrypted file even with a credential secret ("Encrypted
 * credentials not found") and encrypts the set when a credential is next changed in the
 * editor; the file holds nothing but $(NAME) references, and no admin API call (which
 * adminAuth would refuse) is needed. `creds`: from credentialReferences, which refuses anything
 * but references. Returns how many nodes have credentials.
 */
export function writePlainCredentials(userDir: string, creds: FlowCredentials): number {
  writeFileAtomic(path.join(userDir, 'flows_cred.json'), JSON.stringify(creds, null, 2));
  return Object.keys(creds).length;
}

/**
 * flows_cred.json while it is as writePlainCredentials wrote it (references, not yet encrypted by
 * Node-RED), for the check of the variables it refers to; '' once encrypted, or when there is none.
 */
export function plainCredentialsText(userDir: string): string {
  try {
    const text = fs.readFileSync(path.join(userDir, 'flows_cred.json'), 'utf8');
    const creds: unknown = JSON.parse(text);
    return isObject(creds) && !('$' in creds) ? text : '';
  } catch {
    return '';
  }
}

/**
 * Files of the user directory that hold secrets or what decrypts them, which Node-RED creates
 * with the process's umask: credentials, the generated credential secret, and their backups.
 */
export const SECRET_FILES = ['flows_cred.json', '.flows_cred.json.backup', '.config.runtime.json', '.config.runtime.json.backup'];

/** Node-RED's files are created under this umask (files 0640, directories 0750 at most). */
export const NODE_RED_UMASK = 0o027;

/** Takes group write and every other-user permission off the secret files already there (from an earlier start). */
export function tightenSecrets(userDir: string): void {
  for (const name of SECRET_FILES) {
    const file = path.join(userDir, name);
    try {
      const mode = fs.statSync(file).mode & 0o777;
      if (mode & NODE_RED_UMASK) fs.chmodSync(file, mode & ~NODE_RED_UMASK);
    } catch {
      /* absent, or not ours to change */
    }
  }
}

const SETTINGS_MARK = 'Node-RED settings written by vigie start';
const SETTINGS_FIRST_LINE = new RegExp(`^// ${SETTINGS_MARK} \\(sha256 ([0-9a-f]{64}) of the lines below\\)`);

/** The text of settings.js that vigie start writes: a first line with the hash of the rest, then settingsBody(). */
export function settingsJs(): string {
  const body = settingsBody();
  return `// ${SETTINGS_MARK} (sha256 ${sha256(body)} of the lines below).\n` + body;
}

/**
 * sha256 of settings.js as earlier versions of vigie start wrote it, without a hash line:
 * such a file still unchanged is replaced by the current one; an edited one is the user's.
 */
const EARLIER_SETTINGS = new Set(['60cfca67bf311f6b03011d21a46aaea3c398f1b5a280d4fb4b41fc37b2c689a1']);

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * Who settings.js is: absent; "ours" when it is exactly as vigie start wrote it (its first line
 * holds the hash of the rest, or it is an earlier version's untouched text), so it may be
 * rewritten; "user's" otherwise — an integrator's own file or one edited in place.
 */
export function settingsOwner(text: string | undefined): 'absent' | 'ours' | 'user' {
  if (text === undefined) return 'absent';
  const nl = text.indexOf('\n');
  const m = SETTINGS_FIRST_LINE.exec(nl < 0 ? text : text.slice(0, nl));
  if (m) return sha256(text.slice(nl + 1)) === m[1] ? 'ours' : 'user';
  return EARLIER_SETTINGS.has(sha256(text)) ? 'ours' : 'user';
}

/** Writes settings.js when there is none or vigie start's own is still untouched; an edited or replaced file is left as it is. */
export function writeSettings(userDir: string, log: (line: string) => void): void {
  const file = path.join(userDir, 'settings.js');
  let text: string | undefined;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    text = undefined;
  }
  const owner = settingsOwner(text);
  if (owner === 'user') {
    log(text!.includes(SETTINGS_MARK) ? 'settings.js: edited since vigie start wrote it, so left as it is' : 'settings.js: your own, left as it is');
    return;
  }
  const wanted = settingsJs();
  if (text !== wanted) writeFileAtomic(file, wanted);
}

function settingsBody(): string {
  return `// Edit it freely: once it differs from what vigie start wrote, vigie start leaves it as it is.
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
  /** Where Node-RED listens, e.g. http://127.0.0.1:1880 (empty when it serves no HTTP). */
  url: string;
  /** The editor (httpAdminRoot) and the operators' console (Dashboard 2.0 under httpNodeRoot; empty when the flow has none). */
  editorUrl: string;
  dashboardUrl: string;
  services?: DemoServices;
  child: ChildProcess;
  stop(): Promise<void>;
}

export const START_TIMEOUT_MS = 120_000;

/** start() was stopped by its AbortSignal (SIGINT or SIGTERM during start-up) after stopping what it had started. */
export class StartAborted extends Error {
  override name = 'StartAborted';
  constructor() {
    super('stopped during start-up');
  }
}

/**
 * Start everything; resolves once Node-RED has started its flows and listens, as the
 * vigie-runtime plugin says over IPC (lib/util/launcher-channel.ts) — no HTTP request, so
 * httpNodeAuth, adminAuth, other roots and log levels do not matter. Then leaves the container's
 * health check its URL and this run's token in HEALTH_FILE (mode 0600).
 *
 * The user directory is locked first (lib/cli/start-lock.ts): a second start on it is refused
 * before anything is written. Any failure, and `abort` (a signal during start-up), stops what was
 * started (Node-RED, the demo's broker and cameras) and releases the lock; stop() does the same.
 */
export async function start(opts: StartOptions, log: (line: string) => void = (l) => process.stdout.write(l + '\n'), abort?: AbortSignal): Promise<Started> {
  const flowFile = resolveFlowFile(opts.flow);
  const isDemo = path.basename(flowFile) === 'street-demo.json';
  const red = resolveNodeRed(opts);
  const checkAbort = () => {
    if (abort?.aborted) throw new StartAborted();
  };
  checkAbort();
  let lock: StartLock;
  try {
    lock = await acquireStartLock(opts.userDir, log, abort);
  } catch (err) {
    if (abort?.aborted) throw new StartAborted();
    throw err;
  }

  let services: DemoServices | undefined;
  let file: string;
  let fresh: boolean;
  let env: NodeJS.ProcessEnv;
  let consolePath: string | undefined;
  try {
    checkAbort();
    // Checked before anything starts or is written in the user directory (but its lock), so that
    // a refused start leaves it as it was (and a refused first start leaves it fresh, to install at the next).
    checkInstalledFlow(opts, flowFile);
    ({ file, fresh } = flowToRun(opts, flowFile));
    if (!fresh) checkFlowFileIsJson(file, flowIdentity(flowFile));
    // A literal secret is refused before anything starts; the references are installed below.
    const creds = fresh ? credentialReferences(flowFile) : undefined;

    env = withFlowEnvDefaults({
      ...process.env,
      ONNXRUNTIME_NODE_INSTALL: 'skip',
      VIGIE_HOST: opts.host,
      VIGIE_PORT: String(opts.port),
    });
    if (isDemo) {
      services = await startDemoServices({ brokerPort: opts.brokerPort, log });
      Object.assign(env, services.env);
      // Its flow's credentials are only "$(VAR)" references, to the demo's own cameras: no key to
      // keep, unless one is given (a password typed into the demo's editor is then encrypted).
      if (!process.env.VIGIE_CREDENTIAL_SECRET) env.VIGIE_CREDENTIAL_SECRET = 'false';
      checkAbort();
    }
    const flowText = fs.readFileSync(file, 'utf8');
    // The installed flow's credential references are in flows_cred.json (withoutCredentials).
    checkFlowEnv(flowText, env, fresh ? path.basename(flowFile) : file, fresh ? '' : plainCredentialsText(opts.userDir));
    consolePath = dashboardPath(flowText);
    // Not refused (a running gateway must not stop at an upgrade), but said at every start.
    for (const b of brokersWithoutCertificateCheck(flowText, env)) {
      log(`WARNING: ${b} reaches its broker over TLS without checking the broker's certificate (a flow installed by an earlier version): anyone between could read the MQTT password. Add "verifyservercert": true to it, or start once with --reset-flow`);
    }
    // Other fixes of the shipped flows that an upgrade in place does not bring (lib/cli/old-flow-shapes.ts).
    for (const shape of oldFlowShapes(flowText)) log(shape.message);
    prepareUserDir(opts, flowFile, fresh, log, creds);
    checkAbort();
  } catch (err) {
    await services?.stop();
    lock.release();
    // A refused first start leaves no directory behind (only when it made it, and it is still empty).
    if (lock.createdDir) {
      try {
        fs.rmdirSync(opts.userDir);
      } catch {
        /* not empty: something was written after all */
      }
    }
    throw err;
  }
  const healthFile = path.join(opts.userDir, HEALTH_FILE);
  fs.rmSync(healthFile, { force: true });
  let healthRetry: NodeJS.Timeout | undefined;
  /**
   * Writes the health check's address. Node-RED is running by then: a file that cannot be written
   * (a full disk) must not stop it, nor the alerts it carries. The check reports unhealthy
   * meanwhile (no file), which is true of a gateway whose disk is full; tried again until written.
   */
  const writeHealthFile = (record: Record<string, unknown>, attempt = 0): void => {
    healthRetry = undefined;
    try {
      writeFileAtomic(healthFile, JSON.stringify(record) + '\n', { mode: 0o600 });
      if (attempt > 0) log(`the health file ${HEALTH_FILE} is written now (the health check can reach Node-RED again)`);
    } catch (err) {
      if (attempt === 0) log(`the health file ${HEALTH_FILE} could not be written: ${fileFaultText(err)}; Node-RED runs on, and the health check says unhealthy until it is written (tried again every ${HEALTH_RETRY_MS / 1000} s)`);
      healthRetry = setTimeout(() => writeHealthFile(record, attempt + 1), HEALTH_RETRY_MS);
    }
  };

  // Node-RED writes credentials and its generated key with the umask (on every deploy, too).
  const umask = process.umask(NODE_RED_UMASK);
  let child: ChildProcess;
  try {
    process.umask(umask | NODE_RED_UMASK);
    child = spawn(process.execPath, ['--require', LAUNCHER_WATCH, red, '-u', opts.userDir, '-s', path.join(opts.userDir, 'settings.js')], {
      cwd: opts.userDir,
      env: { ...env, [LAUNCHER_ENV]: '1' },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
  } finally {
    process.umask(umask);
  }
  // Node-RED may outlive this process (killed with SIGKILL) while it stops: the lock names it too.
  if (child.pid !== undefined) lock.setNodeRed(child.pid);
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
      try {
        if (child.exitCode === null && child.signalCode === null) {
          await new Promise<void>((resolve) => {
            const t = setTimeout(() => child.kill('SIGKILL'), NODE_RED_STOP_MS);
            child.once('exit', () => {
              clearTimeout(t);
              resolve();
            });
            child.kill('SIGINT');
          });
        }
        clearTimeout(healthRetry);
        healthRetry = undefined;
        fs.rmSync(healthFile, { force: true });
        await services?.stop();
      } finally {
        lock.release();
      }
    })());

  let onAbort: (() => void) | undefined;
  try {
    const started = await new Promise<StartedMessage>((resolve, reject) => {
      const timeoutMs = opts.startTimeoutMs ?? START_TIMEOUT_MS;
      const timer = setTimeout(() => reject(new Error(notStartedMessage(out, timeoutMs))), timeoutMs);
      const fail = (err: Error) => {
        clearTimeout(timer);
        reject(err);
      };
      child.on('message', (m) => {
        if (!isStartedMessage(m)) return;
        clearTimeout(timer);
        resolve(m);
      });
      child.once('error', (err) => fail(new Error(`Node-RED could not be started: ${err.message}`)));
      child.once('exit', (code, signal) => fail(new Error(`Node-RED exited (${code === null ? signal : `code ${code}`}) before starting:\n${out.slice(-4000)}`)));
      onAbort = () => fail(new StartAborted());
      if (abort?.aborted) onAbort();
      else abort?.addEventListener('abort', onAbort, { once: true });
    });
    if (started.port === null) {
      log('Node-RED serves no HTTP (httpAdminRoot and httpNodeRoot are false): no editor, console or health check');
      return { url: '', editorUrl: '', dashboardUrl: '', services, child, stop };
    }
    // Where Node-RED is bound (its settings.js may say another address than --host); loopback for "any".
    const bound = started.address ?? opts.host;
    const host = bound === '0.0.0.0' || bound === '::' ? '127.0.0.1' : bound.includes(':') ? `[${bound}]` : bound;
    const url = `${started.https ? 'https' : 'http'}://${host}:${started.port}`;
    if (started.adminRoot !== false) {
      writeHealthFile({ url: `${url}${started.adminRoot}vigie/admin-health`, token: started.healthToken });
    } else if (started.nodeRoot !== false) {
      // The editor is off, and with it the route the token opens: the check asks the node-side
      // route, at its real scheme and prefix, which httpNodeAuth (if set) closes to it.
      writeHealthFile({ url: `${url}${started.nodeRoot}vigie/health`, editorOff: true });
    }
    return {
      url,
      editorUrl: started.adminRoot === false ? '' : `${url}${started.adminRoot}`,
      // A flow without a Dashboard 2.0 (the gateway) has no console: /dashboard would answer 404.
      dashboardUrl: started.nodeRoot === false || consolePath === undefined ? '' : `${url}${started.nodeRoot}${consolePath}`,
      services,
      child,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  } finally {
    if (onAbort) abort?.removeEventListener('abort', onAbort);
  }
}

/** How often a health file that could not be written is tried again, ms. */
const HEALTH_RETRY_MS = 5000;

function notStartedMessage(out: string, timeoutMs: number): string {
  // Node-RED lists them one a line: "… [info] Waiting for missing types to be registered:", "… [info]  - type".
  const at = out.lastIndexOf('Waiting for missing types to be registered:');
  const missing = at < 0 ? [] : [...out.slice(at).matchAll(/^.*\] +- (\S+)\s*$/gm)].map((m) => m[1]);
  const why = missing.length
    ? `its flow uses node types that are not installed: ${missing.join(', ')}`
    : 'vigie start learns that the flows have started from the vigie-runtime plugin of node-red-dashboard-2-vigie: is the package installed in the user directory?';
  return `Node-RED did not start its flows within ${Math.round(timeoutMs / 1000)} s (${why}); stopped it.\n${out.slice(-4000)}`;
}

/** For `vigie start --help`, after the usage line: what it does, and the environment variables it and the flows read. */
export function help(): string {
  const width = Math.max(...Object.keys(FLOW_ENV).map((n) => n.length), 'VIGIE_CREDENTIAL_SECRET'.length);
  const row = (name: string, text: string) => `  ${name.padEnd(width)}  ${text}\n`;
  return (
    '\nRuns Node-RED with a shipped flow (or FILE.json) in the user directory DIR. The first start installs\n' +
    'the flow there; later starts run flows.json as it was left, edits included, and refuse another\n' +
    '--flow until --reset-flow, which keeps the previous flows.json and flows_cred.json as\n' +
    '<name>.<time>.bak and installs the flow again; a flows.json that is not valid JSON is refused\n' +
    'until corrected or reset. One vigie start at a time per user directory: a second is refused\n' +
    '(.vigie-start.lock holds the pid of the first). vigie start writes settings.js, and updates it\n' +
    'while it is exactly as written; once edited or replaced, it is left alone. The street demo also\n' +
    'runs virtual cameras and an MQTT broker (--broker-port). SIGINT, SIGTERM or SIGHUP (Ctrl-C, docker\n' +
    'stop, a closed terminal) stops Node-RED and those services, during start-up too, and exits 0. Should\n' +
    'vigie start be killed (SIGKILL), its Node-RED stops its flows on its own and exits (within 20 s).\n\n' +
    'options:\n' +
    '  --flow NAME|FILE   street-demo (default), gateway, control-room, or a flow file\n' +
    '  --user-dir DIR     the Node-RED user directory (created if needed)\n' +
    '  --host ADDRESS     where Node-RED listens (default 127.0.0.1; 0.0.0.0: every interface)\n' +
    '  --port N           its port (default 1880, 0 = any free port)\n' +
    '  --node-red DIR     where Node-RED is installed, when not beside this package\n' +
    '  --reset-flow       replace the installed flow by --flow, keeping a backup\n' +
    '  --broker-port N    the street demo\'s MQTT broker (default 1883, 0 = any free port)\n\n' +
    'environment:\n' +
    row('VIGIE_CREDENTIAL_SECRET', 'the key that encrypts credentials in flows_cred.json (unset: Node-RED generates one in .config.runtime.json; the street demo keeps them unencrypted)') +
    row('VIGIE_LOG_LEVEL', "Node-RED's console log level (default info)") +
    row('VIGIE_QUIET', "1: do not copy Node-RED's output to standard output") +
    row('VIGIE_FFMPEG', 'the ffmpeg that mic-capture (ffmpeg URL source), video-forward (when its ffmpeg path is empty) and the demo\'s cameras run (default: ffmpeg on PATH)') +
    row('VIGIE_ARECORD', 'the arecord that mic-capture runs for an ALSA device and lists the devices with (default: arecord on PATH)') +
    row('VIGIE_SETPRIV', "the setpriv that starts mic-capture's arecord and ffmpeg, and video-forward's ffmpeg, so that they die with Node-RED, even by kill -9 (default: setpriv on PATH, when its --pdeathsig works; a path that is not an executable turns it off)") +
    row('VIGIE_DATA_DIR', 'a directory of recorded clips (urban-sounds/) that the street demo plays (unset: synthetic stand-ins)') +
    '\nThe flows\' variables (a flow that uses one without a default does not start until it is set):\n' +
    Object.entries(FLOW_ENV)
      .map(([name, v]) => row(name, `${v.meaning}${v.default === undefined ? ' (required)' : v.default === '' ? ' (default: empty)' : ` (default: ${v.default})`}`))
      .join('')
  );
}

export async function main(argv: string[]): Promise<number> {
  const opts = parseStartArgs(argv);
  // Installed before anything is spawned: a signal during start-up stops what has started
  // (Node-RED would otherwise be left running, holding the port). A second signal while
  // stopping is only acknowledged: stop() still has Node-RED to end (SIGKILL after 20 s).
  const abort = new AbortController();
  const onSignal = () => {
    process.stdout.write(abort.signal.aborted ? 'still stopping…\n' : '\nstopping…\n');
    abort.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // A hangup (the terminal closed, kill -HUP) stops as SIGTERM does: by default it would end this
  // process at once, leaving the lock and the health file (and, before, Node-RED) behind.
  process.on('SIGHUP', onSignal);
  // Its output may be gone then (a closed terminal, a reader that ended): writing fails (EIO,
  // EPIPE), which must not end this process before it has stopped Node-RED.
  const ignoreOutputError = () => undefined;
  process.stdout.on('error', ignoreOutputError);
  process.stderr.on('error', ignoreOutputError);
  try {
    let s: Started;
    try {
      s = await start(opts, undefined, abort.signal);
    } catch (err) {
      if (err instanceof StartAborted) return 0;
      throw err;
    }
    process.stdout.write(
      `\nVigie is running.\n  Node-RED editor:     ${s.editorUrl || '(none)'}\n` +
        (s.dashboardUrl ? `  Operators' console:  ${s.dashboardUrl}\n` : '') +
        (s.services ? `  MQTT broker:         ${s.services.mqttUrl}\n` : '') +
        'Press Ctrl-C to stop.\n\n',
    );
    return await new Promise<number>((resolve) => {
      let done = false;
      const finish = async (code: number) => {
        if (done) return;
        done = true;
        await s.stop();
        resolve(code);
      };
      if (abort.signal.aborted) void finish(0);
      else abort.signal.addEventListener('abort', () => void finish(0), { once: true });
      // Node-RED ending on its own is a failure for whoever restarts the service.
      s.child.once('exit', (code, signal) => {
        if (done) return;
        process.stderr.write(`vigie start: Node-RED exited (${code === null ? signal : `code ${code}`})\n`);
        void finish(code || 1);
      });
    });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('SIGHUP', onSignal);
    process.stdout.off('error', ignoreOutputError);
    process.stderr.off('error', ignoreOutputError);
  }
}
