import {
  backfillRange,
  type BackfillRun,
  chunkRuns,
  groupRuns,
  isSelected,
  resolveBackfillRequest,
} from '../lib/compile/backfill';
import type { LauncherConfig, RunInput } from '../lib/compile/contract';
import { type BackfillRecord, type BackfillStore, MAX_MESSAGE, type RunOutcome } from './backfill-store';
import { claimRun } from './launch';
import type { PartitionStore } from './partition-store';

/**
 * The steps of a pipeline's backfill state machine that need code (the state machine itself
 * starts and waits for the runs). One function serves them all, told apart by `action`.
 */
export type BackfillStep =
  | { readonly action: 'plan'; readonly request: unknown; readonly backfillId: string; readonly executionArn: string }
  | { readonly action: 'chunk'; readonly backfillId: string; readonly chunk: number }
  | { readonly action: 'claim'; readonly backfillId: string; readonly run: BackfillRun }
  | { readonly action: 'ended'; readonly backfillId: string; readonly state: RunState }
  | { readonly action: 'record'; readonly backfillId: string; readonly chunk: number; readonly outcomes: readonly (RunOutcome | readonly RunOutcome[])[] }
  | { readonly action: 'finish'; readonly backfillId: string };

/** What the per-run states of the backfill state machine leave in their state object. */
export interface RunState {
  readonly backfillId: string;
  readonly run: BackfillRun;
  readonly claim?: ClaimStep;
  /** Set when the run's execution succeeded. */
  readonly result?: { readonly status: string };
  /** Set when a step failed: Step Functions' `{ Error, Cause }` as a Catch hands it. */
  readonly failure?: { readonly Error?: string; readonly Cause?: string };
}

/** Output of the `claim` step. */
export type ClaimStep =
  | {
      readonly outcome: 'claimed';
      readonly input: RunInput;
      /** Partitions of a batch that were RUNNING when it was claimed: not part of the run. */
      readonly busy?: readonly string[];
    }
  | { readonly outcome: 'not-run'; readonly result: RunOutcome };

/** Output of the `plan` step: the Distributed Map's items are the chunk numbers. */
export interface BackfillPlan {
  readonly backfillId: string;
  readonly concurrency: number;
  readonly chunks: readonly number[];
}

/** Output of the `finish` step. */
export interface BackfillSummary {
  readonly backfill: BackfillRecord;
  /** One line for the console: the counts, and the first failures. */
  readonly message: string;
}

/**
 * Thrown by the `claim` step while the run's partition is RUNNING or the pipeline is at its
 * limit of concurrent runs: the state machine retries it with backoff, then reports the run
 * `SKIPPED` with the reason (a busy partition is waited for, then reported, never silently skipped).
 */
export class RunNotStartableError extends Error {
  constructor(
    readonly kind: 'busy' | 'deferred',
    message: string,
  ) {
    super(message);
    this.name = 'RunNotStartableError';
  }
}

/** What the backfill steps need. */
export interface BackfillDeps {
  readonly config: LauncherConfig;
  readonly partitions: Pick<PartitionStore, 'get' | 'list' | 'countRunning' | 'claim' | 'markFailed' | 'markSucceeded'>;
  readonly backfills: Pick<BackfillStore, 'create' | 'get' | 'getWithPartition' | 'chunk' | 'recordChunk' | 'end'>;
  readonly clock: () => Date;
}

