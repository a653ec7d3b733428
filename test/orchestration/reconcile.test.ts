import { DescribeExecutionCommand, type DescribeExecutionCommandOutput, ExecutionDoesNotExist, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { PublishCommand } from '@aws-sdk/client-sns';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runIdOf, type LauncherConfig, type RunRef } from '../../lib/compile/contract';
import { PartitionStore } from '../../orchestration/partition-store';
import { formatAlert, formatLaunchInterruptedAlert, type PublishClient } from '../../orchestration/run-monitor';
import { RECONCILE_GRACE_MS, type ReconcileDeps, reconcilePartitions } from '../../orchestration/reconcile';
import { type LocalPartitionTable, startPartitionTable } from '../fixtures/dynalite';

const STATE_MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:daily-sales';
const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:alerts';
const NOW = new Date('2024-01-02T07:00:00Z');
const LONG_AGO = new Date(NOW.getTime() - RECONCILE_GRACE_MS - 60_000);
const JUST_NOW = new Date(NOW.getTime() - 60_000);

const executionArn = (runId: string) => `${STATE_MACHINE.replace(':stateMachine:', ':execution:')}:${runId}`;

describe('reconcilePartitions against dynalite', () => {
  let table: LocalPartitionTable;
  let store: PartitionStore;
  /** The executions DescribeExecution knows, by ARN. */
  const executions = new Map<string, DescribeExecutionCommandOutput>();
  const published: PublishCommand['input'][] = [];
  const started: StartExecutionCommand['input'][] = [];
  const sns: PublishClient = {
    send: async (command) => {
      published.push(command.input);
      return { MessageId: 'm1', $metadata: {} };
    },
  };
  const send = async (command: StartExecutionCommand | DescribeExecutionCommand) => {
    if (command instanceof StartExecutionCommand) {
      started.push(command.input);
      return { executionArn: executionArn(String(command.input.name)), startDate: NOW, $metadata: {} };
    }
    const execution = executions.get(String(command.input.executionArn));
    if (!execution) throw new ExecutionDoesNotExist({ message: `Execution Does Not Exist: '${command.input.executionArn}'`, $metadata: {} });
    return execution;
  };
  const deps = (config: LauncherConfig): ReconcileDeps => ({
    store,
    sns,
    topicArn: TOPIC,
    region: 'eu-west-1',
    config,
    sfn: { send: send as ReconcileDeps['sfn']['send'] },
    stateMachineArn: STATE_MACHINE,
    clock: () => NOW,
  });
  let pipelines = 0;

  beforeAll(async () => {
    table = await startPartitionTable();
    store = new PartitionStore(table.client, table.tableName);
  });
  afterAll(() => table.close());
  beforeEach(() => {
    executions.clear();
    published.length = 0;
    started.length = 0;
  });

  /** A pipeline of its own, so that each test sees only its partitions. */
  function pipeline(): LauncherConfig {
    return {
      name: `sales-${++pipelines}`,
      tasks: [],
      maxConcurrentRuns: 10,
      partitions: { kind: 'daily', start: '2024-01-01', timezone: 'UTC' },
      triggers: [{ kind: 's3Arrival', bucket: 'raw', prefix: 'sales/' }],
    };
  }

  async function claimed(config: LauncherConfig, partition: string, at: Date): Promise<RunRef> {
    const claim = await store.claim(config.name, partition, { trigger: 'schedule', now: at });
    if (claim.kind !== 'claimed') throw new Error(`expected the claim of ${partition} to win`);
    return { pipeline: config.name, partition, runId: claim.runId, runNumber: claim.runNumber, trigger: 'schedule' };
  }

  /** The execution of a run as DescribeExecution reports it. */
  function execution(run: RunRef, status: string, extra: Partial<DescribeExecutionCommandOutput> = {}): void {
    executions.set(executionArn(run.runId), {
      $metadata: {},
      executionArn: executionArn(run.runId),
      stateMachineArn: STATE_MACHINE,
      name: run.runId,
      status: status as DescribeExecutionCommandOutput['status'],
      input: JSON.stringify(run),
      startDate: new Date(LONG_AGO.getTime() - 60_000),
      ...extra,
    });
  }

  it('marks a partition whose execution never started FAILED past the grace, and alerts once', async () => {
    // Given a claim made long ago whose launcher stopped before StartExecution
    const config = pipeline();
    const run = await claimed(config, '2024-01-01', LONG_AGO);

    // When
    const summary = await reconcilePartitions(deps(config));

    // Then
    expect(summary).toStrictEqual({
      checked: 1,
      failed: [{ partition: '2024-01-01', runId: run.runId }],
      recovered: [],
      reruns: [],
      deferred: [],
    });
    const record = await store.get(config.name, '2024-01-01');
    expect(record).toMatchObject({ status: 'FAILED', error: 'sluice.LaunchInterrupted', finishedAt: NOW.toISOString() });
    expect(record?.cause).toBe(
      `The partition was claimed at ${LONG_AGO.toISOString()} by a schedule launch, but its execution ${run.runId} was still ` +
        'not started 5 minutes later: the launcher stopped between its claim and StartExecution',
    );
    const alert = formatLaunchInterruptedAlert({ ...record!, status: 'RUNNING' }, { error: record!.error!, cause: record!.cause! });
    expect(published).toStrictEqual([{ TopicArn: TOPIC, Subject: `sluice: LAUNCH INTERRUPTED ${config.name} partition 2024-01-01`, Message: alert.message }]);
    expect(alert.message).toContain('Error:      sluice.LaunchInterrupted\n');
    expect(await reconcilePartitions(deps(config))).toMatchObject({ checked: 0, failed: [] });
    expect(published).toHaveLength(1);
  });

  it('reruns the data a launch of the previous version consumed before it was interrupted (attempt in item and entry)', async () => {
    // Given a claim of the previous version, long ago, that recorded an object as consumed by its run 3
    const config = pipeline();
    const consumed = [{ source: 's3:abc', label: 's3://raw/sales/a.csv', version: 'e1', order: '0A', attempt: 3, at: LONG_AGO.toISOString() }];
    await table.putPreviousVersionItem(config.name, '2024-01-01', { status: 'RUNNING', attempt: 3, trigger: 's3', claimedAt: LONG_AGO.toISOString(), consumed });

    // When
    const summary = await reconcilePartitions(deps(config));

    // Then its run is failed, and its data runs in run 4
    expect(summary.failed).toMatchObject([
      { partition: '2024-01-01', runId: `${config.name}_2024-01-01_a3`, rerun: { kind: 'started', runNumber: 4, runId: runIdOf(config.name, '2024-01-01', 4) } },
    ]);
    expect(await store.get(config.name, '2024-01-01')).toMatchObject({ status: 'RUNNING', runNumber: 4, trigger: 's3' });
  });

  it('leaves a claim within the grace alone: its launcher may be about to start the execution', async () => {
    // Given
    const config = pipeline();
    await claimed(config, '2024-01-01', JUST_NOW);

    // When
    const summary = await reconcilePartitions(deps(config));

    // Then
    expect(summary).toStrictEqual({ checked: 1, failed: [], recovered: [], reruns: [], deferred: [] });
    expect(await store.get(config.name, '2024-01-01')).toMatchObject({ status: 'RUNNING' });
    expect(published).toHaveLength(0);
  });

  it('fails a fresh claim at once when told no launch can be in progress (grace 0), saying so', async () => {
    // Given a claim of a minute ago, left by a process that was killed
    const config = pipeline();
    const run = await claimed(config, '2024-01-01', JUST_NOW);

    // When the local runtime, alone on its state, reconciles
    const summary = await reconcilePartitions(deps(config), { graceMs: 0 });

    // Then
    expect(summary.failed).toStrictEqual([{ partition: '2024-01-01', runId: run.runId }]);
    expect(await store.get(config.name, '2024-01-01')).toMatchObject({
      status: 'FAILED',
      error: 'sluice.LaunchInterrupted',
      cause: expect.stringContaining('was never started, and no process that could start it is left'),
    });
  });

  it('handles an aborted execution whose status change was lost as if it had arrived', async () => {
    // Given a run aborted long ago, which skipped the state machine's "Mark failed"
    const config = pipeline();
    const run = await claimed(config, '2024-01-02', LONG_AGO);
    execution(run, 'ABORTED', { stopDate: LONG_AGO });

    // When
    const summary = await reconcilePartitions(deps(config));

    // Then
    expect(summary).toStrictEqual({
      checked: 1,
      failed: [],
      recovered: [{ partition: '2024-01-02', runId: run.runId, status: 'ABORTED', result: { kind: 'alerted', markedFailed: true, run } }],
      reruns: [],
      deferred: [],
    });
    expect(await store.get(config.name, '2024-01-02')).toMatchObject({ status: 'FAILED', error: 'ExecutionAborted', finishedAt: LONG_AGO.toISOString() });
    expect(published).toHaveLength(1);
    expect(published[0]).toMatchObject({ Subject: `sluice: ABORTED ${config.name} partition 2024-01-02` });
  });

  it('marks a partition FAILED whose failed execution was not recorded, with its error and cause', async () => {
    // Given
    const config = pipeline();
    const run = await claimed(config, '2024-01-03', LONG_AGO);
    execution(run, 'FAILED', { stopDate: LONG_AGO, error: 'TypeError', cause: 'bad row' });

    // When
    const summary = await reconcilePartitions(deps(config));

    // Then
    expect(summary.recovered).toMatchObject([{ partition: '2024-01-03', status: 'FAILED', result: { kind: 'alerted', markedFailed: true } }]);
    expect(await store.get(config.name, '2024-01-03')).toMatchObject({ status: 'FAILED', error: 'TypeError', cause: 'bad row' });
    const event = {
      'detail-type': 'Step Functions Execution Status Change',
      source: 'aws.states',
      detail: {
        executionArn: executionArn(run.runId),
        stateMachineArn: STATE_MACHINE,
        name: run.runId,
        status: 'FAILED',
        input: JSON.stringify(run),
        error: 'TypeError',
        cause: 'bad row',
        startDate: LONG_AGO.getTime() - 60_000,
        stopDate: LONG_AGO.getTime(),
      },
    };
    expect(published).toStrictEqual([{ TopicArn: TOPIC, Subject: `sluice: FAILED ${config.name} partition 2024-01-03`, Message: formatAlert(event, 'eu-west-1').message }]);
  });

  it('records every partition of a backfill batch left RUNNING with its failed run\'s outcome, alerting once', async () => {
    // Given a batch run of three days that failed long ago, its first day recorded FAILED, the others left RUNNING
    const config = pipeline();
    const run = await claimed(config, '2024-01-07', LONG_AGO);
    for (const day of ['2024-01-08', '2024-01-09']) await store.claim(config.name, day, { trigger: 'backfill', now: LONG_AGO, runId: run.runId });
    await store.markFailed(config.name, '2024-01-07', run.runId, { error: 'TypeError', now: LONG_AGO });
    const partitions = ['2024-01-07', '2024-01-08', '2024-01-09'];
    execution(run, 'FAILED', { stopDate: LONG_AGO, error: 'TypeError', input: JSON.stringify({ ...run, partitions }) });

    // When
    const summary = await reconcilePartitions(deps(config));

    // Then
    expect(summary).toMatchObject({ checked: 2, recovered: [{ partition: '2024-01-08', status: 'FAILED' }] });
    const records = await Promise.all(partitions.map((p) => store.get(config.name, p)));
    expect(records.map((r) => [r?.status, r?.error])).toStrictEqual(Array(3).fill(['FAILED', 'TypeError']));
    expect(published).toHaveLength(1);
    expect(await reconcilePartitions(deps(config))).toMatchObject({ checked: 0 });
  });

  it('records a succeeded execution left RUNNING as SUCCEEDED, then starts the rerun requested of it', async () => {
    // Given a flagged run whose execution succeeded long ago, its partition still RUNNING
    const config = pipeline();
    const run = await claimed(config, '2024-01-04', LONG_AGO);
    await store.requestRerun(config.name, '2024-01-04', run.runId);
    execution(run, 'SUCCEEDED', { stopDate: LONG_AGO });

    // When
    const summary = await reconcilePartitions(deps(config));

    // Then
    const runId = runIdOf(config.name, '2024-01-04', 2);
    expect(summary.recovered).toStrictEqual([
      {
        partition: '2024-01-04',
        runId: run.runId,
        status: 'SUCCEEDED',
        result: { kind: 'succeeded', run, rerun: { kind: 'started', partition: '2024-01-04', runId, runNumber: 2, executionArn: executionArn(runId) } },
      },
    ]);
    expect(started).toStrictEqual([
      { stateMachineArn: STATE_MACHINE, name: runId, input: JSON.stringify({ pipeline: config.name, partition: '2024-01-04', runId, runNumber: 2, trigger: 's3', partitions: ['2024-01-04'], range: { from: '2024-01-04', to: '2024-01-04' }, params: {}, reuse: {} }) },
    ]);
    expect(await store.get(config.name, '2024-01-04')).toMatchObject({ status: 'RUNNING', runNumber: 2, runId });
    expect(published).toHaveLength(0);
  });

  it('starts the rerun requested of a run that ended unheard of, its partition no longer RUNNING', async () => {
    // Given a flagged run recorded FAILED by the state machine's Catch long ago, whose event was lost
    const config = pipeline();
    const run = await claimed(config, '2024-01-05', LONG_AGO);
    await store.requestRerun(config.name, '2024-01-05', run.runId);
    await store.markFailed(config.name, '2024-01-05', run.runId, { error: 'TypeError', now: LONG_AGO });

    // When
    const summary = await reconcilePartitions(deps(config));

    // Then
    expect(summary).toMatchObject({
      checked: 0,
      reruns: [{ partition: '2024-01-05', runId: run.runId, rerun: { kind: 'started', runNumber: 2 } }],
    });
    expect(await store.get(config.name, '2024-01-05')).toMatchObject({ status: 'RUNNING', runNumber: 2, trigger: 's3' });
  });

  it('reports a rerun deferred at the limit instead of failing, keeping the request for the next reconciliation', async () => {
    // Given a pipeline allowed one run, taken by another partition, and a stranded request
    const config = { ...pipeline(), maxConcurrentRuns: 1 };
    const run = await claimed(config, '2024-01-06', LONG_AGO);
    await store.requestRerun(config.name, '2024-01-06', run.runId);
    await store.markFailed(config.name, '2024-01-06', run.runId, { error: 'TypeError', now: LONG_AGO });
    await claimed(config, '2024-01-07', JUST_NOW);

    // When
    const summary = await reconcilePartitions(deps(config));

    // Then
    expect(summary.deferred).toMatchObject([{ partition: '2024-01-06', reason: expect.stringContaining('is deferred') }]);
    expect(await store.get(config.name, '2024-01-06')).toMatchObject({ status: 'FAILED', rerunRequested: true });
    expect(started).toHaveLength(0);
  });

  it('leaves running executions, and executions that ended within the grace, alone', async () => {
    // Given
    const config = pipeline();
    const running = await claimed(config, '2024-01-08', LONG_AGO);
    execution(running, 'RUNNING');
    const ending = await claimed(config, '2024-01-09', LONG_AGO);
    execution(ending, 'TIMED_OUT', { stopDate: JUST_NOW });

    // When
    const summary = await reconcilePartitions(deps(config));

    // Then
    expect(summary).toStrictEqual({ checked: 2, failed: [], recovered: [], reruns: [], deferred: [] });
    expect(await store.get(config.name, '2024-01-08')).toMatchObject({ status: 'RUNNING' });
    expect(await store.get(config.name, '2024-01-09')).toMatchObject({ status: 'RUNNING' });
    expect(published).toHaveLength(0);
  });
});
