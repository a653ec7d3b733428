import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetFunctionConfigurationCommand, InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetScheduleCommand, type GetScheduleCommandOutput, SchedulerClient, UpdateScheduleCommand } from '@aws-sdk/client-scheduler';
import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  type HistoryEvent,
  ListExecutionsCommand,
  paginateGetExecutionHistory,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { GetParameterCommand, GetParametersCommand, paginateGetParametersByPath, SSMClient } from '@aws-sdk/client-ssm';
import type { ResolvedBackfillRequest } from '../../lib/compile/backfill';
import { pipelineOfRunId } from '../../lib/compile/contract';
import { pipelinesParameterPath, stageParameters } from '../../lib/compile/deployed-names';
import {
  BackfillStore,
  type LaunchResult,
  PartitionStore,
  readLauncherEnvironment,
  type RecordedResult,
  type RerunResult,
  RunResults,
  type RerunSelection,
  type ScheduledLaunchResult,
  type ScheduleState,
  UnknownRunError,
} from '../../orchestration';
import { type BackfillAccess, type BackfillProgress, type CancelMode, cancelWith, newBackfillId, problemsOf, progressOf, type StartedBackfill } from '../backfills';
import type { ExecutionRecord, ExecutionStatus } from '../engine';
import { UsageError } from '../cli/errors';
import { LaunchRejectedError, NoScheduleError, UnknownPipelineError } from '../stage-errors';
import type { TaskLogFilter } from '../task-logs';
import { deployedRunLogs } from './deployed-run-logs';
import { type DeployedStage, stageError } from './deployed-stage';
import type { PipelineInfo, RunLogs, RunWatcher, StageOperations } from './operations';
import { partitionViews } from './partition-views';
import { attemptsOfHistory } from './task-attempts';

/** How often a run or backfill in progress is looked at. */
const POLL_MS = 500;

/** A deployed pipeline: what the commands need, and where its parts are. */
interface DeployedPipeline extends PipelineInfo {
  readonly stateMachineArn: string;
  readonly launcherName: string;
  readonly tableName: string;
  readonly scheduleName?: string;
}

/**
 * The operations on a deployed stage, through the AWS SDK (default credential chain, the stage's
 * region). Every resource is found by the names and SSM parameters the stacks publish (see
 * `deployed-names.ts`); a pipeline's configuration is its launcher's, read from the function.
 * Runs start as every run does: by invoking the pipeline's launcher.
 */
export class DeployedOperations implements StageOperations {
  readonly where: string;
  private readonly ssm: SSMClient;
  private readonly lambda: LambdaClient;
  private readonly sfn: SFNClient;
  private readonly dynamo: DynamoDBClient;
  private readonly scheduler: SchedulerClient;
  private readonly logsClient: CloudWatchLogsClient;
  private readonly pipelines = new Map<string, Promise<DeployedPipeline>>();

  private constructor(private readonly stage: DeployedStage) {
    this.where = `stage ${stage.name} (${stage.region})`;
    const config = { region: stage.region };
    this.ssm = new SSMClient(config);
    this.lambda = new LambdaClient(config);
    this.sfn = new SFNClient(config);
    this.dynamo = new DynamoDBClient(config);
    this.scheduler = new SchedulerClient(config);
    this.logsClient = new CloudWatchLogsClient(config);
  }

  /**
   * Connects to a stage, checking that it is deployed (its partition table's parameter exists)
   * and that credentials are there.
   *
   * @throws StageNotDeployedError, MissingCredentialsError
   */
  static async open(stage: DeployedStage): Promise<DeployedOperations> {
    const operations = new DeployedOperations(stage);
    await operations.call(() => operations.ssm.send(new GetParameterCommand({ Name: stageParameters.partitionTableName(stage.name) })));
    return operations;
  }

