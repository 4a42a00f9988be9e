// The camera registry: found by id, one camera per id, and every change (registered, removed, connection state) heard.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { CAMERA_CHANGE_LISTENERS_MAX, cameraIdHolder, findCamera, onCameraChange, registerCamera } from '../../lib/camera/registry';
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

test('a second camera with an id already registered is refused, naming the first; the first stays, heard; once it is removed the id is free', () => {
  const heard: string[] = [];
  const stop = onCameraChange((id) => heard.push(id));
  const first = handle('cam-b');
  const second = handle('cam-b');
  try {
    const unregisterFirst = registerCamera(first, 'vigie-camera "Dome A" (node a)');
    heard.length = 0;
    assert.equal(cameraIdHolder('cam-b'), 'vigie-camera "Dome A" (node a)');
    assert.throws(() => registerCamera(second, 'vigie-camera "Dome B" (node b)'), {
      message: 'camera.cameraId: "cam-b" is already the Camera id of vigie-camera "Dome A" (node a); expected an id of its own (the live video, the console and the audit log know a camera by its id): this camera is not used',
    });
    assert.equal(findCamera('cam-b'), first, 'the first is still the one found');
    assert.deepEqual(heard, [], 'a refused camera is no news');
    second.emit('state', 'failed');
    assert.deepEqual(heard, [], 'nor its state');
    assert.equal(second.listenerCount('state'), 0);
    first.emit('state', 'failed');
    assert.deepEqual(heard, ['cam-b']);
    // registering the same connection again (a retry) is no conflict
    registerCamera(first, 'vigie-camera "Dome A" (node a)');
    // a redeploy: the old one goes (close) before the new one comes
    unregisterFirst();
    assert.equal(cameraIdHolder('cam-b'), undefined);
    const unregisterSecond = registerCamera(second, 'vigie-camera "Dome B" (node b)');
    assert.equal(findCamera('cam-b'), second);
    heard.length = 0;
    first.emit('state', 'closed');
    assert.deepEqual(heard, [], 'the removed one\'s state is not heard');
    unregisterSecond();
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
