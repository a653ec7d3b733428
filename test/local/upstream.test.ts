import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PARTITION_EVENTS, eventBusName } from '../../lib/compile/contract';
import { resolveBackfillRequest } from '../../lib/compile/backfill';
import { startBackfill } from '../../local/backfills';
import { LocalRuntime } from '../../local/runtime';

const projectDir = fileURLToPath(new URL('../../examples', import.meta.url));
const pipelinesDir = fileURLToPath(new URL('./fixtures/upstream', import.meta.url));

/**
 * Pipelines that run after pipelines, through the local runtime: the run monitors' bundles put
 * `Partition Succeeded` events on the stage's bus, its rules queue them for the downstream
 * launchers, which read the other upstreams in dynalite before they claim.
 */
describe('upstream triggers through the local runtime', () => {
  let home: string;
  let runtime: LocalRuntime;

  const statusOf = async (pipeline: string, partition: string) =>
    (await runtime.partitions(pipeline, { from: partition, to: partition, now: new Date() }))[0]!;
  const runsOf = (pipeline: string, partition: string) =>
    runtime.runs(pipeline).filter((r) => (JSON.parse(r.input) as { partition: string }).partition === partition);
  const runAndSettle = async (pipeline: string, partition: string) => {
    await runtime.run(pipeline, partition);
    await runtime.settle();
  };

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'sluice-upstream-'));
    runtime = await LocalRuntime.start({ projectDir, pipelinesDir, home, retryIntervalMs: 50 });
    runtime.startTriggers();
  }, 180_000);
  afterAll(async () => {
    await runtime?.stop();
    await rm(home, { recursive: true, force: true });
  });

  it.each([
    { order: 'sales then rates', partition: '2024-03-01', first: 'sales', second: 'rates' },
    { order: 'rates then sales', partition: '2024-03-02', first: 'rates', second: 'sales' },
  ])('runs a partition once when both upstreams succeeded for it ($order)', async ({ partition, first, second }) => {
    // Given one upstream succeeded: the report waits for the other
    await runAndSettle(first, partition);
    expect((await statusOf('report', partition)).status).toBe('MISSING');

    // When the other succeeds
    await runAndSettle(second, partition);

    // Then the report ran once, started by its upstreams
    expect((await statusOf('report', partition)).record).toMatchObject({ status: 'SUCCEEDED', runNumber: 1, trigger: 'upstream' });
    expect(runsOf('report', partition)).toHaveLength(1);
  }, 60_000);

  it('does not run a partition again for a redelivered upstream event', async () => {
    // Given 2024-03-01 ran after both its upstreams
    const sales = await statusOf('sales', '2024-03-01');
    expect(runsOf('report', '2024-03-01')).toHaveLength(1);

    // When EventBridge delivers the sales' event once more
    const client = new EventBridgeClient({ endpoint: runtime.endpoints.eventBridge, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    const detail = { pipeline: 'sales', partition: '2024-03-01', runId: sales.record!.runId, runNumber: 1, trigger: 'manual', status: 'SUCCEEDED' };
    const out = await client.send(
      new PutEventsCommand({
        Entries: [{ EventBusName: eventBusName('local'), Source: PARTITION_EVENTS.source, DetailType: PARTITION_EVENTS.succeeded, Detail: JSON.stringify(detail) }],
      }),
    );
    client.destroy();
    expect(out.FailedEntryCount).toBe(0);
    await runtime.settle();

    // Then it is not run again
    expect(runsOf('report', '2024-03-01')).toHaveLength(1);
  }, 60_000);

  it('does not run a partition when one of its upstreams failed', async () => {
    // When the rates of 2024-03-03 succeed but its sales fail
    await runAndSettle('rates', '2024-03-03');
    await runAndSettle('sales', '2024-03-03');

    // Then the report of that day never ran
    expect((await statusOf('sales', '2024-03-03')).status).toBe('FAILED');
    expect((await statusOf('report', '2024-03-03')).status).toBe('MISSING');
    expect(runsOf('report', '2024-03-03')).toHaveLength(0);
  }, 60_000);

  it('runs a daily partition once, after the 24th hour of its hourly upstream', async () => {
    // Given 23 hours of 2024-03-05 succeeded, in no particular order
    const hours = Array.from({ length: 24 }, (_, h) => `2024-03-05T${String(h).padStart(2, '0')}`);
    const [last, ...others] = [hours[11]!, ...hours.filter((_, h) => h !== 11)];
    for (const hour of others) await runAndSettle('hits', hour);
    expect((await statusOf('daily-hits', '2024-03-05')).status).toBe('MISSING');

    // When the 24th succeeds
    await runAndSettle('hits', last);

    // Then the day ran, once
    expect((await statusOf('daily-hits', '2024-03-05')).record).toMatchObject({ status: 'SUCCEEDED', trigger: 'upstream' });
    expect(runsOf('daily-hits', '2024-03-05')).toHaveLength(1);
  }, 120_000);

  it.each([
    { downstream: false, partition: '2024-03-10', reportRuns: 0 },
    { downstream: true, partition: '2024-03-11', reportRuns: 1 },
  ])('starts the downstream partitions of a backfill of an upstream unless it says not to (downstream: $downstream)', async ({ downstream, partition, reportRuns }) => {
    // Given the rates of the day succeeded
    await runAndSettle('rates', partition);

    // When the sales of that day are back-filled
    const request = resolveBackfillRequest({ from: partition, to: partition, downstream });
    const started = await startBackfill(runtime, 'sales', request);
    expect((await runtime.engine.waitForExecution(started.executionArn)).status).toBe('SUCCEEDED');
    await runtime.settle();

    // Then the report ran for that partition only when the backfill let it
    expect((await statusOf('sales', partition)).status).toBe('SUCCEEDED');
    expect(runsOf('report', partition)).toHaveLength(reportRuns);
  }, 60_000);
});
