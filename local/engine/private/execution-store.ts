import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { writeFileAtomic } from '../../state-files';
import { sfnError } from './sfn-sdk';
import { type ExecutionRecord, executionRecordFile, markRunning, readExecutionRecord, readExecutionRecords, readRunningRecords } from '../records';

/**
 * The execution records of one `SLUICE_HOME` on disk (`executions/<state machine>/<name>.json`,
 * see `records.ts`): each written whole (a crash leaves the old record or the new, never part of
 * one), the first write exclusive, so that two processes never start the same name.
 */
export class ExecutionStore {
  constructor(
    private readonly home: string,
    /** Told of a damaged record, which is read as absent. */
    private readonly warn: (message: string) => void,
  ) {}

  /** Whether a record of `name` exists, readable or not. */
  has(stateMachine: string, name: string): boolean {
    return existsSync(executionRecordFile(this.home, stateMachine, name));
  }

  /**
   * Writes the record of a new execution.
   * @throws ExecutionAlreadyExists when another process started this name first
   */
  create(stateMachine: string, record: ExecutionRecord): void {
    this.write(stateMachine, record, 'wx');
  }

  /** Writes the record of an execution over its previous one. */
  save(stateMachine: string, record: ExecutionRecord): void {
    this.write(stateMachine, record, 'w');
  }

  /** The record of an execution, if there is one; a damaged record is reported and read as absent. */
  read(stateMachine: string, name: string): ExecutionRecord | undefined {
    return readExecutionRecord(this.home, stateMachine, name, (error) => this.warn(error.message));
  }

  /** Every readable record of a state machine, in no particular order; each damaged one is reported. */
  list(stateMachine: string): ExecutionRecord[] {
    return readExecutionRecords(this.home, stateMachine, (error) => this.warn(error.message));
  }

  /** The readable records of a state machine that are RUNNING, read through their index (see `records.ts`). */
  listRunning(stateMachine: string): ExecutionRecord[] {
    return readRunningRecords(this.home, stateMachine, (error) => this.warn(error.message));
  }

  private write(stateMachine: string, record: ExecutionRecord, flag: 'wx' | 'w'): void {
    const file = executionRecordFile(this.home, stateMachine, record.name);
    mkdirSync(dirname(file), { recursive: true });
    // Marked before the record says RUNNING, unmarked once it says it has ended.
    if (record.status === 'RUNNING') markRunning(this.home, stateMachine, record.name, true);
    try {
      writeFileAtomic(file, JSON.stringify(record), flag);
    } catch (error) {
      // Another process started this name first.
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
        throw sfnError('ExecutionAlreadyExists', `Execution Already Exists: '${record.executionArn}'`);
      }
      throw error;
    }
    if (record.status !== 'RUNNING') markRunning(this.home, stateMachine, record.name, false);
  }
}
