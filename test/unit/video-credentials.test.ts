/**
 * A camera's user and password go to the camera's own host only, and never as Basic over plain
 * http: unless the camera's "Basic over HTTP" allows it. Against real HTTP servers that record
 * what they are sent (one posing as another host on 127.0.0.2), real ffmpeg, and the virtual
 * camera answering GetStreamUri / GetSnapshotUri with another host's address.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as http from 'node:http';
import { AddressInfo } from 'node:net';
import { fetchSnapshot } from '../../lib/video/snapshot';
import { VideoManager, VideoSource } from '../../lib/video/manager';
import { hostOf, isOwnHost, isOwnHostResolved } from '../../lib/util/url-credentials';
import { CameraConnection } from '../../lib/camera/connection';
import { VirtualCamera } from '../../lib/sim/camera/virtual-camera';
import { loopbackCamera } from '../support/camera-config';
import { waitFor } from '../support/wait';

const PASSWORD = 'S3cret-city-pw';

const JPEG = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc=size=64x48', '-frames:v', '1', '-c:v', 'mjpeg', '-f', 'image2pipe', 'pipe:1']).stdout;

interface Recorder {
  port: number;
  url(path: string): string;
  /** Authorization headers received, one per request ('' when none). */
  auth: string[];
  close(): Promise<void>;
}

