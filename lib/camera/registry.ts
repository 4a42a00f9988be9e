/**
 * Process-wide registry of camera connections, so that nodes which do not own a camera
 * (video relay, dashboard) can find it by its id.
 */
import { CameraHandle } from './types';

const cameras = new Map<string, CameraHandle>();

/** Registers a camera; returns a function that removes exactly this registration. */
export function registerCamera(conn: CameraHandle): () => void {
  cameras.set(conn.id, conn);
  return () => {
    if (cameras.get(conn.id) === conn) cameras.delete(conn.id);
  };
}

export function unregisterCamera(conn: CameraHandle): void {
  if (cameras.get(conn.id) === conn) cameras.delete(conn.id);
}

export function findCamera(cameraId: string): CameraHandle | undefined {
  return cameras.get(cameraId);
}

export function listCameras(): CameraHandle[] {
  return [...cameras.values()];
}
