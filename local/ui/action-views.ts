import type { LauncherConfig } from '../../lib/compile/contract';
import { nextFireTimes } from '../../lib/compile/schedule';
import type { PartitionSpec } from '../../lib/definitions/partitions';
import type { BackfillRecord, LaunchResult, ScheduleState } from '../../orchestration';
import type { BackfillProgress, StartedBackfill } from '../backfills';
import { runSummary } from '../cli/commands/runs';
import { describePartitions } from '../cli/format';
import type { ExecutionRecord } from '../engine';
import type { BackfillView, LaunchView, PipelineSummary, PipelineView } from './views';

/** The console's views of what the operations answer: the same whichever stage they act on. */

const FAILED_RUN = new Set(['FAILED', 'TIMED_OUT', 'ABORTED']);
const DAY_MS = 86_400_000;

/** A pipeline as the overview lists it, from its configuration, latest runs, schedule state and backfills. */
export function summaryView(props: {
  readonly name: string;
  readonly config: LauncherConfig;
  /** Newest first. */
  readonly runs: readonly ExecutionRecord[];
  /** Absent without a schedule. */
  readonly state?: ScheduleState;
  readonly backfills: readonly BackfillRecord[];
  /** The triggers, described. */
  readonly triggers: readonly string[];
  readonly now: Date;
}): PipelineSummary {
  const { name, config, runs, state, backfills, triggers, now } = props;
  const since = now.getTime() - DAY_MS;
  const next = state === 'ENABLED' && config.schedule ? nextFireTimes(config.schedule, now, 1)[0]?.toISOString() : undefined;
  return {
    name,
    partitions: describePartitions(config.partitions),
    schedule: config.schedule && state && { ...config.schedule, state, ...(next && { next }) },
    triggers,
    lastRun: runs[0] && runSummary(runs[0]),
    failures24h: runs.filter((r) => FAILED_RUN.has(r.status) && Date.parse(r.startDate) >= since).length,
    running: runs.filter((r) => r.status === 'RUNNING').length,
    backfillsRunning: backfills.filter((b) => b.status === 'RUNNING').length,
  };
}

/** The dimensions of multi-partitions, for the grid's layout. */
export function dimensionsView(spec: PartitionSpec | undefined): PipelineView['dimensions'] {
  if (spec?.kind !== 'multi') return undefined;
  return { names: Object.keys(spec.dimensions), timeIndex: Object.values(spec.dimensions).findIndex((d) => d.kind !== 'static') };
}

export function launchView(result: LaunchResult): LaunchView {
  return result.kind === 'started' ? { kind: 'started', partition: result.partition, runId: result.runId, runNumber: result.runNumber } : result;
}

/** A backfill's progress as the console shows it: `PLANNING` until it is recorded. */
export function backfillView(started: StartedBackfill, progress: BackfillProgress): BackfillView {
  if (progress.record) return recordView(progress.record);
  const { execution } = progress;
  const ended = execution.status !== 'RUNNING';
  return {
    pipeline: started.pipeline,
    backfillId: started.backfillId,
    status: ended ? (execution.status === 'ABORTED' ? 'ABORTED' : 'FAILED') : 'PLANNING',
    partitions: 0,
    succeeded: 0,
    failed: 0,
    skipped: 0,
    cancelled: 0,
    createdAt: execution.startDate,
    ...(execution.error !== undefined && { error: [execution.error, execution.cause].filter(Boolean).join(': ') }),
  };
}

export function recordView(record: BackfillRecord): BackfillView {
  const { pipeline, backfillId, status, request, partitions, succeeded, failed, skipped, cancelled, createdAt, finishedAt, reason, cancelRequested } = record;
  return {
    pipeline,
    backfillId,
    status,
    ...(request.from !== undefined && { from: request.from }),
    ...(request.to !== undefined && { to: request.to }),
    only: request.only,
    concurrency: request.concurrency,
    partitions,
    succeeded,
    failed,
    skipped,
    cancelled,
    ...(cancelRequested && { cancelRequested: true }),
    createdAt,
    ...(finishedAt !== undefined && { finishedAt }),
    ...(reason !== undefined && { reason }),
  };
}
