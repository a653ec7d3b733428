import { createHash } from 'node:crypto';
import type { PartitionSpec } from '../definitions/partitions';
import type { PartitionMapping } from '../definitions/upstream';
import type { CompiledPipeline } from './model';
import type { ParamSpec } from './params';
import { LEGACY_RUN_NUMBER } from './partition-item';

/**
 * What the deployed pieces agree on: the partition table's schema, the state machine's input, the
 * event a task handler receives and the configuration the launcher reads from its environment.
 * Constructs write these; Lambda handlers, the CLI and the local runtime read them.
 */

/** The partition table's schema lives with the partition item's attributes and status writes. */
export { PARTITION_TABLE } from './partition-item';

/** Statuses of a partition. `MISSING` is never stored: it is the absence of an item. */
export type PartitionStatus = 'MISSING' | 'RUNNING' | 'SUCCEEDED' | 'FAILED';

/** The value of a run parameter, as the task event carries it. */
export type ParamValue = string | number | boolean;

/** What every task of a run is told about the run: part of each task's event. */
export interface RunFields {
  readonly pipeline: string;
  readonly partition: string;
  /**
   * The execution name: deterministic from pipeline, partition and run number, and unique across
   * the pipelines of a stage (see {@link runIdOf}), so a run id alone names a run.
   */
  readonly runId: string;
  /**
   * Which run of the partition this is: 1 for its first, one more for every later run of it (a
   * retry of a task within the run is counted apart, by `TaskEvent.retryCount`).
   */
  readonly runNumber: number;
  /** What started the run: `schedule`, `s3`, `upstream`, `manual`, `backfill`, `rerun`. */
  readonly trigger: string;
  /**
   * Every partition the run processes, in order: `[partition]`, or the consecutive partitions a
   * backfill hands one run (`backfill.partitionsPerRun`), of which `partition` is the first.
   */
  readonly partitions: readonly string[];
  /** First and last of `partitions`. */
  readonly range: { readonly from: string; readonly to: string };
  /** The run's parameters, by name: those given at launch over the declared defaults. */
  readonly params: Readonly<Record<string, ParamValue>>;
}

/** Input of every execution of a pipeline's state machine. */
export interface RunInput extends RunFields {
  /**
   * `false` on the runs of a backfill asked not to start the pipelines that run after this one:
   * its partition events say so (`PartitionEventDetail.downstream`).
   *
   * @default - absent: they do start
   */
  readonly downstream?: false;
  /**
   * Tasks that are not executed in this run: each takes the result recorded for it by the run
   * named here (see {@link RUN_RESULTS}). Empty for every run but a rerun (`sluice rerun`).
   */
  readonly reuse: Readonly<Record<string, string>>;
}

/**
 * The run number of an execution, from its input (a {@link RunInput}, parsed): its `runNumber`, or
 * for a run started before the run counter was named so, its `attempt` ({@link LEGACY_RUN_NUMBER}).
 *
 * @returns `undefined` when the input carries neither (not a run's input)
 */
export function runNumberOfInput(input: unknown): number | undefined {
  if (typeof input !== 'object' || input === null) return undefined;
  const fields = input as Readonly<Record<string, unknown>>;
  const value = fields.runNumber ?? fields[LEGACY_RUN_NUMBER];
  return typeof value === 'number' ? value : undefined;
}

/** What names a run and says how it started: the run input without parameters and reuse. */
export type RunRef = Pick<RunInput, 'pipeline' | 'partition' | 'runId' | 'runNumber' | 'trigger' | 'downstream'>;

/**
 * The field of a successful run's output in which the state machine's end write says whether it
 * found a rerun requested of the partition (an S3 arrival during the run): `{ rerunRequested }`.
 * The run monitor reads the partition for a rerun only when it did, or when the output lacks the
 * field (a run that did not record its end, or an event whose output was left out for its size).
 */
export const RUN_ENDED_OUTPUT = 'ended';

/** The value of {@link RUN_ENDED_OUTPUT}. */
export interface RunEnded {
  readonly rerunRequested: boolean;
}

/** The event a task handler receives. */
export interface TaskEvent extends RunFields {
  readonly task: string;
  /**
   * Retries of this task so far in this run: 0 on its first try, 1 on its first retry, and so
   * on (Step Functions' `$$.State.RetryCount`). Not `runNumber`, which numbers the runs of the
   * partition. Its logs number the tries (attempts) from 1 (`retryCount + 1`, `sluice logs --attempt`).
   */
  readonly retryCount: number;
  /** Results of the tasks this one comes after, by task name. */
  readonly results: Readonly<Record<string, unknown>>;
  /** For a sensor: the number of this check, from 1. */
  readonly check?: number;
}

