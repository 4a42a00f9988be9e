/**
 * Message contracts, version 1 (DESIGN §2). Payload shapes that travel between Vigie nodes
 * and over MQTT. None of them ever carries audio samples (DESIGN §4.1).
 */
import { AudioSpan } from './audio/ring';
import { ContractError, requireNumber, requireObject, requireOneOf, requireString } from './util/validate';

export const CONTRACT_VERSION = 1;

export type ClockSource = 'local' | 'ntp' | 'ptp' | 'gps';
export const CLOCK_SOURCES: readonly ClockSource[] = ['local', 'ntp', 'ptp', 'gps'];

/** mic-capture → classifier, localizer. A reference to samples in the sensor's ring. */
export interface AudioBlock {
  kind: 'audio';
  sensor: string;
  seq: number;
  sampleRate: number;
  channels: number;
  /** Frame index since capture began. */
  start: number;
  frames: number;
  /** Wall-clock time of frame `start`, seconds since the epoch (float). */
  time: number;
  clock: ClockSource;
}

export const ALERT_LABELS = ['gunshot', 'glass_break', 'crash', 'scream', 'explosion', 'tire_skid'] as const;
export type AlertLabel = (typeof ALERT_LABELS)[number];

/** Labels that are never alerts and never published in scores (DESIGN §4.3). */
export const VOICE_LABELS: readonly string[] = ['speech', 'voice', 'conversation', 'singing', 'whisper', 'crowd', 'babble', 'laughter', 'shout'];

export function isVoiceLabel(label: string): boolean {
  const l = label.toLowerCase();
  return VOICE_LABELS.some((v) => l === v || l.includes(v));
}

/** classifier → localizer. */
export interface Detection {
  kind: 'detection';
  id: string;
  sensor: string;
  label: string;
  confidence: number;
  /** Wall-clock seconds, refined to ~1 ms. */
  onset: number;
  offset: number;
  level: { dbfs: number; dba?: number };
  scores: Record<string, number>;
  span: AudioSpan;
  /** Carried for fusion across gateways (MQTT): where the sensor is and how good its clock is. */
  sensorInfo?: { lat: number; lon: number; alt?: number; heading?: number; clock: ClockSource; clockErrorMs?: number };
}

export interface Location {
  method: 'doa' | 'bearings' | 'tdoa' | 'none';
  bearing?: number;
  elevation?: number;
  bearingStd?: number;
  position?: { lat: number; lon: number; alt?: number; errorM: number };
  sensors: string[];
  /** Why the location is partial or missing, when it is. */
  reason?: string;
  confidence?: number;
}

export interface CameraState {
  id: string;
  name: string;
  pan: number;
  tilt: number;
  zoom: number;
  target: { bearing: number; tilt: number; distanceM?: number };
  /**
   * "proposed": confirm mode, not moved yet; "waiting": every camera that can see it is busy
   * with a more important alert; "released": a camera looked at it and has left it for good
   * (turned to another alert, or home after the quiet period): no fault, unlike "failed".
   */
  state: 'moving' | 'on-target' | 'preset' | 'failed' | 'proposed' | 'waiting' | 'released';
  errorDeg?: number;
  moveMs?: number;
  /** Why the camera is waiting, released or failed, in words for operators. */
  reason?: string;
}

export interface VideoLinks {
  live: string;
  mjpeg?: string;
  snapshot?: string;
  /** Epoch ms until which the relay is kept for this alert. */
  until: number;
}

/** A detection as it travels down the chain, growing fields. */
export interface Alert extends Detection {
  location?: Location;
  camera?: CameraState;
  video?: VideoLinks;
}

export interface Decision {
  kind: 'decision';
  alertId: string;
  action: 'confirm' | 'dismiss' | 'escalate';
  operator: string;
  /** Epoch seconds. */
  time: number;
  note?: string;
}

export function validateAudioBlock(p: unknown): AudioBlock {
  const o = requireObject(p, 'payload');
  if (o.kind !== 'audio') throw new ContractError('payload.kind', '"audio"', o.kind);
  if ('samples' in o || 'data' in o) throw new ContractError('payload', 'a reference without samples (no "samples"/"data" field)');
  return {
    kind: 'audio',
    sensor: requireString(o, 'sensor'),
    seq: requireNumber(o, 'seq', { integer: true, min: 0 }),
    sampleRate: requireNumber(o, 'sampleRate', { min: 1000, max: 384000 }),
    channels: requireNumber(o, 'channels', { integer: true, min: 1, max: 64 }),
    start: requireNumber(o, 'start', { integer: true, min: 0 }),
    frames: requireNumber(o, 'frames', { integer: true, min: 1 }),
    time: requireNumber(o, 'time', { min: 0 }),
    clock: requireOneOf(o, 'clock', CLOCK_SOURCES),
  };
}

export function validateDetection(p: unknown): Detection {
  const o = requireObject(p, 'payload');
  if (o.kind !== 'detection') throw new ContractError('payload.kind', '"detection"', o.kind);
  requireString(o, 'id');
  requireString(o, 'sensor');
  requireString(o, 'label');
  requireNumber(o, 'confidence', { min: 0, max: 1 });
  const onset = requireNumber(o, 'onset', { min: 0 });
  const offset = requireNumber(o, 'offset', { min: 0 });
  if (offset < onset) throw new ContractError('payload.offset', `>= onset (${onset})`, offset);
  const level = requireObject(o.level, 'payload.level');
  requireNumber(level, 'dbfs', { max: 0.5 }, 'payload.level');
  const scores = requireObject(o.scores, 'payload.scores');
  for (const [k, v] of Object.entries(scores)) {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new ContractError(`payload.scores.${k}`, 'a finite number', v);
  }
  const span = requireObject(o.span, 'payload.span');
  requireString(span, 'sensor', 'payload.span');
  requireNumber(span, 'start', { integer: true, min: 0 }, 'payload.span');
  requireNumber(span, 'frames', { integer: true, min: 0 }, 'payload.span');
  return o as unknown as Detection;
}

export function validateDecision(p: unknown): Decision {
  const o = requireObject(p, 'payload');
  if (o.kind !== 'decision') throw new ContractError('payload.kind', '"decision"', o.kind);
  requireString(o, 'alertId');
  requireOneOf(o, 'action', ['confirm', 'dismiss', 'escalate'] as const);
  requireString(o, 'operator');
  requireNumber(o, 'time', { min: 0 });
  if (o.note !== undefined && typeof o.note !== 'string') throw new ContractError('payload.note', 'a string', o.note);
  return o as unknown as Decision;
}
