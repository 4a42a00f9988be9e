/**
 * The editor forms' validators (nodes/*.html, run as the editor runs them, with a minimal RED)
 * refuse what the runtime refuses: custom microphone positions (lib/localize/arrays.ts; the form also
 * warns of front/back ambiguity where the runtime warns) and
 * per-class thresholds (SETTING_RANGES in lib/detect/detector.ts, as nodes/acoustic-classifier.ts applies them),
 * the outbox's bounds (OUTBOX_SETTING_RANGES in lib/util/outbox.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import * as vm from 'vm';
import { checkGeometry, MAX_APERTURE_M, MIN_MIC_SPACING_M } from '../../lib/localize/arrays';
import { SETTING_RANGES } from '../../lib/detect/detector';
import { hasPassword } from '../../lib/util/url-credentials';
import { DEFAULT_MAX_AGE_S, DEFAULT_MAX_MESSAGES, OUTBOX_SETTING_RANGES } from '../../lib/util/outbox';
import { repoRoot } from '../support/nodered';

type Validate = (this: Record<string, unknown>, v: unknown) => boolean;
type Definition = { defaults: Record<string, { value?: unknown; validate?: Validate }>; micsWarning?: (v: string) => string };

/** Runs a form's editor script; returns what it registers, by node type. */
function editorDefinitions(file: string): Record<string, Definition> {
  const html = fs.readFileSync(path.join(repoRoot, 'nodes', file), 'utf8');
  const scripts = [...html.matchAll(/<script type="text\/javascript">([\s\S]*?)<\/script>/g)].map((m) => m[1]);
  assert.ok(scripts.length > 0, `${file} has an editor script`);
  const registered: Record<string, Definition> = {};
  const RED = {
    nodes: { registerType: (type: string, def: Definition) => void (registered[type] = def) },
    validators: { regex: (re: RegExp) => (v: unknown) => re.test(String(v)), number: () => (v: unknown) => Number.isFinite(Number(v)) },
  };
  // No form open: field lookups find nothing, so validators read the node's own properties.
  const $ = () => ({ length: 0, val: () => undefined });
  for (const s of scripts) vm.runInNewContext(s, { RED, $ });
  return registered;
}

test('vigie-sensor form: its microphone limits are the runtime constants', () => {
  const html = fs.readFileSync(path.join(repoRoot, 'nodes', 'vigie-sensor.html'), 'utf8');
  assert.equal(Number(/var MIN_MIC_SPACING_M = ([\d.]+);/.exec(html)?.[1]), MIN_MIC_SPACING_M);
  assert.equal(Number(/var MAX_APERTURE_M = ([\d.]+);/.exec(html)?.[1]), MAX_APERTURE_M);
});

test('vigie-sensor form: custom microphone positions are refused exactly when the runtime refuses them', () => {
  const validate = editorDefinitions('vigie-sensor.html')['vigie-sensor'].defaults.mics.validate!;
  const custom = { array: 'custom' };
  const cases: Array<[string, unknown]> = [
    ['square 10 cm', [[0, 0.05, 0], [0.05, 0, 0], [0, -0.05, 0], [-0.05, 0, 0]]],
    ['2-D points', [[0, 0], [0.1, 0]]],
    ['one microphone', [[0, 0, 0]]],
    ['4 mm apart', [[0, 0, 0], [0.004, 0, 0], [0, 0.05, 0]]],
    ['6 mm apart', [[0, 0, 0], [0.006, 0, 0], [0, 0.05, 0]]],
    ['apart in height only, 3 mm', [[0, 0, 0], [0, 0, 0.003], [0.05, 0, 0]]],
    ['aperture 3.2 m, every coordinate within ±3', [[-1.6, 0, 0], [1.6, 0, 0], [0, 0.5, 0]]],
    ['aperture 2.9 m', [[-1.45, 0, 0], [1.45, 0, 0], [0, 0.5, 0]]],
    ['far from the origin, small aperture', [[10, 10, 0], [10.1, 10, 0], [10, 10.1, 0]]],
    ['a string', [['0', 0, 0], [0.1, 0, 0]]],
    ['four coordinates', [[0, 0, 0, 0], [0.1, 0, 0]]],
    ['empty', []],
    ['65 microphones', Array.from({ length: 65 }, (_, i) => [i * 0.01, 0, 0])],
  ];
  for (const [name, mics] of cases) {
    const runtime = checkGeometry(mics).errors.length === 0;
    assert.equal(validate.call(custom, JSON.stringify(mics)), runtime, `${name}: the editor says what the runtime says (${runtime ? 'accepted' : 'refused'})`);
  }
  assert.equal(validate.call(custom, '[[0,0,0],'), false, 'not JSON');
  assert.equal(validate.call({ array: 'square-4' }, '[[0,0,0],[0.001,0,0]]'), true, 'a preset ignores the custom field');
});

