/**
 * Message contracts, version 1 (DESIGN §2). Payload shapes that travel between Vigie nodes
 * and over MQTT. None of them ever carries audio samples (DESIGN §4.1).
 */
import { AudioSpan } from './audio/ring';
import { loadSchemas, SchemaName, schemaNameOf } from './schemas';
import { ContractError, isObject, optionalNumber, requireNumber, requireObject, requireOneOf, requireString } from './util/validate';

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
/**
 * Voice classes, matched as parts of a label in any letter case ("Male speech, man speaking").
 * Besides speech, the human-voice classes of AudioSet-style models (YAMNet) that a drop-in
 * model may score: people talking, laughing, crying or singing are not alerts, and no score of
 * theirs is published (DESIGN §4.3). Scream is an alert class (DESIGN §2), not in this list.
 */
export const VOICE_LABELS: readonly string[] = [
  'speech', 'voice', 'conversation', 'narration', 'monologue', 'chatter', 'whisper', 'crowd', 'babble', 'babbling', 'shout',
  'laugh', 'giggle', 'snicker', 'chuckle', 'chortle', 'crying', 'sobbing', 'baby cry', 'infant cry',
  'singing', 'choir', 'chant', 'mantra', 'yodel', 'rapping', 'humming',
  // AudioSet's other human-voice classes: Shout's kinds, Wail/moan, Sigh, Groan, Grunt, Whimper
  // (a dog's whimper is caught too: left out of scores, it is no alert class).
  'yell', 'bellow', 'whoop', 'battle cry', 'moan', 'groan', 'grunt', 'sigh', 'whimper',
  // Street data sets' voice classes: "people talking" (DCASE/TUT), "person-or-small-group-talking"
  // (SONYC-UST), "children" (TUT), "children_playing" (UrbanSound8K); AudioSet's "Vocal music",
  // "A capella", "Beatboxing", and "Cheering" (a crowd's voices, as crowd is).
  'talk', 'child', 'vocal', 'a capella', 'a cappella', 'beatbox', 'cheer',
];

export function isVoiceLabel(label: string): boolean {
  const l = label.toLowerCase();
  return VOICE_LABELS.some((v) => l === v || l.includes(v));
}

/**
 * Vigie's words for ordinary street sound: the shipped model's background labels (voices
 * left out) and car alarms. With the alert classes, the only labels whose scores a
 * multi-label model publishes (a detection's `scores`, the classifier's monitoring output):
 * a drop-in card mapping all 521 AudioSet names would otherwise send some 500 scores a window,
 * cough, sneeze and snoring among them. A model's other sounds count once mapped onto one of
 * these ("Jackhammer" → "construction", anything → "other").
 */
export const STREET_LABELS: readonly string[] = ['car_alarm', 'car_horn', 'construction', 'dog_bark', 'fireworks', 'footsteps', 'music', 'other', 'siren', 'street', 'traffic', 'weather'];

/** An alert class or one of Vigie's street labels: a label whose score may be published (never a voice label). */
export function isPublishableLabel(label: string): boolean {
  return ((ALERT_LABELS as readonly string[]).includes(label) || STREET_LABELS.includes(label)) && !isVoiceLabel(label);
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
  /**
   * The event's loudest 125 ms (dBFS, and dB(A) re full scale), and the sensor's background
   * then: the L90 of the last minute, dB(A) re full scale (absent while still being learned).
   */
  level: { dbfs: number; dba?: number; backgroundDba?: number };
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
   * (turned to another alert, or home after the quiet period); "unavailable": no camera was
   * free for it in time, or none can see it now. Only "failed" is a fault of the camera (it
   * did not answer, or refused to turn).
   */
  state: 'moving' | 'on-target' | 'preset' | 'failed' | 'proposed' | 'waiting' | 'released' | 'unavailable';
  errorDeg?: number;
  moveMs?: number;
  /** Why the camera is waiting, released, unavailable or failed, in words for operators. */
  reason?: string;
  /**
   * The id of the alert holding the camera when this state was sent, when another alert held it
   * (proposed, waiting, released, unavailable): the alert that would lose its picture if the
   * camera were moved. It is as of the copy sent: a waiting alert is sent again only when its
   * words change (at most every 5 s), a proposal once, so heldFor may name an alert that has
   * let the camera go since.
   * Optional: an older ptz-steer leaves it out (the console then reads the ids its reason names).
   */
  heldFor?: string;
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
  /** The localizer's fusion: which sensors reported the incident (docs/localization.md). */
  incident?: { id: string; reports: Array<{ sensor: string; detection: string; label: string; onset: number; bearing?: number }> };
  /** Set by a flow to override the label's camera priority (ptz-steer). */
  priority?: number;
}

