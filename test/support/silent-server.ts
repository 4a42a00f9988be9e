/**
 * A TCP server that takes every connection and never answers: a camera, stream or broker that
 * hangs after the connect. What waits on it ends only by its own timeout, an abort or a kill,
 * which is what the tests that use it check.
 */
import * as net from 'net';

export interface SilentServer {
  port: number;
  /** Every connection taken, in order (none is ever answered). */
  sockets: net.Socket[];
  /** Ends every connection and the server. */
  close(): Promise<void>;
}

/** Listens on 127.0.0.1 (a free port); `onData` sees what each connection sends first. */
export async function silentServer(onData?: (socket: net.Socket, first: Buffer) => void): Promise<SilentServer> {
  const sockets: net.Socket[] = [];
  const server = net.createServer((s) => {
    sockets.push(s);
    s.on('error', () => undefined);
    if (onData) s.once('data', (d: Buffer) => onData(s, d));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    sockets,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
