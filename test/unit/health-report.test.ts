/**
 * The health report (GET vigie/health) says "degraded" when a running capture (mic-capture)
 * has received no audio for NO_AUDIO_AFTER_MS — counted from its start when none ever came —
 * naming its sensor and how long, and nothing of the audio; and when a node reported that it
 * cannot work (a mic-capture that could not start, a classifier without a loadable model),
 * naming it, since when and why, until it works again or closes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Capture } from '../../lib/audio/capture';
import { CaptureSource } from '../../lib/audio/sources/source';
import { clearNodeFailure, healthReport, NO_AUDIO_AFTER_MS, reportNodeFailure } from '../../lib/util/health';
import { monotonicMs } from '../../lib/util/clock';
import { NTP_FIRST_SYNC_STEP_MS, stepWallClock } from '../support/wall-clock';

const info = { package: 'node-red-dashboard-2-vigie', version: '9.9.9', nodeRed: '4.1.15', startedAtMonotonicMs: 1_000_000 };

/** A source driven by the test. */
class FakeSource extends CaptureSource {
  readonly kind = 'fake';
  constructor() {
    super();
    this.sampleRate = 16000;
    this.channels = 1;
    this.realtime = false;
  }
  start(): void {
    this.setStatus('running', 'fake running');
  }
  async stop(): Promise<void> {}
  feed(value: number): void {
    this.emitData([new Float32Array(1600).fill(value)]);
  }
}

test('health: ok while every capture receives audio, degraded naming the one silent for NO_AUDIO_AFTER_MS, nothing but ids and seconds', async () => {
  let now = 5_000_000;
  const clock = () => now;
  const live = new FakeSource();
  const quiet = new FakeSource();
  const captures = [new Capture({ sensor: 'corner-1', source: live, now: clock }), new Capture({ sensor: 'corner-2', source: quiet, now: clock })];
  try {
    for (const c of captures) c.start();
    live.feed(0.5);
    quiet.feed(0.25);
    now += NO_AUDIO_AFTER_MS - 1;
    assert.deepEqual(healthReport(info, now), {
      status: 'ok',
      package: info.package,
      version: info.version,
      nodeRed: info.nodeRed,
      uptimeS: Math.round((now - info.startedAtMonotonicMs) / 1000),
      sensors: ['corner-1', 'corner-2'],
      noAudio: [],
      failed: [],
    });
    // corner-1 goes on delivering; corner-2 has nothing more.
    for (let i = 0; i < 30; i++) {
      now += 1000;
      live.feed(0.5);
    }
    const r = healthReport(info, now);
    assert.equal(r.status, 'degraded');
    assert.deepEqual(r.noAudio, [{ sensor: 'corner-2', forS: Math.round((NO_AUDIO_AFTER_MS - 1 + 30_000) / 1000) }]);
    assert.doesNotMatch(JSON.stringify(r), /0\.25|0\.5|samples|Float32/, 'nothing of the audio');
    quiet.feed(0.25);
    assert.equal(healthReport(info, now).status, 'ok', 'ok again once audio comes back');
  } finally {
    for (const c of captures) await c.stop();
  }
});

test('health: a capture whose source never delivers is degraded from its start (it has no ring); a stopped one is not reported', async () => {
  let now = 7_000_000;
  const cap = new Capture({ sensor: 'never', source: new FakeSource(), now: () => now });
  cap.start();
  try {
    now += NO_AUDIO_AFTER_MS - 1;
    assert.equal(healthReport(info, now).status, 'ok');
    now += 1;
    const r = healthReport(info, now);
    assert.deepEqual([r.status, r.sensors, r.noAudio], ['degraded', [], [{ sensor: 'never', forS: NO_AUDIO_AFTER_MS / 1000 }]]);
  } finally {
    await cap.stop();
  }
  const r = healthReport(info, now);
  assert.deepEqual([r.status, r.sensors, r.noAudio], ['ok', [], []]);
});

test('health: a finite source that has played out (a WAV played once) is over, not a silent microphone', async () => {
  let now = 9_000_000;
  const src = new FakeSource();
  const cap = new Capture({ sensor: 'replay', source: src, now: () => now });
  cap.start();
  try {
    src.feed(0.5);
    src.emit('end');
    now += NO_AUDIO_AFTER_MS * 3;
    const r = healthReport(info, now);
    assert.deepEqual([r.status, r.noAudio], ['ok', []]);
  } finally {
    await cap.stop();
  }
});

