import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { EvalFile, parseCsv, poissonCdf, poissonInterval, readManifest, scoreEvaluation } from '../../lib/cli/eval-detect';

const ALERTS = ['gunshot', 'glass_break', 'scream'];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-eval-test-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

test('event-based: onset within 0.5 s and same label is a hit; outside or wrong label is not', () => {
  const files: EvalFile[] = [
    {
      path: 'a.wav',
      durationS: 30,
      refs: [
        { label: 'gunshot', onset: 5 },
        { label: 'glass_break', onset: 12 },
        { label: 'scream', onset: 20 },
      ],
      detections: [
        { label: 'gunshot', onset: 5.4 }, // tp (0.4 s)
        { label: 'gunshot', onset: 5.45 }, // duplicate of a matched event: fp
        { label: 'glass_break', onset: 12.6 }, // 0.6 s late: fp, and the reference is missed
        { label: 'gunshot', onset: 20.1 }, // wrong label at the scream: substitution
      ],
    },
  ];
  const s = scoreEvaluation(files, ALERTS);
  assert.deepEqual([s.classes.gunshot.tp, s.classes.gunshot.fp, s.classes.gunshot.fn], [1, 2, 0]);
  assert.deepEqual([s.classes.glass_break.tp, s.classes.glass_break.fp, s.classes.glass_break.fn], [0, 1, 1]);
  assert.deepEqual([s.classes.scream.tp, s.classes.scream.fp, s.classes.scream.fn], [0, 0, 1]);
  assert.equal(s.overall.tp, 1);
  assert.equal(s.overall.fp, 3);
  assert.equal(s.overall.fn, 2);
  // micro F1 = 2·1 / (2·1 + 3 + 2)
  assert.equal(s.overall.microF1, Math.round((2 / 7) * 1e4) / 1e4);
  // glass 12.6 is 0.6 s from its reference (not a substitution); the gunshot at 20.1 substitutes the scream
  assert.equal(s.overall.substitutions, 1);
  assert.equal(s.overall.deletions, 1);
  assert.equal(s.overall.insertions, 2);
  assert.equal(s.overall.errorRate, Math.round((4 / 3) * 1e4) / 1e4);
  assert.equal(s.classes.gunshot.precision, Math.round((1 / 3) * 1e4) / 1e4);
  assert.equal(s.classes.gunshot.recall, 1);
});

test('matching picks the closest detection for each reference', () => {
  const s = scoreEvaluation(
    [{ path: 'b.wav', durationS: 10, refs: [{ label: 'gunshot', onset: 2 }, { label: 'gunshot', onset: 2.8 }], detections: [{ label: 'gunshot', onset: 2.45 }, { label: 'gunshot', onset: 2.75 }] }],
    ALERTS,
  );
  // greedy by distance: 2.75↔2.8 (0.05) then 2.45↔2 (0.45): both hit
  assert.equal(s.classes.gunshot.tp, 2);
  assert.equal(s.classes.gunshot.fp, 0);
  assert.equal(s.overall.errorRate, 0);
});

test('clip-level rows: the label anywhere in the clip; other labels are false positives', () => {
  const files: EvalFile[] = [
    { path: 'g1.wav', durationS: 2, refs: [{ label: 'gunshot' }], detections: [{ label: 'gunshot', onset: 1.7 }, { label: 'gunshot', onset: 0.1 }] },
    { path: 'g2.wav', durationS: 2, refs: [{ label: 'gunshot' }], detections: [] },
    { path: 'gl.wav', durationS: 3, refs: [{ label: 'glass_break' }], detections: [{ label: 'scream', onset: 1 }] },
  ];
  const s = scoreEvaluation(files, ALERTS);
  assert.deepEqual([s.classes.gunshot.tp, s.classes.gunshot.fp, s.classes.gunshot.fn], [1, 0, 1]);
  assert.deepEqual([s.classes.glass_break.tp, s.classes.glass_break.fn], [0, 1]);
  assert.equal(s.classes.scream.fp, 1);
  assert.equal(s.overall.substitutions, 1);
  assert.equal(s.overall.referenceEvents, 3);
  assert.equal(s.falseAlarms.count, 0, 'files with alert references are not background audio');
});

