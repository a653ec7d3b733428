import { ExecutionAlreadyExists, type StartExecutionCommand, type StartExecutionCommandInput } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runIdOf, type LauncherConfig } from '../../lib/compile/contract';
import {
  InvalidPartitionError,
  type LaunchDeps,
  launchRun,
  launchScheduled,
  LaunchDeferredError,
  RerunRequestError,
  ScheduledLaunchError,
  type StartExecutionClient,
} from '../../orchestration/launch';
import { s3Version, scheduleVersion } from '../../orchestration/consumed';
import { PartitionStore } from '../../orchestration/partition-store';
import { type LocalPartitionTable, startPartitionTable } from '../fixtures/dynalite';
import { BUCKETS, SALES } from './sales-pipeline';


/** Records StartExecution calls and answers them with `answer`. */
function sfnStub(answer: (input: StartExecutionCommandInput) => Promise<{ executionArn?: string }>) {
  const calls: StartExecutionCommandInput[] = [];
  const client: StartExecutionClient = {
    send: async (command: StartExecutionCommand) => {
      calls.push(command.input);
      return { ...(await answer(command.input)), startDate: new Date(), $metadata: {} } as Awaited<
        ReturnType<StartExecutionClient['send']>
      >;
    },
  };
  return { client, calls };
}

const STATE_MACHINE = 'arn:aws:states:us-east-1:123456789012:stateMachine:daily-sales';
const NOW = new Date('2024-01-02T07:00:00Z');

