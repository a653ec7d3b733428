import { AsyncLocalStorage } from 'node:async_hooks';
import http from 'node:http';
import https from 'node:https';
import { syncBuiltinESMExports } from 'node:module';

/**
 * Stops a timed-out invocation's calls to AWS.
 *
 * Lambda stops an invocation at its timeout; handlers here run in the runtime's own process, where
 * a running function cannot be stopped (worker threads can, but cost 10 to 20 times the time of a
 * burst of short runs). What a timed-out attempt must not do is write its results after its
 * retry has started. Every AWS call a handler makes leaves through `node:http` or `node:https`
 * (the SDK's NodeHttpHandler), in the async context of its invocation: once the invocation timed
 * out, those requests are refused before anything is sent. Its timers still fire and its file
 * writes still happen (see the README's Known limitations).
 */
interface Invocation {
  readonly requestId: string;
  readonly functionName: string;
  timedOut: boolean;
}

/** What a timed-out invocation's AWS calls fail with. */
export class InvocationTimedOutError extends Error {
  constructor(invocation: Invocation) {
    super(
      `Invocation ${invocation.requestId} of ${invocation.functionName} timed out: Lambda would have stopped it, so the local runtime refuses its calls`,
    );
    this.name = 'InvocationTimedOutError';
  }
}

const storage = new AsyncLocalStorage<Invocation>();
let installed = false;

/** Refuses the requests of timed-out invocations, from now on (once per process). */
export function installInvocationFence(): void {
  if (installed) return;
  installed = true;
  for (const module of [http, https]) {
    const original = module.request;
    module.request = function request(this: unknown, ...args: unknown[]) {
      const invocation = storage.getStore();
      if (invocation?.timedOut) throw new InvocationTimedOutError(invocation);
      return (original as (...a: unknown[]) => http.ClientRequest).apply(this, args);
    } as typeof module.request;
  }
  // `import { request } from 'node:http'` reads the patched function too.
  syncBuiltinESMExports();
}

/** Runs `fn` as the invocation `requestId`; `timedOut()` fences everything it started. */
export function withInvocation<T>(requestId: string, functionName: string, fn: () => T): { result: T; timedOut: () => void } {
  const invocation: Invocation = { requestId, functionName, timedOut: false };
  return { result: storage.run(invocation, fn), timedOut: () => (invocation.timedOut = true) };
}
