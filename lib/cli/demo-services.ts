/**
 * What the street demo needs besides Node-RED: an embedded MQTT broker (aedes) on loopback
 * and the virtual ONVIF PTZ cameras of the demo crossroads. Their addresses and the cameras'
 * demo credentials reach the flow through environment variables (VIGIE_MQTT_*, VIGIE_CAM_*,
 * VIGIE_CAMERA_USER/PASSWORD) that the flow's config nodes reference as ${...} / $(...).
 */
import { Aedes } from 'aedes';
import { randomBytes } from 'crypto';
import * as net from 'net';
import { DEMO_CAMERAS } from '../sim/demo-cameras';
import { VirtualCamera } from '../sim/camera/virtual-camera';

export interface DemoServices {
  mqttUrl: string;
  env: Record<string, string>;
  cameras: Array<{ id: string; camera: VirtualCamera; port: number }>;
  stop(): Promise<void>;
}

export async function startDemoServices(opts: { brokerPort: number; log: (l: string) => void }): Promise<DemoServices> {
  const broker = await Aedes.createBroker();
  const server = net.createServer(broker.handle);
  // Closing a server waits for its connections: keep them to end them on stop.
  const sockets = new Set<net.Socket>();
  server.on('connection', (sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE' && opts.brokerPort !== 0) {
        opts.log(`MQTT port ${opts.brokerPort} is busy; using a free port`);
        server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port));
      } else reject(err);
    });
    server.listen(opts.brokerPort, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port));
  });
  const env: Record<string, string> = { VIGIE_MQTT_HOST: '127.0.0.1', VIGIE_MQTT_PORT: String(port), VIGIE_MQTT_USER: '', VIGIE_MQTT_PASSWORD: '', VIGIE_SITE: 'demo' };

  // Demo-only credentials, new for every run: the cameras exist only while the demo runs.
  const username = 'vigie-demo';
  const password = randomBytes(12).toString('base64url');
  env.VIGIE_CAMERA_USER = username;
  env.VIGIE_CAMERA_PASSWORD = password;
  const cameras: DemoServices['cameras'] = [];
  try {
    for (const c of DEMO_CAMERAS) {
      const camera = new VirtualCamera({ host: '127.0.0.1', port: 0, username, password, name: c.name, mountHeadingDeg: c.mountHeadingDeg, panSpeedDegPerS: 90, fps: 10 });
      const { onvifPort } = await camera.start();
      cameras.push({ id: c.id, camera, port: onvifPort });
      env[c.portEnv] = String(onvifPort);
      opts.log(`virtual camera ${c.id} (ONVIF) on 127.0.0.1:${onvifPort}`);
    }
  } catch (err) {
    for (const c of cameras) await c.camera.stop();
    server.close();
    throw err;
  }

  return {
    mqttUrl: `mqtt://127.0.0.1:${port}`,
    env,
    cameras,
    async stop() {
      for (const c of cameras) await c.camera.stop().catch(() => undefined);
      await new Promise<void>((r) => broker.close(() => r()));
      for (const sock of sockets) sock.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
