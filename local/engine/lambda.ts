import { randomUUID } from 'node:crypto';
import { dirname } from 'node:path';
import type { GatewayShortcut } from '../iam/gateway';
import type { LocalFunction } from './local-stage';
import { installInvocationGuard, withInvocation } from './private/invocation-guard';
import { captureOutput, type OutputSink } from './private/invocation-output';
import { withEnvironment } from './private/process-env';
import { SandboxPool } from './private/sandbox-pool';

/** Endpoints of the local services, handed to every function through its environment. */
export interface LocalEndpoints {
  /** DynamoDB endpoint URL, e.g. `http://127.0.0.1:4567`. */
  readonly dynamodb: string;
  /** S3 endpoint URL. @default - none: the function's S3 calls go nowhere local */
  readonly s3?: string;
  /** Step Functions API endpoint URL. @default - none: the function's Step Functions calls go nowhere local */
  readonly sfn?: string;
  /** SNS API endpoint URL. @default - none: the function's SNS calls go nowhere local */
  readonly sns?: string;
  /** EventBridge API endpoint URL. @default - none: the function's EventBridge calls go nowhere local */
  readonly eventBridge?: string;
  /**
   * More environment for every function, set last: e.g. the credentials the local S3 accepts.
   * @default - none
   */
  readonly environment?: Readonly<Record<string, string>>;
  /**
   * The access key id a function signs its AWS calls with, from its role: the local services
   * decide each call against that role's policies (see `LocalAuthorizer`). Set after everything
   * else.
   * @default - every function signs with the local services' own key
   */
  readonly accessKeyIdOf?: (roleArn: string) => string;
  /**
   * The IAM gateway the environment's endpoints point at: a sandbox's SDK calls it allows skip
   * its HTTP hop (see `private/sandbox-source.ts`).
   * @default - every call to the gateway goes through it
   */
  readonly gateway?: GatewayShortcut;
}

/** Outcome of one invocation, in the shape Lambda's Invoke API reports it. */
export type InvokeResult =
  | { readonly ok: true; readonly requestId: string; readonly payload: unknown }
  | {
      readonly ok: false;
      readonly requestId: string;
      /** The thrown error's `name`, or `Sandbox.Timedout`. */
      readonly errorType: string;
      readonly errorMessage: string;
      readonly trace: readonly string[];
    };

/** The `context` argument of a Node.js Lambda handler. */
export interface LambdaContext {
  readonly functionName: string;
  readonly functionVersion: string;
  readonly invokedFunctionArn: string;
  readonly memoryLimitInMB: string;
  readonly awsRequestId: string;
  readonly logGroupName: string;
  readonly logStreamName: string;
  callbackWaitsForEmptyEventLoop: boolean;
  getRemainingTimeInMillis(): number;
}

type Handler = (event: unknown, context: LambdaContext) => unknown;

/**
 * Runs Lambda functions from their bundles in `cdk.out`, each invocation in a sandbox of its
 * function (a worker thread, see `private/sandbox.ts`) reused while warm, so module scope survives
 * between invocations as in a warm container: the function's environment plus what Lambda sets plus
 * the local endpoints, a Lambda-like context, the function's timeout (`Sandbox.Timedout`, which
 * stops the attempt), its memory size (`Runtime.OutOfMemory`), and a crash (`process.exit`, an
 * exception thrown from a callback) failing its invocation only.
 *
 * A handler standing in for a bundle ({@link replaceHandler}) is a closure of the host, so it runs
 * in the host's process, where it cannot be stopped (see `private/invocation-guard.ts`).
 */
export class LocalLambda {
  private readonly pools = new Map<string, SandboxPool>();
  private readonly environments = new Map<string, Record<string, string>>();
  private readonly overrides = new Map<string, TaskHandler>();
  /** Functions waiting for a sandbox started ahead of their invocations, in the order asked. */
  private readonly toPrewarm: LocalFunction[] = [];
  private prewarming = 0;

  constructor(private readonly endpoints: LocalEndpoints) {}

