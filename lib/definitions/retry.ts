/**
 * How a failed task is retried. Compiled to a Step Functions `Retry` block.
 *
 * @see https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html
 */
export interface RetryPolicy {
  /**
   * Total number of attempts, the first one included. `1` disables retries.
   *
   * @default 3
   */
  readonly attempts?: number;
  /**
   * Seconds before the first retry.
   *
   * @default 5
   */
  readonly intervalSeconds?: number;
  /**
   * Multiplier applied to the interval after each retry.
   *
   * @default 2
   */
  readonly backoffRate?: number;
  /**
   * Upper bound, in seconds, of the delay between two attempts.
   *
   * @default - no bound beyond what the backoff produces
   */
  readonly maxDelaySeconds?: number;
  /**
   * Randomise each delay ("full jitter") so that many failing runs do not retry in lockstep.
   *
   * @default false
   */
  readonly jitter?: boolean;
  /**
   * Retry only when the error name is one of these (the `name` of the thrown `Error`, or a
   * Step Functions error such as `States.Timeout`).
   *
   * @default - every error except those in `nonRetryableErrors`
   */
  readonly retryOn?: readonly string[];
  /**
   * Errors that fail the task at once, whatever `retryOn` says.
   *
   * @default - none
   */
  readonly nonRetryableErrors?: readonly string[];
}

/** A retry policy with every default applied. */
export interface ResolvedRetryPolicy {
  readonly attempts: number;
  readonly intervalSeconds: number;
  readonly backoffRate: number;
  readonly maxDelaySeconds?: number;
  readonly jitter: boolean;
  readonly retryOn?: readonly string[];
  readonly nonRetryableErrors: readonly string[];
}

export const DEFAULT_RETRY: ResolvedRetryPolicy = Object.freeze({
  attempts: 3,
  intervalSeconds: 5,
  backoffRate: 2,
  jitter: false,
  nonRetryableErrors: Object.freeze([]) as readonly string[],
});

/**
 * Merges a task's policy over its pipeline's policy over the defaults, field by field.
 */
export function resolveRetry(...layers: (RetryPolicy | undefined)[]): ResolvedRetryPolicy {
  const merged: Record<string, unknown> = { ...DEFAULT_RETRY };
  for (const layer of layers) {
    if (!layer) continue;
    for (const [key, value] of Object.entries(layer)) {
      if (value !== undefined) merged[key] = value;
    }
  }
  return Object.freeze(merged) as unknown as ResolvedRetryPolicy;
}
