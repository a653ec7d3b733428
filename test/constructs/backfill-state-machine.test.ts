import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { BACKFILL_METADATA_KEY, BACKFILL_STATES, BackfillStateMachine } from '../../lib/constructs/backfill-state-machine';
import { PipelineStateMachine } from '../../lib/constructs/pipeline-state-machine';
import { type Asl, definitions, loadFixture, logicalIdOf, testStack } from './helpers';

describe('BackfillStateMachine', () => {
  let template: Template;
  let asl: Asl;
  let runId: string;
  let backfillId: string;

  beforeAll(async () => {
    const loaded = await loadFixture('fanout');
    const { stack, table } = testStack();
    const run = new PipelineStateMachine(stack, 'Run', { pipeline: loaded.compiled, handlers: loaded.handlers, table });
    const backfill = new BackfillStateMachine(stack, 'Backfill', {
      pipeline: loaded.compiled,
      stateMachine: run.stateMachine,
      runTimeout: run.runTimeout,
      table,
    });
    template = Template.fromStack(stack);
    runId = logicalIdOf(run.stateMachine);
    backfillId = logicalIdOf(backfill.stateMachine);
    asl = definitions(template).find((d) => d.StartAt === BACKFILL_STATES.plan)!;
  });

  it('is a second state machine, tagged for the local runtime with its pipeline', () => {
    template.resourceCountIs('AWS::StepFunctions::StateMachine', 2);
    const resource = template.toJSON().Resources[backfillId];
    expect(resource.Metadata[BACKFILL_METADATA_KEY]).toStrictEqual({ pipeline: 'fanout' });
  });

  it('plans, runs chunks in a Distributed Map at the requested concurrency, then finishes', () => {
    expect(asl.States[BACKFILL_STATES.plan]).toMatchObject({ Type: 'Task', Next: BACKFILL_STATES.chunks });
    const chunks = asl.States[BACKFILL_STATES.chunks] as unknown as Record<string, unknown> & { ItemProcessor: Asl & { ProcessorConfig: unknown } };
    expect(chunks).toMatchObject({ Type: 'Map', ItemsPath: '$.chunks', MaxConcurrencyPath: '$.concurrency', ResultPath: null, Next: BACKFILL_STATES.finish });
    expect(chunks.ItemProcessor.ProcessorConfig).toStrictEqual({ Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' });
    const runs = chunks.ItemProcessor.States[BACKFILL_STATES.runs] as unknown as Record<string, unknown> & { ItemProcessor: Asl };
    // One run at a time per chunk: at most `concurrency` runs in flight overall
    expect(runs).toMatchObject({ Type: 'Map', MaxConcurrency: 1, ItemsPath: '$.runs' });
    const run = runs.ItemProcessor.States[BACKFILL_STATES.run]!;
    expect(run).toMatchObject({
      Resource: 'arn:aws:states:::states:startExecution.sync:2',
      Parameters: { 'Name.$': '$.claim.input.runId', 'Input.$': '$.claim.input' },
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: BACKFILL_STATES.ended }],
    });
    // Every Task has an explicit timeout: the local interpreter's default is 60 s
    for (const state of [...Object.values(asl.States), ...Object.values(chunks.ItemProcessor.States), ...Object.values(runs.ItemProcessor.States)]) {
      if (state.Type === 'Task') expect(state.TimeoutSeconds).toBeGreaterThan(0);
    }
  });

  it("records a one-partition run's success without invoking code, and sends a batch's runs and every failure to the ended step", () => {
    const runs = (asl.States[BACKFILL_STATES.chunks] as unknown as { ItemProcessor: Asl }).ItemProcessor.States[BACKFILL_STATES.runs] as unknown as { ItemProcessor: Asl };
    const states = runs.ItemProcessor.States;
    const choices = states[BACKFILL_STATES.claimed]!.Choices as { Next: string }[];
    expect(choices.map((c) => c.Next)).toStrictEqual([BACKFILL_STATES.run, BACKFILL_STATES.runBatch]);
    expect(states[BACKFILL_STATES.claimed]!.Default).toBe(BACKFILL_STATES.ended);
    expect(states[BACKFILL_STATES.run]).toMatchObject({ Next: BACKFILL_STATES.runSucceeded });
    expect(states[BACKFILL_STATES.runSucceeded]).toStrictEqual({
      Type: 'Pass',
      Parameters: { 'partition.$': '$.run.partition', status: 'SUCCEEDED', 'runId.$': '$.claim.input.runId' },
      End: true,
    });
    expect(states[BACKFILL_STATES.runBatch]).toMatchObject({
      Resource: 'arn:aws:states:::states:startExecution.sync:2',
      Next: BACKFILL_STATES.ended,
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: BACKFILL_STATES.ended }],
    });
  });

  it('waits for a busy partition or a pipeline at its limit, then reports it', () => {
    const runs = (asl.States[BACKFILL_STATES.chunks] as unknown as { ItemProcessor: Asl }).ItemProcessor.States[BACKFILL_STATES.runs] as unknown as { ItemProcessor: Asl };
    const claim = runs.ItemProcessor.States[BACKFILL_STATES.claim]!;
    expect(claim.Retry).toContainEqual({ ErrorEquals: ['RunNotStartableError'], IntervalSeconds: 2, BackoffRate: 1.5, MaxDelaySeconds: 30, MaxAttempts: 120 });
    expect(claim.Catch).toStrictEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: BACKFILL_STATES.ended }]);
  });

  it("may start only its own pipeline's state machine (and its own Distributed Map children)", () => {
    const starts = Object.values(template.findResources('AWS::IAM::Policy')).flatMap((policy) =>
      (policy.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[]).filter((s) =>
        [s.Action].flat().includes('states:StartExecution'),
      ),
    );
    expect(starts.map((s) => s.Resource)).toStrictEqual([{ Ref: runId }, { Ref: backfillId }]);
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'] })]) },
    });
  });
});
