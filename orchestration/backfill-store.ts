import {
  type AttributeValue,
  BatchGetItemCommand,
  BatchWriteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import type { BackfillRun, ResolvedBackfillRequest } from '../lib/compile/backfill';
import { BACKFILL_KEYS, type BackfillStatus, PARTITION_TABLE } from '../lib/compile/contract';
import { isConditionFailure, key, type PartitionRead, queryAll, toRecord } from './partition-store';

/** How one run of a backfill ended. */
export interface RunOutcome {
  readonly partition: string;
  /** Every partition of a run of several. */
  readonly partitions?: readonly string[];
  /**
   * `SKIPPED`: not run, with the reason (its partition stayed busy, or at the pipeline's limit,
   * for as long as the backfill waited); `CANCELLED`: not run because the backfill was cancelled.
   */
  readonly status: 'SUCCEEDED' | 'FAILED' | 'SKIPPED' | 'CANCELLED';
  readonly runId?: string;
  readonly error?: string;
  /** The error's message, at most {@link MAX_MESSAGE} characters. */
  readonly message?: string;
}

/** Longest error message kept per run: a chunk's outcomes stay far below the 256 KB of a state. */
export const MAX_MESSAGE = 300;

/** A backfill as recorded in the partition table (see `BACKFILL_KEYS`). */
export interface BackfillRecord {
  readonly pipeline: string;
  /** The name of the backfill's execution. */
  readonly backfillId: string;
  readonly status: BackfillStatus;
  readonly request: ResolvedBackfillRequest;
  readonly executionArn: string;
  readonly createdAt: string;
  readonly finishedAt?: string;
  /** Partitions selected, runs they form, chunks of runs. */
  readonly partitions: number;
  readonly runs: number;
  readonly chunks: number;
  /** Partitions whose runs ended, by outcome. */
  readonly succeeded: number;
  readonly failed: number;
  readonly skipped: number;
  readonly cancelled: number;
  /** Set when a cancel was asked for: runs not yet started are not started. */
  readonly cancelRequested?: true;
  /** Why it ended as it did, for `CANCELLED` and `ABORTED`. */
  readonly reason?: string;
}

const COUNTERS = ['succeeded', 'failed', 'skipped', 'cancelled'] as const;
const PARTITION_TABLE_KEYS = [PARTITION_TABLE.partitionKey, PARTITION_TABLE.sortKey];
/** Sends of a claim's read while DynamoDB leaves keys unprocessed: about 3.5 s of backoff in all. */
const CLAIM_READ_TRIES = 7;
/** Sends of a plan's chunk writes while DynamoDB leaves items unprocessed: about 8.5 s of backoff. */
const CHUNK_WRITE_TRIES = 12;
/** The backfill item's set of the chunks whose outcomes its counters include. */
const COUNTED_CHUNKS = 'countedChunks';

/** Backfills and their plans, in the partition table. Single-item conditional writes only (dynalite). */
export class BackfillStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  /**
   * Records a new backfill with its plan: the chunks first, then the backfill item, so that a
   * recorded backfill always has its plan. Recording the same id again (a retried plan step)
   * returns the backfill already recorded and writes nothing.
   */
  async create(
    record: Omit<BackfillRecord, 'status' | 'chunks' | 'succeeded' | 'failed' | 'skipped' | 'cancelled'>,
    chunks: readonly (readonly BackfillRun[])[],
  ): Promise<BackfillRecord> {
    const existing = await this.get(record.pipeline, record.backfillId);
    if (existing) return existing;
    const writes: WriteRequest[] = chunks.map((runs, index) => ({
      PutRequest: { Item: { ...key(BACKFILL_KEYS.chunks(record.pipeline, record.backfillId), BACKFILL_KEYS.chunk(index)), runs: { S: JSON.stringify(runs) } } },
    }));
    for (let i = 0; i < writes.length; i += 25) await this.batchWrite(writes.slice(i, i + 25));
    const created: BackfillRecord = { ...record, status: 'RUNNING', chunks: chunks.length, succeeded: 0, failed: 0, skipped: 0, cancelled: 0 };
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: toItem(created),
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': PARTITION_TABLE.partitionKey },
        }),
      );
      return created;
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      return (await this.get(record.pipeline, record.backfillId))!;
    }
  }

  async get(pipeline: string, backfillId: string): Promise<BackfillRecord | undefined> {
    const out = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: key(BACKFILL_KEYS.records(pipeline), backfillId), ConsistentRead: true }),
    );
    return out.Item ? fromItem(out.Item) : undefined;
  }

  /**
   * The backfill and the item of one of its partitions, in one consistent read (BatchGetItem):
   * what a run's claim reads before it writes.
   */
  async getWithPartition(pipeline: string, backfillId: string, partition: string): Promise<{ backfill?: BackfillRecord; partition: PartitionRead }> {
    const backfillKey = key(BACKFILL_KEYS.records(pipeline), backfillId);
    const partitionKey = key(pipeline, partition);
    const items: Record<string, AttributeValue>[] = [];
    const left = await untilProcessed(CLAIM_READ_TRIES, [backfillKey, partitionKey], async (keys) => {
      const out = await this.client.send(new BatchGetItemCommand({ RequestItems: { [this.tableName]: { Keys: keys, ConsistentRead: true } } }));
      items.push(...(out.Responses?.[this.tableName] ?? []));
      return out.UnprocessedKeys?.[this.tableName]?.Keys ?? [];
    });
    if (left.length > 0) {
      throw new Error(`DynamoDB left the claim's read of partition "${partition}" of pipeline "${pipeline}" unprocessed ${CLAIM_READ_TRIES} times: the table is throttled`);
    }
    const found = (wanted: Record<string, AttributeValue>) =>
      items.find((item) => PARTITION_TABLE_KEYS.every((name) => item[name]?.S === wanted[name]?.S));
    const backfill = found(backfillKey);
    const current = found(partitionKey);
    return { ...(backfill && { backfill: fromItem(backfill) }), partition: { current: current && toRecord(current) } };
  }

  /** The pipeline's backfills, newest first. */
  async list(pipeline: string): Promise<BackfillRecord[]> {
    const items = await this.query(BACKFILL_KEYS.records(pipeline));
    return items.map(fromItem).sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  /** The runs of chunk `index`. */
  async chunk(pipeline: string, backfillId: string, index: number): Promise<BackfillRun[]> {
    const out = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: key(BACKFILL_KEYS.chunks(pipeline, backfillId), BACKFILL_KEYS.chunk(index)),
        ConsistentRead: true,
      }),
    );
    if (!out.Item) throw new Error(`Backfill ${backfillId} of pipeline "${pipeline}" has no chunk ${index}: its plan is incomplete`);
    return JSON.parse(out.Item.runs?.S ?? '[]') as BackfillRun[];
  }

  /**
   * Adds the outcomes of chunk `index` to the backfill's counts and keeps them, once: recording a
   * chunk again (a retried step) changes nothing, and a step stopped between the two writes (a
   * timeout) is completed by its retry. The counts and the set of counted chunks change in one
   * conditional write on the backfill's item; the outcomes, written after, are the same on a retry.
   */
  async recordChunk(pipeline: string, backfillId: string, index: number, outcomes: readonly RunOutcome[]): Promise<void> {
    const counts = Object.fromEntries(COUNTERS.map((c) => [c, 0])) as Record<(typeof COUNTERS)[number], number>;
    for (const outcome of outcomes) counts[outcome.status.toLowerCase() as (typeof COUNTERS)[number]] += outcome.partitions?.length ?? 1;
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: key(BACKFILL_KEYS.records(pipeline), backfillId),
          UpdateExpression: `ADD ${COUNTERS.map((c) => `#${c} :${c}`).join(', ')}, #counted :chunk`,
          ConditionExpression: 'attribute_exists(#status) AND NOT contains(#counted, :index)',
          ExpressionAttributeNames: { ...Object.fromEntries(COUNTERS.map((c) => [`#${c}`, c])), '#counted': COUNTED_CHUNKS, '#status': 'status' },
          ExpressionAttributeValues: {
            ...Object.fromEntries(COUNTERS.map((c) => [`:${c}`, { N: String(counts[c]) }])),
            ':chunk': { NS: [String(index)] },
            ':index': { N: String(index) },
          },
        }),
      );
    } catch (error) {
      // Counted already, by an earlier try of this step: its outcomes may still be missing.
      if (!isConditionFailure(error)) throw error;
    }
    await this.client.send(
      new UpdateItemCommand({
        TableName: this.tableName,
        Key: key(BACKFILL_KEYS.chunks(pipeline, backfillId), BACKFILL_KEYS.chunk(index)),
        UpdateExpression: 'SET #outcomes = :outcomes',
        ConditionExpression: 'attribute_exists(#runs)',
        ExpressionAttributeNames: { '#outcomes': 'outcomes', '#runs': 'runs' },
        ExpressionAttributeValues: { ':outcomes': { S: JSON.stringify(outcomes) } },
      }),
    );
  }

  /** Every recorded outcome of the backfill, in plan order. */
  async outcomes(pipeline: string, backfillId: string): Promise<RunOutcome[]> {
    const items = await this.query(BACKFILL_KEYS.chunks(pipeline, backfillId));
    return items.flatMap((item) => (item.outcomes?.S ? (JSON.parse(item.outcomes.S) as RunOutcome[]) : []));
  }

  /**
   * Asks a RUNNING backfill to start no more runs. Returns whether it was RUNNING (and is now
   * asked to stop starting runs).
   */
  async requestCancel(pipeline: string, backfillId: string): Promise<boolean> {
    return this.conditionalUpdate(pipeline, backfillId, 'SET #cancelRequested = :true', { '#cancelRequested': 'cancelRequested' }, { ':true': { BOOL: true } });
  }

  /** Ends a RUNNING backfill with `status`. Returns whether it was RUNNING. */
  async end(pipeline: string, backfillId: string, status: Exclude<BackfillStatus, 'RUNNING'>, options: { now: Date; reason?: string }): Promise<boolean> {
    const names: Record<string, string> = { '#finishedAt': 'finishedAt', '#newStatus': 'status' };
    const values: Record<string, AttributeValue> = { ':ended': { S: status }, ':now': { S: options.now.toISOString() } };
    let update = 'SET #newStatus = :ended, #finishedAt = :now';
    if (options.reason !== undefined) {
      names['#reason'] = 'reason';
      values[':reason'] = { S: options.reason };
      update += ', #reason = :reason';
    }
    return this.conditionalUpdate(pipeline, backfillId, update, names, values);
  }

  private async conditionalUpdate(
    pipeline: string,
    backfillId: string,
    update: string,
    names: Record<string, string>,
    values: Record<string, AttributeValue>,
  ): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: key(BACKFILL_KEYS.records(pipeline), backfillId),
          UpdateExpression: update,
          ConditionExpression: '#status = :running',
          ExpressionAttributeNames: { ...names, '#status': 'status' },
          ExpressionAttributeValues: { ...values, ':running': { S: 'RUNNING' } },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  private query(partitionKey: string): Promise<Record<string, AttributeValue>[]> {
    return queryAll(this.client, {
      TableName: this.tableName,
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': PARTITION_TABLE.partitionKey },
      ExpressionAttributeValues: { ':pk': { S: partitionKey } },
      ConsistentRead: true,
    });
  }

  private async batchWrite(writes: WriteRequest[]): Promise<void> {
    const left = await untilProcessed(CHUNK_WRITE_TRIES, writes, async (pending) => {
      const out = await this.client.send(new BatchWriteItemCommand({ RequestItems: { [this.tableName]: pending } }));
      return out.UnprocessedItems?.[this.tableName] ?? [];
    });
    if (left.length > 0) throw new Error(`DynamoDB left ${left.length} backfill chunk(s) unwritten after ${CHUNK_WRITE_TRIES} tries`);
  }
}

