import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalStage, loadStage } from '../../../local/engine';
import { synthTestApp } from './fixtures/app';

let outdir: string;
let stage: LocalStage;

beforeAll(() => {
  outdir = mkdtempSync(join(tmpdir(), 'sluice-assembly-'));
  synthTestApp(outdir);
  stage = loadStage(outdir, 'local');
});

afterAll(() => rmSync(outdir, { recursive: true, force: true }));

describe('loadStage', () => {
  it('models each function with its bundle in cdk.out and its resolved environment', () => {
    // Given the synthesized two-stack stage
    // When it is loaded
    const greet = stage.functions.find((f) => f.logicalId.startsWith('Greet'));
    const worker = stage.functions.find((f) => f.logicalId.startsWith('Worker'));

    // Then names and ARNs are derived from stack and logical id, the bundles are found by asset hash,
    // and the cross-stack import resolves to the table's local name
    expect(greet).toMatchObject({
      stackName: 'local-Pipeline',
      name: `local-Pipeline-${greet?.logicalId}`,
      arn: `arn:aws:lambda:us-east-1:000000000000:function:local-Pipeline-${greet?.logicalId}`,
      handlerExport: 'handler',
      runtime: 'nodejs24.x',
      timeoutSeconds: 5,
      memoryMb: 128,
      environment: { GREETING: 'hi', TABLE_NAME: stage.tables[0].name },
    });
    expect(greet?.handlerFile).toMatch(new RegExp(`^${outdir}/asset\\.[0-9a-f]{64}/index\\.mjs$`));
    expect(worker).toMatchObject({ timeoutSeconds: 1, memoryMb: 256 });
    expect(worker?.handlerFile).toMatch(/\/index\.js$/);
  });

  it('resolves the intrinsics inside the state machine definition', () => {
    const flow = stage.findStateMachine('engine-test-flow');
    const worker = stage.functions.find((f) => f.logicalId.startsWith('Worker'));
    const states = flow?.definition.States as Record<string, Record<string, unknown>>;
    const branches = (states['Fan out'].Branches as { States: Record<string, Record<string, unknown>> }[]).map((b) => b.States);

    expect(flow?.arn).toBe('arn:aws:states:us-east-1:000000000000:stateMachine:engine-test-flow');
    expect(branches[1].Work).toMatchObject({
      Resource: 'arn:aws:states:::lambda:invoke',
      Parameters: { FunctionName: worker?.arn, Payload: { 'runId.$': '$.runId', 'retryCount.$': '$$.State.RetryCount' } },
    });
    expect(states.Record.Parameters).toMatchObject({ TableName: stage.tables[0].name });
  });

  it('models tables with what CreateTable needs', () => {
    expect(stage.tables).toStrictEqual([
      {
        stackName: 'local-Data',
        logicalId: stage.tables[0].logicalId,
        name: `local-Data-${stage.tables[0].logicalId}`,
        arn: `arn:aws:dynamodb:us-east-1:000000000000:table/local-Data-${stage.tables[0].logicalId}`,
        properties: {
          TableName: `local-Data-${stage.tables[0].logicalId}`,
          KeySchema: [{ AttributeName: 'runId', KeyType: 'HASH' }],
          AttributeDefinitions: [{ AttributeName: 'runId', AttributeType: 'S' }],
          BillingMode: 'PAY_PER_REQUEST',
        },
      },
    ]);
  });

  it('finds a function by unqualified or qualified ARN and by name', () => {
    const fn = stage.functions[0];
    expect(stage.findFunction(fn.arn)).toBe(fn);
    expect(stage.findFunction(`${fn.arn}:$LATEST`)).toBe(fn);
    expect(stage.findFunction(fn.name)).toBe(fn);
  });

  it('fails for a stage that was not synthesized, naming the stages there are', () => {
    expect(() => loadStage(outdir, 'prod')).toThrow(/holds no stage "prod" \(it has: local\)/);
  });
});
