/** Reading a flows.json text as vigie start looks at it, before Node-RED does. */

/**
 * The objects in a flow's text (its nodes, typed as the caller reads them); none when the text is
 * not a JSON array, so that a broken flows.json is left for Node-RED to report.
 */
export function flowNodes<T extends object>(flowText: string): T[] {
  try {
    const nodes: unknown = JSON.parse(flowText);
    return Array.isArray(nodes) ? nodes.filter((n): n is T => typeof n === 'object' && n !== null) : [];
  } catch {
    return [];
  }
}
