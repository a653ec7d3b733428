import { UNPARTITIONED_KEY } from '../../lib/compile/model';
import { listPartitions, MAX_LISTED_PARTITIONS, partitionKeyAt, PartitionKeyError } from '../../lib/compile/partition-keys';
import type { PartitionSpec, TimePartitions } from '../../lib/definitions/partitions';
import type { GridKind, PartitionGridView, PartitionStatus } from './views';

const DAY_MS = 86_400_000;
/** Nominal length of a time partition, to find where the latest {@link MAX_LISTED_PARTITIONS} begin. */
const NOMINAL_MS: Readonly<Record<TimePartitions['kind'], number>> = {
  hourly: 3_600_000,
  daily: DAY_MS,
  weekly: 7 * DAY_MS,
  monthly: 28 * DAY_MS,
};

/** Keys of a range, each with its position. */
export interface ListedKeys {
  readonly keys: readonly string[];
  readonly index: ReadonlyMap<string, number>;
  readonly truncated?: PartitionGridView['truncated'];
}

/**
 * The keys a partition grid shows, listed once per pipeline and range and kept: listing is pure
 * but not free (about 10 µs a key). Every console source lists them so.
 */
export class GridKeys {
  private readonly cache = new Map<string, ListedKeys>();

  /**
   * The keys of a range; without one, every partition up to the last complete one, or the latest
   * {@link MAX_LISTED_PARTITIONS} of them when there are more.
   */
  of(pipeline: string, spec: PartitionSpec | undefined, range: { from?: string; to?: string }, now: Date): ListedKeys {
    if (!spec) return listed([UNPARTITIONED_KEY]);
    const time = timeDimension(spec);
    // The cache is keyed by the last complete partition, so it renews itself as time passes.
    const to = range.to ?? (time ? partitionKeyAt(time, now) : '');
    const cacheKey = `${pipeline}\u0000${range.from ?? ''}\u0000${to}`;
    const cached = this.cache.get(cacheKey);
    if (cached) return cached;
    let keys: ListedKeys;
    try {
      keys = listed(listPartitions(spec, { ...range, now }));
    } catch (error) {
      if (!(error instanceof PartitionKeyError) || range.from !== undefined || !time) throw error;
      // More than the grid holds: show the latest partitions.
      const combos = spec.kind === 'multi' ? Object.values(spec.dimensions).reduce((n, d) => n * (d.kind === 'static' ? d.keys.length : 1), 1) : 1;
      const span = Math.floor(MAX_LISTED_PARTITIONS / combos) - 1;
      const from = partitionKeyAt(time, new Date(now.getTime() - span * NOMINAL_MS[time.kind]));
      keys = listed(listPartitions(spec, { from, to: range.to, now }), { from });
    }
    this.cache.set(cacheKey, keys);
    return keys;
  }
}

/** Whether a spec's keys sort in time order, so that the records of a range are a key range. */
export function timeOrdered(spec: PartitionSpec | undefined): boolean {
  return spec !== undefined && spec.kind !== 'static' && spec.kind !== 'multi';
}

/** The grid of `listed` keys with the statuses of the recorded partitions; the others MISSING. */
export function gridView(
  pipeline: string,
  spec: PartitionSpec | undefined,
  { keys, index, truncated }: ListedKeys,
  records: Iterable<{ readonly partition: string; readonly status: Exclude<PartitionStatus, 'MISSING'> }>,
): PartitionGridView {
  // One letter per key, all MISSING but those recorded: the work is per record, not per key.
  const statuses = Buffer.alloc(keys.length, 'M');
  const counts: Record<PartitionStatus, number> = { MISSING: keys.length, RUNNING: 0, SUCCEEDED: 0, FAILED: 0 };
  for (const record of records) {
    const at = index.get(record.partition);
    if (at === undefined) continue;
    statuses[at] = record.status.charCodeAt(0);
    counts[record.status]++;
    counts.MISSING--;
  }
  return { pipeline, grid: gridKind(spec), keys, statuses: statuses.toString('latin1'), counts, ...(truncated && { truncated }) };
}

export function gridKind(spec: PartitionSpec | undefined): GridKind {
  return spec ? spec.kind : 'none';
}

function listed(keys: readonly string[], truncated?: PartitionGridView['truncated']): ListedKeys {
  return { keys, index: new Map(keys.map((key, i) => [key, i])), ...(truncated && { truncated }) };
}

function timeDimension(spec: PartitionSpec): TimePartitions | undefined {
  if (spec.kind === 'static') return undefined;
  if (spec.kind === 'multi') return Object.values(spec.dimensions).find((d): d is TimePartitions => d.kind !== 'static');
  return spec;
}
