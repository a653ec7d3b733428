import { Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { deployedNames, stageParameters } from '../../compile/deployed-names';
import type { StageConfig } from '../stage-config';

/** What a pipeline stack uses of its stage's platform stack. */
export interface StageResources {
  readonly table: dynamodb.ITable;
  readonly alertTopic: sns.ITopic;
  /** Buckets by logical name. */
  readonly buckets: Readonly<Record<string, s3.IBucket>>;
}

/**
 * The platform stack's resources, referenced by their fixed names and the SSM parameters the
 * platform stack publishes (read by CloudFormation at deploy time), never by CloudFormation
 * exports: the platform stack stays free to replace or remove a resource. The stack using them
 * must deploy after the platform stack (`addStackDependency`). `usedBuckets` are the logical
 * buckets the stack refers to.
 */
export function stageResources(scope: Construct, config: StageConfig, usedBuckets: readonly string[]): StageResources {
  const stack = Stack.of(scope);
  const shared = new Construct(scope, 'Stage');
  const parameter = (name: string) => ssm.StringParameter.valueForStringParameter(shared, name);
  const table = dynamodb.Table.fromTableName(shared, 'PartitionTable', deployedNames.partitionTable(config.name));
  const alertTopic = sns.Topic.fromTopicAttributes(shared, 'AlertTopic', {
    topicArn: stack.formatArn({ service: 'sns', resource: deployedNames.alertTopic(config.name) }),
    keyArn: parameter(stageParameters.alertKeyArn(config.name)),
  });
  const buckets: Record<string, s3.IBucket> = {};
  // Only the buckets the pipeline uses: each parameter read is a template parameter, and an
  // unused one is a CloudFormation validation warning.
  for (const [logical, bucket] of Object.entries(config.buckets).filter(([logical]) => usedBuckets.includes(logical))) {
    const name = bucket.kind === 'imported' ? bucket.bucketName : parameter(stageParameters.bucketName(config.name, logical));
    buckets[logical] = s3.Bucket.fromBucketName(shared, `Bucket-${logical}`, name);
  }
  return { table, alertTopic, buckets: Object.freeze(buckets) };
}
