import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { listAuditFiles, verifyAuditFiles } from '../../lib/alerts/audit';
import { auditBus } from '../../lib/alerts/bus';
import { waitFor } from '../support/wait';
import { makeWidgetUserDir } from '../support/nodered';
import { logOf, warningsOf } from '../support/node-red-log';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const helper = require('node-red-node-test-helper');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const alertDashboardModule = require('../../nodes/alert-dashboard');
let nodeApi: Any;
// Keeps the RED API the node was given, to stand in for an authentication plugin.
const alertDashboard = (RED: Any) => {
  nodeApi = RED;
  return alertDashboardModule(RED);
};
const dash = (f: string) => require(`@flowfuse/node-red-dashboard/nodes/config/${f}`);

helper.init(require.resolve('node-red'));

type Any = any; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A minute ago, epoch s: alerts are stamped near the time they arrive, as a gateway with a set clock does. */
const NOW_S = Math.floor(Date.now() / 1000) - 60;

function alert(id: string, onset: number, extra: Record<string, unknown> = {}) {
  return {
    kind: 'detection',
    id,
    sensor: 'north-1',
    label: 'glass_break',
    confidence: 0.93,
    onset,
    offset: onset + 0.3,
    level: { dbfs: -9.5 },
    scores: { glass_break: 0.93, speech: 0.3 },
    span: { sensor: 'north-1', start: 48000, frames: 4800 },
    sensorInfo: { lat: 45.4397, lon: 4.3872, clock: 'ntp' },
    ...extra,
  };
}

function flow(extra: Record<string, unknown> = {}) {
  return [
    { id: 'tab-1', type: 'tab', label: 'console' },
    { id: 'ui-base-1', type: 'ui-base', name: 'Vigie', path: '/dashboard', includeClientData: true, acceptsClientConfig: ['ui-notification', 'ui-control'], headerContent: 'page', navigationStyle: 'default' },
    { id: 'ui-theme-1', type: 'ui-theme', name: 'theme', colors: { surface: '#ffffff', primary: '#0094CE', bgPage: '#eeeeee', groupBg: '#ffffff', groupOutline: '#cccccc' }, sizes: { pagePadding: '12px', groupGap: '12px', groupBorderRadius: '4px', widgetGap: '12px' } },
    { id: 'ui-page-1', type: 'ui-page', name: 'Alerts', ui: 'ui-base-1', path: '/alerts', icon: 'bell', layout: 'grid', theme: 'ui-theme-1', order: 1, visible: 'true', disabled: 'false' },
    { id: 'ui-group-1', type: 'ui-group', name: 'Console', page: 'ui-page-1', width: '12', height: '1', order: 1, showTitle: true, visible: 'true', disabled: 'false' },
    { id: 'dash', type: 'alert-dashboard', z: 'tab-1', group: 'ui-group-1', name: 'console', width: 12, height: 8, chime: true, auditDir: 'audit-test', persist: true, wires: [['out']], ...extra },
    { id: 'out', type: 'helper', z: 'tab-1' },
    { id: 'catch-1', type: 'catch', z: 'tab-1', scope: null, wires: [['caught']] },
    { id: 'caught', type: 'helper', z: 'tab-1' },
  ];
}

const nodes = () => [dash('ui_base'), dash('ui_page'), dash('ui_group'), dash('ui_theme'), alertDashboard, require('@node-red/nodes/core/common/25-catch.js')];

let userDir: string;

function socketAction(node: Any, action: Record<string, unknown>, socket: Any = { id: 'sock-1', emit() {} }): Promise<{ ok: boolean; error?: string; conflict?: Any }> {
  const base = node.__base ?? helper.getNode('ui-base-1');
  const widget = base.ui.widgets.get(node.id);
  const handler = widget.hooks.onSocket[`vigie-action:${node.id}`];
  return new Promise((resolve) => handler(socket, action, resolve));
}

/** Every status a node shows from now on, and the last one (an empty object before any). */
function recordStatuses(node: Any): { statuses: Any[]; last: () => Any } {
  const statuses: Any[] = [];
  node.on('call:status', (c: Any) => statuses.push(c.args[0]));
  return { statuses, last: () => statuses[statuses.length - 1] ?? {} };
}

function storedState(id: string): Any {
  const base = helper.getNode('ui-base-1');
  return base.stores.data.get(id)?.payload;
}

/** Every entry of the audit files in `dir`, oldest first. */
function auditEntriesIn(dir: string) {
  return listAuditFiles(dir).flatMap((f) => fs.readFileSync(f, 'utf8').trim().split('\n')).map((l) => JSON.parse(l));
}

