import { type CfnResource, Duration, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import type { PartitionTable } from '../constructs/partition-table';
import { SluicePlatform } from '../constructs/sluice-platform';
import { STAGE_DEFAULTS, type StageConfig } from './stage-config';

/** Construct id of aws-cdk-lib's singleton that configures bucket notifications. */
const BUCKET_NOTIFICATIONS_HANDLER_ID = 'BucketNotificationsHandler050a0587b7544547bf325f094a3db834';

/** Days a replaced or deleted object version of a managed bucket is kept before it expires. */
export const NONCURRENT_VERSION_DAYS = 30;

/** Properties of a {@link PlatformStack}. */
export interface PlatformStackProps extends StackProps {
  /** The stage being built. */
  readonly config: StageConfig;
}

/**
 * What every pipeline of a stage shares: a {@link SluicePlatform} (partition table, alert topic,
 * event bus, SSM parameters) and the stage's buckets (managed ones created here, imported ones
 * referenced). The pipeline stacks read them by name, without CloudFormation exports.
 */
export class PlatformStack extends Stack {
  public readonly table: PartitionTable;
  public readonly alertTopic: sns.Topic;
  /** The key encrypting the alert topic. */
  public readonly alertKey: kms.Key;
  /** `sluice-<stage>`: `Partition Succeeded` / `Partition Failed` events; pipeline stacks find it by name. */
  public readonly eventBus: events.EventBus;
  /** Buckets by logical name. */
  public readonly buckets: Readonly<Record<string, s3.IBucket>>;

  constructor(scope: Construct, id: string, props: PlatformStackProps) {
    super(scope, id, props);
    const { config } = props;
    const removalPolicy = config.removalPolicy ?? STAGE_DEFAULTS.removalPolicy;

    const buckets: Record<string, s3.IBucket> = {};
    const managed = Object.entries(config.buckets).filter(([, b]) => b.kind === 'managed');
    const accessLogs = managed.length > 0 ? this.accessLogsBucket(removalPolicy) : undefined;
    for (const [logical, bucket] of Object.entries(config.buckets)) {
      const id = `Bucket-${logical}`;
      switch (bucket.kind) {
        case 'managed':
          buckets[logical] = new s3.Bucket(this, id, {
            eventBridgeEnabled: true,
            blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
            encryption: s3.BucketEncryption.S3_MANAGED,
            enforceSSL: true,
            versioned: true,
            // Versions replaced or deleted stay recoverable for a while, not forever.
            lifecycleRules: [
              {
                noncurrentVersionExpiration: Duration.days(NONCURRENT_VERSION_DAYS),
                abortIncompleteMultipartUploadAfter: Duration.days(7),
              },
            ],
            serverAccessLogsBucket: accessLogs,
            serverAccessLogsPrefix: `${logical}/`,
            removalPolicy,
          });
          break;
        case 'imported':
          buckets[logical] = s3.Bucket.fromBucketName(this, id, bucket.bucketName);
          // Keeps the notifications the bucket already has (the custom resource is not `Managed`).
          if (bucket.eventBridge === 'sluice') buckets[logical].enableEventBridgeNotification();
          break;
      }
    }
    this.buckets = Object.freeze(buckets);

    // Id `Default`: the construct adds nothing to its resources' logical ids, which stay those
    // this stack gave them before the construct existed (a deployed stage keeps its table).
    const platform = new SluicePlatform(this, 'Default', { stage: config.name, alertEmails: config.alertEmails, buckets, removalPolicy });
    this.table = platform.table;
    this.alertKey = platform.alertKey;
    this.alertTopic = platform.alertTopic;
    this.eventBus = platform.eventBus;

    const notifications = this.node.tryFindChild(BUCKET_NOTIFICATIONS_HANDLER_ID);
    if (notifications) {
      // aws-cdk-lib's handler would log to a group of its own making, kept forever: give it one
      // with the stage's retention.
      const handlerLogs = new logs.LogGroup(this, 'BucketNotificationsLogs', {
        retention: config.logRetention ?? STAGE_DEFAULTS.logRetention,
        removalPolicy,
      });
      const handler = notifications.node.defaultChild as CfnResource;
      handler.addPropertyOverride('LoggingConfig', { LogGroup: handlerLogs.logGroupName });
      Validations.of(notifications).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason: "aws-cdk-lib's own handler that turns on the buckets' EventBridge delivery at deploy time; the managed policy only lets it write its logs",
      });
    }
  }

  private accessLogsBucket(removalPolicy: NonNullable<StageConfig['removalPolicy']>): s3.Bucket {
    const bucket = new s3.Bucket(this, 'AccessLogs', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      lifecycleRules: [{ expiration: Duration.days(365) }],
      removalPolicy,
    });
    Validations.of(bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This is the server access log target of the data buckets; logging it would log its own log deliveries',
    });
    return bucket;
  }
}
