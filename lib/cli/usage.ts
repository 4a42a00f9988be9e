/**
 * The usage line of every `vigie` subcommand, in one place: the top-level help lists them,
 * `vigie <command> --help` prints its own, and the commands' errors repeat it. Kept free of
 * imports so that `vigie --help` loads nothing else.
 */
export const USAGE = {
  start:
    'vigie start [--flow street-demo|gateway|control-room|FILE.json] --user-dir DIR [--host 127.0.0.1] [--port 1880] ' +
    '[--node-red DIR] [--reset-flow] [--broker-port 1883]',
  'audit verify': 'vigie audit verify [--expect-hash [SEQ:]HASH]… [--complete] FILE|DIR…',
  'audit show':
    'vigie audit show [--since TIME] [--until TIME] [--alert ID] [--camera ID] [--actor NAME] [--type T[,T…]] [--format text|csv|jsonl] FILE|DIR…',
  'eval detect':
    'vigie eval detect --manifest FILE.csv [--model FILE.onnx] [--threshold P] [--hop-ms MS] [--min-above-background-db DB] ' +
    '[--cool-down-ms MS] [--min-duration-ms MS] [--hysteresis H] [--pad-s S] [--sensor-rate-hz HZ] [--details]',
  'eval localize': 'vigie eval localize --scene FILE.json|NAME [--seed N] [--clock-error-ms X] [--duration S] [--no-bearings] [--summary]',
  'virtual-camera':
    'vigie virtual-camera [--port N] [--host 127.0.0.1] [--user U --password P] [--quirk X[,Y]] [--degrees] [--rtsp] ' +
    '[--pan-speed DEG_PER_S] [--heading DEG] [--upside-down] [--name TEXT]',
  simulate: 'vigie simulate --scene FILE.json|NAME --out DIR [--duration S] [--seed N] [--format pcm16|pcm24|float32]',
} as const;

export type CommandName = keyof typeof USAGE;

/**
 * A wrong command line: an unknown command or option, an unexpected argument, a missing or
 * malformed option value. `vigie` prints its message and exits 2 (1 is for a command that failed).
 */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The exit status of a wrong command line, for every command. */
export const USAGE_EXIT = 2;
