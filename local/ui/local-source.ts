import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { runNumberOfInput } from '../../lib/compile/contract';
import { UNPARTITIONED_KEY } from '../../lib/compile/model';
import { parsePartitionKey } from '../../lib/compile/partition-keys';
import { loadPipelines } from '../../lib/loader';
import { readLauncherEnvironment } from '../../orchestration';
import { backfillProgress, cancelBackfill, checkBackfill, listBackfills, startBackfill } from '../backfills';
import { runSummary } from '../cli/commands/runs';
import { runView } from '../cli/commands/run';
import { recordFields } from '../cli/commands/status';
import { describeTrigger } from '../cli/format';
import type { LocalPipeline } from '../local-pipelines';
import type { LocalRuntime } from '../runtime';
import { TaskLogs } from '../task-logs';
import { backfillView, dimensionsView, launchView, recordView, summaryView } from './action-views';
import { GridKeys, gridKind, gridView, timeOrdered } from './grid-keys';
import type { BackfillAction, ConsoleSource } from './source';
import type {
  AlertView,
  BackfillView,
  ChangeEvent,
  LaunchView,
  OverviewView,
  PartitionDetail,
  PartitionGridView,
  ParamView,
  PipelineSummary,
  PipelineView,
  RerunSelectionView,
  RerunView,
  RunDetail,
  ScheduleStateView,
  TaskNode,
} from './views';

/** Thrown for a request naming something the stage does not have: the API answers 404. */
export class NotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotFoundError';
  }
}

/** How many alerts the overview shows. */
const RECENT_ALERTS = 20;
/** How many runs the pipeline page lists. */
const RECENT_RUNS = 25;
/** How often other processes' runs (a `sluice run` next to the console) are looked for. */
const POLL_MS = 1_000;

/**
 * The console's data on the local runtime: partitions from the partition table, runs from the
 * execution records, actions through the runtime's launcher, as the CLI's commands do.
 */
export class LocalConsoleSource implements ConsoleSource {
  readonly stage = 'local';
  private definitions?: Promise<Map<string, Definition>>;
  private readonly gridKeys = new GridKeys();

  constructor(
    private readonly runtime: LocalRuntime,
    private readonly props: { readonly pipelinesDir: string; readonly home: string },
  ) {}

  async overview(now: Date): Promise<OverviewView> {
    return {
      stage: this.stage,
      pipelines: await Promise.all([...this.runtime.pipelines.values()].map((pipeline) => this.summary(pipeline, now))),
      alerts: this.alerts(),
    };
  }

  async pipeline(name: string, now: Date): Promise<PipelineView> {
    const pipeline = this.pipelineNamed(name);
    const spec = pipeline.config.partitions;
    const { tasks, params } = (await this.definitionsOf()).get(name) ?? { tasks: [], params: [] };
    return {
      ...(await this.summary(pipeline, now)),
      grid: gridKind(spec),
      dimensions: dimensionsView(spec),
      tasks,
      runs: this.runtime.runs(name).slice(0, RECENT_RUNS).map(runSummary),
      params,
      maxConcurrentRuns: pipeline.config.maxConcurrentRuns,
    };
  }

  async partitions(name: string, range: { from?: string; to?: string }, now: Date): Promise<PartitionGridView> {
    const pipeline = this.pipelineNamed(name);
    const spec = pipeline.config.partitions;
    const listed = this.gridKeys.of(name, spec, range, now);
    // Time keys sort in time order, so their records are a key range; static and multi keys are
    // read whole (as `LocalRuntime.partitions` reads them).
    const records = await (await this.runtime.partitionStore(name)).list(name, timeOrdered(spec) ? { from: listed.keys[0], to: listed.keys.at(-1) } : {});
    return gridView(name, spec, listed, records);
  }

  async partition(name: string, key: string): Promise<PartitionDetail> {
    const pipeline = this.pipelineNamed(name);
    const spec = pipeline.config.partitions;
    const valid = spec ? parsePartitionKey(spec, key) : key === UNPARTITIONED_KEY ? { ok: true as const } : { ok: false as const, reason: `its only partition is "${UNPARTITIONED_KEY}"` };
    if (!valid.ok) throw new NotFoundError(`Pipeline "${name}" has no partition "${key}": ${valid.reason}`);
    const record = await (await this.runtime.partitionStore(name)).get(name, key);
    return { pipeline: name, partition: key, status: record?.status ?? 'MISSING', ...recordFields(record) };
  }

