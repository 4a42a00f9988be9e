/**
 * The training pipeline's own tests (training/test_training.py: front end, split, event
 * finding, synthesis, scoring, model cards, determinism of the optimisation loop), run with
 * the Debian interpreter that has python3-torch and python3-onnx (`npm run setup` installs them).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { DATA_DIR, IN_CI, sharedDataAvailable } from '../support/shared-data';

const root = path.resolve(__dirname, '..', '..');
const PYTHON = '/usr/bin/python3';

test('training pipeline: python unittest suite passes (python3-torch, python3-onnx)', { timeout: 900_000 }, () => {
  const probe = spawnSync(PYTHON, ['-c', 'import torch, onnx, numpy'], { encoding: 'utf8' });
  assert.equal(probe.status, 0, `${PYTHON} cannot import torch, onnx and numpy (run npm run setup): ${probe.stderr}`);
  // A fresh checkout decodes the pool and compares its clips for near-copies first (a few
  // CPU minutes, then cached in training/.cache).
  // -v: one line per test, so that a skipped one is named. The suite finds the data as this
  // test does (VIGIE_DATA_DIR or ../shared/data) and, in CI (CI=true), fails without it.
  const r = spawnSync(PYTHON, ['-m', 'unittest', 'discover', '-v', '-s', 'training', '-p', 'test_*.py'], { cwd: root, encoding: 'utf8', timeout: 890_000 });
  const out = `${r.stdout}\n${r.stderr}`;
  assert.equal(r.status, 0, out.slice(-4000));
  const ran = /^Ran (\d+) tests? in /m.exec(out);
  assert.ok(ran && Number(ran[1]) >= 30, `expected the whole suite to run:\n${out.slice(-2000)}`);
  const summary = /^(OK|FAILED)( \(.*\))?$/m.exec(out)?.[0] ?? '';
  assert.match(summary, /^OK/, out.slice(-2000));
  if (sharedDataAvailable()) {
    // The data is there: every test ran, none was skipped (skipped=N in unittest's summary).
    const skipped = out.split('\n').filter((l) => / \.\.\. skipped /.test(l));
    assert.doesNotMatch(summary, /skipped=/, `tests skipped although ${DATA_DIR} is there:\n${skipped.join('\n')}`);
  } else {
    assert.equal(IN_CI, false, `CI=true but no shared data at ${DATA_DIR}: the suite should have failed`);
  }
});
