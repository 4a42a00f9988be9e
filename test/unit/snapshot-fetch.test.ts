/**
 * Snapshot fetching against real HTTP servers started here: Digest (as ONVIF cameras use) and
 * Basic authentication, 401/404/refused errors, and the in-memory store's retention.
 */
import { mock, test } from 'node:test';
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import { spawnSync } from 'node:child_process';
import { AddressInfo } from 'node:net';
import { digestAuthorization, fetchSnapshot, grabFrame, parseAuthParams, SnapshotStore } from '../../lib/video/snapshot';
import { findBinary } from '../../lib/util/binaries';
import { childFfmpegPids, freePort } from '../support/video-sources';
import { makeSelfSignedCertificate } from '../support/tls-front';
import { waitFor } from '../support/wait';
import { silentServer } from '../support/silent-server';
import { monotonicMs } from '../../lib/util/clock';
import { NTP_FIRST_SYNC_STEP_MS, stepWallClock } from '../support/wall-clock';

const JPEG = (() => {
  const r = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc=size=64x48', '-frames:v', '1', '-c:v', 'mjpeg', '-f', 'image2pipe', 'pipe:1']);
  return r.stdout;
})();

const md5 = (s: string): string => crypto.createHash('md5').update(s).digest('hex');

/** A camera-like snapshot server checking Digest (qop=auth) or Basic credentials itself. */
async function cameraServer(mode: 'digest' | 'basic' | 'open', user = 'admin', pass = 'pw'): Promise<{ url: string; requests: string[]; close(): Promise<void> }> {
  const realm = 'cam';
  const nonce = crypto.randomBytes(8).toString('hex');
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(req.headers.authorization ?? '');
    if (req.url?.startsWith('/missing')) {
      res.writeHead(404).end();
      return;
    }
    const auth = req.headers.authorization ?? '';
    let ok = mode === 'open';
    if (mode === 'basic') ok = auth === `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
    if (mode === 'digest' && auth.startsWith('Digest ')) {
      const p = parseAuthParams(auth.slice(7));
      const ha1 = md5(`${user}:${realm}:${pass}`);
      const ha2 = md5(`GET:${p.uri}`);
      const expected = md5(`${ha1}:${nonce}:${p.nc}:${p.cnonce}:${p.qop}:${ha2}`);
      ok = p.username === user && p.nonce === nonce && p.uri === req.url && p.response === expected;
    }
    if (!ok) {
      res.writeHead(401, { 'WWW-Authenticate': mode === 'digest' ? `Digest realm="${realm}", nonce="${nonce}", qop="auth", opaque="xyz"` : `Basic realm="${realm}"` }).end();
      return;
    }
    res.writeHead(200, { 'Content-Type': 'image/jpeg' }).end(JPEG);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}/onvif/snapshot?ch=1`, requests, close: () => new Promise<void>((r) => server.close(() => r())) };
}

test('Digest authentication against a camera-like server', async () => {
  const cam = await cameraServer('digest');
  try {
    const jpeg = await fetchSnapshot(cam.url, { username: 'admin', password: 'pw' });
    assert.ok(jpeg.equals(JPEG));
    assert.equal(cam.requests.length, 2);
    assert.match(cam.requests[1], /^Digest username="admin".*qop=auth/);
    await assert.rejects(fetchSnapshot(cam.url, { username: 'admin', password: 'wrong' }), (e: Error) => /401 Unauthorized/.test(e.message) && (e as { code?: string }).code === 'unauthorized');
  } finally {
    await cam.close();
  }
});

test('Basic authentication (allowed over http), credentials taken from the URL, never echoed in errors', async () => {
  const cam = await cameraServer('basic', 'op', 'se:cret');
  try {
    const withCreds = cam.url.replace('http://', 'http://op:se%3Acret@');
    assert.ok((await fetchSnapshot(withCreds, { allowBasicOverHttp: true })).equals(JPEG));
    const bad = cam.url.replace('http://', 'http://op:nope@');
    await assert.rejects(fetchSnapshot(bad, { allowBasicOverHttp: true }), (e: Error) => /401/.test(e.message) && !e.message.includes('nope'));
  } finally {
    await cam.close();
  }
});

