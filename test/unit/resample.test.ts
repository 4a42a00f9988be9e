import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { CLASSIFIER_KERNEL, resample, Resampler } from '../../lib/audio/resample';

function tone(freqHz: number, rateHz: number, seconds: number, amp = 0.5, phase = 0): Float32Array {
  const n = Math.round(rateHz * seconds);
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = amp * Math.sin((2 * Math.PI * freqHz * i) / rateHz + phase);
  return x;
}

/** RMS over the middle of the signal (away from the zero-padded edges). */
function midRms(x: Float32Array, skip: number): number {
  let s = 0;
  let n = 0;
  for (let i = skip; i < x.length - skip; i++) {
    s += x[i] * x[i];
    n++;
  }
  return Math.sqrt(s / n);
}

const db = (ratio: number) => 20 * Math.log10(ratio);

test('48k→16k: output length and time alignment with the analytic tone', () => {
  const x = tone(1000, 48000, 0.5, 0.5, 0.3);
  const y = resample(x, 48000, 16000);
  assert.equal(y.length, Math.ceil(x.length / 3));
  const expected = tone(1000, 16000, 0.5, 0.5, 0.3);
  let maxErr = 0;
  for (let i = 200; i < y.length - 200; i++) maxErr = Math.max(maxErr, Math.abs(y[i] - expected[i]));
  assert.ok(maxErr < 1e-3, `max error vs analytic ${maxErr}`);
});

test('48k→16k passband is flat: 100 Hz .. 7 kHz within ±0.1 dB', () => {
  for (const f of [100, 1000, 3000, 5000, 6500, 7000]) {
    const y = resample(tone(f, 48000, 0.3), 48000, 16000);
    const gainDb = db(midRms(y, 300) / (0.5 / Math.SQRT2));
    assert.ok(Math.abs(gainDb) < 0.1, `${f} Hz: gain ${gainDb.toFixed(3)} dB`);
  }
});

test('48k→16k stopband: tones from 8.5 kHz up are attenuated more than 60 dB', () => {
  for (const f of [8500, 10000, 12000, 15000, 20000, 23000]) {
    const y = resample(tone(f, 48000, 0.3), 48000, 16000);
    const gainDb = db(midRms(y, 300) / (0.5 / Math.SQRT2));
    assert.ok(gainDb < -60, `${f} Hz: gain ${gainDb.toFixed(1)} dB`);
  }
});

test('44.1k→16k and 16k→48k and a non-integer ratio keep a tone and its level', () => {
  for (const [from, to] of [
    [44100, 16000],
    [16000, 48000],
    [22050, 48000],
    [48000, 47999.3], // clock-drift correction: interpolated phases
  ]) {
    const x = tone(440, from, 0.4, 0.5);
    const y = resample(x, from, to);
    assert.equal(y.length, Math.ceil(x.length * (to / from) - 1e-9), `${from}→${to} length`);
    const expected = tone(440, to, 0.4, 0.5);
    let maxErr = 0;
    for (let i = 500; i < y.length - 500; i++) maxErr = Math.max(maxErr, Math.abs(y[i] - expected[i]));
    assert.ok(maxErr < 2e-3, `${from}→${to}: max error vs analytic ${maxErr}`);
  }
});

test('upsampling creates no image above the original Nyquist frequency', () => {
  // 16k→48k of a 6 kHz tone: an image would appear at 10 kHz. Measure it by downsampling the
  // result's band above 8 kHz: subtract the ideal tone and check the residue.
  const y = resample(tone(6000, 16000, 0.3), 16000, 48000);
  const ideal = tone(6000, 48000, 0.3);
  const residue = new Float32Array(y.length);
  for (let i = 0; i < y.length; i++) residue[i] = y[i] - ideal[i];
  const resDb = db(midRms(residue, 600) / (0.5 / Math.SQRT2));
  assert.ok(resDb < -60, `residue ${resDb.toFixed(1)} dB`);
});

