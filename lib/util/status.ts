/**
 * Status texts for errors. A node's status sits under it on the canvas, often in a narrow
 * group, and the editor shows only its beginning: it says in a few words what is wrong (the
 * field, and the value refused when there is one); the whole message goes to the log
 * (node.error, or done(err), which logs it).
 */
import { ContractError, describe } from './validate';

/** Longest status text (characters): what a node's status shows before it gets cut. */
export const STATUS_MAX_CHARS = 60;

/** `text` as it is when short enough, else cut at a word boundary and ended by "…". */
export function shortText(text: string, max = STATUS_MAX_CHARS): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max - 1);
  const space = cut.lastIndexOf(' ');
  return `${(space > max / 2 ? cut.slice(0, space) : cut).replace(/[\s,;:]+$/, '')}…`;
}

/** "field: expected …", as the errors of lib/ word them (e.g. "sensor: sensorId: expected 1-64 letters…"). */
const FIELD_FIRST = /^((?:setting )?[A-Za-z][\w.[\]-]*(?:: [A-Za-z][\w.[\]-]*)*): expected /;

/**
 * The status of an error, at most STATUS_MAX_CHARS long:
 * - a ContractError: "bad <field>: <the value refused>" ("bad setting hopMs: 1500"), or
 *   "bad <field>" when no value was given;
 * - another error worded "<field>: expected …": "bad <field>" ("bad sensor: sensorId");
 * - anything else: its message, cut at a word.
 */
export function errorStatus(err: unknown): string {
  if (err instanceof ContractError) {
    const head = `bad ${err.field}`;
    if (err.got === undefined) return shortText(head);
    const text = `${head}: ${describe(err.got)}`;
    return text.length <= STATUS_MAX_CHARS ? text : head.length < STATUS_MAX_CHARS - 5 ? shortText(text) : shortText(head);
  }
  const message = err instanceof Error ? err.message : String(err);
  const m = FIELD_FIRST.exec(message);
  return shortText(m ? `bad ${m[1]}` : message);
}

/** A node's status as Node-RED takes it (NodeStatus): `{}` clears it. */
export interface StatusShown {
  fill?: 'red' | 'green' | 'yellow' | 'blue' | 'grey';
  shape?: 'ring' | 'dot';
  text?: string;
}

/** What each node shows now, as set through setStatus. */
const shownBy = new WeakMap<object, string>();

/**
 * Sets `node`'s status, unless it shows that very status already (same fill, shape and text):
 * each status set is a message to every open editor and to every Status node watching, and a
 * node often says the same thing again (three alerts waiting, then the same three a moment
 * later). A status that differs goes out at once; `{}` clears it, and setting it again after
 * that is a change. Every status of a node must go through here, else what it shows is not
 * known.
 */
export function setStatus(node: { status(s: StatusShown): void }, status: StatusShown): void {
  const key = JSON.stringify([status.fill, status.shape, status.text]);
  if (shownBy.get(node) === key) return;
  shownBy.set(node, key);
  node.status(status);
}
