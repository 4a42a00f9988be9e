/**
 * One connection per camera: one connected `onvif` client reused for every command
 * (capabilities and presets read once per connection, not per move), reconnection with
 * back-off, and states connecting / connected / failed. A camera that comes back is used
 * again without a redeploy: a command on a failed camera tries to reconnect at once.
 */
import { EventEmitter } from 'events';
import { Backoff, BackoffOptions } from '../util/backoff';
import { monotonicMs } from '../util/clock';
import { CameraConfig, CameraHandle, ConnectionState, PtzPosition } from './types';

export type CameraErrorCode = 'unreachable' | 'auth' | 'soap-fault' | 'not-supported' | 'out-of-range' | 'no-profile' | 'no-camera' | 'superseded' | 'closed' | 'error';

export class CameraError extends Error {
  constructor(
    readonly code: CameraErrorCode,
    message: string,
    readonly cameraId?: string,
  ) {
    super(message);
    this.name = 'CameraError';
  }
}

/**
 * A refused login, in the words cameras use: ONVIF's "Sender not authorized" (and the
 * ter:NotAuthorized subcode the client shows when a fault has no reason), HTTP digest refusals,
 * and Hikvision's WS-Security faults ("Wsse authorized time check failed." when the camera's
 * clock stepped, "An error was discovered processing the wsse:Security header", "Authority
 * failure"). Read as a login refused, they mark the camera failed and reconnect, which reads
 * the camera's time again.
 */
export const AUTH_FAULT = /not ?authori[sz]ed|unauthori[sz]ed|authori[sz]ed time check|authority failure|wsse|security header|Digest authentication failed/i;

/**
 * TLS errors (Node's codes) of a certificate the camera presents but Node does not trust: its
 * own self-signed certificate (most cameras), or one signed by an authority Node does not know.
 */
const UNTRUSTED_CERT_CODES = ['DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_UNTRUSTED', 'CERT_SIGNATURE_FAILURE'];
const CERT_DATE_CODES = ['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID'];
/**
 * An HTTPS request answered by a server that does not speak TLS on that port (OpenSSL's words
 * when a plain HTTP reply comes instead of a TLS handshake).
 */
const NOT_TLS = /wrong version number|packet length too long|unknown protocol|http request|record layer failure/i;

/** How the connection reached the camera, for advice on a failed first request. */
export interface Transport {
  https: boolean;
}

/**
 * Sorts an error from the onvif client into what an operator needs to know. `transport`, when
 * given (connecting), adds advice on the HTTPS setting to a connection closed at its start.
 */
