import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { LAUNCHER_ENV, launcherConfig, PARTITION_TABLE } from '../compile/contract';
import type { CompiledPipeline } from '../compile/model';
import { acknowledgeWildcards } from './private/acknowledge';
import { SluiceFunction } from './private/node-function';
import { grantLaunch, retainFailedInvocations } from './private/launching';
import { deadLetterQueue } from './private/queues';
import { packageModule } from '../package-files';

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
   * The stage's event bus: every ended partition is published there as a `Partition Succeeded`
   * or `Partition Failed` event, which pipelines that run after this one (and anyone's rules)
   * consume.
   */
  readonly eventBus: events.IEventBus;
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

/** The run monitor's input on every reconciliation (see `reconcilePartitions` in orchestration/reconcile.ts). */
export const RECONCILE_INPUT = Object.freeze({ source: 'reconcile' });

/**
 * How often the monitor reconciles the pipeline's RUNNING partitions with their executions:
 * twice the reconciliation's 5-minute grace, so a lost run is recovered within 15 minutes.
 */
export const RECONCILE_RATE = Duration.minutes(10);

/** The run monitor's handler module. */
export const RUN_MONITOR_ENTRY = packageModule('lambdas/run-monitor/index.ts');

/**
 * Follows the end of every run. Turns a failed, timed-out or aborted execution into one readable
 * alert (pipeline, partition, error, console link) and makes sure its partition does not stay
 * RUNNING: a run aborted or timed out by Step Functions never reaches the state machine's own
 * "Mark failed" state. Then, succeeded or not, starts the rerun an S3 arrival requested while the
 * run was in progress, through the same launch logic (claim, deterministic execution name) as
 * the launcher. Every ended run is also published to the stage's event bus as a
 * `Partition Succeeded` or `Partition Failed` event.
 *
 * Status-change events are best effort, and a launcher may stop between its claim and
 * StartExecution, so every {@link RECONCILE_RATE} an EventBridge Scheduler schedule also invokes
 * the monitor with {@link RECONCILE_INPUT}: it describes the execution of every RUNNING partition
 * and recovers those whose execution never started or ended unheard of.
 *
 * An invocation that fails (a rerun deferred at the pipeline's `maxConcurrentRuns` included) is
 * retried twice by Lambda, then kept in {@link failedInvocations} for inspection and redrive.
 *
 * @see https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html
 * @see https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html#rate-based
 */
export class RunMonitor extends Construct {
  public readonly function: NodejsFunction;
  /** Status-change events and reconciliations the monitor still failed to handle after Lambda's retries. */
  public readonly failedInvocations: sqs.Queue;
  /** Invokes the monitor's reconciliation. */
  public readonly reconcileSchedule: scheduler.Schedule;

  constructor(scope: Construct, id: string, props: RunMonitorProps) {
    super(scope, id);
    this.function = new SluiceFunction(this, 'Monitor', {
      entry: RUN_MONITOR_ENTRY,
      description: `sluice ${props.pipeline.name}: run monitor`,
      timeout: Duration.seconds(30),
      memorySize: 256,
      environment: {
        // Reruns need the partitions, not the upstreams: only the launcher reads those.
        [LAUNCHER_ENV.pipeline]: JSON.stringify(launcherConfig({ ...props.pipeline, upstream: [] })),
        [LAUNCHER_ENV.tableName]: props.table.tableName,
        [LAUNCHER_ENV.alertTopicArn]: props.alertTopic.topicArn,
        [LAUNCHER_ENV.rerunStateMachineArn]: props.stateMachine.stateMachineArn,
        [LAUNCHER_ENV.eventBusName]: props.eventBus.eventBusName,
      },
      logRetention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    }).function;
    grantLaunch(this.function, props.table, props.stateMachine);
    // Reconciliation finds stranded reruns through the index of requested reruns, that index only.
    iam.Grant.addToPrincipal({
      grantee: this.function,
      actions: ['dynamodb:Query'],
      resourceArns: [`${props.table.tableArn}/index/${PARTITION_TABLE.rerunIndex.name}`],
    });
    // Only the executions of its own state machine: `grantRead` would add ListExecutions and
    // other reads the reconciliation does not need.
    iam.Grant.addToPrincipal({
      grantee: this.function,
      actions: ['states:DescribeExecution'],
      resourceArns: [
        Stack.of(this).formatArn({
          service: 'states',
          resource: 'execution',
          resourceName: `${Stack.of(this).splitArn(props.stateMachine.stateMachineArn, ArnFormat.COLON_RESOURCE_NAME).resourceName}:*`,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      ],
    });
    props.alertTopic.grantPublish(this.function);
    props.eventBus.grantPutEventsTo(this.function);
    this.failedInvocations = retainFailedInvocations(this, this.function, "the run monitor's asynchronous invocations");
    this.reconcileSchedule = this.scheduleReconciliation(props.pipeline.name);
    acknowledgeWildcards(this, [
      {
        actions: ['kms:GenerateDataKey*'],
        reason: "Publishing to the encrypted alert topic needs data keys (every GenerateDataKey variant) from that topic's key only",
      },
      {
        actions: ['states:DescribeExecution'],
        reason: "Reconciliation describes the execution of each RUNNING partition; execution names are only known at run time, so the grant covers every execution of this pipeline's state machine and no other",
      },
      {
        actions: ['lambda:InvokeFunction'],
        reason: "EventBridge Scheduler's Lambda target grants invoke on the run monitor and its versions (`:*`); no other function",
      },
    ]);
  }

  /** Invokes the monitor's reconciliation on a fixed rate, exactly on time, with retries and a DLQ. */
  private scheduleReconciliation(pipeline: string): scheduler.Schedule {
    // An own role, rather than the target's stack-wide default, can invoke the monitor only, and
    // only schedules of this account can assume it.
    const role = new iam.Role(this, 'ReconcileRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    });
    return new scheduler.Schedule(this, 'Reconcile', {
      schedule: scheduler.ScheduleExpression.rate(RECONCILE_RATE),
      description: `sluice ${pipeline}: reconcile RUNNING partitions with their executions`,
      timeWindow: scheduler.TimeWindow.off(),
      target: new targets.LambdaInvoke(this.function, {
        role,
        input: scheduler.ScheduleTargetInput.fromObject(RECONCILE_INPUT),
        deadLetterQueue: deadLetterQueue(this, 'ReconcileDeadLetters', 'the reconciliation schedule target (the run monitor)'),
        retryAttempts: 5,
        maxEventAge: Duration.hours(1),
      }),
    });
  }
}
