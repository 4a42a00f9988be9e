// The site plan geometry of the dashboard widget (ui/components/plan.js), run in Node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
// eslint-disable-next-line @typescript-eslint/ban-ts-comment
// @ts-ignore -- plain JS module of the widget
import { along, buildPlan, errorText, fromLocal, planTiles, scaleBarM, toLocal } from '../../ui/components/plan.js';

const origin = { lat: 45.4397, lon: 4.3872 };

test('local metres: 100 m east and north round-trip, bearings clockwise from north', () => {
  const p = fromLocal(origin, 100, 100);
  const back = toLocal(origin, p.lat, p.lon);
  assert.ok(Math.abs(back.x - 100) < 0.01 && Math.abs(back.y - 100) < 0.01);
  const east = along({ x: 0, y: 0 }, 90, 50);
  assert.ok(Math.abs(east.x - 50) < 1e-9 && Math.abs(east.y) < 1e-9);
  const north = toLocal(origin, origin.lat + 0.001, origin.lon);
  assert.ok(Math.abs(north.y - 110.574) < 0.01, `${north.y}`);
});

test('the plan fits every point and the uncertainty circle inside the view, north up', () => {
  const src = fromLocal(origin, 300, -150);
  const plan = buildPlan({
    origin,
    width: 400,
    height: 300,
    points: [
      { id: 's1', kind: 'sensor', lat: origin.lat, lon: origin.lon },
      { id: 'c1', kind: 'camera', ...fromLocal(origin, -80, 60) },
      { id: 'src', kind: 'source', ...src, radiusM: 40 },
    ],
  });
  assert.ok(plan);
  for (const p of plan.points) {
    const r = (p.radiusM || 0) * plan.scale;
    const q = plan.toSvg(p.x, p.y);
    assert.ok(q.x - r >= 0 && q.x + r <= 400 && q.y - r >= 0 && q.y + r <= 300, `${p.id} at ${q.x},${q.y}`);
  }
  const s = plan.toSvg(0, 0);
  const c = plan.toSvg(-80, 60);
  assert.ok(c.y < s.y, 'north is up');
  assert.ok(c.x < s.x, 'west is left');
  const bar = scaleBarM(plan);
  assert.ok([1, 2, 5].includes(Number(String(bar)[0])) && bar * plan.scale <= 400 / 5 + 1e-9);
  assert.equal(buildPlan({ points: [] }), null);
});

test('tiles cover the plan at a zoom with at most 36 tiles, and use the URL template', () => {
  const plan = buildPlan({ origin, width: 400, height: 300, points: [{ id: 's', kind: 'sensor', lat: origin.lat, lon: origin.lon }, { id: 'c', kind: 'camera', ...fromLocal(origin, 500, 400) }] });
  const tiles = planTiles(plan, '/tiles/{z}/{x}/{y}.png');
  assert.ok(tiles.length >= 1 && tiles.length <= 36, `${tiles.length}`);
  assert.match(tiles[0].href, /^\/tiles\/\d+\/\d+\/\d+\.png$/);
  const minX = Math.min(...tiles.map((t: { x: number }) => t.x));
  const maxX = Math.max(...tiles.map((t: { x: number; w: number }) => t.x + t.w));
  const minY = Math.min(...tiles.map((t: { y: number }) => t.y));
  const maxY = Math.max(...tiles.map((t: { y: number; h: number }) => t.y + t.h));
  assert.ok(minX <= 0 && maxX >= 400 && minY <= 0 && maxY >= 300, 'the tiles cover the whole view');
  assert.deepEqual(planTiles(plan, ''), []);
});

test('position errors read as what they are: a decimal under 10 m, never "±0 m"; nothing when unknown', () => {
  assert.equal(errorText(0.34), '±0.3 m');
  assert.equal(errorText(3.25), '±3.3 m');
  assert.equal(errorText(12.4), '±12 m');
  assert.equal(errorText(undefined), '');
  assert.equal(errorText(Number.NaN), '');
});
