/** What the engine keeps of each execution, and where: its record, read back by the commands. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { processExists } from '../process';
import { DamagedStateError, readJsonFile } from '../state-files';

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

/**
 * The record of the execution `name` of a state machine, if there is one. A damaged record
 * (written in place by an older version, or by a disk that filled up) is read as absent and
 * passed to `onDamaged`, so that it blocks nothing but itself.
 */
export function readExecutionRecord(home: string, stateMachine: string, name: string, onDamaged: (error: DamagedStateError) => void): ExecutionRecord | undefined {
  const file = executionRecordFile(home, stateMachine, name);
  if (!existsSync(file)) return undefined;
  try {
    return readJsonFile<ExecutionRecord>(file);
  } catch (error) {
    if (!(error instanceof DamagedStateError)) throw error;
    onDamaged(error);
    return undefined;
  }
}

/**
 * Every readable record of a state machine, in no particular order; each damaged one is passed to
 * `onDamaged`. Here, not in `ExecutionStore` (which loads the Step Functions SDK for its writes),
 * so that `sluice status` reads them without loading that.
 */
export function readExecutionRecords(home: string, stateMachine: string, onDamaged: (error: DamagedStateError) => void): ExecutionRecord[] {
  const dir = join(home, 'executions', stateMachine);
  if (!existsSync(dir)) return [];
  const records: ExecutionRecord[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
    const record = readExecutionRecord(home, stateMachine, file.slice(0, -'.json'.length), onDamaged);
    if (record) records.push(record);
  }
  return records;
}

/**
 * Whether the execution was left RUNNING by a process that is gone (a `sluice run` interrupted, a
 * crash): on AWS it would go on, locally it cannot, and the next start aborts it.
 */
export function isAbandoned(record: ExecutionRecord): boolean {
  return record.status === 'RUNNING' && (record.pid === undefined || !processExists(record.pid));
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
