import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ContractError, settingInRange, settingsReader } from '../../lib/util/validate';

test('settingInRange: an empty setting takes the default; a value in range is taken, as a number or as the editor\'s text', () => {
  for (const empty of [undefined, null, '', '  ']) assert.equal(settingInRange(empty, 'setting x', { min: 0, max: 10 }, 3), 3);
  assert.equal(settingInRange(undefined, 'calibrationDb', { min: 0, max: 200 }, undefined), undefined);
  assert.equal(settingInRange(7, 'setting x', { min: 0, max: 10 }, 3), 7);
  assert.equal(settingInRange('2.5', 'setting x', { min: 0, max: 10 }, 3), 2.5);
  assert.equal(settingInRange(' 10 ', 'setting x', { min: 0, max: 10, integer: true }, 3), 10);
  assert.equal(settingInRange(0, 'setting x', { min: 0, max: 10 }, 3), 0, '0 is a value, not empty');
});

test('settingInRange: anything else is a ContractError naming the field, the range and what it got', () => {
  const cases: Array<[unknown, { min: number; max: number; integer?: boolean }, RegExp]> = [
    [11, { min: 0, max: 10 }, /^setting x: expected a number from 0 to 10, got 11$/],
    [-1, { min: 0, max: 10 }, /got -1$/],
    ['abc', { min: 0, max: 10 }, /^setting x: expected a number from 0 to 10, got "abc"$/],
    [2.5, { min: 0, max: 10, integer: true }, /^setting x: expected an integer from 0 to 10, got 2\.5$/],
    [NaN, { min: 0, max: 10 }, /got NaN$/],
    [Infinity, { min: 0, max: Infinity }, /expected a number/],
    [true, { min: 0, max: 10 }, /got a boolean$/],
    [[5], { min: 0, max: 10 }, /got an array of 1$/],
  ];
  for (const [v, rule, re] of cases) {
    assert.throws(() => settingInRange(v, 'setting x', rule, 3), (err: unknown) => err instanceof ContractError && err.field === 'setting x' && re.test(err.message), `value ${String(v)}`);
  }
});

test('settingsReader: each key read by settingInRange with its rule and default, the field named "setting <key>" unless told', () => {
  const RULES = {
    hopMs: { min: 10, max: 2000, integer: true, default: 100 },
    gainDb: { min: 0, max: 60 },
    lat: { min: -90, max: 90, default: undefined },
  } as const;
  const setting = settingsReader({ hopMs: '250', gainDb: '' }, RULES);
  assert.equal(setting('hopMs'), 250);
  assert.equal(setting('gainDb'), undefined, 'no default: undefined, for the reader to choose');
  assert.equal(settingsReader({}, RULES)('hopMs'), 100, 'empty: the default');
  assert.throws(
    () => settingsReader({ hopMs: 2.5 }, RULES)('hopMs'),
    (err: unknown) => err instanceof ContractError && err.field === 'setting hopMs' && err.message === 'setting hopMs: expected an integer from 10 to 2000, got 2.5',
  );
  assert.throws(() => settingsReader({ gainDb: 'loud' }, RULES, { prefix: 'mic.' })('gainDb'), /^ContractError: mic\.gainDb: expected a number from 0 to 60, got "loud"$/);
  // required: a rule without a default left empty is refused, naming the field and the range
  const required = settingsReader({ lat: '' }, RULES, { prefix: '', withoutDefault: 'required' });
  assert.throws(() => required('lat'), (err: unknown) => err instanceof ContractError && err.message === 'lat: expected a number from -90 to 90, got ""');
  assert.throws(() => settingsReader({}, RULES, { prefix: '', withoutDefault: 'required' })('lat'), /^ContractError: lat: expected a number from -90 to 90$/);
  assert.equal(required('hopMs'), 100, 'a rule with a default still takes it');
});

test('settingsReader with onRefused: a value it cannot use is told (field, range, value, the default used) and the default applies', () => {
  const told: string[] = [];
  const setting = settingsReader({ hopMs: '5000', lat: 'north' }, { hopMs: { min: 10, max: 2000, default: 500 }, lat: { min: -90, max: 90, default: NaN } }, { onRefused: (t) => told.push(t) });
  assert.equal(setting('hopMs'), 500);
  assert.ok(Number.isNaN(setting('lat')));
  assert.equal(told.length, 2);
  assert.match(told[0], /^setting hopMs: expected a number from 10 to 2000, got "5000"; using 500$/);
  assert.match(told[1], /^setting lat: .*; using none$/);
});