test('404, refused connection and non-JPEG answers are clear errors', async () => {
  const cam = await cameraServer('open');
  try {
    await assert.rejects(fetchSnapshot(cam.url.replace('/onvif/snapshot', '/missing')), /404 Not Found/);
    const port = await freePort();
    await assert.rejects(fetchSnapshot(`http://127.0.0.1:${port}/snap.jpg`), /refused the connection/);
  } finally {
    await cam.close();
  }
  const html = http.createServer((_req, res) => res.writeHead(200, { 'Content-Type': 'text/html' }).end('<html>login</html>'));
  await new Promise<void>((r) => html.listen(0, '127.0.0.1', r));
  try {
    await assert.rejects(fetchSnapshot(`http://127.0.0.1:${(html.address() as AddressInfo).port}/x`), /not a JPEG image \(content-type text\/html\)/);
  } finally {
    await new Promise<void>((r) => html.close(() => r()));
  }
});

test('digestAuthorization follows RFC 2617 for a known example', () => {
  // RFC 2617 §3.5 example.
  const h = digestAuthorization(
    'Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"',
    'GET',
    '/dir/index.html',
    'Mufasa',
    'Circle Of Life',
    '0a4f113b',
  );
  assert.match(h, /response="6629fae49393a05397450978507c4ef1"/);
  assert.match(h, /opaque="5ccc069c403ebaf9f0171e9517f40e41"/);
});

test('SnapshotStore keeps a snapshot per alert until its retention ends, and keeps fetch errors', async () => {
  const store = new SnapshotStore(2);
  try {
    const until = monotonicMs() + 400;
    await store.put('a1', 'cam', until, async () => JPEG);
    assert.ok((await store.get('a1', 'cam'))?.jpeg?.equals(JPEG));
    assert.equal(await store.get('a1', 'other-cam'), undefined, 'bound to its camera');
    await store.put('a2', 'cam', monotonicMs() + 60_000, async () => {
      throw new Error('camera said no');
    });
    assert.deepEqual(await store.get('a2', 'cam'), { jpeg: undefined, error: 'camera said no' });
    await waitFor(async () => (await store.get('a1', 'cam')) === undefined, 10_000, 'expiry');
    await store.put('a3', 'cam', monotonicMs() + 60_000, async () => JPEG);
    await store.put('a4', 'cam', monotonicMs() + 60_000, async () => JPEG);
    assert.equal(store.size, 2, 'bounded count');
    assert.equal(await store.get('a2', 'cam'), undefined, 'oldest dropped');
  } finally {
    await store.clear();
  }
});

test('SnapshotStore is bounded in bytes: the oldest pictures go first, never the one just kept', async () => {
  const pic = (n: number) => Buffer.alloc(n, 7);
  const store = new SnapshotStore(100, 2500);
  try {
    const until = monotonicMs() + 60_000;
    await store.put('a1', 'cam', until, async () => pic(1000));
    await store.put('a2', 'cam', until, async () => pic(1000));
    assert.equal(store.sizeBytes, 2000);
    await store.put('a3', 'cam', until, async () => pic(1000));
    assert.equal(store.sizeBytes, 2000, 'the oldest dropped to stay under 2500 bytes');
    assert.equal(await store.get('a1', 'cam'), undefined);
    assert.ok((await store.get('a2', 'cam'))?.jpeg);
    // Replacing a picture counts it once.
    await store.put('a3', 'cam', until, async () => pic(500));
    assert.equal(store.sizeBytes, 1500);
    // One picture larger than the bound is kept alone.
    await store.put('big', 'cam', until, async () => pic(4000));
    assert.equal(store.size, 1);
    assert.equal(store.sizeBytes, 4000);
    assert.ok((await store.get('big', 'cam'))?.jpeg);
  } finally {
    await store.clear();
  }
  assert.equal(store.sizeBytes, 0);
});

/**
 * A VideoManager whose one camera's snapshot address is a real local HTTP server answering a
 * JPEG, and a probe of its snapshot route: `status(alertId)` is the HTTP code it answers,
 * `lastText()` the text of the last answer.
 */
async function managerWithSnapshotServer(opts: Record<string, unknown>) {
  const { VideoManager } = await import('../../lib/video/manager');
  const server = http.createServer((_req, res) => res.writeHead(200, { 'Content-Type': 'image/jpeg' }).end(JPEG));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const mgr = new VideoManager({
    resolveSource: async () => ({ streamUrl: 'rtsp://127.0.0.1:1/none', snapshotUrl: `http://127.0.0.1:${port}/snap.jpg` }),
    ffmpegPath: '/nonexistent/ffmpeg',
    keepForMs: 100,
    ...opts,
  });
  let text = '';
  const status = async (alertId: string) =>
    new Promise<number>((resolve) => {
      const fake = {
        writableEnded: false,
        setHeader() {},
        writeHead(code: number) {
          resolve(code);
          return fake;
        },
        end(t?: string) {
          text = String(t ?? '');
        },
      };
      void mgr.serveSnapshot('cam', alertId, fake as never);
    });
  return { mgr, server, status, lastText: () => text };
}

