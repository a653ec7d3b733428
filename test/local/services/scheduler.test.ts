import { describe, expect, it } from 'vitest';
import { LocalScheduler, type SchedulerClock } from '../../../local/services/scheduler';

const NY = 'America/New_York';

/** Timers run only when the test advances time, in due order. */
class FakeClock implements SchedulerClock {
  private timers: { due: number; callback: () => void; id: number }[] = [];
  private ids = 0;

  constructor(private time: number) {}

  now(): Date {
    return new Date(this.time);
  }

  setTimer(callback: () => void, delayMs: number): () => void {
    const id = ++this.ids;
    this.timers.push({ due: this.time + delayMs, callback, id });
    return () => {
      this.timers = this.timers.filter((timer) => timer.id !== id);
    };
  }

  /** Runs every timer due up to `iso`, then lets fired promises settle. */
  async advanceTo(iso: string): Promise<void> {
    const until = Date.parse(iso);
    for (;;) {
      const next = this.timers.filter((timer) => timer.due <= until).sort((a, b) => a.due - b.due)[0];
      if (!next) break;
      this.timers = this.timers.filter((timer) => timer !== next);
      this.time = next.due;
      next.callback();
    }
    this.time = until;
    await new Promise((resolve) => setImmediate(resolve));
  }

  get pending(): number {
    return this.timers.length;
  }
}

describe('LocalScheduler', () => {
  it('fires an hourly cron across the spring-forward change in New York, skipping the missing hour', async () => {
    // Given an hourly schedule at minute 30, started on Mar 10 at 00:00 EST
    const clock = new FakeClock(Date.parse('2024-03-10T05:00:00Z'));
    const fired: string[] = [];
    const scheduler = new LocalScheduler({ clock, onError: (error) => { throw error; } });
    scheduler.add({ name: 'hourly', expression: 'cron(30 * * * ? *)', timezone: NY, fire: async (time) => void fired.push(time.toISOString()) });
    scheduler.start();

    // When time passes 04:00 EDT
    await clock.advanceTo('2024-03-10T08:00:00Z');

    // Then 00:30 and 01:30 EST ran, 02:30 does not exist, 03:30 EDT ran
    expect(fired).toStrictEqual(['2024-03-10T05:30:00.000Z', '2024-03-10T06:30:00.000Z', '2024-03-10T07:30:00.000Z']);
    await scheduler.stop();
  });

  it('fires a daily cron once on the fall-back day in New York', async () => {
    // Given a daily schedule at 01:30, which occurs twice on Nov 3
    const clock = new FakeClock(Date.parse('2024-11-02T12:00:00Z'));
    const fired: string[] = [];
    const scheduler = new LocalScheduler({ clock, onError: (error) => { throw error; } });
    scheduler.add({ name: 'daily', expression: 'cron(30 1 * * ? *)', timezone: NY, fire: async (time) => void fired.push(time.toISOString()) });
    scheduler.start();

    // When two days pass
    await clock.advanceTo('2024-11-04T12:00:00Z');

    // Then it ran at 01:30 EDT on Nov 3 (not again at 01:30 EST) and at 01:30 EST on Nov 4
    expect(fired).toStrictEqual(['2024-11-03T05:30:00.000Z', '2024-11-04T06:30:00.000Z']);
    await scheduler.stop();
  });

  it('reports a failing fire through onError and keeps firing', async () => {
    // Given a schedule whose fire rejects
    const clock = new FakeClock(Date.parse('2024-01-01T00:00:00Z'));
    const errors: string[] = [];
    const scheduler = new LocalScheduler({
      clock,
      onError: (error, schedule, time) => errors.push(`${schedule.name} ${time.toISOString()} ${(error as Error).message}`),
    });
    scheduler.add({ name: 'flaky', expression: 'rate(1 hour)', timezone: 'UTC', fire: async () => { throw new Error('launcher down'); } });
    scheduler.start();

    // When two periods pass
    await clock.advanceTo('2024-01-01T02:00:00Z');

    // Then both failures were reported
    expect(errors).toStrictEqual(['flaky 2024-01-01T01:00:00.000Z launcher down', 'flaky 2024-01-01T02:00:00.000Z launcher down']);
    await scheduler.stop();
  });

  it('stops firing after stop()', async () => {
    // Given a started schedule
    const clock = new FakeClock(Date.parse('2024-01-01T00:00:00Z'));
    const fired: Date[] = [];
    const scheduler = new LocalScheduler({ clock, onError: (error) => { throw error; } });
    scheduler.add({ name: 'r', expression: 'rate(1 minute)', timezone: 'UTC', fire: async (time) => void fired.push(time) });
    scheduler.start();

    // When it is stopped
    await scheduler.stop();
    await clock.advanceTo('2024-01-01T01:00:00Z');

    // Then nothing fired and no timer is left
    expect(fired).toStrictEqual([]);
    expect(clock.pending).toBe(0);
  });

  it('hands over to another scheduler without skipping or repeating a tick', async () => {
    // Given an hourly schedule that fired at 01:00 on the first scheduler
    const clock = new FakeClock(Date.parse('2024-01-01T00:30:00Z'));
    const fired: string[] = [];
    const schedule = { name: 'hourly', expression: 'cron(0 * * * ? *)', timezone: 'UTC', fire: async (time: Date) => void fired.push(time.toISOString()) };
    const first = new LocalScheduler({ clock, onError: (error) => { throw error; } });
    first.add(schedule);
    first.start();
    await clock.advanceTo('2024-01-01T01:30:00Z');

    // When it stops, and the next one starts only after 02:00 passed (a slow rebuild)
    const pending = await first.stop();
    await clock.advanceTo('2024-01-01T02:10:00Z');
    const second = new LocalScheduler({ clock, onError: (error) => { throw error; } });
    second.add(schedule);
    second.start(pending);
    await clock.advanceTo('2024-01-01T03:00:00Z');

    // Then the tick due during the hand-over fired once, late, and the schedule went on
    expect(fired).toStrictEqual(['2024-01-01T01:00:00.000Z', '2024-01-01T02:00:00.000Z', '2024-01-01T03:00:00.000Z']);
    await second.stop();
  });

  it('waits in steps for a fire time beyond the longest timer', async () => {
    // Given a one-off schedule a year away
    const clock = new FakeClock(Date.parse('2024-01-01T00:00:00Z'));
    const fired: string[] = [];
    const scheduler = new LocalScheduler({ clock, onError: (error) => { throw error; } });
    scheduler.add({ name: 'once', expression: 'at(2025-01-01T00:00:00)', timezone: 'UTC', fire: async (time) => void fired.push(time.toISOString()) });
    scheduler.start();

    // When the year passes
    await clock.advanceTo('2025-06-01T00:00:00Z');

    // Then it fired once, at its time
    expect(fired).toStrictEqual(['2025-01-01T00:00:00.000Z']);
    await scheduler.stop();
  });

  it('fails to add a schedule with an invalid expression or a duplicate name', () => {
    const scheduler = new LocalScheduler({ onError: () => undefined });
    const fire = async () => undefined;
    scheduler.add({ name: 'a', expression: 'rate(1 hour)', timezone: 'UTC', fire });
    expect(() => scheduler.add({ name: 'a', expression: 'rate(1 hour)', timezone: 'UTC', fire })).toThrow(
      'Schedule "a" is already added to the local scheduler.',
    );
    expect(() => scheduler.add({ name: 'b', expression: 'cron(0 2 * * *)', timezone: 'UTC', fire })).toThrow('must have 6 fields');
  });
});
