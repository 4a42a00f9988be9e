/**
 * ffmpeg command lines and process handling for the video relay. Every command maps the
 * first video stream only and drops audio, data and subtitles (DESIGN §4.4): `-map 0:v:0
 * -an -dn -sn`. Output always goes to a pipe; nothing is written to disk.
 */
import { ChildProcess, ChildProcessByStdio } from 'child_process';
import { Readable } from 'stream';
import { findBinary } from '../util/binaries';
import { releaseUnstarted, spawnShortfall } from '../util/spawn-shortfall';
import { endWithThisProcess, spawnEndingWithThisProcess } from '../util/child-exit';
import { concatScript, hasCredentials, redactCredentials, scriptInputArgs, withCredentials } from '../util/url-credentials';

export { hasCredentials, withCredentials };

export type RtspTransport = 'tcp' | 'udp';

export class FfmpegNotFoundError extends Error {
  constructor(explicit?: string) {
    super(
      explicit || process.env.VIGIE_FFMPEG
        ? `ffmpeg not found or not executable at "${explicit || process.env.VIGIE_FFMPEG}" (${explicit ? 'node setting "ffmpeg path"' : 'environment VIGIE_FFMPEG'})`
        : 'ffmpeg not found on PATH: install ffmpeg (Debian: apt-get install ffmpeg), or set the node\'s "ffmpeg path" or the environment variable VIGIE_FFMPEG',
    );
    this.name = 'FfmpegNotFoundError';
  }
}

/** The ffmpeg to run: the node's path, then VIGIE_FFMPEG, then PATH. Throws a clear error. */
export function resolveFfmpeg(explicit?: string): string {
  const p = findBinary('ffmpeg', { explicit: explicit || undefined, envVar: 'VIGIE_FFMPEG' });
  if (!p) throw new FfmpegNotFoundError(explicit);
  return p;
}

/**
 * The schemes a camera's stream URI may have. Anything else (file:, pipe:, concat:, subfile:,
 * data: …) would have ffmpeg read the gateway's own files or processes and relay them to viewers.
 */
export const CAMERA_URL_SCHEMES: readonly string[] = ['rtsp', 'rtsps', 'http', 'https'];

/**
 * What every ffmpeg reading a camera may open (`-protocol_whitelist`): those schemes and what
 * they run over. RTSP over TCP needs rtsp and tcp; over UDP also udp and rtp (checked against a
 * real RTSP server); srtp, tls and crypto serve rtsps and https; httpproxy an http_proxy.
 */
export const CAMERA_PROTOCOL_WHITELIST = 'rtsp,rtsps,http,https,httpproxy,tcp,tls,udp,rtp,srtp,crypto';

/**
 * Throws a SourceError ("bad-url") unless `url` is an rtsp:, rtsps:, http: or https: URL with
 * no control character or space in it. `what` names where the URL came from.
 */
export function checkCameraUrl(url: string, what: string): void {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  const shown = JSON.stringify(redactCredentials(url).slice(0, 120));
  if (!scheme || !CAMERA_URL_SCHEMES.includes(scheme)) {
    throw new SourceError('bad-url', `${what} ${shown} is refused: only ${CAMERA_URL_SCHEMES.map((s) => s + ':').join(', ')} URLs are read from a camera`);
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0020\u007f]/.test(url)) throw new SourceError('bad-url', `${what} ${shown} is refused: it holds a space or a control character`);
}

export interface InputOptions {
  transport?: RtspTransport;
  /** Socket I/O timeout; a silent source makes ffmpeg exit instead of hanging. */
  ioTimeoutMs?: number;
}

/** Demuxer options of a source, as name → value (the same whether on the command line or in a script). */
function inputOptions(url: string, opts: InputOptions): Array<[string, string]> {
  const timeoutUs = String(Math.round((opts.ioTimeoutMs ?? 10_000) * 1000));
  const pairs: Array<[string, string]> = [];
  if (/^rtsps?:/i.test(url)) pairs.push(['rtsp_transport', opts.transport ?? 'tcp'], ['timeout', timeoutUs]);
  else if (/^https?:/i.test(url)) pairs.push(['rw_timeout', timeoutUs]);
  // Start quickly: the relay only needs the video stream's parameters.
  pairs.push(['fflags', '+nobuffer'], ['analyzeduration', '1000000'], ['probesize', '1000000']);
  return pairs;
}

/**
 * Input arguments of a camera source, whose protocols are limited to CAMERA_PROTOCOL_WHITELIST
 * (ffmpeg refuses a file: or pipe: source, or one such a source would open in turn). A URL with credentials is not put on the command line, where every local
 * user can read it (`ps`, /proc/<pid>/cmdline): ffmpeg reads it from a one-line concat script
 * on its standard input instead (`inputScript`), with the same demuxer options.
 */
