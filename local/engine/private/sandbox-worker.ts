/**
 * One Lambda execution environment: a worker thread that loads one function's bundle and runs one
 * invocation at a time, for as long as it stays warm. The parent stops it (`terminate`) when an
 * invocation times out, and discards it when a handler crashes it (an uncaught exception in a
 * callback, `process.exit`) or its heap outgrows the function's memory.
 *
 * Kept cheap per invocation: what does not change between invocations (the function, its context
 * fields) comes once in `workerData`, the environment once as the worker's own `process.env`; an
 * invocation is its request id and its event, answered by one message (two when the module loads).
 *
 * Self-contained, with erasable types only: a worker runs this file with Node.js's own type
 * stripping, without the TypeScript loader of the process that started it.
 */
import { createRequire, registerHooks } from 'node:module';
import { pathToFileURL } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';

/** What the parent passes when it starts the worker. */
export interface SandboxData {
  readonly handlerFile: string;
  readonly handlerExport: string;
  /** A module URL from which `@aws-sdk/*` resolves, as the Lambda runtime provides it. */
  readonly sdkParentUrl: string;
  /** The function's timeout: an invocation's deadline runs from when its handler is called. */
  readonly timeoutMs: number;
  /** The context fields that are the same for every invocation. */
  readonly context: {
    readonly functionName: string;
    readonly invokedFunctionArn: string;
    readonly memoryLimitInMB: string;
    readonly logGroupName: string;
  };
}

/** One invocation, from the parent. */
export interface InvokeMessage {
  readonly requestId: string;
  /** The event as JSON: payloads cross a JSON boundary on Lambda. */
  readonly event: string;
}

/** To the parent: what the function printed, the start of the handler once the module loaded, the outcome. */
export type SandboxMessage =
  | { readonly kind: 'output'; readonly stream: 'stdout' | 'stderr'; readonly text: string }
  | { readonly kind: 'started'; readonly requestId: string }
  | { readonly kind: 'result'; readonly requestId: string; readonly ok: true; readonly payload: string }
  | { readonly kind: 'result'; readonly requestId: string; readonly ok: false; readonly errorType: string; readonly errorMessage: string; readonly trace: string[] };

type Handler = (event: unknown, context: unknown) => unknown;

const data = workerData as SandboxData;
const port = parentPort!;
let handler: Handler | undefined;

// What the function prints goes to the parent, which files it under the invocation running.
for (const stream of ['stdout', 'stderr'] as const) {
  const target = process[stream];
  target.write = ((chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
    port.postMessage({ kind: 'output', stream, text: typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8') } satisfies SandboxMessage);
    rest.find((arg): arg is () => void => typeof arg === 'function')?.();
    return true;
  }) as typeof target.write;
}

// The Lambda Node.js runtime provides the AWS SDK v3, so NodejsFunction leaves `@aws-sdk/*` out of
// bundles; a bundle outside the project resolves them from the project, as the runtime would.
registerHooks({
  resolve(specifier, context, nextResolve) {
    try {
      return nextResolve(specifier, context);
    } catch (error) {
      const code = String((error as { code?: string }).code);
      if (!specifier.startsWith('@aws-sdk/') || !['ERR_MODULE_NOT_FOUND', 'MODULE_NOT_FOUND'].includes(code)) throw error;
      return nextResolve(specifier, { ...context, parentURL: data.sdkParentUrl });
    }
  },
});

async function load(): Promise<Handler> {
  let exports: Record<string, unknown>;
  if (data.handlerFile.endsWith('.mjs')) {
    exports = (await import(pathToFileURL(data.handlerFile).href)) as Record<string, unknown>;
  } else {
    exports = createRequire(data.handlerFile)(data.handlerFile) as Record<string, unknown>;
  }
  const found = exports[data.handlerExport];
  if (typeof found !== 'function') {
    throw Object.assign(new Error(`${data.handlerFile} does not export a function "${data.handlerExport}"`), { name: 'Runtime.HandlerNotFound' });
  }
  return found as Handler;
}

port.on('message', async (message: InvokeMessage) => {
  let result: SandboxMessage;
  try {
    if (!handler) {
      // A module that fails to load is loaded again by the next invocation, as Lambda re-inits;
      // its initialization does not count against the function's timeout.
      handler = await load();
      port.postMessage({ kind: 'started', requestId: message.requestId } satisfies SandboxMessage);
    }
    const deadline = Date.now() + data.timeoutMs;
    const context = {
      ...data.context,
      functionVersion: '$LATEST',
      awsRequestId: message.requestId,
      logStreamName: `local/[$LATEST]${message.requestId.replace(/-/g, '')}`,
      callbackWaitsForEmptyEventLoop: true,
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    };
    const output = await handler(JSON.parse(message.event), context);
    result = { kind: 'result', requestId: message.requestId, ok: true, payload: output === undefined ? 'null' : JSON.stringify(output) };
  } catch (error) {
    result = { kind: 'result', requestId: message.requestId, ok: false, ...errorShape(error) };
  }
  port.postMessage(result);
});

function errorShape(error: unknown): { errorType: string; errorMessage: string; trace: string[] } {
  if (error instanceof Error) return { errorType: error.name || 'Error', errorMessage: error.message, trace: (error.stack ?? '').split('\n') };
  return { errorType: typeof error, errorMessage: String(error), trace: [] };
}
