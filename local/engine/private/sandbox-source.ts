/**
 * The program of one Lambda sandbox: a worker thread that loads one function's bundle once and
 * runs its invocations one at a time (see `sandbox.ts`).
 *
 * It is JavaScript in a string, run with `new Worker(source, { eval: true })`, rather than a
 * module file: the package is bundled into chunks (scripts/build.ts) and the sources run through
 * tsx or vitest, so no file path would name this code in every setting, while a string goes
 * wherever this module goes. It must not depend on anything but Node.
 *
 * Messages from the host: `{ type: 'init' }` to load the module before any invocation (a sandbox
 * started ahead of its first invocation), `{ type: 'invoke', requestId, event (JSON), context
 * (the plain fields), timeoutMs }`, and `{ type: 'route', id, route }` answering a
 * `{ type: 'ask', id, endpoint, request }` (below).
 * To the host, in order on one port: `{ type: 'output', stream, text }` for each write to stdout
 * or stderr, `{ type: 'ready', ok }` once an `init` has loaded the module (or failed to), `{ type: 'start', requestId }`
 * when the first invocation of the sandbox finds the module loaded, `{ type: 'result', ok, payload (JSON) | errorType, errorMessage, trace, reinit }` per
 * invocation, and `{ type: 'crash', errorType, errorMessage, trace }` when a callback throws or a
 * promise is left rejected (the host then ends the sandbox, as Lambda restarts its runtime).
 *
 * The SDK calls a function makes to the local IAM gateway's endpoints (`workerData.gateway`) skip
 * its HTTP hop when allowed: the SDK's HTTP handler (`@smithy/node-http-handler`, shared with the
 * host's modules) asks the host, which decides the signed request as the gateway would (sent with
 * the headers each endpoint's `readsHeaders` names, the gateway's `DECISION_HEADERS`), and sends
 * an allowed one straight to the service. A refused one, or one the host cannot decide before it
 * is sent, goes to the gateway as before, which refuses it as AWS does; so does every request a
 * function sends any other way.
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

// Endpoint → whether the host's decision reads the body, and the headers it reads.
const gateway = new Map((workerData.gateway || []).map((endpoint) => [endpoint.url, endpoint]));
const asked = new Map();
let lastAsk = 0;
function ask(endpoint, request) {
  return new Promise((resolve) => {
    const id = ++lastAsk;
    asked.set(id, resolve);
    parentPort.postMessage({ type: 'ask', id, endpoint, request });
  });
}

// Every copy of the SDK's HTTP handler loaded so far gets the shortcut: looked for after the
// module loads and before each invocation (an SDK client may be made in the handler).
const shortcutted = new WeakSet();
let modulesSeen = 0;
function shortcutGateway() {
  if (gateway.size === 0 || Object.keys(require.cache).length === modulesSeen) return;
  const files = Object.keys(require.cache);
  modulesSeen = files.length;
  for (const file of files) {
    if (!/[\/\\]@smithy[\/\\]node-http-handler[\/\\]dist-cjs[\/\\]index\.js$/.test(file)) continue;
    const prototype = require.cache[file].exports && require.cache[file].exports.NodeHttpHandler && require.cache[file].exports.NodeHttpHandler.prototype;
    if (!prototype || shortcutted.has(prototype)) continue;
    shortcutted.add(prototype);
    const handle = prototype.handle;
    prototype.handle = function (request, options) {
      const endpoint = request.protocol + '//' + request.hostname + ':' + request.port;
      if (!gateway.has(endpoint)) return handle.call(this, request, options);
      const headers = {};
      for (const name of Object.keys(request.headers)) headers[name.toLowerCase()] = request.headers[name];
      const query = new URLSearchParams();
      for (const name of Object.keys(request.query || {})) {
        const value = request.query[name];
        for (const one of Array.isArray(value) ? value : [value]) query.append(name, one === null || one === undefined ? '' : one);
      }
      const search = query.toString();
      const path = request.path + (search ? '?' + search : '');
      // The SDK's JSON bodies are strings or byte arrays of text; a stream's is not read here.
      const body = !gateway.get(endpoint).readsBody
        ? undefined
        : typeof request.body === 'string'
          ? request.body
          : request.body instanceof Uint8Array
            ? Buffer.from(request.body.buffer, request.body.byteOffset, request.body.byteLength).toString('utf8')
            : undefined;
      // Exactly the headers the decision reads, as the host lists them: it decides on no others.
      const asked = {};
      for (const name of gateway.get(endpoint).readsHeaders) if (headers[name] !== undefined) asked[name] = headers[name];
      return ask(endpoint, { method: request.method, path, headers: asked, body }).then((route) => {
        if (!route) return handle.call(this, request, options);
        const target = new URL(route.endpoint);
        const direct = Object.assign(Object.create(Object.getPrototypeOf(request)), request);
        direct.hostname = target.hostname;
        direct.port = Number(target.port);
        direct.headers = {};
        for (const name of Object.keys(request.headers)) {
          const lower = name.toLowerCase();
          if (lower === 'host' || (lower === 'authorization' && route.authorization)) continue;
          direct.headers[name] = request.headers[name];
        }
        direct.headers.host = target.host;
        if (route.authorization) direct.headers.authorization = route.authorization;
        return handle.call(this, direct, options);
      });
    };
  }
}

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

// Whether an invocation has found the module loaded: the first one tells the host its clock starts.
let started = false;

parentPort.on('message', async (message) => {
  if (message.type === 'route') {
    const resolve = asked.get(message.id);
    asked.delete(message.id);
    if (resolve) resolve(message.route);
    return;
  }
  if (message.type === 'init') {
    // A failed init is reported to the invocation that finds it (load() keeps the failure).
    load().then(
      () => parentPort.postMessage({ type: 'ready', ok: true }),
      () => parentPort.postMessage({ type: 'ready', ok: false }),
    );
    return;
  }
  const { requestId, event, context, timeoutMs } = message;
  let handler;
  try {
    handler = await load();
  } catch (error) {
    // A sandbox whose init failed is not reused: the next invocation starts a fresh one.
    parentPort.postMessage({ type: 'result', requestId, ok: false, ...shape(error), reinit: true });
    return;
  }
  try {
    shortcutGateway();
  } catch {
    // Without the shortcut its calls take the gateway's hop, as every call once did.
  }
  // As on Lambda, the init (loading the module) does not count towards the function's timeout.
  if (!started) parentPort.postMessage({ type: 'start', requestId });
  started = true;
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
