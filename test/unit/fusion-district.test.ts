import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DROP_CANDIDATES, Observation, fuseObservations } from '../../lib/localize/fusion';
import { bearingDeg } from '../../lib/localize/geo';
import { gaussian, makeRng } from '../../lib/sim/signals';

const C = 343;

/** `count` sensors on a grid 80 m apart (a district), a little off the grid lines. */
function district(count: number): [number, number][] {
  const cols = Math.ceil(Math.sqrt(count));
  return Array.from({ length: count }, (_, i): [number, number] => [(i % cols) * 80 + ((i * 13) % 7), Math.floor(i / cols) * 80 + ((i * 7) % 5)]);
}

/** Every sensor hears the bang: PTP onsets (0.1 ms), bearings (1°), and `bad` sensors' onsets late by 50 to 150 ms (an echo picked; onsets are trusted to 1 ms). */
function reports(sensors: [number, number][], src: [number, number], bad: number[], seed: number): Observation[] {
  const rng = makeRng(seed);
  return sensors.map(([e, n], i) => ({
    detectionId: `d${i}`,
    sensor: `s${i}`,
    label: 'gunshot',
    onsetSec: 1000 + Math.hypot(src[0] - e, src[1] - n, 4 - 1.5) / C + 1e-4 * gaussian(rng) + (bad.includes(i) ? 0.05 + 0.1 * rng() : 0),
    e,
    n,
    z: 4,
    lat: 0,
    lon: 0,
    clock: 'ptp',
    clockErrorMs: 0.1,
    bearingDeg: bearingDeg(e, n, src[0], src[1]) + gaussian(rng),
    bearingStdDeg: 1,
    confidence: 0.9,
    payload: null,
  }));
}

describe('fusion over a district', () => {
  it('tries only the onsets of largest residual for removal past DROP_CANDIDATES, and places the bang as trying every onset does', () => {
    let compared = 0;
    for (const count of [12, 20, 40]) {
      const sensors = district(count);
      for (let seed = 1; seed <= 4; seed++) {
        const rng = makeRng(100 * count + seed);
        const src: [number, number] = [40 + 200 * rng(), 40 + 200 * rng()];
        const bad = [Math.floor(rng() * count), ...(seed % 2 ? [] : [Math.floor(rng() * count)])];
        const obs = reports(sensors, src, bad, seed);
        const capped = fuseObservations(obs, { speedOfSoundMs: C });
        const every = fuseObservations(obs, { speedOfSoundMs: C, dropCandidates: Infinity });
        assert.ok(count > DROP_CANDIDATES);
        assert.deepEqual(capped, every, `${count} sensors, seed ${seed}, bad onsets of ${bad.join(', ')}`);
        assert.equal(capped.method, 'tdoa');
        assert.deepEqual([...capped.rejected].sort((a, b) => a - b), [...new Set(bad)].sort((a, b) => a - b), `the bad onsets are left out (${count} sensors, seed ${seed})`);
        compared++;
      }
    }
    assert.equal(compared, 12);
  });
});
