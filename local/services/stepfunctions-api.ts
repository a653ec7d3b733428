import type { IncomingMessage, ServerResponse } from 'node:http';
import { http } from '../node-http';
import { accessKeyIdOfRequest, type RequestAuthorizer } from '../iam/authorizer';
import type { HistoryEvent } from './execution-history';
import { serveOnLoopback } from './private/loopback';

/** An execution as the Step Functions API describes it. */
export interface ApiExecution {
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly name: string;
  readonly status: string;
  readonly startDate: string;
  readonly stopDate?: string;
  readonly input?: string;
  readonly output?: string;
  readonly error?: string;
  readonly cause?: string;
}

/**
 * What serves the API. Errors thrown with a `name` (`ExecutionAlreadyExists`, `InvalidName`,
 * `ExecutionDoesNotExist`, `StateMachineDoesNotExist`, ...) reach the client as that exception.
 */
export interface StepFunctionsBackend {
  startExecution(request: { stateMachineArn: string; name?: string; input?: string }): Promise<{ executionArn: string; startDate: Date }>;
  describeExecution(executionArn: string): ApiExecution;
  listExecutions(stateMachineArn: string): readonly ApiExecution[];
  /** The execution's history (see `executionHistory`). @default - GetExecutionHistory is not served */
  executionHistory?(executionArn: string): readonly HistoryEvent[];
  /** @default - StopExecution is not served */
  stopExecution?(executionArn: string, reason: { error?: string; cause?: string }): Promise<unknown>;
}

/** A Step Functions API endpoint on loopback. */
export interface LocalStepFunctionsApi {
  /** `http://127.0.0.1:<port>`: give it to `SFNClient({ endpoint })` or `AWS_ENDPOINT_URL_SFN`. */
  readonly endpoint: string;
  stop(): Promise<void>;
}

/** Client errors the API answers with 400; anything else is a 500. */
const CLIENT_ERRORS = new Set([
  'ExecutionAlreadyExists',
  'ExecutionDoesNotExist',
  'InvalidArn',
  'InvalidExecutionInput',
  'InvalidName',
  'StateMachineDoesNotExist',
  'ValidationException',
]);

const epochSeconds = (iso: string | undefined) => (iso === undefined ? undefined : new Date(iso).getTime() / 1000);

/**
 * Serves the part of the Step Functions API (AWS JSON 1.0 protocol) that the launcher and the
 * CLI call, so that the launcher's own bundle, with an unmodified `SFNClient`, starts local
 * executions: StartExecution, DescribeExecution, ListExecutions, and StopExecution and
 * GetExecutionHistory (which `sluice backfills --cancel --stop --stage` and `sluice run --stage` call).
 */
export async function startStepFunctionsApi(props: {
  backend: StepFunctionsBackend;
  port?: number;
  /** Decides each call against its caller's role. @default - every call is allowed */
  authorize?: RequestAuthorizer;
}): Promise<LocalStepFunctionsApi> {
  const { backend } = props;
  const operations: Record<string, (body: Record<string, unknown>) => Promise<unknown> | unknown> = {
    StartExecution: async (body) => {
      const started = await backend.startExecution({
        stateMachineArn: String(body.stateMachineArn ?? ''),
        name: body.name === undefined ? undefined : String(body.name),
        input: body.input === undefined ? undefined : String(body.input),
      });
      return { executionArn: started.executionArn, startDate: started.startDate.getTime() / 1000 };
    },
    DescribeExecution: (body) => {
      const e = backend.describeExecution(String(body.executionArn ?? ''));
      return { ...e, startDate: epochSeconds(e.startDate), stopDate: epochSeconds(e.stopDate) };
    },
    ListExecutions: (body) => {
      const filter = body.statusFilter === undefined ? undefined : String(body.statusFilter);
      const executions = backend
        .listExecutions(String(body.stateMachineArn ?? ''))
        .filter((e) => filter === undefined || e.status === filter)
        .map((e) => ({
          executionArn: e.executionArn,
          stateMachineArn: e.stateMachineArn,
          name: e.name,
          status: e.status,
          startDate: epochSeconds(e.startDate),
          stopDate: epochSeconds(e.stopDate),
        }));
      const max = typeof body.maxResults === 'number' && body.maxResults > 0 ? body.maxResults : 100;
      return { executions: executions.slice(0, max) };
    },
    ...(backend.executionHistory && {
      // Every event at once: no page is ever cut (no nextToken).
      GetExecutionHistory: (body: Record<string, unknown>) => {
        const events = backend.executionHistory!(String(body.executionArn ?? ''));
        return { events: body.reverseOrder === true ? [...events].reverse() : events };
      },
    }),
    ...(backend.stopExecution && {
      StopExecution: async (body: Record<string, unknown>) => {
        await backend.stopExecution!(String(body.executionArn ?? ''), {
          error: body.error === undefined ? undefined : String(body.error),
          cause: body.cause === undefined ? undefined : String(body.cause),
        });
        return { stopDate: Date.now() / 1000 };
      },
    }),
  };

  const server = http.createServer((request, response) => {
    void handle(request, response);
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const target = String(request.headers['x-amz-target'] ?? '');
    const operation = target.startsWith('AWSStepFunctions.') ? target.slice('AWSStepFunctions.'.length) : '';
    const send = (status: number, body: unknown, errorType?: string) => {
      response.writeHead(status, {
        'content-type': 'application/x-amz-json-1.0',
        ...(errorType && { 'x-amzn-errortype': errorType }),
      });
      response.end(JSON.stringify(body));
    };
    const serve = operations[operation];
    if (!serve) {
      send(400, { __type: 'UnknownOperationException', message: `The local Step Functions API does not serve "${target}"` }, 'UnknownOperationException');
      return;
    }
    try {
      const body = chunks.length > 0 ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>) : {};
      const resource = String((operation === 'DescribeExecution' || operation === 'StopExecution' || operation === 'GetExecutionHistory' ? body.executionArn : body.stateMachineArn) ?? '');
      const denial = props.authorize?.({ accessKeyId: accessKeyIdOfRequest(request.headers.authorization), action: `states:${operation}`, resource });
      if (denial) {
        send(400, { __type: 'com.amazon.coral.service#AccessDeniedException', message: denial }, 'AccessDeniedException');
        return;
      }
      send(200, await serve(body));
    } catch (error) {
      const name = error instanceof Error ? error.name : 'InternalFailure';
      const message = error instanceof Error ? error.message : String(error);
      const type = CLIENT_ERRORS.has(name) ? name : 'InternalFailure';
      send(CLIENT_ERRORS.has(name) ? 400 : 500, { __type: `com.amazonaws.sfn#${type}`, message }, type);
    }
  }

  const served = await serveOnLoopback(server, props.port ?? 0);
  return {
    ...served,
  };
}
