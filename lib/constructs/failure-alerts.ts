import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { deadLetterQueue } from './private/queues';

/** Execution statuses that raise an alert. */
export const ALERT_STATUSES = Object.freeze(['FAILED', 'TIMED_OUT', 'ABORTED']);

/** Properties of {@link FailureAlerts}. */
export interface FailureAlertsProps {
  /** The state machine whose failed executions are reported. */
  readonly stateMachine: sfn.IStateMachine;
  /** The function that turns each event into an alert (a {@link RunMonitor}'s). */
  readonly monitor: lambda.IFunction;
}

/**
 * Sends every failed, timed-out or aborted execution of a state machine to the run monitor.
 * Events the monitor cannot take land in a dead-letter queue rather than vanish.
 *
 * @see https://docs.aws.amazon.com/step-functions/latest/dg/cw-events.html
 */
export class FailureAlerts extends Construct {
  public readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: FailureAlertsProps) {
    super(scope, id);
    this.rule = new events.Rule(this, 'Rule', {
      description: 'Failed, timed-out and aborted runs',
      eventPattern: {
        source: ['aws.states'],
        detailType: ['Step Functions Execution Status Change'],
        detail: { status: [...ALERT_STATUSES], stateMachineArn: [props.stateMachine.stateMachineArn] },
      },
    });
    this.rule.addTarget(
      new targets.LambdaFunction(props.monitor, {
        deadLetterQueue: deadLetterQueue(this, 'DeadLetters', 'the failure-alert rule target (the run monitor)'),
        retryAttempts: 8,
      }),
    );
  }
}
