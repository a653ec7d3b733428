import { CfnResource, Duration, Names, RemovalPolicy, Stack, Tags } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { BUCKETS_ENV, PARTITION_TABLE, RUN_ENDED_OUTPUT, type RunEnded } from '../compile/contract';
import { deployedNames, NAME_LIMITS } from '../compile/deployed-names';
import { PARTITION_ATTRIBUTES, type RenderedWrite, renderStatusWrite, STATUS_WRITES } from '../compile/partition-item';
import type { CompiledPipeline } from '../compile/model';
import { PipelineWiringError, type TaskSecret } from './pipeline-wiring';
import { acknowledgeWildcards } from './private/acknowledge';
import { flowToChain, runFields, worstCaseSeconds } from './private/flow';
import { reusableTask } from './private/reuse';
import { sensorLoop } from './private/sensor';
import { DYNAMODB_TIMEOUT_SECONDS, retryStatusWrite, statusWriteWorstCaseSeconds } from './private/status-write';
import { taskFunction } from './private/task-function';
import { declaredTask, taskState } from './private/task-state';

export { DYNAMODB_PERMANENT_ERRORS, DYNAMODB_RETRY } from './private/status-write';
export { LAMBDA_SERVICE_ERRORS, LAMBDA_SERVICE_RETRY } from './private/task-state';
export { TASK_STATES } from './private/reuse';

/** Environment variable telling a task the names of the buckets it was granted. */
export const TASK_BUCKETS_ENV = BUCKETS_ENV;

/** Names of the states around the tasks. Task states are named after their task. */
export const RUN_STATES = Object.freeze({
  start: 'Start run',
  markRunning: 'Mark running',
  superseded: 'Superseded',
  run: 'Run tasks',
  markSucceeded: 'Mark succeeded',
  markSucceededRerunRequested: 'Mark succeeded, rerun requested',
  succeeded: 'Succeeded',
  markFailed: 'Mark failed',
  failed: 'Failed',
});

/**
 * Error of an execution whose run is no longer the partition's current one when it starts: a
 * later run claimed the partition, or the run monitor already ended this run (its launch
 * looked interrupted), or it was started by hand under a name the launcher never claimed. It
 * runs no task and writes nothing.
 */
export const RUN_SUPERSEDED_ERROR = 'sluice.RunSuperseded';

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
      const built = taskFunction(taskFunctions, task, {
        pipeline: pipeline.name,
        handler: props.handlers[task.name],
        buckets: props.buckets,
        secrets: props.secrets,
        logRetention,
        removalPolicy,
      });
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
    // run (see STATUS_WRITES, which both render).
    const value = (path: string) => tasks.DynamoAttributeValue.fromString(path);
    const statusWrite = (id: string, write: RenderedWrite<tasks.DynamoAttributeValue>, ended?: RunEnded) =>
      new tasks.DynamoUpdateItem(this, id, {
        table,
        key,
        updateExpression: write.updateExpression,
        conditionExpression: write.conditionExpression,
        expressionAttributeNames: write.names,
        expressionAttributeValues: write.values,
        ...(ended ? { resultSelector: { ...ended }, resultPath: `$.${RUN_ENDED_OUTPUT}` } : { resultPath: sfn.JsonPath.DISCARD }),
        taskTimeout: sfn.Timeout.duration(Duration.seconds(DYNAMODB_TIMEOUT_SECONDS)),
      });
    const runId = value(sfn.JsonPath.stringAt('$.runId'));
    const markRunning = statusWrite(
      RUN_STATES.markRunning,
      renderStatusWrite(STATUS_WRITES.running, value, {
        runId,
        pipeline: value(pipeline.name),
        runNumber: tasks.DynamoAttributeValue.numberFromString(sfn.JsonPath.format('{}', sfn.JsonPath.stringAt('$.runNumber'))),
        startedAt: value(sfn.JsonPath.executionStartTime),
        executionArn: value(sfn.JsonPath.executionId),
      }),
    );
    retryStatusWrite(markRunning);
    markRunning.addCatch(
      new sfn.Fail(this, RUN_STATES.superseded, {
        error: RUN_SUPERSEDED_ERROR,
        cause: 'This run is no longer the current run of its partition (a later run claimed it, or the run was already ended): it ran no task',
      }),
      { errors: ['DynamoDB.ConditionalCheckFailedException'], resultPath: '$.superseded' },
    );

    const run = new sfn.Parallel(this, RUN_STATES.run, {
      comment: 'Wraps the tasks so that one Catch records any failure',
      outputPath: '$[0]',
    });
    run.branch(
      flowToChain(this, pipeline.flow, (name) => {
        const task = declaredTask(byName, name);
        const state = taskState(this, task, functions[name]);
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
    // The end write says in the run's output whether an S3 arrival asked for a rerun meanwhile
    // (RUN_ENDED_OUTPUT): a first write conditioned on there being none, and only when that
    // condition fails, the same write without it. The run monitor then reads the partition only
    // after a run that found a rerun requested.
    const succeededWrite = renderStatusWrite(STATUS_WRITES.succeeded, value, { runId, finishedAt: value(sfn.JsonPath.stateEnteredTime) });
    const rerunRequested = '#rerunRequested';
    const markSucceeded = statusWrite(
      RUN_STATES.markSucceeded,
      {
        ...succeededWrite,
        conditionExpression: `${succeededWrite.conditionExpression} AND attribute_not_exists(${rerunRequested})`,
        names: { ...succeededWrite.names, [rerunRequested]: PARTITION_ATTRIBUTES.rerunRequested },
      },
      { rerunRequested: false },
    );
    const markSucceededRerunRequested = statusWrite(RUN_STATES.markSucceededRerunRequested, succeededWrite, { rerunRequested: true });
    retryStatusWrite(markSucceeded);
    retryStatusWrite(markSucceededRerunRequested);
    markSucceeded.addCatch(markSucceededRerunRequested, { errors: ['DynamoDB.ConditionalCheckFailedException'], resultPath: sfn.JsonPath.DISCARD });
    // A later run owns the partition: its outcome is not this run's to record.
    markSucceededRerunRequested.addCatch(succeeded, { errors: ['DynamoDB.ConditionalCheckFailedException'], resultPath: '$.notRecorded' });
    markSucceededRerunRequested.next(succeeded);
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
    // A run makes at most three status writes on any path ("Mark running", then one or two that
    // end it). Lambda's service errors fail fast, so their retries fit in the slack.
    // Per task too, a read or a record of its result.
    const worstCase = worstCaseSeconds(pipeline.flow, byName) + 3 * statusWriteWorstCaseSeconds() + 2 * pipeline.tasks.length * DYNAMODB_TIMEOUT_SECONDS;
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

}

const RUN_TIMEOUT_SLACK_SECONDS = 300;
/** Standard workflows run at most one year. */
const MAX_STANDARD_EXECUTION_SECONDS = 365 * 24 * 3600;
