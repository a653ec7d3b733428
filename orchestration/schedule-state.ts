import { type DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { PARTITION_TABLE } from '../lib/compile/contract';

/** Whether a pipeline's schedule fires: as EventBridge Scheduler's schedule `State`. */
export type ScheduleState = 'ENABLED' | 'PAUSED';

/**
 * The pause state of schedules where no EventBridge Scheduler keeps it (the local runtime): one
 * item per pipeline in the partition table, partition key `schedule#<pipeline>` (never a pipeline
 * name, which has no `#`), sort key `state`. No item means ENABLED.
 */
export class ScheduleStates {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async get(pipeline: string): Promise<ScheduleState> {
    const out = await this.client.send(new GetItemCommand({ TableName: this.tableName, Key: key(pipeline), ConsistentRead: true }));
    return out.Item?.paused?.BOOL === true ? 'PAUSED' : 'ENABLED';
  }

  async set(pipeline: string, state: ScheduleState, now: Date): Promise<void> {
    await this.client.send(
      new PutItemCommand({
        TableName: this.tableName,
        Item: { ...key(pipeline), paused: { BOOL: state === 'PAUSED' }, changedAt: { S: now.toISOString() } },
      }),
    );
  }
}

function key(pipeline: string) {
  return { [PARTITION_TABLE.partitionKey]: { S: `schedule#${pipeline}` }, [PARTITION_TABLE.sortKey]: { S: 'state' } };
}
