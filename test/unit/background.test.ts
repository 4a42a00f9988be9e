import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BackgroundLevel } from '../../lib/detect/background';

test('L90 ignores short loud events', () => {
  const bg = new BackgroundLevel({ windowS: 60, periodS: 0.125 });
  for (let i = 0; i < 480; i++) {
    // 50 dB street with ±2 dB wobble; a loud 70-90 dB event 5 % of the time
    const loud = i % 20 === 0;
    bg.push(loud ? 70 + (i % 3) * 10 : 50 + 2 * Math.sin(i / 7));
  }
  const l = bg.levelDb!;
  assert.ok(l > 47.5 && l < 49, `L90 ${l}`);
});

test('follows a street that gets busier within the window, not before', () => {
  const bg = new BackgroundLevel({ windowS: 10, periodS: 0.1 });
  for (let i = 0; i < 100; i++) bg.push(40);
  for (let i = 0; i < 50; i++) bg.push(60);
  assert.equal(bg.levelDb, 40, 'half the window louder: L90 still the quiet level');
  for (let i = 0; i < 60; i++) bg.push(60);
  assert.equal(bg.levelDb, 60, 'after the window has turned over: the new level');
});

test('exact percentile on a ramp', () => {
  const bg = new BackgroundLevel({ windowS: 10, periodS: 0.1, exceededPercent: 90 });
  for (let i = 0; i < 100; i++) bg.push(i); // 0..99
  assert.equal(bg.levelDb, 9); // exceeded by 90 of the 100 values
  const l50 = new BackgroundLevel({ windowS: 10, periodS: 0.1, exceededPercent: 50 });
  for (let i = 0; i < 100; i++) l50.push(99 - i);
  assert.equal(l50.levelDb, 49);
});

test('undefined until a second of levels, digital silence clamped', () => {
  const bg = new BackgroundLevel({ periodS: 0.125 });
  for (let i = 0; i < 7; i++) bg.push(-Infinity);
  assert.equal(bg.levelDb, undefined);
  bg.push(-Infinity);
  assert.equal(bg.levelDb, -200);
  assert.throws(() => new BackgroundLevel({ exceededPercent: 100 }), /exceededPercent/);
});
