/**
 * vigie-outbox: placed right before an `mqtt out`, keeps the messages sent while that mqtt
 * out's broker is unreachable and sends them, oldest first, once it is connected again.
 * Node-RED 4.1's core mqtt out publishes only while connected and silently drops the rest
 * (docs/mqtt.md). It watches the same core `mqtt-broker` config node (its `connected` flag;
 * the broker node emits no events of its own) and never registers with it, so the broker's
 * status and connection stay the mqtt out's. The queue is lib/util/outbox.ts; what waits is also
 * kept in a file of the user directory across restarts (Restarts, on by default), a journal
 * appended to as messages come and go (lib/util/outbox-file.ts). A later copy of a waiting alert
 * replaces it, and decisions are dropped last (lib/util/outbox-rules.ts).
 */
import * as fs from 'fs';
import * as path from 'path';
import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import { DropEvent, Outbox, OUTBOX_SETTING_RANGES } from '../lib/util/outbox';
import { alertCopyKeyOf, isDecision } from '../lib/util/outbox-rules';
import { errorStatus } from '../lib/util/status';
import { settingsReader } from '../lib/util/validate';
import { tempFileOf } from '../lib/util/atomic-file';
import { KeptFile, OutboxJournal } from '../lib/util/outbox-file';
import { monotonicMs } from '../lib/util/clock';
import { clearNodeFailure, reportNodeFailure } from '../lib/util/health';

interface OutboxDef extends NodeDef {
  broker?: string;
  wires?: string[][];
  maxMessages?: string | number;
  maxAgeS?: string | number;
  /** Keep what waits across restarts, in a file of the user directory (default true). */
  persist?: boolean;
}

/** What this node reads of the core mqtt-broker config node. */
interface BrokerNode extends Node {
  connected?: unknown;
  /** True from its first connect until that connect succeeds (the core node clears it then, for good). */
  connecting?: unknown;
  broker?: string;
  port?: string | number;
}

