import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { TaskEvent } from '../lib/compile/contract';
import { findProjectDir } from '../lib/loader/project-config';
import { LocalRuntime } from './runtime';

/** Options of {@link runPipeline}. */
export interface RunPipelineOptions {
  /** @default - the last complete time partition (`default` for an unpartitioned pipeline) */
  readonly partition?: string;
  /** Run parameters by name; the others take their defaults. @default {} */
  readonly params?: Readonly<Record<string, unknown>>;
  /** Where the pipelines are. @default - `$SLUICE_PIPELINES`, else `pipelines/` of the project */
  readonly pipelinesDir?: string;
  /** The project holding `sluice.config.ts`. @default - the nearest one at or above the working folder */
  readonly projectDir?: string;
  /**
   * Local state (synthesized assembly, DynamoDB and S3 data). Reusing one home across tests keeps
   * the synthesized assembly (a second run starts at once) and the partitions' history.
   * @default - `$SLUICE_HOME`, else a new temporary folder
   */
  readonly home?: string;
  /** A fixed wait before every task retry, instead of the retry policy's backoff. @default 0 */
  readonly retryIntervalMs?: number;
  /**
   * Handlers to run instead of some tasks' own, by task name: a stand-in for a task that calls a
   * system the test cannot reach, or one that fails on purpose. They run in the task's function,
   * with its retries, timeout and environment, and receive the same event.
   * @default - every task runs its own handler
   */
  readonly overrides?: Readonly<Record<string, (event: TaskEvent) => unknown>>;
}

/** One task of a run, as {@link runPipeline} reports it. */
export interface TaskOutcome {
  /** `SUCCEEDED` when the task's last attempt returned, `FAILED` when it threw, `NOT_RUN` when it never started. */
  readonly status: 'SUCCEEDED' | 'FAILED' | 'NOT_RUN';
  /** What the handler returned (its last attempt). */
  readonly result?: unknown;
  /** Every try, the first is 1: a task retried twice has 3. */
  readonly attempts: readonly { readonly attempt: number; readonly error?: string; readonly cause?: string }[];
}

/** A finished run of {@link runPipeline}. */
export interface PipelineRunResult {
  readonly pipeline: string;
  readonly partition: string;
  readonly runId: string;
  readonly status: string;
  /** The run's error, when it did not succeed. */
  readonly error?: string;
  readonly cause?: string;
  /** Every task of the pipeline, by name. */
  readonly tasks: Readonly<Record<string, TaskOutcome>>;
}

/**
 * Runs one partition of one pipeline on the embedded local runtime, from any test runner, and
 * returns each task's result and attempts: the same synthesized state machine, bundles, local
 * DynamoDB and S3 as `sluice run`, so what passes here runs the same way deployed.
 *
 * ```ts
 * const run = await runPipeline('example', { partition: '2024-01-01' });
 * expect(run.tasks.load.result).toEqual({ rows: 3 });
 *
 * const failing = await runPipeline('example', { overrides: { load: async () => { throw new Error('down'); } } });
 * expect(failing.tasks.load.attempts).toHaveLength(3);
 * ```
 */
export async function runPipeline(name: string, options: RunPipelineOptions = {}): Promise<PipelineRunResult> {
  const runtime = await runtimeFor(options);
  const overrides = Object.entries(options.overrides ?? {});
  try {
    for (const [task, handler] of overrides) runtime.replaceTaskHandler(name, task, handler);
    const partition = options.partition ?? runtime.defaultPartition(name, new Date());
    const { launch, execution } = await runtime.run(name, partition, options.params ?? {});
    if (launch.kind !== 'started' || !execution) {
      throw new Error(`${name}: partition "${partition}" was not started: ${launch.kind === 'skipped' ? 'it is already running' : 'reason' in launch ? launch.reason : launch.kind}`);
    }
    const pipeline = runtime.pipeline(name);
    const metadata = pipeline.stateMachine.metadata['sluice:pipeline'] as { tasks?: Record<string, string> } | undefined;
    const results = new Map((await (await runtime.runResults(name)).list(execution.name)).map((r) => [r.task, r.value]));
    const tasks: Record<string, TaskOutcome> = {};
    for (const task of Object.keys(metadata?.tasks ?? {})) {
      const attempts = execution.attempts
        .filter((a) => a.state === task)
        .map((a) => ({ attempt: a.attempt, ...(a.error !== undefined && { error: a.error }), ...(a.cause !== undefined && { cause: a.cause }) }));
      const last = attempts.at(-1);
      const status = !last ? 'NOT_RUN' : last.error !== undefined ? 'FAILED' : 'SUCCEEDED';
      tasks[task] = { status, attempts, ...(results.has(task) && { result: results.get(task) }) };
    }
    return {
      pipeline: name,
      partition,
      runId: execution.name,
      status: execution.status,
      ...(execution.error !== undefined && { error: execution.error }),
      ...(execution.cause !== undefined && { cause: execution.cause }),
      tasks,
    };
  } finally {
    for (const [task] of overrides) {
      try {
        runtime.replaceTaskHandler(name, task, undefined);
      } catch {
        // An unknown task was refused above, with its message.
      }
    }
  }
}

/**
 * One runtime per project, pipelines folder and home, kept for the test process: the functions'
 * modules (with the SDK clients they create at load) stay loaded, as in a warm Lambda container,
 * so a second runtime in the same process could not start them afresh.
 */
const runtimes = new Map<string, Promise<LocalRuntime>>();

function runtimeFor(options: RunPipelineOptions): Promise<LocalRuntime> {
  const projectDir = resolve(options.projectDir ?? findProjectDir(process.cwd()) ?? process.cwd());
  const pipelinesDir = resolve(options.pipelinesDir ?? process.env.SLUICE_PIPELINES ?? join(projectDir, 'pipelines'));
  const home = options.home ?? process.env.SLUICE_HOME;
  const key = JSON.stringify([projectDir, pipelinesDir, home ?? null, options.retryIntervalMs ?? 0]);
  let runtime = runtimes.get(key);
  if (!runtime) {
    runtime = LocalRuntime.start({
      projectDir,
      pipelinesDir,
      home: resolve(home ?? mkdtempSync(join(tmpdir(), 'sluice-test-'))),
      retryIntervalMs: options.retryIntervalMs ?? 0,
    });
    runtime.catch(() => runtimes.delete(key));
    runtimes.set(key, runtime);
  }
  return runtime;
}

/** Stops the runtimes {@link runPipeline} started (e.g. in `afterAll`); otherwise they end with the process. */
export async function stopRuntimes(): Promise<void> {
  const started = [...runtimes.values()];
  runtimes.clear();
  await Promise.all(started.map(async (runtime) => (await runtime.catch(() => undefined))?.stop()));
}

// The embedded local runtime itself, for scripts that drive it beyond one run: dropping files into
// its S3, firing schedules, reading partitions (the example project's demo is one).
export { LocalRuntime, type LocalRuntimeProps, type RuntimeNotice } from './runtime';
export { captureFunctionOutput } from './cli/io';
