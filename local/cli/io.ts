import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

/** Where the CLI writes: its own output, separate from what the functions it runs print. */
export interface CliIo {
  /** Standard output: results (tables, JSON). */
  out(text: string): void;
  /** Standard error: notes, warnings and error messages. */
  err(text: string): void;
  /** Whether `out` may use ANSI colours (a terminal, and `NO_COLOR` unset). */
  readonly color: boolean;
  /**
   * Whether `err` is a terminal, where live progress (bars redrawn in place) may be shown.
   *
   * @default false
   */
  readonly terminal?: boolean;
  /** Width of the `err` terminal in columns. @default 80 */
  readonly columns?: number;
  /** Whether `out` is a terminal a person watches: live progress is shown there. @default false */
  readonly interactive?: boolean;
}

// Taken at load, before `captureFunctionOutput` can replace them.
const writeOut = process.stdout.write.bind(process.stdout);
const writeErr = process.stderr.write.bind(process.stderr);

/** The process's standard streams. */
export function processIo(env: NodeJS.ProcessEnv = process.env): CliIo {
  return {
    out: (text) => void writeOut(text),
    err: (text) => void writeErr(text),
    color: process.stdout.isTTY === true && env.NO_COLOR === undefined,
    terminal: process.stderr.isTTY === true,
    columns: process.stderr.columns,
    interactive: process.stdout.isTTY === true,
  };
}

/**
 * Task handlers run in this process and log to its stdout and stderr, as they log to CloudWatch
 * on AWS. Their lines would break `--json` and bury the tables, so from now on whatever is written
 * to the process's streams (except through a {@link CliIo}) goes to `logFile`, or to stderr with
 * `verbose`. Returns the function that restores the streams.
 */
export function captureFunctionOutput(options: { readonly logFile: string; readonly verbose: boolean }): () => void {
  const stdout = process.stdout.write;
  const stderr = process.stderr.write;
  mkdirSync(dirname(options.logFile), { recursive: true });
  const capture = ((chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
    if (options.verbose) writeErr(chunk);
    else appendFileSync(options.logFile, chunk);
    const callback = rest.find((arg): arg is () => void => typeof arg === 'function');
    callback?.();
    return true;
  }) as typeof process.stdout.write;
  process.stdout.write = capture;
  process.stderr.write = capture;
  return () => {
    process.stdout.write = stdout;
    process.stderr.write = stderr;
  };
}
