/**
 * The video relay service behind the video-forward node: one relay per camera and kind,
 * shared by every viewer; started by an alert or a viewer, stopped after `idleStopMs` with
 * no alert hold and no viewer; capped in number. Serves, under `<root>vigie/video/<cameraId>/`:
 *   ticket        HTTP JSON {"ticket","expiresInMs"}: a single-use ticket for `live`
 *   live          WebSocket, ?ticket=<ticket>: text {"type":"init","mime":...}, then binary
 *                 init segment (ftyp+moov), then moof+mdat fragments, starting on a keyframe
 *   mjpeg         HTTP multipart/x-mixed-replace JPEG stream
 *   snapshot.jpg  ?alert=<alertId>: the snapshot taken for that alert (none when `snapshots` is off)
 * No route ever carries audio (DESIGN §4.4, §4.6); every live-view start is audited (§4.5).
 * Knows nothing of Node-RED: the node passes HTTP requests and upgrades in.
 */
import { EventEmitter } from 'events';
import * as http from 'http';
import { Duplex } from 'stream';
import { WebSocket, WebSocketServer } from 'ws';
import { auditBus } from '../alerts/bus';
import { VideoLinks } from '../contracts';
import { BackoffOptions } from '../util/backoff';
import { monotonicMs } from '../util/clock';
import { checkCameraUrl, resolveFfmpeg, RtspTransport, SourceError, withCredentials } from './ffmpeg';
import { InitSegment, MediaSegment } from './mp4';
import { LiveRelay, MjpegRelay, Relay, RelayKind } from './relay';
import { fetchSnapshot, grabFrame, SNAPSHOT_MAX_BYTES, SnapshotStore } from './snapshot';
import { LiveTickets, TICKET_TTL_MS } from './tickets';
import { hostOf, isOwnHostResolved } from '../util/url-credentials';
import { interruptionNotice, RefusalReason, refusalNotice } from './viewer-words';
import { basicOnly, rtspAuthSchemes } from './rtsp-auth';

export interface VideoSource {
  streamUrl: string;
  snapshotUrl?: string;
  username?: string;
  password?: string;
  /**
   * The hosts the user and password may be sent to: the camera's own (its vigie-camera's Host,
   * and the hosts of the Stream and Snapshot URLs typed there). A stream or snapshot URI the
   * camera gives for another host gets no credentials. Absent or empty: none is sent.
   */
  ownHosts?: readonly string[];
  /** Answer a snapshot's Basic challenge over plain http: (the camera's "Basic over HTTP"; default false). */
  basicOverHttp?: boolean;
  /** false: an https: snapshot address is fetched without checking the camera's certificate (its "Check its certificate" unticked). */
  checkCertificate?: boolean;
}

export interface VideoManagerOptions {
  /** Stream and snapshot URIs of a camera (ONVIF or configured); rejects for an unknown camera. */
  resolveSource: (cameraId: string) => Promise<VideoSource>;
  /** Whether a camera id exists, so a viewer cannot start relays for unknown cameras. */
  knowsCamera?: (cameraId: string) => boolean;
  /** Explicit ffmpeg path (node setting); else VIGIE_FFMPEG, else PATH. */
  ffmpegPath?: string;
  /** A relay with no alert hold and no viewer stops after this long. */
  idleStopMs?: number;
  /** Maximum concurrent relays (live and MJPEG each count one ffmpeg). */
  maxRelays?: number;
  mjpegFps?: number;
  mjpegWidth?: number;
  /** How long an alert keeps its camera's relay. */
  keepForMs?: number;
  /**
   * Another manager (another video-forward node) already relaying this camera, if any: an
   * alert then holds that relay rather than start a second ffmpeg on the same camera (many
   * cameras serve only 2 to 4 streams at once).
   */
  relayElsewhere?: (cameraId: string, kind: RelayKind) => VideoManager | undefined;
  /**
   * Take a snapshot for each alert (default true). Off: no picture is fetched from the camera
   * or grabbed from its stream, none is kept, the links carry no `snapshot`, and the snapshot
   * route answers as for an unknown alert.
   */
  snapshots?: boolean;
  /** How long an alert's snapshot is served (at least keepForMs): operators open alerts late. */
  snapshotKeepMs?: number;
  /** Memory bound of the snapshots kept (the oldest are dropped first); for the manager's own store. */
  snapshotMaxBytes?: number;
  /**
   * A store of snapshots shared with other managers, which outlives this one: the video-forward
   * nodes of a process keep their alerts' snapshots through a redeploy there. Its clock must be
   * this manager's `now`. close() then stops only the fetches this manager started, and leaves
   * the snapshots taken, each until its own expiry. Default: a store of its own, emptied by close().
   */
  snapshotStore?: SnapshotStore;
  /** Who links the snapshots this manager keeps in a shared store (its node's id): see SnapshotStore.dropOwner. */
  snapshotOwner?: string;
  /**
   * The identity of a camera's current configuration (the deployed camera object): when
   * cameraChanged() finds another than the one its relays were started with, they restart on
   * the new source. Absent: every cameraChanged() restarts them.
   */
  sourceIdentity?: (cameraId: string) => unknown;
  /**
   * A camera no longer configured (knowsCamera false after cameraChanged()) keeps its relays,
   * without ffmpeg, this long for its configuration to come back (a redeploy replaces it), then
   * they stop (default 30 s). stopRelaysOfGoneCameras() stops them sooner, as once a deploy ended.
   */
  cameraGoneStopMs?: number;
  transport?: RtspTransport;
  /** Also cut MP4 fragments at this duration (lower latency on long GOPs); 0 = at keyframes only. */
  fragmentMs?: number;
  stallMs?: number;
  ioTimeoutMs?: number;
  backoff?: BackoffOptions;
  /** Prefix of every URL (Node-RED's httpNodeRoot), e.g. "/" or "/api/". */
  httpRoot?: string;
  /**
   * Audit actor of a view whose viewer gave no name (`?viewer=`); default: the viewer's
   * address. The address is always in the event's details.viewer.
   */
  actor?: string;
  /** A viewer whose socket holds more than this is behind: it skips to the next keyframe. */
  maxViewerBufferBytes?: number;
  /** Access check of live WebSocket clients (Node-RED's webSocketNodeVerifyClient setting). */
  verifyClient?: VerifyClient;
  /** Ticket store for the live WebSocket; share one between the managers of one server. */
  tickets?: LiveTickets;
  /**
   * Clock for durations, ms (tests): relay holds and idle stops, snapshot retention. A
   * monotonic clock by default; payload.video.until stays a wall clock time.
   */
  now?: () => number;
  /** Reverse proxies whose X-Forwarded-For is believed (see ViewerOfOptions). */
  trustedProxies?: readonly string[];
  /** HTTP requests passed Node-RED's own httpNodeAuth: their Basic user name is checked (see ViewerOfOptions). */
  basicUserChecked?: boolean;
  /** Live and MJPEG views open at once from one client address (default 8): more get HTTP 429 / close 1013. */
  maxViewersPerAddress?: number;
  /** Viewers of one relay at once (default 32): more get HTTP 503 / close 1013. */
  maxViewersPerRelay?: number;
  /**
   * A view is audited once per camera, client address and authenticated user in this long
   * (default 60 s): reconnections and floods do not fill the log, and a self-declared name or
   * alert id, which the client chooses, cannot multiply entries.
   */
  viewAuditWindowMs?: number;
  /** Monotonic clock in ms for the audit window (tests). */
  clockMs?: () => number;
}

