/**
 * alert-dashboard: the operators' console as a Dashboard 2.0 third-party widget.
 *
 * Alerts in (detections grown by location, camera and video); decisions and camera move
 * requests out (DESIGN §2). The alert state lives in lib/alerts/store.ts, persisted in the
 * user directory; every alert raised, decision, move request and console view goes to the
 * tamper-evident audit log (lib/alerts/audit.ts), which also records what other nodes
 * publish on the audit bus (camera moves, live views).
 *
 * Dashboard wiring: `group.register(node, config, evts)`. Input messages pass through
 * `beforeSend`, which ingests the alert and gives Dashboard no state to send: the node itself
 * broadcasts the console state to every client (`msg-input:<id>`), the sanitised queue, never
 * the raw message, paced during bursts (lib/alerts/broadcast-pacer.ts) and at once after an
 * operator's action. Late joiners get the same state from the dashboard's data store
 * (`widget-load`). Operators' actions arrive on the custom socket event `vigie-action:<id>`.
 *
 * Dashboard's socket does not pass through Node-RED's httpNodeAuth: with httpNodeAuth set, the
 * node adds the same credential check to it (lib/alerts/socket-guard.ts), and refuses any
 * action from a connection that did not give those credentials.
 */
import { HandOverShelf } from '../lib/util/handover';
import * as path from 'path';
import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import { defaultHeadFile, editedFileWarning, openSharedAuditLog, AuditLogHandle, AuditWaitingError, headMismatchWarning, vanishedFileWarning } from '../lib/alerts/audit';
import { diskFaultWords, fileFaultText } from '../lib/util/disk-fault';
import { packageInfo } from '../lib/util/package-info';
import type { RuntimeEvents } from '../lib/util/handover';
import { BroadcastPacer } from '../lib/alerts/broadcast-pacer';
import { AlertConsole, DASHBOARD_SETTINGS, droppedAlertsWarning, expiredAlertsWarning, moveRefusalOf, SiteInfo, SitePoint, userFromClient } from '../lib/alerts/console';
import { auditBus } from '../lib/alerts/bus';
import { AlertRecord, AlertStore, StaleDecisionError, UnreadableStoreError } from '../lib/alerts/store';
import { CameraLinks } from '../lib/alerts/camera-links';
import { findCamera, listCameras, onCameraChange } from '../lib/camera/registry';
import { deployedSensorNodes } from '../lib/util/deployed-nodes';
import { errorStatus, setStatus, shortText } from '../lib/util/status';
import { snapshotOfLink } from '../lib/video/manager';
import { isObject, parsedPayload, settingsReader } from '../lib/util/validate';
import { guardSocketServer, handshakeAuthorization, NodeAuthCheck, nodeAuthSetting, SocketServerLike } from '../lib/alerts/socket-guard';
import { nodeFileName } from '../lib/util/atomic-file';

interface AlertDashboardDef extends NodeDef {
  group: string;
  width?: string | number;
  height?: string | number;
  order?: number;
  auditDir?: string;
  auditRetentionDays?: string | number;
  auditRotateMB?: string | number;
  keepSnapshots?: boolean;
  alertRetentionDays?: string | number;
  maxAlerts?: string | number;
  persist?: boolean;
  tileUrl?: string;
  chime?: boolean;
  siteLat?: string | number;
  siteLon?: string | number;
  moveAnswerSeconds?: string | number;
}

interface DashboardGroup extends Node {
  register(node: Node, config: Record<string, unknown>, evts: Record<string, unknown>): void;
  getBase(): DashboardBase | null | undefined;
}

interface DashboardBase {
  id?: string;
  /** Dashboard 2.0's ui-base replaces Node's emit by a broadcast to its socket.io clients. */
  emit(event: string, msg: unknown, wNode?: Node): void;
  stores?: { data?: { save(base: unknown, node: unknown, msg: unknown): void } };
  /** Dashboard 2.0's state shared across deploys: the browsers connected, by socket id, and its socket.io server. */
  uiShared?: { connections?: Record<string, ServerSocketLike>; ioServer?: SocketServerLike; settings?: { ioMiddleware?: unknown } };
}

interface SocketLike {
  id?: string;
  emit(event: string, ...args: unknown[]): void;
  /** The request that opened the connection (its headers carry the browser's Basic credentials). */
  handshake?: { headers?: Record<string, unknown> };
}

/** A browser's socket.io connection, as Dashboard 2.0 keeps it (with the id of its ui-base). */
interface ServerSocketLike extends SocketLike {
  _baseId?: string;
  on(event: string, listener: (...args: never[]) => void): void;
  off(event: string, listener: (...args: never[]) => void): void;
  listenerCount(event: string): number;
}

