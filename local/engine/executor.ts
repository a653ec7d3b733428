import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  InvalidExecutionInput,
  InvalidName,
  StartExecutionCommand,
  type StartExecutionCommandOutput,
  StateMachineDoesNotExist,
} from '@aws-sdk/client-sfn';
import {
  ExecutionAbortedError,
  ExecutionError,
  ExecutionTimeoutError,
  type RunOptions,
  type StateMachine,
} from 'aws-local-stepfunctions';
import { loadStage } from './assembly';
import { type LocalFunction, type LocalStage, type LocalStateMachine, functionNameOf } from './local-stage';
import { type InvokeResult, LocalLambda, type TaskHandler } from './lambda';
import type { OutputSink } from './private/invocation-output';
import { type TaskPlan, withRetryCount } from './private/asl';
import { type InterpretedMachine, interpretDefinition } from './interpreted-machine';
import { processExists } from '../process';
import { DamagedStateError, readJsonFile, writeFileAtomic } from '../state-files';
import {
  type DistributedMapProcessor,
  type EndedExecution,
  startExecutionParameters,
  syncTaskOutput,
} from './private/child-executions';
import { DynamoDbTasks } from './private/dynamodb-task';
import { AccessDeniedError, type LocalAuthorizer } from '../iam/authorizer';
import { TaskLogs } from '../task-logs';
import { type ExecutionRecord, type ExecutionResult, type ExecutionStatus, executionRecordFile, type TaskAttempt } from './records';
import { type ExecutionStatusChangeEvent, statusChangeEvent } from './status-change';
import { PAYLOAD_LIMIT_BYTES, TaskFailure, TerminalTaskFailure, payloadSize } from './private/task-errors';

/** Properties of a {@link LocalEngine}. */
export interface LocalEngineProps {
  /** The cloud assembly directory (`cdk.out`). */
  readonly assemblyDir: string;
  /** The stage to run, e.g. `local`. */
  readonly stage: string;
  /** Endpoint of the local DynamoDB, for `dynamodb:*` Tasks and the functions' SDK clients. */
  readonly dynamoEndpoint: string;
  /** Endpoint of the local S3, for the functions' SDK clients. @default - none */
  readonly s3Endpoint?: string;
  /** Endpoint of the local Step Functions API, for the functions' SDK clients. @default - none */
  readonly sfnEndpoint?: string;
  /** Endpoint of the local SNS API, for the functions' SDK clients. @default - none */
  readonly snsEndpoint?: string;
  /** EventBridge API endpoint for the functions' EventBridge clients. @default - none */
  readonly eventBridgeEndpoint?: string;
  /** More environment for every function, set last. @default - none */
  readonly functionEnvironment?: Readonly<Record<string, string>>;
  /** Local state directory (`SLUICE_HOME`); executions are kept under `executions/`. */
  readonly home: string;
  /**
   * Fixed wait before every retry, in milliseconds, instead of the Retry's own interval, backoff
   * and jitter. For tests and fast local iteration.
   *
   * @default - each Retry's IntervalSeconds, BackoffRate, MaxDelaySeconds and JitterStrategy
   */
  readonly retryIntervalMs?: number;
  /**
   * Receives what the engine skips but the user should know: a damaged execution record (named
   * by its file), which is left out of listings instead of failing them.
   * @default - `process.emitWarning`
   */
  readonly warn?: (message: string) => void;
  /**
   * Decides the AWS calls of functions (through their credentials) and of state machines' Task
   * states (as their roles) against the template's identity policies.
   * @default - every call is allowed
   */
  readonly authorizer?: LocalAuthorizer;
  /**
   * Fixed duration of every Wait state (a sensor's interval), instead of its own.
   * @default - each Wait state's own time
   */
  readonly waitIntervalMs?: number;
}

type TaskHandlers = NonNullable<NonNullable<RunOptions['overrides']>['taskResourceLocalHandlers']>;

/** Step Functions' history limit; the interpreter logs fewer events per state than AWS does. */
const HISTORY_EVENT_LIMIT = 25_000;
const EXECUTION_NAME = /^[A-Za-z0-9_-]{1,80}$/;

interface Running {
  readonly record: ExecutionRecord;
  readonly events: unknown[];
  readonly done: Promise<void>;
  readonly control: ExecutionControl;
}

/** Set by the run once the interpreter started: stops it, as StopExecution does. */
interface ExecutionControl {
  stop?: (error?: string, cause?: string) => void;
}

/** A definition ready to run: the interpreter's machine, the plan, and the Distributed Maps' child machines. */
type Prepared = InterpretedMachine;

