/**
 * Moving a camera onto a target and checking it got there: AbsoluteMove then GetStatus until
 * within tolerance; when the camera lacks a command or faults, RelativeMove, then a
 * closed-loop ContinuousMove (always followed by an explicit Stop), then the nearest preset
 * (verified, since presets get erased or do nothing on some models).
 */
import { CameraError, CameraConnection, PresetInfo, PtzStatus, classifyError } from './connection';
import { CameraDegrees, beyondAdvertisedWords, degreesToSpace, fitToAdvertised, hfovForZoom, outOfRangeWords, panIsEndless, pointingErrorDeg, spaceToDegrees, wrap180 } from './geometry';
import { CameraCalibration, PtzPosition } from './types';
import { monotonicMs } from '../util/clock';

export type MoveMethod = 'absolute' | 'relative' | 'continuous' | 'preset';

export interface MoveOptions {
  /** On target when pan and tilt are both within this many degrees. */
  toleranceDeg?: number;
  /** Give up waiting for one command after this long. */
  moveTimeoutMs?: number;
  pollMs?: number;
  /** Hook: the first move command was sent (for latency figures). */
  onCommandSent?: (method: MoveMethod) => void;
  /**
   * Hook: the camera answered the first move command without a fault, so it is turning (or is
   * there already). Until then nothing says it has left where it pointed.
   */
  onTurning?: (method: MoveMethod) => void;
  sleep?: (ms: number) => Promise<void>;
  /** Clock for the deadlines and moveMs, ms (tests); a monotonic clock by default (a wall clock step is no time spent). */
  now?: () => number;
  /** Checked between polls: a newer move on the same camera supersedes this one. */
  cancelled?: () => string | undefined;
}

class Superseded extends Error {}

/**
 * A camera that has not moved is not judged stalled until this long after the move command:
 * some acknowledge a move at once but start turning up to a second later, and say IDLE until
 * then (or always). Abandoning such a move sent a RelativeMove from the old position.
 */
export const MOVE_START_GRACE_MS = 2000;

/** Polls without any change (after MOVE_START_GRACE_MS) that make a move judged stalled. */
const STALL_POLLS = 5;

export interface MoveResult {
  state: 'on-target' | 'preset' | 'failed';
  method?: MoveMethod;
  /** Final position in the camera's space. */
  position?: PtzPosition;
  /** Final pointing error against the target, degrees. */
  errorDeg?: number;
  moveMs: number;
  presetToken?: string;
  /**
   * false when the camera does not report its position: the move was taken as done when the
   * camera said it stopped (or MOVE_START_GRACE_MS after the command, when it never says), not
   * measured; `position` is then where it was sent and `errorDeg` is absent.
   */
  verified?: boolean;
  /** Why earlier methods were skipped or failed, in order. */
  notes: string[];
  error?: CameraError;
}

