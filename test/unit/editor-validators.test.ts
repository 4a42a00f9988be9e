/**
 * The editor forms' validators (nodes/*.html with the shared checks they load, resources/vigie-editor.js,
 * run as the editor runs them, with a minimal RED):
 * - each says why it refuses a value: Node-RED (>= 3.1) shows the string a validator returns over
 *   the red field and in the node's list of invalid properties, but only from a validator declared
 *   with two parameters (v, opt); the text names the field and what is expected;
 * - each refuses exactly what the runtime refuses, for every numeric setting that has a range:
 *   the forms duplicate the ranges of LOCALIZER_SETTINGS, CAPTURE_SETTINGS, SETTING_RANGES,
 *   VIDEO_FORWARD_SETTINGS, DASHBOARD_SETTINGS, PTZ_STEER_SETTINGS, OUTBOX_SETTING_RANGES, and the
 *   checks of cameraConfigFromNode and validateSensorInfo, which are asked here value by value;
 * - custom microphone positions are outlined only when they are not a list of numbers (never for what
 *   lib/localize/arrays.ts accepts; the rest the form asks the runtime, see test/nodes/vigie-sensor.test.ts);
 * - a password in a URL is refused by the camera's and the mic-capture's forms, in the same words.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import * as vm from 'vm';
import { checkGeometry } from '../../lib/localize/arrays';
import { SETTING_RANGES } from '../../lib/detect/detector';
import { hasPassword } from '../../lib/util/url-credentials';
import { FFMPEG_INPUT_PROTOCOLS, ffmpegInputProblem } from '../../lib/audio/sources/ffmpeg';
import { DEFAULT_MAX_AGE_S, DEFAULT_MAX_MESSAGES, OUTBOX_SETTING_RANGES } from '../../lib/util/outbox';
import { LOCALIZER_SETTINGS } from '../../lib/localize/localizer';
import { CAPTURE_SETTINGS, MIN_LEVEL_PERIOD_MS } from '../../lib/audio/capture';
import { VIDEO_FORWARD_SETTINGS } from '../../lib/video/manager';
import { DASHBOARD_SETTINGS } from '../../lib/alerts/console';
import { PTZ_STEER_SETTINGS } from '../../lib/camera/steer';
import { CAMERA_SETTINGS, cameraConfigFromNode, HOST_EXPECTED } from '../../lib/camera/config';
import { SENSOR_SETTINGS, validateSensorInfo } from '../../lib/sensor';
import { settingInRange } from '../../lib/util/validate';
import { repoRoot } from '../support/nodered';

type Result = boolean | string;
type Validate = (this: Record<string, unknown>, v: unknown, opt?: unknown) => Result;
type Property = { value?: unknown; validate?: Validate; type?: string; required?: boolean };
type Definition = { defaults: Record<string, Property>; credentials?: Record<string, Property> };
type Rule = { min: number; max: number; integer?: boolean };

const FORMS = fs.readdirSync(path.join(repoRoot, 'nodes')).filter((f) => f.endsWith('.html'));
const PACKAGE_NAME: string = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')).name;

/** Config nodes the forms' validators can look up (RED.nodes.node). */
const CONFIG_NODES: Record<string, { id: string; type: string; valid?: boolean; path?: string }> = {
  'sensor-ok': { id: 'sensor-ok', type: 'vigie-sensor', valid: true },
  'sensor-bad': { id: 'sensor-bad', type: 'vigie-sensor', valid: false },
};

/** What a node of the workspace is: a node of a flow (it has a position), a tab or subflow, or a config node. */
function kindOf(n: unknown): 'flow' | 'workspace' | 'config' {
  const o = n as { x?: unknown; type?: string };
  return o.type === 'tab' || o.type === 'subflow' ? 'workspace' : o.x !== undefined ? 'flow' : 'config';
}

/**
 * The package's files a form loads with <script src>: Node-RED serves a module's resources/ folder at
 * resources/<module name>/, and the editor loads a relative src before it runs the form's own scripts.
 */
function sharedScripts(html: string): string[] {
  return [...html.matchAll(/<script\b[^>]*\bsrc="([^"]*)"[^>]*>\s*<\/script>/g)].map((m) => {
    const prefix = `resources/${PACKAGE_NAME}/`;
    assert.ok(m[1].startsWith(prefix), `<script src="${m[1]}">: expected the relative URL ${prefix}<file> (the module's resources/ folder)`);
    return path.join(repoRoot, 'resources', m[1].slice(prefix.length));
  });
}

/**
 * Runs a form's editor scripts as the editor runs them (the shared scripts it loads, then its own,
 * in one window); returns what it registers, by node type.
 */
function editorDefinitions(file: string, configNodes: Record<string, unknown> = CONFIG_NODES): Record<string, Definition> {
  const html = fs.readFileSync(path.join(repoRoot, 'nodes', file), 'utf8');
  const scripts = [...html.matchAll(/<script type="text\/javascript">([\s\S]*?)<\/script>/g)].map((m) => m[1]);
  assert.ok(scripts.length > 0, `${file} has an editor script`);
  const registered: Record<string, Definition> = {};
  const RED = {
    nodes: {
      registerType: (type: string, def: Definition) => void (registered[type] = def),
      node: (id: string) => configNodes[id] ?? null,
      // The workspace's nodes: config nodes (no position), flow nodes (x, y) and subflows, as the editor lists them.
      eachConfig: (cb: (n: unknown) => unknown) => Object.values(configNodes).filter((n) => kindOf(n) === 'config').some((n) => cb(n) === false),
      eachNode: (cb: (n: unknown) => unknown) => Object.values(configNodes).filter((n) => kindOf(n) === 'flow').some((n) => cb(n) === false),
      subflow: (id: string) => (configNodes[id] as { type?: string } | undefined)?.type === 'subflow' ? configNodes[id] : null,
    },
    validators: { regex: (re: RegExp) => (v: unknown) => re.test(String(v)), number: () => (v: unknown) => Number.isFinite(Number(v)) },
  };
  // No form open: field lookups find nothing, so validators read the node's own properties.
  const $ = () => ({ length: 0, val: () => undefined, toggleClass: () => undefined });
  const window = vm.createContext({ RED, $, URL });
  for (const f of sharedScripts(html)) vm.runInContext(fs.readFileSync(f, 'utf8'), window, { filename: f });
  for (const s of scripts) vm.runInContext(s, window, { filename: file });
  return registered;
}

