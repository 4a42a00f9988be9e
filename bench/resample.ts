/**
 * Resampler and capture-path benchmark: how many times faster than real time one channel
 * is resampled (48k→16k, 44.1k→16k, 16k→48k, a drift-correction ratio) in 100 ms blocks,
 * and the cost of the capture path per channel-second (decode of S16 pipe bytes + A-weighted
 * level meter). Prints medians and p95 over several runs.
 *
 * The classifier's kernel (a third of the taps) is measured too.
 *
 *   npx tsx bench/resample.ts [--runs 7] [--seconds 10]
 */
import { CLASSIFIER_KERNEL, Resampler } from '../lib/audio/resample';
import { encodeInterleaved, InterleavedDecoder } from '../lib/audio/channels';
import { LevelMeter } from '../lib/dsp/levels';
import { numberArg } from './args';

const arg = numberArg;

const RUNS = arg('runs', 7);
const SECONDS = arg('seconds', 10);

function noise(n: number): Float32Array {
  let seed = 12345;
  return Float32Array.from({ length: n }, () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff) * 0.5 - 0.25);
}

function stats(xs: number[]): { median: number; p95: number } {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * (s.length - 1) + 0.5))];
  return { median: q(0.5), p95: q(0.95) };
}

function timeMs(fn: () => void): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

console.log(`resampler, one channel, ${SECONDS} s of audio in 100 ms blocks, ${RUNS} runs`);
console.log('ratio                           median ms   p95 ms   × real time (median)');
for (const [from, to, kernel] of [
  [48000, 16000, 'default'],
  [48000, 16000, 'classifier'],
  [44100, 16000, 'default'],
  [16000, 48000, 'default'],
  [48000, 47999.5, 'default'],
] as const) {
  const x = noise(Math.round(from * SECONDS));
  const block = Math.round(from / 10);
  const runs: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    runs.push(
      timeMs(() => {
        const rs = new Resampler(from, to, kernel === 'classifier' ? CLASSIFIER_KERNEL : {});
        for (let i = 0; i < x.length; i += block) rs.process(x.subarray(i, i + block));
        rs.flush();
      }),
    );
  }
  const s = stats(runs);
  console.log(`${`${from}→${to}${kernel === 'classifier' ? ' (classifier)' : ''}`.padEnd(31)} ${s.median.toFixed(1).padStart(9)} ${s.p95.toFixed(1).padStart(8)}   ${((SECONDS * 1000) / s.median).toFixed(0).padStart(6)}`);
}

console.log(`\ncapture path per channel at 48 kHz (${SECONDS} s): S16 pipe decode + A-weighted level meter`);
const rate = 48000;
const channels = 4;
const pcm = encodeInterleaved(
  Array.from({ length: channels }, () => noise(rate * SECONDS)),
  'S16_LE',
);
const decodeRuns: number[] = [];
const meterRuns: number[] = [];
for (let r = 0; r < RUNS; r++) {
  const dec = new InterleavedDecoder('S16_LE', channels);
  const blocks: Float32Array[][] = [];
  decodeRuns.push(
    timeMs(() => {
      for (let i = 0; i < pcm.length; i += 65536) blocks.push(dec.push(pcm.subarray(i, i + 65536)));
    }),
  );
  const meter = new LevelMeter({ sampleRateHz: rate });
  meterRuns.push(timeMs(() => blocks.forEach((b) => meter.process(b[0]))));
}
const d = stats(decodeRuns);
const m = stats(meterRuns);
console.log(`decode ${channels} ch: median ${d.median.toFixed(1)} ms, p95 ${d.p95.toFixed(1)} ms (${((SECONDS * 1000) / d.median).toFixed(0)}× real time)`);
console.log(`level meter 1 ch: median ${m.median.toFixed(1)} ms, p95 ${m.p95.toFixed(1)} ms (${((SECONDS * 1000) / m.median).toFixed(0)}× real time)`);
