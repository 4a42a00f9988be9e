import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ARRAY_PRESETS, MicPosition } from '../../lib/localize/arrays';
import { diffDeg } from '../../lib/localize/geo';
import { estimateDoa, findOnset } from '../../lib/localize/srp';
import { SceneRenderer } from '../../lib/sim/render';
import { parseScene } from '../../lib/sim/scene';

/** Render one synthetic source at a known bearing and range from a single array (ground reflection, traffic noise). */
function renderAt(opts: { preset?: string; mics?: MicPosition[]; bearingDeg: number; rangeM: number; headingDeg: number; synth?: object; noiseDbSpl?: number }) {
  const b = (opts.bearingDeg * Math.PI) / 180;
  const scene = parseScene({
    origin: { lat: 45, lon: 4 },
    sensors: [{ id: 's', position: [0, 0], heightM: 4, headingDeg: opts.headingDeg, ...(opts.mics ? { mics: opts.mics } : { array: opts.preset }) }],
    sources: [{ id: 'x', synth: opts.synth ?? { type: 'noise-burst', durationMs: 300, decayMs: 80 }, position: [opts.rangeM * Math.sin(b), opts.rangeM * Math.cos(b), 1.5], onsetSec: 0.25, level: { dbSpl: 110 } }],
    background: { noise: { color: 'traffic', level: { dbSpl: opts.noiseDbSpl ?? 60 } } },
    seed: Math.round(opts.bearingDeg * 10 + opts.rangeM),
  });
  const channels = new SceneRenderer(scene).render(Math.round(0.6 * scene.sampleRate))[0];
  return { scene, channels };
}

describe('direction of arrival (SRP-PHAT), source at a known angle for each array preset', () => {
  const tolerances: Record<string, number> = { 'square-4': 1.5, 'respeaker-usb-4': 2.5, 'circular-6': 1.5, 'circular-7': 1.5 };
  for (const preset of Object.keys(ARRAY_PRESETS).filter((p) => p !== 'mono')) {
    it(`${preset}: bearing error below ${tolerances[preset]}° around the compass`, () => {
      for (const bearing of [7, 95, 188, 271, 333]) {
        const heading = 40;
        const { scene, channels } = renderAt({ preset, bearingDeg: bearing, rangeM: 20, headingDeg: heading });
        const r = estimateDoa(channels, scene.sensors[0].mics, { sampleRate: scene.sampleRate, headingDeg: heading, speedOfSoundMs: scene.speedOfSoundMs });
        const err = Math.abs(diffDeg(r.bearingDeg, bearing));
        assert.ok(err < tolerances[preset], `${preset} at ${bearing}°: got ${r.bearingDeg.toFixed(2)}° (error ${err.toFixed(2)}°)`);
        assert.ok(Math.abs(diffDeg(r.azimuthDeg, bearing - heading)) < tolerances[preset], 'azimuth is relative to the heading');
        assert.ok(r.confidence > 0.5, `confidence ${r.confidence}`);
        assert.ok(r.bearingStdDeg > 0 && r.bearingStdDeg < 10, `std ${r.bearingStdDeg}`);
      }
    });
  }

  it('beats the one-sample step: a 13 cm array at 48 kHz resolves bearings 1° apart', () => {
    const est = [60, 61, 62].map((b) => {
      const { scene, channels } = renderAt({ preset: 'square-4', bearingDeg: b, rangeM: 15, headingDeg: 0, synth: { type: 'impulse' }, noiseDbSpl: 40 });
      return estimateDoa(channels, scene.sensors[0].mics, { sampleRate: 48000, speedOfSoundMs: scene.speedOfSoundMs }).bearingDeg;
    });
    assert.ok(est[0] < est[1] && est[1] < est[2], `monotonic: ${est.map((e) => e.toFixed(2)).join(', ')}`);
    for (let i = 0; i < 3; i++) assert.ok(Math.abs(est[i] - (60 + i)) < 0.5, `got ${est[i]} for ${60 + i}`);
  });

  it('estimates a below-the-array elevation for a street-level source', () => {
    const { scene, channels } = renderAt({ preset: 'square-4', bearingDeg: 120, rangeM: 8, headingDeg: 0, synth: { type: 'impulse' }, noiseDbSpl: 40 });
    const r = estimateDoa(channels, scene.sensors[0].mics, { sampleRate: 48000, speedOfSoundMs: scene.speedOfSoundMs });
    const trueEl = (Math.atan2(1.5 - 4, 8) * 180) / Math.PI; // −17°
    assert.ok(r.elevationDeg < 0 && Math.abs(r.elevationDeg - trueEl) < 8, `elevation ${r.elevationDeg} vs ${trueEl}`);
  });

  it('works with a custom non-planar geometry (tetrahedron)', () => {
    const mics: MicPosition[] = [
      [0, 0.06, 0],
      [0.052, -0.03, 0],
      [-0.052, -0.03, 0],
      [0, 0, 0.07],
    ];
    const { scene, channels } = renderAt({ mics, bearingDeg: 222, rangeM: 25, headingDeg: 10 });
    const r = estimateDoa(channels, mics, { sampleRate: 48000, headingDeg: 10, speedOfSoundMs: scene.speedOfSoundMs });
    assert.ok(Math.abs(diffDeg(r.bearingDeg, 222)) < 3, `got ${r.bearingDeg}`);
  });

  it('finds the onset at the direct sound arrival', () => {
    const { scene, channels } = renderAt({ preset: 'square-4', bearingDeg: 0, rangeM: 30, headingDeg: 0, synth: { type: 'impulse' } });
    const arrival = (0.25 + 0.01) * 48000 + (Math.hypot(30, 2.5) / scene.speedOfSoundMs) * 48000;
    const o = findOnset(channels, 48000);
    assert.ok(Math.abs(o.frame - arrival) < 48, `onset ${o.frame} vs arrival ${arrival.toFixed(0)}`);
    assert.ok(o.riseMs < 3, `an impulse rises fast (${o.riseMs} ms)`);
  });

  it('rejects bad geometry and mismatched channels with messages naming the field', () => {
    const ch = [new Float32Array(4800)];
    assert.throws(() => estimateDoa(ch, [[0, 0, 0]], { sampleRate: 48000 }), /mics: direction finding needs at least 2 microphones/);
    assert.throws(() => estimateDoa([ch[0], ch[0]], [[0, 0, 0], [0.1, 0, 0], [0, 0.1, 0]], { sampleRate: 48000 }), /channels: expected 3/);
  });
});
