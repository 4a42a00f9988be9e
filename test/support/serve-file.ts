/**
 * A file served over HTTP on 127.0.0.1, as a camera serves its stream: the relay reads only
 * rtsp:, rtsps:, http: and https: sources (never a local file), so a test clip goes this way.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import { AddressInfo } from 'node:net';

export interface ServedFile {
  url: string;
  close(): Promise<void>;
}

export function serveFile(file: string, contentType = 'video/mp2t'): Promise<ServedFile> {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': contentType, 'Content-Length': String(fs.statSync(file).size) });
    fs.createReadStream(file).pipe(res);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}/clip`,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}
