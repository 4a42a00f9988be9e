/**
 * A camera-like snapshot server that checks Digest (qop=auth) credentials itself, as ONVIF
 * cameras do, and records the Authorization header of every request.
 */
import * as crypto from 'node:crypto';
import * as http from 'node:http';
import { spawnSync } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { parseAuthParams } from '../../lib/video/snapshot';

export interface DigestCamera {
  /** The snapshot's URL. */
  url: string;
  /** Authorization header of each request ('' when none was sent). */
  requests: string[];
  /** Requests answered with the picture. */
  served(): number;
  close(): Promise<void>;
}

const md5 = (s: string): string => crypto.createHash('md5').update(s).digest('hex');

/** A small real JPEG made by ffmpeg. */
export function testJpeg(): Buffer {
  const r = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc=size=64x48', '-frames:v', '1', '-c:v', 'mjpeg', '-f', 'image2pipe', 'pipe:1']);
  if (r.status !== 0 || !r.stdout.length) throw new Error(`ffmpeg made no JPEG: ${r.stderr}`);
  return r.stdout;
}

export async function startDigestCamera(user: string, pass: string): Promise<DigestCamera> {
  const realm = 'cam';
  const nonce = crypto.randomBytes(8).toString('hex');
  const jpeg = testJpeg();
  const requests: string[] = [];
  let served = 0;
  const server = http.createServer((req, res) => {
    const auth = req.headers.authorization ?? '';
    requests.push(auth);
    let ok = false;
    if (auth.startsWith('Digest ')) {
      const p = parseAuthParams(auth.slice(7));
      const ha1 = md5(`${user}:${realm}:${pass}`);
      const ha2 = md5(`GET:${p.uri}`);
      ok = p.username === user && p.nonce === nonce && p.uri === req.url && p.response === md5(`${ha1}:${nonce}:${p.nc}:${p.cnonce}:${p.qop}:${ha2}`);
    }
    if (!ok) {
      res.writeHead(401, { 'WWW-Authenticate': `Digest realm="${realm}", nonce="${nonce}", qop="auth", opaque="xyz"` }).end();
      return;
    }
    served++;
    res.writeHead(200, { 'Content-Type': 'image/jpeg' }).end(jpeg);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/onvif/snapshot?ch=1`,
    requests,
    served: () => served,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
