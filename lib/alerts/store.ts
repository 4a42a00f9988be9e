/**
 * Alert state for the operators' console: alerts upserted by id (they come back as
 * ptz-steer and video-forward enrich them), their handling state, the decisions taken,
 * the queue order (unhandled first, newest first), retention, and persistence across
 * Node-RED restarts in a JSON file written atomically.
 *
 * Knows nothing of Node-RED. Holds only the alert contract's fields (validateDetection: no
 * audio, ever), shortened for the console.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { Alert, Decision } from '../contracts';
import { DroppedFieldWarnings, leaveOutBrokenParts, validateDecision, validateDetection } from '../contracts';
import { ContractError } from '../util/validate';
import { setFileAside, writeFileAtomic } from '../util/atomic-file';
import { priorityOf } from '../camera/choose';
import { shortenAlert } from './sanitize';
import { CAMERA_LEFT_STATES } from './camera-states';
import { PENDING_CAMERA_END, PENDING_CAMERA_WORDS } from './pending-words';
import { isPlausibleWallTime, judgeSensorTime, monotonicMs, SensorTime } from '../util/clock';
import { makeDirectory } from '../util/disk-fault';

export type AlertState = 'new' | 'seen' | 'confirmed' | 'dismissed' | 'escalated';
export const DECISION_STATE: Record<Decision['action'], AlertState> = { confirm: 'confirmed', dismiss: 'dismissed', escalate: 'escalated' };

export interface AlertRecord {
  alert: Alert;
  state: AlertState;
  /**
   * Epoch ms of the first and latest arrival of this alert id (the latest update: an arrival, a
   * decision, a move request), as the wall clock read then. Retention does not trust it for an
   * alert this process holds (see AlertStore.ageMs).
   */
  receivedMs: number;
  updatedMs: number;
  /** Operators who opened it. */
  seenBy: string[];
  decisions: Decision[];
  /** Camera move requested by an operator (ptz-steer "operator confirms first"). */
  moveRequest?: { operator: string; time: number };
  /**
   * The last move request, when it ended with no camera answer: ptz-steer refused it (`reason`,
   * its words), or nothing answered it in time (a ptz-steer not wired to the console, one of an
   * older flow that ignores it, another Node-RED down). Until the camera's next state, or a new request.
   */
  moveNotMade?: MoveNotMade;
}

/** A move request that no camera state answered: refused by ptz-steer, or no answer within the bound. */
export interface MoveNotMade {
  /** Who asked, and when (epoch seconds): the request's own. */
  operator: string;
  time: number;
  why: 'refused' | 'no-answer';
  /** ptz-steer's words for a refusal. */
  reason?: string;
}

/**
 * When the alert's sound was, to order and show it by: its onset as the sensor stamped it, or
 * the first arrival here when that sensor's clock cannot have been right (judgeSensorTime: a
 * gateway still in 1970, or hours ahead, would put its alert at the bottom or pinned on top).
 */
export function alertTime(r: AlertRecord): SensorTime {
  return judgeSensorTime(r.alert.onset * 1000, r.receivedMs);
}

export interface AlertStoreOptions {
  /**
   * Alerts older than this (by last update) are dropped. Default 7 days. An alert updated in
   * this process is as old as the monotonic clock says it has been held since, whatever the
   * wall clock did meanwhile (an NTP step); one loaded from the file, as its saved time says.
   */
  retentionMs?: number;
  /**
   * Hard cap on the number of alerts kept. Past it, the oldest handled alerts go first, and an
   * unhandled one only when nothing else is left: the lowest priority first (ptz-steer's order,
   * lib/camera/choose.ts), then the oldest arrival; the unhandled ones it drops are returned
   * (UpsertResult, LoadResult) to be told, and counted until an operator acknowledges them
   * (droppedNotice). Default 500.
   */
  maxAlerts?: number;
  /** JSON file for persistence; none when undefined. */
  file?: string;
  /** Wall clock, epoch ms (tests). */
  now?: () => number;
  /** Monotonic clock, ms (tests): how long alerts have really been held. performance.now() by default. */
  monotonicNow?: () => number;
  /** Hears of fields dropped from incoming alerts (each field named once); none when undefined. */
  warnDropped?: (text: string) => void;
}