test('an alert\'s snapshot is served after its relay time is over, for the snapshot keep time', async () => {
  // The retention's clock: Date.now, mocked below.
  const { mgr, server, status, lastText } = await managerWithSnapshotServer({ snapshotKeepMs: 1500, now: () => Date.now() });
  // The retention is read from the manager's clock, here Date.now(): a mocked clock, moved by hand, instead of sleeps
  // that a loaded machine could stretch past the keep time.
  mock.timers.enable({ apis: ['Date'], now: Date.now() });
  try {
    const r = mgr.alert('AL-K', 'cam');
    assert.ok(r.video.until - Date.now() <= 100, 'the relay is kept for keepForMs only');
    await r.snapshot;
    mock.timers.tick(400);
    assert.equal(await status('AL-K'), 200, 'past the relay time, the snapshot is still there');
    mock.timers.tick(1090);
    assert.equal(await status('AL-K'), 200, 'still there 1.49 s after the alert');
    mock.timers.tick(20);
    assert.equal(await status('AL-K'), 404, 'gone after the snapshot keep time (1.5 s)');
    assert.equal(lastText(), 'no snapshot kept for alert "AL-K" on camera "cam": unknown alert, or no longer kept (its keep time ended, newer snapshots took its room, Node-RED restarted, or its video-forward node was deleted)\n');
  } finally {
    mock.timers.reset();
    await mgr.close();
    server.close();
  }
});

test('an alert\'s snapshot is kept through a wall clock step forward (NTP sync after boot): its keep time is monotonic', async () => {
  const { mgr, server, status } = await managerWithSnapshotServer({ snapshotKeepMs: 3_600_000 });
  const wall = stepWallClock();
  try {
    const r = mgr.alert('AL-S', 'cam');
    await r.snapshot;
    wall.step(NTP_FIRST_SYNC_STEP_MS);
    assert.equal(await status('AL-S'), 200, 'still kept');
  } finally {
    wall.restore();
    await mgr.close();
    server.close();
  }
});

test('an alert first sent while the camera turns gets its snapshot retaken once on target, then kept', async () => {
  const { VideoManager } = await import('../../lib/video/manager');
  let served = 0;
  const server = http.createServer((_req, res) => {
    // The second picture carries a JPEG comment segment, so the two are told apart.
    const body = served === 0 ? JPEG : Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xfe, 0x00, 0x04, 0x32, 0x32]), JPEG.subarray(2)]);
    served++;
    res.writeHead(200, { 'Content-Type': 'image/jpeg' }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const mgr = new VideoManager({
    resolveSource: async () => ({ streamUrl: 'rtsp://127.0.0.1:1/none', snapshotUrl: `http://127.0.0.1:${port}/snap.jpg` }),
    ffmpegPath: '/nonexistent/ffmpeg', // no relay needed here: snapshots only
  });
  try {
    const moving = await mgr.alert('AL-S', 'cam', { cameraSettled: false }).snapshot;
    assert.equal(served, 1);
    assert.ok(moving?.equals(JPEG));
    await mgr.alert('AL-S', 'cam', { cameraSettled: false }).snapshot;
    assert.equal(served, 1, 'still turning: not retaken');
    const onTarget = await mgr.alert('AL-S', 'cam', { cameraSettled: true }).snapshot;
    assert.equal(served, 2, 'retaken on target');
    assert.ok(onTarget && !onTarget.equals(JPEG));
    await mgr.alert('AL-S', 'cam', { cameraSettled: true }).snapshot;
    await mgr.alert('AL-S', 'cam', { cameraSettled: false }).snapshot;
    assert.equal(served, 2, 'an on-target snapshot is kept');
    const res = await new Promise<Buffer>((resolve) => {
      const out = { writableEnded: false, head: 0, body: Buffer.alloc(0) } as Record<string, unknown>;
      const fake = {
        get writableEnded() {
          return out.writableEnded as boolean;
        },
        writeHead(code: number) {
          out.head = code;
          return fake;
        },
        end(b: Buffer) {
          out.writableEnded = true;
          resolve(b);
        },
      };
      void mgr.serveSnapshot('cam', 'AL-S', fake as never);
    });
    assert.ok(res.equals(onTarget));
  } finally {
    await mgr.close();
    await new Promise<void>((r) => server.close(() => r()));
  }
});

