import type { BackfillRecord, LaunchResult } from '../../runtime';
import type { BackfillProgress, StartedBackfill } from '../backfills';
import type { BackfillView, LaunchView } from './views';

/** The console's views of what the operations answer: the same whichever stage they act on. */

export function launchView(result: LaunchResult): LaunchView {
  return result.kind === 'started' ? { kind: 'started', partition: result.partition, runId: result.runId, attempt: result.attempt } : result;
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
