import { Duration, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';
import { PartitionTable } from '../constructs/partition-table';
import { STAGE_DEFAULTS, type StageConfig } from './stage-config';

/** Construct id of aws-cdk-lib's singleton that configures bucket notifications. */
const BUCKET_NOTIFICATIONS_HANDLER_ID = 'BucketNotificationsHandler050a0587b7544547bf325f094a3db834';

/** Properties of a {@link PlatformStack}. */
export interface PlatformStackProps extends StackProps {
  /** The stage being built. */
  readonly config: StageConfig;
}

/**
 * What every pipeline of a stage shares: the partition table, the alert topic and the buckets
 * (managed ones created here, imported ones referenced).
 */
export class PlatformStack extends Stack {
  public readonly table: PartitionTable;
  public readonly alertTopic: sns.Topic;
  /** Buckets by logical name. */
  public readonly buckets: Readonly<Record<string, s3.IBucket>>;

  constructor(scope: Construct, id: string, props: PlatformStackProps) {
    super(scope, id, props);
    const { config } = props;
    const removalPolicy = config.removalPolicy ?? STAGE_DEFAULTS.removalPolicy;

    this.table = new PartitionTable(this, 'Partitions', { removalPolicy });

    const alertKey = new kms.Key(this, 'AlertKey', {
      description: 'Encrypts sluice run alerts',
      enableKeyRotation: true,
      removalPolicy,
    });
    this.alertTopic = new sns.Topic(this, 'Alerts', {
      displayName: `sluice ${config.name} alerts`,
      masterKey: alertKey,
      enforceSSL: true,
    });
    for (const email of config.alertEmails ?? []) {
      this.alertTopic.addSubscription(new subscriptions.EmailSubscription(email));
    }

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
            serverAccessLogsBucket: accessLogs,
            serverAccessLogsPrefix: `${logical}/`,
            removalPolicy,
          });
          break;
        case 'imported':
          buckets[logical] = s3.Bucket.fromBucketName(this, id, bucket.bucketName);
          break;
      }
    }
    this.buckets = Object.freeze(buckets);

    const notifications = this.node.tryFindChild(BUCKET_NOTIFICATIONS_HANDLER_ID);
    if (notifications) {
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