/**
 * Runs the state machines of one stage of `cdk.out` locally: the ASL the template holds, on
 * aws-local-stepfunctions, with Lambda Tasks served by the functions' bundles in-process and
 * DynamoDB Tasks by the local DynamoDB. Enforces what the interpreter does not (execution names,
 * `ExecutionAlreadyExists`, the 256 KB payload limit, the history limit) and supplies the
 * context object AWS supplies.
 */
export class LocalEngine {
  /** The stage as loaded from `cdk.out`. */
  readonly stage: LocalStage;
  /** A Step Functions client for code that takes one (`launchRun(..., { sfn })`). */
  readonly sfnClient: {
    send(command: StartExecutionCommand): Promise<StartExecutionCommandOutput>;
    send(command: DescribeExecutionCommand): Promise<DescribeExecutionCommandOutput>;
  };

  private readonly lambdas: LocalLambda;
  private readonly dynamodb: DynamoDbTasks;
  private readonly executions = new Map<string, Running>();
  private readonly prepared = new Map<string, Prepared>();
  private readonly executionsDir: string;
  private readonly statusListeners = new Set<(event: ExecutionStatusChangeEvent) => void>();
  private readonly taskLogs: TaskLogs;

  constructor(private readonly props: LocalEngineProps) {
    this.stage = loadStage(props.assemblyDir, props.stage);
    this.lambdas = new LocalLambda({
      dynamodb: props.dynamoEndpoint,
      s3: props.s3Endpoint,
      sfn: props.sfnEndpoint,
      sns: props.snsEndpoint,
      eventBridge: props.eventBridgeEndpoint,
      environment: props.functionEnvironment,
      accessKeyIdOf: props.authorizer ? (roleArn) => props.authorizer!.accessKeyIdOf(roleArn) : undefined,
    });
    this.dynamodb = new DynamoDbTasks(props.dynamoEndpoint, this.stage.environment.region);
    this.executionsDir = join(props.home, 'executions');
    this.taskLogs = new TaskLogs(props.home);
    const send = async (command: StartExecutionCommand | DescribeExecutionCommand): Promise<unknown> => {
      if (command instanceof StartExecutionCommand) {
        const { stateMachineArn, name, input } = command.input;
        const started = await this.startExecution({ stateMachineArn: stateMachineArn ?? '', name, input });
        return { $metadata: {}, executionArn: started.executionArn, startDate: started.startDate };
      }
      if (command instanceof DescribeExecutionCommand) return this.describe(command.input.executionArn ?? '');
      throw new Error(`The local Step Functions client supports StartExecution and DescribeExecution, not ${(command as object).constructor.name}`);
    };
    this.sfnClient = { send } as LocalEngine['sfnClient'];
  }

  /**
   * Subscribes to EventBridge `Step Functions Execution Status Change` events, emitted as on AWS
   * when an execution starts and when it ends. Returns the unsubscribe function.
   */
  onStatusChange(listener: (event: ExecutionStatusChangeEvent) => void): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  /** The execution as Step Functions' DescribeExecution reports it. */
  describeExecution(executionArn: string): ExecutionRecord {
    const record = this.executions.get(executionArn)?.record ?? this.findRecord(executionArn);
    if (!record) throw new ExecutionDoesNotExist({ message: `Execution Does Not Exist: '${executionArn}'`, $metadata: {} });
    return record;
  }

  /** Runs `handler` instead of the function's bundle (see {@link LocalLambda.replaceHandler}). */
  replaceHandler(functionNameOrArn: string, handler: TaskHandler | undefined): void {
    this.lambdas.replaceHandler(this.functionOf(functionNameOrArn), handler);
  }

  /** Invokes a function of the stage in-process, as Lambda's Invoke would. */
  invoke(functionNameOrArn: string, event: unknown): Promise<InvokeResult> {
    return this.lambdas.invoke(this.functionOf(functionNameOrArn), event);
  }

