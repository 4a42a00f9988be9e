/**
 * The localizer's work, without Node-RED: single-array direction of arrival from a
 * detection's span, and fusion of the detections of several sensors into one located event
 * per incident. nodes/localizer.ts wires it to messages, status and timers.
 */
import { readSpan } from '../audio/registry';
import { RingReadResult } from '../audio/ring';
import { Alert, ClockSource, Detection, Location, validateDetection } from '../contracts';
import { sensorAltOf } from '../sensor';
import { ContractError, requireNumber, requireObject, requireString } from '../util/validate';
import { MicPosition } from './arrays';
import { enuToGeodetic, geodeticToEnu, GeoPoint, speedOfSound } from './geo';
import { estimateDoa } from './srp';
import { AddResult, AssociatorHandOver, FuseOptions, IncidentAssociator, Incident, MAX_INCIDENTS, Observation, SAME_POSITION_M, fuseObservations, onsetStdFromRise, samePositionWords, sensorCount } from './fusion';

/** What the localizer needs to know of a sensor (a subset of lib/sensor.ts SensorInfo). */
export interface SensorGeometry {
  id: string;
  lat: number;
  lon: number;
  heightM?: number;
  /** Altitude of the ground at its foot, m, in the site's common datum (absent: a level street). */
  groundAltM?: number;
  headingDeg: number;
  mics: MicPosition[];
  clock: ClockSource;
  clockErrorMs: number;
}

export interface SingleArrayOptions {
  /** Air temperature, °C (speed of sound). */
  temperatureC?: number;
  /** Analysis window after the onset, ms. */
  windowMs?: number;
  /** Below this confidence the bearing is not trusted: method "none". */
  minConfidence?: number;
  /** Reads samples (default: the ring registry). */
  read?: (span: Detection['span']) => RingReadResult;
  /** Height of the sources above the street, m (default 1.5): a line array's assumed elevation. */
  sourceHeightM?: number;
}

/**
 * A line array (two microphones, or all in a line) measures only the angle from its axis: its
 * elevation is assumed, that of a source this far away, m, at the source height below the array.
 * Sources 5 to 100 m away widen its bearingStd.
 */
export const LINE_ARRAY_NOMINAL_RANGE_M = 20;
const LINE_ARRAY_RANGE_M = [5, 100] as const;

export interface DoaOutcome {
  location: Location;
  /** Onset uncertainty from the attack, ms, when the samples were read. */
  onsetStdMs?: number;
}

/** Below this DOA confidence a bearing is not trusted (calibrated on the canyon evaluation). */
export const DEFAULT_MIN_CONFIDENCE = 0.3;

/**
 * The localizer node's numeric settings: accepted range and default (empty = the default).
 * Its editor form refuses what is outside these ranges (test/unit/editor-validators.test.ts).
 */
export const LOCALIZER_SETTINGS = {
  temperatureC: { min: -40, max: 60, default: 15 },
  windowMs: { min: 5, max: 200, default: 20 },
  minConfidence: { min: 0, max: 1, default: DEFAULT_MIN_CONFIDENCE },
  minSensors: { min: 1, max: 100, integer: true, default: 3 },
  timeoutMs: { min: 50, max: 60000, default: 1500 },
  onsetToleranceMs: { min: 0, max: 5000, default: 20 },
  maxClockErrorMs: { min: 0, max: 60000, default: 10 },
  sourceHeightM: { min: -100, max: 1000, default: 1.5 },
  continuationS: { min: 0, max: 60, default: 4 },
} as const;

const round = (v: number, d = 2) => Math.round(v * 10 ** d) / 10 ** d;

/** Direction of arrival of one detection from its span. Never throws for unlocalisable input: says why. */
export function locateSingle(det: Detection, sensor: SensorGeometry | undefined, opts: SingleArrayOptions = {}): DoaOutcome {
  const none = (reason: string): DoaOutcome => ({ location: { method: 'none', sensors: [det.sensor], reason } });
  if (!sensor) return none(`no array geometry for sensor "${det.sensor}" (choose its vigie-sensor in the localizer)`);
  if (sensor.mics.length < 2) return none(`sensor "${det.sensor}" has a single microphone: no direction`);
  const read = (opts.read ?? readSpan)(det.span);
  if (!read.ok) return none(`audio ${read.reason}: ${read.message}`);
  try {
    return doaOf(det, sensor, read, opts, none);
  } finally {
    // The copies read from the ring are zeroed once used (DESIGN §4.2).
    for (const ch of read.channels) ch.fill(0);
  }
}

