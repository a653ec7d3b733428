/**
 * Launching runs: a partition's claim in the partition table, then its execution. Every way in
 * (a direct or backfill run, an S3 or upstream arrival, a schedule tick) shares one claim-and-start
 * core and its policies for a busy partition, which is why they stay in one file of about 440
 * lines rather than exporting that core to several.
 */
import type { StartExecutionCommandOutput } from '@aws-sdk/client-sfn';
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { LauncherConfig, ParamValue, RunInput } from '../lib/compile/contract';
import { UNPARTITIONED_KEY } from '../lib/compile/model';
import { resolveParams } from '../lib/compile/params';
import { parsePartitionKey, partitionsForScheduledTime } from '../lib/compile/partition-keys';
import { consumedBy, judgeVersion, scheduleVersion, type SourceVersion, withConsumed } from './consumed';
import { type ClaimResult, PartitionClaimError, type PartitionRead, type PartitionStore } from './partition-store';

/** What started a run; recorded in the partition table and in the run's input. */
export type RunTrigger = 'schedule' | 's3' | 'upstream' | 'manual' | 'backfill' | 'rerun';

/** The one Step Functions call the launcher makes; `SFNClient` satisfies it. */
export interface StartExecutionClient {
  send(command: StartExecutionCommand): Promise<StartExecutionCommandOutput>;
}

/** What launching needs from the outside world. */
export interface LaunchDeps {
  readonly store: Pick<
    PartitionStore,
    'get' | 'countRunning' | 'claim' | 'markFailed' | 'requestRerun' | 'claimConsuming' | 'consumeWhileRunning'
  >;
  readonly sfn: StartExecutionClient;
  /** The pipeline's state machine. */
  readonly stateMachineArn: string;
  readonly now: Date;
}

/** A run to launch. */
export interface LaunchRequest {
  readonly config: LauncherConfig;
  readonly partition: string;
  readonly trigger: RunTrigger;
  /**
   * The data version the launch is for (an S3 object, a schedule tick): the launch runs the
   * partition only when that version is new to it (orchestration/consumed.ts), and records it.
   *
   * @default - none: the launch runs whatever the partition has consumed (manual runs, backfills,
   * requested reruns)
   */
  readonly consumes?: SourceVersion;
  /**
   * Parameters given for the run, typed or as text; the others take their declared defaults.
   * @default - every parameter at its default
   */
  readonly params?: Readonly<Record<string, unknown>>;
  /** Tasks not to execute, each reusing the result the named run recorded (a rerun). @default - none */
  readonly reuse?: Readonly<Record<string, string>>;
}

/** Outcome of `launchRun` for a manual, scheduled or backfill launch. */
export type LaunchResult =
  | {
      readonly kind: 'started';
      readonly partition: string;
      readonly runId: string;
      readonly runNumber: number;
      /** Absent when the execution already existed (a duplicate launch of the same run). */
      readonly executionArn?: string;
    }
  | { readonly kind: 'skipped'; readonly partition: string; readonly reason: 'already running'; readonly runId: string }
  | {
      /**
       * The version the launch was for was consumed already (a redelivered event, an identical
       * re-upload, a tick delivered again): nothing was started or written.
       */
      readonly kind: 'duplicate';
      readonly partition: string;
      readonly reason: string;
    }
  | {
      readonly kind: 'deferred';
      readonly partition: string;
      /** `pipeline "<name>" is at its limit of <maxConcurrentRuns> concurrent runs`. */
      readonly reason: string;
    };

/**
 * Outcome of `launchRun` for an S3 arrival or upstream pipelines: never `skipped`, since new data
 * finding its partition RUNNING asks for a rerun instead.
 */
export type ArrivalLaunchResult =
  | Exclude<LaunchResult, { readonly kind: 'skipped' }>
  | {
      /**
       * The partition was RUNNING: that run is flagged (`rerunRequested`), and the run monitor
       * launches the next run once it ends, so the new data is processed.
       */
      readonly kind: 'rerun-requested';
      readonly partition: string;
      /** The run in progress, which the rerun follows. */
      readonly runId: string;
    };

type Started = Extract<LaunchResult, { readonly kind: 'started' }>;
type Skipped = Extract<LaunchResult, { readonly kind: 'skipped' }>;
type Deferred = Extract<LaunchResult, { readonly kind: 'deferred' }>;
type RerunRequested = Extract<ArrivalLaunchResult, { readonly kind: 'rerun-requested' }>;

