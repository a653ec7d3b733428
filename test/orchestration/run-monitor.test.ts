import type { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { PublishCommand } from '@aws-sdk/client-sns';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RUN_ENDED_OUTPUT, runIdOf, type LauncherConfig, type RunRef } from '../../lib/compile/contract';
import type { StartExecutionClient } from '../../orchestration/launch';
import { PartitionStore } from '../../orchestration/partition-store';
import {
  type ExecutionStatusChangeEvent,
  formatAlert,
  handleStatusChange,
  type PublishClient,
  type PutEventsClient,
  RerunDeferredError,
  type RunMonitorDeps,
} from '../../orchestration/run-monitor';
import { type LocalPartitionTable, startPartitionTable } from '../fixtures/dynalite';

const ARN = 'arn:aws:states:eu-west-1:123456789012:execution:daily-sales:daily-sales_2024-01-01_r1';

function statusChange(status: string, run: RunRef | undefined, overrides: Record<string, unknown> = {}): ExecutionStatusChangeEvent {
  return {
    'detail-type': 'Step Functions Execution Status Change',
    source: 'aws.states',
    time: '2024-01-02T07:05:00Z',
    detail: {
      executionArn: ARN,
      stateMachineArn: 'arn:aws:states:eu-west-1:123456789012:stateMachine:daily-sales',
      name: run?.runId ?? 'console-run',
      status,
      input: run ? JSON.stringify(run) : '{}',
      error: null,
      cause: null,
      startDate: Date.parse('2024-01-02T07:00:00Z'),
      stopDate: Date.parse('2024-01-02T07:05:00Z'),
      ...overrides,
    },
  };
}

const RUN: RunRef = { pipeline: 'daily-sales', partition: '2024-01-01', runId: 'daily-sales_2024-01-01_r1', runNumber: 1, trigger: 'schedule' };

describe('formatAlert', () => {
  it('renders pipeline, partition, run, error, readable cause and console link', () => {
    // Given
    const cause = JSON.stringify({ errorType: 'TypeError', errorMessage: 'row.amount is undefined', trace: ['at x'] });
    const event = statusChange('FAILED', RUN, { error: 'TypeError', cause });

    // When
    const alert = formatAlert(event, 'eu-west-1');

    // Then
    expect(alert.subject).toBe('sluice: FAILED daily-sales partition 2024-01-01');
    expect(alert.message).toBe(
      [
        'A run failed: daily-sales partition 2024-01-01.',
        '',
        'Pipeline:   daily-sales',
        'Partition:  2024-01-01',
        'Run id:     daily-sales_2024-01-01_r1',
        'Run number: 1',
        'Trigger:    schedule',
        'Status:     FAILED',
        'Started:    2024-01-02T07:00:00.000Z',
        'Stopped:    2024-01-02T07:05:00.000Z',
        'Error:      TypeError',
        'Cause:      TypeError: row.amount is undefined',
        '',
        `Execution: https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1#/v2/executions/details/${ARN}`,
      ].join('\n'),
    );
  });

  it('keeps the subject within SNS limits and truncates a long cause', () => {
    // Given
    const run = { ...RUN, partition: `${'é'.repeat(90)}|eu` };
    const event = statusChange('TIMED_OUT', run, { cause: 'x'.repeat(5000) });

    // When
    const alert = formatAlert(event, 'eu-west-1');

    // Then
    expect(alert.subject).toHaveLength(100);
    expect(alert.subject).toMatch(/^[\x20-\x7e]+\.\.\.$/);
    expect(alert.message).toContain(`Cause:      ${'x'.repeat(1997)}...\n`);
    expect(alert.message).toMatch(/^A run timed out: /);
  });

  it('names the execution when it was not started by the launcher', () => {
    const alert = formatAlert(statusChange('ABORTED', undefined), 'eu-west-1');

    expect(alert.subject).toBe('sluice: ABORTED execution console-run');
    expect(alert.message).toContain('Pipeline:   (unknown: the execution was not started by the sluice launcher)');
  });
});

