/**
 * `LocalRuntime`, the embedded runtime's one entry point for the CLI, the console, the testing
 * helper and the bench: it starts a stage (stage-services.ts), then launches, reruns, backfills
 * and triggers on it. About 580 lines because it is that facade: each method is short and
 * delegates to the engine, the stores or the services.
 */
import module from 'node:module';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pipelineOfRunId, type TaskEvent } from '../lib/compile/contract';
// The orchestration modules one by one, not through their index: that would load what only the
// functions use (the run monitor's SDK clients, Powertools) into every command.
import type { BackfillStore } from '../orchestration/backfill-store';
import type { LaunchResult, ScheduledLaunchResult } from '../orchestration/launch';
import type { PartitionStore } from '../orchestration/partition-store';
import type { RerunResult, RerunSelection } from '../orchestration/rerun';
import { UnknownRunError, UnknownTaskError } from '../orchestration/rerun-errors';
import type { RunResults } from '../orchestration/run-results';
import type { ScheduleState, ScheduleStates } from '../orchestration/schedule-state';
import { DEV_FILE, DevAlreadyRunningError, type DevAnnouncement, findLiveDev } from './dev-announcement';
import { failAbandonedRuns } from './abandoned-runs';
import { type ExecutionRecord, type ExecutionResult, type InvokeResult, type LocalEngine } from './engine';
import type { EventRouter, RouterNotice } from './event-router';
import { type LocalPipeline, pipelineNamed, taskFunctionArns, type WarmUp } from './local-pipelines';
import { defaultPartition } from './operations/default-partition';
import { type PartitionView, partitionViews } from './operations/partition-views';
import {
  type LocalDynamo,
  type LocalS3,
  liveLeases,
  LocalScheduler,
  type ObjectCreatedEvent,
  type PendingTicks,
  type PublishedMessage,
  type SharedServices,
  useSharedServices,
} from './services';
import { LocalMetrics, type MetricSample, tapStdout } from './services/metrics';
import { LaunchRejectedError, NoScheduleError } from './stage-errors';
import { type StageServices, startStageServices } from './stage-services';
import { writeFileAtomic } from './state-files';
import { skippedPipelineWarnings, synthLocalStage, type SynthLocalResult } from './synth';

/** Properties of {@link LocalRuntime.start}. */
export interface LocalRuntimeProps {
  /** The sluice project (its CDK app). */
  readonly projectDir: string;
  /** Where pipelines are discovered. */
  readonly pipelinesDir: string;
  /** Local state: assembly, DynamoDB and S3 data, executions, dead letters, alerts. */
  readonly home: string;
  /**
   * The local values of the secrets tasks declare: `{ "<logical name>": "<value>" }`.
   * @default - `$SLUICE_SECRETS_FILE`, else `secrets.local.json` in `projectDir`
   */
  readonly secretsFile?: string;
  /** Fixed ports; 0 picks free ones. @default - free ports */
  readonly ports?: { readonly s3?: number; readonly dynamodb?: number };
  /**
   * Fixed wait before every retry, instead of each Retry's interval and backoff.
   * @default - the intervals of the state machine's Retry blocks
   */
  readonly retryIntervalMs?: number;
  /**
   * Fixed duration of every Wait state (sensor intervals), instead of their own.
   * @default - the Wait states' own durations
   */
  readonly waitIntervalMs?: number;
  /**
   * Log level of the functions' Powertools loggers (`DEBUG`, `INFO`, `WARN`, `ERROR`).
   * @default - each function's own, as on AWS (Powertools' default is `INFO`): a task's logger lines
   * are part of its logs (`sluice logs`)
   */
  readonly functionLogLevel?: string;
  /** Receives what happens in the background (deliveries, dead letters, alerts). @default - nothing */
  readonly notify?: (notice: RuntimeNotice) => void;
  /**
   * Receives what the runtime skipped or repaired and the user should know (a damaged execution
   * record, a repaired DynamoDB store), one line each, naming the file.
   * @default - `process.emitWarning`
   */
  readonly warn?: (message: string) => void;
  /**
   * The DynamoDB and S3 of `home` are served by one background process that every sluice process
   * on that home shares (dynalite's store can be open in one process only), started by the first
   * and stopped once idle. Whether this runtime is the home's `sluice dev`: `announce` says so in
   * `<home>/dev.json`, failing with {@link DevAlreadyRunningError} when a live one already did;
   * the runtime that runs triggers must be the only one. Either way the runtime runs its own
   * engine, Step Functions and SNS endpoints.
   *
   * @default 'attach'
   */
  readonly sharing?: 'attach' | 'announce';
  /**
   * Puts something between the functions and a local service: called once per service at start
   * with the service's endpoint, it returns the endpoint the functions' SDK clients use instead
   * (a fault-injecting proxy in the fault suite). The engine's own calls go to the service.
   *
   * @default - the functions use the services directly
   */
  readonly interpose?: (service: 'dynamodb' | 'stepfunctions', endpoint: string) => Promise<string>;
  /**
   * What the caller is about to run (`sluice run <pipeline>`, `sluice backfill`): the sandboxes
   * of the functions it calls (its first step, the tasks, the run monitor) start loading as soon
   * as the stage's services are up, while the rest of the start goes on, instead of with each
   * first invocation.
   * @default - none: a pipeline's task sandboxes start loading when one of its runs starts
   */
  readonly warm?: readonly WarmUp[];
}

