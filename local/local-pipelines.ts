/** The pipelines of the local stage, found in the assembly by the metadata the constructs tag them with. */
import { LAUNCHER_ENV, type LauncherConfig } from '../lib/compile/contract';
import { formatIssue } from '../lib/compile/errors';
import { readLauncherEnvironment } from '../orchestration/environment';
import type { LocalFunction, LocalStage, LocalStateMachine } from './engine';
import { BrokenPipelineError, UnknownPipelineError } from './stage-errors';
import type { SynthLocalResult } from './synth';

/** A pipeline as deployed in the local stage. */
export interface LocalPipeline {
  readonly name: string;
  readonly stateMachine: LocalStateMachine;
  /** The launcher function: every run starts through it. */
  readonly launcher: LocalFunction;
  readonly config: LauncherConfig;
  readonly tableName: string;
  /** The functions of its tasks, by task name, in the order a run can reach them (a task after those it runs after). */
  readonly taskFunctions: ReadonlyMap<string, LocalFunction>;
  /** The pipeline's backfill state machine. */
  readonly backfill?: LocalStateMachine;
}

/** Pairs each pipeline's state machine (tagged by the constructs) with its launcher function. */
export function pipelinesOf(stage: LocalStage): Map<string, LocalPipeline> {
  const pipelines = new Map<string, LocalPipeline>();
  for (const stateMachine of stage.stateMachines) {
    const name = (stateMachine.metadata['sluice:pipeline'] as { pipeline?: string } | undefined)?.pipeline;
    if (!name) continue;
    const launcher = stage.functions.find((f) => f.environment[LAUNCHER_ENV.stateMachineArn] === stateMachine.arn);
    if (!launcher) throw new Error(`Pipeline "${name}" has no launcher function in the local stage`);
    const environment = readLauncherEnvironment(launcher.environment);
    const backfill = stage.stateMachines.find((s) => (s.metadata['sluice:backfill'] as { pipeline?: string } | undefined)?.pipeline === name);
    const taskFunctions = taskFunctionsOf(stage, stateMachine, environment.config);
    pipelines.set(name, { name, stateMachine, launcher, config: environment.config, tableName: environment.tableName, taskFunctions, ...(backfill && { backfill }) });
  }
  return pipelines;
}

/**
 * The pipeline with this name among those of a build.
 * @throws BrokenPipelineError when the build left it out for its problems, UnknownPipelineError when there is none
 */
export function pipelineNamed(pipelines: ReadonlyMap<string, LocalPipeline>, synth: Pick<SynthLocalResult, 'skipped'>, name: string): LocalPipeline {
  const found = pipelines.get(name);
  const problems = synth.skipped.filter((issue) => issue.pipeline === name).map(formatIssue);
  if (!found && problems.length > 0) throw new BrokenPipelineError(name, problems);
  if (!found) throw new UnknownPipelineError(name, [...pipelines.keys()]);
  return found;
}

/** The ARNs of a pipeline's task functions, those a run reaches first first. */
export function taskFunctionArns(pipeline: LocalPipeline): string[] {
  return [...pipeline.taskFunctions.values()].map((fn) => fn.arn);
}

/** The functions of a pipeline's tasks (named by the state machine's metadata), ordered by how many tasks come before each. */
function taskFunctionsOf(stage: LocalStage, stateMachine: LocalStateMachine, config: LauncherConfig): Map<string, LocalFunction> {
  const logicalIds = (stateMachine.metadata['sluice:pipeline'] as { tasks?: Record<string, string> } | undefined)?.tasks ?? {};
  const after = new Map(config.tasks.map((task) => [task.name, task.after]));
  const depths = new Map<string, number>();
  // The tasks form a DAG (the compiler refuses cycles).
  const depth = (task: string): number => {
    let value = depths.get(task);
    if (value === undefined) {
      value = Math.max(-1, ...(after.get(task) ?? []).map(depth)) + 1;
      depths.set(task, value);
    }
    return value;
  };
  const functions = new Map<string, LocalFunction>();
  for (const task of Object.keys(logicalIds).sort((a, b) => depth(a) - depth(b))) {
    const fn = stage.functions.find((f) => f.stackName === stateMachine.stackName && f.logicalId === logicalIds[task]);
    if (fn) functions.set(task, fn);
  }
  return functions;
}
