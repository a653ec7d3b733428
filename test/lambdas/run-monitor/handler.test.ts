import { describe, expect, it, vi } from 'vitest';
import { runMonitorHandler } from '../../../lambdas/run-monitor/handler';
import type { LauncherConfig } from '../../../lib/compile/contract';
import { RECONCILE_INPUT } from '../../../lib/constructs/run-monitor';

const CONFIG: LauncherConfig = { name: 'daily-sales', tasks: [], maxConcurrentRuns: 10, triggers: [] };
const STATE_MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:daily-sales';

describe('runMonitorHandler', () => {
  /** The handler with every dependency a mock, and its logger. */
  async function handlerWithMocks() {
    const logger = { info: vi.fn() };
    const store = {
      markFailed: vi.fn(),
      markSucceeded: vi.fn(),
      get: vi.fn(),
      listRunning: vi.fn(async () => []),
      listRerunRequested: vi.fn(async () => []),
      countRunning: vi.fn(),
      claim: vi.fn(),
      claimConsuming: vi.fn(),
      consumeWhileRunning: vi.fn(),
      requestRerun: vi.fn(),
    };
    const handler = runMonitorHandler({
      store,
      sns: { send: vi.fn() },
      topicArn: 't',
      region: 'eu-west-1',
      config: CONFIG,
      sfn: { send: vi.fn() },
      stateMachineArn: STATE_MACHINE,
      clock: () => new Date(),
      logger,
    });
    return { handler, logger, store };
  }

  it('logs what it did with the event', async () => {
    // Given
    const { handler, logger } = await handlerWithMocks();

    // When
    const result = await handler({
      'detail-type': 'Step Functions Execution Status Change',
      source: 'aws.states',
      detail: { executionArn: 'arn:x', stateMachineArn: 'arn:sm', name: 'n', status: 'RUNNING' },
    });

    // Then
    expect(result).toStrictEqual({ kind: 'ignored', reason: 'status RUNNING is not the end of a run' });
    expect(logger.info).toHaveBeenCalledWith('Execution status change handled', { executionArn: 'arn:x', result });
  });

  it("reconciles the pipeline's RUNNING partitions when invoked with its schedule's input", async () => {
    // Given
    const { handler, logger, store } = await handlerWithMocks();

    // When
    const result = await handler({ ...RECONCILE_INPUT });

    // Then
    const summary = { checked: 0, failed: [], recovered: [], reruns: [], deferred: [] };
    expect(result).toStrictEqual(summary);
    expect(store.listRunning).toHaveBeenCalledWith('daily-sales');
    expect(logger.info).toHaveBeenCalledWith('Partitions reconciled', { summary });
  });

  it('fails with UnknownMonitorEventError on an event of another shape', async () => {
    // Given
    const { handler, store } = await handlerWithMocks();

    // When
    const handled = handler({ source: 'schedule', scheduledTime: '2024-01-02T00:00:00Z' } as never);

    // Then
    await expect(handled).rejects.toThrow(
      expect.objectContaining({
        name: 'UnknownMonitorEventError',
        message:
          'The run monitor cannot handle the event {"source":"schedule","scheduledTime":"2024-01-02T00:00:00Z"}: expected an ' +
          'EventBridge "Step Functions Execution Status Change" event or {"source":"reconcile"}. Invoke it only through ' +
          'its rule and its reconciliation schedule.',
      }),
    );
    expect(store.listRunning).not.toHaveBeenCalled();
  });
});
