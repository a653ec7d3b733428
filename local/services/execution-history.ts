import type { ExecutionRecord } from '../engine/records';

/** An event of an execution's history, as Step Functions' GetExecutionHistory returns it (the part sluice reads). */
export interface HistoryEvent {
  readonly id: number;
  readonly previousEventId: number;
  /** Epoch seconds, as the AWS JSON protocol sends timestamps. */
  readonly timestamp: number;
  readonly type: string;
  readonly [details: `${string}EventDetails`]: Record<string, unknown> | undefined;
}

/**
 * The history of a local execution, from the task attempts the engine recorded: per Task state
 * one `TaskStateEntered`, then per attempt `TaskScheduled`, `TaskStarted` and `TaskSucceeded` or
 * `TaskFailed`, each linked to the one before it by `previousEventId` as on AWS (a retry's
 * `TaskScheduled` follows the failure), between `ExecutionStarted` and the execution's end event,
 * in time order. It is what `GetExecutionHistory` answers locally; the interpreter's own event
 * log has another shape. Map iterations and the states other than Task are left out.
 *
 * @see https://docs.aws.amazon.com/step-functions/latest/apireference/API_GetExecutionHistory.html
 */
export function executionHistory(record: ExecutionRecord): HistoryEvent[] {
  interface Draft {
    id?: number;
    readonly type: string;
    readonly time: number;
    readonly order: number;
    readonly previous?: Draft;
    readonly details?: Record<string, unknown>;
  }
  const drafts: Draft[] = [];
  const draft = (type: string, time: string, previous?: Draft, details?: Record<string, unknown>): Draft => {
    const made = { type, time: new Date(time).getTime(), order: drafts.length, previous, details };
    drafts.push(made);
    return made;
  };
  const started = draft('ExecutionStarted', record.startDate, undefined, { executionStartedEventDetails: { input: record.input } });
  const last = new Map<string, Draft>();
  for (const attempt of record.attempts) {
    const key = `${attempt.state}#${attempt.mapIndex ?? ''}`;
    let previous = last.get(key);
    if (!previous) previous = draft('TaskStateEntered', attempt.startDate, started, { stateEnteredEventDetails: { name: attempt.state } });
    const scheduled = draft('TaskScheduled', attempt.startDate, previous, { taskScheduledEventDetails: { resourceType: 'lambda', resource: 'invoke' } });
    let end = draft('TaskStarted', attempt.startDate, scheduled, { taskStartedEventDetails: { resourceType: 'lambda', resource: 'invoke' } });
    if (attempt.endDate !== undefined) {
      end =
        attempt.error === undefined
          ? draft('TaskSucceeded', attempt.endDate, end, { taskSucceededEventDetails: { resourceType: 'lambda', resource: 'invoke' } })
          : draft('TaskFailed', attempt.endDate, end, { taskFailedEventDetails: { resourceType: 'lambda', resource: 'invoke', error: attempt.error, cause: attempt.cause } });
    }
    last.set(key, end);
  }
  if (record.stopDate !== undefined && record.status !== 'RUNNING') {
    const type = { SUCCEEDED: 'ExecutionSucceeded', FAILED: 'ExecutionFailed', TIMED_OUT: 'ExecutionTimedOut', ABORTED: 'ExecutionAborted' }[record.status];
    draft(type, record.stopDate, drafts.at(-1), { [`${type[0]!.toLowerCase()}${type.slice(1)}EventDetails`]: { error: record.error, cause: record.cause } });
  }
  // In time order (stable for events of the same instant), numbered from 1 in that order.
  const ordered = [...drafts].sort((a, b) => a.time - b.time || a.order - b.order);
  ordered.forEach((d, index) => (d.id = index + 1));
  return ordered.map((d) => ({ id: d.id!, previousEventId: d.previous?.id ?? 0, timestamp: d.time / 1000, type: d.type, ...d.details }));
}
