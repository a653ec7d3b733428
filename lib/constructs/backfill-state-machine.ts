import { CfnResource, Duration, RemovalPolicy, Tags } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { BACKFILL_ENV, launcherConfig, PARTITION_TABLE } from '../compile/contract';
import type { CompiledPipeline } from '../compile/model';
import { acknowledgeWildcards } from './private/acknowledge';
import { SluiceFunction } from './private/node-function';
import { packageModule } from '../package-files';

/** Names of the backfill state machine's states. */
export const BACKFILL_STATES = Object.freeze({
  plan: 'Plan backfill',
  chunks: 'Run chunks',
  loadChunk: 'Load chunk',
  runs: 'Run partitions',
  claim: 'Claim partition',
  claimed: 'Claimed?',
  run: 'Run partition',
  runBatch: 'Run batch',
  runSucceeded: 'Run succeeded',
  ended: 'Run ended',
  record: 'Record chunk',
  finish: 'Finish backfill',
  outcome: 'Every run succeeded?',
  succeeded: 'Backfill succeeded',
  failed: 'Backfill failed',
});

/** Template metadata key on the backfill state machine: `{ pipeline }`, so the local runtime finds it. */
export const BACKFILL_METADATA_KEY = 'sluice:backfill';

/** The error a backfill whose runs did not all succeed fails with. */
export const BACKFILL_FAILED_ERROR = 'sluice.BackfillFailed';

/** The backfill function's handler module. */
export const BACKFILL_ENTRY = packageModule('lambdas/backfill/index.ts');

