import type { MultiPartitions, PartitionSpec, StaticPartitions, TimeGranularity, TimePartitions } from '../definitions/partitions';
import type { PartitionMapping, Upstreams } from '../definitions/upstream';
import type { ValidationIssue } from './errors';
import { UNPARTITIONED_KEY } from './model';
import { DIMENSION_SEPARATOR, partitionEnd, partitionKeyAt, partitionStart } from './partition-keys';
import { closest } from './private/closest';
import { cyclesOf } from './private/cycles';

/**
 * Pipelines that run after other pipelines: which partitions an upstream partition maps to, which
 * upstream partitions a partition waits for, and the checks over the whole graph (unknown
 * upstreams, cycles, mappings that do not fit the two partition specs). Pure.
 */

/** An upstream of a pipeline, as compiled: its name and how its partitions map. */
export interface UpstreamDependency {
  readonly pipeline: string;
  readonly mapping: PartitionMapping;
}

/** What the graph checks need of each pipeline. */
export interface PipelineNode {
  readonly name: string;
  readonly partitions?: PartitionSpec;
  readonly upstream?: Upstreams;
}

const MAPPING_KINDS: readonly string[] = ['sameKey', 'timeWindow', 'fanIn', 'fanOut'];
const GRANULARITY_ORDER: readonly TimeGranularity[] = ['hourly', 'daily', 'weekly', 'monthly'];

/** Shape checks of one pipeline's `upstream` that need no other pipeline. */
export function upstreamShapeIssues(pipeline: string, upstream: Upstreams | undefined): ValidationIssue[] {
  if (upstream === undefined) return [];
  const add = (message: string, fix: string): ValidationIssue => ({ pipeline, message, fix });
  if (typeof upstream !== 'object' || upstream === null || Array.isArray(upstream)) {
    return [add('upstream is not an object of pipeline names to mappings', "write `upstream: { 'load-sales': sameKey() }`")];
  }
  const issues: ValidationIssue[] = [];
  for (const [name, mapping] of Object.entries(upstream)) {
    if (name === pipeline) {
      issues.push(add(`the pipeline names itself as an upstream`, `remove "${name}" from its own \`upstream\``));
    }
    if (!MAPPING_KINDS.includes((mapping as { kind?: string } | undefined)?.kind ?? '')) {
      issues.push(
        add(`upstream "${name}": the mapping is not a partition mapping`, 'declare it with sameKey(), timeWindow(), fanIn(dimension) or fanOut(dimension)'),
      );
    }
  }
  return issues;
}

/**
 * Checks of the pipeline graph: every upstream exists, its mapping fits both partition specs,
 * and no pipeline depends on itself through others. Every problem, not just the first.
 */
export function upstreamGraphIssues(pipelines: readonly PipelineNode[]): ValidationIssue[] {
  const byName = new Map(pipelines.map((p) => [p.name, p]));
  const issues: ValidationIssue[] = [];
  for (const node of pipelines) {
    for (const [name, mapping] of Object.entries(node.upstream ?? {})) {
      const upstream = byName.get(name);
      if (!upstream) {
        const suggestion = closest(name, [...byName.keys()]);
        issues.push({
          pipeline: node.name,
          message: `upstream pipeline "${name}" does not exist`,
          fix: suggestion ? `did you mean "${suggestion}"? \`upstream\` names pipelines of the same project` : '`upstream` names pipelines of the same project',
        });
        continue;
      }
      if (!MAPPING_KINDS.includes(mapping?.kind)) continue;
      const problem = mappingIssue(mapping, upstream.partitions, node.partitions);
      if (problem) issues.push({ pipeline: node.name, message: `upstream "${name}" (${describeMapping(mapping)}): ${problem.message}`, fix: problem.fix });
    }
  }
  for (const cycle of pipelineCycles(pipelines)) {
    issues.push({
      pipeline: cycle[0]!,
      message: `pipeline cycle: ${cycle.join(' → ')} (each runs after the one before it)`,
      fix: `remove one of these \`upstream\` entries (${cycle
        .slice(1)
        .map((downstream, i) => `"${cycle[i]}" from "${downstream}"`)
        .join(' or ')}) so that the pipelines form a DAG`,
    });
  }
  return issues;
}

/** Cycles of the graph, each in data-flow order (upstream first) and back to its first pipeline. */
function pipelineCycles(pipelines: readonly PipelineNode[]): string[][] {
  const byName = new Map(pipelines.map((p) => [p.name, p]));
  return cyclesOf([...byName.keys()], (name) => Object.keys(byName.get(name)?.upstream ?? {}));
}

/** `same key`, `time window`, `fan-in of region`, `fan-out along region`. */
export function describeMapping(mapping: PartitionMapping): string {
  switch (mapping.kind) {
    case 'sameKey':
      return 'same key';
    case 'timeWindow':
      return 'time window';
    case 'fanIn':
      return `fan-in of ${mapping.dimension}`;
    case 'fanOut':
      return `fan-out along ${mapping.dimension}`;
  }
}

function describeSpec(spec: PartitionSpec | undefined): string {
  if (!spec) return 'no partitions';
  if (spec.kind === 'multi') return `multi-partitions (${Object.keys(spec.dimensions).join(', ')})`;
  return `${spec.kind} partitions`;
}

