import { afterEach, describe, expect, it, vi } from 'vitest';
import { LAUNCHER_ENV, type LauncherConfig } from '../../../lib/compile/contract';
import { SLUICE_BUCKETS_ENV } from '../../../orchestration';
import { objectCreated, record } from './events';

// The entry reads its environment when it is loaded, as a Lambda container does at cold start:
// each test loads it afresh. The launcher's behaviour is proved in handler.test.ts.
const CONFIG: LauncherConfig = { name: 'daily-sales', tasks: [], maxConcurrentRuns: 10, triggers: [] };
const STATE_MACHINE = 'arn:aws:states:us-east-1:123456789012:stateMachine:daily-sales';

function stubEnv(): void {
  vi.stubEnv(LAUNCHER_ENV.pipeline, JSON.stringify(CONFIG));
  vi.stubEnv(LAUNCHER_ENV.tableName, 'unused-at-import');
  vi.stubEnv(LAUNCHER_ENV.stateMachineArn, STATE_MACHINE);
  vi.stubEnv(SLUICE_BUCKETS_ENV, JSON.stringify({ raw: 'prod-raw-1a2b' }));
}

describe('launcher entry', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.resetModules();
  });

  it('publishes its counts as CloudWatch embedded metrics in the sluice namespace, per pipeline', async () => {
    // Given the Powertools metrics of the deployed handler, writing to stdout
    const written: string[] = [];
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => (written.push(String(chunk)), true));
    try {
      stubEnv();
      vi.stubEnv('POWERTOOLS_METRICS_NAMESPACE', 'sluice');
      const { handler } = await import('../../../lambdas/launcher/index');

      // When a record matching no trigger arrives (nothing is read or written for it)
      await handler({ Records: [record('unmatched', objectCreated('returns/2024-01-01/a.csv'))] });
    } finally {
      write.mockRestore();
    }

    // Then
    const emf = written.map((line) => JSON.parse(line) as Record<string, unknown>).find((line) => '_aws' in line);
    expect(emf).toMatchObject({
      _aws: { CloudWatchMetrics: [{ Namespace: 'sluice', Dimensions: [expect.arrayContaining(['pipeline'])], Metrics: [{ Name: 'EventsIgnored', Unit: 'Count' }] }] },
      pipeline: 'daily-sales',
      EventsIgnored: 1,
    });
  });

  it('fails at cold start when its environment is incomplete', async () => {
    // Given
    stubEnv();
    vi.stubEnv(LAUNCHER_ENV.stateMachineArn, '');

    // When
    const load = import('../../../lambdas/launcher/index');

    // Then
    await expect(load).rejects.toThrow(
      'Environment variable SLUICE_STATE_MACHINE_ARN is not set. It is set by the sluice constructs: redeploy the stage.',
    );
  });
});
