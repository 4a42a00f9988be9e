/**
 * What a node had in progress when a deploy restarted it, kept for the node of the same id
 * that the deploy starts next. Node-RED closes the old node (close handler with removed false)
 * before it creates the new one, so the old one puts its work here and the new one takes it.
 * Bounded: an item not taken within keepMs is dropped, and past maxItems the oldest is dropped;
 * onDropped says which. When the flows stop without a deploy (Node-RED stopping, Stop flows in
 * the editor) no node of this process takes them: dropped, or written to a file for the node's
 * next start (keepOnStopWithoutDeploy).
 */
export interface HandOverShelfOptions<T> {
  /** How long an item waits for the new node (ms). */
  keepMs?: number;
  /** Items kept at most (nodes of one type restarted by one deploy). */
  maxItems?: number;
  /** An item nobody took: the place to say what is lost. */
  onDropped?: (nodeId: string, item: T, why: string) => void;
}

/** Node-RED's runtime events (RED.events), as far as the shelf listens to them. */
export interface RuntimeEvents {
  on(name: string, listener: (e: unknown) => void): unknown;
}

const STOPPED_WITHOUT_DEPLOY = 'the flows stopped without a deploy';

/** A deploy restarts every node within a few seconds; 30 s leaves room for a slow start. */
export const HAND_OVER_KEEP_MS = 30_000;
const HAND_OVER_MAX_ITEMS = 200;

export class HandOverShelf<T> {
  private readonly items = new Map<string, { item: T; timer: NodeJS.Timeout }>();
  private readonly watched = new WeakSet<object>();
  private readonly keepMs: number;
  private readonly maxItems: number;

  constructor(private readonly opts: HandOverShelfOptions<T> = {}) {
    this.keepMs = opts.keepMs ?? HAND_OVER_KEEP_MS;
    this.maxItems = opts.maxItems ?? HAND_OVER_MAX_ITEMS;
  }

  /** Keeps `item` for the next node of id `nodeId` (an item it had already is replaced). */
  put(nodeId: string, item: T): void {
    this.drop(nodeId, 'replaced by a newer hand-over');
    const timer = setTimeout(() => this.drop(nodeId, `no node took it within ${Math.round(this.keepMs / 1000)} s`), this.keepMs);
    // Kept for a node that may start: never a reason for the process to stay up.
    timer.unref?.();
    this.items.set(nodeId, { item, timer });
    while (this.items.size > this.maxItems) this.drop(this.items.keys().next().value!, `more than ${this.maxItems} hand-overs waiting`);
  }

  /** The item kept for `nodeId`, now the caller's; undefined when there is none. */
  take(nodeId: string): T | undefined {
    const kept = this.items.get(nodeId);
    if (!kept) return undefined;
    clearTimeout(kept.timer);
    this.items.delete(nodeId);
    return kept.item;
  }

  /** Drops every item (no node will take them: the flows stopped without a deploy). */
  dropAll(why: string): void {
    for (const nodeId of [...this.items.keys()]) this.drop(nodeId, why);
  }

  /**
   * Drops every item when the flows stop without a deploy (Stop flows, Node-RED stopping): the
   * nodes that start next are no restart of those, and must not take what they left. `events`
   * is Node-RED's runtime events (RED.events); listened to once per runtime.
   */
  dropOnStopWithoutDeploy(events: RuntimeEvents): void {
    this.onStopWithoutDeploy(events, () => this.dropAll(STOPPED_WITHOUT_DEPLOY));
  }

  /**
   * When the flows stop without a deploy, gives each item to `keep` (which writes it where the
   * node's next start finds it: stop-file.ts) instead of dropping it. `keep` returns undefined
   * once the item is kept, else why it could not be: the item is then dropped (onDropped).
   * Called once every node's close is done, before Node-RED exits. Listened to once per runtime.
   */
  keepOnStopWithoutDeploy(events: RuntimeEvents, keep: (nodeId: string, item: T) => string | undefined): void {
    this.onStopWithoutDeploy(events, () => {
      for (const [nodeId, kept] of [...this.items]) {
        clearTimeout(kept.timer);
        this.items.delete(nodeId);
        let notKept: string | undefined;
        try {
          notKept = keep(nodeId, kept.item);
        } catch (err) {
          notKept = (err as Error).message;
        }
        if (notKept !== undefined) this.opts.onDropped?.(nodeId, kept.item, `${STOPPED_WITHOUT_DEPLOY}, and ${notKept}`);
      }
    });
  }

  private onStopWithoutDeploy(events: RuntimeEvents, then: () => void): void {
    if (this.watched.has(events)) return;
    this.watched.add(events);
    events.on('runtime-event', (e) => {
      const ev = e as { id?: string; payload?: { state?: string; deploy?: boolean } } | undefined;
      // Node-RED sends it once every node's close is done; `deploy` true when starting follows.
      if (ev?.id === 'runtime-state' && ev.payload?.state === 'stop' && ev.payload.deploy !== true) then();
    });
  }

  get size(): number {
    return this.items.size;
  }

  private drop(nodeId: string, why: string): void {
    const kept = this.items.get(nodeId);
    if (!kept) return;
    clearTimeout(kept.timer);
    this.items.delete(nodeId);
    this.opts.onDropped?.(nodeId, kept.item, why);
  }
}
