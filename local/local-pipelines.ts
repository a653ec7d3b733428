/** The pipelines of the local stage, found in the assembly by the metadata the constructs tag them with. */
import { LAUNCHER_ENV, type LauncherConfig } from '../lib/compile/contract';
import { formatIssue } from '../lib/compile/errors';
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
  /** Its run monitor: every run's end reaches it. */
  readonly monitor?: LocalFunction;
  /** The pipeline's backfill state machine. */
  readonly backfill?: LocalStateMachine;
  /** The function of the backfill's steps (plan, claim, end). */
  readonly backfillFunction?: LocalFunction;
}

/** What a command is about to run of a pipeline: a run through its launcher, or a backfill. */
export interface WarmUp {
  readonly pipeline: string;
  readonly start: 'launcher' | 'backfill';
}

/**
 * Pairs each pipeline's state machine (tagged by the constructs) with its launcher function, and
 * reads its configuration from the launcher's environment, as the build holds it: the build was
 * checked when it was made ({@link checkPipelines}), and a build never changes after.
 */
export function pipelinesOf(stage: LocalStage): Map<string, LocalPipeline> {
  const pipelines = new Map<string, LocalPipeline>();
  for (const { name, stateMachine, launcher } of launchersOf(stage)) {
    const config = JSON.parse(launcher.environment[LAUNCHER_ENV.pipeline] ?? 'null') as LauncherConfig;
    const backfill = stage.stateMachines.find((s) => pipelineOf(s, 'sluice:backfill') === name);
    const backfillFunction = backfill && backfillFunctionOf(stage, backfill);
    const monitor = stage.functions.find((f) => f.environment[LAUNCHER_ENV.rerunStateMachineArn] === stateMachine.arn);
    pipelines.set(name, {
      name,
      stateMachine,
      launcher,
      config,
      tableName: launcher.environment[LAUNCHER_ENV.tableName] ?? '',
      taskFunctions: taskFunctionsOf(stage, stateMachine, config),
      ...(monitor && { monitor }),
      ...(backfill && { backfill }),
      ...(backfillFunction && { backfillFunction }),
    });
  }
  return pipelines;
}

/**
 * Checks what {@link pipelinesOf} reads of a new build as each launcher checks its environment at
 * its init (the configuration's shape, the table's name), so that a build the local runtime
 * loads holds nothing else. Loads zod: a synth does, a warm start does not.
 * @throws EnvironmentError naming the variable and its problem
 */
export async function checkPipelines(stage: LocalStage): Promise<void> {
  const { readLauncherEnvironment } = await import('../orchestration/environment');
  for (const { launcher } of launchersOf(stage)) readLauncherEnvironment(launcher.environment);
}

/** Each pipeline's state machine with its launcher, the function whose environment names that state machine. */
function launchersOf(stage: LocalStage): { name: string; stateMachine: LocalStateMachine; launcher: LocalFunction }[] {
  return stage.stateMachines.flatMap((stateMachine) => {
    const name = pipelineOf(stateMachine, 'sluice:pipeline');
    if (!name) return [];
    const launcher = launcherOf(stage, stateMachine);
    if (!launcher) throw new Error(`Pipeline "${name}" has no launcher function in the local stage`);
    return [{ name, stateMachine, launcher }];
  });
}

/** The pipeline a state machine belongs to, by the metadata the constructs tag it with. */
function pipelineOf(stateMachine: LocalStateMachine, kind: 'sluice:pipeline' | 'sluice:backfill'): string | undefined {
  return (stateMachine.metadata[kind] as { pipeline?: string } | undefined)?.pipeline;
}

function launcherOf(stage: LocalStage, stateMachine: LocalStateMachine): LocalFunction | undefined {
  return stage.functions.find((f) => f.environment[LAUNCHER_ENV.stateMachineArn] === stateMachine.arn);
}

/** The function of a backfill's steps: the one its state machine invokes. */
function backfillFunctionOf(stage: LocalStage, backfill: LocalStateMachine): LocalFunction | undefined {
  return invokedFunctions(backfill.definition).map((arn) => stage.findFunction(arn))[0];
}

/**
 * The functions a command about to start this will call, in the order it calls them: the first
 * step, the tasks (the first ones first), and the run monitor, which every run's end reaches.
 */
export function functionsToWarm(pipeline: LocalPipeline, start: WarmUp['start']): string[] {
  const first = start === 'launcher' ? pipeline.launcher : pipeline.backfillFunction;
  return [first, ...pipeline.taskFunctions.values(), pipeline.monitor].flatMap((fn) => (fn ? [fn.arn] : []));
}

/**
 * The functions a definition's Task states invoke (by `lambda:invoke` or by the function's ARN as
 * the resource), its branches' and maps' included.
 */
function invokedFunctions(definition: Record<string, unknown>): string[] {
  const states = Object.values((definition.States ?? {}) as Record<string, Record<string, unknown>>);
  const invoked = (state: Record<string, unknown>): string[] => {
    if (state.Resource === 'arn:aws:states:::lambda:invoke') return [String((state.Parameters as { FunctionName?: unknown } | undefined)?.FunctionName)];
    return typeof state.Resource === 'string' && state.Resource.startsWith('arn:aws:lambda:') ? [state.Resource] : [];
  };
  return states.flatMap((state) => [
    ...invoked(state),
    ...[...((state.Branches as Record<string, unknown>[] | undefined) ?? []), state.ItemProcessor, state.Iterator].flatMap((inner) =>
      inner ? invokedFunctions(inner as Record<string, unknown>) : [],
    ),
  ]);
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

/** The functions of a pipeline's tasks (named by the state machine's metadata), ordered by depth in the DAG: the longest chain of tasks before each. */
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
