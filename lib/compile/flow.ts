import type { Flow } from './model';

/** A task as the planner sees it: its name and the names of its direct dependencies. */
export interface PlannedTask {
  readonly name: string;
  /** Direct dependencies; every name must be a task of the same list. */
  readonly after: readonly string[];
}

/**
 * Arranges a dependency DAG into a series-parallel {@link Flow}, the only shapes Step Functions
 * offers (Chain and Parallel). Every task appears exactly once and starts only after all its
 * dependencies have finished.
 *
 * A DAG whose dependency order is series-parallel is decomposed exactly: its flow's makespan equals
 * the DAG's critical path whatever the task durations. Other DAGs (the smallest is the "N":
 * a→c, b→c, b→d) cannot be expressed without some task waiting for one it does not depend on; for
 * those the planner picks each such wait without knowing durations (see {@link scoreCut}).
 *
 * The input must already be validated (acyclic, known names). The result depends only on the
 * input, and branches keep the declaration order.
 */
export function planFlow(tasks: readonly PlannedTask[]): Flow {
  if (tasks.length === 0) throw new Error('planFlow needs at least one task');
  const graph = buildGraph(tasks);
  return plan(graph, graph.topo);
}

/** Duration of a flow when every task takes `duration(task)`: steps add up, branches overlap. */
export function flowMakespan(flow: Flow, duration: (task: string) => number): number {
  switch (flow.kind) {
    case 'task':
      return duration(flow.task);
    case 'sequence':
      return flow.steps.reduce((sum, step) => sum + flowMakespan(step, duration), 0);
    case 'parallel':
      return Math.max(...flow.branches.map((branch) => flowMakespan(branch, duration)));
  }
}

/** Length of the longest dependency chain, the shortest time any arrangement of the DAG can take. */
export function criticalPath(tasks: readonly PlannedTask[], duration: (task: string) => number): number {
  const graph = buildGraph(tasks);
  const finish = new Float64Array(graph.size);
  let longest = 0;
  for (const v of graph.topo) {
    let start = 0;
    for (const p of graph.preds[v]!) start = Math.max(start, finish[p]!);
    finish[v] = start + duration(graph.names[v]!);
    longest = Math.max(longest, finish[v]!);
  }
  return longest;
}

/** The task names of a flow, in the order they appear. */
export function flowTasks(flow: Flow): string[] {
  switch (flow.kind) {
    case 'task':
      return [flow.task];
    case 'sequence':
      return flow.steps.flatMap(flowTasks);
    case 'parallel':
      return flow.branches.flatMap(flowTasks);
  }
}

/** Tasks by index (declaration order), with adjacency, a stable topological order and reachability. */
interface Graph {
  readonly size: number;
  readonly names: readonly string[];
  readonly preds: readonly (readonly number[])[];
  readonly succs: readonly (readonly number[])[];
  /** Topological order that takes the earliest-declared ready task first. */
  readonly topo: readonly number[];
  /** `reach[v]` holds every task reachable from `v` (its transitive dependents), `v` excluded. */
  readonly reach: readonly Bitset[];
}

type Bitset = Uint32Array;

function buildGraph(tasks: readonly PlannedTask[]): Graph {
  const size = tasks.length;
  const index = new Map(tasks.map((t, i) => [t.name, i]));
  const preds = tasks.map((t) => [...new Set(t.after.map((name) => index.get(name)!))].sort((a, b) => a - b));
  const succs: number[][] = tasks.map(() => []);
  preds.forEach((ps, v) => ps.forEach((p) => succs[p]!.push(v)));

  const waiting = preds.map((ps) => ps.length);
  const ready = waiting.flatMap((count, v) => (count === 0 ? [v] : []));
  const topo: number[] = [];
  while (ready.length > 0) {
    const v = ready.shift()!;
    topo.push(v);
    for (const s of succs[v]!) {
      waiting[s]! -= 1;
      if (waiting[s] === 0) insertSorted(ready, s);
    }
  }

  const words = Math.ceil(size / 32);
  const reach = tasks.map(() => new Uint32Array(words));
  for (let i = topo.length - 1; i >= 0; i--) {
    const v = topo[i]!;
    for (const s of succs[v]!) {
      orInto(reach[v]!, reach[s]!);
      setBit(reach[v]!, s);
    }
  }
  return { size, names: tasks.map((t) => t.name), preds, succs, topo, reach };
}

