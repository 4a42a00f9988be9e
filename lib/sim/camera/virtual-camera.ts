/**
 * The virtual ONVIF PTZ camera (DESIGN §6): a real SOAP-over-HTTP server that the `onvif`
 * client talks to, with WS-Security UsernameToken digest authentication, finite slew speed,
 * presets, vendor quirks, a JPEG snapshot and a live MPEG-TS stream (H.264 + a synthetic
 * tone) whose picture shows where the camera points.
 */
import * as crypto from 'crypto';
import * as http from 'http';
import { AddressInfo } from 'net';
import { XmlElement, child, parseXml, path, textOf } from './xml';
import { NS, SoapFault, envelope, faults } from './soap';
import { PoseDeg, PtzModel, wrap180 } from './ptz-model';
import { VideoOutput } from './video';
import { RtspFace } from './rtsp';

export type CameraQuirk =
  /** AbsoluteMove answers a SOAP fault (some Reolink models). */
  | 'noAbsoluteMove'
  /** RelativeMove answers a SOAP fault. */
  | 'noRelativeMove'
  /** ContinuousMove answers a SOAP fault. */
  | 'noContinuousMove'
  /** ContinuousMove keeps moving past its Timeout until Stop. */
  | 'continuousIgnoresTimeout'
  /** GetStatus always says IDLE (some Hikvision firmware). */
  | 'moveStatusNeverUpdated'
  /** Stop answers a SOAP fault (a zero-velocity ContinuousMove still stops it). */
  | 'rejectStop'
  /** GotoPreset is accepted but nothing moves (erased presets). */
  | 'presetsDoNothing'
  /** ContinuousMove only moves when pan and tilt speeds are both non-zero (some Reolink). */
  | 'continuousNeedsBothAxes'
  /** RelativeMove is accepted but nothing moves. */
  | 'relativeMoveIgnored';

/** The name written on its picture when none is given. */
export const DEFAULT_CAMERA_NAME = 'Vigie virtual camera';

export const CAMERA_QUIRKS: readonly CameraQuirk[] = [
  'noAbsoluteMove',
  'noRelativeMove',
  'noContinuousMove',
  'continuousIgnoresTimeout',
  'moveStatusNeverUpdated',
  'rejectStop',
  'presetsDoNothing',
  'continuousNeedsBothAxes',
  'relativeMoveIgnored',
];

export interface VirtualCameraOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  username: string;
  password: string;
  quirks?: CameraQuirk[];
  panSpeedDegPerS?: number;
  tiltSpeedDegPerS?: number;
  zoomSpeedPerS?: number;
  /** Advertise and use a degree pan/tilt space by default instead of the generic −1…1 space. */
  degreeSpace?: boolean;
  tiltMinDeg?: number;
  tiltMaxDeg?: number;
  /** Maximum optical zoom factor (zoom space 1 = this). */
  maxZoomX?: number;
  /** For the picture only: bearing of pan zero and whether pan grows clockwise. */
  mountHeadingDeg?: number;
  panDirection?: 1 | -1;
  initialPose?: Partial<PoseDeg>;
  name?: string;
  /** Explicit ffmpeg path (else VIGIE_FFMPEG, else PATH). */
  ffmpegPath?: string;
  /** Video frame rate for the live stream. */
  fps?: number;
  /** Also serve the live stream over RTSP (GStreamer's RTSP server); GetStreamUri then answers rtsp://. */
  rtsp?: boolean;
  /**
   * The host its GetStreamUri and GetSnapshotUri answers name instead of its own (a camera behind
   * NAT naming its inside address, or an answer forged on the way); the HTTP stream only.
   */
  mediaHost?: string;
  /** GetStatus answers pan/tilt only, no Zoom element (pan/tilt-only cameras). */
  statusWithoutZoom?: boolean;
  /**
   * GetStatus answers MoveStatus (and UtcTime) only, no Position: cameras that do not report
   * where they point. With the `moveStatusNeverUpdated` quirk it tells nothing of the move.
   */
  statusWithoutPosition?: boolean;
  /** GetStatus answers an empty GetStatusResponse: no PTZStatus at all, so nothing of position or motion. */
  statusEmpty?: boolean;
  /**
   * ONVIF requests are authenticated by HTTP Digest (RFC 7616, MD5, qop "auth") only: a request
   * without a valid Authorization header is answered 401 with a challenge, and the WS-Security
   * header is not read (cameras that leave WS-Security out, or have it turned off).
   */
  httpDigestOnly?: boolean;
  /**
   * Its generic tilt position space starts at this y, not −1 (e.g. 0 on a ceiling or wall
   * mount that cannot look up, or down, past the horizon): GetConfigurationOptions and its PTZ
   * configuration say so in YRange, and AbsoluteMove below it answers an InvalidPosition fault.
   * y still maps −1…1 to tiltMinDeg…tiltMaxDeg.
   */
  genericTiltMin?: number;
  /** A move's zoom lands on a multiple of this step, not where asked (coarse or rounding zoom motors). */
  zoomStep?: number;
  /**
   * A multi-sensor camera: a panorama profile without PTZ (and its video source) comes first in
   * GetProfiles and GetVideoSources, the PTZ profile second.
   */
  panoramaProfileFirst?: boolean;
  /** GetPresets answers "Optional Action Not Implemented" (cameras without presets over ONVIF). */
  refusePresets?: boolean;
  /**
   * AbsoluteMove, RelativeMove, GotoPreset and GotoHomePosition are answered at once, but the
   * head starts turning this much later (slow firmware); a newer command cancels a start not yet made.
   */
  moveStartDelayMs?: number;
  /**
   * The lowest tilt the head really reaches, degrees, above `tiltMinDeg` (its spaces still span
   * tiltMinDeg…tiltMaxDeg): a move lower stops there, accepted without a word, as a camera in a
   * housing or on a mount that blocks it; with `faultBeyondStop`, AbsoluteMove there answers
   * an InvalidPosition fault instead.
   */
  tiltStopDeg?: number;
  faultBeyondStop?: boolean;
  /**
   * A pan with end stops (a wall mount), degrees of its pan axis within −180…180, e.g. [−90, 90]:
   * its position spaces say so in XRange (generic x = degrees / 180: −0.5…0.5; the degree space
   * in degrees), AbsoluteMove beyond answers an InvalidPosition fault, and other moves stop at
   * the ends. Absent: an endless pan.
   */
  panRangeDeg?: [number, number];
  /**
   * Its degree space writes pan 0…360, not −180…180 (as some cameras do): positions are given
   * so, and AbsoluteMove takes 0…360. With panRangeDeg, that range may not cross pan 0.
   */
  degreePanFrom0?: boolean;
  /**
   * AbsoluteMove lands this many degrees of pan past where it was sent (a worn or badly
   * calibrated head); GotoPreset still lands on the preset.
   */
  absolutePanErrorDeg?: number;
  /**
   * Mounted upside down (a camera made for a ceiling set on a pole, or the other way round):
   * seen from above its pan turns the other way, and its tilt is reversed (a tilt of its head
   * of +30° looks 30° down). Its own image flip keeps the picture upright: the picture shows
   * where it looks (see `view`). tiltMinDeg…tiltMaxDeg are its head's, e.g. −20…90 to look
   * from 20° up to straight down.
   */
  upsideDown?: boolean;
}

