/**
 * Node-RED's 'flows:started' for every Vigie node, through one listener per runtime. Each node
 * instance that looks again once a deploy is over used to add a listener of its own: with a
 * dozen Vigie nodes (and the old and new instances of a deploy side by side) Node-RED's
 * runtime events passed Node's limit of 10 listeners and the log said "Possible EventEmitter
 * memory leak detected" although nothing leaked. Here one listener calls the listeners given,
 * in the order they were given, as the runtime events would; each is taken off by the function
 * its registration returns (a node's close handler), and is not called after that.
 */
import { RuntimeEvents } from './handover';

/** What a listener is given: the runtime's event ({config, type, diff} in Node-RED). */
export type FlowsStartedListener = (e: unknown) => void;

/** The listeners given for each runtime's events, in the order given (one entry per registration). */
const listenersOf = new WeakMap<RuntimeEvents, Set<{ listener: FlowsStartedListener }>>();

/**
 * Calls `listener` at each 'flows:started' of `events` (RED.events) until the returned function
 * is called. Listeners are called in the order they were given; one given while the event is
 * being handed out waits for the next one, one taken off meanwhile is not called. A listener
 * that throws does not keep the others from being called: its error is thrown after them (the
 * first, when several throw), as the runtime events would throw it.
 */
export function onFlowsStarted(events: RuntimeEvents, listener: FlowsStartedListener): () => void {
  let listeners = listenersOf.get(events);
  if (!listeners) {
    const all = new Set<{ listener: FlowsStartedListener }>();
    listenersOf.set(events, all);
    events.on('flows:started', (e) => {
      let failed: { err: unknown } | undefined;
      for (const entry of [...all]) {
        if (!all.has(entry)) continue;
        try {
          entry.listener(e);
        } catch (err) {
          failed ??= { err };
        }
      }
      if (failed) throw failed.err;
    });
    listeners = all;
  }
  const entry = { listener };
  listeners.add(entry);
  const registered = listeners;
  return () => {
    registered.delete(entry);
  };
}

/** As onFlowsStarted, for the next 'flows:started' only. */
export function onceFlowsStarted(events: RuntimeEvents, listener: FlowsStartedListener): () => void {
  const off = onFlowsStarted(events, (e) => {
    off();
    listener(e);
  });
  return off;
}

/** How many listeners are given for `events` now (0 when none ever was): a closed node's are not among them. */
export function flowsStartedListenerCount(events: RuntimeEvents): number {
  return listenersOf.get(events)?.size ?? 0;
}