export interface UpsertResult {
  record: AlertRecord;
  isNew: boolean;
  /** Fields that changed on an update: 'location', 'camera', 'video', 'detection'. */
  changed: string[];
  /** On an update: the alert as it was before this copy (the console audits what the copy changed). */
  previous?: Alert;
  /** Unhandled alerts the cap (maxAlerts) dropped to keep this one: to be told, they never reached a decision. */
  droppedUnhandled: AlertRecord[];
  /**
   * A later copy of an alert the cap dropped (its camera, its video): not taken back in, since
   * it would come back as a new alert and push out another; `record` is the alert as dropped.
   */
  alreadyDropped?: boolean;
}

/** One unhandled alert the cap dropped, as the console names it to operators. */
export interface DroppedAlert {
  id: string;
  label: string;
  /** Detection onset, epoch seconds. */
  onset: number;
  /** Whether an operator had opened it. */
  state: AlertState;
  /** Epoch ms. */
  droppedMs: number;
}

/**
 * The unhandled alerts the cap dropped that no operator has acknowledged yet: how many, and the
 * last few by name (the audit log has each).
 */
export interface DroppedNotice {
  count: number;
  /** The cap they were dropped to keep. */
  maxAlerts: number;
  /**
   * How many unhandled alerts the cap has dropped in all: an acknowledgement sends it back, so
   * that alerts dropped after the operator read the notice are not acknowledged with it.
   */
  upTo: number;
  /** The last DROPPED_NAMED ones, newest first. */
  recent: DroppedAlert[];
}

/** How many dropped alerts the notice names one by one. */
export const DROPPED_NAMED = 5;

export interface LoadResult {
  /** Alerts restored (within retention and the cap). */
  restored: number;
  /** Unhandled alerts of the file that the cap (maxAlerts, lowered since) dropped. */
  droppedUnhandled: AlertRecord[];
  /**
   * Alerts and decisions of the file that did not validate and were left out; the file as it
   * was is copied aside first (`copy`; undefined when the copy failed), since the next save
   * no longer holds them.
   */
  leftOut?: { alerts: number; decisions: number; firstReason: string; copy: string | undefined; copyError?: string };
}

/**
 * The store's file could not be used (unreadable, not JSON, another version of the format):
 * it is set aside, not loaded, so the next save does not overwrite what it holds.
 */
export class UnreadableStoreError extends Error {
  readonly file: string;
  /** Where the file was moved; undefined when it could not be moved (the store then saves nothing over it). */
  readonly setAsideAs: string | undefined;
  /** Why it could not be moved. */
  readonly setAsideError: string | undefined;

  constructor(file: string, problem: string, setAsideAs: string | undefined, setAsideError: string | undefined) {
    super(
      setAsideAs
        ? `${path.basename(file)}: ${problem}; set aside as ${path.basename(setAsideAs)}, as it was`
        : `${path.basename(file)}: ${problem}; it could not be set aside either (${setAsideError}): alerts are not saved over it until it is moved away`,
    );
    this.name = 'UnreadableStoreError';
    this.file = file;
    this.setAsideAs = setAsideAs;
    this.setAsideError = setAsideError;
  }
}

const UNHANDLED: ReadonlySet<AlertState> = new Set(['new', 'seen']);
const PERSIST_VERSION = 1;
/**
 * Saved times within this of what the monotonic clock says are written as they were: a clock
 * slewed by NTP moves a few milliseconds, a stepped one far more.
 */
const SAVED_TIME_SLACK_MS = 1000;

/** Where a record's age is measured from. */
interface HeldSince {
  /** Monotonic ms at which the record's age was 0 (its last update here; for a loaded one, its age at load counted back). */
  monoMs: number;
  /** Loaded from the file and not updated since: its saved time may also tell its age (the wall-clock rule). */
  fromFile: boolean;
}

export function isUnhandled(state: AlertState): boolean {
  return UNHANDLED.has(state);
}

/**
 * A decision made on a stale view: the alert had another decision (or several) since the
 * operator's screen showed it. Nothing was recorded; `latest` is what happened meanwhile.
 */
