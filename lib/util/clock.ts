/**
 * Clocks. The wall clock (Date.now) of a box without a real-time clock starts in 1970, or at
 * its last shutdown (fake-hwclock), and steps when NTP syncs, possibly hours later; NTP can
 * also step it back. What must not be judged by a wrong clock (how long an alert or an audit
 * file has been kept) is judged by the monotonic clock while this process runs, and by the
 * wall clock only when its reading is plausible.
 */

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

/** Milliseconds on a clock that never steps (since this process started): for how long something has really been held. */
export function monotonicMs(): number {
  return performance.now();
}
