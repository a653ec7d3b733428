import type {
  BackfillOnlyView,
  BackfillView,
  ChangeEvent,
  LaunchView,
  OverviewView,
  PartitionDetail,
  PartitionGridView,
  PipelineView,
  RerunSelectionView,
  RerunView,
  RunDetail,
  ScheduleStateView,
} from './views';

/** A backfill the console starts: the range selected in the grid and the dialog's choices. */
export interface BackfillAction {
  /** Keys of the time dimension. @default - as `sluice backfill` without `--from`/`--to` */
  readonly from?: string;
  readonly to?: string;
  /** @default 'missing,failed' */
  readonly only?: BackfillOnlyView;
  /** @default 1 */
  readonly concurrency?: number;
  /** Confirms a range above the size that needs `--yes` on the command line. @default false */
  readonly yes?: boolean;
}

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
  /**
   * Runs one partition now through the pipeline's launcher, as `sluice run` does; `params` as
   * `--param name=value` gives them (text, read as the declared types). @default params - the defaults
   */
  launch(name: string, partition: string, params?: Readonly<Record<string, unknown>>): Promise<LaunchView>;
  /** Starts a rerun of an ended run, as `sluice rerun` does, without waiting for it. */
  rerun(name: string, runId: string, selection: RerunSelectionView): Promise<RerunView>;
  /** Starts a backfill, as `sluice backfill` does, without waiting for it. */
  startBackfill(name: string, action: BackfillAction): Promise<BackfillView>;
  /** One backfill with its progress. */
  backfill(name: string, backfillId: string): Promise<BackfillView>;
  /** Backfills of every pipeline (or of one), newest first. */
  backfills(name?: string): Promise<BackfillView[]>;
  /** Cancels a backfill, as `sluice backfills --cancel [--stop]` does. */
  cancelBackfill(name: string, backfillId: string, mode: 'finish' | 'stop'): Promise<BackfillView>;
  /** Pauses or resumes a pipeline's schedule, as `sluice pause` / `sluice resume` do. */
  setSchedule(name: string, state: ScheduleStateView): Promise<void>;
  /** Calls `listener` whenever what a page shows may have changed; returns the unsubscribe. */
  watch(listener: (event: ChangeEvent) => void): () => void;
}