/** How often a run's progress is reported while it runs. */
const PROGRESS_INTERVAL_MS = 100;

/** What the runtime reports as it works. */
export type RuntimeNotice =
  | RouterNotice
  | { readonly kind: 'alert'; readonly message: PublishedMessage }
  | {
      readonly kind: 'schedule';
      readonly schedule: string;
      readonly scheduledTime: Date;
      /** The pipeline whose schedule is paused: the tick fired nothing. */
      readonly paused?: string;
    }
  | { readonly kind: 'metric'; readonly sample: MetricSample }
  /** An uploaded object that no trigger's rule matches: nothing runs for it. */
  | { readonly kind: 'unmatched'; readonly bucket: string; readonly key: string };

export type { PartitionView };
export { BrokenPipelineError, LaunchRejectedError, NoScheduleError, UnknownPipelineError } from './stage-errors';

/**
 * The embedded runtime: the local stage of the CDK app, synthesized (or taken from the cache) and
 * served by local stand-ins. Runs start through the launcher's own bundle, executions run the ASL
 * of `cdk.out`, S3 arrivals and schedules reach the launcher through the rules, queues and
 * schedules of the template, and failed runs reach the run monitor's bundle, which alerts.
 */
export class LocalRuntime {
  private triggersStarted = false;
  private scheduler?: LocalScheduler;
  /** Stops routing uploads. */
  private unsubscribeUploads?: () => void;
  /** The number of the last upload event this runtime routed. */
  private lastUpload = 0;
  /** Whether another runtime of this process took over the triggers (`sluice dev` reloaded). */
  private handedOver = false;
  private stopping?: Promise<void>;
  private readonly running = new Set<string>();
  private readonly stopped: Array<() => void> = [];
  /** What the functions counted (their embedded CloudWatch metrics), since this runtime started. */
  readonly metrics = new LocalMetrics();

  private constructor(
    readonly synth: SynthLocalResult,
    readonly engine: LocalEngine,
    readonly pipelines: ReadonlyMap<string, LocalPipeline>,
    private readonly services: StageServices & { readonly shared: SharedServices; readonly dynamo: LocalDynamo; readonly s3: LocalS3 },
    private readonly router: EventRouter,
    private readonly props: LocalRuntimeProps,
    /** The pid of the `sluice dev` whose DynamoDB and S3 this runtime uses, if it attached to one. */
    readonly attachedTo?: number,
  ) {
    // Ended runs reach the run monitor through the rules of the template wherever they ran, so a
    // `sluice run` alerts and starts requested reruns as a triggered run does.
    const byStateMachine = new Map([...pipelines.values()].map((p) => [p.stateMachine.arn, p]));
    this.stopped.push(
      engine.onStatusChange((event) => {
        if (event.detail.status === 'RUNNING') {
          this.running.add(event.detail.executionArn);
          // Its tasks' sandboxes load ahead of the tasks, the first ones first; two at a time, as
          // this process now mostly waits for the run.
          const pipeline = byStateMachine.get(event.detail.stateMachineArn);
          if (pipeline) engine.prewarm(taskFunctionArns(pipeline), 2);
        } else this.running.delete(event.detail.executionArn);
        router.publish(event as unknown as Record<string, unknown>);
      }),
    );
    const notify = props.notify;
    if (notify) this.stopped.push(services.sns.onPublish((message) => notify({ kind: 'alert', message })));
    // Once handed over, the runtime taking over counts what the functions print.
    this.stopped.push(tapStdout((line) => this.handedOver || this.metrics.ingest(line)));
    if (notify) this.stopped.push(this.metrics.onSample((sample) => notify({ kind: 'metric', sample })));
  }

