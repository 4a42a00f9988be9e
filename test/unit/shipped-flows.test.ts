/**
 * The shipped flows: the committed files are what scripts/make-flows.ts writes, and their
 * wiring, read as a graph, sends alert-dashboard's two kinds of output where they belong:
 * decisions to the MQTT decision topic (docs/mqtt.md, schemas/decision.schema.json) and to
 * ptz-steer, camera move requests to ptz-steer only; and in the integrators' flows every mqtt out
 * is fed through a vigie-outbox watching its broker (the mqtt out drops what it gets while the
 * broker is unreachable).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { shippedFlows } from '../../scripts/make-flows';
import { repoRoot } from '../support/nodered';

type Rule = { t: string; v?: string; vt?: string; case?: boolean; p?: string; pt?: string; to?: string; tot?: string };
type FlowNode = { id: string; type: string; name?: string; console?: boolean; levelEveryMs?: number; wires?: string[][]; topic?: string; property?: string; propertyType?: string; rules?: Rule[]; checkall?: string | boolean; links?: string[]; mode?: string; broker?: string };

/** What the walk knows of a message: its msg.topic and payload.kind (undefined = unknown). */
interface Known {
  topic?: string;
  kind?: string;
}

/** Types that end the walk: they consume the message and never forward it as it is. */
const CONSUMERS = new Set(['debug', 'ptz-steer', 'video-forward', 'alert-dashboard', 'localizer', 'acoustic-classifier', 'mic-capture', 'mqtt out', 'comment']);
/** Types that send on the message unchanged (vigie-outbox maybe later, but as it came). */
const PASS_THROUGH = new Set(['junction', 'link in', 'vigie-outbox']);

function switchPasses(n: FlowNode, m: Known): boolean[] {
  const rules = n.rules ?? [];
  const prop = n.propertyType === 'msg' || n.propertyType === undefined ? n.property : undefined;
  const value = prop === 'topic' ? m.topic : prop === 'payload.kind' ? m.kind : undefined;
  const checkAll = n.checkall !== 'false' && n.checkall !== false;
  const out: boolean[] = [];
  let matched = false;
  for (const r of rules) {
    let pass: boolean;
    if (checkAll === false && matched) pass = false;
    else if (r.t === 'else') pass = !matched;
    else if (value === undefined) pass = true; // unknown: it may pass
    else if (r.t === 'eq' && (r.vt ?? 'str') === 'str') pass = value === r.v;
    else if (r.t === 'neq' && (r.vt ?? 'str') === 'str') pass = value !== r.v;
    else if (r.t === 'regex') pass = new RegExp(r.v ?? '', r.case ? 'i' : '').test(value);
    else pass = true; // a rule this check does not model: assume it may pass
    if (pass && r.t !== 'else') matched = true;
    out.push(pass);
  }
  return out;
}

function afterChange(n: FlowNode, m: Known): Known {
  const next = { ...m };
  for (const r of n.rules ?? []) {
    if ((r.pt ?? 'msg') !== 'msg') continue;
    if (r.p === 'topic' && r.t === 'set') next.topic = r.tot === 'str' ? r.to : `${r.tot}:${r.to}`;
    else if (r.p === 'topic' && r.t === 'delete') next.topic = '';
    else if (r.p === 'topic' || r.p === 'payload' || r.p === 'payload.kind') return { topic: undefined, kind: undefined };
  }
  return next;
}

/** Every node a message sent on `from`'s output `port` reaches, with what is known of it there. */
function reach(flow: FlowNode[], from: FlowNode, port: number, start: Known): Array<{ node: FlowNode; msg: Known }> {
  const byId = new Map(flow.map((n) => [n.id, n]));
  const seen = new Set<string>();
  const hits: Array<{ node: FlowNode; msg: Known }> = [];
  const visit = (id: string, m: Known) => {
    const n = byId.get(id);
    if (!n) return;
    const key = `${id}|${m.topic}|${m.kind}`;
    if (seen.has(key)) return;
    seen.add(key);
    hits.push({ node: n, msg: m });
    if (CONSUMERS.has(n.type)) return;
    let outs: Array<[number, Known]>;
    if (n.type === 'switch') outs = switchPasses(n, m).flatMap((p, i): Array<[number, Known]> => (p ? [[i, m]] : []));
    else if (n.type === 'change') outs = [[0, afterChange(n, m)]];
    else if (n.type === 'link out') {
      for (const l of n.links ?? []) visit(l, m);
      return;
    } else if (PASS_THROUGH.has(n.type)) outs = [[0, m]];
    else outs = (n.wires ?? []).map((_, i): [number, Known] => [i, { topic: undefined, kind: undefined }]); // unknown node: anything may come out
    for (const [p, mm] of outs) for (const w of n.wires?.[p] ?? []) visit(w, mm);
  };
  for (const w of from.wires?.[port] ?? []) visit(w, start);
  return hits;
}