/**
 * Sends `first`, then, with backoff (100 ms doubling up to 1 s), what DynamoDB left unprocessed
 * of a batch (throttling: the SDK retries errors, not those), at most `tries` sends in all.
 * Returns what is still unprocessed after the last.
 */
async function untilProcessed<T>(tries: number, first: T[], send: (pending: T[]) => Promise<T[]>): Promise<T[]> {
  let pending = first;
  for (let round = 0; round < tries && pending.length > 0; round++) {
    if (round > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 50 * 2 ** round)));
    pending = await send(pending);
  }
  return pending;
}


function toItem(record: BackfillRecord): Record<string, AttributeValue> {
  return {
    ...key(BACKFILL_KEYS.records(record.pipeline), record.backfillId),
    status: { S: record.status },
    request: { S: JSON.stringify(record.request) },
    executionArn: { S: record.executionArn },
    createdAt: { S: record.createdAt },
    partitions: { N: String(record.partitions) },
    runs: { N: String(record.runs) },
    chunks: { N: String(record.chunks) },
    ...Object.fromEntries(COUNTERS.map((c) => [c, { N: String(record[c]) }])),
  };
}

function fromItem(item: Record<string, AttributeValue>): BackfillRecord {
  const text = (name: string) => item[name]?.S;
  const count = (name: string) => Number(item[name]?.N ?? 0);
  const pipeline = (text(PARTITION_TABLE.partitionKey) ?? '').replace(/^backfill#/, '');
  const finishedAt = text('finishedAt');
  const reason = text('reason');
  return {
    pipeline,
    backfillId: text(PARTITION_TABLE.sortKey) ?? '',
    status: (text('status') ?? 'RUNNING') as BackfillStatus,
    request: JSON.parse(text('request') ?? '{}') as ResolvedBackfillRequest,
    executionArn: text('executionArn') ?? '',
    createdAt: text('createdAt') ?? '',
    ...(finishedAt !== undefined && { finishedAt }),
    partitions: count('partitions'),
    runs: count('runs'),
    chunks: count('chunks'),
    succeeded: count('succeeded'),
    failed: count('failed'),
    skipped: count('skipped'),
    cancelled: count('cancelled'),
    ...(item.cancelRequested?.BOOL === true && { cancelRequested: true as const }),
    ...(reason !== undefined && { reason }),
  };
}