export const MAX_VIEWERS_PER_ADDRESS = 8;
export const MAX_VIEWERS_PER_RELAY = 32;
export const VIEW_AUDIT_WINDOW_MS = 60_000;

/** A viewer over a cap: `scope` says which (the client's address, or the relay of that camera). */
export class ViewerLimitError extends Error {
  constructor(
    readonly scope: 'address' | 'relay',
    message: string,
  ) {
    super(message);
    this.name = 'ViewerLimitError';
  }
}

export type VerifyClient = ConstructorParameters<typeof WebSocketServer>[0] extends infer O ? (O extends { verifyClient?: infer V } ? V : never) : never;

export class UnknownCameraError extends Error {
  constructor(cameraId: string) {
    super(`unknown camera "${cameraId}": no vigie-camera config node with that id`);
    this.name = 'UnknownCameraError';
  }
}

export class RelayRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RelayRefusedError';
  }
}

interface Entry {
  cameraId: string;
  kind: RelayKind;
  relay: Relay;
  viewers: Set<object>;
  holdUntil: number;
  lastActivity: number;
  idleTimer?: NodeJS.Timeout;
}

export interface VideoStats {
  relays: number;
  viewers: number;
  /** Relays whose ffmpeg has not produced video yet. */
  connecting: number;
  maxRelays: number;
  /** Relays whose source is failing, with the reason. */
  failing: { cameraId: string; kind: RelayKind; error: string; code?: string }[];
  /** The last refusal (cap), if any since the last successful start. */
  refused?: string;
}

const MULTIPART_BOUNDARY = 'vigieframe';

/**
 * The video-forward node's numeric settings (seconds, frames/s, pixels, ms as its form shows
 * them): accepted range and default (empty = the default). Its editor form refuses what is
 * outside these ranges (test/unit/editor-validators.test.ts).
 */
export const VIDEO_FORWARD_SETTINGS = {
  keepForS: { min: 5, max: 86_400, default: 120 },
  idleStopS: { min: 1, max: 86_400, default: 30 },
  maxRelays: { min: 1, max: 64, integer: true, default: 4 },
  mjpegFps: { min: 0.2, max: 30, default: 5 },
  mjpegWidth: { min: 64, max: 3840, integer: true, default: 640 },
  fragmentMs: { min: 0, max: 10_000, integer: true, default: 0 },
  snapshotKeepS: { min: 5, max: 604_800, default: 3600 },
} as const;

/**
 * A request's target as a URL, or undefined when it cannot be read (a request is not ours
 * then). The path is taken as sent, as Node-RED's own handlers read it: "//host:99999/" is a
 * path there, not a host and a port (resolved against a base, it would be one, and throw).
 * Anyone can send any request line: this never throws.
 */
export function requestUrl(url: string | undefined): URL | undefined {
  try {
    const target = url || '/';
    return target.startsWith('/') ? new URL('http://x' + target) : new URL(target); // absolute form: "GET http://host/path"
  } catch {
    return undefined;
  }
}

/** `<root>vigie/video/<cameraId>/<what>` → parts, or undefined when the path is not ours. */
export function parseVideoPath(pathname: string, root = '/'): { cameraId: string; what: 'live' | 'mjpeg' | 'snapshot' | 'ticket' } | undefined {
  const prefix = normaliseRoot(root) + 'vigie/video/';
  if (!pathname.startsWith(prefix)) return undefined;
  const rest = pathname.slice(prefix.length).split('/');
  if (rest.length !== 2 || !rest[0]) return undefined;
  let cameraId: string;
  try {
    cameraId = decodeURIComponent(rest[0]);
  } catch {
    return undefined;
  }
  const what = rest[1] === 'live' ? 'live' : rest[1] === 'mjpeg' ? 'mjpeg' : rest[1] === 'snapshot.jpg' ? 'snapshot' : rest[1] === 'ticket' ? 'ticket' : undefined;
  return what ? { cameraId, what } : undefined;
}

export function normaliseRoot(root: string): string {
  let r = root || '/';
  if (!r.startsWith('/')) r = '/' + r;
  if (!r.endsWith('/')) r += '/';
  return r;
}

/** The payload.video links for an alert (root-relative URLs); no snapshot link when none is taken. */
export function videoLinks(cameraId: string, alertId: string, until: number, root = '/', withSnapshot = true): VideoLinks {
  const base = `${normaliseRoot(root)}vigie/video/${encodeURIComponent(cameraId)}`;
  const links: VideoLinks = { live: `${base}/live`, mjpeg: `${base}/mjpeg`, until };
  if (withSnapshot) links.snapshot = `${base}/snapshot.jpg?alert=${encodeURIComponent(alertId)}`;
  return links;
}

/** Who is watching, for the audit log and the per-address cap. */
export interface Viewer {
  /**
   * The audit entry's words: "user (address)" for a user Node-RED's HTTP authentication let in,
   * "name (said, address)" for a name the viewer gave itself (`?viewer=`), else the address.
   */
  label: string;
  /** A user or a said name is known. */
  named: boolean;
  /** The address of the connection itself (always recorded). */
  address: string;
  /** The client's address as a trusted proxy reported it (X-Forwarded-For), when the connection is from one. */
  forwardedFor?: string;
  /** The user Node-RED's HTTP authentication let in (checked). */
  user?: string;
  /** A name the viewer gave itself with `?viewer=` (not checked). */
  saidName?: string;
}

export interface ViewerOfOptions {
  /**
   * Addresses of reverse proxies whose X-Forwarded-For is believed (settings.js
   * `vigieTrustedProxies`). The client is the right-most entry that is not one of them; entries
   * further left are the client's own words. None: the header is ignored.
   */
  trustedProxies?: readonly string[];
  /**
   * The request passed Node-RED's own `httpNodeAuth` (user and password checked): the Basic
   * user name it carries is that user. Never for a WebSocket handshake, which bypasses it.
   */
  basicUserChecked?: boolean;
  /** The user a live ticket was issued to (the ticket route passed the HTTP authentication). */
  ticketUser?: string;
}

