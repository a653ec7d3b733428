/**
 * The errors a rerun is refused with, in a module of their own: the local runtime throws two of
 * them without loading `rerun.ts`, which loads the AWS SDK.
 */

/** Thrown when a rerun names a run that does not exist (or not of this pipeline). */
export class UnknownRunError extends Error {
  constructor(runId: string, where: string) {
    super(`Unknown run "${runId}": ${where}. Fix: copy a run id from \`sluice runs <pipeline>\``);
    this.name = 'UnknownRunError';
  }
}

/** Thrown when a rerun names a run that has not ended. */
export class RunStillRunningError extends Error {
  constructor(runId: string) {
    super(`Run "${runId}" is still running: wait for it to end (\`sluice runs\` shows its status), then rerun it`);
    this.name = 'RunStillRunningError';
  }
}

/** Thrown when a rerun names a task the pipeline does not have. */
export class UnknownTaskError extends Error {
  constructor(pipeline: string, task: string, known: readonly string[]) {
    super(`Pipeline "${pipeline}" has no task "${task}". Tasks: ${known.join(', ')}`);
    this.name = 'UnknownTaskError';
  }
}

/** Thrown when a rerun from failure finds every task of the run succeeded. */
export class NothingToRerunError extends Error {
  constructor(runId: string) {
    super(`Every task of run "${runId}" succeeded: nothing to rerun from failure. Fix: name tasks with --from-task or --tasks`);
    this.name = 'NothingToRerunError';
  }
}