  /** Synthesizes if sources changed, attaches to (or starts) the local services and loads the stage. */
  static async start(props: LocalRuntimeProps): Promise<LocalRuntime> {
    // The sandboxes resolve a bundle's AWS SDK through it (Node.js 22.15 and 23.5 on).
    if (typeof module.registerHooks !== 'function') throw new Error(`The sluice local runtime needs Node.js 22.15 or later; this is ${process.version}`);
    const warn = props.warn ?? ((message: string) => process.emitWarning(message));
    const synth = await synthLocalStage({ projectDir: props.projectDir, pipelinesDir: props.pipelinesDir, home: props.home });
    for (const warning of skippedPipelineWarnings(synth)) warn(warning);
    const started: Array<{ stop(): Promise<void> }> = [];
    const announce = props.sharing === 'announce';
    const dev = await findLiveDev(props.home);
    // A `sluice dev` reloading starts its next runtime while the previous one still announces it.
    if (dev && announce && dev.pid !== process.pid) throw new DevAlreadyRunningError(props.home, dev.pid);
    let shared: SharedServices | undefined;
    try {
      shared = await useSharedServices({ home: props.home, ports: props.ports });
      if (shared.repaired) warn(shared.repaired);
      const { dynamo, s3 } = shared;
      const { engine: running, pipelines, services, router } = await startStageServices(props, synth, shared, warn, started);
      if (announce) {
        const announcement: DevAnnouncement = {
          pid: process.pid,
          endpoints: { s3: s3.endpoint, dynamodb: dynamo.endpoint },
          s3ClientEnvironment: s3.clientEnvironment,
        };
        writeFileAtomic(join(props.home, DEV_FILE), JSON.stringify(announcement, null, 2));
      }
      // This process holds one lease on the services: any other is another sluice command.
      await failAbandonedRuns(running, pipelines, dynamo, liveLeases(props.home) <= 1);
      const attachedTo = dev && dev.pid !== process.pid ? dev.pid : undefined;
      return new LocalRuntime(synth, running, pipelines, { shared, dynamo, s3, ...services }, router, props, attachedTo);
    } catch (error) {
      await Promise.allSettled(started.map((s) => s.stop()));
      await shared?.release();
      throw error;
    }
  }

  /** Endpoints of the local services, for SDK clients (`endpoint`) and `AWS_ENDPOINT_URL_*`. */
  get endpoints(): { s3: string; dynamodb: string; stepFunctions: string; sns: string; eventBridge: string; ssm: string; lambda: string; scheduler: string; logs: string } {
    return {
      s3: this.services.s3.endpoint,
      dynamodb: this.services.dynamo.endpoint,
      stepFunctions: this.services.sfn.endpoint,
      sns: this.services.sns.endpoint,
      eventBridge: this.services.events.endpoint,
      ssm: this.services.secrets.endpoint,
      lambda: this.services.lambda.endpoint,
      scheduler: this.services.scheduler.endpoint,
      logs: this.services.logs.endpoint,
    };
  }