describe('launchRun and launchScheduled against dynalite', () => {
  let table: LocalPartitionTable;
  let store: PartitionStore;

  beforeAll(async () => {
    table = await startPartitionTable();
    store = new PartitionStore(table.client, table.tableName);
  });
  afterAll(() => table.close());

  const deps = (sfn: StartExecutionClient): LaunchDeps => ({ store, sfn, stateMachineArn: STATE_MACHINE, now: NOW });
  const started = (input: StartExecutionCommandInput) => Promise.resolve({ executionArn: `${STATE_MACHINE}:${input.name}` });

  it('claims the partition and starts an execution named after the run', async () => {
    // Given
    const sfn = sfnStub(started);

    // When
    const result = await launchRun({ config: SALES, partition: '2024-01-05', trigger: 's3' }, deps(sfn.client));

    // Then
    const runId = runIdOf('daily-sales', '2024-01-05', 1);
    expect(result).toStrictEqual({
      kind: 'started',
      partition: '2024-01-05',
      runId,
      runNumber: 1,
      executionArn: `${STATE_MACHINE}:${runId}`,
    });
    expect(sfn.calls).toStrictEqual([
      {
        stateMachineArn: STATE_MACHINE,
        name: runId,
        input: JSON.stringify({ pipeline: 'daily-sales', partition: '2024-01-05', runId, runNumber: 1, trigger: 's3', partitions: ['2024-01-05'], range: { from: '2024-01-05', to: '2024-01-05' }, params: {}, reuse: {} }),
      },
    ]);
    expect(await store.get('daily-sales', '2024-01-05')).toMatchObject({ status: 'RUNNING', runId, trigger: 's3' });
  });

  it('skips a manual launch of a partition that is already running, without calling StartExecution', async () => {
    // Given
    const sfn = sfnStub(started);
    const first = await launchRun({ config: SALES, partition: '2024-01-06', trigger: 'schedule' }, deps(sfn.client));

    // When
    const second = await launchRun({ config: SALES, partition: '2024-01-06', trigger: 'manual' }, deps(sfn.client));

    // Then
    expect(first.kind).toBe('started');
    expect(second).toStrictEqual({
      kind: 'skipped',
      partition: '2024-01-06',
      reason: 'already running',
      runId: first.kind === 'started' ? first.runId : undefined,
    });
    expect(sfn.calls).toHaveLength(1);
  });

  it('requests a rerun of the running run when an S3 arrival finds its partition RUNNING', async () => {
    // Given
    const sfn = sfnStub(started);
    const first = await launchRun({ config: SALES, partition: '2024-01-09', trigger: 's3' }, deps(sfn.client));
    if (first.kind !== 'started') throw new Error(`expected the first launch to start, got ${first.kind}`);

    // When
    const second = await launchRun({ config: SALES, partition: '2024-01-09', trigger: 's3' }, deps(sfn.client));

    // Then
    expect(second).toStrictEqual({ kind: 'rerun-requested', partition: '2024-01-09', runId: first.runId });
    expect(sfn.calls).toHaveLength(1);
    expect(await store.get('daily-sales', '2024-01-09')).toMatchObject({ status: 'RUNNING', runId: first.runId, rerunRequested: true });
  });

  it('claims the next run when the running run ends between the claim and the rerun request', async () => {
    // Given a run in progress that ends just as the arrival flags it
    const sfn = sfnStub(started);
    const first = await launchRun({ config: SALES, partition: '2024-01-10', trigger: 's3' }, deps(sfn.client));
    if (first.kind !== 'started') throw new Error(`expected the first launch to start, got ${first.kind}`);
    const racing: LaunchDeps['store'] = {
      get: (...args) => store.get(...args),
      countRunning: (...args) => store.countRunning(...args),
      claim: (...args) => store.claim(...args),
      claimConsuming: (...args) => store.claimConsuming(...args),
      consumeWhileRunning: (...args) => store.consumeWhileRunning(...args),
      markFailed: (...args) => store.markFailed(...args),
      requestRerun: async (...args) => {
        await store.markFailed('daily-sales', '2024-01-10', first.runId, { error: 'Boom' });
        return store.requestRerun(...args);
      },
    };

    // When
    const second = await launchRun(
      { config: SALES, partition: '2024-01-10', trigger: 's3' },
      { ...deps(sfn.client), store: racing },
    );

    // Then
    const runId = runIdOf('daily-sales', '2024-01-10', 2);
    expect(second).toStrictEqual({ kind: 'started', partition: '2024-01-10', runId, runNumber: 2, executionArn: `${STATE_MACHINE}:${runId}` });
    expect(await store.get('daily-sales', '2024-01-10')).toMatchObject({ status: 'RUNNING', runNumber: 2, trigger: 's3' });
    expect(await store.get('daily-sales', '2024-01-10')).not.toHaveProperty('rerunRequested');
  });

  it('fails with RerunRequestError when the partition keeps changing under an S3 arrival', async () => {
    // Given a partition forever busy under a new run, each ending before it can be flagged
    const sfn = sfnStub(started);
    let claims = 0;
    const churning: LaunchDeps['store'] = {
      get: (...args) => store.get(...args),
      countRunning: async () => 0,
      claim: async () => ({ kind: 'busy', runId: `churn-a${++claims}` }),
      claimConsuming: (...args) => store.claimConsuming(...args),
      consumeWhileRunning: (...args) => store.consumeWhileRunning(...args),
      markFailed: (...args) => store.markFailed(...args),
      requestRerun: async () => false,
    };

    // When
    const launch = launchRun({ config: SALES, partition: '2024-01-11', trigger: 's3' }, { ...deps(sfn.client), store: churning });

    // Then
    await expect(launch).rejects.toThrow(RerunRequestError);
    await expect(launch).rejects.toThrow(
      'Could not launch partition "2024-01-11" of pipeline "daily-sales" nor request a rerun of it: its run ended or ' +
        'changed under 3 consecutive tries. Another launcher is writing it at the same time; retry the launch.',
    );
    expect(claims).toBe(3);
    expect(sfn.calls).toHaveLength(0);
  });

  it('treats ExecutionAlreadyExists as the run already started', async () => {
    // Given
    const sfn = sfnStub(() => Promise.reject(new ExecutionAlreadyExists({ message: 'Execution Already Exists', $metadata: {} })));

    // When
    const result = await launchRun({ config: SALES, partition: '2024-01-07', trigger: 's3' }, deps(sfn.client));

    // Then
    expect(result).toStrictEqual({ kind: 'started', partition: '2024-01-07', runId: runIdOf('daily-sales', '2024-01-07', 1), runNumber: 1 });
    expect((await store.get('daily-sales', '2024-01-07'))?.status).toBe('RUNNING');
  });

  it('fails when StartExecution fails, marking the partition FAILED rather than leaving it RUNNING', async () => {
    // Given
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    const sfn = sfnStub(() => Promise.reject(throttled));

    // When
    const launch = launchRun({ config: SALES, partition: '2024-01-08', trigger: 's3' }, deps(sfn.client));

    // Then
    await expect(launch).rejects.toThrow('Rate exceeded');
    expect(await store.get('daily-sales', '2024-01-08')).toMatchObject({
      status: 'FAILED',
      error: 'ThrottlingException',
      cause: 'StartExecution failed: Rate exceeded',
    });
  });

  it('fails a partition key that is not a partition of the pipeline, claiming nothing', async () => {
    const sfn = sfnStub(started);
    const launch = launchRun({ config: SALES, partition: '2024-13-01', trigger: 'manual' }, deps(sfn.client));

    await expect(launch).rejects.toThrow(InvalidPartitionError);
    await expect(launch).rejects.toThrow(/^Partition "2024-13-01" is not a partition of pipeline "daily-sales": /);
    expect(await store.get('daily-sales', '2024-13-01')).toBeUndefined();
    expect(sfn.calls).toHaveLength(0);
  });

  it('defers a launch while the pipeline is at its limit, writing nothing, and launches once a run ends', async () => {
    // Given one run in progress of a pipeline allowed one
    const sfn = sfnStub(started);
    const single: LauncherConfig = { ...SALES, name: 'single', tasks: [], maxConcurrentRuns: 1 };
    const first = await launchRun({ config: single, partition: '2024-03-01', trigger: 'schedule' }, deps(sfn.client));

    // When
    const deferred = await launchRun({ config: single, partition: '2024-03-02', trigger: 's3' }, deps(sfn.client));
    const duplicate = await launchRun({ config: single, partition: '2024-03-01', trigger: 'manual' }, deps(sfn.client));
    const arrival = await launchRun({ config: single, partition: '2024-03-01', trigger: 's3' }, deps(sfn.client));
    if (first.kind !== 'started') throw new Error(`expected the first launch to start, got ${first.kind}`);
    await store.markFailed('single', '2024-03-01', first.runId, { error: 'Boom' });
    const after = await launchRun({ config: single, partition: '2024-03-02', trigger: 's3' }, deps(sfn.client));

    // Then
    expect(deferred).toStrictEqual({
      kind: 'deferred',
      partition: '2024-03-02',
      reason: 'pipeline "single" is at its limit of 1 concurrent run',
    });
    expect(duplicate).toStrictEqual({ kind: 'skipped', partition: '2024-03-01', reason: 'already running', runId: first.runId });
    expect(arrival).toStrictEqual({ kind: 'rerun-requested', partition: '2024-03-01', runId: first.runId });
    expect(after).toMatchObject({ kind: 'started', partition: '2024-03-02', runNumber: 1 });
    expect(sfn.calls.map((c) => JSON.parse(c.input ?? '{}').partition)).toStrictEqual(['2024-03-01', '2024-03-02']);
  });

  it('fails a schedule tick with LaunchDeferredError, launching only as many partitions as there are free slots', async () => {
    // Given a static pipeline allowed two runs, one of them in progress
    const sfn = sfnStub(started);
    const regions: LauncherConfig = {
      name: 'slots',
      tasks: [],
      maxConcurrentRuns: 2,
      partitions: { kind: 'static', keys: ['ap', 'eu', 'us'] },
      triggers: [],
    };
    await launchRun({ config: regions, partition: 'us', trigger: 'manual' }, deps(sfn.client));

    // When
    const tick = launchScheduled(regions, NOW, deps(sfn.client));

    // Then the first key takes the free slot, "us" is still running, "eu" waits
    const error = await tick.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(LaunchDeferredError);
    expect((error as Error).message).toBe(
      'Deferred the scheduled run(s) of "eu": pipeline "slots" is at its limit of 2 concurrent runs. The invocation is ' +
        'retried; if runs wait often, raise maxConcurrentRuns or spread the schedule.',
    );
    expect((error as LaunchDeferredError).runs.map((r) => [r.partition, r.kind])).toStrictEqual([
      ['ap', 'started'],
      ['eu', 'deferred'],
      ['us', 'skipped'],
    ]);
    expect(await store.get('slots', 'eu')).toBeUndefined();
  });

  it('launches the last complete partition of a schedule tick', async () => {
    // Given 02:00 on Feb 2nd in New York
    const sfn = sfnStub(started);

    // When
    const result = await launchScheduled(SALES, new Date('2024-02-02T07:00:00Z'), deps(sfn.client));

    // Then
    expect(result).toMatchObject({ kind: 'launched', runs: [{ kind: 'started', partition: '2024-02-01' }] });
    expect(JSON.parse(sfn.calls[0]?.input ?? '{}')).toMatchObject({ partition: '2024-02-01', trigger: 'schedule' });
  });

  it('skips a schedule tick before the first partition', async () => {
    const sfn = sfnStub(started);
    const result = await launchScheduled(SALES, new Date('2024-01-01T07:00:00Z'), deps(sfn.client));

    expect(result.kind).toBe('skip');
    expect(sfn.calls).toHaveLength(0);
  });

  it('fails a schedule tick naming the static partitions that did not launch, after launching the others', async () => {
    // Given
    const regions: LauncherConfig = {
      name: 'regions',
      tasks: [],
      maxConcurrentRuns: 10,
      partitions: { kind: 'static', keys: ['eu', 'us'] },
      triggers: [],
    };
    const sfn = sfnStub((input) =>
      input.name === runIdOf('regions', 'us', 1) ? Promise.reject(new Error('Service unavailable')) : started(input),
    );

    // When
    const launch = launchScheduled(regions, NOW, deps(sfn.client));

    // Then
    await expect(launch).rejects.toThrow(ScheduledLaunchError);
    await expect(launch).rejects.toThrow('Pipeline "regions": 1 scheduled run(s) failed to launch: "us" (Service unavailable)');
    expect((await store.get('regions', 'eu'))?.status).toBe('RUNNING');
    expect((await store.get('regions', 'us'))?.status).toBe('FAILED');
  });

  describe('exactly once per (partition, data version)', () => {
    const object = (partition: string, etag: string, sequencer: string, name = 'a.csv') =>
      s3Version({ bucket: BUCKETS.raw, key: `sales/${partition}/${name}`, etag, sequencer });
    const arrival = (partition: string, version: ReturnType<typeof object>, sfn: StartExecutionClient) =>
      launchRun({ config: SALES, partition, trigger: 's3', consumes: version }, deps(sfn));
    const succeed = async (partition: string) => {
      const record = await store.get(SALES.name, partition);
      await store.markSucceeded(SALES.name, partition, record!.runId);
    };

    it('never starts another run for an object event delivered again, during its run or after it ended', async () => {
      // Given a run started by an object
      const sfn = sfnStub(started);
      expect((await arrival('2025-02-01', object('2025-02-01', 'e1', '0A'), sfn.client)).kind).toBe('started');

      // When the same event is delivered again during the run, and again after it succeeded
      const during = await arrival('2025-02-01', object('2025-02-01', 'e1', '0A'), sfn.client);
      await succeed('2025-02-01');
      const after = await arrival('2025-02-01', object('2025-02-01', 'e1', '0A'), sfn.client);

      // Then
      expect(during.kind).toBe('duplicate');
      expect(after).toMatchObject({ kind: 'duplicate', reason: expect.stringContaining('consumed by run 1') });
      expect(sfn.calls).toHaveLength(1);
      expect(await store.get(SALES.name, '2025-02-01')).toMatchObject({ status: 'SUCCEEDED', runNumber: 1 });
      expect(await store.get(SALES.name, '2025-02-01')).not.toHaveProperty('rerunRequested');
    });

    it('starts nothing for a re-upload of identical content (same key and ETag)', async () => {
      // Given
      const sfn = sfnStub(started);
      await arrival('2025-02-02', object('2025-02-02', 'e1', '0A'), sfn.client);
      await succeed('2025-02-02');

      // When the same content is uploaded again: a later event with the same ETag
      const again = await arrival('2025-02-02', object('2025-02-02', 'e1', '0B'), sfn.client);

      // Then
      expect(again).toMatchObject({ kind: 'duplicate', reason: expect.stringContaining('with the same content') });
      expect(sfn.calls).toHaveLength(1);
    });

    it('starts one new run for a changed object of a partition that already SUCCEEDED (late data)', async () => {
      // Given
      const sfn = sfnStub(started);
      await arrival('2025-02-03', object('2025-02-03', 'e1', '0A'), sfn.client);
      await succeed('2025-02-03');

      // When the object changes, and that event is delivered twice
      const late = await arrival('2025-02-03', object('2025-02-03', 'e2', '0B'), sfn.client);
      const lateAgain = await arrival('2025-02-03', object('2025-02-03', 'e2', '0B'), sfn.client);

      // Then
      expect(late).toMatchObject({ kind: 'started', runNumber: 2 });
      expect(lateAgain.kind).toBe('duplicate');
      expect(sfn.calls.map((c) => c.name)).toStrictEqual([1, 2].map((a) => runIdOf(SALES.name, '2025-02-03', a)));
    });

    it('causes exactly one follow-up run for several changes during a run', async () => {
      // Given a run in progress
      const sfn = sfnStub(started);
      const first = await arrival('2025-02-04', object('2025-02-04', 'e1', '0A'), sfn.client);

      // When three objects change during it, one of them twice, each event delivered twice
      const changes = [object('2025-02-04', 'e2', '0B'), object('2025-02-04', 'x1', '0C', 'b.csv'), object('2025-02-04', 'y1', '0D', 'c.csv')];
      const results = [];
      for (const change of [...changes, ...changes]) results.push(await arrival('2025-02-04', change, sfn.client));

      // Then one rerun is requested, naming the run in progress, and every object is recorded for it
      expect(results.map((r) => r.kind)).toStrictEqual(['rerun-requested', 'rerun-requested', 'rerun-requested', 'duplicate', 'duplicate', 'duplicate']);
      const record = await store.get(SALES.name, '2025-02-04');
      expect(record).toMatchObject({ status: 'RUNNING', runId: first.kind === 'started' ? first.runId : '', rerunRequested: true });
      expect(record?.consumed?.map((c) => [c.label, c.runNumber])).toStrictEqual([
        ['s3://prod-raw-1a2b/sales/2025-02-04/a.csv', 2],
        ['s3://prod-raw-1a2b/sales/2025-02-04/b.csv', 2],
        ['s3://prod-raw-1a2b/sales/2025-02-04/c.csv', 2],
      ]);
      expect(sfn.calls).toHaveLength(1);
    });

    it('never runs a schedule tick delivered again (same scheduled time), also after its run ended', async () => {
      // Given a tick that ran its partition
      const sfn = sfnStub(started);
      const tick = new Date('2025-02-06T11:00:00Z');
      const first = await launchScheduled(SALES, tick, deps(sfn.client));
      const partition = first.kind === 'launched' ? first.runs[0]!.partition : '';
      await succeed(partition);

      // When the same tick is delivered again
      const again = await launchScheduled(SALES, tick, deps(sfn.client));

      // Then
      expect(again).toStrictEqual({
        kind: 'launched',
        runs: [{ kind: 'duplicate', partition: '2025-02-05', reason: expect.stringContaining('schedule was consumed by run 1') }],
      });
      expect(sfn.calls).toHaveLength(1);
      expect((await store.get(SALES.name, partition))?.consumed).toStrictEqual([
        { ...scheduleVersion(tick), runNumber: 1, at: NOW.toISOString() },
      ]);
    });

    it('leaves the data of a launch whose StartExecution failed pending, and starts it on the next delivery', async () => {
      // Given an arrival whose StartExecution fails
      const failing = sfnStub(() => Promise.reject(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' })));
      const version = object('2025-02-07', 'e1', '0A');
      await expect(arrival('2025-02-07', version, failing.client)).rejects.toThrow('Rate exceeded');
      expect(await store.get(SALES.name, '2025-02-07')).toMatchObject({ status: 'FAILED', rerunRequested: true });

      // When the same event is delivered again
      const sfn = sfnStub(started);
      const again = await arrival('2025-02-07', version, sfn.client);

      // Then its data runs, once
      expect(again).toMatchObject({ kind: 'started', runNumber: 2 });
      expect(await arrival('2025-02-07', version, sfn.client)).toMatchObject({ kind: 'duplicate' });
      expect(sfn.calls).toHaveLength(1);
    });

    describe('of a partition the previous version ran (attempt, no runNumber)', () => {
      // A pipeline of their own: a run these tests leave RUNNING counts against no other test's limit.
      const LEGACY = { ...SALES, name: 'legacy-sales' };
      const legacyArrival = (partition: string, version: ReturnType<typeof object>, sfn: StartExecutionClient) =>
        launchRun({ config: LEGACY, partition, trigger: 's3', consumes: version }, deps(sfn));
      /** A consumed entry as the previous version wrote it, its run in `attempt`. */
      const legacyEntry = (version: ReturnType<typeof object>, attempt: number) => ({ ...version, attempt, at: '2025-01-01T00:00:00.000Z' });

      it('honours what its runs consumed, and starts run 4 for new data, migrating the item', async () => {
        // Given
        const version = object('2025-03-01', 'e1', '0A');
        await table.putPreviousVersionItem(LEGACY.name, '2025-03-01', { status: 'SUCCEEDED', attempt: 3, trigger: 's3', consumed: [legacyEntry(version, 3)] });
        const sfn = sfnStub(started);

        // When the consumed event is delivered again, then the object changes
        const again = await legacyArrival('2025-03-01', version, sfn.client);
        const changed = await legacyArrival('2025-03-01', object('2025-03-01', 'e2', '0B'), sfn.client);

        // Then
        expect(again).toMatchObject({ kind: 'duplicate', reason: expect.stringContaining('consumed by run 3') });
        expect(changed).toMatchObject({ kind: 'started', runNumber: 4, runId: runIdOf(LEGACY.name, '2025-03-01', 4) });
        expect(sfn.calls).toHaveLength(1);
        expect((await store.get(LEGACY.name, '2025-03-01'))?.consumed?.map((c) => c.runNumber)).toStrictEqual([4]);
        expect(await table.rawItem(LEGACY.name, '2025-03-01')).not.toHaveProperty('attempt');
      });

      it('starts the data its failed launch left pending as run 4', async () => {
        // Given a launch of the previous version whose StartExecution failed after it consumed the object
        const version = object('2025-03-02', 'e1', '0A');
        await table.putPreviousVersionItem(LEGACY.name, '2025-03-02', { status: 'FAILED', attempt: 3, trigger: 's3', consumed: [legacyEntry(version, 3)], rerunRequested: true });
        const sfn = sfnStub(started);

        // When the same event is delivered again
        const again = await legacyArrival('2025-03-02', version, sfn.client);

        // Then its data runs in run 4, which it is recorded as consumed by
        expect(again).toMatchObject({ kind: 'started', runNumber: 4 });
        expect((await store.get(LEGACY.name, '2025-03-02'))?.consumed?.map((c) => c.runNumber)).toStrictEqual([4]);
      });

      it('runs the next schedule tick as run 4', async () => {
        // Given
        const tick = new Date('2025-03-04T11:00:00Z');
        await table.putPreviousVersionItem(LEGACY.name, '2025-03-03', { status: 'SUCCEEDED', attempt: 3 });
        const sfn = sfnStub(started);

        // When
        const result = await launchScheduled(LEGACY, tick, deps(sfn.client));

        // Then
        expect(result).toMatchObject({ kind: 'launched', runs: [{ kind: 'started', partition: '2025-03-03', runNumber: 4 }] });
      });
    });

    it('lets one of two launchers racing with the same event win, and the other see a duplicate', async () => {
      // Given
      const sfn = sfnStub(started);
      const version = object('2025-02-08', 'e1', '0A');

      // When
      const results = await Promise.all([arrival('2025-02-08', version, sfn.client), arrival('2025-02-08', version, sfn.client)]);

      // Then
      expect(results.map((r) => r.kind).sort()).toStrictEqual(['duplicate', 'started']);
      expect(sfn.calls).toHaveLength(1);
    });
  });
});