/** The backfill function's core: one step of a backfill. */
export function backfillSteps(deps: BackfillDeps) {
  const { config } = deps;
  const pipeline = config.name;

  async function plan(step: Extract<BackfillStep, { action: 'plan' }>): Promise<BackfillPlan> {
    const request = resolveBackfillRequest(step.request);
    const now = deps.clock();
    const range = backfillRange(config.partitions, request, now);
    const spec = config.partitions;
    const timeOrdered = spec !== undefined && spec.kind !== 'static' && spec.kind !== 'multi';
    const records = range.length === 0 ? [] : await deps.partitions.list(pipeline, timeOrdered ? { from: range[0], to: range.at(-1) } : {});
    const statuses = new Map(records.map((r) => [r.partition, r.status]));
    const selected = new Set(range.filter((key) => isSelected(request.only, statuses.get(key) ?? 'MISSING')));
    const runs = groupRuns(range, selected, config.partitionsPerRun ?? 1);
    const chunks = chunkRuns(runs, request.concurrency);
    const record = await deps.backfills.create(
      {
        pipeline,
        backfillId: step.backfillId,
        request,
        executionArn: step.executionArn,
        createdAt: now.toISOString(),
        partitions: selected.size,
        runs: runs.length,
      },
      chunks,
    );
    return { backfillId: record.backfillId, concurrency: record.request.concurrency, chunks: Array.from({ length: record.chunks }, (_, i) => i) };
  }

  async function chunk(step: Extract<BackfillStep, { action: 'chunk' }>) {
    const record = await deps.backfills.get(pipeline, step.backfillId);
    const runs = await deps.backfills.chunk(pipeline, step.backfillId, step.chunk);
    // A cancelled backfill starts nothing more; its runs are counted as cancelled.
    return { backfillId: step.backfillId, chunk: step.chunk, cancelled: record?.cancelRequested === true, runs };
  }

  async function claim(step: Extract<BackfillStep, { action: 'claim' }>): Promise<ClaimStep> {
    const { run } = step;
    const { backfill: record, partition: read } = await deps.backfills.getWithPartition(pipeline, step.backfillId, run.partition);
    if (record?.cancelRequested) return { outcome: 'not-run', result: { ...runKeys(run), status: 'CANCELLED' } };
    const now = deps.clock();
    const result = await claimRun({ config, partition: run.partition, trigger: 'backfill' }, { store: deps.partitions, now, read });
    switch (result.kind) {
      case 'claimed': {
        // Its partition events then tell the pipelines that run after this one not to start.
        const claimedInput: RunInput = record?.request.downstream === false ? { ...result.input, downstream: false } : result.input;
        if (!run.partitions) return { outcome: 'claimed', input: claimedInput };
        // The other partitions of a batch are claimed for the same run; one busy meanwhile is
        // left to the run that has it, and reported skipped.
        const claimed = [run.partition];
        const busy: string[] = [];
        for (const partition of run.partitions.slice(1)) {
          const member = await deps.partitions.claim(pipeline, partition, { trigger: 'backfill', now, runId: result.input.runId });
          (member.kind === 'claimed' ? claimed : busy).push(partition);
        }
        const input: RunInput = { ...claimedInput, partitions: claimed, range: { from: claimed[0]!, to: claimed.at(-1)! } };
        return { outcome: 'claimed', input, ...(busy.length > 0 && { busy }) };
      }
      case 'skipped':
        throw new RunNotStartableError('busy', `partition "${run.partition}" is already running (run ${result.runId})`);
      case 'deferred':
        throw new RunNotStartableError('deferred', result.reason);
    }
  }

  async function ended(step: Extract<BackfillStep, { action: 'ended' }>): Promise<RunOutcome[]> {
    const { run, claim: claimed, result, failure } = step.state;
    if (claimed?.outcome === 'not-run') return [claimed.result];
    if (!claimed) {
      // The claim step gave up: still busy or at the limit after waiting, or an error.
      const skipped = failure?.Error === 'RunNotStartableError';
      return [{ ...runKeys(run), status: skipped ? 'SKIPPED' : 'FAILED', ...errorOf(failure, skipped ? undefined : failure?.Error) }];
    }
    const { runId, partitions = [run.partition] } = claimed.input;
    const ran: Pick<RunOutcome, 'partition' | 'partitions'> = partitions.length > 1 ? { partition: run.partition, partitions } : { partition: run.partition };
    const busy: RunOutcome[] = (claimed.busy ?? []).map((partition) => ({ partition, status: 'SKIPPED', message: 'already running when its batch was claimed' }));
    const now = deps.clock();
    if (result) {
      // The run marked its first partition; the others of a batch share its outcome.
      for (const partition of partitions.slice(1)) await deps.partitions.markSucceeded(pipeline, partition, runId, { now });
      return [{ ...ran, status: 'SUCCEEDED', runId }, ...busy];
    }
    const { error, message } = runError(failure);
    // The run marks its own failure; this covers a run whose execution never started, and the
    // other partitions of a batch.
    for (const partition of partitions) await deps.partitions.markFailed(pipeline, partition, runId, { error, cause: message ?? '', now });
    return [{ ...ran, status: 'FAILED', runId, error, ...(message !== undefined && { message }) }, ...busy];
  }

  async function record(step: Extract<BackfillStep, { action: 'record' }>): Promise<{ readonly recorded: number }> {
    // One list of outcomes per run (a batch's busy partitions have their own).
    const outcomes = step.outcomes.flat();
    await deps.backfills.recordChunk(pipeline, step.backfillId, step.chunk, outcomes);
    return { recorded: outcomes.length };
  }

  async function finish(step: Extract<BackfillStep, { action: 'finish' }>): Promise<BackfillSummary> {
    const before = await deps.backfills.get(pipeline, step.backfillId);
    if (!before) throw new Error(`Backfill ${step.backfillId} of pipeline "${pipeline}" is not recorded`);
    const status = before.cancelRequested ? 'CANCELLED' : before.failed + before.skipped > 0 ? 'FAILED' : 'SUCCEEDED';
    await deps.backfills.end(pipeline, step.backfillId, status, {
      now: deps.clock(),
      ...(status === 'CANCELLED' && { reason: 'cancelled: runs not yet started were not started' }),
    });
    const backfill = (await deps.backfills.get(pipeline, step.backfillId)) ?? before;
    return { backfill, message: summaryLine(backfill) };
  }

  return async (step: BackfillStep): Promise<unknown> => {
    switch (step.action) {
      case 'plan':
        return plan(step);
      case 'chunk':
        return chunk(step);
      case 'claim':
        return claim(step);
      case 'ended':
        return ended(step);
      case 'record':
        return record(step);
      case 'finish':
        return finish(step);
      default:
        throw new Error(`Unknown backfill step ${JSON.stringify((step as { action?: unknown }).action)}`);
    }
  };
}