function doaOf(det: Detection, sensor: SensorGeometry, read: Extract<RingReadResult, { ok: true }>, opts: SingleArrayOptions, none: (reason: string) => DoaOutcome): DoaOutcome {
  if (read.channels.length !== sensor.mics.length) {
    return none(`span has ${read.channels.length} channels but sensor "${sensor.id}" has ${sensor.mics.length} microphones`);
  }
  for (const ch of read.channels) {
    for (let i = 0; i < ch.length; i += 97) if (!Number.isFinite(ch[i])) return none('span holds NaN/Inf samples');
  }
  // The detection's span starts shortly before the onset; the onset is refined on the first 400 ms.
  const head = Math.min(read.frames, Math.round(0.4 * read.sampleRate));
  if (head < Math.round(0.01 * read.sampleRate)) return none(`span too short (${read.frames} frames)`);
  try {
    const drop = (sensor.heightM ?? 4) - (opts.sourceHeightM ?? 1.5);
    const elevationAt = (rangeM: number) => (Math.atan2(-drop, rangeM) * 180) / Math.PI;
    const [nearM, farM] = LINE_ARRAY_RANGE_M;
    const elevations = [elevationAt(nearM), elevationAt(farM)];
    const doa = estimateDoa(
      read.channels.map((c) => c.subarray(0, head)),
      sensor.mics,
      {
        sampleRate: read.sampleRate,
        headingDeg: sensor.headingDeg,
        speedOfSoundMs: speedOfSound(opts.temperatureC ?? 15),
        windowMs: opts.windowMs,
        lineArrayElevation: { assumedDeg: elevationAt(LINE_ARRAY_NOMINAL_RANGE_M), minDeg: Math.min(...elevations), maxDeg: Math.max(...elevations) },
      },
    );
    const minConf = opts.minConfidence ?? DEFAULT_MIN_CONFIDENCE;
    // A line array: two bearings, mirror images across its axis, and no elevation measured.
    const frontBack = doa.mirrorBearingDeg !== undefined ? `line array: front/back ambiguity, bearing ${round(doa.bearingDeg, 0)}° or ${round(doa.mirrorBearingDeg, 0)}°` : undefined;
    if (doa.confidence < minConf) {
      const low = `low direction confidence ${round(doa.confidence)} < ${minConf}`;
      return { location: { method: 'none', sensors: [det.sensor], confidence: round(doa.confidence), reason: frontBack ? `${frontBack} (${low})` : low } };
    }
    return {
      location: {
        method: 'doa',
        bearing: round(doa.bearingDeg),
        ...(frontBack ? {} : { elevation: round(doa.elevationDeg, 1) }),
        bearingStd: round(doa.bearingStdDeg),
        sensors: [det.sensor],
        confidence: round(doa.confidence),
        ...(frontBack ? { reason: frontBack } : {}),
      },
      onsetStdMs: onsetStdFromRise(doa.onsetRiseMs, doa.onsetContrastDb),
    };
  } catch (err) {
    return none((err as Error).message);
  }
}

export function sensorInfoOf(s: SensorGeometry): NonNullable<Detection['sensorInfo']> {
  // alt only with a ground altitude: the array's altitude (a height above the street alone is none).
  return { lat: s.lat, lon: s.lon, ...sensorAltOf({ groundAltM: s.groundAltM, heightM: s.heightM ?? REMOTE_SENSOR_HEIGHT_M }), heading: s.headingDeg, clock: s.clock, clockErrorMs: s.clockErrorMs };
}

/** Height of a sensor known only from its detections' sensorInfo, m: on a pole. */
export const REMOTE_SENSOR_HEIGHT_M = 4;

export interface FusionOptions extends SingleArrayOptions {
  minSensors?: number;
  timeoutMs?: number;
  keepMs?: number;
  onsetToleranceMs?: number;
  /** Sensors with a worse clock are left out of TDOA, ms. */
  maxClockErrorMs?: number;
  /** Onset picking uncertainty of detections, ms (default 1). */
  onsetStdMs?: number;
  /** An incident this soon after an earlier one, at its place (or a lone report from its sensor), continues it, s (default 4; 0 = off). */
  continuationSec?: number;
  /**
   * Told, once each, of a layout that cannot place sounds, naming its sensors: two sensors
   * reported from one place, sensors in a line whose onsets fit a source and its mirror image.
   */
  warnLayout?: (text: string) => void;
}

/**
 * An incident whose locating threw: it went out all the same, as an event that cannot be
 * located (method "none", the error as its reason), or, for a refinement, the alert as sent
 * stands. The error is for the caller to report.
 */
export interface LocateFailure {
  incidentId: string;
  label: string;
  error: Error;
}

export interface FusionPollResult {
  /** Located events ready now; an incident whose locating failed is among them, unlocated. */
  ready: Alert[];
  failures: LocateFailure[];
}

