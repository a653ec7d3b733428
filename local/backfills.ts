import {
  BackfillRequestError,
  backfillRange,
  type BackfillRequest,
  resolveBackfillRequest,
  type ResolvedBackfillRequest,
} from '../lib/compile/backfill';
import type { BackfillRecord, BackfillStore, PartitionStore, RunOutcome } from '../orchestration';
import type { ExecutionRecord } from './engine';
import type { LocalRuntime } from './runtime';
import type { PipelineInfo } from './operations/operations';

/**
 * Backfill operations on the local runtime, for the CLI and the console (and, through
 * `BackfillAccess`, on a deployed stage):
 * check a request, start the pipeline's backfill state machine, follow its progress, cancel it,
 * list backfills. The work itself is the state machine's, run from cdk.out like every other.
 */

/** Partitions a backfill may span without `--yes`: a typo in a range should not start a year of runs. */
export const BACKFILL_CONFIRM_ABOVE = 10_000;

/** A request checked against the pipeline, before anything starts. */
export interface CheckedBackfill {
  readonly request: ResolvedBackfillRequest;
  /** Partitions in the range (before `only` selects among them). */
  readonly rangeSize: number;
}

/**
 * Checks a request as the state machine's plan step will, plus what only a user can confirm:
 * so bad input is refused with a message and never leaves a half-started backfill.
 *
 * @throws BackfillRequestError naming the problem and the fix
 */
export function checkBackfill(pipeline: Pick<PipelineInfo, 'name' | 'config' | 'backfill'>, input: BackfillRequest, options: { now: Date; yes?: boolean }): CheckedBackfill {
  if (!pipeline.backfill) {
    throw new BackfillRequestError(`pipeline "${pipeline.name}" has no backfill state machine; synthesize (or deploy) it again`);
  }
  const request = resolveBackfillRequest(input);
  const limit = pipeline.config.maxConcurrentRuns;
  if (request.concurrency > limit) {
    throw new BackfillRequestError(
      `--concurrency ${request.concurrency} is above the maxConcurrentRuns of pipeline "${pipeline.name}" (${limit}): runs beyond it would only wait; lower --concurrency or raise maxConcurrentRuns`,
    );
  }
  const rangeSize = backfillRange(pipeline.config.partitions, request, options.now).length;
  if (rangeSize > BACKFILL_CONFIRM_ABOVE && !options.yes) {
    throw new BackfillRequestError(
      `the range holds ${rangeSize.toLocaleString('en-US')} partitions, more than ${BACKFILL_CONFIRM_ABOVE.toLocaleString('en-US')}; add --yes to run them all, or narrow --from/--to`,
    );
  }
  return { request, rangeSize };
}

/** A backfill's id: its execution's name, sortable by start time. */
export function newBackfillId(now: Date): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
  return `bf-${stamp}-${crypto.randomUUID().slice(0, 8)}`;
}

/** A started backfill. */
export interface StartedBackfill {
  readonly pipeline: string;
  readonly backfillId: string;
  readonly executionArn: string;
}

/** Starts the pipeline's backfill state machine with the request as its input. */
export async function startBackfill(runtime: LocalRuntime, name: string, request: ResolvedBackfillRequest, now = new Date()): Promise<StartedBackfill> {
  const pipeline = runtime.pipeline(name);
  if (!pipeline.backfill) throw new BackfillRequestError(`pipeline "${name}" has no backfill state machine in the local stage`);
  const backfillId = newBackfillId(now);
  const { executionArn } = await runtime.engine.startExecution({ stateMachineArn: pipeline.backfill.arn, name: backfillId, input: JSON.stringify(request) });
  return { pipeline: name, backfillId, executionArn };
}

/** Where a backfill is: its record (once planned), its execution, and the pipeline's runs in flight. */
export interface BackfillProgress {
  /** Absent until the plan step has recorded it. */
  readonly record?: BackfillRecord;
  readonly execution: ExecutionRecord;
  /** Partitions of the pipeline RUNNING now (the backfill's, and any other's). */
  readonly running: number;
}

export async function backfillProgress(runtime: LocalRuntime, started: StartedBackfill): Promise<BackfillProgress> {
  return progressOf(await localBackfillAccess(runtime, started.pipeline), started);
}

/** How a cancel treats the runs in flight. */
export type CancelMode = 'finish' | 'stop';

/**
 * Cancels a backfill. `finish`: no run starts any more, those in flight finish, and the backfill
 * ends CANCELLED. `stop`: the backfill's execution is stopped, which stops its runs in flight
 * (their partitions end FAILED, as any aborted run's), and it is marked CANCELLED at once.
 * Returns whether the backfill was still running.
 */
export async function cancelBackfill(runtime: LocalRuntime, name: string, backfillId: string, mode: CancelMode): Promise<boolean> {
  return cancelWith(await localBackfillAccess(runtime, name), name, backfillId, mode);
}

/** The outcomes of a backfill's runs that did not succeed. */
export async function backfillProblems(runtime: LocalRuntime, name: string, backfillId: string): Promise<RunOutcome[]> {
  return problemsOf(await runtime.backfillStore(name), name, backfillId);
}

/**
 * What the backfill operations read and call, on the local stage or on a deployed one (see
 * `DeployedOperations`): the pipeline's table, and its executions.
 */
export interface BackfillAccess {
  readonly backfills: BackfillStore;
  readonly partitions: PartitionStore;
  describeExecution(executionArn: string): Promise<ExecutionRecord> | ExecutionRecord;
  stopExecution(executionArn: string, reason: { error: string; cause: string }): Promise<unknown>;
}

async function localBackfillAccess(runtime: LocalRuntime, name: string): Promise<BackfillAccess> {
  return {
    backfills: await runtime.backfillStore(name),
    partitions: await runtime.partitionStore(name),
    describeExecution: (arn) => runtime.engine.describeExecution(arn),
    stopExecution: (arn, reason) => runtime.engine.stopExecution(arn, reason),
  };
}

/** {@link backfillProgress} over any stage's access. */
export async function progressOf(access: BackfillAccess, started: StartedBackfill): Promise<BackfillProgress> {
  const [record, running, execution] = await Promise.all([
    access.backfills.get(started.pipeline, started.backfillId),
    access.partitions.countRunning(started.pipeline),
    access.describeExecution(started.executionArn),
  ]);
  return { ...(record && { record }), execution, running };
}

/** {@link cancelBackfill} over any stage's access. */
export async function cancelWith(access: BackfillAccess, name: string, backfillId: string, mode: CancelMode): Promise<boolean> {
  const store = access.backfills;
  const asked = await store.requestCancel(name, backfillId);
  if (mode === 'finish' || !asked) return asked;
  const record = await store.get(name, backfillId);
  if (record) await access.stopExecution(record.executionArn, { error: 'sluice.BackfillCancelled', cause: 'Cancelled: runs in flight were stopped' });
  await store.end(name, backfillId, 'CANCELLED', { now: new Date(), reason: 'cancelled: runs in flight were stopped' });
  return true;
}

/** {@link backfillProblems} from a stage's backfill records. */
export async function problemsOf(store: BackfillStore, name: string, backfillId: string): Promise<RunOutcome[]> {
  const outcomes = await store.outcomes(name, backfillId);
  return outcomes.filter((o) => o.status === 'FAILED' || o.status === 'SKIPPED');
}

/** The pipeline's backfills, newest first. */
export async function listBackfills(runtime: LocalRuntime, name: string): Promise<BackfillRecord[]> {
  runtime.pipeline(name);
  return (await runtime.backfillStore(name)).list(name);
}
