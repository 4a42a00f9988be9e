/**
 * The relay against a REAL RTSP server (GStreamer, H.264 + AAC audio, over TCP) with real
 * ffmpeg, served by a real HTTP/WebSocket server on 127.0.0.1.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import * as fs from 'node:fs';
import { AddressInfo } from 'node:net';
import { auditBus, AuditEvent } from '../../lib/alerts/bus';
import { execFileSync } from 'node:child_process';
import { FfmpegNotFoundError, withCredentials } from '../../lib/video/ffmpeg';
import { grabFrame } from '../../lib/video/snapshot';
import { isJpeg, JpegSplitter } from '../../lib/video/jpeg';
import { VideoManager, VideoManagerOptions, VideoSource } from '../../lib/video/manager';
import { interruptionNotice } from '../../lib/video/viewer-words';
import {
  childFfmpegPids,
  closeWs,
  collectWs,
  ffprobeFrameCount,
  ffprobeStreams,
  freePort,
  isAlive,
  RtspServer,
  startRtspServer,
  tfdtOf,
  topBoxes,
} from '../support/video-sources';
import { waitFor } from '../support/wait';

let rtsp: RtspServer;
let authRtsp: RtspServer;
let refusedPort: number;
/** Stream of a camera whose RTSP server a test stops and restarts. */
let droppingUrl = '';

function sources(): Record<string, VideoSource> {
  return {
    cam1: { streamUrl: rtsp.url },
    cam2: { streamUrl: rtsp.url },
    missing: { streamUrl: `rtsp://127.0.0.1:${rtsp.port}/nope` },
    refused: { streamUrl: `rtsp://127.0.0.1:${refusedPort}/test` },
    noauth: { streamUrl: authRtsp.url },
    withauth: { streamUrl: authRtsp.url, username: 'op', password: 's3cret', ownHosts: ['127.0.0.1'] },
    dropping: { streamUrl: droppingUrl },
    droppingauth: { streamUrl: droppingUrl, username: 'op', password: 's3cret', ownHosts: ['127.0.0.1'] },
    wrongauth: { streamUrl: authRtsp.url, username: 'op', password: 'hunter2', ownHosts: ['127.0.0.1'] },
  };
}

interface Harness {
  mgr: VideoManager;
  server: http.Server;
  base: string;
  stop(): Promise<void>;
}

