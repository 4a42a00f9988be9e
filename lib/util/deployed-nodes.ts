/**
 * Deployed config nodes of one kind (cameras, sensors), found by their own id or by the id of
 * their definition in the flows. Inside a subflow instance a node runs under another id
 * ("<instance>-<id>") and a list of ids held in another node's property is not rewritten to it;
 * the same definition then runs once per instance. Each node is kept with its scope: the ids of
 * the subflow instances around it, outermost first (empty at the top level of the flows).
 *
 * A node sees another when one's scope encloses the other's: a node at the top level sees every
 * copy in every instance; a node inside an instance sees the top-level ones, those of its own
 * instance (and of instances nested in it), not those of a sibling instance.
 */

export interface DeployedNode<T> {
  node: T;
  /** The id it runs under. */
  id: string;
  /** The id of its definition in the flows (the same as `id` outside subflows). */
  definitionId: string;
  /** Subflow instance ids around it, outermost first. */
  scope: readonly string[];
}

/** The part of a runtime flow that says which subflow instance it is and what encloses it. */
export interface FlowChain {
  subflowInstance?: { id?: unknown };
  parent?: FlowChain;
}

/** The subflow instances around a node, outermost first, from the chain of flows it runs in. */
export function scopeOfFlow(flow: FlowChain | undefined): string[] {
  const scope: string[] = [];
  // A bound on the walk: a malformed chain that loops must not hang a deploy.
  for (let f = flow, depth = 0; f && depth < 100; f = f.parent, depth++) {
    const id = f.subflowInstance?.id;
    if (typeof id === 'string' && id) scope.unshift(id);
  }
  return scope;
}

function commonPrefix(a: readonly string[], b: readonly string[]): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

/** Whether a node in scope `from` sees one in scope `of` (one encloses the other). */
export function sees(from: readonly string[], of: readonly string[]): boolean {
  return commonPrefix(from, of) === Math.min(from.length, of.length);
}

export class DeployedNodes<T> {
  private readonly entries: DeployedNode<T>[] = [];

  /** Adds a deployed node; returns the function that removes exactly this registration. */
  register(entry: DeployedNode<T>): () => void {
    const kept: DeployedNode<T> = { ...entry, scope: [...entry.scope] };
    this.entries.push(kept);
    return () => {
      const i = this.entries.indexOf(kept);
      if (i >= 0) this.entries.splice(i, 1);
    };
  }

  /** Every deployed node, in the order they were deployed. */
  all(): T[] {
    return this.entries.map((e) => e.node);
  }

  /** The deployed nodes a node in scope `from` sees, in the order they were deployed. */
  visibleFrom(from: readonly string[]): T[] {
    return this.entries.filter((e) => sees(from, e.scope)).map((e) => e.node);
  }

  /**
   * The nodes an id names for a node in scope `from`: the node running under that id, else the
   * copies of the definition with that id that it sees (its own instance's one when it is in the
   * same subflow; every instance's from outside them).
   */
  resolve(id: string, from: readonly string[]): T[] {
    const live = this.entries.find((e) => e.id === id);
    if (live) return [live.node];
    return this.entries.filter((e) => e.definitionId === id && sees(from, e.scope)).map((e) => e.node);
  }

  /**
   * Every deployed node, nearest to scope `from` first: those it sees before the others (a sibling
   * instance's); among them its own instance's, then those of instances nested in it, then the
   * enclosing ones from the nearest out (the top level last).
   */
  nearestFirst(from: readonly string[]): T[] {
    return this.ranked(from, this.entries).map((x) => x.e.node);
  }

  /**
   * The deployed nodes that `match`, as near to scope `from` as any that match (nearestFirst's
   * order): one when the nearest is clear; several when they are equally near (two sibling
   * instances' copies seen from outside both, two in one scope), which one to take is not known.
   */
  nearestMatching(from: readonly string[], match: (node: T) => boolean): DeployedNode<T>[] {
    const ranked = this.ranked(from, this.entries.filter((e) => match(e.node)));
    if (!ranked.length) return [];
    const first = ranked[0].r;
    return ranked.filter((x) => x.r.every((v, i) => v === first[i])).map((x) => x.e);
  }

  /** The deployed nodes in exactly scope `scope` (the same place: the top level, or one subflow instance). */
  inScope(scope: readonly string[]): DeployedNode<T>[] {
    return this.entries.filter((e) => e.scope.length === scope.length && e.scope.every((id, i) => id === scope[i]));
  }

  private ranked(from: readonly string[], entries: DeployedNode<T>[]): Array<{ e: DeployedNode<T>; r: [number, number, number] }> {
    const rank = (e: DeployedNode<T>): [number, number, number] => [sees(from, e.scope) ? 0 : 1, -commonPrefix(from, e.scope), e.scope.length];
    return entries
      .map((e, order) => ({ e, order, r: rank(e) }))
      .sort((a, b) => a.r[0] - b.r[0] || a.r[1] - b.r[1] || a.r[2] - b.r[2] || a.order - b.order)
      .map(({ e, r }) => ({ e, r }));
  }
}

/** Deployed vigie-camera config nodes (registered by nodes/vigie-camera.ts). */
export const deployedCameraNodes = new DeployedNodes<object>();
/** Deployed vigie-sensor config nodes (registered by nodes/vigie-sensor.ts). */
export const deployedSensorNodes = new DeployedNodes<object>();
/**
 * The vigie-sensor node each running mic-capture captures for, by sensor id (nodes/mic-capture.ts):
 * a sensor id has one capture in a process (lib/audio/registry.ts), so a detection of this
 * process names, by its sensor id, the sensor node whose microphones heard it.
 */
export const capturedSensorNodes = new Map<string, object>();
