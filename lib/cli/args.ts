/** Minimal `--name value` / `--flag` parsing for the vigie subcommands, with clear errors. */
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
    const [name, inline] = a.slice(2).split('=', 2);
    if ((spec.booleans ?? []).includes(name)) {
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
