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