export interface FusionAddResult {
  kind: AddResult['kind'];
  incidentId: string;
  /** Different sensors that reported this detection's incident so far. */
  sensors: number;
  /** Located events ready now (this one's incident reached enough sensors). */
  ready: Alert[];
  /**
   * A late report (another sensor, after the incident was sent) that locates it clearly better:
   * the alert as sent, same id, with the new location, to be sent again.
   */
  refined?: Alert;
  /** Incidents whose locating failed (sent unlocated in `ready`, or not refined). */
  failures: LocateFailure[];
}

/** The side of the squares a FusionLocalizer files sensors' places in, m: at least SAME_POSITION_M, so two at one place are in neighbouring squares. */
const PLACE_CELL_M = 1;

/** Sensors whose places a FusionLocalizer remembers to warn of two at one place; past it, new ones are compared but not kept. */
export const MAX_LAYOUT_SENSORS = 5000;

/** How much a location says: a position, a bearing, nothing. */
function locationRank(l: Location): number {
  return l.position ? 2 : l.method === 'doa' ? 1 : 0;
}

/** A late report must shrink the stated position error at least this much to re-send the alert, */
const REFINE_ERROR_RATIO = 0.7;
/** ... from at least this error, m: finer than that, a camera framing about 10 m sees the same scene. */
const REFINE_MIN_ERROR_M = 2;

/**
 * Collects detections (local, or JSON from other gateways) and emits one located event per
 * incident once `minSensors` sensors reported or `timeoutMs` passed; later reports of an
 * emitted incident are absorbed ("late"), never re-alerted.
 */
/** What a FusionLocalizer held (see FusionLocalizer.handOver). */
export interface FusionHandOver {
  assoc: AssociatorHandOver;
  sent: Array<[string, { incident: Incident; alert: Alert }]>;
  origin: GeoPoint | null;
}

/**
 * An incident waiting for sensors when the flows stopped without a deploy is taken over when
 * the localizer starts again at most this long after its first report (as ptz-steer's bound,
 * lib/camera/steer.ts STOP_RESUME_MAX_AGE_MS): it goes out with the sensors it has once its
 * deadline is past, as after a redeploy. An older one goes out too, at once, its location's
 * reason saying that Node-RED stopped while it waited.
 */
export const STOP_RESUME_MAX_AGE_MS = 5 * 60_000;
/**
 * The report an incident's alert is built from (its sensor, onset, level and scores): one that
 * heard the incident's label, so that the alert never says a sensor heard what it did not (an
 * explosion "heard" by a sensor that called it a glass break, its scores saying otherwise). The
 * most confident of those with a bearing (a camera may steer from it), else the most
 * confident of them; only when none has the label (not the case: the label is one of theirs),
 * the first with a bearing, else the first. `obs` in onset order: ties go to the earliest.
 */
export function leadObservation(label: string, obs: Observation[]): Observation {
  const byConfidence = (a: Observation, b: Observation) => b.confidence - a.confidence;
  const heard = obs.filter((o) => o.label === label).sort(byConfidence);
  return heard.find((o) => o.bearingDeg !== undefined) ?? heard[0] ?? obs.find((o) => o.bearingDeg !== undefined) ?? obs[0];
}

/**
 * The warning when the cap of incidents held (MAX_INCIDENTS) was reached: what it did since
 * the localizer started (FusionLocalizer.overCap), that no alert was lost, and what to do.
 */
export function overCapWords(c: { sentEarly: number; forgotten: number }): string {
  const did = [
    c.sentEarly ? `${c.sentEarly} incident${c.sentEarly === 1 ? '' : 's'} sent before ${c.sentEarly === 1 ? 'its' : 'their'} sensors or timeout, with the reports ${c.sentEarly === 1 ? 'it' : 'they'} had` : '',
    c.forgotten ? `${c.forgotten} sent incident${c.forgotten === 1 ? '' : 's'} forgotten early (a late report of one becomes an alert of its own)` : '',
  ].filter(Boolean);
  return `fusion: more than ${MAX_INCIDENTS} incidents held at once (the localizer's cap; a bad night over a district holds some 60): ${did.join('; ')}. No alert was lost; to place every sound with all its sensors, split the sensors between localizers (docs/scaling.md)`;
}

/** The reason an incident older than STOP_RESUME_MAX_AGE_MS is sent with (after the location's own, if any). */
export const STOPPED_WAITING_WORDS = 'Node-RED stopped while it waited for more sensors; sent after the restart';

/** A report of an incident as kept in a file (an Observation without its place in a frame: e, n are computed again). */
export type StopObservation = Omit<Observation, 'e' | 'n'>;

/**
 * An incident waiting for sensors when the flows stopped without a deploy, as kept in a file
 * for the localizer's next start (see fusionStopItemsOf, FusionLocalizer.adoptAfterStop). Its
 * reports carry the detections as received (contract fields: no samples, DESIGN §4); the
 * alert it becomes is one of them. Times are durations before the stop (the monotonic clock
 * does not survive a restart).
 */
