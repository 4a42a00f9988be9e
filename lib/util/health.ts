/**
 * The health report of a Node-RED process running Vigie (GET vigie/health, see
 * nodes/vigie-runtime.ts): what is running, whether each sensor's capture still delivers
 * audio, and which nodes cannot work at all (a mic-capture whose configuration it cannot use,
 * an acoustic-classifier whose model cannot be loaded). It names sensors and nodes, says how
 * long and why, never anything of the audio.
 */
import { runningCaptures } from '../audio/capture';
import { listRings } from '../audio/registry';
import { monotonicMs } from './clock';
import { redactCredentials } from './url-credentials';

/** A running capture (mic-capture) that has received no audio for this long makes the report "degraded". */
import type { EventLoopReport } from './event-loop-watch';
export const NO_AUDIO_AFTER_MS = 10_000;

/** A node that cannot do its work, as its node reports it (see reportNodeFailure). */
export interface NodeFailure {
  /** The node's type: "mic-capture", "acoustic-classifier". */
  node: string;
  /** The node's id in the flow. */
  id: string;
  /** The node's name in the flow, when it has one. */
  name?: string;
  /** The sensor it serves: its ID as typed in the vigie-sensor form, even when that configuration is invalid. */
  sensor?: string;
  /** Why, as the node's error says it (credentials in URLs hidden, file paths cut to their names). */
  reason: string;
}

export interface HealthReport {
  /**
   * "degraded": at least one capture has received no audio for NO_AUDIO_AFTER_MS (see noAudio),
   * or at least one node cannot work (see failed).
   */
  status: 'ok' | 'degraded';
  package: string;
  version: string;
  nodeRed: string;
  uptimeS: number;
  /** Sensor ids with an audio ring open in this process. */
  sensors: string[];
  /**
   * The sensors of running captures that have received no audio for NO_AUDIO_AFTER_MS, and for
   * how long (s): since the last audio, or since the capture started if none ever came (its
   * sensor then has no ring and is not in `sensors`).
   */
  noAudio: Array<{ sensor: string; forS: number }>;
  /**
   * The nodes that cannot work (a mic-capture that could not start, so no capture of it is
   * running and noAudio cannot list it; an acoustic-classifier without a loadable model), since
   * when (ISO 8601) and for how long (s), and why.
   */
  failed: Array<NodeFailure & { since: string; forS: number }>;
  /**
   * How long the event loop was held up over the last minute, ms (lib/util/event-loop-watch.ts),
   * once a window has been measured: an instance `overloaded` misses audio and drops consoles.
   * It does not make the status degraded: a bad night's burst is no reason to restart a container.
   */
  eventLoop?: EventLoopReport;
}

let eventLoopSource: (() => EventLoopReport | undefined) | undefined;

/** Where the report reads the event loop's delays (the runtime plugin's watch); undefined: none. */
export function setEventLoopSource(source: (() => EventLoopReport | undefined) | undefined): void {
  eventLoopSource = source;
}

/**
 * The two clocks of a report: the wall clock (epoch ms) only for the times it shows (a
 * failure's `since`), the monotonic clock (lib/util/clock) for every duration (uptime, no
 * audio for, failed for), so that a wall clock step (NTP) changes none of them. Tests pass one
 * number for both.
 */
export interface HealthClocks {
  wallMs: number;
  monotonicMs: number;
}

function clocksOf(now: number | HealthClocks | undefined): HealthClocks {
  if (now === undefined) return { wallMs: Date.now(), monotonicMs: monotonicMs() };
  return typeof now === 'number' ? { wallMs: now, monotonicMs: now } : now;
}

/** Failures by reporting node instance: a node redeployed under the same id is another instance. */
const failures = new Map<object, NodeFailure & { sinceMs: number; sinceMonotonicMs: number }>();

/**
 * `owner` (a node instance) cannot work, for `failure.reason`. Reported again while already
 * failed, it keeps the time of its first failure and takes the newer reason.
 */
export function reportNodeFailure(owner: object, failure: NodeFailure, now?: number | HealthClocks): void {
  const clocks = clocksOf(now);
  const earlier = failures.get(owner);
  const sinceMs = earlier?.sinceMs ?? clocks.wallMs;
  const sinceMonotonicMs = earlier?.sinceMonotonicMs ?? clocks.monotonicMs;
  failures.set(owner, {
    node: failure.node,
    id: failure.id,
    ...(failure.name ? { name: failure.name } : {}),
    ...(failure.sensor ? { sensor: failure.sensor } : {}),
    reason: withoutDirectories(redactCredentials(failure.reason)),
    sinceMs,
    sinceMonotonicMs,
  });
}

/**
 * The report may be open to anyone (no httpNodeAuth): an absolute file path in a reason keeps
 * only its file name, not where the gateway keeps its files.
 */
function withoutDirectories(text: string): string {
  return text.replace(/(^|[\s"'`(=,])\/(?:[^\s"'`():,/]+\/)+([^\s"'`():,/]*)/g, '$1$2');
}

/** `owner` works again, or is gone (its close handler): it no longer makes the report degraded. */
export function clearNodeFailure(owner: object): void {
  failures.delete(owner);
}

/** `startedAtMonotonicMs`: when the runtime started, on the monotonic clock (uptime). */
export function healthReport(info: { package: string; version: string; nodeRed: string; startedAtMonotonicMs: number }, now?: number | HealthClocks): HealthReport {
  const clocks = clocksOf(now);
  const sensors = listRings();
  const noAudio: HealthReport['noAudio'] = [];
  for (const capture of runningCaptures()) {
    const last = capture.lastAudioAt;
    if (last === undefined) continue;
    const idleMs = clocks.monotonicMs - last;
    if (idleMs >= NO_AUDIO_AFTER_MS) noAudio.push({ sensor: capture.sensor, forS: Math.round(idleMs / 1000) });
  }
  noAudio.sort((a, b) => a.sensor.localeCompare(b.sensor));
  const failed: HealthReport['failed'] = [...failures.values()].map(({ sinceMs, sinceMonotonicMs, ...f }) => ({ ...f, since: new Date(sinceMs).toISOString(), forS: Math.max(0, Math.round((clocks.monotonicMs - sinceMonotonicMs) / 1000)) }));
  failed.sort((a, b) => a.node.localeCompare(b.node) || (a.name ?? a.id).localeCompare(b.name ?? b.id) || a.id.localeCompare(b.id));
  const loop = eventLoopSource?.();
  return {
    status: noAudio.length || failed.length ? 'degraded' : 'ok',
    package: info.package,
    version: info.version,
    nodeRed: info.nodeRed,
    uptimeS: Math.round((clocks.monotonicMs - info.startedAtMonotonicMs) / 1000),
    sensors,
    noAudio,
    failed,
    ...(loop ? { eventLoop: loop } : {}),
  };
}