  /** Runs an SDK call, turning the errors a user can act on into theirs. */
  private async call<T>(send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      throw stageError(this.stage, error);
    }
  }

  async pipelineNames(): Promise<string[]> {
    const names = new Set<string>();
    const path = pipelinesParameterPath(this.stage.name);
    await this.call(async () => {
      for await (const page of paginateGetParametersByPath({ client: this.ssm }, { Path: path, Recursive: true })) {
        for (const parameter of page.Parameters ?? []) {
          const name = parameter.Name?.slice(path.length).split('/')[0];
          if (name && parameter.Name === stageParameters.stateMachineArn(this.stage.name, name)) names.add(name);
        }
      }
    });
    return [...names].sort();
  }

  pipeline(name: string): Promise<DeployedPipeline> {
    let found = this.pipelines.get(name);
    if (!found) {
      found = this.loadPipeline(name);
      this.pipelines.set(name, found);
    }
    return found;
  }

  private async loadPipeline(name: string): Promise<DeployedPipeline> {
    const stage = this.stage.name;
    const names = {
      stateMachineArn: stageParameters.stateMachineArn(stage, name),
      launcherName: stageParameters.launcherFunctionName(stage, name),
      backfillArn: stageParameters.backfillStateMachineArn(stage, name),
      scheduleName: stageParameters.scheduleName(stage, name),
    };
    const { Parameters = [] } = await this.call(() => this.ssm.send(new GetParametersCommand({ Names: Object.values(names) })));
    const value = (parameter: string) => Parameters.find((p) => p.Name === parameter)?.Value;
    const stateMachineArn = value(names.stateMachineArn);
    const launcherName = value(names.launcherName);
    if (!stateMachineArn || !launcherName) throw new UnknownPipelineError(name, await this.pipelineNames());
    const { Environment } = await this.call(() => this.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: launcherName })));
    const { config, tableName } = readLauncherEnvironment(Environment?.Variables ?? {});
    const backfillArn = value(names.backfillArn);
    const scheduleName = value(names.scheduleName);
    return {
      name,
      config,
      tasks: new Set(config.tasks.map((t) => t.name)),
      ...(backfillArn && { backfill: { arn: backfillArn } }),
      stateMachineArn,
      launcherName,
      tableName,
      ...(scheduleName && { scheduleName }),
    };
  }

  async pipelineOfRun(runId: string): Promise<DeployedPipeline> {
    const name = pipelineOfRunId(runId);
    const known = await this.pipelineNames();
    if (name === undefined || !known.includes(name)) {
      throw new UnknownRunError(runId, `run ids start with their pipeline's name and "_", and no pipeline of ${this.where} is named "${name ?? runId}"`);
    }
    return this.pipeline(name);
  }

  async partitions(name: string, range: { from?: string; to?: string; now: Date }) {
    const pipeline = await this.pipeline(name);
    return this.call(() => partitionViews(pipeline.config, new PartitionStore(this.dynamo, pipeline.tableName), range));
  }

  async runs(name: string, limit: number): Promise<ExecutionRecord[]> {
    const { stateMachineArn } = await this.pipeline(name);
    const { executions = [] } = await this.call(() => this.sfn.send(new ListExecutionsCommand({ stateMachineArn, maxResults: limit })));
    return Promise.all(executions.map((e) => this.describe(e.executionArn!)));
  }

  private async describe(executionArn: string): Promise<ExecutionRecord> {
    const e: DescribeExecutionCommandOutput = await this.call(() => this.sfn.send(new DescribeExecutionCommand({ executionArn })));
    return {
      executionArn,
      stateMachineArn: e.stateMachineArn ?? '',
      name: e.name ?? '',
      status: (e.status ?? 'RUNNING') as ExecutionStatus,
      input: e.input ?? '{}',
      ...(e.output !== undefined && { output: e.output }),
      ...(e.error !== undefined && { error: e.error }),
      ...(e.cause !== undefined && { cause: e.cause }),
      startDate: (e.startDate ?? new Date()).toISOString(),
      ...(e.stopDate && { stopDate: e.stopDate.toISOString() }),
      // Task attempts are in the execution's history: read where they are shown (describeWithAttempts).
      attempts: [],
    };
  }

  /** An execution with its task attempts, read from its history. */
  private async describeWithAttempts(executionArn: string): Promise<ExecutionRecord> {
    const execution = await this.describe(executionArn);
    const events: HistoryEvent[] = [];
    await this.call(async () => {
      for await (const page of paginateGetExecutionHistory({ client: this.sfn }, { executionArn, includeExecutionData: false })) events.push(...(page.events ?? []));
    });
    return { ...execution, attempts: attemptsOfHistory(events) };
  }

  /** Polls an execution until it ends; with its attempts (history) for `onProgress` and at the end. */
  private async waitFor(executionArn: string, onProgress?: RunWatcher): Promise<ExecutionRecord> {
    for (;;) {
      const execution = onProgress ? await this.describeWithAttempts(executionArn) : await this.describe(executionArn);
      onProgress?.(execution);
      if (execution.status !== 'RUNNING') return onProgress ? execution : this.describeWithAttempts(executionArn);
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  /** Invokes a pipeline's launcher with `event`, as every trigger does; a refusal is a {@link LaunchRejectedError}. */
  private async launch<T>(pipeline: DeployedPipeline, event: unknown): Promise<T> {
    const result = await this.call(() =>
      this.lambda.send(new InvokeCommand({ FunctionName: pipeline.launcherName, InvocationType: 'RequestResponse', Payload: Buffer.from(JSON.stringify(event)) })),
    );
    const payload = result.Payload ? (JSON.parse(Buffer.from(result.Payload).toString('utf8')) as unknown) : undefined;
    if (result.FunctionError) {
      const { errorType, errorMessage } = (payload ?? {}) as { errorType?: string; errorMessage?: string };
      throw new LaunchRejectedError(errorType ?? result.FunctionError, errorMessage ?? `the launcher of ${pipeline.name} failed`);
    }
    return payload as T;
  }

  private executionArnOf(pipeline: DeployedPipeline, runId: string): string {
    return `${pipeline.stateMachineArn.replace(':stateMachine:', ':execution:')}:${runId}`;
  }

  async run(name: string, partition: string, params: Readonly<Record<string, unknown>>, onProgress?: RunWatcher) {
    const pipeline = await this.pipeline(name);
    const launch = await this.launch<LaunchResult>(pipeline, { source: 'manual', partition, params });
    if (launch.kind !== 'started') return { launch };
    return { launch, execution: await this.waitFor(launch.executionArn ?? this.executionArnOf(pipeline, launch.runId), onProgress) };
  }

  async rerun(runId: string, selection: RerunSelection, onProgress?: RunWatcher) {
    const pipeline = await this.pipelineOfRun(runId);
    const rerun = await this.launch<RerunResult>(pipeline, { source: 'rerun', runId, selection });
    const { launch } = rerun;
    if (launch.kind !== 'started') return { rerun };
    return { rerun, execution: await this.waitFor(launch.executionArn ?? this.executionArnOf(pipeline, launch.runId), onProgress) };
  }

  async runDetail(runId: string): Promise<{ execution: ExecutionRecord; results: RecordedResult[] }> {
    const pipeline = await this.pipelineOfRun(runId);
    const execution = await this.executionOfRun(pipeline, runId, (arn) => this.describeWithAttempts(arn));
    return { execution, results: await this.call(() => new RunResults(this.dynamo, pipeline.tableName).list(runId)) };
  }

  /** The execution a run id names (executions are named by their run ids). @throws UnknownRunError */
  private async executionOfRun(pipeline: DeployedPipeline, runId: string, read: (executionArn: string) => Promise<ExecutionRecord>): Promise<ExecutionRecord> {
    try {
      return await read(this.executionArnOf(pipeline, runId));
    } catch (error) {
      if ((error as Error).name === 'ExecutionDoesNotExist') throw new UnknownRunError(runId, `pipeline "${pipeline.name}" of ${this.where} has no such execution`);
      throw error;
    }
  }

  async logs(runId: string, filter: TaskLogFilter, from = 0): Promise<RunLogs> {
    const pipeline = await this.pipelineOfRun(runId);
    const execution = await this.executionOfRun(pipeline, runId, (arn) => this.describe(arn));
    if (filter.task !== undefined && !pipeline.tasks.has(filter.task)) {
      throw new UsageError(`Pipeline "${pipeline.name}" has no task "${filter.task}". Tasks: ${[...pipeline.tasks].join(', ')}`);
    }
    const tasks = filter.task === undefined ? [...pipeline.tasks] : [filter.task];
    const groups = await this.call(() =>
      this.ssm.send(new GetParametersCommand({ Names: tasks.map((task) => stageParameters.taskLogGroupName(this.stage.name, pipeline.name, task)) })),
    );
    // Lines are logged after the execution started (less a minute, for the two services' clocks).
    const since = Date.parse(execution.startDate) - 60_000;
    const logGroupNames = (groups.Parameters ?? []).map((group) => String(group.Value));
    const entries = await this.call(() => deployedRunLogs(this.logsClient, { logGroupNames, runId, attempt: filter.attempt, since }));
    return { entries: entries.slice(from), next: Math.max(from, entries.length), running: execution.status === 'RUNNING' };
  }

  private async schedule(name: string): Promise<{ pipeline: DeployedPipeline; schedule: GetScheduleCommandOutput }> {
    const pipeline = await this.pipeline(name);
    if (!pipeline.config.schedule || !pipeline.scheduleName) throw new NoScheduleError(name);
    const schedule = await this.call(() => this.scheduler.send(new GetScheduleCommand({ Name: pipeline.scheduleName })));
    return { pipeline, schedule };
  }

  async scheduleState(name: string): Promise<ScheduleState> {
    return (await this.schedule(name)).schedule.State === 'DISABLED' ? 'PAUSED' : 'ENABLED';
  }

  async setScheduleState(name: string, state: ScheduleState): Promise<void> {
    const { schedule: s } = await this.schedule(name);
    // UpdateSchedule replaces the whole schedule: every field is sent back as it is, but State.
    await this.call(() =>
      this.scheduler.send(
        new UpdateScheduleCommand({
          Name: s.Name,
          GroupName: s.GroupName,
          ScheduleExpression: s.ScheduleExpression,
          ScheduleExpressionTimezone: s.ScheduleExpressionTimezone,
          StartDate: s.StartDate,
          EndDate: s.EndDate,
          Description: s.Description,
          KmsKeyArn: s.KmsKeyArn,
          FlexibleTimeWindow: s.FlexibleTimeWindow,
          Target: s.Target,
          ActionAfterCompletion: s.ActionAfterCompletion,
          State: state === 'PAUSED' ? 'DISABLED' : 'ENABLED',
        }),
      ),
    );
  }

  async tick(name: string, at: Date): Promise<{ kind: 'paused' } | { kind: 'fired'; result: ScheduledLaunchResult }> {
    const { pipeline, schedule } = await this.schedule(name);
    if (schedule.State === 'DISABLED') return { kind: 'paused' };
    // The schedule's own input, with the time Scheduler would put in it.
    const time = at.toISOString().replace(/\.\d{3}Z$/, 'Z');
    const input = JSON.parse((schedule.Target?.Input ?? '{}').replaceAll('<aws.scheduler.scheduled-time>', time)) as unknown;
    const result = await this.launch<ScheduledLaunchResult>(pipeline, input);
    if (result.kind === 'launched') {
      await Promise.all(result.runs.map((run) => (run.kind === 'started' ? this.waitFor(run.executionArn ?? this.executionArnOf(pipeline, run.runId)) : undefined)));
    }
    return { kind: 'fired', result };
  }

  async startBackfill(name: string, request: ResolvedBackfillRequest, now = new Date()): Promise<StartedBackfill> {
    const pipeline = await this.pipeline(name);
    if (!pipeline.backfill) throw new UsageError(`pipeline "${name}" of ${this.where} has no backfill state machine: deploy the stage again`);
    const backfillId = newBackfillId(now);
    const { executionArn } = await this.call(() =>
      this.sfn.send(new StartExecutionCommand({ stateMachineArn: pipeline.backfill!.arn, name: backfillId, input: JSON.stringify(request) })),
    );
    return { pipeline: name, backfillId, executionArn: executionArn! };
  }

  async backfillProgress(started: StartedBackfill): Promise<BackfillProgress> {
    return this.call(async () => progressOf(this.backfillAccess(await this.pipeline(started.pipeline)), started));
  }

  async cancelBackfill(name: string, backfillId: string, mode: CancelMode): Promise<boolean> {
    return this.call(async () => cancelWith(this.backfillAccess(await this.pipeline(name)), name, backfillId, mode));
  }

  async listBackfills(name: string) {
    const pipeline = await this.pipeline(name);
    return this.call(() => this.backfillStore(pipeline).list(name));
  }

  async backfillProblems(name: string, backfillId: string) {
    const pipeline = await this.pipeline(name);
    return this.call(() => problemsOf(this.backfillStore(pipeline), name, backfillId));
  }

  /** The backfill operations' view of a deployed pipeline: its table and Step Functions. */
  private backfillAccess(pipeline: DeployedPipeline): BackfillAccess {
    return {
      backfills: this.backfillStore(pipeline),
      partitions: new PartitionStore(this.dynamo, pipeline.tableName),
      describeExecution: (executionArn) => this.describe(executionArn),
      stopExecution: (executionArn, reason) => this.sfn.send(new StopExecutionCommand({ executionArn, ...reason })),
    };
  }

  private backfillStore(pipeline: DeployedPipeline): BackfillStore {
    return new BackfillStore(this.dynamo, pipeline.tableName);
  }
}
