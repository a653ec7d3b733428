import { DateTime, IANAZone, type Zone } from 'luxon';
import type { TimeGranularity, TimePartitions } from '../../definitions/partitions';
import { cachedZone } from '../private/cached-zone';
import { PartitionKeyError, PartitionSpecError } from './errors';

/**
 * Time partition keys: their forms, the instants they cover in the spec's zone (daylight saving
 * included, see lib/compile/partition-keys.ts), and the spec's bounds resolved to keys.
 */

export const HOUR_MS = 3_600_000;

/**
 * How far back to look for a fall-back transition. A wall-clock time can only repeat within
 * (old offset - new offset) after a transition, which is at most a few hours in any zone.
 */
const REPEAT_LOOKBACK_MS = 6 * HOUR_MS;

/** Bracket for searching a partition's first instant around its nominal UTC wall time. */
const SEARCH_BRACKET_MS = 48 * HOUR_MS;

const KEY_FORMS: Readonly<Record<TimeGranularity, { pattern: RegExp; example: string; form: string }>> = {
  hourly: { pattern: /^(\d{4})-(\d{2})-(\d{2})T(\d{2})(b?)$/, example: '2024-01-01T05', form: 'YYYY-MM-DDTHH' },
  daily: { pattern: /^(\d{4})-(\d{2})-(\d{2})$/, example: '2024-01-01', form: 'YYYY-MM-DD' },
  weekly: { pattern: /^(\d{4})-W(\d{2})$/, example: '2024-W01', form: 'YYYY-Www' },
  monthly: { pattern: /^(\d{4})-(\d{2})$/, example: '2024-01', form: 'YYYY-MM' },
};

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Wall-clock fields of a key's first instant, and whether it names the repeated occurrence. */
interface KeyFields {
  readonly wall: Readonly<Record<string, number>>;
  readonly repeat: boolean;
}

export type Outcome<T> = { ok: true; value: T } | { ok: false; reason: string };

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

function zoneName(spec: TimePartitions): string {
  return spec.timezone ?? 'UTC';
}

function zoneIssue(name: string): string | undefined {
  // IANAZone.create caches per name, and its validity check is costly (it builds an Intl formatter).
  return IANAZone.create(name).isValid
    ? undefined
    : `time zone "${name}" is not a known IANA time zone; use a name such as "UTC" or "America/New_York"`;
}

function zoneOf(spec: TimePartitions): Zone {
  const issue = zoneIssue(zoneName(spec));
  if (issue) throw new PartitionSpecError([issue]);
  return cachedZone(zoneName(spec));
}

/** True when the wall-clock time of `dt` was already shown earlier, at a larger UTC offset. */
function isRepeatedWallTime(zone: Zone, dt: DateTime): boolean {
  const ms = dt.toMillis();
  if (zone.offset(ms - REPEAT_LOOKBACK_MS) <= dt.offset) return false;
  return dt.getPossibleOffsets().some((other) => other.toMillis() < ms);
}

/**
 * The instant `ms` in `zone`, the last one kept: listing a range asks for each partition's start
 * twice in a row (its key, then where it ends), and building a DateTime is most of a key's cost.
 */
function dateTimeAt(ms: number, zone: Zone): DateTime {
  if (last?.ms !== ms || last.zone !== zone) last = { ms, zone, dt: DateTime.fromMillis(ms, { zone }) };
  return last.dt;
}
let last: { readonly ms: number; readonly zone: Zone; readonly dt: DateTime } | undefined;

export function keyAt(kind: TimeGranularity, zone: Zone, ms: number): string {
  const dt = dateTimeAt(ms, zone);
  const day = `${pad(dt.year, 4)}-${pad(dt.month)}-${pad(dt.day)}`;
  switch (kind) {
    case 'hourly':
      return `${day}T${pad(dt.hour)}${isRepeatedWallTime(zone, dt) ? 'b' : ''}`;
    case 'daily':
      return day;
    case 'weekly':
      return `${pad(dt.weekYear, 4)}-W${pad(dt.weekNumber)}`;
    case 'monthly':
      return `${pad(dt.year, 4)}-${pad(dt.month)}`;
  }
}

function parseKeyFields(kind: TimeGranularity, key: string): KeyFields | undefined {
  const match = KEY_FORMS[kind].pattern.exec(key);
  if (!match) return undefined;
  const n = match.slice(1, 5).map(Number);
  const wall: Record<string, number> =
    kind === 'hourly'
      ? { year: n[0]!, month: n[1]!, day: n[2]!, hour: n[3]! }
      : kind === 'daily'
        ? { year: n[0]!, month: n[1]!, day: n[2]! }
        : kind === 'weekly'
          ? { weekYear: n[0]!, weekNumber: n[1]!, weekday: 1 }
          : { year: n[0]!, month: n[1]!, day: 1 };
  if (!DateTime.fromObject(wall, { zone: 'UTC' }).isValid) return undefined;
  return { wall, repeat: match[5] === 'b' };
}

