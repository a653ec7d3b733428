import type { ExecutionRecord, TaskAttempt } from '../../engine';
import type { LocalPipeline } from '../../local-pipelines';
import type { AttemptView, RunDetail } from '../../ui/views';
import type { CliContext } from '../context';
import { withOperations } from '../operations';
import type { PipelineInfo } from '../../operations/operations';
import { parsePartitionKey, partitionStart } from '../../../lib/compile/partition-keys';
import { defaultPartition } from '../../operations/default-partition';
import { EXIT, UsageError } from '../errors';
import { RunProgress } from '../progress';
import { causeMessage, duration, elapsed, errorLine, status, table } from '../format';

/** Options of `sluice run`. */
export interface RunOptions {
  /** @default - the last complete time partition (`default` for an unpartitioned pipeline) */
  readonly partition?: string;
  /** `name=value` pairs: run parameters, validated by the launcher. @default - the defaults */
  readonly param?: readonly string[];
}

/** `--param name=value` options as a map of text values (the launcher reads them as their types). */
export function parseParams(pairs: readonly string[] = []): Record<string, string> {
  const params: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new UsageError(`--param ${JSON.stringify(pair)} is not name=value (e.g. --param limit=100)`);
    params[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return params;
}

/** One try of one task, as `sluice run --json` reports it (and the web console shows it). */
export type { AttemptView };

/** `sluice run`: one run now through the launcher; waits and prints every task attempt. */
export async function run(context: CliContext, name: string, options: RunOptions): Promise<number> {
  const params = parseParams(options.param);
  return withOperations(context, async (operations) => {
    const pipeline = await operations.pipeline(name);
    const now = new Date();
    const partition = options.partition ?? defaultPartition(pipeline, now);
    refuseFuturePartition(pipeline, partition, now);
    // Ctrl+C stops the run as StopExecution would: ABORTED at once, alerted by the run monitor.
    // Before the execution starts there is nothing to stop yet: it is stopped as soon as it runs.
    // (On a deployed stage the run goes on without this process: Ctrl+C only stops following it.)
    const stopStarted = operations.stopStarted?.bind(operations);
    let interrupted = false;
    let ended = false;
    const interrupt = async () => {
      interrupted = true;
      const reason = { error: 'sluice.Interrupted', cause: 'sluice run was interrupted (Ctrl+C)' };
      while (!ended && (await stopStarted!(reason)) === 0) await new Promise((resolve) => setTimeout(resolve, 50));
    };
    const onInterrupt = () => void interrupt();
    if (stopStarted) process.once('SIGINT', onInterrupt);
    let result: Awaited<ReturnType<typeof operations.run>>;
    try {
      result = await operations.run(name, partition, params, progressOf(context, pipeline));
    } finally {
      ended = true;
      process.off('SIGINT', onInterrupt);
    }
    const { launch, execution } = result;
    if (launch.kind !== 'started') {
      const reason = launch.kind === 'skipped' ? `it is already running (run ${launch.runId})` : launch.reason;
      if (context.json) context.io.out(`${JSON.stringify({ pipeline: name, partition, status: launch.kind.toUpperCase(), reason })}\n`);
      else context.io.err(`${name}: partition "${partition}" was not started: ${reason}\n`);
      return EXIT.failed;
    }
    if (!execution) throw new Error(`Run ${launch.runId} of ${name} started, but its execution cannot be found`);
    const view = runView(pipeline, execution, launch.runNumber);
    if (context.json) context.io.out(`${JSON.stringify(view, null, 2)}\n`);
    else printRun(context, view, operations.build);
    if (interrupted && view.status === 'ABORTED') {
      context.io.err(`Interrupted: run ${view.runId} of ${name} (partition ${view.partition}) was stopped and marked ABORTED; its partition is FAILED and an alert was sent\n`);
      return EXIT.interrupted;
    }
    return view.status === 'SUCCEEDED' ? EXIT.ok : EXIT.failed;
  }, { warm: [{ pipeline: name, start: 'launcher' }] });
}

/**
 * On a terminal (and without `--json`), prints each task as it starts, is retried, succeeds or
 * fails, before the summary; elsewhere nothing (`undefined`).
 */
export function progressOf(context: CliContext, pipeline: LocalPipeline | PipelineInfo): ((execution: ExecutionRecord) => void) | undefined {
  if (context.json || !context.io.interactive) return undefined;
  const tasks = taskStates(pipeline);
  const progress = new RunProgress((state) => tasks.has(state));
  return (execution) => {
    for (const line of progress.update(execution.attempts)) context.io.out(`${line}\n`);
  };
}

/** A time partition that has not begun has no data yet: running it is a mistake, not a run. */
function refuseFuturePartition(pipeline: PipelineInfo, partition: string, now: Date): void {
  const spec = pipeline.config.partitions;
  if (!spec || spec.kind === 'static' || spec.kind === 'multi' || !parsePartitionKey(spec, partition).ok) return;
  const start = partitionStart(spec, partition);
  if (start > now) {
    throw new UsageError(
      `partition "${partition}" of pipeline "${pipeline.name}" begins at ${start.toISOString()}, in the future: choose one that has begun (the last complete one is the default)`,
    );
  }
}

/** What `sluice run --json` prints: a run as the web console shows it, less what only it adds. */
export type RunView = Omit<RunDetail, 'trigger' | 'consoleUrl' | 'tasks' | 'logs' | 'results'>;

/** A run with the attempts of the pipeline's tasks (not the states that mark the partition). */
export function runView(pipeline: LocalPipeline | PipelineInfo, execution: ExecutionRecord, runNumber: number): RunView {
  const input = JSON.parse(execution.input) as { partition: string; params?: Record<string, unknown>; reuse?: Record<string, string> };
  const tasks = taskStates(pipeline);
  return {
    pipeline: pipeline.name,
    partition: input.partition,
    runId: execution.name,
    runNumber,
    status: execution.status,
    executionArn: execution.executionArn,
    startDate: execution.startDate,
    stopDate: execution.stopDate,
    durationMs: elapsed(execution.startDate, execution.stopDate),
    error: execution.error,
    errorMessage: causeMessage(execution.cause),
    cause: execution.cause,
    output: execution.output === undefined ? undefined : (JSON.parse(execution.output) as unknown),
    params: input.params ?? {},
    reused: input.reuse ?? {},
    // The states around the tasks (marking the partition) are the platform's, not the user's.
    attempts: execution.attempts.filter((a) => tasks.has(a.state)).map(attemptView),
  };
}

/** Names of the Task states that run the pipeline's tasks, from the state machine's metadata. */
export function taskStates(pipeline: LocalPipeline | PipelineInfo): ReadonlySet<string> {
  if ('tasks' in pipeline) return pipeline.tasks;
  const metadata = pipeline.stateMachine.metadata['sluice:pipeline'] as { tasks?: Record<string, string> } | undefined;
  return new Set(Object.keys(metadata?.tasks ?? {}));
}

function attemptView(attempt: TaskAttempt): AttemptView {
  return {
    task: attempt.state,
    attempt: attempt.attempt,
    ...(attempt.mapIndex !== undefined && { mapIndex: attempt.mapIndex }),
    status: attempt.error !== undefined ? 'FAILED' : attempt.endDate ? 'SUCCEEDED' : 'RUNNING',
    startDate: attempt.startDate,
    endDate: attempt.endDate,
    durationMs: elapsed(attempt.startDate, attempt.endDate),
    error: attempt.error,
    errorMessage: causeMessage(attempt.cause),
  };
}

/**
 * Prints a run: which run of its partition it is, on which local build of the sources (`sluice
 * dev` names its builds alike), its task attempts as a table, then the outcome.
 */
export function printRun(context: CliContext, view: RunView, build?: string): void {
  const { io } = context;
  io.out(`${view.pipeline}  partition ${view.partition}  run ${view.runId} (run ${view.runNumber} of this partition${build ? `, build ${build}` : ''})\n\n`);
  const params = Object.entries(view.params);
  if (params.length > 0) io.out(`Parameters: ${params.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(' ')}\n\n`);
  const reused = Object.entries(view.reused);
  if (reused.length > 0) {
    io.out(`Reused the results of ${reused.map(([task, run]) => `${task} (from ${run})`).join(', ')}\n\n`);
  }
  if (view.attempts.length > 0) {
    io.out(
      table(
        ['TASK', 'ATTEMPT', 'STATUS', 'DURATION', 'ERROR'],
        view.attempts.map((a) => [
          a.mapIndex === undefined ? a.task : `${a.task}[${a.mapIndex}]`,
          `attempt ${a.attempt}`,
          status(a.status, io.color),
          duration(a.durationMs),
          a.error ? errorLine(a.error, a.errorMessage) : '',
        ]),
      ),
    );
    io.out('\n');
  }
  io.out(`${status(view.status, io.color)} in ${duration(view.durationMs)}  (${view.pipeline}, partition ${view.partition}, run ${view.runId})\n`);
  if (view.status !== 'SUCCEEDED') io.out(`Error: ${errorLine(view.error, view.errorMessage)}\n`);
}
