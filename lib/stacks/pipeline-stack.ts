import { Stack, type StackProps } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { RunEndRule } from '../constructs/run-end-rule';
import { Launcher } from '../constructs/launcher';
import { PipelineStateMachine } from '../constructs/pipeline-state-machine';
import { RunMonitor } from '../constructs/run-monitor';
import { S3ArrivalTrigger } from '../constructs/s3-arrival-trigger';
import { ScheduleTrigger } from '../constructs/schedule-trigger';
import type { LoadedPipeline } from '../loader';
import { STAGE_DEFAULTS, assertBucketsKnown, type StageConfig } from './stage-config';

/** Properties of a {@link PipelineStack}. */
export interface PipelineStackProps extends StackProps {
  /** The stage being built. */
  readonly config: StageConfig;
  /** The pipeline, compiled, with its handler files. */
  readonly pipeline: LoadedPipeline;
  /** The stage's partition table. */
  readonly table: dynamodb.ITable;
  /** The stage's alert topic. */
  readonly alertTopic: sns.ITopic;
  /** The stage's buckets by logical name. */
  readonly buckets: Readonly<Record<string, s3.IBucket>>;
}

/**
 * One pipeline: its state machine and task functions, its launcher and triggers, and its failure
 * alerts. One stack per pipeline keeps each far below CloudFormation's 500-resource limit however
 * many pipelines a stage has.
 */
export class PipelineStack extends Stack {
  public readonly stateMachine: PipelineStateMachine;
  public readonly launcher: Launcher;

  constructor(scope: Construct, id: string, props: PipelineStackProps) {
    super(scope, id, props);
    const { compiled, handlers } = props.pipeline;
    assertBucketsKnown(props.config, [compiled]);
    const logRetention = props.config.logRetention ?? STAGE_DEFAULTS.logRetention;
    const removalPolicy = props.config.removalPolicy ?? STAGE_DEFAULTS.removalPolicy;

    this.stateMachine = new PipelineStateMachine(this, 'Run', {
      pipeline: compiled,
      handlers,
      table: props.table,
      buckets: props.buckets,
      logRetention,
      removalPolicy,
    });
    this.launcher = new Launcher(this, 'Launch', {
      pipeline: compiled,
      table: props.table,
      stateMachine: this.stateMachine.stateMachine,
      buckets: props.buckets,
      logRetention,
      removalPolicy,
    });
    if (compiled.schedule) {
      new ScheduleTrigger(this, 'Schedule', {
        schedule: compiled.schedule,
        launcher: this.launcher.function,
        description: `sluice ${compiled.name}: ${compiled.schedule.cron} (${compiled.schedule.timezone})`,
      });
    }
    compiled.triggers.forEach((trigger, index) => {
      new S3ArrivalTrigger(this, `Arrival${index + 1}`, {
        bucket: props.buckets[trigger.bucket],
        trigger,
        launcher: this.launcher.function,
      });
    });
    const monitor = new RunMonitor(this, 'Monitor', {
      pipeline: compiled,
      stateMachine: this.stateMachine.stateMachine,
      table: props.table,
      alertTopic: props.alertTopic,
      logRetention,
      removalPolicy,
    });
    new RunEndRule(this, 'Alerts', { stateMachine: this.stateMachine.stateMachine, monitor: monitor.function });
  }
}
