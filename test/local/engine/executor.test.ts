import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTableCommand, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalEngine, type LocalEngineProps } from '../../../local/engine';
import { markRunning } from '../../../local/engine/records';
import { type Dynalite, startDynalite } from '../../fixtures/dynalite';
import { synthTestApp } from './fixtures/app';

let outdir: string;
let home: string;
let dynalite: Dynalite;
let dynamoEndpoint: string;
let engine: LocalEngine;
let stateMachineArn: string;
let tableName: string;
const engines: LocalEngine[] = [];
let runs = 0;

function newEngine(props: Partial<LocalEngineProps> = {}): LocalEngine {
  const created = new LocalEngine({ assemblyDir: outdir, stage: 'local', dynamoEndpoint, home, retryIntervalMs: 0, ...props });
  engines.push(created);
  return created;
}

/** The fixture state machine's input: the worker fails `failTimes` times with `errorName`. */
function runInput(failTimes: number, errorName = 'TransientError', sleepMs = 0, resultBytes = 0, lateWrite = false) {
  const runId = `run-${++runs}`;
  return { runId, failTimes, errorName, sleepMs, resultBytes, lateWrite, lateFile: '' };
}

async function run(input: ReturnType<typeof runInput>, on = engine) {
  const { executionArn } = await on.startExecution({ stateMachineArn, name: input.runId, input: JSON.stringify(input) });
  return on.waitForExecution(executionArn);
}

/** Copies cdk.out and rewrites the Flow state machine's DefinitionString fragments. */
function editedAssembly(edit: (fragment: string) => string): string {
  const copy = mkdtempSync(join(tmpdir(), 'sluice-edited-'));
  cpSync(outdir, copy, { recursive: true });
  const manifest = JSON.parse(readFileSync(join(copy, 'assembly-local', 'manifest.json'), 'utf8'));
  const templateFile = Object.values(manifest.artifacts as Record<string, { properties?: { templateFile?: string } }>)
    .map((a) => a.properties?.templateFile)
    .find((f) => f?.includes('Pipeline'));
  const path = join(copy, 'assembly-local', String(templateFile));
  const template = JSON.parse(readFileSync(path, 'utf8'));
  for (const resource of Object.values(template.Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>)) {
    if (resource.Type !== 'AWS::StepFunctions::StateMachine') continue;
    const join = resource.Properties.DefinitionString as { 'Fn::Join': [string, unknown[]] };
    join['Fn::Join'][1] = join['Fn::Join'][1].map((part) => (typeof part === 'string' ? edit(part) : part));
  }
  writeFileSync(path, JSON.stringify(template));
  return copy;
}

beforeAll(async () => {
  outdir = mkdtempSync(join(tmpdir(), 'sluice-engine-'));
  home = mkdtempSync(join(tmpdir(), 'sluice-home-'));
  synthTestApp(outdir);
  dynalite = await startDynalite();
  dynamoEndpoint = dynalite.endpoint;
  engine = newEngine();
  const table = engine.stage.tables[0];
  tableName = table.name;
  await dynalite.client.send(new CreateTableCommand(table.properties as never));
  stateMachineArn = engine.stage.findStateMachine('engine-test-flow')?.arn ?? '';
});

afterAll(async () => {
  await Promise.all(engines.map((e) => e.close()));
  // A Parallel branch can still be running when its execution fails, as on AWS; closing the
  // engines stopped its sandbox, and a request it had sent is given time to be answered before
  // the table goes away.
  await new Promise((resolve) => setTimeout(resolve, 300));
  await dynalite.close();
  rmSync(outdir, { recursive: true, force: true });
  rmSync(home, { recursive: true, force: true });
});

