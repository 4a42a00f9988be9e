/**
 * Field checks for message contracts. Every failure names the field and what was expected,
 * so a node can pass the message straight to `done(err)` and its status.
 */

export class ContractError extends Error {
  readonly field: string;
  /** What the field should have held, in words. */
  readonly expected: string;
  /** The value refused, when there was one (undefined: none given). */
  readonly got: unknown;
  constructor(field: string, expected: string, got?: unknown) {
    super(`${field}: expected ${expected}${got === undefined ? '' : `, got ${describe(got)}`}`);
    this.name = 'ContractError';
    this.field = field;
    this.expected = expected;
    this.got = got;
  }
}

export function describe(v: unknown): string {
  if (v === undefined) return 'undefined';
  if (v === null) return 'null';
  if (typeof v === 'number') return Number.isNaN(v) ? 'NaN' : String(v);
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v);
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (ArrayBuffer.isView(v)) return `a ${v.constructor.name}`;
  return `a ${typeof v}`;
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * A message's payload as an mqtt in node may hand it over: the object itself, or its JSON text
 * (a string, or a Buffer of UTF-8, when the node is not set to parse JSON). Text that is not
 * JSON is refused, naming `payload` and `expected` ("an alert object"…).
 */
export function parsedPayload(payload: unknown, expected: string): unknown {
  const text = Buffer.isBuffer(payload) ? payload.toString('utf8') : payload;
  if (typeof text !== 'string') return payload;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ContractError('payload', `${expected} or its JSON text`, text);
  }
}

export function requireObject(v: unknown, field: string): Record<string, unknown> {
  if (!isObject(v)) throw new ContractError(field, 'an object', v);
  return v;
}

export function requireString(o: Record<string, unknown>, key: string, prefix = 'payload'): string {
  const v = o[key];
  if (typeof v !== 'string' || v.length === 0) throw new ContractError(`${prefix}.${key}`, 'a non-empty string', v);
  return v;
}

export interface NumberRule {
  min?: number;
  max?: number;
  integer?: boolean;
}

export function requireNumber(o: Record<string, unknown>, key: string, rule: NumberRule = {}, prefix = 'payload'): number {
  const v = o[key];
  const field = `${prefix}.${key}`;
  const what = [rule.integer ? 'an integer' : 'a finite number', rule.min !== undefined ? `>= ${rule.min}` : '', rule.max !== undefined ? `<= ${rule.max}` : '']
    .filter(Boolean)
    .join(' ');
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ContractError(field, what, v);
  if (rule.integer && !Number.isInteger(v)) throw new ContractError(field, what, v);
  if (rule.min !== undefined && v < rule.min) throw new ContractError(field, what, v);
  if (rule.max !== undefined && v > rule.max) throw new ContractError(field, what, v);
  return v;
}

export function optionalNumber(o: Record<string, unknown>, key: string, rule: NumberRule = {}, prefix = 'payload'): number | undefined {
  return o[key] === undefined ? undefined : requireNumber(o, key, rule, prefix);
}

export function requireOneOf<T extends string>(o: Record<string, unknown>, key: string, allowed: readonly T[], prefix = 'payload'): T {
  const v = o[key];
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    throw new ContractError(`${prefix}.${key}`, `one of ${allowed.map((a) => `"${a}"`).join(', ')}`, v);
  }
  return v as T;
}

/** A numeric setting's accepted range, and its default when it has one (see settingsReader). */
export interface SettingRule {
  min: number;
  max: number;
  integer?: boolean;
  default?: number;
}

/** How errors word a setting's range: "a number from -90 to 90", "an integer from 1 to 64". */
export function rangeWords(rule: { min: number; max: number; integer?: boolean }): string {
  return `${rule.integer ? 'an integer' : 'a number'} from ${rule.min} to ${rule.max}`;
}

/**
 * A node's numeric setting from the editor: empty (unset, null, blank text) means `dflt`;
 * anything else must be a number within [min, max], an integer when `integer`, or a
 * ContractError names the field and the range.
 */
export function settingInRange<D extends number | undefined>(v: unknown, field: string, rule: { min: number; max: number; integer?: boolean }, dflt: D): number | D {
  if (v === undefined || v === null || (typeof v === 'string' && v.trim() === '')) return dflt;
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN;
  const ok = rule.integer ? Number.isInteger(n) : Number.isFinite(n);
  if (!ok || n < rule.min || n > rule.max) throw new ContractError(field, rangeWords(rule), v);
  return n;
}

export interface SettingsReaderOptions {
  /** Put before the key to name the field in errors: "setting " (a node's settings, the default), "camera."… */
  prefix?: string;
  /**
   * A setting whose rule has no default, left empty: undefined (the default: what reads it
   * chooses), or 'required' (refused, the error naming the field and the range).
   */
  withoutDefault?: 'undefined' | 'required';
  /**
   * A value it cannot use is not thrown but told here ("<error>; using <default>", "none" for a
   * NaN default), and the default applies: for nodes that must run whatever their settings.
   */
  onRefused?: (text: string) => void;
}

/** What a settings reader gives for `key`: a number when the rule has a default, else a number or undefined. */
export type SettingValue<R, K extends keyof R> = R[K] extends { default: number } ? number : number | undefined;

/**
 * The reader of a node's numeric settings: `read(key)` is `values[key]` checked by
 * settingInRange against `rules[key]` (its range, and its default when empty), the error's
 * field being `<prefix><key>` ("setting hopMs").
 */
export function settingsReader<R extends { [K in keyof R]: SettingRule }>(values: object, rules: R, options: SettingsReaderOptions & { withoutDefault: 'required' }): (key: keyof R & string) => number;
export function settingsReader<R extends { [K in keyof R]: SettingRule }>(values: object, rules: R, options?: SettingsReaderOptions): <K extends keyof R & string>(key: K) => SettingValue<R, K>;
export function settingsReader<R extends { [K in keyof R]: SettingRule }>(values: object, rules: R, options: SettingsReaderOptions = {}): (key: keyof R & string) => number | undefined {
  const { prefix = 'setting ', withoutDefault = 'undefined', onRefused } = options;
  const raw = values as Record<string, unknown>;
  const read = (key: keyof R & string): number | undefined => {
    const rule: SettingRule = rules[key];
    const field = `${prefix}${key}`;
    const n = settingInRange(raw[key], field, rule, rule.default);
    if (n === undefined && withoutDefault === 'required') throw new ContractError(field, rangeWords(rule), raw[key]);
    return n;
  };
  if (!onRefused) return read;
  return (key) => {
    try {
      return read(key);
    } catch (err) {
      const dflt = rules[key].default;
      onRefused(`${(err as Error).message}; using ${dflt === undefined || Number.isNaN(dflt) ? 'none' : dflt}`);
      return dflt;
    }
  };
}
