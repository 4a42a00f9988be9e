import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ccAt, gccPhat, gccPhatSpectra, nextPow2, powerSpectrum, spectrum } from '../../lib/localize/gccphat';
import { NOISE_MAX_SEGMENTS, NOISE_MIN_LEAD_MS, noiseReference } from '../../lib/localize/srp';
import { fractionalDelayKernel } from '../../lib/sim/propagate';
import { gaussian, makeRng } from '../../lib/sim/signals';
import { bandNoise } from '../support/plane-wave';

/** x delayed by `d` samples (windowed-sinc fractional delay, long kernel for accuracy). */
function delayed(x: Float32Array, d: number): Float32Array {
  const { offset, kernel } = fractionalDelayKernel(d + 64, 64);
  const y = new Float32Array(x.length);
  for (let n = 0; n < y.length; n++) {
    let acc = 0;
    for (let k = 0; k < kernel.length; k++) {
      const j = n - offset - k + 64;
      if (j >= 0 && j < x.length) acc += kernel[k] * x[j];
    }
    y[n] = acc;
  }
  return y;
}

function noise(n: number, seed: number, gain = 1): Float32Array {
  const rng = makeRng(seed);
  return Float32Array.from({ length: n }, () => gain * gaussian(rng));
}

describe('GCC-PHAT', () => {
  it('finds integer and sub-sample delays to a few hundredths of a sample', () => {
    const x = noise(2048, 1);
    for (const d of [0, 1, -3, 0.25, 2.6, -1.4, 7.75]) {
      const y = delayed(x, d);
      const r = gccPhat(x.subarray(200, 1800), y.subarray(200, 1800), { maxLagSamples: 12 });
      assert.ok(Math.abs(r.lagSamples - d) < 0.05, `delay ${d}: got ${r.lagSamples}`);
      assert.ok(r.peak > 0.5, `peak ${r.peak}`);
    }
  });

  it('says b lags a with a positive delay (the sign convention the DOA relies on)', () => {
    const x = noise(2048, 2);
    const later = delayed(x, 4.5);
    assert.ok(gccPhat(x, later, { maxLagSamples: 10 }).lagSamples > 4);
    assert.ok(gccPhat(later, x, { maxLagSamples: 10 }).lagSamples < -4);
  });

  it('still finds the delay with independent noise at 0 dB SNR on each channel', () => {
    const x = noise(4096, 3);
    const y = delayed(x, -2.3);
    const na = noise(4096, 10);
    const nb = noise(4096, 11);
    const a = x.map((v, i) => v + na[i]);
    const b = y.map((v, i) => v + nb[i]);
    const r = gccPhat(a.subarray(200, 3800), b.subarray(200, 3800), { maxLagSamples: 10 });
    assert.ok(Math.abs(r.lagSamples + 2.3) < 0.15, `got ${r.lagSamples}`);
  });

  it('has no clear peak between unrelated signals', () => {
    const r = gccPhat(noise(2048, 4), noise(2048, 5), { maxLagSamples: 10 });
    assert.ok(r.peak < 0.2, `peak ${r.peak}`);
  });
});

describe('GCC-PHAT sub-sample refinement and lookup', () => {
  it('places delays halfway between the interpolated lags (1/16 sample off the grid) to a hundredth of a sample', () => {
    const x = noise(2048, 7);
    for (const d of [0.3125, -1.4375, 2.5625, 4.6875]) {
      const y = delayed(x, d);
      const r = gccPhat(x.subarray(200, 1800), y.subarray(200, 1800), { maxLagSamples: 12 });
      assert.ok(Math.abs(r.lagSamples - d) < 0.02, `delay ${d}: got ${r.lagSamples}`);
    }
  });

  it('ccAt reads the correlation linearly between its points, and its end values beyond them', () => {
    const r = { lagSamples: 0, peak: 1, interp: 2, maxLag: 1, cc: Float64Array.from([1, 3, 4, 9, 16]) };
    // points at lags −1, −0.5, 0, 0.5, 1
    assert.equal(ccAt(r, 0), 4);
    assert.equal(ccAt(r, 0.125), 0.75 * 4 + 0.25 * 9);
    assert.equal(ccAt(r, -0.625), 0.25 * 1 + 0.75 * 3);
    assert.equal(ccAt(r, -3), 1);
    assert.equal(ccAt(r, 3), 16);
  });
});

describe('GCC-PHAT weighted by the SNR over a noise reference', () => {
  it('bins where only the steady background is heard count for nothing: a hiss above the event band does not take the peak', () => {
    const fs = 48000;
    const onset = 20000;
    // The event (300 Hz–3 kHz) reaches b 3.4 samples after a; a steady hiss (3.3–22 kHz, most of
    // the bins) reaches b 6 samples before a, and is in the noise reference too, as is each
    // microphone's own noise.
    const event = Float32Array.from(bandNoise(1, fs, 300, 3000, (t) => (t * fs < onset ? 0 : Math.exp(-(t * fs - onset) / (0.08 * fs)))));
    const hiss = Float32Array.from(bandNoise(2, fs, 3300, 22000));
    const eventB = delayed(event, 3.4);
    const hissB = delayed(hiss, -6);
    const ownA = noise(event.length, 7, 0.001);
    const ownB = noise(event.length, 8, 0.001);
    const a = event.map((v, i) => v + 0.05 * hiss[i] + ownA[i]);
    const b = eventB.map((v, i) => v + 0.05 * hissB[i] + ownB[i]);
    // 40 ms from 2 ms before the onset (the edge taper must not cut the event), as the DOA takes it.
    const len = Math.round(0.04 * fs);
    const n = 4096;
    const start = onset - 96;
    const before = (x: Float32Array) => powerSpectrum(x.subarray(onset - 8 * len - 240, onset - 240), n, len);
    const A = spectrum(a.subarray(start, start + len), n);
    const B = spectrum(b.subarray(start, start + len), n);
    const weighted = gccPhatSpectra(A, B, n, { maxLagSamples: 10, sampleRate: fs, noiseA: before(a), noiseB: before(b) });
    assert.ok(Math.abs(weighted.lagSamples - 3.4) < 0.15, `with the noise reference: ${weighted.lagSamples.toFixed(2)} samples (the event's 3.4)`);
    // Unweighted, the hiss's many bins win: the case needs the weighting.
    const plain = gccPhatSpectra(A, B, n, { maxLagSamples: 10, sampleRate: fs });
    assert.ok(Math.abs(plain.lagSamples + 6) < 0.5, `without it: ${plain.lagSamples.toFixed(2)} samples (the hiss's −6)`);
  });
});