  async run(name: string, runId: string): Promise<RunDetail> {
    const pipeline = this.pipelineNamed(name);
    const execution = this.runtime.runs(name).find((r) => r.name === runId);
    if (!execution) throw new NotFoundError(`Pipeline "${name}" has no run "${runId}"`);
    const input = JSON.parse(execution.input) as { trigger?: string };
    const tasks = (await this.definitionsOf()).get(name)?.tasks ?? [];
    // What `sluice logs` reads, and the results the run recorded (what a rerun would reuse).
    const logs = new TaskLogs(this.props.home).read(runId).entries.map(({ time, task, attempt, stream, message }) => ({ time, task, attempt, stream, message }));
    const results = await (await this.runtime.runResults(name)).list(runId);
    return { ...runView(pipeline, execution, runNumberOfInput(input) ?? 1), trigger: input.trigger, tasks: tasks.map((t) => t.name), logs, results };
  }

  async launch(name: string, partition: string, params: Readonly<Record<string, unknown>> = {}): Promise<LaunchView> {
    this.pipelineNamed(name);
    return launchView(await this.runtime.launch(name, partition, 'manual', params));
  }

  async rerun(name: string, runId: string, selection: RerunSelectionView): Promise<RerunView> {
    this.pipelineNamed(name);
    if (this.runtime.pipelineOfRun(runId).name !== name) throw new NotFoundError(`Pipeline "${name}" has no run "${runId}"`);
    const { rerunOf, plan, launch } = await this.runtime.startRerun(runId, selection);
    return { rerunOf, plan, launch: launchView(launch) };
  }

  async startBackfill(name: string, action: BackfillAction): Promise<BackfillView> {
    const pipeline = this.pipelineNamed(name);
    const { from, to, only, concurrency, yes } = action;
    const { request } = checkBackfill(pipeline, { from, to, only, concurrency }, { now: new Date(), yes });
    const started = await startBackfill(this.runtime, name, request);
    return backfillView(started, await backfillProgress(this.runtime, started));
  }

  async backfill(name: string, backfillId: string): Promise<BackfillView> {
    const pipeline = this.pipelineNamed(name);
    const record = await (await this.runtime.backfillStore(name)).get(name, backfillId);
    // Until its plan step has recorded it, a backfill is only its execution.
    const executionArn = record?.executionArn ?? (pipeline.backfill && this.runtime.engine.listExecutions(pipeline.backfill.arn).find((e) => e.name === backfillId)?.executionArn);
    if (executionArn === undefined) throw new NotFoundError(`Pipeline "${name}" has no backfill ${backfillId}`);
    const started = { pipeline: name, backfillId, executionArn };
    return backfillView(started, await backfillProgress(this.runtime, started));
  }

  async backfills(name?: string): Promise<BackfillView[]> {
    const names = name === undefined ? [...this.runtime.pipelines.keys()] : [this.pipelineNamed(name).name];
    const records = (await Promise.all(names.map((n) => listBackfills(this.runtime, n)))).flat();
    return records.sort((a, b) => b.createdAt.localeCompare(a.createdAt)).map((record) => recordView(record));
  }

  async cancelBackfill(name: string, backfillId: string, mode: 'finish' | 'stop'): Promise<BackfillView> {
    const known = await this.backfill(name, backfillId);
    if (known.status === 'PLANNING') throw new NotFoundError(`Backfill ${backfillId} is still planning: cancel it once it runs`);
    await cancelBackfill(this.runtime, name, backfillId, mode);
    return this.backfill(name, backfillId);
  }

  async setSchedule(name: string, state: ScheduleStateView): Promise<void> {
    this.pipelineNamed(name);
    await this.runtime.setScheduleState(name, state);
  }

