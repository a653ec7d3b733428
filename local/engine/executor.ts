import type { DescribeExecutionCommand, DescribeExecutionCommandOutput, StartExecutionCommand, StartExecutionCommandOutput } from '@aws-sdk/client-sfn';
import { loadStage } from './assembly';
import type { LocalStage, LocalStateMachine } from './local-stage';
import { type InvokeResult, LocalLambda, type TaskHandler } from './lambda';
import { processExists } from '../process';
import { DynamoDbTasks } from './private/dynamodb-task';
import { sfnError, sfnSdk } from './private/sfn-sdk';
import type { LocalAuthorizer } from '../iam/authorizer';
import type { GatewayShortcut } from '../iam/gateway';
import { TaskLogs } from '../task-logs';
import { type ExecutionRecord, type ExecutionResult, endExecution, isAbandoned } from './records';
import { type ExecutionStatusChangeEvent, statusChangeEvent } from './status-change';
import { PAYLOAD_LIMIT_BYTES } from './private/task-errors';
import { ExecutionStore } from './private/execution-store';
import { type ExecutionControl, ExecutionRunner } from './private/execution-runner';
import { loadInterpreter } from './private/interpreter';
import { TaskServer } from './private/task-server';

/** Properties of a {@link LocalEngine}. */
export interface LocalEngineProps {
  /** The cloud assembly directory (`cdk.out`). */
  readonly assemblyDir: string;
  /** The stage to run, e.g. `local`. */
  readonly stage: string;
  /** That stage, already loaded from `assemblyDir` by the caller. @default - loaded here */
  readonly loadedStage?: LocalStage;
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
  /**
   * The IAM gateway in front of DynamoDB and S3 that `functionEnvironment` points the functions
   * at: their allowed calls skip its HTTP hop, decided as it decides them.
   * @default - the functions' calls go wherever their environment points
   */
  readonly gateway?: GatewayShortcut;
}

const EXECUTION_NAME = /^[A-Za-z0-9_-]{1,80}$/;

interface Running {
  readonly record: ExecutionRecord;
  readonly events: unknown[];
  readonly done: Promise<void>;
  readonly control: ExecutionControl;
}