export class StaleDecisionError extends Error {
  readonly alertId: string;
  /** How many decisions the alert has now: the revision to send for a decision made knowingly. */
  readonly revision: number;
  /** How many the operator's screen showed. */
  readonly seen: number;
  readonly state: AlertState;
  readonly latest: Decision | undefined;

  constructor(record: AlertRecord, seen: number) {
    const latest = record.decisions[record.decisions.length - 1];
    const meanwhile = latest
      ? `${latest.operator} ${DECISION_STATE[latest.action]} it at ${new Date(latest.time * 1000).toISOString()}`
      : `it has ${record.decisions.length} decisions, the view had ${seen}`;
    super(`alert ${record.alert.id} was decided meanwhile (${meanwhile}): the decision, made on the view before, is not recorded; look again and decide anew`);
    this.name = 'StaleDecisionError';
    this.alertId = record.alert.id;
    this.revision = record.decisions.length;
    this.seen = seen;
    this.state = record.state;
    this.latest = latest;
  }
}

export class AlertStore {
  private readonly records = new Map<string, AlertRecord>();
  readonly retentionMs: number;
  /** Unhandled alerts retention dropped, until takeExpiredUnhandled() hands them out to be told. */
  private expiredUnhandled: AlertRecord[] = [];
  readonly maxAlerts: number;
  private readonly now: () => number;
  private readonly monotonicNow: () => number;
  private readonly heldSince = new WeakMap<AlertRecord, HeldSince>();
  /** When each pending move request was made, on the monotonic clock (see expireMoveRequests). */
  private readonly moveAskedMonoMs = new WeakMap<AlertRecord, number>();
  readonly file: string | undefined;
  /** Why a file could not be read, when it could not be set aside either: no save goes over it while it is there. */
  private unreadableKept: string | undefined;
  private readonly droppedFields: DroppedFieldWarnings | undefined;
  /** Unhandled alerts the cap has dropped in all, and how many of them operators acknowledged. */
  private droppedTotal = 0;
  private droppedAcknowledged = 0;
  private droppedRecent: Array<DroppedAlert & { seq: number }> = [];
  /** Ids the cap dropped lately (bounded), so their later copies do not come back (UpsertResult.alreadyDropped). */
  private readonly droppedIds = new Map<string, AlertRecord>();

  constructor(opts: AlertStoreOptions = {}) {
    this.retentionMs = opts.retentionMs ?? 7 * 86_400_000;
    this.maxAlerts = Math.max(1, opts.maxAlerts ?? 500);
    this.now = opts.now ?? (() => Date.now());
    this.monotonicNow = opts.monotonicNow ?? monotonicMs;
    this.file = opts.file;
    this.droppedFields = opts.warnDropped ? new DroppedFieldWarnings(opts.warnDropped) : undefined;
  }

  get size(): number {
    return this.records.size;
  }

  get(id: string): AlertRecord | undefined {
    return this.records.get(id);
  }

  /** Validates the detection part, keeps only contract fields (shortened), merges with what is known. */
  upsert(payload: unknown): UpsertResult {
    const alert = shortenAlert(validateDetection(payload, this.droppedFields) as Alert);
    // Tidied (a NaN left out, a text cut), a later stage's part may still lack what the console
    // needs to show it (a camera without its pan, a video without its link): the alert is kept,
    // without that part, which the warning names (operators must not lose the alert for it).
    const leftOut = leaveOutBrokenParts(alert, payload);
    if (leftOut.length) this.droppedFields?.report(alert.id, leftOut);
    const now = this.now();
    const old = this.records.get(alert.id);
    if (!old) {
      const gone = this.droppedIds.get(alert.id);
      if (gone) return { record: gone, isNew: false, changed: [], droppedUnhandled: [], alreadyDropped: true };
      const record: AlertRecord = { alert, state: 'new', receivedMs: now, updatedMs: now, seenBy: [], decisions: [] };
      this.records.set(alert.id, record);
      this.touched(record);
      const droppedUnhandled = this.enforceLimits(alert.id);
      return { record, isNew: true, changed: [], droppedUnhandled };
    }
    const changed: string[] = [];
    for (const k of ['location', 'camera', 'video'] as const) {
      if (alert[k] !== undefined && JSON.stringify(alert[k]) !== JSON.stringify(old.alert[k])) changed.push(k);
    }
    const { location, camera, video, ...detection } = alert;
    const previous = old.alert;
    const { location: _l, camera: _c, video: _v, ...oldDetection } = previous;
    if (JSON.stringify(detection) !== JSON.stringify(oldDetection)) changed.push('detection');
    // Later stages add fields; an enriched alert never loses what an earlier copy carried.
    old.alert = { ...old.alert, ...detection, ...(location ? { location } : {}), ...(camera ? { camera } : {}), ...(video ? { video } : {}) };
    // A move request is answered by the camera's next state; a later proposal or wait may be
    // moved again. A refusal may repeat the state shown ("unavailable": no camera can look at
    // it now): it answers the request all the same, and the button comes back.
    if (changed.includes('camera') || (camera && CAMERA_LEFT_STATES.includes(camera.state))) {
      delete old.moveRequest;
      // A camera state after a request given up: what the camera says now is the news.
      if (changed.includes('camera')) delete old.moveNotMade;
    }
    old.updatedMs = now;
    this.touched(old);
    return { record: old, isNew: false, changed, droppedUnhandled: [], previous };
  }