export function classifyError(err: unknown, cameraId?: string, context?: string, transport?: Transport): CameraError {
  if (err instanceof CameraError) return err;
  const e = err as { message?: string; code?: string };
  const msg = e?.message ?? String(err);
  const prefix = context ? `${context}: ` : '';
  const netCodes = ['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'ENOTFOUND', 'EPIPE', 'EAI_AGAIN'];
  // TLS first: reached, but HTTPS failed (advice in the message; the camera is as unusable as an unreachable one).
  if (e?.code && UNTRUSTED_CERT_CODES.includes(e.code)) {
    return new CameraError('unreachable', `${prefix}the camera's certificate is not trusted (self-signed?): untick "Check its certificate" in the camera's settings, or give Node-RED the authority that signed it (NODE_EXTRA_CA_CERTS): ${msg}`, cameraId);
  }
  if (e?.code && CERT_DATE_CODES.includes(e.code)) {
    return new CameraError('unreachable', `${prefix}the camera's certificate is out of date (or this machine's or the camera's clock is wrong): renew it, or untick "Check its certificate" in the camera's settings: ${msg}`, cameraId);
  }
  if (e?.code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return new CameraError('unreachable', `${prefix}the camera's certificate is not for this host name: use the name (or address) it is issued for as Host, or untick "Check its certificate" in the camera's settings: ${msg}`, cameraId);
  }
  // (OpenSSL's words only where the error is TLS's: an "http request" in another message is not.)
  if (e?.code === 'EPROTO' || (NOT_TLS.test(msg) && /ssl|tls/i.test(msg))) {
    return new CameraError('unreachable', `${prefix}camera unreachable over HTTPS: it does not speak HTTPS on this port (untick HTTPS in the camera's settings, or give its HTTPS port): ${msg.trim()}`, cameraId);
  }
  if (AUTH_FAULT.test(msg)) {
    return new CameraError('auth', `${prefix}authentication failed (check the camera's username and password, and that its clock is right): ${msg}`, cameraId);
  }
  if ((e?.code && netCodes.includes(e.code)) || /Network timeout|socket hang up/i.test(msg)) {
    // A server that takes only HTTPS closes a plain HTTP request at once ("socket hang up").
    const hint = transport && !transport.https && (e?.code === 'ECONNRESET' || /socket hang up/i.test(msg))
      ? ' (a camera that takes only HTTPS closes plain HTTP requests so: if it does, tick HTTPS in the camera\'s settings)'
      : '';
    return new CameraError('unreachable', `${prefix}camera unreachable: ${msg}${hint}`, cameraId);
  }
  if (/ActionNotSupported|not supported|Optional Action Not Implemented/i.test(msg)) {
    return new CameraError('not-supported', `${prefix}${msg}`, cameraId);
  }
  if (/ONVIF SOAP Fault/.test(msg)) return new CameraError('soap-fault', `${prefix}${msg}`, cameraId);
  return new CameraError('error', `${prefix}${msg}`, cameraId);
}

/** The part of the `onvif` promise client that Vigie uses. */
export interface OnvifClient {
  connect(): Promise<unknown>;
  getPresets(opts: { profileToken: string }): Promise<Record<string, unknown>>;
  getStatus(opts: { profileToken: string }): Promise<{ position?: { x?: number; y?: number; zoom?: number }; moveStatus?: { panTilt?: string; zoom?: string } | string }>;
  absoluteMove(opts: Record<string, unknown>): Promise<unknown>;
  relativeMove(opts: Record<string, unknown>): Promise<unknown>;
  continuousMove(opts: Record<string, unknown>): Promise<unknown>;
  stop(opts: Record<string, unknown>): Promise<unknown>;
  gotoPreset(opts: Record<string, unknown>): Promise<unknown>;
  gotoHomePosition(opts: Record<string, unknown>): Promise<unknown>;
  getStreamUri(opts: Record<string, unknown>): Promise<{ uri?: string }>;
  getSnapshotUri(opts: Record<string, unknown>): Promise<{ uri?: string }>;
  getConfigurationOptions(token: string): Promise<{ ptzspaces?: Array<{ name: string; uri: string; x?: { min: number; max: number }; y?: { min: number; max: number } }> } | undefined>;
  readonly profiles?: Array<{ $?: { token?: string }; name?: string; PTZConfiguration?: { $?: { token?: string } } }>;
  readonly activeSource?: { profileToken?: string };
}

/**
 * Deadline of one ONVIF command (and the onvif client's socket timeout). The client's own
 * timeout only counts silence on an open socket: a camera that closes the connection normally
 * part-way through its reply (its web server restarting or crashing, a proxy dropping the
 * connection) leaves the request with no answer, no error and no timeout, for ever. Each
 * command (one or two requests: the second with digest authentication) has this long in all.
 */
export const ONVIF_CALL_TIMEOUT_MS = 5000;

/**
 * Deadline of the onvif client's connect(): up to four round trips one after another
 * (GetSystemDateAndTime, GetServices, GetProfiles, GetProfiles and GetVideoSources), each within
 * a command's deadline on a slow camera (1–2 s per command has been reported).
 */
export const ONVIF_CONNECT_TIMEOUT_MS = 3 * ONVIF_CALL_TIMEOUT_MS;

/**
 * After a connection attempt refused as a login (a wrong user or password), the next attempt
 * waits this long, and commands meanwhile fail at once without trying: cameras lock an account
 * (Hikvision's "illegal login lock") after a few wrong logins in a row, and the back-off alone
 * tried some 14 times in 30 s.
 */
export const AUTH_RETRY_MS = 5 * 60_000;

export interface ClientOptions {
  hostname: string;
  port: number;
  username: string;
  password: string;
  timeout: number;
  /** ONVIF over HTTPS. */
  https?: boolean;
  /** With HTTPS: refuse a certificate Node does not trust (default true). */
  httpsVerify?: boolean;
}

/** A GetStatus answer whose Position holds a Zoom element. */
const STATUS_WITH_ZOOM = /<(?:[\w-]+:)?Position\b[^>]*>(?:(?!<\/(?:[\w-]+:)?Position>)[\s\S])*<(?:[\w-]+:)?Zoom\b/;
/** A GetStatus answer whose Position holds a PanTilt element. */
const STATUS_WITH_PAN_TILT = /<(?:[\w-]+:)?Position\b[^>]*>(?:(?!<\/(?:[\w-]+:)?Position>)[\s\S])*<(?:[\w-]+:)?PanTilt\b/;

export function createOnvifClient(o: ClientOptions): OnvifClient {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Cam } = require('onvif/promises') as { Cam: new (opts: Record<string, unknown>) => OnvifClient & { on(ev: string, fn: (xml: string) => void): void } };
  const secure = o.https ? { useSecure: true, secureOpts: { rejectUnauthorized: o.httpsVerify !== false } } : {};
  const cam = new Cam({ hostname: o.hostname, port: o.port, username: o.username, password: o.password, timeout: o.timeout, ...secure });
  // The client fills zoom 0 when GetStatus has no Zoom (pan/tilt-only cameras): the reply itself
  // tells whether the camera said a zoom. Replies come before their parsed result.
  let lastStatusXml = '';
  cam.on('rawResponse', (xml: string) => {
    if (xml.includes('GetStatusResponse')) lastStatusXml = xml;
  });
  return new Proxy(cam, {
    get(target, name) {
      if (name !== 'getStatus') return (target as unknown as Record<string | symbol, unknown>)[name];
      return async (opts: { profileToken: string }) => {
        let s: Awaited<ReturnType<OnvifClient['getStatus']>>;
        try {
          s = await target.getStatus(opts);
        } catch (err) {
          // A reply without PTZStatus (nothing of position or motion) breaks the client's parser:
          // it is an answer that says nothing, not a fault.
          if (err instanceof TypeError && /GetStatusResponse/.test(lastStatusXml) && !/PTZStatus/.test(lastStatusXml)) return {};
          throw err;
        }
        // The client also fills pan and tilt 0 when the camera gives no Position at all (some
        // report only MoveStatus): a camera at 0, 0 is not what it said.
        if (s && !STATUS_WITH_PAN_TILT.test(lastStatusXml)) return { ...s, position: undefined };
        if (s?.position && !STATUS_WITH_ZOOM.test(lastStatusXml)) return { ...s, position: { x: s.position.x, y: s.position.y } };
        return s;
      };
    },
  });
}

