import type { StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { launcherHandler } from '../../../lambdas/launcher/handler';
import { objectCreated, record } from './events';
import { runIdOf, type LauncherConfig } from '../../../lib/compile/contract';
import { type DeadLetters, PartitionStore, type RerunDeps, RunResults, type StartExecutionClient } from '../../../orchestration';
import { type LocalPartitionTable, startPartitionTable } from '../../fixtures/dynalite';

const CONFIG: LauncherConfig = {
  name: 'daily-sales',
  tasks: [],
  maxConcurrentRuns: 10,
  partitions: { kind: 'daily', start: '2024-01-01' },
  triggers: [
    {
      kind: 's3Arrival',
      bucket: 'raw',
      prefix: 'sales/',
      partitionFromKey: { source: '^sales\\/(?<partition>\\d{4}-\\d{2}-\\d{2})\\/', flags: '' },
    },
  ],
};
const BUCKETS = { raw: 'prod-raw-1a2b' };
const STATE_MACHINE = 'arn:aws:states:us-east-1:123456789012:stateMachine:daily-sales';

describe('launcherHandler', () => {
  let table: LocalPartitionTable;

  beforeAll(async () => {
    table = await startPartitionTable();
  });
  afterAll(() => table.close());

  async function core(config: LauncherConfig = CONFIG, deadLetters: Pick<DeadLetters, 'send'> = acceptingDeadLetters()) {
    const calls: StartExecutionCommand['input'][] = [];
    const start: StartExecutionClient = {
      send: async (command) => {
        calls.push(command.input);
        return { executionArn: `${STATE_MACHINE}:${command.input.name}`, startDate: new Date(), $metadata: {} };
      },
    };
    // Only launches are exercised here; reruns are proved end to end (test/cli/rerun.test.ts).
    const sfn = start as RerunDeps['sfn'];
    const logger = { info: vi.fn(), warn: vi.fn(), error: vi.fn() };
    const store = new PartitionStore(table.client, table.tableName);
    const counted: Record<string, number> = {};
    const metrics = {
      addMetric: vi.fn((name: string, _unit: unknown, value: number) => void (counted[name] = (counted[name] ?? 0) + value)),
      hasStoredMetrics: () => true,
      publishStoredMetrics: vi.fn(),
    };
    const handler = launcherHandler({
      env: { config, bucketNames: BUCKETS, stateMachineArn: STATE_MACHINE },
      store,
      sfn,
      results: new RunResults(table.client, table.tableName),
      deadLetters,
      logger,
      metrics: metrics as unknown as Parameters<typeof launcherHandler>[0]['metrics'],
      clock: () => new Date('2024-01-02T03:05:00Z'),
    });
    return { handler, calls, logger, store, counted, metrics, deadLetters };
  }

  /** Dead-letter queues that take every message (the real move is proved in test/local/s3-arrivals.test.ts). */
  function acceptingDeadLetters() {
    const moved: { messageId: string; kind: string; reason: string }[] = [];
    return {
      moved,
      send: vi.fn(async (message: { messageId: string }, rejection: { kind: string; reason: string }) => (moved.push({ messageId: message.messageId, ...rejection }), true)),
    };
  }

  it('moves exactly the malformed record of a batch to the dead-letter queue with the reason, launching the good one and ignoring the unmatched one', async () => {
    // Given
    const deadLetters = acceptingDeadLetters();
    const { handler, calls, logger, store, counted, metrics } = await core(CONFIG, deadLetters);
    const batch: SQSEvent = {
      Records: [
        record('good', objectCreated('sales/2024-01-01/a.csv')),
        record('malformed', objectCreated('sales/2024-01-32/a.csv')),
        record('unmatched', objectCreated('returns/2024-01-01/a.csv')),
      ],
    };

    // When
    const response = await handler(batch);

    // Then every record is done with: the malformed one is in the dead-letter queue, not redelivered
    expect(response).toStrictEqual({ batchItemFailures: [] });
    expect(calls.map((c) => c.name)).toStrictEqual([runIdOf('daily-sales', '2024-01-01', 1)]);
    expect((await store.get('daily-sales', '2024-01-01'))?.status).toBe('RUNNING');
    expect(deadLetters.moved).toStrictEqual([
      { messageId: 'malformed', kind: 'invalid', reason: expect.stringMatching(/^No valid partition: .*partition "2024-01-32" is not valid/) },
    ]);
    expect(counted).toStrictEqual({ RunsStarted: 1, EventsInvalid: 1, EventsIgnored: 1 });
    expect(metrics.publishStoredMetrics).toHaveBeenCalledTimes(1);
    expect(logger.warn).toHaveBeenCalledWith(
      'Record ignored',
      expect.objectContaining({ messageId: 'unmatched', reason: expect.stringContaining('matches no s3Arrival trigger') }),
    );
  });

  it('starts one run for an object event delivered twice, counting the second as a duplicate', async () => {
    // Given
    const { handler, calls, counted } = await core();
    const body = objectCreated('sales/2024-01-03/a.csv');

    // When the queue delivers the same event twice, in two batches
    await handler({ Records: [record('first', body)] });
    const again = await handler({ Records: [record('second', body)] });

    // Then
    expect(again).toStrictEqual({ batchItemFailures: [] });
    expect(calls).toHaveLength(1);
    expect(counted).toStrictEqual({ RunsStarted: 1, EventsDuplicate: 1 });
  });

  it('moves a body that is not JSON to the dead-letter queue, with the reason logged', async () => {
    const deadLetters = acceptingDeadLetters();
    const { handler, logger } = await core(CONFIG, deadLetters);

    const response = await handler({ Records: [record('junk', '{not json')] });

    expect(response).toStrictEqual({ batchItemFailures: [] });
    expect(deadLetters.moved).toStrictEqual([{ messageId: 'junk', kind: 'malformed', reason: expect.stringMatching(/^Malformed record: body is not JSON/) }]);
    expect(logger.error).toHaveBeenCalledWith(expect.stringMatching(/^Malformed record: body is not JSON.*; moved to the dead-letter queue$/), { messageId: 'junk' });
  });

  it('leaves a record it could not move to the dead-letter queue to the queue, which redrives it there', async () => {
    // Given a dead-letter queue the launcher cannot send to (throttled, or a missing grant)
    const failing = { send: vi.fn(async () => Promise.reject(new Error('AccessDenied'))) };
    const { handler, counted } = await core(CONFIG, failing);

    // When
    const response = await handler({ Records: [record('junk', '{not json')] });

    // Then it is reported as failed, so that SQS moves it after maxReceiveCount receives
    expect(response).toStrictEqual({ batchItemFailures: [{ itemIdentifier: 'junk' }] });
    expect(counted).toStrictEqual({ EventsMalformed: 1 });
  });

  it('completes an S3 arrival for a RUNNING partition by requesting a rerun of its run', async () => {
    // Given the first file of the day is being processed
    const { handler, calls, logger, store } = await core();
    await handler({ Records: [record('first', objectCreated('sales/2024-01-20/store-1.csv'))] });

    // When the second lands
    const response = await handler({ Records: [record('second', objectCreated('sales/2024-01-20/store-2.csv'))] });

    // Then
    const runId = runIdOf('daily-sales', '2024-01-20', 1);
    expect(response).toStrictEqual({ batchItemFailures: [] });
    expect(calls.map((c) => c.name)).toStrictEqual([runId]);
    expect(await store.get('daily-sales', '2024-01-20')).toMatchObject({ status: 'RUNNING', runId, rerunRequested: true });
    expect(logger.info).toHaveBeenCalledWith(
      'Launch from S3 arrival',
      expect.objectContaining({ messageId: 'second', result: { kind: 'rerun-requested', partition: '2024-01-20', runId } }),
    );
  });

  it('launches the partition of a Scheduler invocation', async () => {
    const { handler, calls } = await core();

    const result = await handler({ source: 'schedule', scheduledTime: '2024-01-11T02:00:00Z' });

    expect(result).toMatchObject({ kind: 'launched', runs: [{ kind: 'started', partition: '2024-01-10' }] });
    expect(calls).toHaveLength(1);
  });

  it('launches the partition of a manual invocation', async () => {
    const { handler, calls } = await core();

    const result = await handler({ source: 'manual', partition: '2024-01-12' });

    expect(result).toMatchObject({ kind: 'started', partition: '2024-01-12', runNumber: 1 });
    expect(JSON.parse(calls[0]?.input ?? '{}')).toMatchObject({ trigger: 'manual' });
  });

  describe('at the limit of concurrent runs', () => {
    const SINGLE: LauncherConfig = { ...CONFIG, name: 'single-run', tasks: [], maxConcurrentRuns: 1 };
    const REASON = 'pipeline "single-run" is at its limit of 1 concurrent run';

    it('reports a deferred S3 arrival as a batch item failure for the queue to deliver again, logged at INFO', async () => {
      // Given
      const { handler, calls, logger, store } = await core(SINGLE);
      await handler({ source: 'manual', partition: '2024-02-01' });

      // When
      const response = await handler({ Records: [record('waits', objectCreated('sales/2024-02-02/a.csv'))] });

      // Then
      expect(response).toStrictEqual({ batchItemFailures: [{ itemIdentifier: 'waits' }] });
      expect(calls).toHaveLength(1);
      expect(await store.get('single-run', '2024-02-02')).toBeUndefined();
      expect(logger.info).toHaveBeenCalledWith(
        'Launch from S3 arrival deferred; the queue delivers the record again after its visibility timeout',
        expect.objectContaining({ messageId: 'waits', result: { kind: 'deferred', partition: '2024-02-02', reason: REASON } }),
      );
      expect(logger.error).not.toHaveBeenCalled();
    });

    it('fails a deferred schedule tick with LaunchDeferredError so that it is retried', async () => {
      const { handler, logger } = await core(SINGLE);

      const tick = handler({ source: 'schedule', scheduledTime: '2024-02-04T02:00:00Z' });

      // The handler module is imported afresh per test, so its error class is not the one imported here.
      await expect(tick).rejects.toMatchObject({ name: 'LaunchDeferredError' });
      await expect(tick).rejects.toThrow(`Deferred the scheduled run(s) of "2024-02-03": ${REASON}.`);
      expect(logger.info).toHaveBeenCalledWith(
        'Scheduled launch deferred; the invocation is retried',
        expect.objectContaining({ runs: [{ kind: 'deferred', partition: '2024-02-03', reason: REASON }] }),
      );
    });

    it('returns a deferred manual launch to its caller', async () => {
      const { handler, calls } = await core(SINGLE);

      const result = await handler({ source: 'backfill', partition: '2024-02-05' });

      expect(result).toStrictEqual({ kind: 'deferred', partition: '2024-02-05', reason: REASON });
      expect(calls).toHaveLength(0);
    });
  });

  it('refuses a rerun invocation whose selection names no task, counting it as malformed', async () => {
    const { handler, counted, calls } = await core();

    await expect(handler({ source: 'rerun', runId: 'daily-sales-x', selection: { kind: 'tasks', tasks: [] } })).rejects.toThrow(/^The launcher accepts/);
    expect(calls).toStrictEqual([]);
    expect(counted).toStrictEqual({ EventsMalformed: 1 });
  });

  it('fails an invocation of unknown shape, naming the accepted shapes', async () => {
    const { handler } = await core();

    await expect(handler({ source: 'schedule', scheduledTime: 'yesterday' })).rejects.toThrow(
      /^The launcher accepts an SQS batch, \{ source: 'schedule', scheduledTime \}/,
    );
  });


});
