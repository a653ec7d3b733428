import { Cron } from 'croner';
import { DateTime, IANAZone } from 'luxon';

/**
 * EventBridge Scheduler's schedule expressions, evaluated: which instant an expression fires
 * next in its time zone. The one engine for fire times: the local scheduler fires by it, and
 * `nextFireTimes` (what `sluice dev`, `sluice schedules` and the console print) reads the
 * expression that deploys through it, so what is shown is what fires.
 *
 * Written here over croner and luxon rather than taken whole from a library: croner evaluates
 * cron fields, but neither EventBridge's dialect (six fields with a year, `?`, Sunday as 1) nor
 * its daylight-saving rules, which follow: a local time that does not exist (spring forward) is
 * skipped, a local time that occurs twice (fall back) fires once, at its first occurrence.
 *
 * @see https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html
 */

/** Thrown for a schedule expression or time zone EventBridge Scheduler (or this stand-in) rejects. */
export class ScheduleExpressionError extends Error {
  constructor(expression: string, problem: string) {
    super(`Schedule expression "${expression}" ${problem}`);
    this.name = 'ScheduleExpressionError';
  }
}

const RATE_UNITS: Readonly<Record<string, number>> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };

/**
 * The first instant strictly after `after` at which `expression` fires in `timezone`, or
 * `undefined` when it never fires again (an `at()` in the past, a cron whose years are over).
 *
 * - `cron(minutes hours day-of-month month day-of-week year)`: one of day-of-month and day-of-week
 *   must be `?`; day-of-week 1-7 is SUN-SAT. `L`, `W` and `#` are rejected.
 * - `rate(value unit)`: `after` plus the period (the scheduler passes the previous fire time).
 * - `at(yyyy-mm-ddThh:mm:ss)`: a local time in `timezone`.
 *
 * @throws ScheduleExpressionError for an expression or time zone that is not valid.
 */
export function nextFireTime(expression: string, timezone: string, after: Date): Date | undefined {
  if (!IANAZone.isValidZone(timezone)) throw new ScheduleExpressionError(expression, `has an invalid time zone "${timezone}".`);
  const match = /^(cron|rate|at)\((.*)\)$/.exec(expression.trim());
  if (!match) throw new ScheduleExpressionError(expression, 'must be cron(...), rate(...) or at(...).');
  const [, kind, body] = match as unknown as [string, 'cron' | 'rate' | 'at', string];
  switch (kind) {
    case 'rate':
      return new Date(after.getTime() + ratePeriodMs(expression, body));
    case 'at':
      return nextAt(expression, body, timezone, after);
    case 'cron':
      return nextCron(expression, body, timezone, after);
  }
}

function ratePeriodMs(expression: string, body: string): number {
  const match = /^(\d+) (minute|hour|day)(s?)$/.exec(body.trim());
  const value = match ? Number(match[1]) : 0;
  if (!match || value < 1) {
    throw new ScheduleExpressionError(expression, 'must be rate(value unit) with a positive whole value and unit minute(s), hour(s) or day(s).');
  }
  if ((value === 1) !== (match[3] === '')) {
    throw new ScheduleExpressionError(expression, `must use the singular unit for 1 and the plural otherwise, e.g. rate(1 ${match[2]}) or rate(5 ${match[2]}s).`);
  }
  return value * RATE_UNITS[match[2]!]!;
}

function nextAt(expression: string, body: string, timezone: string, after: Date): Date | undefined {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/.test(body)) {
    throw new ScheduleExpressionError(expression, 'must be at(yyyy-mm-ddThh:mm:ss).');
  }
  const wall = DateTime.fromISO(body, { zone: 'utc' });
  if (!wall.isValid) throw new ScheduleExpressionError(expression, `has an invalid date-time (${wall.invalidExplanation}).`);
  const instant = firstOccurrence(wall, timezone);
  return instant && instant > after ? instant : undefined;
}

const CRON_LIMITS = [
  { name: 'minutes', min: 0, max: 59 },
  { name: 'hours', min: 0, max: 23 },
  { name: 'day-of-month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12 },
  { name: 'day-of-week', min: 1, max: 7 },
  { name: 'year', min: 1970, max: 2199 },
] as const;

/**
 * Cron fields are matched against local wall-clock time, which croner evaluates as if it were
 * UTC (no offsets, so no DST behaviour of its own); luxon then places each wall time in the zone.
 */
function nextCron(expression: string, body: string, timezone: string, after: Date): Date | undefined {
  const cron = parseCron(expression, body);
  let cursor = DateTime.fromJSDate(after, { zone: timezone }).setZone('utc', { keepLocalTime: true }).toJSDate();
  for (;;) {
    const next = cron.nextRun(cursor);
    if (!next) return undefined;
    const instant = firstOccurrence(DateTime.fromJSDate(next, { zone: 'utc' }), timezone);
    // Undefined: the wall time falls in a spring-forward gap. Not after `after`: its first
    // occurrence has passed, so the fall-back repeat of it does not fire again.
    if (instant && instant > after) return instant;
    cursor = next;
  }
}

const MONTH_AND_DAY_NAMES = /JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC|SUN|MON|TUE|WED|THU|FRI|SAT/gi;

function parseCron(expression: string, body: string): Cron {
  const fields = body.trim().split(/\s+/);
  if (fields.length !== 6) {
    throw new ScheduleExpressionError(expression, `must have 6 fields (minutes hours day-of-month month day-of-week year), found ${fields.length}.`);
  }
  fields.forEach((field, index) => {
    const unsupported = /[LW#]/i.exec(field.replace(MONTH_AND_DAY_NAMES, ''));
    if (unsupported) {
      throw new ScheduleExpressionError(
        expression,
        `uses "${unsupported[0]}" in the ${CRON_LIMITS[index]!.name} field, which the local scheduler does not support; use explicit values or ranges.`,
      );
    }
  });
  const [dayOfMonth, dayOfWeek] = [fields[2]!, fields[4]!];
  if ((dayOfMonth === '?') === (dayOfWeek === '?')) {
    throw new ScheduleExpressionError(expression, 'must have "?" in exactly one of day-of-month and day-of-week.');
  }
  try {
    // croner reads "?" as "the current value"; in EventBridge it means "no constraint". Its
    // "sloppy" ranges are EventBridge's `0/15` (start/step) form.
    const pattern = ['0', ...fields.map((field) => (field === '?' ? '*' : field))].join(' ');
    return new Cron(pattern, { mode: '7-part', timezone: 'UTC', alternativeWeekdays: true, domAndDow: true, sloppyRanges: true, paused: true });
  } catch (error) {
    throw new ScheduleExpressionError(expression, `is not a valid cron expression: ${(error as Error).message}`);
  }
}

/** The first instant at which the wall time (given as UTC fields) occurs in `timezone`, if it occurs. */
function firstOccurrence(wall: DateTime, timezone: string): Date | undefined {
  const local = wall.setZone(timezone, { keepLocalTime: true });
  const format = "yyyy-MM-dd'T'HH:mm:ss";
  if (local.toFormat(format) !== wall.toFormat(format)) return undefined;
  const occurrences = local.getPossibleOffsets().map((candidate) => candidate.toMillis());
  return new Date(Math.min(local.toMillis(), ...occurrences));
}