export interface PresetInfo {
  token: string;
  name: string;
  position?: PtzPosition;
}

export interface Capabilities {
  absolute: boolean;
  relative: boolean;
  continuous: boolean;
  /** URI of an advertised degree pan/tilt position space, if any. */
  degreesSpaceUri?: string;
  /** URI of an advertised degree pan/tilt translation space (RelativeMove), if any. */
  degreesTranslationSpaceUri?: string;
  /**
   * The pan (x) and tilt (y) limits the camera gives for the AbsoluteMove space Vigie uses (the
   * degree space with the degrees calibration, else the generic one), when it gives them: a
   * ceiling mount's generic tilt may be 0…1, not −1…1.
   */
  absoluteRange?: { x?: { min: number; max: number }; y?: { min: number; max: number } };
  /** true when the camera listed its spaces (GetConfigurationOptions); the URIs above are then known absent when unset. */
  spacesListed?: boolean;
}

export interface ConnectionOptions {
  config: CameraConfig;
  username: string;
  password: string;
  /** Deadline of each ONVIF command, its reply included (default ONVIF_CALL_TIMEOUT_MS). */
  timeoutMs?: number;
  /** Deadline of the onvif client's connect() (default ONVIF_CONNECT_TIMEOUT_MS). */
  connectTimeoutMs?: number;
  backoff?: BackoffOptions;
  /** Wait after a refused login (default AUTH_RETRY_MS). */
  authRetryMs?: number;
  createClient?: (o: ClientOptions) => OnvifClient;
  /**
   * While connected and idle, a GetStatus this often (default 15 s; 0 = never): a camera
   * unplugged or frozen between alerts is then seen failed (and retried), and the console says
   * so, before the next alert needs it.
   */
  keepAliveMs?: number;
  /** Clock for the wait after a refused login, ms (tests); a monotonic clock by default (a wall clock step is no wait). */
  now?: () => number;
}

export interface PtzStatus {
  /** Zoom 0 when the camera did not say (see zoomKnown). */
  position: PtzPosition;
  /** false when the camera's status has no zoom (pan/tilt-only cameras, some firmware). */
  zoomKnown?: boolean;
  /**
   * false when the camera's status has no pan/tilt position (some cameras answer MoveStatus
   * only): `position` then says nothing of where it points.
   */
  positionKnown?: boolean;
  /** undefined when the camera does not say. */
  moving?: boolean;
}

