import type { MultiPartitions, PartitionSpec, StaticPartitions, TimeGranularity, TimePartitions } from '../../definitions/partitions';
import { PartitionKeyError } from './errors';
import { assertValid, DIMENSION_SEPARATOR, dimensionsOf, parseStaticKey } from './spec';
import { HOUR_MS, keyAt, lastCompleteKey, nextStart, parseTimeKey, startMs, type TimeBounds, timeBounds } from './time-keys';

/** The keys of a range of partitions, in order, capped so that a typo cannot exhaust memory. */

/** Most keys {@link listPartitions} returns, so that a typo in a range cannot exhaust memory. */
export const MAX_LISTED_PARTITIONS = 100_000;

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

export function listMulti(spec: MultiPartitions, range: PartitionRange): string[] {
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
