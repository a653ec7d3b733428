import type { TaskAttempt } from '../engine/records';

/** The part of a Step Functions history event that {@link attemptsOfHistory} reads. */
export interface HistoryEventLike {
  readonly id?: number;
  readonly previousEventId?: number;
  readonly timestamp?: Date;
  readonly type?: string;
  readonly stateEnteredEventDetails?: { readonly name?: string };
  readonly taskFailedEventDetails?: { readonly error?: string; readonly cause?: string };
  readonly taskTimedOutEventDetails?: { readonly error?: string; readonly cause?: string };
}

/**
 * The task attempts of an execution, from its history (GetExecutionHistory): each `TaskScheduled`
 * begins an attempt of the Task state whose `TaskStateEntered` it descends from through
 * `previousEventId` (which keeps the states of parallel branches apart), and `TaskSucceeded`,
 * `TaskFailed` or `TaskTimedOut` ends it. Attempts are numbered per entry into the state.
 */
export function attemptsOfHistory(events: readonly HistoryEventLike[]): TaskAttempt[] {
  const entryOf = new Map<number, number>();
  const nameOf = new Map<number, string>();
  const open = new Map<number, TaskAttempt>();
  const tries = new Map<number, number>();
  const attempts: TaskAttempt[] = [];
  for (const event of events) {
    const id = event.id ?? 0;
    const time = (event.timestamp ?? new Date(0)).toISOString();
    if (event.type === 'TaskStateEntered') {
      entryOf.set(id, id);
      nameOf.set(id, event.stateEnteredEventDetails?.name ?? '');
      continue;
    }
    const entry = entryOf.get(event.previousEventId ?? 0);
    if (entry === undefined) continue;
    entryOf.set(id, entry);
    if (event.type === 'TaskScheduled') {
      const attempt: TaskAttempt = { state: nameOf.get(entry)!, attempt: (tries.get(entry) ?? 0) + 1, startDate: time };
      tries.set(entry, attempt.attempt);
      open.set(entry, attempt);
      attempts.push(attempt);
      continue;
    }
    const attempt = open.get(entry);
    if (!attempt) continue;
    const failure = event.type === 'TaskFailed' ? event.taskFailedEventDetails : event.type === 'TaskTimedOut' ? event.taskTimedOutEventDetails : undefined;
    if (event.type === 'TaskSucceeded' || failure) {
      attempt.endDate = time;
      if (failure) {
        attempt.error = failure.error ?? 'States.TaskFailed';
        if (failure.cause !== undefined) attempt.cause = failure.cause;
      }
      open.delete(entry);
    }
  }
  return attempts;
}
