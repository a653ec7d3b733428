import { PARTITION_TABLE, RUN_RESULTS, type LauncherConfig } from '../lib/compile/contract';
import { type RenderedWrite, renderStatusWrite, STATUS_WRITES } from '../lib/compile/partition-item';
import { DynamoJsonClient } from '../local/dynamodb-json';
import { dynamoClientFor } from '../local/services/dynamodb';
import { BackfillStore } from '../orchestration/backfill-store';
import { claimRun } from '../orchestration/launch';
import { PartitionStore } from '../orchestration/partition-store';

/** Where the requests go: the local DynamoDB itself (no IAM gateway) and a partition table there. */
export interface RunRequestsTarget {
  readonly endpoint: string;
  readonly tableName: string;
}

/**
 * The DynamoDB requests of one no-op backfill run and nothing else, `count` runs at `concurrency`:
 * the claim step's three through the AWS SDK, with the backfill function's own code (the backfill
 * and the partition in one BatchGetItem, the count of running partitions, the conditional claim
 * write), then the state machine's five as its DynamoDB Tasks send them, through the JSON API
 * (the running mark, a result record per task, the end write). No interpreter, sandbox, IAM
 * decision or event: what they cost is the floor under a whole run's CPU.
 */
export async function runRequests(target: RunRequestsTarget, props: { pipeline: string; count: number; concurrency: number }): Promise<void> {
  const client = dynamoClientFor(target.endpoint);
  const json = new DynamoJsonClient(target.endpoint, 'us-east-1');
  const partitions = new PartitionStore(client, target.tableName);
  const backfills = new BackfillStore(client, target.tableName);
  // Days of a pipeline of its own, never run: each run claims a new item, as a backfill of missing days does.
  const config: LauncherConfig = { name: props.pipeline, tasks: [], triggers: [], maxConcurrentRuns: 10_000, partitions: { kind: 'daily', start: '1900-01-01', timezone: 'UTC' } };
  const S = (text: string): Record<string, string> => ({ S: text });
  let next = 0;
  const oneRun = async () => {
    const partition = new Date(Date.UTC(1900, 0, 1 + next++)).toISOString().slice(0, 10);
    const { partition: read } = await backfills.getWithPartition(props.pipeline, 'requests-only', partition);
    const claimed = await claimRun({ config, partition, trigger: 'backfill' }, { store: partitions, now: new Date(), read });
    if (claimed.kind !== 'claimed') throw new Error(`the claim of ${partition} was ${claimed.kind}`);
    const Key = { [PARTITION_TABLE.partitionKey]: S(props.pipeline), [PARTITION_TABLE.sortKey]: S(partition) };
    const runId = S(claimed.input.runId);
    const write = async (rendered: RenderedWrite<Record<string, string>>) =>
      json.call('UpdateItem', {
        TableName: target.tableName,
        Key,
        UpdateExpression: rendered.updateExpression,
        ConditionExpression: rendered.conditionExpression,
        ExpressionAttributeNames: rendered.names,
        ExpressionAttributeValues: rendered.values,
      });
    const now = () => S(new Date().toISOString());
    await write(renderStatusWrite(STATUS_WRITES.running, S, { runId, pipeline: S(props.pipeline), runNumber: { N: '1' }, startedAt: now(), executionArn: S('arn') }));
    for (const task of ['extract', 'transform', 'load']) {
      await json.call('PutItem', {
        TableName: target.tableName,
        Item: {
          [PARTITION_TABLE.partitionKey]: S(`${RUN_RESULTS.partitionKeyPrefix}${claimed.input.runId}`),
          [PARTITION_TABLE.sortKey]: S(`${RUN_RESULTS.sortKeyPrefix}${task}`),
          [RUN_RESULTS.value]: S('null'),
          [RUN_RESULTS.pipeline]: S(props.pipeline),
          [RUN_RESULTS.recordedAt]: now(),
        },
      });
    }
    await write(renderStatusWrite(STATUS_WRITES.succeeded, S, { runId, finishedAt: now() }));
  };
  try {
    let left = props.count;
    await Promise.all(
      Array.from({ length: props.concurrency }, async () => {
        while (left-- > 0) await oneRun();
      }),
    );
  } finally {
    client.destroy();
    json.destroy();
  }
}