/**
 * What a launch finding run `runId` of its partition RUNNING amounts to; `undefined` when that
 * run has ended in the meantime, so the launch should look again.
 */
type OnBusy<R> = (request: LaunchRequest, runId: string, deps: LaunchDeps) => Promise<R | undefined>;

/**
 * Triggers that bring new data (an S3 object, upstream partitions that succeeded): a run in
 * progress may have read its inputs before it came, so the next run follows it.
 */
type NewDataTrigger = 's3' | 'upstream';

/** Manual, scheduled and backfill launches: the run in progress does the work asked for. */
const skip: OnBusy<Skipped> = async ({ partition }, runId) => ({ kind: 'skipped', partition, reason: 'already running', runId });

/** S3 arrivals: the run in progress may have listed its inputs before this object landed. */
const requestRerun: OnBusy<RerunRequested> = async ({ config, partition }, runId, deps) =>
  (await deps.store.requestRerun(config.name, partition, runId)) ? { kind: 'rerun-requested', partition, runId } : undefined;

/** Thrown when a run is requested for a key that is not a partition of the pipeline. */
export class InvalidPartitionError extends Error {
  constructor(pipeline: string, partition: string, reason: string) {
    super(`Partition "${partition}" is not a partition of pipeline "${pipeline}": ${reason}`);
    this.name = 'InvalidPartitionError';
  }
}

/** Thrown when an S3 arrival can neither claim its partition nor flag the run in progress. */
export class RerunRequestError extends Error {
  constructor(pipeline: string, partition: string, tries: number) {
    super(
      `Could not launch partition "${partition}" of pipeline "${pipeline}" nor request a rerun of it: its run ended or ` +
        `changed under ${tries} consecutive tries. Another launcher is writing it at the same time; retry the launch.`,
    );
    this.name = 'RerunRequestError';
  }
}

/**
 * How many times an S3 arrival finding its partition RUNNING tries to flag that run before giving
 * up: each failed try means the run ended in between, so the next claim normally wins.
 */
const RERUN_TRIES = 3;

/**
 * Launches a run of one partition, with its parameters resolved over the declared defaults
 * (`InvalidParamsError` for an unknown name or a wrong type, before anything is written): unless the pipeline is at its limit of concurrent runs, claims
 * the partition, then starts the execution named after the claimed run. The partition never
 * stays RUNNING without an execution: when StartExecution fails it is marked FAILED.
 *
 * A partition already RUNNING is `skipped` when the launch is manual, scheduled or a backfill
 * (that run does the work asked for). An S3 arrival instead requests a rerun of it
 * (`rerun-requested`): the running run may have listed its inputs before this object landed, so
 * the run monitor starts the next run once the run ends. Should the run end between the claim
 * and the request, the launch claims again, up to `RERUN_TRIES` times.
 *
 * At the limit (`config.maxConcurrentRuns` partitions RUNNING), a partition that is itself
 * RUNNING is handled as above, and any other launch is `deferred`: nothing is written, and the
 * caller decides when to try again. The limit is best effort: the count reads an eventually
 * consistent index and is not part of the claim's conditional write, so two launchers racing
 * for the last slot may both pass it, and a claim made an instant earlier may not be counted.
 */
export function launchRun(request: LaunchRequest & { readonly trigger: NewDataTrigger }, deps: LaunchDeps): Promise<ArrivalLaunchResult>;
export function launchRun(
  request: LaunchRequest & { readonly trigger: Exclude<RunTrigger, NewDataTrigger> },
  deps: LaunchDeps,
): Promise<LaunchResult>;
export async function launchRun(given: LaunchRequest, deps: LaunchDeps): Promise<LaunchResult | ArrivalLaunchResult> {
  const { config, partition } = given;
  assertPartition(config, partition);
  // Validated before anything is written: a bad parameter never claims the partition.
  const request = { ...given, params: resolveParams(config.name, config.params, given.params) };
  const newData = request.trigger === 's3' || request.trigger === 'upstream';
  const onBusy: OnBusy<Skipped | RerunRequested> = newData ? requestRerun : skip;
  const atLimit = (await deps.store.countRunning(config.name)) >= config.maxConcurrentRuns;
  if (request.consumes) {
    const busy: BusyPolicy<Skipped | RerunRequested> = newData ? RERUN_AFTER : SERVED_BY_RUN;
    return launchConsuming({ ...request, consumes: request.consumes }, deps, atLimit, busy);
  }
  if (atLimit) return deferOrBusy(request, deps, onBusy);
  return claimAndStart(request, deps, onBusy);
}