function definitionOf(file: string, type: string): Definition {
  const def = editorDefinitions(file)[type];
  assert.ok(def, `${file} registers ${type}`);
  return def;
}

/** Values around a range's edges, and some that are no number at all. */
function candidates(rule: Rule): unknown[] {
  const below = rule.integer ? 1 : rule.min !== 0 ? Math.abs(rule.min) / 10 : 0.001;
  const above = rule.integer ? 1 : rule.max !== 0 ? Math.abs(rule.max) / 10 : 0.001;
  const out: unknown[] = [rule.min, rule.max, rule.min - below, rule.max + above, (rule.min + rule.max) / 2, String(rule.max), ` ${rule.min} `, '', ' ', null, undefined, 'abc', '12abc', Infinity, NaN];
  if (rule.integer) out.push(rule.min + 0.5, String(rule.max - 0.5));
  return out;
}

/** Whether the runtime accepts `v` for a setting read with settingInRange (empty = the default). */
function settingAccepts(v: unknown, rule: Rule): boolean {
  try {
    settingInRange(v, 'x', rule, 0);
    return true;
  } catch {
    return false;
  }
}

/** Asks the form about every candidate value of a field (`form`: its validators' verdict), as the stored value and as typed text. */
function assertSameAsRuntime(label: string, form: (v: unknown) => Result, rule: Rule, runtimeAccepts: (v: unknown) => boolean): void {
  for (const v of candidates(rule)) {
    const accepts = runtimeAccepts(v);
    for (const given of v === undefined || v === null ? [v] : [v, String(v)]) {
      const r = form(given);
      assert.ok(r === true || typeof r === 'string', `${label} ${JSON.stringify(given)}: true or a reason, got ${JSON.stringify(r)}`);
      assert.equal(r === true, typeof given === 'string' ? runtimeAccepts(given) : accepts, `${label} ${JSON.stringify(given)}: the form ${r === true ? 'accepts' : 'refuses'} it, the runtime does not`);
      if (r !== true) assert.ok(r.includes(`from ${rule.min} to ${rule.max}`), `${label} ${JSON.stringify(given)}: the reason says the range: ${r}`);
    }
  }
}

test('every validator of every form says why it refuses a value, naming the field, and is declared (v, opt) so that Node-RED shows it', () => {
  let validators = 0;
  for (const file of FORMS) {
    for (const [type, def] of Object.entries(editorDefinitions(file))) {
      const props = [...Object.entries(def.defaults).map(([k, p]) => [k, p, false] as const), ...Object.entries(def.credentials ?? {}).map(([k, p]) => [k, p, true] as const)];
      for (const [key, p, credential] of props) {
        if (!p.validate) {
          // a property Node-RED checks alone (required, or a required config node) says nothing: every such one has a validator
          assert.ok(!p.required && (credential || !p.type || p.required === false), `${type}.${key}: required or a config node, with no validator to say why`);
          continue;
        }
        validators++;
        assert.equal(p.validate.length, 2, `${type}.${key}: declared (v, opt), else Node-RED drops the reason`);
        for (const v of [p.value, '', 'abc', -1e9, 1e9, 'rtsp://op:pw@10.0.0.5/s', '[[0,0,0],', 'sensor-bad', 'sensor-gone', [], {}]) {
          const r = p.validate.call({ source: 'ffmpeg', mode: 'fusion', array: 'custom', labels: ['gunshot'] }, v, {});
          assert.ok(r === true || (typeof r === 'string' && /^[A-Z][^:]*: \S/.test(r)), `${type}.${key} ${JSON.stringify(v)}: true, or "Field: why", got ${JSON.stringify(r)}`);
        }
      }
    }
  }
  assert.ok(validators > 60, `validators found: ${validators}`);
});

test('numeric settings: each form refuses exactly what its runtime refuses, and says the range', () => {
  const cases: Array<[string, string, Record<string, unknown>, Record<string, Rule>]> = [
    ['localizer.html', 'localizer', { mode: 'fusion' }, LOCALIZER_SETTINGS],
    ['mic-capture.html', 'mic-capture', { source: 'alsa' }, CAPTURE_SETTINGS],
    ['acoustic-classifier.html', 'acoustic-classifier', {}, SETTING_RANGES],
    ['video-forward.html', 'video-forward', {}, VIDEO_FORWARD_SETTINGS],
    ['ptz-steer.html', 'ptz-steer', {}, PTZ_STEER_SETTINGS],
    ['vigie-outbox.html', 'vigie-outbox', {}, OUTBOX_SETTING_RANGES],
  ];
  // the dashboard's site origin is a pair (below)
  const { siteLat: _lat, siteLon: _lon, ...dashboard } = DASHBOARD_SETTINGS;
  cases.push(['alert-dashboard.html', 'alert-dashboard', {}, dashboard]);
  for (const [file, type, ctx, rules] of cases) {
    const def = definitionOf(file, type);
    for (const [key, rule] of Object.entries(rules)) {
      const validate = def.defaults[key]?.validate;
      assert.ok(validate, `${type}.${key} has a validator`);
      assertSameAsRuntime(`${type}.${key}`, (v) => validate.call(ctx, v), rule, (v) => settingAccepts(v, rule));
    }
  }
});

