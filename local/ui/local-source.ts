import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UNPARTITIONED_KEY } from '../../lib/compile/model';
import { listPartitions, MAX_LISTED_PARTITIONS, parsePartitionKey, partitionKeyAt, PartitionKeyError } from '../../lib/compile/partition-keys';
import { nextFireTimes } from '../../lib/compile/schedule';
import type { PartitionSpec, TimePartitions } from '../../lib/definitions/partitions';
import { loadPipelines } from '../../lib/loader';
import { type BackfillRecord, readLauncherEnvironment } from '../../runtime';
import { type BackfillProgress, backfillProgress, cancelBackfill, checkBackfill, listBackfills, startBackfill, type StartedBackfill } from '../backfills';
import { runSummary } from '../cli/commands/runs';
import { runView } from '../cli/commands/run';
import { recordFields } from '../cli/commands/status';
import { describePartitions, describeTrigger } from '../cli/format';
import type { LocalPipeline, LocalRuntime } from '../runtime';
import { TaskLogs } from '../task-logs';
import type { BackfillAction, ConsoleSource } from './source';
import type {
  AlertView,
  BackfillView,
  ChangeEvent,
  GridKind,
  LaunchView,
  OverviewView,
  PartitionDetail,
  PartitionGridView,
  ParamView,
  PartitionStatus,
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

const FAILED_RUN = new Set(['FAILED', 'TIMED_OUT', 'ABORTED']);
const DAY_MS = 86_400_000;
/** How many alerts the overview shows. */
const RECENT_ALERTS = 20;
/** How many runs the pipeline page lists. */
const RECENT_RUNS = 25;
/** How often other processes' runs (a `sluice run` next to the console) are looked for. */
const POLL_MS = 1_000;
/** Nominal length of a time partition, to find where the latest {@link MAX_LISTED_PARTITIONS} begin. */
const NOMINAL_MS: Readonly<Record<TimePartitions['kind'], number>> = {
  hourly: 3_600_000,
  daily: DAY_MS,
  weekly: 7 * DAY_MS,
  monthly: 28 * DAY_MS,
};

/**
 * The console's data on the local runtime: partitions from the partition table, runs from the
 * execution records, actions through the runtime's launcher, as the CLI's commands do.
 */
export class LocalConsoleSource implements ConsoleSource {
  readonly stage = 'local';
  private definitions?: Promise<Map<string, Definition>>;
  /** Keys listed per pipeline and range: listing is pure but not free (about 10 µs a key). */
  private readonly keyCache = new Map<string, ListedKeys>();

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
      dimensions:
        spec?.kind === 'multi'
          ? {
              names: Object.keys(spec.dimensions),
              timeIndex: Object.values(spec.dimensions).findIndex((d) => d.kind !== 'static'),
            }
          : undefined,
      tasks,
      runs: this.runtime.runs(name).slice(0, RECENT_RUNS).map(runSummary),
      params,
      maxConcurrentRuns: pipeline.config.maxConcurrentRuns,
    };
  }

  async partitions(name: string, range: { from?: string; to?: string }, now: Date): Promise<PartitionGridView> {
    const pipeline = this.pipelineNamed(name);
    const spec = pipeline.config.partitions;
    const { keys, index, truncated } = this.keysOf(pipeline, range, now);
    // Time keys sort in time order, so their records are a key range; static and multi keys are
    // read whole (as `LocalRuntime.partitions` reads them).
    const timeOrdered = spec !== undefined && spec.kind !== 'static' && spec.kind !== 'multi';
    const records = await this.runtime.partitionStore(name).list(name, timeOrdered ? { from: keys[0], to: keys.at(-1) } : {});
    // One letter per key, all MISSING but those recorded: the work is per record, not per key.
    const statuses = Buffer.alloc(keys.length, 'M');
    const counts: Record<PartitionStatus, number> = { MISSING: keys.length, RUNNING: 0, SUCCEEDED: 0, FAILED: 0 };
    for (const record of records) {
      const at = index.get(record.partition);
      if (at === undefined) continue;
      statuses[at] = record.status.charCodeAt(0);
      counts[record.status]++;
      counts.MISSING--;
    }
    return { pipeline: name, grid: gridKind(spec), keys, statuses: statuses.toString('latin1'), counts, ...(truncated && { truncated }) };
  }

  async partition(name: string, key: string): Promise<PartitionDetail> {
    const pipeline = this.pipelineNamed(name);
    const spec = pipeline.config.partitions;
    const valid = spec ? parsePartitionKey(spec, key) : key === UNPARTITIONED_KEY ? { ok: true as const } : { ok: false as const, reason: `its only partition is "${UNPARTITIONED_KEY}"` };
    if (!valid.ok) throw new NotFoundError(`Pipeline "${name}" has no partition "${key}": ${valid.reason}`);
    const record = await this.runtime.partitionStore(name).get(name, key);
    return { pipeline: name, partition: key, status: record?.status ?? 'MISSING', ...recordFields(record) };
  }

  async run(name: string, runId: string): Promise<RunDetail> {
    const pipeline = this.pipelineNamed(name);
    const execution = this.runtime.runs(name).find((r) => r.name === runId);
    if (!execution) throw new NotFoundError(`Pipeline "${name}" has no run "${runId}"`);
    const input = JSON.parse(execution.input) as { attempt?: number; trigger?: string };
    const tasks = (await this.definitionsOf()).get(name)?.tasks ?? [];
    // What `sluice logs` reads, and the results the run recorded (what a rerun would reuse).
    const logs = new TaskLogs(this.props.home).read(runId).entries.map(({ time, task, attempt, stream, message }) => ({ time, task, attempt, stream, message }));
    const results = await this.runtime.runResults(name).list(runId);
    return { ...runView(pipeline, execution, input.attempt ?? 1), trigger: input.trigger, tasks: tasks.map((t) => t.name), logs, results };
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
    const record = await this.runtime.backfillStore(name).get(name, backfillId);
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
    const { config } = pipeline;
    const { bucketNames } = readLauncherEnvironment(pipeline.launcher.environment);
    const runs = this.runtime.runs(pipeline.name);
    const since = now.getTime() - DAY_MS;
    const last = runs[0];
    const [state, backfills] = await Promise.all([
      config.schedule ? this.runtime.schedule(pipeline.name).then((s) => s.state) : undefined,
      listBackfills(this.runtime, pipeline.name),
    ]);
    const next = state === 'ENABLED' && config.schedule ? nextFireTimes(config.schedule, now, 1)[0]?.toISOString() : undefined;
    return {
      name: pipeline.name,
      partitions: describePartitions(config.partitions),
      schedule: config.schedule && state && { ...config.schedule, state, ...(next && { next }) },
      triggers: config.triggers.map((t) => describeTrigger(t, bucketNames[t.bucket])),
      lastRun: last && runSummary(last),
      failures24h: runs.filter((r) => FAILED_RUN.has(r.status) && Date.parse(r.startDate) >= since).length,
      running: runs.filter((r) => r.status === 'RUNNING').length,
      backfillsRunning: backfills.filter((b) => b.status === 'RUNNING').length,
    };
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

  /**
   * The keys of a range; without one, every partition up to the last complete one, or the latest
   * {@link MAX_LISTED_PARTITIONS} of them when there are more.
   */
  private keysOf(pipeline: LocalPipeline, range: { from?: string; to?: string }, now: Date): ListedKeys {
    const spec = pipeline.config.partitions;
    if (!spec) return listed([UNPARTITIONED_KEY]);
    const time = timeDimension(spec);
    // The cache is keyed by the last complete partition, so it renews itself as time passes.
    const to = range.to ?? (time ? partitionKeyAt(time, now) : '');
    const cacheKey = `${pipeline.name}\u0000${range.from ?? ''}\u0000${to}`;
    const cached = this.keyCache.get(cacheKey);
    if (cached) return cached;
    let keys: ListedKeys;
    try {
      keys = listed(listPartitions(spec, { ...range, now }));
    } catch (error) {
      if (!(error instanceof PartitionKeyError) || range.from !== undefined || !time) throw error;
      // More than the grid holds: show the latest partitions.
      const combos = spec.kind === 'multi' ? Object.values(spec.dimensions).reduce((n, d) => n * (d.kind === 'static' ? d.keys.length : 1), 1) : 1;
      const span = Math.floor(MAX_LISTED_PARTITIONS / combos) - 1;
      const from = partitionKeyAt(time, new Date(now.getTime() - span * NOMINAL_MS[time.kind]));
      keys = listed(listPartitions(spec, { from, to: range.to, now }), { from });
    }
    this.keyCache.set(cacheKey, keys);
    return keys;
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

function launchView(result: Awaited<ReturnType<LocalRuntime['launch']>>): LaunchView {
  return result.kind === 'started' ? { kind: 'started', partition: result.partition, runId: result.runId, attempt: result.attempt } : result;
}

/** A backfill's progress as the console shows it: `PLANNING` until it is recorded. */
function backfillView(started: StartedBackfill, progress: BackfillProgress): BackfillView {
  if (progress.record) return recordView(progress.record);
  const { execution } = progress;
  const ended = execution.status !== 'RUNNING';
  return {
    pipeline: started.pipeline,
    backfillId: started.backfillId,
    status: ended ? (execution.status === 'ABORTED' ? 'ABORTED' : 'FAILED') : 'PLANNING',
    partitions: 0,
    succeeded: 0,
    failed: 0,
    skipped: 0,
    cancelled: 0,
    createdAt: execution.startDate,
    ...(execution.error !== undefined && { error: [execution.error, execution.cause].filter(Boolean).join(': ') }),
  };
}

function recordView(record: BackfillRecord): BackfillView {
  const { pipeline, backfillId, status, request, partitions, succeeded, failed, skipped, cancelled, createdAt, finishedAt, reason, cancelRequested } = record;
  return {
    pipeline,
    backfillId,
    status,
    ...(request.from !== undefined && { from: request.from }),
    ...(request.to !== undefined && { to: request.to }),
    only: request.only,
    concurrency: request.concurrency,
    partitions,
    succeeded,
    failed,
    skipped,
    cancelled,
    ...(cancelRequested && { cancelRequested: true }),
    createdAt,
    ...(finishedAt !== undefined && { finishedAt }),
    ...(reason !== undefined && { reason }),
  };
}

/** What the console shows of a pipeline's definition. */
interface Definition {
  readonly tasks: TaskNode[];
  readonly params: ParamView[];
}

/** Keys of a range, each with its position. */
interface ListedKeys {
  readonly keys: readonly string[];
  readonly index: ReadonlyMap<string, number>;
  readonly truncated?: PartitionGridView['truncated'];
}

function listed(keys: readonly string[], truncated?: PartitionGridView['truncated']): ListedKeys {
  return { keys, index: new Map(keys.map((key, i) => [key, i])), ...(truncated && { truncated }) };
}

function timeDimension(spec: PartitionSpec): TimePartitions | undefined {
  if (spec.kind === 'static') return undefined;
  if (spec.kind === 'multi') return Object.values(spec.dimensions).find((d): d is TimePartitions => d.kind !== 'static');
  return spec;
}

function gridKind(spec: PartitionSpec | undefined): GridKind {
  return spec ? spec.kind : 'none';
}
