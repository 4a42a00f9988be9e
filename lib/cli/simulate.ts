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
import { DEFAULT_SCENE_DURATION_S, DEFAULT_SCENE_SEED, listBundledScenes, loadScene, micPositionsEnu, SCENE_DURATION_RANGE_S } from '../sim/scene';
import { SceneRenderer } from '../sim/render';
import { numberOption, parseArgs, SEED_RULE } from './args';
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

/** For `vigie simulate --help`, after the usage line. */
export function help(): string {
  return (
    '\nRenders a scene of the simulated street (docs/scenes.md) and writes DIR/<sensor>.wav, one channel\n' +
    'per microphone (simulated sound only, never a recording), and DIR/truth.json: the sensors and\n' +
    'their microphones, clock offsets, and every event played (label, source, time, position), to\n' +
    'run another localization tool on the same scene. Prints the files written.\n\n' +
    'options:\n' +
    `  --scene FILE|NAME  a scene JSON file, or a bundled scene: ${listBundledScenes().join(', ') || 'none'}\n` +
    '  --out DIR          where to write the files (created if needed)\n' +
    `  --duration S       seconds to render from the start (default: the scene's durationSec, else ${DEFAULT_SCENE_DURATION_S}; ${SCENE_DURATION_RANGE_S.min} to ${SCENE_DURATION_RANGE_S.max})\n` +
    `  --seed N           the random seed, a whole number >= 0 (default: the scene's seed, else ${DEFAULT_SCENE_SEED}); the same seed gives the same samples\n` +
    '  --format F         sample format of the WAV files: pcm16, pcm24 or float32 (default float32)\n'
  );
}

export async function main(args: string[]): Promise<number> {
  const a = parseArgs(args, { strings: ['scene', 'out', 'duration', 'seed', 'format'], usage: USAGE.simulate });
  const { scene, out } = a.strings;
  if (!scene || !out) throw new UsageError(`${scene ? '--out' : '--scene'} is required\nusage: ${USAGE.simulate}`);
  const format = (a.strings.format ?? 'float32') as WavFormat;
  if (!['pcm16', 'pcm24', 'float32'].includes(format)) throw new UsageError(`--format: expected pcm16, pcm24 or float32, got ${JSON.stringify(format)}\nusage: ${USAGE.simulate}`);
  const durationSec = numberOption(a, 'duration', { ...SCENE_DURATION_RANGE_S, unit: 'seconds' }, USAGE.simulate);
  const seed = numberOption(a, 'seed', SEED_RULE, USAGE.simulate);
  const r = simulateToDir(scene, out, { durationSec, seed, format, onWarning: (m) => process.stderr.write(`${m}\n`) });
  process.stdout.write(`${r.files.map((f) => `wrote ${f}`).join('\n')}\nwrote ${r.truthFile} (${r.events} events)\n`);
  return 0;
}