test('mic-capture form: Level every is refused below the bound level reports keep (privacy), saying so; 0 (off) and the bound are taken', () => {
  const validate = definitionOf('mic-capture.html', 'mic-capture').defaults.levelEveryMs.validate!;
  for (const v of [0, '0', '', MIN_LEVEL_PERIOD_MS, String(MIN_LEVEL_PERIOD_MS), 1000, 600000]) assert.equal(validate.call({ source: 'alsa' }, v, {}), true, JSON.stringify(v));
  for (const v of [1, 10, '100', MIN_LEVEL_PERIOD_MS - 1]) {
    const r = validate.call({ source: 'alsa' }, v, {});
    assert.equal(r, `Level every: expected 0 (off) or at least ${MIN_LEVEL_PERIOD_MS} ms (faster level reports would follow the rhythm of speech; the node reports every ${MIN_LEVEL_PERIOD_MS} ms)`, JSON.stringify(v));
  }
});

test('vigie-camera form: each number as cameraConfigFromNode takes it, and the pairs it refuses (pan, tilt, field of view)', () => {
  const defaults = definitionOf('vigie-camera.html', 'vigie-camera').defaults;
  const base = { id: 'n1', host: '10.0.0.5', lat: 45, lon: 4 };
  const runtimeAccepts = (raw: Record<string, unknown>) => {
    try {
      cameraConfigFromNode({ ...base, ...raw });
      return true;
    } catch {
      return false;
    }
  };
  // each on its own, the others empty (their defaults); a field of a pair is judged with its partner
  // (the form outlines the second of the pair, as the runtime names it)
  const partner: Record<string, string> = { panMinDeg: 'panMaxDeg', panMaxDeg: 'panMinDeg', tiltMinDeg: 'tiltMaxDeg', tiltMaxDeg: 'tiltMinDeg', hfovWideDeg: 'hfovTeleDeg', hfovTeleDeg: 'hfovWideDeg' };
  for (const [key, rule] of Object.entries(CAMERA_SETTINGS)) {
    const other = partner[key];
    // a pair's reason names both fields; the range is the one of the field's own reason
    const pairReason = (r: string) => (/^(Pan range|Tilt range|Field of view): expected /.test(r) && !r.includes(' from ') ? `${r} (from ${rule.min} to ${rule.max})` : r);
    const form = (v: unknown): Result => {
      const r = defaults[key].validate!.call({}, v);
      if (r !== true) return pairReason(String(r));
      if (!other) return r;
      const o = defaults[other].validate!.call({ [key]: v }, '');
      return o === true ? true : pairReason(String(o));
    };
    assertSameAsRuntime(`vigie-camera.${key}`, form, rule, (v) => runtimeAccepts({ [key]: v }));
  }
  const pairs: Array<[string, string, unknown[], unknown[]]> = [
    ['panMinDeg', 'panMaxDeg', [-180, 0, 30, 180, ''], [-180, 20, 30, 31, 180, '']],
    ['tiltMinDeg', 'tiltMaxDeg', [-90, 19, 20, 30, ''], [-90, 20, 21, 30, '']],
    ['hfovWideDeg', 'hfovTeleDeg', [3.3, 30, 60, ''], [3.3, 30, 40, 60, 61, '']],
  ];
  for (const [first, second, firsts, seconds] of pairs) {
    for (const a of firsts) {
      for (const b of seconds) {
        const accepts = runtimeAccepts({ [first]: a, [second]: b });
        const r = defaults[second].validate!.call({ [first]: a }, b);
        assert.equal(r === true && defaults[first].validate!.call({ [second]: b }, a) === true, accepts, `${first} ${JSON.stringify(a)}, ${second} ${JSON.stringify(b)}`);
        if (!accepts) assert.equal(typeof r, 'string');
      }
    }
  }
  // a case met in the editor: a tilt range of 30 … 20
  assert.equal(defaults.tiltMaxDeg.validate!.call({ tiltMinDeg: '20' }, '20'), 'Tilt range: expected two different ends (left 20°), got 20°');
  assert.equal(defaults.tiltMaxDeg.validate!.call({ tiltMinDeg: '20' }, '-90'), true, 'a reversed tilt range (−1 up)');
  assert.equal(defaults.panMaxDeg.validate!.call({ panMinDeg: 10 }, 0), 'Pan range: expected the max (right) more than the min (left, 10°), got 0°');
  assert.equal(defaults.lat.validate!.call({}, ''), 'Latitude: expected a number from -90 to 90°', 'required');
  // the port with HTTPS ticked (empty: 443), as the runtime reads it; the reason says what empty means either way
  assertSameAsRuntime('vigie-camera.port (HTTPS)', (v) => defaults.port.validate!.call({ https: true }, v), CAMERA_SETTINGS.port, (v) => runtimeAccepts({ https: true, port: v }));
  assert.equal(defaults.port.validate!.call({ https: true }, '0'), 'Port: expected a whole number from 1 to 65535 (empty: 80, or 443 with HTTPS)');
  assert.equal(cameraConfigFromNode({ ...base, https: defaults.https.value, port: defaults.port.value }).port, 80, "a new node's port: 80");
  assert.equal(cameraConfigFromNode({ ...base, https: true, port: defaults.port.value }).port, 443, "a new node's port with HTTPS ticked: 443");
  assert.equal(cameraConfigFromNode({ ...base, httpsVerify: defaults.httpsVerify.value }).httpsVerify, true, 'the certificate checked by default');
});

