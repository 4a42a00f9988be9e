/**
 * Mechanical model of the virtual PTZ head: finite slew speeds, absolute targets, velocity
 * moves with an end time. The pose is integrated lazily from the clock whenever it is read,
 * so no timer runs while the camera sits still or moves.
 */

export interface PtzLimits {
  tiltMinDeg: number;
  tiltMaxDeg: number;
  /** The lowest the head really goes, above tiltMinDeg (a housing or mount in the way): it stops there. */
  tiltStopDeg?: number;
  /**
   * A pan with end stops (a wall mount), −180…180: the head turns only between them, never
   * across the seam (absent: an endless pan, taking the short way round).
   */
  panRangeDeg?: readonly [number, number];
}

export interface PtzSpeeds {
  panSpeedDegPerS: number;
  tiltSpeedDegPerS: number;
  /** Zoom space units (0…1) per second. */
  zoomSpeedPerS: number;
}

export interface PoseDeg {
  panDeg: number;
  tiltDeg: number;
  /** Zoom space 0…1 (1× … max optical zoom). */
  zoom: number;
}

type Motion =
  | { kind: 'idle' }
  | { kind: 'target'; target: PoseDeg; speedScale: { pan: number; tilt: number; zoom: number } }
  | { kind: 'velocity'; vPan: number; vTilt: number; vZoom: number; endMs: number };

/** Wraps an angle to (−180, 180]. */
export function wrap180(deg: number): number {
  let a = ((deg + 180) % 360 + 360) % 360 - 180;
  if (a === -180) a = 180;
  return a;
}

export class PtzModel {
  private pose: PoseDeg;
  private motion: Motion = { kind: 'idle' };
  private lastMs: number;

  constructor(
    initial: PoseDeg,
    readonly limits: PtzLimits,
    readonly speeds: PtzSpeeds,
    private readonly now: () => number = Date.now,
  ) {
    this.pose = { ...initial };
    this.lastMs = now();
  }

  /** The pose now, integrated since the last read. */
  read(): PoseDeg & { moving: boolean } {
    this.advance();
    return { ...this.pose, moving: this.motion.kind !== 'idle' };
  }

  moveTo(target: PoseDeg, speedScale = { pan: 1, tilt: 1, zoom: 1 }): void {
    this.advance();
    this.motion = {
      kind: 'target',
      target: { panDeg: this.clampPan(target.panDeg), tiltDeg: this.clampTilt(target.tiltDeg), zoom: clamp(target.zoom, 0, 1) },
      speedScale,
    };
  }

  /** Velocities are fractions (−1…1) of the maximum speeds; endMs = Infinity moves until stop(). */
  moveVelocity(vPan: number, vTilt: number, vZoom: number, endMs: number): void {
    this.advance();
    this.motion = { kind: 'velocity', vPan: clamp(vPan, -1, 1), vTilt: clamp(vTilt, -1, 1), vZoom: clamp(vZoom, -1, 1), endMs };
    if (vPan === 0 && vTilt === 0 && vZoom === 0) this.motion = { kind: 'idle' };
  }

  stop(): void {
    this.advance();
    this.motion = { kind: 'idle' };
  }

  private clampTilt(t: number): number {
    return clamp(t, Math.max(this.limits.tiltMinDeg, this.limits.tiltStopDeg ?? -Infinity), this.limits.tiltMaxDeg);
  }

  private clampPan(p: number): number {
    const r = this.limits.panRangeDeg;
    return r ? clamp(wrap180(p), r[0], r[1]) : wrap180(p);
  }

  private advance(): void {
    const nowMs = this.now();
    const m = this.motion;
    if (m.kind === 'target') {
      const dt = Math.max(0, nowMs - this.lastMs) / 1000;
      const p = this.pose;
      // Endless pan: the short way; between end stops, the only way.
      const dPan = this.limits.panRangeDeg ? m.target.panDeg - p.panDeg : wrap180(m.target.panDeg - p.panDeg);
      const stepPan = this.speeds.panSpeedDegPerS * m.speedScale.pan * dt;
      p.panDeg = Math.abs(dPan) <= stepPan ? m.target.panDeg : wrap180(p.panDeg + Math.sign(dPan) * stepPan);
      p.tiltDeg = approach(p.tiltDeg, m.target.tiltDeg, this.speeds.tiltSpeedDegPerS * m.speedScale.tilt * dt);
      p.zoom = approach(p.zoom, m.target.zoom, this.speeds.zoomSpeedPerS * m.speedScale.zoom * dt);
      if (p.panDeg === m.target.panDeg && p.tiltDeg === m.target.tiltDeg && p.zoom === m.target.zoom) this.motion = { kind: 'idle' };
    } else if (m.kind === 'velocity') {
      const untilMs = Math.min(nowMs, m.endMs);
      const dt = Math.max(0, untilMs - this.lastMs) / 1000;
      const p = this.pose;
      const r = this.limits.panRangeDeg;
      const pan = p.panDeg + m.vPan * this.speeds.panSpeedDegPerS * dt;
      p.panDeg = r ? clamp(pan, r[0], r[1]) : wrap180(pan);
      p.tiltDeg = this.clampTilt(p.tiltDeg + m.vTilt * this.speeds.tiltSpeedDegPerS * dt);
      p.zoom = clamp(p.zoom + m.vZoom * this.speeds.zoomSpeedPerS * dt, 0, 1);
      if (nowMs >= m.endMs) this.motion = { kind: 'idle' };
    }
    this.lastMs = nowMs;
  }
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}

function approach(cur: number, target: number, step: number): number {
  const d = target - cur;
  return Math.abs(d) <= step ? target : cur + Math.sign(d) * step;
}