  markSeen(alertId: string, operator: string): AlertRecord {
    const r = this.require(alertId);
    if (!r.seenBy.includes(operator)) r.seenBy.push(operator);
    if (r.state === 'new') r.state = 'seen';
    return r;
  }

  /**
   * Records a decision (validated as DESIGN §2) and moves the alert to its state. `revision`
   * is how many decisions the alert had on the operator's screen: when the alert has had
   * another since, the decision was made on a stale view and is refused with a
   * StaleDecisionError, which says what happened meanwhile. Without it (older senders) the
   * decision is recorded as it comes. The decision recorded carries the revision it was made on.
   */
  decide(input: { alertId: string; action: string; operator: string; note?: string; time?: number; revision?: unknown }): Decision {
    const note = typeof input.note === 'string' ? input.note.trim().slice(0, 1000) : undefined;
    const seen = input.revision;
    if (seen !== undefined && (typeof seen !== 'number' || !Number.isInteger(seen) || seen < 0)) {
      throw new ContractError('revision', 'a whole number >= 0: how many decisions the alert had when the operator decided', seen);
    }
    const r = this.records.get(input.alertId);
    const revision = r ? r.decisions.length : 0;
    const decision = validateDecision({
      kind: 'decision',
      alertId: input.alertId,
      action: input.action,
      operator: input.operator,
      time: input.time ?? this.now() / 1000,
      ...(note ? { note } : {}),
      revision,
    });
    if (!r) throw new ContractError('alertId', 'the id of an alert in the queue', input.alertId);
    if (seen !== undefined && seen !== revision) throw new StaleDecisionError(r, seen);
    r.decisions.push(decision);
    r.state = DECISION_STATE[decision.action];
    r.updatedMs = this.now();
    this.touched(r);
    return decision;
  }

  recordMoveRequest(alertId: string, operator: string): AlertRecord {
    const r = this.require(alertId);
    r.moveRequest = { operator, time: this.now() / 1000 };
    delete r.moveNotMade;
    this.moveAskedMonoMs.set(r, this.monotonicNow());
    r.updatedMs = this.now();
    this.touched(r);
    return r;
  }

  /**
   * ptz-steer refused the alert's move request (`reason`, its words): the request ends, and the
   * console says why. False when no request of that alert is pending (already answered, or
   * another console's request answered since).
   */
  refuseMoveRequest(alertId: string, reason: string): boolean {
    const r = this.records.get(alertId);
    if (!r?.moveRequest) return false;
    this.endMoveRequest(r, { why: 'refused', reason: reason.slice(0, 300) });
    return true;
  }

  /**
   * The move requests no camera state answered within `answerWithinMs` (on the monotonic clock):
   * each ends "no-answer". Returns the alerts whose request ended.
   */
  expireMoveRequests(answerWithinMs: number): AlertRecord[] {
    const now = this.monotonicNow();
    const ended: AlertRecord[] = [];
    for (const r of this.records.values()) {
      if (!r.moveRequest) continue;
      const askedMs = this.moveAskedMonoMs.get(r);
      if (askedMs !== undefined && now - askedMs < answerWithinMs) continue;
      this.endMoveRequest(r, { why: 'no-answer' });
      ended.push(r);
    }
    return ended;
  }

