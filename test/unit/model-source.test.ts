import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
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
  await assert.rejects(src.get(), /m\.onnx is not a loadable ONNX model/);
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
