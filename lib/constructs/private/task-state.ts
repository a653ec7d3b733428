import { Duration } from 'aws-cdk-lib';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import type { CompiledTask } from '../../compile/model';
import { PipelineWiringError } from '../pipeline-wiring';
import { TASK_TIMEOUT_MARGIN_SECONDS, eventRunFields, resultPathOf, resultValuePathOf } from './flow';
import { retryProps, SENSOR_CHECK_PATH } from './sensor';

/**
 * Errors of the Lambda service itself (not of the function): retried on every task before, and
 * apart from, the task's own retry policy, so that a policy with `retryOn` or few attempts never
 * turns a throttled or failed invoke into a failed run.
 *
 * @see https://docs.aws.amazon.com/step-functions/latest/dg/bp-lambda-serviceexception.html
 */
export const LAMBDA_SERVICE_ERRORS = Object.freeze([
  'Lambda.ClientExecutionTimeoutException',
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
]);

/** The Retry of service errors on every Lambda task: 6 retries over about a minute. */
export const LAMBDA_SERVICE_RETRY = Object.freeze({ intervalSeconds: 1, maxAttempts: 6, backoffRate: 2, maxDelaySeconds: 20 });

/**
 * The Task state of one task: it invokes the task's function with the run's fields and the
 * results of the task's direct dependencies, keeps the function's return value under the task's
 * result path, and retries Lambda's service errors, then the task's own retry policy.
 */
export function taskState(scope: Construct, task: CompiledTask, fn: NodejsFunction): sfn.TaskStateBase {
  const state = new tasks.LambdaInvoke(scope, task.name, {
    lambdaFunction: fn,
    payload: sfn.TaskInput.fromObject({
      ...eventRunFields('$'),
      task: task.name,
      retryCount: sfn.JsonPath.numberAt(sfn.JsonPath.stateRetryCount),
      results: Object.fromEntries(task.after.map((dep) => [dep, sfn.JsonPath.objectAt(resultValuePathOf(dep))])),
      ...(task.sensor && { check: sfn.JsonPath.numberAt(SENSOR_CHECK_PATH) }),
    }),
    resultSelector: { value: sfn.JsonPath.objectAt('$.Payload') },
    resultPath: resultPathOf(task.name),
    taskTimeout: sfn.Timeout.duration(Duration.seconds(task.timeoutSeconds + TASK_TIMEOUT_MARGIN_SECONDS)),
    retryOnServiceExceptions: false,
  });
  state.addRetry({
    errors: [...LAMBDA_SERVICE_ERRORS],
    maxAttempts: LAMBDA_SERVICE_RETRY.maxAttempts,
    interval: Duration.seconds(LAMBDA_SERVICE_RETRY.intervalSeconds),
    backoffRate: LAMBDA_SERVICE_RETRY.backoffRate,
    maxDelay: Duration.seconds(LAMBDA_SERVICE_RETRY.maxDelaySeconds),
    jitterStrategy: sfn.JitterType.FULL,
  });
  const { retry } = task;
  if (retry.nonRetryableErrors.length > 0) {
    state.addRetry({ errors: [...retry.nonRetryableErrors], maxAttempts: 0 });
  }
  if (retry.attempts > 1) {
    state.addRetry(retryProps(retry, retry.retryOn ? [...retry.retryOn] : [sfn.Errors.ALL]));
  }
  return state;
}

/** Fails synth when the flow names a task the pipeline does not declare. */
export function declaredTask(byName: ReadonlyMap<string, CompiledTask>, name: string): CompiledTask {
  const task = byName.get(name);
  if (!task) throw new PipelineWiringError(`The flow names task "${name}", which the pipeline does not declare`);
  return task;
}
