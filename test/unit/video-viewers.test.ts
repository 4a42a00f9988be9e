/**
 * Who a live viewer is, for the audit log, and how many views one client and one relay may
 * hold: the connection's own address is always recorded, X-Forwarded-For only from a trusted
 * proxy, a `?viewer=` name is marked as said, an authenticated user is preferred; views are
 * capped per address and per relay, and audited once per camera, address and user per minute.
 * Against a real HTTP server with real ffmpeg relays, and the real audit log.
 */
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { AddressInfo } from 'node:net';
import { WebSocket } from 'ws';
import { auditBus, AuditEvent } from '../../lib/alerts/bus';
import { listAuditFiles, openSharedAuditLog, verifyAuditFiles } from '../../lib/alerts/audit';
import { VideoManager, VideoManagerOptions, viewerOf } from '../../lib/video/manager';
import { waitFor } from '../support/wait';

function fakeReq(url: string, remoteAddress: string, headers: http.IncomingHttpHeaders = {}, user?: unknown): http.IncomingMessage {
  return { url, headers, socket: { remoteAddress }, ...(user !== undefined ? { user } : {}) } as unknown as http.IncomingMessage;
}

test('viewerOf: the socket address always; X-Forwarded-For only from a trusted proxy, its right-most untrusted entry', () => {
  const forged = viewerOf(fakeReq('/vigie/video/cam-north/mjpeg?viewer=Chief%20Operator%20Dupont', '127.0.0.1', { 'x-forwarded-for': '10.9.9.9' }));
  assert.deepEqual(forged, { label: 'Chief Operator Dupont (said, 127.0.0.1)', named: true, address: '127.0.0.1', saidName: 'Chief Operator Dupont' });
  // Behind a trusted proxy: the proxy appends the address it was reached from; what is left of it the client wrote.
  const proxied = viewerOf(fakeReq('/x', '::ffff:127.0.0.1', { 'x-forwarded-for': '10.9.9.9, 192.168.5.5' }), { trustedProxies: ['127.0.0.1'] });
  assert.equal(proxied.address, '127.0.0.1');
  assert.equal(proxied.forwardedFor, '192.168.5.5');
  assert.equal(proxied.label, '192.168.5.5 via 127.0.0.1');
  // Two trusted proxies in a row: the client is the first untrusted one from the right.
  assert.equal(viewerOf(fakeReq('/x', '127.0.0.1', { 'x-forwarded-for': ['10.9.9.9, 192.168.5.5', '10.0.0.2'] }), { trustedProxies: ['127.0.0.1', '10.0.0.2'] }).forwardedFor, '192.168.5.5');
  // A connection from elsewhere than the proxy: its header is ignored.
  assert.equal(viewerOf(fakeReq('/x', '192.168.7.7', { 'x-forwarded-for': '10.9.9.9' }), { trustedProxies: ['127.0.0.1'] }).forwardedFor, undefined);
  // No address at all
  assert.equal(viewerOf(fakeReq('/x', '')).address, 'unknown');
});

test('viewerOf: the authenticated user comes first; a Basic name counts only when Node-RED checked it; names are cleaned', () => {
  const basic = { authorization: `Basic ${Buffer.from('ann:pw').toString('base64')}` };
  assert.equal(viewerOf(fakeReq('/x?viewer=Dupont', '127.0.0.1', basic), { basicUserChecked: true }).label, 'ann (127.0.0.1)');
  const unchecked = viewerOf(fakeReq('/x?viewer=Dupont', '127.0.0.1', basic));
  assert.equal(unchecked.user, undefined);
  assert.equal(unchecked.label, 'Dupont (said, 127.0.0.1)');
  assert.equal(viewerOf(fakeReq('/x', '127.0.0.1', {}, { username: 'bob' })).label, 'bob (127.0.0.1)');
  assert.equal(viewerOf(fakeReq('/x', '127.0.0.1', {}, 'carol')).user, 'carol');
  assert.equal(viewerOf(fakeReq('/x', '127.0.0.1'), { ticketUser: 'dan' }).label, 'dan (127.0.0.1)');
  assert.equal(viewerOf(fakeReq('/x?viewer=Eve%0A%7B%22actor%22%3A1%7D', '127.0.0.1')).saidName, 'Eve {"actor":1}');
});

