/**
 * ptz-steer's logic without Node-RED: takes located alerts, picks a camera, turns the target
 * into pan/tilt/zoom, moves (or proposes the move and waits for an operator), reports the
 * result as payload.camera (DESIGN §2), records every move for the audit log, and sends
 * cameras home after a quiet period.
 */
import { Alert, CameraState, CONTRACT_BOUNDS, DroppedFieldListener, DroppedFieldWarnings, isVoiceLabel, requireAlertLabel, screenAlert, validateDecision } from '../contracts';
import { ContractError, isObject, requireNumber, requireObject, requireString } from '../util/validate';
import { auditBus } from '../alerts/bus';
import { labelName } from '../alerts/label-words';
import { MAX_NUMBER_ARRAY, SAMPLE_KEYS } from '../alerts/sanitize';
import { PENDING_CAMERA_END, PENDING_CAMERA_WORDS } from '../alerts/pending-words';
import { Backoff } from '../util/backoff';
import { isPlausibleWallTime, judgeSensorTime, monotonicMs } from '../util/clock';
import { CameraConnection, CameraError, classifyError } from './connection';
import { cameraErrorWords } from './error-words';
import { AlertRank, Choice, Hold, TargetSpec, aimFor, chooseCamera, isHeldAgainst, priorityOf, recency } from './choose';
import { aimToCameraDegrees, cameraDegreesToWorld, degreesToSpace, spaceToDegrees, wrap180 } from './geometry';
import { MoveMethod, MoveResult, moveToTarget } from './mover';
import type { CameraConfig } from './types';

/**
 * The ptz-steer node's numeric settings (seconds, degrees, metres as its form shows them):
 * accepted range and default. A value outside is named in a warning and the default applies;
 * its editor form refuses the same values (test/unit/editor-validators.test.ts).
 */
export const PTZ_STEER_SETTINGS = {
  toleranceDeg: { min: 0.05, max: 20, default: 1 },
  moveTimeoutS: { min: 0.5, max: 300, default: 15 },
  returnHomeS: { min: 0, max: 86_400, default: 120 },
  waitForCameraS: { min: 0, max: 86_400, default: 300 },
  assumedDistanceM: { min: 1, max: 5000, default: 40 },
  frameWidthM: { min: 0.5, max: 500, default: 10 },
  lookAtLeastS: { min: 0, max: 600, default: 10 },
  maxAlertAgeS: { min: 0, max: 86_400, default: 600 },
} as const;

export interface SteerOptions {
  mode: 'automatic' | 'confirm';
  toleranceDeg: number;
  moveTimeoutMs: number;
  pollMs: number;
  /** Send the camera home this long after its last move; 0 = never. */
  returnHomeAfterMs: number;
  /** Distance assumed when only a bearing is known. */
  assumedDistanceM: number;
  /** Scene width to frame at the target. */
  frameWidthM: number;
  /** Also emit once when the move starts (state "moving"). */
  emitOnStart: boolean;
  /** How long a proposed move waits for a confirmation. */
  proposalTtlMs: number;
  /** Quick retries (0.5 s, 1 s, … back-off) when every candidate camera was unreachable, before the alert is sent "failed". */
  retries: number;
  /**
   * How long an alert may wait for a camera: one whose cameras are all held by more important
   * (or more recent) alerts waits for one to be free; one whose cameras did not answer (sent
   * "failed") is tried again when one answers. 0 = do not wait (output 2 says "no-camera" at
   * once for a busy camera; a failure is final).
   */
  waitForCameraMs: number;
  /** Who caused automatic moves, for the audit log ("auto:<node id>"). */
  actor: string;
  /**
   * A camera's minimum look at the alert it turns to: from the start of the move until it has
   * been on target this long, a more recent alert of equal priority does not take it (it waits,
   * and gets the camera afterwards if it still waits). A more important alert, or an operator's
   * explicit move, takes it all the same. 0 = no minimum: the more recent alert takes it at once.
   */
  minLookMs: number;
  /**
   * An alert waiting for a busy camera is sent again when what it says changes (the camera it
   * waits for, its reason), at most once per this many ms: changes coming faster are sent
   * together, the latest words, once this time has passed since its last copy.
   */
  waitingUpdateMinMs: number;
  /**
   * An alert that began longer ago than this (its onset, judged as the console judges it: see
   * lateByMs) turns no camera and is proposed to no one: it is sent on, its camera "unavailable"
   * with the reason. A camera turned to a place where something happened long ago shows a scene
   * that is over, and is taken from live work. 0 = no limit.
   */
  maxAlertAgeMs: number;
  /**
   * Clock for durations, ms (tests): camera holds, proposals' and waits' ages, retries. A
   * monotonic clock by default: a wall clock step (NTP) must not end a hold or a wait early
   * nor keep it for the size of the step. Also orders alerts by arrival (see rankOf); alerts'
   * own times (onsets) stay wall times.
   */
  now?: () => number;
  /** The wall clock, epoch ms (tests): what alerts' onsets are compared with (maxAlertAgeMs). Date.now by default. */
  wallNow?: () => number;
}

const DISMISSED_KEEP_MS = 3_600_000;
const DISMISSED_MAX = 500;
/**
 * A camera that alerts wait for and that does not answer is asked to connect at these growing
 * delays, in case its connection does not retry (or say so) by itself; its 'state' event,
 * when it connects, usually comes first.
 */
const PROBE_BACKOFF = { initialMs: 2000, maxMs: 30_000 } as const;
/** Alerts kept waiting for cameras that do not answer: beyond, the least urgent is no longer tried. */
const OFFLINE_WAITING_MAX = 100;
/** Alerts kept waiting for a busy camera: beyond, the least urgent ends as a wait that found no camera ends. */
const BUSY_WAITING_MAX = 100;
/** Alerts whose latest copy is remembered (see latestCopies): beyond, the oldest is forgotten. */
const LATEST_COPIES_MAX = 1000;

export const DEFAULT_STEER_OPTIONS: SteerOptions = {
  mode: 'automatic',
  toleranceDeg: 1,
  moveTimeoutMs: 15_000,
  pollMs: 150,
  returnHomeAfterMs: 120_000,
  assumedDistanceM: 40,
  frameWidthM: 10,
  emitOnStart: false,
  proposalTtlMs: 10 * 60_000,
  retries: 2,
  waitForCameraMs: 5 * 60_000,
  actor: 'auto:ptz-steer',
  minLookMs: 10_000,
  waitingUpdateMinMs: 5000,
  maxAlertAgeMs: 600_000,
};

export interface SteerError {
  code: string;
  message: string;
  cameraId?: string;
}

export interface SteerOutput {
  port: 1 | 2;
  payload: Alert;
  error?: SteerError;
}

export interface SteerHooks {
  /** A camera command was sent (AbsoluteMove or its fallback) — for the benchmark. */
  onCommandSent?: (alertId: string, cameraId: string, method: MoveMethod) => void;
  /** Something worth a line in the log (never samples). */
  log?: (text: string) => void;
  /** What the user should see: a camera that cannot go home, fields dropped from an incoming alert (named, never their values). */
  warn?: (text: string) => void;
  /** An alert began or stopped waiting for a busy camera (see waitingAlerts). */
  onWaitingChange?: () => void;
  /** Cameras the node was told to use that do not exist (deleted, or not imported with it): named when no camera can look. */
  missingCameras?: () => readonly string[];
  /** An alert older than maxAlertAgeMs came and was sent on without turning a camera; `ageMs`: how long ago it began. */
  onTooOld?: (alertId: string, ageMs: number) => void;
}

type Emit = (out: SteerOutput) => void;

/** An alert whose cameras were all held, waiting for one of them to be free. */
export interface Waiting {
  alert: Alert;
  target: TargetSpec;
  rank: AlertRank;
  actor: string;
  sinceMs: number;
  expiresMs: number;
  emit: (out: SteerOutput) => void;
  /** Set when a camera reached this alert and was then taken by another: it had its look. */
  looked?: { cameraId: string; words: string };
  /**
   * Set when it waits for its cameras to answer again (every camera it tried was out of
   * reach, and it was sent "failed"), not for a busy one: tried again, silently, when one of
   * them connects.
   */
  offline?: OfflineWait;
}

export interface OfflineWait {
  /** The cameras that could look at it (if free): one of them connecting wakes it. */
  cameraIds: string[];
  /** The cameras that did not answer its last try: tried again only once they connect again. */
  silentIds: string[];
}

/** The alert a camera reached last. */
export type Aimed = Omit<Waiting, 'sinceMs' | 'expiresMs' | 'looked' | 'offline'>;

export interface Proposal {
  alert: Alert;
  choice: Choice;
  ranked: Choice[];
  rank: AlertRank;
  expiresMs: number;
  /** The emit of the input that proposed it: a dismissal answers through it (see endProposal). */
  emit: (out: SteerOutput) => void;
}

/** An alert whose move is under way (see execute). */
export interface InFlight {
  alert: Alert;
  rank: AlertRank;
  actor: string;
  emit: Emit;
  /** An operator's explicit move, which takes held cameras too. */
  force: boolean;
  /** The cameras it may take (an operator's move may name one). */
  cameraIds: string[];
  /** The camera it is turning, once it is. */
  choice?: Choice;
  /** Set for the try of an alert sent "failed" that waits for its cameras to answer: handed over as that wait. */
  retrying?: Waiting;
}

/** The last copy sent on output 1 for an alert (see lastSent). */
export interface LastSent {
  atMs: number;
  alert: Alert;
  cameraKey: string;
  camera?: CameraState;
}

/**
 * What a ptz-steer had in progress when a deploy restarted it (see PtzSteer.handOver): the new
 * instance takes it (PtzSteer.resume). The emits are those of the inputs that brought each
 * alert; the new instance binds them to its own output.
 */
export interface SteerHandOver {
  /** Alerts whose camera was turning (or whose move was being retried): steered again. */
  moving: InFlight[];
  waiting: Waiting[];
  proposals: Proposal[];
  aimedAt: Array<[string, Aimed]>;
  holds: Array<[string, Hold]>;
  dismissed: Array<[string, number]>;
  latestCopies: Array<[string, { alert: Alert; arrivedMs: number }]>;
  lastSent: Array<[string, LastSent]>;
  /** When each camera's quiet period ends (or its next try to go home), and the alert its return home is recorded for. */
  homeDue: Array<[string, HomeDue]>;
}

/** When a camera goes home (on ptz-steer's clock), and the alert its return home is recorded for. */
export interface HomeDue {
  atMs: number;
  alertId: string;
}

/** Two hand-overs as one (a node closed again before it could resume the first); `a`'s entries are found first. */
export function joinHandOvers(a: SteerHandOver, b: SteerHandOver): SteerHandOver {
  return {
    moving: [...a.moving, ...b.moving],
    waiting: [...a.waiting, ...b.waiting],
    proposals: [...a.proposals, ...b.proposals],
    aimedAt: [...a.aimedAt, ...b.aimedAt],
    holds: [...a.holds, ...b.holds],
    dismissed: [...a.dismissed, ...b.dismissed],
    latestCopies: [...a.latestCopies, ...b.latestCopies],
    lastSent: [...a.lastSent, ...b.lastSent],
    homeDue: [...a.homeDue, ...b.homeDue],
  };
}

/** The reason an alert ends with when ptz-steer is removed or cannot keep its promise after a redeploy. */
const REMOVED = 'ptz-steer was removed';
const REDEPLOYED = 'ptz-steer was redeployed';
/** ... when it is older than STOP_RESUME_MAX_AGE_MS once the flows start again (the console's words after its prefix). */
const STOPPED = 'Node-RED stopped';
/** ... when it is resumed after a stop and cannot be served now. */
const RESTARTED = 'Node-RED restarted';

/**
 * An alert in progress when the flows stopped without a deploy is resumed when ptz-steer
 * starts again at most this long after the alert came to it: as waitForCameraS by default,
 * the longest an alert waits for a camera. An older one is sent as ending ("Node-RED
 * stopped: …"): a camera turned to it would show a scene long over.
 */
export const STOP_RESUME_MAX_AGE_MS = 5 * 60_000;

/**
 * An alert ptz-steer had in progress when the flows stopped without a deploy, as kept in a
 * file for its next start (see stopItemsOf, PtzSteer.resumeAfterStop). Only what resuming or
 * ending it needs: the alert (its contract fields, as ptz-steer sends it: no samples, DESIGN
 * §4), the topic and other plain properties of the message that brought it (keptMessageOf),
 * the camera shown, and durations (ptz-steer's monotonic clock does not survive a restart).
 */
export interface SteerStopItem {
  /** moving: its camera was turning (or it was being tried again); waiting: for a busy camera, or for its cameras to answer (offline); proposed: awaiting an operator's confirm. */
  state: 'moving' | 'waiting' | 'proposed';
  alert: Alert;
  topic?: string;
  /** The other properties of the message that brought it that are kept (see keptMessageOf). */
  message?: Record<string, unknown>;
  /** How long before the stop it came to ptz-steer, ms. */
  arrivedBeforeStopMs: number;
  actor: string;
  /** The camera it was shown with (turning, proposed, or its last copy's): its state when it ends. */
  camera?: CameraState;
  /** An operator's move (moving): the cameras it may take, held or not. */
  forceCameraIds?: string[];
  /** waiting: sent "failed" already, waiting for its cameras to answer. */
  offline?: boolean;
  /** proposed: how long it had left to be confirmed, ms. */
  proposalLeftMs?: number;
}

/**
 * A camera turned to an alert (or sent home and not there yet) when the flows stopped without a
 * deploy, as kept in the file for the next start (see stopLooksOf, PtzSteer.resumeAfterStop):
 * its quiet period goes on, and its hold too after a short stop. Its id, the alert it looks at
 * (contract fields, as ptz-steer sends it) and durations: no camera setting.
 */
export interface SteerStopLook {
  state: 'looking';
  cameraId: string;
  /** The alert it reached last: told "released" when the camera leaves it. */
  alert?: Alert;
  /** The topic of the message that brought `alert`. */
  topic?: string;
  /** The other properties of that message that are kept (see keptMessageOf). */
  message?: Record<string, unknown>;
  /** Who moved the camera to `alert`. */
  actor?: string;
  /** How long before the stop `alert` came to ptz-steer, ms. */
  arrivedBeforeStopMs?: number;
  /** The alert holding the camera (none once its hold ended, or it was dismissed), and how long its hold and look had left, ms. */
  hold?: { alertId: string; label?: string; priority: number; onsetMs: number; arrivedBeforeStopMs: number; leftMs: number; lookLeftMs?: number };
  /** When it would have gone home, ms after the stop (absent: not at all, Home after 0), and the alert its return home is recorded for. */
  home?: { inMs: number; alertId: string };
}

/** What a ptz-steer's stop file holds: alerts in progress, and cameras' looks. */
export type SteerStopEntry = SteerStopItem | SteerStopLook;

export function isStopLook(e: SteerStopEntry): e is SteerStopLook {
  return e.state === 'looking';
}

