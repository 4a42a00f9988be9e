import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Stft, makeWindow } from '../../lib/dsp/stft';
import { A_FIR_HALF_TAPS, A_FIR_MAX_ERROR_DB, aWeightingDb, AWeightingFilter, symmetricFir } from '../../lib/dsp/aweighting';
import { rmsDbfs } from '../../lib/dsp/levels';

function sine(fHz: number, fs: number, seconds: number, amp: number): Float32Array {
  const n = Math.round(fs * seconds);
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = amp * Math.sin((2 * Math.PI * fHz * i) / fs);
  return x;
}

// IEC 61672-1 A-weighting table (dB), at the exact base-ten frequencies 1000·10^(n/10) Hz
// that its nominal frequencies (31.5, 250, 4000 Hz...) stand for.
const exactHz = (n: number) => 1000 * Math.pow(10, n / 10);
const IEC_TABLE: [number, number][] = [
  [100, -19.1],
  [1000, 0.0],
  [10000, -2.5],
  [exactHz(-15), -39.4], // 31.5 Hz
  [exactHz(-6), -8.6], // 250 Hz
  [exactHz(6), 1.0], // 4 kHz
];

test('analytic A-weighting matches the IEC 61672 table within 0.1 dB', () => {
  for (const [f, expected] of IEC_TABLE) {
    const got = aWeightingDb(f);
    assert.ok(Math.abs(got - expected) <= 0.1, `${f} Hz: ${got.toFixed(3)} dB vs table ${expected}`);
  }
  assert.ok(Math.abs(aWeightingDb(1000)) < 0.001);
});

for (const fs of [48000, 44100]) {
  test(`A-weighting filter at ${fs} Hz: measured response of sines matches the table within 0.1 dB`, () => {
    for (const [f, expected] of IEC_TABLE) {
      const filt = new AWeightingFilter(fs);
      const x = sine(f, fs, 2, 0.5);
      const y = filt.process(x);
      // Skip the first second: the 20.6 Hz poles settle slowly.
      const gainDb = rmsDbfs(y.subarray(fs)) - rmsDbfs(x.subarray(fs));
      assert.ok(Math.abs(gainDb - expected) <= 0.1, `${f} Hz: measured ${gainDb.toFixed(3)} dB vs table ${expected}`);
      assert.ok(Math.abs(filt.responseDb(f) - aWeightingDb(f)) < 0.06, `${f} Hz: designed response vs analytic`);
    }
  });
}

test('A-weighting filter at 16 kHz is within 0.1 dB of the analytic curve up to 6.3 kHz', () => {
  const filt = new AWeightingFilter(16000);
  for (const f of [50, 100, 500, 1000, 2000, 4000, 6300]) {
    assert.ok(Math.abs(filt.responseDb(f) - aWeightingDb(f)) < 0.1, `${f} Hz`);
  }
});

test('A-weighting filter: the FIR is as short as the rate allows, and 16 kHz sines still match the table within 0.1 dB', () => {
  const f16 = new AWeightingFilter(16000);
  const f48 = new AWeightingFilter(48000);
  assert.ok(f16.firHalfTaps < f48.firHalfTaps, `16 kHz uses ${f16.firHalfTaps}, 48 kHz ${f48.firHalfTaps}`);
  assert.equal(f48.firHalfTaps, A_FIR_HALF_TAPS);
  // Measured with sines at 16 kHz against the IEC table, like the 48 kHz test (bands below 0.42 × fs).
  for (const [f, expected] of IEC_TABLE) {
    if (f > 0.42 * 16000) continue;
    const filt = new AWeightingFilter(16000);
    const x = sine(f, 16000, 2, 0.5);
    const gainDb = rmsDbfs(filt.process(x).subarray(16000)) - rmsDbfs(x.subarray(16000));
    assert.ok(Math.abs(gainDb - expected) <= 0.1, `${f} Hz: measured ${gainDb.toFixed(3)} dB vs table ${expected}`);
    assert.ok(Math.abs(filt.responseDb(f) - aWeightingDb(f)) <= 0.05 + A_FIR_MAX_ERROR_DB, `${f} Hz: designed response vs analytic`);
  }
});

