import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dbfs, Leq, LevelMeter, MIN_DB, peakDbfs, rmsDbfs, TimeWeighting, toSpl, FAST_TAU_S, SLOW_TAU_S } from '../../lib/dsp/levels';
import { aWeightingDb } from '../../lib/dsp/aweighting';

function sine(fHz: number, fs: number, seconds: number, amp: number): Float32Array {
  const n = Math.round(fs * seconds);
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = amp * Math.sin((2 * Math.PI * fHz * i) / fs);
  return x;
}

/** Peak amplitude of a sine whose RMS level is `db` dBFS. */
const ampFor = (db: number) => Math.SQRT2 * Math.pow(10, db / 20);

test('1 kHz sine at −20 dBFS reads −20 dBFS RMS, peak −17 dBFS', () => {
  const x = sine(1000, 48000, 1, ampFor(-20));
  assert.ok(Math.abs(rmsDbfs(x) - -20) < 0.01, `${rmsDbfs(x)}`);
  assert.ok(Math.abs(peakDbfs(x) - (-20 + 20 * Math.log10(Math.SQRT2))) < 0.01);
  assert.ok(Math.abs(dbfs(1) - 0) < 1e-12);
  assert.ok(Math.abs(rmsDbfs(sine(1000, 48000, 1, 1)) - -3.0103) < 0.01, 'full-scale sine is −3.01 dBFS RMS');
  assert.equal(rmsDbfs(new Float32Array(100)), MIN_DB);
});

test('LevelMeter: steady sines give Z and A levels equal to the analytic values', () => {
  for (const [f, level] of [
    [1000, -20],
    [100, -30],
    [10000, -10],
  ]) {
    const m = new LevelMeter({ sampleRateHz: 48000 });
    m.process(sine(f, 48000, 3, ampFor(level))); // 3 s: slow weighting settled (3 τ)
    m.takeLeq(); // drop the settling period of the A filter
    m.process(sine(f, 48000, 1, ampFor(level)));
    const r = m.reading();
    const expectedA = level + aWeightingDb(f);
    assert.ok(Math.abs(r.fastDbfs - level) < 0.2, `${f} Hz fast ${r.fastDbfs}`);
    assert.ok(Math.abs(r.leqDbfs - level) < 0.02, `${f} Hz Leq ${r.leqDbfs}`);
    assert.ok(Math.abs(r.leqDba - expectedA) < 0.1, `${f} Hz LeqA ${r.leqDba} vs ${expectedA}`);
    assert.ok(Math.abs(r.slowDba - expectedA) < 0.3, `${f} Hz slowA ${r.slowDba} vs ${expectedA}`);
  }
});

test('time weighting: step response reaches 1 − 1/e of the power after τ (fast and slow)', () => {
  const fs = 8000;
  for (const tau of [FAST_TAU_S, SLOW_TAU_S]) {
    const tw = new TimeWeighting(fs, tau);
    const step = new Float32Array(Math.round(tau * fs)).fill(0.5);
    tw.process(step);
    const expected = 10 * Math.log10(0.25 * (1 - Math.exp(-1)));
    assert.ok(Math.abs(tw.db - expected) < 0.02, `τ=${tau}: ${tw.db} vs ${expected}`);
    // Decay: 10·log10(e) = 4.34 dB per τ once the input stops.
    const settled = new TimeWeighting(fs, tau);
    settled.process(new Float32Array(Math.round(10 * tau * fs)).fill(0.5));
    const before = settled.db;
    settled.process(new Float32Array(Math.round(tau * fs)));
    assert.ok(Math.abs(before - settled.db - 4.343) < 0.02, `τ=${tau} decay ${before - settled.db}`);
  }
});

test('Leq averages energy over the period and restarts on take()', () => {
  const leq = new Leq();
  leq.process(sine(1000, 16000, 1, ampFor(-20)));
  leq.process(new Float32Array(16000));
  assert.equal(leq.frames, 32000);
  assert.ok(Math.abs(leq.take() - (-20 - 10 * Math.log10(2))) < 0.01);
  assert.equal(leq.db, MIN_DB);
  leq.process(sine(1000, 16000, 0.5, ampFor(-40)));
  assert.ok(Math.abs(leq.db - -40) < 0.01);
});

test('calibration offset turns dB(A) re full scale into dB SPL', () => {
  assert.equal(toSpl(-30, 120), 90);
  const m = new LevelMeter({ sampleRateHz: 16000, calibrationDb: 114 });
  m.process(sine(1000, 16000, 2, ampFor(-20)));
  const r = m.reading();
  assert.ok(r.leqDbaSpl !== undefined && Math.abs(r.leqDbaSpl - (r.leqDba + 114)) < 1e-9);
  assert.ok(Math.abs(r.leqDbaSpl! - 94) < 0.2, `${r.leqDbaSpl}`);
  assert.equal(new LevelMeter({ sampleRateHz: 16000 }).reading().fastDbaSpl, undefined);
  assert.throws(() => new LevelMeter({ sampleRateHz: 16000, calibrationDb: NaN }), /"calibrationDb"/);
});
