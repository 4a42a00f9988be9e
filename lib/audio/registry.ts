/**
 * Process-local registry of sensor rings. Rings are found by sensor id within this
 * process only; there is no other way to reach samples (DESIGN §4.1).
 */
import { ContractError } from '../util/validate';
import { AudioRing, AudioRingOptions, AudioSpan, RingReadResult } from './ring';

const rings = new Map<string, AudioRing>();
/** Who opened each ring, in words (named to the second one that tries). */
const owners = new WeakMap<AudioRing, string>();

/**
 * Create the ring of a sensor. A sensor has one capture owner: a second open is an error, naming
 * the owner when it said who it is (`owner`: e.g. `mic-capture "Mast 1" (node 3f…)`), so that of
 * two copies of one capture (a tab copied) the log tells which holds the sensor.
 */
export function openRing(opts: AudioRingOptions, owner?: string): AudioRing {
  const existing = rings.get(opts.sensor);
  if (existing && !existing.isClosed) {
    const by = owners.get(existing);
    throw new Error(`sensor "${opts.sensor}" already has an open audio ring${by ? `, opened by ${by}` : ''} (one capture per sensor)`);
  }
  const ring = new AudioRing(opts);
  rings.set(opts.sensor, ring);
  if (owner) owners.set(ring, owner);
  return ring;
}

/** Zero and drop a sensor's ring (only if it is the given one, so a late close cannot kill a newer ring). */
export function closeRing(ring: AudioRing): void {
  ring.close();
  if (rings.get(ring.sensor) === ring) rings.delete(ring.sensor);
}

export function findRing(sensor: string): AudioRing | undefined {
  const r = rings.get(sensor);
  return r && !r.isClosed ? r : undefined;
}

/** Read the samples a reference points to. */
export function readSpan(span: AudioSpan, opts?: { allowGaps?: boolean }): RingReadResult {
  const ring = findRing(span.sensor);
  if (!ring) return { ok: false, reason: 'unknown-sensor', message: `no audio ring for sensor "${span.sensor}" in this process` };
  return ring.read(span, opts);
}

/** Sensor ids with an open ring (for editor lists and health). */
export function listRings(): string[] {
  return [...rings.keys()].filter((k) => !rings.get(k)!.isClosed);
}

/**
 * Why a block's span could not be read, as an error naming the block's field and what it
 * expected (a node passes it to done(err)): `payload.start` for audio not written yet, already
 * gone or across a gap, `payload.frames` for more than the ring holds, `payload.sensor` for no ring.
 */
export function spanReadError(span: AudioSpan, r: Extract<RingReadResult, { ok: false }>, where = 'payload'): ContractError {
  switch (r.reason) {
    case 'unknown-sensor':
    case 'closed':
      return new ContractError(`${where}.sensor`, `a sensor whose audio ring is open in this Node-RED (${r.message})`, span.sensor);
    case 'invalid':
      return new ContractError(`${where}.frames`, `a span the ring can hold (${r.message})`, span.frames);
    case 'future':
      return new ContractError(`${where}.start`, `a span already written to the ring (${r.message})`, span.start);
    case 'expired':
      return new ContractError(`${where}.start`, `a span the ring still holds (${r.message})`, span.start);
    case 'gap':
      return new ContractError(`${where}.start`, `a span without a gap in the audio (${r.message})`, span.start);
  }
}
