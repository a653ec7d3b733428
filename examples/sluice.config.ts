import { RemovalPolicy } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import { validateStages, type StageConfig } from 'sluice/cdk';

/**
 * The stages of the example project: the environments its pipelines deploy to (the local runtime,
 * `npx sluice cdk-app` and so `npx cdk synth` read this file). Pipelines name buckets by logical
 * name (`raw`, `curated`); each stage says which real bucket that is. Deploy one stage with
 * `npx cdk deploy '<name>/*'`; build only some with `SLUICE_STAGES=local,dev`.
 */
export const stages: readonly StageConfig[] = validateStages([
  {
    // Never deployed: the local runtime runs this stage's cloud assembly.
    name: 'local',
    account: '000000000000',
    region: 'us-east-1',
    buckets: { raw: { kind: 'managed' }, curated: { kind: 'managed' } },
    removalPolicy: RemovalPolicy.DESTROY,
    logRetention: logs.RetentionDays.ONE_DAY,
  },
  {
    name: 'dev',
    account: '111111111111',
    region: 'eu-west-1',
    buckets: { raw: { kind: 'managed' }, curated: { kind: 'managed' } },
    alertEmails: ['data-dev@example.com'],
    removalPolicy: RemovalPolicy.DESTROY,
    logRetention: logs.RetentionDays.ONE_WEEK,
  },
  {
    name: 'test',
    account: '222222222222',
    region: 'eu-west-1',
    buckets: { raw: { kind: 'managed' }, curated: { kind: 'managed' } },
    alertEmails: ['data-test@example.com'],
    removalPolicy: RemovalPolicy.DESTROY,
    logRetention: logs.RetentionDays.TWO_WEEKS,
  },
  {
    name: 'prod',
    account: '333333333333',
    region: 'eu-west-1',
    buckets: {
      // S3 triggers watch it: the platform stack turns on its EventBridge notifications.
      raw: { kind: 'imported', bucketName: 'acme-data-raw-prod', eventBridge: 'sluice' },
      curated: { kind: 'managed' },
    },
    alertEmails: ['data-oncall@example.com'],
    removalPolicy: RemovalPolicy.RETAIN,
    logRetention: logs.RetentionDays.ONE_YEAR,
  },
]);
