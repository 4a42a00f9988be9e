/**
 * SceneRenderer: renders every sensor's multichannel audio of a scene, block after block,
 * from frame 0 on. One renderer serves all sensors of a scene, so events are coherent
 * across sensors (the same emission reaches each microphone with its own delay).
 */
import * as fs from 'fs';
import { enuToGeodetic } from '../localize/geo';
import { PropagationPath, propagationPaths } from './propagate';
import { Scene, SceneSequenceEvent, SceneSource, levelToAmplitude, micPositionsEnu, sourcePointEnu, LevelSpec, SynthSpec } from './scene';
import { EventSignal, NoiseBed, loadClip, makeRng, readManifest, synthFor, synthesise, ManifestRow } from './signals';

/** Ground truth of one played event. */
export interface SceneEvent {
  label: string;
  sourceId: string;
  /** Scene time of the sound's attack at the source, s since frame 0 (true time). */
  emitSec: number;
  /** East, north, and height above the ground there, m. */
  positionEnu: [number, number, number];
  /** Altitude of that ground, m, when the scene gives one (a street on a slope). */
  groundAltM?: number;
  lat: number;
  lon: number;
  /** Clip path or "synth:<type>". */
  signal: string;
}

interface Instance {
  event: SceneEvent;
  sig: Float32Array;
  /** The signal with its last taps-1 samples copied in front, for looping reads. */
  ext: Float32Array | null;
  amp: number;
  emitFrame: number;
  loop: boolean;
  background: boolean;
  /** paths[globalMic] */
  paths: PropagationPath[][];
  endFrame: number;
  announced: boolean;
}

interface Scheduled {
  emitFrame: number;
  make: () => Instance | null;
}

export interface RendererOptions {
  /** Called once per distinct warning (e.g. data dir missing → synthetic events). */
  onWarning?: (message: string) => void;
  /** Override the scene seed. */
  seed?: number;
}

export class SceneRenderer {
  readonly scene: Scene;
  readonly sampleRate: number;
  readonly sensorIds: string[];
  private readonly micsPerSensor: number[];
  private readonly micPos: [number, number, number][] = [];
  private readonly micFirst: number[] = [];
  private nextFrame = 0;
  private instances: Instance[] = [];
  private queue: Scheduled[] = [];
  private readonly noise: NoiseBed[][] = [];
  private readonly rng: () => number;
  private readonly warned = new Set<string>();
  private manifest: ManifestRow[] | null = null;
  private seqIndex = 0;
  private seqNextFrame = 0;
  private fixedCycle = 0;
  private readonly listeners = new Set<(ev: SceneEvent) => void>();
  private readonly played: SceneEvent[] = [];

  constructor(scene: Scene, private readonly opts: RendererOptions = {}) {
    this.scene = scene;
    this.sampleRate = scene.sampleRate;
    this.sensorIds = scene.sensors.map((s) => s.id);
    this.micsPerSensor = scene.sensors.map((s) => s.mics.length);
    for (const s of scene.sensors) {
      this.micFirst.push(this.micPos.length);
      this.micPos.push(...micPositionsEnu(s));
    }
    const seed = opts.seed ?? scene.seed;
    this.rng = makeRng(seed);
    this.micPos.forEach((_, m) => {
      this.noise.push(scene.noise.map((bed, b) => new NoiseBed(bed.color, makeRng(seed * 7919 + m * 104729 + b), levelToAmplitude(bed.level, scene.calibrationDbSpl), scene.sampleRate)));
    });
    // Background sources run from their onset on, looping.
    for (const src of scene.sources.filter((s) => s.background)) {
      this.queue.push({ emitFrame: Math.round(src.onsetSec * this.sampleRate), make: () => this.instanceOfSource(src, Math.round(src.onsetSec * this.sampleRate)) });
    }
    this.scheduleFixed(0);
    if (scene.sequence) this.seqNextFrame = Math.round(scene.sequence.startSec * this.sampleRate);
  }

  /** Index of the next frame render() produces. */
  get frame(): number {
    return this.nextFrame;
  }

  channelsOf(sensorId: string): number {
    const i = this.sensorIds.indexOf(sensorId);
    if (i < 0) throw new Error(`simulated scene "${this.scene.name}" has no sensor "${sensorId}" (sensors: ${this.sensorIds.join(', ')})`);
    return this.micsPerSensor[i];
  }

