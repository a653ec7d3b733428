import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ExecutionRecord } from './executor';

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