export interface FusionStopItem {
  id: string;
  label: string;
  firstBeforeStopMs: number;
  lastBeforeStopMs: number;
  dueEarly?: boolean;
  observations: StopObservation[];
}

/** The incidents of `h` still waiting for sensors (those sent are left: they only absorbed late reports), oldest first. */
export function fusionStopItemsOf(h: FusionHandOver, nowMs: number): FusionStopItem[] {
  const before = (ms: number) => Math.max(0, Math.round(nowMs - ms));
  return h.assoc.incidents
    .filter((i) => !i.emitted && i.observations.length > 0)
    .map((i) => ({
      id: i.id,
      label: i.label,
      firstBeforeStopMs: before(i.firstSeenMs),
      lastBeforeStopMs: before(i.lastSeenMs),
      ...(i.dueEarly ? { dueEarly: true } : {}),
      observations: i.observations.map(({ e: _e, n: _n, ...o }) => o),
    }));
}

/**
 * An incident of a file no localizer took yet, as it is `gapMs` later (the node stopped again
 * before its flows started: its file is written again with it). `gapMs` undefined (the wall
 * clock cannot tell): as old as a stop of unknown length makes it.
 */
export function fusionStopItemOlderBy(item: FusionStopItem, gapMs: number | undefined): FusionStopItem {
  const since = (ms: number) => Math.min(ms + (gapMs ?? Number.MAX_SAFE_INTEGER), Number.MAX_SAFE_INTEGER);
  return { ...item, firstBeforeStopMs: since(item.firstBeforeStopMs), lastBeforeStopMs: since(item.lastBeforeStopMs) };
}

/** A kept incident read back: its reports' detections checked as incoming ones are; throws naming what is wrong. */
export function checkFusionStopItem(raw: unknown): FusionStopItem {
  const o = requireObject(raw, 'incident');
  requireString(o, 'id', 'incident');
  requireString(o, 'label', 'incident');
  requireNumber(o, 'firstBeforeStopMs', { min: 0 }, 'incident');
  requireNumber(o, 'lastBeforeStopMs', { min: 0 }, 'incident');
  if (!Array.isArray(o.observations) || !o.observations.length) throw new ContractError('incident.observations', 'a list of reports', o.observations);
  const observations = o.observations.map((r, i): StopObservation => {
    const where = `incident.observations[${i}]`;
    const x = requireObject(r, where);
    for (const k of ['detectionId', 'sensor', 'label', 'clock']) requireString(x, k, where);
    for (const k of ['onsetSec', 'z', 'clockErrorMs', 'confidence']) requireNumber(x, k, {}, where);
    requireNumber(x, 'lat', { min: -90, max: 90 }, where);
    requireNumber(x, 'lon', { min: -180, max: 180 }, where);
    const optional = (k: string) => (typeof x[k] === 'number' && Number.isFinite(x[k]) ? { [k]: x[k] as number } : {});
    return {
      detectionId: x.detectionId as string,
      sensor: x.sensor as string,
      label: x.label as string,
      onsetSec: x.onsetSec as number,
      z: x.z as number,
      lat: x.lat as number,
      lon: x.lon as number,
      clock: x.clock as string,
      clockErrorMs: x.clockErrorMs as number,
      confidence: x.confidence as number,
      ...optional('bearingDeg'),
      ...optional('bearingStdDeg'),
      ...optional('elevationDeg'),
      ...optional('onsetStdMs'),
      ...optional('groundAltM'),
      // Its contract fields only, as when it came in (privacy guarantees 1 and 3).
      payload: validateDetection(x.payload),
    };
  });
  return { id: o.id as string, label: o.label as string, firstBeforeStopMs: o.firstBeforeStopMs as number, lastBeforeStopMs: o.lastBeforeStopMs as number, ...(o.dueEarly === true ? { dueEarly: true } : {}), observations };
}

export class FusionLocalizer {
  private readonly assoc: IncidentAssociator;
  /** Incidents taken over after a stop that go out late: the words added to their location's reason. */
  private readonly lateWords = new Map<string, string>();
  /** What was sent for each emitted incident, while late reports may still refine it. */
  private readonly sent = new Map<string, { incident: Incident; alert: Alert }>();
  private readonly keepMs: number;
  private origin: GeoPoint | null = null;
  /** Where each sensor reported from, to warn of two at one place (a position typed twice), and its cell in placeCells. */
  private readonly sensorPlaces = new Map<string, { at: GeoPoint; cell: string }>();
  /**
   * The sensors in each PLACE_CELL_M square of the east-north frame: a place is compared with
   * the sensors of the squares around it only, not with every sensor at every detection.
   */
  private readonly placeCells = new Map<string, Set<string>>();
  /** Layouts already warned of (warnLayout). */
  private readonly layoutSaid = new Set<string>();
  private readonly c: number;
  private readonly fuse: FuseOptions;

