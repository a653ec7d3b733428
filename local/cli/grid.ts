import type { PartitionSpec } from '../../lib/definitions/partitions';

/**
 * Partition statuses as a grid for `sluice status` on a terminal: one cell per partition, so a
 * year of daily partitions or a month of hourly ones fits a screen. Daily partitions form a
 * calendar (a row per month, a column per day), hourly ones a row per day and a column per hour,
 * multi-partitions a row per time key and a column per combination of the other dimensions;
 * anything else one row of cells. Followed by the count of each status.
 */

type Status = 'MISSING' | 'RUNNING' | 'SUCCEEDED' | 'FAILED';

/** One cell per status: a glyph that reads without colour, coloured on a colour terminal. */
const CELLS: Readonly<Record<Status, { glyph: string; color: string }>> = {
  SUCCEEDED: { glyph: '■', color: '32' },
  FAILED: { glyph: 'x', color: '31' },
  RUNNING: { glyph: '>', color: '33' },
  MISSING: { glyph: '·', color: '2' },
};

const ORDER: readonly Status[] = ['SUCCEEDED', 'FAILED', 'RUNNING', 'MISSING'];

function cell(status: Status | undefined, color: boolean): string {
  if (!status) return ' ';
  const { glyph, color: code } = CELLS[status];
  return color ? `\u001b[${code}m${glyph}\u001b[0m` : glyph;
}

/** The grid's lines, ending with the counts and the legend. */
export function partitionGrid(
  spec: PartitionSpec | undefined,
  partitions: readonly { readonly partition: string; readonly status: Status }[],
  color: boolean,
): string {
  const byKey = new Map(partitions.map((p) => [p.partition, p.status]));
  const lines: string[] = [];
  const rows = (rowOf: (key: string) => string, columnOf: (key: string) => string, columns: readonly string[], header: string) => {
    const keysByRow = new Map<string, Map<string, Status>>();
    for (const { partition, status } of partitions) {
      const row = rowOf(partition);
      if (!keysByRow.has(row)) keysByRow.set(row, new Map());
      keysByRow.get(row)!.set(columnOf(partition), status);
    }
    const width = Math.max(...[...keysByRow.keys()].map((r) => r.length), 0);
    lines.push(`${' '.repeat(width)}  ${header}`);
    for (const [row, cells] of keysByRow) lines.push(`${row.padEnd(width)}  ${columns.map((c) => cell(cells.get(c), color)).join('')}`);
  };
  const time = spec?.kind === 'multi' ? undefined : spec?.kind;
  if (time === 'daily') {
    const days = Array.from({ length: 31 }, (_, i) => String(i + 1).padStart(2, '0'));
    rows((k) => k.slice(0, 7), (k) => k.slice(8, 10), days, '1        10        20        31');
  } else if (time === 'hourly') {
    // A repeated fall-back hour (`T01b`) shares its hour's column: the later occurrence shows.
    const hours = Array.from({ length: 24 }, (_, i) => String(i).padStart(2, '0'));
    rows((k) => k.slice(0, 10), (k) => k.slice(11, 13), hours, '0     6     12    18   23');
  } else if (spec?.kind === 'multi') {
    const first = (k: string) => k.split('|')[0]!;
    const rest = (k: string) => k.split('|').slice(1).join('|');
    const combos = [...new Set(partitions.map((p) => rest(p.partition)))];
    rows(first, rest, combos, combos.map((c, i) => (i === 0 ? c : '')).join('') + (combos.length > 1 ? ` … ${combos.at(-1)} (${combos.length} columns)` : ''));
  } else {
    lines.push(partitions.map((p) => cell(p.status, color)).join(''));
    if (partitions.length > 0) lines.push(`${partitions[0]!.partition} … ${partitions.at(-1)!.partition}`);
  }
  const counts = ORDER.map((status) => `${cell(status, color)} ${status} ${[...byKey.values()].filter((s) => s === status).length}`);
  lines.push('', counts.join('   '));
  return `${lines.join('\n')}\n`;
}
