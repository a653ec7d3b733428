/** What the engine keeps of each execution, and where: its record, read back by the commands. */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
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
 * The index of the records last written RUNNING: `<home>/running-executions/<state machine>/`, a
 * file per execution name (beside the records, not among them, so readers of those find records
 * only). A start looks for abandoned executions there, so its cost does not grow with the history
 * (every record ever written, 10,000 after a 10,000-partition backfill).
 * A marker is written before its record turns RUNNING and removed after the record has ended,
 * so a crash leaves at most a marker too many (its record is read, and found ended), never one
 * too few.
 */
const RUNNING_INDEX = 'running-executions';

function runningIndexDir(home: string, stateMachine: string): string {
  return join(home, RUNNING_INDEX, stateMachine);
}

/**
 * Makes the index of a state machine's records if it has none: from every record, once, for a
 * home written before the index existed. Built aside and renamed into place, so an index that
 * exists is whole.
 */
export function ensureRunningIndex(home: string, stateMachine: string): void {
  const index = runningIndexDir(home, stateMachine);
  if (existsSync(index)) return;
  const building = `${index}.${process.pid}.tmp`;
  rmSync(building, { recursive: true, force: true });
  mkdirSync(building, { recursive: true });
  for (const record of readExecutionRecords(home, stateMachine, () => {})) {
    if (record.status === 'RUNNING') writeFileSync(join(building, record.name), '');
  }
  try {
    renameSync(building, index);
  } catch (error) {
    // Another process made it first.
    rmSync(building, { recursive: true, force: true });
    if (!existsSync(index)) throw error;
  }
}

/** Records, before a record of `name` is written `RUNNING` or after it has ended, whether it runs. */
export function markRunning(home: string, stateMachine: string, name: string, running: boolean): void {
  const marker = join(runningIndexDir(home, stateMachine), name);
  if (!running) {
    rmSync(marker, { force: true });
    return;
  }
  ensureRunningIndex(home, stateMachine);
  writeFileSync(marker, '');
}

/**
 * The readable records of a state machine that are RUNNING, found through the index (made first
 * if the home has none); each damaged one is passed to `onDamaged`.
 */
export function readRunningRecords(home: string, stateMachine: string, onDamaged: (error: DamagedStateError) => void): ExecutionRecord[] {
  if (!existsSync(join(home, 'executions', stateMachine))) return [];
  ensureRunningIndex(home, stateMachine);
  return readdirSync(runningIndexDir(home, stateMachine)).flatMap((name) => {
    const record = readExecutionRecord(home, stateMachine, name, onDamaged);
    return record?.status === 'RUNNING' ? [record] : [];
  });
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
