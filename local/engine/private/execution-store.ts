import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ExecutionAlreadyExists } from '@aws-sdk/client-sfn';
import { DamagedStateError, readJsonFile, writeFileAtomic } from '../../state-files';
import { type ExecutionRecord, executionRecordFile } from '../records';

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

  /**
   * The record of an execution, if there is one. A damaged record (written by an older version in
   * place, or by a disk that filled up) is reported and read as absent, so that it blocks nothing
   * but itself.
   */
  read(stateMachine: string, name: string): ExecutionRecord | undefined {
    const file = executionRecordFile(this.home, stateMachine, name);
    if (!existsSync(file)) return undefined;
    try {
      return readJsonFile<ExecutionRecord>(file);
    } catch (error) {
      if (!(error instanceof DamagedStateError)) throw error;
      this.warn(error.message);
      return undefined;
    }
  }

  /** Every readable record of a state machine, in no particular order. */
  list(stateMachine: string): ExecutionRecord[] {
    const dir = join(this.home, 'executions', stateMachine);
    if (!existsSync(dir)) return [];
    const records: ExecutionRecord[] = [];
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
      const record = this.read(stateMachine, file.slice(0, -'.json'.length));
      if (record) records.push(record);
    }
    return records;
  }

  private write(stateMachine: string, record: ExecutionRecord, flag: 'wx' | 'w'): void {
    const file = executionRecordFile(this.home, stateMachine, record.name);
    mkdirSync(dirname(file), { recursive: true });
    try {
      writeFileAtomic(file, JSON.stringify(record), flag);
    } catch (error) {
      // Another process started this name first.
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new ExecutionAlreadyExists({ message: `Execution Already Exists: '${record.executionArn}'`, $metadata: {} });
      }
      throw error;
    }
  }
}
