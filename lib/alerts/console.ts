/**
 * The operators' console, without Node-RED: takes alerts in, turns operators' actions from
 * the dashboard into decisions and move requests (DESIGN §2), publishes what must be
 * audited on the audit bus, and builds the state every dashboard client shows.
 */
import type { Alert, Decision } from '../contracts';
import { ContractError, isObject } from '../util/validate';
import { AuditEvent, auditBus } from './bus';
import type { CameraLink } from './camera-links';
import { MOVABLE_CAMERA_STATES } from './camera-states';
import { AlertRecord, AlertState, AlertStore, alertTime, DroppedNotice, UpsertResult } from './store';

/**
 * The alert-dashboard node's numeric settings and what each accepts. A value outside is named in
 * a warning and the default applies (the console must run); its editor form refuses the same
 * values (test/unit/editor-validators.test.ts).
 */
export const DASHBOARD_SETTINGS = {
  alertRetentionDays: { min: 0.01, max: 3650, default: 7 },
  maxAlerts: { min: 10, max: 100_000, integer: true, default: 500 },
  siteLat: { min: -90, max: 90, default: NaN },
  siteLon: { min: -180, max: 180, default: NaN },
  // 0 keeps the audit log for ever
  auditRetentionDays: { min: 0, max: 36_500, default: 90 },
  auditRotateMB: { min: 0.01, max: 1024, default: 10 },
  // How long a camera move request waits for its answer (the camera's next state, or ptz-steer's
  // refusal) before the console says none came: above ptz-steer's move timeout (15 s) and retries.
  moveAnswerSeconds: { min: 1, max: 600, default: 60 },
} as const;

export interface MoveRequest {
  kind: 'move-request';
  alertId: string;
  operator: string;
  /** Epoch seconds. */
  time: number;
  /**
   * The alert as the console knows it (without its video), so ptz-steer can aim at it without
   * having kept it: a camera that left it ("released"), did not come ("failed", "unavailable"),
   * or a proposal or a wait ptz-steer no longer knows of (dismissed, over, redeployed).
   */
  alert?: Alert;
}

/** A place on the site plan. */
export interface SitePoint {
  id: string;
  name: string;
  lat: number;
  lon: number;
  kind: 'sensor' | 'camera';
  headingDeg?: number;
  /** A camera's connection, when a node uses it (lib/alerts/camera-links.ts). */
  connection?: CameraLink;
}

export interface SiteInfo {
  origin?: { lat: number; lon: number };
  sensors: SitePoint[];
  cameras: SitePoint[];
  tileUrl?: string;
}

/** What a dashboard client receives: the queue and where things are. */
/** An alert as clients get it: its record, and when its sound was (see alertTime). */
export type ShownRecord = AlertRecord & {
  /** Epoch seconds to show and order it by: the onset, or the arrival when the sensor's clock is off. */
  timeSec: number;
  /** Set when the sensor's clock cannot have been right: its onset is then not shown as the time. */
  sensorClock?: 'ahead' | 'behind';
};

export interface ConsoleState {
  alerts: ShownRecord[];
  counts: Record<AlertState, number>;
  site: SiteInfo;
  /** Epoch ms, so clients can correct their clock for relative times. */
  serverTimeMs: number;
  /** Incremented on every change, so clients can ignore stale updates. */
  version: number;
  /**
   * Unhandled alerts the cap (maxAlerts) dropped that no operator has acknowledged yet (action
   * "ack-dropped"); absent when none.
   */
  dropped?: DroppedNotice;
}

export type ConsoleActionType = 'decide' | 'seen' | 'move' | 'view' | 'ack-dropped';

export interface ConsoleActionResult {
  decision?: Decision;
  moveRequest?: MoveRequest;
  /** True when the state every client sees has changed (broadcast it). */
  changed: boolean;
  /**
   * Who the action is recorded under: the logged-in user, else the name entered. The console
   * knows by it its own decisions among others' when an answer was lost (a reconnection).
   */
  operator: string;
}

