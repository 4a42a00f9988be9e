/**
 * One relay = one ffmpeg process for one camera, shared by all its viewers. It restarts a
 * dropped source with back-off, kills a stalled one, and reports a clear error (missing
 * ffmpeg, 401, 404, refused...). LiveRelay remuxes H.264 to fragmented MP4 (MSE);
 * MjpegRelay transcodes to JPEG frames. Neither ever carries audio.
 */
import { EventEmitter } from 'events';
import { Backoff, BackoffOptions } from '../util/backoff';
import { classifyFfmpegExit, FfmpegProcess, InputOptions, inputScript, liveArgs, mjpegArgs, RtspTransport, SourceError } from './ffmpeg';
import { JpegSplitter } from './jpeg';
import { Fmp4Segmenter, InitSegment, MediaSegment } from './mp4';

export type RelayState = 'starting' | 'running' | 'retrying' | 'stopped';
export type RelayKind = 'mse' | 'mjpeg';

export interface RelayOptions {
  cameraId: string;
  /** Resolved ffmpeg binary (see resolveFfmpeg). */
  ffmpegPath: string;
  /** Gets the source URL at each (re)start, so a changed ONVIF URI is picked up. */
  getUrl: () => Promise<string>;
  transport?: RtspTransport;
  /** No output for this long → the source is considered dropped and ffmpeg is restarted. */
  stallMs?: number;
  ioTimeoutMs?: number;
  /** Restart delays; its healthyAfterMs is how long output must flow for a failure to start them afresh. */
  backoff?: BackoffOptions;
}

export abstract class Relay extends EventEmitter {
  abstract readonly kind: RelayKind;
  readonly cameraId: string;
  state: RelayState = 'stopped';
  /** The last source error, cleared when output flows again. */
  lastError?: Error;
  /** Number of ffmpeg processes started (first start + restarts). */
  starts = 0;
  protected proc?: FfmpegProcess;
  protected url = '';
  private readonly backoff: Backoff;
  private retryTimer?: NodeJS.Timeout;
  private stallTimer?: NodeJS.Timeout;
  private stopping = false;
  /** Counts launches and restarts: the late answer of a superseded getUrl is ignored. */
  private launchSeq = 0;
  /** The exit of the ffmpeg a restart ended, while it lasts. */
  private ending?: Promise<void>;
  private readonly opts: RelayOptions;

  constructor(opts: RelayOptions) {
    super();
    this.opts = opts;
    this.cameraId = opts.cameraId;
    this.backoff = new Backoff({ initialMs: 500, maxMs: 15_000, ...opts.backoff });
  }

  protected abstract args(url: string): string[];
  /** Demuxer options of the source (for the input script of a URL with credentials). */
  protected abstract inputOptions(): InputOptions;
  protected abstract onData(chunk: Buffer): void;
  /** Clears per-process parse state before a (re)start. */
  protected abstract resetParser(): void;

  get pid(): number | undefined {
    return this.proc?.running ? this.proc.pid : undefined;
  }

  start(): void {
    if (this.state !== 'stopped') return;
    this.stopping = false;
    this.launch();
  }

  private launch(): void {
    if (this.stopping) return;
    const seq = ++this.launchSeq;
    this.setState('starting');
    this.opts.getUrl().then(
      (url) => {
        if (this.stopping || seq !== this.launchSeq) return;
        this.url = url;
        try {
          this.spawn(url);
        } catch (err) {
          // Never a rejection nobody handles (it would end Node-RED), nor a relay left "starting".
          this.proc = undefined;
          this.clearStall();
          this.failed(err instanceof Error ? err : new Error(String(err)));
        }
      },
      (err: unknown) => {
        if (seq === this.launchSeq) this.failed(err instanceof Error ? err : new Error(String(err)));
      },
    );
  }

  private spawn(url: string): void {
    this.resetParser();
    this.starts++;
    const proc = new FfmpegProcess(this.opts.ffmpegPath, this.args(url), inputScript(url, this.inputOptions()));
    this.proc = proc;
    this.armStall();
    // No stdout: ffmpeg could not be started; `exited` says so at once, and it is retried like a failed source.
    proc.stdout?.on('data', (chunk: Buffer) => {
      if (this.proc !== proc) return;
      this.armStall();
      try {
        this.onData(chunk);
      } catch (err) {
        // Unparseable output: restart rather than send garbage to players.
        this.lastError = err instanceof Error ? err : new Error(String(err));
        void proc.kill();
      }
    });
    proc.exited.then(({ code, signal }) => {
      if (this.proc !== proc) return;
      this.proc = undefined;
      this.clearStall();
      if (this.stopping) return;
      const err =
        proc.startError ?? (this.stalled ? new SourceError('timeout', `source stalled: no video for ${this.opts.stallMs ?? 15_000} ms`) : classifyFfmpegExit(proc.stderr, url, code, signal));
      this.stalled = false;
      this.failed(err);
    });
  }

  private stalled = false;

  private armStall(): void {
    this.clearStall();
    this.stallTimer = setTimeout(() => {
      this.stalled = true;
      void this.proc?.kill();
    }, this.opts.stallMs ?? 15_000);
  }

  private clearStall(): void {
    if (this.stallTimer) clearTimeout(this.stallTimer);
    this.stallTimer = undefined;
  }

  /** Forgets what the last source gave (its picture), so no viewer is shown it once the source changed. */
  protected abstract forgetPicture(): void;

