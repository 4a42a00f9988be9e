import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HighPass, OnsetDetector } from '../../lib/detect/onset';
import { gaussian, makeRng } from '../../lib/sim/signals';

/** Deterministic Gaussian noise, so failures reproduce. */
function rng(seed: number): () => number {
  const uniform = makeRng(seed);
  return () => gaussian(uniform);
}

type Shape = 'burst' | 'click' | 'tone';

/** An impulsive event starting exactly at sample 0. */
function event(shape: Shape, sr: number, amp: number, rand: () => number): Float32Array {
  const n = Math.round(sr * 0.25);
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const t = i / sr;
    if (shape === 'burst') x[i] = amp * Math.exp(-t / 0.02) * rand();
    else if (shape === 'click') x[i] = i < sr * 0.0005 ? amp * (i % 2 ? 1 : -1) : amp * 0.3 * Math.exp(-t / 0.005) * rand();
    else x[i] = amp * Math.min(1, t / 0.001) * Math.exp(-t / 0.08) * Math.sin(2 * Math.PI * 2500 * t);
  }
  return x;
}

interface Case {
  sr: number;
  shape: Shape;
  /** Event peak amplitude over the noise rms. */
  ratio: number;
}

function run(c: Case, seed: number): { truth: number[]; found: number[] } {
  const rand = rng(seed);
  const seconds = 6;
  const n = c.sr * seconds;
  const noiseRms = 0.01;
  const x = new Float32Array(n);
  // Brown-ish rumble + white noise: the street's energy sits low.
  let brown = 0;
  for (let i = 0; i < n; i++) {
    brown = 0.995 * brown + rand() * 0.02;
    x[i] = noiseRms * (rand() + brown);
  }
  // Onsets at non-round positions, at least 1 s apart.
  const truth = [0.731, 1.9173, 3.0511, 4.4437].map((s) => Math.round(s * c.sr) + (seed % 7));
  for (const t of truth) {
    const ev = event(c.shape, c.sr, noiseRms * c.ratio, rand);
    for (let i = 0; i < ev.length && t + i < n; i++) x[t + i] += ev[i];
  }
  const det = new OnsetDetector({ sampleRateHz: c.sr });
  const found: number[] = [];
  const block = Math.round(c.sr * 0.1);
  const start0 = 1_000_000; // frame numbering as in a ring that has been running a while
  for (let s = 0; s < n; s += block) {
    for (const o of det.process(x.subarray(s, Math.min(n, s + block)), start0 + s)) found.push(o.frame - start0);
  }
  return { truth, found };
}

const cases: Case[] = [
  { sr: 48000, shape: 'burst', ratio: 30 },
  { sr: 48000, shape: 'burst', ratio: 8 },
  { sr: 48000, shape: 'click', ratio: 20 },
  { sr: 48000, shape: 'tone', ratio: 10 },
  { sr: 16000, shape: 'burst', ratio: 10 },
  { sr: 44100, shape: 'tone', ratio: 20 },
];

for (const c of cases) {
  test(`onset within 2 ms: ${c.shape} at ${c.ratio}x noise rms, ${c.sr} Hz`, () => {
    for (const seed of [1, 2, 3]) {
      const { truth, found } = run(c, seed);
      assert.equal(found.length, truth.length, `seed ${seed}: found ${JSON.stringify(found)} for truth ${JSON.stringify(truth)}`);
      for (let k = 0; k < truth.length; k++) {
        const errMs = ((found[k] - truth[k]) / c.sr) * 1000;
        assert.ok(Math.abs(errMs) <= 2, `seed ${seed} onset ${k}: error ${errMs.toFixed(2)} ms`);
      }
    }
  });
}

