import type { WarmUp } from '../local-pipelines';
import type { StageOperations } from '../operations/operations';
import { type CliContext, runtimeProps, startNotices, withRuntime } from './context';

/** How a command uses the local stage. */
export interface LocalUse {
  /**
   * `false`: the command needs only the files of `SLUICE_HOME` (`sluice logs`); `'read'`: it only
   * reads pipelines and partitions (`sluice status`), so the stage is read without being started,
   * unless a start has something to repair first. @default true - the runtime is started
   */
  readonly runtime?: boolean | 'read';
  /** The pipelines the command runs: their sandboxes load while the runtime starts. @default - none */
  readonly warm?: readonly WarmUp[];
}

/**
 * Runs `use` with the operations of the stage a command targets: a deployed stage through the
 * AWS SDK with `--stage NAME`, else the local runtime (started for the command and stopped after
 * it), or less of it (see {@link LocalUse}).
 */
export async function withOperations<T>(context: CliContext, use: (operations: StageOperations) => Promise<T>, options: LocalUse = {}): Promise<T> {
  if (context.stage !== undefined) {
    const { resolveDeployedStage } = await import('../operations/deployed-stage');
    const { DeployedOperations } = await import('../operations/deployed-operations');
    return use(await DeployedOperations.open(await resolveDeployedStage(context.projectDir, context.stage)));
  }
  const { LocalOperations } = await import('../operations/local-operations');
  if (options.runtime === false) return use(new LocalOperations(context.home));
  if (options.runtime === 'read') {
    const { LocalStageView } = await import('../stage-view');
    const notices = startNotices(context);
    const view = await LocalStageView.open(runtimeProps(context), notices.synth);
    if (view) {
      notices.attached(view.attachedTo);
      try {
        return await use(new LocalOperations(context.home, undefined, view));
      } finally {
        await view.close();
      }
    }
  }
  return withRuntime(context, (runtime) => use(new LocalOperations(context.home, runtime)), { warm: options.warm });
}
