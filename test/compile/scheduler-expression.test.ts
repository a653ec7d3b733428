import { describe, expect, it } from 'vitest';
import { nextFireTime } from '../../lib/compile/scheduler-expression';

const NY = 'America/New_York';
const at = (iso: string) => new Date(iso);

describe('nextFireTime', () => {
  it.each([
    ['daily at 02:00 local (EST, UTC-5)', 'cron(0 2 * * ? *)', '2024-01-01T12:00:00Z', '2024-01-02T07:00:00Z'],
    ['daily at 02:00 local (EDT, UTC-4)', 'cron(0 2 * * ? *)', '2024-07-01T12:00:00Z', '2024-07-02T06:00:00Z'],
    ['strictly after', 'cron(0 2 * * ? *)', '2024-01-02T07:00:00Z', '2024-01-03T07:00:00Z'],
    ['day-of-week 2-6 is MON-FRI', 'cron(30 9 ? * 2-6 *)', '2024-01-05T15:00:00Z', '2024-01-08T14:30:00Z'],
    ['day-of-week names', 'cron(30 9 ? * MON-FRI *)', '2024-01-05T15:00:00Z', '2024-01-08T14:30:00Z'],
    ['day-of-week 1 is SUN', 'cron(0 0 ? * 1 *)', '2024-01-01T12:00:00Z', '2024-01-07T05:00:00Z'],
    ['month names and day-of-month', 'cron(0 12 1 JUL ? *)', '2024-01-01T00:00:00Z', '2024-07-01T16:00:00Z'],
    ['every 15 minutes', 'cron(0/15 * * * ? *)', '2024-01-01T12:07:00Z', '2024-01-01T12:15:00Z'],
    ['start/step', 'cron(5/20 * * * ? *)', '2024-01-01T12:26:00Z', '2024-01-01T12:45:00Z'],
    ['year field', 'cron(0 0 1 1 ? 2026)', '2024-01-01T00:00:00Z', '2026-01-01T05:00:00Z'],
    ['spring-forward: 02:30 does not exist on Mar 10, skipped', 'cron(30 2 * * ? *)', '2024-03-09T08:00:00Z', '2024-03-11T06:30:00Z'],
    ['fall-back: 01:30 occurs twice on Nov 3, first occurrence (EDT)', 'cron(30 1 * * ? *)', '2024-11-03T04:00:00Z', '2024-11-03T05:30:00Z'],
    ['fall-back: not again at the second 01:30 (EST)', 'cron(30 1 * * ? *)', '2024-11-03T05:30:00Z', '2024-11-04T06:30:00Z'],
    ['rate adds the period', 'rate(5 minutes)', '2024-01-01T00:00:00Z', '2024-01-01T00:05:00Z'],
    ['rate(1 day)', 'rate(1 day)', '2024-03-09T12:00:00Z', '2024-03-10T12:00:00Z'],
    ['at() in the zone', 'at(2024-07-04T09:00:00)', '2024-01-01T00:00:00Z', '2024-07-04T13:00:00Z'],
  ])('%s', (_name, expression, after, expected) => {
    expect(nextFireTime(expression, NY, at(after))?.toISOString()).toBe(at(expected).toISOString());
  });

  it('returns undefined for an at() that has passed', () => {
    expect(nextFireTime('at(2024-07-04T09:00:00)', NY, at('2024-07-04T13:00:00Z'))).toBeUndefined();
  });

  it('returns undefined for an at() in a spring-forward gap', () => {
    expect(nextFireTime('at(2024-03-10T02:30:00)', NY, at('2024-01-01T00:00:00Z'))).toBeUndefined();
  });

  it('returns undefined when the cron years are over', () => {
    expect(nextFireTime('cron(0 0 1 1 ? 2023)', NY, at('2024-01-01T00:00:00Z'))).toBeUndefined();
  });

  it.each([
    ['cron(0 2 * * *)', 'must have 6 fields (minutes hours day-of-month month day-of-week year), found 5.'],
    ['cron(0 2 * * * *)', 'must have "?" in exactly one of day-of-month and day-of-week.'],
    ['cron(0 2 ? * ? *)', 'must have "?" in exactly one of day-of-month and day-of-week.'],
    ['cron(0 2 L * ? *)', 'uses "L" in the day-of-month field, which the local scheduler does not support'],
    ['cron(0 2 ? * 6#3 *)', 'uses "#" in the day-of-week field, which the local scheduler does not support'],
    ['cron(0 2 15W * ? *)', 'uses "W" in the day-of-month field'],
    ['cron(61 2 * * ? *)', 'is not a valid cron expression'],
    ['rate(1 minutes)', 'must use the singular unit for 1 and the plural otherwise'],
    ['rate(5 minute)', 'must use the singular unit for 1 and the plural otherwise'],
    ['rate(0 hours)', 'must be rate(value unit) with a positive whole value'],
    ['rate(2 weeks)', 'must be rate(value unit)'],
    ['at(2024-07-04 09:00)', 'must be at(yyyy-mm-ddThh:mm:ss).'],
    ['every day', 'must be cron(...), rate(...) or at(...).'],
  ])('fails on %s', (expression, message) => {
    expect(() => nextFireTime(expression, NY, at('2024-01-01T00:00:00Z'))).toThrow(`Schedule expression "${expression}" ${message}`);
  });

  it('accepts JUL and WED, whose letters are not L or W operators', () => {
    expect(nextFireTime('cron(0 12 ? JUL WED *)', NY, at('2024-01-01T00:00:00Z'))?.toISOString()).toBe('2024-07-03T16:00:00.000Z');
  });

  it('fails on an unknown time zone', () => {
    expect(() => nextFireTime('rate(1 hour)', 'Mars/Olympus', at('2024-01-01T00:00:00Z'))).toThrow(
      'Schedule expression "rate(1 hour)" has an invalid time zone "Mars/Olympus".',
    );
  });
});