export interface AlertConsoleOptions {
  store: AlertStore;
  /** Who the node is, for audit entries it causes itself ("auto:<node id>"). */
  actor: string;
  site?: () => SiteInfo;
  /** At most this many alerts are sent to browsers (default 200); the store may keep more. */
  maxShown?: number;
}

const OPERATOR_MAX = 80;

/** The operator's identity: the dashboard's authenticated user if any, otherwise the name entered. */
export function resolveOperator(authenticatedUser: string | undefined, entered: unknown): string {
  const user = typeof authenticatedUser === 'string' ? authenticatedUser.trim() : '';
  if (user) return user.slice(0, OPERATOR_MAX);
  const name = typeof entered === 'string' ? entered.trim() : '';
  if (!name) throw new ContractError('operator', 'the operator\'s name (enter it in the console) or a logged-in dashboard user', entered);
  return name.slice(0, OPERATOR_MAX);
}

/**
 * The user name carried by a dashboard connection's client data (`msg._client.user`, as added
 * by Dashboard 2.0 authentication plugins such as FlowFuse's user add-on).
 */
export function userFromClient(client: unknown): string | undefined {
  if (!isObject(client) || !isObject(client.user)) return undefined;
  const u = client.user;
  for (const k of ['username', 'name', 'email', 'userId']) {
    if (typeof u[k] === 'string' && (u[k] as string).trim()) return (u[k] as string).trim();
  }
  return undefined;
}

export class AlertConsole {
  readonly store: AlertStore;
  private readonly actor: string;
  private readonly site: () => SiteInfo;
  private versionNo = 0;
  private readonly maxShown: number;

  constructor(opts: AlertConsoleOptions) {
    this.maxShown = Math.max(1, opts.maxShown ?? 200);
    this.store = opts.store;
    this.actor = opts.actor;
    this.site = opts.site ?? (() => ({ sensors: [], cameras: [] }));
  }

  /**
   * An alert arrives (new, or enriched again). A new one is audited as raised, a copy that
   * changes its place, label or sensors as updated (alertUpdateDetails); unhandled alerts the
   * cap dropped to keep it are audited as dropped (see dropped()).
   */
  ingest(payload: unknown): UpsertResult {
    const r = this.store.upsert(payload);
    const a = r.record.alert;
    if (r.isNew) {
      auditBus.publish({ type: 'alert', actor: this.actor, alertId: a.id, details: alertAuditDetails(a) });
    } else if (r.previous) {
      // A copy sent again with a better place (a late sensor): the log keeps each place the
      // console showed, not only the first. One that changes none of it (its camera, its video, a
      // resend) is not: the camera's moves have their own entries.
      const update = alertUpdateDetails(r.previous, a);
      if (update) auditBus.publish({ type: 'alert-update', actor: this.actor, alertId: a.id, details: update });
    }
    this.dropped(r.droppedUnhandled);
    if (r.isNew || r.changed.length) this.versionNo++;
    return r;
  }

  /**
   * Unhandled alerts the store's cap (maxAlerts) dropped: each is a `system` audit entry
   * (event "alert-dropped") naming it, so an alert that never reached a decision leaves a trace.
   */
  dropped(records: AlertRecord[]): void {
    for (const r of records) this.auditDropped(r, { reason: 'maxAlerts', maxAlerts: this.store.maxAlerts });
    if (records.length) this.versionNo++;
  }

  /**
   * Unhandled alerts that retention dropped since the last call (store.takeExpiredUnhandled):
   * each audited as dropped (reason "retention"), and returned to be told.
   */
  expired(): AlertRecord[] {
    const records = this.store.takeExpiredUnhandled();
    for (const r of records) this.auditDropped(r, { reason: 'retention', retentionDays: this.store.retentionMs / 86_400_000 });
    if (records.length) this.versionNo++;
    return records;
  }

  private auditDropped(r: AlertRecord, why: Record<string, unknown>): void {
    const a = r.alert;
    auditBus.publish({
      type: 'system',
      actor: this.actor,
      alertId: a.id,
      details: { event: 'alert-dropped', ...why, state: r.state, label: a.label, sensor: a.sensor, onset: a.onset, receivedAt: new Date(r.receivedMs).toISOString() },
    });
  }

