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
