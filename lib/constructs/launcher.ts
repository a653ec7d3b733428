import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { BUCKETS_ENV, LAUNCHER_ENV, launcherConfig, METRICS_NAMESPACE } from '../compile/contract';
import type { CompiledPipeline } from '../compile/model';
import { acknowledgeWildcards } from './private/acknowledge';
import { SluiceFunction } from './private/node-function';
import { grantLaunch, retainFailedInvocations } from './private/launching';
import { packageModule } from '../package-files';

/** Properties of a {@link Launcher}. */
export interface LauncherProps {
  /** The pipeline whose runs this launcher starts. */
  readonly pipeline: CompiledPipeline;
  /** The partition table, where the launcher claims a partition before starting its run. */
  readonly table: dynamodb.ITable;
  /** The pipeline's state machine. */
  readonly stateMachine: sfn.IStateMachine;
  /**
   * Buckets by logical name: those the pipeline's S3 triggers name must be here, so that the
   * launcher recognises their events.
   *
   * @default - none: a pipeline with S3 triggers fails synth
   */
  readonly buckets?: Readonly<Record<string, s3.IBucket>>;
  /**
   * The pipelines this one runs after (`upstream`), compiled: their partition specs are part of
   * the launcher's configuration.
   *
   * @default - none: a pipeline with upstreams fails synth
   */
  readonly upstreams?: readonly CompiledPipeline[];
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

/** The launcher's handler module. */
export const LAUNCHER_ENTRY = packageModule('lambdas/launcher/index.ts');

/**
 * The one way a run of a pipeline starts: schedules, S3 arrivals, manual runs and backfills all
 * invoke this function, which computes the partition, claims it in the table with a conditional
 * write and starts the state machine with a deterministic execution name. Reruns too: it reads
 * the run to repeat and the task results that run recorded, and plans which tasks to execute.
 *
 * Before claiming, it counts the pipeline's RUNNING partitions in the table's index of running
 * partitions, and defers the launch at the pipeline's `maxConcurrentRuns`. Schedules invoke it
 * asynchronously: an invocation that fails (a deferred tick included) is retried twice by Lambda,
 * then kept in {@link failedInvocations} for inspection and redrive.
 *
 * @see https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html
 */
export class Launcher extends Construct {
  public readonly function: NodejsFunction;
  /** Asynchronous invocations (schedule ticks) that still failed after Lambda's retries. */
  public readonly failedInvocations: sqs.Queue;

  constructor(scope: Construct, id: string, props: LauncherProps) {
    super(scope, id);
    const bucketNames: Record<string, string> = {};
    for (const trigger of props.pipeline.triggers) {
      const bucket = props.buckets?.[trigger.bucket];
      if (!bucket) {
        throw new Error(
          `pipeline "${props.pipeline.name}": its s3Arrival trigger names unknown bucket "${trigger.bucket}" ` +
            `(this stage has: ${Object.keys(props.buckets ?? {}).join(', ') || 'none'}). Fix: add it to the stage's buckets in sluice.config.ts`,
        );
      }
      bucketNames[trigger.bucket] = bucket.bucketName;
    }
    this.function = new SluiceFunction(this, 'Launcher', {
      entry: LAUNCHER_ENTRY,
      description: `sluice ${props.pipeline.name}: launcher`,
      timeout: Duration.seconds(30),
      memorySize: 256,
      environment: {
        [LAUNCHER_ENV.pipeline]: JSON.stringify(launcherConfig(props.pipeline, props.upstreams)),
        [LAUNCHER_ENV.tableName]: props.table.tableName,
        [LAUNCHER_ENV.stateMachineArn]: props.stateMachine.stateMachineArn,
        [BUCKETS_ENV]: JSON.stringify(bucketNames),
        // Where the launcher's counts of launched, duplicate, ignored and malformed events go (LAUNCHER_METRICS).
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
      },
      logRetention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    }).function;
    grantLaunch(this.function, props.table, props.stateMachine);
    // A rerun reads the run it repeats (its execution) and the task results that run recorded.
    props.stateMachine.grantExecution(this.function, 'states:DescribeExecution');
    iam.Grant.addToPrincipal({ grantee: this.function, actions: ['dynamodb:Query'], resourceArns: [props.table.tableArn] });
    acknowledgeWildcards(this, [
      {
        actions: ['states:DescribeExecution'],
        reason: "A rerun describes the run it repeats; execution names are only known at run time, so the grant covers every execution of this pipeline's state machine and no other",
      },
    ]);
    this.failedInvocations = retainFailedInvocations(this, this.function, "the launcher's asynchronous invocations");
  }
}
