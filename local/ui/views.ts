/**
 * What the console's JSON API returns: shared by the server (which builds these) and the browser
 * app (which renders them). Types only, so that the browser bundle imports nothing of Node.js.
 */

/** Statuses of a run (a Step Functions execution). */
export type RunStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

/** Statuses of a partition. */
export type PartitionStatus = 'MISSING' | 'RUNNING' | 'SUCCEEDED' | 'FAILED';

/** One run in a list. */
export interface RunSummary {
  readonly runId: string;
  readonly partition?: string;
  readonly trigger?: string;
  readonly status: RunStatus;
  readonly startDate: string;
  readonly stopDate?: string;
  readonly durationMs?: number;
  readonly error?: string;
  readonly errorMessage?: string;
}

/** A pipeline as the overview lists it. */
export interface PipelineSummary {
  readonly name: string;
  readonly description?: string;
  /** `daily from 2024-01-01 (UTC)`. */
  readonly partitions: string;
  /** `next` is absent while the schedule is paused, or when it never fires again. */
  readonly schedule?: { readonly cron: string; readonly timezone: string; readonly state: ScheduleStateView; readonly next?: string };
  /** `s3://raw/sales/*.csv`, one per trigger. */
  readonly triggers: readonly string[];
  readonly lastRun?: RunSummary;
  /** Runs that failed, timed out or were aborted, started in the last 24 hours. */
  readonly failures24h: number;
  readonly running: number;
  /** Backfills of the pipeline still running. */
  readonly backfillsRunning: number;
}

/** Whether a schedule fires (EventBridge Scheduler's `State`). */
export type ScheduleStateView = 'ENABLED' | 'PAUSED';

/** A run parameter the pipeline declares: the "run a partition" form has a field per parameter. */
export interface ParamView {
  readonly name: string;
  readonly type: 'string' | 'number' | 'boolean';
  readonly default: string | number | boolean;
  readonly description?: string;
}

/** An alert the stage published (the alert topic's messages). */
export interface AlertView {
  readonly time: string;
  readonly subject?: string;
  readonly message: string;
}

export interface OverviewView {
  readonly stage: string;
  readonly pipelines: readonly PipelineSummary[];
  /** Newest first. */
  readonly alerts: readonly AlertView[];
}

/** A task of the graph with its direct dependencies. */
export interface TaskNode {
  readonly name: string;
  readonly after: readonly string[];
}

/** How the grid lays out a pipeline's partitions. */
export type GridKind = 'hourly' | 'daily' | 'weekly' | 'monthly' | 'static' | 'multi' | 'none';

export interface PipelineView extends PipelineSummary {
  readonly grid: GridKind;
  /** Names of the dimensions of multi-partitions, in key order; the time dimension's index. */
  readonly dimensions?: { readonly names: readonly string[]; readonly timeIndex: number };
  readonly tasks: readonly TaskNode[];
  /** Newest first. */
  readonly runs: readonly RunSummary[];
  readonly params: readonly ParamView[];
  /** Most runs in flight at once: the highest concurrency a backfill may ask for. */
  readonly maxConcurrentRuns: number;
}

/**
 * Partition statuses over a range, compact enough for 100,000 partitions: `statuses[i]` is the
 * first letter of the status of `keys[i]` (`M`issing, `R`unning, `S`ucceeded, `F`ailed).
 */
export interface PartitionGridView {
  readonly pipeline: string;
  readonly grid: GridKind;
  readonly keys: readonly string[];
  readonly statuses: string;
  readonly counts: Readonly<Record<PartitionStatus, number>>;
  /** Set when the pipeline has more partitions than the grid shows: the range shown is the latest. */
  readonly truncated?: { readonly total?: number; readonly from: string };
}

/** A partition's record. */
export interface PartitionDetail {
  readonly pipeline: string;
  readonly partition: string;
  readonly status: PartitionStatus;
  /** Which run of the partition its record is about (1 for the first). */
  readonly runNumber?: number;
  readonly runId?: string;
  readonly trigger?: string;
  readonly claimedAt?: string;
  readonly finishedAt?: string;
  readonly error?: string;
  readonly errorMessage?: string;
}

