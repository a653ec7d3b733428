import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceInUseException,
  ResourceNotFoundException,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
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
}

/** A running dynalite on loopback, persisted under its data directory. */
export interface LocalDynamo {
  /** `http://127.0.0.1:<port>`, for `endpoint` of SDK clients and `AWS_ENDPOINT_URL_DYNAMODB`. */
  readonly endpoint: string;
  /** A client for this endpoint, shared and destroyed by `stop()`. */
  client(): DynamoDBClient;
  /** Closes the client, the server and the store (releasing its lock). */
  stop(): Promise<void>;
}

/**
 * Starts dynalite on 127.0.0.1 with its data under `dataDir`. Tables are created ACTIVE at once
 * (no simulated CREATING delay). dynalite has no transactions, TTL or streams.
 */
export async function startDynamo(options: StartDynamoOptions): Promise<LocalDynamo> {
  await mkdir(options.dataDir, { recursive: true });
  const server = dynalite({ path: options.dataDir, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await listen(server, options.port ?? 0);
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let client: DynamoDBClient | undefined;
  return {
    endpoint,
    client: () => (client ??= new DynamoDBClient({ endpoint, region: LOCAL_REGION, credentials: localCredentials() })),
    stop: async () => {
      client?.destroy();
      client = undefined;
      await closeServer(server);
    },
  };
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
}

/** Creates the table (on-demand billing) unless it exists, then waits until it is ACTIVE. */
export async function ensureTable(client: DynamoDBClient, keys: TableKeys): Promise<void> {
  const names = keys.sortKey ? [keys.partitionKey, keys.sortKey] : [keys.partitionKey];
  if (!(await tableExists(client, keys.tableName))) {
    try {
      await client.send(
        new CreateTableCommand({
          TableName: keys.tableName,
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: names.map((name) => ({ AttributeName: name, AttributeType: 'S' })),
          KeySchema: names.map((name, index) => ({ AttributeName: name, KeyType: index === 0 ? 'HASH' : 'RANGE' })),
        }),
      );
    } catch (error) {
      // Another process created it between our check and our create: that is what we wanted.
      if (!(error instanceof ResourceInUseException)) throw error;
    }
  }
  await waitUntilTableExists({ client, maxWaitTime: 30, minDelay: 1, maxDelay: 1 }, { TableName: keys.tableName });
}

async function tableExists(client: DynamoDBClient, tableName: string): Promise<boolean> {
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }));
    return true;
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return false;
    throw error;
  }
}
