/**
 * A stand-in for the onvif client (unit tests of CameraConnection): every command answers
 * through `answer` (at once, never, or when the test says), with an empty camera at pan 0.
 * `overrides` replaces single commands (a connect that refuses the login…).
 */
import type { OnvifClient } from '../../lib/camera/connection';

export function fakeOnvifClient(answer: <T>(v: T) => Promise<T>, overrides: Partial<OnvifClient> = {}): OnvifClient {
  return {
    connect: () => answer(undefined),
    getPresets: () => answer({}),
    getStatus: () => answer({ position: { x: 0, y: 0, zoom: 0 } }),
    absoluteMove: () => answer(undefined),
    relativeMove: () => answer(undefined),
    continuousMove: () => answer(undefined),
    stop: () => answer(undefined),
    gotoPreset: () => answer(undefined),
    gotoHomePosition: () => answer(undefined),
    getStreamUri: () => answer({ uri: 'rtsp://x/' }),
    getSnapshotUri: () => answer({ uri: 'http://x/' }),
    getConfigurationOptions: () => answer(undefined),
    profiles: [{ $: { token: 'p1' }, name: 'main' }],
    ...overrides,
  } as OnvifClient;
}
