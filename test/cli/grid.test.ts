import { describe, expect, it } from 'vitest';
import { daily, hourly, multiPartitions, staticPartitions } from '../../lib/definitions/partitions';
import { partitionGrid } from '../../local/cli/grid';

type Status = 'MISSING' | 'RUNNING' | 'SUCCEEDED' | 'FAILED';

describe('partitionGrid', () => {
  it('draws daily partitions as a calendar: a row per month, a column per day, and the counts', () => {
    // Given January and February 2024, the 7th failed, the 10th running, February missing
    const partitions = Array.from({ length: 60 }, (_, i) => {
      const date = new Date(Date.UTC(2024, 0, 1 + i)).toISOString().slice(0, 10);
      const status: Status = date === '2024-01-07' ? 'FAILED' : date === '2024-01-10' ? 'RUNNING' : date < '2024-02-01' ? 'SUCCEEDED' : 'MISSING';
      return { partition: date, status };
    });

    // When
    const lines = partitionGrid(daily({ start: '2024-01-01' }), partitions, false).split('\n');

    // Then
    expect(lines[1]).toBe('2024-01  ■■■■■■x■■>■■■■■■■■■■■■■■■■■■■■■');
    expect(lines[2]).toBe('2024-02  ·····························  ');
    expect(lines.at(-2)).toBe('■ SUCCEEDED 29   x FAILED 1   > RUNNING 1   · MISSING 29');
  });

  it('draws hourly partitions as a row per day and a column per hour', () => {
    const partitions = Array.from({ length: 48 }, (_, i) => ({
      partition: `2024-01-0${1 + Math.floor(i / 24)}T${String(i % 24).padStart(2, '0')}`,
      status: (i === 30 ? 'FAILED' : 'SUCCEEDED') as Status,
    }));
    const lines = partitionGrid(hourly({ start: '2024-01-01T00' }), partitions, false).split('\n');
    expect(lines.slice(1, 3)).toStrictEqual(['2024-01-01  ' + '■'.repeat(24), '2024-01-02  ■■■■■■x' + '■'.repeat(17)]);
  });

  it('draws multi-partitions as a row per time key and a column per combination', () => {
    const spec = multiPartitions({ date: daily({ start: '2024-01-01' }), region: staticPartitions(['eu', 'us']) });
    const partitions = [
      { partition: '2024-01-01|eu', status: 'SUCCEEDED' as Status },
      { partition: '2024-01-01|us', status: 'FAILED' as Status },
      { partition: '2024-01-02|eu', status: 'MISSING' as Status },
      { partition: '2024-01-02|us', status: 'MISSING' as Status },
    ];
    const lines = partitionGrid(spec, partitions, false).split('\n');
    expect(lines.slice(1, 3)).toStrictEqual(['2024-01-01  ■x', '2024-01-02  ··']);
  });

  it('colours the cells on a colour terminal', () => {
    expect(partitionGrid(staticPartitions(['eu']), [{ partition: 'eu', status: 'FAILED' }], true)).toContain('\u001b[31mx\u001b[0m');
  });
});
