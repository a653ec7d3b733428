import { pipelineOfRunId, runNumberOfInput } from '../../lib/compile/contract';
import { UNPARTITIONED_KEY } from '../../lib/compile/model';
import { UnknownRunError } from '../../orchestration';
import { parsePartitionKey } from '../../lib/compile/partition-keys';
import { checkBackfill } from '../backfills';
import { runSummary } from '../cli/commands/runs';
import { runView } from '../cli/commands/run';
import { recordFields } from '../cli/commands/status';
import { describeTrigger } from '../cli/format';
import type { ExecutionRecord } from '../engine';
import type { PipelineInfo, StageOperations } from '../operations/operations';
import { backfillView, dimensionsView, launchView, recordView, summaryView } from './action-views';
import { GridKeys, gridKind, gridView } from './grid-keys';
import { NotFoundError } from './local-source';
import type { BackfillAction, ConsoleSource } from './source';
import type {
  BackfillView,
  ChangeEvent,
  LaunchView,
  OverviewView,
  PartitionDetail,
  PartitionGridView,
  PipelineSummary,
  PipelineView,
  RerunSelectionView,
  RerunView,
  RunDetail,
  ScheduleStateView,
} from './views';

/** Runs read per pipeline for the overview and the pipeline page (each a DescribeExecution). */
const RECENT_RUNS = 25;
/** How often the stage is asked whether runs or backfills changed (no events reach this process). */
const POLL_MS = 5_000;

/**
 * The console's data and actions on a stage through the operations the CLI's commands use with
 * `--stage NAME` (Step Functions, Lambda, DynamoDB, EventBridge Scheduler and CloudWatch Logs through
 * the AWS SDK): what `sluice ui --stage NAME` shows. Runs and reruns start through the pipeline's
 * launcher as `sluice run` and `sluice rerun` start them; the console answers once they have started.
 */
export class StageConsoleSource implements ConsoleSource {
  private readonly gridKeys = new GridKeys();

  constructor(
    private readonly operations: StageOperations,
    readonly stage: string,
    /** The Step Functions console's address of an execution, for the run page. @default - none */
    private readonly consoleUrlOf?: (executionArn: string) => string,
  ) {}

  async overview(now: Date): Promise<OverviewView> {
    const names = await this.operations.pipelineNames();
    const pipelines = await Promise.all(names.map(async (name) => this.summary(await this.operations.pipeline(name), await this.operations.runs(name, RECENT_RUNS), now)));
    // A deployed stage's alerts go to its topic's subscribers, not to a file the console reads.
    return { stage: this.stage, pipelines, alerts: [] };
  }

  async pipeline(name: string, now: Date): Promise<PipelineView> {
    const pipeline = await this.pipelineNamed(name);
    const runs = await this.operations.runs(name, RECENT_RUNS);
    const spec = pipeline.config.partitions;
    return {
      ...(await this.summary(pipeline, runs, now)),
      grid: gridKind(spec),
      dimensions: dimensionsView(spec),
      tasks: pipeline.config.tasks.map((t) => ({ name: t.name, after: [...t.after] })),
      runs: runs.map(runSummary),
      params: Object.entries(pipeline.config.params ?? {}).map(([param, p]) => ({ name: param, type: p.type, default: p.default })),
      maxConcurrentRuns: pipeline.config.maxConcurrentRuns,
    };
  }

  async partitions(name: string, range: { from?: string; to?: string }, now: Date): Promise<PartitionGridView> {
    const pipeline = await this.pipelineNamed(name);
    const spec = pipeline.config.partitions;
    const listed = this.gridKeys.of(name, spec, range, now);
    const views = await this.operations.partitions(name, { from: listed.keys[0], to: listed.keys.at(-1), now });
    return gridView(name, spec, listed, views.flatMap((v) => (v.status === 'MISSING' ? [] : [{ partition: v.partition, status: v.status }])));
  }

