import type { ResolvedBackfillRequest } from '../../lib/compile/backfill';
// The orchestration and task-log modules these commands need are loaded when used: `sluice status`
// loads this file too, and its start is what it costs.
import type { RerunSelection, ScheduleState } from '../../orchestration';
import { backfillProblems, backfillProgress, type CancelMode, cancelBackfill, listBackfills, startBackfill, type StartedBackfill } from '../backfills';
import { findExecutionRecord } from '../engine/records';
import type { LocalPipeline } from '../local-pipelines';
import type { LocalRuntime } from '../runtime';
import type { LocalStageView } from '../stage-view';
import type { TaskLogFilter } from '../task-logs';
import { UsageError } from '../cli/errors';
import type { PipelineInfo, RunLogs, RunWatcher, StageOperations } from './operations';

/**
 * The operations on the local stage: the calls of {@link LocalRuntime} the CLI makes. Logs are
 * read from `home` without the runtime (`runtime` absent), as `sluice logs` needs no services;
 * pipelines and partitions from a {@link LocalStageView} when the command only reads them.
 */
export class LocalOperations implements StageOperations {
  readonly where = 'the local stage';

  constructor(
    private readonly home: string,
    private readonly started?: LocalRuntime,
    private readonly view?: LocalStageView,
  ) {}

  get build(): string | undefined {
    return (this.started ?? this.view)?.synth.build;
  }

  private get runtime(): LocalRuntime {
    if (!this.started) throw new Error('LocalOperations: this operation needs the local runtime started');
    return this.started;
  }

  /** What reads the stage's pipelines and partitions: the runtime, or the view. */
  private get stage(): LocalRuntime | LocalStageView {
    return this.started ?? this.view ?? this.runtime;
  }

  async pipelineNames(): Promise<string[]> {
    return [...this.stage.pipelines.keys()];
  }

  async pipeline(name: string): Promise<PipelineInfo> {
    return pipelineInfo(this.stage.pipeline(name));
  }

  async pipelineOfRun(runId: string): Promise<PipelineInfo> {
    return pipelineInfo(this.runtime.pipelineOfRun(runId));
  }

  partitions(name: string, range: { from?: string; to?: string; now: Date }) {
    return this.stage.partitions(name, range);
  }

  async runs(name: string, limit: number) {
    return this.runtime.runs(name).slice(0, limit);
  }

  async runDetail(runId: string) {
    const pipeline = this.runtime.pipelineOfRun(runId);
    const execution = this.runtime.runs(pipeline.name).find((r) => r.name === runId);
    if (!execution) throw new (await import('../../orchestration/rerun')).UnknownRunError(runId, `pipeline "${pipeline.name}" has no such execution`);
    return { execution, results: await (await this.runtime.runResults(pipeline.name)).list(runId) };
  }

  run(name: string, partition: string, params: Readonly<Record<string, unknown>>, onProgress?: RunWatcher) {
    return this.runtime.run(name, partition, params, onProgress);
  }

  async stopStarted(reason: { error: string; cause: string }): Promise<number> {
    return (await this.runtime.engine.stopRunning(reason)).length;
  }

  rerun(runId: string, selection: RerunSelection, onProgress?: RunWatcher) {
    return this.runtime.rerun(runId, selection, onProgress);
  }

  async logs(runId: string, filter: TaskLogFilter, from = 0): Promise<RunLogs> {
    const record = findExecutionRecord(this.home, runId);
    if (!record) throw new UsageError(`Unknown run "${runId}" in ${this.home}. Fix: copy a run id from \`sluice runs <pipeline>\``);
    if (from === 0 && filter.task !== undefined && !record.attempts.some((a) => a.state === filter.task) && record.status !== 'RUNNING') {
      // Task names have no spaces; the states around them ("Mark running", "Record load") do.
      const ran = [...new Set(record.attempts.map((a) => a.state).filter((state) => !state.includes(' ')))];
      throw new UsageError(`Task "${filter.task}" did not run in run ${runId} (tasks that ran: ${ran.join(', ') || 'none'})`);
    }
    const { TaskLogs } = await import('../task-logs');
    return { ...new TaskLogs(this.home).read(runId, filter, from), running: record.status === 'RUNNING' };
  }

  async scheduleState(name: string): Promise<ScheduleState> {
    return (await this.runtime.schedule(name)).state;
  }

  setScheduleState(name: string, state: ScheduleState): Promise<void> {
    return this.runtime.setScheduleState(name, state);
  }

  async tick(name: string, at: Date) {
    const outcome = await this.runtime.tick(name, at);
    await this.runtime.settle();
    return outcome;
  }

  startBackfill(name: string, request: ResolvedBackfillRequest) {
    return startBackfill(this.runtime, name, request);
  }

  backfillProgress(started: StartedBackfill) {
    return backfillProgress(this.runtime, started);
  }

  cancelBackfill(name: string, backfillId: string, mode: CancelMode) {
    return cancelBackfill(this.runtime, name, backfillId, mode);
  }

  listBackfills(name: string) {
    return listBackfills(this.runtime, name);
  }

  backfillProblems(name: string, backfillId: string) {
    return backfillProblems(this.runtime, name, backfillId);
  }
}

/** What the commands need of a local pipeline. */
function pipelineInfo(pipeline: LocalPipeline): PipelineInfo {
  const metadata = pipeline.stateMachine.metadata['sluice:pipeline'] as { tasks?: Record<string, string> } | undefined;
  return {
    name: pipeline.name,
    config: pipeline.config,
    tasks: new Set(Object.keys(metadata?.tasks ?? {})),
    ...(pipeline.backfill && { backfill: { arn: pipeline.backfill.arn } }),
  };
}
