/**
 * How Node-RED, started by `vigie start`, tells the launcher that it is up: the launcher gives
 * the child an IPC channel and sets LAUNCHER_ENV; the vigie-runtime plugin sends one
 * StartedMessage once the flows have started and the HTTP server listens. This needs no HTTP
 * request, so it works whatever httpNodeAuth, adminAuth, the roots or the log level are.
 */
export const LAUNCHER_ENV = 'VIGIE_START_IPC';

export interface StartedMessage {
  type: 'vigie:started';
  /** The port the HTTP server listens on; null when it does not listen (no admin, node or static root). */
  port: number | null;
  /** The address it is bound to ("0.0.0.0", "::", or one address). */
  address: string | null;
  https: boolean;
  /** httpAdminRoot and httpNodeRoot as Node-RED uses them ("/" or "/x/"), false when disabled. */
  adminRoot: string | false;
  nodeRoot: string | false;
  /** A random token, valid for this run, that lets the container's health check read <adminRoot>vigie/admin-health. */
  healthToken: string;
}

export function isStartedMessage(m: unknown): m is StartedMessage {
  return typeof m === 'object' && m !== null && (m as { type?: unknown }).type === 'vigie:started' && typeof (m as { healthToken?: unknown }).healthToken === 'string';
}

/** The header the container's health check sends its token in. */
export const HEALTH_TOKEN_HEADER = 'x-vigie-health-token';

/** The file in the user directory where `vigie start` leaves the health check its URL and token (mode 0600). */
export const HEALTH_FILE = '.vigie-health.json';

/**
 * How long Node-RED may take to stop its flows once told to (a SIGINT from `vigie start`, or its
 * launcher gone: lib/cli/launcher-watch.ts) before it is ended without waiting, ms.
 */
export const NODE_RED_STOP_MS = 20_000;
