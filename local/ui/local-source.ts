import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UNPARTITIONED_KEY } from '../../lib/compile/model';
import { listPartitions, MAX_LISTED_PARTITIONS, parsePartitionKey, partitionKeyAt, PartitionKeyError } from '../../lib/compile/partition-keys';
import { nextFireTimes } from '../../lib/compile/schedule';
import type { PartitionSpec, TimePartitions } from '../../lib/definitions/partitions';
import { loadPipelines } from '../../lib/loader';
import { readLauncherEnvironment } from '../../runtime';
import { runSummary } from '../cli/commands/runs';
import { runView } from '../cli/commands/run';
import { recordFields } from '../cli/commands/status';
import { describePartitions, describeTrigger } from '../cli/format';
import type { LocalPipeline, LocalRuntime } from '../runtime';
import type { ConsoleSource } from './source';
import type {
  AlertView,
  ChangeEvent,
  GridKind,
  LaunchView,
  OverviewView,
  PartitionDetail,
  PartitionGridView,
  PartitionStatus,
  PipelineSummary,
  PipelineView,
  RunDetail,
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
  private tasks?: Promise<Map<string, TaskNode[]>>;
  /** Keys listed per pipeline and range: listing is pure but not free (about 10 µs a key). */
  private readonly keyCache = new Map<string, ListedKeys>();

  constructor(
    private readonly runtime: LocalRuntime,
    private readonly props: { readonly pipelinesDir: string; readonly home: string },
  ) {}

  async overview(now: Date): Promise<OverviewView> {
    return {
      stage: this.stage,
      pipelines: [...this.runtime.pipelines.values()].map((pipeline) => this.summary(pipeline, now)),
      alerts: this.alerts(),
    };
  }

  async pipeline(name: string, now: Date): Promise<PipelineView> {
    const pipeline = this.pipelineNamed(name);
    const spec = pipeline.config.partitions;
    const tasks = (await this.taskGraphs()).get(name) ?? [];
    return {
      ...this.summary(pipeline, now),
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
    return { ...runView(pipeline, execution, input.attempt ?? 1), trigger: input.trigger };
  }

  async launch(name: string, partition: string): Promise<LaunchView> {
    this.pipelineNamed(name);
    const result = await this.runtime.launch(name, partition, 'manual');
    return result.kind === 'started'
      ? { kind: 'started', partition: result.partition, runId: result.runId, attempt: result.attempt }
      : result;
  }

  /**
   * Calls `listener` when runs start or end in this process (at once) or in another one sharing
   * the home (within a second), and when an alert is published.
   */
  watch(listener: (event: ChangeEvent) => void): () => void {
    const unsubscribe = this.runtime.engine.onStatusChange((event) => {
      const pipeline = [...this.runtime.pipelines.values()].find((p) => p.stateMachine.arn === event.detail.stateMachineArn);
      listener({ pipeline: pipeline?.name, what: 'run' });
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

  private summary(pipeline: LocalPipeline, now: Date): PipelineSummary {
    const { config } = pipeline;
    const { bucketNames } = readLauncherEnvironment(pipeline.launcher.environment);
    const runs = this.runtime.runs(pipeline.name);
    const since = now.getTime() - DAY_MS;
    const last = runs[0];
    return {
      name: pipeline.name,
      partitions: describePartitions(config.partitions),
      schedule: config.schedule && { ...config.schedule, next: nextFireTimes(config.schedule, now, 1)[0]?.toISOString() },
      triggers: config.triggers.map((t) => describeTrigger(t, bucketNames[t.bucket])),
      lastRun: last && runSummary(last),
      failures24h: runs.filter((r) => FAILED_RUN.has(r.status) && Date.parse(r.startDate) >= since).length,
      running: runs.filter((r) => r.status === 'RUNNING').length,
    };
  }

  /** The task graphs, from the pipelines' definitions (loaded once). */
  private taskGraphs(): Promise<Map<string, TaskNode[]>> {
    this.tasks ??= loadPipelines(this.props.pipelinesDir).then(
      (loaded) => new Map(loaded.map(({ compiled }) => [compiled.name, compiled.tasks.map((t) => ({ name: t.name, after: [...t.after] }))])),
    );
    return this.tasks;
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