  private endMoveRequest(r: AlertRecord, end: Pick<MoveNotMade, 'why' | 'reason'>): void {
    const asked = r.moveRequest!;
    delete r.moveRequest;
    this.moveAskedMonoMs.delete(r);
    r.moveNotMade = { operator: asked.operator, time: asked.time, ...end };
    r.updatedMs = this.now();
    this.touched(r);
  }

  /** Updated now: its age starts again from 0, on the monotonic clock. */
  private touched(r: AlertRecord): void {
    this.heldSince.set(r, { monoMs: this.monotonicNow(), fromFile: false });
  }

  /**
   * How old a record is, for retention and the cap: for one updated in this process, how long
   * it has really been held since (monotonic), never what the wall clock says (a clock that
   * read 1970 at the update and was stepped by NTP since would make it decades old). For one
   * loaded from the file and not updated since, the older of its age by its saved time (the
   * wall-clock rule, when the clock and that time are plausible) and its age at load plus the
   * time held since: a time in the future (a clock stepped back) does not keep it forever.
   */
  ageMs(r: AlertRecord): number {
    const since = this.heldSince.get(r);
    const heldMs = since ? this.monotonicNow() - since.monoMs : 0;
    if (since && !since.fromFile) return heldMs;
    const now = this.now();
    const byWallMs = isPlausibleWallTime(now) && isPlausibleWallTime(r.updatedMs) ? now - r.updatedMs : -Infinity;
    return Math.max(heldMs, byWallMs);
  }

  /**
   * Unhandled first (new before seen), then newest first by the time of the sound (alertTime: its
   * onset, or its arrival when the sensor's clock cannot have been right).
   */
  queue(): AlertRecord[] {
    // Each record's time judged once, not at every comparison of the sort.
    const timeOf = new Map([...this.records.values()].map((r) => [r, alertTime(r).timeMs]));
    return [...this.records.values()].sort((a, b) => {
      const ua = isUnhandled(a.state) ? 0 : 1;
      const ub = isUnhandled(b.state) ? 0 : 1;
      if (ua !== ub) return ua - ub;
      const ta = timeOf.get(a)!;
      const tb = timeOf.get(b)!;
      if (tb !== ta) return tb - ta;
      // Alerts that arrived together (a batch an outbox replays) by their own clock.
      if (b.alert.onset !== a.alert.onset) return b.alert.onset - a.alert.onset;
      return b.receivedMs - a.receivedMs;
    });
  }

  counts(): Record<AlertState, number> {
    const c: Record<AlertState, number> = { new: 0, seen: 0, confirmed: 0, dismissed: 0, escalated: 0 };
    for (const r of this.records.values()) c[r.state]++;
    return c;
  }

  /**
   * Drops alerts past retention; returns their ids. The unhandled ones among them (no decision
   * was ever taken) are also kept for takeExpiredUnhandled(), to be told.
   */
  prune(): string[] {
    const gone: string[] = [];
    for (const [id, r] of this.records) {
      if (this.ageMs(r) > this.retentionMs) {
        this.records.delete(id);
        gone.push(id);
        if (isUnhandled(r.state)) this.expiredUnhandled.push(r);
      }
    }
    return gone;
  }

  /** The unhandled alerts retention dropped since the last call (at a load, an arrival or a prune). */
  takeExpiredUnhandled(): AlertRecord[] {
    const out = this.expiredUnhandled;
    this.expiredUnhandled = [];
    return out;
  }

