/**
 * The partition table's reads and writes. One class of about 500 lines on purpose: every write is
 * a conditional write whose condition depends on the others (a claim, a consumed version, a
 * requested rerun, a status), and they are checked against each other side by side.
 */
import {
  type AttributeValue,
  type DynamoDBClient,
  GetItemCommand,
  QueryCommand,
  type QueryCommandInput,
  type QueryCommandOutput,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { runIdOf, type PartitionStatus } from '../lib/compile/contract';
import { LEGACY_RUN_NUMBER, PARTITION_ATTRIBUTES, PARTITION_TABLE, renderStatusWrite, STATUS_WRITES } from '../lib/compile/partition-item';
import type { ConsumedVersion } from './consumed';

/** A stored partition: one that has been run at least once. */
export interface PartitionRecord {
  readonly pipeline: string;
  readonly partition: string;
  readonly status: Exclude<PartitionStatus, 'MISSING'>;
  /** Number of the latest run of this partition, from 1. */
  readonly runNumber: number;
  /** Execution name of the latest run. */
  readonly runId: string;
  /** What started the latest run. */
  readonly trigger: string;
  /** ISO-8601 instant the latest run was claimed. */
  readonly claimedAt: string;
  /** ISO-8601 instant the latest run ended, once it has. */
  readonly finishedAt?: string;
  readonly error?: string;
  readonly cause?: string;
  /**
   * Present while data that arrived during the latest run waits for the run after it: the run
   * monitor starts that run once the latest one ends (`PartitionStore.requestRerun`).
   */
  readonly rerunRequested?: true;
  /**
   * The data versions (S3 objects, schedule ticks) the partition's runs have consumed, the latest
   * per source, at most `CONSUMED_MAX` (orchestration/consumed.ts). Absent when none.
   */
  readonly consumed?: readonly ConsumedVersion[];
  /** How many times `consumed` was written; absent before the first. */
  readonly revision?: number;
}

/** What a launch consuming data writes with its claim or its request to the run in progress. */
export interface ConsumingWrite {
  /** The whole consumed list to store (the one read, with the new version). */
  readonly consumed: readonly ConsumedVersion[];
}

/** A partition's item as read just before: `current` is `undefined` when it was never run. */
export interface PartitionRead {
  readonly current: PartitionRecord | undefined;
}

/** Outcome of `PartitionStore.claim`. */
export type ClaimResult =
  | { readonly kind: 'claimed'; readonly runNumber: number; readonly runId: string }
  | { readonly kind: 'busy'; readonly runId: string };

/** Thrown when a claim keeps losing races with concurrent writers. */
export class PartitionClaimError extends Error {
  constructor(pipeline: string, partition: string, tries: number) {
    super(
      `Could not claim partition "${partition}" of pipeline "${pipeline}": it changed under ${tries} consecutive ` +
        'claims. Another launcher is writing it at the same time; retry the launch.',
    );
    this.name = 'PartitionClaimError';
  }
}

const CLAIM_TRIES = 5;
const A = PARTITION_ATTRIBUTES;
const RUNNING_INDEX = PARTITION_TABLE.runningIndex;
const RERUN_INDEX = PARTITION_TABLE.rerunIndex;

/**
 * The partition table (schema `PARTITION_TABLE`). Every write is a single-item conditional write:
 * dynalite, the local stand-in, has no transactions and ignores
 * `ReturnValuesOnConditionCheckFailure`.
 */
export class PartitionStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  /** The partition's item, or `undefined` when it was never run (status `MISSING`). */
  async get(pipeline: string, partition: string): Promise<PartitionRecord | undefined> {
    const out = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: key(pipeline, partition), ConsistentRead: true }),
    );
    return out.Item ? toRecord(out.Item) : undefined;
  }

  /** Stored partitions of a pipeline in key order, optionally within `from`..`to` (inclusive). */
  async list(pipeline: string, range: { from?: string; to?: string } = {}): Promise<PartitionRecord[]> {
    const names: Record<string, string> = { '#pk': PARTITION_TABLE.partitionKey };
    const values: Record<string, AttributeValue> = { ':pk': { S: pipeline } };
    let condition = '#pk = :pk';
    if (range.from !== undefined || range.to !== undefined) names['#sk'] = PARTITION_TABLE.sortKey;
    if (range.from !== undefined) values[':from'] = { S: range.from };
    if (range.to !== undefined) values[':to'] = { S: range.to };
    if (range.from !== undefined && range.to !== undefined) condition += ' AND #sk BETWEEN :from AND :to';
    else if (range.from !== undefined) condition += ' AND #sk >= :from';
    else if (range.to !== undefined) condition += ' AND #sk <= :to';

    const items = await queryAll(this.client, {
      TableName: this.tableName,
      KeyConditionExpression: condition,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
      ConsistentRead: true,
    });
    return items.map(toRecord);
  }

  /**
   * How many partitions of the pipeline are RUNNING, from the sparse index
   * `PARTITION_TABLE.runningIndex`. A global secondary index is eventually consistent (it
   * usually trails a write by well under a second), so a claim made an instant ago may not be
   * counted yet.
   */
  async countRunning(pipeline: string): Promise<number> {
    let count = 0;
    await this.queryIndex(RUNNING_INDEX, pipeline, 'COUNT', (page) => (count += page.Count ?? 0));
    return count;
  }

  /**
   * The partitions of a pipeline that are RUNNING, read through the index of running partitions:
   * those runs claimed, then the other partitions of backfill batches.
   */
  async listRunning(pipeline: string): Promise<PartitionRecord[]> {
    const [single, batched] = await Promise.all([
      this.readIndexed(RUNNING_INDEX, pipeline),
      this.readIndexed(RUNNING_INDEX, pipeline, `${pipeline}${RUNNING_INDEX.batchSuffix}`),
    ]);
    return [...single, ...batched].filter((r) => r.status === 'RUNNING');
  }

  /**
   * The partitions of a pipeline with a rerun requested (`requestRerun`), read through the sparse
   * index of requested reruns: reconciliation finds them without reading the pipeline's history.
   */
  async listRerunRequested(pipeline: string): Promise<PartitionRecord[]> {
    const records = await this.readIndexed(RERUN_INDEX, pipeline);
    return records.filter((r) => r.rerunRequested);
  }

  /** The items a sparse index lists under `pipeline`, each read consistently from the table. */
  private async readIndexed(index: typeof RUNNING_INDEX | typeof RERUN_INDEX, pipeline: string, indexKey = pipeline): Promise<PartitionRecord[]> {
    const partitions: string[] = [];
    await this.queryIndex(index, indexKey, 'ALL_PROJECTED_ATTRIBUTES', (page) =>
      partitions.push(...(page.Items ?? []).map((item) => String(item[PARTITION_TABLE.sortKey]?.S))),
    );
    const records = await Promise.all(partitions.map((partition) => this.get(pipeline, partition)));
    return records.filter((r): r is PartitionRecord => r !== undefined);
  }

  private async queryIndex(
    index: typeof RUNNING_INDEX | typeof RERUN_INDEX,
    pipeline: string,
    select: 'COUNT' | 'ALL_PROJECTED_ATTRIBUTES',
    onPage: (page: QueryCommandOutput) => void,
  ): Promise<void> {
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: index.name,
          KeyConditionExpression: '#indexed = :pipeline',
          ExpressionAttributeNames: { '#indexed': index.partitionKey },
          ExpressionAttributeValues: { ':pipeline': { S: pipeline } },
          Select: select,
          ExclusiveStartKey: startKey,
        }),
      );
      onPage(page);
      startKey = page.LastEvaluatedKey;
    } while (startKey);
  }

  /**
   * Marks the partition RUNNING under a new run, unless a run of it is already RUNNING.
   * Read, then write conditioned on the run read, so two concurrent claims cannot both win.
   * The item joins the index of running partitions (`countRunning`). A rerun requested of the
   * previous run is cleared: this run is that rerun. `runId` (default: the execution name of the
   * new run) names the run that processes it: another partition's, for a backfill batch; the
   * item is then indexed as a member of that batch, not counted as a run of its own. `read`,
   * the item as the caller has just read it, stands for the first read.
   */
  async claim(pipeline: string, partition: string, options: { trigger: string; now: Date; runId?: string; read?: PartitionRead }): Promise<ClaimResult> {
    for (let i = 0; i < CLAIM_TRIES; i++) {
      // A read made by the caller saves the first one; a write it lets fail reads again.
      const current = i === 0 && options.read ? options.read.current : await this.get(pipeline, partition);
      if (current?.status === 'RUNNING') return { kind: 'busy', runId: current.runId };
      const claim = await this.writeClaim(pipeline, partition, current, options);
      if (claim.kind === 'claimed') return claim;
    }
    throw new PartitionClaimError(pipeline, partition, CLAIM_TRIES);
  }

  /**
   * Claims the partition as `claim` does, in one write conditioned on the item being exactly as
   * `read` (absent, or the same run and revision, and not RUNNING), recording `consumed`.
   * Returns `changed` when the item changed since it was read: read it again and decide again.
   */
  async claimConsuming(
    pipeline: string,
    partition: string,
    read: PartitionRecord | undefined,
    options: { trigger: string; now: Date } & ConsumingWrite,
  ): Promise<Extract<ClaimResult, { kind: 'claimed' }> | { readonly kind: 'changed' }> {
    return this.writeClaim(pipeline, partition, read, options);
  }

  /**
   * The claim's write, conditioned on the run read, which stands for the whole item: whoever
   * wrote it since then bumped it or set RUNNING; with `consumed`, also on the revision read.
   * An item written before `runNumber` holds its run number in `LEGACY_RUN_NUMBER`: the condition
   * then holds on that attribute, and the write moves the number to `runNumber`, so the next
   * claim of it (this one's loser included) finds `runNumber` and no longer matches. One
   * condition serves both kinds of item: this version never writes `attempt` back.
   */
  private async writeClaim(
    pipeline: string,
    partition: string,
    read: PartitionRecord | undefined,
    options: { trigger: string; now: Date; consumed?: readonly ConsumedVersion[]; runId?: string },
  ): Promise<Extract<ClaimResult, { kind: 'claimed' }> | { readonly kind: 'changed' }> {
    const runNumber = (read?.runNumber ?? 0) + 1;
    // A partition run by another partition's run (a backfill batch) carries that run's id.
    const runId = options.runId ?? runIdOf(pipeline, partition, runNumber);
    const names: Record<string, string> = {
      '#status': A.status,
      '#runNumber': A.runNumber,
      '#runId': A.runId,
      '#trigger': A.trigger,
      '#claimedAt': A.claimedAt,
      '#finishedAt': A.finishedAt,
      '#error': A.error,
      '#cause': A.cause,
      '#rerunRequested': A.rerunRequested,
      '#rerunPipeline': RERUN_INDEX.partitionKey,
      '#runningPipeline': RUNNING_INDEX.partitionKey,
    };
    const values: Record<string, AttributeValue> = {
      ':running': { S: 'RUNNING' },
      ':pipeline': { S: options.runId ? `${pipeline}${RUNNING_INDEX.batchSuffix}` : pipeline },
      ':runNumber': { N: String(runNumber) },
      ':runId': { S: runId },
      ':trigger': { S: options.trigger },
      ':now': { S: options.now.toISOString() },
    };
    let assignments = '#status = :running, #runNumber = :runNumber, #runId = :runId, #trigger = :trigger, #claimedAt = :now, #runningPipeline = :pipeline';
    let removals = '#finishedAt, #error, #cause, #rerunRequested, #rerunPipeline';
    let condition: string;
    if (read) {
      condition = '(#runNumber = :previous OR (attribute_not_exists(#runNumber) AND #legacyRunNumber = :previous)) AND #status <> :running';
      values[':previous'] = { N: String(read.runNumber) };
      names['#legacyRunNumber'] = LEGACY_RUN_NUMBER;
      removals += ', #legacyRunNumber';
    } else {
      condition = 'attribute_not_exists(#pk)';
      names['#pk'] = PARTITION_TABLE.partitionKey;
    }
    if (options.consumed) {
      const expected = expectedRevision(read);
      names['#consumed'] = A.consumed;
      names['#revision'] = A.revision;
      values[':consumed'] = { S: JSON.stringify(options.consumed) };
      values[':revision'] = { N: String((read?.revision ?? 0) + 1) };
      Object.assign(values, read ? expected.values : {});
      assignments += ', #consumed = :consumed, #revision = :revision';
      if (read) condition += ` AND ${expected.condition}`;
    }
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: key(pipeline, partition),
          UpdateExpression: `SET ${assignments} REMOVE ${removals}`,
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
      return { kind: 'claimed', runNumber, runId };
    } catch (error) {
      if (isConditionFailure(error)) return { kind: 'changed' };
      throw error;
    }
  }

  /**
   * Records `consumed` on a RUNNING partition, still exactly as `read` (same run, same revision):
   * the run in progress consumed a version (`rerun: false`, a schedule tick it serves), or the
   * next run will (`rerun: true`, new data that arrived during the run, as `requestRerun`).
   * Returns whether it wrote; `false` means the item changed: read it again and decide again.
   */
  async consumeWhileRunning(
    pipeline: string,
    partition: string,
    read: PartitionRecord,
    options: { rerun: boolean } & ConsumingWrite,
  ): Promise<boolean> {
    const expected = expectedRevision(read);
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: key(pipeline, partition),
          UpdateExpression: `SET #consumed = :consumed, #revision = :revision${options.rerun ? ', #rerunRequested = :true, #rerunPipeline = :pipeline' : ''}`,
          ConditionExpression: `#status = :running AND #runId = :runId AND ${expected.condition}`,
          ExpressionAttributeNames: {
            '#status': A.status,
            '#runId': A.runId,
            '#consumed': A.consumed,
            '#revision': A.revision,
            ...(options.rerun && { '#rerunRequested': A.rerunRequested, '#rerunPipeline': RERUN_INDEX.partitionKey }),
          },
          ExpressionAttributeValues: {
            ...expected.values,
            ':running': { S: 'RUNNING' },
            ':runId': { S: read.runId },
            ':consumed': { S: JSON.stringify(options.consumed) },
            ':revision': { N: String((read.revision ?? 0) + 1) },
            ...(options.rerun && { ':true': { BOOL: true }, ':pipeline': { S: pipeline } }),
          },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /**
   * Asks for another run of the partition once its run `runId` ends, only if that run is still
   * RUNNING: the run monitor starts the rerun when the run ends (see `handleStatusChange`).
   * Returns whether it wrote; `false` means the run has ended (or another took its place), and
   * the caller should claim the partition instead. Requesting twice is the same as once.
   */
  async requestRerun(pipeline: string, partition: string, runId: string): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: key(pipeline, partition),
          // The pipeline's name puts the item in the sparse index of requested reruns.
          UpdateExpression: 'SET #rerunRequested = :true, #rerunPipeline = :pipeline',
          ConditionExpression: '#status = :running AND #runId = :runId',
          ExpressionAttributeNames: {
            '#rerunRequested': A.rerunRequested,
            '#rerunPipeline': RERUN_INDEX.partitionKey,
            '#status': A.status,
            '#runId': A.runId,
          },
          ExpressionAttributeValues: {
            ':true': { BOOL: true },
            ':pipeline': { S: pipeline },
            ':running': { S: 'RUNNING' },
            ':runId': { S: runId },
          },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /**
   * Marks the run FAILED, only if the partition is still RUNNING under this run id: a later run,
   * or the state machine having recorded the outcome first, wins. Returns whether it wrote. The
   * item leaves the index of running partitions. `rerun` also requests a rerun of it: a run whose
   * launch failed or was interrupted after it had consumed data, which still needs a run.
   */
  async markFailed(
    pipeline: string,
    partition: string,
    runId: string,
    failure: { error: string; cause?: string; now?: Date; rerun?: boolean },
  ): Promise<boolean> {
    return this.end(pipeline, partition, runId, failure.now, {
      status: 'FAILED',
      error: failure.error,
      cause: failure.cause ?? '',
      rerun: failure.rerun,
    });
  }

  /**
   * Marks the run SUCCEEDED, only if the partition is still RUNNING under this run id, as the
   * state machine's "Mark succeeded" would have: for a run whose execution is known to have
   * succeeded (`reconcilePartitions`). Returns whether it wrote. The item leaves the index of
   * running partitions.
   */
  async markSucceeded(pipeline: string, partition: string, runId: string, options: { now?: Date } = {}): Promise<boolean> {
    return this.end(pipeline, partition, runId, options.now, { status: 'SUCCEEDED' });
  }

  /**
   * The state machine's end write (`STATUS_WRITES`), made `whileRunning`: it ends a run on the
   * state machine's behalf, so an outcome the state machine recorded first wins.
   */
  private async end(
    pipeline: string,
    partition: string,
    runId: string,
    now: Date | undefined,
    set: { status: 'SUCCEEDED' | 'FAILED'; error?: string; cause?: string; rerun?: boolean },
  ): Promise<boolean> {
    const text = (value: string): AttributeValue => ({ S: value });
    const common = { runId: text(runId), finishedAt: text((now ?? new Date()).toISOString()) };
    // In the sparse index of requested reruns, like every write that requests one.
    const rerun = set.rerun ? { rerunRequested: { BOOL: true }, rerunPipeline: text(pipeline) } : {};
    const write =
      set.status === 'SUCCEEDED'
        ? renderStatusWrite({ ...STATUS_WRITES.succeeded, whileRunning: true }, text, common, rerun)
        : renderStatusWrite({ ...STATUS_WRITES.failed, whileRunning: true }, text, { ...common, error: text(set.error ?? ''), cause: text(set.cause ?? '') }, rerun);
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: key(pipeline, partition),
          UpdateExpression: write.updateExpression,
          ConditionExpression: write.conditionExpression,
          ExpressionAttributeNames: write.names,
          ExpressionAttributeValues: write.values,
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }
}