  /**
   * Starts an execution; it runs in the background. Fails, before anything runs, on a bad name
   * (`InvalidName`), a name already used on this state machine (`ExecutionAlreadyExists`, except
   * a running execution with the same input, which is returned as on AWS), bad input, or ASL the
   * local runtime cannot execute (`UnsupportedStateError`, naming the states).
   *
   * @param name @default - a random UUID, as on AWS
   */
  async startExecution(request: { stateMachineArn: string; name?: string; input?: string }): Promise<{ executionArn: string; startDate: Date }> {
    const stateMachine = this.stage.findStateMachine(request.stateMachineArn);
    if (!stateMachine) {
      throw new StateMachineDoesNotExist({ message: `State Machine Does Not Exist: '${request.stateMachineArn}'`, $metadata: {} });
    }
    const name = request.name ?? crypto.randomUUID();
    if (!EXECUTION_NAME.test(name)) {
      throw new InvalidName({ message: `Invalid Name: '${name}' (1 to 80 characters of A-Z, a-z, 0-9, _ and -)`, $metadata: {} });
    }
    const inputText = request.input ?? '{}';
    let input: unknown;
    try {
      input = JSON.parse(inputText);
    } catch (error) {
      throw new InvalidExecutionInput({ message: `Invalid State Machine Execution Input: ${(error as Error).message}`, $metadata: {} });
    }
    if (Buffer.byteLength(inputText, 'utf8') > PAYLOAD_LIMIT_BYTES) {
      throw new InvalidExecutionInput({ message: `Execution input exceeds the maximum of ${PAYLOAD_LIMIT_BYTES} bytes`, $metadata: {} });
    }
    const executionArn = stateMachine.arn.replace(':stateMachine:', ':execution:') + `:${name}`;
    const existing = this.executions.get(executionArn)?.record ?? this.readRecord(stateMachine, name);
    if (!existing && existsSync(this.recordFile(stateMachine, name))) {
      throw new ExecutionAlreadyExists({ message: `Execution Already Exists: '${executionArn}' (its record is damaged)`, $metadata: {} });
    }
    if (existing) {
      if (existing.status === 'RUNNING' && existing.input === inputText && this.executions.has(executionArn)) {
        return { executionArn, startDate: new Date(existing.startDate) };
      }
      throw new ExecutionAlreadyExists({ message: `Execution Already Exists: '${executionArn}'`, $metadata: {} });
    }
    const prepared = this.prepare(stateMachine);

    const startDate = new Date();
    const record: ExecutionRecord = {
      executionArn,
      stateMachineArn: stateMachine.arn,
      name,
      status: 'RUNNING',
      input: inputText,
      startDate: startDate.toISOString(),
      attempts: [],
      pid: process.pid,
    };
    const events: unknown[] = [];
    this.persist(stateMachine, record, 'wx');
    this.emitStatusChange(record);
    const control: ExecutionControl = {};
    const done = this.run(stateMachine, prepared, record, input, events, control);
    this.executions.set(executionArn, { record, events, done, control });
    // Once ended and persisted, its record is read from disk like any other: a process that runs
    // a backfill of 10,000 partitions does not keep 10,000 executions and their events in memory.
    // One that could not be persisted stays, and its failure is for whoever awaits `done`.
    done.then(
      () => this.executions.delete(executionArn),
      () => undefined,
    );
    return { executionArn, startDate };
  }

  /** Waits until the execution ends and returns it. */
  async waitForExecution(executionArn: string): Promise<ExecutionResult> {
    const running = this.executions.get(executionArn);
    if (running) {
      await running.done;
      return { ...running.record, events: running.events };
    }
    const record = this.findRecord(executionArn);
    if (!record) throw new ExecutionDoesNotExist({ message: `Execution Does Not Exist: '${executionArn}'`, $metadata: {} });
    return { ...record, events: [] };
  }

  /**
   * Stops an execution this process runs, as StopExecution does: it ends ABORTED with `error`
   * and `cause`, and so do the executions it started through `startExecution.sync` and its
   * Distributed Map children. An execution that has already ended is left as it is.
   *
   * @throws ExecutionDoesNotExist when there is no such execution
   * @throws Error when another process runs it (a local execution cannot be reached there)
   */
  async stopExecution(executionArn: string, reason: { error?: string; cause?: string } = {}): Promise<ExecutionRecord> {
    const running = this.executions.get(executionArn);
    if (!running) {
      const record = this.describeExecution(executionArn);
      if (record.status === 'RUNNING' && record.pid !== undefined && processExists(record.pid)) {
        throw new Error(`Execution ${executionArn} runs in another process (pid ${record.pid}); stop it there`);
      }
      return record;
    }
    running.control.stop?.(reason.error, reason.cause);
    await running.done;
    return running.record;
  }

  /**
   * Stops every execution this process runs, as {@link stopExecution} stops one (e.g. on Ctrl+C:
   * they cannot outlive the process). Returns them once each has ended.
   */
  async stopRunning(reason: { error?: string; cause?: string } = {}): Promise<ExecutionRecord[]> {
    return Promise.all([...this.executions.keys()].map((arn) => this.stopExecution(arn, reason)));
  }

