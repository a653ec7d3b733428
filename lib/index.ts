/**
 * The definitions API of sluice: everything a `pipeline.ts` imports.
 */
export * from './definitions';
export { compilePipeline } from './compile/compile';
export { PipelineValidationError, type ValidationIssue } from './compile/errors';
export type { TaskEvent, RunInput, PartitionStatus } from './compile/contract';
// Called by task handlers: reads a declared secret where the stage keeps it.
export { secret, UndeclaredSecretError } from '../orchestration/secret';
