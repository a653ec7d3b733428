import { AsyncLocalStorage } from 'node:async_hooks';
import type { ClientRequest } from 'node:http';
import { syncBuiltinESMExports } from 'node:module';
import { http, https } from '../../node-http';

/**
 * Keeps what one in-process invocation does to itself, as a Lambda sandbox would.
 *
 * Bundles run in sandboxes that can be stopped (`sandbox.ts`); a stand-in handler of a test
 * (`replaceHandler`) is a closure of this process, so it runs here and cannot be stopped. Code it
 * starts stays in its invocation's async context (AsyncLocalStorage), and that is enough for what
 * matters:
 * - a timed-out (or crashed) invocation's AWS calls are refused from then on: every SDK request
 *   leaves through `node:http` or `node:https` in that context, so the attempt cannot write its
 *   output after its retry started (its timers still fire, its file writes still happen);
 * - `process.exit` in a handler fails that invocation with `Runtime.ExitError`, and an exception
 *   thrown from one of its callbacks, or a promise it leaves rejected, fails it with the error's
 *   name, instead of ending the process that runs every other invocation.
 */
interface Invocation {
  readonly requestId: string;
  readonly functionName: string;
  /** Ends the invocation with this error, as Lambda reports a crashed runtime. */
  readonly crash: (errorType: string, error: unknown) => void;
  fenced: boolean;
}

/** What a timed-out or crashed invocation's AWS calls fail with. */
export class InvocationEndedError extends Error {
  constructor(invocation: Invocation) {
    super(
      `Invocation ${invocation.requestId} of ${invocation.functionName} has ended (timed out or crashed): Lambda would have stopped it, so the local runtime refuses its calls`,
    );
    this.name = 'InvocationEndedError';
  }
}

/** Thrown into the handler by its `process.exit`: the invocation has already failed. */
class ProcessExitCalled extends Error {
  constructor(code: number) {
    super(`process.exit(${code}) in a handler`);
    this.name = 'Runtime.ExitError';
  }
}

const storage = new AsyncLocalStorage<Invocation>();
let installed = false;

/** Installs the guards, once per process. */
export function installInvocationGuard(): void {
  if (installed) return;
  installed = true;
  for (const module of [http, https]) {
    const original = module.request;
    module.request = function request(this: unknown, ...args: unknown[]) {
      const invocation = storage.getStore();
      if (invocation?.fenced) throw new InvocationEndedError(invocation);
      return (original as (...a: unknown[]) => ClientRequest).apply(this, args);
    } as typeof module.request;
  }
  // `import { request } from 'node:http'` reads the patched function too.
  syncBuiltinESMExports();

  const exit = process.exit.bind(process);
  process.exit = ((code?: number | string | null) => {
    const invocation = storage.getStore();
    if (!invocation) return exit(code);
    const status = Number(code ?? process.exitCode ?? 0);
    invocation.crash('Runtime.ExitError', new Error(`RequestId: ${invocation.requestId} Error: Runtime exited with error: exit status ${status}`));
    throw new ProcessExitCalled(status);
  }) as typeof process.exit;

  const crashed = (event: 'uncaughtException' | 'unhandledRejection', errorType: (error: unknown) => string) => (error: unknown) => {
    const invocation = storage.getStore();
    if (invocation) {
      if (!(error instanceof ProcessExitCalled)) invocation.crash(errorType(error), error);
      return;
    }
    // Not a handler's: left to the process's own listeners, or what Node does when there are none.
    if (process.listenerCount(event) > 1) return;
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    exit(1);
  };
  process.on('uncaughtException', crashed('uncaughtException', (error) => (error instanceof Error && error.name ? error.name : 'Error')));
  process.on('unhandledRejection', crashed('unhandledRejection', () => 'Runtime.UnhandledPromiseRejection'));
}

/**
 * Runs `fn` as the invocation `requestId`. `onCrash` receives the error of a crash (once);
 * `fence()` refuses the AWS calls of everything the invocation started, from now on.
 */
export function withInvocation<T>(
  requestId: string,
  functionName: string,
  onCrash: (errorType: string, error: unknown) => void,
  fn: () => T,
): { result: T; fence: () => void } {
  let crashed = false;
  const invocation: Invocation = {
    requestId,
    functionName,
    fenced: false,
    crash: (errorType, error) => {
      if (crashed) return;
      crashed = true;
      invocation.fenced = true;
      onCrash(errorType, error);
    },
  };
  return { result: storage.run(invocation, fn), fence: () => (invocation.fenced = true) };
}
