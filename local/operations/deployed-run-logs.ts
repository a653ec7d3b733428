import { type CloudWatchLogsClient, type FilteredLogEvent, type FilterLogEventsCommandInput, paginateFilterLogEvents } from '@aws-sdk/client-cloudwatch-logs';
import { invocationLine, type TaskInvocation } from '../../orchestration/invocation-line';
import { requestIdOf, taskLogEntryOf } from '../task-log-lines';
import type { TaskLogEntry } from '../task-logs';

/** Request ids per FilterLogEvents pattern, within its limit of 1,024 characters. */
const REQUESTS_PER_FILTER = 8;

/** The lines of one deployed run to look for. */
export interface RunLogQuery {
  /** The log groups of the tasks whose lines are wanted. */
  readonly logGroupNames: readonly string[];
  readonly runId: string;
  /** Only the lines of this attempt of each task. @default - every attempt's */
  readonly attempt?: number;
  /** Epoch milliseconds before which the run logged nothing. */
  readonly since: number;
}

/**
 * What the task invocations of a deployed run printed, from their CloudWatch log groups, in time
 * order (stable for lines of the same instant), as `sluice logs` prints a local run's.
 */
export async function deployedRunLogs(client: CloudWatchLogsClient, query: RunLogQuery): Promise<TaskLogEntry[]> {
  const { runId, since } = query;
  const entries: TaskLogEntry[] = [];
  for (const logGroupName of query.logGroupNames) {
    // The wrapper's start line of each invocation names its run, task and attempt (see
    // orchestration/task-invocation.ts)...
    const attempt = query.attempt === undefined ? '' : ` && $.attempt = ${query.attempt}`;
    const starts = new Map<string, { invocation: TaskInvocation; stream: string; time: number }>();
    for (const event of await filterLogEvents(client, { logGroupName, startTime: since, filterPattern: `{ $.sluice = "start" && $.runId = ${JSON.stringify(runId)}${attempt} }` })) {
      const line = invocationLine(event.message ?? '');
      if (line) starts.set(line.requestId, { invocation: line, stream: String(event.logStreamName), time: event.timestamp ?? since });
    }
    // ...and every line of those invocations carries its request id (Lambda's JSON log format).
    for (let i = 0; i < starts.size; i += REQUESTS_PER_FILTER) {
      const batch = [...starts.values()].slice(i, i + REQUESTS_PER_FILTER);
      const ids = batch.map(({ invocation }) => JSON.stringify(invocation.requestId));
      const events = await filterLogEvents(client, {
        logGroupName,
        logStreamNames: [...new Set(batch.map((b) => b.stream))],
        startTime: Math.min(...batch.map((b) => b.time)),
        filterPattern: `{ ${ids.map((id) => `$.requestId = ${id} || $.function_request_id = ${id}`).join(' || ')} }`,
      });
      for (const event of events) {
        const start = starts.get(requestIdOf(event.message ?? '') ?? '');
        if (start && !invocationLine(event.message ?? '')) entries.push(taskLogEntryOf(event.message ?? '', event.timestamp ?? start.time, start.invocation));
      }
    }
  }
  return entries
    .map((entry, index) => ({ entry, index }))
    .sort((a, b) => a.entry.time.localeCompare(b.entry.time) || a.index - b.index)
    .map((o) => o.entry);
}

async function filterLogEvents(client: CloudWatchLogsClient, input: FilterLogEventsCommandInput): Promise<FilteredLogEvent[]> {
  const events: FilteredLogEvent[] = [];
  for await (const page of paginateFilterLogEvents({ client }, input)) events.push(...(page.events ?? []));
  return events;
}
