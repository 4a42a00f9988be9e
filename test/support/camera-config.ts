/** A camera config for tests: on loopback at `port`, 8 m up at 45° N 4° E, facing north, default calibration. */
import { DEFAULT_CALIBRATION } from '../../lib/camera/geometry';
import type { CameraConfig } from '../../lib/camera/types';

export function loopbackCamera(port: number, extra: Partial<CameraConfig> = {}): CameraConfig {
  return {
    id: 'cam-a',
    name: 'Camera A',
    host: '127.0.0.1',
    port,
    lat: 45.0,
    lon: 4.0,
    heightM: 8,
    mountHeadingDeg: 0,
    tiltOffsetDeg: 0,
    calibration: { ...DEFAULT_CALIBRATION },
    maxRangeM: 300,
    blindSectors: [],
    ...extra,
  };
}
