/** Minimal `--name value` / `--name=value` / `--flag` parsing for the vigie subcommands, with clear errors. */
export interface ParsedArgs {
  strings: Record<string, string | undefined>;
  booleans: Record<string, boolean>;
  positional: string[];
}

export function parseArgs(argv: string[], spec: { strings?: string[]; booleans?: string[]; usage: string }): ParsedArgs {
  const strings: Record<string, string | undefined> = {};
  const booleans: Record<string, boolean> = {};
  for (const b of spec.booleans ?? []) booleans[b] = false;
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    // Split at the first '=' only: a value may hold '=' itself (a path, a base64 password).
    const eq = a.indexOf('=');
    const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
    const inline = eq < 0 ? undefined : a.slice(eq + 1);
    if ((spec.booleans ?? []).includes(name)) {
      // `--reset-flow=false` must not reset: a flag takes no value at all.
      if (inline !== undefined) throw new Error(`--${name} takes no value (got "${a}"): give --${name} to turn it on, nothing to leave it off\nusage: ${spec.usage}`);
      booleans[name] = true;
    } else if ((spec.strings ?? []).includes(name)) {
      const v = inline ?? argv[++i];
      if (v === undefined || (inline === undefined && v.startsWith('--'))) throw new Error(`--${name}: expected a value\nusage: ${spec.usage}`);
      strings[name] = v;
    } else {
      throw new Error(`unknown option --${name}\nusage: ${spec.usage}`);
    }
  }
  return { strings, booleans, positional };
}
