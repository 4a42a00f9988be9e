/**
 * Which authentication a camera's plain rtsp:// stream asks for. ffmpeg answers the camera's
 * challenge itself (Digest when the camera offers it, else Basic), so the relay cannot tell:
 * one DESCRIBE without credentials, and the schemes of its 401 answer, can. Basic over plain
 * rtsp:// sends the user and password readable by anyone on the network path (base64 is no
 * encryption). The request opens no session (no SETUP), so it takes none of the camera's streams.
 */
import * as net from 'net';

/** Longest answer head read (an RTSP 401 is a few hundred bytes). */
const MAX_HEAD_BYTES = 16 * 1024;

/**
 * The authentication schemes (lower case: "basic", "digest"…) the RTSP server at `url` asks for,
 * from a DESCRIBE sent without credentials; empty when it asks for none (it answered other than
 * 401). Rejects when it cannot be reached or answers no RTSP within `timeoutMs`, or at once
 * when `signal` aborts (its socket closed: a camera that never answers holds nothing open).
 */
export function rtspAuthSchemes(url: string, timeoutMs = 5000, signal?: AbortSignal): Promise<string[]> {
  const u = new URL(url);
  if (u.protocol !== 'rtsp:') return Promise.reject(new Error(`not an rtsp: URL: ${u.protocol}`));
  // The address without credentials: none is ever sent by this probe.
  u.username = '';
  u.password = '';
  const port = Number(u.port || 554);
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  if (signal?.aborted) return Promise.reject(new Error(`not asked ${host}:${port}: stopped`));
  return new Promise((resolve, reject) => {
    let head = '';
    let settled = false;
    const socket = net.connect({ host, port });
    const onAbort = () => finish(new Error(`stopped before ${host}:${port} answered`));
    const finish = (err: Error | undefined, schemes?: string[]) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      if (err) reject(err);
      else resolve(schemes ?? []);
    };
    const timer = setTimeout(() => finish(new Error(`no RTSP answer from ${host}:${port} within ${timeoutMs} ms`)), timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.setEncoding('latin1');
    socket.on('connect', () => socket.write(`DESCRIBE ${u.href} RTSP/1.0\r\nCSeq: 1\r\nAccept: application/sdp\r\nUser-Agent: vigie\r\n\r\n`));
    socket.on('data', (chunk: string) => {
      head += chunk;
      const end = head.indexOf('\r\n\r\n');
      if (end < 0 && head.length < MAX_HEAD_BYTES) return;
      const lines = head.slice(0, end < 0 ? head.length : end).split('\r\n');
      const status = /^RTSP\/\d\.\d (\d{3})/.exec(lines[0] ?? '');
      if (!status) return finish(new Error(`${host}:${port} answered no RTSP`));
      if (status[1] !== '401') return finish(undefined, []);
      const schemes = lines
        .map((l) => /^www-authenticate:\s*([A-Za-z0-9_-]+)/i.exec(l)?.[1]?.toLowerCase())
        .filter((s): s is string => s !== undefined);
      finish(undefined, [...new Set(schemes)]);
    });
    socket.on('error', (err) => finish(err));
    socket.on('close', () => finish(new Error(`${host}:${port} closed the connection before answering`)));
  });
}

/** Basic is offered and Digest is not: ffmpeg will send the password readable. */
export function basicOnly(schemes: readonly string[]): boolean {
  return schemes.includes('basic') && !schemes.includes('digest');
}

/**
 * The warning for a stream that would get the camera's password in Basic over plain rtsp://,
 * for the camera's form ("Test connection"); undefined when it is not so, or cannot be told.
 */
export async function basicOverRtspNotice(streamUrl: string | undefined, timeoutMs = 3000): Promise<string | undefined> {
  let url: URL;
  try {
    url = new URL(streamUrl ?? '');
  } catch {
    return undefined;
  }
  if (url.protocol !== 'rtsp:') return undefined;
  const schemes = await rtspAuthSchemes(url.href, timeoutMs).catch(() => [] as string[]);
  if (!basicOnly(schemes)) return undefined;
  return `the stream rtsp://${url.host} asks for Basic authentication only: the user and password would cross the network readable (Basic is not encrypted). Turn on Digest authentication on the camera, or use rtsps://`;
}