const CONFIG: LauncherConfig = {
  name: 'daily-sales',
  tasks: [],
  maxConcurrentRuns: 10,
  partitions: { kind: 'daily', start: '2024-01-01', timezone: 'UTC' },
  triggers: [{ kind: 's3Arrival', bucket: 'raw', prefix: 'sales/' }],
};
const STATE_MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:daily-sales';
const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:alerts';
const NOW = new Date('2024-01-02T07:00:00Z');

describe('handleStatusChange against dynalite', () => {
  let table: LocalPartitionTable;
  let store: PartitionStore;
  /** Every SNS and Step Functions call, in order. */
  const calls: ({ sns: PublishCommand['input'] } | { sfn: StartExecutionCommand['input'] })[] = [];
  const sns: PublishClient = {
    send: async (command) => {
      calls.push({ sns: command.input });
      return { MessageId: 'm1', $metadata: {} };
    },
  };
  const sfn: StartExecutionClient = {
    send: async (command) => {
      calls.push({ sfn: command.input });
      return { executionArn: `${STATE_MACHINE.replace(':stateMachine:', ':execution:')}:${command.input.name}`, startDate: NOW, $metadata: {} };
    },
  };
  const deps = (config: LauncherConfig = CONFIG): RunMonitorDeps => ({
    store,
    sns,
    topicArn: TOPIC,
    region: 'eu-west-1',
    config,
    sfn,
    stateMachineArn: STATE_MACHINE,
    clock: () => NOW,
  });

  beforeAll(async () => {
    table = await startPartitionTable();
    store = new PartitionStore(table.client, table.tableName);
  });
  afterAll(() => table.close());
  beforeEach(() => {
    calls.length = 0;
  });

  /** A run of the partition claimed by the launcher, as its execution's input. */
  async function claimed(partition: string, trigger = 's3', pipeline = 'daily-sales'): Promise<RunRef> {
    const claim = await store.claim(pipeline, partition, { trigger, now: NOW });
    if (claim.kind !== 'claimed') throw new Error(`expected the claim of ${partition} to win`);
    return { pipeline, partition, runId: claim.runId, runNumber: claim.runNumber, trigger };
  }

  const recordSucceeded = (partition: string, pipeline = 'daily-sales') => table.recordSucceeded(pipeline, partition);

  it('marks a timed-out run FAILED and publishes its alert', async () => {
    // Given a run that skipped the state machine's Catch
    const run = await claimed('2024-01-01', 'schedule');

    // When
    const result = await handleStatusChange(statusChange('TIMED_OUT', run), deps());

    // Then
    expect(result).toStrictEqual({ kind: 'alerted', markedFailed: true, run });
    expect(await store.get('daily-sales', '2024-01-01')).toMatchObject({
      status: 'FAILED',
      error: 'ExecutionTimedOut',
      cause: 'The execution ended with status TIMED_OUT',
      finishedAt: '2024-01-02T07:05:00.000Z',
    });
    expect(calls).toStrictEqual([
      {
        sns: {
          TopicArn: TOPIC,
          Subject: 'sluice: TIMED_OUT daily-sales partition 2024-01-01',
          Message: formatAlert(statusChange('TIMED_OUT', run), 'eu-west-1').message,
        },
      },
    ]);
  });

  it('starts the next run when a rerun was requested of a run that succeeded', async () => {
    // Given a run flagged by an S3 arrival, which then succeeds
    const run = await claimed('2024-01-02');
    await store.requestRerun('daily-sales', '2024-01-02', run.runId);
    await recordSucceeded('2024-01-02');

    // When
    const result = await handleStatusChange(statusChange('SUCCEEDED', run), deps());

    // Then
    const runId = runIdOf('daily-sales', '2024-01-02', 2);
    expect(result).toStrictEqual({
      kind: 'succeeded',
      run,
      rerun: {
        kind: 'started',
        partition: '2024-01-02',
        runId,
        runNumber: 2,
        executionArn: `arn:aws:states:eu-west-1:123456789012:execution:daily-sales:${runId}`,
      },
    });
    expect(calls).toStrictEqual([
      {
        sfn: {
          stateMachineArn: STATE_MACHINE,
          name: runId,
          input: JSON.stringify({ pipeline: 'daily-sales', partition: '2024-01-02', runId, runNumber: 2, trigger: 's3', partitions: ['2024-01-02'], range: { from: '2024-01-02', to: '2024-01-02' }, params: {}, reuse: {} }),
        },
      },
    ]);
    const record = await store.get('daily-sales', '2024-01-02');
    expect(record).toMatchObject({ status: 'RUNNING', runNumber: 2, runId, trigger: 's3' });
    expect(record).not.toHaveProperty('rerunRequested');
  });

  it('starts the rerun requested of a run the previous version started (attempt in its input and item) as run 4', async () => {
    // Given a run claimed and started before runNumber, flagged by an S3 arrival, which then succeeds
    await table.putPreviousVersionItem('daily-sales', '2024-01-09', { status: 'RUNNING', attempt: 3, trigger: 's3', rerunRequested: true });
    await recordSucceeded('2024-01-09');
    const input = { pipeline: 'daily-sales', partition: '2024-01-09', runId: 'daily-sales_2024-01-09_a3', attempt: 3, trigger: 's3' };

    // When
    const result = await handleStatusChange(statusChange('SUCCEEDED', undefined, { name: input.runId, input: JSON.stringify(input) }), deps());

    // Then
    expect(result).toMatchObject({
      kind: 'succeeded',
      run: { runId: input.runId, runNumber: 3 },
      rerun: { kind: 'started', runId: runIdOf('daily-sales', '2024-01-09', 4), runNumber: 4 },
    });
    expect(await store.get('daily-sales', '2024-01-09')).toMatchObject({ status: 'RUNNING', runNumber: 4 });
  });

  it('does nothing more for a run that succeeded without a rerun requested, nor for a redelivered event', async () => {
    // Given
    const plain = await claimed('2024-01-03');
    await recordSucceeded('2024-01-03');
    const rerun = await claimed('2024-01-04');
    await store.requestRerun('daily-sales', '2024-01-04', rerun.runId);
    await recordSucceeded('2024-01-04');
    await handleStatusChange(statusChange('SUCCEEDED', rerun), deps());
    calls.length = 0;

    // When
    const first = await handleStatusChange(statusChange('SUCCEEDED', plain), deps());
    const redelivered = await handleStatusChange(statusChange('SUCCEEDED', rerun), deps());

    // Then
    expect(first).toStrictEqual({ kind: 'succeeded', run: plain });
    expect(redelivered).toStrictEqual({ kind: 'succeeded', run: rerun });
    expect(calls).toHaveLength(0);
    expect(await store.get('daily-sales', '2024-01-03')).toMatchObject({ status: 'SUCCEEDED', runNumber: 1 });
    expect(await store.get('daily-sales', '2024-01-04')).toMatchObject({ status: 'RUNNING', runNumber: 2 });
  });

  it("starts the rerun a successful run's output says its end write found requested", async () => {
    // Given a flagged run whose end write saw the flag, as the state machine's second try reports it
    const run = await claimed('2024-01-10');
    await store.requestRerun('daily-sales', '2024-01-10', run.runId);
    await recordSucceeded('2024-01-10');
    const output = JSON.stringify({ results: {}, [RUN_ENDED_OUTPUT]: { rerunRequested: true } });

    // When
    const result = await handleStatusChange(statusChange('SUCCEEDED', run, { output }), deps());

    // Then
    expect(result).toMatchObject({ kind: 'succeeded', run, rerun: { kind: 'started', runNumber: 2 } });
  });

  it("reads nothing of the partition after a successful run whose output says its end write found no rerun requested", async () => {
    // Given a run that ended with nothing requested of it, and a store that counts its reads
    const run = await claimed('2024-01-11');
    await recordSucceeded('2024-01-11');
    const reads: string[] = [];
    const counting = Object.assign(Object.create(store) as PartitionStore, {
      get: (pipeline: string, partition: string) => {
        reads.push(partition);
        return store.get(pipeline, partition);
      },
    });
    const output = JSON.stringify({ results: {}, [RUN_ENDED_OUTPUT]: { rerunRequested: false } });

    // When
    const result = await handleStatusChange(statusChange('SUCCEEDED', run, { output }), { ...deps(), store: counting });
    // ...and when the event's output was left out for its size
    const withoutOutput = await handleStatusChange(statusChange('SUCCEEDED', run, { output: null }), { ...deps(), store: counting });

    // Then only the event without the output had the partition read
    expect(result).toStrictEqual({ kind: 'succeeded', run });
    expect(withoutOutput).toStrictEqual({ kind: 'succeeded', run });
    expect(reads).toStrictEqual(['2024-01-11']);
  });

  it('alerts about a failed run first, then starts the rerun requested of it', async () => {
    // Given a flagged run that the state machine's Catch recorded as FAILED
    const run = await claimed('2024-01-05');
    await store.requestRerun('daily-sales', '2024-01-05', run.runId);
    await store.markFailed('daily-sales', '2024-01-05', run.runId, { error: 'TypeError', cause: 'bad row' });

    // When
    const result = await handleStatusChange(statusChange('FAILED', run, { error: 'TypeError', cause: 'bad row' }), deps());

    // Then
    expect(result).toMatchObject({ kind: 'alerted', markedFailed: false, run, rerun: { kind: 'started', runNumber: 2 } });
    expect(calls.map((c) => Object.keys(c)[0])).toStrictEqual(['sns', 'sfn']);
    expect(await store.get('daily-sales', '2024-01-05')).toMatchObject({ status: 'RUNNING', runNumber: 2, trigger: 's3' });
  });

  it('fails with RerunDeferredError when the rerun waits at the limit, keeping the request for the retry', async () => {
    // Given a pipeline allowed one run, taken by another partition, and a flagged run that succeeded
    const single: LauncherConfig = { ...CONFIG, name: 'single', tasks: [], maxConcurrentRuns: 1 };
    const run = await claimed('2024-01-06', 's3', 'single');
    await store.requestRerun('single', '2024-01-06', run.runId);
    await recordSucceeded('2024-01-06', 'single');
    const other = await claimed('2024-01-07', 's3', 'single');

    // When
    const handled = handleStatusChange(statusChange('SUCCEEDED', run), deps(single));

    // Then
    await expect(handled).rejects.toThrow(RerunDeferredError);
    await expect(handled).rejects.toThrow(
      `The rerun of partition "2024-01-06" of pipeline "single" requested during run ${run.runId} is deferred: ` +
        'pipeline "single" is at its limit of 1 concurrent run. The event is retried; the request stays on the ' +
        'partition until a run of it starts.',
    );
    expect(await store.get('single', '2024-01-06')).toMatchObject({ status: 'SUCCEEDED', rerunRequested: true });

    // When the other run ends and the event is retried
    await recordSucceeded(other.partition, 'single');
    const retried = await handleStatusChange(statusChange('SUCCEEDED', run), deps(single));

    // Then
    expect(retried).toMatchObject({ kind: 'succeeded', rerun: { kind: 'started', partition: '2024-01-06', runNumber: 2 } });
  });

  it('ignores a status that does not end a run, and a success of an execution the launcher did not start', async () => {
    const running = await handleStatusChange(statusChange('RUNNING', RUN), deps());
    const foreign = await handleStatusChange(statusChange('SUCCEEDED', undefined), deps());

    expect(running).toStrictEqual({ kind: 'ignored', reason: 'status RUNNING is not the end of a run' });
    expect(foreign).toStrictEqual({ kind: 'ignored', reason: 'execution console-run was not started by the sluice launcher' });
    expect(calls).toHaveLength(0);
  });

  describe('partition events', () => {
    const entries: NonNullable<PutEventsCommand['input']['Entries']> = [];
    const events = (failWith?: string): NonNullable<RunMonitorDeps['events']> => ({
      busName: 'sluice-prod',
      client: {
        send: async (command) => {
          entries.push(...(command.input.Entries ?? []));
          return failWith
            ? { FailedEntryCount: 1, Entries: [{ ErrorCode: failWith, ErrorMessage: 'refused' }], $metadata: {} }
            : { FailedEntryCount: 0, Entries: [{ EventId: 'e1' }], $metadata: {} };
        },
      } satisfies PutEventsClient,
    });
    beforeEach(() => {
      entries.length = 0;
    });

    it('publishes a run that succeeded as "Partition Succeeded" on the stage bus', async () => {
      // Given
      const run = await claimed('2024-02-01', 'schedule');
      await recordSucceeded('2024-02-01');

      // When
      await handleStatusChange(statusChange('SUCCEEDED', run), { ...deps(), events: events() });

      // Then
      expect(entries).toStrictEqual([
        {
          EventBusName: 'sluice-prod',
          Source: 'sluice',
          DetailType: 'Partition Succeeded',
          Detail: JSON.stringify({ ...run, status: 'SUCCEEDED' }),
          Time: new Date('2024-01-02T07:05:00Z'),
        },
      ]);
    });

    it('publishes a run that failed as "Partition Failed" with its error, after its alert', async () => {
      // Given
      const run = await claimed('2024-02-02', 'schedule');

      // When
      await handleStatusChange(statusChange('FAILED', run, { error: 'MissingInputError' }), { ...deps(), events: events() });

      // Then
      expect(calls).toHaveLength(1);
      expect(entries.map((e) => [e.DetailType, JSON.parse(e.Detail!)])).toStrictEqual([
        ['Partition Failed', { ...run, status: 'FAILED', error: 'MissingInputError' }],
      ]);
    });

    it('records and publishes every partition of a backfill batch with its run\'s outcome', async () => {
      // Given two batch runs of three days each, claimed by a backfill, whose first days the state machine recorded
      const batch = async (days: readonly string[]) => {
        const run = await claimed(days[0]!, 'backfill');
        for (const day of days.slice(1)) await store.claim('daily-sales', day, { trigger: 'backfill', now: NOW, runId: run.runId });
        return { run, input: JSON.stringify({ ...run, partitions: days, range: { from: days[0], to: days.at(-1) } }) };
      };
      const good = await batch(['2024-03-01', '2024-03-02', '2024-03-03']);
      await recordSucceeded('2024-03-01');
      const bad = await batch(['2024-03-04', '2024-03-05', '2024-03-06']);
      await store.markFailed('daily-sales', '2024-03-04', bad.run.runId, { error: 'TypeError' });

      // When their executions end
      await handleStatusChange(statusChange('SUCCEEDED', good.run, { input: good.input }), { ...deps(), events: events() });
      await handleStatusChange(statusChange('FAILED', bad.run, { input: bad.input, error: 'TypeError' }), { ...deps(), events: events() });

      // Then every day has its run's outcome, and an event
      const days = await Promise.all(['01', '02', '03', '04', '05', '06'].map((d) => store.get('daily-sales', `2024-03-${d}`)));
      expect(days.map((d) => [d?.status, d?.runId])).toStrictEqual([
        ...Array(3).fill(['SUCCEEDED', good.run.runId]),
        ...Array(3).fill(['FAILED', bad.run.runId]),
      ]);
      expect(days[5]).toMatchObject({ error: 'TypeError' });
      expect(entries.map((e) => `${e.DetailType} ${JSON.parse(e.Detail!).partition}`)).toStrictEqual([
        'Partition Succeeded 2024-03-01',
        'Partition Succeeded 2024-03-02',
        'Partition Succeeded 2024-03-03',
        'Partition Failed 2024-03-04',
        'Partition Failed 2024-03-05',
        'Partition Failed 2024-03-06',
      ]);
    });

    it('fails when EventBridge refuses the event, so that the status change is retried', async () => {
      const run = await claimed('2024-02-03', 'schedule');
      await recordSucceeded('2024-02-03');

      await expect(handleStatusChange(statusChange('SUCCEEDED', run), { ...deps(), events: events('ThrottlingException') })).rejects.toThrow(
        'Publishing "Partition Succeeded" for partition "2024-02-03" of pipeline "daily-sales" failed: ThrottlingException: refused',
      );
    });
  });
});
