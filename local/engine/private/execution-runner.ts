import type { RunOptions, StateMachine } from 'aws-local-stepfunctions';
import { AccessDeniedError, type LocalAuthorizer } from '../../iam/authorizer';
import { type InterpretedMachine, interpretDefinition } from '../interpreted-machine';
import type { LocalStage, LocalStateMachine } from '../local-stage';
import { type ExecutionRecord, endExecution } from '../records';
import { withRetryCount } from './asl';
import { type DistributedMapProcessor, type EndedExecution, startExecutionParameters, syncTaskOutput } from './child-executions';
import { loadedInterpreter } from './interpreter';
import { followTaskAttempts } from './task-attempts';
import { PAYLOAD_LIMIT_BYTES, TaskFailure, payloadSize } from './task-errors';
import type { TaskServer } from './task-server';

type TaskHandlers = NonNullable<NonNullable<RunOptions['overrides']>['taskResourceLocalHandlers']>;

/** Set by the run once the interpreter started: stops it, as StopExecution does. */
export interface ExecutionControl {
  stop?: (error?: string, cause?: string) => void;
}

/** The engine's executions, as a `startExecution.sync` Task starts, waits for and stops one. */
export interface Executions {
  start(request: { stateMachineArn: string; name?: string; input?: string }): Promise<{ executionArn: string }>;
  wait(executionArn: string): Promise<EndedExecution>;
  stop(executionArn: string, reason: { error?: string; cause?: string }): Promise<unknown>;
}

/** What an {@link ExecutionRunner} runs executions with. */
export interface ExecutionRunnerProps {
  readonly stage: LocalStage;
  readonly tasks: TaskServer;
  /** Decides the starts of Distributed Map children. @default - every call is allowed */
  readonly authorizer?: LocalAuthorizer;
  /** See `LocalEngineProps.retryIntervalMs`. @default - each Retry's own */
  readonly retryIntervalMs?: number;
  /** See `LocalEngineProps.waitIntervalMs`. @default - each Wait state's own */
  readonly waitIntervalMs?: number;
  readonly executions: Executions;
}

/**
 * Runs one execution of a definition on aws-local-stepfunctions: the Task states served (by the
 * {@link TaskServer}, `startExecution.sync` through the engine's executions, Distributed Map items
 * as child executions), the context object AWS supplies, and the end of the execution written
 * into its record (status, output or error) as AWS reports it.
 */
export class ExecutionRunner {
  private readonly prepared = new Map<string, Promise<InterpretedMachine>>();

  constructor(private readonly props: ExecutionRunnerProps) {}

  /** The state machine's definition ready to run, made once. */
  prepare(stateMachine: LocalStateMachine): Promise<InterpretedMachine> {
    let prepared = this.prepared.get(stateMachine.arn);
    if (!prepared) {
      // Validated when the build was made (checkStateMachines).
      prepared = interpretDefinition(stateMachine.name, stateMachine.definition, { validate: false });
      this.prepared.set(stateMachine.arn, prepared);
    }
    return prepared;
  }

  /**
   * Runs the execution of `record` with `input` until it ends, keeping the interpreter's events
   * in `events` and its task attempts in the record, and ends the record. `control.stop` is set
   * before this returns its promise.
   */
  async run(
    stateMachine: LocalStateMachine,
    prepared: InterpretedMachine,
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
    const consumed = followTaskAttempts(execution.eventLogs, record, events, force);

    try {
      const output = await execution.result;
      if (payloadSize(output) > PAYLOAD_LIMIT_BYTES) {
        endExecution(record, 'FAILED', { error: 'States.DataLimitExceeded', cause: `The execution output exceeds ${PAYLOAD_LIMIT_BYTES} bytes` });
      } else {
        endExecution(record, 'SUCCEEDED', { output: JSON.stringify(output) });
      }
    } catch (error) {
      const { ExecutionAbortedError, ExecutionError, ExecutionTimeoutError } = loadedInterpreter();
      if (error instanceof ExecutionError) {
        const cause = error.cause as Error;
        endExecution(record, 'FAILED', { error: cause.name, cause: cause.message });
      } else if (error instanceof ExecutionTimeoutError) {
        endExecution(record, 'TIMED_OUT', { error: 'States.Timeout', cause: 'The execution exceeded the TimeoutSeconds of the state machine' });
      } else if (error instanceof ExecutionAbortedError && forced) {
        endExecution(record, 'FAILED', forced);
      } else if (error instanceof ExecutionAbortedError) {
        endExecution(record, 'ABORTED', stopped ?? {});
      } else {
        endExecution(record, 'FAILED', { error: 'States.Runtime', cause: error instanceof Error ? error.message : String(error) });
      }
    }
    // What it started cannot outlive it: stopping a parent stops its children, as on AWS.
    for (const stop of [...children]) stop();
    await consumed;
  }

  /**
   * The Task handlers of one execution. `children` collects how to stop what the execution
   * started (`startExecution.sync` runs, Distributed Map items), so that stopping it stops them.
   */
  private taskHandlers(stateMachine: LocalStateMachine, prepared: InterpretedMachine, parent: ExecutionRecord, children: Set<() => void>): TaskHandlers {
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
        const result = await this.props.tasks.serve(stateMachine, task, input, retryCount + 1);
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
  private timeOverrides(prepared: InterpretedMachine): { retryIntervalOverrides?: Record<string, number>; waitTimeOverrides?: Record<string, number> } {
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
    prepared: InterpretedMachine,
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
    const consumed = followTaskAttempts(execution.eventLogs, record, [], force);
    try {
      return await execution.result;
    } catch (error) {
      const { ExecutionError } = loadedInterpreter();
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
    const { tasks, executions } = this.props;
    const parameters = startExecutionParameters(input);
    // What a `.sync` start calls on AWS: the start, the managed rule that reports the end, and
    // the description of the started execution (its ARN is known only once started).
    const { account, region } = this.props.stage.environment;
    tasks.authorize(stateMachine, 'StepFunctions', 'states:StartExecution', parameters.stateMachineArn);
    const managedRule = `arn:aws:events:${region}:${account}:rule/StepFunctionsGetEventsForStepFunctionsExecutionRule`;
    for (const action of ['events:PutTargets', 'events:PutRule', 'events:DescribeRule']) tasks.authorize(stateMachine, 'StepFunctions', action, managedRule);
    let executionArn: string;
    try {
      ({ executionArn } = await executions.start(parameters));
    } catch (error) {
      const name = error instanceof Error ? error.name : 'Error';
      throw new TaskFailure(`StepFunctions.${name.endsWith('Exception') ? name : `${name}Exception`}`, error instanceof Error ? error.message : String(error));
    }
    const stop = () => void executions.stop(executionArn, { error: 'States.Aborted', cause: 'The execution that started it with startExecution.sync was stopped' });
    children.add(stop);
    try {
      tasks.authorize(stateMachine, 'StepFunctions', 'states:DescribeExecution', executionArn);
      const ended: EndedExecution = await executions.wait(executionArn);
      const output = syncTaskOutput(ended, jsonOutput);
      if (ended.status === 'SUCCEEDED') return output;
      throw new TaskFailure('States.TaskFailed', JSON.stringify(output));
    } finally {
      children.delete(stop);
    }
  }
}
