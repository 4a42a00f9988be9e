import { test, after, mock } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { checkCard, checkGraph, checkProbabilities, ClassifierModel, ModelCard, MAX_MODEL_FILE_BYTES, ModelContractError, jsonFaultWords, readOnnxMetadata } from '../../lib/detect/model';
import { tempDir } from '../support/tmp';

const FIX = path.join(__dirname, '..', 'fixtures', 'models');
const repoRoot = path.join(__dirname, '..', '..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-model-test-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

async function problemsOf(file: string, cardPath?: string): Promise<string[]> {
  try {
    const m = await ClassifierModel.load(file, { cardPath });
    await m.release();
    return [];
  } catch (e) {
    assert.ok(e instanceof ModelContractError, `expected a ModelContractError, got ${(e as Error).message}`);
    return e.problems;
  }
}

function goodCard(): ModelCard {
  return JSON.parse(fs.readFileSync(path.join(FIX, 'tiny-ok.json'), 'utf8'));
}

test('the correct tiny model loads; scores in label order; voice labels never public', async () => {
  const m = await ClassifierModel.load(path.join(FIX, 'tiny-ok.onnx'));
  try {
    assert.deepEqual(m.labels, ['gunshot', 'speech', 'street']);
    assert.deepEqual(m.alertLabels, ['gunshot']);
    assert.equal(m.sampleRateHz, 16000);
    assert.equal(m.windowSamples, 16000);
    const loud = new Float32Array(16000).map((_, i) => 0.5 * Math.sin(i));
    const [a, b] = await m.infer([new Float32Array(16000), loud]);
    for (const row of [a, b]) {
      assert.equal(row.length, 3);
      assert.ok(Math.abs(row.reduce((s, v) => s + v, 0) - 1) < 1e-3);
    }
    assert.notDeepEqual(Array.from(a), Array.from(b), 'the model reacts to its input');
    // Softmax: with street published beside gunshot, 1 − their sum would be the speech score.
    const pub = m.publicScores(b);
    assert.deepEqual(Object.keys(pub), ['gunshot']);
    assert.equal(pub.gunshot, Math.round(b[0] * 1e4) / 1e4);
    assert.deepEqual(m.publicLabels, ['gunshot']);
    assert.equal(m.isVoice('speech'), true);
  } finally {
    await m.release();
  }
  await assert.rejects(m.infer([new Float32Array(16000)]), /released/);
});

test('privacy: the batch of audio handed to the model is zeroed once it has run, and when a window does not fit', async () => {
  const m = await ClassifierModel.load(path.join(FIX, 'tiny-ok.onnx'));
  try {
    const session = (m as unknown as { session: { run: (feeds: Record<string, { data: Float32Array }>, ...rest: unknown[]) => Promise<unknown> } }).session;
    const run = session.run.bind(session);
    const batches: Array<{ data: Float32Array; heldSound: boolean }> = [];
    session.run = (feeds, ...rest) => {
      for (const f of Object.values(feeds)) batches.push({ data: f.data, heldSound: f.data.some((v) => v !== 0) });
      return run(feeds, ...rest);
    };
    const w = new Float32Array(16000).map((_, i) => 0.5 * Math.sin(i));
    await m.infer([w, w]);
    assert.equal(batches.length, 1);
    assert.ok(batches[0].heldSound && batches[0].data.length === 32000);
    assert.equal(batches[0].data.findIndex((v) => v !== 0), -1, 'the batch still holds samples');
    assert.ok(w.some((v) => v !== 0), "the caller's windows are its own to zero");
    // A window of the wrong length after a good one: refused, and what was copied of the good one wiped.
    const set = Float32Array.prototype.set;
    const targets: Float32Array[] = [];
    Float32Array.prototype.set = function (this: Float32Array, ...args: Parameters<Float32Array['set']>) {
      if (this.length === 32000) targets.push(this);
      return set.apply(this, args);
    };
    try {
      await assert.rejects(m.infer([w, new Float32Array(10)]), /window 1: expected 16000 samples, got 10/);
    } finally {
      Float32Array.prototype.set = set;
    }
    assert.equal(targets.length, 1);
    assert.equal(targets[0].findIndex((v) => v !== 0), -1, 'the partly filled batch still holds samples');
  } finally {
    await m.release();
  }
});

test('a multi-label (sigmoid) model publishes every label of Vigie\'s but the voice ones: its scores say nothing of each other', async () => {
  const card = goodCard();
  card.output = { ...card.output, activation: 'sigmoid' };
  const cardPath = path.join(tmp, 'sigmoid.json');
  fs.writeFileSync(cardPath, JSON.stringify(card));
  const m = await ClassifierModel.load(path.join(FIX, 'tiny-ok.onnx'), { cardPath });
  try {
    const [row] = await m.infer([new Float32Array(16000).map((_, i) => 0.5 * Math.sin(i))]);
    assert.deepEqual(Object.keys(m.publicScores(row)), ['gunshot', 'street']);
  } finally {
    await m.release();
  }
});

test('a drop-in card mapping all 521 AudioSet names publishes Vigie\'s labels only: alert classes and street sounds, never its own names (cough, sneeze…), never voices', async () => {
  const card = JSON.parse(fs.readFileSync(path.join(FIX, 'yamnet-style.json'), 'utf8'));
  // every output mapped: the card's Vigie labels where it has them, the model's own name elsewhere
  const labelMap: Record<string, string> = {};
  for (const l of card.labels as string[]) labelMap[l] = card.labelMap[l] ?? l;
  const cardPath = path.join(tmp, 'all-mapped.json');
  fs.writeFileSync(cardPath, JSON.stringify({ ...card, labelMap }));
  const m = await ClassifierModel.load(path.join(FIX, 'yamnet-style.onnx'), { cardPath });
  try {
    assert.ok(m.labels.length > 400, `${m.labels.length} labels after labelMap`);
    const row = new Float32Array(m.labels.length).fill(0.25);
    const published = Object.keys(m.publicScores(row)).sort();
    assert.deepEqual(published, ['car_alarm', 'car_horn', 'crash', 'dog_bark', 'explosion', 'fireworks', 'glass_break', 'gunshot', 'music', 'other', 'scream', 'siren', 'tire_skid', 'traffic']);
  } finally {
    await m.release();
  }
});

test('the shipped model publishes its alert labels\' scores only: what they leave out is every other sound at once, not the voice classes\' share', async () => {
  const shipped = path.join(__dirname, '..', '..', 'models', 'vigie-street-v1.onnx');
  const m = await ClassifierModel.load(shipped);
  try {
    assert.equal(m.card.output.activation ?? 'softmax', 'softmax');
    assert.deepEqual([...m.publicLabels], m.alertLabels);
    const voice = m.labels.filter((l) => m.isVoice(l));
    assert.ok(voice.length > 0, 'the shipped model scores voice classes');
    const [row] = await m.infer([new Float32Array(m.windowSamples).map((_, i) => 0.2 * Math.sin(i * 0.05) * Math.sin(i * 0.0007))]);
    const published = m.publicScores(row);
    assert.deepEqual(Object.keys(published), m.alertLabels);
    // Every label not published is a voice label or a non-alert one: nothing singles out voice.
    for (const l of m.labels) assert.equal(l in published, m.alertLabels.includes(l), l);
  } finally {
    await m.release();
  }
});

test('rank-3 input is refused, naming the rank', async () => {
  const p = await problemsOf(path.join(FIX, 'bad-rank3-input.onnx'));
  assert.ok(p.some((x) => /rank 3/.test(x) && /waveform/.test(x)), p.join('\n'));
});

test('a sample rate that is not an integer in Hz is refused', async () => {
  const p = await problemsOf(path.join(FIX, 'bad-sample-rate.onnx'));
  assert.ok(p.some((x) => x.startsWith('card.input.sampleRate') && x.includes('"16 kHz"')), p.join('\n'));
});

test('a card sample rate that the ONNX file\'s metadata contradicts is refused, naming both rates', async () => {
  const file = path.join(FIX, 'bad-sample-rate-metadata.onnx');
  assert.equal(readOnnxMetadata(fs.readFileSync(file)).sample_rate, '16000', 'the fixture carries the rate it was built for');
  await assert.rejects(ClassifierModel.load(file), (e: Error) => e instanceof ModelContractError && /bad-sample-rate-metadata/.test(e.message) && /22050 Hz/.test(e.message));
  // The only fault of this fixture: the rest of its contract is right.
  assert.deepEqual(await problemsOf(file), ['card.input.sampleRate is 22050 Hz but the ONNX file says it was built for 16000 Hz']);
});

test('card window and graph window disagreeing is refused', async () => {
  const p = await problemsOf(path.join(FIX, 'bad-window-mismatch.onnx'));
  assert.ok(p.some((x) => /8000 samples/.test(x) && /windowSamples is 16000/.test(x)), p.join('\n'));
});

test('label count different from the output width is refused', async () => {
  const p = await problemsOf(path.join(FIX, 'bad-label-count.onnx'));
  assert.ok(p.some((x) => /3 classes/.test(x) && /4 labels/.test(x)), p.join('\n'));
});

test('logits instead of probabilities are refused', async () => {
  const p = await problemsOf(path.join(FIX, 'bad-logits.onnx'));
  assert.equal(p.length, 1, p.join('\n'));
  assert.match(p[0], /outside \[0, 1\]|sum to/);
});

test('a card with voice labels marked alert, unknown alert labels and missing fields lists every problem', async () => {
  const card = goodCard() as unknown as Record<string, unknown>;
  card.alertLabels = ['gunshot', 'speech', 'explosion'];
  delete card.backgroundLabels;
  const cardPath = path.join(tmp, 'voice-alert.json');
  fs.writeFileSync(cardPath, JSON.stringify(card));
  const p = await problemsOf(path.join(FIX, 'tiny-ok.onnx'), cardPath);
  assert.ok(p.some((x) => x.startsWith('card.backgroundLabels')), p.join('\n'));
  const p2 = checkCard({ ...card, backgroundLabels: [] });
  assert.ok(p2.some((x) => /"speech" is a voice label/.test(x)), p2.join('\n'));
  assert.ok(p2.some((x) => /"explosion" is not one of the labels/.test(x)), p2.join('\n'));
});

test('missing card, unreadable card, and a file that is not ONNX', async () => {
  const onnx = path.join(tmp, 'lonely.onnx');
  fs.copyFileSync(path.join(FIX, 'tiny-ok.onnx'), onnx);
  await assert.rejects(ClassifierModel.load(onnx), (e: Error) => e instanceof ModelContractError && /lonely\.json cannot be read/.test(e.message));
  fs.writeFileSync(path.join(tmp, 'lonely.json'), '{not json');
  await assert.rejects(ClassifierModel.load(onnx), /cannot be read as JSON/);
  const junk = path.join(tmp, 'junk.onnx');
  fs.writeFileSync(junk, Buffer.from('this is not a model at all'));
  // A card without fileBytes (with it, the size is what is refused: see the next test).
  const { fileBytes: _, ...junkCard } = goodCard();
  fs.writeFileSync(path.join(tmp, 'junk.json'), JSON.stringify(junkCard));
  await assert.rejects(ClassifierModel.load(junk), /junk\.onnx is not a loadable ONNX model/);
  await assert.rejects(ClassifierModel.load(path.join(tmp, 'absent.onnx')), /cannot be read/);
});

test('a model file far too big for a gateway (a wrong path: a video, an archive) is refused before it is read, naming the limit and its size', async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-model-big-'));
  try {
    const big = path.join(tmp, 'street-night.onnx');
    // Sparse: the size is there, the disk holds nothing of it.
    const fd = fs.openSync(big, 'w');
    fs.ftruncateSync(fd, MAX_MODEL_FILE_BYTES + 50 * 1024 * 1024);
    fs.closeSync(fd);
    fs.writeFileSync(path.join(tmp, 'street-night.json'), JSON.stringify(goodCard()));
    const read = mock.method(require('fs') as typeof fs, 'readFileSync');
    try {
      await assert.rejects(ClassifierModel.load(big), new RegExp(`street-night\\.onnx: expected at most 256 MB, it has 306 MB \\(not loaded`));
      assert.equal(read.mock.calls.filter((c) => String(c.arguments[0]).endsWith('.onnx')).length, 0, 'never read');
    } finally {
      read.mock.restore();
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test('a model file that is not the one its card was written for (truncated, damaged, swapped) is refused, naming the card field, the expected and the found value', async () => {
  const ok = fs.readFileSync(path.join(FIX, 'tiny-ok.onnx'));
  const sha = createHash('sha256').update(ok).digest('hex');
  const dir = fs.mkdtempSync(path.join(tmp, 'integrity-'));
  const withCard = (name: string, bytes: Buffer, card: object): string => {
    fs.writeFileSync(path.join(dir, `${name}.onnx`), bytes);
    fs.writeFileSync(path.join(dir, `${name}.json`), JSON.stringify(card));
    return path.join(dir, `${name}.onnx`);
  };
  const good = goodCard();
  assert.equal(good.fileBytes, ok.length, "the fixture's card has its file's size");

  // Truncated (a download cut short): refused on its size, before onnxruntime tries it.
  assert.deepEqual(await problemsOf(withCard('truncated', ok.subarray(0, 1000), good)), [
    `card.fileBytes: the card expects ${ok.length} bytes, the file has 1000 (a truncated or another model file)`,
  ]);
  // Another model's file under this card (same contract, so it would load).
  const other = fs.readFileSync(path.join(FIX, 'bad-logits.onnx'));
  assert.deepEqual(await problemsOf(withCard('swapped', other, good)), [`card.fileBytes: the card expects ${ok.length} bytes, the file has ${other.length} (a truncated or another model file)`]);
  // Same size, one byte changed (the producer's version: the file still loads): only the digest tells.
  const damaged = Buffer.from(ok);
  const at = damaged.indexOf('1.13.0');
  assert.ok(at > 0, 'the producer version in the fixture');
  damaged[at + 5] = '1'.charCodeAt(0);
  await (await ClassifierModel.load(withCard('damaged-loads', damaged, good))).release();
  const damagedSha = createHash('sha256').update(damaged).digest('hex');
  assert.deepEqual(await problemsOf(withCard('damaged', damaged, { ...good, sha256: sha })), [`card.sha256: the card expects ${sha}, the file has ${damagedSha} (a damaged or another model file)`]);
  // Both wrong: both told.
  const both = await problemsOf(withCard('both', other, { ...good, sha256: sha }));
  assert.deepEqual(both.map((p) => p.split(':')[0]), ['card.fileBytes', 'card.sha256'], both.join('\n'));

  // The right size and digest (in either case) load; so does a card with neither.
  for (const [name, card] of [['right', { ...good, sha256: sha }], ['upper', { ...good, sha256: sha.toUpperCase() }], ['neither', (({ fileBytes: _, ...c }) => c)(good)]] as const) {
    const m = await ClassifierModel.load(withCard(name, ok, card));
    await m.release();
  }
  // Unusable values are card problems.
  assert.ok(checkCard({ ...good, fileBytes: '1601' }).some((p) => /^card\.fileBytes: expected the ONNX file's size, a whole number of bytes above 0, got "1601"/.test(p)));
  assert.ok(checkCard({ ...good, sha256: sha.slice(1) }).some((p) => /^card\.sha256: expected the ONNX file's SHA-256, 64 hexadecimal digits/.test(p)));
  assert.deepEqual(checkCard({ ...good, sha256: sha }), []);
});

test('YAMNet-style label map: scores aggregated by max, voice never mapped to an alert', async () => {
  const card = goodCard() as unknown as Record<string, unknown>;
  card.labels = ['Gunshot, gunfire', 'Speech', 'Vehicle'];
  card.labelMap = { 'Gunshot, gunfire': 'gunshot', Vehicle: 'street', Speech: 'speech' };
  card.alertLabels = ['gunshot'];
  card.voiceLabels = ['speech'];
  card.backgroundLabels = ['street'];
  // Multi-label, as YAMNet is: every label but the voice ones is published.
  card.output = { ...(card.output as object), activation: 'sigmoid' };
  const cardPath = path.join(tmp, 'mapped.json');
  fs.writeFileSync(cardPath, JSON.stringify(card));
  const w = new Float32Array(16000).map((_, i) => 0.3 * Math.sin(i * 0.7));
  const m = await ClassifierModel.load(path.join(FIX, 'tiny-ok.onnx'), { cardPath });
  try {
    assert.deepEqual(m.labels, ['gunshot', 'street', 'speech']);
    const [mapped] = await m.infer([w]);
    const plain = await ClassifierModel.load(path.join(FIX, 'tiny-ok.onnx'));
    const [raw] = await plain.infer([w]);
    await plain.release();
    assert.equal(mapped[0], raw[0]);
    assert.equal(mapped[1], raw[2]);
    assert.equal(mapped[2], raw[1]);
    assert.deepEqual(Object.keys(m.publicScores(mapped)).sort(), ['gunshot', 'street']);
  } finally {
    await m.release();
  }
  // A voice class folded into another label is left out: its score would go out under that name.
  fs.writeFileSync(cardPath, JSON.stringify({ ...card, voiceLabels: ['Speech'], labelMap: { 'Gunshot, gunfire': 'gunshot', Speech: 'street' } }));
  const folded = await ClassifierModel.load(path.join(FIX, 'tiny-ok.onnx'), { cardPath });
  try {
    assert.deepEqual(folded.labels, ['gunshot', 'street']);
    const [row] = await folded.infer([w]);
    assert.equal(row[1], 0, 'street gets no score from Speech (Vehicle is unmapped here)');
    assert.deepEqual(folded.publicScores(row), { gunshot: Math.round(row[0] * 1e4) / 1e4, street: 0 });
  } finally {
    await folded.release();
  }
  const bad = { ...card, labelMap: { 'Gunshot, gunfire': 'gunshot', Speech: 'gunshot' } };
  assert.ok(checkCard(bad).some((x) => /voice label "Speech" is mapped to alert label "gunshot"/.test(x)));
  // several model labels onto one Vigie label: max
  const card2 = { ...card, labelMap: { 'Gunshot, gunfire': 'gunshot', Vehicle: 'gunshot', Speech: 'speech' }, backgroundLabels: [] };
  fs.writeFileSync(cardPath, JSON.stringify(card2));
  const m2 = await ClassifierModel.load(path.join(FIX, 'tiny-ok.onnx'), { cardPath });
  try {
    const plain = await ClassifierModel.load(path.join(FIX, 'tiny-ok.onnx'));
    const [raw] = await plain.infer([w]);
    await plain.release();
    const [agg] = await m2.infer([w]);
    assert.equal(agg[m2.labels.indexOf('gunshot')], Math.max(raw[0], raw[2]));
  } finally {
    await m2.release();
  }
});

test('privacy: a street data set\'s voice classes, undeclared by the card, are never published nor alerts (SONYC-UST, DCASE, UrbanSound8K names)', async () => {
  // A drop-in multi-label model trained on street data sets, whose card forgets voiceLabels.
  for (const talking of ['person-or-small-group-talking', 'people talking', 'children', 'children_playing', 'Vocal music', 'Cheering']) {
    const card = goodCard() as unknown as Record<string, unknown>;
    card.labels = ['Gunshot', 'Talking', 'Engine'];
    card.labelMap = { Gunshot: 'gunshot', Talking: talking, Engine: 'street' };
    card.alertLabels = ['gunshot'];
    card.voiceLabels = [];
    card.backgroundLabels = ['street'];
    card.output = { ...(card.output as object), activation: 'sigmoid' };
    const cardPath = path.join(tmp, 'street-sets.json');
    fs.writeFileSync(cardPath, JSON.stringify(card));
    const m = await ClassifierModel.load(path.join(FIX, 'tiny-ok.onnx'), { cardPath });
    try {
      assert.equal(m.isVoice(talking), true, talking);
      const [row] = await m.infer([new Float32Array(16000).map((_, i) => 0.3 * Math.sin(i * 0.7))]);
      assert.deepEqual(Object.keys(m.publicScores(row)).sort(), ['gunshot', 'street'], talking);
    } finally {
      await m.release();
    }
    // Made an alert label, or given an alert label's name: refused.
    assert.ok(checkCard({ ...card, alertLabels: ['gunshot', talking] }).some((x) => x.includes(`"${talking}" is a voice label and can never alert`)), talking);
    assert.ok(checkCard({ ...card, labels: ['Gunshot', talking, 'Engine'], labelMap: { Gunshot: 'gunshot', [talking]: 'gunshot', Engine: 'street' } }).some((x) => x.includes(`voice label "${talking}" is mapped to alert label "gunshot"`)), talking);
  }
});

test('pure checks: graph names, rank, width, metadata sample rate; probabilities', () => {
  const card = goodCard();
  const ok = checkGraph(card, [{ name: 'waveform', shape: ['batch', 16000], type: 'float32' }], [{ name: 'probabilities', shape: ['batch', 3], type: 'float32' }]);
  assert.deepEqual(ok, []);
  const p = checkGraph(card, [{ name: 'audio', shape: ['b', 16000] }], [{ name: 'probabilities', shape: ['b', 5] }], { sample_rate: '44100' });
  assert.ok(p.some((x) => /input "waveform" \(card.input.name\) not found/.test(x) && /"audio"/.test(x)));
  assert.ok(p.some((x) => /5 classes/.test(x)));
  assert.ok(p.some((x) => /44100 Hz/.test(x)));
  assert.deepEqual(checkProbabilities([0.2, 0.3, 0.5], [1, 3], card, 1), []);
  assert.match(checkProbabilities([0.2, 0.3, 0.4], [1, 3], card, 1)[0], /sum to 0\.9/);
  assert.deepEqual(checkProbabilities([0.2, 0.3, 0.4], [1, 3], { ...card, output: { ...card.output, activation: 'sigmoid' } }, 1), []);
  assert.match(checkProbabilities([NaN, 0.3, 0.4], [1, 3], card, 1)[0], /non-finite/);
  assert.match(checkProbabilities([0.2, 0.3], [1, 2], card, 1)[0], /2 classes but card.labels has 3/);
});

test('a card whose labels are not the ONNX file\'s, in its order, is refused (the speech column would read as a gunshot)', async () => {
  const card = goodCard();
  const md = { labels: card.labels.join(',') };
  const io = [[{ name: 'waveform', shape: ['batch', 16000], type: 'float32' }], [{ name: 'probabilities', shape: ['batch', 3], type: 'float32' }]] as const;
  assert.deepEqual(checkGraph(card, [...io[0]], [...io[1]], md), []);
  const swapped = { ...card, labels: [card.labels[1], card.labels[0], ...card.labels.slice(2)] };
  const p = checkGraph(swapped, [...io[0]], [...io[1]], md);
  assert.equal(p.length, 1, JSON.stringify(p));
  assert.equal(p[0], `card.labels: not the ONNX file's labels in its order (output 0 is "${card.labels[0]}" in the file, "${card.labels[1]}" in the card); the card must list the model's outputs in order`);
  // The shipped model, its card's labels swapped: refused at load.
  const shipped = JSON.parse(fs.readFileSync(path.join(repoRoot, 'models', 'vigie-street-v1.json'), 'utf8')) as ModelCard;
  const i = shipped.labels.indexOf('gunshot');
  const j = shipped.labels.indexOf('speech');
  assert.ok(i >= 0 && j >= 0);
  const labels = [...shipped.labels];
  [labels[i], labels[j]] = [labels[j], labels[i]];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-swapped-card-'));
  try {
    fs.copyFileSync(path.join(repoRoot, 'models', 'vigie-street-v1.onnx'), path.join(dir, 'swapped.onnx'));
    fs.writeFileSync(path.join(dir, 'swapped.json'), JSON.stringify({ ...shipped, labels }));
    await assert.rejects(ClassifierModel.load(path.join(dir, 'swapped.onnx')), (err: Error) => /card\.labels: not the ONNX file's labels in its order \(output \d+ is "(gunshot|speech)" in the file, "(speech|gunshot)" in the card\)/.test(err.message));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a YAMNet-style file whose metadata lists AudioSet names comma-joined ("Gunshot, gunfire") loads; the same names in another order are refused', async () => {
  const file = path.join(FIX, 'yamnet-style.onnx');
  const md = readOnnxMetadata(fs.readFileSync(file));
  const card = JSON.parse(fs.readFileSync(path.join(FIX, 'yamnet-style.json'), 'utf8')) as ModelCard;
  assert.ok(card.labels.includes('Gunshot, gunfire') && md.labels === card.labels.join(','), 'the fixture carries comma-joined labels with commas in them');
  const m = await ClassifierModel.load(file);
  try {
    assert.equal(m.windowSamples, 15600);
    assert.deepEqual(m.alertLabels, ['gunshot', 'glass_break', 'crash', 'scream', 'explosion', 'tire_skid']);
  } finally {
    await m.release();
  }
  const io = [[{ name: 'waveform', shape: ['batch', 15600], type: 'float32' }], [{ name: 'probabilities', shape: ['batch', 521], type: 'float32' }]] as const;
  const g = card.labels.indexOf('Gunshot, gunfire');
  const labels = [...card.labels];
  [labels[0], labels[g]] = [labels[g], labels[0]];
  assert.deepEqual(checkGraph({ ...card, labels }, [...io[0]], [...io[1]], md), [
    'card.labels: not the ONNX file\'s labels in its order (output 0 is "Gunshot, gunfire" in the card, the file goes on with "Speech,Child speech,kid speaking,Convers…"); the card must list the model\'s outputs in order',
  ]);
  // A JSON array in the metadata is read as such.
  assert.deepEqual(checkGraph(card, [...io[0]], [...io[1]], { labels: JSON.stringify(card.labels) }), []);
  assert.match(checkGraph(card, [...io[0]], [...io[1]], { labels: JSON.stringify(labels) })[0], /output 0 is "Gunshot, gunfire" in the file, "Speech" in the card/);
});

test('a drop-in card whose alert labels are its own names, or whose thresholds are keyed by them, is refused, saying to map them (they would never match a ticked class, nor be read)', () => {
  const card = JSON.parse(fs.readFileSync(path.join(FIX, 'yamnet-style.json'), 'utf8')) as ModelCard;
  assert.deepEqual(checkCard(card), []);
  // Without labelMap, AudioSet's own name as an alert label: the localizer knows no such class.
  const unmapped = { ...card, labelMap: undefined, alertLabels: ['Gunshot, gunfire'], voiceLabels: ['Speech'], backgroundLabels: [], thresholds: undefined };
  assert.deepEqual(checkCard(unmapped), [
    'card.alertLabels: "Gunshot, gunfire" is not one of Vigie\'s alert classes (gunshot, glass_break, crash, scream, explosion, tire_skid); map the model\'s label onto one with labelMap',
  ]);
  // A threshold under the model's name would be ignored: the detector reads "gunshot".
  const keyedByModel = { ...card, thresholds: { 'Gunshot, gunfire': 0.6, glass_break: 0.6 } };
  assert.deepEqual(checkCard(keyedByModel), ['card.thresholds: "Gunshot, gunfire" is not one of the labels (after labelMap); thresholds are per Vigie label: write it under "gunshot"']);
  assert.deepEqual(checkCard({ ...card, thresholds: { gunshot: 0.6, siren: 0.8 } }), [], 'a mapped background label may have one');
  assert.deepEqual(checkCard({ ...goodCard(), thresholds: { gunshot: 0.9, Gunshot: 0.9 } }), ['card.thresholds: "Gunshot" is not one of the labels']);
});

test('ONNX metadata_props are read from the file', () => {
  // ModelProto { ir_version: 8 (field 1), metadata_props (field 14) { key: "sample_rate", value: "16000" } }
  const entry = Buffer.concat([Buffer.from([0x0a, 11]), Buffer.from('sample_rate'), Buffer.from([0x12, 5]), Buffer.from('16000')]);
  const buf = Buffer.concat([Buffer.from([0x08, 8]), Buffer.from([0x72, entry.length]), entry]);
  assert.deepEqual(readOnnxMetadata(buf), { sample_rate: '16000' });
  assert.deepEqual(readOnnxMetadata(fs.readFileSync(path.join(FIX, 'tiny-ok.onnx'))), {});
});

test('a model card that is not JSON is told with the line and column of its fault, also where JSON.parse names no position (a stray word, a trailing comma)', () => {
  const words = (text: string): string => {
    try {
      JSON.parse(text);
    } catch (e) {
      return jsonFaultWords(text, (e as Error).message);
    }
    throw new Error('valid JSON');
  };
  // JSON.parse says "Unexpected token …, "<the text>" is not valid JSON" for these: no position
  assert.equal(words('{"name": "x",\n "labels": [hunter2]}'), 'not valid JSON at line 2, column 13');
  assert.equal(words('{"labels": ["gunshot", "crash",]}'), 'not valid JSON at line 1, column 32');
  assert.equal(words('password=hunter2\n'), 'not valid JSON at line 1, column 1');
  assert.equal(words("{\n  'name': 'x'\n}"), 'not valid JSON at line 2, column 3');
  // JSON.parse gives a position for these
  assert.equal(words('{"a": 1}}'), 'not valid JSON at line 1, column 9');
  assert.equal(words('{"name": "hunter2",'), 'the text ends before the JSON is complete (a cut file, or a missing closing bracket)');
  assert.equal(words('{"labels": ["a"'), 'the text ends before the JSON is complete (a cut file, or a missing closing bracket)');
  assert.equal(words(' \n'), 'the file is empty');
});

test('the model card chosen as the model file is said as such, not as a card missing beside it; a model of another extension loads', async () => {
  const shipped = path.resolve(__dirname, '..', '..', 'models', 'vigie-street-v1');
  await assert.rejects(ClassifierModel.load(`${shipped}.json`), (e: Error) => {
    assert.ok(e instanceof ModelContractError, String(e));
    assert.match(e.message, /vigie-street-v1\.json is a model card \(JSON\), not the ONNX model: choose the \.onnx file beside it/);
    return true;
  });
  // onnxruntime reads a model whatever its file is called: an .ort name with its card as name.ort.json
  const dir = tempDir('vigie-model-ext-');
  fs.copyFileSync(`${shipped}.onnx`, path.join(dir, 'street.ort'));
  const card = JSON.parse(fs.readFileSync(`${shipped}.json`, 'utf8'));
  card.file = 'street.ort';
  fs.writeFileSync(path.join(dir, 'street.ort.json'), JSON.stringify(card));
  const m = await ClassifierModel.load(path.join(dir, 'street.ort'));
  assert.ok(m.labels.includes('gunshot'));
  await m.release();
});
