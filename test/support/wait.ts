/**
 * Waiting in tests: for a signal (a count, a state, an event seen), never for a fixed time.
 * `waitFor` polls a condition until it holds, and fails at its deadline naming what it awaited.
 */

/** How often a condition is checked: no timing precision is assumed from it. */
const POLL_MS = 20;

type Truthy<T> = Exclude<T, undefined | null | false | 0 | ''>;

/**
 * Resolves with the condition's first truthy value; rejects after `timeoutMs` with
 * "timed out after … ms waiting for <what>" (`what` defaults to the condition's source).
 * A condition that throws rejects at once with its error.
 */
export async function waitFor<T>(cond: () => T | Promise<T>, timeoutMs: number, what?: string): Promise<Truthy<T>> {
  const deadline = performance.now() + timeoutMs; // monotonic: tests may step the wall clock
  for (;;) {
    const v = await cond();
    if (v) return v as Truthy<T>;
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what ?? String(cond).replace(/\s+/g, ' ')}`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/**
 * A child's end with everything it printed: 'exit' can come before the last of its output has
 * been read from the pipes, so this waits for 'close' too, for up to `drainMs` (a grandchild
 * that inherited the pipes would otherwise hold the test; what it leaves is the test's to check).
 */
export function exitedAndDrained(
  proc: import('node:child_process').ChildProcess,
  drainMs = 5000,
): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  const closed = new Promise<void>((resolve) => proc.once('close', () => resolve()));
  return new Promise((resolve) => {
    proc.once('exit', (code, signal) => {
      const timer = setTimeout(() => resolve({ code, signal }), drainMs);
      void closed.then(() => {
        clearTimeout(timer);
        resolve({ code, signal });
      });
    });
  });
}