/** A topic kept with an alert: longer ones are cut (a topic is a name, not data). */
const STOP_TOPIC_MAX = 256;
/**
 * The other properties of an alert's message a stop's file keeps, as JSON, at most: a flow's
 * few properties (msg.site, msg.zone…), not data. The file holds 256 kB for every alert.
 */
export const STOP_MESSAGE_MAX_BYTES = 4096;
/** Nesting kept in a message property: deeper is no flow's plain property (and a cycle never ends). */
const STOP_MESSAGE_MAX_DEPTH = 8;
/**
 * A property a stop's file never keeps, whatever it holds (DESIGN §4): named like samples (the
 * names the audit log strips, guarantee 1), or named like a voice class (a score of speech,
 * guarantee 3).
 */
const neverKept = (name: string): boolean => SAMPLE_KEYS.test(name) || isVoiceLabel(name);

/** `v` when it is plain JSON (what JSON gives back unchanged) within the contract's bounds; undefined otherwise. */
function plainJson(v: unknown, depth: number): unknown {
  if (v === null || typeof v === 'boolean') return v;
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string') return v.length <= CONTRACT_BOUNDS.textChars ? v : undefined;
  if (depth >= STOP_MESSAGE_MAX_DEPTH || typeof v !== 'object') return undefined;
  if (Array.isArray(v)) {
    if (v.length > CONTRACT_BOUNDS.listItems) return undefined;
    // More numbers than a field holds look like signal (as the audit log judges them): not kept.
    if (v.filter((x) => typeof x === 'number').length > MAX_NUMBER_ARRAY) return undefined;
    const out: unknown[] = [];
    for (const x of v) {
      const kept = plainJson(x, depth + 1);
      if (kept === undefined) return undefined;
      out.push(kept);
    }
    return out;
  }
  // A Buffer, a Date, a socket (http in's msg.req, msg.res), a class's object: not plain JSON.
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return undefined;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    if (neverKept(k)) return undefined;
    const kept = plainJson(x, depth + 1);
    if (kept === undefined) return undefined;
    out[k] = kept;
  }
  return out;
}

/**
 * What a stop's file keeps of the message that brought an alert, so that the flow after
 * ptz-steer reads the same message after a restart: its topic (cut to 256 characters), and its
 * other properties that are plain JSON, each whole or not at all, STOP_MESSAGE_MAX_BYTES in
 * all (in the message's order; one that does not fit is left out, a smaller later one may
 * be kept). Left out: the payload (the alert is kept as ptz-steer sends it), Node-RED's own
 * properties (names starting "_": _msgid, _session… belong to the run that stopped), a
 * property named like samples (samples, data, audio, pcm, waveform, wav, buffer: privacy
 * guarantee 1; and raw, channelsdata, wave, as the audit log strips them), a property holding,
 * at any depth, a key named like a voice class (speech, voice…: guarantee 3) or a list of more
 * than 16 numbers (signal, not a field), and any that is not plain JSON (a Buffer, a Date, http in's req and res, an
 * undefined, NaN, text over 2000 characters, a list over 256 items, nesting over 8 levels).
 */
export function keptMessageOf(msg: unknown): { topic?: string; message?: Record<string, unknown> } {
  if (!isObject(msg)) return {};
  const out: { topic?: string; message?: Record<string, unknown> } = {};
  if (typeof msg.topic === 'string') out.topic = msg.topic.slice(0, STOP_TOPIC_MAX);
  const message: Record<string, unknown> = {};
  let bytes = 2;
  for (const [k, v] of Object.entries(msg)) {
    if (k === 'payload' || k === 'topic' || k.startsWith('_') || neverKept(k)) continue;
    const kept = plainJson(v, 0);
    if (kept === undefined) continue;
    const more = Buffer.byteLength(JSON.stringify({ [k]: kept })) - 1;
    if (bytes + more > STOP_MESSAGE_MAX_BYTES) continue;
    bytes += more;
    message[k] = kept;
  }
  if (Object.keys(message).length) out.message = message;
  return out;
}

/**
 * What each camera of `h` (a hand-over taken as the flows stopped) looks at, for the file of the
 * next start: the alert it reached last, the hold on it (unless the hold is an alert's being
 * steered again: that move takes a camera anew) and when it goes home. A camera with none of
 * these (turning for an alert, Home after 0) is left out. `nowMs`: ptz-steer's clock at the
 * stop. `messageOf`: the message an emit answers (what is kept of it: keptMessageOf).
 */
export function stopLooksOf(h: SteerHandOver, nowMs: number, messageOf: (emit: Emit) => unknown): SteerStopLook[] {
  const moving = new Set(h.moving.map((m) => m.alert.id));
  const since = (ms: number) => Math.max(0, Math.round(nowMs - ms));
  const looks = new Map<string, SteerStopLook>();
  const lookOf = (cameraId: string): SteerStopLook => {
    let look = looks.get(cameraId);
    if (!look) looks.set(cameraId, (look = { state: 'looking', cameraId }));
    return look;
  };
  // A hand-over joined with an older one may name a camera twice: the first is the newer.
  for (const [cameraId, a] of h.aimedAt) {
    const look = lookOf(cameraId);
    if (look.alert) continue;
    Object.assign(look, { alert: a.alert, ...keptMessageOf(messageOf(a.emit)), actor: a.actor, arrivedBeforeStopMs: since(a.rank.arrivedMs) });
  }
  for (const [cameraId, hold] of h.holds) {
    if (moving.has(hold.alertId) || looks.get(cameraId)?.hold || hold.untilMs <= nowMs) continue;
    const { alertId, label, priority, onsetMs } = hold;
    const lookLeftMs = hold.lookUntilMs !== undefined && hold.lookUntilMs > nowMs ? { lookLeftMs: Math.round(hold.lookUntilMs - nowMs) } : {};
    lookOf(cameraId).hold = { alertId, ...(label !== undefined ? { label } : {}), priority, onsetMs, arrivedBeforeStopMs: since(hold.arrivedMs), leftMs: Math.round(hold.untilMs - nowMs), ...lookLeftMs };
  }
  for (const [cameraId, due] of h.homeDue) {
    const look = lookOf(cameraId);
    look.home ??= { inMs: Math.max(0, Math.round(due.atMs - nowMs)), alertId: due.alertId };
  }
  return [...looks.values()];
}

/**
 * What `h` (a hand-over taken as the flows stopped) holds in progress, most urgent first (the
 * moves, the proposals, then the waits), for the file of the next start. `nowMs`: ptz-steer's
 * clock at the stop. `messageOf`: the message an emit answers (what is kept of it: keptMessageOf).
 */
export function stopItemsOf(h: SteerHandOver, nowMs: number, messageOf: (emit: Emit) => unknown): SteerStopItem[] {
  const kept = (e: Emit) => keptMessageOf(messageOf(e));
  const lastShown = new Map(h.lastSent.map(([id, sent]) => [id, sent.camera]));
  const since = (ms: number) => Math.max(0, Math.round(nowMs - ms));
  const items: SteerStopItem[] = [];
  const seen = new Set<string>();
  const add = (item: SteerStopItem) => {
    // A hand-over joined with an older one may name an alert twice: the first is the newer.
    if (seen.has(item.alert.id)) return;
    seen.add(item.alert.id);
    items.push(item);
  };
  for (const m of h.moving) {
    const camera = m.choice ? cameraStateOf(m.choice, 'moving') : lastShown.get(m.alert.id);
    add({ state: 'moving', alert: m.alert, ...kept(m.emit), arrivedBeforeStopMs: since(m.rank.arrivedMs), actor: m.actor, ...(camera ? { camera } : {}), ...(m.force ? { forceCameraIds: [...m.cameraIds] } : {}) });
  }
  for (const p of h.proposals) {
    add({ state: 'proposed', alert: p.alert, ...kept(p.emit), arrivedBeforeStopMs: since(p.rank.arrivedMs), actor: '', camera: cameraStateOf(p.choice, 'proposed'), proposalLeftMs: Math.round(p.expiresMs - nowMs) });
  }
  for (const w of h.waiting) {
    const camera = lastShown.get(w.alert.id);
    add({ state: 'waiting', alert: w.alert, ...kept(w.emit), arrivedBeforeStopMs: since(w.rank.arrivedMs), actor: w.actor, ...(camera ? { camera } : {}), ...(w.offline ? { offline: true } : {}) });
  }
  return items;
}

/**
 * An entry of a file no instance took yet, as it is `gapMs` later: a ptz-steer stopped again
 * before its flows started writes it again with its new entries (see keepStopFiles). Times
 * since grow, times left shrink. `gapMs` undefined (the wall clock cannot tell): as old as a
 * stop of unknown length makes it: an alert ends at the next start, a hold is over, the camera
 * goes home at once.
 */
export function stopEntryOlderBy(e: SteerStopEntry, gapMs: number | undefined): SteerStopEntry {
  const gap = gapMs ?? Number.MAX_SAFE_INTEGER;
  const since = (ms: number) => Math.min(ms + gap, Number.MAX_SAFE_INTEGER);
  const left = (ms: number) => Math.max(ms - gap, -Number.MAX_SAFE_INTEGER);
  if (!isStopLook(e)) {
    return { ...e, arrivedBeforeStopMs: since(e.arrivedBeforeStopMs), ...(e.proposalLeftMs !== undefined ? { proposalLeftMs: left(e.proposalLeftMs) } : {}) };
  }
  const look: SteerStopLook = { ...e };
  if (e.arrivedBeforeStopMs !== undefined) look.arrivedBeforeStopMs = since(e.arrivedBeforeStopMs);
  if (e.hold) {
    const { lookLeftMs, ...hold } = e.hold;
    look.hold = { ...hold, arrivedBeforeStopMs: since(hold.arrivedBeforeStopMs), leftMs: left(hold.leftMs), ...(lookLeftMs !== undefined ? { lookLeftMs: left(lookLeftMs) } : {}) };
  }
  if (e.home) look.home = { ...e.home, inMs: Math.max(0, e.home.inMs - gap) };
  return look;
}

/** A kept item read back (see SteerStopItem, SteerStopLook): its alert checked as an input alert is; throws naming what is wrong. */
export function checkStopItem(raw: unknown): SteerStopEntry {
  const o = requireObject(raw, 'item');
  if (o.state === 'looking') return checkStopLook(o);
  if (o.state !== 'moving' && o.state !== 'waiting' && o.state !== 'proposed') throw new ContractError('item.state', '"moving", "waiting", "proposed" or "looking"', o.state);
  const alert = parseAlert(requireObject(o.alert, 'item.alert'), 'item.alert');
  requireNumber(o, 'arrivedBeforeStopMs', { min: 0 }, 'item');
  const item: SteerStopItem = { state: o.state, alert, arrivedBeforeStopMs: o.arrivedBeforeStopMs as number, actor: typeof o.actor === 'string' ? o.actor.slice(0, 200) : '' };
  Object.assign(item, keptMessageOf({ ...(isObject(o.message) ? o.message : {}), topic: o.topic }));
  if (o.camera !== undefined) {
    // Checked as the camera of an alert is (the state it ends with is set when it is sent).
    const withCamera = parseAlert({ ...(o.alert as Record<string, unknown>), camera: o.camera }, 'item.alert');
    if (withCamera.camera) item.camera = withCamera.camera;
  }
  if (Array.isArray(o.forceCameraIds)) item.forceCameraIds = o.forceCameraIds.filter((id): id is string => typeof id === 'string');
  if (o.offline === true) item.offline = true;
  if (item.state === 'proposed') {
    requireNumber(o, 'proposalLeftMs', {}, 'item');
    item.proposalLeftMs = o.proposalLeftMs as number;
  }
  return item;
}

/** A camera's look read back (see SteerStopLook); throws naming what is wrong. */
function checkStopLook(o: Record<string, unknown>): SteerStopLook {
  const look: SteerStopLook = { state: 'looking', cameraId: requireString(o, 'cameraId', 'item') };
  if (o.alert !== undefined) {
    look.alert = parseAlert(requireObject(o.alert, 'item.alert'), 'item.alert');
    look.arrivedBeforeStopMs = requireNumber(o, 'arrivedBeforeStopMs', { min: 0 }, 'item');
    Object.assign(look, keptMessageOf({ ...(isObject(o.message) ? o.message : {}), topic: o.topic }));
    if (typeof o.actor === 'string') look.actor = o.actor.slice(0, 200);
  }
  if (o.hold !== undefined) {
    const h = requireObject(o.hold, 'item.hold');
    look.hold = {
      alertId: requireString(h, 'alertId', 'item.hold'),
      ...(typeof h.label === 'string' ? { label: h.label.slice(0, 200) } : {}),
      priority: requireNumber(h, 'priority', {}, 'item.hold'),
      onsetMs: requireNumber(h, 'onsetMs', {}, 'item.hold'),
      arrivedBeforeStopMs: requireNumber(h, 'arrivedBeforeStopMs', { min: 0 }, 'item.hold'),
      leftMs: requireNumber(h, 'leftMs', {}, 'item.hold'),
      ...(h.lookLeftMs !== undefined ? { lookLeftMs: requireNumber(h, 'lookLeftMs', {}, 'item.hold') } : {}),
    };
  }
  if (o.home !== undefined) {
    const home = requireObject(o.home, 'item.home');
    look.home = { inMs: requireNumber(home, 'inMs', { min: 0 }, 'item.home'), alertId: requireString(home, 'alertId', 'item.home') };
  }
  if (!look.alert && !look.hold && !look.home) throw new ContractError('item', 'a camera\'s alert, hold or return home (state "looking")');
  return look;
}

/** What resumeAfterStop did. */
export interface StopResumeResult {
  resumed: number;
  /** Sent as ending (too old, or a proposal whose time to be confirmed ran out). */
  ended: number;
  /** Cameras whose look (or way home) goes on. */
  looks: number;
  /** Cameras kept in the file that are no longer this node's: left as they are. */
  camerasGone: string[];
}

