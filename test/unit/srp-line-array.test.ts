/**
 * Two microphones, or several in a line, measure only the angle between the sound and their
 * axis: every direction on a cone around the axis sounds alike. Sources are simulated at known
 * bearings and ranges; the array must give the right bearing or its mirror image, say which two,
 * and not pass either on as trusted by default.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MicPosition } from '../../lib/localize/arrays';
import { diffDeg } from '../../lib/localize/geo';
import { DEFAULT_MIN_CONFIDENCE, locateSingle } from '../../lib/localize/localizer';
import { estimateDoa, LINE_ARRAY_MAX_CONFIDENCE, lineAxis } from '../../lib/localize/srp';
import { SceneRenderer } from '../../lib/sim/render';
import { parseScene } from '../../lib/sim/scene';
import type { Detection } from '../../lib/contracts';

const PAIR: MicPosition[] = [
  [-0.1, 0, 0],
  [0.1, 0, 0],
];
const LINE_4: MicPosition[] = [
  [-0.15, 0, 0],
  [-0.05, 0, 0],
  [0.05, 0, 0],
  [0.15, 0, 0],
];
const HEIGHT_M = 4;
const SOURCE_HEIGHT_M = 1.5;

function renderAt(mics: MicPosition[], bearingDeg: number, rangeM: number, headingDeg: number) {
  const b = (bearingDeg * Math.PI) / 180;
  const scene = parseScene({
    origin: { lat: 45, lon: 4 },
    sensors: [{ id: 's', position: [0, 0], heightM: HEIGHT_M, headingDeg, mics }],
    sources: [{ id: 'x', synth: { type: 'noise-burst', durationMs: 300, decayMs: 80 }, position: [rangeM * Math.sin(b), rangeM * Math.cos(b), SOURCE_HEIGHT_M], onsetSec: 0.25, level: { dbSpl: 110 } }],
    background: { noise: { color: 'traffic', level: { dbSpl: 60 } } },
    seed: Math.round(bearingDeg * 10 + rangeM),
  });
  return { scene, channels: new SceneRenderer(scene).render(Math.round(0.6 * scene.sampleRate))[0] };
}

const elevationAt = (rangeM: number) => (Math.atan2(SOURCE_HEIGHT_M - HEIGHT_M, rangeM) * 180) / Math.PI;
const LINE_ELEVATION = { assumedDeg: elevationAt(20), minDeg: elevationAt(5), maxDeg: elevationAt(100) };

describe('line arrays (two microphones, or all in a line): front/back ambiguity', () => {
  it('knows a line when it sees one', () => {
    assert.deepEqual(lineAxis(PAIR), [1, 0, 0]);
    assert.ok(lineAxis(LINE_4));
    assert.equal(lineAxis([...LINE_4, [0, 0.02, 0]]), null);
  });

  for (const [name, mics] of [
    ['two microphones 20 cm apart', PAIR],
    ['four in a line, 30 cm', LINE_4],
  ] as const) {
    it(`${name}: the bearing or its mirror image within 3° around the compass from 12 to 60 m, 8° at 6 m, and within 2 std; the one given is in front; confidence under the default threshold`, () => {
      const heading = 40;
      for (const [bearing, rangeM] of [
        [70, 20],
        [190, 20],
        [100, 6],
        [160, 60],
        [250, 12],
        [300, 35],
        [5, 25],
      ]) {
        const { scene, channels } = renderAt([...mics], bearing, rangeM, heading);
        const r = estimateDoa(channels, [...mics], { sampleRate: scene.sampleRate, headingDeg: heading, speedOfSoundMs: scene.speedOfSoundMs, lineArrayElevation: LINE_ELEVATION });
        assert.ok(r.mirrorBearingDeg !== undefined, 'the mirror bearing is given');
        const err = Math.min(Math.abs(diffDeg(r.bearingDeg, bearing)), Math.abs(diffDeg(r.mirrorBearingDeg, bearing)));
        // The elevation is assumed (7° down, a source 20 m away): a source 6 m away, 23° down, is off by a few degrees more.
        assert.ok(err < (rangeM >= 12 ? 3 : 8), `${bearing}° at ${rangeM} m: got ${r.bearingDeg.toFixed(1)}° or ${r.mirrorBearingDeg.toFixed(1)}° (elevation ${r.elevationDeg.toFixed(1)}°)`);
        // ... and its std covers that.
        assert.ok(err <= 2 * r.bearingStdDeg && r.bearingStdDeg < 10, `${bearing}° at ${rangeM} m: error ${err.toFixed(1)}° with std ${r.bearingStdDeg.toFixed(1)}°`);
        // The axis runs east–west of the array (x): the two bearings are mirror images across heading + 90°.
        assert.ok(Math.abs(diffDeg(r.bearingDeg + r.mirrorBearingDeg, 2 * (heading + 90))) < 0.1, `${r.bearingDeg} and ${r.mirrorBearingDeg} mirror each other across the axis`);
        assert.ok(Math.abs(diffDeg(r.bearingDeg, heading)) <= 90, `in front: ${r.bearingDeg.toFixed(1)}° with heading ${heading}°`);
        assert.ok(r.confidence <= LINE_ARRAY_MAX_CONFIDENCE && LINE_ARRAY_MAX_CONFIDENCE < DEFAULT_MIN_CONFIDENCE, `confidence ${r.confidence}`);
      }
    });
  }

  it('a source in front and its mirror image behind give the same answer: the two bearings', () => {
    const answers = [30, 150].map((bearing) => {
      const { scene, channels } = renderAt(PAIR, bearing, 20, 0);
      return estimateDoa(channels, PAIR, { sampleRate: scene.sampleRate, speedOfSoundMs: scene.speedOfSoundMs, lineArrayElevation: LINE_ELEVATION });
    });
    for (const r of answers) {
      assert.ok(Math.abs(diffDeg(r.bearingDeg, 30)) < 3 && Math.abs(diffDeg(r.mirrorBearingDeg!, 150)) < 3, `got ${r.bearingDeg.toFixed(1)}° or ${r.mirrorBearingDeg!.toFixed(1)}°`);
    }
  });

  it('the localizer says so: no bearing by default, the two bearings in the reason; below a lowered Min. confidence, the front one, no elevation', () => {
    const { scene, channels } = renderAt(PAIR, 150, 20, 0);
    const det: Detection = { kind: 'detection', id: 'p', sensor: 'pair', label: 'gunshot', confidence: 0.9, onset: 1, offset: 2, level: { dbfs: -20 }, scores: {}, span: { sensor: 'pair', start: 0, frames: channels[0].length } };
    const geometry = { id: 'pair', lat: 45, lon: 4, heightM: HEIGHT_M, headingDeg: 0, mics: PAIR, clock: 'ptp' as const, clockErrorMs: 0.1 };
    const read = () => ({ ok: true as const, sampleRate: scene.sampleRate, channels: channels.map((c) => c.slice()), start: 0, frames: channels[0].length });
    const byDefault = locateSingle(det, geometry, { read, temperatureC: 15 }).location;
    assert.equal(byDefault.method, 'none');
    assert.match(byDefault.reason!, /line array: front\/back ambiguity, bearing (29|30|31)° or (149|150|151)° \(low direction confidence/);
    const lowered = locateSingle(det, geometry, { read, temperatureC: 15, minConfidence: 0.1 }).location;
    assert.equal(lowered.method, 'doa');
    assert.ok(Math.abs(diffDeg(lowered.bearing!, 30)) < 3, `the front one: ${lowered.bearing}`);
    assert.equal(lowered.elevation, undefined, 'a line array measures no elevation');
    assert.match(lowered.reason!, /front\/back ambiguity/);
  });

  it('a vertical line of microphones gives no bearing, and says so', () => {
    const vertical: MicPosition[] = [
      [0, 0, 0],
      [0, 0, 0.2],
    ];
    const { scene, channels } = renderAt(vertical, 70, 20, 0);
    assert.throws(() => estimateDoa(channels, vertical, { sampleRate: scene.sampleRate }), /mics: a vertical line of microphones gives no bearing/);
  });
});
