/** Minimal `--name value` / `--name=value` / `--flag` parsing for the vigie subcommands, with clear errors. */
import { UsageError } from './usage';

export interface ParsedArgs {
  strings: Record<string, string | undefined>;
  booleans: Record<string, boolean>;
}

export interface ArgsSpec {
  strings?: string[];
  booleans?: string[];
  usage: string;
  /** What to suggest for a stray word (e.g. "--flow gateway" for "gateway"), if anything. */
  hint?: (word: string) => string | undefined;
}

/**
 * Parses `argv` against `spec`; throws UsageError, with the usage line, on an unknown option, a
 * single-dash option, a missing value, a value given to a flag, and any word that is not an
 * option or its value: no vigie command takes positional arguments through here, and one
 * silently ignored (`vigie start gateway`) would run something else than what was asked.
 */
export function parseArgs(argv: string[], spec: ArgsSpec): ParsedArgs {
  const strings: Record<string, string | undefined> = {};
  const booleans: Record<string, boolean> = {};
  for (const b of spec.booleans ?? []) booleans[b] = false;
  const names = [...(spec.strings ?? []), ...(spec.booleans ?? [])];
  const fail = (text: string): never => {
    throw new UsageError(`${text}\nusage: ${spec.usage}`);
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) {
      if (/^-[^\d.]/.test(a)) fail(`unknown option ${a}: options take two dashes${dashHint(a, names)}`);
      const hint = spec.hint?.(a);
      fail(`unexpected argument "${a}"${hint ? `; did you mean ${hint}?` : ''}`);
    }
    // Split at the first '=' only: a value may hold '=' itself (a path, a base64 password).
    const eq = a.indexOf('=');
    const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
    const inline = eq < 0 ? undefined : a.slice(eq + 1);
    if ((spec.booleans ?? []).includes(name)) {
      // `--reset-flow=false` must not reset: a flag takes no value at all.
      if (inline !== undefined) fail(`--${name} takes no value (got "${a}"): give --${name} to turn it on, nothing to leave it off`);
      booleans[name] = true;
    } else if ((spec.strings ?? []).includes(name)) {
      const v = inline ?? argv[++i];
      if (v === undefined || (inline === undefined && v.startsWith('--'))) fail(`--${name}: expected a value`);
      strings[name] = v;
    } else {
      fail(`unknown option --${name}`);
    }
  }
  return { strings, booleans };
}

/** "; did you mean --port?" for `-port`, or for `-p` when one option starts with p. */
function dashHint(word: string, names: string[]): string {
  const bare = word.slice(1).split('=')[0];
  const starting = names.filter((n) => n.startsWith(bare));
  const match = names.includes(bare) ? bare : starting.length === 1 ? starting[0] : undefined;
  return match ? `; did you mean --${match}?` : '';
}

/** What a numeric option accepts; the bounds are inclusive except `above`. */
export interface NumberRule {
  min?: number;
  /** The value must be greater than this (a duration: above 0). */
  above?: number;
  max?: number;
  /** A whole number (a port, a seed, a rate in Hz). */
  integer?: boolean;
  /** The unit, as said in the error: "seconds", "ms", "Hz", "degrees". */
  unit?: string;
  /** What the error calls the value instead of "a number" ("a TCP port"). */
  what?: string;
}

/**
 * The value of numeric option `--name`, undefined when it is not given. Anything else than a
 * finite number within `rule` (a blank, "-5" for a duration, 1.5 for a port) is a UsageError
 * naming the option and what it expects, with the usage line: a value out of range would
 * otherwise run (a negative duration renders nothing and exits 0) or fail later as exit 1.
 */
export function numberOption(parsed: ParsedArgs, name: string, rule: NumberRule, usage: string): number | undefined {
  const v = parsed.strings[name];
  if (v === undefined) return undefined;
  const n = v.trim() === '' ? NaN : Number(v);
  const ok = Number.isFinite(n) && (!rule.integer || Number.isInteger(n)) && (rule.min === undefined || n >= rule.min) && (rule.above === undefined || n > rule.above) && (rule.max === undefined || n <= rule.max);
  if (!ok) throw new UsageError(`--${name}: expected ${describeNumber(rule)}, got ${JSON.stringify(v)}\nusage: ${usage}`);
  return n;
}

/** "a number of seconds above 0", "a whole number from 0 to 4294967295", "a TCP port from 0 to 65535". */
export function describeNumber(rule: NumberRule): string {
  const kind = rule.what ?? `${rule.integer ? 'a whole number' : 'a number'}${rule.unit ? ` of ${rule.unit}` : ''}`;
  const low = rule.min ?? rule.above;
  if (low !== undefined && rule.max !== undefined) return rule.above !== undefined ? `${kind} above ${low}, at most ${rule.max}` : `${kind} from ${low} to ${rule.max}`;
  if (rule.above !== undefined) return `${kind} above ${rule.above}`;
  if (rule.min !== undefined) return `${kind} of at least ${rule.min}`;
  if (rule.max !== undefined) return `${kind} of at most ${rule.max}`;
  return kind;
}

/** The --seed of the simulator's commands: makeRng takes the whole part of a seed, modulo 2^32. */
export const SEED_RULE: NumberRule = { integer: true, min: 0, max: 2 ** 32 - 1 };

/** A --port or --broker-port (0: any free port). */
export const PORT_RULE: NumberRule = { integer: true, min: 0, max: 65535, what: 'a TCP port' };