/** Why a mapping cannot map `up`'s partitions to `down`'s, if it cannot. */
function mappingIssue(mapping: PartitionMapping, up: PartitionSpec | undefined, down: PartitionSpec | undefined): { message: string; fix: string } | undefined {
  switch (mapping.kind) {
    case 'sameKey':
      return sameShape(up, down)
        ? undefined
        : {
            message: `same key needs the same kind of partitions on both sides, but the upstream has ${describeSpec(up)} and this pipeline ${describeSpec(down)}`,
            fix: 'use timeWindow() from finer to coarser time partitions, fanIn(dimension) or fanOut(dimension) for a static dimension, or partition both alike',
          };
    case 'timeWindow': {
      const finer = up && isTime(up) ? GRANULARITY_ORDER.indexOf(up.kind) : -1;
      const coarser = down && isTime(down) ? GRANULARITY_ORDER.indexOf(down.kind) : -1;
      const nests = finer >= 0 && coarser > finer && !(up!.kind === 'weekly' && down!.kind === 'monthly');
      return nests
        ? undefined
        : {
            message: `a time window maps finer time partitions into coarser ones (hourly into daily, weekly or monthly; daily into weekly or monthly), but the upstream has ${describeSpec(up)} and this pipeline ${describeSpec(down)}`,
            fix: 'use sameKey() for partitions of the same kind',
          };
    }
    case 'fanIn':
      return dimensionIssue(mapping.dimension, up, down, 'upstream', 'this pipeline');
    case 'fanOut':
      return dimensionIssue(mapping.dimension, down, up, 'this pipeline', 'the upstream');
  }
}

/** `wider` must have the static `dimension` and otherwise the shape of `narrower`. */
function dimensionIssue(
  dimension: string,
  wider: PartitionSpec | undefined,
  narrower: PartitionSpec | undefined,
  widerName: string,
  narrowerName: string,
): { message: string; fix: string } | undefined {
  const fix = `give ${widerName} multiPartitions with a static dimension "${dimension}", and ${narrowerName} the same partitions without it`;
  if (wider?.kind !== 'multi' || wider.dimensions[dimension]?.kind !== 'static') {
    return { message: `${widerName} has ${describeSpec(wider)}, without a static dimension "${dimension}"`, fix };
  }
  const rest = withoutDimension(wider, dimension);
  return sameShape(rest, narrower) ? undefined : { message: `${narrowerName} has ${describeSpec(narrower)}, not ${describeSpec(rest)}`, fix };
}

function isTime(spec: PartitionSpec): spec is TimePartitions {
  return spec.kind !== 'static' && spec.kind !== 'multi';
}

function sameShape(a: PartitionSpec | undefined, b: PartitionSpec | undefined): boolean {
  if (!a || !b) return !a && !b;
  if (a.kind !== b.kind) return false;
  if (a.kind !== 'multi' || b.kind !== 'multi') return true;
  const da = Object.entries(a.dimensions);
  const db = Object.entries(b.dimensions);
  return da.length === db.length && da.every(([name, d], i) => db[i]![0] === name && d.kind === db[i]![1].kind);
}

/** The spec left when a dimension is removed: a single dimension stands alone. */
function withoutDimension(spec: MultiPartitions, dimension: string): PartitionSpec {
  const rest = Object.entries(spec.dimensions).filter(([name]) => name !== dimension);
  return rest.length === 1 ? rest[0]![1] : { kind: 'multi', dimensions: Object.fromEntries(rest) };
}

/**
 * The partitions of the dependant that an upstream partition which succeeded may complete. Keys
 * are not checked against the dependant's start and end: the launcher does that.
 */
export function downstreamPartitions(mapping: PartitionMapping, up: PartitionSpec | undefined, down: PartitionSpec | undefined, upKey: string): string[] {
  switch (mapping.kind) {
    case 'sameKey':
      return [upKey];
    case 'timeWindow':
      return [partitionKeyAt(down as TimePartitions, partitionStart(up as TimePartitions, upKey))];
    case 'fanIn':
      return [removePart(up as MultiPartitions, mapping.dimension, upKey)];
    case 'fanOut':
      return insertParts(down as MultiPartitions, mapping.dimension, upKey);
  }
}

/** The upstream partitions a partition of the dependant waits for: it runs once all of them succeeded. */
export function upstreamPartitions(mapping: PartitionMapping, up: PartitionSpec | undefined, down: PartitionSpec | undefined, downKey: string): string[] {
  switch (mapping.kind) {
    case 'sameKey':
      return [downKey];
    case 'timeWindow': {
      const fine = up as TimePartitions;
      const coarse = down as TimePartitions;
      const end = partitionEnd(coarse, downKey).getTime();
      const keys: string[] = [];
      for (let t = partitionStart(coarse, downKey).getTime(); t < end; ) {
        const key = partitionKeyAt(fine, new Date(t));
        keys.push(key);
        t = partitionEnd(fine, key).getTime();
      }
      return keys;
    }
    case 'fanIn':
      return insertParts(up as MultiPartitions, mapping.dimension, downKey);
    case 'fanOut':
      return [removePart(down as MultiPartitions, mapping.dimension, downKey)];
  }
}

function dimensionIndex(spec: MultiPartitions, dimension: string): number {
  return Object.keys(spec.dimensions).indexOf(dimension);
}

/** `2024-03-01|eu` without dimension `region` is `2024-03-01`. */
function removePart(spec: MultiPartitions, dimension: string, key: string): string {
  const parts = key.split(DIMENSION_SEPARATOR);
  parts.splice(dimensionIndex(spec, dimension), 1);
  return parts.length === 0 ? UNPARTITIONED_KEY : parts.join(DIMENSION_SEPARATOR);
}

/** `2024-03-01` with every key of dimension `region`: `2024-03-01|eu`, `2024-03-01|us`. */
function insertParts(spec: MultiPartitions, dimension: string, key: string): string[] {
  const index = dimensionIndex(spec, dimension);
  const values = (spec.dimensions[dimension] as StaticPartitions).keys;
  return values.map((value) => {
    const parts = key.split(DIMENSION_SEPARATOR);
    parts.splice(index, 0, value);
    return parts.join(DIMENSION_SEPARATOR);
  });
}