/**
 * Task results recorded in the partition table, one item per run and task, so that a rerun can
 * reuse them: partition key `run#<runId>` (never a pipeline name, which has no `#`), sort key
 * `task#<task>`, and the result as JSON text in `value`. A result is at most 256 KB (Step
 * Functions' state limit), within DynamoDB's 400 KB item limit. The state machine writes them
 * after each task, reused or executed; the launcher reads them to plan a rerun.
 */
export const RUN_RESULTS = Object.freeze({
  partitionKeyPrefix: 'run#',
  sortKeyPrefix: 'task#',
  value: 'value',
  /** The pipeline of the run, for whoever reads the table item by item. */
  pipeline: 'runPipeline',
  recordedAt: 'recordedAt',
});

/** Environment variables of the launcher and run-monitor functions. */
export const LAUNCHER_ENV = Object.freeze({
  pipeline: 'SLUICE_PIPELINE',
  tableName: 'SLUICE_TABLE_NAME',
  stateMachineArn: 'SLUICE_STATE_MACHINE_ARN',
  alertTopicArn: 'SLUICE_ALERT_TOPIC_ARN',
  /**
   * The run monitor's state machine, where it starts requested reruns. Named apart from
   * `stateMachineArn` because the launcher is the one function of a pipeline carrying that: the
   * local runtime finds a pipeline's launcher by it.
   */
  rerunStateMachineArn: 'SLUICE_RERUN_STATE_MACHINE_ARN',
  /** The stage's event bus, where the run monitor publishes `PARTITION_EVENTS`. */
  eventBusName: 'SLUICE_EVENT_BUS',
});

/**
 * The events published to the stage's event bus (`eventBusName`) for every partition whose run
 * ended, by the run monitor. Pipelines that run after others are triggered by rules on
 * `succeeded`; anyone may add rules of their own. `detail` is a `PartitionEventDetail`.
 *
 * @see https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-events-structure.html
 */
export const PARTITION_EVENTS = Object.freeze({
  source: 'sluice',
  succeeded: 'Partition Succeeded',
  failed: 'Partition Failed',
});

/** `detail` of a `Partition Succeeded` or `Partition Failed` event. */
export interface PartitionEventDetail {
  readonly pipeline: string;
  readonly partition: string;
  /** The run (execution name) that ended. */
  readonly runId: string;
  readonly runNumber: number;
  /** What started the run (`RunInput.trigger`). */
  readonly trigger: string;
  /** `SUCCEEDED`, or how the run ended without success: `FAILED`, `TIMED_OUT`, `ABORTED`. */
  readonly status: string;
  /** The error of a run that did not succeed. */
  readonly error?: string;
  /**
   * Present, and `false`, when the run must not start the pipelines that run after this one: a
   * backfill asked so (`downstream: false`). Their rules match only events without it.
   *
   * @default - absent: downstream pipelines run
   */
  readonly downstream?: false;
}

/** Name of a stage's event bus: `sluice-<stage>`, found by name so that no stack exports it. */
export function eventBusName(stage: string): string {
  return `sluice-${stage}`;
}

/**
 * Environment variable of the launcher and of task functions holding deployed bucket names as
 * JSON: `{ "<logical>": "<bucket name>" }`. Pipelines name buckets logically; stages decide which
 * bucket that is.
 */
export const BUCKETS_ENV = 'SLUICE_BUCKETS';

/**
 * Environment variable of a task function that declares secrets: where each one is, as JSON
 * `{ "<logical>": SecretLocation }`. Names only: values are read at run time (`secret()`).
 */
export const SECRETS_ENV = 'SLUICE_SECRETS';

/** Where a task's secret is read from: a Secrets Manager secret (name or ARN) or an SSM parameter name. */
export type SecretLocation = { readonly kind: 'secretsManager'; readonly id: string } | { readonly kind: 'ssmParameter'; readonly id: string };

/** The Secrets Manager secret a stage reads a logical secret from unless its configuration says otherwise. */
export function defaultSecretName(stage: string, logical: string): string {
  return `sluice/${stage}/${logical}`;
}