async function harness(opts: Partial<VideoManagerOptions> = {}): Promise<Harness> {
  const mgr = new VideoManager({
    resolveSource: async (id) => {
      const s = sources()[id];
      if (!s) throw new Error(`unknown camera ${id}`);
      return s;
    },
    knowsCamera: (id) => id in sources(),
    idleStopMs: 60_000,
    maxRelays: 4,
    backoff: { initialMs: 200, maxMs: 1000 },
    ioTimeoutMs: 30_000, // generous: the machine may be busy; stalls have their own test
    ...opts,
  });
  const server = http.createServer((req, res) => {
    if (!mgr.handleRequest(req, res)) {
      res.statusCode = 404;
      res.end();
    }
  });
  server.on('upgrade', (req, socket, head) => {
    if (!mgr.handleUpgrade(req, socket, head)) socket.destroy();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    mgr,
    server,
    base: `127.0.0.1:${port}`,
    async stop() {
      await mgr.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

const enoughMedia = (n: number) => (c: { texts: string[]; binaries: Buffer[] }) => c.binaries.length >= 1 + n;

before(async () => {
  [rtsp, authRtsp] = await Promise.all([startRtspServer(), startRtspServer({ user: 'op', password: 's3cret' })]);
  refusedPort = await freePort();
});

after(async () => {
  await Promise.all([rtsp?.stop(), authRtsp?.stop()]);
  assert.deepEqual(childFfmpegPids(), [], 'no ffmpeg left behind by the relay tests');
});

describe('live relay (MSE) from a real RTSP source with audio', () => {
  test('the live socket needs a ticket from the ticket route: none, a spent one or another camera\'s is refused with 401, and no relay starts', async () => {
    const h = await harness();
    try {
      const r = await fetch(`http://${h.base}/vigie/video/cam1/ticket`);
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('cache-control'), 'no-store');
      const { ticket, expiresInMs } = (await r.json()) as { ticket: string; expiresInMs: number };
      assert.match(ticket, /^[A-Za-z0-9_-]{32}$/);
      assert.ok(expiresInMs > 0);
      const refused = (url: string) => assert.rejects(collectWs(url, () => true, 10_000, { ticket: false }), /Unexpected server response: 401/, url);
      await refused(`ws://${h.base}/vigie/video/cam1/live`);
      await refused(`ws://${h.base}/vigie/video/cam2/live?ticket=${ticket}`); // cam1's ticket, now spent
      await refused(`ws://${h.base}/vigie/video/cam1/live?ticket=${ticket}`);
      assert.equal(h.mgr.stats().relays, 0, 'nothing started for a refused socket');
      // a fresh ticket opens it
      const c = await collectWs(`ws://${h.base}/vigie/video/cam1/live`, enoughMedia(1));
      await closeWs(c.ws);
      assert.equal(JSON.parse(c.texts[0]).type, 'init');
    } finally {
      await h.stop();
    }
  });

  test('the source has an audio track, the relayed fMP4 has video only; init then media with increasing tfdt', async () => {
    const probeSrc = await import('node:child_process').then((cp) =>
      cp.spawnSync('ffprobe', ['-v', 'error', '-rtsp_transport', 'tcp', '-show_entries', 'stream=codec_type', '-of', 'csv=p=0', rtsp.url], { timeout: 30_000 }),
    );
    assert.deepEqual(probeSrc.stdout.toString().trim().split('\n').sort(), ['audio', 'video'], 'the test source must carry audio');

    const h = await harness();
    const audits: AuditEvent[] = [];
    const unsub = auditBus.subscribe((e) => audits.push(e));
    try {
      const c = await collectWs(`ws://${h.base}/vigie/video/cam1/live?viewer=alice&alert=A1`, enoughMedia(4));
      await closeWs(c.ws);
      assert.equal(c.texts.length >= 1, true);
      const init = JSON.parse(c.texts[0]) as { type: string; mime: string };
      assert.equal(init.type, 'init');
      assert.match(init.mime, /^video\/mp4; codecs="avc1\.[0-9a-f]{6}"$/);
      assert.deepEqual(topBoxes(c.binaries[0]), ['ftyp', 'moov'], 'first binary is the init segment');
      const media = c.binaries.slice(1);
      for (const m of media) assert.deepEqual(topBoxes(m), ['moof', 'mdat']);
      const times = media.map(tfdtOf);
      for (let i = 1; i < times.length; i++) assert.ok(times[i] > times[i - 1], `tfdt increases: ${times.join(',')}`);

      const all = Buffer.concat(c.binaries);
      const streams = ffprobeStreams(all);
      assert.deepEqual(
        streams.map((s) => s.codec_type),
        ['video'],
        'video only, no audio',
      );
      assert.equal(streams[0].codec_name, 'h264');
      assert.ok(ffprobeFrameCount(all) >= 4 * 5, 'the relayed bytes decode');
      const views = audits.filter((e) => e.type === 'live-view');
      assert.equal(views.length, 1);
      assert.equal(views[0].alertId, 'A1');
      assert.deepEqual(views[0].details, { cameraId: 'cam1', viewer: 'alice (said, 127.0.0.1)', kind: 'mse', address: '127.0.0.1', saidName: 'alice' });
      assert.equal(views[0].actor, 'alice (said, 127.0.0.1)', 'a named viewer is the actor, the name marked as its own words');
    } finally {
      unsub();
      await h.stop();
    }
  });

  test('viewers share one relay; a late joiner starts with the init segment and a keyframe', async () => {
    const h = await harness();
    try {
      const first = await collectWs(`ws://${h.base}/vigie/video/cam1/live`, enoughMedia(3));
      assert.equal(h.mgr.pids().length, 1);
      const pid = h.mgr.pids()[0];
      const second = await collectWs(`ws://${h.base}/vigie/video/cam1/live`, enoughMedia(2));
      assert.deepEqual(h.mgr.pids(), [pid], 'still one ffmpeg');
      assert.deepEqual(childFfmpegPids(), [pid]);
      assert.equal(h.mgr.stats().viewers, 2);
      assert.equal(h.mgr.stats().relays, 1);
      assert.equal(JSON.parse(second.texts[0]).type, 'init');
      assert.deepEqual(topBoxes(second.binaries[0]), ['ftyp', 'moov']);
      assert.ok(second.binaries[0].equals(first.binaries[0]), 'same init segment');
      // The late joiner's first fragment must decode on its own: init + that fragment gives frames.
      assert.ok(ffprobeFrameCount(Buffer.concat(second.binaries.slice(0, 2))) > 0, 'first fragment starts on a keyframe');
      await Promise.all([closeWs(first.ws), closeWs(second.ws)]);
      await waitFor(() => h.mgr.stats().viewers === 0, 60_000, 'viewers gone');
    } finally {
      await h.stop();
    }
  });

  test('fragments cut inside the GOP: a late joiner still starts on a keyframe', async () => {
    const h = await harness({ fragmentMs: 200 });
    try {
      const first = await collectWs(`ws://${h.base}/vigie/video/cam1/live`, enoughMedia(12));
      // Short fragments: more than one per 1 s GOP, so some do not start on a keyframe.
      const relay = h.mgr.relay('cam1', 'mse') as import('../../lib/video/relay').LiveRelay;
      await waitFor(() => relay.gop.length >= 2, 60_000, 'a GOP with several fragments');
      assert.equal(relay.gop[0].info.keyframe, true);
      assert.ok(relay.gop.slice(1).every((s) => !s.info.keyframe));
      const late = await collectWs(`ws://${h.base}/vigie/video/cam1/live`, enoughMedia(3));
      assert.ok(ffprobeFrameCount(Buffer.concat(late.binaries.slice(0, 2))) > 0, 'the first fragment decodes alone');
      const times = late.binaries.slice(1).map(tfdtOf);
      for (let i = 1; i < times.length; i++) assert.ok(times[i] > times[i - 1]);
      await Promise.all([closeWs(first.ws), closeWs(late.ws)]);
    } finally {
      await h.stop();
    }
  });

  test('RTSP over UDP when chosen', async () => {
    const h = await harness({ transport: 'udp' });
    try {
      const c = await collectWs(`ws://${h.base}/vigie/video/cam1/live`, enoughMedia(2));
      assert.deepEqual(ffprobeStreams(Buffer.concat(c.binaries)).map((s) => s.codec_type), ['video']);
      await closeWs(c.ws);
    } finally {
      await h.stop();
    }
  });

  test('a viewer that falls behind skips to the next keyframe instead of queueing', async () => {
    const h = await harness({ fragmentMs: 200, maxViewerBufferBytes: 1 });
    try {
      // A stand-in socket whose send buffer we control (the real one is exercised everywhere else).
      const { EventEmitter } = await import('node:events');
      const sent: Array<Buffer | string> = [];
      const fake = Object.assign(new EventEmitter(), {
        readyState: 1,
        bufferedAmount: 0,
        send(d: Buffer | string) {
          sent.push(d);
        },
        close() {
          fake.readyState = 3;
          fake.emit('close');
        },
      });
      h.mgr.attachLive(fake as never, 'cam1', 'slow viewer');
      const media = () => sent.filter((d): d is Buffer => Buffer.isBuffer(d)).slice(1);
      await waitFor(() => media().length >= 2, 60_000, 'first fragments');
      fake.bufferedAmount = 10_000_000; // the viewer stops reading
      const relay = h.mgr.relay('cam1', 'mse') as import('../../lib/video/relay').LiveRelay;
      const before = media().length;
      const seqAtStall = relay.gop[relay.gop.length - 1]?.seq ?? 0;
      await waitFor(() => (relay.gop[relay.gop.length - 1]?.seq ?? 0) >= seqAtStall + 8, 60_000, 'fragments produced while stalled');
      assert.equal(media().length, before, 'nothing queued for a viewer that is behind');
      fake.bufferedAmount = 0; // it reads again
      await waitFor(() => media().length >= before + 3, 60_000, 'fragments after catching up');
      const { parseFragment } = await import('../../lib/video/mp4');
      assert.equal(parseFragment(media()[before]).keyframe, true, 'resumes on a keyframe');
      const gap = tfdtOf(media()[before]) - tfdtOf(media()[before - 1]);
      assert.ok(gap > parseFragment(media()[before - 1]).duration, 'fragments were skipped, not delayed');
      fake.close();
      await waitFor(() => h.mgr.stats().viewers === 0, 5000, 'viewer removed');
    } finally {
      await h.stop();
    }
  });

  test('idle stop: the relay ends after the idle time with no viewer, and ffmpeg is gone', async () => {
    const h = await harness({ idleStopMs: 800 });
    try {
      const c = await collectWs(`ws://${h.base}/vigie/video/cam1/live`, enoughMedia(1));
      const pid = h.mgr.pids()[0];
      assert.ok(isAlive(pid));
      await closeWs(c.ws);
      await waitFor(() => h.mgr.stats().relays === 0, 60_000, 'relay stopped');
      await waitFor(() => !isAlive(pid), 60_000, 'ffmpeg exited');
    } finally {
      await h.stop();
    }
  });

  test('an alert holds the relay until its keep-for time even without viewers', async () => {
    const h = await harness({ idleStopMs: 200, keepForMs: 12_000 });
    try {
      const t0 = Date.now();
      const r = h.mgr.alert('AL-1', 'cam1');
      assert.equal(r.relayError, undefined);
      assert.equal(r.video.live, '/vigie/video/cam1/live');
      assert.equal(r.video.mjpeg, '/vigie/video/cam1/mjpeg');
      assert.equal(r.video.snapshot, '/vigie/video/cam1/snapshot.jpg?alert=AL-1');
      assert.ok(r.video.until >= t0 + 12_000 && r.video.until <= Date.now() + 12_000);
      // The snapshot was grabbed from the stream (no snapshot URI): a JPEG served over HTTP.
      const jpeg = await r.snapshot;
      assert.ok(jpeg && isJpeg(jpeg));
      const res = await fetch(`http://${h.base}${r.video.snapshot}`);
      if (Date.now() < r.video.until - 200) {
        assert.equal(res.status, 200);
        assert.equal(res.headers.get('content-type'), 'image/jpeg');
        assert.ok(isJpeg(Buffer.from(await res.arrayBuffer())));
      }
      // Held for the whole keep-for time although the idle time (0.2 s) passes many times over.
      while (Date.now() < r.video.until - 1000) {
        assert.equal(h.mgr.stats().relays, 1, 'still held (idle time is shorter than the hold)');
        await new Promise((res) => setTimeout(res, 200));
      }
      await waitFor(() => h.mgr.stats().relays === 0, 60_000, 'relay stopped after the hold');
      assert.ok(Date.now() >= r.video.until - 50, 'not stopped before the hold ended');
      // The snapshot outlives the relay (Keep snapshots, 1 h by default): operators open alerts late.
      const later = await fetch(`http://${h.base}${r.video.snapshot}`);
      assert.equal(later.status, 200, 'snapshot still served after the relay stopped');
      const other = await fetch(`http://${h.base}/vigie/video/cam1/snapshot.jpg?alert=nope`);
      assert.equal(other.status, 404);
    } finally {
      await h.stop();
    }
  });

  test('cap: a relay beyond the maximum is refused, and the viewer is told why', async () => {
    const h = await harness({ maxRelays: 1 });
    try {
      const first = await collectWs(`ws://${h.base}/vigie/video/cam1/live`, enoughMedia(1));
      const refused = await collectWs(`ws://${h.base}/vigie/video/cam2/live`, (c) => c.closed !== undefined);
      assert.equal(refused.closed?.code, 1013);
      // The viewer hears what to do; which relays are open is the node status's business.
      const err = JSON.parse(refused.texts[0]) as { type: string; reason: string; message: string };
      assert.deepEqual(err, { type: 'error', reason: 'busy', message: 'Too many live pictures are open: close another one, or ask your administrator to allow more' });
      assert.match(h.mgr.stats().refused ?? '', /cam2.*all 1 relays in use \(cam1/);
      const mj = await fetch(`http://${h.base}/vigie/video/cam2/mjpeg`);
      assert.equal(mj.status, 503);
      assert.match(await mj.text(), /^Too many live pictures are open/);
      assert.equal(h.mgr.pids().length, 1);
      const alert = h.mgr.alert('AL-2', 'cam2');
      assert.match(alert.relayError ?? '', /refused/);
      await alert.snapshot;
      await closeWs(first.ws);
    } finally {
      await h.stop();
    }
  });

  test('cap: a viewer takes the place of a relay kept only for an alert; an alert displaces nothing', async () => {
    const h = await harness({ maxRelays: 1, keepForMs: 60_000 });
    try {
      const a = h.mgr.alert('AL-E', 'cam1');
      assert.equal(a.relayError, undefined);
      const b = h.mgr.alert('AL-F', 'cam2');
      assert.match(b.relayError ?? '', /all 1 relays in use/, 'an alert does not evict');
      // The repeated alert keeps its relay and its first snapshot request.
      const again = h.mgr.alert('AL-E', 'cam1');
      assert.equal(again.relayError, undefined);
      assert.ok(again.video.until >= a.video.until);
      const evicted: unknown[] = [];
      h.mgr.on('relay-evicted', (e) => evicted.push(e));
      const c = await collectWs(`ws://${h.base}/vigie/video/cam2/live`, enoughMedia(1));
      assert.deepEqual(evicted, [{ cameraId: 'cam1', kind: 'mse', for: 'cam2' }]);
      assert.equal(h.mgr.relay('cam1', 'mse'), undefined);
      assert.equal(h.mgr.stats().relays, 1);
      // Now the watched relay is not displaced by another viewer.
      const refused = await collectWs(`ws://${h.base}/vigie/video/cam1/live`, (x) => x.closed !== undefined);
      assert.equal(refused.closed?.code, 1013);
      await Promise.all([a.snapshot, b.snapshot, again.snapshot]);
      await closeWs(c.ws);
    } finally {
      await h.stop();
    }
  });

  test('an unknown camera is refused without starting ffmpeg', async () => {
    const h = await harness();
    try {
      const c = await collectWs(`ws://${h.base}/vigie/video/ghost/live`, (x) => x.closed !== undefined);
      assert.equal(c.closed?.code, 4404);
      assert.deepEqual(JSON.parse(c.texts[0]), { type: 'error', reason: 'unknown-camera', message: 'This camera is not configured in Node-RED' });
      assert.equal(h.mgr.stats().relays, 0);
    } finally {
      await h.stop();
    }
  });
});

describe('MJPEG fallback', () => {
  test('yields JPEG frames over multipart/x-mixed-replace, video only, shared by viewers', async () => {
    const h = await harness({ mjpegFps: 5, mjpegWidth: 160, actor: 'auto:relay-node' });
    const audits: AuditEvent[] = [];
    const unsub = auditBus.subscribe((e) => audits.push(e));
    try {
      const grab = (n: number) =>
        new Promise<{ type: string; frames: Buffer[] }>((resolve, reject) => {
          const req = http.get(`http://${h.base}/vigie/video/cam1/mjpeg`, (res) => {
            const sp = new JpegSplitter();
            const frames: Buffer[] = [];
            res.on('data', (d: Buffer) => {
              frames.push(...sp.push(d));
              if (frames.length >= n) {
                req.destroy();
                resolve({ type: String(res.headers['content-type']), frames });
              }
            });
          });
          req.on('error', (e) => (e.message.includes('aborted') ? undefined : reject(e)));
          setTimeout(() => reject(new Error('no frames')), 90_000).unref();
        });
      const [a, b] = await Promise.all([grab(3), grab(3)]);
      assert.equal(a.type, 'multipart/x-mixed-replace; boundary=vigieframe');
      for (const f of [...a.frames, ...b.frames]) {
        assert.ok(isJpeg(f));
        assert.equal(f.readUInt16BE(0), 0xffd8);
        assert.equal(f.readUInt16BE(f.length - 2), 0xffd9);
      }
      // Width bounded to 160: read the SOF0 frame header.
      const sof = a.frames[0].indexOf(Buffer.from([0xff, 0xc0]));
      assert.ok(sof > 0);
      assert.equal(a.frames[0].readUInt16BE(sof + 7), 160);
      assert.equal(h.mgr.stats().relays, 1, 'both viewers on one MJPEG relay');
      const views = audits.filter((e) => e.type === 'live-view' && e.details.kind === 'mjpeg');
      // Two views from one address within the minute: one entry.
      assert.equal(views.length, 1);
      for (const v of views) {
        assert.equal(v.actor, 'auto:relay-node', 'anonymous viewers: the configured actor');
        assert.equal(v.details.viewer, '127.0.0.1', 'and their address in the details');
      }
    } finally {
      unsub();
      await h.stop();
    }
  });
});

describe('source faults', () => {
  // Without credentials ffmpeg gets the URL on its command line; with them, from its input script.
  for (const auth of [undefined, { user: 'op', password: 's3cret' }]) {
    test(`restart after the source drops${auth ? ' (a camera with credentials)' : ''}: kill the RTSP server, restart it, frames flow again`, async () => {
      const own = await startRtspServer(auth ?? {});
      const port = own.port;
      let current = own;
      droppingUrl = own.url;
      const camera = auth ? 'droppingauth' : 'dropping';
      const h = await harness({ stallMs: 4000 });
      try {
        const c = await collectWs(`ws://${h.base}/vigie/video/${camera}/live`, enoughMedia(1));
        const relay = h.mgr.relay(camera, 'mse')!;
        assert.equal(relay.starts, 1);
        const texts: string[] = [];
        let afterRestart = 0;
        let sawSecondInit = false;
        c.ws.on('message', (d: Buffer, bin: boolean) => {
          if (!bin) {
            texts.push(d.toString());
            if (JSON.parse(d.toString()).type === 'init') sawSecondInit = true;
          } else if (sawSecondInit) afterRestart++;
        });
        await current.stop();
        await waitFor(() => relay.state === 'retrying' || relay.starts > 1, 60_000, 'relay noticed the drop');
        current = await startRtspServer({ ...auth, port });
        await waitFor(() => sawSecondInit && afterRestart >= 3, 60_000, 'frames after restart');
        assert.ok(relay.starts >= 2);
        assert.equal(relay.state, 'running');
        assert.ok(texts.some((t) => JSON.parse(t).type === 'status'), 'the viewer was told the source dropped');
        await closeWs(c.ws);
      } finally {
        await h.stop();
        await current.stop();
      }
    });
  }

  test('a stalled source (server frozen) is detected and the relay restarts when it answers again', async () => {
    const own = await startRtspServer();
    droppingUrl = own.url;
    const h = await harness({ stallMs: 2500, ioTimeoutMs: 30_000 });
    try {
      const c = await collectWs(`ws://${h.base}/vigie/video/dropping/live`, enoughMedia(1));
      const relay = h.mgr.relay('dropping', 'mse')!;
      let segmentsAfterResume = 0;
      let resumed = false;
      c.ws.on('message', (_d: Buffer, bin: boolean) => {
        if (bin && resumed) segmentsAfterResume++;
      });
      own.proc.kill('SIGSTOP');
      try {
        await waitFor(() => relay.lastError?.message.includes('stalled') === true, 60_000, 'stall detected');
        assert.equal((relay.lastError as { code?: string }).code, 'timeout');
      } finally {
        own.proc.kill('SIGCONT');
      }
      resumed = true;
      await waitFor(() => relay.state === 'running' && segmentsAfterResume >= 3, 60_000, 'frames after resume');
      assert.ok(relay.starts >= 2);
      await closeWs(c.ws);
    } finally {
      await h.stop();
      await own.stop();
    }
  });

  test('a missing ffmpeg is a clear error for alerts and viewers', async () => {
    const h = await harness({ ffmpegPath: '/nonexistent/ffmpeg' });
    try {
      assert.throws(() => h.mgr.ffmpeg(), (e: unknown) => e instanceof FfmpegNotFoundError && /ffmpeg not found or not executable at "\/nonexistent\/ffmpeg"/.test(e.message));
      const r = h.mgr.alert('AL-3', 'cam1');
      assert.match(r.relayError ?? '', /ffmpeg not found/);
      const c = await collectWs(`ws://${h.base}/vigie/video/cam1/live`, (x) => x.closed !== undefined);
      assert.equal(c.closed?.code, 1011);
      // The viewer is not told the server's paths; the node logs the cause (viewer-refused).
      assert.deepEqual(JSON.parse(c.texts[0]), { type: 'error', reason: 'server', message: 'The live picture cannot start on the server: tell your administrator' });
      assert.doesNotMatch(c.texts.join(' ') + (c.closed?.reason ?? ''), /nonexistent|ffmpeg/);
      await r.snapshot;
      assert.equal(h.mgr.pids().length, 0);
    } finally {
      await h.stop();
    }
    const saved = process.env.PATH;
    const savedEnv = process.env.VIGIE_FFMPEG;
    process.env.PATH = '/nonexistent';
    delete process.env.VIGIE_FFMPEG;
    try {
      const h2 = await harness();
      assert.throws(() => h2.mgr.ffmpeg(), /ffmpeg not found on PATH.*VIGIE_FFMPEG/);
      await h2.stop();
    } finally {
      process.env.PATH = saved;
      if (savedEnv !== undefined) process.env.VIGIE_FFMPEG = savedEnv;
    }
  });

  for (const [camera, code, pattern, told] of [
    ['missing', 'not-found', /404 Not Found/, 'no-stream'],
    ['refused', 'refused', /refused the connection/, 'not-responding'],
    ['noauth', 'unauthorized', /401 Unauthorized/, 'refused-login'],
  ] as const) {
    test(`a bad source (${code}) gives a clear error, keeps retrying with back-off and tells the viewer in operators' words`, async () => {
      const h = await harness();
      try {
        const c = await collectWs(`ws://${h.base}/vigie/video/${camera}/live`, (x) => x.texts.some((t) => JSON.parse(t).type === 'status'));
        const relay = h.mgr.relay(camera, 'mse')!;
        assert.equal((relay.lastError as { code?: string }).code, code);
        assert.match(relay.lastError!.message, pattern);
        const status = JSON.parse(c.texts.find((t) => JSON.parse(t).type === 'status')!);
        assert.equal(status.reason, told);
        assert.equal(status.message, interruptionNotice(relay.lastError!).message);
        // The source's address (even masked) stays in the server: the log has it, the viewer not.
        for (const t of c.texts) assert.doesNotMatch(t, /:\/\/|127\.0\.0\.1|\*\*\*|404|401/, t);
        assert.deepEqual(h.mgr.stats().failing.map((f) => f.cameraId), [camera]);
        await waitFor(() => relay.starts >= 2, 60_000, 'a retry');
        await closeWs(c.ws);
      } finally {
        await h.stop();
      }
    });
  }

  test('credentials from the camera reach the RTSP server, and never appear in errors', async () => {
    const h = await harness();
    try {
      const c = await collectWs(`ws://${h.base}/vigie/video/withauth/live`, enoughMedia(1));
      assert.equal(JSON.parse(c.texts[0]).type, 'init');
      // what every local user can read of the running ffmpeg (ps): no user, no password
      const pids = h.mgr.pids();
      assert.ok(pids.length >= 1);
      for (const pid of pids) {
        const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
        assert.ok(!cmdline.includes('s3cret') && !cmdline.includes('op:'), `credentials on the command line: ${cmdline}`);
        assert.match(cmdline, /-f concat .* -i pipe:0/);
      }
      await closeWs(c.ws);
      const bad = await collectWs(`ws://${h.base}/vigie/video/wrongauth/live`, (x) => x.texts.some((t) => JSON.parse(t).type === 'status'));
      const relay = h.mgr.relay('wrongauth', 'mse')!;
      assert.equal((relay.lastError as { code?: string }).code, 'unauthorized');
      for (const text of [relay.lastError!.message, ...bad.texts, JSON.stringify(h.mgr.stats())]) {
        assert.ok(!text.includes('hunter2'), `password leaked in: ${text}`);
      }
      assert.match(relay.lastError!.message, /rtsp:\/\/\*\*\*@127\.0\.0\.1/);
      await closeWs(bad.ws);
    } finally {
      await h.stop();
    }
  });

  test('close ends every ffmpeg and every socket', async () => {
    const h = await harness();
    const a = await collectWs(`ws://${h.base}/vigie/video/cam1/live`, enoughMedia(1));
    const closedA = new Promise<void>((r) => a.ws.once('close', () => r()));
    const mj = http.get(`http://${h.base}/vigie/video/cam2/mjpeg`);
    const mjEnded = new Promise<void>((r) => mj.on('response', (res) => res.on('close', () => r()).resume()));
    mj.on('error', () => undefined);
    await waitFor(() => h.mgr.pids().length === 2, 60_000, 'two relays');
    const pids = h.mgr.pids();
    await h.stop();
    await closedA;
    await mjEnded;
    for (const pid of pids) assert.equal(isAlive(pid), false, `ffmpeg ${pid} ended`);
    assert.deepEqual(childFfmpegPids(), []);
  });
});

test('a frame grab reaches a source whose password has quotes and spaces, through the input script (real ffmpeg, HTTP Basic)', async () => {
  const user = 'cam op';
  const password = `it's "odd" \\ 100%`;
  // five seconds of MPEG-TS video (a keyframe every 0.2 s, like a live source), served over HTTP behind Basic authentication
  const ts = execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=10', '-t', '5', '-g', '2', '-c:v', 'mpeg2video', '-f', 'mpegts', 'pipe:1']);
  const expected = 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64');
  const seen: string[] = [];
  const server = http.createServer((req, res) => {
    seen.push(req.headers.authorization ?? '');
    if (req.headers.authorization !== expected) {
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="cam"' });
      res.end();
      return;
    }
    res.writeHead(200, { 'Content-Type': 'video/mp2t', 'Content-Length': ts.length });
    res.end(ts);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const url = withCredentials(`http://127.0.0.1:${(server.address() as AddressInfo).port}/live.ts`, user, password);
    const frame = await grabFrame('ffmpeg', url, { timeoutMs: 20_000 });
    assert.ok(isJpeg(frame), 'a JPEG came back');
    assert.ok(seen.includes(expected), `ffmpeg sent the credentials: ${JSON.stringify(seen)}`);
    const wrong = withCredentials(`http://127.0.0.1:${(server.address() as AddressInfo).port}/live.ts`, user, 'nope');
    await assert.rejects(grabFrame('ffmpeg', wrong, { timeoutMs: 20_000 }), (e: Error & { code?: string }) => e.code === 'unauthorized' && !e.message.includes('nope'));
  } finally {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
});
