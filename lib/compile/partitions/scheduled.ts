import type { PartitionSpec, TimePartitions } from '../../definitions/partitions';
import { UNPARTITIONED_KEY } from '../model';
import { listMulti } from './listing';
import { assertValid, dimensionsOf } from './spec';
import { lastCompleteKey, timeBounds } from './time-keys';

/**
 * Which partitions a schedule tick runs: a pure function of (spec, scheduled time), answering
 * `run` with the partitions or `skip` with the reason.
 */

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