  async partition(name: string, key: string): Promise<PartitionDetail> {
    const pipeline = await this.pipelineNamed(name);
    const spec = pipeline.config.partitions;
    const valid = spec ? parsePartitionKey(spec, key) : key === UNPARTITIONED_KEY ? { ok: true as const } : { ok: false as const, reason: `its only partition is "${UNPARTITIONED_KEY}"` };
    if (!valid.ok) throw new NotFoundError(`Pipeline "${name}" has no partition "${key}": ${valid.reason}`);
    const timeKey = spec?.kind !== 'static' && spec?.kind !== 'multi';
    const views = await this.operations.partitions(name, { ...(timeKey && { from: key, to: key }), now: new Date() });
    const record = views.find((v) => v.partition === key)?.record;
    return { pipeline: name, partition: key, status: record?.status ?? 'MISSING', ...recordFields(record) };
  }

  async run(name: string, runId: string): Promise<RunDetail> {
    const pipeline = await this.pipelineNamed(name);
    if (pipelineOfRunId(runId) !== name) throw new NotFoundError(`Pipeline "${name}" has no run "${runId}"`);
    let detail: Awaited<ReturnType<StageOperations['runDetail']>>;
    try {
      detail = await this.operations.runDetail(runId);
    } catch (error) {
      if (error instanceof UnknownRunError) throw new NotFoundError(error.message);
      throw error;
    }
    const { execution, results } = detail;
    const input = JSON.parse(execution.input) as { trigger?: string };
    const { entries } = await this.operations.logs(runId, {});
    return {
      ...runView(pipeline, execution, runNumberOfInput(input) ?? 1),
      trigger: input.trigger,
      ...(this.consoleUrlOf && { consoleUrl: this.consoleUrlOf(execution.executionArn) }),
      tasks: pipeline.config.tasks.map((t) => t.name),
      logs: entries.map(({ time, task, attempt, stream, message }) => ({ time, task, attempt, stream, message })),
      results,
    };
  }

  async launch(name: string, partition: string, params: Readonly<Record<string, unknown>> = {}): Promise<LaunchView> {
    await this.pipelineNamed(name);
    return startedOnly((watch) => this.operations.run(name, partition, params, watch).then(({ launch }) => launchView(launch)));
  }

  async rerun(name: string, runId: string, selection: RerunSelectionView): Promise<RerunView> {
    const pipeline = await this.operations.pipelineOfRun(runId);
    if (pipeline.name !== name) throw new NotFoundError(`Pipeline "${name}" has no run "${runId}"`);
    const tasks = pipeline.config.tasks.map((t) => t.name);
    let started: RerunView | undefined;
    const view = await startedOnly<RerunView>(
      (watch) =>
        this.operations.rerun(runId, selection, watch).then(({ rerun }) => started ?? { rerunOf: rerun.rerunOf, plan: rerun.plan, launch: launchView(rerun.launch) }),
      (execution) => {
        // Answered as soon as the rerun runs: its input says what it reuses.
        const { reuse = {} } = JSON.parse(execution.input) as { reuse?: Record<string, string> };
        started = { rerunOf: runId, plan: { rerun: tasks.filter((t) => !(t in reuse)), alsoRerun: [], reuse }, launch: startedView(execution) };
        return started;
      },
    );
    return view;
  }

  async startBackfill(name: string, action: BackfillAction): Promise<BackfillView> {
    const pipeline = await this.pipelineNamed(name);
    const { from, to, only, concurrency, yes } = action;
    const { request } = checkBackfill(pipeline, { from, to, only, concurrency }, { now: new Date(), yes });
    const started = await this.operations.startBackfill(name, request);
    return backfillView(started, await this.operations.backfillProgress(started));
  }

  async backfill(name: string, backfillId: string): Promise<BackfillView> {
    await this.pipelineNamed(name);
    const record = (await this.operations.listBackfills(name)).find((b) => b.backfillId === backfillId);
    if (!record) throw new NotFoundError(`Pipeline "${name}" has no backfill ${backfillId}`);
    return recordView(record);
  }