  /** An action from a dashboard client; throws a ContractError naming the field when unusable. */
  act(action: unknown, authenticatedUser?: string): ConsoleActionResult {
    if (!isObject(action)) throw new ContractError('action', 'an object');
    const type = action.type;
    if (type === 'ack-dropped') return this.acknowledgeDropped(action, authenticatedUser);
    const alertId = action.alertId;
    if (typeof alertId !== 'string' || !alertId) throw new ContractError('action.alertId', 'a non-empty string', alertId);
    const operator = resolveOperator(authenticatedUser, action.operator);
    const record = this.store.get(alertId);
    if (!record) throw new ContractError('action.alertId', 'the id of an alert in the queue', alertId);
    switch (type) {
      case 'decide': {
        // The number of decisions the operator's screen showed: a decision made on an older view is refused (StaleDecisionError).
        const revision = action.revision;
        if (revision !== undefined && (typeof revision !== 'number' || !Number.isInteger(revision) || revision < 0)) {
          throw new ContractError('action.revision', 'a whole number >= 0: how many decisions the alert had on the operator\'s screen', revision);
        }
        const replaced = record.decisions[record.decisions.length - 1];
        const decision = this.store.decide({ alertId, action: String(action.action), operator, note: typeof action.note === 'string' ? action.note : undefined, revision });
        auditBus.publish({
          type: 'decision',
          actor: operator,
          alertId,
          details: {
            action: decision.action,
            ...(decision.note ? { note: decision.note } : {}),
            label: record.alert.label,
            revision: decision.revision,
            // A decision that changes an earlier one says which.
            ...(replaced ? { replaces: { action: replaced.action, operator: replaced.operator, time: replaced.time } } : {}),
          },
        });
        this.versionNo++;
        return { decision, changed: true, operator };
      }
      case 'seen': {
        const before = record.state + record.seenBy.join();
        this.store.markSeen(alertId, operator);
        const changed = before !== record.state + record.seenBy.join();
        if (changed) this.versionNo++;
        return { changed, operator };
      }
      case 'move': {
        // A proposed move (confirm mode), a camera busy with another alert that the operator
        // takes, or a camera that left (or never came) turned here again.
        const cam = record.alert.camera;
        if (!cam || !MOVABLE_CAMERA_STATES.includes(cam.state)) {
          throw new ContractError('action.type', `"move" only for an alert whose camera.state is one of ${MOVABLE_CAMERA_STATES.map((s) => `"${s}"`).join(', ')}`, cam?.state ?? 'no camera');
        }
        this.store.recordMoveRequest(alertId, operator);
        // The request only: ptz-steer audits the move it makes, or "request-refused" with why.
        auditBus.publish({ type: 'camera-move', actor: operator, alertId, details: { event: 'requested-by-operator', camera: cam.id, cameraState: cam.state } });
        this.versionNo++;
        // Always with the alert: ptz-steer may have forgotten a proposal or a wait this console
        // still shows (dismissed, expired, ptz-steer redeployed) and serves it all the same.
        const { video: _video, ...alert } = record.alert;
        const moveRequest: MoveRequest = { kind: 'move-request', alertId, operator, time: Date.now() / 1000, alert };
        return { moveRequest, changed: true, operator };
      }
      case 'view': {
        const v = record.alert.video;
        auditBus.publish({
          type: 'live-view',
          actor: operator,
          alertId,
          details: { event: 'viewed-in-console', camera: record.alert.camera?.id ?? null, mode: typeof action.mode === 'string' ? action.mode.slice(0, 20) : 'live', live: v?.live ?? null },
        });
        return { changed: false, operator };
      }
      default:
        throw new ContractError('action.type', 'one of "decide", "seen", "move", "view", "ack-dropped"', type);
    }
  }

