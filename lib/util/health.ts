/**
 * The health report of a Node-RED process running Vigie (GET vigie/health, see
 * nodes/vigie-runtime.ts): what is running, and whether each sensor's capture still delivers
 * audio. It names sensors and says how long one has received nothing, never anything of the audio.
 */
import { runningCaptures } from '../audio/capture';
import { listRings } from '../audio/registry';

/** A running capture (mic-capture) that has received no audio for this long makes the report "degraded". */
export const NO_AUDIO_AFTER_MS = 10_000;

export interface HealthReport {
  /** "degraded": at least one capture has received no audio for NO_AUDIO_AFTER_MS (see noAudio). */
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
}

export function healthReport(info: { package: string; version: string; nodeRed: string; startedAt: number }, now = Date.now()): HealthReport {
  const sensors = listRings();
  const noAudio: HealthReport['noAudio'] = [];
  for (const capture of runningCaptures()) {
    const last = capture.lastAudioAt;
    if (last === undefined) continue;
    const idleMs = now - last;
    if (idleMs >= NO_AUDIO_AFTER_MS) noAudio.push({ sensor: capture.sensor, forS: Math.round(idleMs / 1000) });
  }
  noAudio.sort((a, b) => a.sensor.localeCompare(b.sensor));
  return {
    status: noAudio.length ? 'degraded' : 'ok',
    package: info.package,
    version: info.version,
    nodeRed: info.nodeRed,
    uptimeS: Math.round((now - info.startedAt) / 1000),
    sensors,
    noAudio,
  };
}