/** How many times a consuming launch reads and decides again when its write lost a race. */
const CONSUME_TRIES = 5;

type Duplicate = Extract<LaunchResult, { readonly kind: 'duplicate' }>;

/** What new data finding its partition RUNNING amounts to. */
interface BusyPolicy<B> {
  /** Whether the next run must follow the run in progress (else that run serves the data). */
  readonly rerun: boolean;
  readonly result: (partition: string, runId: string) => B;
}

/** S3 arrivals: the run in progress may have listed its inputs before this object landed. */
const RERUN_AFTER: BusyPolicy<RerunRequested> = { rerun: true, result: (partition, runId) => ({ kind: 'rerun-requested', partition, runId }) };

/** Schedule ticks: the run in progress does the work asked for. */
const SERVED_BY_RUN: BusyPolicy<Skipped> = {
  rerun: false,
  result: (partition, runId) => ({ kind: 'skipped', partition, reason: 'already running', runId }),
};

/**
 * A launch for a data version (`request.consumes`): exactly once per (partition, data version).
 * Reads the partition and applies the rule of orchestration/consumed.ts to the version:
 *
 * - already consumed, or the same content: `duplicate`, nothing written. Unless a launch that
 *   consumed data failed and left a rerun pending on the ended partition: that rerun is launched.
 * - new, partition RUNNING: recorded on the run in progress, in the same write as the request
 *   for a rerun (S3 arrivals: `rerun-requested`, so several changes during a run cause one
 *   follow-up), or as served by that run (schedule ticks: `skipped`).
 * - new, partition not RUNNING: `deferred` at the limit, else claimed with the version recorded
 *   in the same conditional write, and started.
 *
 * Every write is conditioned on the item as read; a lost race reads and decides again.
 */
async function launchConsuming<B>(
  request: LaunchRequest & { readonly consumes: SourceVersion },
  deps: LaunchDeps,
  atLimit: boolean,
  busy: BusyPolicy<B>,
): Promise<Started | B | Deferred | Duplicate> {
  const { config, partition, trigger, consumes } = request;
  for (let i = 0; i < CONSUME_TRIES; i++) {
    const read = await deps.store.get(config.name, partition);
    const consumed = read?.consumed ?? [];
    const judged = judgeVersion(consumed, consumes);
    const next = (read?.runNumber ?? 0) + 1;
    if (judged.kind !== 'new') {
      if (!read || read.status === 'RUNNING' || !read.rerunRequested) return { kind: 'duplicate', partition, reason: judged.reason };
      if (atLimit) return { kind: 'deferred', partition, reason: atLimitReason(config) };
      // The pending data passes to the run about to be claimed.
      const pending = consumed.map((c) => (c.runNumber >= read.runNumber ? { ...c, runNumber: next } : c));
      const claim = await deps.store.claimConsuming(config.name, partition, read, { trigger, now: deps.now, consumed: pending });
      if (claim.kind === 'claimed') return start(request, claim, deps);
      continue;
    }
    if (read?.status === 'RUNNING') {
      const recorded = withConsumed(consumed, consumes, read.runNumber + (busy.rerun ? 1 : 0), deps.now);
      if (await deps.store.consumeWhileRunning(config.name, partition, read, { consumed: recorded, rerun: busy.rerun })) {
        return busy.result(partition, read.runId);
      }
      continue;
    }
    if (atLimit) return { kind: 'deferred', partition, reason: atLimitReason(config) };
    const recorded = withConsumed(consumed, consumes, next, deps.now);
    const claim = await deps.store.claimConsuming(config.name, partition, read, { trigger, now: deps.now, consumed: recorded });
    if (claim.kind === 'claimed') return start(request, claim, deps);
  }
  throw new PartitionClaimError(config.name, partition, CONSUME_TRIES);
}

/** Claims the partition and starts its execution, regardless of the limit. */
async function claimAndStart<R>(request: LaunchRequest, deps: LaunchDeps, onBusy: OnBusy<R>): Promise<Started | R> {
  const { config, partition, trigger } = request;
  for (let i = 0; i < RERUN_TRIES; i++) {
    const claim: ClaimResult = await deps.store.claim(config.name, partition, { trigger, now: deps.now });
    if (claim.kind === 'claimed') return start(request, claim, deps);
    const busy = await onBusy(request, claim.runId, deps);
    if (busy) return busy;
  }
  throw new RerunRequestError(config.name, partition, RERUN_TRIES);
}

