import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { encodeWav } from '../../lib/audio/wav';
import { fractionalDelayKernel, imageSources, propagationPaths } from '../../lib/sim/propagate';
import { SceneRenderer } from '../../lib/sim/render';
import { parseScene, micPositionsEnu } from '../../lib/sim/scene';
import { acquireLiveScene, liveSceneCount, LiveSceneEvent } from '../../lib/sim/live';
import { simulateToDir } from '../../lib/cli/simulate';
import { readWavFile } from '../../lib/audio/wav';
import { waitFor } from '../support/wait';

const ORIGIN = { lat: 45, lon: 4 };

function peakIndex(x: Float32Array): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (Math.abs(x[i]) > Math.abs(x[best])) best = i;
  return best;
}

describe('propagation', () => {
  it('fractional delay kernels sum to 1 and centre on the delay', () => {
    for (const d of [10, 10.25, 10.5, 10.9]) {
      const { offset, kernel } = fractionalDelayKernel(d, 24);
      const sum = kernel.reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(sum - 1) < 1e-6);
      let centroid = 0;
      kernel.forEach((k, i) => (centroid += k * (offset + i)));
      assert.ok(Math.abs(centroid - d) < 0.02, `delay ${d}: centroid ${centroid}`);
    }
  });

  it('mirrors the source in the ground and in both facades of a canyon', () => {
    const imgs = imageSources([2, 5, 1.5], { ground: { reflection: 0.8 }, canyon: { streetBearingDeg: 0, centre: [0, 0], widthM: 20, reflection: 0.7, order: 1 } });
    const pos = imgs.map((i) => i.pos.map((v) => Math.round(v * 1000) / 1000).join(','));
    assert.ok(pos.includes('2,5,1.5'), 'direct');
    assert.ok(pos.includes('2,5,-1.5'), 'ground image');
    assert.ok(pos.includes('18,5,1.5'), 'east facade at x=10');
    assert.ok(pos.includes('-22,5,1.5'), 'west facade at x=-10');
    assert.ok(pos.includes('18,5,-1.5'), 'facade + ground');
    const g = imgs.find((i) => i.kind === 'ground')!;
    assert.equal(g.coef, 0.8);
  });

  it('renders an impulse at distance/c with 1/r amplitude, and its ground echo later', () => {
    const scene = parseScene({
      origin: ORIGIN,
      temperatureC: 20,
      sensors: [{ id: 's', position: [0, 0], heightM: 4, array: 'custom', mics: [[0, 0, 0], [0.1, 0, 0]] }],
      sources: [{ id: 'x', synth: { type: 'impulse', durationMs: 5 }, position: [0, 34.342, 4], onsetSec: 0.1, level: { dbfs: 0 } }],
      ground: { reflection: 0.5 },
    });
    const mic = micPositionsEnu(scene.sensors[0])[0];
    const ch = new SceneRenderer(scene).render(12000)[0][0];
    // Attack of the synthetic impulse is 10 ms into the signal; sound travels 34.342 m in 100 ms at 20 °C.
    const expected = (0.1 + 0.01 + Math.hypot(34.342, 0, 0) / scene.speedOfSoundMs) * 48000;
    assert.ok(Math.abs(peakIndex(ch) - expected) <= 2, `peak at ${peakIndex(ch)}, expected ${expected}`);
    const paths = propagationPaths([0, 34.342, 4], mic, scene);
    const direct = paths.find((p) => p.kind === 'direct')!;
    const ground = paths.find((p) => p.kind === 'ground')!;
    assert.ok(ground.delaySamples > direct.delaySamples);
    assert.ok(Math.abs(direct.distanceM - 34.342) < 1e-6);
    // The echo shows in the signal where the image path says.
    const echoAt = Math.round((0.11 * 48000) + ground.delaySamples);
    const win = ch.subarray(echoAt - 3, echoAt + 4);
    assert.ok(Math.max(...Array.from(win).map(Math.abs)) > 0.003, 'ground echo present');
  });

  it('halves the amplitude when the distance doubles', () => {
    const level = (r: number) => {
      const scene = parseScene({ origin: ORIGIN, ground: false, sensors: [{ id: 's', position: [0, 0], heightM: 1.5, array: 'mono' }], sources: [{ id: 'x', synth: { type: 'noise-burst', durationMs: 200, highHz: 2000 }, position: [r, 0, 1.5], onsetSec: 0.05, level: { dbfs: -6 } }] });
      const ch = new SceneRenderer(scene).render(24000)[0][0];
      return Math.sqrt(ch.reduce((a, v) => a + v * v, 0));
    };
    const ratio = level(10) / level(20);
    assert.ok(Math.abs(ratio - 2) < 0.1, `ratio ${ratio}`);
  });

  it('is deterministic for a seed and differs with another seed', () => {
    const json = { origin: ORIGIN, seed: 5, sensors: [{ id: 's', position: [0, 0] }], sources: [{ id: 'x', synth: { type: 'noise-burst' }, position: [5, 5], onsetSec: 0.01 }], background: { noise: { level: { dbSpl: 50 } } } };
    const a = new SceneRenderer(parseScene(json)).render(4800)[0][2];
    const b = new SceneRenderer(parseScene(json)).render(4800)[0][2];
    const c = new SceneRenderer(parseScene({ ...json, seed: 6 })).render(4800)[0][2];
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
  });

  it('renders block by block exactly as in one go', () => {
    const json = { origin: ORIGIN, sensors: [{ id: 's', position: [0, 0] }], sources: [{ id: 'x', synth: { type: 'impulse' }, position: [3, 4], onsetSec: 0.02 }] };
    const whole = new SceneRenderer(parseScene(json)).render(9600)[0][1];
    const r = new SceneRenderer(parseScene(json));
    const parts = [r.render(1000), r.render(3800), r.render(4800)].map((b) => b[0][1]);
    const joined = new Float32Array(9600);
    let at = 0;
    for (const p of parts) {
      joined.set(p, at);
      at += p.length;
    }
    for (let i = 0; i < 9600; i++) assert.ok(Math.abs(joined[i] - whole[i]) < 1e-7, `frame ${i}`);
  });

  it('plays clips given by path relative to the scene and loops background clips', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-sim-'));
    try {
      const tone = Float32Array.from({ length: 1600 }, (_, i) => 0.5 * Math.sin((2 * Math.PI * 440 * i) / 16000));
      fs.writeFileSync(path.join(dir, 'tone.wav'), encodeWav([tone], 16000, 'pcm16'));
      const scene = parseScene(
        { origin: ORIGIN, sensors: [{ id: 's', position: [0, 0], array: 'mono' }], background: { clips: [{ id: 'bg', clip: 'tone.wav', position: [2, 0, 4], level: { dbfs: -10 } }] } },
        { baseDir: dir },
      );
      const r = new SceneRenderer(scene);
      r.render(48000);
      const late = r.render(4800)[0][0]; // 1 s later: the 100 ms clip has looped
      assert.ok(Math.sqrt(late.reduce((a, v) => a + v * v, 0) / late.length) > 0.01);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('live scene', () => {
  afterEach(() => assert.equal(liveSceneCount(), 0, 'every live scene released'));

  it('feeds subscribers blocks with clock-offset times, shares one renderer and stops on the last release', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-live-'));
    const file = path.join(dir, 'scene.json');
    fs.writeFileSync(
      file,
      JSON.stringify({
        name: 'live-test',
        origin: ORIGIN,
        sensors: [
          { id: 'a', position: [0, 0], array: 'square-4', clockOffsetMs: 250 },
          { id: 'b', position: [10, 0], array: 'circular-6' },
        ],
        sources: [{ id: 'pop', label: 'gunshot', synth: { type: 'impulse' }, position: [5, 5], onsetSec: 0.05 }],
      }),
    );
    const one = acquireLiveScene(file, { realtime: false, blockMs: 50 });
    const two = acquireLiveScene(file, { realtime: false, blockMs: 50 });
    try {
      assert.equal(one.scene, two.scene, 'one renderer per scene');
      assert.equal(liveSceneCount(), 1);
      assert.equal(one.scene.channelsOf('a'), 4);
      assert.equal(one.scene.channelsOf('b'), 6);
      assert.throws(() => one.scene.channelsOf('zz'), /no sensor "zz"/);
      assert.throws(() => one.scene.subscribe('zz', () => {}), /no sensor "zz"/);
      const blocksA: { start: number; time: number; ch: number; n: number }[] = [];
      const blocksB: { start: number; time: number }[] = [];
      const events: LiveSceneEvent[] = [];
      one.scene.onEvent((e) => events.push(e));
      const unA = one.scene.subscribe('a', (ch, start, time) => blocksA.push({ start, time, ch: ch.length, n: ch[0].length }));
      two.scene.subscribe('b', (_ch, start, time) => blocksB.push({ start, time }));
      await waitFor(() => blocksA.length >= 6 && blocksB.length >= 6 && events.length >= 1, 20_000, 'blocks and the event');
      assert.equal(blocksA[0].ch, 4);
      assert.equal(blocksA[0].n, 2400);
      assert.equal(blocksA[1].start - blocksA[0].start, 2400);
      const same = blocksB.find((b) => b.start === blocksA[2].start)!;
      assert.ok(Math.abs(blocksA[2].time - same.time - 0.25) < 1e-6, 'sensor a clock runs 250 ms ahead');
      assert.equal(events[0].label, 'gunshot');
      assert.deepEqual(events[0].positionEnu, [5, 5, 1.5]);
      assert.ok(Math.abs(events[0].lat - 45) < 0.001);
      unA();
      one.release();
      one.release(); // idempotent
      assert.equal(liveSceneCount(), 1, 'still held by the second user');
    } finally {
      two.release();
      fs.rmSync(dir, { recursive: true, force: true });
    }
    assert.equal(liveSceneCount(), 0);
  });

  it('falls back to synthetic events when the data dir is missing, saying so once', async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-nodata-'));
    const warnings: string[] = [];
    const { scene, release } = acquireLiveScene('street-demo', { realtime: false, blockMs: 100, dataDir: empty });
    try {
      scene.onWarning((m) => warnings.push(m));
      const events: LiveSceneEvent[] = [];
      scene.onEvent((e) => events.push(e));
      let blocks = 0;
      scene.subscribe('corner-s', () => blocks++);
      await waitFor(() => events.length >= 1, 60000, 'the first scripted event');
      assert.ok(['gunshot', 'glass_break', 'scream', 'crash', 'explosion', 'tire_skid'].includes(events[0].label));
      assert.equal(warnings.filter((w) => /synthetic/.test(w)).length, 1, warnings.join(' | '));
      assert.ok(warnings.some((w) => /synthetic/.test(w) && w.includes(empty)), 'the warning names the data dir looked in');
      assert.ok(blocks > 50);
    } finally {
      release();
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });
});

describe('vigie simulate', () => {
  it('writes one multichannel WAV per sensor and the ground truth', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-simulate-'));
    try {
      const scene = path.join(dir, 'scene.json');
      fs.writeFileSync(scene, JSON.stringify({ origin: ORIGIN, durationSec: 0.5, sensors: [{ id: 'n', position: [0, 0] }, { id: 's', position: [0, -20], array: 'circular-7' }], sources: [{ id: 'x', label: 'gunshot', synth: { type: 'impulse' }, position: [5, -10], onsetSec: 0.1 }] }));
      const r = simulateToDir(scene, path.join(dir, 'out'));
      assert.equal(r.files.length, 2);
      const n = readWavFile(path.join(dir, 'out', 'n.wav'));
      const s = readWavFile(path.join(dir, 'out', 's.wav'));
      assert.equal(n.channels.length, 4);
      assert.equal(s.channels.length, 7);
      assert.equal(n.sampleRate, 48000);
      assert.equal(n.channels[0].length, 24000);
      const truth = JSON.parse(fs.readFileSync(r.truthFile, 'utf8'));
      assert.equal(truth.events.length, 1);
      assert.equal(truth.events[0].label, 'gunshot');
      assert.equal(truth.sensors[1].micsEnu.length, 7);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
