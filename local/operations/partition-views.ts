import type { LauncherConfig } from '../../lib/compile/contract';
import { UNPARTITIONED_KEY } from '../../lib/compile/model';
import { listPartitions } from '../../lib/compile/partition-keys';
import type { PartitionRecord, PartitionStore } from '../../orchestration';

/** A partition with its status; `MISSING` when it never ran. */
export interface PartitionView {
  readonly partition: string;
  readonly status: PartitionRecord['status'] | 'MISSING';
  readonly record?: PartitionRecord;
}

/**
 * Partition statuses of a pipeline in key order, `MISSING` included, over a key range: the keys
 * its partitions have in the range, matched with the records of the partition table.
 */
export async function partitionViews(config: LauncherConfig, store: PartitionStore, range: { from?: string; to?: string; now: Date }): Promise<PartitionView[]> {
  const spec = config.partitions;
  const keys = spec ? listPartitions(spec, range) : [UNPARTITIONED_KEY];
  // Time keys sort in time order, so the range is a key range; static and multi keys are not
  // (static keys keep their declared order), so their records are read whole and matched.
  const timeOrdered = spec !== undefined && spec.kind !== 'static' && spec.kind !== 'multi';
  const records = await store.list(config.name, timeOrdered ? { from: range.from, to: range.to } : {});
  const byKey = new Map(records.map((r) => [r.partition, r]));
  const view = (partition: string): PartitionView => {
    const record = byKey.get(partition);
    return record ? { partition, status: record.status, record } : { partition, status: 'MISSING' };
  };
  const listed = new Set(keys);
  // A time partition run before it was complete (a manual run of today) is past the default range.
  const unlisted = timeOrdered ? records.map((r) => r.partition).filter((k) => !listed.has(k)) : [];
  // The listed keys are in order already: sorting 100,000 of them again took a tenth of `status`.
  const partitions = unlisted.length > 0 ? [...keys, ...unlisted].sort() : keys;
  return partitions.map(view);
}