test('vigie-camera form: a Camera id another vigie-camera has is refused, naming it; not the node itself, an ${ENV} id, nor a disabled one', () => {
  const workspace: Record<string, Record<string, unknown>> = {
    tab: { id: 'tab', type: 'tab' },
    sf: { id: 'sf', type: 'subflow', name: 'camera site' },
    i1: { id: 'i1', type: 'subflow:sf', z: 'tab', x: 100, y: 100 },
    a: { id: 'a', type: 'vigie-camera', name: 'Dome A', cameraId: 'dome-1' },
    b: { id: 'b', type: 'vigie-camera', name: 'Dome B', cameraId: ' dome-1 ' },
    unnamed: { id: 'unnamed', type: 'vigie-camera', cameraId: '' },
    off: { id: 'off', type: 'vigie-camera', cameraId: 'dome-off', d: true },
    inSubflow: { id: 'inSubflow', type: 'vigie-camera', z: 'sf', cameraId: '${CAM_ID}' },
    sensor: { id: 'sensor', type: 'vigie-sensor', sensorId: 'dome-2' },
  };
  const validate = editorDefinitions('vigie-camera.html', workspace)['vigie-camera'].defaults.cameraId.validate!;
  // a case met in the editor: the same id typed in two forms (each is refused, naming the other)
  assert.equal(validate.call(workspace.a, 'dome-1'), 'Camera id: "dome-1" is already the Camera id of vigie-camera "Dome B" (node b); expected an id of its own');
  assert.match(String(validate.call(workspace.b, 'dome-1')), /of vigie-camera "Dome A" \(node a\)/);
  // a new camera (not yet in the workspace) typing it
  assert.match(String(validate.call({ id: 'new' }, 'dome-1')), /^Camera id: "dome-1" is already the Camera id of vigie-camera "Dome A"/);
  // an empty id is the node's own: the same as another's typed one
  assert.match(String(validate.call({ id: 'new' }, 'unnamed')), /of vigie-camera \(node unnamed\)/);
  assert.equal(validate.call(workspace.unnamed, ''), true, 'the node itself');
  assert.equal(validate.call({ id: 'new' }, 'dome-3'), true);
  assert.equal(validate.call({ id: 'new' }, 'dome-2'), true, 'a sensor\'s id is no camera\'s');
  assert.equal(validate.call({ id: 'new' }, 'dome-off'), true, 'a disabled camera is not deployed');
  // (a whole ${NAME} is valid for Node-RED without its validator; the one in the subflow conflicts with nothing)
  // a fixed id in a subflow: refused once it has two instances (each copy would take it)
  assert.equal(validate.call({ id: 'new', z: 'sf' }, 'site-cam'), true, 'one instance');
  workspace.i2 = { id: 'i2', type: 'subflow:sf', z: 'tab', x: 100, y: 200 };
  const validate2 = editorDefinitions('vigie-camera.html', workspace)['vigie-camera'].defaults.cameraId.validate!;
  assert.equal(validate2.call({ id: 'new', z: 'sf' }, 'site-cam'), 'Camera id: each of the 2 instances of subflow "camera site" would take "site-cam"; expected an environment variable set per instance, e.g. ${CAM_ID}, or empty');
  assert.equal(validate2.call({ id: 'new', z: 'sf' }, ''), true, 'empty: each copy\'s own node id');
});

test('vigie-camera form: a Camera id and a Snapshot URL as cameraConfigFromNode takes them', () => {
  const defaults = definitionOf('vigie-camera.html', 'vigie-camera').defaults;
  const base = { id: 'n1', host: '10.0.0.5', lat: 45, lon: 4 };
  const runtime = (raw: Record<string, unknown>): true | string => {
    try {
      cameraConfigFromNode({ ...base, ...raw });
      return true;
    } catch (err) {
      return (err as Error).message;
    }
  };
  for (const cameraId of ['dome-1', 'Dome.North_2', 'a'.repeat(64), 'a'.repeat(65), 'Dome north', '-dome', 'cam/1', 'caméra', '']) {
    const form = defaults.cameraId.validate!.call({ id: 'n1' }, cameraId);
    const run = runtime({ cameraId });
    assert.equal(form === true, run === true, `${JSON.stringify(cameraId)}: form ${form}, runtime ${run}`);
    if (run !== true) assert.match(run, /^camera\.cameraId: expected a camera id: 1-64 letters, digits/);
  }
  for (const snapshotUrl of ['', 'http://10.0.0.5/snap.jpg', 'HTTPS://10.0.0.5/snap.jpg', 'rtsp://10.0.0.5/snap', 'rtsps://10.0.0.5/s', 'ftp://10.0.0.5/x', '10.0.0.5/snap.jpg']) {
    const form = defaults.snapshotUrl.validate!.call({}, snapshotUrl);
    const run = runtime({ snapshotUrl });
    assert.equal(form === true, run === true, `${JSON.stringify(snapshotUrl)}: form ${form}, runtime ${run}`);
    if (run !== true) assert.match(run, /^camera\.snapshotUrl: expected an http:\/\/ or https:\/\/ URL/);
  }
  // An rtsp: snapshot was accepted by both, and never fetched (the picture came from the stream).
  assert.notEqual(runtime({ snapshotUrl: 'rtsp://10.0.0.5/snap' }), true);
  // A camera id with a space was refused by the form only.
  assert.notEqual(runtime({ cameraId: 'Dome north' }), true);
  // Empty: the node's own id, however long nested subflows make it.
  const nested = ['a1b2c3d4e5f60718', '0f1e2d3c4b5a6978', '1122334455667788', '99aabbccddeeff00', 'c0ffee00c0ffee00'].join('-');
  assert.equal(cameraConfigFromNode({ ...base, id: nested, cameraId: '' }).id, nested);
});

