/** Thrown when `cdk.out` is missing, malformed or lacks what is asked of it. */
export class AssemblyError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AssemblyError';
  }
}
