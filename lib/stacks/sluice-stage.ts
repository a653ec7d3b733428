import { Stage, type StageProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { LoadedPipeline } from '../loader';
import { PipelineStack } from './pipeline-stack';
import { PlatformStack } from './platform-stack';
import { assertBucketsKnown, secretsOf, type StageConfig } from './stage-config';

/** Properties of a {@link SluiceStage}. */
export interface SluiceStageProps extends Omit<StageProps, 'env'> {
  /** The stage's configuration; its account and region become the stage's environment. */
  readonly config: StageConfig;
  /** The pipelines to deploy. */
  readonly pipelines: readonly LoadedPipeline[];
}

/**
 * One environment: a platform stack and one stack per pipeline. Deploy it alone with
 * `npx cdk deploy '<stage>/*'`.
 */
export class SluiceStage extends Stage {
  public readonly platform: PlatformStack;
  /** Pipeline stacks by pipeline name. */
  public readonly pipelines: Readonly<Record<string, PipelineStack>>;

  constructor(scope: Construct, id: string, props: SluiceStageProps) {
    super(scope, id, { ...props, env: { account: props.config.account, region: props.config.region } });
    assertBucketsKnown(
      props.config,
      props.pipelines.map((p) => p.compiled),
    );
    // A stage naming a secret no task declares has a typo: the real one would go unread.
    secretsOf(
      props.config,
      props.pipelines.map((p) => p.compiled),
      { complete: true },
    );
    this.platform = new PlatformStack(this, 'Platform', {
      config: props.config,
      description: `sluice ${props.config.name}: partition table, alerts and buckets`,
    });
    const pipelines: Record<string, PipelineStack> = {};
    for (const pipeline of props.pipelines) {
      const stack = new PipelineStack(this, `Pipeline-${pipeline.compiled.name}`, {
        config: props.config,
        pipeline,
        upstreams: pipeline.compiled.upstream.flatMap((u) => props.pipelines.filter((p) => p.compiled.name === u.pipeline).map((p) => p.compiled)),
        description: `sluice ${props.config.name}: pipeline ${pipeline.compiled.name}`,
      });
      // It reads the platform's resources by name, not through exports: deploy order is explicit.
      stack.addStackDependency(this.platform);
      pipelines[pipeline.compiled.name] = stack;
    }
    // A pipeline's stack finds the event bus by name, so it deploys after the platform stack.
    for (const stack of Object.values(pipelines)) stack.addStackDependency(this.platform);
    this.pipelines = Object.freeze(pipelines);
  }
}
