import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SluicePipelines } from '../../lib/cdk';
import { loadPipelines, type LoadedPipeline } from '../../lib/loader';
import { FIXTURES_DIR } from './helpers';

type Statement = { Action: string | string[]; Resource: unknown };

/** A team's own CDK app: one stack of theirs, their buckets, cdk-nag on, and sluice added to it. */
function teamApp(pipelines: readonly LoadedPipeline[], outdir: string) {
  const app = new App({ outdir, context: { '@aws-cdk/core:validationReportJson': true } });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const stack = new Stack(app, 'DataPlatform', { env: { account: '123456789012', region: 'eu-west-1' } });
  const raw = s3.Bucket.fromBucketName(stack, 'Raw', 'acme-raw');
  const curated = s3.Bucket.fromBucketName(stack, 'Curated', 'acme-curated');
  const sluice = new SluicePipelines(stack, 'Pipelines', {
    stage: 'acme',
    pipelines,
    buckets: { raw, curated },
    alertEmails: ['oncall@example.com'],
    removalPolicy: RemovalPolicy.DESTROY,
  });
  return { app, stack, sluice };
}

describe('SluicePipelines in a stack of an existing app', () => {
  let pipelines: LoadedPipeline[];
  let outdir: string;
  let template: Template;
  let built: ReturnType<typeof teamApp>;

  beforeAll(async () => {
    // Given the fixture pipelines added to a team's own stack
    pipelines = await loadPipelines(FIXTURES_DIR);
    outdir = mkdtempSync(join(tmpdir(), 'sluice-construct-'));
    built = teamApp(pipelines, outdir);
    // When the app is synthesized
    built.app.synth();
    template = Template.fromStack(built.stack);
  });

  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  it('builds each pipeline its run and backfill state machines, named after the stage', () => {
    expect(Object.keys(built.sluice.pipelines).sort()).toStrictEqual(['arrivals', 'fanout']);
    template.resourceCountIs('AWS::StepFunctions::StateMachine', 4);
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', { StateMachineName: 'acme-fanout' });
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', { StateMachineName: 'acme-arrivals' });
  });

  it('builds the task functions, a launcher, a run monitor and backfill steps per pipeline', () => {
    const descriptions = Object.values(template.findResources('AWS::Lambda::Function')).map((f) => f.Properties.Description as string);
    for (const part of ['launcher', 'run monitor', 'backfill steps']) {
      expect(descriptions.filter((d) => d?.includes(part)), part).toHaveLength(2);
    }
    // One function per task: fanout has four, arrivals one
    expect(descriptions.filter((d) => d?.includes(': task '))).toHaveLength(5);
  });

  it('creates the partition table, alert topic and event bus the CLI finds by the stage name', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', { TableName: 'sluice-acme-partitions' });
    template.hasResourceProperties('AWS::SNS::Topic', { TopicName: 'sluice-acme-alerts' });
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'oncall@example.com' });
    template.hasResourceProperties('AWS::Events::EventBus', { Name: 'sluice-acme' });
    const published = Object.values(template.findResources('AWS::SSM::Parameter')).map((r) => r.Properties.Name as string);
    expect(published).toEqual(
      expect.arrayContaining(['/sluice/acme/partition-table/name', '/sluice/acme/buckets/raw/name', '/sluice/acme/pipelines/fanout/launcher-function-name']),
    );
  });

  it('starts runs from the schedule, from arrivals in the given bucket, and watches every run end', () => {
    template.hasResourceProperties('AWS::Scheduler::Schedule', { ScheduleExpressionTimezone: 'Europe/Paris' });
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.objectLike({ source: ['aws.s3'], detail: Match.objectLike({ bucket: { name: ['acme-raw'] } }) }),
    });
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.objectLike({ source: ['aws.states'], 'detail-type': ['Step Functions Execution Status Change'] }),
    });
  });

  it("grants a task exactly the buckets it declares: arrivals' copy reads raw and writes curated", () => {
    const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
    const on = (bucket: string) => statements.filter((s) => JSON.stringify(s.Resource).includes(`:s3:::${bucket}`)).flatMap((s) => [s.Action].flat());
    expect(on('acme-raw')).toEqual(expect.arrayContaining(['s3:GetObject*']));
    expect(on('acme-raw')).not.toEqual(expect.arrayContaining(['s3:PutObject']));
    expect(on('acme-curated')).toEqual(expect.arrayContaining(['s3:PutObject']));
  });

  it('needs no CloudFormation exports and passes cdk-nag with every finding acknowledged', () => {
    const json = template.toJSON() as { Outputs?: Record<string, { Export?: unknown }> };
    expect(Object.values(json.Outputs ?? {}).filter((o) => o.Export)).toStrictEqual([]);
    expect(JSON.stringify(json)).not.toContain('Fn::ImportValue');
    const file = join(outdir, 'validation-report.json');
    expect(existsSync(file)).toBe(true);
    const report = JSON.parse(readFileSync(file, 'utf8')) as { pluginReports: { violations: { ruleName: string }[] }[] };
    expect(report.pluginReports.flatMap((p) => p.violations.map((v) => v.ruleName))).toStrictEqual([]);
  });

  it('is checked by cdk-nag in that app: an unacknowledged finding beside it fails synth', () => {
    // Given the same app without pipelines, and a queue of the team's with no dead-letter queue
    const dir = mkdtempSync(join(tmpdir(), 'sluice-construct-nag-'));
    try {
      const { app, stack } = teamApp([], dir);
      new sqs.Queue(stack, 'Orphan', { enforceSSL: true });
      // When it is synthesized, Then cdk-nag names the finding
      expect(() => app.synth()).toThrow(/AwsSolutions-SQS3/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails on a bucket a pipeline uses and the props leave out, naming the pipeline and the fix', () => {
    const stack = new Stack(new App(), 'Other');
    expect(() => new SluicePipelines(stack, 'Pipelines', { stage: 'acme', pipelines })).toThrow(
      /pipeline "arrivals" uses bucket "raw", which is not given \(given: none\)\. Fix: pass it in buckets/,
    );
  });

  it('fails on a stage name AWS names cannot hold, naming the fix', () => {
    const stack = new Stack(new App(), 'Other');
    expect(() => new SluicePipelines(stack, 'Pipelines', { stage: 'a stage name far too long to fit', pipelines: [] })).toThrow(
      /stage "a stage name far too long to fit" is not a valid name\. Fix: use at most 20 letters/,
    );
  });
});