export function inputArgs(url: string, opts: InputOptions = {}): string[] {
  const args = ['-hide_banner', '-nostdin', '-loglevel', 'error'];
  if (hasCredentials(url)) {
    args.push(...scriptInputArgs(CAMERA_PROTOCOL_WHITELIST));
    return args;
  }
  for (const [k, v] of inputOptions(url, opts)) args.push(`-${k}`, v);
  args.push('-protocol_whitelist', CAMERA_PROTOCOL_WHITELIST, '-i', url);
  return args;
}

/** The concat script that gives ffmpeg a URL with credentials (see inputArgs); undefined for other URLs. */
export function inputScript(url: string, opts: InputOptions = {}): string | undefined {
  if (!hasCredentials(url)) return undefined;
  return concatScript(url, inputOptions(url, opts));
}

/** Video only, never audio/data/subtitles. */
export const VIDEO_ONLY = ['-map', '0:v:0', '-an', '-dn', '-sn'];

export interface LiveArgsOptions extends InputOptions {
  /** Also cut fragments at this duration (not only at keyframes): lower latency on long GOPs. 0 = keyframes only. */
  fragmentMs?: number;
}

/** H.264 remux (no transcoding) into fragmented MP4 on stdout, for MSE players. */
export function liveArgs(url: string, opts: LiveArgsOptions = {}): string[] {
  const args = [...inputArgs(url, opts), ...VIDEO_ONLY, '-c:v', 'copy'];
  args.push('-f', 'mp4', '-movflags', 'frag_keyframe+empty_moov+default_base_moof');
  if (opts.fragmentMs && opts.fragmentMs > 0) args.push('-frag_duration', String(Math.round(opts.fragmentMs * 1000)));
  args.push('-flush_packets', '1', 'pipe:1');
  return args;
}

export interface MjpegArgsOptions extends InputOptions {
  fps: number;
  /** Maximum width in pixels; smaller sources are not enlarged. */
  width: number;
  /** JPEG quality scale 2 (best) … 31 (worst). */
  quality?: number;
}

/** Transcode to a stream of JPEG images on stdout, bounded in rate and size. */
export function mjpegArgs(url: string, opts: MjpegArgsOptions): string[] {
  const fps = Math.max(0.1, opts.fps);
  const width = Math.max(16, Math.round(opts.width));
  return [
    ...inputArgs(url, opts),
    ...VIDEO_ONLY,
    '-vf',
    `fps=${fps},scale=w='min(${width},iw)':h=-2`,
    '-c:v',
    'mjpeg',
    '-pix_fmt',
    'yuvj420p',
    '-q:v',
    String(opts.quality ?? 7),
    '-f',
    'image2pipe',
    '-flush_packets',
    '1',
    'pipe:1',
  ];
}

/** One JPEG frame from a stream, on stdout (snapshot when the camera has no snapshot URL). */
export function frameGrabArgs(url: string, opts: InputOptions & { width?: number } = {}): string[] {
  const args = [...inputArgs(url, opts), ...VIDEO_ONLY, '-frames:v', '1'];
  if (opts.width) args.push('-vf', `scale=w='min(${Math.round(opts.width)},iw)':h=-2`);
  args.push('-c:v', 'mjpeg', '-pix_fmt', 'yuvj420p', '-f', 'image2pipe', 'pipe:1');
  return args;
}

export type SourceErrorCode = 'unauthorized' | 'forbidden' | 'not-found' | 'refused' | 'unreachable' | 'timeout' | 'no-video' | 'bad-url' | 'ended' | 'failed';

export class SourceError extends Error {
  constructor(
    readonly code: SourceErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'SourceError';
  }
}

/**
 * Turns ffmpeg's stderr (last lines) and exit status into an error that says what is wrong
 * with the source, with credentials removed.
 */