export class PtzSteer {
  readonly opts: SteerOptions;
  private readonly holds = new Map<string, Hold>();
  /** Each camera's way home: its timer, and when it runs (what a hand-over or a stop's file keeps of it). */
  private readonly homeTimers = new Map<string, HomeDue & { timer: NodeJS.Timeout }>();
  private readonly sleeps = new Set<() => void>();
  private readonly proposals = new Map<string, Proposal>();
  private readonly waiting = new Map<string, Waiting>();
  /** The alert each camera turned to last and reached (until it goes home): taken by a more important one, it waits again. */
  private readonly aimedAt = new Map<string, Aimed>();
  /** Alerts an operator dismissed (id → when): a copy sent again later (better placed) moves no camera. */
  private readonly dismissed = new Map<string, number>();
  private waitTimer?: NodeJS.Timeout;
  /** When the waiting alerts were last looked at (serveWaiting), on this.now's clock. */
  private servedAtMs = -Infinity;
  /** The 'state' listener on each connection of a camera that alerts wait to answer: one per connection, however many alerts wait for it. */
  private readonly watched = new Map<CameraConnection, (state: string) => void>();
  /** Cameras that alerts wait to answer, asked to connect with back-off (see probeCameras). */
  private readonly probes = new Map<string, { backoff: Backoff; atMs: number }>();
  /** A camera answered: the wait check runs at once. */
  private wakeSoon = false;
  /** Latest move per camera: a newer one supersedes it. */
  private readonly activeMove = new Map<string, string>();
  /**
   * The latest copy of each alert: the localizer sends an alert again, under the same id, when a
   * later report places it better, and an operator's *Look again* is a copy too. An older copy
   * still under way (moving, retrying, about to wait) ends quietly: it neither waits, nor is
   * tried again, nor is sent (see isStale). Otherwise the copy whose move the newer one
   * superseded would wait for the camera its own alert holds, and take it back at once.
   * With it, when the id first came (this.now()): its rank's arrival, copies included.
   */
  private readonly latestCopies = new Map<string, { alert: Alert; arrivedMs: number }>();
  /**
   * The last copy sent on output 1 for each alert (bounded as latestCopies): a waiting alert is
   * not sent again with the same words, nor with new ones sooner than waitingUpdateMinMs after it.
   */
  private readonly lastSent = new Map<string, LastSent>();
  /** Alerts whose move is under way, by id: a hand-over steers them again (see handOver). */
  private readonly inFlight = new Map<string, InFlight>();
  /** The emit given to handle() behind each recording one: what a hand-over passes on. */
  private readonly rawEmits = new WeakMap<Emit, Emit>();
  /** Runs updateWaitingReasons when a waiting alert's update held back by waitingUpdateMinMs is due. */
  private updateTimer?: NodeJS.Timeout;
  private updateAtMs = Infinity;
  private closed = false;
  /** Names the fields dropped from alerts, each once (see DroppedFieldWarnings). */
  private readonly droppedFields = new DroppedFieldWarnings((t) => this.hooks.warn?.(t));
  /** When an impossible altitude was last warned of (monotonic ms): at most once a minute. */
  private altWarnedAtMs: number | undefined;

  private readonly now: () => number;
  private readonly wallNow: () => number;

  constructor(
    private readonly cameras: () => CameraConnection[],
    opts: Partial<SteerOptions> = {},
    private readonly hooks: SteerHooks = {},
  ) {
    this.opts = { ...DEFAULT_STEER_OPTIONS, ...opts };
    this.now = opts.now ?? monotonicMs;
    this.wallNow = opts.wallNow ?? Date.now;
  }

  /** Handles one input payload: an alert, a decision or a move request. Throws ContractError on unusable input. */
  async handle(payload: unknown, emitTo: (out: SteerOutput) => void): Promise<void> {
    const emit = this.recording(emitTo);
    const p = requireObject(payload, 'payload');
    if (p.kind === 'decision') return this.onDecision(p, emit);
    if (p.kind === 'move-request') return this.onMoveRequest(p, emit);
    const unplaced = unplacedAlert(p, 'payload', this.droppedFields);
    if (unplaced) {
      // Not placed: no camera turns, but the operators see the alert (the console says "place
      // not known"); refused, it would stop here, short of video-forward and the console.
      const why = typeof unplaced.location?.reason === 'string' ? ` (localizer said: ${unplaced.location.reason})` : '';
      emit({ port: 1, payload: unplaced });
      emit({ port: 2, payload: unplaced, error: { code: 'no-camera', message: `no camera can look at alert ${unplaced.id}: it has no position nor bearing${why}` } });
      return;
    }
    const alert = parseAlert(this.withoutImpossibleAlt(p), 'payload', this.droppedFields);
    // A copy sent again (better placed) goes its own way: an older copy still moving a camera,
    // retrying or waiting ends quietly, and never turns a camera back to its old place.
    this.markLatest(alert);
    if (this.dismissed.has(alert.id)) {
      this.hooks.log?.(`alert ${alert.id} came again after it was dismissed: no camera moves for it`);
      emit({ port: 1, payload: alert });
      return;
    }
    const waited = this.waiting.get(alert.id);
    if (waited) {
      this.waiting.delete(alert.id);
      this.scheduleWaitCheck();
    }
    // An alert a camera already turns to or looks at was judged when it came: a later copy
    // (better placed, after the limit) goes on steering that camera. One still waiting has no
    // camera yet and is judged again, as its wait is when a camera is free (serveWaiting).
    const engaged = this.inFlight.has(alert.id) || this.holdsCamera(alert.id);
    const lateMs = engaged ? undefined : this.lateByMs(alert);
    if (lateMs !== undefined) return this.sendTooOld(alert, lateMs, emit);
    // Confirm mode asks once per alert: a copy sent again (better placed) after an operator
    // sent a camera to it (it holds one, or waits for one) goes where the operator said it may.
    const confirmed = this.opts.mode === 'automatic' || !!waited || this.holdsCamera(alert.id);
    const target = targetOf(alert, this.opts.assumedDistanceM);
    const rank = this.rankOf(alert);
    const { choice, ranked, rejected } = chooseCamera(this.candidates(), target, rank, this.now(), this.opts.frameWidthM, this.opts.toleranceDeg);
    // Waiting for a busy camera already, it keeps its place in the queue (and its look).
    const queued = waited && !waited.offline ? waited : undefined;
    if (!choice && confirmed && this.startWaiting(alert, target, rank, this.opts.actor, emit, queued?.looked, queued?.sinceMs)) return;
    if (!choice && !confirmed && this.proposeBusy(alert, target, rank, emit)) return;
    if (!choice) {
      const missing = this.hooks.missingCameras?.() ?? [];
      const missingWords = missing.length ? `ticked camera${missing.length > 1 ? 's' : ''} missing: ${missing.join(', ')} (deleted, or not imported with this node)` : '';
      const why = [rejected.map((r) => `${r.cameraId}: ${r.reason}`).join('; '), missingWords].filter(Boolean).join('; ') || 'no camera configured';
      emit({ port: 1, payload: alert });
      emit({ port: 2, payload: alert, error: { code: 'no-camera', message: `no camera can look at alert ${alert.id}: ${why}` } });
      return;
    }
    if (!confirmed) {
      this.pruneProposals();
      const changed = proposalChangeWords(this.proposals.get(alert.id), choice);
      this.proposals.set(alert.id, { alert, choice, ranked, rank, expiresMs: this.now() + this.opts.proposalTtlMs, emit });
      emit({ port: 1, payload: { ...alert, camera: this.cameraState(choice, 'proposed', undefined, changed, alert.id) } });
      return;
    }
    await this.execute(alert, ranked, rank, this.opts.actor, emit);
  }

  /**
   * An alert placed at an altitude no street has (a remote sensor's altitude typed wrong, say)
   * is still placed: refused, it would never reach the operators. Its altitude is left aside
   * (cameras aim as at their own ground), with a warning naming the field, once a minute.
   */
  private withoutImpossibleAlt(p: Record<string, unknown>): Record<string, unknown> {
    const loc = p.location;
    if (!isObject(loc) || !isObject(loc.position) || loc.position.alt === undefined) return p;
    const alt = loc.position.alt;
    if (typeof alt === 'number' && Number.isFinite(alt) && alt >= ALERT_ALT_RANGE_M.min && alt <= ALERT_ALT_RANGE_M.max) return p;
    const { alt: _dropped, ...position } = loc.position;
    const nowMs = this.now();
    if (this.altWarnedAtMs === undefined || nowMs - this.altWarnedAtMs >= 60_000) {
      this.altWarnedAtMs = nowMs;
      const shown = typeof alt === 'number' ? `${alt} m` : `a ${alt === null ? 'null' : typeof alt}`;
      const id = typeof p.id === 'string' ? p.id.slice(0, 60) : '(no id)';
      this.hooks.warn?.(
        `alert ${id}: payload.location.position.alt is ${shown}, expected a number of metres from ${ALERT_ALT_RANGE_M.min} to ${ALERT_ALT_RANGE_M.max}: left aside, the cameras aim as at their own ground (check the sensors' Ground altitude); said at most once a minute`,
      );
    }
    return { ...p, location: { ...loc, position } };
  }

  private async onDecision(p: Record<string, unknown>, emit: (out: SteerOutput) => void): Promise<void> {
    const d = validateDecision(p);
    const proposal = this.proposals.get(d.alertId);
    if (d.action === 'dismiss') {
      this.rememberDismissed(d.alertId);
      this.proposals.delete(d.alertId);
      const waited = this.waiting.get(d.alertId);
      if (waited) {
        this.waiting.delete(d.alertId);
        this.scheduleWaitCheck();
      }
      // A camera it was promised (proposed, or waited for) will not come: its console says so
      // rather than keep the promise on screen.
      if (proposal) this.endProposal(proposal, d.operator);
      if (waited && !waited.offline) this.endWait(waited, `wait ended: dismissed by ${d.operator}`);
      // An operator said it is not serious: its cameras are free for the alerts waiting.
      if (this.releaseHolds(d.alertId)) this.serveWaiting();
      return;
    }
    if (!proposal) {
      if (this.opts.mode === 'confirm') this.hooks.log?.(`decision for alert ${d.alertId}: no proposed move waiting (expired or already done)`);
      return;
    }
    this.proposals.delete(d.alertId);
    await this.execute(proposal.alert, proposal.ranked, proposal.rank, d.operator, emit);
  }

  /**
   * An operator's move request. One that moves no camera is audited as refused, with why
   * (the console audited the request itself): the log does not read as if a camera moved.
   */
  private async onMoveRequest(p: Record<string, unknown>, emit: (out: SteerOutput) => void): Promise<void> {
    const alertId = requireString(p, 'alertId');
    const actor = typeof p.operator === 'string' && p.operator ? p.operator : this.opts.actor;
    const refused = (reason: string): void => {
      auditBus.publish({ type: 'camera-move', actor, alertId, details: { event: 'request-refused', reason } });
    };
    try {
      await this.serveMoveRequest(p, alertId, actor, emit, refused);
    } catch (err) {
      refused((err as Error).message);
      throw err;
    }
  }

  private async serveMoveRequest(p: Record<string, unknown>, alertId: string, actor: string, emit: (out: SteerOutput) => void, refused: (reason: string) => void): Promise<void> {
    const waiting = this.waiting.get(alertId);
    const cameraId = cameraIdOf(p);
    if (waiting) return this.takeOver(waiting, cameraId, actor, refused);
    const proposal = this.proposals.get(alertId);
    // Not (or no longer) known here: dismissed, its wait or proposal over, ptz-steer redeployed.
    // The console sends the alert with every request, so it is served all the same.
    if (!proposal && p.alert !== undefined) return this.lookAgain(p, alertId, actor, emit, refused);
    if (!proposal) throw new ContractError('payload.alertId', `the id of an alert with a proposed move or waiting for a camera, or payload.alert to aim at again (none for "${alertId}")`);
    const ranked = onlyCamera(proposal.ranked, cameraId, this.cameras().map((c) => c.id));
    if (!ranked.length) {
      // The camera asked for cannot look there: refused (the console shows why), the proposal stands.
      refused(this.unservedWords(proposal.alert, proposal.rank, cameraId));
      return;
    }
    this.proposals.delete(alertId);
    // "Move camera" is explicit: the operator takes the camera even from a more important alert.
    await this.execute(proposal.alert, ranked, this.operatorRank(proposal.rank, ranked), actor, emit, true);
  }

  /**
   * An operator asks to look again at an alert whose camera left it (or never came): the
   * request carries the alert, since ptz-steer keeps none once its camera has left. The
   * camera that looked before is preferred; the operator's choice takes held cameras too.
   */
  private async lookAgain(p: Record<string, unknown>, alertId: string, actor: string, emit: (out: SteerOutput) => void, refused: (reason: string) => void): Promise<void> {
    const given = parseAlert(requireObject(p.alert, 'payload.alert'), 'payload.alert', this.droppedFields);
    if (given.id !== alertId) throw new ContractError('payload.alert.id', `the id of payload.alertId ("${alertId}")`, given.id);
    const { camera: before, video: _video, ...alert } = given;
    // The operator's request is the alert's latest word: a copy still under way ends quietly.
    this.markLatest(alert);
    const target = targetOf(alert, this.opts.assumedDistanceM);
    const rank = this.rankOf(alert);
    const cameraId = cameraIdOf(p);
    const free = this.camerasIfFree(target, rank);
    let ranked = onlyCamera(free, cameraId, this.cameras().map((c) => c.id));
    if (!ranked.length) {
      this.noCameraNow(alert, before, emit, refused, this.unservedWords(alert, rank, cameraId ?? before?.id));
      return;
    }
    if (cameraId === undefined && before) ranked = [...ranked.filter((c) => c.config.id === before.id), ...ranked.filter((c) => c.config.id !== before.id)];
    await this.execute(alert, ranked, this.operatorRank(rank, ranked), actor, emit, true);
  }

  /**
   * An operator's request that no camera can serve: none can see the place now (out of range,
   * blind sector, removed), or not the camera the request names. Answered on the camera too (no
   * camera failed: "unavailable"), so the console's request is settled and may be made again,
   * and audited as refused. `reason`: unservedWords.
   */
  private noCameraNow(alert: Alert, before: CameraState | undefined, emit: (out: SteerOutput) => void, refused: (reason: string) => void, reason: string): void {
    let payload: Alert = alert;
    if (before) {
      // Its heldFor, if any, named the holder of then.
      const { heldFor: _then, ...camera } = before;
      payload = { ...alert, camera: { ...camera, state: 'unavailable', reason } };
    }
    refused(reason);
    emit({ port: 1, payload });
    emit({ port: 2, payload, error: { code: 'no-camera', message: `alert ${alert.id}: ${reason}` } });
  }

  /**
   * Why an operator's request finds no camera, in words: the camera it names (or the one the
   * console shows, `cameraId`) and why that one cannot look there, then the others: which can,
   * or why none can. "camera Wall east cannot look there: pan 180.0° is outside its pan range
   * (−90…90°); no other camera can see this place (Dome: the place is 620 m away, beyond its
   * 250 m reach)".
   */
  private unservedWords(alert: Alert, rank: AlertRank, cameraId: string | undefined): string {
    const target = targetOf(alert, this.opts.assumedDistanceM);
    const { ranked, rejected } = chooseCamera(this.candidates().map((c) => ({ ...c, hold: undefined })), target, rank, this.now(), this.opts.frameWidthM, this.opts.toleranceDeg);
    const nameOf = (id: string): string => {
      const cfg = this.cameraConfig(id);
      return cfg ? cameraName(cfg) : id;
    };
    const named = rejected.find((r) => r.cameraId === cameraId);
    const others = ranked.filter((c) => c.config.id !== cameraId);
    const rest = rejected.filter((r) => r !== named);
    const head = named ? `camera ${nameOf(named.cameraId)} cannot look there: ${named.words}; ` : '';
    if (others.length) {
      const names = others.map((c) => cameraName(c.config));
      return `${head}${names.length > 1 ? `cameras ${names.join(', ')} can` : `camera ${names[0]} can`} (ask for the camera again without naming one)`;
    }
    const why = rest.length ? ` (${rest.map((r) => `${nameOf(r.cameraId)}: ${r.words}`).join('; ')})` : '';
    return `${head}${named ? 'no other camera' : 'no camera'} can see this place${why}`;
  }

