import { afterEach, describe, expect, it, vi } from 'vitest';
import { LAUNCHER_ENV } from '../../../lib/compile/contract';

describe('run-monitor handler', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.resetModules();
  });

  it('logs what it did with the event', async () => {
    // Given
    vi.stubEnv(LAUNCHER_ENV.tableName, 'partitions');
    vi.stubEnv(LAUNCHER_ENV.alertTopicArn, 'arn:aws:sns:eu-west-1:123456789012:alerts');
    vi.stubEnv('AWS_REGION', 'eu-west-1');
    const { runMonitorHandler } = await import('../../../lambdas/run-monitor/index');
    const logger = { info: vi.fn() };
    const handler = runMonitorHandler({
      store: { markFailed: vi.fn() },
      sns: { send: vi.fn() },
      topicArn: 't',
      region: 'eu-west-1',
      logger,
    });

    // When
    const result = await handler({
      'detail-type': 'Step Functions Execution Status Change',
      source: 'aws.states',
      detail: { executionArn: 'arn:x', stateMachineArn: 'arn:sm', name: 'n', status: 'RUNNING' },
    });

    // Then
    expect(result).toStrictEqual({ kind: 'ignored', reason: 'status RUNNING is not a failure' });
    expect(logger.info).toHaveBeenCalledWith('Execution status change handled', { executionArn: 'arn:x', result });
  });

  it('fails at cold start without its alert topic', async () => {
    vi.stubEnv(LAUNCHER_ENV.tableName, 'partitions');
    vi.stubEnv(LAUNCHER_ENV.alertTopicArn, '');
    vi.stubEnv('AWS_REGION', 'eu-west-1');

    await expect(import('../../../lambdas/run-monitor/index')).rejects.toThrow(
      'Environment variable SLUICE_ALERT_TOPIC_ARN is not set.',
    );
  });
});
