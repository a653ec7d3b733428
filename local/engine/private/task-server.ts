import { AccessDeniedError, type LocalAuthorizer } from '../../iam/authorizer';
import type { TaskLogs } from '../../task-logs';
import type { InvokeResult, LocalLambda } from '../lambda';
import { type LocalFunction, type LocalStage, type LocalStateMachine, functionNameOf } from '../local-stage';
import type { TaskPlan } from './asl';
import type { DynamoDbTasks } from './dynamodb-task';
import type { OutputSink } from './invocation-output';
import { PAYLOAD_LIMIT_BYTES, TaskFailure, TerminalTaskFailure, payloadSize } from './task-errors';

/** What a {@link TaskServer} serves Tasks with. */
export interface TaskServerProps {
  readonly stage: LocalStage;
  readonly lambdas: LocalLambda;
  readonly dynamodb: DynamoDbTasks;
  /** @default - every call is allowed */
  readonly authorizer?: LocalAuthorizer;
  /** Where the output of a sluice task's attempts is kept. */
  readonly taskLogs: TaskLogs;
}

/** The Tasks a {@link TaskServer} serves: those that call a service and return its answer. */
export type ServedTask = Exclude<TaskPlan, { readonly kind: 'start-execution-sync' }>;

/** An AWS service a Task state calls, as Step Functions names it in the errors it reports. */
export type TaskService = 'DynamoDB' | 'Lambda' | 'StepFunctions';

/**
 * Serves the Task states that call a service (Lambda, DynamoDB) as their state machine's role
 * does on AWS: the call authorized against the role's policies, the result in the shape Step
 * Functions returns it, errors with AWS's `Error`/`Cause`, and the 256 KB limit on the result.
 */
export class TaskServer {
  constructor(private readonly props: TaskServerProps) {}

  /** The function of the stage named by `nameOrArn`; a Task's `Lambda.ResourceNotFoundException` if none. */
  functionOf(nameOrArn: string): LocalFunction {
    const { stage } = this.props;
    const fn = stage.findFunction(nameOrArn);
    const name = functionNameOf(nameOrArn);
    const unrunnable = stage.unrunnableFunctions.find((f) => f.name === name);
    if (!fn && unrunnable) throw new TaskFailure('Lambda.ResourceNotFoundException', unrunnable.reason);
    if (!fn) throw new TaskFailure('Lambda.ResourceNotFoundException', `Function not found: ${nameOrArn} (not a function of stage "${stage.stage}")`);
    return fn;
  }

  /**
   * Refuses a Task state's call its state machine's role may not make, with the error Step
   * Functions reports for the service's AccessDeniedException.
   */
  authorize(stateMachine: LocalStateMachine, service: TaskService, action: string, resource: string): void {
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

  /** The result of one try (`attempt`, 1 for the first) of a Lambda or DynamoDB Task with `input`. */
  async serve(stateMachine: LocalStateMachine, task: ServedTask, input: unknown, attempt: number): Promise<unknown> {
    let result: unknown;
    if (task.kind === 'dynamodb') {
      const table = String((input as { TableName?: unknown } | undefined)?.TableName ?? '');
      const action = `dynamodb:${task.action[0].toUpperCase()}${task.action.slice(1)}`;
      const { account, region } = this.props.stage.environment;
      this.authorize(stateMachine, 'DynamoDB', action, `arn:aws:dynamodb:${region}:${account}:table/${table}`);
      result = await this.props.dynamodb.run(task.action, input);
    } else if (task.kind === 'lambda-arn') {
      result = lambdaPayload(await this.invokeAs(stateMachine, task.functionArn, input));
    } else {
      result = await this.serveLambdaInvoke(stateMachine, input, attempt);
    }
    if (payloadSize(result) > PAYLOAD_LIMIT_BYTES) {
      throw new TerminalTaskFailure('States.DataLimitExceeded', `The result of the task is ${payloadSize(result)} bytes, over the limit of ${PAYLOAD_LIMIT_BYTES}`);
    }
    return result;
  }

  /** `arn:aws:states:::lambda:invoke`: the Payload unwrapped, AWS's envelope around the result. */
  private async serveLambdaInvoke(stateMachine: LocalStateMachine, input: unknown, attempt: number): Promise<unknown> {
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
    return {
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

  private async invokeAs(
    stateMachine: LocalStateMachine,
    functionNameOrArn: string,
    event: unknown,
    onOutput?: (requestId: string) => OutputSink,
  ): Promise<InvokeResult> {
    const fn = this.functionOf(functionNameOrArn);
    this.authorize(stateMachine, 'Lambda', 'lambda:InvokeFunction', fn.arn);
    return this.props.lambdas.invoke(fn, event, onOutput);
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
      this.props.taskLogs.append({ time: new Date().toISOString(), pipeline, partition, runId, task, attempt, requestId, stream, message });
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
}

/** A Lambda error as Step Functions reports it: Error = errorType, Cause = the error as JSON. */
function lambdaPayload(result: InvokeResult): unknown {
  if (result.ok) return result.payload;
  throw new TaskFailure(
    result.errorType,
    JSON.stringify({ errorType: result.errorType, errorMessage: result.errorMessage, trace: result.trace }),
  );
}
