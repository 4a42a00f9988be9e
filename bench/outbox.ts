/**
 * What the vigie-outbox file costs while the broker is gone: for a queue of N waiting alerts,
 * the bytes written and the time of one persisted change, in three situations:
 *   - outage: alerts arrive one by one, each change adds one (the queue grows past N);
 *   - at the bound: the queue is full (maxMessages = N), each new alert drops the oldest;
 *   - drain: the broker is back, alerts leave one by one (each change removes one).
 * One alert per change is the worst case per alert and the usual one (alerts are rare: the node
 * writes a couple of seconds after a change, so one change is one alert unless they come in
 * bursts). Bytes are those the process hands to write() (Linux /proc/self/io wchar), so they
 * count whatever the file code writes (temporary files included); the disk may write more
 * (whole pages). Times are wall time of the persist call (serialise + write, no fsync, as during
 * an outage). Prints medians, p95 and the mean bytes per change.
 *
 *   npx tsx bench/outbox.ts [--sizes 100,1000,10000] [--changes 100] [--full] [--whole]
 *
 * --full runs N changes per situation at size N (the drain empties the queue), so that a cost
 * paid now and then (the journal compacted once in a while) shows in the mean.
 * --whole rewrites the whole file at every change (a compaction each time), as the node did
 * before the journal: the figures to compare with, on the same machine and in the same run
 * conditions; slow at 10000, and not to be combined with --full there.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Outbox } from '../lib/util/outbox';
import { MqttMessage, OutboxJournal, readKeptFile } from '../lib/util/outbox-file';
import { textArg } from './args';

const arg = textArg;

const SIZES = arg('sizes', '100,1000,10000').split(',').map(Number);
const CHANGES = Number(arg('changes', '100'));
const FULL = process.argv.includes('--full');
const WHOLE = process.argv.includes('--whole');
/** The node writes this long after a change (nodes/vigie-outbox.ts PERSIST_AFTER_MS). */
const WRITE_DELAY_S = 2;

function stats(xs: number[]): { median: number; p95: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * (s.length - 1) + 0.5))];
  return { median: q(0.5), p95: q(0.95), max: s[s.length - 1] };
}

/** Bytes this process has handed to write() so far. */
function bytesWritten(): number {
  const m = /^wchar:\s*(\d+)/m.exec(fs.readFileSync('/proc/self/io', 'utf8'));
  if (!m) throw new Error('/proc/self/io: no wchar line');
  return Number(m[1]);
}

const SCORE_LABELS = ['gunshot', 'glass_break', 'crash', 'scream', 'explosion', 'tire_skid', 'car_horn', 'construction', 'crowd', 'dog_bark', 'fireworks', 'footsteps', 'music', 'other', 'siren', 'traffic', 'weather', 'street'];

/**
 * A control-room alert as the outbox gets it (contract v1, DESIGN §2): a detection with the
 * model's 18 public scores, the sensor's position, a location, a camera, video links and the
 * incident, behind its topic. Gateway detections are the same without location, camera,
 * video and incident (about half the size).
 */
function alertMessage(i: number): MqttMessage {
  const id = crypto.randomUUID();
  const onset = 1_795_000_000 + i * 2.137;
  const scores: Record<string, number> = {};
  SCORE_LABELS.forEach((l, k) => (scores[l] = Math.round(((i * 7 + k * 13) % 97) * 1e4 / 97) / 1e4));
  return {
    topic: 'vigie/v1/saint-etienne/alert',
    qos: 1,
    retain: false,
    payload: {
      kind: 'detection',
      id,
      sensor: 'north-crossroads',
      label: 'gunshot',
      confidence: 0.9312,
      onset,
      offset: onset + 0.4771,
      level: { dbfs: -18.2, dba: -20.1 },
      scores,
      span: { sensor: 'north-crossroads', start: 48000 * i, frames: 24000 },
      sensorInfo: { lat: 45.439712, lon: 4.387231, alt: 520, heading: 30, clock: 'ntp', clockErrorMs: 2.5 },
      location: { method: 'tdoa', bearing: 42.51, bearingStd: 1.23, position: { lat: 45.43011, lon: 4.39022, errorM: 2.1 }, sensors: ['north-crossroads', 'east-market', 'west-school'], confidence: 0.8 },
      camera: { id: 'cam-1', name: 'Crossroads', pan: 0.23, tilt: -0.1, zoom: 0.4, target: { bearing: 42.5, tilt: -4, distanceM: 38 }, state: 'on-target', errorDeg: 0.4, moveMs: 1800 },
      video: { live: '/vigie/video/cam-1/live', mjpeg: '/vigie/video/cam-1/mjpeg', snapshot: `/vigie/video/cam-1/snapshot.jpg?alert=${id}`, until: 1_795_000_600_000 + i },
      incident: { id: `inc-${id}`, reports: [{ sensor: 'north-crossroads', detection: id, label: 'gunshot', onset, bearing: 42 }, { sensor: 'east-market', detection: crypto.randomUUID(), label: 'gunshot', onset: onset + 0.081, bearing: 301 }] },
    },
  };
}