/** How often the broker's connection is looked at (it emits nothing when it comes back). */
const CHECK_EVERY_MS = 1000;
/** A broker unreachable this long puts the node in the health report as failed (see reportHealth). */
const BROKER_DOWN_FAILED_MS = 5 * 60_000;
/** Messages sent per turn of the event loop during a flush, so that a disconnect in the middle is seen before the next. */
const FLUSH_PER_TURN = 20;
/** What waits is written this long after it last changed (the changes of a burst, or of a flush, go in one write). */
const PERSIST_AFTER_MS = 2000;

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
    let lastStatus = '';
    /** The outbox's inEpisode when the status was last shown (its end is said once). */
    let wasInEpisode = false;
    let checkedWiring = false;
    let persistTimer: NodeJS.Timeout | null = null;
    let persistFailed = false;
    const userDir = (RED.settings as unknown as { userDir?: string }).userDir ?? process.cwd();
    const persistFile = config.persist === false ? undefined : path.join(userDir, `vigie-outbox-${node.id.replace(/[^\w.-]/g, '_')}.json`);

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
        node.warn(`broker ${brokerName()} unreachable: dropping the oldest waiting messages${order}, ${why}${replacedSoFar(box)}; the status counts them`);
      }
      if (e.firstKeptLongestInEpisode) {
        const why = e.reason === 'maxAge' ? `older than ${box.maxAgeMs / 1000} s (maxAgeS)` : `nothing but decisions left among the ${box.maxMessages} waiting (maxMessages)`;
        node.warn(`broker ${brokerName()} unreachable: dropping operator decisions, ${why}; the status counts them`);
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
      outbox = new Outbox<NodeMessage>({
        maxMessages: setting('maxMessages'),
        maxAgeMs: setting('maxAgeS') * 1000,
        onDrop,
        supersedeKeyOf: alertCopyKeyOf,
        keepLongest: isDecision,
      });
    } catch (err) {
      configError = (err as Error).message;
      node.status({ fill: 'red', shape: 'ring', text: errorStatus(err) });
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
        persistFailed = false;
        // Said once per message (the journal does not try it again): it still waits in memory and is sent when the broker is back.
        for (const { reason } of left) {
          node.warn(`msg.payload (or another field the mqtt out publishes): expected something JSON can hold (${reason}); this message waits in memory only, not in ${path.basename(journal.file)}`);
        }
      } catch (err) {
        // Said once per fault; the messages are still kept in memory.
        if (!persistFailed) node.warn(`${path.basename(journal.file)}: could not write the waiting messages (${(err as Error).message}); they are kept in memory only`);
        persistFailed = true;
      }
    }

    function persistSoon(): void {
      if (!persistFile || persistTimer) return;
      persistTimer = setTimeout(() => {
        persistTimer = null;
        persistNow();
      }, PERSIST_AFTER_MS);
    }

    /**
     * A gateway that cannot publish is deaf to the control room: the health report (and the
     * container's health check) names this node once its broker has been unreachable for
     * BROKER_DOWN_FAILED_MS, or as soon as messages were dropped, until it is connected again.
     */
    function reportHealth(): void {
      if (!outbox) return;
      if (connected()) {
        if (downSinceMs !== undefined) clearNodeFailure(node);
        downSinceMs = undefined;
        return;
      }
      const now = monotonicMs();
      downSinceMs ??= now;
      const dropped = outbox.droppedInEpisode;
      const downMs = now - downSinceMs;
      if (downMs < BROKER_DOWN_FAILED_MS && dropped === 0) return;
      const forText = downMs >= 120_000 ? `${Math.round(downMs / 60_000)} min` : `${Math.round(downMs / 1000)} s`;
      reportNodeFailure(node, {
        node: 'vigie-outbox',
        id: node.id,
        ...(config.name ? { name: config.name } : {}),
        reason: `broker ${brokerName()} unreachable for ${forText}: ${outbox.size} message(s) waiting${dropped > 0 ? `, ${dropped} dropped` : ''}`,
      });
    }

    function showStatus(): void {
      if (!outbox) return;
      if (connected()) everConnected = true;
      reportHealth();
      // Every change of what waits passes here: the file follows (messages passing straight
      // through while connected are not written: nothing waits).
      if ((outbox.size > 0 || journal?.onDisk) && outbox.changes !== writtenChanges) persistSoon();
      if (wasInEpisode && !outbox.inEpisode && outbox.replacedInEpisode > 0) {
        // Once per outage, when what waited has gone: how much the copies of alerts were merged.
        node.log(`broker ${brokerName()} connected: what waited is sent; ${outbox.replacedInEpisode} earlier copies of alerts were replaced by later ones while it waited (only the latest copy of an alert is sent)`);
      }
      wasInEpisode = outbox.inEpisode;
      const dropped = outbox.droppedInEpisode;
      // Copies replaced are no fault (the latest copy of each alert waits): counted, not red.
      const replaced = outbox.inEpisode ? outbox.replacedInEpisode : 0;
      const waiting = `${outbox.size} waiting${replaced > 0 ? `, ${replaced} copies replaced` : ''}`;
      let s: { fill: 'red' | 'yellow' | 'green'; shape: 'ring' | 'dot'; text: string };
      const down = firstConnect() ? 'connecting' : 'broker down';
      // Red ring = fault (the broker went away, or messages were dropped); yellow ring = a first connect in progress.
      if (outbox.inEpisode && dropped > 0) {
        const decisions = outbox.keptLongestDroppedInEpisode;
        s = { fill: 'red', shape: 'ring', text: `${connected() ? 'sending' : down}: ${waiting}, ${dropped} dropped${decisions > 0 ? ` (${decisions} decision${decisions === 1 ? '' : 's'})` : ''}` };
      } else if (!connected()) s = { fill: firstConnect() ? 'yellow' : 'red', shape: 'ring', text: `${down}: ${waiting}` };
      else if (outbox.size > 0) s = { fill: 'yellow', shape: 'dot', text: `sending: ${waiting}` };
      else s = { fill: 'green', shape: 'dot', text: dropped > 0 ? `connected (${dropped} dropped in the last outage)` : 'connected' };
      const key = `${s.fill} ${s.shape} ${s.text}`;
      if (key === lastStatus) return;
      lastStatus = key;
      node.status(s);
    }

    function sendOne(m: NodeMessage): void {
      node.send(m);
      // Node-RED delivers on a later turn of the event loop (setImmediate); this runs after that
      // delivery, and if the broker dropped meanwhile, the mqtt out may have dropped the message.
      if (!settleImmediate) {
        settleImmediate = setImmediate(() => {
          settleImmediate = null;
          if (outbox && outbox.settle(connected()) > 0) showStatus();
        });
      }
    }

    function flushSoon(): void {
      if (flushImmediate || !outbox || outbox.size === 0) return;
      flushImmediate = setImmediate(() => {
        flushImmediate = null;
        if (!outbox) return;
        try {
          outbox.flush(connected, sendOne, FLUSH_PER_TURN);
        } catch (err) {
          node.error(`sending waiting messages: ${(err as Error).message}`);
        }
        if (connected()) flushSoon();
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
      checkTimer = setInterval(() => {
        if (!checkedWiring) checkWiring();
        outbox!.age();
        if (connected()) flushSoon();
        showStatus();
      }, CHECK_EVERY_MS);
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
        const sentNow = outbox.offer(msg, connected(), sendOne);
        if (!sentNow && connected()) flushSoon();
        showStatus();
        done();
      } catch (err) {
        done(err as Error);
      }
    });

    node.on('close', (removed: boolean, done: () => void) => {
      try {
        clearNodeFailure(node);
        if (checkTimer) clearInterval(checkTimer);
        if (flushImmediate) clearImmediate(flushImmediate);
        if (settleImmediate) clearImmediate(settleImmediate);
        if (persistTimer) clearTimeout(persistTimer);
        checkTimer = flushImmediate = settleImmediate = persistTimer = null;
        // Kept for the next start, unless the node is removed from the flows (nothing would read the file).
        const keep = !!persistFile && !removed;
        if (outbox && persistFile) {
          const n = outbox.size + outbox.inFlightCount;
          if (keep) persistNow('close');
          else for (const f of [persistFile, tempFileOf(persistFile)]) fs.rmSync(f, { force: true });
          if (keep && n > 0 && !persistFailed) node.log(`closing with ${n} message(s) waiting for the broker: kept in ${path.basename(persistFile)} for the next start`);
        }
        const lost = outbox?.clear() ?? 0;
        outbox = null;
        if (lost > 0 && (!keep || persistFailed)) node.warn(`closing with ${lost} message${lost === 1 ? '' : 's'} waiting for the broker: dropped${removed ? ' (the node is removed)' : ' (kept in memory only)'}`);
      } finally {
        done();
      }
    });
  }
  RED.nodes.registerType('vigie-outbox', VigieOutboxNode as unknown as Parameters<NodeAPI['nodes']['registerType']>[1]);
};
