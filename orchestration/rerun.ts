import { DescribeExecutionCommand, type DescribeExecutionCommandOutput } from '@aws-sdk/client-sfn';
import { type LauncherConfig, type ParamValue, pipelineOfRunId } from '../lib/compile/contract';
import { type LaunchDeps, type LaunchResult, launchRun } from './launch';
import type { DescribeExecutionClient } from './reconcile';
import { NothingToRerunError, RunStillRunningError, UnknownRunError, UnknownTaskError } from './rerun-errors';
import type { RunResults } from './run-results';

export { NothingToRerunError, RunStillRunningError, UnknownRunError, UnknownTaskError };

/** Which tasks of a run a rerun executes again; every other task reuses its recorded result. */
export type RerunSelection =
  /** The tasks that did not succeed: those with no recorded result. */
  | { readonly kind: 'failed' }
  /** The task, everything downstream of it, and whatever did not succeed. */
  | { readonly kind: 'from-task'; readonly task: string }
  /** Exactly these tasks, and whatever did not succeed (downstream of them or not). */
  | { readonly kind: 'tasks'; readonly tasks: readonly string[] };

/** What a rerun executes and what it reuses. */
export interface RerunPlan {
  /** Tasks executed again, in the pipeline's topological order. */
  readonly rerun: readonly string[];
  /**
   * Of those, the ones the selection did not name: downstream of a `from-task`, or without a
   * recorded result. Empty for a rerun from failure, which names exactly those without a result.
   */
  readonly alsoRerun: readonly string[];
  /** Tasks not executed, each with the run whose recorded result it takes. */
  readonly reuse: Readonly<Record<string, string>>;
}

/**
 * Plans a rerun of run `runId` of a pipeline (pure). A task with no recorded result in that run
 * (it failed, or never ran) is always executed again: there is nothing to reuse.
 *
 * @param recorded the tasks whose result the run recorded: those that succeeded in it
 * @throws UnknownTaskError, NothingToRerunError
 */
export function planRerun(
  pipeline: Pick<LauncherConfig, 'name' | 'tasks'>,
  runId: string,
  recorded: ReadonlySet<string>,
  selection: RerunSelection,
): RerunPlan {
  const names = pipeline.tasks.map((t) => t.name);
  const known = new Set(names);
  const asked = selection.kind === 'failed' ? [] : selection.kind === 'from-task' ? [selection.task] : [...selection.tasks];
  for (const task of asked) if (!known.has(task)) throw new UnknownTaskError(pipeline.name, task, names);

  const chosen = new Set(asked);
  if (selection.kind === 'from-task') {
    // Tasks are in topological order, so one pass reaches every dependant.
    for (const task of pipeline.tasks) if (task.after.some((dep) => chosen.has(dep))) chosen.add(task.name);
  }
  const rerun = names.filter((name) => chosen.has(name) || !recorded.has(name));
  if (rerun.length === 0) throw new NothingToRerunError(runId);
  return {
    rerun,
    alsoRerun: selection.kind === 'failed' ? [] : rerun.filter((name) => !asked.includes(name)),
    reuse: Object.fromEntries(names.filter((name) => !rerun.includes(name)).map((name) => [name, runId])),
  };
}

/** A rerun request, as the launcher receives it. */
export interface RerunRequest {
  readonly config: LauncherConfig;
  /** The run to rerun: an ended run of this pipeline. */
  readonly runId: string;
  readonly selection: RerunSelection;
}

/** What a rerun launch needs: a launch's, plus reading executions and recorded results. */
export interface RerunDeps extends LaunchDeps {
  readonly sfn: LaunchDeps['sfn'] & DescribeExecutionClient;
  readonly results: Pick<RunResults, 'recordedTasks'>;
}

/** Outcome of {@link launchRerun}: the plan, and the launch of the new run. */
export interface RerunResult {
  readonly rerunOf: string;
  readonly plan: RerunPlan;
  readonly launch: LaunchResult;
}

/**
 * Launches a new run of the partition of an ended run, executing only the tasks the selection
 * and the run's recorded results call for (see {@link planRerun}), with the run's parameters. The
 * new run claims its partition like any other launch: it is `skipped` while another run of
 * the partition is in progress.
 *
 * @throws UnknownRunError, RunStillRunningError, UnknownTaskError, NothingToRerunError
 */
export async function launchRerun(request: RerunRequest, deps: RerunDeps): Promise<RerunResult> {
  const { config, runId } = request;
  if (pipelineOfRunId(runId) !== config.name) throw new UnknownRunError(runId, `it is not a run id of pipeline "${config.name}"`);
  const executionArn = `${deps.stateMachineArn.replace(':stateMachine:', ':execution:')}:${runId}`;
  let execution: DescribeExecutionCommandOutput;
  try {
    execution = await deps.sfn.send(new DescribeExecutionCommand({ executionArn }));
  } catch (error) {
    if (error instanceof Error && error.name === 'ExecutionDoesNotExist') {
      throw new UnknownRunError(runId, `pipeline "${config.name}" has no such execution`);
    }
    throw error;
  }
  if (execution.status === 'RUNNING' || execution.status === 'PENDING_REDRIVE') throw new RunStillRunningError(runId);
  const input = JSON.parse(execution.input ?? '{}') as { partition?: string; params?: Record<string, ParamValue> };
  if (typeof input.partition !== 'string') throw new UnknownRunError(runId, 'its execution was not started by the launcher');

  const plan = planRerun(config, runId, await deps.results.recordedTasks(runId), request.selection);
  const launch = await launchRun(
    { config, partition: input.partition, trigger: 'rerun', params: input.params ?? {}, reuse: plan.reuse },
    deps,
  );
  return { rerunOf: runId, plan, launch };
}
