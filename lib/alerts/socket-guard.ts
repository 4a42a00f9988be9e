/**
 * The console's socket behind Node-RED's httpNodeAuth.
 *
 * Dashboard 2.0 attaches its socket.io server straight to Node-RED's HTTP server
 * (`<httpNodeRoot>dashboard/socket.io`), so Node-RED's httpNodeAuth never runs on it: without
 * a check of its own, anyone who reaches the port reads every alert and decides under any name.
 * This checks the socket's handshake for the same Basic credentials, as Node-RED checks them
 * (user, then the password against the bcrypt hash, or the legacy MD5 one), and adds that check
 * to Dashboard's socket server after its own rules (cross-domain handshakes and direct
 * WebSocket connections refused), which stay as they are. Browsers send the Basic credentials
 * they hold for the dashboard on its socket's requests too.
 * Knows nothing of Node-RED: the alert-dashboard node hands in the settings and the server.
 */
import { createHash, timingSafeEqual } from 'crypto';
import { compareSync } from 'bcryptjs';

/** httpNodeAuth as settings.js holds it: Basic credentials, or an HTTP middleware of the site's. */
export type NodeAuthSetting = { kind: 'none' } | { kind: 'basic'; user: string; pass: string } | { kind: 'middleware' };

/** What settings.js set as httpNodeAuth (or httpAuth, its older name, as Node-RED reads it). */
export function nodeAuthSetting(settings: { httpNodeAuth?: unknown; httpAuth?: unknown; httpNodeRoot?: unknown }): NodeAuthSetting {
  if (settings.httpNodeRoot === false) return { kind: 'none' };
  const auth = settings.httpNodeAuth || settings.httpAuth;
  if (!auth) return { kind: 'none' };
  if (typeof auth === 'function' || Array.isArray(auth)) return { kind: 'middleware' };
  const { user, pass } = auth as { user?: unknown; pass?: unknown };
  // Node-RED would refuse every request with such a setting; so does the socket.
  return { kind: 'basic', user: typeof user === 'string' ? user : '', pass: typeof pass === 'string' ? pass : '' };
}

/** User and password of an `Authorization: Basic …` header (as the basic-auth package reads it). */
export function basicCredentials(header: unknown): { user: string; password: string } | undefined {
  if (typeof header !== 'string') return undefined;
  const m = /^ *[Bb][Aa][Ss][Ii][Cc] +([A-Za-z0-9._~+/-]+=*) *$/.exec(header);
  if (!m) return undefined;
  const decoded = Buffer.from(m[1], 'base64').toString();
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

const sha256 = (text: string): Buffer => createHash('sha256').update(text).digest();

/** Passwords found right are remembered (their SHA-256) so that bcrypt runs once per password, not per request. */
const REMEMBERED_MAX = 16;

/** Checks Basic credentials against httpNodeAuth's user and hash, as Node-RED's own middleware does. */
export class NodeAuthCheck {
  private readonly remembered: Buffer[] = [];

  constructor(
    private readonly user: string,
    private readonly passHash: string,
  ) {}

  /** Whether the `Authorization` header gives httpNodeAuth's user and password. */
  allows(header: unknown): boolean {
    const given = basicCredentials(header);
    if (!given || !this.user || !this.passHash || given.user !== this.user) return false;
    const digest = sha256(given.password);
    if (this.remembered.some((d) => timingSafeEqual(d, digest))) return true;
    if (!this.passwordMatches(given.password)) return false;
    this.remembered.push(digest);
    if (this.remembered.length > REMEMBERED_MAX) this.remembered.shift();
    return true;
  }

  private passwordMatches(password: string): boolean {
    // A 32-character hash is a legacy MD5 one, which Node-RED still accepts.
    if (this.passHash.length === 32) {
      // Compared as bytes of equal length: a 32-character setting with other than ASCII in it
      // (a plain password by mistake) is longer in bytes, and timingSafeEqual would throw.
      const expected = Buffer.from(this.passHash, 'utf8');
      const got = Buffer.from(createHash('md5').update(password, 'utf8').digest('hex'));
      return expected.length === got.length && timingSafeEqual(got, expected);
    }
    try {
      return compareSync(password, this.passHash);
    } catch {
      return false; // not a bcrypt hash: Node-RED lets no one in either
    }
  }
}

/** The `Authorization` header of a socket.io socket's handshake (the request that opened it). */
export function handshakeAuthorization(socket: unknown): unknown {
  return (socket as { handshake?: { headers?: Record<string, unknown> } } | undefined)?.handshake?.headers?.authorization;
}

/** What of a socket.io server this needs. */
export interface SocketServerLike {
  use(fn: (socket: unknown, next: (err?: Error) => void) => void): unknown;
  of(namespace: string): { sockets: Map<string, { disconnect(close?: boolean): unknown }> };
}

/** The error a refused client gets (socket.io sends its message in the CONNECT_ERROR packet). */
export const SOCKET_REFUSAL = 'unauthorized: the dashboard asks for the user and password of httpNodeAuth';

const guarded = new WeakSet<object>();

/**
 * Adds the credential check to a socket.io server, once per server: a client whose handshake
 * lacks httpNodeAuth's credentials is refused before it is connected (so it gets no state and
 * no event of the dashboard's), after the rules already there. Clients connected before the
 * check was added are checked now, and disconnected when they fail it.
 * Returns false when the server was already guarded.
 */
export function guardSocketServer(io: SocketServerLike, check: NodeAuthCheck): boolean {
  if (guarded.has(io)) return false;
  guarded.add(io);
  io.use((socket, next) => (check.allows(handshakeAuthorization(socket)) ? next() : next(new Error(SOCKET_REFUSAL))));
  for (const socket of [...io.of('/').sockets.values()]) {
    if (!check.allows(handshakeAuthorization(socket))) socket.disconnect(true);
  }
  return true;
}
