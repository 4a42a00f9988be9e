import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { encodeWav } from '../../lib/audio/wav';
import { DEFAULT_PAD_S, detectFile, main, mirroredTail } from '../../lib/cli/eval-detect';
import { ClassifierModel } from '../../lib/detect/model';

const FIX = path.join(__dirname, '..', 'fixtures', 'models');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-eval-cmd-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

async function capture(fn: (write: (t: string) => void) => Promise<number>): Promise<{ code: number; out: string }> {
  const chunks: string[] = [];
  const code = await fn((t) => chunks.push(t));
  return { code, out: chunks.join('') };
}

/** Deterministic low noise (about −43 dBFS), `amp` its peak. */
function noise(n: number, seed: number, amp = 0.01): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return amp * ((s / 2 ** 32) * 2 - 1);
  });
}

test('vigie eval detect runs files of a manifest through the detector and prints one JSON object', async () => {
  // a.wav: 3 s at 22.05 kHz stereo of low noise with a loud 50 ms burst at 1.2 s in both
  // channels, the gunshot its manifest row names; b.wav: 2 s at 16 kHz mono of low noise.
  // Exercises resampling and mixing: the burst must come out where it is in the file.
  const burst = noise(Math.round(0.05 * 22050), 7, 0.5);
  const a = [noise(3 * 22050, 1), noise(3 * 22050, 2)];
  for (const c of a) burst.forEach((v, i) => (c[Math.round(1.2 * 22050) + i] += v));
  fs.mkdirSync(path.join(tmp, 'clips'));
  fs.writeFileSync(path.join(tmp, 'clips', 'a.wav'), encodeWav(a, 22050));
  fs.writeFileSync(path.join(tmp, 'b.wav'), encodeWav([noise(2 * 16000, 3)], 16000));
  const manifest = path.join(tmp, 'm.csv');
  fs.writeFileSync(manifest, 'path,label,onset,offset\nclips/a.wav,gunshot,1.2,1.25\nb.wav,none,,\n');
  const { code, out } = await capture((w) => main(['--manifest', manifest, '--model', path.join(FIX, 'tiny-ok.onnx'), '--details'], w));
  assert.equal(code, 0);
  const r = JSON.parse(out);
  assert.equal(r.model, 'tiny-ok');
  assert.deepEqual(Object.keys(r.classes), ['gunshot']);
  assert.equal(r.overall.referenceEvents, 1);
  assert.equal(r.files, 2);
  assert.ok(Math.abs(r.audioSeconds - 5) < 1e-3, `audio seconds ${r.audioSeconds}`);
  assert.ok(r.cpuSeconds > 0 && r.realTimeFactor > 0);
  assert.equal(r.falseAlarms.nonAlertSeconds, 2);
  assert.deepEqual(r.details.map((d: { path: string }) => d.path), ['clips/a.wav', 'b.wav']);
  // The burst is found once, at its place in the file (a 22.05 kHz file read at its own rate).
  const [inA, inB] = r.details.map((d: { detections: Array<{ label: string; onset: number }> }) => d.detections);
  assert.equal(inA.length, 1, `detections in a.wav: ${JSON.stringify(inA)}`);
  assert.equal(inA[0].label, 'gunshot');
  assert.ok(Math.abs(inA[0].onset - 1.2) < 0.05, `burst onset ${inA[0].onset} s, expected 1.2 s`);
  // So the gunshot event is a true positive, none is missed, and a.wav adds no false positive;
  // every detection in the background-only b.wav is a false alarm (and a false positive).
  assert.deepEqual([r.classes.gunshot.tp, r.classes.gunshot.fn], [1, 0]);
  assert.equal(r.falseAlarms.count, inB.length);
  assert.equal(r.classes.gunshot.fp, inB.length);
  assert.equal(r.falseAlarms.perHour, inB.length * 1800);
  assert.deepEqual([r.overall.tp, r.overall.fp, r.overall.fn], [1, inB.length, 0]);
});

test('vigie eval detect: a file of steady background gives no false alarm, with or without the pad after it', async () => {
  // The pad used to be −80 dBFS noise: it pulled the L90 background down, and the level gate
  // opened on the file's own steady background near its end.
  fs.writeFileSync(path.join(tmp, 'steady.wav'), encodeWav([noise(2 * 16000, 3)], 16000));
  const manifest = path.join(tmp, 'steady.csv');
  fs.writeFileSync(manifest, 'path,label\nsteady.wav,none\n');
  for (const pad of ['0', '0.5']) {
    const { out } = await capture((w) => main(['--manifest', manifest, '--model', path.join(FIX, 'tiny-ok.onnx'), '--details', '--pad-s', pad], w));
    assert.deepEqual(JSON.parse(out).details[0].detections, [], `--pad-s ${pad}`);
  }
});

test('the shipped card describes the pad its event figures were measured with (its own end played backwards, not noise)', () => {
  // The figures were measured again when the pad changed; the card's text must say so too.
  const card = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'models', 'vigie-street-v1.json'), 'utf8'));
  const options: string = card.results.eventLevel.options;
  assert.match(options, new RegExp(`${DEFAULT_PAD_S} s of its own end played backwards`));
  assert.doesNotMatch(options, /dBFS after it/);
});

