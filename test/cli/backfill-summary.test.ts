import { describe, expect, it } from 'vitest';
import { type BackfillView, printSummary } from '../../local/cli/commands/backfill';

function printed(view: BackfillView): string {
  let text = '';
  printSummary({ io: { out: (chunk) => (text += chunk), err: () => undefined, color: false } }, view);
  return text;
}

const counts = { pipeline: 'sales', backfillId: 'bf-1', runs: 3, succeeded: 1, skipped: 1, cancelled: 0, durationMs: 2000 };

describe("sluice backfill's summary", () => {
  it('shows a plain Error by its message alone, and a named one with its name', () => {
    const text = printed({
      ...counts,
      status: 'FAILED',
      partitions: 4,
      failed: 2,
      problems: [
        { partition: '2024-03-01', status: 'FAILED', runId: 'sales_2024-03-01_r1', error: 'Error', message: 'no sales files under sales/2024-03-01/' },
        { partition: '2024-03-02', status: 'FAILED', runId: 'sales_2024-03-02_r1', error: 'SourceGapError', message: 'no data yet for 2024-03-02' },
        { partition: '2024-03-03', status: 'SKIPPED', message: 'already running when its batch was claimed' },
      ],
    });
    expect(text).toMatch(/^2024-03-01\s+FAILED\s+sales_2024-03-01_r1\s+no sales files under sales\/2024-03-01\/$/m);
    expect(text).toMatch(/^2024-03-02\s+FAILED\s+sales_2024-03-02_r1\s+SourceGapError: no data yet for 2024-03-02$/m);
    expect(text).toMatch(/^2024-03-03\s+SKIPPED\s+already running when its batch was claimed$/m);
    expect(text).toContain('Re-run what is left: sluice backfill sales --only missing,failed with the same --from/--to');
  });

  it('says why a backfill failed before it ran anything, from the execution’s Lambda error', () => {
    const text = printed({
      ...counts,
      status: 'FAILED',
      partitions: 0,
      failed: 0,
      problems: [],
      error: 'Error',
      cause: JSON.stringify({ errorType: 'Error', errorMessage: 'the partition table is missing' }),
    });
    expect(text).toBe('FAILED  backfill bf-1 of sales failed before it ran anything: the partition table is missing\n');
  });
});
