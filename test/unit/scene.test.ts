import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { listBundledScenes, loadScene, parseScene } from '../../lib/sim/scene';

const base = { origin: { lat: 45, lon: 4 }, sensors: [{ id: 's1', position: [0, 0] }], sources: [{ id: 'a', synth: { type: 'impulse' }, position: [10, 0] }] };
const withSensor = (s: object) => ({ ...base, sensors: [{ id: 's1', position: [0, 0], ...s }] });
const withSource = (s: object) => ({ ...base, sources: [{ id: 'a', position: [10, 0], synth: { type: 'impulse' }, ...s }] });

describe('scene files: clear errors', () => {
  const cases: [string, unknown, RegExp][] = [
    ['not an object', [], /scene root: expected a JSON object/],
    ['no origin', { ...base, origin: undefined }, /scene origin: expected an object/],
    ['bad latitude', { ...base, origin: { lat: 123, lon: 4 } }, /scene origin\.lat: expected a number >= -90 and <= 90, got 123/],
    ['no sensors', { ...base, sensors: [] }, /scene sensors: expected a non-empty array/],
    ['sensor without position', { ...base, sensors: [{ id: 's1' }] }, /scene sensors\[0\]: expected a "position"/],
    ['duplicate sensor id', { ...base, sensors: [{ id: 's1', position: [0, 0] }, { id: 's1', position: [1, 1] }] }, /scene sensors\[1\]\.id: expected a unique sensor id/],
    ['unknown array preset', withSensor({ array: 'octopus-8' }), /scene sensors\[0\]\.array: expected one of mono, square-4/],
    ['degenerate custom geometry', withSensor({ mics: [[0, 0, 0], [0.001, 0, 0]] }), /sensors\[0\]\.mics\[0\] and \[1\]: microphones closer than 5 mm/],
    ['custom geometry not numbers', withSensor({ mics: [[0, 0, 0], ['a', 0, 0]] }), /sensors\[0\]\.mics\[1\]: expected \[x, y, z\]/],
    ['bad clock', withSensor({ clock: 'sundial' }), /scene sensors\[0\]\.clock: expected one of local, ntp, ptp, gps/],
    ['source with neither clip nor synth', { ...base, sources: [{ id: 'a', position: [1, 1] }] }, /scene sources\[0\]: expected a "clip"/],
    ['source with both', withSource({ clip: 'x.wav' }), /scene sources\[0\]: expected either "clip" or "synth", not both/],
    ['unknown synth type', withSource({ synth: { type: 'kazoo' } }), /scene sources\[0\]\.synth\.type: expected "impulse", "noise-burst" or "tone"/],
    ['tone without frequency', withSource({ synth: { type: 'tone' } }), /scene sources\[0\]\.synth\.freqHz: expected a number/],
    ['position not numbers', withSource({ position: ['north', 3] }), /scene sources\[0\]\.position: expected an array of 2 to 3 numbers/],
    ['bad level', withSource({ level: { loudness: 3 } }), /scene sources\[0\]\.level: expected an object \{"dbSpl": N\} or \{"dbfs": N\}/],
    ['bad noise colour', { ...base, background: { noise: { color: 'purple', level: { dbSpl: 50 } } } }, /scene background\.noise\[0\]\.color: expected "white", "pink" or "traffic"/],
    ['source outside the canyon', { ...base, canyon: { streetBearingDeg: 0, widthM: 10 } }, /scene source "a"\.position: expected a point between the facades/],
    ['bad sequence interval', { ...base, sequence: { events: [{ label: 'gunshot' }], intervalSec: [5, 1], area: { radiusM: 5 } } }, /scene sequence\.intervalSec: expected \[min, max\]/],
    ['bad sample rate', { ...base, sampleRate: 1000 }, /scene root\.sampleRate: expected a number >= 8000/],
  ];
  for (const [what, json, re] of cases) {
    it(what, () => assert.throws(() => parseScene(json), re));
  }

  it('a file that is not JSON, or that does not exist, says so', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-scene-'));
    try {
      const f = path.join(dir, 'broken.json');
      fs.writeFileSync(f, '{ "origin": ');
      assert.throws(() => loadScene(f), /broken\.json: not valid JSON/);
      assert.throws(() => loadScene(path.join(dir, 'missing.json')), /scene file: expected an existing scene JSON file or a bundled scene name/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('scene files: parsing', () => {
  it('accepts lat/lon sensor positions and converts them to the local frame', () => {
    const s = parseScene({ ...base, sensors: [{ id: 's1', lat: 45.0001, lon: 4 }] });
    assert.ok(Math.abs(s.sensors[0].positionEnu[1] - 11.11) < 0.05, `north ${s.sensors[0].positionEnu[1]}`);
    assert.ok(Math.abs(s.sensors[0].lat - 45.0001) < 1e-9);
  });

  it('resolves clip paths relative to the scene file and "data:" to the data dir', () => {
    const s = parseScene(
      { ...base, sources: [{ id: 'a', clip: 'clips/a.wav', position: [1, 1] }, { id: 'b', clip: 'data:urban-sounds/x.wav', position: [1, 1] }] },
      { baseDir: '/scenes', dataDir: '/data' },
    );
    assert.equal(s.sources[0].clipPath, path.resolve('/scenes/clips/a.wav'));
    assert.equal(s.sources[1].clipPath, path.resolve('/data/urban-sounds/x.wav'));
  });

  it('derives the speed of sound from the temperature and defaults to 48 kHz', () => {
    const s = parseScene({ ...base, temperatureC: 0 });
    assert.equal(s.sampleRate, 48000);
    assert.ok(Math.abs(s.speedOfSoundMs - 331.3) < 1e-9);
  });

  it('ships valid bundled scenes, street-demo among them', () => {
    const names = listBundledScenes();
    assert.ok(names.includes('street-demo'), names.join(','));
    for (const n of names) {
      const s = loadScene(n);
      assert.ok(s.sensors.length >= 1, n);
    }
    const demo = loadScene('street-demo');
    assert.equal(demo.sensors.length, 3);
    assert.ok(demo.sensors.every((x) => x.mics.length === 4));
    assert.ok(demo.sequence && demo.sequence.intervalSec[0] >= 20 && demo.sequence.intervalSec[1] <= 40);
  });
});
