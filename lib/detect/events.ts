/**
 * Event logic over per-window scores: per-class thresholds with hysteresis, minimum
 * duration, cool-down and a level gate. Pure and clocked by the windows' own times, so the
 * node and the evaluation command behave identically and tests need no timers.
 */

export interface ClassRule {
  /** A window scoring at least this starts an event. */
  onThreshold: number;
  /** The event lasts while windows score at least this (default: onThreshold − 0.15, ≥ 0.05). */
  offThreshold?: number;
  /** Windows must stay above offThreshold this long before the event is reported. */
  minDurationMs?: number;
  /** After a report, the same class is not reported again for this long. */
  coolDownMs?: number;
}

export interface LevelGate {
  /** The window's level must exceed the background by this many dB (when the background is known). */
  minAboveBackgroundDb?: number;
  /** The window's level must reach this absolute level (dB(A) when known, else dBFS). */
  minLevelDb?: number;
}

export interface WindowInput {
  startS: number;
  endS: number;
  /** Scores of the tracked labels (others are ignored). */
  scores: Record<string, number>;
  /** Loudest fast level inside the window, dB. */
  levelDb: number;
  /** Background level, dB (same weighting as levelDb), if known. */
  backgroundDb?: number;
}

export interface FiredEvent {
  label: string;
  /** Highest score seen in the event so far. */
  confidence: number;
  /** Start of the first window of the event. */
  startS: number;
  /** End of the first window of the event (the onset lies inside [startS, firstEndS]). */
  firstEndS: number;
  /** End of the latest window above offThreshold. */
  endS: number;
  /** Loudest window level of the event so far. */
  levelDb: number;
}

interface ClassState {
  active: boolean;
  reported: boolean;
  startS: number;
  firstEndS: number;
  lastEndS: number;
  maxScore: number;
  maxLevelDb: number;
  coolUntilS: number;
  /** coolUntilS before the last report: what withdraw() puts back. */
  coolUntilBeforeS: number;
}

export function gatePasses(gate: LevelGate, levelDb: number, backgroundDb: number | undefined): boolean {
  if (gate.minLevelDb !== undefined && !(levelDb >= gate.minLevelDb)) return false;
  if (gate.minAboveBackgroundDb !== undefined && backgroundDb !== undefined && !(levelDb - backgroundDb >= gate.minAboveBackgroundDb)) return false;
  return true;
}

export function offThresholdOf(rule: ClassRule): number {
  return rule.offThreshold ?? Math.max(0.05, rule.onThreshold - 0.15);
}

export class EventTracker {
  private readonly rules: Map<string, Required<ClassRule>>;
  private readonly gate: LevelGate;
  private readonly state = new Map<string, ClassState>();

  constructor(rules: Record<string, ClassRule>, gate: LevelGate = {}) {
    this.rules = new Map();
    for (const [label, r] of Object.entries(rules)) {
      if (!(r.onThreshold > 0 && r.onThreshold <= 1)) throw new Error(`threshold of "${label}": expected a number in (0, 1], got ${r.onThreshold}`);
      const off = offThresholdOf(r);
      if (!(off > 0 && off <= r.onThreshold)) throw new Error(`off-threshold of "${label}": expected a number in (0, ${r.onThreshold}], got ${off}`);
      this.rules.set(label, { onThreshold: r.onThreshold, offThreshold: off, minDurationMs: r.minDurationMs ?? 0, coolDownMs: r.coolDownMs ?? 0 });
    }
    this.gate = gate;
  }

  get labels(): string[] {
    return [...this.rules.keys()];
  }

  /** Is an event of this label in progress (for offsets and status)? */
  isActive(label: string): boolean {
    return this.state.get(label)?.active ?? false;
  }

  /** Feed one window (in time order); returns the events reported by it. */
  update(w: WindowInput): FiredEvent[] {
    const out: FiredEvent[] = [];
    const gateOk = gatePasses(this.gate, w.levelDb, w.backgroundDb);
    for (const [label, rule] of this.rules) {
      const score = w.scores[label] ?? 0;
      let s = this.state.get(label);
      if (!s) {
        s = { active: false, reported: false, startS: 0, firstEndS: 0, lastEndS: 0, maxScore: 0, maxLevelDb: -Infinity, coolUntilS: -Infinity, coolUntilBeforeS: -Infinity };
        this.state.set(label, s);
      }
      if (!s.active) {
        if (score >= rule.onThreshold && gateOk) {
          s.active = true;
          s.reported = false;
          s.startS = w.startS;
          s.firstEndS = w.endS;
          s.lastEndS = w.endS;
          s.maxScore = score;
          s.maxLevelDb = w.levelDb;
        } else continue;
      } else if (score >= rule.offThreshold) {
        s.lastEndS = w.endS;
        s.maxScore = Math.max(s.maxScore, score);
        s.maxLevelDb = Math.max(s.maxLevelDb, w.levelDb);
      } else {
        s.active = false;
        continue;
      }
      if (s.reported) continue;
      const durationMs = (s.lastEndS - s.firstEndS) * 1000;
      if (durationMs + 1e-6 < rule.minDurationMs) continue;
      // Suppressed by cool-down: the whole event stays unreported, however long it lasts.
      s.reported = true;
      if (w.endS < s.coolUntilS) continue;
      s.coolUntilBeforeS = s.coolUntilS;
      s.coolUntilS = w.endS + rule.coolDownMs / 1000;
      out.push({ label, confidence: s.maxScore, startS: s.startS, firstEndS: s.firstEndS, endS: s.lastEndS, levelDb: s.maxLevelDb });
    }
    return out;
  }

  /**
   * The last event reported for `label` was not used (its caller refused it): its cool-down is
   * taken back, so that a real event of the class soon after is still reported. The event itself
   * stays reported: its rest is not reported again.
   */
  withdraw(label: string): void {
    const s = this.state.get(label);
    if (s) s.coolUntilS = s.coolUntilBeforeS;
  }

  reset(): void {
    this.state.clear();
  }
}
