import type { ChangeEvent, LaunchView, OverviewView, PartitionDetail, PartitionGridView, PipelineView, RunDetail } from './views';

/**
 * Where the console's pages get their data and send their actions: the local runtime today
 * (`LocalConsoleSource`); a deployed stage reached through the AWS SDK implements the same.
 * Actions call the operations the CLI calls, never a second implementation of them.
 */
export interface ConsoleSource {
  /** The stage shown, e.g. `local`. */
  readonly stage: string;
  overview(now: Date): Promise<OverviewView>;
  pipeline(name: string, now: Date): Promise<PipelineView>;
  /** Partition statuses over `from`..`to` (keys of the time dimension), by default all of them. */
  partitions(name: string, range: { from?: string; to?: string }, now: Date): Promise<PartitionGridView>;
  partition(name: string, key: string): Promise<PartitionDetail>;
  run(name: string, runId: string): Promise<RunDetail>;
  /** Runs one partition now through the pipeline's launcher, as `sluice run` does. */
  launch(name: string, partition: string): Promise<LaunchView>;
  /** Calls `listener` whenever what a page shows may have changed; returns the unsubscribe. */
  watch(listener: (event: ChangeEvent) => void): () => void;
}
