/**
 * Snapshots for alerts: an HTTP GET of the camera's snapshot URI (Basic or Digest
 * authentication, as ONVIF cameras use), or one frame grabbed with ffmpeg when the camera
 * only has a stream. Kept in memory for the alert's retention, never on disk.
 */
import * as crypto from 'crypto';
import * as http from 'http';
import * as https from 'https';
import { FfmpegProcess, frameGrabArgs, inputScript, RtspTransport, classifyFfmpegExit, SourceError } from './ffmpeg';
import { monotonicMs } from '../util/clock';
import { redactCredentials } from '../util/url-credentials';
import { isJpeg } from './jpeg';

export const MAX_SNAPSHOT_BYTES = 8 * 1024 * 1024;

export interface SnapshotFetchOptions {
  username?: string;
  password?: string;
  timeoutMs?: number;
  maxBytes?: number;
  /**
   * For an https: address, whether the server's certificate must be trusted (default true);
   * false for a camera whose "Check its certificate" is unticked (its own self-signed one).
   */
  checkCertificate?: boolean;
  /** Aborts the request (the node closes). */
  signal?: AbortSignal;
  /**
   * Answer a Basic challenge over plain http: (default false: the password would cross the
   * network readable by anyone on the path; Digest, and Basic over https:, are always answered).
   */
  allowBasicOverHttp?: boolean;
}

interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

