import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { deadLetterQueue } from './private/queues';

/** Execution statuses that raise an alert. */
export const ALERT_STATUSES = Object.freeze(['FAILED', 'TIMED_OUT', 'ABORTED']);

/**
 * Execution statuses sent to the run monitor: the alerting ones, and SUCCEEDED, after which the
 * monitor starts a rerun an S3 arrival requested during the run.
 */
export const MONITORED_STATUSES = Object.freeze([...ALERT_STATUSES, 'SUCCEEDED']);

/** Properties of {@link RunEndRule}. */
export interface RunEndRuleProps {
  /** The state machine whose ended executions are followed. */
  readonly stateMachine: sfn.IStateMachine;
  /**
   * The function that turns failures into alerts and starts requested reruns (a
   * {@link RunMonitor}'s).
   */
  readonly monitor: lambda.IFunction;
}

/**
 * Sends every ended execution of a state machine to the run monitor: failed, timed-out and
 * aborted ones, which it alerts about, and succeeded ones, which it only checks for a requested
 * rerun. Events the monitor cannot take land in a dead-letter queue rather than vanish.
 *
 * @see https://docs.aws.amazon.com/step-functions/latest/dg/cw-events.html
 */
export class RunEndRule extends Construct {
  public readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: RunEndRuleProps) {
    super(scope, id);
    this.rule = new events.Rule(this, 'Rule', {
      description: 'Ended runs: failed, timed-out and aborted ones alert; any may start a requested rerun',
      eventPattern: {
        source: ['aws.states'],
        detailType: ['Step Functions Execution Status Change'],
        detail: { status: [...MONITORED_STATUSES], stateMachineArn: [props.stateMachine.stateMachineArn] },
      },
    });
    this.rule.addTarget(
      new targets.LambdaFunction(props.monitor, {
        deadLetterQueue: deadLetterQueue(this, 'DeadLetters', 'the rule sending ended runs to the run monitor'),
        retryAttempts: 8,
      }),
    );
  }
}
