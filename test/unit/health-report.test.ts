/**
 * The health report (GET vigie/health) says "degraded" when a running capture (mic-capture)
 * has received no audio for NO_AUDIO_AFTER_MS — counted from its start when none ever came —
 * naming its sensor and how long, and nothing of the audio.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Capture } from '../../lib/audio/capture';
import { CaptureSource } from '../../lib/audio/sources/source';
import { healthReport, NO_AUDIO_AFTER_MS } from '../../lib/util/health';

const info = { package: 'node-red-dashboard-2-vigie', version: '9.9.9', nodeRed: '4.1.15', startedAt: 1_000_000 };

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
      uptimeS: Math.round((now - info.startedAt) / 1000),
      sensors: ['corner-1', 'corner-2'],
      noAudio: [],
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