/** A server on `host` that asks for Basic and records what it gets; with the right password it answers a JPEG. */
async function basicServer(host: string, port = 0): Promise<Recorder> {
  const auth: string[] = [];
  const server = http.createServer((req, res) => {
    auth.push(req.headers.authorization ?? '');
    if (req.headers.authorization === `Basic ${Buffer.from(`vigie:${PASSWORD}`).toString('base64')}`) {
      res.writeHead(200, { 'Content-Type': 'image/jpeg' }).end(JPEG);
      return;
    }
    res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="cam"' }).end();
  });
  await new Promise<void>((r) => server.listen(port, host, r));
  const p = (server.address() as AddressInfo).port;
  return {
    port: p,
    url: (path) => `http://${host}:${p}${path}`,
    auth,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

const passwordSeen = (r: Recorder): boolean => r.auth.some((a) => a.startsWith('Basic ') && Buffer.from(a.slice(6), 'base64').toString().includes(PASSWORD));

test('hostOf and isOwnHost compare hosts as URLs read them, ports aside', () => {
  assert.equal(hostOf('rtsp://u:p@Cam-1.City.Lan.:554/s'), 'cam-1.city.lan');
  assert.equal(hostOf('http://[FE80::1]:80/x'), 'fe80::1');
  assert.equal(hostOf('fe80::1'), 'fe80::1');
  assert.equal(hostOf('192.168.1.20'), '192.168.1.20');
  assert.equal(hostOf('http://0x7f.1/x'), '127.0.0.1');
  assert.equal(hostOf('not a url at all'), '');
  const own = ['192.168.1.20', 'http://nvr.city.lan:8080/stream'];
  assert.ok(isOwnHost('rtsp://192.168.1.20:554/s', own));
  assert.ok(isOwnHost('http://NVR.city.lan/snap.jpg', own));
  assert.ok(!isOwnHost('http://192.168.1.21/snap.jpg', own));
  assert.ok(!isOwnHost('http://192.168.1.20.evil.example/snap.jpg', own));
  assert.ok(!isOwnHost('http://192.168.1.20@evil.example/snap.jpg', own), 'a user part that looks like the host');
  assert.ok(!isOwnHost('http://evil.example/#@192.168.1.20', own));
  assert.ok(!isOwnHost('rtsp://192.168.1.20/s', undefined), 'no own hosts: none');
  assert.ok(!isOwnHost('rtsp://192.168.1.20/s', []));
});

test('isOwnHostResolved: an address the configured name resolves to is the camera\'s own; a failing or hanging lookup is not', async () => {
  const lookup = async (name: string): Promise<string[]> => (name === 'cam-1.city.lan' ? ['10.1.2.3', 'fd00::3'] : []);
  assert.ok(await isOwnHostResolved('rtsp://10.1.2.3:554/s', ['cam-1.city.lan'], lookup));
  assert.ok(await isOwnHostResolved('rtsp://[fd00::3]/s', ['cam-1.city.lan'], lookup));
  assert.ok(!(await isOwnHostResolved('rtsp://10.1.2.4/s', ['cam-1.city.lan'], lookup)));
  // a name in the URI is never looked up: it must be one of the hosts as typed
  assert.ok(!(await isOwnHostResolved('rtsp://other.city.lan/s', ['cam-1.city.lan'], async () => ['10.1.2.3'])));
  assert.ok(!(await isOwnHostResolved('rtsp://10.1.2.3/s', ['cam-1.city.lan'], async () => Promise.reject(new Error('ENOTFOUND')))));
  assert.ok(!(await isOwnHostResolved('rtsp://10.1.2.3/s', ['cam-1.city.lan'], () => new Promise<string[]>(() => undefined), 50)));
});

test('fetchSnapshot: a Basic challenge over plain http: gets no password unless allowed; Digest and https need nothing', async () => {
  const cam = await basicServer('127.0.0.1');
  try {
    await assert.rejects(
      fetchSnapshot(cam.url('/snap.jpg'), { username: 'vigie', password: PASSWORD }),
      (e: Error & { code?: string }) => e.code === 'unauthorized' && /asks for Basic authentication over plain http:/.test(e.message) && /"Basic over HTTP"/.test(e.message) && !e.message.includes(PASSWORD),
    );
    assert.deepEqual(cam.auth, [''], 'one request, without credentials');
    assert.ok((await fetchSnapshot(cam.url('/snap.jpg'), { username: 'vigie', password: PASSWORD, allowBasicOverHttp: true })).equals(JPEG));
    assert.ok(passwordSeen(cam), 'allowed: the camera gets it');
  } finally {
    await cam.close();
  }
});

/** A manager over one camera whose source is given; records the hosts it withheld credentials from. */
function manager(source: () => Promise<VideoSource>) {
  const withheld: Array<{ what: string; host: string }> = [];
  const mgr = new VideoManager({ resolveSource: source, knowsCamera: () => true, backoff: { initialMs: 100, maxMs: 400 }, ioTimeoutMs: 10_000 });
  mgr.on('credentials-withheld', (e: { what: string; host: string }) => withheld.push({ what: e.what, host: e.host }));
  return { mgr, withheld };
}

test('the relay: a snapshot and a stream on another host get no credentials (real ffmpeg); on the camera\'s own host they do', async () => {
  const evil = await basicServer('127.0.0.2');
  const src = (ownHosts: string[]) => async (): Promise<VideoSource> => ({
    streamUrl: evil.url('/live.ts'),
    snapshotUrl: evil.url('/snap.jpg'),
    username: 'vigie',
    password: PASSWORD,
    ownHosts,
    basicOverHttp: true, // the host check alone must stop it
  });
  const other = manager(src(['127.0.0.1']));
  try {
    const r = other.mgr.alert('a1', 'cam');
    await r.snapshot; // the fetch, then a frame grab from the stream: both refused (401)
    await waitFor(() => evil.auth.length >= 3, 20_000, 'the snapshot, the frame grab and the relay asked');
    assert.ok(!passwordSeen(evil), `no password sent to 127.0.0.2: ${evil.auth.join(' | ')}`);
    assert.deepEqual(evil.auth.filter((a) => a !== ''), []);
    assert.ok(other.withheld.some((w) => w.what === 'snapshot' && w.host === '127.0.0.2'));
    assert.ok(other.withheld.some((w) => w.what === 'stream' && w.host === '127.0.0.2'));
  } finally {
    await other.mgr.close();
  }
  // The same server listed as the camera's own host: it gets the password (the test can see one).
  evil.auth.length = 0;
  const own = manager(src(['127.0.0.2']));
  try {
    const r = own.mgr.alert('a2', 'cam');
    assert.ok((await r.snapshot)?.equals(JPEG));
    assert.ok(passwordSeen(evil));
    assert.deepEqual(own.withheld, []);
  } finally {
    await own.mgr.close();
    await evil.close();
  }
});

test('the virtual camera answering its media URIs with another host\'s address: that host gets no credentials; its own addresses work', async () => {
  const cam = new VirtualCamera({ username: 'vigie', password: PASSWORD });
  await cam.start();
  // Another host, on the same port as the camera (which listens on 127.0.0.1 only).
  const elsewhere = await basicServer('127.0.0.2', cam.port);
  const nat = new VirtualCamera({ username: 'vigie', password: PASSWORD, mediaHost: '127.0.0.2' });
  await nat.start();
  const elsewhereNat = await basicServer('127.0.0.2', nat.port);
  const conns: CameraConnection[] = [];
  const sourceOf = (c: VirtualCamera) => {
    const config = loopbackCamera(c.port);
    const conn = new CameraConnection({ config, username: 'vigie', password: PASSWORD, timeoutMs: 5000, backoff: { initialMs: 100, maxMs: 400 } });
    conns.push(conn);
    conn.start();
    return async (): Promise<VideoSource> => ({
      streamUrl: await conn.getStreamUri(),
      snapshotUrl: await conn.getSnapshotUri(),
      username: 'vigie',
      password: PASSWORD,
      ownHosts: [config.host],
      basicOverHttp: true,
    });
  };
  const honest = manager(sourceOf(cam));
  const natted = manager(sourceOf(nat));
  try {
    // Its own address: the snapshot is the camera's picture, nothing withheld.
    const jpeg = await honest.mgr.alert('v1', 'cam').snapshot;
    assert.ok(jpeg && jpeg.length > 1000, 'the camera\'s snapshot');
    assert.deepEqual(honest.withheld, []);
    assert.deepEqual(elsewhere.auth, [], 'nothing went to the other host');
    // Its media URIs name 127.0.0.2: that host is asked without credentials.
    await natted.mgr.alert('v2', 'cam').snapshot;
    await waitFor(() => elsewhereNat.auth.length >= 2, 30_000, 'the other host was asked for the snapshot and the stream');
    assert.ok(!passwordSeen(elsewhereNat), elsewhereNat.auth.join(' | '));
    assert.ok(natted.withheld.some((w) => w.what === 'snapshot' && w.host === '127.0.0.2'));
  } finally {
    await honest.mgr.close();
    await natted.mgr.close();
    for (const c of conns) await c.close();
    await elsewhere.close();
    await elsewhereNat.close();
    await cam.stop();
    await nat.stop();
  }
});
