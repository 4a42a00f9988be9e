/**
 * ptz-steer: turns the best camera to a located alert (DESIGN §3). Input: alerts with
 * payload.location; decisions / move requests in "operator confirms first" mode.
 * Output 1: the alert with payload.camera; output 2: camera errors with the alert.
 * The work is done by PtzSteer (lib/camera/steer.ts).
 */
import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import { CameraConnection } from '../lib/camera/connection';
import { ageWords, checkStopItem, isStopLook, joinHandOvers, PTZ_STEER_SETTINGS, PtzSteer, SteerHandOver, SteerOutput, SteerStopEntry, stopEntryOlderBy, stopItemsOf, stopLooksOf } from '../lib/camera/steer';
import { monotonicMs } from '../lib/util/clock';
import { deployedCameraNodes, FlowChain, scopeOfFlow } from '../lib/util/deployed-nodes';
import { onFlowsStarted } from '../lib/util/flows-started';
import { HandOverShelf } from '../lib/util/handover';
import { keepStopFiles, takeStopFile } from '../lib/util/stop-file-node';
import { StopFiles } from '../lib/util/stop-file';
import { errorStatus, setStatus } from '../lib/util/status';
import { parsedPayload, settingsReader } from '../lib/util/validate';

interface PtzSteerDef extends NodeDef {
  cameras?: string[] | string;
  mode?: string;
  toleranceDeg?: string | number;
  moveTimeoutS?: string | number;
  returnHomeS?: string | number;
  waitForCameraS?: string | number;
  assumedDistanceM?: string | number;
  frameWidthM?: string | number;
  lookAtLeastS?: string | number;
  maxAlertAgeS?: string | number;
  emitOnStart?: boolean;
}

interface CameraConfigNode extends Node {
  connection?: CameraConnection;
  cameraError?: string;
  registerUser(n: Node): void;
  deregisterUser(n: Node): void;
}

type Emit = (out: SteerOutput) => void;

/** The input message behind each emit given to PtzSteer: the new instance of a redeployed node answers it. */
const messageOf = new WeakMap<Emit, NodeMessage>();

/** Where a ptz-steer that a deploy restarts leaves its alerts in progress for its next instance. */
let warnDropped: (text: string) => void = () => undefined;
const shelf = new HandOverShelf<SteerHandOver>({
  onDropped: (nodeId, h, why) => {
    const n = h.moving.length + h.waiting.length + h.proposals.length;
    if (n) warnDropped(`ptz-steer ${nodeId}: ${n} alert${n > 1 ? 's' : ''} in progress when it stopped not taken over (${why})`);
  },
});

/**
 * Where a ptz-steer leaves its alerts in progress, and what its cameras look at, when the flows
 * stop without a deploy: a file its next start takes.
 */
const stopFiles = new StopFiles<SteerStopEntry>('ptz-steer', checkStopItem);
const alertsWord = (n: number) => `${n} alert${n === 1 ? '' : 's'}`;
const looksWord = (n: number) => `${n} camera${n === 1 ? "'s look" : "s' looks"}`;
/** "2 alerts", "1 camera's look", "2 alerts and 1 camera's look". */
const entriesWords = (entries: SteerStopEntry[]) => {
  const looks = entries.filter(isStopLook).length;
  const alerts = entries.length - looks;
  if (!looks) return alertsWord(alerts);
  return alerts ? `${alertsWord(alerts)} and ${looksWord(looks)}` : looksWord(looks);
};

