/**
 * Vigie's rules for the vigie-outbox queue (lib/util/outbox.ts), on messages as the mqtt out takes
 * them ({topic, payload}):
 *
 * - an alert is published whole again each time it is enriched (located, camera proposed,
 *   moving, on target, waiting, released, video): each copy carries everything the last one did
 *   and more, and a subscriber keeps the latest per alert id (the console does). So a copy
 *   supersedes an earlier one still waiting with the same topic and the same `payload.id`.
 *   Only a payload of kind "detection" with an `id` and a `location` counts: that is an alert
 *   (DESIGN §2: the localizer adds `location`). A gateway's detection also has one (its own
 *   bearing), and its id is unique, so the rule never merges two different detections.
 * - a decision (kind "decision") is an event, an operator's work: never superseded, and dropped
 *   only when the outbox holds nothing else (keepLongest).
 *
 * Anything else (a payload that is a string or a Buffer, a detection without an id) is an event.
 */

type MqttLike = { topic?: unknown; payload?: unknown };

function payloadOf(msg: unknown): Record<string, unknown> | undefined {
  const p = (msg as MqttLike | null)?.payload;
  return p && typeof p === 'object' && !Array.isArray(p) && !Buffer.isBuffer(p) ? (p as Record<string, unknown>) : undefined;
}

/** The key under which a later copy of this alert replaces an earlier one; undefined for a message that supersedes nothing. */
export function alertCopyKeyOf(msg: unknown): string | undefined {
  const p = payloadOf(msg);
  const topic = (msg as MqttLike | null)?.topic;
  if (!p || p.kind !== 'detection') return undefined;
  if (typeof p.id !== 'string' || p.id === '') return undefined;
  if (!p.location || typeof p.location !== 'object') return undefined;
  if (typeof topic !== 'string') return undefined;
  // The topic first: the same id on two topics (another site, a detection and its alert) is two messages.
  return `${topic}\u0000${p.id}`;
}

/** An operator's decision: kept longest when the outbox is full. */
export function isDecision(msg: unknown): boolean {
  return payloadOf(msg)?.kind === 'decision';
}
