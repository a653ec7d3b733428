/**
 * Errors of the operations on a stage that local and deployed stages share (the CLI classifies
 * them by name): in a file of their own so that `--stage` commands need not load the local runtime.
 */

/** Thrown when a command names a pipeline the stage does not have. */
export class UnknownPipelineError extends Error {
  constructor(name: string, known: readonly string[]) {
    super(`Unknown pipeline "${name}". Pipelines: ${known.join(', ') || 'none'}`);
    this.name = 'UnknownPipelineError';
  }
}

/** Thrown when a command names a pipeline that is left out of the local stage for its problems. */
export class BrokenPipelineError extends Error {
  constructor(name: string, problems: readonly string[]) {
    super(`Pipeline "${name}" cannot run: ${problems.join('; ')}. Run sluice validate to see every problem`);
    this.name = 'BrokenPipelineError';
  }
}

/** Thrown when a schedule command names a pipeline that has no schedule. */
export class NoScheduleError extends Error {
  constructor(name: string) {
    super(`Pipeline "${name}" has no schedule. Fix: declare \`schedule: { cron, timezone }\` in its pipeline.ts, or use sluice run`);
    this.name = 'NoScheduleError';
  }
}

/** Thrown when the launcher refuses a run (e.g. a key that is not a partition of the pipeline). */
export class LaunchRejectedError extends Error {
  constructor(
    readonly errorType: string,
    message: string,
  ) {
    super(message);
    this.name = 'LaunchRejectedError';
  }
}
