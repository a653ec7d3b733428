import { describe, expect, it } from 'vitest';
import type { ExecutionRecord } from '../../../local/engine/records';
import { attemptsOfHistory } from '../../../local/operations/task-attempts';
import { executionHistory } from '../../../local/services/execution-history';

const at = (second: number) => new Date(Date.UTC(2024, 2, 1, 6, 0, second)).toISOString();

describe('task attempts from an execution history (sluice run --stage)', () => {
  it('reads the attempts of parallel branches and retries from an AWS-shaped history', () => {
    // Given a history where two branches' tasks interleave and b is retried once
    const t = (second: number) => new Date(Date.UTC(2024, 2, 1, 6, 0, second));
    const events = [
      { id: 1, previousEventId: 0, timestamp: t(0), type: 'ExecutionStarted' },
      { id: 2, previousEventId: 1, timestamp: t(1), type: 'TaskStateEntered', stateEnteredEventDetails: { name: 'b' } },
      { id: 3, previousEventId: 1, timestamp: t(1), type: 'TaskStateEntered', stateEnteredEventDetails: { name: 'c' } },
      { id: 4, previousEventId: 2, timestamp: t(1), type: 'TaskScheduled' },
      { id: 5, previousEventId: 3, timestamp: t(1), type: 'TaskScheduled' },
      { id: 6, previousEventId: 4, timestamp: t(1), type: 'TaskStarted' },
      { id: 7, previousEventId: 5, timestamp: t(1), type: 'TaskStarted' },
      { id: 8, previousEventId: 6, timestamp: t(2), type: 'TaskFailed', taskFailedEventDetails: { error: 'Throttled', cause: 'slow down' } },
      { id: 9, previousEventId: 7, timestamp: t(3), type: 'TaskSucceeded' },
      { id: 10, previousEventId: 8, timestamp: t(4), type: 'TaskScheduled' },
      { id: 11, previousEventId: 10, timestamp: t(4), type: 'TaskStarted' },
      { id: 12, previousEventId: 11, timestamp: t(5), type: 'TaskSucceeded' },
    ];

    // Then each attempt is its state's, numbered per state, with its end and error
    expect(attemptsOfHistory(events)).toStrictEqual([
      { state: 'b', attempt: 1, startDate: at(1), endDate: at(2), error: 'Throttled', cause: 'slow down' },
      { state: 'c', attempt: 1, startDate: at(1), endDate: at(3) },
      { state: 'b', attempt: 2, startDate: at(4), endDate: at(5) },
    ]);
  });

  it('reads back the attempts of a local execution from the history the local API serves', () => {
    // Given a local execution whose third task failed twice
    const attempts = [
      { state: 'extract', attempt: 1, startDate: at(0), endDate: at(1) },
      { state: 'load', attempt: 1, startDate: at(2), endDate: at(3), error: 'StepBrokenError', cause: '{"errorMessage":"broken"}' },
      { state: 'load', attempt: 2, startDate: at(4), endDate: at(5), error: 'StepBrokenError', cause: '{"errorMessage":"broken"}' },
    ];
    const record: ExecutionRecord = {
      executionArn: 'arn:aws:states:us-east-1:000000000000:execution:local-steps:steps_2024-03-01_r1',
      stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:local-steps',
      name: 'steps_2024-03-01_r1',
      status: 'FAILED',
      input: '{}',
      startDate: at(0),
      stopDate: at(6),
      error: 'StepBrokenError',
      attempts,
    };

    // When its history is served and read
    const history = executionHistory(record);

    // Then the attempts come back as they were, between the execution's start and end
    expect(history.map((e) => e.type).at(0)).toBe('ExecutionStarted');
    expect(history.map((e) => e.type).at(-1)).toBe('ExecutionFailed');
    expect(attemptsOfHistory(history.map((e) => ({ ...e, timestamp: new Date(e.timestamp * 1000) })) as never)).toStrictEqual(attempts);
  });
});
