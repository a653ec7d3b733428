import { createHash } from 'node:crypto';
import { type LauncherConfig, PARTITION_EVENTS, type PartitionEventDetail } from '../lib/compile/contract';
import { UNPARTITIONED_KEY } from '../lib/compile/model';
import { parsePartitionKey } from '../lib/compile/partition-keys';
import { downstreamPartitions, upstreamPartitions } from '../lib/compile/upstream';
import { LABEL_MAX, type SourceVersion } from './consumed';
import { type ArrivalLaunchResult, type LaunchDeps, launchRun } from './launch';

/** What a partition of the dependant needs before it runs: upstream partitions not yet SUCCEEDED. */
export interface UpstreamWait {
  readonly kind: 'waiting';
  readonly partition: string;
  /** `<pipeline>/<partition>` of each upstream partition not SUCCEEDED yet (at most 5 shown). */
  readonly missing: readonly string[];
  readonly missingCount: number;
}

/**
 * What a `Partition Succeeded` event means for a pipeline that runs after others. `ignore` is
 * normal (not one of its upstreams); `invalid` can never start a run and must not be dropped
 * silently; `handled` holds, per partition the upstream partition maps to, whether it still
 * waits for other upstream partitions or how its launch went.
 */
export type UpstreamOutcome =
  | { readonly kind: 'ignore'; readonly reason: string }
  | { readonly kind: 'invalid'; readonly reason: string }
  | { readonly kind: 'handled'; readonly partitions: readonly (UpstreamWait | ArrivalLaunchResult)[] };

/**
 * Launches the partitions an upstream partition's success completes. For each partition of this
 * pipeline the upstream partition maps to, reads every upstream partition it waits for (of all
 * its upstreams) in the partition table; when all of them SUCCEEDED, launches it through
 * `launchRun`, consuming the data version those upstream runs make (`upstreamVersion`). So
 * whichever upstream ends last launches it, and a duplicate event, or the same upstreams ending
 * at once, never starts it twice; an upstream partition that runs again and succeeds starts it
 * once more.
 */
export async function launchFromUpstream(config: LauncherConfig, event: unknown, deps: LaunchDeps): Promise<UpstreamOutcome> {
  const parsed = parsePartitionSucceeded(event);
  if (!parsed.ok) return { kind: 'invalid', reason: parsed.reason };
  const { detail } = parsed;
  // The rules do not deliver these; a redrive from a dead-letter queue could.
  if (detail.downstream === false) {
    return { kind: 'ignore', reason: `run ${detail.runId} of "${detail.pipeline}" was asked not to start the pipelines that run after it (a backfill with downstream: false)` };
  }
  const upstream = config.upstream?.find((u) => u.pipeline === detail.pipeline);
  if (!upstream) return { kind: 'ignore', reason: `pipeline "${config.name}" does not run after pipeline "${detail.pipeline}"` };

  let candidates: string[];
  try {
    candidates = downstreamPartitions(upstream.mapping, upstream.partitions, config.partitions, detail.partition);
  } catch (error) {
    return { kind: 'invalid', reason: `partition "${detail.partition}" of "${detail.pipeline}" does not map to a partition: ${(error as Error).message}` };
  }
  // An upstream partition outside this pipeline's start..end has nothing to run here.
  const own = candidates.filter((key) => (config.partitions ? parsePartitionKey(config.partitions, key).ok : key === UNPARTITIONED_KEY));
  if (own.length === 0) {
    return { kind: 'ignore', reason: `partition "${detail.partition}" of "${detail.pipeline}" maps to no partition of "${config.name}" (${candidates.join(', ')})` };
  }
  const partitions = await Promise.all(own.map((partition) => launchIfComplete(config, partition, deps)));
  return { kind: 'handled', partitions };
}

async function launchIfComplete(config: LauncherConfig, partition: string, deps: LaunchDeps): Promise<UpstreamWait | ArrivalLaunchResult> {
  const required = (config.upstream ?? []).flatMap((u) =>
    upstreamPartitions(u.mapping, u.partitions, config.partitions, partition).map((key) => ({ pipeline: u.pipeline, partition: key })),
  );
  const records = await Promise.all(required.map((r) => deps.store.get(r.pipeline, r.partition)));
  const missing = required.filter((_, i) => records[i]?.status !== 'SUCCEEDED').map((r) => `${r.pipeline}/${r.partition}`);
  if (missing.length > 0) return { kind: 'waiting', partition, missing: missing.slice(0, 5), missingCount: missing.length };
  const consumes = upstreamVersion(
    required.map((r, i) => ({ ...r, runId: records[i]!.runId, finishedAt: records[i]!.finishedAt ?? records[i]!.claimedAt })),
  );
  return launchRun({ config, partition, trigger: 'upstream', consumes }, deps);
}

/**
 * The data version a set of succeeded upstream partitions amounts to (orchestration/consumed.ts): one
 * source, `upstream`; its version is a digest of their run ids, ordered by the latest end among
 * them. So the same runs, whichever event reports them, are one version (a duplicate), and an
 * upstream partition that runs again and succeeds makes a later, different one (new data).
 */
export function upstreamVersion(
  runs: readonly { readonly pipeline: string; readonly partition: string; readonly runId: string; readonly finishedAt: string }[],
): SourceVersion {
  const ids = runs.map((r) => `${r.pipeline}/${r.partition}@${r.runId}`).sort();
  const latest = Math.max(...runs.map((r) => Date.parse(r.finishedAt)).filter((t) => !Number.isNaN(t)), 0);
  const label = `upstream: ${ids.length === 1 ? ids[0] : `${ids.length} partitions, last ended ${new Date(latest).toISOString()}`}`;
  return {
    source: 'upstream',
    label: label.length > LABEL_MAX ? `${label.slice(0, LABEL_MAX - 1)}…` : label,
    version: createHash('sha256').update(ids.join('\n'), 'utf8').digest('base64url').slice(0, 22),
    order: latest.toString(16),
  };
}

type Parsed = { readonly ok: true; readonly detail: PartitionEventDetail } | { readonly ok: false; readonly reason: string };

/** Reads a `Partition Succeeded` event (as parsed JSON, unvalidated). */
export function parsePartitionSucceeded(event: unknown): Parsed {
  const record = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
  if (!record(event) || event.source !== PARTITION_EVENTS.source || event['detail-type'] !== PARTITION_EVENTS.succeeded) {
    const shown = record(event) ? `detail-type ${JSON.stringify(event['detail-type'])} from ${JSON.stringify(event.source)}` : 'not a JSON object';
    return { ok: false, reason: `expected a "${PARTITION_EVENTS.succeeded}" event from "${PARTITION_EVENTS.source}", got ${shown}` };
  }
  const d = event.detail;
  if (!record(d) || typeof d.pipeline !== 'string' || typeof d.partition !== 'string' || typeof d.runId !== 'string') {
    return { ok: false, reason: `the "${PARTITION_EVENTS.succeeded}" event has no detail.pipeline, detail.partition or detail.runId` };
  }
  return { ok: true, detail: d as unknown as PartitionEventDetail };
}
