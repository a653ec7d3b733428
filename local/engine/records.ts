/** What the engine keeps of each execution, and where: its record, read back by the commands. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

/** One attempt of one Task state: a retried task has one per try. */
export interface TaskAttempt {
  readonly state: string;
  /** 1 for the first try. */
  readonly attempt: number;
  /** Iteration index inside a Map state. */
  readonly mapIndex?: number;
  readonly startDate: string;
  endDate?: string;
  error?: string;
  cause?: string;
}

/** What is kept of an execution, in memory and as JSON under `executions/`. */
export interface ExecutionRecord {
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly name: string;
  status: ExecutionStatus;
  /** The input as the caller passed it (a JSON string). */
  readonly input: string;
  /** JSON string, when SUCCEEDED. */
  output?: string;
  error?: string;
  cause?: string;
  readonly startDate: string;
  stopDate?: string;
  readonly attempts: TaskAttempt[];
  /** The process running the execution: an execution cannot outlive it locally. */
  readonly pid?: number;
}

/** An execution as `waitForExecution` reports it, with the interpreter's event log. */
export interface ExecutionResult extends ExecutionRecord {
  readonly events: readonly unknown[];
}

/**
 * Where the engine keeps execution records: `<home>/executions/<state machine>/<name>.json`.
 * Light on purpose (no interpreter), for commands that only read what ran.
 */
export function executionRecordFile(home: string, stateMachine: string, name: string): string {
  return join(home, 'executions', stateMachine, `${name}.json`);
}

/** The record of the execution named `name` on any state machine of `home`, if there is one. */
export function findExecutionRecord(home: string, name: string): ExecutionRecord | undefined {
  const dir = join(home, 'executions');
  if (!existsSync(dir)) return undefined;
  for (const stateMachine of readdirSync(dir)) {
    const file = executionRecordFile(home, stateMachine, name);
    if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as ExecutionRecord;
  }
  return undefined;
}

/** Ends the execution of `record`: its final status, stop date, and output or error. */
export function endExecution(record: ExecutionRecord, status: ExecutionStatus, result: { output?: string; error?: string; cause?: string }): void {
  Object.assign(record, { status, stopDate: new Date().toISOString() }, result);
}