/** An address as compared and shown: IPv4-mapped IPv6 as IPv4. */
function plainAddress(a: string | undefined): string {
  const t = (a ?? '').trim();
  return t.startsWith('::ffff:') && t.includes('.') ? t.slice(7) : t;
}

/** Words a client sent, fit for an audit line: no control characters, bounded. */
function cleanWords(s: string, max: number): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u001f\u007f]/g, ' ').trim().slice(0, max);
}

/** The user an authentication middleware put on the request (passport and the like set req.user). */
function middlewareUser(req: http.IncomingMessage): string | undefined {
  const u = (req as http.IncomingMessage & { user?: unknown }).user;
  if (typeof u === 'string') return u || undefined;
  if (u && typeof u === 'object') {
    for (const k of ['username', 'name', 'id', 'email']) {
      const v = (u as Record<string, unknown>)[k];
      if (typeof v === 'string' && v) return v;
    }
  }
  return undefined;
}

function basicUser(req: http.IncomingMessage): string | undefined {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(req.headers.authorization ?? '');
  if (!m) return undefined;
  const text = Buffer.from(m[1], 'base64').toString('utf8');
  const i = text.indexOf(':');
  return i > 0 ? text.slice(0, i) : undefined;
}

export function viewerOf(req: http.IncomingMessage, opts: ViewerOfOptions = {}): Viewer {
  const u = requestUrl(req.url);
  const said = u?.searchParams.get('viewer') ?? u?.searchParams.get('operator');
  const saidName = said ? cleanWords(said, 80) || undefined : undefined;
  const address = plainAddress(req.socket.remoteAddress) || 'unknown';
  let forwardedFor: string | undefined;
  const trusted = new Set((opts.trustedProxies ?? []).map(plainAddress));
  if (trusted.has(address)) {
    const header = req.headers['x-forwarded-for'];
    const hops = (Array.isArray(header) ? header.join(',') : (header ?? '')).split(',').map(plainAddress).filter(Boolean);
    // From the right: each trusted proxy appended the address it was reached from.
    for (let i = hops.length - 1; i >= 0; i--) {
      forwardedFor = cleanWords(hops[i], 64);
      if (!trusted.has(hops[i])) break;
    }
  }
  const rawUser = middlewareUser(req) ?? (opts.basicUserChecked ? basicUser(req) : undefined) ?? opts.ticketUser;
  const user = rawUser ? cleanWords(rawUser, 80) || undefined : undefined;
  const where = forwardedFor ? `${forwardedFor} via ${address}` : address;
  const label = user ? `${user} (${where})` : saidName ? `${saidName} (said, ${where})` : where;
  return { label, named: Boolean(user || saidName), address, ...(forwardedFor ? { forwardedFor } : {}), ...(user ? { user } : {}), ...(saidName ? { saidName } : {}) };
}

/** The address a viewer counts against (the per-address cap): the client's, as far as it is known. */
export function clientAddress(v: Viewer): string {
  return v.forwardedFor ?? v.address;
}

export class VideoManager extends EventEmitter {
  private readonly opts: Required<
    Omit<VideoManagerOptions, 'ffmpegPath' | 'backoff' | 'ioTimeoutMs' | 'actor' | 'verifyClient' | 'knowsCamera' | 'tickets' | 'trustedProxies' | 'now' | 'snapshotStore' | 'snapshotOwner' | 'sourceIdentity' | 'relayElsewhere'>
  > &
    VideoManagerOptions;
  /** Open views per client address. */
  private readonly viewsByAddress = new Map<string, number>();
  /** When each (camera, address, user) view was last audited (clockMs). */
  private readonly auditedViews = new Map<string, number>();
  private readonly entries = new Map<string, Entry>();
  private readonly snapshots: SnapshotStore;
  /** The snapshot store is this manager's own (not shared): close() empties it. */
  private readonly ownSnapshotStore: boolean;
  /** The configuration each camera's relays were last pointed at (sourceIdentity). */
  private readonly sourceIdentities = new Map<string, unknown>();
  /** Cameras no longer configured whose relays wait for them: their stop (cameraGoneStopMs). */
  private readonly goneTimers = new Map<string, NodeJS.Timeout>();
  /** Camera and stream address whose authentication was looked at (checkStreamAuth). */
  private readonly streamAuthChecked = new Set<string>();
  /** Aborted by close(): the stream authentication probes still waiting for a camera end then. */
  private readonly probes = new AbortController();
  private readonly wss: WebSocketServer;
  private readonly mjpegResponses = new Set<http.ServerResponse>();
  private readonly tickets: LiveTickets;
  private refused?: string;
  private closed = false;
  private readonly now: () => number;