  /**
   * The SDK's endpoint variables that point what a deployed stage's operations call (`--stage`)
   * at this runtime: the stage's SSM parameters, launchers, executions, table, schedules and logs.
   */
  get deployedStageEnvironment(): Record<string, string> {
    const e = this.endpoints;
    return {
      AWS_ENDPOINT_URL_SSM: e.ssm,
      AWS_ENDPOINT_URL_LAMBDA: e.lambda,
      AWS_ENDPOINT_URL_SFN: e.stepFunctions,
      AWS_ENDPOINT_URL_DYNAMODB: e.dynamodb,
      AWS_ENDPOINT_URL_SCHEDULER: e.scheduler,
      AWS_ENDPOINT_URL_CLOUDWATCH_LOGS: e.logs,
    };
  }

  /** The local S3 (its client and object-created events). */
  get s3(): LocalS3 {
    return this.services.s3;
  }

  /** The pipeline with this name. */
  pipeline(name: string): LocalPipeline {
    return pipelineNamed(this.pipelines, this.synth, name);
  }

  /**
   * The partition a run without `--partition` processes: the last complete time partition (as a
   * schedule tick now would), or `default` for an unpartitioned pipeline. Static partitions have
   * no such default.
   */
  defaultPartition(name: string, now: Date): string {
    return defaultPartition(this.pipeline(name), now);
  }

  /** Starts one run of a partition through the launcher, as `sluice run` or a backfill would. */
  async launch(
    name: string,
    partition: string,
    trigger: 'manual' | 'backfill' = 'manual',
    params: Readonly<Record<string, unknown>> = {},
  ): Promise<LaunchResult> {
    const pipeline = this.pipeline(name);
    // The first tasks' sandboxes load while the launcher claims the partition.
    this.engine.prewarm(taskFunctionArns(pipeline));
    const result: InvokeResult = await this.engine.invoke(pipeline.launcher.arn, { source: trigger, partition, params });
    if (!result.ok) throw new LaunchRejectedError(result.errorType, result.errorMessage);
    return result.payload as LaunchResult;
  }

  /** Starts a run and waits for it to end. */
  async run(
    name: string,
    partition: string,
    params: Readonly<Record<string, unknown>> = {},
    onProgress?: (execution: ExecutionRecord) => void,
  ): Promise<{ launch: LaunchResult; execution?: ExecutionResult }> {
    const launch = await this.launch(name, partition, 'manual', params);
    const executionArn = launch.kind === 'started' ? (launch.executionArn ?? this.executionArnOf(name, launch.runId)) : undefined;
    return { launch, execution: executionArn ? await this.waitForRun(executionArn, onProgress) : undefined };
  }

  /** Waits for an execution to end, handing its record to `onProgress` as it goes. */
  private async waitForRun(executionArn: string, onProgress?: (execution: ExecutionRecord) => void): Promise<ExecutionResult> {
    if (!onProgress) return this.engine.waitForExecution(executionArn);
    const timer = setInterval(() => onProgress(this.engine.describeExecution(executionArn)), PROGRESS_INTERVAL_MS);
    try {
      const result = await this.engine.waitForExecution(executionArn);
      onProgress(result);
      return result;
    } finally {
      clearInterval(timer);
    }
  }

  /**
   * Starts a new run of an ended run's partition that executes only the selected tasks and
   * reuses the results the run recorded for the others (through the launcher), and waits for it.
   */
  async rerun(
    runId: string,
    selection: RerunSelection,
    onProgress?: (execution: ExecutionRecord) => void,
  ): Promise<{ rerun: RerunResult; execution?: ExecutionResult }> {
    const pipeline = this.pipelineOfRun(runId);
    const rerun = await this.startRerun(runId, selection);
    const { launch } = rerun;
    const executionArn = launch.kind === 'started' ? (launch.executionArn ?? this.executionArnOf(pipeline.name, launch.runId)) : undefined;
    return { rerun, execution: executionArn ? await this.waitForRun(executionArn, onProgress) : undefined };
  }

  /** Starts a rerun through the launcher (see {@link rerun}) without waiting for it. */
  async startRerun(runId: string, selection: RerunSelection): Promise<RerunResult> {
    const pipeline = this.pipelineOfRun(runId);
    const result = await this.engine.invoke(pipeline.launcher.arn, { source: 'rerun', runId, selection });
    if (!result.ok) throw new LaunchRejectedError(result.errorType, result.errorMessage);
    return result.payload as RerunResult;
  }

