/**
 * Process-wide registry of camera connections, so that nodes which do not own a camera
 * (video relay, dashboard) can find it by its id, and hear when one comes, goes, or changes
 * connection state (connecting, connected, failed, closed).
 */
import { EventEmitter } from 'events';
import { CameraHandle } from './types';

const cameras = new Map<string, CameraHandle>();
/**
 * Listeners of camera changes before Node warns of a leak. One per alert-dashboard node (taken
 * off on close): a large control room may pass Node's default of 10, not 100; a listener added
 * per alert or per camera event (a real leak) still passes it and is still reported.
 */
export const CAMERA_CHANGE_LISTENERS_MAX = 100;
const changes = new EventEmitter();
changes.setMaxListeners(CAMERA_CHANGE_LISTENERS_MAX);
/** The listener put on each registered connection's 'state' events, to take it off again. */
const stateListeners = new Map<CameraHandle, () => void>();

type Emitting = CameraHandle & Pick<EventEmitter, 'on' | 'off'>;
const emits = (c: CameraHandle): c is Emitting => typeof (c as Partial<EventEmitter>).on === 'function' && typeof (c as Partial<EventEmitter>).off === 'function';

/** Registers a camera; returns a function that removes exactly this registration. */
export function registerCamera(conn: CameraHandle): () => void {
  cameras.set(conn.id, conn);
  if (emits(conn) && !stateListeners.has(conn)) {
    const onState = (): void => {
      if (cameras.get(conn.id) === conn) changes.emit('change', conn.id);
    };
    conn.on('state', onState);
    stateListeners.set(conn, onState);
  }
  changes.emit('change', conn.id);
  return () => unregisterCamera(conn);
}

export function unregisterCamera(conn: CameraHandle): void {
  const listener = stateListeners.get(conn);
  if (listener && emits(conn)) conn.off('state', listener);
  stateListeners.delete(conn);
  if (cameras.get(conn.id) !== conn) return;
  cameras.delete(conn.id);
  changes.emit('change', conn.id);
}

export function findCamera(cameraId: string): CameraHandle | undefined {
  return cameras.get(cameraId);
}

export function listCameras(): CameraHandle[] {
  return [...cameras.values()];
}

/**
 * Calls `listener` with a camera's id when it is registered, unregistered, or its connection
 * changes state. Returns the function that stops it.
 */
export function onCameraChange(listener: (cameraId: string) => void): () => void {
  changes.on('change', listener);
  return () => {
    changes.off('change', listener);
  };
}
