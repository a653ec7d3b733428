import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { invocationLine, type TaskInvocation } from '../orchestration/invocation-line';

/**
 * One line a task attempt printed, with the invocation it belongs to (pipeline, partition, run id,
 * task, attempt: its try in the run, and request id): the structured JSON line kept per run in
 * `$SLUICE_HOME/logs/<run-id>.jsonl`, as CloudWatch Logs keeps each invocation's lines on AWS.
 */
export interface TaskLogEntry extends TaskInvocation {
  /** ISO-8601 instant the line was written. */
  readonly time: string;
  readonly stream: 'stdout' | 'stderr';
  /** The line as printed (a handler's own JSON log line stays text here). */
  readonly message: string;
}

/** Which lines of a run to read. */
export interface TaskLogFilter {
  /** @default - every task */
  readonly task?: string;
  /** @default - every attempt */
  readonly attempt?: number;
}

/** The task logs of a local stage, one JSON-lines file per run under `<home>/logs/`. */
export class TaskLogs {
  private readonly dir: string;

  constructor(home: string) {
    this.dir = join(home, 'logs');
  }

  /** Appends one line of a run's log. Appends are whole lines, so readers never see half an entry. */
  append(entry: TaskLogEntry): void {
    mkdirSync(this.dir, { recursive: true });
    appendFileSync(this.file(entry.runId), `${JSON.stringify(entry)}\n`);
  }

  /** Whether any task of the run has logged. */
  has(runId: string): boolean {
    return existsSync(this.file(runId));
  }

  /**
   * The run's lines matching the filter, in the order they were written, from the `from`-th line
   * of the file on (for following a run): returns them with the position to read from next.
   * What the task printed only: the start and end line sluice's wrapper logs around each
   * invocation (see `orchestration/task-invocation.ts`) are left out, as `sluice logs --stage` leaves
   * them out.
   */
  read(runId: string, filter: TaskLogFilter = {}, from = 0): { entries: TaskLogEntry[]; next: number } {
    const { entries, next } = this.readAll(runId, from);
    return {
      entries: entries.filter(
        (e) => (filter.task === undefined || e.task === filter.task) && (filter.attempt === undefined || e.attempt === filter.attempt) && !invocationLine(e.message),
      ),
      next,
    };
  }

  /** Every line of the run, the wrapper's included, from the `from`-th on, and the position to read from next. */
  readAll(runId: string, from = 0): { entries: TaskLogEntry[]; next: number } {
    const file = this.file(runId);
    if (!existsSync(file)) return { entries: [], next: from };
    const lines = readFileSync(file, 'utf8').split('\n');
    // The last element is '' after a complete line, or a line still being written: read it later.
    const complete = lines.slice(0, -1);
    return { entries: complete.slice(from).map((line) => JSON.parse(line) as TaskLogEntry), next: complete.length };
  }

  /** The runs with lines written at or after `since` (epoch milliseconds). */
  runsSince(since: number): string[] {
    if (!existsSync(this.dir)) return [];
    return readdirSync(this.dir)
      .filter((name) => name.endsWith('.jsonl') && statSync(join(this.dir, name)).mtimeMs >= since)
      .map((name) => name.slice(0, -'.jsonl'.length));
  }

  private file(runId: string): string {
    // Run ids are execution names: [A-Za-z0-9_-] only, so they are safe file names.
    return join(this.dir, `${runId.replace(/[^A-Za-z0-9_-]/g, '_')}.jsonl`);
  }
}
