/**
 * How often acoustic-classifier's output 2 (per-window scores, for charts and tuning) may speak
 * of one sensor (DESIGN §4). Each record gives the window's loudest 125 ms and its scores; one
 * every hop of 10 ms would follow the street's sound more finely than any level report may
 * (MIN_LEVEL_PERIOD_MS, lib/audio/capture.ts): the rhythm of speech. Detection itself is not
 * paced: every window is still classified; only what is published is.
 */
import { MIN_LEVEL_PERIOD_MS } from '../audio/capture';
import type { WindowScores } from './detector';

/** The least time between the ends of two published windows of one sensor: the level reports' bound. */
export const MIN_SCORES_PERIOD_MS = MIN_LEVEL_PERIOD_MS;

export class ScoresPacer {
  /** End (wall-clock seconds) of the last window published, by sensor. */
  private readonly lastEndS = new Map<string, number>();

  constructor(readonly minPeriodMs = MIN_SCORES_PERIOD_MS) {}

  /**
   * Whether this window may be published: its end at least minPeriodMs after the last one
   * published for its sensor. A window that ends before it (the wall clock was set back, or a
   * capture restarted) starts afresh rather than silencing the output until time catches up.
   */
  admit(w: Pick<WindowScores, 'sensor' | 'end'>): boolean {
    const last = this.lastEndS.get(w.sensor);
    // 1 µs of slack: window ends are sums of floats, and a hop equal to the period must pass.
    if (last !== undefined && w.end >= last && (w.end - last) * 1000 < this.minPeriodMs - 1e-3) return false;
    this.lastEndS.set(w.sensor, w.end);
    return true;
  }

  /** A sensor's detector was released: its next window is published whatever came before. */
  forget(sensor: string): void {
    this.lastEndS.delete(sensor);
  }

  clear(): void {
    this.lastEndS.clear();
  }
}
