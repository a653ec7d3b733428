import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DeleteItemCommand, DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { key, PartitionStore } from '../../orchestration/partition-store';
import { type ExecutionRecord, executionRecordFile, markRunning } from '../../local/engine/records';
import { LocalRuntime } from '../../local/runtime';
import { type SharedServices, useSharedServices } from '../../local/services/shared';
import { LocalStageView } from '../../local/stage-view';
import { projectDir } from '../cli/sluice';

// One home for the file: the stage (one unpartitioned pipeline of two tasks) is synthesized once.
const home = mkdtempSync(join(tmpdir(), 'sluice-stage-view-'));
const pipelinesDir = join(__dirname, 'fixtures/testing');
const PIPELINE = 'greet';
const PARTITION = 'default';

/**
 * `LocalStageView.open`, what `sluice status` reads with: it reads the partition table without
 * starting the runtime, and declines (the command then starts the runtime, which repairs first)
 * exactly when a start would repair something.
 */
describe('LocalStageView.open', () => {
  // The home's DynamoDB, held for the whole file so that it is not restarted between tests.
  let shared: SharedServices;
  let tableName: string;
  let stateMachine: string;
  let warnings: string[] = [];
  const open = () => LocalStageView.open({ projectDir, pipelinesDir, home, warn: (message) => warnings.push(message) });
  /** Whether the view opens (closed at once): `false` when it declines. */
  const opens = async () => {
    const view = await open();
    await view?.close();
    return view !== undefined;
  };
  const partitions = () => new PartitionStore(shared.dynamo.client(), tableName);
  /** Writes an execution record as a `sluice run` does, under the pipeline's state machine (marked running first if it runs). */
  const writeExecution = (name: string, content: string) => {
    const file = executionRecordFile(home, stateMachine, name);
    mkdirSync(dirname(file), { recursive: true });
    markRunning(home, stateMachine, name, true);
    writeFileSync(file, content);
  };
  const execution = (name: string, pid: number): ExecutionRecord => ({
    executionArn: `arn:aws:states:us-east-1:000000000000:execution:${stateMachine}:${name}`,
    stateMachineArn: `arn:aws:states:us-east-1:000000000000:stateMachine:${stateMachine}`,
    name,
    status: 'RUNNING',
    input: JSON.stringify({ partition: PARTITION, runId: name }),
    startDate: new Date().toISOString(),
    attempts: [],
    pid,
  });

  beforeAll(async () => {
    shared = await useSharedServices({ home, idleMs: 2_000 });
    // A runtime's start synthesizes the stage and creates its partition table; then nothing runs.
    await (await LocalRuntime.start({ projectDir, pipelinesDir, home })).stop();
    const view = await open();
    const pipeline = view!.pipeline(PIPELINE);
    await view!.close();
    tableName = pipeline.tableName;
    stateMachine = pipeline.stateMachine.name;
  }, 180_000);
  afterEach(async () => {
    warnings = [];
    rmSync(join(home, 'executions'), { recursive: true, force: true });
    await shared.dynamo.client().send(new DeleteItemCommand({ TableName: tableName, Key: key(PIPELINE, PARTITION) }));
  });
  afterAll(async () => {
    await shared?.release();
    rmSync(home, { recursive: true, force: true });
  });

  it('returns a view that reads the partition table when there is nothing to repair', async () => {
    // Given a partition that succeeded, and an execution still running in a live process (this one)
    const store = partitions();
    const claim = await store.claim(PIPELINE, PARTITION, { trigger: 'manual', now: new Date() });
    if (claim.kind !== 'claimed') throw new Error('the partition should be free');
    expect(await store.markSucceeded(PIPELINE, PARTITION, claim.runId)).toBe(true);
    writeExecution('in-progress', JSON.stringify(execution('in-progress', process.pid)));

    // When
    const view = await open();

    // Then it reads the table, without a runtime
    expect(view).toBeInstanceOf(LocalStageView);
    try {
      const [read] = await view!.partitions(PIPELINE, { now: new Date() });
      expect(read).toMatchObject({ partition: PARTITION, status: 'SUCCEEDED' });
    } finally {
      await view!.close();
    }
  });

  it('declines for an execution left RUNNING by a process that is gone', async () => {
    // Given the record of a `sluice run` whose process died
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    writeExecution('abandoned', JSON.stringify(execution('abandoned', dead)));

    // When / Then
    expect(await opens()).toBe(false);
  });

  it('declines for a partition RUNNING in the table', async () => {
    // Given a partition claimed by a launch (its execution may never have started)
    expect(await partitions().claim(PIPELINE, PARTITION, { trigger: 'manual', now: new Date() })).toMatchObject({ kind: 'claimed' });

    // When / Then
    expect(await opens()).toBe(false);
  });

  it('declines for a partition with a rerun requested', async () => {
    // Given a partition whose run failed and that still needs a run (not RUNNING)
    const store = partitions();
    const claim = await store.claim(PIPELINE, PARTITION, { trigger: 'manual', now: new Date() });
    if (claim.kind !== 'claimed') throw new Error('the partition should be free');
    expect(await store.markFailed(PIPELINE, PARTITION, claim.runId, { error: 'sluice.LaunchInterrupted', rerun: true })).toBe(true);
    expect(await store.listRunning(PIPELINE)).toStrictEqual([]);

    // When / Then
    expect(await opens()).toBe(false);
  });

  it('does not decline, nor warn, for a damaged execution record, which a start would not repair either', async () => {
    // Given a record cut short by a disk that filled up
    writeExecution('damaged', JSON.stringify(execution('damaged', 1)).slice(0, 40));

    // When / Then
    expect(await opens()).toBe(true);
    expect(warnings).toStrictEqual([]);
  });

  it('declines while the partition table does not exist, and opens once a start has created it', async () => {
    // Given a home whose table is gone (as before the first start)
    await shared.dynamo.client().send(new DeleteTableCommand({ TableName: tableName }));

    // When / Then
    expect(await opens()).toBe(false);

    // And when the runtime the command falls back to has started, there is nothing left to repair
    await (await LocalRuntime.start({ projectDir, pipelinesDir, home })).stop();
    expect(await opens()).toBe(true);
  }, 60_000);
});
