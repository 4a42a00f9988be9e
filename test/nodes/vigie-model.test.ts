import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { logOf } from '../support/node-red-log';
import { waitFor } from '../support/wait';

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
      await waitFor(() => errors.length > 0, 30_000, 'an error logged by the node');
      assert.match(errors[0], /logits\.onnx/);
      assert.match(errors[0], /probabilities/);
    } finally {
      helper.settings({});
      fs.rmSync(userDir, { recursive: true, force: true });
    }
  });
});

describe('vigie-model: the model card endpoint of the editor', () => {
  it('returns the name and recommended thresholds of a card, and a clear error for a missing or broken one', async () => {
    const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-model-card-'));
    try {
      fs.copyFileSync(path.join(FIX, 'tiny-ok.onnx'), path.join(userDir, 'tiny.onnx'));
      fs.copyFileSync(path.join(FIX, 'tiny-ok.json'), path.join(userDir, 'tiny.json'));
      fs.copyFileSync(path.join(FIX, 'tiny-ok.onnx'), path.join(userDir, 'broken.onnx'));
      fs.writeFileSync(path.join(userDir, 'broken.json'), '{"name": "broken", "labels": 3}');
      helper.settings({ userDir });
      await helper.startServer();
      await helper.load(modelNode, [{ id: 'm3', type: 'vigie-model', path: '' }]);
      // empty path: the shipped model, whose card recommends 0.9 for every alert class
      const shipped = (await helper.request().get('/vigie/model-card').query({ path: '' }).expect(200)).body;
      const card = JSON.parse(fs.readFileSync(path.join(REPO, 'models', 'vigie-street-v1.json'), 'utf8'));
      assert.equal(shipped.name, 'vigie-street-v1');
      assert.equal(shipped.version, card.version);
      assert.deepEqual(shipped.alertLabels, card.alertLabels);
      assert.deepEqual(shipped.thresholds, card.thresholds);
      assert.equal('labels' in shipped, false, 'only what the form shows');
      // the classifier form checks its hop and window against the model's window
      assert.equal(shipped.sampleRate, card.input.sampleRate);
      assert.equal(shipped.windowSamples, card.input.windowSamples);
      // a relative path is read from the user directory, like the node reads it
      const tiny = (await helper.request().get('/vigie/model-card').query({ path: 'tiny.onnx' }).expect(200)).body;
      assert.equal(tiny.name, 'tiny-ok');
      assert.deepEqual(tiny.thresholds, {});
      const missing = (await helper.request().get('/vigie/model-card').query({ path: 'nope.onnx' }).expect(404)).body;
      assert.match(missing.error, /model file nope\.onnx does not exist/);
      const twice = (await helper.request().get('/vigie/model-card?path=a.onnx&path=b.onnx').expect(400)).body;
      assert.match(twice.error, /^path: expected one model file path/);
      const broken = (await helper.request().get('/vigie/model-card').query({ path: 'broken.onnx' }).expect(404)).body;
      assert.match(broken.error, /broken\.onnx does not fit .*card\.labels/);
      // a file that is not JSON is named with where its fault is, never a word of its text
      // (JSON.parse's own message quotes it; the path asked for may be any file's)
      const notJson = (name: string, text: string) => {
        fs.copyFileSync(path.join(FIX, 'tiny-ok.onnx'), path.join(userDir, `${name}.onnx`));
        fs.writeFileSync(path.join(userDir, `${name}.json`), text);
      };
      notJson('secret', 'password=hunter2\n');
      notJson('mangled', '{"name": "x",\n "labels": [hunter2]}');
      notJson('cut', '{"name": "hunter2",');
      const quoted: string[] = [];
      for (const [name, words] of [['secret', /secret\.json cannot be read as JSON: not valid JSON at line 1, column 1$/], ['mangled', /mangled\.json cannot be read as JSON: not valid JSON at line 2, column 13$/], ['cut', /cut\.json cannot be read as JSON: the text ends before the JSON is complete/]] as const) {
        const e = (await helper.request().get('/vigie/model-card').query({ path: `${name}.onnx` }).expect(404)).body.error as string;
        assert.match(e, words);
        if (/hunter|passw/.test(e)) quoted.push(e);
      }
      assert.deepEqual(quoted, [], 'no error quotes the file');
      fs.copyFileSync(path.join(FIX, 'tiny-ok.onnx'), path.join(userDir, 'lonely.onnx'));
      const noCard = (await helper.request().get('/vigie/model-card').query({ path: 'lonely.onnx' }).expect(404)).body.error as string;
      assert.match(noCard, /model card lonely\.json cannot be read: there is no such file beside the model file$/);
      // the form names a file the card does not describe, as the load would refuse it
      const tinyBytes = fs.readFileSync(path.join(FIX, 'tiny-ok.onnx'));
      const tinyCard = JSON.parse(fs.readFileSync(path.join(FIX, 'tiny-ok.json'), 'utf8'));
      const digest = createHash('sha256').update(tinyBytes).digest('hex');
      const withCard = (name: string, extra: Record<string, unknown>) => {
        fs.writeFileSync(path.join(userDir, `${name}.onnx`), tinyBytes);
        fs.writeFileSync(path.join(userDir, `${name}.json`), JSON.stringify({ ...tinyCard, ...extra }));
      };
      withCard('described', { fileBytes: tinyBytes.length, sha256: digest });
      assert.equal((await helper.request().get('/vigie/model-card').query({ path: 'described.onnx' }).expect(200)).body.name, 'tiny-ok');
      withCard('truncated', { fileBytes: tinyBytes.length + 1, sha256: digest });
      const truncated = (await helper.request().get('/vigie/model-card').query({ path: 'truncated.onnx' }).expect(404)).body;
      assert.match(truncated.error, new RegExp(`card\\.fileBytes: the card expects ${tinyBytes.length + 1} bytes, the file has ${tinyBytes.length}`));
      withCard('swapped', { fileBytes: tinyBytes.length, sha256: '0'.repeat(64) });
      const swapped = (await helper.request().get('/vigie/model-card').query({ path: 'swapped.onnx' }).expect(404)).body;
      assert.match(swapped.error, new RegExp(`card\\.sha256: the card expects 0{64}, the file has ${digest}`));
    } finally {
      fs.rmSync(userDir, { recursive: true, force: true });
    }
  });

  it('summarises a YAMNet-shaped drop-in: its 0.975 s window, its alert classes and thresholds after labelMap; a threshold under the model\'s own name, and labels out of the file\'s order, are named', async () => {
    const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-model-dropin-'));
    try {
      const card = JSON.parse(fs.readFileSync(path.join(FIX, 'yamnet-style.json'), 'utf8'));
      fs.copyFileSync(path.join(FIX, 'yamnet-style.onnx'), path.join(userDir, 'vendor.onnx'));
      fs.writeFileSync(path.join(userDir, 'vendor.json'), JSON.stringify({ ...card, file: 'vendor.onnx' }));
      fs.copyFileSync(path.join(FIX, 'yamnet-style.onnx'), path.join(userDir, 'by-name.onnx'));
      fs.writeFileSync(path.join(userDir, 'by-name.json'), JSON.stringify({ ...card, thresholds: { 'Gunshot, gunfire': 0.6 } }));
      // the card's labels out of the file's order (its metadata lists them): the load refuses it, so does the form
      const swapped = [...card.labels];
      const g = swapped.indexOf('Gunshot, gunfire');
      [swapped[0], swapped[g]] = [swapped[g], swapped[0]];
      fs.copyFileSync(path.join(FIX, 'yamnet-style.onnx'), path.join(userDir, 'swapped.onnx'));
      fs.writeFileSync(path.join(userDir, 'swapped.json'), JSON.stringify({ ...card, labels: swapped }));
      helper.settings({ userDir });
      await helper.startServer();
      await helper.load(modelNode, [{ id: 'm4', type: 'vigie-model', path: 'vendor.onnx' }]);
      const vendor = (await helper.request().get('/vigie/model-card').query({ path: 'vendor.onnx' }).expect(200)).body;
      assert.deepEqual(vendor, {
        name: 'yamnet-style', version: '0.0.1', sampleRate: 16000, windowSamples: 15600,
        alertLabels: ['gunshot', 'glass_break', 'crash', 'scream', 'explosion', 'tire_skid'], thresholds: card.thresholds,
      });
      const byName = (await helper.request().get('/vigie/model-card').query({ path: 'by-name.onnx' }).expect(404)).body;
      assert.match(byName.error, /card\.thresholds: "Gunshot, gunfire" is not one of the labels \(after labelMap\); thresholds are per Vigie label: write it under "gunshot"/);
      const outOfOrder = (await helper.request().get('/vigie/model-card').query({ path: 'swapped.onnx' }).expect(404)).body;
      assert.match(outOfOrder.error, /card\.labels: not the ONNX file's labels in its order \(output 0 is "Gunshot, gunfire" in the card, the file goes on with "Speech,/);
      // the node loads it as the form described it
      const n = helper.getNode('m4');
      n.source.register();
      const model = await n.source.get();
      assert.equal(model.windowSamples, 15600);
      assert.deepEqual(model.recommendedThresholds, card.thresholds);
      // the log says what was loaded: 521 outputs, not only the 16 labels made of them, and its window
      await waitFor(() => logOf(helper, 'm4', 'INFO').some((m) => /loaded from/.test(m)), 30_000, 'the load logged');
      assert.deepEqual(logOf(helper, 'm4', 'INFO').filter((m) => /loaded from/.test(m)), [
        `model yamnet-style loaded from ${path.join(userDir, 'vendor.onnx')} (521 outputs onto 16 labels by its labelMap, 15600 samples (0.975 s) at 16000 Hz, sigmoid)`,
      ]);
    } finally {
      helper.settings({});
      fs.rmSync(userDir, { recursive: true, force: true });
    }
  });
});
