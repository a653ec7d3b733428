import { describe, expect, it } from 'vitest';
import { RunProgress } from '../../local/cli/progress';
import type { TaskAttempt } from '../../local/engine';

describe('RunProgress', () => {
  it('reports each task attempt once as it starts, is retried, succeeds or fails, with durations, and skips platform states', () => {
    // Given a progress over the tasks extract and load
    const progress = new RunProgress((state) => state === 'extract' || state === 'load');
    const extract: TaskAttempt = { state: 'extract', attempt: 1, startDate: '2024-01-01T00:00:00.000Z' };
    const mark: TaskAttempt = { state: 'Mark running', attempt: 1, startDate: '2024-01-01T00:00:00.000Z' };

    // When the attempts evolve
    const first = progress.update([mark, extract]);
    extract.endDate = '2024-01-01T00:00:00.250Z';
    const load1: TaskAttempt = { state: 'load', attempt: 1, startDate: '2024-01-01T00:00:01.000Z', endDate: '2024-01-01T00:00:02.000Z', error: 'Boom', cause: '{"errorMessage":"no data"}' };
    const second = progress.update([mark, extract, load1]);
    const load2: TaskAttempt = { state: 'load', attempt: 2, startDate: '2024-01-01T00:00:03.000Z' };
    const third = progress.update([mark, extract, load1, load2]);
    const again = progress.update([mark, extract, load1, load2]);

    // Then
    expect(first).toStrictEqual(['  ▸ extract started']);
    expect(second).toStrictEqual(['  ✓ extract succeeded in 0.3 s', '  ▸ load started', '  ✗ load failed in 1.0 s: Boom: no data']);
    expect(third).toStrictEqual(['  ↻ load retried (attempt 2)']);
    expect(again).toStrictEqual([]);
  });
});