  /**
   * The source changed (its camera was re-pointed, or removed): the running ffmpeg ends, its
   * picture is forgotten, and a new one starts on the source resolved afresh once it has exited
   * (never two ffmpegs for one relay), at once, not after a back-off. Viewers stay attached: a
   * live one gets a new init segment, as after a dropped source. With `waitFor`, nothing starts:
   * the relay waits ("retrying", with that error said to viewers) until restart() or stop().
   */
  async restart(opts: { waitFor?: Error } = {}): Promise<void> {
    if (this.stopping || this.state === 'stopped') return;
    const seq = ++this.launchSeq;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.clearStall();
    this.stalled = false;
    const proc = this.proc;
    this.proc = undefined;
    this.resetParser();
    this.forgetPicture();
    this.backoff.reset();
    if (opts.waitFor) {
      this.lastError = opts.waitFor;
      this.emit('source-error', opts.waitFor);
      this.setState('retrying');
    } else {
      this.setState('starting');
    }
    // A restart right after another waits for the same exit.
    const ending = proc ? proc.kill() : this.ending;
    this.ending = ending;
    if (ending) await ending;
    if (this.ending === ending) this.ending = undefined;
    if (opts.waitFor || this.stopping || seq !== this.launchSeq) return;
    this.launch();
  }

  /** Subclasses call this when the first product arrives: the source works. */
  protected flowing(): void {
    if (this.state === 'running') return;
    this.backoff.delivering();
    this.lastError = undefined;
    this.setState('running');
  }

  private failed(err: Error): void {
    if (this.stopping) return;
    this.lastError = err;
    this.emit('source-error', err);
    // Only a source that flowed for a while starts afresh (see Backoff.ended).
    this.backoff.ended();
    const delayMs = this.backoff.next();
    this.setState('retrying');
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.launch();
    }, delayMs);
  }

  private setState(s: RelayState): void {
    if (this.state === s) return;
    this.state = s;
    this.emit('state', s);
  }

  /** Ends the ffmpeg process and every timer; resolves when the process is gone. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.clearStall();
    const proc = this.proc;
    this.proc = undefined;
    this.setState('stopped');
    if (proc) await proc.kill();
    // An ffmpeg a restart ended may still be exiting: none outlives stop().
    if (this.ending) await this.ending;
    this.emit('stopped');
  }
}

export interface LiveRelayOptions extends RelayOptions {
  /** See liveArgs: also cut fragments at this duration. */
  fragmentMs?: number;
  /** Bound of the kept group of pictures for late joiners. */
  maxGopBytes?: number;
}

/**
 * H.264 → fragmented MP4. Keeps the init segment and the fragments since the latest
 * keyframe, so a late joiner starts with a decodable picture.
 */
export class LiveRelay extends Relay {
  readonly kind = 'mse' as const;
  init?: InitSegment;
  /** Fragments since the latest keyframe fragment (first one is a keyframe). */
  gop: MediaSegment[] = [];
  private gopBytes = 0;
  private segmenter!: Fmp4Segmenter;
  private readonly fragmentMs: number;
  private readonly maxGopBytes: number;

  constructor(opts: LiveRelayOptions) {
    super(opts);
    this.fragmentMs = opts.fragmentMs ?? 0;
    this.maxGopBytes = opts.maxGopBytes ?? 8 * 1024 * 1024;
    this.transport = opts.transport;
    this.ioTimeoutMs = opts.ioTimeoutMs;
    this.resetParser();
  }

  private readonly transport?: RtspTransport;
  private readonly ioTimeoutMs?: number;

  protected args(url: string): string[] {
    return liveArgs(url, { ...this.inputOptions(), fragmentMs: this.fragmentMs });
  }

  protected inputOptions(): InputOptions {
    return { transport: this.transport, ioTimeoutMs: this.ioTimeoutMs };
  }

  protected resetParser(): void {
    this.init = undefined;
    this.gop = [];
    this.gopBytes = 0;
    this.segmenter = new Fmp4Segmenter(
      (init) => {
        this.init = init;
        this.emit('init', init);
      },
      (seg) => {
        if (seg.info.keyframe) {
          this.gop = [];
          this.gopBytes = 0;
        }
        if (this.gop.length > 0 || seg.info.keyframe) {
          this.gop.push(seg);
          this.gopBytes += seg.data.length;
          // A camera with a very long GOP: drop the cache rather than grow without bound.
          if (this.gopBytes > this.maxGopBytes) {
            this.gop = [];
            this.gopBytes = 0;
          }
        }
        this.flowing();
        this.emit('segment', seg);
      },
    );
  }

  protected onData(chunk: Buffer): void {
    this.segmenter.push(chunk);
  }

  protected forgetPicture(): void {
    this.resetParser();
  }
}

export interface MjpegRelayOptions extends RelayOptions {
  fps: number;
  width: number;
  quality?: number;
}

/** Any video → JPEG frames at a bounded rate and width. Keeps the latest frame. */
export class MjpegRelay extends Relay {
  readonly kind = 'mjpeg' as const;
  latest?: Buffer;
  frames = 0;
  private splitter = new JpegSplitter();
  private readonly mopts: MjpegRelayOptions;

  constructor(opts: MjpegRelayOptions) {
    super(opts);
    this.mopts = opts;
  }

  protected args(url: string): string[] {
    return mjpegArgs(url, { ...this.inputOptions(), fps: this.mopts.fps, width: this.mopts.width, quality: this.mopts.quality });
  }

  protected inputOptions(): InputOptions {
    return { transport: this.mopts.transport, ioTimeoutMs: this.mopts.ioTimeoutMs };
  }

  protected resetParser(): void {
    this.splitter = new JpegSplitter();
  }

  protected forgetPicture(): void {
    this.latest = undefined;
  }

  protected onData(chunk: Buffer): void {
    for (const frame of this.splitter.push(chunk)) {
      this.latest = frame;
      this.frames++;
      this.flowing();
      this.emit('frame', frame);
    }
  }
}
