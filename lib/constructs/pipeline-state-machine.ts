import { CfnResource, Duration, Names, RemovalPolicy, Stack, Tags } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as ssm from 'aws-cdk-lib/aws-ssm';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { BUCKETS_ENV, PARTITION_TABLE, SECRETS_ENV, type SecretLocation } from '../compile/contract';
import { deployedNames, NAME_LIMITS } from '../compile/deployed-names';
import { type RenderedWrite, renderStatusWrite, STATUS_WRITES } from '../compile/partition-item';
import type { CompiledPipeline, CompiledTask } from '../compile/model';
import { acknowledgeWildcards } from './private/acknowledge';
import {
  TASK_TIMEOUT_MARGIN_SECONDS,
  eventRunFields,
  flowToChain,
  resultPathOf,
  resultValuePathOf,
  runFields,
  worstCaseSeconds,
} from './private/flow';
import { SluiceFunction, taskEntry } from './private/node-function';
import { retryProps, SENSOR_CHECK_PATH, sensorLoop } from './private/sensor';
import { reusableTask } from './private/reuse';

export { TASK_STATES } from './private/reuse';

/** Environment variable telling a task the names of the buckets it was granted. */
export const TASK_BUCKETS_ENV = BUCKETS_ENV;

/** A secret a task may read: a Secrets Manager secret or an SSM parameter, and the name it is read by. */
export type TaskSecret =
  | { readonly kind: 'secretsManager'; readonly secret: secretsmanager.ISecret; readonly id: string }
  | { readonly kind: 'ssmParameter'; readonly parameter: ssm.IStringParameter; readonly id: string };

/** Names of the states around the tasks. Task states are named after their task. */
export const RUN_STATES = Object.freeze({
  start: 'Start run',
  markRunning: 'Mark running',
  superseded: 'Superseded',
  run: 'Run tasks',
  markSucceeded: 'Mark succeeded',
  succeeded: 'Succeeded',
  markFailed: 'Mark failed',
  failed: 'Failed',
});

/**
 * Error of an execution whose run is no longer the partition's current one when it starts: a
 * later attempt claimed the partition, or the run monitor already ended this run (its launch
 * looked interrupted), or it was started by hand under a name the launcher never claimed. It
 * runs no task and writes nothing.
 */
export const RUN_SUPERSEDED_ERROR = 'sluice.RunSuperseded';

/**
 * Errors of the Lambda service itself (not of the function): retried on every task before, and
 * apart from, the task's own retry policy, so that a policy with `retryOn` or few attempts never
 * turns a throttled or failed invoke into a failed run.
 *
 * @see https://docs.aws.amazon.com/step-functions/latest/dg/bp-lambda-serviceexception.html
 */
export const LAMBDA_SERVICE_ERRORS = Object.freeze([
  'Lambda.ClientExecutionTimeoutException',
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
]);

/** The Retry of service errors on every Lambda task: 6 retries over about a minute. */
export const LAMBDA_SERVICE_RETRY = Object.freeze({ intervalSeconds: 1, maxAttempts: 6, backoffRate: 2, maxDelaySeconds: 20 });

/**
 * DynamoDB errors a retry cannot fix: a failed condition (another writer owns the item) and
 * errors of the request or of its permissions. Every other error of a status write (throttling,
 * a 5xx, a timeout) is retried.
 */
export const DYNAMODB_PERMANENT_ERRORS = Object.freeze([
  'DynamoDB.ConditionalCheckFailedException',
  'DynamoDB.ValidationException',
  'DynamoDB.ResourceNotFoundException',
  'DynamoDB.AccessDeniedException',
]);

/** The Retry of a status write's transient errors: 5 retries over about 15 seconds. */
export const DYNAMODB_RETRY = Object.freeze({ intervalSeconds: 1, maxAttempts: 5, backoffRate: 2, maxDelaySeconds: 8 });

/**
 * Template metadata key on the state machine resource: `{ pipeline, tasks: { <state name>:
 * <logical id of its function> } }`, so a local runtime finds each Task state's bundle in the
 * template without re-reading the pipeline.
 */
export const STATE_MACHINE_METADATA_KEY = 'sluice:pipeline';