/** The topic an mqtt out node publishes a message on (undefined = cannot tell). */
const publishTopic = (n: FlowNode, m: Known) => (n.topic ? n.topic : m.topic);
/** A topic that is (or may be) the decision topic. */
const mayBeDecisionTopic = (t: string | undefined) => t === undefined || t === '' || /\bdecision\b/.test(t);

const MOVE_REQUEST: Known = { topic: 'move-request', kind: 'move-request' };
const DECISION: Known = { topic: 'decision', kind: 'decision' };

/** Problems with where the console's output goes in one flow. */
function consoleWiringProblems(flow: FlowNode[]): string[] {
  const problems: string[] = [];
  for (const c of flow.filter((n) => n.type === 'alert-dashboard')) {
    const moves = reach(flow, c, 0, MOVE_REQUEST);
    for (const h of moves) {
      if (h.node.type === 'mqtt out' && mayBeDecisionTopic(publishTopic(h.node, h.msg))) {
        problems.push(`${c.id}: move requests reach mqtt out ${h.node.id} (topic ${JSON.stringify(publishTopic(h.node, h.msg) ?? '?')})`);
      }
    }
    if (flow.some((n) => n.type === 'ptz-steer') && !moves.some((h) => h.node.type === 'ptz-steer')) problems.push(`${c.id}: move requests do not reach ptz-steer`);
    const decisions = reach(flow, c, 0, DECISION);
    if (decisions.some((h) => h.node.type === 'mqtt out') && !decisions.some((h) => h.node.type === 'mqtt out' && /\bdecision\b/.test(publishTopic(h.node, h.msg) ?? ''))) {
      problems.push(`${c.id}: decisions reach MQTT, but not on a decision topic`);
    }
  }
  return problems;
}

test('the committed flows are what scripts/make-flows.ts writes (run `npx tsx scripts/make-flows.ts` after editing it)', () => {
  const made = shippedFlows();
  assert.deepEqual(Object.keys(made).sort(), fs.readdirSync(path.join(repoRoot, 'flows')).filter((f) => f.endsWith('.json')).sort());
  for (const [file, text] of Object.entries(made)) assert.equal(fs.readFileSync(path.join(repoRoot, 'flows', file), 'utf8'), text, `flows/${file} differs from the generator's output`);
});

const flowFiles = fs.readdirSync(path.join(repoRoot, 'flows')).filter((f) => f.endsWith('.json'));
const readFlow = (f: string) => JSON.parse(fs.readFileSync(path.join(repoRoot, 'flows', f), 'utf8')) as FlowNode[];

test('shipped flows: move requests reach ptz-steer and never an MQTT decision topic; decisions are published there', () => {
  let consoles = 0;
  const problems: string[] = [];
  for (const f of flowFiles) {
    const flow = readFlow(f);
    consoles += flow.filter((n) => n.type === 'alert-dashboard').length;
    problems.push(...consoleWiringProblems(flow).map((p) => `${f}: ${p}`));
  }
  assert.deepEqual(problems, []);
  assert.ok(consoles >= 2, `the street-demo and control-room flows have a console (found ${consoles})`);
  for (const f of ['street-demo.json', 'control-room.json']) {
    const flow = readFlow(f);
    const c = flow.find((n) => n.type === 'alert-dashboard')!;
    const published = reach(flow, c, 0, DECISION).filter((h) => h.node.type === 'mqtt out');
    assert.ok(published.length > 0, `${f}: decisions are published over MQTT`);
  }
});

