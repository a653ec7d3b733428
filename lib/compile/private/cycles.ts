/**
 * The cycles of a directed graph (depth-first), each as a path that returns to its first node,
 * listed against the edges' direction: for "a needs b", a cycle reads b → … → b in the order
 * things must happen. Self-edges and edges to unknown nodes are left to the caller.
 */
export function cyclesOf(nodes: readonly string[], edgesOf: (node: string) => readonly string[]): string[][] {
  const known = new Set(nodes);
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const cycles: string[][] = [];
  const visit = (node: string) => {
    state.set(node, 'visiting');
    stack.push(node);
    for (const next of edgesOf(node)) {
      if (!known.has(next) || next === node) continue;
      if (state.get(next) === 'visiting') cycles.push([...stack.slice(stack.indexOf(next)), next].reverse());
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of nodes) if (!state.has(node)) visit(node);
  return cycles;
}
