import { afterEach, describe, expect, it, vi } from 'vitest';
import { LAUNCHER_ENV, type LauncherConfig } from '../../../lib/compile/contract';

const CONFIG: LauncherConfig = { name: 'daily-sales', tasks: [], maxConcurrentRuns: 10, triggers: [] };
const STATE_MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:daily-sales';

function stubEnv(overrides: Record<string, string> = {}): void {
  const env: Record<string, string> = {
    [LAUNCHER_ENV.pipeline]: JSON.stringify(CONFIG),
    [LAUNCHER_ENV.tableName]: 'partitions',
    [LAUNCHER_ENV.alertTopicArn]: 'arn:aws:sns:eu-west-1:123456789012:alerts',
    [LAUNCHER_ENV.rerunStateMachineArn]: STATE_MACHINE,
    [LAUNCHER_ENV.eventBusName]: 'sluice-prod',
    AWS_REGION: 'eu-west-1',
    ...overrides,
  };
  for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
}

// The entry reads its environment when it is loaded, as a Lambda container does at cold start:
// each test loads it afresh. The run monitor's behaviour is proved in handler.test.ts.
describe('run-monitor entry', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.resetModules();
  });

  it('fails at cold start without its alert topic', async () => {
    stubEnv({ [LAUNCHER_ENV.alertTopicArn]: '' });

    await expect(import('../../../lambdas/run-monitor/index')).rejects.toThrow(
      'Environment variable SLUICE_ALERT_TOPIC_ARN is not set.',
    );
  });

  it('fails at cold start without the state machine it starts reruns in', async () => {
    stubEnv({ [LAUNCHER_ENV.rerunStateMachineArn]: '' });

    await expect(import('../../../lambdas/run-monitor/index')).rejects.toThrow(
      'Environment variable SLUICE_RERUN_STATE_MACHINE_ARN is not set.',
    );
  });
});
