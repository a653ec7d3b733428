import { Stack, type StackProps } from 'aws-cdk-lib';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { deployedNames, stageParameters } from '../compile/deployed-names';
import { alarmDeadLetterQueues } from '../constructs/private/queues';
import { BackfillStateMachine } from '../constructs/backfill-state-machine';
import * as events from 'aws-cdk-lib/aws-events';
import { RunEndRule } from '../constructs/run-end-rule';
import { Launcher } from '../constructs/launcher';
import { PipelineStateMachine } from '../constructs/pipeline-state-machine';
import { RunMonitor } from '../constructs/run-monitor';
import { S3ArrivalTrigger } from '../constructs/s3-arrival-trigger';
import { ScheduleTrigger } from '../constructs/schedule-trigger';
import { UpstreamTrigger } from '../constructs/upstream-trigger';
import { eventBusName } from '../compile/contract';
import type { CompiledPipeline } from '../compile/model';
import type { LoadedPipeline } from '../loader';
import { stageResources } from './private/stage-resources';
import { taskSecrets } from './private/task-secrets';
import { STAGE_DEFAULTS, assertBucketsKnown, secretsOf, type StageConfig } from './stage-config';

/** Properties of a {@link PipelineStack}. */
export interface PipelineStackProps extends StackProps {
  /** The stage being built. */
  readonly config: StageConfig;
  /** The pipeline, compiled, with its handler files. */
  readonly pipeline: LoadedPipeline;
  /**
   * The pipelines this one runs after, compiled.
   *
   * @default - none: a pipeline with upstreams fails synth
   */
  readonly upstreams?: readonly CompiledPipeline[];
}

/**
 * One pipeline: its state machine and task functions, its launcher and triggers, and its failure
 * alerts. One stack per pipeline keeps each far below CloudFormation's 500-resource limit however
 * many pipelines a stage has.
 *
 * It finds the stage's table, topic and buckets by their names and SSM parameters (see
 * `stageResources`), so it must be deployed after the stage's platform stack, and it publishes
 * its own state machine and functions under `/sluice/<stage>/pipelines/<pipeline>/`.
 */
export class PipelineStack extends Stack {
  public readonly stateMachine: PipelineStateMachine;
  public readonly launcher: Launcher;
  public readonly backfill: BackfillStateMachine;

  constructor(scope: Construct, id: string, props: PipelineStackProps) {
    super(scope, id, props);
    const { compiled, handlers } = props.pipeline;
    assertBucketsKnown(props.config, [compiled]);
    const logRetention = props.config.logRetention ?? STAGE_DEFAULTS.logRetention;
    const removalPolicy = props.config.removalPolicy ?? STAGE_DEFAULTS.removalPolicy;
    const stage = props.config.name;
    const usedBuckets = [...compiled.triggers.map((t) => t.bucket), ...compiled.tasks.flatMap((t) => [...t.buckets.read, ...t.buckets.write, ...t.buckets.delete])];
    const shared = stageResources(this, props.config, usedBuckets);
    // Before any construct: every dead-letter and failed-invocation queue of this stack alarms.
    alarmDeadLetterQueues(this, shared.alertTopic, `sluice ${stage} ${compiled.name}`);

    this.stateMachine = new PipelineStateMachine(this, 'Run', {
      pipeline: compiled,
      handlers,
      table: shared.table,
      buckets: shared.buckets,
      secrets: taskSecrets(this, secretsOf(props.config, [compiled], { complete: false })),
      stateMachineName: deployedNames.stateMachine(stage, compiled.name),
      logRetention,
      removalPolicy,
    });
    this.launcher = new Launcher(this, 'Launch', {
      pipeline: compiled,
      table: shared.table,
      stateMachine: this.stateMachine.stateMachine,
      buckets: shared.buckets,
      upstreams: props.upstreams,
      logRetention,
      removalPolicy,
    });
    this.backfill = new BackfillStateMachine(this, 'Backfill', {
      pipeline: compiled,
      stateMachine: this.stateMachine.stateMachine,
      runTimeout: this.stateMachine.runTimeout,
      table: shared.table,
      logRetention,
      removalPolicy,
    });
    // Found by name, as the platform stack names it: no cross-stack export to hold the two together.
    const eventBus = events.EventBus.fromEventBusName(this, 'Events', eventBusName(props.config.name));
    if (compiled.upstream.length > 0) {
      new UpstreamTrigger(this, 'Upstream', {
        eventBus,
        upstreams: compiled.upstream.map((u) => u.pipeline),
        launcher: this.launcher.function,
      });
    }
    if (compiled.schedule) {
      new ScheduleTrigger(this, 'Schedule', {
        schedule: compiled.schedule,
        launcher: this.launcher.function,
        description: `sluice ${compiled.name}: ${compiled.schedule.cron} (${compiled.schedule.timezone})`,
      });
    }
    compiled.triggers.forEach((trigger, index) => {
      new S3ArrivalTrigger(this, `Arrival${index + 1}`, {
        bucket: shared.buckets[trigger.bucket],
        trigger,
        launcher: this.launcher.function,
      });
    });
    const monitor = new RunMonitor(this, 'Monitor', {
      pipeline: compiled,
      stateMachine: this.stateMachine.stateMachine,
      table: shared.table,
      alertTopic: shared.alertTopic,
      eventBus,
      logRetention,
      removalPolicy,
    });
    new RunEndRule(this, 'Alerts', { stateMachine: this.stateMachine.stateMachine, monitor: monitor.function });

    const parameters = new Construct(this, 'Parameters');
    const publish = (id: string, parameterName: string, stringValue: string, description: string) =>
      new ssm.StringParameter(parameters, id, { parameterName, stringValue, description, tier: ssm.ParameterTier.STANDARD });
    const what = `sluice ${stage} ${compiled.name}`;
    publish('StateMachineArn', stageParameters.stateMachineArn(stage, compiled.name), this.stateMachine.stateMachine.stateMachineArn, `${what}: run state machine`);
    publish('LauncherName', stageParameters.launcherFunctionName(stage, compiled.name), this.launcher.function.functionName, `${what}: launcher function`);
    publish('MonitorName', stageParameters.monitorFunctionName(stage, compiled.name), monitor.function.functionName, `${what}: run monitor function`);
  }
}