  /**
   * Confirm mode, every camera that could see the alert held by another: the nearest is
   * proposed all the same, saying which alert it would be taken from. A confirmation waits
   * for it to be free; a move request takes it.
   */
  private proposeBusy(alert: Alert, target: TargetSpec, rank: AlertRank, emit: (out: SteerOutput) => void): boolean {
    const ranked = this.camerasIfFree(target, rank);
    if (!ranked.length) return false;
    this.pruneProposals();
    const changed = proposalChangeWords(this.proposals.get(alert.id), ranked[0]);
    this.proposals.set(alert.id, { alert, choice: ranked[0], ranked, rank, expiresMs: this.now() + this.opts.proposalTtlMs, emit });
    const reason = `${this.busyWords(ranked)}; moving it takes it from that alert${changed ? `; ${changed}` : ''}`;
    emit({ port: 1, payload: { ...alert, camera: this.cameraState(ranked[0], 'proposed', undefined, reason, alert.id) } });
    return true;
  }

  /**
   * How long ago `alert` began, ms, when that is more than maxAlertAgeMs; undefined otherwise.
   * Its onset is judged as the console judges it (judgeSensorTime): an onset ahead of this
   * machine's clock (within SENSOR_CLOCK_AHEAD_MS, or beyond it: a sensor clock ahead, whose
   * onset says nothing) is not old, nor one before any set clock (1970) or older than an outbox
   * keeps messages: the console shows those at their arrival, now. With this machine's own clock
   * not set nothing is judged.
   */
  private lateByMs(alert: Alert): number | undefined {
    if (!(this.opts.maxAlertAgeMs > 0) || !Number.isFinite(alert.onset)) return undefined;
    const nowMs = this.wallNow();
    if (!isPlausibleWallTime(nowMs)) return undefined;
    const ageMs = nowMs - judgeSensorTime(alert.onset * 1000, nowMs).timeMs;
    return ageMs > this.opts.maxAlertAgeMs ? ageMs : undefined;
  }

  /**
   * An alert too old to turn a camera to (see lateByMs): sent on all the same (the operator must
   * see it), the camera that would have looked named "unavailable" with the reason, no camera
   * moved nor proposed, no hold taken. An operator's Take camera (a move request) still turns one.
   */
  private sendTooOld(alert: Alert, ageMs: number, emit: Emit): void {
    // Just past the limit, minutes would say the limit itself ("10 min ago … at most 10 min old"): seconds then.
    const limit = ageWords(this.opts.maxAlertAgeMs);
    const age = ageWords(ageMs) === limit ? `${Math.round(ageMs / 1000)} s` : ageWords(ageMs);
    const reason = `no camera turned: it began ${age} ago (cameras turn for alerts at most ${limit} old); a message delayed or replayed, or its sensor's clock behind`;
    this.hooks.log?.(`alert ${alert.id}: ${reason}`);
    const ranked = this.camerasIfFree(targetOf(alert, this.opts.assumedDistanceM), this.rankOf(alert));
    emit({ port: 1, payload: ranked.length ? { ...alert, camera: this.cameraState(ranked[0], 'unavailable', undefined, reason, alert.id) } : alert });
    this.hooks.onTooOld?.(alert.id, ageMs);
  }

  /**
   * The rank an operator's explicit move holds its camera with: as firm as the alert it takes
   * the camera from, and as recent as now (so only a more important alert, or a more recent one
   * of that priority after the look, takes it back).
   */
  private operatorRank(rank: AlertRank, ranked: Choice[]): AlertRank {
    const held = ranked.map((c) => this.holds.get(c.config.id)).filter((h): h is Hold => !!h && h.untilMs > this.now());
    return { ...rank, priority: Math.max(rank.priority, ...held.map((h) => h.priority)), arrivedMs: this.now() };
  }

  /** An operator moves a busy camera to a waiting alert: the operator's choice takes the camera from the alert that held it. */
  private async takeOver(w: Waiting, cameraId: string | undefined, actor: string, refused: (reason: string) => void): Promise<void> {
    const free = this.camerasIfFree(w.target, w.rank);
    const ranked = onlyCamera(free, cameraId, this.cameras().map((c) => c.id));
    if (!ranked.length && free.length) {
      // The camera asked for cannot look there: refused (the console shows why), the wait goes on.
      refused(this.unservedWords(w.alert, w.rank, cameraId));
      return;
    }
    this.waiting.delete(w.alert.id);
    this.scheduleWaitCheck();
    if (!ranked.length) {
      const shown = this.lastSent.get(w.alert.id)?.camera;
      this.noCameraNow(w.alert, shown, w.emit, refused, this.unservedWords(w.alert, w.rank, cameraId ?? shown?.id));
      return;
    }
    await this.execute(w.alert, ranked, this.operatorRank(w.rank, ranked), actor, w.emit, true);
  }

  private cameraConfig(cameraId: string): CameraConfig | undefined {
    return this.cameras().find((c) => c.id === cameraId)?.config;
  }

  /** The cameras that could look at the target if none were held, best first. */
  private camerasIfFree(target: TargetSpec, rank: AlertRank): Choice[] {
    return chooseCamera(this.candidates().map((c) => ({ ...c, hold: undefined })), target, rank, this.now(), this.opts.frameWidthM, this.opts.toleranceDeg).ranked;
  }

  private candidates() {
    return this.cameras().map((conn) => ({ config: conn.config, state: conn.state, hold: this.holds.get(conn.id), advertised: conn.capabilities?.absoluteRange }));
  }

  /**
   * `forAlertId`: the alert this state is sent for, when its camera may be another's (proposed,
   * waiting, released, unavailable): the alert the camera is held for, if another, goes in
   * `heldFor` (the console finds it there, not in the reason's words).
   */
  private cameraState(choice: Choice, state: CameraState['state'], r?: MoveResult, reason?: string, forAlertId?: string): CameraState {
    const cfg = choice.config;
    const out = cameraStateOf(choice, state, r, reason);
    // The holder as busyWords names it: any hold of the camera, its time over or not (a camera
    // whose quiet period never ends still looks at that alert).
    const holder = forAlertId === undefined ? undefined : this.holds.get(cfg.id)?.alertId;
    if (holder !== undefined && holder !== forAlertId) out.heldFor = holder;
    return out;
  }

  /**
   * `force`: an operator's choice, which takes held cameras too. `retrying`: the alert was
   * waiting for its cameras to answer (see waitForAnswer); it is tried once, and a failure
   * the same as before is not sent again.
   */
  private async execute(alert: Alert, ranked: Choice[], rank: AlertRank, actor: string, emit: (out: SteerOutput) => void, force = false, retrying?: Waiting): Promise<void> {
    // A retry of an alert sent "failed" is a wait for its cameras to answer, and is handed over as one.
    const entry: InFlight = { alert, rank, actor, emit, force, cameraIds: ranked.map((c) => c.config.id), retrying };
    this.inFlight.set(alert.id, entry);
    try {
      await this.tryCameras(alert, ranked, rank, actor, emit, force, retrying);
    } finally {
      if (this.inFlight.get(alert.id) === entry) this.inFlight.delete(alert.id);
      // A failed move gives its camera back (see moveOne): an alert waiting for it may have it.
      if (this.waiting.size && !this.closed) this.serveWaiting();
    }
  }

  private async tryCameras(alert: Alert, ranked: Choice[], rank: AlertRank, actor: string, emit: (out: SteerOutput) => void, force: boolean, retrying?: Waiting): Promise<void> {
    const backoff = new Backoff({ initialMs: 500, maxMs: 4000 });
    let last: { choice: Choice; r: MoveResult } | undefined;
    /** The cameras that did not answer at the last attempt (names, nearest first). */
    let silent: string[] = [];
    let silentIds: string[] = [];
    // A retry of an alert waiting for its cameras to answer has its own, slower back-off.
    const retries = retrying ? 0 : this.opts.retries;
    for (let attempt = 0; attempt <= retries && !this.closed; attempt++) {
      if (attempt > 0) await this.sleep(backoff.next());
      let unreachable = false;
      silent = [];
      silentIds = [];
      for (const choice of ranked) {
        if (this.closed || this.isStale(alert)) return;
        const conn = this.cameras().find((c) => c.id === choice.config.id);
        if (!conn) continue;
        // Time has passed (an operator confirmed, a retry waited): the camera may now be held.
        if (!force && isHeldAgainst(this.holds.get(conn.id), rank, this.now())) continue;
        // An operator's choice that takes a camera says who took it, for the alert it leaves.
        const r = await this.moveOne(conn, choice, alert, rank, actor, emit, force && actor !== this.opts.actor ? actor : undefined);
        // A newer copy of this alert came meanwhile (and most likely superseded this move): it
        // goes its own way; this one neither waits for the camera its alert holds, nor retries.
        if (this.isStale(alert)) return;
        last = { choice, r };
        if (r.state !== 'failed') return;
        const code = r.error?.code;
        // A camera that cannot point there (it stops short, beyond its travel): the next one may.
        if (code === 'out-of-range') continue;
        // A camera out of reach, one whose connection closed, or one taken over by a more
        // important alert: try the next one. Anything else is this camera's answer.
        if (!outOfReach(code) && code !== 'closed' && code !== 'superseded') {
          this.fail(alert, choice, r, emit);
          return;
        }
        if (code !== 'superseded') {
          unreachable = true;
          if (!silent.includes(cameraName(choice.config))) silent.push(cameraName(choice.config));
          if (!silentIds.includes(choice.config.id)) silentIds.push(choice.config.id);
        }
      }
      // Every camera held or taken over: a retry would find them so; wait for one to be free.
      if (!unreachable) break;
    }
    if (this.closed || this.isStale(alert)) return;
    // Every camera tried, the last unable to point there and none silent: that is the answer.
    if (last?.r.error?.code === 'out-of-range' && silent.length === 0) {
      this.fail(alert, last.choice, last.r, emit);
      return;
    }
    const target = targetOf(alert, this.opts.assumedDistanceM);
    // Every camera was held (or taken over while moving) by a more important alert: wait for one.
    const heldOut = !last || last.r.error?.code === 'superseded';
    if (heldOut && this.startWaiting(alert, target, rank, actor, emit, undefined, retrying?.sinceMs)) return;
    // Every camera tried was out of reach (anything else was answered above).
    if (last && !heldOut) {
      if (retrying) this.waitForAnswerAgain(retrying, silentIds);
      else {
        // Operators see at once that no camera answers; the alert still gets one if it comes back.
        this.fail(alert, last.choice, last.r, emit, silent);
        this.waitForAnswer(alert, target, rank, actor, emit, silent, silentIds);
      }
      return;
    }
    if (last) this.fail(alert, last.choice, last.r, emit, silent);
    else {
      const e = { code: 'no-camera', message: `no camera can look at alert ${alert.id}: every candidate is held by a more recent or more important alert` };
      emit({ port: 1, payload: alert });
      emit({ port: 2, payload: alert, error: e });
    }
  }

  /**
   * The alert's camera did not turn to it: "failed", with a reason operators understand (the
   * technical one goes on output 2). `silent`: the cameras that did not answer, when the last
   * attempt found none reachable.
   */
  private fail(alert: Alert, choice: Choice, r: MoveResult, emit: (out: SteerOutput) => void, silent: string[] = []): void {
    if (this.isStale(alert)) return;
    const e = r.error ?? new CameraError('error', r.notes.join('; ') || 'move failed', choice.config.id);
    const reason = silent.length > 1 ? `${silentWords(silent)}: no camera could turn here` : failureWords(cameraName(choice.config), e.code);
    const payload = { ...alert, camera: this.cameraState(choice, 'failed', r, reason) };
    emit({ port: 1, payload });
    emit({ port: 2, payload, error: { code: e.code, message: e.message, cameraId: choice.config.id } });
  }

  /** `takenBy`: the operator whose explicit request this move is (Take camera, Look again, Move camera). */
  private async moveOne(conn: CameraConnection, choice: Choice, alert: Alert, rank: AlertRank, actor: string, emit: (out: SteerOutput) => void, takenBy?: string): Promise<MoveResult> {
    const cfg = choice.config;
    const moveId = `${alert.id}:${Date.now()}:${Math.random()}`;
    const flying = this.inFlight.get(alert.id);
    if (flying?.alert === alert) flying.choice = choice;
    this.activeMove.set(cfg.id, moveId);
    // The hold is taken at once, so alerts that come meanwhile see the camera taken.
    const displaced = this.aimedAt.get(cfg.id);
    const displacedHold = this.holds.get(cfg.id);
    // Its look begins with the move: no alert of equal priority cuts the move short either
    // (the mover gives up after moveTimeoutMs); on target, the look runs minLookMs from then.
    const startMs = this.now();
    const lookUntilMs = this.opts.minLookMs > 0 ? startMs + this.opts.moveTimeoutMs + this.opts.minLookMs : undefined;
    this.holds.set(cfg.id, { ...rank, untilMs: startMs + Math.max(this.opts.returnHomeAfterMs, this.opts.moveTimeoutMs), lookUntilMs });
    // The alert this camera looked at is left only once the camera takes the move (a camera
    // that does not answer has not turned): taken over while its hold runs, it waits for a
    // camera again; otherwise (hold over, dismissed, waiting off) it is told the camera left.
    // The alerts waiting for this camera then hear who holds it now.
    let turned = false;
    const leave = (): void => {
      if (turned) return;
      turned = true;
      if (this.closed || this.activeMove.get(cfg.id) !== moveId) return;
      // The alert the camera was held for (moving to it, or looking at it) loses it now: said
      // under that alert, so an inquiry into it reads where its camera went, and by whose choice
      // (`takenBy`: the operator who took it; null: the priority rule gave it to the other alert).
      const lost = displacedHold?.alertId ?? displaced?.alert.id;
      if (lost !== undefined && lost !== alert.id) {
        auditBus.publish({
          type: 'camera-move',
          actor,
          alertId: lost,
          details: { event: 'camera-taken', cameraId: cfg.id, takenFor: alert.id, takenForLabel: alert.label, takenBy: takenBy ?? null, reached: displaced?.alert.id === lost },
        });
      }
      if (!displaced || this.aimedAt.get(cfg.id) !== displaced) {
        this.updateWaitingReasons();
        return;
      }
      this.aimedAt.delete(cfg.id);
      // An older copy of an alert (a newer one came since) is not told, and does not wait.
      if (displaced.alert.id !== alert.id && !this.isStale(displaced.alert)) {
        const then = takenBy ? `was taken by ${takenBy} for ${alertWords(alert.label, alert.id)}` : `turned to ${alertWords(alert.label, alert.id)}`;
        const looked = { cameraId: cfg.id, words: lookedWords(cfg, then) };
        const holdRuns = displacedHold?.alertId === displaced.alert.id && displacedHold.untilMs > this.now() && !this.dismissed.has(displaced.alert.id);
        if (!holdRuns || !this.startWaiting(displaced.alert, displaced.target, displaced.rank, displaced.actor, displaced.emit, looked)) {
          this.release(displaced, cfg, looked.words);
        }
      }
      this.updateWaitingReasons();
    };
    this.cancelHome(cfg.id);
    if (this.opts.emitOnStart) emit({ port: 1, payload: { ...alert, camera: this.cameraState(choice, 'moving') } });
    const target = aimToCameraDegrees(cfg, choice.aim);
    const r = await moveToTarget(conn, cfg.calibration, target, {
      toleranceDeg: this.opts.toleranceDeg,
      moveTimeoutMs: this.opts.moveTimeoutMs,
      pollMs: this.opts.pollMs,
      onCommandSent: (m) => this.hooks.onCommandSent?.(alert.id, cfg.id, m),
      onTurning: leave,
      cancelled: () => (this.closed ? 'node closed' : this.activeMove.get(cfg.id) !== moveId ? `superseded by a newer move of camera ${cfg.id}` : undefined),
    });
    if (r.state !== 'failed') {
      leave();
      const hold = this.holds.get(cfg.id);
      if (this.opts.minLookMs > 0 && hold?.alertId === alert.id && this.activeMove.get(cfg.id) === moveId) {
        hold.lookUntilMs = this.now() + this.opts.minLookMs;
        // Held at least for its look (a short move timeout with Home after 0 would end it sooner).
        hold.untilMs = Math.max(hold.untilMs, hold.lookUntilMs);
        // The alerts waiting for it are served when the look ends (see scheduleWaitCheck).
        if (this.waiting.size) this.scheduleWaitCheck();
      }
    } else if (!this.closed && this.activeMove.get(cfg.id) === moveId) {
      // The camera is not this alert's: one that never took the move is still the displaced
      // alert's (its hold as it was, unless that alert was dismissed meanwhile); one that failed
      // on the way is nobody's.
      if (!turned && displacedHold && !this.dismissed.has(displacedHold.alertId)) this.holds.set(cfg.id, displacedHold);
      else this.holds.delete(cfg.id);
    }
    const state: CameraState['state'] = r.state;
    const cam = this.cameraState(choice, state, r);
    auditBus.publish({
      type: 'camera-move',
      actor,
      alertId: alert.id,
      details: {
        cameraId: cfg.id,
        target: cam.target,
        pan: cam.pan,
        tilt: cam.tilt,
        zoom: cam.zoom,
        state,
        method: r.method,
        errorDeg: r.errorDeg,
        moveMs: r.moveMs,
        ...(r.error ? { error: r.error.message } : {}),
      },
    });
    if (r.state !== 'failed' && this.isStale(alert)) {
      // A newer copy of this alert came meanwhile and went another way (another camera, or
      // none): the camera did turn (audited above), but it is not sent as this alert's, nor held
      // for it. It goes home after the quiet period unless an alert takes it first.
      if (this.activeMove.get(cfg.id) === moveId) this.holds.delete(cfg.id);
    } else if (r.state !== 'failed') {
      // Its own rank, not an operator's take-over's: if displaced, it queues as what it is.
      if (this.activeMove.get(cfg.id) === moveId) this.aimedAt.set(cfg.id, { alert, target: targetOf(alert, this.opts.assumedDistanceM), rank: this.rankOf(alert), actor, emit });
      const world = cameraDegreesToWorld(cfg, spaceToDegrees(cfg.calibration, r.position!));
      this.hooks.log?.(`camera ${cfg.id} ${r.state} for alert ${alert.id} (bearing ${world.bearingDeg.toFixed(1)}°, ${r.verified === false ? `not measured: ${r.notes[r.notes.length - 1]}` : `error ${r.errorDeg}°`}, ${r.moveMs} ms, ${r.method})`);
      emit({ port: 1, payload: { ...alert, camera: cam } });
    }
    if (this.activeMove.get(cfg.id) === moveId) this.scheduleHome(conn, alert.id);
    return r;
  }

