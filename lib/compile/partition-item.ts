/**
 * The partition item: the table that holds one item per (pipeline, partition), the names of its
 * attributes, and the writes of a run's status as data. Two writers render those writes: the
 * state machine's "Mark running" / "Mark succeeded" / "Mark failed" states (with Step Functions'
 * direct DynamoDB integration, values taken from the run's state) and `PartitionStore` (the run
 * monitor and reconciliation, values known at the call), so the names and conditions live here
 * only. Pure: no SDK, no aws-cdk-lib.
 */

/**
 * Partition table: one item per (pipeline, partition), and a sparse global secondary index of
 * the RUNNING partitions. An item carries `runningPipeline` (the pipeline's name) exactly while
 * its status is RUNNING: the launcher's claim and the state machine's "Mark running" set it, and
 * every write that ends a run removes it, so counting a pipeline's runs in progress reads only
 * those items. An item may also carry `rerunRequested` (see {@link PARTITION_ATTRIBUTES}): an S3
 * arrival found its run in progress, and the run monitor starts the next run when that run
 * ends; it is then also in the sparse index of requested reruns.
 */
export const PARTITION_TABLE = Object.freeze({
  partitionKey: 'pipeline',
  sortKey: 'partition',
  runningIndex: Object.freeze({
    name: 'running',
    partitionKey: 'runningPipeline',
    sortKey: 'partition',
    /**
     * Appended to the pipeline's name in `runningPipeline` for the partitions of a backfill batch
     * other than its run's own (`backfill.partitionsPerRun`): they are RUNNING and listed, but the
     * batch counts as one run against `maxConcurrentRuns`. Pipeline names have no `#`.
     */
    batchSuffix: '#batch',
  }),
  /**
   * Sparse index of the partitions with a rerun requested: an item carries `rerunPipeline` (the
   * pipeline's name) exactly while it carries `rerunRequested`. The run monitor's reconciliation
   * reads it to find reruns no status change started, without reading a pipeline's history.
   */
  rerunIndex: Object.freeze({
    name: 'rerun-requested',
    partitionKey: 'rerunPipeline',
    sortKey: 'partition',
  }),
});

/**
 * Attribute names of a partition item besides the key. `rerunRequested` (a boolean, present only
 * when true) marks a RUNNING run that must be followed by another: data arrived while it ran.
 * `consumed` (JSON, see orchestration/consumed.ts) holds the data versions the partition's runs have
 * consumed, and `revision` counts the writes of it, so that two launchers cannot overwrite each
 * other's: every write of `consumed` is conditioned on the revision it read. `runningPipeline`
 * and `rerunPipeline` are the keys of the two sparse indexes.
 */
export const PARTITION_ATTRIBUTES = Object.freeze({
  status: 'status',
  runNumber: 'runNumber',
  runId: 'runId',
  trigger: 'trigger',
  claimedAt: 'claimedAt',
  /** When the run's execution started ("Mark running"). */
  startedAt: 'startedAt',
  /** The run's execution ("Mark running"). */
  executionArn: 'executionArn',
  finishedAt: 'finishedAt',
  error: 'error',
  cause: 'cause',
  rerunRequested: 'rerunRequested',
  consumed: 'consumed',
  revision: 'revision',
  runningPipeline: PARTITION_TABLE.runningIndex.partitionKey,
  rerunPipeline: PARTITION_TABLE.rerunIndex.partitionKey,
});

/**
 * What items written before the run counter was named `runNumber` hold instead: `attempt`. Readers
 * take it when `runNumber` is absent, and a claim of such an item replaces it with `runNumber`
 * (`PartitionStore.claim`), so every item is migrated by its partition's next run. Never written
 * by this version. Their consumed entries and the inputs of the executions they started carry it
 * too (see `runNumberOfInput` in contract.ts).
 */
export const LEGACY_RUN_NUMBER = 'attempt';

/** An attribute of a partition item, by its key in {@link PARTITION_ATTRIBUTES}. */
export type PartitionAttribute = keyof typeof PARTITION_ATTRIBUTES;