export = function (RED: NodeAPI) {
  warnDropped = (text) => RED.log.warn(text);
  const userDir = () => (RED.settings as unknown as { userDir?: string }).userDir ?? process.cwd();
  keepStopFiles(RED, shelf, stopFiles, {
    userDir,
    // The cameras first: a few at most, and a camera whose look is lost stays turned away for good.
    itemsOf: (h) => {
      const nowMs = monotonicMs();
      const msgOf = (e: Emit) => messageOf.get(e);
      return [...stopLooksOf(h, nowMs, msgOf), ...stopItemsOf(h, nowMs, msgOf)];
    },
    idOf: (item) => (isStopLook(item) ? `camera ${item.cameraId}` : item.alert.id),
    words: alertsWord,
    itemWords: entriesWords,
    what: 'in progress',
    olderBy: stopEntryOlderBy,
  });
  function PtzSteerNode(this: Node, def: PtzSteerDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const selected = (Array.isArray(def.cameras) ? def.cameras : typeof def.cameras === 'string' && def.cameras ? def.cameras.split(',') : []).filter(Boolean);
    /** The camera config nodes in use now: replaced when a deploy restarts one of them (see refreshCameras). */
    let configNodes: CameraConfigNode[] = [];
    /** Ticked ids that name no deployed camera (deleted, or left behind by an export of a selection). */
    let missing: string[] = [];
    const connections = () => configNodes.map((c) => c.connection).filter((c): c is CameraConnection => !!c);
    const mode = def.mode === 'confirm' ? 'confirm' : 'automatic';

    /** The outcome of the last alert: a move's, or (`tooOld`) an alert too old to turn a camera to. */
    let lastMove: { text: string; ok: boolean; cameraId?: string; tooOld?: boolean } | undefined;
    const showStatus = () => {
      const conns = connections();
      // A camera whose settings are refused (or whose id another camera holds) has no connection:
      // say which, and which field; red even beside cameras that work, as a failed one.
      const unusable = configNodes.find((c) => c.cameraError);
      const unusableText = unusable ? `camera "${unusable.name || unusable.id}" unusable: ${unusable.cameraError!.split(':')[0]}` : '';
      const missingText = missing.length ? `missing camera${missing.length > 1 ? 's' : ''} ${missing.join(', ')}` : '';
      if (!conns.length) {
        setStatus(node, { fill: 'red', shape: 'ring', text: unusableText || missingText || 'no camera configured' });
        return;
      }
      const failed = conns.filter((c) => c.state === 'failed').map((c) => c.id);
      const connecting = conns.filter((c) => c.state === 'connecting').map((c) => c.id);
      const waiting = steer.waitingAlerts.length;
      // A camera down matters more than alerts waiting for a busy one.
      if (lastMove && !lastMove.ok) setStatus(node, { fill: 'red', shape: 'ring', text: lastMove.text });
      else if (failed.length) setStatus(node, { fill: 'red', shape: 'ring', text: `failed: ${failed.join(', ')}` });
      else if (unusableText || missingText) setStatus(node, { fill: 'red', shape: 'ring', text: unusableText || missingText });
      else if (waiting) setStatus(node, { fill: 'yellow', shape: 'dot', text: `${waiting} alert${waiting > 1 ? 's' : ''} waiting for a busy camera` });
      else if (connecting.length) setStatus(node, { fill: 'yellow', shape: 'ring', text: `connecting: ${connecting.join(', ')}` });
      else if (lastMove?.tooOld) setStatus(node, { fill: 'yellow', shape: 'dot', text: lastMove.text });
      else setStatus(node, { fill: 'green', shape: 'dot', text: lastMove?.text ?? `${conns.length} camera${conns.length > 1 ? 's' : ''} connected${mode === 'confirm' ? ', confirm mode' : ''}` });
    };
    const warn = (text: string) => node.warn(text);
    // A setting it cannot use is named in a warning, and its default applies.
    const setting = settingsReader(def, PTZ_STEER_SETTINGS, { onRefused: warn });
    const steer = new PtzSteer(
      connections,
      {
        mode,
        toleranceDeg: setting('toleranceDeg'),
        moveTimeoutMs: setting('moveTimeoutS') * 1000,
        returnHomeAfterMs: setting('returnHomeS') * 1000,
        waitForCameraMs: setting('waitForCameraS') * 1000,
        assumedDistanceM: setting('assumedDistanceM'),
        frameWidthM: setting('frameWidthM'),
        minLookMs: setting('lookAtLeastS') * 1000,
        maxAlertAgeMs: setting('maxAlertAgeS') * 1000,
        emitOnStart: !!def.emitOnStart,
        actor: `auto:${node.id}`,
      },
      {
        log: (t) => node.debug(t),
        warn,
        onWaitingChange: () => showStatus(),
        missingCameras: () => missing,
        onTooOld: (alertId, ageMs) => {
          lastMove = { text: `alert ${alertId} began ${ageWords(ageMs)} ago: no camera turned`, ok: true, tooOld: true };
          showStatus();
        },
      },
    );
    const onState = () => {
      // A camera that failed a move and is connected again no longer makes the node red.
      if (lastMove?.cameraId && connections().find((c) => c.id === lastMove?.cameraId)?.state === 'connected') lastMove = undefined;
      showStatus();
    };
    /**
     * Takes the camera config nodes as they are now. A "modified nodes" deploy of one camera
     * replaces that config node but restarts this node only when Node-RED sees the reference:
     * it does for a single selected camera, not for a list of several nor for "every camera".
     * So after each deploy this node looks again, leaves the replaced (closed) nodes and uses
     * the new ones; with no selection, cameras added or removed by the deploy count too.
     */
    const scope = scopeOfFlow((node as unknown as { _flow?: FlowChain })._flow);
    const refreshCameras = () => {
      // The deployed cameras, not the flows' definitions: inside a subflow instance a camera runs
      // under another id, and the ticked ids (a list Node-RED does not rewrite) name its definition.
      // No selection = every camera this node sees (a subflow instance sees its own, not another's).
      const found = selected.length ? selected.flatMap((id) => deployedCameraNodes.resolve(id, scope)) : deployedCameraNodes.visibleFrom(scope);
      const wasMissing = missing.join(',');
      missing = selected.filter((id) => deployedCameraNodes.resolve(id, scope).length === 0);
      if (missing.length && missing.join(',') !== wasMissing) {
        node.warn(`ticked camera${missing.length > 1 ? 's' : ''} ${missing.join(', ')} missing: no vigie-camera with ${missing.length > 1 ? 'these ids' : 'this id'} is deployed (deleted, or not imported with this node); untick ${missing.length > 1 ? 'them' : 'it'} in the form`);
      }
      const next = [...new Set(found as CameraConfigNode[])];
      for (const c of configNodes) {
        if (next.includes(c)) continue;
        c.connection?.off('state', onState);
        c.deregisterUser(node);
      }
      for (const c of next) {
        if (configNodes.includes(c)) continue;
        if (c.cameraError) node.warn(`camera "${c.name || c.id}" is unusable: ${c.cameraError}`);
        c.registerUser(node);
        c.connection?.on('state', onState);
      }
      configNodes = next;
    };
    refreshCameras();
    showStatus();
    const refreshAfterDeploy = () => {
      const before = configNodes;
      refreshCameras();
      if (configNodes.length !== before.length || configNodes.some((c, i) => c !== before[i])) {
        lastMove = undefined; // it may name a camera that is gone
        showStatus();
      }
    };
    const offFlowsStarted = onFlowsStarted(RED.events, refreshAfterDeploy);

    /** The emit of one input: its answers are copies of `msg`. */
    const emitFor = (msg: NodeMessage, send: (m: Array<NodeMessage | null>) => void): Emit => {
      const emit = (out: SteerOutput) => {
        const m = RED.util.cloneMessage(msg) as NodeMessage & Record<string, unknown>;
        m.payload = out.payload;
        if (out.error) m.error = { message: out.error.message, code: out.error.code, cameraId: out.error.cameraId };
        const cam = out.payload.camera;
        // "released" is news about an older alert, not the outcome of a move.
        if (out.port === 1 && cam && cam.state !== 'moving' && cam.state !== 'released') {
          lastMove =
            cam.state === 'failed'
              ? { text: `${cam.id} failed`, ok: false, cameraId: cam.id }
              : cam.state === 'waiting' || cam.state === 'unavailable'
                ? undefined // not a move's outcome; "unavailable" is said on output 2 too
                : { text: cam.state === 'proposed' ? `${cam.id}: awaiting confirmation` : `${cam.id} ${cam.state}${cam.errorDeg !== undefined ? ` ${cam.errorDeg}°` : ''}`, ok: true };
          showStatus();
        }
        if (out.port === 2 && out.error?.code === 'no-camera') {
          lastMove = { text: 'no camera for the last alert', ok: false };
          showStatus();
        }
        send(out.port === 1 ? [m, null] : [null, m]);
      };
      messageOf.set(emit, msg);
      return emit;
    };

    /**
     * A deploy restarted this node while it had alerts in progress: it takes them once the
     * flows have started (the cameras of its new settings ready, the nodes it sends to too).
     */
    let handedOver = shelf.take(node.id);
    const rebind = (e: Emit) => emitFor(messageOf.get(e) ?? {}, (m) => node.send(m));
    const onStartedResume = () => {
      offStartedResume();
      const h = handedOver;
      handedOver = undefined;
      if (h) steer.resume(h, rebind).then(showStatus, (err: Error) => node.error(`alerts taken over from before the deploy: ${err.message}`));
      resumeAfterStop();
    };
    const offStartedResume = onFlowsStarted(RED.events, onStartedResume);

    /**
     * The flows stopped without a deploy while this node had alerts in progress or cameras
     * turned to alerts (Node-RED stopped or restarted, Stop flows): they were written to its
     * file, taken now. Recent alerts are resumed, older ones sent as ending; the cameras go home
     * when their quiet period would have ended (PtzSteer.resumeAfterStop).
     */
    function resumeAfterStop(): void {
      const entryWord = (n: number) => `${n} entr${n === 1 ? 'y' : 'ies'}`;
      const kept = takeStopFile(stopFiles, userDir(), node.id, { words: entryWord, what: "alerts in progress and cameras' looks" }, (t) => node.warn(t));
      if (!kept?.items.length) return;
      const { file } = kept;
      const emitOf = (item: SteerStopEntry) => {
        const e: Emit = () => undefined;
        // The message as the file kept it (keptMessageOf): a flow after this node reads msg.site… as before the stop.
        messageOf.set(e, { ...item.message, ...(item.topic !== undefined ? { topic: item.topic } : {}) });
        return rebind(e);
      };
      steer.resumeAfterStop(kept.items, kept.stoppedForMs, emitOf).then(
        (r) => {
          const looks = r.looks ? `; ${looksWord(r.looks)} taken over (home when its quiet period ends)` : '';
          const gone = r.camerasGone.length ? `; camera${r.camerasGone.length > 1 ? 's' : ''} ${r.camerasGone.join(', ')} no longer among this node's cameras: left as ${r.camerasGone.length > 1 ? 'they are' : 'it is'}` : '';
          node.log(`${file}: ${entriesWords(kept.items)} in progress when the flows stopped taken over: ${r.resumed} resumed, ${r.ended} sent as ended${looks}${gone}`);
          showStatus();
        },
        (err: Error) => node.error(`alerts taken over from before the flows stopped: ${err.message}`),
      );
    }

    node.on('input', (msg: NodeMessage, send: (m: Array<NodeMessage | null>) => void, done: (err?: Error) => void) => {
      const emit = emitFor(msg, send);
      let payload: unknown;
      try {
        // From an mqtt in node that does not parse JSON: its text.
        payload = parsedPayload(msg.payload, 'an alert, decision or move request object');
      } catch (err) {
        setStatus(node, { fill: 'red', shape: 'ring', text: errorStatus(err as Error) });
        done(err as Error);
        return;
      }
      steer.handle(payload, emit).then(
        () => done(),
        (err: Error) => {
          setStatus(node, { fill: 'red', shape: 'ring', text: errorStatus(err) });
          done(err);
        },
      );
    });

    node.on('close', (removed: boolean, done: () => void) => {
      try {
        offFlowsStarted();
        offStartedResume();
        if (removed) {
          // Deleted, or its flow disabled: what it promised ends now, sent while the nodes it
          // feeds may still run (a "modified nodes" deploy leaves them running). A hand-over it
          // took but had not resumed (removed before the flows started) too.
          steer.closeRemoved(handedOver, rebind);
        } else {
          // Restarted by a deploy: its next instance takes over (see onStartedResume), with a
          // hand-over this one took but had not resumed (this one's own first: an alert that came
          // here again is resumed as this one has it).
          const h = steer.handOver();
          shelf.put(node.id, handedOver ? joinHandOvers(h, handedOver) : h);
        }
        handedOver = undefined;
        for (const c of configNodes) {
          c.connection?.off('state', onState);
          c.deregisterUser(node);
        }
      } finally {
        done();
      }
    });
  }

  RED.nodes.registerType('ptz-steer', PtzSteerNode as unknown as Parameters<NodeAPI['nodes']['registerType']>[1]);
};
