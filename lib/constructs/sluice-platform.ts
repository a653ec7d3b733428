import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { eventBusName } from '../compile/contract';
import { deployedNames, stageParameters } from '../compile/deployed-names';
import { PartitionTable } from './partition-table';

/** Properties of a {@link SluicePlatform}. */
export interface SluicePlatformProps {
  /**
   * The stage's name: the table, topic and event bus are named after it (`sluice-<stage>-…`), and
   * their names are published under `/sluice/<stage>/`, where `sluice <command> --stage <stage>`
   * and the stage's pipelines find them.
   */
  readonly stage: string;
  /**
   * Email addresses subscribed to the alert topic.
   *
   * @default - none
   */
  readonly alertEmails?: readonly string[];
  /**
   * Buckets by logical name, whose names are published for the CLI and for pipelines deployed in
   * other stacks (`/sluice/<stage>/buckets/<name>/name`).
   *
   * @default - none
   */
  readonly buckets?: Readonly<Record<string, s3.IBucket>>;
  /**
   * What happens to the partition table (the run history) and the alert key when they leave the stack.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * What every pipeline of a stage shares: the partition table, the alert topic with the key that
 * encrypts it, and the event bus (`sluice-<stage>`) that receives the partition events of every
 * pipeline. Each has a fixed name (`deployedNames`), and every name or ARN is also published as an
 * SSM parameter under `/sluice/<stage>/` (`stageParameters`), so pipelines in other stacks and the
 * CLI find them by name, never through CloudFormation exports.
 */
export class SluicePlatform extends Construct {
  public readonly table: PartitionTable;
  public readonly alertTopic: sns.Topic;
  /** The key encrypting the alert topic. */
  public readonly alertKey: kms.Key;
  /** `sluice-<stage>`: `Partition Succeeded` / `Partition Failed` events. */
  public readonly eventBus: events.EventBus;

  constructor(scope: Construct, id: string, props: SluicePlatformProps) {
    super(scope, id);
    const { stage } = props;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    this.table = new PartitionTable(this, 'Partitions', { removalPolicy, tableName: deployedNames.partitionTable(stage) });

    this.alertKey = new kms.Key(this, 'AlertKey', {
      description: `Encrypts sluice ${stage} run alerts`,
      alias: deployedNames.alertKeyAlias(stage),
      enableKeyRotation: true,
      removalPolicy,
    });
    // CloudWatch alarms (on the dead-letter queues) publish to the encrypted topic with this key.
    this.alertKey.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    );
    this.alertTopic = new sns.Topic(this, 'Alerts', {
      topicName: deployedNames.alertTopic(stage),
      displayName: `sluice ${stage} alerts`,
      masterKey: this.alertKey,
      enforceSSL: true,
    });
    for (const email of props.alertEmails ?? []) {
      this.alertTopic.addSubscription(new subscriptions.EmailSubscription(email));
    }

    this.eventBus = new events.EventBus(this, 'Events', {
      eventBusName: eventBusName(stage),
      description: `sluice ${stage}: partitions that succeeded or failed`,
    });

    const parameters = new Construct(this, 'Parameters');
    const publish = (id: string, parameterName: string, stringValue: string, description: string) =>
      new ssm.StringParameter(parameters, id, { parameterName, stringValue, description, tier: ssm.ParameterTier.STANDARD });
    publish('TableName', stageParameters.partitionTableName(stage), this.table.table.tableName, `sluice ${stage}: partition table name`);
    publish('AlertTopicArn', stageParameters.alertTopicArn(stage), this.alertTopic.topicArn, `sluice ${stage}: alert topic ARN`);
    publish('AlertKeyArn', stageParameters.alertKeyArn(stage), this.alertKey.keyArn, `sluice ${stage}: ARN of the alert topic's key`);
    for (const [logical, bucket] of Object.entries(props.buckets ?? {})) {
      publish(`Bucket-${logical}`, stageParameters.bucketName(stage, logical), bucket.bucketName, `sluice ${stage}: bucket "${logical}"`);
    }
  }
}
