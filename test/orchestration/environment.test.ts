import { describe, expect, it } from 'vitest';
import { LAUNCHER_ENV, type LauncherConfig } from '../../lib/compile/contract';
import { readLauncherEnvironment, readRunMonitorEnvironment, SLUICE_BUCKETS_ENV } from '../../orchestration/environment';

const CONFIG: LauncherConfig = {
  name: 'daily-sales',
  tasks: [],
  maxConcurrentRuns: 10,
  partitions: { kind: 'daily', start: '2024-01-01' },
  triggers: [{ kind: 's3Arrival', bucket: 'raw', partitionFromKey: { source: '(?<partition>.*)', flags: '' } }],
};

const ENV = {
  [LAUNCHER_ENV.pipeline]: JSON.stringify(CONFIG),
  [LAUNCHER_ENV.tableName]: 'partitions',
  [LAUNCHER_ENV.stateMachineArn]: 'arn:aws:states:us-east-1:123456789012:stateMachine:daily-sales',
  [SLUICE_BUCKETS_ENV]: JSON.stringify({ raw: 'prod-raw-1a2b' }),
};

describe('readLauncherEnvironment', () => {
  it('reads the configuration, bucket names, table and state machine', () => {
    expect(readLauncherEnvironment(ENV)).toStrictEqual({
      config: CONFIG,
      bucketNames: { raw: 'prod-raw-1a2b' },
      tableName: 'partitions',
      stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:daily-sales',
    });
  });

  it('keeps a configuration field it does not check, as a newer compiler may write one', () => {
    const newer = { ...CONFIG, comingLater: { any: 'shape' } };
    expect(readLauncherEnvironment({ ...ENV, [LAUNCHER_ENV.pipeline]: JSON.stringify(newer) }).config).toStrictEqual(newer);
  });

  it('fails when a trigger names a bucket missing from SLUICE_BUCKETS', () => {
    expect(() => readLauncherEnvironment({ ...ENV, [SLUICE_BUCKETS_ENV]: '{}' })).toThrow(
      'Environment variable SLUICE_BUCKETS has no deployed bucket for the logical bucket "raw" of pipeline "daily-sales". ' +
        'It is set by the sluice constructs: redeploy the stage.',
    );
  });

  it('fails when the configuration is not JSON', () => {
    expect(() => readLauncherEnvironment({ ...ENV, [LAUNCHER_ENV.pipeline]: '{' })).toThrow(
      /^Environment variable SLUICE_PIPELINE is not valid JSON \(/,
    );
  });

  it('fails when a partitionFromKey does not compile', () => {
    const bad = { ...CONFIG, triggers: [{ kind: 's3Arrival', bucket: 'raw', partitionFromKey: { source: '(', flags: '' } }] };
    expect(() => readLauncherEnvironment({ ...ENV, [LAUNCHER_ENV.pipeline]: JSON.stringify(bad) })).toThrow(
      /^Environment variable SLUICE_PIPELINE has triggers\[0\]\.partitionFromKey \{"source":"\(","flags":""\}; expected a valid regular expression \(/,
    );
  });

  it('fails when maxConcurrentRuns is missing or not a whole number of at least 1', () => {
    const { maxConcurrentRuns: _, ...missing } = CONFIG;
    expect(() => readLauncherEnvironment({ ...ENV, [LAUNCHER_ENV.pipeline]: JSON.stringify(missing) })).toThrow(
      'Environment variable SLUICE_PIPELINE has maxConcurrentRuns undefined; expected a whole number of at least 1. ' +
        'It is set by the sluice constructs: redeploy the stage.',
    );
    expect(() =>
      readLauncherEnvironment({ ...ENV, [LAUNCHER_ENV.pipeline]: JSON.stringify({ ...CONFIG, maxConcurrentRuns: 0 }) }),
    ).toThrow('Environment variable SLUICE_PIPELINE has maxConcurrentRuns 0; expected a whole number of at least 1.');
  });

  it('fails when a declared run parameter has a default of another type', () => {
    const bad = { ...CONFIG, params: { limit: { type: 'number', default: 'ten' } } };
    expect(() => readLauncherEnvironment({ ...ENV, [LAUNCHER_ENV.pipeline]: JSON.stringify(bad) })).toThrow(
      /^Environment variable SLUICE_PIPELINE has params\.limit\.default "ten"; expected /,
    );
  });

  it('fails when the partition spec is invalid', () => {
    const bad = { ...CONFIG, partitions: { kind: 'daily', start: '2024-01-01', timezone: 'Mars/Olympus' } };
    expect(() => readLauncherEnvironment({ ...ENV, [LAUNCHER_ENV.pipeline]: JSON.stringify(bad) })).toThrow(
      /^Environment variable SLUICE_PIPELINE has partitions \{.*\}; expected a valid partition spec \(.*Mars\/Olympus/,
    );
  });
});

describe('readRunMonitorEnvironment', () => {
  const MONITOR_ENV = {
    [LAUNCHER_ENV.pipeline]: JSON.stringify(CONFIG),
    [LAUNCHER_ENV.tableName]: 'partitions',
    [LAUNCHER_ENV.alertTopicArn]: 'arn:aws:sns:us-east-1:123456789012:alerts',
    [LAUNCHER_ENV.rerunStateMachineArn]: 'arn:aws:states:us-east-1:123456789012:stateMachine:daily-sales',
    AWS_REGION: 'us-east-1',
    [LAUNCHER_ENV.eventBusName]: 'sluice-prod',
  };

  it('reads the configuration, table, alert topic, state machine, region and event bus, without bucket names', () => {
    expect(readRunMonitorEnvironment(MONITOR_ENV)).toStrictEqual({
      config: CONFIG,
      tableName: 'partitions',
      alertTopicArn: 'arn:aws:sns:us-east-1:123456789012:alerts',
      stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:daily-sales',
      region: 'us-east-1',
      eventBusName: 'sluice-prod',
    });
  });

  it('fails when the alert topic is not set', () => {
    const { [LAUNCHER_ENV.alertTopicArn]: _, ...env } = MONITOR_ENV;
    expect(() => readRunMonitorEnvironment(env)).toThrow(
      'Environment variable SLUICE_ALERT_TOPIC_ARN is not set. It is set by the sluice constructs: redeploy the stage.',
    );
  });

  it('fails when the configuration is not a launcher configuration', () => {
    expect(() => readRunMonitorEnvironment({ ...MONITOR_ENV, [LAUNCHER_ENV.pipeline]: '{}' })).toThrow(
      'Environment variable SLUICE_PIPELINE is not a launcher configuration: expected { name, maxConcurrentRuns, triggers, partitions?, schedule? }.',
    );
  });
});