test('vigie-sensor form: a Sensor id another vigie-sensor has in the same place is refused, naming it; in a subflow\'s template and outside it, allowed', () => {
  const workspace: Record<string, Record<string, unknown>> = {
    sf: { id: 'sf', type: 'subflow', name: 'mast' },
    a: { id: 'a', type: 'vigie-sensor', name: 'Corner', sensorId: 'corner-1' },
    inSubflow: { id: 'inSubflow', type: 'vigie-sensor', name: 'Mast array', z: 'sf', sensorId: 'mast' },
    camera: { id: 'camera', type: 'vigie-camera', cameraId: 'corner-2' },
  };
  const validate = editorDefinitions('vigie-sensor.html', workspace)['vigie-sensor'].defaults.sensorId.validate!;
  // a case met in the editor: a stale unused sensor with the id of the one in use
  assert.equal(validate.call({ id: 'new' }, 'corner-1'), 'Sensor id: "corner-1" is already the Sensor id of vigie-sensor "Corner" (node a); expected an id of its own');
  assert.equal(validate.call(workspace.a, 'corner-1'), true, 'the node itself');
  assert.equal(validate.call({ id: 'new' }, 'corner-2'), true, 'a camera\'s id is no sensor\'s');
  assert.equal(validate.call({ id: 'new' }, 'mast'), true, 'outside the subflow: each instance\'s localizer takes its own first');
  assert.equal(validate.call({ id: 'new', z: 'sf' }, 'corner-1'), true);
  assert.equal(validate.call({ id: 'new', z: 'sf' }, 'mast'), 'Sensor id: "mast" is already the Sensor id of vigie-sensor "Mast array" (node inSubflow, in subflow "mast"); expected an id of its own');
});

test('vigie-camera Host: a host name or address alone (IPv6 bare or in brackets); a URL, user:password@, a port or a path refused by the form and the runtime alike, never repeated', () => {
  const validate = definitionOf('vigie-camera.html', 'vigie-camera').defaults.host.validate!;
  const runtime = (host: string): string | true => {
    try {
      return cameraConfigFromNode({ id: 'n1', host, lat: 45, lon: 4 }).host === host.trim().replace(/^\[(.*)\]$/, '$1') ? true : 'other host';
    } catch (e) {
      return (e as Error).message;
    }
  };
  const accepted = ['192.168.1.64', ' cam-7.street.example ', 'CAM', '::1', 'fe80::1%eth0', '2001:db8::64', '[2001:db8::64]', '[fe80::1%eth0]'];
  // cases met in the editor first: the password would be saved in the flows and shown in ENOTFOUND errors
  const refused = ['admin:s3cret@10.0.0.5', 'admin@10.0.0.5', 'http://10.0.0.5', 'https://10.0.0.5/onvif/device_service', '10.0.0.5/onvif', '10.0.0.5:8080', '[2001:db8::64]:80', '10.0.\t0.5', 'cam 7', '[10.0.0.5]', '', ' '];
  for (const host of accepted) {
    assert.equal(validate.call({}, host), true, `form: ${JSON.stringify(host)}`);
    assert.equal(runtime(host), true, `runtime: ${JSON.stringify(host)}`);
  }
  for (const host of refused) {
    const form = validate.call({}, host);
    assert.equal(form, "Host: expected the camera's host name or IP address alone, e.g. 192.168.1.64 (no scheme, user, password, port or path: the user and password go in the Username and Password fields, the port in Port)", `form: ${JSON.stringify(host)}`);
    assert.equal(runtime(host), `camera.host: expected ${HOST_EXPECTED}`, `runtime: ${JSON.stringify(host)}`);
  }
  assert.equal(cameraConfigFromNode({ id: 'n1', host: '[fe80::1%eth0]', lat: 45, lon: 4 }).host, 'fe80::1%eth0', 'given bare to the ONVIF client (Node looks a bracketed name up in DNS)');
});

test('ptz-steer form: ticked cameras that no longer exist are named; no vigie-camera at all is refused, as the runtime shows both red', () => {
  const workspace: Record<string, Record<string, unknown>> = { camA: { id: 'camA', type: 'vigie-camera', cameraId: 'dome-a' } };
  const validate = editorDefinitions('ptz-steer.html', workspace)['ptz-steer'].defaults.cameras.validate!;
  assert.equal(validate.call({}, []), true, 'none ticked: every camera');
  assert.equal(validate.call({}, ['camA']), true);
  // a case met in the editor: a selection exported without its camera, imported elsewhere
  assert.equal(validate.call({}, ['camA', 'gone-1', 'gone-2']), 'Cameras: missing camera gone-1, gone-2 (deleted, or not imported with this node): untick it, or add the camera again');
  assert.equal(validate.call({}, 'camA,gone-1'), 'Cameras: missing camera gone-1 (deleted, or not imported with this node): untick it, or add the camera again', 'a flow written by hand');
  const none = editorDefinitions('ptz-steer.html', {})['ptz-steer'].defaults.cameras.validate!;
  assert.equal(none.call({}, []), 'Cameras: expected a vigie-camera (none is configured: add one with "Add a camera…")');
});