/** Properties of a {@link PipelineStateMachine}. */
export interface PipelineStateMachineProps {
  /** The compiled pipeline. */
  readonly pipeline: CompiledPipeline;
  /** Absolute path of each task's handler file, by task name. */
  readonly handlers: Readonly<Record<string, string>>;
  /** The partition table the run's status is written to. */
  readonly table: dynamodb.ITable;
  /**
   * Buckets by logical name: those the tasks declare in `buckets` must be here.
   *
   * @default - no buckets: a task that declares one fails synth
   */
  readonly buckets?: Readonly<Record<string, s3.IBucket>>;
  /**
   * Secrets by logical name: those the tasks declare in `secrets` must be here. A task's role may
   * read exactly its own; its environment names them (`SLUICE_SECRETS`), never their values.
   *
   * @default - no secrets: a task that declares one fails synth
   */
  readonly secrets?: Readonly<Record<string, TaskSecret>>;
  /**
   * How long the logs of the state machine and of the task functions are kept.
   *
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * What happens to the log groups when they leave the stack.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * The state machine's name, shown in the Step Functions console (at most 80 characters). Its
   * log group is named after it, under `/aws/vendedlogs/states/`.
   *
   * @default - a unique name derived from the construct's path
   */
  readonly stateMachineName?: string;
}

/** Thrown when a pipeline refers to something the construct was not given. */
export class PipelineWiringError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PipelineWiringError';
  }
}

/**
 * A pipeline's Step Functions state machine (standard, JSONPath ASL) and one Lambda function per
 * task.
 *
 * The run marks its partition RUNNING, runs the tasks in the order of the compiled flow (each
 * `parallel` as a Parallel state), then marks it SUCCEEDED; any failure that survives its task's
 * Retry marks the partition FAILED and fails the execution with the task's error and cause.
 *
 * Task results travel in the state: `$.results.<task>.value` holds a task's return value, and a
 * task's handler receives the values of its direct dependencies as `event.results`. Each result
 * is also recorded in the partition table under the run (`RUN_RESULTS`), and a task the run input
 * names under `reuse` is not executed: it takes the result an earlier run recorded (a rerun, see
 * `reusableTask`). Step
 * Functions limits a state's input and output to 256 KB, so tasks should return references
 * (S3 keys), never the data itself.
 *
 * Only ASL that both AWS and the local runtime (aws-local-stepfunctions) execute is emitted: no
 * JSONata, no variables, no `.sync` integrations, and an explicit `TimeoutSeconds` on every Task.
 *
 * @see https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html#service-limits-task-executions
 */
export class PipelineStateMachine extends Construct {
  public readonly stateMachine: sfn.StateMachine;
  /** The task functions, by task name. */
  public readonly functions: Readonly<Record<string, NodejsFunction>>;
  /** The log groups of the task functions, by task name: where each attempt's lines are. */
  public readonly taskLogGroups: Readonly<Record<string, logs.ILogGroup>>;
  public readonly logGroup: logs.LogGroup;
  /** Longest a run may take: the state machine's timeout. */
  public readonly runTimeout: Duration;

