import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { fileURLToPath } from 'node:url';
import { LAUNCHER_ENV, launcherConfig } from '../compile/contract';
import type { CompiledPipeline } from '../compile/model';
import { acknowledgeWildcards } from './private/acknowledge';
import { SluiceFunction } from './private/node-function';
import { grantLaunch, retainFailedInvocations } from './private/launching';

/** Properties of a {@link RunMonitor}. */
export interface RunMonitorProps {
  /** The pipeline whose runs this monitor follows. */
  readonly pipeline: CompiledPipeline;
  /**
   * The pipeline's state machine, where the monitor starts the reruns S3 arrivals request while
   * a run is in progress. The monitor refers to it, never the other way round.
   */
  readonly stateMachine: sfn.IStateMachine;
  /**
   * The partition table: a partition still RUNNING after its run failed is marked FAILED, and a
   * rerun claims its partition as the launcher does.
   */
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
 * Follows the end of every run. Turns a failed, timed-out or aborted execution into one readable
 * alert (pipeline, partition, error, console link) and makes sure its partition does not stay
 * RUNNING: a run aborted or timed out by Step Functions never reaches the state machine's own
 * "Mark failed" state. Then, succeeded or not, starts the rerun an S3 arrival requested while the
 * run was in progress, through the same launch logic (claim, deterministic execution name) as
 * the launcher.
 *
 * An invocation that fails (a rerun deferred at the pipeline's `maxConcurrentRuns` included) is
 * retried twice by Lambda, then kept in {@link failedInvocations} for inspection and redrive.
 *
 * @see https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html
 */
export class RunMonitor extends Construct {
  public readonly function: NodejsFunction;
  /** Status-change events the monitor still failed to handle after Lambda's retries. */
  public readonly failedInvocations: sqs.Queue;

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
        [LAUNCHER_ENV.rerunStateMachineArn]: props.stateMachine.stateMachineArn,
      },
      logRetention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    }).function;
    grantLaunch(this.function, props.table, props.stateMachine);
    props.alertTopic.grantPublish(this.function);
    this.failedInvocations = retainFailedInvocations(this, this.function, "the run monitor's asynchronous invocations");
    acknowledgeWildcards(this, [
      {
        actions: ['kms:GenerateDataKey*'],
        reason: "Publishing to the encrypted alert topic needs data keys (every GenerateDataKey variant) from that topic's key only",
      },
    ]);
  }
}
