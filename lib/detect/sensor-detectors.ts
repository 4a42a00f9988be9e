/**
 * The detectors of the sensors one classifier hears, one per sensor, each released when its
 * sensor has sent no audio for a long time. The audio-block contract has no end message (a
 * capture that stops just stops sending), so silence is the only sign a sensor has gone: the
 * node sweeps about once a second. After 10 s of silence the window of street audio the
 * detector holds is zeroed (DESIGN §4), which would otherwise stay in memory until the node
 * closes; after 5 min the detector is released, and a sensor that comes back gets a fresh one
 * with its next block.
 */
import { Detector } from './detector';

/**
 * A sensor silent this long is released. Much longer than any event (a window and the longest
 * minimum duration are 10 s) and than the background level's minute, so only the state of a
 * sensor that has really stopped is dropped.
 */
export const RELEASE_AFTER_MS = 5 * 60_000;

/**
 * A sensor silent this long has the audio its detector holds zeroed (DESIGN §4.2: a copy of
 * street audio must not outlive the ring's bounds), while its event state (cool-down,
 * background level) is kept until the release. Long past any hiccup of a live stream; a
 * block after it starts the stream afresh, as after a capture gap.
 */
export const DROP_AUDIO_AFTER_MS = 10_000;

/**
 * How long a sensor may be silent before its detector is released: RELEASE_AFTER_MS, or the
 * cool-down when longer (released earlier, a returning sensor would forget a running cool-down).
 */
export function releaseAfterMs(coolDownMs: number | undefined): number {
  return Math.max(RELEASE_AFTER_MS, coolDownMs ?? 0);
}

export class SensorDetectors {
  private readonly entries = new Map<string, { detector: Detector; heardMs: number; audioDropped: boolean }>();

  /**
   * Times passed in (`nowMs`) are on a monotonic clock (lib/util/clock): they only time silences.
   * `idleMs`: how long a sensor may send nothing before its detector is released;
   * `dropAudioAfterMs`: before the audio it holds is zeroed (at most `idleMs`).
   */
  constructor(
    readonly idleMs: number,
    readonly dropAudioAfterMs = DROP_AUDIO_AFTER_MS,
  ) {
    if (!(idleMs > 0)) throw new Error(`idleMs: expected a positive number of milliseconds, got ${idleMs}`);
    if (!(dropAudioAfterMs > 0)) throw new Error(`dropAudioAfterMs: expected a positive number of milliseconds, got ${dropAudioAfterMs}`);
    this.dropAudioAfterMs = Math.min(dropAudioAfterMs, idleMs);
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
    this.entries.set(sensor, { detector, heardMs: nowMs, audioDropped: false });
  }

  /** A block of the sensor arrived at `nowMs`. */
  heard(sensor: string, nowMs: number): void {
    const e = this.entries.get(sensor);
    if (!e) return;
    e.heardMs = Math.max(e.heardMs, nowMs);
    e.audioDropped = false;
  }

  /**
   * Zero the audio of detectors whose sensors were not heard for `dropAudioAfterMs` at `nowMs`,
   * and dispose and forget those not heard for `idleMs`, except those `busy` says are still
   * being worked on; returns the sensors released.
   */
  releaseIdle(nowMs: number, busy: (sensor: string) => boolean = () => false): string[] {
    const released: string[] = [];
    for (const [sensor, e] of this.entries) {
      if (busy(sensor)) continue;
      if (!e.audioDropped && nowMs - e.heardMs >= this.dropAudioAfterMs) {
        // Its audio zeroed, its event state kept: the next block starts the stream afresh.
        e.detector.dispose();
        e.audioDropped = true;
      }
      if (nowMs - e.heardMs < this.idleMs) continue;
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