function get(url: URL, headers: Record<string, string>, timeoutMs: number, maxBytes: number, signal?: AbortSignal, checkCertificate = true): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const secure = url.protocol === 'https:';
    const mod = secure ? https : http;
    const req = mod.get(url, { headers, timeout: timeoutMs, signal, ...(secure ? { rejectUnauthorized: checkCertificate } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > maxBytes) {
          req.destroy(new Error(`snapshot larger than ${maxBytes} bytes`));
          return;
        }
        chunks.push(c);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

/** Parses `Digest realm="x", nonce="y", qop="auth"` into a map. */
export function parseAuthParams(header: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /(\w+)=(?:"([^"]*)"|([^,\s]*))/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(header))) out[m[1].toLowerCase()] = m[2] ?? m[3] ?? '';
  return out;
}

/** RFC 7616 / 2617 Digest response (MD5 or SHA-256, qop auth or none). */
export function digestAuthorization(challenge: string, method: string, uri: string, username: string, password: string, cnonce = crypto.randomBytes(8).toString('hex')): string {
  const p = parseAuthParams(challenge.replace(/^Digest\s+/i, ''));
  const algo = (p.algorithm ?? 'MD5').toUpperCase();
  const hashName = algo.startsWith('SHA-256') ? 'sha256' : 'md5';
  const h = (s: string): string => crypto.createHash(hashName).update(s).digest('hex');
  let ha1 = h(`${username}:${p.realm ?? ''}:${password}`);
  if (algo.endsWith('-SESS')) ha1 = h(`${ha1}:${p.nonce}:${cnonce}`);
  const ha2 = h(`${method}:${uri}`);
  const qop = (p.qop ?? '').split(',').map((s) => s.trim()).includes('auth') ? 'auth' : '';
  const nc = '00000001';
  const response = qop ? h(`${ha1}:${p.nonce}:${nc}:${cnonce}:${qop}:${ha2}`) : h(`${ha1}:${p.nonce}:${ha2}`);
  const parts = [`username="${username}"`, `realm="${p.realm ?? ''}"`, `nonce="${p.nonce ?? ''}"`, `uri="${uri}"`, `response="${response}"`];
  if (p.algorithm) parts.push(`algorithm=${p.algorithm}`);
  if (p.opaque !== undefined) parts.push(`opaque="${p.opaque}"`);
  if (qop) parts.push(`qop=${qop}`, `nc=${nc}`, `cnonce="${cnonce}"`);
  return `Digest ${parts.join(', ')}`;
}

/**
 * GETs a JPEG snapshot. Credentials come from the options or the URL's user:password;
 * a 401 is answered with Digest, or Basic when the camera offers only that (over plain http:
 * only with allowBasicOverHttp). Redirects are not followed: credentials go to this host only.
 */
export async function fetchSnapshot(urlText: string, opts: SnapshotFetchOptions = {}): Promise<Buffer> {
  const url = new URL(urlText);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new SourceError('bad-url', `snapshot URI ${redactCredentials(urlText).slice(0, 120)} is refused: only http: and https: snapshots are fetched`);
  const username = opts.username ?? (url.username ? decodeURIComponent(url.username) : undefined);
  const password = opts.password ?? (url.password ? decodeURIComponent(url.password) : '');
  url.username = '';
  url.password = '';
  const where = redactCredentials(urlText);
  const timeoutMs = opts.timeoutMs ?? 5000;
  const maxBytes = opts.maxBytes ?? MAX_SNAPSHOT_BYTES;
  const path = url.pathname + url.search;
  let res: RawResponse;
  try {
    res = await get(url, {}, timeoutMs, maxBytes, opts.signal, opts.checkCertificate !== false);
    if (res.status === 401 && username !== undefined) {
      const challenges = ([] as string[]).concat(res.headers['www-authenticate'] ?? []);
      const digest = challenges.find((c) => /^Digest/i.test(c));
      if (!digest && url.protocol === 'http:' && !opts.allowBasicOverHttp) {
        throw new SourceError(
          'unauthorized',
          `snapshot ${where} asks for Basic authentication over plain http:, which would send the camera's password readable on the network: not sent (the camera's "Basic over HTTP" setting allows it; Digest and https: need no setting)`,
        );
      }
      const auth = digest
        ? digestAuthorization(digest, 'GET', path, username, password ?? '')
        : `Basic ${Buffer.from(`${username}:${password ?? ''}`).toString('base64')}`;
      res = await get(url, { Authorization: auth }, timeoutMs, maxBytes, opts.signal, opts.checkCertificate !== false);
    }
  } catch (err) {
    if (err instanceof SourceError) throw err;
    const msg = err instanceof Error ? err.message : String(err);
    if (/ECONNREFUSED/.test(msg)) throw new SourceError('refused', `snapshot ${where} refused the connection`);
    throw new SourceError('unreachable', `snapshot ${where} failed: ${msg}`);
  }
  if (res.status === 401) throw new SourceError('unauthorized', `snapshot ${where} refused the credentials (401 Unauthorized)`);
  if (res.status === 404) throw new SourceError('not-found', `snapshot ${where} answered 404 Not Found`);
  if (res.status !== 200) throw new SourceError('failed', `snapshot ${where} answered HTTP ${res.status}`);
  if (!isJpeg(res.body)) throw new SourceError('failed', `snapshot ${where} is not a JPEG image (content-type ${res.headers['content-type'] ?? 'none'})`);
  return res.body;
}

/** One JPEG frame from a stream with ffmpeg (video only), when no snapshot URI exists. */
export async function grabFrame(ffmpegPath: string, streamUrl: string, opts: { transport?: RtspTransport; timeoutMs?: number; width?: number; signal?: AbortSignal } = {}): Promise<Buffer> {
  const input = { transport: opts.transport, ioTimeoutMs: opts.timeoutMs };
  const proc = new FfmpegProcess(ffmpegPath, frameGrabArgs(streamUrl, { ...input, width: opts.width }), inputScript(streamUrl, input));
  const chunks: Buffer[] = [];
  let size = 0;
  proc.stdout?.on('data', (c: Buffer) => {
    size += c.length;
    if (size <= MAX_SNAPSHOT_BYTES) chunks.push(c);
  });
  const timer = setTimeout(() => void proc.kill(), opts.timeoutMs ?? 10_000);
  const abort = (): void => void proc.kill();
  opts.signal?.addEventListener('abort', abort);
  if (opts.signal?.aborted) abort();
  try {
    const { code, signal } = await proc.exited;
    const startError = proc.startError;
    if (startError) throw startError;
    const jpeg = Buffer.concat(chunks);
    if (code === 0 && isJpeg(jpeg)) return jpeg;
    throw classifyFfmpegExit(proc.stderr, streamUrl, code, signal);
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', abort);
    await proc.kill();
  }
}

interface StoredSnapshot {
  alertId: string;
  cameraId: string;
  expiresAt: number;
  /** Taken with the camera on target (not while it was still turning). */
  settled: boolean;
  /**
   * Who links it (video-forward node ids): dropOwner() drops it once none is left. Empty for a
   * store of one user, whose clear() ends it all.
   */
  owners: Set<string>;
  /** Who started its fetch (a video manager): abandon() stops that user's fetches only. */
  takenBy?: object;
  pending?: Promise<Buffer | undefined>;
  /** Stops the fetch in progress (ffmpeg or HTTP) when the store is cleared. */
  abort: AbortController;
  jpeg?: Buffer;
  error?: string;
}

/** Default memory bound of the kept snapshots: a gateway has little to spare. */
export const SNAPSHOT_MAX_BYTES = 64 * 1024 * 1024;

/** Who keeps a snapshot put in a store that several users share (see SnapshotStore.put). */
export interface SnapshotKeeper {
  /** The owner that links it: kept until its own expiry, or until every owner has dropped it. */
  owner?: string;
  /** The user taking it: abandon(takenBy) stops its fetch. */
  takenBy?: object;
}

/**
 * Snapshots by camera and alert id, each dropped when its own retention ends; bounded in count
 * and in bytes (the oldest go first). One store may be shared by several users (the
 * video-forward nodes of a process, which come and go with each deploy): each snapshot keeps
 * its own expiry, and a user that goes stops only the fetches it started. The audit log keeps
 * its own copies on disk.
 */
export class SnapshotStore {
  private readonly items = new Map<string, StoredSnapshot>();
  /** Snapshots being fetched, also those already replaced or dropped (their fetch still runs). */
  private readonly fetching = new Set<StoredSnapshot>();
  private timer?: NodeJS.Timeout;
  private bytes = 0;

  constructor(
    private readonly maxItems = 500,
    private readonly maxBytes = SNAPSHOT_MAX_BYTES,
    /** Clock of `expiresAt`, ms: a monotonic clock by default (retention is a duration). */
    private readonly now: () => number = monotonicMs,
  ) {}

  private static key(alertId: string, cameraId: string): string {
    return `${cameraId}\u0000${alertId}`;
  }

  /** Starts fetching; the promise never rejects (the error is kept for the HTTP answer). */
  put(alertId: string, cameraId: string, expiresAt: number, fetch: (signal: AbortSignal) => Promise<Buffer>, settled = true, keeper: SnapshotKeeper = {}): Promise<Buffer | undefined> {
    const key = SnapshotStore.key(alertId, cameraId);
    // A retake (on target) is linked by whoever linked the first picture.
    const owners = new Set(this.items.get(key)?.owners);
    if (keeper.owner !== undefined) owners.add(keeper.owner);
    const item: StoredSnapshot = { alertId, cameraId, expiresAt, settled, owners, takenBy: keeper.takenBy, abort: new AbortController() };
    this.fetching.add(item);
    item.pending = fetch(item.abort.signal).then(
      (jpeg) => {
        item.pending = undefined;
        this.fetching.delete(item);
        // Replaced or dropped while fetching: not kept.
        if (this.items.get(key) !== item) return jpeg;
        item.jpeg = jpeg;
        this.bytes += jpeg.length;
        this.trimBytes(item);
        return jpeg;
      },
      (err: unknown) => {
        item.error = err instanceof Error ? err.message : String(err);
        item.pending = undefined;
        this.fetching.delete(item);
        return undefined;
      },
    );
    this.drop(key);
    this.items.set(key, item);
    while (this.items.size > this.maxItems) this.drop(this.items.keys().next().value as string);
    this.schedule();
    return item.pending;
  }

  /** Bytes of the pictures kept. */
  get sizeBytes(): number {
    return this.bytes;
  }

  private drop(key: string): void {
    const it = this.items.get(key);
    if (!it) return;
    if (it.jpeg) this.bytes -= it.jpeg.length;
    this.items.delete(key);
  }

  /** Oldest first, but never the one just kept (a single picture over the bound stays alone). */
  private trimBytes(keep: StoredSnapshot): void {
    for (const [key, it] of this.items) {
      if (this.bytes <= this.maxBytes) return;
      if (it !== keep) this.drop(key);
    }
  }

  private current(alertId: string, cameraId: string): StoredSnapshot | undefined {
    const item = this.items.get(SnapshotStore.key(alertId, cameraId));
    return item && item.expiresAt >= this.now() ? item : undefined;
  }

  /** The snapshot of an alert for that camera (waits for a fetch in progress). */
  async get(alertId: string, cameraId: string): Promise<{ jpeg?: Buffer; error?: string } | undefined> {
    const item = this.current(alertId, cameraId);
    if (!item) return undefined;
    if (item.pending) await item.pending;
    return { jpeg: item.jpeg, error: item.error };
  }

  /** Whether the alert has a snapshot of that camera: undefined (none), 'settled' or 'moving'. */
  has(alertId: string, cameraId: string): 'settled' | 'moving' | undefined {
    const item = this.current(alertId, cameraId);
    if (!item) return undefined;
    return item.settled ? 'settled' : 'moving';
  }

  /** Extends an alert's retention (a repeated alert), and adds `owner` to those who link it. */
  extend(alertId: string, cameraId: string, expiresAt: number, owner?: string): void {
    const item = this.items.get(SnapshotStore.key(alertId, cameraId));
    if (item) {
      item.expiresAt = Math.max(item.expiresAt, expiresAt);
      if (owner !== undefined) item.owners.add(owner);
    }
    this.schedule();
  }

  get size(): number {
    return this.items.size;
  }

  /** Snapshots `owner` links (with others, or alone). */
  ownedBy(owner: string): number {
    let n = 0;
    for (const it of this.items.values()) if (it.owners.has(owner)) n++;
    return n;
  }

  /**
   * `owner` links its snapshots no more (its node was removed, or no longer takes snapshots):
   * those no other owner links are dropped, their fetches stopped.
   */
  dropOwner(owner: string): void {
    for (const [key, it] of this.items) {
      if (!it.owners.delete(owner) || it.owners.size > 0) continue;
      it.abort.abort();
      this.drop(key);
    }
    this.schedule();
  }

  /**
   * Stops the fetches `takenBy` started and drops what they were to give (a picture cut short
   * is no snapshot of the alert); resolves once they have ended, an ffmpeg frame grab included.
   * The snapshots already taken stay, each until its own expiry.
   */
  async abandon(takenBy: object): Promise<void> {
    const ending: Promise<unknown>[] = [];
    for (const it of [...this.fetching]) {
      if (it.takenBy !== takenBy) continue;
      const key = SnapshotStore.key(it.alertId, it.cameraId);
      if (this.items.get(key) === it) this.drop(key);
      it.abort.abort();
      this.fetching.delete(it);
      if (it.pending) ending.push(it.pending);
    }
    this.schedule();
    await Promise.all(ending);
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    let next = Infinity;
    for (const it of this.items.values()) next = Math.min(next, it.expiresAt);
    if (next === Infinity) return;
    this.timer = setTimeout(() => this.sweep(), Math.max(10, Math.min(next - this.now() + 5, 2 ** 31 - 1)));
    // A store may outlive its users (kept for the next deploy): its sweep never holds the process up.
    this.timer.unref();
  }

  private sweep(): void {
    const now = this.now();
    for (const [key, it] of this.items) if (it.expiresAt <= now) this.drop(key);
    this.schedule();
  }

  /**
   * Drops every snapshot and stops the fetches in progress; resolves once they have ended, an
   * ffmpeg frame grab included (no ffmpeg outlives the node that closes the store).
   */
  async clear(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const ending = [...this.fetching].map((it) => it.pending);
    for (const it of this.fetching) it.abort.abort();
    this.fetching.clear();
    this.items.clear();
    this.bytes = 0;
    await Promise.all(ending);
  }
}