  /** The pipeline a run id names (run ids start with their pipeline's name). */
  pipelineOfRun(runId: string): LocalPipeline {
    const name = pipelineOfRunId(runId);
    const pipeline = name === undefined ? undefined : this.pipelines.get(name);
    if (!pipeline) {
      throw new UnknownRunError(runId, `run ids start with their pipeline's name and "_", and no pipeline here is named "${name ?? runId}"`);
    }
    return pipeline;
  }

  /** A pipeline's schedule: its schedule in the stage and its pause state. */
  async schedule(name: string): Promise<{ pipeline: LocalPipeline; scheduleName: string; state: ScheduleState }> {
    const pipeline = this.pipeline(name);
    const schedule = this.engine.stage.schedules.find((s) => this.engine.stage.findFunction(s.target.arn)?.arn === pipeline.launcher.arn);
    if (!pipeline.config.schedule || !schedule) throw new NoScheduleError(name);
    return { pipeline, scheduleName: schedule.name, state: await (await this.scheduleStates(pipeline)).get(name) };
  }

  /**
   * Pauses or resumes a pipeline's schedule: locally its state is kept in the partition table (as
   * EventBridge Scheduler keeps a schedule's `State` on AWS). A paused schedule fires nothing, and
   * ticks it missed are not made up when it resumes.
   */
  async setScheduleState(name: string, state: ScheduleState): Promise<void> {
    const { pipeline } = await this.schedule(name);
    await (await this.scheduleStates(pipeline)).set(name, state, new Date());
  }

  /**
   * Fires one tick of a pipeline's schedule as it would have fired at `at`: the launcher runs
   * the partition(s) that tick is for. A paused schedule fires nothing (`paused`).
   */
  async tick(name: string, at: Date): Promise<{ kind: 'paused' } | { kind: 'fired'; result: ScheduledLaunchResult }> {
    const { scheduleName, state } = await this.schedule(name);
    if (state === 'PAUSED') return { kind: 'paused' };
    const invoked = await this.fireSchedule(scheduleName, at);
    return { kind: 'fired', result: (invoked.ok ? invoked.payload : undefined) as ScheduledLaunchResult };
  }

  private async scheduleStates(pipeline: LocalPipeline): Promise<ScheduleStates> {
    const { ScheduleStates } = await import('../orchestration/schedule-state');
    return new ScheduleStates(this.services.dynamo.client(), pipeline.tableName);
  }

  /** Partition statuses in key order, `MISSING` included, over a key range. */
  async partitions(name: string, range: { from?: string; to?: string; now: Date }): Promise<PartitionView[]> {
    return partitionViews(this.pipeline(name).config, await this.partitionStore(name), range);
  }

  // The stores below load their modules when first asked for: those load the AWS SDK, which a
  // `sluice run` never needs in this process (its start reads the tables through dynamodb-json.ts).

  /** The partition table of a pipeline. */
  async partitionStore(name: string): Promise<PartitionStore> {
    const { PartitionStore } = await import('../orchestration/partition-store');
    return new PartitionStore(this.services.dynamo.client(), this.pipeline(name).tableName);
  }

  /** The backfills of a pipeline, as its backfill function records them. */
  async backfillStore(name: string): Promise<BackfillStore> {
    const { BackfillStore } = await import('../orchestration/backfill-store');
    return new BackfillStore(this.services.dynamo.client(), this.pipeline(name).tableName);
  }

  /**
   * Runs `handler` instead of the bundle of one task's function, or the bundle again when
   * `undefined`: a test's stand-in for a task (its retries, timeout and payload limits still apply).
   */
  replaceTaskHandler(name: string, task: string, handler: ((event: TaskEvent) => unknown) | undefined): void {
    const pipeline = this.pipeline(name);
    const fn = pipeline.taskFunctions.get(task);
    if (!fn) throw new UnknownTaskError(name, task, pipeline.config.tasks.map((t) => t.name));
    this.engine.replaceHandler(fn.arn, handler as ((event: unknown) => unknown) | undefined);
  }

