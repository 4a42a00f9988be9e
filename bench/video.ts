/**
 * Video relay benchmark: time from a viewer's request to the first media segment (cold
 * start: ffmpeg spawn, RTSP setup, first GOP), and CPU cost per relayed stream for the H.264
 * remux (MSE) and the MJPEG transcode, measured from /proc/<pid>/stat (utime+stime) of the
 * ffmpeg child over a fixed interval. Prints medians and p95.
 *
 *   npx tsx bench/video.ts [--runs 5] [--cpu-seconds 5] [--width 1280 --height 720 --fps 15]
 *
 * Source: GStreamer's RTSP server (test/support/rtsp-server.py) on 127.0.0.1, H.264 + AAC.
 * Note the RTSP server's own encoder shares the machine's cores: compare figures across runs
 * on the same machine, not as absolute gateway numbers.
 */
import * as fs from 'fs';
import { spawnSync } from 'child_process';
import * as http from 'http';
import { AddressInfo } from 'net';
import { VideoManager } from '../lib/video/manager';
import { JpegSplitter } from '../lib/video/jpeg';
import { collectWs, closeWs, startRtspServer, RtspServer } from '../test/support/video-sources';
import { numberArg } from './args';

const arg = numberArg;

const RUNS = arg('runs', 5);
const CPU_SECONDS = arg('cpu-seconds', 5);
const WIDTH = arg('width', 1280);
const HEIGHT = arg('height', 720);
const FPS = arg('fps', 15);
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK']).stdout.toString().trim()) || 100;

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  if (!s.length) return NaN;
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1));
  return s[i];
}
const median = (xs: number[]): number => quantile(xs, 0.5);

function cpuTicks(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[11], [12] are utime, stime (14th and 15th of the full line).
  return Number(fields[11]) + Number(fields[12]);
}

async function withManager<T>(rtsp: RtspServer, fn: (mgr: VideoManager, base: string) => Promise<T>, opts: { mjpegWidth?: number } = {}): Promise<T> {
  const mgr = new VideoManager({
    resolveSource: async () => ({ streamUrl: rtsp.url }),
    idleStopMs: 60_000,
    maxRelays: 4,
    mjpegFps: 5,
    mjpegWidth: opts.mjpegWidth ?? 640,
  });
  const server = http.createServer((req, res) => {
    if (!mgr.handleRequest(req, res)) res.writeHead(404).end();
  });
  server.on('upgrade', (req, socket, head) => {
    if (!mgr.handleUpgrade(req, socket, head)) socket.destroy();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    return await fn(mgr, base);
  } finally {
    await mgr.close();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
}

async function timeToFirstSegment(rtsp: RtspServer): Promise<{ initMs: number; firstSegmentMs: number }> {
  return withManager(rtsp, async (_mgr, base) => {
    const t0 = performance.now();
    let initMs = NaN;
    const c = await collectWs(`ws://${base}/vigie/video/cam/live`, (x) => {
      if (x.binaries.length === 1 && Number.isNaN(initMs)) initMs = performance.now() - t0;
      return x.binaries.length >= 2;
    }, 60_000);
    const firstSegmentMs = performance.now() - t0;
    await closeWs(c.ws);
    return { initMs, firstSegmentMs };
  });
}

/** A viewer joining a relay that already runs (the usual case: the alert started it). */
async function warmJoin(rtsp: RtspServer, joins: number): Promise<number[]> {
  return withManager(rtsp, async (_mgr, base) => {
    const first = await collectWs(`ws://${base}/vigie/video/cam/live`, (x) => x.binaries.length >= 2, 60_000);
    const out: number[] = [];
    for (let i = 0; i < joins; i++) {
      const t0 = performance.now();
      const c = await collectWs(`ws://${base}/vigie/video/cam/live`, (x) => x.binaries.length >= 2, 60_000);
      out.push(performance.now() - t0);
      await closeWs(c.ws);
    }
    await closeWs(first.ws);
    return out;
  });
}

async function timeToFirstJpeg(base: string): Promise<{ ms: number; req: http.ClientRequest }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.get(`http://${base}/vigie/video/cam/mjpeg`, (res) => {
      const sp = new JpegSplitter();
      let done = false;
      res.on('data', (d: Buffer) => {
        if (!done && sp.push(d).length) {
          done = true;
          resolve({ ms: performance.now() - t0, req });
        }
      });
    });
    req.on('error', (e) => (e.message.includes('aborted') || e.message.includes('socket hang up') ? undefined : reject(e)));
  });
}

