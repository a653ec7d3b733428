import type { ExecutionRecord } from '../../engine';
import type { CliContext } from '../context';
import { withOperations } from '../operations';
import { EXIT } from '../errors';
import { causeMessage, duration, elapsed, errorLine, instant, status, table } from '../format';

/** Options of `sluice runs`. */
export interface RunsOptions {
  /** @default 20 */
  readonly limit?: number;
}

/** `sluice runs`: a pipeline's executions, newest first. */
export async function runs(context: CliContext, name: string, options: RunsOptions): Promise<number> {
  return withOperations(context, async (operations) => {
    const executions = await operations.runs(name, options.limit ?? 20);
    const views = executions.map(runSummary);
    if (context.json) {
      context.io.out(`${JSON.stringify({ pipeline: name, runs: views }, null, 2)}\n`);
      return EXIT.ok;
    }
    if (views.length === 0) {
      context.io.out(`${name} has not run yet\n`);
      return EXIT.ok;
    }
    context.io.out(
      table(
        ['RUN ID', 'PARTITION', 'TRIGGER', 'STATUS', 'STARTED', 'DURATION', 'ERROR'],
        views.map((v) => [
          v.runId,
          v.partition ?? '',
          v.trigger ?? '',
          status(v.status, context.io.color),
          instant(v.startDate),
          duration(v.durationMs),
          v.error ? errorLine(v.error, v.errorMessage) : '',
        ]),
      ),
    );
    return EXIT.ok;
  });
}

/** A run as `sluice runs --json` lists it. */
export function runSummary(execution: ExecutionRecord) {
  const input = JSON.parse(execution.input) as { partition?: string; trigger?: string; params?: Record<string, unknown> };
  return {
    runId: execution.name,
    partition: input.partition,
    trigger: input.trigger,
    params: input.params ?? {},
    status: execution.status,
    startDate: execution.startDate,
    stopDate: execution.stopDate,
    durationMs: elapsed(execution.startDate, execution.stopDate),
    error: execution.error,
    errorMessage: causeMessage(execution.cause),
    executionArn: execution.executionArn,
  };
}
