/** The benchmarks' command-line options: `--name value`, or the default when absent. */

/** A number option; anything else is refused, naming the option. */
export function numberArg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return dflt;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v)) throw new Error(`--${name}: expected a number, got ${JSON.stringify(process.argv[i + 1] ?? null)}`);
  return v;
}

/** A text option (a path, a name). */
export function textArg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : dflt;
}
