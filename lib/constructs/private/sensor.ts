import { Duration } from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import type { ResolvedRetryPolicy } from '../../definitions/retry';
import { type CompiledTask, SENSOR_RESULT_ERROR, SENSOR_TIMEOUT_ERROR, sensorMaxChecks } from '../../compile/model';
import { resultValuePathOf, runFields } from './flow';

/** Where the number of the current check sits in a sensor's branch. */
export const SENSOR_CHECK_PATH = '$.check.n';

/**
 * A sensor's loop: check (the task's Lambda, with its own Retry for errors), then a Choice: the
 * handler returned `true` → done; not a boolean → `SensorResultError`; the last check allowed by
 * `timeoutSeconds` → `SensorTimeoutError`; otherwise a Wait of `intervalSeconds` (nothing runs,
 * nothing is billed but the state transitions) and the next check. Checks are counted rather than
 * timed: JSONPath ASL has no date arithmetic.
 *
 * The loop runs in a one-branch Parallel, so that its counter stays out of the run's state and
 * the task's retry policy applies to a timeout as to any error: a retry starts the loop again.
 */
export function sensorLoop(scope: Construct, task: CompiledTask, check: sfn.TaskStateBase): sfn.Parallel {
  const sensor = task.sensor!;
  const name = task.name;
  const maxChecks = sensorMaxChecks(sensor);
  const first = new sfn.Pass(scope, `${name}: first check`, { result: sfn.Result.fromObject({ n: 1 }), resultPath: '$.check' });
  const wait = new sfn.Wait(scope, `${name}: wait`, {
    comment: `Waits ${sensor.intervalSeconds} s before the next check`,
    time: sfn.WaitTime.duration(Duration.seconds(sensor.intervalSeconds)),
  });
  const count = new sfn.Pass(scope, `${name}: count`, {
    parameters: { n: sfn.JsonPath.mathAdd(sfn.JsonPath.numberAt(SENSOR_CHECK_PATH), 1) },
    resultPath: '$.check',
  });
  const result = resultValuePathOf(name);
  const holds = new sfn.Choice(scope, `${name}: holds?`)
    .when(sfn.Condition.booleanEquals(result, true), new sfn.Pass(scope, `${name}: holds`))
    .when(
      sfn.Condition.not(sfn.Condition.isBoolean(result)),
      new sfn.Fail(scope, `${name}: not a boolean`, {
        error: SENSOR_RESULT_ERROR,
        cause: `Sensor "${name}" must return true (the condition holds) or false (check again later)`,
      }),
    )
    .when(
      sfn.Condition.numberGreaterThanEquals(SENSOR_CHECK_PATH, maxChecks),
      new sfn.Fail(scope, `${name}: timed out`, {
        error: SENSOR_TIMEOUT_ERROR,
        cause: `Sensor "${name}": the condition did not hold within ${sensor.timeoutSeconds} s (${maxChecks} checks, every ${sensor.intervalSeconds} s)`,
      }),
    )
    .otherwise(wait.next(count).next(check));

  const loop = new sfn.Parallel(scope, `${name}: sensor`, {
    comment: `Checks "${name}" every ${sensor.intervalSeconds} s for up to ${sensor.timeoutSeconds} s`,
    resultSelector: { ...runFields('$[0]'), results: sfn.JsonPath.objectAt('$[0].results') },
  });
  loop.branch(sfn.Chain.start(first).next(check).next(holds));
  const { retry } = task;
  const retriesTimeout =
    retry.attempts > 1 && !retry.nonRetryableErrors.includes(SENSOR_TIMEOUT_ERROR) && (!retry.retryOn || retry.retryOn.includes(SENSOR_TIMEOUT_ERROR));
  if (retriesTimeout) {
    loop.addRetry(retryProps(retry, [SENSOR_TIMEOUT_ERROR]));
  }
  return loop;
}


/** A task's retry policy as a Retry on `errors` (the policy's attempts count the first try). */
export function retryProps(retry: ResolvedRetryPolicy, errors: string[]): sfn.RetryProps {
  return {
    errors,
    maxAttempts: retry.attempts - 1,
    interval: Duration.seconds(retry.intervalSeconds),
    backoffRate: retry.backoffRate,
    maxDelay: retry.maxDelaySeconds === undefined ? undefined : Duration.seconds(retry.maxDelaySeconds),
    jitterStrategy: retry.jitter ? sfn.JitterType.FULL : undefined,
  };
}
