/**
 * The program of one Lambda sandbox: a worker thread that loads one function's bundle once and
 * runs its invocations one at a time (see `sandbox.ts`).
 *
 * It is JavaScript in a string, run with `new Worker(source, { eval: true })`, rather than a
 * module file: the package is bundled into chunks (scripts/build.ts) and the sources run through
 * tsx or vitest, so no file path would name this code in every setting, while a string goes
 * wherever this module goes. It must not depend on anything but Node.
 *
 * Messages from the host: `{ requestId, event (JSON), context (the plain fields), timeoutMs }`.
 * To the host, in order on one port: `{ type: 'output', stream, text }` for each write to stdout
 * or stderr, `{ type: 'start', requestId }` once the module has loaded in a new sandbox, `{ type: 'result', ok, payload (JSON) | errorType, errorMessage, trace, reinit }` per
 * invocation, and `{ type: 'crash', errorType, errorMessage, trace }` when a callback throws or a
 * promise is left rejected (the host then ends the sandbox, as Lambda restarts its runtime).
 */
export const SANDBOX_SOURCE = String.raw`
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const { createRequire, registerHooks } = require('node:module');
const { pathToFileURL } = require('node:url');
const { handlerFile, handlerExport, providerUrl } = workerData;
// V8 keeps the compiled code of what a sandbox loads (the bundle, the AWS SDK), as the CLI does for
// its own modules: a new sandbox of an unchanged function does not compile them again.
require('node:module').enableCompileCache?.();

function shape(error) {
  if (error instanceof Error) return { errorType: error.name || 'Error', errorMessage: error.message, trace: String(error.stack ?? '').split('\n') };
  return { errorType: typeof error, errorMessage: String(error), trace: [] };
}

// What the function prints goes to the host on the port its results take, so that every line
// reaches the host before the result of the invocation that printed it.
for (const stream of ['stdout', 'stderr']) {
  process[stream].write = function write(chunk, encoding, callback) {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    parentPort.postMessage({ type: 'output', stream, text });
    const done = typeof encoding === 'function' ? encoding : callback;
    if (typeof done === 'function') process.nextTick(done);
    return true;
  };
}

process.on('uncaughtException', (error) => parentPort.postMessage({ type: 'crash', ...shape(error) }));
process.on('unhandledRejection', (error) => parentPort.postMessage({ type: 'crash', ...shape(error), errorType: 'Runtime.UnhandledPromiseRejection' }));

// The Lambda Node.js runtime provides the AWS SDK v3, so bundles leave '@aws-sdk/*' out: a bundle
// in a cdk.out outside the project resolves them from the host's modules, as the runtime would.
registerHooks({
  resolve(specifier, context, nextResolve) {
    try {
      return nextResolve(specifier, context);
    } catch (error) {
      if (!specifier.startsWith('@aws-sdk/') || !['ERR_MODULE_NOT_FOUND', 'MODULE_NOT_FOUND'].includes(String(error && error.code))) throw error;
      if (context.conditions.includes('require')) return { url: pathToFileURL(createRequire(providerUrl).resolve(specifier)).href, shortCircuit: true };
      return nextResolve(specifier, { ...context, parentURL: providerUrl });
    }
  },
});

let loaded;
async function load() {
  loaded ??= (async () => {
    const exports = handlerFile.endsWith('.mjs') ? await import(pathToFileURL(handlerFile).href) : createRequire(handlerFile)(handlerFile);
    const handler = exports[handlerExport];
    if (typeof handler !== 'function') {
      throw Object.assign(new Error(handlerFile + ' does not export a function "' + handlerExport + '"'), { name: 'Runtime.HandlerNotFound' });
    }
    return handler;
  })();
  return loaded;
}

parentPort.on('message', async ({ requestId, event, context, timeoutMs }) => {
  const cold = loaded === undefined;
  let handler;
  try {
    handler = await load();
  } catch (error) {
    // A sandbox whose init failed is not reused: the next invocation starts a fresh one.
    parentPort.postMessage({ type: 'result', requestId, ok: false, ...shape(error), reinit: true });
    return;
  }
  // As on Lambda, the init (loading the module) does not count towards the function's timeout.
  if (cold) parentPort.postMessage({ type: 'start', requestId });
  const deadline = Date.now() + timeoutMs;
  try {
    const lambdaContext = { ...context, callbackWaitsForEmptyEventLoop: true, getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()) };
    const result = await handler(JSON.parse(event), lambdaContext);
    parentPort.postMessage({ type: 'result', requestId, ok: true, payload: JSON.stringify(result === undefined ? null : result) ?? 'null' });
  } catch (error) {
    parentPort.postMessage({ type: 'result', requestId, ok: false, ...shape(error) });
  }
});
`;
