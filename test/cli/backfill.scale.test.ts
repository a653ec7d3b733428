import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { peakInFlight, runExecutions } from './executions';
import { cliEnv, json, sluice } from './sluice';

const backfillFixtures = fileURLToPath(new URL('./fixtures/backfill', import.meta.url));

/** What `steady`'s task returns: when it started and ended, epoch milliseconds. */
interface HoldResult {
  readonly started: number;
  readonly ended: number;
}

/**
 * `sluice backfill` at scale (`npm run test:scale`, minutes; `npm test` proves the behaviour on
 * tens of partitions): 1,000 daily partitions at concurrency 8. Nothing here is timed: the limit
 * and the fan-out are proven from the start and end times each task recorded.
 */
describe('sluice backfill at scale', () => {
  let home: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'sluice-cli-backfill-scale-'));
    env = cliEnv(home, { SLUICE_PIPELINES: backfillFixtures });
  });

  afterAll(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it('backfills 1,000 daily partitions at concurrency 8: 1,000 SUCCEEDED, never more than 8 tasks at once, and at least 6', async () => {
    // When: every task of `steady` holds 0.75 s
    const result = await sluice(['backfill', 'steady', '--from', '2020-01-01', '--to', '2022-09-26', '--concurrency', '8', '--json'], env);

    // Then
    expect(result.code, result.stderr).toBe(0);
    expect(json(result)).toMatchObject({ status: 'SUCCEEDED', partitions: 1000, runs: 1000, succeeded: 1000, failed: 0, skipped: 0 });
    const status = json<{ partitions: { partition: string; status: string }[] }>(
      await sluice(['status', 'steady', '--from', '2020-01-01', '--to', '2022-09-26', '--json'], env),
    );
    expect(status.partitions).toHaveLength(1000);
    expect(status.partitions.filter((p) => p.status !== 'SUCCEEDED')).toStrictEqual([]);
    const tasks = runExecutions(home, 'steady').map((run) => (JSON.parse(run.output!) as { results: { hold: { value: HoldResult } } }).results.hold.value);
    expect(tasks).toHaveLength(1000);
    const peak = peakInFlight(tasks.map((t) => ({ start: t.started, end: t.ended })));
    expect(peak).toBeLessThanOrEqual(8);
    expect(peak).toBeGreaterThanOrEqual(6);
  });
});
