/**
 * The two lines the task wrapper (`task-invocation.ts`) logs per invocation, as readers find them
 * in a function's log: what names an invocation, and the parser of those lines. Apart from the
 * wrapper, so that what reads task logs (the CLI, the console) does not load Powertools.
 */

/** What names a task invocation: the keys of its start line. */
export interface TaskInvocation {
  readonly pipeline: string;
  readonly partition: string;
  readonly runId: string;
  readonly task: string;
  /** The task's try in the run: 1, then one more per retry (`event.retryCount + 1`). */
  readonly attempt: number;
  /** The invocation's request id, Lambda's `context.awsRequestId`. */
  readonly requestId: string;
}

/** The value of the `sluice` key that marks the wrapper's lines. */
export const INVOCATION_LINE = Object.freeze({ start: 'start', end: 'end' });

/**
 * The invocation a logged line starts or ends, if it is one of the wrapper's lines (its text, as
 * Powertools printed it).
 */
export function invocationLine(text: string): (TaskInvocation & { readonly sluice: string }) | undefined {
  if (!text.startsWith('{') || !text.includes('"sluice"')) return undefined;
  try {
    const line = JSON.parse(text) as Record<string, unknown>;
    if (line.sluice !== INVOCATION_LINE.start && line.sluice !== INVOCATION_LINE.end) return undefined;
    const { pipeline, partition, runId, task, attempt, requestId } = line;
    if (typeof runId !== 'string' || typeof task !== 'string' || typeof attempt !== 'number' || typeof requestId !== 'string') return undefined;
    return { sluice: line.sluice, pipeline: String(pipeline), partition: String(partition), runId, task, attempt, requestId };
  } catch {
    return undefined;
  }
}
