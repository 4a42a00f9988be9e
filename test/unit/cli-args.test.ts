/**
 * The vigie commands' option parsing (lib/cli/args.ts): `--name=value` keeps every '=' of the
 * value; a flag given a value is refused rather than read as "on"; a stray word or a single-dash
 * option is refused (a usage error) rather than ignored.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'path';
import { numberOption, parseArgs, PORT_RULE } from '../../lib/cli/args';
import { parseStartArgs } from '../../lib/cli/start';
import { UsageError } from '../../lib/cli/usage';

const spec = { strings: ['user-dir', 'password'], booleans: ['reset-flow'], usage: 'vigie x [--user-dir DIR] [--password P] [--reset-flow]' };

test('--name=value is split at the first "=" only: the value keeps its own', () => {
  assert.equal(parseArgs(['--password=abc=='], spec).strings.password, 'abc==');
  assert.equal(parseArgs(['--user-dir=/tmp/a=b'], spec).strings['user-dir'], '/tmp/a=b');
  assert.equal(parseArgs(['--password='], spec).strings.password, '', 'an empty inline value is a value');
  assert.equal(parseArgs(['--password', 'x=y'], spec).strings.password, 'x=y');
  assert.equal(parseStartArgs(['--user-dir=/tmp/a=b']).userDir, path.resolve('/tmp/a=b'));
});

test('a flag given an inline value is refused, whatever the value: --reset-flow=false does not reset', () => {
  for (const a of ['--reset-flow=false', '--reset-flow=true', '--reset-flow=']) {
    assert.throws(() => parseArgs([a], spec), /^UsageError: --reset-flow takes no value \(got "--reset-flow=[a-z]*"\)[^]*\nusage: vigie x /, a);
  }
  assert.throws(() => parseStartArgs(['--user-dir', 'x', '--reset-flow=false']), /--reset-flow takes no value/);
  assert.equal(parseArgs(['--reset-flow'], spec).booleans['reset-flow'], true);
  assert.equal(parseArgs([], spec).booleans['reset-flow'], false);
});

test('a word that is not an option nor its value is refused, with a hint when the command gives one', () => {
  assert.throws(() => parseArgs(['--user-dir', 'x', 'extra'], spec), (err: Error) => err instanceof UsageError && /^unexpected argument "extra"\nusage: vigie x /.test(err.message));
  const hinted = { ...spec, hint: (w: string) => (w === 'gw' ? '--flow gw' : undefined) };
  assert.throws(() => parseArgs(['gw'], hinted), /^UsageError: unexpected argument "gw"; did you mean --flow gw\?\nusage: /);
  assert.throws(() => parseArgs(['-30'], spec), /unexpected argument "-30"/, 'a negative number is not an option');
  assert.equal(parseArgs(['--password', '-30'], spec).strings.password, '-30', 'but may be a value');
});

test('a single-dash option is refused, naming the two-dash option it looks like', () => {
  assert.throws(() => parseArgs(['-user-dir', 'x'], spec), /^UsageError: unknown option -user-dir: options take two dashes; did you mean --user-dir\?\nusage: /);
  assert.throws(() => parseArgs(['-p', 'x'], spec), /^UsageError: unknown option -p: options take two dashes; did you mean --password\?/);
  assert.throws(() => parseArgs(['-z'], spec), /^UsageError: unknown option -z: options take two dashes\nusage: /);
});

test('vigie start: the flow given as a word is refused with the option to use; -p and -flow too', () => {
  assert.throws(() => parseStartArgs(['gateway', '--user-dir', 'x']), (err: Error) => err instanceof UsageError && /^unexpected argument "gateway"; did you mean --flow gateway\?/.test(err.message));
  assert.throws(() => parseStartArgs(['--user-dir', 'x', 'my-flow.json']), /did you mean --flow my-flow\.json\?/);
  assert.throws(() => parseStartArgs(['--user-dir', 'x', 'now']), /^UsageError: unexpected argument "now"\nusage: vigie start /);
  assert.throws(() => parseStartArgs(['--user-dir', 'x', '-p', '1911']), /unknown option -p: options take two dashes; did you mean --port\?/);
  assert.throws(() => parseStartArgs(['--user-dir', 'x', '-flow', 'gateway']), /unknown option -flow: options take two dashes; did you mean --flow\?/);
});

test('numberOption: a value out of its rule is a usage error naming the option, what it expects and what was given', () => {
  const usage = 'vigie x [--n N]';
  const value = (v: string | undefined, rule: Parameters<typeof numberOption>[2]) => numberOption({ strings: { n: v }, booleans: {} }, 'n', rule, usage);
  assert.equal(value(undefined, { min: 0 }), undefined, 'not given: undefined, for the default');
  assert.equal(value('0', { min: 0, max: 1 }), 0, 'the bounds are inclusive');
  assert.equal(value('1', { min: 0, max: 1 }), 1);
  assert.equal(value('1e-3', { above: 0 }), 0.001);
  const refused: Array<[string, Parameters<typeof numberOption>[2], string]> = [
    ['0', { above: 0, unit: 'seconds' }, 'a number of seconds above 0'],
    ['-5', { above: 0, max: 10 }, 'a number above 0, at most 10'],
    ['-3', { min: 0, unit: 'ms' }, 'a number of ms of at least 0'],
    ['11', { min: 0, max: 10 }, 'a number from 0 to 10'],
    ['1.5', { integer: true, min: 0, max: 9 }, 'a whole number from 0 to 9'],
    ['', { min: 0 }, 'a number of at least 0'],
    [' ', { min: 0 }, 'a number of at least 0'],
    ['Infinity', {}, 'a number'],
    ['3 s', { above: 0 }, 'a number above 0'],
    ['80.5', PORT_RULE, 'a TCP port from 0 to 65535'],
  ];
  for (const [v, rule, expected] of refused) {
    assert.throws(
      () => value(v, rule),
      (err: Error) => err instanceof UsageError && err.message === `--n: expected ${expected}, got ${JSON.stringify(v)}\nusage: ${usage}`,
      `${JSON.stringify(v)} against ${JSON.stringify(rule)}`,
    );
  }
});

test('vigie start: a blank --port or --broker-port is refused, not taken as 0 (any free port)', () => {
  assert.throws(() => parseStartArgs(['--user-dir', 'x', '--port=']), /^UsageError: --port: expected a TCP port from 0 to 65535, got ""\nusage: vigie start /);
  assert.throws(() => parseStartArgs(['--user-dir', 'x', '--broker-port', '1883.5']), /^UsageError: --broker-port: expected a TCP port from 0 to 65535, got "1883\.5"/);
  assert.equal(parseStartArgs(['--user-dir', 'x', '--port', '0']).port, 0);
});