test('vigie-sensor form: each number as validateSensorInfo takes it', () => {
  const defaults = definitionOf('vigie-sensor.html', 'vigie-sensor').defaults;
  const runtimeAccepts = (raw: Record<string, unknown>) => {
    try {
      validateSensorInfo({ sensorId: 's1', lat: 45, lon: 4, array: 'mono', ...raw });
      return true;
    } catch {
      return false;
    }
  };
  for (const [key, rule] of Object.entries(SENSOR_SETTINGS)) {
    assertSameAsRuntime(`vigie-sensor.${key}`, (v) => defaults[key].validate!.call({}, v), rule, (v) => runtimeAccepts({ [key]: v }));
  }
  for (const id of ['corner-12', 'a', 'x'.repeat(64), 'x'.repeat(65), 'c 2', '-a', 'é', '']) {
    const r = defaults.sensorId.validate!.call({}, id);
    assert.equal(r === true, runtimeAccepts({ sensorId: id }), `sensorId ${JSON.stringify(id)}`);
    if (r !== true) assert.match(String(r), /^Sensor id: expected 1-64 letters, digits, "_", "-" or "\."/);
  }
});

test('vigie-sensor form: the positions field is outlined only when it is not a list of numbers, never for what the runtime accepts', () => {
  const validate = definitionOf('vigie-sensor.html', 'vigie-sensor').defaults.mics.validate!;
  const custom = { array: 'custom' };
  // [layout, is it a list of 2 or 3 numbers per microphone]: spacing, aperture and count are the
  // runtime's to judge (the form shows its answer from POST /vigie/sensor/geometry under the field)
  const cases: Array<[string, unknown, boolean]> = [
    ['square 10 cm', [[0, 0.05, 0], [0.05, 0, 0], [0, -0.05, 0], [-0.05, 0, 0]], true],
    ['2-D points', [[0, 0], [0.1, 0]], true],
    ['one microphone', [[0, 0, 0]], true],
    ['4 mm apart', [[0, 0, 0], [0.004, 0, 0], [0, 0.05, 0]], true],
    ['6 mm apart', [[0, 0, 0], [0.006, 0, 0], [0, 0.05, 0]], true],
    ['apart in height only, 3 mm', [[0, 0, 0], [0, 0, 0.003], [0.05, 0, 0]], true],
    ['aperture 3.2 m, every coordinate within ±3', [[-1.6, 0, 0], [1.6, 0, 0], [0, 0.5, 0]], true],
    ['aperture 2.9 m', [[-1.45, 0, 0], [1.45, 0, 0], [0, 0.5, 0]], true],
    ['far from the origin, small aperture', [[10, 10, 0], [10.1, 10, 0], [10, 10.1, 0]], true],
    ['65 microphones', Array.from({ length: 65 }, (_, i) => [i * 0.01, 0, 0]), true],
    ['a string', [['0', 0, 0], [0.1, 0, 0]], false],
    ['four coordinates', [[0, 0, 0, 0], [0.1, 0, 0]], false],
    ['empty', [], false],
    ['not a list', { x: 0, y: 0 }, false],
  ];
  for (const [name, mics, numbers] of cases) {
    const runtimeAccepts = checkGeometry(mics).errors.length === 0;
    const r = validate.call(custom, JSON.stringify(mics));
    const outlined = r !== true;
    assert.equal(outlined, !numbers, `${name}: ${numbers ? 'a list of numbers, not outlined' : 'outlined'}`);
    if (outlined) assert.match(String(r), /^Mic positions: expected a JSON list of \[x, y, z\]/);
    if (runtimeAccepts) assert.equal(outlined, false, `${name}: the runtime accepts it, the form does not outline it`);
  }
  assert.match(String(validate.call(custom, '[[0,0,0],')), /^Mic positions: .*\(this is not JSON\)$/);
  assert.equal(validate.call({ array: 'square-4' }, '[[0,0,0],'), true, 'a preset ignores the custom field');
});

test('acoustic-classifier form: a per-class threshold outside 0.01 to 1 is refused for a ticked class, as at runtime', () => {
  const validate = definitionOf('acoustic-classifier.html', 'acoustic-classifier').defaults.thresholds.validate!;
  const { min, max } = SETTING_RANGES.threshold; // what the node accepts per class and as the default
  const runtimeAccepts = (t: unknown) => settingAccepts(t, SETTING_RANGES.threshold);
  const ticked = { labels: ['gunshot', 'scream'] };
  for (const t of [0.005, 0.0099, 0.01, 0.5, 1, 1.01, 0, 5, 'abc', '']) {
    const r = validate.call(ticked, { gunshot: t });
    assert.equal(r === true, runtimeAccepts(t), `threshold ${t}`);
    if (r !== true) assert.equal(r, `Threshold of Gunshot: expected a number from ${min} to ${max} (empty: the threshold shown in grey)`);
  }
  // a case met in the editor: 5 for a ticked class
  assert.match(String(validate.call(ticked, { scream: 5 })), /^Threshold of Scream: expected a number from 0\.01 to 1/);
  // an unticked class is not read by the runtime, nor refused here
  assert.equal(validate.call(ticked, { crash: 5 }), true);
  assert.equal(validate.call(ticked, {}), true, 'no per-class threshold');
  assert.equal(definitionOf('acoustic-classifier.html', 'acoustic-classifier').defaults.labels.validate!.call({}, []), 'Alert on: expected at least one class ticked');
});

