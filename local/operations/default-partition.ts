import { UNPARTITIONED_KEY } from '../../lib/compile/model';
import { partitionForScheduledTime } from '../../lib/compile/partition-keys';
import { LaunchRejectedError } from '../stage-errors';
import type { PipelineInfo } from './operations';

/**
 * The partition a run without `--partition` processes: the last complete time partition (as a
 * schedule tick now would), or `default` for an unpartitioned pipeline. Static partitions have
 * no such default.
 */
export function defaultPartition(pipeline: Pick<PipelineInfo, 'name' | 'config'>, now: Date): string {
  const spec = pipeline.config.partitions;
  if (!spec) return UNPARTITIONED_KEY;
  if (spec.kind === 'static' || spec.kind === 'multi') {
    throw new LaunchRejectedError('MissingPartition', `Pipeline "${pipeline.name}" has ${spec.kind} partitions: choose one with --partition`);
  }
  const plan = partitionForScheduledTime(spec, now);
  if (plan.kind === 'skip') throw new LaunchRejectedError('MissingPartition', `Pipeline "${pipeline.name}": ${plan.reason}; choose one with --partition`);
  return plan.partition;
}
