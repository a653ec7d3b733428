/** Granularity of a time-partitioned pipeline. */
export type TimeGranularity = 'hourly' | 'daily' | 'weekly' | 'monthly';

/** Properties shared by every time partition kind. */
export interface TimePartitionProps {
  /** First partition, as a key of this kind (`2024-01-01`) or an ISO date (`2024-01-01`). */
  readonly start: string;
  /**
   * Last partition, inclusive, in the same forms as `start`.
   *
   * @default - open-ended: up to the last complete partition
   */
  readonly end?: string;
  /**
   * IANA time zone in which partition boundaries fall (midnight, the hour, Monday, the 1st).
   *
   * @default 'UTC'
   */
  readonly timezone?: string;
}

/** Partitions that follow the calendar. Keys: `2024-01-01T05`, `2024-01-01`, `2024-W01`, `2024-01`. */
export interface TimePartitions extends TimePartitionProps {
  readonly kind: TimeGranularity;
}

/** A fixed set of partitions, e.g. regions. */
export interface StaticPartitions {
  readonly kind: 'static';
  /** The keys, in the order they sort. */
  readonly keys: readonly string[];
}

/** The cartesian product of named dimensions. Keys join the dimensions' keys with `|`. */
export interface MultiPartitions {
  readonly kind: 'multi';
  /** Dimensions in key order, the time dimension (at most one) first, e.g. `{ date: daily(...), region: staticPartitions([...]) }`. */
  readonly dimensions: Readonly<Record<string, TimePartitions | StaticPartitions>>;
}

/** Any partition spec. A discriminated union: switch on `kind`. */
export type PartitionSpec = TimePartitions | StaticPartitions | MultiPartitions;

function time(kind: TimeGranularity, props: TimePartitionProps): TimePartitions {
  return Object.freeze({ kind, ...props });
}

/** One partition per hour. */
export const hourly = (props: TimePartitionProps): TimePartitions => time('hourly', props);
/** One partition per day. */
export const daily = (props: TimePartitionProps): TimePartitions => time('daily', props);
/** One partition per ISO week (Monday to Sunday). */
export const weekly = (props: TimePartitionProps): TimePartitions => time('weekly', props);
/** One partition per calendar month. */
export const monthly = (props: TimePartitionProps): TimePartitions => time('monthly', props);

/** A fixed list of partitions, e.g. `staticPartitions(['eu', 'us'])`. */
export function staticPartitions(keys: readonly string[]): StaticPartitions {
  return Object.freeze({ kind: 'static', keys: Object.freeze([...keys]) });
}

/** Partitions along several dimensions, e.g. date × region. */
export function multiPartitions(dimensions: Record<string, TimePartitions | StaticPartitions>): MultiPartitions {
  return Object.freeze({ kind: 'multi', dimensions: Object.freeze({ ...dimensions }) });
}
