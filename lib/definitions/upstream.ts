/**
 * How the partitions of an upstream pipeline map to the partitions of the pipeline that depends
 * on it. A discriminated union: switch on `kind`.
 */
export type PartitionMapping = SameKeyMapping | TimeWindowMapping | FanInMapping | FanOutMapping;

/** The downstream partition has the key of the upstream partition (`2024-03-01` → `2024-03-01`). */
export interface SameKeyMapping {
  readonly kind: 'sameKey';
}

/**
 * A coarser time partition waits for every finer upstream partition within it: a daily pipeline
 * after an hourly one runs a day once all the hours of that day (23, 24 or 25 in a zone with
 * daylight saving) succeeded. Hourly to daily, weekly or monthly; daily to weekly or monthly.
 */
export interface TimeWindowMapping {
  readonly kind: 'timeWindow';
}

/**
 * Fan-in of a static dimension: the upstream has one more dimension than this pipeline (its
 * multi-partition key without `dimension` is this pipeline's key), and a partition runs once the
 * upstream partitions of every key of that dimension succeeded (`2024-03-01|eu` and
 * `2024-03-01|us` → `2024-03-01`).
 */
export interface FanInMapping {
  readonly kind: 'fanIn';
  /** The upstream's static dimension that this pipeline's partitions do not have. */
  readonly dimension: string;
}

/**
 * Fan-out along a static dimension: this pipeline has one more dimension than the upstream, and
 * each upstream partition that succeeds runs every key of that dimension (`2024-03-01` →
 * `2024-03-01|eu`, `2024-03-01|us`).
 */
export interface FanOutMapping {
  readonly kind: 'fanOut';
  /** This pipeline's static dimension that the upstream's partitions do not have. */
  readonly dimension: string;
}

/** The downstream partition has the upstream partition's key. */
export function sameKey(): SameKeyMapping {
  return Object.freeze({ kind: 'sameKey' });
}

/** A coarser time partition runs once every finer upstream partition within it succeeded (daily after 24 hours). */
export function timeWindow(): TimeWindowMapping {
  return Object.freeze({ kind: 'timeWindow' });
}

/** A partition runs once the upstream partitions of every key of the static `dimension` succeeded. */
export function fanIn(dimension: string): FanInMapping {
  return Object.freeze({ kind: 'fanIn', dimension });
}

/** Each upstream partition that succeeds runs this pipeline's partitions of every key of the static `dimension`. */
export function fanOut(dimension: string): FanOutMapping {
  return Object.freeze({ kind: 'fanOut', dimension });
}

/** Upstream pipelines by name, each with how its partitions map to the dependant's. */
export type Upstreams = Readonly<Record<string, PartitionMapping>>;
