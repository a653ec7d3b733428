import type { ParamDefinition } from './params';
import type { PartitionSpec } from './partitions';
import type { RetryPolicy } from './retry';
import type { TaskDefinition } from './task';
import type { Schedule, Trigger } from './triggers';
import type { Upstreams } from './upstream';

/** Properties of a pipeline. */
export interface PipelineProps {
  /**
   * Unique name: lowercase letters, digits and `-`, starting with a letter, at most 40 characters
   * (it prefixes the names of the state machine and the Lambda functions).
   */
  readonly name: string;
  /**
   * Human-readable description, shown by `sluice list`.
   *
   * @default - none
   */
  readonly description?: string;
  /**
   * How the pipeline's data is partitioned. Every run processes one partition.
   *
   * @default - unpartitioned: every run uses the partition key `default`
   */
  readonly partitions?: PartitionSpec;
  /**
   * When to run on a clock.
   *
   * @default - no schedule
   */
  readonly schedule?: Schedule;
  /**
   * Events that start a run.
   *
   * @default - none
   */
  readonly triggers?: readonly Trigger[];
  /**
   * Pipelines this one runs after, each with how its partitions map to this pipeline's: a
   * partition runs once, as soon as the upstream partitions it maps to have all succeeded, in
   * whatever order they end (e.g. `{ 'load-sales': sameKey(), 'load-rates': sameKey() }`, or
   * `{ 'hourly-ingest': timeWindow() }` for a daily pipeline after an hourly one). Upstreams must
   * be pipelines of the same project; a cycle is a validation error.
   *
   * @default - none
   */
  readonly upstream?: Upstreams;
  /**
   * Retry policy of every task, unless the task overrides it.
   *
   * @default - 3 attempts, 5 s interval, backoff rate 2, no jitter
   */
  readonly retry?: RetryPolicy;
  /**
   * Runs of this pipeline that may be in progress at once (Airflow's `max_active_runs`). A launch
   * finding this many partitions RUNNING is deferred: an S3 arrival stays in its queue and is
   * delivered again later (after `maxReceiveCount` deliveries it moves to the dead-letter queue,
   * from where it can be redriven), a schedule tick is retried, and `sluice run` or a backfill is
   * told `deferred`. Best effort: launches racing for the last slot may both start.
   *
   * @default 10
   */
  readonly maxConcurrentRuns?: number;
  /**
   * How `sluice backfill` (and the pipeline's backfill state machine) runs ranges of partitions.
   *
   * @default - one partition per run
   */
  readonly backfill?: BackfillOptions;
  /**
   * Run parameters, by name (letters, digits and `_`): every task receives them in `event.params`.
   * A launch may give some (`sluice run --param name=value`); the others take their default.
   *
   * @default - none
   */
  readonly params?: Readonly<Record<string, ParamDefinition>>;
  /** The tasks, by name. Names: letters, digits, `-` and `_`, at most 40 characters. */
  readonly tasks: Readonly<Record<string, TaskDefinition>>;
}

/** How backfills run a pipeline's partitions. */
export interface BackfillOptions {
  /**
   * Consecutive partitions one backfill run processes (a reload in small batches): the task event
   * carries them in `partitions` and their range in `range`, and each is marked with the run's
   * outcome. Runs started otherwise (schedules, arrivals, `sluice run`) always hold one.
   *
   * @default 1
   */
  readonly partitionsPerRun?: number;
}

/** A pipeline as declared: an immutable value. Compile it with `compilePipeline`. */
export interface PipelineDefinition extends PipelineProps {
  readonly kind: 'pipeline';
}

/** Declares a pipeline. Export it as the default export of `pipelines/<name>/pipeline.ts`. */
export function pipeline(props: PipelineProps): PipelineDefinition {
  return Object.freeze({
    kind: 'pipeline',
    ...props,
    tasks: Object.freeze({ ...props.tasks }),
    triggers: props.triggers ? Object.freeze([...props.triggers]) : undefined,
    upstream: props.upstream ? Object.freeze({ ...props.upstream }) : undefined,
    params: props.params ? Object.freeze({ ...props.params }) : undefined,
  });
}
