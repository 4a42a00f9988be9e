/**
 * The console's words for where an alert is (ui/components/place-words.js): distance and
 * direction from the nearest sensor or camera the console knows, an uncertainty never better
 * than a few metres, coordinates only for the tooltip and the copy button.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';

type Place = { text: string; tip: string; coords: string | null };
type Landmark = { id: string; name?: string; lat: number; lon: number };
type PlaceWords = {
  PLACE_FLOOR_M: number;
  believableErrorM(e: unknown): number | null;
  compassWord(b: number): string;
  distanceWords(m: number): string;
  nearestLandmark(p: { lat: number; lon: number }, l: Landmark[]): { name: string; distanceM: number; bearingDeg: number } | null;
  placeWords(alert: unknown, site?: { sensors?: Landmark[]; cameras?: Landmark[] }): Place;
};
type Plan = { fromLocal(o: { lat: number; lon: number }, x: number, y: number): { lat: number; lon: number } };
let raw: PlaceWords;
/** The module with its no-break spaces (between a number and its unit) read as spaces, for readable expectations. */
let words: PlaceWords;
let plan: Plan;
const sp = (t: string) => t.replace(/\u00a0/g, ' ');

before(async () => {
  // eslint-disable-next-line @typescript-eslint/ban-ts-comment
  // @ts-ignore -- plain JS module of the widget
  raw = (await import('../../ui/components/place-words.js')) as PlaceWords;
  words = {
    ...raw,
    distanceWords: (m) => sp(raw.distanceWords(m)),
    placeWords: (a, site) => {
      const p = raw.placeWords(a, site);
      return { ...p, text: sp(p.text) };
    },
  };
  // eslint-disable-next-line @typescript-eslint/ban-ts-comment
  // @ts-ignore -- plain JS module of the widget
  plan = (await import('../../ui/components/plan.js')) as Plan;
});

// The street demo's crossroads: three sensors and two camera poles.
const site = {
  sensors: [
    { id: 'corner-nw', name: 'Crossroads north-west', lat: 45.439808, lon: 4.387021 },
    { id: 'corner-ne', name: 'Crossroads north-east', lat: 45.439799, lon: 4.387392 },
    { id: 'corner-s', name: 'Crossroads south', lat: 45.439556, lon: 4.387213 },
  ],
  cameras: [
    { id: 'cam-north', name: 'Crossroads north pole', lat: 45.439916, lon: 4.3872 },
    { id: 'cam-south', name: 'Crossroads south pole', lat: 45.439475, lon: 4.387238 },
  ],
};
const pole = site.cameras[0];
/** A point `east`, `north` metres from the north pole. */
const nearPole = (east: number, north: number) => plan.fromLocal(pole, east, north);
const located = (p: { lat: number; lon: number }, errorM: number) => ({ sensor: 'corner-nw', location: { method: 'tdoa', position: { ...p, errorM }, sensors: ['corner-nw', 'corner-s'] } });

test('an error is never shown better than 5 m, and is rounded up to a round figure', () => {
  assert.equal(words.PLACE_FLOOR_M, 5);
  assert.deepEqual([0, 0.3, 4.9, 5, 5.1, 6.5, 10, 12.4, 49, 51, 199, 201, 990, 1234].map(words.believableErrorM), [5, 5, 5, 5, 10, 10, 10, 15, 50, 60, 200, 250, 1000, 1300]);
  assert.equal(words.believableErrorM(10.000000000001), 10, 'a float from a sum stays at its round figure');
  assert.equal(words.believableErrorM(undefined), null);
  assert.equal(words.believableErrorM(-1), null);
  assert.equal(words.believableErrorM(Number.NaN), null);
});

test('a number and its unit never part at a line\'s end: a no-break space joins them', () => {
  assert.equal(raw.placeWords(located(nearPole(0, 40), 3), site).text, '40\u00a0m north of Crossroads north pole (±5\u00a0m)');
  assert.equal(raw.distanceWords(2350), '2.4\u00a0km');
});

