/**
 * Errors thrown from Task overrides. aws-local-stepfunctions matches `Retry`/`Catch` on the
 * thrown error's `name` and hands a Catch `{ Error: name, Cause: message }`, so the message is
 * the `Cause` exactly as AWS would report it.
 */
export class TaskFailure extends Error {
  constructor(error: string, cause: string) {
    super(cause);
    this.name = error;
  }
}

/**
 * An error no `Retry` or `Catch` may handle: AWS treats `States.DataLimitExceeded` and
 * `States.Runtime` as terminal. The interpreter reads these two flags off the error.
 */
export class TerminalTaskFailure extends TaskFailure {
  readonly isRetryable = false;
  readonly isCatchable = false;
}

/** Step Functions' limit on a state's input, output and a task's result. */
export const PAYLOAD_LIMIT_BYTES = 256 * 1024;

export function payloadSize(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value ?? null), 'utf8');
}