  /**
   * Calls `listener` when runs start or end in this process (at once) or in another one sharing
   * the home (within a second), and when an alert is published.
   */
  watch(listener: (event: ChangeEvent) => void): () => void {
    const unsubscribe = this.runtime.engine.onStatusChange((event) => {
      const arn = event.detail.stateMachineArn;
      const pipeline = [...this.runtime.pipelines.values()].find((p) => p.stateMachine.arn === arn || p.backfill?.arn === arn);
      listener({ pipeline: pipeline?.name, what: pipeline?.backfill?.arn === arn ? 'backfill' : 'run' });
    });
    const seen = new Map<string, string>();
    const look = () => {
      for (const pipeline of this.runtime.pipelines.values()) {
        const signature = this.executionsSignature(pipeline);
        const before = seen.get(pipeline.name);
        seen.set(pipeline.name, signature);
        if (before !== undefined && before !== signature) listener({ pipeline: pipeline.name, what: 'run' });
      }
      const alerts = this.alertsSignature();
      if (seen.has('alerts') && seen.get('alerts') !== alerts) listener({ what: 'alert' });
      seen.set('alerts', alerts);
    };
    look();
    const timer = setInterval(look, POLL_MS);
    timer.unref();
    return () => {
      unsubscribe();
      clearInterval(timer);
    };
  }

  private pipelineNamed(name: string): LocalPipeline {
    const pipeline = this.runtime.pipelines.get(name);
    if (!pipeline) throw new NotFoundError(`Unknown pipeline "${name}". Pipelines: ${[...this.runtime.pipelines.keys()].join(', ') || 'none'}`);
    return pipeline;
  }

  private async summary(pipeline: LocalPipeline, now: Date): Promise<PipelineSummary> {
    const { config, name } = pipeline;
    const { bucketNames } = readLauncherEnvironment(pipeline.launcher.environment);
    const [state, backfills] = await Promise.all([config.schedule ? this.runtime.schedule(name).then((s) => s.state) : undefined, listBackfills(this.runtime, name)]);
    const triggers = config.triggers.map((t) => describeTrigger(t, bucketNames[t.bucket]));
    return summaryView({ name, config, runs: this.runtime.runs(name), state, backfills, triggers, now });
  }

  /** The task graphs and declared parameters, from the pipelines' definitions (loaded once). */
  private definitionsOf(): Promise<Map<string, Definition>> {
    this.definitions ??= loadPipelines(this.props.pipelinesDir).then(
      (loaded) =>
        new Map(
          loaded.map(({ compiled }) => [
            compiled.name,
            {
              tasks: compiled.tasks.map((t) => ({ name: t.name, after: [...t.after] })),
              params: Object.entries(compiled.params).map(([name, p]) => ({ name, type: p.type, default: p.default, ...(p.description !== undefined && { description: p.description }) })),
            },
          ]),
        ),
    );
    return this.definitions;
  }

  private executionsSignature(pipeline: LocalPipeline): string {
    const dir = join(this.props.home, 'executions', pipeline.stateMachine.name);
    if (!existsSync(dir)) return '';
    let latest = 0;
    const files = readdirSync(dir);
    for (const file of files) latest = Math.max(latest, statSync(join(dir, file), { throwIfNoEntry: false })?.mtimeMs ?? 0);
    return `${files.length}:${latest}`;
  }

  private alertsFile(): string {
    return join(this.props.home, 'alerts.jsonl');
  }

  private alertsSignature(): string {
    const stat = statSync(this.alertsFile(), { throwIfNoEntry: false });
    return stat ? `${stat.size}:${stat.mtimeMs}` : '';
  }

  private alerts(): AlertView[] {
    if (!existsSync(this.alertsFile())) return [];
    const lines = readFileSync(this.alertsFile(), 'utf8').trim().split('\n').filter(Boolean);
    return lines
      .slice(-RECENT_ALERTS)
      .reverse()
      .flatMap((line) => {
        try {
          const { time, subject, message } = JSON.parse(line) as AlertView;
          return [{ time, subject, message }];
        } catch {
          return [];
        }
      });
  }
}

/** What the console shows of a pipeline's definition. */
interface Definition {
  readonly tasks: TaskNode[];
  readonly params: ParamView[];
}

