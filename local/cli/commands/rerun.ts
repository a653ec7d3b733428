import { pipelineOfRunId } from '../../../lib/compile/contract';
import type { RerunSelection } from '../../../orchestration';
import type { CliContext } from '../context';
import { withOperations } from '../operations';
import { EXIT, UsageError } from '../errors';
import { printRun, progressOf, runView } from './run';

/** Options of `sluice rerun`: at most one of them. */
export interface RerunOptions {
  /** Re-run this task and everything downstream of it. */
  readonly fromTask?: string;
  /** Re-run exactly these tasks (comma-separated). */
  readonly tasks?: string;
}

/** The selection the options ask for: from failure by default. */
export function rerunSelection(options: RerunOptions): RerunSelection {
  if (options.fromTask !== undefined && options.tasks !== undefined) {
    throw new UsageError('--from-task and --tasks cannot be combined: choose one');
  }
  if (options.fromTask !== undefined) return { kind: 'from-task', task: options.fromTask };
  if (options.tasks !== undefined) {
    const tasks = options.tasks.split(',').map((t) => t.trim()).filter((t) => t !== '');
    if (tasks.length === 0) throw new UsageError('--tasks needs at least one task name, e.g. --tasks transform,load');
    return { kind: 'tasks', tasks };
  }
  return { kind: 'failed' };
}

/**
 * `sluice rerun`: a new run of an ended run's partition that executes only the selected tasks
 * and reuses the other tasks' recorded results; waits and prints it as `sluice run` does.
 */
export async function rerun(context: CliContext, runId: string, options: RerunOptions): Promise<number> {
  const selection = rerunSelection(options);
  const warmed = pipelineOfRunId(runId);
  return withOperations(context, async (operations) => {
    const pipeline = await operations.pipelineOfRun(runId);
    const { rerun: result, execution } = await operations.rerun(runId, selection, progressOf(context, pipeline));
    const { launch, plan } = result;
    if (launch.kind !== 'started') {
      const reason = launch.kind === 'skipped' ? `it is already running (run ${launch.runId})` : launch.reason;
      if (context.json) {
        context.io.out(`${JSON.stringify({ pipeline: pipeline.name, partition: launch.partition, rerunOf: runId, plan, status: launch.kind.toUpperCase(), reason })}\n`);
      } else {
        context.io.err(`${pipeline.name}: the rerun of ${runId} was not started: partition "${launch.partition}" ${reason}\n`);
      }
      return EXIT.failed;
    }
    if (!execution) throw new Error(`Rerun ${launch.runId} of ${pipeline.name} started, but its execution cannot be found`);
    const view = { ...runView(pipeline, execution, launch.runNumber), rerunOf: runId, plan };
    if (context.json) {
      context.io.out(`${JSON.stringify(view, null, 2)}\n`);
    } else {
      const also = plan.alsoRerun.length > 0 ? ` (with ${plan.alsoRerun.join(', ')}: ${alsoReason(selection)})` : '';
      context.io.out(`Rerun of ${runId}: executes ${plan.rerun.join(', ')}${also}\n`);
      printRun(context, view, operations.build);
    }
    return view.status === 'SUCCEEDED' ? EXIT.ok : EXIT.failed;
  }, { warm: warmed ? [{ pipeline: warmed, start: 'launcher' }] : [] });
}

function alsoReason(selection: RerunSelection): string {
  switch (selection.kind) {
    case 'failed':
    case 'from-task':
      return 'downstream, or no result recorded';
    case 'tasks':
      return 'downstream without a recorded result';
  }
}
