/**
 * Virtual ONVIF cameras on loopback (login op / pw) for the node tests, each stopped by
 * stopVirtualCameras() after the test.
 */
import { VirtualCamera, VirtualCameraOptions } from '../../lib/sim/camera/virtual-camera';

const started: VirtualCamera[] = [];

/** Quick enough by default (720°/s pan) that a move ends within a test's patience; `more`: other options (an imitation). */
export async function startVirtualCamera(speeds = { panSpeedDegPerS: 720, tiltSpeedDegPerS: 360, zoomSpeedPerS: 4 }, more: Partial<VirtualCameraOptions> = {}): Promise<VirtualCamera> {
  const c = new VirtualCamera({ username: 'op', password: 'pw', ...speeds, ...more });
  await c.start();
  started.push(c);
  return c;
}

export async function stopVirtualCameras(): Promise<void> {
  while (started.length) await started.pop()!.stop();
}
