/**
 * video-forward: alerts in (with payload.camera.id from ptz-steer), the same alerts out with
 * payload.video (live fMP4-over-WebSocket URL, MJPEG URL, snapshot URL, until). The relays
 * are run by lib/video/manager.ts; this node reads the settings, resolves cameras through
 * the camera registry (ONVIF GetStreamUri/GetSnapshotUri or configured URLs), mounts the
 * HTTP routes and the WebSocket upgrade on Node-RED's own server, and shows the status.
 * Never any audio (DESIGN §4.4).
 */
import type { IncomingMessage, ServerResponse } from 'http';
import type { Duplex } from 'stream';
import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import { findCamera, onCameraChange } from '../lib/camera/registry';
import { Alert, DroppedFieldWarnings, screenAlert, VideoLinks } from '../lib/contracts';
import type { CameraHandle } from '../lib/camera/types';
import { MAX_VIEWERS_PER_ADDRESS, MAX_VIEWERS_PER_RELAY, normaliseRoot, offerSnapshots, parseVideoPath, requestUrl, VerifyClient, VIDEO_FORWARD_SETTINGS, VideoManager, VideoSource, VideoStats } from '../lib/video/manager';
import { isIP } from 'net';
import { LiveTickets } from '../lib/video/tickets';
import { SnapshotStore } from '../lib/video/snapshot';
import type { SourceErrorCode } from '../lib/video/ffmpeg';
import { onFlowsStarted } from '../lib/util/flows-started';
import { errorStatus, setStatus, shortText } from '../lib/util/status';
import { ContractError, isObject, parsedPayload, requireObject, requireString, settingInRange, settingsReader } from '../lib/util/validate';

interface VideoForwardDef extends NodeDef {
  ffmpegPath?: string;
  idleStopS?: number | string;
  maxRelays?: number | string;
  mjpegFps?: number | string;
  mjpegWidth?: number | string;
  keepForS?: number | string;
  transport?: string;
  fragmentMs?: number | string;
  snapshot?: boolean;
}

async function sourceOf(cam: CameraHandle, withSnapshot: boolean): Promise<VideoSource> {
  const streamUrl = await cam.getStreamUri();
  let snapshotUrl: string | undefined;
  try {
    // Snapshots off: the camera is not even asked where its snapshot is.
    snapshotUrl = withSnapshot ? await cam.getSnapshotUri() : undefined;
  } catch {
    snapshotUrl = undefined; // many cameras have none: a frame is grabbed from the stream
  }
  // The camera's ONVIF user also opens its RTSP stream and snapshot on almost every camera. Taken
  // from the deployed camera itself, never from the flow's definitions: a camera inside a
  // subflow, or whose id is an ${ENV} reference, has another id there.
  const creds = cam.getCredentials?.();
  // A camera reached over HTTPS with its certificate unchecked (its own self-signed one): its snapshot address likewise.
  const uncheckedTls = cam.config?.https === true && cam.config.httpsVerify === false;
  // The credentials go to the camera's own host only: its Host, and those of the URLs typed in its form.
  const ownHosts = [cam.config?.host, cam.config?.streamUrl, cam.config?.snapshotUrl].filter((h): h is string => typeof h === 'string' && h.trim() !== '');
  return {
    streamUrl,
    snapshotUrl: snapshotUrl || undefined,
    username: creds?.username || undefined,
    password: creds?.password,
    ownHosts,
    basicOverHttp: cam.config?.basicOverHttp === true,
    ...(uncheckedTls ? { checkCertificate: false } : {}),
  };
}

/**
 * settings.js `vigieTrustedProxies`: the IP addresses of reverse proxies in front of Node-RED
 * whose X-Forwarded-For is believed (none by default: the header is ignored).
 */
function trustedProxiesSetting(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  const list = Array.isArray(value) ? value : [value];
  for (const v of list) {
    if (typeof v !== 'string' || isIP(v.trim()) === 0) throw new ContractError('settings.js vigieTrustedProxies', 'a list of IP addresses, e.g. ["127.0.0.1", "::1"]', v);
  }
  return list.map((v) => String(v).trim());
}