test('vigie-model form: any model file name, as the runtime loads it; its card chosen instead is refused, naming what to choose', () => {
  const validate = definitionOf('vigie-model.html', 'vigie-model').defaults.path.validate!;
  for (const ok of ['', 'models/street.onnx', '/srv/models/Street.ONNX', 'models/street.ort']) assert.equal(validate.call({}, ok), true, ok);
  assert.equal(validate.call({}, 'models/street.json'), 'ONNX file: expected the ONNX model, not its model card (.json) (empty: the model shipped with Vigie)');
});

test('a password in a URL: refused by the vigie-camera form (stream, snapshot) and the mic-capture form (ffmpeg URL), in the same words', () => {
  const camera = definitionOf('vigie-camera.html', 'vigie-camera').defaults;
  const mic = definitionOf('mic-capture.html', 'mic-capture').defaults;
  const urls = ['', 'rtsp://10.0.0.5/stream1', 'rtsp://viewer@10.0.0.5:554/stream1', 'rtsp://op:s3cret@10.0.0.5/stream1', 'http://op:@10.0.0.5/snap.jpg', 'https://10.0.0.5/snap.jpg?user=op', 'ftp://10.0.0.5/x'];
  const reasons = new Set<string>();
  for (const [label, validate] of [['Stream URL', camera.streamUrl.validate!], ['Snapshot URL', camera.snapshotUrl.validate!], ['URL', mic.url.validate!]] as const) {
    for (const url of urls) {
      const isMic = label === 'URL';
      // the camera's stream takes only rtsp(s)/http(s) URLs (or none), its snapshot http(s) only; ffmpeg takes any input, but not none
      const wellFormed = isMic ? url !== '' : url === '' || (label === 'Snapshot URL' ? /^https?:\/\//i.test(url) : /^(rtsp|rtsps|http|https):\/\//i.test(url));
      const expected = wellFormed && !(url && hasPassword(url));
      const r = validate.call({ source: 'ffmpeg' }, url);
      assert.equal(r === true, expected, `${label} ${JSON.stringify(url)}`);
      if (wellFormed && r !== true) {
        assert.ok(String(r).startsWith(`${label}: `), String(r));
        reasons.add(String(r).slice(label.length));
      }
    }
  }
  assert.deepEqual([...reasons], [': expected no password in the URL (it would be saved in plain text in the flows); put the user and password in the user and password fields of this form']);
  assert.equal(mic.url.validate!.call({ source: 'wav' }, 'rtsp://op:s3cret@10.0.0.5/stream1'), true, 'another source does not read the URL');
});

test('mic-capture form: an ffmpeg URL is refused exactly when the runtime refuses it (standard input, a protocol ffmpeg lacks), in its words', () => {
  const validate = definitionOf('mic-capture.html', 'mic-capture').defaults.url.validate!;
  const known = [...FFMPEG_INPUT_PROTOCOLS.network, ...FFMPEG_INPUT_PROTOCOLS.local, ...FFMPEG_INPUT_PROTOCOLS.process];
  const urls = [
    ...known.flatMap((p) => [`${p}://cam/1`, `${p.toUpperCase()}:x`]),
    '-', 'pipe:', 'pipe:0', 'fd:3', 'rstp://cam/1', 'htps://cam/a.mp3', 'rtspx://cam/1', 'a:b.wav', 'clips/10:00.wav', '/srv/a:b.wav', 'x.wav', 'C:/clips/x.wav', ' rtsp://cam/1 ',
  ];
  let refused = 0;
  for (const url of urls) {
    const runtime = ffmpegInputProblem(url.trim());
    const form = validate.call({ source: 'ffmpeg' }, url);
    assert.equal(form === true, runtime === undefined, `${JSON.stringify(url)}: form ${String(form)}, runtime ${runtime}`);
    if (runtime) {
      refused++;
      // the same reason, but for the runtime's echo of the URL after "no protocol"
      assert.equal(String(form).replace(/^URL: /, 'url: '), runtime.replace(/ \(in "[^"]*"\)$/, ''), url);
    }
  }
  assert.equal(refused, 11, 'standard input 8 (-, pipe:, pipe:0, fd:3, pipe://…, PIPE:x, fd://…, FD:x) and 3 mistyped protocols');
});

test('cases met in the editor: the alert dashboard refuses "Keep for -1", "at most 5 alerts" and "0 MB", saying the range', () => {
  const d = definitionOf('alert-dashboard.html', 'alert-dashboard').defaults;
  assert.equal(d.alertRetentionDays.validate!.call({}, '-1'), 'Keep for: expected a number from 0.01 to 3650 days (empty: 7)');
  assert.equal(d.maxAlerts.validate!.call({}, '5'), 'At most: expected a whole number from 10 to 100000 alerts (empty: 500)');
  assert.equal(d.auditRotateMB.validate!.call({}, '0'), 'New file at: expected a number from 0.01 to 1024 MB (empty: 10)');
  // the site origin: both or neither, the empty one is outlined
  assert.equal(d.siteLat.validate!.call({ siteLon: '' }, ''), true);
  assert.equal(d.siteLat.validate!.call({ siteLon: '4.38' }, '45.43'), true);
  assert.equal(d.siteLat.validate!.call({ siteLon: '4.38' }, ''), 'Site origin latitude: expected a number with the longitude, or both empty');
  assert.equal(d.siteLon.validate!.call({ siteLat: '' }, '4.38'), true, 'the empty latitude is the one outlined');
  assert.equal(d.siteLat.validate!.call({ siteLon: '4.38' }, '95'), 'Site origin latitude: expected a number from -90 to 90°, or empty (no site origin)');
  for (const [lat, lon] of [['', ''], ['45', '4'], ['95', '4'], ['45', '']]) {
    const runtime = [['siteLat', lat, DASHBOARD_SETTINGS.siteLat], ['siteLon', lon, DASHBOARD_SETTINGS.siteLon]].every(([, v, rule]) => settingAccepts(v, rule as Rule));
    const form = d.siteLat.validate!.call({ siteLon: lon }, lat) === true && d.siteLon.validate!.call({ siteLat: lat }, lon) === true;
    // the runtime takes a lone coordinate and ignores it; the form asks for both
    if (form) assert.ok(runtime, `${lat}, ${lon}: the form accepts what the runtime refuses`);
  }
});

test('cases met in the editor: mic-capture Block 10 to 2000 ms, Ring 0.5 to 30 s; video-forward Max relays 1 to 64', () => {
  const mic = definitionOf('mic-capture.html', 'mic-capture').defaults;
  assert.equal(mic.blockMs.validate!.call({}, '5'), 'Block: expected a whole number from 10 to 2000 ms (empty: 100)');
  assert.equal(mic.ringSeconds.validate!.call({}, '60'), 'Ring: expected a number from 0.5 to 30 s (empty: 5)');
  assert.equal(mic.channelMap.validate!.call({ source: 'alsa', channels: '2' }, '0,5'), 'Channel map: channel 5 does not exist: the source has 2 channels, 0 to 1');
  assert.equal(mic.channelMap.validate!.call({ source: 'wav', channels: '2' }, '0,5'), true, 'a WAV file: its channels are known at runtime only');
  // Channels left empty is one channel at runtime: a map naming channel 1 is refused on deploy, so here too.
  assert.equal(mic.channelMap.validate!.call({ source: 'ffmpeg', channels: '' }, '0,1'), 'Channel map: channel 1 does not exist: the source has 1 channel, 0 to 0');
  assert.equal(mic.channelMap.validate!.call({ source: 'alsa', channels: '' }, '0'), true);
  assert.match(String(mic.channelMap.validate!.call({}, '0;1')), /^Channel map: expected channel numbers from 0, comma-separated/);
  assert.equal(mic.sensor.validate!.call({}, ''), 'Sensor: expected a vigie-sensor (choose one, or add one with +)');
  assert.equal(mic.sensor.validate!.call({}, 'sensor-bad'), 'Sensor: the chosen vigie-sensor has invalid properties (edit it with the pencil)');
  assert.equal(mic.sensor.validate!.call({}, 'sensor-ok'), true);
  const vf = definitionOf('video-forward.html', 'video-forward').defaults;
  assert.equal(vf.maxRelays.validate!.call({}, '65'), 'Max relays: expected a whole number from 1 to 64 ffmpeg processes (empty: 4)');
});

test('vigie-outbox form: its defaults are the runtime defaults', () => {
  const defaults = definitionOf('vigie-outbox.html', 'vigie-outbox').defaults;
  assert.equal(defaults.maxMessages.value, DEFAULT_MAX_MESSAGES);
  assert.equal(defaults.maxAgeS.value, DEFAULT_MAX_AGE_S);
});

test('the shipped flows open without a red field: every property of every Vigie node passes its form\'s validator', () => {
  const flowsDir = path.join(repoRoot, 'flows');
  let checked = 0;
  for (const f of fs.readdirSync(flowsDir).filter((x) => x.endsWith('.json'))) {
    const flow = JSON.parse(fs.readFileSync(path.join(flowsDir, f), 'utf8')) as Array<Record<string, unknown> & { id: string; type: string }>;
    const byId = Object.fromEntries(flow.map((n) => [n.id, n]));
    const types: Record<string, Definition> = {};
    for (const file of FORMS) Object.assign(types, editorDefinitions(file, byId));
    for (const n of flow) {
      const def = types[n.type];
      if (!def) continue;
      for (const [key, p] of Object.entries(def.defaults)) {
        const v = n[key] === undefined ? p.value : n[key];
        // Node-RED takes a whole $(NAME) or ${NAME} reference for valid without asking the validator
        if (!p.validate || (typeof v === 'string' && /^\$(\([A-Za-z_]\w*\)|\{[A-Za-z_]\w*\})$/.test(v))) continue;
        checked++;
        assert.equal(p.validate.call(n, v, {}), true, `${f}: ${n.type} ${n.id}.${key} = ${JSON.stringify(v)}`);
      }
    }
  }
  assert.ok(checked > 100, `properties checked: ${checked}`);
});

test('every node with ports names them: inputLabels for its input, outputLabels for its outputs (shown over a port in the editor)', () => {
  let nodes = 0;
  for (const file of FORMS) {
    for (const [type, def] of Object.entries(editorDefinitions(file)) as Array<[string, Definition & { inputs?: number; outputs?: number; inputLabels?: unknown; outputLabels?: unknown }]>) {
      if (!def.inputs && !def.outputs) continue; // a config node
      nodes++;
      if (def.inputs) assert.ok(typeof def.inputLabels === 'string' && def.inputLabels !== '', `${type}: inputLabels`);
      if (def.outputs) {
        const labels = Array.isArray(def.outputLabels) ? def.outputLabels : [def.outputLabels];
        assert.ok(labels.length >= (Array.isArray(def.outputLabels) ? def.outputs : 1) && labels.every((l) => typeof l === 'string' && l !== ''), `${type}: outputLabels for its ${def.outputs} output(s)`);
      }
    }
  }
  assert.ok(nodes >= 7, `nodes with ports: ${nodes}`);
});