  private cancelHome(cameraId: string): void {
    const t = this.homeTimers.get(cameraId);
    if (t) clearTimeout(t.timer);
    this.homeTimers.delete(cameraId);
  }

  /** `delayMs`: sooner than the quiet period (a camera a hand-over brought, part-way through its quiet period). */
  private scheduleHome(conn: CameraConnection, alertId: string, delayMs = this.opts.returnHomeAfterMs): void {
    if (this.opts.returnHomeAfterMs <= 0 || this.closed) return;
    this.cancelHome(conn.id);
    const t = setTimeout(() => {
      this.homeTimers.delete(conn.id);
      this.holds.delete(conn.id);
      this.activeMove.delete(conn.id);
      // An alert waiting for this camera goes first: it turns there instead of home (and the
      // move tells the alert it leaves).
      if (this.waiting.size) this.serveWaiting();
      if (this.activeMove.has(conn.id)) return;
      const left = this.aimedAt.get(conn.id);
      this.aimedAt.delete(conn.id);
      if (left) this.release(left, conn.config, lookedWords(conn.config, `went home after the quiet period (${durationWords(this.opts.returnHomeAfterMs)})`));
      this.goHome(conn, alertId, new Backoff({ initialMs: 2000, maxMs: 60_000 }));
    }, Math.max(0, delayMs));
    this.homeTimers.set(conn.id, { timer: t, atMs: this.now() + Math.max(0, delayMs), alertId });
  }

  /**
   * Home, retried with back-off while the camera does not answer: left pointing at an old
   * incident, it would show the wrong place to the next operator. A new move cancels the retry
   * (it clears the camera's home timer), and so does close().
   */
  private goHome(conn: CameraConnection, alertId: string, backoff: Backoff): void {
    conn.gotoHome().then(
      () => {
        auditBus.publish({ type: 'camera-move', actor: this.opts.actor, alertId, details: { cameraId: conn.id, state: 'home', reason: 'quiet period over' } });
        this.hooks.log?.(`camera ${conn.id} returned home`);
      },
      (err: Error) => {
        if (this.closed || this.activeMove.has(conn.id) || this.homeTimers.has(conn.id)) return;
        // Only a camera out of reach is tried again; one that refuses (an unknown preset, no home
        // position) would refuse for ever, and a connection closed for good never comes back.
        const e = classifyError(err, conn.id, 'GotoHome');
        if (!outOfReach(e.code)) {
          this.hooks.warn?.(`camera ${conn.id} could not return home: ${e.message}; not retried`);
          return;
        }
        const delayMs = backoff.next();
        if (backoff.attempts === 1) this.hooks.warn?.(`camera ${conn.id} could not return home: ${e.message}; retrying`);
        const t = setTimeout(() => {
          this.homeTimers.delete(conn.id);
          if (!this.closed && !this.activeMove.has(conn.id)) this.goHome(conn, alertId, backoff);
        }, delayMs);
        this.homeTimers.set(conn.id, { timer: t, atMs: this.now() + delayMs, alertId });
      },
    );
  }

  /**
   * Every camera that could look at the alert is held by a more important or more recent
   * alert: the alert waits for the first of them to be free (its hold over, or its alert
   * dismissed), and operators see which camera it waits for and why. False when waiting is
   * off, or when no camera could look at it even if free (out of range, blind sector).
   * `sinceMs`: when it began waiting, for an alert that waited already (its cameras did not
   * answer) and is not in the queue now.
   */
  private startWaiting(alert: Alert, target: TargetSpec, rank: AlertRank, actor: string, emit: (out: SteerOutput) => void, looked?: Waiting['looked'], sinceMs?: number): boolean {
    if (this.opts.waitForCameraMs <= 0 || this.closed) return false;
    // An older copy (a newer one came since) waits for nothing; true, so the caller sends nothing either.
    if (this.isStale(alert)) return true;
    const now = this.now();
    const ranked = this.camerasIfFree(target, rank);
    if (!ranked.length) return false;
    const old = this.waiting.get(alert.id);
    sinceMs = old?.sinceMs ?? sinceMs ?? now;
    looked ??= old?.looked;
    const w: Waiting = { alert, target, rank, actor, sinceMs, expiresMs: sinceMs + this.opts.waitForCameraMs, emit, looked };
    this.waiting.set(alert.id, w);
    // The queue full of more urgent alerts: it ends at once, never sent "waiting".
    if (!this.dropLeastUrgentBusy(w)) {
      this.scheduleWaitCheck();
      return true;
    }
    this.sendWaiting(w, ranked);
    this.scheduleWaitCheck();
    return true;
  }

  /**
   * Why it waits. The holder is named by its kind only ("busy with a gunshot alert"): its id
   * changes with every alert that takes the camera, and an alert sent again for each would
   * flood the console in a burst; heldFor carries the id as it was when the alert was sent.
   */
  private waitingReason(w: Waiting, ranked: Choice[]): string {
    const wait = `waiting up to ${durationWords(this.opts.waitForCameraMs)} for ${w.looked ? 'a camera' : 'it'} to be free`;
    return `${w.looked ? w.looked.words : this.busyWords(ranked, false)}; ${wait}`;
  }

  /**
   * Sends a waiting alert ("waiting", the camera it waits for, why), unless its last copy said
   * the same (heldFor aside). Its first "waiting" goes at once; a change while it waits goes
   * no sooner than waitingUpdateMinMs after its last copy (updateWaitingReasons then sends the
   * latest words).
   */
  private sendWaiting(w: Waiting, ranked: Choice[]): void {
    const reason = this.waitingReason(w, ranked);
    const camera = this.cameraState(ranked[0], 'waiting', undefined, reason, w.alert.id);
    const last = this.lastSent.get(w.alert.id);
    if (last && last.alert === w.alert && last.cameraKey === cameraKey(camera)) return;
    if (last && last.alert === w.alert && last.cameraKey.startsWith(WAITING_KEY)) {
      const dueMs = last.atMs + this.opts.waitingUpdateMinMs;
      if (dueMs > this.now()) {
        this.scheduleUpdate(dueMs);
        return;
      }
    }
    this.hooks.log?.(`alert ${w.alert.id}: ${reason}`);
    w.emit({ port: 1, payload: { ...w.alert, camera } });
  }

  /**
   * A camera has a new holder (or an update held back is due): the alerts waiting are sent
   * again where what they say changed (see sendWaiting). A mere new holder changes nothing
   * they say unless it is of another kind: they are not sent again for it.
   */
  private updateWaitingReasons(): void {
    if (this.closed) return;
    for (const w of this.waiting.values()) {
      // Sent "failed" (its cameras do not answer): a camera's holder is not its news.
      if (w.offline) continue;
      const ranked = this.camerasIfFree(w.target, w.rank);
      if (ranked.length) this.sendWaiting(w, ranked);
    }
  }

  /** One timer for the waiting alerts' updates held back: at the first that is due. */
  private scheduleUpdate(dueMs: number): void {
    if (this.closed || (this.updateTimer && this.updateAtMs <= dueMs)) return;
    if (this.updateTimer) clearTimeout(this.updateTimer);
    this.updateAtMs = dueMs;
    this.updateTimer = setTimeout(() => {
      this.updateTimer = undefined;
      this.updateAtMs = Infinity;
      this.updateWaitingReasons();
    }, Math.max(0, dueMs - this.now()) + 1);
  }

  /**
   * The emit of one input, noting each alert's last copy on output 1 (see lastSent).
   */
  private recording(emit: (out: SteerOutput) => void): (out: SteerOutput) => void {
    const recorded: Emit = (out) => {
      if (out.port === 1) {
        const id = out.payload.id;
        const latest = this.latestCopies.get(id)?.alert;
        this.lastSent.delete(id);
        // Keyed to the alert it was built from (its latest copy), not to the copy sent (a new object).
        const camera = out.payload.camera;
        this.lastSent.set(id, { atMs: this.now(), alert: latest ?? out.payload, cameraKey: camera ? cameraKey(camera) : '', camera });
        if (this.lastSent.size > LATEST_COPIES_MAX) this.lastSent.delete(this.lastSent.keys().next().value!);
      }
      emit(out);
    };
    this.rawEmits.set(recorded, emit);
    return recorded;
  }

  /**
   * "camera a is busy with gunshot alert g1", or the nearest of several; `withId` false: "…
   * with a gunshot alert" (the words of a waiting alert, see waitingReason).
   */
  private busyWords(ranked: Choice[], withId = true): string {
    const holder = (c: Choice) => {
      const h = this.holds.get(c.config.id);
      if (!h) return 'another alert';
      if (withId) return alertWords(h.label, h.alertId);
      if (!h.label) return 'another alert';
      const kind = labelName(h.label).toLowerCase();
      return `${/^[aeiou]/i.test(kind) ? 'an' : 'a'} ${kind} alert`;
    };
    const name = (c: Choice) => cameraName(c.config);
    if (ranked.length === 1) return `camera ${name(ranked[0])} is busy with ${holder(ranked[0])}`;
    const all = ranked.length === 2 ? 'both cameras' : `all ${ranked.length} cameras`;
    return `${all} that can see it are busy (nearest, ${name(ranked[0])}, with ${holder(ranked[0])})`;
  }

  /**
   * Gives each waiting alert, most important first, a camera that is now free, and gives up
   * on those that waited too long. Each move's hold is taken before its first await, so the
   * next alert sees the camera as taken.
   */
  private serveWaiting(): void {
    if (this.closed) return;
    this.wakeSoon = false;
    const now = this.now();
    this.servedAtMs = now;
    for (const [id, w] of this.waiting) {
      // A newer copy replaces a waiting one (see handle); none is left behind, but none may move a camera.
      if (this.isStale(w.alert)) {
        this.waiting.delete(id);
        continue;
      }
      // An alert that grew too old while it waited (a long wait, or a camera freed late) turns no camera now either.
      const lateMs = w.actor === this.opts.actor ? this.lateByMs(w.alert) : undefined;
      if (lateMs !== undefined) {
        this.waiting.delete(id);
        this.sendTooOld(w.alert, lateMs, w.emit);
        continue;
      }
      if (w.expiresMs > now) continue;
      this.waiting.delete(id);
      this.giveUp(w);
    }
    const queue = [...this.waiting.values()].sort(mostUrgentFirst);
    /** Cameras that alerts wait to answer, and that they may take once they do. */
    const toProbe = new Set<string>();
    for (const w of queue) {
      const { ranked } = chooseCamera(this.candidates(), w.target, w.rank, this.now(), this.opts.frameWidthM, this.opts.toleranceDeg);
      if (w.offline && !this.readyToRetry(w, ranked, toProbe)) continue;
      if (!ranked.length) continue;
      this.waiting.delete(w.alert.id);
      // A try for an offline camera is not logged: it was said once when the wait began.
      if (!w.offline) this.hooks.log?.(`alert ${w.alert.id}: camera ${ranked[0].config.id} is free after ${Math.round((this.now() - w.sinceMs) / 1000)} s of waiting`);
      this.execute(w.alert, ranked, w.rank, w.actor, w.emit, false, w.offline ? w : undefined).catch((err: Error) => {
        w.emit({ port: 1, payload: w.alert });
        w.emit({ port: 2, payload: w.alert, error: { code: 'error', message: `alert ${w.alert.id}: ${err.message}` } });
      });
    }
    this.probeCameras(toProbe);
    this.scheduleWaitCheck();
  }

