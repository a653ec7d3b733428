/**
 * The wrapper every task function runs its handler in (its bundle's entry, generated at synth:
 * see `taskEntry`), and the two lines it logs per invocation (`invocation-line.ts` reads them back).
 *
 * On AWS each task function logs in Lambda's JSON format: every line a handler prints with
 * `console` carries the invocation's `requestId`, but nothing says which run, task or try the
 * invocation was. The wrapper says it once per invocation, in a start line (Powertools Logger)
 * with `pipeline`, `partition`, `runId`, `task`, `attempt` (the task's try in the run, from 1) and
 * `requestId`, and an end line with the outcome and duration; `sluice logs --stage` finds an
 * attempt's request ids from the start lines, then every line of those requests. The local
 * runtime runs the same bundle, so the same lines are in its task logs.
 *
 * Imported by generated Lambda entries: it must never import aws-cdk-lib.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { INVOCATION_LINE, type TaskInvocation } from './invocation-line';

export { INVOCATION_LINE, invocationLine, type TaskInvocation } from './invocation-line';

/** The part of a Lambda context the wrapper reads. */
interface InvocationContext {
  readonly awsRequestId: string;
}

/** A task handler: `(event: TaskEvent, context) => result`. */
type Handler = (event: never, context: never) => unknown;

/** Runs a task's handler, logging the start and end line of each invocation around it. */
export function withInvocationLog(handler: Handler): (event: unknown, context: InvocationContext) => Promise<unknown> {
  const call = handler as unknown as (event: unknown, context: unknown) => unknown;
  // One logger per function instance; its level is fixed so that a task's own log-level
  // settings (POWERTOOLS_LOG_LEVEL) cannot hide these lines.
  const logger = new Logger({ serviceName: 'sluice', logLevel: 'INFO' });
  return async (event, context) => {
    const invocation = invocationOf(event, context);
    if (!invocation) return call(event, context);
    const started = Date.now();
    logger.info('task attempt started', { sluice: INVOCATION_LINE.start, ...invocation });
    try {
      const result = await call(event, context);
      logger.info('task attempt succeeded', { sluice: INVOCATION_LINE.end, ...invocation, durationMs: Date.now() - started });
      return result;
    } catch (error) {
      logger.error('task attempt failed', { sluice: INVOCATION_LINE.end, ...invocation, durationMs: Date.now() - started, error: error as Error });
      throw error;
    }
  };
}

/** The invocation a task event names, or `undefined` for an event that is not a sluice task's. */
function invocationOf(event: unknown, context: InvocationContext | undefined): TaskInvocation | undefined {
  const e = (event ?? {}) as Record<string, unknown>;
  const { pipeline, partition, runId, task, retryCount } = e;
  if (typeof pipeline !== 'string' || typeof partition !== 'string' || typeof runId !== 'string' || typeof task !== 'string') return undefined;
  return { pipeline, partition, runId, task, attempt: (typeof retryCount === 'number' ? retryCount : 0) + 1, requestId: context?.awsRequestId ?? '' };
}
