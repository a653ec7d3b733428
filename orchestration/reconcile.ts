import { DescribeExecutionCommand, type DescribeExecutionCommandOutput } from '@aws-sdk/client-sfn';
import { PublishCommand } from '@aws-sdk/client-sns';
import type { RunRef } from '../lib/compile/contract';
import { consumedBy } from './consumed';
import type { StartExecutionClient } from './launch';
import type { PartitionRecord, PartitionStore } from './partition-store';
import {
  FAILED_EXECUTION_STATUSES,
  formatLaunchInterruptedAlert,
  handleStatusChange,
  RerunDeferredError,
  type RerunLaunch,
  rerunIfRequested,
  type ExecutionStatusChangeEvent,
  type RunMonitorDeps,
  type StatusChangeResult,
} from './run-monitor';

/**
 * How old a claim, or the end of an execution, must be before reconciliation acts on it. A
 * launcher may be between its claim and StartExecution (its timeout is 30 seconds), and the
 * status-change event of an execution that just ended may still be on its way to the monitor.
 * Five minutes is far beyond both, and short next to the 10-minute reconciliation schedule.
 */
export const RECONCILE_GRACE_MS = 5 * 60_000;

/** Error recorded on a partition whose launch stopped between its claim and StartExecution. */
export const LAUNCH_INTERRUPTED_ERROR = 'sluice.LaunchInterrupted';

/** The one Step Functions read reconciliation makes; `SFNClient` satisfies it. */
export interface DescribeExecutionClient {
  send(command: DescribeExecutionCommand): Promise<DescribeExecutionCommandOutput>;
}

/** What `reconcilePartitions` needs: the run monitor's deps, able to read partitions and executions. */
export interface ReconcileDeps extends RunMonitorDeps {
  readonly store: RunMonitorDeps['store'] & Pick<PartitionStore, 'listRerunRequested' | 'listRunning' | 'markSucceeded'>;
  /** Describes the executions of RUNNING partitions and starts requested reruns. */
  readonly sfn: StartExecutionClient & DescribeExecutionClient;
}

/** A partition whose claim never became an execution, now FAILED. */
export interface InterruptedLaunch {
  readonly partition: string;
  readonly runId: string;
  /** The launch of the rerun an S3 arrival requested while the partition was claimed, if any. */
  readonly rerun?: RerunLaunch;
}

/** A partition whose execution ended unheard of, now handled as if its status change had arrived. */
export interface RecoveredRun {
  readonly partition: string;
  readonly runId: string;
  /** The execution's final status. */
  readonly status: string;
  readonly result: StatusChangeResult;
}

/** A rerun requested of a run that ended, which no status change had started. */
export interface StrandedRerun {
  readonly partition: string;
  /** The ended run the rerun was requested of. */
  readonly runId: string;
  readonly rerun: RerunLaunch;
}

/** Options of `reconcilePartitions`. */
export interface ReconcileOptions {
  /**
   * How old a claim, or the end of an execution, must be before reconciliation acts on it. Only a
   * caller that knows no launch can be in progress and no status change on its way (the local
   * runtime, starting when no other process uses its state) may shorten it.
   *
   * @default RECONCILE_GRACE_MS
   */
  readonly graceMs?: number;
}

/** Outcome of `reconcilePartitions`. */
export interface ReconcileSummary {
  /** How many RUNNING partitions were checked. */
  readonly checked: number;
  readonly failed: readonly InterruptedLaunch[];
  readonly recovered: readonly RecoveredRun[];
  readonly reruns: readonly StrandedRerun[];
  /**
   * Partitions whose requested rerun waits at the pipeline's `maxConcurrentRuns`: the request
   * stays on the partition and the next reconciliation starts it.
   */
  readonly deferred: readonly { readonly partition: string; readonly reason: string }[];
}

