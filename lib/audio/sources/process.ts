/**
 * A supervised child process that writes raw interleaved PCM to its stdout pipe
 * (arecord, ffmpeg). A dead or stalled child is restarted with back-off; every restart is
 * announced ('restart') so the ring records a gap. A missing binary is reported once. A finite
 * input (a file) that ends cleanly has ended ('end') and is not restarted.
 */
import type { ChildProcess } from 'child_process';
import type { Readable } from 'stream';
import { Backoff, BackoffOptions } from '../../util/backoff';
import { redactCredentials } from '../../util/url-credentials';
import { findBinary } from '../../util/binaries';
import { monotonicMs } from '../../util/clock';
import { releaseUnstarted, spawnShortfall } from '../../util/spawn-shortfall';
import { endWithThisProcess, spawnEndingWithThisProcess } from '../../util/child-exit';
import { InterleavedDecoder, PcmFormat } from '../channels';
import { CaptureSource } from './source';

export interface ProcessSourceOptions {
  /** Executable name looked up on PATH (e.g. "arecord"). */
  binary: string;
  /** Environment variable that overrides the path (e.g. VIGIE_ARECORD). */
  envVar: string;
  /** Explicit path from the node's settings, if any. */
  binaryPath?: string;
  /** Hint printed when the binary is missing. */
  installHint: string;
  args: string[];
  /** Text written to the child's stdin at each start, then closed (e.g. ffmpeg's input script). */
  stdin?: string;
  format: PcmFormat;
  channels: number;
  sampleRate: number;
  backoff?: BackoffOptions;
  /** Kill and restart a child that sends no audio for this long (ms); default 5000. */
  stallMs?: number;
  /**
   * The input is finite (a file): a clean exit (code 0) after some audio is its end, reported
   * once ('end', state "ended") and not restarted. Any other exit is still a fault.
   */
  finite?: boolean;
  /** Clock for the stall check, ms (tests); a monotonic clock by default. */
  now?: () => number;
}

/** A spawn that returned no process or pipes: Node tells why in the child's 'error' event. */
class StartFailedLater extends Error {}

/** Keep only the tail of a child's stderr (text diagnostics) to say why it died. */
const STDERR_KEEP_BYTES = 2048;

export class ProcessSource extends CaptureSource {
  readonly kind: string;
  private readonly opts: ProcessSourceOptions;
  private readonly backoff: Backoff;
  private child: ChildProcess | null = null;
  private decoder: InterleavedDecoder;
  private restartTimer: NodeJS.Timeout | null = null;
  private stallTimer: NodeJS.Timeout | null = null;
  private stopping = false;
  private started = false;
  private missingReported = false;
  /** When the child last sent audio, on `now` (monotonic: a wall clock step is no stall). */
  private lastDataMs = 0;
  private readonly now: () => number;
  private gotData = false;
  private stderrTail = '';
  private killReason = '';
  private exitWaiters: (() => void)[] = [];
  /** Process ids spawned so far (for tests and diagnostics). */
  readonly pids: number[] = [];
  restarts = 0;

  constructor(kind: string, opts: ProcessSourceOptions) {
    super();
    this.kind = kind;
    this.opts = opts;
    this.sampleRate = opts.sampleRate;
    this.channels = opts.channels;
    this.decoder = new InterleavedDecoder(opts.format, opts.channels);
    this.now = opts.now ?? monotonicMs;
    this.backoff = new Backoff({ initialMs: 500, maxMs: 30_000, now: this.now, ...opts.backoff });
  }

