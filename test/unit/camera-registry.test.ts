// The camera registry: found by id, and every change (registered, removed, connection state) heard.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { findCamera, onCameraChange, registerCamera } from '../../lib/camera/registry';
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