/**
 * Makes sure no partition of the monitored pipeline stays RUNNING forever, whatever was lost on
 * the way: run periodically by the run monitor. For every RUNNING partition, the execution named
 * by its run id is described:
 *
 * - none exists and the claim is older than `RECONCILE_GRACE_MS`: the launcher stopped between
 *   its claim and StartExecution. The partition is marked FAILED (`sluice.LaunchInterrupted`),
 *   alerted about, and the rerun an S3 arrival requested meanwhile is started.
 * - it ended longer than `RECONCILE_GRACE_MS` ago: its status change (best effort on
 *   EventBridge) never reached the monitor. The event is rebuilt from DescribeExecution and
 *   handled by `handleStatusChange`: alert, FAILED and requested rerun as if it had arrived.
 *   A SUCCEEDED execution is first recorded SUCCEEDED: its "Mark succeeded" state writes before
 *   the execution can succeed, so a partition still RUNNING under it was rewritten by something
 *   else, and the execution's outcome is the truth. Left RUNNING, it would also keep its own
 *   requested rerun from claiming the partition.
 * - it is still running: left alone.
 *
 * Then every partition that ended longer than `RECONCILE_GRACE_MS` ago with a rerun still
 * requested (the monitor missed its end, or the rerun was deferred at the pipeline's limit) has
 * that rerun started. Both lists come from sparse indexes of the table (running partitions,
 * requested reruns), so a pass reads only the partitions it may act on, never the history.
 *
 * A rerun deferred at the pipeline's limit does not fail the reconciliation: it is reported in
 * `deferred` and started by a later one. Acting on an event that arrives after all repeats
 * nothing but its alert: every write is conditioned on the partition still being RUNNING under
 * that run, and a rerun's claim clears its request.
 */
export async function reconcilePartitions(deps: ReconcileDeps, options: ReconcileOptions = {}): Promise<ReconcileSummary> {
  const graceMs = options.graceMs ?? RECONCILE_GRACE_MS;
  const running = await deps.store.listRunning(deps.config.name);
  const now = deps.clock().getTime();
  const failed: InterruptedLaunch[] = [];
  const recovered: RecoveredRun[] = [];
  const reruns: StrandedRerun[] = [];
  const deferred: { partition: string; reason: string }[] = [];
  /** Runs `act`, reporting a rerun deferred at the limit instead of failing the whole reconciliation. */
  const unlessDeferred = async (partition: string, act: () => Promise<void>): Promise<void> => {
    try {
      await act();
    } catch (error) {
      if (!(error instanceof RerunDeferredError)) throw error;
      deferred.push({ partition, reason: error.message });
    }
  };
  const executionPrefix = deps.stateMachineArn.replace(':stateMachine:', ':execution:');
  const handledRuns = new Set<string>();
  for (const record of running) {
    const executionArn = `${executionPrefix}:${record.runId}`;
    const execution = await describe(deps.sfn, executionArn);
    if (!execution) {
      if (now - Date.parse(record.claimedAt) < graceMs) continue;
      await unlessDeferred(record.partition, async () => {
        const interrupted = await failInterruptedLaunch(record, deps, graceMs);
        if (interrupted) failed.push(interrupted);
      });
      continue;
    }
    const status = execution.status ?? 'RUNNING';
    const ended = status === 'SUCCEEDED' || FAILED_EXECUTION_STATUSES.includes(status);
    const stoppedAt = execution.stopDate?.getTime();
    if (!ended || stoppedAt === undefined || now - stoppedAt < graceMs) continue;
    // The status change of a backfill batch's run records every partition of the batch: once.
    if (handledRuns.has(record.runId)) continue;
    handledRuns.add(record.runId);
    if (status === 'SUCCEEDED') {
      await deps.store.markSucceeded(record.pipeline, record.partition, record.runId, { now: execution.stopDate });
    }
    await unlessDeferred(record.partition, async () => {
      const result = await handleStatusChange(statusChangeOf(execution, executionArn, record, deps), deps);
      recovered.push({ partition: record.partition, runId: record.runId, status, result });
    });
  }

  const reconciled = new Set([...failed, ...recovered, ...deferred].map((r) => r.partition));
  const stranded = (await deps.store.listRerunRequested(deps.config.name)).filter(
    (r) =>
      r.status !== 'RUNNING' &&
      !reconciled.has(r.partition) &&
      now - Date.parse(r.finishedAt ?? r.claimedAt) >= graceMs,
  );
  for (const record of stranded) {
    await unlessDeferred(record.partition, async () => {
      const rerun = await rerunIfRequested(runOf(record), deps);
      if (rerun) reruns.push({ partition: record.partition, runId: record.runId, rerun });
    });
  }
  return { checked: running.length, failed, recovered, reruns, deferred };
}