export interface CallLogEntry {
  action: string;
  timeMs: number;
  user?: string;
  /** The fault reason when the call failed. */
  fault?: string;
  /** Carried out, but answered with half a reply before the connection closed (see halfReply). */
  halfReplied?: boolean;
  args?: Record<string, unknown>;
}

export interface Preset extends PoseDeg {
  token: string;
  name: string;
}

export const GENERIC_PT_POSITION = 'http://www.onvif.org/ver10/tptz/PanTiltSpaces/PositionGenericSpace';
export const GENERIC_ZOOM_POSITION = 'http://www.onvif.org/ver10/tptz/ZoomSpaces/PositionGenericSpace';
export const DEGREES_PT_POSITION = 'http://www.onvif.org/ver10/tptz/PanTiltSpaces/SphericalPositionSpaceDegrees';
const GENERIC_PT_TRANSLATION = 'http://www.onvif.org/ver10/tptz/PanTiltSpaces/TranslationGenericSpace';
const GENERIC_ZOOM_TRANSLATION = 'http://www.onvif.org/ver10/tptz/ZoomSpaces/TranslationGenericSpace';
const DEGREES_PT_TRANSLATION = 'http://www.onvif.org/ver10/tptz/PanTiltSpaces/SphericalTranslationSpaceDegrees';
const GENERIC_PT_VELOCITY = 'http://www.onvif.org/ver10/tptz/PanTiltSpaces/VelocityGenericSpace';
const GENERIC_ZOOM_VELOCITY = 'http://www.onvif.org/ver10/tptz/ZoomSpaces/VelocityGenericSpace';
const PT_SPEED = 'http://www.onvif.org/ver10/tptz/PanTiltSpaces/GenericSpeedSpace';
const ZOOM_SPEED = 'http://www.onvif.org/ver10/tptz/ZoomSpaces/ZoomGenericSpeedSpace';

const PROFILE_TOKEN = 'profile_1';
const PANORAMA_PROFILE_TOKEN = 'pano_1';
const PANORAMA_SOURCE_TOKEN = 'pano_source';
const PTZ_CONFIG_TOKEN = 'ptz_config_1';
const PTZ_NODE_TOKEN = 'ptz_node_1';
const VIDEO_SOURCE_TOKEN = 'video_source_1';
const MAX_BODY_BYTES = 256 * 1024;
const DEFAULT_CONTINUOUS_TIMEOUT_MS = 10_000;
/** WS-Security Created may differ from our clock by this much (replay window). */
const CREATED_WINDOW_MS = 5 * 60_000;

const DIGEST_REALM = 'Vigie virtual camera';

/** Actions the ONVIF core spec lets through without credentials. */
const PRE_AUTH = new Set(['GetSystemDateAndTime']);

export class VirtualCamera {
  readonly quirks: ReadonlySet<CameraQuirk>;
  readonly calls: CallLogEntry[] = [];
  readonly presets = new Map<string, Preset>();
  readonly width = 640;
  readonly height = 360;
  private readonly ptz: PtzModel;
  private server?: http.Server;
  private portInUse = 0;
  private readonly seenNonces = new Set<string>();
  private nextPresetToken = 1;
  private readonly video: VideoOutput;
  private readonly sockets = new Set<import('net').Socket>();
  private rtspFace?: RtspFace;
  /** While frozen: the requests held unanswered, answered at thaw() (a hung camera that recovers). */
  private held?: Array<() => void>;
  /** ONVIF actions answered with half a reply (see halfReply). */
  private halfReplied = new Set<string>();
  /** A move accepted but not started yet (see moveStartDelayMs). */
  private pendingStart?: NodeJS.Timeout;
  /** Nonces of the HTTP Digest challenges given (see httpDigestOnly). */
  private readonly digestNonces = new Set<string>();
  /** How far the camera's clock is from the real time (see stepClock). */
  private clockOffsetMs = 0;

  constructor(readonly opts: VirtualCameraOptions) {
    for (const q of opts.quirks ?? []) {
      if (!CAMERA_QUIRKS.includes(q)) throw new Error(`quirks: unknown quirk "${q}", expected one of ${CAMERA_QUIRKS.join(', ')}`);
    }
    if (!opts.username || !opts.password) throw new Error('username and password: expected non-empty strings');
    const pr = opts.panRangeDeg;
    if (pr && !(pr[0] >= -180 && pr[1] <= 180 && pr[0] < pr[1])) throw new Error(`panRangeDeg: expected [min, max] with -180 <= min < max <= 180, got [${pr.join(', ')}]`);
    if (pr && opts.degreePanFrom0 && pr[0] < 0 && pr[1] > 0) throw new Error(`panRangeDeg: a range across pan 0 cannot be written in a 0…360 degree space, got [${pr.join(', ')}]`);
    this.quirks = new Set(opts.quirks ?? []);
    const tiltMinDeg = opts.tiltMinDeg ?? -90;
    const tiltMaxDeg = opts.tiltMaxDeg ?? 20;
    this.ptz = new PtzModel(
      { panDeg: 0, tiltDeg: -15, zoom: 0, ...opts.initialPose },
      { tiltMinDeg, tiltMaxDeg, tiltStopDeg: opts.tiltStopDeg, panRangeDeg: opts.panRangeDeg },
      { panSpeedDegPerS: opts.panSpeedDegPerS ?? 90, tiltSpeedDegPerS: opts.tiltSpeedDegPerS ?? opts.panSpeedDegPerS ?? 60, zoomSpeedPerS: opts.zoomSpeedPerS ?? 0.5 },
    );
    this.addPreset('Home', { panDeg: 0, tiltDeg: -15, zoom: 0 });
    this.addPreset('East', { panDeg: 90, tiltDeg: -10, zoom: 0.1 });
    this.addPreset('South', { panDeg: 180, tiltDeg: -10, zoom: 0.1 });
    this.addPreset('West', { panDeg: -90, tiltDeg: -10, zoom: 0.1 });
    this.video = new VideoOutput({
      width: this.width,
      height: this.height,
      fps: opts.fps ?? 10,
      ffmpegPath: opts.ffmpegPath,
      describe: () => this.describeView(),
    });
  }

  /** Current pose: pan/tilt in degrees of the camera's own axes, zoom 0…1, and whether it moves. */
  get pose(): { panDeg: number; tiltDeg: number; zoom: number; zoomX: number; moving: boolean } {
    const p = this.ptz.read();
    return { ...p, zoomX: this.zoomX(p.zoom) };
  }

  get port(): number {
    return this.portInUse;
  }

  get url(): string {
    return `http://${this.hostForUrls()}:${this.portInUse}/onvif/device_service`;
  }

  /** Number of clients currently reading the live stream, and whether the encoder runs. */
  get liveClients(): number {
    return this.video.clientCount;
  }

  get encoderRunning(): boolean {
    return this.video.running;
  }