  /**
   * Invokes the function with `event`. `onOutput`, when given, receives each line the invocation
   * prints (and only those), as CloudWatch Logs would keep them under its request id.
   */
  async invoke(fn: LocalFunction, event: unknown, onOutput?: (requestId: string) => OutputSink): Promise<InvokeResult> {
    const requestId = randomUUID();
    const contextFields = {
      functionName: fn.name,
      functionVersion: '$LATEST',
      invokedFunctionArn: fn.arn,
      memoryLimitInMB: String(fn.memoryMb),
      awsRequestId: requestId,
      logGroupName: `/aws/lambda/${fn.name}`,
      logStreamName: `local/[$LATEST]${requestId.replace(/-/g, '')}`,
    };
    const sink = onOutput?.(requestId);
    const override = this.overrides.get(fn.arn);
    if (override) return this.invokeInProcess(fn, override, event, contextFields, sink);
    let payload: string;
    try {
      // The payload crosses a JSON boundary on Lambda: no shared references, `undefined` → null.
      payload = JSON.stringify(event ?? null);
    } catch (error) {
      return { ok: false, requestId, ...errorShape(error) };
    }
    return this.poolOf(fn).invoke({ requestId, event: payload, context: contextFields, timeoutSeconds: fn.timeoutSeconds, sink });
  }

  /**
   * Runs `handler` instead of the function's bundle from now on (a test's stand-in for one task),
   * or the bundle again when `undefined`, with the function's environment, timeout and the JSON
   * payload boundary.
   */
  replaceHandler(fn: LocalFunction, handler: TaskHandler | undefined): void {
    if (handler) this.overrides.set(fn.arn, handler);
    else this.overrides.delete(fn.arn);
  }

  /**
   * Starts a sandbox of each function that has none, loading its module before its first
   * invocation (as Lambda keeps environments ready), in the order given, `lanes` at a time (at
   * least as many as an earlier call asked for while its loading goes on): an init takes tens to
   * hundreds of milliseconds of CPU (the SDK included), and the first invocations should not wait
   * behind the inits of the last ones. One lane while a command starts, whose own CPU would be
   * shared with a second; more once the host is only waiting for its runs.
   */
  prewarm(fns: readonly LocalFunction[], lanes = 1): void {
    this.toPrewarm.push(...fns.filter((fn) => !this.overrides.has(fn.arn)));
    while (this.prewarming < lanes && this.toPrewarm.length > 0) {
      this.prewarming++;
      void (async () => {
        try {
          for (let fn = this.toPrewarm.shift(); fn; fn = this.toPrewarm.shift()) await this.poolOf(fn).prewarm();
        } catch {
          // A sandbox that cannot start fails the invocation that needs it, with its error.
          this.toPrewarm.length = 0;
        } finally {
          this.prewarming--;
        }
      })();
    }
  }

  /** Stops every sandbox, so that nothing of the functions outlives the runtime. */
  async close(): Promise<void> {
    this.toPrewarm.length = 0;
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(pools.map((pool) => pool.close()));
  }

  private poolOf(fn: LocalFunction): SandboxPool {
    let pool = this.pools.get(fn.arn);
    if (!pool) {
      pool = new SandboxPool(
        { functionName: fn.name, handlerFile: fn.handlerFile, handlerExport: fn.handlerExport, environment: this.environmentOf(fn), memoryMb: fn.memoryMb, gateway: this.endpoints.gateway },
        import.meta.url,
      );
      this.pools.set(fn.arn, pool);
    }
    return pool;
  }

