/** The pipelines of the local stage, found in the assembly by the metadata the constructs tag them with. */
import { LAUNCHER_ENV, type LauncherConfig } from '../lib/compile/contract';
import { readLauncherEnvironment } from '../orchestration';
import type { LocalEngine, LocalFunction, LocalStateMachine } from './engine';

/** A pipeline as deployed in the local stage. */
export interface LocalPipeline {
  readonly name: string;
  readonly stateMachine: LocalStateMachine;
  /** The launcher function: every run starts through it. */
  readonly launcher: LocalFunction;
  readonly config: LauncherConfig;
  readonly tableName: string;
  /** The pipeline's backfill state machine. */
  readonly backfill?: LocalStateMachine;
}

/** Pairs each pipeline's state machine (tagged by the constructs) with its launcher function. */
export function pipelinesOf(engine: LocalEngine): Map<string, LocalPipeline> {
  const pipelines = new Map<string, LocalPipeline>();
  for (const stateMachine of engine.stage.stateMachines) {
    const name = (stateMachine.metadata['sluice:pipeline'] as { pipeline?: string } | undefined)?.pipeline;
    if (!name) continue;
    const launcher = engine.stage.functions.find((f) => f.environment[LAUNCHER_ENV.stateMachineArn] === stateMachine.arn);
    if (!launcher) throw new Error(`Pipeline "${name}" has no launcher function in the local stage`);
    const environment = readLauncherEnvironment(launcher.environment);
    const backfill = engine.stage.stateMachines.find((s) => (s.metadata['sluice:backfill'] as { pipeline?: string } | undefined)?.pipeline === name);
    pipelines.set(name, { name, stateMachine, launcher, config: environment.config, tableName: environment.tableName, ...(backfill && { backfill }) });
  }
  return pipelines;
}
