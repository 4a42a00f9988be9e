/**
 * Shapes of the shipped gateway and control-room flows that later versions fixed. vigie start
 * never changes a flows.json already in the user directory (it may hold the integrator's
 * edits), so a site upgraded in place keeps running these; each is recognised by its wiring,
 * not by node ids, so that a flow edited since, or imported by hand, is recognised too.
 */
import { flowNodes } from './flow-nodes';

type Node = {
  id?: unknown;
  type?: unknown;
  name?: unknown;
  wires?: unknown;
  [key: string]: unknown;
};

export type OldFlowShape = 'health-log' | 'every-site' | 'move-requests-published' | 'clean-session' | 'no-outbox';

export interface OldFlowShapeFound {
  shape: OldFlowShape;
  /** One line: what the flow does, what the shipped flow does since, and what to do. */
  message: string;
}

/** What to do about any of them: said once per warning, as each may be read alone in a log. */
export const OLD_SHAPE_REMEDY =
  'vigie start leaves your flows.json as it is: import the shipped flow again (Import → Examples) and carry your settings over, ' +
  'or start once with --reset-flow, which keeps your flows.json as flows.json.<time>.bak';

function outputs(n: Node): string[][] {
  return Array.isArray(n.wires) ? n.wires.map((w) => (Array.isArray(w) ? w.filter((id): id is string => typeof id === 'string') : [])) : [];
}

const label = (n: Node) => `${String(n.type)} "${String(n.name || n.id)}"`;
const isTrue = (v: unknown) => v === true || v === 'true';

/**
 * The site level (vigie/v1/<site>/…) of an MQTT subscription is a wildcard: it takes every
 * site's messages. A subscription that names a site (or leaves the vigie/v1 tree) does not.
 */
function anySite(topic: string): boolean {
  const levels = topic.split('/');
  const wanted = ['vigie', 'v1'];
  for (let i = 0; i < 3; i++) {
    const l = levels[i];
    if (l === undefined) return false;
    if (l === '#') return true;
    if (i < 2 && l !== '+' && l !== wanted[i]) return false;
    if (i === 2) return l === '+';
  }
  return false;
}

/**
 * Nodes reached from `startIds` through nodes that hand the message on unchanged in kind
 * (a change node sets a topic, an outbox delays): a switch, a function or any other node ends the walk.
 */
function reachedThrough(byId: Map<string, Node>, startIds: string[], passThrough: Set<string>): Node[] {
  const seen = new Set<string>();
  const reached: Node[] = [];
  const queue = [...startIds];
  while (queue.length) {
    const id = queue.shift()!;
    if (seen.has(id)) continue;
    seen.add(id);
    const n = byId.get(id);
    if (!n) continue;
    reached.push(n);
    if (passThrough.has(String(n.type))) for (const out of outputs(n)) queue.push(...out);
  }
  return reached;
}

/**
 * The shapes of an earlier version's shipped flows found in `flowText`, one entry per shape
 * (naming every node concerned). A flow that is not a JSON array of nodes has none.
 */
