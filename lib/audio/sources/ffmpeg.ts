/**
 * Any ffmpeg input (a camera's microphone over RTSP, an HTTP stream, a file) decoded to
 * float32 PCM on ffmpeg's stdout pipe. Audio only: video, subtitles and data are dropped.
 */
import { BackoffOptions } from '../../util/backoff';
import { concatScript, hasCredentials, redactCredentials, SCRIPT_INPUT_ARGS, withCredentials } from '../../util/url-credentials';
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
  const url = withCredentials(ffmpegPathOf(o.url), o.username, o.password);
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
  const url = withCredentials(ffmpegPathOf(o.url), o.username, o.password);
  return hasCredentials(url) ? concatScript(url, demuxerOptions(url)) : undefined;
}

/** ffmpeg's input protocols that read from the network: a stream, reconnected when it stops. */
const NETWORK_PROTOCOLS = new Set([
  'amqp', 'ffrtmphttp', 'ftp', 'gopher', 'gophers', 'hls', 'http', 'httpproxy', 'https', 'ipfs', 'ipns', 'mmsh', 'mmst', 'rist',
  'rtmp', 'rtmpe', 'rtmps', 'rtmpt', 'rtmpte', 'rtmpts', 'rtp', 'rtsp', 'rtsps', 'sctp', 'sftp', 'srt', 'srtp', 'tcp', 'tls', 'udp', 'udplite', 'unix', 'zmq',
]);
/** ffmpeg's protocols that read local data (a file, or files put together): they end. */
const LOCAL_PROTOCOLS = new Set(['async', 'bluray', 'cache', 'concat', 'concatf', 'crypto', 'data', 'file', 'subfile']);
/** ffmpeg's own standard input or a descriptor of it: mic-capture gives ffmpeg nothing there. */
const PROCESS_PROTOCOLS = new Set(['fd', 'pipe']);

/** ffmpeg's input protocols by what they read (the editor form keeps the same lists: nodes/mic-capture.html). */
export const FFMPEG_INPUT_PROTOCOLS: Readonly<Record<'network' | 'local' | 'process', ReadonlySet<string>>> = {
  network: NETWORK_PROTOCOLS,
  local: LOCAL_PROTOCOLS,
  process: PROCESS_PROTOCOLS,
};

/** The protocol an ffmpeg input names, lower-case (`rtsp` of rtsp://…), or undefined for a path. */
function protocolOf(url: string): string | undefined {
  return /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1].toLowerCase();
}

/**
 * What is wrong with an ffmpeg input mic-capture cannot read, in words naming `url`; undefined
 * when it can. ffmpeg's standard input (`-`, pipe:, fd:) is not fed; an unknown protocol
 * written as a URL (`rtspx://…`) is a mistyped one, not a file.
 */
export function ffmpegInputProblem(url: string): string | undefined {
  const protocol = protocolOf(url);
  if (url === '-' || (protocol && PROCESS_PROTOCOLS.has(protocol))) {
    return `url: expected a stream URL (rtsp://…, http://…) or a file path, not ffmpeg's standard input ${JSON.stringify(url)}, which mic-capture does not feed`;
  }
  if (protocol && !NETWORK_PROTOCOLS.has(protocol) && !LOCAL_PROTOCOLS.has(protocol) && url.startsWith('://', protocol.length)) {
    return `url: expected rtsp://, rtsps://, http://, https://, srt://, udp://, tcp://… or a file path; ffmpeg has no protocol "${protocol}" (in ${JSON.stringify(redactCredentials(url))})`;
  }
  return undefined;
}

/**
 * A local input (a path, a file: URL, or files put together by concat: and the like), as opposed
 * to a stream from the network. A file ends; a stream that stops is reconnected. A path may hold
 * a colon (`clips/10:00.wav`, `a:b.wav`): only a protocol ffmpeg reads from the network makes a stream.
 */
export function isFileInput(url: string): boolean {
  const protocol = protocolOf(url);
  return !protocol || !NETWORK_PROTOCOLS.has(protocol);
}

/**
 * A path without a protocol ffmpeg knows (`clips/a.wav`, `a:b.wav`): ffmpeg would read the latter
 * as the protocol "a" and find none, so such a path is given to ffmpeg whole (see ffmpegInputOf).
 */
export function isPlainPath(url: string): boolean {
  const protocol = protocolOf(url);
  return !protocol || (!NETWORK_PROTOCOLS.has(protocol) && !LOCAL_PROTOCOLS.has(protocol) && !PROCESS_PROTOCOLS.has(protocol));
}

/** A path whose first colon ffmpeg would take for a protocol's (`a:b.wav`) as a file: URL; others as they are. */
function ffmpegPathOf(url: string): string {
  return isPlainPath(url) && protocolOf(url) ? `file:${url}` : url;
}

export function createFfmpegSource(o: FfmpegOptions): ProcessSource {
  if (!o.url || typeof o.url !== 'string') throw new Error('url: expected an ffmpeg input URL such as rtsp://camera/stream or a file path');
  const problem = ffmpegInputProblem(o.url);
  if (problem) throw new Error(problem);
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