  async start(): Promise<{ onvifPort: number; url: string }> {
    if (this.server) throw new Error('virtual camera already started');
    const server = http.createServer((req, res) => this.handle(req, res));
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      // Reuse the previous port after a stop() so "offline then back" keeps its address.
      server.listen(this.portInUse || this.opts.port || 0, this.opts.host ?? '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    this.portInUse = (server.address() as AddressInfo).port;
    if (this.opts.rtsp) {
      this.rtspFace = new RtspFace(`${this.base()}/live.ts`);
      try {
        await this.rtspFace.start();
      } catch (err) {
        await this.stop();
        throw err;
      }
    }
    return { onvifPort: this.portInUse, url: this.url };
  }

  /**
   * A hung camera: connections are accepted but nothing is answered (ONVIF, snapshot, a new
   * stream), and the live stream sends no more video while its connections stay open. What
   * clients time out on, as with a camera that froze or lost its uplink without a reset.
   */
  freeze(): void {
    if (this.held) return;
    this.held = [];
    this.video.pause(true);
  }

  /** The camera answers again: requests held meanwhile are answered now, the stream flows on. */
  thaw(): void {
    const held = this.held;
    this.held = undefined;
    this.video.pause(false);
    for (const answer of held ?? []) answer();
  }

  get frozen(): boolean {
    return this.held !== undefined;
  }

  /**
   * A camera whose web server fails part-way through its replies (restarting, crashing, or a
   * proxy dropping the connection): from now on each request for one of these ONVIF actions
   * (e.g. 'AbsoluteMove', 'GetSystemDateAndTime') is carried out, then answered with the HTTP
   * headers and half the body, and the connection is closed normally (FIN, no reset). The
   * `onvif` client's own timeout never fires then. An empty list answers everything in full again.
   */
  halfReply(actions: readonly string[]): void {
    this.halfReplied = new Set(actions);
  }

  /**
   * The camera's clock steps by `offsetMs` (an NTP sync after a reboot, a manual change):
   * GetSystemDateAndTime says the new time, and a WS-Security token created more than 5 min
   * away from it is refused as Hikvision does ("Wsse authorized time check failed."), until the
   * client reads the camera's time again.
   */
  stepClock(offsetMs: number): void {
    this.clockOffsetMs += offsetMs;
  }

  private nowMs(): number {
    return Date.now() + this.clockOffsetMs;
  }

  /** The camera's encoder dies: every live stream ends at once (a new client starts it again). */
  async interruptStream(): Promise<void> {
    await this.video.stop();
  }

  /** The RTSP URL when RTSP is enabled, else undefined. */
  get rtspUrl(): string | undefined {
    return this.rtspFace?.running ? this.rtspFace.url : undefined;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.held = undefined;
    this.cancelPendingStart();
    this.video.pause(false);
    await this.rtspFace?.stop();
    this.rtspFace = undefined;
    await this.video.stop();
    if (!server) return;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private hostForUrls(): string {
    const h = this.opts.host ?? '127.0.0.1';
    return h === '0.0.0.0' || h === '::' ? '127.0.0.1' : h;
  }

  private base(): string {
    return `http://${this.hostForUrls()}:${this.portInUse}`;
  }

  private zoomX(zoom: number): number {
    return 1 + zoom * ((this.opts.maxZoomX ?? 20) - 1);
  }

  /** Where it looks in the world: the bearing (clockwise from north) and tilt (up positive) its picture shows. */
  get view(): { bearingDeg: number; tiltDeg: number } {
    const { bearingDeg, tiltDeg } = this.describeView();
    return { bearingDeg, tiltDeg };
  }

  private describeView() {
    const p = this.pose;
    // Upside down, the head's pan turns the other way seen from above, and its tilt is reversed.
    const flip = this.opts.upsideDown ? -1 : 1;
    const dir = (this.opts.panDirection ?? 1) * flip;
    return {
      bearingDeg: ((((this.opts.mountHeadingDeg ?? 0) + dir * p.panDeg) % 360) + 360) % 360,
      tiltDeg: flip * p.tiltDeg,
      zoomX: p.zoomX,
      panDeg: p.panDeg,
      moving: p.moving,
      name: this.opts.name ?? DEFAULT_CAMERA_NAME,
    };
  }

  private addPreset(name: string, pose: PoseDeg): Preset {
    const token = String(this.nextPresetToken++);
    const preset = { token, name, ...pose };
    this.presets.set(token, preset);
    return preset;
  }

  // ---- HTTP ---------------------------------------------------------------------------

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    if (this.held) {
      this.held.push(() => {
        if (!res.destroyed && !res.writableEnded) this.handle(req, res);
      });
      return;
    }
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://camera');
    } catch {
      // A target that is no URL (`//`, `//[`): thrown here, it would end the process.
      res.writeHead(400, { 'Content-Type': 'text/plain' });
      res.end('bad request target\n');
      return;
    }
    if (req.method === 'GET' && url.pathname === '/snapshot.jpg') {
      this.video.snapshot().then(
        (jpeg) => {
          res.writeHead(200, { 'Content-Type': 'image/jpeg', 'Content-Length': jpeg.length, 'Cache-Control': 'no-store' });
          res.end(jpeg);
        },
        (err: Error) => {
          res.writeHead(503, { 'Content-Type': 'text/plain' });
          res.end(`snapshot unavailable: ${err.message}\n`);
        },
      );
      return;
    }
    if (req.method === 'GET' && url.pathname === '/live.ts') {
      this.video.addClient(req, res);
      return;
    }
    if (req.method === 'POST' && url.pathname.startsWith('/onvif/')) {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_BODY_BYTES) {
          req.destroy();
          return;
        }
        chunks.push(c);
      });
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        if (!this.opts.httpDigestOnly) return this.soap(body, res);
        // GetSystemDateAndTime needs no credentials (ONVIF core), under Digest too.
        const user = /GetSystemDateAndTime\b/.test(body) ? '' : this.httpDigestUser(req);
        if (user === undefined) {
          const nonce = crypto.randomBytes(16).toString('hex');
          this.digestNonces.add(nonce);
          if (this.digestNonces.size > 10_000) this.digestNonces.clear();
          res.writeHead(401, { 'WWW-Authenticate': `Digest realm="${DIGEST_REALM}", qop="auth", nonce="${nonce}", algorithm=MD5`, 'Content-Type': 'text/plain' });
          res.end('digest authentication required\n');
          return;
        }
        this.soap(body, res, user || undefined);
      });
      return;
    }
    res.writeHead(404, { 'Content-Type': 'text/plain' });
    res.end('not found\n');
  }

  /** The user of a valid HTTP Digest Authorization header (see httpDigestOnly), else undefined. */
  private httpDigestUser(req: http.IncomingMessage): string | undefined {
    const h = req.headers.authorization ?? '';
    if (!h.startsWith('Digest ')) return undefined;
    const f: Record<string, string> = {};
    for (const m of h.slice(7).matchAll(/(\w+)=(?:"([^"]*)"|([^,\s]*))/g)) f[m[1].toLowerCase()] = m[2] ?? m[3];
    if (!f.nonce || !this.digestNonces.has(f.nonce) || f.username !== this.opts.username || f.realm !== DIGEST_REALM) return undefined;
    const md5 = (s: string) => crypto.createHash('md5').update(s).digest('hex');
    const ha1 = md5(`${f.username}:${DIGEST_REALM}:${this.opts.password}`);
    const ha2 = md5(`${req.method}:${f.uri}`);
    const want = f.qop === 'auth' ? md5(`${ha1}:${f.nonce}:${f.nc}:${f.cnonce}:auth:${ha2}`) : md5(`${ha1}:${f.nonce}:${ha2}`);
    return f.response && safeEqual(f.response, want) ? f.username : undefined;
  }

  /** `digestUser`: the user HTTP Digest authenticated (httpDigestOnly); WS-Security is then not read. */
  private soap(body: string, res: http.ServerResponse, digestUser?: string): void {
    let action = 'unknown';
    let user: string | undefined = digestUser;
    try {
      let env: XmlElement;
      try {
        env = parseXml(body);
      } catch (err) {
        throw faults.wellFormed((err as Error).message);
      }
      const bodyEl = child(env, 'Body');
      const req = bodyEl?.children[0];
      if (env.name !== 'Envelope' || !req) throw faults.wellFormed('no SOAP Body');
      action = req.name;
      if (!PRE_AUTH.has(action) && !this.opts.httpDigestOnly) user = this.authenticate(env);
      const out = this.dispatch(action, req);
      if (this.halfReplied.has(action)) {
        this.calls.push({ action, timeMs: Date.now(), user, args: summarize(req), halfReplied: true });
        const whole = Buffer.from(envelope(out), 'utf8');
        res.writeHead(200, { 'Content-Type': 'application/soap+xml; charset=utf-8', 'Content-Length': whole.length });
        res.write(whole.subarray(0, whole.length >> 1));
        // end() sends what was written, then FIN: a normal close, not a reset.
        res.socket?.end();
        return;
      }
      this.calls.push({ action, timeMs: Date.now(), user, args: summarize(req) });
      res.writeHead(200, { 'Content-Type': 'application/soap+xml; charset=utf-8' });
      res.end(envelope(out));
    } catch (err) {
      const fault = err instanceof SoapFault ? err : new SoapFault(500, 'Receiver', ['Action'], (err as Error).message);
      this.calls.push({ action, timeMs: Date.now(), user, fault: fault.message });
      res.writeHead(fault.httpStatus, { 'Content-Type': 'application/soap+xml; charset=utf-8' });
      res.end(fault.toXml());
    }
  }

  /** WS-Security UsernameToken: PasswordDigest = Base64(SHA1(nonce + created + password)). */
  private authenticate(env: XmlElement): string {
    const token = path(env, 'Header', 'Security', 'UsernameToken');
    const username = textOf(child(token, 'Username'));
    const passwordEl = child(token, 'Password');
    const nonceB64 = textOf(child(token, 'Nonce')) ?? '';
    const created = textOf(child(token, 'Created')) ?? '';
    if (!token || !username || !passwordEl) throw faults.notAuthorized();
    const type = passwordEl.attrs.Type ?? '';
    const given = passwordEl.text.trim();
    let ok: boolean;
    if (type.endsWith('#PasswordText')) {
      ok = username === this.opts.username && safeEqual(given, this.opts.password);
    } else {
      const createdMs = Date.parse(created);
      if (!nonceB64 || !Number.isFinite(createdMs)) throw faults.notAuthorized();
      if (Math.abs(createdMs - this.nowMs()) > CREATED_WINDOW_MS) throw faults.notAuthorized('Wsse authorized time check failed.');
      const digest = crypto
        .createHash('sha1')
        .update(Buffer.concat([Buffer.from(nonceB64, 'base64'), Buffer.from(created, 'utf8'), Buffer.from(this.opts.password, 'utf8')]))
        .digest('base64');
      ok = username === this.opts.username && safeEqual(given, digest);
      if (ok) {
        if (this.seenNonces.has(nonceB64)) throw faults.notAuthorized(); // replayed request
        this.seenNonces.add(nonceB64);
        if (this.seenNonces.size > 10_000) this.seenNonces.clear();
      }
    }
    if (!ok) throw faults.notAuthorized();
    return username;
  }

  // ---- ONVIF actions ------------------------------------------------------------------

  private dispatch(action: string, req: XmlElement): string {
    switch (action) {
      case 'GetSystemDateAndTime':
        return this.getSystemDateAndTime();
      case 'GetCapabilities':
        return this.getCapabilities();
      case 'GetServices':
        return this.getServices();
      case 'GetDeviceInformation':
        return (
          `<tds:GetDeviceInformationResponse><tds:Manufacturer>Vigie</tds:Manufacturer><tds:Model>Virtual PTZ</tds:Model>` +
          `<tds:FirmwareVersion>1.0</tds:FirmwareVersion><tds:SerialNumber>VIGIE-${this.portInUse}</tds:SerialNumber>` +
          `<tds:HardwareId>virtual</tds:HardwareId></tds:GetDeviceInformationResponse>`
        );
      case 'GetProfiles':
        return `<trt:GetProfilesResponse>${this.opts.panoramaProfileFirst ? this.panoramaProfileXml() : ''}${this.profileXml('trt:Profiles')}</trt:GetProfilesResponse>`;
      case 'GetProfile':
        this.requireProfile(req);
        return `<trt:GetProfileResponse>${this.profileXml('trt:Profile')}</trt:GetProfileResponse>`;
      case 'GetVideoSources':
        return (
          `<trt:GetVideoSourcesResponse>` +
          (this.opts.panoramaProfileFirst ? this.videoSourceXml(PANORAMA_SOURCE_TOKEN) : '') +
          `<trt:VideoSources token="${VIDEO_SOURCE_TOKEN}"><tt:Framerate>${this.opts.fps ?? 10}</tt:Framerate>` +
          `<tt:Resolution><tt:Width>${this.width}</tt:Width><tt:Height>${this.height}</tt:Height></tt:Resolution></trt:VideoSources></trt:GetVideoSourcesResponse>`
        );
      case 'GetStreamUri':
        this.requireProfile(req);
        return `<trt:GetStreamUriResponse><trt:MediaUri>${mediaUri(this.streamUriFor(req))}</trt:MediaUri></trt:GetStreamUriResponse>`;
      case 'GetSnapshotUri':
        this.requireProfile(req);
        return `<trt:GetSnapshotUriResponse><trt:MediaUri>${mediaUri(`${this.mediaBase()}/snapshot.jpg`)}</trt:MediaUri></trt:GetSnapshotUriResponse>`;
      case 'GetNodes':
        return `<tptz:GetNodesResponse>${this.nodeXml()}</tptz:GetNodesResponse>`;
      case 'GetNode':
        return `<tptz:GetNodeResponse>${this.nodeXml()}</tptz:GetNodeResponse>`;
      case 'GetConfigurations':
        return `<tptz:GetConfigurationsResponse>${this.ptzConfigXml('tptz:PTZConfiguration')}</tptz:GetConfigurationsResponse>`;
      case 'GetConfigurationOptions':
        return this.getConfigurationOptions(req);
      case 'AbsoluteMove':
        return this.absoluteMove(req);
      case 'RelativeMove':
        return this.relativeMove(req);
      case 'ContinuousMove':
        return this.continuousMove(req);
      case 'Stop':
        this.requireProfile(req);
        if (this.quirks.has('rejectStop')) throw faults.notSupported('Stop is not supported');
        this.cancelPendingStart();
        this.ptz.stop();
        return '<tptz:StopResponse/>';
      case 'GetStatus':
        this.requireProfile(req);
        return this.getStatus();
      case 'GetPresets':
        this.requireProfile(req);
        if (this.opts.refusePresets) throw faults.notSupported('Optional Action Not Implemented');
        return `<tptz:GetPresetsResponse>${[...this.presets.values()].map((p) => this.presetXml(p)).join('')}</tptz:GetPresetsResponse>`;
      case 'GotoPreset':
        return this.gotoPreset(req);
      case 'SetPreset':
        return this.setPreset(req);
      case 'RemovePreset': {
        this.requireProfile(req);
        const tok = textOf(child(req, 'PresetToken')) ?? '';
        if (!this.presets.delete(tok)) throw faults.invalidArg('NoToken', `No preset with token "${tok}"`);
        return '<tptz:RemovePresetResponse/>';
      }
      case 'GotoHomePosition': {
        this.requireProfile(req);
        const home = [...this.presets.values()].find((p) => p.name === 'Home');
        if (!home) throw faults.invalidArg('NoHomePosition', 'No home position defined');
        if (!this.quirks.has('presetsDoNothing')) this.startMove(home);
        return '<tptz:GotoHomePositionResponse/>';
      }
      default:
        throw faults.unknownAction(action);
    }
  }

  /** RTSP when it runs and the client asks for an RTSP transport; HTTP MPEG-TS otherwise. */
  private streamUriFor(req: XmlElement): string {
    const protocol = textOf(path(req, 'StreamSetup', 'Transport', 'Protocol')) ?? 'RTSP';
    if (this.rtspUrl && protocol !== 'HTTP' && !this.opts.mediaHost) return this.rtspUrl;
    return `${this.mediaBase()}/live.ts`;
  }

  /** Where the media URIs point: the camera itself, or the `mediaHost` it names instead (same port). */
  private mediaBase(): string {
    return this.opts.mediaHost ? `http://${this.opts.mediaHost}:${this.portInUse}` : this.base();
  }

  private requireProfile(req: XmlElement): void {
    const tok = textOf(child(req, 'ProfileToken'));
    if (tok !== PROFILE_TOKEN) throw faults.invalidArg('NoProfile', `No profile with token "${tok ?? ''}"`);
  }

  private getSystemDateAndTime(): string {
    const d = new Date(this.nowMs());
    return (
      `<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime><tt:DateTimeType>Manual</tt:DateTimeType><tt:DaylightSavings>false</tt:DaylightSavings>` +
      `<tt:TimeZone><tt:TZ>UTC0</tt:TZ></tt:TimeZone><tt:UTCDateTime><tt:Time><tt:Hour>${d.getUTCHours()}</tt:Hour><tt:Minute>${d.getUTCMinutes()}</tt:Minute>` +
      `<tt:Second>${d.getUTCSeconds()}</tt:Second></tt:Time><tt:Date><tt:Year>${d.getUTCFullYear()}</tt:Year><tt:Month>${d.getUTCMonth() + 1}</tt:Month>` +
      `<tt:Day>${d.getUTCDate()}</tt:Day></tt:Date></tt:UTCDateTime></tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>`
    );
  }

  private getCapabilities(): string {
    const b = this.base();
    return (
      `<tds:GetCapabilitiesResponse><tds:Capabilities>` +
      `<tt:Device><tt:XAddr>${b}/onvif/device_service</tt:XAddr></tt:Device>` +
      `<tt:Media><tt:XAddr>${b}/onvif/media_service</tt:XAddr><tt:StreamingCapabilities><tt:RTPMulticast>false</tt:RTPMulticast>` +
      `<tt:RTP_TCP>false</tt:RTP_TCP><tt:RTP_RTSP_TCP>false</tt:RTP_RTSP_TCP></tt:StreamingCapabilities></tt:Media>` +
      `<tt:PTZ><tt:XAddr>${b}/onvif/ptz_service</tt:XAddr></tt:PTZ>` +
      `</tds:Capabilities></tds:GetCapabilitiesResponse>`
    );
  }

  private getServices(): string {
    const b = this.base();
    const svc = (ns: string, path: string, major: number, minor: number) =>
      `<tds:Service><tds:Namespace>${ns}</tds:Namespace><tds:XAddr>${b}${path}</tds:XAddr>` +
      `<tds:Version><tt:Major>${major}</tt:Major><tt:Minor>${minor}</tt:Minor></tds:Version></tds:Service>`;
    return (
      `<tds:GetServicesResponse>${svc(NS.tds, '/onvif/device_service', 2, 5)}${svc(NS.trt, '/onvif/media_service', 2, 5)}` +
      `${svc(NS.tptz, '/onvif/ptz_service', 2, 5)}</tds:GetServicesResponse>`
    );
  }

  private ptSpaceUri(): string {
    return this.opts.degreeSpace ? DEGREES_PT_POSITION : GENERIC_PT_POSITION;
  }

  private profileXml(tag: string): string {
    return (
      `<${tag} token="${PROFILE_TOKEN}" fixed="true"><tt:Name>main</tt:Name>` +
      `<tt:VideoSourceConfiguration token="video_source_config_1"><tt:Name>video source</tt:Name><tt:UseCount>1</tt:UseCount>` +
      `<tt:SourceToken>${VIDEO_SOURCE_TOKEN}</tt:SourceToken><tt:Bounds x="0" y="0" width="${this.width}" height="${this.height}"/></tt:VideoSourceConfiguration>` +
      `<tt:VideoEncoderConfiguration token="video_encoder_1"><tt:Name>H.264 main</tt:Name><tt:UseCount>1</tt:UseCount><tt:Encoding>H264</tt:Encoding>` +
      `<tt:Resolution><tt:Width>${this.width}</tt:Width><tt:Height>${this.height}</tt:Height></tt:Resolution><tt:Quality>5</tt:Quality>` +
      `<tt:RateControl><tt:FrameRateLimit>${this.opts.fps ?? 10}</tt:FrameRateLimit><tt:EncodingInterval>1</tt:EncodingInterval><tt:BitrateLimit>1024</tt:BitrateLimit></tt:RateControl>` +
      `<tt:H264><tt:GovLength>${this.opts.fps ?? 10}</tt:GovLength><tt:H264Profile>Baseline</tt:H264Profile></tt:H264>` +
      `<tt:SessionTimeout>PT60S</tt:SessionTimeout></tt:VideoEncoderConfiguration>` +
      this.ptzConfigXml('tt:PTZConfiguration') +
      `</${tag}>`
    );
  }

  private videoSourceXml(token: string): string {
    return (
      `<trt:VideoSources token="${token}"><tt:Framerate>${this.opts.fps ?? 10}</tt:Framerate>` +
      `<tt:Resolution><tt:Width>${this.width}</tt:Width><tt:Height>${this.height}</tt:Height></tt:Resolution></trt:VideoSources>`
    );
  }

  /** A fixed panorama sensor's profile: video, no PTZ configuration. */
  private panoramaProfileXml(): string {
    return (
      `<trt:Profiles token="${PANORAMA_PROFILE_TOKEN}" fixed="true"><tt:Name>panorama</tt:Name>` +
      `<tt:VideoSourceConfiguration token="video_source_config_pano"><tt:Name>panorama source</tt:Name><tt:UseCount>1</tt:UseCount>` +
      `<tt:SourceToken>${PANORAMA_SOURCE_TOKEN}</tt:SourceToken><tt:Bounds x="0" y="0" width="${this.width}" height="${this.height}"/></tt:VideoSourceConfiguration>` +
      // The onvif client's connect() did not finish here on a profile without an encoder configuration.
      `<tt:VideoEncoderConfiguration token="video_encoder_pano"><tt:Name>H.264 panorama</tt:Name><tt:UseCount>1</tt:UseCount><tt:Encoding>H264</tt:Encoding>` +
      `<tt:Resolution><tt:Width>${this.width}</tt:Width><tt:Height>${this.height}</tt:Height></tt:Resolution><tt:Quality>5</tt:Quality></tt:VideoEncoderConfiguration>` +
      `</trt:Profiles>`
    );
  }

  /** The pan its degree space (`degrees`) or its generic space takes, [min, max]. */
  private panSpaceRange(degrees: boolean): [number, number] {
    const r = this.opts.panRangeDeg;
    if (!degrees) return r ? [fmtNum(r[0] / 180), fmtNum(r[1] / 180)] : [-1, 1];
    if (!this.opts.degreePanFrom0) return r ? [r[0], r[1]] : [-180, 180];
    if (!r) return [0, 360];
    return r[1] <= 0 ? [r[0] + 360, r[1] + 360] : [r[0], r[1]];
  }

  /** Head degrees → pan as its degree space writes it. */
  private panToDegreeSpace(deg: number): number {
    const p = wrap180(deg);
    return this.opts.degreePanFrom0 ? (p < 0 ? p + 360 : p) : p;
  }

  private ptzConfigXml(tag: string): string {
    const x = this.panSpaceRange(!!this.opts.degreeSpace);
    const pt = this.opts.degreeSpace
      ? `<tt:XRange><tt:Min>${x[0]}</tt:Min><tt:Max>${x[1]}</tt:Max></tt:XRange><tt:YRange><tt:Min>${this.ptz.limits.tiltMinDeg}</tt:Min><tt:Max>${this.ptz.limits.tiltMaxDeg}</tt:Max></tt:YRange>`
      : `<tt:XRange><tt:Min>${x[0]}</tt:Min><tt:Max>${x[1]}</tt:Max></tt:XRange><tt:YRange><tt:Min>${this.opts.genericTiltMin ?? -1}</tt:Min><tt:Max>1</tt:Max></tt:YRange>`;
    return (
      `<${tag} token="${PTZ_CONFIG_TOKEN}"><tt:Name>${PTZ_CONFIG_TOKEN}</tt:Name><tt:UseCount>1</tt:UseCount><tt:NodeToken>${PTZ_NODE_TOKEN}</tt:NodeToken>` +
      `<tt:DefaultAbsolutePantTiltPositionSpace>${this.ptSpaceUri()}</tt:DefaultAbsolutePantTiltPositionSpace>` +
      `<tt:DefaultAbsoluteZoomPositionSpace>${GENERIC_ZOOM_POSITION}</tt:DefaultAbsoluteZoomPositionSpace>` +
      `<tt:DefaultRelativePanTiltTranslationSpace>${GENERIC_PT_TRANSLATION}</tt:DefaultRelativePanTiltTranslationSpace>` +
      `<tt:DefaultRelativeZoomTranslationSpace>${GENERIC_ZOOM_TRANSLATION}</tt:DefaultRelativeZoomTranslationSpace>` +
      `<tt:DefaultContinuousPanTiltVelocitySpace>${GENERIC_PT_VELOCITY}</tt:DefaultContinuousPanTiltVelocitySpace>` +
      `<tt:DefaultContinuousZoomVelocitySpace>${GENERIC_ZOOM_VELOCITY}</tt:DefaultContinuousZoomVelocitySpace>` +
      `<tt:DefaultPTZSpeed><tt:PanTilt x="1" y="1" space="${PT_SPEED}"/><tt:Zoom x="1" space="${ZOOM_SPEED}"/></tt:DefaultPTZSpeed>` +
      `<tt:DefaultPTZTimeout>PT10S</tt:DefaultPTZTimeout>` +
      `<tt:PanTiltLimits><tt:Range><tt:URI>${this.ptSpaceUri()}</tt:URI>${pt}</tt:Range></tt:PanTiltLimits>` +
      `<tt:ZoomLimits><tt:Range><tt:URI>${GENERIC_ZOOM_POSITION}</tt:URI><tt:XRange><tt:Min>0</tt:Min><tt:Max>1</tt:Max></tt:XRange></tt:Range></tt:ZoomLimits>` +
      `</${tag}>`
    );
  }

  private spacesXml(): string {
    const range = (uri: string, x: [number, number], y?: [number, number]) =>
      `<tt:URI>${uri}</tt:URI><tt:XRange><tt:Min>${x[0]}</tt:Min><tt:Max>${x[1]}</tt:Max></tt:XRange>` +
      (y ? `<tt:YRange><tt:Min>${y[0]}</tt:Min><tt:Max>${y[1]}</tt:Max></tt:YRange>` : '');
    const { tiltMinDeg, tiltMaxDeg } = this.ptz.limits;
    const degAbs = `<tt:AbsolutePanTiltPositionSpace>${range(DEGREES_PT_POSITION, this.panSpaceRange(true), [tiltMinDeg, tiltMaxDeg])}</tt:AbsolutePanTiltPositionSpace>`;
    const genAbs = `<tt:AbsolutePanTiltPositionSpace>${range(GENERIC_PT_POSITION, this.panSpaceRange(false), [this.opts.genericTiltMin ?? -1, 1])}</tt:AbsolutePanTiltPositionSpace>`;
    const degRel = `<tt:RelativePanTiltTranslationSpace>${range(DEGREES_PT_TRANSLATION, [-360, 360], [tiltMinDeg - tiltMaxDeg, tiltMaxDeg - tiltMinDeg])}</tt:RelativePanTiltTranslationSpace>`;
    const genRel = `<tt:RelativePanTiltTranslationSpace>${range(GENERIC_PT_TRANSLATION, [-1, 1], [-1, 1])}</tt:RelativePanTiltTranslationSpace>`;
    return (
      // The default space comes first: clients that read only the first one use it.
      (this.opts.degreeSpace ? degAbs + genAbs : genAbs) +
      `<tt:AbsoluteZoomPositionSpace>${range(GENERIC_ZOOM_POSITION, [0, 1])}</tt:AbsoluteZoomPositionSpace>` +
      (this.opts.degreeSpace ? genRel + degRel : genRel) +
      `<tt:RelativeZoomTranslationSpace>${range(GENERIC_ZOOM_TRANSLATION, [-1, 1])}</tt:RelativeZoomTranslationSpace>` +
      `<tt:ContinuousPanTiltVelocitySpace>${range(GENERIC_PT_VELOCITY, [-1, 1], [-1, 1])}</tt:ContinuousPanTiltVelocitySpace>` +
      `<tt:ContinuousZoomVelocitySpace>${range(GENERIC_ZOOM_VELOCITY, [-1, 1])}</tt:ContinuousZoomVelocitySpace>` +
      `<tt:PanTiltSpeedSpace>${range(PT_SPEED, [0, 1])}</tt:PanTiltSpeedSpace>` +
      `<tt:ZoomSpeedSpace>${range(ZOOM_SPEED, [0, 1])}</tt:ZoomSpeedSpace>`
    );
  }

  private nodeXml(): string {
    return (
      `<tptz:PTZNode token="${PTZ_NODE_TOKEN}" FixedHomePosition="false"><tt:Name>virtual head</tt:Name>` +
      `<tt:SupportedPTZSpaces>${this.spacesXml()}</tt:SupportedPTZSpaces>` +
      `<tt:MaximumNumberOfPresets>64</tt:MaximumNumberOfPresets><tt:HomeSupported>true</tt:HomeSupported></tptz:PTZNode>`
    );
  }

  private getConfigurationOptions(req: XmlElement): string {
    const tok = textOf(child(req, 'ConfigurationToken'));
    if (tok !== PTZ_CONFIG_TOKEN) throw faults.invalidArg('NoConfig', `No PTZ configuration with token "${tok ?? ''}"`);
    return (
      `<tptz:GetConfigurationOptionsResponse><tptz:PTZConfigurationOptions><tt:Spaces>${this.spacesXml()}</tt:Spaces>` +
      `<tt:PTZTimeout><tt:Min>PT1S</tt:Min><tt:Max>PT60S</tt:Max></tt:PTZTimeout></tptz:PTZConfigurationOptions></tptz:GetConfigurationOptionsResponse>`
    );
  }

  // Conversions between the camera's ONVIF spaces and its own degrees.
  private panFromGeneric(x: number): number {
    return x * 180;
  }
  private tiltFromGeneric(y: number): number {
    const { tiltMinDeg, tiltMaxDeg } = this.ptz.limits;
    return tiltMinDeg + ((y + 1) / 2) * (tiltMaxDeg - tiltMinDeg);
  }
  private panToGeneric(deg: number): number {
    return wrap180(deg) / 180;
  }
  private tiltToGeneric(deg: number): number {
    const { tiltMinDeg, tiltMaxDeg } = this.ptz.limits;
    return ((deg - tiltMinDeg) / (tiltMaxDeg - tiltMinDeg)) * 2 - 1;
  }

  private positionXml(p: PoseDeg, withZoom = true): string {
    const deg = this.opts.degreeSpace;
    const x = deg ? this.panToDegreeSpace(p.panDeg) : this.panToGeneric(p.panDeg);
    const y = deg ? p.tiltDeg : this.tiltToGeneric(p.tiltDeg);
    const zoom = withZoom ? `<tt:Zoom x="${fmt(p.zoom)}" space="${GENERIC_ZOOM_POSITION}"/>` : '';
    return `<tt:PanTilt x="${fmt(x)}" y="${fmt(y)}" space="${this.ptSpaceUri()}"/>${zoom}`;
  }

  private presetXml(p: Preset): string {
    return `<tptz:Preset token="${p.token}"><tt:Name>${p.name}</tt:Name><tt:PTZPosition>${this.positionXml(p)}</tt:PTZPosition></tptz:Preset>`;
  }

  /** Reads a PTZVector (PanTilt x/y with optional space, Zoom x); missing axes stay undefined. */
  private vector(el: XmlElement | undefined, field: string): { x?: number; y?: number; z?: number; space?: string } {
    const pt = child(el, 'PanTilt');
    const zm = child(el, 'Zoom');
    const num = (v: string | undefined, name: string) => {
      if (v === undefined) return undefined;
      const n = Number(v);
      if (v.trim() === '' || !Number.isFinite(n)) throw faults.invalidArg('InvalidPosition', `${field}.${name}: expected a number, got "${v}"`);
      return n;
    };
    return { x: num(pt?.attrs.x, 'PanTilt.x'), y: num(pt?.attrs.y, 'PanTilt.y'), z: num(zm?.attrs.x, 'Zoom.x'), space: pt?.attrs.space };
  }

  private absoluteMove(req: XmlElement): string {
    this.requireProfile(req);
    if (this.quirks.has('noAbsoluteMove')) throw faults.notSupported('AbsoluteMove is not supported');
    const v = this.vector(child(req, 'Position'), 'Position');
    const cur = this.ptz.read();
    const degrees = v.space ? v.space === DEGREES_PT_POSITION : !!this.opts.degreeSpace;
    if (v.space && v.space !== DEGREES_PT_POSITION && v.space !== GENERIC_PT_POSITION) {
      throw faults.invalidArg('InvalidPosition', `Position.PanTilt.space: unsupported space "${v.space}"`);
    }
    const { tiltMinDeg, tiltMaxDeg } = this.ptz.limits;
    const xRange = this.panSpaceRange(degrees);
    if (v.x !== undefined && (v.x < xRange[0] - 1e-9 || v.x > xRange[1] + 1e-9)) throw faults.invalidArg('InvalidPosition', `Position.PanTilt.x out of range: ${v.x} (${xRange[0]}…${xRange[1]})`);
    if (v.y !== undefined && (degrees ? v.y < tiltMinDeg || v.y > tiltMaxDeg : v.y < (this.opts.genericTiltMin ?? -1) || v.y > 1)) throw faults.invalidArg('InvalidPosition', `Position.PanTilt.y out of range: ${v.y}`);
    if (v.z !== undefined && (v.z < 0 || v.z > 1)) throw faults.invalidArg('InvalidPosition', `Position.Zoom.x out of range: ${v.z}`);
    const target: PoseDeg = {
      panDeg: (v.x === undefined ? cur.panDeg : degrees ? wrap180(v.x) : this.panFromGeneric(v.x)) + (this.opts.absolutePanErrorDeg ?? 0),
      tiltDeg: v.y === undefined ? cur.tiltDeg : degrees ? v.y : this.tiltFromGeneric(v.y),
      zoom: this.landZoom(v.z ?? cur.zoom),
    };
    const stop = this.opts.tiltStopDeg;
    if (this.opts.faultBeyondStop && stop !== undefined && target.tiltDeg < stop - 1e-9) {
      throw faults.invalidArg('InvalidPosition', `Position.PanTilt.y out of reach: tilt ${target.tiltDeg.toFixed(1)}° is below ${stop}°`);
    }
    this.startMove(target, this.speedScale(req));
    return '<tptz:AbsoluteMoveResponse/>';
  }

  private relativeMove(req: XmlElement): string {
    this.requireProfile(req);
    if (this.quirks.has('noRelativeMove')) throw faults.notSupported('RelativeMove is not supported');
    if (this.quirks.has('relativeMoveIgnored')) return '<tptz:RelativeMoveResponse/>';
    const v = this.vector(child(req, 'Translation'), 'Translation');
    const degrees = v.space === DEGREES_PT_TRANSLATION;
    if (v.x !== undefined && Math.abs(v.x) > (degrees ? 360 : 1)) throw faults.invalidArg('InvalidTranslation', `Translation.PanTilt.x out of range: ${v.x}`);
    if (v.y !== undefined && Math.abs(v.y) > (degrees ? 180 : 1)) throw faults.invalidArg('InvalidTranslation', `Translation.PanTilt.y out of range: ${v.y}`);
    if (v.z !== undefined && Math.abs(v.z) > 1) throw faults.invalidArg('InvalidTranslation', `Translation.Zoom.x out of range: ${v.z}`);
    const cur = this.ptz.read();
    const { tiltMinDeg, tiltMaxDeg } = this.ptz.limits;
    const tiltSpan = tiltMaxDeg - tiltMinDeg;
    // Generic translation: the full −1…1 range spans the whole axis (pan ±180°, tilt ±span/2).
    this.startMove(
      {
        panDeg: cur.panDeg + (v.x ?? 0) * (degrees ? 1 : 180),
        tiltDeg: cur.tiltDeg + (v.y ?? 0) * (degrees ? 1 : tiltSpan / 2),
        zoom: this.landZoom(cur.zoom + (v.z ?? 0)),
      },
      this.speedScale(req),
    );
    return '<tptz:RelativeMoveResponse/>';
  }

  private continuousMove(req: XmlElement): string {
    this.requireProfile(req);
    if (this.quirks.has('noContinuousMove')) throw faults.notSupported('ContinuousMove is not supported');
    const v = this.vector(child(req, 'Velocity'), 'Velocity');
    for (const [k, n] of [['PanTilt.x', v.x], ['PanTilt.y', v.y], ['Zoom.x', v.z]] as const) {
      if (n !== undefined && Math.abs(n) > 1) throw faults.invalidArg('InvalidVelocity', `Velocity.${k} out of range: ${n}`);
    }
    const timeoutText = textOf(child(req, 'Timeout'));
    let timeoutMs = DEFAULT_CONTINUOUS_TIMEOUT_MS;
    if (timeoutText !== undefined) {
      const parsed = parseDurationMs(timeoutText);
      if (parsed === undefined) throw faults.invalidArg('InvalidTimeout', `Timeout: expected an xs:duration such as PT1.5S, got "${timeoutText}"`);
      timeoutMs = parsed;
    }
    const endMs = this.quirks.has('continuousIgnoresTimeout') ? Infinity : Date.now() + timeoutMs;
    if (this.quirks.has('continuousNeedsBothAxes') && (!v.x || !v.y)) return '<tptz:ContinuousMoveResponse/>'; // accepted, ignored
    this.cancelPendingStart();
    this.ptz.moveVelocity(v.x ?? 0, v.y ?? 0, v.z ?? 0, endMs);
    return '<tptz:ContinuousMoveResponse/>';
  }

  /** Moves the head to `target`, at once or after moveStartDelayMs. */
  private startMove(target: PoseDeg, speedScale?: { pan: number; tilt: number; zoom: number }): void {
    this.cancelPendingStart();
    const delayMs = this.opts.moveStartDelayMs ?? 0;
    if (delayMs <= 0) {
      this.ptz.moveTo(target, speedScale);
      return;
    }
    this.pendingStart = setTimeout(() => {
      this.pendingStart = undefined;
      this.ptz.moveTo(target, speedScale);
    }, delayMs);
  }

  private cancelPendingStart(): void {
    if (this.pendingStart) clearTimeout(this.pendingStart);
    this.pendingStart = undefined;
  }

  /** Where the zoom motor stops when asked for `zoom` (see zoomStep). */
  private landZoom(zoom: number): number {
    const step = this.opts.zoomStep;
    return step && step > 0 ? Math.round(zoom / step) * step : zoom;
  }

  private speedScale(req: XmlElement): { pan: number; tilt: number; zoom: number } {
    const s = child(req, 'Speed');
    if (!s) return { pan: 1, tilt: 1, zoom: 1 };
    const v = this.vector(s, 'Speed');
    const f = (n: number | undefined) => (n === undefined ? 1 : Math.min(1, Math.max(0.01, Math.abs(n))));
    return { pan: f(v.x), tilt: f(v.y), zoom: f(v.z) };
  }

  private getStatus(): string {
    if (this.opts.statusEmpty) return '<tptz:GetStatusResponse/>';
    const p = this.ptz.read();
    const status = p.moving && !this.quirks.has('moveStatusNeverUpdated') ? 'MOVING' : 'IDLE';
    return (
      `<tptz:GetStatusResponse><tptz:PTZStatus>${this.opts.statusWithoutPosition ? '' : `<tt:Position>${this.positionXml(p, !this.opts.statusWithoutZoom)}</tt:Position>`}` +
      `<tt:MoveStatus><tt:PanTilt>${status}</tt:PanTilt><tt:Zoom>${status}</tt:Zoom></tt:MoveStatus>` +
      `<tt:UtcTime>${new Date().toISOString()}</tt:UtcTime></tptz:PTZStatus></tptz:GetStatusResponse>`
    );
  }

  private gotoPreset(req: XmlElement): string {
    this.requireProfile(req);
    const tok = textOf(child(req, 'PresetToken')) ?? '';
    const preset = this.presets.get(tok);
    if (!preset) throw faults.invalidArg('NoToken', `No preset with token "${tok}"`);
    if (!this.quirks.has('presetsDoNothing')) this.startMove(preset, this.speedScale(req));
    return '<tptz:GotoPresetResponse/>';
  }

  private setPreset(req: XmlElement): string {
    this.requireProfile(req);
    const name = textOf(child(req, 'PresetName')) || `Preset ${this.nextPresetToken}`;
    const tok = textOf(child(req, 'PresetToken'));
    const p = this.ptz.read();
    let preset: Preset;
    if (tok) {
      if (!this.presets.has(tok)) throw faults.invalidArg('NoToken', `No preset with token "${tok}"`);
      preset = { token: tok, name, panDeg: p.panDeg, tiltDeg: p.tiltDeg, zoom: p.zoom };
      this.presets.set(tok, preset);
    } else {
      if ([...this.presets.values()].some((x) => x.name === name)) throw faults.invalidArg('PresetExist', `A preset named "${name}" exists`);
      preset = this.addPreset(name, p);
    }
    return `<tptz:SetPresetResponse><tptz:PresetToken>${preset.token}</tptz:PresetToken></tptz:SetPresetResponse>`;
  }
}