  async backfills(name?: string): Promise<BackfillView[]> {
    const names = name === undefined ? await this.operations.pipelineNames() : [(await this.pipelineNamed(name)).name];
    const records = (await Promise.all(names.map((n) => this.operations.listBackfills(n)))).flat();
    return records.sort((a, b) => b.createdAt.localeCompare(a.createdAt)).map(recordView);
  }

  async cancelBackfill(name: string, backfillId: string, mode: 'finish' | 'stop'): Promise<BackfillView> {
    await this.backfill(name, backfillId);
    await this.operations.cancelBackfill(name, backfillId, mode);
    return this.backfill(name, backfillId);
  }

  async setSchedule(name: string, state: ScheduleStateView): Promise<void> {
    await this.pipelineNamed(name);
    await this.operations.setScheduleState(name, state);
  }

  /** Asks the stage every few seconds for each pipeline's latest run and backfills; reports what changed. */
  watch(listener: (event: ChangeEvent) => void): () => void {
    const seen = new Map<string, string>();
    let stopped = false;
    const look = async () => {
      for (const name of await this.operations.pipelineNames()) {
        const [runs, backfills] = await Promise.all([this.operations.runs(name, 1), this.operations.listBackfills(name)]);
        const signature = JSON.stringify([runs.map((r) => [r.name, r.status]), backfills.map((b) => [b.backfillId, b.status, b.succeeded, b.failed])]);
        const before = seen.get(name);
        seen.set(name, signature);
        if (before !== undefined && before !== signature) listener({ pipeline: name, what: 'run' });
      }
    };
    const loop = async () => {
      while (!stopped) {
        // A failed look (throttling, a network blip) is tried again at the next one.
        await look().catch(() => undefined);
        await new Promise((resolve) => setTimeout(resolve, POLL_MS).unref());
      }
    };
    void loop();
    return () => {
      stopped = true;
    };
  }

  private async pipelineNamed(name: string): Promise<PipelineInfo> {
    const names = await this.operations.pipelineNames();
    if (!names.includes(name)) throw new NotFoundError(`Unknown pipeline "${name}". Pipelines: ${names.join(', ') || 'none'}`);
    return this.operations.pipeline(name);
  }

  private async summary(pipeline: PipelineInfo, runs: readonly ExecutionRecord[], now: Date): Promise<PipelineSummary> {
    const { config, name } = pipeline;
    const [state, backfills] = await Promise.all([config.schedule ? this.operations.scheduleState(name) : undefined, this.operations.listBackfills(name)]);
    return summaryView({ name, config, runs, state, backfills, triggers: config.triggers.map((t) => describeTrigger(t, t.bucket)), now });
  }
}

/**
 * Starts a run through an operation that waits for it to end, and answers as soon as it has
 * started (its first progress report), or with the operation's answer when it did not start.
 */
function startedOnly<T>(
  operation: (watch: (execution: ExecutionRecord) => void) => Promise<T>,
  onStarted: (execution: ExecutionRecord) => T = (execution) => startedView(execution) as T,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let answered = false;
    const answer = (value: T) => {
      if (answered) return;
      answered = true;
      resolve(value);
    };
    operation((execution) => answer(onStarted(execution))).then(answer, (error: unknown) => {
      if (!answered) {
        answered = true;
        reject(error);
      }
    });
  });
}

function startedView(execution: ExecutionRecord): LaunchView {
  const input = JSON.parse(execution.input) as { partition: string };
  return { kind: 'started', partition: input.partition, runId: execution.name, runNumber: runNumberOfInput(input) ?? 1 };
}

/** An execution in the Step Functions console of its region. */
export function stepFunctionsConsoleUrl(region: string, executionArn: string): string {
  return `https://${region}.console.aws.amazon.com/states/home?region=${region}#/v2/executions/details/${encodeURIComponent(executionArn)}`;
}
