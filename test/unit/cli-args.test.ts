/**
 * The vigie commands' option parsing (lib/cli/args.ts): `--name=value` keeps every '=' of the
 * value; a flag given a value is refused rather than read as "on".
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'path';
import { parseArgs } from '../../lib/cli/args';
import { parseStartArgs } from '../../lib/cli/start';

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
    assert.throws(() => parseArgs([a], spec), /^Error: --reset-flow takes no value \(got "--reset-flow=[a-z]*"\)[^]*\nusage: vigie x /, a);
  }
  assert.throws(() => parseStartArgs(['--user-dir', 'x', '--reset-flow=false']), /--reset-flow takes no value/);
  assert.equal(parseArgs(['--reset-flow'], spec).booleans['reset-flow'], true);
  assert.equal(parseArgs([], spec).booleans['reset-flow'], false);
});
