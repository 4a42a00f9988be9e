import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventTracker, FiredEvent, gatePasses } from '../../lib/detect/events';

const HOP = 0.25;
const WIN = 1;

/** Feed a score sequence (one per hop) for label "gunshot"; levels default to 20 dB above a 40 dB background. */
function feed(tr: EventTracker, scores: number[], opts: { levels?: number[]; background?: number; t0?: number } = {}): Array<FiredEvent & { at: number }> {
  const out: Array<FiredEvent & { at: number }> = [];
  scores.forEach((p, i) => {
    const startS = (opts.t0 ?? 0) + i * HOP;
    const fired = tr.update({
      startS,
      endS: startS + WIN,
      scores: { gunshot: p, speech: 0.99 },
      levelDb: opts.levels?.[i] ?? 60,
      backgroundDb: opts.background ?? 40,
    });
    for (const f of fired) out.push({ ...f, at: i });
  });
  return out;
}

test('one event per crossing; hysteresis keeps a wavering score as one event', () => {
  const tr = new EventTracker({ gunshot: { onThreshold: 0.6, offThreshold: 0.4 } });
  const ev = feed(tr, [0.1, 0.7, 0.5, 0.65, 0.45, 0.8, 0.2, 0.1]);
  assert.equal(ev.length, 1);
  assert.equal(ev[0].at, 1);
  assert.equal(ev[0].label, 'gunshot');
  assert.equal(ev[0].startS, 1 * HOP);
});

test('without hysteresis the same sequence would be two events: off threshold matters', () => {
  const tr = new EventTracker({ gunshot: { onThreshold: 0.6, offThreshold: 0.6 } });
  const ev = feed(tr, [0.1, 0.7, 0.5, 0.65, 0.45, 0.8, 0.2, 0.1]);
  assert.deepEqual(
    ev.map((e) => e.at),
    [1, 3, 5],
  );
});

test('scores below the on-threshold never fire, whatever the off-threshold', () => {
  const tr = new EventTracker({ gunshot: { onThreshold: 0.6, offThreshold: 0.2 } });
  assert.deepEqual(feed(tr, [0.3, 0.59, 0.5, 0.59, 0.1]), []);
});

test('minimum duration: a single high window is not enough, a sustained run is', () => {
  const tr = new EventTracker({ gunshot: { onThreshold: 0.6, offThreshold: 0.4, minDurationMs: 500 } });
  const ev = feed(tr, [0.9, 0.1, 0.1, 0.9, 0.9, 0.1, 0.1, 0.9, 0.5, 0.5, 0.95, 0.1]);
  // run at 3..4 lasts 250 ms (too short); run at 7..10 lasts 750 ms: reported at 500 ms (index 9)
  assert.equal(ev.length, 1);
  assert.equal(ev[0].at, 9);
  assert.equal(ev[0].startS, 7 * HOP);
  assert.equal(ev[0].confidence, 0.9);
});

test('cool-down suppresses a second event of the same class, not after it expires', () => {
  const tr = new EventTracker({ gunshot: { onThreshold: 0.5, coolDownMs: 2000 } });
  // events starting at windows 0, 4 (1 s later, suppressed), 12 (3 s after the first report)
  const s = [0.9, 0.1, 0.1, 0.1, 0.9, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.9, 0.1];
  const ev = feed(tr, s);
  assert.deepEqual(
    ev.map((e) => e.at),
    [0, 12],
  );
});

test('a suppressed event stays unreported even when it outlasts the cool-down', () => {
  const tr = new EventTracker({ gunshot: { onThreshold: 0.5, coolDownMs: 1000 } });
  const s = [0.9, 0.1, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.1];
  assert.deepEqual(
    feed(tr, s).map((e) => e.at),
    [0],
  );
});

test('level gate: dB above background', () => {
  const tr = new EventTracker({ gunshot: { onThreshold: 0.5 } }, { minAboveBackgroundDb: 10 });
  // same high scores; only the window 12 dB above the 40 dB background may start an event
  const ev = feed(tr, [0.9, 0.1, 0.9, 0.1, 0.9, 0.1], { levels: [45, 45, 49.9, 45, 52, 45], background: 40 });
  assert.deepEqual(
    ev.map((e) => e.at),
    [4],
  );
  assert.equal(ev[0].levelDb, 52);
});

