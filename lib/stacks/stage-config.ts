import { RemovalPolicy } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import { NAME_LIMITS } from '../compile/deployed-names';
import { formatIssue, type ValidationIssue } from '../compile/errors';
import { defaultSecretName } from '../compile/contract';
import type { CompiledPipeline } from '../compile/model';
import { SECRET_NAME } from '../compile/validate';

/** A bucket the platform stack creates and owns. */
export interface ManagedBucket {
  readonly kind: 'managed';
}

/** A bucket that exists already; sluice only watches and reads or writes it. */
export interface ImportedBucket {
  readonly kind: 'imported';
  /** Its name. It must send events to EventBridge if a pipeline has an S3 trigger on it. */
  readonly bucketName: string;
  /**
   * Who turns on the bucket's EventBridge notifications, which S3 triggers need: `'sluice'` has
   * the platform stack turn them on at deploy (the bucket's other notifications are kept);
   * `'owner'` says whoever owns the bucket already did. Required when a pipeline has an S3
   * trigger on the bucket: synth fails otherwise, since a trigger on a bucket that sends no events
   * would never fire.
   *
   * @default - unset: fine for a bucket no trigger watches
   * @see https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-event-notifications-eventbridge.html
   */
  readonly eventBridge?: 'sluice' | 'owner';
}

/** Where a logical bucket comes from in a stage. A discriminated union: switch on `kind`. */
export type BucketConfig = ManagedBucket | ImportedBucket;

/** A secret kept in Secrets Manager. */
export interface SecretsManagerSecret {
  readonly kind: 'secretsManager';
  /** The secret's name (or full ARN), e.g. `prod/warehouse/password`. */
  readonly secretName: string;
}

/** A secret kept as an SSM parameter (a `SecureString`, decrypted when read). */
export interface SsmParameterSecret {
  readonly kind: 'ssmParameter';
  /** The parameter's name, starting with `/`, e.g. `/acme/prod/api-token`. */
  readonly parameterName: string;
  /**
   * The customer-managed KMS key encrypting it: its ARN. The task may decrypt with it.
   *
   * @default - the AWS managed key `aws/ssm`, which needs no grant
   */
  readonly encryptionKeyArn?: string;
}

/** Where a logical secret comes from in a stage. A discriminated union: switch on `kind`. */
export type SecretConfig = SecretsManagerSecret | SsmParameterSecret;

