/**
 * A task attempt's lines as CloudWatch Logs holds them, and back.
 *
 * Task functions log in Lambda's JSON format: a line printed with `console` becomes
 * `{"timestamp","level","requestId","message"}`, and a line that is already a structured logger's
 * JSON (Powertools: it has `level` and `timestamp`) is kept as it is. The local CloudWatch Logs
 * endpoint renders the local task logs that way ({@link cloudWatchMessage}); `sluice logs
 * --stage` reads them back into the entries `sluice logs` prints ({@link taskLogEntryOf}), so
 * that both print the same lines.
 *
 * @see https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-advanced.html
 */
import type { TaskInvocation } from '../orchestration/invocation-line';
import type { TaskLogEntry } from './task-logs';

/** The fields of a line Lambda's Node.js runtime writes for a `console` call. */
const LAMBDA_LINE_FIELDS = new Set(['timestamp', 'level', 'requestId', 'message', 'errorType', 'errorMessage', 'stackTrace']);

/** Levels written to stderr (`console.error`, `console.warn`, and the loggers' equivalents). */
const STDERR_LEVELS = new Set(['ERROR', 'WARN', 'FATAL', 'CRITICAL']);

/** The log event message a deployed task function writes for a line its invocation printed. */
export function cloudWatchMessage(entry: TaskLogEntry): string {
  const fields = jsonObject(entry.message);
  if (fields && 'level' in fields && 'timestamp' in fields) return entry.message;
  return JSON.stringify({ timestamp: entry.time, level: entry.stream === 'stderr' ? 'ERROR' : 'INFO', requestId: entry.requestId, message: entry.message });
}

/**
 * The request a logged line belongs to: `requestId` in Lambda's format, `function_request_id` in
 * a Powertools logger's line (when it has the Lambda context).
 */
export function requestIdOf(message: string): string | undefined {
  const fields = jsonObject(message);
  const id = fields?.requestId ?? fields?.function_request_id;
  return typeof id === 'string' ? id : undefined;
}

/** A deployed task function's log event, as the entry `sluice logs` prints, for the invocation it belongs to. */
export function taskLogEntryOf(message: string, timestamp: number, invocation: TaskInvocation): TaskLogEntry {
  const fields = jsonObject(message);
  // A console line shows its message; a structured logger's line (or plain text) shows whole.
  const printed = fields !== undefined && Object.keys(fields).every((key) => LAMBDA_LINE_FIELDS.has(key));
  let text = message;
  if (printed) {
    text = typeof fields.message === 'string' ? fields.message : JSON.stringify(fields.message);
    // An error logged (or thrown by the handler: `Invoke Error`) comes with its type and message.
    if (fields.errorType !== undefined) text += ` ${JSON.stringify({ errorType: fields.errorType, errorMessage: fields.errorMessage })}`;
  }
  const { pipeline, partition, runId, task, attempt, requestId } = invocation;
  return {
    time: new Date(timestamp).toISOString(),
    pipeline,
    partition,
    runId,
    task,
    attempt,
    requestId,
    stream: STDERR_LEVELS.has(String(fields?.level).toUpperCase()) ? 'stderr' : 'stdout',
    message: text,
  };
}

function jsonObject(text: string | undefined): Record<string, unknown> | undefined {
  if (!text?.startsWith('{')) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
