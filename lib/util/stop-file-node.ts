/**
 * The part of a node type's stop files (stop-file.ts) that follows the runtime: written when
 * the flows stop without a deploy (from what its nodes left on their hand-over shelf), and,
 * at each start of the flows, the files no running node took looked at: the node disabled
 * (or its tab), kept for when it is enabled again; the node deleted, removed and said so. Given
 * the few parts of Node-RED's API it uses, not Node-RED itself.
 */
import * as path from 'path';
import { isDefinedInFlows } from './flow-definition';
import { onFlowsStarted } from './flows-started';
import { HandOverShelf, RuntimeEvents } from './handover';
import { STOP_FILE_MAX_BYTES, StopFiles } from './stop-file';
import { isPlausibleWallTime } from './clock';
import { fileFaultText } from './disk-fault';

/** What of Node-RED's API the stop files use (RED). */
export interface StopFileRuntime {
  events: RuntimeEvents;
  log: { info(text: string): void; warn(text: string): void };
  nodes: { getNode(id: string): unknown; eachNode(cb: (def: { id: string }) => void): void };
}

export interface StopFileWords<H, T> {
  /** The Node-RED user directory, where the files go. */
  userDir: () => string;
  /** What a hand-over holds that is worth keeping, most urgent first. */
  itemsOf: (h: H) => T[];
  /** An item's id, to name those lost. */
  idOf: (item: T) => string;
  /** "3 alerts", "1 incident". */
  words: (n: number) => string;
  /** Names these items when they are not all of one kind ("2 alerts and 1 camera's look"); `words` of their count otherwise. */
  itemWords?: (items: T[]) => string;
  /** What the items were doing: "in progress", "waiting for sensors". */
  what: string;
  /**
   * An item of a file no node took yet, as it is `gapMs` later (its durations counted from the
   * new stop): the node stopped again before its flows started, and its file is written anew
   * with these items kept. `gapMs` undefined: the time between the stops is not known (a wall
   * clock not set, or set back): the item is to be as old as a stop of unknown length makes it.
   */
  olderBy: (item: T, gapMs: number | undefined) => T;
}

/** How long the flows were stopped, by the wall clock; undefined when it cannot tell (a clock not set then or now, or set back since). */
export function stoppedForMs(stoppedAtMs: number, nowMs: number): number | undefined {
  if (!isPlausibleWallTime(stoppedAtMs) || !isPlausibleWallTime(nowMs) || nowMs < stoppedAtMs) return undefined;
  return nowMs - stoppedAtMs;
}

/** The runtime and words each kind of file uses now: a test harness loads the nodes again with other settings. */
const current = new WeakMap<object, { RED: StopFileRuntime; words: StopFileWords<unknown, unknown> }>();
const scanned = new WeakMap<RuntimeEvents, Set<object>>();

/** Names the first few ids of `items`. */
function idsOf<T>(items: T[], idOf: (item: T) => string): string {
  const ids = items.slice(0, 5).map(idOf).join(', ');
  return items.length > 5 ? `${ids}, …` : ids;
}

/**
 * Wires the stop files of one node type to the runtime (called at each load of the node type;
 * listens once per runtime): what `shelf` holds when the flows stop without a deploy is written
 * to `files`; at each flows start, files left behind are dealt with (see the top of this file).
 */