  /**
   * Keeps at most maxAlerts. Handled alerts leave first, oldest decision first; unhandled ones only
   * when nothing else is left: the lowest priority first (ptz-steer's, priorityOf: a night of
   * fireworks does not push out a scream before the fireworks' own tire skids), then the oldest
   * arrival (an enrichment does not make an alert newer; opened or not makes no difference: the
   * alert an operator has open is often the newest, or was opened by the console itself). The
   * alert arriving (`arriving`) is the last of its priority to go: below every alert kept, it is
   * the one dropped. Returns the unhandled alerts dropped, which are also counted for the notice
   * (droppedNotice).
   */
  private enforceLimits(arriving?: string): AlertRecord[] {
    this.prune();
    if (this.records.size <= this.maxAlerts) return [];
    const age = new Map([...this.records.values()].map((r) => [r, this.ageMs(r)]));
    const rank = (r: AlertRecord) => priorityOf(r.alert.label, r.alert.priority);
    // The alert arriving is the newest: among alerts of its priority it stays; below them all, it goes first.
    const order = [...this.records.values()]
      .sort((a, b) => {
        const ua = isUnhandled(a.state) ? 1 : 0;
        const ub = isUnhandled(b.state) ? 1 : 0;
        if (ua !== ub) return ua - ub;
        if (!ua) return age.get(b)! - age.get(a)!;
        return rank(a) - rank(b) || Number(a.alert.id === arriving) - Number(b.alert.id === arriving) || a.receivedMs - b.receivedMs;
      });
    const dropped = order.slice(0, this.records.size - this.maxAlerts);
    for (const r of dropped) this.records.delete(r.alert.id);
    const unhandled = dropped.filter((r) => isUnhandled(r.state));
    this.countDropped(unhandled);
    return unhandled;
  }

  private countDropped(records: AlertRecord[]): void {
    const now = this.now();
    for (const r of records) {
      this.droppedTotal++;
      this.droppedRecent.unshift({ id: r.alert.id, label: r.alert.label, onset: r.alert.onset, state: r.state, droppedMs: now, seq: this.droppedTotal });
      this.droppedIds.set(r.alert.id, r);
    }
    this.droppedRecent.length = Math.min(this.droppedRecent.length, DROPPED_NAMED);
    // as many ids as the queue holds alerts: a copy comes seconds after its alert, not a queue later
    for (const id of this.droppedIds.keys()) {
      if (this.droppedIds.size <= this.maxAlerts) break;
      this.droppedIds.delete(id);
    }
  }

  /** The unhandled alerts the cap dropped that no operator has acknowledged; undefined when none. */
  droppedNotice(): DroppedNotice | undefined {
    const count = this.droppedTotal - this.droppedAcknowledged;
    if (count <= 0) return undefined;
    return {
      count,
      maxAlerts: this.maxAlerts,
      upTo: this.droppedTotal,
      recent: this.droppedRecent.filter((d) => d.seq > this.droppedAcknowledged).map(({ seq: _seq, ...d }) => d),
    };
  }

  /**
   * An operator acknowledged the notice as it read `upTo` (DroppedNotice.upTo): those dropped
   * since stay in it. Returns how many it acknowledged (0: nothing new, an older or repeated
   * acknowledgement).
   */
  acknowledgeDropped(upTo: number): number {
    const to = Math.min(Math.floor(upTo), this.droppedTotal);
    const n = to - this.droppedAcknowledged;
    if (n <= 0) return 0;
    this.droppedAcknowledged = to;
    return n;
  }

  private require(alertId: string): AlertRecord {
    const r = this.records.get(alertId);
    if (!r) throw new ContractError('alertId', 'the id of an alert in the queue', alertId);
    return r;
  }

  /**
   * What save() writes. Each alert's `updatedMs` is the time of its last update as the clock
   * reads now: the save time minus its age (ageMs), when that differs from the time stamped
   * (the clock stepped since, or read 1970 then), so that the next run, judging saved alerts by
   * their saved time, finds them as old as they really are. While the clock reads no plausible
   * time, the times are written as stamped (the next run does not judge those by the clock).
   * The drop notice outlives a restart until an operator acknowledges it (older versions ignore it).
   */
  toJSON(): { version: number; savedMs: number; alerts: AlertRecord[]; dropped: { total: number; acknowledged: number; recent: Array<DroppedAlert & { seq: number }> } } {
    const now = this.now();
    const alerts = [...this.records.values()].map((r) => {
      if (!isPlausibleWallTime(now)) return r;
      const updatedMs = Math.round(now - this.ageMs(r));
      return Math.abs(updatedMs - r.updatedMs) > SAVED_TIME_SLACK_MS ? { ...r, updatedMs } : r;
    });
    return {
      version: PERSIST_VERSION,
      savedMs: now,
      alerts,
      dropped: { total: this.droppedTotal, acknowledged: this.droppedAcknowledged, recent: this.droppedRecent },
    };
  }