  /** The task results the runs of a pipeline recorded. */
  async runResults(name: string): Promise<RunResults> {
    const { RunResults } = await import('../orchestration/run-results');
    return new RunResults(this.services.dynamo.client(), this.pipeline(name).tableName);
  }

  /** Executions of a pipeline, newest first. */
  runs(name: string): ExecutionRecord[] {
    return this.engine.listExecutions(this.pipeline(name).stateMachine.arn);
  }

  /**
   * Delivers S3 arrivals, schedule ticks and execution status changes to the rules, queues and
   * schedules of the template, as EventBridge, SQS and Scheduler would. Resolves once uploads are
   * listened to.
   */
  async startTriggers(): Promise<void> {
    await this.beginTriggers();
  }

  /**
   * Takes over the triggers of `previous`, a runtime of an older build in this process (`sluice
   * dev` reloading after an edit): every upload and schedule tick that `previous` did not deliver
   * is delivered by this runtime, and none twice. `previous` goes on with the runs it started, on
   * its own build, until it is stopped.
   */
  async takeOverTriggers(previous: LocalRuntime): Promise<void> {
    await this.beginTriggers(previous);
  }

  private async beginTriggers(previous?: LocalRuntime): Promise<void> {
    if (this.attachedTo !== undefined) {
      throw new Error(`Triggers of ${this.props.home} run in the sluice dev process (pid ${this.attachedTo}) this runtime attached to`);
    }
    if (this.triggersStarted) return;
    this.triggersStarted = true;
    const notify = this.props.notify ?? (() => {});
    const route = (event: ObjectCreatedEvent, number: number) => {
      this.lastUpload = Math.max(this.lastUpload, number);
      if (this.router.publish(event as unknown as Record<string, unknown>) > 0) return;
      // Nothing listens for it: say so, or a mistyped key looks like a trigger that never fires.
      const { bucket, object } = (event as unknown as { detail: { bucket: { name: string }; object: { key: string } } }).detail;
      notify({ kind: 'unmatched', bucket: bucket.name, key: object.key });
    };
    // While `previous` still routes uploads, this runtime holds them; then routes those it did not.
    let held: Array<[ObjectCreatedEvent, number]> | undefined = previous ? [] : undefined;
    this.unsubscribeUploads = this.services.s3.onObjectCreated((event, number) => {
      if (held) held.push([event, number]);
      else route(event, number);
    });
    this.stopped.push(() => this.unsubscribeUploads?.());
    await this.services.s3.listening();
    let resume: PendingTicks | undefined;
    if (previous) {
      const handed = await previous.handOverTriggers();
      resume = handed.ticks;
      const backlog = held ?? [];
      held = undefined;
      for (const [event, number] of backlog) if (number > handed.lastUpload) route(event, number);
    }

    const scheduler = new LocalScheduler({
      onError: (error, schedule) => notify({ kind: 'error', message: `Schedule ${schedule.name}: ${(error as Error).message}` }),
    });
    for (const schedule of this.engine.stage.schedules.filter((s) => s.enabled)) {
      scheduler.add({
        name: schedule.name,
        expression: schedule.scheduleExpression,
        timezone: schedule.timezone,
        fire: async (scheduledTime) => {
          const paused = await this.pausedPipelineOf(schedule.name);
          notify({ kind: 'schedule', schedule: schedule.name, scheduledTime, ...(paused && { paused }) });
          if (!paused) await this.fireSchedule(schedule.name, scheduledTime);
        },
      });
    }
    scheduler.start(resume);
    this.scheduler = scheduler;
  }

  /**
   * Stops delivering uploads and ticks, for the runtime taking over: the number of the last upload
   * this runtime routed (every earlier one included), and the tick each schedule waited for.
   */
  private async handOverTriggers(): Promise<{ lastUpload: number; ticks: PendingTicks }> {
    // Uploads already sent to this runtime are routed by it before it lets go.
    await this.services.s3.flush();
    this.handedOver = true;
    this.unsubscribeUploads?.();
    this.unsubscribeUploads = undefined;
    const ticks = (await this.scheduler?.stop()) ?? new Map<string, Date>();
    this.scheduler = undefined;
    return { lastUpload: this.lastUpload, ticks };
  }