interface Figures {
  ms: number[];
  bytes: number[];
  compactions: number;
}

type Situation = 'outage' | 'at the bound' | 'drain';

/**
 * One situation at one size: a queue of `n` alerts already in the file, then `changes`
 * persisted changes, each measured.
 */
function run(dir: string, n: number, situation: Situation, changes: number): Figures {
  const file = path.join(dir, `vigie-outbox-${n}-${situation.replace(/ /g, '-')}.json`);
  let now = 1_795_000_000_000;
  let next = 0;
  const box = new Outbox<MqttMessage>({ maxMessages: situation === 'at the bound' ? n : 1_000_000, maxAgeMs: 7 * 86400_000, nowMs: () => now });
  const journal = new OutboxJournal(file);
  const persist = () => (WHOLE ? journal.compact(box.entries()) : journal.sync(box.entries()));
  for (; next < n; next++) box.push(alertMessage(next));
  journal.compact(box.entries());
  const compacted = journal.compactions;
  const ms: number[] = [];
  const bytes: number[] = [];
  for (let c = 0; c < changes; c++) {
    now += WRITE_DELAY_S * 1000;
    if (situation === 'drain') {
      box.flush(() => true, () => undefined, 1);
      box.settle(true);
    } else box.push(alertMessage(next++));
    const b0 = bytesWritten();
    const t0 = performance.now();
    persist();
    ms.push(performance.now() - t0);
    bytes.push(bytesWritten() - b0);
  }
  // What is on the disk is what waits: the bench measures a file that works.
  const back = fs.existsSync(file) ? readKeptFile(file).entries : [];
  const expected = box.entries();
  if (back.length !== expected.length || back[back.length - 1]?.item.topic !== expected[expected.length - 1]?.item.topic) {
    throw new Error(`${situation} ${n}: the file holds ${back.length} messages, ${expected.length} wait`);
  }
  fs.rmSync(file, { force: true });
  return { ms, bytes, compactions: journal.compactions - compacted };
}

function fmtBytes(b: number): string {
  if (b >= 1e6) return `${(b / 1e6).toFixed(2)} MB`;
  if (b >= 1e3) return `${(b / 1e3).toFixed(1)} kB`;
  return `${Math.round(b)} B`;
}

function main(): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigie-bench-outbox-'));
  try {
    const one = JSON.stringify(alertMessage(1)).length;
    const how = FULL ? 'N persisted changes per situation at size N' : `${CHANGES} persisted changes per situation (fewer when the queue is smaller)`;
    console.log(`outbox file (${WHOLE ? 'rewritten whole at every change, as before the journal' : 'journal'}): one alert is ${one} bytes of JSON; ${how}, one alert each`);
    // Warm-up: the JIT and the file system's first allocations are not what a long outage sees.
    run(dir, 100, 'outage', 50);
    for (const n of SIZES) {
      console.log(`\n${n} waiting:`);
      for (const situation of ['outage', 'at the bound', 'drain'] as Situation[]) {
        const { ms, bytes, compactions } = run(dir, n, situation, FULL ? n : Math.min(CHANGES, n));
        const t = stats(ms);
        const b = stats(bytes);
        const mean = bytes.reduce((s, x) => s + x, 0) / bytes.length;
        console.log(
          `  ${situation.padEnd(12)} per change: median ${t.median.toFixed(2)} ms, p95 ${t.p95.toFixed(2)} ms, max ${t.max.toFixed(2)} ms; bytes median ${fmtBytes(b.median)}, mean ${fmtBytes(mean)}${WHOLE ? '' : `; ${compactions} compaction(s) in ${bytes.length} changes`}`,
        );
        if (situation === 'at the bound') {
          const note = !WHOLE && compactions === 0 ? ' (no compaction fell in these changes: --full counts them)' : '';
          console.log(`  ${''.padEnd(12)} one alert every ${WRITE_DELAY_S} s with the queue full: ${fmtBytes((mean * 3600) / WRITE_DELAY_S)} written per hour${note}`);
        }
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main();
