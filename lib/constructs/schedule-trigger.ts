import { Duration, Stack, TimeZone } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import { Construct } from 'constructs';
import type { CompiledSchedule } from '../compile/model';
import { acknowledgeWildcards } from './private/acknowledge';
import { deadLetterQueue } from './private/queues';

/** Properties of a {@link ScheduleTrigger}. */
export interface ScheduleTriggerProps {
  /** The pipeline's compiled schedule. */
  readonly schedule: CompiledSchedule;
  /** The pipeline's launcher. */
  readonly launcher: lambda.IFunction;
  /**
   * A description shown in the console.
   *
   * @default - none
   */
  readonly description?: string;
}

/** The launcher's input on every tick: the scheduled time decides the partition. */
export const SCHEDULE_INPUT = Object.freeze({
  source: 'schedule',
  scheduledTime: scheduler.ContextAttribute.scheduledTime,
});

/**
 * Invokes the launcher on a cron schedule evaluated in an IANA time zone (EventBridge
 * Scheduler), exactly on time (no flexible window), retrying a failed invocation and keeping
 * those that still fail in a dead-letter queue.
 *
 * @see https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html#cron-based
 */
export class ScheduleTrigger extends Construct {
  public readonly schedule: scheduler.Schedule;

  constructor(scope: Construct, id: string, props: ScheduleTriggerProps) {
    super(scope, id);
    // An own role, rather than the target's stack-wide default, keeps its grants inside this
    // construct and limits who may assume it to schedules of this account.
    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    });
    this.schedule = new scheduler.Schedule(this, 'Schedule', {
      schedule: scheduler.ScheduleExpression.expression(props.schedule.expression, TimeZone.of(props.schedule.timezone)),
      description: props.description,
      timeWindow: scheduler.TimeWindow.off(),
      target: new targets.LambdaInvoke(props.launcher, {
        role,
        input: scheduler.ScheduleTargetInput.fromObject(SCHEDULE_INPUT),
        deadLetterQueue: deadLetterQueue(this, 'DeadLetters', 'the schedule target (the launcher)'),
        retryAttempts: 5,
        maxEventAge: Duration.hours(1),
      }),
    });
    acknowledgeWildcards(this, [
      {
        actions: ['lambda:InvokeFunction'],
        reason: "EventBridge Scheduler's Lambda target grants invoke on the launcher and its versions (`:*`); no other function",
      },
    ]);
  }
}
