/**
 * `LocalStageView`: the local stage as its build and its partition tables tell it, without running
 * it (no engine, no stand-in services, no sandboxes): what a command that only reads partitions
 * needs (`sluice status`), in a fraction of a runtime's start.
 */
import { PartitionStore } from '../orchestration/partition-store';
import { hasRunsToRepair } from './abandoned-runs';
import { findLiveDev } from './dev-announcement';
import { loadStage } from './engine/assembly';
import { type LocalPipeline, pipelineNamed, pipelinesOf } from './local-pipelines';
import { type PartitionView, partitionViews } from './operations/partition-views';
import type { LocalRuntimeProps } from './runtime';
import { type SharedServices, useSharedServices } from './services/shared';
import { skippedPipelineWarnings, synthLocalStage, type SynthLocalResult } from './synth';

/**
 * A read-only view of the local stage over the home's shared DynamoDB. Opening it synthesizes if
 * the sources changed, as a runtime's start does; it declines (`undefined`) when a start would
 * first repair something a gone process left (see `hasRunsToRepair`), so that the caller starts
 * the runtime, which repairs it, and reads nothing stale.
 */
export class LocalStageView {
  private constructor(
    readonly synth: SynthLocalResult,
    readonly pipelines: ReadonlyMap<string, LocalPipeline>,
    private readonly shared: SharedServices,
    /** The pid of the `sluice dev` whose DynamoDB and S3 this view reads, if one is live. */
    readonly attachedTo?: number,
  ) {}

  /**
   * Opens the view, or declines. `onSynth` hears of the build before the view is opened or declined
   * (a runtime started next finds it cached).
   */
  static async open(
    props: Pick<LocalRuntimeProps, 'projectDir' | 'pipelinesDir' | 'home' | 'warn'>,
    onSynth: (synth: SynthLocalResult) => void = () => {},
  ): Promise<LocalStageView | undefined> {
    const synth = await synthLocalStage({ projectDir: props.projectDir, pipelinesDir: props.pipelinesDir, home: props.home });
    onSynth(synth);
    const stage = loadStage(synth.buildDir, 'local');
    const pipelines = pipelinesOf(stage);
    const warn = props.warn ?? ((message: string) => process.emitWarning(message));
    const shared = await useSharedServices({ home: props.home });
    if (shared.repaired) warn(shared.repaired);
    try {
      if (await hasRunsToRepair(props.home, stage, pipelines, shared.dynamo)) {
        await shared.release();
        return undefined;
      }
    } catch (error) {
      await shared.release();
      throw error;
    }
    for (const warning of skippedPipelineWarnings(synth)) warn(warning);
    const dev = await findLiveDev(props.home);
    return new LocalStageView(synth, pipelines, shared, dev && dev.pid !== process.pid ? dev.pid : undefined);
  }

  /** The pipeline with this name. */
  pipeline(name: string): LocalPipeline {
    return pipelineNamed(this.pipelines, this.synth, name);
  }

  /** Partition statuses in key order, `MISSING` included, over a key range. */
  partitions(name: string, range: { from?: string; to?: string; now: Date }): Promise<PartitionView[]> {
    const pipeline = this.pipeline(name);
    return partitionViews(pipeline.config, new PartitionStore(this.shared.dynamo.client(), pipeline.tableName), range);
  }

  /** Gives up this process's use of the shared services. */
  close(): Promise<void> {
    return this.shared.release();
  }
}
