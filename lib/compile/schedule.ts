import { IANAZone } from 'luxon';
import type { Schedule } from '../definitions/triggers';
import { nextFireTime } from './scheduler-expression';

/**
 * Five-field cron schedules: validation, translation to the EventBridge Scheduler expression that
 * deploys, and the fire times of that expression.
 *
 * Accepted syntax per field: `*`, a value, a range `a-b`, a step `*\/n` or `a-b/n`, and
 * comma-separated lists of these. Months take `JAN`..`DEC`, days of the week `SUN`..`SAT` or
 * `0`..`7` (0 and 7 are Sunday). `?`, `L`, `W` and `#` are not accepted: they are not five-field
 * cron, and EventBridge Scheduler's meaning of them would differ from the local scheduler's.
 */

/** A schedule the caller supplied is invalid (see {@link scheduleIssues}). */
export class ScheduleError extends Error {
  public readonly issues: readonly string[];

  constructor(issues: readonly string[]) {
    super(`Invalid schedule:\n${issues.map((i) => `  - ${i}`).join('\n')}`);
    this.name = 'ScheduleError';
    this.issues = issues;
  }
}

const EXAMPLE = '"0 2 * * *" (02:00 every day)';

interface FieldSpec {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  /** Names accepted for values, from value `min` on. */
  readonly names?: readonly string[];
}

const FIELDS: readonly FieldSpec[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day-of-month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'] },
  { name: 'day-of-week', min: 0, max: 7, names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] },
];

const DOM = 2;
const DOW = 4;

const ITEM = /^(?:(\*)|([A-Za-z0-9]+)(?:-([A-Za-z0-9]+))?)(?:\/(\d+))?$/;

/** One comma-separated item of a field, with names resolved to numbers. */
interface Item {
  readonly text: string;
  readonly from: number;
  readonly to: number;
  readonly step: number;
  readonly wildcard: boolean;
  readonly single: boolean;
  readonly named: boolean;
}

type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

function valueOf(token: string, field: FieldSpec): number | undefined {
  if (/^\d+$/.test(token)) return Number(token);
  const index = field.names?.indexOf(token.toUpperCase()) ?? -1;
  return index < 0 ? undefined : index + field.min;
}

function parseItem(text: string, field: FieldSpec): Parsed<Item> {
  const match = ITEM.exec(text);
  if (!match) return { ok: false, reason: `${field.name} "${text}" is not a value, range, step or list` };
  const [, star, first, last, stepText] = match;
  const step = stepText === undefined ? 1 : Number(stepText);
  if (step < 1) return { ok: false, reason: `${field.name} "${text}" has step 0; use a step of 1 or more` };
  if (star) return { ok: true, value: { text, from: field.min, to: field.max, step, wildcard: true, single: false, named: false } };
  const from = valueOf(first!, field);
  const to = last === undefined ? from : valueOf(last, field);
  for (const [token, value] of [[first!, from], [last, to]] as const) {
    if (token === undefined) continue;
    if (value === undefined) {
      const names = field.names ? ` or a name ${field.names[0]}..${field.names.at(-1)}` : '';
      return { ok: false, reason: `${field.name} "${token}" is not a number${names}` };
    }
    if (value < field.min || value > field.max) {
      return { ok: false, reason: `${field.name} value ${value} is outside ${field.min}-${field.max}` };
    }
  }
  if (last === undefined && stepText !== undefined) {
    return { ok: false, reason: `${field.name} "${text}" steps from a single value; write "${first}-${field.max}/${step}" or "*/${step}"` };
  }
  if (from! > to!) return { ok: false, reason: `${field.name} range "${text}" runs backwards; write the smaller value first` };
  const named = !/^\d+$/.test(first!) || (last !== undefined && !/^\d+$/.test(last));
  return { ok: true, value: { text, from: from!, to: to!, step, wildcard: false, single: last === undefined, named } };
}

interface Field {
  readonly text: string;
  readonly items: readonly Item[];
}

function parseField(text: string, field: FieldSpec): Parsed<Field> {
  const items: Item[] = [];
  for (const part of text.split(',')) {
    const item = parseItem(part, field);
    if (!item.ok) return item;
    items.push(item.value);
  }
  return { ok: true, value: { text, items } };
}

function parseCron(cron: string): Parsed<Field[]> {
  const invalid = (why: string): Parsed<Field[]> => ({
    ok: false,
    reason: `cron "${cron}" is invalid: ${why}. A cron has five fields (minute hour day-of-month month day-of-week), e.g. ${EXAMPLE}`,
  });
  const texts = cron.trim().split(/\s+/).filter((t) => t !== '');
  if (texts.length !== 5) return invalid(`it has ${texts.length} field${texts.length === 1 ? '' : 's'}, not 5`);
  const fields: Field[] = [];
  for (const [i, text] of texts.entries()) {
    const field = parseField(text, FIELDS[i]!);
    if (!field.ok) return invalid(field.reason);
    fields.push(field.value);
  }
  if (fields[DOM]!.text !== '*' && fields[DOW]!.text !== '*') {
    return {
      ok: false,
      reason: `cron "${cron}" restricts both day-of-month (${fields[DOM]!.text}) and day-of-week (${fields[DOW]!.text}), which EventBridge Scheduler cannot express; set one of them to "*", or use two schedules`,
    };
  }
  return { ok: true, value: fields };
}

