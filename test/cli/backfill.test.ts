import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { peakInFlight, runExecutions } from './executions';
import { cliEnv, json, sluice, spawnSluice } from './sluice';

/** Pipelines made for backfills: steady (no-op), patchy (first runs of some days fail), slow. */
const backfillFixtures = fileURLToPath(new URL('./fixtures/backfill', import.meta.url));

interface BackfillJson {
  backfillId: string;
  status: string;
  partitions: number;
  runs: number;
  succeeded: number;
  failed: number;
  skipped: number;
  cancelled: number;
  problems: { partition: string; status: string; error?: string; message?: string }[];
}
interface StatusJson {
  partitions: { partition: string; status: string; runNumber?: number; trigger?: string }[];
}

/**
 * `sluice backfill` and `sluice backfills` end to end, on one SLUICE_HOME (one synth): behaviour
 * with tens of partitions (1,000 is `npm run test:scale`'s; throughput `npm run bench -- backfill`'s).
 * The synth and a busy machine need more than the default timeout.
 */
describe('sluice backfill', { timeout: 300_000 }, () => {
  let home: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'sluice-cli-backfill-'));
    env = cliEnv(home, { SLUICE_PIPELINES: backfillFixtures });
  });

  afterAll(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it('refuses bad input with exit 2 and one line, and starts nothing', async () => {
    // When
    const reversed = await sluice(['backfill', 'steady', '--from', '2020-02-01', '--to', '2020-01-01'], env);
    const unknownKey = await sluice(['backfill', 'steady', '--from', '2020-13-01', '--to', '2020-01-01'], env);
    const tooWide = await sluice(['backfill', 'steady', '--concurrency', '11', '--from', '2020-01-01', '--to', '2020-01-02'], env);
    const listed = await sluice(['backfills', 'steady', '--json'], env);

    // Then
    expect(reversed.code).toBe(2);
    expect(reversed.stderr).toMatch(/^error: from "2020-02-01" is after to "2020-01-01"; give the earlier key as from$/m);
    expect(unknownKey.code).toBe(2);
    expect(unknownKey.stderr).toMatch(/^error: from: "2020-13-01" is not a daily partition key; expected YYYY-MM-DD, e\.g\. 2024-01-01$/m);
    expect(tooWide.code).toBe(2);
    expect(tooWide.stderr).toContain('--concurrency 11 is above the maxConcurrentRuns of pipeline "steady" (10)');
    for (const result of [reversed, unknownKey, tooWide]) expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(json<{ backfills: unknown[] }>(listed).backfills).toStrictEqual([]);
  });

  it('backfills 60 daily partitions at concurrency 8: all SUCCEEDED, never more than 8 runs at once', async () => {
    // When
    const result = await sluice(['backfill', 'steady', '--from', '2020-01-01', '--to', '2020-02-29', '--concurrency', '8', '--json'], env);

    // Then
    expect(result.code, result.stderr).toBe(0);
    expect(json<BackfillJson>(result)).toMatchObject({ status: 'SUCCEEDED', partitions: 60, runs: 60, succeeded: 60, failed: 0, skipped: 0 });
    const status = json<StatusJson>(await sluice(['status', 'steady', '--from', '2020-01-01', '--to', '2020-02-29', '--json'], env));
    expect(status.partitions).toHaveLength(60);
    expect(status.partitions.every((p) => p.status === 'SUCCEEDED' && p.trigger === 'backfill')).toBe(true);
    const runs = runExecutions(home, 'steady');
    expect(runs).toHaveLength(60);
    const peak = peakInFlight(runs.map((r) => ({ start: Date.parse(r.startDate), end: Date.parse(r.stopDate) })));
    expect(peak).toBeLessThanOrEqual(8);
    expect(peak).toBeGreaterThanOrEqual(6);
  });

  it('exits 1 with exactly the failing partitions FAILED, and --only failed re-runs only those', async () => {
    // When: the first run of every 7th day fails
    const first = await sluice(['backfill', 'patchy', '--from', '2024-01-01', '--to', '2024-03-31', '--concurrency', '4', '--json'], env);

    // Then
    const failingDays = ['2024-01-07', '2024-01-14', '2024-01-21', '2024-01-28', '2024-02-07', '2024-02-14', '2024-02-21', '2024-02-28', '2024-03-07', '2024-03-14', '2024-03-21', '2024-03-28'];
    expect(first.code, first.stderr).toBe(1);
    const summary = json<BackfillJson>(first);
    expect(summary).toMatchObject({ status: 'FAILED', partitions: 91, succeeded: 79, failed: 12 });
    expect(summary.problems.map((p) => p.partition)).toStrictEqual(failingDays);
    expect(summary.problems[0]).toMatchObject({ status: 'FAILED', error: 'SourceGapError', message: 'no data yet for 2024-01-07' });
    const afterFirst = json<StatusJson>(await sluice(['status', 'patchy', '--from', '2024-01-01', '--to', '2024-03-31', '--json'], env));
    expect(afterFirst.partitions.filter((p) => p.status === 'FAILED').map((p) => p.partition)).toStrictEqual(failingDays);

    // When the failed ones are backfilled again
    const again = await sluice(['backfill', 'patchy', '--from', '2024-01-01', '--to', '2024-03-31', '--only', 'failed', '--concurrency', '4', '--json'], env);

    // Then only those ran (their second run), and succeeded
    expect(again.code, again.stderr).toBe(0);
    expect(json<BackfillJson>(again)).toMatchObject({ status: 'SUCCEEDED', partitions: 12, succeeded: 12, failed: 0 });
    const afterAgain = json<StatusJson>(await sluice(['status', 'patchy', '--from', '2024-01-01', '--to', '2024-03-31', '--json'], env));
    expect(afterAgain.partitions.every((p) => p.status === 'SUCCEEDED')).toBe(true);
    expect(afterAgain.partitions.filter((p) => p.runNumber === 2).map((p) => p.partition)).toStrictEqual(failingDays);
    // And the listing shows both backfills, newest first
    const listed = await sluice(['backfills', 'patchy'], env);
    expect(listed.stdout).toMatch(/^BACKFILL\s+STATUS\s+RANGE\s+ONLY\s+CONCURRENCY\s+PROGRESS/m);
    expect(listed.stdout).toMatch(/^bf-\S+\s+SUCCEEDED\s+2024-01-01\.\.2024-03-31\s+failed\s+4\s+12\/12\s+12\s+0\s+0\s/m);
    expect(listed.stdout).toMatch(/^bf-\S+\s+FAILED\s+2024-01-01\.\.2024-03-31\s+missing,failed\s+4\s+91\/91\s+79\s+12\s+0\s/m);
  });

  it('hands each run a batch of partitionsPerRun partitions and marks every one of them', async () => {
    // When 10 days of hourly partitions are backfilled, 24 per run
    const result = await sluice(['backfill', 'batched', '--from', '2024-01-01T00', '--to', '2024-01-10T23', '--concurrency', '4', '--json'], env);

    // Then 10 runs marked 240 partitions
    expect(result.code, result.stderr).toBe(0);
    expect(json<BackfillJson>(result)).toMatchObject({ status: 'SUCCEEDED', partitions: 240, runs: 10, succeeded: 240 });
    const runs = runExecutions(home, 'batched');
    expect(runs).toHaveLength(10);
    const seen = runs.map((r) => (JSON.parse(r.output!) as { results: { reload: { value: { count: number; from: string; to: string } } } }).results.reload.value);
    expect(seen.map((v) => `${v.from}..${v.to}:${v.count}`).sort()).toStrictEqual(
      Array.from({ length: 10 }, (_, i) => `2024-01-${String(i + 1).padStart(2, '0')}T00..2024-01-${String(i + 1).padStart(2, '0')}T23:24`),
    );
    const status = json<StatusJson>(await sluice(['status', 'batched', '--from', '2024-01-01T00', '--to', '2024-01-10T23', '--json'], env));
    expect(status.partitions).toHaveLength(240);
    expect(status.partitions.every((p) => p.status === 'SUCCEEDED')).toBe(true);
  });

  it('cancels on Ctrl-C: runs in flight finish, none starts, nothing is left RUNNING', async () => {
    // Given a backfill of runs that take half a second each
    const child = spawnSluice(['backfill', 'slow', '--from', '2024-01-01', '--to', '2024-02-29', '--concurrency', '2', '--json'], env);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const deadline = Date.now() + 60_000;
    while (runExecutions(home, 'slow').length < 4 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));

    // When
    child.kill('SIGINT');
    const code = await exited;

    // Then
    expect(code, stderr).toBe(1);
    expect(stderr).toContain('Cancelling backfill');
    const summary = JSON.parse(stdout) as BackfillJson;
    expect(summary.status).toBe('CANCELLED');
    expect(summary.cancelled).toBeGreaterThan(0);
    expect(summary.succeeded + summary.cancelled).toBe(60);
    const status = json<StatusJson>(await sluice(['status', 'slow', '--from', '2024-01-01', '--to', '2024-02-29', '--json'], env));
    expect(status.partitions.filter((p) => p.status === 'RUNNING')).toStrictEqual([]);
    expect(status.partitions.filter((p) => p.status === 'SUCCEEDED')).toHaveLength(summary.succeeded);
    const listed = json<{ backfills: { backfillId: string; status: string }[] }>(await sluice(['backfills', 'slow', '--json'], env));
    expect(listed.backfills).toMatchObject([{ backfillId: summary.backfillId, status: 'CANCELLED' }]);
  });
});
