import { PublishCommand, type PublishCommandOutput } from '@aws-sdk/client-sns';
import type { RunInput } from '../lib/compile/contract';
import type { PartitionStore } from './partition-store';

/** Detail of an EventBridge `Step Functions Execution Status Change` event. */
export interface ExecutionStatusChangeDetail {
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly name: string;
  readonly status: string;
  /** The execution input as a JSON string: a `RunInput` for runs started by the launcher. */
  readonly input?: string | null;
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

/** The run an execution belongs to, when its input is a launcher's `RunInput`. */
export function runInputOf(detail: ExecutionStatusChangeDetail): RunInput | undefined {
  if (!detail.input) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(detail.input);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.pipeline !== 'string' || typeof v.partition !== 'string' || typeof v.runId !== 'string') return undefined;
  return {
    pipeline: v.pipeline,
    partition: v.partition,
    runId: v.runId,
    attempt: typeof v.attempt === 'number' ? v.attempt : 0,
    trigger: typeof v.trigger === 'string' ? v.trigger : 'unknown',
  };
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

  const rows: [string, string | undefined][] = [
    ['Pipeline', run?.pipeline ?? '(unknown: the execution was not started by the sluice launcher)'],
    ['Partition', run?.partition],
    ['Run id', run?.runId ?? d.name],
    ['Attempt', run ? String(run.attempt) : undefined],
    ['Trigger', run?.trigger],
    ['Status', d.status],
    ['Started', instant(d.startDate)],
    ['Stopped', instant(d.stopDate)],
    ['Error', d.error ?? undefined],
    ['Cause', d.cause ? truncate(readableCause(d.cause), CAUSE_MAX) : undefined],
  ];
  const lines = rows.filter((r): r is [string, string] => r[1] !== undefined).map(([k, v]) => `${`${k}:`.padEnd(11)}${v}`);
  const message = [
    `A run ${d.status === 'FAILED' ? 'failed' : d.status === 'TIMED_OUT' ? 'timed out' : 'was aborted'}: ${what}.`,
    '',
    ...lines,
    '',
    `Execution: ${executionConsoleUrl(region, d.executionArn)}`,
  ].join('\n');
  return { subject, message };
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

/** What the run monitor needs from the outside world. */
export interface RunMonitorDeps {
  readonly store: Pick<PartitionStore, 'markFailed'>;
  readonly sns: PublishClient;
  readonly topicArn: string;
  readonly region: string;
}

/** Outcome of `handleStatusChange`. */
export type StatusChangeResult =
  | { readonly kind: 'ignored'; readonly reason: string }
  | { readonly kind: 'alerted'; readonly markedFailed: boolean; readonly run?: RunInput };

/**
 * Records the failure of a run and alerts about it. TIMED_OUT and ABORTED executions bypass the
 * state machine's Catch, so without this their partition would stay RUNNING forever. The write
 * comes first because it is idempotent: when publishing fails, the redelivered event repeats both.
 */
export async function handleStatusChange(event: ExecutionStatusChangeEvent, deps: RunMonitorDeps): Promise<StatusChangeResult> {
  const d = event.detail;
  if (!FAILED_EXECUTION_STATUSES.includes(d.status)) {
    return { kind: 'ignored', reason: `status ${d.status} is not a failure` };
  }
  const run = runInputOf(d);
  const markedFailed = run
    ? await deps.store.markFailed(run.pipeline, run.partition, run.runId, {
        error: d.error ?? `Execution${d.status === 'TIMED_OUT' ? 'TimedOut' : d.status === 'ABORTED' ? 'Aborted' : 'Failed'}`,
        cause: d.cause ?? `The execution ended with status ${d.status}`,
        now: typeof d.stopDate === 'number' ? new Date(d.stopDate) : undefined,
      })
    : false;
  const alert = formatAlert(event, deps.region);
  await deps.sns.send(new PublishCommand({ TopicArn: deps.topicArn, Subject: alert.subject, Message: alert.message }));
  return { kind: 'alerted', markedFailed, ...(run && { run }) };
}
