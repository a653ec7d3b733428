import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient, GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { PARTITION_ATTRIBUTES, PARTITION_TABLE, renderStatusWrite, STATUS_WRITES } from '../../lib/compile/partition-item';

/** A real dynalite on 127.0.0.1 with an empty partition table, its indexes of running partitions and requested reruns included. */
export interface LocalPartitionTable {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /** What the state machine's "Mark succeeded" does to a partition's current run, with its direct DynamoDB integration. */
  recordSucceeded(pipeline: string, partition: string): Promise<void>;
  close(): Promise<void>;
}

const RUNNING_INDEX = PARTITION_TABLE.runningIndex;
const RERUN_INDEX = PARTITION_TABLE.rerunIndex;
let tables = 0;

export async function startPartitionTable(): Promise<LocalPartitionTable> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const client = new DynamoDBClient({
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const tableName = `partitions-${++tables}`;
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: PARTITION_TABLE.partitionKey, AttributeType: 'S' },
        { AttributeName: PARTITION_TABLE.sortKey, AttributeType: 'S' },
        { AttributeName: RUNNING_INDEX.partitionKey, AttributeType: 'S' },
        { AttributeName: RERUN_INDEX.partitionKey, AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: PARTITION_TABLE.partitionKey, KeyType: 'HASH' },
        { AttributeName: PARTITION_TABLE.sortKey, KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: [RUNNING_INDEX, RERUN_INDEX].map((index) => ({
        IndexName: index.name,
        KeySchema: [
          { AttributeName: index.partitionKey, KeyType: 'HASH' as const },
          { AttributeName: index.sortKey, KeyType: 'RANGE' as const },
        ],
        Projection: { ProjectionType: 'KEYS_ONLY' as const },
      })),
    }),
  );
  return {
    client,
    tableName,
    recordSucceeded: async (pipeline, partition) => {
      const Key = { [PARTITION_TABLE.partitionKey]: { S: pipeline }, [PARTITION_TABLE.sortKey]: { S: partition } };
      const item = await client.send(new GetItemCommand({ TableName: tableName, Key, ConsistentRead: true }));
      const write = renderStatusWrite(STATUS_WRITES.succeeded, (text) => ({ S: text }), {
        runId: item.Item?.[PARTITION_ATTRIBUTES.runId] ?? { S: '' },
        finishedAt: { S: new Date().toISOString() },
      });
      await client.send(
        new UpdateItemCommand({
          TableName: tableName,
          Key,
          UpdateExpression: write.updateExpression,
          ConditionExpression: write.conditionExpression,
          ExpressionAttributeNames: write.names,
          ExpressionAttributeValues: write.values,
        }),
      );
    },
    close: async () => {
      client.destroy();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}
