import { type CfnResource, Duration, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as events from 'aws-cdk-lib/aws-events';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { deployedNames, stageParameters } from '../compile/deployed-names';
import { eventBusName } from '../compile/contract';
import { PartitionTable } from '../constructs/partition-table';
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
 * What every pipeline of a stage shares: the partition table, the alert topic and the buckets
 * (managed ones created here, imported ones referenced). It shares them without CloudFormation
 * exports: the table and topic have fixed names (`deployedNames`), and every name or ARN is also
 * published as an SSM parameter under `/sluice/<stage>/` (`stageParameters`), which the pipeline
 * stacks and the CLI read by name.
 * The stage's event bus (`sluice-<stage>`) receives the partition events of every pipeline.
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

    this.table = new PartitionTable(this, 'Partitions', { removalPolicy, tableName: deployedNames.partitionTable(config.name) });

    this.alertKey = new kms.Key(this, 'AlertKey', {
      description: `Encrypts sluice ${config.name} run alerts`,
      alias: deployedNames.alertKeyAlias(config.name),
      enableKeyRotation: true,
      removalPolicy,
    });
    // CloudWatch alarms (on the dead-letter queues) publish to the encrypted topic with this key.
    this.alertKey.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': this.account } },
      }),
    );
    this.alertTopic = new sns.Topic(this, 'Alerts', {
      topicName: deployedNames.alertTopic(config.name),
      displayName: `sluice ${config.name} alerts`,
      masterKey: this.alertKey,
      enforceSSL: true,
    });
    for (const email of config.alertEmails ?? []) {
      this.alertTopic.addSubscription(new subscriptions.EmailSubscription(email));
    }

    this.eventBus = new events.EventBus(this, 'Events', {
      eventBusName: eventBusName(config.name),
      description: `sluice ${config.name}: partitions that succeeded or failed`,
    });

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

    const parameters = new Construct(this, 'Parameters');
    const publish = (id: string, parameterName: string, stringValue: string, description: string) =>
      new ssm.StringParameter(parameters, id, { parameterName, stringValue, description, tier: ssm.ParameterTier.STANDARD });
    publish('TableName', stageParameters.partitionTableName(config.name), this.table.table.tableName, `sluice ${config.name}: partition table name`);
    publish('AlertTopicArn', stageParameters.alertTopicArn(config.name), this.alertTopic.topicArn, `sluice ${config.name}: alert topic ARN`);
    publish('AlertKeyArn', stageParameters.alertKeyArn(config.name), this.alertKey.keyArn, `sluice ${config.name}: ARN of the alert topic's key`);
    for (const [logical, bucket] of Object.entries(buckets)) {
      publish(`Bucket-${logical}`, stageParameters.bucketName(config.name, logical), bucket.bucketName, `sluice ${config.name}: bucket "${logical}"`);
    }

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
