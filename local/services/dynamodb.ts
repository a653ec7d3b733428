import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import type { AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoJsonClient, DynamoJsonError } from '../dynamodb-json';
import { LOCAL_REGION, closeServer, listen, localCredentials } from './private/loopback';

/** Options of {@link startDynamo}. */
export interface StartDynamoOptions {
  /** Directory of the LevelDB store, created if absent (e.g. `$SLUICE_HOME/dynamodb`). */
  readonly dataDir: string;
  /**
   * Port on 127.0.0.1.
   * @default 0 - a free port chosen by the system
   */
  readonly port?: number;
  /**
   * How long to wait for the store while another process still holds it (one closing down).
   * @default 10_000
   */
  readonly lockWaitMs?: number;
}

/** A running dynalite on loopback, persisted under its data directory. */
export interface LocalDynamo {
  /** `http://127.0.0.1:<port>`, for `endpoint` of SDK clients and `AWS_ENDPOINT_URL_DYNAMODB`. */
  readonly endpoint: string;
  /** A client for this endpoint, shared and destroyed by `stop()`. */
  client(): DynamoDBClient;
  /** A client of its JSON API that needs no SDK (see `dynamodb-json.ts`), shared and closed by `stop()`. */
  json(): DynamoJsonClient;
  /** Closes the client, the server and the store (releasing its lock). */
  stop(): Promise<void>;
  /** What was repaired in the store before it opened, to be reported. @default - nothing */
  readonly repaired?: string;
}

/** Thrown when the store of a local DynamoDB cannot be opened. */
export class DamagedStoreError extends Error {
  constructor(
    readonly dataDir: string,
    reason: string,
    fix: string,
  ) {
    super(`The local DynamoDB store ${dataDir} cannot be opened (${reason}): ${fix}`);
    this.name = 'DamagedStoreError';
  }
}

/**
 * Starts dynalite on 127.0.0.1 with its data under `dataDir`. Tables are created ACTIVE at once
 * (no simulated CREATING delay). dynalite has no transactions, TTL or streams.
 */
