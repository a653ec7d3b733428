import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { PartitionGridView, PartitionStatus } from '../views';
import { cellLabel, layoutGrid } from './grid-layout';

const ROW_HEIGHT = 24;
const VIEWPORT_ROWS = 20;
const OVERSCAN = 10;
const STATUS_OF: Readonly<Record<string, PartitionStatus>> = { M: 'MISSING', R: 'RUNNING', S: 'SUCCEEDED', F: 'FAILED' };
const STATUS_ORDER: readonly PartitionStatus[] = ['FAILED', 'RUNNING', 'SUCCEEDED', 'MISSING'];

/** A range of partitions, as indices into the grid's keys (`first` ≤ `last`). */
export interface Selection {
  readonly first: number;
  readonly last: number;
}

/**
 * The partition grid, coloured by status with a text legend and counts. Only the rows in view are
 * in the page (a virtual list), so 100,000 partitions render as fast as 500. Click a partition to
 * select it; shift-click another to select the range between them.
 */
export function PartitionGrid(props: {
  grid: PartitionGridView;
  dimensions?: { readonly names: readonly string[]; readonly timeIndex: number };
  selection?: Selection;
  onSelect(selection: Selection): void;
}) {
  const { grid, selection } = props;
  const layout = useMemo(() => layoutGrid(grid.grid, grid.keys, props.dimensions), [grid.keys, grid.grid]);
  const [top, setTop] = useState(() => Math.max(0, layout.rows.length * ROW_HEIGHT - VIEWPORT_ROWS * ROW_HEIGHT));
  const viewport = useRef<HTMLDivElement>(null);
  const anchor = useRef<number | undefined>(undefined);
  const rendered = useRef(false);

  // Time grids open on their latest rows, where today's partitions are.
  useEffect(() => {
    if (viewport.current) viewport.current.scrollTop = top;
  }, [layout]);
  useEffect(() => {
    if (rendered.current) return;
    rendered.current = true;
    // Milliseconds since the page's navigation began, once the first grid is painted: what the ui bench reads.
    const grid = viewport.current?.closest('[data-grid]');
    requestAnimationFrame(() => grid?.setAttribute('data-ready', String(Math.round(performance.now()))));
  });

  const first = Math.max(0, Math.floor(top / ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(layout.rows.length, Math.ceil(top / ROW_HEIGHT) + VIEWPORT_ROWS + OVERSCAN);
  const select = (index: number, extend: boolean) => {
    if (extend && anchor.current !== undefined) {
      props.onSelect({ first: Math.min(anchor.current, index), last: Math.max(anchor.current, index) });
    } else {
      anchor.current = index;
      props.onSelect({ first: index, last: index });
    }
  };

  return (
    <div class="grid" data-grid={grid.grid} data-partitions={grid.keys.length}>
      <Legend counts={grid.counts} />
      {grid.truncated && <p class="muted">Showing the latest {grid.keys.length.toLocaleString('en-US')} partitions, from {grid.truncated.from}.</p>}
      <div class="grid-head" style={{ gridTemplateColumns: columnsTemplate(layout.columns.length) }}>
        <span />
        {layout.columns.map((c) => (
          <span key={c} class="col">
            {c}
          </span>
        ))}
      </div>
      <div class="grid-viewport" ref={viewport} style={{ height: `${Math.min(VIEWPORT_ROWS, layout.rows.length) * ROW_HEIGHT + 2}px` }} onScroll={(e) => setTop((e.currentTarget as HTMLDivElement).scrollTop)}>
        <div style={{ height: `${layout.rows.length * ROW_HEIGHT}px`, position: 'relative' }}>
          {layout.rows.slice(first, last).map((row, offset) => (
            <div
              key={row.label}
              class="grid-row"
              style={{ top: `${(first + offset) * ROW_HEIGHT}px`, gridTemplateColumns: columnsTemplate(layout.columns.length) }}
            >
              <span class="row-label">{row.label}</span>
              {Array.from(row.cells, (index, column) => {
                if (index < 0) return <span key={column} class="cell empty" />;
                const status = STATUS_OF[grid.statuses[index]!] ?? 'MISSING';
                const key = grid.keys[index]!;
                const selected = selection !== undefined && index >= selection.first && index <= selection.last;
                return (
                  <button
                    type="button"
                    key={column}
                    class={`cell s-${status.toLowerCase()}${selected ? ' selected' : ''}`}
                    data-key={key}
                    data-status={status}
                    title={`${key}: ${status}`}
                    aria-label={`${key} ${status}`}
                    onClick={(e) => select(index, e.shiftKey)}
                  >
                    {grid.grid === 'static' || grid.grid === 'none' ? status : cellLabel(grid.grid, key)}
                  </button>
                );
              })}
            </div>
          ))}
        </div>
      </div>
      {grid.grid === 'multi' && props.dimensions && <DimensionTables grid={grid} names={props.dimensions.names} />}
    </div>
  );
}

function columnsTemplate(count: number): string {
  return `7.5em repeat(${count}, minmax(2.2em, 4.5em))`;
}

function Legend({ counts }: { counts: Readonly<Record<PartitionStatus, number>> }) {
  return (
    <ul class="legend">
      {STATUS_ORDER.map((status) => (
        <li key={status} data-count={status}>
          <span class={`swatch s-${status.toLowerCase()}`} /> {status} <strong>{counts[status].toLocaleString('en-US')}</strong>
        </li>
      ))}
    </ul>
  );
}

/** One table per dimension of multi-partitions: each value with its partitions' counts by status. */
function DimensionTables({ grid, names }: { grid: PartitionGridView; names: readonly string[] }) {
  const tables = useMemo(() => {
    const byDimension = names.map(() => new Map<string, Record<PartitionStatus, number>>());
    grid.keys.forEach((key, i) => {
      const status = STATUS_OF[grid.statuses[i]!] ?? 'MISSING';
      key.split('|').forEach((value, d) => {
        const counts = byDimension[d]?.get(value) ?? { FAILED: 0, RUNNING: 0, SUCCEEDED: 0, MISSING: 0 };
        counts[status]++;
        byDimension[d]?.set(value, counts);
      });
    });
    return byDimension;
  }, [grid]);
  return (
    <div class="dimensions">
      {names.map((name, d) => (
        <table key={name} class="dimension" data-dimension={name}>
          <thead>
            <tr>
              <th>{name}</th>
              {STATUS_ORDER.map((s) => (
                <th key={s}>{s}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {[...tables[d]!].slice(-50).map(([value, counts]) => (
              <tr key={value}>
                <td>{value}</td>
                {STATUS_ORDER.map((s) => (
                  <td key={s} class={counts[s] > 0 ? `n s-text-${s.toLowerCase()}` : 'n muted'}>
                    {counts[s]}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      ))}
    </div>
  );
}

