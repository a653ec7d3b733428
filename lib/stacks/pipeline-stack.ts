import { Stack, type StackProps } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import type { Construct } from 'constructs';
import { eventBusName } from '../compile/contract';
import type { BackfillStateMachine } from '../constructs/backfill-state-machine';
import type { Launcher } from '../constructs/launcher';
import type { PipelineStateMachine } from '../constructs/pipeline-state-machine';
import { taskSecrets } from '../constructs/private/task-secrets';
import { SluicePipeline } from '../constructs/sluice-pipeline';
import type { CompiledPipeline } from '../compile/model';
import type { LoadedPipeline } from '../loader';
import { stageResources } from './private/stage-resources';
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
 * One pipeline, as a {@link SluicePipeline}: its state machine and task functions, its launcher
 * and triggers, and its failure alerts. One stack per pipeline keeps each far below CloudFormation's 500-resource limit however
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
    const { compiled } = props.pipeline;
    assertBucketsKnown(props.config, [compiled]);
    const usedBuckets = [...compiled.triggers.map((t) => t.bucket), ...compiled.tasks.flatMap((t) => [...t.buckets.read, ...t.buckets.write, ...t.buckets.delete])];
    const shared = stageResources(this, props.config, usedBuckets);
    // Found by name, as the platform stack names it: no cross-stack export to hold the two together.
    const eventBus = events.EventBus.fromEventBusName(this, 'Events', eventBusName(props.config.name));
    // Id `Default`: the construct adds nothing to its resources' logical ids, which stay those
    // this stack gave them before the construct existed (a deployed stage replaces nothing).
    const pipeline = new SluicePipeline(this, 'Default', {
      stage: props.config.name,
      pipeline: props.pipeline,
      table: shared.table,
      alertTopic: shared.alertTopic,
      eventBus,
      buckets: shared.buckets,
      secrets: taskSecrets(this, secretsOf(props.config, [compiled], { complete: false })),
      upstreams: props.upstreams,
      logRetention: props.config.logRetention ?? STAGE_DEFAULTS.logRetention,
      removalPolicy: props.config.removalPolicy ?? STAGE_DEFAULTS.removalPolicy,
    });
    this.stateMachine = pipeline.stateMachine;
    this.launcher = pipeline.launcher;
    this.backfill = pipeline.backfill;
  }
}
