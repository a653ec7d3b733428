import { RemovalPolicy } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { NAME_LIMITS } from '../compile/deployed-names';
import type { LoadedPipeline } from '../loader';
import { EMAIL, type SecretConfig, STAGE_NAME, secretsOf } from '../stacks/stage-config';
import { taskSecrets } from './private/task-secrets';
import { SluicePipeline } from './sluice-pipeline';
import { SluicePlatform } from './sluice-platform';

/** Properties of {@link SluicePipelines}. */
export interface SluicePipelinesProps {
  /**
   * The name this deployment goes by: its table, topic, event bus and state machines are named
   * after it (`sluice-<stage>-partitions`, `<stage>-<pipeline>`), its SSM parameters live under
   * `/sluice/<stage>/`, and `sluice <command> --stage <stage>` finds it by it. At most
   * 20 letters, digits and "-", starting with a letter; unique within the account and region.
   */
  readonly stage: string;
  /**
   * The pipelines to deploy, as `loadPipelines(dir)` returns them (loading imports each
   * `pipeline.ts`, so it is awaited before the construct is built).
   */
  readonly pipelines: readonly LoadedPipeline[];
  /**
   * Buckets by the logical names the pipelines use (`s3Arrival({ bucket: 'raw' })`,
   * `task({ buckets: { read: ['raw'] } })`): each task is granted exactly what it declares. A
   * bucket an S3 arrival trigger watches must send its events to EventBridge
   * (`eventBridgeEnabled: true`, or `enableEventBridgeNotification()` on an imported one).
   *
   * @default - none: a pipeline naming a bucket fails synth
   */
  readonly buckets?: Readonly<Record<string, s3.IBucket>>;
  /**
   * Email addresses subscribed to the alert topic (failed runs, waiting dead letters).
   *
   * @default - none
   */
  readonly alertEmails?: readonly string[];
  /**
   * Where the secrets the tasks declare (`task({ secrets: ['warehouse-password'] })`) come from,
   * by logical name. Naming a secret no task declares is an error.
   *
   * @default - every secret from `sluice/<stage>/<name>` in Secrets Manager
   */
  readonly secrets?: Readonly<Record<string, SecretConfig>>;
  /**
   * How long the logs of the functions and state machines are kept.
   *
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * What happens to the partition table (the run history), the alert key and the log groups when
   * they leave the stack. `RETAIN` wherever the history matters.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** Thrown when the props of {@link SluicePipelines} cannot deploy, naming each problem and its fix. */
export class SluicePipelinesError extends Error {
  constructor(
    public readonly problems: readonly string[],
    options?: { cause?: unknown },
  ) {
    super(`SluicePipelines:\n${problems.map((p) => `  - ${p}`).join('\n')}`, options);
    this.name = 'SluicePipelinesError';
  }
}

/**
 * sluice inside an existing CDK app: the resources the `sluice` app deploys for one stage (a
 * {@link SluicePlatform} and one {@link SluicePipeline} per pipeline), in the stack given as
 * scope, around the buckets the app already has. No CloudFormation exports.
 *
 * ```ts
 * const pipelines = await loadPipelines('pipelines');
 * new SluicePipelines(stack, 'Pipelines', { stage: 'prod', pipelines, buckets: { raw: rawBucket } });
 * ```
 *
 * A stack holds at most 500 resources, about 60 per pipeline: with more than a few pipelines,
 * build a `SluicePlatform` in one stack and each `SluicePipeline` in a stack of its own, as the
 * `sluice` app does.
 */
export class SluicePipelines extends Construct {
  public readonly platform: SluicePlatform;
  /** Each pipeline's construct, by pipeline name. */
  public readonly pipelines: Readonly<Record<string, SluicePipeline>>;

  constructor(scope: Construct, id: string, props: SluicePipelinesProps) {
    super(scope, id);
    const { stage, pipelines } = props;
    const buckets = props.buckets ?? {};
    const compiled = pipelines.map((p) => p.compiled);
    const problems = propsProblems(props);
    if (problems.length > 0) throw new SluicePipelinesError(problems);

    this.platform = new SluicePlatform(this, 'Platform', { stage, alertEmails: props.alertEmails, buckets, removalPolicy: props.removalPolicy });
    let secrets;
    try {
      secrets = taskSecrets(new Construct(this, 'Secrets'), secretsOf({ name: stage, secrets: props.secrets }, compiled, { complete: true }));
    } catch (error) {
      throw new SluicePipelinesError([(error as Error).message], { cause: error });
    }
    const built: Record<string, SluicePipeline> = {};
    for (const pipeline of pipelines) {
      built[pipeline.compiled.name] = new SluicePipeline(this, `Pipeline-${pipeline.compiled.name}`, {
        stage,
        pipeline,
        table: this.platform.table.table,
        alertTopic: this.platform.alertTopic,
        eventBus: this.platform.eventBus,
        buckets,
        secrets,
        upstreams: pipeline.compiled.upstream.flatMap((u) => compiled.filter((p) => p.name === u.pipeline)),
        logRetention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
        removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      });
    }
    this.pipelines = Object.freeze(built);
  }
}

/** Every problem of the props at once: the stage name, unknown buckets, addresses. */
function propsProblems(props: SluicePipelinesProps): string[] {
  const problems: string[] = [];
  if (!STAGE_NAME.test(props.stage)) {
    problems.push(`stage "${props.stage}" is not a valid name. Fix: use at most ${NAME_LIMITS.stage} letters, digits and "-", starting with a letter`);
  }
  const known = Object.keys(props.buckets ?? {});
  for (const { compiled } of props.pipelines) {
    const used = new Set([...compiled.triggers.map((t) => t.bucket), ...compiled.tasks.flatMap((t) => [...t.buckets.read, ...t.buckets.write, ...t.buckets.delete])]);
    for (const bucket of [...used].filter((b) => !known.includes(b))) {
      problems.push(`pipeline "${compiled.name}" uses bucket "${bucket}", which is not given (given: ${known.join(', ') || 'none'}). Fix: pass it in buckets: { '${bucket}': ... }`);
    }
  }
  for (const email of props.alertEmails ?? []) {
    if (!EMAIL.test(email)) problems.push(`alert email "${email}" is not an email address. Fix: correct it in alertEmails`);
  }
  return problems;
}
