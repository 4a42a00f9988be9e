import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Alert } from '../../lib/contracts';
import { DROP_CANDIDATES, Observation, fuseObservations } from '../../lib/localize/fusion';
import * as fs from 'fs';
import * as path from 'path';
import { bearingDeg } from '../../lib/localize/geo';
import { FusionLocalizer } from '../../lib/localize/localizer';
import { gaussian, makeRng } from '../../lib/sim/signals';
import { districtBurst, districtSensors, localizeBurst } from '../support/district';

const C = 343;

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
      const sensors = districtSensors(count);
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

  it('sends, for a bad night over 10 and 20 sensors, the alerts it sent before it spared its CPU (same places, reports, refinements)', () => {
    // Recorded from the localizer before late reports of a well-placed incident were skipped, removal
    // candidates capped and incidents' places remembered: each of them must change nothing.
    const recorded = JSON.parse(fs.readFileSync(path.join(__dirname, '../fixtures/district-burst-alerts.json'), 'utf8')) as Record<string, unknown[]>;
    const shown = (a: Alert) => ({ id: a.id, label: a.label, sensor: a.sensor, location: a.location, reports: (a as Alert & { incident: { reports: Array<{ detection: string }> } }).incident.reports.map((r) => r.detection) });
    for (const [sensors, bangs] of [
      [10, 40],
      [20, 30],
    ]) {
      const { sent } = localizeBurst(new FusionLocalizer({}), districtBurst(sensors, bangs));
      assert.ok(sent.length >= bangs, `${sensors} sensors: ${sent.length} alerts for ${bangs} bangs`);
      assert.deepEqual(JSON.parse(JSON.stringify(sent.map(shown))), recorded[String(sensors)], `${sensors} sensors`);
    }
  });
});
