import { RemovalPolicy } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { deployedNames, stageParameters } from '../compile/deployed-names';
import type { CompiledPipeline } from '../compile/model';
import type { LoadedPipeline } from '../loader';
import { BackfillStateMachine } from './backfill-state-machine';
import { Launcher } from './launcher';
import { PipelineStateMachine } from './pipeline-state-machine';
import type { TaskSecret } from './pipeline-wiring';
import { alarmDeadLetterQueues } from './private/queues';
import { RunEndRule } from './run-end-rule';
import { RunMonitor } from './run-monitor';
import { S3ArrivalTrigger } from './s3-arrival-trigger';
import { ScheduleTrigger } from './schedule-trigger';
import { UpstreamTrigger } from './upstream-trigger';

/** Properties of a {@link SluicePipeline}. */
export interface SluicePipelineProps {
  /**
   * The stage this pipeline belongs to: its state machine is named `<stage>-<pipeline>` and its
   * parts are published under `/sluice/<stage>/pipelines/<pipeline>/`, where
   * `sluice <command> --stage <stage>` finds them.
   */
  readonly stage: string;
  /** The pipeline, compiled, with its handler files (see `loadPipelines`). */
  readonly pipeline: LoadedPipeline;
  /** The stage's partition table (see `PartitionTable`). */
  readonly table: dynamodb.ITable;
  /** Where failed runs and waiting dead letters are reported. */
  readonly alertTopic: sns.ITopic;
  /** The stage's event bus: ended partitions are published there, and upstream pipelines' events read from it. */
  readonly eventBus: events.IEventBus;
  /**
   * Buckets by the logical names the pipeline's tasks and triggers use. A bucket an S3 arrival
   * trigger watches must send its events to EventBridge (`eventBridgeEnabled: true`).
   *
   * @default - none: a pipeline naming a bucket fails synth
   */
  readonly buckets?: Readonly<Record<string, s3.IBucket>>;
  /**
   * The secrets the pipeline's tasks declare, by name.
   *
   * @default - none: a task declaring a secret fails synth
   */
  readonly secrets?: Readonly<Record<string, TaskSecret>>;
  /**
   * The pipelines this one runs after, compiled.
   *
   * @default - none: a pipeline with upstreams fails synth
   */
  readonly upstreams?: readonly CompiledPipeline[];
  /**
   * How long the logs of its functions and state machines are kept.
   *
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * What happens to its log groups when they leave the stack.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * One pipeline, deployable: its state machine and task functions, its launcher and triggers
 * (schedule, S3 arrivals, upstream pipelines), its backfill state machine, its run monitor with
 * failure alerts, an alarm on every dead-letter queue, and the SSM parameters by which the CLI
 * finds it. The stage's shared resources (table, topic, event bus, buckets) are given, so it can
 * live in the stack that owns them or in a stack of its own (see `SluicePlatform`).
 */
export class SluicePipeline extends Construct {
  public readonly stateMachine: PipelineStateMachine;
  public readonly launcher: Launcher;
  public readonly backfill: BackfillStateMachine;
  public readonly monitor: RunMonitor;

  constructor(scope: Construct, id: string, props: SluicePipelineProps) {
    super(scope, id);
    const { compiled, handlers } = props.pipeline;
    const { stage, table, alertTopic, eventBus, buckets = {} } = props;
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    // Before any construct: every dead-letter and failed-invocation queue below alarms.
    alarmDeadLetterQueues(this, alertTopic, `sluice ${stage} ${compiled.name}`);

    this.stateMachine = new PipelineStateMachine(this, 'Run', {
      pipeline: compiled,
      handlers,
      table,
      buckets,
      secrets: props.secrets,
      stateMachineName: deployedNames.stateMachine(stage, compiled.name),
      logRetention,
      removalPolicy,
    });
    this.launcher = new Launcher(this, 'Launch', {
      pipeline: compiled,
      table,
      stateMachine: this.stateMachine.stateMachine,
      buckets,
      upstreams: props.upstreams,
      logRetention,
      removalPolicy,
    });
    this.backfill = new BackfillStateMachine(this, 'Backfill', {
      pipeline: compiled,
      stateMachine: this.stateMachine.stateMachine,
      runTimeout: this.stateMachine.runTimeout,
      table,
      logRetention,
      removalPolicy,
    });
    if (compiled.upstream.length > 0) {
      new UpstreamTrigger(this, 'Upstream', {
        eventBus,
        upstreams: compiled.upstream.map((u) => u.pipeline),
        launcher: this.launcher.function,
      });
    }
    let schedule: ScheduleTrigger | undefined;
    if (compiled.schedule) {
      schedule = new ScheduleTrigger(this, 'Schedule', {
        schedule: compiled.schedule,
        launcher: this.launcher.function,
        description: `sluice ${compiled.name}: ${compiled.schedule.cron} (${compiled.schedule.timezone})`,
      });
    }
    compiled.triggers.forEach((trigger, index) => {
      new S3ArrivalTrigger(this, `Arrival${index + 1}`, {
        bucket: buckets[trigger.bucket],
        trigger,
        launcher: this.launcher.function,
      });
    });
    this.monitor = new RunMonitor(this, 'Monitor', {
      pipeline: compiled,
      stateMachine: this.stateMachine.stateMachine,
      table,
      alertTopic,
      eventBus,
      logRetention,
      removalPolicy,
    });
    new RunEndRule(this, 'Alerts', { stateMachine: this.stateMachine.stateMachine, monitor: this.monitor.function });

    const parameters = new Construct(this, 'Parameters');
    const publish = (id: string, parameterName: string, stringValue: string, description: string) =>
      new ssm.StringParameter(parameters, id, { parameterName, stringValue, description, tier: ssm.ParameterTier.STANDARD });
    const what = `sluice ${stage} ${compiled.name}`;
    publish('StateMachineArn', stageParameters.stateMachineArn(stage, compiled.name), this.stateMachine.stateMachine.stateMachineArn, `${what}: run state machine`);
    publish('LauncherName', stageParameters.launcherFunctionName(stage, compiled.name), this.launcher.function.functionName, `${what}: launcher function`);
    publish('MonitorName', stageParameters.monitorFunctionName(stage, compiled.name), this.monitor.function.functionName, `${what}: run monitor function`);
    // What `--stage` operations find the pipeline's backfills, schedule and task logs by.
    publish('BackfillArn', stageParameters.backfillStateMachineArn(stage, compiled.name), this.backfill.stateMachine.stateMachineArn, `${what}: backfill state machine`);
    if (schedule) publish('ScheduleName', stageParameters.scheduleName(stage, compiled.name), schedule.schedule.scheduleName, `${what}: schedule`);
    for (const [task, logGroup] of Object.entries(this.stateMachine.taskLogGroups)) {
      publish(`TaskLogs-${task}`, stageParameters.taskLogGroupName(stage, compiled.name, task), logGroup.logGroupName, `${what}: log group of task "${task}"`);
    }
  }
}
