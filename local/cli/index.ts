export { runCli } from './cli';
export { EXIT, UsageError } from './errors';
export type { CliIo } from './io';
