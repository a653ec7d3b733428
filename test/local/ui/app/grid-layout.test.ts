import { describe, expect, it } from 'vitest';
import { cellLabel, layoutGrid } from '../../../../local/ui/app/grid-layout';

const cells = (row: { cells: Int32Array }) => [...row.cells];

describe('layoutGrid', () => {
  it('lays hourly keys out as days × hours, the repeated fall-back hour in a column of its own', () => {
    const keys = ['2024-11-03T00', '2024-11-03T01', '2024-11-03T01b', '2024-11-03T02', '2024-11-04T00'];
    const layout = layoutGrid('hourly', keys);
    expect(layout.columns).toHaveLength(25);
    expect(layout.columns.at(-1)).toBe('2nd');
    expect(layout.rows.map((r) => r.label)).toStrictEqual(['2024-11-03', '2024-11-04']);
    expect(cells(layout.rows[0]!).slice(0, 3)).toStrictEqual([0, 1, 3]);
    expect(layout.rows[0]!.cells[24]).toBe(2);
    expect(cells(layout.rows[1]!).filter((i) => i >= 0)).toStrictEqual([4]);
  });

  it('lays daily keys out as a calendar of weeks from Monday', () => {
    // 2024-01-03 is a Wednesday; 2024-01-08 the next Monday.
    const layout = layoutGrid('daily', ['2024-01-03', '2024-01-04', '2024-01-07', '2024-01-08']);
    expect(layout.rows.map((r) => r.label)).toStrictEqual(['2024-01-01', '2024-01-08']);
    expect(cells(layout.rows[0]!)).toStrictEqual([-1, -1, 0, 1, -1, -1, 2]);
    expect(cells(layout.rows[1]!)).toStrictEqual([3, -1, -1, -1, -1, -1, -1]);
    expect(cellLabel('daily', '2024-01-08')).toBe('8');
  });

  it('lays monthly and weekly keys out by year', () => {
    const monthly = layoutGrid('monthly', ['2023-12', '2024-01']);
    expect(monthly.rows.map((r) => [r.label, r.cells.indexOf(monthly.rows.indexOf(r))])).toStrictEqual([
      ['2023', 11],
      ['2024', 0],
    ]);
    const weekly = layoutGrid('weekly', ['2020-W53', '2021-W01']);
    expect(weekly.rows.map((r) => r.label)).toStrictEqual(['2020', '2021']);
    expect(weekly.rows[0]!.cells[52]).toBe(0);
  });

  it('lays multi-partitions out as the time dimension × the other dimensions, wherever time is', () => {
    const keys = ['eu|2024-01-01', 'us|2024-01-01', 'eu|2024-01-02'];
    const layout = layoutGrid('multi', keys, { names: ['region', 'date'], timeIndex: 1 });
    expect(layout.columns).toStrictEqual(['eu', 'us']);
    expect(layout.rows.map((r) => [r.label, ...cells(r)])).toStrictEqual([
      ['2024-01-01', 0, 1],
      ['2024-01-02', 2, -1],
    ]);
  });

  it('lists static keys one per row', () => {
    expect(layoutGrid('static', ['eu', 'us']).rows.map((r) => [r.label, ...cells(r)])).toStrictEqual([
      ['eu', 0],
      ['us', 1],
    ]);
  });
});