export function oldFlowShapes(flowText: string): OldFlowShapeFound[] {
  const nodes = flowNodes<Node>(flowText);
  const byId = new Map(nodes.filter((n) => typeof n.id === 'string').map((n) => [n.id as string, n]));
  const found: OldFlowShapeFound[] = [];
  const say = (shape: OldFlowShape, what: string[], text: (list: string) => string) => {
    if (what.length) found.push({ shape, message: `${text([...new Set(what)].join(', '))}. ${OLD_SHAPE_REMEDY}.` });
  };

  // e722ccd: mic-capture's second output carries a level report every second besides the
  // health events; a console debug wired straight to it wrote each to the log.
  const healthLogs: string[] = [];
  for (const cap of nodes.filter((n) => n.type === 'mic-capture')) {
    for (const id of outputs(cap)[1] ?? []) {
      const d = byId.get(id);
      if (d?.type === 'debug' && isTrue(d.console) && d.active !== false && d.active !== 'false') healthLogs.push(`${label(d)} (from ${label(cap)})`);
    }
  }
  say('health-log', healthLogs, (list) =>
    `WARNING: ${list} writes to the log every message of the capture's health output, a level report a second included (about 100 MB of log a day). ` +
      'The shipped gateway flow has since put a switch "health events only" (msg.topic is "health") before its debug');

  // bbb9f95: the control room subscribes to every site's detections; a switch on the topic's
  // site level (VIGIE_SITE) now stands between the subscription and the fusion.
  const detectionsIn = nodes.filter((n) => n.type === 'mqtt in' && typeof n.topic === 'string' && /(^|\/)(detection|#)$/.test(n.topic));
  const everySite: string[] = [];
  for (const sub of detectionsIn.filter((n) => anySite(String(n.topic)))) {
    const fused = reachedThrough(byId, outputs(sub).flat(), new Set(['change', 'junction'])).filter((n) => n.type === 'localizer');
    if (fused.length) everySite.push(`${label(sub)} (${String(sub.topic)}) → ${fused.map(label).join(', ')}`);
  }
  say('every-site', everySite, (list) =>
    `WARNING: ${list} fuses the detections of every site on the broker into this control room's alerts. ` +
      'The shipped control-room flow has since put a switch "only this site (VIGIE_SITE)" between them');

  // 85214c7: alert-dashboard's output carries decisions and camera move requests (which may
  // hold a whole alert); only decisions belong on the decision topic, behind a switch on msg.topic.
  const published: string[] = [];
  for (const dash of nodes.filter((n) => n.type === 'alert-dashboard')) {
    const outs = reachedThrough(byId, outputs(dash).flat(), new Set(['change', 'junction', 'vigie-outbox'])).filter((n) => n.type === 'mqtt out');
    if (outs.length) published.push(`${label(dash)} → ${outs.map(label).join(', ')}`);
  }
  say('move-requests-published', published, (list) =>
    `WARNING: ${list} publishes the console's camera move requests (which may hold a whole alert) with its decisions on the decision topic. ` +
      'The shipped flows have since put a switch "decisions only" (msg.topic is "decision") before the decision topic');

  // 32892db: the control room's broker node keeps one session (fixed client id, no clean
  // session), so that the broker holds the detections sent while the control room is away.
  const brokersOfDetections = new Set(detectionsIn.map((n) => n.broker).filter((b): b is string => typeof b === 'string'));
  const cleanSessions = [...brokersOfDetections]
    .map((id) => byId.get(id))
    .filter((b): b is Node => b?.type === 'mqtt-broker')
    .filter((b) => (b.cleansession !== false && b.cleansession !== 'false') || typeof b.clientid !== 'string' || b.clientid.trim() === '')
    .map(label);
  say('clean-session', cleanSessions, (list) =>
    `WARNING: ${list}, which brings the gateways' detections, starts a clean session${cleanSessions.length > 1 ? 's' : ''} (or has no fixed client id): ` +
      'the broker drops the detections sent while the control room is away (restarting, or its link down). ' +
      'The shipped control-room flow has since set client id ${VIGIE_MQTT_CLIENT_ID}, clean session off and subscriptions kept');

  // 29664de: the mqtt out of the gateway and control-room flows drops what it gets while its
  // broker is unreachable; a vigie-outbox before it now keeps that and sends it when it is back.
  // The street demo (its broker in the same process) has none: only flows of the integrators' kind count.
  const integratorsKind = detectionsIn.length > 0 || nodes.some((n) => n.type === 'mic-capture' && n.source !== 'simulated');
  if (integratorsKind) {
    const feeders = new Map<string, Node[]>();
    for (const n of nodes) for (const id of outputs(n).flat()) feeders.set(id, [...(feeders.get(id) ?? []), n]);
    const unguarded = nodes
      .filter((n) => n.type === 'mqtt out' && (feeders.get(String(n.id)) ?? []).some((f) => f.type !== 'vigie-outbox'))
      .map(label);
    say('no-outbox', unguarded, (list) =>
      `WARNING: ${list} is fed without a vigie-outbox before it: what it gets while the broker is unreachable is lost. ` +
        'The shipped flows have since put an outbox ("keep while the broker is down") before each mqtt out');
  }
  return found;
}
