/**
 * What the console shows of each camera's connection: online, offline (with what it means
 * for operators and since when), or connecting. Read from the camera registry's handles; the
 * console is told of every change (lib/camera/registry.ts onCameraChange).
 */
import { cameraErrorWords } from '../camera/error-words';
import type { CameraHandle } from '../camera/types';

export interface CameraLink {
  link: 'online' | 'offline' | 'connecting';
  /** Offline: what is wrong, in operators' words. */
  problem?: string;
  /** Offline: since when (epoch ms), as this console saw it. */
  sinceMs?: number;
}

/** A connection failure, for operators: never the address or the command. */
export function problemWords(code: string | undefined): string {
  return cameraErrorWords(code).offline;
}

/**
 * Each camera's link, remembering since when one is offline. A camera no node uses (closed)
 * has none: nobody tries to reach it, so nothing is known.
 */
export class CameraLinks {
  private readonly offlineSince = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  of(handle: CameraHandle | undefined): CameraLink | undefined {
    if (!handle) return undefined;
    const { state, lastError } = handle;
    // While it retries after a failure it stays offline: "connecting" is for a first attempt.
    const offline = state === 'failed' || (state === 'connecting' && !!lastError);
    if (!offline) this.offlineSince.delete(handle.id);
    if (state === 'connected') return { link: 'online' };
    if (state === 'connecting' && !offline) return { link: 'connecting' };
    if (!offline) return undefined;
    let since = this.offlineSince.get(handle.id);
    if (since === undefined) {
      since = this.now();
      this.offlineSince.set(handle.id, since);
    }
    return { link: 'offline', problem: problemWords(lastError?.code), sinceMs: since };
  }
}
