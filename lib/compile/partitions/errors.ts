/** The errors of partition keys and specs (see lib/compile/partition-keys.ts). */

/** A problem with a partition key or a range of keys that the caller supplied. */
export class PartitionKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PartitionKeyError';
  }
}

/** A partition spec that is invalid (see {@link partitionSpecIssues}) was passed to a function. */
export class PartitionSpecError extends Error {
  public readonly issues: readonly string[];

  constructor(issues: readonly string[]) {
    super(`Invalid partition spec:\n${issues.map((i) => `  - ${i}`).join('\n')}`);
    this.name = 'PartitionSpecError';
    this.issues = issues;
  }
}
