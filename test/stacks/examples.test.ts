import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stages } from '../../examples/sluice.config';
import { loadPipelines } from '../../lib/loader';
import { createSluiceApp, selectStages } from '../../lib/stacks';
import { chunkRuns } from '../../lib/compile/backfill';
import { BACKFILL_STATES } from '../../lib/constructs/backfill-state-machine';
import { allStates, type Asl, definitions, type AslState } from '../constructs/helpers';

const EXAMPLES = fileURLToPath(new URL('../../examples/pipelines', import.meta.url));

describe('the example pipelines, synthesized for prod', () => {
  let outdir: string;
  const templates = new Map<string, Template>();

  beforeAll(async () => {
    // Given the pipelines of the example project (examples/) and its prod stage, checked by cdk-nag
    outdir = mkdtempSync(join(tmpdir(), 'sluice-examples-'));
    const { app, stages: built } = createSluiceApp({
      stages: selectStages(stages, 'prod'),
      pipelines: await loadPipelines(EXAMPLES),
      outdir,
    });
    // When the app is synthesized (cdk-nag findings would throw here)
    app.synth();
    for (const [name, stack] of Object.entries(built[0].pipelines)) templates.set(name, Template.fromStack(stack));
    templates.set('platform', Template.fromStack(built[0].platform));
  });

  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  const states = (pipeline: string): Record<string, AslState> => allStates(definitions(templates.get(pipeline)!)[0]);

  it('compiles one Lambda Task per task, with the declared retry policy', () => {
    const s = states('daily-sales');
    const tasks = Object.entries(s).filter(([, state]) => state.Resource === 'arn:aws:states:::lambda:invoke');
    expect(tasks.map(([name]) => name).sort()).toStrictEqual(['aggregate', 'extract', 'validate']);
    // After the retry of Lambda's service errors that every task has (see the construct's tests)
    expect((s.extract.Retry as unknown[]).slice(1)).toStrictEqual([
      { ErrorEquals: ['DataQualityError'], MaxAttempts: 0 },
      { ErrorEquals: ['States.ALL'], IntervalSeconds: 1, MaxAttempts: 2, BackoffRate: 2, MaxDelaySeconds: 30, JitterStrategy: 'FULL' },
    ]);
    expect((s.aggregate.Retry as { MaxAttempts: number }[])[2].MaxAttempts).toBe(4);
    expect((states('hourly-ingest').fetch.Retry as unknown[]).slice(1)).toStrictEqual([
      {
        ErrorEquals: ['SourceUnavailableError'],
        IntervalSeconds: 1,
        MaxAttempts: 3,
        BackoffRate: 2,
        MaxDelaySeconds: 10,
        JitterStrategy: 'FULL',
      },
    ]);
  });

  it('runs the regional checks in parallel branches after gather, then publish', () => {
    const s = states('regional-report');
    const parallel = Object.values(s).find((state) => state.Type === 'Parallel' && state.Branches?.length === 2);
    // Each task's states start with the choice to reuse a recorded result and end by recording it.
    expect(parallel?.Branches?.map((b) => b.StartAt).sort()).toStrictEqual(['Reuse check-stock?', 'Reuse summarise?']);
    expect(s.gather.Next).toBe('Record gather');
    expect(s['Record gather']!.Next).toBe(Object.entries(s).find(([, state]) => state === parallel)?.[0]);
    expect(s['Record publish']!.End).toBe(true);
  });

  it('schedules daily-sales at 06:00 New York time', () => {
    templates.get('daily-sales')!.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(0 6 * * ? *)',
      ScheduleExpressionTimezone: 'America/New_York',
      FlexibleTimeWindow: { Mode: 'OFF' },
    });
  });

  it('starts daily-sales on CSV files created under sales/ in the imported raw bucket', () => {
    templates.get('daily-sales')!.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.s3'],
        'detail-type': ['Object Created'],
        detail: { bucket: { name: ['acme-data-raw-prod'] }, object: { key: [{ wildcard: 'sales/*.csv' }] } },
      },
    });
    templates.get('daily-sales')!.hasResourceProperties('AWS::SQS::Queue', {
      RedrivePolicy: { maxReceiveCount: 3, deadLetterTargetArn: Match.anyValue() },
      SqsManagedSseEnabled: true,
    });
    // And the platform stack turns on the imported bucket's EventBridge notifications, keeping its others
    templates.get('platform')!.hasResourceProperties('Custom::S3BucketNotifications', {
      BucketName: 'acme-data-raw-prod',
      NotificationConfiguration: { EventBridgeConfiguration: {} },
      Managed: false,
    });
  });

  it("gives regional-report no schedule but the run monitor's reconciliation, and hourly-ingest no S3 rule", () => {
    const schedules = templates.get('regional-report')!.findResources('AWS::Scheduler::Schedule');
    expect(Object.values(schedules).map((s) => s.Properties.ScheduleExpression)).toStrictEqual(['rate(10 minutes)']);
    const rules = templates.get('hourly-ingest')!.findResources('AWS::Events::Rule');
    expect(Object.values(rules).map((r) => r.Properties.EventPattern.source)).toStrictEqual([['aws.states']]);
  });

  /**
   * The figures behind the README's cost section. Each is counted from the templates, so that a
   * change to what a run executes or what a stage keeps running changes them here first.
   */
  it('counts what one run of the 3-task daily-sales pipeline executes: 14 transitions, 2 status writes and 3 result records, 3 task invocations', () => {
    const [asl] = definitions(templates.get('daily-sales')!);
    const path = successPath(asl);
    expect(path.length).toBe(14);
    expect(path.filter((state) => String(state.Resource).startsWith('arn:aws:states:::dynamodb:')).length).toBe(5);
    expect(path.filter((state) => state.Resource === 'arn:aws:states:::lambda:invoke').length).toBe(3);
  });

  it('counts what a backfill of 10,000 daily-sales partitions executes: 180,605 transitions, 10,402 backfill-step invocations', () => {
    // Given the backfill state machine beside daily-sales' own, and the plan of 10,000 runs at concurrency 32
    const asls = definitions(templates.get('daily-sales')!);
    const backfill = asls.find((asl) => asl.StartAt === BACKFILL_STATES.plan)!;
    const run = asls.find((asl) => asl !== backfill)!;
    const runs = 10_000;
    const chunks = chunkRuns(
      Array.from({ length: runs }, (_, i) => ({ partition: `p${i}` })),
      32,
    ).length;

    // When the states a backfill whose runs all succeed enters are counted (each Choice takes its first rule)
    const parent = backfillPath(backfill);
    const chunk = backfillPath(backfill.States[BACKFILL_STATES.chunks]!.ItemProcessor as Asl);
    const perRun = backfillPath(chunk.asl.States[BACKFILL_STATES.runs]!.ItemProcessor as Asl);

    // Then: the parent once, each chunk's child execution, and per run its Map iteration and the run itself
    expect(parent.names).toStrictEqual([BACKFILL_STATES.plan, BACKFILL_STATES.chunks, BACKFILL_STATES.finish, BACKFILL_STATES.outcome, BACKFILL_STATES.succeeded]);
    expect(chunk.names).toStrictEqual([BACKFILL_STATES.loadChunk, BACKFILL_STATES.runs, BACKFILL_STATES.record]);
    expect(perRun.names).toStrictEqual([BACKFILL_STATES.claim, BACKFILL_STATES.claimed, BACKFILL_STATES.run, BACKFILL_STATES.runSucceeded]);
    expect(chunks).toBe(200);
    const transitions = parent.names.length + chunks * chunk.names.length + runs * (perRun.names.length + successPath(run).length);
    expect(transitions).toBe(180_605);
    // The backfill function's steps: plan and finish, load and record per chunk, the claim per run
    // (a run of one partition that succeeded is recorded without code)
    const steps = [parent, chunk, perRun].map((p) => p.names.filter((name) => p.asl.States[name]!.Type === 'Task' && name !== BACKFILL_STATES.run).length);
    expect(steps[0] + chunks * steps[1] + runs * steps[2]).toBe(10_402);
  });

  it('counts what a stage keeps while idle: one KMS key, and per pipeline a reconciliation schedule and its alarms', () => {
    expect(Object.keys(templates.get('platform')!.findResources('AWS::KMS::Key'))).toHaveLength(1);
    const idle = Object.fromEntries(
      ['daily-sales', 'hourly-ingest', 'regional-report'].map((name) => {
        const template = templates.get(name)!;
        const rates = Object.values(template.findResources('AWS::Scheduler::Schedule')).filter((s) => String(s.Properties.ScheduleExpression).startsWith('rate('));
        return [
          name,
          {
            reconciliations: rates.map((s) => s.Properties.ScheduleExpression),
            alarms: Object.keys(template.findResources('AWS::CloudWatch::Alarm')).length,
            polledQueues: Object.keys(template.findResources('AWS::Lambda::EventSourceMapping')).length,
          },
        ];
      }),
    );
    expect(idle).toStrictEqual({
      'daily-sales': { reconciliations: ['rate(10 minutes)'], alarms: 6, polledQueues: 1 },
      'hourly-ingest': { reconciliations: ['rate(10 minutes)'], alarms: 5, polledQueues: 0 },
      'regional-report': { reconciliations: ['rate(10 minutes)'], alarms: 5, polledQueues: 1 },
    });
  });
});

/** The states a backfill's execution enters when every run succeeds (inline Map iterations apart). */
function backfillPath(asl: Asl): { asl: Asl; names: string[] } {
  const names: string[] = [];
  let name: string | undefined = asl.StartAt;
  while (name) {
    const state: AslState = asl.States[name]!;
    names.push(name);
    name = state.End ? undefined : ((state.Type === 'Choice' ? (state.Choices as { Next: string }[])[0]!.Next : state.Next) as string | undefined);
  }
  return { asl, names };
}

/** The states a successful execution enters, in order: each is one state transition on AWS. */
function successPath(asl: { StartAt: string; States: Record<string, AslState> }): AslState[] {
  const entered: AslState[] = [];
  let name: string | undefined = asl.StartAt;
  while (name) {
    const state: AslState = asl.States[name];
    entered.push(state);
    for (const branch of state.Branches ?? []) entered.push(...successPath(branch));
    // A run that reuses nothing takes each task's "Reuse <task>?" choice by its default: execute.
    name = state.End ? undefined : ((state.Type === 'Choice' ? state.Default : state.Next) as string | undefined);
  }
  return entered;
}

