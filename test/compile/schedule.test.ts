import { describe, expect, it } from 'vitest';
import { ScheduleError, nextFireTimes, scheduleIssues, toSchedulerExpression } from '../../lib/compile/schedule';

const iso = (dates: readonly Date[]): string[] => dates.map((d) => d.toISOString());
const FIX = 'A cron has five fields (minute hour day-of-month month day-of-week), e.g. "0 2 * * *" (02:00 every day)';

describe('toSchedulerExpression', () => {
  it.each([
    ['0 2 * * *', 'cron(0 2 * * ? *)'],
    ['*/15 * * * *', 'cron(0/15 * * * ? *)'],
    ['0 */6 * * *', 'cron(0 0/6 * * ? *)'],
    ['30 1 15 * *', 'cron(30 1 15 * ? *)'],
    ['0 0 */2 * *', 'cron(0 0 1/2 * ? *)'],
    ['0 0 1 */3 *', 'cron(0 0 1 1/3 ? *)'],
    ['0 0 1 jan,jul *', 'cron(0 0 1 JAN,JUL ? *)'],
    ['0 0 1-31/10 * *', 'cron(0 0 1,11,21,31 * ? *)'],
    ['5,35 8-18/2 * * *', 'cron(5,35 8,10,12,14,16,18 * * ? *)'],
    ['0 9 * * 1-5', 'cron(0 9 ? * 2-6 *)'],
    ['0 9 * * mon-fri', 'cron(0 9 ? * MON-FRI *)'],
    ['0 0 * * 0', 'cron(0 0 ? * 1 *)'],
    ['0 0 * * 7', 'cron(0 0 ? * 1 *)'],
    ['0 0 * * 6', 'cron(0 0 ? * 7 *)'],
    ['0 0 * * 5-7', 'cron(0 0 ? * 1,6,7 *)'],
    ['0 0 * * 0-6', 'cron(0 0 ? * 1-7 *)'],
    ['0 0 * * */2', 'cron(0 0 ? * 1,3,5,7 *)'],
    ['0 0 * * SUN,3', 'cron(0 0 ? * SUN,4 *)'],
    ['  0   2 * * *  ', 'cron(0 2 * * ? *)'],
  ])('converts %s to %s', (cron, expression) => {
    expect(toSchedulerExpression(cron)).toBe(expression);
  });

  it('fails an invalid expression with the reason and an example', () => {
    expect(() => toSchedulerExpression('0 2 * *')).toThrow(ScheduleError);
    expect(() => toSchedulerExpression('0 2 * *')).toThrow(`cron "0 2 * *" is invalid: it has 4 fields, not 5. ${FIX}`);
  });
});

describe('scheduleIssues', () => {
  it('finds nothing wrong with valid schedules', () => {
    expect(scheduleIssues({ cron: '0 2 * * *' })).toStrictEqual([]);
    expect(scheduleIssues({ cron: '*/5 8-18 * * MON-FRI', timezone: 'America/New_York' })).toStrictEqual([]);
    expect(scheduleIssues({ cron: '0 0 1 * *', timezone: 'Australia/Lord_Howe' })).toStrictEqual([]);
  });

  it.each([
    ['4 fields', '0 2 * *', 'it has 4 fields, not 5'],
    ['6 fields', '0 0 2 * * *', 'it has 6 fields, not 5'],
    ['an empty expression', '', 'it has 0 fields, not 5'],
    ['a value out of range', '0 25 * * *', 'hour value 25 is outside 0-23'],
    ['day-of-month 0', '0 2 0 * *', 'day-of-month value 0 is outside 1-31'],
    ['day-of-week 8', '0 2 * * 8', 'day-of-week value 8 is outside 0-7'],
    ['an unknown name', '0 2 * * FOO', 'day-of-week "FOO" is not a number or a name SUN..SAT'],
    ['a name in a numeric field', '0 two * * *', 'hour "two" is not a number'],
    ['a month name in the day-of-week field', '0 2 * * JAN', 'day-of-week "JAN" is not a number or a name SUN..SAT'],
    ['a backwards range', '0 2 10-1 * *', 'day-of-month range "10-1" runs backwards; write the smaller value first'],
    ['a zero step', '*/0 * * * *', 'minute "*/0" has step 0; use a step of 1 or more'],
    ['a step from a single value', '0 2 * * 5/2', 'day-of-week "5/2" steps from a single value; write "5-7/2" or "*/2"'],
    ['a "?"', '0 2 ? * *', 'day-of-month "?" is not a value, range, step or list'],
    ['an "L"', '0 2 L * *', 'day-of-month "L" is not a number'],
    ['a "#"', '0 2 * * 1#2', 'day-of-week "1#2" is not a value, range, step or list'],
    ['an empty list item', '0 2,,3 * * *', 'hour "" is not a value, range, step or list'],
  ])('fails %s, showing the expression and an example', (_, cron, why) => {
    expect(scheduleIssues({ cron })).toStrictEqual([`cron "${cron}" is invalid: ${why}. ${FIX}`]);
  });

  it('fails a cron restricting both day-of-month and day-of-week, which EventBridge cannot express', () => {
    expect(scheduleIssues({ cron: '0 2 1 * MON' })).toStrictEqual([
      'cron "0 2 1 * MON" restricts both day-of-month (1) and day-of-week (MON), which EventBridge Scheduler cannot express; set one of them to "*", or use two schedules',
    ]);
  });

  it('fails an unknown time zone', () => {
    expect(scheduleIssues({ cron: '0 2 * * *', timezone: 'Europe/Atlantis' })).toStrictEqual([
      'time zone "Europe/Atlantis" is not a known IANA time zone; use a name such as "UTC" or "America/New_York"',
    ]);
  });

  it('reports every problem at once', () => {
    expect(scheduleIssues({ cron: 'daily', timezone: 'EST+5' })).toHaveLength(2);
  });
});