  /**
   * An operator read the notice of dropped alerts: `upTo` is its DroppedNotice.upTo, so alerts
   * dropped after it was shown stay in it. Audited (system entry "alert-dropped-acknowledged",
   * under the operator) when it acknowledges any.
   */
  private acknowledgeDropped(action: Record<string, unknown>, authenticatedUser: string | undefined): ConsoleActionResult {
    const operator = resolveOperator(authenticatedUser, action.operator);
    const upTo = action.upTo;
    if (typeof upTo !== 'number' || !Number.isInteger(upTo) || upTo < 0) {
      throw new ContractError('action.upTo', 'a whole number >= 0: the notice\'s upTo, as the operator read it', upTo);
    }
    const shown = this.store.droppedNotice();
    const count = this.store.acknowledgeDropped(upTo);
    if (!count) return { changed: false, operator };
    auditBus.publish({
      type: 'system',
      actor: operator,
      details: {
        event: 'alert-dropped-acknowledged',
        count,
        maxAlerts: this.store.maxAlerts,
        // those the notice named (the audit log has an "alert-dropped" entry for each one)
        named: (shown?.recent ?? []).map((d) => d.id),
        ...(this.store.droppedNotice() ? { stillShown: this.store.droppedNotice()!.count } : {}),
      },
    });
    this.versionNo++;
    return { changed: true, operator };
  }

  /**
   * ptz-steer refused an operator's move request (its "request-refused" audit entry): the
   * request ends, with its reason. True when a pending request ended (the state changed).
   */
  moveRefused(alertId: string, reason: string): boolean {
    if (!this.store.refuseMoveRequest(alertId, reason)) return false;
    this.versionNo++;
    return true;
  }

  /**
   * The move requests that no camera state (nor refusal) answered within `answerWithinMs` end
   * "no-answer", audited as such (the log then does not leave a request open for ever). True
   * when any did (the state changed).
   */
  expireMoveRequests(answerWithinMs: number): boolean {
    const ended = this.store.expireMoveRequests(answerWithinMs);
    for (const r of ended) {
      auditBus.publish({ type: 'camera-move', actor: this.actor, alertId: r.alert.id, details: { event: 'request-unanswered', requestedBy: r.moveNotMade?.operator ?? null, waitedS: Math.round(answerWithinMs / 1000) } });
    }
    if (!ended.length) return false;
    this.versionNo++;
    return true;
  }

  /** The state's version now (see ConsoleState.version). */
  get version(): number {
    return this.versionNo;
  }

  prune(): boolean {
    const gone = this.store.prune();
    if (gone.length) this.versionNo++;
    return gone.length > 0;
  }

  /** What clients show: the queue (unhandled first, so capping drops only old handled alerts). */
  state(): ConsoleState {
    const alerts = this.store.queue().slice(0, this.maxShown).map((r): ShownRecord => {
      const t = alertTime(r);
      return { ...r, timeSec: t.timeMs / 1000, ...(t.sensorClock ? { sensorClock: t.sensorClock } : {}) };
    });
    const dropped = this.store.droppedNotice();
    return { alerts, counts: this.store.counts(), site: this.site(), serverTimeMs: Date.now(), version: this.versionNo, ...(dropped ? { dropped } : {}) };
  }
}

/** How many dropped alerts a warning names one by one; the audit log has them all. */
const DROPPED_NAMED_MAX = 5;

