/**
 * The launcher's core, given its clients and environment (`launcherHandler`): pure of the
 * process's environment, so tests build it with their own dependencies.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { LAUNCHER_METRICS, PARTITION_EVENTS } from '../../lib/compile/contract';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
// The orchestration modules one by one, not through their index, which would bundle (and load at
// every cold start) what only the other functions use: the run monitor's SNS and EventBridge clients.
import { s3Version } from '../../orchestration/consumed';
import { DeadLetters, type Rejection } from '../../orchestration/dead-letters';
import type { LauncherEnvironment } from '../../orchestration/environment';
import { LaunchDeferredError, type LaunchDeps, type LaunchResult, launchRun, launchScheduled, ScheduledLaunchError, type ScheduledLaunchResult } from '../../orchestration/launch';
import { launchRerun, type RerunDeps, type RerunResult } from '../../orchestration/rerun';
import { partitionFromS3Event } from '../../orchestration/s3-arrival';
import { launchFromUpstream } from '../../orchestration/upstream';
import { type LauncherInvocation, launcherInvocationSchema, safeParse, sqsBatchSchema } from '../../orchestration/schemas';

/** Input of an EventBridge Scheduler invocation: `scheduledTime` is `<aws.scheduler.scheduled-time>`. */
export type ScheduleInvocation = Extract<LauncherInvocation, { source: 'schedule' }>;

/** A run of one partition asked for directly (`sluice run`, a backfill), with run parameters by name (the defaults when left out). */
export type DirectInvocation = Extract<LauncherInvocation, { source: 'manual' | 'backfill' }>;

/** A new run of an ended run's partition that executes only some of its tasks (`sluice rerun`); by default the failed ones. */
export type RerunInvocation = Extract<LauncherInvocation, { source: 'rerun' }>;

/**
 * Every event the launcher accepts: an SQS batch of S3 `Object Created` events and upstream
 * pipelines' `Partition Succeeded` events, or an invocation.
 */
export type LauncherEvent = SQSEvent | ScheduleInvocation | DirectInvocation | RerunInvocation;

/** What the launcher's core needs, created once per container. */
export interface LauncherHandlerDeps {
  readonly env: Pick<LauncherEnvironment, 'config' | 'bucketNames' | 'stateMachineArn'>;
  readonly store: LaunchDeps['store'];
  readonly sfn: RerunDeps['sfn'];
  readonly results: RerunDeps['results'];
  /** Where a record that can never start a run goes at once, with the reason. */
  readonly deadLetters: Pick<DeadLetters, 'send'>;
  readonly logger: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** Counts what happened to every event (`LAUNCHER_METRICS`), published once per invocation. */
  readonly metrics: Pick<Metrics, 'addMetric' | 'hasStoredMetrics' | 'publishStoredMetrics'>;
  readonly clock: () => Date;
}

/** Thrown for an invocation of a shape the launcher does not know. */
export class UnsupportedLauncherEventError extends Error {
  constructor(event: unknown) {
    super(
      `The launcher accepts an SQS batch, { source: 'schedule', scheduledTime }, { source: 'manual' | 'backfill', ` +
        `partition } or { source: 'rerun', runId, selection? }; got ${JSON.stringify(event)?.slice(0, 200)}`,
    );
    this.name = 'UnsupportedLauncherEventError';
  }
}

/**
 * The launcher's core. SQS records that can never start a run (malformed, or a key yielding no
 * valid partition) are logged, counted and moved to their queue's dead-letter queue at once with
 * the reason as message attributes; should that move fail, they are reported as batch item
 * failures, so that the queue's redrive policy moves them after `maxReceiveCount` receives.
 * Records matching no trigger are dropped on purpose. Invocations throw on failure so that
 * they are retried. An arrival for a partition whose run is in progress is done with once a
 * rerun of that run is requested: the run monitor launches it when the run ends.
 *
 * A launch deferred at the pipeline's `maxConcurrentRuns` waits where it came from: an SQS record
 * is reported as a batch item failure, so the queue delivers it again after its visibility
 * timeout (a congestion that outlasts `maxReceiveCount` receives moves it to the dead-letter
 * queue, from where it can be redriven: nothing is lost); a schedule tick throws
 * `LaunchDeferredError`, so that its asynchronous invocation is retried and, once retries are
 * exhausted, kept by the function's on-failure destination; a manual or backfill launch
 * returns the `deferred` result to its caller.
 */
