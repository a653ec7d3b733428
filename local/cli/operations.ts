import type { StageOperations } from '../operations/operations';
import { type CliContext, withRuntime } from './context';

/**
 * Runs `use` with the operations of the stage a command targets: a deployed stage through the
 * AWS SDK with `--stage NAME`, else the local runtime (started for the command and stopped after
 * it; `runtime: false` when the command needs only the files of `SLUICE_HOME`; `warm`: the
 * pipelines the command runs, whose sandboxes then load while the runtime starts).
 */
export async function withOperations<T>(
  context: CliContext,
  use: (operations: StageOperations) => Promise<T>,
  options: { runtime?: boolean; warm?: readonly string[] } = {},
): Promise<T> {
  if (context.stage !== undefined) {
    const { resolveDeployedStage } = await import('../operations/deployed-stage');
    const { DeployedOperations } = await import('../operations/deployed-operations');
    return use(await DeployedOperations.open(await resolveDeployedStage(context.projectDir, context.stage)));
  }
  const { LocalOperations } = await import('../operations/local-operations');
  if (options.runtime === false) return use(new LocalOperations(context.home));
  return withRuntime(context, (runtime) => use(new LocalOperations(context.home, runtime)), { warm: options.warm });
}
