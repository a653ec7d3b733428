import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalEngine, loadStage } from '../../../local/engine';
import { LocalAuthorizer } from '../../../local/iam/authorizer';
import { synthChildExecutionsApp } from './fixtures/child-executions-app';

let outdir: string;
let home: string;
let engine: LocalEngine;
let parentArn: string;
let childArn: string;

interface Item {
  value: number;
  fail: boolean;
  waitSeconds: number;
}

async function runParent(prefix: string, items: Item[], concurrency: number) {
  const { executionArn } = await engine.startExecution({
    stateMachineArn: parentArn,
    name: prefix,
    input: JSON.stringify({ prefix, items, concurrency }),
  });
  return { executionArn, done: engine.waitForExecution(executionArn) };
}

beforeAll(() => {
  outdir = mkdtempSync(join(tmpdir(), 'sluice-children-'));
  home = mkdtempSync(join(tmpdir(), 'sluice-children-home-'));
  synthChildExecutionsApp(outdir);
  // No DynamoDB task in these state machines: the endpoint is never called.
  engine = new LocalEngine({ assemblyDir: outdir, stage: 'local', dynamoEndpoint: 'http://127.0.0.1:9', home });
  parentArn = engine.stage.findStateMachine('child-executions-parent')!.arn;
  childArn = engine.stage.findStateMachine('child-executions-child')!.arn;
});

afterAll(async () => {
  await engine.close();
  rmSync(outdir, { recursive: true, force: true });
  rmSync(home, { recursive: true, force: true });
});

describe('Distributed Map and startExecution.sync:2 on the local engine', () => {
  it('runs each item as a child that starts an execution, waits for it, and returns its JSON output', async () => {
    // When
    const items = [1, 2, 3].map((value) => ({ value, fail: false, waitSeconds: 0 }));
    const result = await (await runParent('doubles', items, 2)).done;

    // Then the Map's output holds each started execution's output, in item order
    expect(result.status).toBe('SUCCEEDED');
    expect(JSON.parse(result.output!)).toStrictEqual([
      { output: { doubled: 2 }, status: 'SUCCEEDED' },
      { output: { doubled: 4 }, status: 'SUCCEEDED' },
      { output: { doubled: 6 }, status: 'SUCCEEDED' },
    ]);
    // And the started executions exist under the names the items chose
    const started = engine.listExecutions(childArn).map((e) => e.name);
    expect(started).toEqual(expect.arrayContaining(['doubles-0', 'doubles-1', 'doubles-2']));
  });

  it('fails the Task of a child execution that failed with States.TaskFailed and its description as the cause', async () => {
    // When
    const result = await (await runParent('failing', [{ value: 1, fail: true, waitSeconds: 0 }], 1)).done;

    // Then the Catch got what AWS hands it
    expect(result.status).toBe('SUCCEEDED');
    const [caught] = JSON.parse(result.output!) as { error: string; cause: string }[];
    expect(caught.error).toBe('States.TaskFailed');
    expect(JSON.parse(caught.cause)).toMatchObject({ Status: 'FAILED', Error: 'ItemError', Cause: 'the item asked to fail', Name: 'failing-0' });
  });

  it('keeps at most MaxConcurrencyPath items in flight', async () => {
    // When five items that each wait a second run two at a time
    const items = [1, 2, 3, 4, 5].map((value) => ({ value, fail: false, waitSeconds: 1 }));
    const result = await (await runParent('limited', items, 2)).done;

    // Then no more than two child runs overlapped, and two did
    expect(result.status).toBe('SUCCEEDED');
    const runs = engine.listExecutions(childArn).filter((e) => e.name.startsWith('limited-'));
    // At each start, the runs in flight: started then or before, not yet stopped.
    const inFlight = runs.map((a) => runs.filter((b) => b.startDate <= a.startDate && a.startDate < b.stopDate!).length);
    expect(runs).toHaveLength(5);
    expect(Math.max(...inFlight)).toBe(2);
  });

  it('stops the executions it started when it is stopped', async () => {
    // Given a parent waiting on a child that waits a minute
    const { executionArn, done } = await runParent('stopped', [{ value: 1, fail: false, waitSeconds: 60 }], 1);
    const deadline = Date.now() + 5_000;
    while (!engine.listExecutions(childArn).some((e) => e.name === 'stopped-0') && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }

    // When
    await engine.stopExecution(executionArn, { error: 'Cancelled', cause: 'test' });

    // Then both ended ABORTED
    expect(await done).toMatchObject({ status: 'ABORTED', error: 'Cancelled', cause: 'test' });
    const child = await engine.waitForExecution(`${childArn.replace(':stateMachine:', ':execution:')}:stopped-0`);
    expect(child.status).toBe('ABORTED');
  });
});

