/**
 * ptz-steer under a district's bad night: 12 cameras, 30 explosions in quick succession. Each
 * of the first 12 turns the nearest camera still free; a camera, once on its alert, keeps it
 * for its minimum look (no camera swinging from bang to bang); the others wait, then are told
 * why no camera came. Every alert's last copy is a final word.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PtzSteer, SteerOutput } from '../../lib/camera/steer';
import { aimAtPosition, destination } from '../../lib/camera/geometry';
import { waitFor } from '../support/wait';
import { asConns, cameraAt, FakeCamera, ORIGIN, steerAlert } from '../support/fake-ptz-camera';

test('12 cameras, 30 explosions at once: the nearest free camera for each of the first 12, none turns twice, the rest told why', async () => {
  // A ring of 12 cameras 120 m from the district's middle: every bang within 150 m of it is in range of all (300 m).
  const cams = Array.from({ length: 12 }, (_, i) => new FakeCamera(cameraAt(`cam-${String(i).padStart(2, '0')}`, i * 30, 120), 20));
  const steer = new PtzSteer(asConns(cams), { pollMs: 5, returnHomeAfterMs: 60_000, minLookMs: 60_000, waitForCameraMs: 1500, waitingUpdateMinMs: 200 });
  const outs: SteerOutput[] = [];
  const places = Array.from({ length: 30 }, (_, i) => destination(ORIGIN, (i * 137) % 360, 20 + ((i * 53) % 130)));
  const ids = places.map((_, i) => `boom-${i}`);
  try {
    const handled: Array<Promise<void>> = [];
    for (const [i, id] of ids.entries()) {
      handled.push(steer.handle(steerAlert(id, 'explosion', places[i]), (o) => outs.push(o)));
      // each arrives once the one before has its camera (or none): the order of arrival is the order sent
      await waitFor(() => outs.some((o) => o.port === 1 && o.payload.id === id) || undefined, 10_000, `${id} answered`);
    }
    await Promise.all(handled);
    await waitFor(() => steer.waitingAlerts.length === 0 || undefined, 10_000, 'every wait over');
    const last = (id: string) => outs.filter((o) => o.port === 1 && o.payload.id === id).pop()!.payload.camera!;

    // The nearest camera still free, in the order the alerts came.
    const free = new Set(cams.map((c) => c.config.id));
    for (const [i, id] of ids.slice(0, 12).entries()) {
      const nearest = cams
        .filter((c) => free.has(c.config.id))
        .map((c) => ({ id: c.config.id, m: aimAtPosition(c.config, places[i]).distanceM }))
        .sort((a, b) => a.m - b.m || (a.id < b.id ? -1 : 1))[0].id;
      free.delete(nearest);
      assert.deepEqual([last(id).state, last(id).id], ['on-target', nearest], `${id}: the nearest free camera`);
    }
    for (const c of cams) assert.equal(c.moves.length, 1, `${c.config.id} turned ${c.moves.length} times: it keeps its alert for the look`);
    for (const id of ids.slice(12)) {
      assert.equal(last(id).state, 'unavailable', `${id} ends ${last(id).state}`);
      assert.match(last(id).reason ?? '', /^no camera was free within 2 s \(all 12 cameras that can see it are busy \(nearest, cam-\d\d, with explosion alert boom-\d+\)\)$/, `${id}: ${last(id).reason}`);
    }
  } finally {
    steer.close();
  }
});
