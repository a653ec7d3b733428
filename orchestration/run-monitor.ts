import { PutEventsCommand, type PutEventsCommandOutput } from '@aws-sdk/client-eventbridge';
import { PublishCommand, type PublishCommandOutput } from '@aws-sdk/client-sns';
import {
  type LauncherConfig,
  PARTITION_EVENTS,
  type PartitionEventDetail,
  RUN_ENDED_OUTPUT,
  type RunEnded,
  type RunRef,
  runNumberOfInput,
} from '../lib/compile/contract';
import { type ArrivalLaunchResult, type LaunchDeps, launchRun, type StartExecutionClient } from './launch';
import type { PartitionRecord, PartitionStore } from './partition-store';

/** Detail of an EventBridge `Step Functions Execution Status Change` event. */
export interface ExecutionStatusChangeDetail {
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly name: string;
  readonly status: string;
  /** The execution input as a JSON string: a `RunInput` for runs started by the launcher. */
  readonly input?: string | null;
  /** A successful execution's output as a JSON string; null when it was too large for the event. */
  readonly output?: string | null;
  readonly error?: string | null;
  readonly cause?: string | null;
  /** Epoch milliseconds. */
  readonly startDate?: number | null;
  /** Epoch milliseconds. */
  readonly stopDate?: number | null;
}

/** An EventBridge `Step Functions Execution Status Change` event. */
export interface ExecutionStatusChangeEvent {
  readonly 'detail-type': string;
  readonly source: string;
  readonly time?: string;
  readonly detail: ExecutionStatusChangeDetail;
}

/** An alert ready for SNS. */
export interface Alert {
  /** At most 100 printable ASCII characters, as SNS requires of a subject. */
  readonly subject: string;
  readonly message: string;
}

/** Statuses of an execution that ended without success. */
export const FAILED_EXECUTION_STATUSES: readonly string[] = Object.freeze(['FAILED', 'TIMED_OUT', 'ABORTED']);

const SUBJECT_MAX = 100;
const CAUSE_MAX = 2000;

/**
 * The partitions of a backfill batch (`backfill.partitionsPerRun`) other than the run's own
 * `partition`, as the execution input lists them: empty for a run of one partition.
 */
export function batchPartitionsOf(detail: ExecutionStatusChangeDetail, run: RunRef): readonly string[] {
  const partitions = (parsedJson(detail.input) as { partitions?: unknown } | undefined)?.partitions;
  if (!Array.isArray(partitions)) return [];
  return partitions.filter((p): p is string => typeof p === 'string' && p !== run.partition);
}

/** The run an execution belongs to, when its input is a launcher's `RunInput`. */
export function runInputOf(detail: ExecutionStatusChangeDetail): RunRef | undefined {
  const value = parsedJson(detail.input);
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.pipeline !== 'string' || typeof v.partition !== 'string' || typeof v.runId !== 'string') return undefined;
  return {
    pipeline: v.pipeline,
    partition: v.partition,
    runId: v.runId,
    runNumber: runNumberOfInput(v) ?? 0,
    trigger: typeof v.trigger === 'string' ? v.trigger : 'unknown',
    ...(v.downstream === false && { downstream: false }),
  };
}

/**
 * What the state machine's end write found (`RUN_ENDED_OUTPUT`), as the output of a successful
 * run says: absent when the output lacks it.
 */
export function runEndedOf(detail: ExecutionStatusChangeDetail): RunEnded | undefined {
  const ended = (parsedJson(detail.output) as Record<string, { rerunRequested?: unknown } | undefined> | null | undefined)?.[RUN_ENDED_OUTPUT];
  return typeof ended?.rerunRequested === 'boolean' ? { rerunRequested: ended.rerunRequested } : undefined;
}

/** An execution's input or output (JSON text), parsed: `undefined` when absent or not JSON. */
function parsedJson(text: string | null | undefined): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** The console page of an execution. */
export function executionConsoleUrl(region: string, executionArn: string): string {
  return `https://${region}.console.aws.amazon.com/states/home?region=${region}#/v2/executions/details/${executionArn}`;
}

