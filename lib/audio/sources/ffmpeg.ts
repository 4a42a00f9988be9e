/**
 * Any ffmpeg input (a camera's microphone over RTSP, an HTTP stream, a file) decoded to
 * float32 PCM on ffmpeg's stdout pipe. Audio only: video, subtitles and data are dropped.
 */
import { BackoffOptions } from '../../util/backoff';
import { concatScript, hasCredentials, SCRIPT_INPUT_ARGS, withCredentials } from '../../util/url-credentials';
import { ProcessSource } from './process';

export interface FfmpegOptions {
  url: string;
  /** Stream credentials (the node's credentials); never put on the command line. */
  username?: string;
  password?: string;
  sampleRate: number;
  channels: number;
  /** Read a file at its native rate (-re) instead of as fast as possible. */
  realtime?: boolean;
  binaryPath?: string;
  backoff?: BackoffOptions;
  stallMs?: number;
}

/**
 * How long ffmpeg waits on a silent stream before it exits, ms. The stall check kills it sooner
 * (stallMs); this is for an ffmpeg nobody is left to kill (a Node-RED killed with SIGKILL): it
 * would otherwise wait for ever on a camera that stopped sending, holding the connection.
 */
export const STREAM_IO_TIMEOUT_MS = 10_000;

/** Demuxer options of the source, on the command line or in the input script. */
function demuxerOptions(url: string): Array<[string, string]> {
  const timeoutUs = String(STREAM_IO_TIMEOUT_MS * 1000);
  if (/^rtsps?:/i.test(url)) return [['rtsp_transport', 'tcp'], ['timeout', timeoutUs]];
  if (/^https?:/i.test(url)) return [['rw_timeout', timeoutUs]];
  return [];
}

/**
 * ffmpeg's arguments. A source with credentials is read from a concat script on stdin
 * (`ffmpegScript`), so that they never appear in the process list.
 */
export function ffmpegArgs(o: FfmpegOptions): string[] {
  const url = withCredentials(o.url, o.username, o.password);
  const args = ['-hide_banner', '-nostdin', '-loglevel', 'error'];
  if (o.realtime) args.push('-re');
  if (hasCredentials(url)) args.push(...SCRIPT_INPUT_ARGS);
  else {
    for (const [k, v] of demuxerOptions(url)) args.push(`-${k}`, v);
    args.push('-i', url);
  }
  args.push('-vn', '-sn', '-dn', '-map', '0:a:0', '-ac', String(o.channels), '-ar', String(o.sampleRate), '-c:a', 'pcm_f32le', '-f', 'f32le', 'pipe:1');
  return args;
}

/** The input script of a source with credentials (see ffmpegArgs); undefined otherwise. */
export function ffmpegScript(o: FfmpegOptions): string | undefined {
  const url = withCredentials(o.url, o.username, o.password);
  return hasCredentials(url) ? concatScript(url, demuxerOptions(url)) : undefined;
}

/**
 * A local file (a file: URL, or a path: anything without a protocol such as rtsp: or http:), as
 * opposed to a stream. A file ends; a stream that stops is reconnected.
 */
export function isFileInput(url: string): boolean {
  return /^file:/i.test(url) || !/^[a-z][a-z0-9+.-]*:/i.test(url);
}

export function createFfmpegSource(o: FfmpegOptions): ProcessSource {
  if (!o.url || typeof o.url !== 'string') throw new Error('url: expected an ffmpeg input URL such as rtsp://camera/stream or a file path');
  if (!Number.isInteger(o.sampleRate) || o.sampleRate < 8000 || o.sampleRate > 384000) throw new Error(`sampleRate: expected an integer 8000..384000 Hz, got ${o.sampleRate}`);
  if (!Number.isInteger(o.channels) || o.channels < 1 || o.channels > 64) throw new Error(`channels: expected an integer 1..64, got ${o.channels}`);
  const src = new ProcessSource('ffmpeg', {
    binary: 'ffmpeg',
    envVar: 'VIGIE_FFMPEG',
    binaryPath: o.binaryPath,
    installHint: 'install ffmpeg (apt-get install ffmpeg) or set VIGIE_FFMPEG to its path',
    args: ffmpegArgs(o),
    stdin: ffmpegScript(o),
    format: 'FLOAT_LE',
    channels: o.channels,
    sampleRate: o.sampleRate,
    backoff: o.backoff,
    stallMs: o.stallMs ?? 10_000,
    // A file ends; a stream that stops is a fault and is reconnected.
    finite: isFileInput(o.url),
  });
  // A file read without -re arrives faster than real time.
  src.realtime = !!o.realtime || !isFileInput(o.url);
  return src;
}
