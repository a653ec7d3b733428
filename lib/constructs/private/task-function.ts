import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { BUCKETS_ENV, SECRETS_ENV, type SecretLocation } from '../../compile/contract';
import type { CompiledTask } from '../../compile/model';
import { PipelineWiringError, type TaskSecret } from '../pipeline-wiring';
import { acknowledgeWildcards } from './acknowledge';
import { SluiceFunction, taskEntry } from './node-function';

/** What a task's function is built from, besides the task itself. */
export interface TaskFunctionProps {
  /** The pipeline's name, for names and errors. */
  readonly pipeline: string;
  /** Absolute path of the task's handler file. */
  readonly handler: string | undefined;
  /** Buckets by logical name. */
  readonly buckets?: Readonly<Record<string, s3.IBucket>>;
  /** Secrets by logical name. */
  readonly secrets?: Readonly<Record<string, TaskSecret>>;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * A task's Lambda function: its bundle (the handler behind the generated task wrapper), timeout
 * and memory, the names of the buckets and secrets it declared in its environment, and grants
 * on exactly those.
 */
export function taskFunction(scope: Construct, task: CompiledTask, props: TaskFunctionProps): SluiceFunction {
  const entry = props.handler;
  if (!entry) {
    throw new PipelineWiringError(
      `pipeline "${props.pipeline}", task "${task.name}": no handler file was given. Fix: pass its absolute path in handlers["${task.name}"]`,
    );
  }
  const bucketNames: Record<string, string> = {};
  const access: { name: string; level: BucketAccess }[] = [
    ...task.buckets.read.map((name) => ({ name, level: 'read' as const })),
    ...task.buckets.write.map((name) => ({ name, level: 'write' as const })),
    ...task.buckets.delete.map((name) => ({ name, level: 'delete' as const })),
  ];
  const buckets = access.map(({ name, level }) => {
    const bucket = props.buckets?.[name];
    if (!bucket) {
      const known = Object.keys(props.buckets ?? {});
      throw new PipelineWiringError(
        `pipeline "${props.pipeline}", task "${task.name}": unknown bucket "${name}" (this stage has: ${known.join(', ') || 'none'}). Fix: use one of those logical names, or add "${name}" to the stage's buckets in sluice.config.ts`,
      );
    }
    bucketNames[name] = bucket.bucketName;
    return { bucket, level };
  });
  const secrets = task.secrets.map((name): [string, TaskSecret] => {
    const secret = props.secrets?.[name];
    if (!secret) {
      throw new PipelineWiringError(
        `pipeline "${props.pipeline}", task "${task.name}": secret "${name}" was not given. Fix: pass where it is in secrets["${name}"]`,
      );
    }
    return [name, secret];
  });
  const secretLocations = Object.fromEntries(secrets.map(([name, secret]): [string, SecretLocation] => [name, { kind: secret.kind, id: secret.id }]));

  const fn = new SluiceFunction(scope, task.name, {
    entry: taskEntry(entry),
    description: `sluice ${props.pipeline}: task ${task.name}`,
    timeout: Duration.seconds(task.timeoutSeconds),
    memorySize: task.memoryMb,
    environment: {
      ...task.environment,
      ...(access.length > 0 ? { [BUCKETS_ENV]: JSON.stringify(bucketNames) } : {}),
      ...(secrets.length > 0 ? { [SECRETS_ENV]: JSON.stringify(secretLocations) } : {}),
    },
    logRetention: props.logRetention,
    removalPolicy: props.removalPolicy,
  });
  for (const { bucket, level } of buckets) grantBucket(fn.function, bucket, level);
  for (const [, secret] of secrets) {
    if (secret.kind === 'secretsManager') secret.secret.grantRead(fn.function);
    else secret.parameter.grantRead(fn.function);
  }
  if (buckets.length > 0) {
    acknowledgeWildcards(fn.role, [
      {
        actions: ['s3:GetObject*', ...OBJECT_WRITE_ACTIONS, ...OBJECT_DELETE_ACTIONS],
        reason: `Task "${task.name}" declares these buckets in \`buckets\`; object access needs the bucket's \`/*\` and S3's read/write action groups`,
      },
    ]);
  }
  return fn;
}

type BucketAccess = 'read' | 'write' | 'delete';

/** What `buckets.write` grants on objects: put them, and abort a multipart upload of its own. */
const OBJECT_WRITE_ACTIONS = ['s3:PutObject', 's3:AbortMultipartUpload'];
/** What `buckets.delete` adds: delete current objects (a delete marker when versioned), never versions. */
const OBJECT_DELETE_ACTIONS = ['s3:DeleteObject'];

/**
 * Reading is `grantRead`; writing adds putting objects and deleting adds deleting them, and
 * nothing more: not `grantReadWrite`, which also deletes object versions and may set retention
 * and legal holds, which no task declared.
 */
function grantBucket(fn: NodejsFunction, bucket: s3.IBucket, level: BucketAccess): void {
  bucket.grantRead(fn);
  const actions = [...(level !== 'read' ? OBJECT_WRITE_ACTIONS : []), ...(level === 'delete' ? OBJECT_DELETE_ACTIONS : [])];
  if (actions.length > 0) iam.Grant.addToPrincipal({ grantee: fn, actions, resourceArns: [bucket.arnForObjects('*')] });
}
