/**
 * video-forward in a real Node-RED runtime (node-red-node-test-helper): alerts get
 * payload.video under httpNodeRoot, the live WebSocket is served on Node-RED's own server
 * with real ffmpeg from a real RTSP server (with audio) and from the virtual ONVIF camera
 * (through the real vigie-camera config node), bad input is refused with named fields, and
 * closing leaves no ffmpeg and no upgrade listener. With Snapshot unticked, no picture is asked
 * of the camera nor grabbed from its stream.
 */
import { after, afterEach, before, describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import { registerCamera } from '../../lib/camera/registry';
import type { CameraConfig, CameraHandle } from '../../lib/camera/types';
import { VirtualCamera } from '../../lib/sim/camera/virtual-camera';
import { isJpeg } from '../../lib/video/jpeg';
import { auditBus, AuditEvent } from '../../lib/alerts/bus';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { VideoManager } from '../../lib/video/manager';
import { Relay } from '../../lib/video/relay';
import { findBinary } from '../../lib/util/binaries';
import { tempDir } from '../support/tmp';
import { childFfmpegPids, closeWs, collectWs, ffprobeStreams, RtspServer, startRtspServer, tfdtOf, topBoxes } from '../support/video-sources';
import { rawUpgrade as rawUpgradeTo } from '../support/raw-upgrade';
import { waitFor } from '../support/wait';
import { warningsOf } from '../support/node-red-log';
import { onCameraAlert } from '../support/detections';
import { captureRed, helper, nextMessage, startServerWithHttpNode } from '../support/node-red-helper';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const videoForward = require('../../nodes/video-forward');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const vigieCamera = require('../../nodes/vigie-camera');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const catchNode = require('@node-red/nodes/core/common/25-catch.js');

type Any = any; // eslint-disable-line @typescript-eslint/no-explicit-any

function cameraHandle(id: string, streamUrl: string, snapshotUrl?: string): CameraHandle {
  return {
    id,
    name: id,
    config: { id, name: id, streamUrl, snapshotUrl } as CameraConfig,
    state: 'connected',
    getStreamUri: async () => streamUrl,
    getSnapshotUri: async () => {
      if (!snapshotUrl) throw new Error('no snapshot URI');
      return snapshotUrl;
    },
  };
}

function flow(extra: Record<string, unknown> = {}): Any[] {
  return [
    { id: 'tab', type: 'tab', label: 't' },
    { id: 'vf', type: 'video-forward', z: 'tab', name: 'video', idleStopS: 2, keepForS: 30, maxRelays: 2, mjpegFps: 5, mjpegWidth: 320, wires: [['out']], ...extra },
    { id: 'out', type: 'helper', z: 'tab' },
    { id: 'catcher', type: 'catch', z: 'tab', scope: null, wires: [['caught']] },
    { id: 'caught', type: 'helper', z: 'tab' },
  ];
}

/**
 * Every child process this test process starts, with its arguments (the virtual camera runs
 * in it too): a snapshot the virtual camera answers is encoded by an ffmpeg reading raw video
 * from a pipe; a frame grabbed from a stream by video-forward is an ffmpeg with "-frames:v"
 * reading the stream.
 */
function recordSpawns(): { cameraSnapshots(): number; frameGrabs(): number; restore(): void } {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const spawn = mock.method(require('node:child_process') as typeof import('node:child_process'), 'spawn');
  const argsOf = (): string[][] => spawn.mock.calls.map((c) => (Array.isArray(c.arguments[1]) ? (c.arguments[1] as string[]) : []));
  return {
    cameraSnapshots: () => argsOf().filter((a) => a.includes('-frames:v') && a.includes('rawvideo')).length,
    frameGrabs: () => argsOf().filter((a) => a.includes('-frames:v') && !a.includes('rawvideo')).length,
    restore: () => spawn.mock.restore(),
  };
}

/** An upgrade request for `target` to the helper's Node-RED server, over a raw TCP socket. */
function rawUpgrade(target: string): Promise<string> {
  return rawUpgradeTo((helper._server.address() as net.AddressInfo).port, target);
}

/** Records the process's uncaught exceptions while `fn` runs (one would end a real Node-RED). */
async function recordingUncaught(fn: (uncaught: unknown[]) => Promise<void>): Promise<void> {
  const uncaught: unknown[] = [];
  const record = (e: unknown): void => {
    uncaught.push(e);
  };
  process.on('uncaughtException', record);
  try {
    await fn(uncaught);
  } finally {
    process.off('uncaughtException', record);
  }
}

let rtsp: RtspServer;
const unregister: Array<() => void> = [];

describe('video-forward node', () => {
  before(async () => {
    rtsp = await startRtspServer();
    unregister.push(registerCamera(cameraHandle('cam-r', rtsp.url)));
    unregister.push(registerCamera(cameraHandle('cam-404', `rtsp://127.0.0.1:${rtsp.port}/nope`)));
    // ffmpeg looked for again every 200 ms while missing (30 s by default)
    await startServerWithHttpNode({ vigieFfmpegRecheckMs: 200 });
  });

  afterEach(async () => {
    await helper.unload();
  });

  after(async () => {
    await helper.stopServer();
    unregister.forEach((u) => u());
    await rtsp.stop();
    assert.deepEqual(childFfmpegPids(), [], 'no ffmpeg left');
  });

  it('adds payload.video under httpNodeRoot and serves the live view (video only) on Node-RED\'s server', async () => {
    const spawns = recordSpawns();
    const upgradeBefore = helper._server.listenerCount('upgrade');
    await helper.load([captureRed, videoForward, catchNode], flow());
    assert.equal(helper._server.listenerCount('upgrade'), upgradeBefore + 1, 'one upgrade listener added');
    const vf = helper.getNode('vf');
    const statuses: Any[] = [];
    vf.on('call:status', (c: Any) => statuses.push(c.args[0]));
    const audits: AuditEvent[] = [];
    const unsub = auditBus.subscribe((e) => audits.push(e));
    try {
      const got = nextMessage('out');
      const t0 = Date.now();
      vf.receive({ payload: onCameraAlert('AL-1', 'cam-r') });
      const msg = await got;
      assert.equal(msg.payload.id, 'AL-1', 'the alert itself is forwarded');
      assert.equal(msg.payload.camera.id, 'cam-r');
      const v = msg.payload.video;
      assert.equal(v.live, '/red/vigie/video/cam-r/live');
      assert.equal(v.mjpeg, '/red/vigie/video/cam-r/mjpeg');
      assert.equal(v.snapshot, '/red/vigie/video/cam-r/snapshot.jpg?alert=AL-1');
      assert.ok(v.until >= t0 + 30_000 && v.until <= Date.now() + 30_000);

      const wsUrl = helper.url().replace('http:', 'ws:') + v.live + '?viewer=op1&alert=AL-1';
      const c = await collectWs(wsUrl, (x) => x.binaries.length >= 4);
      assert.equal(JSON.parse(c.texts[0]).type, 'init');
      assert.match(JSON.parse(c.texts[0]).mime, /^video\/mp4; codecs="avc1\.[0-9a-f]{6}"$/);
      assert.deepEqual(topBoxes(c.binaries[0]), ['ftyp', 'moov']);
      const times = c.binaries.slice(1).map(tfdtOf);
      for (let i = 1; i < times.length; i++) assert.ok(times[i] > times[i - 1]);
      assert.deepEqual(ffprobeStreams(Buffer.concat(c.binaries)).map((s) => s.codec_type), ['video']);
      await waitFor(() => statuses.some((s) => s.fill === 'green' && /1 relay, 1 viewer/.test(s.text)), 60_000, 'green status with counts');
      assert.ok(audits.some((e) => e.type === 'live-view' && e.alertId === 'AL-1' && e.details.cameraId === 'cam-r' && e.details.kind === 'mse' && /^op1 /.test(String(e.details.viewer))));

      // The snapshot of the alert, over Node-RED's HTTP routes.
      const snap = await fetch(helper.url() + v.snapshot);
      assert.equal(snap.status, 200);
      assert.ok(isJpeg(Buffer.from(await snap.arrayBuffer())));
      // This camera has no snapshot URI: the picture was grabbed from its stream.
      assert.equal(spawns.frameGrabs(), 1, 'one frame grabbed');
      // An unrelated path is left to others.
      const other = await fetch(helper.url() + '/red/vigie/video/cam-r/nothing');
      assert.equal(other.status, 404);
      await closeWs(c.ws);
    } finally {
      unsub();
      spawns.restore();
    }
    const pids = childFfmpegPids();
    assert.ok(pids.length >= 1);
    await helper.unload();
    assert.equal(helper._server.listenerCount('upgrade'), upgradeBefore, 'upgrade listener removed on close');
    assert.deepEqual(childFfmpegPids(), [], 'close ended ffmpeg');
  });

  it('serves the MJPEG fallback through RED.httpNode', async () => {
    await helper.load([captureRed, videoForward, catchNode], flow());
    const res = await fetch(`${helper.url()}/red/vigie/video/cam-r/mjpeg`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^multipart\/x-mixed-replace; boundary=/);
    const reader = res.body!.getReader();
    let buf = Buffer.alloc(0);
    while (buf.indexOf(Buffer.from([0xff, 0xd9])) < 0) {
      const { value, done } = await reader.read();
      if (done) break;
      buf = Buffer.concat([buf, Buffer.from(value)]);
    }
    await reader.cancel();
    const start = buf.indexOf(Buffer.from([0xff, 0xd8]));
    const end = buf.indexOf(Buffer.from([0xff, 0xd9]), start);
    assert.ok(start >= 0 && end > start, 'a JPEG frame in the multipart stream');
    assert.match(buf.subarray(0, start).toString('latin1'), /--vigieframe\r\nContent-Type: image\/jpeg\r\nContent-Length: \d+/);
  });

  it('two video-forward nodes alerted on the same camera share one relay: one ffmpeg pulls the camera, not two', async () => {
    const starts = mock.method(Relay.prototype, 'start');
    try {
      await helper.load(
        [captureRed, videoForward, catchNode],
        [...flow({ snapshot: false }), { id: 'vf2', type: 'video-forward', z: 'tab', name: 'video 2', idleStopS: 2, keepForS: 30, maxRelays: 2, snapshot: false, wires: [['out']] }],
      );
      const first = nextMessage('out');
      helper.getNode('vf').receive({ payload: onCameraAlert('AL-S1', 'cam-r') });
      await first;
      await waitFor(() => childFfmpegPids().length === 1, 20_000, "the first node's relay");
      const second = nextMessage('out');
      helper.getNode('vf2').receive({ payload: onCameraAlert('AL-S2', 'cam-r') });
      const msg = await second;
      assert.equal(msg.payload.video.live, '/red/vigie/video/cam-r/live', 'the second alert links the same live view');
      // A relay starts synchronously within the alert: had the second node started one, it would be counted.
      assert.equal(starts.mock.callCount(), 1, 'one relay started for the camera');
      assert.equal(childFfmpegPids().length, 1, 'one ffmpeg pulls the camera');
    } finally {
      starts.mock.restore();
    }
  });

  it('a WebSocket upgrade whose target is no URL ("//", "//host:99999/", "//[") neither crashes Node-RED nor is answered by video-forward; Node-RED closes it and video is still served', async () => {
    await recordingUncaught(async (uncaught) => {
      await helper.load([captureRed, videoForward, catchNode], flow());
      // (Not "http://[": Node-RED's own editor-comms listener throws on it, before video-forward's runs.)
      const targets = ['//', '//host:99999/', '//['];
      // Not ours: left to the server's other upgrade handlers; Node-RED's own closes what nobody took.
      const answers = await Promise.all(targets.map((t) => rawUpgrade(t)));
      assert.deepEqual(uncaught, [], 'no uncaught exception');
      assert.deepEqual(answers, targets.map(() => ''), 'closed without an answer');
      // Still running, the live route included: it asks for a ticket, which the ticket route gives.
      assert.match(await rawUpgrade('/red/vigie/video/cam-r/live'), /^HTTP\/1\.1 401 Unauthorized\r\n/);
      const ticket = await fetch(`${helper.url()}/red/vigie/video/cam-r/ticket`);
      assert.equal(ticket.status, 200);
      assert.match(((await ticket.json()) as { ticket: string }).ticket, /^[A-Za-z0-9_-]{32}$/);
      assert.deepEqual(uncaught, [], 'no uncaught exception');
    });
  });

  it('an unexpected fault while taking a live upgrade closes that socket, is logged once, and leaves Node-RED running', async () => {
    await recordingUncaught(async (uncaught) => {
      await helper.load([captureRed, videoForward, catchNode], flow());
      const handleUpgrade = mock.method(VideoManager.prototype, 'handleUpgrade', () => {
        throw new Error('upgrade broke');
      });
      try {
        assert.equal(await rawUpgrade('/red/vigie/video/cam-r/live'), '', 'closed without an answer');
        assert.equal(await rawUpgrade('/red/vigie/video/cam-r/live?again'), '');
        assert.equal(handleUpgrade.mock.callCount(), 2);
      } finally {
        handleUpgrade.mock.restore();
      }
      assert.deepEqual(uncaught, [], 'no uncaught exception');
      const logged = helper
        .log()
        .args.map((a: Any[]) => a[0])
        .filter((m: Any) => /upgrade/.test(String(m?.msg)));
      assert.deepEqual(
        logged.map((m: Any) => [m.level, m.msg]),
        [[helper.log().ERROR, 'video-forward: live video upgrade failed: upgrade broke']],
        'said once for the two',
      );
      assert.match(await rawUpgrade('/red/vigie/video/cam-r/live'), /^HTTP\/1\.1 401 Unauthorized\r\n/, 'still taking live upgrades');
    });
  });

  it('distinct upgrade faults are logged up to 50 and then said to be no longer logged; a redeploy logs them again', async () => {
    await helper.load([captureRed, videoForward, catchNode], flow());
    let n = 0;
    const handleUpgrade = mock.method(VideoManager.prototype, 'handleUpgrade', () => {
      throw new Error(`upgrade broke ${++n}`);
    });
    const upgradeLogs = (): string[] =>
      helper
        .log()
        .args.map((a: Any[]) => a[0])
        .filter((m: Any) => /upgrade/.test(String(m?.msg)))
        .map((m: Any) => String(m.msg));
    try {
      for (let i = 0; i < 53; i++) await rawUpgrade('/red/vigie/video/cam-r/live');
      const logged = upgradeLogs();
      assert.equal(logged.length, 51);
      assert.equal(logged[49], 'video-forward: live video upgrade failed: upgrade broke 50');
      assert.equal(logged[50], 'video-forward: more than 50 different live video upgrade faults; further ones are not logged until the next deploy');
      // A full deploy closes every video-forward node: the faults are said again.
      await helper.setFlows(flow());
      n = 0;
      await rawUpgrade('/red/vigie/video/cam-r/live');
      assert.equal(upgradeLogs().at(-1), 'video-forward: live video upgrade failed: upgrade broke 1');
    } finally {
      handleUpgrade.mock.restore();
    }
  });

  it('refuses what is no alert with done(err) naming the field, and keeps running; an alert as JSON text (string or Buffer, from an mqtt in node) is taken as the object', async () => {
    await helper.load([captureRed, videoForward, catchNode], flow());
    const vf = helper.getNode('vf');
    const cases: Array<[unknown, RegExp]> = [
      ['text', /^payload: expected an alert object or its JSON text, got "text"/],
      ['[1,', /^payload: expected an alert object or its JSON text, got "\[1,"/],
      ['[1]', /^payload: expected an object, got an array of 1/],
      [{ ...onCameraAlert('A', 'cam-r'), id: '' }, /^payload\.id: expected a non-empty string/],
      // No id: refused before its camera part is looked at.
      [{ ...onCameraAlert('A', 'no-such-camera'), id: undefined }, /^payload\.id: expected a non-empty string/],
    ];
    for (const [payload, re] of cases) {
      const caught = nextMessage('caught');
      vf.receive({ payload });
      const m = await caught;
      // Node-RED prefixes the error's name.
      assert.match(String(m.error.message).replace(/^ContractError: /, ''), re);
    }
    // Still working after the bad ones.
    const got = nextMessage('out');
    vf.receive({ payload: onCameraAlert('AL-OK', 'cam-r') });
    assert.equal((await got).payload.video.live, '/red/vigie/video/cam-r/live');
    // JSON text, as an mqtt in node not set to parse JSON gives it: the object goes on.
    for (const payload of [JSON.stringify(onCameraAlert('AL-TEXT', 'cam-r')), Buffer.from(JSON.stringify(onCameraAlert('AL-BUF', 'cam-r')))]) {
      const next = nextMessage('out');
      vf.receive({ payload });
      const m = await next;
      assert.equal(typeof m.payload, 'object');
      assert.match(m.payload.id, /^AL-(TEXT|BUF)$/);
      assert.equal(m.payload.video.live, '/red/vigie/video/cam-r/live');
    }
  });

  it('a Status node gets each status once: a relay starting is said once, not at every change of the relay', async () => {
    const f = [...flow(), { id: 'watch', type: 'status', z: 'tab', scope: ['vf'], wires: [['statuses']] }, { id: 'statuses', type: 'helper', z: 'tab' }];
    await helper.load([captureRed, videoForward, catchNode, require('@node-red/nodes/core/common/25-status.js')], f);
    const statuses: Any[] = [];
    helper.getNode('statuses').on('input', (m: Any) => statuses.push(m.status));
    const vf = helper.getNode('vf');
    const got = nextMessage('out');
    vf.receive({ payload: onCameraAlert('AL-ONCE', 'cam-r') });
    await got;
    await waitFor(() => statuses.some((st) => st.fill === 'green' && /^1 relay\b/.test(st.text)) || undefined, 30_000, 'the relay running');
    const texts = statuses.map((st) => `${st.fill} ${st.shape} ${st.text}`);
    assert.ok(texts.some((t) => t.startsWith('yellow ring connecting: 1 relay')), texts.join(' | '));
    assert.deepEqual(
      texts.filter((t, i) => i > 0 && t === texts[i - 1]),
      [],
      `the same status twice in a row: ${texts.join(' | ')}`,
    );
  });

  it('an alert whose camera part breaks the schema goes on without it and without video; one whose other fields break it is refused naming the field', async () => {
    await helper.load([captureRed, videoForward, catchNode], flow());
    const vf = helper.getNode('vf');
    const warnings: string[] = [];
    vf.on('call:warn', (c: Any) => warnings.push(String(c.args[0])));
    const caught: Any[] = [];
    helper.getNode('caught').on('input', (m: Any) => caught.push(m));
    const got = nextMessage('out');
    const alert = onCameraAlert('N1', 'cam-r');
    vf.receive({ payload: { ...alert, camera: { ...(alert.camera as object), pan: Number.NaN } } });
    const m = await got;
    assert.equal(m.payload.id, 'N1', 'the alert itself goes on');
    assert.equal(m.payload.camera, undefined, 'without the camera it cannot show');
    assert.equal(m.payload.video, undefined);
    await waitFor(() => warnings.some((w) => /^alert N1: sent on without video: payload\.camera\.pan: expected a finite number, got NaN$/.test(w)), 10_000, `the warning: ${warnings.join(' | ')}`);
    const refused: Array<[Record<string, unknown>, RegExp]> = [
      [{ ...onCameraAlert('N2', 'cam-r'), label: '../../etc/passwd' }, /: payload\.label: expected one of "gunshot"/],
      [{ ...onCameraAlert('N3', 'cam-r'), onset: Number.POSITIVE_INFINITY }, /: payload\.onset: expected a finite number >= 0, got Infinity$/],
      [{ ...onCameraAlert('N4', 'cam-r'), location: { method: 'tdoa', bearing: 400, sensors: [] } }, /: payload\.location\.bearing: expected a finite number >= 0 <= 360, got 400$/],
    ];
    for (const [payload, words] of refused) {
      const before = caught.length;
      vf.receive({ payload });
      await waitFor(() => caught.length > before, 10_000, `refused: ${words}`);
      assert.match(caught[caught.length - 1].error.message, words);
    }
  });

  it('an alert whose camera part cannot be used (not an object, no id, a camera not deployed) goes on without video; the warning and a red status name the field', async () => {
    await helper.load([captureRed, videoForward, catchNode], flow());
    const vf = helper.getNode('vf');
    const statuses: Any[] = [];
    vf.on('call:status', (c: Any) => statuses.push(c.args[0]));
    const warnings: string[] = [];
    vf.on('call:warn', (c: Any) => warnings.push(String(c.args[0])));
    const caught: Any[] = [];
    helper.getNode('caught').on('input', (m: Any) => caught.push(m));
    const withCamera = (id: string, camera: unknown): Record<string, unknown> => ({ ...onCameraAlert(id, 'cam-r'), camera });
    const onTarget = (id: string, cameraId: string, state: string): Record<string, unknown> => {
      const a = onCameraAlert(id, cameraId);
      (a.camera as { state: string }).state = state;
      return a;
    };
    const cases: Array<[Record<string, unknown>, string, RegExp]> = [
      [withCamera('B1', 'cam-r'), 'payload.camera', /^alert B1: sent on without video: payload\.camera: expected an object, got "cam-r"$/],
      [withCamera('B2', { id: 7, state: 'on-target' }), 'payload.camera.id', /^alert B2: sent on without video: payload\.camera\.id: expected a non-empty string, got 7$/],
      [withCamera('B3', { name: 'cam-r', state: 'moving' }), 'payload.camera.id', /^alert B3: sent on without video: payload\.camera\.id: expected a non-empty string$/],
      // A vigie-camera being redeployed is not in the registry for a moment.
      ...(['on-target', 'preset', 'proposed', 'moving'] as const).map(
        (state, i): [Record<string, unknown>, string, RegExp] => [
          onTarget(`U${i}`, 'no-such-camera', state),
          'payload.camera.id',
          new RegExp(`^alert U${i}: sent on without video: payload\\.camera\\.id: expected the id of a deployed vigie-camera config node, got "no-such-camera"$`),
        ],
      ),
    ];
    for (const [payload, field, warning] of cases) {
      const got = nextMessage('out');
      warnings.length = 0;
      vf.receive({ payload });
      const m = await got;
      assert.equal(m.payload.id, payload.id, 'the alert itself goes on');
      assert.equal(m.payload.label, 'glass_break');
      assert.equal(m.payload.video, undefined, 'without video');
      // A camera not deployed is still named (the console says which it was); one that is no object is dropped.
      if (String(payload.id).startsWith('U')) assert.equal(m.payload.camera.id, 'no-such-camera');
      if (payload.id === 'B1') assert.equal(m.payload.camera, undefined);
      await waitFor(() => warnings.some((w) => warning.test(w)), 10_000, `the warning for ${String(payload.id)}: ${warnings.join(' | ')}`);
      // What the node shows: the last status it set (the same one again is not sent again).
      assert.deepEqual(statuses[statuses.length - 1], { fill: 'red', shape: 'ring', text: `no video: ${field}` });
    }
    // Not an error for Catch nodes, as for a relay that could not start.
    assert.deepEqual(caught, []);
    // Still working after them.
    const got = nextMessage('out');
    vf.receive({ payload: onCameraAlert('AL-OK', 'cam-r') });
    assert.equal((await got).payload.video.live, '/red/vigie/video/cam-r/live');
  });

  it('privacy: refuses an alert carrying samples, naming the field; voice scores and unknown fields never go out, named in a warning once', async () => {
    // No ffmpeg: the links are made all the same, and no relay is started.
    await helper.load([captureRed, videoForward, catchNode], flow({ ffmpegPath: '/nonexistent/ffmpeg' }));
    const vf = helper.getNode('vf');
    const statuses: Any[] = [];
    vf.on('call:status', (c: Any) => statuses.push(c.args[0]));
    const warnings: string[] = [];
    vf.on('call:warn', (c: Any) => warnings.push(String(c.args[0])));
    const sent: Any[] = [];
    helper.getNode('out').on('input', (m: Any) => sent.push(m));
    for (const [payload, re] of [
      [{ ...onCameraAlert('S1', 'cam-r'), samples: [0.1, 0.2] }, /^payload\.samples: expected no such field \(privacy guarantee 1: audio samples never travel in messages\)$/],
      [{ ...onCameraAlert('S2', 'cam-r'), span: { sensor: 's1', start: 0, frames: 4800, data: 'UklGRiQAAABXQVZF' } }, /^payload\.span\.data: expected only sensor, start, frames in a span/],
      // Refused before anything else is looked at: the camera, the id. A camera part that cannot be
      // used would send the alert on without video; one carrying samples goes nowhere.
      [{ ...onCameraAlert('S3', 'no-such-camera'), samples: [0.1] }, /^payload\.samples: /],
      [{ ...onCameraAlert('S5', 'cam-r'), camera: 'cam-r', samples: [0.1] }, /^payload\.samples: /],
      [{ ...onCameraAlert('S6', 'cam-r'), camera: { state: 'on-target' }, span: { sensor: 's1', start: 0, frames: 1, data: 'UklGRiQAAABXQVZF' } }, /^payload\.span\.data: /],
      [{ ...onCameraAlert('S4', 'cam-r'), id: undefined, label: 'speech' }, /^payload\.label: expected a sound class, not a voice class/],
    ] as Array<[Record<string, unknown>, RegExp]>) {
      const caught = nextMessage('caught');
      vf.receive({ payload });
      assert.match(String((await caught).error.message).replace(/^ContractError: /, ''), re);
    }
    assert.deepEqual(sent, [], 'none of them sent on');
    assert.ok(statuses.some((s) => s.fill === 'red' && s.text === 'bad input: payload.samples'));
    // With video links, and without (its camera failed): either way the alert goes on without them.
    const junk = { scores: { glass_break: 0.9, speech: 0.4 }, pcm: 'UklGRiQAAABXQVZF', level: { dbfs: -10, samples: [0.1, 0.2] } };
    const failed: Record<string, unknown> = { ...onCameraAlert('P2', 'cam-r'), ...junk };
    (failed.camera as { state: string }).state = 'failed';
    for (const payload of [{ ...onCameraAlert('P1', 'cam-r'), ...junk }, failed] as Array<Record<string, unknown>>) {
      const got = nextMessage('out');
      vf.receive({ payload });
      const m = await got;
      assert.equal(m.payload.id, payload.id);
      assert.deepEqual(m.payload.scores, { glass_break: 0.9 });
      assert.deepEqual(m.payload.level, { dbfs: -10 });
      assert.doesNotMatch(JSON.stringify(m), /samples|pcm|UklGR|speech/i);
    }
    // Named once, by the first alert that carried them; the second drops the same fields quietly.
    const dropWarnings = warnings.filter((w) => / dropped /.test(w));
    assert.equal(dropWarnings.length, 1, warnings.join(' | '));
    assert.ok(dropWarnings[0].startsWith('alert P1: dropped ') && ['payload.scores.speech', 'payload.pcm', 'payload.level.samples'].every((f) => dropWarnings[0].includes(f)), dropWarnings[0]);
  });

  it('an alert without a camera, whose camera failed, or whose camera is busy with another alert goes on to the operators without video', async () => {
    await helper.load([captureRed, videoForward, catchNode], flow());
    const vf = helper.getNode('vf');
    const failed = onCameraAlert('FC', 'cam-r');
    (failed.camera as { state: string }).state = 'failed';
    // "waiting": the camera still looks at another alert, so its picture is not of this one.
    const waiting = onCameraAlert('WC', 'cam-r');
    (waiting.camera as { state: string }).state = 'waiting';
    // "released": it looked, then turned to another alert for good.
    const released = onCameraAlert('RC', 'cam-r');
    (released.camera as { state: string }).state = 'released';
    // "unavailable": no camera was free for it; the one named is busy elsewhere.
    const unavailable = onCameraAlert('UC', 'cam-r');
    (unavailable.camera as { state: string }).state = 'unavailable';
    for (const payload of [{ ...onCameraAlert('NC', 'cam-r'), camera: undefined }, failed, waiting, released, unavailable]) {
      const got = nextMessage('out');
      vf.receive({ payload });
      const m = await got;
      assert.equal(m.payload.id, payload.id);
      assert.equal(m.payload.video, undefined, 'no video links without a camera on the alert');
    }
  });

  it('a missing ffmpeg is said in the status; alerts still go on with their links; found later, the status follows with no alert needed', async () => {
    const dir = tempDir('vigie-ffmpeg-');
    const laterFfmpeg = path.join(dir, 'ffmpeg');
    await helper.load([captureRed, videoForward, catchNode], flow({ ffmpegPath: laterFfmpeg }));
    const vf = helper.getNode('vf');
    const statuses: Any[] = [];
    vf.on('call:status', (c: Any) => statuses.push(c.args[0]));
    const warnings: string[] = [];
    vf.on('call:warn', (c: Any) => warnings.push(String(c.args[0])));
    const errors: string[] = [];
    vf.on('call:error', (c: Any) => errors.push(String(c.args[0])));
    const got = nextMessage('out');
    vf.receive({ payload: onCameraAlert('AL-2', 'cam-r') });
    const msg = await got;
    assert.equal(msg.payload.video.live, '/red/vigie/video/cam-r/live');
    assert.ok(statuses.some((s) => s.fill === 'red' && s.text === 'ffmpeg not found'));
    assert.ok(warnings.some((w) => w.includes(`ffmpeg not found or not executable at "${laterFfmpeg}"`)), warnings.join('\n'));
    const c = await collectWs(helper.url().replace('http:', 'ws:') + msg.payload.video.live, (x) => x.closed !== undefined);
    assert.equal(JSON.parse(c.texts[0]).reason, 'server');
    await waitFor(() => errors.some((e) => e.startsWith('live view of camera cam-r refused: ffmpeg not found')), 10_000, 'the cause in the log');
    assert.doesNotMatch(c.texts[0], /ffmpeg|later-ffmpeg/, 'the viewer is not told the server\'s paths');
    // ffmpeg appears where the setting says: the status leaves "ffmpeg not found" without waiting
    // for an alert (the node looks again while it is missing), and the next alert starts a relay.
    fs.symlinkSync(findBinary('ffmpeg')!, laterFfmpeg);
    await waitFor(() => statuses.length > 0 && statuses[statuses.length - 1].text !== 'ffmpeg not found', 20_000, 'a status past ffmpeg not found, with no alert');
    assert.deepEqual(statuses[statuses.length - 1], { fill: 'grey', shape: 'dot', text: 'idle' });
    const again = nextMessage('out');
    vf.receive({ payload: onCameraAlert('AL-3', 'cam-r') });
    await again;
    await waitFor(() => /^(connecting: )?1 relay\b/.test(statuses[statuses.length - 1].text ?? ''), 20_000, 'a relay in the status');
  });

  it('a failing source is named in the status and the debug sidebar, never to viewers; the alert still goes on', async () => {
    await helper.load([captureRed, videoForward, catchNode], flow());
    const vf = helper.getNode('vf');
    const statuses: Any[] = [];
    vf.on('call:status', (c: Any) => statuses.push(c.args[0]));
    const warnings: string[] = [];
    vf.on('call:warn', (c: Any) => warnings.push(String(c.args[0])));
    const got = nextMessage('out');
    vf.receive({ payload: onCameraAlert('AL-404', 'cam-404') });
    const video = (await got).payload.video;
    assert.equal(video.live, '/red/vigie/video/cam-404/live');
    await waitFor(() => statuses.some((s) => s.fill === 'red' && s.text === 'cam-404: 404 stream not found, retrying'), 60_000, 'red status naming the fault');
    assert.ok(warnings.some((w) => /camera cam-404 \(mse\): source rtsp:\/\/127\.0\.0\.1:\d+\/nope answered 404 Not Found/.test(w)));
    // The snapshot could not be taken either: the log says why, the browser only that there is none.
    await waitFor(() => warnings.some((w) => /^alert AL-404: no snapshot from camera cam-404: .*rtsp:\/\/127\.0\.0\.1:\d+\/nope/.test(w)), 60_000, 'the snapshot failure in the log');
    const snap = await fetch(helper.url() + video.snapshot);
    assert.equal(snap.status, 502);
    assert.equal(await snap.text(), 'no snapshot for alert "AL-404": the camera did not give one\n');
  });

  it('bad settings: red status and every input refused with the setting named', async () => {
    await helper.load([captureRed, videoForward, catchNode], flow({ maxRelays: 0 }));
    const vf = helper.getNode('vf');
    const caught = nextMessage('caught');
    vf.receive({ payload: onCameraAlert('A', 'cam-r') });
    assert.match((await caught).error.message, /setting maxRelays: expected an integer from 1 to 64, got 0/);
    assert.deepEqual(vf.status.lastCall.args[0], { fill: 'red', shape: 'ring', text: 'bad setting maxRelays: 0' });
  });

  it('opens an RTSP stream that needs the credentials of the vigie-camera config node; a camera asking for Basic over plain rtsp:// is named in one warning', async () => {
    const authRtsp = await startRtspServer({ user: 'op', password: 's3cret' });
    try {
      await helper.load(
        [captureRed, vigieCamera, videoForward, catchNode],
        [
          ...flow(),
          { id: 'acam', type: 'vigie-camera', cameraId: 'cam-auth', name: 'auth', host: '127.0.0.1', port: 1, lat: 45.44, lon: 4.39, streamUrl: authRtsp.url },
        ],
        { acam: { username: 'op', password: 's3cret' } },
      );
      const vf = helper.getNode('vf');
      const got = nextMessage('out');
      vf.receive({ payload: onCameraAlert('AL-A', 'cam-auth') });
      const msg = await got;
      const c = await collectWs(helper.url().replace('http:', 'ws:') + msg.payload.video.live, (x) => x.binaries.length >= 2, 60_000);
      assert.equal(JSON.parse(c.texts[0]).type, 'init');
      assert.deepEqual(ffprobeStreams(Buffer.concat(c.binaries)).map((s) => s.codec_type), ['video']);
      await closeWs(c.ws);
      // The test server offers Basic only: ffmpeg sent the password readable, and the log says so, naming the camera.
      const basicWarnings = () => warningsOf(helper, 'vf').filter((w) => w.includes('asks for Basic authentication only'));
      await waitFor(() => basicWarnings().length > 0, 10_000, 'the Basic-over-RTSP warning');
      const again = nextMessage('out');
      vf.receive({ payload: onCameraAlert('AL-B', 'cam-auth') });
      await again;
      assert.equal(basicWarnings().length, 1, 'said once');
      assert.match(basicWarnings()[0], new RegExp(`^camera "auth" \\(cam-auth\\): its stream rtsp://127\\.0\\.0\\.1:${authRtsp.port} asks for Basic authentication only, .*Digest .*rtsps://`));
      assert.ok(!basicWarnings()[0].includes('s3cret'), 'the warning does not carry the password');
      await helper.unload();
    } finally {
      await authRtsp.stop();
    }
  });

  it('relays the virtual ONVIF camera (stream URI over ONVIF, MPEG-TS with audio) without its audio', async () => {
    const cam = new VirtualCamera({ username: 'admin', password: 'pw', fps: 10 });
    const { onvifPort } = await cam.start();
    let spawns: ReturnType<typeof recordSpawns> | undefined;
    try {
      await helper.load(
        [captureRed, vigieCamera, videoForward, catchNode],
        [
          ...flow(),
          { id: 'vcam', type: 'vigie-camera', cameraId: 'cam-v', name: 'virtual', host: '127.0.0.1', port: onvifPort, lat: 45.44, lon: 4.39 },
        ],
        { vcam: { username: 'admin', password: 'pw' } },
      );
      const vf = helper.getNode('vf');
      spawns = recordSpawns();
      const got = nextMessage('out');
      vf.receive({ payload: onCameraAlert('AL-V', 'cam-v') });
      const msg = await got;
      assert.equal(msg.payload.video.live, '/red/vigie/video/cam-v/live');
      const c = await collectWs(helper.url().replace('http:', 'ws:') + msg.payload.video.live, (x) => x.binaries.length >= 3, 60_000);
      assert.equal(JSON.parse(c.texts[0]).type, 'init');
      const streams = ffprobeStreams(Buffer.concat(c.binaries));
      assert.deepEqual(streams.map((s) => s.codec_type), ['video'], 'the camera sends audio; the relay must not');
      assert.ok(cam.liveClients >= 1, 'the relay reads the camera\'s live stream');
      // The alert's snapshot comes from the camera's ONVIF snapshot URI.
      const snap = await fetch(helper.url() + msg.payload.video.snapshot);
      assert.equal(snap.status, 200);
      assert.ok(isJpeg(Buffer.from(await snap.arrayBuffer())));
      assert.ok(cam.calls.some((c) => c.action === 'GetSnapshotUri'), 'its URI asked over ONVIF');
      assert.equal(spawns.cameraSnapshots(), 1, 'the camera answered one snapshot');
      assert.equal(spawns.frameGrabs(), 0, 'no frame grabbed: the camera has a snapshot URI');
      await closeWs(c.ws);
      await helper.unload();
      await waitFor(() => cam.liveClients === 0, 60_000, 'relay disconnected from the camera');
    } finally {
      spawns?.restore();
      await cam.stop();
    }
  });

  it('Snapshot unticked: after an alert on target, no snapshot is asked of the camera or grabbed from its stream, none is linked, the route answers 404', async () => {
    const cam = new VirtualCamera({ username: 'admin', password: 'pw', fps: 10 });
    const { onvifPort } = await cam.start();
    let spawns: ReturnType<typeof recordSpawns> | undefined;
    try {
      await helper.load(
        [captureRed, vigieCamera, videoForward, catchNode],
        [
          ...flow({ snapshot: false }),
          { id: 'vcam', type: 'vigie-camera', cameraId: 'cam-v', name: 'virtual', host: '127.0.0.1', port: onvifPort, lat: 45.44, lon: 4.39 },
        ],
        { vcam: { username: 'admin', password: 'pw' } },
      );
      const vf = helper.getNode('vf');
      spawns = recordSpawns();
      // The virtual camera has a snapshot URI (ONVIF GetSnapshotUri); cam-r has none, so a frame would be grabbed from its stream.
      for (const [alertId, cameraId] of [['AL-OFF-V', 'cam-v'], ['AL-OFF-R', 'cam-r']]) {
        const got = nextMessage('out');
        vf.receive({ payload: onCameraAlert(alertId, cameraId) });
        const video = (await got).payload.video;
        assert.equal(video.live, `/red/vigie/video/${cameraId}/live`, 'the live view is still offered');
        assert.equal(video.snapshot, undefined, 'no snapshot link');
        assert.deepEqual(Object.keys(video).sort(), ['live', 'mjpeg', 'until']);
        // The live picture flows: the relay has resolved the camera's source, as a snapshot would have.
        const c = await collectWs(helper.url().replace('http:', 'ws:') + video.live, (x) => x.binaries.length >= 2, 60_000);
        assert.equal(JSON.parse(c.texts[0]).type, 'init');
        await closeWs(c.ws);
        // The route waits for a snapshot being taken; there is none: the answer for an alert without one.
        const snap = await fetch(`${helper.url()}/red/vigie/video/${cameraId}/snapshot.jpg?alert=${alertId}`);
        assert.equal(snap.status, 404);
        assert.equal(await snap.text(), `no snapshot for alert "${alertId}" on camera "${cameraId}": snapshots are off (video-forward's Snapshot is unticked)\n`);
      }
      assert.ok(cam.calls.some((c) => c.action === 'GetStreamUri'), 'the camera was asked for its stream');
      assert.deepEqual(cam.calls.filter((c) => c.action === 'GetSnapshotUri'), [], 'the camera was not asked for its snapshot URI');
      assert.equal(spawns.cameraSnapshots(), 0, 'the camera answered no snapshot');
      assert.equal(spawns.frameGrabs(), 0, 'no frame grabbed from a stream');
      await helper.unload();
      await waitFor(() => cam.liveClients === 0, 60_000, 'relay disconnected from the camera');
    } finally {
      spawns?.restore();
      await cam.stop();
    }
    // The camera stops its encoder when its last client leaves, without waiting for it to exit,
    // and cam.stop() does not wait for that one either: on a loaded machine it may still be
    // exiting here, and the suite's end checks that no ffmpeg is left.
    await waitFor(() => childFfmpegPids().length === 0, 10_000, 'the virtual camera\'s encoder exited');
  });
});