/** The status change EventBridge would have delivered for an ended execution. */
function statusChangeOf(
  execution: DescribeExecutionCommandOutput,
  executionArn: string,
  record: PartitionRecord,
  deps: ReconcileDeps,
): ExecutionStatusChangeEvent {
  return {
    'detail-type': 'Step Functions Execution Status Change',
    source: 'aws.states',
    detail: {
      executionArn,
      stateMachineArn: execution.stateMachineArn ?? deps.stateMachineArn,
      name: execution.name ?? record.runId,
      status: execution.status ?? 'RUNNING',
      input: execution.input ?? null,
      error: execution.error ?? null,
      cause: execution.cause ?? null,
      startDate: execution.startDate?.getTime() ?? null,
      stopDate: execution.stopDate?.getTime() ?? null,
    },
  };
}

/** The run a partition record names, as its execution's input has it. */
function runOf(record: PartitionRecord): RunRef {
  return { pipeline: record.pipeline, partition: record.partition, runId: record.runId, runNumber: record.runNumber, trigger: record.trigger };
}

/** The execution, or `undefined` when Step Functions has none by that name. */
async function describe(sfn: DescribeExecutionClient, executionArn: string): Promise<DescribeExecutionCommandOutput | undefined> {
  try {
    return await sfn.send(new DescribeExecutionCommand({ executionArn }));
  } catch (error) {
    if (error instanceof Error && error.name === 'ExecutionDoesNotExist') return undefined;
    throw error;
  }
}

/**
 * Marks a claim that never became an execution FAILED, alerts, then starts its requested rerun,
 * or a rerun of the data it had consumed.
 */
async function failInterruptedLaunch(record: PartitionRecord, deps: ReconcileDeps, graceMs: number): Promise<InterruptedLaunch | undefined> {
  const failure = {
    error: LAUNCH_INTERRUPTED_ERROR,
    cause:
      `The partition was claimed at ${record.claimedAt} by a ${record.trigger} launch, but its execution ${record.runId} ` +
      (graceMs > 0
        ? `was still not started ${Math.round(graceMs / 60_000)} minutes later: the launcher stopped between its claim and StartExecution`
        : 'was never started, and no process that could start it is left: the launcher stopped between its claim and StartExecution'),
  };
  // Data the interrupted run consumed still needs a run: its events may have been delivered
  // again while it was claimed, and found consumed.
  const marked = await deps.store.markFailed(record.pipeline, record.partition, record.runId, {
    ...failure,
    now: deps.clock(),
    rerun: consumedBy(record.consumed ?? [], record.runNumber),
  });
  // Another writer won: a concurrent reconciliation, or the state machine of a late start.
  if (!marked) return undefined;
  const alert = formatLaunchInterruptedAlert(record, failure);
  await deps.sns.send(new PublishCommand({ TopicArn: deps.topicArn, Subject: alert.subject, Message: alert.message }));
  const rerun = await rerunIfRequested(runOf(record), deps);
  return { partition: record.partition, runId: record.runId, ...(rerun && { rerun }) };
}