  /** The pipeline whose launcher the schedule targets, when that pipeline's schedule is paused. */
  private async pausedPipelineOf(scheduleName: string): Promise<string | undefined> {
    const schedule = this.engine.stage.schedules.find((s) => s.name === scheduleName);
    const target = schedule && this.engine.stage.findFunction(schedule.target.arn)?.arn;
    const pipeline = [...this.pipelines.values()].find((p) => p.launcher.arn === target);
    if (!pipeline) return undefined;
    return (await (await this.scheduleStates(pipeline)).get(pipeline.name)) === 'PAUSED' ? pipeline.name : undefined;
  }

  /** Invokes a schedule's target as Scheduler would at `scheduledTime`. */
  async fireSchedule(name: string, scheduledTime: Date): Promise<InvokeResult> {
    const schedule = this.engine.stage.schedules.find((s) => s.name === name);
    if (!schedule) throw new Error(`No schedule "${name}" in the local stage`);
    const time = scheduledTime.toISOString().replace(/\.\d{3}Z$/, 'Z');
    const input = JSON.parse((schedule.target.input ?? '{}').replaceAll('<aws.scheduler.scheduled-time>', time)) as unknown;
    const result = await this.engine.invoke(schedule.target.arn, input);
    if (!result.ok) throw new Error(`${result.errorType}: ${result.errorMessage}`);
    return result;
  }

  /**
   * Puts an event on the default bus, as EventBridge PutEvents (or S3, or Step Functions) would:
   * a delivery of it, for rules to match. Delivering an event twice is what at-least-once
   * delivery does.
   */
  publishEvent(event: Record<string, unknown>): void {
    this.router.publish(event);
  }

  /** Sends a message to a queue of the stage (SQS SendMessage), whatever its body. */
  sendMessage(queueArn: string, body: string): void {
    this.router.send(queueArn, body);
  }

  /**
   * Waits until every delivery and every execution started so far has ended, S3 events of the
   * uploads completed so far included.
   */
  async settle(): Promise<void> {
    // S3 events of uploads made so far may still be on their way from the services process.
    if (this.triggersStarted) await this.services.s3.flush();
    for (;;) {
      await this.router.settle();
      const running = [...this.running];
      if (running.length === 0) return;
      await Promise.all(running.map((arn) => this.engine.waitForExecution(arn)));
      // Let the status-change listeners of those executions run before looking again.
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** Stops triggers, waits for running work, then stops the services. A second call waits for the first. */
  stop(): Promise<void> {
    this.stopping ??= this.stopOnce();
    return this.stopping;
  }

  private async stopOnce(): Promise<void> {
    await this.scheduler?.stop();
    await this.settle();
    for (const unsubscribe of this.stopped.splice(0)) unsubscribe();
    await this.engine.close();
    await Promise.allSettled([this.services.sfn.stop(), this.services.sns.stop(), this.services.gateway.stop(), this.services.events.stop(), this.services.sqs.stop(), this.services.secrets.stop(), this.services.lambda.stop(), this.services.scheduler.stop(), this.services.logs.stop()]);
    await this.services.shared.release();
    // A runtime that handed over leaves the announcement (the same endpoints) to its successor.
    if (this.props.sharing === 'announce' && !this.handedOver) this.withdrawAnnouncement();
  }

  /** Removes `dev.json` if it is still this process's announcement. */
  private withdrawAnnouncement(): void {
    const file = join(this.props.home, DEV_FILE);
    try {
      if ((JSON.parse(readFileSync(file, 'utf8')) as DevAnnouncement).pid === process.pid) rmSync(file, { force: true });
    } catch {
      // Already gone, or replaced by a file that is not ours.
    }
  }

  private executionArnOf(name: string, runId: string): string {
    return `${this.pipeline(name).stateMachine.arn.replace(':stateMachine:', ':execution:')}:${runId}`;
  }
}