/**
 * Listeners a connection takes before Node warns of a leak. Every node using the camera listens
 * to its 'state' (its vigie-camera, the camera registry, each ptz-steer: one each, taken off on
 * close), so Node's default of 10 would be a false alarm with a dozen ptz-steer on one camera;
 * 100 is more nodes than a site puts on one camera, and a listener added per alert or per move
 * (a real leak) still passes it and is still reported.
 */
export const CAMERA_STATE_LISTENERS_MAX = 100;

export class CameraConnection extends EventEmitter implements CameraHandle {
  private stateNow: ConnectionState = 'closed';
  private client?: OnvifClient;
  private attempt?: Promise<void>;
  private retryTimer?: NodeJS.Timeout;
  private keepAliveTimer?: NodeJS.Timeout;
  private readonly backoff: Backoff;
  private started = false;
  /** Grows at each idle(): an attempt begun before it is not used. */
  private idleCount = 0;
  private closedForGood = false;
  /** Commands and connection steps waiting for the camera: close() ends them at once. */
  private readonly waiting = new Set<(err: CameraError) => void>();
  lastError?: CameraError;
  profileToken = '';
  /** Media profiles the camera offered at the last connection attempt (read even when it then failed). */
  profiles: Array<{ token: string; name: string; ptz: boolean }> = [];
  /** How the profile was chosen when none is configured, for the log and Test connection. */
  profileChoice?: string;
  /** When the last connection attempt was refused as a login; unset once one succeeds. */
  private loginRefusedAtMs?: number;
  /** The GetPresets fault last told (a 'notice' event), so that retries do not repeat it. */
  private presetsFaultTold?: string;
  presets: PresetInfo[] = [];
  capabilities: Capabilities = { absolute: true, relative: true, continuous: true };
  /** false until a connection has read the camera's capabilities (the defaults above are guesses until then). */
  capabilitiesRead = false;
  /** Commands that answered "not supported" on this connection: skipped on later moves. */
  readonly unsupported = new Set<'absolute' | 'relative' | 'continuous' | 'stop'>();
  private streamUri?: string;
  private snapshotUri?: string;

  private readonly now: () => number;

  constructor(private readonly opts: ConnectionOptions) {
    super();
    // One 'state' listener per node using the camera (a PtzSteer whose alerts wait for the
    // camera to answer takes one however many alerts): see CAMERA_STATE_LISTENERS_MAX.
    this.setMaxListeners(CAMERA_STATE_LISTENERS_MAX);
    this.now = opts.now ?? monotonicMs;
    this.backoff = new Backoff({ initialMs: 500, maxMs: 30_000, now: this.now, ...opts.backoff });
  }

  get id(): string {
    return this.opts.config.id;
  }
  get name(): string {
    return this.opts.config.name || this.opts.config.id;
  }
  /** The login this connection uses: video-forward opens the camera's stream and snapshot with it. */
  getCredentials(): { username: string; password: string } | undefined {
    return this.opts.username ? { username: this.opts.username, password: this.opts.password } : undefined;
  }
  get config(): CameraConfig {
    return this.opts.config;
  }
  get state(): ConnectionState {
    return this.stateNow;
  }

  /** Starts connecting (idempotent); failures are retried with back-off. */
  start(): void {
    if (this.closedForGood || this.started) return;
    this.started = true;
    // Connected already by a command while idle: only the keep-alive was missing.
    if (this.stateNow === 'connected' && this.client) this.armKeepAlive();
    else this.connectOnce().catch(() => undefined);
  }

  /**
   * No node uses the camera any more: stop retrying and drop the session, but stay able to
   * start again (a later user, or a command, connects anew).
   */
  idle(): void {
    if (this.closedForGood) return;
    this.started = false;
    this.idleCount++;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.client = undefined;
    this.backoff.reset();
    this.setState('closed');
  }

  async close(): Promise<void> {
    this.idle();
    this.closedForGood = true;
    // Nothing waits for a camera that hangs: its commands end now, their late answers unused.
    const closed = new CameraError('closed', 'camera connection closed', this.id);
    for (const end of [...this.waiting]) end(closed);
    this.removeAllListeners('state');
  }

  private get authRetryMs(): number {
    return this.opts.authRetryMs ?? AUTH_RETRY_MS;
  }

