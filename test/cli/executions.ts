import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deployedNames } from '../../lib/compile/deployed-names';

/** An execution of a run state machine, as the local engine records it. */
export interface ExecutionRecord {
  readonly startDate: string;
  readonly stopDate: string;
  readonly input: string;
  readonly output?: string;
}

/** Executions of a pipeline's run state machine, from the records the local engine keeps. */
export function runExecutions(home: string, pipeline: string): ExecutionRecord[] {
  // Records are kept per state machine, named as deployed: the local stage's `<stage>-<pipeline>`.
  const dir = deployedNames.stateMachine('local', pipeline);
  if (!readdirSync(join(home, 'executions')).includes(dir)) return [];
  return readdirSync(join(home, 'executions', dir)).map((file) => JSON.parse(readFileSync(join(home, 'executions', dir, file), 'utf8')));
}

/** Most intervals open at one instant (epoch milliseconds): an end and a start at the same millisecond do not overlap. */
export function peakInFlight(intervals: readonly { start: number; end: number }[]): number {
  const events = intervals.flatMap((i) => [
    { at: i.start, delta: 1 },
    { at: i.end, delta: -1 },
  ]);
  events.sort((a, b) => a.at - b.at || a.delta - b.delta);
  let current = 0;
  let peak = 0;
  for (const event of events) {
    current += event.delta;
    peak = Math.max(peak, current);
  }
  return peak;
}
