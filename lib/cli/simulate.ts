/**
 * `vigie simulate --scene FILE.json --out DIR [--duration S] [--seed N] [--format pcm16|pcm24|float32]`
 *
 * Renders a scene and writes each sensor's multichannel WAV (<sensor>.wav, simulated sound
 * only — never a recording) plus truth.json: the events played, where, when, and the sensors'
 * positions and geometry, for inspection and for comparison with other localization tools.
 */
import * as fs from 'fs';
import * as path from 'path';
import { encodeWav, WavFormat } from '../audio/wav';
import { loadScene, micPositionsEnu } from '../sim/scene';
import { SceneRenderer } from '../sim/render';
import { parseArgs } from './args';
import { USAGE, UsageError } from './usage';

export interface SimulateResult {
  files: string[];
  truthFile: string;
  events: number;
}

export function simulateToDir(sceneFile: string, outDir: string, opts: { durationSec?: number; seed?: number; format?: WavFormat; onWarning?: (m: string) => void } = {}): SimulateResult {
  const scene = loadScene(sceneFile);
  const renderer = new SceneRenderer(scene, { seed: opts.seed, onWarning: opts.onWarning });
  const duration = opts.durationSec ?? scene.durationSec;
  const total = Math.round(duration * scene.sampleRate);
  if (total * scene.sensors.reduce((s, x) => s + x.mics.length, 0) > 2e9 / 4) throw new Error(`--duration: ${duration} s is too long to hold in memory for this scene`);
  const buffers = scene.sensors.map((s) => s.mics.map(() => new Float32Array(total)));
  const block = Math.round(0.5 * scene.sampleRate);
  while (renderer.frame < total) {
    const at = renderer.frame;
    const n = Math.min(block, total - at);
    renderer.render(n).forEach((chs, i) => chs.forEach((ch, m) => buffers[i][m].set(ch, at)));
  }
  fs.mkdirSync(outDir, { recursive: true });
  const files: string[] = [];
  scene.sensors.forEach((s, i) => {
    const file = path.join(outDir, `${s.id}.wav`);
    fs.writeFileSync(file, encodeWav(buffers[i], scene.sampleRate, opts.format ?? 'float32'));
    files.push(file);
  });
  const truth = {
    scene: scene.name,
    seed: opts.seed ?? scene.seed,
    sampleRate: scene.sampleRate,
    durationSec: duration,
    speedOfSoundMs: scene.speedOfSoundMs,
    origin: scene.origin,
    sensors: scene.sensors.map((s) => ({
      id: s.id,
      file: `${s.id}.wav`,
      positionEnu: s.positionEnu,
      lat: s.lat,
      lon: s.lon,
      heightM: s.heightM,
      headingDeg: s.headingDeg,
      array: s.array,
      micsArrayFrame: s.mics,
      micsEnu: micPositionsEnu(s),
      clockOffsetMs: s.clockOffsetMs,
    })),
    events: renderer.events.map((e) => ({ ...e })),
  };
  const truthFile = path.join(outDir, 'truth.json');
  fs.writeFileSync(truthFile, JSON.stringify(truth, null, 2));
  return { files, truthFile, events: truth.events.length };
}

export async function main(args: string[]): Promise<number> {
  const a = parseArgs(args, { strings: ['scene', 'out', 'duration', 'seed', 'format'], usage: USAGE.simulate });
  const { scene, out } = a.strings;
  if (!scene || !out) throw new UsageError(`${scene ? '--out' : '--scene'} is required\nusage: ${USAGE.simulate}`);
  const num = (name: string) => {
    const v = a.strings[name];
    if (v === undefined) return undefined;
    const x = Number(v);
    if (!Number.isFinite(x) || x <= 0) throw new UsageError(`--${name}: expected a positive number, got ${JSON.stringify(v)}\nusage: ${USAGE.simulate}`);
    return x;
  };
  const format = (a.strings.format ?? 'float32') as WavFormat;
  if (!['pcm16', 'pcm24', 'float32'].includes(format)) throw new UsageError(`--format: expected pcm16, pcm24 or float32, got ${JSON.stringify(format)}\nusage: ${USAGE.simulate}`);
  const r = simulateToDir(scene, out, { durationSec: num('duration'), seed: num('seed'), format, onWarning: (m) => process.stderr.write(`${m}\n`) });
  process.stdout.write(`${r.files.map((f) => `wrote ${f}`).join('\n')}\nwrote ${r.truthFile} (${r.events} events)\n`);
  return 0;
}
