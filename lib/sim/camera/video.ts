/**
 * Live picture of the virtual camera: frames drawn in Node are piped to an ffmpeg child that
 * encodes H.264 plus a synthetic tone (so the relay's "drop every audio track" is tested
 * against a stream that has one) into MPEG-TS, fanned out to every HTTP client. The encoder
 * starts with the first client and stops when the last one leaves. Pipes only, no files.
 */
import { ChildProcess, spawn } from 'child_process';
import * as http from 'http';
import { findBinary } from '../../util/binaries';
import { releaseUnstarted, spawnShortfall } from '../../util/spawn-shortfall';
import { FrameRenderer, ViewState } from './frame';

export interface VideoOutputOptions {
  width: number;
  height: number;
  fps: number;
  ffmpegPath?: string;
  describe: () => ViewState;
}

export class VideoOutput {
  private readonly renderer: FrameRenderer;
  private encoder?: ChildProcess;
  private frameTimer?: NodeJS.Timeout;
  private readonly clients = new Set<http.ServerResponse>();
  /** While paused no frame is encoded: clients stay connected and receive nothing. */
  private paused = false;
  /** Encoders told to stop that have not exited yet (the last client leaving stops one unawaited). */
  private readonly exiting = new Set<Promise<void>>();

  constructor(private readonly opts: VideoOutputOptions) {
    this.renderer = new FrameRenderer(opts.width, opts.height);
  }

  get clientCount(): number {
    return this.clients.size;
  }

  get running(): boolean {
    return this.encoder !== undefined;
  }

  pause(on: boolean): void {
    this.paused = on;
  }

  private ffmpeg(): string {
    const bin = findBinary('ffmpeg', { explicit: this.opts.ffmpegPath, envVar: 'VIGIE_FFMPEG' });
    if (!bin) throw new Error('ffmpeg not found (set VIGIE_FFMPEG or install ffmpeg)');
    return bin;
  }

  addClient(req: http.IncomingMessage, res: http.ServerResponse): void {
    try {
      this.ensureEncoder();
    } catch (err) {
      res.writeHead(503, { 'Content-Type': 'text/plain' });
      res.end(`live stream unavailable: ${(err as Error).message}\n`);
      return;
    }
    res.writeHead(200, { 'Content-Type': 'video/mp2t', 'Cache-Control': 'no-store', Connection: 'close' });
    this.clients.add(res);
    const drop = () => {
      if (!this.clients.delete(res)) return;
      if (this.clients.size === 0) void this.stop();
    };
    req.on('close', drop);
    res.on('close', drop);
    res.on('error', drop);
  }

  private ensureEncoder(): void {
    if (this.encoder) return;
    const { width, height, fps } = this.opts;
    const args = [
      '-hide_banner', '-loglevel', 'error', '-nostdin',
      '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${width}x${height}`, '-r', String(fps), '-i', 'pipe:0',
      '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=16000',
      '-map', '0:v', '-map', '1:a',
      '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-profile:v', 'baseline', '-pix_fmt', 'yuv420p',
      '-g', String(fps), '-keyint_min', String(fps), '-sc_threshold', '0',
      '-c:a', 'mp2', '-b:a', '64k',
      '-f', 'mpegts', '-flush_packets', '1', 'pipe:1',
    ];
    const child = spawn(this.ffmpeg(), args, { stdio: ['pipe', 'pipe', 'pipe'] });
    // A spawn that fails for want of resources (EMFILE…) emits 'error' later: heard here, so it
    // never becomes an uncaught exception.
    child.on('error', () => undefined);
    const missing = spawnShortfall(child, true);
    if (missing.length > 0) {
      releaseUnstarted(child);
      throw new Error(`ffmpeg could not be started: spawn gave no ${missing.join(', ')}`);
    }
    this.encoder = child;
    child.stdout!.on('data', (chunk: Buffer) => {
      for (const res of this.clients) res.write(chunk);
    });
    child.stderr!.on('data', () => undefined); // drained; ffmpeg's warnings are not ours to log
    child.stdin!.on('error', () => undefined); // EPIPE when ffmpeg exits first
    child.on('exit', () => {
      if (this.encoder !== child) return;
      this.encoder = undefined;
      this.stopFrames();
      for (const res of this.clients) res.end();
      this.clients.clear();
    });
    const frameMs = 1000 / fps;
    const push = () => {
      const stdin = child.stdin!;
      // Skip a frame rather than queue when ffmpeg is behind (shared CPU); none while paused.
      if (!this.paused && stdin.writableLength < width * height * 3 * 2) stdin.write(Buffer.from(this.renderer.render(this.opts.describe())));
    };
    push();
    this.frameTimer = setInterval(push, frameMs);
  }

  private stopFrames(): void {
    if (this.frameTimer) clearInterval(this.frameTimer);
    this.frameTimer = undefined;
  }

  /**
   * Stops the encoder and ends every client; resolves once every encoder this output started
   * has exited, also one stopped earlier without waiting (when its last client left), so that a
   * caller that stops the camera leaves no ffmpeg behind.
   */
  async stop(): Promise<void> {
    this.stopFrames();
    for (const res of this.clients) res.end();
    this.clients.clear();
    const child = this.encoder;
    this.encoder = undefined;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => {
        const t = setTimeout(() => child.kill('SIGKILL'), 2000);
        child.once('exit', () => {
          clearTimeout(t);
          resolve();
        });
        child.stdin!.end();
        child.kill('SIGTERM');
      });
      this.exiting.add(exited);
      void exited.then(() => this.exiting.delete(exited));
    }
    await Promise.all([...this.exiting]);
  }

  /** One JPEG of the current picture, encoded by a short-lived ffmpeg through pipes. */
  snapshot(): Promise<Buffer> {
    const { width, height } = this.opts;
    const frame = Buffer.from(this.renderer.render(this.opts.describe()));
    return new Promise((resolve, reject) => {
      let child: ChildProcess;
      try {
        child = spawn(
          this.ffmpeg(),
          ['-hide_banner', '-loglevel', 'error', '-nostdin', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${width}x${height}`, '-i', 'pipe:0',
            '-frames:v', '1', '-c:v', 'mjpeg', '-q:v', '5', '-f', 'image2pipe', 'pipe:1'],
          { stdio: ['pipe', 'pipe', 'pipe'] },
        );
      } catch (err) {
        reject(err as Error);
        return;
      }
      const out: Buffer[] = [];
      let errText = '';
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      if (spawnShortfall(child, true).length > 0) {
        releaseUnstarted(child);
        return; // not started: its 'error' rejects
      }
      child.stdout!.on('data', (c: Buffer) => out.push(c));
      child.stderr!.on('data', (c: Buffer) => (errText += c.toString()).slice(-500));
      child.stdin!.on('error', () => undefined);
      child.on('close', (code) => {
        clearTimeout(timer);
        const jpeg = Buffer.concat(out);
        if (code === 0 && jpeg.length > 0) resolve(jpeg);
        else reject(new Error(`ffmpeg exited with ${code}: ${errText.trim().slice(-200)}`));
      });
      child.stdin!.end(frame);
    });
  }
}
