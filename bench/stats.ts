/** What one benchmark reports: rows printed as a table, and the same rows written as JSON. */
export interface BenchResult {
  /** Short title printed above the table. */
  readonly title: string;
  /** One row per measured case; every row has the same columns, in the same order. */
  readonly rows: readonly Readonly<Record<string, string | number>>[];
}

/** Summary of a sample, rounded for printing. */
export interface Summary {
  readonly p50: number;
  readonly p95: number;
  readonly max: number;
  readonly mean: number;
}

/** Linear-interpolated quantile (`q` in [0, 1]) of a non-empty sample. */
export function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const position = (sorted.length - 1) * q;
  const low = Math.floor(position);
  const high = Math.ceil(position);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (position - low);
}

export function summarize(values: readonly number[], digits = 4): Summary {
  const round = (x: number): number => Number(x.toFixed(digits));
  return {
    p50: round(quantile(values, 0.5)),
    p95: round(quantile(values, 0.95)),
    max: round(Math.max(...values)),
    mean: round(values.reduce((sum, x) => sum + x, 0) / values.length),
  };
}

/** Renders rows as an aligned text table, numbers right-aligned. */
export function formatTable(rows: readonly Readonly<Record<string, string | number>>[]): string {
  if (rows.length === 0) return '(no rows)';
  const columns = Object.keys(rows[0]!);
  const cells = rows.map((row) => columns.map((c) => String(row[c] ?? '')));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i]!.length)));
  const line = (values: readonly string[], numeric: readonly boolean[]): string =>
    values.map((v, i) => (numeric[i] ? v.padStart(widths[i]!) : v.padEnd(widths[i]!))).join('  ').trimEnd();
  const numeric = columns.map((c) => typeof rows[0]![c] === 'number');
  return [
    line(columns, numeric),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...cells.map((r) => line(r, numeric)),
  ].join('\n');
}

/** Small seeded PRNG (mulberry32): benchmarks must measure the same inputs on every run. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
