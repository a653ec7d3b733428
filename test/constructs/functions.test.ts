import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { RunEndRule, Launcher, PartitionTable, PipelineStateMachine, RunMonitor } from '../../lib/constructs';
import { RECONCILE_INPUT } from '../../lib/constructs/run-monitor';
import { BUCKETS_ENV, LAUNCHER_ENV, launcherConfig, METRICS_NAMESPACE } from '../../lib/compile/contract';
import type { LoadedPipeline } from '../../lib/loader';
import { loadFixture, logicalIdOf, testStack } from './helpers';
import type { IConstruct } from 'constructs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { compilePipeline, pipeline, staticPartitions, task } from '../../lib';

type Statement = { Action: string | string[]; Resource: unknown };

function statementsOf(template: Template, role: IConstruct): Statement[] {
  const id = logicalIdOf(role);
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((p) => (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === id))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
}

describe('Launcher, RunMonitor and RunEndRule', () => {
  let fanout: LoadedPipeline;
  let template: Template;
  let stack: Stack;
  let launcher: Launcher;
  let monitor: RunMonitor;
  let machine: PipelineStateMachine;
  let table: dynamodb.Table;
  let eventBus: events.IEventBus;

  beforeAll(async () => {
    fanout = await loadFixture('fanout');
    ({ stack } = testStack());
    table = new PartitionTable(stack, 'Partitions').table;
    machine = new PipelineStateMachine(stack, 'Run', { pipeline: fanout.compiled, handlers: fanout.handlers, table });
    const alertTopic = new sns.Topic(stack, 'Alerts', { masterKey: new kms.Key(stack, 'Key') });
    const raw = s3.Bucket.fromBucketName(stack, 'Raw', 'acme-raw');
    launcher = new Launcher(stack, 'Launch', { pipeline: fanout.compiled, table, stateMachine: machine.stateMachine, buckets: { raw } });
    eventBus = events.EventBus.fromEventBusName(stack, 'Events', 'sluice-test');
    monitor = new RunMonitor(stack, 'Monitor', { pipeline: fanout.compiled, stateMachine: machine.stateMachine, table, alertTopic, eventBus });
    new RunEndRule(stack, 'Failures', { stateMachine: machine.stateMachine, monitor: monitor.function });
    template = Template.fromStack(stack);
  });

  it('configures the launcher with its pipeline, table and state machine', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Description: 'sluice fanout: launcher',
      Environment: {
        Variables: Match.objectLike({
          [LAUNCHER_ENV.pipeline]: JSON.stringify(launcherConfig(fanout.compiled)),
          [LAUNCHER_ENV.tableName]: Match.anyValue(),
          [LAUNCHER_ENV.stateMachineArn]: Match.anyValue(),
          [BUCKETS_ENV]: JSON.stringify({ raw: 'acme-raw' }),
        }),
      },
    });
  });

  it("publishes the launcher's counts in the sluice metrics namespace", () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: 'sluice fanout: launcher',
      Environment: { Variables: Match.objectLike({ POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE }) },
    });
    expect(METRICS_NAMESPACE).toBe('sluice');
  });

  it('fails when a trigger names a bucket the stage does not have, naming the pipeline and the fix', () => {
    const { stack: other, table } = testStack();
    const stateMachine = new PipelineStateMachine(other, 'Run', { pipeline: fanout.compiled, handlers: fanout.handlers, table }).stateMachine;
    expect(() => new Launcher(other, 'Launch', { pipeline: fanout.compiled, table, stateMachine })).toThrow(
      'pipeline "fanout": its s3Arrival trigger names unknown bucket "raw" (this stage has: none). Fix: add it to the stage\'s buckets in sluice.config.ts',
    );
  });

  it('lets the launcher start and describe only its own runs, touch only partition items and query the table and running index', () => {
    const statements = statementsOf(template, launcher.function.role!);
    const on = (action: string) => statements.filter((s) => [s.Action].flat().includes(action)).map((s) => s.Resource);
    expect(on('states:StartExecution')).toStrictEqual([stack.resolve(machine.stateMachine.stateMachineArn)]);
    expect(JSON.stringify(on('states:DescribeExecution'))).toMatch(/:execution:/);
    expect(on('dynamodb:GetItem')).toStrictEqual([[stack.resolve(table.tableArn)]]);
    // The running index to count runs in progress; the table, for the task results a rerun reuses.
    expect(on('dynamodb:Query')).toStrictEqual([
      { 'Fn::Join': ['', [stack.resolve(table.tableArn), '/index/running']] },
      stack.resolve(table.tableArn),
    ]);
    expect(on('sqs:SendMessage')).toStrictEqual([stack.resolve(launcher.failedInvocations.queueArn)]);
    const actions = statements.flatMap((s) => [s.Action].flat()).sort();
    expect(actions).toStrictEqual([
      'dynamodb:GetItem',
      'dynamodb:Query',
      'dynamodb:Query',
      'dynamodb:UpdateItem',
      'logs:CreateLogStream',
      'logs:PutLogEvents',
      'sqs:GetQueueAttributes',
      'sqs:GetQueueUrl',
      'sqs:SendMessage',
      'states:DescribeExecution',
      'states:StartExecution',
      'xray:PutTelemetryRecords',
      'xray:PutTraceSegments',
    ]);
  });

  it('keeps asynchronous invocations that fail after two retries in a queue', () => {
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: stack.resolve(launcher.function.functionName),
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: 6 * 3600,
      DestinationConfig: { OnFailure: { Destination: stack.resolve(launcher.failedInvocations.queueArn) } },
    });
  });

  it('configures the run monitor with its pipeline, table, alert topic, state machine and event bus, and no bucket names', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: 'sluice fanout: run monitor',
      Environment: {
        Variables: {
          [LAUNCHER_ENV.pipeline]: JSON.stringify(launcherConfig(fanout.compiled)),
          [LAUNCHER_ENV.tableName]: stack.resolve(table.tableName),
          [LAUNCHER_ENV.alertTopicArn]: Match.anyValue(),
          [LAUNCHER_ENV.rerunStateMachineArn]: stack.resolve(machine.stateMachine.stateMachineArn),
          [LAUNCHER_ENV.eventBusName]: 'sluice-test',
          [LAUNCHER_ENV.stateMachineArn]: Match.absent(),
          [BUCKETS_ENV]: Match.absent(),
        },
      },
    });
  });

  it('lets the run monitor alert, publish to the stage bus, update partitions, start only its own state machine and query only the two sparse indexes', () => {
    const statements = statementsOf(template, monitor.function.role!);
    const on = (action: string) => statements.filter((s) => [s.Action].flat().includes(action)).map((s) => s.Resource);
    expect(on('states:StartExecution')).toStrictEqual([stack.resolve(machine.stateMachine.stateMachineArn)]);
    expect(on('dynamodb:GetItem')).toStrictEqual([[stack.resolve(table.tableArn)]]);
    expect(on('dynamodb:UpdateItem')).toStrictEqual([[stack.resolve(table.tableArn)]]);
    // Reconciliation lists RUNNING partitions and requested reruns from their indexes, never the table
    expect(on('dynamodb:Query')).toStrictEqual([
      { 'Fn::Join': ['', [stack.resolve(table.tableArn), '/index/running']] },
      { 'Fn::Join': ['', [stack.resolve(table.tableArn), '/index/rerun-requested']] },
    ]);
    expect(on('sqs:SendMessage')).toStrictEqual([stack.resolve(monitor.failedInvocations.queueArn)]);
    expect(on('events:PutEvents')).toStrictEqual([stack.resolve(eventBus.eventBusArn)]);
    const actions = statements.flatMap((s) => [s.Action].flat());
    expect(actions).toEqual(expect.arrayContaining(['sns:Publish', 'kms:GenerateDataKey*', 'kms:Decrypt']));
    expect(actions).not.toContain('dynamodb:PutItem');
    expect(actions).not.toContain('dynamodb:Scan');
  });

  it('lets the run monitor describe the executions of its own state machine only', () => {
    const statements = statementsOf(template, monitor.function.role!);
    const describe = statements.filter((s) => [s.Action].flat().includes('states:DescribeExecution'));
    const name = { 'Fn::Select': [6, { 'Fn::Split': [':', stack.resolve(machine.stateMachine.stateMachineArn)] }] };
    expect(describe).toStrictEqual([
      expect.objectContaining({
        Action: 'states:DescribeExecution',
        Resource: {
          'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:states:${stack.region}:${stack.account}:execution:`, name, ':*']],
        },
      }),
    ]);
    const actions = statements.flatMap((s) => [s.Action].flat());
    expect(actions).not.toContain('states:ListExecutions');
    expect(actions).not.toContain('states:DescribeStateMachine');
  });

  it('reconciles every 10 minutes through a schedule that invokes only the monitor, with retries and a DLQ', () => {
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(10 minutes)',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: {
        Arn: stack.resolve(monitor.function.functionArn),
        Input: JSON.stringify(RECONCILE_INPUT),
        RoleArn: Match.anyValue(),
        DeadLetterConfig: { Arn: Match.anyValue() },
        RetryPolicy: { MaximumRetryAttempts: 5, MaximumEventAgeInSeconds: 3600 },
      },
    });
    const schedule = template.findResources('AWS::Scheduler::Schedule');
    const roleArn = Object.values(schedule)[0].Properties.Target.RoleArn as { 'Fn::GetAtt': [string, string] };
    const role = template.findResources('AWS::IAM::Role')[roleArn['Fn::GetAtt'][0]];
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toStrictEqual([
      expect.objectContaining({
        Principal: { Service: 'scheduler.amazonaws.com' },
        Condition: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
    ]);
    const invoked = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((p) => (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === roleArn['Fn::GetAtt'][0]))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
    const monitorArn = stack.resolve(monitor.function.functionArn);
    expect(invoked.flatMap((st) => [st.Action].flat()).sort()).toStrictEqual(['lambda:InvokeFunction', 'sqs:SendMessage']);
    expect(invoked.find((st) => st.Action === 'lambda:InvokeFunction')?.Resource).toStrictEqual([
      monitorArn,
      { 'Fn::Join': ['', [monitorArn, ':*']] },
    ]);
  });

  it('keeps run-monitor invocations that fail after two retries in a queue', () => {
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: stack.resolve(monitor.function.functionName),
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: 6 * 3600,
      DestinationConfig: { OnFailure: { Destination: stack.resolve(monitor.failedInvocations.queueArn) } },
    });
  });

  it('sends ended executions of this state machine to the monitor, succeeded ones included, with a DLQ', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.states'],
        'detail-type': ['Step Functions Execution Status Change'],
        detail: {
          status: ['FAILED', 'TIMED_OUT', 'ABORTED', 'SUCCEEDED'],
          stateMachineArn: [stack.resolve(machine.stateMachine.stateMachineArn)],
        },
      },
      Targets: [Match.objectLike({ DeadLetterConfig: { Arn: Match.anyValue() }, RetryPolicy: { MaximumRetryAttempts: 8 } })],
    });
  });
});