/** The part of a pipeline the launcher needs, as JSON (regular expressions as source + flags). */
export interface LauncherConfig {
  readonly name: string;
  /** Declared run parameters with their types and defaults (see `resolveParams`). */
  readonly params?: ParamSpec;
  /** The tasks with their direct dependencies: what a rerun plans with (see `planRerun`). */
  readonly tasks: readonly { readonly name: string; readonly after: readonly string[] }[];
  /**
   * Runs of the pipeline that may be in progress at once: a launch finding this many RUNNING
   * partitions is deferred (see `launchRun`).
   */
  readonly maxConcurrentRuns: number;
  /** Consecutive partitions one backfill run processes. @default 1 */
  readonly partitionsPerRun?: number;
  readonly partitions?: PartitionSpec;
  readonly schedule?: { readonly cron: string; readonly timezone: string };
  /**
   * Pipelines this one runs after, with their partitions, so that the launcher can map an
   * upstream partition to its own and read the other upstreams' partitions before it claims.
   *
   * @default - none
   */
  readonly upstream?: readonly {
    readonly pipeline: string;
    readonly partitions?: PartitionSpec;
    readonly mapping: PartitionMapping;
  }[];
  readonly triggers: readonly {
    readonly kind: 's3Arrival';
    readonly bucket: string;
    readonly prefix?: string;
    readonly suffix?: string;
    readonly partitionFromKey?: { readonly source: string; readonly flags: string };
  }[];
}

/**
 * Serialises what the launcher needs of a compiled pipeline; `upstreams` are the pipelines it
 * runs after (their partition specs go along).
 *
 * @throws Error when an upstream the pipeline names is not among `upstreams`
 */
export function launcherConfig(pipeline: CompiledPipeline, upstreams: readonly CompiledPipeline[] = []): LauncherConfig {
  const upstream = pipeline.upstream.map(({ pipeline: name, mapping }) => {
    const found = upstreams.find((u) => u.name === name);
    if (!found) {
      throw new Error(`pipeline "${pipeline.name}" runs after pipeline "${name}", which is not deployed with it. Fix: add "${name}" to the pipelines, or remove it from \`upstream\``);
    }
    return { pipeline: name, partitions: found.partitions, mapping };
  });
  return {
    name: pipeline.name,
    tasks: pipeline.tasks.map((t) => ({ name: t.name, after: [...t.after] })),
    ...(Object.keys(pipeline.params).length > 0 && {
      params: Object.fromEntries(Object.entries(pipeline.params).map(([name, p]) => [name, { type: p.type, default: p.default }])),
    }),
    maxConcurrentRuns: pipeline.maxConcurrentRuns,
    partitionsPerRun: pipeline.partitionsPerRun,
    partitions: pipeline.partitions,
    ...(upstream.length > 0 && { upstream }),
    schedule: pipeline.schedule ? { cron: pipeline.schedule.cron, timezone: pipeline.schedule.timezone } : undefined,
    triggers: pipeline.triggers.map((t) => ({
      kind: t.kind,
      bucket: t.bucket,
      prefix: t.prefix,
      suffix: t.suffix,
      partitionFromKey: t.partitionFromKey
        ? { source: t.partitionFromKey.source, flags: t.partitionFromKey.flags }
        : undefined,
    })),
  };
}

/** The CloudWatch namespace of sluice's own metrics (the launcher's, through Powertools and EMF). */
export const METRICS_NAMESPACE = 'sluice';

/**
 * What the launcher counts, per pipeline (dimension `pipeline`), so that nothing it drops or
 * retries goes unseen. Locally `sluice dev` shows the same counters.
 */
export const LAUNCHER_METRICS = Object.freeze({
  /** Runs started (new runs claimed and their executions started). */
  runsStarted: 'RunsStarted',
  /** New data for a RUNNING partition: a follow-up run requested. */
  rerunsRequested: 'RerunsRequested',
  /** Events whose data version was consumed already: redeliveries, identical re-uploads, repeated ticks. */
  duplicates: 'EventsDuplicate',
  /** Object events matching no trigger of the pipeline (prefix, suffix, partitionFromKey). */
  ignored: 'EventsIgnored',
  /** Object events whose key yields no valid partition: sent to the dead-letter queue. */
  invalid: 'EventsInvalid',
  /** Messages that are not `Object Created` events or miss a field: sent to the dead-letter queue. */
  malformed: 'EventsMalformed',
  /** Launches deferred at `maxConcurrentRuns`, to be delivered again. */
  deferred: 'LaunchesDeferred',
  /** Launches that failed (after the SDK's retries) and are retried by their queue or by Lambda. */
  failed: 'LaunchesFailed',
});

