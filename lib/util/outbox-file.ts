/**
 * The file of the vigie-outbox node: what waits for the broker, kept across restarts in the
 * Node-RED user directory. Knows nothing of Node-RED: it reads and writes lists of kept
 * messages (the fields the mqtt out publishes) and leaves warnings to the caller.
 */
import * as fs from 'fs';
import { writeFileAtomic } from './atomic-file';
import type { Kept } from './outbox';

/** A message as the mqtt out takes it (a Node-RED message, seen as a plain object). */
export type MqttMessage = Record<string, unknown>;

/** The parts of a message the mqtt out uses: what is written to the file and read back. */
export function storable(o: MqttMessage): Record<string, unknown> {
  const out: Record<string, unknown> = { payload: o.payload };
  for (const k of ['topic', 'qos', 'retain', 'contentType', 'responseTopic', 'correlationData', 'userProperties', 'messageExpiryInterval']) {
    if (o[k] !== undefined) out[k] = o[k];
  }
  return out;
}

/** A message read back from the file: Buffers (JSON's {type:'Buffer', data}) are Buffers again. */
export function revived(o: Record<string, unknown>): MqttMessage {
  const buf = (v: unknown) => (v && typeof v === 'object' && (v as { type?: unknown }).type === 'Buffer' && Array.isArray((v as { data?: unknown }).data) ? Buffer.from((v as { data: number[] }).data) : v);
  return { ...o, payload: buf(o.payload), ...(o.correlationData !== undefined ? { correlationData: buf(o.correlationData) } : {}) } as MqttMessage;
}

/** Reads what an earlier run kept; throws a readable error for a file it cannot use. */
export function readKept(file: string): Array<Kept<MqttMessage>> {
  const data = JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
  if (!Array.isArray(data)) throw new Error('expected a list of kept messages');
  return data.map((e, i) => {
    const k = e as { item?: unknown; keptAtMs?: unknown };
    if (!k || typeof k !== 'object' || !k.item || typeof k.item !== 'object' || typeof k.keptAtMs !== 'number') throw new Error(`entry ${i}: expected {item, keptAtMs}`);
    return { item: revived(k.item as Record<string, unknown>), keptAtMs: k.keptAtMs };
  });
}

/**
 * Writes `entries` whole (a new file renamed over the old), or removes the file when none.
 * `durable` (at close) also waits for the disk; the writes during an outage do not, so they
 * never hold the event loop up (they survive a crash or a redeploy; a power cut may lose the
 * last seconds). A message JSON cannot hold (a BigInt, a circular object) is left out of the
 * file, not the others with it; returns what was left out, by position in `entries`.
 */
export function writeKept(file: string, entries: Array<Kept<MqttMessage>>, durable: boolean): Array<{ index: number; reason: string }> {
  const texts: string[] = [];
  const left: Array<{ index: number; reason: string }> = [];
  entries.forEach((e, index) => {
    try {
      texts.push(JSON.stringify({ item: storable(e.item), keptAtMs: e.keptAtMs }));
    } catch (err) {
      left.push({ index, reason: (err as Error).message });
    }
  });
  if (!texts.length) fs.rmSync(file, { force: true });
  else writeFileAtomic(file, `[${texts.join(',')}]`, { durable });
  return left;
}