  /** How the connection retries after its last failure, in words for a warning. */
  get retryWords(): string {
    if (this.loginRefusedAtMs === undefined) return 'retrying with back-off';
    return `retrying every ${Math.round(this.authRetryMs / 60_000) || 1} min only, as the camera may lock out repeated wrong logins`;
  }

  private get callTimeoutMs(): number {
    return this.opts.timeoutMs ?? ONVIF_CALL_TIMEOUT_MS;
  }

  /**
   * `work`'s answer, or an 'unreachable' error once `timeoutMs` has passed without one (or a
   * 'closed' one when the connection closes meanwhile). An answer that comes later is ignored,
   * a late error too (it is handled here, so never an unhandled rejection).
   */
  private withDeadline<T>(context: string, timeoutMs: number, work: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let pending = true;
      const settle = (finish: () => void): void => {
        if (!pending) return;
        pending = false;
        clearTimeout(timer);
        this.waiting.delete(end);
        finish();
      };
      const end = (err: CameraError): void => settle(() => reject(err));
      const timer = setTimeout(
        () => end(new CameraError('unreachable', `${context}: camera unreachable: no complete answer within ${timeoutMs} ms (it stopped answering, or closed the connection part-way through its reply)`, this.id)),
        timeoutMs,
      );
      this.waiting.add(end);
      work.then(
        (v) => settle(() => resolve(v)),
        (err: unknown) => settle(() => reject(err)),
      );
    });
  }

  /**
   * Connected now, or one immediate attempt (not waiting for the back-off timer). A first
   * command starts the connection (retries, keep-alive) as start() does; once the last node
   * using the camera has left (idle), a command connects for itself only, until start().
   */
  async ensureConnected(): Promise<void> {
    if (this.closedForGood) throw new CameraError('closed', 'camera connection closed', this.id);
    if (this.stateNow === 'connected' && this.client) return;
    // A login just refused is not tried again for each command (see AUTH_RETRY_MS).
    if (this.loginRefusedAtMs !== undefined && this.now() - this.loginRefusedAtMs < this.authRetryMs && this.lastError) throw this.lastError;
    if (this.idleCount === 0) this.started = true;
    if (this.retryTimer) {
      clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
    }
    await this.connectOnce();
  }

  private setState(s: ConnectionState): void {
    if (s === this.stateNow) return;
    this.stateNow = s;
    if (s === 'connected') this.armKeepAlive();
    else this.clearKeepAlive();
    this.emit('state', s, this.lastError);
  }

  private armKeepAlive(): void {
    this.clearKeepAlive();
    const everyMs = this.opts.keepAliveMs ?? 15_000;
    if (everyMs <= 0 || !this.started) return;
    this.keepAliveTimer = setTimeout(() => {
      this.keepAliveTimer = undefined;
      if (this.stateNow !== 'connected') return;
      // A network failure or a refused login (a wrong password, or a camera whose clock stepped
      // so that it refuses every token until its time is read again) marks the camera failed and
      // reconnects (see call); any other answer (a fault, a camera without GetStatus) still
      // shows it is there: check again later.
      const again = (): void => {
        if (this.stateNow === 'connected') this.armKeepAlive();
      };
      this.getStatus().then(again, again);
    }, everyMs);
    this.keepAliveTimer.unref?.();
  }

  private clearKeepAlive(): void {
    if (this.keepAliveTimer) clearTimeout(this.keepAliveTimer);
    this.keepAliveTimer = undefined;
  }

  private connectOnce(): Promise<void> {
    if (this.attempt) return this.attempt;
    const cfg = this.opts.config;
    // An idle() while this attempt runs leaves its result unused.
    const idleCountAtStart = this.idleCount;
    this.setState('connecting');
    this.attempt = (async () => {
      try {
        const make = this.opts.createClient ?? createOnvifClient;
        const client = make({
          hostname: cfg.host,
          port: cfg.port,
          username: this.opts.username,
          password: this.opts.password,
          timeout: this.callTimeoutMs,
          https: cfg.https === true,
          httpsVerify: cfg.httpsVerify !== false,
        });
        await this.withDeadline('connect', this.opts.connectTimeoutMs ?? ONVIF_CONNECT_TIMEOUT_MS, client.connect());
        const profiles = client.profiles ?? [];
        // Known even when this attempt fails, so that Test connection can offer them.
        this.profiles = profiles.map((p) => ({ token: String(p.$?.token ?? ''), name: String(p.name ?? ''), ptz: !!p.PTZConfiguration }));
        const { token, why } = chooseProfile(cfg.profileToken, profiles, client.activeSource?.profileToken);
        this.profileChoice = why;
        if (cfg.profileToken && !profiles.some((p) => p.$?.token === cfg.profileToken)) {
          const have = profiles.map((p) => p.$?.token).filter(Boolean);
          throw new CameraError('no-profile', `profile "${cfg.profileToken}" not found; the camera has: ${have.join(', ') || 'none (check the user\'s rights)'}`, this.id);
        }
        if (!token) throw new CameraError('no-profile', 'the camera reports no media profile (check the user\'s rights)', this.id);
        let presets: PresetInfo[] = [];
        try {
          presets = parsePresets(await this.withDeadline('connect: GetPresets', this.callTimeoutMs, client.getPresets({ profileToken: token })));
        } catch (err) {
          // GetPresets needs valid credentials even where GetServices/GetProfiles do not: a refused
          // login fails here. Any other fault ("Optional Action Not Implemented") means no
          // presets: the camera is still usable (no preset fallback, no home preset).
          const e = classifyError(err, this.id, 'connect: GetPresets');
          if (e.code === 'unreachable' || e.code === 'closed' || e.code === 'auth') throw e;
          if (e.message !== this.presetsFaultTold) {
            this.presetsFaultTold = e.message;
            this.emit('notice', `no presets read (${e.message}); moves that need a preset fallback will fail`);
          }
        }
        const profile = profiles.find((p) => p.$?.token === token);
        const ptzToken = profile?.PTZConfiguration?.$?.token;
        let caps: Capabilities = { absolute: true, relative: true, continuous: true };
        if (ptzToken) {
          try {
            const o = await this.withDeadline('connect: GetConfigurationOptions', this.callTimeoutMs, client.getConfigurationOptions(ptzToken));
            if (o?.ptzspaces?.length) {
              const names = o.ptzspaces.map((s) => s.name);
              const deg = o.ptzspaces.find((s) => s.name === 'absolutePanTiltPositionSpace' && /degree/i.test(String(s.uri)));
              // The limits of the space the moves are sent in: a degrees calibration whose camera lists no
              // degree space has none known (the generic space's −1…1 would read as ±1°).
              const absUsed =
                this.opts.config.calibration.space === 'degrees' ? deg : o.ptzspaces.find((s) => s.name === 'absolutePanTiltPositionSpace' && /PositionGenericSpace/i.test(String(s.uri)));
              const degRel = o.ptzspaces.find((s) => s.name === 'relativePanTiltTranslationSpace' && /degree/i.test(String(s.uri)));
              caps = {
                absolute: names.includes('absolutePanTiltPositionSpace'),
                relative: names.includes('relativePanTiltTranslationSpace'),
                continuous: names.includes('continuousPanTiltVelocitySpace'),
                degreesSpaceUri: deg ? String(deg.uri) : undefined,
                degreesTranslationSpaceUri: degRel ? String(degRel.uri) : undefined,
                spacesListed: true,
                absoluteRange: absUsed ? { x: finiteRange(absUsed.x), y: finiteRange(absUsed.y) } : undefined,
              };
            }
          } catch (err) {
            // Options are optional (a user may lack the rights to read them): moves will be tried
            // and fall back on faults. A camera that stops answering is not connected though.
            const e = classifyError(err, this.id, 'connect: GetConfigurationOptions');
            if (e.code === 'unreachable' || e.code === 'closed') throw e;
          }
        }
        // Closed, or left idle while this attempt ran (no node uses the camera now): not connected.
        if (this.closedForGood || this.idleCount !== idleCountAtStart) return;
        this.client = client;
        this.profileToken = token;
        this.presets = presets;
        this.capabilities = caps;
        this.capabilitiesRead = true;
        this.unsupported.clear();
        this.streamUri = undefined;
        this.snapshotUri = undefined;
        this.lastError = undefined;
        this.loginRefusedAtMs = undefined;
        this.backoff.reset();
        this.setState('connected');
      } catch (err) {
        const e = classifyError(err, this.id, 'connect', { https: cfg.https === true });
        this.lastError = e;
        this.client = undefined;
        // Refused while connecting, with the camera's time just read: the login itself is wrong.
        // (A command refused on a connected session first reconnects at once: a camera whose
        // clock stepped accepts the login again once its time is read.)
        this.loginRefusedAtMs = e.code === 'auth' ? this.now() : undefined;
        // Failed, and retried, only for the nodes that use the camera; a command while idle
        // hears of it through the error it throws.
        if (this.closedForGood || this.idleCount !== idleCountAtStart) {
          /* closed, or left idle meanwhile: stays closed */
        } else if (this.started) {
          this.setState('failed');
          this.scheduleRetry();
        } else this.setState('closed');
        throw e;
      } finally {
        this.attempt = undefined;
      }
    })();
    return this.attempt;
  }

  private scheduleRetry(): void {
    if (this.closedForGood || !this.started || this.retryTimer) return;
    const delay = this.loginRefusedAtMs !== undefined ? this.authRetryMs : this.backoff.next();
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.connectOnce().catch(() => undefined);
    }, delay);
  }

  /** Runs a command on the connected client; a network or auth failure marks the camera failed. */
  private async call<T>(what: string, fn: (c: OnvifClient) => Promise<T>): Promise<T> {
    await this.ensureConnected();
    const client = this.client;
    if (!client) throw new CameraError('closed', 'camera connection closed while connecting', this.id);
    try {
      return await this.withDeadline(what, this.callTimeoutMs, fn(client));
    } catch (err) {
      const e = classifyError(err, this.id, what);
      if ((e.code === 'unreachable' || e.code === 'auth') && this.client === client) {
        this.client = undefined;
        this.lastError = e;
        this.setState('failed');
        this.scheduleRetry();
      }
      throw e;
    }
  }

  private ptVector(p: Partial<PtzPosition>): Record<string, unknown> {
    const v: Record<string, unknown> = { profileToken: this.profileToken };
    if (p.pan !== undefined) v.x = p.pan;
    if (p.tilt !== undefined) v.y = p.tilt;
    if (p.zoom !== undefined) v.zoom = p.zoom;
    if (this.opts.config.calibration.space === 'degrees' && this.capabilities.degreesSpaceUri) v.xyspace = this.capabilities.degreesSpaceUri;
    return v;
  }

  absoluteMove(p: PtzPosition): Promise<unknown> {
    return this.call('AbsoluteMove', (c) => c.absoluteMove(this.ptVector(p)));
  }

  /**
   * `delta` in the calibrated space: with the degrees calibration, degrees, sent in the camera's
   * degree translation space (its default is the generic one, where 30 means nothing and 0.5
   * means 90°). A degrees camera that lists none cannot be told a delta in degrees; one whose
   * spaces are unknown (options not readable) is sent it in its default space, as before.
   */
  relativeMove(delta: PtzPosition): Promise<unknown> {
    const v: Record<string, unknown> = { profileToken: this.profileToken, x: delta.pan, y: delta.tilt, zoom: delta.zoom };
    if (this.opts.config.calibration.space === 'degrees') {
      const uri = this.capabilities.degreesTranslationSpaceUri;
      if (uri) v.xyspace = uri;
      else if (this.capabilities.spacesListed) return Promise.reject(new CameraError('not-supported', 'RelativeMove: the camera offers no degree translation space for a move in degrees', this.id));
    }
    return this.call('RelativeMove', (c) => c.relativeMove(v));
  }

  /** Velocities −1…1; timeoutMs is only a request: some cameras ignore it, so always stop(). */
  continuousMove(v: PtzPosition, timeoutMs: number): Promise<unknown> {
    return this.call('ContinuousMove', (c) =>
      c.continuousMove({ profileToken: this.profileToken, x: v.pan, y: v.tilt, zoom: v.zoom, timeout: Math.max(100, Math.round(timeoutMs)) }),
    );
  }

  /** Stop; where the camera rejects Stop, a zero-velocity ContinuousMove does it. */
  async stop(): Promise<void> {
    if (!this.unsupported.has('stop')) {
      try {
        await this.call('Stop', (c) => c.stop({ profileToken: this.profileToken, panTilt: true, zoom: true }));
        return;
      } catch (err) {
        const e = classifyError(err, this.id);
        if (e.code !== 'soap-fault' && e.code !== 'not-supported') throw e;
        this.unsupported.add('stop');
      }
    }
    await this.call('ContinuousMove(0)', (c) => c.continuousMove({ profileToken: this.profileToken, x: 0, y: 0, zoom: 0 }));
  }

  async getStatus(): Promise<PtzStatus> {
    const s = await this.call('GetStatus', (c) => c.getStatus({ profileToken: this.profileToken }));
    const pos = s?.position ?? {};
    const ms = s?.moveStatus;
    let moving: boolean | undefined;
    if (typeof ms === 'string') moving = ms === 'MOVING';
    else if (ms && (ms.panTilt !== undefined || ms.zoom !== undefined)) moving = ms.panTilt === 'MOVING' || ms.zoom === 'MOVING';
    const zoomKnown = pos.zoom !== undefined && pos.zoom !== null;
    const positionKnown = pos.x !== undefined && pos.x !== null && pos.y !== undefined && pos.y !== null;
    return { position: { pan: Number(pos.x ?? 0), tilt: Number(pos.y ?? 0), zoom: zoomKnown ? Number(pos.zoom) : 0 }, zoomKnown, positionKnown, moving };
  }

  gotoPreset(token: string): Promise<unknown> {
    return this.call('GotoPreset', (c) => c.gotoPreset({ profileToken: this.profileToken, preset: token }));
  }

  gotoHome(): Promise<unknown> {
    const home = this.opts.config.homePreset;
    if (home) return this.gotoPreset(home);
    return this.call('GotoHomePosition', (c) => c.gotoHomePosition({ profileToken: this.profileToken }));
  }

  async refreshPresets(): Promise<PresetInfo[]> {
    this.presets = parsePresets(await this.call('GetPresets', (c) => c.getPresets({ profileToken: this.profileToken })));
    return this.presets;
  }

  async getStreamUri(): Promise<string> {
    if (this.opts.config.streamUrl) return this.opts.config.streamUrl;
    if (this.streamUri) return this.streamUri;
    const r = await this.call('GetStreamUri', (c) => c.getStreamUri({ protocol: 'RTSP', profileToken: this.profileToken }));
    if (!r?.uri) throw new CameraError('soap-fault', 'GetStreamUri returned no URI', this.id);
    this.streamUri = String(r.uri);
    return this.streamUri;
  }

  async getSnapshotUri(): Promise<string> {
    if (this.opts.config.snapshotUrl) return this.opts.config.snapshotUrl;
    if (this.snapshotUri) return this.snapshotUri;
    const r = await this.call('GetSnapshotUri', (c) => c.getSnapshotUri({ profileToken: this.profileToken }));
    if (!r?.uri) throw new CameraError('soap-fault', 'GetSnapshotUri returned no URI', this.id);
    this.snapshotUri = String(r.uri);
    return this.snapshotUri;
  }
}

