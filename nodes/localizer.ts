/**
 * localizer: adds payload.location to detections (DESIGN §2).
 * - single-array: direction of arrival from the detection's span (SRP-PHAT), with the
 *   array geometry and heading of the sensor's vigie-sensor config node;
 * - fusion: collects detections of several sensors (this instance's, or JSON from other
 *   gateways over MQTT) and emits one located event per incident (triangulation, TDOA).
 * Unlocalisable events pass on with location.method "none" and a reason.
 * The work is in lib/localize/localizer.ts; this node reads config, wires input, timers, status.
 */
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeStatus } from 'node-red';
import { Alert, Detection, DroppedFieldWarnings, validateDetection } from '../lib/contracts';
import {
  checkFusionStopItem,
  DEFAULT_MIN_CONFIDENCE,
  FusionHandOver,
  FusionLocalizer,
  FusionStopItem,
  fusionStopItemOlderBy,
  fusionStopItemsOf,
  LOCALIZER_SETTINGS,
  LocateFailure,
  STOP_RESUME_MAX_AGE_MS,
  SensorGeometry,
  locateSingle,
  overCapWords,
  sensorInfoOf,
} from '../lib/localize/localizer';
import type { SensorInfo } from '../lib/sensor';
import { ClockAheadWarnings, monotonicMs } from '../lib/util/clock';
import { capturedSensorNodes, deployedSensorNodes, FlowChain, scopeOfFlow } from '../lib/util/deployed-nodes';
import { errorStatus, setStatus, shortText } from '../lib/util/status';
import { ContractError, parsedPayload, settingsReader } from '../lib/util/validate';
import { onFlowsStarted } from '../lib/util/flows-started';
import { HandOverShelf } from '../lib/util/handover';
import { StopFiles } from '../lib/util/stop-file';
import { keepStopFiles, takeStopFile } from '../lib/util/stop-file-node';

interface LocalizerDef extends NodeDef {
  mode?: 'single' | 'fusion';
  sensor?: string;
  temperatureC?: string | number;
  windowMs?: string | number;
  minConfidence?: string | number;
  minSensors?: string | number;
  timeoutMs?: string | number;
  onsetToleranceMs?: string | number;
  maxClockErrorMs?: string | number;
  sourceHeightM?: string | number;
}

interface SensorConfigNode extends Node {
  readonly sensor: SensorInfo | undefined;
  readonly sensorError?: string;
}

/** A fusion timer that failed tries again after this long: a fault that lasts is not retried every few ms. */
const FUSION_RETRY_MS = 1000;
/** The cap of incidents reached again and again (a night beyond one localizer): said at most this often. */
const OVER_CAP_WARN_EVERY_MS = 60_000;

/** The topic a gateway publishes its sensor's detections on (docs/mqtt.md): vigie/v1/<site>/<sensor>/detection. */
const DETECTION_TOPIC = /^vigie\/v1\/[^/]+\/([^/]+)\/detection$/;

function summary(loc: Alert['location']): string {
  if (!loc) return '';
  if (loc.position) return `${loc.method} ±${loc.position.errorM} m (${loc.sensors.length} sensors)`;
  if (loc.method === 'doa') return `bearing ${Math.round(loc.bearing ?? 0)}° ±${loc.bearingStd}°`;
  return `no location: ${(loc.reason ?? '').slice(0, 40)}`;
}

/** Where a fusion localizer that a deploy restarts leaves its incidents for its next instance. */
let warnDropped: (text: string) => void = () => undefined;
const shelf = new HandOverShelf<FusionHandOver>({
  onDropped: (nodeId, h, why) => {
    const waiting = h.assoc.incidents.filter((i) => !i.emitted).length;
    if (waiting) warnDropped(`localizer ${nodeId}: ${waiting} incident${waiting > 1 ? 's' : ''} waiting for sensors when it stopped not taken over (${why})`);
  },
});