function mediaUri(uri: string): string {
  return `<tt:Uri>${uri}</tt:Uri><tt:InvalidAfterConnect>false</tt:InvalidAfterConnect><tt:InvalidAfterReboot>false</tt:InvalidAfterReboot><tt:Timeout>PT0S</tt:Timeout>`;
}

function fmtNum(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}

function fmt(n: number): string {
  return String(Math.round(n * 1e6) / 1e6);
}

function safeEqual(a: string, b: string): boolean {
  const ba = Buffer.from(a);
  const bb = Buffer.from(b);
  return ba.length === bb.length && crypto.timingSafeEqual(ba, bb);
}

/** xs:duration restricted to what PTZ timeouts use: PT[nH][nM][n.nS]. */
export function parseDurationMs(s: string): number | undefined {
  const m = /^PT(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?$/.exec(s.trim());
  if (!m || (!m[1] && !m[2] && !m[3])) return undefined;
  return (Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0)) * 1000;
}

/** The arguments of a call for the test-readable log (values only, never credentials). */
function summarize(req: XmlElement): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const c of req.children) {
    if (c.children.length === 0) out[c.name] = c.text.trim() || { ...c.attrs };
    else out[c.name] = Object.fromEntries(c.children.map((g) => [g.name, g.children.length === 0 && g.text.trim() ? g.text.trim() : { ...g.attrs }]));
  }
  return out;
}
