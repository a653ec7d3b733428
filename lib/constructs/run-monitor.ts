import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { fileURLToPath } from 'node:url';
import { LAUNCHER_ENV, launcherConfig } from '../compile/contract';
import type { CompiledPipeline } from '../compile/model';
import { acknowledgeWildcards } from './private/acknowledge';
import { SluiceFunction } from './private/node-function';

/** Properties of a {@link RunMonitor}. */
export interface RunMonitorProps {
  /** The pipeline whose failed runs this monitor reports. */
  readonly pipeline: CompiledPipeline;
  /** The partition table: a partition still RUNNING after its run failed is marked FAILED. */
  readonly table: dynamodb.ITable;
  /** Where alerts are published. */
  readonly alertTopic: sns.ITopic;
  /**
   * How long the function's logs are kept.
   *
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * What happens to the log group when it leaves the stack.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** The run monitor's handler module. */
export const RUN_MONITOR_ENTRY = fileURLToPath(new URL('../../lambdas/run-monitor/index.ts', import.meta.url));

/**
 * Turns a failed, timed-out or aborted execution into one readable alert (pipeline, partition,
 * error, console link) and makes sure its partition does not stay RUNNING: a run aborted or
 * timed out by Step Functions never reaches the state machine's own "Mark failed" state.
 */
export class RunMonitor extends Construct {
  public readonly function: NodejsFunction;

  constructor(scope: Construct, id: string, props: RunMonitorProps) {
    super(scope, id);
    this.function = new SluiceFunction(this, 'Monitor', {
      entry: RUN_MONITOR_ENTRY,
      description: `sluice ${props.pipeline.name}: run monitor`,
      timeout: Duration.seconds(30),
      memorySize: 256,
      environment: {
        [LAUNCHER_ENV.pipeline]: JSON.stringify(launcherConfig(props.pipeline)),
        [LAUNCHER_ENV.tableName]: props.table.tableName,
        [LAUNCHER_ENV.alertTopicArn]: props.alertTopic.topicArn,
      },
      logRetention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    }).function;
    props.table.grant(this.function, 'dynamodb:UpdateItem');
    props.alertTopic.grantPublish(this.function);
    acknowledgeWildcards(this, [
      {
        actions: ['kms:GenerateDataKey*'],
        reason: "Publishing to the encrypted alert topic needs data keys (every GenerateDataKey variant) from that topic's key only",
      },
    ]);
  }
}
