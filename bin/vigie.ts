#!/usr/bin/env node
/**
 * `vigie` command line: evaluation, simulation and audit tools that run the same library
 * code as the nodes. Each subcommand lives in lib/cli/ and is loaded on demand; its usage line
 * is in lib/cli/usage.ts. `vigie --help` lists them; `vigie <command> --help` (or -h) prints the
 * command's usage, and its help() when it has one, and exits 0. A wrong command line (a
 * UsageError from any command, an unknown command, `vigie eval` without its subcommand) exits 2,
 * a command that fails 1.
 */
import { CommandName, USAGE, USAGE_EXIT, UsageError } from '../lib/cli/usage';

interface CommandModule {
  main(args: string[]): Promise<number>;
  /** More than the usage line, for `--help`: what the command does, its environment variables. */
  help?(): string;
}

const COMMANDS: Record<CommandName, () => Promise<CommandModule>> = {
  start: () => import('../lib/cli/start'),
  'audit verify': () => import('../lib/cli/audit-verify'),
  'audit show': () => import('../lib/cli/audit-show'),
  'eval detect': () => import('../lib/cli/eval-detect'),
  'eval localize': () => import('../lib/cli/eval-localize'),
  'virtual-camera': () => import('../lib/cli/virtual-camera'),
  simulate: () => import('../lib/cli/simulate'),
};

const wantsHelp = (args: string[]) => args.includes('--help') || args.includes('-h');

async function run(argv: string[]): Promise<number> {
  for (const [name, load] of Object.entries(COMMANDS) as Array<[CommandName, () => Promise<CommandModule>]>) {
    const words = name.split(' ');
    if (words.every((w, i) => argv[i] === w)) {
      const args = argv.slice(words.length);
      const mod = await load();
      if (wantsHelp(args)) {
        process.stdout.write(`usage: ${USAGE[name]}\n${mod.help ? mod.help() : ''}`);
        return 0;
      }
      return mod.main(args);
    }
  }
  // `vigie eval` alone, or with a word that is not one of its subcommands: name those.
  const family = (Object.keys(USAGE) as CommandName[]).filter((name) => name.includes(' ') && name.split(' ')[0] === argv[0]);
  if (family.length) {
    const sub = argv[1];
    const help = sub !== undefined && wantsHelp([sub]);
    const why = sub === undefined ? `${argv[0]} needs a subcommand` : `${argv[0]} has no subcommand "${sub}"`;
    (help ? process.stdout : process.stderr).write(`${help ? '' : `vigie: ${why}\n`}usage:\n${family.map((name) => `  ${USAGE[name]}\n`).join('')}`);
    return help ? 0 : USAGE_EXIT;
  }
  const lines = Object.values(USAGE).map((u) => `  ${u}`);
  const help = argv.length === 0 || wantsHelp(argv.slice(0, 1));
  (help ? process.stdout : process.stderr).write(
    `${help ? '' : `vigie: unknown command "${argv.join(' ')}"\n`}usage:\n${lines.join('\n')}\n` +
      'vigie <command> --help prints what a command does and its options.\n' +
      `exit status: 0 done, 1 failed, ${USAGE_EXIT} wrong command line (unknown command or option, stray argument, missing or malformed value).\n`,
  );
  return help ? 0 : USAGE_EXIT;
}

// A reader that stops early (`vigie audit show … | head`) closes the pipe: a command that prints
// a listing ends there, quietly, as a shell command does, not with a stack trace of the write
// that failed. Not the services (start, virtual-camera): their output going is no reason to stop,
// and a crash, unlike exit 0, is what a supervisor restarts.
const SERVICES = ['start', 'virtual-camera'];
if (!SERVICES.includes(process.argv[2])) {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    process.exit(process.exitCode ?? 0);
  });
}

run(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`vigie: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = err instanceof UsageError ? USAGE_EXIT : 1;
  },
);