  constructor(scope: Construct, id: string, props: PipelineStateMachineProps) {
    super(scope, id);
    const { pipeline, table } = props;
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const byName = new Map(pipeline.tasks.map((t) => [t.name, t]));

    const functions: Record<string, NodejsFunction> = {};
    const taskLogGroups: Record<string, logs.ILogGroup> = {};
    const taskFunctions = new Construct(this, 'Tasks');
    for (const task of pipeline.tasks) {
      const built = this.taskFunction(taskFunctions, task, props, logRetention, removalPolicy);
      functions[task.name] = built.function;
      taskLogGroups[task.name] = built.logGroup;
    }
    this.functions = Object.freeze(functions);
    this.taskLogGroups = Object.freeze(taskLogGroups);

    const key = {
      [PARTITION_TABLE.partitionKey]: tasks.DynamoAttributeValue.fromString(pipeline.name),
      [PARTITION_TABLE.sortKey]: tasks.DynamoAttributeValue.fromString(sfn.JsonPath.stringAt('$.partition')),
    };

    const start = new sfn.Pass(this, RUN_STATES.start, {
      comment: 'Normalises the run input into the state object the tasks share',
      parameters: { ...runFields('$'), results: {} },
    });
    // While a partition is RUNNING its item carries the pipeline's name in the key attribute of the
    // sparse index of running partitions, which the launcher counts; every state that ends a run
    // removes it. Every write is conditioned on the item naming this run, as PartitionStore's
    // writes are, so an older execution (started by hand, or redriven) never overwrites a newer
    // attempt (see STATUS_WRITES, which both render).
    const value = (path: string) => tasks.DynamoAttributeValue.fromString(path);
    const statusWrite = (id: string, write: RenderedWrite<tasks.DynamoAttributeValue>) =>
      new tasks.DynamoUpdateItem(this, id, {
        table,
        key,
        updateExpression: write.updateExpression,
        conditionExpression: write.conditionExpression,
        expressionAttributeNames: write.names,
        expressionAttributeValues: write.values,
        resultPath: sfn.JsonPath.DISCARD,
        taskTimeout: sfn.Timeout.duration(Duration.seconds(DYNAMODB_TIMEOUT_SECONDS)),
      });
    const runId = value(sfn.JsonPath.stringAt('$.runId'));
    const markRunning = statusWrite(
      RUN_STATES.markRunning,
      renderStatusWrite(STATUS_WRITES.running, value, {
        runId,
        pipeline: value(pipeline.name),
        attempt: tasks.DynamoAttributeValue.numberFromString(sfn.JsonPath.format('{}', sfn.JsonPath.stringAt('$.attempt'))),
        startedAt: value(sfn.JsonPath.executionStartTime),
        executionArn: value(sfn.JsonPath.executionId),
      }),
    );
    retryStatusWrite(markRunning);
    markRunning.addCatch(
      new sfn.Fail(this, RUN_STATES.superseded, {
        error: RUN_SUPERSEDED_ERROR,
        cause: 'This run is no longer the current run of its partition (a later attempt claimed it, or the run was already ended): it ran no task',
      }),
      { errors: ['DynamoDB.ConditionalCheckFailedException'], resultPath: '$.superseded' },
    );

    const run = new sfn.Parallel(this, RUN_STATES.run, {
      comment: 'Wraps the tasks so that one Catch records any failure',
      outputPath: '$[0]',
    });
    run.branch(
      flowToChain(this, pipeline.flow, (name) => {
        const task = byName.get(name)!;
        const state = this.taskState(name, byName, functions);
        return reusableTask(this, {
          task: name,
          pipeline: pipeline.name,
          execute: task.sensor ? sensorLoop(this, task, state) : state,
          table,
          timeout: Duration.seconds(DYNAMODB_TIMEOUT_SECONDS),
        });
      }),
    );

    const succeeded = new sfn.Succeed(this, RUN_STATES.succeeded);
    const markSucceeded = statusWrite(
      RUN_STATES.markSucceeded,
      renderStatusWrite(STATUS_WRITES.succeeded, value, { runId, finishedAt: value(sfn.JsonPath.stateEnteredTime) }),
    );
    retryStatusWrite(markSucceeded);
    // A later run owns the partition: its outcome is not this run's to record.
    markSucceeded.addCatch(succeeded, { errors: ['DynamoDB.ConditionalCheckFailedException'], resultPath: '$.notRecorded' });
    const markFailed = statusWrite(
      RUN_STATES.markFailed,
      renderStatusWrite(STATUS_WRITES.failed, value, {
        runId,
        finishedAt: value(sfn.JsonPath.stateEnteredTime),
        error: value(sfn.JsonPath.stringAt('$.failure.Error')),
        cause: value(sfn.JsonPath.stringAt('$.failure.Cause')),
      }),
    );
    retryStatusWrite(markFailed);
    const failed = new sfn.Fail(this, RUN_STATES.failed, { errorPath: '$.failure.Error', causePath: '$.failure.Cause' });
    markFailed.addCatch(failed, { errors: ['DynamoDB.ConditionalCheckFailedException'], resultPath: '$.notRecorded' });
    run.addCatch(markFailed.next(failed), { resultPath: '$.failure' });

    const stateMachineName = props.stateMachineName ?? Names.uniqueResourceName(this, { maxLength: NAME_LIMITS.stateMachine, separator: '-' });
    if (stateMachineName.length > NAME_LIMITS.stateMachine || !/^[A-Za-z0-9_-]+$/.test(stateMachineName)) {
      throw new PipelineWiringError(
        `pipeline "${pipeline.name}": state machine name "${stateMachineName}" is not 1 to ${NAME_LIMITS.stateMachine} characters of letters, digits, "-" and "_". Fix: shorten the stage or pipeline name`,
      );
    }
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: deployedNames.stateMachineLogGroup(stateMachineName),
      retention: logRetention,
      removalPolicy,
    });
    // A run makes two status writes on any path ("Mark running", then one that ends it). Lambda's
    // service errors fail fast, so their retries fit in the slack.
    // Per task too, a read or a record of its result.
    const worstCase = worstCaseSeconds(pipeline.flow, byName) + 2 * statusWriteWorstCaseSeconds() + 2 * pipeline.tasks.length * DYNAMODB_TIMEOUT_SECONDS;
    this.runTimeout = Duration.seconds(Math.min(worstCase + RUN_TIMEOUT_SLACK_SECONDS, MAX_STANDARD_EXECUTION_SECONDS));
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineName,
      definitionBody: sfn.DefinitionBody.fromChainable(
        sfn.Chain.start(start).next(markRunning).next(run).next(markSucceeded).next(succeeded),
      ),
      stateMachineType: sfn.StateMachineType.STANDARD,
      comment: pipeline.description ?? `sluice pipeline ${pipeline.name}`,
      timeout: this.runTimeout,
      tracingEnabled: true,
      logs: { destination: this.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
    });
    Tags.of(this.stateMachine).add('sluice:pipeline', pipeline.name);

    const stack = Stack.of(this);
    (this.stateMachine.node.defaultChild as CfnResource).addMetadata(STATE_MACHINE_METADATA_KEY, {
      pipeline: pipeline.name,
      tasks: Object.fromEntries(
        pipeline.tasks.map((t) => [t.name, stack.getLogicalId(functions[t.name].node.defaultChild as CfnResource)]),
      ),
    });

    acknowledgeWildcards(this.stateMachine, [
      {
        actions: ['lambda:InvokeFunction'],
        reason: "Step Functions' Lambda integration grants invoke on each task function and its versions (`:*`); no other function",
      },
      {
        actions: ['logs:CreateLogDelivery', 'xray:PutTraceSegments'],
        reason: 'CloudWatch Logs vended log delivery and X-Ray tracing support no resource-level permissions',
      },
    ]);
  }

  private taskFunction(
    scope: Construct,
    task: CompiledTask,
    props: PipelineStateMachineProps,
    logRetention: logs.RetentionDays,
    removalPolicy: RemovalPolicy,
  ): SluiceFunction {
    const entry = props.handlers[task.name];
    if (!entry) {
      throw new PipelineWiringError(
        `pipeline "${props.pipeline.name}", task "${task.name}": no handler file was given. Fix: pass its absolute path in handlers["${task.name}"]`,
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
          `pipeline "${props.pipeline.name}", task "${task.name}": unknown bucket "${name}" (this stage has: ${known.join(', ') || 'none'}). Fix: use one of those logical names, or add "${name}" to the stage's buckets in sluice.config.ts`,
        );
      }
      bucketNames[name] = bucket.bucketName;
      return { bucket, level };
    });
    const secrets = task.secrets.map((name): [string, TaskSecret] => {
      const secret = props.secrets?.[name];
      if (!secret) {
        throw new PipelineWiringError(
          `pipeline "${props.pipeline.name}", task "${task.name}": secret "${name}" was not given. Fix: pass where it is in secrets["${name}"]`,
        );
      }
      return [name, secret];
    });
    const secretLocations = Object.fromEntries(secrets.map(([name, secret]): [string, SecretLocation] => [name, { kind: secret.kind, id: secret.id }]));

    const fn = new SluiceFunction(scope, task.name, {
      entry: taskEntry(entry),
      description: `sluice ${props.pipeline.name}: task ${task.name}`,
      timeout: Duration.seconds(task.timeoutSeconds),
      memorySize: task.memoryMb,
      environment: {
        ...task.environment,
        ...(access.length > 0 ? { [TASK_BUCKETS_ENV]: JSON.stringify(bucketNames) } : {}),
        ...(secrets.length > 0 ? { [SECRETS_ENV]: JSON.stringify(secretLocations) } : {}),
      },
      logRetention,
      removalPolicy,
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

  private taskState(name: string, byName: ReadonlyMap<string, CompiledTask>, functions: Record<string, NodejsFunction>): sfn.TaskStateBase {
    const task = byName.get(name);
    if (!task) throw new PipelineWiringError(`The flow names task "${name}", which the pipeline does not declare`);
    const state = new tasks.LambdaInvoke(this, name, {
      lambdaFunction: functions[name],
      payload: sfn.TaskInput.fromObject({
        ...eventRunFields('$'),
        task: name,
        retryCount: sfn.JsonPath.numberAt(sfn.JsonPath.stateRetryCount),
        results: Object.fromEntries(task.after.map((dep) => [dep, sfn.JsonPath.objectAt(resultValuePathOf(dep))])),
        ...(task.sensor && { check: sfn.JsonPath.numberAt(SENSOR_CHECK_PATH) }),
      }),
      resultSelector: { value: sfn.JsonPath.objectAt('$.Payload') },
      resultPath: resultPathOf(name),
      taskTimeout: sfn.Timeout.duration(Duration.seconds(task.timeoutSeconds + TASK_TIMEOUT_MARGIN_SECONDS)),
      retryOnServiceExceptions: false,
    });
    state.addRetry({
      errors: [...LAMBDA_SERVICE_ERRORS],
      maxAttempts: LAMBDA_SERVICE_RETRY.maxAttempts,
      interval: Duration.seconds(LAMBDA_SERVICE_RETRY.intervalSeconds),
      backoffRate: LAMBDA_SERVICE_RETRY.backoffRate,
      maxDelay: Duration.seconds(LAMBDA_SERVICE_RETRY.maxDelaySeconds),
      jitterStrategy: sfn.JitterType.FULL,
    });
    const { retry } = task;
    if (retry.nonRetryableErrors.length > 0) {
      state.addRetry({ errors: [...retry.nonRetryableErrors], maxAttempts: 0 });
    }
    if (retry.attempts > 1) {
      state.addRetry(retryProps(retry, retry.retryOn ? [...retry.retryOn] : [sfn.Errors.ALL]));
    }
    return state;
  }
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

/** A DynamoDB UpdateItem answers in milliseconds; this only bounds a stuck call. */
const DYNAMODB_TIMEOUT_SECONDS = 30;
const RUN_TIMEOUT_SLACK_SECONDS = 300;
/** Standard workflows run at most one year. */
const MAX_STANDARD_EXECUTION_SECONDS = 365 * 24 * 3600;

/** The longest one status write can take: every attempt timing out, with the longest delays. */
function statusWriteWorstCaseSeconds(): number {
  const { maxAttempts, intervalSeconds, backoffRate, maxDelaySeconds } = DYNAMODB_RETRY;
  let total = (maxAttempts + 1) * DYNAMODB_TIMEOUT_SECONDS;
  for (let retry = 0; retry < maxAttempts; retry++) total += Math.min(intervalSeconds * backoffRate ** retry, maxDelaySeconds);
  return total;
}

/** Retries a status write's transient errors; a failed condition goes straight to its Catch. */
function retryStatusWrite(state: tasks.DynamoUpdateItem): void {
  state.addRetry({ errors: [...DYNAMODB_PERMANENT_ERRORS], maxAttempts: 0 });
  state.addRetry({
    errors: [sfn.Errors.ALL],
    maxAttempts: DYNAMODB_RETRY.maxAttempts,
    interval: Duration.seconds(DYNAMODB_RETRY.intervalSeconds),
    backoffRate: DYNAMODB_RETRY.backoffRate,
    maxDelay: Duration.seconds(DYNAMODB_RETRY.maxDelaySeconds),
    jitterStrategy: sfn.JitterType.FULL,
  });
}
