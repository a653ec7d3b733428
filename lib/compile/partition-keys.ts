import { DateTime, IANAZone, type Zone } from 'luxon';
import type {
  MultiPartitions,
  PartitionSpec,
  StaticPartitions,
  TimeGranularity,
  TimePartitions,
} from '../definitions/partitions';
import { UNPARTITIONED_KEY } from './model';
import { cachedZone } from './private/cached-zone';

/**
 * Partition keys: what they look like, which instants they cover, and how to enumerate them.
 *
 * Keys by granularity, all in the spec's IANA time zone (default `UTC`):
 * - hourly `2024-01-01T05`: a local wall-clock hour;
 * - daily `2024-01-01`: a local calendar day, from its first instant (usually midnight);
 * - weekly `2024-W01`: an ISO week (Monday to Sunday) numbered in its ISO week-year, so
 *   2020-12-31 is in `2020-W53` and 2021-01-04 starts `2021-W01`;
 * - monthly `2024-01`: a calendar month.
 *
 * Daylight saving time (hourly keys):
 * - Spring forward: the skipped wall-clock hour has no key (`2024-03-10T02` does not exist in
 *   America/New_York). Where only part of an hour is skipped (Australia/Lord_Howe's 30-minute
 *   shift), the hour keeps a key covering the part that exists.
 * - Fall back: the wall-clock times that occur twice are told apart by a `b` suffix on the second
 *   occurrence: `2024-11-03T01` (01:00 EDT) is followed by `2024-11-03T01b` (01:00 EST), then
 *   `2024-11-03T02`. `T01` sorts before `T01b` (a prefix sorts first) and `T01b` before `T02`,
 *   so keys stay unique and sort in time order as plain strings. Carrying the UTC offset instead
 *   would sort backwards east of UTC (Europe/London repeats 01:00 at `+01:00`, then `+00:00`).
 *   Where a 30-minute shift repeats only half an hour (Australia/Lord_Howe), `T01b` covers just
 *   the repeated half hour.
 * - String order equals time order in every zone whose fall-back repeats at most one wall-clock
 *   hour, which holds for every zone in current use except Antarctica/Troll (a 2-hour shift).
 *
 * A key is valid for a spec when it has the right form, names an instant that exists in the zone,
 * and lies within the spec's `start`..`end`.
 */

/** A problem with a partition key or a range of keys that the caller supplied. */
export class PartitionKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PartitionKeyError';
  }
}

/** A partition spec that is invalid (see {@link partitionSpecIssues}) was passed to a function. */
export class PartitionSpecError extends Error {
  public readonly issues: readonly string[];

  constructor(issues: readonly string[]) {
    super(`Invalid partition spec:\n${issues.map((i) => `  - ${i}`).join('\n')}`);
    this.name = 'PartitionSpecError';
    this.issues = issues;
  }
}

/** Most keys {@link listPartitions} returns, so that a typo in a range cannot exhaust memory. */
export const MAX_LISTED_PARTITIONS = 100_000;

/** Characters allowed in static keys: safe in DynamoDB keys, execution names and CLI arguments. */
const STATIC_KEY_CHARS = /^[A-Za-z0-9_.-]+$/;

/** Separates the dimensions of a multi-partition key. */
export const DIMENSION_SEPARATOR = '|';

const HOUR_MS = 3_600_000;

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

type Outcome<T> = { ok: true; value: T } | { ok: false; reason: string };

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