/** What the mover needs from a connection (CameraConnection provides it). */
export type Ptz = Pick<CameraConnection, 'absoluteMove' | 'relativeMove' | 'continuousMove' | 'stop' | 'getStatus' | 'gotoPreset' | 'capabilities' | 'unsupported' | 'presets' | 'id'> &
  Partial<Pick<CameraConnection, 'ensureConnected' | 'capabilitiesRead'>>;

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function moveToTarget(ptz: Ptz, cal: CameraCalibration, target: CameraDegrees, opts: MoveOptions = {}): Promise<MoveResult> {
  const toleranceDeg = opts.toleranceDeg ?? 1;
  const moveTimeoutMs = opts.moveTimeoutMs ?? 15_000;
  const pollMs = opts.pollMs ?? 100;
  const sleep = opts.sleep ?? defaultSleep;
  const now = opts.now ?? monotonicMs;
  const t0 = now();
  // A camera never connected yet is connected first: the limits it gives for its spaces are read
  // then, and the target is judged against them before anything is sent.
  if (ptz.ensureConnected && ptz.capabilitiesRead === false) {
    try {
      await ptz.ensureConnected();
    } catch (e) {
      return { state: 'failed', moveMs: now() - t0, notes: [], error: classifyError(e, ptz.id) };
    }
  }
  // AbsoluteMove, RelativeMove and ContinuousMove share two move timeouts in all; the preset
  // fallback gets one more. Bounds how long an alert waits for a misbehaving camera.
  const stagesDeadline = t0 + 2 * moveTimeoutMs;
  const notes: string[] = [];
  const asked = degreesToSpace(cal, target);
  // Within the limits the camera gives for its space: a pan written as it writes a turn (0…360
  // or −180…180), an axis just past an end (within the tolerance) at that end.
  const advertised = ptz.capabilities.absoluteRange;
  const goal = fitToAdvertised(cal, advertised, asked, toleranceDeg);
  // What the camera can actually reach (clamped to its ranges), in degrees.
  const reachable = spaceToDegrees(cal, goal);
  let sent = false;
  const markSent = (m: MoveMethod) => {
    if (!sent) opts.onCommandSent?.(m);
    sent = true;
  };
  let turning = false;
  const markTurning = (m: MoveMethod) => {
    if (!turning) opts.onTurning?.(m);
    turning = true;
  };
  const errOf = (p: PtzPosition) => pointingErrorDeg(spaceToDegrees(cal, p), target);
  // On target is judged on pan and tilt: zoom is sent, but cameras without zoom, with a zoom
  // range short of the goal, or with coarse zoom steps land elsewhere, and the picture is still
  // pointed where it must be. Chasing the zoom would abandon a good move for worse methods.
  const reached = (p: PtzPosition) => pointingErrorDeg(spaceToDegrees(cal, p), reachable) <= toleranceDeg;
  const status = async (): Promise<PtzStatus> => withZoom(await ptz.getStatus(), goal.zoom);
  // Set once the camera's GetStatus is seen without a position: nothing is judged by position then.
  let positionUnknown = false;
  /** A move was taken (no fault) and the camera stopped short of the target: it may be at its end of travel. */
  let stoppedShort = false;
  /**
   * Where a camera that stopped short stays when a RelativeMove asks it on: at its end of travel,
   * or landing off its aim and ignoring RelativeMove. ContinuousMove steps tell which.
   */
  let stuckAt: PtzPosition | undefined;
  /** ContinuousMove steps were taken (without a fault). */
  let continuousTried = false;
  const stopWords = (at: PtzPosition): string => {
    const d = spaceToDegrees(cal, at);
    return `the camera stops at pan ${d.panDeg.toFixed(1)}°, tilt ${d.tiltDeg.toFixed(1)}°, ${errOf(at).toFixed(1)}° from the target`;
  };
  /** How the last blind settle ended: the camera said MOVING, then IDLE. */
  let sawItStop = false;
  const NO_POSITION = 'the camera does not report its position (GetStatus without Position)';
  const result = (state: MoveResult['state'], method: MoveMethod | undefined, position?: PtzPosition, extra: Partial<MoveResult> = {}): MoveResult => ({
    state,
    method,
    position,
    errorDeg: position ? round(errOf(position), 2) : undefined,
    moveMs: now() - t0,
    notes,
    ...extra,
  });

  /**
   * Done by the camera's word alone (no position to measure): where it was sent, no error
   * figure, and a note saying how it was judged (`moving`: its last MoveStatus).
   */
  const unverified = (state: MoveResult['state'], method: MoveMethod, sentTo: PtzPosition, extra: Partial<MoveResult> = {}): MoveResult => {
    notes.push(`${NO_POSITION}: taken as there once ${sawItStop ? 'it said it had stopped (MoveStatus MOVING, then IDLE)' : `${MOVE_START_GRACE_MS / 1000} s had passed without it saying it moved`}, not measured`);
    return { ...result(state, method, sentTo, extra), errorDeg: undefined, verified: false };
  };

  /** Polls GetStatus until `done(position)`, a stall, or the timeout; `commandAtMs`: when the move was sent. */
  const settle = async (done: (p: PtzPosition) => boolean, commandAtMs: number, lastResort = false): Promise<{ ok: boolean; status?: PtzStatus }> => {
    const deadline = lastResort ? now() + moveTimeoutMs : Math.min(now() + moveTimeoutMs, stagesDeadline);
    let last: PtzStatus | undefined;
    let still = 0;
    let seenMoving = false;
    while (now() < deadline) {
      await sleep(pollMs);
      checkCancelled();
      const s = await status();
      if (s.moving === true) seenMoving = true;
      if (s.positionKnown === false) {
        // Only its word is left: stopped after it was seen moving, or (a camera that never says
        // MOVING, or says nothing) once a start would have shown.
        positionUnknown = true;
        if (s.moving !== true && (seenMoving || now() - commandAtMs >= MOVE_START_GRACE_MS)) {
          sawItStop = seenMoving;
          return { ok: true, status: s };
        }
        continue;
      }
      // Passing through the target on the way elsewhere (a camera whose AbsoluteMove lands off
      // its aim) is not arriving: taken once it says it stopped after it was seen moving, or
      // once two readings in a row agree.
      const movedDeg = last ? degreesApart(cal, s.position, last.position) : Infinity;
      if (done(s.position) && ((seenMoving && s.moving === false) || movedDeg < ARRIVED_STILL_DEG)) return { ok: true, status: s };
      const unchanged = last && samePlace(cal, s.position, last.position);
      // A camera that says nothing about its motion (or never updates it) is judged by its position alone.
      const startMayLag = now() - commandAtMs < MOVE_START_GRACE_MS;
      still = unchanged && s.moving !== true && !startMayLag ? still + 1 : 0;
      last = s;
      if (still >= STALL_POLLS) return { ok: false, status: s };
    }
    // Out of time while within tolerance (still creeping): there.
    return { ok: last !== undefined && done(last.position), status: last };
  };

  const checkCancelled = () => {
    const why = opts.cancelled?.();
    if (why) throw new Superseded(why);
  };
  /** The last command the camera refused (its code says why the move failed, when it does). */
  let faulted: CameraError | undefined;
  const soft = (e: unknown): CameraError => {
    if (e instanceof Superseded) throw e;
    const ce = classifyError(e, ptz.id);
    if (ce.code === 'unreachable' || ce.code === 'auth' || ce.code === 'closed') throw ce;
    faulted = ce;
    return ce;
  };

  // A target beyond the camera's range (an operator's choice of camera, or one chosen before its
  // own limits were known; the chooser judges with the same tolerance): the camera would stop at
  // its end of travel, and "on target" there would be false. Refused before anything moves.
  const outOfRange = outOfRangeWords(cal, target, toleranceDeg) ?? beyondAdvertisedWords(cal, advertised, asked, toleranceDeg);
  if (outOfRange) {
    notes.push(`not moved: ${outOfRange}`);
    return result('failed', undefined, undefined, { error: new CameraError('out-of-range', `cannot point there: ${outOfRange}`, ptz.id) });
  }

  try {
    // 1. AbsoluteMove.
    if (ptz.capabilities.absolute && !ptz.unsupported.has('absolute')) {
      try {
        const sentAtMs = now();
        const p = ptz.absoluteMove(goal);
        markSent('absolute');
        await p;
        markTurning('absolute');
        const s = await settle(reached, sentAtMs);
        if (s.ok && positionUnknown) return unverified('on-target', 'absolute', goal);
        if (s.ok) return result('on-target', 'absolute', s.status!.position);
        stoppedShort = true;
        notes.push(`AbsoluteMove did not reach the target (error ${s.status && s.status.positionKnown !== false ? errOf(s.status.position).toFixed(1) : '?'}°)`);
      } catch (e) {
        const ce = soft(e);
        if (ce.code === 'not-supported') ptz.unsupported.add('absolute');
        notes.push(`AbsoluteMove failed: ${ce.message}`);
      }
    } else notes.push('AbsoluteMove not offered by the camera');

    // Relative and closed-loop moves start from where the camera is: unknown, they would steer
    // from a made-up 0, 0. Only a preset is left (see it, below).
    if (!positionUnknown && (await status()).positionKnown === false) positionUnknown = true;
    if (positionUnknown) notes.push(`RelativeMove and ContinuousMove not tried: ${NO_POSITION}`);
    // 2. RelativeMove, a few corrections at most.
    else if (ptz.capabilities.relative && !ptz.unsupported.has('relative')) {
      try {
        for (let i = 0; i < 3 && now() < stagesDeadline; i++) {
          const cur = (await status()).position;
          if (reached(cur)) return result('on-target', 'relative', cur);
          const sentAtMs = now();
          const p = ptz.relativeMove(spaceDelta(cal, cur, goal));
          markSent('relative');
          await p;
          markTurning('relative');
          const s = await settle(reached, sentAtMs);
          if (s.ok) return result('on-target', 'relative', s.status!.position);
          const at = s.status?.position;
          const movedNot = at !== undefined && samePlace(cal, at, cur);
          if (movedNot && stoppedShort) {
            // Stopped short once, and a move on from there does nothing: a camera at its end of
            // travel (one that clamps moves without a fault), or one that lands off its aim and
            // ignores RelativeMove. ContinuousMove steps tell which (below).
            stuckAt = at;
            notes.push(`RelativeMove did not move it on: ${stopWords(at)}`);
            break;
          }
          if (at && !movedNot) stoppedShort = true;
        }
        if (!stuckAt) notes.push('RelativeMove did not reach the target');
      } catch (e) {
        const ce = soft(e);
        if (ce.code === 'not-supported') ptz.unsupported.add('relative');
        notes.push(`RelativeMove failed: ${ce.message}`);
      }
    } else notes.push('RelativeMove not offered by the camera');

    // 3. Closed-loop ContinuousMove, with an explicit Stop after every step.
    if (positionUnknown) {
      /* not tried: said above */
    } else if (ptz.capabilities.continuous && !ptz.unsupported.has('continuous')) {
      try {
        const r = await continuousApproach(ptz, cal, goal, reached, {
          readStatus: status,
          now,
          moveTimeoutMs: Math.max(0, Math.min(moveTimeoutMs, stagesDeadline - now())),
          pollMs,
          sleep,
          markSent,
          markTurning,
          toleranceDeg,
          checkCancelled,
          giveUpWhenStuck: stuckAt !== undefined,
        });
        continuousTried = true;
        if (r.ok && stuckAt) notes.push('ContinuousMove steps took it on: it lands off its aim (an inaccurate AbsoluteMove), not at an end of its travel');
        if (r.ok) return result('on-target', 'continuous', r.position);
        if (r.stuck && stuckAt && r.position) {
          // Not even step by step: its head ends there, before the ranges set for it.
          const msg = `${stopWords(stuckAt)}, and goes no further, step by step either: the target is beyond its travel (its head stops before the pan and tilt ranges set for it: check them)`;
          notes.push(msg);
          return result('failed', 'continuous', r.position, { error: new CameraError('out-of-range', msg, ptz.id) });
        }
        notes.push('ContinuousMove did not reach the target');
      } catch (e) {
        const ce = soft(e);
        if (ce.code === 'not-supported') ptz.unsupported.add('continuous');
        notes.push(`ContinuousMove failed: ${ce.message}`);
      }
    } else notes.push('ContinuousMove not offered by the camera');
    if (stuckAt && !continuousTried) {
      // Nothing tells its end of travel from an aim that lands off: said as both; another camera is tried.
      const msg = `${stopWords(stuckAt)}, and a RelativeMove does not move it on: the target may be beyond its travel, or the camera lands off its aim and ignores RelativeMove (without ContinuousMove the two cannot be told apart; check its pan and tilt ranges)`;
      notes.push(msg);
      return result('failed', 'relative', stuckAt, { error: new CameraError('out-of-range', msg, ptz.id) });
    }

    // 4. Nearest preset, verified.
    const preset = nearestPreset(cal, ptz.presets, target);
    if (!preset) {
      return result('failed', undefined, undefined, { error: new CameraError('not-supported', `cannot move the camera: ${notes.join('; ')}; no preset with a known position`, ptz.id) });
    }
    // A preset is a fallback only when the target is in its picture: "preset" sent for one that
    // looks elsewhere (the only preset, "Home", 55° away) would have operators watch the wrong place.
    // Its picture is wider than tall (16:9): pan is judged against half its width, tilt half its height.
    const presetAt = spaceToDegrees(cal, preset.position);
    const presetHfovDeg = hfovForZoom(cal, preset.position.zoom);
    const presetVfovDeg = verticalFovDeg(presetHfovDeg);
    const panOffDeg = Math.abs(wrap180(presetAt.panDeg - target.panDeg));
    const tiltOffDeg = Math.abs(presetAt.tiltDeg - target.tiltDeg);
    if (panOffDeg > presetHfovDeg / 2 || tiltOffDeg > presetVfovDeg / 2) {
      const presetOffDeg = pointingErrorDeg(presetAt, target);
      notes.push(`the nearest preset, "${preset.name}", looks ${presetOffDeg.toFixed(1)}° from the target, outside its ${presetHfovDeg.toFixed(1)}° × ${presetVfovDeg.toFixed(1)}° picture: not used`);
      return result('failed', undefined, undefined, { error: new CameraError(faulted?.code ?? 'error', `cannot move the camera there: ${notes.join('; ')}`, ptz.id) });
    }
    try {
      const before = (await ptz.getStatus()).position;
      const sentAtMs = now();
      const p = ptz.gotoPreset(preset.token);
      markSent('preset');
      await p;
      markTurning('preset');
      const near = (q: PtzPosition) => pointingErrorDeg(spaceToDegrees(cal, q), spaceToDegrees(cal, preset.position!)) <= Math.max(toleranceDeg, 1);
      const s = await settle(near, sentAtMs, true);
      if (s.ok && positionUnknown) return unverified('preset', 'preset', preset.position, { presetToken: preset.token });
      if (s.ok) return result('preset', 'preset', s.status!.position, { presetToken: preset.token });
      const at = s.status?.position ?? before;
      const msg = `preset "${preset.name}" did not move the camera there (it may have been erased)`;
      notes.push(msg);
      return result('failed', 'preset', at, { presetToken: preset.token, error: new CameraError('soap-fault', `${msg}; ${notes.slice(0, -1).join('; ')}`, ptz.id) });
    } catch (e) {
      const ce = soft(e);
      notes.push(`GotoPreset failed: ${ce.message}`);
      return result('failed', 'preset', undefined, { presetToken: preset.token, error: ce });
    }
  } catch (e) {
    if (e instanceof Superseded) {
      notes.push(e.message);
      return result('failed', undefined, undefined, { error: new CameraError('superseded', e.message, ptz.id) });
    }
    const ce = classifyError(e, ptz.id);
    return result('failed', undefined, undefined, { error: ce });
  }
}

