import type { TaskLogEntry, TaskLogFilter } from '../../task-logs';
import type { CliContext } from '../context';
import { EXIT } from '../errors';
import { withOperations } from '../operations';

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
 * (`--json`: the stored JSON lines, with pipeline, partition, run id and request id). Locally it
 * reads `SLUICE_HOME` only (it starts no runtime); with `--stage`, CloudWatch Logs.
 */
export async function logs(context: CliContext, runId: string, options: LogsOptions): Promise<number> {
  const { io } = context;
  const filter: TaskLogFilter = { task: options.task, attempt: options.attempt };
  const print = (entries: readonly TaskLogEntry[]) => {
    for (const entry of entries) io.out(context.json ? `${JSON.stringify(entry)}\n` : `${line(entry)}\n`);
  };
  return withOperations(
    context,
    async (operations) => {
      let { entries, next, running } = await operations.logs(runId, filter);
      print(entries);
      while (options.follow && running) {
        await new Promise((resolve) => setTimeout(resolve, FOLLOW_INTERVAL_MS));
        ({ entries, next, running } = await operations.logs(runId, filter, next));
        print(entries);
      }
      if (!context.json && next === 0) io.err(`Run ${runId} has no task output yet\n`);
      return EXIT.ok;
    },
    { runtime: false },
  );
}

/** `2024-03-01T06:00:05.123Z  load #2  stderr  <message>` */
function line(entry: TaskLogEntry): string {
  return `${entry.time}  ${entry.task} #${entry.attempt}  ${entry.stream}  ${entry.message}`;
}
