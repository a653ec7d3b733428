/** Exit codes of every command (README.md, The CLI). */
export const EXIT = Object.freeze({
  /** The command did what it was asked. */
  ok: 0,
  /** A run or a validation failed. */
  failed: 1,
  /** Bad usage or input: an unknown command, option, pipeline or partition. */
  usage: 2,
  /** Interrupted by Ctrl+C (SIGINT), as shells report it. */
  interrupted: 130,
});

/** Thrown for bad usage or input that commander cannot see (a port out of range, a bad env value). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * Errors of the runtime and the compiler that mean "bad usage or input", by name: the CLI does not
 * import the runtime just to classify its errors, so that `list` and `validate` stay fast.
 */
const USAGE_ERRORS = new Set([
  'UsageError',
  'ProjectConfigError',
  'UnknownPipelineError',
  'PartitionKeyError',
  'DevAlreadyRunningError',
  'BackfillRequestError',
  'UnknownRunError',
  'NoScheduleError',
  // --stage: a stage that is not configured or not deployed, no credentials, a permission missing.
  'StageNotConfiguredError',
  'StageNotDeployedError',
  'MissingCredentialsError',
  'StageAccessDeniedError',
]);
/** Launcher rejections caused by the request itself, not by the system. */
const REJECTED_INPUT = new Set([
  'InvalidPartitionError',
  'MissingPartition',
  'UnknownRunError',
  'RunStillRunningError',
  'UnknownTaskError',
  'NothingToRerunError',
  'InvalidParamsError',
]);

/** The exit code of a command that threw `error`. */
export function exitCodeOf(error: unknown): number {
  if (!(error instanceof Error)) return EXIT.failed;
  if (USAGE_ERRORS.has(error.name)) return EXIT.usage;
  if (error.name === 'LaunchRejectedError' && REJECTED_INPUT.has((error as Error & { errorType?: string }).errorType ?? '')) return EXIT.usage;
  return EXIT.failed;
}

/**
 * The one line the CLI prints for a command that threw `error` (the web console answers its
 * actions' errors with the same line).
 */
export function describeError(error: unknown, exit = exitCodeOf(error)): string {
  if (!(error instanceof Error)) return `error: ${String(error)}`;
  // Validation messages already list every problem; usage errors say what to change.
  if (exit === EXIT.usage || error.name === 'PipelineValidationError') return `error: ${error.message}`;
  return `error: ${error.name}: ${error.message}${process.env.SLUICE_DEBUG ? `\n${error.stack ?? ''}` : ''}`;
}