/**
 * Problems with a schedule, one human-readable sentence each, naming the bad value and the fix:
 * a cron expression that is not five valid fields, an unknown IANA time zone, or a cron that
 * restricts both day-of-month and day-of-week (EventBridge Scheduler allows only one).
 */
export function scheduleIssues(schedule: Schedule): string[] {
  const issues: string[] = [];
  const parsed = parseCron(schedule.cron);
  if (!parsed.ok) issues.push(parsed.reason);
  const zone = schedule.timezone ?? 'UTC';
  if (!IANAZone.create(zone).isValid) {
    issues.push(`time zone "${zone}" is not a known IANA time zone; use a name such as "UTC" or "America/New_York"`);
  }
  return issues;
}

function parsedOrThrow(cron: string): Field[] {
  const parsed = parseCron(cron);
  if (!parsed.ok) throw new ScheduleError([parsed.reason]);
  return parsed.value;
}

/** Every value an item matches, as a comma list; for items EventBridge has no syntax for. */
function expand(item: Item, map: (v: number) => number): string {
  const values = new Set<number>();
  for (let v = item.from; v <= item.to; v += item.step) values.add(map(v));
  return [...values].sort((a, b) => a - b).join(',');
}

/** One item of minute, hour, day-of-month or month, in EventBridge syntax. */
function schedulerItem(item: Item, field: FieldSpec): string {
  if (item.wildcard) return item.step === 1 ? '*' : `${field.min}/${item.step}`;
  if (item.step !== 1) return expand(item, (v) => v);
  return item.named ? item.text.toUpperCase() : item.text;
}

/** One day-of-week item, renumbered from cron's 0-7 (Sunday 0 or 7) to EventBridge's 1-7 (Sunday 1). */
function schedulerDayOfWeek(item: Item): string {
  const aws = (v: number): number => (v % 7) + 1;
  if (item.wildcard && item.step === 1) return '*';
  if (item.named && item.step === 1) return item.text.toUpperCase();
  if (item.single) return String(aws(item.from));
  if (item.step === 1 && item.to < 7) return `${aws(item.from)}-${aws(item.to)}`;
  // Steps, and ranges ending on Sunday written as 7, which would wrap past Saturday.
  return expand(item, aws);
}

/**
 * Translates a five-field cron expression to an EventBridge Scheduler expression
 * `cron(minutes hours day-of-month month day-of-week year)`: `?` goes in whichever day field is
 * unrestricted (day-of-week when both are `*`), days of the week are renumbered from cron's
 * 0-7 (0 and 7 Sunday) to 1-7 (1 Sunday), names are kept, and steps EventBridge cannot express
 * are expanded to lists. `0 2 * * *` becomes `cron(0 2 * * ? *)`, `0 9 * * 1-5` becomes
 * `cron(0 9 ? * 2-6 *)`.
 *
 * @see https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html#cron-based
 * @throws ScheduleError when the expression is invalid (see {@link scheduleIssues})
 */
export function toSchedulerExpression(cron: string): string {
  const fields = parsedOrThrow(cron);
  const [minute, hour, dom, month, dow] = fields.map((field, i) =>
    i === DOW
      ? field.items.map(schedulerDayOfWeek).join(',')
      : field.items.map((item) => schedulerItem(item, FIELDS[i]!)).join(','),
  );
  const dowRestricted = fields[DOW]!.text !== '*';
  return `cron(${minute} ${hour} ${dowRestricted ? '?' : dom} ${month} ${dowRestricted ? dow : '?'} *)`;
}

/**
 * The next `count` times the schedule fires strictly after `after`: those of the EventBridge
 * Scheduler expression it deploys as ({@link toSchedulerExpression}), read by the engine the
 * local scheduler fires by (`nextFireTime`), so a time printed is a time that fires. In the
 * schedule's time zone, skipping a wall-clock time that a spring-forward change skips, and firing
 * once (at the first occurrence) for a time that a fall-back change repeats. May return fewer
 * when the expression never matches again (`0 0 30 2 *`).
 *
 * @throws ScheduleError when the schedule is invalid (see {@link scheduleIssues})
 */
export function nextFireTimes(schedule: Schedule, after: Date, count: number): Date[] {
  const issues = scheduleIssues(schedule);
  if (issues.length > 0) throw new ScheduleError(issues);
  const expression = toSchedulerExpression(schedule.cron);
  const times: Date[] = [];
  for (let previous: Date | undefined = after; times.length < count; ) {
    previous = nextFireTime(expression, schedule.timezone ?? 'UTC', previous);
    if (previous === undefined) break;
    times.push(previous);
  }
  return times;
}
