import { parsePartitionKey, partitionForScheduledTime, partitionKeyAt, partitionStart } from '../../../lib/compile/partition-keys';
import type { PartitionSpec, TimePartitions } from '../../../lib/definitions/partitions';
import type { PartitionRecord } from '../../../orchestration';
import type { CliContext } from '../context';
import { withOperations } from '../operations';
import { EXIT } from '../errors';
import { partitionGrid } from '../grid';
import { causeMessage, errorLine, instant, status as colored, table } from '../format';

/** Options of `sluice status`. */
export interface StatusOptions {
  readonly from?: string;
  readonly to?: string;
  /** A grid of cells, as on a terminal, whatever the output is. @default - on a colour terminal */
  readonly grid?: boolean;
}

/** How many time partitions `sluice status` shows without `--from`/`--to`. */
export const DEFAULT_STATUS_COUNT = 10;

/** `sluice status`: partition statuses over a range, `MISSING` included (of the local or a deployed stage). */
export async function status(context: CliContext, name: string, options: StatusOptions): Promise<number> {
  return withOperations(context, async (operations) => {
    const now = new Date();
    const spec = (await operations.pipeline(name)).config.partitions;
    const range = options.from !== undefined || options.to !== undefined ? { from: options.from, to: options.to } : defaultRange(spec, now);
    const views = await operations.partitions(name, { ...range, now });
    const partitions = views.map(({ partition, status, record }) => ({
      partition,
      status,
      ...recordFields(record),
      rerunRequested: record?.rerunRequested,
      // What the partition's runs consumed (S3 objects, schedule ticks): why an event did or did not start a run.
      consumed: record?.consumed?.map(({ label, version, versionId, order, runNumber, at }) => ({
        source: label,
        version,
        ...(versionId !== undefined && { versionId }),
        order,
        runNumber,
        at,
      })),
    }));
    if (context.json) {
      context.io.out(`${JSON.stringify({ pipeline: name, partitions }, null, 2)}\n`);
      return EXIT.ok;
    }
    if (partitions.length === 0) {
      context.io.out(`${name} has no partitions in this range yet\n`);
      return EXIT.ok;
    }
    const grid = options.grid ?? context.io.color;
    if (grid) context.io.out(`${partitionGrid(spec, partitions, context.io.color)}\n`);
    // Under a grid, only the partitions that need a look: failed and running ones.
    const listed = grid ? partitions.filter((p) => p.status === 'FAILED' || p.status === 'RUNNING') : partitions;
    if (listed.length === 0) return EXIT.ok;
    context.io.out(
      table(
        ['PARTITION', 'STATUS', 'RUN', 'RUN ID', 'TRIGGER', 'FINISHED', 'ERROR'],
        listed.map((p) => [
          p.partition,
          colored(p.status, context.io.color),
          p.runNumber === undefined ? '' : String(p.runNumber),
          p.runId ?? '',
          p.trigger ?? '',
          instant(p.finishedAt),
          p.error ? errorLine(p.error, p.errorMessage) : '',
        ]),
      ),
    );
    return EXIT.ok;
  }, { runtime: 'read' });
}

/**
 * The last {@link DEFAULT_STATUS_COUNT} complete time partitions (of the time dimension of
 * multi-partitions); every key of static partitions.
 */
function defaultRange(spec: PartitionSpec | undefined, now: Date): { from?: string; to?: string } {
  const time = spec?.kind === 'multi' ? Object.values(spec.dimensions).find((d): d is TimePartitions => d.kind !== 'static') : spec;
  if (!time || time.kind === 'static') return {};
  const last = partitionForScheduledTime(time, now);
  // Nothing complete yet: the runtime lists nothing either.
  if (last.kind === 'skip') return {};
  let from = last.partition;
  for (let i = 1; i < DEFAULT_STATUS_COUNT; i++) {
    const previous = partitionKeyAt(time, new Date(partitionStart(time, from).getTime() - 1));
    if (!parsePartitionKey(time, previous).ok) break;
    from = previous;
  }
  return { from, to: last.partition };
}

/** What `sluice status --json` (and the web console) shows of a partition's record. */
export function recordFields(record: PartitionRecord | undefined) {
  return {
    runNumber: record?.runNumber,
    runId: record?.runId,
    trigger: record?.trigger,
    claimedAt: record?.claimedAt,
    finishedAt: record?.finishedAt,
    error: record?.error,
    errorMessage: causeMessage(record?.cause),
  };
}
