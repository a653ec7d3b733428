import { type AttributeValue, GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PARTITION_TABLE, renderStatusWrite, STATUS_WRITES, type StatusWrite, type StatusWriteValues } from '../../lib/compile/partition-item';
import { PartitionStore } from '../../orchestration/partition-store';
import { type LocalPartitionTable, startPartitionTable } from '../fixtures/dynalite';

const text = (value: string): AttributeValue => ({ S: value });

describe('renderStatusWrite', () => {
  it('marks a run RUNNING with its run number, start and execution, into the index of running partitions, only while it is the claimed run', () => {
    const write = renderStatusWrite(STATUS_WRITES.running, text, {
      runId: text('r1'),
      pipeline: text('sales'),
      runNumber: { N: '1' },
      startedAt: text('2024-01-02T00:00:00Z'),
      executionArn: text('arn'),
    });
    expect(write.updateExpression).toBe(
      'SET #status = :status, #runNumber = :runNumber, #startedAt = :startedAt, #executionArn = :executionArn, #runningPipeline = :pipeline ' +
        'REMOVE #error, #cause, #finishedAt',
    );
    expect(write.conditionExpression).toBe('#runId = :runId AND #status = :running');
    expect(write.names['#runningPipeline']).toBe(PARTITION_TABLE.runningIndex.partitionKey);
    expect(write.values).toMatchObject({ ':status': text('RUNNING'), ':running': text('RUNNING'), ':pipeline': text('sales'), ':runId': text('r1') });
  });

  it('ends a run out of the index of running partitions, conditioned on the run only: a redriven execution records its new outcome', () => {
    const succeeded = renderStatusWrite(STATUS_WRITES.succeeded, text, { runId: text('r1'), finishedAt: text('t') });
    const failed = renderStatusWrite(STATUS_WRITES.failed, text, { runId: text('r1'), finishedAt: text('t'), error: text('E'), cause: text('C') });
    expect(succeeded.updateExpression).toBe('SET #status = :status, #finishedAt = :finishedAt REMOVE #runningPipeline');
    expect(failed.updateExpression).toBe('SET #status = :status, #finishedAt = :finishedAt, #error = :error, #cause = :cause REMOVE #runningPipeline');
    for (const write of [succeeded, failed]) expect(write.conditionExpression).toBe('#runId = :runId');
  });

  it('sets more attributes in the same write when asked (a failure that requests a rerun)', () => {
    const write = renderStatusWrite({ ...STATUS_WRITES.failed, whileRunning: true }, text, { runId: text('r1'), finishedAt: text('t'), error: text('E'), cause: text('C') }, { rerunRequested: { BOOL: true } });
    expect(write.updateExpression).toContain(', #rerunRequested = :rerunRequested REMOVE #runningPipeline');
    expect(write.conditionExpression).toBe('#runId = :runId AND #status = :running');
  });
});

describe('the status writes on dynalite', () => {
  let table: LocalPartitionTable;
  let store: PartitionStore;

  beforeAll(async () => {
    table = await startPartitionTable();
    store = new PartitionStore(table.client, table.tableName);
  });
  afterAll(() => table.close());

  /** Sends a write as the state machine would, with its values; resolves to whether it was made. */
  async function send<W extends StatusWrite>(partition: string, write: W, values: StatusWriteValues<W, AttributeValue>): Promise<boolean> {
    const rendered = renderStatusWrite(write, text, values);
    try {
      await table.client.send(
        new UpdateItemCommand({
          TableName: table.tableName,
          Key: { [PARTITION_TABLE.partitionKey]: text('sales'), [PARTITION_TABLE.sortKey]: text(partition) },
          UpdateExpression: rendered.updateExpression,
          ConditionExpression: rendered.conditionExpression,
          ExpressionAttributeNames: rendered.names,
          ExpressionAttributeValues: rendered.values,
        }),
      );
      return true;
    } catch (error) {
      if ((error as Error).name === 'ConditionalCheckFailedException') return false;
      throw error;
    }
  }
  const running = (runId: string) =>
    ({ runId: text(runId), pipeline: text('sales'), runNumber: { N: '1' }, startedAt: text('2024-01-02T00:00:00Z'), executionArn: text(`arn:${runId}`) }) as const;

  it('keeps a claimed run in the index of running partitions while it runs, and takes it out when it ends', async () => {
    // Given a claimed partition
    const claim = await store.claim('sales', '2024-01-01', { trigger: 'manual', now: new Date() });
    if (claim.kind !== 'claimed') throw new Error('not claimed');
    // When its run marks itself running, Then it is counted as running
    expect(await send('2024-01-01', STATUS_WRITES.running, running(claim.runId))).toBe(true);
    expect(await store.listRunning('sales')).toHaveLength(1);
    // When it fails, Then it is FAILED with its error, and no longer running
    expect(await send('2024-01-01', STATUS_WRITES.failed, { runId: text(claim.runId), finishedAt: text('t'), error: text('Boom'), cause: text('why') })).toBe(true);
    expect(await store.get('sales', '2024-01-01')).toMatchObject({ status: 'FAILED', error: 'Boom', cause: 'why' });
    expect(await store.listRunning('sales')).toHaveLength(0);
  });

  it('refuses every write of a run that is not the partition\'s current run, and a RUNNING mark of an ended run', async () => {
    // Given a partition claimed and ended by its run
    const claim = await store.claim('sales', '2024-01-02', { trigger: 'manual', now: new Date() });
    if (claim.kind !== 'claimed') throw new Error('not claimed');
    await store.markFailed('sales', '2024-01-02', claim.runId, { error: 'Lost' });
    // Then the run cannot mark itself running again, and an older run's outcome is not recorded
    expect(await send('2024-01-02', STATUS_WRITES.running, running(claim.runId))).toBe(false);
    expect(await send('2024-01-02', STATUS_WRITES.succeeded, { runId: text('older-run'), finishedAt: text('t') })).toBe(false);
    // While the run itself, redriven, records its new outcome
    expect(await send('2024-01-02', STATUS_WRITES.succeeded, { runId: text(claim.runId), finishedAt: text('t') })).toBe(true);
    const item = await table.client.send(
      new GetItemCommand({ TableName: table.tableName, Key: { [PARTITION_TABLE.partitionKey]: text('sales'), [PARTITION_TABLE.sortKey]: text('2024-01-02') } }),
    );
    expect(item.Item?.status).toStrictEqual(text('SUCCEEDED'));
  });
});