/** One deployment environment: an account and region, its buckets and its operational settings. */
export interface StageConfig {
  /** The stage's name, also its construct id: `cdk deploy '<name>/*'` deploys it. */
  readonly name: string;
  /** AWS account id, 12 digits. */
  readonly account: string;
  /** AWS region, e.g. `eu-west-1`. */
  readonly region: string;
  /**
   * Buckets by the logical names pipelines use (`s3Arrival({ bucket: 'raw' })`,
   * `task({ buckets: { read: ['raw'] } })`).
   */
  readonly buckets: Readonly<Record<string, BucketConfig>>;
  /**
   * Where the secrets tasks declare (`task({ secrets: ['warehouse-password'] })`) come from, by
   * logical name. A secret a task declares and this map leaves out is the Secrets Manager secret
   * `sluice/<stage>/<name>`. Naming a secret no task declares is an error (a typo would otherwise
   * leave the real one unread). The local runtime serves `secrets.local.json` as both services.
   *
   * @default - every secret from `sluice/<stage>/<name>` in Secrets Manager
   */
  readonly secrets?: Readonly<Record<string, SecretConfig>>;
  /**
   * Email addresses subscribed to the alert topic.
   *
   * @default - none
   */
  readonly alertEmails?: readonly string[];
  /**
   * What happens to stateful resources (partition table, managed buckets, log groups) when they
   * leave the stack. `RETAIN` wherever the data matters.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * How long logs are kept.
   *
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
}

/** Thrown when the stage configuration is invalid; lists every problem. */
export class StageConfigError extends Error {
  constructor(public readonly problems: readonly string[]) {
    super(`Invalid stage configuration (sluice.config.ts):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'StageConfigError';
  }
}

/** Logical bucket names: they appear in construct ids and pipeline definitions. */
const LOGICAL_NAME = /^[a-z][a-z0-9-]{0,39}$/;
/** Stage names appear in deployed names (`<stage>-<pipeline>` state machines), which AWS limits. */
export const STAGE_NAME = new RegExp(`^[A-Za-z][A-Za-z0-9-]{0,${NAME_LIMITS.stage - 1}}$`);
/** S3 bucket naming rules (general purpose buckets). */
const BUCKET_NAME = /^(?!xn--)(?!.*-s3alias$)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
export const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

/**
 * Checks every stage at once and returns them frozen, or throws a {@link StageConfigError}
 * naming each problem.
 */
export function validateStages(stages: readonly StageConfig[]): readonly StageConfig[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const stage of stages) {
    const where = `stage "${stage.name}"`;
    if (!STAGE_NAME.test(stage.name)) problems.push(`${where}: invalid name; use at most ${NAME_LIMITS.stage} letters, digits and "-", starting with a letter`);
    if (seen.has(stage.name)) problems.push(`${where}: declared twice; give each stage a unique name`);
    seen.add(stage.name);
    if (!/^\d{12}$/.test(stage.account)) problems.push(`${where}: account "${stage.account}" is not a 12-digit AWS account id`);
    if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(stage.region)) problems.push(`${where}: region "${stage.region}" is not an AWS region such as eu-west-1`);
    for (const [logical, bucket] of Object.entries(stage.buckets)) {
      if (!LOGICAL_NAME.test(logical)) {
        problems.push(`${where}: bucket "${logical}": logical names are lowercase letters, digits and "-", starting with a letter`);
      }
      if (bucket.kind === 'imported' && !BUCKET_NAME.test(bucket.bucketName)) {
        problems.push(`${where}: bucket "${logical}": "${bucket.bucketName}" is not a valid S3 bucket name`);
      }
    }
    for (const [logical, secret] of Object.entries(stage.secrets ?? {})) {
      if (!SECRET_NAME.test(logical)) problems.push(`${where}: secret "${logical}": use 1 to 64 letters, digits, ".", "-" and "_"`);
      if (secret.kind === 'secretsManager' && !/^[A-Za-z0-9/_+=.@:-]{1,2048}$/.test(secret.secretName)) {
        problems.push(`${where}: secret "${logical}": "${secret.secretName}" is not a Secrets Manager secret name or ARN`);
      }
      if (secret.kind === 'ssmParameter' && !/^\/[A-Za-z0-9/_.-]{1,1010}$/.test(secret.parameterName)) {
        problems.push(`${where}: secret "${logical}": "${secret.parameterName}" is not an SSM parameter name starting with "/"`);
      }
    }
    for (const email of stage.alertEmails ?? []) {
      if (!EMAIL.test(email)) problems.push(`${where}: alert email "${email}" is not an email address`);
    }
  }
  if (problems.length > 0) throw new StageConfigError(problems);
  return Object.freeze(stages.map((s) => Object.freeze({ ...s })));
}

/** The stages named in `SLUICE_STAGES` (comma-separated), or all of them when it is unset or empty. */
export function selectStages(stages: readonly StageConfig[], selection: string | undefined): readonly StageConfig[] {
  const wanted = (selection ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (wanted.length === 0) return stages;
  const unknown = wanted.filter((name) => !stages.some((s) => s.name === name));
  if (unknown.length > 0) {
    throw new StageConfigError([
      `SLUICE_STAGES names unknown stage(s) ${unknown.map((u) => `"${u}"`).join(', ')}; known: ${stages.map((s) => s.name).join(', ')}`,
    ]);
  }
  return stages.filter((s) => wanted.includes(s.name));
}

export const STAGE_DEFAULTS = Object.freeze({
  removalPolicy: RemovalPolicy.RETAIN,
  logRetention: logs.RetentionDays.ONE_MONTH,
});

/** Thrown when pipelines name buckets the stage does not have, or watch one that sends no events. */
export class UnknownBucketError extends Error {
  constructor(public readonly problems: readonly string[]) {
    super(`Unknown bucket(s):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'UnknownBucketError';
  }
}

/**
 * Checks that every logical bucket the pipelines name (triggers, task bucket access) exists in the
 * stage, and that every imported bucket a trigger watches says who turns on its EventBridge
 * notifications, reporting all problems at once.
 *
 * @throws UnknownBucketError naming each pipeline, the bucket and the fix
 */
export function assertBucketsKnown(stage: StageConfig, pipelines: readonly CompiledPipeline[]): void {
  // A trigger's issue has no task: "pipeline "x", s3Arrival trigger: ..." reads as one place.
  const problems = bucketIssues(stage, pipelines).map((issue) => (issue.task ? formatIssue(issue) : `pipeline "${issue.pipeline}", ${issue.message}. Fix: ${issue.fix}`));
  if (problems.length > 0) throw new UnknownBucketError(problems);
}

/**
 * Every use of a logical bucket the stage does not configure, and every imported bucket a trigger
 * watches without saying who turns on its EventBridge notifications, as validation issues.
 */
export function bucketIssues(stage: Pick<StageConfig, 'name' | 'buckets'>, pipelines: readonly CompiledPipeline[]): ValidationIssue[] {
  const known = Object.keys(stage.buckets);
  const issues: ValidationIssue[] = [];
  for (const pipeline of pipelines) {
    const uses = [
      ...pipeline.triggers.map((t) => ({ bucket: t.bucket, task: undefined, what: 's3Arrival trigger: ' })),
      ...pipeline.tasks.flatMap((t) => [...t.buckets.read, ...t.buckets.write, ...t.buckets.delete].map((bucket) => ({ bucket, task: t.name, what: '' }))),
    ];
    for (const trigger of pipeline.triggers) {
      const bucket = stage.buckets[trigger.bucket];
      if (bucket?.kind !== 'imported' || bucket.eventBridge !== undefined) continue;
      issues.push({
        pipeline: pipeline.name,
        message:
          `s3Arrival trigger: bucket "${trigger.bucket}" of stage "${stage.name}" is imported (${bucket.bucketName}), ` +
          'and nothing says it sends events to EventBridge, so the trigger would never fire',
        fix:
          "in sluice.config.ts set eventBridge: 'sluice' on it to have the platform stack turn its EventBridge " +
          "notifications on, or eventBridge: 'owner' if its owner already did",
      });
    }
    for (const { bucket, task, what } of uses) {
      if (stage.buckets[bucket]) continue;
      issues.push({
        pipeline: pipeline.name,
        ...(task !== undefined && { task }),
        message: `${what}bucket "${bucket}" is not configured in stage "${stage.name}" (it has: ${known.join(', ') || 'none'})`,
        fix: `use one of those logical names, or add "${bucket}" to the buckets of stage "${stage.name}" in sluice.config.ts`,
      });
    }
  }
  return issues;
}

/** Thrown when a stage maps secrets that no task declares. */
export class UnknownSecretError extends Error {
  constructor(public readonly problems: readonly string[]) {
    super(`Unknown secret(s):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'UnknownSecretError';
  }
}

/**
 * Where each secret the pipelines' tasks declare comes from in the stage: its configuration, else
 * `sluice/<stage>/<name>` in Secrets Manager.
 *
 * @throws UnknownSecretError when the stage maps a secret no task of `pipelines` declares
 *   (checked only when `pipelines` is the stage's every pipeline: `complete`)
 */
export function secretsOf(stage: Pick<StageConfig, 'name' | 'secrets'>, pipelines: readonly CompiledPipeline[], options: { complete: boolean }): Map<string, SecretConfig> {
  const declared = new Set(pipelines.flatMap((p) => p.tasks.flatMap((t) => t.secrets)));
  if (options.complete) {
    const problems = Object.keys(stage.secrets ?? {})
      .filter((name) => !declared.has(name))
      .map(
        (name) =>
          `stage "${stage.name}" maps secret "${name}", which no task declares (declared: ${[...declared].join(', ') || 'none'}). ` +
          `Fix: correct the name in the secrets of stage "${stage.name}" in sluice.config.ts, or add it to a task's \`secrets\``,
      );
    if (problems.length > 0) throw new UnknownSecretError(problems);
  }
  return new Map(
    [...declared].map((name): [string, SecretConfig] => [name, stage.secrets?.[name] ?? { kind: 'secretsManager', secretName: defaultSecretName(stage.name, name) }]),
  );
}