test('the wiring check finds a console wired straight (or through a topic change) to the decision topic', () => {
  const steer = { id: 'steer', type: 'ptz-steer', wires: [[], []] };
  const straight: FlowNode[] = [
    { id: 'ui', type: 'alert-dashboard', wires: [['steer', 'out']] },
    steer,
    { id: 'out', type: 'mqtt out', topic: 'vigie/v1/demo/decision' },
  ];
  assert.match(consoleWiringProblems(straight).join('\n'), /move requests reach mqtt out out/);
  const viaChange: FlowNode[] = [
    { id: 'ui', type: 'alert-dashboard', wires: [['steer', 'topic']] },
    steer,
    { id: 'topic', type: 'change', rules: [{ t: 'set', p: 'topic', pt: 'msg', to: '"vigie/v1/" & $env("VIGIE_SITE") & "/decision"', tot: 'jsonata' }], wires: [['out']] },
    { id: 'out', type: 'mqtt out', topic: '' },
  ];
  assert.match(consoleWiringProblems(viaChange).join('\n'), /move requests reach mqtt out out/);
  const filtered: FlowNode[] = [
    { id: 'ui', type: 'alert-dashboard', wires: [['steer', 'only']] },
    steer,
    { id: 'only', type: 'switch', property: 'topic', propertyType: 'msg', rules: [{ t: 'eq', v: 'decision', vt: 'str' }], checkall: 'true', wires: [['topic']] },
    ...viaChange.slice(2),
  ];
  assert.deepEqual(consoleWiringProblems(filtered), []);
  const noSteer: FlowNode[] = [{ id: 'ui', type: 'alert-dashboard', wires: [['only']] }, steer, ...filtered.slice(2)];
  assert.match(consoleWiringProblems(noSteer).join('\n'), /move requests do not reach ptz-steer/);
  // An outbox before the mqtt out hides nothing: it sends on what it gets.
  const viaOutbox: FlowNode[] = [
    ...viaChange.slice(0, 2),
    { ...viaChange[2], wires: [['box']] },
    { id: 'box', type: 'vigie-outbox', broker: 'b', wires: [['out']] },
    { id: 'out', type: 'mqtt out', topic: '', broker: 'b' },
  ];
  assert.match(consoleWiringProblems(viaOutbox).join('\n'), /move requests reach mqtt out out/);
  const filteredViaOutbox: FlowNode[] = [filtered[0], steer, filtered[2], ...viaOutbox.slice(2)];
  assert.deepEqual(consoleWiringProblems(filteredViaOutbox), []);
});

/** mqtt out nodes fed by anything but a vigie-outbox watching their broker. */
function unguardedMqttOuts(flow: FlowNode[]): string[] {
  const problems: string[] = [];
  for (const out of flow.filter((n) => n.type === 'mqtt out')) {
    const feeders = flow.filter((n) => (n.wires ?? []).flat().includes(out.id));
    if (feeders.length === 0) problems.push(`${out.id}: fed by nothing`);
    for (const f of feeders) {
      if (f.type !== 'vigie-outbox') problems.push(`${out.id}: fed by ${f.type} ${f.id}, not through an outbox`);
      else if (f.broker !== out.broker) problems.push(`${out.id}: fed by outbox ${f.id}, which watches ${f.broker}, not ${out.broker}`);
    }
  }
  return problems;
}

test("the integrators' flows feed every mqtt out through an outbox watching its broker", () => {
  // The street demo publishes to the broker embedded in its own process.
  const problems: string[] = [];
  for (const f of flowFiles.filter((x) => x !== 'street-demo.json')) {
    const flow = readFlow(f);
    assert.ok(flow.some((n) => n.type === 'mqtt out'), `${f} publishes over MQTT`);
    problems.push(...unguardedMqttOuts(flow).map((p) => `${f}: ${p}`));
  }
  assert.deepEqual(problems, []);
  // The check itself: a topic node wired straight to the mqtt out, and an outbox on another broker.
  const topic = { id: 'topic', type: 'change', wires: [['out']] };
  const out = { id: 'out', type: 'mqtt out', broker: 'b1' };
  assert.deepEqual(unguardedMqttOuts([topic, out]), ['out: fed by change topic, not through an outbox']);
  assert.deepEqual(unguardedMqttOuts([{ ...topic, wires: [['box']] }, { id: 'box', type: 'vigie-outbox', broker: 'b2', wires: [['out']] }, out]), ['out: fed by outbox box, which watches b2, not b1']);
});

