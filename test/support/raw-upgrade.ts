/**
 * A WebSocket upgrade request sent over a raw TCP socket, so that targets no WebSocket client
 * would send (`//`, `//[`) can be tried: resolves with what came back once the server closed
 * the socket (a reset counts as a close), rejects if it neither answers nor closes in time.
 */
import * as net from 'node:net';

export function rawUpgrade(port: number, target: string, timeoutMs = 60_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = '';
    const c = net.connect(port, '127.0.0.1', () =>
      c.write(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`),
    );
    const deadline = setTimeout(() => {
      c.destroy();
      reject(new Error(`the server neither answered nor closed the upgrade of ${target}`));
    }, timeoutMs);
    c.on('data', (d: Buffer) => (got += d.toString('latin1')));
    c.on('error', () => undefined);
    c.on('close', () => {
      clearTimeout(deadline);
      resolve(got);
    });
  });
}
