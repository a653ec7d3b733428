import type { ExecutionRecord, TaskAttempt } from '../records';
import { PAYLOAD_LIMIT_BYTES, payloadSize } from './task-errors';

/** Step Functions' history limit; the interpreter logs fewer events per state than AWS does. */
const HISTORY_EVENT_LIMIT = 25_000;

/**
 * Follows the interpreter's event log of one execution: records each Task attempt (start, end,
 * error) in `record.attempts`, keeps every event in `events`, and calls `force` when the execution
 * goes past what AWS allows (the history limit, a state's input or output over the payload limit).
 * Resolves when the log ends; attempts the end cut short are then closed as aborted.
 */
export async function followTaskAttempts(
  log: AsyncGenerator<unknown>,
  record: ExecutionRecord,
  events: unknown[],
  force: (error: string, cause: string) => void,
): Promise<void> {
  const open = new Map<string, TaskAttempt>();
  for await (const raw of log) {
    events.push(raw);
    const event = raw as {
      type: string;
      timestamp: number;
      index?: number;
      state?: { name: string; type: string; input?: unknown; output?: unknown };
      Error?: string;
      Cause?: unknown;
    };
    if (events.length > HISTORY_EVENT_LIMIT) {
      force('States.Runtime', `The execution reached the limit of ${HISTORY_EVENT_LIMIT} history events`);
    }
    const state = event.state;
    if (!state) continue;
    const size = payloadSize(event.type === 'StateExited' ? state.output : state.input);
    if (size > PAYLOAD_LIMIT_BYTES) {
      force('States.DataLimitExceeded', `The ${event.type === 'StateExited' ? 'output' : 'input'} of state "${state.name}" is ${size} bytes, over the limit of ${PAYLOAD_LIMIT_BYTES}`);
    }
    if (state.type !== 'Task') continue;
    const key = `${state.name}#${event.index ?? ''}`;
    const at = new Date(event.timestamp).toISOString();
    const begin = (attempt: number) => {
      const entry: TaskAttempt = { state: state.name, attempt, ...(event.index !== undefined && { mapIndex: event.index }), startDate: at };
      record.attempts.push(entry);
      open.set(key, entry);
    };
    switch (event.type) {
      case 'StateEntered':
        begin(1);
        break;
      case 'StateRetried':
        begin((open.get(key)?.attempt ?? 0) + 1);
        break;
      case 'StateExited':
      case 'StateFailed': {
        const entry = open.get(key);
        if (!entry) break;
        entry.endDate = at;
        if (event.type === 'StateFailed') {
          entry.error = event.Error;
          entry.cause = typeof event.Cause === 'string' ? event.Cause : JSON.stringify(event.Cause);
        }
        break;
      }
    }
  }
  // Attempts the execution's end cut short (a stop, a failure in another branch, a forced
  // limit): on AWS their Task is aborted with the execution, so none is left running.
  const ended = new Date().toISOString();
  for (const entry of open.values()) {
    if (entry.endDate !== undefined) continue;
    entry.endDate = ended;
    entry.error = 'States.Aborted';
    entry.cause = 'The execution ended while this attempt was running';
  }
}
