/**
 * The ASL interpreter (aws-local-stepfunctions), loaded on first use rather than with the engine.
 * It and its schema validator take about 60 ms to load: a warm `sluice run` spent them before it
 * started the launcher's sandbox. The engine starts loading it ({@link loadInterpreter}) when a
 * function is first invoked, and the first execution waits for it, by then loaded: the load fills
 * the time the command waits for the launcher's sandbox instead.
 */
import type * as AslInterpreter from 'aws-local-stepfunctions';

export type Interpreter = typeof AslInterpreter;

let loading: Promise<Interpreter> | undefined;
let loaded: Interpreter | undefined;

/** The interpreter's module, loaded once per process. */
export function loadInterpreter(): Promise<Interpreter> {
  return (loading ??= import('aws-local-stepfunctions').then((module) => (loaded = module)));
}

/**
 * The interpreter's module, for code that runs only once a machine was made from it (and so after
 * {@link loadInterpreter} resolved): its error classes, when an execution ends.
 */
export function loadedInterpreter(): Interpreter {
  if (!loaded) throw new Error('The ASL interpreter was used before it was loaded: await loadInterpreter() first');
  return loaded;
}
