/** Build a capture source from plain settings (what the mic-capture editor form holds). */
import { BackoffOptions } from '../../util/backoff';
import { PcmFormat } from '../channels';
import { createArecordSource } from './arecord';
import { createFfmpegSource } from './ffmpeg';
import { redactCredentials } from '../../util/url-credentials';
import { InputSource } from './input';
import { SimulatedSource } from './simulated';
import { CaptureSource } from './source';
import { WavFileSource } from './wavfile';

export { CaptureSource, SourceState, SourceStatus } from './source';
export { ProcessSource } from './process';
export { InputSource } from './input';
export { SimulatedSource } from './simulated';
export { WavFileSource, resolveWavPath } from './wavfile';
export { parseArecordL, arecordArgs } from './arecord';
export { ffmpegArgs, ffmpegInputProblem, isFileInput, isPlainPath } from './ffmpeg';

export type SourceType = 'alsa' | 'ffmpeg' | 'wav' | 'input' | 'simulated';
export const SOURCE_TYPES: readonly SourceType[] = ['alsa', 'ffmpeg', 'wav', 'input', 'simulated'];

export type SourceConfig =
  | { type: 'alsa'; device: string; sampleRate: number; channels: number; format?: PcmFormat; binaryPath?: string; backoff?: BackoffOptions; stallMs?: number }
  | { type: 'ffmpeg'; url: string; username?: string; password?: string; sampleRate: number; channels: number; realtime?: boolean; binaryPath?: string; backoff?: BackoffOptions; stallMs?: number }
  | { type: 'wav'; file: string; baseDir?: string; loop?: boolean; pace?: 'realtime' | 'fast'; sampleRate?: number }
  | { type: 'input' }
  | { type: 'simulated'; scene: string; sensorId: string; realtime?: boolean; blockMs?: number };

/** What a capture reads, for logs: "ffmpeg rtsp://***@cam/audio", "simulated scene street-demo (sensor corner-nw)". */
export function describeSource(cfg: SourceConfig): string {
  switch (cfg.type) {
    case 'alsa':
      return `ALSA device ${cfg.device}`;
    case 'ffmpeg':
      return `ffmpeg ${redactCredentials(cfg.url)}`;
    case 'wav':
      return `WAV file ${cfg.file}`;
    case 'input':
      return 'audio blocks on the node input';
    case 'simulated':
      return `simulated scene ${cfg.scene} (sensor ${cfg.sensorId})`;
  }
}

export function createSource(cfg: SourceConfig): CaptureSource {
  switch (cfg.type) {
    case 'alsa':
      return createArecordSource(cfg);
    case 'ffmpeg':
      return createFfmpegSource(cfg);
    case 'wav':
      return new WavFileSource(cfg);
    case 'input':
      return new InputSource();
    case 'simulated':
      return new SimulatedSource(cfg);
    default:
      throw new Error(`source: expected one of ${SOURCE_TYPES.join(', ')}, got ${JSON.stringify((cfg as { type?: unknown }).type)}`);
  }
}
