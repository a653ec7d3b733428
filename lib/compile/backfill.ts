import type { PartitionSpec } from '../definitions/partitions';
import { UNPARTITIONED_KEY } from './model';
import { listPartitions, PartitionKeyError } from './partition-keys';
import type { PartitionStatus } from './contract';

/**
 * Backfills, planned: which partitions a request selects, how they are grouped into runs, and how
 * the runs are cut into chunks so that every execution stays within Step Functions' limits
 * (256 KB per state, 25,000 history events per execution) whatever the range.
 *
 * The backfill state machine hands each chunk to a child execution of a Distributed Map (at most
 * `concurrency` at once), and each child runs its chunk's runs one after another: so at most
 * `concurrency` partition runs are in flight, the parent's history grows by a few events per
 * chunk, and each child's by a few per run.
 */

/** Which partitions of the range a backfill runs. */
export type BackfillSelection = 'all' | 'missing' | 'failed' | 'missing,failed';

export const BACKFILL_SELECTIONS: readonly BackfillSelection[] = ['all', 'missing', 'failed', 'missing,failed'];

/** The input of a pipeline's backfill state machine, as a user writes it (the console's JSON). */
export interface BackfillRequest {
  /** First partition key, inclusive; for multi-partitions a key of the time dimension. @default - the first partition */
  readonly from?: string;
  /** Last partition key, inclusive. @default - the last complete partition */
  readonly to?: string;
  /** @default 'missing,failed' */
  readonly only?: BackfillSelection;
  /** Partition runs in flight at most. @default 1 */
  readonly concurrency?: number;
  /**
   * For multi-partitions: the keys of each static dimension to include, by dimension name.
   *
   * @default - every key of every dimension
   */
  readonly dimensions?: Readonly<Record<string, readonly string[]>>;
  /**
   * Whether the backfill's runs start the pipelines that run after this one, partition by
   * partition, as any run does. `false` for a reload whose downstreams must not run again.
   *
   * @default true
   */
  readonly downstream?: boolean;
}

/** A request with its defaults applied. */
export interface ResolvedBackfillRequest {
  readonly from?: string;
  readonly to?: string;
  readonly only: BackfillSelection;
  readonly concurrency: number;
  readonly dimensions?: Readonly<Record<string, readonly string[]>>;
  readonly downstream: boolean;
}

/** One partition run of a backfill: one partition, or up to `partitionsPerRun` consecutive ones. */
export interface BackfillRun {
  /** The first partition: the run claims it and is named after it. */
  readonly partition: string;
  /** Every partition of the run, in order, when it holds more than one. */
  readonly partitions?: readonly string[];
}

/** A problem with a backfill request; the message names the bad value and the fix. */
export class BackfillRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BackfillRequestError';
  }
}

/** Most runs in flight a backfill may ask for: Distributed Map's own limit on child executions. */
export const MAX_BACKFILL_CONCURRENCY = 1000;

/** Most runs one chunk holds: its child execution's history stays far below 25,000 events. */
export const MAX_RUNS_PER_CHUNK = 50;

/** Most bytes of a chunk's runs as JSON: far below the 256 KB of a state, with room for results. */
export const MAX_CHUNK_BYTES = 32 * 1024;

/** Chunks per concurrent run a plan aims for, so that uneven run times still keep every slot busy. */
const CHUNKS_PER_SLOT = 4;

/** Checks a request (parsed JSON, unvalidated) and applies its defaults. */
export function resolveBackfillRequest(input: unknown): ResolvedBackfillRequest {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new BackfillRequestError(`a backfill request is a JSON object such as {"from":"2024-01-01","to":"2024-01-31"}; got ${JSON.stringify(input)}`);
  }
  const request = input as Record<string, unknown>;
  const known = new Set(['from', 'to', 'only', 'concurrency', 'dimensions', 'downstream']);
  const unknown = Object.keys(request).filter((k) => !known.has(k));
  if (unknown.length > 0) {
    throw new BackfillRequestError(`unknown field(s) ${unknown.join(', ')} in the backfill request; use from, to, only, concurrency, dimensions, downstream`);
  }
  for (const field of ['from', 'to'] as const) {
    if (request[field] !== undefined && typeof request[field] !== 'string') {
      throw new BackfillRequestError(`${field} must be a partition key as a string, e.g. "2024-01-01"; got ${JSON.stringify(request[field])}`);
    }
  }
  const only = request.only ?? 'missing,failed';
  if (!BACKFILL_SELECTIONS.includes(only as BackfillSelection)) {
    throw new BackfillRequestError(`only must be one of ${BACKFILL_SELECTIONS.join(', ')}; got ${JSON.stringify(only)}`);
  }
  const concurrency = request.concurrency ?? 1;
  if (typeof concurrency !== 'number' || !Number.isInteger(concurrency) || concurrency < 1 || concurrency > MAX_BACKFILL_CONCURRENCY) {
    throw new BackfillRequestError(`concurrency must be a whole number from 1 to ${MAX_BACKFILL_CONCURRENCY}; got ${JSON.stringify(concurrency)}`);
  }
  const downstream = request.downstream ?? true;
  if (typeof downstream !== 'boolean') throw new BackfillRequestError(`downstream must be true or false; got ${JSON.stringify(downstream)}`);
  const dimensions = request.dimensions;
  if (dimensions !== undefined) {
    const valid =
      typeof dimensions === 'object' &&
      dimensions !== null &&
      Object.values(dimensions).every((keys) => Array.isArray(keys) && keys.every((k) => typeof k === 'string'));
    if (!valid) throw new BackfillRequestError(`dimensions must map dimension names to lists of keys, e.g. {"region":["eu"]}; got ${JSON.stringify(dimensions)}`);
  }
  return {
    ...(request.from !== undefined && { from: request.from as string }),
    ...(request.to !== undefined && { to: request.to as string }),
    only: only as BackfillSelection,
    concurrency,
    ...(dimensions !== undefined && { dimensions: dimensions as Record<string, string[]> }),
    downstream,
  };
}