  /**
   * The camera an alert looked through has left it for good (another alert, or home): the
   * alert is sent again "released", with the aim it had, so nobody takes the camera's new
   * view for this alert's place. No fault: output 2 stays silent.
   */
  private release(left: Aimed, config: CameraConfig, reason: string): void {
    if (this.closed || this.isStale(left.alert)) return;
    const aim = aimFor(config, left.target, this.opts.frameWidthM);
    if (typeof aim === 'string') return;
    this.hooks.log?.(`alert ${left.alert.id}: ${reason}`);
    left.emit({ port: 1, payload: { ...left.alert, camera: this.cameraState({ config, aim }, 'released', undefined, reason, left.alert.id) } });
  }

  /**
   * A proposed move that an operator dismissed: "unavailable" (no camera was moved for it,
   * none failed), saying who dismissed it. Output 2 stays silent: nothing went wrong.
   */
  private endProposal(p: Proposal, operator: string): void {
    if (this.closed || this.isStale(p.alert)) return;
    const reason = `no camera moved: dismissed by ${operator}`;
    this.hooks.log?.(`alert ${p.alert.id}: ${reason}`);
    p.emit({ port: 1, payload: { ...p.alert, camera: this.cameraState(p.choice, 'unavailable', undefined, reason, p.alert.id) } });
  }

  /**
   * An alert waiting for a busy camera stops waiting before its time (dismissed): "released"
   * after a look, "unavailable" without one, with `why`. Output 2 stays silent: nothing went wrong.
   */
  private endWait(w: Waiting, why: string): void {
    if (this.closed || this.isStale(w.alert)) return;
    const lookedBy = w.looked && this.cameraConfig(w.looked.cameraId);
    if (w.looked && lookedBy) {
      this.release(w, lookedBy, `${w.looked.words}; ${why}`);
      return;
    }
    // The camera its console shows it waiting for (an update held back aside), else the nearest now.
    const shown = this.lastSent.get(w.alert.id)?.camera;
    const ranked = shown?.state === 'waiting' ? [] : this.camerasIfFree(w.target, w.rank);
    let camera: CameraState | undefined;
    if (shown?.state === 'waiting') {
      // Its holder then is no news now.
      const { heldFor: _then, ...cam } = shown;
      camera = { ...cam, state: 'unavailable', reason: why };
    } else if (ranked.length) camera = this.cameraState(ranked[0], 'unavailable', undefined, why, w.alert.id);
    this.hooks.log?.(`alert ${w.alert.id}: ${why}`);
    w.emit({ port: 1, payload: camera ? { ...w.alert, camera } : w.alert });
  }

  /**
   * An alert that had its look (a camera reached it, then was taken by another alert) ends
   * "released"; one that never had a camera ends "unavailable", on output 2 too. Neither is a
   * fault of a camera. `crowdedOut`: it waited for a busy camera behind BUSY_WAITING_MAX more
   * urgent alerts (see dropLeastUrgentBusy), not till its time was up; said in one log line.
   */
  private giveUp(w: Waiting, crowdedOut = false): void {
    if (w.offline) {
      // Operators were told at once that its cameras do not answer: it stays "failed".
      this.hooks.log?.(`alert ${w.alert.id}: no camera answered within ${durationWords(this.opts.waitForCameraMs)}; not tried any more`);
      return;
    }
    const crowd = `${BUSY_WAITING_MAX} more urgent alerts wait for a busy camera`;
    const lookedBy = w.looked && this.cameraConfig(w.looked.cameraId);
    if (w.looked && lookedBy) {
      // release() logs its reason
      this.release(w, lookedBy, `${w.looked.words}; ${crowdedOut ? `not waiting for a camera again: ${crowd}` : `no camera was free again within ${durationWords(this.opts.waitForCameraMs)}`}`);
      return;
    }
    const ranked = this.camerasIfFree(w.target, w.rank);
    const reason = `${crowdedOut ? `no camera for it: ${crowd}` : `no camera was free within ${durationWords(this.opts.waitForCameraMs)}`}${ranked.length ? ` (${this.busyWords(ranked)})` : ''}`;
    if (crowdedOut) this.hooks.log?.(`alert ${w.alert.id}: ${reason}`);
    const payload = ranked.length ? { ...w.alert, camera: this.cameraState(ranked[0], 'unavailable', undefined, reason, w.alert.id) } : w.alert;
    w.emit({ port: 1, payload });
    w.emit({ port: 2, payload, error: { code: 'no-camera', message: `alert ${w.alert.id}: ${reason}` } });
  }

  /** One timer for the waiting alerts: at the first hold or wait that ends. */
  private scheduleWaitCheck(): void {
    if (this.waitTimer) clearTimeout(this.waitTimer);
    this.waitTimer = undefined;
    this.watchConnections();
    this.hooks.onWaitingChange?.();
    if (!this.waiting.size) this.probes.clear();
    if (!this.waiting.size || this.closed) return;
    const now = this.now();
    let atMs = Infinity;
    for (const w of this.waiting.values()) atMs = Math.min(atMs, w.expiresMs);
    for (const p of this.probes.values()) atMs = Math.min(atMs, p.atMs);
    if (this.wakeSoon) atMs = now;
    for (const h of this.holds.values()) {
      if (h.untilMs > now) atMs = Math.min(atMs, h.untilMs);
      // A hold that ended since the waiting alerts were last looked at: look now. (Its own wake-up
      // may not have run yet, e.g. on a busy event loop; this check replaces that timer.)
      else if (h.untilMs > this.servedAtMs) atMs = now;
      // A look that ends frees the camera for the more recent alerts of its priority.
      if (h.lookUntilMs !== undefined && h.lookUntilMs > now && h.lookUntilMs < h.untilMs) atMs = Math.min(atMs, h.lookUntilMs);
      else if (h.lookUntilMs !== undefined && h.lookUntilMs <= now && h.lookUntilMs > this.servedAtMs && h.lookUntilMs < h.untilMs) atMs = now;
    }
    this.waitTimer = setTimeout(() => {
      this.waitTimer = undefined;
      this.serveWaiting();
    }, Math.max(0, atMs - now) + 1);
  }

  /**
   * Every camera the alert tried was out of reach, and it was sent "failed": it waits (up to
   * waitForCameraMs) for one of them to answer, and is then tried again as a waiting alert is
   * served (holds and priorities as they are then). Said once in the log; its tries are silent.
   * (execute() serves the queue right after, which starts probing its cameras.)
   */
  private waitForAnswer(alert: Alert, target: TargetSpec, rank: AlertRank, actor: string, emit: (out: SteerOutput) => void, silent: string[], silentIds: string[]): void {
    if (this.opts.waitForCameraMs <= 0 || this.closed || this.dismissed.has(alert.id) || this.isStale(alert)) return;
    const cameraIds = this.camerasIfFree(target, rank).map((c) => c.config.id);
    if (!cameraIds.length) return;
    const now = this.now();
    this.waiting.set(alert.id, { alert, target, rank, actor, sinceMs: now, expiresMs: now + this.opts.waitForCameraMs, emit, offline: { cameraIds, silentIds } });
    const who = silent.length > 1 ? `cameras ${silent.join(', ')} do not answer` : `camera ${silent[0] ?? cameraIds[0]} does not answer`;
    this.hooks.log?.(`alert ${alert.id}: ${who}; trying again when one does, for up to ${durationWords(this.opts.waitForCameraMs)}`);
    this.dropLeastUrgentOffline();
    this.scheduleWaitCheck();
  }

  /** A try found its cameras still out of reach: it waits again, unless its time is up or an operator dismissed it meanwhile. */
  private waitForAnswerAgain(w: Waiting, silentIds: string[]): void {
    if (this.closed || this.dismissed.has(w.alert.id) || this.waiting.has(w.alert.id) || this.isStale(w.alert)) return;
    if (w.expiresMs <= this.now()) {
      this.giveUp(w);
      return;
    }
    w.offline = { ...w.offline!, silentIds };
    this.waiting.set(w.alert.id, w);
    this.dropLeastUrgentOffline();
    this.scheduleWaitCheck();
  }

  /**
   * An alert waiting for its cameras to answer, at its turn in the queue: true when a move
   * should be tried now, on a camera it may take that is connected and has not failed it since
   * it last connected. The cameras it may take that do not answer go into `toProbe`. When
   * every camera that could see it is held by more important alerts and one of them answers,
   * it waits for that busy camera as any alert does (and is sent "waiting").
   */
  private readyToRetry(w: Waiting, ranked: Choice[], toProbe: Set<string>): boolean {
    const { silentIds } = w.offline!;
    const conns = this.cameras();
    const connected = (c: Choice) => conns.find((conn) => conn.id === c.config.id)?.state === 'connected';
    if (ranked.some((c) => connected(c) && !silentIds.includes(c.config.id))) return true;
    if (!ranked.length && this.camerasIfFree(w.target, w.rank).some(connected) && this.startWaiting(w.alert, w.target, w.rank, w.actor, w.emit)) return false;
    for (const c of ranked) toProbe.add(c.config.id);
    return false;
  }

  /**
   * Asks the connections of cameras that alerts wait for to connect now, each with its own
   * back-off (2 s growing to 30 s, however many alerts wait for it): one that succeeds wakes
   * those alerts. A camera no alert waits for any more is forgotten.
   */
  private probeCameras(cameraIds: Set<string>): void {
    for (const id of this.probes.keys()) if (!cameraIds.has(id)) this.probes.delete(id);
    const now = this.now();
    for (const id of cameraIds) {
      let probe = this.probes.get(id);
      if (!probe) {
        const backoff = new Backoff(PROBE_BACKOFF);
        this.probes.set(id, (probe = { backoff, atMs: now + backoff.next() }));
        continue;
      }
      if (probe.atMs > now) continue;
      probe.atMs = now + probe.backoff.next();
      const conn = this.cameras().find((c) => c.id === id);
      conn?.ensureConnected().then(
        () => this.cameraAnswers(id),
        () => undefined,
      );
    }
  }

  /** A camera's connection is up: the alerts waiting for it to answer are tried at once. */
  private cameraAnswers(cameraId: string): void {
    if (this.closed) return;
    let woken = false;
    for (const w of this.waiting.values()) {
      if (!w.offline?.cameraIds.includes(cameraId)) continue;
      w.offline.silentIds = w.offline.silentIds.filter((id) => id !== cameraId);
      woken = true;
    }
    if (!woken) return;
    // Not from inside the connection's event: the wait check's timer runs it.
    this.wakeSoon = true;
    this.scheduleWaitCheck();
  }

  /** Listens to the connections of the cameras that alerts wait to answer, and to no other. */
  private watchConnections(): void {
    const wanted = new Set<string>();
    if (!this.closed) for (const w of this.waiting.values()) for (const id of w.offline?.cameraIds ?? []) wanted.add(id);
    const conns = wanted.size ? this.cameras().filter((c) => wanted.has(c.id)) : [];
    for (const [conn, listener] of this.watched) {
      if (conns.includes(conn)) continue;
      conn.off('state', listener);
      this.watched.delete(conn);
    }
    for (const conn of conns) {
      // Stand-ins that send no events are found by the back-off alone.
      if (this.watched.has(conn) || typeof conn.on !== 'function') continue;
      const listener = (state: string): void => {
        if (state === 'connected') this.cameraAnswers(conn.id);
      };
      conn.on('state', listener);
      this.watched.set(conn, listener);
    }
  }

  /** Bounded memory: past OFFLINE_WAITING_MAX alerts waiting for cameras to answer, the least urgent stay "failed". */
  private dropLeastUrgentOffline(): void {
    const offline = [...this.waiting.values()].filter((w) => w.offline).sort(mostUrgentFirst);
    for (const w of offline.slice(OFFLINE_WAITING_MAX)) {
      this.waiting.delete(w.alert.id);
      this.hooks.log?.(`alert ${w.alert.id}: not tried again (${OFFLINE_WAITING_MAX} more urgent alerts wait for cameras that do not answer)`);
    }
  }

  /**
   * Bounded memory: past BUSY_WAITING_MAX alerts waiting for a busy camera, the least urgent
   * end as if their wait were over ("unavailable", or "released" after a look), so none
   * vanishes from the console. False when `justIn`, the alert that just began waiting, was one of them.
   */
  private dropLeastUrgentBusy(justIn: Waiting): boolean {
    const busy = [...this.waiting.values()].filter((w) => !w.offline);
    let kept = true;
    for (const w of busy.sort(mostUrgentFirst).slice(BUSY_WAITING_MAX)) {
      this.waiting.delete(w.alert.id);
      if (w === justIn) kept = false;
      this.giveUp(w, true);
    }
    return kept;
  }

  private rememberDismissed(alertId: string): void {
    const now = this.now();
    // A re-sent alert comes within seconds; an hour and a few hundred ids are plenty.
    for (const [id, atMs] of this.dismissed) if (now - atMs > DISMISSED_KEEP_MS || this.dismissed.size >= DISMISSED_MAX) this.dismissed.delete(id);
    this.dismissed.set(alertId, now);
  }

  /** `alert` is now its id's latest copy (see latestCopies); it arrived now, unless its id came before. */
  private markLatest(alert: Alert): void {
    const arrivedMs = this.latestCopies.get(alert.id)?.arrivedMs ?? this.now();
    this.latestCopies.delete(alert.id);
    this.latestCopies.set(alert.id, { alert, arrivedMs });
    // Bounded memory: the alert seen longest ago is forgotten (an older copy of it, were one
    // still under way, would then act as if it were the only one).
    if (this.latestCopies.size > LATEST_COPIES_MAX) this.latestCopies.delete(this.latestCopies.keys().next().value!);
  }

  /** A newer copy of this alert came since: this one ends quietly wherever it would wait, retry or be sent. */
  private isStale(alert: Alert): boolean {
    const latest = this.latestCopies.get(alert.id);
    return latest !== undefined && latest.alert !== alert;
  }

  /**
   * An alert's claim on cameras: its label's priority (or payload.priority), and how recent it
   * is: when its id first came here (see latestCopies), then its onset, for alerts that came in
   * the same instant. Not the onset first: a gateway whose clock is ahead (not yet synced)
   * would make its alerts the most recent for as long as it is ahead.
   */
  private rankOf(alert: Alert): AlertRank {
    const arrivedMs = this.latestCopies.get(alert.id)?.arrivedMs ?? this.now();
    const onsetMs = Math.round((alert.onset ?? Date.now() / 1000) * 1000);
    return { alertId: alert.id, label: alert.label, priority: priorityOf(alert.label, alert.priority), arrivedMs, onsetMs };
  }

  private holdsCamera(alertId: string): boolean {
    const now = this.now();
    return [...this.holds.values()].some((h) => h.alertId === alertId && h.untilMs > now);
  }

  /** Drops the holds of one alert; true when it held a camera. */
  private releaseHolds(alertId: string): boolean {
    let released = false;
    for (const [cameraId, h] of this.holds) {
      if (h.alertId !== alertId) continue;
      this.holds.delete(cameraId);
      released = true;
    }
    return released;
  }

  /** Alerts waiting for a busy camera, most important first. */
  get waitingAlerts(): string[] {
    return [...this.waiting.values()].filter((w) => !w.offline).sort(mostUrgentFirst).map((w) => w.alert.id);
  }

  /** Alerts sent "failed" that are tried again when one of their cameras answers, most important first. */
  get alertsAwaitingAnswer(): string[] {
    return [...this.waiting.values()].filter((w) => w.offline).sort(mostUrgentFirst).map((w) => w.alert.id);
  }