export async function startDynamo(options: StartDynamoOptions): Promise<LocalDynamo> {
  await mkdir(options.dataDir, { recursive: true });
  const repaired = await openableStore(options.dataDir, options.lockWaitMs ?? 10_000);
  // Loaded here, as s3rver is: a command attached to running services never starts one.
  const { default: dynalite } = await import('dynalite');
  const server = dynalite({ path: options.dataDir, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await listen(server, options.port ?? 0);
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const { close, ...clients } = dynamoClients(endpoint);
  return {
    endpoint,
    repaired,
    ...clients,
    stop: async () => {
      close();
      await closeServer(server);
    },
  };
}

/**
 * dynalite opens its LevelDB store lazily and, when that fails, answers every request with a bare
 * `Database is closed` that names neither the store nor the cause. The store is opened here first:
 * a store another process still holds is waited for; a damaged one (an emptied `CURRENT`, a torn
 * manifest after a crash) is repaired with LevelDB's own repair, which keeps the tables it can
 * read, and the repair is returned to be reported.
 */
async function openableStore(dataDir: string, lockWaitMs: number): Promise<string | undefined> {
  const { ClassicLevel } = await import('classic-level');
  const deadline = Date.now() + lockWaitMs;
  let repaired: string | undefined;
  for (;;) {
    const db = new ClassicLevel(dataDir);
    try {
      await db.open();
      await db.close();
      return repaired;
    } catch (error) {
      const cause = ((error as Error).cause ?? error) as Error & { code?: string };
      if (cause.code === 'LEVEL_LOCKED' && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        continue;
      }
      if (cause.code === 'LEVEL_LOCKED') {
        throw new DamagedStoreError(dataDir, 'another process holds it', 'stop the other sluice processes of this SLUICE_HOME and try again');
      }
      if (repaired) throw new DamagedStoreError(dataDir, cause.message, 'LevelDB could not repair it; move the folder away to start with empty tables');
      await ClassicLevel.repair(dataDir);
      repaired = `The local DynamoDB store ${dataDir} was damaged (${cause.message}); it was repaired, keeping every table LevelDB could read`;
    }
  }
}

/**
 * The SDK's DynamoDB client module, loaded when first used rather than with this module: a warm
 * `sluice run` loads it once its launcher's sandbox has started, while that sandbox loads, instead
 * of before (about 40 ms of its path to the first task).
 */
function sdk(): typeof import('@aws-sdk/client-dynamodb') {
  return (loadedSdk ??= createRequire(import.meta.url)('@aws-sdk/client-dynamodb') as typeof import('@aws-sdk/client-dynamodb'));
}
let loadedSdk: typeof import('@aws-sdk/client-dynamodb') | undefined;

/** The clients of a local DynamoDB endpoint, each made when first asked for, closed together. */
export function dynamoClients(endpoint: string): Pick<LocalDynamo, 'client' | 'json'> & { close(): void } {
  let client: DynamoDBClient | undefined;
  let json: DynamoJsonClient | undefined;
  return {
    client: () => (client ??= dynamoClientFor(endpoint)),
    json: () => (json ??= new DynamoJsonClient(endpoint, LOCAL_REGION)),
    close: () => {
      client?.destroy();
      json?.destroy();
      client = undefined;
      json = undefined;
    },
  };
}

/**
 * Whether the table is there, ACTIVE, with every one of `keys.indexes`: one DescribeTable of the
 * JSON API, so that a start finding its tables (every start after the first) needs no SDK.
 */
export async function tableReady(client: DynamoJsonClient, keys: TableKeys): Promise<boolean> {
  try {
    const { Table } = (await client.call('DescribeTable', { TableName: keys.tableName })) as {
      Table?: { TableStatus?: string; GlobalSecondaryIndexes?: { IndexName?: string }[] };
    };
    return Table?.TableStatus === 'ACTIVE' && (keys.indexes ?? []).every((i) => Table.GlobalSecondaryIndexes?.some((g) => g.IndexName === i.name));
  } catch (error) {
    if (error instanceof DynamoJsonError && error.name === 'ResourceNotFoundException') return false;
    throw error;
  }
}

/** A client of a local DynamoDB endpoint (dynalite accepts any credentials). */
export function dynamoClientFor(endpoint: string): DynamoDBClient {
  const { DynamoDBClient } = sdk();
  return new DynamoDBClient({ endpoint, region: LOCAL_REGION, credentials: localCredentials() });
}

/** The key schema of a table with string keys. */
export interface TableKeys {
  readonly tableName: string;
  /** Name of the string partition (hash) key. */
  readonly partitionKey: string;
  /**
   * Name of the string sort (range) key.
   * @default - no sort key
   */
  readonly sortKey?: string;
  /**
   * Global secondary indexes with string keys, keys-only projection.
   * @default - none
   */
  readonly indexes?: readonly { readonly name: string; readonly partitionKey: string; readonly sortKey?: string }[];
}

/**
 * Creates the table (on-demand billing) unless it exists, then waits until it is ACTIVE. A table
 * kept from an earlier version that lacks one of `indexes` is rebuilt with its items: dynalite's
 * UpdateTable cannot add a global secondary index.
 */
export async function ensureTable(client: DynamoDBClient, keys: TableKeys): Promise<void> {
  const { BatchWriteItemCommand, CreateTableCommand, DeleteTableCommand, ResourceInUseException, waitUntilTableExists } = sdk();
  const existing = await describe(client, keys.tableName);
  const missing = (keys.indexes ?? []).filter((i) => !existing?.GlobalSecondaryIndexes?.some((g) => g.IndexName === i.name));
  let items: Record<string, AttributeValue>[] = [];
  if (existing && missing.length > 0) {
    items = await scanAll(client, keys.tableName);
    await client.send(new DeleteTableCommand({ TableName: keys.tableName }));
  }
  if (!existing || missing.length > 0) {
    const schema = (names: (string | undefined)[]) =>
      names.flatMap((name, index) => (name ? [{ AttributeName: name, KeyType: index === 0 ? ('HASH' as const) : ('RANGE' as const) }] : []));
    const attributes = [...new Set([keys.partitionKey, keys.sortKey, ...(keys.indexes ?? []).flatMap((i) => [i.partitionKey, i.sortKey])])]
      .filter((name): name is string => name !== undefined);
    try {
      await client.send(
        new CreateTableCommand({
          TableName: keys.tableName,
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: attributes.map((name) => ({ AttributeName: name, AttributeType: 'S' })),
          KeySchema: schema([keys.partitionKey, keys.sortKey]),
          ...(keys.indexes?.length && {
            GlobalSecondaryIndexes: keys.indexes.map((i) => ({
              IndexName: i.name,
              KeySchema: schema([i.partitionKey, i.sortKey]),
              Projection: { ProjectionType: 'KEYS_ONLY' as const },
            })),
          }),
        }),
      );
    } catch (error) {
      // Another process created it between our check and our create: that is what we wanted.
      if (!(error instanceof ResourceInUseException)) throw error;
    }
  }
  // One ACTIVE and complete already (every start after the first) needs no waiting for.
  if (existing?.TableStatus !== 'ACTIVE' || missing.length > 0) {
    await waitUntilTableExists({ client, maxWaitTime: 30, minDelay: 1, maxDelay: 1 }, { TableName: keys.tableName });
  }
  for (let i = 0; i < items.length; i += 25) {
    const batch = items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }));
    await client.send(new BatchWriteItemCommand({ RequestItems: { [keys.tableName]: batch } }));
  }
}

async function scanAll(client: DynamoDBClient, tableName: string): Promise<Record<string, AttributeValue>[]> {
  const { ScanCommand } = sdk();
  const items: Record<string, AttributeValue>[] = [];
  let startKey: Record<string, AttributeValue> | undefined;
  do {
    const page = await client.send(new ScanCommand({ TableName: tableName, ExclusiveStartKey: startKey, ConsistentRead: true }));
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items;
}

async function describe(client: DynamoDBClient, tableName: string) {
  const { DescribeTableCommand, ResourceNotFoundException } = sdk();
  try {
    return (await client.send(new DescribeTableCommand({ TableName: tableName }))).Table;
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return undefined;
    throw error;
  }
}