  /** Executions of a state machine, this process's and those kept under `SLUICE_HOME`, newest first. */
  listExecutions(stateMachineArn: string): ExecutionRecord[] {
    const stateMachine = this.stage.findStateMachine(stateMachineArn);
    if (!stateMachine) throw new StateMachineDoesNotExist({ message: `State Machine Does Not Exist: '${stateMachineArn}'`, $metadata: {} });
    const byArn = new Map<string, ExecutionRecord>();
    const dir = join(this.executionsDir, stateMachine.name);
    if (existsSync(dir)) {
      for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
        const record = this.readRecord(stateMachine, file.slice(0, -'.json'.length));
        if (record) byArn.set(record.executionArn, record);
      }
    }
    for (const { record } of this.executions.values()) {
      if (record.stateMachineArn === stateMachine.arn) byArn.set(record.executionArn, record);
    }
    return [...byArn.values()].sort((a, b) => b.startDate.localeCompare(a.startDate));
  }

  /**
   * Ends the executions left RUNNING by a process that is gone (a `sluice run` interrupted, a
   * crash): on AWS they would go on, locally they cannot, so they are marked ABORTED and a status
   * change is emitted for each. Returns them.
   */
  abortAbandoned(): ExecutionRecord[] {
    const abandoned: ExecutionRecord[] = [];
    for (const stateMachine of this.stage.stateMachines) {
      for (const record of this.listExecutions(stateMachine.arn)) {
        if (record.status !== 'RUNNING' || this.executions.has(record.executionArn) || (record.pid !== undefined && processExists(record.pid))) continue;
        this.finish(record, 'ABORTED', {
          error: 'sluice.ProcessEnded',
          cause: `The local process that ran this execution${record.pid === undefined ? '' : ` (pid ${record.pid})`} ended before it finished`,
        });
        this.persist(stateMachine, record, 'w');
        this.emitStatusChange(record);
        abandoned.push(record);
      }
    }
    return abandoned;
  }

  /** Waits for every running execution, then stops the functions' sandboxes and releases the DynamoDB client. */
  async close(): Promise<void> {
    await Promise.all([...this.executions.values()].map((e) => e.done));
    await this.lambdas.close();
    this.dynamodb.destroy();
  }

  private describe(executionArn: string): DescribeExecutionCommandOutput {
    const record = this.describeExecution(executionArn);
    return {
      $metadata: {},
      executionArn: record.executionArn,
      stateMachineArn: record.stateMachineArn,
      name: record.name,
      status: record.status,
      startDate: new Date(record.startDate),
      stopDate: record.stopDate ? new Date(record.stopDate) : undefined,
      input: record.input,
      output: record.output,
      error: record.error,
      cause: record.cause,
    };
  }

  private functionOf(nameOrArn: string): LocalFunction {
    const fn = this.stage.findFunction(nameOrArn);
    const name = functionNameOf(nameOrArn);
    const unrunnable = this.stage.unrunnableFunctions.find((f) => f.name === name);
    if (!fn && unrunnable) throw new TaskFailure('Lambda.ResourceNotFoundException', unrunnable.reason);
    if (!fn) throw new TaskFailure('Lambda.ResourceNotFoundException', `Function not found: ${nameOrArn} (not a function of stage "${this.stage.stage}")`);
    return fn;
  }

  private prepare(stateMachine: LocalStateMachine): Prepared {
    let prepared = this.prepared.get(stateMachine.arn);
    if (!prepared) {
      // Validated when the build was made (checkStateMachines).
      prepared = interpretDefinition(stateMachine.name, stateMachine.definition, { validate: false });
      this.prepared.set(stateMachine.arn, prepared);
    }
    return prepared;
  }

  /**
   * The Task handlers of one execution. `children` collects how to stop what the execution
   * started (`startExecution.sync` runs, Distributed Map items), so that stopping it stops them.
   */
  private taskHandlers(stateMachine: LocalStateMachine, prepared: Prepared, parent: ExecutionRecord, children: Set<() => void>): TaskHandlers {
    const handlers: TaskHandlers = {};
    // Each state's $$.State.RetryCount: its tries since it was entered, i.e. since its last
    // success (a state is entered again only after succeeding: sluice's ASL loops back to a Task
    // through a Choice, never through a Catch).
    const retries = new Map<string, number>();
    for (const [state, task] of prepared.plan.tasks) {
      handlers[state] = (async (taskInput: unknown) => {
        if (task.kind === 'start-execution-sync') return this.serveStartExecutionSync(stateMachine, task.jsonOutput, taskInput, children);
        const retryCount = retries.get(state) ?? 0;
        retries.set(state, retryCount + 1);
        const input = task.kind === 'lambda-invoke' ? withRetryCount(taskInput, task.retryCountFields, retryCount) : taskInput;
        const result = await this.serveTask(stateMachine, task, input, retryCount + 1);
        retries.set(state, 0);
        return result;
      }) as (input: unknown) => Promise<never>;
    }
    for (const [state, child] of prepared.children) {
      handlers[state] = (item) => this.runChild(stateMachine, prepared, child, parent, item, handlers, children) as Promise<never>;
    }
    return handlers;
  }

  /** Shortened retry intervals and Wait states, when the runtime was told to (quick local iteration). */
  private timeOverrides(prepared: Prepared): { retryIntervalOverrides?: Record<string, number>; waitTimeOverrides?: Record<string, number> } {
    const { retryIntervalMs, waitIntervalMs } = this.props;
    return {
      ...(retryIntervalMs !== undefined && {
        retryIntervalOverrides: Object.fromEntries(prepared.plan.retryableStates.map((s) => [s, retryIntervalMs])),
      }),
      ...(waitIntervalMs !== undefined && {
        waitTimeOverrides: Object.fromEntries(prepared.plan.waitStates.map((s) => [s, waitIntervalMs])),
      }),
    };
  }

  private contextOf(stateMachine: LocalStateMachine, execution: { executionArn: string; name: string; startDate: string }): RunOptions['context'] {
    return {
      Execution: { Id: execution.executionArn, Name: execution.name, StartTime: execution.startDate, RoleArn: '', RedriveCount: 0 },
      StateMachine: { Id: stateMachine.arn, Name: stateMachine.name },
      // The interpreter copies the context once per run; a getter keeps this field current.
      State: {
        get EnteredTime() {
          return new Date().toISOString();
        },
        // A placeholder: each try's count is written into its Task's parameters (withRetryCount).
        RetryCount: 0,
      },
    };
  }

  /**
   * One item of a Distributed Map: the Map's processor run as a child execution, with its own
   * event history (the limit applies per child, as on AWS) and payload checks. A child that fails
   * fails the Map, as a Map Run without tolerated failures does.
   */
  private async runChild(
    stateMachine: LocalStateMachine,
    prepared: Prepared,
    child: DistributedMapProcessor & { readonly machine: StateMachine },
    parent: ExecutionRecord,
    item: unknown,
    handlers: TaskHandlers,
    children: Set<() => void>,
  ): Promise<unknown> {
    // A Map Run starts each child as an execution of the state machine itself, as its role.
    try {
      this.props.authorizer?.assertAllowed(stateMachine.roleArn, 'states:StartExecution', stateMachine.arn);
    } catch (error) {
      if (!(error instanceof AccessDeniedError)) throw error;
      throw new TaskFailure('States.Runtime', `The Map Run of "${child.mapState}" could not start its child executions: ${error.message}`);
    }
    const name = crypto.randomUUID();
    const record: ExecutionRecord = {
      executionArn: `${parent.executionArn.replace(/:[^:]+$/, '')}/${child.mapState.replace(/[^A-Za-z0-9_-]/g, '_')}:${name}`,
      stateMachineArn: stateMachine.arn,
      name,
      status: 'RUNNING',
      input: JSON.stringify(item),
      startDate: new Date().toISOString(),
      attempts: [],
    };
    const execution = child.machine.run(item as never, {
      overrides: { taskResourceLocalHandlers: handlers, ...this.timeOverrides(prepared) },
      context: this.contextOf(stateMachine, record),
    });
    let forced: { error: string; cause: string } | undefined;
    const force = (error: string, cause: string) => {
      forced ??= { error, cause };
      execution.abort();
    };
    const stop = () => execution.abort();
    children.add(stop);
    const consumed = this.consumeEvents(execution.eventLogs, record, [], force);
    try {
      return await execution.result;
    } catch (error) {
      const failure =
        forced ??
        (error instanceof ExecutionError
          ? { error: (error.cause as Error).name, cause: (error.cause as Error).message }
          : { error: 'States.Runtime', cause: error instanceof Error ? error.message : String(error) });
      throw new TaskFailure(
        'States.ExceedToleratedFailureThreshold',
        `The Map Run of "${child.mapState}" failed: child execution ${name} failed with ${failure.error}: ${failure.cause}`,
      );
    } finally {
      children.delete(stop);
      await consumed;
    }
  }

  /**
   * `startExecution.sync(:2)`: starts the execution, waits for it, and returns its description;
   * an execution that does not succeed fails the Task with `States.TaskFailed`, as on AWS.
   */
  private async serveStartExecutionSync(stateMachine: LocalStateMachine, jsonOutput: boolean, input: unknown, children: Set<() => void>): Promise<unknown> {
    const parameters = startExecutionParameters(input);
    // What a `.sync` start calls on AWS: the start, the managed rule that reports the end, and
    // the description of the started execution (its ARN is known only once started).
    const { account, region } = this.stage.environment;
    this.authorizeTask(stateMachine, 'StepFunctions', 'states:StartExecution', parameters.stateMachineArn);
    const managedRule = `arn:aws:events:${region}:${account}:rule/StepFunctionsGetEventsForStepFunctionsExecutionRule`;
    for (const action of ['events:PutTargets', 'events:PutRule', 'events:DescribeRule']) this.authorizeTask(stateMachine, 'StepFunctions', action, managedRule);
    let executionArn: string;
    try {
      ({ executionArn } = await this.startExecution(parameters));
    } catch (error) {
      const name = error instanceof Error ? error.name : 'Error';
      throw new TaskFailure(`StepFunctions.${name.endsWith('Exception') ? name : `${name}Exception`}`, error instanceof Error ? error.message : String(error));
    }
    const stop = () => void this.stopExecution(executionArn, { error: 'States.Aborted', cause: 'The execution that started it with startExecution.sync was stopped' });
    children.add(stop);
    try {
      this.authorizeTask(stateMachine, 'StepFunctions', 'states:DescribeExecution', executionArn);
      const ended: EndedExecution = await this.waitForExecution(executionArn);
      const output = syncTaskOutput(ended, jsonOutput);
      if (ended.status === 'SUCCEEDED') return output;
      throw new TaskFailure('States.TaskFailed', JSON.stringify(output));
    } finally {
      children.delete(stop);
    }
  }

  private async run(
    stateMachine: LocalStateMachine,
    prepared: Prepared,
    record: ExecutionRecord,
    input: unknown,
    events: unknown[],
    control: ExecutionControl,
  ): Promise<void> {
    const children = new Set<() => void>();
    const handlers = this.taskHandlers(stateMachine, prepared, record, children);
    const execution = prepared.machine.run(input as never, {
      overrides: { taskResourceLocalHandlers: handlers, ...this.timeOverrides(prepared) },
      context: this.contextOf(stateMachine, record),
    });

    let forced: { error: string; cause: string } | undefined;
    const force = (error: string, cause: string) => {
      if (forced) return;
      forced = { error, cause };
      execution.abort();
    };
    let stopped: { error?: string; cause?: string } | undefined;
    control.stop = (error, cause) => {
      stopped ??= { ...(error !== undefined && { error }), ...(cause !== undefined && { cause }) };
      execution.abort();
    };
    const consumed = this.consumeEvents(execution.eventLogs, record, events, force);

    try {
      const output = await execution.result;
      if (payloadSize(output) > PAYLOAD_LIMIT_BYTES) {
        this.finish(record, 'FAILED', { error: 'States.DataLimitExceeded', cause: `The execution output exceeds ${PAYLOAD_LIMIT_BYTES} bytes` });
      } else {
        this.finish(record, 'SUCCEEDED', { output: JSON.stringify(output) });
      }
    } catch (error) {
      if (error instanceof ExecutionError) {
        const cause = error.cause as Error;
        this.finish(record, 'FAILED', { error: cause.name, cause: cause.message });
      } else if (error instanceof ExecutionTimeoutError) {
        this.finish(record, 'TIMED_OUT', { error: 'States.Timeout', cause: 'The execution exceeded the TimeoutSeconds of the state machine' });
      } else if (error instanceof ExecutionAbortedError && forced) {
        this.finish(record, 'FAILED', forced);
      } else if (error instanceof ExecutionAbortedError) {
        this.finish(record, 'ABORTED', stopped ?? {});
      } else {
        this.finish(record, 'FAILED', { error: 'States.Runtime', cause: error instanceof Error ? error.message : String(error) });
      }
    }
    // What it started cannot outlive it: stopping a parent stops its children, as on AWS.
    for (const stop of [...children]) stop();
    await consumed;
    this.persist(stateMachine, record, 'w');
    this.emitStatusChange(record);
  }

  private emitStatusChange(record: ExecutionRecord): void {
    const event = statusChangeEvent(record, this.stage.environment);
    for (const listener of this.statusListeners) {
      try {
        listener(event);
      } catch (error) {
        process.emitWarning(`A listener of execution status changes failed: ${(error as Error).message}`);
      }
    }
  }

  private finish(record: ExecutionRecord, status: ExecutionStatus, result: { output?: string; error?: string; cause?: string }): void {
    Object.assign(record, { status, stopDate: new Date().toISOString() }, result);
  }

  /** Follows the interpreter's event log: task attempts, payload sizes, the history limit. */
  private async consumeEvents(
    log: AsyncGenerator<unknown>,
    record: ExecutionRecord,
    events: unknown[],
    force: (error: string, cause: string) => void,
  ): Promise<void> {
    const open = new Map<string, TaskAttempt>();
    for await (const raw of log) {
      events.push(raw);
      const event = raw as {
        type: string;
        timestamp: number;
        index?: number;
        state?: { name: string; type: string; input?: unknown; output?: unknown };
        Error?: string;
        Cause?: unknown;
      };
      if (events.length > HISTORY_EVENT_LIMIT) {
        force('States.Runtime', `The execution reached the limit of ${HISTORY_EVENT_LIMIT} history events`);
      }
      const state = event.state;
      if (!state) continue;
      const size = payloadSize(event.type === 'StateExited' ? state.output : state.input);
      if (size > PAYLOAD_LIMIT_BYTES) {
        force('States.DataLimitExceeded', `The ${event.type === 'StateExited' ? 'output' : 'input'} of state "${state.name}" is ${size} bytes, over the limit of ${PAYLOAD_LIMIT_BYTES}`);
      }
      if (state.type !== 'Task') continue;
      const key = `${state.name}#${event.index ?? ''}`;
      const at = new Date(event.timestamp).toISOString();
      const begin = (attempt: number) => {
        const entry: TaskAttempt = { state: state.name, attempt, ...(event.index !== undefined && { mapIndex: event.index }), startDate: at };
        record.attempts.push(entry);
        open.set(key, entry);
      };
      switch (event.type) {
        case 'StateEntered':
          begin(1);
          break;
        case 'StateRetried':
          begin((open.get(key)?.attempt ?? 0) + 1);
          break;
        case 'StateExited':
        case 'StateFailed': {
          const entry = open.get(key);
          if (!entry) break;
          entry.endDate = at;
          if (event.type === 'StateFailed') {
            entry.error = event.Error;
            entry.cause = typeof event.Cause === 'string' ? event.Cause : JSON.stringify(event.Cause);
          }
          break;
        }
      }
    }
    // Attempts the execution's end cut short (a stop, a failure in another branch, a forced
    // limit): on AWS their Task is aborted with the execution, so none is left running.
    const ended = new Date().toISOString();
    for (const entry of open.values()) {
      if (entry.endDate !== undefined) continue;
      entry.endDate = ended;
      entry.error = 'States.Aborted';
      entry.cause = 'The execution ended while this attempt was running';
    }
  }

  /**
   * Refuses a Task state's call its state machine's role may not make, with the error Step
   * Functions reports for the service's AccessDeniedException.
   */
  private authorizeTask(stateMachine: LocalStateMachine, service: 'DynamoDB' | 'Lambda' | 'StepFunctions', action: string, resource: string): void {
    try {
      this.props.authorizer?.assertAllowed(stateMachine.roleArn, action, resource);
    } catch (error) {
      if (!(error instanceof AccessDeniedError)) throw error;
      const requestId = crypto.randomUUID();
      switch (service) {
        case 'DynamoDB':
          throw new TaskFailure('DynamoDB.AmazonDynamoDBException', `${error.message} (Service: DynamoDb, Status Code: 400, Error Code: AccessDeniedException, Request ID: ${requestId})`);
        case 'Lambda':
          throw new TaskFailure('Lambda.AWSLambdaException', `${error.message} (Service: AWSLambda; Status Code: 403; Error Code: AccessDeniedException; Request ID: ${requestId})`);
        case 'StepFunctions':
          throw new TaskFailure('StepFunctions.AWSStepFunctionsException', `${error.message} (Service: AWSStepFunctions; Status Code: 400; Error Code: AccessDeniedException; Request ID: ${requestId})`);
      }
    }
  }

  private async invokeAs(
    stateMachine: LocalStateMachine,
    functionNameOrArn: string,
    event: unknown,
    onOutput?: (requestId: string) => OutputSink,
  ): Promise<InvokeResult> {
    const fn = this.functionOf(functionNameOrArn);
    this.authorizeTask(stateMachine, 'Lambda', 'lambda:InvokeFunction', fn.arn);
    return this.lambdas.invoke(fn, event, onOutput);
  }

  private async serveTask(stateMachine: LocalStateMachine, task: TaskPlan, input: unknown, attempt: number): Promise<unknown> {
    let result: unknown;
    if (task.kind === 'dynamodb') {
      const table = String((input as { TableName?: unknown } | undefined)?.TableName ?? '');
      const action = `dynamodb:${task.action[0].toUpperCase()}${task.action.slice(1)}`;
      const { account, region } = this.stage.environment;
      this.authorizeTask(stateMachine, 'DynamoDB', action, `arn:aws:dynamodb:${region}:${account}:table/${table}`);
      result = await this.dynamodb.run(task.action, input);
    } else if (task.kind === 'lambda-arn') {
      result = lambdaPayload(await this.invokeAs(stateMachine, task.functionArn, input));
    } else {
      const parameters = (input ?? {}) as { FunctionName?: string; Payload?: unknown; Qualifier?: string; InvocationType?: string };
      const functionName = String(parameters.FunctionName);
      const qualifier = parameters.Qualifier ?? /:function:[^:]+:([^:]+)$/.exec(functionName)?.[1];
      if (qualifier !== undefined && qualifier !== '$LATEST') {
        throw new TaskFailure('Lambda.ResourceNotFoundException', `Function version or alias ${qualifier} of ${functionNameOf(functionName)} does not exist locally: only $LATEST runs`);
      }
      if (parameters.InvocationType !== undefined && parameters.InvocationType !== 'RequestResponse') {
        throw new TaskFailure('Lambda.InvalidParameterValueException', `InvocationType ${parameters.InvocationType} is not supported locally`);
      }
      const event = 'Payload' in parameters ? parameters.Payload : {};
      const log = this.taskLogOf(event, attempt);
      const invoked = await this.invokeAs(stateMachine, functionName, event, log?.sink);
      if (log && !invoked.ok) log.failed(invoked);
      const payload = lambdaPayload(invoked);
      const length = String(payloadSize(payload));
      result = {
        ExecutedVersion: '$LATEST',
        Payload: payload,
        SdkHttpMetadata: {
          AllHttpHeaders: {
            'X-Amz-Executed-Version': ['$LATEST'],
            'x-amzn-RequestId': [invoked.requestId],
            'Content-Length': [length],
            'Content-Type': ['application/json'],
          },
          HttpHeaders: {
            'X-Amz-Executed-Version': '$LATEST',
            'x-amzn-RequestId': invoked.requestId,
            'Content-Length': length,
            'Content-Type': 'application/json',
          },
          HttpStatusCode: 200,
        },
        SdkResponseMetadata: { RequestId: invoked.requestId },
        StatusCode: 200,
      };
    }
    if (payloadSize(result) > PAYLOAD_LIMIT_BYTES) {
      throw new TerminalTaskFailure('States.DataLimitExceeded', `The result of the task is ${payloadSize(result)} bytes, over the limit of ${PAYLOAD_LIMIT_BYTES}`);
    }
    return result;
  }

  /**
   * Where the output of a task attempt goes: the run's task log, when the event is a sluice task's
   * (it names its pipeline, partition, run and task). A failed attempt also logs its error, as
   * Lambda's runtime does.
   */
  private taskLogOf(event: unknown, attempt: number): { sink: (requestId: string) => OutputSink; failed: (result: InvokeResult) => void } | undefined {
    const e = (event ?? {}) as Record<string, unknown>;
    const { pipeline, partition, runId, task } = e;
    if (typeof pipeline !== 'string' || typeof partition !== 'string' || typeof runId !== 'string' || typeof task !== 'string') return undefined;
    let requestId = '';
    const append = (stream: 'stdout' | 'stderr', message: string) =>
      this.taskLogs.append({ time: new Date().toISOString(), pipeline, partition, runId, task, attempt, requestId, stream, message });
    return {
      sink: (id) => {
        requestId = id;
        return append;
      },
      failed: (result) => {
        if (result.ok) return;
        append('stderr', `ERROR Invoke Error ${JSON.stringify({ errorType: result.errorType, errorMessage: result.errorMessage })}`);
      },
    };
  }

  private recordFile(stateMachine: LocalStateMachine, name: string): string {
    return executionRecordFile(this.props.home, stateMachine.name, name);
  }

  private persist(stateMachine: LocalStateMachine, record: ExecutionRecord, flag: 'wx' | 'w'): void {
    mkdirSync(join(this.executionsDir, stateMachine.name), { recursive: true });
    try {
      writeFileAtomic(this.recordFile(stateMachine, record.name), JSON.stringify(record), flag);
    } catch (error) {
      // Another process started this name first.
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new ExecutionAlreadyExists({ message: `Execution Already Exists: '${record.executionArn}'`, $metadata: {} });
      }
      throw error;
    }
  }

  /**
   * The record of an execution, if there is one. A damaged record (written by an older version in
   * place, or by a disk that filled up) is reported and read as absent, so that it blocks nothing
   * but itself.
   */
  private readRecord(stateMachine: LocalStateMachine, name: string): ExecutionRecord | undefined {
    const file = this.recordFile(stateMachine, name);
    if (!existsSync(file)) return undefined;
    try {
      return readJsonFile<ExecutionRecord>(file);
    } catch (error) {
      if (!(error instanceof DamagedStateError)) throw error;
      (this.props.warn ?? ((message: string) => process.emitWarning(message)))(error.message);
      return undefined;
    }
  }

  private findRecord(executionArn: string): ExecutionRecord | undefined {
    const match = /:execution:([^:]+):([^:]+)$/.exec(executionArn);
    const stateMachine = match ? this.stage.findStateMachine(match[1]) : undefined;
    return stateMachine && match ? this.readRecord(stateMachine, match[2]) : undefined;
  }
}


/** A Lambda error as Step Functions reports it: Error = errorType, Cause = the error as JSON. */
function lambdaPayload(result: InvokeResult): unknown {
  if (result.ok) return result.payload;
  throw new TaskFailure(
    result.errorType,
    JSON.stringify({ errorType: result.errorType, errorMessage: result.errorMessage, trace: result.trace }),
  );
}