/** Properties of a {@link BackfillStateMachine}. */
export interface BackfillStateMachineProps {
  /** The pipeline whose partitions are backfilled. */
  readonly pipeline: CompiledPipeline;
  /** The pipeline's state machine: the only one a backfill starts. */
  readonly stateMachine: sfn.IStateMachine;
  /** Longest a run of the pipeline may take (its state machine's timeout). */
  readonly runTimeout: Duration;
  /** The partition table: partitions are claimed there, and backfills recorded. */
  readonly table: dynamodb.ITable;
  /**
   * How long the logs of the state machine and of its function are kept.
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
}

/**
 * A pipeline's backfill state machine. Input (the Step Functions console's JSON):
 * `{ "from": KEY, "to": KEY, "only": "missing,failed", "concurrency": 8 }`, every field optional
 * (see `BackfillRequest`); the execution's name is the backfill's id.
 *
 * It plans the range and records the backfill and its plan in the partition table ("Plan
 * backfill"), then a Distributed Map runs the plan's chunks as child executions, at most
 * `concurrency` at once; each child runs its chunk's partitions one after another: it claims the
 * partition with the same conditional write as every other launch (waiting, with backoff, while
 * the partition is RUNNING or the pipeline at its `maxConcurrentRuns`), starts the pipeline's
 * state machine under the claimed run id with `startExecution.sync:2` and waits for it, and
 * records the chunk's outcomes. A failed run never stops the backfill. At the end the backfill is
 * marked SUCCEEDED, FAILED or CANCELLED, and the execution fails (`sluice.BackfillFailed`, the
 * summary as cause) unless every run succeeded.
 *
 * Limits: the parent's history grows by a few events per chunk and each child's by about twenty
 * per run, with at most 50 runs and 32 KB of plan per chunk (`chunkRuns`), so any range the
 * partition spec can list stays within 25,000 events per execution and 256 KB per state.
 *
 * @see https://docs.aws.amazon.com/step-functions/latest/dg/state-map-distributed.html
 */
export class BackfillStateMachine extends Construct {
  public readonly stateMachine: sfn.StateMachine;
  /** The function serving the plan, claim and record steps. */
  public readonly function: NodejsFunction;
  public readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: BackfillStateMachineProps) {
    super(scope, id);
    const { pipeline, table } = props;
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    this.function = new SluiceFunction(this, 'Steps', {
      entry: BACKFILL_ENTRY,
      description: `sluice ${pipeline.name}: backfill steps`,
      timeout: Duration.seconds(STEP_TIMEOUT_SECONDS),
      memorySize: 512,
      environment: {
        [BACKFILL_ENV.pipeline]: JSON.stringify(launcherConfig({ ...pipeline, upstream: [] })),
        [BACKFILL_ENV.tableName]: table.tableName,
      },
      logRetention,
      removalPolicy,
    }).function;
    // Partitions: read, list and claim them, count the running ones (that index only); backfills:
    // record them and their plan. A claim reads its backfill and partition together.
    table.grant(this.function, 'dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query', 'dynamodb:BatchWriteItem');
    iam.Grant.addToPrincipal({
      grantee: this.function,
      actions: ['dynamodb:Query'],
      resourceArns: [`${table.tableArn}/index/${PARTITION_TABLE.runningIndex.name}`],
    });

    // `resultPath` '$' (the result replaces the state) is left out: it is the default, and
    // aws-local-stepfunctions would store the result under a key named "$" instead.
    const step = (name: string, payload: Record<string, unknown>, resultPath: string) =>
      new tasks.LambdaInvoke(this, name, {
        lambdaFunction: this.function,
        payload: sfn.TaskInput.fromObject(payload),
        payloadResponseOnly: true,
        ...(resultPath !== '$' && { resultPath }),
        taskTimeout: sfn.Timeout.duration(Duration.seconds(STEP_TIMEOUT_SECONDS + 10)),
      });

    const plan = step(
      BACKFILL_STATES.plan,
      { action: 'plan', 'request.$': '$', 'backfillId.$': '$$.Execution.Name', 'executionArn.$': '$$.Execution.Id' },
      '$',
    );

    const ended = step(BACKFILL_STATES.ended, { action: 'ended', 'backfillId.$': '$.backfillId', 'state.$': '$' }, '$');
    const claim = step(BACKFILL_STATES.claim, { action: 'claim', 'backfillId.$': '$.backfillId', 'run.$': '$.run' }, '$.claim');
    // A busy partition or a pipeline at its limit is waited for, about an hour, then reported.
    claim.addRetry({
      errors: ['RunNotStartableError'],
      interval: Duration.seconds(2),
      backoffRate: 1.5,
      maxDelay: Duration.seconds(30),
      maxAttempts: 120,
    });
    claim.addCatch(ended, { resultPath: '$.failure' });
    const startRun = (name: string) => {
      const run = new tasks.StepFunctionsStartExecution(this, name, {
        stateMachine: props.stateMachine,
        integrationPattern: sfn.IntegrationPattern.RUN_JOB,
        name: sfn.JsonPath.stringAt('$.claim.input.runId'),
        input: sfn.TaskInput.fromJsonPathAt('$.claim.input'),
        resultSelector: { 'status.$': '$.Status' },
        resultPath: '$.result',
        taskTimeout: sfn.Timeout.duration(props.runTimeout.plus(Duration.minutes(5))),
      });
      return run.addCatch(ended, { resultPath: '$.failure' });
    };
    // A run of one partition that succeeded needs no code: its outcome is written here, which
    // spares a Lambda invocation per run without adding a transition. A batch's other partitions
    // are marked by the "ended" step, and every failure goes there.
    const succeeded = new sfn.Pass(this, BACKFILL_STATES.runSucceeded, {
      parameters: { 'partition.$': '$.run.partition', status: 'SUCCEEDED', 'runId.$': '$.claim.input.runId' },
    });
    const claimed = new sfn.Choice(this, BACKFILL_STATES.claimed)
      .when(
        sfn.Condition.and(sfn.Condition.stringEquals('$.claim.outcome', 'claimed'), sfn.Condition.isNotPresent('$.run.partitions')),
        startRun(BACKFILL_STATES.run).next(succeeded),
      )
      .when(sfn.Condition.stringEquals('$.claim.outcome', 'claimed'), startRun(BACKFILL_STATES.runBatch).next(ended))
      .otherwise(ended);

    const runs = new sfn.Map(this, BACKFILL_STATES.runs, {
      comment: "One run at a time per chunk: the chunks' Distributed Map sets the concurrency",
      itemsPath: '$.runs',
      maxConcurrency: 1,
      itemSelector: { 'backfillId.$': '$.backfillId', 'run.$': '$$.Map.Item.Value' },
      resultPath: '$.outcomes',
    });
    runs.itemProcessor(claim.next(claimed));
    const loadChunk = step(BACKFILL_STATES.loadChunk, { action: 'chunk', 'backfillId.$': '$.backfillId', 'chunk.$': '$.chunk' }, '$');
    // Each child's output is `{ recorded }`: the Map Run's results stay small.
    const record = step(
      BACKFILL_STATES.record,
      { action: 'record', 'backfillId.$': '$.backfillId', 'chunk.$': '$.chunk', 'outcomes.$': '$.outcomes' },
      '$',
    );
    const chunks = new sfn.DistributedMap(this, BACKFILL_STATES.chunks, {
      itemsPath: '$.chunks',
      maxConcurrencyPath: '$.concurrency',
      itemSelector: { 'backfillId.$': '$.backfillId', 'chunk.$': '$$.Map.Item.Value' },
      resultPath: sfn.JsonPath.DISCARD,
      mapExecutionType: sfn.StateMachineType.STANDARD,
    });
    chunks.itemProcessor(loadChunk.next(runs).next(record));

    const finish = step(BACKFILL_STATES.finish, { action: 'finish', 'backfillId.$': '$.backfillId' }, '$.summary');
    const outcome = new sfn.Choice(this, BACKFILL_STATES.outcome)
      .when(sfn.Condition.stringEquals('$.summary.backfill.status', 'SUCCEEDED'), new sfn.Succeed(this, BACKFILL_STATES.succeeded))
      .otherwise(new sfn.Fail(this, BACKFILL_STATES.failed, { error: BACKFILL_FAILED_ERROR, causePath: '$.summary.message' }));

    this.logGroup = new logs.LogGroup(this, 'Logs', { retention: logRetention, removalPolicy });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      definitionBody: sfn.DefinitionBody.fromChainable(sfn.Chain.start(plan).next(chunks).next(finish).next(outcome)),
      stateMachineType: sfn.StateMachineType.STANDARD,
      comment: `sluice backfills of pipeline ${pipeline.name}`,
      tracingEnabled: true,
      logs: { destination: this.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
    });
    Tags.of(this.stateMachine).add('sluice:pipeline', pipeline.name);
    (this.stateMachine.node.defaultChild as CfnResource).addMetadata(BACKFILL_METADATA_KEY, { pipeline: pipeline.name });

    acknowledgeWildcards(this.stateMachine, [
      {
        actions: ['lambda:InvokeFunction'],
        reason: "Step Functions' Lambda integration grants invoke on the backfill function and its versions (`:*`); no other function",
      },
      {
        actions: ['states:DescribeExecution', 'states:StopExecution', 'states:RedriveExecution'],
        reason: 'startExecution.sync and the Distributed Map follow, stop and redrive the executions they start, whose ARNs end in names chosen at run time',
      },
      {
        actions: ['logs:CreateLogDelivery', 'xray:PutTraceSegments'],
        reason: 'CloudWatch Logs vended log delivery and X-Ray tracing support no resource-level permissions',
      },
    ]);
  }
}

/** Longest step: planning 100,000 partitions and writing 2,000 chunks takes seconds, not minutes. */
const STEP_TIMEOUT_SECONDS = 300;