/** Renders a failed, timed-out or aborted run as a short subject and a readable message. */
export function formatAlert(event: ExecutionStatusChangeEvent, region: string): Alert {
  const d = event.detail;
  const run = runInputOf(d);
  const what = run ? `${run.pipeline} partition ${run.partition}` : `execution ${d.name}`;
  const subject = truncate(toSubjectText(`sluice: ${d.status} ${what}`), SUBJECT_MAX);

  const rows: AlertRow[] = [
    ['Pipeline', run?.pipeline ?? '(unknown: the execution was not started by the sluice launcher)'],
    ['Partition', run?.partition],
    ['Run id', run?.runId ?? d.name],
    ['Run number', run ? String(run.runNumber) : undefined],
    ['Trigger', run?.trigger],
    ['Status', d.status],
    ['Started', instant(d.startDate)],
    ['Stopped', instant(d.stopDate)],
    ['Error', d.error ?? undefined],
    ['Cause', d.cause ? truncate(readableCause(d.cause), CAUSE_MAX) : undefined],
  ];
  const headline = `A run ${d.status === 'FAILED' ? 'failed' : d.status === 'TIMED_OUT' ? 'timed out' : 'was aborted'}: ${what}.`;
  return { subject, message: renderMessage(headline, rows, `Execution: ${executionConsoleUrl(region, d.executionArn)}`) };
}

/**
 * Renders a run whose launch was interrupted between its claim and StartExecution, so that no
 * execution exists to link to, in the shape of `formatAlert`.
 */
export function formatLaunchInterruptedAlert(record: PartitionRecord, failure: { error: string; cause: string }): Alert {
  const what = `${record.pipeline} partition ${record.partition}`;
  const subject = truncate(toSubjectText(`sluice: LAUNCH INTERRUPTED ${what}`), SUBJECT_MAX);
  const rows: AlertRow[] = [
    ['Pipeline', record.pipeline],
    ['Partition', record.partition],
    ['Run id', record.runId],
    ['Run number', String(record.runNumber)],
    ['Trigger', record.trigger],
    ['Status', 'FAILED'],
    ['Claimed', record.claimedAt],
    ['Error', failure.error],
    ['Cause', truncate(failure.cause, CAUSE_MAX)],
  ];
  const footer = 'No execution was started: launch the partition again once the launcher is fixed (its logs tell why it stopped).';
  return { subject, message: renderMessage(`A run's launch was interrupted: ${what}.`, rows, footer) };
}

type AlertRow = [label: string, value: string | undefined];

function renderMessage(headline: string, rows: readonly AlertRow[], footer: string): string {
  const lines = rows.filter((r): r is [string, string] => r[1] !== undefined).map(([k, v]) => `${`${k}:`.padEnd(12)}${v}`);
  return [headline, '', ...lines, '', footer].join('\n');
}

/** A Lambda error's cause is a JSON string; its type and message are what a reader needs first. */
function readableCause(cause: string): string {
  try {
    const parsed = JSON.parse(cause) as { errorType?: unknown; errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string') {
      return typeof parsed.errorType === 'string' ? `${parsed.errorType}: ${parsed.errorMessage}` : parsed.errorMessage;
    }
  } catch {
    // Not JSON: shown as it is.
  }
  return cause;
}

function instant(epochMs: number | null | undefined): string | undefined {
  return typeof epochMs === 'number' ? new Date(epochMs).toISOString() : undefined;
}