test('streaming with arbitrary block sizes equals the one-shot result', () => {
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  const x = new Float32Array(20000);
  for (let i = 0; i < x.length; i++) x[i] = rnd() * 2 - 1;
  for (const [from, to] of [
    [48000, 16000],
    [16000, 44100],
    [48000, 47990.5],
  ]) {
    const whole = resample(x, from, to);
    const r = new Resampler(from, to);
    const parts: Float32Array[] = [];
    let i = 0;
    while (i < x.length) {
      const n = Math.min(x.length - i, 1 + Math.floor(rnd() * 1500));
      parts.push(r.process(x.subarray(i, i + n)));
      i += n;
    }
    parts.push(r.flush());
    const joined = Float32Array.from(parts.flatMap((p) => Array.from(p)));
    assert.equal(joined.length, whole.length, `${from}→${to} length`);
    for (let k = 0; k < whole.length; k++) assert.ok(Math.abs(joined[k] - whole[k]) < 1e-6, `${from}→${to} sample ${k}`);
  }
});

test('same rate copies; bad rates are refused naming the argument', () => {
  const x = Float32Array.from([0.1, 0.2, 0.3]);
  const y = resample(x, 16000, 16000);
  assert.deepEqual(Array.from(y), Array.from(x));
  assert.notEqual(y, x);
  assert.throws(() => resample(x, 0, 16000), /"fromHz" must be a positive number/);
  assert.throws(() => new Resampler(16000, NaN), /"toHz"/);
});

test('48k→16k with the classifier kernel: flat to 6 kHz, −3 dB near 7.5 kHz, more than 60 dB down from 9.5 kHz, a third of the taps', () => {
  const gainDbAt = (f: number) => db(midRms(resample(tone(f, 48000, 0.3), 48000, 16000, CLASSIFIER_KERNEL), 300) / (0.5 / Math.SQRT2));
  for (const f of [100, 1000, 3000, 5000, 6000]) assert.ok(Math.abs(gainDbAt(f)) < 0.1, `${f} Hz: gain ${gainDbAt(f).toFixed(3)} dB`);
  const at7500 = gainDbAt(7500);
  assert.ok(at7500 > -4 && at7500 < -2, `7.5 kHz: gain ${at7500.toFixed(2)} dB`);
  for (const f of [9500, 10000, 15000, 23000]) assert.ok(gainDbAt(f) < -60, `${f} Hz: gain ${gainDbAt(f).toFixed(1)} dB`);
  assert.equal(new Resampler(48000, 16000, CLASSIFIER_KERNEL).lookaheadFrames * 3, new Resampler(48000, 16000).lookaheadFrames);
});

test('the classifier kernel has the response of ffmpeg\'s default resampler, which made the training clips (real ffmpeg)', () => {
  // One signal of several sines at once; each frequency's level is read by a single-bin DFT.
  const freqs = [1000, 5000, 6500, 7000, 7250, 7500, 7750, 7900];
  const n = 48000;
  const x = new Float32Array(n);
  freqs.forEach((f, k) => {
    for (let i = 0; i < n; i++) x[i] += 0.1 * Math.sin((2 * Math.PI * f * i) / 48000 + k);
  });
  const out = execFileSync('ffmpeg', ['-v', 'error', '-f', 'f32le', '-ar', '48000', '-ac', '1', '-i', 'pipe:0', '-ar', '16000', '-f', 'f32le', 'pipe:1'], { input: Buffer.from(x.buffer) });
  const byFfmpeg = new Float32Array(out.buffer.slice(out.byteOffset, out.byteOffset + out.length));
  const ours = resample(x, 48000, 16000, CLASSIFIER_KERNEL);
  // 0.5 s from the middle: every tone is a multiple of the 2 Hz bin spacing, so no leakage.
  const levelDb = (y: Float32Array, f: number) => {
    let re = 0;
    let im = 0;
    for (let i = 4000; i < 12000; i++) {
      re += y[i] * Math.cos((2 * Math.PI * f * i) / 16000);
      im += y[i] * Math.sin((2 * Math.PI * f * i) / 16000);
    }
    return db(Math.hypot(re, im) / (0.1 * 4000));
  };
  for (const f of freqs) {
    const want = levelDb(byFfmpeg, f);
    const got = levelDb(ours, f);
    assert.ok(Math.abs(got - want) < 0.5, `${f} Hz: ours ${got.toFixed(2)} dB, ffmpeg ${want.toFixed(2)} dB`);
  }
  // The old cutoff (0.95) fails this comparison: the test can tell the two kernels apart.
  const old = resample(x, 48000, 16000, { halfZeros: CLASSIFIER_KERNEL.halfZeros });
  assert.ok(Math.abs(levelDb(old, 7500) - levelDb(byFfmpeg, 7500)) > 1, 'cutoff 0.95 at 7.5 kHz');
});