test('clearing the store stops the snapshots being fetched: the HTTP request and the ffmpeg frame grab end at once', async () => {
  // A "camera" that accepts connections and never answers: each fetch would wait for its timeout.
  const silent = await silentServer();
  const { port, sockets } = silent;
  const store = new SnapshotStore();
  try {
    const until = monotonicMs() + 60_000;
    const t0 = Date.now();
    const http = store.put('a1', 'cam', until, (signal) => fetchSnapshot(`http://127.0.0.1:${port}/snap.jpg`, { timeoutMs: 20_000, signal }));
    const grab = store.put('a2', 'cam', until, (signal) => grabFrame(findBinary('ffmpeg')!, `rtsp://127.0.0.1:${port}/stream`, { timeoutMs: 20_000, signal }));
    await waitFor(() => sockets.length >= 2, 10_000, 'both fetches connected');
    assert.equal(childFfmpegPids().length, 1, 'the frame grab runs');
    // clear() resolves once the fetches have ended, the grab's ffmpeg exited: a node's close relies on it.
    const cleared = await Promise.race([store.clear().then(() => 'cleared'), new Promise((r) => setTimeout(() => r('still running'), 10_000).unref())]);
    assert.equal(cleared, 'cleared', `ended long before their 20 s timeouts (${Date.now() - t0} ms)`);
    assert.deepEqual(childFfmpegPids(), [], 'no ffmpeg left once clear() has resolved');
    assert.deepEqual(await Promise.all([http, grab]), [undefined, undefined]);
  } finally {
    await store.clear();
    await silent.close();
  }
});

test('close() does not wait for a camera that never says where its picture is: the snapshot being taken is abandoned at once', async () => {
  const { VideoManager } = await import('../../lib/video/manager');
  // A camera whose stream and snapshot URIs never come (an ONVIF request left hanging).
  let asked = 0;
  const mgr = new VideoManager({
    resolveSource: () => {
      asked++;
      return new Promise(() => undefined);
    },
    ffmpegPath: '/nonexistent/ffmpeg', // no relay: the snapshot only
  });
  const r = mgr.alert('AL-H', 'cam');
  assert.equal(asked, 1, 'the snapshot asked for the source');
  let bound: NodeJS.Timeout | undefined;
  const closed = await Promise.race([mgr.close().then(() => 'closed'), new Promise((res) => (bound = setTimeout(() => res('still closing'), 10_000)))]);
  clearTimeout(bound);
  assert.equal(closed, 'closed', 'close() ended without the source');
  assert.equal(await r.snapshot, undefined, 'no snapshot, and no error thrown');
});