/** Dropped alerts, each named by id, label, time and whether it was opened (the first few; then a count). */
function namedAlerts(records: AlertRecord[]): string {
  const named = records.slice(0, DROPPED_NAMED_MAX).map((r) => {
    const t = alertTime(r);
    const at = `${new Date(t.timeMs).toISOString()}${t.sensorClock ? ` (received; the sensor's clock is ${t.sensorClock})` : ''}`;
    return `${r.alert.id} (${r.alert.label} at ${at}, ${r.state === 'new' ? 'never opened' : 'opened, not decided'})`;
  });
  const more = records.length - named.length;
  return `${named.join(', ')}${more > 0 ? ` and ${more} more` : ''}`;
}

/**
 * The warning for unhandled alerts the cap dropped: each named by id, label and time, what to
 * do about it, and where the full list is.
 */
export function droppedAlertsWarning(records: AlertRecord[], maxAlerts: number): string {
  return (
    `at most ${maxAlerts} alerts (maxAlerts), all unhandled: dropped unhandled alert${records.length === 1 ? '' : 's'} ${namedAlerts(records)} (the lowest priority first, then the oldest); ` +
    'decide on alerts or raise maxAlerts. Each dropped alert is in the audit log (system entry "alert-dropped")'
  );
}

/** The warning for unhandled alerts that retention dropped, named as above. */
export function expiredAlertsWarning(records: AlertRecord[], retentionMs: number): string {
  const days = Math.round((retentionMs / 86_400_000) * 100) / 100;
  return (
    `unhandled alert${records.length === 1 ? '' : 's'} ${namedAlerts(records)} dropped with no decision, ${days} day${days === 1 ? '' : 's'} after ${records.length === 1 ? 'its' : 'their'} last update (Keep for); ` +
    'each is in the audit log (system entry "alert-dropped")'
  );
}

/** What the audit log keeps of a raised alert: contract fields, short. */
export function alertAuditDetails(a: Alert): Record<string, unknown> {
  return {
    label: a.label,
    sensor: a.sensor,
    confidence: a.confidence,
    onset: a.onset,
    level: a.level,
    ...(a.location ? { location: locationAuditDetails(a.location) } : {}),
    // Who heard what, and when: the sensors of a fused incident may have called it otherwise.
    ...(a.incident ? { reports: reportsAuditDetails(a.incident) } : {}),
    ...(a.camera ? { camera: a.camera.id, cameraState: a.camera.state } : {}),
    ...(a.video?.snapshot ? { snapshot: a.video.snapshot } : {}),
  };
}

/** An alert's place as the audit log keeps it: with its uncertainty (errorM, bearingStd) and the sensors it rests on. */
function locationAuditDetails(l: NonNullable<Alert['location']>): Record<string, unknown> {
  return { method: l.method, bearing: l.bearing, bearingStd: l.bearingStd, position: l.position, sensors: l.sensors, reason: l.reason };
}

function reportsAuditDetails(incident: NonNullable<Alert['incident']>): Array<Record<string, unknown>> {
  return incident.reports.map((r) => ({ sensor: r.sensor, label: r.label, onset: r.onset, ...(r.bearing !== undefined ? { bearing: r.bearing } : {}) }));
}

/** What an `alert-update` entry compares between two copies of an alert: its place, its label and the sensors' reports. */
const UPDATE_FIELDS = {
  label: (a: Alert) => a.label,
  confidence: (a: Alert) => a.confidence,
  sensor: (a: Alert) => a.sensor,
  location: (a: Alert) => (a.location ? locationAuditDetails(a.location) : undefined),
  reports: (a: Alert) => (a.incident ? reportsAuditDetails(a.incident) : undefined),
} as const;

/**
 * What an alert's new copy changed of what the log keeps of it (label, confidence, lead sensor,
 * location with its uncertainty, the sensors' reports): `changed` names those fields, `before`
 * and `after` hold their values. Undefined when it changed none of them (a resend, a copy with
 * only its camera or video new).
 */
export function alertUpdateDetails(before: Alert, after: Alert): Record<string, unknown> | undefined {
  const changed: string[] = [];
  const was: Record<string, unknown> = {};
  const now: Record<string, unknown> = {};
  for (const [field, of] of Object.entries(UPDATE_FIELDS)) {
    const x = of(before);
    const y = of(after);
    if (JSON.stringify(x) === JSON.stringify(y)) continue;
    changed.push(field);
    was[field] = x ?? null;
    now[field] = y ?? null;
  }
  if (!changed.length) return undefined;
  return { label: after.label, changed, before: was, after: now };
}

/**
 * A refusal of an operator's move request, as a ptz-steer of this Node-RED audits it
 * (lib/camera/steer.ts, "request-refused" with its reason); undefined for any other event.
 */
export function moveRefusalOf(ev: AuditEvent): { alertId: string; reason: string } | undefined {
  if (ev.type !== 'camera-move' || ev.details?.event !== 'request-refused' || typeof ev.alertId !== 'string') return undefined;
  const reason = typeof ev.details.reason === 'string' && ev.details.reason ? ev.details.reason : 'refused';
  return { alertId: ev.alertId, reason };
}