  /** Ground truth listener: called when an event's emission is rendered. Returns an unsubscribe. */
  onEvent(cb: (ev: SceneEvent) => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  /** Events whose emission has been rendered so far. */
  get events(): readonly SceneEvent[] {
    return this.played;
  }

  private warn(msg: string): void {
    if (this.warned.has(msg)) return;
    this.warned.add(msg);
    this.opts.onWarning?.(msg);
  }

  private scheduleFixed(cycle: number): void {
    const offset = cycle * this.scene.durationSec;
    for (const src of this.scene.sources.filter((s) => !s.background)) {
      const f = Math.round((src.onsetSec + offset) * this.sampleRate);
      this.queue.push({ emitFrame: f, make: () => this.instanceOfSource(src, f) });
    }
    this.queue.sort((a, b) => a.emitFrame - b.emitFrame);
  }

  private signalOf(label: string, clipPath: string | undefined, clipName: string | undefined, synth: SynthSpec | undefined, maxSec: number, background: boolean): { sig: EventSignal; name: string } {
    if (clipPath) {
      if (fs.existsSync(clipPath)) return { sig: loadClip(clipPath, this.sampleRate, maxSec, !background), name: clipName ?? clipPath };
      if (clipName?.startsWith('data:')) {
        this.warn(`simulated street: data dir ${this.scene.dataDir} has no ${clipName.slice(5)}; using synthetic events instead`);
      } else throw new Error(`scene clip "${clipName}": file not found (${clipPath})`);
    }
    const spec = synth ?? synthFor(label);
    return { sig: synthesise(spec, this.sampleRate, this.rng), name: `synth:${spec.type}` };
  }

  private instanceOfSource(src: SceneSource, emitFrame: number): Instance | null {
    if (src.background && !src.clipPath && !src.synth) return null;
    if (src.background && src.clipPath && !fs.existsSync(src.clipPath)) {
      this.warn(`simulated street: background clip ${src.clip} not found; background is noise only`);
      return null;
    }
    const { sig, name } = this.signalOf(src.label, src.clipPath, src.clip, src.synth, src.maxDurationSec, src.background);
    return this.makeInstance(src.id, src.label, sig, name, src.positionEnu, src.level, emitFrame, src.loop, src.reflections, src.background, src.groundAltM);
  }

  private pickClip(label: string): string | undefined {
    if (this.manifest === null) this.manifest = readManifest(this.scene.dataDir);
    // Long alert clips are weakly labelled compilations (data README): keep short ones.
    const rows = this.manifest.filter((r) => r.label === label && r.durationSec <= 8);
    const real = rows.filter((r) => r.kind === 'real');
    const pool = real.length ? real : rows;
    if (!pool.length) return undefined;
    return pool[Math.floor(this.rng() * pool.length)].path;
  }

  private instanceOfSequence(ev: SceneSequenceEvent, emitFrame: number, n: number): Instance {
    const q = this.scene.sequence!;
    const r = q.area.radiusM * Math.sqrt(this.rng());
    const a = 2 * Math.PI * this.rng();
    const pos: [number, number, number] = [q.area.centre[0] + r * Math.sin(a), q.area.centre[1] + r * Math.cos(a), q.area.heightM];
    let clipPath = ev.clipPath;
    let clipName = ev.clip;
    if (!clipPath && !ev.synth) {
      const rel = this.pickClip(ev.label);
      if (rel) {
        clipName = `data:${rel}`;
        clipPath = `${this.scene.dataDir}/${rel}`;
      } else this.warn(`simulated street: no clips for "${ev.label}" in data dir ${this.scene.dataDir}; using synthetic events instead`);
    }
    const { sig, name } = this.signalOf(ev.label, clipPath, clipName, ev.synth, q.maxDurationSec, false);
    return this.makeInstance(`seq-${n}`, ev.label, sig, name, pos, ev.level ?? q.level, emitFrame, false, true, false);
  }

  private makeInstance(id: string, label: string, sig: EventSignal, name: string, pos: [number, number, number], level: LevelSpec, emitFrame: number, loop: boolean, reflections: boolean, background: boolean, groundAltM?: number): Instance {
    // Background beds need no sub-sample precision: a short interpolator keeps the live feed cheap.
    const geometry = background ? { ...this.scene, interpTaps: Math.min(8, this.scene.interpTaps) } : this.scene;
    // On a slope the source sounds from its ground altitude + height, the ground reflecting under it.
    const at = groundAltM === undefined ? pos : sourcePointEnu({ positionEnu: pos, groundAltM });
    const paths = this.micPos.map((mic) => propagationPaths(at, mic, geometry, reflections, groundAltM ?? 0));
    let maxEnd = 0;
    for (const ps of paths) for (const p of ps) maxEnd = Math.max(maxEnd, p.delayInt + p.kernel.length);
    const K = Math.max(...paths.flat().map((p) => p.kernel.length));
    let ext: Float32Array | null = null;
    if (loop) {
      ext = new Float32Array(sig.samples.length + K);
      for (let i = 0; i < K; i++) ext[i] = sig.samples[(((sig.samples.length - K + i) % sig.samples.length) + sig.samples.length) % sig.samples.length];
      ext.set(sig.samples, K);
    }
    const g = enuToGeodetic(pos, this.scene.origin);
    return {
      event: { label, sourceId: id, emitSec: emitFrame / this.sampleRate + sig.attackSec, positionEnu: pos, ...(groundAltM !== undefined ? { groundAltM } : {}), lat: g.lat, lon: g.lon, signal: name },
      sig: sig.samples,
      ext,
      amp: levelToAmplitude(level, this.scene.calibrationDbSpl),
      emitFrame,
      loop,
      background,
      paths,
      endFrame: loop ? Infinity : emitFrame + sig.samples.length + maxEnd + 1,
      announced: false,
    };
  }

  /** Render the next `frames` frames: result[sensorIndex][mic] (fresh arrays). */
  render(frames: number): Float32Array[][] {
    const f0 = this.nextFrame;
    const f1 = f0 + frames;
    // Schedule what starts in this block (plus a little lookahead for short paths).
    const horizon = f1 + Math.round(0.05 * this.sampleRate);
    if (this.scene.loop && this.scene.sources.some((s) => !s.background)) {
      while ((this.fixedCycle + 1) * this.scene.durationSec * this.sampleRate < horizon) {
        this.fixedCycle++;
        this.scheduleFixed(this.fixedCycle);
      }
    }
    const q = this.scene.sequence;
    while (q && this.seqNextFrame < horizon) {
      const n = this.seqIndex++;
      const ev = q.order === 'cycle' ? q.events[n % q.events.length] : q.events[Math.floor(this.rng() * q.events.length)];
      const at = this.seqNextFrame;
      this.queue.push({ emitFrame: at, make: () => this.instanceOfSequence(ev, at, n) });
      this.queue.sort((a, b) => a.emitFrame - b.emitFrame);
      this.seqNextFrame += Math.round((q.intervalSec[0] + this.rng() * (q.intervalSec[1] - q.intervalSec[0])) * this.sampleRate);
    }
    while (this.queue.length && this.queue[0].emitFrame < horizon) {
      const inst = this.queue.shift()!.make();
      if (inst) this.instances.push(inst);
    }
    const out: Float32Array[][] = this.micsPerSensor.map((n) => Array.from({ length: n }, () => new Float32Array(frames)));
    for (let s = 0; s < out.length; s++) {
      for (let m = 0; m < out[s].length; m++) {
        const buf = out[s][m];
        for (const bed of this.noise[this.micFirst[s] + m]) bed.fill(buf, 0, frames);
        for (const inst of this.instances) {
          if (inst.emitFrame >= f1) continue;
          for (const p of inst.paths[this.micFirst[s] + m]) addPath(buf, f0, inst, p);
        }
      }
    }
    for (const inst of this.instances) {
      if (!inst.announced && !inst.background && inst.event.emitSec * this.sampleRate < f1) {
        inst.announced = true;
        this.played.push(inst.event);
        if (this.played.length > 1000) this.played.splice(0, this.played.length - 1000);
        for (const cb of this.listeners) cb(inst.event);
      }
    }
    this.instances = this.instances.filter((i) => i.endFrame > f1 || !i.announced && !i.background);
    this.nextFrame = f1;
    return out;
  }
}

/** out[t] += amp · Σ_k kernel[k] · sig[f0 + t − emit − delayInt − k]. */
function addPath(out: Float32Array, f0: number, inst: Instance, p: PropagationPath): void {
  const kernel = p.kernel;
  const K = kernel.length;
  const amp = inst.amp;
  const base = f0 - inst.emitFrame - p.delayInt;
  const n = out.length;
  if (inst.loop) {
    const ext = inst.ext!;
    const len = inst.sig.length;
    const off = ext.length - len; // = K of the longest kernel
    for (let t = 0; t < n; t++) {
      const j0 = base + t;
      if (j0 < 0) continue;
      const b = (j0 % len) + off;
      let acc = 0;
      for (let k = 0; k < K; k++) acc += kernel[k] * ext[b - k];
      out[t] += amp * acc;
    }
    return;
  }
  const sig = inst.sig;
  const len = sig.length;
  const tStart = Math.max(0, -base);
  const tEnd = Math.min(n, len + K - 1 - base);
  for (let t = tStart; t < tEnd; t++) {
    const j0 = base + t;
    let acc = 0;
    if (j0 >= K - 1 && j0 < len) {
      for (let k = 0; k < K; k++) acc += kernel[k] * sig[j0 - k];
    } else {
      for (let k = 0; k < K; k++) {
        const j = j0 - k;
        if (j >= 0 && j < len) acc += kernel[k] * sig[j];
      }
    }
    out[t] += amp * acc;
  }
}