/**
 * The profile to use: the configured one; else the first with a PTZ configuration (multi-sensor
 * cameras list fixed sensors first, and the onvif client's own choice is the first video
 * source's profile, PTZ or not); else the client's choice or the first profile. `why` says
 * which, when none was configured.
 */
export function chooseProfile(
  configured: string | undefined,
  profiles: NonNullable<OnvifClient['profiles']>,
  clientChoice: string | undefined,
): { token?: string; why?: string } {
  if (configured) return { token: configured };
  const label = (p: (typeof profiles)[number]) => `"${p.$?.token}"${p.name ? ` (${p.name})` : ''}`;
  const ptz = profiles.find((p) => p.PTZConfiguration && p.$?.token);
  if (ptz) return { token: String(ptz.$!.token), why: `profile ${label(ptz)}: the first with a PTZ configuration` };
  const token = clientChoice || profiles[0]?.$?.token;
  if (!token) return {};
  return { token, why: `profile "${token}": no profile has a PTZ configuration, so the camera may refuse to move` };
}

/** A space's range as the client read it, when both ends are numbers and in order. */
function finiteRange(r: { min: number; max: number } | undefined): { min: number; max: number } | undefined {
  return r && Number.isFinite(r.min) && Number.isFinite(r.max) && r.min <= r.max ? { min: r.min, max: r.max } : undefined;
}

function parsePresets(raw: Record<string, unknown>): PresetInfo[] {
  const out: PresetInfo[] = [];
  for (const [name, v] of Object.entries(raw ?? {})) {
    const p = v as { $?: { token?: unknown }; PTZPosition?: { panTilt?: { $?: { x?: unknown; y?: unknown } }; zoom?: { $?: { x?: unknown } } } };
    const token = p?.$?.token;
    if (token === undefined) continue;
    const pt = p.PTZPosition?.panTilt?.$;
    const z = p.PTZPosition?.zoom?.$;
    const position = pt && Number.isFinite(Number(pt.x)) && Number.isFinite(Number(pt.y)) ? { pan: Number(pt.x), tilt: Number(pt.y), zoom: Number(z?.x ?? 0) } : undefined;
    out.push({ token: String(token), name, position });
  }
  return out;
}
