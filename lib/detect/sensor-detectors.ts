/**
 * The detectors of the sensors one classifier hears, one per sensor, each released when its
 * sensor has sent no audio for a long time. The audio-block contract has no end message (a
 * capture that stops just stops sending), so silence is the only sign a sensor has gone: the
 * node sweeps about once a second. Releasing zeroes the window of street audio the detector
 * holds (DESIGN §4), which would otherwise stay in memory until the node closes; a sensor that
 * comes back gets a fresh detector with its next block.
 */
import { Detector } from './detector';

/**
 * A sensor silent this long is released. Much longer than any event (a window and the longest
 * minimum duration are 10 s) and than the background level's minute, so only the state of a
 * sensor that has really stopped is dropped.
 */
export const RELEASE_AFTER_MS = 5 * 60_000;

/**
 * How long a sensor may be silent before its detector is released: RELEASE_AFTER_MS, or the
 * cool-down when longer (released earlier, a returning sensor would forget a running cool-down).
 */
export function releaseAfterMs(coolDownMs: number | undefined): number {
  return Math.max(RELEASE_AFTER_MS, coolDownMs ?? 0);
}

export class SensorDetectors {
  private readonly entries = new Map<string, { detector: Detector; heardMs: number }>();

  /** `idleMs`: how long a sensor may send nothing before its detector is released. */
  constructor(readonly idleMs: number) {
    if (!(idleMs > 0)) throw new Error(`idleMs: expected a positive number of milliseconds, got ${idleMs}`);
  }

  get size(): number {
    return this.entries.size;
  }

  get(sensor: string): Detector | undefined {
    return this.entries.get(sensor)?.detector;
  }

  /** Make `detector` the sensor's (disposing any other it had), heard at `nowMs`. */
  set(sensor: string, detector: Detector, nowMs: number): void {
    const old = this.entries.get(sensor)?.detector;
    if (old && old !== detector) old.dispose();
    this.entries.set(sensor, { detector, heardMs: nowMs });
  }

  /** A block of the sensor arrived at `nowMs`. */
  heard(sensor: string, nowMs: number): void {
    const e = this.entries.get(sensor);
    if (e) e.heardMs = Math.max(e.heardMs, nowMs);
  }

  /**
   * Dispose and forget the detectors of sensors not heard for `idleMs` at `nowMs`, except those
   * `busy` says are still being worked on; returns the sensors released.
   */
  releaseIdle(nowMs: number, busy: (sensor: string) => boolean = () => false): string[] {
    const released: string[] = [];
    for (const [sensor, e] of this.entries) {
      if (nowMs - e.heardMs < this.idleMs || busy(sensor)) continue;
      e.detector.dispose();
      this.entries.delete(sensor);
      released.push(sensor);
    }
    return released;
  }

  /** Dispose and forget every detector (the node closes). */
  clear(): void {
    for (const e of this.entries.values()) e.detector.dispose();
    this.entries.clear();
  }
}