  /**
   * Writes the store atomically (temp file in the same directory, then rename). Refuses while a
   * file that could not be read nor set aside is still there (see load()).
   */
  save(): void {
    if (!this.file) return;
    if (this.unreadableKept) {
      if (fs.existsSync(this.file)) throw new Error(`${path.basename(this.file)} could not be read nor set aside (${this.unreadableKept}): not saved over it; move it away and alerts are saved again`);
      this.unreadableKept = undefined;
    }
    makeDirectory(path.dirname(this.file));
    writeFileAtomic(this.file, JSON.stringify(this.toJSON()));
  }

  /**
   * Loads what a previous run saved, within retention and the cap. A file that cannot be used
   * (unreadable, not JSON, another version of the format, as after an upgrade or a downgrade)
   * is set aside (`<file>.<why>-<time>`) and an UnreadableStoreError thrown: the store starts
   * empty, and what the file holds is kept for whoever looks at it.
   */
  /**
   * `sameRun`: the console was restarted by a deploy, Node-RED still running. ptz-steer kept its
   * waits, proposals, moves and holds (or handed them to its new instance, or, removed, ends
   * them itself), so the cameras' states saved are still true and are restored as they were.
   * Otherwise (Node-RED started) they are forgotten (see forgetPendingMove).
   */
  load(opts: { sameRun?: boolean } = {}): LoadResult {
    if (!this.file) return { restored: 0, droppedUnhandled: [] };
    const file = this.file;
    let data: { version?: unknown; alerts?: unknown; dropped?: unknown };
    try {
      data = JSON.parse(fs.readFileSync(file, 'utf8'));
      if (!data || typeof data !== 'object') throw new Error('not an alert store file');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { restored: 0, droppedUnhandled: [] };
      this.setAside(file, err instanceof SyntaxError || !(err as NodeJS.ErrnoException).code ? 'corrupt' : 'unreadable', `could not read the alerts saved before (${(err as Error).message})`);
    }
    if (data.version !== PERSIST_VERSION) {
      const v = typeof data.version === 'number' && Number.isInteger(data.version) ? data.version : undefined;
      this.setAside(file, v !== undefined ? `version-${v}` : 'corrupt', v !== undefined ? `written in version ${v} of the alert store format, this Vigie reads version ${PERSIST_VERSION}` : `not an alert store file of version ${PERSIST_VERSION}`);
    }
    if (!Array.isArray(data.alerts)) this.setAside(file, 'corrupt', `not an alert store file of version ${PERSIST_VERSION} (no list of alerts)`);
    let n = 0;
    let leftOutAlerts = 0;
    let leftOutDecisions = 0;
    let firstReason = '';
    for (const raw of data.alerts as AlertRecord[]) {
      try {
        const restored = shortenAlert(validateDetection(raw.alert) as Alert);
        const alert = opts.sameRun ? restored : forgetPendingMove(restored);
        const state: AlertState = (['new', 'seen', 'confirmed', 'dismissed', 'escalated'] as const).includes(raw.state) ? raw.state : 'new';
        const decisions = Array.isArray(raw.decisions)
          ? raw.decisions.flatMap((d) => {
              try {
                return [validateDecision(d)];
              } catch (err) {
                leftOutDecisions++;
                firstReason ||= `a decision of alert ${alert.id}: ${(err as Error).message}`;
                return [];
              }
            })
          : [];
        const record: AlertRecord = {
          alert,
          state,
          receivedMs: Number(raw.receivedMs) || this.now(),
          updatedMs: Number(raw.updatedMs) || this.now(),
          seenBy: Array.isArray(raw.seenBy) ? raw.seenBy.filter((s) => typeof s === 'string') : [],
          decisions,
          // No moveRequest: ptz-steer keeps no request across a restart, so none would be answered.
        };
        this.records.set(alert.id, record);
        this.heldSince.set(record, { monoMs: this.monotonicNow() - this.ageAtLoadMs(record.updatedMs), fromFile: true });
        n++;
      } catch (err) {
        // A record that does not validate is left out; the file as it was is copied aside below.
        leftOutAlerts++;
        firstReason ||= `an alert: ${(err as Error).message}`;
      }
    }
    let leftOut: LoadResult['leftOut'];
    if (leftOutAlerts || leftOutDecisions) {
      leftOut = { alerts: leftOutAlerts, decisions: leftOutDecisions, firstReason, copy: undefined };
      try {
        leftOut.copy = setFileAside(file, 'partly-restored', this.now(), 'copy');
      } catch (err) {
        leftOut.copyError = (err as Error).message;
      }
    }
    this.loadDropped(data.dropped);
    const before = this.records.size;
    const droppedUnhandled = this.enforceLimits();
    return { restored: n - (before - this.records.size), droppedUnhandled, ...(leftOut ? { leftOut } : {}) };
  }