/**
 * First instant of the partition `key`, or undefined when the zone never shows it (a skipped hour,
 * a `b` hour that is not repeated, a day skipped by a date-line change).
 */
export function startMs(kind: TimeGranularity, zone: Zone, key: string): number | undefined {
  const fields = parseKeyFields(kind, key);
  if (!fields) return undefined;
  const isStart = (ms: number): boolean => keyAt(kind, zone, ms) === key && keyAt(kind, zone, ms - 1) !== key;
  // Luxon resolves an ambiguous wall time to its later occurrence and shifts a skipped one forward
  // by the gap: right for `b` keys and most gaps, so it is tried first and verified.
  const guess = DateTime.fromObject(fields.wall, { zone }).toMillis();
  if (isStart(guess)) return guess;
  // Otherwise the first instant whose key sorts at or after `key`: keys sort in time order.
  const nominal = DateTime.fromObject(fields.wall, { zone: 'UTC' }).toMillis();
  let lo = nominal - SEARCH_BRACKET_MS;
  let hi = nominal + SEARCH_BRACKET_MS;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (keyAt(kind, zone, mid) >= key) hi = mid;
    else lo = mid + 1;
  }
  return keyAt(kind, zone, lo) === key ? lo : undefined;
}

/** First instant after `start` at which the hourly key changes from `key`. */
function hourlyEnd(zone: Zone, start: number, key: string): number {
  let cursor = start;
  for (;;) {
    const dt = dateTimeAt(cursor, zone);
    // When the wall clock would reach the next hour if the offset stayed as it is.
    const wallHourEnd = cursor + HOUR_MS - ((dt.minute * 60 + dt.second) * 1000 + dt.millisecond);
    if (zone.offset(wallHourEnd) === dt.offset) return wallHourEnd;
    // A transition falls in (cursor, wallHourEnd]: find it; the key may change there.
    let lo = cursor + 1;
    let hi = wallHourEnd;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      if (zone.offset(mid) !== dt.offset) hi = mid;
      else lo = mid + 1;
    }
    if (keyAt('hourly', zone, lo) !== key) return lo;
    cursor = lo;
  }
}

/** First instant of the partition after `key`, which starts at `start`. */
export function nextStart(kind: TimeGranularity, zone: Zone, key: string, start: number): number {
  if (kind === 'hourly') return hourlyEnd(zone, start, key);
  const unit = kind === 'daily' ? 'days' : kind === 'weekly' ? 'weeks' : 'months';
  const first = DateTime.fromObject(parseKeyFields(kind, key)!.wall, { zone: 'UTC' });
  // A whole day can vanish (Pacific/Apia skipped 2011-12-30), so step until a key exists.
  for (let step = 1; ; step++) {
    const candidate = keyAt(kind, cachedZone('UTC'), first.plus({ [unit]: step }).toMillis());
    const ms = startMs(kind, zone, candidate);
    if (ms !== undefined) return ms;
  }
}

function badFormReason(kind: TimeGranularity, key: string): string {
  const { form, example } = KEY_FORMS[kind];
  return `"${key}" is not a ${kind} partition key; expected ${form}, e.g. ${example}`;
}

function missingReason(kind: TimeGranularity, spec: TimePartitions, key: string): string {
  return kind === 'hourly'
    ? `partition "${key}" does not exist in ${zoneName(spec)}: a daylight-saving change skips that hour, or it occurs only once (a "b" suffix marks only the second occurrence of a repeated hour)`
    : `partition "${key}" does not exist in ${zoneName(spec)}: that day is skipped by a time-zone change`;
}

function existingKey(spec: TimePartitions, zone: Zone, key: string): Outcome<number> {
  if (!parseKeyFields(spec.kind, key)) return { ok: false, reason: badFormReason(spec.kind, key) };
  const start = startMs(spec.kind, zone, key);
  return start === undefined ? { ok: false, reason: missingReason(spec.kind, spec, key) } : { ok: true, value: start };
}

/**
 * Resolves `start` or `end` of a spec to a key. A key of the spec's kind is taken as is; an ISO
 * date names the partition holding the first instant of that day (for `start`) or the last (for
 * `end`), so `end: '2024-01-31'` on hourly partitions includes `2024-01-31T23`.
 */