export function keepStopFiles<H, T>(RED: StopFileRuntime, shelf: HandOverShelf<H>, files: StopFiles<T>, words: StopFileWords<H, T>): void {
  current.set(files, { RED, words: words as unknown as StopFileWords<unknown, unknown> });
  const now = () => current.get(files) as { RED: StopFileRuntime; words: StopFileWords<H, T> };
  shelf.keepOnStopWithoutDeploy(RED.events, (nodeId, h) => {
    const { RED: red, words: w } = now();
    const said = (some: T[]) => w.itemWords?.(some) ?? w.words(some.length);
    const fresh = w.itemsOf(h);
    // Nothing new: a file of an earlier stop not taken yet (if any) stays as it is.
    if (!fresh.length) return undefined;
    const dir = w.userDir();
    const file = files.fileOf(dir, nodeId);
    const stoppedAtMs = Date.now();
    // Stopped again before its flows started (stop, start, stop): the node has not taken the file
    // of the first stop yet. Its items are kept with the new ones (the new one of an id first),
    // aged by the time between the stops, not overwritten.
    let untaken: T[] = [];
    try {
      const earlier = files.peek(dir, nodeId, stoppedAtMs);
      if (earlier?.refused) red.log.warn(`${files.kind} ${nodeId}: ${path.basename(file)}: ${w.words(earlier.refused)} left out, unusable (first: ${earlier.firstRefusal})`);
      if (earlier?.items.length) {
        const gapMs = stoppedForMs(earlier.stoppedAtMs, stoppedAtMs);
        const ids = new Set(fresh.map(w.idOf));
        untaken = earlier.items.filter((item) => !ids.has(w.idOf(item))).map((item) => w.olderBy(item, gapMs));
      }
    } catch (err) {
      // Set aside (UnusableStopFileError says where): the new file does not mix with it.
      red.log.warn(`${files.kind}: ${(err as Error).message}`);
    }
    const items = [...fresh, ...untaken];
    let written;
    try {
      written = files.write(dir, { nodeId, stoppedAtMs, items });
    } catch (err) {
      // The earlier file, if any, is left whole (the new one goes through a temporary file).
      return `${path.basename(file)} could not be written (${fileFaultText(err)})`;
    }
    const keptUntaken = Math.max(0, written.written - fresh.length);
    const also = keptUntaken ? `, with ${said(untaken.slice(0, keptUntaken))} of an earlier stop not taken yet (stopped again before its flows started)` : '';
    red.log.info(`${files.kind} ${nodeId}: ${said(items.slice(0, written.written))} ${w.what} when the flows stopped kept in ${path.basename(file)} for its next start${also}`);
    if (written.leftOut) {
      red.log.warn(`${files.kind} ${nodeId}: ${said(items.slice(written.written))} ${w.what} when the flows stopped left out of ${path.basename(file)}, which holds at most ${STOP_FILE_MAX_BYTES / 1024} kB (${idsOf(items.slice(written.written), w.idOf)}): not taken over`);
    }
    return undefined;
  });

  let kinds = scanned.get(RED.events);
  if (!kinds) scanned.set(RED.events, (kinds = new Set()));
  if (kinds.has(files)) return;
  kinds.add(files);
  onFlowsStarted(RED.events, (e) => {
    const { RED: red, words: w } = now();
    try {
      const dir = w.userDir();
      const left = files.leftBehind(dir, (id) => !!red.nodes.getNode(id), Date.now());
      if (!left.length) return;
      const definedIds = new Set<string>();
      const flows = (e as { config?: { flows?: Array<{ id?: unknown }> } } | undefined)?.config?.flows;
      if (Array.isArray(flows)) for (const def of flows) definedIds.add(String(def.id));
      else red.nodes.eachNode((def) => definedIds.add(def.id));
      for (const { file, kept, error } of left) {
        if (error) {
          red.log.warn(`${files.kind}: ${error.message}`);
          continue;
        }
        if (!kept) continue;
        const what = `${w.itemWords?.(kept.items) ?? w.words(kept.items.length)} ${w.what} when the flows stopped`;
        if (isDefinedInFlows(kept.nodeId, definedIds)) {
          red.log.info(`${files.kind} ${kept.nodeId}: ${what} kept in ${path.basename(file)}: the node is in the flows but did not start (disabled, its tab disabled, or its start failed); taken over once it starts`);
          continue;
        }
        files.remove(dir, kept.nodeId);
        red.log.warn(`${files.kind} ${kept.nodeId}: ${what} dropped, the node is deleted (${path.basename(file)} removed)${kept.items.length ? `: ${idsOf(kept.items, w.idOf)}` : ''}`);
      }
    } catch (err) {
      red.log.warn(`${files.kind}: files kept when the flows stopped: ${(err as Error).message}`);
    }
  });
}

/**
 * Takes node `nodeId`'s file at its start, if there is one: its items and how long the flows
 * were stopped (undefined when it cannot tell). A file that cannot be used, and items of it
 * that are refused, are said through `warn`, naming the file; none of it throws.
 */
export function takeStopFile<T>(
  files: StopFiles<T>,
  dir: string,
  nodeId: string,
  words: { words: (n: number) => string; what: string },
  warn: (text: string) => void,
): { file: string; items: T[]; stoppedForMs: number | undefined } | undefined {
  let kept;
  try {
    kept = files.take(dir, nodeId, Date.now());
  } catch (err) {
    warn(`${words.what} when the flows stopped could not be taken over: ${(err as Error).message}`);
    return undefined;
  }
  if (!kept) return undefined;
  const file = path.basename(kept.file);
  if (kept.refused) warn(`${file}: ${words.words(kept.refused)} left out, unusable (first: ${kept.firstRefusal})`);
  return { file, items: kept.items, stoppedForMs: stoppedForMs(kept.stoppedAtMs, Date.now()) };
}
