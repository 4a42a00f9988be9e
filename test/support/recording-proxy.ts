/**
 * An HTTP + WebSocket reverse proxy on loopback that records what the server sends, so the
 * end-to-end privacy test can scan every HTTP response and WebSocket message a browser got.
 * WebSocket compression is stripped from the handshake so messages can be read as sent; HTTP
 * bodies are recorded as sent, with their Content-Encoding for the scanner to undo.
 * Recording is bounded (per body, per WebSocket connection); what goes past a bound is still
 * forwarded but not recorded, and is marked (`truncated`, `wsTruncated`) so the scan can say so.
 */
import * as http from 'http';
import * as net from 'net';

export interface RecordedHttp {
  method: string;
  url: string;
  status: number;
  contentType?: string;
  contentEncoding?: string;
  body: Buffer;
  /** The body went past the recording bound: only its start is in `body`. */
  truncated: boolean;
}

export interface RecordedWsMessage {
  url: string;
  opcode: number; // 1 text, 2 binary
  data: Buffer;
}

export interface RecordingProxy {
  url: string;
  http: RecordedHttp[];
  ws: RecordedWsMessage[];
  /** WebSocket connections that went past the recording bound: later messages were not recorded. */
  wsTruncated: Array<{ url: string; recordedBytes: number }>;
  close(): Promise<void>;
}

export interface RecordingLimits {
  /** Bytes recorded per HTTP body (default 64 MB). */
  maxBodyBytes?: number;
  /** Message bytes recorded per WebSocket connection (default 256 MB). */
  maxWsBytesPerConnection?: number;
}

export async function startRecordingProxy(target: string, limits: RecordingLimits = {}): Promise<RecordingProxy> {
  const t = new URL(target);
  const maxBody = limits.maxBodyBytes ?? 64 << 20;
  const maxWs = limits.maxWsBytesPerConnection ?? 256 << 20;
  const recordedHttp: RecordedHttp[] = [];
  const recordedWs: RecordedWsMessage[] = [];
  const wsTruncated: RecordingProxy['wsTruncated'] = [];
  const sockets = new Set<net.Socket>();

  const server = http.createServer((req, res) => {
    const up = http.request(
      { host: t.hostname, port: t.port, method: req.method, path: req.url, headers: { ...req.headers, host: t.host } },
      (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        const chunks: Buffer[] = [];
        let size = 0;
        // Joined once per read after new data (a stream such as MJPEG may be read while it flows).
        let joined: Buffer | undefined;
        const rec: RecordedHttp = {
          method: req.method ?? 'GET',
          url: req.url ?? '',
          status: upRes.statusCode ?? 0,
          contentType: upRes.headers['content-type'],
          contentEncoding: upRes.headers['content-encoding'],
          get body() {
            return (joined ??= Buffer.concat(chunks, size));
          },
          truncated: false,
        };
        recordedHttp.push(rec);
        upRes.on('data', (c: Buffer) => {
          const keep = Math.max(0, Math.min(c.length, maxBody - size));
          if (keep > 0) {
            chunks.push(c.subarray(0, keep));
            size += keep;
            joined = undefined;
          }
          if (keep < c.length) rec.truncated = true;
          res.write(c);
        });
        upRes.on('end', () => res.end());
        upRes.on('error', () => res.destroy());
        res.on('close', () => upRes.destroy());
      },
    );
    up.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(up);
  });

  server.on('upgrade', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    const upstream = net.connect(Number(t.port), t.hostname);
    sockets.add(client);
    sockets.add(upstream);
    const headers = { ...req.headers, host: t.host };
    delete headers['sec-websocket-extensions'];
    let handshake = `${req.method} ${req.url} HTTP/1.1\r\n`;
    for (const [k, v] of Object.entries(headers)) {
      for (const vv of Array.isArray(v) ? v : [v]) if (vv !== undefined) handshake += `${k}: ${vv}\r\n`;
    }
    upstream.write(handshake + '\r\n');
    if (head.length) upstream.write(head);
    const parser = new WsServerFrameParser(req.url ?? '', recordedWs, maxWs, (recordedBytes) => wsTruncated.push({ url: req.url ?? '', recordedBytes }));
    upstream.on('data', (d: Buffer) => {
      parser.push(d);
      client.write(d);
    });
    client.on('data', (d: Buffer) => upstream.write(d));
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('close', end);
    upstream.on('close', end);
    client.on('error', end);
    upstream.on('error', end);
  });

  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    http: recordedHttp,
    ws: recordedWs,
    wsTruncated,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

/** Parses the server→client direction: the HTTP 101 response, then unmasked frames. */
class WsServerFrameParser {
  private buf = Buffer.alloc(0);
  private handshakeDone = false;
  private fragments: Buffer[] = [];
  private fragOpcode = 0;
  private total = 0;
  private stopped = false;
  constructor(
    private readonly url: string,
    private readonly out: RecordedWsMessage[],
    private readonly maxBytes: number,
    private readonly onTruncated: (recordedBytes: number) => void,
  ) {}

  push(d: Buffer): void {
    if (this.stopped) return;
    this.buf = Buffer.concat([this.buf, d]);
    if (!this.handshakeDone) {
      const i = this.buf.indexOf('\r\n\r\n');
      if (i < 0) return;
      this.buf = this.buf.subarray(i + 4);
      this.handshakeDone = true;
    }
    for (;;) {
      if (this.buf.length < 2) return;
      const fin = (this.buf[0] & 0x80) !== 0;
      const opcode = this.buf[0] & 0x0f;
      const masked = (this.buf[1] & 0x80) !== 0;
      let len = this.buf[1] & 0x7f;
      let off = 2;
      if (len === 126) {
        if (this.buf.length < 4) return;
        len = this.buf.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (this.buf.length < 10) return;
        len = Number(this.buf.readBigUInt64BE(2));
        off = 10;
      }
      if (masked) off += 4;
      if (this.buf.length < off + len) return;
      let payload = this.buf.subarray(off, off + len);
      if (masked) {
        const key = this.buf.subarray(off - 4, off);
        payload = Buffer.from(payload.map((b, i) => b ^ key[i % 4]));
      }
      this.buf = this.buf.subarray(off + len);
      if (this.total + len > this.maxBytes) {
        this.stopped = true;
        this.buf = Buffer.alloc(0);
        this.onTruncated(this.total);
        return;
      }
      this.total += len;
      if (opcode === 0) {
        this.fragments.push(Buffer.from(payload));
      } else if (opcode === 1 || opcode === 2) {
        this.fragOpcode = opcode;
        this.fragments = [Buffer.from(payload)];
      } else continue; // control frames
      if (fin && this.fragments.length) {
        this.out.push({ url: this.url, opcode: this.fragOpcode, data: Buffer.concat(this.fragments) });
        this.fragments = [];
      }
    }
  }
}