/**
 * Plans the tasks `nodes` (in topological order). `nodes` is always convex (every path between two
 * of its tasks stays inside it), so reachability within it is the global one restricted to it.
 */
function plan(graph: Graph, nodes: readonly number[]): Flow {
  if (nodes.length === 1) return { kind: 'task', task: graph.names[nodes[0]!]! };

  const components = weakComponents(graph, nodes);
  if (components.length > 1) return parallel(components.map((component) => plan(graph, component)));

  // A connected set must start with a sequence; its first step is a down-closed subset.
  const exact = exactSeriesCuts(graph, nodes);
  const pieces = exact.length > 0 ? splitAt(nodes, exact) : heuristicCut(graph, nodes);
  return sequence(pieces.map((piece) => plan(graph, piece)));
}

/**
 * Positions `k` where `nodes[0..k)` precede every task of `nodes[k..)` in the DAG, so putting one
 * after the other adds no wait. Such a split, if any, is a prefix of every topological order.
 */
function exactSeriesCuts(graph: Graph, nodes: readonly number[]): number[] {
  const words = graph.reach[0]!.length;
  const common = new Uint32Array(words).fill(0xffffffff);
  const rest = new Uint32Array(words);
  for (const v of nodes) setBit(rest, v);
  const cuts: number[] = [];
  for (let k = 0; k < nodes.length - 1; k++) {
    const v = nodes[k]!;
    andInto(common, graph.reach[v]!);
    clearBit(rest, v);
    if (isSubset(rest, common)) cuts.push(k + 1);
  }
  return cuts;
}

/**
 * Splits a connected set that has no exact series cut in two: a down-closed part first, the rest
 * after, so some task waits for one it does not depend on. The candidates are the ASAP and ALAP
 * level cuts ("every task of level ≤ k first"), scored under unit durations so that no duration
 * estimate is needed. Topological prefixes, a task's ancestors and all-but-a-task's-descendants
 * were also tried as candidates: they never won often enough to pay for their cost
 * (`npm run bench -- dag`).
 */
function heuristicCut(graph: Graph, nodes: readonly number[]): number[][] {
  const local = localGraph(graph, nodes);
  let best: { first: boolean[]; score: readonly number[] } | undefined;
  for (let level = 0; level < local.length - 1; level++) {
    for (const levels of [local.asap, local.alap]) {
      const first = levels.map((l) => l <= level);
      const score = scoreCut(local, first, first.filter(Boolean).length);
      if (best === undefined || lexLess(score, best.score)) best = { first, score };
    }
  }
  const chosen = best!.first;
  return [nodes.filter((_, i) => chosen[i]), nodes.filter((_, i) => !chosen[i])];
}

/**
 * Score of the cut "`first` then the rest", lower is better: the unit-duration makespan bound
 * (critical path of each side, added); then the largest connected piece the two sides fall into,
 * since a large piece that is not series-parallel forces more waits further down (measured with
 * `npm run bench -- dag`: this beats ranking by balance alone, by false-dependency count, or by
 * the critical paths under sampled durations); then balance.
 */
function scoreCut(local: LocalGraph, first: readonly boolean[], count: number): number[] {
  const m = local.size;
  const finish = new Int32Array(m);
  const parent = Array.from({ length: m }, (_, v) => v);
  const find = (v: number): number => {
    while (parent[v] !== v) v = parent[v] = parent[parent[v]!]!;
    return v;
  };
  let cpFirst = 0;
  let cpRest = 0;
  for (let v = 0; v < m; v++) {
    let start = 0;
    for (const p of local.preds[v]!) {
      if (first[p] !== first[v]) continue;
      start = Math.max(start, finish[p]!);
      parent[find(p)] = find(v);
    }
    finish[v] = start + 1;
    if (first[v]) cpFirst = Math.max(cpFirst, finish[v]!);
    else cpRest = Math.max(cpRest, finish[v]!);
  }
  const pieceSize = new Map<number, number>();
  for (let v = 0; v < m; v++) pieceSize.set(find(v), (pieceSize.get(find(v)) ?? 0) + 1);
  return [cpFirst + cpRest, Math.max(...pieceSize.values()), Math.abs(m - 2 * count)];
}