test('background rows: every detection is a false alarm, counted per hour of such audio', () => {
  const files: EvalFile[] = [
    { path: 'traffic.wav', durationS: 1800, refs: [{ label: 'traffic' }], detections: [{ label: 'gunshot', onset: 100 }] },
    { path: 'quiet.wav', durationS: 1800, refs: [{ label: 'none' }], detections: [] },
    { path: 'speech.wav', durationS: 10, refs: [{ label: 'speech' }], detections: [{ label: 'speech', onset: 1 }] },
  ];
  const s = scoreEvaluation(files, ALERTS);
  assert.equal(s.falseAlarms.count, 1, 'non-alert labels detected (speech) are not alerts and not counted');
  assert.equal(s.falseAlarms.nonAlertSeconds, 3610);
  assert.equal(s.falseAlarms.perHour, Math.round((1 / (3610 / 3600)) * 1e4) / 1e4);
  // One alarm in about an hour: the exact interval of a count of 1, per 3610/3600 h.
  assert.deepEqual(
    s.falseAlarms.perHour95!.map((v) => Math.round(v * 100) / 100),
    [0.0253, 5.5716].map((v) => Math.round((v / (3610 / 3600)) * 100) / 100),
  );
  assert.equal(s.classes.gunshot.fp, 1);
  assert.equal(s.overall.referenceEvents, 0);
  assert.equal(s.overall.errorRate, null);
  assert.equal(s.overall.microF1, 0);
});

test('perfect detection scores F1 1 and error rate 0', () => {
  const s = scoreEvaluation(
    [
      { path: 'x.wav', durationS: 20, refs: [{ label: 'scream', onset: 3 }, { label: 'gunshot', onset: 9 }], detections: [{ label: 'gunshot', onset: 9.2 }, { label: 'scream', onset: 2.9 }] },
      { path: 'y.wav', durationS: 20, refs: [{ label: 'none' }], detections: [] },
    ],
    ALERTS,
  );
  assert.equal(s.overall.microF1, 1);
  assert.equal(s.overall.errorRate, 0);
  assert.equal(s.falseAlarms.perHour, 0);
  // None in 20 s says only that the rate is below about 660 per hour.
  assert.equal(Math.round(s.falseAlarms.perHour95![1]), Math.round(3.6889 / (20 / 3600)));
  assert.equal(s.falseAlarms.perHour95![0], 0);
});

test('exact Poisson intervals match published values (Garwood)', () => {
  // Tabulated 95 % limits of a Poisson mean for observed counts 0, 1, 7 and 50.
  const table: [number, number, number][] = [
    [0, 0, 3.6889],
    [1, 0.0253, 5.5716],
    [7, 2.8143, 14.4227],
    [50, 37.1112, 65.9193],
  ];
  for (const [k, lo, hi] of table) {
    const [l, h] = poissonInterval(k);
    assert.ok(Math.abs(l - lo) < 1e-3, `count ${k}: lower ${l}, expected ${lo}`);
    assert.ok(Math.abs(h - hi) < 1e-3, `count ${k}: upper ${h}, expected ${hi}`);
  }
  assert.ok(Math.abs(poissonCdf(3, 2) - 0.857123) < 1e-6);
  assert.throws(() => poissonInterval(-1), /count: expected a non-negative integer, got -1/);
  assert.throws(() => poissonInterval(1.5), /count/);
  assert.throws(() => poissonInterval(3, 95), /level: expected a probability between 0 and 1, got 95/);
  // Large counts stay finite (the sums are in log space): about count ± 2√count.
  const [l1000, h1000] = poissonInterval(1000);
  assert.ok(l1000 > 937 && l1000 < 940 && h1000 > 1062 && h1000 < 1065, `count 1000: [${l1000}, ${h1000}]`);
});

test('CSV with quotes and a manifest with optional onset columns', () => {
  assert.deepEqual(parseCsv('a,b\r\n"x, y","say ""hi"""\n\n1,2'), [
    ['a', 'b'],
    ['x, y', 'say "hi"'],
    ['1', '2'],
  ]);
  const m = path.join(tmp, 'm.csv');
  fs.writeFileSync(m, 'path,label,onset,offset,license\nmix/a.wav,gunshot,1.5,1.9,"CC-BY, 3.0"\nclips/b.wav,scream,,,x\n');
  assert.deepEqual(readManifest(m), [
    { path: 'mix/a.wav', label: 'gunshot', onset: 1.5, offset: 1.9 },
    { path: 'clips/b.wav', label: 'scream', onset: undefined, offset: undefined },
  ]);
  fs.writeFileSync(m, 'file,label\na.wav,gunshot\n');
  assert.throws(() => readManifest(m), /"path" and "label"/);
  fs.writeFileSync(m, 'path,label,onset\na.wav,gunshot,soon\n');
  assert.throws(() => readManifest(m), /line 2: onset must be seconds/);
});