test('A-weighting filter is streaming: block-wise equals one-shot', () => {
  const x = sine(300, 16000, 0.5, 0.3);
  const whole = new AWeightingFilter(16000).process(x);
  const f = new AWeightingFilter(16000);
  const parts = [f.process(x.subarray(0, 1000)), f.process(x.subarray(1000, 1001)), f.process(x.subarray(1001))];
  const joined = Float32Array.from(parts.flatMap((p) => Array.from(p)));
  assert.deepEqual(joined, whole);
  assert.throws(() => new AWeightingFilter(100), /"sampleRateHz" must be >= 1000/);
});

test('the folded symmetric FIR equals the plain dot product, for every half length and odd or even blocks', () => {
  let seed = 5;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff) * 2 - 1;
  for (const half of [4, 6, 8, 12, 16, A_FIR_HALF_TAPS]) {
    const n = 2 * half + 1;
    const fir = new Float64Array(n);
    for (let k = 0; k <= half; k++) fir[half - k] = fir[half + k] = rnd() / n;
    for (const len of [0, 1, 2, 3, 64, 257]) {
      const line = Float64Array.from({ length: len + n - 1 }, rnd);
      const out = new Float32Array(len);
      symmetricFir(fir, line, out);
      for (let i = 0; i < len; i++) {
        let want = 0;
        for (let j = 0; j < n; j++) want += fir[j] * line[i + j];
        assert.ok(Math.abs(out[i] - want) < 1e-6, `half ${half}, block of ${len}, output ${i}: ${out[i]} vs ${want}`);
      }
    }
  }
});

test('STFT: a sine lands in its bin with the windowed amplitude; silence is zero', () => {
  const stft = new Stft({ fftSize: 512, hop: 256 });
  const fs = 16000;
  const binHz = fs / 512;
  const x = sine(40 * binHz, fs, 0.25, 1);
  const frames = stft.power(x);
  assert.equal(frames.length, stft.frameCount(x.length));
  assert.equal(frames.length, 1 + Math.floor((x.length - 512) / 256));
  for (const p of frames) {
    assert.equal(p.length, 257);
    let best = 0;
    for (let b = 1; b < p.length; b++) if (p[b] > p[best]) best = b;
    assert.equal(best, 40);
    // Hann-windowed unit sine on a bin: |X| = N/4.
    assert.ok(Math.abs(Math.sqrt(p[40]) - 128) < 0.01, `peak ${Math.sqrt(p[40])}`);
    assert.ok(p[45] < 1e-6 * p[40]);
  }
  assert.equal(stft.binHz(40, fs), 1250);
  const silent = stft.powerFrame(new Float32Array(512));
  assert.ok(silent.every((v) => v === 0));
});

test('STFT: Parseval holds for a windowed frame', () => {
  const stft = new Stft({ fftSize: 256, window: 'hamming' });
  const x = new Float32Array(256);
  let seed = 3;
  for (let i = 0; i < 256; i++) x[i] = ((seed = (seed * 69069 + 1) >>> 0) / 2 ** 32) * 2 - 1;
  const w = makeWindow('hamming', 256);
  let timeEnergy = 0;
  for (let i = 0; i < 256; i++) timeEnergy += (x[i] * w[i]) ** 2;
  const p = stft.powerFrame(x);
  let freqEnergy = p[0] + p[128];
  for (let b = 1; b < 128; b++) freqEnergy += 2 * p[b];
  assert.ok(Math.abs(freqEnergy / 256 - timeEnergy) / timeEnergy < 1e-4);
});

test('STFT refuses a size that is not a power of two', () => {
  assert.throws(() => new Stft({ fftSize: 500 }), /"fftSize" must be a power of two/);
  assert.throws(() => new Stft({ fftSize: 512, hop: 0 }), /"hop"/);
});
