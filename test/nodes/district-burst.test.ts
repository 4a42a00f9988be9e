/**
 * A district on a bad night, through Node-RED: 100 detections of a minute from 20 sensors over
 * MQTT (each bang heard by the 4 nearest) → localizer (fusion) → alert-dashboard. Every bang
 * reaches the console as one alert, placed, in the order of the sounds; the clients get a few
 * paced states, not one per copy.
 */
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeRng } from '../../lib/sim/signals';
import { districtDetection, districtSensors } from '../support/district';
import { helper } from '../support/node-red-helper';
import { waitFor } from '../support/wait';
import { makeWidgetUserDir } from '../support/nodered';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const localizerNode = require('../../nodes/localizer');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const alertDashboard = require('../../nodes/alert-dashboard');
const dash = (f: string) => require(`@flowfuse/node-red-dashboard/nodes/config/${f}`);

type Any = any; // eslint-disable-line @typescript-eslint/no-explicit-any

const SENSORS = districtSensors(20);
const BANGS = 25;
const HEARD_BY = 4;
/** The burst's minute ended a little ago (epoch s): the console trusts onsets near their arrival. */
const START_S = Math.floor(Date.now() / 1000) - 90;

/** Bang k: at a grid cell's middle, never the previous one's, 2.4 s after it; the detections of its 4 nearest sensors in onset order. */
function bang(k: number, rng: () => number): Array<Record<string, unknown>> {
  const cell = (k * 7) % 16;
  const src: [number, number] = [40 + (cell % 4) * 80, 40 + Math.floor(cell / 4) * 80];
  const nearest = SENSORS.map((p, i) => ({ p, i, d: Math.hypot(p[0] - src[0], p[1] - src[1]) }))
    .sort((a, b) => a.d - b.d)
    .slice(0, HEARD_BY);
  return nearest.map(({ p, i }) => districtDetection(`bang${k}-s${i}`, i, p, src, START_S + 2.4 * k, 'ptp', 0, rng) as unknown as Record<string, unknown>).sort((a, b) => (a.onset as number) - (b.onset as number));
}

describe('a district on a bad night', () => {
  let userDir: string;
  beforeEach(() => {
    userDir = makeWidgetUserDir('vigie-district-');
    helper.settings({ userDir });
  });

  afterEach(async () => {
    await helper.unload();
    await helper.stopServer();
    helper.settings({});
    fs.rmSync(userDir, { recursive: true, force: true });
  });

  it('100 detections from 20 sensors: every bang reaches the console once, placed, newest first, in a few paced states', async () => {
    await helper.startServer();
    await helper.load(
      [dash('ui_base'), dash('ui_page'), dash('ui_group'), dash('ui_theme'), localizerNode, alertDashboard, require('@node-red/nodes/core/common/25-catch.js')],
      [
        { id: 'tab', type: 'tab', label: 'district' },
        { id: 'ui-base-1', type: 'ui-base', name: 'Vigie', path: '/dashboard', includeClientData: true, acceptsClientConfig: ['ui-notification', 'ui-control'] },
        { id: 'ui-theme-1', type: 'ui-theme', name: 'theme', colors: { surface: '#ffffff', primary: '#0094CE', bgPage: '#eeeeee', groupBg: '#ffffff', groupOutline: '#cccccc' }, sizes: {} },
        { id: 'ui-page-1', type: 'ui-page', name: 'Alerts', ui: 'ui-base-1', path: '/alerts', layout: 'grid', theme: 'ui-theme-1', order: 1, visible: 'true', disabled: 'false' },
        { id: 'ui-group-1', type: 'ui-group', name: 'Console', page: 'ui-page-1', width: '12', height: '1', order: 1, visible: 'true', disabled: 'false' },
        { id: 'loc', type: 'localizer', z: 'tab', name: 'fusion', mode: 'fusion', minSensors: 3, timeoutMs: 300, wires: [['dash', 'located']] },
        { id: 'located', type: 'helper', z: 'tab' },
        { id: 'dash', type: 'alert-dashboard', z: 'tab', group: 'ui-group-1', name: 'console', chime: true, persist: false, auditDir: 'audit', wires: [[]] },
        { id: 'catch-1', type: 'catch', z: 'tab', scope: null, wires: [['caught']] },
        { id: 'caught', type: 'helper', z: 'tab' },
      ],
    );
    const base = helper.getNode('ui-base-1');
    const states: Any[] = [];
    const emit = base.emit.bind(base);
    base.emit = (ev: string, msg: Any, w: Any) => {
      // as socket.io sends it: serialised then
      if (ev === 'msg-input:dash') states.push(JSON.parse(JSON.stringify(msg.payload)));
      return emit(ev, msg, w);
    };
    const located: Any[] = [];
    helper.getNode('located').on('input', (m: Any) => located.push(m.payload));
    const caught: string[] = [];
    helper.getNode('caught').on('input', (m: Any) => caught.push(m.error?.message));

    const rng = makeRng(7);
    const detections = Array.from({ length: BANGS }, (_, k) => bang(k, rng)).flat();
    assert.equal(detections.length, 100);
    // As the MQTT input hands them over: JSON text, as fast as they come.
    const loc = helper.getNode('loc');
    for (const d of detections) loc.receive({ payload: JSON.stringify(d), topic: `vigie/v1/district/${d.sensor}/detection` });

    const bangOf = (a: Any) => Number(/^bang(\d+)-/.exec(a.id)?.[1]);
    const last = await waitFor(() => {
      const st = states[states.length - 1];
      return st?.alerts?.length === BANGS && st.alerts.every((r: Any) => r.alert.location?.position) ? st : undefined;
    }, 20_000, `${BANGS} placed alerts in the console's state`);
    assert.deepEqual(caught, []);
    assert.deepEqual([...new Set(located.map(bangOf))].sort((a, b) => a - b), Array.from({ length: BANGS }, (_, k) => k), 'one alert per bang left the localizer');
    assert.deepEqual(
      last.alerts.map((r: Any) => bangOf(r.alert)),
      Array.from({ length: BANGS }, (_, k) => BANGS - 1 - k),
      'the console lists them newest sound first',
    );
    for (const r of last.alerts) {
      assert.equal(r.alert.location.method, 'tdoa', `${r.alert.id}: ${JSON.stringify(r.alert.location)}`);
      assert.ok(r.alert.location.position.errorM < 5, `${r.alert.id} placed within 5 m (${r.alert.location.position.errorM} m)`);
    }
    assert.equal(last.counts.new, BANGS);
    // Paced: 100 detections arriving at once give the clients a few states, not one per alert.
    assert.ok(states.length <= 5, `${states.length} states for ${located.length} alert copies`);
    const versions = states.map((s) => s.version);
    assert.deepEqual(versions, [...versions].sort((a, b) => a - b), 'never an older state after a newer one');
  });
});