export function classifyFfmpegExit(stderr: string, url: string, exitCode: number | null, signal: NodeJS.Signals | null): SourceError {
  const where = redactCredentials(url);
  const s = stderr;
  const clean = (t: string): string => t.split(url).join(where);
  if (/401 Unauthorized|authorization failed|HTTP error 401/i.test(s)) return new SourceError('unauthorized', `source ${where} refused the credentials (401 Unauthorized): check the camera's user and password`);
  if (/403 Forbidden|HTTP error 403/i.test(s)) return new SourceError('forbidden', `source ${where} answered 403 Forbidden: the camera user may not view this stream`);
  if (/404 Not Found|HTTP error 404|Server returned 4\d\d/i.test(s)) return new SourceError('not-found', `source ${where} answered 404 Not Found: check the stream path or ONVIF profile`);
  if (/Connection refused/i.test(s)) return new SourceError('refused', `source ${where} refused the connection: is the camera or stream server running on that port?`);
  if (/No route to host|Network is unreachable|Name or service not known|Temporary failure in name resolution|Cannot assign requested address/i.test(s)) return new SourceError('unreachable', `source ${where} is unreachable: ${lastLine(clean(s))}`);
  if (/timed out|Connection timed out|Operation timed out/i.test(s)) return new SourceError('timeout', `source ${where} timed out`);
  if (/matches no streams|does not contain any stream|Output file #0 does not contain any stream/i.test(s)) return new SourceError('no-video', `source ${where} has no video stream`);
  const notListed = /Protocol '([\w+.-]+)' not on whitelist/.exec(s);
  if (notListed) return new SourceError('bad-url', `source URL ${where} is refused: it needs the "${notListed[1]}" protocol, which is not read from a camera (only ${CAMERA_PROTOCOL_WHITELIST})`);
  if (/Invalid argument|Protocol not found|Port missing/i.test(s) && exitCode !== 0) return new SourceError('bad-url', `source URL ${where} is not usable: ${lastLine(clean(s))}`);
  if (exitCode === 0 || /End of file/i.test(s)) return new SourceError('ended', `source ${where} ended the stream`);
  const why = signal ? `killed by ${signal}` : `exit code ${exitCode}`;
  const tail = lastLine(clean(s));
  return new SourceError('failed', `ffmpeg for ${where} stopped (${why})${tail ? `: ${tail}` : ''}`);
}

function lastLine(s: string): string {
  const lines = s.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  return (lines[lines.length - 1] ?? '').slice(0, 300);
}

/**
 * A running ffmpeg: stdout is the product, stderr is kept (bounded) to explain failures.
 * Never throws. When the process cannot be started (spawn throws, as for ENOMEM or E2BIG, or
 * returns a child without pipes or pid, as for EMFILE, ENFILE or ENOENT, whose 'error' comes
 * on the next tick) there is no `stdout`, `exited` resolves as soon as the cause is known, and
 * `startError` then says why.
 */
export class FfmpegProcess {
  readonly child?: ChildProcessByStdio<null, Readable, Readable>;
  /** ffmpeg's standard output, the product; undefined when it could not be started. */
  readonly stdout?: Readable;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private stderrTail = '';
  private killTimer?: NodeJS.Timeout;
  private done = false;
  private notStarted?: string;

  /** `stdin`: text written to ffmpeg's standard input, then closed (an input script; see inputScript). */
  constructor(binary: string, args: string[], stdin?: string) {
    let resolveExited!: (r: { code: number | null; signal: NodeJS.Signals | null }) => void;
    this.exited = new Promise((resolve) => (resolveExited = resolve));
    let settled = false;
    const finish = (code: number | null, signal: NodeJS.Signals | null): void => {
      if (settled) return;
      settled = true;
      this.done = true;
      if (this.killTimer) clearTimeout(this.killTimer);
      resolveExited({ code, signal });
    };
    let child: ChildProcess;
    try {
      // Through setpriv where it exists: the kernel ends it with Node-RED, even one killed with SIGKILL.
      child = spawnEndingWithThisProcess(binary, args, { stdio: [stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    } catch (err) {
      this.notStarted = err instanceof Error ? err.message : String(err);
      finish(null, null);
      return;
    }
    // First of all: a child that failed to start emits 'error' on the next tick, and an 'error'
    // with no listener ends the process.
    child.on('error', (err) => {
      if (this.notStarted !== undefined) this.notStarted = err.message;
      else this.stderrTail += `\n${err.message}`;
      finish(null, null);
    });
    child.on('close', finish);
    // Pipe errors (EPIPE when the child dies) surface through 'close'; never crash the runtime.
    child.stdin?.on('error', () => undefined); // EPIPE if ffmpeg exits first: the exit explains it
    child.stdout?.on('error', () => undefined);
    child.stderr?.on('error', () => undefined);
    const missing = spawnShortfall(child, stdin !== undefined);
    if (missing.length > 0) {
      // Nothing runs. Its 'error' (next tick) gives the cause; a child that gives none is over all the same.
      this.notStarted = `spawn ${binary} gave no ${missing.join(', ')}`;
      releaseUnstarted(child);
      setImmediate(() => finish(null, null));
      return;
    }
    // Not left pulling the camera's stream by a Node-RED that exits without closing its nodes.
    endWithThisProcess(child);
    if (stdin !== undefined) child.stdin?.end(stdin);
    this.child = child as ChildProcessByStdio<null, Readable, Readable>;
    this.stdout = child.stdout!;
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (d: string) => {
      this.stderrTail = (this.stderrTail + d).slice(-4000);
    });
  }

  /** Why ffmpeg could not be started (known once `exited` has resolved); undefined when it ran. */
  get startError(): Error | undefined {
    return this.notStarted === undefined ? undefined : new Error(`ffmpeg could not be started: ${this.notStarted}`);
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get stderr(): string {
    return this.stderrTail;
  }

  get running(): boolean {
    return !this.done;
  }

  /** SIGTERM, then SIGKILL if it lingers; resolves once the process is gone. */
  async kill(graceMs = 2000): Promise<void> {
    if (this.done) return;
    const child = this.child;
    if (!child) return void (await this.exited); // never started: its cause is being read
    try {
      child.kill('SIGTERM');
    } catch {
      /* already gone */
    }
    this.killTimer = setTimeout(() => {
      try {
        child.kill('SIGKILL');
      } catch {
        /* already gone */
      }
    }, graceMs);
    await this.exited;
  }
}