test('Resampler refuses a cutoff outside 0.5..1', () => {
  for (const cutoff of [0, 0.2, 1.2, Number.NaN]) {
    assert.throws(() => new Resampler(48000, 16000, { cutoff }), /"cutoff" must be a fraction of the lower Nyquist frequency from 0.5 to 1/);
  }
});

test('Resampler refuses a kernel length that is not a small positive integer', () => {
  for (const halfZeros of [0, 2.5, -16, 1000, Number.NaN]) {
    assert.throws(() => new Resampler(48000, 16000, { halfZeros }), /halfZeros.*integer from 4 to 256/);
  }
});

test('exact ratios equal the plain sum of the kernel over the input, whatever the blocks (checks the folded integer decimation)', () => {
  let seed = 11;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  const x = new Float32Array(6000);
  for (let i = 0; i < x.length; i++) x[i] = rnd() * 2 - 1;
  const cases: Array<[number, number, typeof CLASSIFIER_KERNEL]> = [
    [48000, 16000, CLASSIFIER_KERNEL],
    [48000, 16000, {}],
    [32000, 16000, CLASSIFIER_KERNEL],
    [96000, 16000, CLASSIFIER_KERNEL],
    [48000, 8000, {}],
    [44100, 14700, { halfZeros: 5 }],
    [22050, 11025, {}],
    [44100, 16000, CLASSIFIER_KERNEL],
    [16000, 48000, {}],
  ];
  // The microphones' rate to the model's takes the folded path, with the classifier's kernel or the default.
  for (const opts of [CLASSIFIER_KERNEL, {}]) assert.equal(new Resampler(48000, 16000, opts).foldsKernel, true, `48k→16k folded (${JSON.stringify(opts)})`);
  assert.equal(new Resampler(44100, 16000, CLASSIFIER_KERNEL).foldsKernel, false, 'not an integer ratio: no fold');
  assert.equal(new Resampler(16000, 48000, {}).foldsKernel, false, 'up: no fold');
  for (const [from, to, opts] of cases) {
    const r = new Resampler(from, to, opts);
    const parts: Float32Array[] = [];
    let i = 0;
    while (i < x.length) {
      const n = Math.min(x.length - i, 1 + Math.floor(rnd() * 700));
      parts.push(r.process(x.subarray(i, i + n)));
      i += n;
    }
    parts.push(r.flush());
    const y = Float32Array.from(parts.flatMap((p) => Array.from(p)));
    // Output n sits at input instant n·from/to = base + phase/up; silence outside the input.
    const g = (a: number, b: number): number => (b ? g(b, a % b) : a);
    const up = to / g(from, to);
    const down = from / g(from, to);
    const half = r.lookaheadFrames;
    const rows = Array.from({ length: up }, (_, p) => r.kernelRow(p));
    assert.equal(y.length, Math.ceil((x.length * up) / down), `${from}→${to} length`);
    let worst = 0;
    for (let n = 0; n < y.length; n++) {
      const base = Math.floor((n * down) / up);
      const row = rows[(n * down) % up];
      let want = 0;
      for (let j = 0; j < row.length; j++) {
        const k = base - half + 1 + j;
        if (k >= 0 && k < x.length) want += row[j] * x[k];
      }
      worst = Math.max(worst, Math.abs(y[n] - want));
    }
    assert.ok(worst < 1e-6, `${from}→${to} (${JSON.stringify(opts)}): largest difference from the plain sum ${worst}`);
  }
});
