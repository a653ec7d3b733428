import { randomUUID } from 'node:crypto';
import { dirname } from 'node:path';
import { Worker } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import { packageModule } from '../../lib/package-files';
import type { LocalFunction } from './assembly';
import type { InvokeMessage, SandboxData, SandboxMessage } from './private/sandbox-worker';

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
   * How many execution environments (worker threads) may be alive at once, across functions: an
   * invocation beyond them waits for one to be free, and an idle one of another function is
   * stopped to make room.
   * @default 32
   */
  readonly concurrency?: number;
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

/** Receives what one invocation wrote, line by line. */
export type OutputSink = (stream: 'stdout' | 'stderr', line: string) => void;

/**
 * Execution environments alive at once, as an account's concurrency: each is a thread with its
 * own heap (tens of MB with the AWS SDK loaded), so a burst of runs queues for them instead.
 */
const DEFAULT_CONCURRENCY = 32;
/** Lambda's limit on a function's initialization (loading its module), before its handler runs. */
const INIT_LIMIT_MS = 10_000;
// Found through the package: built, it is dist/local/engine/private/sandbox-worker.js (Node.js
// strips no types under node_modules).
const WORKER = pathToFileURL(packageModule('local/engine/private/sandbox-worker.ts'));
/** `@aws-sdk/*` resolves from here for bundles outside the project, as the Lambda runtime provides it. */
const SDK_PARENT_URL = import.meta.url;

/**
 * Runs Lambda functions from their bundles in `cdk.out`, each invocation in an execution
 * environment of its function (a worker thread, see sandbox-worker.ts) that is reused while warm,
 * one invocation at a time, as Lambda reuses its sandboxes: module scope survives between
 * invocations, concurrent invocations get environments of their own. An invocation that outlives
 * the function's timeout is stopped with its environment (`Sandbox.Timedout`): nothing it started
 * runs on. One whose heap outgrows the function's memory fails (`Runtime.OutOfMemory`); a handler
 * that crashes its environment (an uncaught exception in a callback, `process.exit`) fails its own
 * invocation only. What functions print is written to this process's standard streams (the CLI
 * may have redirected them) and to the invocation's sink.
 */
export class LocalLambdaRuntime {
  private readonly idle = new Map<string, Sandbox[]>();
  private readonly all = new Set<Sandbox>();
  private readonly waiting: Array<() => void> = [];
  private readonly environments = new Map<string, Record<string, string>>();
  private readonly overrides = new Map<string, TaskHandler>();
  private readonly limit: number;

  constructor(private readonly endpoints: LocalEndpoints) {
    this.limit = endpoints.concurrency ?? DEFAULT_CONCURRENCY;
  }

  /**
   * Invokes the function with `event`. `onOutput`, when given, receives each line the invocation
   * prints (and only those), as CloudWatch Logs would keep them under its request id.
   */
  async invoke(fn: LocalFunction, event: unknown, onOutput?: (requestId: string) => OutputSink): Promise<InvokeResult> {
    const requestId = randomUUID();
    const override = this.overrides.get(fn.arn);
    if (override) return invokeOverride(fn, override, requestId, event);
    const sandbox = await this.acquire(fn);
    try {
      // The payload crosses a JSON boundary on Lambda: no shared references, `undefined` → null.
      return await sandbox.invoke(requestId, JSON.stringify(event ?? null), onOutput?.(requestId));
    } finally {
      this.release(fn, sandbox);
    }
  }

  /**
   * Runs `handler` instead of the function's bundle from now on (a test's stand-in for one task),
   * or the bundle again when `undefined`. It runs in this process (a function cannot be handed to
   * an environment's thread), with the function's timeout and the JSON payload boundary.
   */
  replaceHandler(fn: LocalFunction, handler: TaskHandler | undefined): void {
    if (handler) this.overrides.set(fn.arn, handler);
    else this.overrides.delete(fn.arn);
  }

  /** Stops every execution environment. */
  async close(): Promise<void> {
    const sandboxes = [...this.all];
    this.all.clear();
    this.idle.clear();
    await Promise.all(sandboxes.map((sandbox) => sandbox.stop()));
  }

