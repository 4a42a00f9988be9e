/**
 * How long Node-RED's event loop is held up. Every Vigie node of an instance shares one
 * JavaScript thread: when a burst of alerts, a slow disk or too many sensors keep it busy,
 * captures overrun their ring (audio never classified), consoles lose their connection, and
 * nothing else says why. This watch measures the delay (perf_hooks' histogram), says it in the
 * health report (`eventLoop`), and tells City IT when an overload starts and ends.
 */
import { monitorEventLoopDelay } from 'perf_hooks';

/** One window's delays, ms. */
export interface LoopDelaySample {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** What the health report shows: the last minute's delays, ms, and whether an overload is going on. */
export interface EventLoopReport {
  /** The median of the windows' medians, the worst p99 and the worst delay of the last minute. */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  overloaded: boolean;
}

export interface EventLoopWatchOptions {
  /** One window of measure, ms (default 10 s). */
  windowMs?: number;
  /** Windows kept for the report (default 6: a minute). */
  windows?: number;
  /** A window whose p99 is at least this is overloaded, ms (default 500: five blocks of 100 ms of audio). */
  overloadMs?: number;
  /** Called when an overload starts (a window over overloadMs) and when it ends (a window under half of it). */
  onChange?: (overloaded: boolean, sample: LoopDelaySample) => void;
  /** Where the window's delays come from (tests); perf_hooks' event loop delay histogram by default. */
  sampler?: () => LoopDelaySample;
}

/** perf_hooks' histogram, read and reset once per window (its figures are in ns). */
function histogramSampler(): { sample: () => LoopDelaySample; stop: () => void } {
  const h = monitorEventLoopDelay({ resolution: 20 });
  h.enable();
  return {
    sample: () => {
      const ms = (ns: number) => (Number.isFinite(ns) ? Math.round(ns / 1e5) / 10 : 0);
      const s = { p50Ms: ms(h.percentile(50)), p99Ms: ms(h.percentile(99)), maxMs: ms(h.max) };
      h.reset();
      return s;
    },
    stop: () => h.disable(),
  };
}

export class EventLoopWatch {
  private readonly windowMs: number;
  private readonly windows: number;
  private readonly overloadMs: number;
  private readonly onChange?: (overloaded: boolean, sample: LoopDelaySample) => void;
  private readonly sampler: () => LoopDelaySample;
  private readonly stopSampler?: () => void;
  private readonly recent: LoopDelaySample[] = [];
  private timer: ReturnType<typeof setInterval> | undefined;
  private overloaded = false;

  constructor(opts: EventLoopWatchOptions = {}) {
    this.windowMs = opts.windowMs ?? 10_000;
    this.windows = opts.windows ?? 6;
    this.overloadMs = opts.overloadMs ?? 500;
    this.onChange = opts.onChange;
    if (opts.sampler) this.sampler = opts.sampler;
    else {
      const h = histogramSampler();
      this.sampler = h.sample;
      this.stopSampler = h.stop;
    }
  }

  /** Measures window after window until stop(); the timer does not keep the process alive. */
  start(): this {
    if (this.timer) return this;
    this.timer = setInterval(() => this.tick(), this.windowMs);
    this.timer.unref?.();
    return this;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.stopSampler?.();
  }

  /** Ends a window: keeps its delays and tells a change of overload (exposed for tests). */
  tick(): LoopDelaySample {
    const s = this.sampler();
    this.recent.push(s);
    if (this.recent.length > this.windows) this.recent.shift();
    // Hysteresis: over the threshold to start, under half of it to end, so that one overload is told once.
    const now = this.overloaded ? s.p99Ms >= this.overloadMs / 2 : s.p99Ms >= this.overloadMs;
    if (now !== this.overloaded) {
      this.overloaded = now;
      this.onChange?.(now, s);
    }
    return s;
  }

  /** The last minute (undefined before the first window has ended). */
  report(): EventLoopReport | undefined {
    if (!this.recent.length) return undefined;
    const medians = this.recent.map((s) => s.p50Ms).sort((a, b) => a - b);
    return {
      p50Ms: medians[Math.floor(medians.length / 2)],
      p99Ms: Math.max(...this.recent.map((s) => s.p99Ms)),
      maxMs: Math.max(...this.recent.map((s) => s.maxMs)),
      overloaded: this.overloaded,
    };
  }
}