describe('the noise reference before the onset, as the direction finder takes it', () => {
  // The DOA's window: from 2 ms before the onset, `len` samples, zero-padded to n; the reference ends 5 ms before the onset.
  const windowOf = (fs: number, windowMs: number) => {
    const len = Math.round((windowMs / 1000) * fs);
    return { len, n: nextPow2(2 * len), preFrames: Math.round(0.002 * fs), marginFrames: Math.round(0.005 * fs) };
  };

  it('has the level of the event window for steady white noise, in every quarter of the band (0 dB within 1 dB), whatever the window length (n/len 2.1 to 3.4) and lead-in, shorter than the window included', () => {
    for (const [fs, windowMs] of [
      [48000, 20],
      [48000, 60],
      [48000, 150],
      [16000, 20],
      [16000, 150],
    ]) {
      const { len, n, preFrames, marginFrames } = windowOf(fs, windowMs);
      // Under one window length (60 and 150 ms windows after a short lead-in): one shorter segment, scaled.
      const shortLeads = [0.25, 0.5].filter((w) => w * windowMs >= NOISE_MIN_LEAD_MS);
      for (const leadWindows of [...shortLeads, 1, 2.5, NOISE_MAX_SEGMENTS + 4]) {
        const onset = Math.round(leadWindows * len) + marginFrames;
        const eventPower = new Float64Array(n / 2 + 1);
        const refPower = new Float64Array(n / 2 + 1);
        for (let trial = 0; trial < 8; trial++) {
          // Steady noise before and during the window: the window's power is all noise.
          const ch = noise(onset - preFrames + len, 100 * windowMs + trial);
          const ref = noiseReference([ch], onset, len, n, fs);
          assert.ok(ref, `${windowMs} ms at ${fs} Hz, ${leadWindows} window lengths of lead-in: a reference is taken`);
          const X = spectrum(ch.subarray(onset - preFrames, onset - preFrames + len), n);
          for (let k = 0; k <= n / 2; k++) {
            eventPower[k] += X[2 * k] ** 2 + X[2 * k + 1] ** 2;
            refPower[k] += ref.power[0][k];
          }
        }
        for (let q = 0; q < 4; q++) {
          let e = 0;
          let r = 0;
          for (let k = 1 + (q * n) / 8; k < 1 + ((q + 1) * n) / 8; k++) {
            e += eventPower[k];
            r += refPower[k];
          }
          const db = 10 * Math.log10(e / r);
          assert.ok(Math.abs(db) < 1, `${windowMs} ms at ${fs} Hz (n/len ${(n / len).toFixed(2)}), ${leadWindows} window lengths of lead-in, quarter ${q + 1} of the band: window over reference ${db.toFixed(2)} dB`);
        }
      }
    }
  });

  it('is taken from NOISE_MIN_LEAD_MS of lead-in on (beyond the 5 ms before the onset), not from less, and counts its segments', () => {
    for (const [fs, windowMs] of [
      [48000, 20],
      [48000, 150],
      [16000, 60],
    ]) {
      const { len, n, marginFrames } = windowOf(fs, windowMs);
      const minFrames = Math.round((NOISE_MIN_LEAD_MS / 1000) * fs);
      const ch = noise(NOISE_MAX_SEGMENTS * 2 * len + marginFrames, 5);
      const segmentsAt = (leadFrames: number) => noiseReference([ch], leadFrames + marginFrames, len, n, fs)?.segments ?? null;
      assert.equal(segmentsAt(minFrames), 1, `${windowMs} ms at ${fs} Hz: ${NOISE_MIN_LEAD_MS} ms of lead-in is one (shorter) segment`);
      assert.equal(segmentsAt(minFrames - 1), null, `${windowMs} ms at ${fs} Hz: one sample less is none`);
      assert.equal(segmentsAt(len), 1, `${windowMs} ms at ${fs} Hz: one window length is one segment`);
      assert.equal(segmentsAt(Math.round(2.5 * len)), 2, `${windowMs} ms at ${fs} Hz: 2.5 window lengths are two segments`);
      assert.equal(segmentsAt(NOISE_MAX_SEGMENTS * 2 * len), NOISE_MAX_SEGMENTS, `${windowMs} ms at ${fs} Hz: at most ${NOISE_MAX_SEGMENTS}`);
    }
  });

  it('refuses a segment longer than the FFT or a signal shorter than one segment, naming the field', () => {
    assert.throws(() => powerSpectrum(noise(4096, 6), 1024, 2048), /segmentLen: expected 1\.\.1024/);
    assert.throws(() => powerSpectrum(noise(500, 6), 1024, 512), /x: a noise reference needs at least one segment of 512 samples, got 500/);
  });
});