/** Camera states in which the camera shows, or will show, another place than this alert. */
const CAMERA_ELSEWHERE = new Set(['failed', 'waiting', 'released', 'unavailable']);

/** Distinct faults of the live upgrade listener logged per deployment; then one line says the rest are not. */
const UPGRADE_FAULTS_LOGGED_MAX = 50;

/**
 * Status-bar words for source errors (the full message goes to the debug sidebar); none for
 * "failed", whose own message is shortened instead. Typed by SourceErrorCode: a code added
 * there is refused by the compiler until it has its words here.
 */
const SHORT_REASON: Readonly<Record<SourceErrorCode, string | undefined>> = {
  unauthorized: '401 wrong user/password',
  forbidden: '403 forbidden',
  'not-found': '404 stream not found',
  refused: 'connection refused',
  unreachable: 'unreachable',
  timeout: 'no video (timeout)',
  'no-video': 'no video stream',
  'bad-url': 'bad stream URL',
  ended: 'stream ended',
  failed: undefined,
};

function shortReason(code: string | undefined): string | undefined {
  return code !== undefined && Object.hasOwn(SHORT_REASON, code) ? SHORT_REASON[code as SourceErrorCode] : undefined;
}

type UpgradeListener = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

/**
 * The alerts' snapshots of every video-forward node of this process, kept here rather than in
 * a node: a deploy that restarts the node (a full deploy, or one of its own settings) must not
 * take the picture of an alert an operator has not opened yet. Each snapshot keeps its own
 * expiry (its node's snapshotKeepS) and the store its own memory bound; only a restart of
 * Node-RED loses them.
 */
const keptSnapshots = new SnapshotStore();