/** Starts the execution of a claimed run. */
async function start(request: LaunchRequest, claim: Extract<ClaimResult, { kind: 'claimed' }>, deps: LaunchDeps): Promise<Started> {
  const { config, partition, trigger } = request;
  const input: RunInput = {
    pipeline: config.name,
    partition,
    runId: claim.runId,
    runNumber: claim.runNumber,
    trigger,
    ...onePartition(partition),
    params: (request.params ?? {}) as Record<string, ParamValue>,
    reuse: request.reuse ?? {},
  };
  try {
    const out = await deps.sfn.send(
      new StartExecutionCommand({ stateMachineArn: deps.stateMachineArn, name: claim.runId, input: JSON.stringify(input) }),
    );
    return { kind: 'started', partition, runId: claim.runId, runNumber: claim.runNumber, executionArn: out.executionArn };
  } catch (error) {
    // The name is unique per claimed run, so an existing execution is this very run.
    if (error instanceof Error && error.name === 'ExecutionAlreadyExists') {
      return { kind: 'started', partition, runId: claim.runId, runNumber: claim.runNumber };
    }
    // Data this run consumed still needs a run: the rerun requested here is started by the
    // next delivery of any of its events, or by the run monitor's reconciliation.
    const claimed = await deps.store.get(config.name, partition);
    await deps.store.markFailed(config.name, partition, claim.runId, {
      error: error instanceof Error ? error.name : 'StartExecutionFailed',
      cause: `StartExecution failed: ${error instanceof Error ? error.message : String(error)}`,
      now: deps.now,
      rerun: claimed !== undefined && consumedBy(claimed.consumed ?? [], claim.runNumber),
    });
    throw error;
  }
}

/** Outcome of {@link claimRun}. */
export type ClaimRunResult = { readonly kind: 'claimed'; readonly input: RunInput } | Skipped | Deferred;

/**
 * Claims a partition for a run that the caller starts itself, as a backfill does (it starts the
 * run with `startExecution.sync` and waits for it): the same limit check and conditional write as
 * {@link launchRun}, without the StartExecution. A partition already RUNNING is `skipped`, a
 * launch at the limit `deferred`, and `claimed` carries the run's input, whose `runId` is the
 * execution name to start it under.
 */
export async function claimRun(
  request: LaunchRequest,
  deps: {
    readonly store: Pick<PartitionStore, 'get' | 'countRunning' | 'claim'>;
    readonly now: Date;
    /** The partition's item as the caller has just read it. @default - read here */
    readonly read?: PartitionRead;
  },
): Promise<ClaimRunResult> {
  const { config, partition, trigger } = request;
  assertPartition(config, partition);
  const running = await deps.store.countRunning(config.name);
  if (running >= config.maxConcurrentRuns) {
    const current = deps.read ? deps.read.current : await deps.store.get(config.name, partition);
    return current?.status === 'RUNNING'
      ? { kind: 'skipped', partition, reason: 'already running', runId: current.runId }
      : { kind: 'deferred', partition, reason: atLimitReason(config) };
  }
  const claim = await deps.store.claim(config.name, partition, { trigger, now: deps.now, ...(deps.read && { read: deps.read }) });
  if (claim.kind === 'busy') return { kind: 'skipped', partition, reason: 'already running', runId: claim.runId };
  // A backfill's runs take the declared defaults of the run parameters and reuse nothing.
  const params = resolveParams(config.name, config.params, request.params);
  return {
    kind: 'claimed',
    input: { pipeline: config.name, partition, runId: claim.runId, runNumber: claim.runNumber, trigger, ...onePartition(partition), params, reuse: {} },
  };
}

/** The `partitions` and `range` of a run of one partition. */
export function onePartition(partition: string): Pick<RunInput, 'partitions' | 'range'> {
  return { partitions: [partition], range: { from: partition, to: partition } };
}

