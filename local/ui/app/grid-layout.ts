import type { GridKind } from '../views';

/**
 * How a pipeline's partitions are laid out in the console's grid (pure, so that it is tested
 * outside the browser): hourly as days × hours, daily as a calendar of weeks, weekly and monthly
 * as years, static keys as a table, multi-partitions as time × the other dimensions.
 */
export interface GridLayout {
  readonly columns: readonly string[];
  readonly rows: readonly GridRow[];
}

export interface GridRow {
  readonly label: string;
  /** Index into the keys of each column's cell, -1 where there is no partition. */
  readonly cells: Int32Array;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
const DAY_MS = 86_400_000;

/** Lays out `keys` (in key order) for a grid of `kind`. */
export function layoutGrid(kind: GridKind, keys: readonly string[], dimensions?: { readonly names: readonly string[]; readonly timeIndex: number }): GridLayout {
  switch (kind) {
    case 'hourly': {
      const repeated = keys.some((k) => k.endsWith('b'));
      const columns = Array.from({ length: 24 }, (_, h) => String(h).padStart(2, '0'));
      if (repeated) columns.push('2nd');
      return grouped(keys, columns.length, (k) => k.slice(0, 10), (k) => (k.endsWith('b') ? 24 : Number(k.slice(11, 13))), columns);
    }
    case 'daily':
      return grouped(keys, 7, mondayOf, weekdayOf, WEEKDAYS);
    case 'weekly':
      return grouped(keys, 53, (k) => k.slice(0, 4), (k) => Number(k.slice(6, 8)) - 1, Array.from({ length: 53 }, (_, w) => `W${String(w + 1).padStart(2, '0')}`));
    case 'monthly':
      return grouped(keys, 12, (k) => k.slice(0, 4), (k) => Number(k.slice(5, 7)) - 1, MONTHS);
    case 'multi': {
      const timeIndex = dimensions && dimensions.timeIndex >= 0 ? dimensions.timeIndex : 0;
      const rest = (k: string) => k.split('|').filter((_, i) => i !== timeIndex).join('|');
      const columns = [...new Set(keys.map(rest))];
      const column = new Map(columns.map((c, i) => [c, i]));
      return grouped(keys, columns.length, (k) => k.split('|')[timeIndex] ?? k, (k) => column.get(rest(k)) ?? 0, columns);
    }
    case 'static':
    case 'none':
      return { columns: ['status'], rows: keys.map((key, i) => ({ label: key, cells: Int32Array.of(i) })) };
  }
}

/** The short text a cell shows for its key. */
export function cellLabel(kind: GridKind, key: string): string {
  switch (kind) {
    case 'hourly':
      return key.slice(11);
    case 'daily':
      return String(Number(key.slice(8, 10)));
    case 'weekly':
      return key.slice(5);
    case 'monthly':
      return MONTHS[Number(key.slice(5, 7)) - 1] ?? key;
    default:
      return '';
  }
}

function grouped(
  keys: readonly string[],
  width: number,
  rowOf: (key: string) => string,
  columnOf: (key: string) => number,
  columns: readonly string[],
): GridLayout {
  const rows: GridRow[] = [];
  let current: { label: string; cells: Int32Array } | undefined;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    const label = rowOf(key);
    if (current?.label !== label) {
      current = { label, cells: new Int32Array(width).fill(-1) };
      rows.push(current);
    }
    const column = columnOf(key);
    if (column >= 0 && column < width) current.cells[column] = i;
  }
  return { columns, rows };
}

/** Day of the week of a `YYYY-MM-DD` key, Monday 0 (calendar arithmetic on the date itself). */
function weekdayOf(key: string): number {
  return (new Date(`${key.slice(0, 10)}T00:00:00Z`).getUTCDay() + 6) % 7;
}

function mondayOf(key: string): string {
  const date = Date.parse(`${key.slice(0, 10)}T00:00:00Z`);
  return new Date(date - weekdayOf(key) * DAY_MS).toISOString().slice(0, 10);
}
