/**
 * An HTTPS front for a plain HTTP server on loopback, as a camera that takes ONVIF only over
 * HTTPS: a real TLS server (Node's tls) with a self-signed certificate made by openssl at test
 * time, piping each connection's decrypted bytes to `farPort`. A client that speaks plain HTTP
 * to it fails the handshake, as on a real HTTPS-only camera.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { tempDir } from './tmp';

export interface TlsFront {
  /** The loopback port HTTPS clients connect to. */
  readonly port: number;
  /** Handshakes that completed (a client that refused the certificate or spoke HTTP is not counted). */
  readonly handshakes: number;
  close(): Promise<void>;
}

/** A self-signed certificate for 127.0.0.1 (its own authority, as a camera's factory certificate). */
export function makeSelfSignedCertificate(): { certFile: string; keyFile: string } {
  const dir = tempDir('vigie-camera-tls-');
  const certFile = path.join(dir, 'camera.pem');
  const keyFile = path.join(dir, 'camera.key');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
  ], { stdio: 'pipe' });
  return { certFile, keyFile };
}

export async function startTlsFront(farPort: number): Promise<TlsFront> {
  const { certFile, keyFile } = makeSelfSignedCertificate();
  const sockets = new Set<net.Socket>();
  let handshakes = 0;
  const server = tls.createServer({ cert: fs.readFileSync(certFile), key: fs.readFileSync(keyFile) }, (secure) => {
    handshakes++;
    const far = net.connect(farPort, '127.0.0.1');
    sockets.add(secure).add(far);
    const end = () => {
      secure.destroy();
      far.destroy();
      sockets.delete(secure);
      sockets.delete(far);
    };
    secure.on('error', end).on('close', end);
    far.on('error', end).on('close', end);
    secure.pipe(far).pipe(secure);
  });
  // a plain HTTP request, or a client refusing the certificate: the handshake fails, the socket is closed
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    get handshakes() {
      return handshakes;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
