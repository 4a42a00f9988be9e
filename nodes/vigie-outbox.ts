/**
 * vigie-outbox: placed right before an `mqtt out`, keeps the messages sent while that mqtt
 * out's broker is unreachable and sends them, oldest first, once it is connected again.
 * Node-RED 4.1's core mqtt out publishes only while connected and silently drops the rest
 * (docs/mqtt.md). It watches the same core `mqtt-broker` config node (its `connected` flag;
 * the broker node emits no events of its own) and never registers with it, so the broker's
 * status and connection stay the mqtt out's. A message passed on stays in the outbox, "in
 * flight", until each mqtt out it feeds on that broker says it is done with it (Node-RED's
 * onComplete hook: the mqtt out completes a QoS 1 publication on the broker's PUBACK, QoS 0 once
 * written to the socket, and never while disconnected); the broker dropping meanwhile, or an
 * error, an mqtt out no longer running, or no completion within RESEND_UNCOMPLETED_AFTER_MIN_MS
 * (or two keepalives) puts it back to be sent again. The queue is lib/util/outbox.ts; what waits (and what is
 * in flight) is also
 * kept in a file of the user directory across restarts (Restarts, on by default), a journal
 * appended to as messages come and go (lib/util/outbox-file.ts). A later copy of a waiting alert
 * replaces it, and decisions are dropped last (lib/util/outbox-rules.ts).
 */
import * as fs from 'fs';
import * as path from 'path';
import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import { DropEvent, Kept, Outbox, OUTBOX_SETTING_RANGES } from '../lib/util/outbox';
import { alertCopyKeyOf, isDecision } from '../lib/util/outbox-rules';
import { errorStatus, setStatus } from '../lib/util/status';
import { settingsReader } from '../lib/util/validate';
import { nodeFileName, tempFileOf } from '../lib/util/atomic-file';
import { KeptFile, OutboxJournal } from '../lib/util/outbox-file';
import { monotonicMs } from '../lib/util/clock';
import { clearNodeFailure, reportNodeFailure } from '../lib/util/health';
import { isDefinedInFlows } from '../lib/util/flow-definition';
import { onceFlowsStarted, onFlowsStarted } from '../lib/util/flows-started';
import { Backoff } from '../lib/util/backoff';
import { diskFaultWords, fileFaultText } from '../lib/util/disk-fault';
import { isNetworkFault, mqttConnectFaultWords } from '../lib/util/mqtt-fault';
import { QuickDrops } from '../lib/util/quick-drops';

interface OutboxDef extends NodeDef {
  broker?: string;
  wires?: string[][];
  maxMessages?: string | number;
  maxAgeS?: string | number;
  /** Keep what waits across restarts, in a file of the user directory (default true). */
  persist?: boolean;
}

/** What this node reads of a core mqtt out it feeds. */
interface MqttOutNode extends Node {
  broker?: string;
  /** Its Topic setting, which replaces msg.topic when set. */
  topic?: string;
}

/** What this node reads of a flow's node definition (one not running has no node object). */
interface NodeDefinition {
  id: string;
  type?: string;
  name?: string;
  broker?: string;
}

/** What Node-RED's onComplete hook is given. */
interface CompleteEvent {
  msg?: { _msgid?: unknown };
  error?: unknown;
  node?: { id?: string };
}

/** A message passed on to the mqtt outs this node feeds, until all of them have completed it. */
interface Delivery {
  msgId: string;
  /** The mqtt outs that have not completed it yet, each the node object it was passed on to. */
  pendingOuts: Map<string, MqttOutNode>;
  /** When it was passed on this time (monotonic ms). */
  sentAtMs: number;
  /** Since when the broker's acknowledgement of it has been awaited (monotonic ms): its first sending, when sent again for want of one. */
  ackAwaitedSinceMs: number;
}

/** The mqtt outs wired to this node on its broker. */
interface WayOut {
  /** Running: a message passed on reaches them. */
  running: MqttOutNode[];
  /** Defined but not running (disabled, on a disabled tab, or restarting in a deploy): Node-RED drops what is sent to them. */
  stoppedIds: string[];
  stoppedNames: string[];
}

/** What this node reads of the core mqtt-broker config node. */
interface BrokerNode extends Node {
  connected?: unknown;
  /** True from its first connect until that connect succeeds (the core node clears it then, for good). */
  connecting?: unknown;
  broker?: string;
  port?: string | number;
  /** MQTT keepalive in seconds (the core node makes it a number, 60 by default). */
  keepalive?: unknown;
  /** Its MQTT.js client, replaced at each connect after a disconnect; its errors the core node drops. */
  client?: unknown;
  /** Its client id, empty when the client makes one up. */
  clientid?: unknown;
}

/** What this node reads of the broker node's MQTT.js client. */
interface MqttClientEvents {
  on(event: 'error' | 'packetreceive' | 'close', listener: (arg?: unknown) => void): unknown;
  removeListener(event: 'error' | 'packetreceive' | 'close', listener: (arg?: unknown) => void): unknown;
}