test('the block high-pass equals step() sample by sample, and onsets and rises do not depend on block sizes', () => {
  const rand = rng(21);
  const sr = 48000;
  const x = new Float32Array(sr * 3);
  for (let i = 0; i < x.length; i++) x[i] = 0.01 * rand();
  for (const at of [0.7, 1.6, 2.4]) {
    const e = event('burst', sr, 0.3, rand);
    x.set(e.subarray(0, Math.min(e.length, x.length - Math.round(at * sr))), Math.round(at * sr));
  }
  // The plain recursion, one sample at a time.
  const one = new HighPass(sr, 400);
  const want = Float64Array.from(x, (v) => one.step(v));
  const blockwise = new HighPass(sr, 400);
  const got = new Float64Array(x.length);
  for (let s = 0, n = 1; s < x.length; s += n, n = (n * 7 + 3) % 5000) {
    const part = new Float64Array(Math.min(n, x.length - s));
    blockwise.processInto(x.subarray(s, s + part.length), part);
    got.set(part, s);
  }
  assert.deepEqual(got, want);
  // Onsets and energy rises with blocks of 100 ms and of irregular sizes down to one sample.
  const run = (sizes: (k: number) => number) => {
    const det = new OnsetDetector({ sampleRateHz: sr });
    const onsets = [];
    for (let s = 0, k = 0; s < x.length; k++) {
      const n = Math.min(sizes(k), x.length - s);
      onsets.push(...det.process(x.subarray(s, s + n), s));
      s += n;
    }
    return { onsets, rise: det.rise(Math.round(2.2 * sr), Math.round(2.6 * sr)) };
  };
  const regular = run(() => 4800);
  assert.ok(regular.onsets.length >= 3, `${regular.onsets.length} onsets`);
  assert.deepEqual(run((k) => 1 + ((k * 7919) % 3001)), regular);
});

test('no onsets in steady noise', () => {
  const rand = rng(9);
  const sr = 48000;
  const x = new Float32Array(sr * 5);
  for (let i = 0; i < x.length; i++) x[i] = 0.02 * rand();
  const det = new OnsetDetector({ sampleRateHz: sr });
  const found = [];
  for (let s = 0; s < x.length; s += 4800) found.push(...det.process(x.subarray(s, s + 4800), s));
  assert.deepEqual(found, []);
});

test('a slow rise in level (a passing lorry) is not an onset', () => {
  const rand = rng(5);
  const sr = 16000;
  const x = new Float32Array(sr * 8);
  for (let i = 0; i < x.length; i++) {
    const t = i / sr;
    const gain = 10 ** ((Math.min(t, 6) * 4) / 20); // +4 dB per second, 24 dB in all
    x[i] = 0.005 * gain * rand();
  }
  const det = new OnsetDetector({ sampleRateHz: sr });
  const found = [];
  for (let s = 0; s < x.length; s += 1600) found.push(...det.process(x.subarray(s, s + 1600), s));
  assert.deepEqual(found, []);
});

test('a discontinuous start frame resets the stream instead of mixing old samples', () => {
  const sr = 16000;
  const det = new OnsetDetector({ sampleRateHz: sr });
  const rand = rng(3);
  const quiet = new Float32Array(sr);
  for (let i = 0; i < quiet.length; i++) quiet[i] = 0.01 * rand();
  det.process(quiet, 0);
  const loud = new Float32Array(sr);
  for (let i = 0; i < loud.length; i++) loud[i] = 0.01 * rand() + (i >= 8000 ? 0.5 * Math.exp(-(i - 8000) / 300) * rand() : 0);
  const found = det.process(loud, 50_000);
  assert.equal(found.length, 1);
  assert.ok(Math.abs(found[0].frame - 58_000) <= 32, `onset at ${found[0].frame}`);
});

test('after digital silence, a live input becomes the background instead of firing forever', () => {
  const sr = 16000;
  const rand = rng(11);
  const det = new OnsetDetector({ sampleRateHz: sr });
  const x = new Float32Array(sr * 8);
  for (let i = sr; i < x.length; i++) x[i] = 0.01 * rand(); // 1 s of zeros, then noise
  const burstAt = 6 * sr;
  for (let i = 0; i < 2000; i++) x[burstAt + i] += 0.5 * Math.exp(-i / 300) * rand();
  const found = [];
  for (let s = 0; s < x.length; s += 1600) found.push(...det.process(x.subarray(s, s + 1600), s));
  // one onset when the input comes alive, then only the burst
  assert.ok(found.length <= 3, `${found.length} onsets: ${found.map((o) => o.frame).join(', ')}`);
  assert.ok(found.some((o) => Math.abs(o.frame - burstAt) <= 32), 'the burst after the silence is found');
  assert.ok(found.every((o) => o.frame < sr * 3 || Math.abs(o.frame - burstAt) <= 32), 'no onsets once the noise is the background');
});

