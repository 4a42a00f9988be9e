// The site plan geometry and the move-button words of the dashboard widget (ui/components), run in Node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
// eslint-disable-next-line @typescript-eslint/ban-ts-comment
// @ts-ignore -- plain JS module of the widget
import { along, buildPlan, fromLocal, labelBox, placeLabels, planTiles, scaleBarM, toLocal } from '../../ui/components/plan.js';
import { geodeticToEnu } from '../../lib/localize/geo';

const origin = { lat: 45.4397, lon: 4.3872 };

test('local metres: 100 m east and north round-trip, bearings clockwise from north', () => {
  const p = fromLocal(origin, 100, 100);
  const back = toLocal(origin, p.lat, p.lon);
  assert.ok(Math.abs(back.x - 100) < 0.01 && Math.abs(back.y - 100) < 0.01);
  const east = along({ x: 0, y: 0 }, 90, 50);
  assert.ok(Math.abs(east.x - 50) < 1e-9 && Math.abs(east.y) < 1e-9);
  // a thousandth of a degree of latitude at 45.44° N is 111.14 m (the WGS84 meridian radius there)
  const north = toLocal(origin, origin.lat + 0.001, origin.lon);
  assert.ok(Math.abs(north.y - 111.142) < 0.01, `${north.y}`);
});

/** The plan's place of a point against the exact local east-north of lib/localize/geo.ts, m. */
function planErrorM(o: { lat: number; lon: number }, p: { lat: number; lon: number }): number {
  const [e, n] = geodeticToEnu({ ...p, alt: 0 }, { ...o, alt: 0 });
  const q = toLocal(o, p.lat, p.lon);
  return Math.hypot(q.x - e, q.y - n);
}

test('local metres are true to under a metre over 1 km, from the equator to the Arctic and in both hemispheres', () => {
  // Quito, Montevideo, Saint-Étienne, Reykjavik, Tromsø, Longyearbyen; points 1 km away in 8 directions
  for (const o of [{ lat: -0.18, lon: -78.47 }, { lat: -34.9, lon: -56.16 }, origin, { lat: 64.15, lon: -21.94 }, { lat: 69.65, lon: 18.96 }, { lat: 78.22, lon: 15.65 }]) {
    for (let b = 0; b < 360; b += 45) {
      const p = fromLocal(o, 1000 * Math.sin((b * Math.PI) / 180), 1000 * Math.cos((b * Math.PI) / 180));
      const err = planErrorM(o, p);
      assert.ok(err < 0.5, `at ${o.lat}, ${o.lon}, 1 km towards ${b}°: ${err.toFixed(2)} m off`);
    }
  }
});

test('a site across the 180° meridian (Fiji) is drawn where it is: the points side by side, tiles on both sides', () => {
  const west = { lat: -16.5, lon: 179.9995 };
  const east = { lat: -16.5, lon: -179.9995 };
  const plan = buildPlan({ width: 400, height: 300, points: [{ id: 'w', kind: 'sensor', ...west }, { id: 'e', kind: 'camera', ...east }] });
  assert.ok(plan);
  assert.ok(Math.abs(Math.abs(plan.origin.lon) - 180) < 0.001, `origin at ${plan.origin.lon}°, not between the points`);
  const [w, e] = plan.points;
  // 0.001° of longitude at 16.5° S is 106.8 m
  assert.ok(Math.abs(e.x - w.x - 106.8) < 0.5 && Math.abs(e.y - w.y) < 0.01, `${w.x}, ${e.x}`);
  for (const p of [west, east]) assert.ok(planErrorM(plan.origin, p) < 0.5);
  const tiles = planTiles(plan, '/tiles/{z}/{x}/{y}.png');
  assert.ok(tiles.length >= 2 && tiles.length <= 36, `${tiles.length}`);
  const columns = tiles.map((t: { href: string }) => Number(t.href.split('/')[3]));
  const z = Number(tiles[0].href.split('/')[2]);
  assert.ok(columns.includes(0) && columns.includes(2 ** z - 1), `tile columns ${[...new Set(columns)]} at zoom ${z}`);
  assert.ok(columns.every((x: number) => x >= 0 && x < 2 ** z));
  const minX = Math.min(...tiles.map((t: { x: number }) => t.x));
  const maxX = Math.max(...tiles.map((t: { x: number; w: number }) => t.x + t.w));
  assert.ok(minX <= 0 && maxX >= 400, 'the tiles cover the whole view');
});

