/** The shipped flows: the committed files are what scripts/make-flows.ts writes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { shippedFlows } from '../../scripts/make-flows';
import { repoRoot } from '../support/nodered';

test('the committed flows are what scripts/make-flows.ts writes (run `npx tsx scripts/make-flows.ts` after editing it)', () => {
  const made = shippedFlows();
  assert.deepEqual(Object.keys(made).sort(), fs.readdirSync(path.join(repoRoot, 'flows')).filter((f) => f.endsWith('.json')).sort());
  for (const [file, text] of Object.entries(made)) assert.equal(fs.readFileSync(path.join(repoRoot, 'flows', file), 'utf8'), text, `flows/${file} differs from the generator's output`);
});
