import { Duration, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct, IConstruct } from 'constructs';

/** How long undeliverable messages are kept for inspection and redrive: SQS's maximum. */
const DEAD_LETTER_RETENTION = Duration.days(14);

/** Where the dead-letter queues under a construct raise their alarms (see {@link alarmDeadLetterQueues}). */
const ALARM_SINKS = new WeakMap<IConstruct, { readonly topic: sns.ITopic; readonly owner: string }>();

/**
 * Every {@link deadLetterQueue} created under `scope` gets an alarm publishing to `alertTopic`.
 * Called first thing by a pipeline's construct, so that no queue of any construct added under it
 * goes unwatched. `owner` names the pipeline in the alarm descriptions, e.g. `sluice prod daily-sales`.
 */
export function alarmDeadLetterQueues(scope: IConstruct, alertTopic: sns.ITopic, owner: string): void {
  ALARM_SINKS.set(scope, { topic: alertTopic, owner });
}

/** The alarm sink of the nearest enclosing scope that asked for one. */
function alarmSinkOf(scope: IConstruct) {
  return scope.node.scopes
    .reverse()
    .map((s) => ALARM_SINKS.get(s))
    .find((sink) => sink !== undefined);
}

/**
 * A queue for what could not be delivered: encrypted, TLS only, kept 14 days. `deadLettersOf`
 * names what sends to it, for the record of why it has no dead-letter queue itself and in its
 * alarm: in a stack that asked for them ({@link alarmDeadLetterQueues}), a message waiting in the
 * queue (a launch, a status change or a reconciliation that could not be handled) raises an
 * alarm on the stage's alert topic, since someone must inspect and redrive it.
 *
 * @see https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html
 */
export function deadLetterQueue(scope: Construct, id: string, deadLettersOf: string): sqs.Queue {
  const queue = new sqs.Queue(scope, id, {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: DEAD_LETTER_RETENTION,
  });
  Validations.of(queue).acknowledge({
    id: 'AwsSolutions-SQS3',
    reason: `This queue is itself the dead-letter queue of ${deadLettersOf}`,
  });
  const sink = alarmSinkOf(scope);
  if (sink) {
    const alarm = new cloudwatch.Alarm(scope, `${id}Alarm`, {
      alarmDescription: `${sink.owner}: a message waits in the dead-letter queue of ${deadLettersOf}; inspect it and redrive it`,
      metric: queue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: cloudwatch.Stats.MAXIMUM }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(new actions.SnsAction(sink.topic));
  }
  return queue;
}

/** Receives of a launch message before it is moved to the dead-letter queue. */
export const MAX_RECEIVE_COUNT = 3;

/**
 * An EventBridge rule that queues matching events for the launcher: the queue absorbs bursts,
 * delivers a launch deferred at the pipeline's limit again after its visibility timeout, and keeps
 * what the launcher could not process after {@link MAX_RECEIVE_COUNT} receives in a dead-letter
 * queue, where the launcher also moves at once, with the reason, a message that can never start
 * a run. The queue hides a message six times the launcher's timeout while it is processed, as
 * Lambda recommends for SQS event sources.
 */
export function queuedLaunchRule(
  scope: Construct,
  ids: { readonly rule: string; readonly queue: string; readonly deadLetters: string },
  props: {
    readonly launcher: lambda.IFunction;
    readonly launcherTimeout: Duration;
    /** What the queue holds, for the dead-letter queue's record. */
    readonly what: string;
    readonly rule: events.RuleProps;
  },
): { readonly rule: events.Rule; readonly queue: sqs.Queue; readonly deadLetterQueue: sqs.Queue } {
  const deadLetters = deadLetterQueue(scope, ids.deadLetters, props.what);
  const queue = new sqs.Queue(scope, ids.queue, {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    visibilityTimeout: Duration.seconds(props.launcherTimeout.toSeconds() * 6),
    deadLetterQueue: { queue: deadLetters, maxReceiveCount: MAX_RECEIVE_COUNT },
  });
  const rule = new events.Rule(scope, ids.rule, props.rule);
  rule.addTarget(new targets.SqsQueue(queue));
  // Consuming grants GetQueueAttributes, by which the launcher finds the dead-letter queue it
  // moves a message to, with the reason, when the message can never start a run.
  props.launcher.addEventSource(new SqsEventSource(queue, { reportBatchItemFailures: true, batchSize: 10 }));
  deadLetters.grantSendMessages(props.launcher);
  return { rule, queue, deadLetterQueue: deadLetters };
}
