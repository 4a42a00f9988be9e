/**
 * What the street demo needs besides Node-RED: an embedded MQTT broker (aedes) on loopback
 * and the virtual ONVIF PTZ cameras of the demo street. Their addresses reach the flow
 * through environment variables (VIGIE_MQTT_*, VIGIE_CAM*_PORT) that the flow's config
 * nodes reference as ${...}.
 */
import { Aedes } from 'aedes';
import * as net from 'net';

export interface DemoServices {
  mqttUrl: string;
  env: Record<string, string>;
  afterNodeRedStarted(nodeRedUrl: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startDemoServices(opts: { brokerPort: number; log: (l: string) => void }): Promise<DemoServices> {
  const broker = await Aedes.createBroker();
  const server = net.createServer(broker.handle);
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE' && opts.brokerPort !== 0) {
        opts.log(`MQTT port ${opts.brokerPort} is busy; using a free port`);
        server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port));
      } else reject(err);
    });
    server.listen(opts.brokerPort, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port));
  });
  const env: Record<string, string> = { VIGIE_MQTT_HOST: '127.0.0.1', VIGIE_MQTT_PORT: String(port) };
  return {
    mqttUrl: `mqtt://127.0.0.1:${port}`,
    env,
    async afterNodeRedStarted() {
      /* cameras' credentials are deployed here once the virtual cameras exist */
    },
    async stop() {
      await new Promise<void>((r) => server.close(() => r()));
      await new Promise<void>((r) => broker.close(() => r()));
    },
  };
}