  /**
   * A warm environment of the function, else a new one: within the limit, or in place of the
   * environment of another function idle the longest, or, when every one is busy, once one is free.
   */
  private async acquire(fn: LocalFunction): Promise<Sandbox> {
    for (;;) {
      const warm = this.idle.get(fn.arn)?.pop();
      if (warm) return warm;
      if (this.all.size >= this.limit) this.evictIdle();
      if (this.all.size < this.limit) {
        const sandbox = new Sandbox(fn, this.environmentOf(fn));
        this.all.add(sandbox);
        return sandbox;
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
  }

  private release(fn: LocalFunction, sandbox: Sandbox): void {
    if (sandbox.alive) {
      const idle = this.idle.get(fn.arn) ?? [];
      idle.push(sandbox);
      this.idle.set(fn.arn, idle);
    } else {
      this.all.delete(sandbox);
    }
    this.waiting.shift()?.();
  }

  /** Stops the environment idle the longest, of any function. */
  private evictIdle(): void {
    let oldest: { arn: string; sandbox: Sandbox } | undefined;
    for (const [arn, sandboxes] of this.idle) {
      for (const sandbox of sandboxes) if (!oldest || sandbox.idleSince < oldest.sandbox.idleSince) oldest = { arn, sandbox };
    }
    if (!oldest) return;
    const sandboxes = this.idle.get(oldest.arn)!;
    sandboxes.splice(sandboxes.indexOf(oldest.sandbox), 1);
    this.all.delete(oldest.sandbox);
    void oldest.sandbox.stop();
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

/** One execution environment of a function: a worker thread running one invocation at a time. */
class Sandbox {
  private readonly worker: Worker;
  private current?: {
    readonly requestId: string;
    readonly sink?: OutputSink;
    readonly partial: Record<'stdout' | 'stderr', string>;
    readonly started: () => void;
    readonly settle: (result: InvokeResult) => void;
  };
  private loaded = false;
  private ended = false;
  /** When its last invocation ended (`performance.now()`). */
  idleSince = 0;

  constructor(
    private readonly fn: LocalFunction,
    environment: Record<string, string>,
  ) {
    const data: SandboxData = {
      handlerFile: fn.handlerFile,
      handlerExport: fn.handlerExport,
      sdkParentUrl: SDK_PARENT_URL,
      timeoutMs: fn.timeoutSeconds * 1000,
      context: { functionName: fn.name, invokedFunctionArn: fn.arn, memoryLimitInMB: String(fn.memoryMb), logGroupName: `/aws/lambda/${fn.name}` },
    };
    this.worker = new Worker(WORKER, {
      workerData: data,
      env: environment,
      // Lambda's memory setting bounds the whole sandbox; the heap is what a handler can grow.
      resourceLimits: { maxOldGenerationSizeMb: fn.memoryMb },
    });
    this.worker.on('message', (message: SandboxMessage) => this.receive(message));
    this.worker.on('error', (error: Error & { code?: string }) => {
      this.ended = true;
      if (error.code === 'ERR_WORKER_OUT_OF_MEMORY') {
        this.fail('Runtime.OutOfMemory', `Runtime exited with error: the function used more than its ${fn.memoryMb} MB of memory`);
      } else {
        // As Lambda reports an uncaught exception: the error itself.
        this.fail(error.name || 'Error', error.message, (error.stack ?? '').split('\n'), false);
      }
    });
    this.worker.on('exit', (code) => {
      this.ended = true;
      this.fail('Runtime.ExitError', `Runtime exited with error: exit status ${code}`);
    });
    // An idle environment does not keep the process alive; a busy one does.
    this.worker.unref();
  }

  /** Whether it can take another invocation. */
  get alive(): boolean {
    return !this.ended;
  }

  invoke(requestId: string, event: string, sink?: OutputSink): Promise<InvokeResult> {
    let resolve!: (result: InvokeResult) => void;
    const promise = new Promise<InvokeResult>((settle) => (resolve = settle));
    const timeOut = (errorMessage: string) => () => {
      // Lambda stops a timed-out invocation: nothing it started runs on.
      this.settle({ ok: false, requestId, errorType: 'Sandbox.Timedout', errorMessage: `RequestId: ${requestId} Error: ${errorMessage}`, trace: [] });
      void this.stop();
    };
    const handlerTimeout = () => setTimeout(timeOut(`Task timed out after ${this.fn.timeoutSeconds.toFixed(2)} seconds`), this.fn.timeoutSeconds * 1000);
    // Loading the module has Lambda's init limit; the handler then has the function's timeout.
    let timer = this.loaded ? handlerTimeout() : setTimeout(timeOut(`the function's initialization did not complete within ${INIT_LIMIT_MS / 1000} seconds`), INIT_LIMIT_MS);
    this.current = {
      requestId,
      sink,
      partial: { stdout: '', stderr: '' },
      started: () => {
        this.loaded = true;
        clearTimeout(timer);
        timer = handlerTimeout();
      },
      settle: (result) => {
        clearTimeout(timer);
        resolve(result);
      },
    };
    this.worker.ref();
    this.worker.postMessage({ requestId, event } satisfies InvokeMessage);
    return promise;
  }

  async stop(): Promise<void> {
    this.ended = true;
    await this.worker.terminate();
  }

  private receive(message: SandboxMessage): void {
    if (message.kind === 'output') return this.output(message.stream, message.text);
    if (message.requestId !== this.current?.requestId) return;
    if (message.kind === 'started') return this.current.started();
    this.settle(
      message.ok
        ? { ok: true, requestId: message.requestId, payload: JSON.parse(message.payload) as unknown }
        : { ok: false, requestId: message.requestId, errorType: message.errorType, errorMessage: message.errorMessage, trace: message.trace },
    );
  }

  /** Written as the function wrote it, and line by line to the running invocation's sink. */
  private output(stream: 'stdout' | 'stderr', text: string): void {
    process[stream].write(text);
    const current = this.current;
    if (!current?.sink) return;
    const lines = (current.partial[stream] + text).split('\n');
    current.partial[stream] = lines.pop() ?? '';
    for (const line of lines) current.sink(stream, line);
  }

  private fail(errorType: string, errorMessage: string, trace: string[] = [], runtimeError = true): void {
    const current = this.current;
    if (!current) return;
    this.settle({ ok: false, requestId: current.requestId, errorType, errorMessage: runtimeError ? `RequestId: ${current.requestId} Error: ${errorMessage}` : errorMessage, trace });
  }

  private settle(result: InvokeResult): void {
    const current = this.current;
    if (!current) return;
    this.current = undefined;
    this.idleSince = performance.now();
    for (const stream of ['stdout', 'stderr'] as const) if (current.partial[stream] !== '') current.sink?.(stream, current.partial[stream]);
    this.worker.unref();
    current.settle(result);
  }
}

/** A handler standing in for a function's bundle (see {@link LocalLambdaRuntime.replaceHandler}). */
export type TaskHandler = (event: unknown) => unknown;

async function invokeOverride(fn: LocalFunction, handler: TaskHandler, requestId: string, event: unknown): Promise<InvokeResult> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(Object.assign(new Error(`Task timed out after ${fn.timeoutSeconds}.00 seconds`), { name: 'Sandbox.Timedout' })),
      fn.timeoutSeconds * 1000,
    );
  });
  try {
    const result = await Promise.race([Promise.resolve(handler(JSON.parse(JSON.stringify(event ?? null)))), timeout]);
    return { ok: true, requestId, payload: result === undefined ? null : (JSON.parse(JSON.stringify(result)) as unknown) };
  } catch (error) {
    const e = error instanceof Error ? error : new Error(String(error));
    return { ok: false, requestId, errorType: e.name || 'Error', errorMessage: e.message, trace: (e.stack ?? '').split('\n') };
  } finally {
    clearTimeout(timer);
  }
}
