/** The simulated street (lib/sim/live.ts): one scene sensor's channels, with its clock's time. */
import { acquireLiveScene, LiveScene } from '../../sim/live';
import { CaptureSource } from './source';

export interface SimulatedOptions {
  /** Bundled scene name (e.g. "street-demo") or path to a scene JSON. */
  scene: string;
  /** Which of the scene's sensors this capture hears. */
  sensorId: string;
  realtime?: boolean;
  blockMs?: number;
}

/**
 * The warnings of each running scene already passed on: the scene is shared by the sensors of
 * a flow, and its warnings (synthetic stand-ins for missing clips) are said once, not once
 * per sensor. A scene started again (a redeploy) is a new object, and warns again.
 */
const warningsTold = new WeakMap<LiveScene, Set<string>>();

export class SimulatedSource extends CaptureSource {
  readonly kind = 'simulated';
  private readonly opts: SimulatedOptions;
  private handle: { scene: LiveScene; release(): void } | null = null;
  private unsubscribe: (() => void) | null = null;
  private unsubscribeWarnings: (() => void) | null = null;

  constructor(opts: SimulatedOptions) {
    super();
    if (!opts.scene) throw new Error('scene: expected a bundled scene name such as "street-demo" or the path of a scene JSON');
    if (!opts.sensorId) throw new Error('simSensor: expected the id of a sensor of the scene');
    this.opts = opts;
    this.realtime = opts.realtime ?? true;
  }

  start(): void {
    if (this.handle) return;
    try {
      this.handle = acquireLiveScene(this.opts.scene, { realtime: this.opts.realtime ?? true, blockMs: this.opts.blockMs });
      const scene = this.handle.scene;
      this.channels = scene.channelsOf(this.opts.sensorId);
      this.sampleRate = scene.sampleRate;
      this.unsubscribe = scene.subscribe(this.opts.sensorId, (channels, _startFrame, timeSec) => this.emitData(channels, timeSec));
      if (!warningsTold.has(scene)) warningsTold.set(scene, new Set());
      const told = warningsTold.get(scene)!;
      this.unsubscribeWarnings = scene.onWarning((message) => {
        if (told.has(message)) return;
        told.add(message);
        this.emit('warning', message);
      });
      this.setStatus('running', `simulated ${this.opts.sensorId}`);
    } catch (err) {
      this.release();
      this.setStatus('failed', (err as Error).message.slice(0, 120));
      this.fault(err as Error);
    }
  }

  private release(): void {
    try {
      this.unsubscribeWarnings?.();
      this.unsubscribe?.();
    } finally {
      this.unsubscribeWarnings = null;
      this.unsubscribe = null;
      this.handle?.release();
      this.handle = null;
    }
  }

  async stop(): Promise<void> {
    this.release();
    this.setStatus('stopped', 'stopped');
  }
}