test('vigie-sensor form: it warns of front/back ambiguity exactly when the runtime does, in its words', () => {
  const micsWarning = editorDefinitions('vigie-sensor.html')['vigie-sensor'].micsWarning!;
  const cases: Array<[string, number[][]]> = [
    ['on the x axis', [[0, 0, 0], [0.05, 0, 0], [0.1, 0, 0], [0.15, 0, 0]]],
    ['on a diagonal, out of order', [[0.1, 0.1, 0], [0, 0, 0], [0.05, 0.05, 0], [-0.03, -0.03, 0]]],
    ['on a line seen from above, apart in height', [[0, 0, 0], [0.05, 0, 0.05], [0.1, 0, 0]]],
    // the line runs through the first microphone more than 5 mm from the first in plan, not the second
    ['on a line, the second 0.5 mm from the first in plan, 10 mm above', [[0, 0, 0], [0, 0.0005, 0.01], [0.1, 0, 0], [0.2, 0, 0]]],
    ['last one 0.9 mm off the line', [[0, 0, 0], [0.1, 0, 0], [0.05, 0.0009, 0]]],
    ['last one 1.1 mm off the line', [[0, 0, 0], [0.1, 0, 0], [0.05, 0.0011, 0]]],
    ['square 10 cm', [[0, 0.05, 0], [0.05, 0, 0], [0, -0.05, 0], [-0.05, 0, 0]]],
    ['triangle', [[0, 0, 0], [0.1, 0, 0], [0.05, 0.08, 0]]],
    ['two microphones', [[0, 0, 0], [0.1, 0, 0]]],
    ['two microphones, 2-D', [[0, 0], [0, 0.1]]],
    ['one microphone', [[0, 0, 0]]],
    // refused: the field is marked invalid instead, and deploy logs the error, not the warning
    ['on a line, 4 mm apart', [[0, 0, 0], [0.004, 0, 0], [0.1, 0, 0]]],
    ['on a line, aperture 3.2 m', [[-1.6, 0, 0], [0, 0, 0], [1.6, 0, 0]]],
  ];
  const warned = new Set<string>();
  for (const [name, mics] of cases) {
    const check = checkGeometry(mics, 'mics');
    const runtime = check.errors.length ? [] : check.warnings.map((w) => w.replace(/^mics: /, ''));
    const form = micsWarning(JSON.stringify(mics));
    assert.deepEqual(form ? [form] : [], runtime, `${name}: the form warns as the runtime does`);
    if (form) warned.add(name);
  }
  // the cases test what they say they test
  assert.deepEqual([...warned].sort(), [
    'last one 0.9 mm off the line', 'on a diagonal, out of order', 'on a line seen from above, apart in height',
    'on a line, the second 0.5 mm from the first in plan, 10 mm above', 'on the x axis', 'two microphones', 'two microphones, 2-D',
  ].sort());
  assert.equal(micsWarning('[[0,0,0],[0.1,0,0],'), '', 'not JSON: no warning');
});

test('acoustic-classifier form: a per-class threshold below 0.01 is refused, as at runtime', () => {
  const validate = editorDefinitions('acoustic-classifier.html')['acoustic-classifier'].defaults.thresholds.validate!;
  const { min, max } = SETTING_RANGES.threshold; // what the node accepts per class and as the default
  const runtimeAccepts = (t: number) => t >= min && t <= max;
  for (const t of [0.005, 0.0099, 0.01, 0.5, 1, 1.01, 0]) {
    assert.equal(validate.call({}, { gunshot: t }), runtimeAccepts(t), `threshold ${t}`);
  }
  assert.equal(validate.call({}, { gunshot: 0.005 }), false);
  assert.equal(validate.call({}, {}), true, 'no per-class threshold');
});

test('vigie-camera form: a stream or snapshot URL carrying a password is refused, as the runtime warns (hasPassword)', () => {
  const defaults = editorDefinitions('vigie-camera.html')['vigie-camera'].defaults;
  const urls = ['', 'rtsp://10.0.0.5/stream1', 'rtsp://viewer@10.0.0.5:554/stream1', 'rtsp://op:s3cret@10.0.0.5/stream1', 'http://op:@10.0.0.5/snap.jpg', 'https://10.0.0.5/snap.jpg?user=op', 'ftp://10.0.0.5/x'];
  for (const field of ['streamUrl', 'snapshotUrl']) {
    for (const url of urls) {
      const wellFormed = url === '' || /^(rtsp|rtsps|http|https):\/\//.test(url);
      const expected = wellFormed && !(url && hasPassword(url));
      assert.equal(defaults[field].validate!.call({}, url), expected, `${field} ${JSON.stringify(url)}`);
    }
  }
});

test('vigie-outbox form: its bounds are the runtime ranges, integers only, empty for the default', () => {
  const defaults = editorDefinitions('vigie-outbox.html')['vigie-outbox'].defaults;
  assert.equal(defaults.maxMessages.value, DEFAULT_MAX_MESSAGES);
  assert.equal(defaults.maxAgeS.value, DEFAULT_MAX_AGE_S);
  for (const key of ['maxMessages', 'maxAgeS'] as const) {
    const validate = defaults[key].validate!.bind({});
    const { min, max } = OUTBOX_SETTING_RANGES[key];
    for (const ok of [min, max, String(max), '']) assert.equal(validate(ok), true, `${key} ${JSON.stringify(ok)}`);
    for (const bad of [min - 1, max + 1, min + 0.5, 'soon', ' ']) assert.equal(validate(bad), false, `${key} ${JSON.stringify(bad)}`);
  }
});
