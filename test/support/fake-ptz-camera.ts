/**
 * A stand-in PTZ camera connection for PtzSteer (tests and the steering benchmark): only what
 * the steer uses of CameraConnection; and where the steer tests place such cameras and alerts.
 */
import { EventEmitter } from 'node:events';
import type { CameraConnection, PresetInfo } from '../../lib/camera/connection';
import { DEFAULT_CALIBRATION, destination } from '../../lib/camera/geometry';
import type { CameraConfig, PtzPosition } from '../../lib/camera/types';

/** The point the steer tests place their cameras and alerts around. */
export const ORIGIN = { lat: 45.4397, lon: 4.3872 };

/** A camera `distanceM` from ORIGIN towards `bearingDeg`: 6 m up, facing north, default calibration, 300 m range. */
export function cameraAt(id: string, bearingDeg: number, distanceM: number): CameraConfig {
  const p = destination(ORIGIN, bearingDeg, distanceM);
  return { id, name: id, host: 'h', port: 80, ...p, heightM: 6, mountHeadingDeg: 0, tiltOffsetDeg: 0, calibration: DEFAULT_CALIBRATION, maxRangeM: 300, blindSectors: [] };
}

/** A detection of now labelled `label`, located at `pos` (TDOA). */
export function steerAlert(id: string, label: string, pos: { lat: number; lon: number }) {
  return {
    kind: 'detection', id, sensor: 's1', label, confidence: 0.9, onset: Date.now() / 1000, offset: Date.now() / 1000,
    level: { dbfs: -10 }, scores: {}, span: { sensor: 's1', start: 0, frames: 1 },
    location: { method: 'tdoa', sensors: ['s1'], position: { ...pos, errorM: 2 } },
  };
}

/** The stand-ins as PtzSteer's list of camera connections. */
export const asConns = (cams: FakeCamera[]) => () => cams as unknown as CameraConnection[];

/**
 * A stand-in connection: reaches an AbsoluteMove target `travelMs` after it was sent; while
 * `held` is true it reports moving and arrives nowhere (the test releases it). unplug() and
 * plugIn() change its connection state as CameraConnection does, with its 'state' event.
 */
export class FakeCamera extends EventEmitter {
  position: PtzPosition = { pan: 0, tilt: 0, zoom: 0 };
  private target?: { p: PtzPosition; atMs: number };
  held = false;
  /** Answers nothing (a camera unplugged or frozen): every command fails as the onvif client's timeout does. */
  down = false;
  state = 'connected';
  capabilities = { absolute: true, relative: false, continuous: false };
  unsupported = new Set<string>();
  presets: PresetInfo[] = [];
  moves: PtzPosition[] = [];
  homes = 0;
  /** Connection attempts asked for from outside a command (CameraConnection.ensureConnected). */
  connectAttempts = 0;
  /** Sends no 'state' events (a connection that does not say when it is back). */
  quiet = false;
  constructor(
    readonly config: CameraConfig,
    public travelMs: number,
  ) {
    super();
  }
  get id() {
    return this.config.id;
  }
  /** A command: as CameraConnection's, it connects the camera, and a network failure marks it failed. */
  private answer() {
    if (this.down) {
      this.setState('failed');
      throw Object.assign(new Error('Network timeout'), { code: 'ETIMEDOUT' });
    }
    this.setState('connected');
  }
  private setState(state: string) {
    if (state === this.state) return;
    this.state = state;
    if (!this.quiet) this.emit('state', state);
  }
  /** Unplugged: every command times out, and the connection says "failed". */
  unplug() {
    this.down = true;
    this.setState('failed');
  }
  /** Plugged in again: `reconnected` says whether its connection has found it yet (and said so). */
  plugIn({ reconnected }: { reconnected: boolean }) {
    this.down = false;
    if (reconnected) this.setState('connected');
  }
  async ensureConnected() {
    this.connectAttempts++;
    this.answer();
  }
  async absoluteMove(p: PtzPosition) {
    this.answer();
    this.moves.push(p);
    this.target = { p, atMs: Date.now() + this.travelMs };
  }
  async getStatus() {
    this.answer();
    const moving = !!this.target && (this.held || Date.now() < this.target.atMs);
    if (this.target && !moving) this.position = this.target.p;
    return { position: { ...this.position }, moving };
  }
  async stop() {}
  async relativeMove() {
    throw new Error('ONVIF SOAP Fault: RelativeMove is not supported');
  }
  async continuousMove() {
    throw new Error('ONVIF SOAP Fault: ContinuousMove is not supported');
  }
  async gotoPreset() {}
  async gotoHome() {
    this.homes++;
  }
}