test("the integrators' flows' tab descriptions name every environment variable the flow uses", () => {
  // The street demo's variables (virtual camera ports) are set by `vigie start` itself.
  for (const f of flowFiles.filter((x) => x !== 'street-demo.json')) {
    const text = fs.readFileSync(path.join(repoRoot, 'flows', f), 'utf8');
    const used = new Set([...text.matchAll(/\$\{(VIGIE_\w+)\}|\$\((VIGIE_\w+)\)|\$env\(\\?"(VIGIE_\w+)\\?"\)/g)].map((m) => m[1] ?? m[2] ?? m[3]));
    assert.ok(used.size > 0, `flows/${f} uses environment variables`);
    const info = (readFlow(f) as Array<FlowNode & { info?: string }>).filter((n) => n.type === 'tab').map((n) => n.info ?? '').join('\n');
    for (const v of used) assert.ok(info.includes(v), `flows/${f}: the tab description does not name ${v}`);
  }
});

test('every shipped MQTT broker node verifies the server certificate when VIGIE_MQTT_HOST is an mqtts:// URL', () => {
  let brokers = 0;
  for (const f of flowFiles) {
    for (const n of readFlow(f) as Array<FlowNode & { verifyservercert?: unknown }>) {
      if (n.type !== 'mqtt-broker') continue;
      brokers++;
      // Without a tls-config node, Node-RED takes this (legacy) flag for rejectUnauthorized.
      assert.equal(n.verifyservercert, true, `${f}: broker "${n.name}" must verify server certificates`);
    }
  }
  assert.ok(brokers >= 3, `the three flows have a broker (found ${brokers})`);
});

test('the shipped dashboards are not offered as an installable app (no "App is offline ready" toast for operators to misread)', () => {
  let bases = 0;
  for (const f of flowFiles) {
    for (const base of (readFlow(f) as Array<FlowNode & { allowInstall?: boolean }>).filter((n) => n.type === 'ui-base')) {
      bases++;
      // Dashboard 2.0 takes a missing allowInstall as true
      assert.equal(base.allowInstall, false, `${f}: ui-base ${base.id} allowInstall`);
    }
  }
  assert.ok(bases >= 2, `the street-demo and control-room flows have a ui-base (found ${bases})`);
});

/** Debug nodes writing to Node-RED's log (console) that a capture's level reports reach, one a second. */
function levelReportsLogged(flow: FlowNode[]): string[] {
  const out: string[] = [];
  for (const c of flow.filter((n) => n.type === 'mic-capture' && Number((n as { levelEveryMs?: unknown }).levelEveryMs ?? 1000) > 0)) {
    for (const h of reach(flow, c, 1, { topic: 'level' })) {
      if (h.node.type === 'debug' && (h.node as { console?: unknown }).console === true) out.push(`${c.id}: level reports reach the log through debug ${h.node.id}`);
    }
  }
  return out;
}

test("the integrators' flows log a capture's health events, not its level reports (a log line a second fills a gateway's SD card)", () => {
  for (const f of flowFiles.filter((x) => x !== 'street-demo.json')) assert.deepEqual(levelReportsLogged(readFlow(f)), [], f);
  const gateway = readFlow('gateway.json');
  const capture = gateway.find((n) => n.type === 'mic-capture')!;
  assert.ok(reach(gateway, capture, 1, { topic: 'health' }).some((h) => h.node.type === 'debug' && (h.node as { console?: unknown }).console === true), 'health events reach the log');
  // The check itself: a console debug wired straight to the capture's second output.
  const cap = { id: 'cap', type: 'mic-capture', levelEveryMs: 1000, wires: [[], ['log']] };
  assert.deepEqual(levelReportsLogged([cap, { id: 'log', type: 'debug', console: true }]), ['cap: level reports reach the log through debug log']);
  assert.deepEqual(levelReportsLogged([{ ...cap, levelEveryMs: 0 }, { id: 'log', type: 'debug', console: true }]), []);
});
