/**
 * What one node wrote to Node-RED's log, read from node-red-node-test-helper's log spy
 * (`helper.log()`: every entry since the last `resetHistory()`).
 */

/** The part of node-red-node-test-helper these functions use. */
interface LogHelper {
  log(): { args: unknown[][]; WARN: number; INFO: number };
}

type Level = 'WARN' | 'INFO';

/** The messages node `nodeId` logged at `level`, oldest first. */
export function logOf(helper: LogHelper, nodeId: string, level: Level): string[] {
  const spy = helper.log();
  return spy.args
    .map((a) => a[0] as { level?: number; id?: string; msg?: unknown } | undefined)
    .filter((e) => e?.level === spy[level] && e.id === nodeId)
    .map((e) => String(e!.msg));
}

/** The warnings node `nodeId` logged (node.warn), oldest first. */
export function warningsOf(helper: LogHelper, nodeId: string): string[] {
  return logOf(helper, nodeId, 'WARN');
}