test('snapshots off: an alert fetches no snapshot and grabs no frame, keeps none and links none; the route answers 404, saying snapshots are off', async () => {
  const { VideoManager } = await import('../../lib/video/manager');
  let snapshotGets = 0;
  const server = http.createServer((_req, res) => {
    snapshotGets++;
    res.writeHead(200, { 'Content-Type': 'image/jpeg' }).end(JPEG);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const deadStream = `rtsp://127.0.0.1:${await freePort()}/none`;
  // One camera with a snapshot URI (fetched over HTTP), one without (a frame would be grabbed from its stream).
  const sources: Record<string, { streamUrl: string; snapshotUrl?: string }> = {
    'cam-uri': { streamUrl: deadStream, snapshotUrl: `http://127.0.0.1:${port}/snap.jpg` },
    'cam-stream': { streamUrl: deadStream },
  };
  // Every child started, with its arguments: a frame grab is the ffmpeg with "-frames:v".
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const spawn = mock.method(require('node:child_process') as typeof import('node:child_process'), 'spawn');
  const frameGrabs = () => spawn.mock.calls.filter((c) => Array.isArray(c.arguments[1]) && (c.arguments[1] as string[]).includes('-frames:v')).length;
  const served = (mgr: InstanceType<typeof VideoManager>, cameraId: string, alertId: string) =>
    new Promise<{ status: number; body: string }>((resolve) => {
      let status = 0;
      const fake = {
        writableEnded: false,
        writeHead(code: number) {
          status = code;
          return fake;
        },
        end(b: Buffer | string) {
          resolve({ status, body: typeof b === 'string' ? b : 'JPEG' });
        },
      };
      void mgr.serveSnapshot(cameraId, alertId, fake as never);
    });
  const managers: InstanceType<typeof VideoManager>[] = [];
  const managerWith = (snapshots: boolean) => {
    const mgr = new VideoManager({ resolveSource: async (id) => sources[id], ffmpegPath: findBinary('ffmpeg')!, maxRelays: 4, snapshots });
    managers.push(mgr);
    return mgr;
  };
  try {
    const off = managerWith(false);
    const errors: unknown[] = [];
    off.on('snapshot-error', (e) => errors.push(e));
    for (const cameraId of ['cam-uri', 'cam-stream']) {
      const r = off.alert(`OFF-${cameraId}`, cameraId);
      assert.equal(r.video.snapshot, undefined, 'no snapshot link');
      assert.equal(r.video.live, `/vigie/video/${cameraId}/live`, 'the live links are still there');
      assert.equal(await r.snapshot, undefined);
      // serveSnapshot waits for a fetch in progress: had one started, it would have ended by now.
      assert.deepEqual(await served(off, cameraId, `OFF-${cameraId}`), { status: 404, body: `no snapshot for alert "OFF-${cameraId}" on camera "${cameraId}": snapshots are off (video-forward's Snapshot is unticked)\n` });
    }
    assert.equal(snapshotGets, 0, 'the snapshot URI was not fetched');
    assert.equal(frameGrabs(), 0, 'no frame was grabbed from the stream');
    assert.deepEqual(errors, [], 'nothing taken, nothing failed');

    // The same alerts with snapshots on: the fetch and the grab are seen (what is counted above does happen).
    const on = managerWith(true);
    const withUri = on.alert('ON-uri', 'cam-uri');
    assert.equal(withUri.video.snapshot, '/vigie/video/cam-uri/snapshot.jpg?alert=ON-uri');
    assert.ok((await withUri.snapshot)?.equals(JPEG));
    assert.equal((await served(on, 'cam-uri', 'ON-uri')).status, 200);
    assert.equal(snapshotGets, 1);
    await on.alert('ON-stream', 'cam-stream').snapshot; // the dead stream gives no frame: 502 below
    assert.equal(frameGrabs(), 1, 'a frame grab was started for the camera without a snapshot URI');
    assert.equal((await served(on, 'cam-stream', 'ON-stream')).status, 502);
  } finally {
    await Promise.all(managers.map((m) => m.close()));
    spawn.mock.restore();
    await new Promise<void>((r) => server.close(() => r()));
  }
  assert.deepEqual(childFfmpegPids(), [], 'no ffmpeg left');
});

test('an https: snapshot address: a self-signed certificate is refused unless the camera\'s certificate check is off', async () => {
  const { certFile, keyFile } = makeSelfSignedCertificate();
  const server = https.createServer({ cert: fs.readFileSync(certFile), key: fs.readFileSync(keyFile) }, (_req, res) => res.writeHead(200, { 'Content-Type': 'image/jpeg' }).end(JPEG));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/snap.jpg`;
  try {
    await assert.rejects(fetchSnapshot(url), /self-signed certificate/);
    await assert.rejects(fetchSnapshot(url, { checkCertificate: true }), /self-signed certificate/);
    assert.deepEqual(await fetchSnapshot(url, { checkCertificate: false }), JPEG);
    // Through the video manager, as video-forward gives it a camera's source: the alert's snapshot is taken or not.
    const { VideoManager } = await import('../../lib/video/manager');
    for (const checkCertificate of [false, undefined]) {
      const mgr = new VideoManager({ resolveSource: async () => ({ streamUrl: 'rtsp://127.0.0.1:1/none', snapshotUrl: url, checkCertificate }), ffmpegPath: '/nonexistent/ffmpeg', keepForMs: 100 });
      const errors: unknown[] = [];
      mgr.on('snapshot-error', (e) => errors.push(e));
      try {
        const r = mgr.alert(`tls-${checkCertificate}`, 'cam');
        await r.snapshot;
        const item = await (mgr as unknown as { snapshots: { get(a: string, c: string): Promise<{ jpeg?: Buffer } | undefined> } }).snapshots.get(`tls-${checkCertificate}`, 'cam');
        if (checkCertificate === false) assert.deepEqual(item?.jpeg, JPEG, 'taken with the check off');
        else assert.equal(item?.jpeg, undefined, 'refused with the check on');
      } finally {
        await mgr.close();
      }
    }
  } finally {
    server.close();
  }
});