async function cpuOf(rtsp: RtspServer, kind: 'mse' | 'mjpeg'): Promise<{ cpuPercent: number; firstMs: number }> {
  return withManager(rtsp, async (mgr, base) => {
    let firstMs: number;
    let close: () => Promise<void>;
    if (kind === 'mse') {
      const t0 = performance.now();
      const c = await collectWs(`ws://${base}/vigie/video/cam/live`, (x) => x.binaries.length >= 2, 60_000);
      firstMs = performance.now() - t0;
      // Keep draining so the relay works as with a real viewer.
      close = () => closeWs(c.ws);
    } else {
      const r = await timeToFirstJpeg(base);
      firstMs = r.ms;
      close = async () => void r.req.destroy();
    }
    const pid = mgr.pids()[0];
    const t1 = cpuTicks(pid);
    const w1 = performance.now();
    await new Promise((r) => setTimeout(r, CPU_SECONDS * 1000));
    const t2 = cpuTicks(pid);
    const w2 = performance.now();
    await close();
    return { cpuPercent: (100 * (t2 - t1)) / CLK_TCK / ((w2 - w1) / 1000), firstMs };
  }, { mjpegWidth: 640 });
}

async function main(): Promise<void> {
  const big = await startRtspServer({ width: WIDTH, height: HEIGHT, fps: FPS });
  try {
    console.log(`video relay benchmark: source ${WIDTH}x${HEIGHT} @ ${FPS} fps H.264 (GOP 1 s) + AAC over RTSP/TCP, ${RUNS} runs, CPU over ${CPU_SECONDS} s, CLK_TCK ${CLK_TCK}`);
    const inits: number[] = [];
    const firsts: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const r = await timeToFirstSegment(big);
      inits.push(r.initMs);
      firsts.push(r.firstSegmentMs);
    }
    console.log(`request → init segment:        median ${median(inits).toFixed(0)} ms, p95 ${quantile(inits, 0.95).toFixed(0)} ms`);
    console.log(`request → first media segment: median ${median(firsts).toFixed(0)} ms, p95 ${quantile(firsts, 0.95).toFixed(0)} ms (cold: ffmpeg + RTSP setup + first GOP)`);
    const warm = await warmJoin(big, RUNS * 2);
    console.log(`late joiner → first segment:   median ${median(warm).toFixed(1)} ms, p95 ${quantile(warm, 0.95).toFixed(1)} ms (relay already running: cached init + GOP)`);
    const remux: number[] = [];
    const mjpeg: number[] = [];
    const mjpegFirst: number[] = [];
    for (let i = 0; i < Math.max(3, Math.ceil(RUNS / 2)); i++) {
      remux.push((await cpuOf(big, 'mse')).cpuPercent);
      const m = await cpuOf(big, 'mjpeg');
      mjpeg.push(m.cpuPercent);
      mjpegFirst.push(m.firstMs);
    }
    console.log(`request → first MJPEG frame:   median ${median(mjpegFirst).toFixed(0)} ms`);
    console.log(`CPU per stream, remux (MSE):   median ${median(remux).toFixed(1)} % of one core (runs: ${remux.map((x) => x.toFixed(1)).join(', ')})`);
    console.log(`CPU per stream, MJPEG 5 fps 640 px: median ${median(mjpeg).toFixed(1)} % of one core (runs: ${mjpeg.map((x) => x.toFixed(1)).join(', ')})`);
    console.log(`MJPEG / remux CPU ratio:       ${(median(mjpeg) / Math.max(0.01, median(remux))).toFixed(1)}x`);
  } finally {
    await big.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