describe('the environment size check', () => {
  it("fails synth when a launcher's environment may exceed Lambda's 4 KB, naming the function, the size and the fix", () => {
    // Given a pipeline with 400 static partition keys, which its launcher carries in its environment
    const keys = Array.from({ length: 400 }, (_, i) => `store-${String(i).padStart(4, '0')}`);
    const wide = compilePipeline(
      pipeline({ name: 'stores', partitions: staticPartitions(keys), tasks: { load: task({ handler: './load.ts' }) } }),
    );
    const { stack, table } = testStack();
    const stateMachine = sfn.StateMachine.fromStateMachineName(stack, 'Machine', 'stores');
    // When its launcher is synthesized, Then synth fails before any deploy would
    new Launcher(stack, 'Launch', { pipeline: wide, table, stateMachine });
    expect(() => Template.fromStack(stack)).toThrow(
      /sluice stores: launcher: its environment variables take about \d+ bytes, over Lambda's limit of 4096 \(largest: SLUICE_PIPELINE \d+ B.*\)\. Fix: declare fewer static partition keys/,
    );
  });
});

describe('PartitionTable', () => {
  it('is on demand, recoverable, encrypted and keyed by pipeline and partition', () => {
    const { stack } = testStack();
    new PartitionTable(stack, 'Partitions');
    const template = Template.fromStack(stack);
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      Properties: {
        DeletionProtectionEnabled: true,
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true },
        KeySchema: [
          { AttributeName: 'pipeline', KeyType: 'HASH' },
          { AttributeName: 'partition', KeyType: 'RANGE' },
        ],
        AttributeDefinitions: [
          { AttributeName: 'pipeline', AttributeType: 'S' },
          { AttributeName: 'partition', AttributeType: 'S' },
          { AttributeName: 'runningPipeline', AttributeType: 'S' },
          { AttributeName: 'rerunPipeline', AttributeType: 'S' },
        ],
      },
    });
  });

  it('can be deleted with its stack only when it is not retained', () => {
    const { stack } = testStack();
    new PartitionTable(stack, 'Partitions', { removalPolicy: RemovalPolicy.DESTROY });
    Template.fromStack(stack).hasResourceProperties('AWS::DynamoDB::Table', { DeletionProtectionEnabled: false });
  });

  it('indexes the RUNNING partitions and the requested reruns of each pipeline in sparse, keys-only indexes', () => {
    const { stack } = testStack();
    new PartitionTable(stack, 'Partitions');
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      GlobalSecondaryIndexes: [
        {
          IndexName: 'running',
          KeySchema: [
            { AttributeName: 'runningPipeline', KeyType: 'HASH' },
            { AttributeName: 'partition', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'KEYS_ONLY' },
        },
        {
          IndexName: 'rerun-requested',
          KeySchema: [
            { AttributeName: 'rerunPipeline', KeyType: 'HASH' },
            { AttributeName: 'partition', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'KEYS_ONLY' },
        },
      ],
    });
  });
});