/** One try of one task. */
export interface AttemptView {
  readonly task: string;
  readonly attempt: number;
  readonly mapIndex?: number;
  readonly status: 'RUNNING' | 'SUCCEEDED' | 'FAILED';
  readonly startDate: string;
  readonly endDate?: string;
  readonly durationMs?: number;
  readonly error?: string;
  readonly errorMessage?: string;
}

/** A run with every task attempt. */
export interface RunDetail {
  readonly pipeline: string;
  readonly partition: string;
  readonly runId: string;
  /** Which run of its partition this is (1 for the first). */
  readonly runNumber: number;
  readonly trigger?: string;
  readonly status: RunStatus;
  readonly executionArn: string;
  readonly startDate: string;
  readonly stopDate?: string;
  readonly durationMs?: number;
  readonly error?: string;
  readonly errorMessage?: string;
  readonly cause?: string;
  readonly output?: unknown;
  /** The run's parameters, as its tasks received them. */
  readonly params: Readonly<Record<string, unknown>>;
  /** Tasks not executed, each with the run whose recorded result it reused (a rerun). */
  readonly reused: Readonly<Record<string, string>>;
  readonly attempts: readonly AttemptView[];
  /** The execution in the Step Functions console, for a deployed stage. */
  readonly consoleUrl?: string;
  /** The tasks of the pipeline, to choose what a rerun executes. */
  readonly tasks: readonly string[];
  /** What the task attempts printed, in order (what `sluice logs` reads). */
  readonly logs: readonly LogLineView[];
  /** The results the run recorded, per task (executed or reused). */
  readonly results: readonly TaskResultView[];
}

/** One line a task attempt printed. */
export interface LogLineView {
  readonly time: string;
  readonly task: string;
  readonly attempt: number;
  readonly stream: 'stdout' | 'stderr';
  readonly message: string;
}

/** A task's result as a run recorded it. */
export interface TaskResultView {
  readonly task: string;
  readonly value: unknown;
  readonly recordedAt?: string;
}

/** Which tasks a rerun executes: as `sluice rerun` (from failure, `--from-task`, `--tasks`). */
export type RerunSelectionView =
  | { readonly kind: 'failed' }
  | { readonly kind: 'from-task'; readonly task: string }
  | { readonly kind: 'tasks'; readonly tasks: readonly string[] };

/** Outcome of a rerun action: the plan, and the run it started (or why it did not). */
export interface RerunView {
  readonly rerunOf: string;
  readonly plan: { readonly rerun: readonly string[]; readonly alsoRerun: readonly string[]; readonly reuse: Readonly<Record<string, string>> };
  readonly launch: LaunchView;
}

/** Which partitions of the range a backfill runs. */
export type BackfillOnlyView = 'all' | 'missing' | 'failed' | 'missing,failed';

/** A backfill with its progress. */
export interface BackfillView {
  readonly pipeline: string;
  readonly backfillId: string;
  /** `PLANNING` until its plan step has recorded it. */
  readonly status: 'PLANNING' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED' | 'ABORTED';
  readonly from?: string;
  readonly to?: string;
  readonly only?: BackfillOnlyView;
  readonly concurrency?: number;
  readonly partitions: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly skipped: number;
  readonly cancelled: number;
  readonly cancelRequested?: boolean;
  readonly createdAt?: string;
  readonly finishedAt?: string;
  readonly reason?: string;
  /** Why it failed before it ran anything (its plan step's error). */
  readonly error?: string;
}

/** Outcome of the "run a partition" action, as the launcher reports it. */
export type LaunchView =
  | { readonly kind: 'started'; readonly partition: string; readonly runId: string; readonly runNumber: number }
  /** Not started: already running, at the concurrency limit, or already run for the same data. */
  | { readonly kind: 'skipped' | 'deferred' | 'duplicate'; readonly partition: string; readonly reason: string; readonly runId?: string };

/** An error the API returns, with the HTTP status. */
export interface ApiError {
  readonly error: string;
}

/** Server-sent events: `change` when something a page shows may have changed. */
export interface ChangeEvent {
  /** The pipeline whose runs or partitions changed; absent for alerts and the like. */
  readonly pipeline?: string;
  readonly what: 'run' | 'alert' | 'backfill' | 'schedule';
}