function keyAt(kind: TimeGranularity, zone: Zone, ms: number): string {
  const dt = DateTime.fromMillis(ms, { zone });
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
function startMs(kind: TimeGranularity, zone: Zone, key: string): number | undefined {
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
    const dt = DateTime.fromMillis(cursor, { zone });
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
function nextStart(kind: TimeGranularity, zone: Zone, key: string, start: number): number {
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

interface TimeBounds {
  readonly zone: Zone;
  readonly start: string;
  readonly end?: string;
}

/** Checks a time spec and, when it is valid, resolves its zone and bounds. */
function resolveTimeSpec(spec: TimePartitions): { issues: string[]; bounds?: TimeBounds } {
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

function timeBounds(spec: TimePartitions): TimeBounds {
  const { issues, bounds } = resolveTimeSpec(spec);
  if (!bounds) throw new PartitionSpecError(issues);
  return bounds;
}

function staticSpecIssues(spec: StaticPartitions): string[] {
  if (spec.keys.length === 0) {
    return [`staticPartitions([]) has no keys; list at least one, e.g. staticPartitions(['eu', 'us'])`];
  }
  const issues: string[] = [];
  const counts = new Map<string, number>();
  for (const key of spec.keys) counts.set(key, (counts.get(key) ?? 0) + 1);
  for (const [key, count] of counts) {
    if (count > 1) issues.push(`static key "${key}" appears ${count} times; list each key once`);
    if (key === '') {
      issues.push(`static key "" is empty; give every key at least one character from [A-Za-z0-9_.-]`);
    } else if (key.includes(DIMENSION_SEPARATOR)) {
      issues.push(
        `static key "${key}" contains "|", which joins the dimensions of multi-partition keys; use only [A-Za-z0-9_.-]`,
      );
    } else if (!STATIC_KEY_CHARS.test(key)) {
      issues.push(`static key "${key}" contains characters outside [A-Za-z0-9_.-]; use only letters, digits, "_", "." and "-"`);
    }
  }
  return issues;
}

function dimensionsOf(spec: MultiPartitions): [string, PartitionSpec][] {
  return Object.entries(spec.dimensions as Readonly<Record<string, PartitionSpec>>);
}

function multiSpecIssues(spec: MultiPartitions): string[] {
  const dims = dimensionsOf(spec);
  const issues: string[] = [];
  if (dims.length < 2) {
    const names = dims.map(([name]) => name).join(', ') || 'none';
    issues.push(
      `multiPartitions() has ${dims.length} dimension(s) (${names}); give at least two, or use the single partition spec directly`,
    );
  }
  const timeDims = dims.filter(([, d]) => d.kind !== 'static' && d.kind !== 'multi').map(([name]) => name);
  if (timeDims.length > 1) {
    issues.push(
      `multiPartitions() has ${timeDims.length} time dimensions (${timeDims.join(', ')}); keep one time dimension and make the others staticPartitions()`,
    );
  } else if (timeDims.length === 1 && dims[0][0] !== timeDims[0]) {
    // Keys join the dimensions in declaration order; only a leading time dimension sorts them in time order.
    issues.push(
      `the time dimension "${timeDims[0]}" of multiPartitions() is not the first; declare it first so that keys sort in time order`,
    );
  }
  for (const [name, dim] of dims) {
    if (dim.kind === 'multi') {
      issues.push(`dimension "${name}" is itself a multiPartitions(); list its dimensions directly in the outer multiPartitions()`);
    } else {
      issues.push(...partitionSpecIssues(dim).map((issue) => `dimension "${name}": ${issue}`));
    }
  }
  return issues;
}

/**
 * Problems with a partition spec, one human-readable sentence each, naming the bad value and the
 * fix. Empty when the spec is valid.
 */
export function partitionSpecIssues(spec: PartitionSpec): string[] {
  switch (spec.kind) {
    case 'static':
      return staticSpecIssues(spec);
    case 'multi':
      return multiSpecIssues(spec);
    default:
      return resolveTimeSpec(spec).issues;
  }
}

function assertValid(spec: PartitionSpec): void {
  const issues = partitionSpecIssues(spec);
  if (issues.length > 0) throw new PartitionSpecError(issues);
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

function parseTimeKey(spec: TimePartitions, bounds: TimeBounds, key: string): Outcome<number> {
  const exists = existingKey(spec, bounds.zone, key);
  if (!exists.ok) return exists;
  if (key < bounds.start) return { ok: false, reason: `partition "${key}" is before the first partition "${bounds.start}"` };
  if (bounds.end !== undefined && key > bounds.end) {
    return { ok: false, reason: `partition "${key}" is after the last partition "${bounds.end}"` };
  }
  return exists;
}

function parseStaticKey(spec: StaticPartitions, key: string): Outcome<number> {
  const index = spec.keys.indexOf(key);
  return index >= 0
    ? { ok: true, value: index }
    : { ok: false, reason: `"${key}" is not one of the static partition keys (${spec.keys.join(', ')})` };
}

function parseSingle(spec: TimePartitions | StaticPartitions, key: string): Outcome<number> {
  return spec.kind === 'static' ? parseStaticKey(spec, key) : parseTimeKey(spec, timeBounds(spec), key);
}

/**
 * Whether `key` names a partition of `spec`: the right form, an instant that exists in the zone,
 * within `start`..`end`; for static partitions one of the keys; for multi-partitions one key per
 * dimension, joined with `|` in dimension order (`2024-01-01|eu`).
 *
 * @throws PartitionSpecError when the spec itself is invalid
 */
export function parsePartitionKey(spec: PartitionSpec, key: string): { ok: true } | { ok: false; reason: string } {
  assertValid(spec);
  if (spec.kind !== 'multi') {
    const parsed = parseSingle(spec, key);
    return parsed.ok ? { ok: true } : parsed;
  }
  const dims = dimensionsOf(spec) as [string, TimePartitions | StaticPartitions][];
  const parts = key.split(DIMENSION_SEPARATOR);
  if (parts.length !== dims.length) {
    const names = dims.map(([name]) => name).join('|');
    return {
      ok: false,
      reason: `"${key}" has ${parts.length} part(s) but the partitions have ${dims.length} dimensions (${names}); join one key per dimension with "|"`,
    };
  }
  for (const [i, [name, dim]] of dims.entries()) {
    const parsed = parseSingle(dim, parts[i]!);
    if (!parsed.ok) return { ok: false, reason: `dimension "${name}": ${parsed.reason}` };
  }
  return { ok: true };
}

/** Range of {@link listPartitions}. */
export interface PartitionRange {
  /**
   * First key, inclusive. For multi-partitions, a key of the time dimension.
   *
   * @default - the spec's start
   */
  readonly from?: string;
  /**
   * Last key, inclusive. For multi-partitions, a key of the time dimension.
   *
   * @default - the earlier of the spec's end and the last partition complete at `now`
   */
  readonly to?: string;
  /** The current time, which bounds the default `to`. */
  readonly now: Date;
}

function requireKey(spec: TimePartitions, bounds: TimeBounds, key: string, name: 'from' | 'to'): string {
  const parsed = parseTimeKey(spec, bounds, key);
  if (!parsed.ok) throw new PartitionKeyError(`${name}: ${parsed.reason}`);
  return key;
}

/** The last partition that has ended by `now`: the one before the partition containing `now`. */
function lastCompleteKey(spec: TimePartitions, zone: Zone, now: Date): string {
  const current = keyAt(spec.kind, zone, now.getTime());
  return keyAt(spec.kind, zone, startMs(spec.kind, zone, current)! - 1);
}

/**
 * Longest a partition can last (a 25-hour fall-back day, a 31-day month), so that dividing a
 * range's duration by it never overcounts: a huge range is refused before it is enumerated.
 */
const LONGEST_MS: Readonly<Record<TimeGranularity, number>> = {
  hourly: HOUR_MS,
  daily: 26 * HOUR_MS,
  weekly: 7 * 24 * HOUR_MS + 2 * HOUR_MS,
  monthly: 31 * 24 * HOUR_MS + 2 * HOUR_MS,
};

function tooMany(range: string): PartitionKeyError {
  return new PartitionKeyError(
    `the range ${range} holds more than ${MAX_LISTED_PARTITIONS.toLocaleString('en-US')} partitions; list a narrower range with from and to`,
  );
}

/** Time keys of the range; more than `limit` of them is refused as more than the overall cap. */
function listTime(spec: TimePartitions, range: PartitionRange, limit: number, describe: (r: string) => string): string[] {
  const bounds = timeBounds(spec);
  const { zone } = bounds;
  const from = range.from === undefined ? bounds.start : requireKey(spec, bounds, range.from, 'from');
  let to: string;
  if (range.to !== undefined) {
    to = requireKey(spec, bounds, range.to, 'to');
    if (range.from !== undefined && from > to) {
      throw new PartitionKeyError(`from "${from}" is after to "${to}"; give the earlier key as from`);
    }
  } else {
    const complete = lastCompleteKey(spec, zone, range.now);
    to = bounds.end !== undefined && bounds.end < complete ? bounds.end : complete;
  }
  if (from > to) return [];

  let start = startMs(spec.kind, zone, from)!;
  const lowerBound = Math.floor((startMs(spec.kind, zone, to)! - start) / LONGEST_MS[spec.kind]) + 1;
  if (lowerBound > limit) throw tooMany(describe(`${from}..${to}`));
  const keys: string[] = [];
  for (let key = from; key <= to; key = keyAt(spec.kind, zone, start)) {
    if (keys.length === limit) throw tooMany(describe(`${from}..${to}`));
    keys.push(key);
    start = nextStart(spec.kind, zone, key, start);
  }
  return keys;
}

function cartesian(dims: readonly (readonly string[])[]): string[][] {
  return dims.reduce<string[][]>((acc, keys) => acc.flatMap((prefix) => keys.map((k) => [...prefix, k])), [[]]);
}

function listMulti(spec: MultiPartitions, range: PartitionRange): string[] {
  const dims = dimensionsOf(spec) as [string, TimePartitions | StaticPartitions][];
  const timeIndex = dims.findIndex(([, d]) => d.kind !== 'static');
  if (timeIndex < 0 && (range.from !== undefined || range.to !== undefined)) {
    throw new PartitionKeyError('from and to select keys of the time dimension, and these multi-partitions have none; omit them');
  }
  const staticDims = dims.filter((_, i) => i !== timeIndex).map(([, d]) => (d as StaticPartitions).keys);
  const comboCount = staticDims.reduce((n, keys) => n * keys.length, 1);
  if (comboCount > MAX_LISTED_PARTITIONS) throw tooMany('of every static dimension combined');
  const combos = cartesian(staticDims);
  const timeKeys =
    timeIndex < 0
      ? [undefined]
      : listTime(
          dims[timeIndex]![1] as TimePartitions,
          range,
          Math.floor(MAX_LISTED_PARTITIONS / comboCount),
          (r) => `${r} of dimension "${dims[timeIndex]![0]}" times ${comboCount} static combinations`,
        );
  return timeKeys.flatMap((timeKey) =>
    combos.map((combo) => {
      const parts = [...combo];
      if (timeKey !== undefined) parts.splice(timeIndex, 0, timeKey);
      return parts.join(DIMENSION_SEPARATOR);
    }),
  );
}

/**
 * Keys of `spec` in order, `from` and `to` inclusive. Time keys are in time order (which is also
 * their string order); static keys in declared order; multi-partitions are the cartesian product
 * with the time dimension major (every static combination of one date before the next date), each
 * key's parts in dimension order.
 *
 * @throws PartitionKeyError when from/to is not a valid key of the spec, from is after to, or the
 *   range holds more than {@link MAX_LISTED_PARTITIONS} keys
 * @throws PartitionSpecError when the spec itself is invalid
 */
export function listPartitions(spec: PartitionSpec, range: PartitionRange): string[] {
  assertValid(spec);
  switch (spec.kind) {
    case 'static': {
      const from = range.from === undefined ? 0 : indexOrThrow(spec, range.from, 'from');
      const to = range.to === undefined ? spec.keys.length - 1 : indexOrThrow(spec, range.to, 'to');
      if (from > to) throw new PartitionKeyError(`from "${range.from}" comes after to "${range.to}" in the static keys; swap them`);
      return spec.keys.slice(from, to + 1);
    }
    case 'multi':
      return listMulti(spec, range);
    default:
      return listTime(spec, range, MAX_LISTED_PARTITIONS, (r) => r);
  }
}

function indexOrThrow(spec: StaticPartitions, key: string, name: 'from' | 'to'): number {
  const parsed = parseStaticKey(spec, key);
  if (!parsed.ok) throw new PartitionKeyError(`${name}: ${parsed.reason}`);
  return parsed.value;
}

/** Which partition(s) a schedule tick runs. */
export type ScheduledPartition = { kind: 'run'; partition: string } | { kind: 'skip'; reason: string };

/** Which partitions a schedule tick runs, when a tick fans out over static keys. */
export type ScheduledPartitions = { kind: 'run'; partitions: string[] } | { kind: 'skip'; reason: string };

function scheduledTimeKey(spec: TimePartitions, scheduledTime: Date): ScheduledPartition {
  const { zone, start, end } = timeBounds(spec);
  const key = lastCompleteKey(spec, zone, scheduledTime);
  const at = scheduledTime.toISOString();
  if (key < start) {
    return { kind: 'skip', reason: `at ${at} the last complete partition is ${key}, before the first partition ${start}` };
  }
  if (end !== undefined && key > end) {
    return { kind: 'skip', reason: `at ${at} the last complete partition is ${key}, after the last partition ${end}` };
  }
  return { kind: 'run', partition: key };
}

/**
 * The partition a schedule tick at `scheduledTime` runs: for time partitions the last partition
 * complete at that time (a daily schedule firing at 02:00 on 2024-01-02 runs `2024-01-01`, as an
 * Airflow data interval does), skipped when it falls outside `start`..`end`; `default` for an
 * unpartitioned pipeline. A schedule cannot choose among static keys, so static and
 * multi-partitions are skipped here: use {@link partitionsForScheduledTime}, which fans out.
 *
 * @throws PartitionSpecError when the spec is invalid
 */
export function partitionForScheduledTime(spec: PartitionSpec | undefined, scheduledTime: Date): ScheduledPartition {
  if (spec === undefined) return { kind: 'run', partition: UNPARTITIONED_KEY };
  assertValid(spec);
  if (spec.kind === 'static' || spec.kind === 'multi') {
    return {
      kind: 'skip',
      reason: `a schedule cannot choose one ${spec.kind === 'static' ? 'static ' : 'multi-'}partition key; use partitionsForScheduledTime() to run every static key`,
    };
  }
  return scheduledTimeKey(spec, scheduledTime);
}

/**
 * Every partition a schedule tick at `scheduledTime` runs: the answer of
 * {@link partitionForScheduledTime} for time partitions and unpartitioned pipelines; every key
 * for static partitions; for multi-partitions the time key of that tick combined with every
 * static combination, in {@link listPartitions} order (skipped when the time key is out of range).
 *
 * @throws PartitionSpecError when the spec is invalid
 */
export function partitionsForScheduledTime(spec: PartitionSpec | undefined, scheduledTime: Date): ScheduledPartitions {
  if (spec === undefined || (spec.kind !== 'static' && spec.kind !== 'multi')) {
    const single = partitionForScheduledTime(spec, scheduledTime);
    return single.kind === 'run' ? { kind: 'run', partitions: [single.partition] } : single;
  }
  assertValid(spec);
  if (spec.kind === 'static') return { kind: 'run', partitions: [...spec.keys] };
  const time = dimensionsOf(spec).find(([, d]) => d.kind !== 'static');
  if (time === undefined) return { kind: 'run', partitions: listMulti(spec, { now: scheduledTime }) };
  const tick = scheduledTimeKey(time[1] as TimePartitions, scheduledTime);
  if (tick.kind === 'skip') return tick;
  return { kind: 'run', partitions: listMulti(spec, { from: tick.partition, to: tick.partition, now: scheduledTime }) };
}
