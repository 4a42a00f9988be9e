/**
 * The vigie commands' option parsing (lib/cli/args.ts): `--name=value` keeps every '=' of the
 * value; a flag given a value is refused rather than read as "on"; a stray word or a single-dash
 * option is refused (a usage error) rather than ignored.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'path';
import { parseArgs } from '../../lib/cli/args';
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