  constructor(private readonly opts: FusionOptions = {}) {
    this.c = speedOfSound(opts.temperatureC ?? 15);
    this.keepMs = opts.keepMs ?? 30000;
    this.fuse = {
      speedOfSoundMs: this.c,
      sourceHeightM: opts.sourceHeightM ?? 1.5,
      onsetStdMs: opts.onsetStdMs ?? 1,
      maxClockErrorMs: opts.maxClockErrorMs ?? 10,
    };
    this.assoc = new IncidentAssociator({
      speedOfSoundMs: this.c,
      minSensors: opts.minSensors ?? 3,
      timeoutMs: opts.timeoutMs ?? 1500,
      keepMs: opts.keepMs ?? 30000,
      onsetToleranceSec: (opts.onsetToleranceMs ?? 20) / 1000,
      continuationSec: opts.continuationSec ?? 4,
      fuse: this.fuse,
    });
  }

  /**
   * Add a validated detection. `sensor` is the local configuration of that sensor when this
   * instance has one (geometry for DOA); otherwise the detection's sensorInfo gives the position.
   */
  add(det: Detection, sensor: SensorGeometry | undefined, nowMs: number): FusionAddResult {
    const info = det.sensorInfo;
    const lat = sensor?.lat ?? info?.lat;
    const lon = sensor?.lon ?? info?.lon;
    if (typeof lat !== 'number' || typeof lon !== 'number' || !Number.isFinite(lat) || !Number.isFinite(lon)) {
      throw new ContractError('payload.sensorInfo', `{lat, lon, clock} of sensor "${det.sensor}" (or a vigie-sensor with that id in this instance)`, info);
    }
    if (!this.origin) this.origin = { lat, lon, alt: 0 };
    // Height of the array above the street: known for local sensors; remote ones are assumed on a 4 m pole.
    const z = sensor?.heightM ?? REMOTE_SENSOR_HEIGHT_M;
    // The ground's altitude at its foot, when known: a remote sensor's sensorInfo.alt is its array's.
    const remoteAlt = !sensor && typeof info?.alt === 'number' && Number.isFinite(info.alt) ? info.alt - z : undefined;
    const groundAltM = sensor ? sensor.groundAltM : remoteAlt;
    const [e, n] = geodeticToEnu({ lat, lon, alt: 0 }, this.origin);
    // A bearing: one the gateway already computed, or ours when the samples are in this process.
    const incoming = (det as Alert).location;
    let bearingDeg: number | undefined;
    let bearingStdDeg: number | undefined;
    let onsetStdMs: number | undefined;
    if (incoming && incoming.method === 'doa' && typeof incoming.bearing === 'number' && Number.isFinite(incoming.bearing)) {
      bearingDeg = incoming.bearing;
      bearingStdDeg = typeof incoming.bearingStd === 'number' ? incoming.bearingStd : 5;
    } else if (sensor && sensor.mics.length >= 2) {
      const r = locateSingle(det, sensor, this.opts);
      if (r.location.method === 'doa') {
        bearingDeg = r.location.bearing;
        bearingStdDeg = r.location.bearingStd;
        onsetStdMs = r.onsetStdMs;
      }
    }
    const obs: Observation = {
      detectionId: det.id,
      sensor: det.sensor,
      label: det.label,
      onsetSec: det.onset,
      e,
      n,
      z,
      ...(groundAltM !== undefined && Number.isFinite(groundAltM) ? { groundAltM } : {}),
      lat,
      lon,
      clock: sensor?.clock ?? info?.clock ?? 'local',
      clockErrorMs: sensor?.clockErrorMs ?? info?.clockErrorMs ?? 50,
      bearingDeg,
      bearingStdDeg,
      confidence: det.confidence,
      onsetStdMs,
      payload: sensor && !det.sensorInfo ? { ...det, sensorInfo: sensorInfoOf(sensor) } : det,
    };
    this.warnSamePlace(det.sensor, { lat, lon }, e, n);
    const res = this.assoc.add(obs, nowMs);
    const failures: LocateFailure[] = [];
    const refined = res.kind === 'late' ? this.refine(res.incident, failures) : undefined;
    const polled = this.poll(nowMs);
    return { kind: res.kind, incidentId: res.incident.id, sensors: sensorCount(res.incident), ready: polled.ready, ...(refined ? { refined } : {}), failures: [...failures, ...polled.failures] };
  }