test('rise() finds a quiet event that never crosses the onset threshold, to a frame', () => {
  const sr = 16000;
  const rand = rng(21);
  const x = new Float32Array(sr * 6);
  for (let i = 0; i < x.length; i++) x[i] = 0.02 * rand();
  const at = Math.round(3.4567 * sr);
  // +4 dB of broadband energy for 300 ms: far below the 12 dB onset threshold
  for (let i = 0; i < 0.3 * sr; i++) x[at + i] += 0.02 * 1.2 * rand();
  const det = new OnsetDetector({ sampleRateHz: sr });
  const onsets = [];
  for (let s = 0; s < x.length; s += 1600) onsets.push(...det.process(x.subarray(s, s + 1600), s));
  assert.deepEqual(onsets, [], 'too quiet for an onset');
  const r = det.rise(Math.round(2.6 * sr), Math.round(3.6 * sr))!;
  assert.ok(r, 'a rise is found');
  assert.ok(Math.abs(r.frame - at) <= 0.02 * sr, `rise at ${(r.frame / sr).toFixed(4)} s, event at ${(at / sr).toFixed(4)} s`);
  assert.ok(r.riseDb > 2 && r.riseDb < 8, `rise ${r.riseDb} dB`);
  // outside the history: nothing
  assert.equal(det.rise(-5 * sr, 0), undefined);
});

test('hold-off: a second burst 100 ms after an onset (an echo, a double tap) is no second onset; one 600 ms later is', () => {
  const sr = 16000;
  const rand = rng(17);
  const x = new Float32Array(sr * 4);
  for (let i = 0; i < x.length; i++) x[i] = 0.01 * rand();
  const bursts = [2, 2.1, 2.6].map((s) => Math.round(s * sr));
  for (const at of bursts) for (let i = 0; i < 1500; i++) x[at + i] += 0.5 * Math.exp(-i / 150) * rand();
  const det = new OnsetDetector({ sampleRateHz: sr });
  const found = [];
  for (let s = 0; s < x.length; s += 1600) found.push(...det.process(x.subarray(s, s + 1600), s));
  assert.equal(found.length, 2, `onsets at ${found.map((o) => o.frame).join(', ')}`);
  assert.ok(Math.abs(found[0].frame - bursts[0]) <= 32 && Math.abs(found[1].frame - bursts[2]) <= 32, `onsets at ${found.map((o) => o.frame).join(', ')}`);
});

test('after a jump in the frame numbering, an onset at the start of the new block is never placed before it (no samples of the old stream)', () => {
  const sr = 16000;
  const rand = rng(19);
  const det = new OnsetDetector({ sampleRateHz: sr });
  // the old stream ends loud (a lorry close by) after a quiet second that set the background
  const old = new Float32Array(sr * 2);
  for (let i = 0; i < old.length; i++) old[i] = (i < sr ? 0.01 : 0.3) * rand();
  det.process(old, 0);
  const quiet = new Float32Array(sr);
  for (let i = 0; i < quiet.length; i++) quiet[i] = 0.01 * rand() + (i >= 40 ? 0.5 * Math.exp(-(i - 40) / 300) * rand() : 0);
  const found = det.process(quiet, 50_000);
  assert.ok(found.length >= 1, 'the burst is found');
  assert.ok(found[0].frame >= 50_000 && Math.abs(found[0].frame - 50_040) <= 32, `onset at ${found[0].frame}`);
});

test('the background follows a street that went quiet within a second: an event 17 dB above the quiet street, under the loud one, is found', () => {
  const sr = 16000;
  const rand = rng(23);
  const x = new Float32Array(sr * 5);
  const quietFrom = 3 * sr;
  for (let i = 0; i < x.length; i++) x[i] = (i < quietFrom ? 0.02 : 0.002) * rand();
  const at = quietFrom + sr; // one second after the street went 20 dB quieter
  for (let i = 0; i < 1500; i++) x[at + i] += 0.015 * Math.exp(-i / 600) * rand();
  const det = new OnsetDetector({ sampleRateHz: sr });
  const found = [];
  for (let s = 0; s < x.length; s += 1600) found.push(...det.process(x.subarray(s, s + 1600), s));
  assert.ok(found.some((o) => Math.abs(o.frame - at) <= 32), `onsets at ${found.map((o) => o.frame).join(', ') || 'none'}; the event at ${at}`);
});
