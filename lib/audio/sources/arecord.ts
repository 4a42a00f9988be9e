/** ALSA capture through `arecord` writing raw PCM to its stdout pipe. */
import { PcmFormat, PCM_FORMATS } from '../channels';
import { BackoffOptions } from '../../util/backoff';
import { ProcessSource } from './process';

export interface ArecordOptions {
  /** ALSA PCM name, e.g. "default", "hw:1,0", "plughw:CARD=Array,DEV=0". */
  device: string;
  sampleRate: number;
  channels: number;
  format?: PcmFormat;
  binaryPath?: string;
  backoff?: BackoffOptions;
  stallMs?: number;
}

export function arecordArgs(o: ArecordOptions): string[] {
  return ['-q', '-D', o.device, '-t', 'raw', '-f', o.format ?? 'S16_LE', '-r', String(o.sampleRate), '-c', String(o.channels)];
}

export function createArecordSource(o: ArecordOptions): ProcessSource {
  if (!o.device || typeof o.device !== 'string') throw new Error('device: expected an ALSA device name such as "default" or "hw:1,0"');
  if (!Number.isInteger(o.sampleRate) || o.sampleRate < 8000 || o.sampleRate > 384000) throw new Error(`sampleRate: expected an integer 8000..384000 Hz, got ${o.sampleRate}`);
  if (!Number.isInteger(o.channels) || o.channels < 1 || o.channels > 64) throw new Error(`channels: expected an integer 1..64, got ${o.channels}`);
  const format = o.format ?? 'S16_LE';
  if (!PCM_FORMATS.includes(format)) throw new Error(`format: expected one of ${PCM_FORMATS.join(', ')}, got "${format}"`);
  return new ProcessSource('arecord', {
    binary: 'arecord',
    envVar: 'VIGIE_ARECORD',
    binaryPath: o.binaryPath,
    installHint: 'install alsa-utils (apt-get install alsa-utils) or set VIGIE_ARECORD to its path',
    args: arecordArgs({ ...o, format }),
    format,
    channels: o.channels,
    sampleRate: o.sampleRate,
    backoff: o.backoff,
    stallMs: o.stallMs,
  });
}

/** Parse `arecord -L` output into device names with descriptions (for the editor's list). */
export function parseArecordL(text: string): { name: string; description: string }[] {
  const out: { name: string; description: string }[] = [];
  let cur: { name: string; description: string } | null = null;
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    if (!/^\s/.test(line)) {
      cur = { name: line.trim(), description: '' };
      out.push(cur);
    } else if (cur) {
      cur.description = cur.description ? `${cur.description} — ${line.trim()}` : line.trim();
    }
  }
  return out;
}