describe('LocalEngine', () => {
  it('runs the Parallel branches and the DynamoDB task and returns the output', async () => {
    // Given a run whose worker succeeds at once
    const input = runInput(0);

    // When it runs
    const result = await run(input);

    // Then both bundles ran with their environment and the Lambda envelope, and the item was written
    expect(result.status).toBe('SUCCEEDED');
    const output = JSON.parse(result.output ?? 'null');
    expect(output.results.greet).toMatchObject({
      greeting: `hi ${input.runId}`,
      functionName: engine.stage.functions.find((f) => f.logicalId.startsWith('Greet'))?.name,
      tableName,
      dynamoEndpoint,
    });
    expect(output.results.greet.remainingMs).toBeGreaterThan(4000);
    expect(output.results.work).toStrictEqual({ value: { runId: input.runId, attempt: 1, retryCount: 0 }, status: 200, version: '$LATEST' });
    expect(output).toMatchObject({
      executionId: result.executionArn,
      executionName: input.runId,
      stateMachineName: 'engine-test-flow',
    });
    expect(result.executionArn).toBe(`arn:aws:states:us-east-1:000000000000:execution:engine-test-flow:${input.runId}`);
    expect(output.record.Attributes).toStrictEqual({
      runId: { S: input.runId },
      greeting: { S: `hi ${input.runId}` },
      execution: { S: result.executionArn },
    });
    expect(output.record.SdkHttpMetadata.HttpStatusCode).toBe(200);
    const item = await dynalite.client.send(new GetItemCommand({ TableName: tableName, Key: { runId: { S: input.runId } } }));
    expect(item.Item?.greeting).toStrictEqual({ S: `hi ${input.runId}` });
    // The bundle's own SDK client (runtime-provided, endpoint from the environment) reached dynalite.
    const greeted = await dynalite.client.send(new GetItemCommand({ TableName: tableName, Key: { runId: { S: `greeted-${input.runId}` } } }));
    expect(greeted.Item).toBeDefined();
  });

  it('retries a flaky task per its Retry and records every attempt', async () => {
    // Given a worker that fails twice with the retried error name
    const input = runInput(2);

    // When it runs
    const result = await run(input);

    // Then the third attempt succeeds, told it is the second retry ($$.State.RetryCount, as on
    // AWS), and the attempts show the two failures
    expect(result.status).toBe('SUCCEEDED');
    expect(JSON.parse(result.output ?? 'null').results.work.value).toStrictEqual({ runId: input.runId, attempt: 3, retryCount: 2 });
    const work = result.attempts.filter((a) => a.state === 'Work');
    expect(work.map((a) => [a.attempt, a.error])).toStrictEqual([
      [1, 'TransientError'],
      [2, 'TransientError'],
      [3, undefined],
    ]);
    expect(JSON.parse(work[0].cause ?? '{}')).toMatchObject({ errorType: 'TransientError', errorMessage: `source for ${input.runId} unavailable (attempt 1)` });
    expect(work.every((a) => a.endDate !== undefined)).toBe(true);
    expect(result.attempts.filter((a) => a.state === 'Greet task')).toHaveLength(1);
  });

  it('fails the execution on a permanent failure with the Error and Cause AWS reports', async () => {
    // Given a worker that always fails with an error no Retry or Catch names
    const input = runInput(-1, 'Error');

    // When it runs
    const result = await run(input);

    // Then the execution fails with the Lambda error's name and its JSON cause, after one attempt
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('Error');
    const cause = JSON.parse(result.cause ?? '{}');
    expect(cause).toMatchObject({ errorType: 'Error', errorMessage: `source for ${input.runId} unavailable (attempt 1)` });
    expect(cause.trace[0]).toBe(`Error: source for ${input.runId} unavailable (attempt 1)`);
    expect(result.attempts.filter((a) => a.state === 'Work')).toHaveLength(1);
  });

  it('fails a task that outlives its function timeout with Sandbox.Timedout', async () => {
    const result = await run(runInput(0, 'Error', 1500));

    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('Sandbox.Timedout');
    expect(JSON.parse(result.cause ?? '{}').errorMessage).toMatch(/Task timed out after 1\.00 seconds$/);
  });

  it('lets an attempt that ends within its timeout write its output (as the next test\'s attempt would have)', async () => {
    const input = runInput(0, 'Error', 10, 0, true);
    expect((await run(input)).status).toBe('SUCCEEDED');
    const late = await dynalite.client.send(new GetItemCommand({ TableName: tableName, Key: { runId: { S: `late-${input.runId}` } } }));
    expect(late.Item).toBeDefined();
  });

  it('refuses the AWS calls a timed-out attempt makes after its timeout, as Lambda would have stopped it', async () => {
    // Given a worker that writes its output after 1.5 s, with a timeout of 1 s
    const input = runInput(0, 'Error', 1500, 0, true);

    // When it runs, and the time it would have written has passed
    const result = await run(input);
    await new Promise((resolve) => setTimeout(resolve, 1000));

    // Then the attempt timed out and its write never reached the table
    expect(result.error).toBe('Sandbox.Timedout');
    const late = await dynalite.client.send(new GetItemCommand({ TableName: tableName, Key: { runId: { S: `late-${input.runId}` } } }));
    expect(late.Item).toBeUndefined();
  });

  it('stops a timed-out attempt: its timers and local file writes never happen after its timeout', async () => {
    // Given a worker that appends to a local file from a timer and after its sleep of 1.5 s, with a timeout of 1 s
    const lateFile = join(home, `late-${runs}.txt`);
    const input = { ...runInput(0, 'Error', 1500), lateFile };

    // When it runs, and the time it would have written has passed
    const result = await run(input);
    await new Promise((resolve) => setTimeout(resolve, 1000));

    // Then the attempt timed out and nothing of it ran after that
    expect(result.error).toBe('Sandbox.Timedout');
    expect(existsSync(lateFile)).toBe(false);
  });

  it('fails an invocation whose heap grows past the function\'s memory size with Runtime.OutOfMemory, and the next one succeeds', async () => {
    // Given the greet function, with 128 MB
    const greet = engine.stage.functions.find((fn) => fn.name.includes('Greet'))!;
    expect(greet.memoryMb).toBe(128);

    // When one invocation holds 300 MB, and another 16 MB after it
    const hungry = await engine.invoke(greet.arn, { name: 'hungry', allocateMb: 300 });
    const next = await engine.invoke(greet.arn, { name: 'next', allocateMb: 16 });

    // Then the first failed as Lambda reports it, and the second ran in a fresh sandbox
    expect(hungry).toMatchObject({ ok: false, errorType: 'Runtime.OutOfMemory' });
    expect(next).toMatchObject({ ok: true, payload: { greeting: 'hi next', heldMb: 16 } });
  });

  it('ends a sandbox whose callback throws after its invocation returned, and runs the next invocation in a fresh one', async () => {
    // Given an invocation that succeeded but left a timer that throws
    const worker = engine.stage.functions.find((fn) => fn.name.includes('Worker'))!;
    const first = await engine.invoke(worker.arn, { ...runInput(0), throwAfterMs: 50 });
    await new Promise((resolve) => setTimeout(resolve, 300));

    // When the function is invoked again
    const input = runInput(0);
    const next = await engine.invoke(worker.arn, input);

    // Then both succeeded: the crash took down only the idle sandbox
    expect(first.ok).toBe(true);
    expect(next).toMatchObject({ ok: true, payload: { runId: input.runId, attempt: 1 } });
  });

  it('ends the attempt a stop cuts short as aborted, leaving no task running', async () => {
    // Given a run whose worker takes most of its second
    const input = runInput(0, 'Error', 800);
    const { executionArn } = await engine.startExecution({ stateMachineArn, name: input.runId, input: JSON.stringify(input) });
    while (!engine.describeExecution(executionArn).attempts.some((a) => a.state === 'Work')) await new Promise((resolve) => setTimeout(resolve, 10));

    // When the execution is stopped during the attempt
    await engine.stopExecution(executionArn, { error: 'Cancelled', cause: 'test' });
    const result = await engine.waitForExecution(executionArn);

    // Then the attempt ended with the execution, aborted
    expect(result.status).toBe('ABORTED');
    const [work] = result.attempts.filter((a) => a.state === 'Work');
    expect(work).toMatchObject({ error: 'States.Aborted' });
    expect(work.endDate).toBeDefined();
  });

  it('catches an error by its name and hands the Catch the error and cause', async () => {
    // Given a worker failing with the error name the Catch matches
    const input = runInput(-1, 'SourceUnavailableError');

    // When it runs
    const result = await run(input);

    // Then the Recovered state received the AWS-shaped error and the run succeeded
    expect(result.status).toBe('SUCCEEDED');
    const recovered = JSON.parse(result.output ?? 'null').results.work.recovered;
    expect(recovered.Error).toBe('SourceUnavailableError');
    expect(JSON.parse(recovered.Cause)).toMatchObject({ errorType: 'SourceUnavailableError' });
  });

  it('runs the definition cdk.out holds: an edit to its ASL changes what runs', async () => {
    // Given cdk.out whose Start state was edited after synth
    const edited = editedAssembly((part) => part.replace('"runId.$":"$.runId"', '"runId.$":"$.runId","edited":"in cdk.out"'));
    const editedEngine = newEngine({ assemblyDir: edited });

    // When a run starts on it
    const result = await run(runInput(0), editedEngine);

    // Then the edit shows in the output
    expect(JSON.parse(result.output ?? 'null').edited).toBe('in cdk.out');
    rmSync(edited, { recursive: true, force: true });
  });

  it('fails to start a definition with an unsupported integration, naming the state', async () => {
    // Given cdk.out where the Work task became a .sync integration
    const edited = editedAssembly((part) => part.replace(':states:::lambda:invoke', ':states:::glue:startJobRun.sync'));
    const editedEngine = newEngine({ assemblyDir: edited });

    // When a run starts, then it is refused before anything runs
    await expect(
      editedEngine.startExecution({ stateMachineArn, name: 'unsupported', input: JSON.stringify(runInput(0)) }),
    ).rejects.toThrow(/state "Work" \(branch 2 of "Fan out"\): resource arn:aws:states:::glue:startJobRun\.sync is not supported locally/);
    rmSync(edited, { recursive: true, force: true });
  });

  it('fails to start a definition that takes $$.State.RetryCount where the local runtime cannot supply it, naming the state', async () => {
    // Given cdk.out where the Greet task (a Lambda ARN resource, not lambda:invoke) takes the retry count
    const edited = editedAssembly((part) => part.replace('"name.$":"$.runId"', () => '"name.$":"States.Format(\'{}\', $$.State.RetryCount)"'));
    const editedEngine = newEngine({ assemblyDir: edited });

    // When a run starts, then it is refused before anything runs
    await expect(
      editedEngine.startExecution({ stateMachineArn, name: 'retry-count-in-format', input: JSON.stringify(runInput(0)) }),
    ).rejects.toThrow(/state "Greet task" \(branch 1 of "Fan out"\): the context object field \$\$\.State\.RetryCount is supplied locally only to lambda:invoke Tasks/);
    rmSync(edited, { recursive: true, force: true });
  });

  it('fails to start a second execution with the same name: ExecutionAlreadyExists', async () => {
    // Given a finished execution
    const input = runInput(0);
    await run(input);

    // When the name is used again through the Step Functions client adapter
    const again = engine.sfnClient.send(new StartExecutionCommand({ stateMachineArn, name: input.runId, input: JSON.stringify(input) }));

    // Then it is refused as AWS refuses it
    await expect(again).rejects.toMatchObject({ name: 'ExecutionAlreadyExists' });
    await expect(again).rejects.toThrow(`Execution Already Exists: 'arn:aws:states:us-east-1:000000000000:execution:engine-test-flow:${input.runId}'`);
  });

  it('remembers executions across engines through SLUICE_HOME', async () => {
    // Given an execution run by one engine
    const input = runInput(0);
    await run(input);

    // When another engine on the same home lists and reuses the name
    const other = newEngine();

    // Then it knows it
    expect(other.listExecutions(stateMachineArn).find((e) => e.name === input.runId)?.status).toBe('SUCCEEDED');
    await expect(other.startExecution({ stateMachineArn, name: input.runId, input: '{}' })).rejects.toMatchObject({ name: 'ExecutionAlreadyExists' });
  });

  /**
   * Runs an execution to its end, then rewrites its record as a process that is gone left it
   * mid-run: marked running in the index (unless `marked` is false, as an earlier version left
   * it), then its record written RUNNING with that process's pid.
   */
  async function abandonedExecution(marked = true): Promise<{ name: string; file: string; dir: string; stateMachine: string }> {
    const input = runInput(0);
    await run(input);
    const stateMachine = engine.stage.findStateMachine(stateMachineArn)!.name;
    const dir = join(home, 'executions', stateMachine);
    const file = join(dir, `${input.runId}.json`);
    const ended = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    if (marked) markRunning(home, stateMachine, input.runId, true);
    writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), status: 'RUNNING', stopDate: undefined, output: undefined, pid: Number(ended.stdout) }));
    return { name: input.runId, file, dir, stateMachine };
  }

  it('aborts the executions a process that is gone left RUNNING, and emits their status change', async () => {
    // Given an execution record left RUNNING by a process that has ended
    const { name, file } = await abandonedExecution();

    // When another engine on the same home looks for abandoned executions
    const other = newEngine();
    const changes: string[] = [];
    other.onStatusChange((event) => changes.push(`${event.detail.name} ${event.detail.status}`));
    const aborted = other.abortAbandoned();

    // Then that one is ABORTED, on disk too, and reported
    expect(aborted.map((r) => r.name)).toStrictEqual([name]);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ status: 'ABORTED', error: 'sluice.ProcessEnded' });
    expect(changes).toStrictEqual([`${name} ABORTED`]);
    // And executions of live processes are left alone
    expect(newEngine().abortAbandoned()).toStrictEqual([]);
  });

  it('finds abandoned executions without reading the history: a start costs the same after 10,000 runs', async () => {
    // Given an abandoned execution among records that ended, which would each warn if read (damaged)
    const { name, dir } = await abandonedExecution();
    for (let i = 0; i < 50; i++) writeFileSync(join(dir, `history-${i}.json`), '{"status": "SUCC');

    // When a new engine looks for abandoned executions
    const warnings: string[] = [];
    const aborted = newEngine({ warn: (message) => warnings.push(message) }).abortAbandoned();

    // Then it finds that one, and read none of the history
    expect(aborted.map((r) => r.name)).toStrictEqual([name]);
    expect(warnings).toStrictEqual([]);
    for (let i = 0; i < 50; i++) rmSync(join(dir, `history-${i}.json`));
  });

  it('finds the abandoned executions of a home written before the index, from every record once', async () => {
    // Given a home whose index is gone (as one written by an earlier version) and a record left RUNNING
    const { name, stateMachine } = await abandonedExecution(false);
    rmSync(join(home, 'running-executions'), { recursive: true, force: true });

    // When a new engine looks for abandoned executions
    const aborted = newEngine().abortAbandoned();

    // Then it finds it, and the index is back, without it
    expect(aborted.map((r) => r.name)).toStrictEqual([name]);
    expect(existsSync(join(home, 'running-executions', stateMachine, name))).toBe(false);
  });

  it('fails to start an execution with an invalid name', async () => {
    await expect(engine.startExecution({ stateMachineArn, name: 'bad name|x', input: '{}' })).rejects.toThrow(
      "Invalid Name: 'bad name|x' (1 to 80 characters of A-Z, a-z, 0-9, _ and -)",
    );
  });

  it('fails a task whose result is over 256 KB with States.DataLimitExceeded', async () => {
    const result = await run(runInput(0, 'Error', 0, 300 * 1024));

    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('States.DataLimitExceeded');
    expect(result.cause).toMatch(/over the limit of 262144/);
  });

  it('fails to start an execution whose input is over 256 KB', async () => {
    const input = { ...runInput(0), pad: 'x'.repeat(300 * 1024) };

    await expect(engine.startExecution({ stateMachineArn, name: input.runId, input: JSON.stringify(input) })).rejects.toThrow(
      'Execution input exceeds the maximum of 262144 bytes',
    );
  });
});
