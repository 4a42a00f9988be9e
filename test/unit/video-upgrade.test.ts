/**
 * VideoManager.handleUpgrade on a real HTTP server with raw TCP clients: any request line can
 * reach a server's 'upgrade' event, where a throw ends the process. A target that cannot be
 * read as a URL is not the manager's (it leaves the socket alone for the server's other
 * handlers); an unexpected fault destroys that socket and is reported, never thrown. No ffmpeg
 * is started: nothing here gets past the ticket but the verifyClient case, which throws.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import * as net from 'node:net';
import type { Duplex } from 'node:stream';
import { requestUrl, VideoManager } from '../../lib/video/manager';
import { LiveTickets } from '../../lib/video/tickets';
import { rawUpgrade } from '../support/raw-upgrade';

/** What handleUpgrade returned and had done to the socket when it returned. */
interface Seen {
  url: string | undefined;
  returned?: boolean;
  threw?: unknown;
  destroyed: boolean;
  bytesWritten: number;
}

describe('video manager: WebSocket upgrades', () => {
  const tickets = new LiveTickets();
  const verifyFaults: string[] = [];
  let verifyThrows = false;
  const mgr = new VideoManager({
    resolveSource: async () => ({ streamUrl: 'rtsp://127.0.0.1:1/none' }),
    knowsCamera: (id) => id === 'cam1',
    ffmpegPath: '/nonexistent/ffmpeg',
    tickets,
    // settings.js's webSocketNodeVerifyClient is the user's code: it may throw.
    verifyClient: () => {
      if (verifyThrows) throw new Error('verifyClient broke');
      return true;
    },
  });
  const upgradeErrors: Array<{ cameraId: string; error: Error }> = [];
  mgr.on('upgrade-error', (e: { cameraId: string; error: Error }) => upgradeErrors.push(e));
  const seen: Seen[] = [];
  const uncaught: unknown[] = [];
  const recordUncaught = (e: unknown): void => {
    uncaught.push(e);
  };
  const server = http.createServer((req, res) => {
    if (!mgr.handleRequest(req, res)) res.writeHead(404).end();
  });
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    const s: Seen = { url: req.url, destroyed: false, bytesWritten: 0 };
    try {
      s.returned = mgr.handleUpgrade(req, socket, head);
    } catch (err) {
      s.threw = err;
    }
    s.destroyed = socket.destroyed;
    s.bytesWritten = (socket as net.Socket).bytesWritten;
    seen.push(s);
    // This server's "other handlers": whatever the manager left is closed here.
    if (!s.returned) socket.destroy();
  });
  let port = 0;

  before(async () => {
    process.on('uncaughtException', recordUncaught);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as net.AddressInfo).port;
  });

  after(async () => {
    process.off('uncaughtException', recordUncaught);
    await mgr.close();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('requestUrl reads the path as sent and gives undefined for what cannot be read, without throwing', () => {
    assert.equal(requestUrl('//')?.pathname, '//');
    assert.equal(requestUrl('//host:99999/')?.pathname, '//host:99999/');
    assert.equal(requestUrl('//[')?.pathname, '//[');
    assert.equal(requestUrl('//x/vigie/video/cam1/live')?.pathname, '//x/vigie/video/cam1/live', 'not a host "x"');
    assert.equal(requestUrl('/vigie/video/cam1/live?ticket=t')?.searchParams.get('ticket'), 't');
    assert.equal(requestUrl('http://h:1/vigie/video/cam1/live')?.pathname, '/vigie/video/cam1/live', 'absolute form');
    assert.equal(requestUrl(undefined)?.pathname, '/');
    for (const bad of ['http://[', 'http://h:99999/', '*']) assert.equal(requestUrl(bad), undefined, bad);
  });

  it('targets that cannot be read as URLs are left untouched to the other handlers, and nothing is thrown', async () => {
    const targets = ['//', '//host:99999/', '//[', 'http://[', 'http://h:99999/vigie/video/cam1/live', '*'];
    seen.length = 0;
    const answers = await Promise.all(targets.map((t) => rawUpgrade(port, t)));
    assert.deepEqual(answers, targets.map(() => ''), 'nothing written back by the manager');
    assert.deepEqual(
      [...seen].sort((a, b) => targets.indexOf(a.url ?? '') - targets.indexOf(b.url ?? '')),
      targets.map((url) => ({ url, returned: false, destroyed: false, bytesWritten: 0 })),
      'not taken, not destroyed, nothing written',
    );
    assert.deepEqual(uncaught, []);
    assert.deepEqual(upgradeErrors, []);
  });

  it('a live path is still taken (401 without a ticket), the absolute form too', async () => {
    seen.length = 0;
    for (const target of ['/vigie/video/cam1/live', 'http://127.0.0.1/vigie/video/cam1/live']) {
      assert.match(await rawUpgrade(port, target), /^HTTP\/1\.1 401 Unauthorized\r\n/, target);
    }
    assert.deepEqual(
      seen.map((s) => s.returned),
      [true, true],
    );
  });

  it('an unexpected fault (a throwing verifyClient) destroys that socket and is emitted once, never thrown', async () => {
    seen.length = 0;
    verifyThrows = true;
    try {
      const { ticket } = tickets.issue('cam1');
      const answer = await rawUpgrade(port, `/vigie/video/cam1/live?ticket=${ticket}`);
      assert.equal(answer, '', 'the socket is closed without an answer');
    } finally {
      verifyThrows = false;
    }
    assert.equal(seen.length, 1);
    assert.equal(seen[0].threw, undefined, 'nothing thrown into the server\'s upgrade event');
    assert.equal(seen[0].returned, true, 'taken: the other handlers must not answer it');
    assert.equal(seen[0].destroyed, true);
    assert.deepEqual(
      upgradeErrors.map((e) => [e.cameraId, e.error.message]),
      [['cam1', 'verifyClient broke']],
    );
    assert.deepEqual(uncaught, []);
    // Plain requests with such targets are not the manager's either.
    const res = await fetch(`http://127.0.0.1:${port}//host:99999/`, { signal: AbortSignal.timeout(30_000) });
    assert.equal(res.status, 404);
  });
});