/**
 * The outbox that reports each MQTT.js client's connection faults (several outboxes may watch
 * one broker: one says it). Node-RED's broker node logs only "Connection failed to broker".
 */
const faultReporterOf = new WeakMap<object, string>();

/** How often the broker's connection is looked at (it emits nothing when it comes back). */
const CHECK_EVERY_MS = 1000;
/** A broker unreachable this long puts the node in the health report as failed (see reportHealth). */
const BROKER_DOWN_FAILED_MS = 5 * 60_000;
/** Messages sent per turn of the event loop during a flush, so that a disconnect in the middle is seen before the next. */
const FLUSH_PER_TURN = 20;
/** What waits is written this long after it last changed (the changes of a burst, or of a flush, go in one write). */
const PERSIST_AFTER_MS = 2000;
/** While the file cannot be written (a full disk), it is tried again after PERSIST_AFTER_MS, then less and less often, up to this. */
const PERSIST_RETRY_MAX_MS = 60_000;
/**
 * Most messages passed on and not yet acknowledged by the broker. Beyond, messages wait: a link
 * that carries nothing but still looks connected takes no more than this, and the MQTT client,
 * no longer writing, sends its keepalive ping, whose missing answer ends the connection.
 */
const MAX_IN_FLIGHT = 100;
/** An acknowledgement later than this is late: the status and the health report say so. */
const ACK_LATE_MS = 5000;
/**
 * A message passed on and not completed this long, the broker connected all the while, is sent
 * again (at least this, and twice the broker's keepalive: the MQTT client ends a dead connection
 * 1.5 keepalives after its last write, which a message sent again would otherwise put off). The
 * mqtt out may have dropped it without a word (Node-RED drops what is sent to a node that is not
 * running); QoS 1 is at least once all the same, and the copies are told apart downstream by id.
 */
const RESEND_UNCOMPLETED_AFTER_MIN_MS = 30_000;
/** A message the mqtt out fails to publish this many times is given up (a message the broker refuses: sent again, it would fail for ever). */
const MAX_PUBLISH_ERRORS = 5;
/** Tells apart the onComplete hooks of the outbox nodes (and of one node's successive starts). */
let hookSeq = 0;