/** `nodes` re-indexed 0..m-1 in topological order, with unit-duration levels. */
interface LocalGraph {
  readonly size: number;
  readonly preds: readonly (readonly number[])[];
  /** Earliest level (longest path from a source). */
  readonly asap: readonly number[];
  /** Latest level that keeps the critical path (`length - 1 -` longest path to a sink). */
  readonly alap: readonly number[];
  /** Critical path in tasks. */
  readonly length: number;
}

function localGraph(graph: Graph, nodes: readonly number[]): LocalGraph {
  const m = nodes.length;
  const position = new Map(nodes.map((v, i) => [v, i]));
  const preds = nodes.map((v) => graph.preds[v]!.flatMap((p) => (position.has(p) ? [position.get(p)!] : [])));
  const succs = nodes.map((v) => graph.succs[v]!.flatMap((s) => (position.has(s) ? [position.get(s)!] : [])));
  const asap = new Array<number>(m).fill(0);
  for (let v = 0; v < m; v++) for (const p of preds[v]!) asap[v] = Math.max(asap[v]!, asap[p]! + 1);
  const height = new Array<number>(m).fill(0);
  for (let v = m - 1; v >= 0; v--) for (const s of succs[v]!) height[v] = Math.max(height[v]!, height[s]! + 1);
  const length = Math.max(...asap) + 1;
  return { size: m, preds, asap, alap: height.map((h) => length - 1 - h), length };
}

/** Weakly connected components of the DAG restricted to `nodes`, each in topological order. */
function weakComponents(graph: Graph, nodes: readonly number[]): number[][] {
  const parent = new Map(nodes.map((v) => [v, v]));
  const find = (v: number): number => {
    let root = v;
    while (parent.get(root) !== root) root = parent.get(root)!;
    parent.set(v, root);
    return root;
  };
  for (const v of nodes) {
    for (const p of graph.preds[v]!) {
      if (parent.has(p)) parent.set(find(p), find(v));
    }
  }
  const byRoot = new Map<number, number[]>();
  for (const v of nodes) {
    const root = find(v);
    const component = byRoot.get(root);
    if (component) component.push(v);
    else byRoot.set(root, [v]);
  }
  const components = [...byRoot.values()];
  // Branches follow declaration order: the component holding the earliest-declared task first.
  return components.sort((a, b) => Math.min(...a) - Math.min(...b));
}

function splitAt(nodes: readonly number[], cuts: readonly number[]): number[][] {
  return [0, ...cuts].map((start, i) => nodes.slice(start, cuts[i] ?? nodes.length));
}

function sequence(steps: readonly Flow[]): Flow {
  return { kind: 'sequence', steps: steps.flatMap((s) => (s.kind === 'sequence' ? s.steps : [s])) };
}

function parallel(branches: readonly Flow[]): Flow {
  return { kind: 'parallel', branches: branches.flatMap((b) => (b.kind === 'parallel' ? b.branches : [b])) };
}

function lexLess(a: readonly number[], b: readonly number[]): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! < b[i]!;
  return false;
}

function insertSorted(list: number[], value: number): void {
  let i = list.length;
  while (i > 0 && list[i - 1]! > value) i--;
  list.splice(i, 0, value);
}

function setBit(set: Bitset, i: number): void {
  set[i >>> 5]! |= 1 << (i & 31);
}

function clearBit(set: Bitset, i: number): void {
  set[i >>> 5]! &= ~(1 << (i & 31));
}

function orInto(target: Bitset, source: Bitset): void {
  for (let w = 0; w < target.length; w++) target[w]! |= source[w]!;
}

function andInto(target: Bitset, source: Bitset): void {
  for (let w = 0; w < target.length; w++) target[w]! &= source[w]!;
}

function isSubset(a: Bitset, b: Bitset): boolean {
  for (let w = 0; w < a.length; w++) if ((a[w]! & ~b[w]!) !== 0) return false;
  return true;
}

