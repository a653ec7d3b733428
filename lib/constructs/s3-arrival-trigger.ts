import { Duration } from 'aws-cdk-lib';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { S3ArrivalTrigger as S3ArrivalDefinition } from '../definitions/triggers';
import { MAX_RECEIVE_COUNT, queuedLaunchRule } from './private/queues';

/** Properties of an {@link S3ArrivalTrigger}. */
export interface S3ArrivalTriggerProps {
  /** The bucket watched. It must send its events to EventBridge (`eventBridgeEnabled`). */
  readonly bucket: s3.IBucket;
  /** The trigger as declared by the pipeline: prefix and suffix filter the keys. */
  readonly trigger: S3ArrivalDefinition;
  /** The pipeline's launcher, which turns each arrival into a run. */
  readonly launcher: lambda.IFunction;
  /**
   * The launcher's timeout: the queue hides a message six times as long while it is processed,
   * as Lambda recommends for SQS event sources.
   *
   * @default Duration.seconds(30)
   */
  readonly launcherTimeout?: Duration;
}

export { MAX_RECEIVE_COUNT };

/**
 * Starts a run when an object is created in a bucket under a prefix and with a suffix:
 * an EventBridge rule on S3 `Object Created` events feeds a queue, which the launcher drains.
 * The queue absorbs bursts and keeps arrivals the launcher could not process (after
 * {@link MAX_RECEIVE_COUNT} attempts) in a dead-letter queue.
 *
 * @see https://docs.aws.amazon.com/AmazonS3/latest/userguide/EventBridge.html
 */
export class S3ArrivalTrigger extends Construct {
  public readonly rule: events.Rule;
  public readonly queue: sqs.Queue;
  public readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: S3ArrivalTriggerProps) {
    super(scope, id);
    const key = objectKeyMatcher(props.trigger);
    ({ rule: this.rule, queue: this.queue, deadLetterQueue: this.deadLetterQueue } = queuedLaunchRule(
      this,
      { rule: 'Rule', queue: 'Arrivals', deadLetters: 'DeadLetters' },
      {
        launcher: props.launcher,
        launcherTimeout: props.launcherTimeout ?? Duration.seconds(30),
        what: 'the arrivals queue',
        rule: {
          description: `Objects created in ${props.trigger.bucket}${describeFilter(props.trigger)}`,
          eventPattern: {
            source: ['aws.s3'],
            detailType: ['Object Created'],
            detail: {
              bucket: { name: [props.bucket.bucketName] },
              ...(key ? { object: { key: key as unknown as string[] } } : {}),
            },
          },
        },
      },
    ));
  }
}

/**
 * The EventBridge matcher of the object keys a trigger accepts. Values in a pattern's array are
 * alternatives, so a prefix and a suffix together need one `wildcard` (`sales/*.csv`), with `*`
 * and `\` of the literal parts escaped. Keys in S3 events are URL-encoded, so the literal parts
 * are encoded the same way.
 *
 * @see https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html#eb-filtering-wildcard-matching
 */
export function objectKeyMatcher(trigger: Pick<S3ArrivalDefinition, 'prefix' | 'suffix'>): KeyMatcher[] | undefined {
  const prefix = trigger.prefix ? encodeKey(trigger.prefix) : undefined;
  const suffix = trigger.suffix ? encodeKey(trigger.suffix) : undefined;
  if (prefix && suffix) return [{ wildcard: `${escapeWildcard(prefix)}*${escapeWildcard(suffix)}` }];
  if (prefix) return [{ prefix }];
  if (suffix) return [{ suffix }];
  return undefined;
}

/** An EventBridge content filter on a string, as it appears in the rule's pattern. */
export type KeyMatcher = { readonly prefix: string } | { readonly suffix: string } | { readonly wildcard: string };

/** S3 encodes event keys as a form would: `+` for a space, `%XX` for reserved bytes, `/` kept. */
function encodeKey(text: string): string {
  return encodeURIComponent(text).replace(/%2F/g, '/').replace(/%20/g, '+');
}

function escapeWildcard(text: string): string {
  return text.replace(/[\\*]/g, (c) => `\\${c}`);
}

function describeFilter(trigger: S3ArrivalDefinition): string {
  const parts = [trigger.prefix && `under ${trigger.prefix}`, trigger.suffix && `ending ${trigger.suffix}`].filter(Boolean);
  return parts.length > 0 ? ` ${parts.join(', ')}` : '';
}