/** At the limit: a launch of a running partition is handled by `onBusy`, any other waits. */
async function deferOrBusy<R>(request: LaunchRequest, deps: LaunchDeps, onBusy: OnBusy<R>): Promise<Deferred | R> {
  const { config, partition } = request;
  for (let i = 0; i < RERUN_TRIES; i++) {
    const current = await deps.store.get(config.name, partition);
    if (current?.status !== 'RUNNING') return { kind: 'deferred', partition, reason: atLimitReason(config) };
    const busy = await onBusy(request, current.runId, deps);
    if (busy) return busy;
  }
  throw new RerunRequestError(config.name, partition, RERUN_TRIES);
}

function atLimitReason(config: LauncherConfig): string {
  const limit = config.maxConcurrentRuns;
  return `pipeline "${config.name}" is at its limit of ${limit} concurrent run${limit === 1 ? '' : 's'}`;
}

function assertPartition(config: LauncherConfig, partition: string): void {
  if (!config.partitions) {
    if (partition !== UNPARTITIONED_KEY) {
      throw new InvalidPartitionError(config.name, partition, `the pipeline is unpartitioned: its only key is "${UNPARTITIONED_KEY}"`);
    }
    return;
  }
  const valid = parsePartitionKey(config.partitions, partition);
  if (!valid.ok) throw new InvalidPartitionError(config.name, partition, valid.reason);
}

/** Outcome of `launchScheduled`. */
export type ScheduledLaunchResult =
  | { readonly kind: 'skip'; readonly reason: string }
  | { readonly kind: 'launched'; readonly runs: readonly LaunchResult[] };

/** Thrown when some partitions of a schedule tick could not be launched; the others were. */
export class ScheduledLaunchError extends Error {
  constructor(
    pipeline: string,
    public readonly failures: readonly { readonly partition: string; readonly error: unknown }[],
  ) {
    const list = failures
      .map((f) => `"${f.partition}" (${f.error instanceof Error ? f.error.message : String(f.error)})`)
      .join(', ');
    super(`Pipeline "${pipeline}": ${failures.length} scheduled run(s) failed to launch: ${list}`, {
      cause: failures[0]?.error,
    });
    this.name = 'ScheduledLaunchError';
  }
}

/**
 * Thrown when runs of a schedule tick were deferred at the pipeline's limit of concurrent runs
 * (and none failed), so that the invocation is retried; `runs` holds every partition's outcome.
 */
export class LaunchDeferredError extends Error {
  constructor(
    config: LauncherConfig,
    public readonly runs: readonly LaunchResult[],
  ) {
    const deferred = runs.flatMap((r) => (r.kind === 'deferred' ? [`"${r.partition}"`] : []));
    super(
      `Deferred the scheduled run(s) of ${deferred.join(', ')}: ${atLimitReason(config)}. The invocation is retried; ` +
        'if runs wait often, raise maxConcurrentRuns or spread the schedule.',
    );
    this.name = 'LaunchDeferredError';
  }
}

/**
 * Launches the partition(s) a schedule tick runs: the last complete time partition, combined
 * with every static key for static and multi-dimensional pipelines.
 *
 * Each partition consumes the tick's scheduled time (orchestration/consumed.ts): a tick delivered
 * again, or retried, never runs a partition twice. The tick's partitions share the free slots
 * under `maxConcurrentRuns`, counted once, in key order; the others are deferred and the tick
 * throws `LaunchDeferredError` to be retried: the retry launches only those not yet launched.
 */
export async function launchScheduled(
  config: LauncherConfig,
  scheduledTime: Date,
  deps: LaunchDeps,
): Promise<ScheduledLaunchResult> {
  const plan = partitionsForScheduledTime(config.partitions, scheduledTime);
  if (plan.kind === 'skip') return plan;
  const { partitions } = plan;
  const free = config.maxConcurrentRuns - (await deps.store.countRunning(config.name));
  const settled = await Promise.allSettled(
    partitions.map(async (partition, index) => {
      assertPartition(config, partition);
      const request = { config, partition, trigger: 'schedule' as const, consumes: scheduleVersion(scheduledTime), params: resolveParams(config.name, config.params) };
      return launchConsuming(request, deps, index >= free, SERVED_BY_RUN);
    }),
  );
  const failures = settled.flatMap((s, i) => (s.status === 'rejected' ? [{ partition: partitions[i], error: s.reason }] : []));
  if (failures.length > 0) throw new ScheduledLaunchError(config.name, failures);
  const runs = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  if (runs.some((r) => r.kind === 'deferred')) throw new LaunchDeferredError(config, runs);
  return { kind: 'launched', runs };
}