/** SNS subjects: printable ASCII, no line breaks. */
function toSubjectText(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?');
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 3)}...`;
}

/** The one SNS call the run monitor makes; `SNSClient` satisfies it. */
export interface PublishClient {
  send(command: PublishCommand): Promise<PublishCommandOutput>;
}

/** The one EventBridge call the run monitor makes; `EventBridgeClient` satisfies it. */
export interface PutEventsClient {
  send(command: PutEventsCommand): Promise<PutEventsCommandOutput>;
}

/** Thrown when EventBridge refuses a partition event, so that the status change is retried. */
export class PartitionEventError extends Error {
  constructor(detailType: string, run: RunRef, reason: string) {
    super(`Publishing "${detailType}" for partition "${run.partition}" of pipeline "${run.pipeline}" failed: ${reason}`);
    this.name = 'PartitionEventError';
  }
}

/**
 * Publishes the end of a run as a `Partition Succeeded` or `Partition Failed` event
 * (`PARTITION_EVENTS`) to the stage's event bus.
 */
export async function publishPartitionEvent(
  events: NonNullable<RunMonitorDeps['events']>,
  run: RunRef,
  ended: { status: string; error?: string; time?: Date },
): Promise<void> {
  const detailType = ended.status === 'SUCCEEDED' ? PARTITION_EVENTS.succeeded : PARTITION_EVENTS.failed;
  const detail: PartitionEventDetail = {
    pipeline: run.pipeline,
    partition: run.partition,
    runId: run.runId,
    runNumber: run.runNumber,
    trigger: run.trigger,
    status: ended.status,
    ...(ended.error !== undefined && { error: ended.error }),
    ...(run.downstream === false && { downstream: false }),
  };
  const out = await events.client.send(
    new PutEventsCommand({
      Entries: [
        {
          EventBusName: events.busName,
          Source: PARTITION_EVENTS.source,
          DetailType: detailType,
          Detail: JSON.stringify(detail),
          ...(ended.time && { Time: ended.time }),
        },
      ],
    }),
  );
  if ((out.FailedEntryCount ?? 0) > 0) {
    const entry = out.Entries?.[0];
    throw new PartitionEventError(detailType, run, `${entry?.ErrorCode ?? 'unknown error'}: ${entry?.ErrorMessage ?? ''}`);
  }
}

/** What the run monitor needs from the outside world. */
export interface RunMonitorDeps {
  /**
   * Where ended partitions are published (`Partition Succeeded` / `Partition Failed`). The
   * deployed monitor always has it.
   *
   * @default - no partition events
   */
  readonly events?: { readonly client: PutEventsClient; readonly busName: string };
  /** Marks failed runs (and the other partitions of a batch), reads requested reruns and launches them. */
  readonly store: LaunchDeps['store'] & Pick<PartitionStore, 'markSucceeded'>;
  readonly sns: PublishClient;
  readonly topicArn: string;
  readonly region: string;
  /** The monitored pipeline, as the launcher has it: reruns are launched with it. */
  readonly config: LauncherConfig;
  /** Starts reruns. */
  readonly sfn: StartExecutionClient;
  /** The monitored state machine, where reruns start. */
  readonly stateMachineArn: string;
  readonly clock: () => Date;
}

/**
 * The launch of a rerun: `started`, or `rerun-requested` when another run of the partition started
 * in the meantime (the request then passes to that run). A deferred rerun throws instead.
 */
export type RerunLaunch = Exclude<ArrivalLaunchResult, { readonly kind: 'deferred' }>;

/** Outcome of `handleStatusChange`. */
export type StatusChangeResult =
  | { readonly kind: 'ignored'; readonly reason: string }
  | {
      readonly kind: 'alerted';
      readonly markedFailed: boolean;
      readonly run?: RunRef;
      /** The launch of the rerun an S3 arrival requested while the run was in progress, if any. */
      readonly rerun?: RerunLaunch;
    }
  | {
      readonly kind: 'succeeded';
      readonly run: RunRef;
      /** The launch of the rerun an S3 arrival requested while the run was in progress, if any. */
      readonly rerun?: RerunLaunch;
    };

/** Thrown when a requested rerun waits at the pipeline's limit of concurrent runs, so that the event is retried. */
export class RerunDeferredError extends Error {
  constructor(run: RunRef, reason: string) {
    super(
      `The rerun of partition "${run.partition}" of pipeline "${run.pipeline}" requested during run ${run.runId} is deferred: ` +
        `${reason}. The event is retried; the request stays on the partition until a run of it starts.`,
    );
    this.name = 'RerunDeferredError';
  }
}

/**
 * Handles the end of a run. A failed, timed-out or aborted run is marked FAILED and alerted about:
 * TIMED_OUT and ABORTED executions bypass the state machine's Catch, so without this their
 * partition would stay RUNNING forever. The write comes first because it is idempotent: when
 * publishing fails, the redelivered event repeats both.
 *
 * Every run started by the launcher is then published as a `Partition Succeeded` or `Partition
 * Failed` event to the stage's event bus (pipelines that run after this one listen to those).
 *
 * Then, whatever the status, when an S3 arrival requested a rerun while the run was in progress
 * (`rerunRequested` on the partition, still naming this run; read unless the output of a
 * successful run says its end write found none), the next run is launched as
 * the launcher launches an arrival. A failed run is rerun too: the data that arrived since may be
 * what it lacked, and the rerun is the only run that will ever see it. A rerun deferred at the
 * pipeline's `maxConcurrentRuns` throws `RerunDeferredError` so that the event is retried (which
 * repeats the alert of a failed run); the request stays on the partition until then.
 */
export async function handleStatusChange(event: ExecutionStatusChangeEvent, deps: RunMonitorDeps): Promise<StatusChangeResult> {
  const d = event.detail;
  const failed = FAILED_EXECUTION_STATUSES.includes(d.status);
  if (!failed && d.status !== 'SUCCEEDED') {
    return { kind: 'ignored', reason: `status ${d.status} is not the end of a run` };
  }
  const run = runInputOf(d);
  const stopped = typeof d.stopDate === 'number' ? new Date(d.stopDate) : undefined;
  // The state machine records its own partition; the other partitions of a backfill batch share
  // its outcome, recorded here (conditioned on each still RUNNING under this run) and published.
  const others = run ? batchPartitionsOf(d, run) : [];
  if (!failed) {
    if (!run) return { kind: 'ignored', reason: `execution ${d.name} was not started by the sluice launcher` };
    for (const partition of others) await deps.store.markSucceeded(run.pipeline, partition, run.runId, { now: stopped });
    if (deps.events) {
      for (const partition of [run.partition, ...others]) await publishPartitionEvent(deps.events, { ...run, partition }, { status: d.status, time: stopped });
    }
    // The end write found no rerun requested, and none can be asked of a run that has ended.
    const rerun = runEndedOf(d)?.rerunRequested === false ? undefined : await rerunIfRequested(run, deps);
    return { kind: 'succeeded', run, ...(rerun && { rerun }) };
  }
  const failure = {
    error: d.error ?? `Execution${d.status === 'TIMED_OUT' ? 'TimedOut' : d.status === 'ABORTED' ? 'Aborted' : 'Failed'}`,
    cause: d.cause ?? `The execution ended with status ${d.status}`,
    now: stopped,
  };
  const markedFailed = run ? await deps.store.markFailed(run.pipeline, run.partition, run.runId, failure) : false;
  if (run) for (const partition of others) await deps.store.markFailed(run.pipeline, partition, run.runId, failure);
  const alert = formatAlert(event, deps.region);
  await deps.sns.send(new PublishCommand({ TopicArn: deps.topicArn, Subject: alert.subject, Message: alert.message }));
  if (run && deps.events) {
    for (const partition of [run.partition, ...others]) {
      await publishPartitionEvent(deps.events, { ...run, partition }, { status: d.status, error: d.error ?? undefined, time: stopped });
    }
  }
  const rerun = run && (await rerunIfRequested(run, deps));
  return { kind: 'alerted', markedFailed, ...(run && { run }), ...(rerun && { rerun }) };
}

/**
 * Launches the rerun requested of `run`, if the partition still asks for one after this very run
 * (a redelivered event finds the flag gone, cleared by the rerun's claim). Throws
 * `RerunDeferredError` when the rerun waits at the pipeline's limit.
 */
export async function rerunIfRequested(run: RunRef, deps: RunMonitorDeps): Promise<RerunLaunch | undefined> {
  if (run.pipeline !== deps.config.name) return undefined;
  const current = await deps.store.get(run.pipeline, run.partition);
  if (!current?.rerunRequested || current.runId !== run.runId) return undefined;
  const rerun = await launchRun(
    { config: deps.config, partition: run.partition, trigger: 's3' },
    { store: deps.store, sfn: deps.sfn, stateMachineArn: deps.stateMachineArn, now: deps.clock() },
  );
  if (rerun.kind === 'deferred') throw new RerunDeferredError(run, rerun.reason);
  return rerun;
}