/** Where a fusion localizer leaves its incidents waiting for sensors when the flows stop without a deploy: a file its next start takes. */
const stopFiles = new StopFiles<FusionStopItem>('localizer', checkFusionStopItem);
const incidentsWord = (n: number) => `${n} incident${n === 1 ? '' : 's'}`;

export = function (RED: NodeAPI) {
  warnDropped = (text) => RED.log.warn(text);
  const userDir = () => (RED.settings as unknown as { userDir?: string }).userDir ?? process.cwd();
  keepStopFiles(RED, shelf, stopFiles, {
    userDir,
    itemsOf: (h) => fusionStopItemsOf(h, monotonicMs()),
    idOf: (item) => `${item.id} (${item.label})`,
    words: incidentsWord,
    what: 'waiting for sensors',
    olderBy: fusionStopItemOlderBy,
  });
  function LocalizerNode(this: Node, config: LocalizerDef) {
    RED.nodes.createNode(this, config);
    const node = this;
    const mode = config.mode === 'fusion' ? 'fusion' : 'single';
    const chosen = config.sensor ? (RED.nodes.getNode(config.sensor) as SensorConfigNode | null) : null;
    let timer: NodeJS.Timeout | null = null;
    let closed = false;
    let configError: string | undefined;
    let fusion: FusionLocalizer | null = null;
    /** The last failure of the fusion timer, until a fusion run succeeds ('' when none). */
    let fusionFault = '';
    /** The last status that was not a fault: shown again when a fault clears with nothing new to say. */
    let lastStatus: NodeStatus = {};
    function showStatus(st: NodeStatus): void {
      lastStatus = st;
      setStatus(node, st);
    }
    let opts: { temperatureC: number; windowMs: number; minConfidence: number } = { temperatureC: 15, windowMs: 20, minConfidence: DEFAULT_MIN_CONFIDENCE };
    try {
      const setting = settingsReader(config, LOCALIZER_SETTINGS);
      opts = {
        temperatureC: setting('temperatureC'),
        windowMs: setting('windowMs'),
        minConfidence: setting('minConfidence'),
      };
      if (mode === 'fusion') {
        fusion = new FusionLocalizer({
          ...opts,
          minSensors: setting('minSensors'),
          timeoutMs: setting('timeoutMs'),
          onsetToleranceMs: setting('onsetToleranceMs'),
          maxClockErrorMs: setting('maxClockErrorMs'),
          sourceHeightM: setting('sourceHeightM'),
          continuationSec: setting('continuationS'),
          warnLayout: (text) => node.warn(text),
        });
      }
      if (chosen && !chosen.sensor) {
        // Its detections find no geometry: they go on unlocated (method "none").
        const sensorFault = `sensor: ${chosen.sensorError ?? 'invalid configuration'}`;
        node.error(`${sensorFault}; its detections cannot be located`);
        showStatus({ fill: 'red', shape: 'ring', text: errorStatus(new Error(sensorFault)) });
      } else showStatus({ fill: 'green', shape: 'dot', text: mode === 'fusion' ? 'fusion: waiting' : 'single array: ready' });
    } catch (err) {
      configError = (err as Error).message;
      setStatus(node, { fill: 'red', shape: 'ring', text: errorStatus(err) });
      node.error(configError);
    }

    const scope = scopeOfFlow((node as unknown as { _flow?: FlowChain })._flow);
    /**
     * Geometry of a sensor: the chosen vigie-sensor if its id matches; else the vigie-sensor the
     * mic-capture of that sensor id in this process captures for; else the deployed vigie-sensor
     * with that id nearest to this node (its own subflow instance's before another's). Two equally
     * near (say two sibling instances' copies, seen from outside both) are an ambiguity: the
     * detection is not located with a guess of whose position and heading it has.
     */
    function geometryOf(sensorId: string): { geometry?: SensorGeometry; ambiguity?: string } {
      const hasId = (n: SensorConfigNode | null | undefined): n is SensorConfigNode => n?.sensor?.id === sensorId;
      const fromNode = (n: SensorConfigNode): SensorGeometry => {
        const s = n.sensor!;
        return { id: s.id, lat: s.lat, lon: s.lon, heightM: s.heightM, ...(s.groundAltM !== undefined ? { groundAltM: s.groundAltM } : {}), headingDeg: s.headingDeg, mics: s.mics, clock: s.clock, clockErrorMs: s.clockErrorMs };
      };
      if (hasId(chosen)) return { geometry: fromNode(chosen) };
      const captured = capturedSensorNodes.get(sensorId) as SensorConfigNode | undefined;
      if (hasId(captured)) return { geometry: fromNode(captured) };
      // The deployed sensors, not the flows' definitions: inside a subflow instance a sensor runs
      // under another id, and its Sensor ID may be an ${ENV} reference.
      const nearest = deployedSensorNodes.nearestMatching(scope, (n) => hasId(n as SensorConfigNode));
      if (nearest.length === 1) return { geometry: fromNode(nearest[0].node as SensorConfigNode) };
      if (!nearest.length) return {};
      const which = nearest
        .map((e) => `"${(e.node as SensorConfigNode).name || sensorId}" (node ${e.definitionId}${e.scope.length ? `, in subflow instance ${e.scope[e.scope.length - 1]}` : ''})`)
        .join(', ');
      return { ambiguity: `sensor "${sensorId}": ${nearest.length} vigie-sensor nodes have this Sensor id (${which}) and no mic-capture of this process captures for it: choose one in the localizer's Sensor field, or give each its own id` };
    }

    const ambiguityWarned = new Set<string>();
    const droppedFields = new DroppedFieldWarnings((t) => node.warn(t));
    const clockAhead = new ClockAheadWarnings((t) => node.warn(t));
    /** What the cap of incidents had done when last said, and when (monotonic ms). */
    let overCapSaid = { sentEarly: 0, forgotten: 0 };
    let overCapSaidMs = -Infinity;
    /** The cap of incidents held was reached since last said: a warning, the first time at once, then at most once a minute while it goes on. */
    function sayOverCap(): void {
      if (!fusion) return;
      const c = fusion.overCap;
      if (c.sentEarly === overCapSaid.sentEarly && c.forgotten === overCapSaid.forgotten) return;
      const nowMs = monotonicMs();
      if (nowMs - overCapSaidMs < OVER_CAP_WARN_EVERY_MS) return;
      overCapSaid = c;
      overCapSaidMs = nowMs;
      node.warn(overCapWords(c));
    }
    function parsePayload(msg: NodeMessage): Detection {
      // Detections arrive from MQTT as JSON text or a Buffer when the mqtt-in node does not parse them.
      const p = parsedPayload(msg.payload, 'a detection object');
      // Its contract fields only: every alert this node sends is built from them (privacy guarantees 1 and 3).
      const det = validateDetection(p, droppedFields, { alertFields: true });
      // A gateway may publish on its own sensor's topic only (broker ACLs, docs/scaling.md): that
      // protects nothing unless a detection claiming another sensor on that topic is refused.
      const fromTopic = typeof msg.topic === 'string' ? DETECTION_TOPIC.exec(msg.topic) : null;
      if (fromTopic && det.sensor !== fromTopic[1]) {
        throw new ContractError('payload.sensor', `"${fromTopic[1].slice(0, 64)}", the sensor of its MQTT topic`, det.sensor);
      }
      return det;
    }

    /** Arm the timer for the next incident's timeout, not sooner than `notBeforeMs` from now. */
    function schedule(notBeforeMs = 0): void {
      if (!fusion || closed) return;
      sayOverCap();
      if (timer) clearTimeout(timer);
      timer = null;
      // The fusion's clock times only its waits: monotonic, so that a wall clock step neither holds nor rushes an alert.
      const wait = fusion.nextDeadlineMs(monotonicMs());
      if (wait === null) return;
      timer = setTimeout(
        () => {
          timer = null;
          if (closed || !fusion) return;
          let retryMs = 0;
          try {
            const { ready, failures } = fusion.poll(monotonicMs());
            emit(ready, (m) => node.send(m));
            fusionRecovered(ready.length > 0);
            locateFailed(failures);
          } catch (err) {
            fusionFailed(err);
            retryMs = FUSION_RETRY_MS;
          }
          schedule(retryMs);
        },
        Math.max(wait, notBeforeMs) + 5,
      );
    }

    /**
     * No message carries a timer's error to a Catch node: it is logged once per episode (the
     * timer retries while incidents wait) and the red status names it until a run succeeds.
     */
    function fusionFailed(err: unknown): void {
      const message = `fusion: ${err instanceof Error ? err.message : String(err)}`;
      if (message === fusionFault) return;
      fusionFault = message;
      setStatus(node, { fill: 'red', shape: 'ring', text: shortText(`fusion: ${errorStatus(err)}`) });
      node.error(message);
    }

    /** A fusion run succeeded: a fault shown is cleared (by the alert sent, or by the status from before it). */
    function fusionRecovered(statusSet: boolean): void {
      if (!fusionFault) return;
      fusionFault = '';
      if (!statusSet) setStatus(node, lastStatus);
    }

    /**
     * Incidents whose locating threw went out unlocated (or a refinement was left out): the red
     * status names the last until the next alert or report. Each error is logged; from a timer
     * or a close, no message carries it. On the input path the detection does: each but the last
     * reaches Catch through node.error with it, and the last is returned for done(err), so that
     * the input is not reported complete.
     */
    function locateFailed(failures: LocateFailure[], msg?: NodeMessage): Error | undefined {
      const texts = failures.map((f) => `fusion: incident ${f.incidentId} (${f.label}) could not be located: ${f.error.message}`);
      for (const f of failures) setStatus(node, { fill: 'red', shape: 'ring', text: shortText(`${f.label}: locating failed: ${f.error.message}`) });
      if (!msg) {
        for (const text of texts) node.error(text);
        return undefined;
      }
      for (const text of texts.slice(0, -1)) node.error(new Error(text), msg);
      return texts.length ? new Error(texts[texts.length - 1]) : undefined;
    }

    function emit(alerts: Alert[], send: (m: NodeMessage) => void): void {
      for (const a of alerts) {
        send({ topic: `${a.sensor}/${a.label}`, payload: a } as NodeMessage);
        showStatus({ fill: a.location?.method === 'none' ? 'yellow' : 'green', shape: 'dot', text: `${a.label}: ${summary(a.location)}` });
      }
    }

    node.on('input', (msg: NodeMessage, send: (m: NodeMessage) => void, done: (err?: Error) => void) => {
      try {
        if (configError) throw new Error(`localizer not configured: ${configError}`);
        const det = parsePayload(msg);
        clockAhead.check(det.sensor, det.onset, Date.now());
        const { geometry, ambiguity } = geometryOf(det.sensor);
        if (ambiguity) {
          // Said once per sensor until a deploy; the detection goes on unlocated (single) or refused (fusion).
          if (!ambiguityWarned.has(det.sensor)) node.warn(ambiguity);
          ambiguityWarned.add(det.sensor);
          if (mode === 'fusion' && !det.sensorInfo) throw new ContractError('payload.sensor', `one vigie-sensor with that id: ${ambiguity}`, det.sensor);
        }
        if (mode === 'single') {
          const { location } = ambiguity ? { location: { method: 'none' as const, sensors: [det.sensor], reason: ambiguity } } : locateSingle(det, geometry, opts);
          const payload: Alert = { ...det, ...(geometry && !det.sensorInfo ? { sensorInfo: sensorInfoOf(geometry) } : {}), location };
          send({ ...msg, payload } as NodeMessage);
          showStatus({ fill: location.method === 'none' ? 'yellow' : 'green', shape: 'dot', text: `${det.label}: ${summary(location)}` });
        } else {
          const r = fusion!.add(det, geometry, monotonicMs());
          if (r.refined) {
            // The alert again, same id, better placed: the camera re-aims, the console updates.
            emit([r.refined], send);
            showStatus({ fill: 'green', shape: 'dot', text: `${r.refined.label}: ${summary(r.refined.location)}, refined by ${det.sensor}` });
          } else if (r.kind === 'late' || r.kind === 'duplicate') {
            showStatus({ fill: 'green', shape: 'ring', text: `${r.kind} report from ${det.sensor} (${r.incidentId}) absorbed` });
          } else if (!r.ready.length) {
            // Short: the status sits under the node, often in a narrow group.
            showStatus({ fill: 'green', shape: 'ring', text: `${det.label}: ${r.sensors}/${fusion!.minSensors} sensors, waiting` });
          }
          emit(r.ready, send);
          // The fusion ran: a fault of the timer is over (this report's status replaced it).
          fusionFault = '';
          const failed = locateFailed(r.failures, msg);
          schedule();
          // The alerts went out unlocated; the detection that brought them goes to Catch with the error.
          if (failed) {
            done(failed);
            return;
          }
        }
        done();
      } catch (err) {
        setStatus(node, { fill: 'red', shape: 'ring', text: errorStatus(err) });
        done(err as Error);
      }
    });

    /**
     * A deploy restarted this node while incidents waited for sensors: they wait here, each
     * until its deadline (this instance's Timeout). Not a fusion localizer any more (or not
     * configured): they go out now with what they have. Once the flows have started, so that
     * the nodes it sends to run.
     */
    let handedOver = shelf.take(node.id);
    if (handedOver && fusion) fusion.adopt(handedOver);
    const onStartedResume = () => {
      offStartedResume();
      const h = handedOver;
      handedOver = undefined;
      if (closed) return;
      const leftover = fusion ? undefined : new FusionLocalizer();
      if (h) leftover?.adopt(h);
      adoptStopFile(fusion ?? leftover!);
      if (fusion) {
        schedule();
        return;
      }
      const { ready, failures } = leftover!.flush(monotonicMs());
      emit(ready, (m) => node.send(m));
      locateFailed(failures);
    };
    const offStartedResume = onFlowsStarted(RED.events, onStartedResume);

    /**
     * The flows stopped without a deploy while incidents waited for sensors here: they were
     * written to this node's file, taken now (FusionLocalizer.adoptAfterStop). Their deadlines
     * most often passed while the flows were stopped: they go out with the sensors they have.
     */
    function adoptStopFile(into: FusionLocalizer): void {
      const kept = takeStopFile(stopFiles, userDir(), node.id, { words: incidentsWord, what: 'incidents waiting for sensors' }, (t) => node.warn(t));
      if (!kept) return;
      const { file } = kept;
      const { recent, old } = into.adoptAfterStop(kept.items, kept.stoppedForMs, monotonicMs());
      if (recent + old) node.log(`${file}: ${incidentsWord(recent + old)} waiting for sensors when the flows stopped taken over (${old} older than ${STOP_RESUME_MAX_AGE_MS / 60_000} min, sent at once)`);
    }

    node.on('close', (removed: boolean, done: () => void) => {
      try {
        closed = true;
        if (timer) clearTimeout(timer);
        timer = null;
        offStartedResume();
        if (fusion && removed) {
          // Deleted, or its flow disabled: an alert from fewer sensors is better than none. Sent
          // while the nodes it feeds may still run (a "modified nodes" deploy leaves them running).
          const { ready, failures } = fusion.flush(monotonicMs());
          emit(ready, (m) => node.send(m));
          locateFailed(failures);
        } else if (fusion?.size) {
          // Restarted by a deploy: the next instance of this node takes the incidents (onStartedResume).
          shelf.put(node.id, fusion.handOver());
        }
        fusion?.clear();
      } finally {
        done();
      }
    });
  }
  RED.nodes.registerType('localizer', LocalizerNode as unknown as Parameters<NodeAPI['nodes']['registerType']>[1]);
};
