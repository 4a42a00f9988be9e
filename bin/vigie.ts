#!/usr/bin/env node
/**
 * `vigie` command line: evaluation, simulation and audit tools that run the same library
 * code as the nodes. Each subcommand lives in lib/cli/ and is loaded on demand.
 */

interface Command {
  usage: string;
  load: () => Promise<{ main(args: string[]): Promise<number> }>;
}

const COMMANDS: Record<string, Command> = {
  start: { usage: 'vigie start --flow street-demo|gateway|control-room|FILE --user-dir DIR [--host H] [--port P]', load: () => import('../lib/cli/start') },
  'audit verify': { usage: 'vigie audit verify FILE|DIR…', load: () => import('../lib/cli/audit-verify') },
  'eval detect': { usage: 'vigie eval detect --manifest FILE.csv [--model FILE.onnx] [--threshold P] [--details]', load: () => import('../lib/cli/eval-detect') },
  'eval localize': { usage: 'vigie eval localize --scene FILE.json|NAME [--seed N] [--clock-error-ms X] [--duration S] [--no-bearings] [--summary]', load: () => import('../lib/cli/eval-localize') },
  'virtual-camera': { usage: 'vigie virtual-camera [--port N] [--user U --password P] [--quirk X[,Y]] [--degrees] [--rtsp]', load: () => import('../lib/cli/virtual-camera') },
  simulate: { usage: 'vigie simulate --scene FILE.json|NAME --out DIR [--duration S] [--seed N] [--format pcm16|pcm24|float32]', load: () => import('../lib/cli/simulate') },
};

async function run(argv: string[]): Promise<number> {
  for (const [name, cmd] of Object.entries(COMMANDS)) {
    const words = name.split(' ');
    if (words.every((w, i) => argv[i] === w)) {
      const mod = await cmd.load();
      return mod.main(argv.slice(words.length));
    }
  }
  const lines = Object.values(COMMANDS).map((c) => `  ${c.usage}`);
  process.stderr.write(`usage:\n${lines.join('\n') || '  (no commands yet)'}\n`);
  return argv.length === 0 || argv[0] === '--help' ? 0 : 2;
}

run(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`vigie: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