test('level gate: absolute level', () => {
  const tr = new EventTracker({ gunshot: { onThreshold: 0.5 } }, { minLevelDb: 70 });
  const ev = feed(tr, [0.9, 0.1, 0.9, 0.1], { levels: [65, 65, 75, 65] });
  assert.deepEqual(
    ev.map((e) => e.at),
    [2],
  );
});

test('gate with unknown background uses only the absolute level', () => {
  assert.equal(gatePasses({ minAboveBackgroundDb: 10 }, 50, undefined), true);
  assert.equal(gatePasses({ minAboveBackgroundDb: 10, minLevelDb: 60 }, 50, undefined), false);
  assert.equal(gatePasses({ minAboveBackgroundDb: 10 }, 50, 45), false);
  assert.equal(gatePasses({ minAboveBackgroundDb: 10 }, 55, 45), true);
  assert.equal(gatePasses({}, Number.NaN, undefined), true);
});

test('classes are independent and untracked labels never fire', () => {
  const tr = new EventTracker({ gunshot: { onThreshold: 0.5, coolDownMs: 5000 }, scream: { onThreshold: 0.7 } });
  const fired: string[] = [];
  const seq: Array<Record<string, number>> = [
    { gunshot: 0.9, scream: 0.1, speech: 1 },
    { gunshot: 0.1, scream: 0.8, speech: 1 },
    { gunshot: 0.9, scream: 0.1, speech: 1 },
  ];
  seq.forEach((scores, i) => {
    for (const f of tr.update({ startS: i, endS: i + 1, scores, levelDb: 60 })) fired.push(f.label);
  });
  assert.deepEqual(fired, ['gunshot', 'scream']);
});

test('bad thresholds are refused with the label named', () => {
  assert.throws(() => new EventTracker({ glass_break: { onThreshold: 1.5 } }), /glass_break/);
  assert.throws(() => new EventTracker({ scream: { onThreshold: 0.5, offThreshold: 0.7 } }), /off-threshold of "scream"/);
});

test('the level gate is inclusive: a window exactly at the absolute level, or exactly the margin above the background, passes', () => {
  assert.equal(gatePasses({ minLevelDb: 70 }, 70, undefined), true);
  assert.equal(gatePasses({ minLevelDb: 70 }, 69.9, undefined), false);
  assert.equal(gatePasses({ minAboveBackgroundDb: 10 }, 50, 40), true);
  assert.equal(gatePasses({ minAboveBackgroundDb: 10 }, 49.9, 40), false);
});

test('without an off-threshold the event lasts while windows score at least the on-threshold − 0.15', () => {
  // on 0.6: off is 0.45; 0.46 keeps the event going (one event), 0.44 ends it (a second one)
  assert.deepEqual(feed(new EventTracker({ gunshot: { onThreshold: 0.6 } }), [0.7, 0.46, 0.7]).map((e) => e.at), [0]);
  assert.deepEqual(feed(new EventTracker({ gunshot: { onThreshold: 0.6 } }), [0.7, 0.44, 0.7]).map((e) => e.at), [0, 2]);
  // never below 0.05: on 0.1 gives off 0.05
  assert.deepEqual(feed(new EventTracker({ gunshot: { onThreshold: 0.1 } }), [0.2, 0.05, 0.2]).map((e) => e.at), [0]);
  assert.deepEqual(feed(new EventTracker({ gunshot: { onThreshold: 0.1 } }), [0.2, 0.04, 0.2]).map((e) => e.at), [0, 2]);
});

test('cool-down ends at its length: an event whose first window ends exactly then is reported', () => {
  const tr = new EventTracker({ gunshot: { onThreshold: 0.5, coolDownMs: 1000 } });
  // first report at window 0 (ends at 1 s): cool-down until 2 s; window 4 ends at 2 s exactly
  assert.deepEqual(feed(tr, [0.9, 0.1, 0.1, 0.1, 0.9]).map((e) => e.at), [0, 4]);
});