test('a site on the Greenwich meridian, and one on the equator, are drawn true', () => {
  for (const [a, b] of [
    [{ lat: 51.4779, lon: -0.0005 }, { lat: 51.4779, lon: 0.0005 }],
    [{ lat: -0.0003, lon: -78.47 }, { lat: 0.0003, lon: -78.47 }],
  ]) {
    const plan = buildPlan({ points: [{ id: 'a', kind: 'sensor', ...a }, { id: 'b', kind: 'sensor', ...b }] });
    assert.ok(plan);
    for (const p of [a, b]) assert.ok(planErrorM(plan.origin, p) < 0.1, `${p.lat}, ${p.lon}`);
  }
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

type Box = { x0: number; x1: number; y0: number; y1: number };
function overlaps(a: Box, b: Box): boolean {
  return Math.min(a.x1, b.x1) > Math.max(a.x0, b.x0) && Math.min(a.y1, b.y1) > Math.max(a.y0, b.y0);
}

test('plan labels of close points do not overlap each other or the markers, and stay in view', () => {
  // Two masts 20 px apart on one row (the street demo's crossroads), a camera just above one,
  // the source between them, and a point at the right edge.
  const pts = [
    { key: 'source', x: 200, y: 120, text: 'Gunshot', bold: true, prefer: ['aboveRight', 'aboveLeft'] },
    { key: 'nw', x: 180, y: 118, text: 'Crossroads north-west' },
    { key: 'ne', x: 235, y: 120, text: 'Crossroads north-east' },
    { key: 'cam', x: 205, y: 85, text: 'Crossroads north pole' },
    { key: 'edge', x: 395, y: 200, text: 'East mast' },
  ];
  const markers = pts.map((p) => ({ x: p.x, y: p.y, r: 7 }));
  const placed = placeLabels(pts, { width: 400, height: 300, markers });
  assert.equal(placed.length, pts.length);
  const boxes: Box[] = placed.map((l: Parameters<typeof labelBox>[0]) => labelBox(l));
  for (let i = 0; i < boxes.length; i++) {
    const b = boxes[i];
    assert.ok(b.x0 >= 0 && b.x1 <= 400 && b.y0 >= 0 && b.y1 <= 300, `${placed[i].key} leaves the view: ${JSON.stringify(b)}`);
    for (let j = 0; j < i; j++) assert.ok(!overlaps(b, boxes[j]), `${placed[i].key} overlaps ${placed[j].key}`);
    for (const m of markers) {
      const mb = { x0: m.x - m.r, x1: m.x + m.r, y0: m.y - m.r, y1: m.y + m.r };
      assert.ok(!overlaps(b, mb), `${placed[i].key} covers the marker at ${m.x},${m.y}`);
    }
  }
  assert.equal(placed.find((p: { key: string }) => p.key === 'edge').anchor, 'end', 'a label at the right edge goes left of its point');
  assert.ok(placed[0].y < pts[0].y - 7, 'the alert label takes its preferred place above the source');
  // A label next to the scale bar (an obstacle box) goes elsewhere.
  const bar = { x0: 6, x1: 80, y0: 270, y1: 290 };
  const nearBar = placeLabels([{ key: 'b', x: 20, y: 272, text: 'South mast' }], { width: 400, height: 300, markers: [], obstacles: [bar] });
  assert.ok(!overlaps(labelBox(nearBar[0]), bar), JSON.stringify(nearBar[0]));
  // Alone, a label sits right of its point, as before.
  const alone = placeLabels([{ key: 'a', x: 50, y: 50, text: 'Mast' }], { width: 400, height: 300, markers: [{ x: 50, y: 50, r: 7 }] });
  assert.deepEqual({ x: alone[0].x, y: alone[0].y, anchor: alone[0].anchor }, { x: 59, y: 54, anchor: 'start' });
});

test('the move button has words for exactly the camera states the console accepts a move for', async () => {
  // eslint-disable-next-line @typescript-eslint/ban-ts-comment
  // @ts-ignore -- plain JS module of the widget
  const { MOVE_BUTTON } = await import('../../ui/components/move-button.js');
  const { MOVABLE_CAMERA_STATES } = await import('../../lib/alerts/camera-states');
  assert.deepEqual(Object.keys(MOVE_BUTTON).sort(), [...MOVABLE_CAMERA_STATES].sort());
  for (const [state, [words, tooltip]] of Object.entries(MOVE_BUTTON as Record<string, [string, string]>)) {
    assert.ok(words.length > 0 && tooltip.length > 0, `words and tooltip for ${state}`);
  }
});

test('the MJPEG reader hands out each JPEG as it arrives, however the bytes are cut', async () => {
  // eslint-disable-next-line @typescript-eslint/ban-ts-comment
  // @ts-ignore -- plain JS module of the widget
  const { MultipartReader, boundaryOf } = await import('../../ui/components/mjpeg-reader.js');
  assert.equal(boundaryOf('multipart/x-mixed-replace; boundary=vigieframe'), 'vigieframe');
  assert.equal(boundaryOf('multipart/x-mixed-replace;boundary="ffmpeg"'), 'ffmpeg');
  const jpeg = (n: number) => Buffer.from([0xff, 0xd8, n, 0x0d, 0x0a, 0x0d, 0x0a, 0x2d, 0x2d, n, 0xff, 0xd9]);
  // as lib/video/manager.ts writes it (Content-Length), and without one (up to the next boundary)
  const withLength = Buffer.concat([1, 2, 3].map((n) => Buffer.concat([Buffer.from(`--vigieframe\r\nContent-Type: image/jpeg\r\nContent-Length: ${jpeg(n).length}\r\n\r\n`), jpeg(n), Buffer.from('\r\n')])));
  const noLength = Buffer.concat([...[1, 2, 3].map((n) => Buffer.concat([Buffer.from('--b\r\nContent-Type: image/jpeg\r\n\r\n'), jpeg(n), Buffer.from('\r\n')])), Buffer.from('--b\r\n')]);
  for (const [bytes, boundary] of [[withLength, 'vigieframe'], [noLength, 'b']] as const) {
    for (const cut of [1, 5, 17, bytes.length]) {
      const frames: number[][] = [];
      const r = new MultipartReader(boundary, (f: Uint8Array) => frames.push([...f]));
      for (let i = 0; i < bytes.length; i += cut) r.push(new Uint8Array(bytes.subarray(i, i + cut)));
      assert.deepEqual(frames, [1, 2, 3].map((n) => [...jpeg(n)]), `boundary ${boundary}, cut every ${cut} bytes`);
    }
  }
});

test('the picture\'s trouble: an interruption the relay reports first, else frozen, else none', async () => {
  // eslint-disable-next-line @typescript-eslint/ban-ts-comment
  // @ts-ignore -- plain JS module of the widget
  const { pictureProblem, PICTURE_WORDS, AIMED_STATES, offlineNote, refusalOfStatus, REFUSAL_WORDS } = await import('../../ui/components/camera-words.js');
  assert.equal(pictureProblem({ interruption: '', frozen: false }), '');
  assert.equal(pictureProblem({ interruption: '', frozen: true }), 'Picture frozen — camera not responding');
  assert.equal(pictureProblem({ interruption: 'interrupted', frozen: true }), 'Picture interrupted — reconnecting…', 'the encoder died: not a silent camera');
  assert.equal(pictureProblem({ interruption: 'not-responding', frozen: false }), 'Camera not responding — reconnecting…');
  // a code this console does not know still reads as an interruption, never as the server's text
  assert.equal(pictureProblem({ interruption: 'source http://x/live.ts ended', frozen: false }), PICTURE_WORDS.interrupted);
  // the relay's reason codes (lib/video/viewer-words.ts) all have words here
  const { interruptionNotice, refusalNotice } = await import('../../lib/video/viewer-words');
  const reasons: Record<string, string> = {
    timeout: 'not-responding', unreachable: 'not-responding', refused: 'not-responding',
    unauthorized: 'refused-login', forbidden: 'refused-login',
    'not-found': 'no-stream', 'no-video': 'no-stream', 'bad-url': 'no-stream',
    ended: 'interrupted', failed: 'interrupted', 'no-profile': 'interrupted', constructor: 'interrupted',
  };
  for (const [code, reason] of Object.entries(reasons)) {
    const n = interruptionNotice(Object.assign(new Error('x'), { code }));
    assert.equal(n.reason, reason, code);
    assert.equal(PICTURE_WORDS[n.reason], n.message, code);
  }
  for (const reason of ['busy', 'too-many-views', 'unknown-camera', 'server'] as const) assert.equal(REFUSAL_WORDS[reason], refusalNotice(reason).message);
  // one table for the relay and the console: the widget bundles lib/video/picture-words.ts, and holds no copy
  const words = await import('../../lib/video/picture-words');
  assert.equal(REFUSAL_WORDS, words.REFUSAL_WORDS, 'the refusals are the lib\'s own table');
  assert.deepEqual(PICTURE_WORDS, { frozen: 'Picture frozen — camera not responding', ...words.INTERRUPTION_WORDS }, 'the interruptions are the lib\'s, with the player\'s own "frozen"');
  assert.deepEqual([503, 429, 404, 500].map(refusalOfStatus), ['busy', 'too-many-views', 'unknown-camera', 'server']);
  assert.deepEqual(AIMED_STATES, ['moving', 'on-target'], 'no aim for a camera that waits, failed, left or found none');
  assert.equal(offlineNote({ link: 'offline', problem: 'not responding', sinceMs: 1000 }, () => '06:17:31'), 'Not responding since 06:17:31: no live picture or camera move until it answers again');
});

test('a waiting alert\'s reason names the holder the console lists by its time, only where it names that kind of alert', async () => {
  // eslint-disable-next-line @typescript-eslint/ban-ts-comment
  // @ts-ignore -- plain JS module of the widget
  const { nameBusyHolder } = await import('../../ui/components/camera-words.js');
  const wait = '; waiting up to 5 min for it to be free';
  assert.equal(nameBusyHolder(`camera A is busy with a scream alert${wait}`, { kind: 'Scream', when: '10:55:31' }), `camera A is busy with the scream alert of 10:55:31${wait}`);
  assert.equal(nameBusyHolder(`camera A is busy with an explosion alert${wait}`, { kind: 'Explosion', when: '10:55:31' }), `camera A is busy with the explosion alert of 10:55:31${wait}`);
  assert.equal(
    nameBusyHolder('all 2 cameras that can see it are busy (nearest, A, with a tyre skid alert)', { kind: 'Tyre skid', when: '06:00:01' }),
    'all 2 cameras that can see it are busy (nearest, A, with the tyre skid alert of 06:00:01)',
  );
  // a holder of another kind: the reason is of before the last change, and names nothing
  assert.equal(nameBusyHolder(`camera A is busy with a scream alert${wait}`, { kind: 'Gunshot', when: '10:55:31' }), `camera A is busy with a scream alert${wait}`);
  assert.equal(nameBusyHolder(`camera A is busy with a scream alert${wait}`, null), `camera A is busy with a scream alert${wait}`);
  assert.equal(nameBusyHolder('camera A looked here, then turned to gunshot alert of 10:55:31', { kind: 'Gunshot', when: '10:55:31' }), 'camera A looked here, then turned to gunshot alert of 10:55:31');
});

test('a camera request that moved no camera is said plainly: ptz-steer\'s words for people, a field check as "could not use it"', async () => {
  // eslint-disable-next-line @typescript-eslint/ban-ts-comment
  // @ts-ignore -- plain JS module of the widget
  const { moveNotMadeWords } = await import('../../ui/components/move-button.js');
  const clock = () => '10:55:31';
  assert.equal(moveNotMadeWords(undefined, clock), '');
  assert.equal(moveNotMadeWords({ operator: 'Ann', time: 1, why: 'refused', reason: 'no camera can look at it now' }, clock), 'ptz-steer refused Ann\'s camera request of 10:55:31: no camera can look at it now.');
  assert.equal(
    moveNotMadeWords({ operator: 'Ann', time: 1, why: 'refused', reason: 'payload.alertId: expected the id of an alert with a proposed move or waiting for a camera (got "a1")' }, clock),
    'ptz-steer refused Ann\'s camera request of 10:55:31: it could not use it (City IT find why in the Node-RED log). Try again; if it happens again, tell City IT.',
  );
  assert.match(moveNotMadeWords({ operator: 'Ann', time: 1, why: 'no-answer' }, clock), /^No answer from ptz-steer to Ann's camera request of 10:55:31: /);
});

test('a label\'s own class goes through placement (an offline camera\'s name is drawn red)', () => {
  const out = placeLabels([{ key: 'c', x: 50, y: 50, text: 'Cam — offline', cls: 'vg-plan-offline' }, { key: 's', x: 200, y: 50, text: 'Mast' }], { width: 400, height: 300 });
  assert.equal(out[0].cls, 'vg-plan-offline');
  assert.equal('cls' in out[1], false);
});
