/**
 * A wall clock that a test steps, as NTP does on a gateway that booted without a real-time
 * clock: `Date.now()` jumps forward (by decades) or back, the monotonic clock does not.
 * Only `Date.now` is replaced (what the code under test reads); `restore()` puts it back.
 */
export interface SteppedWallClock {
  /** Moves the wall clock by `ms` (negative: back), on top of earlier steps. */
  step(ms: number): void;
  restore(): void;
}

export function stepWallClock(): SteppedWallClock {
  const realNow = Date.now;
  let offsetMs = 0;
  Date.now = () => realNow() + offsetMs;
  return {
    step(ms: number) {
      offsetMs += ms;
    },
    restore() {
      Date.now = realNow;
    },
  };
}

/** A forward step as large as a first NTP sync after booting in 1970. */
export const NTP_FIRST_SYNC_STEP_MS = 56 * 365.25 * 24 * 3600e3;

/**
 * Two clocks a test drives for code that takes them as options: a wall clock (epoch ms) and a
 * monotonic one (ms held), moving together unless the test steps the wall clock alone.
 */
export function twoClocks(startMs: number) {
  let t = startMs;
  let heldMs = 0;
  return {
    now: () => t,
    mono: () => heldMs,
    advance: (ms: number) => {
      heldMs += ms;
      return (t += ms);
    },
    /** An NTP step: the wall clock jumps, no time passes. */
    step: (toMs: number) => (t = toMs),
  };
}
