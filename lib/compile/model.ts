import type { ParamDefinition } from '../definitions/params';
import type { PartitionSpec } from '../definitions/partitions';
import type { ResolvedRetryPolicy } from '../definitions/retry';
import type { SensorSchedule } from '../definitions/task';
import type { Trigger } from '../definitions/triggers';
import type { PartitionMapping } from '../definitions/upstream';

/**
 * The shape of a run: a series-parallel tree over task names. `sequence` runs its steps one after
 * another, `parallel` runs its branches at once and waits for all of them.
 */
export type Flow =
  | { readonly kind: 'task'; readonly task: string }
  | { readonly kind: 'sequence'; readonly steps: readonly Flow[] }
  | { readonly kind: 'parallel'; readonly branches: readonly Flow[] };

/** A task with every default applied. */
export interface CompiledTask {
  readonly name: string;
  /** Handler path as declared, relative to the pipeline's folder. */
  readonly handler: string;
  /** Direct dependencies. */
  readonly after: readonly string[];
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
  readonly retry: ResolvedRetryPolicy;
  readonly environment: Readonly<Record<string, string>>;
  /** Logical buckets the task reads, those it reads and writes, and those it also deletes objects in. */
  readonly buckets: { readonly read: readonly string[]; readonly write: readonly string[]; readonly delete: readonly string[] };
  /** Logical names of the secrets the task reads, as declared. */
  readonly secrets: readonly string[];
  /** A sensor's schedule; `timeoutSeconds` above is then the timeout of one check. */
  readonly sensor?: SensorSchedule;
}

/** The error a sensor fails with when its condition did not hold within its `timeoutSeconds`. */
export const SENSOR_TIMEOUT_ERROR = 'SensorTimeoutError';

/** The error a sensor fails with when its handler returned something other than `true` or `false`. */
export const SENSOR_RESULT_ERROR = 'SensorResultError';

/**
 * How many checks a sensor makes at most: at 0, `intervalSeconds`, 2 × `intervalSeconds`, … up
 * to `timeoutSeconds` after the first. The time the checks themselves take comes on top.
 */
export function sensorMaxChecks(sensor: SensorSchedule): number {
  return Math.floor(sensor.timeoutSeconds / sensor.intervalSeconds) + 1;
}

/** A schedule with its defaults applied. */
export interface CompiledSchedule {
  /** The five-field cron expression as declared. */
  readonly cron: string;
  readonly timezone: string;
  /** The same schedule as an EventBridge Scheduler expression: `cron(0 2 * * ? *)`. */
  readonly expression: string;
}

/** A validated pipeline, ready for the constructs and the local runtime. */
export interface CompiledPipeline {
  readonly name: string;
  readonly description?: string;
  readonly partitions?: PartitionSpec;
  readonly schedule?: CompiledSchedule;
  readonly triggers: readonly Trigger[];
  /** Pipelines this one runs after, in declaration order (see `PipelineProps.upstream`). */
  readonly upstream: readonly { readonly pipeline: string; readonly mapping: PartitionMapping }[];
  readonly maxConcurrentRuns: number;
  /** Consecutive partitions one backfill run processes. */
  readonly partitionsPerRun: number;
  /** Run parameters by name (empty when none are declared). */
  readonly params: Readonly<Record<string, ParamDefinition>>;
  /** Tasks in a topological order. */
  readonly tasks: readonly CompiledTask[];
  /** How the tasks are arranged in the state machine. */
  readonly flow: Flow;
}

/** Partition key of runs of an unpartitioned pipeline. */
export const UNPARTITIONED_KEY = 'default';

/** Most partitions one backfill run may process (`backfill.partitionsPerRun`). */
export const MAX_PARTITIONS_PER_RUN = 1000;

export const TASK_DEFAULTS = Object.freeze({ timeoutSeconds: 300, memoryMb: 512, maxConcurrentRuns: 10 });