const managers: VideoManager[] = [];
const servers: http.Server[] = [];
afterEach(async () => {
  while (managers.length) await managers.pop()!.close();
  while (servers.length) {
    const s = servers.pop()!;
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
});

/** A manager on a real HTTP server on 127.0.0.1; the relays' ffmpeg reads a camera that is not there (retried). */
async function harness(opts: Partial<VideoManagerOptions> = {}) {
  const mgr = new VideoManager({
    resolveSource: async () => ({ streamUrl: 'rtsp://127.0.0.1:1/none' }),
    knowsCamera: () => true,
    backoff: { initialMs: 500, maxMs: 2000 },
    maxRelays: 4,
    ...opts,
  });
  managers.push(mgr);
  const server = http.createServer((req, res) => {
    if (!mgr.handleRequest(req, res)) res.writeHead(404).end();
  });
  server.on('upgrade', (req, socket, head) => {
    if (!mgr.handleUpgrade(req, socket, head)) socket.destroy();
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const audits: AuditEvent[] = [];
  const off = auditBus.subscribe((e) => audits.push(e));
  const open: http.ClientRequest[] = [];
  /** Opens an MJPEG view from `from` (a loopback address); resolves with its status and body when it is not 200. */
  const view = (query = '', from = '127.0.0.1', headers: http.OutgoingHttpHeaders = {}, camera = 'cam-north') =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port, path: `/vigie/video/${camera}/mjpeg${query}`, localAddress: from, agent: false, headers }, (res) => {
        if (res.statusCode === 200) return resolve({ status: 200, body: '' });
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      open.push(req);
    });
  return {
    mgr,
    port,
    audits: () => audits.filter((e) => e.type === 'live-view'),
    view,
    closeViews: () => {
      for (const r of open.splice(0)) r.destroy();
    },
    stopAudits: off,
  };
}

test('a forged X-Forwarded-For and a ?viewer= name: the audit entry has the real address and marks the name as said, and the real audit log takes it', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-viewers-'));
  const log = openSharedAuditLog({ dir });
  const h = await harness();
  try {
    const r = await h.view('?viewer=Chief%20Operator%20Dupont', '127.0.0.1', { 'X-Forwarded-For': '10.9.9.9' });
    assert.equal(r.status, 200);
    await waitFor(() => h.audits().length === 1, 10_000, 'the view is audited');
    const e = h.audits()[0];
    assert.equal(e.actor, 'Chief Operator Dupont (said, 127.0.0.1)');
    assert.deepEqual(e.details, { cameraId: 'cam-north', viewer: 'Chief Operator Dupont (said, 127.0.0.1)', kind: 'mjpeg', address: '127.0.0.1', saidName: 'Chief Operator Dupont' });
    assert.ok(!JSON.stringify(e).includes('10.9.9.9'), 'the forged address is not recorded');
    h.closeViews();
    log.release();
    const entries = listAuditFiles(dir).flatMap((f) => fs.readFileSync(f, 'utf8').trim().split('\n')).map((l) => JSON.parse(l));
    assert.ok(entries.some((x) => x.type === 'live-view' && x.actor === 'Chief Operator Dupont (said, 127.0.0.1)' && x.details.address === '127.0.0.1'));
    assert.equal(verifyAuditFiles(listAuditFiles(dir)).ok, true);
  } finally {
    h.stopAudits();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('views are capped per client address (HTTP 429, saying why) while another address still gets in', async () => {
  const h = await harness({ maxViewersPerAddress: 3 });
  const warnings: string[] = [];
  const onWarning = (w: Error): void => void warnings.push(w.name);
  process.on('warning', onWarning);
  const limited: Array<{ scope: string; address: string }> = [];
  h.mgr.on('viewer-limited', (e: { scope: string; address: string }) => limited.push(e));
  try {
    for (let i = 0; i < 3; i++) assert.equal((await h.view(`?viewer=v${i}`)).status, 200);
    const refused = await h.view('?viewer=v3');
    assert.equal(refused.status, 429);
    assert.match(refused.body, /Too many live pictures of this camera, or from this computer, are open/);
    assert.deepEqual(limited.map((e) => [e.scope, e.address]), [['address', '127.0.0.1']]);
    // another camera from the same address: the same cap
    assert.equal((await h.view('', '127.0.0.1', {}, 'cam-south')).status, 429);
    assert.equal((await h.view('', '127.0.0.2')).status, 200, 'another address is not held up');
    assert.equal(h.mgr.stats().viewers, 4);
    // A view closed frees its place.
    h.closeViews();
    await waitFor(() => h.mgr.stats().viewers === 0, 10_000, 'the views closed');
    assert.equal((await h.view('?viewer=again')).status, 200);
    assert.deepEqual(warnings, []);
  } finally {
    process.off('warning', onWarning);
    h.closeViews();
    h.stopAudits();
  }
});

test('viewers are capped per relay (HTTP 503), and many viewers of one relay raise no listener-leak warning', async () => {
  const h = await harness({ maxViewersPerAddress: 100, maxViewersPerRelay: 20 });
  const warnings: string[] = [];
  const onWarning = (w: Error): void => void warnings.push(w.name);
  process.on('warning', onWarning);
  try {
    for (let i = 0; i < 20; i++) assert.equal((await h.view(`?viewer=v${i}`)).status, 200);
    const refused = await h.view('?viewer=v20', '127.0.0.2');
    assert.equal(refused.status, 503);
    assert.match(refused.body, /Too many live pictures of this camera/);
    assert.equal(h.mgr.stats().relays, 1);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(warnings, [], 'no MaxListenersExceededWarning');
  } finally {
    process.off('warning', onWarning);
    h.closeViews();
    h.stopAudits();
  }
});

test('a view is audited once per camera, address and user per window, whatever name it gives; again after the window', async () => {
  let nowMs = 1_000_000;
  const h = await harness({ clockMs: () => nowMs, viewAuditWindowMs: 60_000 });
  try {
    for (const q of ['?viewer=a', '?viewer=b', '', '?viewer=a&alert=x2']) assert.equal((await h.view(q)).status, 200);
    h.closeViews();
    await waitFor(() => h.mgr.stats().viewers === 0, 10_000, 'the views closed');
    for (let i = 0; i < 3; i++) assert.equal((await h.view('?viewer=a')).status, 200);
    assert.deepEqual(h.audits().map((e) => e.actor), ['a (said, 127.0.0.1)'], 'one entry for seven views');
    assert.equal((await h.view('', '127.0.0.2')).status, 200);
    assert.equal((await h.view('', '127.0.0.1', {}, 'cam-south')).status, 200);
    assert.deepEqual(h.audits().map((e) => `${e.actor}|${e.details.cameraId}`), ['a (said, 127.0.0.1)|cam-north', '127.0.0.2|cam-north', '127.0.0.1|cam-south']);
    nowMs += 60_000;
    h.closeViews();
    await waitFor(() => h.mgr.stats().viewers === 0, 10_000, 'the views closed');
    assert.equal((await h.view('?viewer=c')).status, 200);
    assert.equal(h.audits().length, 4);
    assert.equal(h.audits()[3].actor, 'c (said, 127.0.0.1)');
  } finally {
    h.closeViews();
    h.stopAudits();
  }
});

test('live WebSocket: the user is the one Node-RED let ask for the ticket; a Basic header on the handshake itself is not believed', async () => {
  const h = await harness({ basicUserChecked: true });
  const basic = (u: string) => ({ Authorization: `Basic ${Buffer.from(`${u}:pw`).toString('base64')}` });
  const ticket = (user?: string) =>
    new Promise<string>((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port: h.port, path: '/vigie/video/cam-north/ticket', headers: user ? basic(user) : {} }, (res) => {
          let body = '';
          res.on('data', (d) => (body += d));
          res.on('end', () => resolve(JSON.parse(body).ticket));
        })
        .on('error', reject);
    });
  const sockets: WebSocket[] = [];
  const openLive = async (t: string, headers: Record<string, string> = {}, query = '') => {
    const ws = new WebSocket(`ws://127.0.0.1:${h.port}/vigie/video/cam-north/live?ticket=${t}${query}`, { headers });
    sockets.push(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
  };
  try {
    await openLive(await ticket('ann'), {}, '&viewer=Dupont');
    await waitFor(() => h.audits().length === 1, 10_000, 'the live view is audited');
    assert.equal(h.audits()[0].actor, 'ann (127.0.0.1)');
    assert.equal(h.audits()[0].details.user, 'ann');
    assert.equal(h.audits()[0].details.saidName, 'Dupont');
    // A ticket asked without a user, a Basic header on the handshake: not a user (the handshake passed no check).
    await openLive(await ticket(), basic('mallory'), '&viewer=Mallory');
    await waitFor(() => h.audits().length === 2, 10_000, 'the second live view is audited');
    assert.equal(h.audits()[1].actor, 'Mallory (said, 127.0.0.1)');
    assert.equal(h.audits()[1].details.user, undefined);
  } finally {
    for (const ws of sockets) ws.terminate();
    h.stopAudits();
  }
});