test('health: a node that cannot work makes the report degraded, named with since when and why, until it works again or closes', () => {
  const t0 = Date.parse('2026-03-01T10:00:00.000Z');
  const capture = {};
  const classifier = {};
  try {
    assert.deepEqual(healthReport(info, t0).failed, []);
    reportNodeFailure(capture, { node: 'mic-capture', id: 'gw-capture', name: 'USB mic array', reason: 'sensor: lat: expected a number from -90 to 90, got "abc"' }, t0);
    let r = healthReport(info, t0 + 12_400);
    assert.equal(r.status, 'degraded');
    assert.deepEqual(r.noAudio, [], 'no capture runs: noAudio cannot see it');
    assert.deepEqual(r.failed, [
      { node: 'mic-capture', id: 'gw-capture', name: 'USB mic array', reason: 'sensor: lat: expected a number from -90 to 90, got "abc"', since: '2026-03-01T10:00:00.000Z', forS: 12 },
    ]);

    // Reported again with another reason: still failed since the first time, with the newer reason.
    reportNodeFailure(classifier, { node: 'acoustic-classifier', id: 'cls-1', sensor: 'corner-12', reason: 'model: model file x.onnx cannot be read' }, t0 + 1000);
    reportNodeFailure(classifier, { node: 'acoustic-classifier', id: 'cls-1', sensor: 'corner-12', reason: 'model: model file x.onnx is not a loadable ONNX model' }, t0 + 5000);
    r = healthReport(info, t0 + 20_000);
    assert.deepEqual(
      r.failed.map((f) => [f.node, f.id, f.name, f.sensor, f.reason, f.since, f.forS]),
      [
        ['acoustic-classifier', 'cls-1', undefined, 'corner-12', 'model: model file x.onnx is not a loadable ONNX model', '2026-03-01T10:00:01.000Z', 19],
        ['mic-capture', 'gw-capture', 'USB mic array', undefined, 'sensor: lat: expected a number from -90 to 90, got "abc"', '2026-03-01T10:00:00.000Z', 20],
      ],
    );
    assert.equal('name' in r.failed[0], false, 'no name: the field is left out, not null');

    // Works again (its model loaded): only the capture is left.
    clearNodeFailure(classifier);
    assert.deepEqual(healthReport(info, t0 + 21_000).failed.map((f) => f.id), ['gw-capture']);
    // Redeployed under the same id: the old instance closing does not clear the new one's failure.
    const redeployed = {};
    reportNodeFailure(redeployed, { node: 'mic-capture', id: 'gw-capture', name: 'USB mic array', reason: 'setting channels: expected 1..32, got 0' }, t0 + 30_000);
    clearNodeFailure(capture);
    r = healthReport(info, t0 + 31_000);
    assert.deepEqual([r.status, r.failed.map((f) => [f.id, f.reason, f.forS])], ['degraded', [['gw-capture', 'setting channels: expected 1..32, got 0', 1]]]);
    clearNodeFailure(redeployed);
    r = healthReport(info, t0 + 32_000);
    assert.deepEqual([r.status, r.failed, r.noAudio], ['ok', [], []]);
  } finally {
    clearNodeFailure(capture);
    clearNodeFailure(classifier);
  }
});

test('health: the reason of a failure never carries the credentials of a stream URL', () => {
  const owner = {};
  try {
    reportNodeFailure(owner, { node: 'mic-capture', id: 'cam-mic', reason: 'setting url: cannot open rtsp://admin:hunter2@10.0.0.9/stream1' });
    const text = JSON.stringify(healthReport(info));
    assert.doesNotMatch(text, /admin|hunter2/);
    assert.match(text, /rtsp:\/\/\*\*\*@10\.0\.0\.9\/stream1/);
  } finally {
    clearNodeFailure(owner);
  }
});

test('health: a file path in the reason of a failure keeps only its name (the report may be open to anyone)', () => {
  const owner = {};
  try {
    reportNodeFailure(owner, { node: 'acoustic-classifier', id: 'cls', reason: 'model: model file /srv/vigie/data/models/street-v2.onnx cannot be read: ENOENT: no such file or directory, open \'/srv/vigie/data/models/street-v2.onnx\'' });
    const [f] = healthReport(info, 2_000_000).failed;
    assert.equal(f.reason, "model: model file street-v2.onnx cannot be read: ENOENT: no such file or directory, open 'street-v2.onnx'");
    // A URL's path is not a file path: kept (its credentials are hidden as above).
    reportNodeFailure(owner, { node: 'mic-capture', id: 'm', reason: 'cannot open rtsp://10.0.0.9/live/stream1' });
    assert.equal(healthReport(info, 2_000_000).failed[0].reason, 'cannot open rtsp://10.0.0.9/live/stream1');
  } finally {
    clearNodeFailure(owner);
  }
});

test('health: a wall clock step (NTP sync after a boot without a real-time clock) changes no duration: uptime, no audio, failed for', async () => {
  const src = new FakeSource();
  const cap = new Capture({ sensor: 'stepped', source: src }); // the default clocks
  const owner = {};
  const wall = stepWallClock();
  try {
    // Booted in 1970 by its wall clock: started a minute ago.
    wall.step(-NTP_FIRST_SYNC_STEP_MS);
    const started = { ...info, startedAtMonotonicMs: monotonicMs() - 60_000 };
    cap.start();
    src.feed(0.5);
    reportNodeFailure(owner, { node: 'mic-capture', id: 'm1', reason: 'sensor: lat: expected a number' });
    wall.step(NTP_FIRST_SYNC_STEP_MS); // NTP syncs
    let r = healthReport(started);
    assert.ok(r.uptimeS >= 60 && r.uptimeS < 3600, `uptime ${r.uptimeS} s`);
    assert.deepEqual(r.noAudio, [], 'the capture that just delivered is not silent');
    const sinceAudioMs = monotonicMs() - cap.lastAudioAt!;
    assert.ok(sinceAudioMs >= 0 && sinceAudioMs < NO_AUDIO_AFTER_MS, `last audio ${sinceAudioMs} ms ago on the monotonic clock`);
    assert.ok(r.failed[0].forS < 3600, `failed for ${r.failed[0].forS} s`);
    assert.match(r.failed[0].since, /^1970-/, 'since: the wall time it was reported at, as shown then');
    wall.step(-3 * 3600e3); // and back
    r = healthReport(started);
    assert.ok(r.uptimeS >= 60 && r.uptimeS < 3600, `uptime ${r.uptimeS} s`);
    assert.deepEqual(r.noAudio, []);
  } finally {
    wall.restore();
    clearNodeFailure(owner);
    await cap.stop();
  }
});
