/**
 * Live feed of a simulated street for mic-capture's "simulated street" source.
 *
 * One renderer per scene, shared by every subscriber and reference-counted: the last
 * release stops its timer. Blocks are paced in real time (or rendered as fast as the
 * subscribers take them) and handed to subscribers as planar Float32Array channels, which
 * they must treat as read-only. Samples go only to subscribers' rings (DESIGN §4).
 */
import * as path from 'path';
import { loadScene, Scene } from './scene';
import type { SensorInfo } from '../sensor';
import { SceneEvent, SceneRenderer } from './render';

/** Ground truth of an event the live scene played (for end-to-end tests and the demo). */
export interface LiveSceneEvent {
  label: string;
  sourceId: string;
  /** True wall-clock time of the sound's attack at the source, epoch seconds. */
  timeSec: number;
  positionEnu: [number, number, number];
  lat: number;
  lon: number;
}

/** A scene sensor as a vigie-sensor would describe it, plus the clock offset the scene gives it. */
export interface LiveSensorInfo extends SensorInfo {
  clockOffsetMs: number;
}

export interface LiveScene {
  readonly sampleRate: number;
  /** Name of the scene (from its JSON). */
  readonly name: string;
  readonly sensorIds: readonly string[];
  channelsOf(sensorId: string): number; // throws, naming the sensor, if unknown
  subscribe(sensorId: string, onBlock: (channels: Float32Array[], startFrame: number, timeSec: number) => void): () => void;
  /** Ground truth of the events played. Returns an unsubscribe. */
  onEvent(cb: (ev: LiveSceneEvent) => void): () => void;
  /** Where a scene sensor is and what array it has (to configure vigie-sensor nodes in the demo). */
  sensorInfo(sensorId: string): LiveSensorInfo;
  /** Warnings (e.g. "data dir missing, synthetic events"), each said once. */
  onWarning(cb: (message: string) => void): () => void;
}

export interface LiveSceneOptions {
  /** Pace in real time (default true); false renders as fast as possible while someone listens. */
  realtime?: boolean;
  /** Block length, ms (default 100). */
  blockMs?: number;
  /** Data dir override (tests). */
  dataDir?: string;
}

type BlockCb = (channels: Float32Array[], startFrame: number, timeSec: number) => void;

class SharedLiveScene implements LiveScene {
  readonly sampleRate: number;
  readonly name: string;
  readonly sensorIds: readonly string[];
  refs = 0;
  /** The last events played (ground truth for the demo and end-to-end tests). */
  readonly recentEvents: LiveSceneEvent[] = [];
  private readonly renderer: SceneRenderer;
  private readonly subs = new Map<string, Set<BlockCb>>();
  private readonly eventCbs = new Set<(ev: LiveSceneEvent) => void>();
  private readonly warnCbs = new Set<(m: string) => void>();
  private readonly warnings: string[] = [];
  private readonly blockFrames: number;
  private readonly realtime: boolean;
  private timer: NodeJS.Timeout | null = null;
  private startEpochSec = 0;
  private startMs = 0;
  private stopped = false;

  constructor(private readonly scene: Scene, opts: LiveSceneOptions) {
    this.sampleRate = scene.sampleRate;
    this.name = scene.name;
    this.sensorIds = scene.sensors.map((s) => s.id);
    this.realtime = opts.realtime ?? true;
    this.blockFrames = Math.max(16, Math.round(((opts.blockMs ?? 100) / 1000) * scene.sampleRate));
    this.renderer = new SceneRenderer(scene, {
      onWarning: (m) => {
        this.warnings.push(m);
        for (const cb of this.warnCbs) cb(m);
      },
    });
    this.renderer.onEvent((ev: SceneEvent) => {
      const out: LiveSceneEvent = { label: ev.label, sourceId: ev.sourceId, timeSec: this.startEpochSec + ev.emitSec, positionEnu: ev.positionEnu, lat: ev.lat, lon: ev.lon };
      this.recentEvents.push(out);
      if (this.recentEvents.length > MAX_RECENT_EVENTS) this.recentEvents.shift();
      for (const cb of this.eventCbs) cb(out);
    });
  }

  start(): void {
    this.startMs = performance.now();
    this.startEpochSec = Date.now() / 1000;
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.subs.clear();
    this.eventCbs.clear();
    this.warnCbs.clear();
  }

  private schedule(): void {
    if (this.stopped) return;
    const blockMs = (this.blockFrames / this.sampleRate) * 1000;
    const delay = this.realtime ? Math.max(5, blockMs / 2) : this.hasListeners() ? 0 : 50;
    this.timer = setTimeout(() => this.tick(), delay);
  }

