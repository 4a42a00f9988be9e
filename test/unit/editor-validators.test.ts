/**
 * The editor forms' validators (nodes/*.html, run as the editor runs them, with a minimal RED)
 * refuse what the runtime refuses: custom microphone positions that are not a list of numbers (never what
 * lib/localize/arrays.ts accepts; the rest the form asks the runtime, see test/nodes/vigie-sensor.test.ts),
 * per-class thresholds (SETTING_RANGES in lib/detect/detector.ts, as nodes/acoustic-classifier.ts applies them),
 * the outbox's bounds (OUTBOX_SETTING_RANGES in lib/util/outbox.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import * as vm from 'vm';
import { checkGeometry } from '../../lib/localize/arrays';
import { SETTING_RANGES } from '../../lib/detect/detector';
import { hasPassword } from '../../lib/util/url-credentials';
import { DEFAULT_MAX_AGE_S, DEFAULT_MAX_MESSAGES, OUTBOX_SETTING_RANGES } from '../../lib/util/outbox';
import { repoRoot } from '../support/nodered';

type Validate = (this: Record<string, unknown>, v: unknown) => boolean;
type Definition = { defaults: Record<string, { value?: unknown; validate?: Validate }> };

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

test('vigie-sensor form: the positions field is outlined only when it is not a list of numbers, never for what the runtime accepts', () => {
  const validate = editorDefinitions('vigie-sensor.html')['vigie-sensor'].defaults.mics.validate!;
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
    const outlined = !validate.call(custom, JSON.stringify(mics));
    assert.equal(outlined, !numbers, `${name}: ${numbers ? 'a list of numbers, not outlined' : 'outlined'}`);
    if (runtimeAccepts) assert.equal(outlined, false, `${name}: the runtime accepts it, the form does not outline it`);
  }
  assert.equal(validate.call(custom, '[[0,0,0],'), false, 'not JSON');
  assert.equal(validate.call({ array: 'square-4' }, '[[0,0,0],'), true, 'a preset ignores the custom field');
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
