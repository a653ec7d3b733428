import type { PlannedTask } from '../lib/compile/flow';

/**
 * Seeded random DAGs for the `dag` bench and the planner's property tests: the same inputs on
 * every run.
 */

/** A whole number from `min` to `max`, inclusive. */
export function randomInt(rand: () => number, min: number, max: number): number {
  return min + Math.floor(rand() * (max - min + 1));
}

/** Shuffles `items` in place (Fisher–Yates) and returns them. */
export function shuffle<T>(rand: () => number, items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = randomInt(rand, 0, i);
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/** Random DAG of `n` tasks over a hidden order, declared in shuffled order; mean degree `degree`. */
export function randomDag(rand: () => number, n: number, degree: number): PlannedTask[] {
  const p = Math.min(1, (2 * degree) / Math.max(1, n - 1));
  const after: string[][] = Array.from({ length: n }, () => []);
  for (let j = 1; j < n; j++) for (let i = 0; i < j; i++) if (rand() < p) after[j]!.push(`t${i}`);
  return shuffle(rand, after.map((deps, i) => ({ name: `t${i}`, after: deps })));
}

/**
 * Random series-parallel DAG of `n` tasks: random binary series/parallel composition, plus
 * `redundantEdges` transitively implied edges, which must not disturb an exact decomposition.
 */
export function randomSeriesParallel(rand: () => number, n: number, redundantEdges: number): PlannedTask[] {
  const after = new Map<string, Set<string>>();
  // Returns the sources and sinks of a fresh SP DAG of `size` tasks.
  const build = (size: number): { sources: string[]; sinks: string[] } => {
    if (size === 1) {
      const name = `t${after.size}`;
      after.set(name, new Set());
      return { sources: [name], sinks: [name] };
    }
    const left = randomInt(rand, 1, size - 1);
    const a = build(left);
    const b = build(size - left);
    if (rand() < 0.5) return { sources: [...a.sources, ...b.sources], sinks: [...a.sinks, ...b.sinks] };
    for (const source of b.sources) for (const sink of a.sinks) after.get(source)!.add(sink);
    return { sources: a.sources, sinks: b.sinks };
  };
  build(n);
  const ancestors = (name: string, into = new Set<string>()): Set<string> => {
    for (const p of after.get(name)!) if (!into.has(p)) ancestors(p, into.add(p));
    return into;
  };
  const names = [...after.keys()];
  for (let k = 0; k < redundantEdges; k++) {
    const name = names[randomInt(rand, 0, names.length - 1)]!;
    const implied = [...ancestors(name)];
    if (implied.length > 0) after.get(name)!.add(implied[randomInt(rand, 0, implied.length - 1)]!);
  }
  return shuffle(rand, names.map((name) => ({ name, after: [...after.get(name)!] })));
}