/**
 * A status whose zoom the camera did not say reads as at the goal zoom: the zoom sent is the
 * best known, and a zoom 0 taken for real would drive the zoom back and forth for nothing.
 */
function withZoom(s: PtzStatus, goalZoom: number): PtzStatus {
  return s.zoomKnown === false ? { ...s, position: { ...s.position, zoom: goalZoom } } : s;
}

/** The height of a 16:9 picture whose width is `hfovDeg`, degrees (cameras stream 16:9). */
function verticalFovDeg(hfovDeg: number): number {
  return (2 * Math.atan(Math.tan((hfovDeg * Math.PI) / 360) * (9 / 16)) * 180) / Math.PI;
}

/**
 * Two readings of a camera that has not moved: cameras give positions to a few decimals, and
 * the last digit jitters between readings of a head standing still (0.166666, 0.166667), which
 * an exact comparison took for motion, so a camera stopped short was never judged stalled.
 */
function samePlace(cal: CameraCalibration, a: PtzPosition, b: PtzPosition): boolean {
  return degreesApart(cal, a, b) < SAME_PLACE_DEG && Math.abs(a.zoom - b.zoom) < SAME_ZOOM;
}
/** How far apart two positions in the camera's space point, degrees (pan and tilt). */
function degreesApart(cal: CameraCalibration, a: PtzPosition, b: PtzPosition): number {
  return pointingErrorDeg(spaceToDegrees(cal, a), spaceToDegrees(cal, b));
}
const SAME_PLACE_DEG = 0.01;
/**
 * Two readings within the target this close together are an arrival: slower than 1°/s at
 * 100 ms polls, where a head turning past the target moves degrees between readings.
 */