  /** Tells warnLayout of the sensors already reported from at the same place as `sensor` (SAME_POSITION_M), each pair once. */
  private warnSamePlace(sensor: string, at: GeoPoint, e: number, n: number): void {
    const known = this.sensorPlaces.get(sensor);
    // Reported from where it was: compared then (each detection of a district's thousands of
    // sensors was compared with all of them, some 10 ms a detection at 5000).
    if (known && known.at.lat === at.lat && known.at.lon === at.lon) return;
    const ce = Math.floor(e / PLACE_CELL_M);
    const cn = Math.floor(n / PLACE_CELL_M);
    for (let de = -1; de <= 1; de++) {
      for (let dn = -1; dn <= 1; dn++) {
        for (const other of this.placeCells.get(`${ce + de}:${cn + dn}`) ?? []) {
          if (other === sensor) continue;
          const [oe, on] = geodeticToEnu({ ...this.sensorPlaces.get(other)!.at, alt: 0 }, { ...at, alt: 0 });
          const apartM = Math.hypot(oe, on);
          if (apartM >= SAME_POSITION_M) continue;
          this.sayLayout(
            `same:${[other, sensor].sort().join('\n')}`,
            `fusion: ${samePositionWords([{ a: { sensor: other }, b: { sensor }, apartM }])}. Onsets from one place measure one range: TDOA needs sensors at 3 places`,
          );
        }
      }
    }
    if (!known && this.sensorPlaces.size >= MAX_LAYOUT_SENSORS) return;
    if (known) {
      const cell = this.placeCells.get(known.cell);
      cell?.delete(sensor);
      if (cell && !cell.size) this.placeCells.delete(known.cell);
    }
    const cell = `${ce}:${cn}`;
    this.sensorPlaces.set(sensor, { at, cell });
    if (!this.placeCells.has(cell)) this.placeCells.set(cell, new Set());
    this.placeCells.get(cell)!.add(sensor);
  }

  /** Tells warnLayout `text` the first time `key` comes (up to MAX_LAYOUT_SENSORS keys). */
  private sayLayout(key: string, text: string): void {
    if (!this.opts.warnLayout || this.layoutSaid.has(key) || this.layoutSaid.size >= MAX_LAYOUT_SENSORS) return;
    this.layoutSaid.add(key);
    this.opts.warnLayout(text);
  }

  /** Located events whose incidents became ready (enough sensors, or timed out). */
  poll(nowMs: number): FusionPollResult {
    for (const [id, s] of this.sent) if (nowMs - s.incident.lastSeenMs >= this.keepMs) this.sent.delete(id);
    const failures: LocateFailure[] = [];
    // Taken incidents are marked emitted: each one goes out, located or not (an alert that was
    // raised reaches the operators), and a late report may still place it (refine).
    const ready = this.assoc.takeReady(nowMs).map((inc) => {
      let alert: Alert;
      try {
        alert = this.locate(inc);
      } catch (err) {
        const error = err instanceof Error ? err : new Error(String(err));
        failures.push({ incidentId: inc.id, label: inc.label, error });
        alert = this.unlocated(inc, error);
      }
      const late = this.lateWords.get(inc.id);
      if (late !== undefined) {
        this.lateWords.delete(inc.id);
        const was = alert.location?.reason;
        alert = { ...alert, location: { ...(alert.location ?? { method: 'none', sensors: [] }), reason: was ? `${was}; ${late}` : late } };
      }
      this.sent.set(inc.id, { incident: inc, alert });
      // Only an incident the associator still holds can take a late report: beyond its cap
      // (MAX_INCIDENTS) the oldest sent are forgotten here too, so that a flood of detections
      // (another system's, each its own incident) is not kept for keepMs whatever its size.
      if (this.sent.size > MAX_INCIDENTS) this.sent.delete(this.sent.keys().next().value!);
      return alert;
    });
    return { ready, failures };
  }

  /**
   * An incident sent after its timeout with two sensors is often placed poorly (nearly parallel
   * bearings, or no position at all); a third sensor's report arriving later (a slower
   * classifier, a remote gateway) can place it well. The alert is sent again, same id and
   * label, when the location gains a position, or its stated error shrinks clearly.
   */
  private refine(inc: Incident, failures: LocateFailure[]): Alert | undefined {
    const prev = this.sent.get(inc.id);
    if (!prev) return undefined;
    // Placed finer than a refinement is worth already: nothing a late report adds can count as
    // better, so it is not located again (with 40 sensors hearing one bang, 37 late reports).
    const placed = prev.alert.location?.position;
    if (placed && placed.errorM < REFINE_MIN_ERROR_M) return undefined;
    let located: Alert & { incident: unknown };
    try {
      located = this.locate(inc, prev.alert.sensor) as Alert & { incident: unknown };
    } catch (err) {
      // The alert as sent stands; the late report is kept with the incident.
      failures.push({ incidentId: inc.id, label: inc.label, error: err instanceof Error ? err : new Error(String(err)) });
      return undefined;
    }
    const next = located.location!;
    const was = prev.alert.location!;
    const better =
      locationRank(next) > locationRank(was) ||
      (!!next.position && !!was.position && was.position.errorM >= REFINE_MIN_ERROR_M && next.position.errorM < was.position.errorM * REFINE_ERROR_RATIO);
    if (!better) return undefined;
    // The alert as sent (its id, label, lead sensor), with the new place and reports.
    const alert = { ...prev.alert, location: next, incident: located.incident } as Alert;
    this.sent.set(inc.id, { incident: inc, alert });
    return alert;
  }