  private hasListeners(): boolean {
    for (const s of this.subs.values()) if (s.size) return true;
    return this.eventCbs.size > 0;
  }

  private tick(): void {
    this.timer = null;
    try {
      if (this.realtime) {
        const dueFrames = ((performance.now() - this.startMs) / 1000) * this.sampleRate;
        // After a long stall (suspended process) skip ahead rather than burst minutes of audio.
        const maxBehind = 2 * this.sampleRate;
        let n = 0;
        while (this.renderer.frame + this.blockFrames <= dueFrames && n < Math.ceil(maxBehind / this.blockFrames)) {
          this.renderBlock();
          n++;
        }
      } else if (this.hasListeners()) {
        this.renderBlock();
      }
    } finally {
      this.schedule();
    }
  }

  private renderBlock(): void {
    const startFrame = this.renderer.frame;
    const blocks = this.renderer.render(this.blockFrames);
    const trueSec = this.startEpochSec + startFrame / this.sampleRate;
    this.scene.sensors.forEach((s, i) => {
      const subs = this.subs.get(s.id);
      if (!subs || subs.size === 0) return;
      const timeSec = trueSec + s.clockOffsetMs / 1000;
      for (const cb of [...subs]) {
        try {
          cb(blocks[i], startFrame, timeSec);
        } catch {
          // A failing subscriber must not stop the street for the others.
        }
      }
    });
  }

  channelsOf(sensorId: string): number {
    return this.renderer.channelsOf(sensorId);
  }

  subscribe(sensorId: string, onBlock: BlockCb): () => void {
    this.channelsOf(sensorId);
    let set = this.subs.get(sensorId);
    if (!set) this.subs.set(sensorId, (set = new Set()));
    set.add(onBlock);
    return () => {
      set!.delete(onBlock);
    };
  }

  onEvent(cb: (ev: LiveSceneEvent) => void): () => void {
    this.eventCbs.add(cb);
    return () => {
      this.eventCbs.delete(cb);
    };
  }

  onWarning(cb: (message: string) => void): () => void {
    for (const w of this.warnings) cb(w);
    this.warnCbs.add(cb);
    return () => {
      this.warnCbs.delete(cb);
    };
  }

  sensorInfo(sensorId: string): LiveSensorInfo {
    const s = this.scene.sensors.find((x) => x.id === sensorId);
    if (!s) throw new Error(`simulated scene "${this.scene.name}" has no sensor "${sensorId}" (sensors: ${this.sensorIds.join(', ')})`);
    return {
      id: s.id,
      name: s.name,
      lat: s.lat,
      lon: s.lon,
      heightM: s.heightM,
      ...(s.groundAltM !== undefined ? { groundAltM: s.groundAltM } : {}),
      headingDeg: s.headingDeg,
      array: s.array,
      mics: s.mics.map((m) => [m[0], m[1], m[2]]),
      clock: s.clock,
      clockErrorMs: s.clockErrorMs,
      clockOffsetMs: s.clockOffsetMs,
    };
  }
}

const live = new Map<string, SharedLiveScene>();
const MAX_RECENT_EVENTS = 100;

function keyOf(scene: string): string {
  return /^[\w-]+$/.test(scene) && !scene.includes('/') ? `bundled:${scene}` : path.resolve(scene);
}

/**
 * Get the shared live scene (started on first acquire). The options of the first acquirer
 * win while the scene runs. Call release() exactly once; the last one stops the renderer.
 */
export function acquireLiveScene(scene: string /* path to a scene JSON, or the name of a bundled scene such as "street-demo" */, opts: LiveSceneOptions = {}): { scene: LiveScene; release(): void } {
  const key = keyOf(scene);
  let shared = live.get(key);
  if (!shared) {
    shared = new SharedLiveScene(loadScene(scene, { dataDir: opts.dataDir }), opts);
    live.set(key, shared);
    shared.start();
  }
  shared.refs++;
  const s = shared;
  let released = false;
  return {
    scene: s,
    release() {
      if (released) return;
      released = true;
      s.refs--;
      if (s.refs <= 0) {
        s.stop();
        if (live.get(key) === s) live.delete(key);
      }
    },
  };
}

/** Number of live scenes running (for tests: all must be released). */
export function liveSceneCount(): number {
  return live.size;
}

/** Ground truth of the running scenes: what each played lately (labels and places, never audio). */
export function liveSceneTruth(): Array<{ name: string; events: LiveSceneEvent[] }> {
  return [...live.values()].map((s) => ({ name: s.name, events: s.recentEvents.slice() }));
}