/** A write of a run's status to its partition's item, as data. */
export interface StatusWrite {
  /** The status written. */
  readonly status: 'RUNNING' | 'SUCCEEDED' | 'FAILED';
  /** Attributes set besides `status`, each to the value the writer gives under its name. */
  readonly set: readonly PartitionAttribute[];
  /** Attributes removed (a field of an earlier run that no longer holds). */
  readonly remove: readonly PartitionAttribute[];
  /**
   * `enter`: the item joins the sparse index of running partitions (`runningPipeline` is set to
   * the pipeline's name, a value the writer gives as `pipeline`); `leave`: it leaves it.
   */
  readonly runningIndex: 'enter' | 'leave';
  /**
   * The write happens only while the item names this run (`runId`), so an older execution never
   * overwrites a newer run; with `whileRunning`, only while it is also still RUNNING, so an
   * ended run stays ended.
   */
  readonly whileRunning: boolean;
}

/**
 * The state machine's three status writes. Its end writes do not need the item to be RUNNING, so
 * that a redriven execution records its new outcome; `PartitionStore`, which ends runs on behalf
 * of the state machine (the run monitor, reconciliation), writes them `whileRunning`: the state
 * machine's own outcome, recorded first, wins.
 */
export const STATUS_WRITES = Object.freeze({
  running: { status: 'RUNNING', set: ['runNumber', 'startedAt', 'executionArn'], remove: ['error', 'cause', 'finishedAt'], runningIndex: 'enter', whileRunning: true },
  succeeded: { status: 'SUCCEEDED', set: ['finishedAt'], remove: [], runningIndex: 'leave', whileRunning: false },
  failed: { status: 'FAILED', set: ['finishedAt', 'error', 'cause'], remove: [], runningIndex: 'leave', whileRunning: false },
} as const satisfies Record<string, StatusWrite>);

/** A write's expressions and placeholders, for an `UpdateItem` of either writer. */
export interface RenderedWrite<V> {
  readonly updateExpression: string;
  readonly conditionExpression: string;
  /** `#name` placeholders: each attribute's name. */
  readonly names: Record<string, string>;
  /** `:name` placeholders: the writer's values. */
  readonly values: Record<string, V>;
}

/** The values a write needs: one per attribute it sets, `runId`, and `pipeline` when entering the index. */
export type StatusWriteValues<W extends StatusWrite, V> = Record<W['set'][number] | 'runId', V> & (W['runningIndex'] extends 'enter' ? { pipeline: V } : unknown);

/**
 * Renders `write` as DynamoDB expressions over the writer's own value type `V` (an SDK
 * `AttributeValue`, or a state machine's `DynamoAttributeValue`): `literal` turns a constant (a
 * status) into one. `also` sets more attributes in the same write (a rerun requested with a
 * failure).
 */
export function renderStatusWrite<W extends StatusWrite, V>(
  write: W,
  literal: (text: string) => V,
  values: StatusWriteValues<W, V>,
  also: Partial<Record<PartitionAttribute, V>> = {},
): RenderedWrite<V> {
  const given = values as Record<string, V>;
  const names: Record<string, string> = {};
  const placeholders: Record<string, V> = {};
  const name = (attribute: PartitionAttribute) => {
    names[`#${attribute}`] = PARTITION_ATTRIBUTES[attribute];
    return `#${attribute}`;
  };
  const assign = (attribute: PartitionAttribute, placeholder: string, value: V) => {
    placeholders[`:${placeholder}`] = value;
    return `${name(attribute)} = :${placeholder}`;
  };
  const sets = [assign('status', 'status', literal(write.status)), ...write.set.map((attribute) => assign(attribute, attribute, given[attribute]!))];
  if (write.runningIndex === 'enter') sets.push(assign('runningPipeline', 'pipeline', given.pipeline!));
  for (const [attribute, value] of Object.entries(also) as [PartitionAttribute, V][]) sets.push(assign(attribute, attribute, value));
  const removes = [...write.remove, ...(write.runningIndex === 'leave' ? (['runningPipeline'] as const) : [])].map(name);

  placeholders[':runId'] = given.runId!;
  let conditionExpression = `${name('runId')} = :runId`;
  if (write.whileRunning) {
    placeholders[':running'] = literal('RUNNING');
    conditionExpression += ` AND ${name('status')} = :running`;
  }
  return {
    updateExpression: `SET ${sets.join(', ')}${removes.length > 0 ? ` REMOVE ${removes.join(', ')}` : ''}`,
    conditionExpression,
    names,
    values: placeholders,
  };
}