function resolveBound(spec: TimePartitions, zone: Zone, side: 'start' | 'end'): Outcome<string> {
  const value = spec[side];
  if (typeof value !== 'string') {
    return { ok: false, reason: `${side} is missing; give the first partition as a key or an ISO date, e.g. "2024-01-01"` };
  }
  if (parseKeyFields(spec.kind, value)) {
    const exists = existingKey(spec, zone, value);
    return exists.ok ? { ok: true, value } : { ok: false, reason: `${side} ${exists.reason}` };
  }
  if (ISO_DATE.test(value) && parseKeyFields('daily', value)) {
    const dayStart = startMs('daily', zone, value);
    if (dayStart === undefined) return { ok: false, reason: `${side} ${missingReason('daily', spec, value)}` };
    const instant = side === 'start' ? dayStart : nextStart('daily', zone, value, dayStart) - 1;
    return { ok: true, value: keyAt(spec.kind, zone, instant) };
  }
  const { example } = KEY_FORMS[spec.kind];
  return {
    ok: false,
    reason: `${side} "${value}" is neither a ${spec.kind} partition key nor an ISO date; write it like "${example}" or "2024-01-01"`,
  };
}

export interface TimeBounds {
  readonly zone: Zone;
  readonly start: string;
  readonly end?: string;
}

/** Checks a time spec and, when it is valid, resolves its zone and bounds. */
export function resolveTimeSpec(spec: TimePartitions): { issues: string[]; bounds?: TimeBounds } {
  if (!Object.hasOwn(KEY_FORMS, spec.kind)) {
    return {
      issues: [
        `unknown partition kind "${String(spec.kind)}"; use hourly(), daily(), weekly(), monthly(), staticPartitions() or multiPartitions()`,
      ],
    };
  }
  const tzIssue = zoneIssue(zoneName(spec));
  if (tzIssue) return { issues: [tzIssue] };
  const zone = cachedZone(zoneName(spec));
  const start = resolveBound(spec, zone, 'start');
  const end = spec.end === undefined ? undefined : resolveBound(spec, zone, 'end');
  const issues = [start, end].flatMap((bound) => (bound && !bound.ok ? [bound.reason] : []));
  if (!start.ok || (end && !end.ok)) return { issues };
  if (end && start.value > end.value) {
    const issue = `start "${spec.start}" (partition ${start.value}) is after end "${spec.end}" (partition ${end.value}); make start the earlier of the two`;
    return { issues: [issue] };
  }
  return { issues: [], bounds: { zone, start: start.value, ...(end ? { end: end.value } : {}) } };
}

export function timeBounds(spec: TimePartitions): TimeBounds {
  const { issues, bounds } = resolveTimeSpec(spec);
  if (!bounds) throw new PartitionSpecError(issues);
  return bounds;
}

/**
 * The key of the time partition containing `instant`, whether or not it lies within the spec's
 * `start`..`end` (check that with {@link parsePartitionKey}).
 *
 * Hourly keys are local wall-clock hours in the spec's zone. When fall-back repeats an hour, its
 * second occurrence carries a `b` suffix: in America/New_York 05:30Z is `2024-11-03T01` (EDT),
 * 06:30Z is `2024-11-03T01b` (EST), 07:30Z is `2024-11-03T02`; these sort in time order as
 * strings. A spring-forward hour that is skipped has no key. See the module comment for details.
 *
 * @throws PartitionSpecError when the time zone is unknown
 */
export function partitionKeyAt(spec: TimePartitions, instant: Date): string {
  return keyAt(spec.kind, zoneOf(spec), instant.getTime());
}

/**
 * The first instant of time partition `key`; `partitionKeyAt(spec, partitionStart(spec, key))`
 * is `key`. Ignores the spec's `start`..`end`.
 *
 * @throws PartitionKeyError when `key` is malformed or names an instant the zone skips
 */
export function partitionStart(spec: TimePartitions, key: string): Date {
  const zone = zoneOf(spec);
  const start = existingKey(spec, zone, key);
  if (!start.ok) throw new PartitionKeyError(start.reason);
  return new Date(start.value);
}

/**
 * The first instant after time partition `key`: the start of the partition that follows it.
 * Ignores the spec's `start`..`end`.
 *
 * @throws PartitionKeyError when `key` is malformed or names an instant the zone skips
 */
export function partitionEnd(spec: TimePartitions, key: string): Date {
  const zone = zoneOf(spec);
  return new Date(nextStart(spec.kind, zone, key, partitionStart(spec, key).getTime()));
}

export function parseTimeKey(spec: TimePartitions, bounds: TimeBounds, key: string): Outcome<number> {
  const exists = existingKey(spec, bounds.zone, key);
  if (!exists.ok) return exists;
  if (key < bounds.start) return { ok: false, reason: `partition "${key}" is before the first partition "${bounds.start}"` };
  if (bounds.end !== undefined && key > bounds.end) {
    return { ok: false, reason: `partition "${key}" is after the last partition "${bounds.end}"` };
  }
  return exists;
}

/** The last partition that has ended by `now`: the one before the partition containing `now`. */
export function lastCompleteKey(spec: TimePartitions, zone: Zone, now: Date): string {
  const current = keyAt(spec.kind, zone, now.getTime());
  return keyAt(spec.kind, zone, startMs(spec.kind, zone, current)! - 1);
}
