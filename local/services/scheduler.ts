import { nextFireTime } from '../../lib/compile/scheduler-expression';

/**
 * EventBridge Scheduler, locally: a timer loop that fires the schedules found in the template
 * while `sluice dev` runs, at the times `nextFireTime` gives (lib/compile/scheduler-expression.ts,
 * also what the CLI prints as a schedule's next fire time).
 */

/** The time source of {@link LocalScheduler}, injectable so tests run on a fake clock. */
export interface SchedulerClock {
  now(): Date;
  /** Calls `callback` after `delayMs`; returns a function that cancels it. */
  setTimer(callback: () => void, delayMs: number): () => void;
}

/** One schedule of the template, with what to do when it fires. */
export interface LocalSchedule {
  /** Unique among the scheduler's schedules, used in error reports. */
  readonly name: string;
  /** An EventBridge Scheduler expression: `cron(...)`, `rate(...)` or `at(...)`. */
  readonly expression: string;
  /** IANA time zone the expression is read in. */
  readonly timezone: string;
  /** Called with the scheduled time (`<aws.scheduler.scheduled-time>`), not the time it ran. */
  fire(scheduledTime: Date): Promise<void>;
}

/** Options of {@link LocalScheduler}. */
export interface LocalSchedulerOptions {
  /** Receives every error a schedule's `fire` rejects with. */
  readonly onError: (error: unknown, schedule: LocalSchedule, scheduledTime: Date) => void;
  /**
   * Time source.
   * @default - the system clock and `setTimeout`
   */
  readonly clock?: SchedulerClock;
}

/** Node's timers overflow past about 24.8 days: longer waits are taken in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

const systemClock: SchedulerClock = {
  now: () => new Date(),
  setTimer: (callback, delayMs) => {
    const timer = setTimeout(callback, delayMs);
    return () => clearTimeout(timer);
  },
};

interface Armed {
  readonly schedule: LocalSchedule;
  /** The fire time it waits for. */
  due?: Date;
  cancel?: () => void;
}

/**
 * The fire time each schedule was waiting for when a scheduler stopped: a scheduler started with
 * it fires from there, so that a hand-over between two schedulers neither skips nor repeats a tick.
 */
export type PendingTicks = ReadonlyMap<string, Date>;

/**
 * Fires schedules at their next fire times while started. A fire that is still running does not
 * delay the next one (EventBridge Scheduler does not wait either); `stop()` waits for running
 * fires to settle.
 */
export class LocalScheduler {
  private readonly clock: SchedulerClock;
  private readonly schedules = new Map<string, Armed>();
  private readonly running = new Set<Promise<void>>();
  private started = false;

  constructor(private readonly options: LocalSchedulerOptions) {
    this.clock = options.clock ?? systemClock;
  }

  /**
   * Adds a schedule; when the scheduler is started it is armed at once.
   * @throws ScheduleExpressionError for an invalid expression or time zone
   * @throws Error when a schedule of that name exists
   */
  add(schedule: LocalSchedule): void {
    if (this.schedules.has(schedule.name)) throw new Error(`Schedule "${schedule.name}" is already added to the local scheduler.`);
    nextFireTime(schedule.expression, schedule.timezone, this.clock.now());
    const armed: Armed = { schedule };
    this.schedules.set(schedule.name, armed);
    if (this.started) this.arm(armed, this.clock.now());
  }

  /**
   * Arms every schedule from the clock's current time, or, for a schedule in `resume`, for the
   * tick another scheduler was waiting for when it stopped (fired at once if already due).
   */
  start(resume: PendingTicks = new Map()): void {
    if (this.started) return;
    this.started = true;
    const now = this.clock.now();
    for (const armed of this.schedules.values()) {
      const due = resume.get(armed.schedule.name);
      if (due) this.wait(armed, due);
      else this.arm(armed, now);
    }
  }

  /**
   * Cancels all timers and waits for fires still running. Resolves with the tick each schedule
   * was waiting for, for {@link start} of the scheduler taking over.
   */
  async stop(): Promise<PendingTicks> {
    this.started = false;
    const pending = new Map<string, Date>();
    for (const armed of this.schedules.values()) {
      armed.cancel?.();
      if (armed.due) pending.set(armed.schedule.name, armed.due);
    }
    await Promise.allSettled([...this.running]);
    return pending;
  }

  private arm(armed: Armed, after: Date): void {
    const due = nextFireTime(armed.schedule.expression, armed.schedule.timezone, after);
    armed.due = undefined;
    if (due) this.wait(armed, due);
  }

  private wait(armed: Armed, due: Date): void {
    armed.due = due;
    const delay = due.getTime() - this.clock.now().getTime();
    armed.cancel = this.clock.setTimer(() => {
      if (!this.started) return;
      if (this.clock.now() < due) return this.wait(armed, due);
      this.fire(armed.schedule, due);
      this.arm(armed, due);
    }, Math.min(Math.max(delay, 0), MAX_TIMER_MS));
  }

  private fire(schedule: LocalSchedule, scheduledTime: Date): void {
    const run = Promise.resolve()
      .then(() => schedule.fire(scheduledTime))
      .catch((error: unknown) => this.options.onError(error, schedule, scheduledTime))
      .finally(() => this.running.delete(run));
    this.running.add(run);
  }
}
