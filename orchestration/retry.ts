/**
 * Retry settings of the AWS SDK clients of the launcher and the run monitor. The SDK's standard
 * retry strategy retries throttling (`ThrottlingException`, `ProvisionedThroughputExceededException`,
 * ...), 5xx answers and network errors with exponential backoff and full jitter (a base of 1 s for
 * throttling). Three attempts, its default, leave a launch under sustained throttling failing too
 * often; six keep the worst case (about 30 s of waiting) within the functions' 30-second timeout
 * in the usual case, and what still fails goes back to its queue or is retried by Lambda.
 *
 * @see https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html
 */
export const SDK_RETRY = Object.freeze({ maxAttempts: 6, retryMode: 'standard' as const });
