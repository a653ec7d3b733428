import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AssetStaging } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import aslValidator from 'asl-validator';
import { beforeAll, describe, expect, it } from 'vitest';
import { PipelineStateMachine, RUN_STATES, STATE_MACHINE_METADATA_KEY, TASK_BUCKETS_ENV } from '../../lib/constructs';
import { compilePipeline, pipeline, task } from '../../lib';
import { type RenderedWrite, renderStatusWrite, STATUS_WRITES } from '../../lib/compile/partition-item';
import { RUN_ENDED_OUTPUT } from '../../lib/compile/contract';
import type { LoadedPipeline } from '../../lib/loader';
import { allStates, definitions, loadFixture, logicalIdOf, testStack, type Asl } from './helpers';

describe('PipelineStateMachine', () => {
  let fanout: LoadedPipeline;
  let template: Template;
  let asl: Asl;
  let machine: PipelineStateMachine;

  beforeAll(async () => {
    // Given the fixture a → (b ∥ c) → d
    fanout = await loadFixture('fanout');
    const { stack, table } = testStack();
    // When it is built into a stack
    machine = new PipelineStateMachine(stack, 'Run', { pipeline: fanout.compiled, handlers: fanout.handlers, table });
    template = Template.fromStack(stack);
    [asl] = definitions(template);
  });

  it('creates one Node.js 24 function per task with its memory and timeout', () => {
    template.resourceCountIs('AWS::Lambda::Function', 4);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Handler: 'index.handler',
      MemorySize: 1024,
      Timeout: 300,
      Description: 'sluice fanout: task b',
    });
    template.hasResourceProperties('AWS::Lambda::Function', { Timeout: 900, Description: 'sluice fanout: task d' });
  });

  it("runs each task's handler in sluice's wrapper, which logs each invocation's run, task and attempt, in Lambda's JSON log format", () => {
    // The bundle's entry is the generated wrapper: it holds the wrapper's start line and the handler
    const stage = machine.functions.b.node.findChild('Code').node.findChild('Stage') as AssetStaging;
    const bundle = readFileSync(join(stage.absoluteStagedPath, 'index.mjs'), 'utf8');
    expect(bundle).toContain('task attempt started');
    expect(bundle).toContain('after:Object.keys(');
    expect(bundle).not.toContain('aws-cdk-lib');
    // Lambda writes every console line as JSON with the request id, which the start line names
    for (const task of ['a', 'b', 'c', 'd']) {
      template.hasResourceProperties('AWS::Lambda::Function', {
        Description: `sluice fanout: task ${task}`,
        Handler: 'index.handler',
        LoggingConfig: Match.objectLike({ LogFormat: 'JSON' }),
      });
    }
  });

  it('tells each task its retry count in the run ($$.State.RetryCount)', () => {
    for (const task of ['a', 'b', 'c', 'd']) {
      expect((allStates(asl)[task].Parameters as { Payload: Record<string, unknown> }).Payload['retryCount.$']).toBe('$$.State.RetryCount');
    }
  });

  it('gives every function a log group with a retention', () => {
    template.resourceCountIs('AWS::Logs::LogGroup', 5);
    template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  it('wraps the flow in one Parallel that records any failure, between the status updates', () => {
    expect(asl.StartAt).toBe(RUN_STATES.start);
    // Every run input names its partitions and their range (one partition, or a backfill batch)
    expect(asl.States[RUN_STATES.start]).toMatchObject({
      Type: 'Pass',
      Parameters: { 'partitions.$': '$.partitions', 'range.$': '$.range', results: {} },
      Next: RUN_STATES.markRunning,
    });
    expect(asl.States[RUN_STATES.markRunning]).toMatchObject({ Type: 'Task', Next: RUN_STATES.run, ResultPath: null });
    expect(asl.States[RUN_STATES.run]).toMatchObject({
      Type: 'Parallel',
      OutputPath: '$[0]',
      Next: RUN_STATES.markSucceeded,
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: RUN_STATES.markFailed }],
    });
    expect(asl.States[RUN_STATES.markFailed]).toMatchObject({ Next: RUN_STATES.failed });
    expect(asl.States[RUN_STATES.markRunning].Catch).toStrictEqual([
      { ErrorEquals: ['DynamoDB.ConditionalCheckFailedException'], ResultPath: '$.superseded', Next: RUN_STATES.superseded },
    ]);
    expect(asl.States[RUN_STATES.superseded]).toMatchObject({ Type: 'Fail', Error: 'sluice.RunSuperseded' });
    expect(asl.States[RUN_STATES.failed]).toStrictEqual({ Type: 'Fail', ErrorPath: '$.failure.Error', CausePath: '$.failure.Cause' });
    expect(asl.States[RUN_STATES.markSucceeded]).toMatchObject({ Next: RUN_STATES.succeeded });
    expect(asl.States[RUN_STATES.markSucceededRerunRequested]).toMatchObject({ Next: RUN_STATES.succeeded });
  });

  it('writes the partition item\'s three status writes, from the run\'s state and context', () => {
    // The expressions are the partition item's (STATUS_WRITES, PartitionStore renders the same);
    // what the state machine gives each is the run's own values
    const json = (value: string): Record<string, string> => ({ 'S.$': value });
    const literal = (text: string): Record<string, string> => ({ S: text });
    const expected: Record<string, RenderedWrite<Record<string, string>>> = {
      [RUN_STATES.markRunning]: renderStatusWrite(STATUS_WRITES.running, literal, {
        runId: json('$.runId'),
        pipeline: { S: 'fanout' },
        runNumber: { 'N.$': "States.Format('{}', $.runNumber)" },
        startedAt: json('$$.Execution.StartTime'),
        executionArn: json('$$.Execution.Id'),
      }),
      [RUN_STATES.markSucceeded]: renderStatusWrite(STATUS_WRITES.succeeded, literal, { runId: json('$.runId'), finishedAt: json('$$.State.EnteredTime') }),
      [RUN_STATES.markFailed]: renderStatusWrite(STATUS_WRITES.failed, literal, {
        runId: json('$.runId'),
        finishedAt: json('$$.State.EnteredTime'),
        error: json('$.failure.Error'),
        cause: json('$.failure.Cause'),
      }),
    };
    // The succeeded write is made as one of two: unless a rerun was requested, else as it is
    const succeeded = expected[RUN_STATES.markSucceeded]!;
    expected[RUN_STATES.markSucceededRerunRequested] = succeeded;
    expected[RUN_STATES.markSucceeded] = {
      ...succeeded,
      conditionExpression: `${succeeded.conditionExpression} AND attribute_not_exists(#rerunRequested)`,
      names: { ...succeeded.names, '#rerunRequested': 'rerunRequested' },
    };
    for (const [state, write] of Object.entries(expected)) {
      const params = asl.States[state]!.Parameters as Record<string, unknown>;
      expect(params.Key, state).toStrictEqual({ pipeline: { S: 'fanout' }, partition: { 'S.$': '$.partition' } });
      expect(params, state).toMatchObject({
        UpdateExpression: write.updateExpression,
        ConditionExpression: write.conditionExpression,
        ExpressionAttributeNames: write.names,
        ExpressionAttributeValues: write.values,
      });
    }
  });

  it('writes a run\'s outcome only while the partition names that run, and ends the run either way when it does not', () => {
    // A conditional failure is not an error of the run: it ends as it would have
    expect(asl.States[RUN_STATES.markSucceeded].Catch).toStrictEqual([
      { ErrorEquals: ['DynamoDB.ConditionalCheckFailedException'], ResultPath: null, Next: RUN_STATES.markSucceededRerunRequested },
    ]);
    expect(asl.States[RUN_STATES.markSucceededRerunRequested].Catch).toStrictEqual([
      { ErrorEquals: ['DynamoDB.ConditionalCheckFailedException'], ResultPath: '$.notRecorded', Next: RUN_STATES.succeeded },
    ]);
    expect(asl.States[RUN_STATES.markFailed].Catch).toStrictEqual([
      { ErrorEquals: ['DynamoDB.ConditionalCheckFailedException'], ResultPath: '$.notRecorded', Next: RUN_STATES.failed },
    ]);
  });

  it('tells the run monitor in the output of a successful run whether its end write found a rerun requested', () => {
    expect(asl.States[RUN_STATES.markSucceeded]).toMatchObject({ ResultSelector: { rerunRequested: false }, ResultPath: `$.${RUN_ENDED_OUTPUT}` });
    expect(asl.States[RUN_STATES.markSucceededRerunRequested]).toMatchObject({ ResultSelector: { rerunRequested: true }, ResultPath: `$.${RUN_ENDED_OUTPUT}` });
  });

  it('retries every status write\'s transient errors, never a failed condition', () => {
    for (const state of [RUN_STATES.markRunning, RUN_STATES.markSucceeded, RUN_STATES.markSucceededRerunRequested, RUN_STATES.markFailed]) {
      expect(asl.States[state].Retry).toStrictEqual([
        {
          ErrorEquals: [
            'DynamoDB.ConditionalCheckFailedException',
            'DynamoDB.ValidationException',
            'DynamoDB.ResourceNotFoundException',
            'DynamoDB.AccessDeniedException',
          ],
          MaxAttempts: 0,
        },
        { ErrorEquals: ['States.ALL'], IntervalSeconds: 1, MaxAttempts: 5, BackoffRate: 2, MaxDelaySeconds: 8, JitterStrategy: 'FULL' },
      ]);
    }
  });

  it('runs independent tasks in the branches of a Parallel', () => {
    const run = asl.States[RUN_STATES.run].Branches![0];
    expect(run.StartAt).toBe('Reuse a?');
    expect(run.States['Record a'].Next).toBe('Parallel 1');
    const parallel = run.States['Parallel 1'];
    expect(parallel.Branches!.map((b) => b.StartAt)).toStrictEqual(['Reuse b?', 'Reuse c?']);
    expect(parallel.Next).toBe('Reuse d?');
  });

  it('skips a task the run input says to reuse, taking the result the named run recorded', () => {
    // Given the states around task b
    const states = allStates(asl);
    // Then the choice executes b unless $.reuse.b names a run
    expect(states['Reuse b?']).toStrictEqual({
      Type: 'Choice',
      Choices: [{ Variable: '$.reuse.b', IsPresent: true, Next: 'Reuse b' }],
      Default: 'b',
    });
    // And the reuse reads that run's recorded result into the task's result
    expect(states['Reuse b']).toMatchObject({
      Type: 'Task',
      Resource: expect.stringMatching(/:::dynamodb:getItem$/),
      Parameters: {
        Key: { pipeline: { 'S.$': "States.Format('run#{}', $.reuse.b)" }, partition: { S: 'task#b' } },
        ConsistentRead: true,
      },
      ResultSelector: { 'value.$': 'States.StringToJson($.Item.value.S)' },
      ResultPath: '$.results.b',
      Next: 'Record b',
    });
    expect(states.b.Next).toBe('Record b');
  });

  it('records every task result under the run, executed or reused, retrying DynamoDB errors', () => {
    const record = allStates(asl)['Record b'];
    expect(record).toMatchObject({
      Type: 'Task',
      Resource: expect.stringMatching(/:::dynamodb:putItem$/),
      ResultPath: null,
      Parameters: {
        Item: {
          pipeline: { 'S.$': "States.Format('run#{}', $.runId)" },
          partition: { S: 'task#b' },
          value: { 'S.$': 'States.JsonToString($.results.b.value)' },
          runPipeline: { S: 'fanout' },
        },
      },
      Retry: [{ ErrorEquals: ['States.ALL'], MaxAttempts: 3 }],
    });
  });

  it('carries the parameters and the reuse map in the state, and gives tasks the parameters only', () => {
    expect(asl.States[RUN_STATES.start].Parameters).toMatchObject({ 'params.$': '$.params', 'reuse.$': '$.reuse' });
    const payload = (allStates(asl).d.Parameters as { Payload: Record<string, unknown> }).Payload;
    expect(payload['params.$']).toBe('$.params');
    expect(payload).not.toHaveProperty('reuse.$');
  });

  it('folds the branches of a Parallel back into one state object', () => {
    const parallel = asl.States[RUN_STATES.run].Branches![0].States['Parallel 1'];
    expect(parallel.ResultSelector).toStrictEqual({
      'pipeline.$': '$[0].pipeline',
      'partition.$': '$[0].partition',
      'runId.$': '$[0].runId',
      'runNumber.$': '$[0].runNumber',
      'trigger.$': '$[0].trigger',
      'partitions.$': '$[0].partitions',
      'range.$': '$[0].range',
      'params.$': '$[0].params',
      'reuse.$': '$[0].reuse',
      results: { 'a.$': '$[0].results.a', 'b.$': '$[0].results.b', 'c.$': '$[1].results.c' },
    });
  });

  it('passes a task the results of its direct dependencies only', () => {
    const d = allStates(asl).d;
    expect(d.Parameters).toMatchObject({
      Payload: {
        'pipeline.$': '$.pipeline',
        'partition.$': '$.partition',
        'runId.$': '$.runId',
        'runNumber.$': '$.runNumber',
        'trigger.$': '$.trigger',
        'partitions.$': '$.partitions',
        'range.$': '$.range',
        task: 'd',
        results: { 'b.$': '$.results.b.value', 'c.$': '$.results.c.value' },
      },
    });
    expect(d.ResultSelector).toStrictEqual({ 'value.$': '$.Payload' });
    expect(d.ResultPath).toBe('$.results.d');
  });

  it('compiles each retry policy exactly: non-retryable errors first, then the retried ones', () => {
    const states = allStates(asl);
    const pipelineRetry = {
      ErrorEquals: ['States.ALL'],
      IntervalSeconds: 2,
      MaxAttempts: 3,
      BackoffRate: 3,
      MaxDelaySeconds: 60,
      JitterStrategy: 'FULL',
    };
    const never = { ErrorEquals: ['BadInput'], MaxAttempts: 0 };
    // Lambda's own service errors and throttling first, whatever the task's policy says
    const service = {
      ErrorEquals: [
        'Lambda.ClientExecutionTimeoutException',
        'Lambda.ServiceException',
        'Lambda.AWSLambdaException',
        'Lambda.SdkClientException',
        'Lambda.TooManyRequestsException',
      ],
      IntervalSeconds: 1,
      MaxAttempts: 6,
      BackoffRate: 2,
      MaxDelaySeconds: 20,
      JitterStrategy: 'FULL',
    };
    expect(states.a.Retry).toStrictEqual([service, never, pipelineRetry]);
    expect(states.b.Retry).toStrictEqual([service, never, { ...pipelineRetry, ErrorEquals: ['Throttled', 'States.Timeout'] }]);
    expect(states.c.Retry).toStrictEqual([service, never]);
    expect(states.d.Retry).toStrictEqual([service, never, pipelineRetry]);
  });

  it('sets TimeoutSeconds on every Task state, above the function timeout', () => {
    const tasks = Object.entries(allStates(asl)).filter(([, s]) => s.Type === 'Task');
    // 4 tasks, each with a reuse read and a record, and 4 status writes
    expect(tasks.length).toBe(16);
    for (const [, state] of tasks) expect(state.TimeoutSeconds).toEqual(expect.any(Number));
    expect(allStates(asl).a.TimeoutSeconds).toBe(70);
    expect(allStates(asl).d.TimeoutSeconds).toBe(910);
  });

  it('uses only ASL the local runtime executes', () => {
    const text = JSON.stringify(asl);
    expect(text).not.toMatch(/JSONata|"Assign"|ItemReader|\.sync|waitForTaskToken/);
    expect(aslValidator(asl).errors).toStrictEqual([]);
  });

  it('is a standard state machine with logging of all events, tracing and a timeout', () => {
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: Match.objectLike({ Level: 'ALL' }),
      Tags: [{ Key: 'sluice:pipeline', Value: 'fanout' }],
    });
    // 4 attempts of a (70 s) + 2+6+18 s, b likewise (310 s) + 26 s, d (910 s) + 26 s, three status
    // writes (Mark running, both tries of Mark succeeded) of 6 attempts × 30 s + 1+2+4+8+8 s of
    // retry delays, a read or record of each of the 4 results (2 × 4 × 30 s), 300 s slack
    const worst = 4 * 70 + 26 + 4 * 310 + 26 + 4 * 910 + 26 + 3 * (6 * 30 + 23) + 2 * 4 * 30 + 300;
    expect(asl).toMatchObject({ TimeoutSeconds: worst });
  });

  it('records which function serves which task state in the template', () => {
    const [resource] = Object.values(template.findResources('AWS::StepFunctions::StateMachine'));
    const functions = template.findResources('AWS::Lambda::Function');
    const mapping = resource.Metadata[STATE_MACHINE_METADATA_KEY] as { pipeline: string; tasks: Record<string, string> };
    expect(mapping.pipeline).toBe('fanout');
    expect(Object.keys(mapping.tasks).sort()).toStrictEqual(['a', 'b', 'c', 'd']);
    for (const [task, logicalId] of Object.entries(mapping.tasks)) {
      expect(functions[logicalId].Properties.Description).toBe(`sluice fanout: task ${task}`);
    }
  });

  it('lets the state machine invoke its own task functions and nothing else', () => {
    const role = logicalIdOf(machine.stateMachine.role);
    const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) =>
      (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === role),
    );
    const invoke = policies
      .flatMap((p) => p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[])
      .filter((s) => [s.Action].flat().includes('lambda:InvokeFunction'));
    const resources = invoke.flatMap((s) => [s.Resource].flat());
    expect(resources).not.toContain('*');
    const fnIds = Object.values(machine.functions).map((f) => logicalIdOf(f));
    const invoked = new Set(resources.map((r) => JSON.stringify(r).match(/"Fn::GetAtt":\["([^"]+)"/)?.[1]));
    expect([...invoked].sort()).toStrictEqual([...fnIds].sort());
  });

  it('gives a task function no permission beyond writing its own logs and traces', () => {
    for (const fn of Object.values(machine.functions)) {
      const role = logicalIdOf(fn.role!);
      const statements = Object.values(template.findResources('AWS::IAM::Policy'))
        .filter((p) => (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === role))
        .flatMap((p) => p.Properties.PolicyDocument.Statement as { Action: string | string[] }[]);
      expect(statements.flatMap((s) => [s.Action].flat()).sort()).toStrictEqual([
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'xray:PutTelemetryRecords',
        'xray:PutTraceSegments',
      ]);
      const roleResource = template.findResources('AWS::IAM::Role')[role];
      expect(roleResource.Properties.ManagedPolicyArns).toBeUndefined();
    }
  });

  it('grants a task the buckets it declares and tells it their names', async () => {
    // Given a task that reads "raw" and writes "curated"
    const arrivals = await loadFixture('arrivals');
    const { stack, table } = testStack();
    const buckets = { raw: new s3.Bucket(stack, 'Raw'), curated: new s3.Bucket(stack, 'Curated') };
    // When it is built
    new PipelineStateMachine(stack, 'Run', { pipeline: arrivals.compiled, handlers: arrivals.handlers, table, buckets });
    const t = Template.fromStack(stack);
    // Then its function knows the bucket names and may read raw, write curated
    t.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ [TASK_BUCKETS_ENV]: Match.anyValue() }) },
    });
    const actions = Object.values(t.findResources('AWS::IAM::Policy')).flatMap((p) =>
      (p.Properties.PolicyDocument.Statement as { Action: string | string[] }[]).flatMap((s) => [s.Action].flat()),
    );
    expect(actions).toContain('s3:GetObject*');
    expect(actions).toContain('s3:PutObject');
    // And nothing it did not declare: no deletes, no versions, no retention or legal hold
    expect(actions.filter((a) => a.startsWith('s3:') && /Delete|Retention|LegalHold/.test(a))).toStrictEqual([]);
  });

  it('grants object deletes only to a task that declares them', () => {
    // Given a task that declares "curated" in buckets.delete
    const cleanup = compilePipeline(
      pipeline({ name: 'cleanup', tasks: { purge: task({ handler: './handler.ts', buckets: { delete: ['curated'] } }) } }),
    );
    const { stack, table } = testStack();
    const curated = new s3.Bucket(stack, 'Curated');
    // When it is built
    new PipelineStateMachine(stack, 'Run', { pipeline: cleanup, handlers: { purge: fanout.handlers.a }, table, buckets: { curated } });
    // Then it may put and delete current objects of that bucket, not their versions
    const statements = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy')).flatMap(
      (p) => p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[],
    );
    expect(statements).toContainEqual(
      expect.objectContaining({
        Action: ['s3:PutObject', 's3:AbortMultipartUpload', 's3:DeleteObject'],
        Resource: { 'Fn::Join': ['', [stack.resolve(curated.bucketArn), '/*']] },
      }),
    );
    expect(statements.flatMap((s) => [s.Action].flat())).not.toContain('s3:DeleteObjectVersion');
  });

  it('numbers nested Parallels uniquely and folds each level', () => {
    // Given (x → (y ∥ z)) ∥ w, whose plan nests a Parallel in a Parallel branch
    const nested = compilePipeline(
      pipeline({
        name: 'nested',
        tasks: {
          x: task({ handler: './handler.ts' }),
          y: task({ handler: './handler.ts', after: ['x'] }),
          z: task({ handler: './handler.ts', after: ['x'] }),
          w: task({ handler: './handler.ts' }),
        },
      }),
    );
    const handlers = Object.fromEntries(nested.tasks.map((t) => [t.name, fanout.handlers.a]));
    const { stack, table } = testStack();
    // When it is built
    new PipelineStateMachine(stack, 'Run', { pipeline: nested, handlers, table });
    const [definition] = definitions(Template.fromStack(stack));
    // Then both Parallels exist, the inner one folding x from its input and y, z from its branches
    const states = allStates(definition);
    expect(Object.keys(states).filter((n) => n.startsWith('Parallel')).sort()).toStrictEqual(['Parallel 1', 'Parallel 2']);
    expect(states['Parallel 2'].ResultSelector).toMatchObject({
      results: { 'x.$': '$[0].results.x', 'y.$': '$[0].results.y', 'z.$': '$[1].results.z' },
    });
    expect(states['Parallel 1'].ResultSelector).toMatchObject({
      results: { 'x.$': '$[0].results.x', 'y.$': '$[0].results.y', 'z.$': '$[0].results.z', 'w.$': '$[1].results.w' },
    });
    expect(aslValidator(definition).errors).toStrictEqual([]);
  });

  it('fails when a task names a bucket it was not given, naming the pipeline, task and fix', async () => {
    const arrivals = await loadFixture('arrivals');
    const { stack, table } = testStack();
    expect(
      () => new PipelineStateMachine(stack, 'Run', { pipeline: arrivals.compiled, handlers: arrivals.handlers, table }),
    ).toThrow(/pipeline "arrivals", task "copy": unknown bucket "raw" \(this stage has: none\)\. Fix: .*sluice\.config\.ts/);
  });

  it('fails when a task has no handler file, naming it', () => {
    const { stack, table } = testStack();
    expect(() => new PipelineStateMachine(stack, 'Run', { pipeline: fanout.compiled, handlers: {}, table })).toThrow(
      'pipeline "fanout", task "a": no handler file was given. Fix: pass its absolute path in handlers["a"]',
    );
  });
});