/** What a decision made on a stale view meets: what happened meanwhile, and the revision to send to decide anyway. */
interface Conflict {
  alertId: string;
  revision: number;
  state: string;
  latest?: { action: string; operator: string; time: number; note?: string };
}

type Ack = (reply: { ok: boolean; error?: string; conflict?: Conflict; operator?: string }) => void;

/** Node id → the live instance, so socket handlers bound before a redeploy reach the current node. */
const instances = new Map<string, (socket: SocketLike, action: unknown, ack?: Ack) => void>();

/** A number read from another node's config; `fallback` when it is unset or not a number. */
function num(v: unknown, fallback: number): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : fallback;
}

/** The node's numeric settings and what each accepts (lib/alerts/console.ts). */
const SETTINGS = DASHBOARD_SETTINGS;

/** The updates of an alert already saved are saved together within this time (see persistSoon). */
const SAVE_UPDATES_WITHIN_MS = 1000;
/** A snapshot waiting for the disk is tried again after 2 s, 4 s … up to this. */
const SNAPSHOT_DISK_RETRY_MAX_MS = 60_000;

/** A console restarted by a deploy finds its old instance's mark here (dropped when the flows stop without a deploy). */
const redeployMarks = new HandOverShelf<true>();

/**
 * Consoles closed without being removed, whose `console-stop` audit entry waits for the runtime
 * to say whether a deploy restarts them or the flows stop (Node-RED stopping, Stop flows): it
 * says so once every node's close is done. Each holds its audit log until then.
 */
const stopsToTell = new Map<string, { audit: AuditLogHandle; closedAtMs: number }>();
const stopsWatched = new WeakSet<object>();

/** Writes the waiting `console-stop` entries, `cause` as the runtime told it, and lets their logs go. */
function tellStops(cause: 'deploy' | 'flows-stopped' | 'unknown', onlyNodeId?: string): void {
  for (const [nodeId, { audit, closedAtMs }] of [...stopsToTell]) {
    if (onlyNodeId !== undefined && nodeId !== onlyNodeId) continue;
    stopsToTell.delete(nodeId);
    audit.append({ type: 'system', actor: 'vigie', details: { event: 'console-stop', node: nodeId, cause }, time: closedAtMs });
    audit.release();
  }
}

/** Once per runtime: the runtime's 'stop' state, sent once every node's close is done, tells a deploy from the flows stopping. */
function watchStops(events: RuntimeEvents): void {
  if (stopsWatched.has(events)) return;
  stopsWatched.add(events);
  events.on('runtime-event', (e) => {
    const ev = e as { id?: string; payload?: { state?: string; deploy?: boolean } } | undefined;
    if (ev?.id === 'runtime-state' && ev.payload?.state === 'stop') tellStops(ev.payload.deploy === true ? 'deploy' : 'flows-stopped');
  });
}

/** The package's version, for the console's start entry ('unknown' when its package.json cannot be read). */
function packageVersion(): string {
  try {
    return String(packageInfo().version);
  } catch {
    return 'unknown';
  }
}