  /** Pid of the running child, if any. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.stopping = false;
    this.spawnChild(false);
    const stallMs = this.opts.stallMs ?? 5000;
    this.stallTimer = setInterval(() => this.checkStall(stallMs), Math.max(250, Math.min(1000, stallMs / 4)));
  }

  /** `again`: a restart after a fault (a child that died, stalled or could not start), not the first start. */
  private spawnChild(again: boolean): void {
    this.restartTimer = null;
    if (this.stopping) return;
    const bin = findBinary(this.opts.binary, { explicit: this.opts.binaryPath, envVar: this.opts.envVar });
    if (!bin) {
      const where = this.opts.binaryPath ? `"${this.opts.binaryPath}"` : process.env[this.opts.envVar] ? `${this.opts.envVar}="${process.env[this.opts.envVar]}"` : 'PATH';
      const msg = `${this.opts.binary} not found (looked in ${where}); ${this.opts.installHint}`;
      if (!this.missingReported) {
        this.missingReported = true;
        this.fault(new Error(msg));
      }
      this.setStatus('failed', `${this.opts.binary} not found`);
      this.scheduleRestart(null);
      return;
    }
    this.missingReported = false;
    // Still a fault until it delivers again: only the first start is merely "starting".
    if (again) this.setStatus('restarting', `restarting ${this.opts.binary}`);
    else this.setStatus('starting', `starting ${this.opts.binary}`);
    this.decoder.reset();
    this.stderrTail = '';
    this.killReason = '';
    this.gotData = false;
    let child: ChildProcess;
    let stdout: Readable;
    let stderr: Readable;
    try {
      // Through setpriv where it exists: the kernel kills it with Node-RED, even one killed with SIGKILL.
      child = spawnEndingWithThisProcess(bin, this.opts.args, { stdio: [this.opts.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
      if (spawnShortfall(child, this.opts.stdin !== undefined).length > 0) {
        // Its 'error' on the next tick says why: that is the fault told. A start that failed,
        // retried with back-off.
        child.on('error', (err) => {
          if (!this.stopping) this.fault(new Error(`${this.opts.binary}: cannot start: ${err.message}`));
        });
        releaseUnstarted(child);
        throw new StartFailedLater();
      }
      stdout = child.stdout!;
      stderr = child.stderr!;
      if (this.opts.stdin !== undefined) {
        child.stdin!.on('error', () => undefined); // EPIPE if the child exits first: its exit says why
        child.stdin!.end(this.opts.stdin);
      }
    } catch (err) {
      if (!(err instanceof StartFailedLater)) this.fault(new Error(`${this.opts.binary}: cannot start: ${(err as Error).message}`));
      this.setStatus('failed', `cannot start ${this.opts.binary}`);
      this.scheduleRestart(null);
      return;
    }
    this.child = child;
    // Not left running, holding the device or the stream, by a Node-RED that exits without closing its nodes.
    endWithThisProcess(child);
    this.pids.push(child.pid!);
    this.lastDataMs = this.now();
    stdout.on('data', (chunk: Buffer) => {
      // The pipe's bytes and their decoding are copies of the street's audio: zeroed once the
      // capture has written them to the ring (DESIGN §4.2), or freed memory would keep them
      // past the ring's bounds, for whoever reads the process's memory.
      if (this.child !== child) return void chunk.fill(0);
      this.lastDataMs = this.now();
      const planar = this.decoder.push(chunk);
      chunk.fill(0);
      if (planar[0].length === 0) return;
      if (!this.gotData) {
        this.gotData = true;
        this.backoff.delivering();
        this.setStatus('running', `${this.opts.binary} running`);
      }
      try {
        this.emitData(planar);
      } finally {
        for (const c of planar) c.fill(0);
      }
    });
    stderr.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString('utf8')).slice(-STDERR_KEEP_BYTES);
    });
    child.on('error', (err) => {
      // After a spawn that worked, only a failed kill lands here: kept to say why with the exit.
      this.stderrTail += `\n${err.message}`;
    });
    child.on('close', (code, signal) => this.onExit(child, code, signal));
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.child === child) this.child = null;
    const waiters = this.exitWaiters;
    this.exitWaiters = [];
    for (const w of waiters) w();
    if (this.stopping) return;
    // Never echo credentials a URL may carry (rtsp://user:pass@host).
    const lastLine = redactCredentials(this.stderrTail.trim().split('\n').filter(Boolean).pop()?.trim() ?? '').slice(0, 200);
    if (this.opts.finite && code === 0 && !signal && !this.killReason && this.gotData) {
      this.started = false;
      if (this.stallTimer) clearInterval(this.stallTimer);
      this.stallTimer = null;
      this.setStatus('ended', `${this.opts.binary}: end of input`);
      this.emit('end');
      return;
    }
    const how = this.killReason || (signal ? `killed by ${signal}` : `exited with code ${code}`);
    const reason = `${this.opts.binary} ${how}${lastLine && !this.killReason ? `: ${lastLine}` : ''}`;
    // Only a process that delivered for a while starts afresh (see Backoff.ended).
    this.backoff.ended();
    this.restarts++;
    this.emit('restart', reason);
    this.scheduleRestart(reason);
  }

  private scheduleRestart(reason: string | null): void {
    if (this.stopping || this.restartTimer) return;
    const delayMs = this.backoff.next();
    if (reason) this.setStatus('restarting', `${reason}; restarting in ${(delayMs / 1000).toFixed(1)} s`);
    this.restartTimer = setTimeout(() => this.spawnChild(true), delayMs);
  }

  private checkStall(stallMs: number): void {
    const child = this.child;
    if (!child || this.stopping) return;
    if (this.now() - this.lastDataMs > stallMs) {
      this.killReason = `sent no audio for ${(stallMs / 1000).toFixed(1)} s`;
      this.lastDataMs = this.now();
      child.kill('SIGKILL');
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.started = false;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    if (this.stallTimer) clearInterval(this.stallTimer);
    this.restartTimer = null;
    this.stallTimer = null;
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => this.exitWaiters.push(resolve));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(t);
    }
    this.child = null;
    this.decoder.reset();
    this.setStatus('stopped', 'stopped');
  }
}