describe('alert-dashboard node', () => {
  beforeEach(() => {
    userDir = makeWidgetUserDir('vigie-dash-node-');
    helper.settings({ userDir });
  });

  afterEach(async () => {
    await helper.unload();
    await helper.stopServer();
    fs.rmSync(userDir, { recursive: true, force: true });
  });

  it('an alert whose snapshot the audit log kept before (Node-RED started again) is not pictured again: the picture at the alert stays the kept one', async () => {
    // Kept last night, before Node-RED was started again.
    const { AuditLog } = await import('../../lib/alerts/audit');
    const kept = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(64, 7), Buffer.from([0xff, 0xd9])]);
    const before = new AuditLog({ dir: path.join(userDir, 'audit-test') });
    const entry = before.saveSnapshot('AL-kept', kept, 'auto:dash');
    await helper.startServer();
    await helper.load(nodes(), flow());
    const node = helper.getNode('dash');
    // Both links name a video-forward node this Node-RED does not run: taking a picture fails (3 tries, then a warning).
    const video = (id: string) => ({ live: `/vigie/video/cam-a/live?alert=${id}`, snapshot: `/vigie/video/cam-a/snapshot.jpg?alert=${id}`, until: NOW_S + 3600 });
    node.receive({ payload: alert('AL-kept', NOW_S, { video: video('AL-kept') }) });
    node.receive({ payload: alert('AL-new', NOW_S + 1, { video: video('AL-new') }) });
    // The new alert's tries end in a warning; the kept one's would have ended with it.
    await waitFor(() => warningsOf(helper, 'dash').some((w) => w.includes('snapshot of alert AL-new not kept')) || undefined, 20_000, 'the new alert tried and given up');
    assert.deepEqual(warningsOf(helper, 'dash').filter((w) => w.includes('snapshot of alert AL-kept')), []);
    assert.deepEqual(fs.readFileSync(path.join(userDir, 'audit-test', String(entry.details.file))), kept);
  });

  it('a snapshot taken while the audit log waits for its disk is kept once the log writes again, after the events that waited, under its own name', async () => {
    const { offerSnapshots } = await import('../../lib/video/manager');
    const jpeg = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(64, 3), Buffer.from([0xff, 0xd9])]);
    // What video-forward keeps for this alert: the picture taken when it came (one class stands in for it).
    const link = '/vigie/video/cam-a/snapshot.jpg?alert=AL-disk';
    let asked = 0;
    const withdraw = offerSnapshots({ snapshotOfLink: async (l: string) => (l === link ? (asked++, { jpeg }) : undefined) } as Any);
    try {
      await helper.startServer();
      await helper.load(nodes(), flow());
      const node = helper.getNode('dash');
      const auditDir = path.join(userDir, 'audit-test');
      await waitFor(() => listAuditFiles(auditDir).length > 0 || undefined, 10_000, 'the log opened');
      // The disk goes (an unmounted card): what is audited now waits in memory.
      fs.renameSync(auditDir, `${auditDir}-away`);
      node.receive({ payload: alert('AL-disk', NOW_S, { video: { live: '/vigie/video/cam-a/live?alert=AL-disk', snapshot: link, until: NOW_S + 3600 } }) });
      await waitFor(() => asked >= 2 || undefined, 20_000, 'the snapshot tried again while the log waits');
      assert.equal(fs.existsSync(auditDir), false, 'nothing written where the disk was');
      fs.renameSync(`${auditDir}-away`, auditDir);
      const entries = () => listAuditFiles(auditDir).flatMap((f) => fs.readFileSync(f, 'utf8').trim().split('\n').map((l) => JSON.parse(l)));
      await waitFor(() => entries().some((e) => e.type === 'snapshot') || undefined, 30_000, 'the snapshot kept');
      const all = entries();
      const snap = all.findIndex((e) => e.type === 'snapshot');
      const alertEntry = all.findIndex((e) => e.alertId === 'AL-disk' && e.type !== 'snapshot');
      assert.ok(alertEntry >= 0 && alertEntry < snap, 'the alert\'s own entry, which waited, comes first');
      assert.match(all[snap].details.file, /\/AL-disk\.jpg$/);
      assert.deepEqual(fs.readFileSync(path.join(auditDir, all[snap].details.file)), jpeg);
      assert.equal(verifyAuditFiles(listAuditFiles(auditDir)).ok, true);
      assert.deepEqual(warningsOf(helper, 'dash').filter((w) => w.includes('snapshot of alert AL-disk')), []);
    } finally {
      withdraw();
    }
  });

  it('registers with Dashboard 2.0 as a third-party widget of this package', async () => {
    await helper.startServer();
    await helper.load(nodes(), flow());
    const base = helper.getNode('ui-base-1');
    const widget = base.ui.widgets.get('dash');
    assert.ok(widget, 'widget registered with ui-base');
    assert.equal(widget.type, 'alert-dashboard');
    assert.equal(widget.props.group, 'ui-group-1');
    assert.equal(widget.props.chime, true);
    assert.equal(widget.props.height, 0, 'the console sizes itself (auto height), whatever the flow says');
    assert.equal(widget.props.width, 12);
    assert.equal('auditDir' in widget.props, false, 'server paths are not sent to browsers');
    assert.deepEqual(
      { package: widget.src?.package, src: widget.src?.src, component: widget.src?.component, name: widget.src?.name },
      { package: 'node-red-dashboard-2-vigie', src: 'alert-dashboard.umd.js', component: 'AlertDashboard', name: 'alert-dashboard' },
    );
    assert.equal(typeof widget.hooks.onSocket['vigie-action:dash'], 'function');
    // generic dashboard events from a browser neither ingest alerts nor send anything
    const out = helper.getNode('out');
    const sent: Any[] = [];
    out.on('input', (m: Any) => sent.push(m));
    await widget.hooks.onChange({ payload: alert('forged', 1) });
    await widget.hooks.onSend({ payload: alert('forged', 1) });
    // A negative check, so a fixed wait: a message these hooks sent would reach 'out' through
    // Node-RED's asynchronous delivery (setImmediate), well before this timer fires.
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(sent.length, 0);
    assert.equal(base.stores.data.get('dash')?.payload?.alerts?.length ?? 0, 0);
  });

  it('keeps alerts by id in queue order and broadcasts the sanitised state; names each field it drops once', async () => {
    await helper.startServer();
    await helper.load(nodes(), flow());
    const n = helper.getNode('dash');
    n.receive({ payload: alert('a1', 1000) });
    n.receive({ payload: alert('a2', 2000) });
    n.receive({ payload: alert('a1', 1000, { camera: { id: 'cam-1', name: 'Place', pan: 0, tilt: 0, zoom: 0, target: { bearing: 10, tilt: -3 }, state: 'on-target' }, pcm: [0.1, 0.2] }) });
    const st = await waitFor(() => {
      const s = storedState('dash');
      return s?.alerts?.length === 2 && s.alerts.some((r: Any) => r.alert.camera) ? s : undefined;
    }, 10_000, 'state with two alerts');
    assert.deepEqual(st.alerts.map((r: Any) => r.alert.id), ['a2', 'a1']);
    assert.equal(st.alerts[1].alert.camera.state, 'on-target');
    assert.equal('pcm' in st.alerts[1].alert, false);
    assert.deepEqual(st.alerts[0].alert.scores, { glass_break: 0.93 }, 'voice scores never reach the browser');
    assert.deepEqual(st.counts, { new: 2, seen: 0, confirmed: 0, dismissed: 0, escalated: 0 });
    assert.ok(st.site.sensors.some((s: Any) => s.id === 'north-1' && s.lat === 45.4397));
    assert.ok(!/samples|pcm/.test(JSON.stringify(st)));
    // What it drops is named, by field and never by value, each field once: the voice score
    // that every alert here carries, then the stray field of the third.
    const warnings = warningsOf(helper, 'dash');
    const dropped = warnings.filter((w) => / dropped /.test(w));
    assert.equal(dropped.length, 2, warnings.join(' | '));
    assert.match(dropped[0], /^alert a1: dropped payload\.scores\.speech \(a voice class: privacy guarantee 3\);/);
    assert.match(dropped[1], /^alert a1: dropped payload\.pcm \(not in the alert contract\);/);
    assert.doesNotMatch(dropped.join(' '), /0\.1|0\.3/, 'never a value');
  });

  it('an alert as JSON text (a string or a Buffer, as an mqtt in node not set to parse JSON gives it) is kept as the object; text that is not JSON is refused naming payload', async () => {
    await helper.startServer();
    await helper.load(nodes(), flow());
    const n = helper.getNode('dash');
    const caught: Any[] = [];
    helper.getNode('caught').on('input', (m: Any) => caught.push(m));
    n.receive({ payload: JSON.stringify(alert('t1', 1000)) });
    n.receive({ payload: Buffer.from(JSON.stringify(alert('t2', 2000))) });
    const st = await waitFor(() => {
      const s = storedState('dash');
      return s?.alerts?.length === 2 ? s : undefined;
    }, 10_000, 'two alerts from text');
    assert.deepEqual(st.alerts.map((r: Any) => r.alert.id).sort(), ['t1', 't2']);
    n.receive({ payload: 'glass broke' });
    await waitFor(() => caught.length >= 1 || undefined, 10_000, 'the text refused');
    assert.match(String(caught[0].error.message).replace(/^ContractError: /, ''), /^payload: expected an alert object or its JSON text, got "glass broke"$/);
  });

  it('a setting it cannot use is named in a warning with the default that applies, and the console runs', async () => {
    await helper.startServer();
    await helper.load(nodes(), flow({ maxAlerts: 'many', auditRetentionDays: -5, siteLat: '95', siteLon: '4.38' }));
    const n = helper.getNode('dash');
    n.receive({ payload: alert('after-bad-settings', 5) });
    await waitFor(() => storedState('dash')?.alerts?.length === 1 || undefined, 10_000, 'the alert kept');
    const warnings = warningsOf(helper, 'dash');
    for (const re of [/^setting maxAlerts: expected an integer from 10 to 100000, got "many"; using 500$/, /^setting auditRetentionDays: expected a number from 0 to 36500, got -5; using 90$/, /^setting siteLat: expected a number from -90 to 90, got "95"; using none$/]) {
      assert.ok(warnings.some((w) => re.test(w)), `${re} in: ${warnings.join(' | ')}`);
    }
  });

  it('refuses unusable input with done(err) naming the field, and keeps running', async () => {
    await helper.startServer();
    await helper.load(nodes(), flow());
    const n = helper.getNode('dash');
    const caught = helper.getNode('caught');
    const got = new Promise<Any>((resolve) => caught.on('input', resolve));
    n.receive({ payload: { kind: 'detection', id: 'x', sensor: 's', label: 'crash', confidence: 'high' } });
    const m = await got;
    assert.match(m.error.message, /payload\.confidence: expected a finite number/);
    n.receive({ payload: alert('ok-after', 5) });
    await waitFor(() => storedState('dash')?.alerts?.length === 1 || undefined, 10_000, 'the next alert');
  });

  it('turns operator actions into decisions and move requests (DESIGN §2), audited', async () => {
    await helper.startServer();
    await helper.load(nodes(), flow());
    const n = helper.getNode('dash');
    const out = helper.getNode('out');
    const received: Any[] = [];
    out.on('input', (m: Any) => received.push(m));
    n.receive({ payload: alert('a1', 1000, { camera: { id: 'cam-1', name: 'Place', pan: 0, tilt: 0, zoom: 0, target: { bearing: 10, tilt: -3 }, state: 'proposed' } }) });
    await waitFor(() => storedState('dash')?.alerts?.length === 1 || undefined, 10_000, 'alert stored');

    const noName = await socketAction(n, { type: 'decide', alertId: 'a1', action: 'dismiss' });
    assert.equal(noName.ok, false);
    assert.match(noName.error!, /operator/);

    assert.deepEqual(await socketAction(n, { type: 'seen', alertId: 'a1', operator: 'Alice' }), { ok: true, operator: 'Alice' });
    assert.deepEqual(await socketAction(n, { type: 'move', alertId: 'a1', operator: 'Alice' }), { ok: true, operator: 'Alice' });
    const t0 = Date.now() / 1000;
    assert.deepEqual(await socketAction(n, { type: 'decide', alertId: 'a1', action: 'dismiss', operator: 'Alice', note: 'bottle bank' }), { ok: true, operator: 'Alice' });
    const bad = await socketAction(n, { type: 'decide', alertId: 'a1', action: 'ignore', operator: 'Alice' });
    assert.equal(bad.ok, false);
    assert.match(bad.error!, /payload\.action: expected one of "confirm", "dismiss", "escalate"/);

    await waitFor(() => (received.length >= 2 ? true : undefined), 10_000, 'two output messages');
    assert.equal(received.length, 2);
    const [move, decision] = received;
    assert.equal(move.topic, 'move-request');
    // With the alert (no video): ptz-steer serves it even if it no longer knows the proposal.
    assert.deepEqual(Object.keys(move.payload).sort(), ['alert', 'alertId', 'kind', 'operator', 'time']);
    assert.equal(move.payload.alert.id, 'a1');
    assert.equal(move.payload.kind, 'move-request');
    assert.equal(move.payload.operator, 'Alice');
    assert.equal(decision.topic, 'decision');
    assert.deepEqual({ ...decision.payload, time: 0 }, { kind: 'decision', alertId: 'a1', action: 'dismiss', operator: 'Alice', time: 0, note: 'bottle bank', revision: 0 });
    assert.ok(Math.abs(decision.payload.time - t0) < 60, 'time in epoch seconds');

    const st = storedState('dash');
    assert.equal(st.alerts[0].state, 'dismissed');
    assert.deepEqual(st.alerts[0].seenBy, ['Alice']);

    // a camera move published by another node is audited too
    auditBus.publish({ type: 'camera-move', actor: 'auto:ptz', alertId: 'a1', details: { camera: 'cam-1', pan: 0.2 } });
    const files = listAuditFiles(path.join(userDir, 'audit-test'));
    const entries = files.flatMap((f) => fs.readFileSync(f, 'utf8').trim().split('\n')).map((l) => JSON.parse(l));
    const mine = entries.filter((e) => e.alertId === 'a1');
    assert.deepEqual(mine.map((e) => e.type), ['alert', 'camera-move', 'decision', 'camera-move']);
    assert.equal(mine[2].actor, 'Alice');
    assert.equal(mine[2].details.action, 'dismiss');
    assert.equal(verifyAuditFiles(files).ok, true);
  });

  it('a move request that a ptz-steer of this Node-RED refuses ends at once on every console, with its reason', async () => {
    await helper.startServer();
    // ptz-steer with no camera: it refuses to aim at the alert (its answer on the alert is not wired back here)
    const steer = { id: 'steer', z: 'tab-1', type: 'ptz-steer', mode: 'automatic', wires: [[], []] };
    await helper.load([...nodes(), require('../../nodes/ptz-steer')], [...flow({ moveAnswerSeconds: 600, wires: [['out', 'steer']] }), steer]);
    const n = helper.getNode('dash');
    const camera = { id: 'cam-1', name: 'Place', pan: 0, tilt: 0, zoom: 0, target: { bearing: 10, tilt: -3 }, state: 'released', reason: 'camera Place looked here, then went home' };
    n.receive({ payload: alert('m1', NOW_S, { camera, location: { method: 'doa', bearing: 10, sensors: ['north-1'] } }) });
    await waitFor(() => storedState('dash')?.alerts?.length === 1 || undefined, 10_000, 'alert stored');
    assert.deepEqual(await socketAction(n, { type: 'move', alertId: 'm1', operator: 'Alice' }), { ok: true, operator: 'Alice' });
    const ended = await waitFor(() => storedState('dash')?.alerts?.[0]?.moveNotMade, 10_000, 'the refusal on the console');
    assert.deepEqual({ ...ended, time: 0 }, { operator: 'Alice', time: 0, why: 'refused', reason: 'no camera can see this place' });
    assert.equal(storedState('dash').alerts[0].moveRequest, undefined, 'no longer "Move requested"');
  });

  it('a move request that nothing answers within Camera answer ends "no-answer" on every console, audited', async () => {
    await helper.startServer();
    // the output goes nowhere that answers: a ptz-steer of another flow, not wired, or down
    await helper.load(nodes(), flow({ moveAnswerSeconds: 1 }));
    const n = helper.getNode('dash');
    const camera = { id: 'cam-1', name: 'Place', pan: 0, tilt: 0, zoom: 0, target: { bearing: 10, tilt: -3 }, state: 'waiting', reason: 'camera Place is busy with a gunshot alert' };
    n.receive({ payload: alert('m2', NOW_S, { camera }) });
    await waitFor(() => storedState('dash')?.alerts?.length === 1 || undefined, 10_000, 'alert stored');
    assert.deepEqual(await socketAction(n, { type: 'move', alertId: 'm2', operator: 'Alice' }), { ok: true, operator: 'Alice' });
    assert.equal(storedState('dash').alerts[0].moveRequest?.operator, 'Alice');
    const ended = await waitFor(() => storedState('dash')?.alerts?.[0]?.moveNotMade, 10_000, 'no answer on the console');
    assert.deepEqual({ ...ended, time: 0 }, { operator: 'Alice', time: 0, why: 'no-answer' });
    assert.equal(storedState('dash').alerts[0].moveRequest, undefined);
    const moves = () =>
      listAuditFiles(path.join(userDir, 'audit-test'))
        .flatMap((f) => fs.readFileSync(f, 'utf8').trim().split('\n'))
        .map((l) => JSON.parse(l))
        .filter((e) => e.alertId === 'm2' && e.type === 'camera-move')
        .map((e) => e.details.event);
    await waitFor(() => moves().length === 2 || undefined, 10_000, 'both audited');
    assert.deepEqual(moves(), ['requested-by-operator', 'request-unanswered']);
  });

  it('a decision made on a stale view is answered with what happened meanwhile, and sends nothing; sent again on the fresh revision it goes out', async () => {
    await helper.startServer();
    await helper.load(nodes(), flow());
    const n = helper.getNode('dash');
    const out = helper.getNode('out');
    const received: Any[] = [];
    out.on('input', (m: Any) => received.push(m));
    n.receive({ payload: alert('g1', 1000) });
    await waitFor(() => storedState('dash')?.alerts?.length === 1 || undefined, 10_000, 'alert stored');
    assert.deepEqual(await socketAction(n, { type: 'decide', alertId: 'g1', action: 'escalate', operator: 'Alice', revision: 0 }), { ok: true, operator: 'Alice' });
    const stale = await socketAction(n, { type: 'decide', alertId: 'g1', action: 'dismiss', operator: 'Bob', revision: 0, note: 'nothing' });
    assert.equal(stale.ok, false);
    assert.match(stale.error!, /^alert g1 was decided meanwhile \(Alice escalated it at /);
    const aliceTime = storedState('dash').alerts[0].decisions[0].time;
    assert.deepEqual(stale.conflict, { alertId: 'g1', revision: 1, state: 'escalated', latest: { action: 'escalate', operator: 'Alice', time: aliceTime } });
    assert.equal(storedState('dash').alerts[0].state, 'escalated', 'the escalation stands');
    assert.deepEqual(warningsOf(helper, 'dash').filter((w) => /refused|meanwhile/.test(w)), [], 'two operators on one alert is no fault of the flow');
    assert.deepEqual(await socketAction(n, { type: 'decide', alertId: 'g1', action: 'dismiss', operator: 'Bob', revision: stale.conflict.revision }), { ok: true, operator: 'Bob' });
    await waitFor(() => (received.length >= 2 ? true : undefined), 10_000, 'two decisions');
    assert.deepEqual(received.map((m) => `${m.payload.operator}:${m.payload.action}:${m.payload.revision}`), ['Alice:escalate:0', 'Bob:dismiss:1'], 'the refused dismiss never went out (ptz-steer kept the camera)');
    assert.equal(storedState('dash').alerts[0].state, 'dismissed');
  });

  it('uses the authenticated dashboard user when a plugin provides one', async () => {
    await helper.startServer();
    await helper.load(nodes(), flow());
    const plugins = nodeApi.plugins;
    const realGet = plugins.getByType;
    plugins.getByType = (t: string) =>
      t === 'node-red-dashboard-2' ? [{ hooks: { onAddConnectionCredentials: (_c: Any, item: Any) => ({ ...item, _client: { ...item._client, user: { username: 'j.dupont' } } }) } }] : realGet.call(plugins, t);
    try {
      const n = helper.getNode('dash');
      const out = helper.getNode('out');
      const got = new Promise<Any>((resolve) => out.on('input', resolve));
      n.receive({ payload: alert('u1', 10) });
      await waitFor(() => storedState('dash')?.alerts?.length === 1 || undefined, 10_000, 'alert stored');
      assert.deepEqual(await socketAction(n, { type: 'decide', alertId: 'u1', action: 'escalate', operator: 'typed-name' }), { ok: true, operator: 'j.dupont' });
      assert.equal((await got).payload.operator, 'j.dupont');
    } finally {
      plugins.getByType = realGet;
    }
  });

  it('restores the queue and decisions after a restart', async () => {
    await helper.startServer();
    await helper.load(nodes(), flow({ id: 'dash' }));
    let n = helper.getNode('dash');
    n.receive({ payload: alert('p1', 100) });
    n.receive({ payload: alert('p2', 200) });
    await waitFor(() => storedState('dash')?.alerts?.length === 2 || undefined, 10_000, 'two alerts');
    assert.deepEqual(await socketAction(n, { type: 'decide', alertId: 'p1', action: 'confirm', operator: 'Bob' }), { ok: true, operator: 'Bob' });
    await helper.unload();
    await helper.stopServer();

    await helper.startServer();
    await helper.load(nodes(), flow({ id: 'dash' }));
    n = helper.getNode('dash');
    const st = await waitFor(() => storedState('dash'), 10_000, 'restored state');
    assert.deepEqual(st.alerts.map((r: Any) => [r.alert.id, r.state]), [['p2', 'new'], ['p1', 'confirmed']]);
    assert.equal(st.alerts[1].decisions[0].operator, 'Bob');
  });

  it('restarted by a deploy, it keeps the cameras\' states as saved (ptz-steer kept its waits); after a restart they are forgotten', async () => {
    const waiting = { camera: { id: 'c1', name: 'Cam 1', pan: 1, tilt: 2, zoom: 1, target: { bearing: 45, tilt: -5 }, state: 'waiting', reason: 'camera Cam 1 is busy with gunshot alert w0', heldFor: 'w0' } };
    await helper.startServer();
    await helper.load(nodes(), flow({ id: 'dash' }));
    helper.getNode('dash').receive({ payload: alert('w1', 100, waiting) });
    await waitFor(() => storedState('dash')?.alerts?.length === 1 || undefined, 10_000, 'the alert');
    const camOf = () => storedState('dash')?.alerts?.[0]?.alert?.camera;
    // A full deploy restarts every node, the console among them; Node-RED goes on.
    await helper.setFlows(flow({ id: 'dash', name: 'console, renamed' }), 'full');
    await waitFor(() => helper.getNode('dash')?.name === 'console, renamed' || undefined, 10_000, 'the redeployed console');
    const cam = await waitFor(() => (camOf()?.state ? camOf() : undefined), 10_000, 'restored state');
    assert.deepEqual(cam, waiting.camera, 'still waiting, as ptz-steer has it');

    await helper.unload();
    await helper.stopServer();
    await helper.startServer();
    await helper.load(nodes(), flow({ id: 'dash' }));
    const after = await waitFor(() => (camOf()?.state === 'unavailable' ? camOf() : undefined), 10_000, 'the wait ended by the restart');
    assert.equal(after.reason, 'Node-RED restarted: its wait for a busy camera ended');
  });

  it('its start and stop are audit entries (the version; after a start or a deploy; stopped by a deploy, removed, or the flows stopping), one each, and the chain verifies', async () => {
    const dir = path.join(userDir, 'audit-test');
    const entries = () => auditEntriesIn(dir);
    const startsAndStops = () => entries().filter((e) => e.type === 'system' && /^console-(start|stop)$/.test(e.details.event)).map((e) => [e.details.event, e.details.node, e.details.after ?? e.details.cause]);
    const version = JSON.parse(fs.readFileSync(path.resolve(__dirname, '..', '..', 'package.json'), 'utf8')).version;
    await helper.startServer();
    await helper.load(nodes(), flow());
    assert.deepEqual(startsAndStops(), [['console-start', 'dash', 'start']]);
    assert.equal(entries().find((e) => e.details.event === 'console-start').details.version, version);
    // The first file's header, in Node-RED's log (which usually goes elsewhere): a value to check the log against later.
    const header = entries()[0];
    assert.ok(
      logOf(helper, 'dash', 'INFO').includes(`audit log: ${header.details.file} opened at seq 1, hash ${header.hash}; to check later that the log up to here is unchanged: vigie audit verify --expect-hash 1:${header.hash}`),
      logOf(helper, 'dash', 'INFO').join(' | '),
    );
    // A full deploy restarts it: a stop, then a start, each told as a deploy's.
    await helper.setFlows(flow({ name: 'console, renamed' }), 'full');
    await waitFor(() => helper.getNode('dash')?.name === 'console, renamed' || undefined, 10_000, 'the redeployed console');
    await waitFor(() => startsAndStops().length === 3 || undefined, 10_000, 'the restart in the log');
    // Deleted by a deploy: removed.
    await helper.setFlows(flow().filter((n: Any) => n.id !== 'dash'), 'nodes');
    await waitFor(() => startsAndStops().length === 4 || undefined, 10_000, 'the removal in the log');
    await helper.setFlows(flow(), 'nodes');
    await waitFor(() => startsAndStops().length === 5 || undefined, 10_000, 'the new console in the log');
    // The flows stop (Node-RED stopping).
    await helper.unload();
    assert.deepEqual(startsAndStops(), [
      ['console-start', 'dash', 'start'],
      ['console-stop', 'dash', 'deploy'],
      ['console-start', 'dash', 'deploy'],
      ['console-stop', 'dash', 'removed'],
      ['console-start', 'dash', 'start'],
      ['console-stop', 'dash', 'flows-stopped'],
    ]);
    const r = verifyAuditFiles(listAuditFiles(dir));
    assert.equal(r.ok, true, JSON.stringify(r.break));
  });

  it('the running audit file deleted by hand: the next entry goes to a new file whose header records it, with a warning in Node-RED\'s log, and the log verifies', async () => {
    const dir = path.join(userDir, 'audit-test');
    await helper.startServer();
    await helper.load(nodes(), flow());
    const n = helper.getNode('dash');
    n.receive({ payload: alert('v1', NOW_S) });
    await waitFor(() => listAuditFiles(dir).length === 1 || undefined, 10_000, 'the audit file');
    const [running] = listAuditFiles(dir);
    fs.rmSync(running);
    n.receive({ payload: alert('v2', NOW_S + 1) });
    await waitFor(() => listAuditFiles(dir).length === 1 && listAuditFiles(dir)[0] !== running || undefined, 10_000, 'a new audit file');
    const [next] = listAuditFiles(dir);
    const header = JSON.parse(fs.readFileSync(next, 'utf8').split('\n')[0]);
    assert.equal(header.details.previousFile, path.basename(running));
    assert.equal(header.details.vanished.cause, 'deleted');
    const warned = warningsOf(helper, 'dash').filter((w) => w.includes(path.basename(running)));
    assert.equal(warned.length, 1, warningsOf(helper, 'dash').join(' | '));
    assert.match(warned[0], new RegExp(`^audit log: ${path.basename(running)} was deleted while the log was being written \\(entries seq 1…\\d+\\); the log goes on in ${path.basename(next)}`));
    const r = verifyAuditFiles(listAuditFiles(dir));
    assert.equal(r.ok, true, JSON.stringify(r.break));
    assert.equal(r.vanished.length, 1);
  });

  /** Node-RED run with one alert and stopped, then the audit file it wrote deleted: that file, and the last seq its head record kept. */
  async function auditFileDeletedWhileStopped(dir: string): Promise<{ lost: string; lastSeq: number }> {
    await helper.startServer();
    await helper.load(nodes(), flow());
    helper.getNode('dash').receive({ payload: alert('s1', NOW_S) });
    await waitFor(() => listAuditFiles(dir).length === 1 || undefined, 10_000, 'the audit file');
    await helper.unload();
    await helper.stopServer();
    const [lost] = listAuditFiles(dir);
    const lastSeq = Number(JSON.parse(fs.readFileSync(`${dir}.head.json`, 'utf8')).seq);
    fs.rmSync(lost);
    return { lost, lastSeq };
  }

  it('the audit file deleted while Node-RED was stopped: at the next start a new file records the entries lost (kept by the head record beside the audit directory), with a warning in Node-RED\'s log, and the log verifies with that warning', async () => {
    const dir = path.join(userDir, 'audit-test');
    const { lost, lastSeq } = await auditFileDeletedWhileStopped(dir);

    await helper.startServer();
    await helper.load(nodes(), flow());
    const warning = await waitFor(() => warningsOf(helper, 'dash').find((w) => w.includes(path.basename(lost))), 10_000, 'the warning');
    assert.match(warning, new RegExp(`^audit log: ${path.basename(lost)} was deleted while Vigie was stopped \\(entries seq 1…${lastSeq}\\); the log goes on in `));
    const [next] = listAuditFiles(dir);
    const header = JSON.parse(fs.readFileSync(next, 'utf8').split('\n')[0]);
    assert.deepEqual([header.seq, header.details.vanished.cause], [lastSeq + 1, 'deleted-while-stopped']);
    const r = verifyAuditFiles(listAuditFiles(dir));
    assert.equal(r.ok, true, JSON.stringify(r.break));
    assert.deepEqual(r.vanished.map((v) => [v.firstSeq, v.lastSeq, v.missing]), [[1, lastSeq, true]]);
  });

  it('the audit file deleted while Node-RED was stopped, and the disk full at the next start: Node-RED\'s log says the loss at once, and the new file records it once there is room', async () => {
    const dir = path.join(userDir, 'audit-test');
    const { lost, lastSeq } = await auditFileDeletedWhileStopped(dir);
    const realAppend = fs.appendFileSync;
    let full = true;
    const append = mock.method(require('node:fs') as typeof fs, 'appendFileSync', (f: fs.PathOrFileDescriptor, data: string | Uint8Array, opts?: fs.WriteFileOptions) => {
      if (full) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });
      return realAppend(f, data, opts);
    });
    try {
      await helper.startServer();
      await helper.load(nodes(), flow());
      const told = warningsOf(helper, 'dash').filter((w) => w.includes(path.basename(lost)));
      assert.deepEqual(told, [
        `audit log: ${path.basename(lost)} was deleted while Vigie was stopped (entries seq 1…${lastSeq}); the next audit file records it in its header as soon as the audit directory can be written. Never delete or edit audit files by hand: retention removes old ones`,
      ]);
      assert.deepEqual(listAuditFiles(dir), []);
      full = false;
    } finally {
      append.mock.restore();
    }
    await waitFor(() => listAuditFiles(dir).length === 1 || undefined, 60_000, 'the new file once there is room');
    const header = JSON.parse(fs.readFileSync(listAuditFiles(dir)[0], 'utf8').split('\n')[0]);
    assert.deepEqual([header.seq, header.details.vanished.cause], [lastSeq + 1, 'deleted-while-stopped']);
    assert.equal(verifyAuditFiles(listAuditFiles(dir)).ok, true);
  });

  it('saves a new alert and a decision at once, the updates of a saved alert together within a second, and not a re-sent alert that changes nothing', async () => {
    // The module object itself (an ES import is a copy of its properties): the store renames through it.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const nodeFs = require('node:fs');
    const file = path.join(userDir, 'vigie-alerts-dash.json');
    const renames = mock.method(nodeFs, 'renameSync');
    const saves = () => renames.mock.calls.filter((c: Any) => c.arguments[1] === file).length;
    const savedCamera = () => JSON.parse(fs.readFileSync(file, 'utf8')).alerts.find((r: Any) => r.alert.id === 'u1')?.alert.camera?.state;
    try {
      await helper.startServer();
      await helper.load(nodes(), flow({ id: 'dash' }));
      const n = helper.getNode('dash');
      const cam = (state: string) => ({ camera: { id: 'cam-1', name: 'Place', pan: 0, tilt: 0, zoom: 0, target: { bearing: 10, tilt: -3 }, state } });
      n.receive({ payload: alert('u1', 100) });
      await waitFor(() => storedState('dash')?.alerts?.length === 1 || undefined, 10_000, 'the alert');
      assert.equal(saves(), 1, 'a new alert is saved at once');
      // Its camera proposed, moving, on target: three updates, one save.
      for (const state of ['proposed', 'moving', 'on-target']) n.receive({ payload: alert('u1', 100, cam(state)) });
      await waitFor(() => storedState('dash')?.alerts?.[0]?.alert.camera?.state === 'on-target' || undefined, 10_000, 'the updates shown');
      assert.equal(saves(), 1, 'updates wait for the others of the same second');
      await waitFor(() => saves() === 2 || undefined, 10_000, 'the updates saved');
      assert.equal(savedCamera(), 'on-target');
      // The same alert again, nothing changed: nothing to write.
      n.receive({ payload: alert('u1', 100, cam('on-target')) });
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal(saves(), 2, 'an alert that changes nothing is not saved again');
      // An update, then a decision before its save is due: the decision's save carries both.
      n.receive({ payload: alert('u1', 100, cam('released')) });
      assert.deepEqual(await socketAction(n, { type: 'decide', alertId: 'u1', action: 'confirm', operator: 'Bob' }), { ok: true, operator: 'Bob' });
      assert.equal(saves(), 3, 'a decision is saved at once');
      assert.equal(savedCamera(), 'released');
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal(saves(), 3, 'the pending save was made by the decision\'s');
      // An update, then the node closes before its save is due: saved at close.
      n.receive({ payload: alert('u1', 100, cam('failed')) });
      await helper.unload();
      assert.equal(saves(), 4);
      assert.equal(savedCamera(), 'failed');
    } finally {
      renames.mock.restore();
    }
  });

  it('a Status node gets each status once: copies of an alert that change no count do not send the counts again', async () => {
    await helper.startServer();
    const f = [...flow(), { id: 'watch', type: 'status', z: 'tab-1', scope: ['dash'], wires: [['statuses']] }, { id: 'statuses', type: 'helper', z: 'tab-1' }];
    await helper.load([...nodes(), require('@node-red/nodes/core/common/25-status.js')], f);
    const statuses: Any[] = [];
    helper.getNode('statuses').on('input', (m: Any) => statuses.push(m.status));
    const n = helper.getNode('dash');
    const camera = (state: string) => ({ camera: { id: 'cam-1', name: 'Place', pan: 0, tilt: 0, zoom: 0, target: { bearing: 10, tilt: -3 }, state } });
    n.receive({ payload: alert('s1', NOW_S + 1) });
    n.receive({ payload: alert('s1', NOW_S + 1) });
    n.receive({ payload: alert('s1', NOW_S + 1, camera('moving')) });
    n.receive({ payload: alert('s1', NOW_S + 1, camera('on-target')) });
    n.receive({ payload: alert('s2', NOW_S + 2) });
    // The Status node's messages come in order: with the second alert's counts, those before are in.
    await waitFor(() => statuses.some((st) => st.text === '2 new, 2 open, 2 kept') || undefined, 10_000, 'the counts of two alerts');
    const texts = statuses.map((st) => `${st.fill} ${st.shape} ${st.text}`);
    assert.equal(texts.filter((t) => t === 'green dot 1 new, 1 open, 1 kept').length, 1, texts.join(' | '));
    assert.deepEqual(
      texts.filter((t, i) => i > 0 && t === texts[i - 1]),
      [],
      `the same status twice in a row: ${texts.join(' | ')}`,
    );
  });

  it('over maxAlerts with only unhandled alerts: the oldest is dropped with a warning naming it, an audit entry and a red status until alerts are handled', async () => {
    await helper.startServer();
    await helper.load(nodes(), flow({ maxAlerts: 10 }));
    const n = helper.getNode('dash');
    const { statuses, last } = recordStatuses(n);
    for (let i = 1; i <= 10; i++) n.receive({ payload: alert(`c${i}`, NOW_S + i) });
    await waitFor(() => storedState('dash')?.alerts?.length === 10 || undefined, 10_000, 'ten alerts');
    await waitFor(() => last().text === '10 new, 10 open, 10 kept' || undefined, 10_000, 'a green status with ten alerts');
    n.receive({ payload: alert('c11', NOW_S + 11) });
    await waitFor(() => storedState('dash')?.alerts?.some((r: Any) => r.alert.id === 'c11') || undefined, 10_000, 'the eleventh alert');
    assert.deepEqual(storedState('dash').alerts.map((r: Any) => r.alert.id).includes('c1'), false);
    const warned = warningsOf(helper, 'dash').filter((w) => /maxAlerts/.test(w));
    assert.equal(warned.length, 1, warned.join(' | '));
    assert.ok(warned[0].includes(`dropped unhandled alert c1 (glass_break at ${new Date((NOW_S + 1) * 1000).toISOString()}, never opened)`), warned[0]);
    await waitFor(() => last().fill === 'red' || undefined, 10_000, 'a red status');
    assert.deepEqual(last(), { fill: 'red', shape: 'ring', text: 'full (maxAlerts 10): 1 unhandled dropped' });
    const entries = auditEntriesIn(path.join(userDir, 'audit-test'));
    const dropped = entries.filter((e) => e.details?.event === 'alert-dropped');
    assert.deepEqual(dropped.map((e) => [e.type, e.alertId, e.details.label, e.details.state]), [['system', 'c1', 'glass_break', 'new']]);
    // An operator decides: there is room for a handled alert to go next, the count stays in view.
    assert.deepEqual(await socketAction(n, { type: 'decide', alertId: 'c5', action: 'dismiss', operator: 'Alice' }), { ok: true, operator: 'Alice' });
    await waitFor(() => last().fill === 'green' || undefined, 10_000, 'a green status');
    assert.deepEqual(last(), { fill: 'green', shape: 'dot', text: '9 new, 9 open, 10 kept, 1 unhandled dropped' });
    n.receive({ payload: alert('c12', NOW_S + 12) });
    await waitFor(() => storedState('dash')?.alerts?.some((r: Any) => r.alert.id === 'c12') || undefined, 10_000, 'the twelfth alert');
    assert.equal(storedState('dash').alerts.some((r: Any) => r.alert.id === 'c5'), false, 'the handled alert made room');
    assert.equal(warningsOf(helper, 'dash').filter((w) => /maxAlerts/.test(w)).length, 1, 'no unhandled alert dropped for it');
  });

  it('a burst of alert copies reaches the clients as a few states, the first at once, the last holding them all; an operator\'s action goes out before its answer', async () => {
    await helper.startServer();
    await helper.load(nodes(), flow());
    const base = helper.getNode('ui-base-1');
    const n = helper.getNode('dash');
    const sent: Any[] = [];
    const emit = base.emit.bind(base);
    base.emit = (ev: string, msg: Any, w: Any) => {
      // as socket.io sends it: serialised then (the records are the store's own, changed later)
      if (ev === 'msg-input:dash') sent.push(JSON.parse(JSON.stringify(msg.payload)));
      return emit(ev, msg, w);
    };
    const caught: Any[] = [];
    helper.getNode('caught').on('input', (m: Any) => caught.push(m.error?.message));
    n.receive({ payload: alert('b0', 1000) });
    await waitFor(() => sent.length === 1 || undefined, 10_000, 'the first alert of a quiet moment, sent at once');
    // 15 alerts, each sent again located: 30 copies within a few milliseconds
    for (let i = 1; i <= 15; i++) {
      n.receive({ payload: alert(`b${i}`, 1000 + i) });
      n.receive({ payload: alert(`b${i}`, 1000 + i, { location: { method: 'doa', bearing: i, sensors: ['north-1'] } }) });
    }
    await waitFor(() => sent[sent.length - 1]?.alerts?.filter((r: Any) => r.alert.location).length === 15 || undefined, 10_000, 'every copy in the last state');
    assert.ok(sent.length - 1 <= 3, `30 copies went out as ${sent.length - 1} states`);
    const versions = sent.map((st) => st.version);
    assert.deepEqual(versions, [...versions].sort((a, b) => a - b), 'never an older state after a newer one');
    assert.equal(storedState('dash').version, versions[versions.length - 1], 'a page opening now gets the last state');
    // An operator's decision right after a state went out: the state with it goes out before the
    // answer, not at the end of the pace's interval.
    n.receive({ payload: alert('b16', 1016) });
    await waitFor(() => sent[sent.length - 1]?.alerts?.some((r: Any) => r.alert.id === 'b16') || undefined, 10_000, 'the next alert sent');
    const answered = await socketAction(n, { type: 'decide', alertId: 'b3', action: 'dismiss', operator: 'Alice' });
    assert.equal(answered.ok, true);
    const last = sent[sent.length - 1];
    assert.equal(last.alerts.find((r: Any) => r.alert.id === 'b3')?.state, 'dismissed', 'the state with the decision was sent before its answer');
    assert.deepEqual(caught, [], 'Dashboard took every message without an error');
  });

  it('the unhandled alerts the cap dropped are in every console\'s state until an operator acknowledges them (audited under the operator)', async () => {
    await helper.startServer();
    await helper.load(nodes(), flow({ maxAlerts: 10 }));
    const n = helper.getNode('dash');
    for (let i = 1; i <= 10; i++) n.receive({ payload: alert(`q${i}`, 1_700_000_000 + i) });
    n.receive({ payload: alert('gun', 1_700_000_011, { label: 'gunshot', scores: { gunshot: 0.9 } }) });
    n.receive({ payload: alert('q12', 1_700_000_012) });
    const notice = await waitFor(() => (storedState('dash')?.dropped?.count === 2 ? storedState('dash').dropped : undefined), 10_000, 'two dropped in the state');
    assert.deepEqual(
      { maxAlerts: notice.maxAlerts, upTo: notice.upTo, recent: notice.recent.map((d: Any) => [d.id, d.label, d.state]) },
      { maxAlerts: 10, upTo: 2, recent: [['q2', 'glass_break', 'new'], ['q1', 'glass_break', 'new']] },
    );
    assert.ok(storedState('dash').alerts.some((r: Any) => r.alert.id === 'gun'));
    assert.deepEqual(await socketAction(n, { type: 'ack-dropped', upTo: notice.upTo, operator: 'Alice' }), { ok: true, operator: 'Alice' });
    assert.equal(storedState('dash').dropped, undefined, 'gone from every console');
    const entries = await waitFor(() => {
      const all = auditEntriesIn(path.join(userDir, 'audit-test'));
      return all.some((e) => e.details?.event === 'alert-dropped-acknowledged') ? all : undefined;
    }, 10_000, 'the acknowledgement in the audit log');
    const ack = entries.find((e) => e.details?.event === 'alert-dropped-acknowledged');
    assert.deepEqual([ack.type, ack.actor, ack.details.count, ack.details.named], ['system', 'Alice', 2, ['q2', 'q1']]);
    // a restart: what is acknowledged stays so
    await helper.unload();
    await helper.load(nodes(), flow({ maxAlerts: 10 }));
    await waitFor(() => storedState('dash')?.alerts?.length === 10 || undefined, 10_000, 'the queue restored');
    assert.equal(storedState('dash').dropped, undefined);
  });

  it('unhandled alerts past Keep for are told when saved alerts are loaded and when an alert arrives: a warning naming each and an audit entry', async () => {
    const DAY_MS = 86_400_000;
    const file = path.join(userDir, 'vigie-alerts-dash.json');
    await helper.startServer();
    await helper.load(nodes(), flow());
    let n = helper.getNode('dash');
    n.receive({ payload: alert('stale-1', NOW_S + 1) });
    n.receive({ payload: alert('stale-2', NOW_S + 2) });
    n.receive({ payload: alert('handled', NOW_S + 3) });
    await waitFor(() => storedState('dash')?.alerts?.length === 3 || undefined, 10_000, 'three alerts');
    assert.deepEqual(await socketAction(n, { type: 'decide', alertId: 'handled', action: 'dismiss', operator: 'Alice' }), { ok: true, operator: 'Alice' });
    await helper.unload();
    await helper.stopServer();
    // The gateway was off for a while: stale-1 and the handled one were last updated 8 days ago
    // (Keep for is 7 days by default), stale-2 6 days ago.
    const saved = JSON.parse(fs.readFileSync(file, 'utf8'));
    for (const r of saved.alerts) {
      const ageMs = r.alert.id === 'stale-2' ? 6 * DAY_MS : 8 * DAY_MS;
      r.receivedMs -= ageMs;
      r.updatedMs -= ageMs;
      r.alert.onset -= ageMs / 1000;
    }
    fs.writeFileSync(file, JSON.stringify(saved));

    await helper.startServer();
    await helper.load(nodes(), flow());
    n = helper.getNode('dash');
    const expiredWarnings = () => warningsOf(helper, 'dash').filter((w) => /with no decision/.test(w));
    await waitFor(() => expiredWarnings().length === 1 || undefined, 10_000, 'a warning at load');
    assert.equal(expiredWarnings()[0], `unhandled alert stale-1 (glass_break at ${new Date((NOW_S + 1) * 1000 - 8 * DAY_MS).toISOString()}, never opened) dropped with no decision, 7 days after its last update (Keep for); each is in the audit log (system entry "alert-dropped")`);
    // Two more days pass before the next alert: stale-2 goes when it arrives.
    const realNow = Date.now;
    const twoDaysOn = mock.method(Date, 'now', () => realNow() + 2 * DAY_MS);
    try {
      n.receive({ payload: alert('fresh', NOW_S + 4) });
      await waitFor(() => storedState('dash')?.alerts?.some((r: Any) => r.alert.id === 'fresh') || undefined, 10_000, 'the fresh alert');
    } finally {
      twoDaysOn.mock.restore();
    }
    assert.equal(expiredWarnings().length, 2, expiredWarnings().join(' | '));
    assert.ok(expiredWarnings()[1].startsWith(`unhandled alert stale-2 (glass_break at ${new Date((NOW_S + 2) * 1000 - 6 * DAY_MS).toISOString()}, never opened) dropped with no decision`), expiredWarnings()[1]);
    assert.deepEqual(storedState('dash').alerts.map((r: Any) => r.alert.id), ['fresh']);
    const entries = auditEntriesIn(path.join(userDir, 'audit-test'));
    const dropped = entries.filter((e) => e.details?.event === 'alert-dropped');
    assert.deepEqual(dropped.map((e) => [e.type, e.alertId, e.details.reason]), [['system', 'stale-1', 'retention'], ['system', 'stale-2', 'retention']], 'the handled alert is not told: it had its decision');
  });

  it('a file of saved alerts it cannot read (another version) is set aside, named in a warning, never overwritten; the status says so', async () => {
    const file = path.join(userDir, 'vigie-alerts-dash.json');
    const newer = '{"version":2,"alerts":[{"alert":{"id":"before-the-downgrade"}}]}';
    fs.writeFileSync(file, newer);
    await helper.startServer();
    await helper.load(nodes(), flow());
    const n = helper.getNode('dash');
    const { statuses, last } = recordStatuses(n);
    const aside = fs.readdirSync(userDir).filter((f) => f.startsWith('vigie-alerts-dash.json.version-2-'));
    assert.equal(aside.length, 1, fs.readdirSync(userDir).join(', '));
    assert.match(aside[0], /^vigie-alerts-dash\.json\.version-2-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ$/);
    const warned = warningsOf(helper, 'dash').filter((w) => /restore/.test(w));
    assert.equal(warned.length, 1, warned.join(' | '));
    assert.equal(
      warned[0],
      `could not restore the alerts saved before the restart: vigie-alerts-dash.json: written in version 2 of the alert store format, this Vigie reads version 1; set aside as ${aside[0]}, as it was (${path.join(userDir, aside[0])}); the queue starts empty`,
    );
    n.receive({ payload: alert('after', 100) });
    await waitFor(() => (last().fill === 'yellow' && last().text === '1 new, 1 open; saved alerts set aside') || undefined, 10_000, 'a yellow status naming the file set aside');
    assert.equal(last().shape, 'ring');
    assert.equal(fs.readFileSync(path.join(userDir, aside[0]), 'utf8'), newer, 'what was set aside is as it was');
    assert.deepEqual(JSON.parse(fs.readFileSync(file, 'utf8')).alerts.map((r: Any) => r.alert.id), ['after'], 'the queue is saved afresh');
  });

  it('saved alerts that no longer validate are named in a warning and the file as it was is copied aside', async () => {
    const file = path.join(userDir, 'vigie-alerts-dash.json');
    const record = (a: Any) => ({ alert: a, state: 'new', receivedMs: Date.now(), updatedMs: Date.now(), seenBy: [], decisions: [] });
    const text = JSON.stringify({ version: 1, savedMs: Date.now(), alerts: [record(alert('fine', 100)), record(alert('odd', 200, { confidence: 7 }))] });
    fs.writeFileSync(file, text);
    await helper.startServer();
    await helper.load(nodes(), flow());
    const copies = fs.readdirSync(userDir).filter((f) => f.startsWith('vigie-alerts-dash.json.partly-restored-'));
    assert.equal(copies.length, 1);
    assert.equal(fs.readFileSync(path.join(userDir, copies[0]), 'utf8'), text);
    const warned = warningsOf(helper, 'dash').filter((w) => /could not be restored/.test(w));
    assert.equal(warned.length, 1, warningsOf(helper, 'dash').join(' | '));
    assert.match(warned[0], new RegExp(`^${file.replace(/[.\\/]/g, '\\$&')}: 1 alert\\(s\\) saved before the restart could not be restored \\(first: an alert: .*confidence.*\\); the file as it was is copied to ${path.join(userDir, copies[0]).replace(/[.\\/]/g, '\\$&')}$`));
    await waitFor(() => storedState('dash')?.alerts?.length === 1 || undefined, 10_000, 'the valid alert restored');
  });

  it('a file of saved alerts it can neither read nor set aside is not saved over: red status until it is moved away', async () => {
    // A node id so long that the file's name leaves no room for a longer one beside it (NAME_MAX).
    const id = `d${'x'.repeat(229)}`;
    const file = path.join(userDir, `vigie-alerts-${id}.json`);
    const older = '{"version":0,"alerts":[]}';
    fs.writeFileSync(file, older);
    await helper.startServer();
    await helper.load(nodes(), flow({ id }));
    const n = helper.getNode(id);
    const { statuses, last } = recordStatuses(n);
    assert.match(warningsOf(helper, id).join(' | '), /could not restore the alerts saved before the restart: .*could not be set aside either \(ENAMETOOLONG.*until it is moved away/);
    n.receive({ payload: alert('kept-in-memory', 100) });
    await waitFor(() => (last().fill === 'red' && /^alerts not saved: /.test(last().text)) || undefined, 10_000, 'a red status');
    assert.equal(fs.readFileSync(file, 'utf8'), older, 'not overwritten');
    fs.renameSync(file, path.join(userDir, 'moved-away.json'));
    n.receive({ payload: alert('next', 200) });
    await waitFor(() => last().fill === 'green' || undefined, 10_000, 'green once saved');
    assert.deepEqual(JSON.parse(fs.readFileSync(file, 'utf8')).alerts.map((r: Any) => r.alert.id).sort(), ['kept-in-memory', 'next']);
  });

  it('alerts that could not be saved are saved within a minute once the fault is gone, with no new alert to prompt it', async () => {
    // Only the console's minute timer is driven by hand; everything else runs on real time.
    mock.timers.enable({ apis: ['setInterval'] });
    try {
      await helper.startServer();
      await helper.load(nodes(), flow());
      const n = helper.getNode('dash');
      const { last } = recordStatuses(n);
      const file = path.join(userDir, 'vigie-alerts-dash.json');
      fs.mkdirSync(file);
      n.receive({ payload: alert('quiet-1', 100) });
      n.receive({ payload: alert('quiet-2', 200) });
      await waitFor(() => (last().fill === 'red' && storedState('dash')?.alerts?.length === 2) || undefined, 10_000, 'not saved, red');
      // Space freed; the night is quiet: no alert comes to save them.
      fs.rmdirSync(file);
      mock.timers.tick(59_000);
      assert.equal(fs.existsSync(file), false, 'not before the minute');
      mock.timers.tick(1_000);
      assert.deepEqual(JSON.parse(fs.readFileSync(file, 'utf8')).alerts.map((r: Any) => r.alert.id).sort(), ['quiet-1', 'quiet-2']);
      await waitFor(() => last().fill === 'green' || undefined, 10_000, 'green again');
      assert.deepEqual(logOf(helper, 'dash', 'INFO').filter((l) => /saved again/.test(l)), [`alerts saved again in ${file}`]);
    } finally {
      mock.timers.reset();
    }
  });

  it('alerts that cannot be saved turn the status red naming the fault, with one warning, until a save succeeds again', async () => {
    await helper.startServer();
    await helper.load(nodes(), flow());
    const n = helper.getNode('dash');
    const { statuses, last } = recordStatuses(n);
    const file = path.join(userDir, 'vigie-alerts-dash.json');
    n.receive({ payload: alert('s1', 100) });
    await waitFor(() => last().text === '1 new, 1 open, 1 kept' || undefined, 10_000, 'the first alert saved');
    assert.ok(fs.statSync(file).isFile());
    // Where the file goes stands a directory now: every save fails.
    fs.rmSync(file);
    fs.mkdirSync(file);
    n.receive({ payload: alert('s2', 200) });
    await waitFor(() => last().fill === 'red' || undefined, 10_000, 'a red status');
    assert.deepEqual(last(), { fill: 'red', shape: 'ring', text: 'alerts not saved: EISDIR: illegal operation on a directory' });
    n.receive({ payload: alert('s3', 300) });
    n.receive({ payload: alert('s4', 400) });
    await waitFor(() => storedState('dash')?.alerts?.length === 4 || undefined, 10_000, 'four alerts in the queue');
    const saving = () => warningsOf(helper, 'dash').filter((w) => /save/.test(w));
    assert.equal(saving().length, 1, saving().join(' | '));
    assert.match(saving()[0], new RegExp(`^could not save alerts in ${file.replace(/[.\\/]/g, '\\$&')}: EISDIR: .*; they are kept in memory and saved at the next change`));
    assert.equal(last().fill, 'red', 'still red while saves fail');
    // Fixed: the next change is saved, the status is green again and the end of the fault is said.
    fs.rmdirSync(file);
    n.receive({ payload: alert('s5', 500) });
    await waitFor(() => last().fill === 'green' || undefined, 10_000, 'green again');
    assert.deepEqual(last(), { fill: 'green', shape: 'dot', text: '5 new, 5 open, 5 kept' });
    assert.deepEqual(JSON.parse(fs.readFileSync(file, 'utf8')).alerts.map((r: Any) => r.alert.id).sort(), ['s1', 's2', 's3', 's4', 's5']);
    assert.deepEqual(logOf(helper, 'dash', 'INFO').filter((l) => /saved again/.test(l)), [`alerts saved again in ${file}`]);
    // A new fault is a new episode: warned again.
    fs.rmSync(file);
    fs.mkdirSync(file);
    n.receive({ payload: alert('s6', 600) });
    await waitFor(() => last().fill === 'red' || undefined, 10_000, 'red again');
    assert.equal(saving().length, 2);
  });

  it('without a ui-group it says so, and still keeps and audits alerts', async () => {
    await helper.startServer();
    const f: Array<Record<string, unknown>> = flow({ group: '' }).filter((x) => !['ui-base-1', 'ui-page-1', 'ui-group-1', 'ui-theme-1'].includes(String(x.id)));
    // A complete node: each message the node takes is done (its handler is given done).
    f.push({ id: 'complete-1', type: 'complete', z: 'tab-1', scope: ['dash'], wires: [['completed']] }, { id: 'completed', type: 'helper', z: 'tab-1' });
    await helper.load([alertDashboard, require('@node-red/nodes/core/common/25-catch.js'), require('@node-red/nodes/core/common/24-complete.js')], f);
    const n = helper.getNode('dash');
    const { statuses } = recordStatuses(n);
    const caught: Any[] = [];
    helper.getNode('caught').on('input', (m: Any) => caught.push(m));
    const completed: Any[] = [];
    helper.getNode('completed').on('input', (m: Any) => completed.push(m));
    n.receive({ payload: alert('g1', 100) });
    n.receive({ payload: 'not an alert' });
    await waitFor(() => caught.length >= 1 || undefined, 10_000, 'the refused message caught');
    assert.match(caught[0].error.message, /payload: expected an alert object or its JSON text/);
    await waitFor(() => completed.length >= 1 || undefined, 10_000, 'the alert done');
    assert.deepEqual(completed.map((c) => c.payload.id), ['g1'], 'the alert done; the refused message went to catch');
    await waitFor(() => statuses.length >= 1 || undefined, 10_000, 'a status');
    assert.ok(statuses.some((s) => s.fill === 'red' && /ui-group/.test(s.text)), JSON.stringify(statuses));
    const entries = auditEntriesIn(path.join(userDir, 'audit-test'));
    assert.deepEqual(entries.filter((e) => e.type === 'alert').map((e) => e.alertId), ['g1']);
    assert.ok(fs.existsSync(path.join(userDir, 'vigie-alerts-dash.json')));
  });

  it('an audit log that cannot be written turns the status red with what waits, and green once the events are written', async () => {
    await helper.startServer();
    await helper.load(nodes(), flow());
    const n = helper.getNode('dash');
    const { statuses, last } = recordStatuses(n);
    const dir = path.join(userDir, 'audit-test');
    n.receive({ payload: alert('w1', 100) });
    await waitFor(() => last().fill === 'green' || undefined, 10_000, 'green');
    fs.renameSync(dir, `${dir}-away`);
    n.receive({ payload: alert('w2', 200) });
    await waitFor(() => (last().fill === 'red' && /audit log failing \(1 events waiting\)/.test(last().text)) || undefined, 10_000, 'red with the waiting events');
    fs.renameSync(`${dir}-away`, dir);
    await waitFor(() => last().fill === 'green' || undefined, 20_000, 'green again');
    const entries = auditEntriesIn(dir);
    assert.deepEqual(entries.filter((e) => e.type === 'alert').map((e) => e.alertId), ['w1', 'w2']);
    assert.equal(verifyAuditFiles(listAuditFiles(dir)).ok, true);
  });

  it('a head record that cannot be written: one warning naming it and what goes unseen, the status says it; once written again, said in the log and green', async () => {
    await helper.startServer();
    await helper.load(nodes(), flow());
    const n = helper.getNode('dash');
    const { last } = recordStatuses(n);
    const headFile = path.join(userDir, 'audit-test.head.json');
    n.receive({ payload: alert('h1', 100) });
    await waitFor(() => last().fill === 'green' || undefined, 10_000, 'green');
    // A directory where the record goes: its rename fails (EISDIR), the audit files are written all along.
    fs.rmSync(headFile);
    fs.mkdirSync(path.join(headFile, 'blocking'), { recursive: true });
    n.receive({ payload: alert('h2', 200) });
    await waitFor(() => (last().fill === 'red' && last().text === 'audit head record not written: EISDIR') || undefined, 10_000, 'red, saying the head record is not written');
    n.receive({ payload: alert('h3', 300) });
    await waitFor(() => storedState('dash')?.alerts?.length === 3 || undefined, 10_000, 'the third alert');
    const said = warningsOf(helper, 'dash').filter((w) => /head record/.test(w));
    assert.equal(said.length, 1, JSON.stringify(said));
    assert.match(said[0], new RegExp(`^audit log: the head record ${headFile} cannot be written: EISDIR.*; entries are still written, but audit files deleted while Node-RED is stopped will not be detected at the next start\\. Give Node-RED write access to ${userDir}$`));
    fs.rmSync(headFile, { recursive: true });
    n.receive({ payload: alert('h4', 400) });
    await waitFor(() => last().fill === 'green' || undefined, 10_000, 'green again');
    assert.deepEqual(logOf(helper, 'dash', 'INFO').filter((l) => /head record/.test(l)), [`audit log: the head record ${headFile} is written again`]);
    const entries = auditEntriesIn(path.join(userDir, 'audit-test'));
    assert.deepEqual(entries.filter((e) => e.type === 'alert').map((e) => e.alertId), ['h1', 'h2', 'h3', 'h4']);
    assert.equal(JSON.parse(fs.readFileSync(headFile, 'utf8')).seq, entries[entries.length - 1].seq);
  });

  it('a full disk: alerts still reach the console; one error and one warning name the audit directory, the file and "disk full", the status says it; once there is room everything is written and the log verifies', async () => {
    await helper.startServer();
    await helper.load(nodes(), flow());
    const n = helper.getNode('dash');
    const { last } = recordStatuses(n);
    const dir = path.join(userDir, 'audit-test');
    const file = path.join(userDir, 'vigie-alerts-dash.json');
    n.receive({ payload: alert('f1', 100) });
    await waitFor(() => last().fill === 'green' || undefined, 10_000, 'green');
    // The card is full: no write gets a byte through (the audit log appends, the alerts' file is written whole through a temporary file).
    const enospc = () => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });
    const realWrite = fs.writeFileSync;
    const realAppend = fs.appendFileSync;
    let full = true;
    const write = mock.method(require('node:fs') as typeof fs, 'writeFileSync', (f: fs.PathOrFileDescriptor, data: string | NodeJS.ArrayBufferView, opts?: fs.WriteFileOptions) => {
      if (full && typeof f === 'number') throw enospc();
      return realWrite(f, data, opts);
    });
    const append = mock.method(require('node:fs') as typeof fs, 'appendFileSync', (f: fs.PathOrFileDescriptor, data: string | Uint8Array, opts?: fs.WriteFileOptions) => {
      if (full) throw enospc();
      return realAppend(f, data, opts);
    });
    try {
      n.receive({ payload: alert('f2', 200) });
      n.receive({ payload: alert('f3', 300) });
      await waitFor(() => storedState('dash')?.alerts?.length === 3 || undefined, 10_000, 'the alerts on the console all the same');
      await waitFor(() => (last().fill === 'red' && /^audit log failing: disk full \(\d+ events waiting\)$/.test(last().text)) || undefined, 10_000, 'red, saying the disk is full');
      const errors = n.error.args.map((a: Any[]) => String(a[0]));
      assert.deepEqual(errors, [`audit log in ${dir}: disk full (ENOSPC: no space left on device, write); events wait in memory and are retried`]);
      assert.deepEqual(warningsOf(helper, 'dash').filter((w) => /save/.test(w)), [
        `could not save alerts in ${file}: disk full (ENOSPC: no space left on device, write); they are kept in memory and saved at the next change (or within a minute) once this is fixed`,
      ]);
      // Room again (a log rotated away): the audit log writes what waited at its next attempt; the alerts at the next change.
      full = false;
      await waitFor(() => logOf(helper, 'dash', 'INFO').some((l) => /audit log: writing again/.test(l)) || undefined, 60_000, 'the audit log writing again');
      assert.equal(last().text, 'alerts not saved: disk full', 'the alerts not saved yet: said');
    } finally {
      write.mock.restore();
      append.mock.restore();
    }
    n.receive({ payload: alert('f4', 400) });
    await waitFor(() => last().fill === 'green' || undefined, 10_000, 'green again');
    assert.deepEqual(JSON.parse(fs.readFileSync(file, 'utf8')).alerts.map((r: Any) => r.alert.id).sort(), ['f1', 'f2', 'f3', 'f4']);
    const entries = auditEntriesIn(dir);
    assert.deepEqual(entries.filter((e) => e.type === 'alert').map((e) => e.alertId), ['f1', 'f2', 'f3', 'f4']);
    assert.equal(verifyAuditFiles(listAuditFiles(dir)).ok, true);
    assert.deepEqual(fs.readdirSync(userDir).filter((f) => f.endsWith('.tmp')), [], 'no temporary file left');
  });

  it('close releases the audit subscription and timers; nothing persisted contains samples', async () => {
    const before = auditBus.listenerCount('audit');
    await helper.startServer();
    await helper.load(nodes(), flow());
    // the audit log's subscription, and the one that hears ptz-steer's refusals of move requests
    assert.equal(auditBus.listenerCount('audit'), before + 2);
    const n = helper.getNode('dash');
    // Samples as such are refused (privacy guarantee 1); these hide where the contract is open.
    n.receive({ payload: alert('z1', 100, { level: { dbfs: -9.5, samples: Array.from({ length: 64 }, (_, i) => i / 64) }, pcm: 'AAAA' }) });
    await waitFor(() => storedState('dash')?.alerts?.length === 1 || undefined, 10_000, 'alert stored');
    await helper.unload();
    assert.equal(auditBus.listenerCount('audit'), before, 'unsubscribed on close');
    const saved = fs.readFileSync(path.join(userDir, 'vigie-alerts-dash.json'), 'utf8');
    assert.match(saved, /"z1"/);
    assert.doesNotMatch(saved, /samples|pcm|AAAA|0\.984375/);
    const audit = listAuditFiles(path.join(userDir, 'audit-test')).map((f) => fs.readFileSync(f, 'utf8')).join('');
    assert.match(audit, /"z1"/);
    assert.doesNotMatch(audit, /samples|pcm|AAAA|0\.984375/);
  });

  it('draws the site from vigie-sensor config nodes, registered cameras and alerts', async () => {
    const { registerCamera } = await import('../../lib/camera/registry');
    const unregister = registerCamera({
      id: 'cam-est',
      name: 'Camera est',
      state: 'connected',
      config: { id: 'cam-est', name: 'Camera est', lat: 45.44, lon: 4.389, mountHeadingDeg: 270 },
      getStreamUri: async () => '',
      getSnapshotUri: async () => '',
    } as Any);
    try {
      await helper.startServer();
      const f = [
        ...flow(),
        { id: 'sensor-cfg-1', type: 'vigie-sensor', name: 'Rue est', sensorId: 'rue-est', lat: '45.4401', lon: '4.3889', heightM: 4, headingDeg: 90, array: 'mono', mics: '[[0,0,0]]', clock: 'ntp', clockErrorMs: '' },
      ];
      await helper.load([...nodes(), require('../../nodes/vigie-sensor')], f);
      helper.getNode('dash').receive({ payload: alert('site1', 100) });
      const st = await waitFor(() => storedState('dash'), 10_000, 'state');
      const sensors = Object.fromEntries(st.site.sensors.map((p: Any) => [p.id, p]));
      assert.equal(sensors['rue-est']?.lat, 45.4401, JSON.stringify(st.site));
      assert.equal(sensors['rue-est']?.name, 'Rue est');
      assert.equal(sensors['north-1']?.lon, 4.3872, 'sensors known only from alerts are drawn too');
      assert.deepEqual(st.site.cameras.map((c: Any) => [c.id, c.lat, c.headingDeg]), [['cam-est', 45.44, 270]]);
    } finally {
      unregister();
    }
  });

  it('draws a camera inside a subflow once, by the id its instance gives it, not as its "${CAM_ID}" definition', async () => {
    await helper.startServer();
    const f = [
      ...flow(),
      { id: 'sf', type: 'subflow', name: 'camera site', in: [], out: [], env: [{ name: 'CAM_ID', type: 'str', value: 'cam-unset' }] },
      // Port 1: no user of the camera here, so it is never connected; the plan needs only its place.
      { id: 'scam', type: 'vigie-camera', z: 'sf', cameraId: '${CAM_ID}', name: 'Mast camera', host: '127.0.0.1', port: 1, lat: 45.4405, lon: 4.3881, mountHeadingDeg: 180 },
      // A node of a flow has a position: without one Node-RED takes it for a config node.
      { id: 'site-a', type: 'subflow:sf', z: 'tab-1', x: 100, y: 100, env: [{ name: 'CAM_ID', type: 'str', value: 'cam-mast' }], wires: [] },
    ];
    await helper.load([...nodes(), require('../../nodes/vigie-camera')], f);
    helper.getNode('dash').receive({ payload: alert('site-sub', 100) });
    const st = await waitFor(() => storedState('dash'), 10_000, 'state');
    assert.deepEqual(st.site.cameras.map((c: Any) => [c.id, c.name, c.lat, c.headingDeg]), [['cam-mast', 'Mast camera', 45.4405, 180]], JSON.stringify(st.site.cameras));
  });

  it('draws a sensor inside a subflow once per instance, by the id and place its instance gives it, not as its "${SENSOR_ID}" definition', async () => {
    await helper.startServer();
    const env = (id: string, lat: string) => [{ name: 'SENSOR_ID', type: 'str', value: id }, { name: 'LAT', type: 'str', value: lat }];
    const f = [
      ...flow(),
      { id: 'sf', type: 'subflow', name: 'mast', in: [], out: [], env: env('mast-unset', '45') },
      { id: 'ssen', type: 'vigie-sensor', z: 'sf', name: 'Mast array', sensorId: '${SENSOR_ID}', lat: '${LAT}', lon: '4.3881', heightM: 4, headingDeg: 45, array: 'mono', mics: '[[0,0,0]]', clock: 'ntp', clockErrorMs: '' },
      // A node of a flow has a position: without one Node-RED takes it for a config node.
      { id: 'mast-a', type: 'subflow:sf', z: 'tab-1', x: 100, y: 100, env: env('mast-a', '45.4405'), wires: [] },
      { id: 'mast-b', type: 'subflow:sf', z: 'tab-1', x: 100, y: 200, env: env('mast-b', '45.4411'), wires: [] },
    ];
    await helper.load([...nodes(), require('../../nodes/vigie-sensor')], f);
    helper.getNode('dash').receive({ payload: alert('site-sub', 100) });
    const st = await waitFor(() => storedState('dash'), 10_000, 'state');
    const drawn = st.site.sensors.map((p: Any) => [p.id, p.name, p.lat, p.headingDeg]).sort();
    // north-1: the alert's own sensor, known from the alert only.
    assert.deepEqual(drawn, [['mast-a', 'Mast array', 45.4405, 45], ['mast-b', 'Mast array', 45.4411, 45], ['north-1', 'north-1', 45.4397, undefined]], JSON.stringify(st.site.sensors));
  });

  it('tells every client when a camera goes offline and comes back, with what is wrong and since when', async () => {
    const { EventEmitter } = await import('node:events');
    const { registerCamera } = await import('../../lib/camera/registry');
    // A connection as vigie-camera registers it: state and lastError, and 'state' events.
    const cam = Object.assign(new EventEmitter(), {
      id: 'cam-nord',
      name: 'Camera nord',
      state: 'connected',
      lastError: undefined as { code: string; message: string } | undefined,
      config: { id: 'cam-nord', name: 'Camera nord', lat: 45.44, lon: 4.389, mountHeadingDeg: 0 },
      getStreamUri: async () => '',
      getSnapshotUri: async () => '',
    });
    const set = (state: string, lastError?: { code: string; message: string }) => {
      cam.state = state;
      cam.lastError = lastError;
      cam.emit('state', state, lastError);
    };
    const unregister = registerCamera(cam as Any);
    try {
      await helper.startServer();
      await helper.load(nodes(), flow());
      const base = helper.getNode('ui-base-1');
      const sent: Any[] = [];
      const emit = base.emit.bind(base);
      base.emit = (ev: string, msg: Any, w: Any) => {
        if (ev === 'msg-input:dash') sent.push(msg.payload);
        return emit(ev, msg, w);
      };
      helper.getNode('dash').receive({ payload: alert('c1', 100) });
      const linkOf = () => storedState('dash')?.site?.cameras?.find((c: Any) => c.id === 'cam-nord')?.connection;
      await waitFor(() => linkOf()?.link === 'online', 10_000, 'the camera online');
      const before = sent.length;
      const t0 = Date.now();
      // A frozen camera: GetStatus times out, then the back-off retries it, in a burst.
      const timeout = { code: 'unreachable', message: 'GetStatus: camera unreachable: Network timeout' };
      set('failed', timeout);
      set('connecting', timeout);
      set('failed', timeout);
      await waitFor(() => linkOf()?.link === 'offline', 10_000, 'the camera offline in the state');
      const offline = linkOf();
      assert.equal(offline.problem, 'not responding', 'operators\' words, not the error');
      assert.ok(offline.sinceMs >= t0 && offline.sinceMs <= Date.now());
      assert.equal(sent.length, before + 1, 'one broadcast for the burst');
      assert.doesNotMatch(JSON.stringify(sent[sent.length - 1]), /Network timeout|GetStatus/);
      // Retried by the back-off (connecting again): still offline, nothing new to say, the same "since".
      set('connecting', timeout);
      // A negative check, so a fixed wait: the gathering of state events (0.2 s) began at that
      // event, before this timer, so a broadcast would come before it fires.
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(sent.length, before + 1);
      helper.getNode('dash').receive({ payload: alert('c2', 101) });
      await waitFor(() => storedState('dash')?.alerts?.length === 2, 10_000, 'the next state');
      assert.equal(linkOf().link, 'offline');
      assert.equal(linkOf().sinceMs, offline.sinceMs);
      set('failed', timeout);
      const afterAlert = sent.length;
      await new Promise((r) => setTimeout(r, 300)); // the same negative check
      assert.equal(sent.length, afterAlert);
      set('connecting', timeout);
      set('connected');
      await waitFor(() => linkOf()?.link === 'online', 10_000, 'the camera online again');
      assert.equal(sent.length, afterAlert + 1);
      // A wrong password is another problem, in other words.
      set('failed', { code: 'auth', message: 'connect: authentication failed' });
      await waitFor(() => linkOf()?.link === 'offline', 10_000, 'offline again');
      assert.equal(linkOf().problem, "refuses Vigie's login (user or password)");
    } finally {
      unregister();
    }
  });

  describe('behind httpNodeAuth', () => {
    // bcrypt of "watch-the-street" (cost 8), as `node-red admin hash-pw` writes it into settings.js
    const HASH = '$2b$08$LWHfn5dFAxcbCTZ3P0KR.O.gQBoROkXKXFu.WM.eUnfUXMYMiIw06';
    const socketWith = (user?: string, pass?: string): Any => ({
      id: 'sock-auth',
      emit() {},
      handshake: { headers: user === undefined ? {} : { authorization: 'Basic ' + Buffer.from(`${user}:${pass}`).toString('base64') } },
    });

    it("refuses an action from a connection without httpNodeAuth's credentials, even when its socket let it in", async () => {
      helper.settings({ userDir, httpNodeAuth: { user: 'operator', pass: HASH } });
      await helper.startServer();
      await helper.load(nodes(), flow());
      const n = helper.getNode('dash');
      const received: Any[] = [];
      helper.getNode('out').on('input', (m: Any) => received.push(m));
      n.receive({ payload: alert('auth-1', 1000) });
      await waitFor(() => storedState('dash')?.alerts?.length === 1 || undefined, 10_000, 'alert stored');
      assert.ok(logOf(helper, 'dash', 'INFO').includes("the dashboard's socket asks for httpNodeAuth's user and password"), 'the socket check is added');

      const dismiss = { type: 'decide', alertId: 'auth-1', action: 'dismiss', operator: 'Chief Operator Dupont', note: 'false alarm' };
      for (const socket of [socketWith(), socketWith('operator', 'wrong'), socketWith('intruder', 'watch-the-street')]) {
        const r = await socketAction(n, dismiss, socket);
        assert.equal(r.ok, false);
        assert.match(r.error!, /log in to the dashboard again/);
      }
      assert.equal(received.length, 0, 'no decision sent');
      assert.equal(storedState('dash').alerts[0].decisions?.length ?? 0, 0, 'none taken');
      assert.ok(warningsOf(helper, 'dash').some((w) => /^operator action refused: its connection did not give the user and password of httpNodeAuth$/.test(w)));

      assert.deepEqual(await socketAction(n, dismiss, socketWith('operator', 'watch-the-street')), { ok: true, operator: 'Chief Operator Dupont' });
      await waitFor(() => received.some((m) => m.payload.kind === 'decision'), 10_000, 'the decision on the output');
    });

    it('says in its log and status that the console is open without a login when httpNodeAuth is a middleware', async () => {
      helper.settings({ userDir, httpNodeAuth: (_req: unknown, _res: unknown, next: () => void) => next() });
      await helper.startServer();
      await helper.load(nodes(), flow());
      const n = helper.getNode('dash');
      const { last } = recordStatuses(n);
      n.receive({ payload: alert('open-1', 1000) });
      await waitFor(() => last().text, 10_000, 'a status');
      assert.deepEqual(last(), { fill: 'yellow', shape: 'ring', text: '1 new, 1 open; console open without login' });
      assert.ok(
        warningsOf(helper, 'dash').some((w) => w.startsWith("the console is open without a login: httpNodeAuth is a middleware of your own, which Dashboard 2.0's socket does not pass through")),
        warningsOf(helper, 'dash').join(' | '),
      );
    });
  });
});