test('directions and distances as people say them', () => {
  assert.deepEqual([0, 22, 23, 45, 90, 135, 180, 225, 270, 315, 337, 359, -45, 405].map(words.compassWord),
    ['north', 'north', 'north-east', 'north-east', 'east', 'south-east', 'south', 'south-west', 'west', 'north-west', 'north-west', 'north', 'north-west', 'north-east']);
  assert.deepEqual([1, 7.4, 12, 23, 97, 98, 104, 996, 1049, 2350].map(words.distanceWords), ['5 m', '5 m', '10 m', '25 m', '95 m', '100 m', '100 m', '1.0 km', '1.0 km', '2.4 km']);
});

test('a position is a distance and direction from the nearest sensor or camera, by name, with a believable error', () => {
  const p = words.placeWords(located(nearPole(18, 18), 0.3), site);
  assert.equal(p.text, '25 m north-east of Crossroads north pole (±5 m)');
  assert.doesNotMatch(p.text, /45\.|4\.38/, 'no coordinates in the words');
  // the coordinates are for the tooltip and the copy button
  const q = nearPole(18, 18);
  assert.equal(p.coords, `${q.lat.toFixed(5)}, ${q.lon.toFixed(5)}`);
  assert.equal(p.tip, `${p.coords} (latitude, longitude), ±5 m`);
  // the direction is from the landmark to the sound: north-west of the north-west sensor
  assert.equal(words.placeWords(located(plan.fromLocal(site.sensors[0], -21, 21), 9), site).text, '30 m north-west of Crossroads north-west (±10 m)');
  assert.equal(words.placeWords(located(nearPole(0, 40), 3), site).text, '40 m north of Crossroads north pole (±5 m)');
  // the nearest: south of the south sensor, but nearer to the south pole
  const s = words.placeWords(located(plan.fromLocal(site.cameras[1], 0, -30), 7), site);
  assert.equal(s.text, '30 m south of Crossroads south pole (±10 m)');
});

test('closer to a landmark than the place is known: "at" it, with no direction that would mean nothing', () => {
  assert.equal(words.placeWords(located(nearPole(3, 1), 0.3), site).text, 'at Crossroads north pole (±5 m)');
  assert.equal(words.placeWords(located(nearPole(0, 14), 14), site).text, 'at Crossroads north pole (±15 m)');
  assert.equal(words.placeWords(located(nearPole(0, 16), 14), site).text, '15 m north of Crossroads north pole (±15 m)');
});

test('a bearing without a distance names the sensor and says the distance is not known; the degrees go to the tooltip', () => {
  const p = words.placeWords({ sensor: 'corner-nw', location: { method: 'doa', bearing: 43, bearingStd: 4.2, sensors: ['corner-nw'], reason: 'one sensor with a bearing' } }, site);
  assert.deepEqual(p, {
    text: 'north-east of Crossroads north-west, distance not known',
    coords: null,
    tip: 'Bearing 43° ±4° from Crossroads north-west (clockwise from north); one sensor with a bearing',
  });
  // a sensor the console has no name for is named by its id
  assert.equal(words.placeWords({ sensor: 'mast-9', location: { method: 'doa', bearing: 181, sensors: ['mast-9'] } }, site).text, 'south of mast-9, distance not known');
});

test('no place, or no landmark to say it from: said plainly', () => {
  assert.deepEqual(words.placeWords({ sensor: 's', location: { method: 'none', sensors: ['s'], reason: 'not localisable' } }, site), { text: 'place not known', coords: null, tip: 'not localisable' });
  assert.equal(words.placeWords({ sensor: 's' }, site).text, 'place not known');
  const lone = words.placeWords(located(nearPole(0, 0), 2), { sensors: [], cameras: [] });
  assert.equal(lone.text, 'see the plan (±5 m): no sensor or camera position known');
  assert.ok(lone.coords, 'the coordinates can still be copied');
  // an unknown error: no ± at all, rather than one made up
  const noErr = words.placeWords({ sensor: 's', location: { method: 'tdoa', position: { ...nearPole(0, 40) }, sensors: [] } }, site);
  assert.equal(noErr.text, '40 m north of Crossroads north pole');
});
