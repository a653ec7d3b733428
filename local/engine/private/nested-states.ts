type Json = Record<string, unknown>;

/**
 * `machine` (a definition, a Parallel branch or a Map's processor) with `rewrite` applied to each
 * of its states and those of the state machines nested in them (Parallel branches, Map
 * processors), inner ones first: `rewrite` sees a Parallel or Map state with its nested machines
 * already rewritten. Nothing is changed in place.
 */
export function rewriteStates(machine: Json, rewrite: (state: Json, name: string) => Json): Json {
  const states = (machine.States ?? {}) as Record<string, Json>;
  return { ...machine, States: Object.fromEntries(Object.entries(states).map(([name, state]) => [name, rewrite(withNestedRewritten(state, rewrite), name)])) };
}

function withNestedRewritten(state: Json, rewrite: (state: Json, name: string) => Json): Json {
  if (state.Type === 'Parallel') return { ...state, Branches: ((state.Branches ?? []) as Json[]).map((branch) => rewriteStates(branch, rewrite)) };
  if (state.Type !== 'Map') return state;
  if (state.ItemProcessor) return { ...state, ItemProcessor: rewriteStates(state.ItemProcessor as Json, rewrite) };
  if (state.Iterator) return { ...state, Iterator: rewriteStates(state.Iterator as Json, rewrite) };
  return state;
}
