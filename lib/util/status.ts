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