export function launcherHandler(deps: LauncherHandlerDeps) {
  const { env, logger } = deps;
  const launchDeps = (): LaunchDeps => ({
    store: deps.store,
    sfn: deps.sfn,
    stateMachineArn: env.stateMachineArn,
    now: deps.clock(),
  });

  const count = (metric: keyof typeof LAUNCHER_METRICS, value = 1) => {
    if (value > 0) deps.metrics.addMetric(LAUNCHER_METRICS[metric], MetricUnit.Count, value);
  };
  const countLaunch = (result: { kind: string }) =>
    count(result.kind === 'started' ? 'runsStarted' : result.kind === 'rerun-requested' ? 'rerunsRequested' : result.kind === 'duplicate' ? 'duplicates' : 'deferred');

  /**
   * A record that can never start a run: counted and logged, then done with once it is in the
   * dead-letter queue; left to the queue's redrive if it could not be moved there.
   */
  async function reject(record: SQSRecord, rejection: Rejection): Promise<boolean> {
    count(rejection.kind);
    try {
      if (await deps.deadLetters.send(record, rejection)) {
        logger.error(`${rejection.reason}; moved to the dead-letter queue`, { messageId: record.messageId });
        return true;
      }
    } catch (error) {
      logger.error('Could not move the record to the dead-letter queue; the queue redrives it there', { messageId: record.messageId, error: error as Error });
    }
    logger.error(`${rejection.reason}; left for the dead-letter queue`, { messageId: record.messageId });
    return false;
  }

  /** Whether the record is done with; a thrown error is a failure the queue retries. */
  async function onRecord(record: SQSRecord): Promise<boolean> {
    try {
      return await handleRecord(record);
    } catch (error) {
      count('failed');
      logger.error('Launch failed; the record will be retried', { messageId: record.messageId, error: error as Error });
      return false;
    }
  }

  async function handleRecord(record: SQSRecord): Promise<boolean> {
    let body: unknown;
    try {
      body = JSON.parse(record.body);
    } catch (error) {
      return reject(record, { kind: 'malformed', reason: `Malformed record: body is not JSON (${(error as Error).message})` });
    }
    if ((body as { source?: unknown } | null)?.source === PARTITION_EVENTS.source) return handleUpstream(record, body);
    const decision = partitionFromS3Event(env.config, env.bucketNames, body);
    if (decision.kind === 'malformed' || decision.kind === 'invalid') {
      return reject(record, { kind: decision.kind, reason: `${decision.kind === 'malformed' ? 'Malformed record' : 'No valid partition'}: ${decision.reason}` });
    }
    if (decision.kind === 'ignore') {
      count('ignored');
      logger.warn('Record ignored', { messageId: record.messageId, reason: decision.reason });
      return true;
    }
    const result = await launchRun(
      { config: env.config, partition: decision.partition, trigger: 's3', consumes: s3Version(decision.object) },
      launchDeps(),
    );
    countLaunch(result);
    if (result.kind === 'deferred') {
      logger.info('Launch from S3 arrival deferred; the queue delivers the record again after its visibility timeout', {
        messageId: record.messageId,
        object: decision.object,
        result,
      });
      return false;
    }
    logger.info('Launch from S3 arrival', { messageId: record.messageId, object: decision.object, result });
    return true;
  }

  /** An upstream partition succeeded: launch what it completes (see `launchFromUpstream`). */
  async function handleUpstream(record: SQSRecord, body: unknown): Promise<boolean> {
    const outcome = await launchFromUpstream(env.config, body, launchDeps());
    if (outcome.kind === 'invalid') return reject(record, { kind: 'malformed', reason: `Malformed record: ${outcome.reason}` });
    if (outcome.kind === 'ignore') {
      count('ignored');
      logger.info('Record ignored', { messageId: record.messageId, reason: outcome.reason });
      return true;
    }
    for (const partition of outcome.partitions) if (partition.kind !== 'waiting') countLaunch(partition);
    const deferred = outcome.partitions.some((p) => p.kind === 'deferred');
    logger.info(deferred ? 'Launch from upstream deferred; the queue delivers the record again after its visibility timeout' : 'Launch from upstream', {
      messageId: record.messageId,
      partitions: outcome.partitions,
    });
    return !deferred;
  }

  const handle = async (event: LauncherEvent): Promise<SQSBatchResponse | ScheduledLaunchResult | LaunchResult | RerunResult> => {
    if ('Records' in event && sqsBatchSchema.safeParse(event).success) {
      const outcomes = await Promise.all(event.Records.map(onRecord));
      return {
        batchItemFailures: event.Records.flatMap((r, i) => (outcomes[i] ? [] : [{ itemIdentifier: r.messageId }])),
      };
    }
    const parsed = safeParse(launcherInvocationSchema, event);
    if (!parsed.success) {
      count('malformed');
      throw new UnsupportedLauncherEventError(event);
    }
    const invocation = parsed.data;
    if (invocation.source === 'schedule') {
      const scheduledTime = new Date(invocation.scheduledTime);
      try {
        const result = await launchScheduled(env.config, scheduledTime, launchDeps());
        if (result.kind === 'launched') result.runs.forEach(countLaunch);
        logger.info('Scheduled launch', { scheduledTime: invocation.scheduledTime, result });
        return result;
      } catch (error) {
        if (error instanceof LaunchDeferredError) {
          error.runs.forEach(countLaunch);
          logger.info('Scheduled launch deferred; the invocation is retried', { scheduledTime: invocation.scheduledTime, runs: error.runs });
        } else {
          count('failed', error instanceof ScheduledLaunchError ? error.failures.length : 1);
        }
        throw error;
      }
    }
    if (invocation.source === 'rerun') {
      const result = await launchRerun(
        { config: env.config, runId: invocation.runId, selection: invocation.selection ?? { kind: 'failed' } },
        { ...launchDeps(), sfn: deps.sfn, results: deps.results },
      );
      logger.info('Rerun launch', { result });
      return result;
    }
    const result = await launchRun({ config: env.config, partition: invocation.partition, trigger: invocation.source, params: invocation.params }, launchDeps());
    if (result.kind !== 'skipped') countLaunch(result);
    logger.info('Direct launch', { result });
    return result;
  };

  return async (event: LauncherEvent): Promise<SQSBatchResponse | ScheduledLaunchResult | LaunchResult | RerunResult> => {
    try {
      return await handle(event);
    } finally {
      if (deps.metrics.hasStoredMetrics()) deps.metrics.publishStoredMetrics();
    }
  };
}
