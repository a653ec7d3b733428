import { Duration } from 'aws-cdk-lib';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { PARTITION_EVENTS } from '../compile/contract';
import { queuedLaunchRule } from './private/queues';

/** Properties of an {@link UpstreamTrigger}. */
export interface UpstreamTriggerProps {
  /** The stage's event bus, where run monitors publish ended partitions. */
  readonly eventBus: events.IEventBus;
  /** Names of the pipelines this one runs after. */
  readonly upstreams: readonly string[];
  /** The pipeline's launcher, which checks every upstream in the partition table before it claims. */
  readonly launcher: lambda.IFunction;
  /**
   * The launcher's timeout, which sets the queue's visibility timeout.
   *
   * @default Duration.seconds(30)
   */
  readonly launcherTimeout?: Duration;
}

/**
 * Starts runs when partitions of upstream pipelines succeed: an EventBridge rule on the stage's
 * bus, matching `Partition Succeeded` events of those pipelines, feeds a queue that the launcher
 * drains (with a dead-letter queue, as for S3 arrivals). The launcher maps each upstream
 * partition to its own, and claims a partition only once every upstream partition it waits for
 * has succeeded.
 *
 * @see https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html
 */
export class UpstreamTrigger extends Construct {
  public readonly rule: events.Rule;
  public readonly queue: sqs.Queue;
  public readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: UpstreamTriggerProps) {
    super(scope, id);
    ({ rule: this.rule, queue: this.queue, deadLetterQueue: this.deadLetterQueue } = queuedLaunchRule(
      this,
      { rule: 'Rule', queue: 'Upstream', deadLetters: 'DeadLetters' },
      {
        launcher: props.launcher,
        launcherTimeout: props.launcherTimeout ?? Duration.seconds(30),
        what: 'the upstream events queue',
        rule: {
          eventBus: props.eventBus,
          description: `Partitions succeeded in ${props.upstreams.join(', ')}`,
          eventPattern: {
            source: [PARTITION_EVENTS.source],
            detailType: [PARTITION_EVENTS.succeeded],
            // A backfill asked not to start downstream pipelines marks its events `downstream: false`.
            detail: { pipeline: [...props.upstreams], downstream: [{ exists: false }] },
          },
        },
      },
    ));
  }
}
