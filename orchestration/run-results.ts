import { type AttributeValue, type DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { PARTITION_TABLE, RUN_RESULTS } from '../lib/compile/contract';

/** A task result a run recorded (see `RUN_RESULTS`). */
export interface RecordedResult {
  readonly task: string;
  /** The task's return value. */
  readonly value: unknown;
  /** ISO-8601 instant it was recorded. */
  readonly recordedAt?: string;
}

/**
 * The task results runs recorded in the partition table. The state machine writes them (one item
 * per run and task, after the task); this reads them back to plan a rerun or show a run.
 */
export class RunResults {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  /** Every result the run recorded, in task-name order. */
  async list(runId: string): Promise<RecordedResult[]> {
    const results: RecordedResult[] = [];
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: '#pk = :run',
          ExpressionAttributeNames: { '#pk': PARTITION_TABLE.partitionKey },
          ExpressionAttributeValues: { ':run': { S: `${RUN_RESULTS.partitionKeyPrefix}${runId}` } },
          ExclusiveStartKey: startKey,
          ConsistentRead: true,
        }),
      );
      for (const item of page.Items ?? []) {
        const task = (item[PARTITION_TABLE.sortKey]?.S ?? '').slice(RUN_RESULTS.sortKeyPrefix.length);
        const text = item[RUN_RESULTS.value]?.S ?? 'null';
        const recordedAt = item[RUN_RESULTS.recordedAt]?.S;
        results.push({ task, value: JSON.parse(text) as unknown, ...(recordedAt !== undefined && { recordedAt }) });
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return results;
  }

  /** The tasks whose result the run recorded: those that succeeded in it (or were reused by it). */
  async recordedTasks(runId: string): Promise<Set<string>> {
    return new Set((await this.list(runId)).map((r) => r.task));
  }
}
