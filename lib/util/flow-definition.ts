/**
 * Whether a running node still has a definition in the deployed flows, enabled or disabled.
 * Node-RED runs a node of a subflow instance as "<instance id>-<its id in the subflow>"; the
 * instance may itself sit in another subflow's instance, so the id is split from the left until
 * both halves are defined. Knows nothing of Node-RED: given the ids of the deployed definitions.
 */
export function isDefinedInFlows(liveId: string, definedIds: ReadonlySet<string>): boolean {
  if (definedIds.has(liveId)) return true;
  for (let dash = liveId.indexOf('-'); dash > 0; dash = liveId.indexOf('-', dash + 1)) {
    if (definedIds.has(liveId.slice(dash + 1)) && isDefinedInFlows(liveId.slice(0, dash), definedIds)) return true;
  }
  return false;
}