export = function (RED: NodeAPI) {
  const httpRoot = (): string => normaliseRoot(typeof RED.settings.httpNodeRoot === 'string' ? RED.settings.httpNodeRoot : '/');
  /** Live managers of this runtime; the routes and the upgrade listener dispatch to them. */
  const managers = new Set<VideoManager>();
  /** One ticket store for every manager: the ticket route and the upgrade may pick different ones. */
  const tickets = new LiveTickets();
  let upgradeListener: UpgradeListener | undefined;

  const managerFor = (cameraId: string): VideoManager | undefined => {
    for (const m of managers) if (m.relay(cameraId, 'mse') || m.relay(cameraId, 'mjpeg')) return m;
    // None runs it: the viewer starts the relay on any (a live view needs no alert of its manager).
    return managers.values().next().value;
  };
  /**
   * The manager keeping an alert's snapshot: the one whose node took it. Its relay may have
   * stopped long before (keepForS) while the snapshot is kept (snapshotKeepS).
   */
  const snapshotManagerFor = (cameraId: string, alertId: string): VideoManager | undefined => {
    if (alertId) for (const m of managers) if (m.keepsSnapshot(alertId, cameraId)) return m;
    return managerFor(cameraId);
  };

  const noManager = (res: ServerResponse): void => {
    res.writeHead(503, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end('no video-forward node is deployed\n');
  };

  // Routes are registered once per runtime and dispatch to whichever node is deployed.
  if (RED.settings.httpNodeRoot !== false) {
    RED.httpNode.get('/vigie/video/:cameraId/mjpeg', (req, res) => {
      const m = managerFor(String(req.params.cameraId));
      if (!m) return noManager(res);
      m.serveMjpeg(String(req.params.cameraId), req, res);
    });
    // The live WebSocket's ticket: an HTTP route, so httpNodeAuth and httpNodeMiddleware guard it.
    RED.httpNode.get('/vigie/video/:cameraId/ticket', (req, res) => {
      const m = managerFor(String(req.params.cameraId));
      if (!m) return noManager(res);
      m.serveTicket(String(req.params.cameraId), res, req);
    });
    RED.httpNode.get('/vigie/video/:cameraId/snapshot.jpg', (req, res) => {
      const cameraId = String(req.params.cameraId);
      const alertId = typeof req.query.alert === 'string' ? req.query.alert : '';
      const m = snapshotManagerFor(cameraId, alertId);
      if (!m) return noManager(res);
      void m.serveSnapshot(cameraId, alertId, res);
    });
  }

  /**
   * Faults of the upgrade listener already logged: each is said once while video-forward nodes
   * are deployed, however often a client provokes it, and at most UPGRADE_FAULTS_LOGGED_MAX
   * distinct ones (a client can vary the text). Forgotten when the last node closes, so a
   * redeploy says them again.
   */
  const upgradeFaultsLogged = new Set<string>();
  const logUpgradeFault = (text: string, log: (t: string) => void = (t) => RED.log.error(`video-forward: ${t}`)): void => {
    if (upgradeFaultsLogged.has(text) || upgradeFaultsLogged.size > UPGRADE_FAULTS_LOGGED_MAX) return;
    upgradeFaultsLogged.add(text);
    if (upgradeFaultsLogged.size > UPGRADE_FAULTS_LOGGED_MAX) {
      log(`more than ${UPGRADE_FAULTS_LOGGED_MAX} different live video upgrade faults; further ones are not logged until the next deploy`);
    } else {
      log(text);
    }
  };

  const addUpgrade = (): void => {
    if (upgradeListener || !RED.server) return;
    // Runs in the server's 'upgrade' event for any request from anyone: a throw there would end
    // Node-RED, so nothing may leave it.
    upgradeListener = (req, socket, head) => {
      try {
        const u = requestUrl(req.url);
        const p = u && parseVideoPath(u.pathname, httpRoot());
        // Not ours, or a target that cannot be read: left to the others (editor comms, dashboard,
        // websocket nodes); Node-RED's own listener closes what nobody answers.
        if (!p || p.what !== 'live') return;
        const m = managerFor(p.cameraId);
        if (!m || !m.handleUpgrade(req, socket, head)) socket.destroy();
      } catch (err) {
        socket.destroy();
        logUpgradeFault(`live video upgrade failed: ${(err as Error)?.message ?? String(err)}`);
      }
    };
    RED.server.on('upgrade', upgradeListener);
  };

  const removeUpgrade = (): void => {
    if (upgradeListener && managers.size === 0) {
      RED.server?.off('upgrade', upgradeListener);
      upgradeListener = undefined;
      upgradeFaultsLogged.clear();
    }
  };

  function VideoForwardNode(this: Node, config: VideoForwardDef) {
    RED.nodes.createNode(this, config);
    const node = this;
    let manager: VideoManager;
    // Unticked: no snapshot is taken, kept or linked (VideoManagerOptions.snapshots).
    const snapshots = config.snapshot !== false;
    try {
      const setting = settingsReader(config, VIDEO_FORWARD_SETTINGS);
      const transport = (config.transport || 'tcp').trim();
      if (transport !== 'tcp' && transport !== 'udp') throw new ContractError('setting transport', '"tcp" or "udp"', transport);
      if (RED.settings.httpNodeRoot === false) throw new Error('HTTP nodes are disabled (httpNodeRoot: false in settings.js): video cannot be served');
      const extra = RED.settings as unknown as { vigieTrustedProxies?: unknown; vigieMaxViewersPerAddress?: unknown; vigieMaxViewersPerRelay?: unknown; httpNodeAuth?: unknown };
      const trustedProxies = trustedProxiesSetting(extra.vigieTrustedProxies);
      const maxViewersPerAddress = settingInRange(extra.vigieMaxViewersPerAddress, 'settings.js vigieMaxViewersPerAddress', { min: 1, max: 1000, integer: true }, MAX_VIEWERS_PER_ADDRESS);
      const maxViewersPerRelay = settingInRange(extra.vigieMaxViewersPerRelay, 'settings.js vigieMaxViewersPerRelay', { min: 1, max: 1000, integer: true }, MAX_VIEWERS_PER_RELAY);
      // Node-RED's own httpNodeAuth ({user, pass}) checks the password before our routes: its user name is known.
      const auth = extra.httpNodeAuth as { user?: unknown; pass?: unknown } | undefined;
      const basicUserChecked = Boolean(auth && typeof auth === 'object' && !Array.isArray(auth) && typeof auth.user === 'string' && typeof auth.pass === 'string');
      manager = new VideoManager({
        resolveSource: async (cameraId) => {
          const cam = findCamera(cameraId);
          if (!cam) throw new Error(`unknown camera "${cameraId}": no vigie-camera config node with that id`);
          return sourceOf(cam, snapshots);
        },
        knowsCamera: (cameraId) => findCamera(cameraId) !== undefined,
        ffmpegPath: (config.ffmpegPath ?? '').trim() || undefined,
        idleStopMs: setting('idleStopS') * 1000,
        maxRelays: setting('maxRelays'),
        mjpegFps: setting('mjpegFps'),
        mjpegWidth: setting('mjpegWidth'),
        keepForMs: setting('keepForS') * 1000,
        snapshots,
        snapshotKeepMs: setting('snapshotKeepS') * 1000,
        snapshotStore: keptSnapshots,
        snapshotOwner: node.id,
        // The deployed camera object: a redeploy of its vigie-camera replaces it.
        sourceIdentity: (cameraId) => findCamera(cameraId),
        fragmentMs: setting('fragmentMs'),
        transport,
        httpRoot: httpRoot(),
        verifyClient: (RED.settings as unknown as { webSocketNodeVerifyClient?: VerifyClient }).webSocketNodeVerifyClient,
        tickets,
        trustedProxies,
        basicUserChecked,
        maxViewersPerAddress,
        maxViewersPerRelay,
        // Another video-forward node relaying the camera: its relay is held, no second ffmpeg on the camera.
        relayElsewhere: (cameraId, kind) => {
          for (const m of managers) if (m !== manager && m.relay(cameraId, kind)) return m;
          return undefined;
        },
      });
    } catch (e) {
      const message = (e as Error).message;
      setStatus(node, { fill: 'red', shape: 'ring', text: errorStatus(e) });
      node.error(`settings: ${message}`);
      node.on('input', (_msg: NodeMessage, _send: unknown, done: (err?: Error) => void) => done(new Error(`settings: ${message}`)));
      return;
    }

    // A missing ffmpeg is said once, clearly, at deploy time (and again on each alert), until it is found.
    let ffmpegError: string | undefined;
    try {
      manager.ffmpeg();
    } catch (e) {
      ffmpegError = (e as Error).message;
      node.error(ffmpegError);
    }

    // Unticked since the last deploy: the pictures this node kept go too (none is kept with it off).
    if (!snapshots) keptSnapshots.dropOwner(node.id);
    managers.add(manager);
    // The alert dashboard keeps an alert's snapshot with the audit log from here, in-process.
    const withdrawSnapshots = offerSnapshots(manager);
    addUpgrade();

    // Installed (or its path mended) after the deploy: relays start again, and so must the status.
    const ffmpegMissing = (): boolean => {
      if (!ffmpegError) return false;
      try {
        manager.ffmpeg();
      } catch {
        return true;
      }
      ffmpegError = undefined;
      node.log('ffmpeg found: live relays can start');
      return false;
    };

    const showStatus = (s: VideoStats): void => {
      if (ffmpegError) {
        setStatus(node, { fill: 'red', shape: 'ring', text: 'ffmpeg not found' });
      } else if (s.refused) {
        setStatus(node, { fill: 'red', shape: 'ring', text: `refused: ${s.relays}/${s.maxRelays} relays in use` });
      } else if (s.failing.length) {
        const f = s.failing[0];
        setStatus(node, { fill: 'red', shape: 'ring', text: `${f.cameraId}: ${shortReason(f.code) ?? shortText(f.error, 40)}, retrying` });
      } else if (s.relays === 0) {
        setStatus(node, { fill: 'grey', shape: 'dot', text: 'idle' });
      } else if (s.connecting > 0) {
        setStatus(node, { fill: 'yellow', shape: 'ring', text: `connecting: ${s.relays} relay${s.relays === 1 ? '' : 's'}, ${s.viewers} viewer${s.viewers === 1 ? '' : 's'}` });
      } else {
        setStatus(node, { fill: 'green', shape: 'dot', text: `${s.relays} relay${s.relays === 1 ? '' : 's'}, ${s.viewers} viewer${s.viewers === 1 ? '' : 's'}` });
      }
    };
    const onChange = (s: VideoStats): void => showStatus(s);
    // Viewers are told what it means (lib/video/viewer-words.ts); the source's address and the
    // cause stay here, in the log.
    const onSourceError = (e: { cameraId: string; kind: string; error: Error }): void => node.warn(`camera ${e.cameraId} (${e.kind}): ${e.error.message}; retrying`);
    const onViewerRefused = (e: { cameraId: string; error: Error }): void => node.error(`live view of camera ${e.cameraId} refused: ${e.error.message}`);
    const onSnapshotError = (e: { alertId: string; cameraId: string; error: Error }): void => node.warn(`alert ${e.alertId}: no snapshot from camera ${e.cameraId}: ${e.error.message}`);
    // Said once per camera, kind and host: every relay start and snapshot would say it again.
    const withheldWarned = new Set<string>();
    const onCredentialsWithheld = (e: { cameraId: string; what: string; host: string; ownHosts: string[] }): void => {
      const key = `${e.cameraId}\u0000${e.what}\u0000${e.host}`;
      if (withheldWarned.has(key) || withheldWarned.size > 100) return;
      withheldWarned.add(key);
      node.warn(
        `camera ${e.cameraId}: its ${e.what} URI names host "${e.host}", not the camera's own (${e.ownHosts.join(', ') || 'none configured'}): the camera's user and password are not sent there. If the ${e.what} really lives there, type its URL in the camera's ${e.what === 'stream' ? 'Stream URL' : 'Snapshot URL'}`,
      );
    };
    // Said once per camera and address until the next deploy (the manager looks once).
    const onBasicOverRtsp = (e: { cameraId: string; host: string }): void => {
      const cam = findCamera(e.cameraId);
      const name = cam?.name && cam.name !== e.cameraId ? `"${cam.name}" (${e.cameraId})` : `"${e.cameraId}"`;
      node.warn(
        `camera ${name}: its stream rtsp://${e.host} asks for Basic authentication only, so ffmpeg sends the camera's user and password readable by anyone on the network between Node-RED and the camera (Basic is not encrypted). Turn on Digest authentication on the camera, or use rtsps://; the video is relayed all the same`,
      );
    };
    const onUpgradeError = (e: { cameraId: string; error: Error }): void => logUpgradeFault(`live view of camera ${e.cameraId}: upgrade failed: ${e.error.message}`, (t) => node.error(t));
    manager.on('change', onChange);
    manager.on('source-error', onSourceError);
    manager.on('viewer-refused', onViewerRefused);
    manager.on('snapshot-error', onSnapshotError);
    manager.on('upgrade-error', onUpgradeError);
    manager.on('credentials-withheld', onCredentialsWithheld);
    manager.on('basic-over-rtsp', onBasicOverRtsp);
    // Said once per address and cap until the next deploy: a flood would say it at every attempt.
    const limitWarned = new Set<string>();
    const onViewerLimited = (e: { cameraId: string; scope: string; address: string; error: Error }): void => {
      const key = `${e.scope}\u0000${e.address}`;
      if (limitWarned.has(key) || limitWarned.size > 100) return;
      limitWarned.add(key);
      node.warn(`${e.error.message} (said once per address until the next deploy)`);
    };
    manager.on('viewer-limited', onViewerLimited);
    // A camera re-pointed (host, port, password...) by a deploy of its vigie-camera: the relays
    // leave the old source at once. This node is not redeployed then (it names no camera).
    const offCameraChange = onCameraChange((cameraId) => manager.cameraChanged(cameraId));
    const onSourceChanged = (e: { cameraId: string; present: boolean }): void =>
      node.log(e.present ? `camera ${e.cameraId} was redeployed: its relays restart on its new settings` : `camera ${e.cameraId} is no longer deployed: its relays wait for it, and stop if the deploy does not bring it back`);
    manager.on('source-changed', onSourceChanged);
    // The deploy is over: the relays of a camera it removed stop (their viewers are told the camera is unknown).
    const offFlowsStarted = onFlowsStarted(RED.events, () => manager.stopRelaysOfGoneCameras());
    showStatus(manager.stats());

    // While ffmpeg is missing it is looked for again now and then, so the status follows an
    // install without waiting for the next alert (settings.js may set vigieFfmpegRecheckMs).
    let ffmpegRecheckMs = 30_000;
    try {
      const given = (RED.settings as unknown as { vigieFfmpegRecheckMs?: unknown }).vigieFfmpegRecheckMs;
      ffmpegRecheckMs = settingInRange(given, 'settings.js vigieFfmpegRecheckMs', { min: 100, max: 3_600_000, integer: true }, ffmpegRecheckMs);
    } catch (err) {
      node.warn(`${(err as Error).message}; using ${ffmpegRecheckMs}`);
    }
    let ffmpegRecheck: NodeJS.Timeout | undefined;
    const stopFfmpegRecheck = (): void => {
      if (ffmpegRecheck) clearInterval(ffmpegRecheck);
      ffmpegRecheck = undefined;
    };
    const watchForFfmpeg = (): void => {
      if (!ffmpegError || ffmpegRecheck) return;
      ffmpegRecheck = setInterval(() => {
        if (ffmpegMissing()) return;
        stopFfmpegRecheck();
        showStatus(manager.stats());
      }, ffmpegRecheckMs);
    };
    watchForFfmpeg();

    const droppedFields = new DroppedFieldWarnings((t) => node.warn(t));
    /**
     * The alert to send on; `noVideo` when its camera part cannot be used (not an object, no id,
     * a camera not deployed, as during a redeploy of its vigie-camera): the alert still goes on
     * to the operators, without video. Throws for what may not go on at all (not an alert,
     * no id, samples or a voice label).
     */
    /** What is wrong with a camera part that has no usable id, in the words its check has always had. */
    function cameraIdFault(camera: unknown): ContractError | undefined {
      try {
        requireString(requireObject(camera, 'payload.camera'), 'id', 'payload.camera');
        return undefined;
      } catch (err) {
        if (err instanceof ContractError) return err;
        throw err;
      }
    }

    function handle(msg: NodeMessage): { out: NodeMessage; alertId: string; noVideo?: ContractError } {
      // From an mqtt in node that does not parse JSON: its text.
      const payload = requireObject(parsedPayload(msg.payload, 'an alert object'), 'payload');
      const screened = screenAlert(payload);
      const alertId = requireString(payload, 'id');
      // The alert goes on as its contract's fields only (privacy guarantees 1 and 3), each as the
      // alert schema states it (an alert of another system may lack the detection's own fields).
      // A camera that breaks the schema (a NaN pan, a state outside the list) cannot be shown:
      // the alert goes on without it, and without video; any other field breaking it refuses the alert.
      let fields: Alert;
      let badCamera: ContractError | undefined;
      try {
        fields = screened.checkedFields('alert', droppedFields, { partial: true });
      } catch (err) {
        if (!(err instanceof ContractError) || !err.field.startsWith('payload.camera')) throw err;
        badCamera = cameraIdFault(payload.camera) ?? err;
        const { camera: _camera, ...rest } = payload;
        fields = screenAlert(rest).checkedFields('alert', undefined, { partial: true });
      }
      const passOn = (video?: VideoLinks): NodeMessage => ({ ...msg, payload: { ...fields, ...(video ? { video } : {}) } });
      if (badCamera) return { out: passOn(), alertId, noVideo: badCamera };
      // No camera could be chosen, the chosen one failed, or it is busy with another alert (still
      // waiting, or released after its look): its picture is of that one, so the alert goes on
      // to the operators without video.
      if (payload.camera === undefined || (isObject(payload.camera) && CAMERA_ELSEWHERE.has(String(payload.camera.state)))) return { out: passOn(), alertId };
      let cameraId: string;
      let camera: Record<string, unknown>;
      try {
        camera = requireObject(payload.camera, 'payload.camera');
        cameraId = requireString(camera, 'id', 'payload.camera');
        if (!findCamera(cameraId)) throw new ContractError('payload.camera.id', 'the id of a deployed vigie-camera config node', cameraId);
      } catch (err) {
        if (!(err instanceof ContractError)) throw err;
        return { out: passOn(), alertId, noVideo: err };
      }
      // ptz-steer may send the alert while the camera turns ("moving") or awaits a confirmation
      // ("proposed"), then again on target: the snapshot is retaken then.
      const cameraSettled = camera.state !== 'moving' && camera.state !== 'proposed';
      const r = manager.alert(alertId, cameraId, { cameraSettled });
      if (r.relayError) {
        // The alert still goes on (operators need it); the live view will say why it is missing.
        node.warn(`alert ${alertId}: live relay not started: ${r.relayError}`);
        if (/ffmpeg not found/.test(r.relayError)) {
          ffmpegError = r.relayError;
          setStatus(node, { fill: 'red', shape: 'ring', text: 'ffmpeg not found' });
          watchForFfmpeg();
        }
      } else if (ffmpegError && !ffmpegMissing()) {
        // The relay started: ffmpeg is there again, found before the next look.
        stopFfmpegRecheck();
        showStatus(manager.stats());
      }
      r.snapshot.catch(() => undefined);
      return { out: passOn(r.video), alertId };
    }

    node.on('input', (msg: NodeMessage, send: (m: NodeMessage) => void, done: (err?: Error) => void) => {
      let handled: ReturnType<typeof handle>;
      try {
        handled = handle(msg);
      } catch (e) {
        const err = e instanceof Error ? e : new Error(String(e));
        setStatus(node, { fill: 'red', shape: 'ring', text: err instanceof ContractError ? `bad input: ${err.field}` : shortText(err.message) });
        done(err);
        return;
      }
      send(handled.out);
      const noVideo = handled.noVideo;
      if (noVideo) {
        // As for a relay that could not start: the operators get the alert, the log says why it has no video.
        node.warn(`alert ${handled.alertId}: sent on without video: ${noVideo.message}`);
        setStatus(node, { fill: 'red', shape: 'ring', text: `no video: ${noVideo.field}` });
      }
      done();
    });

    node.on('close', (removed: boolean, done: () => void) => {
      stopFfmpegRecheck();
      offCameraChange();
      offFlowsStarted();
      manager.off('source-changed', onSourceChanged);
      manager.off('change', onChange);
      manager.off('source-error', onSourceError);
      manager.off('viewer-refused', onViewerRefused);
      manager.off('snapshot-error', onSnapshotError);
      manager.off('upgrade-error', onUpgradeError);
      manager.off('credentials-withheld', onCredentialsWithheld);
      manager.off('basic-over-rtsp', onBasicOverRtsp);
      manager.off('viewer-limited', onViewerLimited);
      managers.delete(manager);
      withdrawSnapshots();
      // Redeployed, the node keeps its alerts' snapshots (the store outlives it); deleted, they go.
      if (removed) keptSnapshots.dropOwner(node.id);
      removeUpgrade();
      manager
        .close()
        .catch((e: unknown) => node.error(`close: ${(e as Error).message}`))
        .finally(() => {
          setStatus(node, {});
          done();
        });
    });
  }

  RED.nodes.registerType('video-forward', VideoForwardNode);
};