  private pruneProposals(): void {
    const now = this.now();
    for (const [id, p] of this.proposals) if (p.expiresMs <= now) this.proposals.delete(id);
  }

  get pendingProposals(): string[] {
    this.pruneProposals();
    return [...this.proposals.keys()];
  }

  /** A retry's wait, cut short by close() so no timer outlives the node. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.sleeps.delete(wake);
        resolve();
      }, ms);
      const wake = () => {
        clearTimeout(t);
        resolve();
      };
      this.sleeps.add(wake);
    });
  }

  /**
   * A deploy restarts ptz-steer: it stops (as close() does) and returns what it had in progress,
   * for the new instance of the node to take (resume): the alerts whose camera was turning,
   * those waiting for a camera, the proposed moves, which alert each camera holds and looks at,
   * the dismissed alerts. Its moves still under way end quietly ("node closed" in the audit).
   */
  handOver(): SteerHandOver {
    const raw = (e: Emit): Emit => this.rawEmits.get(e) ?? e;
    this.pruneProposals();
    const live = (a: Alert) => !this.isStale(a) && !this.dismissed.has(a.id);
    const moving: InFlight[] = [];
    const waiting = [...this.waiting.values()].filter((w) => live(w.alert)).map((w) => ({ ...w, emit: raw(w.emit) }));
    for (const f of this.inFlight.values()) {
      if (!live(f.alert)) continue;
      // A try of an alert that waits for its cameras to answer goes on waiting in the new instance.
      if (f.retrying) waiting.push({ ...f.retrying, emit: raw(f.retrying.emit) });
      else moving.push({ ...f, emit: raw(f.emit) });
    }
    const h: SteerHandOver = {
      moving,
      waiting,
      proposals: [...this.proposals.values()].filter((p) => live(p.alert)).map((p) => ({ ...p, emit: raw(p.emit) })),
      aimedAt: [...this.aimedAt].filter(([, a]) => live(a.alert)).map(([id, a]) => [id, { ...a, emit: raw(a.emit) }]),
      holds: [...this.holds].map(([id, hold]) => [id, { ...hold }]),
      dismissed: [...this.dismissed],
      latestCopies: [...this.latestCopies],
      lastSent: [...this.lastSent],
      homeDue: [...this.homeTimers].map(([id, { atMs, alertId }]) => [id, { atMs, alertId }]),
    };
    this.close();
    return h;
  }

  /**
   * Takes what the instance a deploy replaced had in progress (see handOver), `rebind` giving
   * each alert's emit of that instance the emit of this one. The cameras are those of this
   * instance's settings: an alert whose camera was removed looks for another. Alerts that were
   * turning a camera are steered again (or wait for a busy one); waiting alerts and proposed moves
   * are kept, so a later Confirm or Take camera works; holds and looks go on, and cameras go home
   * when their quiet period ends. What no camera can serve now is sent as ending, saying why
   * ("ptz-steer was redeployed: …"). Resolves once the moves it started are over.
   */
  async resume(h: SteerHandOver, rebind: (emit: Emit) => Emit, resumed: { why: string; announce?: boolean } = { why: REDEPLOYED }): Promise<void> {
    if (this.closed) return;
    const { why, announce = false } = resumed;
    const bound = new Map<Emit, Emit>();
    const bind = (e: Emit): Emit => {
      let b = bound.get(e);
      if (!b) bound.set(e, (b = this.recording(rebind(e))));
      return b;
    };
    for (const [id, atMs] of h.dismissed) if (!this.dismissed.has(id)) this.dismissed.set(id, atMs);
    for (const [id, copy] of h.latestCopies) if (!this.latestCopies.has(id)) this.latestCopies.set(id, copy);
    for (const [id, sent] of h.lastSent) if (!this.lastSent.has(id)) this.lastSent.set(id, sent);
    this.takeLooks(h, bind, why);
    for (const w of h.waiting) this.takeWaiting({ ...w, emit: bind(w.emit) }, why);
    for (const p of h.proposals) {
      const was = { id: p.choice.config.id, name: cameraName(p.choice.config), unavailable: () => this.cameraState(p.choice, 'unavailable') };
      this.takeProposal({ ...p, emit: bind(p.emit) }, was, why, announce);
    }
    this.scheduleWaitCheck();
    await Promise.all(h.moving.map((m) => this.resteer({ ...m, emit: bind(m.emit) }, why)));
  }

  /**
   * The holds, looks and quiet periods of a hand-over (a redeploy, or a stop's file): they go on
   * here for the cameras there are now, each camera going home when it would have (a hand-over
   * without that time: when its hold ends, or at once), unless an alert takes it first. A
   * camera no longer among this instance's cameras is let go, and logged. The cameras of alerts
   * steered again (`h.moving`) go home after those moves. Returns the cameras taken and those gone.
   */
  private takeLooks(h: Pick<SteerHandOver, 'holds' | 'aimedAt' | 'homeDue' | 'moving'>, bind: (e: Emit) => Emit, why: string): { taken: number; gone: string[] } {
    const present = new Map(this.cameras().map((c) => [c.id, c]));
    const now = this.now();
    // A camera this instance moved already (an alert came before it took the hand-over) is its own.
    const own = new Set([...this.holds.keys(), ...this.aimedAt.keys(), ...this.homeTimers.keys(), ...this.activeMove.keys()]);
    const taken = new Set<string>();
    const gone = new Set<string>();
    const takes = (cameraId: string): boolean => {
      if (!present.has(cameraId)) gone.add(cameraId);
      return present.has(cameraId) && !own.has(cameraId);
    };
    // The first of a camera is the newer (see joinHandOvers).
    for (const [cameraId, hold] of h.holds) {
      if (!takes(cameraId) || this.holds.has(cameraId)) continue;
      this.holds.set(cameraId, hold);
      taken.add(cameraId);
    }
    for (const [cameraId, a] of h.aimedAt) {
      if (!takes(cameraId) || this.aimedAt.has(cameraId)) continue;
      this.aimedAt.set(cameraId, { ...a, emit: bind(a.emit) });
      taken.add(cameraId);
    }
    const due = new Map<string, HomeDue>();
    for (const [cameraId, d] of h.homeDue) {
      if (!takes(cameraId) || due.has(cameraId)) continue;
      due.set(cameraId, d);
      taken.add(cameraId);
    }
    for (const cameraId of gone) this.hooks.log?.(`camera ${cameraId}: ${why}, and it is no longer one of this node's cameras: what it looked at is not taken over, it is not sent home`);
    // The quiet periods go on: each camera goes home when it would have.
    for (const cameraId of taken) {
      const hold = this.holds.get(cameraId);
      if (h.moving.some((m) => m.alert.id === hold?.alertId)) continue;
      const d = due.get(cameraId);
      this.scheduleHome(present.get(cameraId)!, d?.alertId ?? hold?.alertId ?? this.aimedAt.get(cameraId)!.alert.id, d ? d.atMs - now : hold ? hold.untilMs - now : 0);
    }
    return { taken: taken.size, gone: [...gone] };
  }

  /** A waiting alert handed over: it waits here, for the cameras there are now. */
  private takeWaiting(w: Waiting, why: string): void {
    if (this.isStale(w.alert) || this.dismissed.has(w.alert.id) || this.waiting.has(w.alert.id)) return;
    const expiresMs = w.sinceMs + this.opts.waitForCameraMs;
    if (w.offline) {
      // Sent "failed" already: tried again when a camera that can see it answers, if one is left.
      const cameraIds = this.camerasIfFree(w.target, w.rank).map((c) => c.config.id);
      if (!cameraIds.length || this.opts.waitForCameraMs <= 0) {
        this.hooks.log?.(`alert ${w.alert.id}: ${why}, and no camera it waited for can look at it now; not tried any more`);
        return;
      }
      this.waiting.set(w.alert.id, { ...w, expiresMs, offline: { cameraIds, silentIds: w.offline.silentIds.filter((id) => cameraIds.includes(id)) } });
      this.wakeSoon = true;
      return;
    }
    const looked = w.looked && this.cameraConfig(w.looked.cameraId) ? w.looked : undefined;
    const ranked = this.camerasIfFree(w.target, w.rank);
    if (!ranked.length) {
      this.endHandedOver(w.alert, w.emit, 'unavailable', `${why}: no camera can look at it now`, this.lastSent.get(w.alert.id)?.camera);
      return;
    }
    this.waiting.set(w.alert.id, { ...w, expiresMs, looked });
    // What it waits for may have changed (a camera removed): sent again if so.
    this.sendWaiting(this.waiting.get(w.alert.id)!, ranked);
  }

  /**
   * A proposed move handed over: it waits for its confirmation here, with a camera there is now.
   * `was`: the camera it was proposed with, and that camera's state should it end here.
   * `announce`: sent again even with the same camera (a console started since forgot it).
   */
  private takeProposal(p: Omit<Proposal, 'choice' | 'ranked'>, was: { id: string; name: string; unavailable: () => CameraState | undefined }, why: string, announce: boolean): void {
    if (this.isStale(p.alert) || this.dismissed.has(p.alert.id) || this.proposals.has(p.alert.id) || p.expiresMs <= this.now()) return;
    const target = targetOf(p.alert, this.opts.assumedDistanceM);
    const { choice, ranked } = chooseCamera(this.candidates(), target, p.rank, this.now(), this.opts.frameWidthM, this.opts.toleranceDeg);
    const busy = choice ? [] : this.camerasIfFree(target, p.rank);
    const next = choice ?? busy[0];
    if (!next) {
      this.endHandedOver(p.alert, p.emit, 'unavailable', `${why}: no camera can look at it now`, was.unavailable());
      return;
    }
    this.proposals.set(p.alert.id, { ...p, choice: next, ranked: choice ? ranked : busy });
    const same = next.config.id === was.id;
    if (same && !announce) return;
    const busyWords = choice ? '' : `; ${this.busyWords(busy)}; moving it takes it from that alert`;
    const reason = same ? (busyWords ? `${why}: proposed again${busyWords}` : undefined) : `${why}: camera ${cameraName(next.config)} now instead of ${was.name}${busyWords}`;
    p.emit({ port: 1, payload: { ...p.alert, camera: this.cameraState(next, 'proposed', undefined, reason, p.alert.id) } });
  }

  /** An alert whose camera was turning when ptz-steer was redeployed: steered again, with the cameras there are now. */
  private async resteer(m: InFlight, why: string): Promise<void> {
    if (this.closed || this.isStale(m.alert) || this.dismissed.has(m.alert.id)) return;
    const target = targetOf(m.alert, this.opts.assumedDistanceM);
    let ranked: Choice[];
    if (m.force) {
      // An operator's move: the cameras the operator could take, held or not.
      ranked = this.camerasIfFree(target, m.rank).filter((c) => m.cameraIds.includes(c.config.id));
    } else {
      const chosen = chooseCamera(this.candidates(), target, m.rank, this.now(), this.opts.frameWidthM, this.opts.toleranceDeg);
      ranked = chosen.choice ? chosen.ranked : [];
      if (!ranked.length && this.startWaiting(m.alert, target, m.rank, m.actor, m.emit)) return;
    }
    if (!ranked.length) {
      const camera = m.choice ? this.cameraState(m.choice, 'failed') : undefined;
      this.endHandedOver(m.alert, m.emit, 'failed', `${why}: no camera can look at it now`, camera, 'no-camera');
      return;
    }
    await this.execute(m.alert, ranked, m.rank, m.actor, m.emit, m.force);
  }

  /**
   * An alert handed over that ends here: `state`, with `reason`, on the camera it was shown
   * with (if any; its holder then is no news). `code`: a fault, said on output 2 too.
   */
  private endHandedOver(alert: Alert, emit: Emit, state: CameraState['state'], reason: string, shown?: CameraState, code?: string): void {
    this.hooks.log?.(`alert ${alert.id}: ${reason}`);
    let payload: Alert = alert;
    if (shown) {
      const { heldFor: _then, ...camera } = shown;
      payload = { ...alert, camera: { ...camera, state, reason } };
    }
    emit({ port: 1, payload });
    if (code) emit({ port: 2, payload, error: { code, message: `alert ${alert.id}: ${reason}`, ...(shown ? { cameraId: shown.id } : {}) } });
  }

