import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeTableCommand, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTable, type LocalDynamo, startDynamo, tableReady } from '../../../local/services/dynamodb';

const TABLE = { tableName: 'partitions', partitionKey: 'pipeline', sortKey: 'partition' };

describe('startDynamo', () => {
  let dataDir: string;
  let dynamo: LocalDynamo | undefined;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'sluice-dynamo-'));
  });
  afterAll(async () => {
    await dynamo?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('serves the DynamoDB API on loopback and keeps items across a restart', async () => {
    // Given a table with one item
    dynamo = await startDynamo({ dataDir });
    expect(dynamo.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    await ensureTable(dynamo.client(), TABLE);
    await dynamo.client().send(
      new PutItemCommand({
        TableName: TABLE.tableName,
        Item: { pipeline: { S: 'sales' }, partition: { S: '2024-01-01' }, status: { S: 'SUCCEEDED' } },
      }),
    );

    // When the server stops and starts again on the same data directory
    await dynamo.stop();
    dynamo = await startDynamo({ dataDir });

    // Then the table and the item are still there
    await ensureTable(dynamo.client(), TABLE);
    const { Item } = await dynamo.client().send(
      new GetItemCommand({ TableName: TABLE.tableName, Key: { pipeline: { S: 'sales' }, partition: { S: '2024-01-01' } } }),
    );
    expect(Item?.status).toStrictEqual({ S: 'SUCCEEDED' });
  });

  it('ensureTable creates an ACTIVE table with the key schema, and is idempotent', async () => {
    // Given a running dynalite
    dynamo ??= await startDynamo({ dataDir });

    // When the same table is ensured twice
    await ensureTable(dynamo.client(), { tableName: 'runs', partitionKey: 'runId' });
    await ensureTable(dynamo.client(), { tableName: 'runs', partitionKey: 'runId' });

    // Then it exists once, ACTIVE, with only a hash key
    const { Table } = await dynamo.client().send(new DescribeTableCommand({ TableName: 'runs' }));
    expect(Table?.TableStatus).toBe('ACTIVE');
    expect(Table?.KeySchema).toStrictEqual([{ AttributeName: 'runId', KeyType: 'HASH' }]);
  });

  it('tableReady tells, without the SDK, whether ensureTable has anything to do', async () => {
    // Given a running dynalite
    dynamo ??= await startDynamo({ dataDir });
    const indexed = { tableName: 'indexed', partitionKey: 'pipeline', sortKey: 'partition', indexes: [{ name: 'running', partitionKey: 'runningPipeline', sortKey: 'partition' }] };

    // A table not there yet, or one without an index it must have, is not ready
    expect(await tableReady(dynamo.json(), indexed)).toBe(false);
    await ensureTable(dynamo.client(), { ...indexed, indexes: [] });
    expect(await tableReady(dynamo.json(), indexed)).toBe(false);

    // Once ensured, it is
    await ensureTable(dynamo.client(), indexed);
    expect(await tableReady(dynamo.json(), indexed)).toBe(true);

    // Other errors of the JSON API are thrown with the service's exception name
    await expect(dynamo.json().call('Query', { TableName: 'indexed' })).rejects.toMatchObject({ name: 'ValidationException', status: 400 });
  });
});