/**
 * Message attributes of a message the launcher moved to its queue's dead-letter queue itself,
 * because it can never start a run: why, and where it came from. (A message that keeps failing
 * for another reason reaches the dead-letter queue by SQS's redrive policy, without them.)
 *
 * @see https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-message-metadata.html
 */
export const DEAD_LETTER_ATTRIBUTES = Object.freeze({
  /** Why the message can never start a run, e.g. `Malformed record: body is not JSON`. */
  reason: 'sluice-reason',
  /** `malformed` or `invalid`, as the launcher's metrics count it. */
  kind: 'sluice-kind',
  /** The ARN of the queue the message was received from: where a redrive sends it back. */
  sourceQueue: 'sluice-source-queue',
  /** The message's id in that queue. */
  messageId: 'sluice-message-id',
});

/**
 * Backfills live in the partition table beside the partitions, under partition-key values no
 * pipeline name can take (names have no `#`): one item per backfill under
 * `backfill#<pipeline>` (sort key: the backfill id, which is its execution's name), and its plan
 * under `backfill#<pipeline>#<id>`, one item per chunk of runs (sort key: the chunk number,
 * zero-padded). So listing a pipeline's backfills, or a backfill's chunks, is one Query.
 */
export const BACKFILL_KEYS = Object.freeze({
  records: (pipeline: string): string => `backfill#${pipeline}`,
  chunks: (pipeline: string, backfillId: string): string => `backfill#${pipeline}#${backfillId}`,
  chunk: (index: number): string => String(index).padStart(6, '0'),
});

/** Statuses of a backfill. */
export type BackfillStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED' | 'ABORTED';

/** Environment variables of a pipeline's backfill function: `LAUNCHER_ENV.pipeline` and `.tableName`. */
export const BACKFILL_ENV = Object.freeze({ pipeline: LAUNCHER_ENV.pipeline, tableName: LAUNCHER_ENV.tableName });

/** Step Functions execution names: 1 to 80 characters; only these keep CloudWatch logging possible. */
const EXECUTION_NAME_MAX = 80;
const NAME_SAFE = /^[A-Za-z0-9_-]+$/;
/** Characters of the digest that tells apart keys whose readable part is the same. */
const DIGEST_LENGTH = 10;

/**
 * The run id of run number `runNumber` of a partition, which is also its execution's name (one
 * word, "run id", for both): `<pipeline>_<partition>_r<runNumber>`,
 * e.g. `daily-sales_2024-01-01_r1`, valid for every partition key and unique per (pipeline, partition,
 * run number), so a run id alone names a run across pipelines.
 *
 * Execution names allow 1 to 80 characters of `[A-Za-z0-9_-]`. A key made of those alone that fits
 * is kept whole (pipeline names have no `_`, so the pipeline and the run number are where the first
 * and last `_` are). Any other key (multi-dimensional keys joined by `|`, `.` or unicode in a key,
 * a key too long for what the pipeline name leaves) is shown with every other character replaced
 * by `_`, cut to fit, followed by `_` and a digest of the exact key (sha-256, 10 base-36
 * characters): `regional-report_2024-01-01_eu_7mul0jqucm_r1`.
 */
export function runIdOf(pipeline: string, partition: string, runNumber: number): string {
  const suffix = `_r${runNumber}`;
  const room = EXECUTION_NAME_MAX - pipeline.length - 1 - suffix.length;
  if (NAME_SAFE.test(partition) && partition.length <= room) return `${pipeline}_${partition}${suffix}`;
  const readable = partition.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, Math.max(0, room - DIGEST_LENGTH - 1));
  return `${pipeline}_${readable}_${digest(partition)}${suffix}`;
}

function digest(text: string): string {
  const hex = createHash('sha256').update(text, 'utf8').digest('hex');
  return BigInt(`0x${hex.slice(0, 13)}`).toString(36).padStart(DIGEST_LENGTH, '0').slice(-DIGEST_LENGTH);
}

/** The pipeline a run id (see {@link runIdOf}) belongs to; `undefined` for a malformed id. */
export function pipelineOfRunId(runId: string): string | undefined {
  const end = runId.indexOf('_');
  return end > 0 ? runId.slice(0, end) : undefined;
}