  /**
   * Takes what ptz-steer had in progress when the flows stopped without a deploy (read from its
   * file, see stopItemsOf), `stoppedForMs` after the stop (undefined: not known, the wall clock
   * not set then or now). An alert that came at most maxAgeMs before now is resumed as a
   * redeploy would resume it, with the cameras there are now: a move, or a wait (for a busy
   * camera or for its cameras to answer) is steered again (or waits again for a busy camera);
   * a proposal still within its time waits for its confirmation again, sent again as proposed
   * (a console started since forgot it). What cannot be served now ends "Node-RED restarted: …".
   * Older alerts, and proposals whose time ran out, end as the console ends them after a
   * restart, "Node-RED stopped: …" (a move "failed", with "closed" on output 2, a wait
   * "unavailable", a proposal "failed"); an alert already sent "failed" that waited for its
   * cameras stays so.
   * What each camera looked at goes on as after a redeploy (see stopLooksOf, takeLooks), for
   * the cameras there are now: it goes home when its quiet period would have ended (at once if
   * that passed during the stop, or the stop's length is unknown), unless an alert takes it
   * first; after a stop of at most maxAgeMs its hold (and look) go on for what they had left, so
   * a less important alert does not take a camera an operator watches. `emitOf` gives each
   * item its emit. Resolves once the moves are over.
   */
  async resumeAfterStop(entries: SteerStopEntry[], stoppedForMs: number | undefined, emitOf: (item: SteerStopEntry) => Emit, maxAgeMs = STOP_RESUME_MAX_AGE_MS): Promise<StopResumeResult> {
    const result: StopResumeResult = { resumed: 0, ended: 0, looks: 0, camerasGone: [] };
    if (this.closed) return result;
    const now = this.now();
    const h: SteerHandOver = { moving: [], waiting: [], proposals: [], aimedAt: [], holds: [], dismissed: [], latestCopies: [], lastSent: [], homeDue: [] };
    const proposals: Array<{ p: Omit<Proposal, 'choice' | 'ranked'>; item: SteerStopItem }> = [];
    const items = entries.filter((e): e is SteerStopItem => !isStopLook(e));
    for (const item of items) {
      const { alert } = item;
      const emit = emitOf(item);
      const ageMs = stoppedForMs === undefined ? Infinity : item.arrivedBeforeStopMs + stoppedForMs;
      const expired = item.state === 'proposed' && (stoppedForMs === undefined || (item.proposalLeftMs ?? 0) - stoppedForMs <= 0);
      if (ageMs > maxAgeMs || expired) {
        if (item.state === 'waiting' && item.offline) {
          this.hooks.log?.(`alert ${alert.id}: ${STOPPED} while it waited for its cameras to answer; sent "failed" already, not tried any more`);
          continue;
        }
        const camera = item.camera ? { ...item.camera } : undefined;
        this.endHandedOver(alert, emit, PENDING_CAMERA_END[item.state], `${STOPPED}: ${PENDING_CAMERA_WORDS[item.state]}`, camera, item.state === 'moving' ? 'closed' : undefined);
        result.ended++;
        continue;
      }
      if (this.latestCopies.has(alert.id) || this.dismissed.has(alert.id)) continue; // it came here again since the start
      result.resumed++;
      const arrivedMs = now - ageMs;
      h.latestCopies.push([alert.id, { alert, arrivedMs }]);
      const rank: AlertRank = { alertId: alert.id, label: alert.label, priority: priorityOf(alert.label, alert.priority), arrivedMs, onsetMs: Math.round((alert.onset ?? Date.now() / 1000) * 1000) };
      if (item.state === 'proposed') {
        proposals.push({ p: { alert, rank, expiresMs: now + (item.proposalLeftMs ?? 0) - (stoppedForMs ?? 0), emit }, item });
        continue;
      }
      // A wait is steered again too: a camera held (its hold kept, or taken by an alert resumed
      // with it) makes it wait again.
      const force = item.state === 'moving' && item.forceCameraIds !== undefined;
      h.moving.push({ alert, rank, actor: item.actor || this.opts.actor, emit, force, cameraIds: item.forceCameraIds ?? [] });
    }
    for (const [id, copy] of h.latestCopies) this.latestCopies.set(id, copy);
    // On this instance's clock: the time stopped counts; unknown, the quiet periods are over.
    const holdsGoOn = stoppedForMs !== undefined && stoppedForMs <= maxAgeMs;
    const after = (leftMs: number) => now + leftMs - (stoppedForMs ?? Infinity);
    for (const look of entries.filter(isStopLook)) {
      const { cameraId, hold, home } = look;
      if (look.alert) {
        const { alert } = look;
        const arrivedMs = now - (look.arrivedBeforeStopMs ?? 0) - (stoppedForMs ?? 0);
        const rank: AlertRank = { alertId: alert.id, label: alert.label, priority: priorityOf(alert.label, alert.priority), arrivedMs, onsetMs: Math.round((alert.onset ?? Date.now() / 1000) * 1000) };
        h.aimedAt.push([cameraId, { alert, target: targetOf(alert, this.opts.assumedDistanceM), rank, actor: look.actor || this.opts.actor, emit: emitOf(look) }]);
      }
      if (hold && holdsGoOn && after(hold.leftMs) > now) {
        const { leftMs, lookLeftMs, arrivedBeforeStopMs, ...rank } = hold;
        const lookUntilMs = lookLeftMs !== undefined && after(lookLeftMs) > now ? after(lookLeftMs) : undefined;
        h.holds.push([cameraId, { ...rank, arrivedMs: now - arrivedBeforeStopMs - stoppedForMs, untilMs: after(leftMs), lookUntilMs }]);
      }
      if (home) h.homeDue.push([cameraId, { atMs: Math.max(now, after(home.inMs)), alertId: home.alertId }]);
    }
    const looks = this.takeLooks(h, (e) => e, RESTARTED);
    result.looks = looks.taken;
    result.camerasGone = looks.gone;
    for (const { p, item } of proposals) {
      const camera = item.camera;
      const was = { id: camera?.id ?? '', name: camera?.name ?? 'none', unavailable: () => (camera ? { ...camera, state: 'unavailable' as const } : undefined) };
      this.takeProposal(p, was, RESTARTED, true);
    }
    this.scheduleWaitCheck();
    await Promise.all(h.moving.map((m) => this.resteer(m, RESTARTED)));
    return result;
  }

  /**
   * ptz-steer is removed (deleted, or its flow disabled): every promise it made ends now, sent
   * as the console ends them after a restart ("ptz-steer was removed: …"): a move under way and
   * a proposal "failed", a wait for a busy camera "unavailable". An alert already sent "failed"
   * that waited for its cameras to answer stays so. Then it closes.
   * `taken`: a hand-over this instance took but had not resumed yet (removed before the flows
   * started): its promises end too, through `rebind` (as resume binds them). An alert of it
   * that came here again since is ended (or not) as this instance has it.
   */
  closeRemoved(taken?: SteerHandOver, rebind: (emit: Emit) => Emit = (e) => e): void {
    const own = this.handOver();
    const here = new Set([...own.latestCopies.map(([id]) => id), ...own.dismissed.map(([id]) => id)]);
    const bound = new Map<Emit, Emit>();
    const bind = <T extends { alert: Alert; emit: Emit }>(x: T): T => {
      let b = bound.get(x.emit);
      if (!b) bound.set(x.emit, (b = rebind(x.emit)));
      return { ...x, emit: b };
    };
    const pending = (xs: Array<{ alert: Alert; emit: Emit }>) => xs.filter((x) => !here.has(x.alert.id));
    const h: SteerHandOver = taken
      ? joinHandOvers(own, {
          ...taken,
          moving: pending(taken.moving).map(bind) as InFlight[],
          waiting: pending(taken.waiting).map(bind) as Waiting[],
          proposals: pending(taken.proposals).map(bind) as Proposal[],
        })
      : own;
    const end = (state: 'moving' | 'waiting' | 'proposed') => ({ state: PENDING_CAMERA_END[state], reason: `${REMOVED}: ${PENDING_CAMERA_WORDS[state]}` });
    for (const m of h.moving) {
      const { state, reason } = end('moving');
      this.endHandedOver(m.alert, m.emit, state, reason, m.choice ? this.cameraState(m.choice, 'moving') : undefined, 'closed');
    }
    for (const w of h.waiting) {
      if (w.offline) continue;
      const { state, reason } = end('waiting');
      const shown = h.lastSent.find(([id]) => id === w.alert.id)?.[1].camera;
      this.endHandedOver(w.alert, w.emit, state, reason, shown);
    }
    for (const p of h.proposals) {
      const { state, reason } = end('proposed');
      this.endHandedOver(p.alert, p.emit, state, reason, this.cameraState(p.choice, 'proposed'));
    }
  }

  close(): void {
    this.closed = true;
    for (const wake of this.sleeps) wake();
    this.sleeps.clear();
    for (const t of this.homeTimers.values()) clearTimeout(t.timer);
    this.homeTimers.clear();
    this.proposals.clear();
    this.holds.clear();
    if (this.waitTimer) clearTimeout(this.waitTimer);
    this.waitTimer = undefined;
    if (this.updateTimer) clearTimeout(this.updateTimer);
    this.updateTimer = undefined;
    this.waiting.clear();
    this.probes.clear();
    this.watchConnections();
    this.dismissed.clear();
    this.aimedAt.clear();
    this.latestCopies.clear();
    this.lastSent.clear();
    this.inFlight.clear();
  }
}

/** The altitudes (m) an alert's position may have: from below the Dead Sea to above any city. */
export const ALERT_ALT_RANGE_M = { min: -1000, max: 10000 } as const;

/**
 * Checks what ptz-steer needs of an alert; messages name the field. Returns its contract
 * fields only: every alert ptz-steer sends is built from it (privacy guarantees 1 and 3).
 */
export function parseAlert(p: Record<string, unknown>, where = 'payload', warn?: DroppedFieldListener): Alert {
  const screened = screenAlert(p, where);
  requireString(p, 'id', where);
  // A label given must be the contract's; an alert without one ranks by payload.priority, or last.
  if (p.label !== undefined) requireAlertLabel(p, where);
  const loc = p.location;
  if (!isObject(loc)) throw new ContractError(`${where}.location`, 'an object with a position {lat, lon} or a bearing (from the localizer)', loc);
  if (loc.position !== undefined) {
    const pos = requireObject(loc.position, `${where}.location.position`);
    requireNumber(pos, 'lat', { min: -90, max: 90 }, `${where}.location.position`);
    requireNumber(pos, 'lon', { min: -180, max: 180 }, `${where}.location.position`);
    if (pos.alt !== undefined) requireNumber(pos, 'alt', ALERT_ALT_RANGE_M, `${where}.location.position`);
  } else if (loc.bearing !== undefined) {
    requireNumber(loc, 'bearing', { min: -360, max: 360 }, `${where}.location`);
    requireString(p, 'sensor', where);
  } else {
    throw new ContractError(`${where}.location`, `a position {lat, lon} or a bearing${typeof loc.reason === 'string' ? ` (localizer said: ${loc.reason})` : ''}`, loc);
  }
  // Every field given as the alert schema states it (an alert of another system may lack the detection's own).
  return screened.checkedFields('alert', warn, { partial: true });
}

/**
 * An alert the localizer could not place (its location has neither a position nor a bearing:
 * one sensor without a direction, a layout that cannot place it, a locating that failed): its
 * contract fields, checked as parseAlert checks them; undefined for any other payload. No camera
 * can look at it, but it is an alert all the same: it goes on to the operators.
 */
export function unplacedAlert(p: Record<string, unknown>, where = 'payload', warn?: DroppedFieldListener): Alert | undefined {
  const loc = p.location;
  if (!isObject(loc) || loc.position !== undefined || loc.bearing !== undefined) return undefined;
  const screened = screenAlert(p, where);
  requireString(p, 'id', where);
  if (p.label !== undefined) requireAlertLabel(p, where);
  return screened.checkedFields('alert', warn, { partial: true });
}

export function targetOf(alert: Alert, assumedDistanceM: number): TargetSpec {
  const loc = alert.location!;
  // Its altitude, when the localizer knew the sensors' (cameras with a ground altitude aim at it).
  if (loc.position) return { kind: 'position', position: { lat: loc.position.lat, lon: loc.position.lon, ...(typeof loc.position.alt === 'number' ? { alt: loc.position.alt } : {}) } };
  const si = alert.sensorInfo;
  return {
    kind: 'bearing',
    sensorId: alert.sensor,
    sensorPosition: si && Number.isFinite(si.lat) && Number.isFinite(si.lon) ? { lat: si.lat, lon: si.lon } : undefined,
    bearingDeg: loc.bearing!,
    assumedDistanceM,
  };
}

/** A camera that does not answer now (network, credentials): worth trying again, or another one. */
function outOfReach(code: string | undefined): boolean {
  return code === 'unreachable' || code === 'auth';
}

/** A move request's camera: its id, or undefined for the proposed or best one. */
function cameraIdOf(p: Record<string, unknown>): string | undefined {
  const v = p.cameraId;
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw new ContractError('payload.cameraId', 'a camera id (text), or nothing for the proposed camera', v);
  return v;
}

/**
 * The ranked cameras, or only the one `cameraId` names: none when it cannot look there (said to
 * the operator, see unservedWords). A camera that is not one of ptz-steer's (`known`) is refused
 * as a field.
 */
function onlyCamera(ranked: Choice[], cameraId: string | undefined, known: string[]): Choice[] {
  if (cameraId === undefined) return ranked;
  if (!known.includes(cameraId)) throw new ContractError('payload.cameraId', `one of this ptz-steer's cameras: ${known.map((id) => `"${id}"`).join(', ')}`, cameraId);
  return ranked.filter((c) => c.config.id === cameraId);
}

/** Waiting alerts in the order they get a free camera: the most important, then the most recent (as holds rank them). */
function mostUrgentFirst(a: Waiting, b: Waiting): number {
  return b.rank.priority - a.rank.priority || recency(b.rank, a.rank);
}

/** A camera state as compared between copies of an alert: heldFor aside (see sendWaiting). */
const WAITING_KEY = '{"state":"waiting"';
function cameraKey(camera: CameraState): string {
  const { heldFor: _holder, state, ...rest } = camera;
  return JSON.stringify({ state, ...rest });
}

/**
 * Confirm mode: the alert came again (a later sensor placed it better) before anyone moved a
 * camera, and its proposal changed. Says so, so the operator knows what *Move camera* now does.
 */
function proposalChangeWords(old: Proposal | undefined, choice: Choice): string | undefined {
  if (!old) return undefined;
  const name = (c: Choice) => cameraName(c.config);
  if (old.choice.config.id !== choice.config.id) return `proposal changed: the alert was placed again, camera ${name(choice)} now instead of ${name(old.choice)}`;
  const was = old.choice.aim.bearingDeg;
  const now = choice.aim.bearingDeg;
  // Below half a degree the picture is the same.
  if (Math.abs(wrap180(now - was)) < 0.5) return undefined;
  return `proposal changed: the alert was placed again, bearing ${was.toFixed(1)}° → ${now.toFixed(1)}°`;
}

/**
 * "glass breaking alert g1" (the console's name of the label, lowercase; it shows the alert's
 * time for its id), or "alert g1" without a label.
 */
function alertWords(label: string | undefined, alertId: string): string {
  return `${label ? `${labelName(label).toLowerCase()} ` : ''}alert ${alertId}`;
}

/**
 * "camera cam-north looked here, then turned to gunshot alert g2", or "…, then was taken by
 * Alice for gunshot alert g2" (`then`: what it did next).
 */
function lookedWords(config: CameraConfig, then: string): string {
  return `camera ${cameraName(config)} looked here, then ${then}`;
}

/**
 * Why a camera did not turn to an alert, for operators: what it means for them, not the
 * command that failed (that goes on output 2 and in the log).
 */
export function failureWords(camera: string, code: string | undefined): string {
  return `camera ${camera} ${cameraErrorWords(code).moveFailed}`;
}

/** "cameras A and B are not responding" (names nearest first). */
function silentWords(names: string[]): string {
  const list = names.length === 2 ? `${names[0]} and ${names[1]}` : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
  return `${names.length === 2 ? 'both cameras' : `all ${names.length} cameras`}, ${list}, are not responding`;
}

/** A camera's state for an alert, aimed as `choice` says (`r`: where the move ended). */
function cameraStateOf(choice: Choice, state: CameraState['state'], r?: MoveResult, reason?: string): CameraState {
  const cfg = choice.config;
  const wanted = aimToCameraDegrees(cfg, choice.aim);
  const wantedSpace = degreesToSpace(cfg.calibration, wanted);
  const pos = r?.position ?? wantedSpace;
  const deg = spaceToDegrees(cfg.calibration, pos);
  const out: CameraState = {
    id: cfg.id,
    name: cameraName(cfg),
    pan: round(deg.panDeg, 2),
    tilt: round(deg.tiltDeg, 2),
    zoom: round(pos.zoom, 3),
    target: { bearing: round(choice.aim.bearingDeg, 2), tilt: round(choice.aim.tiltDeg, 2), distanceM: round(choice.aim.distanceM, 1) },
    state,
  };
  if (r?.errorDeg !== undefined) out.errorDeg = r.errorDeg;
  if (r) out.moveMs = r.moveMs;
  if (reason) out.reason = reason;
  return out;
}

/** What operators call a camera: its name, else its id. */
function cameraName(config: CameraConfig): string {
  return config.name || config.id;
}

/** "5 min", "90 s", "300 ms". */
function durationWords(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = Math.round(ms / 1000);
  return s >= 60 && s % 60 === 0 ? `${s / 60} min` : `${s} s`;
}

/** How long ago an alert began: "90 s", "62 min", "5 h", "3 days". */
export function ageWords(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 2 * 86_400) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86_400)} days`;
}

function round(v: number, d: number): number {
  const f = 10 ** d;
  return Math.round(v * f) / f;
}
