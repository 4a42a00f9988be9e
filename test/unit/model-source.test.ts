import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { ClassifierModel } from '../../lib/detect/model';
import { defaultModelPath, ModelSource, ModelSourceState } from '../../lib/detect/model-source';
import { waitFor } from '../support/wait';

const FIX = path.join(__dirname, '..', 'fixtures', 'models');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-model-source-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

test('the default model path is the shipped model in the package', () => {
  const p = defaultModelPath();
  assert.equal(path.basename(p), 'vigie-street-v1.onnx');
  assert.equal(path.basename(path.dirname(p)), 'models');
  assert.ok(fs.existsSync(path.join(path.dirname(p), '..', 'package.json')));
});

test('loads on first user, shares one model, releases on last user', async () => {
  const src = new ModelSource(path.join(FIX, 'tiny-ok.onnx'), { watchIntervalMs: 0 });
  await assert.rejects(src.get(), /no user/);
  src.register();
  src.register();
  const a = await src.get();
  const b = await src.get();
  assert.equal(a, b);
  assert.equal(src.userCount, 2);
  await src.deregister();
  assert.equal(a.isReleased, false);
  await src.deregister();
  assert.equal(a.isReleased, true);
  assert.equal(src.state.state, 'idle');
  await src.close();
});

test('a broken model is a clear failure, and fixing the file on disk loads it without restart', async () => {
  const file = path.join(tmp, 'm.onnx');
  fs.writeFileSync(file, 'garbage');
  fs.copyFileSync(path.join(FIX, 'tiny-ok.json'), path.join(tmp, 'm.json'));
  const src = new ModelSource(file, { watchIntervalMs: 100 });
  const states: string[] = [];
  src.on('state', (s: ModelSourceState) => states.push(s.state));
  src.register();
  // Not the file its card was written for: refused on its size, before onnxruntime tries it.
  await assert.rejects(src.get(), /model m\.onnx does not fit .*card\.fileBytes: the card expects 1601 bytes, the file has 7 /);
  assert.equal(src.state.state, 'failed');
  // replace with a good model (new inode and size)
  fs.rmSync(file);
  fs.copyFileSync(path.join(FIX, 'tiny-ok.onnx'), file);
  await waitFor(() => src.state.state === 'ready', 20_000, 'reload after the file changed');
  const m = await src.get();
  assert.deepEqual(m.labels, ['gunshot', 'speech', 'street']);
  // a broken replacement keeps the working model and says why
  let reloadError: Error | undefined;
  src.on('reload-failed', (e: Error) => (reloadError = e));
  fs.writeFileSync(path.join(tmp, 'm.json'), '{"name": "m"}');
  await waitFor(() => reloadError !== undefined, 20_000, 'reload-failed');
  assert.match(reloadError!.message, /card\.input/);
  assert.equal(await src.get(), m);
  assert.equal(m.isReleased, false);
  await src.close();
  assert.equal(m.isReleased, true);
  assert.deepEqual(states.slice(0, 3), ['loading', 'failed', 'loading']);
});

/** A loader whose loads finish when the test says, in any order; its models only know their name and release. */
function slowLoader() {
  const loads: Array<{ finish: () => void; fail: (err: Error) => void; model: ClassifierModel & { released: boolean } }> = [];
  const load = (): Promise<ClassifierModel> =>
    new Promise((resolve, reject) => {
      const model = { card: { name: `load-${loads.length + 1}` }, released: false } as unknown as ClassifierModel & { released: boolean };
      model.release = async () => {
        model.released = true;
      };
      loads.push({ finish: () => resolve(model), fail: reject, model });
    });
  return { load, loads };
}

test('the model changing on disk during its first load: who waited for the first load gets the newer model, not an error', async () => {
  for (const order of ['first load ends first', 'newer load ends first'] as const) {
    const { load, loads } = slowLoader();
    const src = new ModelSource(path.join(tmp, 'slow.onnx'), { watchIntervalMs: 0, load });
    src.register();
    const early = [src.get(), src.get()];
    void src.reload(); // what the file watch does when the file changes
    const late = src.get();
    assert.equal(loads.length, 2);
    if (order === 'first load ends first') {
      loads[0].finish();
      await new Promise((r) => setImmediate(r));
      loads[1].finish();
    } else {
      loads[1].finish();
      await new Promise((r) => setImmediate(r));
      loads[0].finish();
    }
    const got = await Promise.all([...early, late]);
    for (const m of got) assert.equal(m, loads[1].model, order);
    assert.equal(loads[0].model.released, true, `${order}: the superseded model is released`);
    assert.equal(loads[1].model.released, false);
    assert.equal(src.state.state, 'ready');
    await src.close();
  }
});

test('a first load that fails after the model changed on disk: its waiters get the newer load, and its failure', async () => {
  const { load, loads } = slowLoader();
  const src = new ModelSource(path.join(tmp, 'slow.onnx'), { watchIntervalMs: 0, load });
  src.register();
  const early = src.get();
  void src.reload();
  loads[0].fail(new Error('the half-copied file is not a model'));
  await new Promise((r) => setImmediate(r));
  loads[1].finish();
  assert.equal(await early, loads[1].model);
  await src.close();
  // ... and a newer load that fails gives its own error to those who waited for the first.
  const second = slowLoader();
  const src2 = new ModelSource(path.join(tmp, 'slow.onnx'), { watchIntervalMs: 0, load: second.load });
  src2.register();
  const waiting = src2.get();
  void src2.reload().catch(() => undefined);
  second.loads[0].finish();
  await new Promise((r) => setImmediate(r));
  second.loads[1].fail(new Error('the new file is broken'));
  await assert.rejects(waiting, /the new file is broken/);
  assert.equal(src2.state.state, 'failed');
  await src2.close();
});
