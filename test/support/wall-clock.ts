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