  /**
   * What the cap of incidents held (MAX_INCIDENTS) did since this localizer started: incidents
   * sent before their sensors or timeout, and sent ones forgotten before keepMs.
   */
  get overCap(): { sentEarly: number; forgotten: number } {
    return { sentEarly: this.assoc.incidentsDueEarly, forgotten: this.assoc.sentForgottenEarly };
  }

  /** Sent incidents a late report may still refine (forgotten keepMs after their last report). */
  get refinableIncidents(): number {
    return this.sent.size;
  }

  nextDeadlineMs(nowMs: number): number | null {
    return this.assoc.nextDeadlineMs(nowMs);
  }

  /** Sensors an incident waits for before it is emitted. */
  get minSensors(): number {
    return this.assoc.minSensors;
  }

  clear(): void {
    this.assoc.clear();
    this.sent.clear();
    this.lateWords.clear();
  }

  /** Incidents held: waiting for sensors, or sent and absorbing late reports. */
  get size(): number {
    return this.assoc.size;
  }

  /**
   * What it holds (incidents waiting for more sensors, those sent that a late report may still
   * refine), for the localizer a deploy starts in its place (see adopt); this one is left empty.
   */
  handOver(): FusionHandOver {
    const h: FusionHandOver = { assoc: this.assoc.handOver(), sent: [...this.sent], origin: this.origin };
    this.sent.clear();
    return h;
  }

  /**
   * Takes what a localizer a deploy replaced held (see handOver): each incident waits for its
   * sensors until its deadline, with this instance's Sensors and Timeout.
   */
  adopt(h: FusionHandOver): void {
    if (!this.origin) this.origin = h.origin;
    else if (h.origin && (h.origin.lat !== this.origin.lat || h.origin.lon !== this.origin.lon)) {
      // Places are kept relative to the first sensor seen: those handed over move to this frame.
      for (const inc of h.assoc.incidents) {
        for (const o of [...inc.observations, ...inc.continued]) [o.e, o.n] = geodeticToEnu({ lat: o.lat, lon: o.lon, alt: 0 }, this.origin);
      }
    }
    this.assoc.adopt(h.assoc);
    for (const [id, s] of h.sent) if (!this.sent.has(id)) this.sent.set(id, s);
  }

  /**
   * Takes the incidents that waited for sensors when the flows stopped without a deploy (read
   * from the file, see fusionStopItemsOf), `stoppedForMs` after the stop (undefined: not known).
   * One whose first report came at most maxAgeMs ago waits until its deadline with this
   * instance's Timeout, as after a redeploy (past already: it goes out at the next poll with
   * the sensors it has); an older one goes out at the next poll, STOPPED_WAITING_WORDS in its
   * location's reason. Returns how many of each.
   */
  adoptAfterStop(items: FusionStopItem[], stoppedForMs: number | undefined, nowMs: number, maxAgeMs = STOP_RESUME_MAX_AGE_MS): { recent: number; old: number } {
    const counts = { recent: 0, old: 0 };
    if (!items.length) return counts;
    const first = items[0].observations[0];
    const origin = this.origin ?? { lat: first.lat, lon: first.lon, alt: 0 };
    let seq = 0;
    const incidents: Incident[] = items.map((item) => {
      const ageMs = stoppedForMs === undefined ? Infinity : item.firstBeforeStopMs + stoppedForMs;
      const old = ageMs > maxAgeMs;
      if (old) this.lateWords.set(item.id, STOPPED_WAITING_WORDS);
      counts[old ? 'old' : 'recent']++;
      seq = Math.max(seq, Number(/^inc-(\d+)$/.exec(item.id)?.[1] ?? 0));
      const observations = item.observations.map((o): Observation => {
        const [e, n] = geodeticToEnu({ lat: o.lat, lon: o.lon, alt: 0 }, origin);
        return { ...o, e, n };
      });
      const since = (beforeStopMs: number) => nowMs - (stoppedForMs === undefined ? beforeStopMs : beforeStopMs + stoppedForMs);
      return { id: item.id, label: item.label, observations, firstSeenMs: since(item.firstBeforeStopMs), lastSeenMs: since(item.lastBeforeStopMs), emitted: false, continued: [], ...(old || item.dueEarly ? { dueEarly: true } : {}) };
    });
    this.adopt({ assoc: { incidents, seq }, sent: [], origin });
    return counts;
  }

