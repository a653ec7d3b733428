/** One problem found in a pipeline definition. */
export interface ValidationIssue {
  /** The pipeline's name (or its file, when the name itself is missing). */
  readonly pipeline: string;
  /** The task concerned, if any. */
  readonly task?: string;
  /** What is wrong, with the bad value. */
  readonly message: string;
  /** How to fix it. */
  readonly fix: string;
}

/** Renders an issue as one line: where, what, and how to fix it. */
export function formatIssue(issue: ValidationIssue): string {
  const where = issue.task ? `pipeline "${issue.pipeline}", task "${issue.task}"` : `pipeline "${issue.pipeline}"`;
  return `${where}: ${issue.message}. Fix: ${issue.fix}`;
}

/** Thrown when one or more pipelines are invalid. Carries every issue found, not just the first. */
export class PipelineValidationError extends Error {
  public readonly issues: readonly ValidationIssue[];

  constructor(issues: readonly ValidationIssue[]) {
    const count = issues.length === 1 ? '1 problem' : `${issues.length} problems`;
    super(`Invalid pipeline definition (${count}):\n${issues.map((i) => `  - ${formatIssue(i)}`).join('\n')}`);
    this.name = 'PipelineValidationError';
    this.issues = issues;
  }
}
