import type { ResolvedBackfillRequest } from '../../lib/compile/backfill';
import type { LauncherConfig } from '../../lib/compile/contract';
import type { BackfillRecord, LaunchResult, RecordedResult, RerunResult, RerunSelection, RunOutcome, ScheduledLaunchResult, ScheduleState } from '../../orchestration';
import type { BackfillProgress, CancelMode, StartedBackfill } from '../backfills';
import type { ExecutionRecord } from '../engine';
import type { PartitionView } from '../runtime';
import type { TaskLogEntry, TaskLogFilter } from '../task-logs';

/**
 * What the CLI's day-2 commands (status, runs, run, rerun, logs, backfill, backfills, schedules,
 * pause, resume, tick) do to a stage, whichever stage it is: the local runtime
 * (`LocalOperations`) or a deployed stage through the AWS SDK (`DeployedOperations`, `--stage`).
 * Each command has one code path over this interface; only the implementation differs.
 */
export interface StageOperations {
  /** What the commands say they act on: `the local stage`, `stage prod (eu-west-1)`. */
  readonly where: string;
  /** The local build the runs use (`3f2a9c1e`, as `sluice dev` names it); none for a deployed stage. */
  readonly build?: string;
  /** Names of the pipelines of the stage. */
  pipelineNames(): Promise<string[]>;
  /** A pipeline as deployed: its launcher's configuration. @throws UnknownPipelineError */
  pipeline(name: string): Promise<PipelineInfo>;
  /** The pipeline a run id names. @throws UnknownRunError */
  pipelineOfRun(runId: string): Promise<PipelineInfo>;
  /** Partition statuses in key order, `MISSING` included, over a key range. */
  partitions(name: string, range: { from?: string; to?: string; now: Date }): Promise<PartitionView[]>;
  /** A pipeline's runs, newest first. */
  runs(name: string, limit: number): Promise<ExecutionRecord[]>;
  /** One run with its task attempts, and the task results it recorded. @throws UnknownRunError */
  runDetail(runId: string): Promise<{ execution: ExecutionRecord; results: RecordedResult[] }>;
  /** Starts a run through the pipeline's launcher and waits for it to end. */
  run(name: string, partition: string, params: Readonly<Record<string, unknown>>, onProgress?: RunWatcher): Promise<{ launch: LaunchResult; execution?: ExecutionRecord }>;
  /**
   * Stops the runs this process started (Ctrl+C of `sluice run`); how many it stopped.
   * @default - the runs go on without this process (a deployed stage's do)
   */
  stopStarted?(reason: { error: string; cause: string }): Promise<number>;
  /** A new run of an ended run's partition re-running the selected tasks; waits for it. */
  rerun(runId: string, selection: RerunSelection, onProgress?: RunWatcher): Promise<{ rerun: RerunResult; execution?: ExecutionRecord }>;
  /** What a run's task attempts printed. @throws UnknownRunError, and a usage error for a task that did not run */
  logs(runId: string, filter: TaskLogFilter, from?: number): Promise<RunLogs>;
  /** A pipeline's schedule state. @throws NoScheduleError */
  scheduleState(name: string): Promise<ScheduleState>;
  /** Pauses or resumes a pipeline's schedule. @throws NoScheduleError */
  setScheduleState(name: string, state: ScheduleState): Promise<void>;
  /** One tick of a pipeline's schedule as it would have fired at `at`; waits for the runs it starts. */
  tick(name: string, at: Date): Promise<{ kind: 'paused' } | { kind: 'fired'; result: ScheduledLaunchResult }>;
  /** Starts the pipeline's backfill state machine with a checked request. */
  startBackfill(name: string, request: ResolvedBackfillRequest): Promise<StartedBackfill>;
  backfillProgress(started: StartedBackfill): Promise<BackfillProgress>;
  /** Cancels a backfill; whether it was still running. */
  cancelBackfill(name: string, backfillId: string, mode: CancelMode): Promise<boolean>;
  /** A pipeline's backfills, newest first. */
  listBackfills(name: string): Promise<BackfillRecord[]>;
  /** The outcomes of a backfill's runs that did not succeed. */
  backfillProblems(name: string, backfillId: string): Promise<RunOutcome[]>;
}

/** A pipeline as its stage runs it. */
export interface PipelineInfo {
  readonly name: string;
  /** What its launcher runs by: partitions, schedule, parameters, tasks. */
  readonly config: LauncherConfig;
  /** Names of the Task states that run the pipeline's tasks (not those marking the partition). */
  readonly tasks: ReadonlySet<string>;
  /** Its backfill state machine. */
  readonly backfill?: { readonly arn: string };
}

/** Receives a run's execution as it progresses (attempts included, where the stage tells them). */
export type RunWatcher = (execution: ExecutionRecord) => void;

/** A run's log lines from the `from`-th on, and where to read next. */
export interface RunLogs {
  readonly entries: readonly TaskLogEntry[];
  readonly next: number;
  /** Whether the run is still going (more lines may come). */
  readonly running: boolean;
}
