import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const helper = require('node-red-node-test-helper');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const modelNode = require('../../nodes/vigie-model');

helper.init(require.resolve('node-red'));

type Any = any; // eslint-disable-line @typescript-eslint/no-explicit-any

const REPO = path.resolve(__dirname, '..', '..');
const FIX = path.join(REPO, 'test', 'fixtures', 'models');

afterEach(async () => {
  await helper.unload();
  await helper.stopServer();
});

async function until(cond: () => boolean, what: string, timeoutMs = 30000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('vigie-model config node', () => {
  it('defaults to the shipped model, which fits the contract and never offers voice labels as alerts', async () => {
    await helper.load(modelNode, [{ id: 'm1', type: 'vigie-model', path: '' }]);
    const n = helper.getNode('m1');
    assert.equal(n.modelPath, path.join(REPO, 'models', 'vigie-street-v1.onnx'));
    assert.equal(n.source.state.state, 'idle', 'nothing loaded before a user registers');
    n.source.register();
    const model = await n.source.get();
    assert.equal(model.card.name, 'vigie-street-v1');
    assert.equal(model.sampleRateHz, 16000);
    for (const l of ['gunshot', 'glass_break', 'scream']) assert.ok(model.alertLabels.includes(l), l);
    for (const l of model.alertLabels) assert.equal(model.isVoice(l), false, l);
    assert.ok(model.isVoice('speech'));
    const [scores] = await model.infer([new Float32Array(model.windowSamples)]);
    assert.equal('speech' in model.publicScores(scores), false);
    await helper.unload();
    assert.equal(model.isReleased, true, 'closing the config node releases the session');
  });

  it('reads a relative path from the user directory and reports a model that does not fit', async () => {
    const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-model-node-'));
    try {
      fs.copyFileSync(path.join(FIX, 'bad-logits.onnx'), path.join(userDir, 'logits.onnx'));
      fs.copyFileSync(path.join(FIX, 'bad-logits.json'), path.join(userDir, 'logits.json'));
      helper.settings({ userDir });
      await helper.load(modelNode, [{ id: 'm2', type: 'vigie-model', path: 'logits.onnx' }]);
      const n = helper.getNode('m2');
      assert.equal(n.modelPath, path.join(userDir, 'logits.onnx'));
      const errors: string[] = [];
      n.error = (m: string) => errors.push(String(m));
      n.source.register();
      await assert.rejects(n.source.get(), /outside \[0, 1\]|sum to/);
      await until(() => errors.length > 0, 'an error logged by the node');
      assert.match(errors[0], /logits\.onnx/);
      assert.match(errors[0], /probabilities/);
    } finally {
      helper.settings({});
      fs.rmSync(userDir, { recursive: true, force: true });
    }
  });
});