describe('the IAM of Distributed Map and startExecution.sync:2 on the local engine', () => {
  interface Statement {
    Action: string | string[];
  }
  interface Template {
    Resources: Record<string, { Type: string; Properties: { PolicyDocument: { Statement: Statement[] } } }>;
  }

  /** The fixture with the parent's role missing what `drop` selects; returns how to run the parent under IAM. */
  async function parentWithout(drop: (id: string, statement: Statement) => boolean) {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-children-iam-'));
    const runHome = mkdtempSync(join(tmpdir(), 'sluice-children-iam-home-'));
    synthChildExecutionsApp(dir);
    const assembly = join(dir, 'assembly-local');
    for (const file of readdirSync(assembly).filter((f) => f.endsWith('.template.json'))) {
      const template = JSON.parse(readFileSync(join(assembly, file), 'utf8')) as Template;
      for (const [id, resource] of Object.entries(template.Resources)) {
        if (resource.Type !== 'AWS::IAM::Policy') continue;
        const document = resource.Properties.PolicyDocument;
        document.Statement = document.Statement.filter((statement) => !drop(id, statement));
      }
      writeFileSync(join(assembly, file), JSON.stringify(template));
    }
    const denied = new LocalEngine({
      assemblyDir: dir,
      stage: 'local',
      dynamoEndpoint: 'http://127.0.0.1:9',
      home: runHome,
      authorizer: LocalAuthorizer.of(loadStage(dir, 'local')),
    });
    const arn = denied.stage.findStateMachine('child-executions-parent')!.arn;
    const { executionArn } = await denied.startExecution({
      stateMachineArn: arn,
      name: 'denied',
      input: JSON.stringify({ prefix: 'denied', items: [{ value: 1, fail: false, waitSeconds: 0 }], concurrency: 1 }),
    });
    try {
      return await denied.waitForExecution(executionArn);
    } finally {
      await denied.close();
      rmSync(dir, { recursive: true, force: true });
      rmSync(runHome, { recursive: true, force: true });
    }
  }

  const actions = (statement: Statement) => [statement.Action].flat();

  it('fails the Task of a start its role may not make, with the AccessDenied Step Functions reports', async () => {
    // When the parent's role lost states:StartExecution on the child (CDK grants it with the Task)
    const result = await parentWithout((id, s) => !id.includes('DistributedMap') && actions(s).includes('states:StartExecution'));

    // Then the Task failed with the error Step Functions reports, naming the action and the child
    expect(result.status).toBe('SUCCEEDED');
    const [caught] = JSON.parse(result.output!) as { error: string; cause: string }[];
    expect(caught.error).toBe('StepFunctions.AWSStepFunctionsException');
    expect(caught.cause).toMatch(/is not authorized to perform: states:StartExecution on resource: arn:aws:states:us-east-1:000000000000:stateMachine:child-executions-child/);
  });

  it('fails a Distributed Map whose role may not start its own child executions', async () => {
    // When the policy CDK adds for the Distributed Map is gone
    const result = await parentWithout((id) => id.includes('DistributedMap'));

    // Then
    expect(result.status).toBe('FAILED');
    expect(result).toMatchObject({ error: 'States.Runtime' });
    expect(result.cause).toMatch(/could not start its child executions: .*states:StartExecution on resource: .*stateMachine:child-executions-parent/);
  });
});