  /** Every incident waiting for sensors goes out now with the reports it has (the node is removed): an alert from fewer sensors is better than none. */
  flush(nowMs: number): FusionPollResult {
    this.assoc.dueNow();
    return this.poll(nowMs);
  }

  /** `leadSensor`: the sensor the alert was sent with (a refinement keeps it, and its bearing must be that sensor's). */
  private locate(inc: Incident, leadSensor?: string): Alert {
    const obs = [...inc.observations].sort((a, b) => a.onsetSec - b.onsetSec);
    const fix = fuseObservations(obs, this.fuse);
    if (fix.steepGround) this.sayLayout(`steep:${fix.steepGround.sensors.join('\n')}`, `fusion: ${fix.steepGround.words}`);
    if (fix.inLine) {
      const names = [...new Set(fix.inLine)].sort();
      this.sayLayout(
        `line:${names.join('\n')}`,
        `fusion: sensors ${names.map((x) => `"${x}"`).join(', ')} are in a line: from their onsets alone a sound and its mirror image across that line fit alike, and a sound only they hear gets no position (or one between the two, when they are close). A sensor off that line, or arrays whose bearings are trusted, would place it`,
      );
    }
    const lead = (leadSensor !== undefined ? obs.find((o) => o.sensor === leadSensor) : undefined) ?? leadObservation(inc.label, obs);
    const base = lead.payload as Alert;
    const sensors = (fix.used.length ? fix.used.map((i) => obs[i].sensor) : obs.map((o) => o.sensor)).filter((s, i, a) => a.indexOf(s) === i);
    let location: Location;
    if ((fix.method === 'tdoa' || fix.method === 'bearings') && fix.e !== undefined && fix.n !== undefined && this.origin) {
      const g = enuToGeodetic([fix.e, fix.n, 0], this.origin);
      const fromLead = lead.bearingDeg ?? (Math.atan2(fix.e - lead.e, fix.n - lead.n) * 180) / Math.PI;
      location = {
        method: fix.method,
        bearing: round(((fromLead % 360) + 360) % 360),
        bearingStd: round(lead.bearingStdDeg ?? (Math.atan2(fix.errorM ?? 0, Math.max(1, Math.hypot(fix.e - lead.e, fix.n - lead.n))) * 180) / Math.PI),
        // alt only when the sensors' altitudes are known (never guessed from a level street).
        position: { lat: round(g.lat, 7), lon: round(g.lon, 7), ...(fix.alt !== undefined ? { alt: round(fix.alt) } : {}), errorM: round(fix.errorM ?? NaN, 1) },
        sensors,
        ...(fix.reason ? { reason: fix.reason } : {}),
      };
    } else if (fix.method === 'doa') {
      const o = obs[fix.used[0]];
      location = { method: 'doa', bearing: round(o.bearingDeg!), bearingStd: round(o.bearingStdDeg ?? 5), sensors: [o.sensor], ...(fix.reason ? { reason: fix.reason } : {}) };
      return { ...(o.payload as Alert), ...this.labelAndConfidence(inc, obs), location, incident: this.incidentSummary(inc, obs) } as Alert;
    } else {
      location = { method: 'none', sensors, reason: fix.reason ?? 'not localisable' };
    }
    if (fix.rejected.length) {
      const outliers = `outliers left out: ${fix.rejected.map((i) => obs[i].sensor).join(', ')}`;
      location.reason = location.reason ? `${location.reason}; ${outliers}` : outliers;
    }
    return { ...base, ...this.labelAndConfidence(inc, obs), location, incident: this.incidentSummary(inc, obs) } as Alert;
  }

  /** The event as one that cannot be located, the error as its reason: what goes out when locating throws. */
  private unlocated(inc: Incident, error: Error): Alert {
    const obs = [...inc.observations].sort((a, b) => a.onsetSec - b.onsetSec);
    const sensors = obs.map((o) => o.sensor).filter((s, i, a) => a.indexOf(s) === i);
    const location: Location = { method: 'none', sensors, reason: `locating failed: ${error.message}` };
    return { ...(leadObservation(inc.label, obs).payload as Alert), ...this.labelAndConfidence(inc, obs), location, incident: this.incidentSummary(inc, obs) } as Alert;
  }

  /** When sensors disagree on the class, the alert carries the incident's label (see incidentLabel) and its best confidence. */
  private labelAndConfidence(inc: Incident, obs: Observation[]): { label: string; confidence: number } {
    return { label: inc.label, confidence: Math.max(...obs.filter((o) => o.label === inc.label).map((o) => o.confidence)) };
  }

  private incidentSummary(inc: Incident, obs: Observation[]) {
    return {
      id: inc.id,
      reports: obs.map((o) => ({ sensor: o.sensor, detection: o.detectionId, label: o.label, onset: o.onsetSec, ...(o.bearingDeg !== undefined ? { bearing: round(o.bearingDeg) } : {}) })),
    };
  }
}
