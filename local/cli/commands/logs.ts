import { findExecutionRecord } from '../../engine/records';
import { type TaskLogEntry, type TaskLogFilter, TaskLogs } from '../../task-logs';
import type { CliContext } from '../context';
import { EXIT, UsageError } from '../errors';

/** Options of `sluice logs`. */
export interface LogsOptions {
  /** @default - every task */
  readonly task?: string;
  /** @default - every attempt */
  readonly attempt?: number;
  /** Keep printing new lines until the run ends. @default false */
  readonly follow?: boolean;
}

/** How often `--follow` looks for new lines. */
const FOLLOW_INTERVAL_MS = 200;

/**
 * `sluice logs`: what the task attempts of a run printed, each line with its task and attempt
 * (`--json`: the stored JSON lines, with pipeline, partition, run id and request id). Reads
 * `SLUICE_HOME` only: it starts no runtime.
 */
export async function logs(context: CliContext, runId: string, options: LogsOptions): Promise<number> {
  const { io } = context;
  const store = new TaskLogs(context.home);
  let record = findExecutionRecord(context.home, runId);
  if (!record) throw new UsageError(`Unknown run "${runId}" in ${context.home}. Fix: copy a run id from \`sluice runs <pipeline>\``);
  if (options.task !== undefined && !record.attempts.some((a) => a.state === options.task) && record.status !== 'RUNNING') {
    // Task names have no spaces; the states around them ("Mark running", "Record load") do.
    const ran = [...new Set(record.attempts.map((a) => a.state).filter((state) => !state.includes(' ')))];
    throw new UsageError(`Task "${options.task}" did not run in run ${runId} (tasks that ran: ${ran.join(', ') || 'none'})`);
  }
  const filter: TaskLogFilter = { task: options.task, attempt: options.attempt };
  const print = (entries: readonly TaskLogEntry[]) => {
    for (const entry of entries) io.out(context.json ? `${JSON.stringify(entry)}\n` : `${line(entry)}\n`);
  };

  let { entries, next } = store.read(runId, filter);
  print(entries);
  while (options.follow && record?.status === 'RUNNING') {
    await new Promise((resolve) => setTimeout(resolve, FOLLOW_INTERVAL_MS));
    record = findExecutionRecord(context.home, runId);
    ({ entries, next } = store.read(runId, filter, next));
    print(entries);
  }
  if (!context.json && next === 0) io.err(`Run ${runId} has no task output yet\n`);
  return EXIT.ok;
}

/** `2024-03-01T06:00:05.123Z  load #2  stderr  <message>` */
function line(entry: TaskLogEntry): string {
  return `${entry.time}  ${entry.task} #${entry.attempt}  ${entry.stream}  ${entry.message}`;
}