test('vigie eval detect: missing manifest option and unreadable model are clear errors', async () => {
  await assert.rejects(main([]), /--manifest is required/);
  const manifest = path.join(tmp, 'm2.csv');
  fs.writeFileSync(manifest, 'path,label\nb.wav,none\n');
  await assert.rejects(main(['--manifest', manifest, '--model', path.join(tmp, 'nope.onnx')]), /nope\.onnx cannot be read/);
  // out-of-range settings are refused before any file is read, naming the option and the range
  await assert.rejects(main(['--manifest', manifest, '--threshold', '1.5']), /--threshold: expected a number from 0\.01 to 1, got "1\.5"/);
  await assert.rejects(main(['--manifest', manifest, '--min-duration-ms', '-5']), /--min-duration-ms: expected a number of ms from 0 to 10000, got "-5"/);
  await assert.rejects(main(['--manifest', manifest, '--pad-s', '-1']), /--pad-s: expected a number of seconds from 0 to 60, got "-1"/);
  await assert.rejects(main(['--manifest', manifest, '--hop-ms', '']), /--hop-ms: expected a number of ms from 10 to 10000, got ""/);
  await assert.rejects(main(['--manifest', manifest, '--hysteresis', 'wide']), /--hysteresis: expected a number from 0 to 0\.9, got "wide"/);
});

test('eval detect reads a file as a stream that starts with it: no onset at its start from a quiet lead-in', async () => {
  // 3 s of steady noise at -40 dBFS: a street that was already there when the file began
  let seed = 5;
  const x = Float32Array.from({ length: 3 * 16000 }, () => {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    return 0.017 * ((seed / 2 ** 32) * 2 - 1);
  });
  const file = path.join(tmp, 'steady.wav');
  fs.writeFileSync(file, encodeWav([x], 16000));
  const model = await ClassifierModel.load(path.join(FIX, 'tiny-ok.onnx'));
  try {
    const r = await detectFile(model, file, {}, 0.5);
    assert.deepEqual(r.onsetsS.filter((t) => t < 2.9), [], `onsets ${r.onsetsS.map((t) => t.toFixed(3)).join(', ')}`);
    assert.ok(Math.abs(r.durationS - 3) < 1e-9);
  } finally {
    await model.release();
  }
});

test('eval detect --sensor-rate-hz: the file reaches the detector at the sensor rate, onsets keep their time', async () => {
  // quiet noise with a sharp burst at 1.5 s, at 16 kHz
  let seed = 9;
  const x = Float32Array.from({ length: 3 * 16000 }, (_, i) => {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    const u = (seed / 2 ** 32) * 2 - 1;
    return i >= 24000 && i < 24800 ? 0.5 * u : 0.003 * u;
  });
  const file = path.join(tmp, 'burst.wav');
  fs.writeFileSync(file, encodeWav([x], 16000));
  const model = await ClassifierModel.load(path.join(FIX, 'tiny-ok.onnx'));
  try {
    const native = await detectFile(model, file, {}, 0.5);
    const at48k = await detectFile(model, file, {}, 0.5, 48000);
    const near = (r: { onsetsS: number[] }) => r.onsetsS.filter((t) => Math.abs(t - 1.5) < 0.01);
    assert.equal(near(native).length, 1, `16 kHz onsets ${native.onsetsS.join(', ')}`);
    assert.equal(near(at48k).length, 1, `48 kHz onsets ${at48k.onsetsS.join(', ')}`);
    assert.ok(Math.abs(near(at48k)[0] - near(native)[0]) < 0.002, `${near(at48k)[0]} vs ${near(native)[0]}`);
    assert.ok(Math.abs(at48k.durationS - 3) < 1e-9, `duration ${at48k.durationS}`);
  } finally {
    await model.release();
  }
  const manifest = path.join(tmp, 'm3.csv');
  fs.writeFileSync(manifest, 'path,label\nburst.wav,none\n');
  const { out } = await capture((w) => main(['--manifest', manifest, '--model', path.join(FIX, 'tiny-ok.onnx'), '--sensor-rate-hz', '48000'], w));
  assert.equal(JSON.parse(out).sensorRateHz, 48000);
  await assert.rejects(main(['--manifest', manifest, '--sensor-rate-hz', '4000']), /--sensor-rate-hz: expected a whole number of Hz from 8000 to 192000, got "4000"/);
  await assert.rejects(main(['--manifest', manifest, '--sensor-rate-hz', '44100.5']), /--sensor-rate-hz: expected a whole number of Hz from 8000 to 192000, got "44100\.5"/);
});

test('the pad after a file is its end played backwards: same level, no step at the join', () => {
  const x = Float32Array.from([1, 2, 3, 4]);
  assert.deepEqual([...mirroredTail(x, 3)], [3, 2, 1]);
  // Longer than the file: back and forth over it.
  assert.deepEqual([...mirroredTail(x, 9)], [3, 2, 1, 2, 3, 4, 3, 2, 1]);
  assert.deepEqual([...mirroredTail(new Float32Array(0), 2)], [0, 0]);
});
