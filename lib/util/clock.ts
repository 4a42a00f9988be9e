/**
 * Clocks, for two different questions.
 *
 * - `monotonicMs()` answers "how long?": timeouts, holds, stall checks, back-offs, deadlines,
 *   idle times, how long an alert or an audit file has really been kept. It never jumps: a
 *   gateway that boots without a real-time clock starts its wall clock in 1970 (or at its last
 *   shutdown, with fake-hwclock) and steps it by decades when NTP syncs, possibly hours later,
 *   and NTP may step it back; a duration measured on the wall clock spans the step. Its origin
 *   is arbitrary (this process's start): never show, record or send its values.
 * - `Date.now()` answers "when?": times shown to an operator, written into records, or sent
 *   in messages. Use it for nothing else, and judge its readings with isPlausibleWallTime.
 */
export const monotonicMs = (): number => performance.now();

/** A clock in ms; classes take one as an option so that tests can drive time. */
export type ClockMs = () => number;

/**
 * No clock that has been set reads earlier than this (2023-01-01 UTC, before any release of
 * Vigie): a reading before it is a clock not set yet (1970, or the 2000-01-01 some RTCs reset
 * to), which says nothing of how old anything is.
 */
export const EARLIEST_REAL_TIME_MS = Date.UTC(2023, 0, 1);

/** Whether a wall-clock reading (epoch ms) can be a real time: a number not before EARLIEST_REAL_TIME_MS. */
export function isPlausibleWallTime(ms: number): boolean {
  return Number.isFinite(ms) && ms >= EARLIEST_REAL_TIME_MS;
}

/** A sensor's time this far after the arrival of its message cannot be right (a message never arrives before it was sent), ms. */
export const SENSOR_CLOCK_AHEAD_MS = 60_000;
/** A sensor's time this far before the arrival of its message cannot be a delay (an outbox keeps messages 7 days at most, maxAgeS), ms. */
export const SENSOR_CLOCK_BEHIND_MS = 8 * 86_400_000;

/** How a time another machine sent compares with this machine's clock. */
export interface SensorTime {
  /** The time to order and show it by: the sensor's when it can be right, else the arrival. */
  timeMs: number;
  /** "ahead" or "behind": the sensor's clock cannot have been right (not synced yet, set wrong). */
  sensorClock?: 'ahead' | 'behind';
}

/**
 * Judges a time stamped by another gateway (a detection's onset) against when its message
 * arrived here, on this machine's wall clock. A gateway that booted without a battery clock
 * stamps 1970 until NTP syncs, one set by hand may be hours off: its time then says nothing of
 * when the sound was, and the arrival does. A late arrival is not a fault: an outbox replays
 * messages kept through a broker outage. When this machine's own clock is not set, nothing can
 * be judged and the sensor's time is kept.
 */
export function judgeSensorTime(sensorMs: number, arrivalMs: number): SensorTime {
  if (!isPlausibleWallTime(arrivalMs)) return { timeMs: Number.isFinite(sensorMs) ? sensorMs : arrivalMs };
  if (Number.isFinite(sensorMs) && sensorMs > arrivalMs + SENSOR_CLOCK_AHEAD_MS) return { timeMs: arrivalMs, sensorClock: 'ahead' };
  if (!isPlausibleWallTime(sensorMs) || sensorMs < arrivalMs - SENSOR_CLOCK_BEHIND_MS) return { timeMs: arrivalMs, sensorClock: 'behind' };
  return { timeMs: sensorMs };
}

/**
 * A detection whose onset is this much after its arrival proves its gateway's clock ahead: a
 * message cannot arrive before its sound, and clocks set by NTP agree within milliseconds, ms.
 */
export const CLOCK_AHEAD_PROVEN_MS = 2000;

/**
 * Tells City IT, once per sensor per `repeatMs`, of a gateway whose clock is proven ahead of
 * this one (CLOCK_AHEAD_PROVEN_MS): its onsets cannot be compared with other sensors', so the
 * same sound may make separate alerts until its clock is set. A clock behind cannot be told
 * from a message that was delayed (an outbox replaying), so it is not judged here.
 */
export class ClockAheadWarnings {
  private readonly lastWarnedMs = new Map<string, number>();
  private readonly repeatMs: number;
  private readonly monotonicNow: ClockMs;

  constructor(
    private readonly warn: (text: string) => void,
    opts: { repeatMs?: number; monotonicNow?: ClockMs } = {},
  ) {
    this.repeatMs = opts.repeatMs ?? 10 * 60_000;
    this.monotonicNow = opts.monotonicNow ?? monotonicMs;
  }

  /** Checks one detection: `onsetSec` as its sensor stamped it, `arrivalMs` this machine's wall clock on arrival. Returns how far ahead, ms, when proven. */
  check(sensor: string, onsetSec: number, arrivalMs: number): number | undefined {
    if (!isPlausibleWallTime(arrivalMs)) return undefined;
    const aheadMs = onsetSec * 1000 - arrivalMs;
    if (!(aheadMs > CLOCK_AHEAD_PROVEN_MS)) return undefined;
    const now = this.monotonicNow();
    const last = this.lastWarnedMs.get(sensor);
    if (last === undefined || now - last >= this.repeatMs) {
      this.lastWarnedMs.set(sensor, now);
      if (this.lastWarnedMs.size > 1000) this.lastWarnedMs.delete(this.lastWarnedMs.keys().next().value as string);
      // An onset in milliseconds (a hand-typed inject, another system's detections) reads as a
      // clock thousands of years ahead: say so rather than blame the clock.
      const inMs = isPlausibleWallTime(onsetSec) ? ` (its onset, ${onsetSec}, looks like milliseconds since 1970: onsets are in seconds)` : '';
      this.warn(
        `sensor "${sensor}": a detection's onset is ${formatAhead(aheadMs)} after it arrived here, so that gateway's clock is ahead by at least that much${inMs}: ` +
          'its onsets cannot be compared with other sensors\' (the same sound may make separate alerts, placed without it); set its clock (NTP)',
      );
    }
    return aheadMs;
  }
}

function formatAhead(ms: number): string {
  const s = ms / 1000;
  if (s < 120) return `${Math.round(s * 10) / 10} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return `${Math.round(s / 3600)} h`;
}