export interface Decision {
  kind: 'decision';
  alertId: string;
  action: 'confirm' | 'dismiss' | 'escalate';
  operator: string;
  /** Epoch seconds. */
  time: number;
  note?: string;
  /**
   * How many decisions the alert had before this one (0: the first). alert-dashboard records a
   * decision only on the alert as its operator last saw it, so a higher one deliberately changes
   * an earlier decision. Optional: decisions without it are read as before.
   */
  revision?: number;
}

export function validateAudioBlock(p: unknown): AudioBlock {
  const o = requireObject(p, 'payload');
  if (o.kind !== 'audio') throw new ContractError('payload.kind', '"audio"', o.kind);
  for (const k of SAMPLE_FIELDS) {
    if (k in o) throw new ContractError(`payload.${k}`, 'no such field: an audio block is a reference without samples (privacy guarantee 1)');
  }
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

/** Top-level fields that would carry samples (the detection schema's `not required`). */
const SAMPLE_FIELDS = ['samples', 'data', 'audio'];

/**
 * Refuses a detection or alert that breaks a privacy guarantee on its face: samples (DESIGN
 * §4.1) or a voice label (§4.3). Refused, not cleaned: the sender is broken and must be fixed.
 * The value is never described in the error: it could be audio, and errors are logged.
 * Called by screenAlert only, before any field is picked.
 */
function refusePrivacyBreaches(o: Record<string, unknown>, where: string): void {
  for (const k of SAMPLE_FIELDS) {
    if (k in o) throw new ContractError(`${where}.${k}`, 'no such field (privacy guarantee 1: audio samples never travel in messages)');
  }
  if (isObject(o.span)) {
    for (const k of Object.keys(o.span)) {
      if (!SPAN_FIELDS.includes(k)) {
        throw new ContractError(`${where}.span.${k}`, `only ${SPAN_FIELDS.join(', ')} in a span, a reference to the ring (privacy guarantee 1: audio samples never travel in messages)`);
      }
    }
  }
  if (typeof o.label === 'string' && isVoiceLabel(o.label)) {
    throw new ContractError(`${where}.label`, 'a sound class, not a voice class (privacy guarantee 3: voice classes are never alert labels)', o.label);
  }
}

/** What an alert field holds: text, a number, an object of known fields, a list of one kind, or scores. */
export type FieldShape = 'string' | 'number' | 'scores' | readonly [FieldShape] | ObjectShape;
export type ObjectShape = { readonly [key: string]: FieldShape };

type Schemas = Record<SchemaName, Record<string, unknown>>;

/**
 * The shape of the fields a schema declares, read from the schema itself: `const` and `enum` of
 * text are text, `integer` is a number, an object of `properties` (with those of an `allOf`
 * `$ref`) is an object of those fields, `items` a list, and an object whose only fields are
 * `additionalProperties` numbers is scores (named classes, voice classes dropped). Anything else
 * is an error naming where, so that a schema the picking cannot honour fails at load, not later.
 */
function shapeOf(s: Record<string, unknown>, schemas: Schemas, where: string): FieldShape {
  const values = 'const' in s ? [s.const] : Array.isArray(s.enum) ? s.enum : undefined;
  if (values) {
    const kinds = new Set(values.map((v) => typeof v));
    if (kinds.size === 1 && (kinds.has('string') || kinds.has('number'))) return [...kinds][0] as 'string' | 'number';
    throw new Error(`${where}: expected a const or enum of text, or of numbers`);
  }
  if (s.type === 'string' || s.type === 'number') return s.type;
  if (s.type === 'integer') return 'number';
  if (s.type === 'array' && isObject(s.items)) return [shapeOf(s.items, schemas, `${where}[]`)];
  if (s.type === 'object' || Array.isArray(s.allOf)) {
    if (s.properties === undefined && isObject(s.additionalProperties)) {
      if (s.additionalProperties.type === 'number') return 'scores';
      throw new Error(`${where}: expected additionalProperties of type number (scores)`);
    }
    const out: Record<string, FieldShape> = {};
    for (const part of (s.allOf as unknown[] | undefined) ?? []) {
      const ref = isObject(part) && typeof part.$ref === 'string' ? part.$ref : undefined;
      if (!ref) throw new Error(`${where}: expected an allOf of $ref only`);
      Object.assign(out, objectShapeOf(schemas[schemaNameOf(ref)], schemas, where));
    }
    for (const [k, sub] of Object.entries(isObject(s.properties) ? s.properties : {})) {
      if (!isObject(sub)) throw new Error(`${where}.${k}: expected a schema object`);
      out[k] = shapeOf(sub, schemas, `${where}.${k}`);
    }
    return out;
  }
  throw new Error(`${where}: no field shape for this schema (type ${JSON.stringify(s.type)})`);
}

function objectShapeOf(s: Record<string, unknown>, schemas: Schemas, where: string): ObjectShape {
  const shape = shapeOf(s, schemas, where);
  if (typeof shape === 'string' || Array.isArray(shape)) throw new Error(`${where}: expected an object of fields`);
  return shape as ObjectShape;
}

/**
 * Every field of an alert, nested, as the alert schema declares it (the detection's fields
 * included through its `allOf`). ALERT_FIELDS is this of the package's schemas/ folder.
 */
export function alertFieldsOf(schemas: Schemas): ObjectShape {
  return objectShapeOf(schemas.alert, schemas, 'alert.schema.json');
}

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null) {
    for (const x of Object.values(v)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
}

/**
 * The alert contract, read once when this module loads: the schema file is its only statement,
 * so a field added to the schema goes on, and one not in it never does. Frozen: no importer can
 * widen it.
 */
const SCHEMAS: Schemas = deepFreeze(loadSchemas());
export const ALERT_FIELDS: ObjectShape = deepFreeze(alertFieldsOf(SCHEMAS));

/** A span is a reference into the sensor's ring: its fields, and no other (the schema closes it). */
const SPAN_FIELDS: readonly string[] = (() => {
  const span = ALERT_FIELDS.span;
  if (typeof span !== 'object' || Array.isArray(span)) throw new Error('alert.schema.json: span: expected an object of fields (a reference into the ring)');
  return Object.keys(span);
})();

/**
 * Bounds on what the contract's open-ended fields may hold, so that no field of an alert can
 * smuggle audio under a known name: 2000 characters of text (a base64 string that long holds
 * under 50 ms of 16 kHz audio), 256 list items, 1024 score classes (YAMNet has 521) with names
 * of at most 100 characters.
 */
export const CONTRACT_BOUNDS = { textChars: 2000, listItems: 256, scoreClasses: 1024, scoreNameChars: 100 } as const;

/** Whether every item of `list` passes `fits`, a sparse list's holes included (some(), every() and forEach() skip them). */
function everyItem(list: readonly unknown[], fits: (x: unknown) => boolean): boolean {
  for (let i = 0; i < list.length; i++) if (!fits(list[i])) return false;
  return true;
}

/** `v` with only the fields `shape` knows; `dropped` hears of the others, by name (never by value). */
function keepKnown(v: unknown, shape: FieldShape, path: string, dropped: string[]): unknown {
  if (shape === 'string' || shape === 'number') {
    if (typeof v !== shape) {
      dropped.push(`${path} (expected a ${shape})`);
      return undefined;
    }
    if (shape === 'string' && (v as string).length > CONTRACT_BOUNDS.textChars) {
      dropped.push(`${path} (longer than ${CONTRACT_BOUNDS.textChars} characters)`);
      return undefined;
    }
    return v;
  }
  if (Array.isArray(shape)) {
    const each = shape[0] as FieldShape;
    const leaf = each === 'string' || each === 'number';
    // A list of the wrong kind goes whole: 48 000 numbers make one entry, not 48 000.
    if (!Array.isArray(v) || !everyItem(v, (x) => (leaf ? typeof x === each : isObject(x)))) {
      dropped.push(`${path} (expected a list of ${leaf ? `${each}s` : 'objects'})`);
      return undefined;
    }
    if (v.length > CONTRACT_BOUNDS.listItems) {
      dropped.push(`${path} (more than ${CONTRACT_BOUNDS.listItems} items)`);
      return undefined;
    }
    return v.map((x, i) => keepKnown(x, each, `${path}[${i}]`, dropped));
  }
  if (!isObject(v)) {
    dropped.push(`${path} (expected an object)`);
    return undefined;
  }
  const out: Record<string, unknown> = {};
  let scoreClasses = 0;
  for (const [k, x] of Object.entries(v)) {
    if (x === undefined) continue;
    let sub: FieldShape | undefined;
    if (shape === 'scores') {
      if (k.length > CONTRACT_BOUNDS.scoreNameChars) {
        dropped.push(`${path} (a class name longer than ${CONTRACT_BOUNDS.scoreNameChars} characters)`);
        continue;
      }
      if (++scoreClasses > CONTRACT_BOUNDS.scoreClasses) {
        dropped.push(`${path} (classes beyond the first ${CONTRACT_BOUNDS.scoreClasses})`);
        break;
      }
      // Dropped, not refused: a gateway's model (YAMNet-style) may score speech beside a real
      // gunshot, and refusing would lose the alert; the score itself never goes on (DESIGN §4.3).
      if (isVoiceLabel(k)) {
        dropped.push(`${path}.${k} (a voice class: privacy guarantee 3)`);
        continue;
      }
      sub = 'number';
    } else {
      sub = Object.hasOwn(shape, k) ? (shape as { readonly [key: string]: FieldShape })[k] : undefined;
    }
    if (!sub) {
      // An unknown field could carry audio under any name; only the contract's fields go on.
      // A long name is not repeated (it could itself carry audio into the log).
      dropped.push(`${path}.${k.length <= FIELD_NAME_SHOWN_CHARS ? k : `<a field name of ${k.length} characters>`} (not in the alert contract)`);
      continue;
    }
    const kept = keepKnown(x, sub, `${path}.${k}`, dropped);
    if (kept !== undefined) out[k] = kept;
  }
  return out;
}

/** Longer names of unknown fields are not repeated in warnings: they are said by their length. */
const FIELD_NAME_SHOWN_CHARS = 64;

/**
 * Names the fields that contractFields (screenAlert) drops, by path and never by value. Made
 * once per node, it names each field once (list positions folded: `payload.x[3]` is
 * `payload.x[]`): a flow that adds a field to every message warns once, not at every message,
 * and the log stays readable. A plain function given instead hears of every message.
 */
export class DroppedFieldWarnings {
  /** At most this many distinct fields are remembered; then one last warning says so. */
  static readonly MAX_NAMED = 1000;
  private readonly named = new Set<string>();
  private full = false;

  constructor(private readonly warn: (text: string) => void, private readonly once = true) {}

  report(alertId: unknown, dropped: string[]): void {
    let fresh = dropped;
    if (this.once) {
      if (this.full) return;
      fresh = [];
      for (const d of dropped) {
        const key = d.replace(/\[\d+\]/g, '[]');
        if (this.named.has(key)) continue;
        if (this.named.size >= DroppedFieldWarnings.MAX_NAMED) break;
        this.named.add(key);
        fresh.push(d);
      }
      this.full = this.named.size >= DroppedFieldWarnings.MAX_NAMED;
    }
    if (!fresh.length) return;
    const shown = fresh.slice(0, 8).join(', ') + (fresh.length > 8 ? ` and ${fresh.length - 8} more` : '');
    const id = typeof alertId === 'string' ? alertId.slice(0, 60) : '(no id)';
    const tail = !this.once ? '' : this.full ? `; ${DroppedFieldWarnings.MAX_NAMED} fields named, further ones are dropped without a word` : '; each field is named once';
    this.warn(`alert ${id}: dropped ${shown}; only the alert contract's fields are passed on (privacy guarantees 1 and 3)${tail}`);
  }
}

/** How a caller hears of dropped fields: a node's DroppedFieldWarnings, or a function told of every message. */
export type DroppedFieldListener = DroppedFieldWarnings | ((text: string) => void);

/** What a schema expects of a value, in the words of ContractError ("a finite number >= 0 <= 1"). */
function expectedOf(s: Record<string, unknown>, schemas: Schemas, got: unknown): string {
  if (typeof s.$ref === 'string') return expectedOf(schemas[schemaNameOf(s.$ref)], schemas, got);
  if ('const' in s) return JSON.stringify(s.const);
  if (Array.isArray(s.enum)) return `one of ${s.enum.map((v) => JSON.stringify(v)).join(', ')}`;
  const words: string[] = [];
  if (s.type === 'number' || s.type === 'integer') {
    words.push(s.type === 'integer' ? 'an integer' : 'a finite number');
    if (typeof s.minimum === 'number') words.push(`>= ${s.minimum}`);
    if (typeof s.maximum === 'number') words.push(`<= ${s.maximum}`);
  } else if (s.type === 'string') {
    words.push(typeof s.pattern === 'string' ? `text matching ${s.pattern}` : s.minLength ? 'a non-empty string' : 'a string');
    if (typeof got === 'string' && got.length > CONTRACT_BOUNDS.textChars) words.push(`of at most ${CONTRACT_BOUNDS.textChars} characters`);
  } else if (s.type === 'array') {
    const item = isObject(s.items) && typeof s.items.type === 'string' ? s.items.type : undefined;
    words.push(item ? `a list of ${item}s` : 'a list');
  } else words.push('an object');
  return words.join(' ');
}

/** The field at `keys` below `where`: "payload.incident.reports[0].onset". */
function fieldName(where: string, keys: string[]): string {
  return keys.reduce((p, k) => (k.startsWith('[') ? `${p}${k}` : `${p}.${k}`), where);
}

/** The value at `keys` (object keys, and list indices as "[0]") in `o`, for an error's "got". */
function valueAt(o: unknown, keys: string[]): unknown {
  let v = o;
  for (const key of keys) {
    const k = key.startsWith('[') ? key.slice(1, -1) : key;
    if (typeof v !== 'object' || v === null || !Object.hasOwn(v, k)) return undefined;
    v = (v as Record<string, unknown>)[k];
  }
  return v;
}

/**
 * Checks `v` (an alert's contract fields) against schema `s`: types, finite numbers and their
 * ranges, enums, patterns, required fields. Throws a ContractError naming the first field that
 * breaks it; `got` is read from `original` (the message as it came, before fields were dropped).
 * `partial`: the top level's required fields are not asked for (ptz-steer and video-forward
 * take alerts of other systems that have no detection fields), but every field given must be valid.
 */
function checkSchema(s: Record<string, unknown>, v: unknown, keys: string[], ctx: { where: string; original: unknown; partial: boolean; schemas: Schemas }): void {
  const fail = (): never => {
    const got = keys.length ? valueAt(ctx.original, keys) : ctx.original;
    throw new ContractError(fieldName(ctx.where, keys), expectedOf(s, ctx.schemas, got), got === undefined ? v : got);
  };
  if (typeof s.$ref === 'string') return checkSchema(ctx.schemas[schemaNameOf(s.$ref)], v, keys, ctx);
  for (const part of Array.isArray(s.allOf) ? s.allOf : []) if (isObject(part)) checkSchema(part, v, keys, ctx);
  if ('const' in s && v !== s.const) fail();
  if (Array.isArray(s.enum) && !s.enum.includes(v)) fail();
  switch (s.type) {
    case 'string':
      if (typeof v !== 'string' || v.length < (typeof s.minLength === 'number' ? s.minLength : 0)) fail();
      if (typeof s.pattern === 'string' && !new RegExp(s.pattern).test(v as string)) fail();
      return;
    case 'number':
    case 'integer':
      if (typeof v !== 'number' || !Number.isFinite(v) || (s.type === 'integer' && !Number.isInteger(v))) fail();
      if ((typeof s.minimum === 'number' && (v as number) < s.minimum) || (typeof s.maximum === 'number' && (v as number) > s.maximum)) fail();
      return;
    case 'array':
      if (!Array.isArray(v)) fail();
      // By index: forEach would skip a sparse list's holes, which are no items of the schema's kind.
      if (isObject(s.items)) for (let i = 0; i < (v as unknown[]).length; i++) checkSchema(s.items as Record<string, unknown>, (v as unknown[])[i], [...keys, `[${i}]`], ctx);
      return;
    case 'object': {
      if (!isObject(v)) fail();
      const o = v as Record<string, unknown>;
      const props = isObject(s.properties) ? s.properties : {};
      if (!(ctx.partial && keys.length === 0) && Array.isArray(s.required)) {
        for (const r of s.required as string[]) {
          if (o[r] !== undefined) continue;
          const sub = isObject(props[r]) ? (props[r] as Record<string, unknown>) : {};
          const got = valueAt(ctx.original, [...keys, r]);
          throw new ContractError(fieldName(ctx.where, [...keys, r]), expectedOf(sub, ctx.schemas, got), got);
        }
      }
      for (const [k, x] of Object.entries(o)) {
        const sub = Object.hasOwn(props, k) ? props[k] : s.additionalProperties;
        if (x !== undefined && isObject(sub)) checkSchema(sub, x, [...keys, k], ctx);
      }
      return;
    }
  }
}

/** An alert's parts that later stages add, each of which can be left out whole. */
const LATER_PARTS: readonly string[] = ['location', 'camera', 'video', 'incident', 'priority'];

/**
 * Leaves out of `alert` (its contract fields, already tidied by the caller: the console's store)
 * each later stage's part that breaks the alert schema, a camera without its pan, a video without
 * its link, so that what is kept validates; returns each left out, by field and what it expected
 * (never by value), for a DroppedFieldWarnings. `original`, the message as it came. A detection's
 * own field breaking it is thrown (validateDetection checks them first).
 */
export function leaveOutBrokenParts(alert: Alert, original: unknown, where = 'payload'): string[] {
  const left: string[] = [];
  for (;;) {
    try {
      checkSchema(SCHEMAS.alert, alert, [], { where, original, partial: false, schemas: SCHEMAS });
      return left;
    } catch (err) {
      const part = err instanceof ContractError ? err.field.slice(where.length + 1).split(/[.[]/)[0] : '';
      if (!LATER_PARTS.includes(part) || !(part in alert)) throw err;
      delete (alert as unknown as Record<string, unknown>)[part];
      left.push(`${(err as ContractError).field} (expected ${(err as ContractError).expected}; the whole ${part} left out)`);
    }
  }
}

/** A detection or alert that screenAlert let through: its contract fields may be taken. */
export interface ScreenedAlert {
  /**
   * A copy with the contract's fields only (privacy guarantees 1 and 3): voice-class scores,
   * unknown fields and fields of the wrong type are dropped and named to `warn` (a node's
   * DroppedFieldWarnings names each field once; a function hears of every message).
   */
  contractFields(warn?: DroppedFieldListener): Alert;
  /**
   * The contract fields, refused (a ContractError naming the first field that breaks it) unless
   * they validate against `schema`: types, finite numbers in their ranges, lists of values, text
   * patterns, required fields (one dropped as too long or of the wrong type is missing). With
   * `partial`, the top level's required fields are not asked for (an alert of another system
   * may lack the detection's own), but every field given must be valid.
   */
  checkedFields(schema: 'detection' | 'alert', warn?: DroppedFieldListener, opts?: { partial?: boolean }): Alert;
}

/**
 * The one way to an alert's contract fields: first refuses what breaks a privacy guarantee on
 * its face (refusePrivacyBreaches), then gives the fields. A caller with checks of its own
 * makes them between the two, so that a breach is the first error it reports: screenAlert,
 * its checks, then `contractFields`. Nothing else in this module picks fields, so no caller
 * can pass an alert on without the refusal.
 */
export function screenAlert(o: Record<string, unknown>, where = 'payload'): ScreenedAlert {
  refusePrivacyBreaches(o, where);
  return {
    contractFields(warn?: DroppedFieldListener): Alert {
      const dropped: string[] = [];
      const out = keepKnown(o, ALERT_FIELDS, where, dropped) as Alert;
      if (dropped.length && warn) (warn instanceof DroppedFieldWarnings ? warn : new DroppedFieldWarnings(warn, false)).report(o.id, dropped);
      return out;
    },
    checkedFields(schema: 'detection' | 'alert', warn?: DroppedFieldListener, opts: { partial?: boolean } = {}): Alert {
      const out = this.contractFields(warn);
      checkSchema(SCHEMAS[schema], out, [], { where, original: o, partial: !!opts.partial, schemas: SCHEMAS });
      return out;
    },
  };
}

/** screenAlert and its contract fields at once, for a caller with no checks of its own. */
export function contractFieldsOf(o: Record<string, unknown>, where = 'payload', warn?: DroppedFieldListener): Alert {
  return screenAlert(o, where).contractFields(warn);
}

/**
 * Checks a detection (or an alert: later fields are kept) and returns its contract fields
 * only. Refuses samples and voice labels before its other checks; drops voice scores and
 * unknown fields, naming them to `warn` (see screenAlert).
 */
/**
 * A sensor id: 1-64 letters, digits, "_", "-" or ".", starting with a letter or a digit. It is a
 * level of MQTT topics, so never "/", "+" or "#", and short enough to name in a status.
 */
export const SENSOR_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const SENSOR_ID_WORDS = 'a sensor id (1-64 letters, digits, "_", "-" or ".", starting with a letter or a digit)';

/**
 * Refuses a label that is not one of the alert classes (the detection schema's list): typed
 * otherwise ("Glass Break") it would rank last for a camera, and go out on MQTT where no control
 * room expects it. Voice labels are refused before, by screenAlert, as a privacy breach.
 */
export function requireAlertLabel(o: Record<string, unknown>, where = 'payload'): AlertLabel {
  if (!(ALERT_LABELS as readonly unknown[]).includes(o.label)) throw new ContractError(`${where}.label`, `one of the alert classes ${ALERT_LABELS.map((l) => `"${l}"`).join(', ')}`, o.label);
  return o.label as AlertLabel;
}

/**
 * `alertFields`: an alert's later fields (location, camera, video, incident, priority) are checked
 * against the alert schema too; without it they are kept as they are (the console tidies them).
 */
export function validateDetection(p: unknown, warn?: DroppedFieldListener, opts: { alertFields?: boolean } = {}): Detection {
  const o = requireObject(p, 'payload');
  if (o.kind !== 'detection') throw new ContractError('payload.kind', '"detection"', o.kind);
  const screened = screenAlert(o);
  requireString(o, 'id');
  requireString(o, 'sensor');
  // Detections also come from other gateways over MQTT: a sensor id that could not be one is refused here.
  if (!SENSOR_ID_PATTERN.test(o.sensor as string)) throw new ContractError('payload.sensor', SENSOR_ID_WORDS, o.sensor);
  requireString(o, 'label');
  requireAlertLabel(o);
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
  if (!SENSOR_ID_PATTERN.test(span.sensor as string)) throw new ContractError('payload.span.sensor', SENSOR_ID_WORDS, span.sensor);
  requireNumber(span, 'start', { integer: true, min: 0 }, 'payload.span');
  requireNumber(span, 'frames', { integer: true, min: 0 }, 'payload.span');
  // The rest (scores' range, the level, sensorInfo…) as the schema states it.
  return screened.checkedFields(opts.alertFields ? 'alert' : 'detection', warn);
}

export function validateDecision(p: unknown): Decision {
  const o = requireObject(p, 'payload');
  if (o.kind !== 'decision') throw new ContractError('payload.kind', '"decision"', o.kind);
  requireString(o, 'alertId');
  requireOneOf(o, 'action', ['confirm', 'dismiss', 'escalate'] as const);
  requireString(o, 'operator');
  requireNumber(o, 'time', { min: 0 });
  if (o.note !== undefined && typeof o.note !== 'string') throw new ContractError('payload.note', 'a string', o.note);
  const revision = optionalNumber(o, 'revision', { integer: true, min: 0 });
  // The decision's own fields only (the schema closes it): nothing else rides on to MQTT.
  const d: Decision = { kind: 'decision', alertId: o.alertId as string, action: o.action as Decision['action'], operator: o.operator as string, time: o.time as number };
  if (o.note !== undefined) d.note = o.note as string;
  if (revision !== undefined) d.revision = revision;
  return d;
}