export = function (RED: NodeAPI) {
  redeployMarks.dropOnStopWithoutDeploy(RED.events);
  watchStops(RED.events);
  const nodeAuth = nodeAuthSetting(RED.settings as unknown as Record<string, unknown>);
  /** One check per runtime: the passwords found right are remembered across nodes and deploys. */
  const nodeAuthCheck = nodeAuth.kind === 'basic' ? new NodeAuthCheck(nodeAuth.user, nodeAuth.pass) : undefined;

  function AlertDashboardNode(this: Node, config: AlertDashboardDef) {
    RED.nodes.createNode(this, config);
    const node = this;
    const group = RED.nodes.getNode(config.group) as DashboardGroup | null;
    const userDir = (RED.settings as unknown as { userDir?: string }).userDir ?? process.cwd();
    const auditDir = config.auditDir?.trim() ? path.resolve(userDir, config.auditDir.trim()) : path.join(userDir, 'vigie-audit');
    /** A setting the node cannot use is named in a warning, and its default applies (the console must run). */
    const setting = settingsReader(config, SETTINGS, { onRefused: (text) => node.warn(text) });
    const alertRetentionDays = setting('alertRetentionDays');
    const store = new AlertStore({
      retentionMs: alertRetentionDays * 86_400_000,
      maxAlerts: setting('maxAlerts'),
      file: config.persist === false ? undefined : path.join(userDir, nodeFileName('vigie-alerts', node.id)),
      warnDropped: (t) => node.warn(t),
    });
    const originLat = setting('siteLat');
    const originLon = setting('siteLon');
    const siteOrigin = Number.isFinite(originLat) && Number.isFinite(originLon) ? { lat: originLat, lon: originLon } : undefined;
    const cameraLinks = new CameraLinks();
    /** How long a move request waits for the camera's answer before the console says none came. */
    const moveAnswerMs = setting('moveAnswerSeconds') * 1000;
    /** One per move request sent, until its answer is due. */
    const moveAnswerTimers = new Set<NodeJS.Timeout>();
    const consoleCore = new AlertConsole({ store, actor: `auto:${node.id}`, site: () => siteInfo() });
    /** The state to every client, paced (broadcastSoon) or at once (broadcast). */
    const pacer = new BroadcastPacer(() => {
      const msg = stateMessage();
      if (base && !closed) base.emit(`msg-input:${node.id}`, msg, node);
    });
    let audit: AuditLogHandle | undefined;
    let auditFailed = false;
    /** The plain words of the audit log's fault when it is one of the disk's ("disk full"), for the status. */
    let auditDiskFault: string | undefined;
    /** The head record of the audit log cannot be written (its disk fault words, or the system's message), until it is again. */
    let auditHeadFault: string | undefined;
    /** Unhandled alerts the cap (maxAlerts) dropped since the node started. */
    let droppedUnhandled = 0;
    /** Where the unreadable file of the alerts saved before the restart was set aside. */
    let setAsideAs: string | undefined;
    /** Why alerts are not saved, until a save succeeds. */
    let saveFault: string | undefined;
    let saveTimer: NodeJS.Timeout | undefined;
    let pruneTimer: NodeJS.Timeout | undefined;
    let base: DashboardBase | null | undefined;
    /** Why the console's socket lets clients in without httpNodeAuth's credentials although it is set (see guardSocket). */
    let socketOpenReason: string | undefined;
    let closed = false;
    const keepSnapshots = config.keepSnapshots !== false;
    const snapshotsTaken = new Set<string>();
    const snapshotTimers = new Set<NodeJS.Timeout>();

    /** Unhandled alerts the cap dropped (audited by the console): warned naming each, counted in the status. */
    function tellDropped(records: AlertRecord[]): void {
      if (!records.length) return;
      droppedUnhandled += records.length;
      node.warn(droppedAlertsWarning(records, store.maxAlerts));
    }

    /** Unhandled alerts that retention dropped (the console audits them): warned naming each. */
    function tellExpired(): void {
      const records = consoleCore.expired();
      if (records.length) node.warn(expiredAlertsWarning(records, store.retentionMs));
    }

    let droppedAtLoad: AlertRecord[] = [];
    const restartedByDeploy = redeployMarks.take(node.id) !== undefined;
    try {
      // Restarted by a deploy (its old instance left a mark): the cameras' states saved are
      // still ptz-steer's; after a start of Node-RED they are not (see AlertStore.load).
      const loaded = store.load({ sameRun: restartedByDeploy });
      if (loaded.restored) node.log(`restored ${loaded.restored} alert(s) from ${store.file}`);
      droppedAtLoad = loaded.droppedUnhandled;
      const left = loaded.leftOut;
      if (left) {
        const what = [left.alerts && `${left.alerts} alert(s)`, left.decisions && `${left.decisions} decision(s)`].filter(Boolean).join(' and ');
        node.warn(
          `${store.file}: ${what} saved before the restart could not be restored (first: ${left.firstReason}); ` +
            (left.copy ? `the file as it was is copied to ${left.copy}` : `the file as it was could not be copied aside (${left.copyError}), and the next save leaves them out`),
        );
      }
    } catch (err) {
      if (err instanceof UnreadableStoreError) {
        // The queue starts empty; what the file holds is kept for someone to look at, never overwritten.
        setAsideAs = err.setAsideAs;
        if (!setAsideAs) saveFault = `${path.basename(err.file)} could not be read nor set aside`;
        node.warn(`could not restore the alerts saved before the restart: ${err.message}${setAsideAs ? ` (${setAsideAs})` : ` (${err.file})`}; the queue starts empty`);
      } else {
        node.warn(`could not restore alerts: ${(err as Error).message}`);
      }
    }
    audit = openSharedAuditLog(
      { dir: auditDir, retentionDays: setting('auditRetentionDays'), maxFileBytes: setting('auditRotateMB') * 1024 * 1024 },
      (err) => {
        // Said once per fault: retries of the waiting events fail the same way.
        if (!auditFailed) node.error(`audit log in ${auditDir}: ${fileFaultText(err)}; events wait in memory and are retried`);
        auditFailed = true;
        auditDiskFault = diskFaultWords(err);
        updateStatus();
      },
      () => {
        auditFailed = false;
        node.log('audit log: writing again; the events that waited are written');
        updateStatus();
      },
      // Node-RED's log usually goes elsewhere (journald, docker logs): a value to check the log against later.
      (header) => {
        // A file deleted (or replaced) by hand while the log ran or while stopped, or a log
        // replaced wholesale: the new file's header records it.
        for (const warning of [vanishedFileWarning(header), headMismatchWarning(header), editedFileWarning(header)]) if (warning) node.warn(warning);
        node.log(`audit log: ${String(header.details.file)} opened at seq ${header.seq}, hash ${header.hash}; to check later that the log up to here is unchanged: vigie audit verify --expect-hash ${header.seq}:${header.hash}`);
      },
      // The entries are written, but audit files deleted while Node-RED is stopped would go unseen at the next start.
      (err) => {
        const headFile = audit?.log.headRecordFile ?? defaultHeadFile(auditDir);
        if (err) {
          node.warn(
            `audit log: the head record ${headFile} cannot be written: ${fileFaultText(err)}; entries are still written, ` +
              `but audit files deleted while Node-RED is stopped will not be detected at the next start. Give Node-RED write access to ${path.dirname(headFile)}`,
          );
          auditHeadFault = diskFaultWords(err) ?? (err as NodeJS.ErrnoException).code ?? err.message;
        } else {
          node.log(`audit log: the head record ${headFile} is written again`);
          auditHeadFault = undefined;
        }
        updateStatus();
      },
    );
    // A loss the start found (files deleted while stopped, a head record the files do not hold)
    // that the disk would not take yet (full, read-only): said now, not when the disk has room.
    for (const warning of audit.log.unrecordedLossWarnings()) node.warn(warning);
    // The stop of this console's previous instance not told yet (the runtime said nothing of it): told now, before the start.
    tellStops('unknown', node.id);
    // Whether the system was running at a given time: a start and a stop entry per instance, so a gap shows.
    audit.append({ type: 'system', actor: 'vigie', details: { event: 'console-start', node: node.id, version: packageVersion(), after: restartedByDeploy ? 'deploy' : 'start' } });
    // Told once the audit log listens, so the entries are written.
    consoleCore.dropped(droppedAtLoad);
    tellDropped(droppedAtLoad);
    tellExpired();

    /** Sensors and cameras for the site plan: config nodes if present, then what alerts carried. */
    function siteInfo(): SiteInfo {
      const sensors = new Map<string, SitePoint>();
      const cameras = new Map<string, SitePoint>();
      // The deployed sensors and cameras, never the flows' definitions: a definition inside a
      // subflow, or with an ${ENV} id, names no sensor or camera that exists (its live copies, one
      // per subflow instance, have their own ids). A sensor whose settings are refused has no place.
      for (const n of deployedSensorNodes.all()) {
        const live = n as { sensor?: unknown; name?: string };
        if (!isObject(live.sensor)) continue;
        const info = live.sensor;
        const lat = num(info.lat, NaN);
        const lon = num(info.lon, NaN);
        if (!Number.isFinite(lat) || !Number.isFinite(lon)) continue; // an unset position is not (0, 0)
        const id = String(info.id);
        const heading = Number(info.headingDeg);
        sensors.set(id, { id, name: String(info.name || live.name || id), lat, lon, kind: 'sensor', ...(Number.isFinite(heading) ? { headingDeg: heading } : {}) });
      }
      for (const cam of listCameras()) {
        if (Number.isFinite(cam.config.lat) && Number.isFinite(cam.config.lon)) {
          cameras.set(cam.id, { id: cam.id, name: cam.name, lat: cam.config.lat, lon: cam.config.lon, kind: 'camera', headingDeg: cam.config.mountHeadingDeg });
        }
      }
      // Whether each camera answers: operators see an offline camera on the plan and on its alerts.
      for (const p of cameras.values()) {
        const connection = cameraLinks.of(findCamera(p.id));
        if (connection) p.connection = connection;
      }
      for (const r of store.queue()) {
        const a = r.alert;
        if (a.sensorInfo && !sensors.has(a.sensor)) sensors.set(a.sensor, { id: a.sensor, name: a.sensor, lat: a.sensorInfo.lat, lon: a.sensorInfo.lon, kind: 'sensor', ...(a.sensorInfo.heading !== undefined ? { headingDeg: a.sensorInfo.heading } : {}) });
      }
      return { origin: siteOrigin, sensors: [...sensors.values()], cameras: [...cameras.values()], ...(config.tileUrl?.trim() ? { tileUrl: config.tileUrl.trim() } : {}) };
    }

    function updateStatus(): void {
      if (closed) return;
      if (!group) return setStatus(node, { fill: 'red', shape: 'ring', text: 'no ui-group: choose one' });
      if (auditFailed) return setStatus(node, { fill: 'red', shape: 'ring', text: `audit log failing${auditDiskFault ? `: ${auditDiskFault}` : ''}${audit?.backlog ? ` (${audit.backlog} events waiting)` : ''}` });
      if (saveFault) return setStatus(node, { fill: 'red', shape: 'ring', text: shortText(`alerts not saved: ${saveFault}`) });
      if (auditHeadFault) return setStatus(node, { fill: 'red', shape: 'ring', text: shortText(`audit head record not written: ${auditHeadFault}`) });
      const c = store.counts();
      const open = c.new + c.seen;
      // Still full of unhandled alerts: the next one drops another.
      if (droppedUnhandled && open >= store.maxAlerts) return setStatus(node, { fill: 'red', shape: 'ring', text: `full (maxAlerts ${store.maxAlerts}): ${droppedUnhandled} unhandled dropped` });
      const counts = `${c.new} new, ${open} open, ${store.size} kept${droppedUnhandled ? `, ${droppedUnhandled} unhandled dropped` : ''}`;
      // Until the next deploy: the alerts of before the restart are in a file set aside, not in the queue.
      if (setAsideAs) return setStatus(node, { fill: 'yellow', shape: 'ring', text: `${c.new} new, ${open} open; saved alerts set aside` });
      if (socketOpenReason) return setStatus(node, { fill: 'yellow', shape: 'ring', text: `${c.new} new, ${open} open; console open without login` });
      setStatus(node, { fill: 'green', shape: 'dot', text: counts });
    }

    /**
     * Saves the queue. A failure turns the status red, naming the fault, until a save succeeds;
     * it is warned once per fault, not at every alert, and its end is said.
     */
    function persist(): void {
      if (saveTimer) clearTimeout(saveTimer);
      saveTimer = undefined;
      try {
        store.save();
        if (saveFault) node.log(`alerts saved again in ${store.file}`);
        saveFault = undefined;
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        // "EACCES: permission denied, open '…'": the fault without the paths, which the warning gives.
        const fault = diskFaultWords(e) ?? (e.code && e.message.startsWith(`${e.code}:`) ? e.message.split(',')[0] : e.message);
        if (!saveFault) node.warn(`could not save alerts in ${store.file}: ${fileFaultText(e)}; they are kept in memory and saved at the next change (or within a minute) once this is fixed`);
        saveFault = fault;
      }
    }

    /**
     * Saves within SAVE_UPDATES_WITHIN_MS. For the updates of an alert already saved (its camera,
     * video, position): one alert brings several in a second, and each save rewrites the whole
     * file, which wears a gateway's SD card on a busy night. A crash loses at most that second
     * of updates; a new alert and a decision are saved at once (persist).
     */
    function persistSoon(): void {
      if (saveTimer || closed) return;
      saveTimer = setTimeout(() => {
        saveTimer = undefined;
        persist();
        updateStatus();
      }, SAVE_UPDATES_WITHIN_MS);
    }

    /** The state message every client shows; kept in the dashboard's store for late joiners. */
    function stateMessage(): NodeMessage {
      const msg = { topic: 'vigie-state', payload: consoleCore.state() } as NodeMessage;
      try {
        base?.stores?.data?.save(base, node, msg);
      } catch {
        /* the data store is an optimisation for late joiners; the broadcast still happens */
      }
      return msg;
    }

    /** Sends the state to every client now (an operator's action: its answer must find it there). */
    function broadcast(): void {
      pacer.now();
    }

    /**
     * Sends the state soon: at once after a quiet moment, else with the other changes at most
     * every BROADCAST_EVERY_MS (lib/alerts/broadcast-pacer.ts). The state, the whole queue, is
     * built when it goes out, so it holds every change made meanwhile.
     */
    function broadcastSoon(): void {
      pacer.soon();
    }

    /**
     * Keeps the alert's snapshot (a JPEG) with the audit log, hashed; up to 3 attempts, never
     * blocking. Taken in-process from the video-forward node that took it (lib/video/manager.ts
     * snapshotOfLink), not over HTTP: httpNodeAuth, the address Node-RED listens on or HTTPS
     * would stand in the way. Its links are paths of the Node-RED that serves them; a snapshot
     * of a video-forward node in another Node-RED is not kept here (nothing is fetched from
     * other addresses: an alert must not make Node-RED fetch what it names).
     */
    function keepSnapshot(alertId: string, link: string | undefined, cameraId: string | undefined, attempt = 1, diskWaits = 0): void {
      if (!keepSnapshots || !audit || closed || !link) return;
      if (attempt === 1 && diskWaits === 0 && snapshotsTaken.has(alertId)) return;
      snapshotsTaken.add(alertId);
      // Kept before a restart or a redeploy: the picture at the alert stays the one kept.
      if (attempt === 1 && diskWaits === 0 && audit.log.hasSnapshot(alertId)) return;
      const again = (delayMs: number, nextAttempt: number, nextDiskWaits: number) => {
        const t = setTimeout(() => {
          snapshotTimers.delete(t);
          keepSnapshot(alertId, link, cameraId, nextAttempt, nextDiskWaits);
        }, delayMs);
        snapshotTimers.add(t);
      };
      snapshotOfLink(link)
        .then((item) => {
          if (!item) throw new Error('no video-forward node of this Node-RED keeps it');
          // Why the camera gave none (its address) is in video-forward's own warning.
          if (!item.jpeg) throw new Error('the camera did not give one');
          if (!closed && audit) audit.saveSnapshot(alertId, item.jpeg, `auto:${node.id}`, { camera: cameraId ?? null });
        })
        .catch((err: Error) => {
          if (closed) return;
          // The disk (or earlier events waiting for it) is the obstacle, not the picture: video-forward
          // keeps the picture taken at the alert, so it is tried again, less and less often, for as
          // long as it is kept there; the console's status already says the audit log is failing.
          if (err instanceof AuditWaitingError || diskFaultWords(err)) return again(Math.min(SNAPSHOT_DISK_RETRY_MAX_MS, 2000 * 2 ** diskWaits), attempt, diskWaits + 1);
          if (attempt < 3) return again(2000 * attempt, attempt + 1, diskWaits);
          node.warn(`snapshot of alert ${alertId} not kept: ${fileFaultText(err)}`);
        });
    }

    /** An alert (or a new copy of one) in; its state goes out with broadcastSoon. */
    function ingest(msg: NodeMessage): void {
      let r;
      const versionBefore = consoleCore.version;
      try {
        // From an mqtt in node that does not parse JSON: its text.
        r = consoleCore.ingest(parsedPayload((msg as { payload?: unknown }).payload, 'an alert object'));
      } catch (err) {
        if (!closed) setStatus(node, { fill: 'red', shape: 'ring', text: errorStatus(err) });
        throw err;
      }
      tellDropped(r.droppedUnhandled);
      tellExpired();
      if (r.isNew || r.droppedUnhandled.length) persist();
      else if (r.changed.length) persistSoon();
      updateStatus();
      const a = r.record.alert;
      if (a.video?.snapshot) keepSnapshot(a.id, a.video.snapshot, a.camera?.id);
      // a copy that changes nothing (sent again) changes nothing on the screens either
      if (consoleCore.version !== versionBefore) broadcastSoon();
    }

    /** An operator's action from a dashboard client. */
    function onAction(socket: SocketLike, action: unknown, ack?: Ack): void {
      // Defence in depth: the socket's own check (guardSocket) should have refused such a connection.
      if (nodeAuthCheck && !nodeAuthCheck.allows(handshakeAuthorization(socket))) {
        node.warn('operator action refused: its connection did not give the user and password of httpNodeAuth');
        if (typeof ack === 'function') ack({ ok: false, error: 'refused: log in to the dashboard again (reload the page)' });
        return;
      }
      try {
        const user = authenticatedUser(socket);
        const r = consoleCore.act(action, user);
        if (r.decision) node.send({ topic: 'decision', payload: r.decision } as NodeMessage);
        if (r.moveRequest) {
          node.send({ topic: 'move-request', payload: r.moveRequest } as NodeMessage);
          awaitMoveAnswer();
        }
        if (r.changed) {
          persist();
          updateStatus();
          broadcast();
        }
        // who it was recorded under (the logged-in user, if any): the console tells its own decisions by it
        if (typeof ack === 'function') ack({ ok: true, operator: r.operator });
      } catch (err) {
        if (err instanceof StaleDecisionError) {
          // Two operators on one alert: no fault of the flow, so no warning; the console asks its operator.
          node.log(`decision refused: ${err.message}`);
          const l = err.latest;
          const conflict: Conflict = { alertId: err.alertId, revision: err.revision, state: err.state, ...(l ? { latest: { action: l.action, operator: l.operator, time: l.time, ...(l.note ? { note: l.note } : {}) } } : {}) };
          if (typeof ack === 'function') ack({ ok: false, error: err.message, conflict });
          return;
        }
        node.warn(`operator action refused: ${(err as Error).message}`);
        if (typeof ack === 'function') ack({ ok: false, error: (err as Error).message });
      }
    }

    /**
     * A move request is answered by the camera's next state, or refused by ptz-steer (heard below);
     * one that nothing answers within moveAnswerMs (a ptz-steer not wired to this output, one of an
     * older flow that drops it, another Node-RED down) ends, and the console says so.
     */
    function awaitMoveAnswer(): void {
      // A little after the bound: a timer may fire a fraction of a millisecond before the
      // monotonic clock shows moveAnswerMs gone, and the request would then never end.
      const t = setTimeout(() => {
        moveAnswerTimers.delete(t);
        if (!closed && consoleCore.expireMoveRequests(moveAnswerMs)) broadcast();
      }, moveAnswerMs + 250);
      moveAnswerTimers.add(t);
    }

    // A ptz-steer of this Node-RED that refuses a request audits why: the console ends it at once.
    const offRefusals = auditBus.subscribe((ev) => {
      const refusal = moveRefusalOf(ev);
      if (!refusal || closed) return;
      if (consoleCore.moveRefused(refusal.alertId, refusal.reason)) broadcast();
    });

    /** The logged-in dashboard user, as Dashboard 2.0 authentication plugins report it. */
    function authenticatedUser(socket: SocketLike): string | undefined {
      const plugins = (RED as unknown as { plugins?: { getByType?(t: string): Array<{ hooks?: Record<string, (...a: unknown[]) => unknown> }> } }).plugins;
      let item: Record<string, unknown> = { _client: {} };
      for (const p of plugins?.getByType?.('node-red-dashboard-2') ?? []) {
        const hook = p.hooks?.onAddConnectionCredentials;
        if (typeof hook === 'function') {
          try {
            item = (hook(socket, item) as Record<string, unknown>) ?? item;
          } catch {
            /* a plugin failing to identify the user leaves the entered name */
          }
        }
      }
      return userFromClient(item._client);
    }

    instances.set(node.id, onAction);
    const eventName = `vigie-action:${node.id}`;
    const nodeId = node.id;
    /** Listeners this node put on pages already open (wireOpenPages), taken off when it closes. */
    const wiredPages: Array<{ socket: ServerSocketLike; listener: (action: unknown, ack?: Ack) => void }> = [];

    if (group && typeof group.register === 'function') {
      // The browser must not learn server paths: the widget gets only what it displays.
      const { auditDir: _a, auditRetentionDays: _r, auditRotateMB: _m, keepSnapshots: _k, ...visible } = config;
      const evts = {
        // The state goes out paced (broadcastSoon), not once per copy of an alert. Dashboard sends
        // whatever this returns to every client (and fails on null): a few bytes without a state,
        // which the widget ignores.
        beforeSend: async (msg: NodeMessage) => {
          ingest(msg);
          return { topic: 'vigie-state-follows' } as NodeMessage;
        },
        onInput: async () => {
          /* nothing to forward: the output carries operators' decisions only */
        },
        // Browsers may only act through vigie-action: generic widget-change / widget-send events
        // would otherwise run beforeSend (ingest a forged alert) and send it on the output.
        onChange: async () => {
          node.warn('ignored a "widget-change" event from a browser: the console accepts only its own actions');
        },
        onSend: async () => {
          node.warn('ignored a "widget-send" event from a browser: the console accepts only its own actions');
        },
        onSocket: {
          [eventName]: (socket: SocketLike, action: unknown, ack?: Ack) => {
            const current = instances.get(nodeId);
            if (current) current(socket, action, ack);
            else if (typeof ack === 'function') ack({ ok: false, error: 'the alert-dashboard node is not deployed any more: reload the page' });
          },
        },
      };
      // Height 0 = sized by its content: the console (queue, video, plan, buttons) never fits a
      // fixed number of dashboard rows, and a fixed height would let it spill out of its group.
      group.register(node, { ...visible, height: 0, chime: config.chime !== false, siteLat: siteOrigin?.lat, siteLon: siteOrigin?.lon } as unknown as Record<string, unknown>, evts);
      base = group.getBase?.();
      guardSocket();
      wireOpenPages(evts.onSocket[eventName]);
      stateMessage();
    } else {
      // Without a ui-group the node still keeps the queue and the audit log, and says what is wrong.
      // Nothing is sent from here, but the handler keeps its three parameters: Node-RED passes
      // `done` (and tracks completion) only to a handler declared (msg, send, done).
      node.on('input', (msg, _send, done) => {
        try {
          ingest(msg);
          done();
        } catch (err) {
          done(err as Error);
        }
      });
    }
    updateStatus();

    /**
     * With httpNodeAuth set, the console's socket (Dashboard 2.0's, which Node-RED's HTTP
     * authentication does not reach) checks the same credentials; where it cannot, the log
     * and the status say that the console is open without a login.
     */
    function guardSocket(): void {
      if (nodeAuth.kind === 'none' || !base) return;
      if (nodeAuth.kind === 'middleware') {
        // The site's own socket check, beside its own HTTP one: taken as doing the same.
        if (base.uiShared?.settings?.ioMiddleware) return;
        socketOpenReason = 'httpNodeAuth is a middleware of your own, which Dashboard 2.0\'s socket does not pass through';
      } else {
        const io = base.uiShared?.ioServer;
        if (io && typeof io.use === 'function' && typeof io.of === 'function') {
          if (guardSocketServer(io, nodeAuthCheck!)) node.log("the dashboard's socket asks for httpNodeAuth's user and password");
          return;
        }
        socketOpenReason = 'this version of Dashboard 2.0 does not show its socket server';
      }
      node.warn(
        `the console is open without a login: ${socketOpenReason}, so anyone who reaches Node-RED can read the alerts on the dashboard's socket` +
          (nodeAuthCheck ? " (actions from a connection without httpNodeAuth's credentials are still refused)" : ' and act on them') +
          '. Set dashboard.ioMiddleware in settings.js to check your login there, or put the dashboard behind a reverse proxy that asks for one',
      );
    }

    /**
     * Dashboard 2.0 wires a widget's own socket events only when a browser connects, and unwires
     * them when the node closes (a deploy touching the console, a Full deploy): a console page
     * already open, built again by the deploy, would get no answer to its actions until its
     * connection dropped. The pages of this dashboard connected without the event get it here.
     */
    function wireOpenPages(handler: (socket: SocketLike, action: unknown, ack?: Ack) => void): void {
      const connections = base?.uiShared?.connections;
      if (!connections) return;
      for (const socket of Object.values(connections)) {
        try {
          if (socket._baseId !== undefined && base?.id !== undefined && socket._baseId !== base.id) continue;
          if (socket.listenerCount(eventName) > 0) continue;
          const listener = (action: unknown, ack?: Ack) => handler(socket, action, ack);
          socket.on(eventName, listener);
          wiredPages.push({ socket, listener });
        } catch {
          /* a connection closing meanwhile: it wires itself again when it reconnects */
        }
      }
    }

    // A camera that goes offline (or comes back) is news for every client at once; state
    // events come in bursts (connecting, failed, retries), so they are gathered for a moment,
    // and only a change operators would see is broadcast.
    const linksShown = (): string => JSON.stringify(siteInfo().cameras.map((c) => [c.id, c.connection?.link, c.connection?.problem]));
    let shownLinks = linksShown();
    let linksTimer: NodeJS.Timeout | undefined;
    const offCameraChange = onCameraChange(() => {
      if (closed || linksTimer) return;
      linksTimer = setTimeout(() => {
        linksTimer = undefined;
        if (closed) return;
        const now = linksShown();
        if (now === shownLinks) return;
        shownLinks = now;
        broadcast();
      }, 200);
    });

    pruneTimer = setInterval(() => {
      const pruned = consoleCore.prune();
      tellExpired();
      if (pruned) {
        persist();
        updateStatus();
        broadcast();
      } else if (saveFault) {
        // A fault that went away (disk space freed) clears without waiting for the next alert.
        persist();
        updateStatus();
      }
      // Alerts gone (retention, or beyond maxAlerts): so is the memory of their snapshots.
      for (const id of snapshotsTaken) if (!store.get(id)) snapshotsTaken.delete(id);
    }, 60_000);
    pruneTimer.unref?.();

    node.on('close', (removed: boolean, done: () => void) => {
      try {
        closed = true;
        if (!removed) redeployMarks.put(node.id, true);
        pacer.close();
        offCameraChange();
        if (linksTimer) clearTimeout(linksTimer);
        linksTimer = undefined;
        if (pruneTimer) clearInterval(pruneTimer);
        pruneTimer = undefined;
        if (instances.get(nodeId) === onAction) instances.delete(nodeId);
        for (const { socket, listener } of wiredPages.splice(0)) {
          try {
            socket.off(eventName, listener);
          } catch {
            /* already gone */
          }
        }
        for (const t of snapshotTimers) clearTimeout(t);
        snapshotTimers.clear();
        for (const t of moveAnswerTimers) clearTimeout(t);
        moveAnswerTimers.clear();
        offRefusals();
        persist();
        if (audit) {
          if (removed) {
            audit.append({ type: 'system', actor: 'vigie', details: { event: 'console-stop', node: node.id, cause: 'removed' } });
            audit.release();
          } else {
            // A deploy restarting it, or the flows stopping: the runtime tells which once every close is done.
            stopsToTell.get(node.id)?.audit.release();
            stopsToTell.set(node.id, { audit, closedAtMs: Date.now() });
          }
        }
        audit = undefined;
      } finally {
        done();
      }
    });
  }

  RED.nodes.registerType('alert-dashboard', AlertDashboardNode as unknown as Parameters<NodeAPI['nodes']['registerType']>[1]);
};
