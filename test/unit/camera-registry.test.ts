// The camera registry: found by id, and every change (registered, removed, connection state) heard.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { CAMERA_CHANGE_LISTENERS_MAX, findCamera, onCameraChange, registerCamera } from '../../lib/camera/registry';
import type { CameraHandle } from '../../lib/camera/types';

function handle(id: string): CameraHandle & EventEmitter {
  return Object.assign(new EventEmitter(), {
    id,
    name: id,
    state: 'connected' as const,
    config: { id } as CameraHandle['config'],
    getStreamUri: async () => '',
    getSnapshotUri: async () => '',
  });
}

test('registering, a state change and removing are each heard once; a removed camera is no longer heard', () => {
  const heard: string[] = [];
  const stop = onCameraChange((id) => heard.push(id));
  const cam = handle('cam-a');
  try {
    const unregister = registerCamera(cam);
    assert.equal(findCamera('cam-a'), cam);
    cam.emit('state', 'failed');
    unregister();
    assert.equal(findCamera('cam-a'), undefined);
    assert.deepEqual(heard, ['cam-a', 'cam-a', 'cam-a']);
    cam.emit('state', 'connected');
    assert.equal(heard.length, 3, 'a removed camera is not heard');
    assert.equal(cam.listenerCount('state'), 0, 'its listener is taken off');
    stop();
    registerCamera(cam)();
    assert.equal(heard.length, 3, 'nothing heard once stopped');
  } finally {
    stop();
  }
});

test('a camera replaced by a redeploy: the old connection\'s state is not heard, its removal does not remove the new one', () => {
  const heard: string[] = [];
  const stop = onCameraChange((id) => heard.push(id));
  const old = handle('cam-b');
  const fresh = handle('cam-b');
  try {
    const unregisterOld = registerCamera(old);
    const unregisterFresh = registerCamera(fresh);
    heard.length = 0;
    old.emit('state', 'closed');
    assert.deepEqual(heard, [], 'the replaced connection closing is no news');
    unregisterOld();
    assert.equal(findCamera('cam-b'), fresh);
    fresh.emit('state', 'failed');
    assert.deepEqual(heard, ['cam-b']);
    unregisterFresh();
  } finally {
    stop();
  }
});

test('many dashboards may listen without a leak warning; past CAMERA_CHANGE_LISTENERS_MAX Node still warns, and stopping takes each off', async () => {
  const warnings: Error[] = [];
  const onWarning = (w: Error) => warnings.push(w);
  process.on('warning', onWarning);
  const stops: Array<() => void> = [];
  const heard = new Set<number>();
  try {
    // a control room with two dozen consoles
    for (let i = 0; i < 24; i++) stops.push(onCameraChange(() => heard.add(i)));
    const unregister = registerCamera(handle('cam-many'));
    unregister();
    assert.equal(heard.size, 24, 'every listener heard the change');
    // Node says it on the process's 'warning' event, on a later tick
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(warnings.map((w) => w.name), [], 'no warning at 24');
    // a leak (a listener per event, never taken off) is still reported
    for (let i = 24; i <= CAMERA_CHANGE_LISTENERS_MAX; i++) stops.push(onCameraChange(() => undefined));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(warnings.map((w) => w.name), ['MaxListenersExceededWarning'], `a warning past ${CAMERA_CHANGE_LISTENERS_MAX}`);
  } finally {
    for (const stop of stops) stop();
    process.off('warning', onWarning);
  }
  // all taken off: a new change reaches no one of them
  heard.clear();
  registerCamera(handle('cam-after'))();
  assert.equal(heard.size, 0);
});
