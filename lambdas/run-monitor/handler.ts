/**
 * The run monitor's core, given its clients and environment (`runMonitorHandler`): pure of the
 * process's environment, so tests build it with their own dependencies.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { z } from 'zod';
import { type ReconcileDeps, type ReconcileSummary, reconcilePartitions } from '../../orchestration/reconcile';
import { type ExecutionStatusChangeEvent, handleStatusChange, type StatusChangeResult } from '../../orchestration/run-monitor';
import { executionStatusChangeSchema, reconcileRequestSchema } from '../../orchestration/schemas';

/**
 * The input of the run monitor's reconciliation schedule (`RECONCILE_INPUT` of the `RunMonitor`
 * construct); `graceMs` (see `ReconcileOptions.graceMs`) only the local runtime sets, when nothing else runs.
 */
export type ReconcileRequest = z.infer<typeof reconcileRequestSchema>;

/** What the run monitor is invoked with: an execution's status change, or its reconciliation schedule. */
export type RunMonitorEvent = ExecutionStatusChangeEvent | ReconcileRequest;

/** Thrown when the run monitor is invoked with neither a status change nor a reconciliation request. */
export class UnknownMonitorEventError extends Error {
  constructor(event: unknown) {
    const shown = JSON.stringify(event) ?? String(event);
    super(
      `The run monitor cannot handle the event ${shown.length > 300 ? `${shown.slice(0, 297)}...` : shown}: expected an ` +
        'EventBridge "Step Functions Execution Status Change" event or {"source":"reconcile"}. ' +
        'Invoke it only through its rule and its reconciliation schedule.',
    );
    this.name = 'UnknownMonitorEventError';
  }
}

/**
 * The run monitor's core. A status change: records a failed run and alerts, then starts the rerun
 * an S3 arrival requested during the run. `{ source: 'reconcile' }`, on a schedule: recovers the
 * partitions whose launch was interrupted or whose status change was lost (`reconcilePartitions`).
 * Either way it logs what it did. An error (a rerun deferred at the pipeline's limit during a
 * status change included) fails the invocation, so that it is retried.
 */
export function runMonitorHandler(deps: ReconcileDeps & { readonly logger: Pick<Logger, 'info'> }) {
  return async (event: RunMonitorEvent): Promise<StatusChangeResult | ReconcileSummary> => {
    if (isReconcileRequest(event)) {
      const summary = await reconcilePartitions(deps, { graceMs: event.graceMs });
      deps.logger.info('Partitions reconciled', { summary });
      return summary;
    }
    if (!isStatusChange(event)) throw new UnknownMonitorEventError(event);
    const result = await handleStatusChange(event, deps);
    deps.logger.info('Execution status change handled', { executionArn: event.detail.executionArn, result });
    return result;
  };
}

function isReconcileRequest(event: unknown): event is ReconcileRequest {
  return reconcileRequestSchema.safeParse(event).success;
}

function isStatusChange(event: unknown): event is ExecutionStatusChangeEvent {
  return executionStatusChangeSchema.safeParse(event).success;
}