const ARRIVED_STILL_DEG = 0.1;
/** ContinuousMove steps in a row without coming closer that show a head at its end of travel. */
const STUCK_STEPS = 3;
const SAME_ZOOM = 1e-4;

/** Translation from `cur` to `goal` in the same space, the short way round when pan is endless. */
export function spaceDelta(cal: CameraCalibration, cur: PtzPosition, goal: PtzPosition): PtzPosition {
  let dPan = goal.pan - cur.pan;
  if (panIsEndless(cal)) {
    const full = cal.space === 'degrees' ? 360 : 2;
    dPan = ((((dPan + full / 2) % full) + full) % full) - full / 2;
  }
  return { pan: dPan, tilt: goal.tilt - cur.tilt, zoom: goal.zoom - cur.zoom };
}

async function continuousApproach(
  ptz: Ptz,
  cal: CameraCalibration,
  goal: PtzPosition,
  reached: (p: PtzPosition) => boolean,
  o: {
    readStatus: () => Promise<PtzStatus>;
    now: () => number;
    moveTimeoutMs: number;
    pollMs: number;
    sleep: (ms: number) => Promise<void>;
    markSent: (m: MoveMethod) => void;
    markTurning: (m: MoveMethod) => void;
    toleranceDeg: number;
    checkCancelled: () => void;
    /** Give up (`stuck`) after STUCK_STEPS steps in a row that bring no axis it drives closer. */
    giveUpWhenStuck?: boolean;
  },
): Promise<{ ok: boolean; position?: PtzPosition; stuck?: boolean }> {
  const deadline = o.now() + o.moveTimeoutMs;
  // Velocity per unit of error; halved whenever an axis overshoots (cameras differ in speed).
  const spanPan = cal.space === 'degrees' ? 360 : 2;
  const spanTilt = cal.space === 'degrees' ? Math.abs(cal.tiltMaxDeg - cal.tiltMinDeg) : 2;
  let gain = 4;
  let lastSign = { pan: 0, tilt: 0 };
  let position = (await o.readStatus()).position;
  let moved = false;
  // Some cameras (Reolink) ignore a ContinuousMove with one axis at zero: once seen, the idle
  // axis gets a tiny speed of alternating sign, which nets out.
  let needsBothAxes = false;
  let step = 0;
  let stuckSteps = 0;
  try {
    while (o.now() < deadline) {
      if (reached(position)) return { ok: true, position };
      const d = spaceDelta(cal, position, goal);
      const cur = spaceToDegrees(cal, position);
      const want = spaceToDegrees(cal, goal);
      // An axis already well within tolerance is left alone so it does not creep.
      const ePan = Math.abs(wrap180(want.panDeg - cur.panDeg)) <= o.toleranceDeg / 2 ? 0 : (d.pan / spanPan) * 2;
      const eTilt = Math.abs(want.tiltDeg - cur.tiltDeg) <= o.toleranceDeg / 2 ? 0 : (d.tilt / spanTilt) * 2;
      const sign = { pan: Math.sign(ePan), tilt: Math.sign(eTilt) };
      if ((lastSign.pan && sign.pan && sign.pan !== lastSign.pan) || (lastSign.tilt && sign.tilt && sign.tilt !== lastSign.tilt)) gain /= 2;
      lastSign = sign;
      const vel = (e: number) => (e === 0 ? 0 : Math.sign(e) * Math.min(1, Math.max(0.02, Math.abs(e) * gain)));
      const v = { pan: vel(ePan), tilt: vel(eTilt), zoom: Math.abs(d.zoom) <= 0.01 ? 0 : Math.sign(d.zoom) * Math.min(1, Math.max(0.05, Math.abs(d.zoom) * 4)) };
      const dither = step++ % 2 === 0 ? 0.02 : -0.02;
      if (needsBothAxes && v.pan === 0 && v.tilt !== 0) v.pan = dither;
      if (needsBothAxes && v.tilt === 0 && v.pan !== 0) v.tilt = dither;
      const p = ptz.continuousMove(v, o.pollMs * 3);
      o.markSent('continuous');
      moved = true;
      await p;
      o.markTurning('continuous');
      await o.sleep(o.pollMs);
      await ptz.stop();
      o.checkCancelled();
      const before = position;
      position = (await o.readStatus()).position;
      const still = Math.abs(position.pan - before.pan) < 1e-9 && Math.abs(position.tilt - before.tilt) < 1e-9;
      if (still && (v.pan === 0) !== (v.tilt === 0)) needsBothAxes = true;
      if (o.giveUpWhenStuck) {
        // Progress is the pointing error (the larger axis) shrinking: a dithered idle axis, or
        // one brought back and forth, does not hide an axis that goes no further.
        const closer = pointingErrorDeg(spaceToDegrees(cal, position), want) < pointingErrorDeg(cur, want) - SAME_PLACE_DEG;
        stuckSteps = closer ? 0 : stuckSteps + 1;
        if (stuckSteps >= STUCK_STEPS) return { ok: false, position, stuck: true };
      }
    }
    return { ok: reached(position), position };
  } finally {
    // Whatever happened, never leave a camera turning (some ignore the timeout until Stop).
    if (moved) await ptz.stop().catch(() => undefined);
  }
}

export function nearestPreset(cal: CameraCalibration, presets: PresetInfo[], target: CameraDegrees): (PresetInfo & { position: PtzPosition }) | undefined {
  let best: (PresetInfo & { position: PtzPosition }) | undefined;
  let bestErr = Infinity;
  for (const p of presets) {
    if (!p.position) continue;
    const d = spaceToDegrees(cal, p.position);
    const err = Math.hypot(wrap180(d.panDeg - target.panDeg), d.tiltDeg - target.tiltDeg);
    if (err < bestErr || (err === bestErr && best && p.token < best.token)) {
      best = { ...p, position: p.position };
      bestErr = err;
    }
  }
  return best;
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
