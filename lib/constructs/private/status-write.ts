import { Duration } from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';

/**
 * DynamoDB errors a retry cannot fix: a failed condition (another writer owns the item) and
 * errors of the request or of its permissions. Every other error of a status write (throttling,
 * a 5xx, a timeout) is retried.
 */
export const DYNAMODB_PERMANENT_ERRORS = Object.freeze([
  'DynamoDB.ConditionalCheckFailedException',
  'DynamoDB.ValidationException',
  'DynamoDB.ResourceNotFoundException',
  'DynamoDB.AccessDeniedException',
]);

/** The Retry of a status write's transient errors: 5 retries over about 15 seconds. */
export const DYNAMODB_RETRY = Object.freeze({ intervalSeconds: 1, maxAttempts: 5, backoffRate: 2, maxDelaySeconds: 8 });

/** A DynamoDB UpdateItem answers in milliseconds; this only bounds a stuck call. */
export const DYNAMODB_TIMEOUT_SECONDS = 30;

/** The longest one status write can take: every attempt timing out, with the longest delays. */
export function statusWriteWorstCaseSeconds(): number {
  const { maxAttempts, intervalSeconds, backoffRate, maxDelaySeconds } = DYNAMODB_RETRY;
  let total = (maxAttempts + 1) * DYNAMODB_TIMEOUT_SECONDS;
  for (let retry = 0; retry < maxAttempts; retry++) total += Math.min(intervalSeconds * backoffRate ** retry, maxDelaySeconds);
  return total;
}

/** Retries a status write's transient errors; a failed condition goes straight to its Catch. */
export function retryStatusWrite(state: tasks.DynamoUpdateItem): void {
  state.addRetry({ errors: [...DYNAMODB_PERMANENT_ERRORS], maxAttempts: 0 });
  state.addRetry({
    errors: [sfn.Errors.ALL],
    maxAttempts: DYNAMODB_RETRY.maxAttempts,
    interval: Duration.seconds(DYNAMODB_RETRY.intervalSeconds),
    backoffRate: DYNAMODB_RETRY.backoffRate,
    maxDelay: Duration.seconds(DYNAMODB_RETRY.maxDelaySeconds),
    jitterStrategy: sfn.JitterType.FULL,
  });
}
