/**
 * Process-wide registry of camera connections, so that nodes which do not own a camera
 * (video relay, dashboard) can find it by its id, and hear when one comes, goes, or changes
 * connection state (connecting, connected, failed, closed).
 *
 * A camera id names one camera: the live-video and snapshot addresses, the console and the audit
 * log know a camera by it. A second camera registered under an id already held is refused (it
 * would otherwise serve its picture for alerts steered with the first).
 */
import { EventEmitter } from 'events';
import { CameraHandle } from './types';

interface Registration {
  conn: CameraHandle;
  /** Which node registered it, in words (named when another asks for the same id). */
  owner: string;
}

const cameras = new Map<string, Registration>();
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

/** The node holding a camera id, in the words it registered with; undefined when the id is free. */
export function cameraIdHolder(cameraId: string): string | undefined {
  return cameras.get(cameraId)?.owner;
}

/** The error of a camera whose id another holds: it names the field, the id and the other node. */
export function cameraIdTakenError(cameraId: string, holder: string): Error {
  return new Error(
    `camera.cameraId: "${cameraId}" is already the Camera id of ${holder}; expected an id of its own (the live video, the console and the audit log know a camera by its id): this camera is not used`,
  );
}

/**
 * Registers a camera; returns a function that removes exactly this registration. Throws
 * (cameraIdTakenError) when another camera holds its id: the first one stays.
 */
export function registerCamera(conn: CameraHandle, owner = `camera "${conn.id}"`): () => void {
  const held = cameras.get(conn.id);
  if (held && held.conn !== conn) throw cameraIdTakenError(conn.id, held.owner);
  cameras.set(conn.id, { conn, owner });
  if (emits(conn) && !stateListeners.has(conn)) {
    const onState = (): void => {
      if (cameras.get(conn.id)?.conn === conn) changes.emit('change', conn.id);
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
  if (cameras.get(conn.id)?.conn !== conn) return;
  cameras.delete(conn.id);
  changes.emit('change', conn.id);
}

export function findCamera(cameraId: string): CameraHandle | undefined {
  return cameras.get(cameraId)?.conn;
}

export function listCameras(): CameraHandle[] {
  return [...cameras.values()].map((r) => r.conn);
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