/** The condition that the item's `revision` is still the one read. */
function expectedRevision(read: PartitionRecord | undefined): { condition: string; values: Record<string, AttributeValue> } {
  return read?.revision === undefined
    ? { condition: 'attribute_not_exists(#revision)', values: {} }
    : { condition: '#revision = :readRevision', values: { ':readRevision': { N: String(read.revision) } } };
}

/** The key of an item of the partition table. */
export function key(pipeline: string, partition: string): Record<string, AttributeValue> {
  return { [PARTITION_TABLE.partitionKey]: { S: pipeline }, [PARTITION_TABLE.sortKey]: { S: partition } };
}

/** Every item a Query returns, following `LastEvaluatedKey` past DynamoDB's 1 MB pages. */
export async function queryAll(client: DynamoDBClient, input: Omit<QueryCommandInput, 'ExclusiveStartKey'>): Promise<Record<string, AttributeValue>[]> {
  const items: Record<string, AttributeValue>[] = [];
  let startKey: Record<string, AttributeValue> | undefined;
  do {
    const page = await client.send(new QueryCommand({ ...input, ExclusiveStartKey: startKey }));
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items;
}

/** Whether a write failed on its condition. */
export function isConditionFailure(error: unknown): boolean {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}

const STATUSES: readonly string[] = ['RUNNING', 'SUCCEEDED', 'FAILED'];

/**
 * A partition's item as a record, read by hand, not through `@aws-sdk/util-dynamodb`'s
 * `unmarshall` and a schema: this is the status grid's hot path, and those cost about 8 times as
 * much per item (100,000 items: 0.45–0.9 s against 0.05 s, measured on this machine), more than
 * the grid's whole budget.
 */
export function toRecord(item: Record<string, AttributeValue>): PartitionRecord {
  const text = (name: string): string | undefined => item[name]?.S;
  const pipeline = text(PARTITION_TABLE.partitionKey) ?? '';
  const partition = text(PARTITION_TABLE.sortKey) ?? '';
  const status = text(A.status);
  if (!status || !STATUSES.includes(status)) {
    throw new Error(
      `Partition "${partition}" of pipeline "${pipeline}" has status ${JSON.stringify(status)} in the partition ` +
        `table; expected one of ${STATUSES.join(', ')}. Was the item written by something other than sluice?`,
    );
  }
  const finishedAt = text(A.finishedAt);
  const error = text(A.error);
  const cause = text(A.cause);
  const consumed = parseConsumed(text(A.consumed));
  const revision = item[A.revision]?.N;
  return {
    pipeline,
    partition,
    status: status as PartitionRecord['status'],
    // An item not claimed since `runNumber` was named holds `attempt` (see `writeClaim`).
    runNumber: Number(item[A.runNumber]?.N ?? item[LEGACY_RUN_NUMBER]?.N ?? 0),
    runId: text(A.runId) ?? '',
    trigger: text(A.trigger) ?? '',
    claimedAt: text(A.claimedAt) ?? '',
    ...(finishedAt !== undefined && { finishedAt }),
    ...(error !== undefined && { error }),
    ...(cause !== undefined && { cause }),
    ...(item[A.rerunRequested]?.BOOL === true && { rerunRequested: true as const }),
    ...(consumed.length > 0 && { consumed }),
    ...(revision !== undefined && { revision: Number(revision) }),
  };
}

/**
 * The stored consumed list; one that does not parse is treated as empty (the rule then counts its
 * events as new). An entry written before `runNumber` was named holds `attempt`: read as
 * `runNumber`, and so written back by the next write of the list.
 */
function parseConsumed(text: string | undefined): ConsumedVersion[] {
  if (text === undefined) return [];
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return [];
  }
  if (!Array.isArray(value)) return [];
  return (value as (ConsumedVersion & { [LEGACY_RUN_NUMBER]?: number })[]).map((entry) => {
    if (entry.runNumber !== undefined || entry[LEGACY_RUN_NUMBER] === undefined) return entry;
    const { [LEGACY_RUN_NUMBER]: runNumber, ...rest } = entry;
    return { ...rest, runNumber };
  });
}