/** `backfill b-1 of daily-sales: 998 of 1000 partitions succeeded, 2 failed, 0 skipped`. */
export function summaryLine(backfill: BackfillRecord): string {
  const parts = [`${backfill.succeeded} of ${backfill.partitions} partitions succeeded`, `${backfill.failed} failed`, `${backfill.skipped} skipped`];
  if (backfill.cancelled > 0) parts.push(`${backfill.cancelled} cancelled`);
  return `backfill ${backfill.backfillId} of ${backfill.pipeline} ${backfill.status}: ${parts.join(', ')}`;
}

function runKeys(run: BackfillRun): Pick<RunOutcome, 'partition' | 'partitions'> {
  return run.partitions ? { partition: run.partition, partitions: run.partitions } : { partition: run.partition };
}

function truncate(text: string): string {
  return text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE - 1)}…` : text;
}

function errorOf(failure: RunState['failure'], error: string | undefined): Pick<RunOutcome, 'error' | 'message'> {
  const message = failure?.Cause ? truncate(messageOf(failure.Cause)) : undefined;
  return { ...(error !== undefined && { error }), ...(message !== undefined && { message }) };
}

/**
 * The error of a run whose `startExecution.sync` step failed: for a run that ended badly,
 * `States.TaskFailed` with the execution's description (holding its `Error` and `Cause`) as the
 * cause; for a run that could not start, the Step Functions error itself.
 */
function runError(failure: RunState['failure']): { error: string; message?: string } {
  if (failure?.Error === 'States.TaskFailed' && failure.Cause) {
    try {
      const described = JSON.parse(failure.Cause) as { Status?: string; Error?: string; Cause?: string };
      const error = described.Error ?? `States.${described.Status ?? 'Failed'}`;
      return { error, ...(described.Cause ? { message: truncate(messageOf(described.Cause)) } : {}) };
    } catch {
      // Not a description: keep the cause as it is.
    }
  }
  return { error: failure?.Error ?? 'States.Runtime', ...(failure?.Cause ? { message: truncate(messageOf(failure.Cause)) } : {}) };
}

/** The message in a Step Functions cause: a Lambda error's `errorMessage`, else the text. */
function messageOf(cause: string): string {
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string') return parsed.errorMessage;
  } catch {
    // Not JSON: the cause is the message.
  }
  return cause;
}