/** Node-RED 4.1's mqtt out publishes only to such a topic; given any other, it warns and never completes the message. */
function isPublishTopic(topic: unknown): boolean {
  return typeof topic === 'string' && topic.length > 0 && !/[+#\b\f\n\r\t\v\0]/.test(topic);
}

export = function (RED: NodeAPI) {
  function VigieOutboxNode(this: Node, config: OutboxDef) {
    RED.nodes.createNode(this, config);
    const node = this;
    let configError: string | undefined;
    let broker: BrokerNode | null = null;
    let outbox: Outbox<NodeMessage> | null = null;
    let checkTimer: NodeJS.Timeout | null = null;
    let flushImmediate: NodeJS.Immediate | null = null;
    let settleImmediate: NodeJS.Immediate | null = null;
    /** Passed on in this turn of the event loop: looked at once Node-RED has delivered them (see sendOne). */
    let justSent: Array<Kept<NodeMessage>> = [];
    /** Messages in flight to the mqtt outs this node feeds, oldest passed on first; those passed on elsewhere are not in it. */
    const deliveries = new Map<Kept<NodeMessage>, Delivery>();
    /** Completion errors of each message so far (see MAX_PUBLISH_ERRORS). */
    const publishErrors = new WeakMap<Kept<NodeMessage>, number>();
    /** The mqtt outs wired to this node on the same broker (see wayOut), looked at again when one starts or stops. */
    let wayOutSeen: WayOut | undefined;
    /** Ids of the mqtt outs on its broker it has fed: only their completions are looked at. */
    const mqttOutIds = new Set<string>();
    /** When the broker last acknowledged a message (monotonic ms). */
    let lastAckAtMs: number | undefined;
    /** Messages sent again for want of an acknowledgement: since when it has been awaited (see Delivery.ackAwaitedSinceMs). */
    const ackAwaitedSinceOf = new Map<Kept<NodeMessage>, number>();
    /** Messages passed on at least once by this node: sent again, each gets a new _msgid (a late completion of an earlier sending is then told apart). */
    const sentBefore = new WeakSet<Kept<NodeMessage>>();
    let offFlowsStarted: (() => void) | undefined;
    const hookName = `onComplete.vigieOutbox${++hookSeq}`;
    let hooked = false;
    /** The outbox's inEpisode when the status was last shown (its end is said once). */
    let wasInEpisode = false;
    let checkedWiring = false;
    let persistTimer: NodeJS.Timeout | null = null;
    /** Why the file could not be written (short, for the status: "disk full"), until it is written again. */
    let persistFault: string | undefined;
    const persistBackoff = new Backoff({ initialMs: PERSIST_AFTER_MS, maxMs: PERSIST_RETRY_MAX_MS });
    const userDir = (RED.settings as unknown as { userDir?: string }).userDir ?? process.cwd();
    const persistFile = config.persist === false ? undefined : path.join(userDir, nodeFileName('vigie-outbox', node.id));

    /** The broker's client whose errors this node reports, and its listener. */
    let watchedClient: MqttClientEvents | undefined;
    /** The fault last said, not said again until the broker has been connected in between. */
    let faultSaid: string | undefined;
    function onClientError(err: unknown): void {
      try {
        const words = mqttConnectFaultWords(err, { afterLogin: loginAccepted });
        if (!words || words === faultSaid) return;
        faultSaid = words;
        const text = `broker ${brokerName()}: ${connected() || loginAccepted ? 'connection failed' : 'cannot connect'}: ${words}`;
        // A refused or reset connection is also what any outage gives (the status says "broker down"): logged, not warned.
        if (isNetworkFault(err, { afterLogin: loginAccepted })) node.log(text);
        else node.warn(text);
      } catch {
        /* a report, never a fault of its own */
      }
    }
    /** Connections closed soon after opening, again and again: the broker putting the client off. */
    const quickDrops = new QuickDrops();
    /** The broker accepted the login on the current connection (its CONNACK), until it closes. */
    let loginAccepted = false;
    // The CONNACK, not MQTT.js's 'connect': on a reconnect that one comes only once the client has
    // sent again what it kept unacknowledged, never when the broker closes the connection meanwhile.
    const onClientPacket = (packet?: unknown): void => {
      const p = packet as { cmd?: unknown; returnCode?: unknown; reasonCode?: unknown } | undefined;
      if (p?.cmd !== 'connack' || (p.returnCode ?? p.reasonCode ?? 0) !== 0) return;
      loginAccepted = true;
      quickDrops.opened();
    };
    function onClientClose(): void {
      loginAccepted = false;
      try {
        if (!quickDrops.closed()) return;
        const id = typeof broker?.clientid === 'string' ? broker.clientid : '';
        const seconds = `${quickDrops.count} times within minutes, each within 30 s of connecting, while every reconnect succeeds`;
        node.warn(
          id
            ? `broker ${brokerName()}: the connection was closed ${seconds}: most likely another client uses the same client id "${id}" (another control room, or a second copy of this one), and the broker puts one off for the other at each connect, so each gets only part of what is sent to this session. Give each control room its own VIGIE_MQTT_CLIENT_ID. (Otherwise the broker may be refusing a message larger than its packet size limit, sent again at each connect: see the broker's log)`
            : `broker ${brokerName()}: the connection was closed ${seconds}: the broker puts this client off, perhaps for a message larger than its packet size limit sent again at each connect: see the broker's log`,
        );
      } catch {
        /* a report, never a fault of its own */
      }
    }
    /** Listens to the errors of the broker's current client, unless another outbox does. */
    function watchClient(): void {
      if (connected()) faultSaid = undefined;
      const client = broker?.client;
      if (!client || typeof client !== 'object' || client === watchedClient) return;
      const reporter = faultReporterOf.get(client);
      if (reporter !== undefined && reporter !== node.id) return;
      unwatchClient();
      const events = client as MqttClientEvents;
      if (typeof events.on !== 'function' || typeof events.removeListener !== 'function') return;
      events.on('error', onClientError);
      events.on('packetreceive', onClientPacket);
      events.on('close', onClientClose);
      // Connected already: this connection counts from now.
      if (connected()) {
        loginAccepted = true;
        quickDrops.opened();
      }
      faultReporterOf.set(client, node.id);
      watchedClient = events;
    }
    function unwatchClient(): void {
      if (!watchedClient) return;
      watchedClient.removeListener('error', onClientError);
      watchedClient.removeListener('packetreceive', onClientPacket);
      watchedClient.removeListener('close', onClientClose);
      if (faultReporterOf.get(watchedClient) === node.id) faultReporterOf.delete(watchedClient);
      watchedClient = undefined;
    }

    const brokerName = () => (broker ? broker.name || `${broker.broker ?? '?'}:${broker.port ?? '?'}` : '');
    const connected = () => broker?.connected === true;
    /** Seen connected since this node started: a broker not connected now is an outage. */
    let everConnected = false;
    /** Since when (monotonic ms) the broker has not been connected; undefined while it is. */
    let downSinceMs: number | undefined;
    /**
     * Not connected yet since the deploy: a first connect in progress, not an outage (the core
     * mqtt-broker's `connecting` flag says the same, but only once its first user registered,
     * which may come after this node).
     */
    const firstConnect = () => !connected() && (!everConnected || broker?.connecting === true);

    /** Why messages wait: the broker, or the mqtt out it feeds not running. */
    function blockedBy(): string {
      const stopped = connected() ? wayOut().stoppedNames : [];
      return stopped.length ? `mqtt out ${stopped.map((n) => `"${n}"`).join(', ')} not running` : `broker ${brokerName()} unreachable`;
    }

    /** ", N earlier copies of alerts replaced by later ones" when there are some. */
    function replacedSoFar(box: Outbox<NodeMessage>): string {
      const n = box.replacedInEpisode;
      return n > 0 ? `; ${n} earlier cop${n === 1 ? 'y' : 'ies'} of alerts replaced by later ones so far` : '';
    }

    function onDrop(e: DropEvent): void {
      const box = outbox;
      if (!box) return;
      // One warning per outage (and one more if decisions go); the counts go on in the status.
      if (e.firstInEpisode) {
        const why = e.reason === 'maxAge' ? `older than ${box.maxAgeMs / 1000} s (maxAgeS)` : `more than ${box.maxMessages} waiting (maxMessages)`;
        const order = e.reason === 'maxAge' ? '' : ', alerts and other messages first: operator decisions only when nothing else is left';
        node.warn(`${blockedBy()}: dropping the oldest waiting messages${order}, ${why}${replacedSoFar(box)}; the status counts them`);
      }
      if (e.firstKeptLongestInEpisode) {
        const why = e.reason === 'maxAge' ? `older than ${box.maxAgeMs / 1000} s (maxAgeS)` : `nothing but decisions left among the ${box.maxMessages} waiting (maxMessages)`;
        node.warn(`${blockedBy()}: dropping operator decisions, ${why}; the status counts them`);
      }
    }

    try {
      if (!config.broker) throw new Error('setting broker: choose the mqtt-broker config node of the mqtt out this node feeds (none chosen)');
      const found = RED.nodes.getNode(config.broker) as BrokerNode | null;
      if (!found) throw new Error(`setting broker: the mqtt-broker config node ${config.broker} does not exist (deleted or disabled?)`);
      if (found.type !== 'mqtt-broker') throw new Error(`setting broker: ${config.broker} is a ${found.type}, expected Node-RED's core mqtt-broker`);
      if (typeof found.connected !== 'boolean') throw new Error(`setting broker: ${config.broker} tells no connection state (not Node-RED's core mqtt-broker?)`);
      broker = found;
      const setting = settingsReader(config, OUTBOX_SETTING_RANGES);
      const maxMessages = setting('maxMessages');
      outbox = new Outbox<NodeMessage>({
        maxMessages,
        maxInFlight: Math.min(MAX_IN_FLIGHT, maxMessages),
        maxAgeMs: setting('maxAgeS') * 1000,
        onDrop,
        supersedeKeyOf: alertCopyKeyOf,
        keepLongest: isDecision,
      });
    } catch (err) {
      configError = (err as Error).message;
      setStatus(node, { fill: 'red', shape: 'ring', text: errorStatus(err) });
      node.error(configError);
    }

    const journal = outbox && persistFile ? new OutboxJournal(persistFile) : undefined;
    /** Outbox.changes when the file was last written: an unchanged outbox is not written again. */
    let writtenChanges = -1;
    // What an earlier run kept (a restart, a redeploy, a power cut during an outage) goes first.
    if (outbox && journal && persistFile) {
      let kept: KeptFile | undefined;
      try {
        kept = journal.read();
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
          // Set aside, not overwritten by the next write: someone may want what it holds.
          const aside = `${persistFile}.unreadable-${Date.now()}`;
          try {
            fs.renameSync(persistFile, aside);
          } catch {
            /* said below all the same */
          }
          node.warn(`${path.basename(persistFile)}: could not read the messages kept before the restart (${(err as Error).message}); the file is set aside as ${path.basename(aside)}`);
        }
      }
      if (kept) {
        if (kept.torn) node.warn(`${path.basename(persistFile)}: ${kept.torn}, as a power cut or a crash while it was written leaves it: that line is ignored, the messages before it are put back`);
        outbox.restore(kept.entries);
        node.log(`${kept.entries.length} message(s) kept before the restart put back (${outbox.size} within the bounds)`);
        if (kept.format === 'list') node.log(`${path.basename(persistFile)}: written by an earlier version (one JSON list), rewritten as a journal`);
        // Rewritten at once with what was put back (within the bounds, without a cut line, in
        // the journal's format): what comes next is appended to it.
        persistNow('compact');
      }
    }

    /**
     * Brings the file in step with what waits: 'append' adds what came and notes what went
     * (compacting now and then), 'compact' rewrites it whole, 'close' also waits for the disk.
     */
    function persistNow(how: 'append' | 'compact' | 'close' = 'append'): void {
      if (!outbox || !journal) return;
      try {
        const entries = outbox.entries();
        const left = how === 'append' ? journal.sync(entries) : journal.compact(entries, { durable: how === 'close' });
        writtenChanges = outbox.changes;
        if (persistFault !== undefined) node.log(`${path.basename(journal.file)}: the waiting messages are written again`);
        persistFault = undefined;
        persistBackoff.reset();
        // Said once per message (the journal does not try it again): it still waits in memory and is sent when the broker is back.
        for (const { reason } of left) {
          node.warn(`msg.payload (or another field the mqtt out publishes): expected something JSON can hold (${reason}); this message waits in memory only, not in ${path.basename(journal.file)}`);
        }
      } catch (err) {
        // Said once per fault; the messages are still kept in memory, and the status says so until the file is written again.
        if (persistFault === undefined) node.warn(`${path.basename(journal.file)}: could not write the waiting messages (${fileFaultText(err)}); they are kept in memory only, and written once the file can be written again`);
        persistFault = diskFaultWords(err) ?? (err as NodeJS.ErrnoException).code ?? 'write failed';
      }
    }

    function persistSoon(): void {
      if (!persistFile || persistTimer) return;
      // A file that cannot be written (a full disk) is tried again less and less often, not every few seconds.
      persistTimer = setTimeout(() => {
        persistTimer = null;
        persistNow();
        showStatus();
      }, persistFault === undefined ? PERSIST_AFTER_MS : persistBackoff.next());
    }

    /**
     * A gateway that cannot publish is deaf to the control room: the health report (and the
     * container's health check) names this node once its broker has been unreachable for
     * BROKER_DOWN_FAILED_MS, or as soon as messages were dropped, until it is connected again.
     */
    function reportHealth(): void {
      if (!outbox) return;
      const silentSinceMs = connected() ? acksLateSinceMs() : undefined;
      if (connected() && silentSinceMs === undefined) {
        if (downSinceMs !== undefined) clearNodeFailure(node);
        downSinceMs = undefined;
        return;
      }
      const now = monotonicMs();
      // Connected but acknowledging nothing: unreachable all the same, since the oldest unacknowledged message went.
      downSinceMs = silentSinceMs ?? downSinceMs ?? now;
      const dropped = outbox.droppedInEpisode;
      const downMs = now - downSinceMs;
      if (downMs < BROKER_DOWN_FAILED_MS && dropped === 0) return;
      const forText = downMs >= 120_000 ? `${Math.round(downMs / 60_000)} min` : `${Math.round(downMs / 1000)} s`;
      const what = silentSinceMs !== undefined ? `connected but acknowledging nothing for ${forText}: ${deliveries.size} message(s) waiting for its acknowledgement, ` : `unreachable for ${forText}: `;
      reportNodeFailure(node, {
        node: 'vigie-outbox',
        id: node.id,
        ...(config.name ? { name: config.name } : {}),
        reason: `broker ${brokerName()} ${what}${outbox.size} message(s) waiting${dropped > 0 ? `, ${dropped} dropped` : ''}`,
      });
    }

    /**
     * Since when (monotonic ms) the broker has acknowledged nothing while messages waited for it,
     * when that is late: from the oldest message awaiting it, or the last acknowledgement if later.
     */
    function acksLateSinceMs(): number | undefined {
      let oldestMs = Infinity;
      for (const d of deliveries.values()) oldestMs = Math.min(oldestMs, d.ackAwaitedSinceMs);
      if (oldestMs === Infinity) return undefined;
      const silentSinceMs = Math.max(oldestMs, lastAckAtMs ?? -Infinity);
      return monotonicMs() - silentSinceMs >= ACK_LATE_MS ? silentSinceMs : undefined;
    }

    function showStatus(): void {
      if (!outbox) return;
      if (connected()) everConnected = true;
      reportHealth();
      // Every change of what waits passes here: the file follows (messages in flight too, so a
      // stop before the broker acknowledged them sends them again at the next start; those
      // acknowledged within PERSIST_AFTER_MS never reach the file).
      if ((outbox.size + outbox.inFlightCount > 0 || journal?.onDisk) && outbox.changes !== writtenChanges) persistSoon();
      if (wasInEpisode && !outbox.inEpisode && outbox.replacedInEpisode > 0) {
        // Once per outage, when what waited has gone: how much the copies of alerts were merged.
        node.log(`broker ${brokerName()} connected: what waited is sent; ${outbox.replacedInEpisode} earlier copies of alerts were replaced by later ones while it waited (only the latest copy of an alert is sent)`);
      }
      wasInEpisode = outbox.inEpisode;
      const dropped = outbox.droppedInEpisode;
      // Copies replaced are no fault (the latest copy of each alert waits): counted, not red.
      const replaced = outbox.inEpisode ? outbox.replacedInEpisode : 0;
      const late = connected() && acksLateSinceMs() !== undefined;
      const unacked = late ? `${deliveries.size} waiting for the broker's acknowledgement` : '';
      // What waits is lost if Node-RED stops now: said beside the count.
      const notKept = persistFault !== undefined && outbox.size + outbox.inFlightCount > 0 ? `, not on disk: ${persistFault}` : '';
      const waiting = `${outbox.size > 0 || !late ? `${outbox.size} waiting` : ''}${outbox.size > 0 && late ? ', ' : ''}${unacked}${replaced > 0 ? `, ${replaced} copies replaced` : ''}${notKept}`;
      let s: { fill: 'red' | 'yellow' | 'green'; shape: 'ring' | 'dot'; text: string };
      const down = firstConnect() ? 'connecting' : 'broker down';
      const stopped = connected() ? wayOut().stoppedNames : [];
      // Red ring = fault (the broker went away, or messages were dropped); yellow ring = a first connect in progress.
      if (outbox.inEpisode && dropped > 0) {
        const decisions = outbox.keptLongestDroppedInEpisode;
        s = { fill: 'red', shape: 'ring', text: `${connected() ? 'sending' : down}: ${waiting}, ${dropped} dropped${decisions > 0 ? ` (${decisions} decision${decisions === 1 ? '' : 's'})` : ''}` };
      } else if (!connected()) s = { fill: firstConnect() ? 'yellow' : 'red', shape: 'ring', text: `${down}: ${waiting}` };
      else if (stopped.length) s = { fill: 'yellow', shape: 'ring', text: `mqtt out stopped: ${waiting}` };
      else if (outbox.size > 0 || late) s = { fill: 'yellow', shape: 'dot', text: `sending: ${waiting}` };
      else s = { fill: 'green', shape: 'dot', text: dropped > 0 ? `connected (${dropped} dropped in the last outage)` : 'connected' };
      setStatus(node, s);
    }

    /**
     * The mqtt outs wired to this node that publish through its broker: those running, whose
     * completion says a message is through, and those stopped, for which messages wait. Looked
     * at again once one of them is no longer the node object seen, or a stopped one runs.
     */
    function wayOut(): WayOut {
      const seen = wayOutSeen;
      if (seen && seen.running.every((o) => RED.nodes.getNode(o.id) === o) && seen.stoppedIds.every((id) => !RED.nodes.getNode(id))) return seen;
      const way: WayOut = { running: [], stoppedIds: [], stoppedNames: [] };
      wayOutSeen = way;
      if (!hooked) return way;
      let definitions: Map<string, NodeDefinition> | undefined;
      for (const id of (config.wires ?? []).flat()) {
        const next = RED.nodes.getNode(id) as MqttOutNode | null;
        if (next) {
          if (next.type === 'mqtt out' && next.broker === config.broker) {
            way.running.push(next);
            mqttOutIds.add(id);
          }
          continue;
        }
        if (!definitions) {
          definitions = new Map();
          const all = definitions;
          RED.nodes.eachNode((def) => void all.set(def.id, def as NodeDefinition));
        }
        const def = definitions.get(id);
        if (mqttOutIds.has(id) || (def?.type === 'mqtt out' && def.broker === config.broker)) {
          way.stoppedIds.push(id);
          way.stoppedNames.push(def?.name || id);
        }
      }
      return way;
    }

    /** The broker connected and every mqtt out fed running: a message passed on now gets published. */
    const wayOpen = () => connected() && wayOut().stoppedIds.length === 0;

    /** How long a message passed on may stay uncompleted, the broker connected, before it is sent again. */
    function resendUncompletedAfterMs(): number {
      const keepaliveS = Number(broker?.keepalive);
      return Math.max(RESEND_UNCOMPLETED_AFTER_MIN_MS, Number.isFinite(keepaliveS) ? 2 * keepaliveS * 1000 : 0);
    }

    function sendOne(m: NodeMessage, kept: Kept<NodeMessage>): void {
      // A copy: the mqtt out rewrites what it is given (msg.payload into a string, msg.qos), and
      // the message may have to be sent again as it came.
      const copy = { ...m } as NodeMessage;
      if (typeof copy._msgid !== 'string' || copy._msgid === '' || sentBefore.has(kept)) copy._msgid = RED.util.generateId();
      sentBefore.add(kept);
      // The mqtt outs that will complete it: each takes the message with this _msgid (a clone keeps it).
      const outs = wayOut().running.filter((o) => isPublishTopic(o.topic || (copy as { topic?: unknown }).topic));
      const nowMs = monotonicMs();
      if (outs.length) deliveries.set(kept, { msgId: copy._msgid, pendingOuts: new Map(outs.map((o) => [o.id, o])), sentAtMs: nowMs, ackAwaitedSinceMs: ackAwaitedSinceOf.get(kept) ?? nowMs });
      ackAwaitedSinceOf.delete(kept);
      justSent.push(kept);
      node.send(copy);
      // Node-RED delivers on a later turn of the event loop (setImmediate); this runs after that
      // delivery. If the broker dropped meanwhile, the mqtt out dropped the message without a
      // word (and never completes it): all in flight goes back. Otherwise a message passed on to
      // something else than an mqtt out (which says nothing when done) is done with.
      if (!settleImmediate) {
        settleImmediate = setImmediate(() => {
          settleImmediate = null;
          const sent = justSent;
          justSent = [];
          if (!outbox) return;
          if (!connected()) putBackAll();
          else for (const k of sent) if (!deliveries.has(k)) outbox.acknowledge(k);
          showStatus();
        });
      }
    }

    /** The broker is gone: every message in flight goes back to the front, in order, to be sent again once it is back. */
    function putBackAll(): void {
      deliveries.clear();
      ackAwaitedSinceOf.clear();
      justSent = [];
      outbox?.settle(false);
    }

    /**
     * The broker connected, messages in flight that will never be completed go back to the front,
     * in order, to be sent again: those passed on to an mqtt out no longer running (stopped or
     * restarted by a deploy since: Node-RED dropped them, or the old node took them with it), and
     * those left uncompleted too long (see RESEND_UNCOMPLETED_AFTER_MIN_MS).
     */
    function putBackStranded(): void {
      if (!outbox || deliveries.size === 0) return;
      const nowMs = monotonicMs();
      const limitMs = resendUncompletedAfterMs();
      const back = new Set<Kept<NodeMessage>>();
      let late = 0;
      for (const [kept, d] of deliveries) {
        const gone = [...d.pendingOuts].some(([id, out]) => RED.nodes.getNode(id) !== out);
        if (!gone && nowMs - d.sentAtMs < limitMs) continue;
        back.add(kept);
        if (!gone) {
          late++;
          ackAwaitedSinceOf.set(kept, d.ackAwaitedSinceMs);
        }
      }
      if (back.size === 0) return;
      for (const kept of back) deliveries.delete(kept);
      // Each put back goes to the front: the last first, so that they keep their order.
      const inOrder = outbox.entries().filter((k) => back.has(k));
      for (let i = inOrder.length - 1; i >= 0; i--) outbox.putBack(inOrder[i]);
      const gone = back.size - late;
      const why = [
        gone ? `${gone} passed on to an mqtt out no longer running (stopped or redeployed since)` : '',
        late ? `${late} not completed by the mqtt out within ${Math.round(limitMs / 1000)} s` : '',
      ].filter(Boolean);
      node.log(`sending again ${back.size} message(s): ${why.join(', ')}`);
      flushSoon();
    }

    /** An mqtt out is done with a message (Node-RED's onComplete hook, called for every node's every message). */
    function onComplete(ev: CompleteEvent): void {
      const outId = ev.node?.id;
      if (!outbox || deliveries.size === 0 || typeof outId !== 'string' || !mqttOutIds.has(outId)) return;
      const msgId = ev.msg?._msgid;
      // The oldest message passed on with that _msgid that this mqtt out has not completed yet.
      let kept: Kept<NodeMessage> | undefined;
      let delivery: Delivery | undefined;
      for (const [k, d] of deliveries) {
        if (d.msgId === msgId && d.pendingOuts.has(outId)) {
          kept = k;
          delivery = d;
          break;
        }
      }
      // Put back meanwhile (sent again, it has a new _msgid), or not this node's.
      if (!kept || !delivery) return;
      if (ev.error) {
        deliveries.delete(kept);
        const errors = (publishErrors.get(kept) ?? 0) + 1;
        publishErrors.set(kept, errors);
        const why = ev.error instanceof Error ? ev.error.message : String(ev.error);
        if (errors >= MAX_PUBLISH_ERRORS) {
          outbox.acknowledge(kept);
          node.error(`the mqtt out "${RED.nodes.getNode(outId)?.name || outId}" failed to publish a message ${errors} times (${why}): given up, not sent again`, { topic: kept.item.topic, payload: kept.item.payload } as NodeMessage);
        } else {
          outbox.putBack(kept);
          flushSoon();
        }
        showStatus();
        return;
      }
      lastAckAtMs = monotonicMs();
      delivery.pendingOuts.delete(outId);
      if (delivery.pendingOuts.size > 0) return;
      deliveries.delete(kept);
      outbox.acknowledge(kept);
      flushSoon();
      showStatus();
    }

    function flushSoon(): void {
      // No room in flight: the next acknowledgement calls again.
      if (flushImmediate || !outbox || outbox.size === 0 || !outbox.roomInFlight) return;
      flushImmediate = setImmediate(() => {
        flushImmediate = null;
        if (!outbox) return;
        try {
          outbox.flush(wayOpen, sendOne, FLUSH_PER_TURN);
        } catch (err) {
          node.error(`sending waiting messages: ${(err as Error).message}`);
        }
        if (wayOpen()) flushSoon();
        showStatus();
      });
    }

    /** A mqtt out fed by this node through another broker would make the outbox watch the wrong connection. */
    function checkWiring(): void {
      checkedWiring = true;
      for (const id of (config.wires ?? []).flat()) {
        const next = RED.nodes.getNode(id) as (Node & { broker?: string }) | null;
        if (next?.type === 'mqtt out' && next.broker !== config.broker) {
          node.warn(`setting broker: this node watches ${config.broker} but the mqtt out "${next.name || next.id}" it feeds publishes through ${next.broker}: choose the same broker`);
        }
      }
    }

    if (outbox) {
      // Without Node-RED's hooks (a test harness), messages are done with once delivered while connected.
      const hooks = (RED as { hooks?: NodeAPI['hooks'] }).hooks;
      if (hooks) {
        hooks.add(hookName, (ev: CompleteEvent) => {
          try {
            onComplete(ev);
          } catch (err) {
            node.error(`acknowledgement of a message: ${(err as Error).message}`);
          }
        });
        hooked = true;
      }
      watchClient();
      checkTimer = setInterval(() => {
        watchClient();
        if (!checkedWiring) checkWiring();
        if (!connected() && outbox!.inFlightCount > 0) putBackAll();
        else putBackStranded();
        outbox!.age();
        if (wayOpen()) flushSoon();
        showStatus();
      }, CHECK_EVERY_MS);
      // A deploy may have stopped, started or replaced an mqtt out fed: looked at again now.
      const events = (RED as { events?: NodeAPI['events'] }).events;
      if (events) {
        offFlowsStarted = onFlowsStarted(events, () => {
          try {
            wayOutSeen = undefined;
            if (connected()) putBackStranded();
            if (wayOpen()) flushSoon();
            showStatus();
          } catch (err) {
            node.error(`after the deploy: ${(err as Error).message}`);
          }
        });
      }
      showStatus();
    }

    node.on('input', (msg: NodeMessage, send: (m: NodeMessage) => void, done: (err?: Error) => void) => {
      try {
        if (!outbox) {
          // Unguarded rather than lost: the mqtt out may still publish it.
          send(msg);
          done(new Error(`outbox not configured, message passed on unguarded: ${configError}`));
          return;
        }
        if ((msg as { action?: unknown }).action !== undefined) {
          // A connect/disconnect command for the mqtt out, not a publication: held back, a
          // "connect" would wait for the connection it is meant to open.
          send(msg);
          done();
          return;
        }
        if (!connected() && outbox.inFlightCount > 0) putBackAll();
        const sentNow = outbox.offer(msg, wayOpen(), sendOne);
        if (!sentNow && wayOpen()) flushSoon();
        showStatus();
        done();
      } catch (err) {
        done(err as Error);
      }
    });

    /**
     * Once the flows are deployed (the next 'flows:started'): a node still defined in them,
     * disabled or on a disabled tab, keeps its file and gets its messages back when enabled
     * again; a node deleted leaves no file behind. keptMessages / droppedMessages: what to say.
     */
    function decideOnceDeployed(file: string, keptMessages: string, droppedMessages: string): void {
      const events = (RED as { events?: NodeAPI['events'] }).events;
      if (!events) return;
      onceFlowsStarted(events, (e) => {
        try {
          const definedIds = new Set<string>();
          const flows = (e as { config?: { flows?: Array<{ id?: unknown }> } } | undefined)?.config?.flows;
          if (Array.isArray(flows)) for (const def of flows) definedIds.add(String(def.id));
          else RED.nodes.eachNode((def) => definedIds.add(def.id));
          if (isDefinedInFlows(node.id, definedIds)) {
            if (keptMessages) node.log(`closed with ${keptMessages} waiting for the broker: kept in ${path.basename(file)}, the node is disabled (or its tab is); they are sent once it is enabled again`);
            return;
          }
          for (const f of [file, tempFileOf(file)]) fs.rmSync(f, { force: true });
          if (droppedMessages) node.warn(`closed with ${droppedMessages} waiting for the broker: dropped, the node is deleted (${path.basename(file)} removed)`);
        } catch (err) {
          node.warn(`${path.basename(file)}: ${(err as Error).message}`);
        }
      });
    }

    node.on('close', (removed: boolean, done: () => void) => {
      try {
        clearNodeFailure(node);
        if (hooked) RED.hooks.remove(hookName);
        hooked = false;
        offFlowsStarted?.();
        offFlowsStarted = undefined;
        if (checkTimer) clearInterval(checkTimer);
        unwatchClient();
        if (flushImmediate) clearImmediate(flushImmediate);
        if (settleImmediate) clearImmediate(settleImmediate);
        if (persistTimer) clearTimeout(persistTimer);
        checkTimer = flushImmediate = settleImmediate = persistTimer = null;
        // What is in flight stays in the file (outbox.entries()): unacknowledged, it is sent again at the next start.
        deliveries.clear();
        ackAwaitedSinceOf.clear();
        const waiting = outbox ? outbox.size + outbox.inFlightCount : 0;
        const messages = `${waiting} message${waiting === 1 ? '' : 's'}`;
        if (outbox && persistFile) {
          // Written in any case: Node-RED says `removed` of a node deleted, but also of a node
          // disabled or on a tab disabled, whose messages must wait for it to be enabled again.
          persistNow('close');
          const kept = persistFault === undefined;
          if (kept && waiting > 0 && !removed) node.log(`closing with ${messages} waiting for the broker: kept in ${path.basename(persistFile)} for the next start`);
          if (!kept && waiting > 0) node.warn(`closing with ${messages} waiting for the broker: dropped, ${path.basename(persistFile)} could not be written (${persistFault})`);
          // Removed, or in a subflow instance (whose deletion Node-RED does not tell its nodes):
          // whether the node is gone for good is known from the flows just deployed.
          const inSubflow = (node as unknown as { _alias?: string })._alias !== undefined;
          if (removed || inSubflow) decideOnceDeployed(persistFile, kept && waiting > 0 && removed ? messages : '', kept && waiting > 0 ? messages : '');
        } else if (waiting > 0) {
          node.warn(`closing with ${messages} waiting for the broker: dropped (kept in memory only)`);
        }
        outbox?.clear();
        outbox = null;
      } finally {
        done();
      }
    });
  }
  RED.nodes.registerType('vigie-outbox', VigieOutboxNode as unknown as Parameters<NodeAPI['nodes']['registerType']>[1]);
};