/**
 * Every partition key of the request's range, in order, its dimension selection applied.
 *
 * @throws BackfillRequestError when a key is not a partition of the pipeline, from is after to,
 *   or a dimension or key is unknown
 */
export function backfillRange(spec: PartitionSpec | undefined, request: ResolvedBackfillRequest, now: Date): string[] {
  if (!spec) {
    if (request.from !== undefined || request.to !== undefined) {
      throw new BackfillRequestError('the pipeline is unpartitioned: omit from and to (its only partition is "default")');
    }
    return [UNPARTITIONED_KEY];
  }
  let keys: string[];
  try {
    keys = listPartitions(spec, { from: request.from, to: request.to, now });
  } catch (error) {
    if (error instanceof PartitionKeyError) throw new BackfillRequestError(error.message);
    throw error;
  }
  if (!request.dimensions) return keys;
  if (spec.kind !== 'multi') throw new BackfillRequestError('dimensions selects keys of multi-partitions; this pipeline has none: omit it');
  const names = Object.keys(spec.dimensions);
  const filters = Object.entries(request.dimensions).map(([name, allowed]) => {
    const index = names.indexOf(name);
    const dimension = spec.dimensions[name];
    if (index < 0 || dimension?.kind !== 'static') {
      const statics = names.filter((n) => spec.dimensions[n]?.kind === 'static');
      throw new BackfillRequestError(`dimensions names "${name}", which is not a static dimension of the partitions (${statics.join(', ')})`);
    }
    const bad = allowed.filter((k) => !dimension.keys.includes(k));
    if (bad.length > 0) throw new BackfillRequestError(`dimension "${name}" has no key(s) ${bad.join(', ')} (keys: ${dimension.keys.join(', ')})`);
    return { index, allowed: new Set(allowed) };
  });
  return keys.filter((key) => {
    const parts = key.split('|');
    return filters.every(({ index, allowed }) => allowed.has(parts[index]!));
  });
}

/** Whether a partition with this status is selected. */
export function isSelected(only: BackfillSelection, status: PartitionStatus): boolean {
  switch (only) {
    case 'all':
      return true;
    case 'missing':
      return status === 'MISSING';
    case 'failed':
      return status === 'FAILED';
    case 'missing,failed':
      return status === 'MISSING' || status === 'FAILED';
  }
}

/**
 * Groups the selected keys into runs of up to `partitionsPerRun` keys that are consecutive in the
 * range (a key left out by the selection ends a group).
 */
export function groupRuns(range: readonly string[], selected: ReadonlySet<string>, partitionsPerRun: number): BackfillRun[] {
  const runs: BackfillRun[] = [];
  let group: string[] = [];
  const flush = () => {
    if (group.length === 0) return;
    runs.push(group.length === 1 ? { partition: group[0]! } : { partition: group[0]!, partitions: group });
    group = [];
  };
  for (const key of range) {
    if (!selected.has(key)) {
      flush();
      continue;
    }
    group.push(key);
    if (group.length === partitionsPerRun) flush();
  }
  flush();
  return runs;
}

/**
 * Cuts the runs into chunks, in order: about {@link CHUNKS_PER_SLOT} chunks per concurrent run,
 * each at most {@link MAX_RUNS_PER_CHUNK} runs and {@link MAX_CHUNK_BYTES} of JSON.
 */
export function chunkRuns(runs: readonly BackfillRun[], concurrency: number): BackfillRun[][] {
  const target = Math.min(MAX_RUNS_PER_CHUNK, Math.max(1, Math.ceil(runs.length / (concurrency * CHUNKS_PER_SLOT))));
  const chunks: BackfillRun[][] = [];
  let chunk: BackfillRun[] = [];
  let bytes = 2;
  for (const run of runs) {
    const size = JSON.stringify(run).length + 1;
    if (chunk.length === target || (chunk.length > 0 && bytes + size > MAX_CHUNK_BYTES)) {
      chunks.push(chunk);
      chunk = [];
      bytes = 2;
    }
    chunk.push(run);
    bytes += size;
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}