  constructor(opts: VideoManagerOptions) {
    super();
    this.opts = {
      idleStopMs: 30_000,
      maxRelays: 4,
      mjpegFps: 5,
      mjpegWidth: 640,
      keepForMs: 120_000,
      snapshots: true,
      snapshotKeepMs: 3_600_000,
      snapshotMaxBytes: SNAPSHOT_MAX_BYTES,
      transport: 'tcp',
      fragmentMs: 0,
      stallMs: 15_000,
      httpRoot: '/',
      maxViewerBufferBytes: 4 * 1024 * 1024,
      basicUserChecked: false,
      maxViewersPerAddress: MAX_VIEWERS_PER_ADDRESS,
      maxViewersPerRelay: MAX_VIEWERS_PER_RELAY,
      viewAuditWindowMs: VIEW_AUDIT_WINDOW_MS,
      clockMs: () => performance.now(),
      cameraGoneStopMs: 30_000,
      ...stripUndefined(opts),
    } as VideoManager['opts'];
    this.now = opts.now ?? monotonicMs;
    this.ownSnapshotStore = !opts.snapshotStore;
    this.snapshots = opts.snapshotStore ?? new SnapshotStore(500, this.opts.snapshotMaxBytes, this.now);
    this.tickets = opts.tickets ?? new LiveTickets();
    // Video is already compressed: no per-message deflate.
    this.wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, verifyClient: opts.verifyClient });
  }

  /** Throws FfmpegNotFoundError with a clear message when there is no usable ffmpeg. */
  ffmpeg(): string {
    return resolveFfmpeg(this.opts.ffmpegPath);
  }

  get root(): string {
    return normaliseRoot(this.opts.httpRoot);
  }

  // ---- alerts ---------------------------------------------------------------------------

  /**
   * An alert for a camera: returns payload.video, starts (or keeps) the live relay until
   * `until`, and fetches the alert's snapshot in the background unless snapshots are off (then
   * `snapshot` resolves to undefined and nothing is asked of the camera for it). The relay may
   * be refused (cap) or the source may fail: `relayError` says why, the links are still returned.
   */
  alert(alertId: string, cameraId: string, opts: { cameraSettled?: boolean } = {}): { video: VideoLinks; relayError?: string; snapshot: Promise<Buffer | undefined> } {
    if (this.closed) throw new Error('video relay is closed');
    // `until` is sent (a wall clock time); the hold itself is timed on the monotonic clock.
    const until = Date.now() + this.opts.keepForMs;
    const video = videoLinks(cameraId, alertId, until, this.opts.httpRoot, this.opts.snapshots);
    let relayError: string | undefined;
    try {
      // One relay per camera across video-forward nodes: a camera another node relays is held there.
      const elsewhere = this.entries.has(this.key(cameraId, 'mse')) ? undefined : this.opts.relayElsewhere?.(cameraId, 'mse');
      if (!elsewhere || elsewhere === this || !elsewhere.holdRelay(cameraId, 'mse', this.opts.keepForMs)) {
        const entry = this.ensure(cameraId, 'mse');
        entry.holdUntil = Math.max(entry.holdUntil, this.now() + this.opts.keepForMs);
        this.scheduleIdle(entry);
      }
    } catch (err) {
      relayError = err instanceof Error ? err.message : String(err);
    }
    if (!this.opts.snapshots) {
      this.changed();
      return { video, relayError, snapshot: Promise.resolve(undefined) };
    }
    // A repeated alert keeps its first snapshot taken on target (the picture closest to the
    // event); one taken while the camera was still turning is replaced once it has arrived.
    const settled = opts.cameraSettled ?? true;
    const have = this.snapshots.has(alertId, cameraId);
    const snapshotUntil = this.now() + Math.max(this.opts.keepForMs, this.opts.snapshotKeepMs);
    const owner = this.opts.snapshotOwner;
    const snapshot =
      have === 'settled' || (have === 'moving' && !settled)
        ? (this.snapshots.extend(alertId, cameraId, snapshotUntil, owner), this.snapshots.get(alertId, cameraId).then((r) => r?.jpeg))
        : this.snapshots.put(alertId, cameraId, snapshotUntil, (signal) => this.takeSnapshot(cameraId, signal), settled, { owner, takenBy: this });
    // Browsers hear only that there is no snapshot; why (the camera's address) is the log's.
    void snapshot.then(async (jpeg) => {
      if (jpeg || this.closed) return;
      const error = (await this.snapshots.get(alertId, cameraId))?.error;
      if (error) this.emit('snapshot-error', { alertId, cameraId, error: new Error(error) });
    });
    this.changed();
    return { video, relayError, snapshot };
  }

  private async takeSnapshot(cameraId: string, signal: AbortSignal): Promise<Buffer> {
    // Asking a camera that hangs for its URIs must not hold up close() (which aborts the signal).
    const src = await untilAborted(this.opts.resolveSource(cameraId), signal, 'snapshot not taken: the relay closed');
    if (src.snapshotUrl) {
      try {
        const creds = await this.credentialsFor(cameraId, src, src.snapshotUrl, 'snapshot');
        return await fetchSnapshot(src.snapshotUrl, { ...creds, timeoutMs: this.opts.ioTimeoutMs ?? 5000, signal, checkCertificate: src.checkCertificate, allowBasicOverHttp: src.basicOverHttp === true });
      } catch (err) {
        // The stream may still give a picture when the snapshot URI fails.
        if (!src.streamUrl || signal.aborted) throw err;
      }
    }
    if (signal.aborted) throw new Error('snapshot not taken: the relay closed');
    checkCameraUrl(src.streamUrl, streamUriField(cameraId));
    const creds = await this.credentialsFor(cameraId, src, src.streamUrl, 'stream');
    return grabFrame(this.ffmpeg(), withCredentials(src.streamUrl, creds.username, creds.password), {
      transport: this.opts.transport,
      timeoutMs: this.opts.ioTimeoutMs ?? 10_000,
      width: 1280,
      signal,
    });
  }

  /**
   * The camera's user and password for `url` when it points at the camera's own host; none
   * otherwise (a GetStreamUri or GetSnapshotUri answer naming another host, say a forged one),
   * and 'credentials-withheld' says so.
   */
  private async credentialsFor(cameraId: string, src: VideoSource, url: string, what: 'stream' | 'snapshot'): Promise<{ username?: string; password?: string }> {
    if (!src.username) return {};
    if (await isOwnHostResolved(url, src.ownHosts)) return { username: src.username, password: src.password };
    this.emit('credentials-withheld', { cameraId, what, host: hostOf(url), ownHosts: [...(src.ownHosts ?? [])] });
    return {};
  }

  // ---- relays ---------------------------------------------------------------------------

  /**
   * Keeps this manager's running relay of a camera and kind for at least `forMs` more (an
   * alert of another video-forward node on the same camera); false when it runs none.
   */
  holdRelay(cameraId: string, kind: RelayKind, forMs: number): boolean {
    const entry = this.closed ? undefined : this.entries.get(this.key(cameraId, kind));
    if (!entry) return false;
    entry.holdUntil = Math.max(entry.holdUntil, this.now() + forMs);
    entry.lastActivity = Math.max(entry.lastActivity, this.now());
    this.scheduleIdle(entry);
    return true;
  }

  private key(cameraId: string, kind: RelayKind): string {
    return `${kind}\u0000${cameraId}`;
  }

  /**
   * The running relay of a camera and kind, started if needed; throws when refused. When the
   * cap is reached, a viewer's request takes the place of a relay nobody watches (one only
   * kept warm for an alert); an alert never displaces anything.
   */
  ensure(cameraId: string, kind: RelayKind, forViewer = false): Entry {
    const k = this.key(cameraId, kind);
    const existing = this.entries.get(k);
    if (existing) return existing;
    if (this.entries.size >= this.opts.maxRelays && forViewer) {
      const unwatched = [...this.entries.values()].filter((e) => e.viewers.size === 0).sort((a, b) => a.lastActivity - b.lastActivity)[0];
      if (unwatched) {
        this.emit('relay-evicted', { cameraId: unwatched.cameraId, kind: unwatched.kind, for: cameraId });
        void this.stopEntry(unwatched);
      }
    }
    if (this.entries.size >= this.opts.maxRelays) {
      const busy = [...this.entries.values()].map((e) => `${e.cameraId} (${e.kind})`).join(', ');
      const msg = `relay refused for camera "${cameraId}": all ${this.opts.maxRelays} relays in use (${busy}); close a view or raise "max relays"`;
      this.refused = msg;
      this.changed();
      throw new RelayRefusedError(msg);
    }
    const ffmpegPath = this.ffmpeg();
    const getUrl = async (): Promise<string> => {
      // What cameraChanged() compares with: the configuration this start reads.
      this.sourceIdentities.set(cameraId, this.opts.sourceIdentity?.(cameraId));
      const src = await this.opts.resolveSource(cameraId);
      if (!src.streamUrl) throw new Error(`camera "${cameraId}" has no stream URI`);
      checkCameraUrl(src.streamUrl, streamUriField(cameraId));
      const creds = await this.credentialsFor(cameraId, src, src.streamUrl, 'stream');
      if (creds.username !== undefined || creds.password !== undefined) this.checkStreamAuth(cameraId, src.streamUrl);
      return withCredentials(src.streamUrl, creds.username, creds.password);
    };
    const common = { cameraId, ffmpegPath, getUrl, transport: this.opts.transport, stallMs: this.opts.stallMs, ioTimeoutMs: this.opts.ioTimeoutMs, backoff: this.opts.backoff };
    const relay: Relay =
      kind === 'mse' ? new LiveRelay({ ...common, fragmentMs: this.opts.fragmentMs }) : new MjpegRelay({ ...common, fps: this.opts.mjpegFps, width: this.opts.mjpegWidth });
    const entry: Entry = { cameraId, kind, relay, viewers: new Set(), holdUntil: 0, lastActivity: this.now() };
    this.entries.set(k, entry);
    // Each viewer listens to its relay: up to the cap, that is no leak.
    relay.setMaxListeners(this.opts.maxViewersPerRelay + 10);
    relay.on('state', () => this.changed());
    relay.on('source-error', (err: Error) => this.emit('source-error', { cameraId, kind, error: err }));
    this.refused = undefined;
    relay.start();
    this.scheduleIdle(entry);
    this.changed();
    return entry;
  }

  /**
   * Once per camera and stream address, and again when the camera's settings change
   * (cameraChanged): whether its plain rtsp://
   * stream asks for Basic only, which ffmpeg answers with the password readable on the
   * network; 'basic-over-rtsp' says so. The relay does not wait for it.
   */
  private checkStreamAuth(cameraId: string, streamUrl: string): void {
    let url: URL;
    try {
      url = new URL(streamUrl);
    } catch {
      return;
    }
    if (url.protocol !== 'rtsp:') return;
    url.username = url.password = '';
    const key = streamAuthKey(cameraId, url.href);
    if (this.streamAuthChecked.has(key) || this.streamAuthChecked.size > 1000) return;
    this.streamAuthChecked.add(key);
    rtspAuthSchemes(url.href, this.opts.ioTimeoutMs ?? 5000, this.probes.signal).then(
      (schemes) => {
        if (!this.closed && basicOnly(schemes)) this.emit('basic-over-rtsp', { cameraId, host: url.host });
      },
      () => undefined, // unreachable: the relay itself says so
    );
  }

  private scheduleIdle(entry: Entry): void {
    if (entry.idleTimer) clearTimeout(entry.idleTimer);
    entry.idleTimer = undefined;
    if (entry.viewers.size > 0 || this.closed) return;
    const dueAt = Math.max(entry.holdUntil, entry.lastActivity + this.opts.idleStopMs);
    entry.idleTimer = setTimeout(() => {
      entry.idleTimer = undefined;
      if (entry.viewers.size > 0) return;
      if (this.now() < Math.max(entry.holdUntil, entry.lastActivity + this.opts.idleStopMs) - 5) {
        this.scheduleIdle(entry);
        return;
      }
      void this.stopEntry(entry);
    }, Math.max(0, Math.min(dueAt - this.now(), 2 ** 31 - 1)));
  }

  private async stopEntry(entry: Entry): Promise<void> {
    const k = this.key(entry.cameraId, entry.kind);
    if (this.entries.get(k) === entry) this.entries.delete(k);
    this.refused = undefined; // capacity is free again
    if (entry.idleTimer) clearTimeout(entry.idleTimer);
    entry.idleTimer = undefined;
    if (!this.entriesOf(entry.cameraId).length) {
      this.sourceIdentities.delete(entry.cameraId);
      this.clearGone(entry.cameraId);
    }
    this.changed();
    await entry.relay.stop();
    this.emit('relay-stopped', { cameraId: entry.cameraId, kind: entry.kind });
  }

  private entriesOf(cameraId: string): Entry[] {
    return [...this.entries.values()].filter((e) => e.cameraId === cameraId);
  }

  private clearGone(cameraId: string): void {
    const t = this.goneTimers.get(cameraId);
    if (t) clearTimeout(t);
    this.goneTimers.delete(cameraId);
  }

  /**
   * A camera's configuration may have changed (registered, removed, replaced by a redeploy).
   * Replaced (another sourceIdentity than its relays use): each of its relays ends its ffmpeg
   * and starts again on the source resolved afresh; viewers stay attached (a live one gets a
   * new init, as after a dropped source). Removed (knowsCamera false): their ffmpeg ends at
   * once, viewers are told the picture is interrupted, and the relays wait cameraGoneStopMs
   * for it to come back before they stop. The same configuration (a state change of its
   * connection) changes nothing.
   */
  cameraChanged(cameraId: string): void {
    if (this.closed) return;
    const entries = this.entriesOf(cameraId);
    if (!entries.length) return;
    const current = this.opts.sourceIdentity?.(cameraId);
    if (this.opts.sourceIdentity && this.sourceIdentities.has(cameraId) && this.sourceIdentities.get(cameraId) === current) return;
    this.sourceIdentities.set(cameraId, current);
    // Its stream's authentication is asked again at the restart: the camera may have been set otherwise.
    for (const k of this.streamAuthChecked) if (k.startsWith(streamAuthKey(cameraId, ''))) this.streamAuthChecked.delete(k);
    this.clearGone(cameraId);
    if (this.opts.knowsCamera && !this.opts.knowsCamera(cameraId)) {
      const gone = new SourceError('ended', `camera "${cameraId}" is no longer configured: its relay waits for it to be deployed again`);
      for (const e of entries) void e.relay.restart({ waitFor: gone });
      const t = setTimeout(() => {
        this.goneTimers.delete(cameraId);
        this.stopRelaysOfGoneCameras();
      }, this.opts.cameraGoneStopMs);
      this.goneTimers.set(cameraId, t);
    } else {
      for (const e of entries) void e.relay.restart();
    }
    this.emit('source-changed', { cameraId, present: !this.goneTimers.has(cameraId) });
    this.changed();
  }

  /**
   * Stops the relays of cameras that are no longer configured (a deploy has ended and theirs
   * did not come back): their viewers are closed, and told the camera is unknown if they retry.
   */
  stopRelaysOfGoneCameras(): void {
    if (!this.opts.knowsCamera) return;
    for (const e of [...this.entries.values()]) {
      if (!this.opts.knowsCamera(e.cameraId)) void this.stopEntry(e);
    }
  }

  /** Throws ViewerLimitError when `viewer` may not open one more view (of that relay, if it runs). */
  private checkViewerLimits(cameraId: string, kind: RelayKind, viewer: Viewer): void {
    const address = clientAddress(viewer);
    const open = this.viewsByAddress.get(address) ?? 0;
    if (open >= this.opts.maxViewersPerAddress) {
      throw new ViewerLimitError('address', `live view of camera "${cameraId}" refused for ${address}: it has ${open} views open, the most one address may have (${this.opts.maxViewersPerAddress})`);
    }
    const entry = this.entries.get(this.key(cameraId, kind));
    if (entry && entry.viewers.size >= this.opts.maxViewersPerRelay) {
      throw new ViewerLimitError('relay', `live view of camera "${cameraId}" (${kind}) refused for ${address}: its relay has ${entry.viewers.size} viewers, the most one relay may have (${this.opts.maxViewersPerRelay})`);
    }
  }

  private countView(address: string, delta: 1 | -1): void {
    const n = (this.viewsByAddress.get(address) ?? 0) + delta;
    if (n > 0) this.viewsByAddress.set(address, n);
    else this.viewsByAddress.delete(address);
  }

  private addViewer(entry: Entry, viewer: object): void {
    entry.viewers.add(viewer);
    entry.lastActivity = this.now();
    this.scheduleIdle(entry);
    this.changed();
  }

  private removeViewer(entry: Entry, viewer: object): void {
    if (!entry.viewers.delete(viewer)) return;
    entry.lastActivity = this.now();
    this.scheduleIdle(entry);
    this.changed();
  }

  /**
   * One audit entry per camera, client address and authenticated user per viewAuditWindowMs:
   * the first view of the window says the rest (its said name, alert and kind).
   */
  private audit(cameraId: string, viewer: Viewer, kind: RelayKind, alertId?: string): void {
    const now = this.opts.clockMs();
    const window = this.opts.viewAuditWindowMs;
    for (const [k, t] of this.auditedViews) if (now - t >= window) this.auditedViews.delete(k);
    const key = `${cameraId}\u0000${clientAddress(viewer)}\u0000${viewer.address}\u0000${viewer.user ?? ''}`;
    if (this.auditedViews.has(key)) return;
    this.auditedViews.set(key, now);
    const actor = viewer.named || !this.opts.actor ? viewer.label : this.opts.actor;
    const who = { address: viewer.address, ...(viewer.forwardedFor ? { forwardedFor: viewer.forwardedFor } : {}), ...(viewer.user ? { user: viewer.user } : {}), ...(viewer.saidName ? { saidName: viewer.saidName } : {}) };
    auditBus.publish({ type: 'live-view', actor, alertId, details: { cameraId, viewer: viewer.label, kind, ...who } });
  }

  /** ffmpeg pids of running relays (tests and benchmarks check them). */
  pids(): number[] {
    return [...this.entries.values()].map((e) => e.relay.pid).filter((p): p is number => p !== undefined);
  }

  relay(cameraId: string, kind: RelayKind): Relay | undefined {
    return this.entries.get(this.key(cameraId, kind))?.relay;
  }

  stats(): VideoStats {
    let viewers = 0;
    let connecting = 0;
    const failing: VideoStats['failing'] = [];
    for (const e of this.entries.values()) {
      viewers += e.viewers.size;
      if (e.relay.state === 'starting' && !e.relay.lastError) connecting++;
      if (e.relay.state !== 'running' && e.relay.lastError) failing.push({ cameraId: e.cameraId, kind: e.kind, error: e.relay.lastError.message, code: (e.relay.lastError as { code?: string }).code });
    }
    return { relays: this.entries.size, viewers, connecting, maxRelays: this.opts.maxRelays, failing, refused: this.refused };
  }

  private changed(): void {
    if (!this.closed) this.emit('change', this.stats());
  }

  // ---- HTTP and WebSocket ---------------------------------------------------------------

  /**
   * Handles an HTTP upgrade if the path is a live URL of ours; returns false otherwise (a
   * target that cannot be read included: the server's other upgrade handlers have it). Never
   * throws: it runs in the server's 'upgrade' event, where a throw ends the process. An
   * unexpected fault (a throwing verifyClient) destroys that socket and is emitted as
   * 'upgrade-error'.
   */
  handleUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const u = requestUrl(req.url);
    if (!u) return false;
    const p = parseVideoPath(u.pathname, this.opts.httpRoot);
    if (!p || p.what !== 'live') return false;
    try {
      if (this.closed) {
        socket.destroy();
        return true;
      }
      const ticket = this.tickets.take(u.searchParams.get('ticket'), p.cameraId);
      if (!ticket) {
        const body = `live video needs a ticket: GET ${this.root}vigie/video/${encodeURIComponent(p.cameraId)}/ticket first (single use, ${Math.round(TICKET_TTL_MS / 1000)} s)\n`;
        socket.end(`HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
        return true;
      }
      // The handshake passed no HTTP authentication: the user is the one the ticket was issued to.
      const viewer = viewerOf(req, { trustedProxies: this.opts.trustedProxies, ticketUser: ticket.holder });
      this.wss.handleUpgrade(req, socket, head, (ws) => this.attachLive(ws, p.cameraId, viewer, alertOf(req)));
    } catch (err) {
      socket.destroy();
      this.emit('upgrade-error', { cameraId: p.cameraId, error: err instanceof Error ? err : new Error(String(err)) });
    }
    return true;
  }

  /**
   * Answers a ticket request: the route is plain HTTP, so Node-RED's httpNodeAuth and
   * httpNodeMiddleware guard it, and through it the WebSocket.
   */
  serveTicket(cameraId: string, res: http.ServerResponse, req?: http.IncomingMessage): void {
    if (this.closed) {
      res.writeHead(503, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('video relay is closed\n');
      return;
    }
    const user = req ? viewerOf(req, this.viewerOptions()).user : undefined;
    const body = JSON.stringify(this.tickets.issue(cameraId, undefined, user));
    res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
    res.end(body);
  }

  /** Serves ticket, mjpeg and snapshot.jpg; returns false when the path is not ours (bare HTTP servers). */
  handleRequest(req: http.IncomingMessage, res: http.ServerResponse): boolean {
    const u = requestUrl(req.url);
    if (!u) return false;
    const p = parseVideoPath(u.pathname, this.opts.httpRoot);
    if (!p || p.what === 'live') return false;
    if (p.what === 'ticket') this.serveTicket(p.cameraId, res, req);
    else if (p.what === 'mjpeg') this.serveMjpeg(p.cameraId, req, res);
    else void this.serveSnapshot(p.cameraId, u.searchParams.get('alert') ?? '', res);
    return true;
  }

  private viewerOptions(): ViewerOfOptions {
    return { trustedProxies: this.opts.trustedProxies, basicUserChecked: this.opts.basicUserChecked };
  }

  /** A live (MSE) viewer on an open WebSocket. */
  attachLive(ws: WebSocket, cameraId: string, viewerGiven: Viewer | string, alertId?: string): void {
    const sendJson = (o: unknown): void => {
      if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(o));
    };
    const viewer: Viewer = typeof viewerGiven === 'string' ? { label: viewerGiven, named: true, address: viewerGiven } : viewerGiven;
    let entry: Entry;
    try {
      this.checkCamera(cameraId);
      this.checkViewerLimits(cameraId, 'mse', viewer);
      entry = this.ensure(cameraId, 'mse', true);
    } catch (err) {
      // The viewer gets operators' words; the cause (a path, a list of relays) is the server's.
      const notice = refusalNotice(refusalReason(err));
      if (notice.reason === 'server') this.emit('viewer-refused', { cameraId, error: err instanceof Error ? err : new Error(String(err)) });
      if (err instanceof ViewerLimitError) this.emit('viewer-limited', { cameraId, scope: err.scope, address: clientAddress(viewer), error: err });
      sendJson({ type: 'error', ...notice });
      // 1013 "try again later" for the caps; 1011 for a server-side failure.
      ws.close(err instanceof RelayRefusedError || err instanceof ViewerLimitError ? 1013 : err instanceof UnknownCameraError ? 4404 : 1011, truncateReason(notice.message));
      return;
    }
    const relay = entry.relay as LiveRelay;
    const viewerKey = {};
    let needKeyframe = true;
    let initSent = false;
    const maxBuffered = this.opts.maxViewerBufferBytes;
    const sendInit = (init: InitSegment): void => {
      sendJson({ type: 'init', mime: init.info.mime, width: init.info.width, height: init.info.height });
      if (ws.readyState === WebSocket.OPEN) ws.send(init.data, { binary: true });
      initSent = true;
      needKeyframe = true;
    };
    const sendSegment = (seg: MediaSegment): void => {
      if (!initSent || ws.readyState !== WebSocket.OPEN) return;
      if (needKeyframe && !seg.info.keyframe) return;
      if (ws.bufferedAmount > maxBuffered) {
        needKeyframe = true; // slow viewer: skip to the next keyframe instead of queueing
        return;
      }
      needKeyframe = false;
      ws.send(seg.data, { binary: true });
    };
    // The source's error names its address: the viewer is told what it means, no more.
    const onSourceError = (err: Error): void => sendJson({ type: 'status', state: 'retrying', ...interruptionNotice(err) });
    const onStopped = (): void => {
      if (ws.readyState === WebSocket.OPEN) ws.close(1001, 'relay stopped');
    };
    relay.on('init', sendInit);
    relay.on('segment', sendSegment);
    relay.on('source-error', onSourceError);
    relay.on('stopped', onStopped);
    this.addViewer(entry, viewerKey);
    const address = clientAddress(viewer);
    this.countView(address, 1);
    let cleaned = false;
    const cleanup = (): void => {
      if (cleaned) return;
      cleaned = true;
      relay.off('init', sendInit);
      relay.off('segment', sendSegment);
      relay.off('source-error', onSourceError);
      relay.off('stopped', onStopped);
      this.removeViewer(entry, viewerKey);
      this.countView(address, -1);
    };
    ws.on('close', cleanup);
    ws.on('error', cleanup);
    ws.on('message', () => {
      /* players send nothing we need; ignore */
    });
    this.audit(cameraId, viewer, 'mse', alertId);
    if (relay.init) {
      sendInit(relay.init);
      for (const seg of relay.gop) sendSegment(seg);
    } else if (relay.lastError) {
      onSourceError(relay.lastError);
    }
  }

  /** A viewer of the MJPEG fallback. */
  serveMjpeg(cameraId: string, req: http.IncomingMessage, res: http.ServerResponse): void {
    let entry: Entry;
    const viewer = viewerOf(req, this.viewerOptions());
    try {
      this.checkCamera(cameraId);
      this.checkViewerLimits(cameraId, 'mjpeg', viewer);
      entry = this.ensure(cameraId, 'mjpeg', true);
    } catch (err) {
      const notice = refusalNotice(refusalReason(err));
      if (notice.reason === 'server') this.emit('viewer-refused', { cameraId, error: err instanceof Error ? err : new Error(String(err)) });
      if (err instanceof ViewerLimitError) this.emit('viewer-limited', { cameraId, scope: err.scope, address: clientAddress(viewer), error: err });
      // 429 for one address's views, 503 for a full relay or the relay cap.
      const status = err instanceof ViewerLimitError ? (err.scope === 'address' ? 429 : 503) : err instanceof RelayRefusedError ? 503 : err instanceof UnknownCameraError ? 404 : 500;
      res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Retry-After': '10', 'Cache-Control': 'no-store' });
      res.end(notice.message + '\n');
      return;
    }
    const relay = entry.relay as MjpegRelay;
    const viewerKey = {};
    res.writeHead(200, {
      'Content-Type': `multipart/x-mixed-replace; boundary=${MULTIPART_BOUNDARY}`,
      'Cache-Control': 'no-store, no-cache, must-revalidate',
      Pragma: 'no-cache',
      Connection: 'close',
      'X-Content-Type-Options': 'nosniff',
    });
    // Accepted now, not at the first picture (a camera still connecting may take seconds).
    res.flushHeaders();
    const onFrame = (jpeg: Buffer): void => {
      if (res.writableEnded || res.writableLength > this.opts.maxViewerBufferBytes) return; // slow viewer: drop frames
      res.write(`--${MULTIPART_BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: ${jpeg.length}\r\n\r\n`);
      res.write(jpeg);
      res.write('\r\n');
    };
    const onStopped = (): void => {
      if (!res.writableEnded) res.end();
    };
    relay.on('frame', onFrame);
    relay.on('stopped', onStopped);
    this.mjpegResponses.add(res);
    this.addViewer(entry, viewerKey);
    const address = clientAddress(viewer);
    this.countView(address, 1);
    let cleaned = false;
    const cleanup = (): void => {
      if (cleaned) return;
      cleaned = true;
      relay.off('frame', onFrame);
      relay.off('stopped', onStopped);
      this.mjpegResponses.delete(res);
      this.removeViewer(entry, viewerKey);
      this.countView(address, -1);
    };
    res.on('close', cleanup);
    req.on('close', cleanup);
    this.audit(cameraId, viewer, 'mjpeg', alertOf(req));
    if (relay.latest) onFrame(relay.latest);
  }

  /**
   * The snapshot a `payload.video.snapshot` link of this manager names (waits for a fetch in
   * progress); undefined when the link is not one of its own or the snapshot is not kept.
   */
  async snapshotOfLink(link: string): Promise<{ jpeg?: Buffer; error?: string } | undefined> {
    // Snapshots off: none is kept here, whatever a shared store holds for others.
    if (!this.opts.snapshots) return undefined;
    if (!link.startsWith('/') || link.startsWith('//')) return undefined;
    const u = requestUrl(link);
    const p = u && parseVideoPath(u.pathname, this.opts.httpRoot);
    const alertId = u?.searchParams.get('alert');
    if (!p || p.what !== 'snapshot' || !alertId) return undefined;
    return this.snapshots.get(alertId, p.cameraId);
  }

  /** Whether this manager keeps (or is taking) a snapshot of that alert on that camera. */
  keepsSnapshot(alertId: string, cameraId: string): boolean {
    return this.opts.snapshots && this.snapshots.has(alertId, cameraId) !== undefined;
  }

  async serveSnapshot(cameraId: string, alertId: string, res: http.ServerResponse): Promise<void> {
    const item = alertId && this.opts.snapshots ? await this.snapshots.get(alertId, cameraId) : undefined;
    if (res.writableEnded) return;
    if (!item) {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
      res.end(
        this.opts.snapshots
          ? `no snapshot kept for alert "${alertId}" on camera "${cameraId}": unknown alert, or no longer kept (its keep time ended, newer snapshots took its room, Node-RED restarted, or its video-forward node was deleted)\n`
          : `no snapshot for alert "${alertId}" on camera "${cameraId}": snapshots are off (video-forward's Snapshot is unticked)\n`,
      );
      return;
    }
    if (!item.jpeg) {
      // Why it failed names the camera's address: that stays in the server (see snapshotError).
      res.writeHead(502, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
      res.end(`no snapshot for alert "${alertId}": the camera did not give one\n`);
      return;
    }
    res.writeHead(200, { 'Content-Type': 'image/jpeg', 'Content-Length': String(item.jpeg.length), 'Cache-Control': 'private, max-age=60' });
    res.end(item.jpeg);
  }

  /** Viewers may only open cameras that exist (no relay retrying forever for a typo). */
  private checkCamera(cameraId: string): void {
    if (!cameraId || cameraId.length > 200) throw new Error(`camera id "${cameraId.slice(0, 40)}" is not valid`);
    if (this.opts.knowsCamera && !this.opts.knowsCamera(cameraId)) throw new UnknownCameraError(cameraId);
  }

  /** Stops every relay (ffmpeg), closes every socket and HTTP stream, clears every timer. */
  async close(): Promise<void> {
    this.closed = true;
    this.probes.abort();
    for (const ws of this.wss.clients) ws.terminate();
    for (const res of this.mjpegResponses) {
      res.end();
      res.socket?.destroy();
    }
    this.mjpegResponses.clear();
    for (const t of this.goneTimers.values()) clearTimeout(t);
    this.goneTimers.clear();
    const stops = [...this.entries.values()].map((e) => this.stopEntry(e));
    this.entries.clear();
    // A shared store keeps the snapshots taken (a redeploy); the fetches this manager started end.
    await Promise.all([...stops, this.ownSnapshotStore ? this.snapshots.clear() : this.snapshots.abandon(this)]);
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    this.removeAllListeners('change');
  }
}

/** A camera's stream address in VideoManager's streamAuthChecked; with `href` '', the prefix of all its addresses. */
function streamAuthKey(cameraId: string, href: string): string {
  return `${cameraId}\u0000${href}`;
}

/**
 * The managers of this process that offer their snapshots to the audit log (video-forward
 * registers its own): the alert dashboard takes an alert's snapshot from them in-process, not
 * over HTTP, so neither httpNodeAuth nor the address Node-RED listens on stands in its way.
 */
const snapshotSources = new Set<VideoManager>();

/** Offers a manager's snapshots until the returned function is called. */
export function offerSnapshots(manager: VideoManager): () => void {
  snapshotSources.add(manager);
  return () => {
    snapshotSources.delete(manager);
  };
}

/**
 * The snapshot a `payload.video.snapshot` link names, from whichever manager of this process
 * keeps it; undefined when none does (video-forward is not deployed in this Node-RED, snapshots
 * are off, or its keep time ended).
 */
export async function snapshotOfLink(link: string): Promise<{ jpeg?: Buffer; error?: string } | undefined> {
  for (const m of [...snapshotSources]) {
    const item = await m.snapshotOfLink(link);
    if (item) return item;
  }
  return undefined;
}

function refusalReason(err: unknown): RefusalReason {
  if (err instanceof ViewerLimitError) return 'too-many-views';
  if (err instanceof RelayRefusedError) return 'busy';
  if (err instanceof UnknownCameraError) return 'unknown-camera';
  return 'server';
}

/** Where a camera's stream URI comes from, as errors name it. */
function streamUriField(cameraId: string): string {
  return `camera "${cameraId}": stream URI (its vigie-camera's Stream URL, else ONVIF GetStreamUri)`;
}

function alertOf(req: http.IncomingMessage): string | undefined {
  const a = requestUrl(req.url)?.searchParams.get('alert');
  return a ? a.slice(0, 200) : undefined;
}

function truncateReason(s: string): string {
  // A close reason is limited to 123 bytes.
  let r = s;
  while (Buffer.byteLength(r) > 123) r = r.slice(0, -2);
  return r;
}

/**
 * `work`'s outcome, or a rejection as soon as `signal` aborts; `work` is left to end by itself
 * and its late outcome is ignored (a late error handled too).
 */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal, abortedMessage: string): Promise<T> {
  if (signal.aborted) {
    work.catch(() => undefined);
    return Promise.reject(new Error(abortedMessage));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new Error(abortedMessage));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
