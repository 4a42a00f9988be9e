/**
 * Real video sources and probes for the relay tests: GStreamer's RTSP server (H.264 + AAC
 * audio), ffprobe over stdin, a WebSocket collector, process-liveness checks.
 */
import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import { WebSocket } from 'ws';

export const PYTHON = '/usr/bin/python3';
const SERVER_SCRIPT = path.join(__dirname, 'rtsp-server.py');

export interface RtspServer {
  port: number;
  url: string;
  proc: ChildProcess;
  stop(): Promise<void>;
}

/** A free TCP port on 127.0.0.1 (listen on 0, read, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** Starts the GStreamer RTSP server; resolves once it listens. Stream has video AND audio. */
export function startRtspServer(
  opts: { port?: number; user?: string; password?: string; mount?: string; noAudio?: boolean; width?: number; height?: number; fps?: number } = {},
): Promise<RtspServer> {
  const mount = opts.mount ?? '/test';
  const args = [SERVER_SCRIPT, '--port', String(opts.port ?? 0), '--mount', mount];
  if (opts.user) args.push('--user', opts.user, '--password', opts.password ?? '');
  if (opts.noAudio) args.push('--no-audio');
  if (opts.width) args.push('--width', String(opts.width));
  if (opts.height) args.push('--height', String(opts.height));
  if (opts.fps) args.push('--fps', String(opts.fps));
  const proc = spawn(PYTHON, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stderr!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const stop = async (): Promise<void> => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const gone = new Promise<void>((r) => proc.once('exit', () => r()));
    proc.kill('SIGTERM');
    const t = setTimeout(() => proc.kill('SIGKILL'), 3000);
    await gone;
    clearTimeout(t);
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`RTSP server did not start: ${out}`));
    }, 20_000);
    proc.stdout!.on('data', (d: Buffer) => {
      const m = /READY (\d+)/.exec(d.toString());
      if (m) {
        clearTimeout(timer);
        const port = Number(m[1]);
        resolve({ port, url: `rtsp://127.0.0.1:${port}${mount}`, proc, stop });
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`RTSP server exited (${code}): ${out}`));
    });
  });
}

export interface ProbedStream {
  codec_type: string;
  codec_name: string;
}

/** ffprobe on bytes given on stdin (no temp file): the streams it finds. */
export function ffprobeStreams(bytes: Buffer): ProbedStream[] {
  const r = spawnSync('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_type,codec_name', '-of', 'json', '-i', 'pipe:0'], { input: bytes, timeout: 30_000 });
  if (r.status !== 0) throw new Error(`ffprobe failed: ${r.stderr.toString()}`);
  return (JSON.parse(r.stdout.toString()) as { streams: ProbedStream[] }).streams;
}

/** Counts decodable frames in the bytes (ffprobe -count_frames). */
export function ffprobeFrameCount(bytes: Buffer): number {
  const r = spawnSync('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=nb_read_frames', '-of', 'csv=p=0', '-i', 'pipe:0'], { input: bytes, timeout: 30_000 });
  return Number(r.stdout.toString().trim()) || 0;
}

export interface Collected {
  texts: string[];
  binaries: Buffer[];
  closed?: { code: number; reason: string };
}

/** Opens a WebSocket and collects messages until `until(collected)` or timeout. */
/** A live URL with a fresh ticket from the ticket route next to it, as the dashboard does. */
export async function withTicket(wsUrl: string): Promise<string> {
  const u = new URL(wsUrl);
  const t = new URL(u.toString());
  t.protocol = u.protocol === 'wss:' ? 'https:' : 'http:';
  t.pathname = u.pathname.replace(/\/live$/, '/ticket');
  t.search = '';
  const r = await fetch(t);
  if (!r.ok) throw new Error(`ticket ${t}: HTTP ${r.status}`);
  u.searchParams.set('ticket', ((await r.json()) as { ticket: string }).ticket);
  return u.toString();
}

/**
 * Collects a live WebSocket's messages until `until` holds. A `/live` URL without a ticket
 * first gets one (as the dashboard does), unless `ticket: false`.
 */
export async function collectWs(url: string, until: (c: Collected) => boolean, timeoutMs = 90_000, opts: { ticket?: boolean } = {}): Promise<Collected & { ws: WebSocket }> {
  if (opts.ticket !== false && /\/live(\?|$)/.test(url) && !new URL(url).searchParams.has('ticket')) url = await withTicket(url);
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const c: Collected = { texts: [], binaries: [] };
    let done = false;
    const finish = (err?: Error): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (err) {
        ws.terminate();
        reject(err);
      } else resolve({ ...c, ws });
    };
    const timer = setTimeout(() => finish(new Error(`timed out: ${c.texts.length} texts, ${c.binaries.length} binaries, ${JSON.stringify(c.texts.slice(-2))}`)), timeoutMs);
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) c.binaries.push(Buffer.from(data));
      else c.texts.push(data.toString());
      if (until(c)) finish();
    });
    ws.on('close', (code, reason) => {
      c.closed = { code, reason: reason.toString() };
      if (until(c)) finish();
      else finish(new Error(`closed ${code} ${reason.toString()} before condition; texts ${JSON.stringify(c.texts)}`));
    });
    ws.on('error', (e) => finish(e));
  });
}

export function closeWs(ws: WebSocket): Promise<void> {
  return new Promise((resolve) => {
    if (ws.readyState === WebSocket.CLOSED) return resolve();
    ws.once('close', () => resolve());
    ws.close();
    setTimeout(() => {
      ws.terminate();
      resolve();
    }, 3000).unref();
  });
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    // A zombie still answers signal 0; check /proc state.
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/\) Z /.test(stat);
  } catch {
    return false;
  }
}

/** ffmpeg processes that are children of this process. */
export function childFfmpegPids(): number[] {
  const out: number[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const m = /^\d+ \((.*)\) (\S) (\d+)/.exec(stat);
      if (m && m[1] === 'ffmpeg' && Number(m[3]) === process.pid && m[2] !== 'Z') out.push(Number(d));
    } catch {
      /* gone */
    }
  }
  return out;
}

/** tfdt baseMediaDecodeTime of a moof+mdat fragment (independent of lib/video/mp4 on purpose). */
export function tfdtOf(frag: Buffer): number {
  const i = frag.indexOf('tfdt', 0, 'latin1');
  if (i < 0) throw new Error('no tfdt');
  const version = frag[i + 4];
  return version === 1 ? Number(frag.readBigUInt64BE(i + 8)) : frag.readUInt32BE(i + 8);
}

export function boxType(b: Buffer): string {
  return b.toString('latin1', 4, 8);
}

/** Top-level box types in a buffer. */
export function topBoxes(b: Buffer): string[] {
  const out: string[] = [];
  let p = 0;
  while (p + 8 <= b.length) {
    const size = b.readUInt32BE(p);
    out.push(b.toString('latin1', p + 4, p + 8));
    if (size < 8) break;
    p += size;
  }
  return out;
}