describe('nextFireTimes', () => {
  it('lists fire times strictly after the given instant, in UTC by default', () => {
    expect(iso(nextFireTimes({ cron: '0 2 * * *' }, new Date('2024-01-01T02:00:00Z'), 3))).toStrictEqual([
      '2024-01-02T02:00:00.000Z',
      '2024-01-03T02:00:00.000Z',
      '2024-01-04T02:00:00.000Z',
    ]);
  });

  it('evaluates the expression in the schedule time zone', () => {
    expect(iso(nextFireTimes({ cron: '0 9 * * MON-FRI', timezone: 'Asia/Kolkata' }, new Date('2024-01-05T12:00:00Z'), 2))).toStrictEqual([
      '2024-01-08T03:30:00.000Z',
      '2024-01-09T03:30:00.000Z',
    ]);
  });

  it('skips a time that spring-forward skips, as EventBridge Scheduler does', () => {
    // Given 02:30 every day in New York, across 2024-03-10 (02:00 → 03:00)
    const times = nextFireTimes({ cron: '30 2 * * *', timezone: 'America/New_York' }, new Date('2024-03-09T12:00:00Z'), 2);
    // Then the 10th has no run
    expect(iso(times)).toStrictEqual(['2024-03-11T06:30:00.000Z', '2024-03-12T06:30:00.000Z']);
  });

  it('fires once for a time that fall-back repeats, at its first occurrence', () => {
    // Given xx:30 every hour in New York, across 2024-11-03 (01:00 EDT → 01:00 EST)
    const times = nextFireTimes({ cron: '30 * * * *', timezone: 'America/New_York' }, new Date('2024-11-03T04:00:00Z'), 3);
    // Then 01:30 runs at 01:30 EDT only, followed by 02:30 EST
    expect(iso(times)).toStrictEqual(['2024-11-03T04:30:00.000Z', '2024-11-03T05:30:00.000Z', '2024-11-03T07:30:00.000Z']);
    const daily = nextFireTimes({ cron: '30 1 * * *', timezone: 'America/New_York' }, new Date('2024-11-02T12:00:00Z'), 2);
    expect(iso(daily)).toStrictEqual(['2024-11-03T05:30:00.000Z', '2024-11-04T06:30:00.000Z']);
  });

  it('returns nothing for an expression that never matches', () => {
    expect(nextFireTimes({ cron: '0 0 30 2 *' }, new Date('2024-01-01T00:00:00Z'), 3)).toStrictEqual([]);
  });

  it('fails an invalid schedule with every issue', () => {
    expect(() => nextFireTimes({ cron: '0 2 * *', timezone: 'Nowhere' }, new Date(), 1)).toThrow(
      `Invalid schedule:\n  - cron "0 2 * *" is invalid: it has 4 fields, not 5. ${FIX}\n  - time zone "Nowhere" is not a known IANA time zone`,
    );
  });
});
