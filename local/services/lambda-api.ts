import type { InvokeResult } from '../engine/lambda';
import type { LocalFunction } from '../engine/local-stage';
import type { RequestAuthorizer } from '../iam/authorizer';
import { serveRestJson } from './private/rest-json';

/** The local stand-in of the Lambda API, on loopback. */
export interface LocalLambdaApi {
  /** `http://127.0.0.1:<port>`: give it to `AWS_ENDPOINT_URL_LAMBDA`. */
  readonly endpoint: string;
  stop(): Promise<void>;
}

/** Properties of {@link startLambdaApi}. */
export interface LambdaApiProps {
  /** The function with this name or ARN. */
  readonly find: (nameOrArn: string) => LocalFunction | undefined;
  /** Runs a function's bundle with an event, as the engine does for every invocation. */
  readonly invoke: (arn: string, event: unknown) => Promise<InvokeResult>;
  /** Decides each call against its caller's role. @default - every call is allowed */
  readonly authorize?: RequestAuthorizer;
  readonly port?: number;
}

/**
 * Serves Lambda `Invoke` (synchronous, `RequestResponse`) and `GetFunctionConfiguration` of the
 * stage's functions, so that what calls Lambda on a deployed stage (`sluice run --stage`, which
 * invokes a pipeline's launcher) runs unchanged against the local runtime. A function error is
 * answered as Lambda does: status 200, `X-Amz-Function-Error: Unhandled`, the error as payload.
 *
 * @see https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html
 */
export function startLambdaApi(props: LambdaApiProps): Promise<LocalLambdaApi> {
  return serveRestJson({
    port: props.port ?? 0,
    handle: async ({ method, segments, body, accessKeyId }) => {
      // /2015-03-31/functions/<name>/(invocations|configuration)
      const [, collection, name, operation] = segments;
      if (collection !== 'functions' || name === undefined) {
        return { status: 400, errorType: 'InvalidRequestContentException', message: `The local Lambda API serves Invoke and GetFunctionConfiguration; got ${method} /${segments.join('/')}` };
      }
      const fn = props.find(name);
      if (!fn) return { status: 404, errorType: 'ResourceNotFoundException', message: `Function not found: ${name}` };
      const action = operation === 'invocations' && method === 'POST' ? 'lambda:InvokeFunction' : operation === 'configuration' && method === 'GET' ? 'lambda:GetFunctionConfiguration' : undefined;
      if (!action) return { status: 400, errorType: 'InvalidRequestContentException', message: `The local Lambda API does not serve ${method} .../${operation ?? ''}` };
      const denial = props.authorize?.({ accessKeyId, action, resource: fn.arn });
      if (denial) return { status: 403, errorType: 'AccessDeniedException', message: denial };
      if (action === 'lambda:GetFunctionConfiguration') {
        return {
          output: {
            FunctionName: fn.name,
            FunctionArn: fn.arn,
            Runtime: fn.runtime,
            Role: fn.roleArn,
            Handler: `index.${fn.handlerExport}`,
            Timeout: fn.timeoutSeconds,
            MemorySize: fn.memoryMb,
            Environment: { Variables: fn.environment },
          },
        };
      }
      let event: unknown;
      try {
        event = body.length === 0 ? {} : (JSON.parse(body.toString('utf8')) as unknown);
      } catch {
        return { status: 400, errorType: 'InvalidRequestContentException', message: 'Could not parse request body into json' };
      }
      const result = await props.invoke(fn.arn, event);
      const headers = { 'x-amz-executed-version': '$LATEST' };
      if (result.ok) return { raw: JSON.stringify(result.payload ?? null), headers };
      return {
        raw: JSON.stringify({ errorType: result.errorType, errorMessage: result.errorMessage, trace: result.trace }),
        headers: { ...headers, 'x-amz-function-error': 'Unhandled' },
      };
    },
  });
}