  /** A stand-in handler, in this process: its result is ignored after its timeout, its AWS calls refused. */
  private async invokeInProcess(
    fn: LocalFunction,
    handler: TaskHandler,
    event: unknown,
    contextFields: Omit<LambdaContext, 'callbackWaitsForEmptyEventLoop' | 'getRemainingTimeInMillis'>,
    sink: OutputSink | undefined,
  ): Promise<InvokeResult> {
    installInvocationGuard();
    const { awsRequestId: requestId } = contextFields;
    const deadline = Date.now() + fn.timeoutSeconds * 1000;
    const context: LambdaContext = { ...contextFields, callbackWaitsForEmptyEventLoop: true, getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()) };
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<InvokeResult>((resolve) => {
      timer = setTimeout(
        () =>
          resolve({
            ok: false,
            requestId,
            errorType: 'Sandbox.Timedout',
            errorMessage: `RequestId: ${requestId} Error: Task timed out after ${fn.timeoutSeconds.toFixed(2)} seconds`,
            trace: [],
          }),
        fn.timeoutSeconds * 1000,
      );
    });
    const call = async (): Promise<InvokeResult> => {
      try {
        const result = await (handler as Handler)(JSON.parse(JSON.stringify(event ?? null)), context);
        return { ok: true, requestId, payload: result === undefined ? null : JSON.parse(JSON.stringify(result)) };
      } catch (error) {
        return { ok: false, requestId, ...errorShape(error) };
      }
    };
    let crash!: (result: InvokeResult) => void;
    const crashed = new Promise<InvokeResult>((resolve) => (crash = resolve));
    const onCrash = (errorType: string, error: unknown) => crash({ ok: false, requestId, ...errorShape(error), errorType });
    const environment = this.environmentOf(fn);
    const { result: run, fence } = withInvocation(requestId, fn.name, onCrash, () => withEnvironment(environment, () => (sink ? captureOutput(sink, call) : call())));
    try {
      const outcome = await Promise.race([run, timeout, crashed]);
      // What the stand-in still does after its timeout must not reach AWS.
      if (!outcome.ok && outcome.errorType === 'Sandbox.Timedout') fence();
      return outcome;
    } finally {
      clearTimeout(timer);
    }
  }

  private environmentOf(fn: LocalFunction): Record<string, string> {
    let environment = this.environments.get(fn.arn);
    if (!environment) {
      const region = /^arn:aws:lambda:([^:]+):/.exec(fn.arn)?.[1] ?? 'us-east-1';
      environment = {
        ...(process.env.PATH ? { PATH: process.env.PATH } : {}),
        LANG: 'en_US.UTF-8',
        ...fn.environment,
        AWS_REGION: region,
        AWS_DEFAULT_REGION: region,
        AWS_LAMBDA_FUNCTION_NAME: fn.name,
        AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memoryMb),
        AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${fn.name}`,
        AWS_EXECUTION_ENV: `AWS_Lambda_${fn.runtime}`,
        LAMBDA_TASK_ROOT: dirname(fn.handlerFile),
        _HANDLER: `${fn.handlerFile}.${fn.handlerExport}`,
        AWS_ACCESS_KEY_ID: 'local',
        AWS_SECRET_ACCESS_KEY: 'local',
        AWS_ENDPOINT_URL_DYNAMODB: this.endpoints.dynamodb,
        ...(this.endpoints.s3 ? { AWS_ENDPOINT_URL_S3: this.endpoints.s3 } : {}),
        ...(this.endpoints.sfn ? { AWS_ENDPOINT_URL_SFN: this.endpoints.sfn } : {}),
        ...(this.endpoints.sns ? { AWS_ENDPOINT_URL_SNS: this.endpoints.sns } : {}),
        ...(this.endpoints.eventBridge ? { AWS_ENDPOINT_URL_EVENTBRIDGE: this.endpoints.eventBridge } : {}),
        SLUICE_S3_FORCE_PATH_STYLE: 'true',
        AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
        AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
        ...this.endpoints.environment,
        // Who the function is: the local services authorize its calls as its role.
        ...(this.endpoints.accessKeyIdOf && fn.roleArn
          ? { AWS_ACCESS_KEY_ID: this.endpoints.accessKeyIdOf(fn.roleArn), AWS_SECRET_ACCESS_KEY: 'local', AWS_SESSION_TOKEN: 'local' }
          : {}),
      };
      this.environments.set(fn.arn, environment);
    }
    return environment;
  }
}

function errorShape(error: unknown): { errorType: string; errorMessage: string; trace: string[] } {
  if (error instanceof Error) {
    return { errorType: error.name || 'Error', errorMessage: error.message, trace: (error.stack ?? '').split('\n') };
  }
  return { errorType: typeof error, errorMessage: String(error), trace: [] };
}

/** A handler standing in for a function's bundle (see {@link LocalLambda.replaceHandler}). */
export type TaskHandler = (event: unknown) => unknown;
