import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKFILL_KEYS } from '../../lib/compile/contract';
import { PARTITION_TABLE } from '../../lib/compile/partition-item';
import { BackfillStore, PartitionStore, type RunOutcome } from '../../orchestration';
import { type LocalPartitionTable, startPartitionTable } from '../fixtures/dynalite';

let table: LocalPartitionTable;
let store: BackfillStore;
let backfills = 0;

beforeAll(async () => {
  table = await startPartitionTable();
  store = new BackfillStore(table.client, table.tableName);
});
afterAll(() => table.close());

/** A backfill of two chunks of two daily runs each. */
async function backfill(): Promise<string> {
  const backfillId = `b-${++backfills}`;
  await store.create(
    {
      pipeline: 'sales',
      backfillId,
      request: { from: '2024-01-01', to: '2024-01-04', only: 'all', concurrency: 2 } as never,
      executionArn: `arn:aws:states:us-east-1:000000000000:execution:local-sales-backfill:${backfillId}`,
      createdAt: '2024-02-01T00:00:00.000Z',
      partitions: 4,
      runs: 4,
    },
    [[{ partition: '2024-01-01' }, { partition: '2024-01-02' }], [{ partition: '2024-01-03' }, { partition: '2024-01-04' }]],
  );
  return backfillId;
}

const outcomes: RunOutcome[] = [
  { partition: '2024-01-01', status: 'SUCCEEDED', runId: 'sales_2024-01-01_r1' },
  { partition: '2024-01-02', status: 'FAILED', runId: 'sales_2024-01-02_r1', error: 'BadRowsError' },
];

describe('BackfillStore.getWithPartition', () => {
  it('reads a backfill and one partition of it together, either absent', async () => {
    // Given a backfill and a partition run once
    const backfillId = await backfill();
    const partitions = new PartitionStore(table.client, table.tableName);
    await partitions.claim('sales', '2024-01-02', { trigger: 'backfill', now: new Date('2024-02-01T00:00:00Z') });

    // When
    const both = await store.getWithPartition('sales', backfillId, '2024-01-02');
    const neverRun = await store.getWithPartition('sales', backfillId, '2024-01-03');
    const noBackfill = await store.getWithPartition('sales', 'b-unknown', '2024-01-02');

    // Then
    expect(both).toStrictEqual({ backfill: await store.get('sales', backfillId), partition: { current: await partitions.get('sales', '2024-01-02') } });
    expect(both.partition.current).toMatchObject({ status: 'RUNNING', runNumber: 1 });
    expect(neverRun).toStrictEqual({ backfill: both.backfill, partition: { current: undefined } });
    expect(noBackfill).toStrictEqual({ partition: both.partition });
  });
});

describe('BackfillStore.recordChunk', () => {
  it('counts a chunk once however often its step is retried', async () => {
    const backfillId = await backfill();

    await store.recordChunk('sales', backfillId, 0, outcomes);
    await store.recordChunk('sales', backfillId, 0, outcomes);

    expect(await store.get('sales', backfillId)).toMatchObject({ succeeded: 1, failed: 1, skipped: 0 });
    expect(await store.outcomes('sales', backfillId)).toStrictEqual(outcomes);
  });

  it('completes, on a retry, a step stopped after it wrote the outcomes but before it counted them', async () => {
    // Given the outcomes of chunk 1 are kept but not counted (the step's invocation timed out)
    const backfillId = await backfill();
    await table.client.send(
      new UpdateItemCommand({
        TableName: table.tableName,
        Key: { [PARTITION_TABLE.partitionKey]: { S: BACKFILL_KEYS.chunks('sales', backfillId) }, [PARTITION_TABLE.sortKey]: { S: BACKFILL_KEYS.chunk(1) } },
        UpdateExpression: 'SET outcomes = :outcomes',
        ExpressionAttributeValues: { ':outcomes': { S: JSON.stringify(outcomes) } },
      }),
    );

    // When the step is retried
    await store.recordChunk('sales', backfillId, 1, outcomes);

    // Then its partitions are counted
    expect(await store.get('sales', backfillId)).toMatchObject({ succeeded: 1, failed: 1 });
  });
});
