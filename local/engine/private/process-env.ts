import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Per-invocation `process.env` for in-process stand-in handlers (`replaceHandler`; bundles run in
 * sandboxes with an environment of their own).
 *
 * Stand-ins of concurrent Parallel branches or Map iterations run in one Node process, and each
 * must see its own function's environment, as on Lambda. `process.env` is replaced once by a proxy
 * that reads and writes the environment of the invocation in whose async context the code runs
 * (AsyncLocalStorage), and the host's own environment everywhere else. Code a handler starts
 * (timers, promises, SDK calls) stays in its invocation's context.
 */
const storage = new AsyncLocalStorage<Record<string, string>>();
let installed = false;

function install(): void {
  if (installed) return;
  installed = true;
  const host = process.env;
  const target = () => storage.getStore() ?? host;
  process.env = new Proxy(host, {
    get: (_, key) => (typeof key === 'string' ? target()[key] : undefined),
    set: (_, key, value) => {
      if (typeof key === 'string') target()[key] = String(value);
      return true;
    },
    has: (_, key) => typeof key === 'string' && key in target(),
    deleteProperty: (_, key) => {
      if (typeof key === 'string') delete target()[key];
      return true;
    },
    ownKeys: () => Reflect.ownKeys(target()),
    getOwnPropertyDescriptor: (_, key) => {
      const env = target();
      if (typeof key !== 'string' || !Object.hasOwn(env, key)) return undefined;
      return { value: env[key], writable: true, enumerable: true, configurable: true };
    },
  });
}

/**
 * Runs `fn` with `environment` as its `process.env` (mutations by the code stay in `environment`,
 * so they persist across invocations of one function, as in a warm container).
 */
export function withEnvironment<T>(environment: Record<string, string>, fn: () => T): T {
  install();
  return storage.run(environment, fn);
}
