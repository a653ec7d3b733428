import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RemovalPolicy } from 'aws-cdk-lib';
import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import aslValidator from 'asl-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPipelines, type LoadedPipeline } from '../../lib/loader';
import { createSluiceApp, type SluiceStage, type StageConfig } from '../../lib/stacks';
import { definitions, FIXTURES_DIR } from '../constructs/helpers';

const stage: StageConfig = {
  name: 'ci',
  account: '123456789012',
  region: 'eu-west-1',
  buckets: { raw: { kind: 'managed' }, curated: { kind: 'imported', bucketName: 'acme-curated-ci' } },
  alertEmails: ['oncall@example.com'],
  removalPolicy: RemovalPolicy.DESTROY,
};

interface Report {
  pluginReports: {
    pluginName: string;
    violations: { ruleName: string; description: string; violatingConstructs: { constructPath: string }[] }[];
  }[];
}

describe('createSluiceApp', () => {
  let pipelines: LoadedPipeline[];
  let outdir: string;
  let built: SluiceStage;
  let assembly: CloudAssembly | undefined;
  let synthError: unknown;

  beforeAll(async () => {
    // Given the fixture pipelines and one stage, checked by cdk-nag's AWS Solutions rules
    pipelines = await loadPipelines(FIXTURES_DIR);
    outdir = mkdtempSync(join(tmpdir(), 'sluice-synth-'));
    const { app, stages } = createSluiceApp({ stages: [stage], pipelines, outdir });
    [built] = stages;
    // When the app is synthesized
    try {
      assembly = app.synth();
    } catch (error) {
      synthError = error;
    }
  });

  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  it('passes cdk-nag and CloudFormation validation with every finding acknowledged', () => {
    const file = join(outdir, 'validation-report.json');
    expect(existsSync(file)).toBe(true);
    const report = JSON.parse(readFileSync(file, 'utf8')) as Report;
    const open = report.pluginReports.flatMap((p) =>
      p.violations.flatMap((v) => v.violatingConstructs.map((c) => `${p.pluginName} ${v.ruleName} at ${c.constructPath}: ${v.description}`)),
    );
    expect(open, open.join('\n')).toStrictEqual([]);
    expect(synthError).toBeUndefined();
    expect(assembly).toBeDefined();
  });

  it('fails synth on an unacknowledged cdk-nag finding, reporting it', () => {
    // Given an app with a queue that has no dead-letter queue
    const dir = mkdtempSync(join(tmpdir(), 'sluice-nag-'));
    const { app } = createSluiceApp({ stages: [], pipelines: [], outdir: dir });
    new sqs.Queue(new Stack(app, 'Extra'), 'Orphan', { enforceSSL: true });
    // When it is synthesized, Then synth fails and the report names the rule and the construct
    try {
      expect(() => app.synth()).toThrow(/AwsSolutions-SQS3/);
      const report = readFileSync(join(dir, 'validation-report.json'), 'utf8');
      expect(report).toContain('Extra/Orphan/Resource');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('builds a platform stack and one stack per pipeline, in the stage environment', () => {
    expect(Object.keys(built.pipelines).sort()).toStrictEqual(['arrivals', 'fanout']);
    expect(built.platform.account).toBe('123456789012');
    expect(built.pipelines.fanout.region).toBe('eu-west-1');
    expect(built.pipelines.fanout.stackName).toBe('ci-Pipeline-fanout');
  });

  it('creates managed buckets with EventBridge, no public access, TLS only, encryption and access logs', () => {
    const platform = Template.fromStack(built.platform);
    platform.resourceCountIs('AWS::S3::Bucket', 2);
    platform.hasResourceProperties('Custom::S3BucketNotifications', {
      NotificationConfiguration: { EventBridgeConfiguration: {} },
    });
    platform.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      LoggingConfiguration: { LogFilePrefix: 'raw/' },
    });
    platform.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'oncall@example.com' });
    platform.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.objectLike({ 'Fn::GetAtt': Match.anyValue() }) });
    platform.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
      },
    });
  });

  it('shares the platform resources without CloudFormation exports: fixed names and SSM parameters', () => {
    // Given the synthesized stage, When its templates are read
    const templates = [built.platform, ...Object.values(built.pipelines)].map((s) => Template.fromStack(s));
    // Then no stack exports or imports anything
    for (const template of templates) {
      expect(Object.values(template.toJSON().Outputs ?? {}).filter((o) => (o as { Export?: unknown }).Export)).toStrictEqual([]);
      expect(JSON.stringify(template.toJSON())).not.toContain('Fn::ImportValue');
    }
    // And the platform names its table and topic, and publishes every name under /sluice/<stage>/
    const platform = Template.fromStack(built.platform);
    platform.hasResourceProperties('AWS::DynamoDB::Table', { TableName: 'sluice-ci-partitions' });
    platform.hasResourceProperties('AWS::SNS::Topic', { TopicName: 'sluice-ci-alerts' });
    const published = Object.values(platform.findResources('AWS::SSM::Parameter')).map((r) => r.Properties.Name as string);
    expect(published.sort()).toStrictEqual([
      '/sluice/ci/alerts/key-arn',
      '/sluice/ci/alerts/topic-arn',
      '/sluice/ci/buckets/curated/name',
      '/sluice/ci/buckets/raw/name',
      '/sluice/ci/partition-table/name',
    ]);
    // And each pipeline stack names its state machine and log group, publishes its parts, reads
    // the managed bucket's name from SSM, and deploys after the platform stack
    const fanout = Template.fromStack(built.pipelines.fanout);
    fanout.hasResourceProperties('AWS::StepFunctions::StateMachine', { StateMachineName: 'ci-fanout' });
    fanout.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: '/aws/vendedlogs/states/ci-fanout' });
    const pipelineParameters = Object.values(fanout.findResources('AWS::SSM::Parameter')).map((r) => r.Properties.Name as string);
    expect(pipelineParameters.sort()).toStrictEqual([
      '/sluice/ci/pipelines/fanout/backfill-state-machine-arn',
      '/sluice/ci/pipelines/fanout/launcher-function-name',
      '/sluice/ci/pipelines/fanout/monitor-function-name',
      '/sluice/ci/pipelines/fanout/schedule-name',
      '/sluice/ci/pipelines/fanout/state-machine-arn',
      '/sluice/ci/pipelines/fanout/tasks/a/log-group-name',
      '/sluice/ci/pipelines/fanout/tasks/b/log-group-name',
      '/sluice/ci/pipelines/fanout/tasks/c/log-group-name',
      '/sluice/ci/pipelines/fanout/tasks/d/log-group-name',
    ]);
    // (what --stage finds the schedule, the backfills and each task's log group by)
    const resources = fanout.toJSON().Resources as Record<string, { Type: string; Properties: { Name?: string; Value?: { Ref?: string } } }>;
    const typeOfParameter = (name: string) => resources[Object.values(resources).find((r) => r.Properties?.Name === name)!.Properties.Value!.Ref!]?.Type;
    expect(typeOfParameter('/sluice/ci/pipelines/fanout/schedule-name')).toBe('AWS::Scheduler::Schedule');
    expect(typeOfParameter('/sluice/ci/pipelines/fanout/tasks/a/log-group-name')).toBe('AWS::Logs::LogGroup');
    // An unscheduled pipeline publishes no schedule
    const arrivalsParameters = Object.values(Template.fromStack(built.pipelines.arrivals).findResources('AWS::SSM::Parameter')).map((r) => r.Properties.Name as string);
    expect(arrivalsParameters).not.toContain('/sluice/ci/pipelines/arrivals/schedule-name');
    const arrivals = Template.fromStack(built.pipelines.arrivals).toJSON() as { Parameters: Record<string, { Type: string; Default: string }> };
    expect(Object.values(arrivals.Parameters).map((p) => p.Default)).toContain('/sluice/ci/buckets/raw/name');
    expect(built.pipelines.fanout.dependencies).toContain(built.platform);
  });

  it('alarms on every dead-letter and failed-invocation queue, on the stage alert topic', () => {
    for (const stack of Object.values(built.pipelines)) {
      // Given the stack's dead-letter queues (those that have none themselves, kept 14 days)
      const template = Template.fromStack(stack);
      const queues = template.findResources('AWS::SQS::Queue', { Properties: { MessageRetentionPeriod: 1_209_600 } });
      expect(Object.keys(queues).length).toBeGreaterThanOrEqual(3);
      // Then each has an alarm on a visible message, publishing to the alert topic
      const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((a) => a.Properties);
      const watched = alarms.map((a) => (a.Dimensions as { Value: { 'Fn::GetAtt': [string, string] } }[])[0].Value['Fn::GetAtt'][0]);
      expect(watched.sort()).toStrictEqual(Object.keys(queues).sort());
      for (const alarm of alarms) {
        expect(alarm).toMatchObject({ MetricName: 'ApproximateNumberOfMessagesVisible', Threshold: 1, TreatMissingData: 'notBreaching' });
        expect(JSON.stringify(alarm.AlarmActions)).toContain(':sluice-ci-alerts');
      }
    }
    // And CloudWatch may use the topic's key to publish
    Template.fromStack(built.platform).hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({ Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: ['kms:Decrypt', 'kms:GenerateDataKey*'] }),
        ]),
      },
    });
  });

  it('runs every sluice function on arm64 with X-Ray tracing', () => {
    for (const stack of Object.values(built.pipelines)) {
      const functions = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function'));
      expect(functions.length).toBeGreaterThanOrEqual(3);
      for (const fn of functions) expect(fn.Properties).toMatchObject({ Architectures: ['arm64'], TracingConfig: { Mode: 'Active' } });
    }
  });

  it('expires old versions in managed buckets and keeps the notification handler logs for the stage retention', () => {
    const platform = Template.fromStack(built.platform);
    platform.hasResourceProperties('AWS::S3::Bucket', {
      VersioningConfiguration: { Status: 'Enabled' },
      LifecycleConfiguration: {
        Rules: [Match.objectLike({ NoncurrentVersionExpiration: { NoncurrentDays: 30 }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 } })],
      },
    });
    const [handlerLogs] = Object.keys(platform.findResources('AWS::Logs::LogGroup', { Properties: { RetentionInDays: 30 } }));
    platform.hasResourceProperties('AWS::Lambda::Function', { Handler: 'index.handler', LoggingConfig: { LogGroup: { Ref: handlerLogs } } });
  });

  it('emits state machines that asl-validator accepts', () => {
    const asls = Object.values(built.pipelines).flatMap((stack) => definitions(Template.fromStack(stack)));
    // Each pipeline's run and backfill state machines
    expect(asls).toHaveLength(4);
    for (const asl of asls) expect(aslValidator(asl).errors).toStrictEqual([]);
  });

  it('fails synth on a bucket the stage does not configure, naming the pipeline and the fix', () => {
    const { raw: _raw, ...withoutRaw } = stage.buckets;
    expect(() => createSluiceApp({ stages: [{ ...stage, buckets: withoutRaw }], pipelines, complianceChecks: false })).toThrow(
      /pipeline "arrivals", s3Arrival trigger: bucket "raw" is not configured in stage "ci" \(it has: curated\)\. Fix: .* sluice\.config\.ts/,
    );
  });
});