/**
 * Runs the state machines of one stage of `cdk.out` locally: the ASL the template holds, on
 * aws-local-stepfunctions, with Lambda Tasks served by the functions' bundles and DynamoDB Tasks
 * by the local DynamoDB (see `private/execution-runner.ts`, `private/task-server.ts`). Keeps
 * the executions as Step Functions' API reports them: enforces what the interpreter does not
 * (execution names, `ExecutionAlreadyExists`, the 256 KB payload limit, the history limit), and
 * keeps each execution's record under `SLUICE_HOME` (`private/execution-store.ts`).
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
  private readonly tasks: TaskServer;
  private readonly runner: ExecutionRunner;
  private readonly store: ExecutionStore;
  private readonly executions = new Map<string, Running>();
  private readonly statusListeners = new Set<(event: ExecutionStatusChangeEvent) => void>();

  constructor(props: LocalEngineProps) {
    this.stage = props.loadedStage ?? loadStage(props.assemblyDir, props.stage);
    this.lambdas = new LocalLambda({
      dynamodb: props.dynamoEndpoint,
      s3: props.s3Endpoint,
      sfn: props.sfnEndpoint,
      sns: props.snsEndpoint,
      eventBridge: props.eventBridgeEndpoint,
      environment: props.functionEnvironment,
      accessKeyIdOf: props.authorizer ? (roleArn) => props.authorizer!.accessKeyIdOf(roleArn) : undefined,
      gateway: props.gateway,
    });
    this.dynamodb = new DynamoDbTasks(props.dynamoEndpoint, this.stage.environment.region);
    this.store = new ExecutionStore(props.home, props.warn ?? ((message: string) => process.emitWarning(message)));
    this.tasks = new TaskServer({ stage: this.stage, lambdas: this.lambdas, dynamodb: this.dynamodb, authorizer: props.authorizer, taskLogs: new TaskLogs(props.home) });
    this.runner = new ExecutionRunner({
      stage: this.stage,
      tasks: this.tasks,
      authorizer: props.authorizer,
      retryIntervalMs: props.retryIntervalMs,
      waitIntervalMs: props.waitIntervalMs,
      executions: {
        start: (request) => this.startExecution(request),
        wait: (executionArn) => this.waitForExecution(executionArn),
        stop: (executionArn, reason) => this.stopExecution(executionArn, reason),
      },
    });
    const send = async (command: StartExecutionCommand | DescribeExecutionCommand): Promise<unknown> => {
      const sdk = sfnSdk();
      if (command instanceof sdk.StartExecutionCommand) {
        const { stateMachineArn, name, input } = command.input;
        const started = await this.startExecution({ stateMachineArn: stateMachineArn ?? '', name, input });
        return { $metadata: {}, executionArn: started.executionArn, startDate: started.startDate };
      }
      if (command instanceof sdk.DescribeExecutionCommand) return this.describe(command.input.executionArn ?? '');
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
    if (!record) throw sfnError('ExecutionDoesNotExist', `Execution Does Not Exist: '${executionArn}'`);
    return record;
  }

  /** Runs `handler` instead of the function's bundle (see {@link LocalLambda.replaceHandler}). */
  replaceHandler(functionNameOrArn: string, handler: TaskHandler | undefined): void {
    this.lambdas.replaceHandler(this.tasks.functionOf(functionNameOrArn), handler);
  }

  /** Invokes a function of the stage in-process, as Lambda's Invoke would. */
  invoke(functionNameOrArn: string, event: unknown): Promise<InvokeResult> {
    // What a function starts (a launcher's execution) needs the interpreter: it loads while the
    // function's sandbox starts and runs. A failure to load is the execution's to report.
    loadInterpreter().catch(() => undefined);
    return this.lambdas.invoke(this.tasks.functionOf(functionNameOrArn), event);
  }

  /**
   * Readies sandboxes of these functions before their invocations (see {@link LocalLambda.prewarm}),
   * in the order given, `lanes` at a time. Names that are not functions of the stage are left out.
   */
  prewarm(functionNamesOrArns: readonly string[], lanes = 1): void {
    this.lambdas.prewarm(
      functionNamesOrArns.flatMap((name) => this.stage.findFunction(name) ?? []),
      lanes,
    );
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
      throw sfnError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${request.stateMachineArn}'`);
    }
    const name = request.name ?? crypto.randomUUID();
    if (!EXECUTION_NAME.test(name)) {
      throw sfnError('InvalidName', `Invalid Name: '${name}' (1 to 80 characters of A-Z, a-z, 0-9, _ and -)`);
    }
    const inputText = request.input ?? '{}';
    let input: unknown;
    try {
      input = JSON.parse(inputText);
    } catch (error) {
      throw sfnError('InvalidExecutionInput', `Invalid State Machine Execution Input: ${(error as Error).message}`);
    }
    if (Buffer.byteLength(inputText, 'utf8') > PAYLOAD_LIMIT_BYTES) {
      throw sfnError('InvalidExecutionInput', `Execution input exceeds the maximum of ${PAYLOAD_LIMIT_BYTES} bytes`);
    }
    // Before anything is written: a definition the interpreter cannot run fails the start itself
    // (prepared once per state machine, and taken from there again when the execution runs). From
    // the check of the name to the record's creation nothing awaits, so that two starts of one
    // name cannot both pass it.
    await this.runner.prepare(stateMachine);
    const executionArn = stateMachine.arn.replace(':stateMachine:', ':execution:') + `:${name}`;
    const existing = this.executions.get(executionArn)?.record ?? this.store.read(stateMachine.name, name);
    if (!existing && this.store.has(stateMachine.name, name)) {
      throw sfnError('ExecutionAlreadyExists', `Execution Already Exists: '${executionArn}' (its record is damaged)`);
    }
    if (existing) {
      if (existing.status === 'RUNNING' && existing.input === inputText && this.executions.has(executionArn)) {
        return { executionArn, startDate: new Date(existing.startDate) };
      }
      throw sfnError('ExecutionAlreadyExists', `Execution Already Exists: '${executionArn}'`);
    }
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
    this.store.create(stateMachine.name, record);
    this.emitStatusChange(record);
    const control: ExecutionControl = {};
    const done = this.run(stateMachine, record, input, events, control);
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
    if (!record) throw sfnError('ExecutionDoesNotExist', `Execution Does Not Exist: '${executionArn}'`);
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
    if (!stateMachine) throw sfnError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${stateMachineArn}'`);
    const byArn = new Map<string, ExecutionRecord>();
    for (const record of this.store.list(stateMachine.name)) byArn.set(record.executionArn, record);
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
      for (const record of this.store.listRunning(stateMachine.name)) {
        if (this.executions.has(record.executionArn) || !isAbandoned(record)) continue;
        endExecution(record, 'ABORTED', {
          error: 'sluice.ProcessEnded',
          cause: `The local process that ran this execution${record.pid === undefined ? '' : ` (pid ${record.pid})`} ended before it finished`,
        });
        this.store.save(stateMachine.name, record);
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

  private findRecord(executionArn: string): ExecutionRecord | undefined {
    const match = /:execution:([^:]+):([^:]+)$/.exec(executionArn);
    const stateMachine = match ? this.stage.findStateMachine(match[1]) : undefined;
    return stateMachine && match ? this.store.read(stateMachine.name, match[2]) : undefined;
  }

  /** Runs the execution until it ends, then persists its record and announces its end. */
  private async run(stateMachine: LocalStateMachine, record: ExecutionRecord, input: unknown, events: unknown[], control: ExecutionControl): Promise<void> {
    await this.runner.run(stateMachine, await this.runner.prepare(stateMachine), record, input, events, control);
    this.store.save(stateMachine.name, record);
    this.emitStatusChange(record);
  }
}
