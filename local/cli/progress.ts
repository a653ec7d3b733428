import type { TaskAttempt } from '../engine';
import { causeMessage, duration, elapsed, errorLine } from './format';

/**
 * Live progress of a run on a terminal: given the task attempts seen so far, the lines to print
 * for what changed since the last call (a task started, was retried, succeeded or failed, with
 * durations). Pure apart from its memory of what it has printed.
 */
export class RunProgress {
  private readonly printed = new Map<TaskAttempt, 'started' | 'ended'>();

  constructor(private readonly isTask: (state: string) => boolean) {}

  /** Lines for the attempts that started or ended since the last call, in order. */
  update(attempts: readonly TaskAttempt[]): string[] {
    const lines: string[] = [];
    for (const attempt of attempts) {
      if (!this.isTask(attempt.state)) continue;
      const seen = this.printed.get(attempt);
      const name = attempt.mapIndex === undefined ? attempt.state : `${attempt.state}[${attempt.mapIndex}]`;
      const tried = attempt.attempt > 1 ? ` (attempt ${attempt.attempt})` : '';
      if (seen === undefined) {
        lines.push(`  ${attempt.attempt > 1 ? '↻' : '▸'} ${name}${attempt.attempt > 1 ? ` retried${tried}` : ' started'}`);
        this.printed.set(attempt, 'started');
      }
      if (attempt.endDate && this.printed.get(attempt) !== 'ended') {
        const took = duration(elapsed(attempt.startDate, attempt.endDate));
        lines.push(
          attempt.error === undefined
            ? `  ✓ ${name} succeeded in ${took}${tried}`
            : `  ✗ ${name} failed in ${took}${tried}: ${errorLine(attempt.error, causeMessage(attempt.cause))}`,
        );
        this.printed.set(attempt, 'ended');
      }
    }
    return lines;
  }
}