  /**
   * A loaded alert's age by its saved time: 0 for a time in the future (a clock stepped back
   * since; it then ages from the load) and for a time or a clock that is not plausible (a
   * clock not set yet, now or then: nothing tells its age).
   */
  private ageAtLoadMs(updatedMs: number): number {
    const now = this.now();
    return isPlausibleWallTime(now) && isPlausibleWallTime(updatedMs) ? Math.max(0, now - updatedMs) : 0;
  }

  /** The drop notice saved (toJSON): taken when it reads as one, else none (a file of before it). */
  private loadDropped(saved: unknown): void {
    if (!saved || typeof saved !== 'object') return;
    const d = saved as { total?: unknown; acknowledged?: unknown; recent?: unknown };
    const whole = (x: unknown) => typeof x === 'number' && Number.isInteger(x) && x >= 0;
    if (!whole(d.total) || !whole(d.acknowledged) || (d.acknowledged as number) > (d.total as number)) return;
    this.droppedTotal = d.total as number;
    this.droppedAcknowledged = d.acknowledged as number;
    const states: AlertState[] = ['new', 'seen', 'confirmed', 'dismissed', 'escalated'];
    this.droppedRecent = (Array.isArray(d.recent) ? d.recent : [])
      .filter((x): x is DroppedAlert & { seq: number } => !!x && typeof x.id === 'string' && typeof x.label === 'string' && typeof x.onset === 'number' && states.includes(x.state) && typeof x.droppedMs === 'number' && whole(x.seq))
      .map((x) => ({ id: x.id.slice(0, 200), label: x.label.slice(0, 40), onset: x.onset, state: x.state, droppedMs: x.droppedMs, seq: x.seq }))
      .slice(0, DROPPED_NAMED);
  }

  /** Moves an unusable store file out of the way of the next save and throws UnreadableStoreError. */
  private setAside(file: string, why: string, problem: string): never {
    let aside: string | undefined;
    let asideError: string | undefined;
    try {
      aside = setFileAside(file, why, this.now());
    } catch (err) {
      asideError = (err as Error).message;
    }
    const e = new UnreadableStoreError(file, problem, aside, asideError);
    if (!aside) this.unreadableKept = problem;
    throw e;
  }
}

/**
 * An alert restored after a restart: ptz-steer does not remember proposals, waits or moves in
 * progress, so a camera still "proposed", "waiting" or "moving" would be a promise nobody keeps;
 * nor which alert a camera looks at, so one "on-target" or at a "preset" may have turned since,
 * and its live picture would not be of this place. Nor which alert holds a camera: no restored
 * alert keeps camera.heldFor, whatever its state.
 */
function forgetPendingMove(alert: Alert): Alert {
  if (!alert.camera) return alert;
  // The camera's holder is ptz-steer's memory, lost with the restart (a released or unavailable
  // alert keeps its reason, which tells what was, but not heldFor, which says what is).
  const { heldFor: _lost, ...cam } = alert.camera;
  const words = PENDING_CAMERA_WORDS[cam.state];
  if (words) return { ...alert, camera: { ...cam, state: PENDING_CAMERA_END[cam.state], reason: `Node-RED restarted: ${words}` } };
  if (cam.state === 'on-target' || cam.state === 'preset') {
    return { ...alert, camera: { ...cam, state: 'released', reason: `Node-RED restarted: camera ${cam.name || cam.id} looked here, and may have turned since` } };
  }
  return { ...alert, camera: cam };
}
